use chrono::{DateTime, Utc};
use serde_json::json;

use super::users::escape_like;
use super::{Conn, Engine};
use crate::on_conn;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Customer {
    pub id: String,
    pub name: String,
    pub email: String,
    pub gstin: Option<String>,
    pub billing_address: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Customer {
    pub fn audit_json(&self) -> serde_json::Value {
        json!({
            "id": self.id,
            "name": self.name,
            "email": self.email,
            "gstin": self.gstin,
            "billing_address": self.billing_address,
        })
    }
}

const COLUMNS: &str = "id, name, email, gstin, billing_address, created_at, updated_at";

/// A customer's values as stored (already validated and normalised by the service).
pub struct Values<'a> {
    pub name: &'a str,
    pub email: &'a str,
    pub gstin: Option<&'a str>,
    pub billing_address: Option<&'a str>,
}

pub async fn insert(
    c: Conn<'_>,
    id: &str,
    v: &Values<'_>,
    now: DateTime<Utc>,
) -> sqlx::Result<Customer> {
    let sql = sqlx::AssertSqlSafe(format!(
        "INSERT INTO customers (id, name, email, gstin, billing_address, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING {COLUMNS}"
    ));
    on_conn!(c, e => sqlx::query_as(sql)
        .bind(id).bind(v.name).bind(v.email).bind(v.gstin).bind(v.billing_address).bind(now)
        .fetch_one(e).await)
}

/// Replaces a customer's values; the changed row, or `None` when there is no such customer.
pub async fn update(
    c: Conn<'_>,
    id: &str,
    v: &Values<'_>,
    now: DateTime<Utc>,
) -> sqlx::Result<Option<Customer>> {
    let sql = sqlx::AssertSqlSafe(format!(
        "UPDATE customers SET name = $1, email = $2, gstin = $3, billing_address = $4, updated_at = $5 \
         WHERE id = $6 RETURNING {COLUMNS}"
    ));
    on_conn!(c, e => sqlx::query_as(sql)
        .bind(v.name).bind(v.email).bind(v.gstin).bind(v.billing_address).bind(now).bind(id)
        .fetch_optional(e).await)
}

pub async fn by_id(c: Conn<'_>, id: &str) -> sqlx::Result<Option<Customer>> {
    let sql = sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM customers WHERE id = $1"));
    on_conn!(c, e => sqlx::query_as(sql).bind(id).fetch_optional(e).await)
}

/// A customer about to be changed: on PostgreSQL its row is locked for the rest of the transaction,
/// so the audit entry's "before" is what the change replaced even when two people save at once
/// (SQLite's write transactions are serial already).
pub async fn by_id_for_update(c: Conn<'_>, id: &str) -> sqlx::Result<Option<Customer>> {
    let lock = match c.engine() {
        Engine::Postgres => " FOR UPDATE",
        Engine::Sqlite => "",
    };
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM customers WHERE id = $1{lock}"
    ));
    on_conn!(c, e => sqlx::query_as(sql).bind(id).fetch_optional(e).await)
}

pub async fn by_email(c: Conn<'_>, email: &str) -> sqlx::Result<Option<Customer>> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM customers WHERE email = $1 ORDER BY created_at LIMIT 1"
    ));
    on_conn!(c, e => sqlx::query_as(sql).bind(email).fetch_optional(e).await)
}

/// Customers by name, for pickers.
pub async fn list(c: Conn<'_>, limit: i64) -> sqlx::Result<Vec<Customer>> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM customers ORDER BY lower(name), id LIMIT $1"
    ));
    on_conn!(c, e => sqlx::query_as(sql).bind(limit).fetch_all(e).await)
}

/// A position in the newest-first list: the last row shown (`created_at`, `id`).
pub type Cursor = (DateTime<Utc>, String);

/// A term this short is matched at the start of a name, e-mail or GSTIN; longer ones anywhere in
/// them (trigram indexes need three characters).
pub const MIN_CONTAINS_CHARS: usize = 3;

/// The statement behind [`search`] and its text parameters in order (the cursor's two values and
/// the limit follow them), built for the filters actually given. On PostgreSQL "contains" and
/// "starts with" are served by the pg_trgm indexes on `lower(name)`, `lower(email)` and `gstin`
/// (a bitmap OR of the three); on SQLite short terms use the plain indexes on the same expressions,
/// and longer ones walk the customers newest first until the page is full. Case is ignored (on
/// SQLite for ASCII letters only).
pub fn search_sql(engine: Engine, query: &str, after: bool) -> (String, Vec<String>) {
    let term = query.trim().to_lowercase();
    let upper = term.to_uppercase();
    let mut texts: Vec<String> = vec![];
    let mut n = 0;
    let mut next = || {
        n += 1;
        format!("${n}")
    };
    let mut filters: Vec<String> = vec![];
    let chars = term.chars().count();
    if chars >= MIN_CONTAINS_CHARS || (engine == Engine::Postgres && chars > 0) {
        let (lower_p, upper_p) = (next(), next());
        filters.push(format!(
            "(lower(name) LIKE {lower_p} ESCAPE '\\' OR lower(email) LIKE {lower_p} ESCAPE '\\' \
             OR gstin LIKE {upper_p} ESCAPE '\\')"
        ));
        let pattern = |t: &str| {
            if chars >= MIN_CONTAINS_CHARS {
                format!("%{}%", escape_like(t))
            } else {
                format!("{}%", escape_like(t))
            }
        };
        texts.push(pattern(&term));
        texts.push(pattern(&upper));
    } else if chars > 0 {
        // SQLite, short term: a range on each indexed expression.
        let (from, to, gfrom, gto) = (next(), next(), next(), next());
        filters.push(format!(
            "((lower(name) >= {from} AND lower(name) < {to}) \
             OR (lower(email) >= {from} AND lower(email) < {to}) \
             OR (gstin >= {gfrom} AND gstin < {gto}))"
        ));
        texts.push(term.clone());
        texts.push(format!("{term}\u{10ffff}"));
        texts.push(upper.clone());
        texts.push(format!("{upper}\u{10ffff}"));
    }
    if after {
        let (at, id) = (next(), next());
        filters.push(format!("(created_at, id) < ({at}, {id})"));
    }
    let limit = next();
    let where_ = if filters.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", filters.join(" AND "))
    };
    (
        format!(
            "SELECT {COLUMNS} FROM customers {where_} ORDER BY created_at DESC, id DESC LIMIT {limit}"
        ),
        texts,
    )
}

/// Customers matching a search (see [`search_sql`]), newest first, at most `limit`, after the
/// keyset cursor.
pub async fn search(
    c: Conn<'_>,
    query: &str,
    after: Option<&Cursor>,
    limit: i64,
) -> sqlx::Result<Vec<Customer>> {
    let (sql, texts) = search_sql(c.engine(), query, after.is_some());
    let sql = sqlx::AssertSqlSafe(sql);
    on_conn!(c, e => {
        let mut q = sqlx::query_as(sql);
        for t in &texts {
            q = q.bind(t);
        }
        if let Some((at, id)) = after {
            q = q.bind(at).bind(id);
        }
        q.bind(limit).fetch_all(e).await
    })
}
