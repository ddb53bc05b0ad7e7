//! Rows of `credentials`: encrypted secrets, never decrypted here.

use chrono::{DateTime, Utc};

use super::Conn;
use crate::on_conn;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Credential {
    pub id: String,
    pub customer_id: String,
    pub label: String,
    pub sealed: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, customer_id, label, sealed, created_at, updated_at";

pub async fn insert(c: Conn<'_>, cr: &Credential) -> sqlx::Result<()> {
    crate::execute!(c, sqlx::query(
        "INSERT INTO credentials (id, customer_id, label, sealed, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)")
        .bind(&cr.id).bind(&cr.customer_id).bind(&cr.label).bind(&cr.sealed).bind(cr.created_at))?;
    Ok(())
}

/// Replaces the label and secret of a customer's credential; false when it has none with this id.
pub async fn replace(
    c: Conn<'_>,
    id: &str,
    customer_id: &str,
    label: &str,
    sealed: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let n = crate::execute!(c, sqlx::query(
        "UPDATE credentials SET label = $3, sealed = $4, updated_at = $5 WHERE id = $1 AND customer_id = $2")
        .bind(id).bind(customer_id).bind(label).bind(sealed).bind(now))?;
    Ok(n == 1)
}

pub async fn get(c: Conn<'_>, id: &str, customer_id: &str) -> sqlx::Result<Option<Credential>> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM credentials WHERE id = $1 AND customer_id = $2"
    ));
    on_conn!(c, e => sqlx::query_as(sql).bind(id).bind(customer_id).fetch_optional(e).await)
}

/// A customer's credentials, oldest first.
pub async fn of_customer(c: Conn<'_>, customer_id: &str) -> sqlx::Result<Vec<Credential>> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM credentials WHERE customer_id = $1 ORDER BY created_at, id"
    ));
    on_conn!(c, e => sqlx::query_as(sql).bind(customer_id).fetch_all(e).await)
}

/// Every credential (for re-encryption under a new key), locked on PostgreSQL until the
/// transaction ends.
pub async fn all_for_update(c: Conn<'_>) -> sqlx::Result<Vec<Credential>> {
    let lock = if c.engine() == super::Engine::Postgres {
        " FOR UPDATE"
    } else {
        ""
    };
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM credentials ORDER BY id{lock}"
    ));
    on_conn!(c, e => sqlx::query_as(sql).fetch_all(e).await)
}

pub async fn set_sealed(c: Conn<'_>, id: &str, sealed: &str) -> sqlx::Result<()> {
    crate::execute!(
        c,
        sqlx::query("UPDATE credentials SET sealed = $2 WHERE id = $1")
            .bind(id)
            .bind(sealed)
    )?;
    Ok(())
}
