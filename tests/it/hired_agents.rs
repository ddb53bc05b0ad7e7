//! Hired agents through the portal and admin pages: the wizard step by step with resume,
//! draft/complete validation, secrets, optimistic locking, goals, trials, pause, upgrades.

use reqwest::StatusCode;
use serde_json::json;

use crate::agents_fixture::{self as fx};
use crate::billing::{TRADING, customer};
use crate::helpers::{Engine, PASSWORD, location, spawn_app};

const SECRET: &str = "delta-api-secret-7f3a9c";

fn trading_fields<'a>(secret: &'a str, coin: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("config.timezone", "Asia/Kolkata"),
        ("config.exchange_provider", "delta_exchange_india"),
        ("config.exchange_credential_ref", secret),
        ("config.allowed_coins.__present", "1"),
        ("config.allowed_coins", "BTC"),
        ("config.allowed_coins", "ETH"),
        ("config.allowed_coins", ""),
        ("config.default_coin", coin),
        ("config.interval_seconds", "60"),
        ("config.risk_limits.__present", "1"),
        ("config.risk_limits.max_units_per_order", "2"),
        ("config.risk_limits.max_notional_inr", ""),
    ]
}

async fn the_wizard_resumes_at_the_first_unfinished_step_and_activates_the_trial(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let c = customer(&app).await;
    let sub = fx::subscribe(&app, &c, TRADING).await;
    let setup = format!("/portal/subscriptions/{sub}/setup");

    // The subscription page leads to the wizard, which opens on step 1.
    let (_, page) = c.client.page(&format!("/portal/subscriptions/{sub}")).await;
    assert!(page.contains(&setup) && page.contains("Set up your agent"));
    let (status, page) = c.client.page(&setup).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Step 1 of 5") && page.contains("Agent nickname"));

    // Step 1 saves a draft (the agent exists now); coming back opens step 2.
    let res = c
        .client
        .post_form(&format!("{setup}/1"), &[("config.nickname", "Desk Bot")])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), format!("{setup}?step=2"));
    let (_, page) = c.client.page(&setup).await;
    assert!(page.contains("Step 2 of 5"), "resume opens the theme step");
    assert!(
        page.contains("value=\"default\" checked"),
        "the default theme is preselected"
    );
    c.client
        .post_form(&format!("{setup}/2"), &[("config.theme", "dark")])
        .await;
    let (_, page) = c.client.page(&setup).await;
    assert!(page.contains("Step 3 of 5"));

    // A present wrong value is refused next to its field and nothing is saved.
    let mut fields = trading_fields(SECRET, "DOGE");
    fields.retain(|(k, _)| *k != "config.interval_seconds");
    fields.push(("config.interval_seconds", "0"));
    let res = c.client.post_form(&format!("{setup}/3"), &fields).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = res.text().await.unwrap();
    assert!(page.contains("Nothing was saved"), "{page}");
    assert!(page.contains("id=\"f-config-default_coin-error\" role=\"status\">Default coin"));
    assert!(page.contains("id=\"f-config-interval_seconds-error\" role=\"status\">Interval"));
    assert!(
        page.contains("value=\"Asia/Kolkata\""),
        "typed values are kept"
    );
    assert!(!page.contains(SECRET), "a typed secret is never sent back");
    assert_eq!(app.count("SELECT COUNT(*) FROM credentials").await, 0);
    assert_eq!(
        app.text("SELECT CAST(config AS TEXT) FROM hired_agents")
            .await
            .trim(),
        "{}"
    );

    // A draft with missing values saves and lists what is missing.
    let res = c
        .client
        .post_form(
            &format!("{setup}/3"),
            &[("config.timezone", "Asia/Kolkata")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM hired_agents WHERE configured = TRUE")
            .await,
        0
    );
    let (_, page) = c.client.page(&setup).await;
    assert!(page.contains("Step 3 of 5") && page.contains("Still to fill in"));

    // The last required values arrive (with the secret): configured flips.
    let res = c
        .client
        .post_form(&format!("{setup}/3"), &trading_fields(SECRET, "btc"))
        .await;
    // The rule member_of is checked as given: "btc" is not in the list.
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = c
        .client
        .post_form(&format!("{setup}/3"), &trading_fields(SECRET, "BTC"))
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM hired_agents WHERE configured = TRUE")
            .await,
        1
    );
    // The secret is a credential of the customer, encrypted; the config holds its reference.
    assert_eq!(app.count("SELECT COUNT(*) FROM credentials").await, 1);
    let cred = app.text("SELECT id FROM credentials").await;
    assert!(
        app.text("SELECT CAST(config AS TEXT) FROM hired_agents")
            .await
            .contains(&cred)
    );
    assert!(
        app.database_contains(&cred).await,
        "the search itself works"
    );
    assert!(
        !app.database_contains(SECRET).await,
        "the plaintext is nowhere in the database"
    );

    // Step 4: no goal yet → cannot continue.
    let (_, page) = c.client.page(&setup).await;
    assert!(page.contains("Step 4 of 5"));
    let res = c.client.post_form(&format!("{setup}/4"), &[]).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let id = app.text("SELECT id FROM hired_agents").await;
    // Enum enforced: Phase 1's side "hold" is refused.
    let res = c
        .client
        .post_form(
            &format!("/portal/agents/{id}/goals?from=wizard"),
            &[
                ("goal_template_id", "trading.trade_intent_draft.v1"),
                ("settings.coin", "BTC"),
                ("settings.side", "hold"),
                ("settings.units", "1"),
                ("frequency", "on_demand"),
                ("enabled", "true"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("Side must be one of"));
    let res = c
        .client
        .post_form(
            &format!("/portal/agents/{id}/goals?from=wizard"),
            &[
                ("goal_template_id", "trading.guardrail_report.v1"),
                ("frequency", "daily"),
                ("enabled", "true"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), format!("{setup}?step=4"));
    let res = c.client.post_form(&format!("{setup}/4"), &[]).await;
    assert_eq!(location(&res), format!("{setup}?step=5"));

    // Review: nothing missing; Activate starts the 7-day trial.
    let (_, page) = c.client.page(&setup).await;
    assert!(page.contains("Step 5 of 5") && page.contains("Everything is ready"));
    assert!(page.contains("A stored secret") && !page.contains(SECRET));
    let res = c
        .client
        .post_form(
            &format!("/portal/agents/{id}/activate"),
            &[("from", "wizard")],
        )
        .await;
    assert_eq!(location(&res), format!("/portal/agents/{id}"));
    let (_, page) = c.client.page(&format!("/portal/agents/{id}")).await;
    assert!(page.contains("Trial running · 7 days left"), "{page}");
    let (_, list) = c.client.page("/portal/agents").await;
    assert!(list.contains("Desk Bot") && list.contains("Trial running"));
}
crate::both_engines!(the_wizard_resumes_at_the_first_unfinished_step_and_activates_the_trial);

async fn a_trial_ends_after_seven_days_and_never_restarts(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let c = customer(&app).await;
    let id = fx::configured_trading(&app, &c, "Desk").await;
    // Nothing enabled: the trial cannot start, and the page says why.
    let res = c
        .client
        .post_form(&format!("/portal/agents/{id}/activate"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, page) = c.client.page(&format!("/portal/agents/{id}")).await;
    assert!(page.contains("Add at least one enabled goal."));
    fx::add_goal(
        &app,
        &c,
        &id,
        "trading.guardrail_report.v1",
        "daily",
        json!({}),
    )
    .await;
    // Goal step not confirmed yet (the wizard's step 4): still blocked.
    let (_, page) = c.client.page(&format!("/portal/agents/{id}")).await;
    assert!(page.contains("Confirm that goal setting is complete."));
    let sub = app.text("SELECT subscription_id FROM hired_agents").await;
    c.client
        .post_form(&format!("/portal/subscriptions/{sub}/setup/4"), &[])
        .await;
    c.client
        .post_form(&format!("/portal/agents/{id}/activate"), &[])
        .await;
    assert_eq!(
        app.text("SELECT trial_status FROM hired_agents").await,
        "active"
    );
    app.clock
        .advance(chrono::Duration::days(7) + chrono::Duration::minutes(1));
    let report = agentdesk::jobs::run_due(
        &app.db,
        app.now(),
        &agentdesk::jobs::JobSettings::new(std::time::Duration::from_secs(3600)),
    )
    .await
    .unwrap();
    assert_eq!(report.trial_ends.converted_ids, vec![id.clone()]);
    assert_eq!(
        app.text("SELECT trial_status FROM hired_agents").await,
        "ended_converted"
    );
    // Signed in again (the session did not last the week): activating never restarts it.
    c.client.login(&c.email, PASSWORD).await;
    c.client
        .post_form(&format!("/portal/agents/{id}/activate"), &[])
        .await;
    assert_eq!(
        app.text("SELECT trial_status FROM hired_agents").await,
        "ended_converted"
    );
    let (_, page) = c.client.page(&format!("/portal/agents/{id}")).await;
    assert!(page.contains("Trial ended · converted"));
    assert!(page.contains("Trial started"));
}
crate::both_engines!(a_trial_ends_after_seven_days_and_never_restarts);

async fn two_editors_the_second_save_sees_the_conflict_and_keeps_its_entries(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let c = customer(&app).await;
    let id = fx::configured_trading(&app, &c, "Desk").await;
    let (op, _) = app.user_with_role("operator").await;
    let version = app
        .text("SELECT CAST(row_version AS TEXT) FROM hired_agents")
        .await;
    let mut mine = trading_fields("", "ETH");
    mine.push(("config.nickname", "Customer name"));
    mine.push(("config.theme", "dark"));
    mine.push(("_row_version", &version));
    let mut theirs = trading_fields("", "BTC");
    theirs.push(("config.nickname", "Operator name"));
    theirs.push(("config.theme", "light"));
    theirs.push(("_row_version", &version));
    // The operator saves first, on behalf of the customer.
    let res = op
        .post_form(&format!("/admin/hired-agents/{id}/configuration"), &theirs)
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'hired_agent.updated' AND on_behalf_of IS NOT NULL")
            .await,
        1
    );
    // The customer's save, based on the old version, is refused and shows both.
    let res = c
        .client
        .post_form(&format!("/portal/agents/{id}/configuration"), &mine)
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let page = res.text().await.unwrap();
    assert!(page.contains("changed by someone else since you opened it"));
    assert!(page.contains("Operator name") && page.contains("Customer name"));
    assert!(
        page.contains("value=\"Customer name\""),
        "their entries are kept in the form"
    );
    assert_eq!(
        app.text("SELECT nickname FROM hired_agents").await,
        "Operator name"
    );
    // Saving again (now based on the current version) applies theirs.
    let new_version = app
        .text("SELECT CAST(row_version AS TEXT) FROM hired_agents")
        .await;
    let mut again = trading_fields("", "ETH");
    again.push(("config.nickname", "Customer name"));
    again.push(("config.theme", "dark"));
    again.push(("_row_version", &new_version));
    let res = c
        .client
        .post_form(&format!("/portal/agents/{id}/configuration"), &again)
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.text("SELECT nickname FROM hired_agents").await,
        "Customer name"
    );
    // A viewer reads the form but cannot save it.
    let (viewer, _) = app.user_with_role("viewer").await;
    let (status, page) = viewer
        .page(&format!("/admin/hired-agents/{id}/configuration"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("fieldset class=\"plain\" disabled"));
    let res = viewer
        .post_form(&format!("/admin/hired-agents/{id}/configuration"), &again)
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}
crate::both_engines!(two_editors_the_second_save_sees_the_conflict_and_keeps_its_entries);

async fn goals_are_edited_disabled_and_deleted_in_place_and_deleting_keeps_the_row(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let c = customer(&app).await;
    let id = fx::configured_trading(&app, &c, "Desk").await;
    let base = format!("/portal/agents/{id}/goals");
    // htmx: the form arrives as a fragment; adding answers the new card.
    let res = c
        .client
        .http
        .get(c.client.url(&format!(
            "{base}/new?template=trading.close_position_reminder.v1"
        )))
        .header("HX-Request", "true")
        .send()
        .await
        .unwrap();
    let form = res.text().await.unwrap();
    assert!(!form.contains("<html") && form.contains("Window local time"));
    assert!(
        form.contains("value=\"daily\" checked"),
        "the default frequency is preselected"
    );
    let token = c.client.csrf().await;
    let res = c
        .client
        .http
        .post(c.client.url(&base))
        .header("HX-Request", "true")
        .form(&[
            ("_csrf", token.as_str()),
            ("goal_template_id", "trading.close_position_reminder.v1"),
            ("settings.window_local_time", "15:15"),
            ("frequency", "daily"),
            ("enabled", "true"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let card = res.text().await.unwrap();
    assert!(card.contains("Scheduled close-position reminder") && card.contains("15:15"));
    assert!(
        card.contains("Next due") && card.contains("IST"),
        "due in the agent's timezone: {card}"
    );
    let goal = app.text("SELECT id FROM goal_instances").await;
    // A frequency the template does not offer, and an unknown one, are refused.
    let res = c
        .client
        .post_form(
            &base,
            &[
                ("goal_template_id", "trading.close_position_reminder.v1"),
                ("settings.window_local_time", "15:15"),
                ("frequency", "hourly"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Frequency must be daily, weekly, monthly or on demand.")
    );
    // Disable, then delete: the row stays, marked deleted.
    c.client
        .post_form(&format!("{base}/{goal}/toggle"), &[])
        .await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM goal_instances WHERE enabled = FALSE")
            .await,
        1
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM hired_agents WHERE goals_completed = TRUE")
            .await,
        0
    );
    let res = c
        .client
        .post_form(&format!("{base}/{goal}/delete"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM goal_instances WHERE deleted_at IS NOT NULL")
            .await,
        1
    );
    let (_, page) = c.client.page(&base).await;
    assert!(!page.contains("15:15"));
}
crate::both_engines!(goals_are_edited_disabled_and_deleted_in_place_and_deleting_keeps_the_row);

async fn pause_cancel_retention_and_other_customers(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let c = customer(&app).await;
    let other = customer(&app).await;
    let id = fx::configured_trading(&app, &c, "Desk").await;
    let res = c
        .client
        .post_form(&format!("/portal/agents/{id}/pause"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, page) = c.client.page("/portal/agents").await;
    assert!(page.contains("paused"));
    let (_, page) = c.client.page(&format!("/portal/agents/{id}")).await;
    assert!(page.contains(">Resume</button>"));
    c.client
        .post_form(&format!("/portal/agents/{id}/resume"), &[])
        .await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM hired_agents WHERE paused = TRUE")
            .await,
        0
    );

    // Another customer's agent does not exist for them, on every page.
    for path in [
        format!("/portal/agents/{id}"),
        format!("/portal/agents/{id}/configuration"),
        format!("/portal/agents/{id}/goals"),
        format!("/portal/agents/{id}/upgrade?to=9.0.0"),
    ] {
        let (status, _) = other.client.page(&path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    for path in ["pause", "resume", "activate", "configuration", "goals"] {
        let res = other
            .client
            .post_form(&format!("/portal/agents/{id}/{path}"), &[])
            .await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
    }

    // Cancel, let the period end: the agent is deactivated and read-only (409), later gone (410).
    let sub = app.text("SELECT subscription_id FROM hired_agents").await;
    c.client
        .post_form(&format!("/portal/subscriptions/{sub}/cancel"), &[])
        .await;
    app.clock.advance(chrono::Duration::days(32));
    agentdesk::jobs::run_due(
        &app.db,
        app.now(),
        &agentdesk::jobs::JobSettings::new(std::time::Duration::from_secs(3600)),
    )
    .await
    .unwrap();
    assert_eq!(
        app.count("SELECT COUNT(*) FROM hired_agents WHERE active = FALSE")
            .await,
        1
    );
    c.client.login(&c.email, PASSWORD).await;
    let res = c
        .client
        .post_form(&format!("/portal/agents/{id}/pause"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let (status, page) = c
        .client
        .page(&format!("/portal/agents/{id}/configuration"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("read-only"));
    app.clock.advance(chrono::Duration::days(31));
    c.client.login(&c.email, PASSWORD).await;
    let (status, _) = c.client.page(&format!("/portal/agents/{id}")).await;
    assert_eq!(status, StatusCode::GONE);
}
crate::both_engines!(pause_cancel_retention_and_other_customers);

async fn marketing_platform_secrets_become_credentials_one_per_platform(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let c = customer(&app).await;
    let other = customer(&app).await;
    let id = fx::hire(&app, &c, fx::MARKETING, "Clinic posts").await;
    let url = format!("/portal/agents/{id}/configuration");
    let (_, page) = c.client.page(&url).await;
    // One write-only input per platform the covers rule names.
    assert!(page.contains("name=\"config.platform_credentials.youtube\""));
    assert!(page.contains("type=\"password\""));
    let version = app
        .text("SELECT CAST(row_version AS TEXT) FROM hired_agents")
        .await;
    let fields = |yt: &'static str, ver: String| {
        vec![
            ("_row_version", ver),
            ("config.nickname", "Clinic posts".to_string()),
            ("config.theme", "light".into()),
            ("config.primary_language", "en".into()),
            ("config.timezone", "Asia/Kolkata".into()),
            ("config.brand_name", "Acme Clinic".into()),
            ("config.offerings_services.__present", "1".into()),
            ("config.offerings_services", "Dental care".into()),
            ("config.location", "Pune".into()),
            ("config.platforms_enabled.__present", "1".into()),
            ("config.platforms_enabled", "youtube".into()),
            ("config.platform_credentials.__present", "1".into()),
            ("config.platform_credentials.__keys", "youtube".into()),
            ("config.platform_credentials.youtube", yt.into()),
            ("config.platform_credentials.__keys", "instagram".into()),
            ("config.platform_credentials.instagram", "".into()),
        ]
    };
    let owned = fields("yt-refresh-token-123", version);
    let borrowed: Vec<(&str, &str)> = owned.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let res = c.client.post_form(&url, &borrowed).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM hired_agents WHERE configured = TRUE")
            .await,
        1
    );
    let cred = app.text("SELECT id FROM credentials").await;
    let config = app
        .text("SELECT CAST(config AS TEXT) FROM hired_agents")
        .await;
    assert!(config.contains(&cred) && !config.contains("yt-refresh-token-123"));
    // Shown again as stored, never as its value; leaving it blank keeps it.
    let (_, page) = c.client.page(&url).await;
    assert!(page.contains("stored — leave blank to keep") && !page.contains(&cred));
    let version = app
        .text("SELECT CAST(row_version AS TEXT) FROM hired_agents")
        .await;
    let owned = fields("", version);
    let borrowed: Vec<(&str, &str)> = owned.iter().map(|(k, v)| (*k, v.as_str())).collect();
    c.client.post_form(&url, &borrowed).await;
    assert!(
        app.text("SELECT CAST(config AS TEXT) FROM hired_agents")
            .await
            .contains(&cred)
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM credentials").await, 1);
    // A reference to another customer's credential is refused next to its field.
    let foreign = fx::credential(&app, &other, "Theirs", "their-secret").await;
    let version = app
        .text("SELECT CAST(row_version AS TEXT) FROM hired_agents")
        .await;
    let mut owned = fields("", version);
    owned.retain(|(k, _)| *k != "config.platform_credentials.youtube");
    owned.push(("config.platform_credentials.youtube", foreign.clone()));
    let borrowed: Vec<(&str, &str)> = owned.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let res = c.client.post_form(&url, &borrowed).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = res.text().await.unwrap();
    assert!(page.contains(&format!("{foreign} is not one of this customer")));
    assert!(page.contains("id=\"f-config-platform_credentials-error\" role=\"status\">CRED-"));
}
crate::both_engines!(marketing_platform_secrets_become_credentials_one_per_platform);

/// Publishes trading 1.1.0: interval at most 30 s, a new optional field with a default, and the
/// close-position reminder weekly only.
pub async fn publish_trading_1_1(app: &crate::helpers::TestApp) {
    use agentdesk::service::catalog;
    let actor = fx::actor(app);
    let from = catalog::get(&app.db, TRADING, "1.0.0")
        .await
        .unwrap()
        .unwrap();
    let mut doc = from.row.document.0.clone();
    doc["version"] = json!("1.1.0");
    for f in doc["config_schema"]["fields"].as_array_mut().unwrap() {
        if f["key"] == "interval_seconds" {
            f["max"] = json!(30);
        }
    }
    doc["config_schema"]["fields"]
        .as_array_mut()
        .unwrap()
        .push(json!({"key": "max_daily_trades", "label": "Max trades per day", "type": "integer",
            "required": false, "description": null, "options": null, "item_type": null, "default": 5}));
    for t in doc["goal_templates"].as_array_mut().unwrap() {
        if t["goal_template_id"] == "trading.close_position_reminder.v1" {
            t["default_frequency"] = json!("weekly");
            t["allowed_frequencies"] = json!(["weekly"]);
        }
    }
    catalog::create_draft(&app.db, &actor, &doc).await.unwrap();
    catalog::transition(&app.db, &actor, TRADING, "1.1.0", "published")
        .await
        .unwrap();
}

async fn an_upgrade_lists_what_to_fix_then_applies_everything_at_once(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let c = customer(&app).await;
    let id = fx::configured_trading(&app, &c, "Desk").await;
    let goal = fx::add_goal(
        &app,
        &c,
        &id,
        "trading.close_position_reminder.v1",
        "daily",
        json!({"window_local_time": "15:15"}),
    )
    .await;
    publish_trading_1_1(&app).await;
    let agent = format!("/portal/agents/{id}");
    let (_, page) = c.client.page(&agent).await;
    assert!(page.contains("Upgrade to version 1.1.0"));

    // Blocked: the interval and the goal's frequency; each links to where it is fixed.
    let (status, page) = c.client.page(&format!("{agent}/upgrade?to=1.1.0")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("max_daily_trades"),
        "the schema diff names the new field"
    );
    assert!(
        page.contains("Interval (seconds) must be at most 30"),
        "{page}"
    );
    assert!(page.contains(&format!("{agent}/configuration#f-config-interval_seconds")));
    assert!(page.contains(&format!("{agent}/goals/{goal}/edit")));
    assert!(page.contains("allows only: weekly"));
    let version = app
        .text("SELECT CAST(row_version AS TEXT) FROM hired_agents")
        .await;
    let res = c
        .client
        .post_form(
            &format!("{agent}/upgrade"),
            &[("to", "1.1.0"), ("row_version", &version)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        app.text("SELECT agent_type_version FROM hired_agents")
            .await,
        "1.0.0",
        "nothing changed"
    );

    // Fixed under the current version, the upgrade applies config and goals together.
    let version = app
        .text("SELECT CAST(row_version AS TEXT) FROM hired_agents")
        .await;
    let mut fields = trading_fields("", "BTC");
    fields.retain(|(k, _)| *k != "config.interval_seconds");
    fields.extend([
        ("config.interval_seconds", "30"),
        ("config.nickname", "Desk"),
        ("config.theme", "dark"),
        ("_row_version", version.as_str()),
    ]);
    let res = c
        .client
        .post_form(&format!("{agent}/configuration"), &fields)
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = c
        .client
        .post_form(
            &format!("{agent}/goals/{goal}"),
            &[
                ("settings.window_local_time", "15:15"),
                ("frequency", "weekly"),
                ("enabled", "true"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, page) = c.client.page(&format!("{agent}/upgrade?to=1.1.0")).await;
    assert!(page.contains("are valid for version 1.1.0"), "{page}");
    let version = app
        .text("SELECT CAST(row_version AS TEXT) FROM hired_agents")
        .await;
    let res = c
        .client
        .post_form(
            &format!("{agent}/upgrade"),
            &[("to", "1.1.0"), ("row_version", &version)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.text("SELECT agent_type_version FROM hired_agents")
            .await,
        "1.1.0"
    );
    assert!(
        app.text("SELECT CAST(config AS TEXT) FROM hired_agents")
            .await
            .contains("max_daily_trades"),
        "the new default is merged in"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM hired_agents WHERE configured = TRUE")
            .await,
        1
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'hired_agent.upgraded'")
            .await,
        1
    );
    // Nothing newer now; an older or unknown version is not an upgrade.
    let (status, _) = c.client.page(&format!("{agent}/upgrade?to=1.0.0")).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _) = c.client.page(&format!("{agent}/upgrade?to=7.0.0")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
crate::both_engines!(an_upgrade_lists_what_to_fix_then_applies_everything_at_once);

async fn every_route_is_closed_to_other_customers_and_the_wrong_area(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let c = customer(&app).await;
    let other = customer(&app).await;
    let id = fx::configured_trading(&app, &c, "Desk").await;
    let goal = fx::add_goal(
        &app,
        &c,
        &id,
        "trading.guardrail_report.v1",
        "daily",
        json!({}),
    )
    .await;
    let sub = app.text("SELECT subscription_id FROM hired_agents").await;
    let a = format!("/portal/agents/{id}");
    for path in [
        a.clone(),
        format!("{a}/configuration"),
        format!("{a}/goals"),
        format!("{a}/goals/new?template=trading.guardrail_report.v1"),
        format!("{a}/goals/{goal}/edit"),
        format!("{a}/upgrade"),
        format!("/portal/subscriptions/{sub}/setup"),
    ] {
        let (status, _) = other.client.page(&path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "GET {path}");
        let (status, _) = c.client.page(&path.replace("/upgrade", "/goals")).await;
        assert_eq!(status, StatusCode::OK, "the owner sees {path}");
    }
    for path in [
        format!("{a}/pause"),
        format!("{a}/resume"),
        format!("{a}/activate"),
        format!("{a}/configuration"),
        format!("{a}/configuration/validate"),
        format!("{a}/goals"),
        format!("{a}/goals/validate?template=trading.guardrail_report.v1"),
        format!("{a}/goals/{goal}"),
        format!("{a}/goals/{goal}/toggle"),
        format!("{a}/goals/{goal}/delete"),
        format!("{a}/upgrade"),
        format!("/portal/subscriptions/{sub}/setup/1"),
        format!("/portal/subscriptions/{sub}/setup/1/validate"),
        format!("/portal/subscriptions/{sub}/setup/4"),
    ] {
        let res = other.client.post_form(&path, &[("to", "1.0.0")]).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "POST {path}");
    }
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM goal_instances WHERE enabled = TRUE AND deleted_at IS NULL"
        )
        .await,
        1,
        "nothing changed"
    );
    // Customers stay out of /admin; staff act from /admin, not as a customer in /portal.
    let (status, _) = c.client.page(&format!("/admin/hired-agents/{id}")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (op, _) = app.user_with_role("operator").await;
    let (status, _) = op.page(&a).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = op.page(&format!("/admin/hired-agents/{id}/goals")).await;
    assert_eq!(status, StatusCode::OK);
}
crate::both_engines!(every_route_is_closed_to_other_customers_and_the_wrong_area);

async fn each_widget_shows_its_own_error_and_goals_show_when_they_are_due(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let c = customer(&app).await;
    let id = fx::hire(&app, &c, fx::MARKETING, "Clinic").await;
    let version = app
        .text("SELECT CAST(row_version AS TEXT) FROM hired_agents")
        .await;
    let res = c
        .client
        .post_form(
            &format!("/portal/agents/{id}/configuration"),
            &[
                ("_row_version", version.as_str()),
                ("config.nickname", "Clinic"),
                ("config.theme", "neon"),
                ("config.primary_language", "fr"),
                ("config.platforms_enabled.__present", "1"),
                ("config.platforms_enabled", "myspace"),
                ("config.offerings_services.__present", "1"),
                ("config.offerings_services", "Dental"),
                ("config.constraints.__present", "1"),
                ("config.constraints.__key", "tone"),
                ("config.constraints.__value", "calm"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = res.text().await.unwrap();
    for (id, words) in [
        (
            "f-config-theme",
            "Theme must be one of default, dark or light.",
        ),
        ("f-config-primary_language", "Primary language"),
        ("f-config-platforms_enabled", "Platforms enabled"),
    ] {
        let slot = format!("id=\"{id}-error\" role=\"status\">");
        let at = page.find(&slot).unwrap_or_else(|| panic!("no slot {id}")) + slot.len();
        assert!(
            page[at..].starts_with(words),
            "{id}: {}",
            &page[at..at + 80]
        );
    }
    assert!(page.contains("value=\"Dental\""), "entries are kept");
    // Bidi overrides and NUL are refused at the door; a huge nickname next to its field.
    let sub = app.text("SELECT subscription_id FROM hired_agents").await;
    for bad in ["Desk\u{202E}toB", "Desk\0Bot"] {
        let res = c
            .client
            .post_form(
                &format!("/portal/subscriptions/{sub}/setup/1"),
                &[("config.nickname", bad)],
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(res.text().await.unwrap().contains("config.nickname"));
    }
    let long = "x".repeat(3000);
    let res = c
        .client
        .post_form(
            &format!("/portal/subscriptions/{sub}/setup/1"),
            &[("config.nickname", long.as_str())],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains(
        "id=\"f-config-nickname-error\" role=\"status\">A nickname is at most 200 characters."
    ));
    assert_eq!(
        app.text("SELECT nickname FROM hired_agents").await,
        "Clinic"
    );
    assert_eq!(
        app.text("SELECT COALESCE(theme, '') FROM hired_agents")
            .await,
        "",
        "nothing saved"
    );

    // A weekly goal is due at the start of the next ISO week in the agent's timezone.
    let t = fx::configured_trading(&app, &c, "Desk").await;
    fx::add_goal(
        &app,
        &c,
        &t,
        "trading.close_position_reminder.v1",
        "weekly",
        json!({"window_local_time": "09:30"}),
    )
    .await;
    let tz: chrono_tz::Tz = "Asia/Kolkata".parse().unwrap();
    let due = agentdesk::domain::schedule::next_due(
        agentdesk::domain::schedule::Frequency::Weekly,
        app.now(),
        tz,
    )
    .unwrap()
    .with_timezone(&tz);
    let (_, page) = c.client.page(&format!("/portal/agents/{t}/goals")).await;
    let expected = format!("Next due {}", due.format("%a %d %b %Y, %H:%M %Z"));
    assert!(page.contains(&expected), "{expected}");
    assert!(expected.contains("Mon") && expected.contains("00:00 IST"));
}
crate::both_engines!(each_widget_shows_its_own_error_and_goals_show_when_they_are_due);
