//! The Goals tab: template cards → the settings form generated from the template's schema →
//! frequency (only those the template allows, its default preselected) → save. With htmx a goal
//! is added, edited, enabled/disabled and deleted in place; without it every action is a form
//! post that comes back to the tab (or to the wizard's goal step).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use serde_json::Value;

use super::{GoalCard, Head, Viewer, attach_recent, goal_card, load};
use crate::db::hired_agents::{Goal, HiredAgent};
use crate::domain::definition::{Definition, GoalTemplate};
use crate::domain::forms::{self, Submitted, Widget};
use crate::domain::schema::{self, Mode};
use crate::error::{AppError, AppResult, ErrorCode, Violation};
use crate::service::goals::{self as goal_service, GoalInput, allowed_frequencies};
use crate::service::hired_agents;
use crate::web::AppState;
use crate::web::forms::Form;
use crate::web::pages::{FormErrors, PageCtx, flash, render, see_other, wants_fragment};
use crate::web::schema_forms::live_errors;

pub fn routes(cfg: &mut web::ServiceConfig, base: &str) {
    cfg.service(
        web::resource(format!("{base}/{{id}}/goals"))
            .get(tab)
            .post(create),
    )
    .service(web::resource(format!("{base}/{{id}}/goals/new")).get(new_form))
    .service(web::resource(format!("{base}/{{id}}/goals/validate")).post(validate))
    .service(web::resource(format!("{base}/{{id}}/goals/{{goal}}")).post(update))
    .service(web::resource(format!("{base}/{{id}}/goals/{{goal}}/edit")).get(edit_form))
    .service(web::resource(format!("{base}/{{id}}/goals/{{goal}}/toggle")).post(toggle))
    .service(web::resource(format!("{base}/{{id}}/goals/{{goal}}/delete")).post(delete))
    .service(web::resource(format!("{base}/{{id}}/goals/{{goal}}/run")).post(run_now));
}

const PREFIX: &str = "settings";

/// A template as a card to choose from.
pub struct TemplateCard {
    pub id: String,
    pub name: String,
    pub description: String,
    pub frequency: String,
}

pub fn template_cards(d: &Definition) -> Vec<TemplateCard> {
    d.goal_templates
        .iter()
        .map(|t| TemplateCard {
            id: t.goal_template_id.clone(),
            name: t.name.clone(),
            description: t.description.clone().unwrap_or_default(),
            frequency: crate::domain::schedule::Frequency::parse(&t.default_frequency)
                .map(|f| f.label().to_string())
                .unwrap_or_else(|| t.default_frequency.clone()),
        })
        .collect()
}

/// The form of one goal (new or existing).
pub struct GoalForm {
    pub template_id: String,
    pub template_name: String,
    pub template_description: String,
    pub widgets: Vec<Widget>,
    /// (value, label, checked)
    pub frequencies: Vec<(String, String, bool)>,
    pub frequency_error: String,
    pub enabled: bool,
    pub errors: FormErrors,
    pub action: String,
    pub validate: String,
    pub row_version: String,
    pub goal_id: String,
    pub conflict_message: String,
    pub cancel: String,
}

fn form_for(
    base: &str,
    h: &HiredAgent,
    t: &GoalTemplate,
    goal: Option<&Goal>,
    entered: &GoalInput,
    errors: Vec<Violation>,
    from: &str,
) -> GoalForm {
    let (settings, frequency, enabled) = (
        &entered.settings,
        entered.frequency.as_str(),
        entered.enabled.unwrap_or(true),
    );
    let allowed = allowed_frequencies(t);
    let settings_errors: Vec<Violation> = errors
        .iter()
        .filter_map(|v| {
            v.path
                .strip_prefix("settings.")
                .map(|p| Violation::new(p, v.message.clone()))
        })
        .collect();
    let frequency_error = errors
        .iter()
        .find(|v| v.path == "frequency")
        .map(|v| v.message.clone())
        .unwrap_or_default();
    let shown = schema::with_defaults(&t.settings_schema.fields, settings);
    let agent = format!("{base}/{}", h.id);
    let q = if from == "wizard" { "?from=wizard" } else { "" };
    GoalForm {
        template_id: t.goal_template_id.clone(),
        template_name: t.name.clone(),
        template_description: t.description.clone().unwrap_or_default(),
        widgets: forms::widgets(&t.settings_schema.fields, PREFIX, &shown, &settings_errors),
        frequencies: allowed
            .iter()
            .map(|f| {
                (
                    f.as_str().to_string(),
                    f.label().to_string(),
                    f.as_str() == frequency,
                )
            })
            .collect(),
        frequency_error,
        enabled,
        errors: FormErrors(errors),
        action: match goal {
            Some(g) => format!("{agent}/goals/{}{q}", g.id),
            None => format!("{agent}/goals{q}"),
        },
        validate: format!(
            "{agent}/goals/validate?template={}",
            urlencoding(&t.goal_template_id)
        ),
        row_version: goal.map(|g| g.row_version.to_string()).unwrap_or_default(),
        goal_id: goal.map(|g| g.id.clone()).unwrap_or_default(),
        conflict_message: String::new(),
        cancel: if from == "wizard" {
            format!("/portal/subscriptions/{}/setup?step=4", h.subscription_id)
        } else {
            format!("{agent}/goals")
        },
    }
}

fn urlencoding(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[derive(Template)]
#[template(path = "agents/goals.html")]
struct GoalsTab {
    ctx: PageCtx,
    head: Head,
    goals: Vec<GoalCard>,
    templates: Vec<TemplateCard>,
    enabled_goals: i64,
}

async fn tab(
    state: web::Data<AppState>,
    v: Viewer,
    ctx: PageCtx,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let (h, goals) = goal_service::of_agent(
        &state.db,
        &state.settings.billing,
        &v.scope,
        &path,
        v.actor.now,
    )
    .await?;
    let d = hired_agents::definition_of(&state.db, &h).await?;
    let mut cards: Vec<GoalCard> = goals
        .iter()
        .map(|g| goal_card(&d, &h, g, v.actor.now))
        .collect();
    attach_recent(&state, &v, &h.id, &mut cards).await?;
    render(
        StatusCode::OK,
        &GoalsTab {
            ctx,
            head: Head::of(&h, &v, "goals"),
            goals: cards,
            templates: template_cards(&d),
            enabled_goals: h.enabled_goals,
        },
    )
}

#[derive(Template)]
#[template(path = "agents/goal_page.html")]
struct GoalPage {
    ctx: PageCtx,
    head: Head,
    form: GoalForm,
}

#[derive(Template)]
#[template(path = "agents/_goal_form.html")]
struct GoalFormFragment {
    ctx: PageCtx,
    form: GoalForm,
    /// Inside a card of the list (editing in place) rather than the "add" slot.
    in_card: bool,
}

#[derive(Template)]
#[template(path = "agents/_goal_card.html")]
struct GoalCardFragment {
    ctx: PageCtx,
    head: Head,
    g: GoalCard,
    /// Also empty the "add" slot (after a new goal was added there).
    clear_slot: bool,
}

/// A goal's card as an htmx answer.
async fn card(
    state: &AppState,
    ctx: PageCtx,
    d: &Definition,
    h: &HiredAgent,
    g: &Goal,
    v: &Viewer,
    clear_slot: bool,
) -> AppResult<HttpResponse> {
    let mut cards = [goal_card(d, h, g, v.actor.now)];
    attach_recent(state, v, &h.id, &mut cards).await?;
    let [g] = cards;
    render(
        StatusCode::OK,
        &GoalCardFragment {
            ctx,
            g,
            head: Head::of(h, v, "goals"),
            clear_slot,
        },
    )
}

#[derive(Deserialize)]
struct NewQuery {
    #[serde(default)]
    template: String,
    #[serde(default)]
    from: String,
}

fn require_edit(v: &Viewer, h: &HiredAgent) -> AppResult<()> {
    if !v.can_write {
        return Err(AppError::forbidden(
            ErrorCode::ReadOnly,
            "Viewers can look at everything but change nothing.",
        ));
    }
    hired_agents::check_writable(h)
}

/// Answers with the form: a fragment for htmx, else the whole page.
#[allow(clippy::too_many_arguments)]
fn show_form(
    req: &HttpRequest,
    ctx: PageCtx,
    head: Head,
    form: GoalForm,
    status: StatusCode,
    in_card: bool,
) -> AppResult<HttpResponse> {
    if wants_fragment(req) {
        let mut res = render(status, &GoalFormFragment { ctx, form, in_card })?;
        if !in_card {
            // Errors of a new goal go back into the "add" slot, whatever the form targeted.
            res.headers_mut().insert(
                actix_web::http::header::HeaderName::from_static("hx-retarget"),
                actix_web::http::header::HeaderValue::from_static("#goal-form-slot"),
            );
            res.headers_mut().insert(
                actix_web::http::header::HeaderName::from_static("hx-reswap"),
                actix_web::http::header::HeaderValue::from_static("innerHTML"),
            );
        }
        return Ok(res);
    }
    render(status, &GoalPage { ctx, head, form })
}

async fn new_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    v: Viewer,
    ctx: PageCtx,
    path: web::Path<String>,
    q: web::Query<NewQuery>,
) -> AppResult<HttpResponse> {
    let h = load(&state, &v, &path).await?;
    require_edit(&v, &h)?;
    let d = hired_agents::definition_of(&state.db, &h).await?;
    let t = d.template(&q.template).ok_or(AppError::NotFound)?;
    let form = form_for(
        v.base,
        &h,
        t,
        None,
        &GoalInput {
            settings: Value::Object(Default::default()),
            frequency: t.default_frequency.clone(),
            ..GoalInput::default()
        },
        vec![],
        &q.from,
    );
    let mut res = show_form(
        &req,
        ctx,
        Head::of(&h, &v, "goals"),
        form,
        StatusCode::OK,
        false,
    )?;
    res.headers_mut().remove("hx-retarget");
    res.headers_mut().remove("hx-reswap");
    Ok(res)
}

/// Reads a goal form as the service's input.
fn read(t: &GoalTemplate, goal: Option<&Goal>, pairs: &[(String, String)]) -> GoalInput {
    let form = Submitted::new(pairs);
    let previous = goal.map(|g| g.settings.0.clone()).unwrap_or(Value::Null);
    let settings = forms::parse(&t.settings_schema.fields, PREFIX, &form, &previous);
    GoalInput {
        goal_instance_id: goal.map(|g| g.id.clone()),
        goal_template_id: t.goal_template_id.clone(),
        frequency: form.text("frequency").to_string(),
        settings,
        enabled: Some(form.checked("enabled")),
        row_version: form.first("_row_version").and_then(|v| v.parse().ok()),
    }
}

#[derive(Deserialize)]
struct FromQuery {
    #[serde(default)]
    from: String,
}

fn back_to(v: &Viewer, h: &HiredAgent, from: &str) -> String {
    if from == "wizard" && !v.staff {
        format!("/portal/subscriptions/{}/setup?step=4", h.subscription_id)
    } else {
        format!("{}/{}/goals", v.base, h.id)
    }
}

#[allow(clippy::too_many_arguments)]
async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    v: Viewer,
    ctx: PageCtx,
    path: web::Path<String>,
    q: web::Query<FromQuery>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<HttpResponse> {
    let h = load(&state, &v, &path).await?;
    require_edit(&v, &h)?;
    let d = hired_agents::definition_of(&state.db, &h).await?;
    let template_id = Submitted::new(&pairs).text("goal_template_id").to_string();
    let Some(t) = d.template(&template_id) else {
        return Err(AppError::invalid(vec![Violation::new(
            "goal_template_id",
            "Choose one of this agent's goal templates.",
        )]));
    };
    let input = read(t, None, &pairs);
    let r = goal_service::upsert(
        &state.db,
        &state.settings.billing,
        &v.actor,
        &v.scope,
        &h.id,
        &input,
    )
    .await;
    match r {
        Ok(g) => {
            if wants_fragment(&req) {
                let h = load(&state, &v, &h.id).await?;
                return card(&state, ctx, &d, &h, &g, &v, true).await;
            }
            flash(&req, "success", format!("Goal added: {}.", t.name));
            Ok(see_other(&back_to(&v, &h, &q.from)))
        }
        Err(AppError::Invalid { violations, .. }) => {
            let form = form_for(v.base, &h, t, None, &input, violations, &q.from);
            show_form(
                &req,
                ctx,
                Head::of(&h, &v, "goals"),
                form,
                StatusCode::UNPROCESSABLE_ENTITY,
                false,
            )
        }
        Err(e) => Err(e),
    }
}

async fn goal_of(state: &AppState, h: &HiredAgent, goal_id: &str) -> AppResult<Goal> {
    let mut c = state.db.acquire().await?;
    crate::db::hired_agents::goal(c.conn(), goal_id)
        .await?
        .filter(|g| g.hired_agent_id == h.id && g.deleted_at.is_none())
        .ok_or(AppError::NotFound)
}

async fn edit_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    v: Viewer,
    ctx: PageCtx,
    path: web::Path<(String, String)>,
    q: web::Query<FromQuery>,
) -> AppResult<HttpResponse> {
    let (id, goal_id) = path.into_inner();
    let h = load(&state, &v, &id).await?;
    require_edit(&v, &h)?;
    let g = goal_of(&state, &h, &goal_id).await?;
    let d = hired_agents::definition_of(&state.db, &h).await?;
    let t = d.template(&g.goal_template_id).ok_or(AppError::NotFound)?;
    let form = form_for(
        v.base,
        &h,
        t,
        Some(&g),
        &GoalInput {
            settings: g.settings.0.clone(),
            frequency: g.frequency.clone(),
            enabled: Some(g.enabled),
            ..GoalInput::default()
        },
        vec![],
        &q.from,
    );
    show_form(
        &req,
        ctx,
        Head::of(&h, &v, "goals"),
        form,
        StatusCode::OK,
        true,
    )
}

#[allow(clippy::too_many_arguments)]
async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    v: Viewer,
    ctx: PageCtx,
    path: web::Path<(String, String)>,
    q: web::Query<FromQuery>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<HttpResponse> {
    let (id, goal_id) = path.into_inner();
    let h = load(&state, &v, &id).await?;
    require_edit(&v, &h)?;
    let g = goal_of(&state, &h, &goal_id).await?;
    let d = hired_agents::definition_of(&state.db, &h).await?;
    let t = d.template(&g.goal_template_id).ok_or(AppError::NotFound)?;
    let input = read(t, Some(&g), &pairs);
    let r = goal_service::upsert(
        &state.db,
        &state.settings.billing,
        &v.actor,
        &v.scope,
        &h.id,
        &input,
    )
    .await;
    let head = Head::of(&h, &v, "goals");
    match r {
        Ok(saved) => {
            if wants_fragment(&req) {
                return card(&state, ctx, &d, &h, &saved, &v, false).await;
            }
            flash(&req, "success", format!("Goal saved: {}.", t.name));
            Ok(see_other(&back_to(&v, &h, &q.from)))
        }
        Err(AppError::Invalid { violations, .. }) => {
            let form = form_for(v.base, &h, t, Some(&g), &input, violations, &q.from);
            show_form(
                &req,
                ctx,
                head,
                form,
                StatusCode::UNPROCESSABLE_ENTITY,
                true,
            )
        }
        Err(AppError::Conflict {
            code: ErrorCode::ChangedMeanwhile,
            message,
        }) => {
            // Their version is saved; the form keeps what this person typed, based on it.
            let now = goal_of(&state, &h, &goal_id).await?;
            let mut form = form_for(v.base, &h, t, Some(&now), &input, vec![], &q.from);
            form.conflict_message = format!(
                "{message} Saved now: {} · {}.",
                crate::domain::schedule::Frequency::parse(&now.frequency)
                    .map(|f| f.label())
                    .unwrap_or("?"),
                goal_card(&d, &h, &now, v.actor.now)
                    .settings
                    .iter()
                    .map(|(k, x)| format!("{k}: {x}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            show_form(&req, ctx, head, form, StatusCode::CONFLICT, true)
        }
        Err(e) => Err(e),
    }
}

async fn toggle(
    req: HttpRequest,
    state: web::Data<AppState>,
    v: Viewer,
    ctx: PageCtx,
    path: web::Path<(String, String)>,
    q: web::Query<FromQuery>,
) -> AppResult<HttpResponse> {
    let (id, goal_id) = path.into_inner();
    let h = load(&state, &v, &id).await?;
    require_edit(&v, &h)?;
    let g = goal_of(&state, &h, &goal_id).await?;
    let d = hired_agents::definition_of(&state.db, &h).await?;
    let saved = goal_service::upsert(
        &state.db,
        &state.settings.billing,
        &v.actor,
        &v.scope,
        &h.id,
        &GoalInput {
            goal_instance_id: Some(g.id.clone()),
            goal_template_id: g.goal_template_id.clone(),
            frequency: g.frequency.clone(),
            settings: g.settings.0.clone(),
            enabled: Some(!g.enabled),
            row_version: Some(g.row_version),
        },
    )
    .await?;
    if wants_fragment(&req) {
        return card(&state, ctx, &d, &h, &saved, &v, false).await;
    }
    flash(
        &req,
        "success",
        if saved.enabled {
            "Goal enabled."
        } else {
            "Goal disabled: it generates nothing until enabled again."
        },
    );
    Ok(see_other(&back_to(&v, &h, &q.from)))
}

async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    v: Viewer,
    path: web::Path<(String, String)>,
    q: web::Query<FromQuery>,
) -> AppResult<HttpResponse> {
    let (id, goal_id) = path.into_inner();
    let h = load(&state, &v, &id).await?;
    require_edit(&v, &h)?;
    goal_service::delete(
        &state.db,
        &state.settings.billing,
        &v.actor,
        &v.scope,
        &h.id,
        &goal_id,
    )
    .await?;
    if wants_fragment(&req) {
        return Ok(HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .body(""));
    }
    flash(
        &req,
        "success",
        "Goal deleted. What it already produced is kept.",
    );
    Ok(see_other(&back_to(&v, &h, &q.from)))
}

#[derive(Deserialize)]
struct TemplateQuery {
    template: String,
}

/// Live validation of a goal's settings as a field is left.
async fn validate(
    state: web::Data<AppState>,
    v: Viewer,
    path: web::Path<String>,
    q: web::Query<TemplateQuery>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<HttpResponse> {
    let h = load(&state, &v, &path).await?;
    let d = hired_agents::definition_of(&state.db, &h).await?;
    let t = d.template(&q.template).ok_or(AppError::NotFound)?;
    let settings = forms::parse(
        &t.settings_schema.fields,
        PREFIX,
        &Submitted::new(&pairs),
        &Value::Null,
    );
    let errors = schema::validate(&t.settings_schema, &settings, Mode::Draft);
    live_errors(&t.settings_schema.fields, PREFIX, &errors)
}

/// "Run now" on an on-demand goal: one draft per submitted form (its one-time key), then its page.
async fn run_now(
    state: web::Data<AppState>,
    req: HttpRequest,
    v: Viewer,
    path: web::Path<(String, String)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<HttpResponse> {
    let (id, goal_id) = path.into_inner();
    if !v.can_write {
        return Err(AppError::forbidden(
            ErrorCode::ReadOnly,
            "Viewers can look at everything but change nothing.",
        ));
    }
    let key = Submitted::new(&pairs).text("_key").to_string();
    let r = crate::service::generation::run_now(
        &state.db,
        &state.settings.billing,
        &v.actor,
        &v.scope,
        &id,
        &goal_id,
        Some(key.as_str()).filter(|k| !k.is_empty()),
    )
    .await;
    let prefix = if v.staff { "/admin" } else { "/portal" };
    match r {
        Ok(report) => {
            let first = report.deliverable_ids.first().cloned().unwrap_or_default();
            flash(
                &req,
                "success",
                "A new draft is ready: review it below before anything is executed.",
            );
            Ok(see_other(&format!("{prefix}/deliverables/{first}")))
        }
        Err(AppError::Conflict { message, .. }) => {
            flash(&req, "error", message);
            Ok(see_other(&format!("{}/{id}/goals", v.base)))
        }
        Err(e) => Err(e),
    }
}
