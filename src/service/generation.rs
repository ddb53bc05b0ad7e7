//! Draft generation (SPEC §7): for each enabled goal of an active, unpaused, configured hired
//! agent whose subscription is active, one draft per period (the period key in the agent's
//! timezone), built by the deterministic payload builders. Goals are read in batches and each
//! batch of drafts is one INSERT; the unique (goal, period) key keeps it exactly-once with any
//! number of passes at once. On-demand goals are left to "run now".

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Value, json};

use crate::db::Db;
use crate::db::audit::{self, Change};
use crate::db::deliverables::{self, DueGoal, NewDraft};
use crate::db::hired_agents as db_agents;
use crate::domain::actor::{Actor, Scope};
use crate::domain::billing::settings::BillingSettings;
use crate::domain::definition::Definition;
use crate::domain::deliverable_payloads::{self as payloads, Inputs};
use crate::domain::ids::new_id;
use crate::domain::schedule::{self, Frequency};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::service::{catalog, checkout, hired_agents};

/// What one generation pass did.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct GenerationReport {
    pub generated: u64,
    pub deliverable_ids: Vec<String>,
    pub now: DateTime<Utc>,
}

/// Goals read per round trip.
const GOALS_PER_READ: i64 = 2_000;

/// The period a due goal owes a draft for at `now` (in its agent's timezone), or `None` when its
/// frequency has no periods.
pub fn period_of(g: &DueGoal, now: DateTime<Utc>) -> Option<String> {
    let frequency = Frequency::parse(&g.frequency)?;
    let tz = schedule::timezone(g.config.0.get("timezone").and_then(Value::as_str));
    schedule::period_key(frequency, now, tz)
}

/// The draft of a due goal at `now`, or `None` when its frequency has no periods or its template
/// is not in its version.
pub fn draft_for(g: &DueGoal, d: &Definition, now: DateTime<Utc>) -> Option<NewDraft> {
    draft_of_period(g, d, period_of(g, now)?)
}

/// The draft of a due goal for `period_key`, or `None` when its template is not in its version.
fn draft_of_period(g: &DueGoal, d: &Definition, period_key: String) -> Option<NewDraft> {
    let template = d.template(&g.goal_template_id)?;
    let built = payloads::build(&Inputs {
        goal_template_id: &g.goal_template_id,
        goal_instance_id: &g.id,
        skill_binding: template.skill_binding.as_deref(),
        config: &g.config.0,
        settings: &g.settings.0,
    });
    Some(NewDraft {
        id: new_id("DEL"),
        hired_agent_id: g.hired_agent_id.clone(),
        customer_id: g.customer_id.clone(),
        goal_instance_id: g.id.clone(),
        goal_template_id: g.goal_template_id.clone(),
        period_key,
        title: built.title,
        payload: built.payload,
    })
}

/// Generates every due draft at `now` (of one agent when `agent` is given).
///
/// Goals are read by id in batches; a batch's payloads are built only for the (goal, period) pairs
/// that have no draft yet, so a pass over goals already served costs reads, not payloads. A pass
/// over all agents starts at a random goal and wraps around: passes running at once mostly work
/// apart, and where they meet the unique (goal, period) key keeps every draft exactly once.
pub async fn run_due(
    db: &Db,
    now: DateTime<Utc>,
    agent: Option<&str>,
) -> AppResult<GenerationReport> {
    let mut report = GenerationReport {
        now,
        ..Default::default()
    };
    let mut definitions: HashMap<(String, String), Option<Definition>> = HashMap::new();
    let start = match agent {
        Some(_) => None,
        None => {
            let mut c = db.acquire().await?;
            deliverables::goal_id_at(c.conn(), rand::random::<f64>()).await?
        }
    };
    // (after, up to): from the start to the end, then from the beginning up to the start.
    let ranges = match start {
        Some(s) => vec![(s.clone(), None), (String::new(), Some(s))],
        None => vec![(String::new(), None)],
    };
    for (mut after, upto) in ranges {
        loop {
            let mut c = db.acquire().await?;
            let goals =
                deliverables::due_goals(c.conn(), agent, &after, upto.as_deref(), GOALS_PER_READ)
                    .await?;
            let Some(last) = goals.last() else { break };
            after = last.id.clone();
            let owed: Vec<(&DueGoal, String)> = goals
                .iter()
                .filter_map(|g| Some((g, period_of(g, now)?)))
                .collect();
            let pairs: Vec<(String, String)> = owed
                .iter()
                .map(|(g, p)| (g.id.clone(), p.clone()))
                .collect();
            let done = deliverables::existing_periods(c.conn(), &pairs).await?;
            drop(c);
            let mut drafts = Vec::with_capacity(owed.len());
            for (g, period) in owed {
                if done.contains(&(g.id.clone(), period.clone())) {
                    continue;
                }
                let key = (g.agent_type_id.clone(), g.agent_type_version.clone());
                if !definitions.contains_key(&key) {
                    let d = catalog::get(db, &key.0, &key.1)
                        .await?
                        .map(|v| v.definition);
                    definitions.insert(key.clone(), d);
                }
                if let Some(Some(d)) = definitions.get(&key)
                    && let Some(draft) = draft_of_period(g, d, period)
                {
                    drafts.push(draft);
                }
            }
            for chunk in drafts.chunks(deliverables::BATCH) {
                let mut c = db.acquire().await?;
                let ids = deliverables::insert_drafts(c.conn(), chunk, now).await?;
                report.generated += ids.len() as u64;
                report.deliverable_ids.extend(ids);
            }
            if (goals.len() as i64) < GOALS_PER_READ {
                break;
            }
        }
    }
    Ok(report)
}

/// "Run now" on an on-demand goal: one draft per request key. The key (the form's one-time key,
/// the API's `Idempotency-Key`) becomes the period key `on_demand:<key>`, so a double submit meets
/// the unique (goal, period) key and answers the draft the first request made.
pub async fn run_now(
    db: &Db,
    settings: &BillingSettings,
    actor: &Actor,
    scope: &Scope,
    hired_agent_id: &str,
    goal_instance_id: &str,
    key: Option<&str>,
) -> AppResult<GenerationReport> {
    let key = match key {
        Some(k) => checkout::idempotency_key(k)?,
        None => new_id("RUN"),
    };
    let agent = hired_agents::get(db, settings, scope, hired_agent_id, actor.now).await?;
    let goal = {
        let mut c = db.acquire().await?;
        db_agents::goal(c.conn(), goal_instance_id).await?
    }
    .filter(|g| g.hired_agent_id == agent.id && g.deleted_at.is_none())
    .ok_or(AppError::NotFound)?;
    hired_agents::check_writable(&agent)?;
    let refuse = |message: &str| {
        Err(AppError::conflict(
            ErrorCode::GoalNotRunnable,
            message.to_string(),
        ))
    };
    if goal.frequency != Frequency::OnDemand.as_str() {
        return refuse("This goal runs on its schedule; only on-demand goals run on request.");
    }
    if !goal.enabled {
        return refuse("This goal is disabled; enable it to run it.");
    }
    if !agent.active {
        return refuse("This hired agent is not active.");
    }
    if agent.paused {
        return refuse("This hired agent is paused; resume it to run its goals.");
    }
    if !agent.configured {
        return refuse("This hired agent is not configured yet; finish its configuration first.");
    }
    let definition = hired_agents::definition_of(db, &agent).await?;
    let template = definition
        .template(&goal.goal_template_id)
        .ok_or(AppError::NotFound)?;
    let built = payloads::build(&Inputs {
        goal_template_id: &goal.goal_template_id,
        goal_instance_id: &goal.id,
        skill_binding: template.skill_binding.as_deref(),
        config: &agent.config.0,
        settings: &goal.settings.0,
    });
    let period_key = format!("on_demand:{key}");
    let draft = NewDraft {
        id: new_id("DEL"),
        hired_agent_id: agent.id.clone(),
        customer_id: agent.customer_id.clone(),
        goal_instance_id: goal.id.clone(),
        goal_template_id: goal.goal_template_id.clone(),
        period_key: period_key.clone(),
        title: built.title,
        payload: built.payload,
    };
    let actor = actor.clone().on_behalf_if_staff(scope, &agent.customer_id);
    let mut tx = db.begin().await?;
    let ids =
        deliverables::insert_drafts(tx.conn(), std::slice::from_ref(&draft), actor.now).await?;
    let Some(id) = ids.into_iter().next() else {
        // The same request ran first: answer its draft.
        let id = deliverables::of_period(tx.conn(), &goal.id, &period_key)
            .await?
            .ok_or(AppError::NotFound)?;
        return Ok(GenerationReport {
            generated: 1,
            deliverable_ids: vec![id],
            now: actor.now,
        });
    };
    audit::record(
        tx.conn(),
        &actor,
        Change {
            entity_type: "deliverable",
            entity_id: &id,
            action: "deliverable.run_now",
            before: None,
            after: Some(json!({"goal_instance_id": goal.id, "title": draft.title})),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(GenerationReport {
        generated: 1,
        deliverable_ids: vec![id],
        now: actor.now,
    })
}
