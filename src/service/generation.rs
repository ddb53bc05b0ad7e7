//! Draft generation (SPEC §7): for each enabled goal of an active, unpaused, configured hired
//! agent whose subscription is active, one draft per period (the period key in the agent's
//! timezone), built by the deterministic payload builders. Goals are read in batches and each
//! batch of drafts is one INSERT; the unique (goal, period) key keeps it exactly-once with any
//! number of passes at once. On-demand goals are left to "run now".

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::db::Db;
use crate::db::deliverables::{self, DueGoal, NewDraft};
use crate::domain::definition::Definition;
use crate::domain::deliverable_payloads::{self as payloads, Inputs};
use crate::domain::ids::new_id;
use crate::domain::schedule::{self, Frequency};
use crate::error::AppResult;
use crate::service::catalog;

/// What one generation pass did.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct GenerationReport {
    pub generated: u64,
    pub deliverable_ids: Vec<String>,
    pub now: DateTime<Utc>,
}

/// Goals read per round trip.
const GOALS_PER_READ: i64 = 2_000;

/// The draft of a due goal at `now`, or `None` when its frequency has no periods or its template
/// is not in its version.
pub fn draft_for(g: &DueGoal, d: &Definition, now: DateTime<Utc>) -> Option<NewDraft> {
    let frequency = Frequency::parse(&g.frequency)?;
    let tz = schedule::timezone(g.config.0.get("timezone").and_then(Value::as_str));
    let period_key = schedule::period_key(frequency, now, tz)?;
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
    let mut after = String::new();
    loop {
        let goals = {
            let mut c = db.acquire().await?;
            deliverables::due_goals(c.conn(), agent, &after, GOALS_PER_READ).await?
        };
        let Some(last) = goals.last() else { break };
        after = last.id.clone();
        let mut drafts = Vec::with_capacity(goals.len());
        for g in &goals {
            let key = (g.agent_type_id.clone(), g.agent_type_version.clone());
            if !definitions.contains_key(&key) {
                let d = catalog::get(db, &key.0, &key.1)
                    .await?
                    .map(|v| v.definition);
                definitions.insert(key.clone(), d);
            }
            if let Some(Some(d)) = definitions.get(&key)
                && let Some(draft) = draft_for(g, d, now)
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
    Ok(report)
}
