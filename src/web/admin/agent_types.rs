//! `/admin/agent-types`: the catalog for staff. Admins change it; operators and viewers read it.
//! This file: the list, a type's page and the comparison of two versions; a version's page and its
//! form previews are in `agent_type_version`, new versions and status changes in `agent_type_new`.
//!
//! Statements per request, besides the session (one statement, with its user): the list 2 (one
//! window query over the versions, the hired agents counted by type); a type's page 1 (its
//! versions); a comparison 1.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::domain::definition_diff::{self, DiffEntry};
use crate::error::AppError;
use crate::service::catalog::{self, PUBLISHED, StoredVersion};
use crate::service::hired_agents_list;
use crate::web::AppState;
use crate::web::auth::Staff;
use crate::web::pages::{PageCtx, render, wants_fragment};
use crate::web::view::Ts;

pub fn routes(cfg: &mut web::ServiceConfig) {
    use super::{agent_type_new as new, agent_type_version as version};
    cfg.service(
        web::resource("/admin/agent-types")
            .get(list)
            .post(new::create),
    )
    .service(web::resource("/admin/agent-types/new").get(new::new_form))
    .service(web::resource("/admin/agent-types/{type_id}").get(type_page))
    .service(web::resource("/admin/agent-types/{type_id}/compare").get(compare))
    .service(
        web::resource("/admin/agent-types/{type_id}/versions/{version}").get(version::version_page),
    )
    .service(
        web::resource("/admin/agent-types/{type_id}/versions/{version}/preview")
            .post(version::preview_submit),
    )
    .service(
        web::resource("/admin/agent-types/{type_id}/versions/{version}/preview/validate")
            .post(version::preview_validate),
    )
    .service(
        web::resource("/admin/agent-types/{type_id}/versions/{version}/publish").post(new::publish),
    )
    .service(
        web::resource("/admin/agent-types/{type_id}/versions/{version}/retire").post(new::retire),
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
    staff: Staff,
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
    let hires = hired_agents_list::hires_by_type(&state.db, &staff.scope()).await?;
    let items = rows
        .into_iter()
        .map(|r| TypeItem {
            hires: hires.get(&r.agent_type_id).copied().unwrap_or(0),
            id: r.agent_type_id,
            name: r.display_name,
            version: r.version,
            status: r.status,
            draft_pending: r.draft_pending,
            versions: r.versions,
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
    pub(super) version: String,
    pub(super) status: String,
    pub(super) created: Ts,
    pub(super) created_by: String,
    pub(super) published: Option<Ts>,
    /// Who published it; `None` for the system (built-in types, the command line).
    pub(super) published_by: Option<String>,
    pub(super) retired: Option<Ts>,
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
