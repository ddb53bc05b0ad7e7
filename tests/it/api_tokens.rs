use reqwest::StatusCode;
use serde_json::Value;

use crate::both_engines;
use crate::helpers::*;

both_engines!(
    bearer_tokens_work_until_revoked,
    garbage_tokens_get_401_problems,
    token_form_validates_its_name
);

async fn create_token(c: &Client, name: &str) -> String {
    let res = c.post_form("/account/tokens", &[("name", name)]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "post/redirect/get");
    let (_, body) = c.page("/account/tokens").await;
    let start = body
        .find("id=\"new-token-value\">")
        .expect("token shown once")
        + "id=\"new-token-value\">".len();
    let token = body[start..start + body[start..].find('<').unwrap()].to_string();
    // A reload shows the list, not the token again.
    let (_, again) = c.page("/account/tokens").await;
    assert!(!again.contains("new-token-value"), "shown only once");
    assert!(!again.contains(&token));
    token
}

async fn me(app: &TestApp, token: &str) -> reqwest::Response {
    app.client()
        .http
        .get(format!("{}/api/v1/me", app.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

async fn bearer_tokens_work_until_revoked(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let (customer, email) = app.user_with_role("customer").await;
    let token = create_token(&customer, "billing sync").await;
    assert!(token.starts_with("adk_"));

    let res = me(&app, &token).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["email"], email.as_str());
    assert_eq!(body["role"], "customer");
    assert!(body["customer_id"].as_str().unwrap().starts_with("CUS-"));
    assert!(body["id"].is_i64());

    // Listed with name and last use; the token itself is never shown again.
    let (_, page) = customer.page("/account/tokens").await;
    assert!(page.contains("billing sync"));
    assert!(!page.contains(&token));
    assert!(!page.contains(">never<"), "last used is recorded");
    // A bearer-token write needs no CSRF token: it carries no cookie authority.
    let res = app
        .client()
        .http
        .post(format!("{}/account/tokens", app.base))
        .bearer_auth(&token)
        .form(&[("name", "made with a token")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    // The same session works for the API too.
    assert_eq!(customer.get("/api/v1/me").await.status(), StatusCode::OK);

    let id = app.count("SELECT MIN(id) FROM api_tokens").await;
    let res = customer
        .post_form(&format!("/account/tokens/{id}/revoke"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(me(&app, &token).await.status(), StatusCode::UNAUTHORIZED);
    let (_, page) = customer.page("/account/tokens").await;
    assert!(page.contains("revoked"));

    // Someone else's token cannot be revoked by id (404, existence does not leak).
    let other = app.admin().await;
    let t2 = create_token(&other, "admin's").await;
    let id2 = app.count("SELECT MAX(id) FROM api_tokens").await;
    assert_eq!(
        customer
            .post_form(&format!("/account/tokens/{id2}/revoke"), &[])
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(me(&app, &t2).await.status(), StatusCode::OK);
    // A disabled user's tokens stop working.
    let admin_id = app.count("SELECT MIN(id) FROM users").await;
    let customer_id = app
        .count("SELECT MAX(id) FROM users WHERE role = 'customer'")
        .await;
    assert_ne!(admin_id, customer_id);
    let t3 = create_token(&customer, "second").await;
    other
        .post_form(&format!("/admin/users/{customer_id}/disable"), &[])
        .await;
    assert_eq!(me(&app, &t3).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM audit_log WHERE entity_type = 'api_token' AND action = 'revoked'"
        )
        .await,
        1
    );
}

async fn garbage_tokens_get_401_problems(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    for token in [
        "garbage",
        "adk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "' OR 1=1 --",
    ] {
        let res = me(&app, token).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{token}");
        assert_eq!(res.headers()["content-type"], "application/problem+json");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["status"], 401);
        assert_eq!(body["instance"], "/api/v1/me");
        assert!(!body["correlation_id"].as_str().unwrap().is_empty());
    }
    // Methods a route does not take get a problem document too.
    let res = app
        .client()
        .http
        .post(format!("{}/api/v1/me", app.base))
        .bearer_auth("garbage")
        .send()
        .await
        .unwrap();
    assert!(res.status().is_client_error());
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    // Unknown API paths are problem documents too.
    let res = app.client().get("/api/v1/nothing-here").await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
}

async fn token_form_validates_its_name(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let c = app.admin().await;
    let res = c.post_form("/account/tokens", &[("name", "")]).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Give the token a name of 1 to 100 characters.")
    );
    let long = "x".repeat(101);
    assert_eq!(
        c.post_form("/account/tokens", &[("name", &long)])
            .await
            .status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM api_tokens").await, 0);
}
