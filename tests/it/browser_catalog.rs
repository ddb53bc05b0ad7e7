//! The catalog journey in headless Chromium: copy a version, edit it in the structured editor with
//! live validation, publish it, compare the versions.

use std::time::Duration;

use fantoccini::{Client, Locator};
use serde_json::json;

use crate::both_engines;
use crate::browser::{assert_no_sideways_scroll, browser, click, fill, see, see_at, sign_in, snap};
use crate::helpers::*;

both_engines!(admin_copies_edits_publishes_and_compares_a_version);

/// Waits until the element's text satisfies `ok`.
async fn text_becomes(c: &Client, css: &str, ok: impl Fn(&str) -> bool, what: &str) -> String {
    let mut last = String::new();
    for _ in 0..100 {
        if let Ok(el) = c.find(Locator::Css(css)).await {
            last = el.text().await.unwrap_or_default();
            if ok(&last) {
                return last;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{css} never became {what}; last text: {last:?}");
}

async fn js(c: &Client, script: &str) -> serde_json::Value {
    c.execute(script, vec![]).await.unwrap()
}

/// Waits until the element with this id has the focus.
async fn focus_becomes(c: &Client, id: &str) {
    let mut last = json!(null);
    for _ in 0..100 {
        last = js(
            c,
            "return document.activeElement && document.activeElement.id",
        )
        .await;
        if last == json!(id) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("#{id} never got the focus; {last} has it");
}

/// Clicks after scrolling the element to the middle of the window: the sticky save bar covers the
/// bottom edge, where WebDriver would otherwise leave it.
async fn click_in_view(c: &Client, css: &str) {
    c.wait().for_element(Locator::Css(css)).await.unwrap();
    c.execute(
        "document.querySelector(arguments[0]).scrollIntoView({block: 'center'})",
        vec![json!(css)],
    )
    .await
    .unwrap();
    click(c, css).await;
}

/// Waits until no element matches.
async fn gone(c: &Client, css: &str) {
    for _ in 0..100 {
        if c.find_all(Locator::Css(css)).await.unwrap().is_empty() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{css} is still there");
}

async fn admin_copies_edits_publishes_and_compares_a_version(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let Some((_driver, c)) = browser().await else {
        return;
    };
    sign_in(&c, &app.base, ADMIN_EMAIL, ADMIN_PASSWORD, "Dashboard").await;

    // On a phone (AGENTDESK_BROWSER_WINDOW=390,844) the main links are in the header menu.
    if js(&c, "return getComputedStyle(document.querySelector('.site-menu').closest('ul')).display !== 'none'").await == json!(true) {
        click(&c, ".site-menu summary").await;
        click(&c, ".site-menu a[href='/admin/agent-types']").await;
    } else {
        click(&c, "nav a[href='/admin/agent-types']").await;
    }
    see_at(&c, "/admin/agent-types", "Healthcare marketing").await;
    snap(&c, "catalog-list").await;
    assert_no_sideways_scroll(&c).await;
    click(&c, "a[href='/admin/agent-types/marketing.healthcare.v1']").await;
    see_at(
        &c,
        "/admin/agent-types/marketing.healthcare.v1",
        "new hires get version 1.0.0",
    )
    .await;
    click(
        &c,
        "a[href='/admin/agent-types/new?copy_from=marketing.healthcare.v1@1.0.0']",
    )
    .await;
    see_at(
        &c,
        "/admin/agent-types/new",
        "New version of marketing.healthcare.v1",
    )
    .await;
    let version = c
        .find(Locator::Css("#field-version"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(
        version.as_deref(),
        Some("1.1.0"),
        "the next minor version is suggested"
    );
    click(&c, "#new-version-form button[type=submit]").await;

    // The structured editor, on a copy of 1.0.0.
    see_at(
        &c,
        "/admin/agent-types/marketing.healthcare.v1/versions/1.1.0/edit",
        "Edit draft marketing.healthcare.v1@1.1.0",
    )
    .await;
    snap(&c, "editor-top").await;
    assert_no_sideways_scroll(&c).await;
    // Rows fold, and stay folded through edits.
    click_in_view(&c, "#f-cf-0--row > summary").await;
    assert_eq!(
        js(&c, "return document.getElementById('f-cf-0--row').open").await,
        json!(false)
    );
    // "+ Add field" keeps the page where it was and puts the focus in the new row.
    c.execute(
        "document.querySelector('#f-cf-add').scrollIntoView({block: 'center'})",
        vec![],
    )
    .await
    .unwrap();
    let before = js(&c, "return window.scrollY").await.as_f64().unwrap();
    click(&c, "#f-cf-add").await;
    focus_becomes(&c, "f-cf-11--key").await;
    see(&c, "Field 12").await;
    let after = js(&c, "return window.scrollY").await.as_f64().unwrap();
    assert!(
        (after - before).abs() < 100.0,
        "the page stays where it was: {before} → {after}"
    );
    assert_eq!(
        js(&c, "return document.getElementById('f-cf-0--row').open").await,
        json!(false)
    );
    // The save bar stays in view on a long editor.
    assert_eq!(
        js(
            &c,
            "return getComputedStyle(document.querySelector('.editor-savebar')).position"
        )
        .await,
        json!("sticky")
    );
    assert_eq!(
        js(&c, "var r = document.getElementById('save-draft').getBoundingClientRect(); return r.bottom <= window.innerHeight && r.top > 0").await,
        json!(true)
    );
    snap(&c, "editor-added-field").await;
    fill(&c, "#f-cf-11--key", "follow_up_days").await;
    fill(&c, "#f-cf-11--label", "Follow-up days").await;
    assert!(
        c.find(Locator::Css("#f-cf-11--pattern")).await.is_ok(),
        "a text field has a pattern"
    );
    let select = c.find(Locator::Css("#f-cf-11--type")).await.unwrap();
    select.select_by_value("integer").await.unwrap();
    // The row is swapped for one with the inputs of an integer.
    gone(&c, "#f-cf-11--pattern").await;
    c.wait()
        .for_element(Locator::Css("#f-cf-11--min"))
        .await
        .unwrap();
    fill(&c, "#f-cf-11--default", "soon").await;
    // Leaving the field validates it live: the error appears next to the default.
    click_in_view(&c, "#f-cf-11--label").await;
    let error = text_becomes(&c, "#f-cf-11--default-error", |t| !t.is_empty(), "an error").await;
    assert!(error.contains("must be a whole number"), "{error}");
    snap(&c, "editor-live-error").await;
    fill(&c, "#f-cf-11--default", "3").await;
    click_in_view(&c, "#f-cf-11--label").await;
    text_becomes(&c, "#f-cf-11--default-error", str::is_empty, "empty").await;
    // A problem in the summary links to its input, in words.
    fill(&c, "#f-cf-11--max", "ten").await;
    click_in_view(&c, "#f-cf-11--label").await;
    let summary = text_becomes(
        &c,
        "#editor-problems",
        |t| t.contains("Maximum"),
        "a problem",
    )
    .await;
    assert!(
        summary.contains("Field 12 (Follow-up days) — Maximum: Enter a number."),
        "{summary}"
    );
    click_in_view(&c, "#editor-problems a[href='#f-cf-11--max']").await;
    focus_becomes(&c, "f-cf-11--max").await;
    fill(&c, "#f-cf-11--max", "30").await;
    click_in_view(&c, "#f-cf-11--label").await;
    text_becomes(&c, "#editor-problems", str::is_empty, "empty").await;
    // Up and Down move the row and keep the focus on it.
    click_in_view(&c, "#f-cf-11--up").await;
    focus_becomes(&c, "f-cf-10--up").await;
    let key = c
        .find(Locator::Css("#f-cf-10--key"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(key.as_deref(), Some("follow_up_days"));
    click_in_view(&c, "#f-cf-10--down").await;
    focus_becomes(&c, "f-cf-11--up").await;
    snap(&c, "editor-moved").await;

    click(&c, "#save-draft").await;
    see(&c, "Draft marketing.healthcare.v1@1.1.0 saved.").await;
    see(&c, "follow_up_days").await;
    // Publishing asks first.
    c.execute(
        "window.confirm = function (m) { window.__asked = m; return true; }",
        vec![],
    )
    .await
    .unwrap();
    click(&c, "#publish").await;
    see(&c, "is published: new hires use it.").await;
    let asked = c
        .execute("return window.__asked || ''", vec![])
        .await
        .unwrap();
    assert!(
        asked
            .as_str()
            .unwrap_or_default()
            .contains("Published versions cannot be changed"),
        "{asked}"
    );

    // Both versions, and their difference.
    click(
        &c,
        "nav[aria-label=breadcrumb] a[href='/admin/agent-types/marketing.healthcare.v1']",
    )
    .await;
    see_at(
        &c,
        "/admin/agent-types/marketing.healthcare.v1",
        "Compare versions",
    )
    .await;
    let rows = c
        .find_all(Locator::Css("#versions tbody tr"))
        .await
        .unwrap();
    assert_eq!(rows.len(), 2);
    assert!(rows[0].text().await.unwrap().contains("1.1.0"));
    assert!(rows[0].text().await.unwrap().contains("published"));
    assert!(rows[1].text().await.unwrap().contains("1.0.0"));
    click(
        &c,
        "form[action='/admin/agent-types/marketing.healthcare.v1/compare'] button[type=submit]",
    )
    .await;
    see_at(
        &c,
        "/admin/agent-types/marketing.healthcare.v1/compare",
        "1.0.0 → 1.1.0",
    )
    .await;
    let diff = c
        .find(Locator::Css("#diff"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        diff.contains("follow_up_days") && diff.contains("added"),
        "{diff}"
    );
    snap(&c, "catalog-diff").await;
    c.close().await.unwrap();
}

both_engines!(preview_form_works_in_a_real_browser);

/// The configuration preview filled in as a customer would: radios, repeatable rows added with htmx,
/// a nested group, a secret input; live errors as fields are left; a complete form checks as valid.
async fn preview_form_works_in_a_real_browser(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let Some((_driver, c)) = browser().await else {
        return;
    };
    sign_in(&c, &app.base, ADMIN_EMAIL, ADMIN_PASSWORD, "Dashboard").await;
    c.goto(&format!(
        "{}/admin/agent-types/trading.delta_futures.v1/versions/1.0.0",
        app.base
    ))
    .await
    .unwrap();
    click(&c, "#part-config details.preview summary").await;
    assert_no_sideways_scroll(&c).await;

    fill(&c, "#f-config-nickname", "Trader Joe").await;
    click(&c, "input[name='config.theme'][value=dark]").await;
    fill(&c, "#f-config-timezone", "Asia/Kolkata").await;
    click(
        &c,
        "input[name='config.exchange_provider'][value=delta_exchange_india]",
    )
    .await;
    fill(&c, "#f-config-exchange_credential_ref", "CRED-7").await;
    fill(
        &c,
        "#f-config-allowed_coins input[name='config.allowed_coins']",
        "BTC",
    )
    .await;
    click(&c, "#f-config-allowed_coins-wrap button.add-row").await;
    for _ in 0..50 {
        if c.find_all(Locator::Css("#f-config-allowed_coins input"))
            .await
            .unwrap()
            .len()
            == 2
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let rows = c
        .find_all(Locator::Css("#f-config-allowed_coins input"))
        .await
        .unwrap();
    assert_eq!(rows.len(), 2, "htmx added a row");
    rows[1].send_keys("ETH").await.unwrap();
    fill(&c, "#f-config-default_coin", "DOGE").await;
    fill(&c, "#f-config-interval_seconds", "0").await;
    click(&c, "#f-config-nickname").await;
    // Live errors, including the rule across two fields.
    let e = text_becomes(
        &c,
        "#f-config-interval_seconds-error",
        |t| !t.is_empty(),
        "an error",
    )
    .await;
    assert_eq!(e, "Interval (seconds) must be at least 1.");
    let invalid = c
        .find(Locator::Css("#f-config-interval_seconds"))
        .await
        .unwrap()
        .attr("aria-invalid")
        .await
        .unwrap();
    assert_eq!(
        invalid.as_deref(),
        Some("true"),
        "screen readers hear it too"
    );
    let e = text_becomes(
        &c,
        "#f-config-default_coin-error",
        |t| !t.is_empty(),
        "an error",
    )
    .await;
    assert_eq!(e, "Default coin must be one of the allowed coins.");
    snap(&c, "preview-live-errors").await;
    fill(&c, "#f-config-interval_seconds", "30").await;
    fill(&c, "#f-config-default_coin", "ETH").await;
    fill(&c, "#f-config-risk_limits-max_units_per_order", "3").await;
    click(&c, "#part-config form.schema-form button.check").await;
    see(&c, "Valid: a customer could save this as it is.").await;
    // The secret never comes back to the browser.
    let secret = c
        .find(Locator::Css("#f-config-exchange_credential_ref"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(secret.as_deref(), Some(""));
    c.close().await.unwrap();
}
