//! EXPLAIN checks: with a few thousand rows, no statement a page runs over deliverables,
//! approvals or the audit trail reads those tables with a sequential scan, for any filter
//! combination the pages (and the deliverables API) offer.
//!
//! Each statement is the page's own text, taken from the function that builds it
//! (`review_queue::page_sql`, `audit::recent_sql`, `deliverables::APPROVAL_OF_SQL`, …), with
//! representative values: ids read from the filled database, the next-page id the page itself
//! would link to.
//!
//! - PostgreSQL: `PREPARE` of the statement, then `EXPLAIN (FORMAT JSON) EXECUTE` with the values,
//!   once as a custom plan (what the first executions on a connection run) and once as the
//!   generic plan (what a connection may switch to after five). No `Seq Scan` node on a guarded
//!   table in either.
//! - SQLite: `EXPLAIN QUERY PLAN` with the values bound. No plain `SCAN` of a guarded table (by
//!   its name or its alias); `SCAN … USING [COVERING] INDEX` walks an index and passes.
//!
//! The guarded tables are deliverables, approvals and audit_log, plus whichever of the tables the
//! deliverable page reads besides (execution_denials, execution_runs, execution_steps, outbox) the
//! fill put at least `GUARD_ROWS` rows in: a sequential scan of a table of a few dozen rows is the
//! planner being right, not a missing index.

use std::collections::{BTreeSet, HashMap};

use agentdesk::db::hired_agents_list::{self, Cursor, Search, Sort};
use agentdesk::db::review_queue::{self, Filter};
use agentdesk::db::{Db, audit, deliverables, sessions};
use agentdesk::domain::deliverable_states::ReviewStatus;
use agentdesk::domain::hired_agent::TrialStatus;
use agentdesk::service::generation;
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};
use sqlx::{AssertSqlSafe, PgConnection, Row, SqliteConnection};

use crate::agents_fixture as fx;
use crate::billing::customer;
use crate::helpers::{Engine, TestApp, spawn_app};

/// The tables no page may scan whole.
const GUARDED: [&str; 3] = ["deliverables", "approvals", "audit_log"];
/// The other tables a deliverable's page reads: guarded too when the fill made them this big.
const GUARDED_WHEN_FILLED: [&str; 4] = [
    "execution_denials",
    "execution_runs",
    "execution_steps",
    "outbox",
];
const GUARD_ROWS: i64 = 1_000;

/// The review queues' page size plus one (`web::reviews::PAGE_SIZE + 1`: the extra row tells
/// whether there is a next page).
const QUEUE_LIMIT: i64 = 51;
/// The deliverables API's default and largest page (`web::api_deliverables`).
const API_LIMITS: [i64; 2] = [100, 500];
/// The queue's age filter, in hours (`web::reviews::AGES`: over 1 hour, 24 hours, 3 days, 7 days).
const AGE_HOURS: [i64; 4] = [1, 24, 72, 168];
/// The staff list of hired agents' page size plus one.
const AGENTS_LIMIT: i64 = 51;

// ---------------------------------------------------------------------------------------------
// The fill: a few thousand rows, set-based.

/// Counts of what [`fill`] makes (bench_data's `Scale::SMALL`).
const CUSTOMERS: i64 = 50;
/// Copies of each of the first customer's two hired agents per customer: 500 in all.
const AGENTS_PER_TYPE: i64 = 5;
const GOALS: i64 = 1_000;
/// Every this many goals belong to one agent (so it and its customer are the big ones).
const BIG_AGENT_EVERY: i64 = 20;
const PERIODS: i64 = 5;
/// Deliverables are spread over 90 days: this many seconds apart.
const SPACING_SECS: i64 = 90 * 86_400 / (GOALS * PERIODS);
const SIGN_INS: i64 = 3_000;

/// `n` rows numbered 1…n in a column `i`.
fn series(engine: Engine, n: i64) -> String {
    match engine {
        Engine::Postgres => format!("SELECT i FROM generate_series(1, {n}) AS s(i)"),
        Engine::Sqlite => format!(
            "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {n}) SELECT i FROM s"
        ),
    }
}

/// A moment given in Unix seconds, as the engine stores `DateTime<Utc>` (on SQLite the RFC 3339
/// text sqlx writes).
fn ts(engine: Engine, secs: &str) -> String {
    match engine {
        Engine::Postgres => format!("to_timestamp({secs})"),
        Engine::Sqlite => format!("strftime('%Y-%m-%dT%H:%M:%S+00:00', {secs}, 'unixepoch')"),
    }
}

async fn run(db: &Db, sql: String) -> u64 {
    let sql = AssertSqlSafe(sql);
    let done = match db {
        Db::Postgres(p, ..) => sqlx::raw_sql(sql)
            .execute(p)
            .await
            .map(|r| r.rows_affected()),
        Db::Sqlite(p) => sqlx::raw_sql(sql)
            .execute(p)
            .await
            .map(|r| r.rows_affected()),
    };
    done.unwrap_or_else(|e| panic!("the fill failed: {e}"))
}

/// About `Scale::SMALL` of `agentdesk::bench_data`: 50 customers with ten hired agents each (five
/// trading, five marketing), 1 000 goals (one in twenty on one agent, so it and its customer are
/// the big ones; the rest round the others), 5 000 deliverables over 90 days (the last 5 days' and every 50th still waiting, a fifth
/// of the rest rejected, a third of the approved ones executed), their approvals, a refused
/// execution for each unapproved one, an execution log and hand-over for each executed one, and an
/// audit trail of about 14 000 entries (generated, decided, sign-ins and sign-outs, agent and
/// subscription changes).
///
/// The first customer, its agents and a goal come through the fixtures (the checkout API and the
/// services), one deliverable through generation; everything else is copied from those rows
/// set-based, one statement per table.
///
/// To check against the shared bench data instead, replace the call of `fill` in
/// [`page_queries_never_scan_whole_tables`] with
/// `agentdesk::bench_data::load(&app.db, agentdesk::bench_data::Scale::SMALL, now).await.unwrap();`
/// — nothing else here depends on what the fill made: the values are read from the database.
async fn fill(app: &TestApp, now: DateTime<Utc>) {
    let engine = match app.db {
        Db::Postgres(..) => Engine::Postgres,
        Db::Sqlite(_) => Engine::Sqlite,
    };
    let c = customer(app).await;
    let trading = fx::configured_trading(app, &c, "Desk").await;
    fx::hire(app, &c, fx::MARKETING, "Reach").await;
    fx::add_goal(
        app,
        &c,
        &trading,
        "trading.guardrail_report.v1",
        "daily",
        json!({}),
    )
    .await;
    let made = generation::run_due(&app.db, now, None).await.unwrap();
    assert_eq!(made.generated, 1, "the model deliverable");
    let model = made.deliverable_ids[0].clone();
    let cu = c.customer_id.replace('\'', "''");
    let model = model.replace('\'', "''");
    let now_secs = now.timestamp();

    // Customers, their subscriptions and hired agents: copies of the first one's. Copy n of a
    // subscription or agent belongs to customer copy n / AGENTS_PER_TYPE (0: the first customer).
    let copies = series(engine, CUSTOMERS - 1);
    let agent_copies = series(engine, CUSTOMERS * AGENTS_PER_TYPE - 1);
    let owner = |column: &str| {
        format!(
            "CASE WHEN n.i / {AGENTS_PER_TYPE} = 0 THEN {column} \
             ELSE {column} || '-' || CAST(n.i / {AGENTS_PER_TYPE} AS TEXT) END"
        )
    };
    let (sub_owner, agent_owner) = (owner("s.customer_id"), owner("h.customer_id"));
    run(
        &app.db,
        format!(
            "INSERT INTO customers (id, name, email, gstin, billing_address, created_at, updated_at) \
             SELECT c.id || '-' || CAST(n.i AS TEXT), c.name || ' ' || CAST(n.i AS TEXT), \
             CAST(n.i AS TEXT) || '.' || c.email, c.gstin, c.billing_address, c.created_at, c.updated_at \
             FROM customers c CROSS JOIN ({copies}) AS n WHERE c.id = '{cu}'"
        ),
    )
    .await;
    run(
        &app.db,
        format!(
            "INSERT INTO subscriptions (id, customer_id, agent_id, agent_type_id, agent_type_version, duration, \
             status, current_period_start, current_period_end, cancel_at_period_end, ended_at, created_at, updated_at) \
             SELECT s.id || '-' || CAST(n.i AS TEXT), {sub_owner}, s.agent_id, \
             s.agent_type_id, s.agent_type_version, s.duration, s.status, s.current_period_start, \
             s.current_period_end, s.cancel_at_period_end, s.ended_at, s.created_at, s.updated_at \
             FROM subscriptions s CROSS JOIN ({agent_copies}) AS n WHERE s.customer_id = '{cu}'"
        ),
    )
    .await;
    run(
        &app.db,
        format!(
            "INSERT INTO hired_agents (id, subscription_id, customer_id, agent_id, agent_type_id, agent_type_version, \
             nickname, theme, config, configured, goals_completed, goals_confirmed, active, paused, paused_at, \
             trial_status, trial_start_at, trial_end_at, trial_ended_at, row_version, created_at, updated_at) \
             SELECT h.id || '-' || CAST(n.i AS TEXT), h.subscription_id || '-' || CAST(n.i AS TEXT), \
             {agent_owner}, h.agent_id, h.agent_type_id, h.agent_type_version, \
             h.nickname || ' ' || CAST(n.i AS TEXT), h.theme, h.config, h.configured, h.goals_completed, \
             h.goals_confirmed, h.active, h.paused, h.paused_at, h.trial_status, h.trial_start_at, h.trial_end_at, \
             h.trial_ended_at, h.row_version, h.created_at, h.updated_at \
             FROM hired_agents h CROSS JOIN ({agent_copies}) AS n WHERE h.customer_id = '{cu}'"
        ),
    )
    .await;
    // Goals: copies of the first, one in BIG_AGENT_EVERY on the first agent (by id), the rest
    // round all of them.
    let goal_copies = series(engine, GOALS - 1);
    run(
        &app.db,
        format!(
            "INSERT INTO goal_instances (id, hired_agent_id, customer_id, goal_template_id, frequency, settings, \
             enabled, row_version, deleted_at, created_at, updated_at) \
             SELECT g.id || '-' || CAST(n.i AS TEXT), h.id, h.customer_id, g.goal_template_id, g.frequency, \
             g.settings, g.enabled, g.row_version, g.deleted_at, g.created_at, g.updated_at \
             FROM goal_instances g CROSS JOIN ({goal_copies}) AS n \
             JOIN (SELECT id, customer_id, ROW_NUMBER() OVER (ORDER BY id) - 1 AS k, COUNT(*) OVER () AS m \
                   FROM hired_agents) h \
             ON h.k = CASE WHEN n.i % {BIG_AGENT_EVERY} = 0 THEN 0 ELSE n.i % h.m END"
        ),
    )
    .await;
    // Deliverables: one per goal and period; period p of goal k made (p·GOALS + k)·SPACING_SECS
    // seconds ago.
    let periods = series(engine, PERIODS);
    let age = format!("((x.p - 1) * {GOALS} + x.k) * {SPACING_SECS}");
    let made_at = ts(engine, &format!("{now_secs} - {age}"));
    let decided_at = ts(engine, &format!("{now_secs} - {age} + 3600"));
    let status = format!(
        "CASE WHEN {age} < 5 * 86400 OR x.k % 50 = 0 THEN 'pending_review' \
         WHEN x.k % 5 = 1 THEN 'rejected' ELSE 'approved' END"
    );
    run(
        &app.db,
        format!(
            "INSERT INTO deliverables (id, hired_agent_id, customer_id, goal_instance_id, goal_template_id, \
             period_key, title, payload, review_status, review_notes, approval_id, decided_at, edited_payload, \
             execution_status, executed_at, created_at, updated_at) \
             SELECT y.id, y.hired_agent_id, y.customer_id, y.goal_id, d.goal_template_id, y.period_key, d.title, \
             d.payload, y.status, NULL, \
             CASE WHEN y.status = 'pending_review' THEN NULL ELSE 'APR-' || y.id END, \
             CASE WHEN y.status = 'pending_review' THEN NULL ELSE y.decided_at END, NULL, \
             CASE WHEN y.status = 'approved' AND y.k % 3 = 0 THEN 'executed' ELSE 'not_executed' END, \
             CASE WHEN y.status = 'approved' AND y.k % 3 = 0 THEN y.decided_at END, \
             y.made_at, y.made_at \
             FROM (SELECT 'DEL-fill-' || CAST(x.p AS TEXT) || '-' || CAST(x.k AS TEXT) AS id, x.hired_agent_id, \
                   x.customer_id, x.goal_id, 'fill:' || CAST(x.p AS TEXT) AS period_key, x.k, {status} AS status, \
                   {made_at} AS made_at, {decided_at} AS decided_at \
                   FROM (SELECT g.id AS goal_id, g.hired_agent_id, g.customer_id, n.i AS p, \
                         ROW_NUMBER() OVER (PARTITION BY n.i ORDER BY g.id) - 1 AS k \
                         FROM goal_instances g CROSS JOIN ({periods}) AS n) x) y \
             CROSS JOIN deliverables d WHERE d.id = '{model}'"
        ),
    )
    .await;
    run(
        &app.db,
        "INSERT INTO approvals (id, deliverable_id, customer_id, decided_by, decided_by_role, on_behalf, decision, \
         notes, original_payload, edited_payload, correlation_id, created_at) \
         SELECT d.approval_id, d.id, d.customer_id, NULL, 'customer', FALSE, d.review_status, NULL, d.payload, \
         NULL, 'fill', d.decided_at FROM deliverables d WHERE d.approval_id IS NOT NULL"
            .into(),
    )
    .await;
    run(
        &app.db,
        "INSERT INTO execution_denials (id, deliverable_id, customer_id, reason, action, actor_user_id, actor_role, \
         on_behalf, correlation_id, created_at) \
         SELECT 'DEN-' || d.id, d.id, d.customer_id, 'approval_required', 'execute', NULL, 'customer', FALSE, \
         'fill', d.created_at FROM deliverables d WHERE d.review_status <> 'approved'"
            .into(),
    )
    .await;
    run(
        &app.db,
        "INSERT INTO execution_runs (id, deliverable_id, status, ai_model, ai_input_tokens, ai_output_tokens, \
         ai_cost_minor, correlation_id, created_at) \
         SELECT 'RUN-' || d.id, d.id, 'succeeded', NULL, NULL, NULL, NULL, 'fill', d.executed_at \
         FROM deliverables d WHERE d.execution_status = 'executed'"
            .into(),
    )
    .await;
    let two = series(engine, 2);
    run(
        &app.db,
        format!(
            "INSERT INTO execution_steps (run_id, step_number, action, status, output_summary, output, duration_ms) \
             SELECT r.id, n.i, 'step', 'succeeded', 'done', d.payload, 5 \
             FROM execution_runs r JOIN deliverables d ON d.id = r.deliverable_id CROSS JOIN ({two}) AS n"
        ),
    )
    .await;
    run(
        &app.db,
        "INSERT INTO outbox (id, deliverable_id, customer_id, integration, action, payload, credential_ref, status, \
         attempts, next_attempt_at, last_error, created_at, updated_at) \
         SELECT 'OUT-' || d.id, d.id, d.customer_id, 'exchange', 'place_order', d.payload, NULL, 'delivered', 1, \
         d.executed_at, NULL, d.executed_at, d.executed_at FROM deliverables d WHERE d.execution_status = 'executed'"
            .into(),
    )
    .await;
    // The audit trail, oldest first (so ids grow with time as they do).
    let sign_ins = series(engine, SIGN_INS);
    let signed_at = ts(engine, &format!("{now_secs} - n.i * 2000"));
    let edits = series(engine, 4);
    let edited_at = ts(engine, &format!("{now_secs} - n.i * 1700000"));
    run(
        &app.db,
        format!(
            "INSERT INTO audit_log (at, actor_user_id, actor_role, entity_type, entity_id, action, before, after, \
             correlation_id, on_behalf_of) \
             SELECT e.at, NULL, 'customer', e.entity_type, e.entity_id, e.action, NULL, NULL, 'fill', NULL FROM ( \
               SELECT d.created_at AS at, 'deliverable' AS entity_type, d.id AS entity_id, 'generated' AS action \
               FROM deliverables d \
               UNION ALL SELECT d.decided_at, 'deliverable', d.id, d.review_status FROM deliverables d \
               WHERE d.decided_at IS NOT NULL \
               UNION ALL SELECT {signed_at}, 'login', 'user' || CAST(n.i % 60 AS TEXT) || '@example.com', \
               CASE WHEN n.i % 3 = 0 THEN 'logout' ELSE 'login_succeeded' END FROM ({sign_ins}) AS n \
               UNION ALL SELECT {edited_at}, 'hired_agent', h.id, 'updated' FROM hired_agents h \
               CROSS JOIN ({edits}) AS n \
               UNION ALL SELECT s.created_at, 'subscription', s.id, 'created' FROM subscriptions s) e \
             ORDER BY e.at"
        ),
    )
    .await;
}

// ---------------------------------------------------------------------------------------------
// The statements checked.

/// A value bound to a statement, in placeholder order: the pages' own type.
use agentdesk::db::Arg as Val;

fn text(s: &str) -> Val {
    Val::Text(s.to_string())
}

/// One statement with its values, and what it is for the failure message.
struct Checked {
    query: &'static str,
    filter: String,
    sql: String,
    args: Vec<Val>,
    /// The newest entries of the audit trail by id, with a limit: on SQLite `audit_log` is the
    /// b-tree of its `INTEGER PRIMARY KEY`, so `SCAN a` without a temporary b-tree for the `ORDER
    /// BY` is that b-tree walked from its end and stopped by the limit (PostgreSQL's `Index Scan
    /// Backward using audit_log_pkey`). Any other plain `SCAN` of it still fails.
    newest_by_id: bool,
}

impl Checked {
    fn new(query: &'static str, filter: impl Into<String>, sql: impl Into<String>) -> Checked {
        Checked {
            query,
            filter: filter.into(),
            sql: sql.into(),
            args: vec![],
            newest_by_id: false,
        }
    }

    fn newest_by_id(mut self) -> Checked {
        self.newest_by_id = true;
        self
    }

    fn bind(mut self, v: Val) -> Checked {
        self.args.push(v);
        self
    }
}

/// The first value of the first row of `sql` (with `$1` bound to `arg` when given).
async fn first_text(db: &Db, sql: &str, arg: Option<&str>) -> Option<String> {
    let sql = AssertSqlSafe(sql.to_string());
    let found: Option<String> = match db {
        Db::Postgres(p, ..) => {
            let mut q = sqlx::query_scalar(sql);
            if let Some(a) = arg {
                q = q.bind(a);
            }
            q.fetch_optional(p).await.unwrap()
        }
        Db::Sqlite(p) => {
            let mut q = sqlx::query_scalar(sql);
            if let Some(a) = arg {
                q = q.bind(a);
            }
            q.fetch_optional(p).await.unwrap()
        }
    };
    found
}

async fn count(db: &Db, table: &str) -> i64 {
    let sql = AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}"));
    match db {
        Db::Postgres(p, ..) => sqlx::query_scalar(sql).fetch_one(p).await.unwrap(),
        Db::Sqlite(p) => sqlx::query_scalar(sql).fetch_one(p).await.unwrap(),
    }
}

/// Representative values, read from the data: the customer with the most deliverables, its agent
/// with the most, that agent's type, an executed deliverable, a subscription.
struct Picks {
    customer: String,
    agent: String,
    agent_type: String,
    executed: String,
    subscription: String,
    user: String,
    sign_in: String,
}

async fn picks(db: &Db) -> Picks {
    let customer = first_text(
        db,
        "SELECT customer_id FROM deliverables GROUP BY customer_id ORDER BY COUNT(*) DESC, customer_id LIMIT 1",
        None,
    )
    .await
    .expect("deliverables");
    let agent = first_text(
        db,
        "SELECT hired_agent_id FROM deliverables WHERE customer_id = $1 GROUP BY hired_agent_id \
         ORDER BY COUNT(*) DESC, hired_agent_id LIMIT 1",
        Some(&customer),
    )
    .await
    .unwrap();
    let agent_type = first_text(
        db,
        "SELECT agent_type_id FROM hired_agents WHERE id = $1",
        Some(&agent),
    )
    .await
    .unwrap();
    let executed = first_text(
        db,
        "SELECT id FROM deliverables WHERE execution_status = 'executed' ORDER BY created_at, id LIMIT 1",
        None,
    )
    .await
    .or(first_text(
        db,
        "SELECT id FROM deliverables ORDER BY created_at, id LIMIT 1",
        None,
    )
    .await)
    .unwrap();
    let subscription = first_text(
        db,
        "SELECT subscription_id FROM hired_agents WHERE id = $1",
        Some(&agent),
    )
    .await
    .unwrap();
    let user = first_text(
        db,
        "SELECT CAST(id AS TEXT) FROM users ORDER BY id LIMIT 1",
        None,
    )
    .await
    .unwrap();
    let sign_in = first_text(
        db,
        "SELECT entity_id FROM audit_log WHERE entity_type = 'login' ORDER BY id DESC LIMIT 1",
        None,
    )
    .await
    .unwrap_or_else(|| "someone@example.com".into());
    Picks {
        customer,
        agent,
        agent_type,
        executed,
        subscription,
        user,
        sign_in,
    }
}

/// The id the page links to as its next page (the last of a full page), else a deliverable from
/// the middle of all of them.
async fn next_page_id(db: &Db, f: &Filter, limit: i64) -> String {
    let mut c = db.acquire().await.unwrap();
    let page = review_queue::page(c.conn(), f, None, limit).await.unwrap();
    if page.len() as i64 == limit {
        return page.last().unwrap().deliverable.id.clone();
    }
    let n = count(db, "deliverables").await;
    first_text(
        db,
        &format!(
            "SELECT id FROM deliverables ORDER BY created_at, id LIMIT 1 OFFSET {}",
            n / 2
        ),
        None,
    )
    .await
    .unwrap()
}

fn queue_page(query: &'static str, f: &Filter, after: Option<&str>, limit: i64) -> Checked {
    // The API lists whole deliverables; the pages list summaries.
    let columns = if query.contains("API") {
        review_queue::Columns::Whole
    } else {
        review_queue::Columns::Summary
    };
    let (sql, args) = review_queue::page_sql(columns, f, after, limit);
    let mut c = Checked::new(query, format!("{f:?}, after {after:?}, limit {limit}"), sql);
    c.args = args;
    c
}

/// Every statement the pages run over the guarded tables, for every filter combination offered.
async fn statements(db: &Db, p: &Picks, now: DateTime<Utc>) -> Vec<Checked> {
    let mut out = vec![];
    let statuses = [
        None,
        Some(ReviewStatus::PendingReview),
        Some(ReviewStatus::Approved),
        Some(ReviewStatus::Rejected),
    ];
    let ages = std::iter::once(None).chain(AGE_HOURS.map(Some));

    // The review queues (`/admin/reviews`, `/portal/reviews`, an agent's link into them): state,
    // type (staff), customer (staff, by link; always set for a customer), agent, age; first page and
    // the next one. A customer's queue is the combinations with the customer set and no type.
    for status in statuses {
        for age in ages.clone() {
            for (typ, cust, agent) in itertools_product() {
                let f = Filter {
                    customer: cust.then(|| p.customer.clone()),
                    hired_agent: agent.then(|| p.agent.clone()),
                    status,
                    agent_type: typ.then(|| p.agent_type.clone()),
                    created_before: age.map(|h| now - Duration::hours(h)),
                    id: None,
                };
                out.push(queue_page("review queue", &f, None, QUEUE_LIMIT));
                let after = next_page_id(db, &f, QUEUE_LIMIT).await;
                out.push(queue_page("review queue", &f, Some(&after), QUEUE_LIMIT));
            }
        }
    }
    // `GET /api/v1/hired-agents/{id}/deliverables`: one agent, any or one state, as staff or as the
    // customer, first page and the next, at the default and the largest limit.
    for status in statuses {
        for cust in [false, true] {
            for limit in API_LIMITS {
                let f = Filter {
                    customer: cust.then(|| p.customer.clone()),
                    hired_agent: Some(p.agent.clone()),
                    status,
                    ..Filter::default()
                };
                out.push(queue_page("agent's deliverables (API)", &f, None, limit));
                let after = next_page_id(db, &f, limit).await;
                out.push(queue_page(
                    "agent's deliverables (API)",
                    &f,
                    Some(&after),
                    limit,
                ));
            }
        }
    }
    // A bulk approval's confirmation: each ticked item through the queue's filter and the scope.
    for cust in [false, true] {
        let f = Filter {
            customer: cust.then(|| p.customer.clone()),
            status: Some(ReviewStatus::PendingReview),
            id: Some(p.executed.clone()),
            ..Filter::default()
        };
        out.push(queue_page("bulk confirmation item", &f, None, 1));
    }
    // Every request's session load, with the navigation's badge (staff's or a customer's count).
    out.push(
        Checked::new(
            "session load with the badge",
            "any session",
            sessions::load_sql(100),
        )
        .bind(text("no-such-session-key-hash")),
    );
    // The badge on its own (pages for a principal without a session).
    out.push(Checked::new(
        "pending-count badge",
        "staff",
        review_queue::pending_count_sql(false, 100),
    ));
    out.push(
        Checked::new(
            "pending-count badge",
            format!("customer {}", p.customer),
            review_queue::pending_count_sql(true, 100),
        )
        .bind(text(&p.customer)),
    );
    // An agent's goal cards.
    out.push(
        Checked::new(
            "agent's recent deliverables",
            format!("agent {}", p.agent),
            review_queue::RECENT_OF_AGENT_SQL,
        )
        .bind(text(&p.agent))
        .bind(Val::Int(3)),
    );
    // A deliverable's page, the API's detail and a decision (with its agent); an execution's re-read.
    out.push(
        Checked::new("deliverable", "staff", deliverables::get_sql(false)).bind(text(&p.executed)),
    );
    out.push(
        Checked::new("deliverable", "customer", deliverables::get_sql(true))
            .bind(text(&p.executed))
            .bind(text(&p.customer)),
    );
    out.push(
        Checked::new(
            "deliverable with its agent",
            "staff",
            deliverables::with_agent_sql(false),
        )
        .bind(text(&p.executed)),
    );
    out.push(
        Checked::new(
            "deliverable with its agent",
            "customer",
            deliverables::with_agent_sql(true),
        )
        .bind(text(&p.executed))
        .bind(text(&p.customer)),
    );
    for (query, sql) in [
        ("deliverable's approval", deliverables::APPROVAL_OF_SQL),
        ("deliverable's denials", deliverables::DENIALS_OF_SQL),
        ("deliverable's execution log", deliverables::STEPS_OF_SQL),
        ("deliverable's hand-overs", deliverables::OUTBOX_OF_SQL),
    ] {
        out.push(
            Checked::new(query, format!("deliverable {}", p.executed), sql).bind(text(&p.executed)),
        );
    }
    // The staff dashboard's activity, with and without sign-ins.
    for hide in [false, true] {
        out.push(
            Checked::new(
                "dashboard activity",
                format!("hide sign-ins {hide}"),
                audit::recent_sql(false, hide),
            )
            .newest_by_id()
            .bind(Val::Int(15)),
        );
    }
    // One entity's history: a user's page, an agent's overview, a subscription's page.
    for (kind, id, limit) in [
        ("user", &p.user, 25),
        ("hired_agent", &p.agent, 50),
        ("subscription", &p.subscription, 50),
    ] {
        out.push(
            Checked::new(
                "entity history",
                format!("{kind} {id}"),
                audit::recent_sql(true, false),
            )
            .bind(text(kind))
            .bind(text(id))
            .bind(Val::Int(limit)),
        );
    }
    // A customer's page: its history and everything billed to it.
    out.push(
        Checked::new(
            "customer history",
            format!("customer {}", p.customer),
            audit::of_customer_sql(),
        )
        .bind(text(&p.customer))
        .bind(Val::Int(25)),
    );
    // The sign-in form's throttle note.
    out.push(
        Checked::new(
            "sign-in throttle note",
            format!("login {}", p.sign_in),
            audit::EXISTS_SINCE_SQL,
        )
        .bind(text("login"))
        .bind(text(&p.sign_in))
        .bind(text("login_throttled"))
        .bind(Val::At(now - Duration::minutes(15))),
    );
    // The staff list of hired agents (reads none of the guarded tables today; checked so a join to
    // them later is checked too): each filter alone, in each order, first page and the next.
    let mut filters: Vec<hired_agents_list::Filter> = vec![
        hired_agents_list::Filter::default(),
        hired_agents_list::Filter {
            agent_type: Some(p.agent_type.clone()),
            ..Default::default()
        },
        hired_agents_list::Filter {
            customer: Some(p.customer.clone()),
            ..Default::default()
        },
        hired_agents_list::Filter {
            search: Search::Id(p.agent.clone()),
            ..Default::default()
        },
        hired_agents_list::Filter {
            search: Search::Nickname("desk".into()),
            ..Default::default()
        },
    ];
    for t in TrialStatus::ALL {
        filters.push(hired_agents_list::Filter {
            trial: Some(t),
            ..Default::default()
        });
    }
    for w in [false, true] {
        for i in 0..3 {
            let mut f = hired_agents_list::Filter::default();
            match i {
                0 => f.configured = Some(w),
                1 => f.active = Some(w),
                _ => f.paused = Some(w),
            }
            filters.push(f);
        }
    }
    for base in filters {
        for sort in Sort::ALL {
            let f = hired_agents_list::Filter {
                sort,
                ..base.clone()
            };
            let mut cursors = vec![None];
            cursors.push(Some(Cursor::Created(now, p.agent.clone())));
            match sort {
                Sort::Name => cursors.push(Some(Cursor::Name("desk".into(), p.agent.clone()))),
                Sort::TrialEnding => {
                    cursors.push(Some(Cursor::TrialEnd(now, p.agent.clone())));
                }
                Sort::Newest => {}
            }
            for after in cursors {
                let (sql, args) = hired_agents_list::list_sql(&f, after.as_ref(), AGENTS_LIMIT);
                let mut c =
                    Checked::new("hired agents list", format!("{f:?}, after {after:?}"), sql);
                c.args = args;
                out.push(c);
            }
        }
    }
    out
}

/// (type, customer, agent) on or off: every combination.
fn itertools_product() -> Vec<(bool, bool, bool)> {
    let mut v = vec![];
    for typ in [false, true] {
        for cust in [false, true] {
            for agent in [false, true] {
                v.push((typ, cust, agent));
            }
        }
    }
    v
}

// ---------------------------------------------------------------------------------------------
// Plans.

/// Whether `EXPLAIN_SHOW` names (part of) this statement's query: its plans are printed even when
/// they pass (`EXPLAIN_SHOW="customer history" cargo test --test it explain -- --nocapture`).
fn shown(s: &Checked) -> bool {
    std::env::var("EXPLAIN_SHOW").is_ok_and(|q| !q.is_empty() && s.query.contains(q.as_str()))
}

/// A failure's message when the plan scans a guarded table (else the plan is printed when
/// [`shown`]): the query, its filter, the scans, the statement, its values and the whole plan.
fn report(s: &Checked, mode: &str, scans: &[String], plan: &[String]) -> Option<String> {
    let values: Vec<String> = s.args.iter().map(pg_literal).collect();
    let text = format!(
        "{} [{}]{mode}: {}\n  SQL: {}\n  values: {}\n  plan:\n    {}",
        s.query,
        s.filter,
        if scans.is_empty() {
            "no scan of a guarded table".to_string()
        } else {
            scans.join(", ")
        },
        s.sql,
        values.join(", "),
        plan.join("\n    ")
    );
    if scans.is_empty() {
        eprintln!("{text}\n");
        None
    } else {
        Some(text)
    }
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL.

fn pg_literal(v: &Val) -> String {
    match v {
        Val::Text(t) => format!("'{}'", t.replace('\'', "''")),
        Val::At(at) => format!("'{}'", at.to_rfc3339()),
        Val::Int(n) => n.to_string(),
    }
}

async fn pg_raw(c: &mut PgConnection, sql: String) {
    sqlx::raw_sql(AssertSqlSafe(sql.clone()))
        .execute(&mut *c)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// The `Seq Scan` nodes on guarded tables in a JSON plan (node, relation, alias).
fn pg_seq_scans(node: &Value, guarded: &BTreeSet<String>, found: &mut Vec<String>) {
    match node {
        Value::Array(items) => items.iter().for_each(|n| pg_seq_scans(n, guarded, found)),
        Value::Object(map) => {
            if let (Some(Value::String(kind)), Some(Value::String(rel))) =
                (map.get("Node Type"), map.get("Relation Name"))
                && kind == "Seq Scan"
                && guarded.contains(rel)
            {
                let alias = map.get("Alias").and_then(Value::as_str).unwrap_or(rel);
                found.push(format!("Seq Scan on {rel} {alias}"));
            }
            for (k, v) in map {
                if k == "Plan" || k == "Plans" {
                    pg_seq_scans(v, guarded, found);
                }
            }
        }
        _ => {}
    }
}

/// Checks one statement on PostgreSQL as a custom and as a generic plan; the failures' messages.
async fn pg_check(c: &mut PgConnection, s: &Checked, guarded: &BTreeSet<String>) -> Vec<String> {
    pg_raw(c, format!("PREPARE explain_check AS {}", s.sql)).await;
    let values = s.args.iter().map(pg_literal).collect::<Vec<_>>().join(", ");
    let execute = if values.is_empty() {
        "EXECUTE explain_check".to_string()
    } else {
        format!("EXECUTE explain_check({values})")
    };
    let mut failures = vec![];
    for mode in ["force_custom_plan", "force_generic_plan"] {
        pg_raw(c, format!("SET plan_cache_mode = {mode}")).await;
        let plan: Value =
            sqlx::query_scalar(AssertSqlSafe(format!("EXPLAIN (FORMAT JSON) {execute}")))
                .persistent(false)
                .fetch_one(&mut *c)
                .await
                .unwrap_or_else(|e| panic!("EXPLAIN {execute} of {}: {e}", s.sql));
        let mut scans = vec![];
        pg_seq_scans(&plan, guarded, &mut scans);
        if !scans.is_empty() || shown(s) {
            // The same plan as text, to read.
            let lines: Vec<String> =
                sqlx::query_scalar(AssertSqlSafe(format!("EXPLAIN (FORMAT TEXT) {execute}")))
                    .persistent(false)
                    .fetch_all(&mut *c)
                    .await
                    .unwrap();
            failures.extend(report(s, &format!(" ({mode})"), &scans, &lines));
        }
    }
    pg_raw(
        c,
        "RESET plan_cache_mode; DEALLOCATE explain_check".to_string(),
    )
    .await;
    failures
}

// ---------------------------------------------------------------------------------------------
// SQLite.

/// The names a guarded table goes by in a statement: its own and its aliases.
fn sqlite_names(sql: &str, guarded: &BTreeSet<String>) -> HashMap<String, String> {
    const NOT_ALIASES: [&str; 12] = [
        "WHERE", "JOIN", "LEFT", "INNER", "CROSS", "ON", "ORDER", "GROUP", "LIMIT", "UNION", "AS",
        "USING",
    ];
    let spaced: String = sql
        .chars()
        .map(|ch| if "(),".contains(ch) { ' ' } else { ch })
        .collect();
    let words: Vec<&str> = spaced.split_whitespace().collect();
    let mut names = HashMap::new();
    for (i, w) in words.iter().enumerate() {
        if !(w.eq_ignore_ascii_case("FROM") || w.eq_ignore_ascii_case("JOIN")) {
            continue;
        }
        let Some(table) = words.get(i + 1) else {
            continue;
        };
        if !guarded.contains(*table) {
            continue;
        }
        names.insert(table.to_string(), table.to_string());
        let mut j = i + 2;
        if words.get(j).is_some_and(|a| a.eq_ignore_ascii_case("AS")) {
            j += 1;
        }
        if let Some(alias) = words.get(j)
            && !NOT_ALIASES.iter().any(|k| k.eq_ignore_ascii_case(alias))
        {
            names.insert(alias.to_string(), table.to_string());
        }
    }
    names
}

/// Checks one statement on SQLite; the failure's message.
async fn sqlite_check(
    c: &mut SqliteConnection,
    s: &Checked,
    guarded: &BTreeSet<String>,
) -> Vec<String> {
    let mut q = sqlx::query(AssertSqlSafe(format!("EXPLAIN QUERY PLAN {}", s.sql)));
    for v in &s.args {
        q = match v {
            Val::Text(t) => q.bind(t.clone()),
            Val::At(at) => q.bind(*at),
            Val::Int(n) => q.bind(*n),
        };
    }
    let rows = q
        .fetch_all(&mut *c)
        .await
        .unwrap_or_else(|e| panic!("EXPLAIN QUERY PLAN {}: {e}", s.sql));
    let plan: Vec<(i64, i64, String)> = rows
        .iter()
        .map(|r| {
            (
                r.get::<i64, _>(0),
                r.get::<i64, _>(1),
                r.get::<String, _>(3),
            )
        })
        .collect();
    let names = sqlite_names(&s.sql, guarded);
    let sorted = plan
        .iter()
        .any(|(_, _, d)| d.starts_with("USE TEMP B-TREE FOR") && d.contains("ORDER BY"));
    let mut scans = vec![];
    for (_, _, detail) in &plan {
        let mut words = detail.split_whitespace();
        if words.next() != Some("SCAN") {
            continue;
        }
        let Some(name) = words.next() else { continue };
        let by_index =
            detail.contains(" USING INDEX ") || detail.contains(" USING COVERING INDEX ");
        let walked_by_id = s.newest_by_id
            && !sorted
            && names.get(name).is_some_and(|t| t == "audit_log")
            && detail == &format!("SCAN {name}");
        if let Some(table) = names.get(name)
            && !by_index
            && !walked_by_id
        {
            scans.push(format!("{detail} (table {table})"));
        }
    }
    if scans.is_empty() && !shown(s) {
        return vec![];
    }
    // The plan as a tree, each line under its parent.
    let mut depth: HashMap<i64, usize> = HashMap::new();
    let mut lines = vec![];
    for (id, parent, detail) in &plan {
        let d = depth.get(parent).map_or(0, |d| d + 1);
        depth.insert(*id, d);
        lines.push(format!("{}{detail}", "  ".repeat(d)));
    }
    report(s, "", &scans, &lines).into_iter().collect()
}

// ---------------------------------------------------------------------------------------------
// The check.

/// Every statement of the review queues, the deliverables list and page, the badge, the
/// dashboard and the activity pages, for every filter combination: no sequential scan of
/// deliverables, approvals or audit_log.
async fn page_queries_never_scan_whole_tables(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let now = app.now();
    fill(&app, now).await;
    // The planners' statistics, as autovacuum (PostgreSQL) and `optimize` (SQLite) keep them.
    run(&app.db, "ANALYZE".into()).await;
    let mut guarded: BTreeSet<String> = GUARDED.iter().map(|t| t.to_string()).collect();
    let mut sizes = vec![];
    for t in GUARDED.iter().chain(GUARDED_WHEN_FILLED.iter()) {
        let n = count(&app.db, t).await;
        sizes.push(format!("{t} {n}"));
        if n >= GUARD_ROWS {
            guarded.insert(t.to_string());
        }
    }
    let n = count(&app.db, "deliverables").await;
    assert!(n >= 5_000, "a few thousand deliverables: {n}");
    let p = picks(&app.db).await;
    let checked = statements(&app.db, &p, now).await;
    let mut failures = vec![];
    match &app.db {
        Db::Postgres(pool, ..) => {
            let mut c = pool.acquire().await.unwrap();
            // The pages' joins by key run without Memoize (`db::POSTGRES_SESSION_SETTINGS`).
            let memoize: String = sqlx::query_scalar("SHOW enable_memoize")
                .fetch_one(&mut *c)
                .await
                .unwrap();
            assert_eq!(memoize, "off", "agentdesk's sessions turn Memoize off");
            for s in &checked {
                failures.extend(pg_check(&mut c, s, &guarded).await);
            }
        }
        Db::Sqlite(pool) => {
            let mut c = pool.acquire().await.unwrap();
            for s in &checked {
                failures.extend(sqlite_check(&mut c, s, &guarded).await);
            }
        }
    }
    eprintln!(
        "{engine:?}: {} statements explained; rows: {}; guarded: {guarded:?}",
        checked.len(),
        sizes.join(", ")
    );
    assert!(
        failures.is_empty(),
        "{} of {} statements scan a guarded table ({guarded:?}) on {engine:?}:\n\n{}",
        failures.len(),
        checked.len(),
        failures.join("\n\n")
    );
}
crate::both_engines!(page_queries_never_scan_whole_tables);
