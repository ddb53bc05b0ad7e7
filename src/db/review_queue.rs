//! Lists of deliverables: the review queues (a customer's, a hired agent's, and staff's over all
//! customers) and the API's list of one agent's deliverables. Oldest first by
//! `(created_at, id)`, keyset pagination after a deliverable id, and one SQL text per combination
//! of filters given (no `($1 IS NULL OR …)` catch-alls), so each is planned for what it asks:
//! pending items walk `deliverables_pending_idx`, a customer's `deliverables_customer_idx`, an
//! agent's `deliverables_agent_idx`.

use chrono::{DateTime, Utc};

use super::Conn;
use super::deliverables::Deliverable;
use super::hired_agents::agent_name;
use crate::domain::deliverable_states::ReviewStatus;
use crate::on_conn;

/// The filters of one list request; `None` is "any".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Always set for a customer (their scope); a staff filter otherwise.
    pub customer: Option<String>,
    pub hired_agent: Option<String>,
    pub status: Option<ReviewStatus>,
    pub agent_type: Option<String>,
    /// Only items created at or before this time (the "waiting longer than" filter).
    pub created_before: Option<DateTime<Utc>>,
    /// One deliverable, if it passes the other filters (a bulk approval's confirmation).
    pub id: Option<String>,
}

/// A listed deliverable with the names the queue shows beside it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Item {
    #[sqlx(flatten)]
    pub deliverable: Deliverable,
    pub agent_nickname: Option<String>,
    pub agent_type_id: String,
    pub agent_type_name: String,
    pub customer_name: String,
}

impl Item {
    /// The hired agent's nickname, or its type's name while it has none.
    pub fn agent_name(&self) -> &str {
        agent_name(self.agent_nickname.as_deref(), &self.agent_type_name)
    }
}

/// A listed deliverable as the review queue lists it: what it is, whose, and its state, without
/// its payload (a queue item's preview is loaded when it is opened), so a page of 50 reads and
/// sends no payloads. Its text is owned (`String`) or read in place from the rows of a page
/// (`&str`, see [`SummaryRows`]).
#[derive(Debug, Clone)]
pub struct Summary<S = String> {
    pub id: S,
    pub hired_agent_id: S,
    pub customer_id: S,
    pub title: S,
    pub review_status: S,
    pub execution_status: S,
    pub created_at: DateTime<Utc>,
    pub agent_nickname: Option<S>,
    pub agent_type_id: S,
    pub agent_type_name: S,
    pub customer_name: S,
}

/// Read by position, in [`SUMMARY`]'s order: by name, each of a page's 561 values cost a hashed
/// look-up of its column. Unchecked: the statement is ours and fixes each column's type (the
/// queue's tests read every one of them back), so the per-value type comparison is skipped.
impl<'r, R: sqlx::Row, S> sqlx::FromRow<'r, R> for Summary<S>
where
    usize: sqlx::ColumnIndex<R>,
    S: sqlx::Decode<'r, R::Database>,
    Option<S>: sqlx::Decode<'r, R::Database>,
    DateTime<Utc>: sqlx::Decode<'r, R::Database>,
{
    fn from_row(row: &'r R) -> sqlx::Result<Self> {
        Ok(Summary {
            id: row.try_get_unchecked(0)?,
            hired_agent_id: row.try_get_unchecked(1)?,
            customer_id: row.try_get_unchecked(2)?,
            title: row.try_get_unchecked(3)?,
            review_status: row.try_get_unchecked(4)?,
            execution_status: row.try_get_unchecked(5)?,
            created_at: row.try_get_unchecked(6)?,
            agent_nickname: row.try_get_unchecked(7)?,
            agent_type_id: row.try_get_unchecked(8)?,
            agent_type_name: row.try_get_unchecked(9)?,
            customer_name: row.try_get_unchecked(10)?,
        })
    }
}

impl<S: AsRef<str>> Summary<S> {
    /// The hired agent's nickname, or its type's name while it has none.
    pub fn agent_name(&self) -> &str {
        agent_name(
            self.agent_nickname.as_ref().map(AsRef::as_ref),
            self.agent_type_name.as_ref(),
        )
    }
}

/// A page of summaries as the database sent them. A page of 50 copied into owned summaries made
/// 450 strings, each allocated, filled and freed again once the page was written; the page's
/// items borrow their text from these rows instead ([`SummaryRows::summaries`]).
pub enum SummaryRows {
    Postgres(Vec<sqlx::postgres::PgRow>),
    Sqlite(Vec<sqlx::sqlite::SqliteRow>),
}

impl SummaryRows {
    /// The summaries, their text read in place.
    pub fn summaries(&self) -> sqlx::Result<Vec<Summary<&str>>> {
        use sqlx::FromRow;
        match self {
            SummaryRows::Postgres(rows) => rows.iter().map(Summary::from_row).collect(),
            SummaryRows::Sqlite(rows) => rows.iter().map(Summary::from_row).collect(),
        }
    }
}

/// What a page of the list reads: whole deliverables ([`Item`]) or their summaries ([`Summary`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Columns {
    Whole,
    Summary,
}

const WHOLE: &str = "SELECT d.id, d.hired_agent_id, d.customer_id, d.goal_instance_id, d.goal_template_id, \
    d.period_key, d.title, d.payload, d.review_status, d.review_notes, d.approval_id, d.decided_at, \
    d.edited_payload, d.execution_status, d.executed_at, d.created_at, d.updated_at, \
    h.nickname AS agent_nickname, h.agent_type_id, v.display_name AS agent_type_name, c.name AS customer_name";
// Read by position (`Summary`'s `FromRow`): keep the two in the same order.
const SUMMARY: &str = "SELECT d.id, d.hired_agent_id, d.customer_id, d.title, d.review_status, \
    d.execution_status, d.created_at, \
    h.nickname AS agent_nickname, h.agent_type_id, v.display_name AS agent_type_name, c.name AS customer_name";
const FROM: &str = " FROM deliverables d JOIN hired_agents h ON h.id = d.hired_agent_id \
    JOIN agent_type_versions v ON v.agent_type_id = h.agent_type_id AND v.version = h.agent_type_version \
    JOIN customers c ON c.id = d.customer_id";

pub use super::Arg;

/// The filters as SQL conditions over `d` and `h`, and their values in placeholder order.
fn conditions(f: &Filter, after: Option<&str>) -> (Vec<String>, Vec<Arg>) {
    let mut args: Vec<Arg> = vec![];
    let mut arg = |a: Arg| {
        args.push(a);
        format!("${}", args.len())
    };
    let mut conds: Vec<String> = vec![];
    if let Some(id) = &f.id {
        conds.push(format!("d.id = {}", arg(Arg::Text(id.clone()))));
    }
    if let Some(c) = &f.customer {
        conds.push(format!("d.customer_id = {}", arg(Arg::Text(c.clone()))));
    }
    if let Some(h) = &f.hired_agent {
        conds.push(format!("d.hired_agent_id = {}", arg(Arg::Text(h.clone()))));
    }
    if let Some(s) = f.status {
        // A literal, so the planner can use the partial index of pending items.
        conds.push(format!("d.review_status = '{}'", s.as_str()));
    }
    if let Some(t) = &f.agent_type {
        conds.push(format!("h.agent_type_id = {}", arg(Arg::Text(t.clone()))));
    }
    if let Some(at) = f.created_before {
        conds.push(format!("d.created_at <= {}", arg(Arg::At(at))));
    }
    if let Some(id) = after {
        let id = arg(Arg::Text(id.to_string()));
        conds.push(format!(
            "(d.created_at, d.id) > (SELECT a.created_at, a.id FROM deliverables a WHERE a.id = {id})"
        ));
    }
    (conds, args)
}

/// The statement of one page (oldest first) and its values. The limit is written in as a number:
/// PostgreSQL plans a `LIMIT $n` for an unknown (large) limit, so its generic plan never wins and
/// every execution would be planned afresh; with the number the plan is made once per connection.
pub fn page_sql(
    columns: Columns,
    f: &Filter,
    after: Option<&str>,
    limit: i64,
) -> (String, Vec<Arg>) {
    let (conds, args) = conditions(f, after);
    let where_ = if conds.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conds.join(" AND "))
    };
    let select = match columns {
        Columns::Whole => WHOLE,
        Columns::Summary => SUMMARY,
    };
    (
        format!("{select}{FROM}{where_} ORDER BY d.created_at, d.id LIMIT {limit}"),
        args,
    )
}

/// One page: at most `limit` items after the deliverable `after`, oldest first.
pub async fn page(
    c: Conn<'_>,
    f: &Filter,
    after: Option<&str>,
    limit: i64,
) -> sqlx::Result<Vec<Item>> {
    let (sql, args) = page_sql(Columns::Whole, f, after, limit);
    let sql = sqlx::AssertSqlSafe(sql);
    on_conn!(c, e => crate::bind_args!(sqlx::query_as(sql), args).fetch_all(e).await)
}

/// [`page`] as summaries, left in the rows they came in.
pub async fn summary_rows(
    c: Conn<'_>,
    f: &Filter,
    after: Option<&str>,
    limit: i64,
) -> sqlx::Result<SummaryRows> {
    let (sql, args) = page_sql(Columns::Summary, f, after, limit);
    let sql = sqlx::AssertSqlSafe(sql);
    Ok(match c {
        Conn::Postgres(e) => SummaryRows::Postgres(
            crate::bind_args!(sqlx::query(sql), args)
                .fetch_all(e)
                .await?,
        ),
        Conn::Sqlite(e) => SummaryRows::Sqlite(
            crate::bind_args!(sqlx::query(sql), args)
                .fetch_all(e)
                .await?,
        ),
    })
}

/// [`page`] as summaries: the same items, without their payloads.
pub async fn summaries(
    c: Conn<'_>,
    f: &Filter,
    after: Option<&str>,
    limit: i64,
) -> sqlx::Result<Vec<Summary>> {
    let (sql, args) = page_sql(Columns::Summary, f, after, limit);
    let sql = sqlx::AssertSqlSafe(sql);
    on_conn!(c, e => crate::bind_args!(sqlx::query_as(sql), args).fetch_all(e).await)
}

/// A goal's recent deliverable, as its card lists it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Recent {
    pub id: String,
    pub goal_instance_id: String,
    pub title: String,
    pub review_status: String,
    pub execution_status: String,
    pub created_at: DateTime<Utc>,
}

/// The statement of [`recent_of_agent`]: `$1` the hired agent, `$2` how many per goal.
pub const RECENT_OF_AGENT_SQL: &str = "SELECT id, goal_instance_id, title, review_status, execution_status, created_at FROM ( \
     SELECT id, goal_instance_id, title, review_status, execution_status, created_at, \
     ROW_NUMBER() OVER (PARTITION BY goal_instance_id ORDER BY created_at DESC, id DESC) AS n \
     FROM deliverables WHERE hired_agent_id = $1) x WHERE n <= $2 ORDER BY created_at DESC, id DESC";

/// The newest `per_goal` deliverables of each goal of an agent, newest first. One statement.
pub async fn recent_of_agent(
    c: Conn<'_>,
    hired_agent_id: &str,
    per_goal: i64,
) -> sqlx::Result<Vec<Recent>> {
    on_conn!(c, e => sqlx::query_as(RECENT_OF_AGENT_SQL)
        .bind(hired_agent_id).bind(per_goal).fetch_all(e).await)
}

/// How many deliverables wait for review, counted up to `cap` (written in, as the page's limit
/// is), as a scalar subquery: of the customer `customer` (an SQL expression: a placeholder, or a
/// column of the statement it is part of) or, without one, of all.
pub fn pending_count_expr(customer: Option<&str>, cap: i64) -> String {
    let of_customer = customer
        .map(|c| format!("w.customer_id = {c} AND "))
        .unwrap_or_default();
    // Of all customers, in the pending index's order: without one, a planner that expects waiting
    // rows anywhere may read the table from its start, where the long-decided ones are.
    let order = if customer.is_none() {
        " ORDER BY w.created_at, w.id"
    } else {
        ""
    };
    format!(
        "(SELECT COUNT(*) FROM (SELECT 1 FROM deliverables w \
         WHERE {of_customer}w.review_status = 'pending_review'{order} LIMIT {cap}) x)"
    )
}

/// The statement of [`pending_count`]: for one customer (`$1` the customer) or for all.
pub fn pending_count_sql(customer: bool, cap: i64) -> String {
    format!(
        "SELECT {}",
        pending_count_expr(customer.then_some("$1"), cap)
    )
}

/// How many items wait for review (of one customer, or of all), counted up to `cap`: the
/// navigation badge shows "99+" rather than paying for an exact count of a long queue.
pub async fn pending_count(c: Conn<'_>, customer: Option<&str>, cap: i64) -> sqlx::Result<i64> {
    let sql = sqlx::AssertSqlSafe(pending_count_sql(customer.is_some(), cap));
    match customer {
        Some(cu) => on_conn!(c, e => sqlx::query_scalar(sql).bind(cu).fetch_one(e).await),
        None => on_conn!(c, e => sqlx::query_scalar(sql).fetch_one(e).await),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_filters_given_become_conditions() {
        let (sql, args) = page_sql(Columns::Whole, &Filter::default(), None, 51);
        assert!(!sql.contains("WHERE"), "{sql}");
        assert!(
            sql.ends_with("ORDER BY d.created_at, d.id LIMIT 51"),
            "{sql}"
        );
        assert!(args.is_empty());

        let f = Filter {
            customer: Some("CUS-1".into()),
            status: Some(ReviewStatus::PendingReview),
            agent_type: Some("AGT-MKT".into()),
            ..Filter::default()
        };
        let (sql, args) = page_sql(Columns::Summary, &f, Some("DEL-9"), 51);
        assert!(!sql.contains("payload"), "{sql}");
        assert!(sql.contains("d.customer_id = $1"), "{sql}");
        assert!(sql.contains("d.review_status = 'pending_review'"), "{sql}");
        assert!(sql.contains("h.agent_type_id = $2"), "{sql}");
        assert!(sql.contains("WHERE a.id = $3"), "{sql}");
        assert!(sql.ends_with("LIMIT 51"), "{sql}");
        assert!(!sql.contains("IS NULL OR"), "{sql}");
        assert_eq!(args.len(), 3);
    }
}
