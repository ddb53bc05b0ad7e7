use agentdesk::clock::Clock;
use agentdesk::db::Db;
use reqwest::StatusCode;

use crate::both_engines;
use crate::helpers::*;

both_engines!(
    changes_are_audited_with_actor_and_correlation_id,
    audit_rows_cannot_be_changed_or_removed,
    staff_acting_for_a_customer_are_recorded_as_on_behalf
);

async fn staff_acting_for_a_customer_are_recorded_as_on_behalf(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let actor = agentdesk::domain::actor::Actor::user(
        1,
        agentdesk::domain::roles::Role::Operator,
        "corr-on-behalf",
        app.clock.now(),
    )
    .on_behalf_of("CUS-acme");
    let mut c = app.db.acquire().await.unwrap();
    agentdesk::db::audit::record(
        c.conn(),
        &actor,
        agentdesk::db::audit::Change {
            entity_type: "hired_agent",
            entity_id: "HA-1",
            action: "configured",
            before: None,
            after: None,
        },
    )
    .await
    .unwrap();
    drop(c);
    assert_eq!(
        app.text("SELECT on_behalf_of FROM audit_log WHERE correlation_id = 'corr-on-behalf'")
            .await,
        "CUS-acme"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE on_behalf_of IS NOT NULL")
            .await,
        1,
        "a user acting for themselves is not on behalf"
    );
}

#[derive(sqlx::FromRow, Debug)]
struct Row {
    actor_user_id: Option<i64>,
    actor_role: Option<String>,
    entity_type: String,
    entity_id: String,
    action: String,
    before: Option<sqlx::types::Json<serde_json::Value>>,
    after: Option<sqlx::types::Json<serde_json::Value>>,
    correlation_id: String,
}

async fn rows(db: &Db) -> Vec<Row> {
    let sql = "SELECT actor_user_id, actor_role, entity_type, entity_id, action, before, after, correlation_id FROM audit_log ORDER BY id";
    match db {
        Db::Postgres(p, ..) => sqlx::query_as(sql).fetch_all(p).await.unwrap(),
        Db::Sqlite(p) => sqlx::query_as(sql).fetch_all(p).await.unwrap(),
    }
}

async fn changes_are_audited_with_actor_and_correlation_id(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let admin = app.admin().await;
    let token = admin.csrf().await;
    let res = admin
        .http
        .post(admin.url("/admin/users"))
        .header("X-Correlation-ID", "test-corr-42")
        .form(&[
            ("email", "Viewer@Example.com"),
            ("role", "viewer"),
            ("password", PASSWORD),
            ("_csrf", token.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["x-correlation-id"], "test-corr-42", "echoed");
    let id = app
        .count("SELECT id FROM users WHERE email = 'viewer@example.com'")
        .await;
    admin
        .post_form(&format!("/admin/users/{id}/role"), &[("role", "operator")])
        .await;
    admin
        .post_form(&format!("/admin/users/{id}/disable"), &[])
        .await;
    admin
        .post_form(&format!("/admin/users/{id}/enable"), &[])
        .await;
    admin
        .post_form(
            &format!("/admin/users/{id}/password"),
            &[("password", "another-good-password")],
        )
        .await;
    app.client()
        .login("viewer@example.com", "wrong-password-123")
        .await;

    let all = rows(&app.db).await;
    let admin_id = app
        .count("SELECT id FROM users WHERE email = 'admin@example.com'")
        .await;
    let created = all
        .iter()
        .find(|r| r.action == "created" && r.entity_type == "user" && r.entity_id == id.to_string())
        .unwrap();
    assert_eq!(created.actor_user_id, Some(admin_id));
    assert_eq!(created.actor_role.as_deref(), Some("admin"));
    assert_eq!(created.correlation_id, "test-corr-42");
    assert!(created.before.is_none());
    let after = &created.after.as_ref().unwrap().0;
    assert_eq!(after["email"], "viewer@example.com");
    assert!(
        after.get("password_hash").is_none(),
        "no secrets in the audit trail"
    );

    let role = all.iter().find(|r| r.action == "role_changed").unwrap();
    assert_eq!(role.before.as_ref().unwrap().0["role"], "viewer");
    assert_eq!(role.after.as_ref().unwrap().0["role"], "operator");
    for action in [
        "disabled",
        "enabled",
        "password_set",
        "login_succeeded",
        "login_failed",
    ] {
        assert!(
            all.iter().any(|r| r.action == action),
            "missing audit action {action}"
        );
    }
    let failed = all.iter().find(|r| r.action == "login_failed").unwrap();
    assert_eq!(failed.actor_user_id, None);
    assert_eq!(failed.entity_id, "viewer@example.com");

    // Staff see the history on the user's page, field by field.
    let (_, page) = admin.page(&format!("/admin/users/{id}")).await;
    assert!(page.contains("role changed"), "{page}");
    assert!(
        page.contains("role</code>: <del>viewer</del> → <ins>operator</ins>"),
        "{page}"
    );
}

async fn audit_rows_cannot_be_changed_or_removed(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    app.admin().await;
    let before = app.count("SELECT COUNT(*) FROM audit_log").await;
    assert!(before >= 2, "bootstrap and login were audited");
    let update = app.exec("UPDATE audit_log SET action = 'tampered'").await;
    assert!(
        update.as_ref().is_err_and(|e| e.contains("append-only")),
        "{update:?}"
    );
    let delete = app.exec("DELETE FROM audit_log").await;
    assert!(
        delete.as_ref().is_err_and(|e| e.contains("append-only")),
        "{delete:?}"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log").await, before);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'tampered'")
            .await,
        0
    );
}
