//! The staff list of hired agents at /admin/hired-agents, the catalog's hire counts and the
//! customer page's hired agents: what staff see, and that customers are kept out.

use agentdesk::domain::actor::Scope;
use agentdesk::domain::billing::settings::BillingSettings;
use agentdesk::error::AppError;
use agentdesk::service::hired_agents;
use agentdesk::service::hired_agents_list::{self, Filter};
use reqwest::StatusCode;
use serde_json::json;

use crate::agents_fixture::{self as fx, MARKETING};
use crate::billing::{CustomerUser, TRADING, customer};
use crate::helpers::*;

crate::both_engines!(
    staff_see_every_agent_and_narrow_the_list_with_filters_and_search,
    pages_follow_each_order_without_duplicates_or_gaps,
    csv_exports_the_filtered_agents_with_formulas_neutralised,
    customer_users_are_refused,
    the_catalog_counts_real_hired_agents,
    the_customer_page_lists_its_hired_agents,
    refused_characters_and_a_huge_search_get_clear_answers,
);

/// The hired-agent ids a page links to, in order.
fn linked_ids(page: &str) -> Vec<String> {
    page.split("href=\"/admin/hired-agents/HAI-")
        .skip(1)
        .map(|rest| format!("HAI-{}", &rest[..rest.find('"').unwrap()]))
        .collect()
}

fn unescape(href: &str) -> String {
    href.replace("&#38;", "&").replace("&amp;", "&")
}

fn next_link(page: &str) -> Option<String> {
    let end = page.find("\">Next page")?;
    let start = page[..end].rfind("href=\"")? + "href=\"".len();
    Some(unescape(&page[start..end]))
}

/// The ids listed at `path`, sorted (for comparing sets).
async fn ids_at(client: &Client, path: &str) -> Vec<String> {
    let (status, page) = client.page(path).await;
    assert_eq!(status, StatusCode::OK, "{path}: {page}");
    let mut ids = linked_ids(&page);
    ids.sort();
    ids
}

fn sorted(ids: &[&String]) -> Vec<String> {
    let mut v: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

/// Starts the trial of a configured trading agent: an enabled goal, goal setting confirmed.
async fn start_trial(app: &TestApp, c: &CustomerUser, id: &str) {
    fx::add_goal(
        app,
        c,
        id,
        "trading.guardrail_report.v1",
        "daily",
        json!({}),
    )
    .await;
    let done = hired_agents::finalize(
        &app.db,
        &BillingSettings::default(),
        &fx::actor(app),
        &Scope::Customer(c.customer_id.clone()),
        id,
        Some(true),
    )
    .await
    .expect("finalize");
    assert!(done.started, "the trial starts: {:?}", done.missing);
}

async fn pause(app: &TestApp, c: &CustomerUser, id: &str) {
    hired_agents::set_paused(
        &app.db,
        &BillingSettings::default(),
        &fx::actor(app),
        &Scope::Customer(c.customer_id.clone()),
        id,
        true,
    )
    .await
    .expect("paused");
}

/// A hired agent without a nickname (saved once with nothing in it).
async fn unnamed(app: &TestApp, c: &CustomerUser, agent_type_id: &str) -> String {
    let sub = fx::subscribe(app, c, agent_type_id).await;
    fx::save(app, c, &sub, hired_agents::Edit::default()).await
}

async fn rename_customer(app: &TestApp, id: &str, name: &str, email: &str) {
    let res = app
        .admin()
        .await
        .post_form(
            &format!("/admin/customers/{id}/edit"),
            &[("name", name), ("email", email)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}

async fn staff_see_every_agent_and_narrow_the_list_with_filters_and_search(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let acme = customer(&app).await;
    let moon = customer(&app).await;
    rename_customer(
        &app,
        &moon.customer_id,
        "Moonlight Labs",
        "ops@moon.example",
    )
    .await;
    let desk = fx::configured_trading(&app, &acme, "Desk Alpha").await;
    start_trial(&app, &acme, &desk).await;
    app.clock.advance(chrono::Duration::seconds(5));
    let clinic = fx::hire(&app, &acme, MARKETING, "Clinic Helper").await;
    app.clock.advance(chrono::Duration::seconds(5));
    let trader = fx::hire(&app, &moon, TRADING, "Moon Trader").await;
    pause(&app, &moon, &trader).await;
    app.clock.advance(chrono::Duration::seconds(5));
    let nameless = unnamed(&app, &moon, MARKETING).await;

    let (viewer, _) = app.user_with_role("viewer").await;
    let (status, page) = viewer.page("/admin/hired-agents").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("<a href=\"/admin/hired-agents\" aria-current=\"page\">Hired agents</a>"),
        "in the navigation, marked current: {page}"
    );
    assert_eq!(
        linked_ids(&page),
        [
            nameless.clone(),
            trader.clone(),
            clinic.clone(),
            desk.clone()
        ],
        "newest first"
    );
    // What a row says: nickname linked to the agent's page, customer linked, type and version,
    // the trial with its days left, configured, paused; an agent without a nickname shows its type.
    assert!(page.contains(&format!(
        "<a href=\"/admin/hired-agents/{desk}\">Desk Alpha</a>"
    )));
    assert!(page.contains(&format!(
        "<a href=\"/admin/hired-agents/{nameless}\">Healthcare marketing</a> <span class=\"hint\">(no nickname yet)</span>"
    )), "{page}");
    assert!(page.contains(&format!(
        "<a href=\"/admin/customers/{}\">Moonlight Labs</a>",
        moon.customer_id
    )));
    assert!(page.contains(&format!(
        "<a href=\"/admin/customers/{}\">Acme Clinic</a>",
        acme.customer_id
    )));
    assert!(page.contains("Delta futures trader <small class=\"hint\">1.0.0</small>"));
    assert!(page.contains("Trial running</span> <small class=\"hint\">· 7 days left</small>"));
    assert!(page.contains("Trial not started"));
    assert!(page.contains("<span class=\"badge warn\">paused</span>"));
    assert_eq!(
        page.matches("<span class=\"badge ok\">yes</span>").count(),
        1
    );
    let results = page.split("id=\"hired-agent-results\"").nth(1).unwrap();
    assert!(
        !results.contains('{') && !results.contains("exchange_credential_ref"),
        "no raw JSON: {results}"
    );

    // Each filter narrows the list; they combine.
    for (query, expected) in [
        (format!("type={TRADING}"), vec![&desk, &trader]),
        (format!("type={MARKETING}"), vec![&clinic, &nameless]),
        ("trial=active".into(), vec![&desk]),
        (
            "trial=not_started".into(),
            vec![&clinic, &trader, &nameless],
        ),
        ("trial=ended_converted".into(), vec![]),
        ("configured=yes".into(), vec![&desk]),
        ("configured=no".into(), vec![&clinic, &trader, &nameless]),
        ("paused=yes".into(), vec![&trader]),
        ("paused=no".into(), vec![&desk, &clinic, &nameless]),
        (
            "active=yes".into(),
            vec![&desk, &clinic, &trader, &nameless],
        ),
        ("active=no".into(), vec![]),
        (format!("type={TRADING}&paused=no"), vec![&desk]),
        (
            format!("customer={}", moon.customer_id),
            vec![&trader, &nameless],
        ),
        (
            format!(
                "customer={}&configured=no&type={MARKETING}",
                acme.customer_id
            ),
            vec![&clinic],
        ),
        // Unknown values mean "any".
        (
            "trial=bogus&configured=maybe&type=nope".into(),
            vec![&desk, &clinic, &trader, &nameless],
        ),
    ] {
        assert_eq!(
            ids_at(&viewer, &format!("/admin/hired-agents?{query}")).await,
            sorted(&expected),
            "{query}"
        );
    }
    let (_, none) = viewer.page("/admin/hired-agents?active=no").await;
    assert!(
        none.contains("No hired agent matches these filters. <a href=\"/admin/hired-agents\">Clear filters</a>"),
        "{none}"
    );
    // The form shows the filters applied.
    let (_, page) = viewer
        .page("/admin/hired-agents?trial=active&paused=no&sort=name")
        .await;
    assert!(page.contains("<option value=\"active\" selected>Trial running</option>"));
    assert!(page.contains("<option value=\"no\" selected>No</option>"));
    assert!(page.contains("<option value=\"name\" selected>Nickname A–Z</option>"));

    // Search: part of a nickname in any case, or a whole id in any case; nothing else.
    for (q, expected) in [
        ("alph", vec![&desk]),
        ("ALPHA", vec![&desk]),
        ("er", vec![&clinic, &trader]),
        (clinic.as_str(), vec![&clinic]),
        (&clinic.to_uppercase(), vec![&clinic]),
        (&clinic[..12], vec![]),
        ("%", vec![]),
        ("_", vec![]),
        ("healthcare", vec![]),
    ] {
        assert_eq!(
            ids_at(&viewer, &format!("/admin/hired-agents?q={}", urlencode(q))).await,
            sorted(&expected),
            "{q}"
        );
    }
    let (_, none) = viewer.page("/admin/hired-agents?q=zzz&type=nope").await;
    assert!(
        none.contains(
            "No hired agent matches “zzz”. <a href=\"/admin/hired-agents\">Clear filters</a>"
        ),
        "{none}"
    );

    // Arriving from a customer: whose agents these are, with a way back to everyone's.
    let (_, page) = viewer
        .page(&format!(
            "/admin/hired-agents?customer={}&paused=yes",
            moon.customer_id
        ))
        .await;
    assert!(
        page.contains(&format!(
            "Hired agents for <a href=\"/admin/customers/{}\">Moonlight Labs</a>",
            moon.customer_id
        )),
        "{page}"
    );
    assert!(
        page.contains("<a href=\"/admin/hired-agents?paused=yes\">Show every customer&#39;s</a>")
            || page
                .contains("<a href=\"/admin/hired-agents?paused=yes\">Show every customer's</a>"),
        "{page}"
    );
    assert_eq!(linked_ids(&page), std::slice::from_ref(&trader));
    assert!(
        page.contains(&format!("name=\"customer\" value=\"{}\"", moon.customer_id)),
        "the other filters keep the customer"
    );
    let (status, page) = viewer.page("/admin/hired-agents?customer=CUS-nope").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("No customer has the id <code class=\"id\">CUS-nope</code>"));
    assert!(linked_ids(&page).is_empty());

    // Other orders: by the name shown, and running trials first.
    let (_, page) = viewer.page("/admin/hired-agents?sort=name").await;
    assert_eq!(
        linked_ids(&page),
        [
            clinic.clone(),
            desk.clone(),
            nameless.clone(),
            trader.clone()
        ]
    );
    let (_, page) = viewer.page("/admin/hired-agents?sort=trial_end").await;
    assert_eq!(
        linked_ids(&page),
        [
            desk.clone(),
            nameless.clone(),
            trader.clone(),
            clinic.clone()
        ]
    );

    // htmx asks for the results only; the export follows the filters.
    let frag = viewer
        .http
        .get(viewer.url(&format!("/admin/hired-agents?type={TRADING}")))
        .header("HX-Request", "true")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        frag.trim_start()
            .starts_with("<div id=\"hired-agent-results\">"),
        "{frag}"
    );
    assert!(!frag.contains("<html") && frag.contains("Moon Trader"));
    assert!(
        frag.contains(&format!(
            "href=\"/admin/hired-agents.csv?type={}\"",
            TRADING
        )),
        "{frag}"
    );
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Walks the pages from `first` by their "Next page" links; every id in order, and the pages seen.
async fn walk(client: &Client, first: &str) -> (Vec<String>, usize) {
    let mut ids = vec![];
    let mut path = Some(first.to_string());
    let mut pages = 0;
    while let Some(p) = path {
        let (status, page) = client.page(&p).await;
        assert_eq!(status, StatusCode::OK, "{p}");
        ids.extend(linked_ids(&page));
        path = next_link(&page);
        pages += 1;
        assert!(pages < 50, "the pages end");
    }
    (ids, pages)
}

async fn pages_follow_each_order_without_duplicates_or_gaps(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let c = customer(&app).await;
    let mut all = vec![];
    // 26 agents, many created at the same instant (their order then rests on the id), nicknames
    // that tie in case, and a few without one; and four running trials, two ending at once.
    for i in 0..26 {
        if i % 5 == 0 {
            app.clock.advance(chrono::Duration::seconds(1));
        }
        let id = match i {
            0..=3 => unnamed(&app, &c, MARKETING).await,
            _ => {
                let nickname = if i % 2 == 0 {
                    format!("agent {:02}", i / 2)
                } else {
                    format!("Agent {:02}", i / 2)
                };
                fx::hire(&app, &c, MARKETING, &nickname).await
            }
        };
        all.push(id);
    }
    for (i, name) in ["Trial B", "Trial A", "Trial C", "Trial D"]
        .iter()
        .enumerate()
    {
        if i != 1 {
            app.clock.advance(chrono::Duration::hours(3));
        }
        let id = fx::configured_trading(&app, &c, name).await;
        start_trial(&app, &c, &id).await;
        all.push(id);
    }
    let (admin, _) = app.user_with_role("operator").await;
    let mut expected_all = all.clone();
    expected_all.sort();

    for sort in ["", "name", "trial_end"] {
        // One page with everything is the order; seven at a time gives the same, none twice.
        let (_, whole) = admin
            .page(&format!("/admin/hired-agents?sort={sort}&per_page=200"))
            .await;
        let order = linked_ids(&whole);
        assert_eq!(order.len(), 30, "{sort}");
        assert!(next_link(&whole).is_none());
        let (paged, pages) = walk(
            &admin,
            &format!("/admin/hired-agents?sort={sort}&per_page=7"),
        )
        .await;
        assert_eq!(pages, 5, "{sort}");
        assert_eq!(
            paged, order,
            "{sort}: pages continue where the last one ended"
        );
        let mut unique = paged.clone();
        unique.sort();
        assert_eq!(unique, expected_all, "{sort}: every agent exactly once");
    }
    // Newest first; the name order; running trials first, soonest ending first.
    let (_, whole) = admin.page("/admin/hired-agents?per_page=200").await;
    let order = linked_ids(&whole);
    assert_eq!(order[0], all[29]);
    // The first five were created at one instant: last, by id.
    let mut first = all[..5].to_vec();
    first.sort();
    first.reverse();
    assert_eq!(
        &order[25..],
        &first[..],
        "the oldest last; at one instant by id"
    );
    let (_, whole) = admin
        .page("/admin/hired-agents?sort=name&per_page=200")
        .await;
    let page = whole.split("id=\"hired-agent-results\"").nth(1).unwrap();
    let a = page.find(">agent 02<").unwrap();
    let b = page.find(">Agent 02<").unwrap();
    let t = page.find(">Trial A<").unwrap();
    assert!(a < t && b < t, "case is ignored");
    let (_, whole) = admin
        .page("/admin/hired-agents?sort=trial_end&per_page=200")
        .await;
    let order = linked_ids(&whole);
    let mut tied = [all[26].clone(), all[27].clone()];
    tied.sort();
    assert_eq!(&order[..2], &tied[..], "two ending first, at once: by id");
    assert_eq!(order[2], all[28]);
    assert_eq!(order[3], all[29]);
    assert_eq!(order[4], all[25], "then the rest, newest first");

    // The filters ride along on the next-page link.
    let (_, first) = admin
        .page(&format!(
            "/admin/hired-agents?type={MARKETING}&per_page=7&sort=name"
        ))
        .await;
    let next = next_link(&first).unwrap();
    assert!(
        next.contains(&format!("type={}", urlencode(MARKETING)))
            && next.contains("sort=name")
            && next.contains("per_page=7"),
        "{next}"
    );
    let (ids, pages) = walk(
        &admin,
        &format!("/admin/hired-agents?type={MARKETING}&per_page=7&sort=name"),
    )
    .await;
    assert_eq!((ids.len(), pages), (26, 4));

    // A mangled link, or one of another order, is a bad request.
    for bad in [
        "after=garbage",
        "after=n~x~HAI-1",
        "sort=name&after=c~2025-01-01T00:00:00Z~HAI-1",
    ] {
        let (status, body) = admin.page(&format!("/admin/hired-agents?{bad}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(body.contains("This page link is not valid."), "{bad}");
    }
}

async fn csv_exports_the_filtered_agents_with_formulas_neutralised(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let c = customer(&app).await;
    for nickname in [
        "=HYPERLINK(\"http://evil.example\",\"Click\")",
        "+91 desk",
        "-minus",
        "@home, \"quoted\"",
    ] {
        fx::hire(&app, &c, MARKETING, nickname).await;
    }
    let desk = fx::configured_trading(&app, &c, "Plain desk").await;
    start_trial(&app, &c, &desk).await;
    let (viewer, _) = app.user_with_role("viewer").await;

    let res = viewer
        .get(&format!(
            "/admin/hired-agents.csv?type={MARKETING}&per_page=1"
        ))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
    let disposition = res.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        disposition.starts_with("attachment; filename=\"hired-agents-")
            && disposition.ends_with(".csv\""),
        "{disposition}"
    );
    let body = res.text().await.unwrap();
    assert!(
        body.starts_with(
            "\u{feff}ID,Nickname,Customer ID,Customer,Agent type,Agent type name,Version,Subscription,\
             Subscription status,Trial,Trial ends (UTC),Configured,Active,Paused,Created (UTC)\r\n"
        ),
        "{body}"
    );
    assert!(
        body.contains(",\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"Click\"\")\",")
            && body.contains(",'+91 desk,")
            && body.contains(",'-minus,")
            && body.contains(",\"'@home, \"\"quoted\"\"\","),
        "{body}"
    );
    assert!(
        body.contains(&format!(",{MARKETING},Healthcare marketing,1.0.0,SUB-")),
        "{body}"
    );
    assert!(
        body.contains(",active,Trial not started,,no,yes,no,"),
        "{body}"
    );
    assert!(!body.contains("Plain desk"), "only the filter's agents");
    assert!(!body.contains('{'), "no JSON: {body}");
    assert_eq!(
        body.matches("\r\n").count(),
        5,
        "the header and four agents, not one page"
    );

    // The same through the list's address; and the trial and its days left.
    let (_, same) = viewer
        .page(&format!("/admin/hired-agents?type={MARKETING}&format=csv"))
        .await;
    assert_eq!(
        same.trim_start_matches('\u{feff}'),
        body.trim_start_matches('\u{feff}')
    );
    let (_, trading) = viewer.page("/admin/hired-agents?q=plain&format=csv").await;
    assert!(
        trading.contains(&format!("{desk},Plain desk,")),
        "{trading}"
    );
    assert!(
        trading.contains(",Trial running (7 days left),"),
        "{trading}"
    );
    assert!(trading.contains(",yes,yes,no,"), "{trading}");
    assert_eq!(trading.matches("\r\n").count(), 2);
    // The list links to the export of what it shows.
    let (_, page) = viewer
        .page(&format!("/admin/hired-agents?type={MARKETING}&paused=no"))
        .await;
    assert!(
        page.contains(&format!(
            "href=\"/admin/hired-agents.csv?type={}&#38;paused=no\"",
            MARKETING
        )) || page.contains(&format!(
            "href=\"/admin/hired-agents.csv?type={}&amp;paused=no\"",
            MARKETING
        )),
        "{page}"
    );
}

async fn customer_users_are_refused(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let c = customer(&app).await;
    fx::hire(&app, &c, MARKETING, "Mine").await;
    for path in [
        "/admin/hired-agents",
        "/admin/hired-agents?format=csv",
        "/admin/hired-agents.csv",
        "/admin/hired-agents?customer=CUS-x",
    ] {
        let (status, body) = c.client.page(path).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        assert!(body.contains("This area is for agentdesk staff."), "{path}");
        assert!(!body.contains("Mine"), "{path}");
    }
    let (_, portal) = c.client.page("/portal").await;
    assert!(!portal.contains("/admin/hired-agents"), "no staff link");
    // The service refuses a customer's scope too, whoever calls it.
    let refused = hired_agents_list::page(
        &app.db,
        &Scope::Customer(c.customer_id.clone()),
        &Filter::default(),
        None,
        10,
    )
    .await;
    assert!(
        matches!(refused, Err(AppError::Forbidden { .. })),
        "{refused:?}"
    );
    // Signed out: to the sign-in page.
    let res = app.client().get("/admin/hired-agents").await;
    assert!(res.status().is_redirection(), "{}", res.status());
}

/// The hires cell of a type's row in the staff catalog.
fn hires_cell(page: &str, type_id: &str) -> String {
    let row = page
        .split("<tr>")
        .find(|r| r.contains(&format!("href=\"/admin/agent-types/{type_id}\"")))
        .unwrap_or_else(|| panic!("no row for {type_id}: {page}"));
    let start = row.find("<td class=\"num\">").expect("a hires cell") + "<td class=\"num\">".len();
    row[start..start + row[start..].find("</td>").unwrap()].to_string()
}

async fn the_catalog_counts_real_hired_agents(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let (viewer, _) = app.user_with_role("viewer").await;
    let (_, page) = viewer.page("/admin/agent-types").await;
    assert_eq!(hires_cell(&page, TRADING), "0");
    assert_eq!(hires_cell(&page, MARKETING), "0");

    let a = customer(&app).await;
    let b = customer(&app).await;
    fx::configured_trading(&app, &a, "One").await;
    fx::hire(&app, &b, TRADING, "Two").await;
    fx::hire(&app, &b, MARKETING, "Three").await;
    // Checkout gives every new subscription its (empty) agent, which counts; a subscription without
    // one (bought before agents existed) does not: the column counts agents, not subscriptions.
    fx::subscribe(&app, &a, TRADING).await;
    fx::subscribe(&app, &a, TRADING).await;
    assert_eq!(
        app.exec(
            "DELETE FROM hired_agents WHERE id = (SELECT MIN(id) FROM hired_agents \
             WHERE nickname IS NULL AND agent_type_id = 'trading.delta_futures.v1')"
        )
        .await
        .unwrap(),
        1
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM subscriptions").await, 5);

    let (_, page) = viewer.page("/admin/agent-types").await;
    let cell = hires_cell(&page, TRADING);
    assert!(
        cell.starts_with(&format!("<a href=\"/admin/hired-agents?type={TRADING}\""))
            && cell.ends_with(">3</a>"),
        "{cell}"
    );
    assert!(hires_cell(&page, MARKETING).ends_with(">1</a>"));
    // The link lands on that type's agents.
    let (_, list) = viewer
        .page(&format!("/admin/hired-agents?type={TRADING}"))
        .await;
    assert_eq!(linked_ids(&list).len(), 3);
}

async fn the_customer_page_lists_its_hired_agents(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let acme = customer(&app).await;
    let other = customer(&app).await;
    let desk = fx::configured_trading(&app, &acme, "Desk Alpha").await;
    start_trial(&app, &acme, &desk).await;
    app.clock.advance(chrono::Duration::seconds(5));
    let clinic = fx::hire(&app, &acme, MARKETING, "Clinic Helper").await;
    let elsewhere = fx::hire(&app, &other, MARKETING, "Someone else's").await;
    let (operator, _) = app.user_with_role("operator").await;

    let (status, page) = operator
        .page(&format!("/admin/customers/{}", acme.customer_id))
        .await;
    assert_eq!(status, StatusCode::OK);
    let section = page
        .split("id=\"customer-hired-agents\"")
        .nth(1)
        .expect("a hired agents section")
        .split("</section>")
        .next()
        .unwrap();
    assert!(section.contains("<h2 id=\"hired-heading\">Hired agents</h2>"));
    assert_eq!(linked_ids(section), [clinic.clone(), desk.clone()]);
    assert!(section.contains(&format!(
        "<a href=\"/admin/hired-agents/{desk}\">Desk Alpha</a>"
    )));
    assert!(section.contains("Delta futures trader") && section.contains("Healthcare marketing"));
    assert!(section.contains("Trial running") && section.contains("7 days left"));
    assert!(section.contains("Trial not started"));
    assert!(
        section.contains("<span class=\"badge ok\">yes</span>")
            && section.contains("<span class=\"badge muted\">no</span>")
    );
    assert!(!page.contains(&elsewhere));
    assert!(section.contains(&format!(
        "<a href=\"/admin/hired-agents?customer={}\">All in the hired-agents list</a>",
        acme.customer_id
    )));
    // The link lists the same agents.
    assert_eq!(
        ids_at(
            &operator,
            &format!("/admin/hired-agents?customer={}", acme.customer_id)
        )
        .await,
        sorted(&[&desk, &clinic])
    );

    let lonely = app.admin().await;
    let res = lonely
        .post_form(
            "/admin/customers",
            &[("name", "Lonely"), ("email", "l@lonely.example")],
        )
        .await;
    let (_, page) = operator.page(&location(&res)).await;
    assert!(page.contains("This customer has no hired agents yet."));
    assert!(!page.contains("All in the hired-agents list"));
}

async fn refused_characters_and_a_huge_search_get_clear_answers(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let c = customer(&app).await;
    fx::hire(&app, &c, MARKETING, "Clinic Helper").await;
    let admin = app.admin().await;

    // NUL and bidirectional controls in the search box: a clear refusal, not an error page of the
    // database or a silently empty list.
    for q in ["n%00ul", "abc%E2%80%AEfed", "x%E2%81%A6y"] {
        let (status, body) = admin.page(&format!("/admin/hired-agents?q={q}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{q}");
        assert!(
            body.contains("The search parameter “q” contains")
                && body.contains("such characters are not accepted"),
            "{q}: {body}"
        );
        assert!(body.contains("Go back"), "{body}");
    }

    // 3 000 characters: the page answers, keeps what was typed in the box and repeats only the
    // start of it.
    let long = "é".repeat(1500) + &"x".repeat(1500);
    let (status, page) = admin
        .page(&format!("/admin/hired-agents?q={}", urlencode(&long)))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains(&format!("value=\"{long}\"")),
        "the box keeps it"
    );
    assert!(
        page.contains(&format!("No hired agent matches “{}…”.", "é".repeat(60))),
        "{}",
        &page[page.find("class=\"empty\"").unwrap_or(0)..][..400.min(page.len())]
    );
    assert_eq!(page.matches(&long).count(), 1, "repeated once, in the box");
    // And the same in the export and with every filter and order.
    let res = admin
        .get(&format!(
            "/admin/hired-agents.csv?q={}&sort=name&type={MARKETING}&trial=active&configured=no&active=yes&paused=no",
            urlencode(&long)
        ))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.text().await.unwrap().matches("\r\n").count(), 1);
}
