use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{Conn, Engine};
use crate::domain::roles::Role;
use crate::on_conn;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub id: i64,
    pub email: String,
    pub role: String,
    pub customer_id: Option<String>,
    pub disabled: bool,
    pub must_change_password: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A user as the rest of the app sees it. The password hash is deliberately not part of it: it is
/// read only where a password is checked (`password_hash`, `by_email_for_login`), so it can never
/// reach a principal, a session, a template or a log line.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub role: Role,
    pub customer_id: Option<String>,
    pub disabled: bool,
    pub must_change_password: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<UserRow> for User {
    type Error = sqlx::Error;
    fn try_from(r: UserRow) -> sqlx::Result<Self> {
        // The CHECK constraint keeps unknown roles out; one that slips in anyway is an error, never
        // a silent downgrade or upgrade.
        let role = Role::parse(&r.role).ok_or_else(|| {
            sqlx::Error::Decode(format!("user {} has an unknown role {:?}", r.id, r.role).into())
        })?;
        Ok(User {
            id: r.id,
            email: r.email,
            role,
            customer_id: r.customer_id,
            disabled: r.disabled,
            must_change_password: r.must_change_password,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

impl User {
    /// What the audit trail records of a user (never the password hash).
    pub fn audit_json(&self) -> serde_json::Value {
        json!({
            "id": self.id,
            "email": self.email,
            "role": self.role.as_str(),
            "customer_id": self.customer_id,
            "disabled": self.disabled,
            "must_change_password": self.must_change_password,
        })
    }
}

pub const COLUMNS: &str =
    "id, email, role, customer_id, disabled, must_change_password, created_at, updated_at";

pub struct NewUser<'a> {
    pub email: &'a str,
    pub password_hash: &'a str,
    pub role: Role,
    pub customer_id: Option<&'a str>,
    pub must_change_password: bool,
}

pub async fn insert(c: Conn<'_>, u: &NewUser<'_>, now: DateTime<Utc>) -> sqlx::Result<User> {
    let row: UserRow = on_conn!(c, e => sqlx::query_as(
        "INSERT INTO users (email, password_hash, role, customer_id, disabled, must_change_password, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, FALSE, $5, $6, $6) \
         RETURNING id, email, role, customer_id, disabled, must_change_password, created_at, updated_at")
        .bind(u.email).bind(u.password_hash).bind(u.role.as_str()).bind(u.customer_id)
        .bind(u.must_change_password).bind(now)
        .fetch_one(e).await)?;
    row.try_into()
}

pub async fn by_id(c: Conn<'_>, id: i64) -> sqlx::Result<Option<User>> {
    let sql = sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM users WHERE id = $1"));
    let row: Option<UserRow> =
        on_conn!(c, e => sqlx::query_as(sql).bind(id).fetch_optional(e).await)?;
    row.map(User::try_from).transpose()
}

pub async fn by_email(c: Conn<'_>, email: &str) -> sqlx::Result<Option<User>> {
    let sql = sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM users WHERE email = $1"));
    let row: Option<UserRow> =
        on_conn!(c, e => sqlx::query_as(sql).bind(email).fetch_optional(e).await)?;
    row.map(User::try_from).transpose()
}

/// The stored password hash of a user, for checking a password they typed.
pub async fn password_hash(c: Conn<'_>, id: i64) -> sqlx::Result<Option<String>> {
    on_conn!(c, e => sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
        .bind(id).fetch_optional(e).await)
}

/// A user and their password hash, for signing in.
pub async fn by_email_for_login(c: Conn<'_>, email: &str) -> sqlx::Result<Option<(User, String)>> {
    #[derive(sqlx::FromRow)]
    struct WithHash {
        #[sqlx(flatten)]
        user: UserRow,
        password_hash: String,
    }
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS}, password_hash FROM users WHERE email = $1"
    ));
    let row: Option<WithHash> =
        on_conn!(c, e => sqlx::query_as(sql).bind(email).fetch_optional(e).await)?;
    row.map(|r| Ok((User::try_from(r.user)?, r.password_hash)))
        .transpose()
}

/// The users of one customer, oldest first.
pub async fn for_customer(c: Conn<'_>, customer_id: &str) -> sqlx::Result<Vec<User>> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM users WHERE customer_id = $1 ORDER BY id"
    ));
    let rows: Vec<UserRow> =
        on_conn!(c, e => sqlx::query_as(sql).bind(customer_id).fetch_all(e).await)?;
    rows.into_iter().map(User::try_from).collect()
}

/// Admins, enabled or not.
pub async fn count_admins(c: Conn<'_>) -> sqlx::Result<i64> {
    on_conn!(c, e => sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE role = 'admin'").fetch_one(e).await)
}

pub async fn count(c: Conn<'_>) -> sqlx::Result<i64> {
    on_conn!(c, e => sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(e).await)
}

/// A user in the admin list, with their customer's name.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserListRow {
    pub id: i64,
    pub email: String,
    pub role: String,
    pub customer_id: Option<String>,
    pub customer_name: Option<String>,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
}

/// A term this short is matched as an e-mail prefix; longer ones anywhere in the e-mail or the
/// customer's name (trigram indexes need three characters).
pub const MIN_CONTAINS_CHARS: usize = 3;

/// The statement behind [`search`] and its text parameters in order, built for the filters actually
/// given (no catch-all predicates, which defeat indexes). Dialect differences are all here: "contains"
/// uses pg_trgm indexes on PostgreSQL and the `users_search` FTS5 trigram table on SQLite.
pub fn search_sql(
    engine: Engine,
    query: &str,
    role: Option<Role>,
    before_id: Option<i64>,
) -> (String, Vec<String>) {
    let term = query.trim().to_lowercase();
    let mut texts: Vec<String> = vec![];
    let mut n = 0;
    let mut next = || {
        n += 1;
        format!("${n}")
    };
    let mut filters: Vec<String> = vec![];
    if term.chars().count() >= MIN_CONTAINS_CHARS {
        let p = next();
        filters.push(match engine {
            // ARRAY(…) runs once, so both sides of the OR are index conditions (a bitmap OR of
            // the e-mail trigram index and the customer index) rather than a filter per row.
            Engine::Postgres => format!(
                "(u.email LIKE {p} ESCAPE '\\' OR u.customer_id = ANY(ARRAY(\
                 SELECT id FROM customers WHERE lower(name) LIKE {p} ESCAPE '\\')))"
            ),
            Engine::Sqlite => {
                format!("u.id IN (SELECT rowid FROM users_search WHERE users_search MATCH {p})")
            }
        });
        texts.push(match engine {
            Engine::Postgres => format!("%{}%", escape_like(&term)),
            // One quoted phrase: matched as a substring, nothing in it is query syntax.
            Engine::Sqlite => format!("\"{}\"", term.replace('"', "\"\"")),
        });
    } else if !term.is_empty() {
        let (from, to) = (next(), next());
        filters.push(match engine {
            Engine::Postgres => {
                format!("u.email COLLATE \"C\" >= {from} AND u.email COLLATE \"C\" < {to}")
            }
            Engine::Sqlite => format!("u.email >= {from} AND u.email < {to}"),
        });
        texts.push(term.clone());
        texts.push(format!("{term}\u{10ffff}"));
    }
    if let Some(r) = role {
        filters.push(format!("u.role = {}", next()));
        texts.push(r.as_str().to_string());
    }
    if before_id.is_some() {
        filters.push(format!("u.id < {}", next()));
    }
    let limit = next();
    let where_ = if filters.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", filters.join(" AND "))
    };
    (
        format!(
            "SELECT u.id, u.email, u.role, u.customer_id, c.name AS customer_name, u.disabled, \
             u.created_at FROM users u LEFT JOIN customers c ON c.id = u.customer_id {where_} \
             ORDER BY u.id DESC LIMIT {limit}"
        ),
        texts,
    )
}

/// Users matching a search (see [`search_sql`]) and an optional role, newest first, at most
/// `limit`, after the keyset cursor `before_id`.
pub async fn search(
    c: Conn<'_>,
    query: &str,
    role: Option<Role>,
    before_id: Option<i64>,
    limit: i64,
) -> sqlx::Result<Vec<UserListRow>> {
    let (sql, texts) = search_sql(c.engine(), query, role, before_id);
    let sql = sqlx::AssertSqlSafe(sql);
    on_conn!(c, e => {
        let mut q = sqlx::query_as(sql);
        for t in &texts {
            q = q.bind(t);
        }
        if let Some(b) = before_id {
            q = q.bind(b);
        }
        q.bind(limit).fetch_all(e).await
    })
}

pub fn escape_like(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

pub async fn set_role(
    c: Conn<'_>,
    id: i64,
    role: Role,
    customer_id: Option<&str>,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    crate::execute!(
        c,
        sqlx::query("UPDATE users SET role = $1, customer_id = $2, updated_at = $3 WHERE id = $4")
            .bind(role.as_str())
            .bind(customer_id)
            .bind(now)
            .bind(id)
    )?;
    Ok(())
}

pub async fn set_disabled(
    c: Conn<'_>,
    id: i64,
    disabled: bool,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    crate::execute!(
        c,
        sqlx::query("UPDATE users SET disabled = $1, updated_at = $2 WHERE id = $3")
            .bind(disabled)
            .bind(now)
            .bind(id)
    )?;
    Ok(())
}

pub async fn set_password(
    c: Conn<'_>,
    id: i64,
    password_hash: &str,
    must_change: bool,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    crate::execute!(c, sqlx::query("UPDATE users SET password_hash = $1, must_change_password = $2, updated_at = $3 WHERE id = $4")
        .bind(password_hash).bind(must_change).bind(now).bind(id))?;
    Ok(())
}

/// How many enabled admins there are (the last one may not be demoted or disabled). On PostgreSQL the
/// admin rows are locked for the rest of the transaction, so two admins demoting each other at once
/// cannot both succeed; SQLite's write transactions are serial already.
pub async fn count_active_admins(c: Conn<'_>) -> sqlx::Result<i64> {
    match c {
        Conn::Postgres(e) => {
            let ids: Vec<i64> = sqlx::query_scalar(
                "SELECT id FROM users WHERE role = 'admin' AND NOT disabled FOR UPDATE",
            )
            .fetch_all(e)
            .await?;
            Ok(ids.len() as i64)
        }
        Conn::Sqlite(e) => {
            sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE role = 'admin' AND NOT disabled")
                .fetch_one(e)
                .await
        }
    }
}

/// Number of users per role, for the dashboard.
pub async fn count_by_role(c: Conn<'_>) -> sqlx::Result<Vec<(String, i64)>> {
    on_conn!(c, e => sqlx::query_as("SELECT role, COUNT(*) FROM users GROUP BY role ORDER BY role").fetch_all(e).await)
}
