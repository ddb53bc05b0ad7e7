//! `/admin`: the staff area. The dashboard costs the session load and four statements (users by
//! role, catalog summary, recent activity).

pub mod agent_type_new;
pub mod agent_type_version;
pub mod agent_types;
pub mod customer_billing;
pub mod customer_detail;
pub mod customers;
pub mod editor;
pub mod hired_agents;
pub mod user_detail;
pub mod users;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::AppState;
use super::auth::Staff;
use super::pages::{PageCtx, render};
use super::view::AuditRow;
use crate::error::AppError;
use crate::service::activity;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/admin").get(dashboard))
        .configure(users::routes)
        .configure(customers::routes)
        .configure(hired_agents::routes)
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
    let d = activity::dashboard(&state.db, hide_sign_ins, 15).await?;
    let counts = d.users_by_role;
    let catalog_counts = vec![
        ("agent types".to_string(), d.agent_types),
        ("with a draft pending".to_string(), d.agent_types_with_draft),
    ];
    let audit = d.recent.into_iter().map(AuditRow::from).collect();
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
