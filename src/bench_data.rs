//! A benchmark dataset, loaded fast: a small template world made by the product's own services
//! (the demo month of `seed --demo`: customers, users, subscriptions, hired agents of both built-in
//! types, goals of every frequency, deliverables in every state, approvals with edits and
//! rejections, refused executions, executions with their runs and steps, outbox rows, audit
//! entries), then multiplied by set-based statements (`INSERT … SELECT` over a series of numbers)
//! up to a [`Scale`]: never one round trip per row.
//!
//! Every copied row gets a new id made of its template's id and a copy number (`…-17`), so the
//! foreign keys of a copy line up with the copies of its parents; every unique column gets a new
//! value (e-mails, subscription ids, invoice numbers). Copied customers get copies of the
//! template's credentials (`CRED-b17-…`), and the references in copied configurations, payloads and
//! outbox rows are rewritten to them. Deliverables are spread over the last [`Scale::days`] days,
//! one per goal and period in the agent's timezone (the current period first, then older ones),
//! so the scheduler finds nothing owed at `now` for the copied goals; the most recent ones wait
//! for review (a decision the template made later than `now` would allow is left undone), as do
//! copies of the template's long-waiting ones: about a third in all (a little more or less with
//! the time of day). Every timestamp of a copied deliverable's decision, execution, outbox and
//! audit rows moves with it, so they stay in their order and in the past.
//!
//! Not multiplied: sessions, API tokens, login attempts, idempotency keys, job runs and document
//! counters. Copied subscriptions get their template's orders, invoices and receipts (its
//! amounts, numbered after its numbers, moved with the agent's hiring date) while their current
//! period is set to have begun within the last 26 days: the renewals in between are not there.
//!
//! The template's credentials are sealed with `AGENTDESK_SECRET_KEY` when it is set, else with a
//! fixed benchmark key; a server running with another key cannot open them (nothing in a review
//! or a decision needs to).

use std::collections::{BTreeMap, HashMap};

use anyhow::{Context, bail};
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde_json::{Value, json};

use crate::config::Secret;
use crate::db::users::NewUser;
use crate::db::{Arg, Conn, Db, Engine, customers, deliverables, users};
use crate::domain::actor::Actor;
use crate::domain::billing::settings::BillingSettings;
use crate::domain::definition::Definition;
use crate::domain::roles::Role;
use crate::domain::schedule::{self, Frequency};
use crate::keys::Keys;
use crate::on_conn;
use crate::service::{catalog, demo, generation, subscriptions};

/// How much data to load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scale {
    pub customers: u32,
    pub hired_agents: u32,
    pub goals: u32,
    pub deliverables: u32,
    pub days: u32,
}

impl Scale {
    /// The issue's benchmark: 1 000 customers, 10 000 hired agents of both types, 20 000 goals,
    /// 100 000 deliverables over 90 days.
    pub const BENCH: Scale = Scale {
        customers: 1_000,
        hired_agents: 10_000,
        goals: 20_000,
        deliverables: 100_000,
        days: 90,
    };
    /// A few thousand rows, for the EXPLAIN checks in the test suite (must load in a couple of
    /// seconds in a debug build).
    pub const SMALL: Scale = Scale {
        customers: 50,
        hired_agents: 500,
        goals: 1_000,
        deliverables: 5_000,
        days: 90,
    };
}

/// A user who signs in through `/login` with this password, straight to their home page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login {
    pub email: String,
    pub password: String,
}

/// What [`load`] made, and where to point a benchmark.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// An admin.
    pub staff: Login,
    /// A customer user.
    pub customer: Login,
    /// That customer's id; it has hired agents with deliverables, some pending review.
    pub customer_id: String,
    /// One of that customer's hired agents with many deliverables.
    pub hired_agent_id: String,
    /// One of that customer's deliverables (a marketing batch; a waiting one when there is one).
    pub deliverable_id: String,
    /// An agent type id usable as the review queue's type filter.
    pub agent_type_id: String,
    /// A customer with pending deliverables of `agent_type_id`.
    pub filter_customer_id: String,
    /// Ids of pending_review deliverables, all customers, oldest first.
    pub pending_ids: Vec<String>,
    /// Rows per table afterwards.
    pub counts: Vec<(&'static str, i64)>,
}

/// The password of every user the loader makes.
pub const PASSWORD: &str = "bench-data-password-2026";
/// The admin the loader makes.
pub const STAFF_EMAIL: &str = "bench-admin@agentdesk.bench";
/// The key the template's credentials are sealed with when `AGENTDESK_SECRET_KEY` is unset.
const BENCH_SECRET: &str = "agentdesk-bench-data-secret-key-0123456789";

/// Tables counted in [`Loaded::counts`].
const COUNTED: [&str; 19] = [
    "customers",
    "users",
    "credentials",
    "subscriptions",
    "orders",
    "invoices",
    "receipts",
    "hired_agents",
    "goal_instances",
    "deliverables",
    "approvals",
    "execution_denials",
    "execution_runs",
    "execution_steps",
    "outbox",
    "audit_log",
    "agent_type_versions",
    "document_counters",
    "app_settings",
];

/// Fills an already-migrated, otherwise empty database with `scale`'s rows, every timestamp
/// before `now`, then refreshes the planner's statistics.
pub async fn load(db: &Db, scale: Scale, now: DateTime<Utc>) -> anyhow::Result<Loaded> {
    {
        let mut c = db.acquire().await?;
        let mut c = c.conn();
        let existing = fetch_i64(&mut c, "SELECT COUNT(*) FROM customers", &[]).await?;
        if existing > 0 {
            bail!("the bench data loader needs a database without customers ({existing} found)");
        }
    }
    let started = std::time::Instant::now();
    template(db, &scale, now).await?;
    let template_took = started.elapsed();
    let mut tx = db.begin().await?;
    multiply(&mut tx.conn(), &scale, now).await?;
    tx.commit().await?;
    let multiply_took = started.elapsed() - template_took;
    {
        let mut c = db.acquire().await?;
        exec(&mut c.conn(), "ANALYZE", &[]).await?;
    }
    let loaded = summary(db).await?;
    tracing::info!(
        template_ms = template_took.as_millis() as u64,
        multiply_ms = multiply_took.as_millis() as u64,
        total_ms = started.elapsed().as_millis() as u64,
        "bench data loaded"
    );
    Ok(loaded)
}

fn app_error(e: crate::error::AppError) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

/// The template world: the staff and demo customers (one password hash for all), the built-in
/// agent types, the demo month of `seed --demo` ending at `now`, and the renewals then due.
async fn template(db: &Db, scale: &Scale, now: DateTime<Utc>) -> anyhow::Result<()> {
    let since = now - Duration::days(i64::from(scale.days) + 90);
    let actor = Actor::system("bench-data", since);
    catalog::seed_builtins(db, &actor)
        .await
        .map_err(app_error)?;
    let hash = crate::passwords::hash(PASSWORD.to_string()).await?;
    {
        let mut c = db.acquire().await?;
        for (email, role) in [
            (STAFF_EMAIL, Role::Admin),
            ("operator@demo.example", Role::Operator),
            ("viewer@demo.example", Role::Viewer),
        ] {
            let new = NewUser {
                email,
                password_hash: &hash,
                role,
                customer_id: None,
                must_change_password: false,
            };
            users::insert(c.conn(), &new, since).await?;
        }
        for dc in &demo::CUSTOMERS {
            let values = customers::Values {
                name: dc.name,
                email: dc.email,
                gstin: None,
                billing_address: None,
            };
            let id = crate::domain::ids::new_id("CUS");
            customers::insert(c.conn(), &id, &values, since).await?;
            let new = NewUser {
                email: dc.user_email,
                password_hash: &hash,
                role: Role::Customer,
                customer_id: Some(&id),
                must_change_password: false,
            };
            users::insert(c.conn(), &new, since).await?;
        }
    }
    let secret = std::env::var("AGENTDESK_SECRET_KEY")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| BENCH_SECRET.to_string());
    let keys = Keys::derive(&Secret::new(secret));
    let billing = BillingSettings::default();
    let month = demo::seed_month(db, &keys, &billing, now)
        .await
        .map_err(app_error)?;
    if !month.created {
        bail!("the demo month was there already");
    }
    // The monthly subscriptions bought a month ago renew, as the period-end job would have.
    let renewals = Actor::system("bench-data-renewals", now - Duration::minutes(5));
    subscriptions::process_period_end(db, &billing, &renewals)
        .await
        .map_err(app_error)?;
    Ok(())
}

async fn exec(c: &mut Conn<'_>, sql: &str, args: &[Arg]) -> anyhow::Result<u64> {
    let q = sqlx::AssertSqlSafe(sql.to_string());
    let r = on_conn!(c.reborrow(), e => {
        crate::bind_args!(sqlx::query(q), args).execute(e).await.map(|r| r.rows_affected())
    });
    r.with_context(|| format!("bench data: {}", short(sql)))
}

async fn fetch_i64(c: &mut Conn<'_>, sql: &str, args: &[Arg]) -> anyhow::Result<i64> {
    let q = sqlx::AssertSqlSafe(sql.to_string());
    let r: sqlx::Result<i64> = on_conn!(c.reborrow(), e => {
        crate::bind_args!(sqlx::query_scalar(q), args).fetch_one(e).await
    });
    r.with_context(|| format!("bench data: {}", short(sql)))
}

async fn fetch_texts(c: &mut Conn<'_>, sql: &str, args: &[Arg]) -> anyhow::Result<Vec<String>> {
    let q = sqlx::AssertSqlSafe(sql.to_string());
    let r: sqlx::Result<Vec<String>> = on_conn!(c.reborrow(), e => {
        crate::bind_args!(sqlx::query_scalar(q), args).fetch_all(e).await
    });
    r.with_context(|| format!("bench data: {}", short(sql)))
}

async fn fetch_pairs(
    c: &mut Conn<'_>,
    sql: &str,
    args: &[Arg],
) -> anyhow::Result<Vec<(String, String)>> {
    let q = sqlx::AssertSqlSafe(sql.to_string());
    let r: sqlx::Result<Vec<(String, String)>> = on_conn!(c.reborrow(), e => {
        crate::bind_args!(sqlx::query_as(q), args).fetch_all(e).await
    });
    r.with_context(|| format!("bench data: {}", short(sql)))
}

/// Statistics for a temporary table (PostgreSQL's autovacuum never sees them), so the statements
/// that join it are planned for its size.
async fn analyze_temp(c: &mut Conn<'_>, table: &str) -> anyhow::Result<()> {
    if c.engine() == Engine::Postgres {
        exec(c, &format!("ANALYZE {table}"), &[]).await?;
    }
    Ok(())
}

async fn count_rows(c: &mut Conn<'_>, table: &str) -> anyhow::Result<i64> {
    fetch_i64(c, &format!("SELECT COUNT(*) FROM {table}"), &[]).await
}

async fn first(c: &mut Conn<'_>, sql: &str, args: &[Arg]) -> anyhow::Result<String> {
    fetch_texts(c, sql, args)
        .await?
        .into_iter()
        .next()
        .with_context(|| format!("bench data: nothing for {}", short(sql)))
}

fn short(sql: &str) -> String {
    let one_line = sql.split_whitespace().collect::<Vec<_>>().join(" ");
    one_line.chars().take(160).collect()
}

/// The SQL that differs between the engines.
#[derive(Clone, Copy)]
struct Sql(Engine);

impl Sql {
    fn pg(self) -> bool {
        self.0 == Engine::Postgres
    }

    /// A timestamp `secs` seconds (any number) after `ts`.
    fn add_secs(self, ts: &str, secs: &str) -> String {
        if self.pg() {
            format!("({ts} + CAST({secs} AS DOUBLE PRECISION) * INTERVAL '1 second')")
        } else {
            format!("strftime('%Y-%m-%dT%H:%M:%f+00:00', julianday({ts}) + ({secs}) / 86400.0)")
        }
    }

    /// Seconds from `a` to `b`.
    fn secs_between(self, a: &str, b: &str) -> String {
        if self.pg() {
            format!("CAST(EXTRACT(EPOCH FROM ({b}) - ({a})) AS DOUBLE PRECISION)")
        } else {
            format!("((julianday({b}) - julianday({a})) * 86400.0)")
        }
    }

    /// A timestamp `months` calendar months after `ts`.
    fn add_months(self, ts: &str, months: &str) -> String {
        if self.pg() {
            format!("({ts} + CAST({months} AS INTEGER) * INTERVAL '1 month')")
        } else {
            format!(
                "strftime('%Y-%m-%dT%H:%M:%f+00:00', {ts}, '+' || CAST({months} AS TEXT) || ' months')"
            )
        }
    }

    /// A JSON column as text.
    fn text(self, json: &str) -> String {
        if self.pg() {
            format!("CAST({json} AS TEXT)")
        } else {
            json.to_string()
        }
    }

    /// Text as a JSON column's value.
    fn json(self, text: &str) -> String {
        if self.pg() {
            format!("CAST({text} AS JSONB)")
        } else {
            text.to_string()
        }
    }

    /// A JSON column with its credential references moved to a copied customer's credentials
    /// (`prefix` is the SQL of `'CRED-b<k>-'`) and each `(from, to)` id replaced.
    fn rewrite(self, json: &str, prefix: &str, ids: &[(&str, &str)]) -> String {
        let mut t = format!("replace({}, 'CRED-', {prefix})", self.text(json));
        for (from, to) in ids {
            t = format!("replace({t}, {from}, {to})");
        }
        self.json(&t)
    }

    /// A timestamp literal (statements that create tables take no parameters on PostgreSQL).
    fn at(self, t: DateTime<Utc>) -> String {
        if self.pg() {
            format!("CAST('{}' AS TIMESTAMPTZ)", rfc3339(t))
        } else {
            format!("'{}'", rfc3339(t))
        }
    }

    fn timestamp_type(self) -> &'static str {
        if self.pg() { "TIMESTAMPTZ" } else { "TEXT" }
    }

    fn real_type(self) -> &'static str {
        if self.pg() {
            "DOUBLE PRECISION"
        } else {
            "REAL"
        }
    }

    /// The text of a JSON column's top-level string field.
    fn field(self, json: &str, name: &str) -> String {
        if self.pg() {
            format!("({json} ->> '{name}')")
        } else {
            format!("json_extract({json}, '$.{name}')")
        }
    }

    /// Rows of a JSON array given as `$1`, with these (name, SQL type) fields.
    fn json_rows(self, fields: &[(&str, &str)]) -> String {
        if self.pg() {
            let names: Vec<String> = fields.iter().map(|(n, _)| format!("x.{n}")).collect();
            let types: Vec<String> = fields.iter().map(|(n, t)| format!("{n} {t}")).collect();
            format!(
                "SELECT {} FROM jsonb_to_recordset(CAST($1 AS JSONB)) AS x({})",
                names.join(", "),
                types.join(", ")
            )
        } else {
            let cols: Vec<String> = fields
                .iter()
                .map(|(n, _)| format!("json_extract(value, '$.{n}') AS {n}"))
                .collect();
            format!("SELECT {} FROM json_each($1)", cols.join(", "))
        }
    }
}

/// RFC 3339 with milliseconds, as the SQLite side writes its computed timestamps.
fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, false)
}

const TEMP_TABLES: [&str; 12] = [
    "bm_n",
    "bm_tc",
    "bm_ta",
    "bm_tg",
    "bm_tlast",
    "bm_td",
    "bm_cust",
    "bm_agent",
    "bm_goal",
    "bm_period",
    "bm_slot",
    "bm_del",
];

/// The periods a copied deliverable can fall in, per template agent (its timezone) and frequency:
/// the `r`-th period back from `now` (0: the current one), its key, and a window of instants in
/// it within the last `days` days: `[ws, ws + span]`.
fn periods(agents: &[(String, String)], now: DateTime<Utc>, days: u32) -> Vec<Value> {
    let mut rows = vec![];
    let latest = now - Duration::minutes(1);
    let hours = i64::from(days) * 24;
    for (agent, config) in agents {
        let config: Value = serde_json::from_str(config).unwrap_or(Value::Null);
        let tz = schedule::timezone(config.get("timezone").and_then(Value::as_str));
        for f in [Frequency::Daily, Frequency::Weekly, Frequency::Monthly] {
            // Hourly instants back from now, grouped by their period's key.
            let mut order: Vec<String> = vec![];
            let mut window: HashMap<String, (DateTime<Utc>, DateTime<Utc>)> = HashMap::new();
            for h in 0..hours {
                let t = latest - Duration::hours(h);
                let Some(key) = schedule::period_key(f, t, tz) else {
                    break;
                };
                match window.get_mut(&key) {
                    Some(w) => w.0 = t,
                    None => {
                        order.push(key.clone());
                        window.insert(key, (t, t));
                    }
                }
            }
            for (r, key) in order.iter().enumerate() {
                let (ws, we) = window[key];
                rows.push(json!({"a": agent, "f": f.as_str(), "r": r, "pkey": key,
                    "ws": rfc3339(ws), "span": (we - ws).num_seconds() as f64}));
            }
        }
        // On-demand runs: one a day at most, any time of the day.
        for r in 0..i64::from(days) {
            let ws = latest - Duration::hours(24 * (r + 1) - 1);
            rows.push(
                json!({"a": agent, "f": Frequency::OnDemand.as_str(), "r": r,
                "pkey": format!("on_demand:bench-run-{r}"), "ws": rfc3339(ws),
                "span": (23 * 3600) as f64}),
            );
        }
    }
    rows
}

/// Multiplies the template up to `scale`, on one connection inside one transaction.
async fn multiply(c: &mut Conn<'_>, scale: &Scale, now: DateTime<Utc>) -> anyhow::Result<()> {
    let q = Sql(c.engine());
    let now_sql = q.at(now);
    for t in TEMP_TABLES {
        exec(c, &format!("DROP TABLE IF EXISTS {t}"), &[]).await?;
    }
    // SQLite: a page cache that holds what one statement touches (the default 2 MB makes every
    // index insert of a long transaction read its pages back), for this connection while it loads.
    let cache_size = if q.pg() {
        None
    } else {
        let before = fetch_i64(c, "PRAGMA cache_size", &[]).await?;
        exec(c, "PRAGMA cache_size = -1048576", &[]).await?;
        Some(before)
    };
    let tc = count_rows(c, "customers").await?;
    let td = count_rows(c, "deliverables").await?;
    let tg = count_rows(c, "goal_instances").await?;
    let ta = count_rows(c, "hired_agents").await?;
    let wanted = |scale: u32, template: i64, what: &str| -> anyhow::Result<i64> {
        let n = i64::from(scale) - template;
        if n < 0 {
            bail!("the scale asks for {scale} {what}; the template alone has {template}");
        }
        Ok(n)
    };
    let nc = wanted(scale.customers, tc, "customers")?;
    let nh = wanted(scale.hired_agents, ta, "hired agents")?;
    let ng = wanted(scale.goals, tg, "goals")?;
    let nd = wanted(scale.deliverables, td, "deliverables")?;
    if (nh > 0 && nc == 0) || (ng > 0 && nh == 0) || (nd > 0 && ng == 0) {
        bail!("the scale needs more customers, hired agents or goals than the template has");
    }

    // Numbers 0..=max, to multiply with.
    let max = nc.max(nh).max(ng).max(nd);
    exec(c, "CREATE TEMP TABLE bm_n (i BIGINT PRIMARY KEY)", &[]).await?;
    let series = if q.pg() {
        "INSERT INTO bm_n (i) SELECT i FROM generate_series(0, $1) AS s(i)"
    } else {
        "INSERT INTO bm_n (i) WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < $1) SELECT i FROM s"
    };
    exec(c, series, &[Arg::Int(max)]).await?;
    analyze_temp(c, "bm_n").await?;

    // The template, numbered: customers, agents with goals that have deliverables, those goals
    // (per agent), their deliverables (per goal, newest first) with the seconds from each one's
    // creation to the last thing that happened to it.
    exec(
        c,
        "CREATE TEMP TABLE bm_tc AS SELECT id, ROW_NUMBER() OVER (ORDER BY created_at, id) - 1 AS r FROM customers",
        &[],
    )
    .await?;
    exec(
        c,
        "CREATE TEMP TABLE bm_tg AS SELECT g.id, g.hired_agent_id, \
         ROW_NUMBER() OVER (PARTITION BY g.hired_agent_id ORDER BY g.created_at, g.id) - 1 AS r, \
         COUNT(*) OVER (PARTITION BY g.hired_agent_id) AS cnt \
         FROM goal_instances g WHERE g.deleted_at IS NULL \
         AND EXISTS (SELECT 1 FROM deliverables d WHERE d.goal_instance_id = g.id)",
        &[],
    )
    .await?;
    exec(
        c,
        "CREATE TEMP TABLE bm_ta AS SELECT h.id, h.subscription_id, h.created_at, \
         ROW_NUMBER() OVER (ORDER BY h.created_at, h.id) - 1 AS r FROM hired_agents h \
         WHERE EXISTS (SELECT 1 FROM bm_tg g WHERE g.hired_agent_id = h.id)",
        &[],
    )
    .await?;
    for t in ["bm_tc", "bm_tg", "bm_ta"] {
        analyze_temp(c, t).await?;
    }
    let ta_used = count_rows(c, "bm_ta").await?;
    let s = |a: &str, b: &str| q.secs_between(a, b);
    let last = format!(
        "CREATE TEMP TABLE bm_tlast AS SELECT x.did, MAX(x.s) AS last FROM ( \
         SELECT d.id AS did, {} AS s FROM deliverables d \
         UNION ALL SELECT d.id, {} FROM deliverables d WHERE d.decided_at IS NOT NULL \
         UNION ALL SELECT d.id, {} FROM deliverables d WHERE d.executed_at IS NOT NULL \
         UNION ALL SELECT d.id, {} FROM approvals a JOIN deliverables d ON d.id = a.deliverable_id \
         UNION ALL SELECT d.id, {} FROM execution_runs r JOIN deliverables d ON d.id = r.deliverable_id \
         UNION ALL SELECT d.id, {} FROM outbox o JOIN deliverables d ON d.id = o.deliverable_id \
         UNION ALL SELECT d.id, {} FROM outbox o JOIN deliverables d ON d.id = o.deliverable_id \
         UNION ALL SELECT d.id, {} FROM execution_denials x JOIN deliverables d ON d.id = x.deliverable_id \
         UNION ALL SELECT d.id, {} FROM audit_log l JOIN deliverables d ON l.entity_type = 'deliverable' AND l.entity_id = d.id \
         ) x GROUP BY x.did",
        s("d.created_at", "d.updated_at"),
        s("d.created_at", "d.decided_at"),
        s("d.created_at", "d.executed_at"),
        s("d.created_at", "a.created_at"),
        s("d.created_at", "r.created_at"),
        s("d.created_at", "o.updated_at"),
        s("d.created_at", "o.next_attempt_at"),
        s("d.created_at", "x.created_at"),
        s("d.created_at", "l.at"),
    );
    exec(c, &last, &[]).await?;
    exec(
        c,
        &format!(
            "CREATE TEMP TABLE bm_td AS SELECT x.id, x.goal_instance_id, \
             ROW_NUMBER() OVER (PARTITION BY x.goal_instance_id ORDER BY x.created_at DESC, x.id) - 1 AS r, \
             COUNT(*) OVER (PARTITION BY x.goal_instance_id) AS cnt, \
             CASE WHEN x.settled = 1 THEN ROW_NUMBER() OVER (PARTITION BY x.goal_instance_id, x.settled \
               ORDER BY x.created_at DESC, x.id) - 1 END AS sr, \
             SUM(x.settled) OVER (PARTITION BY x.goal_instance_id) AS scnt, x.last \
             FROM (SELECT d.id, d.goal_instance_id, d.created_at, t.last, \
               CASE WHEN d.decided_at IS NOT NULL OR d.created_at < {} THEN 1 ELSE 0 END AS settled \
               FROM deliverables d JOIN bm_tlast t ON t.did = d.id) x",
            q.add_secs(&now_sql, &(-6 * 86_400).to_string())
        ),
        &[],
    )
    .await?;
    exec(
        c,
        "CREATE INDEX bm_td_goal ON bm_td (goal_instance_id, r)",
        &[],
    )
    .await?;
    analyze_temp(c, "bm_td").await?;

    // Customers: created 3 to 4 months before the window, each with one customer user and
    // copies of the template's credentials.
    let before_window = (i64::from(scale.days) + 45) * 86_400;
    exec(
        c,
        &format!(
            "CREATE TEMP TABLE bm_cust AS SELECT n.i AS k, t.id AS tmpl_id, \
             t.id || '-' || CAST(n.i AS TEXT) AS id, 'CRED-b' || CAST(n.i AS TEXT) || '-' AS cred_prefix, \
             {} AS created_at \
             FROM bm_n n JOIN bm_tc t ON t.r = (n.i - 1) % {tc} WHERE n.i BETWEEN 1 AND {nc}",
            q.add_secs(&now_sql, &format!("-({before_window} + (n.i % 30) * 86400 + (n.i % 1440) * 60)"))
        ),
        &[],
    )
    .await?;
    exec(c, "CREATE INDEX bm_cust_k ON bm_cust (k)", &[]).await?;
    analyze_temp(c, "bm_cust").await?;
    let made = exec(
        c,
        "INSERT INTO customers (id, name, email, gstin, billing_address, created_at, updated_at) \
         SELECT m.id, t.name || ' ' || CAST(m.k AS TEXT), \
         'desk' || CAST(m.k AS TEXT) || '@customer' || CAST(m.k AS TEXT) || '.bench.example', \
         NULL, t.billing_address, m.created_at, m.created_at \
         FROM bm_cust m JOIN customers t ON t.id = m.tmpl_id",
        &[],
    )
    .await?;
    check(made, nc, "customers")?;
    let hash: String = {
        let hashes = fetch_texts(
            c,
            "SELECT password_hash FROM users WHERE email = $1",
            &[Arg::Text(STAFF_EMAIL.into())],
        )
        .await?;
        hashes.into_iter().next().context("the bench admin")?
    };
    let made = exec(
        c,
        "INSERT INTO users (email, password_hash, role, customer_id, disabled, must_change_password, created_at, updated_at) \
         SELECT 'owner' || CAST(m.k AS TEXT) || '@customer' || CAST(m.k AS TEXT) || '.bench.example', $1, \
         'customer', m.id, FALSE, FALSE, m.created_at, m.created_at FROM bm_cust m ORDER BY m.k",
        &[Arg::Text(hash)],
    )
    .await?;
    check(made, nc, "customer users")?;
    exec(
        c,
        "INSERT INTO credentials (id, customer_id, label, sealed, created_at, updated_at) \
         SELECT m.cred_prefix || substr(t.id, 6), m.id, t.label, t.sealed, m.created_at, m.created_at \
         FROM bm_cust m CROSS JOIN (SELECT id, label, sealed FROM credentials) t",
        &[],
    )
    .await?;

    // Hired agents: copies of the template's in turn (both types), each customer's in turn;
    // hired a day after their customer signed up. `shift`: seconds from the template's times.
    exec(
        c,
        &format!(
            "CREATE TEMP TABLE bm_agent AS SELECT x.*, {} AS shift FROM ( \
             SELECT n.i AS j, t.id AS tmpl_id, t.subscription_id AS tmpl_sub, t.created_at AS tmpl_created, \
             t.id || '-' || CAST(n.i AS TEXT) AS id, t.subscription_id || '-' || CAST(n.i AS TEXT) AS sub_id, \
             m.id AS customer_id, m.k, m.cred_prefix, {} AS created_at \
             FROM bm_n n JOIN bm_ta t ON t.r = (n.i - 1) % {ta_used} \
             JOIN bm_cust m ON m.k = (n.i - 1) % {nc} + 1 WHERE n.i BETWEEN 1 AND {nh}) x",
            s("x.tmpl_created", "x.created_at"),
            q.add_secs("m.created_at", "86400 + (n.i % 720) * 60"),
        ),
        &[],
    )
    .await?;
    exec(c, "CREATE INDEX bm_agent_j ON bm_agent (j)", &[]).await?;
    analyze_temp(c, "bm_agent").await?;
    // Subscriptions: active, in a period that began within the last 26 days.
    let period_start = q.add_secs(&now_sql, "-((a.j % 26) * 86400 + (a.j % 1440) * 60 + 3600)");
    let made = exec(
        c,
        &format!(
            "INSERT INTO subscriptions (id, customer_id, agent_id, agent_type_id, agent_type_version, duration, \
             status, current_period_start, current_period_end, cancel_at_period_end, ended_at, created_at, updated_at) \
             SELECT a.sub_id, a.customer_id, t.agent_id, t.agent_type_id, t.agent_type_version, t.duration, \
             'active', {period_start}, {}, FALSE, NULL, {}, {period_start} \
             FROM bm_agent a JOIN subscriptions t ON t.id = a.tmpl_sub",
            q.add_months(
                &period_start,
                "CASE t.duration WHEN 'monthly' THEN 1 WHEN 'quarterly' THEN 3 ELSE 12 END"
            ),
            q.add_secs("t.created_at", "a.shift"),
        ),
        &[],
    )
    .await?;
    check(made, nh, "subscriptions")?;
    let made = exec(
        c,
        &format!(
            "INSERT INTO hired_agents (id, subscription_id, customer_id, agent_id, agent_type_id, agent_type_version, \
             nickname, theme, config, configured, goals_completed, goals_confirmed, active, paused, paused_at, \
             trial_status, trial_start_at, trial_end_at, trial_ended_at, row_version, created_at, updated_at) \
             SELECT a.id, a.sub_id, a.customer_id, t.agent_id, t.agent_type_id, t.agent_type_version, \
             t.nickname || ' ' || CAST(a.j AS TEXT), t.theme, {}, t.configured, t.goals_completed, t.goals_confirmed, \
             TRUE, FALSE, NULL, t.trial_status, {}, {}, {}, t.row_version, a.created_at, {} \
             FROM bm_agent a JOIN hired_agents t ON t.id = a.tmpl_id",
            q.rewrite("t.config", "a.cred_prefix", &[]),
            q.add_secs("t.trial_start_at", "a.shift"),
            q.add_secs("t.trial_end_at", "a.shift"),
            q.add_secs("t.trial_ended_at", "a.shift"),
            q.add_secs("t.updated_at", "a.shift"),
        ),
        &[],
    )
    .await?;
    check(made, nh, "hired agents")?;
    // Their first order, invoice and receipt (the template's amounts).
    let suffix = "'-' || CAST(a.j AS TEXT)";
    exec(
        c,
        &format!(
            "INSERT INTO orders (id, customer_id, subscription_id, kind, payment_provider, coupon_code, duration, \
             period_start, period_end, list_amount, amount, currency, status, created_at) \
             SELECT t.id || {suffix}, a.customer_id, a.sub_id, t.kind, t.payment_provider, t.coupon_code, t.duration, \
             {}, {}, t.list_amount, t.amount, t.currency, t.status, {} \
             FROM bm_agent a JOIN orders t ON t.subscription_id = a.tmpl_sub",
            q.add_secs("t.period_start", "a.shift"),
            q.add_secs("t.period_end", "a.shift"),
            q.add_secs("t.created_at", "a.shift"),
        ),
        &[],
    )
    .await?;
    exec(
        c,
        &format!(
            "INSERT INTO invoices (id, number, customer_id, order_id, subscription_id, currency, seller_legal_name, \
             seller_gstin, seller_state_code, customer_business_name, customer_business_address, customer_gstin, \
             customer_state_code, description, period_start, period_end, subtotal_amount, discount_amount, \
             taxable_amount, cgst_amount, sgst_amount, igst_amount, total_amount, tax_type, created_at) \
             SELECT t.id || {suffix}, t.number || {suffix}, a.customer_id, t.order_id || {suffix}, a.sub_id, t.currency, \
             t.seller_legal_name, t.seller_gstin, t.seller_state_code, cu.name, cu.billing_address, t.customer_gstin, \
             t.customer_state_code, t.description, {}, {}, t.subtotal_amount, t.discount_amount, t.taxable_amount, \
             t.cgst_amount, t.sgst_amount, t.igst_amount, t.total_amount, t.tax_type, {} \
             FROM bm_agent a JOIN invoices t ON t.subscription_id = a.tmpl_sub JOIN customers cu ON cu.id = a.customer_id",
            q.add_secs("t.period_start", "a.shift"),
            q.add_secs("t.period_end", "a.shift"),
            q.add_secs("t.created_at", "a.shift"),
        ),
        &[],
    )
    .await?;
    exec(
        c,
        &format!(
            "INSERT INTO receipts (id, number, customer_id, order_id, subscription_id, currency, description, \
             total_amount, payment_status, created_at) \
             SELECT t.id || {suffix}, t.number || {suffix}, a.customer_id, t.order_id || {suffix}, a.sub_id, t.currency, \
             t.description, t.total_amount, t.payment_status, {} \
             FROM bm_agent a JOIN receipts t ON t.subscription_id = a.tmpl_sub",
            q.add_secs("t.created_at", "a.shift"),
        ),
        &[],
    )
    .await?;

    // Goals: each agent's in turn, copies of its template agent's goals (a different subset for
    // each copy when it has fewer goals than its template).
    exec(
        c,
        &format!(
            "CREATE TEMP TABLE bm_goal AS SELECT n.i AS gi, a.id AS agent_id, a.tmpl_id AS tmpl_agent, \
             a.customer_id, a.cred_prefix, a.shift, t.id AS tmpl_id, t.id || '-' || CAST(n.i AS TEXT) AS id \
             FROM bm_n n JOIN bm_agent a ON a.j = (n.i - 1) % {nh} + 1 \
             JOIN bm_tg t ON t.hired_agent_id = a.tmpl_id AND t.r = ((n.i - 1) / {nh} + a.j) % t.cnt \
             WHERE n.i BETWEEN 1 AND {ng}"
        ),
        &[],
    )
    .await?;
    exec(c, "CREATE INDEX bm_goal_gi ON bm_goal (gi)", &[]).await?;
    analyze_temp(c, "bm_goal").await?;
    let made = exec(
        c,
        &format!(
            "INSERT INTO goal_instances (id, hired_agent_id, customer_id, goal_template_id, frequency, settings, \
             enabled, row_version, deleted_at, created_at, updated_at) \
             SELECT m.id, m.agent_id, m.customer_id, t.goal_template_id, t.frequency, t.settings, TRUE, t.row_version, \
             NULL, {}, {} FROM bm_goal m JOIN goal_instances t ON t.id = m.tmpl_id",
            q.add_secs("t.created_at", "m.shift"),
            q.add_secs("t.updated_at", "m.shift"),
        ),
        &[],
    )
    .await?;
    check(made, ng, "goals")?;

    // The periods deliverables fall in, per template agent's timezone.
    let agents = fetch_pairs(
        c,
        &format!(
            "SELECT h.id, {} FROM hired_agents h JOIN bm_ta t ON t.id = h.id",
            q.text("h.config")
        ),
        &[],
    )
    .await?;
    let rows = periods(&agents, now, scale.days);
    let mut capacity: HashMap<(String, String), i64> = HashMap::new();
    for r in &rows {
        *capacity
            .entry((
                r["a"].as_str().unwrap_or_default().to_string(),
                r["f"].as_str().unwrap_or_default().to_string(),
            ))
            .or_default() += 1;
    }
    exec(
        c,
        &format!(
            "CREATE TEMP TABLE bm_period (a TEXT, f TEXT, r BIGINT, pkey TEXT, ws {}, span {})",
            q.timestamp_type(),
            q.real_type()
        ),
        &[],
    )
    .await?;
    let fields = [
        ("a", "TEXT"),
        ("f", "TEXT"),
        ("r", "BIGINT"),
        ("pkey", "TEXT"),
        ("ws", q.timestamp_type()),
        ("span", q.real_type()),
    ];
    exec(
        c,
        &format!(
            "INSERT INTO bm_period (a, f, r, pkey, ws, span) {}",
            q.json_rows(&fields)
        ),
        &[Arg::Text(Value::Array(rows).to_string())],
    )
    .await?;
    exec(c, "CREATE INDEX bm_period_afr ON bm_period (a, f, r)", &[]).await?;
    analyze_temp(c, "bm_period").await?;

    // Slots: every goal's current period first, then each goal's previous one, and so on, up to
    // the deliverables wanted.
    let per_kind = fetch_pairs(
        c,
        "SELECT m.tmpl_agent || ' ' || g.frequency, CAST(COUNT(*) AS TEXT) FROM bm_goal m \
         JOIN goal_instances g ON g.id = m.tmpl_id GROUP BY m.tmpl_agent, g.frequency",
        &[],
    )
    .await?;
    let mut kinds: Vec<(i64, i64)> = vec![];
    for (k, n) in per_kind {
        let (a, f) = k.split_once(' ').unwrap_or_default();
        let cap = capacity
            .get(&(a.to_string(), f.to_string()))
            .copied()
            .unwrap_or(0);
        kinds.push((cap, n.parse().unwrap_or(0)));
    }
    let mut rmax = -1_i64;
    let mut slots = 0_i64;
    while slots < nd {
        rmax += 1;
        let more: i64 = kinds
            .iter()
            .filter(|(cap, _)| *cap > rmax)
            .map(|(_, n)| n)
            .sum();
        if more == 0 {
            bail!(
                "{nd} more deliverables do not fit in {} days of {ng} goals' periods",
                scale.days
            );
        }
        slots += more;
    }
    exec(
        c,
        &format!(
            "CREATE TEMP TABLE bm_slot AS SELECT m.gi, p.r, ROW_NUMBER() OVER (ORDER BY p.r, m.gi) AS n \
             FROM bm_goal m JOIN goal_instances g ON g.id = m.tmpl_id \
             JOIN bm_period p ON p.a = m.tmpl_agent AND p.f = g.frequency AND p.r <= {rmax}"
        ),
        &[],
    )
    .await?;
    analyze_temp(c, "bm_slot").await?;

    // Deliverables: each slot gets a copy of one of its template goal's deliverables (for a past
    // period, one the template settled: decided, or left waiting for days), made at an instant
    // of its period. It keeps its template's decision (and what followed) only when all
    // of that, moved with it, is over by `now`: the current periods' drafts and the template's
    // long-waiting ones wait (about a third in all).
    exec(
        c,
        &format!(
            "CREATE TEMP TABLE bm_del AS SELECT y.*, \
             CASE WHEN y.tmpl_decided = 1 AND y.age - 60 > y.last THEN 1 ELSE 0 END AS decided FROM ( \
             SELECT x.*, {} AS shift, {} AS age FROM ( \
             SELECT s.n, td.id AS tmpl_id, td.id || '-' || CAST(s.n AS TEXT) AS id, m.id AS goal_id, \
             m.tmpl_id AS tmpl_goal_id, m.agent_id, m.customer_id, m.cred_prefix, u.id AS user_id, \
             p.pkey AS period_key, {} AS created_at, d.created_at AS tmpl_created, \
             CASE WHEN d.decided_at IS NULL THEN 0 ELSE 1 END AS tmpl_decided, td.last \
             FROM bm_slot s JOIN bm_goal m ON m.gi = s.gi JOIN goal_instances g ON g.id = m.tmpl_id \
             JOIN bm_period p ON p.a = m.tmpl_agent AND p.f = g.frequency AND p.r = s.r \
             JOIN bm_td td ON td.goal_instance_id = m.tmpl_id AND ( \
               ((s.r = 0 OR td.scnt = 0) AND td.r = (s.r + m.gi) % td.cnt) \
               OR (s.r > 0 AND td.scnt > 0 AND td.sr = (s.r + m.gi) % td.scnt)) \
             JOIN deliverables d ON d.id = td.id \
             JOIN users u ON u.customer_id = m.customer_id AND u.role = 'customer' \
             WHERE s.n <= {nd}) x) y",
            s("x.tmpl_created", "x.created_at"),
            s("x.created_at", &now_sql),
            q.add_secs(
                "p.ws",
                "p.span * ((m.gi * 7919 + s.r * 104729) % 1000 + 0.5) / 1000.0"
            ),
        ),
        &[],
    )
    .await?;
    exec(c, "CREATE INDEX bm_del_n ON bm_del (n)", &[]).await?;
    exec(c, "CREATE INDEX bm_del_tmpl ON bm_del (tmpl_id)", &[]).await?;
    analyze_temp(c, "bm_del").await?;
    // The template's ids in JSON (payloads, step outputs, audit entries) become the copy's.
    let ids = [
        ("d.id", "m.id"),
        ("d.goal_instance_id", "m.goal_id"),
        (
            "COALESCE(d.approval_id, 'APR-')",
            "COALESCE(d.approval_id || '-' || CAST(m.n AS TEXT), 'APR-')",
        ),
    ];
    let decided = |then: &str, otherwise: &str| {
        format!("CASE WHEN m.decided = 1 THEN {then} ELSE {otherwise} END")
    };
    let made = exec(
        c,
        &format!(
            "INSERT INTO deliverables (id, hired_agent_id, customer_id, goal_instance_id, goal_template_id, period_key, \
             title, payload, review_status, review_notes, approval_id, decided_at, edited_payload, execution_status, \
             executed_at, created_at, updated_at) \
             SELECT m.id, m.agent_id, m.customer_id, m.goal_id, d.goal_template_id, m.period_key, d.title, {}, \
             {}, {}, {}, {}, {}, {}, {}, m.created_at, {} \
             FROM bm_del m JOIN deliverables d ON d.id = m.tmpl_id ORDER BY m.n",
            q.rewrite("d.payload", "m.cred_prefix", &ids),
            decided("d.review_status", "'pending_review'"),
            decided("d.review_notes", "NULL"),
            decided("d.approval_id || '-' || CAST(m.n AS TEXT)", "NULL"),
            decided(&q.add_secs("d.decided_at", "m.shift"), "NULL"),
            decided(&q.rewrite("d.edited_payload", "m.cred_prefix", &ids), "NULL"),
            decided("d.execution_status", "'not_executed'"),
            decided(&q.add_secs("d.executed_at", "m.shift"), "NULL"),
            decided(&q.add_secs("d.updated_at", "m.shift"), "m.created_at"),
        ),
        &[],
    )
    .await?;
    check(made, nd, "deliverables")?;
    let n = "'-' || CAST(m.n AS TEXT)";
    let user = |id: &str, role: &str| {
        format!("CASE WHEN {role} = 'customer' THEN m.user_id ELSE {id} END")
    };
    exec(
        c,
        &format!(
            "INSERT INTO approvals (id, deliverable_id, customer_id, decided_by, decided_by_role, on_behalf, decision, \
             notes, original_payload, edited_payload, correlation_id, created_at) \
             SELECT a.id || {n}, m.id, m.customer_id, {}, a.decided_by_role, a.on_behalf, a.decision, a.notes, \
             {}, {}, a.correlation_id || {n}, {} \
             FROM bm_del m JOIN deliverables d ON d.id = m.tmpl_id JOIN approvals a ON a.deliverable_id = m.tmpl_id \
             WHERE m.decided = 1 ORDER BY m.n",
            user("a.decided_by", "a.decided_by_role"),
            q.rewrite("a.original_payload", "m.cred_prefix", &ids),
            q.rewrite("a.edited_payload", "m.cred_prefix", &ids),
            q.add_secs("a.created_at", "m.shift"),
        ),
        &[],
    )
    .await?;
    exec(
        c,
        &format!(
            "INSERT INTO execution_denials (id, deliverable_id, customer_id, reason, action, actor_user_id, actor_role, \
             on_behalf, correlation_id, created_at) \
             SELECT x.id || {n}, m.id, m.customer_id, x.reason, x.action, {}, x.actor_role, x.on_behalf, \
             x.correlation_id || {n}, {} \
             FROM bm_del m JOIN execution_denials x ON x.deliverable_id = m.tmpl_id WHERE m.decided = 1",
            user("x.actor_user_id", "x.actor_role"),
            q.add_secs("x.created_at", "m.shift"),
        ),
        &[],
    )
    .await?;
    exec(
        c,
        &format!(
            "INSERT INTO execution_runs (id, deliverable_id, status, ai_model, ai_input_tokens, ai_output_tokens, \
             ai_cost_minor, correlation_id, created_at) \
             SELECT r.id || {n}, m.id, r.status, r.ai_model, r.ai_input_tokens, r.ai_output_tokens, r.ai_cost_minor, \
             r.correlation_id || {n}, {} \
             FROM bm_del m JOIN execution_runs r ON r.deliverable_id = m.tmpl_id WHERE m.decided = 1",
            q.add_secs("r.created_at", "m.shift"),
        ),
        &[],
    )
    .await?;
    exec(
        c,
        &format!(
            "INSERT INTO execution_steps (run_id, step_number, action, status, output_summary, output, duration_ms) \
             SELECT r.id || {n}, t.step_number, t.action, t.status, t.output_summary, {}, t.duration_ms \
             FROM bm_del m JOIN deliverables d ON d.id = m.tmpl_id \
             JOIN execution_runs r ON r.deliverable_id = m.tmpl_id \
             JOIN execution_steps t ON t.run_id = r.id WHERE m.decided = 1",
            q.rewrite("t.output", "m.cred_prefix", &ids),
        ),
        &[],
    )
    .await?;
    exec(
        c,
        &format!(
            "INSERT INTO outbox (id, deliverable_id, customer_id, integration, action, payload, credential_ref, status, \
             attempts, next_attempt_at, last_error, created_at, updated_at) \
             SELECT o.id || {n}, m.id, m.customer_id, o.integration, o.action, {}, \
             replace(o.credential_ref, 'CRED-', m.cred_prefix), o.status, o.attempts, {}, o.last_error, {}, {} \
             FROM bm_del m JOIN deliverables d ON d.id = m.tmpl_id JOIN outbox o ON o.deliverable_id = m.tmpl_id \
             WHERE m.decided = 1",
            q.rewrite("o.payload", "m.cred_prefix", &ids),
            q.add_secs("o.next_attempt_at", "m.shift"),
            q.add_secs("o.created_at", "m.shift"),
            q.add_secs("o.updated_at", "m.shift"),
        ),
        &[],
    )
    .await?;
    // The audit trail of each copy: what happened to its template up to the copy's state.
    exec(
        c,
        &format!(
            "INSERT INTO audit_log (at, actor_user_id, actor_role, entity_type, entity_id, action, before, after, \
             correlation_id, on_behalf_of) \
             SELECT {at}, {}, l.actor_role, l.entity_type, m.id, l.action, {}, {}, l.correlation_id || {n}, \
             CASE WHEN l.on_behalf_of IS NULL THEN NULL ELSE m.customer_id END \
             FROM bm_del m JOIN deliverables d ON d.id = m.tmpl_id \
             JOIN audit_log l ON l.entity_type = 'deliverable' AND l.entity_id = m.tmpl_id \
             WHERE m.decided = 1 OR {} <= 1",
            user("l.actor_user_id", "l.actor_role"),
            q.rewrite("l.before", "m.cred_prefix", &ids),
            q.rewrite("l.after", "m.cred_prefix", &ids),
            s("d.created_at", "l.at"),
            at = q.add_secs("l.at", "m.shift"),
        ),
        &[],
    )
    .await?;

    for t in TEMP_TABLES {
        exec(c, &format!("DROP TABLE IF EXISTS {t}"), &[]).await?;
    }
    if let Some(before) = cache_size {
        exec(c, &format!("PRAGMA cache_size = {before}"), &[]).await?;
    }
    // What the scale asked for.
    for (table, want) in [
        ("customers", scale.customers),
        ("hired_agents", scale.hired_agents),
        ("goal_instances", scale.goals),
        ("deliverables", scale.deliverables),
    ] {
        check(count_rows(c, table).await? as u64, i64::from(want), table)?;
    }
    Ok(())
}

fn check(made: u64, wanted: i64, what: &str) -> anyhow::Result<()> {
    if made as i64 != wanted {
        bail!("bench data: made {made} {what}, wanted {wanted}");
    }
    Ok(())
}

/// Where to point the benchmark, and the rows made.
async fn summary(db: &Db) -> anyhow::Result<Loaded> {
    let mut pc = db.acquire().await?;
    let c = &mut pc.conn();
    let q = Sql(c.engine());
    let batch = format!(
        "{} = 'marketing_draft_batch_v1'",
        q.field("d.payload", "type")
    );
    // The customer with the most waiting deliverables among those with a marketing batch.
    let customer_id = fetch_texts(
        c,
        &format!(
            "SELECT d.customer_id FROM deliverables d WHERE d.review_status = 'pending_review' \
             AND EXISTS (SELECT 1 FROM deliverables b WHERE b.customer_id = d.customer_id AND {}) \
             GROUP BY d.customer_id ORDER BY COUNT(*) DESC, d.customer_id LIMIT 1",
            batch.replace("d.payload", "b.payload")
        ),
        &[],
    )
    .await?
    .into_iter()
    .next()
    .context("no customer has waiting deliverables and a marketing batch")?;
    let customer_email = first(
        c,
        "SELECT email FROM users WHERE customer_id = $1 AND role = 'customer' AND disabled = FALSE \
         ORDER BY id LIMIT 1",
        &[Arg::Text(customer_id.clone())],
    )
    .await?;
    let hired_agent_id = first(
        c,
        "SELECT hired_agent_id FROM deliverables WHERE customer_id = $1 GROUP BY hired_agent_id \
         ORDER BY COUNT(*) DESC, hired_agent_id LIMIT 1",
        &[Arg::Text(customer_id.clone())],
    )
    .await?;
    let deliverable_id = first(
        c,
        &format!(
            "SELECT d.id FROM deliverables d WHERE d.customer_id = $1 AND {batch} \
             ORDER BY CASE WHEN d.review_status = 'pending_review' THEN 0 ELSE 1 END, d.created_at DESC, d.id LIMIT 1"
        ),
        &[Arg::Text(customer_id.clone())],
    )
    .await?;
    let agent_type_id = first(
        c,
        "SELECT h.agent_type_id FROM hired_agents h WHERE h.id = (SELECT hired_agent_id FROM deliverables WHERE id = $1)",
        &[Arg::Text(deliverable_id.clone())],
    )
    .await?;
    let filter_customer_id = first(
        c,
        "SELECT d.customer_id FROM deliverables d JOIN hired_agents h ON h.id = d.hired_agent_id \
         WHERE d.review_status = 'pending_review' AND h.agent_type_id = $1 \
         GROUP BY d.customer_id ORDER BY COUNT(*) DESC, d.customer_id LIMIT 1",
        &[Arg::Text(agent_type_id.clone())],
    )
    .await?;
    let pending_ids = fetch_texts(
        c,
        "SELECT id FROM deliverables WHERE review_status = 'pending_review' ORDER BY created_at, id",
        &[],
    )
    .await?;
    let mut counts = vec![];
    for t in COUNTED {
        counts.push((
            t,
            fetch_i64(c, &format!("SELECT COUNT(*) FROM {t}"), &[]).await?,
        ));
    }
    Ok(Loaded {
        staff: Login {
            email: STAFF_EMAIL.into(),
            password: PASSWORD.into(),
        },
        customer: Login {
            email: customer_email,
            password: PASSWORD.into(),
        },
        customer_id,
        hired_agent_id,
        deliverable_id,
        agent_type_id,
        filter_customer_id,
        pending_ids,
        counts,
    })
}

/// For the scheduler benchmark: adds `n` enabled daily goals spread over active, unpaused,
/// configured hired agents (with an active subscription), none of which has a draft for its
/// period at `now`, so one job pass at `now` owes exactly `n` drafts for them. Returns how many
/// drafts a pass at `now` is owed in total (`n` plus any goal already due).
pub async fn add_due_goals(db: &Db, n: u32, now: DateTime<Utc>) -> anyhow::Result<u64> {
    if n > 0 {
        let mut tx = db.begin().await?;
        let c = &mut tx.conn();
        let q = Sql(c.engine());
        // The agents that generate drafts, numbered, each with a daily goal of its type and
        // version to copy (settings its template accepts). Goal `i` goes to agent `i % m`.
        let agents = "SELECT h.id, h.customer_id, t.gid, ROW_NUMBER() OVER (ORDER BY h.id) - 1 AS k, \
             COUNT(*) OVER () AS m \
             FROM hired_agents h JOIN subscriptions s ON s.id = h.subscription_id \
             JOIN (SELECT th.agent_type_id, th.agent_type_version, MIN(t.id) AS gid \
                   FROM goal_instances t JOIN hired_agents th ON th.id = t.hired_agent_id \
                   WHERE t.frequency = 'daily' AND t.deleted_at IS NULL \
                   GROUP BY th.agent_type_id, th.agent_type_version) t \
               ON t.agent_type_id = h.agent_type_id AND t.agent_type_version = h.agent_type_version \
             WHERE h.active = TRUE AND h.paused = FALSE AND h.configured = TRUE AND s.status = 'active'";
        let m = fetch_i64(c, &format!("SELECT COUNT(*) FROM ({agents}) a"), &[]).await?;
        if m == 0 {
            bail!("no active, unpaused, configured hired agent of a type with a daily goal");
        }
        let rounds = (i64::from(n) + m - 1) / m;
        let series = if q.pg() {
            "SELECT i FROM generate_series(0, $1 - 1) AS s(i)"
        } else {
            "WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i + 1 < $1) SELECT i FROM s"
        };
        let tag = uuid::Uuid::new_v4().simple().to_string();
        let sql = format!(
            "INSERT INTO goal_instances (id, hired_agent_id, customer_id, goal_template_id, frequency, settings, \
             enabled, row_version, deleted_at, created_at, updated_at) \
             SELECT 'GOI-due-{tag}-' || CAST(a.k + a.m * r.i AS TEXT), a.id, a.customer_id, g.goal_template_id, \
             'daily', g.settings, TRUE, 1, NULL, {at}, {at} \
             FROM ({series}) r JOIN ({agents}) a ON a.k + a.m * r.i < $2 \
             JOIN goal_instances g ON g.id = a.gid",
            at = q.add_secs("$3", "-60"),
        );
        let made = exec(
            c,
            &sql,
            &[Arg::Int(rounds), Arg::Int(i64::from(n)), Arg::At(now)],
        )
        .await?;
        check(made, i64::from(n), "due goals")?;
        tx.commit().await?;
    }
    owed(db, now).await
}

/// How many drafts a generation pass at `now` would make: due goals (as the pass reads them)
/// whose template is in their version and that have no draft for their period at `now`.
pub async fn owed(db: &Db, now: DateTime<Utc>) -> anyhow::Result<u64> {
    let mut definitions: HashMap<(String, String), Option<Definition>> = HashMap::new();
    let mut after = String::new();
    let mut total = 0_u64;
    let mut pc = db.acquire().await?;
    let c = &mut pc.conn();
    let q = Sql(c.engine());
    loop {
        let goals = deliverables::due_goals(c.reborrow(), None, &after, None, 2_000).await?;
        let Some(last) = goals.last() else { break };
        after = last.id.clone();
        let mut wanted: BTreeMap<String, String> = BTreeMap::new();
        for g in &goals {
            let key = (g.agent_type_id.clone(), g.agent_type_version.clone());
            if !definitions.contains_key(&key) {
                let d = catalog::get(db, &key.0, &key.1)
                    .await
                    .map_err(app_error)?
                    .map(|v| v.definition);
                definitions.insert(key.clone(), d);
            }
            let known = definitions
                .get(&key)
                .and_then(Option::as_ref)
                .is_some_and(|d| d.template(&g.goal_template_id).is_some());
            if let (true, Some(p)) = (known, generation::period_of(g, now)) {
                wanted.insert(g.id.clone(), p);
            }
        }
        if !wanted.is_empty() {
            let rows: Vec<Value> = wanted
                .iter()
                .map(|(g, p)| json!({"g": g, "p": p}))
                .collect();
            let sql = format!(
                "SELECT COUNT(*) FROM ({}) w WHERE NOT EXISTS (SELECT 1 FROM deliverables d \
                 WHERE d.goal_instance_id = w.g AND d.period_key = w.p)",
                q.json_rows(&[("g", "TEXT"), ("p", "TEXT")])
            );
            total += fetch_i64(c, &sql, &[Arg::Text(Value::Array(rows).to_string())]).await? as u64;
        }
        if goals.len() < 2_000 {
            break;
        }
    }
    Ok(total)
}
