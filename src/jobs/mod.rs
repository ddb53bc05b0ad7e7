//! The job runner: one pass of due work, run every minute inside the server (AGENTDESK_SCHEDULER)
//! or once by `agentdesk jobs run-due`. Fit for several instances on one database: each job kind
//! runs under a lease row, so one instance at a time runs it, and every run is recorded in
//! `job_runs` with what it did. Kinds: housekeeping (expired sessions, old login attempts and
//! idempotency keys older than a week) and
//! subscription period ends (end or renew, exactly once), trial ends (converted or not), drafts
//! (one per goal and period), and the outbox (hand-overs of executed deliverables).

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;

use crate::clock::Clock;
use crate::db::{Db, jobs};
use crate::domain::actor::Actor;
use crate::domain::billing::settings::BillingSettings;
use crate::service::generation::{self, GenerationReport};
use crate::service::hired_agents::{self, TrialEndReport};
use crate::service::outbox::{self, DrainReport};
use crate::service::subscriptions::PeriodEndReport;
use crate::service::{signin, subscriptions};

/// What the jobs need to know of the settings.
#[derive(Debug, Clone)]
pub struct JobSettings {
    pub session_max: Duration,
    pub billing: BillingSettings,
}

impl JobSettings {
    pub fn new(session_max: Duration) -> Self {
        JobSettings {
            session_max,
            billing: BillingSettings::default(),
        }
    }
}

impl From<&crate::config::Settings> for JobSettings {
    fn from(s: &crate::config::Settings) -> Self {
        JobSettings {
            session_max: s.session_max,
            billing: s.billing.clone(),
        }
    }
}

/// The kinds of job a pass runs, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    Housekeeping,
    PeriodEnds,
    TrialEnds,
    Drafts,
    Outbox,
}

impl JobKind {
    /// Trials end after period ends, so a trial ending with its subscription is not converted;
    /// drafts come last, so an agent whose subscription just ended gets none.
    pub const ALL: [JobKind; 5] = [
        JobKind::Housekeeping,
        JobKind::PeriodEnds,
        JobKind::TrialEnds,
        JobKind::Drafts,
        JobKind::Outbox,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Housekeeping => "housekeeping",
            JobKind::PeriodEnds => "period_ends",
            JobKind::TrialEnds => "trial_ends",
            JobKind::Drafts => "drafts",
            JobKind::Outbox => "outbox",
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
    pub idempotency_keys_purged: u64,
    pub period_ends: PeriodEndReport,
    pub trial_ends: TrialEndReport,
    pub drafts: GenerationReport,
    pub outbox: DrainReport,
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
    settings: &JobSettings,
) -> anyhow::Result<PassReport> {
    let mut report = PassReport {
        period_ends: PeriodEndReport {
            now,
            ..Default::default()
        },
        trial_ends: TrialEndReport {
            now,
            ..Default::default()
        },
        drafts: GenerationReport {
            now,
            ..Default::default()
        },
        ..Default::default()
    };
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
        let outcome = run_one(db, kind, now, settings, &mut report).await;
        let mut c = db.acquire().await?;
        let details = match kind {
            JobKind::Housekeeping => json!({
                "sessions_purged": report.sessions_purged,
                "login_attempts_purged": report.login_attempts_purged,
                "idempotency_keys_purged": report.idempotency_keys_purged,
            }),
            JobKind::PeriodEnds => json!(report.period_ends),
            JobKind::TrialEnds => json!(report.trial_ends),
            JobKind::Drafts => json!({
                "generated": report.drafts.generated,
                "deliverable_ids": report.drafts.deliverable_ids,
            }),
            JobKind::Outbox => json!(report.outbox),
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
    settings: &JobSettings,
    report: &mut PassReport,
) -> anyhow::Result<()> {
    match kind {
        JobKind::Housekeeping => {
            let max = chrono::Duration::from_std(settings.session_max)?;
            let (s, l) = signin::housekeeping(db, now, max)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            report.sessions_purged = s;
            report.login_attempts_purged = l;
            report.idempotency_keys_purged = crate::service::checkout::forget_old_keys(db, now)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
        }
        JobKind::PeriodEnds => {
            let actor = Actor::system(format!("job-{}", uuid::Uuid::new_v4().simple()), now);
            report.period_ends = subscriptions::process_period_end(db, &settings.billing, &actor)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
        }
        JobKind::TrialEnds => {
            let actor = Actor::system(format!("job-{}", uuid::Uuid::new_v4().simple()), now);
            report.trial_ends = hired_agents::process_trial_end(db, &actor)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
        }
        JobKind::Drafts => {
            report.drafts = generation::run_due(db, now, None)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            tracing::info!(generated = report.drafts.generated, "drafts generated");
        }
        JobKind::Outbox => {
            report.outbox = outbox::drain(db, &outbox::RecordingDispatcher, now)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
        }
    }
    Ok(())
}

/// The in-server scheduler: a pass every minute until `stop` turns true; the pass under way is
/// finished first, so shutdown never leaves a lease or a half-recorded run behind.
pub fn spawn_loop(
    db: Db,
    clock: Arc<dyn Clock>,
    settings: JobSettings,
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
            match run_due(&db, clock.now(), &settings).await {
                Ok(r) => tracing::debug!(?r, "scheduler pass"),
                Err(e) => tracing::warn!(error = %e, "scheduler pass failed"),
            }
        }
        tracing::info!("scheduler stopped");
    })
}
