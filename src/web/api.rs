//! `/api/v1`: JSON for integrations. Errors are problem documents (see `errors`).
//!
//! Statements per request: the principal 1 (the token with its user; plus one a minute to note
//! when the token was last used), then the list 1, a type 2, a version 1, each change 1 read + 1
//! transaction with its audit entry.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use super::auth::{Admin, SignedIn};
use crate::domain::schema;
use crate::error::AppError;
use crate::service::catalog::{self, PUBLISHED, RETIRED};
use crate::service::phase1;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/v1")
            .service(web::resource("/me").get(me))
            .service(web::resource("/agent-types").get(list_types).post(create_version))
            // Phase-1 clients also ask with a trailing slash.
            .service(web::resource("/agent-types/").get(list_types))
            .service(web::resource("/agent-types/{type_id}").get(get_type).put(upsert_type))
            .service(web::resource("/agent-types/{type_id}/versions").get(type_versions))
            .service(web::resource("/agent-types/{type_id}/versions/{version}").get(get_version).put(update_version))
            .service(web::resource("/agent-types/{type_id}/versions/{version}/publish").post(publish))
            .service(web::resource("/agent-types/{type_id}/versions/{version}/retire").post(retire))
            .service(web::resource("/agent-types/{type_id}/versions/{version}/config.schema.json").get(config_schema))
            .service(web::resource("/agent-types/{type_id}/versions/{version}/goal-templates/{template_id}/settings.schema.json").get(settings_schema))
            .configure(super::api_payments::routes)
            .default_service(web::to(super::not_found)),
    );
}

/// Who the caller is.
async fn me(user: SignedIn) -> Result<HttpResponse, AppError> {
    let u = &user.user;
    Ok(HttpResponse::Ok().json(json!({
        "id": u.id,
        "email": u.email,
        "role": u.role.as_str(),
        "customer_id": u.customer_id,
    })))
}

#[derive(Deserialize)]
struct ListQuery {
    include: Option<String>,
}

/// Phase-1 shape: the definitions, the newest published version of each type
/// (`?include=drafts`: staff get the newest version of any status).
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

/// Phase-1 shape: the type's live definition (its newest published version; staff see the newest
/// draft of a type that has none published yet).
async fn get_type(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let type_id = path.into_inner();
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

/// Phase-1 `PUT /agent-types/{id}`: the body's version becomes the live one (see
/// `service::phase1::upsert_live`). Admins only.
async fn upsert_type(
    state: web::Data<AppState>,
    admin: Admin,
    path: web::Path<String>,
    body: web::Json<Value>,
) -> Result<HttpResponse, AppError> {
    let (live, _changed) =
        phase1::upsert_live(&state.db, &admin.actor, &path.into_inner(), &body).await?;
    Ok(HttpResponse::Ok().json(live.row.document.0))
}

/// Every version of a type with its status, and the newest published one whole.
async fn type_versions(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let type_id = path.into_inner();
    let versions = catalog::visible_versions(&state.db, &user.scope(), &type_id).await?;
    let newest = catalog::newest_published(&state.db, &type_id).await?;
    Ok(HttpResponse::Ok().json(json!({
        "agent_type_id": type_id,
        "display_name": newest.as_ref().unwrap_or(&versions[0]).row.display_name,
        "newest_published": newest.map(|v| v.to_json()),
        "versions": versions.iter().map(|v| json!({
            "id": v.row.id, "version": v.row.version, "status": v.row.status,
            "created_at": v.row.created_at, "published_at": v.row.published_at, "retired_at": v.row.retired_at,
        })).collect::<Vec<_>>(),
    })))
}

async fn get_version(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (type_id, version) = path.into_inner();
    Ok(HttpResponse::Ok().json(
        catalog::visible(&state.db, &user.scope(), &type_id, &version)
            .await?
            .to_json(),
    ))
}

/// Creates a draft version from a whole definition, or, with `{"copy_from": "type@version",
/// "version": "1.1.0"}`, as a copy of an existing version.
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
        .json(created.to_json()))
}

async fn update_version(
    state: web::Data<AppState>,
    admin: Admin,
    path: web::Path<(String, String)>,
    body: web::Json<Value>,
) -> Result<HttpResponse, AppError> {
    let (type_id, version) = path.into_inner();
    let ctx = admin.actor.clone();
    let updated = catalog::update_draft(&state.db, &ctx, &type_id, &version, &body).await?;
    Ok(HttpResponse::Ok().json(updated.to_json()))
}

async fn publish(
    state: web::Data<AppState>,
    admin: Admin,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (type_id, version) = path.into_inner();
    let ctx = admin.actor.clone();
    Ok(HttpResponse::Ok().json(
        catalog::transition(&state.db, &ctx, &type_id, &version, PUBLISHED)
            .await?
            .to_json(),
    ))
}

async fn retire(
    state: web::Data<AppState>,
    admin: Admin,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (type_id, version) = path.into_inner();
    let ctx = admin.actor.clone();
    Ok(HttpResponse::Ok().json(
        catalog::transition(&state.db, &ctx, &type_id, &version, RETIRED)
            .await?
            .to_json(),
    ))
}

fn schema_json(doc: Value) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/schema+json")
        .body(doc.to_string())
}

async fn config_schema(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (type_id, version) = path.into_inner();
    let v = catalog::visible(&state.db, &user.scope(), &type_id, &version).await?;
    let id = format!("/api/v1/agent-types/{type_id}/versions/{version}/config.schema.json");
    let title = format!("{} {} configuration", v.definition.name(), v.row.version);
    Ok(schema_json(schema::export(
        &v.definition.config_schema,
        &title,
        Some(&id),
    )))
}

async fn settings_schema(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, AppError> {
    let (type_id, version, template_id) = path.into_inner();
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
