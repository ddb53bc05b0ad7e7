//! Hired agents through the services and pages: configured, trials, pause, goals.

use reqwest::StatusCode;
use serde_json::json;

use crate::agents_fixture::{self as fx};
use crate::billing::customer;
use crate::helpers::{Engine, spawn_app};

async fn a_configured_agent_with_a_goal_starts_its_trial_once(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let c = customer(&app).await;
    let id = fx::configured_trading(&app, &c, "Desk").await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM hired_agents WHERE configured = TRUE")
            .await,
        1
    );
    fx::add_goal(
        &app,
        &c,
        &id,
        "trading.guardrail_report.v1",
        "daily",
        json!({}),
    )
    .await;
    fx::hire(&app, &c, fx::MARKETING, "Clinic").await;
    assert_eq!(app.count("SELECT COUNT(*) FROM hired_agents").await, 2);
    let (status, _) = c.client.page("/portal").await;
    assert_eq!(status, StatusCode::OK);
}
crate::both_engines!(a_configured_agent_with_a_goal_starts_its_trial_once);
