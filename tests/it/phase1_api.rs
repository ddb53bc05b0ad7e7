//! Clients written for the Phase-1 Plant API keep working: the same paths, the same shapes.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both_engines;
use crate::helpers::*;

both_engines!(phase1_agent_type_paths_and_shapes_are_kept);

/// Every key a Phase-1 field carries, nulls included.
const PHASE1_FIELD_KEYS: [&str; 7] = [
    "key",
    "label",
    "type",
    "required",
    "description",
    "options",
    "item_type",
];

async fn call(
    app: &TestApp,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = reqwest::Client::new()
        .request(method, format!("{}/api/v1{path}", app.base))
        .bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn phase1_agent_type_paths_and_shapes_are_kept(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let admin = app.admin().await.api_token().await;
    let get = |path: &'static str| call(&app, &admin, reqwest::Method::GET, path, None);

    // GET /agent-types and /agent-types/: a bare list of definitions with every Phase-1 key.
    for path in ["/agent-types", "/agent-types/"] {
        let (status, list) = get(path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        let list = list.as_array().expect("a JSON array");
        assert_eq!(list.len(), 2);
        for d in list {
            for key in [
                "agent_type_id",
                "version",
                "config_schema",
                "goal_templates",
                "enforcement_defaults",
            ] {
                assert!(d.get(key).is_some(), "{path}: {key}");
            }
            for f in d["config_schema"]["fields"].as_array().unwrap() {
                for key in PHASE1_FIELD_KEYS {
                    assert!(f.get(key).is_some(), "{path}: field key {key} in {f}");
                }
            }
        }
    }
    // GET /agent-types/{id}: the live definition itself.
    let (status, d) = get("/agent-types/marketing.healthcare.v1").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(d["agent_type_id"], "marketing.healthcare.v1");
    assert_eq!(d["version"], "1.0.0");
    assert_eq!(d["config_schema"]["fields"].as_array().unwrap().len(), 11);
    assert_eq!(
        get("/agent-types/no.such.type").await.0,
        StatusCode::NOT_FOUND
    );

    // PUT /agent-types/{id}: the body's version becomes live.
    let mut doc = d.clone();
    doc["version"] = json!("1.1.0");
    doc["config_schema"]["fields"][0]["label"] = json!("Agent name");
    let put = |body: Value| {
        call(
            &app,
            &admin,
            reqwest::Method::PUT,
            "/agent-types/marketing.healthcare.v1",
            Some(body),
        )
    };
    let (status, live) = put(doc.clone()).await;
    assert_eq!(status, StatusCode::OK, "{live}");
    assert_eq!(live["version"], "1.1.0");
    let (_, now_live) = get("/agent-types/marketing.healthcare.v1").await;
    assert_eq!(
        now_live["config_schema"]["fields"][0]["label"],
        "Agent name"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM agent_type_versions WHERE id = 'marketing.healthcare.v1@1.1.0' AND status = 'published' AND published_by IS NOT NULL").await,
        1,
        "published, by the admin"
    );
    // The same request again is harmless; a different body for a published version is refused.
    let audit_before = app.count("SELECT COUNT(*) FROM audit_log").await;
    assert_eq!(put(doc.clone()).await.0, StatusCode::OK);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log").await,
        audit_before,
        "nothing changed"
    );
    let mut changed = doc.clone();
    changed["config_schema"]["fields"][0]["label"] = json!("Something else");
    let (status, problem) = put(changed).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(problem["code"], "version_not_editable");
    // Phase 1's mismatch answer.
    let mut other = doc.clone();
    other["agent_type_id"] = json!("trading.delta_futures.v1");
    let (status, problem) = put(other).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(problem["detail"], "agent_type_id mismatch");
    // Only admins author definitions.
    let (viewer, _) = app.user_with_role("viewer").await;
    let viewer = viewer.api_token().await;
    let (status, _) = call(
        &app,
        &viewer,
        reqwest::Method::PUT,
        "/agent-types/marketing.healthcare.v1",
        Some(doc),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}
