//! Goals of a hired agent (SPEC §6): a template of the pinned version, a frequency it allows, and
//! settings validated by the same engine as configurations. Deleting keeps the row (its
//! deliverables stay); the agent's `goals_completed` is recomputed in the same transaction.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::types::Json;

use crate::db::Db;
use crate::db::audit::{self, Change};
use crate::db::hired_agents::{self, Goal, HiredAgent};
use crate::domain::actor::{Actor, Scope};
use crate::domain::billing::settings::BillingSettings;
use crate::domain::definition::{Definition, GoalTemplate};
use crate::domain::ids::new_id;
use crate::domain::schedule::{self, Frequency};
use crate::domain::schema::{self, Mode};
use crate::error::{AppError, AppResult, ErrorCode, Violation};
use crate::service::hired_agents::{self as agents, definition_of};

/// A new goal, or a change to one (`goal_instance_id`).
#[derive(Debug, Clone, Default)]
pub struct GoalInput {
    pub goal_instance_id: Option<String>,
    pub goal_template_id: String,
    /// As typed: trimmed and lower-cased here.
    pub frequency: String,
    pub settings: Value,
    pub enabled: Option<bool>,
    /// The version the editor started from (`None` overwrites).
    pub row_version: Option<i64>,
}

pub const GOAL_CHANGED_MEANWHILE: &str = "This goal was changed by someone else since you opened it. Their version is shown below; your entries are kept so you can apply them again.";

/// The frequencies a template allows (all four when it does not say).
pub fn allowed_frequencies(t: &GoalTemplate) -> Vec<Frequency> {
    let all = [
        Frequency::Daily,
        Frequency::Weekly,
        Frequency::Monthly,
        Frequency::OnDemand,
    ];
    match &t.allowed_frequencies {
        Some(list) if !list.is_empty() => all
            .into_iter()
            .filter(|f| list.iter().any(|x| x == f.as_str()))
            .collect(),
        _ => all.to_vec(),
    }
}

/// Everything wrong with a goal for this definition; settings paths are prefixed `settings.`.
pub fn check(definition: &Definition, input: &GoalInput) -> (Vec<Violation>, Value) {
    let mut out = vec![];
    let template = definition.template(input.goal_template_id.trim());
    let Some(t) = template else {
        out.push(Violation::new(
            "goal_template_id",
            format!(
                "{} is not a goal of {} {}.",
                if input.goal_template_id.trim().is_empty() {
                    "(none)"
                } else {
                    input.goal_template_id.trim()
                },
                definition.name(),
                definition.version
            ),
        ));
        return (out, input.settings.clone());
    };
    let allowed = allowed_frequencies(t);
    match Frequency::parse(&input.frequency.trim().to_lowercase()) {
        None => out.push(Violation::new(
            "frequency",
            "Frequency must be daily, weekly, monthly or on demand.",
        )),
        Some(f) if !allowed.contains(&f) => out.push(Violation::new(
            "frequency",
            format!(
                "{} allows only: {}.",
                t.name,
                allowed
                    .iter()
                    .map(|f| f.label().to_lowercase())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
        Some(_) => {}
    }
    if !input.settings.is_object() {
        out.push(Violation::new(
            "settings",
            "The settings must be a JSON object.",
        ));
        return (out, input.settings.clone());
    }
    let settings = schema::with_defaults(&t.settings_schema.fields, &input.settings);
    for v in schema::validate(&t.settings_schema, &settings, Mode::Complete) {
        out.push(Violation::new(
            crate::domain::paths::join("settings", &v.path),
            v.message,
        ));
    }
    (out, settings)
}

/// A hired agent's live goals, with the agent (read within the scope, 410 past retention).
pub async fn of_agent(
    db: &Db,
    settings: &BillingSettings,
    scope: &Scope,
    hired_agent_id: &str,
    now: DateTime<Utc>,
) -> AppResult<(HiredAgent, Vec<Goal>)> {
    let h = agents::get(db, settings, scope, hired_agent_id, now).await?;
    let mut c = db.acquire().await?;
    let goals = hired_agents::goals_of(c.conn(), &h.id).await?;
    Ok((h, goals))
}

/// Creates or changes a goal. One transaction: the goal, the agent's `goals_completed`, the audit.
pub async fn upsert(
    db: &Db,
    settings: &BillingSettings,
    actor: &Actor,
    scope: &Scope,
    hired_agent_id: &str,
    input: &GoalInput,
) -> AppResult<Goal> {
    let mut tx = db.begin().await?;
    let (h, actor) = agents::for_write(tx.conn(), settings, actor, scope, hired_agent_id).await?;
    let definition = definition_of(db, &h).await?;
    let (problems, goal_settings) = check(&definition, input);
    if !problems.is_empty() {
        return Err(AppError::invalid(problems));
    }
    let frequency = input.frequency.trim().to_lowercase();
    let template_id = input.goal_template_id.trim().to_string();
    let requested = input
        .goal_instance_id
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let existing = match requested {
        Some(id) => hired_agents::goal(tx.conn(), id).await?,
        None => None,
    };
    let (before, goal_id, action) = match existing {
        Some(g) if g.hired_agent_id != h.id || g.deleted_at.is_some() => {
            return Err(AppError::NotFound);
        }
        Some(g) => {
            if input.row_version.is_some_and(|v| v != g.row_version)
                || !hired_agents::update_goal(
                    tx.conn(),
                    &g.id,
                    g.row_version,
                    &template_id,
                    &frequency,
                    &goal_settings,
                    input.enabled.unwrap_or(g.enabled),
                    actor.now,
                )
                .await?
            {
                return Err(AppError::Conflict {
                    code: ErrorCode::ChangedMeanwhile,
                    message: GOAL_CHANGED_MEANWHILE.into(),
                });
            }
            (Some(g.audit_json()), g.id.clone(), "goal.updated")
        }
        None => {
            let id = match requested {
                Some(r) if valid_client_id(r) => r.to_string(),
                Some(_) => {
                    return Err(AppError::invalid(vec![Violation::new(
                        "goal_instance_id",
                        "A new goal's id may use letters, digits, '-' and '_' (at most 100).",
                    )]));
                }
                None => new_id("GOI"),
            };
            hired_agents::insert_goal(
                tx.conn(),
                &Goal {
                    id: id.clone(),
                    hired_agent_id: h.id.clone(),
                    customer_id: h.customer_id.clone(),
                    goal_template_id: template_id.clone(),
                    frequency: frequency.clone(),
                    settings: Json(goal_settings.clone()),
                    enabled: input.enabled.unwrap_or(true),
                    row_version: 1,
                    deleted_at: None,
                    created_at: actor.now,
                    updated_at: actor.now,
                },
            )
            .await?;
            (None, id, "goal.created")
        }
    };
    let enabled = hired_agents::enabled_goal_count(tx.conn(), &h.id).await?;
    hired_agents::set_goals_completed(tx.conn(), &h.id, enabled > 0, actor.now).await?;
    let after = hired_agents::goal(tx.conn(), &goal_id)
        .await?
        .ok_or(AppError::NotFound)?;
    audit::record(
        tx.conn(),
        &actor,
        Change {
            entity_type: "goal",
            entity_id: &goal_id,
            action,
            before,
            after: Some(after.audit_json()),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

fn valid_client_id(id: &str) -> bool {
    id.len() <= 100
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Deletes a goal (kept as deleted); false when it was already deleted.
pub async fn delete(
    db: &Db,
    settings: &BillingSettings,
    actor: &Actor,
    scope: &Scope,
    hired_agent_id: &str,
    goal_id: &str,
) -> AppResult<bool> {
    let mut tx = db.begin().await?;
    let (h, actor) = agents::for_write(tx.conn(), settings, actor, scope, hired_agent_id).await?;
    let Some(g) = hired_agents::goal(tx.conn(), goal_id).await? else {
        return Ok(false);
    };
    if g.hired_agent_id != h.id {
        return Err(AppError::NotFound);
    }
    if !hired_agents::delete_goal(tx.conn(), &g.id, actor.now).await? {
        return Ok(false);
    }
    let enabled = hired_agents::enabled_goal_count(tx.conn(), &h.id).await?;
    hired_agents::set_goals_completed(tx.conn(), &h.id, enabled > 0, actor.now).await?;
    audit::record(
        tx.conn(),
        &actor,
        Change {
            entity_type: "goal",
            entity_id: &g.id,
            action: "goal.deleted",
            before: Some(g.audit_json()),
            after: None,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// When a goal is next due, in the agent's timezone (`config.timezone`, UTC when missing or
/// invalid); `None` for on-demand goals and disabled ones.
pub fn next_due(h: &HiredAgent, g: &Goal, now: DateTime<Utc>) -> Option<DateTime<chrono_tz::Tz>> {
    if !g.enabled {
        return None;
    }
    let tz = schedule::timezone(h.config.0.get("timezone").and_then(Value::as_str));
    let f = Frequency::parse(&g.frequency)?;
    schedule::next_due(f, now, tz).map(|t| t.with_timezone(&tz))
}
