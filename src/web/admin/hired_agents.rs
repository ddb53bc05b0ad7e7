//! `/admin/hired-agents`: the staff list of every customer's hired agents, with filters (type,
//! trial status, configured, active, paused, customer), a nickname or exact-id search, three
//! orders, keyset pagination and a CSV export of the current filter. Read-only, for all staff. One
//! agent's page is `/admin/hired-agents/{id}` (in `web::agent_pages`).
//!
//! Statements per request, besides the session (one statement, with its user): the list 2 (the
//! catalog's types for the type filter, one page of agents), 3 with a customer filter (its name);
//! the CSV export 1 per 500 agents (and the customer's name with a customer filter).

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::domain::csv;
use crate::domain::hired_agent::TrialStatus;
use crate::error::{AppError, ErrorCode};
use crate::service::customers;
use crate::service::hired_agents_list::{self as list, Cursor, Filter, Search, Sort, Summary};
use crate::web::AppState;
use crate::web::auth::Staff;
use crate::web::pages::{PageCtx, render, wants_fragment, with_query};
use crate::web::view::Ts;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/admin/hired-agents").get(list_page))
        .service(web::resource("/admin/hired-agents.csv").get(export_csv));
}

const PAGE_SIZE: i64 = 50;
const MAX_PAGE_SIZE: i64 = 200;
/// How much of a long search the "nothing matches" line repeats.
const SHOWN_SEARCH_CHARS: usize = 60;

/// The query of the list and of its export, as typed in the address.
#[derive(Debug, Default, Deserialize)]
struct ListQuery {
    #[serde(default, rename = "type")]
    agent_type: String,
    #[serde(default)]
    trial: String,
    #[serde(default)]
    configured: String,
    #[serde(default)]
    active: String,
    #[serde(default)]
    paused: String,
    #[serde(default)]
    customer: String,
    #[serde(default)]
    q: String,
    #[serde(default)]
    sort: String,
    /// The keyset cursor: the last row shown (see [`cursor_text`]).
    #[serde(default)]
    after: String,
    /// Rows per page (1–200; 50 when absent).
    #[serde(default)]
    per_page: String,
    /// `csv`: the export of the current filter, as `/admin/hired-agents.csv` answers it.
    #[serde(default)]
    format: String,
}

/// A yes/no/any filter: `yes`, `no`, anything else is "any".
fn yes_no(s: &str) -> Option<bool> {
    match s {
        "yes" => Some(true),
        "no" => Some(false),
        _ => None,
    }
}

/// The filters as the form shows them again (only recognised values are kept).
#[derive(Debug, Clone, Default)]
pub struct Shown {
    agent_type: String,
    trial: String,
    configured: String,
    active: String,
    paused: String,
    customer: String,
    q: String,
    sort: String,
    per_page: String,
}

impl Shown {
    /// The query pairs that give this list again (empty values left out).
    fn pairs(&self) -> Vec<(&'static str, &str)> {
        vec![
            ("type", &self.agent_type),
            ("trial", &self.trial),
            ("configured", &self.configured),
            ("active", &self.active),
            ("paused", &self.paused),
            ("customer", &self.customer),
            ("q", &self.q),
            ("sort", &self.sort),
            ("per_page", &self.per_page),
        ]
    }

    /// Whether anything narrows the list (the order and page size do not).
    fn narrowed(&self) -> bool {
        [
            &self.agent_type,
            &self.trial,
            &self.configured,
            &self.active,
            &self.paused,
            &self.customer,
            &self.q,
        ]
        .iter()
        .any(|v| !v.is_empty())
    }
}

/// Reads the query against the catalog's types: the filter to run and what the form shows.
fn read_query(q: &ListQuery, types: &[(String, String)]) -> (Filter, Shown, i64) {
    let agent_type = types
        .iter()
        .find(|(id, _)| *id == q.agent_type)
        .map(|(id, _)| id.clone());
    let trial = TrialStatus::parse(&q.trial);
    let sort = Sort::parse(&q.sort).unwrap_or_default();
    let customer = Some(q.customer.trim())
        .filter(|c| !c.is_empty())
        .map(str::to_string);
    let search = q.q.trim().to_string();
    let per_page: Option<i64> = q
        .per_page
        .parse()
        .ok()
        .filter(|n| (1..=MAX_PAGE_SIZE).contains(n));
    let keep = |v: Option<bool>, s: &str| v.map(|_| s.to_string()).unwrap_or_default();
    let filter = Filter {
        agent_type: agent_type.clone(),
        trial,
        configured: yes_no(&q.configured),
        active: yes_no(&q.active),
        paused: yes_no(&q.paused),
        customer: customer.clone(),
        search: Search::parse(&search),
        sort,
    };
    let shown = Shown {
        agent_type: agent_type.unwrap_or_default(),
        trial: trial.map(|t| t.as_str().to_string()).unwrap_or_default(),
        configured: keep(filter.configured, &q.configured),
        active: keep(filter.active, &q.active),
        paused: keep(filter.paused, &q.paused),
        customer: customer.unwrap_or_default(),
        q: search,
        sort: if sort == Sort::Newest {
            String::new()
        } else {
            sort.as_str().to_string()
        },
        per_page: per_page.map(|n| n.to_string()).unwrap_or_default(),
    };
    (filter, shown, per_page.unwrap_or(PAGE_SIZE))
}

fn at_text(at: &DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}

/// `c~{created_at}~{id}`, `t~{trial_end_at}~{id}` or `n~{sort name}~{id}` (ids hold no `~`).
fn cursor_text(c: &Cursor) -> String {
    match c {
        Cursor::Created(at, id) => format!("c~{}~{id}", at_text(at)),
        Cursor::TrialEnd(at, id) => format!("t~{}~{id}", at_text(at)),
        Cursor::Name(name, id) => format!("n~{name}~{id}"),
    }
}

/// A cursor of the order in use; a cursor of another order, or a mangled one, is a bad request.
fn parse_cursor(s: &str, sort: Sort) -> Result<Option<Cursor>, AppError> {
    if s.is_empty() {
        return Ok(None);
    }
    let bad = || AppError::bad_request(ErrorCode::BadRequest, "This page link is not valid.");
    let (kind, rest) = s.split_once('~').ok_or_else(bad)?;
    let (key, id) = rest.rsplit_once('~').ok_or_else(bad)?;
    if id.is_empty() {
        return Err(bad());
    }
    let at = || {
        DateTime::parse_from_rfc3339(key)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| bad())
    };
    let cursor = match (kind, sort) {
        ("c", Sort::Newest | Sort::TrialEnding) => Cursor::Created(at()?, id.to_string()),
        ("t", Sort::TrialEnding) => Cursor::TrialEnd(at()?, id.to_string()),
        ("n", Sort::Name) => Cursor::Name(key.to_string(), id.to_string()),
        _ => return Err(bad()),
    };
    Ok(Some(cursor))
}

/// Whole days until `end`, rounded up: "3 days left" from 2½ days.
fn days_left(end: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
    let secs = (end - now).num_seconds();
    if secs <= 0 {
        0
    } else {
        (secs + 86_399) / 86_400
    }
}

/// What the trial column says beside the label: the days left of a running trial.
fn trial_note(h: &Summary, now: DateTime<Utc>) -> String {
    match (TrialStatus::parse(&h.trial_status), h.trial_end_at) {
        (Some(TrialStatus::Active), Some(end)) => match days_left(end, now) {
            0 => "ending now".into(),
            1 => "1 day left".into(),
            n => format!("{n} days left"),
        },
        _ => String::new(),
    }
}

/// One row of the list.
pub struct AgentItem {
    pub(super) id: String,
    /// The nickname, else the type's name (`has_nickname` false).
    pub(super) name: String,
    pub(super) has_nickname: bool,
    pub(super) customer_id: String,
    pub(super) customer_name: String,
    pub(super) type_name: String,
    pub(super) version: String,
    pub(super) subscription_active: bool,
    pub(super) subscription_status: String,
    pub(super) trial: &'static str,
    pub(super) trial_label: &'static str,
    pub(super) trial_note: String,
    pub(super) configured: bool,
    pub(super) active: bool,
    pub(super) paused: bool,
    pub(super) created: Ts,
}

impl AgentItem {
    /// A row of the list (or of a customer's page) as of `now` (the days a trial has left).
    pub(super) fn new(h: Summary, now: DateTime<Utc>) -> Self {
        let trial = TrialStatus::parse(&h.trial_status).unwrap_or(TrialStatus::NotStarted);
        AgentItem {
            trial_note: trial_note(&h, now),
            has_nickname: h.nickname.as_deref().is_some_and(|n| !n.trim().is_empty()),
            name: h.name().to_string(),
            trial: trial.as_str(),
            trial_label: trial.label(),
            subscription_active: h.subscription_status == "active",
            subscription_status: h.subscription_status,
            id: h.id,
            customer_id: h.customer_id,
            customer_name: h.customer_name,
            type_name: h.display_name,
            version: h.agent_type_version,
            configured: h.configured,
            active: h.active,
            paused: h.paused,
            created: Ts(h.created_at),
        }
    }
}

/// The customer a list is narrowed to.
pub struct CustomerShown {
    id: String,
    /// `None` when no customer has this id.
    name: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/hired_agents.html", blocks = ["results"])]
struct ListPage {
    ctx: PageCtx,
    f: Shown,
    types: std::sync::Arc<Vec<(String, String)>>,
    customer: Option<CustomerShown>,
    agents: Vec<AgentItem>,
    next_page: Option<String>,
    csv_href: String,
    clear_href: String,
    /// The same list without the customer filter.
    all_customers_href: String,
}

impl ListPage {
    fn trial_options(&self) -> Vec<(&'static str, &'static str)> {
        TrialStatus::ALL
            .iter()
            .map(|t| (t.as_str(), t.label()))
            .collect()
    }

    /// The yes/no/any filters: (name, label, "yes" chosen, "no" chosen).
    fn yes_no_filters(&self) -> [(&'static str, &'static str, bool, bool); 3] {
        let chosen = |v: &str| (v == "yes", v == "no");
        let [(cy, cn), (ay, an), (py, pn)] =
            [&self.f.configured, &self.f.active, &self.f.paused].map(|v| chosen(v));
        [
            ("configured", "Configured", cy, cn),
            ("active", "Active", ay, an),
            ("paused", "Paused", py, pn),
        ]
    }

    fn sort_options(&self) -> Vec<(&'static str, &'static str)> {
        Sort::ALL
            .iter()
            .map(|s| match s {
                Sort::Newest => ("", s.label()),
                _ => (s.as_str(), s.label()),
            })
            .collect()
    }

    /// The search as the "nothing matches" line repeats it (a long one cut short).
    fn q_shown(&self) -> String {
        let q = &self.f.q;
        if q.chars().count() > SHOWN_SEARCH_CHARS {
            let cut: String = q.chars().take(SHOWN_SEARCH_CHARS).collect();
            format!("{cut}…")
        } else {
            q.clone()
        }
    }

    fn narrowed(&self) -> bool {
        self.f.narrowed()
    }

    fn narrowed_besides_search(&self) -> bool {
        Shown {
            q: String::new(),
            ..self.f.clone()
        }
        .narrowed()
    }
}

/// The catalog's types as (id, display name), by name: the type filter's choices.
async fn type_options(state: &AppState) -> Result<std::sync::Arc<Vec<(String, String)>>, AppError> {
    state.type_names.get(&state.db, state.clock.now()).await
}

async fn customer_shown(
    state: &AppState,
    staff: &Staff,
    id: &str,
) -> Result<CustomerShown, AppError> {
    let name = match customers::get(&state.db, &staff.scope(), id).await {
        Ok(c) => Some(c.name),
        Err(AppError::NotFound) => None,
        Err(e) => return Err(e),
    };
    Ok(CustomerShown {
        id: id.to_string(),
        name,
    })
}

async fn list_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    ctx: PageCtx,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let query = query.into_inner();
    if query.format == "csv" {
        return export(&state, &staff, &query).await;
    }
    let types = type_options(&state).await?;
    let (filter, f, per_page) = read_query(&query, &types);
    let after = parse_cursor(&query.after, filter.sort)?;
    let customer = match &filter.customer {
        Some(id) => Some(customer_shown(&state, &staff, id).await?),
        None => None,
    };
    let mut rows = list::page(
        &state.db,
        &staff.scope(),
        &filter,
        after.as_ref(),
        per_page + 1,
    )
    .await?;
    let next_page = if rows.len() as i64 > per_page {
        rows.truncate(per_page as usize);
        rows.last().map(|last| {
            let cursor = cursor_text(&last.cursor(filter.sort));
            let mut pairs = f.pairs();
            pairs.push(("after", &cursor));
            with_query("/admin/hired-agents", &pairs)
        })
    } else {
        None
    };
    let now = staff.actor.now;
    let page = ListPage {
        agents: rows
            .into_iter()
            .map(|r| AgentItem::new(r.agent, now))
            .collect(),
        csv_href: with_query("/admin/hired-agents.csv", &f.pairs()),
        clear_href: "/admin/hired-agents".into(),
        all_customers_href: with_query(
            "/admin/hired-agents",
            &f.pairs()
                .into_iter()
                .filter(|(k, _)| *k != "customer")
                .collect::<Vec<_>>(),
        ),
        ctx,
        types,
        customer,
        next_page,
        f,
    };
    if wants_fragment(&req) {
        return render(StatusCode::OK, &page.as_results());
    }
    render(StatusCode::OK, &page)
}

async fn export_csv(
    state: web::Data<AppState>,
    staff: Staff,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    export(&state, &staff, &query.into_inner()).await
}

/// Every agent the filter finds (not only one page), in the list's order, as a spreadsheet opens
/// it: UTF-8 with a byte order mark, quoted where needed, formulas neutralised (see `domain::csv`).
async fn export(
    state: &AppState,
    staff: &Staff,
    query: &ListQuery,
) -> Result<HttpResponse, AppError> {
    let types = type_options(state).await?;
    let (filter, _, _) = read_query(query, &types);
    let rows = list::export(&state.db, &staff.scope(), &filter).await?;
    let now = staff.actor.now;
    let mut body = String::from("\u{feff}");
    body.push_str(&csv::row(&[
        "ID",
        "Nickname",
        "Customer ID",
        "Customer",
        "Agent type",
        "Agent type name",
        "Version",
        "Subscription",
        "Subscription status",
        "Trial",
        "Trial ends (UTC)",
        "Configured",
        "Active",
        "Paused",
        "Created (UTC)",
    ]));
    let yes = |b: bool| if b { "yes" } else { "no" };
    let when = |t: Option<DateTime<Utc>>| {
        t.map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
            .unwrap_or_default()
    };
    for l in &rows {
        let h = &l.agent;
        let trial = TrialStatus::parse(&h.trial_status).unwrap_or(TrialStatus::NotStarted);
        let note = trial_note(h, now);
        let trial_text = if note.is_empty() {
            trial.label().to_string()
        } else {
            format!("{} ({note})", trial.label())
        };
        body.push_str(&csv::row(&[
            h.id.as_str(),
            h.nickname.as_deref().unwrap_or(""),
            &h.customer_id,
            &h.customer_name,
            &h.agent_type_id,
            &h.display_name,
            &h.agent_type_version,
            &h.subscription_id,
            &h.subscription_status,
            &trial_text,
            &when(h.trial_end_at),
            yes(h.configured),
            yes(h.active),
            yes(h.paused),
            &when(Some(h.created_at)),
        ]));
    }
    let filename = format!("hired-agents-{}.csv", now.format("%Y-%m-%d"));
    let mut res = HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .body(body);
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        res.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_belong_to_their_order() {
        let at = DateTime::parse_from_rfc3339("2025-01-02T03:04:05.123456789Z")
            .unwrap()
            .with_timezone(&Utc);
        for (c, sort) in [
            (Cursor::Created(at, "HAI-1".into()), Sort::Newest),
            (Cursor::Created(at, "HAI-1".into()), Sort::TrialEnding),
            (Cursor::TrialEnd(at, "HAI-2".into()), Sort::TrialEnding),
            (Cursor::Name("a~b c".into(), "HAI-3".into()), Sort::Name),
        ] {
            assert_eq!(parse_cursor(&cursor_text(&c), sort).unwrap(), Some(c));
        }
        assert!(parse_cursor("n~desk~HAI-1", Sort::Newest).is_err());
        assert!(parse_cursor("c~yesterday~HAI-1", Sort::Newest).is_err());
        assert!(parse_cursor("garbage", Sort::Name).is_err());
        assert!(parse_cursor("n~desk~", Sort::Name).is_err());
        assert_eq!(parse_cursor("", Sort::Name).unwrap(), None);
    }

    #[test]
    fn days_left_round_up() {
        let now = Utc::now();
        assert_eq!(days_left(now + chrono::Duration::hours(60), now), 3);
        assert_eq!(days_left(now + chrono::Duration::days(7), now), 7);
        assert_eq!(days_left(now + chrono::Duration::seconds(1), now), 1);
        assert_eq!(days_left(now - chrono::Duration::seconds(1), now), 0);
    }

    #[test]
    fn unknown_filter_values_mean_any() {
        let types = vec![("t.v1".to_string(), "T".to_string())];
        let q = ListQuery {
            agent_type: "nope".into(),
            trial: "running".into(),
            configured: "maybe".into(),
            paused: "yes".into(),
            sort: "trial_end".into(),
            per_page: "100000".into(),
            ..ListQuery::default()
        };
        let (filter, shown, per_page) = read_query(&q, &types);
        assert_eq!(filter.agent_type, None);
        assert_eq!(filter.trial, None);
        assert_eq!(filter.configured, None);
        assert_eq!(filter.paused, Some(true));
        assert_eq!(filter.sort, Sort::TrialEnding);
        assert_eq!(per_page, PAGE_SIZE);
        assert_eq!(
            with_query("/x", &shown.pairs()),
            "/x?paused=yes&sort=trial_end"
        );
    }
}
