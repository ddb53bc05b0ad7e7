use chrono::{DateTime, Utc};

use super::Conn;
use super::users::{User, UserRow};
use crate::on_conn;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ApiToken {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ApiToken {
    pub fn audit_json(&self) -> serde_json::Value {
        serde_json::json!({"id": self.id, "user_id": self.user_id, "name": self.name, "revoked": self.revoked_at.is_some()})
    }
}

pub async fn insert(
    c: Conn<'_>,
    user_id: i64,
    name: &str,
    token_hash: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<ApiToken> {
    on_conn!(c, e => sqlx::query_as(
        "INSERT INTO api_tokens (user_id, name, token_hash, created_at) VALUES ($1, $2, $3, $4) \
         RETURNING id, user_id, name, created_at, last_used_at, revoked_at")
        .bind(user_id).bind(name).bind(token_hash).bind(now).fetch_one(e).await)
}

/// The live token with this hash: (token id, user id).
/// A live token's id, when it was last used and its user, in one statement.
pub async fn find_live_with_user(
    c: Conn<'_>,
    token_hash: &str,
) -> sqlx::Result<Option<(i64, Option<DateTime<Utc>>, User)>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        token_id: i64,
        last_used_at: Option<DateTime<Utc>>,
        #[sqlx(flatten)]
        user: UserRow,
    }
    let row: Option<Row> = on_conn!(c, e => sqlx::query_as(
        "SELECT t.id AS token_id, t.last_used_at, u.id, u.email, u.role, u.customer_id, u.disabled, \
                u.must_change_password, u.created_at, u.updated_at \
         FROM api_tokens t JOIN users u ON u.id = t.user_id \
         WHERE t.token_hash = $1 AND t.revoked_at IS NULL")
        .bind(token_hash).fetch_optional(e).await)?;
    row.map(|r| Ok((r.token_id, r.last_used_at, User::try_from(r.user)?)))
        .transpose()
}

pub async fn mark_used(c: Conn<'_>, id: i64, now: DateTime<Utc>) -> sqlx::Result<()> {
    crate::execute!(
        c,
        sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
            .bind(now)
            .bind(id)
    )?;
    Ok(())
}

pub async fn for_user(c: Conn<'_>, user_id: i64) -> sqlx::Result<Vec<ApiToken>> {
    on_conn!(c, e => sqlx::query_as(
        "SELECT id, user_id, name, created_at, last_used_at, revoked_at FROM api_tokens WHERE user_id = $1 ORDER BY revoked_at IS NOT NULL, id DESC")
        .bind(user_id).fetch_all(e).await)
}

pub async fn by_id(c: Conn<'_>, id: i64) -> sqlx::Result<Option<ApiToken>> {
    on_conn!(c, e => sqlx::query_as("SELECT id, user_id, name, created_at, last_used_at, revoked_at FROM api_tokens WHERE id = $1")
        .bind(id).fetch_optional(e).await)
}

/// Revokes a live token; false when it was revoked already.
pub async fn revoke(c: Conn<'_>, id: i64, now: DateTime<Utc>) -> sqlx::Result<bool> {
    let r = crate::execute!(
        c,
        sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(now)
            .bind(id)
    )?;
    Ok(r == 1)
}
