//! Request-wide middleware: correlation id, security headers, metrics and access log (outermost);
//! the body size limit; CSRF and cross-site origin checks.

use std::time::Instant;

use actix_session::SessionExt;
use actix_web::HttpMessage;
use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web::{self, Bytes, BytesMut};
use futures_util::StreamExt;
use subtle::ConstantTimeEq;

use super::AppState;
use crate::error::AppError;

/// The id that ties a request's log lines, audit entries and error page together.
#[derive(Debug, Clone)]
pub struct CorrelationId(pub String);

pub const CORRELATION_HEADER: &str = "x-correlation-id";
pub const CSRF_HEADER: &str = "x-csrf-token";
pub const CSRF_FIELD: &str = "_csrf";
pub const CSRF_SESSION_KEY: &str = "csrf";

pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src 'self' data:; object-src 'none'; \
     frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

fn accept_correlation_id(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 128
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
}

/// Outermost middleware: assigns the correlation id, times and counts the request, logs it and sets
/// the security headers every response carries.
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let id = req
        .headers()
        .get(CORRELATION_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| accept_correlation_id(v))
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    req.extensions_mut().insert(CorrelationId(id.clone()));
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let method = req.method().clone();
    let path = req.path().to_string();

    let mut res = match next.call(req).await {
        Ok(res) => res,
        Err(e) => {
            // Already rendered (with these headers) by `render_errors`; only count it here.
            if let Some(state) = state {
                state.metrics.observe(
                    method.as_str(),
                    "unmatched",
                    e.as_response_error().status_code().as_u16(),
                    started.elapsed(),
                );
            }
            return Err(e);
        }
    };

    let route = res
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_string());
    let status = res.status();
    let elapsed = started.elapsed();
    if let Some(state) = state {
        state
            .metrics
            .observe(method.as_str(), &route, status.as_u16(), elapsed);
    }
    if status.is_server_error() {
        tracing::warn!(correlation_id = %id, %method, %path, status = status.as_u16(), ms = elapsed.as_millis() as u64, "request failed");
    } else {
        tracing::info!(correlation_id = %id, %method, %path, status = status.as_u16(), ms = elapsed.as_millis() as u64, "request");
    }

    security_headers(res.headers_mut(), &id);
    Ok(res)
}

/// The headers every response carries.
pub fn security_headers(h: &mut actix_web::http::header::HeaderMap, correlation_id: &str) {
    if let Ok(v) = HeaderValue::from_str(correlation_id) {
        h.insert(HeaderName::from_static(CORRELATION_HEADER), v);
    }
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    // Pages differ for htmx fragment requests; caches must keep them apart.
    h.append(header::VARY, HeaderValue::from_static("HX-Request"));
}

/// Refuses a declared body over the limit before reading any of it.
pub async fn limit_body(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let limit = req
        .app_data::<web::Data<AppState>>()
        .map(|s| s.settings.body_limit)
        .unwrap_or(1 << 20);
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Ok(req
            .error_response(AppError::PayloadTooLarge)
            .map_into_right_body());
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}

fn is_safe(m: &Method) -> bool {
    matches!(
        *m,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

/// The request's own origin as a browser would write it (scheme://host[:port]).
fn own_origin(req: &ServiceRequest) -> String {
    let info = req.connection_info();
    format!("{}://{}", info.scheme(), info.host())
}

async fn read_body(payload: &mut Payload, limit: usize) -> Result<Bytes, AppError> {
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk
            .map_err(|_| AppError::BadRequest("The request body could not be read.".into()))?;
        if body.len() + chunk.len() > limit {
            return Err(AppError::PayloadTooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// Every state-changing request that relies on the session cookie must carry the session's CSRF token
/// (form field `_csrf` or header `X-CSRF-Token`); requests from another site are refused outright.
/// Requests authenticated by a bearer token carry no cookie authority and need no token.
pub async fn csrf_guard(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    match check_csrf(&mut req).await {
        Ok(()) => next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body),
        Err(e) => Ok(req.error_response(e).map_into_right_body()),
    }
}

async fn check_csrf(req: &mut ServiceRequest) -> Result<(), AppError> {
    if is_safe(req.method()) {
        return Ok(());
    }
    let cross_site = AppError::forbidden("Requests from other sites are not accepted.");
    if let Some(origin) = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        && origin != "null"
        && !origin.eq_ignore_ascii_case(&own_origin(req))
    {
        return Err(cross_site);
    }
    if req
        .headers()
        .get("sec-fetch-site")
        .is_some_and(|v| v == "cross-site")
    {
        return Err(cross_site);
    }
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.len() > 7 && v[..7].eq_ignore_ascii_case("bearer "));
    if bearer {
        return Ok(());
    }

    let expected: Option<String> = req
        .get_session()
        .get::<String>(CSRF_SESSION_KEY)
        .ok()
        .flatten();
    let header_token: Option<String> = req
        .headers()
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let mut field_token: Option<String> = None;
    if is_form {
        let limit = req
            .app_data::<web::Data<AppState>>()
            .map(|s| s.settings.body_limit)
            .unwrap_or(1 << 20);
        let body = read_body(&mut req.take_payload(), limit).await?;
        field_token = url::form_urlencoded::parse(&body)
            .find(|(k, _)| k == CSRF_FIELD)
            .map(|(_, v)| v.into_owned());
        // Put the body back for the handler's form extractor.
        req.set_payload(Payload::from(body));
    }
    let matches = |submitted: &Option<String>| match (&expected, submitted) {
        (Some(e), Some(s)) => e.len() == s.len() && bool::from(e.as_bytes().ct_eq(s.as_bytes())),
        _ => false,
    };
    // Either carrier may hold the current token (a page loaded before sign-in can still send an old
    // header next to a fresh form field).
    if matches(&header_token) || matches(&field_token) {
        return Ok(());
    }
    Err(AppError::forbidden(if expected.is_none() {
        "Your session has expired. Reload the page and try again."
    } else {
        "This form is out of date or was not sent by agentdesk. Reload the page and try again."
    }))
}
