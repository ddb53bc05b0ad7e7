//! `/admin`: the staff area.

pub mod agent_types;
pub mod editor;
pub mod users;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::AppState;
use super::auth::Staff;
use super::pages::{PageCtx, render};
use super::view::AuditRow;
use crate::db::{audit, users as user_db};
use crate::error::AppError;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/admin").get(dashboard))
        .configure(users::routes)
        .configure(agent_types::routes);
}

#[derive(Template)]
#[template(path = "admin/dashboard.html")]
struct Dashboard {
    ctx: PageCtx,
    counts: Vec<(String, i64)>,
    catalog_counts: Vec<(String, i64)>,
    audit: Vec<AuditRow>,
    hide_sign_ins: bool,
}

#[derive(Deserialize)]
struct DashboardQuery {
    /// `logins` hides sign-ins and sign-outs from the recent activity.
    #[serde(default)]
    hide: String,
}

async fn dashboard(
    state: web::Data<AppState>,
    _staff: Staff,
    ctx: PageCtx,
    q: web::Query<DashboardQuery>,
) -> Result<HttpResponse, AppError> {
    let hide_sign_ins = q.hide == "logins";
    let mut c = state.db.acquire().await?;
    let counts = user_db::count_by_role(c.conn()).await?;
    let catalog = crate::db::agent_types::summaries(c.conn(), "", None, false).await?;
    let catalog_counts = vec![
        ("agent types".to_string(), catalog.len() as i64),
        (
            "with a draft pending".to_string(),
            catalog
                .iter()
                .filter(|t| t.draft_pending || t.status == "draft")
                .count() as i64,
        ),
    ];
    let audit = audit::recent(c.conn(), None, hide_sign_ins, 15)
        .await?
        .into_iter()
        .map(AuditRow::from)
        .collect();
    render(
        StatusCode::OK,
        &Dashboard {
            ctx,
            counts,
            catalog_counts,
            audit,
            hide_sign_ins,
        },
    )
}
