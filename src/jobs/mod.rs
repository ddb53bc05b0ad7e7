//! The job runner: one pass of due work, run every minute inside the server (AGENTDESK_SCHEDULER)
//! or once by `agentdesk jobs run-due`. Fit for several instances on one database: each job kind
//! runs under a lease row, so one instance at a time runs it, and every run is recorded in
//! `job_runs` with what it did. Today there is one kind, housekeeping (expired sessions and old
//! login attempts); the scheduler's drafts, trials and period ends join as kinds of their own.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;

use crate::clock::Clock;
use crate::db::{Db, jobs};
use crate::service::signin;

/// The kinds of job a pass runs, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    Housekeeping,
}

impl JobKind {
    pub const ALL: [JobKind; 1] = [JobKind::Housekeeping];

    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Housekeeping => "housekeeping",
        }
    }

    /// Longer than a run can take: a holder that died frees the job after this.
    fn lease(self) -> chrono::Duration {
        chrono::Duration::minutes(5)
    }
}

/// What one pass did.
#[derive(Debug, Default, Serialize)]
pub struct PassReport {
    pub sessions_purged: u64,
    pub login_attempts_purged: u64,
    /// Kinds another instance was running, so this pass left them alone.
    pub skipped: Vec<JobKind>,
    pub failed: Vec<JobKind>,
}

/// Who runs jobs here: one id per process.
pub fn instance_id() -> &'static str {
    static ID: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    ID.get_or_init(|| {
        format!(
            "pid{}-{}",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        )
    })
}

pub async fn run_due(
    db: &Db,
    now: DateTime<Utc>,
    session_max: Duration,
) -> anyhow::Result<PassReport> {
    let mut report = PassReport::default();
    // One holder per pass, so two passes of one process exclude each other as well.
    let holder = &format!("{}#{}", instance_id(), uuid::Uuid::new_v4().simple());
    for kind in JobKind::ALL {
        let job = kind.as_str();
        {
            let mut c = db.acquire().await?;
            if !jobs::take_lease(c.conn(), job, holder, now, now + kind.lease()).await? {
                report.skipped.push(kind);
                continue;
            }
        }
        let started = Utc::now();
        let outcome = run_one(db, kind, now, session_max, &mut report).await;
        let mut c = db.acquire().await?;
        let details = match kind {
            JobKind::Housekeeping => json!({
                "sessions_purged": report.sessions_purged,
                "login_attempts_purged": report.login_attempts_purged,
            }),
        };
        let error = outcome.as_ref().err().map(|e| format!("{e:#}"));
        if let Some(e) = &error {
            tracing::warn!(job, error = %e, "job failed");
            report.failed.push(kind);
        }
        jobs::record_run(
            c.conn(),
            &jobs::NewRun {
                job,
                holder,
                started_at: started,
                finished_at: Utc::now(),
                ok: error.is_none(),
                report: &details,
                error: error.as_deref(),
            },
        )
        .await?;
        jobs::release_lease(c.conn(), job, holder).await?;
    }
    Ok(report)
}

async fn run_one(
    db: &Db,
    kind: JobKind,
    now: DateTime<Utc>,
    session_max: Duration,
    report: &mut PassReport,
) -> anyhow::Result<()> {
    match kind {
        JobKind::Housekeeping => {
            let max = chrono::Duration::from_std(session_max)?;
            let (s, l) = signin::housekeeping(db, now, max)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            report.sessions_purged = s;
            report.login_attempts_purged = l;
        }
    }
    Ok(())
}

/// The in-server scheduler: a pass every minute until `stop` turns true; the pass under way is
/// finished first, so shutdown never leaves a lease or a half-recorded run behind.
pub fn spawn_loop(
    db: Db,
    clock: Arc<dyn Clock>,
    session_max: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = stop.changed() => break,
            }
            if *stop.borrow() {
                break;
            }
            match run_due(&db, clock.now(), session_max).await {
                Ok(r) => tracing::debug!(?r, "scheduler pass"),
                Err(e) => tracing::warn!(error = %e, "scheduler pass failed"),
            }
        }
        tracing::info!("scheduler stopped");
    })
}
