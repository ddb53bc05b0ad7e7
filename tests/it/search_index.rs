//! Searches offered in the UI find their rows through an index on both engines, checked on the
//! exact statement the page runs; and they find what a person typed, not more.

use agentdesk::db::Db;
use agentdesk::db::users::search_sql;
use agentdesk::domain::roles::Role;
use reqwest::StatusCode;

use crate::both_engines;
use crate::helpers::*;

both_engines!(user_search_finds_rare_matches_through_an_index);

const USERS: i64 = 20_000;

async fn add_many_users(app: &TestApp) {
    let sql = match app.db {
        Db::Postgres(_) => {
            "INSERT INTO users (email, password_hash, role, disabled, must_change_password, created_at, updated_at) \
             SELECT 'user' || lpad(g::text, 5, '0') || '@example.com', 'x', 'viewer', FALSE, FALSE, \
                    (SELECT MIN(created_at) FROM users), (SELECT MIN(created_at) FROM users) \
             FROM generate_series(1, 20000) g"
        }
        Db::Sqlite(_) => {
            "WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 20000) \
             INSERT INTO users (email, password_hash, role, disabled, must_change_password, created_at, updated_at) \
             SELECT 'user' || printf('%05d', n) || '@example.com', 'x', 'viewer', FALSE, FALSE, \
                    (SELECT MIN(created_at) FROM users), (SELECT MIN(created_at) FROM users) FROM g"
        }
    };
    assert_eq!(app.exec(sql).await.unwrap(), USERS as u64);
    let customers = match app.db {
        Db::Postgres(_) => {
            "INSERT INTO customers (id, name, email, created_at, updated_at) \
             SELECT 'CUS-' || g, 'Clinic ' || g, 'c' || g || '@example.com', \
                    (SELECT MIN(created_at) FROM users), (SELECT MIN(created_at) FROM users) \
             FROM generate_series(1, 2000) g"
        }
        Db::Sqlite(_) => {
            "WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 2000) \
             INSERT INTO customers (id, name, email, created_at, updated_at) \
             SELECT 'CUS-' || n, 'Clinic ' || n, 'c' || n || '@example.com', \
                    (SELECT MIN(created_at) FROM users), (SELECT MIN(created_at) FROM users) FROM g"
        }
    };
    assert_eq!(app.exec(customers).await.unwrap(), 2000);
    // What autovacuum (PostgreSQL) and `PRAGMA optimize` (SQLite) keep up to date.
    app.exec("ANALYZE").await.unwrap();
}

/// The plan of the statement the users page runs for `query`, one line per step.
async fn plan(app: &TestApp, query: &str, role: Option<Role>) -> Vec<String> {
    let (sql, texts) = search_sql(app.db.engine(), query, role, None);
    match &app.db {
        Db::Postgres(p) => {
            let mut c = p.acquire().await.unwrap();
            // Only whether an index *can* serve the query is checked: on a few thousand rows the
            // planner may rightly prefer a scan, so scans are priced out here.
            sqlx::query("SET enable_seqscan = off")
                .execute(&mut *c)
                .await
                .unwrap();
            let explain = sqlx::AssertSqlSafe(format!("EXPLAIN {sql}"));
            let mut q = sqlx::query_scalar::<_, String>(explain);
            for t in &texts {
                q = q.bind(t);
            }
            q.bind(50_i64).fetch_all(&mut *c).await.unwrap()
        }
        Db::Sqlite(p) => {
            let explain = sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {sql}"));
            let mut q = sqlx::query_as::<_, (i64, i64, i64, String)>(explain);
            for t in &texts {
                q = q.bind(t);
            }
            q.bind(50_i64)
                .fetch_all(p)
                .await
                .unwrap()
                .into_iter()
                .map(|r| r.3)
                .collect()
        }
    }
}

fn uses(plan: &[String], needle: &str) -> bool {
    plan.iter().any(|l| l.contains(needle))
}

async fn user_search_finds_rare_matches_through_an_index(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let admin = app.admin().await;
    // A customer whose name is searched, not its users' e-mails.
    let (_, customer_email) = app.user_with_role("customer").await;
    add_many_users(&app).await;

    let (status, page) = admin.page("/admin/users?q=user0001").await;
    assert_eq!(status, StatusCode::OK);
    for n in 10..=19 {
        assert!(
            page.contains(&format!("user{n:05}@example.com")),
            "user{n:05}"
        );
    }
    assert!(!page.contains("user00020@example.com"), "only matches");
    let (_, page) = admin.page("/admin/users?q=ser00012@").await;
    assert!(page.contains("user00012@example.com"));
    assert_eq!(page.matches("@example.com</a>").count(), 1, "exactly one");
    // Case does not matter, and customer names are searched too.
    let (_, page) = admin.page("/admin/users?q=ACME%20clin").await;
    assert!(
        page.contains(&customer_email),
        "found by its customer's name"
    );
    assert!(!page.contains("user00001@example.com"));
    // Short terms match the start of an e-mail.
    let (_, page) = admin.page("/admin/users?q=us").await;
    assert!(page.contains("user20000@example.com"));
    let (_, page) = admin.page("/admin/users?q=00").await;
    assert!(!page.contains("user00012@example.com"), "not a prefix");

    let contains = plan(&app, "user00012", None).await;
    // A rare prefix: a common one ("us") is best served by walking the newest users.
    let prefix = plan(&app, "ad", Some(Role::Viewer)).await;
    match engine {
        Engine::Postgres => {
            assert!(uses(&contains, "users_email_trgm_idx"), "{contains:#?}");
            assert!(uses(&contains, "users_customer_idx"), "{contains:#?}");
            assert!(uses(&contains, "customers_name_trgm_idx"), "{contains:#?}");
            assert!(!uses(&contains, "Seq Scan"), "{contains:#?}");
            assert!(
                !uses(&contains, "users_pkey"),
                "no walk over every user: {contains:#?}"
            );
            assert!(uses(&prefix, "users_email_prefix_idx"), "{prefix:#?}");
            assert!(!uses(&prefix, "Seq Scan"), "{prefix:#?}");
        }
        Engine::Sqlite => {
            assert!(uses(&contains, "VIRTUAL TABLE INDEX"), "{contains:#?}");
            assert!(
                !contains
                    .iter()
                    .any(|l| l == "SCAN u" || l.starts_with("SCAN u ")),
                "{contains:#?}"
            );
            assert!(
                prefix
                    .iter()
                    .any(|l| l.starts_with("SEARCH u USING") && l.contains("email>?")),
                "{prefix:#?}"
            );
        }
    }
}
