//! The staff list of hired agents: filters, a nickname or id search, three orders and keyset
//! pagination. One SQL text per combination of filters actually given (no `($1 IS NULL OR …)`
//! catch-alls), so each statement is planned for what it asks: newest first walks
//! `hired_agents_created_idx`, a customer's agents `hired_agents_customer_idx`, a type's
//! `hired_agents_type_idx`, an exact id the primary key.

use chrono::{DateTime, Utc};

use super::Conn;
use super::hired_agents::{SUMMARY_SELECT, Summary};
use super::users::escape_like;
use crate::domain::hired_agent::TrialStatus;
use crate::on_conn;

/// What the list is sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    /// Newest first (`created_at DESC, id DESC`).
    #[default]
    Newest,
    /// By the name shown (the nickname, else the type's name), A–Z, case ignored.
    Name,
    /// Running trials first, the one ending soonest first; then every other agent, newest first.
    TrialEnding,
}

impl Sort {
    pub const ALL: [Sort; 3] = [Sort::Newest, Sort::Name, Sort::TrialEnding];

    pub fn as_str(self) -> &'static str {
        match self {
            Sort::Newest => "newest",
            Sort::Name => "name",
            Sort::TrialEnding => "trial_end",
        }
    }

    pub fn parse(s: &str) -> Option<Sort> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Sort::Newest => "Newest first",
            Sort::Name => "Nickname A–Z",
            Sort::TrialEnding => "Trial ending soonest",
        }
    }
}

/// The search box: an exact hired-agent id, or a part of a nickname.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Search {
    #[default]
    None,
    /// `HAI-…`, matched exactly.
    Id(String),
    /// Lower-cased; matched anywhere in the nickname (case ignored; on SQLite for ASCII letters
    /// only).
    Nickname(String),
}

impl Search {
    /// What was typed: an id when it has the hired-agent prefix (in any case), else a nickname part.
    pub fn parse(typed: &str) -> Search {
        let t = typed.trim();
        if t.is_empty() {
            return Search::None;
        }
        match t.get(..4) {
            Some(p) if p.eq_ignore_ascii_case("HAI-") && t.len() > 4 && !t.contains(' ') => {
                Search::Id(format!("HAI-{}", t[4..].to_lowercase()))
            }
            _ => Search::Nickname(t.to_lowercase()),
        }
    }
}

/// The filters of one list request; `None` is "any".
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub agent_type: Option<String>,
    pub trial: Option<TrialStatus>,
    pub configured: Option<bool>,
    pub active: Option<bool>,
    pub paused: Option<bool>,
    pub customer: Option<String>,
    pub search: Search,
    pub sort: Sort,
}

/// A position in the list: the last row shown, in the terms of the order it was shown in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cursor {
    /// Newest first, and the agents after the running trials in [`Sort::TrialEnding`].
    Created(DateTime<Utc>, String),
    /// [`Sort::Name`]: the row's `sort_name` as the database computed it.
    Name(String, String),
    /// [`Sort::TrialEnding`], among the running trials.
    TrialEnd(DateTime<Utc>, String),
}

/// A listed hired agent and the key the name order uses.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Listed {
    #[sqlx(flatten)]
    pub agent: Summary,
    /// `lower(COALESCE(nickname, display_name))`, computed by the database so that the cursor
    /// compares exactly as the order does.
    pub sort_name: String,
}

impl Listed {
    /// The cursor that continues the list after this row, in `sort`.
    pub fn cursor(&self, sort: Sort) -> Cursor {
        let h = &self.agent;
        match sort {
            Sort::Newest => Cursor::Created(h.created_at, h.id.clone()),
            Sort::Name => Cursor::Name(self.sort_name.clone(), h.id.clone()),
            Sort::TrialEnding => match h.trial_end_at {
                Some(end) if h.trial_status == TrialStatus::Active.as_str() => {
                    Cursor::TrialEnd(end, h.id.clone())
                }
                _ => Cursor::Created(h.created_at, h.id.clone()),
            },
        }
    }
}

const SORT_NAME: &str = "lower(COALESCE(h.nickname, v.display_name))";
const RUNNING: &str = "h.trial_status = 'active'";

pub use super::Arg;

/// The statement of one page and its values in placeholder order. The limit is written in as a
/// number so PostgreSQL can keep one plan per connection (see `review_queue::page_sql`).
pub fn list_sql(f: &Filter, after: Option<&Cursor>, limit: i64) -> (String, Vec<Arg>) {
    let mut args: Vec<Arg> = vec![];
    let mut arg = |a: Arg| {
        args.push(a);
        format!("${}", args.len())
    };
    let mut conds: Vec<String> = vec![];
    if let Some(t) = &f.agent_type {
        conds.push(format!("h.agent_type_id = {}", arg(Arg::Text(t.clone()))));
    }
    if let Some(t) = f.trial {
        conds.push(format!(
            "h.trial_status = {}",
            arg(Arg::Text(t.as_str().into()))
        ));
    }
    for (column, wanted) in [
        ("h.configured", f.configured),
        ("h.active", f.active),
        ("h.paused", f.paused),
    ] {
        if let Some(w) = wanted {
            conds.push(format!("{column} = {}", if w { "TRUE" } else { "FALSE" }));
        }
    }
    if let Some(c) = &f.customer {
        conds.push(format!("h.customer_id = {}", arg(Arg::Text(c.clone()))));
    }
    match &f.search {
        Search::None => {}
        Search::Id(id) => conds.push(format!("h.id = {}", arg(Arg::Text(id.clone())))),
        Search::Nickname(part) => conds.push(format!(
            "lower(h.nickname) LIKE {} ESCAPE '\\'",
            arg(Arg::Text(format!("%{}%", escape_like(part))))
        )),
    }
    match after {
        None => {}
        Some(Cursor::Created(at, id)) => {
            let (at, id) = (arg(Arg::At(*at)), arg(Arg::Text(id.clone())));
            if f.sort == Sort::TrialEnding {
                conds.push(format!(
                    "(NOT {RUNNING} AND (h.created_at, h.id) < ({at}, {id}))"
                ));
            } else {
                conds.push(format!("(h.created_at, h.id) < ({at}, {id})"));
            }
        }
        Some(Cursor::Name(name, id)) => {
            let (name, id) = (arg(Arg::Text(name.clone())), arg(Arg::Text(id.clone())));
            conds.push(format!("({SORT_NAME}, h.id) > ({name}, {id})"));
        }
        Some(Cursor::TrialEnd(at, id)) => {
            let (at, id) = (arg(Arg::At(*at)), arg(Arg::Text(id.clone())));
            conds.push(format!(
                "(({RUNNING} AND (h.trial_end_at, h.id) > ({at}, {id})) OR NOT {RUNNING})"
            ));
        }
    }
    let order = match f.sort {
        Sort::Newest => "h.created_at DESC, h.id DESC".to_string(),
        Sort::Name => format!("{SORT_NAME}, h.id"),
        Sort::TrialEnding => format!(
            "CASE WHEN {RUNNING} THEN 0 ELSE 1 END, CASE WHEN {RUNNING} THEN h.trial_end_at END, \
             CASE WHEN {RUNNING} THEN h.id END, h.created_at DESC, h.id DESC"
        ),
    };
    let where_ = if conds.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conds.join(" AND "))
    };
    (
        format!(
            "{} ORDER BY {order} LIMIT {limit}",
            select_with_sort_name() + &where_
        ),
        args,
    )
}

/// A hired agent's summary (`db::hired_agents::SUMMARY_SELECT`), with the name order's key as one
/// more column.
fn select_with_sort_name() -> String {
    const FROM: &str = " FROM hired_agents h ";
    match SUMMARY_SELECT.split_once(FROM) {
        Some((columns, rest)) => format!("{columns}, {SORT_NAME} AS sort_name{FROM}{rest}"),
        None => unreachable!("db::hired_agents::SUMMARY_SELECT reads FROM hired_agents h"),
    }
}

/// One page of the list: at most `limit` rows after the cursor (see [`list_sql`]).
pub async fn page(
    c: Conn<'_>,
    f: &Filter,
    after: Option<&Cursor>,
    limit: i64,
) -> sqlx::Result<Vec<Listed>> {
    let (sql, args) = list_sql(f, after, limit);
    let sql = sqlx::AssertSqlSafe(sql);
    on_conn!(c, e => {
        crate::bind_args!(sqlx::query_as(sql), args)
            .fetch_all(e)
            .await
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_search_is_an_id_or_a_nickname_part() {
        assert_eq!(Search::parse("  "), Search::None);
        assert_eq!(
            Search::parse(" hai-AB12 "),
            Search::Id("HAI-ab12".to_string())
        );
        assert_eq!(Search::parse("HAI-"), Search::Nickname("hai-".into()));
        assert_eq!(
            Search::parse("Desk Two"),
            Search::Nickname("desk two".into())
        );
    }

    #[test]
    fn one_statement_per_combination_without_catch_alls() {
        let (sql, args) = list_sql(&Filter::default(), None, 26);
        assert!(
            sql.contains("c.id = h.customer_id ORDER BY"),
            "no filter: {sql}"
        );
        assert!(
            sql.ends_with("ORDER BY h.created_at DESC, h.id DESC LIMIT 26"),
            "{sql}"
        );
        assert!(
            sql.contains("AS sort_name FROM hired_agents h JOIN"),
            "{sql}"
        );
        assert!(args.is_empty());

        let f = Filter {
            agent_type: Some("t".into()),
            trial: Some(TrialStatus::Active),
            configured: Some(true),
            paused: Some(false),
            customer: Some("CUS-1".into()),
            search: Search::Nickname("50%_off".into()),
            sort: Sort::Name,
            ..Filter::default()
        };
        let (sql, args) = list_sql(&f, Some(&Cursor::Name("desk".into(), "HAI-1".into())), 26);
        assert!(!sql.contains("IS NULL OR"), "{sql}");
        assert!(
            sql.contains("h.agent_type_id = $1 AND h.trial_status = $2"),
            "{sql}"
        );
        assert!(
            sql.contains("h.configured = TRUE AND h.paused = FALSE"),
            "{sql}"
        );
        assert!(!sql.contains("h.active ="), "{sql}");
        assert!(sql.contains("h.customer_id = $3"), "{sql}");
        assert!(sql.contains("lower(h.nickname) LIKE $4 ESCAPE"), "{sql}");
        assert!(sql.contains("(lower(COALESCE(h.nickname, v.display_name)), h.id) > ($5, $6)"));
        assert!(sql.ends_with("LIMIT 26"), "{sql}");
        assert_eq!(args[3], Arg::Text("%50\\%\\_off%".into()));
        assert_eq!(args.len(), 6);
    }

    #[test]
    fn the_trial_order_continues_within_its_group() {
        let f = Filter {
            sort: Sort::TrialEnding,
            ..Filter::default()
        };
        let at = Utc::now();
        let (sql, _) = list_sql(&f, Some(&Cursor::TrialEnd(at, "HAI-1".into())), 26);
        assert!(sql.contains("OR NOT h.trial_status = 'active'"), "{sql}");
        let (sql, _) = list_sql(&f, Some(&Cursor::Created(at, "HAI-1".into())), 26);
        assert!(
            sql.contains("(NOT h.trial_status = 'active' AND (h.created_at, h.id) < ($1, $2))"),
            "{sql}"
        );
    }
}
