//! The staff list of hired agents in headless Chromium: from the navigation, narrowed by a filter
//! (swapped in place by htmx), and arrived at from a customer's page; at desktop and phone width,
//! light and dark, without sideways scrolling.

use std::time::Duration;

use fantoccini::{Client, Locator};
use serde_json::json;

use crate::agents_fixture::{self as fx, MARKETING};
use crate::billing::{TRADING, customer};
use crate::both_engines;
use crate::browser::{assert_no_sideways_scroll, browser, click, see, see_at, sign_in, snap};
use crate::helpers::*;

both_engines!(operator_filters_the_hired_agents_list);

/// Looks at the page at 390 and 1280 px, light and dark: saved with AGENTDESK_SCREENSHOTS, and
/// never wider than the window; once from the top and once scrolled to `part`. Back at 1280 px,
/// light, afterwards.
async fn look(c: &Client, name: &str, part: &str) {
    for (width, height) in [(390, 844), (1280, 900)] {
        c.set_window_size(width, height).await.unwrap();
        for theme in ["dark", "light"] {
            c.execute(
                "document.documentElement.setAttribute('data-theme', arguments[0]); window.scrollTo(0, 0)",
                vec![json!(theme)],
            )
            .await
            .unwrap();
            tokio::time::sleep(Duration::from_millis(150)).await;
            assert_no_sideways_scroll(c).await;
            snap(c, &format!("{name}-{width}-{theme}")).await;
            c.execute(
                "document.querySelector(arguments[0]).scrollIntoView()",
                vec![json!(part)],
            )
            .await
            .unwrap();
            tokio::time::sleep(Duration::from_millis(100)).await;
            snap(c, &format!("{name}-{width}-{theme}-part")).await;
        }
    }
}

async fn rows(c: &Client) -> usize {
    c.find_all(Locator::Css("#hired-agent-results tbody tr"))
        .await
        .unwrap()
        .len()
}

async fn wait_for_rows(c: &Client, n: usize) {
    for _ in 0..50 {
        if rows(c).await == n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(rows(c).await, n);
}

async fn operator_filters_the_hired_agents_list(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let Some((_driver, c)) = browser().await else {
        return;
    };
    let long = customer(&app).await;
    let res = app
        .admin()
        .await
        .post_form(
            &format!("/admin/customers/{}/edit", long.customer_id),
            &[
                (
                    "name",
                    "Sri Venkateswara Multi-Speciality Hospitals and Research Centre Private Limited",
                ),
                ("email", "accounts@sri-venkateswara-hospitals.example"),
            ],
        )
        .await;
    assert_eq!(res.status(), reqwest::StatusCode::SEE_OTHER);
    let acme = customer(&app).await;
    let desk = fx::configured_trading(&app, &acme, "Desk Alpha").await;
    fx::add_goal(
        &app,
        &acme,
        &desk,
        "trading.guardrail_report.v1",
        "daily",
        json!({}),
    )
    .await;
    agentdesk::service::hired_agents::finalize(
        &app.db,
        &agentdesk::domain::billing::settings::BillingSettings::default(),
        &fx::actor(&app),
        &agentdesk::domain::actor::Scope::Customer(acme.customer_id.clone()),
        &desk,
        Some(true),
    )
    .await
    .unwrap();
    fx::hire(
        &app,
        &long,
        MARKETING,
        "Outpatient-department-appointment-reminders-and-follow-up-assistant",
    )
    .await;
    let paused = fx::hire(&app, &long, TRADING, "Night desk").await;
    agentdesk::service::hired_agents::set_paused(
        &app.db,
        &agentdesk::domain::billing::settings::BillingSettings::default(),
        &fx::actor(&app),
        &agentdesk::domain::actor::Scope::Customer(long.customer_id.clone()),
        &paused,
        true,
    )
    .await
    .unwrap();
    let sub = fx::subscribe(&app, &acme, MARKETING).await;
    fx::save(
        &app,
        &acme,
        &sub,
        agentdesk::service::hired_agents::Edit::default(),
    )
    .await;

    let (_, operator) = app.user_with_role("operator").await;
    sign_in(&c, &app.base, &operator, PASSWORD, "Dashboard").await;

    // The whole list, from the navigation (in the menu on a phone-sized window).
    let wide = c
        .find(Locator::Css("li.wide-only a[href='/admin/hired-agents']"))
        .await
        .unwrap();
    if wide.is_displayed().await.unwrap() {
        wide.click().await.unwrap();
    } else {
        click(&c, ".site-menu summary").await;
        click(&c, ".site-menu a[href='/admin/hired-agents']").await;
    }
    see_at(&c, "/admin/hired-agents", "Desk Alpha").await;
    assert_eq!(rows(&c).await, 4);
    see(&c, "(no nickname yet)").await;
    see(&c, "7 days left").await;
    look(&c, "hired-agents-list", "#hired-agent-results").await;

    // A filter narrows it in place.
    c.find(Locator::Css("#field-type"))
        .await
        .unwrap()
        .select_by_value(TRADING)
        .await
        .unwrap();
    wait_for_rows(&c, 2).await;
    see(&c, "Night desk").await;
    look(&c, "hired-agents-filtered", "#hired-agent-results").await;

    // From a customer's page to that customer's agents.
    c.goto(&format!(
        "{}/admin/customers/{}",
        app.base, long.customer_id
    ))
    .await
    .unwrap();
    see(&c, "All in the hired-agents list").await;
    look(&c, "hired-agents-customer-page", "#customer-hired-agents").await;
    click(
        &c,
        "#customer-hired-agents a[href^='/admin/hired-agents?customer=']",
    )
    .await;
    see(&c, "Hired agents for Sri Venkateswara").await;
    wait_for_rows(&c, 2).await;
    look(&c, "hired-agents-for-customer", "#hired-agent-results").await;

    // Nothing matches: says so, with a way back.
    c.goto(&format!("{}/admin/hired-agents?q=zzz&paused=yes", app.base))
        .await
        .unwrap();
    see(&c, "No hired agent matches “zzz” with these filters.").await;
    look(&c, "hired-agents-empty", "#hired-agent-results").await;
    click(&c, "#hired-agent-results a[href='/admin/hired-agents']").await;
    wait_for_rows(&c, 4).await;
    c.close().await.unwrap();
}
