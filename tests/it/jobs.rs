//! The job runner on a shared database: a job kind runs under a lease, so an instance skips what
//! another is running; every run is recorded.

use std::time::Duration;

use agentdesk::clock::Clock;
use agentdesk::db::jobs;
use agentdesk::jobs::{JobKind, JobSettings, run_due};

use crate::both_engines;
use crate::helpers::*;

both_engines!(a_job_held_by_another_instance_is_skipped_until_its_lease_runs_out);

const SESSION_MAX: Duration = Duration::from_secs(12 * 3600);

async fn a_job_held_by_another_instance_is_skipped_until_its_lease_runs_out(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let now = app.clock.now();
    let runs =
        || app.count("SELECT COUNT(*) FROM job_runs WHERE job = 'housekeeping' AND outcome = 'ok'");

    let report = run_due(&app.db, now, &JobSettings::new(SESSION_MAX))
        .await
        .unwrap();
    assert!(report.skipped.is_empty() && report.failed.is_empty());
    assert_eq!(runs().await, 1, "the pass is recorded");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM job_leases").await,
        0,
        "and its lease released"
    );

    // Another instance is in the middle of it.
    {
        let mut c = app.db.acquire().await.unwrap();
        assert!(
            jobs::take_lease(
                c.conn(),
                "housekeeping",
                "another-instance",
                now,
                now + chrono::Duration::minutes(5)
            )
            .await
            .unwrap()
        );
    }
    let report = run_due(&app.db, now, &JobSettings::new(SESSION_MAX))
        .await
        .unwrap();
    assert_eq!(report.skipped, vec![JobKind::Housekeeping]);
    assert_eq!(runs().await, 1, "nothing ran twice");

    // It died without releasing: once the lease runs out, the job runs here again.
    let later = now + chrono::Duration::minutes(6);
    let report = run_due(&app.db, later, &JobSettings::new(SESSION_MAX))
        .await
        .unwrap();
    assert!(report.skipped.is_empty());
    assert_eq!(runs().await, 2);

    let settings = JobSettings::new(SESSION_MAX);
    // Passes started together: each job kind runs in at most one of them.
    let passes =
        futures_util::future::join_all((0..4).map(|_| run_due(&app.db, later, &settings))).await;
    let ran = passes
        .iter()
        .filter(|r| !r.as_ref().unwrap().skipped.contains(&JobKind::Housekeeping))
        .count() as i64;
    assert!(ran >= 1);
    assert_eq!(runs().await, 2 + ran);
}

both_engines!(a_scheduler_pass_is_counted_in_the_servers_metrics);

/// The number after `series ` on its own line of a Prometheus text page (0 when absent).
fn sample(page: &str, series: &str) -> f64 {
    page.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .map(|v| v.trim().parse().unwrap())
        .unwrap_or(0.0)
}

/// A server with its scheduler on runs a pass at start: what the pass did shows on its
/// `/metrics` (runs by job and outcome, durations, the drafts it generated).
async fn a_scheduler_pass_is_counted_in_the_servers_metrics(engine: Engine) {
    use crate::agents_fixture as fx;
    use serde_json::json;
    use std::sync::Arc;

    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let c = crate::billing::customer(&app).await;
    let agent = fx::configured_trading(&app, &c, "Metered desk").await;
    const GOALS: usize = 3;
    for _ in 0..GOALS {
        fx::add_goal(
            &app,
            &c,
            &agent,
            "trading.guardrail_report.v1",
            "daily",
            json!({}),
        )
        .await;
    }
    // A second instance on the same database, with its scheduler: its first pass runs at once.
    let settings = agentdesk::config::Settings {
        database_url: app.test_db.url.clone(),
        bind: "127.0.0.1:0".into(),
        secret_key: Some(agentdesk::config::Secret::new(
            "test-secret-key-that-is-long-enough-0123456789",
        )),
        scheduler: true,
        workers: Some(1),
        db_max_connections: 5,
        ..Default::default()
    };
    let server = agentdesk::app::Application::build(
        settings,
        app.clock.clone() as Arc<dyn agentdesk::clock::Clock>,
    )
    .await
    .unwrap();
    let base = format!("http://127.0.0.1:{}", server.port());
    let handle = server.handle();
    let running = tokio::spawn(server.run_until_stopped());
    let client = Client::new(&base);
    let mut page = String::new();
    for _ in 0..200 {
        let (status, body) = client.page("/metrics").await;
        assert_eq!(status, reqwest::StatusCode::OK);
        page = body;
        // The outbox runs last in a pass.
        if sample(
            &page,
            "agentdesk_job_runs_total{job=\"outbox\",outcome=\"ok\"}",
        ) >= 1.0
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    handle.stop(true).await;
    running.await.unwrap().unwrap();

    let made = app.count("SELECT COUNT(*) FROM deliverables").await;
    assert_eq!(made, GOALS as i64, "the pass made the drafts");
    assert!(
        sample(&page, "agentdesk_drafts_generated_total") >= made as f64,
        "{page}"
    );
    for job in [
        "housekeeping",
        "period_ends",
        "trial_ends",
        "drafts",
        "outbox",
    ] {
        assert_eq!(
            sample(
                &page,
                &format!("agentdesk_job_runs_total{{job=\"{job}\",outcome=\"ok\"}}")
            ),
            1.0,
            "{job}: {page}"
        );
        assert_eq!(
            sample(
                &page,
                &format!("agentdesk_job_duration_seconds_count{{job=\"{job}\"}}")
            ),
            1.0,
            "{job}: {page}"
        );
    }
    assert!(page.contains("# TYPE agentdesk_drafts_generated_total counter"));
    assert!(page.contains("agentdesk_outbox_failed_total 0"), "{page}");
    assert!(page.contains("agentdesk_trials_ended_total{outcome=\"converted\"}"));
}
