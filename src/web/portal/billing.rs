//! `/portal/billing`: the customer's company details (printed on invoices), subscriptions,
//! invoices and receipts.
//!
//! Statements per request, besides the session: the page 4 (customer, subscriptions, invoices,
//! receipts).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::{SubscriptionLine, subscription_lines};
use crate::domain::billing::money::inr;
use crate::error::{AppError, AppResult};
use crate::service::{billing, customers, subscriptions};
use crate::web::AppState;
use crate::web::auth::CustomerUser;
use crate::web::billing_docs::state_label;
use crate::web::pages::{PageCtx, render};
use crate::web::view::Ts;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/portal/billing").get(page));
}

pub struct DocLine {
    pub id: String,
    pub number: String,
    pub date: Ts,
    pub total: String,
}

#[derive(Template)]
#[template(path = "portal/billing.html")]
struct BillingPage {
    ctx: PageCtx,
    customer: customers::Customer,
    state: Option<String>,
    subscriptions: Vec<SubscriptionLine>,
    invoices: Vec<DocLine>,
    receipts: Vec<DocLine>,
}

async fn page(
    state: web::Data<AppState>,
    user: CustomerUser,
    ctx: PageCtx,
) -> AppResult<HttpResponse> {
    let id = user.user.customer_id.clone().ok_or(AppError::NotFound)?;
    let scope = user.scope();
    let customer = customers::get(&state.db, &scope, &id).await?;
    let subs = subscriptions::of_customer(&state.db, &scope, &id).await?;
    let mut invoices: Vec<DocLine> = billing::invoices(&state.db, &scope, None)
        .await?
        .into_iter()
        .map(|i| DocLine {
            id: i.id,
            number: i.number,
            date: Ts(i.created_at),
            total: inr(i.total_amount),
        })
        .collect();
    invoices.reverse();
    let receipts = billing::receipts(&state.db, &scope, None)
        .await?
        .into_iter()
        .map(|r| DocLine {
            id: r.id,
            number: r.number,
            date: Ts(r.created_at),
            total: inr(r.total_amount),
        })
        .collect();
    render(
        StatusCode::OK,
        &BillingPage {
            ctx,
            state: customer
                .gstin
                .as_deref()
                .and_then(|g| g.get(..2))
                .map(state_label),
            customer,
            subscriptions: subscription_lines(&subs, &state.settings.billing, user.actor.now),
            invoices,
            receipts,
        },
    )
}
