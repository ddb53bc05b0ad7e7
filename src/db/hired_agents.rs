//! Rows of `hired_agents` and `goal_instances`. Every change is a conditional update on the row
//! version (or on the state it leaves), so two people or two passes at once never both win.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use sqlx::types::Json;

use super::Conn;
use crate::on_conn;

/// The columns that could collide with a joined row's (a deliverable's, say) are named
/// `hired_agent_id`, `agent_created_at` and `agent_updated_at` (see [`agent_columns!`]).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HiredAgent {
    #[sqlx(rename = "hired_agent_id")]
    pub id: String,
    pub subscription_id: String,
    pub customer_id: String,
    pub agent_id: Option<String>,
    pub agent_type_id: String,
    pub agent_type_version: String,
    pub nickname: Option<String>,
    pub theme: Option<String>,
    pub config: Json<Value>,
    pub configured: bool,
    pub goals_completed: bool,
    pub goals_confirmed: bool,
    pub active: bool,
    pub paused: bool,
    pub paused_at: Option<DateTime<Utc>>,
    pub trial_status: String,
    pub trial_start_at: Option<DateTime<Utc>>,
    pub trial_end_at: Option<DateTime<Utc>>,
    pub trial_ended_at: Option<DateTime<Utc>>,
    pub row_version: i64,
    #[sqlx(rename = "agent_created_at")]
    pub created_at: DateTime<Utc>,
    #[sqlx(rename = "agent_updated_at")]
    pub updated_at: DateTime<Utc>,
    /// From the subscription, the version and the customer.
    pub subscription_status: String,
    pub subscription_ended_at: Option<DateTime<Utc>>,
    pub display_name: String,
    pub customer_name: String,
    pub enabled_goals: i64,
}

impl HiredAgent {
    /// What the audit log keeps of a hired agent (the config holds references, never secrets).
    pub fn audit_json(&self) -> Value {
        json!({
            "nickname": self.nickname,
            "theme": self.theme,
            "agent_type": format!("{}@{}", self.agent_type_id, self.agent_type_version),
            "config": self.config.0,
            "configured": self.configured,
            "goals_completed": self.goals_completed,
            "active": self.active,
            "paused": self.paused,
            "trial_status": self.trial_status,
            "trial_start_at": self.trial_start_at,
            "trial_end_at": self.trial_end_at,
            "row_version": self.row_version,
        })
    }

    /// The nickname, or the type's name while there is none.
    pub fn name(&self) -> &str {
        agent_name(self.nickname.as_deref(), &self.display_name)
    }
}

/// A hired agent's name as every page shows it: its nickname, or its type's name while it has none.
pub fn agent_name<'a>(nickname: Option<&'a str>, type_name: &'a str) -> &'a str {
    nickname
        .filter(|n| !n.trim().is_empty())
        .unwrap_or(type_name)
}

/// The joins every read of hired agents shares: its subscription, its type's version, its customer.
macro_rules! from_hired_agents {
    () => {
        " FROM hired_agents h JOIN subscriptions s ON s.id = h.subscription_id \
         JOIN agent_type_versions v ON v.agent_type_id = h.agent_type_id AND v.version = h.agent_type_version \
         JOIN customers c ON c.id = h.customer_id"
    };
}
pub(crate) use from_hired_agents;

/// A [`HiredAgent`]'s columns but its id and customer, which a joined deliverable's row carries
/// as `hired_agent_id` and `customer_id` already; its times are aliased so they never collide.
macro_rules! agent_columns {
    () => {
        "h.subscription_id, h.agent_id, h.agent_type_id, \
        h.agent_type_version, h.nickname, h.theme, h.config, h.configured, h.goals_completed, h.goals_confirmed, \
        h.active, h.paused, h.paused_at, h.trial_status, h.trial_start_at, h.trial_end_at, h.trial_ended_at, \
        h.row_version, h.created_at AS agent_created_at, h.updated_at AS agent_updated_at, \
        s.status AS subscription_status, s.ended_at AS subscription_ended_at, v.display_name, \
        c.name AS customer_name, \
        (SELECT COUNT(*) FROM goal_instances g WHERE g.hired_agent_id = h.id AND g.enabled = TRUE \
         AND g.deleted_at IS NULL) AS enabled_goals"
    };
}
pub(crate) use agent_columns;

pub const SELECT: &str = concat!(
    "SELECT h.id AS hired_agent_id, h.customer_id, ",
    agent_columns!(),
    from_hired_agents!()
);

/// What a list shows of a hired agent: [`HiredAgent`] without its configuration and goal count,
/// which a list row never shows and which cost PostgreSQL half of the list's statement.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Summary {
    pub id: String,
    pub subscription_id: String,
    pub customer_id: String,
    pub agent_type_id: String,
    pub agent_type_version: String,
    pub nickname: Option<String>,
    pub configured: bool,
    pub active: bool,
    pub paused: bool,
    pub trial_status: String,
    pub trial_end_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub subscription_status: String,
    pub display_name: String,
    pub customer_name: String,
}

/// The statement of a [`Summary`], to be followed by its conditions.
pub const SUMMARY_SELECT: &str = concat!(
    "SELECT h.id, h.subscription_id, h.customer_id, h.agent_type_id, h.agent_type_version, h.nickname, \
     h.configured, h.active, h.paused, h.trial_status, h.trial_end_at, h.created_at, \
     s.status AS subscription_status, v.display_name, c.name AS customer_name",
    from_hired_agents!()
);

impl Summary {
    /// The nickname, or the type's name while there is none.
    pub fn name(&self) -> &str {
        agent_name(self.nickname.as_deref(), &self.display_name)
    }
}

impl From<HiredAgent> for Summary {
    fn from(h: HiredAgent) -> Self {
        Summary {
            id: h.id,
            subscription_id: h.subscription_id,
            customer_id: h.customer_id,
            agent_type_id: h.agent_type_id,
            agent_type_version: h.agent_type_version,
            nickname: h.nickname,
            configured: h.configured,
            active: h.active,
            paused: h.paused,
            trial_status: h.trial_status,
            trial_end_at: h.trial_end_at,
            created_at: h.created_at,
            subscription_status: h.subscription_status,
            display_name: h.display_name,
            customer_name: h.customer_name,
        }
    }
}

pub struct NewHiredAgent<'a> {
    pub id: &'a str,
    pub subscription_id: &'a str,
    pub customer_id: &'a str,
    pub agent_id: Option<&'a str>,
    pub agent_type_id: &'a str,
    pub agent_type_version: &'a str,
}

/// Creates the subscription's hired agent; false when it has one already (someone was first).
pub async fn insert(c: Conn<'_>, h: &NewHiredAgent<'_>, now: DateTime<Utc>) -> sqlx::Result<bool> {
    let n = crate::execute!(c, sqlx::query(
        "INSERT INTO hired_agents (id, subscription_id, customer_id, agent_id, agent_type_id, agent_type_version, \
         config, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) \
         ON CONFLICT (subscription_id) DO NOTHING")
        .bind(h.id).bind(h.subscription_id).bind(h.customer_id).bind(h.agent_id).bind(h.agent_type_id)
        .bind(h.agent_type_version).bind(Json(json!({}))).bind(now))?;
    Ok(n == 1)
}

/// One hired agent; with `customer` set, only if it belongs to that customer.
pub async fn get(
    c: Conn<'_>,
    id: &str,
    customer: Option<&str>,
) -> sqlx::Result<Option<HiredAgent>> {
    match customer {
        Some(cu) => {
            let sql =
                sqlx::AssertSqlSafe(format!("{SELECT} WHERE h.id = $1 AND h.customer_id = $2"));
            on_conn!(c, e => sqlx::query_as(sql).bind(id).bind(cu).fetch_optional(e).await)
        }
        None => {
            let sql = sqlx::AssertSqlSafe(format!("{SELECT} WHERE h.id = $1"));
            on_conn!(c, e => sqlx::query_as(sql).bind(id).fetch_optional(e).await)
        }
    }
}

pub async fn by_subscription(
    c: Conn<'_>,
    subscription_id: &str,
) -> sqlx::Result<Option<HiredAgent>> {
    let sql = sqlx::AssertSqlSafe(format!("{SELECT} WHERE h.subscription_id = $1"));
    on_conn!(c, e => sqlx::query_as(sql).bind(subscription_id).fetch_optional(e).await)
}

/// A customer's hired agents, newest first.
pub async fn of_customer(c: Conn<'_>, customer_id: &str) -> sqlx::Result<Vec<HiredAgent>> {
    let sql = sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE h.customer_id = $1 ORDER BY h.created_at DESC, h.id DESC"
    ));
    on_conn!(c, e => sqlx::query_as(sql).bind(customer_id).fetch_all(e).await)
}

/// The statement of [`names_of_customer`]: `$1` the customer.
pub const NAMES_OF_CUSTOMER_SQL: &str = "SELECT h.id, h.nickname, v.display_name FROM hired_agents h \
    JOIN agent_type_versions v ON v.agent_type_id = h.agent_type_id AND v.version = h.agent_type_version \
    WHERE h.customer_id = $1 ORDER BY h.created_at DESC, h.id DESC";

/// A customer's hired agents as (id, name), newest first, as [`of_customer`] orders them: the
/// choices of the review queue's agent filter, without reading each agent whole.
pub async fn names_of_customer(
    c: Conn<'_>,
    customer_id: &str,
) -> sqlx::Result<Vec<(String, String)>> {
    let rows: Vec<(String, Option<String>, String)> = on_conn!(c, e =>
        sqlx::query_as(NAMES_OF_CUSTOMER_SQL).bind(customer_id).fetch_all(e).await)?;
    Ok(rows
        .into_iter()
        .map(|(id, nickname, type_name)| {
            let name = agent_name(nickname.as_deref(), &type_name).to_string();
            (id, name)
        })
        .collect())
}

/// What an edit writes.
pub struct Edited<'a> {
    pub nickname: Option<&'a str>,
    pub theme: Option<&'a str>,
    pub config: &'a Value,
    pub configured: bool,
    pub goals_completed: bool,
    pub goals_confirmed: bool,
    pub agent_type_version: &'a str,
}

/// Writes an edit made on `row_version`; false when the row moved on since (or is gone).
pub async fn update(
    c: Conn<'_>,
    id: &str,
    row_version: i64,
    e: &Edited<'_>,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let n = crate::execute!(c, sqlx::query(
        "UPDATE hired_agents SET nickname = $3, theme = $4, config = $5, configured = $6, goals_completed = $7, \
         goals_confirmed = $8, agent_type_version = $9, row_version = row_version + 1, updated_at = $10 \
         WHERE id = $1 AND row_version = $2")
        .bind(id).bind(row_version).bind(e.nickname).bind(e.theme).bind(Json(e.config)).bind(e.configured)
        .bind(e.goals_completed).bind(e.goals_confirmed).bind(e.agent_type_version).bind(now))?;
    Ok(n == 1)
}

/// Recomputed flags after a goal changed (bumps the version: the agent's state changed).
pub async fn set_goals_completed(
    c: Conn<'_>,
    id: &str,
    goals_completed: bool,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    crate::execute!(c, sqlx::query(
        "UPDATE hired_agents SET goals_completed = $2, updated_at = $3, row_version = row_version + 1 \
         WHERE id = $1 AND goals_completed <> $2")
        .bind(id).bind(goals_completed).bind(now))?;
    Ok(())
}

/// Pauses or resumes; false when it already was.
pub async fn set_paused(
    c: Conn<'_>,
    id: &str,
    paused: bool,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let at: Option<DateTime<Utc>> = paused.then_some(now);
    let n = crate::execute!(c, sqlx::query(
        "UPDATE hired_agents SET paused = $2, paused_at = $3, row_version = row_version + 1, updated_at = $4 \
         WHERE id = $1 AND paused <> $2")
        .bind(id).bind(paused).bind(at).bind(now))?;
    Ok(n == 1)
}

/// Starts a trial that never started; false when it had.
pub async fn start_trial(
    c: Conn<'_>,
    id: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let n = crate::execute!(c, sqlx::query(
        "UPDATE hired_agents SET trial_status = 'active', trial_start_at = $2, trial_end_at = $3, \
         row_version = row_version + 1, updated_at = $2 WHERE id = $1 AND trial_status = 'not_started'")
        .bind(id).bind(start).bind(end))?;
    Ok(n == 1)
}

/// Running trials whose end has come.
pub async fn trials_due(
    c: Conn<'_>,
    now: DateTime<Utc>,
    limit: i64,
) -> sqlx::Result<Vec<HiredAgent>> {
    let sql = sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE h.trial_status = 'active' AND h.trial_end_at <= $1 ORDER BY h.trial_end_at, h.id LIMIT $2"
    ));
    on_conn!(c, e => sqlx::query_as(sql).bind(now).bind(limit).fetch_all(e).await)
}

/// Ends a running trial; false when another pass did.
pub async fn end_trial(
    c: Conn<'_>,
    id: &str,
    next: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let n = crate::execute!(c, sqlx::query(
        "UPDATE hired_agents SET trial_status = $2, trial_ended_at = $3, row_version = row_version + 1, \
         updated_at = $3 WHERE id = $1 AND trial_status = 'active'")
        .bind(id).bind(next).bind(now))?;
    Ok(n == 1)
}

/// Deactivates the subscription's hired agent (its subscription ended); the id when there was one.
pub async fn deactivate(
    c: Conn<'_>,
    subscription_id: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<Option<String>> {
    on_conn!(c, e => sqlx::query_scalar(
        "UPDATE hired_agents SET active = FALSE, row_version = row_version + 1, updated_at = $2 \
         WHERE subscription_id = $1 AND active = TRUE RETURNING id")
        .bind(subscription_id).bind(now).fetch_optional(e).await)
}

/// How many hired agents each agent type has (for the catalog's "hires" column).
pub async fn hires_by_type(c: Conn<'_>) -> sqlx::Result<Vec<(String, i64)>> {
    on_conn!(c, e => sqlx::query_as(
        "SELECT agent_type_id, COUNT(*) FROM hired_agents GROUP BY agent_type_id")
        .fetch_all(e).await)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Goal {
    pub id: String,
    pub hired_agent_id: String,
    pub customer_id: String,
    pub goal_template_id: String,
    pub frequency: String,
    pub settings: Json<Value>,
    pub enabled: bool,
    pub row_version: i64,
    pub deleted_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Goal {
    pub fn audit_json(&self) -> Value {
        json!({
            "goal_template_id": self.goal_template_id,
            "frequency": self.frequency,
            "settings": self.settings.0,
            "enabled": self.enabled,
            "deleted_at": self.deleted_at,
            "row_version": self.row_version,
        })
    }
}

const GOAL_COLUMNS: &str = "id, hired_agent_id, customer_id, goal_template_id, frequency, settings, enabled, \
    row_version, deleted_at, created_at, updated_at";

/// A hired agent's goals (deleted ones left out), oldest first as Phase 1 sorted them.
pub async fn goals_of(c: Conn<'_>, hired_agent_id: &str) -> sqlx::Result<Vec<Goal>> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {GOAL_COLUMNS} FROM goal_instances WHERE hired_agent_id = $1 AND deleted_at IS NULL \
         ORDER BY created_at, id"
    ));
    on_conn!(c, e => sqlx::query_as(sql).bind(hired_agent_id).fetch_all(e).await)
}

/// A goal by id, deleted or not.
pub async fn goal(c: Conn<'_>, id: &str) -> sqlx::Result<Option<Goal>> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {GOAL_COLUMNS} FROM goal_instances WHERE id = $1"
    ));
    on_conn!(c, e => sqlx::query_as(sql).bind(id).fetch_optional(e).await)
}

pub async fn insert_goal(c: Conn<'_>, g: &Goal) -> sqlx::Result<()> {
    crate::execute!(c, sqlx::query(
        "INSERT INTO goal_instances (id, hired_agent_id, customer_id, goal_template_id, frequency, settings, \
         enabled, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)")
        .bind(&g.id).bind(&g.hired_agent_id).bind(&g.customer_id).bind(&g.goal_template_id)
        .bind(&g.frequency).bind(&g.settings).bind(g.enabled).bind(g.created_at))?;
    Ok(())
}

/// Writes a goal edit made on `row_version`; false when it moved on since or was deleted.
#[allow(clippy::too_many_arguments)]
pub async fn update_goal(
    c: Conn<'_>,
    id: &str,
    row_version: i64,
    goal_template_id: &str,
    frequency: &str,
    settings: &Value,
    enabled: bool,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let n = crate::execute!(c, sqlx::query(
        "UPDATE goal_instances SET goal_template_id = $3, frequency = $4, settings = $5, enabled = $6, \
         row_version = row_version + 1, updated_at = $7 WHERE id = $1 AND row_version = $2 AND deleted_at IS NULL")
        .bind(id).bind(row_version).bind(goal_template_id).bind(frequency).bind(Json(settings)).bind(enabled).bind(now))?;
    Ok(n == 1)
}

/// Soft-deletes a goal; false when it already was.
pub async fn delete_goal(c: Conn<'_>, id: &str, now: DateTime<Utc>) -> sqlx::Result<bool> {
    let n = crate::execute!(c, sqlx::query(
        "UPDATE goal_instances SET deleted_at = $2, enabled = FALSE, row_version = row_version + 1, updated_at = $2 \
         WHERE id = $1 AND deleted_at IS NULL")
        .bind(id).bind(now))?;
    Ok(n == 1)
}

/// Enabled, live goals of a hired agent.
pub async fn enabled_goal_count(c: Conn<'_>, hired_agent_id: &str) -> sqlx::Result<i64> {
    on_conn!(c, e => sqlx::query_scalar(
        "SELECT COUNT(*) FROM goal_instances WHERE hired_agent_id = $1 AND enabled = TRUE AND deleted_at IS NULL")
        .bind(hired_agent_id).fetch_one(e).await)
}
