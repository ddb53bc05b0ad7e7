//! Headers, errors, limits, health and metrics.

use reqwest::StatusCode;
use serde_json::Value;

use crate::both_engines;
use crate::helpers::*;

both_engines!(
    every_response_carries_security_headers,
    oversized_bodies_get_413,
    unknown_pages_get_a_helpful_404,
    readiness_follows_the_database,
    metrics_count_requests,
    the_pool_gauge_counts_every_open_connection,
    static_assets_are_served_with_cache_headers,
);

async fn every_response_carries_security_headers(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let c = app.client();
    for path in [
        "/login",
        "/admin",
        "/api/v1/me",
        "/health/live",
        "/nope",
        "/static/app.css",
    ] {
        let res = c.get(path).await;
        let h = res.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        for part in [
            "default-src 'self'",
            "frame-ancestors 'none'",
            "form-action 'self'",
            "base-uri 'none'",
        ] {
            assert!(csp.contains(part), "{path}: {csp}");
        }
        assert!(!csp.contains("unsafe-inline"));
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert!(h.contains_key("referrer-policy"), "{path}");
        assert!(
            !h["x-correlation-id"].to_str().unwrap().is_empty(),
            "{path}"
        );
    }
    // The visitor's CSRF cookie and the session cookie are HttpOnly and SameSite=Lax.
    let res = app.client().get("/login").await;
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        cookie.starts_with("agentdesk_csrf=")
            && cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let signing_in = app.client().login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let session_cookie = signing_in
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|v| v.starts_with("agentdesk_session="))
        .expect("a session cookie at sign-in");
    assert!(
        session_cookie.contains("HttpOnly") && session_cookie.contains("SameSite=Lax"),
        "{session_cookie}"
    );
    // No inline script anywhere in a page.
    let body = res.text().await.unwrap();
    assert!(
        !body.contains("<script>") && !body.contains("onclick="),
        "inline script found"
    );
    // A correlation id sent by the client is echoed.
    let res = c
        .http
        .get(c.url("/health/live"))
        .header("X-Correlation-ID", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-correlation-id"], "abc-123");
}

async fn oversized_bodies_get_413(engine: Engine) {
    let Some(app) = spawn_app_with(
        engine,
        Options {
            body_limit: Some(4096),
            ..Options::default()
        },
    )
    .await
    else {
        return;
    };
    let c = app.admin().await;
    let token = c.csrf().await;
    let big = "x".repeat(10_000);
    let res = c
        .http
        .post(c.url("/account/tokens"))
        .form(&[("name", big.as_str()), ("_csrf", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(res.text().await.unwrap().contains("Request too large"));
    let res = c
        .http
        .post(c.url("/api/v1/me"))
        .bearer_auth("x")
        .body(big.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let problem: Value = res.json().await.unwrap();
    assert_eq!(problem["status"], 413);
    assert_eq!(app.count("SELECT COUNT(*) FROM api_tokens").await, 0);
}

async fn unknown_pages_get_a_helpful_404(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let c = app.admin().await;
    let (status, body) = c.page("/admin/users/999999").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body.contains("Not found") && body.contains("Go back") && body.contains("Reference:"));
    let (status, _) = c.page("/no/such/page").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn readiness_follows_the_database(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let c = app.client();
    let signed_in = app.admin().await;
    let res = c.get("/health/ready").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap()["database"], "ok");

    // Make the database unreachable, then bring it back: no restart in between.
    match engine {
        Engine::Sqlite => {
            let file = app.test_db.sqlite_file().unwrap();
            let moved = file.with_extension("away");
            std::fs::rename(&file, &moved).unwrap();
            assert_eq!(
                c.get("/health/ready").await.status(),
                StatusCode::SERVICE_UNAVAILABLE
            );
            assert_eq!(
                c.get("/health/live").await.status(),
                StatusCode::OK,
                "alive while not ready"
            );
            std::fs::rename(&moved, &file).unwrap();
            // Connections already open still reach the moved file, so pages go on working; what a
            // page meets when SQLite cannot serve it is the pool running dry. Hold every connection.
            let agentdesk::db::Db::Sqlite(pool) = &app.db else {
                unreachable!()
            };
            let mut held = vec![];
            while let Ok(Ok(conn)) =
                tokio::time::timeout(std::time::Duration::from_millis(300), pool.acquire()).await
            {
                held.push(conn);
            }
            assert!(!held.is_empty());
            page_says_database_unreachable(&signed_in).await;
            drop(held);
        }
        Engine::Postgres => {
            let name = app.test_db.pg_name().unwrap().to_string();
            // Connections dropped by the server while idle (a failover, a restart) cost at most
            // one page, however many the worker kept.
            let warm =
                futures_util::future::join_all((0..4).map(|_| signed_in.page("/admin"))).await;
            assert!(warm.iter().all(|(status, _)| *status == StatusCode::OK));
            pg_admin(&format!(
                "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity \
                 WHERE datname = '{name}'"
            ))
            .await;
            let mut failed = 0;
            for _ in 0..6 {
                let (status, body) = signed_in.page("/admin").await;
                match status {
                    StatusCode::SERVICE_UNAVAILABLE => failed += 1,
                    _ => assert_eq!(
                        status,
                        StatusCode::OK,
                        "{}",
                        body.split("<main").nth(1).unwrap_or(&body)
                    ),
                }
            }
            assert!(failed <= 1, "{failed} pages failed");
            assert_eq!(signed_in.page("/admin").await.0, StatusCode::OK);

            pg_admin(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS false")).await;
            pg_admin(&format!(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
            ))
            .await;
            assert_eq!(
                c.get("/health/ready").await.status(),
                StatusCode::SERVICE_UNAVAILABLE
            );
            assert_eq!(
                c.get("/health/live").await.status(),
                StatusCode::OK,
                "alive while not ready"
            );
            // Pages say what is wrong, with 503, instead of a generic failure.
            page_says_database_unreachable(&signed_in).await;
            pg_admin(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true")).await;
        }
    }
    let res = c.get("/health/ready").await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "ready again without a restart"
    );
    // And the app works again.
    assert_eq!(
        c.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
}

async fn metrics_count_requests(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let c = app.client();
    c.get("/login").await;
    c.get("/login").await;
    let (status, body) = c.page("/metrics").await;
    assert_eq!(status, StatusCode::OK, "loopback may scrape");
    assert!(
        body.contains(
            "agentdesk_http_requests_total{method=\"GET\",route=\"/login\",status=\"200\"} 2"
        ),
        "{body}"
    );
    assert!(body.contains("agentdesk_http_request_duration_seconds_bucket{route=\"/login\""));
    assert!(body.contains("agentdesk_db_pool_connections{state=\"idle\"}"));
}

fn gauge(body: &str, state: &str) -> i64 {
    let prefix = format!("agentdesk_db_pool_connections{{state=\"{state}\"}} ");
    body.lines()
        .find_map(|l| l.strip_prefix(prefix.as_str()))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {state} gauge in {body}"))
}

/// Each HTTP worker keeps connections of its own on PostgreSQL: the gauge must count them with
/// the start-up pool's, as the database sees them.
async fn the_pool_gauge_counts_every_open_connection(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let c = app.admin().await;
    let (status, _) = c.page("/admin/reviews").await;
    assert_eq!(status, StatusCode::OK);
    let (_, body) = c.page("/metrics").await;
    let open = gauge(&body, "idle") + gauge(&body, "in_use");
    match engine {
        Engine::Postgres => {
            let backends = app
                .count(
                    "SELECT count(*) FROM pg_stat_activity \
                     WHERE datname = current_database() AND backend_type = 'client backend'",
                )
                .await;
            assert_eq!(open, backends, "{body}");
            assert!(open >= 2, "the worker's pool and the start-up pool: {body}");
        }
        Engine::Sqlite => assert!((1..=5).contains(&open), "{body}"),
    }
}

async fn static_assets_are_served_with_cache_headers(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let c = app.client();
    let res = c.get("/static/vendor/htmx-2.0.11.min.js").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    let (_, login) = c.page("/login").await;
    for asset in [
        "/static/vendor/htmx-2.0.11.min.js",
        "/static/vendor/pico-2.1.1.min.css",
        "/static/app.css",
        "/static/app.js",
    ] {
        assert!(login.contains(asset), "layout links {asset}");
        assert_eq!(c.get(asset).await.status(), StatusCode::OK, "{asset}");
    }
    // Sent byte for byte: an HTTP client would normalise the dots away before sending.
    for target in [
        "/static/../Cargo.toml",
        "/static/%2e%2e/Cargo.toml",
        "/static/..%2fCargo.toml",
        "/static/vendor/../../src/main.rs",
    ] {
        let (status, body) = raw_get(&app.base, target).await;
        assert!(status == 404 || status == 400, "{target}: {status}");
        assert!(
            !body.contains("[package]") && !body.contains("fn main"),
            "{target}"
        );
    }
}

/// A signed-in page while the database cannot serve it: 503 with a sentence that says why.
async fn page_says_database_unreachable(c: &Client) {
    let (status, body) = c.page("/admin").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(
        body.contains("Temporarily unavailable") && body.contains("database is not reachable"),
        "{body}"
    );
}

/// A GET sent exactly as written, over a plain TCP connection: (status, whole response).
async fn raw_get(base: &str, target: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, text)
}
