//! Idempotency keys: the first request under a key (per customer) stores its fingerprint and
//! answer; later ones with the same key get that answer back.

use chrono::{DateTime, Utc};

use super::Conn;
use crate::on_conn;

/// Claims `key` for this request inside its transaction. On PostgreSQL a concurrent claim of the
/// same key waits for this transaction and then finds the row; SQLite's write transactions run
/// one at a time. False when the key was claimed before.
pub async fn claim(
    c: Conn<'_>,
    customer_id: &str,
    key: &str,
    fingerprint: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let n = crate::execute!(c, sqlx::query(
        "INSERT INTO idempotency_keys (customer_id, key, fingerprint, response, created_at) VALUES ($1, $2, $3, '', $4) \
         ON CONFLICT (customer_id, key) DO NOTHING")
        .bind(customer_id).bind(key).bind(fingerprint).bind(now))?;
    Ok(n == 1)
}

/// Stores the answer of the request that claimed the key (same transaction).
pub async fn store_response(
    c: Conn<'_>,
    customer_id: &str,
    key: &str,
    response: &str,
) -> sqlx::Result<()> {
    crate::execute!(
        c,
        sqlx::query(
            "UPDATE idempotency_keys SET response = $3 WHERE customer_id = $1 AND key = $2"
        )
        .bind(customer_id)
        .bind(key)
        .bind(response)
    )?;
    Ok(())
}

/// (fingerprint, response) stored under a key.
pub async fn get(
    c: Conn<'_>,
    customer_id: &str,
    key: &str,
) -> sqlx::Result<Option<(String, String)>> {
    on_conn!(c, e => sqlx::query_as("SELECT fingerprint, response FROM idempotency_keys WHERE customer_id = $1 AND key = $2")
        .bind(customer_id).bind(key).fetch_optional(e).await)
}

/// Forgets keys claimed before `before` (a retry comes within minutes, not weeks); the number removed.
pub async fn purge_before(c: Conn<'_>, before: DateTime<Utc>) -> sqlx::Result<u64> {
    crate::execute!(
        c,
        sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1").bind(before)
    )
}
