//! Request-wide middleware: correlation id, security headers, metrics and access log (outermost);
//! the body size limit. (CSRF and cross-site checks are in `csrf`.)

use std::time::Instant;

use actix_web::HttpMessage;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web;

use super::AppState;
use crate::error::AppError;

/// The id that ties a request's log lines, audit entries and error page together.
#[derive(Debug, Clone)]
pub struct CorrelationId(pub String);

pub const CORRELATION_HEADER: &str = "x-correlation-id";

pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src 'self' data:; object-src 'none'; \
     frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

fn accept_correlation_id(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 128
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
}

/// The client's `X-Correlation-ID` when it is a sensible one, else a new id.
fn correlation_id_of(req: &ServiceRequest) -> String {
    req.headers()
        .get(CORRELATION_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| accept_correlation_id(v))
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

/// The span every request runs in (through `tracing-actix-web`): each log line written while
/// answering it carries the correlation id, method and path.
pub struct RequestSpan;

impl tracing_actix_web::RootSpanBuilder for RequestSpan {
    fn on_request_start(req: &ServiceRequest) -> tracing::Span {
        let id = correlation_id_of(req);
        req.extensions_mut().insert(CorrelationId(id.clone()));
        tracing::info_span!("request", correlation_id = %id, method = %req.method(), path = %req.path())
    }

    fn on_request_end<B: MessageBody>(
        _span: tracing::Span,
        _outcome: &Result<ServiceResponse<B>, actix_web::Error>,
    ) {
        // `observe` writes the access line, inside the span.
    }
}

/// Outermost middleware but for the request span: takes the correlation id, times and counts the request, logs it and sets
/// the security headers every response carries.
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let id = match req.extensions().get::<CorrelationId>() {
        Some(c) => c.0.clone(),
        None => correlation_id_of(&req),
    };
    req.extensions_mut().insert(CorrelationId(id.clone()));
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let method = req.method().clone();

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
        tracing::warn!(
            status = status.as_u16(),
            ms = elapsed.as_millis() as u64,
            "request failed"
        );
    } else {
        tracing::info!(
            status = status.as_u16(),
            ms = elapsed.as_millis() as u64,
            "request"
        );
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
