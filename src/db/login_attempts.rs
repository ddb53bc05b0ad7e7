use chrono::{DateTime, Utc};

use super::Conn;
use crate::on_conn;

/// Records an attempt; returns its id (attempts are recorded as failed before the password is checked,
/// then marked as succeeded, so parallel guesses all count).
pub async fn record(
    c: Conn<'_>,
    email: &str,
    client_ip: &str,
    succeeded: bool,
    at: DateTime<Utc>,
) -> sqlx::Result<i64> {
    on_conn!(c, e => sqlx::query_scalar("INSERT INTO login_attempts (email, client_ip, succeeded, at) VALUES ($1, $2, $3, $4) RETURNING id")
        .bind(email).bind(client_ip).bind(succeeded).bind(at).fetch_one(e).await)
}

pub async fn mark_succeeded(c: Conn<'_>, id: i64) -> sqlx::Result<()> {
    crate::execute!(
        c,
        sqlx::query("UPDATE login_attempts SET succeeded = TRUE WHERE id = $1").bind(id)
    )?;
    Ok(())
}

/// Serialises attempts for one e-mail and one client inside the current transaction, so counting and
/// recording cannot interleave. SQLite needs nothing: its write transactions (BEGIN IMMEDIATE) already
/// run one at a time. The dialect difference lives here and nowhere else.
pub async fn lock(c: Conn<'_>, email: &str, client_ip: &str) -> sqlx::Result<()> {
    if let Conn::Postgres(e) = c {
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext('login:' || $1)), pg_advisory_xact_lock(hashtext('client:' || $2))")
            .bind(email)
            .bind(client_ip)
            .execute(e)
            .await?;
    }
    Ok(())
}

/// Failed attempts since `since` for this e-mail and for this client: (count, oldest) each.
#[derive(Debug, Default, Clone, sqlx::FromRow)]
pub struct Failures {
    pub count: i64,
    pub oldest: Option<DateTime<Utc>>,
}

pub async fn failures_for_email(
    c: Conn<'_>,
    email: &str,
    since: DateTime<Utc>,
) -> sqlx::Result<Failures> {
    on_conn!(c, e => sqlx::query_as(
        "SELECT COUNT(*) AS count, MIN(at) AS oldest FROM login_attempts WHERE email = $1 AND at > $2 AND NOT succeeded")
        .bind(email).bind(since).fetch_one(e).await)
}

pub async fn failures_for_ip(
    c: Conn<'_>,
    client_ip: &str,
    since: DateTime<Utc>,
) -> sqlx::Result<Failures> {
    on_conn!(c, e => sqlx::query_as(
        "SELECT COUNT(*) AS count, MIN(at) AS oldest FROM login_attempts WHERE client_ip = $1 AND at > $2 AND NOT succeeded")
        .bind(client_ip).bind(since).fetch_one(e).await)
}

pub async fn purge_before(c: Conn<'_>, before: DateTime<Utc>) -> sqlx::Result<u64> {
    let r = crate::execute!(
        c,
        sqlx::query("DELETE FROM login_attempts WHERE at < $1").bind(before)
    )?;
    Ok(r)
}
