//! Hired agents for tests that need one: bought through the real checkout API, then saved through
//! the services the pages and the API call (as the customer).

use agentdesk::clock::Clock;
use agentdesk::config::Secret;
use agentdesk::domain::actor::{Actor, Scope};
use agentdesk::domain::billing::settings::BillingSettings;
use agentdesk::keys::Keys;
use agentdesk::service::goals::{self, GoalInput};
use agentdesk::service::hired_agents::{self, Edit};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::billing::{CustomerUser, TRADING, api, checkout};
use crate::helpers::TestApp;

pub const MARKETING: &str = "marketing.healthcare.v1";

/// The keys the test app derives from its secret key (see `spawn_app_with`).
pub fn keys() -> Keys {
    Keys::derive(&Secret::new(
        "test-secret-key-that-is-long-enough-0123456789",
    ))
}

pub fn actor(app: &TestApp) -> Actor {
    Actor::system("test-fixture", app.clock.now())
}

/// A new active subscription of `agent_type_id` for the customer; its id.
pub async fn subscribe(app: &TestApp, c: &CustomerUser, agent_type_id: &str) -> String {
    let (status, body) = checkout(
        app,
        &c.token,
        None,
        json!({"coupon_code": "WAOOAW100", "agent_type_id": agent_type_id, "duration": "monthly"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["subscription_id"].as_str().unwrap().to_string()
}

/// A stored credential of the customer (through `PUT /api/v1/credentials`); its reference.
pub async fn credential(app: &TestApp, c: &CustomerUser, label: &str, secret: &str) -> String {
    let (status, body) = api(
        app,
        &c.token,
        Method::PUT,
        "/credentials",
        None,
        Some(json!({"label": label, "secret": secret})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["credential_ref"].as_str().unwrap().to_string()
}

/// Saves an edit to the subscription's hired agent as the customer (creating it first).
pub async fn save(app: &TestApp, c: &CustomerUser, subscription_id: &str, edit: Edit) -> String {
    let saved = hired_agents::save_for_subscription(
        &app.db,
        &keys(),
        &BillingSettings::default(),
        &actor(app),
        &Scope::Customer(c.customer_id.clone()),
        subscription_id,
        edit,
    )
    .await
    .expect("the draft saves");
    saved.agent.id
}

/// A hired agent with only a nickname: not configured, no goals.
pub async fn hire(app: &TestApp, c: &CustomerUser, agent_type_id: &str, nickname: &str) -> String {
    let sub = subscribe(app, c, agent_type_id).await;
    save(
        app,
        c,
        &sub,
        Edit {
            nickname: Some(nickname.into()),
            ..Edit::default()
        },
    )
    .await
}

/// A complete trading configuration naming `credential_ref`.
pub fn trading_config(credential_ref: &str) -> Value {
    json!({"timezone": "Asia/Kolkata", "exchange_provider": "delta_exchange_india",
        "exchange_credential_ref": credential_ref, "allowed_coins": ["BTC", "ETH"], "default_coin": "BTC",
        "interval_seconds": 60, "risk_limits": {"max_units_per_order": 2}})
}

/// A configured trading agent (nickname, theme, complete config), without goals.
pub async fn configured_trading(app: &TestApp, c: &CustomerUser, nickname: &str) -> String {
    let sub = subscribe(app, c, TRADING).await;
    let cred = credential(app, c, "Delta key", "delta-secret-value").await;
    save(
        app,
        c,
        &sub,
        Edit {
            nickname: Some(nickname.into()),
            theme: Some("dark".into()),
            config: Some(trading_config(&cred)),
            ..Edit::default()
        },
    )
    .await
}

/// Adds an enabled goal as the customer; its id.
pub async fn add_goal(
    app: &TestApp,
    c: &CustomerUser,
    hired_agent_id: &str,
    template: &str,
    frequency: &str,
    settings: Value,
) -> String {
    goals::upsert(
        &app.db,
        &BillingSettings::default(),
        &actor(app),
        &Scope::Customer(c.customer_id.clone()),
        hired_agent_id,
        &GoalInput {
            goal_template_id: template.into(),
            frequency: frequency.into(),
            settings,
            ..GoalInput::default()
        },
    )
    .await
    .expect("the goal saves")
    .id
}
