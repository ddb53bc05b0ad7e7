//! The hire form, shared by customers (`/portal/hire`) and staff acting for a customer
//! (`/admin/customers/{id}/hire`): pick an agent type and a duration, enter the coupon, review the
//! summary (list price, discount, GST, total), confirm. The summary's form carries a one-time
//! idempotency key, so a double click or a reload creates one subscription.
//!
//! Statements per request, besides the session: the form 1 (published types); the summary 1 + 2
//! (the version, the customer); confirming 1 read + 1 transaction.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::AppState;
use super::acting::customer_for;
use super::auth::{CustomerUser, Staff, StaffWriter};
use super::forms::Form;
use super::pages::{FormErrors, PageCtx, flash, render, see_other};
use crate::domain::actor::Actor;
use crate::domain::billing::Duration;
use crate::domain::billing::money::inr;
use crate::error::{AppError, AppResult, ErrorCode, Violation};
use crate::service::checkout::{self, CheckoutRequest, Quote};
use crate::service::{catalog, customers};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/portal/hire")
            .get(portal_form)
            .post(portal_confirm),
    )
    .service(
        web::resource("/admin/customers/{id}/hire")
            .get(admin_form)
            .post(admin_confirm),
    );
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct HireForm {
    #[serde(default)]
    agent_type_id: String,
    #[serde(default)]
    duration: String,
    #[serde(default)]
    coupon_code: String,
    #[serde(default)]
    idempotency_key: String,
    /// `review` asks for the summary.
    #[serde(default)]
    step: String,
}

impl HireForm {
    fn request(&self, key: Option<String>) -> CheckoutRequest {
        CheckoutRequest {
            coupon_code: self.coupon_code.clone(),
            agent_id: None,
            agent_type_id: Some(self.agent_type_id.clone()),
            duration: self.duration.clone(),
            gstin: None,
            idempotency_key: key,
        }
    }
}

pub struct DurationChoice {
    pub value: &'static str,
    pub label: &'static str,
    pub days: i64,
    pub price: String,
}

pub fn duration_choices() -> Vec<DurationChoice> {
    Duration::ALL
        .into_iter()
        .map(|d| DurationChoice {
            value: d.as_str(),
            label: d.label(),
            days: d.days(),
            price: inr(d.list_price_paise()),
        })
        .collect()
}

/// The summary's lines, in rupees.
pub struct Summary {
    pub display_name: String,
    pub pinned: String,
    pub duration: String,
    pub list: String,
    pub discount: String,
    pub taxable: String,
    pub taxes: Vec<(String, String)>,
    pub total: String,
    pub gst_note: String,
    pub key: String,
}

impl Summary {
    fn new(q: &Quote) -> Self {
        use crate::domain::billing::gst::{TaxType, tax_lines};
        let a = &q.amounts;
        let taxes = tax_lines(a.tax_type, a.cgst_amount, a.sgst_amount, a.igst_amount)
            .into_iter()
            .map(|(label, paise)| (label.to_string(), inr(paise)))
            .collect();
        Summary {
            display_name: q.display_name.clone(),
            pinned: format!("{}@{}", q.agent_type_id, q.agent_type_version),
            duration: format!("{} ({} days)", q.duration.label(), q.duration.days()),
            list: inr(a.subtotal_amount),
            discount: inr(a.discount_amount),
            taxable: inr(a.taxable_amount),
            taxes,
            total: inr(a.total_amount),
            gst_note: match (&q.customer_gstin, a.tax_type) {
                (None, _) => "No GST: there is no GSTIN on the billing details.".into(),
                (Some(g), TaxType::CgstSgst) => {
                    format!("GSTIN {g}: same state as the seller, CGST + SGST.")
                }
                (Some(g), _) => format!("GSTIN {g}: another state than the seller's, IGST."),
            },
            key: uuid::Uuid::new_v4().to_string(),
        }
    }
}

#[derive(Template)]
#[template(path = "hire.html")]
struct HirePage {
    ctx: PageCtx,
    /// Where the form posts (`/portal/hire`, `/admin/customers/{id}/hire`).
    action: String,
    /// Staff: whom they hire for.
    on_behalf: Option<(String, String)>,
    types: Vec<(String, String)>,
    durations: Vec<DurationChoice>,
    form: HireForm,
    errors: FormErrors,
    summary: Option<Summary>,
    /// Why the confirmation did not go through, when it is not a field's fault.
    notice: Option<&'static str>,
}

/// A checkout refusal as a field error, when it belongs to a field.
fn as_form_errors(e: AppError) -> AppResult<FormErrors> {
    if let Some(field) = checkout::field_of(e.code()) {
        let message = e.message().unwrap_or("Check this value.").to_string();
        return Ok(FormErrors(vec![Violation::new(field, message)]));
    }
    match FormErrors::from_result::<()>(Err(e))? {
        Err(errors) => Ok(errors),
        Ok(()) => Ok(FormErrors::default()),
    }
}

async fn page(
    state: &AppState,
    ctx: PageCtx,
    customer_id: &str,
    action: String,
    on_behalf: Option<(String, String)>,
    mut form: HireForm,
) -> AppResult<HttpResponse> {
    let types: Vec<(String, String)> = catalog::newest_versions(&state.db, true)
        .await?
        .into_iter()
        .map(|v| (v.row.agent_type_id.clone(), v.row.display_name.clone()))
        .collect();
    if form.duration.is_empty() {
        form.duration = Duration::Monthly.as_str().into();
    }
    let mut errors = FormErrors::default();
    let mut summary = None;
    if form.step == "review" {
        match checkout::quote(
            &state.db,
            &state.settings.billing,
            customer_id,
            &form.request(None),
        )
        .await
        {
            Ok(q) => summary = Some(Summary::new(&q)),
            Err(e) => errors = as_form_errors(e)?,
        }
    }
    let status = if errors.any() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    render(
        status,
        &HirePage {
            ctx,
            action,
            on_behalf,
            types,
            durations: duration_choices(),
            form,
            errors,
            summary,
            notice: None,
        },
    )
}

/// Where a hire happens: the form's address, whom staff act for, and the area it lands in.
struct Place {
    action: String,
    on_behalf: Option<(String, String)>,
    done_base: &'static str,
}

async fn confirm(
    state: &AppState,
    req: &HttpRequest,
    ctx: PageCtx,
    actor: &Actor,
    customer_id: &str,
    place: Place,
    form: HireForm,
) -> AppResult<HttpResponse> {
    let Place {
        action,
        on_behalf,
        done_base,
    } = place;
    let key = Some(form.idempotency_key.clone()).filter(|k| !k.is_empty());
    match checkout::checkout(
        &state.db,
        &state.settings.billing,
        actor,
        customer_id,
        &form.request(key),
    )
    .await
    {
        Ok(done) => {
            if !done.replayed {
                flash(
                    req,
                    "success",
                    "Hired. Your subscription is active; the invoice and receipt are below.",
                );
            }
            Ok(see_other(&format!(
                "{done_base}/subscriptions/{}",
                done.subscription_id()
            )))
        }
        Err(e)
            if checkout::field_of(e.code()).is_some()
                || e.code() == ErrorCode::IdempotencyKeyReused =>
        {
            // A confirmation sent again with other choices (back button, changed, confirmed):
            // nothing was bought; the form asks for a fresh review.
            let (status, errors, notice) = if e.code() == ErrorCode::IdempotencyKeyReused {
                (
                    StatusCode::CONFLICT,
                    FormErrors::default(),
                    Some(
                        "This confirmation was already used for different choices, so nothing \
                         new was bought. Review the order below and confirm it again.",
                    ),
                )
            } else {
                (StatusCode::UNPROCESSABLE_ENTITY, as_form_errors(e)?, None)
            };
            let types = catalog::newest_versions(&state.db, true)
                .await?
                .into_iter()
                .map(|v| (v.row.agent_type_id.clone(), v.row.display_name.clone()))
                .collect();
            let form = HireForm {
                step: String::new(),
                ..form
            };
            render(
                status,
                &HirePage {
                    ctx,
                    action,
                    on_behalf,
                    types,
                    durations: duration_choices(),
                    form,
                    errors,
                    summary: None,
                    notice,
                },
            )
        }
        Err(e) => Err(e),
    }
}

fn own_customer(user: &CustomerUser) -> AppResult<String> {
    user.user.customer_id.clone().ok_or(AppError::NotFound)
}

async fn portal_form(
    state: web::Data<AppState>,
    user: CustomerUser,
    ctx: PageCtx,
    q: web::Query<HireForm>,
) -> AppResult<HttpResponse> {
    let id = own_customer(&user)?;
    page(
        &state,
        ctx,
        &id,
        "/portal/hire".into(),
        None,
        q.into_inner(),
    )
    .await
}

async fn portal_confirm(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: CustomerUser,
    ctx: PageCtx,
    Form(form): Form<HireForm>,
) -> AppResult<HttpResponse> {
    let id = own_customer(&user)?;
    confirm(
        &state,
        &req,
        ctx,
        &user.actor,
        &id,
        Place {
            action: "/portal/hire".into(),
            on_behalf: None,
            done_base: "/portal",
        },
        form,
    )
    .await
}

async fn admin_form(
    state: web::Data<AppState>,
    staff: StaffWriter,
    ctx: PageCtx,
    path: web::Path<String>,
    q: web::Query<HireForm>,
) -> AppResult<HttpResponse> {
    let c = customers::get(&state.db, &staff.scope(), &path).await?;
    let action = format!("/admin/customers/{}/hire", c.id);
    page(
        &state,
        ctx,
        &c.id,
        action,
        Some((c.id.clone(), c.name.clone())),
        q.into_inner(),
    )
    .await
}

async fn admin_confirm(
    state: web::Data<AppState>,
    req: HttpRequest,
    staff: Staff,
    ctx: PageCtx,
    path: web::Path<String>,
    Form(form): Form<HireForm>,
) -> AppResult<HttpResponse> {
    let c = customers::get(&state.db, &staff.scope(), &path).await?;
    let (customer_id, actor) = customer_for(&staff, &staff.actor, Some(&c.id), true)?;
    let action = format!("/admin/customers/{}/hire", c.id);
    confirm(
        &state,
        &req,
        ctx,
        &actor,
        &customer_id,
        Place {
            action,
            on_behalf: Some((c.id.clone(), c.name.clone())),
            done_base: "/admin",
        },
        form,
    )
    .await
}
