//! A subscription's page, for its customer (`/portal/subscriptions/{id}`) and for staff
//! (`/admin/subscriptions/{id}`): the pinned agent type, the period, cancel at period end (and
//! undo), and every order with its invoice and receipt. Past its retention it answers 410.
//!
//! Statements per request, besides the session: the page 4 (subscription, orders, invoices,
//! receipts, its hired agent), for staff 6 (its history); cancel/undo 1 transaction.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::AppState;
use super::acting::require_write;
use super::auth::{CustomerUser, Principal, Staff, StaffReader};
use super::pages::{PageCtx, flash, render, see_other};
use super::view::{AuditRow, Ts};
use crate::domain::actor::{Actor, Scope};
use crate::domain::billing::money::inr;
use crate::error::AppResult;
use crate::service::{activity, billing, subscriptions};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/portal/subscriptions/{id}").get(portal_page))
        .service(web::resource("/portal/subscriptions/{id}/cancel").post(portal_cancel))
        .service(web::resource("/portal/subscriptions/{id}/undo-cancel").post(portal_undo))
        .service(web::resource("/admin/subscriptions/{id}").get(admin_page))
        .service(web::resource("/admin/subscriptions/{id}/cancel").post(admin_cancel))
        .service(web::resource("/admin/subscriptions/{id}/undo-cancel").post(admin_undo));
}

/// One bought period with its documents.
pub struct PeriodLine {
    pub order_id: String,
    pub kind: &'static str,
    pub start: Ts,
    pub end: Ts,
    pub list: String,
    pub paid: String,
    pub invoice: Option<(String, String)>,
    pub receipt: Option<(String, String)>,
}

#[derive(Template)]
#[template(path = "subscription.html")]
struct SubscriptionPage {
    ctx: PageCtx,
    base: &'static str,
    staff: bool,
    can_write: bool,
    sub: subscriptions::Row,
    start: Ts,
    end: Ts,
    ended: Option<Ts>,
    retention_until: Option<Ts>,
    periods: Vec<PeriodLine>,
    /// Staff see the subscription's history.
    audit: Vec<AuditRow>,
    /// Its hired agent, once set up: (id) and name.
    agent_id: Option<String>,
    agent_name: String,
    /// The customer's next step with the agent: (link, label).
    agent_next: (String, &'static str),
}

async fn show(
    state: &AppState,
    ctx: PageCtx,
    principal: &Principal,
    scope: &Scope,
    now: chrono::DateTime<chrono::Utc>,
    id: &str,
    base: &'static str,
) -> AppResult<HttpResponse> {
    let b = &state.settings.billing;
    let sub = subscriptions::get(&state.db, b, scope, id, now).await?;
    let orders = billing::orders(&state.db, scope, &sub.customer_id, Some(&sub.id)).await?;
    let invoices = billing::invoices_of_subscription(&state.db, scope, &sub.id).await?;
    let receipts = billing::receipts_of_subscription(&state.db, scope, &sub.id).await?;
    let periods = orders
        .iter()
        .map(|o| PeriodLine {
            order_id: o.id.clone(),
            kind: if o.kind == "renewal" {
                "Renewal"
            } else {
                "Checkout"
            },
            start: Ts(o.period_start),
            end: Ts(o.period_end),
            list: inr(o.list_amount),
            paid: inr(o.amount),
            invoice: invoices
                .iter()
                .find(|i| i.order_id == o.id)
                .map(|i| (i.id.clone(), i.number.clone())),
            receipt: receipts
                .iter()
                .find(|r| r.order_id == o.id)
                .map(|r| (r.id.clone(), r.number.clone())),
        })
        .collect();
    let agent =
        crate::service::hired_agents::by_subscription(&state.db, b, scope, &sub.id, now).await?;
    let role = principal.user.role;
    let audit = if role.is_staff() {
        activity::history_of(&state.db, "subscription", &sub.id, 50)
            .await?
            .into_iter()
            .map(AuditRow::from)
            .collect()
    } else {
        vec![]
    };
    render(
        StatusCode::OK,
        &SubscriptionPage {
            ctx,
            base,
            staff: role.is_staff(),
            can_write: !role.is_staff() || role.can_write_admin(),
            start: Ts(sub.current_period_start),
            end: Ts(sub.current_period_end),
            ended: sub.ended_at.map(Ts),
            retention_until: subscriptions::retention_expires_at(&sub, b).map(Ts),
            periods,
            audit,
            agent_name: agent
                .as_ref()
                .map(|h| h.name().to_string())
                .unwrap_or_default(),
            agent_next: match &agent {
                Some(h) if h.trial_status != "not_started" => {
                    (format!("/portal/agents/{}", h.id), "Open your agent")
                }
                Some(h) if h.nickname.is_some() => (
                    format!("/portal/subscriptions/{}/setup", sub.id),
                    "Continue agent setup",
                ),
                _ => (
                    format!("/portal/subscriptions/{}/setup", sub.id),
                    "Set up your agent",
                ),
            },
            agent_id: agent.map(|h| h.id),
            sub,
        },
    )
}

/// Who asks: the signed-in principal, the actor to record and the scope to read in.
struct Asker<'a> {
    principal: &'a Principal,
    actor: &'a Actor,
    scope: Scope,
}

async fn set_cancel(
    state: &AppState,
    req: &HttpRequest,
    asker: Asker<'_>,
    id: &str,
    cancel: bool,
    base: &str,
) -> AppResult<HttpResponse> {
    let Asker {
        principal,
        actor,
        scope,
    } = asker;
    let scope = &scope;
    require_write(principal)?;
    let sub =
        subscriptions::set_cancel(&state.db, &state.settings.billing, actor, scope, id, cancel)
            .await?;
    let end = Ts(sub.current_period_end);
    let text = if cancel {
        format!(
            "Cancelled at period end: {} stays active until {end}, then ends. You can undo this until then.",
            sub.display_name
        )
    } else {
        format!("Cancellation undone: {} renews on {end}.", sub.display_name)
    };
    flash(req, "success", text);
    Ok(see_other(&format!("{base}/subscriptions/{id}")))
}

async fn portal_page(
    state: web::Data<AppState>,
    user: CustomerUser,
    ctx: PageCtx,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    show(
        &state,
        ctx,
        &user,
        &user.scope(),
        user.actor.now,
        &id,
        "/portal",
    )
    .await
}

async fn admin_page(
    state: web::Data<AppState>,
    user: StaffReader,
    ctx: PageCtx,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    show(
        &state,
        ctx,
        &user,
        &user.scope(),
        user.actor.now,
        &id,
        "/admin",
    )
    .await
}

async fn portal_cancel(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: CustomerUser,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    set_cancel(
        &state,
        &req,
        Asker {
            principal: &user,
            actor: &user.actor,
            scope: user.scope(),
        },
        &id,
        true,
        "/portal",
    )
    .await
}

async fn portal_undo(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: CustomerUser,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    set_cancel(
        &state,
        &req,
        Asker {
            principal: &user,
            actor: &user.actor,
            scope: user.scope(),
        },
        &id,
        false,
        "/portal",
    )
    .await
}

async fn admin_cancel(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: Staff,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    set_cancel(
        &state,
        &req,
        Asker {
            principal: &user,
            actor: &user.actor,
            scope: user.scope(),
        },
        &id,
        true,
        "/admin",
    )
    .await
}

async fn admin_undo(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: Staff,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    set_cancel(
        &state,
        &req,
        Asker {
            principal: &user,
            actor: &user.actor,
            scope: user.scope(),
        },
        &id,
        false,
        "/admin",
    )
    .await
}
