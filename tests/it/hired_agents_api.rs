//! The Phase-1 hired-agents, goals and trial-status API (`/api/v1/hired-agents…`,
//! `/api/v1/trial-status…`), driven over HTTP as customers, staff and another customer.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::agents_fixture::{self as fx, MARKETING, trading_config};
use crate::billing::{CustomerUser, TRADING, api, checkout, customer};
use crate::helpers::{Engine, TestApp, spawn_app};

crate::both_engines!(
    drafts_are_saved_replaced_and_validated_as_the_request_names_them,
    a_draft_on_an_old_row_version_is_refused_with_the_current_agent,
    defaults_are_merged_and_template_frequencies_enforced,
    marketing_credentials_take_both_shapes_and_the_old_platforms_list_is_refused,
    finalize_lists_what_is_missing_then_starts_the_trial_once,
    pause_and_resume_answer_the_scheduler_state,
    goals_are_created_changed_and_deleted_with_their_refusals,
    trial_status_lists_trials_by_end_then_subscription,
    an_ended_subscription_takes_no_writes_and_is_gone_after_retention,
    another_customers_hired_agents_are_not_found_anywhere,
);

const INTENT: &str = "trading.trade_intent_draft.v1";
const GUARDRAIL: &str = "trading.guardrail_report.v1";

async fn call(
    app: &TestApp,
    token: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    api(
        app,
        token,
        Method::from_bytes(method.as_bytes()).unwrap(),
        path,
        None,
        body,
    )
    .await
}

/// `PUT /hired-agents/draft` with `body` (the subscription added).
async fn draft(app: &TestApp, c: &CustomerUser, sub: &str, mut body: Value) -> (StatusCode, Value) {
    body["subscription_id"] = json!(sub);
    call(app, &c.token, "PUT", "/hired-agents/draft", Some(body)).await
}

/// The violation paths of a 422 problem.
pub fn paths(problem: &Value) -> Vec<String> {
    problem["violations"]
        .as_array()
        .unwrap_or_else(|| panic!("no violations: {problem}"))
        .iter()
        .map(|v| v["path"].as_str().unwrap().to_string())
        .collect()
}

fn message_at<'a>(problem: &'a Value, path: &str) -> &'a str {
    problem["violations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["path"] == path)
        .unwrap_or_else(|| panic!("no violation at {path}: {problem}"))["message"]
        .as_str()
        .unwrap()
}

fn items(missing: &Value) -> Vec<String> {
    missing
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {missing}"))
        .iter()
        .map(|m| m["item"].as_str().unwrap().to_string())
        .collect()
}

pub async fn admin_token(app: &TestApp) -> String {
    app.admin().await.api_token().await
}

async fn drafts_are_saved_replaced_and_validated_as_the_request_names_them(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let c = customer(&app).await;
    let (s, done) = checkout(
        &app,
        &c.token,
        None,
        json!({"coupon_code": "WAOOAW100", "agent_id": "AGT-TRD-DELTA-001", "agent_type_id": TRADING, "duration": "monthly"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{done}");
    let sub = done["subscription_id"].as_str().unwrap().to_string();

    // The first draft fills the subscription's agent in; missing values are accepted and listed.
    let (s, h) = draft(
        &app,
        &c,
        &sub,
        json!({"nickname": "Desk", "agent_type_id": TRADING}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{h}");
    let id = h["hired_instance_id"].as_str().unwrap().to_string();
    assert!(id.starts_with("HAI-"), "{id}");
    assert_eq!(h["subscription_id"], sub.as_str());
    assert_eq!(h["customer_id"], c.customer_id.as_str());
    assert_eq!(h["agent_id"], "AGT-TRD-DELTA-001");
    assert_eq!(h["agent_type_id"], TRADING);
    assert_eq!(h["agent_type_version"], "1.0.0");
    assert_eq!(h["nickname"], "Desk");
    assert_eq!(h["theme"], Value::Null);
    assert_eq!(h["config"], json!({}));
    assert_eq!(
        (&h["configured"], &h["active"], &h["paused"]),
        (&json!(false), &json!(true), &json!(false))
    );
    assert_eq!(h["trial_status"], "not_started");
    assert_eq!(h["subscription_status"], "active");
    let missing = paths(&json!({"violations": h["missing_values"]}));
    for p in [
        "theme",
        "config.timezone",
        "config.exchange_credential_ref",
        "config.risk_limits",
    ] {
        assert!(missing.contains(&p.to_string()), "{p} in {missing:?}");
    }
    let first_version = h["row_version"].as_i64().unwrap();

    // Values that are present and wrong are refused with their path in the request, and nothing
    // is saved.
    let other = customer(&app).await;
    let foreign_ref = fx::credential(&app, &other, "Their key", "their-secret-value").await;
    let own_ref = fx::credential(&app, &c, "Delta key", "delta-secret-value").await;
    for (body, path) in [
        (
            json!({"config": {"exchange_provider": "binance"}}),
            "config.exchange_provider",
        ),
        (
            json!({"config": {"risk_limits": {"max_units_per_order": 0}}}),
            "config.risk_limits.max_units_per_order",
        ),
        (
            json!({"config": {"interval_seconds": "often"}}),
            "config.interval_seconds",
        ),
        (
            json!({"config": {"allowed_coins": ["BTC"], "default_coin": "DOGE"}}),
            "config.default_coin",
        ),
        (json!({"theme": "purple"}), "theme"),
        (
            json!({"config": {"api_key": "sk-live-0123456789"}}),
            "config.api_key",
        ),
        (
            json!({"config": {"exchange_credential_ref": foreign_ref}}),
            "config.exchange_credential_ref",
        ),
        (
            json!({"config": {"exchange_credential_ref": "my-raw-exchange-secret"}}),
            "config.exchange_credential_ref",
        ),
        (json!({"config": ["not", "an", "object"]}), "config"),
        (json!({"agent_type_id": MARKETING}), "agent_type_id"),
    ] {
        let (s, problem) = draft(&app, &c, &sub, body.clone()).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {problem}");
        assert_eq!(problem["code"], "validation_failed");
        assert!(
            paths(&problem).contains(&path.to_string()),
            "{body}: {path} in {problem}"
        );
    }
    let (_, problem) = draft(
        &app,
        &c,
        &sub,
        json!({"config": {"exchange_credential_ref": foreign_ref}}),
    )
    .await;
    assert!(
        message_at(&problem, "config.exchange_credential_ref")
            .contains("not one of this customer's stored credentials"),
        "{problem}"
    );
    let (_, h) = call(&app, &c.token, "GET", &format!("/hired-agents/{id}"), None).await;
    assert_eq!(h["row_version"], first_version, "nothing was saved");
    assert_eq!(h["config"], json!({}));

    // A partial config is a draft; the next config replaces it (no merge).
    let (s, h) = draft(
        &app,
        &c,
        &sub,
        json!({"theme": " Dark ", "config": {"timezone": "Asia/Kolkata", "exchange_provider": "delta_exchange_india"}}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{h}");
    assert_eq!(h["theme"], "dark");
    assert_eq!(h["configured"], false);
    let (s, h) = draft(
        &app,
        &c,
        &sub,
        json!({"config": {"allowed_coins": ["BTC"], "default_coin": "BTC"}}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{h}");
    assert_eq!(
        h["config"],
        json!({"allowed_coins": ["BTC"], "default_coin": "BTC"}),
        "replaced, not merged"
    );
    assert_eq!(h["nickname"], "Desk", "absent keeps the stored nickname");
    assert_eq!(h["theme"], "dark");

    // `configured` flips when the last required value arrives.
    let mut config = trading_config(&own_ref);
    config.as_object_mut().unwrap().remove("risk_limits");
    let (s, h) = draft(&app, &c, &sub, json!({"config": config.clone()})).await;
    assert_eq!(s, StatusCode::OK, "{h}");
    assert_eq!(h["configured"], false);
    assert_eq!(
        paths(&json!({"violations": h["missing_values"]})),
        vec!["config.risk_limits"]
    );
    config["risk_limits"] = json!({"max_units_per_order": 2});
    let (s, h) = draft(&app, &c, &sub, json!({"config": config.clone()})).await;
    assert_eq!(s, StatusCode::OK, "{h}");
    assert_eq!(h["configured"], true);
    assert_eq!(h["missing_values"], json!([]));
    assert_eq!(h["config"]["exchange_credential_ref"], own_ref.as_str());
    assert_eq!(
        h["hired_instance_id"],
        id.as_str(),
        "one agent per subscription"
    );
    // A blank nickname clears it, and the agent is no longer configured.
    let (_, h) = draft(&app, &c, &sub, json!({"nickname": ""})).await;
    assert_eq!(
        (&h["nickname"], &h["configured"]),
        (&Value::Null, &json!(false))
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM hired_agents").await, 1);

    // An unknown subscription is not found; readers see the agent.
    let (s, _) = draft(&app, &c, "SUB-none", json!({"nickname": "X"})).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, got) = call(
        &app,
        &c.token,
        "GET",
        &format!("/hired-agents/by-subscription/{sub}"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(got["hired_instance_id"], id.as_str());
    let (s, _) = call(
        &app,
        &c.token,
        "GET",
        "/hired-agents/by-subscription/SUB-none",
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // Staff act for a customer (viewers may not); the change is recorded on the customer's behalf.
    let admin = admin_token(&app).await;
    let (s, h) = call(
        &app,
        &admin,
        "PUT",
        "/hired-agents/draft",
        Some(json!({"subscription_id": sub, "customer_id": c.customer_id, "nickname": "Desk 2"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{h}");
    assert_eq!(h["nickname"], "Desk 2");
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'hired_agent.updated' AND on_behalf_of IS NOT NULL"
        )
        .await,
        1
    );
    let (viewer, _) = app.user_with_role("viewer").await;
    let viewer = viewer.api_token().await;
    let (s, problem) = call(
        &app,
        &viewer,
        "PUT",
        "/hired-agents/draft",
        Some(json!({"subscription_id": sub, "customer_id": c.customer_id, "nickname": "No"})),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{problem}");
    // Staff who name another customer than the subscription's find nothing.
    let (s, _) = call(
        &app,
        &admin,
        "PUT",
        "/hired-agents/draft",
        Some(json!({"subscription_id": sub, "customer_id": other.customer_id, "nickname": "No"})),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

async fn a_draft_on_an_old_row_version_is_refused_with_the_current_agent(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let c = customer(&app).await;
    let sub = fx::subscribe(&app, &c, TRADING).await;
    let (_, opened) = draft(&app, &c, &sub, json!({"nickname": "Desk"})).await;
    let read = opened["row_version"].as_i64().unwrap();
    // Someone else saves first…
    let (s, theirs) = draft(
        &app,
        &c,
        &sub,
        json!({"nickname": "Their desk", "row_version": read}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{theirs}");
    assert!(theirs["row_version"].as_i64().unwrap() > read);
    // …so a save based on what was read before is refused, with their version to compare.
    let (s, problem) = draft(
        &app,
        &c,
        &sub,
        json!({"nickname": "My desk", "theme": "light", "row_version": read}),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT, "{problem}");
    assert_eq!(problem["code"], "changed_meanwhile");
    assert_eq!(problem["status"], 409);
    assert_eq!(problem["instance"], "/api/v1/hired-agents/draft");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("changed by someone else")
    );
    assert_eq!(problem["current"]["nickname"], "Their desk");
    assert_eq!(problem["current"]["row_version"], theirs["row_version"]);
    assert_eq!(
        problem["current"]["theme"],
        Value::Null,
        "mine was not saved"
    );
    // Saving again on their version works; without a row version the save overwrites.
    let (s, mine) = draft(
        &app,
        &c,
        &sub,
        json!({"nickname": "My desk", "row_version": theirs["row_version"]}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{mine}");
    let (s, _) = draft(&app, &c, &sub, json!({"nickname": "Overwritten"})).await;
    assert_eq!(s, StatusCode::OK);
}

async fn defaults_are_merged_and_template_frequencies_enforced(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let admin = admin_token(&app).await;
    let definition = json!({
        "agent_type_id": "support.helpdesk.v1", "version": "1.0.0", "display_name": "Help desk",
        "config_schema": {"fields": [
            {"key": "nickname", "label": "Agent nickname", "type": "text", "required": true},
            {"key": "theme", "label": "Avatar/theme", "type": "enum", "required": true,
             "options": ["default", "dark", "light"], "default": "default"},
            {"key": "language", "label": "Language", "type": "enum", "required": true,
             "options": ["en", "hi"], "default": "en"},
            {"key": "region", "label": "Region", "type": "text", "required": true},
            {"key": "limits", "label": "Limits", "type": "object", "required": false, "fields": [
                {"key": "per_day", "label": "Per day", "type": "integer", "required": true, "default": 10, "max": 100}
            ]}
        ]},
        "goal_templates": [{"goal_template_id": "support.daily_digest.v1", "name": "Daily digest",
            "default_frequency": "daily", "allowed_frequencies": ["daily", "weekly"]}]
    });
    let (s, body) = call(&app, &admin, "POST", "/agent-types", Some(definition)).await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    let (s, body) = call(
        &app,
        &admin,
        "POST",
        "/agent-types/support.helpdesk.v1/versions/1.0.0/publish",
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{body}");

    let c = customer(&app).await;
    let sub = fx::subscribe(&app, &c, "support.helpdesk.v1").await;
    let (s, h) = draft(
        &app,
        &c,
        &sub,
        json!({"nickname": "Helper", "theme": "light", "config": {"region": "IN"}}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{h}");
    assert_eq!(
        h["config"],
        json!({"region": "IN", "language": "en", "limits": {"per_day": 10}}),
        "defaults are merged into the stored config"
    );
    assert_eq!(h["configured"], true);
    let (s, problem) = draft(
        &app,
        &c,
        &sub,
        json!({"config": {"region": "IN", "limits": {"per_day": 1000}}}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(paths(&problem), vec!["config.limits.per_day"]);

    let id = h["hired_instance_id"].as_str().unwrap();
    let goals = format!("/hired-agents/{id}/goals");
    for (frequency, status) in [
        ("monthly", StatusCode::UNPROCESSABLE_ENTITY),
        ("hourly", StatusCode::UNPROCESSABLE_ENTITY),
        ("Weekly", StatusCode::OK),
    ] {
        let (s, body) = call(
            &app,
            &c.token,
            "PUT",
            &goals,
            Some(json!({"goal_template_id": "support.daily_digest.v1", "frequency": frequency})),
        )
        .await;
        assert_eq!(s, status, "{frequency}: {body}");
        if s == StatusCode::OK {
            assert_eq!(body["frequency"], "weekly");
            assert_eq!(body["settings"], json!({}));
        } else {
            assert_eq!(paths(&body), vec!["frequency"]);
        }
    }
}

async fn marketing_credentials_take_both_shapes_and_the_old_platforms_list_is_refused(
    engine: Engine,
) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let c = customer(&app).await;
    let sub = fx::subscribe(&app, &c, MARKETING).await;
    let youtube = fx::credential(&app, &c, "YouTube", "yt-secret-value").await;
    let instagram = fx::credential(&app, &c, "Instagram", "ig-secret-value").await;
    let config = json!({
        "primary_language": "en", "timezone": "Asia/Kolkata", "brand_name": "Acme Dental",
        "offerings_services": ["Cleaning"], "location": "Pune",
        "platforms_enabled": ["youtube", "instagram"],
        "platform_credentials": {"youtube": youtube, "instagram": {"credential_ref": instagram}},
    });
    let (s, h) = draft(
        &app,
        &c,
        &sub,
        json!({"nickname": "Clinic", "theme": "default", "config": config}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{h}");
    assert_eq!(h["configured"], true, "{h}");
    assert_eq!(
        h["config"]["platform_credentials"],
        json!({"youtube": youtube, "instagram": instagram}),
        "both shapes are stored as the reference"
    );

    // Phase 1's `platforms` list is refused, naming what replaces it.
    let (s, problem) = draft(
        &app,
        &c,
        &sub,
        json!({"config": {"platforms": [{"platform": "youtube", "credential_ref": youtube}]}}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert!(
        message_at(&problem, "config.platforms").contains("platforms_enabled"),
        "{problem}"
    );
    // A credential map's value must be a stored reference, of this customer.
    let (s, problem) = draft(
        &app,
        &c,
        &sub,
        json!({"config": {"platforms_enabled": ["youtube"], "platform_credentials": {"youtube": "raw-token-value"}}}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert!(
        paths(&problem).contains(&"config.platform_credentials.youtube".to_string()),
        "{problem}"
    );
    // An enabled platform without its credential breaks the `covers` rule, a draft too.
    let (s, problem) = draft(
        &app,
        &c,
        &sub,
        json!({"config": {"platforms_enabled": ["youtube", "x"], "platform_credentials": {"youtube": youtube}}}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(paths(&problem), vec!["config.platform_credentials"]);
}

async fn finalize_lists_what_is_missing_then_starts_the_trial_once(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let c = customer(&app).await;
    let sub = fx::subscribe(&app, &c, TRADING).await;
    let (_, h) = draft(&app, &c, &sub, json!({"nickname": "Desk"})).await;
    let id = h["hired_instance_id"].as_str().unwrap().to_string();
    let finalize = format!("/hired-agents/{id}/finalize");

    // Not configured, no goal: 200 with what is missing, and no trial.
    let (s, f) = call(&app, &c.token, "POST", &finalize, Some(json!({}))).await;
    assert_eq!(s, StatusCode::OK, "{f}");
    assert_eq!(items(&f["missing"]), vec!["theme", "config", "goals"]);
    assert_eq!(f["trial_status"], "not_started");
    assert_eq!(f["trial_started"], false);
    assert_eq!(f["missing"][0]["step"], 2);
    assert!(f["missing"][0]["message"].is_string());
    // Without a body too.
    let (s, _) = call(&app, &c.token, "POST", &finalize, None).await;
    assert_eq!(s, StatusCode::OK);

    let cred = fx::credential(&app, &c, "Delta key", "delta-secret-value").await;
    let (_, h) = draft(
        &app,
        &c,
        &sub,
        json!({"theme": "dark", "config": trading_config(&cred)}),
    )
    .await;
    assert_eq!(h["configured"], true, "{h}");
    let (_, f) = call(&app, &c.token, "POST", &finalize, Some(json!({}))).await;
    assert_eq!(items(&f["missing"]), vec!["goals"]);
    assert_eq!(f["goals_completed"], false);

    let (s, goal) = call(
        &app,
        &c.token,
        "PUT",
        &format!("/hired-agents/{id}/goals"),
        Some(json!({"goal_template_id": GUARDRAIL, "frequency": "daily"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{goal}");
    // The customer has not confirmed the goal step.
    let (_, f) = call(
        &app,
        &c.token,
        "POST",
        &finalize,
        Some(json!({"goals_completed": false})),
    )
    .await;
    assert_eq!(items(&f["missing"]), vec!["goals_confirmed"]);
    assert_eq!(
        (&f["goals_completed"], &f["goals_confirmed"]),
        (&json!(true), &json!(false)),
        "goals_completed is computed from the goals"
    );
    assert_eq!(f["trial_status"], "not_started");

    // Confirmed: the trial starts, for 7 days.
    let (s, f) = call(
        &app,
        &c.token,
        "POST",
        &finalize,
        Some(json!({"goals_completed": true, "agent_type_id": TRADING})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{f}");
    assert_eq!(f["missing"], json!([]));
    assert_eq!(f["trial_status"], "active");
    assert_eq!(f["trial_started"], true);
    let at = |v: &Value| chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap();
    assert_eq!(
        (at(&f["trial_end_at"]) - at(&f["trial_start_at"])).num_days(),
        7
    );
    // Finalizing again changes nothing.
    let (_, again) = call(&app, &c.token, "POST", &finalize, None).await;
    assert_eq!(again["trial_started"], false);
    assert_eq!(again["trial_start_at"], f["trial_start_at"]);
    // Another agent type is refused.
    let (s, problem) = call(
        &app,
        &c.token,
        "POST",
        &finalize,
        Some(json!({"agent_type_id": MARKETING})),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(paths(&problem), vec!["agent_type_id"]);

    // The trial-end pass is for admins; after the end it converts the trial, once.
    let (s, _) = call(
        &app,
        &c.token,
        "POST",
        "/hired-agents/process-trial-end",
        None,
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let admin = admin_token(&app).await;
    let (s, report) = call(
        &app,
        &admin,
        "POST",
        "/hired-agents/process-trial-end",
        Some(json!({})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{report}");
    assert_eq!(report["processed"], 0, "not yet");
    app.clock.advance(chrono::Duration::days(8));
    let (s, report) = call(
        &app,
        &admin,
        "POST",
        "/hired-agents/process-trial-end",
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{report}");
    assert_eq!(report["processed"], 1);
    assert_eq!(report["converted_ids"], json!([id]));
    assert!(
        at(&report["now"]) > at(&f["trial_end_at"]),
        "the clock's now"
    );
    let (_, again) = call(
        &app,
        &admin,
        "POST",
        "/hired-agents/process-trial-end",
        None,
    )
    .await;
    assert_eq!(again["processed"], 0, "exactly once");
    let (_, h) = call(&app, &c.token, "GET", &format!("/hired-agents/{id}"), None).await;
    assert_eq!(h["trial_status"], "ended_converted");

    // An ended trial never restarts (Phase 1 restarted it).
    let (s, f) = call(
        &app,
        &c.token,
        "POST",
        &finalize,
        Some(json!({"goals_completed": true})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{f}");
    assert_eq!(f["trial_status"], "ended_converted");
    assert_eq!(f["trial_started"], false);
    assert_eq!(items(&f["missing"]), vec!["trial"]);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'hired_agent.trial_started'")
            .await,
        1
    );
}

async fn pause_and_resume_answer_the_scheduler_state(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let c = customer(&app).await;
    let id = fx::configured_trading(&app, &c, "Desk").await;
    for (action, paused, status) in [
        ("pause", true, "paused"),
        ("pause", true, "paused"),
        ("resume", false, "running"),
        ("resume", false, "running"),
    ] {
        let (s, h) = call(
            &app,
            &c.token,
            "POST",
            &format!("/hired-agents/{id}/{action}"),
            None,
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{action}: {h}");
        assert_eq!(h["scheduler_paused"], paused, "{action}");
        assert_eq!(h["paused"], paused);
        assert_eq!(h["status"], status);
        assert_eq!(h["hired_instance_id"], id.as_str());
    }
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM audit_log WHERE action IN ('hired_agent.paused', 'hired_agent.resumed')"
        )
        .await,
        2,
        "asking again changes nothing"
    );
    let (s, _) = call(&app, &c.token, "POST", "/hired-agents/HAI-none/pause", None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

async fn goals_are_created_changed_and_deleted_with_their_refusals(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let c = customer(&app).await;
    let id = fx::configured_trading(&app, &c, "Desk").await;
    let goals = format!("/hired-agents/{id}/goals");
    let put = |body: Value| {
        let (app, token, goals) = (&app, c.token.clone(), goals.clone());
        async move { call(app, &token, "PUT", &goals, Some(body)).await }
    };

    // Refusals name the value: an option the template does not offer, a frequency that does not
    // exist, a template the version does not have, a missing setting.
    for (body, path) in [
        (
            json!({"goal_template_id": INTENT, "frequency": "on_demand", "settings": {"coin": "BTC", "side": "hold", "units": 1}}),
            "settings.side",
        ),
        (
            json!({"goal_template_id": INTENT, "frequency": "hourly", "settings": {"coin": "BTC", "side": "buy", "units": 1}}),
            "frequency",
        ),
        (
            json!({"goal_template_id": "trading.nothing.v1", "frequency": "daily"}),
            "goal_template_id",
        ),
        (
            json!({"goal_template_id": INTENT, "frequency": "on_demand", "settings": {"coin": "BTC", "side": "buy"}}),
            "settings.units",
        ),
        (
            json!({"goal_template_id": INTENT, "frequency": "on_demand", "settings": "buy"}),
            "settings",
        ),
    ] {
        let (s, problem) = put(body.clone()).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {problem}");
        assert!(
            paths(&problem).contains(&path.to_string()),
            "{body}: {path} in {problem}"
        );
    }
    let (_, problem) = put(json!({"goal_template_id": INTENT, "frequency": "on_demand", "settings": {"coin": "BTC", "side": "hold", "units": 1}})).await;
    assert!(message_at(&problem, "settings.side").contains("buy, sell"));
    assert_eq!(app.count("SELECT COUNT(*) FROM goal_instances").await, 0);

    let (s, intent) = put(json!({"goal_template_id": INTENT, "frequency": "On_Demand", "settings": {"coin": "BTC", "side": "buy", "units": 1}})).await;
    assert_eq!(s, StatusCode::OK, "{intent}");
    let intent_id = intent["goal_instance_id"].as_str().unwrap().to_string();
    assert!(intent_id.starts_with("GOI-"), "{intent_id}");
    assert_eq!(intent["hired_instance_id"], id.as_str());
    assert_eq!(intent["frequency"], "on_demand");
    assert_eq!(
        (
            &intent["enabled"],
            &intent["row_version"],
            &intent["next_due_at"]
        ),
        (&json!(true), &json!(1), &Value::Null)
    );
    let (s, report) = put(json!({"goal_template_id": GUARDRAIL, "frequency": "daily", "goal_instance_id": "my-report"})).await;
    assert_eq!(s, StatusCode::OK, "{report}");
    assert_eq!(report["goal_instance_id"], "my-report");
    let due = report["next_due_at"].as_str().expect("a daily goal is due");
    assert!(due.ends_with("+05:30"), "in the agent's timezone: {due}");

    let (s, list) = call(&app, &c.token, "GET", &goals, None).await;
    assert_eq!(s, StatusCode::OK, "{list}");
    assert_eq!(list["hired_instance_id"], id.as_str());
    let ids: Vec<&str> = list["goals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["goal_instance_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![intent_id.as_str(), "my-report"], "oldest first");

    // Changing a goal on the version read; an older version is refused with the current goal.
    let (s, changed) = put(
        json!({"goal_instance_id": intent_id, "goal_template_id": INTENT, "frequency": "on_demand",
        "settings": {"coin": "ETH", "side": "sell", "units": 2}, "row_version": 1}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{changed}");
    assert_eq!(changed["row_version"], 2);
    assert_eq!(changed["settings"]["coin"], "ETH");
    let (s, problem) = put(
        json!({"goal_instance_id": intent_id, "goal_template_id": INTENT, "frequency": "on_demand",
        "settings": {"coin": "SOL", "side": "sell", "units": 2}, "row_version": 1}),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT, "{problem}");
    assert_eq!(problem["code"], "changed_meanwhile");
    assert_eq!(problem["current"]["settings"]["coin"], "ETH");
    assert_eq!(problem["current"]["row_version"], 2);
    // Disabling the last enabled goals makes goals_completed false.
    let (_, h) = call(&app, &c.token, "GET", &format!("/hired-agents/{id}"), None).await;
    assert_eq!(h["goals_completed"], true);

    // Deleting needs the goal's id; a second delete finds nothing.
    let (s, problem) = call(&app, &c.token, "DELETE", &goals, None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(problem["detail"], "goal_instance_id is required.");
    let (s, problem) = call(
        &app,
        &c.token,
        "DELETE",
        &format!("{goals}?goal_instance_id=%20"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{problem}");
    let delete = format!("{goals}?goal_instance_id={intent_id}");
    let (s, deleted) = call(&app, &c.token, "DELETE", &delete, None).await;
    assert_eq!(s, StatusCode::OK, "{deleted}");
    assert_eq!(
        deleted,
        json!({"deleted": true, "goal_instance_id": intent_id})
    );
    let (_, again) = call(&app, &c.token, "DELETE", &delete, None).await;
    assert_eq!(again["deleted"], false);
    let (_, list) = call(&app, &c.token, "GET", &goals, None).await;
    assert_eq!(list["goals"].as_array().unwrap().len(), 1);
    let (_, h) = call(&app, &c.token, "GET", &format!("/hired-agents/{id}"), None).await;
    assert_eq!(h["goals_completed"], true, "the report is still enabled");
    let (s, disabled) = put(json!({"goal_instance_id": "my-report", "goal_template_id": GUARDRAIL, "frequency": "daily", "enabled": false})).await;
    assert_eq!(s, StatusCode::OK, "{disabled}");
    assert_eq!(
        (&disabled["enabled"], &disabled["next_due_at"]),
        (&json!(false), &Value::Null)
    );
    let (_, h) = call(&app, &c.token, "GET", &format!("/hired-agents/{id}"), None).await;
    assert_eq!(h["goals_completed"], false);
}

async fn trial_status_lists_trials_by_end_then_subscription(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let c = customer(&app).await;
    let start = |id: String| {
        let (app, c) = (&app, &c);
        async move {
            fx::add_goal(app, c, &id, GUARDRAIL, "daily", json!({})).await;
            let (s, f) = call(
                app,
                &c.token,
                "POST",
                &format!("/hired-agents/{id}/finalize"),
                Some(json!({"goals_completed": true})),
            )
            .await;
            assert_eq!((s, &f["trial_status"]), (StatusCode::OK, &json!("active")));
            id
        }
    };
    let later = start(fx::configured_trading(&app, &c, "Later").await).await;
    app.clock.advance(chrono::Duration::hours(-1));
    let sooner = start(fx::configured_trading(&app, &c, "Sooner").await).await;
    app.clock.advance(chrono::Duration::hours(1));
    let idle_a = fx::hire(&app, &c, TRADING, "Idle A").await;
    let idle_b = fx::hire(&app, &c, MARKETING, "Idle B").await;

    let sub_of = |id: &str| {
        let (app, c, id) = (&app, &c, id.to_string());
        async move {
            let (_, h) = call(app, &c.token, "GET", &format!("/hired-agents/{id}"), None).await;
            h["subscription_id"].as_str().unwrap().to_string()
        }
    };
    let mut idle = [sub_of(&idle_a).await, sub_of(&idle_b).await];
    idle.sort();
    let expected = vec![
        idle[0].clone(),
        idle[1].clone(),
        sub_of(&sooner).await,
        sub_of(&later).await,
    ];

    let (s, list) = call(&app, &c.token, "GET", "/trial-status", None).await;
    assert_eq!(s, StatusCode::OK, "{list}");
    let order: Vec<String> = list["trials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["subscription_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(order, expected, "not started first, then by end");
    let first = &list["trials"][2];
    for key in [
        "subscription_id",
        "hired_instance_id",
        "trial_status",
        "trial_start_at",
        "trial_end_at",
        "configured",
        "goals_completed",
    ] {
        assert!(first.get(key).is_some(), "{key}: {first}");
    }
    assert_eq!(first["hired_instance_id"], sooner.as_str());

    let (s, one) = call(
        &app,
        &c.token,
        "GET",
        &format!("/trial-status/by-subscription/{}", expected[3]),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{one}");
    assert_eq!(one["hired_instance_id"], later.as_str());
    assert_eq!(one["trial_status"], "active");
    let (s, _) = call(
        &app,
        &c.token,
        "GET",
        "/trial-status/by-subscription/SUB-none",
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // The hired-agents list: newest first.
    let (s, agents) = call(&app, &c.token, "GET", "/hired-agents", None).await;
    assert_eq!(s, StatusCode::OK, "{agents}");
    assert_eq!(agents["customer_id"], c.customer_id.as_str());
    assert_eq!(agents["instances"].as_array().unwrap().len(), 4);

    // Staff name the customer whose list they read.
    let admin = admin_token(&app).await;
    for path in ["/trial-status", "/hired-agents"] {
        let (s, problem) = call(&app, &admin, "GET", path, None).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{path}");
        assert_eq!(problem["code"], "customer_required");
        assert_eq!(problem["detail"], "customer_id is required.");
        let (s, named) = call(
            &app,
            &admin,
            "GET",
            &format!("{path}?customer_id={}", c.customer_id),
            None,
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{path}");
        assert_eq!(named, call(&app, &c.token, "GET", path, None).await.1);
    }
}

async fn an_ended_subscription_takes_no_writes_and_is_gone_after_retention(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let c = customer(&app).await;
    let id = fx::configured_trading(&app, &c, "Desk").await;
    let goal = fx::add_goal(&app, &c, &id, GUARDRAIL, "daily", json!({})).await;
    let (_, h) = call(&app, &c.token, "GET", &format!("/hired-agents/{id}"), None).await;
    let sub = h["subscription_id"].as_str().unwrap().to_string();
    let (s, _) = call(
        &app,
        &c.token,
        "POST",
        &format!("/payments/subscriptions/{sub}/cancel"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    // Set to cancel, the subscription is still active: writes work until the period ends.
    let (s, _) = call(
        &app,
        &c.token,
        "POST",
        &format!("/hired-agents/{id}/pause"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);

    app.clock.advance(chrono::Duration::days(31));
    let report = agentdesk::jobs::run_due(
        &app.db,
        agentdesk::clock::Clock::now(app.clock.as_ref()),
        &agentdesk::jobs::JobSettings::new(std::time::Duration::from_secs(3600)),
    )
    .await
    .unwrap();
    assert_eq!(report.period_ends.canceled_ids, vec![sub.clone()]);

    // Readable, deactivated, read-only.
    let (s, h) = call(&app, &c.token, "GET", &format!("/hired-agents/{id}"), None).await;
    assert_eq!(s, StatusCode::OK, "{h}");
    assert_eq!(
        (&h["active"], &h["subscription_status"]),
        (&json!(false), &json!("canceled"))
    );
    assert!(h["retention_expires_at"].is_string(), "{h}");
    let writes: Vec<(&str, String, Option<Value>)> = vec![
        (
            "PUT",
            "/hired-agents/draft".into(),
            Some(json!({"subscription_id": sub, "nickname": "Late"})),
        ),
        ("POST", format!("/hired-agents/{id}/finalize"), None),
        ("POST", format!("/hired-agents/{id}/pause"), None),
        ("POST", format!("/hired-agents/{id}/resume"), None),
        (
            "PUT",
            format!("/hired-agents/{id}/goals"),
            Some(json!({"goal_template_id": GUARDRAIL, "frequency": "weekly"})),
        ),
        (
            "DELETE",
            format!("/hired-agents/{id}/goals?goal_instance_id={goal}"),
            None,
        ),
    ];
    for (method, path, body) in &writes {
        let (s, problem) = call(&app, &c.token, method, path, body.clone()).await;
        assert_eq!(s, StatusCode::CONFLICT, "{method} {path}: {problem}");
        assert_eq!(
            problem["code"], "subscription_not_active",
            "{method} {path}"
        );
    }
    let reads = [
        format!("/hired-agents/{id}"),
        format!("/hired-agents/by-subscription/{sub}"),
        format!("/hired-agents/{id}/goals"),
        format!("/trial-status/by-subscription/{sub}"),
    ];
    for path in &reads {
        let (s, _) = call(&app, &c.token, "GET", path, None).await;
        assert_eq!(s, StatusCode::OK, "{path}");
    }

    // After the retention every read is gone, and so is every write; lists leave it out.
    app.clock.advance(chrono::Duration::days(30));
    for path in &reads {
        let (s, problem) = call(&app, &c.token, "GET", path, None).await;
        assert_eq!(s, StatusCode::GONE, "{path}: {problem}");
        assert_eq!(problem["code"], "gone");
    }
    for (method, path, body) in &writes {
        let (s, _) = call(&app, &c.token, method, path, body.clone()).await;
        assert_eq!(s, StatusCode::GONE, "{method} {path}");
    }
    let (_, list) = call(&app, &c.token, "GET", "/hired-agents", None).await;
    assert_eq!(list["instances"], json!([]));
    let (_, list) = call(&app, &c.token, "GET", "/trial-status", None).await;
    assert_eq!(list["trials"], json!([]));
}

async fn another_customers_hired_agents_are_not_found_anywhere(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let a = customer(&app).await;
    let b = customer(&app).await;
    let id = fx::configured_trading(&app, &a, "Desk").await;
    let goal = fx::add_goal(&app, &a, &id, GUARDRAIL, "daily", json!({})).await;
    let (_, h) = call(&app, &a.token, "GET", &format!("/hired-agents/{id}"), None).await;
    let sub = h["subscription_id"].as_str().unwrap().to_string();
    let version = h["row_version"].clone();
    let ca = &a.customer_id;
    let routes: Vec<(&str, String, Option<Value>)> = vec![
        ("GET", format!("/hired-agents/{id}"), None),
        ("GET", format!("/hired-agents/by-subscription/{sub}"), None),
        ("GET", format!("/hired-agents?customer_id={ca}"), None),
        ("GET", format!("/hired-agents/{id}/goals"), None),
        ("GET", format!("/trial-status?customer_id={ca}"), None),
        ("GET", format!("/trial-status/by-subscription/{sub}"), None),
        (
            "PUT",
            "/hired-agents/draft".into(),
            Some(json!({"subscription_id": sub, "nickname": "Mine now"})),
        ),
        (
            "PUT",
            "/hired-agents/draft".into(),
            Some(json!({"subscription_id": sub, "customer_id": ca, "nickname": "Mine now"})),
        ),
        (
            "POST",
            format!("/hired-agents/{id}/finalize"),
            Some(json!({"goals_completed": true})),
        ),
        ("POST", format!("/hired-agents/{id}/pause"), None),
        ("POST", format!("/hired-agents/{id}/resume"), None),
        (
            "PUT",
            format!("/hired-agents/{id}/goals"),
            Some(json!({"goal_template_id": GUARDRAIL, "frequency": "weekly"})),
        ),
        (
            "PUT",
            format!("/hired-agents/{id}/goals"),
            Some(
                json!({"goal_instance_id": goal, "goal_template_id": GUARDRAIL, "frequency": "weekly"}),
            ),
        ),
        (
            "DELETE",
            format!("/hired-agents/{id}/goals?goal_instance_id={goal}"),
            None,
        ),
    ];
    for (method, path, body) in &routes {
        let (s, problem) = call(&app, &b.token, method, path, body.clone()).await;
        assert_eq!(
            s,
            StatusCode::NOT_FOUND,
            "{method} {path} as customer B: {problem}"
        );
    }
    // Nothing changed, and B's own lists are empty.
    let (_, h) = call(&app, &a.token, "GET", &format!("/hired-agents/{id}"), None).await;
    assert_eq!(h["row_version"], version);
    assert_eq!(h["nickname"], "Desk");
    assert_eq!(h["trial_status"], "not_started");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM goal_instances WHERE deleted_at IS NULL")
            .await,
        1
    );
    let (_, list) = call(&app, &b.token, "GET", "/hired-agents", None).await;
    assert_eq!(list["instances"], json!([]));
    let (_, list) = call(&app, &b.token, "GET", "/trial-status", None).await;
    assert_eq!(list["trials"], json!([]));
    // The same routes answer A.
    for (method, path, body) in &routes {
        let (s, problem) = call(&app, &a.token, method, path, body.clone()).await;
        assert!(
            s.is_success(),
            "{method} {path} as customer A: {s} {problem}"
        );
    }
}
