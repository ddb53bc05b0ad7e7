//! Reads of the audit trail and the staff dashboard's figures.

use crate::db::{Db, agent_types, audit, users};
use crate::error::AppResult;

pub use crate::db::audit::AuditEntry;

/// What the staff dashboard shows.
pub struct Dashboard {
    /// Users by role.
    pub users_by_role: Vec<(String, i64)>,
    pub agent_types: i64,
    pub agent_types_with_draft: i64,
    pub recent: Vec<AuditEntry>,
}

/// The dashboard: user counts, the catalog in two numbers and the newest activity (without
/// sign-ins when asked). Four statements.
pub async fn dashboard(db: &Db, hide_sign_ins: bool, recent: i64) -> AppResult<Dashboard> {
    let mut c = db.acquire().await?;
    let users_by_role = users::count_by_role(c.conn()).await?;
    let catalog = agent_types::summaries(c.conn(), "", None, false).await?;
    let recent = audit::recent(c.conn(), None, hide_sign_ins, recent).await?;
    Ok(Dashboard {
        users_by_role,
        agent_types: catalog.len() as i64,
        agent_types_with_draft: catalog
            .iter()
            .filter(|t| t.draft_pending || t.status == "draft")
            .count() as i64,
        recent,
    })
}

/// The newest entries about a customer and its subscriptions, orders, invoices and receipts.
pub async fn history_of_customer(
    db: &Db,
    customer_id: &str,
    limit: i64,
) -> AppResult<Vec<AuditEntry>> {
    let mut c = db.acquire().await?;
    Ok(audit::of_customer(c.conn(), customer_id, limit).await?)
}

/// The newest entries about one entity (`("user", "42")`).
pub async fn history_of(
    db: &Db,
    entity_type: &str,
    entity_id: &str,
    limit: i64,
) -> AppResult<Vec<AuditEntry>> {
    let mut c = db.acquire().await?;
    Ok(audit::recent(c.conn(), Some((entity_type, entity_id)), false, limit).await?)
}
