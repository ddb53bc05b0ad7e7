//! Reading a request body with a size limit: the one copy, used by every middleware that must look at
//! a body before the handler does (CSRF field, refused characters).

use actix_web::dev::Payload;
use actix_web::web::{Bytes, BytesMut};
use futures_util::StreamExt;

use crate::error::{AppError, ErrorCode};

/// Reads the whole body, refusing (413) as soon as it grows past `limit` bytes.
pub async fn read_limited(payload: &mut Payload, limit: usize) -> Result<Bytes, AppError> {
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| {
            AppError::bad_request(
                ErrorCode::UnreadableBody,
                "The request body could not be read.",
            )
        })?;
        if body.len() + chunk.len() > limit {
            return Err(AppError::PayloadTooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// A JSON body as `T`, or a 422 naming what is wrong with it (a missing or mistyped field).
pub fn json_as<T: serde::de::DeserializeOwned>(body: serde_json::Value) -> Result<T, AppError> {
    serde_json::from_value(body)
        .map_err(|e| AppError::invalid(vec![crate::error::Violation::new("body", e.to_string())]))
}
