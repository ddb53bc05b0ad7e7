//! The benchmark dataset loader (`agentdesk::bench_data`): the small scale on both engines makes
//! the rows it promises, consistent across tables, with logins that work over HTTP and review
//! queues that render the copied payloads, and `add_due_goals` owes the scheduler exactly what one
//! pass then makes.

use std::time::Instant;

use agentdesk::bench_data::{self, Loaded, Scale};
use agentdesk::db::Db;
use agentdesk::service::generation;
use chrono::{DateTime, Utc};
use reqwest::StatusCode;

use crate::helpers::{Engine, TestApp, location, spawn_app};

/// A count with `now` bound as `$1`.
async fn count_at(app: &TestApp, sql: &'static str, now: DateTime<Utc>) -> i64 {
    match &app.db {
        Db::Postgres(p, ..) => sqlx::query_scalar(sql)
            .bind(now)
            .fetch_one(p)
            .await
            .unwrap(),
        Db::Sqlite(p) => sqlx::query_scalar(sql)
            .bind(now)
            .fetch_one(p)
            .await
            .unwrap(),
    }
}

fn rows(loaded: &Loaded, table: &str) -> i64 {
    loaded
        .counts
        .iter()
        .find(|(t, _)| *t == table)
        .unwrap_or_else(|| panic!("{table} counted"))
        .1
}

async fn the_small_scale_loads_consistent_rows_that_sign_in_and_render(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let now = app.now();
    let started = Instant::now();
    let loaded = bench_data::load(&app.db, Scale::SMALL, now).await.unwrap();
    eprintln!(
        "{engine:?}: Scale::SMALL loaded in {:?}: {:?}",
        started.elapsed(),
        loaded.counts
    );

    // The scale, exactly.
    assert_eq!(rows(&loaded, "customers"), 50);
    assert_eq!(rows(&loaded, "hired_agents"), 500);
    assert_eq!(rows(&loaded, "goal_instances"), 1_000);
    assert_eq!(rows(&loaded, "deliverables"), 5_000);
    for t in [
        "approvals",
        "execution_runs",
        "execution_steps",
        "execution_denials",
        "outbox",
        "audit_log",
        "credentials",
        "invoices",
    ] {
        assert!(rows(&loaded, t) > 0, "{t}");
    }
    // Both agent types, every frequency, every state.
    assert_eq!(
        app.count("SELECT COUNT(DISTINCT agent_type_id) FROM hired_agents")
            .await,
        2
    );
    assert_eq!(
        app.count("SELECT COUNT(DISTINCT frequency) FROM goal_instances")
            .await,
        4
    );
    for sql in [
        "SELECT COUNT(*) FROM deliverables WHERE review_status = 'approved' AND edited_payload IS NOT NULL",
        "SELECT COUNT(*) FROM deliverables WHERE review_status = 'rejected'",
        "SELECT COUNT(*) FROM deliverables WHERE execution_status = 'executed'",
        "SELECT COUNT(*) FROM deliverables WHERE execution_status = 'failed'",
        "SELECT COUNT(*) FROM deliverables WHERE period_key LIKE 'weekly:%'",
        "SELECT COUNT(*) FROM deliverables WHERE period_key LIKE 'monthly:%'",
        "SELECT COUNT(*) FROM deliverables WHERE period_key LIKE 'on_demand:%'",
    ] {
        assert!(app.count(sql).await > 0, "{sql}");
    }
    // Waiting for review: about a third, oldest first. How many depends on the moment of the load
    // (which of the template's decisions would lie after `now`): loads at every hour of one day
    // gave 1 322–1 740 of 5 000, the fewest in the afternoon (UTC), and loads early on 2 December
    // 1 164–1 186. The bounds leave room around every moment seen so far, and still refuse a
    // dataset where next to nothing, or most of it, waits.
    let pending = loaded.pending_ids.len() as i64;
    assert_eq!(
        pending,
        app.count("SELECT COUNT(*) FROM deliverables WHERE review_status = 'pending_review'")
            .await
    );
    assert!(
        (900..=2_250).contains(&pending),
        "{pending} of 5 000 waiting"
    );
    // Consistent across tables.
    for sql in [
        "SELECT COUNT(*) FROM deliverables d JOIN hired_agents h ON h.id = d.hired_agent_id \
         WHERE d.customer_id <> h.customer_id",
        "SELECT COUNT(*) FROM deliverables d JOIN goal_instances g ON g.id = d.goal_instance_id \
         WHERE g.hired_agent_id <> d.hired_agent_id OR g.customer_id <> d.customer_id",
        "SELECT COUNT(*) FROM hired_agents h LEFT JOIN subscriptions s ON s.id = h.subscription_id \
         WHERE s.id IS NULL OR s.status <> 'active' OR s.customer_id <> h.customer_id \
         OR s.agent_type_id <> h.agent_type_id",
        "SELECT COUNT(*) FROM deliverables d WHERE (d.review_status = 'pending_review') = \
         EXISTS (SELECT 1 FROM approvals a WHERE a.deliverable_id = d.id)",
        "SELECT COUNT(*) FROM deliverables d JOIN approvals a ON a.id = d.approval_id \
         WHERE a.deliverable_id <> d.id OR a.customer_id <> d.customer_id",
        "SELECT COUNT(*) FROM deliverables d WHERE d.execution_status IN ('executed', 'failed') \
         AND NOT EXISTS (SELECT 1 FROM execution_runs r WHERE r.deliverable_id = d.id)",
        "SELECT COUNT(*) FROM deliverables d WHERE d.review_status <> 'pending_review' \
         AND NOT EXISTS (SELECT 1 FROM audit_log l WHERE l.entity_type = 'deliverable' AND l.entity_id = d.id)",
        "SELECT COUNT(*) FROM users u WHERE u.role = 'customer' AND u.customer_id IS NULL",
        "SELECT COUNT(*) FROM customers c WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.customer_id = c.id)",
        "SELECT COUNT(*) FROM outbox o JOIN deliverables d ON d.id = o.deliverable_id \
         WHERE o.credential_ref IS NOT NULL AND NOT EXISTS \
         (SELECT 1 FROM credentials c WHERE c.id = o.credential_ref AND c.customer_id = d.customer_id)",
    ] {
        assert_eq!(app.count(sql).await, 0, "{sql}");
    }
    // Everything happened before `now`, in order, within the window.
    for sql in [
        "SELECT COUNT(*) FROM deliverables WHERE created_at >= $1 OR updated_at >= $1 \
         OR decided_at >= $1 OR executed_at >= $1 OR decided_at < created_at OR executed_at < decided_at",
        "SELECT COUNT(*) FROM approvals WHERE created_at >= $1",
        "SELECT COUNT(*) FROM execution_runs WHERE created_at >= $1",
        // (The app's own start-up, before the load, wrote its entries at `now` itself.)
        "SELECT COUNT(*) FROM audit_log WHERE at > $1 OR (at = $1 AND entity_type = 'deliverable')",
        "SELECT COUNT(*) FROM outbox WHERE updated_at >= $1",
        "SELECT COUNT(*) FROM goal_instances g JOIN deliverables d ON d.goal_instance_id = g.id \
         WHERE d.created_at < g.created_at",
        "SELECT COUNT(*) FROM subscriptions WHERE current_period_start >= $1 OR current_period_end <= $1",
    ] {
        assert_eq!(count_at(&app, sql, now).await, 0, "{sql}");
    }

    // The logins sign in straight to their home pages and see the queues.
    let customer = app.client();
    let res = customer
        .login(&loaded.customer.email, &loaded.customer.password)
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/portal");
    let (status, body) = customer.page("/portal/reviews").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        loaded
            .pending_ids
            .iter()
            .any(|id| body.contains(id.as_str())),
        "the customer's queue lists waiting deliverables"
    );
    let (status, body) = customer
        .page(&format!("/portal/deliverables/{}", loaded.deliverable_id))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = customer
        .page(&format!(
            "/portal/reviews?agent={}&type={}",
            loaded.hired_agent_id, loaded.agent_type_id
        ))
        .await;
    assert_eq!(status, StatusCode::OK);

    let staff = app.client();
    let res = staff
        .login(&loaded.staff.email, &loaded.staff.password)
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/admin");
    let (status, body) = staff.page("/admin/reviews").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.contains(loaded.pending_ids[0].as_str()),
        "staff see the oldest waiting deliverable first"
    );
    let (status, _) = staff
        .page(&format!(
            "/admin/reviews?customer={}&type={}",
            loaded.filter_customer_id, loaded.agent_type_id
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    // A decided copy renders too (its approval, edits and execution log).
    let (status, body) = staff
        .page(&format!(
            "/admin/deliverables/{}",
            app.text(
                "SELECT d.id FROM deliverables d WHERE d.edited_payload IS NOT NULL \
                 AND d.execution_status = 'executed' AND d.id LIKE '%-%-%-%-%-%-%' ORDER BY d.id LIMIT 1"
            )
            .await
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // The scheduler: exactly what add_due_goals says is owed, then nothing.
    let owed = bench_data::add_due_goals(&app.db, 40, now).await.unwrap();
    assert!(owed >= 40, "{owed}");
    let pass = generation::run_due(&app.db, now, None).await.unwrap();
    assert_eq!(pass.generated, owed);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM deliverables WHERE goal_instance_id LIKE 'GOI-due-%'")
            .await,
        40
    );
    let again = generation::run_due(&app.db, now, None).await.unwrap();
    assert_eq!(again.generated, 0);
    assert_eq!(bench_data::add_due_goals(&app.db, 0, now).await.unwrap(), 0);
}
crate::both_engines!(the_small_scale_loads_consistent_rows_that_sign_in_and_render);
