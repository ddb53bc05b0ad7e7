//! The review queues and a deliverable's page, for customers (`/portal/reviews`,
//! `/portal/deliverables/{id}`) and staff (`/admin/reviews`, `/admin/deliverables/{id}`): the same
//! handlers and templates behind two prefixes, like the agent pages. Decisions (approve, approve
//! with edits through a form generated for the payload, reject with a reason), bulk approve after
//! a confirmation that lists the items, and execution with the deliverable's approval id. Staff
//! decisions are recorded on behalf of the customer; staff viewers read.
//!
//! Statements per request, besides the session and its user: the queue 2 (one page of item
//! summaries, without payloads; for staff the catalog's type names for the type filter, else the
//! customer's agents for the agent filter); an item's preview 1, fetched by htmx when it is
//! opened; a deliverable's page 1 to 5 (the deliverable with its agent; once decided its
//! decision; once approved its denials, log and hand-overs); a decision 1 and its transaction (the
//! message after it rides a cookie, see `web::flash`).

pub mod payload_view;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use serde_json::Value;

use self::payload_view::{PayloadView, view};
use super::AppState;
use super::agents::Viewer;
use super::forms::Form;
use super::pages::{PageCtx, QueryHref, flash, render, see_other, wants_fragment, with_query};
use super::view::{Ts, WritePieces, write_number, written_in_pieces};
use crate::domain::deliverable_edits;
use crate::domain::deliverable_states::{Decision, ExecutionStatus, ReviewStatus};
use crate::domain::forms::{self, Submitted, Widget};
use crate::domain::schema;
use crate::error::{AppError, AppResult, ErrorCode, Violation};
use crate::service::executions::{self, Outcome};
use crate::service::hired_agents;
use crate::service::review_queue::{self, Detail, Filter, Summary};
use crate::service::reviews::{self, DecisionInput};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/nav/waiting").get(super::pages::nav_waiting));
    for prefix in ["/portal", "/admin"] {
        cfg.service(web::resource(format!("{prefix}/reviews")).get(queue))
            .service(web::resource(format!("{prefix}/reviews/bulk")).post(bulk_confirm))
            .service(web::resource(format!("{prefix}/reviews/bulk/approve")).post(bulk_approve))
            .service(web::resource(format!("{prefix}/deliverables/{{id}}")).get(page))
            .service(web::resource(format!("{prefix}/deliverables/{{id}}/preview")).get(preview))
            .service(
                web::resource(format!(
                    "{prefix}/deliverables/{{id}}/{{decision:approve|approve-with-edits|reject}}"
                ))
                .post(decide_form),
            )
            .service(web::resource(format!("{prefix}/deliverables/{{id}}/execute")).post(execute));
    }
}

const PAGE_SIZE: i64 = 50;
/// How much of each post's text a queue item carries (the whole text is on the deliverable's page).
const QUEUE_TEXT_CHARS: usize = 300;
/// The most items one bulk approval takes.
const BULK_MAX: usize = 100;
/// The edit form's field names start with this.
const EDIT_PREFIX: &str = "edit";

fn prefix(v: &Viewer) -> &'static str {
    if v.staff { "/admin" } else { "/portal" }
}

/// How long something has waited, in whole minutes.
pub fn waited(since: DateTime<Utc>, now: DateTime<Utc>) -> Waited {
    Waited((now - since).num_minutes().max(0))
}

/// "3 min", "5 h", "2 days": how long something has waited.
#[derive(Debug, Clone, Copy)]
pub struct Waited(i64);

impl WritePieces for Waited {
    fn write_pieces(&self, f: &mut dyn std::fmt::Write) -> std::fmt::Result {
        let (n, unit) = match self.0 {
            0 => return f.write_str("just now"),
            m @ 1..=59 => (m, " min"),
            m @ 60..=2879 => (m / 60, " h"),
            m => (m / 1440, " days"),
        };
        write_number(f, n.unsigned_abs())?;
        f.write_str(unit)
    }
}

/// The age filter's choices: (value, label, how old at least).
const AGES: [(&str, &str, i64); 4] = [
    ("1h", "Waiting over 1 hour", 1),
    ("24h", "Waiting over 24 hours", 24),
    ("3d", "Waiting over 3 days", 72),
    ("7d", "Waiting over 7 days", 168),
];

#[derive(Debug, Default, Deserialize)]
struct QueueQuery {
    #[serde(default)]
    status: String,
    #[serde(default, rename = "type")]
    agent_type: String,
    #[serde(default)]
    customer: String,
    #[serde(default)]
    agent: String,
    #[serde(default)]
    age: String,
    #[serde(default)]
    after: String,
}

/// The filters as the form shows them again (recognised values only).
#[derive(Debug, Clone, Default)]
struct Shown {
    status: String,
    agent_type: String,
    customer: String,
    agent: String,
    age: String,
}

impl Shown {
    fn pairs(&self) -> [(&'static str, &str); 5] {
        [
            ("status", &self.status),
            ("type", &self.agent_type),
            ("customer", &self.customer),
            ("agent", &self.agent),
            ("age", &self.age),
        ]
    }
}

/// An id typed into an address: kept only when it looks like one (no spaces, not huge).
fn id_param(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty() && t.len() <= 80 && t.bytes().all(|b| b.is_ascii_graphic())).then(|| t.into())
}

fn read_query(q: &QueueQuery, v: &Viewer, now: DateTime<Utc>) -> (Filter, Shown) {
    // Waiting items by default; `all` lists every state.
    let status = match q.status.as_str() {
        "all" => None,
        s => Some(ReviewStatus::parse(s).unwrap_or(ReviewStatus::PendingReview)),
    };
    let age = AGES.iter().find(|(value, _, _)| *value == q.age);
    let customer = if v.staff { id_param(&q.customer) } else { None };
    let filter = Filter {
        customer: customer.clone(),
        hired_agent: id_param(&q.agent),
        status,
        agent_type: if v.staff {
            id_param(&q.agent_type)
        } else {
            None
        },
        created_before: age.map(|(_, _, hours)| now - Duration::hours(*hours)),
        id: None,
    };
    let shown = Shown {
        status: match status {
            None => "all".into(),
            Some(ReviewStatus::PendingReview) => String::new(),
            Some(s) => s.as_str().into(),
        },
        agent_type: filter.agent_type.clone().unwrap_or_default(),
        customer: customer.unwrap_or_default(),
        agent: filter.hired_agent.clone().unwrap_or_default(),
        age: age.map(|a| a.0.to_string()).unwrap_or_default(),
    };
    (filter, shown)
}

/// One item of a queue, written into the page straight from its summary (a page of 50 copies
/// nothing and builds no links ahead: a tenth of the page's cost went to such copies).
pub struct QueueItem<'a, S = String> {
    pub d: &'a Summary<S>,
    prefix: &'static str,
    status: ReviewStatus,
    now: DateTime<Utc>,
}

impl<'a, S: AsRef<str>> QueueItem<'a, S> {
    fn new(d: &'a Summary<S>, prefix: &'static str, now: DateTime<Utc>) -> Self {
        QueueItem {
            d,
            prefix,
            status: status_of(d.review_status.as_ref()),
            now,
        }
    }

    pub fn agent_name(&self) -> &str {
        self.d.agent_name()
    }

    pub fn status(&self) -> &'static str {
        self.status.as_str()
    }

    pub fn status_label(&self) -> &'static str {
        self.status.label()
    }

    pub fn execution_label(&self) -> &'static str {
        execution_label(self.d.execution_status.as_ref())
    }

    pub fn pending(&self) -> bool {
        self.status == ReviewStatus::PendingReview
    }

    pub fn created(&self) -> Ts {
        Ts(self.d.created_at)
    }

    pub fn waited(&self) -> Waited {
        waited(self.d.created_at, self.now)
    }

    /// The deliverable's page.
    pub fn href(&self) -> DeliverableHref<'a> {
        DeliverableHref {
            prefix: self.prefix,
            id: self.d.id.as_ref(),
            rest: "",
        }
    }

    /// Its preview, fetched by htmx when the item's "Preview" is opened.
    pub fn preview_href(&self) -> DeliverableHref<'a> {
        DeliverableHref {
            rest: "/preview",
            ..self.href()
        }
    }
}

/// `{prefix}/deliverables/{id}{rest}`, written where it is shown.
pub struct DeliverableHref<'a> {
    prefix: &'static str,
    id: &'a str,
    rest: &'static str,
}

impl WritePieces for DeliverableHref<'_> {
    fn write_pieces(&self, f: &mut dyn std::fmt::Write) -> std::fmt::Result {
        f.write_str(self.prefix)?;
        f.write_str("/deliverables/")?;
        f.write_str(self.id)?;
        f.write_str(self.rest)
    }
}

/// The queue's address with the filters shown and one of them replaced: an item's "only this
/// agent's" and "only this customer's" links.
pub struct NarrowedHref<'a> {
    prefix: &'static str,
    shown: &'a Shown,
    key: &'static str,
    value: &'a str,
}

impl WritePieces for NarrowedHref<'_> {
    fn write_pieces(&self, f: &mut dyn std::fmt::Write) -> std::fmt::Result {
        let pairs = self
            .shown
            .pairs()
            .map(|(key, value)| (key, if key == self.key { self.value } else { value }));
        QueryHref {
            path: &[self.prefix, "/reviews"],
            pairs: &pairs,
        }
        .write_pieces(f)
    }
}

written_in_pieces!(Waited, DeliverableHref<'_>, NarrowedHref<'_>);

fn execution_label(s: &str) -> &'static str {
    match ExecutionStatus::parse(s) {
        Some(ExecutionStatus::Executed) => "Executed",
        Some(ExecutionStatus::Executing) => "Executing",
        Some(ExecutionStatus::Failed) => "Execution failed",
        _ => "",
    }
}

fn status_of(s: &str) -> ReviewStatus {
    ReviewStatus::parse(s).unwrap_or(ReviewStatus::PendingReview)
}

#[derive(Template)]
#[template(path = "reviews/queue.html")]
struct QueuePage<'a> {
    ctx: PageCtx,
    staff: bool,
    can_decide: bool,
    prefix: &'static str,
    f: Shown,
    items: Vec<QueueItem<'a, &'a str>>,
    /// (value, label) of the filters' choices.
    types: std::sync::Arc<Vec<(String, String)>>,
    agents: Vec<(String, String)>,
    /// A filter by customer or agent given by a link: what it names, and the link without it.
    customer_note: Option<(String, String)>,
    agent_note: Option<(String, String)>,
    next_page: Option<String>,
    clear_href: String,
    narrowed: bool,
}

impl QueuePage<'_> {
    /// "Only this agent's" / "only this customer's" for an item: the filters shown, narrowed.
    fn narrowed<'s>(&'s self, key: &'static str, value: &'s str) -> NarrowedHref<'s> {
        NarrowedHref {
            prefix: self.prefix,
            shown: &self.f,
            key,
            value,
        }
    }

    fn statuses(&self) -> Vec<(&'static str, &'static str)> {
        vec![
            ("", "Waiting for review"),
            ("approved", "Approved"),
            ("rejected", "Rejected"),
            ("all", "Every state"),
        ]
    }

    fn ages(&self) -> Vec<(&'static str, &'static str)> {
        AGES.iter().map(|(v, l, _)| (*v, *l)).collect()
    }

    fn any_pending(&self) -> bool {
        self.items.iter().any(|i| i.pending())
    }
}

async fn queue(
    state: web::Data<AppState>,
    v: Viewer,
    ctx: PageCtx,
    q: web::Query<QueueQuery>,
) -> AppResult<HttpResponse> {
    let now = v.actor.now;
    let (filter, shown) = read_query(&q, &v, now);
    let after = id_param(&q.after);
    let rows = review_queue::summary_rows(
        &state.db,
        &v.scope,
        &filter,
        after.as_deref(),
        PAGE_SIZE + 1,
    )
    .await?;
    let mut items = rows.summaries()?;
    let more = items.len() as i64 > PAGE_SIZE;
    items.truncate(PAGE_SIZE as usize);
    let p = prefix(&v);
    let base = format!("{p}/reviews");
    let next_page = if more {
        items.last().map(|last| {
            let mut pairs = shown.pairs().to_vec();
            pairs.push(("after", last.id));
            with_query(&base, &pairs)
        })
    } else {
        None
    };
    let (types, agents) = if v.staff {
        (
            state.type_names.get(&state.db, state.clock.now()).await?,
            vec![],
        )
    } else {
        let own = v.scope.customer().unwrap_or_default().to_string();
        let agents = hired_agents::names_of_customer(&state.db, &v.scope, &own).await?;
        (Default::default(), agents)
    };
    let without = |key: &str| {
        let mut s = shown.clone();
        match key {
            "customer" => s.customer.clear(),
            _ => s.agent.clear(),
        }
        with_query(&base, &s.pairs())
    };
    let customer_note = filter.customer.as_ref().map(|id| {
        let name = items
            .first()
            .map(|i| i.customer_name.to_string())
            .unwrap_or_else(|| id.clone());
        (name, without("customer"))
    });
    let agent_note = if v.staff || agents.is_empty() {
        filter.hired_agent.as_ref().map(|id| {
            let name = items
                .first()
                .map(|i| i.agent_name().to_string())
                .unwrap_or_else(|| id.clone());
            (name, without("agent"))
        })
    } else {
        None
    };
    let narrowed = [&shown.agent_type, &shown.customer, &shown.agent, &shown.age]
        .iter()
        .any(|s| !s.is_empty());
    let items = items.iter().map(|it| QueueItem::new(it, p, now)).collect();
    render(
        StatusCode::OK,
        &QueuePage {
            ctx,
            staff: v.staff,
            can_decide: v.can_write,
            prefix: p,
            f: shown,
            items,
            types,
            agents,
            customer_note,
            agent_note,
            next_page,
            clear_href: base,
            narrowed,
        },
    )
}

/// The decision recorded on a deliverable, as its page shows it.
pub struct DecisionView {
    pub id: String,
    pub decision: String,
    pub by: String,
    pub role: String,
    pub on_behalf: bool,
    pub notes: String,
    pub at: Ts,
    pub edited: bool,
}

pub struct DenialView {
    pub reason: &'static str,
    pub message: String,
    pub action: String,
    pub actor: String,
    pub correlation_id: String,
    pub at: Ts,
}

pub struct StepView {
    pub number: i32,
    pub action: String,
    pub status: String,
    pub summary: String,
    pub output: Vec<(String, String)>,
    pub duration: String,
}

pub struct RunView {
    pub id: String,
    pub status: String,
    pub at: Ts,
    pub correlation_id: String,
    pub ai: String,
    pub steps: Vec<StepView>,
}

pub struct HandoverView {
    pub integration: String,
    pub action: String,
    pub credential_ref: String,
    pub status: String,
    pub attempts: i32,
    pub note: String,
    pub at: Ts,
}

/// The edit form of "approve with edits".
pub struct EditForm {
    pub widgets: Vec<Widget>,
    pub errors: Vec<Violation>,
}

#[derive(Template)]
#[template(path = "reviews/deliverable.html")]
struct DeliverablePage {
    ctx: PageCtx,
    prefix: &'static str,
    staff: bool,
    id: String,
    title: String,
    agent_name: String,
    agent_href: String,
    type_name: String,
    customer_name: String,
    customer_href: String,
    goal_href: String,
    period: String,
    status: &'static str,
    status_label: &'static str,
    execution: &'static str,
    execution_label: &'static str,
    created: Ts,
    waited: Waited,
    executed_at: Option<Ts>,
    payload: PayloadView,
    /// The payload as drafted, when the reviewer edited it.
    original: Option<PayloadView>,
    decision: Option<DecisionView>,
    approval_id: String,
    denials: Vec<DenialView>,
    runs: Vec<RunView>,
    handovers: Vec<HandoverView>,
    can_decide: bool,
    can_execute: bool,
    /// The agent's subscription has ended: nothing changes any more.
    read_only_note: String,
    edit: Option<EditForm>,
    notes: String,
    notes_error: String,
    /// A message at the top: a conflict or a denial.
    alert: String,
}

fn run_views(log: &[crate::db::deliverables::LoggedStep]) -> Vec<RunView> {
    let mut runs: Vec<RunView> = vec![];
    for s in log {
        if runs.last().is_none_or(|r| r.id != s.run_id) {
            let ai = match (&s.ai_model, s.ai_input_tokens, s.ai_output_tokens) {
                (Some(m), i, o) => format!(
                    "{m} · {} tokens in, {} out{}",
                    i.unwrap_or(0),
                    o.unwrap_or(0),
                    s.ai_cost_minor
                        .map(|c| format!(" · cost ₹{}.{:02}", c / 100, c % 100))
                        .unwrap_or_default()
                ),
                _ => String::new(),
            };
            runs.push(RunView {
                id: s.run_id.clone(),
                status: s.run_status.clone(),
                at: Ts(s.run_at),
                correlation_id: s.correlation_id.clone(),
                ai,
                steps: vec![],
            });
        }
        let output = s
            .step
            .output
            .0
            .as_object()
            .map(|o| {
                o.iter()
                    .map(|(k, x)| (k.replace('_', " "), super::agents::value_words(x)))
                    .collect()
            })
            .unwrap_or_default();
        if let Some(r) = runs.last_mut() {
            r.steps.push(StepView {
                number: s.step.step_number,
                action: s.step.action.replace('_', " "),
                status: s.step.status.clone(),
                summary: s.step.output_summary.clone(),
                output,
                duration: format!("{} ms", s.step.duration_ms),
            });
        }
    }
    runs
}

fn actor_words(email: Option<&str>, role: Option<&str>) -> String {
    match (email, role) {
        (Some(e), _) => e.to_string(),
        (None, Some(r)) => r.to_string(),
        (None, None) => "the system".into(),
    }
}

/// What the page needs besides the detail: the edit form and the reviewer's notes as typed, and
/// a message to show first.
#[derive(Default)]
struct Entered {
    edits: Option<Value>,
    edit_errors: Vec<Violation>,
    notes: String,
    notes_error: String,
    alert: String,
}

fn deliverable_page(
    v: &Viewer,
    ctx: PageCtx,
    detail: Detail,
    entered: Entered,
    status_code: StatusCode,
) -> AppResult<HttpResponse> {
    let Detail {
        deliverable: d,
        agent,
        approval,
        denials,
        log,
        handovers,
    } = detail;
    let p = prefix(v);
    let now = v.actor.now;
    let status = status_of(&d.review_status);
    let execution =
        ExecutionStatus::parse(&d.execution_status).unwrap_or(ExecutionStatus::NotExecuted);
    let writable = hired_agents::check_writable(&agent).is_ok();
    let can_decide = v.can_write && writable && status == ReviewStatus::PendingReview;
    let can_execute = v.can_write
        && writable
        && status == ReviewStatus::Approved
        && matches!(
            execution,
            ExecutionStatus::NotExecuted | ExecutionStatus::Failed
        );
    let edit = match (can_decide, deliverable_edits::edit_schema(&d.payload.0)) {
        (true, Some(s)) => {
            let values = entered
                .edits
                .clone()
                .unwrap_or_else(|| deliverable_edits::editable_values(&d.payload.0));
            let shown = schema::with_defaults(&s.fields, &values);
            let errors: Vec<Violation> = entered
                .edit_errors
                .iter()
                .map(|e| {
                    Violation::new(
                        e.path.strip_prefix("edited_payload.").unwrap_or(&e.path),
                        e.message.clone(),
                    )
                })
                .collect();
            Some(EditForm {
                widgets: forms::widgets(&s.fields, EDIT_PREFIX, &shown, &errors),
                errors,
            })
        }
        _ => None,
    };
    let current = d.edited_payload.as_ref().unwrap_or(&d.payload);
    let decision = approval.as_ref().map(|a| DecisionView {
        id: a.id.clone(),
        decision: match a.decision.as_str() {
            "approved" if a.edited_payload.is_some() => "Approved with edits".into(),
            "approved" => "Approved".into(),
            "rejected" => "Rejected".into(),
            other => other.into(),
        },
        by: actor_words(a.decided_by_email.as_deref(), a.decided_by_role.as_deref()),
        role: a.decided_by_role.clone().unwrap_or_default(),
        on_behalf: a.on_behalf,
        notes: a.notes.clone().unwrap_or_default(),
        at: Ts(a.created_at),
        edited: a.edited_payload.is_some(),
    });
    let denials = denials
        .iter()
        .map(|x| {
            let reason = crate::domain::deliverable_states::DenyReason::parse(&x.reason);
            DenialView {
                reason: reason.map(|r| r.as_str()).unwrap_or("denied"),
                message: reason
                    .map(|r| r.message().to_string())
                    .unwrap_or_else(|| x.reason.clone()),
                action: x.action.replace('_', " "),
                actor: match (&x.actor_role, x.on_behalf) {
                    (Some(r), true) => format!("{r} (staff, on behalf)"),
                    (Some(r), false) => r.clone(),
                    (None, _) => "the system".into(),
                },
                correlation_id: x.correlation_id.clone(),
                at: Ts(x.created_at),
            }
        })
        .collect();
    let handovers = handovers
        .iter()
        .map(|h| HandoverView {
            integration: payload_view::integration_words(&h.integration),
            action: h.action.replace('_', " "),
            credential_ref: h.credential_ref.clone().unwrap_or_default(),
            status: h.status.clone(),
            attempts: h.attempts,
            note: match h.status.as_str() {
                "pending" if h.attempts > 0 => format!(
                    "Retrying: {}",
                    h.last_error.as_deref().unwrap_or("the last attempt failed")
                ),
                "pending" => "Queued for hand-over.".into(),
                "failed" => h.last_error.clone().unwrap_or_default(),
                _ => String::new(),
            },
            at: Ts(if h.status == "pending" {
                h.next_attempt_at
            } else {
                h.updated_at
            }),
        })
        .collect();
    let read_only_note = if writable {
        String::new()
    } else {
        "This agent's subscription has ended: its deliverables can be read but no longer decided or executed.".into()
    };
    render(
        status_code,
        &DeliverablePage {
            ctx,
            prefix: p,
            staff: v.staff,
            title: d.title.clone(),
            agent_name: agent.name().to_string(),
            agent_href: format!("{}/{}", v.base, agent.id),
            type_name: agent.display_name.clone(),
            customer_name: agent.customer_name.clone(),
            customer_href: format!("/admin/customers/{}", agent.customer_id),
            goal_href: format!("{}/{}/goals", v.base, agent.id),
            period: period_words(&d.period_key),
            status: status.as_str(),
            status_label: status.label(),
            execution: execution.as_str(),
            execution_label: execution_label(&d.execution_status),
            created: Ts(d.created_at),
            waited: waited(d.created_at, now),
            executed_at: d.executed_at.map(Ts),
            payload: view(&current.0, d.edited_payload.as_ref().map(|_| &d.payload.0)),
            original: d.edited_payload.as_ref().map(|_| view(&d.payload.0, None)),
            approval_id: d.approval_id.clone().unwrap_or_default(),
            decision,
            denials,
            runs: run_views(&log),
            handovers,
            can_decide,
            can_execute,
            read_only_note,
            edit,
            notes: entered.notes,
            notes_error: entered.notes_error,
            alert: entered.alert,
            id: d.id,
        },
    )
}

/// `daily:2026-03-02` → "Day 2026-03-02"; `on_demand:…` → "On request".
fn period_words(key: &str) -> String {
    match key.split_once(':') {
        Some(("daily", d)) => format!("Day {d}"),
        Some(("weekly", w)) => format!("Week {w}"),
        Some(("monthly", m)) => format!("Month {m}"),
        Some(("on_demand", _)) | None => "On request".into(),
        Some((_, rest)) => rest.to_string(),
    }
}

async fn load(state: &AppState, v: &Viewer, id: &str) -> AppResult<Detail> {
    review_queue::detail(
        &state.db,
        &state.settings.billing,
        &v.scope,
        id,
        v.actor.now,
    )
    .await
}

async fn page(
    state: web::Data<AppState>,
    v: Viewer,
    ctx: PageCtx,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let detail = load(&state, &v, &path).await?;
    deliverable_page(&v, ctx, detail, Entered::default(), StatusCode::OK)
}

/// A queue item's preview (`reviews/_payload.html`, texts clipped as in the list), fetched by htmx
/// when the item's "Preview" is opened. Anything else asking for it goes to the deliverable's page.
async fn preview(
    req: HttpRequest,
    state: web::Data<AppState>,
    v: Viewer,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let it = review_queue::one(&state.db, &v.scope, &Filter::default(), &path)
        .await?
        .ok_or(AppError::NotFound)?;
    let d = &it.deliverable;
    if !wants_fragment(&req) {
        return Ok(see_other(&format!("{}/deliverables/{}", prefix(&v), d.id)));
    }
    let current = d.edited_payload.as_ref().unwrap_or(&d.payload);
    let pv =
        view(&current.0, d.edited_payload.as_ref().map(|_| &d.payload.0)).clipped(QUEUE_TEXT_CHARS);
    render(StatusCode::OK, &Preview { pv, full: false })
}

#[derive(Template)]
#[template(path = "reviews/preview.html")]
struct Preview {
    pv: PayloadView,
    full: bool,
}

/// Staff viewers read only.
fn require_write(v: &Viewer) -> AppResult<()> {
    if v.can_write {
        Ok(())
    } else {
        Err(AppError::forbidden(
            ErrorCode::ReadOnly,
            "Viewers can read deliverables but not decide or execute them.",
        ))
    }
}

/// Runs a decision and answers: back to the page with a message, the page again with the
/// problems next to their fields (422), or with who decided first (409).
async fn decide(
    state: &AppState,
    req: &HttpRequest,
    v: &Viewer,
    ctx: PageCtx,
    id: &str,
    input: DecisionInput,
) -> AppResult<HttpResponse> {
    require_write(v)?;
    let r = reviews::decide(
        &state.db,
        &state.settings.billing,
        &v.actor,
        &v.scope,
        id,
        &input,
    )
    .await;
    let p = prefix(v);
    match r {
        Ok(done) => {
            let what = match input.decision {
                Decision::Approve => "Approved",
                Decision::ApproveWithEdits => "Approved with your edits",
                Decision::Reject => "Rejected",
            };
            flash(
                req,
                "success",
                format!("{what}: {}.", done.deliverable.title),
            );
            Ok(see_other(&format!("{p}/deliverables/{id}")))
        }
        Err(AppError::Invalid { violations, .. }) => {
            let detail = load(state, v, id).await?;
            let notes_error = violations
                .iter()
                .find(|x| x.path == "notes")
                .map(|x| x.message.clone())
                .unwrap_or_default();
            let edit_errors: Vec<Violation> = violations
                .into_iter()
                .filter(|x| x.path != "notes")
                .collect();
            let entered = Entered {
                edits: input.edits,
                alert: if edit_errors.is_empty() {
                    String::new()
                } else {
                    "Nothing was decided: correct the edits below.".into()
                },
                edit_errors,
                notes: input.notes.unwrap_or_default(),
                notes_error,
            };
            deliverable_page(v, ctx, detail, entered, StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(e @ AppError::Conflict { .. }) => {
            let detail = load(state, v, id).await?;
            let entered = Entered {
                alert: e.message().unwrap_or_default().to_string(),
                ..Entered::default()
            };
            deliverable_page(v, ctx, detail, entered, StatusCode::CONFLICT)
        }
        Err(e) => Err(e),
    }
}

/// The decision forms (`…/approve`, `…/approve-with-edits`, `…/reject`): the form read into the
/// service's input (the edits through the payload's edit form), then [`decide`].
async fn decide_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    v: Viewer,
    ctx: PageCtx,
    path: web::Path<(String, String)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<HttpResponse> {
    let (id, decision) = path.into_inner();
    let form = Submitted::new(&pairs);
    let notes = Some(form.text("notes").to_string());
    let input = match decision.as_str() {
        "reject" => DecisionInput {
            decision: Decision::Reject,
            notes,
            edits: None,
        },
        "approve-with-edits" => {
            let detail = load(&state, &v, &id).await?;
            let payload = &detail.deliverable.payload.0;
            let Some(s) = deliverable_edits::edit_schema(payload) else {
                return Err(AppError::invalid(vec![Violation::new(
                    "edited_payload",
                    "This deliverable has nothing to edit; approve or reject it as it is.",
                )]));
            };
            let previous = deliverable_edits::editable_values(payload);
            DecisionInput {
                decision: Decision::ApproveWithEdits,
                notes: notes.filter(|n| !n.trim().is_empty()),
                edits: Some(forms::parse(&s.fields, EDIT_PREFIX, &form, &previous)),
            }
        }
        _ => DecisionInput {
            decision: Decision::Approve,
            notes: notes.filter(|n| !n.trim().is_empty()),
            edits: None,
        },
    };
    decide(&state, &req, &v, ctx, &id, input).await
}

async fn execute(
    state: web::Data<AppState>,
    req: HttpRequest,
    v: Viewer,
    ctx: PageCtx,
    path: web::Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<HttpResponse> {
    require_write(&v)?;
    let form = Submitted::new(&pairs);
    let approval_id = Some(form.text("approval_id").trim()).filter(|a| !a.is_empty());
    let r = executions::execute(
        &state.db,
        &state.settings.billing,
        &v.actor,
        &v.scope,
        &path,
        approval_id,
    )
    .await;
    let p = prefix(&v);
    match r {
        Ok(Outcome::Executed {
            deliverable,
            replayed,
        }) => {
            flash(
                &req,
                if replayed { "info" } else { "success" },
                if replayed {
                    format!("Already executed: {}.", deliverable.title)
                } else {
                    format!(
                        "Executed: {}. The hand-over is queued; its progress shows below.",
                        deliverable.title
                    )
                },
            );
            Ok(see_other(&format!("{p}/deliverables/{}", deliverable.id)))
        }
        Ok(Outcome::Denied { reason, .. }) => {
            let detail = load(&state, &v, &path).await?;
            let entered = Entered {
                alert: format!("Execution denied: {}", reason.message()),
                ..Entered::default()
            };
            deliverable_page(&v, ctx, detail, entered, StatusCode::FORBIDDEN)
        }
        Err(e @ AppError::Conflict { .. }) => {
            let detail = load(&state, &v, &path).await?;
            let entered = Entered {
                alert: e.message().unwrap_or_default().to_string(),
                ..Entered::default()
            };
            deliverable_page(&v, ctx, detail, entered, StatusCode::CONFLICT)
        }
        Err(e) => Err(e),
    }
}

/// The ids ticked in a queue (at most [`BULK_MAX`], each once).
fn ticked(pairs: &[(String, String)]) -> AppResult<Vec<String>> {
    let mut ids: Vec<String> = vec![];
    for (k, val) in pairs {
        if k == "ids"
            && let Some(id) = id_param(val)
            && !ids.contains(&id)
        {
            ids.push(id);
        }
    }
    if ids.is_empty() {
        return Err(AppError::invalid(vec![Violation::new(
            "ids",
            "Tick the items to approve first.",
        )]));
    }
    if ids.len() > BULK_MAX {
        return Err(AppError::invalid(vec![Violation::new(
            "ids",
            format!("Approve at most {BULK_MAX} items at once."),
        )]));
    }
    Ok(ids)
}

#[derive(Template)]
#[template(path = "reviews/bulk_confirm.html")]
struct BulkConfirm<'a> {
    ctx: PageCtx,
    prefix: &'static str,
    staff: bool,
    items: Vec<QueueItem<'a>>,
    /// Ticked ids that are not (or no longer) waiting, or not visible.
    skipped: usize,
    back: String,
}

/// Step one of a bulk approval: the items ticked, listed for a confirmation.
async fn bulk_confirm(
    state: web::Data<AppState>,
    v: Viewer,
    ctx: PageCtx,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<HttpResponse> {
    require_write(&v)?;
    let ids = ticked(&pairs)?;
    let now = v.actor.now;
    let mut found = vec![];
    for id in &ids {
        let f = Filter {
            status: Some(ReviewStatus::PendingReview),
            ..Filter::default()
        };
        // One statement per ticked item (at most 100), each through the scope's queue filter.
        if let Some(it) = review_queue::one_summary(&state.db, &v.scope, &f, id).await? {
            found.push(it);
        }
    }
    let p = prefix(&v);
    let items: Vec<_> = found.iter().map(|it| QueueItem::new(it, p, now)).collect();
    let back = Submitted::new(&pairs).text("back").to_string();
    let back = if back.starts_with(&format!("{p}/reviews")) && !back.contains("//") {
        back
    } else {
        format!("{p}/reviews")
    };
    render(
        StatusCode::OK,
        &BulkConfirm {
            ctx,
            prefix: p,
            staff: v.staff,
            skipped: ids.len() - items.len(),
            items,
            back,
        },
    )
}

/// Step two: each confirmed item approved on its own (its own approval record); those decided
/// meanwhile by someone else are named in the message.
async fn bulk_approve(
    state: web::Data<AppState>,
    req: HttpRequest,
    v: Viewer,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<HttpResponse> {
    require_write(&v)?;
    let ids = ticked(&pairs)?;
    let input = DecisionInput {
        decision: Decision::Approve,
        notes: None,
        edits: None,
    };
    let (mut approved, mut already, mut missing) = (0usize, vec![], 0usize);
    for id in &ids {
        match reviews::decide(
            &state.db,
            &state.settings.billing,
            &v.actor,
            &v.scope,
            id,
            &input,
        )
        .await
        {
            Ok(d) if !d.replayed => approved += 1,
            Ok(_) => {}
            Err(AppError::Conflict { message, .. }) => already.push(message),
            Err(AppError::NotFound | AppError::Gone(_)) => missing += 1,
            Err(e) => return Err(e),
        }
    }
    let mut text = format!(
        "Approved {approved} item{}.",
        if approved == 1 { "" } else { "s" }
    );
    if !already.is_empty() {
        text.push_str(&format!(
            " {} had been decided meanwhile: {}",
            already.len(),
            already.join(" ")
        ));
    }
    if missing > 0 {
        text.push_str(&format!(" {missing} could not be found."));
    }
    flash(
        &req,
        if already.is_empty() && missing == 0 {
            "success"
        } else {
            "info"
        },
        text,
    );
    Ok(see_other(&format!("{}/reviews", prefix(&v))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_read_in_their_largest_whole_unit() {
        let now = Utc::now();
        for (minutes, words) in [
            (0, "just now"),
            (1, "1 min"),
            (59, "59 min"),
            (60, "1 h"),
            (2879, "47 h"),
            (2880, "2 days"),
            (100_000, "69 days"),
        ] {
            let since = now - Duration::minutes(minutes);
            assert_eq!(waited(since, now).to_string(), words);
        }
        // A clock behind the item's creation reads as "just now", never as a negative wait.
        assert_eq!(
            waited(now + Duration::minutes(5), now).to_string(),
            "just now"
        );
    }

    #[test]
    fn narrowing_links_keep_the_other_filters_and_encode_values() {
        let shown = Shown {
            status: "approved".into(),
            agent: "HAI-1".into(),
            age: "24h".into(),
            ..Shown::default()
        };
        let link = |key, value| {
            NarrowedHref {
                prefix: "/admin",
                shown: &shown,
                key,
                value,
            }
            .to_string()
        };
        assert_eq!(
            link("agent", "HAI-2"),
            "/admin/reviews?status=approved&agent=HAI-2&age=24h"
        );
        assert_eq!(
            link("customer", "CUS a&b"),
            "/admin/reviews?status=approved&customer=CUS+a%26b&agent=HAI-1&age=24h"
        );
    }
}
