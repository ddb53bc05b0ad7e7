use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::types::Json;

use super::Conn;
use crate::on_conn;

#[derive(Debug, sqlx::FromRow)]
pub struct SessionRow {
    pub state: Json<HashMap<String, String>>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

pub async fn load(c: Conn<'_>, key: &str) -> sqlx::Result<Option<SessionRow>> {
    on_conn!(c, e => sqlx::query_as("SELECT state, created_at, expires_at FROM sessions WHERE session_key = $1")
        .bind(key).fetch_optional(e).await)
}

pub async fn insert(
    c: Conn<'_>,
    key: &str,
    user_id: Option<i64>,
    state: &HashMap<String, String>,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> sqlx::Result<()> {
    crate::execute!(c, sqlx::query("INSERT INTO sessions (session_key, user_id, state, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(key).bind(user_id).bind(Json(state)).bind(now).bind(expires_at))?;
    Ok(())
}

/// Replaces the state of a live session; false when the session is gone (ended elsewhere).
pub async fn update(
    c: Conn<'_>,
    key: &str,
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
        .bind(key)
    )?;
    Ok(r == 1)
}

/// Moves the idle deadline. Skipped when the stored deadline is less than `slack` old, so a busy
/// session does not write on every request.
pub async fn touch(
    c: Conn<'_>,
    key: &str,
    expires_at: DateTime<Utc>,
    slack: chrono::Duration,
) -> sqlx::Result<()> {
    crate::execute!(
        c,
        sqlx::query(
            "UPDATE sessions SET expires_at = $1 WHERE session_key = $2 AND expires_at < $3"
        )
        .bind(expires_at)
        .bind(key)
        .bind(expires_at - slack)
    )?;
    Ok(())
}

pub async fn delete(c: Conn<'_>, key: &str) -> sqlx::Result<()> {
    crate::execute!(
        c,
        sqlx::query("DELETE FROM sessions WHERE session_key = $1").bind(key)
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
