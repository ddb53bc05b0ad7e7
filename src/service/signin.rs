//! Signing in and out: throttled per e-mail and per client address, every outcome audited; and the
//! housekeeping of sessions and sign-in attempts.

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::db::audit::{self, Change};
use crate::db::users::User;
use crate::db::{Db, login_attempts, sessions, users};
use crate::domain::actor::Actor;
use crate::domain::roles::normalise_email;
use crate::error::{AppError, AppResult};
use crate::passwords;

pub const THROTTLE_WINDOW_MINUTES: i64 = 15;
pub const MAX_FAILURES_PER_EMAIL: i64 = 5;
pub const MAX_FAILURES_PER_CLIENT: i64 = 20;

#[derive(Debug)]
pub enum LoginError {
    /// Wrong e-mail or password (deliberately not saying which).
    WrongCredentials,
    Disabled,
    Throttled {
        retry_after_secs: u64,
        until: DateTime<Utc>,
    },
    Other(AppError),
}

impl<E: Into<AppError>> From<E> for LoginError {
    fn from(e: E) -> Self {
        LoginError::Other(e.into())
    }
}

/// The e-mail as kept in throttling records and the audit trail: normalised, or a fixed marker when it
/// is not an address at all (so a password typed into the wrong box never lands in the audit trail).
fn login_key(raw_email: &str) -> String {
    match normalise_email(raw_email) {
        Ok(e) => e,
        Err(_) => "<not an e-mail address>".to_string(),
    }
}

/// Checks a sign-in attempt, with throttling per e-mail and per client, and audits the outcome. The
/// attempt is recorded (as failed) before the password is checked, in one transaction with the count,
/// so parallel guesses cannot slip past the limit.
pub async fn login(
    db: &Db,
    actor: &Actor,
    raw_email: &str,
    password: &str,
    client_ip: &str,
) -> Result<User, LoginError> {
    let email = login_key(raw_email);
    let window = chrono::Duration::minutes(THROTTLE_WINDOW_MINUTES);
    let since = actor.now - window;

    let mut tx = db.begin().await?;
    login_attempts::lock(tx.conn(), &email, client_ip).await?;
    let by_email = login_attempts::failures_for_email(tx.conn(), &email, since).await?;
    let by_ip = login_attempts::failures_for_ip(tx.conn(), client_ip, since).await?;
    let mut until: Option<DateTime<Utc>> = None;
    if by_email.count >= MAX_FAILURES_PER_EMAIL {
        until = by_email.oldest.map(|o| o + window);
    }
    if by_ip.count >= MAX_FAILURES_PER_CLIENT {
        until = until.max(by_ip.oldest.map(|o| o + window));
    }
    if let Some(until) = until {
        let retry_after_secs = (until - actor.now).num_seconds().max(1) as u64;
        // One audit entry per e-mail and window is enough; a flood of refused attempts adds nothing.
        if !audit::exists_since(tx.conn(), "login", &email, "login_throttled", since).await? {
            audit::record(
                tx.conn(),
                actor,
                Change {
                    entity_type: "login",
                    entity_id: &email,
                    action: "login_throttled",
                    before: None,
                    after: Some(json!({"email": email, "client_ip": client_ip, "retry_after_secs": retry_after_secs})),
                },
            )
            .await?;
        }
        tx.commit().await?;
        return Err(LoginError::Throttled {
            retry_after_secs,
            until,
        });
    }
    let attempt = login_attempts::record(tx.conn(), &email, client_ip, false, actor.now).await?;
    let found = users::by_email_for_login(tx.conn(), &email).await?;
    tx.commit().await?;

    let (user, hash) = match found {
        Some((u, h)) => (Some(u), Some(h)),
        None => (None, None),
    };
    let ok = passwords::verify(password.to_string(), hash).await;
    let outcome = match (&user, ok) {
        (Some(u), true) if !u.disabled => Ok(u.clone()),
        (Some(_), true) => Err(LoginError::Disabled),
        _ => Err(LoginError::WrongCredentials),
    };
    let mut tx = db.begin().await?;
    let (signed_in_actor, action, entity_type, entity_id) = match &outcome {
        Ok(u) => {
            login_attempts::mark_succeeded(tx.conn(), attempt).await?;
            (
                Actor {
                    user_id: Some(u.id),
                    role: Some(u.role),
                    ..actor.clone()
                },
                "login_succeeded",
                "user",
                u.id.to_string(),
            )
        }
        Err(_) => (actor.clone(), "login_failed", "login", email.clone()),
    };
    audit::record(
        tx.conn(),
        &signed_in_actor,
        Change {
            entity_type,
            entity_id: &entity_id,
            action,
            before: None,
            after: Some(json!({"email": email, "client_ip": client_ip})),
        },
    )
    .await?;
    tx.commit().await?;
    outcome
}

/// Audits a sign-out (the session row itself is removed by the session layer).
/// With `everywhere`, every session of the user ends in the same transaction (other devices too).
pub async fn record_logout(db: &Db, actor: &Actor, user: &User, everywhere: bool) -> AppResult<()> {
    let mut tx = db.begin().await?;
    let ended = if everywhere {
        Some(sessions::delete_for_user(tx.conn(), user.id).await?)
    } else {
        None
    };
    audit::record(
        tx.conn(),
        actor,
        Change {
            entity_type: "user",
            entity_id: &user.id.to_string(),
            action: if everywhere {
                "logout_everywhere"
            } else {
                "logout"
            },
            before: None,
            after: ended.map(|n| json!({"sessions_ended": n})),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Removes expired sessions and login attempts older than the throttling window.
pub async fn housekeeping(
    db: &Db,
    now: DateTime<Utc>,
    session_max: chrono::Duration,
) -> AppResult<(u64, u64)> {
    let mut tx = db.begin().await?;
    let s = sessions::purge_expired(tx.conn(), now, now - session_max).await?;
    let l = login_attempts::purge_before(tx.conn(), now - chrono::Duration::days(1)).await?;
    tx.commit().await?;
    Ok((s, l))
}
