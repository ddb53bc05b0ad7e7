//! Hired agents (SPEC §5): reading them within a scope, saving drafts of their configuration
//! (secrets stored as credentials on the way), the trial, pause and resume. Every write is one
//! transaction with its audit entry, refused with 409 unless the subscription is active, and
//! refused as "changed by someone else" when it was based on an older row version.

use chrono::{DateTime, Duration as Span, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::db::audit::{self, Change};
use crate::db::deliverables;
use crate::db::hired_agents::{self, Edited, Goal, HiredAgent, NewHiredAgent};
use crate::db::subscriptions;
use crate::db::{Conn, Db};
use crate::domain::actor::{Actor, Scope};
use crate::domain::billing::settings::BillingSettings;
use crate::domain::definition::{Definition, Schema};
use crate::domain::hired_agent::{
    self as rules, Missing, TRIAL_DAYS, TrialCheck, TrialStatus, full_config,
};
use crate::domain::ids::new_id;
use crate::domain::schema::{self, Mode};
use crate::error::{AppError, AppResult, ErrorCode, Violation};
use crate::keys::Keys;
use crate::service::catalog;
use crate::service::credentials;

pub use crate::db::hired_agents::HiredAgent as Row;

/// The message of an edit based on an old version (page and API).
pub const CHANGED_MEANWHILE: &str = "This agent was changed by someone else since you opened it. Their version is shown below; your entries are kept so you can apply them again.";

pub fn changed_meanwhile() -> AppError {
    AppError::Conflict {
        code: ErrorCode::ChangedMeanwhile,
        message: CHANGED_MEANWHILE.into(),
    }
}

/// When a canceled subscription's hired agent stops being readable.
pub fn retention_expires_at(h: &HiredAgent, settings: &BillingSettings) -> Option<DateTime<Utc>> {
    h.subscription_ended_at
        .map(|e| e + Span::days(settings.end_retention_days))
}

fn check_retained(h: &HiredAgent, settings: &BillingSettings, now: DateTime<Utc>) -> AppResult<()> {
    match retention_expires_at(h, settings) {
        Some(at) if at <= now => Err(AppError::Gone(format!(
            "Hired agent {} belonged to a subscription that ended on {}; its data was kept for {} days and is no longer available.",
            h.id,
            h.subscription_ended_at
                .map(|e| e.format("%Y-%m-%d").to_string())
                .unwrap_or_default(),
            settings.end_retention_days
        ))),
        _ => Ok(()),
    }
}

/// 409 unless the agent's subscription is active (every write goes through here).
pub fn check_writable(h: &HiredAgent) -> AppResult<()> {
    if h.subscription_status != "active" {
        return Err(AppError::Conflict {
            code: ErrorCode::SubscriptionNotActive,
            message: "The subscription is not active; this hired agent is read-only.".into(),
        });
    }
    Ok(())
}

pub fn trial_status(h: &HiredAgent) -> TrialStatus {
    TrialStatus::parse(&h.trial_status).unwrap_or(TrialStatus::NotStarted)
}

/// The agent a write is about, read inside the write's transaction: within the scope, retained,
/// with an active subscription; and the actor, on the customer's behalf when staff.
pub async fn for_write(
    mut c: Conn<'_>,
    settings: &BillingSettings,
    actor: &Actor,
    scope: &Scope,
    id: &str,
) -> AppResult<(HiredAgent, Actor)> {
    let h = hired_agents::get(c.reborrow(), id, scope.customer())
        .await?
        .ok_or(AppError::NotFound)?;
    check_retained(&h, settings, actor.now)?;
    check_writable(&h)?;
    // Holds the subscription active until this write commits: a period-end pass ending it waits
    // (SQLite transactions are serialised already).
    if !subscriptions::keep_active(c, &h.subscription_id).await? {
        return Err(AppError::Conflict {
            code: ErrorCode::SubscriptionNotActive,
            message: "The subscription is not active; this hired agent is read-only.".into(),
        });
    }
    let actor = actor.clone().on_behalf_if_staff(scope, &h.customer_id);
    Ok((h, actor))
}

/// One hired agent the scope may see and that is still retained.
pub async fn get(
    db: &Db,
    settings: &BillingSettings,
    scope: &Scope,
    id: &str,
    now: DateTime<Utc>,
) -> AppResult<HiredAgent> {
    let mut c = db.acquire().await?;
    let h = hired_agents::get(c.conn(), id, scope.customer())
        .await?
        .ok_or(AppError::NotFound)?;
    check_retained(&h, settings, now)?;
    Ok(h)
}

/// A deliverable the scope may see with its hired agent, in one statement: 404 outside the scope,
/// 410 past its agent's retention at `now` (reviews stay possible within the retention of an
/// ended subscription, as in Phase 1).
pub async fn deliverable_with_agent(
    db: &Db,
    settings: &BillingSettings,
    scope: &Scope,
    deliverable_id: &str,
    now: DateTime<Utc>,
) -> AppResult<deliverables::WithAgent> {
    let mut c = db.acquire().await?;
    let found = deliverables::with_agent(c.conn(), deliverable_id, scope.customer())
        .await?
        .ok_or(AppError::NotFound)?;
    check_retained(&found.agent, settings, now)?;
    Ok(found)
}

/// The hired agent of a subscription the scope may see (`None` before its first save).
pub async fn by_subscription(
    db: &Db,
    settings: &BillingSettings,
    scope: &Scope,
    subscription_id: &str,
    now: DateTime<Utc>,
) -> AppResult<Option<HiredAgent>> {
    let mut c = db.acquire().await?;
    let Some(h) = hired_agents::by_subscription(c.conn(), subscription_id).await? else {
        return Ok(None);
    };
    if !scope.sees(&h.customer_id) {
        return Err(AppError::NotFound);
    }
    check_retained(&h, settings, now)?;
    Ok(Some(h))
}

/// A customer's hired agents, newest first.
pub async fn of_customer(db: &Db, scope: &Scope, customer_id: &str) -> AppResult<Vec<HiredAgent>> {
    if !scope.sees(customer_id) {
        return Err(AppError::NotFound);
    }
    let mut c = db.acquire().await?;
    Ok(hired_agents::of_customer(c.conn(), customer_id).await?)
}

/// A customer's hired agents as (id, name), newest first (404 outside the scope): what a picker of
/// their agents offers. One light statement.
pub async fn names_of_customer(
    db: &Db,
    scope: &Scope,
    customer_id: &str,
) -> AppResult<Vec<(String, String)>> {
    if !scope.sees(customer_id) {
        return Err(AppError::NotFound);
    }
    let mut c = db.acquire().await?;
    Ok(hired_agents::names_of_customer(c.conn(), customer_id).await?)
}

/// The definition a hired agent is pinned to.
pub async fn definition_of(db: &Db, h: &HiredAgent) -> AppResult<Definition> {
    Ok(catalog::get(db, &h.agent_type_id, &h.agent_type_version)
        .await?
        .ok_or_else(|| {
            anyhow::anyhow!(
                "hired agent {} is pinned to a missing version {}@{}",
                h.id,
                h.agent_type_id,
                h.agent_type_version
            )
        })?
        .definition)
}

/// A change to a hired agent. `None` keeps what is stored.
#[derive(Debug, Clone, Default)]
pub struct Edit {
    pub nickname: Option<String>,
    /// As typed: trimmed and lower-cased here.
    pub theme: Option<String>,
    /// The whole new config (Phase 1 replaced it, it did not merge).
    pub config: Option<Value>,
    /// Secrets typed into write-only inputs: (path of the `secret_ref` field or credential-map
    /// entry, secret). Each becomes a credential of the customer; the config gets its reference.
    pub new_secrets: Vec<(String, String)>,
    /// The wizard's (or Phase 1's) "goal setting is complete".
    pub goals_confirmed: Option<bool>,
    /// The version the editor started from; `None` (API without it) overwrites.
    pub row_version: Option<i64>,
    /// The Phase-1 listing id, kept when the agent is created.
    pub agent_id: Option<String>,
}

/// What a save left: the agent and what its configuration still lacks.
#[derive(Debug, Clone)]
pub struct Saved {
    pub agent: HiredAgent,
    pub missing: Vec<Violation>,
    pub created: bool,
}

/// Saves a draft for a subscription's hired agent, creating it on the first save (Phase 1's
/// `PUT /hired-agents/draft`).
pub async fn save_for_subscription(
    db: &Db,
    keys: &Keys,
    settings: &BillingSettings,
    actor: &Actor,
    scope: &Scope,
    subscription_id: &str,
    edit: Edit,
) -> AppResult<Saved> {
    let mut tx = db.begin().await?;
    let sub = subscriptions::get(tx.conn(), subscription_id, scope.customer())
        .await?
        .ok_or(AppError::NotFound)?;
    if let Some(at) = sub
        .ended_at
        .map(|e| e + Span::days(settings.end_retention_days))
        && at <= actor.now
    {
        return Err(AppError::Gone(format!(
            "Subscription {} ended and its data is no longer available.",
            sub.id
        )));
    }
    if sub.status != "active" || !subscriptions::keep_active(tx.conn(), &sub.id).await? {
        return Err(AppError::Conflict {
            code: ErrorCode::SubscriptionNotActive,
            message: "The subscription is not active; this hired agent is read-only.".into(),
        });
    }
    let actor = actor.clone().on_behalf_if_staff(scope, &sub.customer_id);
    let agent_id = edit.agent_id.as_deref().filter(|a| !a.trim().is_empty());
    let created = create_in(tx.conn(), &actor, &sub, agent_id).await?;
    let h = hired_agents::by_subscription(tx.conn(), &sub.id)
        .await?
        .ok_or(AppError::NotFound)?;
    let definition = definition_of(db, &h).await?;
    let mut saved = apply_edit(tx.conn(), keys, &actor, &h, &definition, edit).await?;
    tx.commit().await?;
    saved.created = created;
    Ok(saved)
}

/// Creates a subscription's hired agent (empty: no nickname, theme or config yet) with its audit
/// entry, inside the caller's transaction; false when it has one already. Checkout calls it, so
/// every subscription has its agent from the start.
pub async fn create_in(
    mut c: Conn<'_>,
    actor: &Actor,
    sub: &subscriptions::Subscription,
    agent_id: Option<&str>,
) -> AppResult<bool> {
    let id = new_id("HAI");
    let created = hired_agents::insert(
        c.reborrow(),
        &NewHiredAgent {
            id: &id,
            subscription_id: &sub.id,
            customer_id: &sub.customer_id,
            agent_id: agent_id.or(sub.agent_id.as_deref()),
            agent_type_id: &sub.agent_type_id,
            agent_type_version: &sub.agent_type_version,
        },
        actor.now,
    )
    .await?;
    if created {
        let h = hired_agents::get(c.reborrow(), &id, None)
            .await?
            .ok_or(AppError::NotFound)?;
        audit::record(
            c,
            actor,
            Change {
                entity_type: "hired_agent",
                entity_id: &id,
                action: "hired_agent.created",
                before: None,
                after: Some(h.audit_json()),
            },
        )
        .await?;
    }
    Ok(created)
}

/// Saves a change to a hired agent.
pub async fn save(
    db: &Db,
    keys: &Keys,
    settings: &BillingSettings,
    actor: &Actor,
    scope: &Scope,
    id: &str,
    edit: Edit,
) -> AppResult<Saved> {
    let mut tx = db.begin().await?;
    let (h, actor) = for_write(tx.conn(), settings, actor, scope, id).await?;
    let definition = definition_of(db, &h).await?;
    let saved = apply_edit(tx.conn(), keys, &actor, &h, &definition, edit).await?;
    tx.commit().await?;
    Ok(saved)
}

/// Every problem with an edited config (draft mode: missing values are allowed), before anything is
/// stored; `pending` are paths whose secrets are about to be stored.
async fn problems(
    mut c: Conn<'_>,
    schema: &Schema,
    customer_id: &str,
    nickname: Option<&str>,
    theme: Option<&str>,
    config: &Value,
    pending: &[(String, String)],
) -> AppResult<Vec<Violation>> {
    let mut out = vec![];
    if let Some(v) = rules::legacy_platforms(schema, config) {
        out.push(v);
    }
    out.extend(schema::validate(
        schema,
        &full_config(config, nickname, theme),
        Mode::Draft,
    ));
    let refs: Vec<(String, String)> = rules::credential_refs(schema, config)
        .into_iter()
        .filter(|(p, r)| !pending.iter().any(|(q, _)| q == p) && rules::looks_like_ref(r))
        .collect();
    out.extend(credentials::unknown_refs(c.reborrow(), customer_id, &refs).await?);
    // A credential map's value that is no reference at all.
    for (p, r) in rules::credential_refs(schema, config) {
        if !rules::looks_like_ref(&r) && !pending.iter().any(|(q, _)| *q == p) {
            out.push(Violation::new(
                p,
                "This must be a stored credential's reference (CRED-…); type the secret into the form, or store it with PUT /api/v1/credentials first.",
            ));
        }
    }
    out.dedup_by(|a, b| a.path == b.path);
    Ok(out)
}

async fn apply_edit(
    mut c: Conn<'_>,
    keys: &Keys,
    actor: &Actor,
    h: &HiredAgent,
    definition: &Definition,
    edit: Edit,
) -> AppResult<Saved> {
    check_writable(h)?;
    if edit.row_version.is_some_and(|v| v != h.row_version) {
        return Err(changed_meanwhile());
    }
    let schema = &definition.config_schema;
    let mut problems_found = vec![];
    let theme = match edit.theme.as_deref() {
        Some(raw) => match rules::parse_theme(Some(raw)) {
            Ok(t) => t.or(h.theme.clone()),
            Err(v) => {
                problems_found.push(v);
                h.theme.clone()
            }
        },
        None => h.theme.clone(),
    };
    let nickname = match edit.nickname {
        Some(n) => {
            let n = n.trim().to_string();
            if n.chars().count() > 200 {
                problems_found.push(Violation::new(
                    "nickname",
                    "A nickname is at most 200 characters.",
                ));
            }
            (!n.is_empty()).then_some(n)
        }
        None => h.nickname.clone(),
    };
    let mut config = match edit.config {
        Some(Value::Object(m)) => Value::Object(m),
        Some(_) => {
            return Err(AppError::invalid(vec![Violation::new(
                "config",
                "The configuration must be a JSON object.",
            )]));
        }
        None => h.config.0.clone(),
    };
    rules::normalise_credential_maps(schema, &mut config);
    // Secrets typed into the form hold a placeholder reference while the config is checked.
    for (i, (path, secret)) in edit.new_secrets.iter().enumerate() {
        if let Err(v) = credentials::check_secret(path, secret) {
            problems_found.push(v);
        }
        rules::set_path(
            &mut config,
            path,
            Value::String(format!("CRED-pending-{i}")),
        );
    }
    let config = rules::stored_config(schema, &config);
    problems_found.extend(
        problems(
            c.reborrow(),
            schema,
            &h.customer_id,
            nickname.as_deref(),
            theme.as_deref(),
            &config,
            &edit.new_secrets,
        )
        .await?,
    );
    if !problems_found.is_empty() {
        return Err(AppError::invalid(problems_found));
    }
    let mut config = config;
    for (path, secret) in &edit.new_secrets {
        let label = format!("{} · {}", h.name(), path);
        let stored = credentials::store_in(
            c.reborrow(),
            keys,
            actor,
            &h.customer_id,
            None,
            &label.chars().take(200).collect::<String>(),
            secret,
        )
        .await?;
        rules::set_path(&mut config, path, Value::String(stored.id));
    }
    let configured = rules::is_configured(schema, &config, nickname.as_deref(), theme.as_deref());
    let enabled = hired_agents::enabled_goal_count(c.reborrow(), &h.id).await?;
    let version = definition.version.clone();
    if !hired_agents::update(
        c.reborrow(),
        &h.id,
        h.row_version,
        &Edited {
            nickname: nickname.as_deref(),
            theme: theme.as_deref(),
            config: &config,
            configured,
            goals_completed: enabled > 0,
            goals_confirmed: edit.goals_confirmed.unwrap_or(h.goals_confirmed),
            agent_type_version: &version,
        },
        actor.now,
    )
    .await?
    {
        return Err(changed_meanwhile());
    }
    let after = hired_agents::get(c.reborrow(), &h.id, None)
        .await?
        .ok_or(AppError::NotFound)?;
    audit::record(
        c.reborrow(),
        actor,
        Change {
            entity_type: "hired_agent",
            entity_id: &h.id,
            action: if version != h.agent_type_version {
                "hired_agent.upgraded"
            } else {
                "hired_agent.updated"
            },
            before: Some(h.audit_json()),
            after: Some(after.audit_json()),
        },
    )
    .await?;
    let missing = schema::missing_required(
        schema,
        &full_config(
            &after.config.0,
            after.nickname.as_deref(),
            after.theme.as_deref(),
        ),
    );
    Ok(Saved {
        agent: after,
        missing,
        created: false,
    })
}

/// Complete-mode problems of a hired agent's configuration (what keeps it from `configured`).
pub fn config_problems(definition: &Definition, h: &HiredAgent) -> Vec<Violation> {
    schema::validate(
        &definition.config_schema,
        &full_config(&h.config.0, h.nickname.as_deref(), h.theme.as_deref()),
        Mode::Complete,
    )
}

/// What still blocks a hired agent's trial.
pub fn trial_blockers(definition: &Definition, h: &HiredAgent) -> Vec<Missing> {
    rules::trial_blockers(&TrialCheck {
        subscription_active: h.subscription_status == "active",
        nickname: h.nickname.as_deref(),
        theme: h.theme.as_deref(),
        config_problems: config_problems(definition, h).len(),
        enabled_goals: h.enabled_goals as usize,
        goals_confirmed: h.goals_confirmed,
        trial: trial_status(h),
    })
}

/// What finalize did.
#[derive(Debug, Clone)]
pub struct Finalized {
    pub agent: HiredAgent,
    pub missing: Vec<Missing>,
    pub started: bool,
}

/// Recomputes `configured`, records whether goal setting is confirmed, and starts the trial when
/// nothing blocks it (once: an ended trial never restarts).
pub async fn finalize(
    db: &Db,
    settings: &BillingSettings,
    actor: &Actor,
    scope: &Scope,
    id: &str,
    goals_confirmed: Option<bool>,
) -> AppResult<Finalized> {
    let mut tx = db.begin().await?;
    let (h, actor) = for_write(tx.conn(), settings, actor, scope, id).await?;
    let definition = definition_of(db, &h).await?;
    let configured = config_problems(&definition, &h).is_empty()
        && rules::is_configured(
            &definition.config_schema,
            &h.config.0,
            h.nickname.as_deref(),
            h.theme.as_deref(),
        );
    let confirmed = goals_confirmed.unwrap_or(h.goals_confirmed);
    let changed = configured != h.configured
        || confirmed != h.goals_confirmed
        || h.goals_completed != (h.enabled_goals > 0);
    if changed
        && !hired_agents::update(
            tx.conn(),
            &h.id,
            h.row_version,
            &Edited {
                nickname: h.nickname.as_deref(),
                theme: h.theme.as_deref(),
                config: &h.config.0,
                configured,
                goals_completed: h.enabled_goals > 0,
                goals_confirmed: confirmed,
                agent_type_version: &h.agent_type_version,
            },
            actor.now,
        )
        .await?
    {
        return Err(changed_meanwhile());
    }
    let current = hired_agents::get(tx.conn(), &h.id, None)
        .await?
        .ok_or(AppError::NotFound)?;
    let missing = trial_blockers(&definition, &current);
    let mut started = false;
    if missing.is_empty() && trial_status(&current).can_start() {
        let end = actor.now + Span::days(TRIAL_DAYS);
        started = hired_agents::start_trial(tx.conn(), &h.id, actor.now, end).await?;
    }
    let after = hired_agents::get(tx.conn(), &h.id, None)
        .await?
        .ok_or(AppError::NotFound)?;
    if changed || started {
        audit::record(
            tx.conn(),
            &actor,
            Change {
                entity_type: "hired_agent",
                entity_id: &h.id,
                action: if started {
                    "hired_agent.trial_started"
                } else {
                    "hired_agent.finalized"
                },
                before: Some(h.audit_json()),
                after: Some(after.audit_json()),
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(Finalized {
        agent: after,
        missing,
        started,
    })
}

/// Pauses (`true`) or resumes a hired agent; asking for what is already so changes nothing.
pub async fn set_paused(
    db: &Db,
    settings: &BillingSettings,
    actor: &Actor,
    scope: &Scope,
    id: &str,
    paused: bool,
) -> AppResult<HiredAgent> {
    let mut tx = db.begin().await?;
    let (h, actor) = for_write(tx.conn(), settings, actor, scope, id).await?;
    if hired_agents::set_paused(tx.conn(), &h.id, paused, actor.now).await? {
        let after = hired_agents::get(tx.conn(), &h.id, None)
            .await?
            .ok_or(AppError::NotFound)?;
        audit::record(
            tx.conn(),
            &actor,
            Change {
                entity_type: "hired_agent",
                entity_id: &h.id,
                action: if paused {
                    "hired_agent.paused"
                } else {
                    "hired_agent.resumed"
                },
                before: Some(h.audit_json()),
                after: Some(after.audit_json()),
            },
        )
        .await?;
        tx.commit().await?;
        return Ok(after);
    }
    tx.commit().await?;
    Ok(h)
}

/// What one trial-end pass did.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct TrialEndReport {
    pub processed: u64,
    pub now: DateTime<Utc>,
    pub converted_ids: Vec<String>,
    pub not_converted_ids: Vec<String>,
}

/// Ends every running trial whose end has come: `ended_converted` while the subscription is
/// active, else `ended_not_converted`. Conditional updates: passes at once end each trial once.
pub async fn process_trial_end(db: &Db, actor: &Actor) -> AppResult<TrialEndReport> {
    let mut report = TrialEndReport {
        now: actor.now,
        ..Default::default()
    };
    for _round in 0..1_000 {
        let due = {
            let mut c = db.acquire().await?;
            hired_agents::trials_due(c.conn(), actor.now, 200).await?
        };
        if due.is_empty() {
            break;
        }
        let mut changed = 0;
        for h in due {
            let next = TrialStatus::at_end(h.subscription_status == "active");
            let mut tx = db.begin().await?;
            if !hired_agents::end_trial(tx.conn(), &h.id, next.as_str(), actor.now).await? {
                continue;
            }
            let after = hired_agents::get(tx.conn(), &h.id, None)
                .await?
                .ok_or(AppError::NotFound)?;
            audit::record(
                tx.conn(),
                actor,
                Change {
                    entity_type: "hired_agent",
                    entity_id: &h.id,
                    action: "hired_agent.trial_ended",
                    before: Some(h.audit_json()),
                    after: Some(after.audit_json()),
                },
            )
            .await?;
            tx.commit().await?;
            changed += 1;
            report.processed += 1;
            match next {
                TrialStatus::EndedConverted => report.converted_ids.push(h.id.clone()),
                _ => report.not_converted_ids.push(h.id.clone()),
            }
        }
        if changed == 0 {
            break;
        }
    }
    Ok(report)
}

/// Deactivates a subscription's hired agent inside the transaction that ends the subscription.
pub async fn deactivate_in(
    mut c: Conn<'_>,
    actor: &Actor,
    subscription_id: &str,
) -> AppResult<Option<String>> {
    let Some(id) = hired_agents::deactivate(c.reborrow(), subscription_id, actor.now).await? else {
        return Ok(None);
    };
    audit::record(
        c,
        actor,
        Change {
            entity_type: "hired_agent",
            entity_id: &id,
            action: "hired_agent.deactivated",
            before: Some(serde_json::json!({"active": true})),
            after: Some(serde_json::json!({"active": false, "subscription_id": subscription_id})),
        },
    )
    .await?;
    Ok(Some(id))
}

/// Something that must be fixed before an agent can move to another version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpgradeProblem {
    /// `config`, or the goal's id.
    pub place: String,
    /// The field's path within the config or the goal (`settings.side`, `frequency`…).
    pub path: String,
    pub message: String,
}

/// Everything about `h` (its config, draft rules, and each goal) that version `to` refuses.
pub fn upgrade_problems(to: &Definition, h: &HiredAgent, goals: &[Goal]) -> Vec<UpgradeProblem> {
    let schema = &to.config_schema;
    let config = rules::stored_config(schema, &h.config.0);
    let mut out: Vec<UpgradeProblem> = schema::validate(
        schema,
        &full_config(&config, h.nickname.as_deref(), h.theme.as_deref()),
        Mode::Draft,
    )
    .into_iter()
    .map(|v| UpgradeProblem {
        place: "config".into(),
        path: v.path,
        message: v.message,
    })
    .collect();
    for g in goals.iter().filter(|g| g.deleted_at.is_none()) {
        let input = crate::service::goals::GoalInput {
            goal_instance_id: Some(g.id.clone()),
            goal_template_id: g.goal_template_id.clone(),
            frequency: g.frequency.clone(),
            settings: g.settings.0.clone(),
            enabled: Some(g.enabled),
            row_version: None,
        };
        for v in crate::service::goals::check(to, &input).0 {
            out.push(UpgradeProblem {
                place: g.id.clone(),
                path: v.path,
                message: v.message,
            });
        }
    }
    out
}

/// Moves a hired agent to a newer published version of its type: nothing changes unless its
/// config and every goal are valid for that version, checked and applied in one transaction.
#[allow(clippy::too_many_arguments)]
pub async fn upgrade(
    db: &Db,
    keys: &Keys,
    settings: &BillingSettings,
    actor: &Actor,
    scope: &Scope,
    id: &str,
    to_version: &str,
    row_version: Option<i64>,
) -> AppResult<Saved> {
    let mut tx = db.begin().await?;
    let (h, actor) = for_write(tx.conn(), settings, actor, scope, id).await?;
    let to = upgrade_target(db, &h, to_version).await?;
    let goals = hired_agents::goals_of(tx.conn(), &h.id).await?;
    let problems = upgrade_problems(&to, &h, &goals);
    if !problems.is_empty() {
        return Err(AppError::invalid(
            problems
                .into_iter()
                .map(|p| {
                    Violation::new(
                        if p.place == "config" {
                            format!("config.{}", p.path)
                        } else {
                            format!("goals.{}.{}", p.place, p.path)
                        },
                        p.message,
                    )
                })
                .collect(),
        ));
    }
    for g in &goals {
        let t = to.template(&g.goal_template_id).ok_or(AppError::NotFound)?;
        let merged = schema::with_defaults(&t.settings_schema.fields, &g.settings.0);
        if merged != g.settings.0
            && !hired_agents::update_goal(
                tx.conn(),
                &g.id,
                g.row_version,
                &g.goal_template_id,
                &g.frequency,
                &merged,
                g.enabled,
                actor.now,
            )
            .await?
        {
            return Err(changed_meanwhile());
        }
    }
    let saved = apply_edit(
        tx.conn(),
        keys,
        &actor,
        &h,
        &to,
        Edit {
            config: Some(h.config.0.clone()),
            row_version,
            ..Edit::default()
        },
    )
    .await?;
    tx.commit().await?;
    Ok(saved)
}

/// The published version `to_version` of the agent's type, newer than its own; 404 otherwise.
pub async fn upgrade_target(db: &Db, h: &HiredAgent, to_version: &str) -> AppResult<Definition> {
    use crate::domain::version::Version;
    let v = catalog::get(db, &h.agent_type_id, to_version)
        .await?
        .filter(|v| v.row.status == catalog::PUBLISHED)
        .ok_or(AppError::NotFound)?;
    let newer = match (
        Version::parse(to_version),
        Version::parse(&h.agent_type_version),
    ) {
        (Some(a), Some(b)) => a.sort_key() > b.sort_key(),
        _ => false,
    };
    if !newer {
        return Err(AppError::Conflict {
            code: ErrorCode::StatusChangeRefused,
            message: format!(
                "{to_version} is not newer than the agent's version {}.",
                h.agent_type_version
            ),
        });
    }
    Ok(v.definition)
}
