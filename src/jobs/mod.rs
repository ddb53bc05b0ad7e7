//! The job runner: one pass of due work, run every minute inside the server (AGENTDESK_SCHEDULER)
//! or once by `agentdesk jobs run-due`. Fit for several instances on one database: each job kind
//! runs under a lease row, so one instance at a time runs it, and every run is recorded in
//! `job_runs` with what it did. Kinds: housekeeping (expired sessions, old login attempts and
//! idempotency keys older than a week) and
//! subscription period ends (end or renew, exactly once), trial ends (converted or not), drafts
//! (one per goal and period), and the outbox (hand-overs of executed deliverables). What each
//! kind did is logged, counted in the Prometheus metrics (when the pass is given the app's) and
//! answered in the [`PassReport`].

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
use crate::web::metrics::{self as m, Metrics};

/// What the jobs need to know of the settings.
#[derive(Debug, Clone)]
pub struct JobSettings {
    pub session_max: Duration,
    pub billing: BillingSettings,
    /// Where a pass counts what it did: the server's own metrics (the in-server loop, the API);
    /// none for a one-off command, whose process ends before any scrape.
    pub metrics: Option<Metrics>,
}

impl JobSettings {
    pub fn new(session_max: Duration) -> Self {
        JobSettings {
            session_max,
            billing: BillingSettings::default(),
            metrics: None,
        }
    }

    /// The same settings, counting into `metrics`.
    pub fn with_metrics(mut self, metrics: Metrics) -> Self {
        self.metrics = Some(metrics);
        self
    }
}

impl From<&crate::config::Settings> for JobSettings {
    fn from(s: &crate::config::Settings) -> Self {
        JobSettings {
            session_max: s.session_max,
            billing: s.billing.clone(),
            metrics: None,
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
                record_metrics(settings, kind, "skipped", None, &report);
                continue;
            }
        }
        let started = Utc::now();
        let timer = std::time::Instant::now();
        let outcome = run_one(db, kind, now, settings, &mut report).await;
        let elapsed = timer.elapsed();
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
        let outcome = if error.is_none() { "ok" } else { "failed" };
        record_metrics(settings, kind, outcome, Some(elapsed), &report);
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
    log_pass(&report);
    Ok(report)
}

/// Counts what one kind did in the app's metrics: the only place a pass records them.
fn record_metrics(
    settings: &JobSettings,
    kind: JobKind,
    outcome: &'static str,
    elapsed: Option<Duration>,
    r: &PassReport,
) {
    let Some(metrics) = &settings.metrics else {
        return;
    };
    let job = kind.as_str();
    metrics.record(|| {
        metrics::counter!(m::JOB_RUNS, "job" => job, "outcome" => outcome).increment(1);
        let Some(elapsed) = elapsed else { return };
        metrics::histogram!(m::JOB_DURATION, "job" => job).record(elapsed.as_secs_f64());
        match kind {
            JobKind::Housekeeping => {
                for (what, n) in [
                    ("sessions", r.sessions_purged),
                    ("login_attempts", r.login_attempts_purged),
                    ("idempotency_keys", r.idempotency_keys_purged),
                ] {
                    metrics::counter!(m::PURGED, "what" => what).increment(n);
                }
            }
            JobKind::PeriodEnds => {
                let p = &r.period_ends;
                metrics::counter!(m::PERIOD_ENDS, "outcome" => "renewed").increment(p.renewed);
                metrics::counter!(m::PERIOD_ENDS, "outcome" => "canceled").increment(p.canceled);
            }
            JobKind::TrialEnds => {
                let t = &r.trial_ends;
                metrics::counter!(m::TRIALS_ENDED, "outcome" => "converted")
                    .increment(t.converted_ids.len() as u64);
                metrics::counter!(m::TRIALS_ENDED, "outcome" => "not_converted")
                    .increment(t.not_converted_ids.len() as u64);
            }
            JobKind::Drafts => {
                metrics::counter!(m::DRAFTS_GENERATED).increment(r.drafts.generated);
            }
            JobKind::Outbox => {
                let o = &r.outbox;
                metrics::counter!(m::OUTBOX_DELIVERED).increment(o.delivered);
                metrics::counter!(m::OUTBOX_RETRIED).increment(o.retried);
                metrics::counter!(m::OUTBOX_FAILED).increment(o.failed);
            }
        }
    });
}

/// One log line per pass with what it did (counts; ids by number, they are in `job_runs`).
fn log_pass(r: &PassReport) {
    let kinds = |ks: &[JobKind]| ks.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(",");
    tracing::info!(
        now = %r.drafts.now.to_rfc3339(),
        sessions_purged = r.sessions_purged,
        login_attempts_purged = r.login_attempts_purged,
        idempotency_keys_purged = r.idempotency_keys_purged,
        period_ends = r.period_ends.processed,
        renewed = r.period_ends.renewed,
        canceled = r.period_ends.canceled,
        trials_ended = r.trial_ends.processed,
        trials_converted = r.trial_ends.converted_ids.len(),
        drafts_generated = r.drafts.generated,
        draft_ids = r.drafts.deliverable_ids.len(),
        outbox_delivered = r.outbox.delivered,
        outbox_retried = r.outbox.retried,
        outbox_failed = r.outbox.failed,
        outbox_failed_ids = r.outbox.failed_ids.len(),
        skipped = %kinds(&r.skipped),
        failed = %kinds(&r.failed),
        "job pass"
    );
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
