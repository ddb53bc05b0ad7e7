//! Phase-1 deliverables under `/api/v1` (paths and shapes of the reference §4 kept for old
//! clients; differences are listed in docs/phase1-compat.md): an agent's deliverables (generating
//! its due drafts first, as Phase 1 did), one deliverable with its decision, denials and execution
//! log, review, execution behind the policy gate, "run now", and the scheduler's passes. The
//! customer always comes from the principal (see `api_hired_agents::acting`). Every rule lives in
//! `service::review_queue`, `service::reviews`, `service::executions` and `service::generation`;
//! this module reads requests and shapes answers.
//!
//! Statements per request, besides the principal: the list 1 read + the agent's due goals (1 read
//! per 2 000) + 1 insert per 500 drafts + 1 read; a deliverable 1 to 5 reads (the deliverable with
//! its agent, then what its state has: decision, denials, log, hand-overs); a review 1 read + 1
//! transaction (a lost race 2 reads more); an execution 2 reads + 1 transaction; run now 3 reads + 1
//! transaction.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::api_hired_agents::{AgentPath, CustomerQuery, acting, optional_body};
use super::auth::{Admin, SignedIn};
use super::body::json_as;
use super::errors::Problem;
use super::openapi::{BadRequest, Conflict, Endpoint, Gone, NotFound, ValidationFailed, endpoints};
use crate::db::deliverables::{Approval, Deliverable, Denial, Handover, LoggedStep};
use crate::domain::deliverable_payloads::validation_errors;
use crate::domain::deliverable_states::{Decision, DenyReason, ExecutionStatus, ReviewStatus};
use crate::error::{AppError, AppResult, ErrorCode, Violation};
use crate::jobs::{self, JobSettings};
use crate::service::executions::{self, Outcome};
use crate::service::generation::{self, GenerationReport};
use crate::service::hired_agents::{self, TrialEndReport};
use crate::service::outbox::DrainReport;
use crate::service::review_queue::{self, Filter};
use crate::service::reviews::{self, DecisionInput};
use crate::service::subscriptions::PeriodEndReport;

/// This module's operations; `openapi::scope` serves each where its annotation says.
pub fn endpoints() -> Vec<Endpoint> {
    endpoints![
        agent_deliverables,
        run_now,
        deliverable,
        review,
        execute,
        goals_run_due,
        run_due,
    ]
}

/// A list answers this many deliverables unless `limit` says otherwise.
const DEFAULT_LIMIT: i64 = 100;
/// The most one list answers.
const MAX_LIMIT: i64 = 500;

// ---------------------------------------------------------------------------------------------
// Shapes.

/// A deliverable as Phase 1 answered it (`DeliverableResponse`), plus its period key, the edited
/// payload of an approval with edits and when it was decided.
#[derive(Serialize, ToSchema)]
struct DeliverableResponse {
    /// `DEL-…`
    deliverable_id: String,
    hired_instance_id: String,
    goal_instance_id: String,
    goal_template_id: String,
    /// `daily:YYYY-MM-DD`, `weekly:YYYY-Www`, `monthly:YYYY-MM` (in the agent's timezone), or
    /// `on_demand:<request key>` for a "run now" draft.
    period_key: String,
    title: String,
    /// The payload as drafted (reference §4.6), never changed.
    #[schema(value_type = Object)]
    payload: Value,
    /// The payload as approved with edits; executions use it. Null when not edited.
    #[schema(value_type = Option<Object>)]
    edited_payload: Option<Value>,
    #[schema(value_type = ReviewStatus)]
    review_status: String,
    review_notes: Option<String>,
    /// The decision's record (`APR-…`), once decided; present it to execute.
    approval_id: Option<String>,
    decided_at: Option<DateTime<Utc>>,
    #[schema(value_type = ExecutionStatus)]
    execution_status: String,
    executed_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl DeliverableResponse {
    fn of(d: &Deliverable) -> Self {
        DeliverableResponse {
            deliverable_id: d.id.clone(),
            hired_instance_id: d.hired_agent_id.clone(),
            goal_instance_id: d.goal_instance_id.clone(),
            goal_template_id: d.goal_template_id.clone(),
            period_key: d.period_key.clone(),
            title: d.title.clone(),
            payload: d.payload.0.clone(),
            edited_payload: d.edited_payload.as_ref().map(|p| p.0.clone()),
            review_status: d.review_status.clone(),
            review_notes: d.review_notes.clone(),
            approval_id: d.approval_id.clone(),
            decided_at: d.decided_at,
            execution_status: d.execution_status.clone(),
            executed_at: d.executed_at,
            created_at: d.created_at,
            updated_at: d.updated_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
struct DeliverableList {
    hired_instance_id: String,
    /// Oldest first, by `(created_at, deliverable_id)`.
    deliverables: Vec<DeliverableResponse>,
    /// When the page is full: send it as `after` for the next page. Null on the last page.
    next_after: Option<String>,
}

/// A decision record (append-only: never changed or deleted).
#[derive(Serialize, ToSchema)]
struct ApprovalRecord {
    /// `APR-…`
    approval_id: String,
    /// `approved` or `rejected`.
    decision: String,
    notes: Option<String>,
    /// The deciding user's e-mail (null once the user is gone).
    decided_by: Option<String>,
    /// The deciding user's role (`customer`, `admin`, `operator`).
    decided_by_role: Option<String>,
    /// Staff decided for the customer.
    on_behalf: bool,
    /// The payload as it was when decided.
    #[schema(value_type = Object)]
    original_payload: Value,
    /// Approved with edits: the payload as edited.
    #[schema(value_type = Option<Object>)]
    edited_payload: Option<Value>,
    correlation_id: String,
    created_at: DateTime<Utc>,
}

impl ApprovalRecord {
    fn of(a: &Approval) -> Self {
        ApprovalRecord {
            approval_id: a.id.clone(),
            decision: a.decision.clone(),
            notes: a.notes.clone(),
            decided_by: a.decided_by_email.clone(),
            decided_by_role: a.decided_by_role.clone(),
            on_behalf: a.on_behalf,
            original_payload: a.original_payload.0.clone(),
            edited_payload: a.edited_payload.as_ref().map(|p| p.0.clone()),
            correlation_id: a.correlation_id.clone(),
            created_at: a.created_at,
        }
    }
}

/// Who asked for a refused execution.
#[derive(Serialize, ToSchema)]
struct DenialActor {
    /// Null for the system.
    user_id: Option<i64>,
    role: Option<String>,
    /// Staff asked for the customer.
    on_behalf: bool,
}

/// A refused execution, as stored (append-only).
#[derive(Serialize, ToSchema)]
struct DenialRecord {
    /// `DEN-…`
    denial_id: String,
    reason: DenyReason,
    /// The payload's `intent_action` (`publish` when it has none).
    action: String,
    actor: DenialActor,
    /// The request's `X-Correlation-ID` (or the id the server gave it).
    correlation_id: String,
    at: DateTime<Utc>,
}

impl DenialRecord {
    fn of(d: &Denial) -> Self {
        DenialRecord {
            denial_id: d.id.clone(),
            reason: DenyReason::parse(&d.reason).unwrap_or(DenyReason::ApprovalRequired),
            action: d.action.clone(),
            actor: DenialActor {
                user_id: d.actor_user_id,
                role: d.actor_role.clone(),
                on_behalf: d.on_behalf,
            },
            correlation_id: d.correlation_id.clone(),
            at: d.created_at,
        }
    }
}

/// A run's AI usage, when it had any.
#[derive(Serialize, ToSchema)]
struct AiUsage {
    model: Option<String>,
    input_tokens: Option<i64>,
    output_tokens: Option<i64>,
    /// In minor units (paise).
    cost_minor: Option<i64>,
}

#[derive(Serialize, ToSchema)]
struct ExecutionStep {
    step_number: i32,
    action: String,
    status: String,
    output_summary: String,
    #[schema(value_type = Object)]
    output: Value,
    duration_ms: i64,
}

/// One execution of the deliverable with its steps.
#[derive(Serialize, ToSchema)]
struct ExecutionRun {
    /// `RUN-…`
    run_id: String,
    status: String,
    correlation_id: String,
    created_at: DateTime<Utc>,
    ai_usage: Option<AiUsage>,
    /// By step number.
    steps: Vec<ExecutionStep>,
}

/// The steps (oldest run first, by step number) grouped by run.
fn runs_of(log: &[LoggedStep]) -> Vec<ExecutionRun> {
    let mut runs: Vec<ExecutionRun> = vec![];
    for s in log {
        if runs.last().is_none_or(|r| r.run_id != s.run_id) {
            let any_ai = s.ai_model.is_some()
                || s.ai_input_tokens.is_some()
                || s.ai_output_tokens.is_some()
                || s.ai_cost_minor.is_some();
            runs.push(ExecutionRun {
                run_id: s.run_id.clone(),
                status: s.run_status.clone(),
                correlation_id: s.correlation_id.clone(),
                created_at: s.run_at,
                ai_usage: any_ai.then(|| AiUsage {
                    model: s.ai_model.clone(),
                    input_tokens: s.ai_input_tokens,
                    output_tokens: s.ai_output_tokens,
                    cost_minor: s.ai_cost_minor,
                }),
                steps: vec![],
            });
        }
        if let Some(run) = runs.last_mut() {
            run.steps.push(ExecutionStep {
                step_number: s.step.step_number,
                action: s.step.action.clone(),
                status: s.step.status.clone(),
                output_summary: s.step.output_summary.clone(),
                output: s.step.output.0.clone(),
                duration_ms: s.step.duration_ms,
            });
        }
    }
    runs
}

/// A hand-over of an executed deliverable to the integration that carries it out.
#[derive(Serialize, ToSchema)]
struct HandoverRecord {
    /// `OUT-…`
    handover_id: String,
    /// The channel or exchange.
    integration: String,
    action: String,
    /// The credential by reference, never the secret.
    credential_ref: Option<String>,
    /// `pending`, `delivered` or `failed`.
    status: String,
    attempts: i32,
    next_attempt_at: DateTime<Utc>,
    last_error: Option<String>,
    updated_at: DateTime<Utc>,
}

impl HandoverRecord {
    fn of(h: &Handover) -> Self {
        HandoverRecord {
            handover_id: h.id.clone(),
            integration: h.integration.clone(),
            action: h.action.clone(),
            credential_ref: h.credential_ref.clone(),
            status: h.status.clone(),
            attempts: h.attempts,
            next_attempt_at: h.next_attempt_at,
            last_error: h.last_error.clone(),
            updated_at: h.updated_at,
        }
    }
}

/// A deliverable with everything that happened to it.
#[derive(Serialize, ToSchema)]
struct DeliverableDetail {
    #[serde(flatten)]
    deliverable: DeliverableResponse,
    /// The decision (at most one: only a deliverable waiting for review can be decided).
    approvals: Vec<ApprovalRecord>,
    /// Refused executions, oldest first.
    denials: Vec<DenialRecord>,
    /// Executions, oldest first.
    execution_log: Vec<ExecutionRun>,
    /// Hand-overs to integrations, by integration.
    handovers: Vec<HandoverRecord>,
}

/// Phase 1's `ReviewDeliverableResponse`.
#[derive(Serialize, ToSchema)]
struct ReviewResponse {
    deliverable_id: String,
    #[schema(value_type = ReviewStatus)]
    review_status: String,
    /// The decision's record (`APR-…`), for rejections too.
    approval_id: Option<String>,
    updated_at: DateTime<Utc>,
}

/// Phase 1's `ExecuteDeliverableResponse`.
#[derive(Serialize, ToSchema)]
struct ExecuteResponse {
    deliverable_id: String,
    #[schema(value_type = ExecutionStatus)]
    execution_status: String,
    executed_at: Option<DateTime<Utc>>,
    updated_at: DateTime<Utc>,
}

/// What a refused execution's problem document details.
#[derive(Serialize, ToSchema)]
struct DenialDetails {
    deliverable_id: String,
    /// The action that was refused (`publish`, `place_order`, …).
    action: String,
    message: String,
    /// The stored denial (`DEN-…`).
    decision_id: String,
    /// `guardrail_failed` only: the trade intent's failed checks.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    validation_errors: Vec<String>,
}

/// 403: a problem document. A policy denial (`code` `policy_denied`, `title` "Policy Enforcement
/// Denied") also carries `reason` and `details`.
#[derive(Serialize, ToSchema)]
struct PolicyDenial {
    #[serde(flatten)]
    problem: Problem,
    /// `policy_denied` only.
    reason: Option<DenyReason>,
    /// `policy_denied` only.
    details: Option<DenialDetails>,
}

/// What "run now" made.
#[derive(Serialize, ToSchema)]
struct RunNowResponse {
    /// Always 1: the draft of this request (or of the first request with the same key).
    generated: u64,
    deliverable_ids: Vec<String>,
}

/// What a whole job pass did.
#[derive(Serialize, ToSchema)]
struct PassResponse {
    /// Drafts made by this pass.
    generated: u64,
    deliverable_ids: Vec<String>,
    now: DateTime<Utc>,
    sessions_purged: u64,
    login_attempts_purged: u64,
    idempotency_keys_purged: u64,
    period_ends: PeriodEndReport,
    trial_ends: TrialEndReport,
    outbox: DrainReport,
    /// Kinds this pass left alone: another instance was running them, or (with
    /// `hired_instance_id`) every kind but `drafts`.
    skipped: Vec<String>,
    /// Kinds that failed (the server's log says why); the others ran.
    failed: Vec<String>,
}

// ---------------------------------------------------------------------------------------------
// Parameters and bodies.

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
struct DeliverablePath {
    /// `DEL-…`
    id: String,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Phase 1 named the customer here. A customer's user may give only their own (another
    /// answers 404); staff name the customer they act for.
    customer_id: Option<String>,
    /// The moment to generate due drafts at (RFC 3339; default now).
    #[param(value_type = Option<String>, format = DateTime)]
    as_of: Option<String>,
    /// Only deliverables with this review status.
    #[param(value_type = Option<ReviewStatus>)]
    status: Option<String>,
    /// Keyset pagination: the `deliverable_id` the previous page ended with (`next_after`).
    after: Option<String>,
    /// At most this many (1 to 500; default 100).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 500)]
    limit: Option<String>,
}

/// The list's parameters, read; every problem at once.
struct ListParams {
    as_of: Option<DateTime<Utc>>,
    status: Option<ReviewStatus>,
    after: Option<String>,
    limit: i64,
}

fn list_params(q: &ListQuery) -> AppResult<ListParams> {
    let mut violations = vec![];
    let given = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let as_of = given(&q.as_of).and_then(|s| match DateTime::parse_from_rfc3339(&s) {
        Ok(t) => Some(t.with_timezone(&Utc)),
        Err(_) => {
            violations.push(Violation::new(
                "as_of",
                "Give a date and time with its offset (RFC 3339), e.g. 2026-03-01T19:00:00Z.",
            ));
            None
        }
    });
    let status = given(&q.status).and_then(|s| match ReviewStatus::parse(&s) {
        Some(st) => Some(st),
        None => {
            violations.push(Violation::new(
                "status",
                "Choose pending_review, approved or rejected.",
            ));
            None
        }
    });
    let limit = match given(&q.limit) {
        None => DEFAULT_LIMIT,
        Some(s) => match s.parse::<i64>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
            _ => {
                violations.push(Violation::new(
                    "limit",
                    format!("Give a whole number from 1 to {MAX_LIMIT}."),
                ));
                DEFAULT_LIMIT
            }
        },
    };
    if !violations.is_empty() {
        return Err(AppError::invalid(violations));
    }
    Ok(ListParams {
        as_of,
        status,
        after: given(&q.after),
        limit,
    })
}

/// Phase 1's `ReviewDeliverableRequest`, plus `edited_payload`.
#[derive(Deserialize, ToSchema)]
struct ReviewBody {
    /// Staff: the customer acted for. Customers: their own or nothing.
    #[serde(default)]
    customer_id: Option<String>,
    /// `approved` or `rejected` (exactly so).
    decision: String,
    /// Required to reject (the reason the agent's owner reads); at most 4 000 characters.
    #[serde(default)]
    notes: Option<String>,
    /// Approve with edits: the edit form's values (`{"instagram": "…"}` per marketing channel,
    /// `{"side", "units"}` of a trade intent, `{"window_local_time"}` of a close-position
    /// proposal). Validated like every form; the approval keeps the original and the edited
    /// payload, and execution uses the edited one.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    edited_payload: Option<Value>,
    /// Accepted for Phase-1 clients and ignored: the server names every decision's record.
    #[serde(default)]
    #[allow(dead_code)] // Read only to be accepted.
    approval_id: Option<String>,
}

/// Phase 1's `ExecuteDeliverableRequest`.
#[derive(Deserialize, Default, ToSchema)]
struct ExecuteBody {
    /// Staff: the customer acted for. Customers: their own or nothing.
    #[serde(default)]
    customer_id: Option<String>,
    /// The deliverable's `approval_id`: required for actions that reach the outside world
    /// (`publish`, `send`, `post`, `place_order`, `close_position`).
    #[serde(default)]
    approval_id: Option<String>,
}

#[derive(Deserialize, ToSchema)]
struct RunNowBody {
    /// An enabled on-demand goal of this agent.
    goal_instance_id: String,
    /// Staff: the customer acted for. Customers: their own or nothing.
    #[serde(default)]
    customer_id: Option<String>,
}

#[derive(Deserialize, Default, ToSchema)]
struct RunDueBody {
    /// The moment to run the pass as (default: now).
    #[serde(default)]
    now: Option<DateTime<Utc>>,
    /// Only this hired agent's due drafts.
    #[serde(default)]
    hired_instance_id: Option<String>,
}

/// The header's value, a value that is not visible ASCII failing the key's own check.
fn header<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    req.headers()
        .get(name)
        .map(|v| v.to_str().unwrap_or("\u{0}"))
}

/// What a scheduler request asks for: the agent it names (checked to exist: 404 otherwise), and
/// the moment to run as (default now).
async fn pass_of(
    state: &AppState,
    admin: &Admin,
    body: Option<web::Json<Value>>,
) -> AppResult<(Option<String>, DateTime<Utc>)> {
    let body: RunDueBody = optional_body(body)?;
    let now = body.now.unwrap_or(admin.actor.now);
    let named = body.hired_instance_id.as_deref().map(str::trim);
    let Some(id) = named.filter(|s| !s.is_empty()) else {
        return Ok((None, now));
    };
    let b = &state.settings.billing;
    let h = hired_agents::get(&state.db, b, &admin.scope(), id, admin.actor.now).await?;
    Ok((Some(h.id), now))
}

// ---------------------------------------------------------------------------------------------
// Handlers.

/// A hired agent's deliverables, after generating its due drafts.
///
/// As in Phase 1, the list first generates the agent's due drafts at `as_of` (default now): one per
/// daily, weekly and monthly goal and period in the agent's timezone, with the scheduler's rules
/// (an active, unpaused, configured agent; never for on-demand goals), exactly once. Then one page,
/// oldest first. 422 for a bad `as_of`, `status` or `limit`.
#[utoipa::path(
    get,
    path = "/api/v1/hired-agents/{id}/deliverables",
    tag = "deliverables",
    params(AgentPath, ListQuery),
    responses(
        (status = 200, description = "The deliverables, oldest first", body = DeliverableList),
        (status = 404, response = NotFound),
        (status = 410, response = Gone),
        (status = 422, response = ValidationFailed),
    ),
)]
async fn agent_deliverables(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<AgentPath>,
    q: web::Query<ListQuery>,
) -> AppResult<HttpResponse> {
    let p = list_params(&q)?;
    let (scope, actor) = acting(&user, q.customer_id.as_deref(), false)?;
    let filter = Filter {
        status: p.status,
        ..Filter::default()
    };
    let items = review_queue::of_agent(
        &state.db,
        &state.settings.billing,
        &scope,
        actor.now,
        &path.id,
        &filter,
        p.after.as_deref(),
        p.limit,
        p.as_of.unwrap_or(actor.now),
    )
    .await?;
    let next_after = (items.len() as i64 == p.limit)
        .then(|| items.last().map(|i| i.deliverable.id.clone()))
        .flatten();
    Ok(HttpResponse::Ok().json(DeliverableList {
        hired_instance_id: path.id.clone(),
        deliverables: items
            .iter()
            .map(|i| DeliverableResponse::of(&i.deliverable))
            .collect(),
        next_after,
    }))
}

/// One deliverable, with its decision, refused executions, execution log and hand-overs.
///
/// 410 once its agent's subscription ended and the retention is over.
#[utoipa::path(
    get,
    path = "/api/v1/deliverables/{id}",
    tag = "deliverables",
    params(DeliverablePath, CustomerQuery),
    responses(
        (status = 200, description = "The deliverable and its history", body = DeliverableDetail),
        (status = 404, response = NotFound),
        (status = 410, response = Gone),
    ),
)]
async fn deliverable(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<DeliverablePath>,
    q: web::Query<CustomerQuery>,
) -> AppResult<HttpResponse> {
    let (scope, actor) = acting(&user, q.customer_id.as_deref(), false)?;
    let d = review_queue::detail(
        &state.db,
        &state.settings.billing,
        &scope,
        &path.id,
        actor.now,
    )
    .await?;
    Ok(HttpResponse::Ok().json(DeliverableDetail {
        deliverable: DeliverableResponse::of(&d.deliverable),
        approvals: d.approval.iter().map(ApprovalRecord::of).collect(),
        denials: d.denials.iter().map(DenialRecord::of).collect(),
        execution_log: runs_of(&d.log),
        handovers: d.handovers.iter().map(HandoverRecord::of).collect(),
    }))
}

/// Approve (optionally with edits) or reject a deliverable that waits for review.
///
/// Each decision appends an approval record (`APR-…`) that never changes. `edited_payload` with
/// `approved` approves with edits; rejecting needs `notes` (422 otherwise). Only a deliverable
/// waiting for review can be decided: one decided by someone else answers 409 `already_decided`
/// ("Already approved by X at T."); repeating the deciding request answers its result again
/// (header `Idempotent-Replayed: true`). Viewers get 403.
#[utoipa::path(
    post,
    path = "/api/v1/deliverables/{id}/review",
    tag = "deliverables",
    params(DeliverablePath),
    request_body = ReviewBody,
    responses(
        (status = 200, description = "The decision", body = ReviewResponse),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 410, response = Gone),
        (status = 422, response = ValidationFailed),
    ),
)]
async fn review(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<DeliverablePath>,
    body: web::Json<Value>,
) -> AppResult<HttpResponse> {
    let body: ReviewBody = json_as(body.into_inner())?;
    let (scope, actor) = acting(&user, body.customer_id.as_deref(), true)?;
    let edits = body.edited_payload.filter(|e| !e.is_null());
    let decision = match (body.decision.as_str(), &edits) {
        ("approved", None) => Decision::Approve,
        ("approved", Some(_)) => Decision::ApproveWithEdits,
        ("rejected", None) => Decision::Reject,
        ("rejected", Some(_)) => {
            return Err(AppError::invalid(vec![Violation::new(
                "edited_payload",
                "Edits go with an approval; a rejection takes notes only.",
            )]));
        }
        _ => {
            return Err(AppError::invalid(vec![Violation::new(
                "decision",
                "Choose approved or rejected.",
            )]));
        }
    };
    let done = reviews::decide(
        &state.db,
        &state.settings.billing,
        &actor,
        &scope,
        &path.id,
        &DecisionInput {
            decision,
            notes: body.notes,
            edits,
        },
    )
    .await?;
    let mut res = HttpResponse::Ok();
    if done.replayed {
        res.insert_header(("Idempotent-Replayed", "true"));
    }
    let d = &done.deliverable;
    Ok(res.json(ReviewResponse {
        deliverable_id: d.id.clone(),
        review_status: d.review_status.clone(),
        approval_id: d.approval_id.clone(),
        updated_at: d.updated_at,
    }))
}

/// The sentence a denial's problem document gives (Phase 1's where it had one).
fn denial_message(reason: DenyReason) -> &'static str {
    match reason {
        DenyReason::ApprovalRequired => "External action requires customer approval_id",
        DenyReason::ApprovalInvalid => "Invalid approval_id for execution",
        DenyReason::GuardrailFailed => reason.message(),
    }
}

/// The 403 of a refused execution (RFC 7807, the shape of every problem plus `reason` and
/// `details`), carrying the stored denial's correlation id.
fn denied(req: &HttpRequest, reason: DenyReason, denial: &Denial, payload: &Value) -> HttpResponse {
    let code = ErrorCode::PolicyDenied;
    let body = PolicyDenial {
        problem: Problem {
            problem_type: code.problem_type(),
            code,
            title: "Policy Enforcement Denied",
            status: StatusCode::FORBIDDEN.as_u16(),
            detail: "Policy denied deliverable execution".into(),
            instance: req.path().to_string(),
            correlation_id: denial.correlation_id.clone(),
            violations: None,
        },
        reason: Some(reason),
        details: Some(DenialDetails {
            deliverable_id: denial.deliverable_id.clone(),
            action: denial.action.clone(),
            message: denial_message(reason).into(),
            decision_id: denial.id.clone(),
            validation_errors: if reason == DenyReason::GuardrailFailed {
                validation_errors(payload)
            } else {
                vec![]
            },
        }),
    };
    HttpResponse::Forbidden()
        .content_type("application/problem+json")
        .json(body)
}

/// Execute an approved deliverable.
///
/// An action that reaches the outside world (`publish`, `send`, `post`, `place_order`,
/// `close_position`; the payload's `intent_action`, default `publish`) needs the deliverable's
/// `approval_id` when its agent type requires approval: without it the answer is 403 "Policy
/// Enforcement Denied" with `reason` `approval_required`, with another id `approval_invalid`; a
/// trade intent whose checks failed is refused with `guardrail_failed`. Every refusal is stored
/// with the request's `X-Correlation-ID` (echoed in the answer's header and body). An allowed
/// execution marks it executed, queues its hand-over (outbox) and writes its execution log in one
/// transaction, using the edited payload when it was approved with edits. Executing again answers
/// the first result and writes nothing. 409 `not_approved` unless approved. Viewers get 403.
#[utoipa::path(
    post,
    path = "/api/v1/deliverables/{id}/execute",
    tag = "deliverables",
    params(
        DeliverablePath,
        ("X-Correlation-ID" = Option<String>, Header, description = "Ties the request, its log lines and a stored denial together (1 to 128 of A-Z a-z 0-9 - _ . :); echoed. The server makes one up when absent."),
    ),
    request_body(content = Option<ExecuteBody>, description = "Optional: `{approval_id?, customer_id?}`"),
    responses(
        (status = 200, description = "Executed (now or before)", body = ExecuteResponse,
            headers(("X-Correlation-ID" = String, description = "The request's correlation id"))),
        (status = 403, description = "Refused by the policy (`policy_denied`, with `reason` and `details`; stored), or the caller's role may not execute (`read_only`)",
            content_type = "application/problem+json", body = PolicyDenial,
            headers(("X-Correlation-ID" = String, description = "The request's correlation id"))),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 410, response = Gone),
        (status = 422, response = ValidationFailed),
    ),
)]
async fn execute(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: SignedIn,
    path: web::Path<DeliverablePath>,
    body: Option<web::Json<Value>>,
) -> AppResult<HttpResponse> {
    let body: ExecuteBody = optional_body(body)?;
    let (scope, actor) = acting(&user, body.customer_id.as_deref(), true)?;
    let outcome = executions::execute(
        &state.db,
        &state.settings.billing,
        &actor,
        &scope,
        &path.id,
        body.approval_id.as_deref(),
    )
    .await?;
    match outcome {
        Outcome::Executed { deliverable: d, .. } => Ok(HttpResponse::Ok().json(ExecuteResponse {
            deliverable_id: d.id.clone(),
            execution_status: d.execution_status.clone(),
            executed_at: d.executed_at,
            updated_at: d.updated_at,
        })),
        Outcome::Denied { reason, denial } => {
            // The payload the gate judged, for the failed checks it names.
            let payload = if reason == DenyReason::GuardrailFailed {
                let d = review_queue::detail(
                    &state.db,
                    &state.settings.billing,
                    &scope,
                    &path.id,
                    actor.now,
                )
                .await?
                .deliverable;
                d.edited_payload.map(|p| p.0).unwrap_or(d.payload.0)
            } else {
                Value::Null
            };
            Ok(denied(&req, reason, &denial, &payload))
        }
    }
}

/// Run an on-demand goal now: one draft per request.
///
/// With an `Idempotency-Key` header, repeating the request (a double submit, a retry) answers the
/// draft the first one made. 409 `goal_not_runnable` for a scheduled goal, a disabled one, or a
/// paused, unconfigured or ended agent; 400 for a key that is not 1 to 200 visible ASCII
/// characters. Viewers get 403.
#[utoipa::path(
    post,
    path = "/api/v1/hired-agents/{id}/run-now",
    tag = "deliverables",
    params(
        AgentPath,
        ("Idempotency-Key" = Option<String>, Header, description = "1 to 200 visible ASCII characters; the same key on the same goal makes one draft"),
    ),
    request_body = RunNowBody,
    responses(
        (status = 200, description = "The draft made", body = RunNowResponse),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 410, response = Gone),
        (status = 422, response = ValidationFailed),
    ),
)]
async fn run_now(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: SignedIn,
    path: web::Path<AgentPath>,
    body: web::Json<Value>,
) -> AppResult<HttpResponse> {
    let body: RunNowBody = json_as(body.into_inner())?;
    let (scope, actor) = acting(&user, body.customer_id.as_deref(), true)?;
    let report = generation::run_now(
        &state.db,
        &state.settings.billing,
        &actor,
        &scope,
        &path.id,
        body.goal_instance_id.trim(),
        header(&req, "Idempotency-Key"),
    )
    .await?;
    Ok(HttpResponse::Ok().json(RunNowResponse {
        generated: report.generated,
        deliverable_ids: report.deliverable_ids,
    }))
}

/// Generate every due draft (the scheduler's draft pass).
///
/// Admins only. One draft per daily, weekly and monthly goal and period of every active,
/// unpaused, configured agent (or only of `hired_instance_id`; 404 when there is no such agent),
/// exactly once however many passes run at once.
#[utoipa::path(
    post,
    path = "/api/v1/scheduler/goals/run-due",
    tag = "scheduler",
    request_body(content = Option<RunDueBody>, description = "Optional: `{now?, hired_instance_id?}`"),
    responses(
        (status = 200, description = "The drafts made", body = GenerationReport),
        (status = 404, response = NotFound),
        (status = 410, response = Gone),
        (status = 422, response = ValidationFailed),
    ),
)]
async fn goals_run_due(
    state: web::Data<AppState>,
    admin: Admin,
    body: Option<web::Json<Value>>,
) -> AppResult<HttpResponse> {
    let (agent, now) = pass_of(&state, &admin, body).await?;
    let report = generation::run_due(&state.db, now, agent.as_deref()).await?;
    Ok(HttpResponse::Ok().json(report))
}

/// Run one whole job pass, as the in-server scheduler does every minute.
///
/// Admins only. Housekeeping, subscription period ends, trial ends, due drafts and the outbox,
/// each under its lease (a kind another instance is running is `skipped`). With
/// `hired_instance_id` only that agent's due drafts are generated and the other kinds, which
/// concern every customer, are left to the next whole pass.
#[utoipa::path(
    post,
    path = "/api/v1/scheduler/run-due",
    tag = "scheduler",
    request_body(content = Option<RunDueBody>, description = "Optional: `{now?, hired_instance_id?}`"),
    responses(
        (status = 200, description = "What the pass did", body = PassResponse),
        (status = 404, response = NotFound),
        (status = 410, response = Gone),
        (status = 422, response = ValidationFailed),
    ),
)]
async fn run_due(
    state: web::Data<AppState>,
    admin: Admin,
    body: Option<web::Json<Value>>,
) -> AppResult<HttpResponse> {
    let (agent, now) = pass_of(&state, &admin, body).await?;
    let kinds = |ks: &[jobs::JobKind]| ks.iter().map(|k| k.as_str().to_string()).collect();
    let answer = match agent {
        Some(agent) => {
            let drafts = generation::run_due(&state.db, now, Some(&agent)).await?;
            let others: Vec<jobs::JobKind> = jobs::JobKind::ALL
                .into_iter()
                .filter(|k| *k != jobs::JobKind::Drafts)
                .collect();
            PassResponse {
                generated: drafts.generated,
                deliverable_ids: drafts.deliverable_ids,
                now,
                sessions_purged: 0,
                login_attempts_purged: 0,
                idempotency_keys_purged: 0,
                period_ends: PeriodEndReport {
                    now,
                    ..Default::default()
                },
                trial_ends: TrialEndReport {
                    now,
                    ..Default::default()
                },
                outbox: DrainReport::default(),
                skipped: kinds(&others),
                failed: vec![],
            }
        }
        None => {
            let r = jobs::run_due(
                &state.db,
                now,
                &JobSettings::from(&state.settings).with_metrics(state.metrics.clone()),
            )
            .await?;
            PassResponse {
                generated: r.drafts.generated,
                deliverable_ids: r.drafts.deliverable_ids,
                now,
                sessions_purged: r.sessions_purged,
                login_attempts_purged: r.login_attempts_purged,
                idempotency_keys_purged: r.idempotency_keys_purged,
                period_ends: r.period_ends,
                trial_ends: r.trial_ends,
                outbox: r.outbox,
                skipped: kinds(&r.skipped),
                failed: kinds(&r.failed),
            }
        }
    };
    Ok(HttpResponse::Ok().json(answer))
}
