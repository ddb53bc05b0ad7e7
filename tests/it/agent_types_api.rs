//! The agent type catalog through the JSON API.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both_engines;
use crate::helpers::*;

both_engines!(
    builtins_are_listed_and_exported_as_json_schema,
    draft_lifecycle_with_conflicts_and_audit,
    invalid_definitions_get_every_violation_with_its_path,
    customers_read_published_versions_only,
    seeding_is_idempotent_and_never_overwrites,
);

async fn token_for(app: &TestApp, role: &str) -> String {
    let c = if role == "admin" {
        app.admin().await
    } else {
        app.user_with_role(role).await.0
    };
    c.api_token().await
}

struct Api<'a> {
    app: &'a TestApp,
    token: String,
}

impl Api<'_> {
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self
            .app
            .client()
            .http
            .request(method, format!("{}/api/v1{path}", self.app.base))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.unwrap();
        let status = res.status();
        let text = res.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }
    async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call(reqwest::Method::GET, path, None).await
    }
    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }
    async fn put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(reqwest::Method::PUT, path, Some(body)).await
    }
}

async fn builtins_are_listed_and_exported_as_json_schema(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let api = Api {
        app: &app,
        token: token_for(&app, "admin").await,
    };
    let (status, list) = api.get("/agent-types").await;
    assert_eq!(status, StatusCode::OK);
    // Phase-1 shape: a bare list of definitions.
    let ids: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            format!(
                "{}@{}",
                d["agent_type_id"].as_str().unwrap(),
                d["version"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        ids,
        [
            "trading.delta_futures.v1@1.0.0",
            "marketing.healthcare.v1@1.0.0"
        ],
        "by display name"
    );

    let (status, schema) = api
        .get("/agent-types/trading.delta_futures.v1/versions/1.0.0/config.schema.json")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    assert_eq!(schema["properties"]["interval_seconds"]["type"], "integer");
    assert_eq!(schema["properties"]["interval_seconds"]["minimum"], 1);
    assert_eq!(
        schema["properties"]["risk_limits"]["required"],
        json!(["max_units_per_order"])
    );
    assert_eq!(
        schema["properties"]["risk_limits"]["properties"]["max_notional_inr"]["exclusiveMinimum"],
        0
    );
    assert_eq!(schema["properties"]["theme"]["default"], "default");
    assert!(
        schema["required"]
            .as_array()
            .unwrap()
            .contains(&json!("exchange_credential_ref"))
    );
    // The export is a real JSON Schema: a standard validator accepts a good config and refuses a bad one.
    let validator = jsonschema::validator_for(&schema).unwrap();
    let good = json!({"nickname": "T", "theme": "dark", "timezone": "Asia/Kolkata", "exchange_provider": "delta_exchange_india",
        "exchange_credential_ref": "CRED-1", "allowed_coins": ["BTC"], "default_coin": "BTC", "interval_seconds": 60,
        "risk_limits": {"max_units_per_order": 2}});
    assert!(validator.is_valid(&good));
    let mut bad = good.clone();
    bad["interval_seconds"] = json!(0);
    assert!(!validator.is_valid(&bad));

    let (status, s) = api.get("/agent-types/trading.delta_futures.v1/versions/1.0.0/goal-templates/trading.trade_intent_draft.v1/settings.schema.json").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(s["properties"]["side"]["enum"], json!(["buy", "sell"]));
    assert_eq!(s["properties"]["units"]["exclusiveMinimum"], 0);
    assert_eq!(api.get("/agent-types/trading.delta_futures.v1/versions/1.0.0/goal-templates/nope/settings.schema.json").await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        api.get("/agent-types/nope/versions/1.0.0").await.0,
        StatusCode::NOT_FOUND
    );
}

fn minimal(version: &str) -> Value {
    json!({
        "agent_type_id": "support.helpdesk.v1", "version": version, "display_name": "Help desk",
        "config_schema": {"fields": [{"key": "nickname", "label": "Agent nickname", "type": "text", "required": true}]},
        "goal_templates": [{"goal_template_id": "support.daily_digest.v1", "name": "Daily digest", "default_frequency": "daily"}]
    })
}

async fn draft_lifecycle_with_conflicts_and_audit(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let api = Api {
        app: &app,
        token: token_for(&app, "admin").await,
    };
    let (status, created) = api.post("/agent-types", minimal("1.9.0")).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["status"], "draft");
    assert_eq!(created["id"], "support.helpdesk.v1@1.9.0");
    let (status, dup) = api.post("/agent-types", minimal("1.9.0")).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(dup["detail"].as_str().unwrap().contains("exists already"));
    // Clients branch on the code, not on the sentence.
    assert_eq!(dup["code"], "version_exists");
    assert_eq!(dup["type"], "urn:agentdesk:problem:version_exists");

    let mut changed = minimal("1.9.0");
    changed["display_name"] = json!("Help desk (beta)");
    let (status, updated) = api
        .put(
            "/agent-types/support.helpdesk.v1/versions/1.9.0",
            changed.clone(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["display_name"], "Help desk (beta)");

    // Drafts are invisible to the public list until published.
    let (_, list) = api.get("/agent-types").await;
    assert!(
        !list
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["agent_type_id"] == "support.helpdesk.v1")
    );
    let (_, with_drafts) = api.get("/agent-types?include=drafts").await;
    assert!(
        with_drafts
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["agent_type_id"] == "support.helpdesk.v1" && i["version"] == "1.9.0")
    );

    let (status, refused) = api
        .post(
            "/agent-types/support.helpdesk.v1/versions/1.9.0/retire",
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(refused["code"], "status_change_refused");
    let (status, published) = api
        .post(
            "/agent-types/support.helpdesk.v1/versions/1.9.0/publish",
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(published["status"], "published");
    // Published: immutable, with a hint.
    let (status, refused) = api
        .put("/agent-types/support.helpdesk.v1/versions/1.9.0", changed)
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(refused["code"], "version_not_editable");
    assert!(
        refused["detail"]
            .as_str()
            .unwrap()
            .contains("Create a new version (for example 1.10.0)"),
        "{refused}"
    );

    // 1.10.0 sorts after 1.9.0: it becomes the newest once published.
    let (status, _) = api
        .post(
            "/agent-types",
            json!({"copy_from": "support.helpdesk.v1@1.9.0", "version": "1.10.0"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    api.post(
        "/agent-types/support.helpdesk.v1/versions/1.10.0/publish",
        json!({}),
    )
    .await;
    let (_, t) = api.get("/agent-types/support.helpdesk.v1/versions").await;
    assert_eq!(t["newest_published"]["version"], "1.10.0");
    assert_eq!(t["versions"][0]["version"], "1.10.0");
    assert_eq!(t["versions"][1]["version"], "1.9.0");
    let (status, retired) = api
        .post(
            "/agent-types/support.helpdesk.v1/versions/1.10.0/retire",
            json!({}),
        )
        .await;
    assert_eq!(
        (status, retired["status"].as_str()),
        (StatusCode::OK, Some("retired"))
    );
    let (_, t) = api.get("/agent-types/support.helpdesk.v1/versions").await;
    assert_eq!(
        t["newest_published"]["version"], "1.9.0",
        "retired versions take no new hires"
    );
    assert_eq!(
        api.post(
            "/agent-types/support.helpdesk.v1/versions/1.10.0/publish",
            json!({})
        )
        .await
        .0,
        StatusCode::CONFLICT
    );
    // The version decides before the body: a published version answers 409 even to a broken body, a
    // missing one 404.
    assert_eq!(
        api.put(
            "/agent-types/support.helpdesk.v1/versions/1.9.0",
            json!({"nonsense": true})
        )
        .await
        .0,
        StatusCode::CONFLICT
    );
    assert_eq!(
        api.put(
            "/agent-types/support.helpdesk.v1/versions/7.7.7",
            minimal("7.7.7")
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
    // Pre-releases sort before their release, on both engines.
    for v in ["2.0.0", "2.0.0-rc.1"] {
        api.post("/agent-types", minimal(v)).await;
        api.post(
            &format!("/agent-types/support.helpdesk.v1/versions/{v}/publish"),
            json!({}),
        )
        .await;
    }
    let (_, t) = api.get("/agent-types/support.helpdesk.v1/versions").await;
    assert_eq!(t["newest_published"]["version"], "2.0.0");
    let order: Vec<&str> = t["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_str().unwrap())
        .collect();
    assert_eq!(order, ["2.0.0", "2.0.0-rc.1", "1.10.0", "1.9.0"]);

    for action in ["created", "updated", "published", "retired"] {
        let sql: &'static str = match action {
            "created" => {
                "SELECT COUNT(*) FROM audit_log WHERE entity_type = 'agent_type_version' AND action = 'created'"
            }
            "updated" => {
                "SELECT COUNT(*) FROM audit_log WHERE entity_type = 'agent_type_version' AND action = 'updated'"
            }
            "published" => {
                "SELECT COUNT(*) FROM audit_log WHERE entity_type = 'agent_type_version' AND action = 'published'"
            }
            _ => {
                "SELECT COUNT(*) FROM audit_log WHERE entity_type = 'agent_type_version' AND action = 'retired'"
            }
        };
        assert!(app.count(sql).await >= 1, "audited: {action}");
    }
    let with_before = app
        .count("SELECT COUNT(*) FROM audit_log WHERE entity_type = 'agent_type_version' AND action = 'updated' AND before IS NOT NULL AND after IS NOT NULL")
        .await;
    assert_eq!(with_before, 1);
}

async fn invalid_definitions_get_every_violation_with_its_path(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let api = Api {
        app: &app,
        token: token_for(&app, "admin").await,
    };
    let doc = json!({
        "agent_type_id": "Bad Id", "version": "1.0",
        "config_schema": {
            "fields": [
                {"key": "a", "label": "A", "type": "text"},
                {"key": "a", "label": "Again", "type": "text"},
                {"key": "coin", "label": "Coin", "type": "enum", "options": []},
                {"key": "n", "label": "N", "type": "integer", "min": 5, "max": 1, "default": "x"}
            ],
            "rules": [{"kind": "member_of", "field": "coin", "of": "missing"}]
        },
        "goal_templates": [
            {"goal_template_id": "t.one", "name": "One", "default_frequency": "hourly"},
            {"goal_template_id": "t.one", "name": "", "default_frequency": "daily"}
        ]
    });
    let (status, problem) = api.post("/agent-types", doc).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(problem["status"], 422);
    assert_eq!(problem["code"], "validation_failed");
    let v = problem["violations"].as_array().unwrap();
    let has = |path: &str, words: &str| {
        v.iter()
            .any(|x| x["path"] == path && x["message"].as_str().unwrap().contains(words))
    };
    assert!(has("agent_type_id", "lowercase"), "{problem}");
    assert!(has("version", "semantic version"));
    assert!(has("config_schema.fields[1].key", "used twice"));
    assert!(
        has(
            "config_schema.fields[2].options",
            "an enum field needs at least one option"
        ) || has(
            "config_schema.fields[2].options",
            "An enum field needs at least one option"
        )
    );
    assert!(has("config_schema.fields[3].max", "below the minimum"));
    assert!(has(
        "config_schema.fields[3].default",
        "must be a whole number"
    ));
    assert!(has("config_schema.rules[0].of", "no field"));
    assert!(has(
        "goal_templates[0].default_frequency",
        "daily, weekly, monthly or on_demand"
    ));
    assert!(has("goal_templates[1].goal_template_id", "used twice"));
    assert!(has("goal_templates[1].name", "needs a name"));
    // A misspelt property is named, not silently dropped.
    let mut typo = minimal("0.0.1");
    typo["config_schema"]["fields"][0]["requried"] = json!(true);
    let (status, problem) = api.post("/agent-types", typo).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        problem["violations"][0]["path"],
        "config_schema.fields[0].requried"
    );
    // A wrongly shaped document is named too.
    let (status, problem) = api.post("/agent-types", json!({"agent_type_id": "x.y", "version": "1.0.0", "config_schema": {"fields": [{"key": "k", "label": "K", "type": "colour"}]}})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        problem["violations"][0]["path"],
        "config_schema.fields[0].type"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM agent_type_versions").await,
        2,
        "nothing invalid is stored"
    );
}

async fn customers_read_published_versions_only(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let admin = Api {
        app: &app,
        token: token_for(&app, "admin").await,
    };
    admin.post("/agent-types", minimal("0.1.0")).await;
    let customer = Api {
        app: &app,
        token: token_for(&app, "customer").await,
    };
    assert_eq!(
        customer
            .get("/agent-types/support.helpdesk.v1/versions/0.1.0")
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        customer.get("/agent-types/support.helpdesk.v1").await.0,
        StatusCode::NOT_FOUND
    );
    let (_, list) = customer.get("/agent-types?include=drafts").await;
    assert_eq!(
        list.as_array().unwrap().len(),
        2,
        "customers never see drafts"
    );
    assert_eq!(
        customer
            .get("/agent-types/marketing.healthcare.v1/versions/1.0.0")
            .await
            .0,
        StatusCode::OK
    );
    // Writes need an admin.
    assert_eq!(
        customer.post("/agent-types", minimal("0.2.0")).await.0,
        StatusCode::FORBIDDEN
    );
    let operator = Api {
        app: &app,
        token: token_for(&app, "operator").await,
    };
    assert_eq!(
        operator
            .put(
                "/agent-types/support.helpdesk.v1/versions/0.1.0",
                minimal("0.1.0")
            )
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        operator
            .post(
                "/agent-types/support.helpdesk.v1/versions/0.1.0/publish",
                json!({})
            )
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        operator
            .get("/agent-types/support.helpdesk.v1/versions/0.1.0")
            .await
            .0,
        StatusCode::OK,
        "staff read drafts"
    );
    // Signed out: 401 problem.
    let res = app.client().get("/api/v1/agent-types").await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    // A session needs the CSRF header on writes.
    let c = app.admin().await;
    let res = c
        .http
        .post(c.url("/api/v1/agent-types"))
        .json(&minimal("0.3.0"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let token = c.csrf().await;
    let res = c
        .http
        .post(c.url("/api/v1/agent-types"))
        .header("X-CSRF-Token", token)
        .json(&minimal("0.3.0"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
}

async fn seeding_is_idempotent_and_never_overwrites(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    assert_eq!(
        app.count("SELECT COUNT(*) FROM agent_type_versions").await,
        2
    );
    app.exec("UPDATE agent_type_versions SET display_name = 'Renamed by staff' WHERE id = 'marketing.healthcare.v1@1.0.0'").await.unwrap();
    app.exec("UPDATE agent_type_versions SET status = 'retired' WHERE id = 'trading.delta_futures.v1@1.0.0'").await.unwrap();
    let ctx = agentdesk::domain::actor::Actor::system("test", chrono::Utc::now());
    let added = agentdesk::service::catalog::seed_builtins(&app.db, &ctx)
        .await
        .unwrap();
    assert!(added.is_empty());
    assert_eq!(
        app.count("SELECT COUNT(*) FROM agent_type_versions").await,
        2
    );
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM agent_type_versions WHERE display_name = 'Renamed by staff'"
        )
        .await,
        1
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM agent_type_versions WHERE status = 'retired'")
            .await,
        1,
        "a retired built-in stays retired"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'seeded'")
            .await,
        2
    );
}

both_engines!(
    phase1_documents_are_accepted_and_returned_unchanged,
    the_lists_type_filters_follow_the_catalog,
);

/// A Phase-1 document, sent as it is (every key, nulls included, none of the new keys), is stored and
/// comes back with the same keys and values.
async fn phase1_documents_are_accepted_and_returned_unchanged(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let api = Api {
        app: &app,
        token: token_for(&app, "admin").await,
    };
    for src in [
        include_str!("../fixtures/phase1-marketing.healthcare.v1.json"),
        include_str!("../fixtures/phase1-trading.delta_futures.v1.json"),
    ] {
        let mut doc: Value = serde_json::from_str(src).unwrap();
        doc["version"] = json!("0.9.0");
        let (status, created) = api.post("/agent-types", doc.clone()).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let path = format!(
            "/agent-types/{}/versions/0.9.0",
            doc["agent_type_id"].as_str().unwrap()
        );
        let (_, back) = api.get(&path).await;
        assert_eq!(back["definition"], doc);
    }
}

/// The staff lists' type filters (review queue, hired agents) name every type of the catalog. The
/// names are kept between requests: a change made through this instance shows at once, one made
/// elsewhere (another instance; here written straight to the database) within a few seconds.
async fn the_lists_type_filters_follow_the_catalog(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    const LISTS: [&str; 2] = ["/admin/reviews", "/admin/hired-agents"];
    let staff = app.admin().await;
    let shows = |page: &str, name: &str| {
        page.contains(&format!(
            "<option value=\"support.helpdesk.v1\">{name}</option>"
        ))
    };
    for list in LISTS {
        let (status, page) = staff.page(list).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("<select id=\"field-type\""), "{list}: {page}");
        assert!(!page.contains("support.helpdesk.v1"), "{list}");
    }
    let api = Api {
        app: &app,
        token: token_for(&app, "admin").await,
    };
    let (status, created) = api.post("/agent-types", minimal("1.9.0")).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    for list in LISTS {
        let (_, page) = staff.page(list).await;
        assert!(shows(&page, "Help desk"), "{list}: a new draft at once");
    }
    let mut renamed = minimal("1.9.0");
    renamed["display_name"] = json!("Help desk (beta)");
    let path = "/agent-types/support.helpdesk.v1/versions/1.9.0";
    let (status, _) = api.put(path, renamed).await;
    assert_eq!(status, StatusCode::OK);
    for list in LISTS {
        let (_, page) = staff.page(list).await;
        assert!(shows(&page, "Help desk (beta)"), "{list}: renamed at once");
    }
    app.exec(
        "UPDATE agent_type_versions SET display_name = 'Help desk (renamed elsewhere)' \
         WHERE id = 'support.helpdesk.v1@1.9.0'",
    )
    .await
    .unwrap();
    app.clock.advance(chrono::Duration::seconds(
        agentdesk::service::catalog::TYPE_NAMES_KEPT_SECONDS + 1,
    ));
    for list in LISTS {
        let (_, page) = staff.page(list).await;
        assert!(
            shows(&page, "Help desk (renamed elsewhere)"),
            "{list}: another instance's change within seconds"
        );
    }
}
