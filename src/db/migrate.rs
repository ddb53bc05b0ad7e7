//! Reversible, numbered migrations per engine, embedded in the binary.

use chrono::{DateTime, Utc};
use sqlx::AssertSqlSafe;

use super::{Db, Engine};
use crate::on_conn;

pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    postgres_up: &'static str,
    postgres_down: &'static str,
    sqlite_up: &'static str,
    sqlite_down: &'static str,
}

macro_rules! migration {
    ($version:expr, $file:literal) => {
        Migration {
            version: $version,
            name: $file,
            postgres_up: include_str!(concat!("../../migrations/postgres/", $file, ".up.sql")),
            postgres_down: include_str!(concat!("../../migrations/postgres/", $file, ".down.sql")),
            sqlite_up: include_str!(concat!("../../migrations/sqlite/", $file, ".up.sql")),
            sqlite_down: include_str!(concat!("../../migrations/sqlite/", $file, ".down.sql")),
        }
    };
}

/// Every migration, in order. Both engines use the same numbers.
pub static MIGRATIONS: &[Migration] = &[
    migration!(1, "0001_foundation"),
    migration!(2, "0002_agent_types"),
    migration!(3, "0003_hardening"),
];

impl Migration {
    fn up(&self, engine: Engine) -> &'static str {
        match engine {
            Engine::Postgres => self.postgres_up,
            Engine::Sqlite => self.sqlite_up,
        }
    }
    fn down(&self, engine: Engine) -> &'static str {
        match engine {
            Engine::Postgres => self.postgres_down,
            Engine::Sqlite => self.sqlite_down,
        }
    }
}

/// One line of `agentdesk migrate status`.
#[derive(Debug, Clone)]
pub struct MigrationStatus {
    pub version: i64,
    pub name: &'static str,
    pub applied_at: Option<DateTime<Utc>>,
}

async fn ensure_table(db: &Db) -> anyhow::Result<()> {
    let sql = match db.engine() {
        Engine::Postgres => {
            "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL)"
        }
        Engine::Sqlite => {
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        }
    };
    let mut c = db.acquire().await?;
    crate::execute!(c.conn(), sqlx::query(sql))?;
    Ok(())
}

async fn applied(db: &Db) -> anyhow::Result<Vec<(i64, DateTime<Utc>)>> {
    ensure_table(db).await?;
    let mut c = db.acquire().await?;
    let rows: Vec<(i64, DateTime<Utc>)> = on_conn!(c.conn(), e =>
        sqlx::query_as("SELECT version, applied_at FROM schema_migrations ORDER BY version").fetch_all(e).await)?;
    Ok(rows)
}

pub async fn status(db: &Db) -> anyhow::Result<Vec<MigrationStatus>> {
    let done = applied(db).await?;
    Ok(MIGRATIONS
        .iter()
        .map(|m| MigrationStatus {
            version: m.version,
            name: m.name,
            applied_at: done
                .iter()
                .find(|(v, _)| *v == m.version)
                .map(|(_, at)| *at),
        })
        .collect())
}

/// The migrations not applied yet.
pub async fn pending(db: &Db) -> anyhow::Result<Vec<&'static Migration>> {
    let done = applied(db).await?;
    Ok(MIGRATIONS
        .iter()
        .filter(|m| !done.iter().any(|(v, _)| *v == m.version))
        .collect())
}

/// Applies every pending migration, each in its own transaction. Before touching a SQLite database
/// that already holds data, a consistent copy is written next to it (`backups/<timestamp>.db`).
pub async fn up(db: &Db, now: DateTime<Utc>) -> anyhow::Result<Vec<&'static str>> {
    let todo = pending(db).await?;
    if todo.is_empty() {
        return Ok(vec![]);
    }
    if db.engine() == Engine::Sqlite && sqlite_holds_data(db).await? {
        let path = backup_sqlite(db, now, None).await?;
        tracing::info!(backup = %path.display(), "backed up the SQLite database before migrating");
    }
    let mut names = vec![];
    for m in todo {
        let mut tx = db.begin().await?;
        // Two instances starting at once: the second waits here, then finds the work done.
        if let crate::db::Conn::Postgres(e) = tx.conn() {
            sqlx::query("SELECT pg_advisory_xact_lock(7263540011)")
                .execute(e)
                .await?;
        }
        let done: i64 = on_conn!(tx.conn(), e => sqlx::query_scalar("SELECT COUNT(*) FROM schema_migrations WHERE version = $1")
            .bind(m.version).fetch_one(e).await)?;
        if done > 0 {
            continue;
        }
        crate::execute!(tx.conn(), sqlx::raw_sql(AssertSqlSafe(m.up(db.engine()))))
            .map_err(|err| anyhow::anyhow!("migration {} failed: {err}", m.name))?;
        crate::execute!(
            tx.conn(),
            sqlx::query(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)"
            )
            .bind(m.version)
            .bind(m.name)
            .bind(now)
        )?;
        tx.commit().await?;
        names.push(m.name);
    }
    Ok(names)
}

/// Tables that are only ever appended to: the serving role may read and insert, nothing more.
pub const APPEND_ONLY_TABLES: &[&str] = &["audit_log"];

/// A small pool for the migration role, used once at start.
pub fn owner_pool() -> super::PoolSettings {
    super::PoolSettings {
        max_connections: 1,
        ..super::PoolSettings::default()
    }
}

/// PostgreSQL, run as the schema owner: gives the role `serving` connects as what serving needs
/// and no more. It owns nothing, so it cannot alter a table or disable a trigger; on the append-only
/// tables it may only read and insert. Returns the serving role's name.
pub async fn grant_serving_role(owner: &Db, serving: &Db) -> anyhow::Result<String> {
    let (Db::Postgres(owner), Db::Postgres(serving)) = (owner, serving) else {
        anyhow::bail!("a separate migration role exists on PostgreSQL only");
    };
    let role: String = sqlx::query_scalar("SELECT current_user::text")
        .fetch_one(serving)
        .await?;
    let owner_role: String = sqlx::query_scalar("SELECT current_user::text")
        .fetch_one(owner)
        .await?;
    anyhow::ensure!(
        role != owner_role,
        "AGENTDESK_MIGRATE_DATABASE_URL and DATABASE_URL name the same role ({role}): the serving \
         role must be a different one"
    );
    let quoted = format!("\"{}\"", role.replace('"', "\"\""));
    let mut statements = vec![
        format!("GRANT USAGE ON SCHEMA public TO {quoted}"),
        format!("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {quoted}"),
        format!("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quoted}"),
        // Serving never migrates.
        format!("REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON schema_migrations FROM {quoted}"),
    ];
    for table in APPEND_ONLY_TABLES {
        statements.push(format!(
            "REVOKE UPDATE, DELETE, TRUNCATE ON {table} FROM {quoted}"
        ));
    }
    let mut tx = owner.begin().await?;
    for sql in statements {
        sqlx::query(AssertSqlSafe(sql)).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(role)
}

/// True when a SQLite database has tables besides our bookkeeping: something worth a backup.
async fn sqlite_holds_data(db: &Db) -> anyhow::Result<bool> {
    let mut c = db.acquire().await?;
    let n: i64 = on_conn!(c.conn(), e => sqlx::query_scalar(
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'schema_migrations'")
        .fetch_one(e).await)?;
    Ok(n > 0)
}

/// Reverts the newest `steps` applied migrations, newest first.
pub async fn down(db: &Db, steps: usize) -> anyhow::Result<Vec<&'static str>> {
    let done = applied(db).await?;
    let mut names = vec![];
    for (version, _) in done.iter().rev().take(steps) {
        let Some(m) = MIGRATIONS.iter().find(|m| m.version == *version) else {
            anyhow::bail!("migration {version} is applied but unknown to this build");
        };
        let mut tx = db.begin().await?;
        crate::execute!(tx.conn(), sqlx::raw_sql(AssertSqlSafe(m.down(db.engine()))))
            .map_err(|err| anyhow::anyhow!("reverting {} failed: {err}", m.name))?;
        crate::execute!(
            tx.conn(),
            sqlx::query("DELETE FROM schema_migrations WHERE version = $1").bind(m.version)
        )?;
        tx.commit().await?;
        names.push(m.name);
    }
    Ok(names)
}

/// Writes a consistent copy of a SQLite database with `VACUUM INTO`. Without a target, the copy goes
/// to `backups/<timestamp>.db` beside the database file.
pub async fn backup_sqlite(
    db: &Db,
    now: DateTime<Utc>,
    target: Option<std::path::PathBuf>,
) -> anyhow::Result<std::path::PathBuf> {
    let Some(file) = db.sqlite_file() else {
        anyhow::bail!("not a SQLite database");
    };
    let target = match target {
        Some(t) => t,
        None => {
            let dir = file
                .parent()
                .unwrap_or(std::path::Path::new("."))
                .join("backups");
            dir.join(format!("{}.db", now.format("%Y%m%dT%H%M%S%.3fZ")))
        }
    };
    if let Some(dir) = target.parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir)?;
    }
    if target.exists() {
        anyhow::bail!("{} exists already", target.display());
    }
    let mut c = db.acquire().await?;
    crate::execute!(
        c.conn(),
        sqlx::query("VACUUM INTO $1").bind(target.to_string_lossy().to_string())
    )?;
    Ok(target)
}
