//! Who is signed in: server-side sessions (stored under the SHA-256 of their key, loaded together with
//! their user) and API tokens. The web layer's session store and guards call these; nothing in `web`
//! reads the tables itself.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};

use crate::db::users::User;
use crate::db::{Db, sessions, tokens};
use crate::error::{AppError, AppResult};
use crate::passwords;

/// Writing the idle deadline again is skipped while it is less than this stale.
const TOUCH_SLACK_SECONDS: i64 = 60;

/// What is stored for a session cookie's key.
pub fn key_hash(key: &str) -> String {
    passwords::token_hash(key)
}

/// A live session's state and its user (when the user still exists).
pub struct Loaded {
    pub state: HashMap<String, String>,
    pub user: Option<User>,
    /// What waits for the user's review, up to the navigation badge's cap.
    pub waiting: i64,
}

/// Lifetimes of a session: idle (moved on use) and absolute (from sign-in).
#[derive(Debug, Clone, Copy)]
pub struct Lifetimes {
    pub idle: Duration,
    pub max: Duration,
}

/// One statement reads the session, its user and what waits for the user's review; an expired session is removed, and a deadline
/// more than a minute stale is moved (the only write an unchanged session ever causes).
pub async fn load(
    db: &Db,
    key: &str,
    now: DateTime<Utc>,
    life: Lifetimes,
) -> AppResult<Option<Loaded>> {
    let hash = key_hash(key);
    let mut c = db.acquire().await?;
    let Some(row) = sessions::load(c.conn(), &hash, super::review_queue::BADGE_CAP).await? else {
        return Ok(None);
    };
    if row.expires_at <= now || row.created_at + life.max <= now {
        sessions::delete(c.conn(), &hash).await?;
        return Ok(None);
    }
    let deadline = now + life.idle;
    if row.expires_at < deadline - Duration::seconds(TOUCH_SLACK_SECONDS) {
        sessions::touch(c.conn(), &hash, deadline).await?;
    }
    let user = row.user()?;
    Ok(Some(Loaded {
        state: row.state.0,
        user,
        waiting: row.waiting,
    }))
}

/// Stores a new session; returns its key (the cookie's value).
pub async fn create(
    db: &Db,
    state: &HashMap<String, String>,
    user_id: Option<i64>,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> AppResult<String> {
    let key = passwords::random_urlsafe(32);
    let mut c = db.acquire().await?;
    sessions::insert(c.conn(), &key_hash(&key), user_id, state, now, expires_at).await?;
    Ok(key)
}

/// Replaces a live session's state; false when it was ended meanwhile.
pub async fn replace(
    db: &Db,
    key: &str,
    state: &HashMap<String, String>,
    user_id: Option<i64>,
    expires_at: DateTime<Utc>,
) -> AppResult<bool> {
    let mut c = db.acquire().await?;
    Ok(sessions::update(c.conn(), &key_hash(key), user_id, state, expires_at).await?)
}

pub async fn touch(db: &Db, key: &str, expires_at: DateTime<Utc>) -> AppResult<()> {
    let mut c = db.acquire().await?;
    sessions::touch(c.conn(), &key_hash(key), expires_at).await?;
    Ok(())
}

pub async fn end(db: &Db, key: &str) -> AppResult<()> {
    let mut c = db.acquire().await?;
    sessions::delete(c.conn(), &key_hash(key)).await?;
    Ok(())
}

/// The user behind an API token: one statement, plus at most one a minute to record its use. A
/// revoked or unknown token, or a disabled user, is `Unauthenticated`.
pub async fn user_for_token(db: &Db, token: &str, now: DateTime<Utc>) -> AppResult<User> {
    let hash = passwords::token_hash(token);
    let mut c = db.acquire().await?;
    let Some((token_id, last_used, user)) = tokens::find_live_with_user(c.conn(), &hash).await?
    else {
        return Err(AppError::Unauthenticated);
    };
    if user.disabled {
        return Err(AppError::Unauthenticated);
    }
    // Precise enough for "last used", and no write on every call.
    if last_used.is_none_or(|t| now - t > Duration::seconds(60)) {
        tokens::mark_used(c.conn(), token_id, now).await?;
    }
    Ok(user)
}
