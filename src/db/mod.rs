//! The database handle: one enum over the two engines, and a dispatch macro so every query is written
//! once (with `$1…$N` placeholders) and compiled for PostgreSQL and SQLite alike.

pub mod agent_types;
pub mod audit;
pub mod billing;
pub mod credentials;
pub mod customers;
pub mod deliverables;
pub mod hired_agents;
pub mod hired_agents_list;
pub mod idempotency;
pub mod jobs;
pub mod kept_reads;
pub mod kv;
pub mod login_attempts;
pub mod migrate;
pub mod review_queue;
pub mod sessions;
pub mod subscriptions;
pub mod tokens;
pub mod users;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::pool::PoolConnection;

use kept_reads::{ReadConn, ReadKeep};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{
    ConnectOptions, Connection, PgConnection, PgPool, Postgres, Sqlite, SqliteConnection,
    SqlitePool,
};

/// Which engine a database URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Postgres,
    Sqlite,
}

impl Engine {
    pub fn from_url(url: &str) -> anyhow::Result<Self> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Engine::Postgres)
        } else if url.starts_with("sqlite:") {
            Ok(Engine::Sqlite)
        } else {
            anyhow::bail!("DATABASE_URL must start with postgres://, postgresql:// or sqlite:")
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Engine::Postgres => "postgres",
            Engine::Sqlite => "sqlite",
        }
    }
}

/// A connection pool on one of the two engines. An HTTP worker's PostgreSQL pool also keeps its
/// read connections between uses (see [`kept_reads`]).
#[derive(Clone, Debug)]
pub enum Db {
    Postgres(PgPool, ReadKeep),
    Sqlite(SqlitePool),
}

/// A borrowed connection: what every query function takes, whether it runs inside a transaction or not.
pub enum Conn<'a> {
    Postgres(&'a mut PgConnection),
    Sqlite(&'a mut SqliteConnection),
}

/// A pooled connection outside any transaction (for reads).
pub enum PooledConn {
    Postgres(ReadConn),
    Sqlite(PoolConnection<Sqlite>),
}

/// A write transaction. SQLite ones start with `BEGIN IMMEDIATE` so concurrent writers queue on the
/// busy timeout instead of failing half-way with SQLITE_BUSY.
pub enum Tx {
    Postgres(sqlx::Transaction<'static, Postgres>),
    Sqlite(sqlx::Transaction<'static, Sqlite>),
}

/// A value bound to a placeholder of a statement built at run time (filters, set-based loads), in
/// placeholder order.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    Int(i64),
    Text(String),
    At(chrono::DateTime<chrono::Utc>),
}

/// Binds `$args` (a slice or Vec of [`Arg`]) in order to a sqlx `query`, `query_as` or
/// `query_scalar` of either engine.
#[macro_export]
macro_rules! bind_args {
    ($q:expr, $args:expr) => {{
        let mut q = $q;
        for a in $args.iter() {
            q = match a {
                $crate::db::Arg::Int(v) => q.bind(*v),
                $crate::db::Arg::Text(t) => q.bind(t.as_str()),
                $crate::db::Arg::At(at) => q.bind(*at),
            };
        }
        q
    }};
}

/// Runs `$body` with `$c` bound to the engine-specific executor of a [`Conn`].
#[macro_export]
macro_rules! on_conn {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            $crate::db::Conn::Postgres($c) => $body,
            $crate::db::Conn::Sqlite($c) => $body,
        }
    };
}

/// Runs a statement built by `$query` on a [`Conn`]; yields the number of rows it affected.
#[macro_export]
macro_rules! execute {
    ($conn:expr, $query:expr) => {
        $crate::on_conn!($conn, e => $query.execute(e).await.map(|r| r.rows_affected()))
    };
}

impl Conn<'_> {
    /// The same connection for one more call, so a function can pass it on several times.
    pub fn reborrow(&mut self) -> Conn<'_> {
        match self {
            Conn::Postgres(c) => Conn::Postgres(c),
            Conn::Sqlite(c) => Conn::Sqlite(c),
        }
    }

    pub fn engine(&self) -> Engine {
        match self {
            Conn::Postgres(_) => Engine::Postgres,
            Conn::Sqlite(_) => Engine::Sqlite,
        }
    }
}

impl PooledConn {
    pub fn conn(&mut self) -> Conn<'_> {
        match self {
            PooledConn::Postgres(c) => Conn::Postgres(&mut *c),
            PooledConn::Sqlite(c) => Conn::Sqlite(&mut *c),
        }
    }
}

impl Tx {
    pub fn conn(&mut self) -> Conn<'_> {
        match self {
            Tx::Postgres(t) => Conn::Postgres(&mut *t),
            Tx::Sqlite(t) => Conn::Sqlite(&mut *t),
        }
    }

    pub async fn commit(self) -> sqlx::Result<()> {
        match self {
            Tx::Postgres(t) => t.commit().await,
            Tx::Sqlite(t) => t.commit().await,
        }
    }
}

/// Pool sizing and timeouts.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    pub max_connections: u32,
    pub acquire_timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        PoolSettings {
            max_connections: 10,
            acquire_timeout: Duration::from_secs(5),
        }
    }
}

/// The database's pools: the one start-up and background work use, and one per HTTP worker.
///
/// Each HTTP worker runs its own event loop on its own thread, and a connection's answers arrive
/// through the loop of the thread that opened it. With one pool shared by all workers most answers
/// woke another thread first, which passed them on when it next looked: under load the cores sat
/// idle a tenth of the time and every page waited for a second thread. So on PostgreSQL each
/// worker opens (lazily, on its own thread) connections of its own. SQLite's connections each run
/// on a thread of their own anyway, so its workers share the one pool.
#[derive(Clone)]
pub struct Pools(Arc<PoolsInner>);

struct PoolsInner {
    main: Db,
    workers: std::sync::Mutex<Vec<Db>>,
}

impl Pools {
    pub fn new(main: Db) -> Pools {
        Pools(Arc::new(PoolsInner {
            main,
            workers: Default::default(),
        }))
    }

    /// The pool start-up and background work use.
    pub fn main(&self) -> &Db {
        &self.0.main
    }

    /// A pool for the HTTP worker calling this (on its thread), with at most `max_connections`.
    pub fn for_worker(&self, max_connections: u32) -> Db {
        let worker = match &self.0.main {
            Db::Postgres(p, _) => Db::Postgres(
                p.options()
                    .clone()
                    .max_connections(max_connections.max(1))
                    .min_connections(0)
                    .connect_lazy_with((*p.connect_options()).clone()),
                ReadKeep::keeping(),
            ),
            Db::Sqlite(_) => return self.0.main.clone(),
        };
        self.workers().push(worker.clone());
        worker
    }

    fn workers(&self) -> std::sync::MutexGuard<'_, Vec<Db>> {
        self.0.workers.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Connections open and idle, over every pool.
    pub fn stats(&self) -> (u32, usize) {
        let workers = self.workers().clone();
        std::iter::once(&self.0.main)
            .chain(workers.iter())
            .map(Db::pool_stats)
            .fold((0, 0), |(size, idle), (s, i)| (size + s, idle + i))
    }

    /// Closes the workers' pools (once the server has stopped) and the main one.
    pub async fn close(&self) {
        let workers = std::mem::take(&mut *self.workers());
        for db in workers {
            db.close().await;
        }
        self.0.main.close().await;
    }
}

/// Planner settings of every PostgreSQL session agentdesk opens, sent with the connection (no
/// extra round trip).
///
/// `enable_memoize = off`: the pages read at most a page of rows and join each to its agent and
/// customer by primary key. PostgreSQL's estimate for such a join ignores the LIMIT and expects
/// each agent to come back many times, so it puts a Memoize cache in front of the lookup; building
/// that cache (a hash table sized for every agent) on each execution cost the staff queue's
/// statement a fifth of its rate, for no hits on 51 rows.
pub const POSTGRES_SESSION_SETTINGS: &[(&str, &str)] = &[("enable_memoize", "off")];

impl Db {
    /// Connects to the database the URL names. A SQLite file (and its folder) is created if missing.
    pub async fn connect(url: &str, settings: &PoolSettings) -> anyhow::Result<Db> {
        match Engine::from_url(url)? {
            Engine::Postgres => {
                let options = PgConnectOptions::from_str(url)?
                    .options(POSTGRES_SESSION_SETTINGS.iter().copied())
                    .log_statements(tracing::log::LevelFilter::Trace);
                let pool = PgPoolOptions::new()
                    .max_connections(settings.max_connections)
                    .acquire_timeout(settings.acquire_timeout)
                    // No ping before every hand-out: it doubled the round trips of a page. A
                    // connection that died is noticed by the statement that uses it (a 503 once)
                    // and is not handed out again.
                    .test_before_acquire(false)
                    .connect_with(options)
                    .await?;
                Ok(Db::Postgres(pool, ReadKeep::default()))
            }
            Engine::Sqlite => {
                let options = sqlite_options(url)?;
                if let Some(dir) = options.get_filename().parent()
                    && !dir.as_os_str().is_empty()
                {
                    std::fs::create_dir_all(dir)?;
                }
                let pool = SqlitePoolOptions::new()
                    .max_connections(settings.max_connections)
                    .acquire_timeout(settings.acquire_timeout)
                    .connect_with(options)
                    .await?;
                Ok(Db::Sqlite(pool))
            }
        }
    }

    pub fn engine(&self) -> Engine {
        match self {
            Db::Postgres(..) => Engine::Postgres,
            Db::Sqlite(_) => Engine::Sqlite,
        }
    }

    pub async fn acquire(&self) -> sqlx::Result<PooledConn> {
        Ok(match self {
            Db::Postgres(p, keep) => PooledConn::Postgres(keep.acquire(p).await?),
            Db::Sqlite(p) => PooledConn::Sqlite(p.acquire().await?),
        })
    }

    pub async fn begin(&self) -> sqlx::Result<Tx> {
        Ok(match self {
            Db::Postgres(p, keep) => {
                let _waiting = keep.waiting(p.num_idle() == 0);
                Tx::Postgres(p.begin().await?)
            }
            Db::Sqlite(p) => Tx::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?),
        })
    }

    /// Checks that the database answers right now. For SQLite a fresh connection is opened, so a
    /// database file that disappeared or became unreadable is noticed even though pooled
    /// connections still hold it open.
    pub async fn ping(&self) -> anyhow::Result<()> {
        match self {
            Db::Postgres(p, keep) => {
                // Through sqlx's pool and its check, not a kept connection.
                let answered = async {
                    let mut c = {
                        let _waiting = keep.waiting(p.num_idle() == 0);
                        p.acquire().await?
                    };
                    sqlx::query("SELECT 1").execute(&mut *c).await
                }
                .await;
                if answered.is_err() {
                    kept_reads::connection_failed();
                }
                answered?;
            }
            Db::Sqlite(p) => {
                let options = p
                    .connect_options()
                    .as_ref()
                    .clone()
                    .create_if_missing(false)
                    .read_only(true)
                    .optimize_on_close(false, None);
                let mut c = SqliteConnection::connect_with(&options).await?;
                sqlx::query("SELECT count(*) FROM sqlite_master")
                    .execute(&mut c)
                    .await?;
                c.close().await?;
            }
        }
        Ok(())
    }

    /// (connections open, of which idle) for the metrics page.
    pub fn pool_stats(&self) -> (u32, usize) {
        match self {
            Db::Postgres(p, keep) => (p.size(), p.num_idle() + keep.idle()),
            Db::Sqlite(p) => (p.size(), p.num_idle()),
        }
    }

    pub async fn close(&self) {
        match self {
            Db::Postgres(p, keep) => {
                keep.release_all();
                p.close().await
            }
            Db::Sqlite(p) => p.close().await,
        }
    }

    /// The SQLite database file, when this is SQLite.
    pub fn sqlite_file(&self) -> Option<std::path::PathBuf> {
        match self {
            Db::Sqlite(p) => Some(p.connect_options().get_filename().to_path_buf()),
            Db::Postgres(..) => None,
        }
    }
}

pub fn sqlite_options(url: &str) -> anyhow::Result<SqliteConnectOptions> {
    Ok(SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(10))
        // Keeps the planner's statistics current (what autovacuum does on PostgreSQL), so searches
        // pick the selective index.
        .optimize_on_close(true, Some(400)))
}

/// True when a database error is a unique-constraint violation (same SQLSTATE class on both engines).
pub fn is_unique_violation(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Database(e) => e.is_unique_violation(),
        _ => false,
    }
}
