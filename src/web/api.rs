//! `/api/v1`: JSON for integrations. Errors are problem documents (see `errors`).

use actix_web::{HttpResponse, web};
use serde_json::json;

use super::auth::SignedIn;
use crate::error::AppError;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/v1")
            .route("/me", web::get().to(me))
            .default_service(web::to(super::not_found)),
    );
}

/// Who the caller is.
async fn me(user: SignedIn) -> Result<HttpResponse, AppError> {
    let u = &user.user;
    Ok(HttpResponse::Ok().json(json!({
        "id": u.id,
        "email": u.email,
        "role": u.role.as_str(),
        "customer_id": u.customer_id,
    })))
}
