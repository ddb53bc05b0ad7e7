//! New versions of an agent type (empty or copied) and the status changes publish and retire, each
//! one transaction with its audit entry (admins only).
//!
//! Statements per request, besides the session (one statement, with its user): the form 1 (every
//! version, for "copy from"); creating 1 transaction; publish and retire 1 read + 1 transaction.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use serde_json::json;

use crate::domain::definition::Version;
use crate::error::{AppError, ErrorCode, Violation};
use crate::service::catalog::{self, PUBLISHED, RETIRED};
use crate::web::AppState;
use crate::web::auth::Admin;
use crate::web::forms::Form;
use crate::web::pages::{FormErrors, PageCtx, flash, render, see_other};

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
pub(super) struct NewForm {
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

pub(super) async fn new_form(
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
pub(super) async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
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
                &req,
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
    req: &HttpRequest,
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
            flash(req, "success", msg);
            Ok(see_other(&format!("/admin/agent-types/{type_id}/versions/{version}")))
        }
        Err(AppError::Invalid { violations, .. }) => Err(AppError::Invalid {
            detail: "This draft cannot be published yet: open the editor to see each problem at its place.".into(),
            violations,
        }),
        Err(e) => Err(e),
    }
}

pub(super) async fn publish(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: Admin,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (t, v) = path.into_inner();
    change_status(&state, &req, &admin, &t, &v, PUBLISHED).await
}

pub(super) async fn retire(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: Admin,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (t, v) = path.into_inner();
    change_status(&state, &req, &admin, &t, &v, RETIRED).await
}
