//! Searches offered in the UI find their rows through an index on both engines, checked on the
//! exact statement the page runs; and they find what a person typed, not more.

use agentdesk::db::Db;
use agentdesk::db::customers::search_sql as customer_search_sql;
use agentdesk::db::users::search_sql;
use agentdesk::domain::roles::Role;
use reqwest::StatusCode;

use crate::both_engines;
use crate::helpers::*;

both_engines!(
    user_search_finds_rare_matches_through_an_index,
    customer_search_finds_matches_through_an_index,
);

const USERS: i64 = 20_000;

async fn add_many_users(app: &TestApp) {
    let sql = match app.db {
        Db::Postgres(..) => {
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
        Db::Postgres(..) => {
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

/// The plan of a statement, one line per step. On PostgreSQL the given planner settings apply
/// first: only whether an index *can* serve the query is checked, and on a few thousand rows the
/// planner may rightly prefer a scan, so scans are priced out.
async fn explain(app: &TestApp, sql: &str, texts: &[String], pg_off: &[&str]) -> Vec<String> {
    match &app.db {
        Db::Postgres(p, ..) => {
            let mut c = p.acquire().await.unwrap();
            for setting in pg_off {
                let set = sqlx::AssertSqlSafe(format!("SET {setting} = off"));
                sqlx::query(set).execute(&mut *c).await.unwrap();
            }
            let explain = sqlx::AssertSqlSafe(format!("EXPLAIN {sql}"));
            let mut q = sqlx::query_scalar::<_, String>(explain);
            for t in texts {
                q = q.bind(t);
            }
            q.bind(50_i64).fetch_all(&mut *c).await.unwrap()
        }
        Db::Sqlite(p) => {
            let explain = sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {sql}"));
            let mut q = sqlx::query_as::<_, (i64, i64, i64, String)>(explain);
            for t in texts {
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

/// The plan of the statement the users page runs for `query`.
async fn plan(app: &TestApp, query: &str, role: Option<Role>) -> Vec<String> {
    let (sql, texts) = search_sql(app.db.engine(), query, role, None);
    explain(app, &sql, &texts, &["enable_seqscan"]).await
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

/// The plan of the statement the customers page runs for `query` (the first page). On 2000 rows
/// walking the newest first is rightly cheaper than any search index, so walks are priced out too.
async fn customer_plan(app: &TestApp, query: &str) -> Vec<String> {
    let (sql, texts) = customer_search_sql(app.db.engine(), query, false);
    explain(app, &sql, &texts, &["enable_seqscan", "enable_indexscan"]).await
}

async fn customer_search_finds_matches_through_an_index(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let admin = app.admin().await;
    add_many_users(&app).await;
    let gstins = match app.db {
        Db::Postgres(..) => "UPDATE customers SET gstin = '27AAPFU' || lpad(substr(id, 5), 8, '0')",
        Db::Sqlite(_) => {
            "UPDATE customers SET gstin = '27AAPFU' || printf('%08d', CAST(substr(id, 5) AS INTEGER))"
        }
    };
    assert_eq!(app.exec(gstins).await.unwrap(), 2000);
    app.exec("ANALYZE").await.unwrap();

    let (status, page) = admin.page("/admin/customers?q=clinic+123").await;
    assert_eq!(status, StatusCode::OK);
    for n in [123, 1230, 1239] {
        assert!(page.contains(&format!(">Clinic {n}</a>")), "Clinic {n}");
    }
    assert!(!page.contains(">Clinic 12</a>"), "only matches");
    let (_, page) = admin.page("/admin/customers?q=c1777@").await;
    assert_eq!(page.matches("</a></td>").count(), 1, "exactly one: {page}");
    let (_, page) = admin.page("/admin/customers?q=u00001999").await;
    assert!(page.contains(">Clinic 1999</a>"), "by GSTIN fragment");

    let contains = customer_plan(&app, "clinic 123").await;
    let prefix = customer_plan(&app, "zq").await;
    match engine {
        Engine::Postgres => {
            for plan in [&contains, &prefix] {
                for index in [
                    "customers_name_trgm_idx",
                    "customers_email_trgm_idx",
                    "customers_gstin_trgm_idx",
                ] {
                    assert!(uses(plan, index), "{index}: {plan:#?}");
                }
                assert!(!uses(plan, "Seq Scan"), "{plan:#?}");
            }
        }
        Engine::Sqlite => {
            // Short terms: a range on each expression index; longer ones walk the newest first
            // (the page stops the walk), never a full sort of every customer.
            for index in [
                "customers_name_idx",
                "customers_email_trgm_idx",
                "customers_gstin_trgm_idx",
            ] {
                assert!(uses(&prefix, index), "{index}: {prefix:#?}");
            }
            assert!(uses(&contains, "customers_created_idx"), "{contains:#?}");
            assert!(!uses(&contains, "TEMP B-TREE"), "{contains:#?}");
        }
    }
}
