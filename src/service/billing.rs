//! Invoices, receipts and orders, read within a scope (another customer's are "not found").

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::db::Db;
use crate::db::billing::{self, Filter};
use crate::domain::actor::Scope;
use crate::domain::billing::gst::TaxType;
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

/// One line of a document.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LineItem {
    pub description: String,
    pub quantity: i64,
    /// Paise.
    pub unit_amount: i64,
}

/// The Phase-1 invoice record; every amount in paise.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct InvoiceRecord {
    #[schema(example = "INV-ID-5f0c…")]
    pub invoice_id: String,
    #[schema(example = "INV-20261130-0001")]
    pub invoice_number: String,
    pub created_at: DateTime<Utc>,
    pub customer_id: String,
    pub order_id: String,
    pub subscription_id: String,
    pub currency: String,
    pub seller_legal_name: String,
    pub seller_gstin: Option<String>,
    pub seller_state_code: String,
    pub customer_business_name: String,
    pub customer_business_address: Option<String>,
    pub customer_gstin: Option<String>,
    pub customer_state_code: Option<String>,
    /// The list price.
    pub subtotal_amount: i64,
    /// The coupon's discount.
    pub discount_amount: i64,
    /// `subtotal_amount - discount_amount`.
    pub taxable_amount: i64,
    pub cgst_amount: i64,
    pub sgst_amount: i64,
    pub igst_amount: i64,
    /// `taxable_amount` plus the taxes.
    pub total_amount: i64,
    /// Always `GST`.
    pub tax_regime: String,
    #[schema(value_type = TaxType)]
    pub tax_type: String,
    pub period_start: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
    pub items: Vec<LineItem>,
}

impl From<&Invoice> for InvoiceRecord {
    fn from(i: &Invoice) -> Self {
        InvoiceRecord {
            invoice_id: i.id.clone(),
            invoice_number: i.number.clone(),
            created_at: i.created_at,
            customer_id: i.customer_id.clone(),
            order_id: i.order_id.clone(),
            subscription_id: i.subscription_id.clone(),
            currency: i.currency.clone(),
            seller_legal_name: i.seller_legal_name.clone(),
            seller_gstin: i.seller_gstin.clone(),
            seller_state_code: i.seller_state_code.clone(),
            customer_business_name: i.customer_business_name.clone(),
            customer_business_address: i.customer_business_address.clone(),
            customer_gstin: i.customer_gstin.clone(),
            customer_state_code: i.customer_state_code.clone(),
            subtotal_amount: i.subtotal_amount,
            discount_amount: i.discount_amount,
            taxable_amount: i.taxable_amount,
            cgst_amount: i.cgst_amount,
            sgst_amount: i.sgst_amount,
            igst_amount: i.igst_amount,
            total_amount: i.total_amount,
            tax_regime: "GST".into(),
            tax_type: i.tax_type.clone(),
            period_start: i.period_start,
            period_end: i.period_end,
            items: vec![LineItem {
                description: i.description.clone(),
                quantity: 1,
                unit_amount: i.subtotal_amount,
            }],
        }
    }
}

/// The Phase-1 receipt record; amounts in paise.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReceiptRecord {
    #[schema(example = "RCT-ID-5f0c…")]
    pub receipt_id: String,
    #[schema(example = "RCT-20261130-0001")]
    pub receipt_number: String,
    pub created_at: DateTime<Utc>,
    pub customer_id: String,
    pub order_id: String,
    pub subscription_id: String,
    pub currency: String,
    pub total_amount: i64,
    /// Always `paid`.
    pub payment_status: String,
    pub items: Vec<LineItem>,
}

impl From<&Receipt> for ReceiptRecord {
    fn from(r: &Receipt) -> Self {
        ReceiptRecord {
            receipt_id: r.id.clone(),
            receipt_number: r.number.clone(),
            created_at: r.created_at,
            customer_id: r.customer_id.clone(),
            order_id: r.order_id.clone(),
            subscription_id: r.subscription_id.clone(),
            currency: r.currency.clone(),
            total_amount: r.total_amount,
            payment_status: r.payment_status.clone(),
            items: vec![LineItem {
                description: r.description.clone(),
                quantity: 1,
                unit_amount: r.total_amount,
            }],
        }
    }
}
