//! The command line, run as a user would run it, against both engines.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use crate::both_engines;
use crate::helpers::*;

both_engines!(cli_migrates_creates_users_and_tokens_and_seeds_idempotently);

fn agentdesk(db_url: &str, args: &[&str], stdin: Option<&str>) -> Output {
    agentdesk_with(db_url, args, stdin, &[])
}

/// [`agentdesk`] with more environment variables.
fn agentdesk_with(
    db_url: &str,
    args: &[&str],
    stdin: Option<&str>,
    env: &[(&str, &str)],
) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_agentdesk"))
        .args(args)
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", db_url)
        .env("RUST_LOG", "warn")
        .envs(env.iter().copied())
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    child.wait_with_output().unwrap()
}

const OLD_KEY: &str = "an-old-key-that-is-long-enough-0123456789";

/// Counts of the demo month, by what a user would look for.
async fn demo_counts(url: &str) -> Vec<(&'static str, i64)> {
    let queries = [
        ("customers", "SELECT COUNT(*) FROM customers"),
        (
            "marketing agents",
            "SELECT COUNT(*) FROM hired_agents WHERE agent_type_id = 'marketing.healthcare.v1'",
        ),
        (
            "trading agents",
            "SELECT COUNT(*) FROM hired_agents WHERE agent_type_id = 'trading.delta_futures.v1'",
        ),
        (
            "daily goals",
            "SELECT COUNT(*) FROM goal_instances WHERE frequency = 'daily'",
        ),
        (
            "weekly goals",
            "SELECT COUNT(*) FROM goal_instances WHERE frequency = 'weekly'",
        ),
        (
            "monthly goals",
            "SELECT COUNT(*) FROM goal_instances WHERE frequency = 'monthly'",
        ),
        (
            "on-demand goals",
            "SELECT COUNT(*) FROM goal_instances WHERE frequency = 'on_demand'",
        ),
        (
            "on-demand drafts",
            "SELECT COUNT(*) FROM deliverables WHERE period_key LIKE 'on_demand:%'",
        ),
        (
            "waiting deliverables",
            "SELECT COUNT(*) FROM deliverables WHERE review_status = 'pending_review'",
        ),
        (
            "approved deliverables",
            "SELECT COUNT(*) FROM deliverables WHERE review_status = 'approved'",
        ),
        (
            "rejected deliverables",
            "SELECT COUNT(*) FROM deliverables WHERE review_status = 'rejected'",
        ),
        (
            "executed deliverables",
            "SELECT COUNT(*) FROM deliverables WHERE execution_status = 'executed'",
        ),
        (
            "failed executions",
            "SELECT COUNT(*) FROM deliverables WHERE execution_status = 'failed'",
        ),
        (
            "approved, not executed yet",
            "SELECT COUNT(*) FROM deliverables WHERE review_status = 'approved' AND execution_status = 'not_executed'",
        ),
        (
            "approvals with edits",
            "SELECT COUNT(*) FROM approvals WHERE edited_payload IS NOT NULL",
        ),
        (
            "approvals on behalf",
            "SELECT COUNT(*) FROM approvals WHERE on_behalf = TRUE",
        ),
        (
            "rejections with a reason",
            "SELECT COUNT(*) FROM approvals WHERE decision = 'rejected' AND notes IS NOT NULL",
        ),
        (
            "approval_required denials",
            "SELECT COUNT(*) FROM execution_denials WHERE reason = 'approval_required'",
        ),
        (
            "approval_invalid denials",
            "SELECT COUNT(*) FROM execution_denials WHERE reason = 'approval_invalid'",
        ),
        (
            "guardrail_failed denials",
            "SELECT COUNT(*) FROM execution_denials WHERE reason = 'guardrail_failed'",
        ),
        (
            "execution log steps",
            "SELECT COUNT(*) FROM execution_steps",
        ),
        (
            "delivered hand-overs",
            "SELECT COUNT(*) FROM outbox WHERE status = 'delivered'",
        ),
        (
            "hand-overs failed for good",
            "SELECT COUNT(*) FROM outbox WHERE status = 'failed' AND attempts = 5",
        ),
        (
            "ended trials",
            "SELECT COUNT(*) FROM hired_agents WHERE trial_status = 'ended_converted'",
        ),
        ("audit entries", "SELECT COUNT(*) FROM audit_log"),
    ];
    let db = agentdesk::db::Db::connect(url, &Default::default())
        .await
        .unwrap();
    let mut out = vec![];
    for (what, sql) in queries {
        let n: i64 = match &db {
            agentdesk::db::Db::Postgres(p, ..) => sqlx::query_scalar(sql).fetch_one(p).await,
            agentdesk::db::Db::Sqlite(p) => sqlx::query_scalar(sql).fetch_one(p).await,
        }
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
        out.push((what, n));
    }
    db.close().await;
    out
}

fn out(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

async fn cli_migrates_creates_users_and_tokens_and_seeds_idempotently(engine: Engine) {
    let Some(test_db) = TestDb::new(engine).await else {
        return;
    };
    let url = test_db.url.as_str();

    let help = agentdesk(url, &["--help"], None);
    let text = out(&help);
    for word in [
        "serve",
        "migrate",
        "seed",
        "user",
        "token",
        "jobs",
        "backup",
        "DATABASE_URL",
        "AGENTDESK_BIND",
        "AGENTDESK_SECRET_KEY",
    ] {
        assert!(text.contains(word), "--help mentions {word}:\n{text}");
    }

    let status = agentdesk(url, &["migrate", "status"], None);
    assert!(
        out(&status).contains("pending  0001_foundation"),
        "{}",
        out(&status)
    );
    assert!(agentdesk(url, &["migrate", "up"], None).status.success());
    assert!(
        out(&agentdesk(url, &["migrate", "status"], None)).contains("applied  0001_foundation")
    );
    // Every migration reverts, newest first.
    let all = agentdesk::db::migrate::MIGRATIONS;
    let steps = all.len().to_string();
    let down = agentdesk(url, &["migrate", "down", "--steps", &steps], None);
    let expected: Vec<String> = all
        .iter()
        .rev()
        .map(|m| format!("reverted {}", m.name))
        .collect();
    assert!(out(&down).contains(&expected.join("\n")), "{}", out(&down));
    assert!(agentdesk(url, &["migrate", "up"], None).status.success());

    let created = agentdesk(
        url,
        &[
            "user",
            "create",
            "--email",
            "ops@example.com",
            "--role",
            "operator",
            "--password-stdin",
        ],
        Some("a-password-from-stdin\n"),
    );
    assert!(created.status.success(), "{}", out(&created));
    assert!(
        !out(&created).contains("Password:"),
        "no password printed when given on stdin"
    );

    let generated = agentdesk(
        url,
        &[
            "user",
            "create",
            "--email",
            "v@example.com",
            "--role",
            "viewer",
        ],
        None,
    );
    let text = out(&generated);
    let password = text
        .lines()
        .find_map(|l| l.strip_prefix("Password: "))
        .expect("generated password printed")
        .to_string();
    assert_eq!(password.len(), 20);

    let bad = agentdesk(
        url,
        &[
            "user",
            "create",
            "--email",
            "c@example.com",
            "--role",
            "customer",
        ],
        None,
    );
    assert!(!bad.status.success());
    assert!(
        out(&bad).contains("give --customer CUS-") && out(&bad).contains("Users → New user"),
        "{}",
        out(&bad)
    );
    let dup = agentdesk(
        url,
        &[
            "user",
            "create",
            "--email",
            "OPS@example.com",
            "--role",
            "viewer",
        ],
        None,
    );
    assert!(!dup.status.success());
    assert!(out(&dup).contains("exists already"));

    let token = agentdesk(
        url,
        &[
            "token",
            "create",
            "--email",
            "ops@example.com",
            "--name",
            "ci",
        ],
        None,
    );
    assert!(token.status.success(), "{}", out(&token));
    assert!(
        String::from_utf8_lossy(&token.stdout)
            .trim()
            .starts_with("adk_")
    );
    assert!(
        !agentdesk(
            url,
            &["token", "create", "--email", "nobody@example.com"],
            None
        )
        .status
        .success()
    );

    // The demo stores its agents' credentials sealed with the key: a known one, rotated below.
    let old_key = [("AGENTDESK_SECRET_KEY", OLD_KEY)];
    let seeded = agentdesk_with(url, &["seed", "--demo"], None, &old_key);
    assert!(seeded.status.success(), "{}", out(&seeded));
    // Users existed but no admin: seeding creates one, so nobody is locked out of /admin/users.
    assert!(
        out(&seeded).contains("First start: created the admin account"),
        "{}",
        out(&seeded)
    );
    for login in [
        "operator@demo.example",
        "viewer@demo.example",
        "customer@demo-clinic.example",
        "owner@sunrise-dental.example",
        "trader@northwind-capital.example",
    ] {
        assert!(out(&seeded).contains(login));
    }
    assert!(
        out(&seeded).contains("Built-in agent type loaded: trading.delta_futures.v1@1.0.0"),
        "{}",
        out(&seeded)
    );
    assert!(
        out(&seeded).contains("Demo month (30 days): 3 customers, 4 hired agents"),
        "{}",
        out(&seeded)
    );
    // What a user of the demo notices: a month of work in every state.
    let month = demo_counts(url).await;
    for (what, n) in &month {
        assert!(*n > 0, "the demo month has {what}: {month:?}");
    }
    let again = agentdesk_with(url, &["seed", "--demo"], None, &old_key);
    assert!(out(&again).contains("Built-in agent types: present already."));
    assert!(!out(&again).contains("created the admin"), "only once");
    assert!(out(&again).contains("(existed already)"));
    assert!(
        out(&again).contains("Demo month: present already (nothing added)."),
        "{}",
        out(&again)
    );
    assert_eq!(demo_counts(url).await, month, "a second seed adds nothing");

    let jobs = agentdesk(
        url,
        &["jobs", "run-due", "--now", "2030-01-01T00:00:00Z"],
        None,
    );
    assert!(jobs.status.success(), "{}", out(&jobs));
    // The demo's four subscriptions (two monthly, two quarterly) renew for every period up to
    // 2030, none canceled.
    let renewed: u64 = out(&jobs)
        .split("Subscription period ends: ")
        .nth(1)
        .and_then(|r| r.split(" processed (0 canceled, ").nth(1))
        .and_then(|r| r.split(" renewed)").next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{}", out(&jobs)));
    assert!(renewed >= 4, "{}", out(&jobs));
    let jobs_again = agentdesk(
        url,
        &["jobs", "run-due", "--now", "2030-01-01T00:00:00Z"],
        None,
    );
    assert!(
        out(&jobs_again).contains("Subscription period ends: 0 processed"),
        "{}",
        out(&jobs_again)
    );
    assert!(
        !agentdesk(url, &["jobs", "run-due", "--now", "yesterday"], None)
            .status
            .success()
    );

    // Key rotation: refused without the previous key, then done in one go.
    let refused = agentdesk(url, &["secrets", "rotate"], None);
    assert!(!refused.status.success());
    assert!(
        out(&refused).contains("AGENTDESK_SECRET_KEY_PREVIOUS"),
        "{}",
        out(&refused)
    );
    let rotated = agentdesk_with(
        url,
        &["secrets", "rotate"],
        None,
        &[
            ("AGENTDESK_SECRET_KEY_PREVIOUS", OLD_KEY),
            (
                "AGENTDESK_SECRET_KEY",
                "a-new-key-that-is-long-enough-98765432100",
            ),
        ],
    );
    assert!(rotated.status.success(), "{}", out(&rotated));
    assert!(
        out(&rotated).contains("Re-encrypted 8 credential(s)"),
        "{}",
        out(&rotated)
    );

    let backup_dir = tempfile::tempdir().unwrap();
    let target = backup_dir.path().join("copy.db");
    let backup = agentdesk(url, &["backup", target.to_str().unwrap()], None);
    assert!(backup.status.success(), "{}", out(&backup));
    assert!(std::fs::metadata(&target).unwrap().len() > 0);

    // Counts through the library, like a second instance would see them.
    let db = agentdesk::db::Db::connect(url, &Default::default())
        .await
        .unwrap();
    let mut c = db.acquire().await.unwrap();
    assert_eq!(
        agentdesk::db::users::count(c.conn()).await.unwrap(),
        8,
        "2 created + 5 demo + the first admin, none twice"
    );
    let (_, hash) = agentdesk::db::users::by_email_for_login(c.conn(), "ops@example.com")
        .await
        .unwrap()
        .unwrap();
    drop(c);
    assert!(agentdesk::passwords::verify("a-password-from-stdin".into(), Some(hash)).await);
    db.close().await;
}

both_engines!(serve_stops_gracefully_on_sigterm);

async fn serve_stops_gracefully_on_sigterm(engine: Engine) {
    let Some(test_db) = TestDb::new(engine).await else {
        return;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_agentdesk"))
        .arg("serve")
        .current_dir(dir.path())
        .env_clear()
        .env("DATABASE_URL", &test_db.url)
        .env("AGENTDESK_BIND", format!("127.0.0.1:{port}"))
        .env("AGENTDESK_WORKERS", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let mut ready = false;
    for _ in 0..100 {
        if reqwest::get(format!("{base}/health/ready"))
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            ready = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(ready, "server came up");
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let mut exited = None;
    for _ in 0..100 {
        if let Some(s) = child.try_wait().unwrap() {
            exited = Some(s);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let exit = exited.unwrap_or_else(|| {
        let _ = child.kill();
        panic!("agentdesk did not stop within 10 s of SIGTERM")
    });
    assert!(exit.success(), "clean exit: {exit:?}");
    let mut stdout = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut stdout).unwrap();
    assert!(
        stdout.contains("First start: created the admin account"),
        "{stdout}"
    );
    assert!(
        reqwest::get(format!("{base}/health/live")).await.is_err(),
        "no longer accepting"
    );
}
