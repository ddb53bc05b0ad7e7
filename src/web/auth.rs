//! Who is asking: the principal behind a request (session cookie or bearer token) and the role guards
//! handlers declare as extractors.

use std::ops::Deref;

use actix_session::SessionExt;
use actix_web::dev::Payload;
use actix_web::http::Method;
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use futures_util::future::LocalBoxFuture;

use super::AppState;
use super::middleware::CorrelationId;
use super::session_store::USER_ID_KEY;
use crate::db::audit::AuditContext;
use crate::db::users::User;
use crate::db::{tokens, users};
use crate::domain::roles::Role;
use crate::error::AppError;
use crate::passwords;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthVia {
    Session,
    Token,
}

/// A signed-in user and how they proved it.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user: User,
    pub via: AuthVia,
}

/// The request's principal, looked up once per request and cached in its extensions.
/// `Ok(None)`: nobody is signed in. A bearer header that is not a live token is an error (401), never
/// a silent fall-back to the cookie.
pub async fn principal_of(req: &HttpRequest) -> Result<Option<Principal>, AppError> {
    if let Some(p) = req.extensions().get::<Option<Principal>>() {
        return Ok(p.clone());
    }
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| anyhow::anyhow!("no app state"))?
        .clone();
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .filter(|v| v.len() > 7 && v[..7].eq_ignore_ascii_case("bearer "))
        .map(|v| v[7..].trim().to_string());
    let found = if let Some(token) = bearer {
        let hash = passwords::token_hash(&token);
        let mut c = state.db.acquire().await?;
        let Some((token_id, user_id, last_used)) = tokens::find_live(c.conn(), &hash).await? else {
            return Err(AppError::Unauthenticated);
        };
        let now = state.clock.now();
        // Record use at most once a minute per token: cheap, and precise enough for "last used".
        if last_used.is_none_or(|t| now - t > chrono::Duration::seconds(60)) {
            tokens::mark_used(c.conn(), token_id, now).await?;
        }
        match users::by_id(c.conn(), user_id).await? {
            Some(u) if !u.disabled => Some(Principal {
                user: u,
                via: AuthVia::Token,
            }),
            _ => return Err(AppError::Unauthenticated),
        }
    } else {
        let session = req.get_session();
        match session.get::<i64>(USER_ID_KEY).ok().flatten() {
            None => None,
            Some(uid) => {
                let mut c = state.db.acquire().await?;
                match users::by_id(c.conn(), uid).await? {
                    Some(u) if !u.disabled => Some(Principal {
                        user: u,
                        via: AuthVia::Session,
                    }),
                    _ => {
                        session.purge();
                        None
                    }
                }
            }
        }
    };
    req.extensions_mut().insert(found.clone());
    Ok(found)
}

/// Paths a user who must change the password may still use.
fn allowed_before_password_change(path: &str) -> bool {
    matches!(path, "/account/password" | "/logout")
        || path.starts_with("/static/")
        || path.starts_with("/health/")
}

async fn signed_in(req: &HttpRequest) -> Result<Principal, AppError> {
    let p = principal_of(req).await?.ok_or(AppError::Unauthenticated)?;
    if p.user.must_change_password
        && p.via == AuthVia::Session
        && !allowed_before_password_change(req.path())
    {
        return Err(AppError::PasswordChangeRequired);
    }
    Ok(p)
}

fn is_write(m: &Method) -> bool {
    !matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

macro_rules! guard {
    ($(#[$doc:meta])* $name:ident, |$req:ident, $p:ident| $check:expr) => {
        $(#[$doc])*
        pub struct $name(pub Principal);

        impl Deref for $name {
            type Target = Principal;
            fn deref(&self) -> &Principal {
                &self.0
            }
        }

        impl FromRequest for $name {
            type Error = AppError;
            type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

            fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
                let $req = req.clone();
                Box::pin(async move {
                    let $p = signed_in(&$req).await?;
                    $check?;
                    Ok($name($p))
                })
            }
        }
    };
}

guard!(
    /// Any signed-in user.
    SignedIn, |req, p| Ok::<(), AppError>(())
);

guard!(
    /// Staff (admin, operator, viewer). Viewers only read: any change answers 403.
    Staff, |req, p| {
        if !p.user.role.is_staff() {
            Err(AppError::forbidden("This area is for agentdesk staff."))
        } else if is_write(req.method()) && !p.user.role.can_write_admin() {
            Err(AppError::forbidden("Viewers can look at everything but change nothing."))
        } else {
            Ok(())
        }
    }
);

guard!(
    /// Staff, for requests that only look, even when they are POSTs (trying a form preview changes
    /// nothing, so viewers may do it).
    StaffReader, |req, p| {
        if p.user.role.is_staff() { Ok(()) } else { Err(AppError::forbidden("This area is for agentdesk staff.")) }
    }
);

guard!(
    /// Admins only (users, API token administration, agent types).
    Admin, |req, p| {
        if p.user.role == Role::Admin { Ok(()) } else { Err(AppError::forbidden("Only admins may do this.")) }
    }
);

guard!(
    /// A customer's user (the portal).
    CustomerUser, |req, p| {
        if p.user.role == Role::Customer && p.user.customer_id.is_some() {
            Ok(())
        } else {
            Err(AppError::forbidden("The portal is for customers' users."))
        }
    }
);

/// Per-request context for writes: the audit actor, the correlation id and the time.
pub fn audit_context(req: &HttpRequest, state: &AppState, actor: Option<&User>) -> AuditContext {
    AuditContext {
        actor_user_id: actor.map(|u| u.id),
        actor_role: actor.map(|u| u.role),
        correlation_id: correlation_id(req),
        now: state.clock.now(),
    }
}

pub fn correlation_id(req: &HttpRequest) -> String {
    req.extensions()
        .get::<CorrelationId>()
        .map(|c| c.0.clone())
        .unwrap_or_default()
}

/// The client address used for throttling (the TCP peer; proxies are not trusted).
pub fn client_ip(req: &HttpRequest) -> String {
    req.peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}
