//! The staff list of hired agents (`/admin/hired-agents`) and the catalog's hire counts: reads for
//! staff only (a customer's scope is refused; customers see their own agents in the portal).

use std::collections::HashMap;

use crate::db::Db;
use crate::db::hired_agents;
use crate::db::hired_agents_list;
use crate::domain::actor::Scope;
use crate::error::{AppError, AppResult, ErrorCode};

pub use crate::db::hired_agents::Summary;
pub use crate::db::hired_agents_list::{Cursor, Filter, Listed, Search, Sort};

fn staff_only(scope: &Scope) -> AppResult<()> {
    if scope.is_staff() {
        Ok(())
    } else {
        Err(AppError::forbidden(
            ErrorCode::StaffOnly,
            "This area is for agentdesk staff.",
        ))
    }
}

/// One page of the list: the agents matching `filter`, in its order, after the keyset cursor, at
/// most `limit`. One statement.
pub async fn page(
    db: &Db,
    scope: &Scope,
    filter: &Filter,
    after: Option<&Cursor>,
    limit: i64,
) -> AppResult<Vec<Listed>> {
    staff_only(scope)?;
    let mut c = db.acquire().await?;
    Ok(hired_agents_list::page(c.conn(), filter, after, limit).await?)
}

/// Every agent matching `filter`, in its order (for the CSV export): read in pages of
/// `EXPORT_BATCH`, one statement each, on one connection.
pub async fn export(db: &Db, scope: &Scope, filter: &Filter) -> AppResult<Vec<Listed>> {
    const EXPORT_BATCH: i64 = 500;
    staff_only(scope)?;
    let mut c = db.acquire().await?;
    let mut out: Vec<Listed> = vec![];
    loop {
        let after = out.last().map(|r| r.cursor(filter.sort));
        let page = hired_agents_list::page(c.conn(), filter, after.as_ref(), EXPORT_BATCH).await?;
        let full = page.len() as i64 == EXPORT_BATCH;
        out.extend(page);
        if !full {
            break;
        }
    }
    Ok(out)
}

/// How many hired agents each agent type has (the catalog's "hires" column), by type id; types
/// nobody hired are absent. One statement.
pub async fn hires_by_type(db: &Db, scope: &Scope) -> AppResult<HashMap<String, i64>> {
    staff_only(scope)?;
    let mut c = db.acquire().await?;
    Ok(hired_agents::hires_by_type(c.conn())
        .await?
        .into_iter()
        .collect())
}
