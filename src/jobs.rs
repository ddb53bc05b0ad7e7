//! The job runner: one pass of due work, run every minute inside the server (AGENTDESK_SCHEDULER)
//! or once by `agentdesk jobs run-due`. Today it keeps the session and login-attempt tables small.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::accounts;
use crate::clock::Clock;
use crate::db::Db;

/// What one pass did.
#[derive(Debug, Default)]
pub struct PassReport {
    pub sessions_purged: u64,
    pub login_attempts_purged: u64,
}

pub async fn run_due(
    db: &Db,
    now: DateTime<Utc>,
    session_max: Duration,
) -> anyhow::Result<PassReport> {
    let max = chrono::Duration::from_std(session_max)?;
    let (s, l) = accounts::housekeeping(db, now, max)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(PassReport {
        sessions_purged: s,
        login_attempts_purged: l,
    })
}

pub fn spawn_loop(db: Db, clock: Arc<dyn Clock>, session_max: Duration) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match run_due(&db, clock.now(), session_max).await {
                Ok(r) => tracing::debug!(?r, "scheduler pass"),
                Err(e) => tracing::warn!(error = %e, "scheduler pass failed"),
            }
        }
    });
}
