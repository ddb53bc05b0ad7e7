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
use super::session_store::{PRINCIPAL_KEY, USER_ID_KEY};
use crate::domain::actor::{Actor, Scope};
use crate::domain::roles::Role;
use crate::error::{AppError, ErrorCode};
use crate::service::sessions;
use crate::service::users::User;

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

/// The token of an `Authorization: Bearer …` header, if the request has one.
pub fn bearer_token(headers: &header::HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .filter(|v| v.len() > 7 && v[..7].eq_ignore_ascii_case("bearer "))
        .map(|v| v[7..].trim())
}

/// The request's principal, looked up once per request and cached in its extensions.
/// `Ok(None)`: nobody is signed in. A bearer header that is not a live token is an error (401), never
/// a silent fall-back to the cookie.
///
/// A session's user comes with the session (one statement, see `session_store`); a token's user
/// with the token (one statement, plus at most one a minute to record its use).
pub async fn principal_of(req: &HttpRequest) -> Result<Option<Principal>, AppError> {
    if let Some(p) = req.extensions().get::<Option<Principal>>() {
        return Ok(p.clone());
    }
    let found = if let Some(token) = bearer_token(req.headers()) {
        let state = req
            .app_data::<web::Data<AppState>>()
            .ok_or_else(|| anyhow::anyhow!("no app state"))?
            .clone();
        let user = sessions::user_for_token(&state.db, token, state.clock.now()).await?;
        Some(Principal {
            user,
            via: AuthVia::Token,
        })
    } else {
        session_principal(req)
    };
    req.extensions_mut().insert(found.clone());
    Ok(found)
}

/// The signed-in user of the session, as the session store loaded it; a session whose user was
/// removed or disabled is ended.
pub(crate) fn session_principal(req: &HttpRequest) -> Option<Principal> {
    let session = req.get_session();
    let uid = session.get::<i64>(USER_ID_KEY).ok().flatten()?;
    match session.get::<User>(PRINCIPAL_KEY).ok().flatten() {
        Some(u) if u.id == uid && !u.disabled => Some(Principal {
            user: u,
            via: AuthVia::Session,
        }),
        _ => {
            session.purge();
            None
        }
    }
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
        pub struct $name {
            pub principal: Principal,
            /// Who acts in this request: what every change is recorded with.
            pub actor: Actor,
        }

        impl Deref for $name {
            type Target = Principal;
            fn deref(&self) -> &Principal {
                &self.principal
            }
        }

        impl $name {
            /// Whose data this request may read.
            pub fn scope(&self) -> Scope {
                scope_of(&self.principal.user)
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
                    let actor = actor_for(&$req, &$p.user);
                    Ok($name { principal: $p, actor })
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
            Err(AppError::forbidden(ErrorCode::StaffOnly, "This area is for agentdesk staff."))
        } else if is_write(req.method()) && !p.user.role.can_write_admin() {
            Err(AppError::forbidden(ErrorCode::ReadOnly, "Viewers can look at everything but change nothing."))
        } else {
            Ok(())
        }
    }
);

guard!(
    /// Staff who may change things (admins and operators), also for the pages that only lead to a
    /// change (a "new" or "edit" form): a viewer is told at once, not after filling it in.
    StaffWriter, |req, p| {
        if !p.user.role.is_staff() {
            Err(AppError::forbidden(ErrorCode::StaffOnly, "This area is for agentdesk staff."))
        } else if !p.user.role.can_write_admin() {
            Err(AppError::forbidden(ErrorCode::ReadOnly, "Viewers can look at everything but change nothing."))
        } else {
            Ok(())
        }
    }
);

guard!(
    /// Staff, for requests that only look, even when they are POSTs (trying a form preview changes
    /// nothing, so viewers may do it).
    StaffReader, |req, p| {
        if p.user.role.is_staff() { Ok(()) } else { Err(AppError::forbidden(ErrorCode::StaffOnly, "This area is for agentdesk staff.")) }
    }
);

guard!(
    /// Admins only (users, API token administration, agent types).
    Admin, |req, p| {
        if p.user.role == Role::Admin { Ok(()) } else { Err(AppError::forbidden(ErrorCode::AdminOnly, "Only admins may do this.")) }
    }
);

guard!(
    /// A customer's user (the portal).
    CustomerUser, |req, p| {
        if p.user.role == Role::Customer && p.user.customer_id.is_some() {
            Ok(())
        } else {
            Err(AppError::forbidden(ErrorCode::CustomersOnly, "The portal is for customers' users."))
        }
    }
);

/// The actor of a request made by `user`: produced once, by the guards.
pub fn actor_for(req: &HttpRequest, user: &User) -> Actor {
    Actor::user(user.id, user.role, correlation_id(req), now(req))
}

/// The actor of a request nobody is signed in for (a sign-in attempt).
pub fn anonymous_actor(req: &HttpRequest) -> Actor {
    Actor::system(correlation_id(req), now(req))
}

fn now(req: &HttpRequest) -> chrono::DateTime<chrono::Utc> {
    req.app_data::<web::Data<AppState>>()
        .map(|s| s.clock.now())
        .unwrap_or_else(chrono::Utc::now)
}

/// Staff read everything; a customer's user only their customer's data.
pub fn scope_of(user: &User) -> Scope {
    match (&user.customer_id, user.role) {
        (Some(id), Role::Customer) => Scope::Customer(id.clone()),
        _ if user.role.is_staff() => Scope::Staff,
        // A customer role without a customer (the database forbids it) sees nothing.
        _ => Scope::Customer(String::new()),
    }
}

pub fn correlation_id(req: &HttpRequest) -> String {
    req.extensions()
        .get::<CorrelationId>()
        .map(|c| c.0.clone())
        .unwrap_or_default()
}

/// The client address used for throttling: the TCP peer, or, when the peer is one of
/// `AGENTDESK_TRUSTED_PROXIES`, the nearest address in `X-Forwarded-For` that is not itself a trusted
/// proxy (addresses further left were written by the client and prove nothing).
pub fn client_ip(req: &HttpRequest) -> String {
    let Some(peer) = req.peer_addr().map(|a| a.ip()) else {
        return "unknown".into();
    };
    let trusted: &[crate::config::IpRange] = req
        .app_data::<web::Data<AppState>>()
        .map(|s| s.settings.trusted_proxies.as_slice())
        .unwrap_or(&[]);
    let is_trusted = |ip: std::net::IpAddr| trusted.iter().any(|r| r.contains(ip));
    if !is_trusted(peer) {
        return peer.to_string();
    }
    let forwarded: Vec<std::net::IpAddr> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|a| a.trim().parse().ok())
        .collect();
    forwarded
        .iter()
        .rev()
        .find(|ip| !is_trusted(**ip))
        .or(forwarded.first())
        .copied()
        .unwrap_or(peer)
        .to_string()
}
