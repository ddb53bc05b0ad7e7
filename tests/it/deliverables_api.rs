//! The Phase-1 deliverables API (`/api/v1/hired-agents/{id}/deliverables`, `/api/v1/deliverables…`,
//! `/api/v1/hired-agents/{id}/run-now`, `/api/v1/scheduler/…`), driven over HTTP as customers,
//! staff and another customer: lazy generation per frequency and timezone, the payloads of the
//! reference, decisions, the execution gate with its stored denials, run now, the scheduler's
//! passes, and a real race of reviewers.

use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::agents_fixture::{self as fx, MARKETING};
use crate::billing::{CustomerUser, TRADING, customer};
use crate::helpers::{Engine, TestApp, spawn_app};
use crate::hired_agents_api::{admin_token, paths};

crate::both_engines!(
    listing_generates_due_drafts_per_frequency_in_the_agents_timezone,
    nothing_is_generated_for_paused_unconfigured_or_ended_agents,
    trading_payloads_follow_the_reference,
    reviews_approve_approve_with_edits_and_reject_once,
    execution_is_denied_and_stored_then_runs_once_with_the_edited_payload,
    run_now_makes_one_draft_per_idempotency_key,
    scheduler_passes_are_for_admins,
    another_customers_deliverables_are_not_found_anywhere,
    concurrent_reviews_over_http_make_one_approval,
    list_parameters_are_checked_and_pages_follow_the_keyset,
    session_writes_need_the_csrf_header,
);

const DAILY_POST: &str = "marketing.daily_micro_post.v1";
const WEEKLY_BATCH: &str = "marketing.weekly_multichannel_batch.v1";
const MONTHLY_PACK: &str = "marketing.monthly_campaign_pack.v1";
const INTENT: &str = "trading.trade_intent_draft.v1";
const CLOSE: &str = "trading.close_position_reminder.v1";
const GUARDRAIL: &str = "trading.guardrail_report.v1";
const CTA: &str = "Tell us what you want next and we\u{2019}ll tailor it.";

/// An answer: status, headers and the JSON body (null when there is none).
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Calls `/api/v1{path}` with a bearer token, extra headers and an optional JSON body.
async fn send(
    app: &TestApp,
    token: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> Answer {
    let mut req = reqwest::Client::new()
        .request(
            Method::from_bytes(method.as_bytes()).unwrap(),
            format!("{}/api/v1{path}", app.base),
        )
        .bearer_auth(token);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let body = res.json().await.unwrap_or(Value::Null);
    Answer {
        status,
        headers,
        body,
    }
}

async fn get(app: &TestApp, token: &str, path: &str) -> (StatusCode, Value) {
    let a = send(app, token, "GET", path, &[], None).await;
    (a.status, a.body)
}

async fn post(app: &TestApp, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
    let a = send(app, token, "POST", path, &[], Some(body)).await;
    (a.status, a.body)
}

/// The agent's deliverables listed (and generated) at `as_of`; fails unless 200.
async fn list_at(app: &TestApp, token: &str, agent: &str, as_of: &str) -> Vec<Value> {
    let (s, l) = get(
        app,
        token,
        &format!("/hired-agents/{agent}/deliverables?as_of={as_of}"),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{l}");
    assert_eq!(l["hired_instance_id"], agent);
    l["deliverables"].as_array().unwrap().clone()
}

fn keys(items: &[Value]) -> Vec<String> {
    let mut k: Vec<String> = items
        .iter()
        .map(|d| d["period_key"].as_str().unwrap().to_string())
        .collect();
    k.sort();
    k
}

fn ids(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|d| d["deliverable_id"].as_str().unwrap().to_string())
        .collect()
}

/// A configured marketing agent (Instagram and LinkedIn) in `tz`, set up through the API.
async fn marketing_agent(app: &TestApp, c: &CustomerUser, tz: &str) -> String {
    let sub = fx::subscribe(app, c, MARKETING).await;
    let ig = fx::credential(app, c, &format!("Instagram {tz}"), "ig-secret-token").await;
    let li = fx::credential(app, c, &format!("LinkedIn {tz}"), "li-secret-token").await;
    let a = send(
        app,
        &c.token,
        "PUT",
        "/hired-agents/draft",
        &[],
        Some(
            json!({"subscription_id": sub, "nickname": "Clinic", "theme": "light",
            "config": {"primary_language": "en", "timezone": tz, "brand_name": "Acme",
                "offerings_services": ["Dental"], "location": "Pune",
                "platforms_enabled": ["linkedin", "instagram"],
                "platform_credentials": {"instagram": ig, "linkedin": li}}}),
        ),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(a.body["configured"], true, "{}", a.body);
    a.body["hired_instance_id"].as_str().unwrap().to_string()
}

/// Adds a goal through the API; its id.
async fn goal(
    app: &TestApp,
    c: &CustomerUser,
    agent: &str,
    template: &str,
    frequency: &str,
    settings: Value,
) -> String {
    let a = send(
        app,
        &c.token,
        "PUT",
        &format!("/hired-agents/{agent}/goals"),
        &[],
        Some(json!({"goal_template_id": template, "frequency": frequency, "settings": settings})),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    a.body["goal_instance_id"].as_str().unwrap().to_string()
}

/// A customer with a UTC marketing agent with a daily goal, and its first pending draft.
async fn pending_batch(app: &TestApp) -> (CustomerUser, String, String) {
    let c = customer(app).await;
    let agent = marketing_agent(app, &c, "UTC").await;
    goal(
        app,
        &c,
        &agent,
        DAILY_POST,
        "daily",
        json!({"topic": "Flossing"}),
    )
    .await;
    let items = list_at(app, &c.token, &agent, "2026-03-01T10:00:00Z").await;
    assert_eq!(items.len(), 1);
    let id = ids(&items)[0].clone();
    (c, agent, id)
}

/// A run-now draft of a trade intent for `units` BTC; the customer, agent and deliverable.
async fn trade_intent(app: &TestApp, units: f64) -> (CustomerUser, String, String) {
    let c = customer(app).await;
    let agent = fx::configured_trading(app, &c, "Desk").await;
    let g = goal(
        app,
        &c,
        &agent,
        INTENT,
        "on_demand",
        json!({"coin": "btc", "side": "buy", "units": units}),
    )
    .await;
    let (s, r) = post(
        app,
        &c.token,
        &format!("/hired-agents/{agent}/run-now"),
        json!({"goal_instance_id": g}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    let id = r["deliverable_ids"][0].as_str().unwrap().to_string();
    (c, agent, id)
}

async fn decide(app: &TestApp, token: &str, id: &str, body: Value) -> Answer {
    send(
        app,
        token,
        "POST",
        &format!("/deliverables/{id}/review"),
        &[],
        Some(body),
    )
    .await
}

async fn execute(app: &TestApp, token: &str, id: &str, correlation: &str, body: Value) -> Answer {
    send(
        app,
        token,
        "POST",
        &format!("/deliverables/{id}/execute"),
        &[("X-Correlation-ID", correlation)],
        Some(body),
    )
    .await
}

async fn listing_generates_due_drafts_per_frequency_in_the_agents_timezone(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let c = customer(&app).await;
    let kolkata = marketing_agent(&app, &c, "Asia/Kolkata").await;
    let utc = marketing_agent(&app, &c, "UTC").await;
    for agent in [&kolkata, &utc] {
        goal(
            &app,
            &c,
            agent,
            DAILY_POST,
            "daily",
            json!({"topic": "Flossing"}),
        )
        .await;
        goal(
            &app,
            &c,
            agent,
            WEEKLY_BATCH,
            "weekly",
            json!({"topics": ["Braces"]}),
        )
        .await;
        goal(
            &app,
            &c,
            agent,
            MONTHLY_PACK,
            "monthly",
            json!({"theme": "Smile month"}),
        )
        .await;
        goal(&app, &c, agent, DAILY_POST, "on_demand", json!({})).await;
    }

    // Saturday 28 February 2026, 19:00 UTC is already Sunday 1 March, 00:30 in Kolkata: another
    // day and another month there, the same ISO week. Listing one agent generates its drafts only.
    let k = list_at(&app, &c.token, &kolkata, "2026-02-28T19:00:00Z").await;
    assert_eq!(
        keys(&k),
        ["daily:2026-03-01", "monthly:2026-03", "weekly:2026-W09"]
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM deliverables").await, 3);
    let u = list_at(&app, &c.token, &utc, "2026-02-28T19:00:00Z").await;
    assert_eq!(
        keys(&u),
        ["daily:2026-02-28", "monthly:2026-02", "weekly:2026-W09"]
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM deliverables").await, 6);

    // The same period again: nothing new.
    let again = list_at(&app, &c.token, &kolkata, "2026-02-28T19:30:00Z").await;
    assert_eq!(ids(&again), ids(&k));
    assert_eq!(app.count("SELECT COUNT(*) FROM deliverables").await, 6);

    // Sunday 1 March, 19:00 UTC is Monday 2 March in Kolkata: a new day and ISO week there; in UTC
    // a new day and month.
    let k = list_at(&app, &c.token, &kolkata, "2026-03-01T19:00:00Z").await;
    assert_eq!(
        keys(&k),
        [
            "daily:2026-03-01",
            "daily:2026-03-02",
            "monthly:2026-03",
            "weekly:2026-W09",
            "weekly:2026-W10"
        ]
    );
    let u = list_at(&app, &c.token, &utc, "2026-03-01T19:00:00Z").await;
    assert_eq!(
        keys(&u),
        [
            "daily:2026-02-28",
            "daily:2026-03-01",
            "monthly:2026-02",
            "monthly:2026-03",
            "weekly:2026-W09"
        ]
    );
    // The next day: one more (the daily goal's).
    let k = list_at(&app, &c.token, &kolkata, "2026-03-02T19:00:00Z").await;
    assert_eq!(k.len(), 6);
    assert!(keys(&k).contains(&"daily:2026-03-03".to_string()));
    // Never the on-demand goals.
    assert_eq!(
        app.count("SELECT COUNT(*) FROM deliverables WHERE period_key LIKE 'on_demand%'")
            .await,
        0
    );

    // Oldest first, by (created_at, deliverable_id).
    let order: Vec<(chrono::DateTime<chrono::Utc>, String)> = k
        .iter()
        .map(|d| {
            (
                d["created_at"].as_str().unwrap().parse().unwrap(),
                d["deliverable_id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(order, sorted);

    // Phase 1's DeliverableResponse, and the marketing batch of the reference.
    let daily = k
        .iter()
        .find(|d| d["period_key"] == "daily:2026-03-01")
        .unwrap();
    for key in [
        "deliverable_id",
        "hired_instance_id",
        "goal_instance_id",
        "goal_template_id",
        "title",
        "payload",
        "review_status",
        "review_notes",
        "approval_id",
        "execution_status",
        "executed_at",
        "created_at",
        "updated_at",
    ] {
        assert!(daily.get(key).is_some(), "{key} missing: {daily}");
    }
    assert!(
        daily["deliverable_id"]
            .as_str()
            .unwrap()
            .starts_with("DEL-")
    );
    assert_eq!(daily["hired_instance_id"], kolkata.as_str());
    assert_eq!(daily["goal_template_id"], DAILY_POST);
    assert_eq!(daily["title"], "Daily micro-post");
    assert_eq!(
        (
            &daily["review_status"],
            &daily["execution_status"],
            &daily["approval_id"],
            &daily["executed_at"],
            &daily["edited_payload"]
        ),
        (
            &json!("pending_review"),
            &json!("not_executed"),
            &Value::Null,
            &Value::Null,
            &Value::Null
        )
    );
    let p = &daily["payload"];
    assert_eq!(p["type"], "marketing_draft_batch_v1");
    assert_eq!(p["draft_only"], true);
    assert_eq!(p["goal_instance_id"], daily["goal_instance_id"]);
    assert_eq!(p["brand_name"], "Acme");
    assert_eq!(p["theme"], "Flossing");
    assert_eq!(p["intent_action"], "publish");
    assert_eq!(
        p["suggested_schedule_local"],
        json!(["09:00", "13:00", "18:00"])
    );
    assert_eq!(p["debug"], json!({"executor": "deterministic_chunk_c"}));
    let variants = p["variants"].as_array().unwrap();
    let platforms: Vec<&str> = variants
        .iter()
        .map(|v| v["platform"].as_str().unwrap())
        .collect();
    assert_eq!(platforms, ["instagram", "linkedin"], "sorted by platform");
    let tags = json!(["#Acme", "#SmallBusiness", "#WAOOAW"]);
    let core = "Acme: Flossing. Offer: Dental. Location: Pune.";
    assert_eq!(variants[0]["hashtags"], tags);
    assert_eq!(
        variants[0]["text"],
        format!("{core}\n\n{CTA}\n\n#Acme #SmallBusiness #WAOOAW")
    );
    assert_eq!(variants[1]["hashtags"], tags);
    assert_eq!(
        variants[1]["text"],
        format!("{core}\n\n\u{2022} en\n\n{CTA}\n\n#Acme #SmallBusiness #WAOOAW")
    );
    let weekly = k
        .iter()
        .find(|d| d["period_key"] == "weekly:2026-W10")
        .unwrap();
    assert_eq!(weekly["title"], "Weekly multichannel posting batch");
    assert_eq!(weekly["payload"]["theme"], "Braces");
    let monthly = k
        .iter()
        .find(|d| d["period_key"] == "monthly:2026-03")
        .unwrap();
    assert_eq!(monthly["title"], "Monthly campaign pack");
    assert_eq!(monthly["payload"]["theme"], "Smile month");
}

async fn nothing_is_generated_for_paused_unconfigured_or_ended_agents(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let c = customer(&app).await;
    let paused = fx::configured_trading(&app, &c, "Paused").await;
    let unconfigured = fx::hire(&app, &c, TRADING, "Half done").await;
    let ended = fx::configured_trading(&app, &c, "Ended").await;
    for agent in [&paused, &unconfigured, &ended] {
        goal(&app, &c, agent, GUARDRAIL, "daily", json!({})).await;
    }
    let (s, _) = post(
        &app,
        &c.token,
        &format!("/hired-agents/{paused}/pause"),
        json!({}),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (_, h) = get(&app, &c.token, &format!("/hired-agents/{ended}")).await;
    let sub = h["subscription_id"].as_str().unwrap().to_string();
    let (s, _) = post(
        &app,
        &c.token,
        &format!("/payments/subscriptions/{sub}/cancel"),
        json!({}),
    )
    .await;
    assert_eq!(s, StatusCode::OK);

    // A month later the whole pass ends the canceled subscription and drafts nothing at all.
    app.clock.advance(chrono::Duration::days(31));
    let admin = admin_token(&app).await;
    let (s, pass) = post(&app, &admin, "/scheduler/run-due", json!({})).await;
    assert_eq!(s, StatusCode::OK, "{pass}");
    assert_eq!(pass["period_ends"]["canceled_ids"], json!([sub]));
    assert_eq!(pass["generated"], 0, "{pass}");

    for agent in [&paused, &unconfigured, &ended] {
        for as_of in ["", "?as_of=2026-12-15T08:00:00Z"] {
            let (s, l) = get(
                &app,
                &c.token,
                &format!("/hired-agents/{agent}/deliverables{as_of}"),
            )
            .await;
            assert_eq!(s, StatusCode::OK, "{l}");
            assert_eq!(l["deliverables"], json!([]), "{agent}");
        }
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM deliverables").await, 0);

    // Resumed, the paused agent gets its draft: it was only the pause.
    let (s, _) = post(
        &app,
        &c.token,
        &format!("/hired-agents/{paused}/resume"),
        json!({}),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (_, l) = get(
        &app,
        &c.token,
        &format!("/hired-agents/{paused}/deliverables"),
    )
    .await;
    assert_eq!(l["deliverables"].as_array().unwrap().len(), 1, "{l}");
}

async fn trading_payloads_follow_the_reference(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let (c, agent, intent) = trade_intent(&app, 5.0).await;
    let (s, d) = get(&app, &c.token, &format!("/deliverables/{intent}")).await;
    assert_eq!(s, StatusCode::OK, "{d}");
    assert_eq!(d["title"], "Trade intent draft: BTC buy 5");
    assert!(d["period_key"].as_str().unwrap().starts_with("on_demand:"));
    let p = &d["payload"];
    let cred = p["exchange_credential_ref"].as_str().unwrap().to_string();
    assert!(cred.starts_with("CRED-"), "{p}");
    assert_eq!(
        *p,
        json!({"type": "trading_intent_plan_v1", "draft_only": true, "goal_template_id": INTENT,
            "goal_instance_id": d["goal_instance_id"], "exchange_provider": "delta_exchange_india",
            "exchange_credential_ref": cred, "coin": "BTC", "side": "buy", "units": 5.0,
            "intent_action": "place_order",
            "checks": {"coin_allowed": true, "side_valid": true, "units_positive": true,
                "within_max_units": false, "max_units_per_order": 2},
            "validation_errors": ["within_max_units"]})
    );
    assert_eq!(
        (&d["approvals"], &d["denials"], &d["execution_log"]),
        (&json!([]), &json!([]), &json!([]))
    );

    goal(
        &app,
        &c,
        &agent,
        CLOSE,
        "weekly",
        json!({"window_local_time": "15:15"}),
    )
    .await;
    goal(&app, &c, &agent, GUARDRAIL, "monthly", json!({})).await;
    let items = list_at(&app, &c.token, &agent, "2026-03-01T19:00:00Z").await;
    assert_eq!(
        keys(&items),
        [
            "monthly:2026-03",
            d["period_key"].as_str().unwrap(),
            "weekly:2026-W10"
        ]
    );
    let close = items
        .iter()
        .find(|d| d["goal_template_id"] == CLOSE)
        .unwrap();
    assert_eq!(close["title"], "Close-position proposal");
    assert_eq!(
        close["payload"],
        json!({"type": "trading_close_position_proposal_v1", "draft_only": true,
            "goal_template_id": CLOSE, "goal_instance_id": close["goal_instance_id"],
            "exchange_provider": "delta_exchange_india", "exchange_credential_ref": cred,
            "window_local_time": "15:15", "intent_action": "close_position"})
    );
    let report = items
        .iter()
        .find(|d| d["goal_template_id"] == GUARDRAIL)
        .unwrap();
    assert_eq!(report["title"], "Guardrail report");
    assert_eq!(
        report["payload"],
        json!({"type": "trading_guardrail_report_v1", "draft_only": true,
            "goal_template_id": GUARDRAIL, "goal_instance_id": report["goal_instance_id"],
            "snapshot": {"exchange_provider": "delta_exchange_india", "exchange_credential_ref": cred,
                "allowed_coins": ["BTC", "ETH"], "default_coin": "BTC", "interval_seconds": 60,
                "risk_limits": {"max_units_per_order": 2}}})
    );
}

async fn reviews_approve_approve_with_edits_and_reject_once(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let c = customer(&app).await;
    let agent = marketing_agent(&app, &c, "UTC").await;
    goal(
        &app,
        &c,
        &agent,
        DAILY_POST,
        "daily",
        json!({"topic": "Flossing"}),
    )
    .await;
    for day in ["01", "02", "03"] {
        list_at(&app, &c.token, &agent, &format!("2026-03-{day}T10:00:00Z")).await;
    }
    let items = list_at(&app, &c.token, &agent, "2026-03-04T10:00:00Z").await;
    let [d1, d2, d3, d4] = <[String; 4]>::try_from(ids(&items)).unwrap();

    // Refusals first: an unknown decision, edits with a rejection, a rejection without a reason.
    for (body, path) in [
        (json!({"decision": "maybe"}), "decision"),
        (json!({"decision": "Approved"}), "decision"),
        (json!({"notes": "no decision"}), "body"),
        (
            json!({"decision": "rejected", "notes": "x", "edited_payload": {"instagram": "x"}}),
            "edited_payload",
        ),
        (json!({"decision": "rejected"}), "notes"),
        (json!({"decision": "rejected", "notes": "   "}), "notes"),
        (
            json!({"decision": "approved", "edited_payload": {"instagram": "x".repeat(2201), "linkedin": "ok"}}),
            "edited_payload.instagram",
        ),
    ] {
        let a = decide(&app, &c.token, &d1, body.clone()).await;
        assert_eq!(
            a.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            a.body
        );
        assert_eq!(a.body["code"], "validation_failed");
        assert!(
            paths(&a.body).contains(&path.to_string()),
            "{body}: {}",
            a.body
        );
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM approvals").await, 0);
    // Viewers change nothing.
    let (viewer, _) = app.user_with_role("viewer").await;
    let viewer = viewer.api_token().await;
    let a = decide(
        &app,
        &viewer,
        &d1,
        json!({"decision": "approved", "customer_id": c.customer_id}),
    )
    .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert_eq!(a.body["code"], "read_only");

    // Approve: Phase 1's answer.
    let a = decide(&app, &c.token, &d1, json!({"decision": "approved"})).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let mut answer_keys: Vec<&String> = a.body.as_object().unwrap().keys().collect();
    answer_keys.sort();
    assert_eq!(
        answer_keys,
        [
            "approval_id",
            "deliverable_id",
            "review_status",
            "updated_at"
        ]
    );
    assert_eq!(a.body["deliverable_id"], d1.as_str());
    assert_eq!(a.body["review_status"], "approved");
    assert!(a.body["approval_id"].as_str().unwrap().starts_with("APR-"));
    assert!(a.header("Idempotent-Replayed").is_none());
    // The same request again: the same answer, nothing new.
    let replay = decide(&app, &c.token, &d1, json!({"decision": "approved"})).await;
    assert_eq!(replay.status, StatusCode::OK);
    assert_eq!(replay.body, a.body);
    assert_eq!(replay.header("Idempotent-Replayed"), Some("true"));
    // Another decision: told who decided, and when.
    let late = decide(
        &app,
        &c.token,
        &d1,
        json!({"decision": "rejected", "notes": "Too late"}),
    )
    .await;
    assert_eq!(late.status, StatusCode::CONFLICT, "{}", late.body);
    assert_eq!(late.body["code"], "already_decided");
    let detail = late.body["detail"].as_str().unwrap();
    assert!(
        detail.starts_with(&format!("Already approved by {} at ", c.email)),
        "{detail}"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM approvals").await, 1);

    // Approve with edits: only the edited Instagram text is sent (LinkedIn keeps the draft's);
    // the approval keeps both payloads.
    let (_, before) = get(&app, &c.token, &format!("/deliverables/{d2}")).await;
    let linkedin = before["payload"]["variants"][1]["text"].clone();
    let edits = json!({"instagram": "Floss daily! #Acme"});
    let a = decide(
        &app,
        &c.token,
        &d2,
        json!({"decision": "approved", "notes": "Shorter", "edited_payload": edits}),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let (_, d) = get(&app, &c.token, &format!("/deliverables/{d2}")).await;
    assert_eq!(d["review_status"], "approved");
    assert_eq!(d["review_notes"], "Shorter");
    assert_eq!(d["approval_id"], a.body["approval_id"]);
    assert_eq!(d["payload"], before["payload"], "the draft never changes");
    assert_eq!(
        d["edited_payload"]["variants"][0]["text"],
        "Floss daily! #Acme"
    );
    assert_eq!(d["edited_payload"]["variants"][1]["text"], linkedin);
    let approvals = d["approvals"].as_array().unwrap();
    assert_eq!(approvals.len(), 1);
    let apr = &approvals[0];
    assert_eq!(apr["approval_id"], a.body["approval_id"]);
    assert_eq!(apr["decision"], "approved");
    assert_eq!(apr["notes"], "Shorter");
    assert_eq!(apr["decided_by"], c.email.as_str());
    assert_eq!(apr["decided_by_role"], "customer");
    assert_eq!(apr["on_behalf"], false);
    assert_eq!(apr["original_payload"], before["payload"]);
    assert_eq!(apr["edited_payload"], d["edited_payload"]);

    // Reject with a reason.
    let a = decide(
        &app,
        &c.token,
        &d3,
        json!({"decision": "rejected", "notes": " Off-brand "}),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(a.body["review_status"], "rejected");
    let (_, d) = get(&app, &c.token, &format!("/deliverables/{d3}")).await;
    assert_eq!(d["review_notes"], "Off-brand");
    assert_eq!(d["approvals"][0]["decision"], "rejected");
    assert_eq!(d["edited_payload"], Value::Null);

    // Staff decide on the customer's behalf (a Phase-1 client's approval_id is ignored).
    let admin = admin_token(&app).await;
    let a = decide(
        &app,
        &admin,
        &d4,
        json!({"decision": "approved", "customer_id": c.customer_id, "approval_id": "APR-mine"}),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_ne!(a.body["approval_id"], "APR-mine");
    let (_, d) = get(&app, &c.token, &format!("/deliverables/{d4}")).await;
    let apr = &d["approvals"][0];
    assert_eq!(apr["decided_by"], crate::helpers::ADMIN_EMAIL);
    assert_eq!(apr["decided_by_role"], "admin");
    assert_eq!(apr["on_behalf"], true);

    // The list's status filter.
    for (status, n) in [("pending_review", 0), ("approved", 3), ("rejected", 1)] {
        let (s, l) = get(
            &app,
            &c.token,
            &format!(
                "/hired-agents/{agent}/deliverables?status={status}&as_of=2026-03-04T11:00:00Z"
            ),
        )
        .await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(l["deliverables"].as_array().unwrap().len(), n, "{status}");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM approvals").await, 4);
}

async fn execution_is_denied_and_stored_then_runs_once_with_the_edited_payload(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let (c, _, del) = pending_batch(&app).await;
    // Not approved yet: 409, nothing stored.
    let a = execute(&app, &c.token, &del, "corr-early", json!({})).await;
    assert_eq!(a.status, StatusCode::CONFLICT, "{}", a.body);
    assert_eq!(a.body["code"], "not_approved");
    let (_, before) = get(&app, &c.token, &format!("/deliverables/{del}")).await;
    let linkedin = before["payload"]["variants"][1]["text"].clone();
    let a = decide(
        &app,
        &c.token,
        &del,
        json!({"decision": "approved", "edited_payload": {"instagram": "Edited for Instagram", "linkedin": linkedin}}),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let approval = a.body["approval_id"].as_str().unwrap().to_string();

    // Publishing needs the approval id: without it, and with another one, denied (403, RFC 7807)
    // with the request's correlation id, and stored.
    for (body, correlation, reason, message) in [
        (
            json!({}),
            "corr-denied-1",
            "approval_required",
            "External action requires customer approval_id",
        ),
        (
            json!({"approval_id": "APR-not-this-one"}),
            "corr-denied-2",
            "approval_invalid",
            "Invalid approval_id for execution",
        ),
    ] {
        // A moment apart, so the stored denials list in this order.
        app.clock.advance(chrono::Duration::seconds(1));
        let a = execute(&app, &c.token, &del, correlation, body).await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.body);
        assert!(
            a.header("content-type")
                .unwrap()
                .starts_with("application/problem+json")
        );
        assert_eq!(a.header("x-correlation-id"), Some(correlation));
        let b = &a.body;
        assert_eq!(b["type"], "urn:agentdesk:problem:policy_denied");
        assert_eq!(b["code"], "policy_denied");
        assert_eq!(b["title"], "Policy Enforcement Denied");
        assert_eq!(b["status"], 403);
        assert_eq!(b["detail"], "Policy denied deliverable execution");
        assert_eq!(b["instance"], format!("/api/v1/deliverables/{del}/execute"));
        assert_eq!(b["correlation_id"], correlation);
        assert_eq!(b["reason"], reason);
        assert_eq!(b["details"]["deliverable_id"], del.as_str());
        assert_eq!(b["details"]["action"], "publish");
        assert_eq!(b["details"]["message"], message);
        assert!(
            b["details"]["decision_id"]
                .as_str()
                .unwrap()
                .starts_with("DEN-")
        );
    }
    let (_, d) = get(&app, &c.token, &format!("/deliverables/{del}")).await;
    let denials = d["denials"].as_array().unwrap();
    assert_eq!(denials.len(), 2, "{d}");
    for (denial, (reason, correlation)) in denials.iter().zip([
        ("approval_required", "corr-denied-1"),
        ("approval_invalid", "corr-denied-2"),
    ]) {
        assert_eq!(denial["reason"], reason);
        assert_eq!(denial["correlation_id"], correlation);
        assert_eq!(denial["action"], "publish");
        assert_eq!(denial["actor"]["role"], "customer");
        assert!(denial["actor"]["user_id"].is_i64());
        assert!(denial["at"].is_string());
    }
    assert_eq!(d["execution_status"], "not_executed");
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox").await, 0);

    // With its approval: executed, the edited Instagram text handed over (by credential reference).
    let first = execute(
        &app,
        &c.token,
        &del,
        "corr-exec-1",
        json!({"approval_id": approval}),
    )
    .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(first.header("x-correlation-id"), Some("corr-exec-1"));
    assert_eq!(first.body["deliverable_id"], del.as_str());
    assert_eq!(first.body["execution_status"], "executed");
    assert!(first.body["executed_at"].is_string());
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox").await, 2);
    let handed = app
        .text("SELECT CAST(payload AS TEXT) FROM outbox WHERE integration = 'channel:instagram'")
        .await;
    assert!(handed.contains("Edited for Instagram"), "{handed}");
    assert!(!app.database_contains("ig-secret-token").await);
    // Again: the first answer, nothing new written.
    let again = execute(
        &app,
        &c.token,
        &del,
        "corr-exec-2",
        json!({"approval_id": approval}),
    )
    .await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.body, first.body);
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox").await, 2);
    assert_eq!(app.count("SELECT COUNT(*) FROM execution_runs").await, 1);
    let (_, d) = get(&app, &c.token, &format!("/deliverables/{del}")).await;
    assert_eq!(d["denials"].as_array().unwrap().len(), 2);
    let log = d["execution_log"].as_array().unwrap();
    assert_eq!(log.len(), 1, "{d}");
    assert_eq!(log[0]["correlation_id"], "corr-exec-1");
    assert_eq!(log[0]["status"], "succeeded");
    let steps: Vec<&str> = log[0]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["action"].as_str().unwrap())
        .collect();
    assert_eq!(steps, ["check_policy", "hand_over"]);
    let integrations: Vec<&str> = d["handovers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["integration"].as_str().unwrap())
        .collect();
    assert_eq!(integrations, ["channel:instagram", "channel:linkedin"]);
    assert!(
        d["handovers"][0]["credential_ref"]
            .as_str()
            .unwrap()
            .starts_with("CRED-")
    );

    // A trade intent that failed its checks never runs, even approved and with its approval id.
    let (t, _, intent) = trade_intent(&app, 5.0).await;
    let a = decide(&app, &t.token, &intent, json!({"decision": "approved"})).await;
    let approval = a.body["approval_id"].as_str().unwrap().to_string();
    let a = execute(
        &app,
        &t.token,
        &intent,
        "corr-guard",
        json!({"approval_id": approval}),
    )
    .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.body);
    assert_eq!(a.body["reason"], "guardrail_failed");
    assert_eq!(a.body["correlation_id"], "corr-guard");
    assert_eq!(a.body["details"]["action"], "place_order");
    assert_eq!(
        a.body["details"]["validation_errors"],
        json!(["within_max_units"])
    );
    let (_, d) = get(&app, &t.token, &format!("/deliverables/{intent}")).await;
    assert_eq!(d["denials"][0]["reason"], "guardrail_failed");
    assert_eq!(d["denials"][0]["correlation_id"], "corr-guard");
    assert_eq!(d["execution_status"], "not_executed");
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox").await, 2);
    assert_eq!(app.count("SELECT COUNT(*) FROM execution_denials").await, 3);
}

async fn run_now_makes_one_draft_per_idempotency_key(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let c = customer(&app).await;
    let agent = fx::configured_trading(&app, &c, "Desk").await;
    let intent = goal(
        &app,
        &c,
        &agent,
        INTENT,
        "on_demand",
        json!({"coin": "BTC", "side": "sell", "units": 1}),
    )
    .await;
    let daily = goal(&app, &c, &agent, GUARDRAIL, "daily", json!({})).await;
    let path = format!("/hired-agents/{agent}/run-now");
    let run = |key: Option<&'static str>, goal: String| {
        let app = &app;
        let token = c.token.clone();
        let path = path.clone();
        async move {
            let headers: Vec<(&str, &str)> =
                key.map(|k| ("Idempotency-Key", k)).into_iter().collect();
            send(
                app,
                &token,
                "POST",
                &path,
                &headers,
                Some(json!({"goal_instance_id": goal})),
            )
            .await
        }
    };

    // A double submit under one key: one draft, the same answer.
    let first = run(Some("click-1"), intent.clone()).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(first.body["generated"], 1);
    assert_eq!(first.body["deliverable_ids"].as_array().unwrap().len(), 1);
    let second = run(Some("click-1"), intent.clone()).await;
    assert_eq!(second.status, StatusCode::OK);
    assert_eq!(second.body, first.body);
    assert_eq!(app.count("SELECT COUNT(*) FROM deliverables").await, 1);
    // Another key, and no key at all: a draft each time.
    let other = run(Some("click-2"), intent.clone()).await;
    assert_ne!(other.body, first.body);
    run(None, intent.clone()).await;
    run(None, intent.clone()).await;
    assert_eq!(app.count("SELECT COUNT(*) FROM deliverables").await, 4);
    let id = first.body["deliverable_ids"][0].as_str().unwrap();
    let (_, d) = get(&app, &c.token, &format!("/deliverables/{id}")).await;
    assert_eq!(d["period_key"], "on_demand:click-1");
    assert_eq!(d["review_status"], "pending_review");

    // Refusals.
    let a = run(Some("click-3"), daily.clone()).await;
    assert_eq!(a.status, StatusCode::CONFLICT, "{}", a.body);
    assert_eq!(a.body["code"], "goal_not_runnable");
    let a = run(None, "GOI-none".into()).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    let long: &'static str = Box::leak("k".repeat(201).into_boxed_str());
    let a = run(Some(long), intent.clone()).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.body);
    assert_eq!(a.body["code"], "invalid_idempotency_key");
    let a = send(&app, &c.token, "POST", &path, &[], Some(json!({}))).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.body);
    let (s, _) = post(
        &app,
        &c.token,
        &format!("/hired-agents/{agent}/pause"),
        json!({}),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let a = run(Some("click-4"), intent.clone()).await;
    assert_eq!(a.status, StatusCode::CONFLICT);
    assert_eq!(a.body["code"], "goal_not_runnable");
    assert_eq!(app.count("SELECT COUNT(*) FROM deliverables").await, 4);
}

async fn scheduler_passes_are_for_admins(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let c = customer(&app).await;
    let agent = fx::configured_trading(&app, &c, "Desk").await;
    goal(&app, &c, &agent, GUARDRAIL, "daily", json!({})).await;
    let (viewer, _) = app.user_with_role("viewer").await;
    let viewer = viewer.api_token().await;
    let (operator, _) = app.user_with_role("operator").await;
    let operator = operator.api_token().await;
    for path in ["/scheduler/goals/run-due", "/scheduler/run-due"] {
        for token in [&c.token, &viewer, &operator] {
            let (s, problem) = post(&app, token, path, json!({})).await;
            assert_eq!(s, StatusCode::FORBIDDEN, "{path}: {problem}");
            assert_eq!(problem["code"], "admin_only");
        }
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM deliverables").await, 0);

    let admin = admin_token(&app).await;
    // Drafts only: the agent's daily draft in Kolkata (2 March there), once.
    let (s, r) = post(
        &app,
        &admin,
        "/scheduler/goals/run-due",
        json!({"now": "2026-03-01T19:00:00Z"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(r["generated"], 1);
    let first = r["deliverable_ids"][0].as_str().unwrap().to_string();
    let (_, d) = get(&app, &c.token, &format!("/deliverables/{first}")).await;
    assert_eq!(d["period_key"], "daily:2026-03-02");
    let (_, r) = post(
        &app,
        &admin,
        "/scheduler/goals/run-due",
        json!({"now": "2026-03-01T20:00:00Z"}),
    )
    .await;
    assert_eq!(
        (&r["generated"], &r["deliverable_ids"]),
        (&json!(0), &json!([]))
    );
    // Narrowed to one agent; an unknown one is 404.
    let (s, r) = post(
        &app,
        &admin,
        "/scheduler/goals/run-due",
        json!({"now": "2026-03-02T19:00:00Z", "hired_instance_id": agent}),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(r["generated"], 1);
    let (s, _) = post(
        &app,
        &admin,
        "/scheduler/goals/run-due",
        json!({"hired_instance_id": "HAI-none"}),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // The whole pass: every kind, with the drafts it made.
    let (s, r) = post(
        &app,
        &admin,
        "/scheduler/run-due",
        json!({"now": "2026-03-03T19:00:00Z"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(r["generated"], 1);
    assert_eq!(r["deliverable_ids"].as_array().unwrap().len(), 1);
    assert_eq!(r["now"], "2026-03-03T19:00:00Z");
    assert!(r["period_ends"]["processed"].is_u64(), "{r}");
    assert!(r["trial_ends"]["processed"].is_u64(), "{r}");
    assert!(r["outbox"].is_object(), "{r}");
    assert_eq!((&r["skipped"], &r["failed"]), (&json!([]), &json!([])));
    // Narrowed: that agent's drafts only, the other kinds left to the next whole pass.
    let (s, r) = post(
        &app,
        &admin,
        "/scheduler/run-due",
        json!({"now": "2026-03-04T19:00:00Z", "hired_instance_id": agent}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(r["generated"], 1);
    assert_eq!(
        r["skipped"],
        json!(["housekeeping", "period_ends", "trial_ends", "outbox"])
    );
    // No body at all: now.
    let a = send(&app, &admin, "POST", "/scheduler/run-due", &[], None).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(a.body["generated"], 1, "today's draft");
    assert_eq!(app.count("SELECT COUNT(*) FROM deliverables").await, 5);
}

async fn another_customers_deliverables_are_not_found_anywhere(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let a = customer(&app).await;
    let b = customer(&app).await;
    let agent = fx::configured_trading(&app, &a, "Desk").await;
    goal(&app, &a, &agent, GUARDRAIL, "daily", json!({})).await;
    let intent = goal(
        &app,
        &a,
        &agent,
        INTENT,
        "on_demand",
        json!({"coin": "BTC", "side": "buy", "units": 1}),
    )
    .await;
    list_at(&app, &a.token, &agent, "2026-03-01T10:00:00Z").await;
    let items = list_at(&app, &a.token, &agent, "2026-03-02T10:00:00Z").await;
    let [pending, approved] = <[String; 2]>::try_from(ids(&items)).unwrap();
    let ok = decide(&app, &a.token, &approved, json!({"decision": "approved"})).await;
    let approval = ok.body["approval_id"].as_str().unwrap().to_string();
    let ca = &a.customer_id;
    let routes: Vec<(&str, String, Option<Value>)> = vec![
        ("GET", format!("/hired-agents/{agent}/deliverables"), None),
        (
            "GET",
            format!(
                "/hired-agents/{agent}/deliverables?customer_id={ca}&as_of=2026-03-05T10:00:00Z"
            ),
            None,
        ),
        ("GET", format!("/deliverables/{pending}"), None),
        (
            "GET",
            format!("/deliverables/{approved}?customer_id={ca}"),
            None,
        ),
        (
            "POST",
            format!("/deliverables/{pending}/review"),
            Some(json!({"decision": "rejected", "notes": "Mine now"})),
        ),
        (
            "POST",
            format!("/deliverables/{pending}/review"),
            Some(json!({"decision": "approved", "customer_id": ca})),
        ),
        (
            "POST",
            format!("/deliverables/{approved}/execute"),
            Some(json!({"approval_id": approval})),
        ),
        (
            "POST",
            format!("/deliverables/{approved}/execute"),
            Some(json!({})),
        ),
        (
            "POST",
            format!("/hired-agents/{agent}/run-now"),
            Some(json!({"goal_instance_id": intent})),
        ),
        (
            "POST",
            format!("/hired-agents/{agent}/run-now"),
            Some(json!({"goal_instance_id": intent, "customer_id": ca})),
        ),
    ];
    for (method, path, body) in &routes {
        let got = send(&app, &b.token, method, path, &[], body.clone()).await;
        assert_eq!(
            got.status,
            StatusCode::NOT_FOUND,
            "{method} {path} as customer B: {}",
            got.body
        );
        assert_eq!(got.body["code"], "not_found");
    }
    for path in ["/scheduler/goals/run-due", "/scheduler/run-due"] {
        let (s, _) = post(&app, &b.token, path, json!({"hired_instance_id": agent})).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{path}");
    }
    // Nothing happened to A's deliverables, and nothing was made for them.
    assert_eq!(app.count("SELECT COUNT(*) FROM deliverables").await, 2);
    assert_eq!(app.count("SELECT COUNT(*) FROM approvals").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM execution_denials").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox").await, 0);
    let (_, d) = get(&app, &a.token, &format!("/deliverables/{pending}")).await;
    assert_eq!(d["review_status"], "pending_review");
    // B's own customer_id does not reach A's agent either; A's own routes answer A.
    let (s, _) = get(
        &app,
        &b.token,
        &format!(
            "/hired-agents/{agent}/deliverables?customer_id={}",
            b.customer_id
        ),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    for (method, path, body) in &routes[..4] {
        let got = send(&app, &a.token, method, path, &[], body.clone()).await;
        assert_eq!(
            got.status,
            StatusCode::OK,
            "{method} {path} as A: {}",
            got.body
        );
    }
}

async fn concurrent_reviews_over_http_make_one_approval(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let (c, _, del) = pending_batch(&app).await;
    let url = format!("{}/api/v1/deliverables/{del}/review", app.base);
    let mut tasks = vec![];
    for i in 0..64 {
        let url = url.clone();
        let token = c.token.clone();
        let body = if i % 2 == 0 {
            json!({"decision": "approved"})
        } else {
            json!({"decision": "rejected", "notes": "Not now"})
        };
        tasks.push(tokio::spawn(async move {
            let res = reqwest::Client::new()
                .post(url)
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap();
            let status = res.status();
            let answer: Value = res.json().await.unwrap();
            (
                body["decision"].as_str().unwrap().to_string(),
                status,
                answer,
            )
        }));
    }
    let mut results = vec![];
    for t in tasks {
        results.push(t.await.unwrap());
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM approvals").await, 1);
    let (_, d) = get(&app, &c.token, &format!("/deliverables/{del}")).await;
    let winner = d["review_status"].as_str().unwrap().to_string();
    let approval = d["approval_id"].clone();
    for (decision, status, answer) in &results {
        if *decision == winner {
            assert_eq!(*status, StatusCode::OK, "{decision}: {answer}");
            assert_eq!(
                answer["approval_id"], approval,
                "every winner answers one approval"
            );
        } else {
            assert_eq!(*status, StatusCode::CONFLICT, "{decision}: {answer}");
            assert_eq!(answer["code"], "already_decided");
        }
    }
}

async fn list_parameters_are_checked_and_pages_follow_the_keyset(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let c = customer(&app).await;
    let agent = fx::configured_trading(&app, &c, "Desk").await;
    goal(&app, &c, &agent, GUARDRAIL, "daily", json!({})).await;
    let base = format!("/hired-agents/{agent}/deliverables");
    for (query, expected) in [
        ("status=bogus", vec!["status"]),
        ("as_of=yesterday", vec!["as_of"]),
        ("limit=0", vec!["limit"]),
        ("limit=501", vec!["limit"]),
        ("limit=ten", vec!["limit"]),
        (
            "status=Approved&as_of=2026-13-01T00:00:00Z&limit=-1",
            vec!["as_of", "status", "limit"],
        ),
    ] {
        let (s, problem) = get(&app, &c.token, &format!("{base}?{query}")).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{query}: {problem}");
        assert_eq!(paths(&problem), expected, "{query}");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM deliverables").await, 0);

    for day in 1..=5 {
        list_at(&app, &c.token, &agent, &format!("2026-03-0{day}T10:00:00Z")).await;
    }
    let all = ids(&list_at(&app, &c.token, &agent, "2026-03-05T11:00:00Z").await);
    assert_eq!(all.len(), 5);
    let mut seen = vec![];
    let mut after = String::new();
    loop {
        let q = if after.is_empty() {
            format!("{base}?limit=2&as_of=2026-03-05T11:00:00Z")
        } else {
            format!("{base}?limit=2&after={after}&as_of=2026-03-05T11:00:00Z")
        };
        let (s, page) = get(&app, &c.token, &q).await;
        assert_eq!(s, StatusCode::OK, "{page}");
        let page_ids = ids(page["deliverables"].as_array().unwrap());
        assert!(page_ids.len() <= 2);
        seen.extend(page_ids.clone());
        match page["next_after"].as_str() {
            Some(next) => {
                assert_eq!(page_ids.len(), 2);
                assert_eq!(next, page_ids[1]);
                after = next.to_string();
            }
            None => break,
        }
    }
    assert_eq!(seen, all, "the pages, in order, are the whole list");
}

async fn session_writes_need_the_csrf_header(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let (c, agent, del) = pending_batch(&app).await;
    let browser = &c.client;
    // Reads through the session need nothing more.
    let res = browser
        .get(&format!("/api/v1/hired-agents/{agent}/deliverables"))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let review = browser.url(&format!("/api/v1/deliverables/{del}/review"));
    let approve = json!({"decision": "approved"});
    let res = browser
        .http
        .post(&review)
        .json(&approve)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let problem: Value = res.json().await.unwrap();
    assert_eq!(problem["code"], "csrf_invalid", "{problem}");
    assert_eq!(app.count("SELECT COUNT(*) FROM approvals").await, 0);
    let csrf = browser.csrf().await;
    let res = browser
        .http
        .post(&review)
        .header("x-csrf-token", &csrf)
        .json(&approve)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let decided: Value = res.json().await.unwrap();
    let res = browser
        .http
        .post(browser.url(&format!("/api/v1/deliverables/{del}/execute")))
        .header("x-csrf-token", &csrf)
        .json(&json!({"approval_id": decided["approval_id"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(app.count("SELECT COUNT(*) FROM approvals").await, 1);
}
