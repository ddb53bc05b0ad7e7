//! `/portal`: the customer's area.
//!
//! Statements per request, besides the session (one statement, with its user): home 1 (the
//! customer, within the user's scope).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::AppState;
use super::auth::CustomerUser;
use super::pages::{PageCtx, render};
use crate::error::AppError;
use crate::service::customers;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/portal").get(home));
}

#[derive(Template)]
#[template(path = "portal/home.html")]
struct PortalHome {
    ctx: PageCtx,
    customer_id: String,
    customer_name: String,
    customer_email: String,
}

async fn home(
    state: web::Data<AppState>,
    user: CustomerUser,
    ctx: PageCtx,
) -> Result<HttpResponse, AppError> {
    let id = user.user.customer_id.clone().ok_or(AppError::NotFound)?;
    let customer = customers::get(&state.db, &user.scope(), &id).await?;
    render(
        StatusCode::OK,
        &PortalHome {
            ctx,
            customer_id: customer.id,
            customer_name: customer.name,
            customer_email: customer.email,
        },
    )
}
