//! The demo month of `seed --demo` (SPEC §7, issue 9): three customers with hired agents of both
//! types and goals of every frequency, then thirty days of the product's own work, done through
//! its services with the clock at each day: drafts from the scheduler's generation (the demo's
//! agents only) and "run now", reviews (approvals, approvals with edits, rejections with a reason,
//! some left waiting), executions with their logs, refused executions (`approval_required`,
//! `approval_invalid`, `guardrail_failed`), and the outbox drained by the built-in dispatcher. On
//! day 12 the clinic stops posting to WhatsApp and removes its credential, so executing a batch
//! drafted before that fails for that channel, is retried, and fails for good.
//!
//! Deterministic apart from ids and dates. Done once: a marker in `app_settings`, written last,
//! makes a second run add nothing (the steps also find what a first run made: checkout keys, goal
//! ids, one draft per goal and period). Trials that end and outbox rows that are due are
//! processed as the scheduler would at each day: for any other customer that is the work its next
//! pass would do anyway, stamped with that day.

use std::collections::HashSet;

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use crate::db::deliverables::{self, Deliverable};
use crate::db::{Db, kv, users};
use crate::domain::actor::{Actor, Scope};
use crate::domain::billing::settings::BillingSettings;
use crate::domain::deliverable_edits;
use crate::domain::deliverable_payloads::validation_errors;
use crate::domain::deliverable_states::Decision;
use crate::domain::roles::Role;
use crate::error::{AppError, AppResult};
use crate::keys::Keys;
use crate::service::checkout::{self, CheckoutRequest};
use crate::service::credentials::{self, PutCredential};
use crate::service::executions::{self, Outcome};
use crate::service::generation;
use crate::service::goals::{self, GoalInput};
use crate::service::hired_agents::{self, Edit};
use crate::service::outbox::{self, RecordingDispatcher};
use crate::service::reviews::{self, DecisionInput};

/// Days the month spans, the last one ending now.
pub const DAYS: i64 = 30;
/// Drafts of the last days stay waiting for a decision, as a live queue has them.
const FRESH_DAYS: i64 = 3;
/// Written when the month is complete.
pub const MARKER: &str = "demo_month_seeded_at";
/// The day the clinic stops posting to WhatsApp.
const WHATSAPP_REMOVED_ON: i64 = 12;

/// A demo customer: its name and e-mail, and its user's e-mail.
pub struct DemoCustomer {
    pub name: &'static str,
    pub email: &'static str,
    pub user_email: &'static str,
}

pub const CUSTOMERS: [DemoCustomer; 3] = [
    DemoCustomer {
        name: "Demo Clinic",
        email: super::setup::DEMO_CUSTOMER_EMAIL,
        user_email: "customer@demo-clinic.example",
    },
    DemoCustomer {
        name: "Sunrise Dental Care",
        email: "hello@sunrise-dental.example",
        user_email: "owner@sunrise-dental.example",
    },
    DemoCustomer {
        name: "Northwind Capital",
        email: "desk@northwind-capital.example",
        user_email: "trader@northwind-capital.example",
    },
];

const MARKETING: &str = "marketing.healthcare.v1";
const TRADING: &str = "trading.delta_futures.v1";

/// A goal of a demo agent: a stable id (so a second run finds it), template, frequency, settings.
struct GoalPlan {
    id: &'static str,
    template: &'static str,
    frequency: &'static str,
    settings: Value,
    /// Days "run now" is clicked (on-demand goals).
    run_on: &'static [i64],
}

/// A demo hired agent.
struct AgentPlan {
    customer: usize,
    /// The checkout's idempotency key.
    key: &'static str,
    agent_type_id: &'static str,
    duration: &'static str,
    nickname: &'static str,
    goals: Vec<GoalPlan>,
}

fn goal(
    id: &'static str,
    template: &'static str,
    frequency: &'static str,
    settings: Value,
) -> GoalPlan {
    GoalPlan {
        id,
        template,
        frequency,
        settings,
        run_on: &[],
    }
}

fn plans() -> Vec<AgentPlan> {
    vec![
        AgentPlan {
            customer: 0,
            key: "demo-seed-marketing",
            agent_type_id: MARKETING,
            duration: "monthly",
            nickname: "Clinic Social",
            goals: vec![
                goal(
                    "GOI-demo-clinic-daily-post",
                    "marketing.daily_micro_post.v1",
                    "daily",
                    json!({"topic": "Preventive check-ups"}),
                ),
                goal(
                    "GOI-demo-clinic-weekly-batch",
                    "marketing.weekly_multichannel_batch.v1",
                    "weekly",
                    json!({"topics": ["Monsoon health", "Vaccination drive"], "posts_per_platform": 1}),
                ),
                goal(
                    "GOI-demo-clinic-campaign",
                    "marketing.monthly_campaign_pack.v1",
                    "monthly",
                    json!({"theme": "Heart health month"}),
                ),
                GoalPlan {
                    run_on: &[8, 22],
                    ..goal(
                        "GOI-demo-clinic-announcement",
                        "marketing.daily_micro_post.v1",
                        "on_demand",
                        json!({"topic": "Holiday opening hours"}),
                    )
                },
            ],
        },
        AgentPlan {
            customer: 0,
            key: "demo-seed-trading",
            agent_type_id: TRADING,
            duration: "quarterly",
            nickname: "Clinic Treasury Desk",
            goals: vec![
                goal(
                    "GOI-demo-clinic-guardrails",
                    "trading.guardrail_report.v1",
                    "weekly",
                    json!({}),
                ),
                goal(
                    "GOI-demo-clinic-close",
                    "trading.close_position_reminder.v1",
                    "weekly",
                    json!({"window_local_time": "15:15"}),
                ),
            ],
        },
        AgentPlan {
            customer: 1,
            key: "demo-seed-dental",
            agent_type_id: MARKETING,
            duration: "monthly",
            nickname: "Sunrise Social",
            goals: vec![
                goal(
                    "GOI-demo-dental-weekly-batch",
                    "marketing.weekly_multichannel_batch.v1",
                    "weekly",
                    json!({"topics": ["Flossing", "Kids' first visit"], "posts_per_platform": 1}),
                ),
                goal(
                    "GOI-demo-dental-campaign",
                    "marketing.monthly_campaign_pack.v1",
                    "monthly",
                    json!({"theme": "Smile makeover month"}),
                ),
                GoalPlan {
                    run_on: &[15],
                    ..goal(
                        "GOI-demo-dental-offer",
                        "marketing.daily_micro_post.v1",
                        "on_demand",
                        json!({"topic": "Free check-up camp"}),
                    )
                },
            ],
        },
        AgentPlan {
            customer: 2,
            key: "demo-seed-northwind",
            agent_type_id: TRADING,
            duration: "quarterly",
            nickname: "Northwind Delta Desk",
            goals: vec![
                goal(
                    "GOI-demo-northwind-guardrails",
                    "trading.guardrail_report.v1",
                    "daily",
                    json!({}),
                ),
                goal(
                    "GOI-demo-northwind-close",
                    "trading.close_position_reminder.v1",
                    "daily",
                    json!({"window_local_time": "23:00"}),
                ),
                GoalPlan {
                    run_on: &[4, 11, 18, 25],
                    ..goal(
                        "GOI-demo-northwind-btc",
                        "trading.trade_intent_draft.v1",
                        "on_demand",
                        json!({"coin": "BTC", "side": "buy", "units": 1}),
                    )
                },
                // Above the desk's 2-unit limit: every draft of it fails its checks.
                GoalPlan {
                    run_on: &[6, 13, 20],
                    ..goal(
                        "GOI-demo-northwind-eth",
                        "trading.trade_intent_draft.v1",
                        "on_demand",
                        json!({"coin": "ETH", "side": "sell", "units": 3}),
                    )
                },
            ],
        },
    ]
}

fn marketing_config(customer: usize, creds: &[(String, String)]) -> Value {
    let (brand, offerings, location) = match customer {
        0 => (
            "Demo Clinic",
            json!(["General medicine", "Diagnostics", "Vaccinations"]),
            "Pune",
        ),
        _ => (
            "Sunrise Dental Care",
            json!(["Check-ups", "Braces", "Whitening"]),
            "Bengaluru",
        ),
    };
    let platforms: Vec<&str> = creds.iter().map(|(p, _)| p.as_str()).collect();
    let credentials: serde_json::Map<String, Value> =
        creds.iter().map(|(p, r)| (p.clone(), json!(r))).collect();
    json!({"primary_language": "en", "timezone": "Asia/Kolkata", "brand_name": brand,
        "offerings_services": offerings, "location": location, "platforms_enabled": platforms,
        "platform_credentials": credentials, "posting_identity": format!("{brand} team")})
}

fn trading_config(credential_ref: &str) -> Value {
    json!({"timezone": "Asia/Kolkata", "exchange_provider": "delta_exchange_india",
        "exchange_credential_ref": credential_ref, "allowed_coins": ["BTC", "ETH"], "default_coin": "BTC",
        "interval_seconds": 60, "risk_limits": {"max_units_per_order": 2}})
}

/// What the month made.
#[derive(Debug, Clone, Default)]
pub struct MonthSummary {
    /// False when the month was there already and nothing was added.
    pub created: bool,
    pub customers: usize,
    pub agents: usize,
    pub goals: usize,
    pub drafts: u64,
    pub approved: u64,
    pub approved_with_edits: u64,
    pub rejected: u64,
    pub executed: u64,
    pub denials: u64,
    pub delivered: u64,
    pub failed_for_good: u64,
    pub trials_ended: u64,
}

impl MonthSummary {
    /// The line `seed --demo` prints.
    pub fn line(&self) -> String {
        if !self.created {
            return "Demo month: present already (nothing added).".into();
        }
        format!(
            "Demo month ({DAYS} days): {} customers, {} hired agents, {} goals, {} deliverables \
             ({} approved of which {} with edits, {} rejected, {} waiting), {} executed, {} denials, \
             {} hand-overs delivered, {} failed for good, {} trials ended.",
            self.customers,
            self.agents,
            self.goals,
            self.drafts,
            self.approved,
            self.approved_with_edits,
            self.rejected,
            self.drafts - self.approved - self.rejected,
            self.executed,
            self.denials,
            self.delivered,
            self.failed_for_good,
            self.trials_ended,
        )
    }
}

/// A demo agent as made.
struct Hired {
    id: String,
    customer_id: String,
    user: Actor,
    plan: AgentPlan,
}

/// Reasons reviewers give, in turn: for posts, and for trading proposals.
const POST_REJECTIONS: [&str; 3] = [
    "The clinic hours in this text are wrong.",
    "Too promotional for a medical audience; keep it informative.",
    "Not this week: we are running another campaign.",
];
const TRADE_REJECTIONS: [&str; 2] = [
    "Skip this one; market conditions changed.",
    "Not before the weekly risk review.",
];

/// Fills the demo month once (see the module's doc). `now` is the last day's end.
pub async fn seed_month(
    db: &Db,
    keys: &Keys,
    billing: &BillingSettings,
    now: DateTime<Utc>,
) -> AppResult<MonthSummary> {
    {
        let mut c = db.acquire().await?;
        if kv::get(c.conn(), MARKER).await?.is_some() {
            return Ok(MonthSummary::default());
        }
    }
    let mut month = Month {
        db,
        keys,
        billing,
        // Each day's work happens between its draft at `day(d)` and its outbox 4 hours later.
        start: now - Duration::days(DAYS) - Duration::hours(6),
        summary: MonthSummary {
            created: true,
            customers: CUSTOMERS.len(),
            ..Default::default()
        },
        operator: None,
        waiting: HashSet::new(),
        decisions: 0,
        approvals: 0,
        over_limit: 0,
        failure_forced: false,
        previous_approval: None,
    };
    month.operator = {
        let mut c = db.acquire().await?;
        users::by_email(c.conn(), "operator@demo.example")
            .await?
            .map(|u| Actor::user(u.id, Role::Operator, "demo-operator", month.start))
    };
    let mut hired = vec![];
    for plan in plans() {
        hired.push(month.hire(plan).await?);
    }
    month.summary.agents = hired.len();
    month.summary.goals = hired.iter().map(|h| h.plan.goals.len()).sum();
    for d in 0..=DAYS {
        month.day(d, &hired).await?;
    }
    let mut c = db.acquire().await?;
    kv::get_or_insert(c.conn(), MARKER, &now.to_rfc3339()).await?;
    Ok(month.summary)
}

struct Month<'a> {
    db: &'a Db,
    keys: &'a Keys,
    billing: &'a BillingSettings,
    start: DateTime<Utc>,
    summary: MonthSummary,
    operator: Option<Actor>,
    /// Deliverables the reviewers leave waiting.
    waiting: HashSet<String>,
    decisions: u64,
    approvals: u64,
    over_limit: u64,
    failure_forced: bool,
    previous_approval: Option<String>,
}

fn at(actor: &Actor, now: DateTime<Utc>, correlation: String) -> Actor {
    Actor {
        now,
        correlation_id: correlation,
        ..actor.clone()
    }
}

impl Month<'_> {
    fn day_at(&self, d: i64) -> DateTime<Utc> {
        self.start + Duration::days(d)
    }

    /// Buys the agent (the coupon checkout, replayed on a second run), configures it with
    /// credentials, adds its goals and finalizes it (its trial starts), all on day 0.
    async fn hire(&mut self, plan: AgentPlan) -> AppResult<Hired> {
        let t = self.day_at(0);
        let customer = &CUSTOMERS[plan.customer];
        let user = {
            let mut c = self.db.acquire().await?;
            users::by_email(c.conn(), customer.user_email).await?
        }
        .ok_or(AppError::NotFound)?;
        let customer_id = user.customer_id.clone().ok_or(AppError::NotFound)?;
        let system = Actor::system(format!("demo-{}", plan.key), t);
        let bought = checkout::checkout(
            self.db,
            self.billing,
            &system.clone().on_behalf_of(&customer_id),
            &customer_id,
            &CheckoutRequest {
                coupon_code: self.billing.coupon_code.clone(),
                agent_type_id: Some(plan.agent_type_id.into()),
                duration: plan.duration.into(),
                idempotency_key: Some(plan.key.into()),
                ..Default::default()
            },
        )
        .await?;
        let scope = Scope::Customer(customer_id.clone());
        let user = Actor::user(user.id, Role::Customer, format!("demo-{}", plan.key), t);
        let agent = hired_agents::by_subscription(
            self.db,
            self.billing,
            &scope,
            bought.subscription_id(),
            t,
        )
        .await?;
        let configured = agent.as_ref().is_some_and(|a| a.configured);
        let id = if configured {
            agent.map(|a| a.id).unwrap_or_default()
        } else {
            let config = if plan.agent_type_id == MARKETING {
                let platforms: &[&str] = if plan.customer == 0 {
                    &["instagram", "facebook", "whatsapp"]
                } else {
                    &["instagram", "facebook", "linkedin"]
                };
                let mut creds = vec![];
                for p in platforms {
                    let r = self
                        .credential(&user, &customer_id, &format!("{} {p}", customer.name))
                        .await?;
                    creds.push((p.to_string(), r));
                }
                marketing_config(plan.customer, &creds)
            } else {
                let r = self
                    .credential(
                        &user,
                        &customer_id,
                        &format!("{} Delta Exchange", customer.name),
                    )
                    .await?;
                trading_config(&r)
            };
            hired_agents::save_for_subscription(
                self.db,
                self.keys,
                self.billing,
                &user,
                &scope,
                bought.subscription_id(),
                Edit {
                    nickname: Some(plan.nickname.into()),
                    theme: Some(
                        if plan.agent_type_id == TRADING {
                            "dark"
                        } else {
                            "light"
                        }
                        .into(),
                    ),
                    config: Some(config),
                    ..Edit::default()
                },
            )
            .await?
            .agent
            .id
        };
        for g in &plan.goals {
            let exists = {
                let mut c = self.db.acquire().await?;
                crate::db::hired_agents::goal(c.conn(), g.id)
                    .await?
                    .is_some()
            };
            if !exists {
                goals::upsert(
                    self.db,
                    self.billing,
                    &user,
                    &scope,
                    &id,
                    &GoalInput {
                        goal_instance_id: Some(g.id.into()),
                        goal_template_id: g.template.into(),
                        frequency: g.frequency.into(),
                        settings: g.settings.clone(),
                        ..GoalInput::default()
                    },
                )
                .await?;
            }
        }
        hired_agents::finalize(self.db, self.billing, &user, &scope, &id, Some(true)).await?;
        Ok(Hired {
            id,
            customer_id,
            user,
            plan,
        })
    }

    async fn credential(&self, user: &Actor, customer_id: &str, label: &str) -> AppResult<String> {
        let secret = format!(
            "demo-{}-token",
            label
                .to_lowercase()
                .replace(|c: char| !c.is_ascii_alphanumeric(), "-")
        );
        Ok(credentials::put(
            self.db,
            self.keys,
            user,
            customer_id,
            &PutCredential {
                label: label.into(),
                secret,
                credential_ref: None,
            },
        )
        .await?
        .credential_ref)
    }

    /// One day: changes of the day, drafts, trials ending, yesterday's drafts reviewed and the
    /// approved ones executed, then the outbox.
    async fn day(&mut self, d: i64, hired: &[Hired]) -> AppResult<()> {
        let t = self.day_at(d);
        for h in hired {
            let scope = Scope::Customer(h.customer_id.clone());
            let user = at(&h.user, t, format!("demo-day{d}-{}", h.plan.key));
            if h.plan.key == "demo-seed-marketing" && d == WHATSAPP_REMOVED_ON {
                self.drop_whatsapp(h, &user, &scope).await?;
            }
            if h.plan.key == "demo-seed-dental" && (d == 17 || d == 21) {
                // A few days off: no drafts while paused.
                hired_agents::set_paused(self.db, self.billing, &user, &scope, &h.id, d == 17)
                    .await?;
            }
            let r = generation::run_due(self.db, t, Some(&h.id)).await?;
            self.summary.drafts += r.generated;
            for g in h.plan.goals.iter().filter(|g| g.run_on.contains(&d)) {
                let r = generation::run_now(
                    self.db,
                    self.billing,
                    &user,
                    &scope,
                    &h.id,
                    g.id,
                    Some(&format!("demo-{}-day{d}", g.id)),
                )
                .await?;
                self.summary.drafts += r.generated;
            }
        }
        let trials =
            hired_agents::process_trial_end(self.db, &Actor::system(format!("demo-day{d}"), t))
                .await?;
        self.summary.trials_ended += trials.processed;
        // Reviews in the morning after: drafts of the last days stay waiting.
        if d > 0 {
            let reviewed_at = t + Duration::hours(2);
            let made_before = if d > DAYS - FRESH_DAYS {
                self.day_at(DAYS - FRESH_DAYS)
            } else {
                t
            };
            for h in hired {
                let pending = {
                    let mut c = self.db.acquire().await?;
                    deliverables::pending_of_agent(c.conn(), &h.id, made_before).await?
                };
                for del in pending {
                    if !self.waiting.contains(&del.id) {
                        self.review(d, h, &del, reviewed_at).await?;
                    }
                }
            }
        }
        let drained = outbox::drain(self.db, &RecordingDispatcher, t + Duration::hours(4)).await?;
        self.summary.delivered += drained.delivered;
        self.summary.failed_for_good += drained.failed;
        Ok(())
    }

    /// The clinic stops posting to WhatsApp: the platform and its credential leave the config.
    async fn drop_whatsapp(&self, h: &Hired, user: &Actor, scope: &Scope) -> AppResult<()> {
        let agent = hired_agents::get(self.db, self.billing, scope, &h.id, user.now).await?;
        let mut config = agent.config.0.clone();
        if let Some(p) = config
            .get_mut("platforms_enabled")
            .and_then(Value::as_array_mut)
        {
            p.retain(|x| x != "whatsapp");
        }
        if let Some(m) = config
            .get_mut("platform_credentials")
            .and_then(Value::as_object_mut)
        {
            m.remove("whatsapp");
        }
        hired_agents::save(
            self.db,
            self.keys,
            self.billing,
            user,
            scope,
            &h.id,
            Edit {
                config: Some(config),
                row_version: Some(agent.row_version),
                ..Edit::default()
            },
        )
        .await?;
        Ok(())
    }

    /// A reviewer decides on one deliverable, in a fixed mix; approved ones are executed.
    async fn review(
        &mut self,
        d: i64,
        h: &Hired,
        del: &Deliverable,
        now: DateTime<Utc>,
    ) -> AppResult<()> {
        let payload = &del.payload.0;
        let kind = payload.get("type").and_then(Value::as_str).unwrap_or("");
        let has_whatsapp = payload
            .get("variants")
            .and_then(Value::as_array)
            .is_some_and(|vs| vs.iter().any(|v| v["platform"] == "whatsapp"));
        // The first batch still written for WhatsApp after the clinic dropped it is approved and
        // executed: its WhatsApp hand-over has no credential any more and fails.
        let force = !self.failure_forced && has_whatsapp && d >= WHATSAPP_REMOVED_ON;
        let i = self.decisions;
        self.decisions += 1;
        let (decision, notes, edits) = if force {
            self.failure_forced = true;
            (Decision::Approve, None, None)
        } else if kind == "trading_intent_plan_v1" && !validation_errors(payload).is_empty() {
            // Over the desk's limit: approved as is (then refused by the guardrail), cut down
            // to the limit, or rejected, in turn.
            let k = self.over_limit;
            self.over_limit += 1;
            match k % 3 {
                0 => (Decision::Approve, Some("Go ahead.".to_string()), None),
                1 => (
                    Decision::ApproveWithEdits,
                    Some("Cut to the 2-unit limit.".to_string()),
                    Some(json!({"side": payload["side"], "units": 2})),
                ),
                _ => (
                    Decision::Reject,
                    Some("Over the desk's 2-unit limit per order.".to_string()),
                    None,
                ),
            }
        } else {
            match i % 10 {
                3 => {
                    let reasons: &[&str] = if kind == "marketing_draft_batch_v1" {
                        &POST_REJECTIONS
                    } else {
                        &TRADE_REJECTIONS
                    };
                    let reason = reasons[(i / 10) as usize % reasons.len()];
                    (Decision::Reject, Some(reason.to_string()), None)
                }
                6 => {
                    self.waiting.insert(del.id.clone());
                    return Ok(());
                }
                1 | 8 => match edits_for(payload) {
                    Some(e) => (
                        Decision::ApproveWithEdits,
                        Some("Edited before approving.".to_string()),
                        Some(e),
                    ),
                    None => (Decision::Approve, None, None),
                },
                _ => (Decision::Approve, None, None),
            }
        };
        // Every fourth decision is made by the operator on the customer's behalf.
        let (actor, scope) = match &self.operator {
            Some(op) if i % 4 == 2 => (op, Scope::Staff),
            _ => (&h.user, Scope::Customer(h.customer_id.clone())),
        };
        let actor = at(actor, now, format!("demo-review-{}", del.id));
        let decided = reviews::decide(
            self.db,
            self.billing,
            &actor,
            &scope,
            &del.id,
            &DecisionInput {
                decision,
                notes,
                edits,
            },
        )
        .await?;
        if decided.replayed {
            return Ok(());
        }
        match decision {
            Decision::Reject => {
                self.summary.rejected += 1;
                return Ok(());
            }
            Decision::ApproveWithEdits => self.summary.approved_with_edits += 1,
            Decision::Approve => {}
        }
        self.summary.approved += 1;
        let approval = decided.approval.id;
        // Executed a little later, mostly with the approval id; a few go another way.
        let j = self.approvals;
        self.approvals += 1;
        let later = at(
            &actor,
            now + Duration::minutes(20),
            format!("demo-execute-{}", del.id),
        );
        let mut outcomes = vec![];
        let id = del.id.as_str();
        if force {
            outcomes.push(self.execute(&later, &scope, id, Some(&approval)).await?);
        } else if j % 6 != 4 {
            match j {
                // An integration that forgot the approval id, then sent it.
                2 => {
                    outcomes.push(self.execute(&later, &scope, id, None).await?);
                    outcomes.push(self.execute(&later, &scope, id, Some(&approval)).await?);
                }
                // Another deliverable's approval id: refused, left for later.
                5 => {
                    let wrong = self.previous_approval.clone().unwrap_or_default();
                    outcomes.push(self.execute(&later, &scope, id, Some(&wrong)).await?);
                }
                _ => outcomes.push(self.execute(&later, &scope, id, Some(&approval)).await?),
            }
        }
        self.previous_approval = Some(approval);
        for o in outcomes {
            match o {
                Outcome::Executed { replayed, .. } => {
                    if !replayed {
                        self.summary.executed += 1;
                    }
                }
                Outcome::Denied { .. } => self.summary.denials += 1,
            }
        }
        Ok(())
    }
}

impl Month<'_> {
    async fn execute(
        &self,
        actor: &Actor,
        scope: &Scope,
        id: &str,
        approval_id: Option<&str>,
    ) -> AppResult<Outcome> {
        executions::execute(self.db, self.billing, actor, scope, id, approval_id).await
    }
}

/// A reviewer's edits of a payload: the Instagram text (or the first channel's) shortened and
/// signed, a trade's units, a close-position window; none for what cannot be edited.
fn edits_for(payload: &Value) -> Option<Value> {
    deliverable_edits::edit_schema(payload)?;
    let mut values = deliverable_edits::editable_values(payload);
    let obj = values.as_object_mut()?;
    match payload.get("type").and_then(Value::as_str) {
        Some("marketing_draft_batch_v1") => {
            let key = if obj.contains_key("instagram") {
                "instagram".to_string()
            } else {
                obj.keys().next()?.clone()
            };
            let text = obj.get(&key)?.as_str()?;
            let short: String = text.chars().take(180).collect();
            obj.insert(
                key,
                json!(format!(
                    "{} Book at the front desk or call us.",
                    short.trim_end()
                )),
            );
        }
        Some("trading_intent_plan_v1") => {
            obj.insert("units".into(), json!(2));
        }
        Some("trading_close_position_proposal_v1") => {
            obj.insert("window_local_time".into(), json!("15:45"));
        }
        _ => return None,
    }
    Some(values)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::deliverable_payloads::{self as payloads, Inputs};
    use crate::domain::schema::{self, Mode};

    fn draft(template: &str, binding: &str, config: &Value, settings: Value) -> Value {
        payloads::build(&Inputs {
            goal_template_id: template,
            goal_instance_id: "GOI-1",
            skill_binding: Some(binding),
            config,
            settings: &settings,
        })
        .payload
    }

    #[test]
    fn the_reviewers_edits_pass_the_edit_form() {
        let creds = vec![
            ("instagram".to_string(), "CRED-1".to_string()),
            ("whatsapp".to_string(), "CRED-2".to_string()),
        ];
        let marketing = marketing_config(0, &creds);
        let batch = draft(
            "marketing.daily_micro_post.v1",
            "social_media",
            &marketing,
            json!({"topic": "Flu shots"}),
        );
        let trading = trading_config("CRED-3");
        let intent = draft(
            "trading.trade_intent_draft.v1",
            "trading_executor",
            &trading,
            json!({"coin": "BTC", "side": "buy", "units": 1}),
        );
        let close = draft(
            "trading.close_position_reminder.v1",
            "trading_executor",
            &trading,
            json!({"window_local_time": "15:15"}),
        );
        for payload in [&batch, &intent, &close] {
            let edits = edits_for(payload).expect("editable");
            let form = deliverable_edits::edit_schema(payload).unwrap();
            assert!(
                schema::validate(&form, &edits, Mode::Complete).is_empty(),
                "{edits}"
            );
            assert_ne!(edits, deliverable_edits::editable_values(payload));
        }
        let edited = edits_for(&batch).unwrap();
        assert!(
            edited["instagram"]
                .as_str()
                .unwrap()
                .ends_with("Book at the front desk or call us.")
        );
        assert_eq!(edited["whatsapp"], batch["variants"][1]["text"]);
        let report = draft(
            "trading.guardrail_report.v1",
            "trading_executor",
            &trading,
            json!({}),
        );
        assert!(edits_for(&report).is_none(), "nothing to edit in a report");
    }

    #[test]
    fn every_goal_plan_has_a_stable_valid_id_and_runs_on_demand_only_when_on_demand() {
        let mut ids = HashSet::new();
        for a in plans() {
            for g in &a.goals {
                assert!(ids.insert(g.id), "{} twice", g.id);
                assert!(g.id.len() <= 100 && g.id.starts_with("GOI-demo-"));
                assert_eq!(g.frequency == "on_demand", !g.run_on.is_empty(), "{}", g.id);
            }
        }
        for f in ["daily", "weekly", "monthly", "on_demand"] {
            assert!(
                plans()
                    .iter()
                    .flat_map(|a| &a.goals)
                    .any(|g| g.frequency == f),
                "{f}"
            );
        }
    }
}
