//! `/api/v1`: JSON for integrations. Errors are problem documents (see `errors`). Each handler is
//! documented by its `#[utoipa::path]` annotation and served from it (see `openapi`).
//!
//! Statements per request: the principal 1 (the token with its user; plus one a minute to note
//! when the token was last used), then the list 1, a type 2, a version 1, each change 1 read + 1
//! transaction with its audit entry.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::auth::{Admin, SignedIn};
use super::openapi::{Conflict, Endpoint, NotFound, ValidationFailed, endpoints};
use crate::domain::definition::Definition;
use crate::domain::roles::Role;
use crate::domain::schema;
use crate::domain::version_status::VersionStatus;
use crate::error::AppError;
use crate::service::catalog::{self, PUBLISHED, RETIRED, StoredVersion};
use crate::service::phase1;

/// This module's operations; `openapi::scope` serves each where its annotation says.
pub fn endpoints() -> Vec<Endpoint> {
    endpoints![
        me,
        list_types,
        list_types_slash,
        create_version,
        get_type,
        upsert_type,
        type_versions,
        get_version,
        update_version,
        publish,
        retire,
        config_schema,
        settings_schema,
    ]
}

/// The caller, as `GET /api/v1/me` shows them.
#[derive(Serialize, ToSchema)]
struct Me {
    id: i64,
    email: String,
    role: Role,
    /// The customer a `customer` user belongs to; null for staff.
    customer_id: Option<String>,
}

/// Who the caller is.
#[utoipa::path(
    get,
    path = "/api/v1/me",
    tag = "account",
    responses((status = 200, description = "The signed-in user (or the token's user)", body = Me)),
)]
async fn me(user: SignedIn) -> Result<HttpResponse, AppError> {
    let u = &user.user;
    Ok(HttpResponse::Ok().json(Me {
        id: u.id,
        email: u.email.clone(),
        role: u.role,
        customer_id: u.customer_id.clone(),
    }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// `drafts`: staff get the newest version of each type whatever its status (others are
    /// ignored, as is the parameter for customers).
    #[param(example = "drafts")]
    include: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
struct TypePath {
    /// The agent type's id, e.g. `marketing.healthcare.v1`.
    type_id: String,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
struct VersionPath {
    /// The agent type's id, e.g. `marketing.healthcare.v1`.
    type_id: String,
    /// The version, e.g. `1.0.0`.
    version: String,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
struct TemplatePath {
    /// The agent type's id, e.g. `trading.delta_futures.v1`.
    type_id: String,
    /// The version, e.g. `1.0.0`.
    version: String,
    /// The goal template's id, e.g. `trading.trade_intent_draft.v1`.
    template_id: String,
}

/// A version as the API shows it.
#[derive(Serialize, ToSchema)]
struct AgentTypeVersion {
    /// `{agent_type_id}@{version}`.
    #[schema(example = "marketing.healthcare.v1@1.0.0")]
    id: String,
    agent_type_id: String,
    version: String,
    #[schema(value_type = VersionStatus)]
    status: String,
    display_name: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    published_at: Option<DateTime<Utc>>,
    retired_at: Option<DateTime<Utc>>,
    /// The definition as stored.
    #[schema(value_type = Definition)]
    definition: Value,
}

impl From<&StoredVersion> for AgentTypeVersion {
    fn from(v: &StoredVersion) -> Self {
        let r = &v.row;
        AgentTypeVersion {
            id: r.id.clone(),
            agent_type_id: r.agent_type_id.clone(),
            version: r.version.clone(),
            status: r.status.clone(),
            display_name: r.display_name.clone(),
            created_at: r.created_at,
            updated_at: r.updated_at,
            published_at: r.published_at,
            retired_at: r.retired_at,
            definition: r.document.0.clone(),
        }
    }
}

fn version_json(v: &StoredVersion) -> HttpResponse {
    HttpResponse::Ok().json(AgentTypeVersion::from(v))
}

/// One line of a type's version list.
#[derive(Serialize, ToSchema)]
struct VersionSummary {
    id: String,
    version: String,
    #[schema(value_type = VersionStatus)]
    status: String,
    created_at: DateTime<Utc>,
    published_at: Option<DateTime<Utc>>,
    retired_at: Option<DateTime<Utc>>,
}

/// A type with every version the caller may see.
#[derive(Serialize, ToSchema)]
struct TypeVersions {
    agent_type_id: String,
    display_name: String,
    /// The newest published version, whole; null when none is published.
    newest_published: Option<AgentTypeVersion>,
    /// Newest first (customers see published and retired versions only).
    versions: Vec<VersionSummary>,
}

/// `POST /api/v1/agent-types`: a whole definition, or a copy of an existing version.
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)] // Documentation only: the handler reads the body as JSON, to report every problem.
#[serde(untagged)]
enum CreateVersionRequest {
    Definition(Definition),
    Copy(CopyVersion),
}

/// A copy of an existing version under a new version number.
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)] // Documentation only, as `CreateVersionRequest`.
struct CopyVersion {
    /// The version to copy, as `{agent_type_id}@{version}`.
    #[schema(example = "support.helpdesk.v1@1.9.0")]
    copy_from: String,
    /// The new version number.
    #[schema(example = "1.10.0")]
    version: String,
}

/// List the agent types.
///
/// Phase-1 shape: the definitions, the newest published version of each type (`?include=drafts`:
/// staff get the newest version of any status), by display name.
#[utoipa::path(
    get,
    path = "/api/v1/agent-types",
    tag = "agent types",
    params(ListQuery),
    responses((status = 200, description = "The definitions", body = Vec<Definition>)),
)]
async fn list_types(
    state: web::Data<AppState>,
    user: SignedIn,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let drafts = q.include.as_deref() == Some("drafts") && user.scope().is_staff();
    let items: Vec<Value> = catalog::newest_versions(&state.db, !drafts)
        .await?
        .into_iter()
        .map(|v| v.row.document.0)
        .collect();
    Ok(HttpResponse::Ok().json(items))
}

/// List the agent types (Phase-1 spelling).
///
/// The same as `GET /api/v1/agent-types`: Phase-1 clients ask with a trailing slash.
#[utoipa::path(
    get,
    path = "/api/v1/agent-types/",
    tag = "agent types",
    params(ListQuery),
    responses((status = 200, description = "The definitions", body = Vec<Definition>)),
)]
async fn list_types_slash(
    state: web::Data<AppState>,
    user: SignedIn,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    list_types(state, user, q).await
}

/// Get an agent type's live definition.
///
/// Phase-1 shape: the newest published version's definition (staff see the newest draft of a type
/// that has none published yet).
#[utoipa::path(
    get,
    path = "/api/v1/agent-types/{type_id}",
    tag = "agent types",
    params(TypePath),
    responses(
        (status = 200, description = "The live definition", body = Definition),
        (status = 404, response = NotFound),
    ),
)]
async fn get_type(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<TypePath>,
) -> Result<HttpResponse, AppError> {
    let type_id = path.into_inner().type_id;
    let live = match catalog::newest_published(&state.db, &type_id).await? {
        Some(v) => v,
        None => catalog::visible_versions(&state.db, &user.scope(), &type_id)
            .await?
            .into_iter()
            .next()
            .ok_or(AppError::NotFound)?,
    };
    Ok(HttpResponse::Ok().json(live.row.document.0))
}

/// Make a definition live (Phase 1).
///
/// Admins only. The body's version becomes the live one: a new version is created and published, a
/// draft of that version is updated and published, the published version itself is accepted when
/// unchanged (a repeated request is harmless) and refused with 409 when it differs; a retired
/// version stays retired (409). A body whose `agent_type_id` differs from the path answers 400
/// (`agent_type_id mismatch`).
#[utoipa::path(
    put,
    path = "/api/v1/agent-types/{type_id}",
    tag = "agent types",
    params(TypePath),
    request_body = Definition,
    responses(
        (status = 200, description = "The live definition", body = Definition),
        (status = 400, response = super::openapi::BadRequest),
        (status = 409, response = Conflict),
        (status = 422, response = ValidationFailed),
    ),
)]
async fn upsert_type(
    state: web::Data<AppState>,
    admin: Admin,
    path: web::Path<TypePath>,
    body: web::Json<Value>,
) -> Result<HttpResponse, AppError> {
    let (live, _changed) =
        phase1::upsert_live(&state.db, &admin.actor, &path.into_inner().type_id, &body).await?;
    Ok(HttpResponse::Ok().json(live.row.document.0))
}

/// List a type's versions.
///
/// Every version the caller may see with its status (customers: published and retired ones), and
/// the newest published one whole.
#[utoipa::path(
    get,
    path = "/api/v1/agent-types/{type_id}/versions",
    tag = "agent types",
    params(TypePath),
    responses(
        (status = 200, description = "The type and its versions", body = TypeVersions),
        (status = 404, response = NotFound),
    ),
)]
async fn type_versions(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<TypePath>,
) -> Result<HttpResponse, AppError> {
    let type_id = path.into_inner().type_id;
    let versions = catalog::visible_versions(&state.db, &user.scope(), &type_id).await?;
    let newest = catalog::newest_published(&state.db, &type_id).await?;
    Ok(HttpResponse::Ok().json(TypeVersions {
        display_name: newest
            .as_ref()
            .unwrap_or(&versions[0])
            .row
            .display_name
            .clone(),
        agent_type_id: type_id,
        newest_published: newest.as_ref().map(AgentTypeVersion::from),
        versions: versions
            .iter()
            .map(|v| VersionSummary {
                id: v.row.id.clone(),
                version: v.row.version.clone(),
                status: v.row.status.clone(),
                created_at: v.row.created_at,
                published_at: v.row.published_at,
                retired_at: v.row.retired_at,
            })
            .collect(),
    }))
}

/// Get a version.
///
/// Drafts are for staff: to customers they do not exist (404).
#[utoipa::path(
    get,
    path = "/api/v1/agent-types/{type_id}/versions/{version}",
    tag = "agent types",
    params(VersionPath),
    responses(
        (status = 200, description = "The version", body = AgentTypeVersion),
        (status = 404, response = NotFound),
    ),
)]
async fn get_version(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<VersionPath>,
) -> Result<HttpResponse, AppError> {
    let VersionPath { type_id, version } = path.into_inner();
    Ok(version_json(
        &catalog::visible(&state.db, &user.scope(), &type_id, &version).await?,
    ))
}

/// Create a draft version.
///
/// Admins only. The body is a whole definition, or `{"copy_from": "type@version", "version":
/// "1.1.0"}` to copy an existing version under a new number. Answers 201 with `Location`; a version
/// that exists already answers 409 (`version_exists`), an invalid definition 422 with every problem.
#[utoipa::path(
    post,
    path = "/api/v1/agent-types",
    tag = "agent types",
    request_body = CreateVersionRequest,
    responses(
        (status = 201, description = "The new draft", body = AgentTypeVersion,
            headers(("Location" = String, description = "The new version's address"))),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 422, response = ValidationFailed),
    ),
)]
async fn create_version(
    state: web::Data<AppState>,
    admin: Admin,
    body: web::Json<Value>,
) -> Result<HttpResponse, AppError> {
    let ctx = admin.actor.clone();
    let body = body.into_inner();
    let created = match (
        body.get("copy_from").and_then(Value::as_str),
        body.get("version").and_then(Value::as_str),
    ) {
        (Some(from), Some(version)) if body.get("agent_type_id").is_none() => {
            catalog::copy_as_draft(&state.db, &ctx, from, version).await?
        }
        _ => catalog::create_draft(&state.db, &ctx, &body).await?,
    };
    Ok(HttpResponse::build(StatusCode::CREATED)
        .insert_header((
            "Location",
            format!(
                "/api/v1/agent-types/{}/versions/{}",
                created.row.agent_type_id, created.row.version
            ),
        ))
        .json(AgentTypeVersion::from(&created)))
}

/// Change a draft.
///
/// Admins only. The body is the whole new definition (its id and version must stay). Published and
/// retired versions never change: 409 (`version_not_editable`).
#[utoipa::path(
    put,
    path = "/api/v1/agent-types/{type_id}/versions/{version}",
    tag = "agent types",
    params(VersionPath),
    request_body = Definition,
    responses(
        (status = 200, description = "The changed draft", body = AgentTypeVersion),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 422, response = ValidationFailed),
    ),
)]
async fn update_version(
    state: web::Data<AppState>,
    admin: Admin,
    path: web::Path<VersionPath>,
    body: web::Json<Value>,
) -> Result<HttpResponse, AppError> {
    let VersionPath { type_id, version } = path.into_inner();
    let ctx = admin.actor.clone();
    let updated = catalog::update_draft(&state.db, &ctx, &type_id, &version, &body).await?;
    Ok(version_json(&updated))
}

/// Publish a draft.
///
/// Admins only. Published versions never change; anything but a draft answers 409
/// (`status_change_refused`). No body.
#[utoipa::path(
    post,
    path = "/api/v1/agent-types/{type_id}/versions/{version}/publish",
    tag = "agent types",
    params(VersionPath),
    responses(
        (status = 200, description = "The version, now published", body = AgentTypeVersion),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
    ),
)]
async fn publish(
    state: web::Data<AppState>,
    admin: Admin,
    path: web::Path<VersionPath>,
) -> Result<HttpResponse, AppError> {
    let VersionPath { type_id, version } = path.into_inner();
    let ctx = admin.actor.clone();
    Ok(version_json(
        &catalog::transition(&state.db, &ctx, &type_id, &version, PUBLISHED).await?,
    ))
}

/// Retire a published version.
///
/// Admins only. A retired version takes no new hires and never comes back; a draft cannot be retired
/// (409, `status_change_refused`). No body.
#[utoipa::path(
    post,
    path = "/api/v1/agent-types/{type_id}/versions/{version}/retire",
    tag = "agent types",
    params(VersionPath),
    responses(
        (status = 200, description = "The version, now retired", body = AgentTypeVersion),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
    ),
)]
async fn retire(
    state: web::Data<AppState>,
    admin: Admin,
    path: web::Path<VersionPath>,
) -> Result<HttpResponse, AppError> {
    let VersionPath { type_id, version } = path.into_inner();
    let ctx = admin.actor.clone();
    Ok(version_json(
        &catalog::transition(&state.db, &ctx, &type_id, &version, RETIRED).await?,
    ))
}

fn schema_json(doc: Value) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/schema+json")
        .body(doc.to_string())
}

/// A version's configuration as JSON Schema.
///
/// A JSON Schema (draft 2020-12) that a standard validator can check an agent's configuration
/// with.
#[utoipa::path(
    get,
    path = "/api/v1/agent-types/{type_id}/versions/{version}/config.schema.json",
    tag = "agent types",
    params(VersionPath),
    responses(
        (status = 200, description = "The JSON Schema (draft 2020-12)", content_type = "application/schema+json", body = Object),
        (status = 404, response = NotFound),
    ),
)]
async fn config_schema(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<VersionPath>,
) -> Result<HttpResponse, AppError> {
    let VersionPath { type_id, version } = path.into_inner();
    let v = catalog::visible(&state.db, &user.scope(), &type_id, &version).await?;
    let id = format!("/api/v1/agent-types/{type_id}/versions/{version}/config.schema.json");
    let title = format!("{} {} configuration", v.definition.name(), v.row.version);
    Ok(schema_json(schema::export(
        &v.definition.config_schema,
        &title,
        Some(&id),
    )))
}

/// A goal template's settings as JSON Schema.
///
/// A JSON Schema (draft 2020-12) for the settings of one of the version's goal templates.
#[utoipa::path(
    get,
    path = "/api/v1/agent-types/{type_id}/versions/{version}/goal-templates/{template_id}/settings.schema.json",
    tag = "agent types",
    params(TemplatePath),
    responses(
        (status = 200, description = "The JSON Schema (draft 2020-12)", content_type = "application/schema+json", body = Object),
        (status = 404, response = NotFound),
    ),
)]
async fn settings_schema(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<TemplatePath>,
) -> Result<HttpResponse, AppError> {
    let TemplatePath {
        type_id,
        version,
        template_id,
    } = path.into_inner();
    let v = catalog::visible(&state.db, &user.scope(), &type_id, &version).await?;
    let t = v
        .definition
        .template(&template_id)
        .ok_or(AppError::NotFound)?;
    let id = format!(
        "/api/v1/agent-types/{type_id}/versions/{version}/goal-templates/{template_id}/settings.schema.json"
    );
    Ok(schema_json(schema::export(
        &t.settings_schema,
        &format!("{} settings", t.name),
        Some(&id),
    )))
}
