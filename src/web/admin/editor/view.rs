//! What the editor renders: the page (either mode), and the answer to a live check.

use std::collections::{HashMap, HashSet};

use askama::Template;

use super::names::input_for;
use super::problems::{ProblemLink, links};
use super::rows::{Doc, Look};
use crate::domain::catalog_edit::EditorMode;
use crate::domain::catalog_edit::mode::json_text;
use crate::domain::definition::{Definition, FREQUENCIES, FieldType};
use crate::domain::forms::dom_id;
use crate::error::Violation;
use crate::web::pages::{FormErrors, PageCtx};

#[derive(Template)]
#[template(path = "admin/agent_type_editor.html")]
pub struct EditorPage {
    ctx: PageCtx,
    type_id: String,
    version: String,
    /// Where the editor posts.
    url: String,
    mode: &'static str,
    doc: Doc,
    json: String,
    /// Keyed by input name.
    errors: FormErrors,
    /// The summary at the top.
    problems: Vec<ProblemLink>,
    /// Why an edit was not made.
    notice: String,
    /// The id of the element to focus (`autofocus`): where an edit landed.
    focus: String,
    types: Vec<&'static str>,
    item_types: Vec<&'static str>,
    frequencies: Vec<&'static str>,
}

/// The state of the editor to show.
pub struct Draft<'a> {
    pub mode: EditorMode,
    pub definition: &'a Definition,
    /// The JSON editor's text as typed (else the definition's).
    pub json: Option<String>,
    /// By document path or input name.
    pub problems: Vec<Violation>,
    /// Inputs that could not be read, by name, as typed (shown again as they were).
    pub typed: HashMap<String, String>,
    pub closed: HashSet<String>,
    pub focus: String,
    pub notice: String,
}

/// The problems by the input that shows them.
fn by_input(problems: &[Violation]) -> FormErrors {
    FormErrors(
        problems
            .iter()
            .map(|v| Violation::new(input_for(&v.path), v.message.clone()))
            .collect(),
    )
}

pub fn page(ctx: PageCtx, (type_id, version): (&str, &str), draft: Draft) -> EditorPage {
    let errors = by_input(&draft.problems);
    let look = Look {
        errors: &errors,
        closed: &draft.closed,
        focus: &draft.focus,
    };
    let mut doc = Doc::new(draft.definition, &look);
    doc.keep_unreadable(|name| draft.typed.get(name).cloned());
    EditorPage {
        problems: links(&draft.problems, &doc, draft.mode),
        ctx,
        type_id: type_id.to_string(),
        version: version.to_string(),
        url: format!("/admin/agent-types/{type_id}/versions/{version}/edit"),
        mode: draft.mode.as_str(),
        doc,
        json: draft.json.unwrap_or_else(|| json_text(draft.definition)),
        errors,
        notice: draft.notice,
        focus: draft.focus,
        types: FieldType::ALL.iter().map(|t| t.as_str()).collect(),
        item_types: FieldType::ALL
            .into_iter()
            .filter(|t| t.can_be_list_item())
            .map(FieldType::as_str)
            .collect(),
        frequencies: FREQUENCIES.to_vec(),
    }
}

/// The answer to a live check: every error slot of the page, filled or emptied, and the summary,
/// swapped out of band.
#[derive(Template)]
#[template(path = "admin/editor_check.html")]
pub struct EditorCheck {
    slots: Vec<(String, String)>,
    problems: Vec<ProblemLink>,
}

pub fn check(mode: EditorMode, definition: &Definition, problems: &[Violation]) -> EditorCheck {
    let errors = by_input(problems);
    let doc = Doc::new(
        definition,
        &Look {
            errors: &errors,
            closed: &HashSet::new(),
            focus: "",
        },
    );
    let names = match mode {
        EditorMode::Json => vec!["raw_json".to_string()],
        EditorMode::Structured => doc.input_names(),
    };
    let mut slots: Vec<(String, String)> = names
        .iter()
        .map(|name| (dom_id(name), errors.get(name).to_string()))
        .collect();
    slots.dedup();
    EditorCheck {
        problems: links(problems, &doc, mode),
        slots,
    }
}
