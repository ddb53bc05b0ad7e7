use agentdesk::db::{Db, PoolSettings, migrate};

use crate::both_engines;
use crate::helpers::*;

both_engines!(migrations_go_up_down_and_up_to_the_same_schema);

/// Tables, columns, constraints, indexes and triggers, as text, sorted.
async fn schema(db: &Db) -> Vec<String> {
    let mut out: Vec<String> = match db {
        Db::Sqlite(p) => sqlx::query_as::<_, (String, String, Option<String>)>(
            "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' AND tbl_name <> '_sqlx_migrations'",
        )
        .fetch_all(p)
        .await
        .unwrap()
        .into_iter()
        .map(|(t, n, s)| format!("{t} {n}: {}", s.unwrap_or_default()))
        .collect(),
        Db::Postgres(p, ..) => {
            let mut v: Vec<String> = sqlx::query_as::<_, (String, String, String, String)>(
                "SELECT table_name::text, column_name::text, data_type::text, is_nullable::text FROM information_schema.columns \
                 WHERE table_schema = 'public' AND table_name <> '_sqlx_migrations'",
            )
            .fetch_all(p)
            .await
            .unwrap()
            .into_iter()
            .map(|(t, c, d, n)| format!("column {t}.{c} {d} null={n}"))
            .collect();
            v.extend(
                sqlx::query_as::<_, (String, String)>(
                    "SELECT conname::text, pg_get_constraintdef(oid) FROM pg_constraint WHERE connamespace = 'public'::regnamespace AND conrelid::regclass::text <> '_sqlx_migrations'",
                )
                .fetch_all(p)
                .await
                .unwrap()
                .into_iter()
                .map(|(n, d)| format!("constraint {n}: {d}")),
            );
            v.extend(
                sqlx::query_as::<_, (String, String)>(
                    "SELECT indexname::text, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename <> '_sqlx_migrations'",
                )
                .fetch_all(p)
                .await
                .unwrap()
                .into_iter()
                .map(|(n, d)| format!("index {n}: {d}")),
            );
            v.extend(
                sqlx::query_scalar::<_, String>("SELECT tgname::text FROM pg_trigger WHERE NOT tgisinternal")
                    .fetch_all(p)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|n| format!("trigger {n}")),
            );
            v
        }
    };
    out.sort();
    out
}

async fn migrations_go_up_down_and_up_to_the_same_schema(engine: Engine) {
    let Some(test_db) = TestDb::new(engine).await else {
        return;
    };
    let db = Db::connect(&test_db.url, &PoolSettings::default())
        .await
        .unwrap();
    let now = chrono::Utc::now();
    let applied = migrate::up(&db, now).await.unwrap();
    assert_eq!(applied.len(), migrate::MIGRATIONS.len());
    let first = schema(&db).await;
    for table in [
        "users",
        "customers",
        "sessions",
        "api_tokens",
        "audit_log",
        "login_attempts",
        "app_settings",
    ] {
        assert!(first.iter().any(|s| s.contains(table)), "{table} exists");
    }
    assert!(
        first
            .iter()
            .any(|s| s.contains("trigger") || s.starts_with("trigger")),
        "append-only triggers exist"
    );
    assert!(
        migrate::status(&db)
            .await
            .unwrap()
            .iter()
            .all(|s| s.applied_at.is_some())
    );
    assert!(
        migrate::up(&db, now).await.unwrap().is_empty(),
        "up twice is a no-op"
    );

    let reverted = migrate::down(&db, usize::MAX).await.unwrap();
    assert_eq!(reverted.len(), migrate::MIGRATIONS.len());
    assert!(
        schema(&db).await.is_empty(),
        "down removes everything: {:?}",
        schema(&db).await
    );
    assert!(
        migrate::status(&db)
            .await
            .unwrap()
            .iter()
            .all(|s| s.applied_at.is_none())
    );

    migrate::up(&db, now).await.unwrap();
    assert_eq!(
        schema(&db).await,
        first,
        "up after down restores the same schema"
    );

    // Before migrating a SQLite database that holds data, a copy is written beside it.
    if let Db::Sqlite(pool) = &db {
        migrate::down(&db, usize::MAX).await.unwrap();
        sqlx::query("CREATE TABLE keep_me (note TEXT)")
            .execute(pool)
            .await
            .unwrap();
        sqlx::query("INSERT INTO keep_me VALUES ('precious')")
            .execute(pool)
            .await
            .unwrap();
        migrate::up(&db, now).await.unwrap();
        let dir = test_db
            .sqlite_file()
            .unwrap()
            .parent()
            .unwrap()
            .join("backups");
        let backups: Vec<_> = std::fs::read_dir(&dir)
            .expect("backups folder")
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(backups.len(), 1, "one backup before migrating");
        let copy = Db::connect(
            &format!("sqlite://{}", backups[0].display()),
            &PoolSettings::default(),
        )
        .await
        .unwrap();
        let Db::Sqlite(copy_pool) = &copy else {
            unreachable!()
        };
        let note: String = sqlx::query_scalar("SELECT note FROM keep_me")
            .fetch_one(copy_pool)
            .await
            .unwrap();
        assert_eq!(note, "precious");
        copy.close().await;
    }
    db.close().await;
}

both_engines!(
    a_migration_changed_after_it_was_applied_stops_the_start,
    bookkeeping_of_earlier_versions_is_adopted
);

async fn a_migration_changed_after_it_was_applied_stops_the_start(engine: Engine) {
    let Some((_test_db, db)) = migrated(engine).await else {
        return;
    };
    // As if 0002's file had been edited since it was applied here.
    on_pool(
        &db,
        "UPDATE _sqlx_migrations SET checksum = checksum || checksum WHERE version = 2",
    )
    .await;
    let err = migrate::up(&db, chrono::Utc::now()).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("migration 0002_agent_types was changed after it was applied"),
        "{err}"
    );
    db.close().await;
}

async fn bookkeeping_of_earlier_versions_is_adopted(engine: Engine) {
    let Some((_test_db, db)) = migrated(engine).await else {
        return;
    };
    let schema_before = schema(&db).await;
    // The table earlier versions kept, in place of sqlx's.
    on_pool(
        &db,
        "CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL)",
    )
    .await;
    on_pool(
        &db,
        "INSERT INTO schema_migrations SELECT version, description, installed_on FROM _sqlx_migrations",
    )
    .await;
    on_pool(&db, "DROP TABLE _sqlx_migrations").await;

    assert!(migrate::pending(&db).await.unwrap().is_empty());
    assert!(
        migrate::up(&db, chrono::Utc::now())
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(schema(&db).await, schema_before);
    db.close().await;
}

/// A fresh database with every migration applied (the TestDb keeps it alive).
async fn migrated(engine: Engine) -> Option<(TestDb, Db)> {
    let test_db = TestDb::new(engine).await?;
    let db = Db::connect(&test_db.url, &PoolSettings::default())
        .await
        .unwrap();
    migrate::up(&db, chrono::Utc::now()).await.unwrap();
    Some((test_db, db))
}

async fn on_pool(db: &Db, sql: &'static str) {
    match db {
        Db::Postgres(p, ..) => sqlx::query(sql).execute(p).await.map(|_| ()),
        Db::Sqlite(p) => sqlx::query(sql).execute(p).await.map(|_| ()),
    }
    .unwrap_or_else(|e| panic!("{sql}: {e}"));
}
