//! The read connections an HTTP worker keeps between requests (on PostgreSQL; SQLite's pool is
//! sqlx's own): a request dropped half-way leaves a connection that still answers right, writes
//! and further reads are never left waiting on connections that sit kept, and the pool closes.

use std::time::Duration;

use agentdesk::db::{Db, PoolSettings, Pools};
use futures_util::StreamExt;

use crate::both_engines;
use crate::helpers::{Engine, TestDb};

both_engines!(
    a_read_dropped_half_way_leaves_its_connection_answering_right,
    kept_reads_never_keep_others_waiting,
);

/// A worker's pool of `max` connections, as the server builds it.
async fn worker_db(engine: Engine, max: u32) -> Option<(TestDb, Pools, Db)> {
    let test_db = TestDb::new(engine).await?;
    let settings = PoolSettings {
        max_connections: max,
        acquire_timeout: Duration::from_secs(10),
    };
    let main = Db::connect(&test_db.url, &settings).await.unwrap();
    let pools = Pools::new(main);
    let db = pools.for_worker(max);
    Some((test_db, pools, db))
}

/// 200 000 numbers, streamed.
const COUNT_TO_200K: &str = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200000) \
     SELECT CAST(i AS BIGINT) FROM n";

async fn sum_to(db: &Db, n: i64) -> i64 {
    let mut c = db.acquire().await.unwrap();
    let sql = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1) \
               SELECT CAST(sum(i) AS BIGINT) FROM n";
    agentdesk::on_conn!(c.conn(), e => sqlx::query_scalar::<_, i64>(sql).bind(n).fetch_one(e).await)
        .unwrap()
}

/// A write transaction started on a task of its own, to be awaited later.
fn spawn_write(db: &Db) -> tokio::task::JoinHandle<sqlx::Result<()>> {
    let db = db.clone();
    tokio::spawn(async move {
        let mut tx = db.begin().await?;
        agentdesk::execute!(tx.conn(), sqlx::query("SELECT 1"))?;
        tx.commit().await
    })
}

async fn backend_pid(db: &Db) -> Option<i32> {
    let mut c = db.acquire().await.unwrap();
    match c.conn() {
        agentdesk::db::Conn::Postgres(e) => Some(
            sqlx::query_scalar("SELECT pg_backend_pid()")
                .fetch_one(e)
                .await
                .unwrap(),
        ),
        agentdesk::db::Conn::Sqlite(_) => None,
    }
}

async fn a_read_dropped_half_way_leaves_its_connection_answering_right(engine: Engine) {
    let Some((_test_db, pools, db)) = worker_db(engine, 1).await else {
        return;
    };
    let pid = backend_pid(&db).await;
    for _ in 0..3 {
        // Read the first of 200 000 rows and go away, as a request whose client disconnected.
        let mut c = db.acquire().await.unwrap();
        let first = agentdesk::on_conn!(c.conn(), e => {
            let mut rows = sqlx::query_scalar::<_, i64>(COUNT_TO_200K).fetch(e);
            rows.next().await.unwrap().unwrap()
        });
        assert_eq!(first, 1);
        drop(c);
        // The next read gets its own answer, not the rest of that one.
        assert_eq!(sum_to(&db, 100).await, 5050);
        // A statement cancelled by a timeout while the server is still working on it.
        let mut c = db.acquire().await.unwrap();
        let slow = match engine {
            Engine::Postgres => "SELECT CAST(1 AS BIGINT) FROM pg_sleep(0.3)",
            Engine::Sqlite => {
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000000) \
                 SELECT count(*) FROM n"
            }
        };
        let cut_short = tokio::time::timeout(Duration::from_millis(20), async {
            agentdesk::on_conn!(c.conn(), e => sqlx::query_scalar::<_, i64>(slow).fetch_one(e).await)
        })
        .await;
        assert!(cut_short.is_err(), "not cut short: {cut_short:?}");
        drop(c);
        assert_eq!(sum_to(&db, 10).await, 55);
    }
    // On PostgreSQL it was the one connection all along: kept, not replaced.
    assert_eq!(backend_pid(&db).await, pid);
    tokio::time::timeout(Duration::from_secs(10), pools.close())
        .await
        .expect("the pools close with a connection kept");
}

async fn kept_reads_never_keep_others_waiting(engine: Engine) {
    let Some((_test_db, pools, db)) = worker_db(engine, 2).await else {
        return;
    };
    // Both connections used for reads and given back: kept, and counted as idle.
    let (a, b) = (db.acquire().await.unwrap(), db.acquire().await.unwrap());
    drop((a, b));
    if matches!(engine, Engine::Postgres) {
        assert_eq!(db.pool_stats(), (2, 2), "both open, both idle");
    }

    // A write finds a connection at once, although both sit kept.
    let started = std::time::Instant::now();
    let mut tx = db.begin().await.expect("a write gets a connection");
    agentdesk::execute!(tx.conn(), sqlx::query("SELECT 1")).unwrap();
    tx.commit().await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(2));

    // Both held by reads: a write and a third read wait, and each gets the connection a read gives
    // back, instead of waiting while it sits kept.
    for _ in 0..3 {
        let (a, b) = (db.acquire().await.unwrap(), db.acquire().await.unwrap());
        let write = spawn_write(&db);
        let read = tokio::spawn({
            let db = db.clone();
            async move { sum_to(&db, 3).await }
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(!write.is_finished() && !read.is_finished());
        drop(a);
        tokio::time::sleep(Duration::from_millis(100)).await;
        drop(b);
        let write = tokio::time::timeout(Duration::from_secs(2), write).await;
        assert!(matches!(write, Ok(Ok(Ok(())))), "the write: {write:?}");
        let read = tokio::time::timeout(Duration::from_secs(2), read).await;
        assert_eq!(read.expect("the read in time").unwrap(), 6);
    }

    // One connection: a read holds it, a write waits, then a second read; the write gets it from
    // the first read, and the second read from the write, which gives it to sqlx's pool.
    let solo = pools.for_worker(1);
    for _ in 0..3 {
        let held = solo.acquire().await.unwrap();
        let write = spawn_write(&solo);
        tokio::time::sleep(Duration::from_millis(50)).await;
        let read = tokio::spawn({
            let db = solo.clone();
            async move { sum_to(&db, 4).await }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        drop(held);
        let write = tokio::time::timeout(Duration::from_secs(2), write).await;
        assert!(matches!(write, Ok(Ok(Ok(())))), "the write: {write:?}");
        let read = tokio::time::timeout(Duration::from_secs(2), read).await;
        assert_eq!(read.expect("the read in time").unwrap(), 10);
    }
    tokio::time::timeout(Duration::from_secs(10), pools.close())
        .await
        .expect("the pools close with connections kept");
}
