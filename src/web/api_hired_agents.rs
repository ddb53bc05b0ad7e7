//! Phase-1 hired agents, goals and trial status under `/api/v1` (paths and shapes of the reference
//! §2–§3 kept for old clients; differences are listed in docs/phase1-compat.md). The customer always
//! comes from the principal: a `customer_id` in a body or query must be the caller's own (else 404),
//! or, for staff, names the customer acted for. Every rule lives in `service::hired_agents` and
//! `service::goals`; this module reads requests, names violations as the request does
//! (`config.…`), and shapes answers. Each handler is documented by its `#[utoipa::path]`
//! annotation and served from it (see `openapi`).
//!
//! Statements per request, besides the principal: a read 1 (goals 2); the lists 1; a draft 1
//! transaction (+1 read when `agent_type_id` is given, +1 read on a stale `row_version`); finalize,
//! pause and resume 1 transaction; a goal change 1 read + 1 transaction + 1 read; the trial-end
//! pass 1 read per 200 due + 1 transaction per trial.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, FixedOffset, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::acting::require_write;
use super::auth::{Admin, SignedIn};
use super::body::json_as;
use super::errors::{Problem, title_for};
use super::openapi::{BadRequest, Endpoint, Gone, NotFound, ValidationFailed, endpoints};
use crate::db::hired_agents::{Goal, HiredAgent};
use crate::domain::actor::{Actor, Scope};
use crate::domain::billing::settings::BillingSettings;
use crate::domain::hired_agent::{Missing, TrialStatus};
use crate::error::{AppError, AppResult, ErrorCode, Violation};
use crate::service::goals::{self, GoalInput};
use crate::service::hired_agents::{self, Edit, TrialEndReport};
use crate::service::subscriptions;

/// This module's operations; `openapi::scope` serves each where its annotation says. Literal
/// paths come before the `{id}` ones that would otherwise take them.
pub fn endpoints() -> Vec<Endpoint> {
    endpoints![
        save_draft,
        process_trial_end,
        list_hired_agents,
        hired_agent_by_subscription,
        get_hired_agent,
        finalize,
        pause,
        resume,
        goals_list,
        goal_upsert,
        goal_delete,
        trial_status_list,
        trial_status_by_subscription,
    ]
}

// ---------------------------------------------------------------------------------------------
// Who acts, for whom.

/// The scope and actor of a request that may name a customer: a customer's user only their own
/// (another is 404); staff narrow to the named customer and act on its behalf. `write`: viewers
/// get 403.
pub(super) fn acting(
    user: &SignedIn,
    named: Option<&str>,
    write: bool,
) -> AppResult<(Scope, Actor)> {
    if write {
        require_write(user)?;
    }
    let scope = user.scope();
    match (named.map(str::trim).filter(|c| !c.is_empty()), &scope) {
        (Some(named), Scope::Customer(own)) if named != own => Err(AppError::NotFound),
        (Some(named), Scope::Staff) => Ok((
            Scope::Customer(named.to_string()),
            user.actor.clone().on_behalf_of(named),
        )),
        _ => Ok((scope, user.actor.clone())),
    }
}

/// The customer whose list is read: staff must name one, as Phase 1 required.
fn list_customer(user: &SignedIn, named: Option<&str>) -> AppResult<String> {
    match acting(user, named, false)?.0 {
        Scope::Customer(id) => Ok(id),
        Scope::Staff => Err(AppError::bad_request(
            ErrorCode::CustomerRequired,
            "customer_id is required.",
        )),
    }
}

/// The service names config values relative to the config (`risk_limits.max_units_per_order`)
/// and the agent's own fields at the top (`nickname`, `theme`); the request has them under
/// `config`.
fn in_request_terms(violations: Vec<Violation>) -> Vec<Violation> {
    violations
        .into_iter()
        .map(|v| Violation {
            path: match v.path.as_str() {
                "nickname" | "theme" => v.path,
                "" => "config".into(),
                p => format!("config.{p}"),
            },
            message: v.message,
        })
        .collect()
}

fn is_changed_meanwhile(e: &AppError) -> bool {
    matches!(
        e,
        AppError::Conflict {
            code: ErrorCode::ChangedMeanwhile,
            ..
        }
    )
}

/// A 409 problem document that also carries the current state (someone else's version).
fn conflict_with<T: Serialize>(req: &HttpRequest, e: &AppError, current: T) -> HttpResponse {
    #[derive(Serialize)]
    struct Body<T> {
        #[serde(flatten)]
        problem: Problem,
        current: T,
    }
    let code = e.code();
    HttpResponse::Conflict()
        .content_type("application/problem+json")
        .json(Body {
            problem: Problem {
                problem_type: code.problem_type(),
                code,
                title: title_for(StatusCode::CONFLICT),
                status: 409,
                detail: e.message().unwrap_or_default().to_string(),
                instance: req.path().to_string(),
                correlation_id: super::auth::correlation_id(req),
                violations: None,
            },
            current,
        })
}

// ---------------------------------------------------------------------------------------------
// Shapes.

/// A hired agent as Phase 1 answered it (`HiredAgentInstanceResponse`), plus its pinned version,
/// whether it is paused, and the row version to send back for optimistic locking.
#[derive(Serialize, ToSchema)]
struct HiredAgentInstance {
    /// `HAI-…`
    hired_instance_id: String,
    subscription_id: String,
    /// The Phase-1 listing id given at checkout (`AGT-TRD-…`), if any.
    agent_id: Option<String>,
    agent_type_id: String,
    /// The exact version the agent is pinned to.
    agent_type_version: String,
    customer_id: String,
    nickname: Option<String>,
    /// `default`, `dark` or `light`.
    theme: Option<String>,
    /// Credential references only, never secrets.
    #[schema(value_type = Object)]
    config: Value,
    /// Nickname and theme present and the config fully valid against the pinned schema.
    configured: bool,
    /// At least one enabled goal.
    goals_completed: bool,
    /// The customer confirmed that goal setting is complete (finalize's `goals_completed`).
    goals_confirmed: bool,
    /// False once the subscription ended.
    active: bool,
    paused: bool,
    subscription_status: String,
    subscription_ended_at: Option<DateTime<Utc>>,
    /// When the data stops being readable (410), once the subscription ended.
    retention_expires_at: Option<DateTime<Utc>>,
    trial_status: TrialStatus,
    trial_start_at: Option<DateTime<Utc>>,
    trial_end_at: Option<DateTime<Utc>>,
    /// Send it back as `row_version` so a change made meanwhile is refused rather than overwritten.
    row_version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl HiredAgentInstance {
    fn of(h: &HiredAgent, b: &BillingSettings) -> Self {
        HiredAgentInstance {
            hired_instance_id: h.id.clone(),
            subscription_id: h.subscription_id.clone(),
            agent_id: h.agent_id.clone(),
            agent_type_id: h.agent_type_id.clone(),
            agent_type_version: h.agent_type_version.clone(),
            customer_id: h.customer_id.clone(),
            nickname: h.nickname.clone(),
            theme: h.theme.clone(),
            config: h.config.0.clone(),
            configured: h.configured,
            goals_completed: h.goals_completed,
            goals_confirmed: h.goals_confirmed,
            active: h.active,
            paused: h.paused,
            subscription_status: h.subscription_status.clone(),
            subscription_ended_at: h.subscription_ended_at,
            retention_expires_at: hired_agents::retention_expires_at(h, b),
            trial_status: hired_agents::trial_status(h),
            trial_start_at: h.trial_start_at,
            trial_end_at: h.trial_end_at,
            row_version: h.row_version,
            created_at: h.created_at,
            updated_at: h.updated_at,
        }
    }
}

/// Whether a hired agent is still readable at `now` (list answers leave out what a read would
/// answer 410 for).
fn retained(h: &HiredAgent, b: &BillingSettings, now: DateTime<Utc>) -> bool {
    hired_agents::retention_expires_at(h, b).is_none_or(|at| at > now)
}

/// A saved draft: the agent, and the required values it still lacks.
#[derive(Serialize, ToSchema)]
struct DraftSaved {
    #[serde(flatten)]
    instance: HiredAgentInstance,
    /// Required values not given yet (a draft may lack them; the trial needs them), named as the
    /// request names them.
    missing_values: Vec<Violation>,
}

/// A 409 problem. With `changed_meanwhile` it carries the hired agent as it is now.
#[derive(Serialize, ToSchema)]
struct AgentConflict {
    #[serde(flatten)]
    problem: Problem,
    /// `changed_meanwhile` only: the other person's version.
    current: Option<HiredAgentInstance>,
}

#[derive(Serialize, ToSchema)]
struct HiredAgentList {
    customer_id: String,
    /// Newest first; agents past their retention are left out.
    instances: Vec<HiredAgentInstance>,
}

/// What finalize left.
#[derive(Serialize, ToSchema)]
struct Finalized {
    #[serde(flatten)]
    instance: HiredAgentInstance,
    /// What still keeps the trial from starting (empty when it runs or just started).
    missing: Vec<Missing>,
    /// This request started the trial.
    trial_started: bool,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
enum RunState {
    Paused,
    Running,
}

/// A hired agent after pause or resume.
#[derive(Serialize, ToSchema)]
struct PauseState {
    #[serde(flatten)]
    instance: HiredAgentInstance,
    /// Draft generation is stopped for this agent.
    scheduler_paused: bool,
    status: RunState,
}

/// A goal as Phase 1 answered it (`GoalInstanceResponse`), plus `enabled`, the row version and
/// when it is next due.
#[derive(Serialize, ToSchema)]
struct GoalInstance {
    /// `GOI-…`, or the id the client chose when it created the goal.
    goal_instance_id: String,
    hired_instance_id: String,
    goal_template_id: String,
    /// `daily`, `weekly`, `monthly` or `on_demand`.
    frequency: String,
    #[schema(value_type = Object)]
    settings: Value,
    enabled: bool,
    /// Send it back as `row_version` to refuse overwriting a change made meanwhile.
    row_version: i64,
    /// In the agent's timezone; null for on-demand and disabled goals.
    #[schema(value_type = Option<String>, format = DateTime)]
    next_due_at: Option<DateTime<FixedOffset>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl GoalInstance {
    fn of(h: &HiredAgent, g: &Goal, now: DateTime<Utc>) -> Self {
        GoalInstance {
            goal_instance_id: g.id.clone(),
            hired_instance_id: g.hired_agent_id.clone(),
            goal_template_id: g.goal_template_id.clone(),
            frequency: g.frequency.clone(),
            settings: g.settings.0.clone(),
            enabled: g.enabled,
            row_version: g.row_version,
            next_due_at: goals::next_due(h, g, now).map(|t| t.fixed_offset()),
            created_at: g.created_at,
            updated_at: g.updated_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
struct GoalList {
    hired_instance_id: String,
    /// Oldest first; deleted goals are left out.
    goals: Vec<GoalInstance>,
}

/// A 409 problem. With `changed_meanwhile` it carries the goal as it is now.
#[derive(Serialize, ToSchema)]
struct GoalConflict {
    #[serde(flatten)]
    problem: Problem,
    /// `changed_meanwhile` only: the other person's version.
    current: Option<GoalInstance>,
}

#[derive(Serialize, ToSchema)]
struct GoalDeleted {
    /// False when there was no such live goal.
    deleted: bool,
    goal_instance_id: String,
}

/// Phase 1's `TrialStatusRecord`.
#[derive(Serialize, ToSchema)]
struct TrialStatusRecord {
    subscription_id: String,
    hired_instance_id: String,
    trial_status: TrialStatus,
    trial_start_at: Option<DateTime<Utc>>,
    trial_end_at: Option<DateTime<Utc>>,
    configured: bool,
    goals_completed: bool,
}

impl TrialStatusRecord {
    fn of(h: &HiredAgent) -> Self {
        TrialStatusRecord {
            subscription_id: h.subscription_id.clone(),
            hired_instance_id: h.id.clone(),
            trial_status: hired_agents::trial_status(h),
            trial_start_at: h.trial_start_at,
            trial_end_at: h.trial_end_at,
            configured: h.configured,
            goals_completed: h.goals_completed,
        }
    }
}

#[derive(Serialize, ToSchema)]
struct TrialStatusList {
    /// By `trial_end_at` (not started first), then `subscription_id`.
    trials: Vec<TrialStatusRecord>,
}

// ---------------------------------------------------------------------------------------------
// Parameters and bodies.

#[derive(Deserialize, Default, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct CustomerQuery {
    /// Phase 1 named the customer here. A customer's user may give only their own (another
    /// answers 404); staff name the customer they act for.
    pub(super) customer_id: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub(super) struct AgentPath {
    /// `HAI-…`
    pub(super) id: String,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
struct SubscriptionPath {
    /// `SUB-…`
    subscription_id: String,
}

/// Phase 1's `HiredAgentDraftUpsertRequest`, plus `row_version`.
#[derive(Deserialize, ToSchema)]
struct DraftBody {
    /// The subscription whose hired agent this is.
    subscription_id: String,
    /// A Phase-1 listing id (`AGT-TRD-…`): used only if the agent is created here; checkout
    /// creates it, so the listing id given at checkout is the one kept.
    #[serde(default)]
    agent_id: Option<String>,
    /// Staff: the customer acted for. Customers: their own or nothing.
    #[serde(default)]
    customer_id: Option<String>,
    /// When given, must be the subscription's agent type.
    #[serde(default)]
    agent_type_id: Option<String>,
    /// Absent or null keeps the stored one; blank clears it.
    #[serde(default)]
    nickname: Option<String>,
    /// `default`, `dark` or `light` (any case); absent, null or blank keeps the stored one.
    #[serde(default)]
    theme: Option<String>,
    /// The whole new configuration (replaced, not merged; schema defaults are filled in). Absent
    /// or null keeps the stored one. Credential references only: store secrets with
    /// `PUT /api/v1/credentials` first.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    config: Option<Value>,
    /// The `row_version` the client read; a save on an older one is refused (409 with `current`).
    #[serde(default)]
    row_version: Option<i64>,
}

/// Phase 1's `HiredAgentFinalizeRequest`.
#[derive(Deserialize, Default, ToSchema)]
struct FinalizeBody {
    /// The customer confirms (true) or withdraws (false) that goal setting is complete; absent
    /// keeps what was recorded.
    #[serde(default)]
    goals_completed: Option<bool>,
    /// Staff: the customer acted for. Customers: their own or nothing.
    #[serde(default)]
    customer_id: Option<String>,
    /// When given, must be the agent's type.
    #[serde(default)]
    agent_type_id: Option<String>,
}

#[derive(Deserialize, Default, ToSchema)]
struct TrialEndBody {
    /// The moment to process as (default: now).
    now: Option<DateTime<Utc>>,
}

/// Phase 1's `GoalInstanceUpsertRequest`, plus `enabled` and `row_version`.
#[derive(Deserialize, ToSchema)]
struct GoalBody {
    /// Absent: a new goal (`GOI-…`). An existing goal's id changes it; an unknown one creates a
    /// goal with that id (letters, digits, `-`, `_`).
    #[serde(default)]
    goal_instance_id: Option<String>,
    /// A goal template of the agent's pinned version.
    goal_template_id: String,
    /// `daily`, `weekly`, `monthly` or `on_demand`, as the template allows.
    frequency: String,
    /// Validated against the template's settings schema (types, options, bounds, rules).
    #[serde(default = "empty_object")]
    #[schema(value_type = Object)]
    settings: Value,
    /// Default: true for a new goal, unchanged for an existing one.
    #[serde(default)]
    enabled: Option<bool>,
    /// The `row_version` the client read (409 with `current` when the goal changed since).
    #[serde(default)]
    row_version: Option<i64>,
    /// Staff: the customer acted for. Customers: their own or nothing.
    #[serde(default)]
    customer_id: Option<String>,
}

fn empty_object() -> Value {
    Value::Object(Default::default())
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct GoalDeleteQuery {
    /// The goal to delete (required).
    goal_instance_id: Option<String>,
    /// Staff: the customer acted for. Customers: their own or nothing.
    customer_id: Option<String>,
}

fn check_type(named: Option<&str>, actual: &str, what: &str) -> AppResult<()> {
    match named.map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) if t != actual => Err(AppError::invalid(vec![Violation::new(
            "agent_type_id",
            format!("{what} is for {actual}, not {t}."),
        )])),
        _ => Ok(()),
    }
}

pub(super) fn optional_body<T: serde::de::DeserializeOwned + Default>(
    body: Option<web::Json<Value>>,
) -> AppResult<T> {
    match body {
        Some(b) if !b.is_null() => json_as(b.into_inner()),
        _ => Ok(T::default()),
    }
}

// ---------------------------------------------------------------------------------------------
// Hired agents.

/// Save a hired agent's draft (the subscription's agent, created with it at checkout).
///
/// Missing required values are accepted (listed in `missing_values`); a value that is present and
/// wrong is refused with 422 naming it (`config.risk_limits.max_units_per_order`), and so is a raw
/// secret or a credential reference that is not one of the customer's. `config` replaces the stored
/// one. A stale `row_version` answers 409 `changed_meanwhile` with the current agent in `current`;
/// a subscription that is not active 409 `subscription_not_active`. Viewers get 403.
#[utoipa::path(
    put,
    path = "/api/v1/hired-agents/draft",
    tag = "hired agents",
    request_body = DraftBody,
    responses(
        (status = 200, description = "The saved hired agent", body = DraftSaved),
        (status = 404, response = NotFound),
        (status = 409, description = "Changed by someone else meanwhile (with `current`), or the subscription is not active",
            content_type = "application/problem+json", body = AgentConflict),
        (status = 410, response = Gone),
        (status = 422, response = ValidationFailed),
    ),
)]
async fn save_draft(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: SignedIn,
    body: web::Json<Value>,
) -> AppResult<HttpResponse> {
    let body: DraftBody = json_as(body.into_inner())?;
    let (scope, actor) = acting(&user, body.customer_id.as_deref(), true)?;
    if body
        .config
        .as_ref()
        .is_some_and(|c| !c.is_object() && !c.is_null())
    {
        return Err(AppError::invalid(vec![Violation::new(
            "config",
            "The configuration must be a JSON object.",
        )]));
    }
    let b = &state.settings.billing;
    if body.agent_type_id.is_some() {
        let sub =
            subscriptions::get(&state.db, b, &scope, &body.subscription_id, actor.now).await?;
        check_type(
            body.agent_type_id.as_deref(),
            &sub.agent_type_id,
            &format!("Subscription {}", sub.id),
        )?;
    }
    let edit = Edit {
        nickname: body.nickname,
        theme: body.theme,
        config: body.config.filter(|c| !c.is_null()),
        row_version: body.row_version,
        agent_id: body.agent_id,
        ..Edit::default()
    };
    let saved = hired_agents::save_for_subscription(
        &state.db,
        &state.keys,
        b,
        &actor,
        &scope,
        &body.subscription_id,
        edit,
    )
    .await;
    match saved {
        Ok(saved) => Ok(HttpResponse::Ok().json(DraftSaved {
            instance: HiredAgentInstance::of(&saved.agent, b),
            missing_values: in_request_terms(saved.missing),
        })),
        Err(e) if is_changed_meanwhile(&e) => {
            let current = hired_agents::by_subscription(
                &state.db,
                b,
                &scope,
                &body.subscription_id,
                actor.now,
            )
            .await?
            .ok_or(AppError::NotFound)?;
            Ok(conflict_with(&req, &e, HiredAgentInstance::of(&current, b)))
        }
        Err(AppError::Invalid { detail, violations }) => Err(AppError::Invalid {
            detail,
            violations: in_request_terms(violations),
        }),
        Err(e) => Err(e),
    }
}

/// The caller's hired agents (staff name the customer with `customer_id`, else 400).
#[utoipa::path(
    get,
    path = "/api/v1/hired-agents",
    tag = "hired agents",
    params(CustomerQuery),
    responses(
        (status = 200, description = "Hired agents, newest first", body = HiredAgentList),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
    ),
)]
async fn list_hired_agents(
    state: web::Data<AppState>,
    user: SignedIn,
    q: web::Query<CustomerQuery>,
) -> AppResult<HttpResponse> {
    let customer_id = list_customer(&user, q.customer_id.as_deref())?;
    let b = &state.settings.billing;
    let now = user.actor.now;
    let agents = hired_agents::of_customer(&state.db, &user.scope(), &customer_id).await?;
    Ok(HttpResponse::Ok().json(HiredAgentList {
        customer_id,
        instances: agents
            .iter()
            .filter(|h| retained(h, b, now))
            .map(|h| HiredAgentInstance::of(h, b))
            .collect(),
    }))
}

/// One hired agent.
///
/// 410 once its subscription ended and the retention (`AGENTDESK_END_RETENTION_DAYS`) is over.
#[utoipa::path(
    get,
    path = "/api/v1/hired-agents/{id}",
    tag = "hired agents",
    params(AgentPath, CustomerQuery),
    responses(
        (status = 200, description = "The hired agent", body = HiredAgentInstance),
        (status = 404, response = NotFound),
        (status = 410, response = Gone),
    ),
)]
async fn get_hired_agent(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<AgentPath>,
    q: web::Query<CustomerQuery>,
) -> AppResult<HttpResponse> {
    let (scope, actor) = acting(&user, q.customer_id.as_deref(), false)?;
    let b = &state.settings.billing;
    let h = hired_agents::get(&state.db, b, &scope, &path.id, actor.now).await?;
    Ok(HttpResponse::Ok().json(HiredAgentInstance::of(&h, b)))
}

/// The hired agent of a subscription (404 when it has none).
#[utoipa::path(
    get,
    path = "/api/v1/hired-agents/by-subscription/{subscription_id}",
    tag = "hired agents",
    params(SubscriptionPath, CustomerQuery),
    responses(
        (status = 200, description = "The hired agent", body = HiredAgentInstance),
        (status = 404, response = NotFound),
        (status = 410, response = Gone),
    ),
)]
async fn hired_agent_by_subscription(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<SubscriptionPath>,
    q: web::Query<CustomerQuery>,
) -> AppResult<HttpResponse> {
    let (scope, actor) = acting(&user, q.customer_id.as_deref(), false)?;
    let b = &state.settings.billing;
    let h = hired_agents::by_subscription(&state.db, b, &scope, &path.subscription_id, actor.now)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(HttpResponse::Ok().json(HiredAgentInstance::of(&h, b)))
}

/// Record the goal-setting confirmation and start the trial when nothing blocks it.
///
/// Always 200 with the agent and `missing`: what still keeps the trial from starting (nickname,
/// theme, configuration, goals, the confirmation, an ended trial: a trial runs once). The trial
/// (7 days) starts when the subscription is active, the agent is configured, it has an enabled
/// goal and goal setting is confirmed (`goals_completed: true` now or earlier). 409 when the
/// subscription is not active. Viewers get 403.
#[utoipa::path(
    post,
    path = "/api/v1/hired-agents/{id}/finalize",
    tag = "hired agents",
    params(AgentPath),
    request_body(content = Option<FinalizeBody>, description = "Optional: `{goals_completed?, customer_id?, agent_type_id?}`"),
    responses(
        (status = 200, description = "The agent and what still blocks its trial", body = Finalized),
        (status = 404, response = NotFound),
        (status = 409, response = super::openapi::Conflict),
        (status = 410, response = Gone),
        (status = 422, response = ValidationFailed),
    ),
)]
async fn finalize(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<AgentPath>,
    body: Option<web::Json<Value>>,
) -> AppResult<HttpResponse> {
    let body: FinalizeBody = optional_body(body)?;
    let (scope, actor) = acting(&user, body.customer_id.as_deref(), true)?;
    let b = &state.settings.billing;
    if body.agent_type_id.is_some() {
        let h = hired_agents::get(&state.db, b, &scope, &path.id, actor.now).await?;
        check_type(
            body.agent_type_id.as_deref(),
            &h.agent_type_id,
            &format!("Hired agent {}", h.id),
        )?;
    }
    let done = hired_agents::finalize(&state.db, b, &actor, &scope, &path.id, body.goals_completed)
        .await?;
    Ok(HttpResponse::Ok().json(Finalized {
        instance: HiredAgentInstance::of(&done.agent, b),
        missing: done.missing,
        trial_started: done.started,
    }))
}

async fn set_paused(
    state: &AppState,
    user: &SignedIn,
    id: &str,
    named: Option<&str>,
    paused: bool,
) -> AppResult<HttpResponse> {
    let (scope, actor) = acting(user, named, true)?;
    let b = &state.settings.billing;
    let h = hired_agents::set_paused(&state.db, b, &actor, &scope, id, paused).await?;
    Ok(HttpResponse::Ok().json(PauseState {
        scheduler_paused: h.paused,
        status: if h.paused {
            RunState::Paused
        } else {
            RunState::Running
        },
        instance: HiredAgentInstance::of(&h, b),
    }))
}

/// Pause a hired agent: no drafts are generated for it until it resumes.
///
/// Asking again changes nothing. 409 when the subscription is not active. Viewers get 403.
#[utoipa::path(
    post,
    path = "/api/v1/hired-agents/{id}/pause",
    tag = "hired agents",
    params(AgentPath, CustomerQuery),
    responses(
        (status = 200, description = "The agent, paused", body = PauseState),
        (status = 404, response = NotFound),
        (status = 409, response = super::openapi::Conflict),
        (status = 410, response = Gone),
    ),
)]
async fn pause(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<AgentPath>,
    q: web::Query<CustomerQuery>,
) -> AppResult<HttpResponse> {
    set_paused(&state, &user, &path.id, q.customer_id.as_deref(), true).await
}

/// Resume a paused hired agent.
///
/// Asking again changes nothing. 409 when the subscription is not active. Viewers get 403.
#[utoipa::path(
    post,
    path = "/api/v1/hired-agents/{id}/resume",
    tag = "hired agents",
    params(AgentPath, CustomerQuery),
    responses(
        (status = 200, description = "The agent, running", body = PauseState),
        (status = 404, response = NotFound),
        (status = 409, response = super::openapi::Conflict),
        (status = 410, response = Gone),
    ),
)]
async fn resume(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<AgentPath>,
    q: web::Query<CustomerQuery>,
) -> AppResult<HttpResponse> {
    set_paused(&state, &user, &path.id, q.customer_id.as_deref(), false).await
}

/// One trial-end pass: end every running trial whose end has come.
///
/// Admins only. A trial becomes `ended_converted` while its subscription is active, else
/// `ended_not_converted`; each exactly once, whatever else runs at the same time.
#[utoipa::path(
    post,
    path = "/api/v1/hired-agents/process-trial-end",
    tag = "hired agents",
    request_body(content = Option<TrialEndBody>, description = "Optional: `{now}`"),
    responses(
        (status = 200, description = "What the pass did", body = TrialEndReport),
        (status = 422, response = ValidationFailed),
    ),
)]
async fn process_trial_end(
    state: web::Data<AppState>,
    admin: Admin,
    body: Option<web::Json<Value>>,
) -> AppResult<HttpResponse> {
    let body: TrialEndBody = optional_body(body)?;
    let mut actor = admin.actor.clone();
    if let Some(now) = body.now {
        actor.now = now;
    }
    let report = hired_agents::process_trial_end(&state.db, &actor).await?;
    Ok(HttpResponse::Ok().json(report))
}

// ---------------------------------------------------------------------------------------------
// Goals.

/// A hired agent's goals, each with when it is next due.
#[utoipa::path(
    get,
    path = "/api/v1/hired-agents/{id}/goals",
    tag = "hired agents",
    params(AgentPath, CustomerQuery),
    responses(
        (status = 200, description = "The goals, oldest first", body = GoalList),
        (status = 404, response = NotFound),
        (status = 410, response = Gone),
    ),
)]
async fn goals_list(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<AgentPath>,
    q: web::Query<CustomerQuery>,
) -> AppResult<HttpResponse> {
    let (scope, actor) = acting(&user, q.customer_id.as_deref(), false)?;
    let b = &state.settings.billing;
    let (h, list) = goals::of_agent(&state.db, b, &scope, &path.id, actor.now).await?;
    Ok(HttpResponse::Ok().json(GoalList {
        hired_instance_id: h.id.clone(),
        goals: list
            .iter()
            .map(|g| GoalInstance::of(&h, g, actor.now))
            .collect(),
    }))
}

/// Create or change a goal.
///
/// The template must be one of the pinned version's, the frequency one it allows, and the settings
/// valid against its schema (422 naming `goal_template_id`, `frequency` or `settings.…`). A stale
/// `row_version` answers 409 `changed_meanwhile` with the current goal in `current`; a subscription
/// that is not active 409 `subscription_not_active`. Viewers get 403.
#[utoipa::path(
    put,
    path = "/api/v1/hired-agents/{id}/goals",
    tag = "hired agents",
    params(AgentPath),
    request_body = GoalBody,
    responses(
        (status = 200, description = "The saved goal", body = GoalInstance),
        (status = 404, response = NotFound),
        (status = 409, description = "Changed by someone else meanwhile (with `current`), or the subscription is not active",
            content_type = "application/problem+json", body = GoalConflict),
        (status = 410, response = Gone),
        (status = 422, response = ValidationFailed),
    ),
)]
async fn goal_upsert(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: SignedIn,
    path: web::Path<AgentPath>,
    body: web::Json<Value>,
) -> AppResult<HttpResponse> {
    let body: GoalBody = json_as(body.into_inner())?;
    let (scope, actor) = acting(&user, body.customer_id.as_deref(), true)?;
    let b = &state.settings.billing;
    let input = GoalInput {
        goal_instance_id: body.goal_instance_id.clone(),
        goal_template_id: body.goal_template_id,
        frequency: body.frequency,
        settings: body.settings,
        enabled: body.enabled,
        row_version: body.row_version,
    };
    match goals::upsert(&state.db, b, &actor, &scope, &path.id, &input).await {
        Ok(g) => {
            let h = hired_agents::get(&state.db, b, &scope, &path.id, actor.now).await?;
            Ok(HttpResponse::Ok().json(GoalInstance::of(&h, &g, actor.now)))
        }
        Err(e) if is_changed_meanwhile(&e) => {
            let (h, list) = goals::of_agent(&state.db, b, &scope, &path.id, actor.now).await?;
            let wanted = body.goal_instance_id.as_deref().map(str::trim);
            let current = list
                .iter()
                .find(|g| Some(g.id.as_str()) == wanted)
                .map(|g| GoalInstance::of(&h, g, actor.now));
            match current {
                Some(current) => Ok(conflict_with(&req, &e, current)),
                // Deleted meanwhile: nothing to show.
                None => Err(e),
            }
        }
        Err(e) => Err(e),
    }
}

/// Delete a goal (`?goal_instance_id=`); its deliverables stay.
///
/// `deleted` is false when there was no such live goal. 400 without `goal_instance_id`; 409 when
/// the subscription is not active. Viewers get 403.
#[utoipa::path(
    delete,
    path = "/api/v1/hired-agents/{id}/goals",
    tag = "hired agents",
    params(AgentPath, GoalDeleteQuery),
    responses(
        (status = 200, description = "Whether a goal was deleted", body = GoalDeleted),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        (status = 409, response = super::openapi::Conflict),
        (status = 410, response = Gone),
    ),
)]
async fn goal_delete(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<AgentPath>,
    q: web::Query<GoalDeleteQuery>,
) -> AppResult<HttpResponse> {
    let (scope, actor) = acting(&user, q.customer_id.as_deref(), true)?;
    let goal_id = q
        .goal_instance_id
        .as_deref()
        .map(str::trim)
        .filter(|g| !g.is_empty())
        .ok_or_else(|| {
            AppError::bad_request(ErrorCode::BadRequest, "goal_instance_id is required.")
        })?;
    let b = &state.settings.billing;
    let deleted = goals::delete(&state.db, b, &actor, &scope, &path.id, goal_id).await?;
    Ok(HttpResponse::Ok().json(GoalDeleted {
        deleted,
        goal_instance_id: goal_id.to_string(),
    }))
}

// ---------------------------------------------------------------------------------------------
// Trial status.

/// The trials of the caller's hired agents (staff name the customer with `customer_id`, else 400).
#[utoipa::path(
    get,
    path = "/api/v1/trial-status",
    tag = "hired agents",
    params(CustomerQuery),
    responses(
        (status = 200, description = "Trials, by end (not started first), then subscription", body = TrialStatusList),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
    ),
)]
async fn trial_status_list(
    state: web::Data<AppState>,
    user: SignedIn,
    q: web::Query<CustomerQuery>,
) -> AppResult<HttpResponse> {
    let customer_id = list_customer(&user, q.customer_id.as_deref())?;
    let b = &state.settings.billing;
    let now = user.actor.now;
    let agents = hired_agents::of_customer(&state.db, &user.scope(), &customer_id).await?;
    let mut trials: Vec<TrialStatusRecord> = agents
        .iter()
        .filter(|h| retained(h, b, now))
        .map(TrialStatusRecord::of)
        .collect();
    // Nulls first (`None < Some`), then by subscription.
    trials.sort_by(|x, y| {
        (x.trial_end_at, &x.subscription_id).cmp(&(y.trial_end_at, &y.subscription_id))
    });
    Ok(HttpResponse::Ok().json(TrialStatusList { trials }))
}

/// The trial of one subscription's hired agent.
#[utoipa::path(
    get,
    path = "/api/v1/trial-status/by-subscription/{subscription_id}",
    tag = "hired agents",
    params(SubscriptionPath, CustomerQuery),
    responses(
        (status = 200, description = "The trial", body = TrialStatusRecord),
        (status = 404, response = NotFound),
        (status = 410, response = Gone),
    ),
)]
async fn trial_status_by_subscription(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<SubscriptionPath>,
    q: web::Query<CustomerQuery>,
) -> AppResult<HttpResponse> {
    let (scope, actor) = acting(&user, q.customer_id.as_deref(), false)?;
    let b = &state.settings.billing;
    let h = hired_agents::by_subscription(&state.db, b, &scope, &path.subscription_id, actor.now)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(HttpResponse::Ok().json(TrialStatusRecord::of(&h)))
}
