//! The HTTP side: state, routes, extractors, middleware, pages and the JSON API.

pub mod account;
pub mod acting;
pub mod admin;
pub mod agents;
pub mod api;
pub mod api_credentials;
pub mod api_deliverables;
pub mod api_hired_agents;
pub mod api_payments;
pub mod assets;
pub mod auth;
pub mod billing_docs;
pub mod body;
pub mod csrf;
pub mod errors;
pub mod escape;
pub mod flash;
pub mod forms;
pub mod health;
pub mod hire;
pub mod input_guard;
pub mod login;
pub mod metrics;
pub mod middleware;
pub mod one_time;
pub mod openapi;
pub mod pages;
pub mod portal;
pub mod reviews;
pub mod schema_forms;
pub mod session_store;
pub mod subscription_pages;
pub mod view;

use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse, web};

use crate::clock::Clock;
use crate::config::Settings;
use crate::db::Db;
use crate::error::AppError;

/// Shared by every request.
pub struct AppState {
    /// This HTTP worker's pool (see [`crate::db::Pools`]).
    pub db: Db,
    /// Every pool, for `/metrics`.
    pub pools: crate::db::Pools,
    pub settings: Settings,
    pub clock: Arc<dyn Clock>,
    pub metrics: metrics::Metrics,
    pub keys: Arc<crate::keys::Keys>,
    /// The lists' type filter choices, kept between requests.
    pub type_names: Arc<crate::service::catalog::TypeNames>,
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    // `/api/v1` first: its scope answers every path under it (404 for the undocumented), so no route
    // registered after it can add an undocumented operation there (see `openapi`).
    // Then the most requested first: actix tries routes in order, matching every dynamic one
    // registered before the answer with a regular expression (~6 % of a queue page's CPU when the
    // reviews came last). No two modules' paths overlap, so the order changes nothing else.
    cfg.configure(openapi::routes)
        .service(web::resource("/").get(home))
        .configure(assets::routes)
        .configure(health::routes)
        .configure(reviews::routes)
        .configure(login::routes)
        .configure(account::routes)
        .configure(admin::routes)
        .configure(portal::routes)
        .configure(hire::routes)
        .configure(subscription_pages::routes)
        .configure(agents::routes)
        .configure(billing_docs::routes)
        .configure(schema_forms::routes);
}

/// `/`: each role's home, or the sign-in page.
async fn home(req: HttpRequest) -> Result<HttpResponse, AppError> {
    let target = match auth::principal_of(&req).await? {
        Some(p) => p.user.role.home(),
        None => "/login",
    };
    Ok(pages::see_other(target))
}

/// Anything no route matched.
pub async fn not_found() -> Result<HttpResponse, AppError> {
    Err(AppError::NotFound)
}
