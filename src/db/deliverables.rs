//! Rows of `deliverables`. Drafts are inserted in batches, one statement per batch, and the
//! unique (goal, period) key drops any a concurrent pass inserted first.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::types::Json;

use super::Conn;
use crate::on_conn;

/// A goal that is due for drafts: enabled and live, of an active, unpaused, configured agent whose
/// subscription is active, with what its payload is built from.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DueGoal {
    pub id: String,
    pub hired_agent_id: String,
    pub customer_id: String,
    pub goal_template_id: String,
    pub frequency: String,
    pub settings: Json<Value>,
    pub config: Json<Value>,
    pub agent_type_id: String,
    pub agent_type_version: String,
}

const DUE: &str = "SELECT g.id, g.hired_agent_id, g.customer_id, g.goal_template_id, g.frequency, g.settings, \
    h.config, h.agent_type_id, h.agent_type_version \
    FROM goal_instances g JOIN hired_agents h ON h.id = g.hired_agent_id \
    JOIN subscriptions s ON s.id = h.subscription_id \
    WHERE g.enabled = TRUE AND g.deleted_at IS NULL AND g.frequency <> 'on_demand' \
    AND h.active = TRUE AND h.paused = FALSE AND h.configured = TRUE AND s.status = 'active'";

/// The next `limit` due goals after `after` (by id): every agent's, or one agent's.
pub async fn due_goals(
    c: Conn<'_>,
    agent: Option<&str>,
    after: &str,
    limit: i64,
) -> sqlx::Result<Vec<DueGoal>> {
    match agent {
        Some(a) => {
            let sql = sqlx::AssertSqlSafe(format!(
                "{DUE} AND g.hired_agent_id = $1 AND g.id > $2 ORDER BY g.id LIMIT $3"
            ));
            on_conn!(c, e => sqlx::query_as(sql).bind(a).bind(after).bind(limit).fetch_all(e).await)
        }
        None => {
            let sql = sqlx::AssertSqlSafe(format!("{DUE} AND g.id > $1 ORDER BY g.id LIMIT $2"));
            on_conn!(c, e => sqlx::query_as(sql).bind(after).bind(limit).fetch_all(e).await)
        }
    }
}

/// A draft to insert.
#[derive(Debug, Clone)]
pub struct NewDraft {
    pub id: String,
    pub hired_agent_id: String,
    pub customer_id: String,
    pub goal_instance_id: String,
    pub goal_template_id: String,
    pub period_key: String,
    pub title: String,
    pub payload: Value,
}

const DRAFT_COLUMNS: usize = 9;
/// Rows per statement (9 parameters each, well under both engines' limits).
pub const BATCH: usize = 500;

/// Inserts drafts in one statement; the ids of those inserted (a (goal, period) that already has
/// one is skipped).
pub async fn insert_drafts(
    c: Conn<'_>,
    drafts: &[NewDraft],
    now: DateTime<Utc>,
) -> sqlx::Result<Vec<String>> {
    if drafts.is_empty() {
        return Ok(vec![]);
    }
    let mut sql = String::from(
        "INSERT INTO deliverables (id, hired_agent_id, customer_id, goal_instance_id, goal_template_id, \
         period_key, title, payload, created_at, updated_at) VALUES ",
    );
    for i in 0..drafts.len() {
        let b = i * DRAFT_COLUMNS;
        if i > 0 {
            sql.push_str(", ");
        }
        sql.push_str(&format!(
            "(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${})",
            b + 1,
            b + 2,
            b + 3,
            b + 4,
            b + 5,
            b + 6,
            b + 7,
            b + 8,
            b + 9,
            b + 9
        ));
    }
    sql.push_str(" ON CONFLICT (goal_instance_id, period_key) DO NOTHING RETURNING id");
    let sql = sqlx::AssertSqlSafe(sql);
    on_conn!(c, e => {
        let mut q = sqlx::query_scalar(sql);
        for d in drafts {
            q = q
                .bind(&d.id)
                .bind(&d.hired_agent_id)
                .bind(&d.customer_id)
                .bind(&d.goal_instance_id)
                .bind(&d.goal_template_id)
                .bind(&d.period_key)
                .bind(&d.title)
                .bind(Json(&d.payload))
                .bind(now);
        }
        q.fetch_all(e).await
    })
}

/// How many deliverables a goal has (tests and pages).
pub async fn count_of_goal(c: Conn<'_>, goal_instance_id: &str) -> sqlx::Result<i64> {
    on_conn!(c, e => sqlx::query_scalar("SELECT COUNT(*) FROM deliverables WHERE goal_instance_id = $1")
        .bind(goal_instance_id).fetch_one(e).await)
}
