//! Subscriptions (SPEC §4): reading them within a scope, cancel and undo, and the period-end pass
//! that ends or renews each one exactly once.

use chrono::{DateTime, Duration as Span, Utc};
use serde::Serialize;

use crate::db::Db;
use crate::db::audit::{self, Change};
use crate::db::customers;
use crate::db::subscriptions::{self, Subscription};
use crate::domain::actor::{Actor, Scope};
use crate::domain::billing::Duration;
use crate::domain::billing::settings::BillingSettings;
use crate::domain::billing::subscription_status::{Event, Outcome, Refusal, SubscriptionStatus};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::service::period_documents::issue_period;

pub use crate::db::subscriptions::Subscription as Row;

/// When a canceled subscription's data stops being readable.
pub fn retention_expires_at(
    sub: &Subscription,
    settings: &BillingSettings,
) -> Option<DateTime<Utc>> {
    sub.ended_at
        .map(|e| e + Span::days(settings.end_retention_days))
}

fn status(sub: &Subscription) -> AppResult<SubscriptionStatus> {
    SubscriptionStatus::parse(&sub.status).ok_or_else(|| {
        AppError::Internal(anyhow::anyhow!(
            "subscription {} has an unknown status {:?}",
            sub.id,
            sub.status
        ))
    })
}

/// 410 once a canceled subscription is past its retention.
fn check_retained(
    sub: &Subscription,
    settings: &BillingSettings,
    now: DateTime<Utc>,
) -> AppResult<()> {
    match retention_expires_at(sub, settings) {
        Some(at) if at <= now => Err(AppError::Gone(format!(
            "Subscription {} ended on {} and its data was kept for {} days; it is no longer available.",
            sub.id,
            sub.ended_at
                .map(|e| e.format("%Y-%m-%d").to_string())
                .unwrap_or_default(),
            settings.end_retention_days
        ))),
        _ => Ok(()),
    }
}

/// One subscription the scope may see and that is still retained.
pub async fn get(
    db: &Db,
    settings: &BillingSettings,
    scope: &Scope,
    id: &str,
    now: DateTime<Utc>,
) -> AppResult<Subscription> {
    let mut c = db.acquire().await?;
    let sub = subscriptions::get(c.conn(), id, scope.customer())
        .await?
        .ok_or(AppError::NotFound)?;
    check_retained(&sub, settings, now)?;
    Ok(sub)
}

/// A customer's subscriptions (all of them: the list says which are no longer available).
pub async fn of_customer(
    db: &Db,
    scope: &Scope,
    customer_id: &str,
) -> AppResult<Vec<Subscription>> {
    if !scope.sees(customer_id) {
        return Err(AppError::NotFound);
    }
    let mut c = db.acquire().await?;
    Ok(subscriptions::of_customer(c.conn(), customer_id).await?)
}

/// The Phase-1 `SubscriptionResponse`, plus the pinned version and retention.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SubscriptionView {
    pub subscription_id: String,
    /// The Phase-1 listing id, as given at checkout.
    pub agent_id: Option<String>,
    pub agent_type_id: String,
    /// The version the subscription is pinned to.
    pub agent_type_version: String,
    #[schema(value_type = crate::domain::billing::Duration)]
    pub duration: String,
    pub customer_id: String,
    #[schema(value_type = SubscriptionStatus)]
    pub status: String,
    pub current_period_start: DateTime<Utc>,
    pub current_period_end: DateTime<Utc>,
    pub cancel_at_period_end: bool,
    /// When a canceled subscription ended (its last period's end).
    pub ended_at: Option<DateTime<Utc>>,
    /// When its data stops being readable (410 Gone after that).
    pub retention_expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// After a cancel: when it takes effect (the period's end).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effective_at: Option<DateTime<Utc>>,
}

impl SubscriptionView {
    pub fn of(sub: &Subscription, settings: &BillingSettings) -> Self {
        SubscriptionView {
            subscription_id: sub.id.clone(),
            agent_id: sub.agent_id.clone(),
            agent_type_id: sub.agent_type_id.clone(),
            agent_type_version: sub.agent_type_version.clone(),
            duration: sub.duration.clone(),
            customer_id: sub.customer_id.clone(),
            status: sub.status.clone(),
            current_period_start: sub.current_period_start,
            current_period_end: sub.current_period_end,
            cancel_at_period_end: sub.cancel_at_period_end,
            ended_at: sub.ended_at,
            retention_expires_at: retention_expires_at(sub, settings),
            created_at: sub.created_at,
            effective_at: None,
        }
    }
}

/// Cancel at period end (`cancel = true`) or undo that. Asking for what is already so changes
/// nothing and answers the subscription as it is.
pub async fn set_cancel(
    db: &Db,
    settings: &BillingSettings,
    actor: &Actor,
    scope: &Scope,
    id: &str,
    cancel: bool,
) -> AppResult<Subscription> {
    let mut tx = db.begin().await?;
    let before = subscriptions::get(tx.conn(), id, scope.customer())
        .await?
        .ok_or(AppError::NotFound)?;
    check_retained(&before, settings, actor.now)?;
    let event = if cancel {
        Event::Cancel
    } else {
        Event::UndoCancel
    };
    match status(&before)?.transition(before.cancel_at_period_end, event) {
        Err(Refusal::NotActive) => {
            return Err(AppError::conflict(
                ErrorCode::SubscriptionNotActive,
                "Subscription is not active.",
            ));
        }
        Err(Refusal::Unchanged) => return Ok(before),
        Ok(_) => {}
    }
    if before.current_period_end <= actor.now {
        return Err(AppError::conflict(
            ErrorCode::PeriodEnded,
            "This subscription's period is over; the next job pass renews or ends it. Try again after that.",
        ));
    }
    if !subscriptions::set_cancel_flag(tx.conn(), id, cancel, actor.now).await? {
        return Err(AppError::conflict(
            ErrorCode::ChangedMeanwhile,
            "The subscription changed at the same moment; reload it and try again.",
        ));
    }
    let after = subscriptions::get(tx.conn(), id, None)
        .await?
        .ok_or(AppError::NotFound)?;
    let actor = actor.clone().on_behalf_if_staff(scope, &after.customer_id);
    audit::record(
        tx.conn(),
        &actor,
        Change {
            entity_type: "subscription",
            entity_id: id,
            action: if cancel {
                "subscription.cancel_scheduled"
            } else {
                "subscription.cancel_undone"
            },
            before: Some(before.audit_json()),
            after: Some(after.audit_json()),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// What one period-end pass did.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct PeriodEndReport {
    pub processed: u64,
    pub canceled: u64,
    pub renewed: u64,
    pub now: DateTime<Utc>,
    pub canceled_ids: Vec<String>,
    pub renewed_ids: Vec<String>,
}

/// Ends or renews every active subscription whose period ended by `actor.now`. Each change is a
/// conditional update in its own transaction, so passes running at once (instances, cron, the
/// API) change each period exactly once; a subscription several periods behind renews once per
/// period.
pub async fn process_period_end(
    db: &Db,
    settings: &BillingSettings,
    actor: &Actor,
) -> AppResult<PeriodEndReport> {
    let mut report = PeriodEndReport {
        now: actor.now,
        ..Default::default()
    };
    // Bounded so a fault can never spin: each round handles what is due, renewals may be due again.
    for _round in 0..1_000 {
        let due = {
            let mut c = db.acquire().await?;
            subscriptions::due(c.conn(), actor.now, 200).await?
        };
        if due.is_empty() {
            break;
        }
        let mut changed = 0;
        for sub in due {
            if process_one(db, settings, actor, &sub, &mut report).await? {
                changed += 1;
            }
        }
        if changed == 0 {
            // Another pass holds what is left; it will finish it.
            break;
        }
    }
    Ok(report)
}

async fn process_one(
    db: &Db,
    settings: &BillingSettings,
    actor: &Actor,
    sub: &Subscription,
    report: &mut PeriodEndReport,
) -> AppResult<bool> {
    let outcome = match status(sub)?.transition(sub.cancel_at_period_end, Event::PeriodEnd) {
        Ok(o) => o,
        Err(_) => return Ok(false),
    };
    let mut tx = db.begin().await?;
    let won = match outcome {
        Outcome::End => {
            subscriptions::end(tx.conn(), &sub.id, sub.current_period_end, actor.now).await?
        }
        Outcome::Renew => {
            let duration = Duration::parse(&sub.duration).ok_or_else(|| {
                anyhow::anyhow!("subscription {} has an unknown duration", sub.id)
            })?;
            let next_end = duration.period_end(sub.current_period_end);
            subscriptions::renew(
                tx.conn(),
                &sub.id,
                sub.current_period_end,
                next_end,
                actor.now,
            )
            .await?
        }
        Outcome::CancelFlag(_) => false,
    };
    if !won {
        return Ok(false);
    }
    let after = subscriptions::get(tx.conn(), &sub.id, None)
        .await?
        .ok_or(AppError::NotFound)?;
    let action = match outcome {
        Outcome::End => "subscription.canceled",
        _ => "subscription.renewed",
    };
    audit::record(
        tx.conn(),
        actor,
        Change {
            entity_type: "subscription",
            entity_id: &sub.id,
            action,
            before: Some(sub.audit_json()),
            after: Some(after.audit_json()),
        },
    )
    .await?;
    if outcome == Outcome::Renew {
        let bill_to = customers::by_id(tx.conn(), &sub.customer_id)
            .await?
            .ok_or(AppError::NotFound)?;
        if issue_period(
            tx.conn(),
            settings,
            actor,
            &after,
            &bill_to,
            "renewal",
            None,
        )
        .await?
        .is_none()
        {
            // The period's order exists: another pass renewed it; leave everything to that one.
            return Ok(false);
        }
        report.renewed += 1;
        report.renewed_ids.push(sub.id.clone());
    } else {
        // Its hired agent stops with it, in the same transaction.
        crate::service::hired_agents::deactivate_in(tx.conn(), actor, &sub.id).await?;
        report.canceled += 1;
        report.canceled_ids.push(sub.id.clone());
    }
    report.processed += 1;
    tx.commit().await?;
    Ok(true)
}
