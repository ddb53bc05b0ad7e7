//! `bench`: agentdesk at scale. Loads 100 000 deliverables into a fresh database, starts the release
//! server on it, signs staff and customers in through the real form, drives the review queues, lists,
//! a deliverable page, the API list and approvals with concurrent clients, races four scheduler passes
//! over 100 000 due goals, replays each page's own SQL with pgbench for the database's limit, and
//! writes what it measured to docs/benchmarks.md.
//!
//! `cargo run --release --bin bench -- --help`

mod capture;
mod http;
mod load;
mod report;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::time::{Duration, Instant};

use agentdesk::bench_data::{self, Loaded, Scale};
use agentdesk::db::{Db, Engine, PoolSettings};
use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use clap::Parser;
use sqlx::Connection;

use crate::http::Client;
use crate::load::{Outcome, Work};
use crate::report::{EngineReport, Race, Round, ScenarioReport, SchedulerReport};

/// The hidden first argument that makes this process the agentdesk server itself.
const SERVE: &str = "__serve-agentdesk";
const STAFF_SCENARIOS_PREFIX: &str = "/admin";

#[derive(Parser, Debug)]
#[command(
    name = "bench",
    about = "agentdesk at scale: page and approval throughput, the scheduler, memory and start-up, \
             against the database's own limit"
)]
struct Args {
    /// PostgreSQL server URL with the right to create databases (the bench makes its own)
    #[arg(
        long,
        env = "BENCH_DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    postgres: String,
    /// Which engines to measure, in order
    #[arg(long, value_delimiter = ',', default_value = "postgres,sqlite")]
    engines: Vec<String>,
    /// Concurrent clients per scenario (and pgbench connections)
    #[arg(long, default_value_t = 32)]
    clients: usize,
    /// Measured seconds per scenario (after the warm-up)
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Runs of each page scenario on PostgreSQL, each followed by its statements replayed alone;
    /// medians are reported (the machine's speed drifts between runs)
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Warm-up seconds per scenario, not counted
    #[arg(long, default_value_t = 2)]
    warmup: u64,
    /// Dataset size: `bench` (100 000 deliverables) or `small` (5 000, to try the bench quickly)
    #[arg(long, default_value = "bench")]
    scale: String,
    /// Due goals the four concurrent scheduler passes share
    #[arg(long, default_value_t = 100_000)]
    due_goals: u32,
    /// Scheduler races, each on the next day (so every due goal owes a new draft); the median is
    /// reported
    #[arg(long, default_value_t = 3)]
    races: usize,
    /// PostgreSQL's log file, to read back each page's statements [default: Debian's for the server's version]
    #[arg(long)]
    pg_log: Option<PathBuf>,
    /// Ask for gzip bodies like a browser does
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    gzip: bool,
    /// Only these scenarios (names as in the report: staff_queue, …, approve, scheduler) [default: all]
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Leave the loaded database (`agentdesk_bench`, or its SQLite file) behind, to study its
    /// statements with EXPLAIN or pgbench; the next run replaces it
    #[arg(long)]
    keep: bool,
    /// Where the report goes (it is also printed)
    #[arg(long, default_value = "docs/benchmarks.md")]
    out: PathBuf,
}

fn main() -> std::process::ExitCode {
    let mut args = std::env::args_os();
    if std::env::args_os().nth(1).is_some_and(|a| a == SERVE) {
        // The server as the `agentdesk` binary runs it: same entry point, same allocator settings.
        let program = args.next().unwrap_or_default();
        let rest: Vec<_> = args.skip(1).collect();
        return agentdesk::cli::main(std::iter::once(program).chain(rest));
    }
    let args = Args::parse();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("the runtime starts");
    match rt.block_on(run(args)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> anyhow::Result<()> {
    let scale = match args.scale.as_str() {
        "bench" => Scale::BENCH,
        "small" => Scale::SMALL,
        other => bail!("--scale is bench or small, not {other}"),
    };
    // Server logs and pgbench scripts stay here for a look afterwards (the databases do not).
    let work = std::env::current_dir()?.join("target").join("bench");
    std::fs::create_dir_all(&work)?;
    let mut engines = vec![];
    for e in &args.engines {
        let engine = match e.as_str() {
            "postgres" => Engine::Postgres,
            "sqlite" => Engine::Sqlite,
            other => bail!("--engines takes postgres and sqlite, not {other}"),
        };
        eprintln!("== {} ==", engine.name());
        engines.push(bench_engine(&args, engine, scale, &work).await?);
    }
    let text = report::render(&args_line(), &report::machine().await, &engines);
    println!("{text}");
    if let Some(dir) = args.out.parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&args.out, &text)?;
    eprintln!(
        "written to {}; server logs and pgbench scripts in {}",
        args.out.display(),
        work.display()
    );
    Ok(())
}

fn args_line() -> String {
    // Quoted where a shell would read the argument otherwise (URLs with `&` or `?`).
    let args: Vec<String> = std::env::args()
        .skip(1)
        .map(|a| {
            if a.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_=,./:".contains(c))
            {
                a
            } else {
                format!("'{}'", a.replace('\'', "'\\''"))
            }
        })
        .collect();
    format!("cargo run --release --bin bench -- {}", args.join(" "))
        .trim_end()
        .to_string()
}

/// A database of the bench's own on the chosen engine, dropped and made again on every run.
struct BenchDb {
    url: String,
    /// PostgreSQL: the server URL and the database's name.
    server: Option<(String, String)>,
    /// SQLite: the database file.
    file: Option<PathBuf>,
}

impl BenchDb {
    async fn fresh(args: &Args, engine: Engine, name: &str, work: &Path) -> anyhow::Result<Self> {
        match engine {
            Engine::Postgres => {
                let mut admin = sqlx::PgConnection::connect(&args.postgres)
                    .await
                    .with_context(|| format!("connecting to {}", args.postgres))?;
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .execute(&mut admin)
                .await?;
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&mut admin)
                    .await?;
                let mut u = url::Url::parse(&args.postgres)?;
                u.set_path(&format!("/{name}"));
                Ok(BenchDb {
                    url: u.to_string(),
                    server: Some((args.postgres.clone(), name.to_string())),
                    file: None,
                })
            }
            Engine::Sqlite => {
                let file = work.join(format!("{name}.db"));
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
                }
                Ok(BenchDb {
                    url: format!("sqlite://{}", file.display()),
                    server: None,
                    file: Some(file),
                })
            }
        }
    }

    async fn admin_sql(&self, sql: String) -> anyhow::Result<()> {
        let (server, _) = self.server.as_ref().context("PostgreSQL only")?;
        let mut admin = sqlx::PgConnection::connect(server).await?;
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(&mut admin)
            .await?;
        Ok(())
    }

    async fn drop(&self) {
        if let Some(file) = &self.file {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
            }
        }
        if let Some((_, name)) = &self.server {
            let _ = self
                .admin_sql(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await;
        }
    }
}

/// A running agentdesk server, stopped when dropped.
struct Server {
    child: tokio::process::Child,
    addr: SocketAddr,
    /// From spawning the process to its first answered readiness check.
    started_in: Duration,
}

const SECRET_KEY: &str = "agentdesk-bench-secret-key-0123456789abcdef0123456789";

impl Server {
    async fn start(db_url: &str, work: &Path, log_name: &str) -> anyhow::Result<Server> {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0")?;
            l.local_addr()?.port()
        };
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse()?;
        let log = std::fs::File::create(work.join(format!("{log_name}.log")))?;
        let started = Instant::now();
        let child = tokio::process::Command::new(std::env::current_exe()?)
            .arg(SERVE)
            .arg("serve")
            .current_dir(work)
            .env("DATABASE_URL", db_url)
            .env_remove("AGENTDESK_MIGRATE_DATABASE_URL")
            .env("AGENTDESK_BIND", addr.to_string())
            .env("AGENTDESK_SCHEDULER", "off")
            .env("AGENTDESK_SECRET_KEY", SECRET_KEY)
            .env("AGENTDESK_ADMIN_EMAIL", "bench-admin@agentdesk.test")
            .env("AGENTDESK_ADMIN_PASSWORD", "bench-admin-password-1")
            .env("AGENTDESK_COOKIE_SECURE", "false")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true)
            .spawn()?;
        let mut server = Server {
            child,
            addr,
            started_in: Duration::ZERO,
        };
        let mut probe = Client::new(addr);
        loop {
            if let Ok(r) = probe.get("/health/ready").await
                && r.status == 200
            {
                break;
            }
            if let Some(status) = server.child.try_wait()? {
                bail!(
                    "the server exited ({status}); see {}",
                    work.join(format!("{log_name}.log")).display()
                );
            }
            if started.elapsed() > Duration::from_secs(120) {
                bail!("the server was not ready within two minutes");
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        server.started_in = started.elapsed();
        Ok(server)
    }

    fn pid(&self) -> u32 {
        self.child.id().unwrap_or(0)
    }

    async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

/// Puts the CPU seconds of a scenario's measured window into its report, per answered request.
fn print_cpu(name: &str, cpu: Option<(f64, Option<f64>)>, answered: u64) {
    let Some((server_s, db_s)) = cpu else { return };
    let answered = answered.max(1) as f64;
    eprintln!(
        "{name}: CPU per request {:.2} ms server, {} DB",
        server_s * 1000.0 / answered,
        db_s.map_or("–".into(), |d| format!("{:.2} ms", d * 1000.0 / answered))
    );
}

/// A process's user + system CPU time so far, in clock ticks (`/proc/<pid>/stat`).
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The fields after the command's closing parenthesis: state is the 1st, utime the 12th.
    let Some((_, rest)) = stat.rsplit_once(") ") else {
        return 0;
    };
    let f: Vec<&str> = rest.split_whitespace().collect();
    let field = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    field(11) + field(12)
}

/// CPU ticks of every process named `postgres` (the server and its backends).
fn postgres_ticks() -> u64 {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0;
    };
    dir.filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|c| c.trim() == "postgres")
        })
        .map(cpu_ticks)
        .sum()
}

/// CPU seconds the server (and PostgreSQL's processes) used in the measured window that starts
/// after `warmup` and lasts `duration`, as the load generator times it.
async fn cpu_over(
    pid: u32,
    engine: Engine,
    warmup: Duration,
    duration: Duration,
) -> (f64, Option<f64>) {
    let pg = engine == Engine::Postgres;
    tokio::time::sleep(warmup).await;
    let (s0, p0) = (cpu_ticks(pid), if pg { postgres_ticks() } else { 0 });
    tokio::time::sleep(duration).await;
    let (s1, p1) = (cpu_ticks(pid), if pg { postgres_ticks() } else { 0 });
    (tick_secs(s0, s1), pg.then(|| tick_secs(p0, p1)))
}

/// The CPU seconds between two readings of clock ticks.
fn tick_secs(before: u64, after: u64) -> f64 {
    // SAFETY: sysconf only reads a constant of the system.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    after.saturating_sub(before) as f64 / hz
}

/// Resident memory of a process in MB, from /proc.
fn rss_mb(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

/// Samples a process's resident memory until told to stop; answers the highest seen.
fn sample_rss(
    pid: u32,
) -> (
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<f64>,
) {
    let (tx, mut rx) = tokio::sync::oneshot::channel();
    let handle = tokio::spawn(async move {
        let mut max: f64 = 0.0;
        loop {
            max = max.max(rss_mb(pid));
            tokio::select! {
                _ = &mut rx => break,
                _ = tokio::time::sleep(Duration::from_millis(50)) => {}
            }
        }
        max
    });
    (tx, handle)
}

/// One scenario: who sends it and what.
struct Scenario {
    name: &'static str,
    what: String,
    staff: bool,
    work: Work,
    /// The one request whose statements pgbench replays.
    sample: String,
    /// Lists count against the "within 2× of the staff queue" target.
    list: bool,
}

async fn sign_in_all(
    addr: SocketAddr,
    login: &bench_data::Login,
    n: usize,
    gzip: bool,
) -> anyhow::Result<Vec<Client>> {
    let mut clients = vec![];
    for _ in 0..n {
        let mut c = Client::new(addr);
        c.sign_in(&login.email, &login.password).await?;
        c.gzip = gzip;
        clients.push(c);
    }
    Ok(clients)
}

/// Follows the queue's "Next page" links to the address of page `n`.
async fn keyset_page(c: &mut Client, first: &str, n: usize) -> anyhow::Result<String> {
    let gzip = std::mem::replace(&mut c.gzip, false);
    let mut path = first.to_string();
    for page in 1..n {
        let html = c.get(&path).await?.text();
        let marker = "<a href=\"";
        let foot = html
            .find("class=\"list-foot\"")
            .context("the queue has a list foot")?;
        let Some(at) = html[foot..].find(marker) else {
            // A small dataset has fewer pages: its last one stands in.
            eprintln!("the queue has only {page} pages; page {page} stands in for page {n}");
            break;
        };
        let start = foot + at + marker.len();
        let end = html[start..].find('"').context("a closed href")? + start;
        path = http::unescape_href(&html[start..end]);
    }
    c.gzip = gzip;
    Ok(path)
}

fn scenarios(data: &Loaded, page200: &str) -> Vec<Scenario> {
    let get = |paths: Vec<String>| Work::Get {
        paths: Arc::new(paths),
        expect: 200,
    };
    let filtered = format!(
        "/admin/reviews?type={}&customer={}",
        http::encode(&data.agent_type_id),
        http::encode(&data.filter_customer_id)
    );
    let deliverable = format!("/portal/deliverables/{}", data.deliverable_id);
    let api = format!("/api/v1/hired-agents/{}/deliverables", data.hired_agent_id);
    vec![
        Scenario {
            name: "staff_queue",
            what: "Staff review queue, first page of 50 (`/admin/reviews`)".into(),
            staff: true,
            work: get(vec!["/admin/reviews".into()]),
            sample: "/admin/reviews".into(),
            list: true,
        },
        Scenario {
            name: "staff_queue_filtered",
            what: "The same filtered by agent type and customer".into(),
            staff: true,
            work: get(vec![filtered.clone()]),
            sample: filtered,
            list: true,
        },
        Scenario {
            name: "staff_queue_page_200",
            what: "Page 200 of the staff queue (keyset `after=`)".into(),
            staff: true,
            work: get(vec![page200.to_string()]),
            sample: page200.to_string(),
            list: true,
        },
        Scenario {
            name: "customer_queue",
            what: "A customer's review queue (`/portal/reviews`)".into(),
            staff: false,
            work: get(vec!["/portal/reviews".into()]),
            sample: "/portal/reviews".into(),
            list: true,
        },
        Scenario {
            name: "hired_agents_list",
            what: "Staff hired-agents list (`/admin/hired-agents`)".into(),
            staff: true,
            work: get(vec!["/admin/hired-agents".into()]),
            sample: "/admin/hired-agents".into(),
            list: true,
        },
        Scenario {
            name: "deliverable_page",
            what: "A deliverable's page (customer)".into(),
            staff: false,
            work: get(vec![deliverable.clone()]),
            sample: deliverable,
            list: false,
        },
        Scenario {
            name: "api_deliverables",
            what: "`GET /api/v1/hired-agents/{id}/deliverables` (customer)".into(),
            staff: false,
            work: get(vec![api.clone()]),
            sample: api,
            list: true,
        },
    ]
}

async fn bench_engine(
    args: &Args,
    engine: Engine,
    scale: Scale,
    work: &Path,
) -> anyhow::Result<EngineReport> {
    let mut rep = EngineReport::new(engine);

    // Start-up with every migration, on an empty database.
    let empty = BenchDb::fresh(args, engine, "agentdesk_bench_empty", work).await?;
    let server = Server::start(&empty.url, work, &format!("{}-empty", engine.name())).await?;
    rep.startup_empty_ms = server.started_in.as_secs_f64() * 1000.0;
    eprintln!(
        "start-up on an empty database: {:.0} ms",
        rep.startup_empty_ms
    );
    server.stop().await;
    empty.drop().await;

    // The dataset, set-based, through the library's own pool.
    let bench = BenchDb::fresh(args, engine, "agentdesk_bench", work).await?;
    let db = Db::connect(&bench.url, &PoolSettings::default()).await?;
    agentdesk::db::migrate::up(&db, Utc::now()).await?;
    let loading = Instant::now();
    let now = Utc::now();
    let data = bench_data::load(&db, scale, now).await?;
    if let Db::Postgres(p, ..) = &db {
        // What autovacuum would do a minute later: hint bits and the visibility map set now, so the
        // measured runs do not pay for a fresh bulk load's first reads.
        sqlx::raw_sql("VACUUM (ANALYZE)").execute(p).await?;
    }
    rep.load_seconds = loading.elapsed().as_secs_f64();
    rep.counts = data.counts.clone();
    eprintln!("dataset loaded in {:.1} s", rep.load_seconds);
    settle_writes(&db).await;

    // PostgreSQL: one request per scenario with the statement log on, read back for pgbench.
    let mut scripts: Vec<(String, capture::Script)> = vec![];
    if engine == Engine::Postgres {
        match capture_statements(args, &bench, &data, work).await {
            Ok(s) => scripts = s,
            Err(e) => {
                eprintln!("no DB-only figures: {e:#}");
                rep.db_only_note = Some(format!("{e:#}"));
            }
        }
    }

    // The measured server.
    let server = Server::start(&bench.url, work, engine.name()).await?;
    rep.startup_loaded_ms = server.started_in.as_secs_f64() * 1000.0;
    let pid = server.pid();
    rep.rss_idle_start_mb = rss_mb(pid);
    let mut staff = sign_in_all(server.addr, &data.staff, args.clients, args.gzip).await?;
    let mut customers = sign_in_all(server.addr, &data.customer, args.clients, args.gzip).await?;
    let page200 = keyset_page(&mut staff[0], "/admin/reviews", 200).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    rep.rss_idle_mb = rss_mb(pid);
    rep.sessions = staff.len() + customers.len();
    let (stop_sampling, sampler) = sample_rss(pid);
    let warmup = Duration::from_secs(args.warmup);
    let duration = Duration::from_secs(args.seconds);
    // Each page runs `rounds` times, each run followed at once by the database alone on the same
    // statements, same concurrency, with the server idle (see `ScenarioReport::from_rounds`). All
    // before the approvals: each approval leaves a dead entry at the head of the pending queue's
    // index until vacuum, so a replay after them walked thousands of those and measured a slower
    // database than the pages had (the staff queue's DB-alone rate halved).
    for s in scenarios(&data, &page200) {
        if !wanted(args, s.name) {
            continue;
        }
        let script = scripts.iter().find(|(n, _)| n == s.name).map(|(_, k)| k);
        // Rounds pair a page run with its replay; without a replay (SQLite) one run says it all.
        let runs = if script.is_some() {
            args.rounds.max(1)
        } else {
            1
        };
        let mut rounds = vec![];
        for _ in 0..runs {
            let clients = if s.staff { &mut staff } else { &mut customers };
            let cpu = tokio::spawn(cpu_over(pid, engine, warmup, duration));
            let outcome = load::run(clients, s.work.clone(), warmup, duration).await;
            print_outcome(s.name, &outcome);
            let cpu = cpu.await.ok();
            print_cpu(s.name, cpu, outcome.requests);
            let db_only = match script {
                Some(script) => {
                    match capture::pgbench(&bench.url, script, args.clients, args.seconds).await {
                        Ok(tps) => {
                            eprintln!(
                                "{}: database alone {tps:.0}/s ({:.0} % of it)",
                                s.name,
                                100.0 * outcome.rate() / tps
                            );
                            Some(tps)
                        }
                        Err(e) => {
                            eprintln!("{}: pgbench: {e:#}", s.name);
                            None
                        }
                    }
                }
                None => None,
            };
            rounds.push(Round {
                outcome,
                cpu,
                db_only,
            });
        }
        let mut sr = ScenarioReport::from_rounds(s.name, &s.what, s.list, rounds);
        sr.statements = script.map(|k| k.statements);
        rep.scenarios.push(sr);
    }

    // Approvals over distinct pending deliverables, each a transaction with its records.
    let approve = Work::Approve {
        prefix: STAFF_SCENARIOS_PREFIX,
        ids: Arc::new(data.pending_ids.clone()),
        next: Arc::new(AtomicUsize::new(0)),
    };
    if wanted(args, "approve") {
        let cpu = tokio::spawn(cpu_over(pid, engine, warmup, duration));
        let outcome = load::run(&mut staff, approve, warmup, duration).await;
        print_outcome("approve", &outcome);
        let cpu = cpu.await.ok();
        print_cpu("approve", cpu, outcome.requests);
        // One round: each approval uses up a pending deliverable.
        let mut sr = ScenarioReport::from_rounds(
            "approve",
            "Approve (form POST) over distinct pending deliverables, staff on behalf",
            false,
            vec![Round {
                outcome,
                cpu,
                db_only: None,
            }],
        );
        sr.statements = scripts
            .iter()
            .find(|(n, _)| n == "approve")
            .map(|(_, k)| k.statements);
        rep.scenarios.push(sr);
    }
    let _ = stop_sampling.send(());
    rep.rss_load_mb = sampler.await.unwrap_or(f64::NAN);
    tokio::time::sleep(Duration::from_secs(2)).await;
    rep.rss_after_mb = rss_mb(pid);
    drop(staff);
    drop(customers);
    server.stop().await;

    // Races of four scheduler passes at once over the due goals, on successive days.
    if wanted(args, "scheduler") {
        rep.scheduler = Some(scheduler_races(&db, &bench.url, args.due_goals, args.races).await?);
    }
    db.close().await;
    if args.keep {
        eprintln!("kept the loaded database: {}", bench.url);
    } else {
        bench.drop().await;
    }
    Ok(rep)
}

/// Writes out what the load left to be written, before anything is measured. The load leaves
/// hundreds of megabytes of pages written to the kernel's cache but not yet to disk, and on
/// PostgreSQL a checkpoint that its WAL volume started and paces over the next minutes. Both were
/// written back during the first measured run: the kernel's flush, about 30 s after the load (640 MB
/// dirty at that run's start, seen in /proc/meminfo), slowed its pages by a fifth to a third for
/// about a second, and its p99 took the hit. A server in service has no bulk load behind it.
async fn settle_writes(db: &Db) {
    let step = match db {
        // Needs a superuser or the pg_checkpoint role, which a user who creates databases may lack.
        Db::Postgres(p, ..) => sqlx::raw_sql("CHECKPOINT").execute(p).await.map(|_| ()),
        Db::Sqlite(p) => sqlx::raw_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(p)
            .await
            .map(|_| ()),
    };
    if let Err(e) = step {
        eprintln!("no checkpoint after the load ({e}); the first run may pay for its writes");
    }
    // The kernel's own cache, whatever wrote it.
    if let Err(e) = tokio::process::Command::new("sync").status().await {
        eprintln!("could not run sync after the load: {e}");
    }
}

/// Whether `--only` keeps this scenario.
fn wanted(args: &Args, name: &str) -> bool {
    args.only.is_empty() || args.only.iter().any(|o| o == name)
}

fn print_outcome(name: &str, o: &Outcome) {
    eprintln!(
        "{name}: {:.0}/s, p50 {:.2} ms, p99 {:.2} ms, {:.1} kB per answer, {} errors{}",
        o.rate(),
        o.percentile_ms(0.5),
        o.percentile_ms(0.99),
        o.mean_bytes / 1000.0,
        o.errors,
        o.first_error
            .as_deref()
            .map(|e| format!(" (first: {e})"))
            .unwrap_or_default()
    );
}

/// Turns the statement log on for the bench database, sends each scenario's request once (twice:
/// the second is kept, so first-use work does not count), and turns it off again.
async fn capture_statements(
    args: &Args,
    bench: &BenchDb,
    data: &Loaded,
    work: &Path,
) -> anyhow::Result<Vec<(String, capture::Script)>> {
    let (server_url, name) = bench.server.as_ref().context("PostgreSQL only")?;
    let log = match &args.pg_log {
        Some(p) => p.clone(),
        None => {
            let mut c = sqlx::PgConnection::connect(server_url).await?;
            let v: String = sqlx::query_scalar("SHOW server_version_num")
                .fetch_one(&mut c)
                .await?;
            let major = v.parse::<u32>()? / 10000;
            PathBuf::from(format!("/var/log/postgresql/postgresql-{major}-main.log"))
        }
    };
    let offset = std::fs::metadata(&log)
        .with_context(|| format!("PostgreSQL's log {} (set --pg-log)", log.display()))?
        .len();
    bench
        .admin_sql(format!(
            "ALTER DATABASE {name} SET log_statement = 'all'; \
             ALTER DATABASE {name} SET log_parameter_max_length = -1"
        ))
        .await?;
    let result = async {
        let server = Server::start(&bench.url, work, "postgres-capture").await?;
        let mut staff = Client::new(server.addr);
        staff
            .sign_in(&data.staff.email, &data.staff.password)
            .await?;
        let mut customer = Client::new(server.addr);
        customer
            .sign_in(&data.customer.email, &data.customer.password)
            .await?;
        let page200 = keyset_page(&mut staff, "/admin/reviews", 200).await?;
        let mut marks = sqlx::PgConnection::connect(&bench.url).await?;
        for s in scenarios(data, &page200) {
            let c = if s.staff { &mut staff } else { &mut customer };
            c.get(&s.sample).await?;
            sqlx::query(sqlx::AssertSqlSafe(capture::marker_sql("begin", s.name)))
                .execute(&mut marks)
                .await?;
            let r = c.get(&s.sample).await?;
            sqlx::query(sqlx::AssertSqlSafe(capture::marker_sql("end", s.name)))
                .execute(&mut marks)
                .await?;
            if r.status != 200 {
                bail!("{} answered {}", s.sample, r.status);
            }
            // What the page looked like, for a look afterwards.
            let pages = work.join("pages");
            std::fs::create_dir_all(&pages)?;
            std::fs::write(pages.join(format!("{}.html", s.name)), &r.body)?;
        }
        // One approval, for its statement count (it cannot be replayed: it writes unique rows).
        let last = data
            .pending_ids
            .last()
            .context("the dataset has pending deliverables")?;
        sqlx::query(sqlx::AssertSqlSafe(capture::marker_sql("begin", "approve")))
            .execute(&mut marks)
            .await?;
        let r = staff
            .post_form(&format!("/admin/deliverables/{last}/approve"), &[])
            .await?;
        sqlx::query(sqlx::AssertSqlSafe(capture::marker_sql("end", "approve")))
            .execute(&mut marks)
            .await?;
        if r.status != 303 {
            bail!("approving {last} answered {}", r.status);
        }
        server.stop().await;
        Ok(())
    }
    .await;
    bench
        .admin_sql(format!(
            "ALTER DATABASE {name} RESET log_statement; \
             ALTER DATABASE {name} RESET log_parameter_max_length"
        ))
        .await?;
    result?;
    // The log is written by the server processes; give the last lines a moment.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let captured = capture::statements_between_markers(&log, offset, name)?;
    let dir = work.join("pgbench");
    std::fs::create_dir_all(&dir)?;
    let mut out = vec![];
    for (scenario, statements) in captured {
        let script = capture::write_script(&dir, &scenario, &statements)?;
        eprintln!(
            "{scenario}: {} statements per request ({})",
            statements.len(),
            script.path.display()
        );
        out.push((scenario, script));
    }
    if out.is_empty() {
        bail!(
            "no statements of database {name} found in {}; is it the server's log?",
            log.display()
        );
    }
    Ok(out)
}

/// Adds the due goals, then races four scheduler passes over them `races` times, each a day after
/// the last, so every due goal owes a new draft (the dataset's own goals owe theirs too).
async fn scheduler_races(
    db: &Db,
    url: &str,
    due_goals: u32,
    races: usize,
) -> anyhow::Result<SchedulerReport> {
    let now = Utc::now();
    let setup = Instant::now();
    let goals = bench_data::add_due_goals(db, due_goals, now).await?;
    eprintln!(
        "scheduler: {goals} due goals added in {:.1} s",
        setup.elapsed().as_secs_f64()
    );
    let mut report = SchedulerReport {
        goals,
        races: vec![],
    };
    for day in 0..races.max(1) {
        let at = now + chrono::Duration::days(day as i64);
        let owed = if day == 0 {
            goals
        } else {
            bench_data::owed(db, at).await?
        };
        report.races.push(scheduler_race(db, url, owed, at).await?);
    }
    Ok(report)
}

/// Four scheduler passes at once at `at`, each on a pool of its own, that owe `owed` drafts.
async fn scheduler_race(db: &Db, url: &str, owed: u64, at: DateTime<Utc>) -> anyhow::Result<Race> {
    let before: i64 = count(db, "SELECT COUNT(*) FROM deliverables").await?;
    let mut pools = vec![];
    for _ in 0..4 {
        pools.push(Db::connect(url, &PoolSettings::default()).await?);
    }
    let barrier = Arc::new(tokio::sync::Barrier::new(pools.len()));
    let pg = db.engine() == Engine::Postgres;
    let me = std::process::id();
    let (own0, pg0) = (cpu_ticks(me), if pg { postgres_ticks() } else { 0 });
    let started = Instant::now();
    let mut passes = vec![];
    for pool in &pools {
        let (barrier, pool) = (barrier.clone(), pool.clone());
        passes.push(tokio::spawn(async move {
            barrier.wait().await;
            agentdesk::service::generation::run_due(&pool, at, None).await
        }));
    }
    let mut generated = 0u64;
    let mut split = vec![];
    for p in passes {
        let r = p.await?.map_err(|e| anyhow::anyhow!("{e}"))?;
        generated += r.generated;
        split.push(r.generated);
    }
    let seconds = started.elapsed().as_secs_f64();
    // Read before the pools close: PostgreSQL's backends take their ticks with them.
    let (own1, pg1) = (cpu_ticks(me), if pg { postgres_ticks() } else { 0 });
    for pool in pools {
        pool.close().await;
    }
    let per_draft = |secs: f64| secs * 1000.0 / generated.max(1) as f64;
    let passes_cpu_ms = per_draft(tick_secs(own0, own1));
    let db_cpu_ms = pg.then(|| per_draft(tick_secs(pg0, pg1)));
    let after: i64 = count(db, "SELECT COUNT(*) FROM deliverables").await?;
    let distinct: i64 = count(
        db,
        "SELECT COUNT(*) FROM (SELECT DISTINCT goal_instance_id, period_key FROM deliverables) d",
    )
    .await?;
    let exactly_once = generated == owed && (after - before) as u64 == owed && distinct == after;
    eprintln!(
        "scheduler: {owed} owed, {generated} made by 4 passes {split:?} in {seconds:.2} s \
         = {:.0} drafts/s, exactly once: {exactly_once}; CPU per draft {passes_cpu_ms:.3} ms \
         passes, {} DB",
        generated as f64 / seconds,
        db_cpu_ms.map_or("–".into(), |d| format!("{d:.3} ms"))
    );
    Ok(Race {
        passes_cpu_ms,
        db_cpu_ms,
        drafts: generated,
        seconds,
        split,
        exactly_once,
    })
}

async fn count(db: &Db, sql: &'static str) -> anyhow::Result<i64> {
    Ok(match db {
        Db::Postgres(p, ..) => sqlx::query_scalar(sql).fetch_one(p).await?,
        Db::Sqlite(p) => sqlx::query_scalar(sql).fetch_one(p).await?,
    })
}
