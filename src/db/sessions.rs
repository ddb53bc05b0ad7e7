use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::types::Json;

use super::Conn;
use super::users::{User, UserRow};
use crate::on_conn;

/// A session with its signed-in user (when there is one), read in one statement.
#[derive(Debug, sqlx::FromRow)]
pub struct SessionRow {
    pub state: Json<HashMap<String, String>>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub user_id: Option<i64>,
    pub email: Option<String>,
    pub role: Option<String>,
    pub customer_id: Option<String>,
    pub disabled: Option<bool>,
    pub must_change_password: Option<bool>,
    pub user_created_at: Option<DateTime<Utc>>,
    pub user_updated_at: Option<DateTime<Utc>>,
    /// Items waiting for the user's review, up to the cap asked for; 0 without a user.
    pub waiting: i64,
}

impl SessionRow {
    /// The session's user, if it has one that still exists.
    pub fn user(&self) -> sqlx::Result<Option<User>> {
        let (Some(id), Some(email), Some(role), Some(created_at), Some(updated_at)) = (
            self.user_id,
            self.email.clone(),
            self.role.clone(),
            self.user_created_at,
            self.user_updated_at,
        ) else {
            return Ok(None);
        };
        User::try_from(UserRow {
            id,
            email,
            role,
            customer_id: self.customer_id.clone(),
            disabled: self.disabled.unwrap_or(true),
            must_change_password: self.must_change_password.unwrap_or(false),
            created_at,
            updated_at,
        })
        .map(Some)
    }
}

/// The statement of [`load`]: `$1` the key's hash. Besides the session and its user it counts, up
/// to `waiting_cap`, what waits for the user's review (a customer's items, or all for staff): the
/// navigation shows that count on every page, and here it costs no round trip of its own.
pub fn load_sql(waiting_cap: i64) -> String {
    let of_customer = super::review_queue::pending_count_expr(Some("u.customer_id"), waiting_cap);
    let of_all = super::review_queue::pending_count_expr(None, waiting_cap);
    format!(
        "SELECT s.state, s.created_at, s.expires_at, u.id AS user_id, u.email, u.role, u.customer_id, \
                u.disabled, u.must_change_password, u.created_at AS user_created_at, \
                u.updated_at AS user_updated_at, \
                CASE WHEN u.id IS NULL THEN 0 WHEN u.role = 'customer' THEN {of_customer} \
                     ELSE {of_all} END AS waiting \
         FROM sessions s LEFT JOIN users u ON u.id = s.user_id WHERE s.session_key = $1"
    )
}

/// Sessions are looked up by the hash of their key (`key_hash`): the database never holds a key
/// that could be replayed as a cookie.
pub async fn load(
    c: Conn<'_>,
    key_hash: &str,
    waiting_cap: i64,
) -> sqlx::Result<Option<SessionRow>> {
    let sql = sqlx::AssertSqlSafe(load_sql(waiting_cap));
    on_conn!(c, e => sqlx::query_as(sql).bind(key_hash).fetch_optional(e).await)
}

pub async fn insert(
    c: Conn<'_>,
    key_hash: &str,
    user_id: Option<i64>,
    state: &HashMap<String, String>,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> sqlx::Result<()> {
    crate::execute!(c, sqlx::query("INSERT INTO sessions (session_key, user_id, state, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(key_hash).bind(user_id).bind(Json(state)).bind(now).bind(expires_at))?;
    Ok(())
}

/// Replaces the state of a live session; false when the session is gone (ended elsewhere).
pub async fn update(
    c: Conn<'_>,
    key_hash: &str,
    user_id: Option<i64>,
    state: &HashMap<String, String>,
    expires_at: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let r = crate::execute!(
        c,
        sqlx::query(
            "UPDATE sessions SET user_id = $1, state = $2, expires_at = $3 WHERE session_key = $4"
        )
        .bind(user_id)
        .bind(Json(state))
        .bind(expires_at)
        .bind(key_hash)
    )?;
    Ok(r == 1)
}

/// Moves the idle deadline.
pub async fn touch(c: Conn<'_>, key_hash: &str, expires_at: DateTime<Utc>) -> sqlx::Result<()> {
    crate::execute!(
        c,
        sqlx::query("UPDATE sessions SET expires_at = $1 WHERE session_key = $2")
            .bind(expires_at)
            .bind(key_hash)
    )?;
    Ok(())
}

pub async fn delete(c: Conn<'_>, key_hash: &str) -> sqlx::Result<()> {
    crate::execute!(
        c,
        sqlx::query("DELETE FROM sessions WHERE session_key = $1").bind(key_hash)
    )?;
    Ok(())
}

/// Ends every session of a user (logout everywhere, disabled, password changed).
pub async fn delete_for_user(c: Conn<'_>, user_id: i64) -> sqlx::Result<u64> {
    let r = crate::execute!(
        c,
        sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user_id)
    )?;
    Ok(r)
}

pub async fn purge_expired(
    c: Conn<'_>,
    now: DateTime<Utc>,
    created_before: DateTime<Utc>,
) -> sqlx::Result<u64> {
    let r = crate::execute!(
        c,
        sqlx::query("DELETE FROM sessions WHERE expires_at < $1 OR created_at < $2")
            .bind(now)
            .bind(created_before)
    )?;
    Ok(r)
}

pub async fn count_for_user(c: Conn<'_>, user_id: i64) -> sqlx::Result<i64> {
    on_conn!(c, e => sqlx::query_scalar("SELECT COUNT(*) FROM sessions WHERE user_id = $1").bind(user_id).fetch_one(e).await)
}
