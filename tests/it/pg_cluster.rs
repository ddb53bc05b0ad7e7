//! A throwaway PostgreSQL server for a developer machine without one: when `TEST_DATABASE_URL` is
//! unset and nothing answers on the default address, but PostgreSQL's `initdb` is installed, the
//! tests start their own cluster in a temporary folder (trust authentication, a free port on
//! 127.0.0.1 and a socket in that folder) and a watchdog removes it when the test process ends.
//! `AGENTDESK_TEST_THROWAWAY_PG=1` forces it (to try this path on a machine that has a server).

use std::path::{Path, PathBuf};
use std::process::Command;

fn pg_bin(name: &str) -> Option<PathBuf> {
    if let Ok(paths) = std::env::var("PATH") {
        for dir in std::env::split_paths(&paths) {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    // Debian keeps the server binaries off the PATH.
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("bin").join(name))
        .filter(|p| p.is_file())
        .collect();
    found.sort();
    found.pop()
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// Runs a server binary, as the `postgres` user when we are root (PostgreSQL refuses root).
fn as_server_user(bin: &Path) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(bin);
        c
    } else {
        Command::new(bin)
    }
}

/// Starts the cluster and returns its admin URL, or why it could not.
pub fn start() -> Result<String, String> {
    let initdb = pg_bin("initdb").ok_or("initdb is not installed")?;
    let postgres = pg_bin("postgres").ok_or("postgres is not installed")?;
    let dir = std::env::temp_dir().join(format!(
        "agentdesk-pg-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    ));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    if is_root() {
        let ok = Command::new("chown")
            .args(["postgres:postgres"])
            .arg(&dir)
            .status()
            .map_err(|e| e.to_string())?
            .success();
        if !ok {
            return Err("cannot hand the folder to the postgres user".into());
        }
    }
    let data = dir.join("data");
    let out = as_server_user(&initdb)
        .args(["-A", "trust", "-U", "postgres", "--no-sync", "-D"])
        .arg(&data)
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?
        .port();
    // The server lives as long as this test process: a watchdog stops it and removes the folder
    // (it checks /proc, since the postgres user may not signal a root test process).
    let script = format!(
        "{server} -D '{data}' -k '{dir}' -p {port} -c listen_addresses=127.0.0.1 -c fsync=off \
         -c max_connections=200 & pid=$!; \
         while [ -d /proc/{parent} ]; do sleep 1; done; \
         kill $pid; wait $pid; rm -rf '{dir}'",
        server = postgres.display(),
        data = data.display(),
        dir = dir.display(),
        parent = std::process::id(),
    );
    let mut watchdog = if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--", "sh", "-c", &script]);
        c
    } else {
        let mut c = Command::new("sh");
        c.args(["-c", &script]);
        c
    };
    watchdog
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| e.to_string())?;
    let url = format!("postgres://postgres@127.0.0.1:{port}/postgres");
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            eprintln!("started a throwaway PostgreSQL for the tests at {url}");
            return Ok(url);
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    Err("the throwaway PostgreSQL did not start within 10 s".into())
}
