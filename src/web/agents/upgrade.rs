//! Upgrading a hired agent to a newer published version of its type: the field-by-field diff of
//! the two schemas and of this agent's config, then either "Upgrade" (everything applied in one
//! transaction) or the exact list of what must be fixed first, each linking to where it is fixed.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{Head, Viewer, load};
use crate::db::hired_agents::HiredAgent;
use crate::domain::definition_diff::{self, DiffEntry};
use crate::domain::diff::{self, FieldChange};
use crate::domain::forms;
use crate::domain::hired_agent::stored_config;
use crate::error::{AppError, AppResult};
use crate::service::hired_agents::{self, UpgradeProblem};
use crate::service::{catalog, goals as goal_service};
use crate::web::AppState;
use crate::web::forms::Form;
use crate::web::pages::{PageCtx, flash, render, see_other};

pub fn routes(cfg: &mut web::ServiceConfig, base: &str) {
    cfg.service(
        web::resource(format!("{base}/{{id}}/upgrade"))
            .get(page)
            .post(apply),
    );
}

/// The newest published version of the agent's type when it is newer than the agent's.
pub async fn newer_version(state: &AppState, h: &HiredAgent) -> AppResult<Option<String>> {
    use crate::domain::version::Version;
    let Some(newest) = catalog::newest_published(&state.db, &h.agent_type_id).await? else {
        return Ok(None);
    };
    let newer = match (
        Version::parse(&newest.row.version),
        Version::parse(&h.agent_type_version),
    ) {
        (Some(a), Some(b)) => a.sort_key() > b.sort_key(),
        _ => false,
    };
    Ok(newer.then(|| newest.row.version.clone()))
}

/// A problem with a link to where it is fixed.
pub struct ProblemLine {
    pub place: String,
    pub message: String,
    pub href: String,
}

#[derive(Template)]
#[template(path = "agents/upgrade.html")]
struct UpgradePage {
    ctx: PageCtx,
    head: Head,
    to: String,
    schema_diff: Vec<DiffEntry>,
    config_diff: Vec<FieldChange>,
    problems: Vec<ProblemLine>,
}

#[derive(Deserialize)]
struct ToQuery {
    to: Option<String>,
}

async fn view(
    state: &AppState,
    v: &Viewer,
    ctx: PageCtx,
    h: &HiredAgent,
    to: &str,
) -> AppResult<UpgradePage> {
    let from = hired_agents::definition_of(&state.db, h).await?;
    let target = hired_agents::upgrade_target(&state.db, h, to).await?;
    let (_, goals) = goal_service::of_agent(
        &state.db,
        &state.settings.billing,
        &v.scope,
        &h.id,
        v.actor.now,
    )
    .await?;
    let after = stored_config(&target.config_schema, &h.config.0);
    let agent = format!("{}/{}", v.base, h.id);
    let problems = hired_agents::upgrade_problems(&target, h, &goals)
        .into_iter()
        .map(|p: UpgradeProblem| {
            if p.place == "config" {
                let root = p.path.split(['.', '[']).next().unwrap_or_default();
                let anchor = from
                    .config_schema
                    .field(root)
                    .map(|_| forms::owner_id(&from.config_schema.fields, "config", &p.path))
                    .unwrap_or_default();
                ProblemLine {
                    place: "Configuration".into(),
                    message: p.message,
                    href: format!("{agent}/configuration#{anchor}"),
                }
            } else {
                let name = goals
                    .iter()
                    .find(|g| g.id == p.place)
                    .and_then(|g| from.template(&g.goal_template_id))
                    .map(|t| t.name.clone())
                    .unwrap_or_else(|| p.place.clone());
                ProblemLine {
                    place: format!("Goal: {name}"),
                    message: p.message,
                    href: format!("{agent}/goals/{}/edit", p.place),
                }
            }
        })
        .collect();
    Ok(UpgradePage {
        ctx,
        head: Head::of(h, v, "overview"),
        to: to.to_string(),
        schema_diff: definition_diff::diff(&from, &target),
        config_diff: diff::changes(Some(&h.config.0), Some(&after)),
        problems,
    })
}

async fn page(
    state: web::Data<AppState>,
    v: Viewer,
    ctx: PageCtx,
    path: web::Path<String>,
    q: web::Query<ToQuery>,
) -> AppResult<HttpResponse> {
    let h = load(&state, &v, &path).await?;
    let to = match &q.to {
        Some(t) => t.clone(),
        None => newer_version(&state, &h).await?.ok_or(AppError::NotFound)?,
    };
    render(StatusCode::OK, &view(&state, &v, ctx, &h, &to).await?)
}

#[derive(Deserialize)]
struct ApplyForm {
    to: String,
    #[serde(default)]
    row_version: Option<i64>,
}

async fn apply(
    state: web::Data<AppState>,
    req: HttpRequest,
    v: Viewer,
    ctx: PageCtx,
    path: web::Path<String>,
    form: Form<ApplyForm>,
) -> AppResult<HttpResponse> {
    let h = load(&state, &v, &path).await?;
    let r = hired_agents::upgrade(
        &state.db,
        &state.keys,
        &state.settings.billing,
        &v.actor,
        &v.scope,
        &h.id,
        &form.0.to,
        form.0.row_version,
    )
    .await;
    match r {
        Ok(saved) => {
            flash(
                &req,
                "success",
                format!(
                    "{} now runs version {}.",
                    saved.agent.name(),
                    saved.agent.agent_type_version
                ),
            );
            Ok(see_other(&format!("{}/{}", v.base, h.id)))
        }
        // Something changed since the page was shown: show it again, with what is wrong now.
        Err(AppError::Invalid { .. }) => {
            let h = load(&state, &v, &path).await?;
            render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &view(&state, &v, ctx, &h, &form.0.to).await?,
            )
        }
        Err(e) => Err(e),
    }
}
