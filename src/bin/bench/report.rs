//! What the bench measured, as the Markdown of docs/benchmarks.md, with the targets checked.

use agentdesk::db::Engine;

use crate::load::Outcome;

pub struct ScenarioReport {
    pub name: &'static str,
    pub what: String,
    pub list: bool,
    pub errors: u64,
    pub first_error: Option<String>,
    pub rate: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// The rest of the latencies' spread: 90th and 99.9th percentiles and the slowest answer.
    pub p90_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
    /// Each round's own p99, in the order they ran: how far one run's tail can move from the next.
    pub round_p99_ms: Vec<f64>,
    pub mean_kb: f64,
    /// Statements one request issued (PostgreSQL's log).
    pub statements: Option<usize>,
    /// pgbench's rate for those statements alone, per second (the median round's).
    pub db_only: Option<f64>,
    /// The page's rate as a fraction of its statements' rate alone: the median of the rounds'
    /// fractions, each from a page run and the replay right after it.
    pub of_db: Option<f64>,
    /// How many times the page (and its replay) ran.
    pub rounds: usize,
    /// CPU time per answered request over the measured seconds: the server's, and PostgreSQL's
    /// (all its processes; none for SQLite, which runs inside the server), in milliseconds.
    pub server_cpu_ms: f64,
    pub db_cpu_ms: Option<f64>,
}

/// One run of a scenario: the load, the CPU seconds it took (server, PostgreSQL), and the replay
/// of its statements alone right after it.
pub struct Round {
    pub outcome: Outcome,
    pub cpu: Option<(f64, Option<f64>)>,
    pub db_only: Option<f64>,
}

impl Round {
    fn cpu_ms(&self) -> Option<(f64, Option<f64>)> {
        let (server, db) = self.cpu?;
        let answered = self.outcome.requests.max(1) as f64;
        Some((
            server * 1000.0 / answered,
            db.map(|d| d * 1000.0 / answered),
        ))
    }
}

/// The middle value (the mean of the two middle ones for an even count); `None` for none.
pub fn median(mut v: Vec<f64>) -> Option<f64> {
    v.retain(|x| x.is_finite());
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

impl ScenarioReport {
    /// A scenario from its rounds: the median round's rate, CPU and DB-alone rate, the median of
    /// the rounds' fractions of DB-alone, and the percentiles of every request of every round.
    /// (The machine's speed drifts by ±15 % from one minute to the next; a page run and the
    /// replay right after it see about the same machine, so their ratio is steadier than either.)
    pub fn from_rounds(name: &'static str, what: &str, list: bool, rounds: Vec<Round>) -> Self {
        let rate = median(rounds.iter().map(|r| r.outcome.rate()).collect()).unwrap_or(0.0);
        let db_only = median(rounds.iter().filter_map(|r| r.db_only).collect());
        let of_db = median(
            rounds
                .iter()
                .filter_map(|r| r.db_only.map(|db| r.outcome.rate() / db))
                .collect(),
        );
        let cpu: Vec<_> = rounds.iter().filter_map(Round::cpu_ms).collect();
        let server_cpu_ms = median(cpu.iter().map(|c| c.0).collect()).unwrap_or(f64::NAN);
        let db_cpu_ms = median(cpu.iter().filter_map(|c| c.1).collect());
        let n = rounds.len();
        let round_p99_ms = rounds
            .iter()
            .map(|r| r.outcome.percentile_ms(0.99))
            .collect();
        let all = Outcome::merge(rounds.into_iter().map(|r| r.outcome));
        ScenarioReport {
            name,
            what: what.into(),
            list,
            errors: all.errors,
            first_error: all.first_error.clone(),
            rate,
            p50_ms: all.percentile_ms(0.5),
            p99_ms: all.percentile_ms(0.99),
            p90_ms: all.percentile_ms(0.9),
            p999_ms: all.percentile_ms(0.999),
            max_ms: all.percentile_ms(1.0),
            round_p99_ms,
            mean_kb: all.mean_bytes / 1000.0,
            statements: None,
            db_only,
            of_db,
            rounds: n,
            server_cpu_ms,
            db_cpu_ms,
        }
    }
}

/// The scheduler's races over the due goals the bench added.
pub struct SchedulerReport {
    pub goals: u64,
    pub races: Vec<Race>,
}

/// One race: four passes at once at one instant.
pub struct Race {
    pub drafts: u64,
    pub seconds: f64,
    /// Drafts each pass made.
    pub split: Vec<u64>,
    pub exactly_once: bool,
    /// CPU milliseconds per draft of the passes (the bench's process) and of PostgreSQL.
    pub passes_cpu_ms: f64,
    pub db_cpu_ms: Option<f64>,
}

impl Race {
    pub fn rate(&self) -> f64 {
        self.drafts as f64 / self.seconds
    }
}

impl SchedulerReport {
    /// The median race's drafts/s.
    pub fn rate(&self) -> f64 {
        median(self.races.iter().map(Race::rate).collect()).unwrap_or(f64::NAN)
    }

    pub fn exactly_once(&self) -> bool {
        !self.races.is_empty() && self.races.iter().all(|r| r.exactly_once)
    }
}

pub struct EngineReport {
    pub engine: Engine,
    pub counts: Vec<(&'static str, i64)>,
    pub load_seconds: f64,
    pub startup_empty_ms: f64,
    pub startup_loaded_ms: f64,
    pub rss_idle_start_mb: f64,
    /// Sessions signed in while idle memory was read.
    pub sessions: usize,
    pub rss_idle_mb: f64,
    pub rss_load_mb: f64,
    pub rss_after_mb: f64,
    pub scenarios: Vec<ScenarioReport>,
    pub scheduler: Option<SchedulerReport>,
    pub db_only_note: Option<String>,
}

impl EngineReport {
    pub fn new(engine: Engine) -> Self {
        EngineReport {
            engine,
            counts: vec![],
            load_seconds: 0.0,
            startup_empty_ms: 0.0,
            startup_loaded_ms: 0.0,
            rss_idle_start_mb: 0.0,
            sessions: 0,
            rss_idle_mb: 0.0,
            rss_load_mb: 0.0,
            rss_after_mb: 0.0,
            scenarios: vec![],
            scheduler: None,
            db_only_note: None,
        }
    }
}

/// The machine, as /proc and the database servers describe it.
pub async fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let mem_gb = std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map(|kb| kb / 1024.0 / 1024.0)
        .unwrap_or(0.0);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .unwrap_or_default()
        .trim()
        .to_string();
    format!(
        "{cores} cores ({model}), {mem_gb:.0} GiB memory, Linux {kernel}; the server, the database and \
         the load generator share the cores"
    )
}

fn fmt_ms(v: f64) -> String {
    if v.is_nan() {
        "–".into()
    } else if v < 10.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.1}")
    }
}

fn check(ok: bool) -> &'static str {
    if ok { "met" } else { "**missed**" }
}

pub fn render(command: &str, machine: &str, engines: &[EngineReport]) -> String {
    let mut s = String::new();
    s.push_str("# Benchmarks\n\n");
    s.push_str(
        "Written by the `bench` binary (`src/bin/bench/`); every figure below comes from one run of\n\
         it. Rerun it to measure your own machine:\n\n",
    );
    s.push_str(&format!("```sh\ncargo build --release\n{command}\n```\n\n"));
    s.push_str(&format!(
        "- Run on {}: {machine}.\n",
        chrono::Utc::now().format("%Y-%m-%d")
    ));
    s.push_str(
        "- Each scenario: the release server (scheduler off) on a freshly loaded database (vacuumed, \
         checkpointed and synced to disk before anything is measured, so no run pays for the load's \
         writes), clients signed in through the real sign-in form (each its own session), each client on one keep-alive \
         connection sending its next request as soon as the last one answered (asking for gzip like a \
         browser; agentdesk compresses only its static files, so pages come back whole: *kB* is an \
         answer's mean size); a warm-up, then the measured seconds. Rates are requests per second over \
         the measured time, latencies the 50th and 99th percentiles of every request answered in it.\n",
    );
    s.push_str(
        "- *Rounds*: the machine's speed drifts by up to ±15 % from one minute to the next, so each \
         page runs several times, each run followed at once by its DB-alone replay; a page's rate, \
         DB-alone rate and CPU are the median round's, its *Of DB* the median of the rounds' own \
         fractions (a page run and the replay right after it see about the same machine), its \
         latencies the percentiles of every request of every round.\n",
    );
    s.push_str(
        "- *DB alone*: the exact statements one request of the page issued (session, user and page \
         queries, read back from PostgreSQL's statement log with their parameter values) replayed by \
         `pgbench -M prepared` at the same concurrency while the server is idle, right after each of \
         the page's runs and before the approvals (which change the queue): the most that page could \
         serve if agentdesk cost nothing. *Of DB* is the page's rate as a fraction of that.\n",
    );
    s.push_str(
        "- *CPU ms*: processor time per answered request over the measured seconds (from `/proc`), of \
         the server and of PostgreSQL's processes: where the two shared cores go.\n\n",
    );
    for e in engines {
        render_engine(&mut s, e);
    }
    s
}

fn render_engine(s: &mut String, e: &EngineReport) {
    let title = match e.engine {
        Engine::Postgres => "PostgreSQL",
        Engine::Sqlite => "SQLite",
    };
    s.push_str(&format!("## {title}\n\n"));
    let counts: Vec<String> = e.counts.iter().map(|(t, n)| format!("{n} {t}")).collect();
    s.push_str(&format!(
        "Dataset: {} — loaded set-based in {:.1} s.\n\n",
        counts.join(", "),
        e.load_seconds
    ));
    if let Some(n) = e
        .scenarios
        .iter()
        .map(|r| r.rounds)
        .max()
        .filter(|&n| n > 1)
    {
        s.push_str(&format!(
            "Each page ran {n} times, each run followed by its statements alone; the figures are the \
             medians of the rounds (latencies: of every request).\n\n"
        ));
    }
    s.push_str(
        "| Scenario | Requests/s | p50 ms | p99 ms | kB | Errors | Statements | DB alone /s | Of DB | CPU ms server | CPU ms DB |\n",
    );
    s.push_str("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for r in &e.scenarios {
        let db = r.db_only.map(|v| format!("{v:.0}")).unwrap_or("–".into());
        let frac = r
            .of_db
            .map(|f| format!("{:.0} %", 100.0 * f))
            .unwrap_or("–".into());
        let st = r.statements.map(|n| n.to_string()).unwrap_or("–".into());
        let cpu_db = r.db_cpu_ms.map(|v| format!("{v:.2}")).unwrap_or("–".into());
        s.push_str(&format!(
            "| {} | {:.0} | {} | {} | {:.1} | {} | {st} | {db} | {frac} | {:.2} | {cpu_db} |\n",
            r.what,
            r.rate,
            fmt_ms(r.p50_ms),
            fmt_ms(r.p99_ms),
            r.mean_kb,
            r.errors,
            r.server_cpu_ms
        ));
    }
    s.push('\n');
    // The tail is what the p99 target is about: how far it sits from the median, and beyond it.
    s.push_str(
        "| Latency spread | p50 ms | p90 ms | p99 ms | p99.9 ms | slowest ms | p99 / p50 | p99 of each round ms |\n",
    );
    s.push_str("|---|---:|---:|---:|---:|---:|---:|---:|\n");
    for r in &e.scenarios {
        let each: Vec<String> = r.round_p99_ms.iter().map(|&ms| fmt_ms(ms)).collect();
        s.push_str(&format!(
            "| `{}` | {} | {} | {} | {} | {} | {:.2} | {} |\n",
            r.name,
            fmt_ms(r.p50_ms),
            fmt_ms(r.p90_ms),
            fmt_ms(r.p99_ms),
            fmt_ms(r.p999_ms),
            fmt_ms(r.max_ms),
            r.p99_ms / r.p50_ms,
            each.join(" · ")
        ));
    }
    s.push('\n');
    for r in &e.scenarios {
        if let Some(err) = &r.first_error {
            s.push_str(&format!("- `{}`: first error: {err}\n", r.name));
        }
    }
    if let Some(n) = &e.db_only_note {
        s.push_str(&format!("- No DB-alone figures: {n}\n"));
    }
    if e.engine == Engine::Postgres
        && let Some(a) = e.scenarios.iter().find(|r| r.name == "approve")
        && a.statements.is_some()
    {
        s.push_str(
            "- Approve has no DB-alone figure: each one writes rows that must be unique (its approval \
             record), so its statements cannot be replayed as they are.\n",
        );
    }
    if let Some(sch) = &e.scheduler {
        let races: Vec<String> = sch
            .races
            .iter()
            .map(|r| {
                format!(
                    "{} drafts in {:.2} s = {:.0}/s (per pass {:?}; CPU per draft {:.3} ms in the \
                     passes{})",
                    r.drafts,
                    r.seconds,
                    r.rate(),
                    r.split,
                    r.passes_cpu_ms,
                    r.db_cpu_ms
                        .map_or(String::new(), |d| format!(", {d:.3} ms in PostgreSQL"))
                )
            })
            .collect();
        s.push_str(&format!(
            "\nScheduler: {} due goals added; {} races of 4 concurrent passes, each a day after the \
             last so that every due goal owes a new draft: **{:.0} drafts/s** (median race). Races: {}. \
             Exactly one draft per goal and period after every race: {}.\n",
            sch.goals,
            sch.races.len(),
            sch.rate(),
            races.join("; "),
            if sch.exactly_once() { "yes" } else { "**NO**" }
        ));
    }
    s.push_str(&format!(
        "\nResident memory of the server: {:.0} MB just started, {:.0} MB idle with {} sessions signed in, \
         {:.0} MB at most under load, {:.0} MB idle after. Start-up until ready: {:.0} ms on an empty \
         database (every migration applied), {:.0} ms on the loaded one.\n\n",
        e.rss_idle_start_mb,
        e.rss_idle_mb,
        e.sessions,
        e.rss_load_mb,
        e.rss_after_mb,
        e.startup_empty_ms,
        e.startup_loaded_ms
    ));
    render_targets(s, e);
}

/// SPEC §10's targets, each with the figure that decides it.
fn render_targets(s: &mut String, e: &EngineReport) {
    let find = |n: &str| e.scenarios.iter().find(|r| r.name == n);
    s.push_str("| Target | Measured | |\n|---|---|---|\n");
    if let Some(q) = find("staff_queue") {
        s.push_str(&format!(
            "| Staff review queue ≥ 2 000/s | {:.0}/s | {} |\n",
            q.rate,
            check(q.rate >= 2000.0)
        ));
        s.push_str(&format!(
            "| … with p99 ≤ 20 ms | {} ms | {} |\n",
            fmt_ms(q.p99_ms),
            check(q.p99_ms <= 20.0)
        ));
        if let Some(f) = q.of_db {
            s.push_str(&format!(
                "| … ≥ 50 % of its DB-alone rate | {:.0} % | {} |\n",
                100.0 * f,
                check(f >= 0.5)
            ));
        }
        for l in e
            .scenarios
            .iter()
            .filter(|r| r.list && r.name != "staff_queue")
        {
            s.push_str(&format!(
                "| `{}` within 2× (≥ 1 000/s, p99 ≤ 40 ms) | {:.0}/s, {} ms | {} |\n",
                l.name,
                l.rate,
                fmt_ms(l.p99_ms),
                check(l.rate >= 1000.0 && l.p99_ms <= 40.0)
            ));
        }
    }
    if let Some(a) = find("approve") {
        s.push_str(&format!(
            "| Approve ≥ 1 000/s | {:.0}/s | {} |\n",
            a.rate,
            check(a.rate >= 1000.0)
        ));
    }
    if let Some(sch) = &e.scheduler {
        let rate = sch.rate();
        s.push_str(&format!(
            "| Scheduler ≥ 20 000 drafts/s, exactly once | {rate:.0}/s | {} |\n",
            check(rate >= 20_000.0 && sch.exactly_once())
        ));
    }
    s.push_str(&format!(
        "| Memory ≤ 64 MB idle | {:.0} MB | {} |\n",
        e.rss_idle_mb,
        check(e.rss_idle_mb <= 64.0)
    ));
    s.push_str(&format!(
        "| Memory ≤ 200 MB under load | {:.0} MB | {} |\n",
        e.rss_load_mb,
        check(e.rss_load_mb <= 200.0)
    ));
    s.push_str(&format!(
        "| Start-up with migrations ≤ 1 s | {:.0} ms | {} |\n\n",
        e.startup_empty_ms,
        check(e.startup_empty_ms <= 1000.0)
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(requests: u64, seconds: f64, latency_us: u32) -> Outcome {
        Outcome {
            requests,
            errors: 0,
            first_error: None,
            seconds,
            latencies_us: vec![latency_us; requests as usize],
            mean_bytes: 1000.0,
        }
    }

    #[test]
    fn medians_of_odd_even_and_empty_lists() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(vec![4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(vec![f64::NAN]), None);
        assert_eq!(median(vec![]), None);
    }

    #[test]
    fn the_scheduler_reports_its_median_race_and_exactly_once_only_if_every_race_was() {
        let race = |drafts: u64, seconds: f64, exactly_once: bool| Race {
            drafts,
            seconds,
            split: vec![drafts],
            exactly_once,
            passes_cpu_ms: 0.02,
            db_cpu_ms: Some(0.05),
        };
        let mut sch = SchedulerReport {
            goals: 100,
            races: vec![
                race(100, 10.0, true),
                race(100, 2.0, true),
                race(100, 5.0, true),
            ],
        };
        assert_eq!(sch.rate(), 20.0);
        assert!(sch.exactly_once());
        sch.races[1].exactly_once = false;
        assert!(!sch.exactly_once());
        sch.races.clear();
        assert!(!sch.exactly_once() && sch.rate().is_nan());
    }

    #[test]
    fn a_scenario_takes_the_median_round_and_pairs_each_run_with_its_replay() {
        // A machine that slows down and speeds up: each page run is half of the replay after it.
        let rounds = vec![
            Round {
                outcome: run(100, 1.0, 1000),
                cpu: Some((0.05, Some(0.04))),
                db_only: Some(200.0),
            },
            Round {
                outcome: run(300, 1.0, 3000),
                cpu: Some((0.15, Some(0.12))),
                db_only: Some(600.0),
            },
            Round {
                outcome: run(200, 1.0, 2000),
                cpu: Some((0.10, Some(0.08))),
                db_only: Some(100.0),
            },
        ];
        let r = ScenarioReport::from_rounds("staff_queue", "queue", true, rounds);
        assert_eq!(r.rate, 200.0);
        assert_eq!(r.db_only, Some(200.0));
        // The rounds' own fractions are 0.5, 0.5 and 2.0: their median, not 200 / 200.
        assert_eq!(r.of_db, Some(0.5));
        assert_eq!(r.rounds, 3);
        assert!((r.server_cpu_ms - 0.5).abs() < 1e-9, "{}", r.server_cpu_ms);
        // Latencies of every request of every round, and each round's own p99 in running order.
        assert_eq!(r.p50_ms, 3.0);
        assert_eq!(r.p99_ms, 3.0);
        assert_eq!(r.round_p99_ms, [1.0, 3.0, 2.0]);
    }

    #[test]
    fn the_latency_spread_reaches_from_the_median_to_the_slowest_answer() {
        let mut outcome = run(1000, 1.0, 0);
        outcome.latencies_us = (1..=1000).collect();
        let r = ScenarioReport::from_rounds(
            "staff_queue",
            "queue",
            true,
            vec![Round {
                outcome,
                cpu: None,
                db_only: None,
            }],
        );
        assert_eq!(
            [r.p50_ms, r.p90_ms, r.p99_ms, r.p999_ms, r.max_ms],
            [0.501, 0.9, 0.99, 0.999, 1.0]
        );
    }
}
