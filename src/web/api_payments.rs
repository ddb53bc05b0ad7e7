//! Phase-1 payments, invoices and receipts under `/api/v1` (paths and shapes kept for old
//! clients; differences are listed in docs/phase1-compat.md). The customer always comes from the
//! principal: a `customer_id` in a body, query or path must be the caller's own (else 404), or,
//! for staff, names the customer acted for. Each handler is documented by its `#[utoipa::path]`
//! annotation and served from it (see `openapi`).
//!
//! Statements per request, besides the principal: checkout 1 read (idempotency) + 1 transaction
//! (or 1 read when replayed); a subscription 1; a list 1; cancel/undo 1 transaction; the
//! period-end pass 1 read per 200 due + 1 transaction per change; an invoice or receipt 1.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::acting::{existing_customer_for, require_write};
use super::auth::{Admin, SignedIn};
use super::body::json_as;
use super::openapi::{BadRequest, Conflict, Endpoint, Gone, NotFound, ValidationFailed, endpoints};
use crate::domain::actor::Scope;
use crate::error::{AppError, AppResult};
use crate::service::billing::{self, InvoiceRecord, ReceiptRecord};
use crate::service::checkout::{self, CheckoutRequest, CheckoutResponse};
use crate::service::subscriptions::{self, PeriodEndReport, SubscriptionView};

/// This module's operations; `openapi::scope` serves each where its annotation says.
pub fn endpoints() -> Vec<Endpoint> {
    endpoints![
        config,
        coupon_checkout,
        process_period_end,
        subscriptions_by_customer,
        subscription,
        cancel,
        undo_cancel,
        invoices,
        invoice_by_order,
        invoice,
        invoice_html,
        receipts,
        receipt_by_order,
        receipt,
        receipt_html,
    ]
}

/// `?customer_id=`, accepted for compatibility.
#[derive(Deserialize, Default, IntoParams)]
#[into_params(parameter_in = Query)]
struct CustomerQuery {
    /// Phase 1 named the customer here. A customer's user may give only their own (another
    /// answers 404); staff narrow to one customer.
    customer_id: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
struct SubscriptionPath {
    /// `SUB-…`
    id: String,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
struct CustomerPath {
    /// `CUS-…`: the caller's own customer, or for staff any.
    customer_id: String,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
struct OrderPath {
    /// `ORDER-…`
    order_id: String,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
struct DocumentPath {
    /// The document's id (`INV-ID-…`, `RCT-ID-…`).
    id: String,
}

/// The customer whose list is read: staff must name one (a list of every customer's documents
/// has no end), as Phase 1 required.
fn list_scope(user: &SignedIn, named: Option<&str>) -> AppResult<Scope> {
    match read_scope(user, named)? {
        Scope::Staff => Err(AppError::bad_request(
            crate::error::ErrorCode::CustomerRequired,
            "customer_id is required.",
        )),
        scope => Ok(scope),
    }
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

/// How customers pay (reference §6.1).
#[derive(Serialize, ToSchema)]
struct PaymentsConfig {
    /// `coupon`: the only mode.
    mode: String,
    coupon_code: String,
    /// The coupon can be used any number of times.
    coupon_unlimited: bool,
}

/// The payments mode and the coupon.
#[utoipa::path(
    get,
    path = "/api/v1/payments/config",
    tag = "payments",
    responses((status = 200, description = "The payments mode", body = PaymentsConfig)),
)]
async fn config(state: web::Data<AppState>, _user: SignedIn) -> AppResult<HttpResponse> {
    let b = &state.settings.billing;
    Ok(HttpResponse::Ok().json(PaymentsConfig {
        mode: b.payments_mode.as_str().into(),
        coupon_code: b.coupon_code.clone(),
        coupon_unlimited: true,
    }))
}

/// A coupon checkout, as Phase 1 took it.
#[derive(Deserialize, ToSchema)]
struct CheckoutBody {
    /// The coupon (`WAOOAW100` unless configured otherwise); spaces and case do not matter.
    coupon_code: String,
    #[schema(value_type = crate::domain::billing::Duration)]
    duration: String,
    /// A Phase-1 listing id such as `AGT-TRD-DELTA-001`, stored as given; names the agent type by
    /// its prefix when `agent_type_id` is absent.
    #[serde(default)]
    agent_id: Option<String>,
    /// The agent type to hire; its newest published version is pinned.
    #[serde(default)]
    agent_type_id: Option<String>,
    /// Staff: the customer they act for. Customers: their own or nothing.
    #[serde(default)]
    customer_id: Option<String>,
    /// The customer's GSTIN; saved on the customer when it differs.
    #[serde(default)]
    gstin: Option<String>,
}

/// Hire an agent type with the coupon.
///
/// One transaction creates the order (paid), an active subscription pinned to the type's newest
/// published version, a GST invoice and a receipt. With an `Idempotency-Key` header a repeat
/// answers the first result (header `Idempotent-Replayed: true`); the same key with another body is
/// 409. Refusals: 400 "Invalid coupon code.", "Unsupported duration.", "Invalid GSTIN.",
/// "agent_type_id is required.", "customer_id is required." (staff). Viewers get 403.
#[utoipa::path(
    post,
    path = "/api/v1/payments/coupon/checkout",
    tag = "payments",
    params(("Idempotency-Key" = Option<String>, Header, description = "1 to 200 visible ASCII characters; unique per customer")),
    request_body = CheckoutBody,
    responses(
        (status = 200, description = "The new subscription and its documents", body = CheckoutResponse),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 422, response = ValidationFailed),
    ),
)]
async fn coupon_checkout(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: SignedIn,
    body: web::Json<Value>,
) -> AppResult<HttpResponse> {
    let body: CheckoutBody = json_as(body.into_inner())?;
    let (customer_id, actor) = existing_customer_for(
        &state.db,
        &user,
        &user.actor,
        body.customer_id.as_deref(),
        true,
    )
    .await?;
    // A header value that is not visible ASCII fails the key's own check.
    let key = req
        .headers()
        .get("Idempotency-Key")
        .map(|v| v.to_str().unwrap_or("\u{0}").to_string());
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

/// One subscription.
///
/// 410 once a canceled subscription is past its retention (`AGENTDESK_END_RETENTION_DAYS`).
#[utoipa::path(
    get,
    path = "/api/v1/payments/subscriptions/{id}",
    tag = "payments",
    params(SubscriptionPath, CustomerQuery),
    responses(
        (status = 200, description = "The subscription", body = SubscriptionView),
        (status = 404, response = NotFound),
        (status = 410, response = Gone),
    ),
)]
async fn subscription(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<SubscriptionPath>,
    q: web::Query<CustomerQuery>,
) -> AppResult<HttpResponse> {
    let scope = read_scope(&user, q.customer_id.as_deref())?;
    let b = &state.settings.billing;
    let sub = subscriptions::get(&state.db, b, &scope, &path.id, user.actor.now).await?;
    Ok(HttpResponse::Ok().json(SubscriptionView::of(&sub, b)))
}

/// A customer's subscriptions, the period ending first at the top.
#[utoipa::path(
    get,
    path = "/api/v1/payments/subscriptions/by-customer/{customer_id}",
    tag = "payments",
    params(CustomerPath),
    responses(
        (status = 200, description = "The subscriptions", body = Vec<SubscriptionView>),
        (status = 404, response = NotFound),
    ),
)]
async fn subscriptions_by_customer(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<CustomerPath>,
) -> AppResult<HttpResponse> {
    let scope = read_scope(&user, Some(&path.customer_id))?;
    let list = subscriptions::of_customer(&state.db, &scope, &path.customer_id).await?;
    let b = &state.settings.billing;
    let views: Vec<SubscriptionView> = list.iter().map(|s| SubscriptionView::of(s, b)).collect();
    Ok(HttpResponse::Ok().json(views))
}

async fn set_cancel(
    state: &AppState,
    user: &SignedIn,
    id: &str,
    named: Option<&str>,
    cancel: bool,
) -> AppResult<HttpResponse> {
    require_write(user)?;
    let scope = read_scope(user, named)?;
    let b = &state.settings.billing;
    let sub = subscriptions::set_cancel(&state.db, b, &user.actor, &scope, id, cancel).await?;
    let mut view = SubscriptionView::of(&sub, b);
    if cancel {
        view.effective_at = Some(sub.current_period_end);
    }
    Ok(HttpResponse::Ok().json(view))
}

/// Cancel at the end of the current period.
///
/// Asking again changes nothing. 409 when the subscription has ended (`subscription_not_active`)
/// or its period is over and waits for the job pass (`period_ended`).
#[utoipa::path(
    post,
    path = "/api/v1/payments/subscriptions/{id}/cancel",
    tag = "payments",
    params(SubscriptionPath, CustomerQuery),
    responses(
        (status = 200, description = "The subscription, with `effective_at`", body = SubscriptionView),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 410, response = Gone),
    ),
)]
async fn cancel(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<SubscriptionPath>,
    q: web::Query<CustomerQuery>,
) -> AppResult<HttpResponse> {
    set_cancel(&state, &user, &path.id, q.customer_id.as_deref(), true).await
}

/// Keep a subscription set to cancel (before its period ends).
#[utoipa::path(
    post,
    path = "/api/v1/payments/subscriptions/{id}/undo-cancel",
    tag = "payments",
    params(SubscriptionPath, CustomerQuery),
    responses(
        (status = 200, description = "The subscription", body = SubscriptionView),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 410, response = Gone),
    ),
)]
async fn undo_cancel(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<SubscriptionPath>,
    q: web::Query<CustomerQuery>,
) -> AppResult<HttpResponse> {
    set_cancel(&state, &user, &path.id, q.customer_id.as_deref(), false).await
}

#[derive(Deserialize, Default, ToSchema)]
struct PeriodEndBody {
    /// The moment to process as (default: now).
    now: Option<DateTime<Utc>>,
}

/// One period-end pass: end what is set to cancel, renew the rest.
///
/// Admins only. Each period is processed exactly once, whatever else runs at the same time.
#[utoipa::path(
    post,
    path = "/api/v1/payments/subscriptions/process-period-end",
    tag = "payments",
    request_body(content = Option<PeriodEndBody>, description = "Optional: `{now}`"),
    responses(
        (status = 200, description = "What the pass did", body = PeriodEndReport),
        (status = 422, response = ValidationFailed),
    ),
)]
async fn process_period_end(
    state: web::Data<AppState>,
    admin: Admin,
    body: Option<web::Json<Value>>,
) -> AppResult<HttpResponse> {
    let body: PeriodEndBody = match body {
        Some(b) if !b.is_null() => json_as(b.into_inner())?,
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

#[derive(Serialize, ToSchema)]
struct InvoiceList {
    /// Oldest first.
    invoices: Vec<InvoiceRecord>,
}

#[derive(Serialize, ToSchema)]
struct ReceiptList {
    /// Newest first.
    receipts: Vec<ReceiptRecord>,
}

/// The caller's invoices (staff name the customer with `customer_id`, else 400).
#[utoipa::path(
    get,
    path = "/api/v1/invoices",
    tag = "invoices",
    params(CustomerQuery),
    responses(
        (status = 200, description = "Invoices, oldest first", body = InvoiceList),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
    ),
)]
async fn invoices(
    state: web::Data<AppState>,
    user: SignedIn,
    q: web::Query<CustomerQuery>,
) -> AppResult<HttpResponse> {
    let scope = list_scope(&user, q.customer_id.as_deref())?;
    let list = billing::invoices(&state.db, &scope, None).await?;
    Ok(HttpResponse::Ok().json(InvoiceList {
        invoices: list.iter().map(InvoiceRecord::from).collect(),
    }))
}

/// One invoice.
#[utoipa::path(
    get,
    path = "/api/v1/invoices/{id}",
    tag = "invoices",
    params(DocumentPath, CustomerQuery),
    responses(
        (status = 200, description = "The invoice", body = InvoiceRecord),
        (status = 404, response = NotFound),
    ),
)]
async fn invoice(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<DocumentPath>,
    q: web::Query<CustomerQuery>,
) -> AppResult<HttpResponse> {
    let scope = read_scope(&user, q.customer_id.as_deref())?;
    let i = billing::invoice(&state.db, &scope, &path.id).await?;
    Ok(HttpResponse::Ok().json(InvoiceRecord::from(&i)))
}

/// The invoice of an order.
#[utoipa::path(
    get,
    path = "/api/v1/invoices/by-order/{order_id}",
    tag = "invoices",
    params(OrderPath, CustomerQuery),
    responses(
        (status = 200, description = "The invoice", body = InvoiceRecord),
        (status = 404, response = NotFound),
    ),
)]
async fn invoice_by_order(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<OrderPath>,
    q: web::Query<CustomerQuery>,
) -> AppResult<HttpResponse> {
    let scope = read_scope(&user, q.customer_id.as_deref())?;
    let i = billing::invoice_by_order(&state.db, &scope, &path.order_id).await?;
    Ok(HttpResponse::Ok().json(InvoiceRecord::from(&i)))
}

/// The invoice as a self-contained HTML file (`<number>.html`, an attachment).
#[utoipa::path(
    get,
    path = "/api/v1/invoices/{id}/html",
    tag = "invoices",
    params(DocumentPath, CustomerQuery),
    responses(
        (status = 200, description = "The invoice as HTML", content_type = "text/html", body = String,
            headers(("Content-Disposition" = String, description = "attachment; filename=\"<number>.html\""))),
        (status = 404, response = NotFound),
    ),
)]
async fn invoice_html(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<DocumentPath>,
    q: web::Query<CustomerQuery>,
) -> AppResult<HttpResponse> {
    let scope = read_scope(&user, q.customer_id.as_deref())?;
    let i = billing::invoice(&state.db, &scope, &path.id).await?;
    super::billing_docs::invoice_download(&i, &state.settings.billing)
}

/// The caller's receipts (staff name the customer with `customer_id`, else 400).
#[utoipa::path(
    get,
    path = "/api/v1/receipts",
    tag = "receipts",
    params(CustomerQuery),
    responses(
        (status = 200, description = "Receipts, newest first", body = ReceiptList),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
    ),
)]
async fn receipts(
    state: web::Data<AppState>,
    user: SignedIn,
    q: web::Query<CustomerQuery>,
) -> AppResult<HttpResponse> {
    let scope = list_scope(&user, q.customer_id.as_deref())?;
    let list = billing::receipts(&state.db, &scope, None).await?;
    Ok(HttpResponse::Ok().json(ReceiptList {
        receipts: list.iter().map(ReceiptRecord::from).collect(),
    }))
}

/// One receipt.
#[utoipa::path(
    get,
    path = "/api/v1/receipts/{id}",
    tag = "receipts",
    params(DocumentPath, CustomerQuery),
    responses(
        (status = 200, description = "The receipt", body = ReceiptRecord),
        (status = 404, response = NotFound),
    ),
)]
async fn receipt(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<DocumentPath>,
    q: web::Query<CustomerQuery>,
) -> AppResult<HttpResponse> {
    let scope = read_scope(&user, q.customer_id.as_deref())?;
    let r = billing::receipt(&state.db, &scope, &path.id).await?;
    Ok(HttpResponse::Ok().json(ReceiptRecord::from(&r)))
}

/// The receipt of an order.
#[utoipa::path(
    get,
    path = "/api/v1/receipts/by-order/{order_id}",
    tag = "receipts",
    params(OrderPath, CustomerQuery),
    responses(
        (status = 200, description = "The receipt", body = ReceiptRecord),
        (status = 404, response = NotFound),
    ),
)]
async fn receipt_by_order(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<OrderPath>,
    q: web::Query<CustomerQuery>,
) -> AppResult<HttpResponse> {
    let scope = read_scope(&user, q.customer_id.as_deref())?;
    let r = billing::receipt_by_order(&state.db, &scope, &path.order_id).await?;
    Ok(HttpResponse::Ok().json(ReceiptRecord::from(&r)))
}

/// The receipt as a self-contained HTML file (`<number>.html`, an attachment).
#[utoipa::path(
    get,
    path = "/api/v1/receipts/{id}/html",
    tag = "receipts",
    params(DocumentPath, CustomerQuery),
    responses(
        (status = 200, description = "The receipt as HTML", content_type = "text/html", body = String,
            headers(("Content-Disposition" = String, description = "attachment; filename=\"<number>.html\""))),
        (status = 404, response = NotFound),
    ),
)]
async fn receipt_html(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<DocumentPath>,
    q: web::Query<CustomerQuery>,
) -> AppResult<HttpResponse> {
    let scope = read_scope(&user, q.customer_id.as_deref())?;
    let r = billing::receipt(&state.db, &scope, &path.id).await?;
    super::billing_docs::receipt_download(&r, &state.settings.billing)
}
