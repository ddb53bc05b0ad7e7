//! `/admin/customers/{id}`: one customer's page (details, users, history) for all staff, and
//! editing its details (operators and admins), one transaction with its audit entry.
//!
//! Statements per request, besides the session (one statement, with its user): the page 4 (the
//! customer, its users, its hired agents, its history) and its billing; the edit form 1; saving 1 transaction (the locked read, the
//! change and its audit entry; only the read when nothing changed), then the page; refused input 1
//! (the stored name for the heading), then the form again.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use crate::error::AppError;
use crate::service::activity;
use crate::service::customers::{self, Customer, CustomerInput, User};
use crate::service::hired_agents;
use crate::web::AppState;
use crate::web::auth::{Staff, StaffWriter};
use crate::web::forms::Form;
use crate::web::pages::{FormErrors, PageCtx, flash, render, see_other};
use crate::web::view::{AuditRow, Ts};

use super::customers::{CustomerFormPage, state_of};
use super::hired_agents::AgentItem;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/admin/customers/{id}").get(detail))
        .service(
            web::resource("/admin/customers/{id}/edit")
                .get(edit_form)
                .post(save),
        );
}

/// How many of the customer's audit entries the page lists.
const HISTORY: i64 = 25;
/// How many of the customer's hired agents the page lists (the hired-agents list has them all).
const HIRED: usize = 10;

/// One of the customer's users as the page lists them.
pub struct UserItem {
    id: i64,
    email: String,
    disabled: bool,
    created: Ts,
}

impl From<User> for UserItem {
    fn from(u: User) -> Self {
        UserItem {
            id: u.id,
            email: u.email,
            disabled: u.disabled,
            created: Ts(u.created_at),
        }
    }
}

#[derive(Template)]
#[template(path = "admin/customer.html")]
struct CustomerPage {
    ctx: PageCtx,
    customer: Customer,
    /// The state the GSTIN names ("" without a GSTIN).
    state: &'static str,
    created: Ts,
    updated: Ts,
    users: Vec<UserItem>,
    /// The newest of its hired agents (at most `HIRED`), and how many it has.
    hired: Vec<AgentItem>,
    hired_count: usize,
    audit: Vec<AuditRow>,
    /// Subscriptions, orders, invoices and receipts (admin/_customer_billing.html).
    billing: super::customer_billing::CustomerBilling,
    customer_id: String,
}

async fn detail(
    state: web::Data<AppState>,
    staff: Staff,
    ctx: PageCtx,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let customers::Detail { customer, users } =
        customers::detail(&state.db, &staff.scope(), &id).await?;
    let hired = hired_agents::of_customer(&state.db, &staff.scope(), &customer.id).await?;
    let hired_count = hired.len();
    let hired = hired
        .into_iter()
        .take(HIRED)
        .map(|h| AgentItem::new(h.into(), staff.actor.now))
        .collect();
    let audit = activity::history_of_customer(&state.db, &customer.id, HISTORY)
        .await?
        .into_iter()
        .map(AuditRow::from)
        .collect();
    render(
        StatusCode::OK,
        &CustomerPage {
            ctx,
            state: state_of(customer.gstin.as_deref()),
            created: Ts(customer.created_at),
            updated: Ts(customer.updated_at),
            users: users.into_iter().map(UserItem::from).collect(),
            hired,
            hired_count,
            audit,
            billing: super::customer_billing::load(&state, &customer.id, staff.actor.now).await?,
            customer_id: customer.id.clone(),
            customer,
        },
    )
}

async fn edit_form(
    state: web::Data<AppState>,
    staff: StaffWriter,
    ctx: PageCtx,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let c = customers::get(&state.db, &staff.scope(), &path.into_inner()).await?;
    render(
        StatusCode::OK,
        &CustomerFormPage {
            ctx,
            form: CustomerInput::of(&c),
            editing: Some((c.id, c.name)),
            errors: FormErrors::default(),
        },
    )
}

async fn save(
    state: web::Data<AppState>,
    req: HttpRequest,
    staff: StaffWriter,
    ctx: PageCtx,
    path: web::Path<String>,
    Form(form): Form<CustomerInput>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let result = customers::update(&state.db, &staff.actor, &staff.scope(), &id, &form).await;
    match FormErrors::from_result(result)? {
        Ok(saved) => {
            let message = if saved.changed {
                format!("Saved the details of {}.", saved.customer.name)
            } else {
                "Nothing changed.".to_string()
            };
            flash(&req, "success", message);
            Ok(see_other(&format!("/admin/customers/{id}")))
        }
        Err(errors) => {
            // The heading keeps the stored name while the typed one is refused.
            let stored = customers::get(&state.db, &staff.scope(), &id).await?;
            render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &CustomerFormPage {
                    ctx,
                    editing: Some((stored.id, stored.name)),
                    form: form.shown_again(),
                    errors,
                },
            )
        }
    }
}
