//! Password hashing (argon2id, off the async runtime), generated passwords and API tokens.

use std::sync::OnceLock;

use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};
use base64::Engine as _;
use rand::Rng;
use sha2::{Digest, Sha256};

fn hash_blocking(password: &str) -> anyhow::Result<String> {
    let hash: PasswordHash = Argon2::default()
        .hash_password(password.as_bytes())
        .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))?;
    Ok(hash.to_string())
}

fn verify_blocking(password: &str, hash: &str) -> bool {
    Argon2::default()
        .verify_password(password.as_bytes(), hash)
        .is_ok()
}

/// At most this many argon2id computations run at once (each takes 19 MiB and a core for a while):
/// a burst of sign-ins queues instead of growing memory, and the cores stay free for other requests.
fn hashing_slots() -> &'static tokio::sync::Semaphore {
    static SLOTS: OnceLock<tokio::sync::Semaphore> = OnceLock::new();
    SLOTS.get_or_init(|| {
        tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get()))
    })
}

/// Runs one password computation on a blocking thread once a slot is free.
async fn with_slot<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, tokio::task::JoinError> {
    let _slot = hashing_slots()
        .acquire()
        .await
        .expect("the semaphore is never closed");
    tokio::task::spawn_blocking(work).await
}

/// Hashes with argon2id (default parameters) on a blocking thread.
pub async fn hash(password: String) -> anyhow::Result<String> {
    with_slot(move || hash_blocking(&password)).await?
}

/// Checks a password. With no stored hash (unknown e-mail) a dummy hash is checked instead, so the
/// answer takes as long as for a wrong password and does not tell which e-mails exist.
pub async fn verify(password: String, stored: Option<String>) -> bool {
    with_slot(move || {
        let found = stored.is_some();
        let hash = stored.unwrap_or_else(|| dummy_hash().to_string());
        verify_blocking(&password, &hash) && found
    })
    .await
    .unwrap_or(false)
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY
        .get_or_init(|| hash_blocking("agentdesk dummy password for timing").expect("argon2 works"))
}

/// Warms the dummy hash so the first unknown-e-mail login is not faster than later ones.
pub fn warm_up() {
    let _ = dummy_hash();
}

const PASSWORD_ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/// A random password of 20 unambiguous characters (about 116 bits).
pub fn generate_password() -> String {
    let mut rng = rand::rng();
    (0..20)
        .map(|_| PASSWORD_ALPHABET[rng.random_range(0..PASSWORD_ALPHABET.len())] as char)
        .collect()
}

pub const TOKEN_PREFIX: &str = "adk_";

/// A new API token: (the token shown once, the hash that is stored).
pub fn generate_token() -> (String, String) {
    let bytes: [u8; 32] = rand::rng().random();
    let token = format!(
        "{TOKEN_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    );
    let hash = token_hash(&token);
    (token, hash)
}

/// Tokens carry 256 random bits, so a fast hash is enough to keep the stored form useless to a thief.
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// Lower-case hex, two digits a byte. (Every signed-in request hashes its session key: one string,
/// not one per byte.)
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0x0f)] as char);
    }
    out
}

/// A random URL-safe string with `n` random bytes behind it.
pub fn random_urlsafe(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    rand::rng().fill(&mut bytes[..]);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_writes_two_lower_case_digits_a_byte() {
        assert_eq!(hex(&[0x00, 0x0f, 0xa5, 0xff, 0x10]), "000fa5ff10");
        assert_eq!(hex(&[]), "");
        // SHA-256 of "abc" (FIPS 180-2's example): what stored session and token hashes look like.
        assert_eq!(
            token_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[tokio::test]
    async fn hash_and_verify() {
        let h = hash("correct horse battery".into()).await.unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("correct horse battery".into(), Some(h.clone())).await);
        assert!(!verify("wrong horse battery".into(), Some(h)).await);
        assert!(!verify("agentdesk dummy password for timing".into(), None).await);
    }

    #[test]
    fn generated_secrets() {
        let p = generate_password();
        assert_eq!(p.len(), 20);
        assert_ne!(p, generate_password());
        let (t, h) = generate_token();
        assert!(t.starts_with(TOKEN_PREFIX));
        assert_eq!(token_hash(&t), h);
    }
}
