//! Rows of `agent_type_versions`.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::types::Json;

use super::Conn;
use crate::on_conn;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct VersionRow {
    pub id: String,
    pub agent_type_id: String,
    pub version: String,
    pub status: String,
    pub display_name: String,
    pub document: Json<Value>,
    pub created_by: Option<i64>,
    pub created_by_email: Option<String>,
    pub published_by_email: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
    pub retired_at: Option<DateTime<Utc>>,
}

const SELECT: &str = "SELECT v.id, v.agent_type_id, v.version, v.status, v.display_name, v.document, v.created_by, \
     cu.email AS created_by_email, pu.email AS published_by_email, v.created_at, v.updated_at, v.published_at, v.retired_at \
     FROM agent_type_versions v LEFT JOIN users cu ON cu.id = v.created_by LEFT JOIN users pu ON pu.id = v.published_by";

pub struct NewVersion<'a> {
    pub agent_type_id: &'a str,
    pub version: &'a str,
    pub version_sort: &'a str,
    pub status: &'a str,
    pub display_name: &'a str,
    pub document: &'a Value,
    pub created_by: Option<i64>,
}

/// Inserts a version; false when `(agent_type_id, version)` exists already.
pub async fn insert(c: Conn<'_>, v: &NewVersion<'_>, now: DateTime<Utc>) -> sqlx::Result<bool> {
    let published_at = (v.status == "published").then_some(now);
    let n = crate::execute!(c, sqlx::query(
        "INSERT INTO agent_type_versions (id, agent_type_id, version, version_sort, status, display_name, document, created_by, \
         published_by, created_at, updated_at, published_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, $9, $9, $10) \
         ON CONFLICT (agent_type_id, version) DO NOTHING")
        .bind(format!("{}@{}", v.agent_type_id, v.version)).bind(v.agent_type_id).bind(v.version).bind(v.version_sort)
        .bind(v.status).bind(v.display_name).bind(Json(v.document)).bind(v.created_by).bind(now).bind(published_at))?;
    Ok(n == 1)
}

pub async fn get(
    c: Conn<'_>,
    agent_type_id: &str,
    version: &str,
) -> sqlx::Result<Option<VersionRow>> {
    let sql = sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE v.agent_type_id = $1 AND v.version = $2"
    ));
    on_conn!(c, e => sqlx::query_as(sql).bind(agent_type_id).bind(version).fetch_optional(e).await)
}

/// A type's versions, newest first; `published_only` hides drafts (and keeps retired ones listed).
pub async fn versions_of(
    c: Conn<'_>,
    agent_type_id: &str,
    published_only: bool,
) -> sqlx::Result<Vec<VersionRow>> {
    let sql = sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE v.agent_type_id = $1 AND ($2 = FALSE OR v.status <> 'draft') ORDER BY v.version_sort DESC"
    ));
    on_conn!(c, e => sqlx::query_as(sql).bind(agent_type_id).bind(published_only).fetch_all(e).await)
}

/// The newest published version of a type (what new hires use).
pub async fn newest_published(
    c: Conn<'_>,
    agent_type_id: &str,
) -> sqlx::Result<Option<VersionRow>> {
    let sql = sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE v.agent_type_id = $1 AND v.status = 'published' ORDER BY v.version_sort DESC LIMIT 1"
    ));
    on_conn!(c, e => sqlx::query_as(sql).bind(agent_type_id).fetch_optional(e).await)
}

/// One line per type for the catalog list.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TypeSummary {
    pub agent_type_id: String,
    pub display_name: String,
    /// The version the type is known by: its newest published one, else its newest of any status.
    pub version: String,
    pub status: String,
    pub versions: i64,
    pub published_versions: i64,
    /// A draft newer than `version` exists.
    pub draft_pending: bool,
    /// The latest change to any of its versions.
    pub updated_at: DateTime<Utc>,
}

/// Per type: the version it is known by (its newest published one, else its newest), whether a newer
/// draft is pending, and counts; filtered by a search over id and name and by that version's status
/// (`pending`: types with a draft pending). `published_only` leaves drafts out altogether.
pub async fn summaries(
    c: Conn<'_>,
    query: &str,
    status: Option<&str>,
    published_only: bool,
) -> sqlx::Result<Vec<TypeSummary>> {
    let pattern = format!("%{}%", super::users::escape_like(&query.to_lowercase()));
    on_conn!(c, e => sqlx::query_as(
        "SELECT agent_type_id, display_name, version, status, versions, published_versions, \
                (newest_draft IS NOT NULL AND newest_draft > version_sort) AS draft_pending, updated_at FROM ( \
           SELECT v.agent_type_id, v.display_name, v.version, v.version_sort, v.status, \
                  ROW_NUMBER() OVER (PARTITION BY v.agent_type_id \
                    ORDER BY CASE WHEN v.status = 'published' THEN 0 ELSE 1 END, v.version_sort DESC) AS rn, \
                  COUNT(*) OVER (PARTITION BY v.agent_type_id) AS versions, \
                  SUM(CASE WHEN v.status = 'published' THEN 1 ELSE 0 END) OVER (PARTITION BY v.agent_type_id) AS published_versions, \
                  MAX(CASE WHEN v.status = 'draft' THEN v.version_sort END) OVER (PARTITION BY v.agent_type_id) AS newest_draft, \
                  MAX(v.updated_at) OVER (PARTITION BY v.agent_type_id) AS updated_at \
           FROM agent_type_versions v WHERE ($3 = FALSE OR v.status = 'published') \
         ) known \
         WHERE rn = 1 AND ($1 = '%%' OR lower(agent_type_id) LIKE $1 ESCAPE '\\' OR lower(display_name) LIKE $1 ESCAPE '\\') \
           AND ($2 IS NULL OR status = $2 OR ($2 = 'pending' AND newest_draft IS NOT NULL AND newest_draft > version_sort)) \
         ORDER BY lower(display_name), agent_type_id")
        .bind(&pattern).bind(status).bind(published_only).fetch_all(e).await)
}

/// The statement of [`type_names`] (no parameters, so PostgreSQL plans it once per connection).
pub const TYPE_NAMES_SQL: &str = "SELECT agent_type_id, display_name FROM ( \
       SELECT agent_type_id, display_name, ROW_NUMBER() OVER (PARTITION BY agent_type_id \
         ORDER BY CASE WHEN status = 'published' THEN 0 ELSE 1 END, version_sort DESC) AS rn \
       FROM agent_type_versions) named \
     WHERE rn = 1 ORDER BY lower(display_name), agent_type_id";

/// Every type as (id, display name), by name, each named as in [`summaries`] (its newest published
/// version, else its newest version): the choices of the lists' type filters.
pub async fn type_names(c: Conn<'_>) -> sqlx::Result<Vec<(String, String)>> {
    on_conn!(c, e => sqlx::query_as(TYPE_NAMES_SQL).fetch_all(e).await)
}

/// The newest version of every type (only published ones when asked), whole, in one query.
pub async fn newest_versions(c: Conn<'_>, published_only: bool) -> sqlx::Result<Vec<VersionRow>> {
    let sql = sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE v.id IN (SELECT id FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY agent_type_id ORDER BY version_sort DESC) AS rn            FROM agent_type_versions WHERE ($1 = FALSE OR status = 'published')) ranked WHERE rn = 1)          ORDER BY lower(v.display_name), v.agent_type_id"
    ));
    on_conn!(c, e => sqlx::query_as(sql).bind(published_only).fetch_all(e).await)
}

/// Every version id, for "copy from" pickers.
pub async fn all_ids(c: Conn<'_>) -> sqlx::Result<Vec<(String, String)>> {
    on_conn!(c, e => sqlx::query_as("SELECT id, status FROM agent_type_versions ORDER BY agent_type_id, version_sort DESC").fetch_all(e).await)
}

pub async fn update_document(
    c: Conn<'_>,
    id: &str,
    display_name: &str,
    document: &Value,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let n = crate::execute!(c, sqlx::query("UPDATE agent_type_versions SET document = $1, display_name = $2, updated_at = $3 WHERE id = $4 AND status = 'draft'")
        .bind(Json(document)).bind(display_name).bind(now).bind(id))?;
    Ok(n == 1)
}

/// Moves a version from `from` to `status`; false when it was no longer `from` (someone else was first).
pub async fn set_status(
    c: Conn<'_>,
    id: &str,
    from: &str,
    last_change: DateTime<Utc>,
    status: &str,
    by: Option<i64>,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let (published_at, retired_at) = match status {
        "published" => (Some(now), None),
        "retired" => (None, Some(now)),
        _ => (None, None),
    };
    let n = crate::execute!(c, sqlx::query(
        "UPDATE agent_type_versions SET status = $1, updated_at = $2, \
           published_at = COALESCE($3, published_at), published_by = CASE WHEN $3 IS NULL THEN published_by ELSE $4 END, \
           retired_at = COALESCE($5, retired_at) WHERE id = $6 AND status = $7 AND updated_at = $8")
        .bind(status).bind(now).bind(published_at).bind(by).bind(retired_at).bind(id).bind(from)
        .bind(last_change))?;
    Ok(n == 1)
}
