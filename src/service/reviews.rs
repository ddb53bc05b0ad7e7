//! Deciding on a deliverable (SPEC §7): approve, approve with edits (validated through the
//! payload's edit form; the approval keeps the original and the edited payload) or reject with a
//! reason. Only a `pending_review` deliverable can be decided: of two people at once exactly one
//! wins (a conditional update, and one approval row per deliverable in the database); the other
//! is told who decided and when, and repeating the winning request answers its result again.

use serde_json::{Value, json};
use sqlx::types::Json;

use crate::db::Db;
use crate::db::audit::{self, Change};
use crate::db::deliverables::{self, Approval, Deliverable};
use crate::domain::actor::{Actor, Scope};
use crate::domain::billing::settings::BillingSettings;
use crate::domain::deliverable_edits;
use crate::domain::deliverable_states::{Decision, ReviewStatus};
use crate::domain::ids::new_ordered_id;
use crate::domain::schema::{self, Mode};
use crate::error::{AppError, AppResult, ErrorCode, Violation};
use crate::service::hired_agents;

/// A reviewer's decision as asked.
#[derive(Debug, Clone)]
pub struct DecisionInput {
    pub decision: Decision,
    pub notes: Option<String>,
    /// For approve with edits: the edit form's values.
    pub edits: Option<Value>,
}

/// A decision made (or the one made before, for a repeated request).
#[derive(Debug, Clone)]
pub struct Decided {
    pub deliverable: Deliverable,
    pub approval: Approval,
    /// This request repeated the winning one: nothing new was written.
    pub replayed: bool,
}

fn notes_of(input: &DecisionInput) -> AppResult<Option<String>> {
    let notes = input
        .notes
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_string);
    if input.decision == Decision::Reject && notes.is_none() {
        return Err(AppError::invalid(vec![Violation::new(
            "notes",
            "Say why it is rejected: the agent's owner reads the reason.",
        )]));
    }
    if notes.as_ref().is_some_and(|n| n.chars().count() > 4000) {
        return Err(AppError::invalid(vec![Violation::new(
            "notes",
            "Notes are at most 4000 characters.",
        )]));
    }
    Ok(notes)
}

/// The edited payload of an approve-with-edits, validated like every form.
fn edited_payload(d: &Deliverable, config: &Value, edits: &Value) -> AppResult<Value> {
    let Some(s) = deliverable_edits::edit_schema(&d.payload.0) else {
        return Err(AppError::invalid(vec![Violation::new(
            "edited_payload",
            "This deliverable has nothing to edit; approve or reject it as it is.",
        )]));
    };
    // Values not given keep the draft's: an API client may send only the text it changed.
    let mut merged = deliverable_edits::editable_values(&d.payload.0);
    if let (Some(m), Some(given)) = (merged.as_object_mut(), edits.as_object()) {
        for (k, v) in given {
            m.insert(k.clone(), v.clone());
        }
    } else {
        merged = edits.clone();
    }
    let edits = &merged;
    let problems = schema::validate(&s, edits, Mode::Complete);
    if !problems.is_empty() {
        return Err(AppError::invalid(
            problems
                .into_iter()
                .map(|v| Violation::new(format!("edited_payload.{}", v.path), v.message))
                .collect(),
        ));
    }
    Ok(deliverable_edits::apply(&d.payload.0, edits, config))
}

/// Decides on a deliverable the scope may see.
pub async fn decide(
    db: &Db,
    settings: &BillingSettings,
    actor: &Actor,
    scope: &Scope,
    deliverable_id: &str,
    input: &DecisionInput,
) -> AppResult<Decided> {
    let notes = notes_of(input)?;
    let deliverables::WithAgent {
        deliverable: d,
        agent,
    } = hired_agents::deliverable_with_agent(db, settings, scope, deliverable_id, actor.now)
        .await?;
    let edited = match (input.decision, &input.edits) {
        (Decision::ApproveWithEdits, Some(e)) => Some(edited_payload(&d, &agent.config.0, e)?),
        (Decision::ApproveWithEdits, None) => {
            return Err(AppError::invalid(vec![Violation::new(
                "edited_payload",
                "Approving with edits needs the edited values.",
            )]));
        }
        _ => None,
    };
    let status = input.decision.outcome();
    let actor = actor.clone().on_behalf_if_staff(scope, &d.customer_id);
    let mut tx = db.begin().await?;
    let approval_id = new_ordered_id("APR");
    let Some(after) = deliverables::decide(
        tx.conn(),
        &d.id,
        status.as_str(),
        notes.as_deref(),
        &approval_id,
        edited.as_ref(),
        actor.now,
    )
    .await?
    else {
        drop(tx);
        return already_decided(db, &d.id, status, notes.as_deref(), edited.as_ref()).await;
    };
    let approval = Approval {
        id: approval_id,
        deliverable_id: d.id.clone(),
        customer_id: d.customer_id.clone(),
        decided_by: actor.user_id,
        decided_by_role: actor.role.map(|r| r.as_str().to_string()),
        on_behalf: actor.on_behalf_of.is_some(),
        decision: status.as_str().to_string(),
        notes: notes.clone(),
        original_payload: d.payload.clone(),
        edited_payload: edited.clone().map(Json),
        correlation_id: actor.correlation_id.clone(),
        created_at: actor.now,
        decided_by_email: None,
    };
    deliverables::insert_approval(tx.conn(), &approval).await?;
    audit::record(
        tx.conn(),
        &actor,
        Change {
            entity_type: "deliverable",
            entity_id: &d.id,
            action: match input.decision {
                Decision::Approve => "deliverable.approved",
                Decision::ApproveWithEdits => "deliverable.approved_with_edits",
                Decision::Reject => "deliverable.rejected",
            },
            before: Some(json!({"review_status": d.review_status})),
            after: Some(json!({"review_status": status.as_str(), "approval_id": approval.id, "notes": notes})),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Decided {
        deliverable: after,
        approval,
        replayed: false,
    })
}

/// Someone decided first: the same decision again answers it; any other is a conflict naming
/// who decided and when.
async fn already_decided(
    db: &Db,
    id: &str,
    status: ReviewStatus,
    notes: Option<&str>,
    edited: Option<&Value>,
) -> AppResult<Decided> {
    let mut c = db.acquire().await?;
    let d = deliverables::get(c.conn(), id, None)
        .await?
        .ok_or(AppError::NotFound)?;
    let a = deliverables::approval_of(c.conn(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    if a.decision == status.as_str()
        && a.notes.as_deref() == notes
        && a.edited_payload.as_ref().map(|e| &e.0) == edited
    {
        return Ok(Decided {
            deliverable: d,
            approval: a,
            replayed: true,
        });
    }
    Err(AppError::Conflict {
        code: ErrorCode::AlreadyDecided,
        message: format!(
            "Already {} by {} at {}.",
            a.decision,
            a.decided_by_email.as_deref().unwrap_or("the system"),
            a.created_at.format("%Y-%m-%d %H:%M UTC")
        ),
    })
}
