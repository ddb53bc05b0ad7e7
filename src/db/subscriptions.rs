//! Rows of `subscriptions`. Changes are conditional updates, so two requests (or two scheduler
//! passes) at once cannot both change the same state.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::Conn;
use crate::on_conn;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Subscription {
    pub id: String,
    pub customer_id: String,
    pub agent_id: Option<String>,
    pub agent_type_id: String,
    pub agent_type_version: String,
    pub duration: String,
    pub status: String,
    pub current_period_start: DateTime<Utc>,
    pub current_period_end: DateTime<Utc>,
    pub cancel_at_period_end: bool,
    pub ended_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The pinned version's display name.
    pub display_name: String,
    pub customer_name: String,
}

impl Subscription {
    pub fn audit_json(&self) -> Value {
        json!({
            "status": self.status,
            "agent_type": format!("{}@{}", self.agent_type_id, self.agent_type_version),
            "duration": self.duration,
            "current_period_start": self.current_period_start,
            "current_period_end": self.current_period_end,
            "cancel_at_period_end": self.cancel_at_period_end,
            "ended_at": self.ended_at,
        })
    }
}

const SELECT: &str = "SELECT s.id, s.customer_id, s.agent_id, s.agent_type_id, s.agent_type_version, s.duration, s.status, \
    s.current_period_start, s.current_period_end, s.cancel_at_period_end, s.ended_at, s.created_at, s.updated_at, \
    v.display_name, c.name AS customer_name \
    FROM subscriptions s JOIN agent_type_versions v ON v.agent_type_id = s.agent_type_id AND v.version = s.agent_type_version \
    JOIN customers c ON c.id = s.customer_id";

pub struct NewSubscription<'a> {
    pub id: &'a str,
    pub customer_id: &'a str,
    pub agent_id: Option<&'a str>,
    pub agent_type_id: &'a str,
    pub agent_type_version: &'a str,
    pub duration: &'a str,
    pub period_start: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
}

pub async fn insert(c: Conn<'_>, s: &NewSubscription<'_>, now: DateTime<Utc>) -> sqlx::Result<()> {
    crate::execute!(c, sqlx::query(
        "INSERT INTO subscriptions (id, customer_id, agent_id, agent_type_id, agent_type_version, duration, status, \
         current_period_start, current_period_end, cancel_at_period_end, ended_at, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, 'active', $7, $8, FALSE, NULL, $9, $9)")
        .bind(s.id).bind(s.customer_id).bind(s.agent_id).bind(s.agent_type_id).bind(s.agent_type_version)
        .bind(s.duration).bind(s.period_start).bind(s.period_end).bind(now))?;
    Ok(())
}

/// One subscription; with `customer` set, only if it belongs to that customer.
pub async fn get(
    c: Conn<'_>,
    id: &str,
    customer: Option<&str>,
) -> sqlx::Result<Option<Subscription>> {
    let sql = sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE s.id = $1 AND ($2 IS NULL OR s.customer_id = $2)"
    ));
    on_conn!(c, e => sqlx::query_as(sql).bind(id).bind(customer).fetch_optional(e).await)
}

/// A customer's subscriptions, the period ending first at the top (as Phase 1 sorted them).
pub async fn of_customer(c: Conn<'_>, customer_id: &str) -> sqlx::Result<Vec<Subscription>> {
    let sql = sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE s.customer_id = $1 ORDER BY s.current_period_end, s.id"
    ));
    on_conn!(c, e => sqlx::query_as(sql).bind(customer_id).fetch_all(e).await)
}

/// Sets or clears `cancel_at_period_end` on an active subscription whose flag is `!flag`; false
/// when someone else changed it first (or it is no longer active).
pub async fn set_cancel_flag(
    c: Conn<'_>,
    id: &str,
    flag: bool,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let n = crate::execute!(c, sqlx::query(
        "UPDATE subscriptions SET cancel_at_period_end = $2, updated_at = $3 \
         WHERE id = $1 AND status = 'active' AND cancel_at_period_end = $4 AND current_period_end > $3")
        .bind(id).bind(flag).bind(now).bind(!flag))?;
    Ok(n == 1)
}

/// Active subscriptions whose period ended at or before `now`, oldest end first.
pub async fn due(c: Conn<'_>, now: DateTime<Utc>, limit: i64) -> sqlx::Result<Vec<Subscription>> {
    let sql = sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE s.status = 'active' AND s.current_period_end <= $1 \
         ORDER BY s.current_period_end, s.id LIMIT $2"
    ));
    on_conn!(c, e => sqlx::query_as(sql).bind(now).bind(limit).fetch_all(e).await)
}

/// Ends a subscription set to cancel whose period ends at `period_end`; false if another pass did.
pub async fn end(
    c: Conn<'_>,
    id: &str,
    period_end: DateTime<Utc>,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let n = crate::execute!(c, sqlx::query(
        "UPDATE subscriptions SET status = 'canceled', ended_at = current_period_end, updated_at = $3 \
         WHERE id = $1 AND status = 'active' AND cancel_at_period_end = TRUE AND current_period_end = $2")
        .bind(id).bind(period_end).bind(now))?;
    Ok(n == 1)
}

/// Moves a subscription not set to cancel into its next period; false if another pass did.
pub async fn renew(
    c: Conn<'_>,
    id: &str,
    period_end: DateTime<Utc>,
    next_end: DateTime<Utc>,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let n = crate::execute!(c, sqlx::query(
        "UPDATE subscriptions SET current_period_start = $2, current_period_end = $3, updated_at = $4 \
         WHERE id = $1 AND status = 'active' AND cancel_at_period_end = FALSE AND current_period_end = $2")
        .bind(id).bind(period_end).bind(next_end).bind(now))?;
    Ok(n == 1)
}

/// True when the subscription is active; on PostgreSQL its row is share-locked until the
/// transaction ends, so it cannot end (or renew) under a write that relies on it being active.
pub async fn keep_active(c: Conn<'_>, id: &str) -> sqlx::Result<bool> {
    let sql = if c.engine() == super::Engine::Postgres {
        "SELECT COUNT(*) FROM (SELECT 1 FROM subscriptions WHERE id = $1 AND status = 'active' FOR SHARE) x"
    } else {
        "SELECT COUNT(*) FROM subscriptions WHERE id = $1 AND status = 'active'"
    };
    let n: i64 =
        on_conn!(c, e => sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(id).fetch_one(e).await)?;
    Ok(n == 1)
}
