//! `/health/live`, `/health/ready` and `/metrics`.

use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

use super::AppState;
use super::auth::principal_of;
use crate::domain::roles::Role;
use crate::error::{AppError, ErrorCode};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/health/live").get(live))
        .service(web::resource("/health/ready").get(ready))
        .service(web::resource("/metrics").get(metrics));
}

async fn live() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// 200 while the database answers, 503 while it does not; recovers by itself.
async fn ready(state: web::Data<AppState>) -> HttpResponse {
    let check = tokio::time::timeout(Duration::from_secs(3), state.db.ping()).await;
    match check {
        Ok(Ok(())) => HttpResponse::Ok().json(json!({"database": "ok"})),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness: database unreachable");
            HttpResponse::ServiceUnavailable().json(json!({"database": "unreachable"}))
        }
        Err(_) => HttpResponse::ServiceUnavailable().json(json!({"database": "timeout"})),
    }
}

/// For scrapers on this machine, and for admins from anywhere.
async fn metrics(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let loopback = req.peer_addr().is_some_and(|a| a.ip().is_loopback());
    if !loopback {
        match principal_of(&req).await? {
            Some(p) if p.user.role == Role::Admin => {}
            Some(_) => {
                return Err(AppError::forbidden(
                    ErrorCode::AdminOnly,
                    "Metrics are for admins.",
                ));
            }
            None => return Err(AppError::Unauthenticated),
        }
    }
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(state.metrics.render(state.pools.stats())))
}
