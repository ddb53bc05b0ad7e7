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
