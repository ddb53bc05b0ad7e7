//! Draft generation (SPEC §7): for each enabled goal of an active, unpaused, configured hired
//! agent whose subscription is active, one draft per period (the period key in the agent's
//! timezone), built by the deterministic payload builders. Goals are read in batches and each
//! batch of drafts is one INSERT; the unique (goal, period) key keeps it exactly-once with any
//! number of passes at once. On-demand goals are left to "run now".

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Value, json};

use crate::db::audit::{self, Change};
use crate::db::deliverables::{self, DueGoal, NewDraft};
use crate::db::hired_agents as db_agents;
use crate::db::{Conn, Db, PooledConn};
use crate::domain::actor::{Actor, Scope};
use crate::domain::billing::settings::BillingSettings;
use crate::domain::definition::Definition;
use crate::domain::deliverable_payloads::{self as payloads, Inputs};
use crate::domain::ids::{new_id, new_ordered_id};
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
    let tz = schedule::timezone(g.config.0.get("timezone").and_then(Value::as_str));
    schedule::period_key(Frequency::parse(&g.frequency)?, now, tz)
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
        id: new_ordered_id("DEL"),
        hired_agent_id: g.hired_agent_id.clone(),
        customer_id: g.customer_id.clone(),
        goal_instance_id: g.id.clone(),
        goal_template_id: g.goal_template_id.clone(),
        period_key,
        title: built.title,
        payload: built.payload,
    })
}

/// Goals per range a pass claims: at least this many, and a 64th of all goals once there are
/// more: ranges small enough that passes running at once finish close together.
const MIN_GOALS_PER_RANGE: i64 = 1_000;
const RANGES: i64 = 64;

/// Generates every due draft at `now` (of one agent when `agent` is given).
///
/// A pass over all agents cuts the goals, by id, into ranges and goes through them from a random
/// one, claiming each before working on it: on PostgreSQL a session advisory lock that another
/// pass running at the same time finds taken, so it skips that range instead of reading it again;
/// the lock lasts as long as the claiming pass (or its connection), so a range is skipped only
/// while the pass that took it is still working on it. Within a range, goals are read by id in
/// batches and payloads are built only for the (goal, period) pairs that have no draft yet. Claims
/// only save work: exactly-once is the unique (goal, period) key's.
pub async fn run_due(
    db: &Db,
    now: DateTime<Utc>,
    agent: Option<&str>,
) -> AppResult<GenerationReport> {
    let mut pass = Pass {
        now,
        definitions: HashMap::new(),
        report: GenerationReport {
            now,
            ..Default::default()
        },
    };
    let mut c = ClaimingConn {
        conn: Some(db.acquire().await?),
        claimed: false,
    };
    if let Some(agent) = agent {
        pass.range(c.conn(), Some(agent), "", None).await?;
        return Ok(pass.report);
    }
    let ranges = goal_ranges(c.conn()).await?;
    let first = rand::random_range(0..ranges.len());
    c.claimed = true;
    for i in 0..ranges.len() {
        let (after, upto) = &ranges[(first + i) % ranges.len()];
        if deliverables::claim_goal_range(c.conn(), range_key(after, upto.as_deref())).await? {
            pass.range(c.conn(), None, after, upto.as_deref()).await?;
        }
    }
    deliverables::release_goal_ranges(c.conn()).await?;
    c.claimed = false;
    Ok(pass.report)
}

/// A range of goal ids a pass claims: after the first id (exclusive; empty from the start), up
/// to the second (inclusive; `None` to the end).
pub type GoalRange = (String, Option<String>);

/// The ranges a pass over all agents cuts the goals into, in order: together every goal, each
/// goal in one.
pub async fn goal_ranges(mut c: Conn<'_>) -> AppResult<Vec<GoalRange>> {
    let total = deliverables::goal_count(c.reborrow()).await?;
    let size = MIN_GOALS_PER_RANGE.max((total + RANGES - 1) / RANGES);
    let mut ends = deliverables::goal_range_ends(c, size).await?;
    if ends.len() as i64 * size == total {
        // The last goal ends the last range, which runs to the end anyway.
        ends.pop();
    }
    let mut ranges = Vec::with_capacity(ends.len() + 1);
    let mut after = String::new();
    for end in ends {
        ranges.push((std::mem::replace(&mut after, end.clone()), Some(end)));
    }
    ranges.push((after, None));
    Ok(ranges)
}

/// The pass's connection. Its claims are released before it goes back to the pool; a pass that
/// stops half-way (an error, a dropped request) closes the connection instead, which releases them.
struct ClaimingConn {
    conn: Option<PooledConn>,
    claimed: bool,
}

impl ClaimingConn {
    fn conn(&mut self) -> Conn<'_> {
        self.conn.as_mut().expect("held until dropped").conn()
    }
}

impl Drop for ClaimingConn {
    fn drop(&mut self) {
        if self.claimed
            && let Some(PooledConn::Postgres(c)) = self.conn.take()
        {
            drop(c.detach());
        }
    }
}

/// The advisory-lock key of a range of goal ids: a stable 64-bit FNV-1a hash of its bounds, so
/// passes in different processes (and builds) name the same range alike.
pub fn range_key(after: &str, upto: Option<&str>) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in "agentdesk.drafts\0"
        .bytes()
        .chain(after.bytes())
        .chain([0u8, u8::from(upto.is_some())])
        .chain(upto.unwrap_or_default().bytes())
    {
        h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    h as i64
}

/// What one pass has made so far, and the agent type versions it has read.
struct Pass {
    now: DateTime<Utc>,
    /// By agent type, then version (`None`: not in the catalog).
    definitions: HashMap<String, HashMap<String, Option<Definition>>>,
    report: GenerationReport,
}

impl Pass {
    /// The definition of a due goal's agent type version, read once per pass.
    async fn definition(&mut self, c: Conn<'_>, g: &DueGoal) -> AppResult<Option<&Definition>> {
        let known = self
            .definitions
            .get(&g.agent_type_id)
            .is_some_and(|versions| versions.contains_key(&g.agent_type_version));
        if !known {
            let d = catalog::get_on(c, &g.agent_type_id, &g.agent_type_version)
                .await?
                .map(|v| v.definition);
            self.definitions
                .entry(g.agent_type_id.clone())
                .or_default()
                .insert(g.agent_type_version.clone(), d);
        }
        Ok(self.definitions[&g.agent_type_id][&g.agent_type_version].as_ref())
    }

    /// Makes the drafts owed by the due goals after `after` and up to `upto` (of one agent when
    /// `agent` is given).
    async fn range(
        &mut self,
        mut c: Conn<'_>,
        agent: Option<&str>,
        after: &str,
        upto: Option<&str>,
    ) -> AppResult<()> {
        let mut after = after.to_string();
        loop {
            let goals =
                deliverables::due_goals(c.reborrow(), agent, &after, upto, GOALS_PER_READ).await?;
            let Some(last) = goals.last() else { break };
            after = last.id.clone();
            // The goals stay whole until the batch is written: freeing them one by one between
            // the payloads' allocations made glibc's allocator slower (see docs/performance.md).
            let owed: Vec<(&DueGoal, String)> = goals
                .iter()
                .filter_map(|g| Some((g, period_of(g, self.now)?)))
                .collect();
            let done = {
                let pairs: Vec<(&str, &str)> = owed
                    .iter()
                    .map(|(g, p)| (g.id.as_str(), p.as_str()))
                    .collect();
                deliverables::existing_periods(c.reborrow(), &pairs).await?
            };
            let mut drafts = Vec::with_capacity(owed.len());
            for (g, period) in owed {
                if !done.is_empty() && done.contains(&(g.id.clone(), period.clone())) {
                    continue;
                }
                if let Some(d) = self.definition(c.reborrow(), g).await?
                    && let Some(draft) = draft_of_period(g, d, period)
                {
                    drafts.push(draft);
                }
            }
            for chunk in drafts.chunks(deliverables::BATCH) {
                let ids = deliverables::insert_drafts(c.reborrow(), chunk, self.now).await?;
                self.report.generated += ids.len() as u64;
                self.report.deliverable_ids.extend(ids);
            }
            if (goals.len() as i64) < GOALS_PER_READ {
                break;
            }
        }
        Ok(())
    }
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
        id: new_ordered_id("DEL"),
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
