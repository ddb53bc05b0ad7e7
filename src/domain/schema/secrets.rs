//! The raw-secret scan: a configuration holds references to stored credentials, never secrets.

use serde_json::Value;

use crate::error::Violation;

const SECRET_NAMES: [&str; 8] = [
    "api_key",
    "api_secret",
    "client_secret",
    "access_token",
    "refresh_token",
    "password",
    "private_key",
    "secret_key",
];
const SECRET_SUFFIXES: [&str; 5] = [
    "_token",
    "_secret",
    "_private_key",
    "_api_key",
    "_api_secret",
];

/// True for a key that names a secret (SPEC §5).
pub fn is_secret_name(key: &str) -> bool {
    let k = key.to_lowercase();
    SECRET_NAMES.contains(&k.as_str()) || SECRET_SUFFIXES.iter().any(|s| k.ends_with(s))
}

/// Refuses raw secrets anywhere in a config: a secret-named key holding a non-empty string that is not
/// a credential reference.
pub fn scan_raw_secrets(value: &Value, path: &str, out: &mut Vec<Violation>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                if is_secret_name(k)
                    && let Value::String(s) = v
                    && !s.trim().is_empty()
                    && !s.starts_with("CRED-")
                {
                    out.push(Violation::new(
                        p.clone(),
                        format!("{k} looks like a raw secret; store it as a credential and keep only its reference (CRED-…)."),
                    ));
                }
                scan_raw_secrets(v, &p, out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                scan_raw_secrets(v, &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}
