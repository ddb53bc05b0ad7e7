//! Cross-site request forgery: every state-changing request that relies on the browser's cookies must
//! carry a CSRF token (form field `_csrf` or header `X-CSRF-Token`), and requests another site sent
//! (`Origin`, `Sec-Fetch-Site`) are refused outright. Bearer-token requests carry no cookie authority
//! and need no token.
//!
//! Signed-in users' tokens live in their session. Visitors who have not signed in get no session row:
//! their token is an HMAC of a random nonce kept in the `agentdesk_csrf` cookie, which only this
//! server can compute, so the sign-in form is protected without writing anything to the database.

use actix_session::SessionExt;
use actix_web::HttpMessage;
use actix_web::body::MessageBody;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{HttpRequest, web};
use subtle::ConstantTimeEq;

use super::AppState;
use super::session_store::USER_ID_KEY;
use crate::error::{AppError, ErrorCode};

pub const CSRF_HEADER: &str = "x-csrf-token";
pub const CSRF_FIELD: &str = "_csrf";
pub const CSRF_SESSION_KEY: &str = "csrf";
pub const CSRF_COOKIE: &str = "agentdesk_csrf";

/// A signed-out visitor's token, derived from the nonce in their cookie (or a new one).
#[derive(Debug, Clone)]
struct VisitorToken {
    nonce: String,
    token: String,
    fresh: bool,
}

/// Marks that a page handed out the visitor token, so its cookie must be set.
struct VisitorTokenUsed;

/// A signed-in session's token, kept with the request for pages rendered after the session closed
/// (error pages).
#[derive(Debug, Clone)]
pub struct PageCsrf(pub String);

fn is_safe(m: &Method) -> bool {
    matches!(
        *m,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

fn signed_in(req: &HttpRequest) -> bool {
    req.get_session()
        .get::<i64>(USER_ID_KEY)
        .ok()
        .flatten()
        .is_some()
}

/// The session's own token, created on first use (signed-in sessions only).
pub fn session_token(session: &actix_session::Session) -> String {
    if let Ok(Some(t)) = session.get::<String>(CSRF_SESSION_KEY) {
        return t;
    }
    let t = crate::passwords::random_urlsafe(32);
    let _ = session.insert(CSRF_SESSION_KEY, &t);
    t
}

/// The token a page should embed for this request: the session's for a signed-in user, else the
/// visitor token (whose cookie is then set on the response).
pub fn token_for(req: &HttpRequest) -> String {
    if signed_in(req) {
        return session_token(&req.get_session());
    }
    let token = req
        .extensions()
        .get::<VisitorToken>()
        .map(|v| v.token.clone());
    match token {
        Some(t) => {
            req.extensions_mut().insert(VisitorTokenUsed);
            t
        }
        None => String::new(),
    }
}

fn visitor_token(req: &ServiceRequest, state: &AppState) -> VisitorToken {
    let existing = req
        .cookie(CSRF_COOKIE)
        .map(|c| c.value().to_string())
        .filter(|n| {
            (32..=64).contains(&n.len())
                && n.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        });
    let fresh = existing.is_none();
    let nonce = existing.unwrap_or_else(|| crate::passwords::random_urlsafe(32));
    VisitorToken {
        token: state.keys.csrf_for_nonce(&nonce),
        nonce,
        fresh,
    }
}

/// Middleware (inside the session middleware): checks writes, and sets the visitor cookie when a
/// page handed out a new visitor token.
pub async fn csrf_guard(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Err(actix_web::error::ErrorInternalServerError("no app state"));
    };
    let visitor = visitor_token(&req, &state);
    req.extensions_mut().insert(visitor.clone());
    // The session's user is known now (loaded with the session): cache it for the handlers' guards
    // and for an error page rendered after the session has closed.
    if super::auth::bearer_token(req.headers()).is_none() {
        let principal = super::auth::session_principal(req.request());
        if principal.is_some()
            && let Ok(Some(t)) = req.get_session().get::<String>(CSRF_SESSION_KEY)
        {
            req.extensions_mut().insert(PageCsrf(t));
        }
        req.extensions_mut().insert(principal);
    }
    if let Err(e) = check(&mut req, &state, &visitor).await {
        return Ok(req.error_response(e).map_into_right_body());
    }
    let mut res = next.call(req).await?;
    if visitor.fresh && res.request().extensions().contains::<VisitorTokenUsed>() {
        let cookie = Cookie::build(CSRF_COOKIE, visitor.nonce)
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(state.settings.cookie_secure())
            .finish();
        let _ = res.response_mut().add_cookie(&cookie);
    }
    Ok(res.map_into_left_body())
}

fn same(expected: &str, submitted: &str) -> bool {
    !expected.is_empty()
        && expected.len() == submitted.len()
        && bool::from(expected.as_bytes().ct_eq(submitted.as_bytes()))
}

async fn check(
    req: &mut ServiceRequest,
    state: &AppState,
    visitor: &VisitorToken,
) -> Result<(), AppError> {
    if is_safe(req.method()) {
        return Ok(());
    }
    let cross_site = AppError::forbidden(
        ErrorCode::CrossSite,
        "Requests from other sites are not accepted.",
    );
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
    if super::auth::bearer_token(req.headers()).is_some() {
        return Ok(());
    }

    let is_signed_in = signed_in(req.request());
    // A signed-in user must present the session's token; a visitor the one of their cookie.
    let expected: Option<String> = if is_signed_in {
        req.get_session()
            .get::<String>(CSRF_SESSION_KEY)
            .ok()
            .flatten()
    } else {
        (!visitor.fresh).then(|| visitor.token.clone())
    };
    let mut submitted: Vec<String> = req
        .headers()
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .into_iter()
        .collect();
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if is_form {
        let body =
            super::body::read_limited(&mut req.take_payload(), state.settings.body_limit).await?;
        submitted.extend(
            url::form_urlencoded::parse(&body)
                .find(|(k, _)| k == CSRF_FIELD)
                .map(|(_, v)| v.into_owned()),
        );
        // Put the body back for the handler's form extractor.
        req.set_payload(Payload::from(body));
    }
    // Either carrier may hold the current token (a page loaded before sign-in can still send an old
    // header next to a fresh form field).
    if let Some(e) = &expected
        && submitted.iter().any(|s| same(e, s))
    {
        return Ok(());
    }
    // A signed-out API client is told to authenticate, as it would be on a read.
    if !is_signed_in && super::errors::is_api_path(req.path()) {
        return Err(AppError::Unauthenticated);
    }
    Err(if !is_signed_in {
        AppError::forbidden(
            ErrorCode::SessionExpired,
            "Your session has expired. Reload the page and try again.",
        )
    } else {
        AppError::forbidden(
            ErrorCode::CsrfInvalid,
            "This form is out of date or was not sent by agentdesk. Reload the page and try again.",
        )
    })
}

/// The request's own origin as a browser would write it (scheme://host[:port]).
fn own_origin(req: &ServiceRequest) -> String {
    let info = req.connection_info();
    format!("{}://{}", info.scheme(), info.host())
}
