//! Reversible, numbered migrations per engine, embedded in the binary.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use sqlx::migrate::{Migrate, MigrateError, Migration as SqlxMigration, MigrationType, Migrator};
use sqlx::{AssertSqlSafe, SqlSafeStr};

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
    migration!(4, "0004_billing"),
    migration!(5, "0005_credentials"),
    migration!(6, "0006_hired_agents"),
    migration!(7, "0007_deliverables"),
    migration!(8, "0008_review_indexes"),
    migration!(9, "0009_lean_draft_writes"),
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

/// sqlx's migrator over our embedded files: it keeps a checksum of every applied migration (a
/// changed file stops the start), reverts with the down files, and on PostgreSQL takes an advisory
/// lock so two instances starting at once migrate one after the other.
fn migrator(engine: Engine) -> Migrator {
    let mut all = vec![];
    for m in MIGRATIONS {
        for (kind, sql) in [
            (MigrationType::ReversibleUp, m.up(engine)),
            (MigrationType::ReversibleDown, m.down(engine)),
        ] {
            all.push(SqlxMigration::new(
                m.version,
                Cow::Borrowed(m.name),
                kind,
                sql.into_sql_str(),
                false,
            ));
        }
    }
    Migrator::with_migrations(all)
}

/// Names the migration in sqlx's errors, and says what to do.
fn explain(e: MigrateError) -> anyhow::Error {
    let name = |v: i64| {
        MIGRATIONS
            .iter()
            .find(|m| m.version == v)
            .map_or_else(|| v.to_string(), |m| m.name.to_string())
    };
    match e {
        MigrateError::VersionMismatch(v) => anyhow::anyhow!(
            "migration {} was changed after it was applied to this database; released migrations \
             must never change: restore the file and add a new migration instead",
            name(v)
        ),
        MigrateError::VersionMissing(v) => anyhow::anyhow!(
            "this database has migration {v} applied, which this build does not know: it was \
             migrated by a newer agentdesk"
        ),
        MigrateError::ExecuteMigration(err, v) => {
            anyhow::anyhow!("migration {} failed: {err}", name(v))
        }
        other => anyhow::anyhow!("{other}"),
    }
}

/// Runs `f` with the engine's pool.
macro_rules! on_pool {
    ($db:expr, $p:ident => $body:expr) => {
        match $db {
            Db::Postgres($p, ..) => $body,
            Db::Sqlite($p) => $body,
        }
    };
}

/// One line of `agentdesk migrate status`.
#[derive(Debug, Clone)]
pub struct MigrationStatus {
    pub version: i64,
    pub name: &'static str,
    pub applied_at: Option<DateTime<Utc>>,
}

const TABLE: &str = "_sqlx_migrations";

/// Databases migrated by earlier versions kept their bookkeeping in `schema_migrations`: record
/// those migrations in sqlx's table (with the checksums of today's files) and drop the old one.
async fn adopt_legacy_bookkeeping(db: &Db) -> anyhow::Result<()> {
    let legacy_exists: bool = {
        let mut c = db.acquire().await?;
        match db.engine() {
            Engine::Postgres => on_conn!(c.conn(), e => sqlx::query_scalar(
                "SELECT to_regclass('public.schema_migrations') IS NOT NULL").fetch_one(e).await)?,
            Engine::Sqlite => on_conn!(c.conn(), e => sqlx::query_scalar(
                "SELECT COUNT(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'")
                .fetch_one(e).await)?,
        }
    };
    if !legacy_exists {
        return Ok(());
    }
    on_pool!(db, p => {
        let mut c = p.acquire().await?;
        c.ensure_migrations_table(TABLE).await.map_err(explain)?;
    });
    let mut tx = db.begin().await?;
    let versions: Vec<(i64, DateTime<Utc>)> = on_conn!(tx.conn(), e => sqlx::query_as(
        "SELECT version, applied_at FROM schema_migrations ORDER BY version").fetch_all(e).await)?;
    let known = migrator(db.engine());
    for (version, at) in versions {
        let Some(m) = known
            .iter()
            .find(|m| m.version == version && m.migration_type.is_up_migration())
        else {
            anyhow::bail!(
                "this database has migration {version} applied, which this build does not know"
            );
        };
        crate::execute!(tx.conn(), sqlx::query(
            "INSERT INTO _sqlx_migrations (version, description, installed_on, success, checksum, execution_time) \
             VALUES ($1, $2, $3, TRUE, $4, 0)")
            .bind(version).bind(m.description.to_string()).bind(at).bind(m.checksum.to_vec()))?;
    }
    crate::execute!(tx.conn(), sqlx::query("DROP TABLE schema_migrations"))?;
    tx.commit().await?;
    tracing::info!("moved migration bookkeeping from schema_migrations to _sqlx_migrations");
    Ok(())
}

async fn applied(db: &Db) -> anyhow::Result<Vec<(i64, DateTime<Utc>)>> {
    adopt_legacy_bookkeeping(db).await?;
    on_pool!(db, p => {
        let mut c = p.acquire().await?;
        c.ensure_migrations_table(TABLE).await.map_err(explain)?;
    });
    let mut c = db.acquire().await?;
    let rows: Vec<(i64, DateTime<Utc>)> = on_conn!(c.conn(), e =>
        sqlx::query_as("SELECT version, installed_on FROM _sqlx_migrations WHERE success ORDER BY version")
            .fetch_all(e).await)?;
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

/// Applies every pending migration, each in its own transaction, after checking that the applied
/// ones are unchanged. Before touching a SQLite database that already holds data, a consistent copy
/// is written next to it (`backups/<timestamp>.db`).
pub async fn up(db: &Db, now: DateTime<Utc>) -> anyhow::Result<Vec<&'static str>> {
    let todo = pending(db).await?;
    if !todo.is_empty() && db.engine() == Engine::Sqlite && sqlite_holds_data(db).await? {
        let path = backup_sqlite(db, now, None).await?;
        tracing::info!(backup = %path.display(), "backed up the SQLite database before migrating");
    }
    let m = migrator(db.engine());
    on_pool!(db, p => m.run(p).await.map_err(explain))?;
    Ok(todo.into_iter().map(|m| m.name).collect())
}

/// True when a SQLite database has tables besides our bookkeeping: something worth a backup.
async fn sqlite_holds_data(db: &Db) -> anyhow::Result<bool> {
    let mut c = db.acquire().await?;
    let n: i64 = on_conn!(c.conn(), e => sqlx::query_scalar(
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations'")
        .fetch_one(e).await)?;
    Ok(n > 0)
}

/// Reverts the newest `steps` applied migrations, newest first.
pub async fn down(db: &Db, steps: usize) -> anyhow::Result<Vec<&'static str>> {
    let done = applied(db).await?;
    let reverting: Vec<i64> = done.iter().rev().take(steps).map(|(v, _)| *v).collect();
    let Some(oldest) = reverting.last() else {
        return Ok(vec![]);
    };
    let target = done
        .iter()
        .map(|(v, _)| *v)
        .filter(|v| v < oldest)
        .max()
        .unwrap_or(0);
    let m = migrator(db.engine());
    on_pool!(db, p => m.undo(p, target).await.map_err(explain))?;
    Ok(reverting
        .iter()
        .filter_map(|v| MIGRATIONS.iter().find(|m| m.version == *v).map(|m| m.name))
        .collect())
}

/// Tables that are only ever appended to: the serving role may read and insert, nothing more.
pub const APPEND_ONLY_TABLES: &[&str] = &[
    "audit_log",
    "invoices",
    "receipts",
    "approvals",
    "execution_denials",
];

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
    let (Db::Postgres(owner, ..), Db::Postgres(serving, ..)) = (owner, serving) else {
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
        format!("REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON _sqlx_migrations FROM {quoted}"),
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Released migrations are applied on databases out there, which keep each one's checksum: an
    /// edit would stop every start. Add a new migration instead. (Only a migration that has not
    /// been released may change, and its line here with it.)
    const RELEASED: &[(Engine, &str, &str)] = &[
        (
            Engine::Postgres,
            "0001_foundation",
            "c0da9ae928a727fa7c4d4c9a882f21c4",
        ),
        (
            Engine::Postgres,
            "0002_agent_types",
            "0dfec45aa809a2b6855c41fa7c8bba0a",
        ),
        (
            Engine::Postgres,
            "0003_hardening",
            "c1797b04b054adf28320ed8eb7acbffe",
        ),
        (
            Engine::Postgres,
            "0004_billing",
            "e161874e42299a8ad7b1e41714f1f7a6",
        ),
        (
            Engine::Postgres,
            "0005_credentials",
            "6b8995a449327e70403af6c48f286ce8",
        ),
        (
            Engine::Postgres,
            "0006_hired_agents",
            "402df193846e4baba8cb1a09edf68066",
        ),
        (
            Engine::Postgres,
            "0007_deliverables",
            "51cbf71dbe95bff0e43b6f950a9782be",
        ),
        (
            Engine::Postgres,
            "0008_review_indexes",
            "cc50efcf990d9db9c392c6afe526908e",
        ),
        (
            Engine::Postgres,
            "0009_lean_draft_writes",
            "7fc59cf8fac01ab55353899476dbd834",
        ),
        (
            Engine::Sqlite,
            "0001_foundation",
            "6fb365db871a7810b68cab21669ac53a",
        ),
        (
            Engine::Sqlite,
            "0002_agent_types",
            "6107a4f3d317617060683beb9f1e783f",
        ),
        (
            Engine::Sqlite,
            "0003_hardening",
            "b47b0d0d1e958d994826f207bafb51e5",
        ),
        (
            Engine::Sqlite,
            "0004_billing",
            "6f424d5609d7bb26d35f55ff2988012e",
        ),
        (
            Engine::Sqlite,
            "0005_credentials",
            "1eb61017bfa5a8b047f22e074049291a",
        ),
        (
            Engine::Sqlite,
            "0006_hired_agents",
            "e97f8e515653e5aef20f858bcbb2de34",
        ),
        (
            Engine::Sqlite,
            "0007_deliverables",
            "5a78e5bc86aab2f7e49c25b8dc831488",
        ),
        (
            Engine::Sqlite,
            "0008_review_indexes",
            "cc50efcf990d9db9c392c6afe526908e",
        ),
        (
            Engine::Sqlite,
            "0009_lean_draft_writes",
            "080715763f90259f8c893583f43c6b32",
        ),
    ];

    #[test]
    fn released_migrations_never_change() {
        for (engine, name, pinned) in RELEASED {
            let m = MIGRATIONS.iter().find(|m| m.name == *name).unwrap();
            let migration = SqlxMigration::new(
                m.version,
                Cow::Borrowed(m.name),
                MigrationType::ReversibleUp,
                m.up(*engine).into_sql_str(),
                false,
            );
            let sum: String = migration.checksum[..16]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            assert_eq!(&sum, pinned, "{name} for {engine:?} changed");
        }
        assert_eq!(
            RELEASED.len(),
            MIGRATIONS.len() * 2,
            "every migration is pinned"
        );
    }
}
