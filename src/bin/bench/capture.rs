//! The database's own limit for a page: the exact statements one request issued (read back from
//! PostgreSQL's statement log, with their parameter values), replayed by `pgbench -M prepared` at the
//! same concurrency without the server in between. The values stay parameters (pgbench variables
//! given with `-D`), so PostgreSQL plans the replay as it plans the server's prepared statements.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use anyhow::{Context, bail};

/// One statement as PostgreSQL logged it, its `$N` placeholders turned into pgbench variables
/// (`:vS_N`, S the statement's place in the request) with their logged values.
#[derive(Debug, Clone)]
pub struct Statement {
    pub sql: String,
    pub vars: Vec<(String, String)>,
}

/// Reads the log from `offset` to its end and returns, for every `begin`/`end` marker pair, the
/// statements sessions of database `db` logged between them, by marker name.
pub fn statements_between_markers(
    log: &Path,
    offset: u64,
    db: &str,
) -> anyhow::Result<Vec<(String, Vec<Statement>)>> {
    let bytes = std::fs::read(log).with_context(|| format!("reading {}", log.display()))?;
    let text = String::from_utf8_lossy(&bytes[(offset as usize).min(bytes.len())..]).into_owned();
    let entries = entries_of(&text, db);
    let mut out: Vec<(String, Vec<Statement>)> = vec![];
    let mut current: Option<(String, Vec<Statement>)> = None;
    let mut i = 0;
    while i < entries.len() {
        let e = &entries[i];
        // A DETAIL line with the parameters follows its execute line.
        let params = match entries.get(i + 1) {
            Some(Entry::Detail(d)) => {
                i += 1;
                parse_parameters(d)?
            }
            _ => vec![],
        };
        i += 1;
        let Entry::Sql(sql) = e else { continue };
        if let Some(name) = marker(sql, "begin") {
            current = Some((name, vec![]));
            continue;
        }
        if let Some(name) = marker(sql, "end") {
            if let Some((n, list)) = current.take()
                && n == name
            {
                out.push((n, list));
            }
            continue;
        }
        if let Some((_, list)) = current.as_mut() {
            let place = list.len() + 1;
            list.push(variables(sql, &params, place)?);
        }
    }
    Ok(out)
}

pub fn marker_sql(kind: &str, name: &str) -> String {
    format!("SELECT 'agentdesk-bench {kind} {name}'")
}

fn marker(sql: &str, kind: &str) -> Option<String> {
    let prefix = format!("SELECT 'agentdesk-bench {kind} ");
    sql.strip_prefix(&prefix)
        .and_then(|r| r.strip_suffix('\''))
        .map(str::to_string)
}

enum Entry {
    Sql(String),
    Detail(String),
    Other,
}

/// Splits the log into entries of database `db`: `statement:`/`execute …:` lines (with their
/// tab-indented continuation lines) and the `DETAIL:` lines that follow them.
fn entries_of(text: &str, db: &str) -> Vec<Entry> {
    let tag = format!("@{db} ");
    let mut entries: Vec<Entry> = vec![];
    let mut open = false;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix('\t') {
            if open {
                match entries.last_mut() {
                    Some(Entry::Sql(s)) | Some(Entry::Detail(s)) => {
                        s.push('\n');
                        s.push_str(rest);
                    }
                    _ => {}
                }
            }
            continue;
        }
        open = false;
        let Some(at) = line.find(&tag) else { continue };
        let rest = &line[at + tag.len()..];
        open = true;
        if let Some(m) = rest.strip_prefix("LOG:  ") {
            if let Some(sql) = m.strip_prefix("statement: ") {
                entries.push(Entry::Sql(sql.to_string()));
            } else if let Some(x) = m.strip_prefix("execute ")
                && let Some((_, sql)) = x.split_once(": ")
            {
                entries.push(Entry::Sql(sql.to_string()));
            } else {
                entries.push(Entry::Other);
            }
        } else if let Some(d) = rest.strip_prefix("DETAIL:  parameters: ") {
            entries.push(Entry::Detail(d.to_string()));
        } else {
            entries.push(Entry::Other);
        }
    }
    entries
}

/// `$1 = '…', $2 = NULL` → the values, in order (`None` for NULL).
fn parse_parameters(d: &str) -> anyhow::Result<Vec<Option<String>>> {
    let mut out = vec![];
    let b = d.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'$' {
            i += 1;
            continue;
        }
        let eq = d[i..].find(" = ").context("a parameter's value")? + i + 3;
        if d[eq..].starts_with("NULL") {
            out.push(None);
            i = eq + 4;
            continue;
        }
        if b.get(eq) != Some(&b'\'') {
            bail!("unexpected parameter format: {d}");
        }
        let mut j = eq + 1;
        loop {
            match b.get(j) {
                Some(b'\'') if b.get(j + 1) == Some(&b'\'') => j += 2,
                Some(b'\'') => break,
                Some(_) => j += 1,
                None => bail!("an unterminated parameter in: {d}"),
            }
        }
        out.push(Some(d[eq + 1..j].replace("''", "'")));
        i = j + 1;
    }
    Ok(out)
}

/// The statement with `:vS_N` in place of each `$N` outside quoted text (NULL and the empty text
/// written in, as pgbench variables can be neither), and the variables' values.
fn variables(sql: &str, params: &[Option<String>], place: usize) -> anyhow::Result<Statement> {
    let mut out = String::with_capacity(sql.len());
    let mut vars: Vec<(String, String)> = vec![];
    let mut chars = sql.char_indices().peekable();
    let mut quoted = false;
    while let Some((i, c)) = chars.next() {
        if c == '\'' {
            quoted = !quoted;
            out.push(c);
            continue;
        }
        if c == '$' && !quoted {
            let digits: String = sql[i + 1..]
                .chars()
                .take_while(|d| d.is_ascii_digit())
                .collect();
            if !digits.is_empty() {
                let n: usize = digits.parse()?;
                let v = params
                    .get(n - 1)
                    .with_context(|| format!("parameter ${n} was not logged for: {sql}"))?;
                match v {
                    None => out.push_str("NULL"),
                    // pgbench refuses an empty `-D name=`: the empty text is written in.
                    Some(v) if v.is_empty() => out.push_str("''"),
                    Some(v) => {
                        let name = format!("v{place}_{n}");
                        out.push(':');
                        out.push_str(&name);
                        if !vars.iter().any(|(k, _)| *k == name) {
                            vars.push((name, v.clone()));
                        }
                    }
                }
                for _ in 0..digits.len() {
                    chars.next();
                }
                continue;
            }
        }
        out.push(c);
    }
    Ok(Statement { sql: out, vars })
}

/// pgbench replaces `:name` even inside quoted text, so every literal holding a colon is written as
/// an escape string with the colon as `\072`.
pub fn pgbench_safe(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let b: Vec<char> = sql.chars().collect();
    let mut i = 0;
    while i < b.len() {
        if b[i] != '\'' {
            out.push(b[i]);
            i += 1;
            continue;
        }
        // A quoted literal: collect its content.
        let mut j = i + 1;
        let mut content = String::new();
        while j < b.len() {
            if b[j] == '\'' {
                if b.get(j + 1) == Some(&'\'') {
                    content.push('\'');
                    j += 2;
                    continue;
                }
                break;
            }
            content.push(b[j]);
            j += 1;
        }
        let escape_string = i > 0 && (b[i - 1] == 'E' || b[i - 1] == 'e');
        if content.contains(':') && !escape_string {
            out.push_str("E'");
            for c in content.chars() {
                match c {
                    '\\' => out.push_str("\\\\"),
                    '\'' => out.push_str("\\'"),
                    ':' => out.push_str("\\072"),
                    c => out.push(c),
                }
            }
            out.push('\'');
        } else {
            out.extend(&b[i..(j + 1).min(b.len())]);
        }
        i = j + 1;
    }
    out
}

/// A request's replay: its pgbench script and the variables (`-D name=value`) it needs.
#[derive(Debug, Clone)]
pub struct Script {
    pub path: PathBuf,
    pub vars: Vec<(String, String)>,
    pub statements: usize,
}

/// The pgbench script of one request (its statements in order, each ended by a semicolon), and
/// beside it `<name>.vars` with its `-D` arguments, one per line, to rerun it by hand.
pub fn write_script(dir: &Path, name: &str, statements: &[Statement]) -> anyhow::Result<Script> {
    let mut text = String::new();
    let mut vars = vec![];
    for s in statements {
        text.push_str(&pgbench_safe(s.sql.trim().trim_end_matches(';')));
        text.push_str(";\n");
        vars.extend(s.vars.iter().cloned());
    }
    let path = dir.join(format!("{name}.sql"));
    std::fs::write(&path, text)?;
    let listed: String = vars.iter().map(|(k, v)| format!("-D{k}={v}\n")).collect();
    std::fs::write(dir.join(format!("{name}.vars")), listed)?;
    Ok(Script {
        path,
        vars,
        statements: statements.len(),
    })
}

/// Where a PostgreSQL URL points, as pgbench's environment variables.
pub fn pg_env(url: &str) -> anyhow::Result<Vec<(&'static str, String)>> {
    let u = url::Url::parse(url)?;
    let mut env = vec![];
    let host = u
        .query_pairs()
        .find(|(k, _)| k == "host")
        .map(|(_, v)| v.into_owned())
        .or_else(|| u.host_str().filter(|h| !h.is_empty()).map(str::to_string));
    if let Some(h) = host {
        env.push(("PGHOST", h));
    }
    if let Some(p) = u.port() {
        env.push(("PGPORT", p.to_string()));
    }
    let user = u
        .query_pairs()
        .find(|(k, _)| k == "user")
        .map(|(_, v)| v.into_owned())
        .or_else(|| (!u.username().is_empty()).then(|| u.username().to_string()));
    if let Some(user) = user {
        env.push(("PGUSER", user));
    }
    if let Some(p) = u.password() {
        env.push(("PGPASSWORD", p.to_string()));
    }
    let db = u.path().trim_start_matches('/');
    if !db.is_empty() {
        env.push(("PGDATABASE", db.to_string()));
    }
    // The server's own session settings, so the replay plans as the server's statements do.
    let settings: Vec<String> = agentdesk::db::POSTGRES_SESSION_SETTINGS
        .iter()
        .map(|(k, v)| format!("-c {k}={v}"))
        .collect();
    env.push(("PGOPTIONS", settings.join(" ")));
    Ok(env)
}

/// Runs the script on `clients` connections for `seconds`; returns transactions (= requests' worth of
/// statements) per second, or why it could not.
pub async fn pgbench(
    url: &str,
    script: &Script,
    clients: usize,
    seconds: u64,
) -> anyhow::Result<f64> {
    let threads = clients.min(
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2),
    );
    let mut cmd = tokio::process::Command::new("pgbench");
    cmd.args([
        "-n",
        "-M",
        "prepared",
        "-c",
        &clients.to_string(),
        "-j",
        &threads.to_string(),
        "-T",
        &seconds.to_string(),
        "-f",
    ])
    .arg(&script.path)
    .args(script.vars.iter().map(|(k, v)| format!("-D{k}={v}")))
    .envs(pg_env(url)?)
    .stdin(Stdio::null());
    let out = cmd
        .output()
        .await
        .context("running pgbench (Debian package postgresql-client)")?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() || stderr.contains("aborted") {
        bail!(
            "pgbench failed: {}",
            stderr.lines().take(5).collect::<Vec<_>>().join(" | ")
        );
    }
    let tps = stdout
        .lines()
        .find(|l| l.starts_with("tps = "))
        .and_then(|l| l["tps = ".len()..].split_whitespace().next())
        .context("pgbench printed its tps")?;
    Ok(tps.parse()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_become_pgbench_variables() {
        let p = parse_parameters("$1 = 'a''b', $2 = NULL, $3 = '2026-11-30 10:00:00+00', $4 = ''")
            .unwrap();
        assert_eq!(
            p,
            vec![
                Some("a'b".to_string()),
                None,
                Some("2026-11-30 10:00:00+00".to_string()),
                Some(String::new())
            ]
        );
        let s = variables(
            "SELECT '$1', x FROM t WHERE a = $1 AND b = $3 AND c <> $1 AND d > $4 LIMIT $2",
            &p,
            2,
        )
        .unwrap();
        assert_eq!(
            s.sql,
            "SELECT '$1', x FROM t WHERE a = :v2_1 AND b = :v2_3 AND c <> :v2_1 AND d > '' LIMIT NULL"
        );
        assert_eq!(
            s.vars,
            vec![
                ("v2_1".to_string(), "a'b".to_string()),
                ("v2_3".to_string(), "2026-11-30 10:00:00+00".to_string())
            ]
        );
    }

    #[test]
    fn colons_in_literals_become_escapes() {
        assert_eq!(
            pgbench_safe("SELECT x::text WHERE k = 'daily:2026' AND q = 'it''s'"),
            "SELECT x::text WHERE k = E'daily\\0722026' AND q = 'it''s'"
        );
    }

    #[test]
    fn entries_follow_their_database_and_continuations() {
        let log = "2026-11-30 10:00:00.000 UTC [1] postgres@bench LOG:  execute sqlx_s_1: SELECT a\n\
                   \tFROM t WHERE id = $1\n\
                   2026-11-30 10:00:00.000 UTC [1] postgres@bench DETAIL:  parameters: $1 = 'x'\n\
                   2026-11-30 10:00:00.000 UTC [2] postgres@other LOG:  statement: SELECT 2\n";
        let e = entries_of(log, "bench");
        assert_eq!(e.len(), 2);
        assert!(matches!(&e[0], Entry::Sql(s) if s == "SELECT a\nFROM t WHERE id = $1"));
        assert!(matches!(&e[1], Entry::Detail(d) if d == "$1 = 'x'"));
    }
}
