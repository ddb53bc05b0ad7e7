//! Customers' credentials: write-only secrets, encrypted at rest, scoped to their customer, and
//! re-encrypted without loss when the key rotates.

use agentdesk::config::Secret;
use agentdesk::domain::actor::Actor;
use agentdesk::keys::Keys;
use agentdesk::service::credentials;
use reqwest::StatusCode;
use serde_json::json;

use crate::billing::{api, customer};
use crate::both_engines;
use crate::helpers::*;

both_engines!(
    secrets_go_in_and_never_come_back_out,
    rotating_the_key_keeps_every_secret
);

const TEST_KEY: &str = "test-secret-key-that-is-long-enough-0123456789";

async fn secrets_go_in_and_never_come_back_out(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let a = customer(&app).await;
    let b = customer(&app).await;
    let put = |token: String, body: serde_json::Value| {
        let app = &app;
        async move {
            api(
                app,
                &token,
                reqwest::Method::PUT,
                "/credentials",
                None,
                Some(body),
            )
            .await
        }
    };
    let secret = "dx-live-9f8e7d6c5b4a";
    let (s, created) = put(
        a.token.clone(),
        json!({"label": "Delta Exchange key", "secret": secret}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{created}");
    let cred = created["credential_ref"].as_str().unwrap().to_string();
    assert!(cred.starts_with("CRED-"));
    assert_eq!(created["label"], "Delta Exchange key");
    assert!(!created.to_string().contains(secret), "never answered back");

    // At rest it is ciphertext; the audit trail names it without the secret.
    let stored = app.text("SELECT sealed FROM credentials").await;
    assert!(!stored.contains(secret) && stored.len() > secret.len());
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'credential.created'")
            .await,
        1
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE CAST(after AS TEXT) LIKE '%dx-live%'")
            .await,
        0
    );
    let keys = Keys::derive(&Secret::new(TEST_KEY));
    assert_eq!(
        credentials::reveal(&app.db, &keys, &a.customer_id, &cred)
            .await
            .unwrap(),
        secret
    );

    // The list shows names, never secrets.
    let (s, list) = api(
        &app,
        &a.token,
        reqwest::Method::GET,
        "/credentials",
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(list["credentials"].as_array().unwrap().len(), 1);
    assert!(!list.to_string().contains(secret));

    // Replacing the secret keeps the reference.
    let (s, replaced) = put(
        a.token.clone(),
        json!({"label": "Delta key (rotated)", "secret": "dx-live-new", "credential_ref": cred}),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(replaced["credential_ref"], cred.as_str());
    assert_eq!(
        credentials::reveal(&app.db, &keys, &a.customer_id, &cred)
            .await
            .unwrap(),
        "dx-live-new"
    );

    // Another customer can neither replace it nor see it.
    let (s, _) = put(
        b.token.clone(),
        json!({"label": "mine now", "secret": "x", "credential_ref": cred}),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (_, theirs) = api(
        &app,
        &b.token,
        reqwest::Method::GET,
        "/credentials",
        None,
        None,
    )
    .await;
    assert_eq!(theirs["credentials"], json!([]));
    let (s, _) = api(
        &app,
        &b.token,
        reqwest::Method::GET,
        &format!("/credentials?customer_id={}", a.customer_id),
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // Bad input: field errors, nothing stored.
    let (s, problem) = put(a.token.clone(), json!({"label": " ", "secret": ""})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let paths: Vec<_> = problem["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["path"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(paths, ["label", "secret"]);
    assert_eq!(app.count("SELECT COUNT(*) FROM credentials").await, 1);

    // Staff name the customer; viewers only read.
    let (operator, _) = app.user_with_role("operator").await;
    let op = operator.api_token().await;
    let (s, _) = api(&app, &op, reqwest::Method::GET, "/credentials", None, None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = put(
        op.clone(),
        json!({"label": "Set up for them", "secret": "s3", "customer_id": a.customer_id}),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'credential.created' AND on_behalf_of IS NOT NULL").await, 1);
    let (viewer, _) = app.user_with_role("viewer").await;
    let vt = viewer.api_token().await;
    let (s, list) = api(
        &app,
        &vt,
        reqwest::Method::GET,
        &format!("/credentials?customer_id={}", a.customer_id),
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(list["credentials"].as_array().unwrap().len(), 2);
    let (s, _) = put(
        vt,
        json!({"label": "no", "secret": "no", "customer_id": a.customer_id}),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

async fn rotating_the_key_keeps_every_secret(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let mut stored = vec![];
    for n in 0..3 {
        let c = customer(&app).await;
        for m in 0..2 {
            let secret = format!("secret-{n}-{m}-ü€");
            let (s, info) = api(
                &app,
                &c.token,
                reqwest::Method::PUT,
                "/credentials",
                None,
                Some(json!({"label": format!("key {m}"), "secret": secret})),
            )
            .await;
            assert_eq!(s, StatusCode::OK);
            stored.push((
                c.customer_id.clone(),
                info["credential_ref"].as_str().unwrap().to_string(),
                secret,
            ));
        }
    }
    let old = Keys::derive(&Secret::new(TEST_KEY));
    let new = Keys::derive(&Secret::new(
        "a-brand-new-secret-key-for-rotation-0987654321",
    ));
    let actor = Actor::system("rotation-test", chrono::Utc::now());

    // With the wrong previous key nothing changes, and the error says which credential failed.
    let err = credentials::rotate(&app.db, &actor, &new, &new)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("CRED-") && err.contains("nothing was changed"),
        "{err}"
    );
    for (customer, id, secret) in &stored {
        assert_eq!(
            &credentials::reveal(&app.db, &old, customer, id)
                .await
                .unwrap(),
            secret
        );
    }

    assert_eq!(
        credentials::rotate(&app.db, &actor, &old, &new)
            .await
            .unwrap(),
        6
    );
    for (customer, id, secret) in &stored {
        assert_eq!(
            &credentials::reveal(&app.db, &new, customer, id)
                .await
                .unwrap(),
            secret,
            "nothing lost"
        );
        assert!(
            credentials::reveal(&app.db, &old, customer, id)
                .await
                .is_err(),
            "the old key no longer opens it"
        );
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'credential.keys_rotated'")
            .await,
        1
    );
}
