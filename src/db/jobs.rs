//! Job leases (one instance at a time runs a job kind) and the record of every run.

use chrono::{DateTime, Utc};
use sqlx::types::Json;

use super::Conn;
use crate::on_conn;

/// Takes the lease of `job` for `holder` until `until`, when nobody holds it or the last holder's
/// lease ran out (or it is ours already). One statement, so two instances cannot both win.
pub async fn take_lease(
    c: Conn<'_>,
    job: &str,
    holder: &str,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let n = crate::execute!(c, sqlx::query(
        "INSERT INTO job_leases (job, holder, expires_at) VALUES ($1, $2, $3) \
         ON CONFLICT (job) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at \
         WHERE job_leases.expires_at <= $4 OR job_leases.holder = excluded.holder")
        .bind(job).bind(holder).bind(until).bind(now))?;
    Ok(n == 1)
}

pub async fn release_lease(c: Conn<'_>, job: &str, holder: &str) -> sqlx::Result<()> {
    crate::execute!(
        c,
        sqlx::query("DELETE FROM job_leases WHERE job = $1 AND holder = $2")
            .bind(job)
            .bind(holder)
    )?;
    Ok(())
}

pub struct NewRun<'a> {
    pub job: &'a str,
    pub holder: &'a str,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub ok: bool,
    pub report: &'a serde_json::Value,
    pub error: Option<&'a str>,
}

pub async fn record_run(c: Conn<'_>, r: &NewRun<'_>) -> sqlx::Result<()> {
    crate::execute!(
        c,
        sqlx::query(
            "INSERT INTO job_runs (job, holder, started_at, finished_at, outcome, report, error) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)"
        )
        .bind(r.job)
        .bind(r.holder)
        .bind(r.started_at)
        .bind(r.finished_at)
        .bind(if r.ok { "ok" } else { "failed" })
        .bind(Json(r.report))
        .bind(r.error)
    )?;
    Ok(())
}

pub async fn count_runs(c: Conn<'_>, job: &str) -> sqlx::Result<i64> {
    on_conn!(c, e => sqlx::query_scalar("SELECT COUNT(*) FROM job_runs WHERE job = $1")
        .bind(job).fetch_one(e).await)
}
