//! `/portal/billing`: the customer's company details (printed on invoices), subscriptions,
//! invoices and receipts.
//!
//! Statements per request, besides the session: the page 4 (customer, subscriptions, invoices,
//! receipts); saving the details 1 transaction (+ the page again when refused).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::{SubscriptionLine, subscription_lines};
use crate::domain::billing::money::inr;
use crate::error::{AppError, AppResult};
use crate::service::customers::CompanyDetails;
use crate::service::{billing, customers, subscriptions};
use crate::web::AppState;
use crate::web::auth::CustomerUser;
use crate::web::billing_docs::state_label;
use crate::web::forms::Form;
use crate::web::pages::{FormErrors, PageCtx, flash, render, see_other};
use crate::web::view::Ts;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/portal/billing").get(page).post(save));
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
    form: CompanyDetails,
    errors: FormErrors,
    subscriptions: Vec<SubscriptionLine>,
    invoices: Vec<DocLine>,
    receipts: Vec<DocLine>,
}

async fn page(
    state: web::Data<AppState>,
    user: CustomerUser,
    ctx: PageCtx,
) -> AppResult<HttpResponse> {
    show(&state, &user, ctx, None, FormErrors::default()).await
}

/// The customer's own company details: name, billing address, GSTIN (the contact e-mail is
/// staff's to change).
async fn save(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: CustomerUser,
    ctx: PageCtx,
    Form(form): Form<CompanyDetails>,
) -> AppResult<HttpResponse> {
    let id = user.user.customer_id.clone().ok_or(AppError::NotFound)?;
    match FormErrors::from_result(
        customers::update_details(&state.db, &user.actor, &user.scope(), &id, &form).await,
    )? {
        Ok(saved) => {
            let text = if saved.changed {
                "Company details saved. New invoices print them; issued ones stay as they were."
            } else {
                "Nothing changed."
            };
            flash(&req, "success", text);
            Ok(see_other("/portal/billing#company"))
        }
        Err(errors) => show(&state, &user, ctx, Some(form.shown_again()), errors).await,
    }
}

async fn show(
    state: &AppState,
    user: &CustomerUser,
    ctx: PageCtx,
    form: Option<CompanyDetails>,
    errors: FormErrors,
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
    let status = if errors.any() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    render(
        status,
        &BillingPage {
            ctx,
            form: form.unwrap_or_else(|| CompanyDetails::of(&customer)),
            errors,
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
