//! `/admin/agent-types`: the catalog for staff. Admins change it; operators and viewers read it.
//!
//! Statements per request, besides the session (one statement, with its user): the list 1 (one
//! window query over the versions); a type's page 1 (its versions); a version's page 2 (the
//! version, its type's versions); a preview check 1; publish and retire 1 read + 1 transaction.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::domain::definition::{Definition, Field, FieldType, Version};
use crate::domain::definition_diff::{self, DiffEntry};
use crate::domain::form_rows;
use crate::domain::forms::{self, Submitted, Widget};
use crate::domain::schema::{self, Mode};
use crate::error::{AppError, ErrorCode, Violation};
use crate::service::catalog::{self, PUBLISHED, RETIRED, StoredVersion};
use crate::web::AppState;
use crate::web::auth::{Admin, Staff, StaffReader};
use crate::web::forms::Form;
use crate::web::pages::{FormErrors, PageCtx, flash, render, see_other, wants_fragment};
use crate::web::schema_forms::live_errors;
use crate::web::view::Ts;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/admin/agent-types").get(list).post(create))
        .service(web::resource("/admin/agent-types/new").get(new_form))
        .service(web::resource("/admin/agent-types/{type_id}").get(type_page))
        .service(web::resource("/admin/agent-types/{type_id}/compare").get(compare))
        .service(web::resource("/admin/agent-types/{type_id}/versions/{version}").get(version_page))
        .service(
            web::resource("/admin/agent-types/{type_id}/versions/{version}/preview")
                .post(preview_submit),
        )
        .service(
            web::resource("/admin/agent-types/{type_id}/versions/{version}/preview/validate")
                .post(preview_validate),
        )
        .service(
            web::resource("/admin/agent-types/{type_id}/versions/{version}/publish").post(publish),
        )
        .service(
            web::resource("/admin/agent-types/{type_id}/versions/{version}/retire").post(retire),
        )
        .configure(super::editor::routes);
}

pub fn status_label(s: &str) -> &'static str {
    match s {
        "draft" => "draft",
        "published" => "published",
        "retired" => "retired",
        _ => "unknown",
    }
}

pub struct TypeItem {
    id: String,
    name: String,
    version: String,
    status: String,
    draft_pending: bool,
    versions: i64,
    hires: i64,
    updated: Ts,
}

#[derive(Template)]
#[template(path = "admin/agent_types.html")]
struct ListPage {
    ctx: PageCtx,
    q: String,
    status: String,
    items: Vec<TypeItem>,
}

#[derive(Template)]
#[template(path = "admin/agent_types.html", block = "results")]
struct ListResults {
    q: String,
    status: String,
    items: Vec<TypeItem>,
}

#[derive(Deserialize)]
struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    status: String,
}

async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    _staff: Staff,
    ctx: PageCtx,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let ListQuery { q, status } = q.into_inner();
    let q = q.trim().to_string();
    let status = match status.as_str() {
        "draft" | "published" | "retired" | "pending" => status,
        _ => String::new(),
    };
    let rows = catalog::summaries(
        &state.db,
        &q,
        Some(status.as_str()).filter(|s| !s.is_empty()),
    )
    .await?;
    let items = rows
        .into_iter()
        .map(|r| TypeItem {
            id: r.agent_type_id,
            name: r.display_name,
            version: r.version,
            status: r.status,
            draft_pending: r.draft_pending,
            versions: r.versions,
            // Hiring arrives with the hired-agents feature; until then nobody can have hired one.
            hires: 0,
            updated: Ts(r.updated_at),
        })
        .collect();
    if wants_fragment(&req) {
        return render(StatusCode::OK, &ListResults { q, status, items });
    }
    render(
        StatusCode::OK,
        &ListPage {
            ctx,
            q,
            status,
            items,
        },
    )
}

pub struct VersionItem {
    version: String,
    status: String,
    created: Ts,
    created_by: String,
    published: Option<Ts>,
    /// Who published it; `None` for the system (built-in types, the command line).
    published_by: Option<String>,
    retired: Option<Ts>,
}

impl From<&StoredVersion> for VersionItem {
    fn from(v: &StoredVersion) -> Self {
        VersionItem {
            version: v.row.version.clone(),
            status: v.row.status.clone(),
            created: Ts(v.row.created_at),
            created_by: v
                .row
                .created_by_email
                .clone()
                .unwrap_or_else(|| "built in".into()),
            published: v.row.published_at.map(Ts),
            published_by: v.row.published_by_email.clone(),
            retired: v.row.retired_at.map(Ts),
        }
    }
}

#[derive(Template)]
#[template(path = "admin/agent_type.html")]
struct TypePage {
    ctx: PageCtx,
    type_id: String,
    name: String,
    description: String,
    versions: Vec<VersionItem>,
    newest_published: String,
}

async fn type_page(
    state: web::Data<AppState>,
    _staff: Staff,
    ctx: PageCtx,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let type_id = path.into_inner();
    let versions = catalog::versions_of(&state.db, &type_id, false).await?;
    let newest = versions.first().ok_or(AppError::NotFound)?;
    let newest_published = versions
        .iter()
        .find(|v| v.row.status == PUBLISHED)
        .map(|v| v.row.version.clone())
        .unwrap_or_default();
    render(
        StatusCode::OK,
        &TypePage {
            ctx,
            name: newest.definition.name().to_string(),
            description: newest.definition.description.clone().unwrap_or_default(),
            versions: versions.iter().map(VersionItem::from).collect(),
            newest_published,
            type_id,
        },
    )
}

#[derive(Template)]
#[template(path = "admin/agent_type_compare.html")]
struct ComparePage {
    ctx: PageCtx,
    type_id: String,
    a: String,
    b: String,
    versions: Vec<String>,
    entries: Vec<DiffEntry>,
}

#[derive(Deserialize)]
struct CompareQuery {
    a: Option<String>,
    b: Option<String>,
}

async fn compare(
    state: web::Data<AppState>,
    _staff: Staff,
    ctx: PageCtx,
    path: web::Path<String>,
    q: web::Query<CompareQuery>,
) -> Result<HttpResponse, AppError> {
    let type_id = path.into_inner();
    let versions = catalog::versions_of(&state.db, &type_id, false).await?;
    if versions.is_empty() {
        return Err(AppError::NotFound);
    }
    // Default: the previous version against the newest.
    let b =
        q.b.clone()
            .unwrap_or_else(|| versions[0].row.version.clone());
    let a =
        q.a.clone()
            .unwrap_or_else(|| versions.get(1).unwrap_or(&versions[0]).row.version.clone());
    let find = |v: &str| {
        versions
            .iter()
            .find(|x| x.row.version == v)
            .ok_or(AppError::NotFound)
    };
    let entries = definition_diff::diff(&find(&a)?.definition, &find(&b)?.definition);
    render(
        StatusCode::OK,
        &ComparePage {
            ctx,
            type_id,
            a,
            b,
            versions: versions.iter().map(|v| v.row.version.clone()).collect(),
            entries,
        },
    )
}

/// A field as the version page's table shows it.
pub struct FieldLine {
    key: String,
    label: String,
    kind: String,
    required: bool,
    constraints: String,
    default: String,
    description: String,
    depth: usize,
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

fn lines(fields: &[Field]) -> Vec<FieldLine> {
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

async fn version_page(
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
struct PartQuery {
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
async fn preview_submit(
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
async fn preview_validate(
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

#[derive(Template)]
#[template(path = "admin/agent_type_new.html")]
struct NewPage {
    ctx: PageCtx,
    agent_type_id: String,
    version: String,
    display_name: String,
    copy_from: String,
    sources: Vec<(String, String)>,
    errors: FormErrors,
}

#[derive(Deserialize, Default)]
struct NewForm {
    #[serde(default)]
    agent_type_id: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    copy_from: String,
}

async fn sources(state: &AppState) -> Result<Vec<(String, String)>, AppError> {
    catalog::all_ids(&state.db).await
}

async fn new_form(
    state: web::Data<AppState>,
    _admin: Admin,
    ctx: PageCtx,
    q: web::Query<NewForm>,
) -> Result<HttpResponse, AppError> {
    let q = q.into_inner();
    let (agent_type_id, version) = match q.copy_from.split_once('@') {
        Some((t, v)) if q.version.is_empty() => (
            t.to_string(),
            Version::parse(v)
                .map(|v| v.bump_minor().to_string())
                .unwrap_or_default(),
        ),
        Some((t, _)) => (t.to_string(), q.version.clone()),
        None => (
            q.agent_type_id.clone(),
            if q.version.is_empty() {
                "1.0.0".into()
            } else {
                q.version.clone()
            },
        ),
    };
    render(
        StatusCode::OK,
        &NewPage {
            ctx,
            agent_type_id,
            version,
            display_name: q.display_name,
            copy_from: q.copy_from,
            sources: sources(&state).await?,
            errors: FormErrors::default(),
        },
    )
}

/// Creates a draft: empty, or copied from an existing version.
async fn create(
    state: web::Data<AppState>,
    session: Session,
    admin: Admin,
    ctx: PageCtx,
    Form(form): Form<NewForm>,
) -> Result<HttpResponse, AppError> {
    let audit = admin.actor.clone();
    let result = if form.copy_from.is_empty() {
        let mut doc =
            json!({"agent_type_id": form.agent_type_id.trim(), "version": form.version.trim()});
        if !form.display_name.trim().is_empty() {
            doc["display_name"] = json!(form.display_name.trim());
        }
        catalog::create_draft(&state.db, &audit, &doc).await
    } else {
        let (source_type, _) = form.copy_from.split_once('@').unwrap_or_default();
        if !form.agent_type_id.trim().is_empty() && form.agent_type_id.trim() != source_type {
            Err(AppError::invalid(vec![Violation::new(
                "agent_type_id",
                "A copy keeps the type of its source; leave the id as it is, or copy nothing to start a new type.",
            )]))
        } else {
            catalog::copy_as_draft(&state.db, &audit, &form.copy_from, &form.version).await
        }
    };
    let errors = match result {
        Ok(v) => {
            flash(
                &session,
                "success",
                format!("Draft {} created. Edit it, then publish it.", v.row.id),
            );
            return Ok(see_other(&format!(
                "/admin/agent-types/{}/versions/{}/edit",
                v.row.agent_type_id, v.row.version
            )));
        }
        Err(AppError::Invalid { violations, .. }) => violations,
        Err(AppError::Conflict {
            code: ErrorCode::VersionExists,
            message,
        }) => vec![Violation::new("version", message)],
        Err(e) => return Err(e),
    };
    let errors = errors
        .into_iter()
        .filter(|v| {
            matches!(
                v.path.as_str(),
                "agent_type_id" | "version" | "display_name" | "copy_from"
            )
        })
        .collect::<Vec<_>>();
    let errors = if errors.is_empty() {
        vec![Violation::new(
            "copy_from",
            "The source version cannot be copied as it is.",
        )]
    } else {
        errors
    };
    render(
        StatusCode::UNPROCESSABLE_ENTITY,
        &NewPage {
            ctx,
            agent_type_id: form.agent_type_id,
            version: form.version,
            display_name: form.display_name,
            copy_from: form.copy_from,
            sources: sources(&state).await?,
            errors: FormErrors(errors),
        },
    )
}

async fn change_status(
    state: &AppState,
    session: &Session,
    admin: &Admin,
    type_id: &str,
    version: &str,
    to: &str,
) -> Result<HttpResponse, AppError> {
    let audit = admin.actor.clone();
    match catalog::transition(&state.db, &audit, type_id, version, to).await {
        Ok(v) => {
            let msg = if to == PUBLISHED {
                format!("{} is published: new hires use it.", v.row.id)
            } else {
                format!("{} is retired: no new hires; existing ones keep running.", v.row.id)
            };
            flash(session, "success", msg);
            Ok(see_other(&format!("/admin/agent-types/{type_id}/versions/{version}")))
        }
        Err(AppError::Invalid { violations, .. }) => Err(AppError::Invalid {
            detail: "This draft cannot be published yet: open the editor to see each problem at its place.".into(),
            violations,
        }),
        Err(e) => Err(e),
    }
}

async fn publish(
    state: web::Data<AppState>,
    session: Session,
    admin: Admin,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (t, v) = path.into_inner();
    change_status(&state, &session, &admin, &t, &v, PUBLISHED).await
}

async fn retire(
    state: web::Data<AppState>,
    session: Session,
    admin: Admin,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (t, v) = path.into_inner();
    change_status(&state, &session, &admin, &t, &v, RETIRED).await
}
