//! Draft generation: one draft per goal and period in the agent's timezone, exactly once however
//! many passes run at once, and none for paused, unconfigured or ended agents or on-demand goals.

use agentdesk::domain::actor::Scope;
use agentdesk::domain::billing::settings::BillingSettings;
use agentdesk::service::generation;
use agentdesk::service::hired_agents::{self, Edit};
use chrono::{DateTime, Utc};
use serde_json::json;

use crate::agents_fixture::{self as fx};
use crate::billing::{CustomerUser, customer};
use crate::helpers::{Engine, TestApp, spawn_app};

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

async fn set_timezone(app: &TestApp, c: &CustomerUser, id: &str, tz: &str) {
    let mut config = fx::trading_config(&app.text("SELECT id FROM credentials LIMIT 1").await);
    config["timezone"] = json!(tz);
    hired_agents::save(
        &app.db,
        &fx::keys(),
        &BillingSettings::default(),
        &fx::actor(app),
        &Scope::Customer(c.customer_id.clone()),
        id,
        Edit {
            config: Some(config),
            ..Edit::default()
        },
    )
    .await
    .unwrap();
}

async fn period_keys(app: &TestApp) -> Vec<String> {
    let mut keys: Vec<String> = match &app.db {
        agentdesk::db::Db::Postgres(p, ..) => {
            sqlx::query_scalar("SELECT period_key FROM deliverables")
                .fetch_all(p)
                .await
                .unwrap()
        }
        agentdesk::db::Db::Sqlite(p) => sqlx::query_scalar("SELECT period_key FROM deliverables")
            .fetch_all(p)
            .await
            .unwrap(),
    };
    keys.sort();
    keys
}

async fn one_draft_per_goal_and_period_in_the_agents_timezone(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let c = customer(&app).await;
    let kolkata = fx::configured_trading(&app, &c, "Kolkata desk").await;
    let utc = fx::configured_trading(&app, &c, "UTC desk").await;
    set_timezone(&app, &c, &utc, "UTC").await;
    for id in [&kolkata, &utc] {
        fx::add_goal(
            &app,
            &c,
            id,
            "trading.guardrail_report.v1",
            "daily",
            json!({}),
        )
        .await;
    }
    fx::add_goal(
        &app,
        &c,
        &kolkata,
        "trading.close_position_reminder.v1",
        "weekly",
        json!({"window_local_time": "15:15"}),
    )
    .await;
    fx::add_goal(
        &app,
        &c,
        &kolkata,
        "trading.trade_intent_draft.v1",
        "on_demand",
        json!({"coin": "BTC", "side": "buy", "units": 1}),
    )
    .await;

    // Tuesday 1 Dec 2026, 19:00 UTC is already Wednesday 2 Dec, 00:30 in Kolkata.
    let r = generation::run_due(&app.db, at("2026-12-01T19:00:00Z"), None)
        .await
        .unwrap();
    assert_eq!(r.generated, 3, "two daily, one weekly, no on-demand");
    assert_eq!(
        period_keys(&app).await,
        ["daily:2026-12-01", "daily:2026-12-02", "weekly:2026-W49"]
    );
    assert_eq!(
        app.text("SELECT title FROM deliverables WHERE period_key = 'weekly:2026-W49'")
            .await,
        "Close-position proposal"
    );
    assert!(
        app.text(
            "SELECT CAST(payload AS TEXT) FROM deliverables WHERE period_key = 'daily:2026-12-02'"
        )
        .await
        .contains("trading_guardrail_report_v1")
    );
    // The same moment again: nothing new. The next day: the two daily goals only.
    let again = generation::run_due(&app.db, at("2026-12-01T19:05:00Z"), None)
        .await
        .unwrap();
    assert_eq!(again.generated, 0);
    let next = generation::run_due(&app.db, at("2026-12-02T19:00:00Z"), None)
        .await
        .unwrap();
    assert_eq!(next.generated, 2);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM deliverables WHERE review_status = 'pending_review' AND execution_status = 'not_executed'")
            .await,
        5
    );
    // One agent only.
    let one = generation::run_due(&app.db, at("2026-12-03T19:00:00Z"), Some(&utc))
        .await
        .unwrap();
    assert_eq!(one.generated, 1);
}
crate::both_engines!(one_draft_per_goal_and_period_in_the_agents_timezone);

async fn paused_unconfigured_and_ended_agents_get_nothing(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let c = customer(&app).await;
    let paused = fx::configured_trading(&app, &c, "Paused").await;
    let unconfigured = fx::hire(&app, &c, agentdesk_trading(), "Draft only").await;
    let ended = fx::configured_trading(&app, &c, "Ended").await;
    for id in [&paused, &unconfigured, &ended] {
        fx::add_goal(
            &app,
            &c,
            id,
            "trading.guardrail_report.v1",
            "daily",
            json!({}),
        )
        .await;
    }
    hired_agents::set_paused(
        &app.db,
        &BillingSettings::default(),
        &fx::actor(&app),
        &Scope::Customer(c.customer_id.clone()),
        &paused,
        true,
    )
    .await
    .unwrap();
    app.exec("UPDATE hired_agents SET active = FALSE WHERE nickname = 'Ended'")
        .await
        .unwrap();
    let r = generation::run_due(&app.db, app.now(), None).await.unwrap();
    assert_eq!(r.generated, 0);
    // Resumed, the paused one gets its draft; the job pass generates it too.
    hired_agents::set_paused(
        &app.db,
        &BillingSettings::default(),
        &fx::actor(&app),
        &Scope::Customer(c.customer_id.clone()),
        &paused,
        false,
    )
    .await
    .unwrap();
    let report = agentdesk::jobs::run_due(
        &app.db,
        app.now(),
        &agentdesk::jobs::JobSettings::new(std::time::Duration::from_secs(3600)),
    )
    .await
    .unwrap();
    assert!(
        report.failed.is_empty() && report.skipped.is_empty(),
        "{:?} {:?}",
        report.failed,
        report.skipped
    );
    assert_eq!(report.drafts.generated, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM deliverables").await, 1);
}
crate::both_engines!(paused_unconfigured_and_ended_agents_get_nothing);

fn agentdesk_trading() -> &'static str {
    crate::billing::TRADING
}

/// Copies the one goal there is `n - 1` times in one set-based statement (a series on
/// PostgreSQL, a recursive CTE on SQLite), spreading the copies over every hired agent there is:
/// every column as the services saved it, only the id and agent differ.
async fn copy_goal(app: &TestApp, n: u64) {
    let series = match app.db {
        agentdesk::db::Db::Postgres(..) => "SELECT i FROM generate_series(1, $1) AS s(i)",
        agentdesk::db::Db::Sqlite(_) => {
            "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < $1) SELECT i FROM s"
        }
    };
    // Agents are numbered by id; copy i goes to agent i mod (number of agents).
    let sql = format!(
        "INSERT INTO goal_instances (id, hired_agent_id, customer_id, goal_template_id, frequency, settings, \
         enabled, row_version, deleted_at, created_at, updated_at) \
         SELECT g.id || '-' || CAST(n.i AS TEXT), h.id, g.customer_id, g.goal_template_id, g.frequency, g.settings, \
         g.enabled, g.row_version, g.deleted_at, g.created_at, g.updated_at \
         FROM goal_instances g CROSS JOIN ({series}) AS n \
         JOIN (SELECT id, ROW_NUMBER() OVER (ORDER BY id) - 1 AS k, COUNT(*) OVER () AS m FROM hired_agents) h \
         ON h.k = n.i % h.m"
    );
    let sql = sqlx::AssertSqlSafe(sql);
    let inserted = match &app.db {
        agentdesk::db::Db::Postgres(p, ..) => sqlx::query(sql)
            .bind((n - 1) as i64)
            .execute(p)
            .await
            .unwrap()
            .rows_affected(),
        agentdesk::db::Db::Sqlite(p) => sqlx::query(sql)
            .bind((n - 1) as i64)
            .execute(p)
            .await
            .unwrap()
            .rows_affected(),
    };
    assert_eq!(inserted, n - 1);
}

/// `goals` daily goals spread over `agents` configured agents of one customer: one goal through
/// the services, then copied set-based (seconds, not thousands of round trips).
async fn daily_goals(app: &TestApp, agents: usize, goals: u64) {
    let c = customer(app).await;
    let mut made = vec![];
    for i in 0..agents {
        made.push(fx::configured_trading(app, &c, &format!("Desk {i}")).await);
    }
    fx::add_goal(
        app,
        &c,
        &made[0],
        "trading.guardrail_report.v1",
        "daily",
        json!({}),
    )
    .await;
    copy_goal(app, goals).await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM goal_instances").await,
        goals as i64
    );
    assert_eq!(
        app.count("SELECT COUNT(DISTINCT hired_agent_id) FROM goal_instances")
            .await,
        agents as i64
    );
}

/// Every one of the `goals` goals has exactly one draft.
async fn assert_one_draft_per_goal(app: &TestApp, goals: u64) {
    assert_eq!(
        app.count("SELECT COUNT(*) FROM deliverables").await,
        goals as i64
    );
    assert_eq!(
        app.count("SELECT COUNT(DISTINCT goal_instance_id) FROM deliverables")
            .await,
        goals as i64
    );
}

/// SPEC §7 / issue 9: 4 scheduler passes at once over 10 000 goals, each pass on a pool of its
/// own (like four instances), make exactly one draft per goal and period, and the drafts the
/// passes report add up to exactly those made.
async fn concurrent_passes_make_exactly_one_draft_per_goal(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    const GOALS: u64 = 10_000;
    let setup = std::time::Instant::now();
    daily_goals(&app, 4, GOALS).await;
    let setup = setup.elapsed();
    let now = app.now();
    let mut dbs = vec![];
    for _ in 0..4 {
        dbs.push(app.second_db().await);
    }
    // Started together on the multi-thread runtime, each on its own pool.
    let passes_started = std::time::Instant::now();
    let start = std::sync::Arc::new(tokio::sync::Barrier::new(dbs.len()));
    let mut passes = vec![];
    for db in dbs {
        let start = start.clone();
        passes.push(tokio::spawn(async move {
            start.wait().await;
            let r = generation::run_due(&db, now, None).await.unwrap();
            db.close().await;
            r
        }));
    }
    let mut total = 0;
    let mut split = vec![];
    let mut ids = std::collections::HashSet::new();
    for p in passes {
        let r = p.await.unwrap();
        assert_eq!(r.generated, r.deliverable_ids.len() as u64);
        total += r.generated;
        split.push(r.generated);
        for id in r.deliverable_ids {
            assert!(ids.insert(id), "no draft reported by two passes");
        }
    }
    let passes_took = passes_started.elapsed();
    eprintln!(
        "{engine:?}: {GOALS} goals set up in {setup:?}; 4 concurrent passes took {passes_took:?}, \
         drafts made per pass {split:?}"
    );
    assert_eq!(total, GOALS, "each draft counted by the pass that made it");
    assert_one_draft_per_goal(&app, GOALS).await;
    assert_eq!(
        app.count("SELECT COUNT(DISTINCT period_key) FROM deliverables")
            .await,
        1
    );
}
crate::both_engines!(concurrent_passes_make_exactly_one_draft_per_goal);

/// A pass over all agents skips a range of goals another pass running at the same time has
/// claimed (PostgreSQL: that pass's session holds the range's advisory lock) and leaves it to
/// that pass; once the other pass is gone, the next pass makes the drafts it left. SQLite has no
/// concurrent passes to share with: a pass there does every range.
async fn a_range_claimed_by_a_running_pass_is_left_to_it(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    const GOALS: u64 = 3_000;
    daily_goals(&app, 2, GOALS).await;
    let ranges = {
        let mut conn = app.db.acquire().await.unwrap();
        generation::goal_ranges(conn.conn()).await.unwrap()
    };
    assert_eq!(ranges.len(), 3, "1 000 goals a range: {ranges:?}");
    let (after, upto) = &ranges[1];
    let in_held = app
        .count_with(
            "SELECT COUNT(*) FROM goal_instances WHERE id > $1 AND id <= $2",
            &[after, upto.as_deref().unwrap()],
        )
        .await;
    assert_eq!(in_held, 1_000);
    let now = app.now();
    // The other pass: a session holding the middle range's claim.
    let other = match &app.db {
        agentdesk::db::Db::Postgres(p, ..) => {
            let mut conn = p.acquire().await.unwrap().detach();
            let key = generation::range_key(after, upto.as_deref());
            let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
                .bind(key)
                .fetch_one(&mut conn)
                .await
                .unwrap();
            assert!(got);
            Some(conn)
        }
        agentdesk::db::Db::Sqlite(_) => None,
    };
    let first = generation::run_due(&app.db, now, None).await.unwrap();
    let left = app
        .count_with(
            "SELECT COUNT(*) FROM goal_instances g WHERE g.id > $1 AND g.id <= $2 \
             AND NOT EXISTS (SELECT 1 FROM deliverables d WHERE d.goal_instance_id = g.id)",
            &[after, upto.as_deref().unwrap()],
        )
        .await;
    if let Some(conn) = other {
        assert_eq!(first.generated, GOALS - 1_000, "the held range is skipped");
        assert_eq!(left, 1_000, "no draft in the held range");
        // The other pass ends (its connection closes) without having made them.
        sqlx::Connection::close(conn).await.unwrap();
    } else {
        assert_eq!(first.generated, GOALS);
        assert_eq!(left, 0);
    }
    let second = generation::run_due(&app.db, now, None).await.unwrap();
    assert_eq!(first.generated + second.generated, GOALS);
    assert_one_draft_per_goal(&app, GOALS).await;
    // A pass releases its claims when it ends: a third finds every range free and nothing owed.
    let third = generation::run_due(&app.db, now, None).await.unwrap();
    assert_eq!(third.generated, 0);
}
crate::both_engines!(a_range_claimed_by_a_running_pass_is_left_to_it);

/// A pass stopped half-way (its future dropped, as when a request is cancelled) leaves no claim
/// behind: its connection is closed rather than handed back to the pool with its locks, so the
/// next pass, from another instance, does every range the stopped one had not finished.
async fn a_pass_stopped_half_way_leaves_no_claim_behind(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    const GOALS: u64 = 10_000;
    daily_goals(&app, 2, GOALS).await;
    let now = app.now();
    let db = app.db.clone();
    let pass = tokio::spawn(async move { generation::run_due(&db, now, None).await });
    // Stop it once it has made its first drafts.
    let mut waited = 0;
    while app.count("SELECT COUNT(*) FROM deliverables").await == 0 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        waited += 1;
        assert!(waited < 6_000, "the pass made no draft in 30 s");
    }
    assert!(!pass.is_finished(), "stopped half-way, not after");
    pass.abort();
    assert!(pass.await.unwrap_err().is_cancelled());
    let made = app.count("SELECT COUNT(*) FROM deliverables").await as u64;
    assert!(made < GOALS, "{made} drafts before it stopped");
    if matches!(app.db, agentdesk::db::Db::Postgres(..)) {
        // The server ends the closed session's locks as soon as it notices the close.
        let mut waited = 0;
        while app
            .count("SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory'")
            .await
            > 0
        {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            waited += 1;
            assert!(waited < 500, "the stopped pass's claims outlived it");
        }
    }
    let other = app.second_db().await;
    let next = generation::run_due(&other, now, None).await.unwrap();
    other.close().await;
    // (SQLite may still commit the insert the stopped pass had handed to its worker thread, so
    // the drafts are counted at the end rather than added up.)
    assert!(next.generated > 0);
    assert_one_draft_per_goal(&app, GOALS).await;
}
crate::both_engines!(a_pass_stopped_half_way_leaves_no_claim_behind);

/// A draft's goal, hired agent and customer are the goal's own: the database refuses a row that
/// mixes two customers' (one foreign key on the three on PostgreSQL, a trigger on SQLite).
async fn a_draft_belongs_to_its_goals_agent_and_customer(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let (mine, theirs) = (customer(&app).await, customer(&app).await);
    let my_agent = fx::configured_trading(&app, &mine, "Mine").await;
    let their_agent = fx::configured_trading(&app, &theirs, "Theirs").await;
    for (c, a) in [(&mine, &my_agent), (&theirs, &their_agent)] {
        fx::add_goal(
            &app,
            c,
            a,
            "trading.guardrail_report.v1",
            "daily",
            json!({}),
        )
        .await;
    }
    let r = generation::run_due(&app.db, at("2026-12-01T19:00:00Z"), None)
        .await
        .unwrap();
    assert_eq!(r.generated, 2);
    // The migration that brought the single key applies to a database that already has drafts.
    let all = agentdesk::db::migrate::MIGRATIONS;
    let since = all.len()
        - all
            .iter()
            .position(|m| m.name == "0009_lean_draft_writes")
            .unwrap();
    let reverted = agentdesk::db::migrate::down(&app.db, since).await.unwrap();
    assert_eq!(reverted.last(), Some(&"0009_lean_draft_writes"));
    let applied = agentdesk::db::migrate::up(&app.db, app.now())
        .await
        .unwrap();
    assert_eq!(applied.len(), since);
    let (them, me) = (theirs.customer_id.as_str(), mine.customer_id.as_str());
    let refused: [(&'static str, &[&str]); 3] = [
        (
            "UPDATE deliverables SET customer_id = $1 WHERE hired_agent_id = $2",
            &[them, &my_agent],
        ),
        (
            "UPDATE deliverables SET hired_agent_id = $1 WHERE hired_agent_id = $2",
            &[&their_agent, &my_agent],
        ),
        (
            "INSERT INTO deliverables (id, hired_agent_id, customer_id, goal_instance_id, \
             goal_template_id, period_key, title, payload, created_at, updated_at) \
             SELECT 'DEL-mixed', $1, $2, goal_instance_id, goal_template_id, 'daily:2026-12-09', \
             title, payload, created_at, updated_at FROM deliverables WHERE hired_agent_id = $3",
            &[&their_agent, them, &my_agent],
        ),
    ];
    for (sql, values) in refused {
        let e = app.exec_with(sql, values).await.unwrap_err();
        assert!(e.to_lowercase().contains("foreign key"), "{sql}: {e}");
    }
    // Untouched: my draft is still my goal's, and there is no third row.
    let mine_still = app
        .count_with(
            "SELECT COUNT(*) FROM deliverables WHERE hired_agent_id = $1 AND customer_id = $2",
            &[&my_agent, me],
        )
        .await;
    assert_eq!(mine_still, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM deliverables").await, 2);
}
crate::both_engines!(a_draft_belongs_to_its_goals_agent_and_customer);
