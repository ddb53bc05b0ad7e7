//! What a security review tried: characters no text column should hold, unsupported methods,
//! signed-out API writes, anonymous session rows, stored session keys, the idle deadline, proxies,
//! the key file, and error pages that keep the signed-in context.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both_engines;
use crate::helpers::*;

both_engines!(
    every_route_refuses_nul_and_bidi_characters_in_the_address,
    form_fields_and_json_strings_with_control_characters_get_422,
    unsupported_methods_answer_405_with_allow,
    signed_out_api_writes_get_401_problems,
    visitors_who_do_not_sign_in_leave_no_session_rows,
    session_rows_hold_only_hashes_and_are_not_rewritten_when_unchanged,
    error_pages_keep_the_signed_in_header,
    forwarded_for_counts_only_behind_a_trusted_proxy,
    a_key_kept_in_the_database_moves_to_a_private_key_file,
    oversized_definitions_get_422_on_both_engines,
);

async fn oversized_definitions_get_422_on_both_engines(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let token = app.admin().await.api_token().await;
    let post = |doc: Value| {
        let url = format!("{}/api/v1/agent-types", app.base);
        let token = token.clone();
        async move {
            let res = reqwest::Client::new()
                .post(url)
                .bearer_auth(token)
                .json(&doc)
                .send()
                .await
                .unwrap();
            (res.status(), res.json::<Value>().await.unwrap())
        }
    };
    let base = |version: &str, fields: Vec<Value>| {
        json!({
            "agent_type_id": "big.v1",
            "version": version,
            "config_schema": {"fields": fields},
            "goal_templates": [],
            "enforcement_defaults": {"approval_required": true, "deterministic": false}
        })
    };
    // A 3 000-character pre-release: PostgreSQL could not even index it.
    let (status, problem) = post(base(&format!("1.0.0-{}", "a".repeat(3000)), vec![])).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(problem["violations"][0]["path"], "version");
    // Ten thousand fields: one clear problem, not ten thousand.
    let fields: Vec<Value> = (0..10_000)
        .map(|i| json!({"key": format!("f{i}"), "label": "F", "type": "text"}))
        .collect();
    let (status, problem) = post(base("1.0.0", fields)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        problem["violations"].as_array().unwrap().len(),
        1,
        "{problem}"
    );
    assert_eq!(problem["violations"][0]["path"], "config_schema.fields");
    // A pattern that needs backtracking is refused where it is written.
    let (status, problem) = post(base(
        "1.0.0",
        vec![json!({"key": "code", "label": "Code", "type": "text", "pattern": "(?<=a)(a*)*$"})],
    ))
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        problem["violations"][0]["path"],
        "config_schema.fields[0].pattern"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM agent_type_versions WHERE agent_type_id = 'big.v1'")
            .await,
        0,
        "nothing stored"
    );
}

/// Every route pattern the app serves, with each parameter replaced by `{}`; a new route belongs
/// here too.
const ROUTES: &[(&str, &str)] = &[
    ("GET", "/"),
    ("GET", "/login"),
    ("POST", "/login"),
    ("POST", "/logout"),
    ("GET", "/account/password"),
    ("POST", "/account/password"),
    ("GET", "/account/tokens"),
    ("POST", "/account/tokens"),
    ("POST", "/account/tokens/{}/revoke"),
    ("GET", "/admin"),
    ("GET", "/admin/users"),
    ("POST", "/admin/users"),
    ("GET", "/admin/users/new"),
    ("GET", "/admin/users/{}"),
    ("POST", "/admin/users/{}/role"),
    ("POST", "/admin/users/{}/disable"),
    ("POST", "/admin/users/{}/enable"),
    ("POST", "/admin/users/{}/password"),
    ("POST", "/admin/tokens/{}/revoke"),
    ("GET", "/admin/hired-agents"),
    ("GET", "/admin/hired-agents.csv"),
    ("GET", "/admin/agent-types"),
    ("POST", "/admin/agent-types"),
    ("GET", "/admin/agent-types/new"),
    ("GET", "/admin/agent-types/{}"),
    ("GET", "/admin/agent-types/{}/compare"),
    ("GET", "/admin/agent-types/{}/versions/{}"),
    ("GET", "/admin/agent-types/{}/versions/{}/edit"),
    ("POST", "/admin/agent-types/{}/versions/{}/edit"),
    ("POST", "/admin/agent-types/{}/versions/{}/preview"),
    ("POST", "/admin/agent-types/{}/versions/{}/preview/validate"),
    ("POST", "/admin/agent-types/{}/versions/{}/publish"),
    ("POST", "/admin/agent-types/{}/versions/{}/retire"),
    ("GET", "/portal"),
    ("GET", "/forms/row"),
    ("GET", "/forms/removed"),
    ("GET", "/health/live"),
    ("GET", "/health/ready"),
    ("GET", "/metrics"),
    ("GET", "/static/{}"),
    ("GET", "/api/v1/me"),
    ("GET", "/api/v1/agent-types"),
    ("POST", "/api/v1/agent-types"),
    ("GET", "/api/v1/agent-types/{}"),
    ("GET", "/api/v1/agent-types/{}/versions/{}"),
    ("PUT", "/api/v1/agent-types/{}/versions/{}"),
    ("POST", "/api/v1/agent-types/{}/versions/{}/publish"),
    ("POST", "/api/v1/agent-types/{}/versions/{}/retire"),
    (
        "GET",
        "/api/v1/agent-types/{}/versions/{}/config.schema.json",
    ),
    (
        "GET",
        "/api/v1/agent-types/{}/versions/{}/goal-templates/{}/settings.schema.json",
    ),
];

async fn send(c: &Client, method: &str, path: &str) -> (StatusCode, String, String) {
    let url = c.url(path);
    let req = match method {
        "GET" => c.http.get(url),
        "POST" => c.http.post(url),
        "PUT" => c.http.put(url),
        other => panic!("method {other}"),
    };
    let res = req.send().await.unwrap();
    let status = res.status();
    let ct = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, ct, res.text().await.unwrap())
}

async fn every_route_refuses_nul_and_bidi_characters_in_the_address(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let admin = app.admin().await;
    for (method, pattern) in ROUTES {
        let mut tried = vec![];
        // In a path segment (where the route has one), and in a query value (everywhere).
        if pattern.contains("{}") {
            tried.push(pattern.replace("{}", "x%00y"));
            tried.push(pattern.replace("{}", "abc%E2%80%AEfed"));
        }
        let plain = pattern.replace("{}", "marketing.healthcare.v1");
        tried.push(format!("{plain}?q=n%00ul"));
        tried.push(format!("{plain}?next=%E2%81%A6x"));
        for path in tried {
            let (status, ct, body) = send(&admin, method, &path).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{method} {path}: {body}");
            assert!(
                body.contains("such characters are not accepted"),
                "{method} {path}: {body}"
            );
            if path.starts_with("/api/") {
                assert!(ct.starts_with("application/problem+json"), "{path}: {ct}");
            }
        }
    }
    // Ordinary non-ASCII text is welcome.
    let (status, _) = admin.page("/admin/users?q=%C3%89cole").await;
    assert_eq!(status, StatusCode::OK);
}

async fn form_fields_and_json_strings_with_control_characters_get_422(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let admin = app.admin().await;
    let res = admin
        .post_form("/account/tokens", &[("name", "n\u{0}ul")])
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = res.text().await.unwrap();
    assert!(body.contains("contains a NUL character"), "{body}");
    let res = admin
        .post_form("/account/tokens", &[("name", "evil\u{202e}txt.exe")])
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM api_tokens").await,
        0,
        "nothing saved"
    );
    // Line breaks in a text area are fine.
    let res = admin
        .post_form("/account/tokens", &[("name", "two\r\nlines")])
        .await;
    assert_ne!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let token = admin.api_token().await;
    let res = reqwest::Client::new()
        .post(admin.url("/api/v1/agent-types"))
        .bearer_auth(&token)
        .json(
            &json!({"agent_type_id": "x\u{0}y", "display_name": {"nested": ["ok", "b\u{202e}d"]}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = res.json().await.unwrap();
    let paths: Vec<&str> = problem["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        ["agent_type_id", "display_name.nested[1]"],
        "{problem}"
    );
}

async fn unsupported_methods_answer_405_with_allow(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let admin = app.admin().await;
    let token = admin.api_token().await;
    let res = admin
        .http
        .post(admin.url("/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(res.headers()["allow"], "GET");
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/problem+json")
    );
    let problem: Value = res.json().await.unwrap();
    assert_eq!(problem["status"], 405);
    assert_eq!(problem["code"], "method_not_allowed");

    let csrf = admin.csrf().await;
    let res = admin
        .http
        .delete(admin.url("/account/tokens"))
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    let allow = res.headers()["allow"].to_str().unwrap().to_string();
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");
    assert!(res.text().await.unwrap().contains("Method not allowed"));
    // Unknown addresses stay 404.
    let res = admin
        .http
        .post(admin.url("/nowhere"))
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

async fn signed_out_api_writes_get_401_problems(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let c = app.client();
    for (method, path) in [
        ("POST", "/api/v1/agent-types"),
        ("PUT", "/api/v1/agent-types/x/versions/1.0.0"),
        ("POST", "/api/v1/agent-types/x/versions/1.0.0/publish"),
    ] {
        let (status, ct, body) = send(&c, method, path).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path}: {body}");
        assert!(ct.starts_with("application/problem+json"), "{ct}");
        let problem: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(problem["type"], "urn:agentdesk:problem:unauthenticated");
    }
}

async fn visitors_who_do_not_sign_in_leave_no_session_rows(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    for _ in 0..20 {
        let c = app.client();
        assert_eq!(c.page("/login").await.0, StatusCode::OK);
        assert_eq!(c.page("/login?next=/admin").await.0, StatusCode::OK);
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions").await, 0);
    // The sign-in form still refuses a missing or forged token…
    let c = app.client();
    let _ = c.page("/login").await;
    let res = c
        .post_raw(
            "/login",
            &[
                ("email", ADMIN_EMAIL),
                ("password", ADMIN_PASSWORD),
                ("_csrf", "forged"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // …a token from another visitor's cookie…
    let other = app.client();
    let (_, page) = other.page("/login").await;
    let their_token = extract_csrf(&page).unwrap();
    let res = c
        .post_raw(
            "/login",
            &[
                ("email", ADMIN_EMAIL),
                ("password", ADMIN_PASSWORD),
                ("_csrf", &their_token),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions").await, 0);
    // …and accepts its own; only then is there a session.
    assert_eq!(
        c.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions").await, 1);
}

async fn session_rows_hold_only_hashes_and_are_not_rewritten_when_unchanged(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let admin = app.admin().await;
    assert_eq!(admin.page("/admin").await.0, StatusCode::OK);
    let key = app.text("SELECT session_key FROM sessions").await;
    assert!(
        key.len() == 64 && key.bytes().all(|b| b.is_ascii_hexdigit()),
        "a SHA-256 digest, not a key: {key}"
    );
    assert!(!admin.cookie_header().contains(&key));
    assert_eq!(
        app.count("SELECT COUNT(*) FROM app_settings WHERE key = 'secret_key'")
            .await,
        0,
        "the secret key is not kept in the database"
    );

    let expiry = || app.text("SELECT CAST(expires_at AS TEXT) FROM sessions");
    let first = expiry().await;
    // Seconds later, pages are served without writing the session back.
    app.clock.advance(chrono::Duration::seconds(30));
    for path in ["/admin", "/admin/users", "/admin/agent-types"] {
        assert_eq!(admin.page(path).await.0, StatusCode::OK, "{path}");
    }
    assert_eq!(expiry().await, first, "an unchanged session is not written");
    // Once the deadline is more than a minute stale it moves, so an active user stays signed in.
    app.clock.advance(chrono::Duration::minutes(2));
    assert_eq!(admin.page("/admin").await.0, StatusCode::OK);
    assert_ne!(expiry().await, first);
    app.clock.advance(chrono::Duration::minutes(29));
    assert_eq!(
        admin.page("/admin").await.0,
        StatusCode::OK,
        "still signed in"
    );
    app.clock.advance(chrono::Duration::minutes(31));
    assert_eq!(
        admin.page("/admin").await.0,
        StatusCode::SEE_OTHER,
        "idle too long"
    );
}

async fn error_pages_keep_the_signed_in_header(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let (viewer, email) = app.user_with_role("viewer").await;
    for (path, status) in [
        ("/admin/users", StatusCode::FORBIDDEN),
        ("/admin/agent-types/no.such.type", StatusCode::NOT_FOUND),
        ("/no/such/page", StatusCode::NOT_FOUND),
    ] {
        let (got, body) = viewer.page(path).await;
        assert_eq!(got, status, "{path}");
        assert!(body.contains(&email), "{path} shows who is signed in");
        assert!(body.contains("Sign out"), "{path}");
        assert!(!body.contains(">Sign in<"), "{path}");
    }
    // Signing out from an error page works (its form carries the session's token).
    let (_, page) = viewer.page("/no/such/page").await;
    let token = extract_csrf(&page).expect("the error page's sign-out form has a token");
    let res = viewer.post_raw("/logout", &[("_csrf", &token)]).await;
    assert_eq!(location(&res), "/login?signed_out=1");
}

async fn forwarded_for_counts_only_behind_a_trusted_proxy(engine: Engine) {
    // Without trusted proxies the header is ignored: every attempt counts against the peer.
    let Some(direct) = spawn_app(engine).await else {
        return;
    };
    fail_logins_from(&direct, "203.0.113.1", 20).await;
    let res = login_from(&direct, "203.0.113.2", "someone-else@example.com").await;
    assert_eq!(
        res,
        StatusCode::TOO_MANY_REQUESTS,
        "one client behind no proxy"
    );

    // Behind a trusted proxy each forwarded client is throttled on its own.
    let Some(proxied) = spawn_app_with(
        engine,
        Options {
            configure: Some(|s| {
                s.trusted_proxies = vec![agentdesk::config::IpRange::parse("127.0.0.0/8").unwrap()]
            }),
            ..Options::default()
        },
    )
    .await
    else {
        return;
    };
    fail_logins_from(&proxied, "203.0.113.1", 20).await;
    assert_eq!(
        login_from(&proxied, "203.0.113.1", "another@example.com").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        login_from(&proxied, "203.0.113.2", "another@example.com").await,
        StatusCode::UNAUTHORIZED,
        "another client is not blocked"
    );
    // A client cannot pick its address by writing the header itself: the proxy appends the real one.
    assert_eq!(
        login_from(&proxied, "203.0.113.2, 203.0.113.1", "another@example.com").await,
        StatusCode::TOO_MANY_REQUESTS
    );
}

async fn login_from(app: &TestApp, forwarded: &str, email: &str) -> StatusCode {
    let c = app.client();
    let (_, page) = c.page("/login").await;
    let token = extract_csrf(&page).unwrap();
    c.http
        .post(c.url("/login"))
        .header("x-forwarded-for", forwarded)
        .form(&[
            ("email", email),
            ("password", "wrong-password-here"),
            ("_csrf", &token),
        ])
        .send()
        .await
        .unwrap()
        .status()
}

async fn fail_logins_from(app: &TestApp, forwarded: &str, n: usize) {
    for i in 0..n {
        let email = format!("nobody{i}@example.com");
        assert_eq!(
            login_from(app, forwarded, &email).await,
            StatusCode::UNAUTHORIZED
        );
    }
}

async fn a_key_kept_in_the_database_moves_to_a_private_key_file(engine: Engine) {
    let Some(test_db) = TestDb::new(engine).await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("data/secret.key");
    let settings = agentdesk::config::Settings {
        database_url: test_db.url.clone(),
        secret_key: None,
        secret_key_file: key_file.display().to_string(),
        ..Default::default()
    };
    let clock = agentdesk::clock::SystemClock;
    let db = agentdesk::app::prepare_database(&settings, &clock)
        .await
        .unwrap();
    let legacy = "a-key-an-earlier-version-generated-0123456789";
    {
        let mut c = db.acquire().await.unwrap();
        agentdesk::db::kv::get_or_insert(c.conn(), "secret_key", legacy)
            .await
            .unwrap();
    }
    let secret = agentdesk::keys::master_secret(&db, &settings)
        .await
        .unwrap();
    assert_eq!(
        secret.expose(),
        legacy,
        "sessions signed with it stay valid"
    );
    assert_eq!(std::fs::read_to_string(&key_file).unwrap().trim(), legacy);
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "readable by its owner only");
    }
    let mut c = db.acquire().await.unwrap();
    assert_eq!(
        agentdesk::db::kv::get(c.conn(), "secret_key")
            .await
            .unwrap(),
        None,
        "gone from the database"
    );
    drop(c);
    // Later starts read the file.
    let again = agentdesk::keys::master_secret(&db, &settings)
        .await
        .unwrap();
    assert_eq!(again.expose(), legacy);
    db.close().await;
}
