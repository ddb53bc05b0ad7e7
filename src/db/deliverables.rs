//! Rows of `deliverables`. Drafts are inserted in batches, one statement per batch, and the
//! unique (goal, period) key drops any a concurrent pass inserted first.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::types::Json;

use std::collections::{BTreeSet, HashSet};

use super::hired_agents::{HiredAgent, agent_columns, from_hired_agents};
use super::{Arg, Conn};
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

/// The next `limit` due goals after `after` (by id) and up to `upto` (inclusive) when given:
/// every agent's, or one agent's.
pub async fn due_goals(
    c: Conn<'_>,
    agent: Option<&str>,
    after: &str,
    upto: Option<&str>,
    limit: i64,
) -> sqlx::Result<Vec<DueGoal>> {
    let mut args = vec![Arg::Text(after.to_string())];
    let mut sql = format!("{DUE} AND g.id > $1");
    if let Some(u) = upto {
        args.push(Arg::Text(u.to_string()));
        sql.push_str(&format!(" AND g.id <= ${}", args.len()));
    }
    if let Some(a) = agent {
        args.push(Arg::Text(a.to_string()));
        sql.push_str(&format!(" AND g.hired_agent_id = ${}", args.len()));
    }
    // The limit written in, so PostgreSQL keeps one plan (see `review_queue::page_sql`).
    sql.push_str(&format!(" ORDER BY g.id LIMIT {limit}"));
    let sql = sqlx::AssertSqlSafe(sql);
    on_conn!(c, e => crate::bind_args!(sqlx::query_as(sql), args).fetch_all(e).await)
}

/// Cuts all goals, by id, into ranges of `size` goals (the last one shorter): the id that ends
/// each range but the last, in order.
pub async fn goal_range_ends(c: Conn<'_>, size: i64) -> sqlx::Result<Vec<String>> {
    on_conn!(c, e => sqlx::query_scalar(
        "SELECT id FROM (SELECT id, ROW_NUMBER() OVER (ORDER BY id) AS n FROM goal_instances) x \
         WHERE n % $1 = 0 ORDER BY id")
        .bind(size.max(1)).fetch_all(e).await)
}

/// How many goals there are (deleted or not).
pub async fn goal_count(c: Conn<'_>) -> sqlx::Result<i64> {
    on_conn!(c, e => sqlx::query_scalar("SELECT COUNT(*) FROM goal_instances").fetch_one(e).await)
}

/// Claims the range of goals `key` names for this connection's session, if no other session holds
/// it: a PostgreSQL session advisory lock, held until [`release_goal_ranges`] or the connection
/// closes. SQLite has no such locks (nor concurrent writers): always claimed.
pub async fn claim_goal_range(c: Conn<'_>, key: i64) -> sqlx::Result<bool> {
    match c {
        Conn::Postgres(e) => {
            sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
                .bind(key)
                .fetch_one(e)
                .await
        }
        Conn::Sqlite(_) => Ok(true),
    }
}

/// Releases every range this session claimed.
pub async fn release_goal_ranges(c: Conn<'_>) -> sqlx::Result<()> {
    match c {
        Conn::Postgres(e) => sqlx::query("SELECT pg_advisory_unlock_all()")
            .execute(e)
            .await
            .map(|_| ()),
        Conn::Sqlite(_) => Ok(()),
    }
}

/// Of these (goal, period) pairs, those that already have their deliverable. One statement, of
/// one text whatever the number of pairs (an array on PostgreSQL, a JSON array on SQLite), so it
/// is prepared once per connection instead of once per batch size.
pub async fn existing_periods<'a>(
    c: Conn<'_>,
    pairs: &[(&'a str, &'a str)],
) -> sqlx::Result<HashSet<(String, String)>> {
    if pairs.is_empty() {
        return Ok(HashSet::new());
    }
    // Each goal and each period once, in order.
    let distinct = |side: fn(&(&'a str, &'a str)) -> &'a str| -> Vec<&'a str> {
        let set: BTreeSet<&str> = pairs.iter().map(side).collect();
        set.into_iter().collect()
    };
    let (goals, periods) = (distinct(|p| p.0), distinct(|p| p.1));
    let found: Vec<(String, String)> = match c {
        Conn::Postgres(e) => {
            sqlx::query_as(
                "SELECT goal_instance_id, period_key FROM deliverables \
                 WHERE goal_instance_id = ANY($1) AND period_key = ANY($2)",
            )
            .bind(&goals)
            .bind(&periods)
            .fetch_all(e)
            .await?
        }
        Conn::Sqlite(e) => {
            sqlx::query_as(
                "SELECT goal_instance_id, period_key FROM deliverables \
                 WHERE goal_instance_id IN (SELECT value FROM json_each($1)) \
                 AND period_key IN (SELECT value FROM json_each($2))",
            )
            .bind(Json(&goals))
            .bind(Json(&periods))
            .fetch_all(e)
            .await?
        }
    };
    // A goal's other periods may be listed too (another goal's key): keep the pairs asked for.
    let asked: HashSet<(&str, &str)> = pairs.iter().copied().collect();
    Ok(found
        .into_iter()
        .filter(|(g, p)| asked.contains(&(g.as_str(), p.as_str())))
        .collect())
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
/// one is skipped). On PostgreSQL the statement takes a column of values per array, so its text
/// is the same for any number of drafts (prepared once per connection).
pub async fn insert_drafts(
    c: Conn<'_>,
    drafts: &[NewDraft],
    now: DateTime<Utc>,
) -> sqlx::Result<Vec<String>> {
    if drafts.is_empty() {
        return Ok(vec![]);
    }
    let c = match c {
        Conn::Postgres(e) => {
            // One text for any number of drafts: a column of values per array.
            let column = |f: fn(&NewDraft) -> &str| drafts.iter().map(f).collect::<Vec<&str>>();
            let payloads: Vec<String> = drafts.iter().map(|d| d.payload.to_string()).collect();
            return sqlx::query_scalar(
                "INSERT INTO deliverables (id, hired_agent_id, customer_id, goal_instance_id, \
             goal_template_id, period_key, title, payload, created_at, updated_at) \
             SELECT d.id, d.hired_agent_id, d.customer_id, d.goal_instance_id, d.goal_template_id, \
             d.period_key, d.title, CAST(d.payload AS JSONB), $9, $9 \
             FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], \
             $7::text[], $8::text[]) AS d(id, hired_agent_id, customer_id, goal_instance_id, \
             goal_template_id, period_key, title, payload) \
             ON CONFLICT (goal_instance_id, period_key) DO NOTHING RETURNING id",
            )
            .bind(column(|d| &d.id))
            .bind(column(|d| &d.hired_agent_id))
            .bind(column(|d| &d.customer_id))
            .bind(column(|d| &d.goal_instance_id))
            .bind(column(|d| &d.goal_template_id))
            .bind(column(|d| &d.period_key))
            .bind(column(|d| &d.title))
            .bind(&payloads)
            .bind(now)
            .fetch_all(e)
            .await;
        }
        sqlite => sqlite,
    };
    // SQLite: a row of placeholders per draft.
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

/// The deliverable of a goal's period, if one was made.
pub async fn of_period(
    c: Conn<'_>,
    goal_instance_id: &str,
    period_key: &str,
) -> sqlx::Result<Option<String>> {
    on_conn!(c, e => sqlx::query_scalar(
        "SELECT id FROM deliverables WHERE goal_instance_id = $1 AND period_key = $2")
        .bind(goal_instance_id).bind(period_key).fetch_optional(e).await)
}

/// How many deliverables a goal has (tests and pages).
pub async fn count_of_goal(c: Conn<'_>, goal_instance_id: &str) -> sqlx::Result<i64> {
    on_conn!(c, e => sqlx::query_scalar("SELECT COUNT(*) FROM deliverables WHERE goal_instance_id = $1")
        .bind(goal_instance_id).fetch_one(e).await)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Deliverable {
    pub id: String,
    pub hired_agent_id: String,
    pub customer_id: String,
    pub goal_instance_id: String,
    pub goal_template_id: String,
    pub period_key: String,
    pub title: String,
    pub payload: Json<Value>,
    pub review_status: String,
    pub review_notes: Option<String>,
    pub approval_id: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub edited_payload: Option<Json<Value>>,
    pub execution_status: String,
    pub executed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A [`Deliverable`]'s columns, each after `$p` (a table's alias, or nothing).
macro_rules! deliverable_columns {
    ($p:literal) => {
        concat!(
            $p,
            "id, ",
            $p,
            "hired_agent_id, ",
            $p,
            "customer_id, ",
            $p,
            "goal_instance_id, ",
            $p,
            "goal_template_id, ",
            $p,
            "period_key, ",
            $p,
            "title, ",
            $p,
            "payload, ",
            $p,
            "review_status, ",
            $p,
            "review_notes, ",
            $p,
            "approval_id, ",
            $p,
            "decided_at, ",
            $p,
            "edited_payload, ",
            $p,
            "execution_status, ",
            $p,
            "executed_at, ",
            $p,
            "created_at, ",
            $p,
            "updated_at"
        )
    };
}

const COLUMNS: &str = deliverable_columns!("");

/// The statement of [`get`]: `$1` the deliverable, and `$2` the customer when `customer`.
pub fn get_sql(customer: bool) -> String {
    if customer {
        format!("SELECT {COLUMNS} FROM deliverables WHERE id = $1 AND customer_id = $2")
    } else {
        format!("SELECT {COLUMNS} FROM deliverables WHERE id = $1")
    }
}

/// One deliverable; with `customer` set, only if it belongs to that customer.
pub async fn get(
    c: Conn<'_>,
    id: &str,
    customer: Option<&str>,
) -> sqlx::Result<Option<Deliverable>> {
    let sql = sqlx::AssertSqlSafe(get_sql(customer.is_some()));
    match customer {
        Some(cu) => {
            on_conn!(c, e => sqlx::query_as(sql).bind(id).bind(cu).fetch_optional(e).await)
        }
        None => on_conn!(c, e => sqlx::query_as(sql).bind(id).fetch_optional(e).await),
    }
}

/// A deliverable with its hired agent, read in one statement (a deliverable's page, a decision).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct WithAgent {
    #[sqlx(flatten)]
    pub deliverable: Deliverable,
    #[sqlx(flatten)]
    pub agent: HiredAgent,
}

/// The statement of [`with_agent`]: `$1` the deliverable, and `$2` the customer when `customer`.
pub fn with_agent_sql(customer: bool) -> &'static str {
    const SQL: &str = concat!(
        "SELECT ",
        deliverable_columns!("d."),
        ", ",
        agent_columns!(),
        from_hired_agents!(),
        " JOIN deliverables d ON d.hired_agent_id = h.id WHERE d.id = $1"
    );
    const OF_CUSTOMER: &str = concat!(
        "SELECT ",
        deliverable_columns!("d."),
        ", ",
        agent_columns!(),
        from_hired_agents!(),
        " JOIN deliverables d ON d.hired_agent_id = h.id WHERE d.id = $1 AND d.customer_id = $2"
    );
    if customer { OF_CUSTOMER } else { SQL }
}

/// One deliverable and its hired agent; with `customer` set, only if it belongs to that customer.
pub async fn with_agent(
    c: Conn<'_>,
    id: &str,
    customer: Option<&str>,
) -> sqlx::Result<Option<WithAgent>> {
    let sql = with_agent_sql(customer.is_some());
    match customer {
        Some(cu) => on_conn!(c, e => sqlx::query_as(sql).bind(id).bind(cu).fetch_optional(e).await),
        None => on_conn!(c, e => sqlx::query_as(sql).bind(id).fetch_optional(e).await),
    }
}

/// A hired agent's deliverables still waiting for a decision that were made before `before`,
/// oldest first (then by goal and period, so the order never depends on random ids).
pub async fn pending_of_agent(
    c: Conn<'_>,
    hired_agent_id: &str,
    before: DateTime<Utc>,
) -> sqlx::Result<Vec<Deliverable>> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM deliverables WHERE hired_agent_id = $1 AND review_status = 'pending_review' \
         AND created_at < $2 ORDER BY created_at, goal_instance_id, period_key"
    ));
    on_conn!(c, e => sqlx::query_as(sql).bind(hired_agent_id).bind(before).fetch_all(e).await)
}

/// Records a decision on a deliverable still waiting for one and returns it as decided; `None`
/// when someone decided first.
#[allow(clippy::too_many_arguments)]
pub async fn decide(
    c: Conn<'_>,
    id: &str,
    status: &str,
    notes: Option<&str>,
    approval_id: &str,
    edited: Option<&Value>,
    now: DateTime<Utc>,
) -> sqlx::Result<Option<Deliverable>> {
    // The decided row comes back with the update: no second read inside the transaction.
    let sql = sqlx::AssertSqlSafe(format!(
        "UPDATE deliverables SET review_status = $2, review_notes = $3, approval_id = $4, edited_payload = $5, \
         decided_at = $6, updated_at = $6 WHERE id = $1 AND review_status = 'pending_review' RETURNING {COLUMNS}"
    ));
    on_conn!(c, e => sqlx::query_as(sql)
        .bind(id).bind(status).bind(notes).bind(approval_id).bind(edited.map(Json)).bind(now)
        .fetch_optional(e).await)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Approval {
    pub id: String,
    pub deliverable_id: String,
    pub customer_id: String,
    pub decided_by: Option<i64>,
    pub decided_by_role: Option<String>,
    pub on_behalf: bool,
    pub decision: String,
    pub notes: Option<String>,
    pub original_payload: Json<Value>,
    pub edited_payload: Option<Json<Value>>,
    pub correlation_id: String,
    pub created_at: DateTime<Utc>,
    /// Who decided, for "already decided by X".
    pub decided_by_email: Option<String>,
}

pub async fn insert_approval(c: Conn<'_>, a: &Approval) -> sqlx::Result<()> {
    crate::execute!(c, sqlx::query(
        "INSERT INTO approvals (id, deliverable_id, customer_id, decided_by, decided_by_role, on_behalf, decision, \
         notes, original_payload, edited_payload, correlation_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)")
        .bind(&a.id).bind(&a.deliverable_id).bind(&a.customer_id).bind(a.decided_by).bind(&a.decided_by_role)
        .bind(a.on_behalf).bind(&a.decision).bind(&a.notes).bind(&a.original_payload).bind(&a.edited_payload)
        .bind(&a.correlation_id).bind(a.created_at))?;
    Ok(())
}

/// The statement of [`approval_of`]: `$1` the deliverable.
pub const APPROVAL_OF_SQL: &str = "SELECT a.id, a.deliverable_id, a.customer_id, a.decided_by, a.decided_by_role, a.on_behalf, a.decision, \
     a.notes, a.original_payload, a.edited_payload, a.correlation_id, a.created_at, u.email AS decided_by_email \
     FROM approvals a LEFT JOIN users u ON u.id = a.decided_by WHERE a.deliverable_id = $1";

/// The decision on a deliverable, with the decider's e-mail.
pub async fn approval_of(c: Conn<'_>, deliverable_id: &str) -> sqlx::Result<Option<Approval>> {
    on_conn!(c, e => sqlx::query_as(APPROVAL_OF_SQL)
        .bind(deliverable_id).fetch_optional(e).await)
}

/// A refused execution.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Denial {
    pub id: String,
    pub deliverable_id: String,
    pub customer_id: String,
    pub reason: String,
    pub action: String,
    pub actor_user_id: Option<i64>,
    pub actor_role: Option<String>,
    pub on_behalf: bool,
    pub correlation_id: String,
    pub created_at: DateTime<Utc>,
}

pub async fn insert_denial(c: Conn<'_>, d: &Denial) -> sqlx::Result<()> {
    crate::execute!(c, sqlx::query(
        "INSERT INTO execution_denials (id, deliverable_id, customer_id, reason, action, actor_user_id, actor_role, \
         on_behalf, correlation_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
        .bind(&d.id).bind(&d.deliverable_id).bind(&d.customer_id).bind(&d.reason).bind(&d.action)
        .bind(d.actor_user_id).bind(&d.actor_role).bind(d.on_behalf).bind(&d.correlation_id).bind(d.created_at))?;
    Ok(())
}

/// The statement of [`denials_of`]: `$1` the deliverable.
pub const DENIALS_OF_SQL: &str = "SELECT id, deliverable_id, customer_id, reason, action, actor_user_id, actor_role, on_behalf, \
     correlation_id, created_at FROM execution_denials WHERE deliverable_id = $1 ORDER BY created_at, id";

/// A deliverable's refused executions, oldest first.
pub async fn denials_of(c: Conn<'_>, deliverable_id: &str) -> sqlx::Result<Vec<Denial>> {
    on_conn!(c, e => sqlx::query_as(DENIALS_OF_SQL)
        .bind(deliverable_id).fetch_all(e).await)
}

/// Marks an approved deliverable executed unless it already is; false when someone was first.
pub async fn mark_executed(c: Conn<'_>, id: &str, now: DateTime<Utc>) -> sqlx::Result<bool> {
    let n = crate::execute!(c, sqlx::query(
        "UPDATE deliverables SET execution_status = 'executed', executed_at = $2, updated_at = $2 \
         WHERE id = $1 AND review_status = 'approved' AND execution_status IN ('not_executed', 'failed')")
        .bind(id).bind(now))?;
    Ok(n == 1)
}

/// One hand-over to write with an execution.
pub struct NewOutbox<'a> {
    pub id: String,
    pub deliverable_id: &'a str,
    pub customer_id: &'a str,
    pub integration: &'a str,
    pub action: &'a str,
    pub payload: &'a Value,
    pub credential_ref: Option<&'a str>,
}

/// Queues a hand-over; one that failed before is queued again (a retried execution), one
/// delivered or still pending is left as it is.
pub async fn insert_outbox(c: Conn<'_>, o: &NewOutbox<'_>, now: DateTime<Utc>) -> sqlx::Result<()> {
    crate::execute!(c, sqlx::query(
        "INSERT INTO outbox (id, deliverable_id, customer_id, integration, action, payload, credential_ref, status, \
         attempts, next_attempt_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', 0, $8, $8, $8) \
         ON CONFLICT (deliverable_id, integration) DO UPDATE SET status = 'pending', attempts = 0, \
         next_attempt_at = excluded.next_attempt_at, last_error = NULL, updated_at = excluded.updated_at \
         WHERE outbox.status = 'failed'")
        .bind(&o.id).bind(o.deliverable_id).bind(o.customer_id).bind(o.integration).bind(o.action)
        .bind(Json(o.payload)).bind(o.credential_ref).bind(now))?;
    Ok(())
}

/// A step of an execution's log.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Step {
    pub step_number: i32,
    pub action: String,
    pub status: String,
    pub output_summary: String,
    pub output: Json<Value>,
    pub duration_ms: i64,
}

pub async fn insert_run(
    mut c: Conn<'_>,
    id: &str,
    deliverable_id: &str,
    status: &str,
    correlation_id: &str,
    steps: &[Step],
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    crate::execute!(c.reborrow(), sqlx::query(
        "INSERT INTO execution_runs (id, deliverable_id, status, correlation_id, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(id).bind(deliverable_id).bind(status).bind(correlation_id).bind(now))?;
    for s in steps {
        crate::execute!(c.reborrow(), sqlx::query(
            "INSERT INTO execution_steps (run_id, step_number, action, status, output_summary, output, duration_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(id).bind(s.step_number).bind(&s.action).bind(&s.status).bind(&s.output_summary)
            .bind(&s.output).bind(s.duration_ms))?;
    }
    Ok(())
}

/// A step of an execution's log with the run it belongs to.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LoggedStep {
    pub run_id: String,
    pub run_status: String,
    pub run_at: DateTime<Utc>,
    pub correlation_id: String,
    pub ai_model: Option<String>,
    pub ai_input_tokens: Option<i64>,
    pub ai_output_tokens: Option<i64>,
    pub ai_cost_minor: Option<i64>,
    #[sqlx(flatten)]
    pub step: Step,
}

/// The statement of [`steps_of`]: `$1` the deliverable.
pub const STEPS_OF_SQL: &str = "SELECT r.id AS run_id, r.status AS run_status, r.created_at AS run_at, r.correlation_id, r.ai_model, \
     r.ai_input_tokens, r.ai_output_tokens, r.ai_cost_minor, \
     s.step_number, s.action, s.status, s.output_summary, s.output, s.duration_ms \
     FROM execution_steps s JOIN execution_runs r ON r.id = s.run_id \
     WHERE r.deliverable_id = $1 ORDER BY r.created_at, r.id, s.step_number";

/// The steps of a deliverable's executions with their runs, oldest run first.
pub async fn steps_of(c: Conn<'_>, deliverable_id: &str) -> sqlx::Result<Vec<LoggedStep>> {
    on_conn!(c, e => sqlx::query_as(STEPS_OF_SQL)
        .bind(deliverable_id).fetch_all(e).await)
}

/// A hand-over of an executed deliverable, as its page shows it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Handover {
    pub id: String,
    pub integration: String,
    pub action: String,
    pub credential_ref: Option<String>,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub updated_at: DateTime<Utc>,
}

/// The statement of [`outbox_of`]: `$1` the deliverable.
pub const OUTBOX_OF_SQL: &str = "SELECT id, integration, action, credential_ref, status, attempts, next_attempt_at, last_error, updated_at \
     FROM outbox WHERE deliverable_id = $1 ORDER BY integration";

/// A deliverable's hand-overs, by integration.
pub async fn outbox_of(c: Conn<'_>, deliverable_id: &str) -> sqlx::Result<Vec<Handover>> {
    on_conn!(c, e => sqlx::query_as(OUTBOX_OF_SQL)
        .bind(deliverable_id).fetch_all(e).await)
}

/// An outbox row waiting to be handed over.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OutboxItem {
    pub id: String,
    pub deliverable_id: String,
    pub integration: String,
    pub action: String,
    pub payload: Json<Value>,
    pub credential_ref: Option<String>,
    pub attempts: i32,
}

/// Pending rows whose next attempt is due, oldest first.
pub async fn due_outbox(
    c: Conn<'_>,
    now: DateTime<Utc>,
    limit: i64,
) -> sqlx::Result<Vec<OutboxItem>> {
    on_conn!(c, e => sqlx::query_as(
        "SELECT id, deliverable_id, integration, action, payload, credential_ref, attempts FROM outbox \
         WHERE status = 'pending' AND next_attempt_at <= $1 ORDER BY next_attempt_at, id LIMIT $2")
        .bind(now).bind(limit).fetch_all(e).await)
}

/// Records an attempt: delivered, retried at `next` (with the error), or failed for good (and its
/// deliverable with it). Conditional on the attempt count read, so no attempt is counted twice.
pub async fn record_attempt(
    mut c: Conn<'_>,
    item: &OutboxItem,
    status: &str,
    next: DateTime<Utc>,
    error: Option<&str>,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let n = crate::execute!(c.reborrow(), sqlx::query(
        "UPDATE outbox SET status = $2, attempts = attempts + 1, next_attempt_at = $3, last_error = $4, updated_at = $5 \
         WHERE id = $1 AND status = 'pending' AND attempts = $6")
        .bind(&item.id).bind(status).bind(next).bind(error).bind(now).bind(item.attempts))?;
    if n == 1 && status == "failed" {
        crate::execute!(c, sqlx::query(
            "UPDATE deliverables SET execution_status = 'failed', updated_at = $2 WHERE id = $1 AND execution_status = 'executed'")
            .bind(&item.deliverable_id).bind(now))?;
    }
    Ok(n == 1)
}
