//! Phase-1 payments, invoices and receipts under `/api/v1` (paths and shapes kept for old
//! clients; differences are listed in docs/phase1-compat.md). The customer always comes from the
//! principal: a `customer_id` in a body, query or path must be the caller's own (else 404), or,
//! for staff, names the customer acted for.
//!
//! Statements per request, besides the principal: checkout 1 read (idempotency) + 1 transaction
//! (or 1 read when replayed); a subscription 1; a list 1; cancel/undo 1 transaction; the
//! period-end pass 1 read per 200 due + 1 transaction per change; an invoice or receipt 1.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use super::acting::{customer_for, require_write};
use super::auth::{Admin, SignedIn};
use crate::domain::actor::Scope;
use crate::error::{AppError, AppResult, Violation};
use crate::service::checkout::{self, CheckoutRequest};
use crate::service::{billing, subscriptions};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/payments/config").get(config))
        .service(web::resource("/payments/coupon/checkout").post(coupon_checkout))
        .service(
            web::resource("/payments/subscriptions/process-period-end").post(process_period_end),
        )
        .service(
            web::resource("/payments/subscriptions/by-customer/{customer_id}")
                .get(subscriptions_by_customer),
        )
        .service(web::resource("/payments/subscriptions/{id}").get(subscription))
        .service(web::resource("/payments/subscriptions/{id}/cancel").post(cancel))
        .service(web::resource("/payments/subscriptions/{id}/undo-cancel").post(undo_cancel))
        .service(web::resource("/invoices").get(invoices))
        .service(web::resource("/invoices/by-order/{order_id}").get(invoice_by_order))
        .service(web::resource("/invoices/{id}").get(invoice))
        .service(web::resource("/invoices/{id}/html").get(invoice_html))
        .service(web::resource("/receipts").get(receipts))
        .service(web::resource("/receipts/by-order/{order_id}").get(receipt_by_order))
        .service(web::resource("/receipts/{id}").get(receipt))
        .service(web::resource("/receipts/{id}/html").get(receipt_html));
}

/// `?customer_id=`, accepted for compatibility.
#[derive(Deserialize, Default)]
struct CustomerQuery {
    customer_id: Option<String>,
}

/// A JSON body as `T`, or a 422 naming what is wrong with it.
fn body_as<T: serde::de::DeserializeOwned>(body: Value) -> AppResult<T> {
    serde_json::from_value(body)
        .map_err(|e| AppError::invalid(vec![Violation::new("body", e.to_string())]))
}

/// The scope of a read, narrowed by a `customer_id` the caller gave (its own, or any for staff).
fn read_scope(user: &SignedIn, named: Option<&str>) -> AppResult<Scope> {
    let scope = user.scope();
    match (named.map(str::trim).filter(|c| !c.is_empty()), &scope) {
        (Some(named), Scope::Customer(own)) if named != own => Err(AppError::NotFound),
        (Some(named), Scope::Staff) => Ok(Scope::Customer(named.to_string())),
        _ => Ok(scope),
    }
}

/// `{mode, coupon_code, coupon_unlimited}` (reference §6.1).
async fn config(state: web::Data<AppState>, _user: SignedIn) -> AppResult<HttpResponse> {
    let b = &state.settings.billing;
    Ok(HttpResponse::Ok().json(json!({
        "mode": b.payments_mode.as_str(),
        "coupon_code": b.coupon_code,
        "coupon_unlimited": true,
    })))
}

#[derive(Deserialize)]
struct CheckoutBody {
    coupon_code: String,
    duration: String,
    #[serde(default)]
    agent_id: Option<String>,
    #[serde(default)]
    agent_type_id: Option<String>,
    #[serde(default)]
    customer_id: Option<String>,
    #[serde(default)]
    gstin: Option<String>,
}

async fn coupon_checkout(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: SignedIn,
    body: web::Json<Value>,
) -> AppResult<HttpResponse> {
    let body: CheckoutBody = body_as(body.into_inner())?;
    let (customer_id, actor) = customer_for(&user, &user.actor, body.customer_id.as_deref(), true)?;
    // A header value that is not visible ASCII fails the key's own check.
    let key = req
        .headers()
        .get("Idempotency-Key")
        .map(|v| v.to_str().unwrap_or("\u{0}").to_string());
    // A customer principal names a customer that exists; staff may name one that does not.
    if user.scope().is_staff() {
        crate::service::customers::get(&state.db, &Scope::Staff, &customer_id).await?;
    }
    let done = checkout::checkout(
        &state.db,
        &state.settings.billing,
        &actor,
        &customer_id,
        &CheckoutRequest {
            coupon_code: body.coupon_code,
            agent_id: body.agent_id,
            agent_type_id: body.agent_type_id,
            duration: body.duration,
            gstin: body.gstin,
            idempotency_key: key,
        },
    )
    .await?;
    let mut res = HttpResponse::Ok();
    if done.replayed {
        res.insert_header(("Idempotent-Replayed", "true"));
    }
    Ok(res.json(done.response))
}

async fn subscription(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<String>,
    q: web::Query<CustomerQuery>,
) -> AppResult<HttpResponse> {
    let scope = read_scope(&user, q.customer_id.as_deref())?;
    let sub = subscriptions::get(
        &state.db,
        &state.settings.billing,
        &scope,
        &path,
        user.actor.now,
    )
    .await?;
    Ok(HttpResponse::Ok().json(subscriptions::to_json(&sub, &state.settings.billing)))
}

async fn subscriptions_by_customer(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let scope = read_scope(&user, Some(&path))?;
    let list = subscriptions::of_customer(&state.db, &scope, &path).await?;
    let b = &state.settings.billing;
    Ok(HttpResponse::Ok().json(
        list.iter()
            .map(|s| subscriptions::to_json(s, b))
            .collect::<Vec<_>>(),
    ))
}

async fn set_cancel(
    state: web::Data<AppState>,
    user: SignedIn,
    id: &str,
    named: Option<&str>,
    cancel: bool,
) -> AppResult<HttpResponse> {
    require_write(&user)?;
    let scope = read_scope(&user, named)?;
    let sub = subscriptions::set_cancel(
        &state.db,
        &state.settings.billing,
        &user.actor,
        &scope,
        id,
        cancel,
    )
    .await?;
    let mut doc = subscriptions::to_json(&sub, &state.settings.billing);
    if cancel {
        doc["effective_at"] = json!(sub.current_period_end);
    }
    Ok(HttpResponse::Ok().json(doc))
}

async fn cancel(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<String>,
    q: web::Query<CustomerQuery>,
) -> AppResult<HttpResponse> {
    set_cancel(state, user, &path, q.customer_id.as_deref(), true).await
}

async fn undo_cancel(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<String>,
    q: web::Query<CustomerQuery>,
) -> AppResult<HttpResponse> {
    set_cancel(state, user, &path, q.customer_id.as_deref(), false).await
}

#[derive(Deserialize, Default)]
struct PeriodEndBody {
    now: Option<DateTime<Utc>>,
}

/// Admin: one period-end pass now (or as of `now`). Answers `{processed, canceled, renewed, now}`.
async fn process_period_end(
    state: web::Data<AppState>,
    admin: Admin,
    body: Option<web::Json<Value>>,
) -> AppResult<HttpResponse> {
    let body: PeriodEndBody = match body {
        Some(b) if !b.is_null() => body_as(b.into_inner())?,
        _ => PeriodEndBody::default(),
    };
    let mut actor = admin.actor.clone();
    if let Some(now) = body.now {
        actor.now = now;
    }
    let report =
        subscriptions::process_period_end(&state.db, &state.settings.billing, &actor).await?;
    Ok(HttpResponse::Ok().json(report))
}

async fn invoices(
    state: web::Data<AppState>,
    user: SignedIn,
    q: web::Query<CustomerQuery>,
) -> AppResult<HttpResponse> {
    let scope = read_scope(&user, q.customer_id.as_deref())?;
    let list = billing::invoices(&state.db, &scope, None).await?;
    Ok(HttpResponse::Ok()
        .json(json!({"invoices": list.iter().map(billing::invoice_json).collect::<Vec<_>>()})))
}

async fn invoice(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<String>,
    q: web::Query<CustomerQuery>,
) -> AppResult<HttpResponse> {
    let scope = read_scope(&user, q.customer_id.as_deref())?;
    let i = billing::invoice(&state.db, &scope, &path).await?;
    Ok(HttpResponse::Ok().json(billing::invoice_json(&i)))
}

async fn invoice_by_order(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<String>,
    q: web::Query<CustomerQuery>,
) -> AppResult<HttpResponse> {
    let scope = read_scope(&user, q.customer_id.as_deref())?;
    let i = billing::invoice_by_order(&state.db, &scope, &path).await?;
    Ok(HttpResponse::Ok().json(billing::invoice_json(&i)))
}

async fn invoice_html(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<String>,
    q: web::Query<CustomerQuery>,
) -> AppResult<HttpResponse> {
    let scope = read_scope(&user, q.customer_id.as_deref())?;
    let i = billing::invoice(&state.db, &scope, &path).await?;
    super::billing_docs::invoice_download(&i, &state.settings.billing)
}

async fn receipts(
    state: web::Data<AppState>,
    user: SignedIn,
    q: web::Query<CustomerQuery>,
) -> AppResult<HttpResponse> {
    let scope = read_scope(&user, q.customer_id.as_deref())?;
    let list = billing::receipts(&state.db, &scope, None).await?;
    Ok(HttpResponse::Ok()
        .json(json!({"receipts": list.iter().map(billing::receipt_json).collect::<Vec<_>>()})))
}

async fn receipt(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<String>,
    q: web::Query<CustomerQuery>,
) -> AppResult<HttpResponse> {
    let scope = read_scope(&user, q.customer_id.as_deref())?;
    let r = billing::receipt(&state.db, &scope, &path).await?;
    Ok(HttpResponse::Ok().json(billing::receipt_json(&r)))
}

async fn receipt_by_order(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<String>,
    q: web::Query<CustomerQuery>,
) -> AppResult<HttpResponse> {
    let scope = read_scope(&user, q.customer_id.as_deref())?;
    let r = billing::receipt_by_order(&state.db, &scope, &path).await?;
    Ok(HttpResponse::Ok().json(billing::receipt_json(&r)))
}

async fn receipt_html(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<String>,
    q: web::Query<CustomerQuery>,
) -> AppResult<HttpResponse> {
    let scope = read_scope(&user, q.customer_id.as_deref())?;
    let r = billing::receipt(&state.db, &scope, &path).await?;
    super::billing_docs::receipt_download(&r, &state.settings.billing)
}
