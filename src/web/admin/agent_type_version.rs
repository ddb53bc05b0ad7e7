//! `/admin/agent-types/{id}/versions/{version}`: a version's page, with its fields in words and live
//! previews of the forms a customer will fill in (validated exactly as theirs; nothing is saved).
//!
//! Statements per request, besides the session (one statement, with its user): the page 2 (the
//! version, its type's versions); a preview check or live validation 1.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use serde_json::{Value, json};

use super::agent_types::VersionItem;
use crate::domain::definition::{Definition, Field, FieldType};
use crate::domain::form_rows;
use crate::domain::forms::{self, Submitted, Widget};
use crate::domain::schema::{self, Mode};
use crate::error::{AppError, Violation};
use crate::service::catalog::{self};
use crate::web::AppState;
use crate::web::auth::{Staff, StaffReader};
use crate::web::forms::Form;
use crate::web::pages::{FormErrors, PageCtx, render};
use crate::web::schema_forms::live_errors;

/// A field as the version page's table shows it.
pub struct FieldLine {
    pub key: String,
    pub label: String,
    pub kind: String,
    pub required: bool,
    pub constraints: String,
    pub default: String,
    pub description: String,
    pub depth: usize,
}

fn describe_type(f: &Field) -> String {
    match (f.field_type, f.item_type) {
        (FieldType::List, Some(it)) => format!("list of {}", it.as_str()),
        (FieldType::Text, _) if f.secret_ref => "secret reference".into(),
        (FieldType::Object, _) if f.sub_fields().is_none() => "object (free key/value)".into(),
        (t, _) => t.as_str().into(),
    }
}

fn constraints_of(f: &Field) -> String {
    let mut c = vec![];
    if let Some(o) = &f.options {
        c.push(format!("one of: {}", o.join(", ")));
    }
    match (f.min, f.exclusive_min) {
        (Some(m), true) => c.push(format!("> {m}")),
        (Some(m), false) => c.push(format!("≥ {m}")),
        _ => {}
    }
    if let Some(m) = f.max {
        c.push(format!("≤ {m}"));
    }
    if let Some(n) = f.min_length {
        c.push(format!("at least {n} characters"));
    }
    if let Some(n) = f.max_length {
        c.push(format!("at most {n} characters"));
    }
    if let Some(p) = &f.pattern {
        c.push(format!("pattern {p}"));
    }
    if let Some(n) = f.min_items {
        c.push(format!("at least {n} entries"));
    }
    if let Some(n) = f.max_items {
        c.push(format!("at most {n} entries"));
    }
    c.join("; ")
}

fn field_lines(fields: &[Field], depth: usize, out: &mut Vec<FieldLine>) {
    for f in fields {
        out.push(FieldLine {
            key: f.key.clone(),
            label: f.label.clone(),
            kind: describe_type(f),
            required: f.required,
            constraints: constraints_of(f),
            default: f
                .default
                .as_ref()
                .map(|d| match d {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .unwrap_or_default(),
            description: f.description.clone().unwrap_or_default(),
            depth,
        });
        if let Some(sub) = f.sub_fields() {
            field_lines(sub, depth + 1, out);
        }
    }
}

pub(crate) fn lines(fields: &[Field]) -> Vec<FieldLine> {
    let mut out = vec![];
    field_lines(fields, 0, &mut out);
    out
}

fn rule_lines(rules: &[crate::domain::definition::Rule]) -> Vec<String> {
    use crate::domain::definition::Rule;
    rules
        .iter()
        .map(|r| match r {
            Rule::MemberOf { field, of } => format!("{field} must be one of the values in {of}"),
            Rule::Covers { field, keys_from } => {
                format!("{field} needs a non-empty entry for each value in {keys_from}")
            }
        })
        .collect()
}

/// One preview form: the configuration, or one goal template's settings.
pub struct PreviewForm {
    /// `config`, or `t{n}` for the n-th goal template.
    part: String,
    /// The goal template's id (empty for the configuration).
    template_id: String,
    title: String,
    description: String,
    frequency: String,
    fields: Vec<FieldLine>,
    rules: Vec<String>,
    widgets: Vec<Widget>,
    errors: FormErrors,
    /// After a preview submit: what the customer would be told.
    outcome: String,
    skill_binding: String,
}

#[derive(Template)]
#[template(path = "admin/agent_type_version.html")]
struct VersionPage {
    ctx: PageCtx,
    v: VersionItem,
    type_id: String,
    id: String,
    name: String,
    description: String,
    approval_required: bool,
    deterministic: bool,
    forms: Vec<PreviewForm>,
    json: String,
}

/// The prefix under which a part's inputs are named.
/// Input names of a part are prefixed so several forms on one page never collide: `config`, or
/// `settings-{n}` for the n-th goal template (part `t{n}`).
fn prefix_of(part: &str) -> String {
    match part.strip_prefix('t') {
        Some(n) if n.parse::<usize>().is_ok() => format!("settings-{n}"),
        _ => "config".into(),
    }
}

fn part_schema<'a>(d: &'a Definition, part: &str) -> Option<&'a crate::domain::definition::Schema> {
    if part == "config" {
        return Some(&d.config_schema);
    }
    let n: usize = part.strip_prefix('t')?.parse().ok()?;
    d.goal_templates.get(n).map(|t| &t.settings_schema)
}

fn part_template_id(d: &Definition, part: &str) -> String {
    part.strip_prefix('t')
        .and_then(|n| n.parse::<usize>().ok())
        .and_then(|n| d.goal_templates.get(n))
        .map(|t| t.goal_template_id.clone())
        .unwrap_or_default()
}

fn preview_forms(
    d: &Definition,
    submitted: Option<(&str, Value, Vec<Violation>, String)>,
) -> Vec<PreviewForm> {
    let mut parts: Vec<(
        String,
        String,
        String,
        String,
        String,
        &crate::domain::definition::Schema,
    )> = vec![(
        "config".into(),
        "Configuration".into(),
        String::new(),
        String::new(),
        String::new(),
        &d.config_schema,
    )];
    for (i, t) in d.goal_templates.iter().enumerate() {
        parts.push((
            format!("t{i}"),
            t.name.clone(),
            t.description.clone().unwrap_or_default(),
            match &t.allowed_frequencies {
                Some(a) => format!("{} (allowed: {})", t.default_frequency, a.join(", ")),
                None => t.default_frequency.clone(),
            },
            t.skill_binding.clone().unwrap_or_default(),
            &t.settings_schema,
        ));
    }
    parts
        .into_iter()
        .map(|(part, title, description, frequency, skill_binding, s)| {
            let (value, errors, outcome) = match &submitted {
                Some((p, v, e, o)) if *p == part => (v.clone(), e.clone(), o.clone()),
                _ => (
                    schema::with_defaults(&s.fields, &json!({})),
                    vec![],
                    String::new(),
                ),
            };
            PreviewForm {
                widgets: forms::widgets(&s.fields, &prefix_of(&part), &value, &errors),
                errors: FormErrors(
                    errors
                        .into_iter()
                        .map(|v| {
                            Violation::new(
                                forms::owner_id(&s.fields, &prefix_of(&part), &v.path),
                                v.message,
                            )
                        })
                        .collect(),
                ),
                template_id: part_template_id(d, &part),
                fields: lines(&s.fields),
                rules: rule_lines(&s.rules),
                part,
                title,
                description,
                frequency,
                outcome,
                skill_binding,
            }
        })
        .collect()
}

async fn version_view(
    state: &AppState,
    ctx: PageCtx,
    type_id: &str,
    version: &str,
    submitted: Option<(&str, Value, Vec<Violation>, String)>,
) -> Result<VersionPage, AppError> {
    let v = catalog::get(&state.db, type_id, version)
        .await?
        .ok_or(AppError::NotFound)?;
    let d = &v.definition;
    Ok(VersionPage {
        ctx,
        type_id: type_id.to_string(),
        id: v.row.id.clone(),
        name: d.name().to_string(),
        description: d.description.clone().unwrap_or_default(),
        approval_required: d.enforcement_defaults.approval_required,
        deterministic: d.enforcement_defaults.deterministic,
        forms: preview_forms(d, submitted),
        json: serde_json::to_string_pretty(&v.row.document.0).unwrap_or_default(),
        v: VersionItem::from(&v),
    })
}

pub(super) async fn version_page(
    state: web::Data<AppState>,
    _staff: Staff,
    ctx: PageCtx,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (type_id, version) = path.into_inner();
    render(
        StatusCode::OK,
        &version_view(&state, ctx, &type_id, &version, None).await?,
    )
}

#[derive(Deserialize)]
pub(super) struct PartQuery {
    part: String,
}

/// Reads a preview form: which part, and the value the form engine parses from it.
async fn parse_preview(
    state: &AppState,
    type_id: &str,
    version: &str,
    part: &str,
    pairs: &[(String, String)],
) -> Result<(Definition, Value), AppError> {
    let v = catalog::get(&state.db, type_id, version)
        .await?
        .ok_or(AppError::NotFound)?;
    let s = part_schema(&v.definition, part).ok_or(AppError::NotFound)?;
    let value = forms::parse(
        &s.fields,
        &prefix_of(part),
        &Submitted::new(pairs),
        &Value::Null,
    );
    Ok((v.definition.clone(), value))
}

/// Submitting a preview validates it exactly as a customer's form would be (complete mode); nothing is saved.
pub(super) async fn preview_submit(
    state: web::Data<AppState>,
    _staff: StaffReader,
    ctx: PageCtx,
    path: web::Path<(String, String)>,
    q: web::Query<PartQuery>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let (type_id, version) = path.into_inner();
    // "+ Add entry" or "✕" pressed without JavaScript: the form comes back changed, unchecked.
    if let Some(op) = form_rows::requested(&pairs) {
        let pairs = form_rows::apply(&pairs, &op);
        let (_, value) = parse_preview(&state, &type_id, &version, &q.part, &pairs).await?;
        let view = version_view(
            &state,
            ctx,
            &type_id,
            &version,
            Some((&q.part, value, vec![], String::new())),
        )
        .await?;
        return render(StatusCode::OK, &view);
    }
    let (d, value) = parse_preview(&state, &type_id, &version, &q.part, &pairs).await?;
    let s = part_schema(&d, &q.part).ok_or(AppError::NotFound)?;
    let errors = schema::validate(s, &value, Mode::Complete);
    let outcome = if errors.is_empty() {
        "Valid: a customer could save this as it is.".to_string()
    } else {
        format!(
            "{} problem{} — a customer would see these messages.",
            errors.len(),
            if errors.len() == 1 { "" } else { "s" }
        )
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    render(
        status,
        &version_view(
            &state,
            ctx,
            &type_id,
            &version,
            Some((&q.part, value, errors, outcome)),
        )
        .await?,
    )
}

/// Live validation of a preview form as a field loses focus (draft mode: only what was entered).
pub(super) async fn preview_validate(
    state: web::Data<AppState>,
    _staff: StaffReader,
    path: web::Path<(String, String)>,
    q: web::Query<PartQuery>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let (type_id, version) = path.into_inner();
    let (d, value) = parse_preview(&state, &type_id, &version, &q.part, &pairs).await?;
    let s = part_schema(&d, &q.part).ok_or(AppError::NotFound)?;
    let errors = schema::validate(s, &value, Mode::Draft);
    live_errors(&s.fields, &prefix_of(&q.part), &errors)
}
