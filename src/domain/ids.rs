/// A new public id like `CUS-3f2c…` (prefix + UUIDv4, as the system we replace used).
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4())
}

/// A new public id of the same shape whose UUID is version 7 (time-ordered), for rows written in
/// volume (drafts, decisions, hand-overs): each insert lands at the end of the primary key's index
/// instead of on a random page of it. Its first twelve hex digits are the creation time, which
/// the row shows anyway; none of these ids is a secret.
pub fn new_ordered_id(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::now_v7())
}

/// True when `s` looks like an id with this prefix.
pub fn has_prefix(s: &str, prefix: &str) -> bool {
    s.strip_prefix(prefix)
        .and_then(|r| r.strip_prefix('-'))
        .is_some_and(|r| !r.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordered_ids_have_the_usual_shape_and_sort_in_creation_order() {
        let first = new_ordered_id("DEL");
        std::thread::sleep(std::time::Duration::from_millis(2));
        let second = new_ordered_id("DEL");
        assert_eq!(first.len(), new_id("DEL").len());
        assert!(has_prefix(&first, "DEL"));
        assert!(uuid::Uuid::parse_str(&first[4..]).is_ok(), "{first}");
        assert!(first < second, "{first} then {second}");
    }
}
