//! `/portal/catalog`: what a customer can hire: the newest published version of each agent type,
//! with its fields and goal templates in words and the price of each duration.
//!
//! Statements per request, besides the session: the list 1, a type 1.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use crate::domain::definition::GoalTemplate;
use crate::error::{AppError, AppResult};
use crate::service::catalog::{self, StoredVersion};
use crate::web::AppState;
use crate::web::admin::agent_type_version::{FieldLine, lines};
use crate::web::auth::CustomerUser;
use crate::web::hire::{DurationChoice, duration_choices};
use crate::web::pages::{PageCtx, render};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/portal/catalog").get(list))
        .service(web::resource("/portal/catalog/{agent_type_id}").get(detail));
}

pub struct Card {
    pub agent_type_id: String,
    pub version: String,
    pub display_name: String,
    pub description: String,
    pub fields: usize,
    pub goals: Vec<String>,
}

fn card(v: &StoredVersion) -> Card {
    Card {
        agent_type_id: v.row.agent_type_id.clone(),
        version: v.row.version.clone(),
        display_name: v.row.display_name.clone(),
        description: v.definition.description.clone().unwrap_or_default(),
        fields: v.definition.config_schema.fields.len(),
        goals: v
            .definition
            .goal_templates
            .iter()
            .map(|g| g.name.clone())
            .collect(),
    }
}

#[derive(Template)]
#[template(path = "portal/catalog.html")]
struct CatalogPage {
    ctx: PageCtx,
    cards: Vec<Card>,
    durations: Vec<DurationChoice>,
}

async fn list(
    state: web::Data<AppState>,
    _user: CustomerUser,
    ctx: PageCtx,
) -> AppResult<HttpResponse> {
    let versions = catalog::newest_versions(&state.db, true).await?;
    render(
        StatusCode::OK,
        &CatalogPage {
            ctx,
            cards: versions.iter().map(card).collect(),
            durations: duration_choices(),
        },
    )
}

pub struct GoalLine {
    pub name: String,
    pub frequency: String,
    pub description: String,
}

fn goal_line(g: &GoalTemplate) -> GoalLine {
    let frequency = match &g.allowed_frequencies {
        Some(all) if !all.is_empty() => format!(
            "{} (also: {})",
            g.default_frequency,
            all.iter()
                .filter(|f| **f != g.default_frequency)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        ),
        _ => g.default_frequency.clone(),
    };
    GoalLine {
        name: g.name.clone(),
        frequency: frequency.trim_end_matches(" (also: )").to_string(),
        description: g.description.clone().unwrap_or_default(),
    }
}

#[derive(Template)]
#[template(path = "portal/catalog_type.html")]
struct TypePage {
    ctx: PageCtx,
    card: Card,
    fields: Vec<FieldLine>,
    goals: Vec<GoalLine>,
    durations: Vec<DurationChoice>,
    approval_required: bool,
}

async fn detail(
    state: web::Data<AppState>,
    _user: CustomerUser,
    ctx: PageCtx,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let v = catalog::newest_published(&state.db, &path)
        .await?
        .ok_or(AppError::NotFound)?;
    render(
        StatusCode::OK,
        &TypePage {
            ctx,
            card: card(&v),
            fields: lines(&v.definition.config_schema.fields),
            goals: v.definition.goal_templates.iter().map(goal_line).collect(),
            durations: duration_choices(),
            approval_required: v.definition.enforcement_defaults.approval_required,
        },
    )
}
