//! Read connections an HTTP worker keeps between requests, instead of giving them back to sqlx's
//! pool after each use.
//!
//! sqlx's pool checks every connection given back to it with a round trip to the server (a `Sync`
//! and its answer, on a task of its own) before anyone can have it again; sqlx 0.9 has no setting
//! to leave that out. A page reads on one or two connections, so that check cost each page one or
//! two round trips more than its statements: on the benchmark's staff queue about 6 % of the pages
//! served per second, and 0.02 ms of PostgreSQL's CPU per page.
//!
//! So a worker's pool hands out its read connections from a short list of its own first and puts
//! them back there, untested. What the check would have caught is caught otherwise:
//! - an answer left half-read (a request dropped while its statement ran): sqlx reads the rest of
//!   it before the connection's next statement;
//! - a connection that died: the statement that meets it fails (one 503), and that failure
//!   ([`connection_failed`]) sends every connection taken out before it back through sqlx's check;
//!   for a minute after it, connections that sqlx's pool held idle are tested before use too;
//! - anything else: each kept connection goes back through sqlx's pool (its check, idle and age
//!   limits) a minute after it left it.
//!
//! Kept connections count as in use for sqlx's pool. A read that finds nothing kept and the pool at
//! its limit waits for the next connection a read gives back, in the order the reads came. While
//! anyone waits on sqlx's pool itself (a write, or a read that found room in it), connections given
//! back go to the pool, not to the list, and a write that finds the pool empty first sends one kept
//! connection back to it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use sqlx::pool::PoolConnection;
use sqlx::{Connection, PgConnection, PgPool, Postgres};
use tokio::sync::oneshot;

/// How long a connection may stay out of sqlx's pool before it goes back through its check.
const RECHECK_AFTER: Duration = Duration::from_secs(60);

/// Moves on each time a statement meets a connection that failed; connections taken from the pool
/// before that are not kept again untested.
static FAILURES: AtomicU64 = AtomicU64::new(0);

/// When the last failure was, in milliseconds after [`EPOCH`] (0: none yet).
static LAST_FAILURE_MS: AtomicU64 = AtomicU64::new(0);
static EPOCH: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();

fn now_ms() -> u64 {
    EPOCH.get_or_init(Instant::now).elapsed().as_millis() as u64 + 1
}

/// Says that a statement met a dead or broken connection (see the module's notes).
pub fn connection_failed() {
    LAST_FAILURE_MS.store(now_ms(), Ordering::Relaxed);
    FAILURES.fetch_add(1, Ordering::Relaxed);
}

/// How many connection failures there have been, so a request can tell whether one happened
/// while it ran.
pub fn failures() -> u64 {
    FAILURES.load(Ordering::Relaxed)
}

/// Whether a connection failed in the last [`RECHECK_AFTER`]: the connections sqlx's pool holds
/// idle may have died with it, and sqlx hands them out untested.
fn failed_lately() -> bool {
    let at = LAST_FAILURE_MS.load(Ordering::Relaxed);
    at != 0 && now_ms().saturating_sub(at) < RECHECK_AFTER.as_millis() as u64
}

/// How often a read waiting for a connection given back looks at sqlx's pool again: a connection
/// may have gone there instead (a write was waiting for it, then finished with it).
const LOOK_AGAIN_AFTER: Duration = Duration::from_millis(5);

/// The list of one worker's kept read connections (cheap to clone; `None` keeps nothing).
#[derive(Clone, Default)]
pub struct ReadKeep(Option<Arc<Mutex<Kept>>>);

#[derive(Default)]
struct Kept {
    idle: Vec<KeptConn>,
    /// Reads waiting for the next connection given back, longest waiting first.
    queue: std::collections::VecDeque<oneshot::Sender<KeptConn>>,
    /// Tasks waiting on sqlx's pool for a connection.
    waiting: usize,
    closed: bool,
}

struct KeptConn {
    conn: PoolConnection<Postgres>,
    since: Instant,
    failures: u64,
}

impl std::fmt::Debug for ReadKeep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadKeep")
            .field("idle", &self.idle())
            .finish()
    }
}

impl ReadKeep {
    /// A list that keeps connections.
    pub fn keeping() -> ReadKeep {
        ReadKeep(Some(Default::default()))
    }

    fn lock(&self) -> Option<MutexGuard<'_, Kept>> {
        self.0
            .as_ref()
            .map(|k| k.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Connections kept and idle.
    pub fn idle(&self) -> usize {
        self.lock().map_or(0, |k| k.idle.len())
    }

    /// A read connection: a kept one if there is one, else one from `pool`; when the pool is at
    /// its limit, the next connection a read gives back (in the order the reads came).
    pub async fn acquire(&self, pool: &PgPool) -> sqlx::Result<ReadConn> {
        let failures = FAILURES.load(Ordering::Relaxed);
        if self.0.is_none() {
            return Ok(self.lease(pool.acquire().await?, Instant::now(), failures));
        }
        let deadline = tokio::time::Instant::now() + pool.options().get_acquire_timeout();
        let mut handed: Option<oneshot::Receiver<KeptConn>> = None;
        loop {
            if let Some(rx) = &mut handed {
                let now = tokio::time::Instant::now();
                if now >= deadline {
                    return Err(sqlx::Error::PoolTimedOut);
                }
                match tokio::time::timeout_at(deadline.min(now + LOOK_AGAIN_AFTER), rx).await {
                    Ok(Ok(k)) if k.failures == failures => {
                        return Ok(self.lease(k.conn, k.since, failures));
                    }
                    // Kept from before a failure (back through sqlx's check), or no longer kept.
                    Ok(_) => handed = None,
                    // Look at the pool again, keeping the place in the queue.
                    Err(_) => {}
                }
            }
            let room_in_pool = {
                let mut kept = self.lock().expect("keeping");
                // The one kept longest goes back to sqlx's pool once its minute is up, so a
                // connection no longer needed reaches the pool's idle limit and closes.
                if kept
                    .idle
                    .first()
                    .is_some_and(|k| k.since.elapsed() >= RECHECK_AFTER)
                {
                    drop(kept.idle.remove(0).conn);
                }
                while let Some(k) = kept.idle.pop() {
                    if k.failures == failures {
                        return Ok(self.lease(k.conn, k.since, failures));
                    }
                    drop(k.conn);
                }
                let full =
                    pool.num_idle() == 0 && pool.size() >= pool.options().get_max_connections();
                if !full || kept.closed {
                    // Counted under the same lock, so nothing is kept between the look and the
                    // wait on the pool.
                    kept.waiting += 1;
                    true
                } else {
                    if handed.is_none() {
                        let (tx, rx) = oneshot::channel();
                        kept.queue.push_back(tx);
                        handed = Some(rx);
                    }
                    false
                }
            };
            if room_in_pool {
                // A connection handed to the dropped place goes back to sqlx's pool.
                drop(handed);
                let _waiting = WaitingGuard(self);
                let conn = Self::from_pool(pool).await?;
                return Ok(self.lease(conn, Instant::now(), failures));
            }
        }
    }

    fn lease(&self, conn: PoolConnection<Postgres>, since: Instant, failures: u64) -> ReadConn {
        ReadConn {
            conn: Some(conn),
            since,
            failures,
            keep: self.clone(),
        }
    }

    /// A connection from sqlx's pool; in the minute after a failure, one that answers a ping (a
    /// dead one is closed and the next tried), so an outage costs one failed page, not one per
    /// connection that sat idle through it.
    async fn from_pool(pool: &PgPool) -> sqlx::Result<PoolConnection<Postgres>> {
        let mut tries = 0;
        loop {
            let mut conn = pool.acquire().await?;
            if !failed_lately() {
                return Ok(conn);
            }
            match conn.ping().await {
                Ok(()) => return Ok(conn),
                Err(e) if tries >= 8 => return Err(e),
                Err(_) => drop(conn.detach()),
            }
            tries += 1;
        }
    }

    /// Counts the caller as waiting on sqlx's pool until the guard drops. With `make_room` (the
    /// pool has no idle connection), one kept connection goes back to the pool first.
    pub fn waiting(&self, make_room: bool) -> WaitingGuard<'_> {
        if let Some(mut kept) = self.lock() {
            kept.waiting += 1;
            if make_room && let Some(k) = kept.idle.pop() {
                drop(kept);
                drop(k.conn);
            }
        }
        WaitingGuard(self)
    }

    fn give_back(&self, conn: PoolConnection<Postgres>, since: Instant, failures: u64) {
        if let Some(mut kept) = self.lock()
            && !kept.closed
            && kept.waiting == 0
            && failures == FAILURES.load(Ordering::Relaxed)
            && since.elapsed() < RECHECK_AFTER
        {
            let mut k = KeptConn {
                conn,
                since,
                failures,
            };
            // To the read waiting longest, if any (one that gave up hands it back here).
            while let Some(waiting) = kept.queue.pop_front() {
                match waiting.send(k) {
                    Ok(()) => return,
                    Err(back) => k = back,
                }
            }
            kept.idle.push(k);
            return;
        }
        drop(conn);
    }

    /// Gives every kept connection back to sqlx's pool and keeps none from now on (before the
    /// pool closes, which waits for all of them).
    pub fn release_all(&self) {
        let idle = self.lock().map(|mut k| {
            k.closed = true;
            (std::mem::take(&mut k.idle), std::mem::take(&mut k.queue))
        });
        drop(idle);
    }
}

pub struct WaitingGuard<'a>(&'a ReadKeep);

impl Drop for WaitingGuard<'_> {
    fn drop(&mut self) {
        if let Some(mut kept) = self.0.lock() {
            kept.waiting -= 1;
        }
    }
}

/// A PostgreSQL read connection; when dropped it goes back to its worker's list (or to sqlx's pool).
pub struct ReadConn {
    conn: Option<PoolConnection<Postgres>>,
    since: Instant,
    failures: u64,
    keep: ReadKeep,
}

impl ReadConn {
    /// Takes the connection out of the pool for good, so it closes when dropped (and with it
    /// anything it held in the server, such as advisory locks).
    pub fn detach(mut self) -> PgConnection {
        self.conn.take().expect("held until dropped").detach()
    }
}

impl std::ops::Deref for ReadConn {
    type Target = PgConnection;
    fn deref(&self) -> &PgConnection {
        self.conn.as_ref().expect("held until dropped")
    }
}

impl std::ops::DerefMut for ReadConn {
    fn deref_mut(&mut self) -> &mut PgConnection {
        self.conn.as_mut().expect("held until dropped")
    }
}

impl Drop for ReadConn {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            self.keep.give_back(conn, self.since, self.failures);
        }
    }
}
