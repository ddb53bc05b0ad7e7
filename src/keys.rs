//! The application's keys: one master secret, and a separate subkey for each purpose derived from it
//! with HKDF, so a key used for one thing (session cookies) never doubles as another (CSRF tokens,
//! stored credentials).
//!
//! The master secret is `AGENTDESK_SECRET_KEY`; when unset, a key file generated once (mode 0600) at
//! `AGENTDESK_SECRET_KEY_FILE` (default `data/secret.key`). It is never kept in the database it
//! protects: a key found there (as earlier versions stored it) is moved to the key file on start.

use std::io::Write;
use std::path::Path;

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::config::{Secret, Settings};
use crate::db::{Db, kv};

pub struct Keys {
    /// Signs and encrypts the session cookie (actix wants 64 bytes).
    pub cookie: actix_web::cookie::Key,
    /// Signs the CSRF token of visitors who are not signed in.
    csrf: [u8; 32],
    /// Encrypts one-time secrets that pass through the session store (see `seal`).
    seal: [u8; 32],
    /// Encrypts customers' stored credentials (see `seal_credential`).
    credentials: [u8; 32],
    /// Encrypts the flash-message cookie (see `seal_flash`).
    flash: [u8; 32],
}

impl Keys {
    pub fn derive(master: &Secret) -> Keys {
        let hk = hkdf::Hkdf::<Sha256>::new(
            Some(b"agentdesk key derivation v1"),
            master.expose().as_bytes(),
        );
        let mut cookie = [0u8; 64];
        hk.expand(b"session cookie", &mut cookie)
            .expect("64 bytes is a valid HKDF length");
        let mut csrf = [0u8; 32];
        hk.expand(b"anonymous csrf token", &mut csrf)
            .expect("32 bytes is a valid HKDF length");
        let mut seal = [0u8; 32];
        hk.expand(b"one-time secrets in sessions", &mut seal)
            .expect("32 bytes is a valid HKDF length");
        let mut credentials = [0u8; 32];
        hk.expand(b"stored customer credentials", &mut credentials)
            .expect("32 bytes is a valid HKDF length");
        let mut flash = [0u8; 32];
        hk.expand(b"flash message cookie", &mut flash)
            .expect("32 bytes is a valid HKDF length");
        Keys {
            cookie: actix_web::cookie::Key::from(&cookie),
            csrf,
            seal,
            credentials,
            flash,
        }
    }

    /// Encrypts a secret that has to cross one redirect in the session (a generated one-time
    /// password on its way to the page that shows it): the session store only ever holds this
    /// ciphertext, bound to `context`, and the key is not in the database.
    pub fn seal(&self, context: &str, secret: &str) -> String {
        aead_seal(&self.seal, context, secret)
    }

    /// The secret `seal` encrypted for this context; `None` when it was sealed for another context,
    /// with another key, or altered.
    pub fn open(&self, context: &str, sealed: &str) -> Option<String> {
        aead_open(&self.seal, context, sealed)
    }

    /// Seals the flash messages' cookie value (URL-safe, so cookie-safe): its text stays private and
    /// nobody else can make one.
    pub fn seal_flash(&self, messages: &str) -> String {
        aead_seal(&self.flash, "flash", messages)
    }

    /// What `seal_flash` sealed; `None` when altered or sealed with another key.
    pub fn open_flash(&self, sealed: &str) -> Option<String> {
        aead_open(&self.flash, "flash", sealed)
    }

    /// Encrypts a customer's credential for storage: AES-256-GCM with a random nonce, bound to the
    /// credential's id (a ciphertext moved to another row does not open).
    pub fn seal_credential(&self, credential_id: &str, secret: &str) -> String {
        aead_seal(&self.credentials, credential_id, secret)
    }

    /// The secret of a stored credential; `None` with another key, another id or an altered value.
    pub fn open_credential(&self, credential_id: &str, sealed: &str) -> Option<String> {
        aead_open(&self.credentials, credential_id, sealed)
    }

    /// The CSRF token that belongs to a visitor's random nonce (kept in their cookie): only this
    /// server can compute it, so a page from another site cannot forge a matching pair.
    pub fn csrf_for_nonce(&self, nonce: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.csrf).expect("any key length works");
        mac.update(nonce.as_bytes());
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }
}

const LEGACY_DB_KEY: &str = "secret_key";

/// The master secret: the setting, else the key file (created on first use; a key earlier versions
/// kept in the database is moved into it and removed from there).
/// `nonce || AES-256-GCM(key, msg, aad)`, base64url.
fn aead_seal(key: &[u8; 32], aad: &str, msg: &str) -> String {
    let cipher = <Aes256Gcm as aes_gcm::KeyInit>::new(key.into());
    let nonce: [u8; 12] = rand::random();
    let payload = Payload {
        msg: msg.as_bytes(),
        aad: aad.as_bytes(),
    };
    let mut out = nonce.to_vec();
    out.extend(
        cipher
            .encrypt(Nonce::from_slice(&nonce), payload)
            .expect("AES-GCM encrypts any short message"),
    );
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(out)
}

fn aead_open(key: &[u8; 32], aad: &str, sealed: &str) -> Option<String> {
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(sealed)
        .ok()?;
    if raw.len() < 12 {
        return None;
    }
    let (nonce, ct) = raw.split_at(12);
    let cipher = <Aes256Gcm as aes_gcm::KeyInit>::new(key.into());
    let plain = cipher
        .decrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: ct,
                aad: aad.as_bytes(),
            },
        )
        .ok()?;
    String::from_utf8(plain).ok()
}

pub async fn master_secret(db: &Db, settings: &Settings) -> anyhow::Result<Secret> {
    if let Some(k) = &settings.secret_key {
        return Ok(k.clone());
    }
    let path = Path::new(&settings.secret_key_file);
    let mut c = db.acquire().await?;
    let legacy = kv::get(c.conn(), LEGACY_DB_KEY).await?;
    let secret = match read_key_file(path)? {
        Some(k) => k,
        None => {
            let value = legacy
                .clone()
                .unwrap_or_else(|| crate::passwords::random_urlsafe(48));
            write_key_file(path, &value)?;
            if legacy.is_some() {
                tracing::info!(path = %path.display(), "moved the secret key out of the database into the key file");
            } else {
                tracing::info!(path = %path.display(), "generated a new secret key file");
            }
            value
        }
    };
    if legacy.is_some() {
        kv::delete(c.conn(), LEGACY_DB_KEY).await?;
    }
    Ok(Secret::new(secret))
}

fn read_key_file(path: &Path) -> anyhow::Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(s) => {
            let k = s.trim().to_string();
            anyhow::ensure!(
                k.len() >= 32,
                "the key file {} holds fewer than 32 characters",
                path.display()
            );
            Ok(Some(k))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(anyhow::anyhow!(
            "cannot read the key file {}: {e}",
            path.display()
        )),
    }
}

/// Creates the key file readable by its owner only; never overwrites one (two instances starting at
/// once: the second reads what the first wrote).
fn write_key_file(path: &Path, value: &str) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(mut f) => {
            f.write_all(value.as_bytes())?;
            f.write_all(b"\n")?;
            f.sync_all()?;
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(anyhow::anyhow!(
            "cannot create the key file {}: {e}",
            path.display()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subkeys_differ_by_purpose_and_master() {
        let a = Keys::derive(&Secret::new("a".repeat(40)));
        let b = Keys::derive(&Secret::new("b".repeat(40)));
        assert_ne!(a.csrf, b.csrf);
        assert_ne!(a.cookie.master(), b.cookie.master());
        assert_ne!(&a.cookie.master()[..32], &a.csrf[..]);
        assert_eq!(a.csrf_for_nonce("n1"), a.csrf_for_nonce("n1"));
        assert_ne!(a.csrf_for_nonce("n1"), a.csrf_for_nonce("n2"));
        assert_ne!(a.csrf_for_nonce("n1"), b.csrf_for_nonce("n1"));
        assert_ne!(a.seal, a.csrf);
    }

    #[test]
    fn sealed_secrets_open_only_in_their_context_with_their_key() {
        let a = Keys::derive(&Secret::new("a".repeat(40)));
        let b = Keys::derive(&Secret::new("b".repeat(40)));
        let sealed = a.seal("user 7", "one-time-pass");
        assert!(!sealed.contains("one-time-pass"));
        assert_ne!(
            sealed,
            a.seal("user 7", "one-time-pass"),
            "a fresh nonce each time"
        );
        assert_eq!(a.open("user 7", &sealed).as_deref(), Some("one-time-pass"));
        assert_eq!(a.open("user 8", &sealed), None);
        assert_eq!(b.open("user 7", &sealed), None);
        assert_eq!(a.open("user 7", "not base64!"), None);
    }

    #[test]
    fn key_file_is_created_once_with_owner_only_access() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/secret.key");
        write_key_file(&path, &"k".repeat(48)).unwrap();
        write_key_file(&path, &"x".repeat(48)).unwrap();
        assert_eq!(read_key_file(&path).unwrap().unwrap(), "k".repeat(48));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
