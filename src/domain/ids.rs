/// A new public id like `CUS-3f2c…` (prefix + UUIDv4, as the system we replace used).
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4())
}

/// True when `s` looks like an id with this prefix.
pub fn has_prefix(s: &str, prefix: &str) -> bool {
    s.strip_prefix(prefix)
        .and_then(|r| r.strip_prefix('-'))
        .is_some_and(|r| !r.is_empty())
}
