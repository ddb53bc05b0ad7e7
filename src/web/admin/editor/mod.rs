//! The draft editor: a structured editor (fields, rules and goal templates, each property an input)
//! and a raw JSON editor over the same document. Every button posts the whole editor back with an
//! `op`, so adding, removing and reordering work without JavaScript (the answer focuses the row the
//! edit landed on); htmx swaps the editor in place, re-renders a field row when its type changes and
//! validates live, putting each meta-validation error next to the input it concerns.
//!
//! The edits themselves are [`crate::domain::catalog_edit`]; here are the routes ([`mod@self`]), the
//! inputs' names ([`names`]), the rows ([`rows`], [`field_row`]), reading a submission ([`parse`]), the problem
//! summary ([`problems`]) and the templates' data ([`view`]).

pub mod field_row;
pub mod names;
pub mod parse;
pub mod problems;
pub mod rows;
#[cfg(test)]
mod tests;
pub mod view;

use std::collections::{HashMap, HashSet};

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

use self::names::{add_button_id, input_id};
use self::parse::Command;
use self::view::{Draft, page};
use crate::domain::catalog_edit::mode::read_json;
use crate::domain::catalog_edit::{
    self, EditOp, EditorMode, Item, Landing, List, apply, blank_definition,
};
use crate::domain::definition::{Definition, meta_validate};
use crate::domain::forms::Submitted;
use crate::error::{AppError, Violation};
use crate::service::catalog;
use crate::web::AppState;
use crate::web::auth::Admin;
use crate::web::forms::Form;
use crate::web::pages::{PageCtx, flash, render, see_other};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/admin/agent-types/{type_id}/versions/{version}/edit")
            .get(edit_page)
            .post(edit_submit),
    );
}

async fn load_draft(
    state: &AppState,
    type_id: &str,
    version: &str,
) -> Result<catalog::StoredVersion, AppError> {
    let v = catalog::get(&state.db, type_id, version)
        .await?
        .ok_or(AppError::NotFound)?;
    if !v.is_draft() {
        return Err(AppError::conflict(
            crate::error::ErrorCode::VersionNotEditable,
            format!(
                "{} is {} and cannot be edited. Create a new version from it to make changes.",
                v.row.id, v.row.status
            ),
        ));
    }
    Ok(v)
}

async fn edit_page(
    state: web::Data<AppState>,
    _admin: Admin,
    ctx: PageCtx,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (type_id, version) = path.into_inner();
    let v = load_draft(&state, &type_id, &version).await?;
    let draft = Draft {
        mode: EditorMode::Structured,
        definition: &v.definition,
        json: None,
        problems: vec![],
        typed: HashMap::new(),
        closed: HashSet::new(),
        focus: String::new(),
        notice: String::new(),
    };
    render(StatusCode::OK, &page(ctx, (&type_id, &version), draft))
}

/// The submitted editor, read in the mode it was in.
struct Submission {
    definition: Definition,
    /// The JSON editor's text.
    raw_json: Option<String>,
    problems: Vec<Violation>,
    typed: HashMap<String, String>,
    closed: HashSet<String>,
}

fn read(inputs: &Submitted, mode: EditorMode, type_id: &str, version: &str) -> Submission {
    match mode {
        EditorMode::Json => {
            let raw = inputs.text("raw_json").to_string();
            let (definition, problems) = match read_json(&raw) {
                Ok(d) => (d, vec![]),
                Err(p) => (
                    blank_definition(type_id, version),
                    p.into_violations("raw_json"),
                ),
            };
            Submission {
                definition,
                raw_json: Some(raw),
                problems,
                typed: HashMap::new(),
                closed: HashSet::new(),
            }
        }
        EditorMode::Structured => {
            let mut p = parse::structured(inputs, type_id, version);
            for op in &p.type_changes {
                // The rows were just read: every one of them is there.
                let _ = apply(&mut p.definition, op);
            }
            Submission {
                typed: p
                    .problems
                    .iter()
                    .map(|v| (v.path.clone(), inputs.text(&v.path).to_string()))
                    .collect(),
                definition: p.definition,
                raw_json: None,
                problems: p.problems,
                closed: p.closed,
            }
        }
    }
}

/// After an edit renumbered rows, the names that held the old numbers follow their rows.
fn follow(op: &EditOp, s: &mut Submission) {
    let Some(list) = op.renumbers().and_then(names::list_prefix) else {
        return;
    };
    let moved = |name: &str| names::renumber(name, &list, |i| op.new_index(i));
    s.problems = s
        .problems
        .drain(..)
        .filter_map(|v| Some(Violation::new(moved(&v.path)?, v.message)))
        .collect();
    s.typed = s
        .typed
        .drain()
        .filter_map(|(k, v)| Some((moved(&k)?, v)))
        .collect();
    s.closed = s.closed.drain().filter_map(|k| moved(&k)).collect();
}

/// The element an edit leaves the focus on: an added row's first input, a moved row's move button
/// (to move it again), the row after a removed one, or the list's add button once it is empty.
fn focus_after(op: &EditOp, landing: &Landing, d: &Definition) -> String {
    let focus = match landing {
        Landing::EmptyList(list) => names::list_prefix(list).map(|p| add_button_id(&p)),
        Landing::Item(item) => names::item_prefix(item).map(|prefix| {
            let prop = match op {
                EditOp::MoveUp { .. } | EditOp::MoveDown { .. } => {
                    let len = catalog_edit::len(d, &item.list).unwrap_or(0);
                    let can_go_up = item.index > 0;
                    let can_go_down = item.index + 1 < len;
                    let went_up = matches!(op, EditOp::MoveUp { .. });
                    if (went_up && can_go_up) || !can_go_down {
                        "up"
                    } else {
                        "down"
                    }
                }
                EditOp::SetType { .. } => "type",
                _ => first_input(item),
            };
            input_id(&prefix, prop)
        }),
    };
    focus.unwrap_or_default()
}

fn first_input(item: &Item) -> &'static str {
    match item.list {
        List::Fields(_) => "key",
        List::Rules(_) => "kind",
        List::Templates => "goal_template_id",
    }
}

async fn edit_submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: Admin,
    ctx: PageCtx,
    path: web::Path<(String, String)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let (type_id, version) = path.into_inner();
    load_draft(&state, &type_id, &version).await?;
    let inputs: Submitted = pairs.into_iter().collect();
    let from = EditorMode::parse(inputs.text("editor_mode")).unwrap_or_default();
    let command = Command::parse(inputs.text("op"));
    let mut s = read(&inputs, from, &type_id, &version);
    let readable = s.problems.is_empty();

    let mut status = StatusCode::OK;
    let mut shown = from;
    let mut focus = String::new();
    let mut notice = String::new();
    let mut edited = false;
    match command {
        Command::Check => {
            if readable {
                s.problems.extend(meta_validate(&s.definition));
            }
            return render(
                StatusCode::OK,
                &view::check(from, &s.definition, &s.problems),
            );
        }
        Command::Save if readable => {
            let audit = admin.actor.clone();
            let doc = serde_json::to_value(&s.definition).map_err(anyhow::Error::from)?;
            match catalog::update_draft(&state.db, &audit, &type_id, &version, &doc).await {
                Ok(v) => {
                    flash(&req, "success", format!("Draft {} saved.", v.row.id));
                    return Ok(see_other(&format!(
                        "/admin/agent-types/{type_id}/versions/{version}"
                    )));
                }
                Err(AppError::Invalid { violations, .. }) => {
                    status = StatusCode::UNPROCESSABLE_ENTITY;
                    s.problems = violations;
                }
                Err(e) => return Err(e),
            }
        }
        Command::Save => status = StatusCode::UNPROCESSABLE_ENTITY,
        Command::Switch(to) => {
            // Leaving a mode needs its work readable: else stay, and say why.
            shown = from.switch(to, readable);
            if shown != to {
                status = StatusCode::UNPROCESSABLE_ENTITY;
            }
        }
        Command::Edit(op) => match apply(&mut s.definition, &op) {
            Ok(landing) => {
                follow(&op, &mut s);
                focus = focus_after(&op, &landing, &s.definition);
                edited = true;
            }
            Err(refusal) => {
                status = StatusCode::UNPROCESSABLE_ENTITY;
                notice = refusal.to_string();
            }
        },
        Command::Retype(item) => {
            focus = names::item_prefix(&item)
                .map(|p| input_id(&p, "type"))
                .unwrap_or_default();
        }
        Command::Show => {}
    }
    // The JSON editor keeps its text as typed unless an edit changed the document.
    let json = s
        .raw_json
        .filter(|_| from == EditorMode::Json && shown == EditorMode::Json && !edited);
    let draft = Draft {
        mode: shown,
        definition: &s.definition,
        json,
        problems: s.problems,
        typed: s.typed,
        closed: s.closed,
        focus,
        notice,
    };
    render(status, &page(ctx, (&type_id, &version), draft))
}
