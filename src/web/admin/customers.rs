//! `/admin/customers`: the customers list with its search and CSV export, and creating customers.
//! All staff read; operators and admins create. One customer's page and editing it are in
//! `customer_detail`.
//!
//! Statements per request, besides the session (one statement, with its user): the list 1 (an
//! indexed search, keyset-paginated); the CSV export 1 per 500 customers; the GSTIN check none;
//! creating 1 transaction with its audit entry.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::domain::csv;
use crate::domain::gstin;
use crate::error::{AppError, ErrorCode};
use crate::service::customers::{self, Customer, CustomerInput};
use crate::web::AppState;
use crate::web::auth::{Staff, StaffWriter};
use crate::web::forms::Form;
use crate::web::pages::{FormErrors, PageCtx, flash, render, see_other, wants_fragment};
use crate::web::view::Ts;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/admin/customers").get(list).post(create))
        .service(web::resource("/admin/customers.csv").get(export_csv))
        .service(web::resource("/admin/customers/new").get(new_form))
        .service(web::resource("/admin/customers/gstin").get(gstin_check))
        .configure(super::customer_detail::routes);
}

const PAGE_SIZE: i64 = 50;

/// The state a stored GSTIN names, for the pages ("" when none).
pub(super) fn state_of(gstin: Option<&str>) -> &'static str {
    gstin.and_then(gstin::state_of).unwrap_or("")
}

pub struct CustomerItem {
    id: String,
    name: String,
    email: String,
    gstin: String,
    state: &'static str,
    created: Ts,
}

impl From<Customer> for CustomerItem {
    fn from(c: Customer) -> Self {
        CustomerItem {
            state: state_of(c.gstin.as_deref()),
            gstin: c.gstin.unwrap_or_default(),
            id: c.id,
            name: c.name,
            email: c.email,
            created: Ts(c.created_at),
        }
    }
}

#[derive(Template)]
#[template(path = "admin/customers.html")]
struct CustomersPage {
    ctx: PageCtx,
    q: String,
    customers: Vec<CustomerItem>,
    next_page: Option<String>,
    csv_href: String,
}

#[derive(Template)]
#[template(path = "admin/customers.html", block = "results")]
struct CustomersResults {
    ctx: PageCtx,
    q: String,
    customers: Vec<CustomerItem>,
    next_page: Option<String>,
    csv_href: String,
}

#[derive(Deserialize)]
struct ListQuery {
    #[serde(default)]
    q: String,
    /// The keyset cursor: the last row shown, `created_at~id`.
    #[serde(default)]
    before: String,
}

fn query_string(pairs: &[(&str, &str)]) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs.iter().filter(|(_, v)| !v.is_empty()) {
        s.append_pair(k, v);
    }
    s.finish()
}

fn with_query(path: &str, pairs: &[(&str, &str)]) -> String {
    match query_string(pairs) {
        q if q.is_empty() => path.to_string(),
        q => format!("{path}?{q}"),
    }
}

fn cursor_text(c: &Customer) -> String {
    format!(
        "{}~{}",
        c.created_at
            .to_rfc3339_opts(chrono::SecondsFormat::Nanos, true),
        c.id
    )
}

fn parse_cursor(s: &str) -> Result<Option<(DateTime<Utc>, String)>, AppError> {
    if s.is_empty() {
        return Ok(None);
    }
    let bad = || AppError::bad_request(ErrorCode::BadRequest, "This page link is not valid.");
    let (at, id) = s.split_once('~').ok_or_else(bad)?;
    let at = DateTime::parse_from_rfc3339(at).map_err(|_| bad())?;
    Ok(Some((at.with_timezone(&Utc), id.to_string())))
}

async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    ctx: PageCtx,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let ListQuery { q, before } = query.into_inner();
    let q = q.trim().to_string();
    let after = parse_cursor(&before)?;
    let mut rows =
        customers::search(&state.db, &staff.scope(), &q, after.as_ref(), PAGE_SIZE + 1).await?;
    let next_page = if rows.len() as i64 > PAGE_SIZE {
        rows.truncate(PAGE_SIZE as usize);
        rows.last().map(|last| {
            with_query(
                "/admin/customers",
                &[("q", &q), ("before", &cursor_text(last))],
            )
        })
    } else {
        None
    };
    let customers: Vec<CustomerItem> = rows.into_iter().map(CustomerItem::from).collect();
    let csv_href = with_query("/admin/customers.csv", &[("q", &q)]);
    if wants_fragment(&req) {
        return render(
            StatusCode::OK,
            &CustomersResults {
                ctx,
                q,
                customers,
                next_page,
                csv_href,
            },
        );
    }
    render(
        StatusCode::OK,
        &CustomersPage {
            ctx,
            q,
            customers,
            next_page,
            csv_href,
        },
    )
}

#[derive(Deserialize)]
struct CsvQuery {
    #[serde(default)]
    q: String,
}

/// Every customer the search finds (not only one page), as a spreadsheet opens it: UTF-8 with a
/// byte order mark, quoted where needed, formulas neutralised (see `domain::csv`).
async fn export_csv(
    state: web::Data<AppState>,
    staff: Staff,
    query: web::Query<CsvQuery>,
) -> Result<HttpResponse, AppError> {
    let q = query.q.trim();
    let rows = customers::export(&state.db, &staff.scope(), q).await?;
    let mut body = String::from("\u{feff}");
    body.push_str(&csv::row(&[
        "ID",
        "Name",
        "E-mail",
        "GSTIN",
        "GST state",
        "Billing address",
        "Created (UTC)",
    ]));
    for c in &rows {
        body.push_str(&csv::row(&[
            c.id.as_str(),
            &c.name,
            &c.email,
            c.gstin.as_deref().unwrap_or(""),
            state_of(c.gstin.as_deref()),
            c.billing_address.as_deref().unwrap_or(""),
            &c.created_at.format("%Y-%m-%d %H:%M:%S").to_string(),
        ]));
    }
    let filename = format!("customers-{}.csv", staff.actor.now.format("%Y-%m-%d"));
    let mut res = HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .body(body);
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        res.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(res)
}

#[derive(Template)]
#[template(path = "admin/customer_form.html")]
pub(super) struct CustomerFormPage {
    pub ctx: PageCtx,
    /// The customer being edited; `None` on the new-customer form.
    pub editing: Option<(String, String)>,
    pub form: CustomerInput,
    pub errors: FormErrors,
}

impl CustomerFormPage {
    /// The state the GSTIN in the form names, when it is a valid one.
    pub fn gstin_state(&self) -> &'static str {
        gstin::Gstin::parse(&self.form.gstin)
            .map(|g| g.state_name())
            .unwrap_or("")
    }

    pub fn action(&self) -> String {
        match &self.editing {
            Some((id, _)) => format!("/admin/customers/{id}/edit"),
            None => "/admin/customers".into(),
        }
    }
}

async fn new_form(_staff: StaffWriter, ctx: PageCtx) -> Result<HttpResponse, AppError> {
    render(
        StatusCode::OK,
        &CustomerFormPage {
            ctx,
            editing: None,
            form: CustomerInput::default(),
            errors: FormErrors::default(),
        },
    )
}

async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    staff: StaffWriter,
    ctx: PageCtx,
    Form(form): Form<CustomerInput>,
) -> Result<HttpResponse, AppError> {
    match FormErrors::from_result(customers::create(&state.db, &staff.actor, &form).await)? {
        Ok(c) => {
            flash(&req, "success", format!("Created {}.", c.name));
            Ok(see_other(&format!("/admin/customers/{}", c.id)))
        }
        Err(errors) => render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &CustomerFormPage {
                ctx,
                editing: None,
                form: form.shown_again(),
                errors,
            },
        ),
    }
}

#[derive(Deserialize)]
struct GstinQuery {
    #[serde(default)]
    gstin: String,
}

/// The GSTIN field's live answer: its state (swapped in place) and its error slot (out of band).
#[derive(Template)]
#[template(
    source = r#"<small id="gstin-state" class="help gstin-state" aria-live="polite">{% if !state.is_empty() %}Registered in {{ state }}.{% endif %}</small>
<small class="field-error" id="field-gstin-error" hx-swap-oob="true">{{ error }}</small>"#,
    ext = "html"
)]
struct GstinCheck {
    state: &'static str,
    error: String,
}

/// What the GSTIN says, checked as the field is left: its state, or what is wrong with it.
async fn gstin_check(
    _staff: Staff,
    query: web::Query<GstinQuery>,
) -> Result<HttpResponse, AppError> {
    let page = match gstin::Gstin::parse_optional(&query.gstin) {
        Ok(g) => GstinCheck {
            state: g.map(|g| g.state_name()).unwrap_or(""),
            error: String::new(),
        },
        Err(error) => GstinCheck { state: "", error },
    };
    render(StatusCode::OK, &page)
}
