//! A hired agent's pages, for its customer (`/portal/agents/{id}`) and for staff
//! (`/admin/hired-agents/{id}`): the same handlers and templates behind two prefixes. Tabs
//! Overview, Configuration and Goals, pause/resume, "Activate trial", the upgrade page, and the
//! customer's setup wizard (`/portal/subscriptions/{id}/setup`). Staff changes are recorded as on
//! behalf of the customer; viewers read.

mod config;
mod goals;
mod upgrade;
mod wizard;

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::{DateTime, Utc};
use futures_util::future::LocalBoxFuture;

use super::AppState;
use super::auth::{CustomerUser, Staff};
use super::pages::{PageCtx, flash, render, see_other};
use super::view::{AuditRow, Ts};
use crate::db::hired_agents::{Goal, HiredAgent};
use crate::domain::actor::{Actor, Scope};
use crate::domain::definition::Definition;
use crate::domain::hired_agent::{Missing, TrialStatus};
use crate::error::{AppError, AppResult};
use crate::service::{activity, goals as goal_service, hired_agents};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/portal/agents").get(my_agents));
    for base in ["/portal/agents", "/admin/hired-agents"] {
        cfg.service(web::resource(format!("{base}/{{id}}")).get(overview))
            .service(web::resource(format!("{base}/{{id}}/pause")).post(pause))
            .service(web::resource(format!("{base}/{{id}}/resume")).post(resume))
            .service(web::resource(format!("{base}/{{id}}/activate")).post(activate));
        config::routes(cfg, base);
        goals::routes(cfg, base);
        upgrade::routes(cfg, base);
    }
    wizard::routes(cfg);
}

/// Who looks at an agent page: a customer's user under `/portal`, staff under `/admin` (viewers
/// only read: the staff guard refuses their changes).
pub struct Viewer {
    pub actor: Actor,
    pub scope: Scope,
    pub staff: bool,
    pub can_write: bool,
    /// `/portal/agents` or `/admin/hired-agents`.
    pub base: &'static str,
}

impl FromRequest for Viewer {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        if req.path().starts_with("/admin/") {
            let staff = Staff::from_request(req, payload);
            Box::pin(async move {
                let s = staff.await?;
                Ok(Viewer {
                    scope: s.scope(),
                    can_write: s.user.role.can_write_admin(),
                    actor: s.actor,
                    staff: true,
                    base: "/admin/hired-agents",
                })
            })
        } else {
            let customer = CustomerUser::from_request(req, payload);
            Box::pin(async move {
                let c = customer.await?;
                Ok(Viewer {
                    scope: c.scope(),
                    actor: c.actor,
                    staff: false,
                    can_write: true,
                    base: "/portal/agents",
                })
            })
        }
    }
}

/// The days (rounded up) until `end`.
fn days_left(end: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
    let secs = (end - now).num_seconds().max(0);
    (secs + 86_399) / 86_400
}

/// What every agent page shows at the top.
pub struct Head {
    pub id: String,
    pub name: String,
    pub has_nickname: bool,
    pub type_name: String,
    pub pinned: String,
    pub version: String,
    pub customer_id: String,
    pub customer_name: String,
    pub subscription_id: String,
    pub subscription_active: bool,
    pub trial: TrialStatus,
    pub trial_label: String,
    pub configured: bool,
    pub paused: bool,
    pub active: bool,
    pub row_version: i64,
    pub base: &'static str,
    pub staff: bool,
    /// May change things now: allowed to, and the subscription is active.
    pub can_edit: bool,
    pub tab: &'static str,
}

impl Head {
    pub fn of(h: &HiredAgent, v: &Viewer, tab: &'static str) -> Head {
        let trial = hired_agents::trial_status(h);
        let trial_label = match (trial, h.trial_end_at) {
            (TrialStatus::Active, Some(end)) => {
                let n = days_left(end, v.actor.now);
                format!(
                    "Trial running · {n} day{} left",
                    if n == 1 { "" } else { "s" }
                )
            }
            _ => trial.label().to_string(),
        };
        Head {
            id: h.id.clone(),
            name: h.name().to_string(),
            has_nickname: h.nickname.as_deref().is_some_and(|n| !n.trim().is_empty()),
            type_name: h.display_name.clone(),
            pinned: format!("{}@{}", h.agent_type_id, h.agent_type_version),
            version: h.agent_type_version.clone(),
            customer_id: h.customer_id.clone(),
            customer_name: h.customer_name.clone(),
            subscription_id: h.subscription_id.clone(),
            subscription_active: h.subscription_status == "active",
            trial,
            trial_label,
            configured: h.configured,
            paused: h.paused,
            active: h.active,
            row_version: h.row_version,
            base: v.base,
            staff: v.staff,
            can_edit: v.can_write && h.subscription_status == "active",
            tab,
        }
    }

    pub fn href(&self) -> String {
        format!("{}/{}", self.base, self.id)
    }

    pub fn trial_running(&self) -> bool {
        self.trial == TrialStatus::Active
    }

    pub fn trial_ended(&self) -> bool {
        matches!(
            self.trial,
            TrialStatus::EndedConverted | TrialStatus::EndedNotConverted
        )
    }
}

/// Loads the agent a page is about (404 outside the scope, 410 past retention).
async fn load(state: &AppState, v: &Viewer, id: &str) -> AppResult<HiredAgent> {
    hired_agents::get(
        &state.db,
        &state.settings.billing,
        &v.scope,
        id,
        v.actor.now,
    )
    .await
}

/// A goal as a card: its template's name, frequency, settings in words and next due time.
pub struct GoalCard {
    pub id: String,
    pub template_id: String,
    pub template_name: String,
    pub frequency: String,
    pub enabled: bool,
    pub next_due: String,
    pub next_due_iso: String,
    pub settings: Vec<(String, String)>,
    pub row_version: i64,
    /// An enabled on-demand goal: "Run now" makes a draft.
    pub runnable: bool,
    /// The "Run now" form's one-time key: submitting the same form twice makes one draft.
    pub run_key: String,
    /// Its newest deliverables (filled where the page reads them).
    pub recent: Vec<RecentDeliverable>,
}

/// A deliverable on its goal's card.
pub struct RecentDeliverable {
    pub href: String,
    pub title: String,
    pub status: &'static str,
    pub label: &'static str,
    pub created: Ts,
}

/// Puts each goal's newest deliverables on its card (one statement for all of the agent's goals).
pub async fn attach_recent(
    state: &AppState,
    v: &Viewer,
    agent_id: &str,
    cards: &mut [GoalCard],
) -> AppResult<()> {
    use crate::domain::deliverable_states::ReviewStatus;
    let recent = crate::service::review_queue::recent_of_agent(&state.db, agent_id).await?;
    let prefix = if v.staff { "/admin" } else { "/portal" };
    for card in cards.iter_mut() {
        card.recent = recent
            .iter()
            .filter(|r| r.goal_instance_id == card.id)
            .map(|r| {
                let s =
                    ReviewStatus::parse(&r.review_status).unwrap_or(ReviewStatus::PendingReview);
                RecentDeliverable {
                    href: format!("{prefix}/deliverables/{}", r.id),
                    title: r.title.clone(),
                    status: s.as_str(),
                    label: match r.execution_status.as_str() {
                        "executed" => "Executed",
                        "failed" => "Execution failed",
                        _ => s.label(),
                    },
                    created: Ts(r.created_at),
                }
            })
            .collect();
    }
    Ok(())
}

pub fn value_words(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(a) => a.iter().map(value_words).collect::<Vec<_>>().join(", "),
        serde_json::Value::Bool(b) => if *b { "yes" } else { "no" }.into(),
        serde_json::Value::Null => "—".into(),
        serde_json::Value::Object(o) => o
            .iter()
            .map(|(k, x)| format!("{k}: {}", value_words(x)))
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    }
}

pub fn goal_card(d: &Definition, h: &HiredAgent, g: &Goal, now: DateTime<Utc>) -> GoalCard {
    let t = d.template(&g.goal_template_id);
    let settings = g
        .settings
        .0
        .as_object()
        .map(|o| {
            o.iter()
                .map(|(k, x)| {
                    let label = t
                        .and_then(|t| t.settings_schema.field(k))
                        .map(|f| f.label.clone())
                        .unwrap_or_else(|| k.clone());
                    (label, value_words(x))
                })
                .collect()
        })
        .unwrap_or_default();
    let due = goal_service::next_due(h, g, now);
    GoalCard {
        id: g.id.clone(),
        template_id: g.goal_template_id.clone(),
        template_name: t
            .map(|t| t.name.clone())
            .unwrap_or_else(|| g.goal_template_id.clone()),
        frequency: crate::domain::schedule::Frequency::parse(&g.frequency)
            .map(|f| f.label().to_string())
            .unwrap_or_else(|| g.frequency.clone()),
        enabled: g.enabled,
        next_due: match (&due, g.frequency.as_str(), g.enabled) {
            (_, _, false) => "Disabled: nothing is generated.".into(),
            (Some(t), _, _) => format!("Next due {}", t.format("%a %d %b %Y, %H:%M %Z")),
            (None, "on_demand", _) => "Runs when you ask for it.".into(),
            (None, _, _) => String::new(),
        },
        next_due_iso: due.map(|t| t.to_rfc3339()).unwrap_or_default(),
        settings,
        row_version: g.row_version,
        runnable: g.enabled && g.frequency == "on_demand",
        run_key: crate::domain::ids::new_id("RUN"),
        recent: vec![],
    }
}

/// One card of "My agents".
pub struct AgentCard {
    pub head: Head,
    pub next_goal: String,
    pub goals: usize,
}

#[derive(Template)]
#[template(path = "agents/list.html")]
struct MyAgents {
    ctx: PageCtx,
    cards: Vec<AgentCard>,
    /// Active subscriptions without a hired agent yet: (subscription id, type name).
    to_set_up: Vec<(String, String)>,
}

async fn my_agents(
    state: web::Data<AppState>,
    user: CustomerUser,
    ctx: PageCtx,
) -> AppResult<HttpResponse> {
    let customer_id = user.user.customer_id.clone().ok_or(AppError::NotFound)?;
    let scope = user.scope();
    let v = Viewer {
        actor: user.actor.clone(),
        scope: scope.clone(),
        staff: false,
        can_write: true,
        base: "/portal/agents",
    };
    let agents = hired_agents::of_customer(&state.db, &scope, &customer_id).await?;
    let subs = crate::service::subscriptions::of_customer(&state.db, &scope, &customer_id).await?;
    let now = v.actor.now;
    let mut cards = vec![];
    for h in agents.iter().filter(|h| {
        hired_agents::retention_expires_at(h, &state.settings.billing).is_none_or(|at| at > now)
    }) {
        let d = hired_agents::definition_of(&state.db, h).await?;
        let (_, goals) =
            goal_service::of_agent(&state.db, &state.settings.billing, &scope, &h.id, now).await?;
        let next = goals
            .iter()
            .filter_map(|g| goal_service::next_due(h, g, now).map(|t| (t, g)))
            .min_by_key(|(t, _)| t.with_timezone(&Utc));
        let next_goal = match next {
            Some((t, g)) => format!(
                "{} · {}",
                goal_card(&d, h, g, now).template_name,
                t.format("%a %d %b, %H:%M %Z")
            ),
            None if goals.iter().any(|g| g.enabled) => "On demand only".into(),
            None => "No goals yet".into(),
        };
        cards.push(AgentCard {
            head: Head::of(h, &v, "overview"),
            next_goal,
            goals: goals.len(),
        });
    }
    // Bought but not set up yet: an agent without a nickname (or, for subscriptions older than
    // hired agents, none at all).
    let to_set_up = subs
        .iter()
        .filter(|s| s.status == "active")
        .filter(|s| {
            agents
                .iter()
                .find(|h| h.subscription_id == s.id)
                .is_none_or(|h| h.nickname.is_none())
        })
        .map(|s| (s.id.clone(), s.display_name.clone()))
        .collect();
    render(
        StatusCode::OK,
        &MyAgents {
            ctx,
            cards,
            to_set_up,
        },
    )
}

/// A transition of the trial, for the overview's timeline.
pub struct TrialStep {
    pub label: &'static str,
    pub at: Option<Ts>,
}

#[derive(Template)]
#[template(path = "agents/overview.html")]
struct Overview {
    ctx: PageCtx,
    head: Head,
    h: HiredAgent,
    trial_steps: Vec<TrialStep>,
    missing: Vec<Missing>,
    goals: Vec<GoalCard>,
    newer_version: Option<String>,
    updated: Ts,
    paused_at: Option<Ts>,
    retention_until: Option<Ts>,
    audit: Vec<AuditRow>,
}

async fn overview(
    state: web::Data<AppState>,
    v: Viewer,
    ctx: PageCtx,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let h = load(&state, &v, &path).await?;
    let d = hired_agents::definition_of(&state.db, &h).await?;
    let (_, goals) = goal_service::of_agent(
        &state.db,
        &state.settings.billing,
        &v.scope,
        &h.id,
        v.actor.now,
    )
    .await?;
    let trial_steps = vec![
        TrialStep {
            label: "Hired",
            at: Some(Ts(h.created_at)),
        },
        TrialStep {
            label: "Trial started",
            at: h.trial_start_at.map(Ts),
        },
        TrialStep {
            label: match hired_agents::trial_status(&h) {
                TrialStatus::EndedNotConverted => "Trial ended · not converted",
                TrialStatus::EndedConverted => "Trial ended · converted",
                _ => "Trial ends",
            },
            at: h.trial_ended_at.or(h.trial_end_at).map(Ts),
        },
    ];
    let newer_version = upgrade::newer_version(&state, &h).await?;
    let audit = if v.staff {
        activity::history_of(&state.db, "hired_agent", &h.id, 50)
            .await?
            .into_iter()
            .map(AuditRow::from)
            .collect()
    } else {
        vec![]
    };
    render(
        StatusCode::OK,
        &Overview {
            ctx,
            head: Head::of(&h, &v, "overview"),
            trial_steps,
            missing: hired_agents::trial_blockers(&d, &h),
            goals: goals
                .iter()
                .map(|g| goal_card(&d, &h, g, v.actor.now))
                .collect(),
            newer_version,
            updated: Ts(h.updated_at),
            paused_at: h.paused_at.map(Ts),
            retention_until: hired_agents::retention_expires_at(&h, &state.settings.billing)
                .map(Ts),
            audit,
            h,
        },
    )
}

async fn set_paused(
    state: &AppState,
    req: &HttpRequest,
    v: &Viewer,
    id: &str,
    paused: bool,
) -> AppResult<HttpResponse> {
    let h = hired_agents::set_paused(
        &state.db,
        &state.settings.billing,
        &v.actor,
        &v.scope,
        id,
        paused,
    )
    .await?;
    flash(
        req,
        "success",
        if paused {
            format!(
                "{} is paused: it generates nothing until you resume it.",
                h.name()
            )
        } else {
            format!("{} is running again.", h.name())
        },
    );
    Ok(see_other(&format!("{}/{}", v.base, h.id)))
}

async fn pause(
    state: web::Data<AppState>,
    req: HttpRequest,
    v: Viewer,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    set_paused(&state, &req, &v, &path, true).await
}

async fn resume(
    state: web::Data<AppState>,
    req: HttpRequest,
    v: Viewer,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    set_paused(&state, &req, &v, &path, false).await
}

#[derive(serde::Deserialize)]
struct ActivateForm {
    #[serde(default)]
    from: String,
}

/// "Activate trial": starts it when nothing blocks it; otherwise says what does.
async fn activate(
    state: web::Data<AppState>,
    req: HttpRequest,
    v: Viewer,
    path: web::Path<String>,
    form: super::forms::Form<ActivateForm>,
) -> AppResult<HttpResponse> {
    let done = hired_agents::finalize(
        &state.db,
        &state.settings.billing,
        &v.actor,
        &v.scope,
        &path,
        None,
    )
    .await?;
    let back = if form.0.from == "wizard" && !v.staff {
        format!(
            "/portal/subscriptions/{}/setup?step=5",
            done.agent.subscription_id
        )
    } else {
        format!("{}/{}", v.base, done.agent.id)
    };
    if done.started {
        flash(
            &req,
            "success",
            format!(
                "The trial of {} has started: it runs for 7 days.",
                done.agent.name()
            ),
        );
        return Ok(see_other(&format!("{}/{}", v.base, done.agent.id)));
    }
    if hired_agents::trial_status(&done.agent) == TrialStatus::Active {
        flash(&req, "info", "The trial is already running.");
    } else {
        flash(
            &req,
            "error",
            format!(
                "The trial cannot start yet: {}",
                done.missing
                    .iter()
                    .map(|m| m.message.as_str())
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
        );
    }
    Ok(see_other(&back))
}
