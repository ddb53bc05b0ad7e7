//! Lists of deliverables as a scope may see them: the review queues (`/portal/reviews`, a hired
//! agent's, `/admin/reviews`), the navigation's count of items waiting, and the API's list of one
//! agent's deliverables, which first generates that agent's due drafts (as Phase 1 did).

use chrono::{DateTime, Utc};

use crate::db::Db;
use crate::db::deliverables::{self, Approval, Deliverable, Denial, Handover, LoggedStep};
use crate::db::hired_agents::HiredAgent;
use crate::db::review_queue;
use crate::domain::actor::Scope;
use crate::domain::billing::settings::BillingSettings;
use crate::domain::deliverable_states::ReviewStatus;
use crate::error::AppResult;
use crate::service::{generation, hired_agents};

pub use crate::db::review_queue::{Filter, Item, Recent, Summary, SummaryRows};

/// The badge stops counting here and shows "99+".
pub const BADGE_CAP: i64 = 100;

/// The filter with the scope applied: a customer sees only their own items, whatever was asked.
fn scoped(scope: &Scope, filter: &Filter) -> Filter {
    let mut f = filter.clone();
    if let Some(own) = scope.customer() {
        f.customer = Some(own.to_string());
    }
    f
}

/// One page of the queue, oldest first, after the deliverable `after`. One statement.
pub async fn page(
    db: &Db,
    scope: &Scope,
    filter: &Filter,
    after: Option<&str>,
    limit: i64,
) -> AppResult<Vec<Item>> {
    let mut c = db.acquire().await?;
    Ok(review_queue::page(c.conn(), &scoped(scope, filter), after, limit).await?)
}

/// [`page`] as the review queue lists it: summaries without payloads, left in their rows (read
/// them with [`SummaryRows::summaries`]). One statement.
pub async fn summary_rows(
    db: &Db,
    scope: &Scope,
    filter: &Filter,
    after: Option<&str>,
    limit: i64,
) -> AppResult<SummaryRows> {
    let mut c = db.acquire().await?;
    Ok(review_queue::summary_rows(c.conn(), &scoped(scope, filter), after, limit).await?)
}

/// [`page`] as summaries, owned. One statement.
pub async fn summaries(
    db: &Db,
    scope: &Scope,
    filter: &Filter,
    after: Option<&str>,
    limit: i64,
) -> AppResult<Vec<Summary>> {
    let mut c = db.acquire().await?;
    Ok(review_queue::summaries(c.conn(), &scoped(scope, filter), after, limit).await?)
}

/// One deliverable's summary through the queue's filter and the scope (`None` when it does not
/// pass).
pub async fn one_summary(
    db: &Db,
    scope: &Scope,
    filter: &Filter,
    id: &str,
) -> AppResult<Option<Summary>> {
    let f = Filter {
        id: Some(id.to_string()),
        ..filter.clone()
    };
    Ok(summaries(db, scope, &f, None, 1).await?.into_iter().next())
}

/// One deliverable through the queue's filter and the scope (`None` when it does not pass).
pub async fn one(db: &Db, scope: &Scope, filter: &Filter, id: &str) -> AppResult<Option<Item>> {
    let f = Filter {
        id: Some(id.to_string()),
        ..filter.clone()
    };
    Ok(page(db, scope, &f, None, 1).await?.into_iter().next())
}

/// The newest few deliverables of each goal of an agent the caller has loaded in its scope.
pub async fn recent_of_agent(db: &Db, hired_agent_id: &str) -> AppResult<Vec<Recent>> {
    const PER_GOAL: i64 = 3;
    let mut c = db.acquire().await?;
    Ok(review_queue::recent_of_agent(c.conn(), hired_agent_id, PER_GOAL).await?)
}

/// How many items wait for review in the scope, up to [`BADGE_CAP`]. One statement.
pub async fn pending_count(db: &Db, scope: &Scope) -> AppResult<i64> {
    let mut c = db.acquire().await?;
    Ok(review_queue::pending_count(c.conn(), scope.customer(), BADGE_CAP).await?)
}

/// One agent's deliverables (404 outside the scope, 410 past its retention at `now`), after
/// generating its due drafts at `as_of` (daily, weekly and monthly goals, the scheduler's rules).
#[allow(clippy::too_many_arguments)]
pub async fn of_agent(
    db: &Db,
    settings: &BillingSettings,
    scope: &Scope,
    now: DateTime<Utc>,
    hired_agent_id: &str,
    filter: &Filter,
    after: Option<&str>,
    limit: i64,
    as_of: DateTime<Utc>,
) -> AppResult<Vec<Item>> {
    let agent = hired_agents::get(db, settings, scope, hired_agent_id, now).await?;
    generation::run_due(db, as_of, Some(&agent.id)).await?;
    let f = Filter {
        hired_agent: Some(agent.id.clone()),
        ..filter.clone()
    };
    page(db, scope, &f, after, limit).await
}

/// Everything a deliverable's page (and the API's detail) shows.
#[derive(Debug, Clone)]
pub struct Detail {
    pub deliverable: Deliverable,
    pub agent: HiredAgent,
    pub approval: Option<Approval>,
    pub denials: Vec<Denial>,
    pub log: Vec<LoggedStep>,
    pub handovers: Vec<Handover>,
}

/// One deliverable the scope may see (404 otherwise; 410 past its agent's retention at `now`),
/// with its decision, denials, execution log and hand-overs: one statement for one waiting for
/// review, two once decided, five once approved.
pub async fn detail(
    db: &Db,
    settings: &BillingSettings,
    scope: &Scope,
    id: &str,
    now: DateTime<Utc>,
) -> AppResult<Detail> {
    let deliverables::WithAgent { deliverable, agent } =
        hired_agents::deliverable_with_agent(db, settings, scope, id, now).await?;
    // What cannot exist yet is not asked for: a decision record only once decided, and
    // denials, runs and hand-overs only for an approved deliverable (the execution gate lets
    // nothing else through).
    let decided = deliverable.approval_id.is_some()
        || deliverable.review_status != ReviewStatus::PendingReview.as_str();
    let approved = deliverable.review_status == ReviewStatus::Approved.as_str();
    let mut c = db.acquire().await?;
    let approval = match decided {
        true => deliverables::approval_of(c.conn(), id).await?,
        false => None,
    };
    let (denials, log, handovers) = match approved {
        true => (
            deliverables::denials_of(c.conn(), id).await?,
            deliverables::steps_of(c.conn(), id).await?,
            deliverables::outbox_of(c.conn(), id).await?,
        ),
        false => Default::default(),
    };
    Ok(Detail {
        deliverable,
        agent,
        approval,
        denials,
        log,
        handovers,
    })
}
