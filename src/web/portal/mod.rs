//! `/portal`: the customer's area: home, the catalog, billing. Hiring is in `web::hire`, a
//! subscription's page in `web::subscription_pages`, invoices and receipts in `web::billing_docs`.
//!
//! Statements per request, besides the session (one statement, with its user): home 2 (the
//! customer, its subscriptions).

mod billing;
mod catalog;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::AppState;
use super::auth::CustomerUser;
use super::pages::{PageCtx, render};
use super::view::Ts;
use crate::error::AppError;
use crate::service::{customers, subscriptions};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/portal").get(home))
        .configure(catalog::routes)
        .configure(billing::routes);
}

/// A subscription as a line of a list.
pub struct SubscriptionLine {
    pub id: String,
    pub display_name: String,
    pub pinned: String,
    pub duration: String,
    pub status: String,
    pub cancel_at_period_end: bool,
    pub period_end: Ts,
    /// Past retention: listed, but its page answers 410.
    pub gone: bool,
}

pub fn subscription_lines(
    list: &[subscriptions::Row],
    settings: &crate::domain::billing::settings::BillingSettings,
    now: chrono::DateTime<chrono::Utc>,
) -> Vec<SubscriptionLine> {
    list.iter()
        .map(|s| SubscriptionLine {
            id: s.id.clone(),
            display_name: s.display_name.clone(),
            pinned: format!("{}@{}", s.agent_type_id, s.agent_type_version),
            duration: s.duration.clone(),
            status: s.status.clone(),
            cancel_at_period_end: s.cancel_at_period_end,
            period_end: Ts(s.ended_at.unwrap_or(s.current_period_end)),
            gone: subscriptions::retention_expires_at(s, settings).is_some_and(|at| at <= now),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "portal/home.html")]
struct PortalHome {
    ctx: PageCtx,
    customer_id: String,
    customer_name: String,
    customer_email: String,
    subscriptions: Vec<SubscriptionLine>,
}

async fn home(
    state: web::Data<AppState>,
    user: CustomerUser,
    ctx: PageCtx,
) -> Result<HttpResponse, AppError> {
    let id = user.user.customer_id.clone().ok_or(AppError::NotFound)?;
    let customer = customers::get(&state.db, &user.scope(), &id).await?;
    let subs = subscriptions::of_customer(&state.db, &user.scope(), &id).await?;
    render(
        StatusCode::OK,
        &PortalHome {
            ctx,
            customer_id: customer.id,
            customer_name: customer.name,
            customer_email: customer.email,
            subscriptions: subscription_lines(&subs, &state.settings.billing, user.actor.now),
        },
    )
}
