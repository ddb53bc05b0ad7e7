use chrono::{DateTime, Utc};

use super::Conn;
use crate::on_conn;

pub async fn record(
    c: Conn<'_>,
    email: &str,
    client_ip: &str,
    succeeded: bool,
    at: DateTime<Utc>,
) -> sqlx::Result<()> {
    crate::execute!(
        c,
        sqlx::query(
            "INSERT INTO login_attempts (email, client_ip, succeeded, at) VALUES ($1, $2, $3, $4)"
        )
        .bind(email)
        .bind(client_ip)
        .bind(succeeded)
        .bind(at)
    )?;
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
