//! Invoices, receipts and orders, read within a scope (another customer's are "not found").

use serde_json::{Value, json};

use crate::db::Db;
use crate::db::billing::{self, Filter};
use crate::domain::actor::Scope;
use crate::error::{AppError, AppResult};

pub use crate::db::billing::{Invoice, Order, Receipt};

/// Which customer's documents: a customer's own, or for staff the one they name (`None`: all).
fn customer<'a>(scope: &'a Scope, named: Option<&'a str>) -> Option<&'a str> {
    scope.customer().or(named)
}

pub async fn invoices(db: &Db, scope: &Scope, named: Option<&str>) -> AppResult<Vec<Invoice>> {
    let mut c = db.acquire().await?;
    Ok(billing::invoices(c.conn(), customer(scope, named), Filter::Customer).await?)
}

pub async fn invoice(db: &Db, scope: &Scope, id: &str) -> AppResult<Invoice> {
    let mut c = db.acquire().await?;
    billing::invoices(c.conn(), scope.customer(), Filter::Id(id))
        .await?
        .pop()
        .ok_or(AppError::NotFound)
}

pub async fn invoice_by_order(db: &Db, scope: &Scope, order_id: &str) -> AppResult<Invoice> {
    let mut c = db.acquire().await?;
    billing::invoices(c.conn(), scope.customer(), Filter::Order(order_id))
        .await?
        .pop()
        .ok_or(AppError::NotFound)
}

pub async fn invoices_of_subscription(
    db: &Db,
    scope: &Scope,
    subscription_id: &str,
) -> AppResult<Vec<Invoice>> {
    let mut c = db.acquire().await?;
    Ok(billing::invoices(
        c.conn(),
        scope.customer(),
        Filter::Subscription(subscription_id),
    )
    .await?)
}

pub async fn receipts(db: &Db, scope: &Scope, named: Option<&str>) -> AppResult<Vec<Receipt>> {
    let mut c = db.acquire().await?;
    Ok(billing::receipts(c.conn(), customer(scope, named), Filter::Customer).await?)
}

pub async fn receipt(db: &Db, scope: &Scope, id: &str) -> AppResult<Receipt> {
    let mut c = db.acquire().await?;
    billing::receipts(c.conn(), scope.customer(), Filter::Id(id))
        .await?
        .pop()
        .ok_or(AppError::NotFound)
}

pub async fn receipt_by_order(db: &Db, scope: &Scope, order_id: &str) -> AppResult<Receipt> {
    let mut c = db.acquire().await?;
    billing::receipts(c.conn(), scope.customer(), Filter::Order(order_id))
        .await?
        .pop()
        .ok_or(AppError::NotFound)
}

pub async fn receipts_of_subscription(
    db: &Db,
    scope: &Scope,
    subscription_id: &str,
) -> AppResult<Vec<Receipt>> {
    let mut c = db.acquire().await?;
    Ok(billing::receipts(
        c.conn(),
        scope.customer(),
        Filter::Subscription(subscription_id),
    )
    .await?)
}

pub async fn orders(
    db: &Db,
    scope: &Scope,
    customer_id: &str,
    subscription: Option<&str>,
) -> AppResult<Vec<Order>> {
    if !scope.sees(customer_id) {
        return Err(AppError::NotFound);
    }
    let mut c = db.acquire().await?;
    Ok(billing::orders(c.conn(), customer_id, subscription).await?)
}

/// The Phase-1 invoice record (amounts in paise).
pub fn invoice_json(i: &Invoice) -> Value {
    json!({
        "invoice_id": i.id,
        "invoice_number": i.number,
        "created_at": i.created_at,
        "customer_id": i.customer_id,
        "order_id": i.order_id,
        "subscription_id": i.subscription_id,
        "currency": i.currency,
        "seller_legal_name": i.seller_legal_name,
        "seller_gstin": i.seller_gstin,
        "seller_state_code": i.seller_state_code,
        "customer_business_name": i.customer_business_name,
        "customer_business_address": i.customer_business_address,
        "customer_gstin": i.customer_gstin,
        "customer_state_code": i.customer_state_code,
        "subtotal_amount": i.subtotal_amount,
        "discount_amount": i.discount_amount,
        "taxable_amount": i.taxable_amount,
        "cgst_amount": i.cgst_amount,
        "sgst_amount": i.sgst_amount,
        "igst_amount": i.igst_amount,
        "total_amount": i.total_amount,
        "tax_regime": "GST",
        "tax_type": i.tax_type,
        "period_start": i.period_start,
        "period_end": i.period_end,
        "items": [{"description": i.description, "quantity": 1, "unit_amount": i.subtotal_amount}],
    })
}

/// The Phase-1 receipt record (amounts in paise).
pub fn receipt_json(r: &Receipt) -> Value {
    json!({
        "receipt_id": r.id,
        "receipt_number": r.number,
        "created_at": r.created_at,
        "customer_id": r.customer_id,
        "order_id": r.order_id,
        "subscription_id": r.subscription_id,
        "currency": r.currency,
        "total_amount": r.total_amount,
        "payment_status": r.payment_status,
        "items": [{"description": r.description, "quantity": 1, "unit_amount": r.total_amount}],
    })
}
