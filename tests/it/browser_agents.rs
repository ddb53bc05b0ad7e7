//! The setup journey in headless Chromium: a customer goes through the whole wizard (a field
//! error on the way, a secret typed, a goal added with htmx), activates the trial and finds the
//! agent on My agents; then an operator changes the agent while the customer has its
//! configuration open, and the customer's save shows the conflict.

use fantoccini::{Client, Locator};

use crate::agents_fixture as fx;
use crate::billing::{TRADING, customer};
use crate::both_engines;
use crate::browser::{assert_no_sideways_scroll, browser, click, fill, path, see, sign_in, snap};
use crate::helpers::*;

both_engines!(a_customer_sets_up_an_agent_and_meets_an_operators_change);

async fn text_of(c: &Client, css: &str) -> String {
    c.find(Locator::Css(css))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

async fn a_customer_sets_up_an_agent_and_meets_an_operators_change(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let Some((_driver, c)) = browser().await else {
        return;
    };
    let cu = customer(&app).await;
    let sub = fx::subscribe(&app, &cu, TRADING).await;
    sign_in(&c, &app.base, &cu.email, PASSWORD, "Acme Clinic").await;

    // From the subscription page into the wizard.
    c.goto(&format!("{}/portal/subscriptions/{sub}", app.base))
        .await
        .unwrap();
    click(&c, "main a[href$='/setup']").await;
    see(&c, "Step 1 of 5").await;
    snap(&c, "agents-1-wizard-nickname").await;
    assert_no_sideways_scroll(&c).await;
    fill(&c, "#f-config-nickname", "Desk Bot").await;
    click(&c, "form.schema-form button.save").await;
    see(&c, "Step 2 of 5").await;
    click(&c, "input[name='config.theme'][value=dark]").await;
    snap(&c, "agents-2-wizard-theme").await;
    click(&c, "form.schema-form button.save").await;
    see(&c, "Step 3 of 5").await;

    // The configuration, with a coin that is not in the list: the error sits next to its field.
    fill(&c, "#f-config-timezone", "Asia/Kolkata").await;
    click(
        &c,
        "input[name='config.exchange_provider'][value=delta_exchange_india]",
    )
    .await;
    fill(
        &c,
        "#f-config-exchange_credential_ref",
        "delta-live-secret-42",
    )
    .await;
    fill(
        &c,
        "#f-config-allowed_coins input[name='config.allowed_coins']",
        "BTC",
    )
    .await;
    fill(&c, "#f-config-default_coin", "DOGE").await;
    fill(&c, "#f-config-interval_seconds", "60").await;
    fill(&c, "#f-config-risk_limits-max_units_per_order", "2").await;
    click(&c, "form.schema-form button.save").await;
    see(&c, "Nothing was saved").await;
    let error = text_of(&c, "#f-config-default_coin-error").await;
    assert!(error.contains("Default coin"), "{error}");
    snap(&c, "agents-3-wizard-config-error").await;
    assert_no_sideways_scroll(&c).await;
    assert_eq!(app.count("SELECT COUNT(*) FROM credentials").await, 0);
    // The secret is never sent back: type it again, fix the coin.
    fill(
        &c,
        "#f-config-exchange_credential_ref",
        "delta-live-secret-42",
    )
    .await;
    fill(&c, "#f-config-default_coin", "BTC").await;
    click(&c, "form.schema-form button.save").await;
    see(&c, "Step 4 of 5").await;
    assert_eq!(app.count("SELECT COUNT(*) FROM credentials").await, 1);

    // A goal added with htmx: the form appears in place, the card joins the list.
    click(&c, "a[href*='template=trading.guardrail_report.v1']").await;
    see(&c, "Add goal").await;
    let before = path(&c).await;
    click(&c, "#goal-form-slot button.save").await;
    see(&c, "Next due").await;
    assert_eq!(path(&c).await, before, "added in place, no navigation");
    snap(&c, "agents-4-wizard-goals").await;
    assert_no_sideways_scroll(&c).await;
    click(&c, "form.wizard-next button[type=submit]").await;
    see(&c, "Step 5 of 5").await;
    see(&c, "Everything is ready").await;
    snap(&c, "agents-5-wizard-review").await;
    assert_no_sideways_scroll(&c).await;
    click(&c, "form[action$='/activate'] button[type=submit]").await;
    see(&c, "Trial running · 7 days left").await;
    snap(&c, "agents-6-overview").await;
    assert_no_sideways_scroll(&c).await;

    // My agents shows it.
    click(&c, "main nav a[href='/portal/agents']").await;
    see(&c, "Desk Bot").await;
    see(&c, "Guardrail report").await;
    snap(&c, "agents-7-my-agents").await;
    assert_no_sideways_scroll(&c).await;

    // The customer opens the configuration; an operator saves a change meanwhile.
    let id = app.text("SELECT id FROM hired_agents").await;
    c.goto(&format!("{}/portal/agents/{id}/configuration", app.base))
        .await
        .unwrap();
    see(&c, "Save configuration").await;
    snap(&c, "agents-8-configuration").await;
    assert_no_sideways_scroll(&c).await;
    let (op, op_email) = app.user_with_role("operator").await;
    let (_, page) = op
        .page(&format!("/admin/hired-agents/{id}/configuration"))
        .await;
    let version = page
        .split("name=\"_row_version\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .to_string();
    let res = op
        .post_form(
            &format!("/admin/hired-agents/{id}/configuration"),
            &[
                ("_row_version", version.as_str()),
                ("config.nickname", "Desk Bot (ops)"),
                ("config.theme", "dark"),
                ("config.timezone", "Asia/Kolkata"),
                ("config.exchange_provider", "delta_exchange_india"),
                ("config.allowed_coins.__present", "1"),
                ("config.allowed_coins", "BTC"),
                ("config.default_coin", "BTC"),
                ("config.interval_seconds", "120"),
                ("config.risk_limits.__present", "1"),
                ("config.risk_limits.max_units_per_order", "2"),
            ],
        )
        .await;
    assert_eq!(res.status(), reqwest::StatusCode::SEE_OTHER);
    fill(&c, "#f-config-nickname", "Desk Bot 2").await;
    click(&c, "form.schema-form button.save").await;
    see(&c, "changed by someone else since you opened it").await;
    see(&c, "Desk Bot (ops)").await;
    let kept = c
        .find(Locator::Css("#f-config-nickname"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(
        kept.as_deref(),
        Some("Desk Bot 2"),
        "what was typed is kept"
    );
    snap(&c, "agents-9-conflict").await;
    assert_no_sideways_scroll(&c).await;
    c.goto(&format!("{}/portal/agents/{id}/goals", app.base))
        .await
        .unwrap();
    see(&c, "Add a goal").await;
    snap(&c, "agents-10-goals").await;
    assert_no_sideways_scroll(&c).await;

    // The operator's view of the same agent, with its history.
    c.delete_all_cookies().await.unwrap();
    sign_in(&c, &app.base, &op_email, PASSWORD, "Dashboard").await;
    c.goto(&format!("{}/admin/hired-agents/{id}", app.base))
        .await
        .unwrap();
    see(&c, "History").await;
    see(&c, "Acme Clinic").await;
    snap(&c, "agents-11-admin-overview").await;
    assert_no_sideways_scroll(&c).await;
    c.goto(&format!(
        "{}/admin/hired-agents/{id}/configuration",
        app.base
    ))
    .await
    .unwrap();
    see(&c, "on behalf of").await;
    snap(&c, "agents-12-admin-configuration").await;
    assert_no_sideways_scroll(&c).await;

    // A newer version: the upgrade page lists what blocks it (the interval is now at most 30 s).
    crate::hired_agents::publish_trading_1_1(&app).await;
    c.goto(&format!("{}/admin/hired-agents/{id}", app.base))
        .await
        .unwrap();
    click(&c, "main a[href$='/upgrade?to=1.1.0']").await;
    see(&c, "Upgrade from 1.0.0 to 1.1.0").await;
    see(&c, "must be at most 30").await;
    snap(&c, "agents-13-upgrade-blocked").await;
    assert_no_sideways_scroll(&c).await;
}
