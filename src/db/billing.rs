//! Orders, invoices, receipts and their per-day counters. Invoices and receipts are append-only:
//! the database refuses to change or remove them.

use chrono::{DateTime, Utc};

use super::Conn;
use crate::on_conn;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Order {
    pub id: String,
    pub customer_id: String,
    pub subscription_id: String,
    pub kind: String,
    pub payment_provider: String,
    pub coupon_code: Option<String>,
    pub duration: String,
    pub period_start: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
    pub list_amount: i64,
    pub amount: i64,
    pub currency: String,
    pub status: String,
    pub created_at: DateTime<Utc>,
}

const ORDER_COLUMNS: &str = "id, customer_id, subscription_id, kind, payment_provider, coupon_code, duration, \
    period_start, period_end, list_amount, amount, currency, status, created_at";

/// Inserts a paid order; false when the subscription already has an order for this period.
pub async fn insert_order(c: Conn<'_>, o: &Order) -> sqlx::Result<bool> {
    let n = crate::execute!(c, sqlx::query(
        "INSERT INTO orders (id, customer_id, subscription_id, kind, payment_provider, coupon_code, duration, \
         period_start, period_end, list_amount, amount, currency, status, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
         ON CONFLICT (subscription_id, period_start) DO NOTHING")
        .bind(&o.id).bind(&o.customer_id).bind(&o.subscription_id).bind(&o.kind).bind(&o.payment_provider)
        .bind(&o.coupon_code).bind(&o.duration).bind(o.period_start).bind(o.period_end).bind(o.list_amount)
        .bind(o.amount).bind(&o.currency).bind(&o.status).bind(o.created_at))?;
    Ok(n == 1)
}

/// Orders of a customer (or, with `subscription`, of one subscription), newest first.
pub async fn orders(
    c: Conn<'_>,
    customer_id: &str,
    subscription: Option<&str>,
) -> sqlx::Result<Vec<Order>> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {ORDER_COLUMNS} FROM orders WHERE customer_id = $1 AND ($2 IS NULL OR subscription_id = $2) \
         ORDER BY created_at DESC, id DESC"
    ));
    on_conn!(c, e => sqlx::query_as(sql).bind(customer_id).bind(subscription).fetch_all(e).await)
}

/// The next number of a kind of document on a billing day. Runs inside the issuing transaction:
/// the counter row stays locked until it commits, and a rollback gives the number back, so the
/// numbers have no gaps and no duplicates however many checkouts run at once.
pub async fn next_number(c: Conn<'_>, kind: &str, day: &str) -> sqlx::Result<i64> {
    on_conn!(c, e => sqlx::query_scalar(
        "INSERT INTO document_counters (kind, day, last) VALUES ($1, $2, 1) \
         ON CONFLICT (kind, day) DO UPDATE SET last = document_counters.last + 1 RETURNING last")
        .bind(kind).bind(day).fetch_one(e).await)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Invoice {
    pub id: String,
    pub number: String,
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
    pub description: String,
    pub period_start: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
    pub subtotal_amount: i64,
    pub discount_amount: i64,
    pub taxable_amount: i64,
    pub cgst_amount: i64,
    pub sgst_amount: i64,
    pub igst_amount: i64,
    pub total_amount: i64,
    pub tax_type: String,
    pub created_at: DateTime<Utc>,
}

const INVOICE_COLUMNS: &str = "id, number, customer_id, order_id, subscription_id, currency, seller_legal_name, seller_gstin, \
    seller_state_code, customer_business_name, customer_business_address, customer_gstin, customer_state_code, description, \
    period_start, period_end, subtotal_amount, discount_amount, taxable_amount, cgst_amount, sgst_amount, igst_amount, \
    total_amount, tax_type, created_at";

pub async fn insert_invoice(c: Conn<'_>, i: &Invoice) -> sqlx::Result<()> {
    let sql = sqlx::AssertSqlSafe(format!(
        "INSERT INTO invoices ({INVOICE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, \
         $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25)"
    ));
    crate::execute!(
        c,
        sqlx::query(sql)
            .bind(&i.id)
            .bind(&i.number)
            .bind(&i.customer_id)
            .bind(&i.order_id)
            .bind(&i.subscription_id)
            .bind(&i.currency)
            .bind(&i.seller_legal_name)
            .bind(&i.seller_gstin)
            .bind(&i.seller_state_code)
            .bind(&i.customer_business_name)
            .bind(&i.customer_business_address)
            .bind(&i.customer_gstin)
            .bind(&i.customer_state_code)
            .bind(&i.description)
            .bind(i.period_start)
            .bind(i.period_end)
            .bind(i.subtotal_amount)
            .bind(i.discount_amount)
            .bind(i.taxable_amount)
            .bind(i.cgst_amount)
            .bind(i.sgst_amount)
            .bind(i.igst_amount)
            .bind(i.total_amount)
            .bind(&i.tax_type)
            .bind(i.created_at)
    )?;
    Ok(())
}

/// Which invoices or receipts to read.
pub enum Filter<'a> {
    Id(&'a str),
    Order(&'a str),
    Subscription(&'a str),
    Customer,
}

impl Filter<'_> {
    fn clause(&self) -> &'static str {
        match self {
            Filter::Id(_) => "id = $2",
            Filter::Order(_) => "order_id = $2",
            Filter::Subscription(_) => "subscription_id = $2",
            Filter::Customer => "$2 IS NULL",
        }
    }
    fn value(&self) -> Option<&str> {
        match self {
            Filter::Id(v) | Filter::Order(v) | Filter::Subscription(v) => Some(v),
            Filter::Customer => None,
        }
    }
}

/// The customer condition, as its own statement text per case: a catch-all `($1 IS NULL OR …)`
/// would get one generic plan on PostgreSQL for both.
fn customer_clause(customer: Option<&str>) -> &'static str {
    if customer.is_some() {
        "customer_id = $1"
    } else {
        "$1 IS NULL"
    }
}

/// Invoices matching `filter`, of one customer (`None`: any customer, for staff), oldest first.
pub async fn invoices(
    c: Conn<'_>,
    customer: Option<&str>,
    filter: Filter<'_>,
) -> sqlx::Result<Vec<Invoice>> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {INVOICE_COLUMNS} FROM invoices WHERE {} AND {} ORDER BY created_at, number",
        customer_clause(customer),
        filter.clause()
    ));
    on_conn!(c, e => sqlx::query_as(sql).bind(customer).bind(filter.value()).fetch_all(e).await)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Receipt {
    pub id: String,
    pub number: String,
    pub customer_id: String,
    pub order_id: String,
    pub subscription_id: String,
    pub currency: String,
    pub description: String,
    pub total_amount: i64,
    pub payment_status: String,
    pub created_at: DateTime<Utc>,
}

const RECEIPT_COLUMNS: &str = "id, number, customer_id, order_id, subscription_id, currency, description, total_amount, payment_status, created_at";

pub async fn insert_receipt(c: Conn<'_>, r: &Receipt) -> sqlx::Result<()> {
    let sql = sqlx::AssertSqlSafe(format!(
        "INSERT INTO receipts ({RECEIPT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
    ));
    crate::execute!(
        c,
        sqlx::query(sql)
            .bind(&r.id)
            .bind(&r.number)
            .bind(&r.customer_id)
            .bind(&r.order_id)
            .bind(&r.subscription_id)
            .bind(&r.currency)
            .bind(&r.description)
            .bind(r.total_amount)
            .bind(&r.payment_status)
            .bind(r.created_at)
    )?;
    Ok(())
}

/// Receipts matching `filter`, of one customer (`None`: any), newest first (as Phase 1 listed them).
pub async fn receipts(
    c: Conn<'_>,
    customer: Option<&str>,
    filter: Filter<'_>,
) -> sqlx::Result<Vec<Receipt>> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {RECEIPT_COLUMNS} FROM receipts WHERE {} AND {} ORDER BY created_at DESC, number DESC",
        customer_clause(customer),
        filter.clause()
    ));
    on_conn!(c, e => sqlx::query_as(sql).bind(customer).bind(filter.value()).fetch_all(e).await)
}
