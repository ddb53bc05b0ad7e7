//! Invoices and receipts for people: a printable page (the print stylesheet makes it one A4 page
//! without navigation) and a self-contained HTML download, for customers in `/portal` and staff in
//! `/admin`. The JSON shapes are in `api_payments`.
//!
//! Statements per request, besides the session: 1 (the document, within the viewer's scope).

use actix_web::http::StatusCode;
use actix_web::http::header::{self, ContentDisposition, DispositionParam, DispositionType};
use actix_web::{HttpResponse, web};
use askama::Template;

use super::AppState;
use super::auth::{CustomerUser, StaffReader};
use super::pages::{PageCtx, render};
use crate::domain::actor::Scope;
use crate::domain::billing::gst::{TaxType, tax_lines};
use crate::domain::billing::money::inr;
use crate::domain::billing::settings::BillingSettings;
use crate::error::{AppError, AppResult};
use crate::service::billing::{self, Invoice, Receipt};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/portal/invoices/{id}").get(portal_invoice))
        .service(web::resource("/portal/invoices/{id}/download").get(portal_invoice_download))
        .service(web::resource("/portal/receipts/{id}").get(portal_receipt))
        .service(web::resource("/portal/receipts/{id}/download").get(portal_receipt_download))
        .service(web::resource("/admin/invoices/{id}").get(admin_invoice))
        .service(web::resource("/admin/invoices/{id}/download").get(admin_invoice_download))
        .service(web::resource("/admin/receipts/{id}").get(admin_receipt))
        .service(web::resource("/admin/receipts/{id}/download").get(admin_receipt_download));
}

/// The state a GST state code names, for people ("27 · Maharashtra").
pub fn state_label(code: &str) -> String {
    match crate::domain::gstin::state_name(code) {
        Some(name) => format!("{code} · {name}"),
        None => code.to_string(),
    }
}

/// An invoice as printed: every amount already in rupees.
pub struct InvoiceDoc {
    pub id: String,
    pub number: String,
    pub date: String,
    pub seller_name: String,
    pub seller_gstin: Option<String>,
    pub seller_state: String,
    pub customer_name: String,
    pub customer_address: Option<String>,
    pub customer_gstin: Option<String>,
    pub customer_state: Option<String>,
    pub description: String,
    pub period: String,
    pub subscription_id: String,
    pub order_id: String,
    pub subtotal: String,
    pub discount: String,
    pub taxable: String,
    /// (label, amount) of each tax line.
    pub taxes: Vec<(String, String)>,
    pub total: String,
    pub tax_note: &'static str,
}

fn day(at: chrono::DateTime<chrono::Utc>, b: &BillingSettings) -> String {
    at.with_timezone(&b.timezone)
        .format("%-d %b %Y")
        .to_string()
}

impl InvoiceDoc {
    pub fn new(i: &Invoice, b: &BillingSettings) -> Self {
        let tax_type = TaxType::parse(&i.tax_type).unwrap_or(TaxType::None);
        let taxes = tax_lines(tax_type, i.cgst_amount, i.sgst_amount, i.igst_amount)
            .into_iter()
            .map(|(label, paise)| (label.to_string(), inr(paise)))
            .collect();
        InvoiceDoc {
            id: i.id.clone(),
            number: i.number.clone(),
            date: day(i.created_at, b),
            seller_name: i.seller_legal_name.clone(),
            seller_gstin: i.seller_gstin.clone(),
            seller_state: state_label(&i.seller_state_code),
            customer_name: i.customer_business_name.clone(),
            customer_address: i.customer_business_address.clone(),
            customer_gstin: i.customer_gstin.clone(),
            customer_state: i.customer_state_code.as_deref().map(state_label),
            description: i.description.clone(),
            period: format!("{} – {}", day(i.period_start, b), day(i.period_end, b)),
            subscription_id: i.subscription_id.clone(),
            order_id: i.order_id.clone(),
            subtotal: inr(i.subtotal_amount),
            discount: inr(i.discount_amount),
            taxable: inr(i.taxable_amount),
            taxes,
            total: inr(i.total_amount),
            tax_note: match tax_type {
                TaxType::CgstSgst => "Intra-state supply: CGST and SGST at 9 % each.",
                TaxType::Igst => "Inter-state supply: IGST at 18 %.",
                TaxType::None => "No GST charged: the customer has no GSTIN on record.",
            },
        }
    }
}

pub struct ReceiptDoc {
    pub id: String,
    pub number: String,
    pub date: String,
    pub seller_name: String,
    pub customer_id: String,
    pub description: String,
    pub order_id: String,
    pub subscription_id: String,
    pub total: String,
    pub payment_status: String,
}

impl ReceiptDoc {
    pub fn new(r: &Receipt, b: &BillingSettings) -> Self {
        ReceiptDoc {
            id: r.id.clone(),
            number: r.number.clone(),
            date: day(r.created_at, b),
            seller_name: b.seller_legal_name.clone(),
            customer_id: r.customer_id.clone(),
            description: r.description.clone(),
            order_id: r.order_id.clone(),
            subscription_id: r.subscription_id.clone(),
            total: inr(r.total_amount),
            payment_status: r.payment_status.clone(),
        }
    }
}

#[derive(Template)]
#[template(path = "billing/invoice.html")]
struct InvoicePage {
    ctx: PageCtx,
    doc: InvoiceDoc,
    base: &'static str,
}

#[derive(Template)]
#[template(path = "billing/invoice_download.html")]
struct InvoiceDownload {
    doc: InvoiceDoc,
}

#[derive(Template)]
#[template(path = "billing/receipt.html")]
struct ReceiptPage {
    ctx: PageCtx,
    doc: ReceiptDoc,
    base: &'static str,
}

#[derive(Template)]
#[template(path = "billing/receipt_download.html")]
struct ReceiptDownload {
    doc: ReceiptDoc,
}

fn attachment(number: &str, html: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header(ContentDisposition {
            disposition: DispositionType::Attachment,
            parameters: vec![DispositionParam::Filename(format!("{number}.html"))],
        })
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .body(html)
}

fn rendered<T: Template>(t: &T) -> AppResult<String> {
    t.render()
        .map_err(|e| AppError::Internal(anyhow::anyhow!("template: {e}")))
}

/// The invoice as a file of its own (`<number>.html`).
pub fn invoice_download(i: &Invoice, b: &BillingSettings) -> AppResult<HttpResponse> {
    Ok(attachment(
        &i.number,
        rendered(&InvoiceDownload {
            doc: InvoiceDoc::new(i, b),
        })?,
    ))
}

pub fn receipt_download(r: &Receipt, b: &BillingSettings) -> AppResult<HttpResponse> {
    Ok(attachment(
        &r.number,
        rendered(&ReceiptDownload {
            doc: ReceiptDoc::new(r, b),
        })?,
    ))
}

async fn show_invoice(
    state: &AppState,
    ctx: PageCtx,
    scope: &Scope,
    id: &str,
    base: &'static str,
) -> AppResult<HttpResponse> {
    let i = billing::invoice(&state.db, scope, id).await?;
    render(
        StatusCode::OK,
        &InvoicePage {
            ctx,
            doc: InvoiceDoc::new(&i, &state.settings.billing),
            base,
        },
    )
}

async fn show_receipt(
    state: &AppState,
    ctx: PageCtx,
    scope: &Scope,
    id: &str,
    base: &'static str,
) -> AppResult<HttpResponse> {
    let r = billing::receipt(&state.db, scope, id).await?;
    render(
        StatusCode::OK,
        &ReceiptPage {
            ctx,
            doc: ReceiptDoc::new(&r, &state.settings.billing),
            base,
        },
    )
}

async fn portal_invoice(
    state: web::Data<AppState>,
    user: CustomerUser,
    ctx: PageCtx,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    show_invoice(&state, ctx, &user.scope(), &id, "/portal").await
}

async fn admin_invoice(
    state: web::Data<AppState>,
    user: StaffReader,
    ctx: PageCtx,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    show_invoice(&state, ctx, &user.scope(), &id, "/admin").await
}

async fn portal_receipt(
    state: web::Data<AppState>,
    user: CustomerUser,
    ctx: PageCtx,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    show_receipt(&state, ctx, &user.scope(), &id, "/portal").await
}

async fn admin_receipt(
    state: web::Data<AppState>,
    user: StaffReader,
    ctx: PageCtx,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    show_receipt(&state, ctx, &user.scope(), &id, "/admin").await
}

async fn portal_invoice_download(
    state: web::Data<AppState>,
    user: CustomerUser,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let i = billing::invoice(&state.db, &user.scope(), &id).await?;
    invoice_download(&i, &state.settings.billing)
}

async fn admin_invoice_download(
    state: web::Data<AppState>,
    user: StaffReader,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let i = billing::invoice(&state.db, &user.scope(), &id).await?;
    invoice_download(&i, &state.settings.billing)
}

async fn portal_receipt_download(
    state: web::Data<AppState>,
    user: CustomerUser,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let r = billing::receipt(&state.db, &user.scope(), &id).await?;
    receipt_download(&r, &state.settings.billing)
}

async fn admin_receipt_download(
    state: web::Data<AppState>,
    user: StaffReader,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let r = billing::receipt(&state.db, &user.scope(), &id).await?;
    receipt_download(&r, &state.settings.billing)
}
