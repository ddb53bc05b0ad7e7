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

    let seeded = agentdesk(url, &["seed", "--demo"], None);
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
    ] {
        assert!(out(&seeded).contains(login));
    }
    assert!(
        out(&seeded).contains("Built-in agent type loaded: trading.delta_futures.v1@1.0.0"),
        "{}",
        out(&seeded)
    );
    let again = agentdesk(url, &["seed", "--demo"], None);
    assert!(out(&again).contains("Built-in agent types: present already."));
    assert!(!out(&again).contains("created the admin"), "only once");
    assert!(out(&again).contains("(existed already)"));

    let jobs = agentdesk(
        url,
        &["jobs", "run-due", "--now", "2030-01-01T00:00:00Z"],
        None,
    );
    assert!(jobs.status.success(), "{}", out(&jobs));
    // The demo's quarterly subscription renews for every quarter up to 2030, once each.
    assert!(
        out(&jobs).contains("Subscription period ends: 1") && out(&jobs).contains("renewed)"),
        "{}",
        out(&jobs)
    );
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
            (
                "AGENTDESK_SECRET_KEY_PREVIOUS",
                "an-old-key-that-is-long-enough-0123456789",
            ),
            (
                "AGENTDESK_SECRET_KEY",
                "a-new-key-that-is-long-enough-98765432100",
            ),
        ],
    );
    assert!(rotated.status.success(), "{}", out(&rotated));
    assert!(
        out(&rotated).contains("Re-encrypted 0 credential(s)"),
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
        6,
        "2 created + 3 demo + the first admin, none twice"
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
