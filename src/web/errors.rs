//! AppError → HTTP. Handlers return the error; `render_errors` (which knows the request) turns it into
//! an HTML page for pages, an RFC 7807 problem document for `/api`, or a sign-in redirect.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, ResponseError};
use askama::Template;
use serde::Serialize;

use super::middleware::CorrelationId;
use crate::error::{AppError, ErrorCode, Violation};

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            AppError::Unauthenticated => StatusCode::UNAUTHORIZED,
            AppError::PasswordChangeRequired => StatusCode::SEE_OTHER,
            AppError::Forbidden { .. } => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Conflict { .. } => StatusCode::CONFLICT,
            AppError::Gone(_) => StatusCode::GONE,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A bare response; `render_errors` replaces it with the real page or problem document.
    fn error_response(&self) -> HttpResponse {
        HttpResponse::new(self.status_code())
    }
}

/// What the user is told about an error: a title and a sentence, never internals.
pub struct Explained {
    pub status: StatusCode,
    pub title: &'static str,
    pub detail: String,
    pub violations: Vec<Violation>,
    pub retry_after: Option<u64>,
}

/// The title of an error status, as pages and problem documents show it.
pub fn title_for(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "Bad request",
        401 => "Sign-in required",
        403 => "Not allowed",
        404 => "Not found",
        405 => "Method not allowed",
        409 => "Conflict",
        410 => "Gone",
        413 => "Request too large",
        415 => "Unsupported media type",
        422 => "Please check your input",
        429 => "Too many attempts",
        503 => "Temporarily unavailable",
        _ if status.is_server_error() => "Something went wrong",
        _ => "Request failed",
    }
}

fn explain(status: StatusCode, err: Option<&AppError>) -> Explained {
    let title = title_for(status);
    let generic = match status.as_u16() {
        400 => "The request could not be understood.".to_string(),
        401 => "Sign in to continue.".to_string(),
        403 => "You do not have permission to do this.".to_string(),
        404 => "There is nothing here. The link may be wrong, or the item was removed.".to_string(),
        405 => "This address does not accept that kind of request.".to_string(),
        413 => "The request is larger than this server accepts.".to_string(),
        _ if status.is_server_error() => {
            "An unexpected error happened on our side. It has been logged; quote the reference below if you report it."
                .to_string()
        }
        _ => "The request could not be completed.".to_string(),
    };
    let mut e = Explained {
        status,
        title,
        detail: generic,
        violations: vec![],
        retry_after: None,
    };
    match err {
        Some(
            AppError::BadRequest { message: m, .. }
            | AppError::Forbidden { message: m, .. }
            | AppError::Conflict { message: m, .. }
            | AppError::Gone(m)
            | AppError::Unavailable(m),
        ) => e.detail = m.clone(),
        Some(AppError::Invalid { detail, violations }) => {
            e.detail = detail.clone();
            e.violations = violations.clone();
        }
        Some(AppError::TooManyRequests {
            retry_after_secs,
            detail,
        }) => {
            e.detail = detail.clone();
            e.retry_after = Some(*retry_after_secs);
        }
        _ => {}
    }
    e
}

#[derive(Template)]
#[template(path = "errors/error.html")]
struct ErrorPage<'a> {
    ctx: super::pages::PageCtx,
    status: u16,
    title: &'a str,
    detail: &'a str,
    violations: &'a [Violation],
    correlation_id: &'a str,
    back: String,
}

/// An RFC 7807 problem document: how every `/api` error answers (`application/problem+json`).
#[derive(Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// `urn:agentdesk:problem:<code>`.
    #[serde(rename = "type")]
    pub problem_type: String,
    pub code: ErrorCode,
    /// A short title for the status, for people.
    pub title: &'static str,
    /// The HTTP status.
    pub status: u16,
    /// What happened, in a sentence for people (clients branch on `code`, not on this).
    pub detail: String,
    /// The path of the request.
    pub instance: String,
    /// Ties the answer to the server's log lines; quote it when reporting a problem.
    pub correlation_id: String,
    /// Status 422 only: every problem, each with the path of its value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub violations: Option<Vec<Violation>>,
}

pub fn is_api_path(path: &str) -> bool {
    path == "/api" || path.starts_with("/api/")
}

/// What rendering an error needs to know of its request (captured before the request moves on, since
/// actix needs the request to be unshared while routing).
#[derive(Debug, Clone)]
pub struct RequestInfo {
    path: String,
    path_and_query: String,
    is_get: bool,
    is_htmx: bool,
    referer: Option<String>,
    correlation_id: String,
    /// What the page header shows: the signed-in user when known, else a signed-out header.
    page: super::pages::PageCtx,
}

impl RequestInfo {
    pub fn of(req: &HttpRequest) -> Self {
        RequestInfo {
            path: req.path().to_string(),
            path_and_query: req
                .uri()
                .path_and_query()
                .map(|p| p.as_str().to_string())
                .unwrap_or_else(|| "/".into()),
            is_get: req.method() == actix_web::http::Method::GET,
            is_htmx: req.headers().contains_key("HX-Request"),
            referer: req
                .headers()
                .get(header::REFERER)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
            correlation_id: req
                .extensions()
                .get::<CorrelationId>()
                .map(|c| c.0.clone())
                .unwrap_or_default(),
            page: super::pages::PageCtx::bare(),
        }
    }
}

/// Builds the response a user sees for an error status.
pub fn error_response_for(
    req: &RequestInfo,
    status: StatusCode,
    err: Option<&AppError>,
) -> HttpResponse {
    let correlation_id = req.correlation_id.clone();
    let path = req.path.clone();
    let api = is_api_path(&path);

    if let Some(AppError::Internal(e)) = err {
        tracing::error!(correlation_id = %correlation_id, error = ?e, "internal error");
    }

    if !api
        && (matches!(err, Some(AppError::Unauthenticated)) || status == StatusCode::UNAUTHORIZED)
    {
        let next = req.path_and_query.as_str();
        let target = if req.is_get && next != "/" {
            format!(
                "/login?next={}",
                url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
            )
        } else {
            "/login".to_string()
        };
        return redirect_for(req, &target);
    }
    if matches!(err, Some(AppError::PasswordChangeRequired)) {
        if !api {
            return redirect_for(req, "/account/password");
        }
        let forbidden = AppError::forbidden(
            ErrorCode::PasswordChangeRequired,
            "Choose a new password (at /account/password) before using the API.",
        );
        return error_response_for(req, StatusCode::FORBIDDEN, Some(&forbidden));
    }

    let e = explain(status, err);
    let mut res = if api {
        let code = err
            .map(AppError::code)
            .unwrap_or_else(|| ErrorCode::for_status(status.as_u16()));
        let body = Problem {
            problem_type: code.problem_type(),
            code,
            title: e.title,
            status: status.as_u16(),
            detail: e.detail.clone(),
            instance: path,
            correlation_id: correlation_id.clone(),
            violations: (status == StatusCode::UNPROCESSABLE_ENTITY).then(|| e.violations.clone()),
        };
        HttpResponse::build(status)
            .content_type("application/problem+json")
            .body(serde_json::to_string(&body).unwrap_or_default())
    } else {
        let back = req
            .referer
            .as_deref()
            .and_then(super::pages::local_path_of_referer)
            .filter(|b| *b != req.path_and_query)
            .unwrap_or_else(|| "/".to_string());
        let page = ErrorPage {
            ctx: req.page.clone(),
            status: status.as_u16(),
            title: e.title,
            detail: &e.detail,
            violations: &e.violations,
            correlation_id: &correlation_id,
            back,
        };
        let html = page
            .render()
            .unwrap_or_else(|_| format!("{} {}", status.as_u16(), e.title));
        HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .body(html)
    };
    if let Some(secs) = e.retry_after
        && let Ok(v) = HeaderValue::from_str(&secs.to_string())
    {
        res.headers_mut().insert(header::RETRY_AFTER, v);
    }
    res
}

/// A redirect that htmx follows as a full navigation.
pub fn redirect_for(req: &RequestInfo, target: &str) -> HttpResponse {
    if req.is_htmx {
        HttpResponse::Ok()
            .insert_header(("HX-Redirect", target))
            .finish()
    } else {
        HttpResponse::SeeOther()
            .insert_header((header::LOCATION, target))
            .finish()
    }
}

/// An error already rendered, for the rare error that escapes as `Err` (a failing session store):
/// actix turns it into the response through `error_response`.
#[derive(Debug)]
struct Rendered {
    status: StatusCode,
    content_type: String,
    body: String,
    correlation_id: String,
}

impl std::fmt::Display for Rendered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.status)
    }
}

impl ResponseError for Rendered {
    fn status_code(&self) -> StatusCode {
        self.status
    }
    fn error_response(&self) -> HttpResponse {
        let mut res = HttpResponse::build(self.status)
            .content_type(self.content_type.as_str())
            .body(self.body.clone());
        super::middleware::security_headers(res.headers_mut(), &self.correlation_id);
        res
    }
}

/// Middleware: every error response — from a handler, an extractor, another middleware, or actix
/// itself (bad form, payload too large) — leaves as our page or problem document.
pub async fn render_errors(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let mut info = RequestInfo::of(req.request());
    let failures_before = crate::db::kept_reads::failures();
    let state = req
        .app_data::<actix_web::web::Data<super::AppState>>()
        .cloned();
    match next.call(req).await {
        Ok(res) => {
            let status = res.status();
            let bare_error = (status.is_client_error() || status.is_server_error())
                && matches!(
                    res.response().body().size(),
                    actix_web::body::BodySize::Sized(0)
                );
            if res.response().error().is_none() && !bare_error {
                return Ok(res.map_into_boxed_body());
            }
            info.page = super::pages::PageCtx::for_error(res.request());
            let app_err = res
                .response()
                .error()
                .and_then(|e| e.as_error::<AppError>());
            let outage = database_outage(
                state.as_ref().map(|s| s.get_ref()),
                failures_before,
                status,
                app_err.is_some_and(|e| !matches!(e, AppError::Internal(_))),
            )
            .await;
            let mut new = error_response_for(
                &info,
                outage
                    .as_ref()
                    .map_or(status, |_| StatusCode::SERVICE_UNAVAILABLE),
                outage.as_ref().or(app_err),
            );
            // A 405 names the methods the address does take.
            if let Some(allow) = res.headers().get(header::ALLOW) {
                new.headers_mut().insert(header::ALLOW, allow.clone());
            }
            let (req, _) = res.into_parts();
            Ok(ServiceResponse::new(req, new).map_into_boxed_body())
        }
        Err(err) => {
            let mut status = err.as_response_error().status_code();
            let outage = database_outage(
                state.as_ref().map(|s| s.get_ref()),
                failures_before,
                status,
                err.as_error::<AppError>()
                    .is_some_and(|e| !matches!(e, AppError::Internal(_))),
            )
            .await;
            if outage.is_some() {
                status = StatusCode::SERVICE_UNAVAILABLE;
            } else if status.is_server_error() {
                tracing::error!(correlation_id = %info.correlation_id, error = %err, "request failed in middleware");
            }
            let new = error_response_for(
                &info,
                status,
                outage.as_ref().or(err.as_error::<AppError>()),
            );
            let content_type = new
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("text/plain")
                .to_string();
            let body = match new.into_body().try_into_bytes() {
                Ok(b) => String::from_utf8_lossy(&b).into_owned(),
                Err(_) => String::new(),
            };
            Err(Rendered {
                status,
                content_type,
                body,
                correlation_id: info.correlation_id,
            }
            .into())
        }
    }
}

/// A 500 that is not one of our own refusals (an internal error mid-query, the session store failing)
/// is usually the database going away: then the user is told so, with 503, rather than "something went
/// wrong". It was, when a connection failed while the request ran; else the database is asked.
async fn database_outage(
    state: Option<&super::AppState>,
    failures_before: u64,
    status: StatusCode,
    ours: bool,
) -> Option<AppError> {
    if status != StatusCode::INTERNAL_SERVER_ERROR || ours {
        return None;
    }
    let unavailable = || {
        AppError::Unavailable(
            "The database is not reachable right now. Please try again in a moment.".into(),
        )
    };
    if crate::db::kept_reads::failures() != failures_before {
        return Some(unavailable());
    }
    let state = state?;
    let wait = std::time::Duration::from_secs(2);
    // Reachable means both: the database answers a new connection, and the pool can hand one out
    // (a pool that ran dry fails every request just the same).
    let down = !matches!(
        tokio::time::timeout(wait, state.db.ping()).await,
        Ok(Ok(()))
    ) || !matches!(
        tokio::time::timeout(wait, state.db.acquire()).await,
        Ok(Ok(_))
    );
    down.then(unavailable)
}
