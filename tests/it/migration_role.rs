//! The audit trail cannot be rewritten by the role agentdesk serves as: with
//! AGENTDESK_MIGRATE_DATABASE_URL, a separate owner migrates and the serving role may only read and
//! insert on append-only tables, and owns nothing it could alter.

use std::process::Command;
use std::sync::Arc;

use agentdesk::app::Application;
use agentdesk::clock::{Clock, ManualClock};
use agentdesk::config::{Secret, Settings};
use agentdesk::db::{Db, PoolSettings};
use reqwest::StatusCode;

use crate::both_engines;
use crate::helpers::*;

both_engines!(the_serving_role_cannot_rewrite_the_audit_trail);

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// The test server's port: from the admin URL's `port` (query or authority), else 5432.
fn pg_port() -> u16 {
    let url = url::Url::parse(&pg_admin_url()).unwrap();
    url.query_pairs()
        .find(|(k, _)| k == "port")
        .and_then(|(_, v)| v.parse().ok())
        .or(url.port())
        .unwrap_or(5432)
}

async fn the_serving_role_cannot_rewrite_the_audit_trail(engine: Engine) {
    if engine == Engine::Sqlite {
        // SQLite has no roles: asking for a migration role there is refused with the reason.
        let out = Command::new(env!("CARGO_BIN_EXE_agentdesk"))
            .args(["migrate", "up"])
            .env_clear()
            .env("DATABASE_URL", "sqlite://unused.db")
            .env(
                "AGENTDESK_MIGRATE_DATABASE_URL",
                "postgres://owner@localhost/x",
            )
            .current_dir(tempfile::tempdir().unwrap().path())
            .output()
            .unwrap();
        assert!(!out.status.success());
        let text = String::from_utf8_lossy(&out.stderr);
        assert!(text.contains("SQLite has no roles"), "{text}");
        return;
    }
    let Some(test_db) = TestDb::new(engine).await else {
        return;
    };
    let role = format!("srv_{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    pg_admin(&format!(
        "CREATE ROLE {role} LOGIN PASSWORD 'serving-password'"
    ))
    .await;
    let serving_url = format!(
        "postgres://{role}:serving-password@127.0.0.1:{}/{}",
        pg_port(),
        test_db.pg_name().unwrap()
    );
    let serving = match Db::connect(&serving_url, &PoolSettings::default()).await {
        Ok(db) => db,
        Err(e) if !in_ci() => {
            eprintln!("SKIPPED migration-role test: cannot connect as {role} over TCP ({e})");
            pg_admin(&format!("DROP ROLE {role}")).await;
            return;
        }
        Err(e) => panic!("connect as the serving role over TCP: {e}"),
    };

    let settings = Settings {
        database_url: serving_url.clone(),
        migrate_database_url: Some(test_db.url.clone()),
        bind: "127.0.0.1:0".into(),
        secret_key: Some(Secret::new(
            "test-secret-key-that-is-long-enough-0123456789",
        )),
        admin_email: Some(ADMIN_EMAIL.into()),
        admin_password: Some(Secret::new(ADMIN_PASSWORD)),
        scheduler: false,
        workers: Some(1),
        db_max_connections: 3,
        ..Settings::default()
    };
    let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
    let app = Application::build(settings, clock as Arc<dyn Clock>)
        .await
        .expect("starts as the serving role after the owner migrated");
    let base = format!("http://127.0.0.1:{}", app.port());
    let server = app.into_server();
    let handle = server.handle();
    tokio::spawn(server);

    // Serving works: signing in writes a session and an audit entry as the serving role.
    let c = Client::new(&base);
    assert_eq!(
        c.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(c.page("/admin").await.0, StatusCode::OK);

    // A checkout as the serving role: it inserts the invoice and receipt and counts their numbers.
    let res = c
        .post_form(
            "/admin/customers",
            &[("name", "Role Test Clinic"), ("email", "role@test.example")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let customer_id = location(&res).rsplit('/').next().unwrap().to_string();
    let actor = agentdesk::domain::actor::Actor::system("role-test", chrono::Utc::now());
    let request = agentdesk::service::checkout::CheckoutRequest {
        coupon_code: "WAOOAW100".into(),
        agent_type_id: Some("trading.delta_futures.v1".into()),
        duration: "monthly".into(),
        ..Default::default()
    };
    let billing = agentdesk::domain::billing::settings::BillingSettings::default();
    agentdesk::service::checkout::checkout(&serving, &billing, &actor, &customer_id, &request)
        .await
        .expect("the serving role issues invoices");
    let Db::Postgres(pool, ..) = &serving else {
        unreachable!()
    };
    let entries: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log")
        .fetch_one(pool)
        .await
        .unwrap();
    assert!(entries > 0, "the serving role reads and appends");
    for sql in [
        "UPDATE audit_log SET action = 'rewritten'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
        "ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only",
        "DROP TRIGGER audit_log_append_only ON audit_log",
        "DELETE FROM _sqlx_migrations",
        "UPDATE invoices SET total_amount = 0",
        "DELETE FROM invoices",
        "TRUNCATE receipts",
        "ALTER TABLE invoices DISABLE TRIGGER invoices_append_only",
    ] {
        let err = sqlx::query(sql).execute(pool).await.unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("permission denied") || text.contains("must be owner"),
            "{sql}: {text}"
        );
    }
    let after: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log")
        .fetch_one(pool)
        .await
        .unwrap();
    assert!(after >= entries);

    drop(handle.stop(false));
    serving.close().await;
    drop(test_db);
    pg_admin(&format!("DROP ROLE IF EXISTS {role}")).await;
}
