//! Problems as the editor lists them: in words, each a link to the input it belongs to
//! ("Field 4 (Coin) — Options: An enum field needs at least one option.").

use super::names::{self, input_for};
use super::rows::{Doc, prop_label};
use crate::domain::catalog_edit::{EditorMode, List};
use crate::domain::forms::dom_id;
use crate::error::Violation;

/// One entry of the problem summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProblemLink {
    /// `#f-cf-3--options`, or empty when no input holds the value.
    pub href: String,
    /// Where, in words ("Field 4 (Coin) — Options"); a JSON path in the JSON editor.
    pub place: String,
    /// `place` is a JSON path (shown as code).
    pub path: bool,
    pub message: String,
}

/// The summary entries for `problems` (meta-validation paths or editor input names).
pub fn links(problems: &[Violation], doc: &Doc, mode: EditorMode) -> Vec<ProblemLink> {
    problems
        .iter()
        .map(|v| match mode {
            EditorMode::Json => ProblemLink {
                href: format!("#{}", dom_id("raw_json")),
                place: if v.path == "raw_json" {
                    String::new()
                } else {
                    v.path.clone()
                },
                path: true,
                message: v.message.clone(),
            },
            EditorMode::Structured => {
                let input = input_for(&v.path);
                match describe(&input, doc) {
                    Some(place) => ProblemLink {
                        href: format!("#{}", dom_id(&input)),
                        place: place + &sub_field_tail(&v.path),
                        path: false,
                        message: v.message.clone(),
                    },
                    None => ProblemLink {
                        href: String::new(),
                        place: v.path.clone(),
                        path: true,
                        message: v.message.clone(),
                    },
                }
            }
        })
        .collect()
}

/// For a problem inside the sub-field JSON of a field, where in it: ` (at fields[0].key)`.
fn sub_field_tail(path: &str) -> String {
    path.find("].fields[")
        .map(|i| format!(" (at {})", &path[i + 2..]))
        .unwrap_or_default()
}

/// An input name in words, from the rows of the page; `None` for a name the page has no input for.
fn describe(input: &str, doc: &Doc) -> Option<String> {
    let words = |row: String, prop: &str| {
        let label = prop_label(prop);
        (!label.is_empty()).then(|| format!("{row} — {label}"))
    };
    let Some((row, prop)) = input.rsplit_once('.').filter(|(row, _)| row.ends_with(']')) else {
        // A general input.
        let label = prop_label(input);
        return (!label.is_empty()).then(|| label.to_string());
    };
    let place = match names::item_of(row)?.list {
        List::Fields(_) => words(doc.field(row)?.title(), prop),
        List::Rules(_) => words(doc.rule(row)?.title(), prop),
        List::Templates => words(doc.template(row)?.title(), prop),
    }?;
    // A template's settings field or rule: say which template first.
    match row.split_once('.') {
        Some((t, _)) => Some(format!("{} — {place}", doc.template(t)?.title())),
        None => Some(place),
    }
}
