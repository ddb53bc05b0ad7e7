//! The audit writer: the one place that appends to the audit trail. Callers pass their open
//! transaction, so the entry commits or rolls back together with the change it describes.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::types::Json;

use super::Conn;
use crate::domain::actor::Actor;
use crate::on_conn;

/// One change of state.
pub struct Change<'a> {
    pub entity_type: &'a str,
    pub entity_id: &'a str,
    pub action: &'a str,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

pub async fn record(c: Conn<'_>, actor: &Actor, change: Change<'_>) -> sqlx::Result<()> {
    crate::execute!(c, sqlx::query(
        "INSERT INTO audit_log (at, actor_user_id, actor_role, entity_type, entity_id, action, before, after, correlation_id, on_behalf_of) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
        .bind(actor.now).bind(actor.user_id).bind(actor.role.map(|r| r.as_str()))
        .bind(change.entity_type).bind(change.entity_id).bind(change.action)
        .bind(change.before.map(Json)).bind(change.after.map(Json)).bind(&actor.correlation_id)
        .bind(actor.on_behalf_of.as_deref())
        )?;
    Ok(())
}

/// The statement of [`exists_since`]: `$1` the entity type, `$2` its id, `$3` the action, `$4`
/// the moment.
pub const EXISTS_SINCE_SQL: &str = "SELECT COUNT(*) FROM audit_log WHERE entity_type = $1 AND entity_id = $2 \
     AND action = $3 AND at > $4";

/// Whether an entry with this action exists for the entity since `since`.
pub async fn exists_since(
    c: Conn<'_>,
    entity_type: &str,
    entity_id: &str,
    action: &str,
    since: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let n: i64 = on_conn!(c, e => sqlx::query_scalar(EXISTS_SINCE_SQL)
        .bind(entity_type).bind(entity_id).bind(action).bind(since).fetch_one(e).await)?;
    Ok(n > 0)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor_user_id: Option<i64>,
    pub actor_role: Option<String>,
    pub actor_email: Option<String>,
    pub entity_type: String,
    pub entity_id: String,
    pub action: String,
    pub before: Option<Json<Value>>,
    pub after: Option<Json<Value>>,
    pub correlation_id: String,
}

const COLUMNS: &str = "a.id, a.at, a.actor_user_id, a.actor_role, u.email AS actor_email, a.entity_type, a.entity_id, \
     a.action, a.before, a.after, a.correlation_id";

/// The actions of signing in and out (see `signin::login` and `signin::record_logout`): routine
/// entries that the activity lists can hide.
pub const SIGN_IN_ACTIONS: [&str; 5] = [
    "login_succeeded",
    "login_failed",
    "login_throttled",
    "logout",
    "logout_everywhere",
];

/// The statement of [`recent`], one text per combination of what is asked (no `($1 IS NULL OR …)`
/// catch-alls, so one entity's entries are read through `audit_log_entity_idx`): with `entity`,
/// `$1` the entity type and `$2` its id; the limit is the last placeholder.
pub fn recent_sql(entity: bool, hide_sign_ins: bool) -> String {
    let mut conds: Vec<String> = vec![];
    let mut placeholders = 0;
    if entity {
        conds.push("a.entity_type = $1 AND a.entity_id = $2".into());
        placeholders = 2;
    }
    if hide_sign_ins {
        let sign_ins = SIGN_IN_ACTIONS.map(|a| format!("'{a}'")).join(", ");
        conds.push(format!("a.action NOT IN ({sign_ins})"));
    }
    let where_ = if conds.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conds.join(" AND "))
    };
    format!(
        "SELECT {COLUMNS} FROM audit_log a LEFT JOIN users u ON u.id = a.actor_user_id{where_} \
         ORDER BY a.id DESC LIMIT ${}",
        placeholders + 1
    )
}

/// The newest entries, optionally for one entity, optionally without sign-ins and sign-outs (left
/// out by the query itself, so the limit counts only what is shown).
pub async fn recent(
    c: Conn<'_>,
    entity: Option<(&str, &str)>,
    hide_sign_ins: bool,
    limit: i64,
) -> sqlx::Result<Vec<AuditEntry>> {
    let sql = sqlx::AssertSqlSafe(recent_sql(entity.is_some(), hide_sign_ins));
    match entity {
        Some((t, id)) => {
            on_conn!(c, e => sqlx::query_as(sql).bind(t).bind(id).bind(limit).fetch_all(e).await)
        }
        None => on_conn!(c, e => sqlx::query_as(sql).bind(limit).fetch_all(e).await),
    }
}

/// The statement of [`of_customer`]: `$1` the customer, `$2` the limit.
///
/// The entities are listed first and each is looked up in `audit_log_entity_idx`. The `CROSS
/// JOIN` keeps that order on SQLite, whose planner otherwise walks the whole trail newest first
/// testing each entry against the list (PostgreSQL reorders it as it likes; no entity is listed
/// twice, so the join returns what an `IN` would).
pub fn of_customer_sql() -> String {
    format!(
        "SELECT {COLUMNS} FROM ( \
           SELECT CAST('customer' AS TEXT) AS entity_type, CAST($1 AS TEXT) AS entity_id \
           UNION ALL SELECT 'subscription', id FROM subscriptions WHERE customer_id = $1 \
           UNION ALL SELECT 'order', id FROM orders WHERE customer_id = $1 \
           UNION ALL SELECT 'invoice', id FROM invoices WHERE customer_id = $1 \
           UNION ALL SELECT 'receipt', id FROM receipts WHERE customer_id = $1) k \
         CROSS JOIN audit_log a LEFT JOIN users u ON u.id = a.actor_user_id \
         WHERE a.entity_type = k.entity_type AND a.entity_id = k.entity_id \
         ORDER BY a.id DESC LIMIT $2"
    )
}

/// The newest entries about a customer and everything billed to it: the customer itself, its
/// subscriptions, orders, invoices and receipts (each probe uses the entity index).
pub async fn of_customer(
    c: Conn<'_>,
    customer_id: &str,
    limit: i64,
) -> sqlx::Result<Vec<AuditEntry>> {
    let sql = sqlx::AssertSqlSafe(of_customer_sql());
    on_conn!(c, e => sqlx::query_as(sql).bind(customer_id).bind(limit).fetch_all(e).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_statement_per_combination_without_catch_alls() {
        let all = recent_sql(false, false);
        assert!(!all.contains("WHERE"), "{all}");
        assert!(all.ends_with("ORDER BY a.id DESC LIMIT $1"), "{all}");

        let shown = recent_sql(false, true);
        assert!(
            shown.contains(" WHERE a.action NOT IN ('login_succeeded', "),
            "{shown}"
        );
        assert!(shown.ends_with("LIMIT $1"), "{shown}");

        let entity = recent_sql(true, false);
        assert!(
            entity.contains(" WHERE a.entity_type = $1 AND a.entity_id = $2 ORDER BY"),
            "{entity}"
        );
        assert!(entity.ends_with("LIMIT $3"), "{entity}");

        let both = recent_sql(true, true);
        assert!(
            both.contains("a.entity_id = $2 AND a.action NOT IN"),
            "{both}"
        );
        for sql in [all, shown, entity, both, of_customer_sql()] {
            assert!(!sql.contains("IS NULL"), "{sql}");
        }
    }
}
