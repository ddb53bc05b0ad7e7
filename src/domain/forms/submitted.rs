//! A submitted HTML form, by input name: what the form engine and the draft editor both read.

use std::collections::HashMap;

use crate::domain::paths::{index, join};

use super::PRESENT;

/// The submitted form, by input name (an input may repeat: checkboxes, list rows).
#[derive(Debug, Clone, Default)]
pub struct Submitted(HashMap<String, Vec<String>>);

impl Submitted {
    pub fn new(pairs: &[(String, String)]) -> Self {
        pairs.iter().cloned().collect()
    }

    /// Every value sent under `name`, in order.
    pub fn all(&self, name: &str) -> &[String] {
        self.0.get(name).map(|v| v.as_slice()).unwrap_or(&[])
    }

    /// The first value sent under `name`.
    pub fn first(&self, name: &str) -> Option<&str> {
        self.all(name).first().map(String::as_str)
    }

    /// The first value sent under `name`, or "" when there is none.
    pub fn text(&self, name: &str) -> &str {
        self.first(name).unwrap_or("")
    }

    /// A checkbox with `value="true"` was ticked.
    pub fn checked(&self, name: &str) -> bool {
        self.all(name).iter().any(|v| v == "true")
    }

    /// The widget `name` was on the form (its `name.__present` marker was sent).
    pub fn present(&self, name: &str) -> bool {
        self.0.contains_key(&join(name, PRESENT))
    }

    /// Whether any input of this prefix was submitted at all.
    pub fn has_prefix(&self, prefix: &str) -> bool {
        let p = format!("{prefix}.");
        self.0.keys().any(|k| k.starts_with(&p))
    }

    /// The row indexes of a repeated group, in order: `cf` → 0, 1, 4 when `cf[0].__row`, `cf[1].__row`
    /// and `cf[4].__row` were sent (each row marks itself with a hidden `__row` input).
    pub fn rows(&self, prefix: &str) -> Vec<usize> {
        let start = format!("{prefix}[");
        let mut idx: Vec<usize> = self
            .0
            .keys()
            .filter_map(|k| k.strip_prefix(&start))
            .filter_map(|rest| rest.split_once("].__row"))
            .filter(|(_, tail)| tail.is_empty())
            .filter_map(|(n, _)| n.parse().ok())
            // Only the canonical spelling (`cf[01]` is not row 1's prefix).
            .filter(|&i| self.0.contains_key(&join(&index(prefix, i), "__row")))
            .collect();
        idx.sort_unstable();
        idx.dedup();
        idx
    }
}

impl FromIterator<(String, String)> for Submitted {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(pairs: I) -> Self {
        let mut m: HashMap<String, Vec<String>> = HashMap::new();
        for (k, v) in pairs {
            m.entry(k).or_default().push(v);
        }
        Submitted(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> Submitted {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn reads_values_checkboxes_and_rows() {
        let f = form(&[
            ("a", "1"),
            ("a", "2"),
            ("tick", "true"),
            ("cf[4].__row", "1"),
            ("cf[0].__row", "1"),
            ("cf[0].key", "k"),
            ("cf[x].__row", "1"),
            ("gt[1].sf[2].__row", "1"),
            ("list.__present", "1"),
        ]);
        assert_eq!(f.all("a"), ["1", "2"]);
        assert_eq!(f.text("a"), "1");
        assert_eq!(f.text("missing"), "");
        assert!(f.checked("tick") && !f.checked("a"));
        assert_eq!(f.rows("cf"), [0, 4]);
        assert_eq!(f.rows("gt[1].sf"), [2]);
        assert!(f.rows("gt").is_empty());
        assert!(f.present("list") && !f.present("a"));
        assert!(f.has_prefix("cf[0]") && !f.has_prefix("cr"));
    }
}
