//! The setup wizard (`/portal/subscriptions/{id}/setup`), right after checkout and resumable at
//! any time: 1 nickname, 2 theme, 3 configuration, 4 goals, 5 review and "Activate trial". Each
//! step saves a draft; coming back opens the first unfinished step.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use serde_json::Value;

use super::config::{self, ConfigForm, Part};
use super::goals::{TemplateCard, template_cards};
use super::{GoalCard, Head, Viewer, goal_card, value_words};
use crate::db::hired_agents::HiredAgent;
use crate::domain::definition::Definition;
use crate::domain::hired_agent::{
    Missing, TrialStatus, WIZARD_STEPS, first_unfinished_step, is_credential_map,
};
use crate::error::{AppError, AppResult, Violation};
use crate::service::hired_agents::{self, Edit};
use crate::service::{catalog, goals as goal_service, subscriptions};
use crate::web::AppState;
use crate::web::auth::CustomerUser;
use crate::web::forms::Form;
use crate::web::pages::{PageCtx, flash, render, see_other};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/portal/subscriptions/{id}/setup").get(page))
        .service(web::resource("/portal/subscriptions/{id}/setup/{step}").post(submit))
        .service(web::resource("/portal/subscriptions/{id}/setup/{step}/validate").post(validate));
}

pub struct StepLink {
    pub n: u8,
    pub label: &'static str,
    /// done | current | todo
    pub state: &'static str,
    pub href: String,
}

pub struct Review {
    pub lines: Vec<(String, String)>,
    pub missing: Vec<Missing>,
    pub trial_running: bool,
    pub trial_ended: bool,
    pub trial_label: String,
}

#[derive(Template)]
#[template(path = "agents/wizard.html")]
struct WizardPage {
    ctx: PageCtx,
    sub_id: String,
    type_name: String,
    version: String,
    step: u8,
    step_label: &'static str,
    steps: Vec<StepLink>,
    head: Option<Head>,
    form: Option<ConfigForm>,
    goals: Vec<GoalCard>,
    templates: Vec<TemplateCard>,
    goals_error: String,
    review: Option<Review>,
    read_only: bool,
}

fn viewer(user: &CustomerUser) -> Viewer {
    Viewer {
        actor: user.actor.clone(),
        scope: user.scope(),
        staff: false,
        can_write: true,
        base: "/portal/agents",
    }
}

struct Loaded {
    sub: subscriptions::Row,
    definition: Definition,
    agent: Option<HiredAgent>,
}

async fn load(state: &AppState, v: &Viewer, sub_id: &str) -> AppResult<Loaded> {
    let b = &state.settings.billing;
    let sub = subscriptions::get(&state.db, b, &v.scope, sub_id, v.actor.now).await?;
    let agent = hired_agents::by_subscription(&state.db, b, &v.scope, sub_id, v.actor.now).await?;
    let definition = catalog::get(&state.db, &sub.agent_type_id, &sub.agent_type_version)
        .await?
        .ok_or(AppError::NotFound)?
        .definition;
    Ok(Loaded {
        sub,
        definition,
        agent,
    })
}

fn resume_step(h: Option<&HiredAgent>) -> u8 {
    match h {
        None => 1,
        Some(h) if h.trial_status != TrialStatus::NotStarted.as_str() => 5,
        Some(h) => first_unfinished_step(
            h.nickname.as_deref(),
            h.theme.as_deref(),
            h.configured,
            h.goals_completed && h.goals_confirmed,
        ),
    }
}

fn part_of(step: u8) -> Option<Part> {
    match step {
        1 => Some(Part::Nickname),
        2 => Some(Part::Theme),
        3 => Some(Part::Config),
        _ => None,
    }
}

fn step_form(
    l: &Loaded,
    v: &Viewer,
    step: u8,
    value: &Value,
    errors: Vec<Violation>,
) -> Option<ConfigForm> {
    let part = part_of(step)?;
    let url = format!("/portal/subscriptions/{}/setup/{step}", l.sub.id);
    let mut f = config::form_view(
        &l.definition,
        part,
        value,
        errors,
        l.agent.as_ref().map(|h| h.row_version),
        url.clone(),
        format!("{url}/validate"),
        "Save and continue",
        !v.can_write || l.sub.status != "active",
    );
    f.hidden.push(("step".into(), step.to_string()));
    Some(f)
}

/// The stored configuration in words, for the review (secrets only said to be stored).
fn review_lines(d: &Definition, h: &HiredAgent) -> Vec<(String, String)> {
    let value = config::current_value(Some(h));
    d.config_schema
        .fields
        .iter()
        .map(|f| {
            let v = value.get(&f.key);
            let words = match v {
                None => "— (not set)".to_string(),
                Some(_) if f.secret_ref => "A stored secret".into(),
                Some(Value::Object(m)) if is_credential_map(f) => {
                    let keys: Vec<&str> = m.keys().map(String::as_str).collect();
                    format!("Stored secrets for {}", keys.join(", "))
                }
                Some(x) => value_words(x),
            };
            (f.label.clone(), words)
        })
        .collect()
}

async fn view(
    state: &AppState,
    v: &Viewer,
    ctx: PageCtx,
    l: Loaded,
    step: u8,
    form: Option<ConfigForm>,
    goals_error: String,
) -> AppResult<WizardPage> {
    let resume = resume_step(l.agent.as_ref());
    let steps = WIZARD_STEPS
        .iter()
        .enumerate()
        .map(|(i, label)| {
            let n = i as u8 + 1;
            StepLink {
                n,
                label,
                state: if n == step {
                    "current"
                } else if n < resume {
                    "done"
                } else {
                    "todo"
                },
                href: format!("/portal/subscriptions/{}/setup?step={n}", l.sub.id),
            }
        })
        .collect();
    let (goals, review) = match (&l.agent, step) {
        (Some(h), 4 | 5) => {
            let (_, gs) = goal_service::of_agent(
                &state.db,
                &state.settings.billing,
                &v.scope,
                &h.id,
                v.actor.now,
            )
            .await?;
            let cards = gs
                .iter()
                .map(|g| goal_card(&l.definition, h, g, v.actor.now))
                .collect();
            let review = (step == 5).then(|| {
                let head = Head::of(h, v, "overview");
                Review {
                    lines: review_lines(&l.definition, h),
                    missing: hired_agents::trial_blockers(&l.definition, h),
                    trial_running: head.trial_running(),
                    trial_ended: head.trial_ended(),
                    trial_label: head.trial_label,
                }
            });
            (cards, review)
        }
        _ => (vec![], None),
    };
    let form = match form {
        Some(f) => Some(f),
        None => step_form(
            &l,
            v,
            step,
            &config::current_value(l.agent.as_ref()),
            vec![],
        ),
    };
    Ok(WizardPage {
        ctx,
        sub_id: l.sub.id.clone(),
        type_name: l.definition.name().to_string(),
        version: l.sub.agent_type_version.clone(),
        step,
        step_label: WIZARD_STEPS[(step - 1) as usize],
        steps,
        head: l.agent.as_ref().map(|h| Head::of(h, v, "goals")),
        form,
        goals,
        templates: template_cards(&l.definition),
        goals_error,
        review,
        read_only: l.sub.status != "active",
    })
}

#[derive(Deserialize)]
struct StepQuery {
    step: Option<u8>,
}

async fn page(
    state: web::Data<AppState>,
    user: CustomerUser,
    ctx: PageCtx,
    path: web::Path<String>,
    q: web::Query<StepQuery>,
) -> AppResult<HttpResponse> {
    let v = viewer(&user);
    let l = load(&state, &v, &path).await?;
    let step = match (q.step, &l.agent) {
        // Before the first save only the nickname step exists.
        (_, None) => 1,
        (Some(n), Some(_)) if (1..=5).contains(&n) => n,
        _ => resume_step(l.agent.as_ref()),
    };
    render(
        StatusCode::OK,
        &view(&state, &v, ctx, l, step, None, String::new()).await?,
    )
}

async fn submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: CustomerUser,
    ctx: PageCtx,
    path: web::Path<(String, u8)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<HttpResponse> {
    let (sub_id, step) = path.into_inner();
    let v = viewer(&user);
    let l = load(&state, &v, &sub_id).await?;
    let next = format!("/portal/subscriptions/{sub_id}/setup?step={}", step + 1);
    if step == 4 {
        let Some(h) = &l.agent else {
            return Ok(see_other(&format!("/portal/subscriptions/{sub_id}/setup")));
        };
        if h.enabled_goals == 0 {
            let page = view(
                &state,
                &v,
                ctx,
                l,
                4,
                None,
                "Add at least one goal (and keep it enabled) before you continue.".into(),
            )
            .await?;
            return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
        hired_agents::save(
            &state.db,
            &state.keys,
            &state.settings.billing,
            &v.actor,
            &v.scope,
            &h.id,
            Edit {
                goals_confirmed: Some(true),
                ..Edit::default()
            },
        )
        .await?;
        return Ok(see_other(&next));
    }
    let Some(part) = part_of(step) else {
        return Err(AppError::NotFound);
    };
    if let Some(op) = crate::domain::form_rows::requested(&pairs) {
        let pairs = crate::domain::form_rows::apply(&pairs, &op);
        let sub = config::read(&l.definition, part, l.agent.as_ref(), &pairs);
        let form = step_form(&l, &v, step, &sub.value, vec![]);
        return render(
            StatusCode::OK,
            &view(&state, &v, ctx, l, step, form, String::new()).await?,
        );
    }
    let sub = config::read(&l.definition, part, l.agent.as_ref(), &pairs);
    let typed = sub.value.clone();
    let r = hired_agents::save_for_subscription(
        &state.db,
        &state.keys,
        &state.settings.billing,
        &v.actor,
        &v.scope,
        &sub_id,
        sub.edit,
    )
    .await;
    match r {
        Ok(saved) => {
            if step == 3 && !saved.agent.configured {
                flash(
                    &req,
                    "info",
                    format!(
                        "Draft saved. {} required value{} still to fill in before the trial can start; you can come back to this step at any time.",
                        saved.missing.len().max(1),
                        if saved.missing.len() == 1 {
                            " is"
                        } else {
                            "s are"
                        }
                    ),
                );
            }
            Ok(see_other(&next))
        }
        Err(e) => match config::refusal(e)? {
            config::Refusal::Invalid(errors) => {
                let form = step_form(&l, &v, step, &typed, errors);
                render(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    &view(&state, &v, ctx, l, step, form, String::new()).await?,
                )
            }
            config::Refusal::Conflict => {
                let l = load(&state, &v, &sub_id).await?;
                let theirs = l.agent.clone().ok_or(AppError::NotFound)?;
                let mut form = step_form(&l, &v, step, &typed, vec![]).ok_or(AppError::NotFound)?;
                form.conflict = config::conflict_lines(&l.definition, part, &theirs, &typed);
                form.conflict_message = hired_agents::CHANGED_MEANWHILE.into();
                render(
                    StatusCode::CONFLICT,
                    &view(&state, &v, ctx, l, step, Some(form), String::new()).await?,
                )
            }
        },
    }
}

async fn validate(
    state: web::Data<AppState>,
    user: CustomerUser,
    path: web::Path<(String, u8)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<HttpResponse> {
    let (sub_id, step) = path.into_inner();
    let v = viewer(&user);
    let l = load(&state, &v, &sub_id).await?;
    let part = part_of(step).ok_or(AppError::NotFound)?;
    config::live(&l.definition, part, l.agent.as_ref(), &pairs)
}
