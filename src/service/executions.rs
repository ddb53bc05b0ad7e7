//! Executing an approved deliverable (SPEC §7) through the gate of `domain::deliverable_states`:
//! a refusal is stored (deliverable, reason, actor, correlation id, time) and answered as denied;
//! an allowed execution is one transaction — status `executed`, one outbox row per integration
//! (credentials by reference), and the execution log. Executing again answers the first result
//! and writes nothing new.

use std::time::Instant;

use serde_json::{Value, json};
use sqlx::types::Json;

use crate::db::Db;
use crate::db::audit::{self, Change};
use crate::db::deliverables::{self, Deliverable, Denial, NewOutbox, Step};
use crate::domain::actor::{Actor, Scope};
use crate::domain::billing::settings::BillingSettings;
use crate::domain::deliverable_payloads::{self as payloads, intent_action};
use crate::domain::deliverable_states::{
    DenyReason, ExecuteRequest, ExecutionStatus, Gate, ReviewStatus, gate,
};
use crate::domain::ids::{new_id, new_ordered_id};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::service::hired_agents;

/// What an execution request came to.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Executed now, or earlier (`replayed`).
    Executed {
        deliverable: Deliverable,
        replayed: bool,
    },
    /// Refused by the policy; the refusal is stored.
    Denied { reason: DenyReason, denial: Denial },
}

/// Executes a deliverable the scope may see, presenting `approval_id` when given.
pub async fn execute(
    db: &Db,
    settings: &BillingSettings,
    actor: &Actor,
    scope: &Scope,
    deliverable_id: &str,
    approval_id: Option<&str>,
) -> AppResult<Outcome> {
    let deliverables::WithAgent {
        deliverable: d,
        agent,
    } = hired_agents::deliverable_with_agent(db, settings, scope, deliverable_id, actor.now)
        .await?;
    let definition = hired_agents::definition_of(db, &agent).await?;
    let actor = actor.clone().on_behalf_if_staff(scope, &d.customer_id);
    let payload = d
        .edited_payload
        .as_ref()
        .map(|p| p.0.clone())
        .unwrap_or_else(|| d.payload.0.clone());
    let review = ReviewStatus::parse(&d.review_status).unwrap_or(ReviewStatus::PendingReview);
    let execution =
        ExecutionStatus::parse(&d.execution_status).unwrap_or(ExecutionStatus::NotExecuted);
    let verdict = gate(&ExecuteRequest {
        approval_required: definition.enforcement_defaults.approval_required,
        review,
        execution,
        payload: &payload,
        presented_approval: approval_id,
        stored_approval: d.approval_id.as_deref(),
    });
    match verdict {
        Gate::NotApproved => Err(AppError::Conflict {
            code: ErrorCode::NotApproved,
            message: format!(
                "This deliverable is {}; only an approved one can be executed.",
                review.label().to_lowercase()
            ),
        }),
        Gate::Denied(reason) => {
            let denial = Denial {
                id: new_ordered_id("DEN"),
                deliverable_id: d.id.clone(),
                customer_id: d.customer_id.clone(),
                reason: reason.as_str().into(),
                action: intent_action(&payload),
                actor_user_id: actor.user_id,
                actor_role: actor.role.map(|r| r.as_str().to_string()),
                on_behalf: actor.on_behalf_of.is_some(),
                correlation_id: actor.correlation_id.clone(),
                created_at: actor.now,
            };
            let mut tx = db.begin().await?;
            deliverables::insert_denial(tx.conn(), &denial).await?;
            tx.commit().await?;
            Ok(Outcome::Denied { reason, denial })
        }
        Gate::AlreadyExecuted => Ok(Outcome::Executed {
            deliverable: d,
            replayed: true,
        }),
        Gate::Allowed => run(db, &actor, &d, &agent.config.0, &payload).await,
    }
}

async fn run(
    db: &Db,
    actor: &Actor,
    d: &Deliverable,
    config: &Value,
    payload: &Value,
) -> AppResult<Outcome> {
    let started = Instant::now();
    let mut tx = db.begin().await?;
    if !deliverables::mark_executed(tx.conn(), &d.id, actor.now).await? {
        // Another request executed it first: its result.
        drop(tx);
        let mut c = db.acquire().await?;
        let d = deliverables::get(c.conn(), &d.id, None)
            .await?
            .ok_or(AppError::NotFound)?;
        return Ok(Outcome::Executed {
            deliverable: d,
            replayed: true,
        });
    }
    let checked_ms = started.elapsed().as_millis() as i64;
    let handovers = payloads::handovers(payload, config);
    for h in &handovers {
        deliverables::insert_outbox(
            tx.conn(),
            &NewOutbox {
                id: new_ordered_id("OUT"),
                deliverable_id: &d.id,
                customer_id: &d.customer_id,
                integration: &h.integration,
                action: &h.action,
                payload: &h.payload,
                credential_ref: h.credential_ref.as_deref(),
            },
            actor.now,
        )
        .await?;
    }
    let steps = vec![
        Step {
            step_number: 1,
            action: "check_policy".into(),
            status: "succeeded".into(),
            output_summary: "Approved; the approval id matches; no failed checks.".into(),
            output: Json(json!({"approval_id": d.approval_id, "action": intent_action(payload)})),
            duration_ms: checked_ms,
        },
        Step {
            step_number: 2,
            action: "hand_over".into(),
            status: "succeeded".into(),
            output_summary: format!(
                "Queued for {}.",
                handovers
                    .iter()
                    .map(|h| h.integration.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            output: Json(json!({
                "integrations": handovers.iter().map(|h| json!({
                    "integration": h.integration,
                    "action": h.action,
                    "credential_ref": h.credential_ref,
                })).collect::<Vec<_>>(),
                "edited": d.edited_payload.is_some(),
            })),
            duration_ms: started.elapsed().as_millis() as i64 - checked_ms,
        },
    ];
    deliverables::insert_run(
        tx.conn(),
        &new_id("RUN"),
        &d.id,
        "succeeded",
        &actor.correlation_id,
        &steps,
        actor.now,
    )
    .await?;
    audit::record(
        tx.conn(),
        actor,
        Change {
            entity_type: "deliverable",
            entity_id: &d.id,
            action: "deliverable.executed",
            before: Some(json!({"execution_status": d.execution_status})),
            after: Some(json!({"execution_status": "executed", "handovers": handovers.len()})),
        },
    )
    .await?;
    let after = deliverables::get(tx.conn(), &d.id, None)
        .await?
        .ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(Outcome::Executed {
        deliverable: after,
        replayed: false,
    })
}
