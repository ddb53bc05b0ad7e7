//! "+ Add entry" and "✕" of repeatable rows without JavaScript: both are submit buttons of their
//! form (`_row=add <name>` / `_row=remove <name> <index>`). With htmx they fetch or drop a row in
//! place; without it the form comes back with the change made and nothing saved. Adding needs no
//! change (every list shows one spare row); removing drops that row from the submission.

/// The submit button's field name.
pub const ROW_FIELD: &str = "_row";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowOp {
    /// Another empty row for the list `name`.
    Add(String),
    /// Drop row `index` (from 0) of the list `name`.
    Remove(String, usize),
}

/// The row operation a submission asks for, if any.
pub fn requested(pairs: &[(String, String)]) -> Option<RowOp> {
    let (_, v) = pairs.iter().find(|(k, _)| k == ROW_FIELD)?;
    let mut words = v.split(' ');
    match (words.next(), words.next(), words.next()) {
        (Some("add"), Some(name), None) => Some(RowOp::Add(name.to_string())),
        (Some("remove"), Some(name), Some(i)) => {
            Some(RowOp::Remove(name.to_string(), i.parse().ok()?))
        }
        _ => None,
    }
}

/// The submission with the operation applied (and the button's own field left out).
pub fn apply(pairs: &[(String, String)], op: &RowOp) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = pairs
        .iter()
        .filter(|(k, _)| k != ROW_FIELD)
        .cloned()
        .collect();
    if let RowOp::Remove(name, index) = op {
        // A list's rows are repeated `name`; an object's are `name.__key` + `name.__value`.
        for key in [
            name.clone(),
            format!("{name}.__key"),
            format!("{name}.__value"),
        ] {
            let mut seen = 0;
            out.retain(|(k, _)| {
                if *k != key {
                    return true;
                }
                seen += 1;
                seen - 1 != *index
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(k: &str, v: &str) -> (String, String) {
        (k.to_string(), v.to_string())
    }

    #[test]
    fn remove_drops_one_row_and_the_button() {
        let pairs = vec![
            p("config.coins", "BTC"),
            p("config.coins", "ETH"),
            p("config.coins", ""),
            p("config.other", "x"),
            p(ROW_FIELD, "remove config.coins 1"),
        ];
        let op = requested(&pairs).unwrap();
        assert_eq!(op, RowOp::Remove("config.coins".into(), 1));
        assert_eq!(
            apply(&pairs, &op),
            vec![
                p("config.coins", "BTC"),
                p("config.coins", ""),
                p("config.other", "x")
            ]
        );
    }

    #[test]
    fn pairs_lose_key_and_value_together_and_add_changes_nothing() {
        let pairs = vec![
            p("config.creds.__key", "youtube"),
            p("config.creds.__value", "CRED-1"),
            p("config.creds.__key", "x"),
            p("config.creds.__value", "CRED-2"),
        ];
        let removed = apply(&pairs, &RowOp::Remove("config.creds".into(), 0));
        assert_eq!(
            removed,
            vec![
                p("config.creds.__key", "x"),
                p("config.creds.__value", "CRED-2")
            ]
        );
        assert_eq!(apply(&pairs, &RowOp::Add("config.creds".into())), pairs);
        assert_eq!(requested(&[p(ROW_FIELD, "explode")]), None);
    }
}
