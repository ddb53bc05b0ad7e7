//! `Form<T>`: an urlencoded body parsed with serde_html_form (repeated keys, empty values), within
//! the body limit. Malformed bodies answer 400.

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;

use super::AppState;
use crate::error::{AppError, ErrorCode, Violation};

pub struct Form<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for Form<T> {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = req
            .app_data::<web::Data<AppState>>()
            .map(|s| s.settings.body_limit)
            .unwrap_or(1 << 20);
        let mut payload = payload.take();
        Box::pin(async move {
            let body = super::body::read_limited(&mut payload, limit).await?;
            serde_html_form::from_bytes::<T>(&body)
                .map(Form)
                .map_err(|e| {
                    tracing::debug!(error = %e, "unreadable form");
                    AppError::bad_request(
                        ErrorCode::UnreadableBody,
                        "The form could not be read. Reload the page and try again.",
                    )
                })
        })
    }
}

/// `validator` errors as our violations (one per field, first message wins).
pub fn violations(errors: &validator::ValidationErrors) -> Vec<Violation> {
    let mut out: Vec<Violation> = errors
        .field_errors()
        .iter()
        .map(|(field, errs)| {
            let message = errs
                .iter()
                .find_map(|e| e.message.as_ref().map(|m| m.to_string()))
                .unwrap_or_else(|| format!("{field} is not valid."));
            Violation::new(field.to_string(), message)
        })
        .collect();
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}
