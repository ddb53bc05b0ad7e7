//! Draining the outbox: each pending hand-over goes to its integration through a [`Dispatcher`];
//! a failure is retried with exponential backoff and, after the last attempt, marked failed (and
//! its deliverable with it), so a failing integration is visible and nothing is handed over twice.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use serde_json::json;

use crate::db::Db;
use crate::db::audit::{self, Change};
use crate::db::deliverables::{self, OutboxItem};
use crate::domain::actor::Actor;
use crate::error::AppResult;

/// Attempts before a hand-over is failed for good.
pub const MAX_ATTEMPTS: i32 = 5;

/// Carries a hand-over out; the error says why it could not.
pub trait Dispatcher: Send + Sync {
    fn dispatch(&self, item: &OutboxItem) -> Result<(), String>;
}

/// The built-in dispatcher: no external network. It records the hand-over and refuses one that
/// cannot be carried out (an external action without a credential to do it with).
pub struct RecordingDispatcher;

impl Dispatcher for RecordingDispatcher {
    fn dispatch(&self, item: &OutboxItem) -> Result<(), String> {
        let needs_credential =
            item.integration.starts_with("channel:") || item.integration.starts_with("exchange:");
        if needs_credential && item.credential_ref.as_deref().is_none_or(str::is_empty) {
            return Err(format!(
                "{} has no stored credential to act with.",
                item.integration
            ));
        }
        tracing::info!(outbox = %item.id, integration = %item.integration, action = %item.action, "handed over");
        Ok(())
    }
}

/// When attempt `n` (from 1) failed, the next one: 1, 2, 4, 8 minutes later.
pub fn backoff(attempt: i32) -> Duration {
    Duration::minutes(1 << (attempt - 1).clamp(0, 10))
}

#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct DrainReport {
    pub delivered: u64,
    pub retried: u64,
    pub failed: u64,
    pub failed_ids: Vec<String>,
}

/// Hands over everything due at `now`.
pub async fn drain(
    db: &Db,
    dispatcher: &dyn Dispatcher,
    now: DateTime<Utc>,
) -> AppResult<DrainReport> {
    let mut report = DrainReport::default();
    let due = {
        let mut c = db.acquire().await?;
        deliverables::due_outbox(c.conn(), now, 1_000).await?
    };
    for item in due {
        let attempt = item.attempts + 1;
        let (status, next, error) = match dispatcher.dispatch(&item) {
            Ok(()) => ("delivered", now, None),
            Err(e) if attempt >= MAX_ATTEMPTS => ("failed", now, Some(e)),
            Err(e) => ("pending", now + backoff(attempt), Some(e)),
        };
        let mut tx = db.begin().await?;
        if deliverables::record_attempt(tx.conn(), &item, status, next, error.as_deref(), now)
            .await?
        {
            match status {
                "delivered" => report.delivered += 1,
                "failed" => {
                    report.failed += 1;
                    report.failed_ids.push(item.id.clone());
                    // The deliverable's execution failed with it: recorded like every change.
                    audit::record(
                        tx.conn(),
                        &Actor::system(format!("outbox-{}", item.id), now),
                        Change {
                            entity_type: "deliverable",
                            entity_id: &item.deliverable_id,
                            action: "deliverable.execution_failed",
                            before: Some(json!({"execution_status": "executed"})),
                            after: Some(json!({
                                "execution_status": "failed",
                                "integration": item.integration,
                                "error": error,
                                "attempts": attempt,
                            })),
                        },
                    )
                    .await?;
                }
                _ => report.retried += 1,
            }
        }
        tx.commit().await?;
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles() {
        assert_eq!(backoff(1), Duration::minutes(1));
        assert_eq!(backoff(4), Duration::minutes(8));
    }
}
