//! The command line: `serve` (default), `migrate`, `seed`, `user`, `token`, `jobs`, `backup`, `healthcheck`.

use std::io::{IsTerminal, Read};
use std::sync::Arc;

use clap::{Parser, Subcommand};

use crate::app::{Application, prepare_database};
use crate::clock::{Clock, SystemClock};
use crate::config::{SETTINGS_HELP, Settings};
use crate::db::{Db, Engine, PoolSettings, migrate, users};
use crate::domain::actor::Actor;
use crate::domain::roles::{Role, normalise_email};
use crate::service::accounts::{self, CreateUser, CustomerChoice};
use crate::service::setup::{self, Bootstrap};
use crate::service::tokens;

#[derive(Parser, Debug)]
#[command(name = "agentdesk", version, about = "agentdesk: the admin and customer portal of an AI-agent workforce platform", after_help = SETTINGS_HELP)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the web server (the default)
    Serve,
    /// Apply, revert or list database migrations
    Migrate {
        #[command(subcommand)]
        action: MigrateAction,
    },
    /// Load built-in data; with --demo also demo customers and users (idempotent)
    Seed {
        /// Also create a demo customer with users of every role (prints their logins)
        #[arg(long)]
        demo: bool,
    },
    /// Manage users
    User {
        #[command(subcommand)]
        action: UserAction,
    },
    /// Manage API tokens
    Token {
        #[command(subcommand)]
        action: TokenAction,
    },
    /// Re-encrypt stored credentials
    Secrets {
        #[command(subcommand)]
        action: SecretsAction,
    },
    /// Run scheduled work once (for cron)
    Jobs {
        #[command(subcommand)]
        action: JobsAction,
    },
    /// Write a consistent backup of the database (SQLite: VACUUM INTO; PostgreSQL: pg_dump)
    Backup {
        /// Where to write it [default: data/backups/<timestamp>.db or .sql]
        path: Option<std::path::PathBuf>,
    },
    /// Exit 0 when the running server at AGENTDESK_BIND answers /health/ready (for container health checks)
    Healthcheck,
}

#[derive(Subcommand, Debug)]
pub enum MigrateAction {
    /// Apply every pending migration
    Up,
    /// Revert the newest migrations
    Down {
        /// How many of the newest applied migrations to revert
        #[arg(long, default_value_t = 1)]
        steps: usize,
    },
    /// List migrations and whether they are applied
    Status,
}

#[derive(Subcommand, Debug)]
pub enum UserAction {
    /// Create a user; prints a generated password unless --password-stdin is given
    Create {
        /// The user's e-mail address (their sign-in name)
        #[arg(long)]
        email: String,
        /// admin, operator, viewer or customer
        #[arg(long)]
        role: String,
        /// The customer (CUS-…) a customer user belongs to
        #[arg(long)]
        customer: Option<String>,
        /// Read the password from standard input
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum TokenAction {
    /// Create an API token for a user and print it once
    Create {
        /// The e-mail of the user the token acts as
        #[arg(long)]
        email: String,
        /// A name to recognise the token by on the tokens page
        #[arg(long, default_value = "cli")]
        name: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum SecretsAction {
    /// Re-encrypt every stored credential from the key in AGENTDESK_SECRET_KEY_PREVIOUS to the
    /// current one (AGENTDESK_SECRET_KEY, or the key file), in one transaction
    Rotate,
}

#[derive(Subcommand, Debug)]
pub enum JobsAction {
    /// One scheduler pass: every job kind not running elsewhere (prints what it did)
    RunDue {
        /// Pretend it is this time (RFC 3339)
        #[arg(long)]
        now: Option<String>,
    },
}

/// glibc raises its mmap threshold after large blocks are freed and then keeps argon2id's 19 MiB
/// buffers in the heap for good, so memory grew with every concurrent sign-in and never came back.
/// A fixed threshold makes every large block its own mapping, returned to the system when freed.
fn return_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator tunables; it is called before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 * 1024);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1024 * 1024);
    }
}

/// The whole `agentdesk` process: allocator tunables, the runtime, logging, then the command. Must be
/// called before any other thread exists.
pub fn main(args: impl IntoIterator<Item = std::ffi::OsString>) -> std::process::ExitCode {
    return_freed_memory();
    let cli = Cli::parse_from(args);
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("the runtime starts")
        .block_on(async {
            tracing_subscriber::fmt()
                .with_env_filter(
                    tracing_subscriber::EnvFilter::try_from_default_env()
                        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
                )
                .with_writer(std::io::stderr)
                // Colours only for a person at a terminal, never into a log file.
                .with_ansi(std::io::stderr().is_terminal())
                .init();
            match run(cli).await {
                Ok(()) => std::process::ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: {e:#}");
                    std::process::ExitCode::FAILURE
                }
            }
        })
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = Settings::from_env()?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(settings, clock).await,
        Command::Migrate { action } => {
            let pool = PoolSettings {
                max_connections: 2,
                ..PoolSettings::default()
            };
            // The schema owner migrates, when there is one.
            let url = settings
                .migrate_database_url
                .as_deref()
                .unwrap_or(&settings.database_url);
            let db = Db::connect(url, &pool).await?;
            match action {
                MigrateAction::Up => {
                    let applied = migrate::up(&db, clock.now()).await?;
                    if applied.is_empty() {
                        println!("Nothing to apply: the database is up to date.");
                    }
                    for m in applied {
                        println!("applied  {m}");
                    }
                    if settings.migrate_database_url.is_some() {
                        let serving = Db::connect(&settings.database_url, &pool).await?;
                        let role = migrate::grant_serving_role(&db, &serving).await?;
                        println!("granted  the serving role {role} what it needs");
                        serving.close().await;
                    }
                }
                MigrateAction::Down { steps } => {
                    let reverted = migrate::down(&db, steps).await?;
                    if reverted.is_empty() {
                        println!("Nothing to revert.");
                    }
                    for m in reverted {
                        println!("reverted {m}");
                    }
                }
                MigrateAction::Status => {
                    for s in migrate::status(&db).await? {
                        match s.applied_at {
                            Some(at) => println!("applied  {}  {}", s.name, at.to_rfc3339()),
                            None => println!("pending  {}", s.name),
                        }
                    }
                }
            }
            db.close().await;
            Ok(())
        }
        Command::Seed { demo } => {
            let db = prepare_database(&settings, clock.as_ref()).await?;
            let keys =
                crate::keys::Keys::derive(&crate::keys::master_secret(&db, &settings).await?);
            println!("Database ready ({}).", db.engine().name());
            let ctx = Actor::system("cli:seed", clock.now());
            print_bootstrap(&crate::app::bootstrap(&db, &settings, &ctx).await?);
            let added = crate::service::catalog::seed_builtins(&db, &ctx)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            if added.is_empty() {
                println!("Built-in agent types: present already.");
            }
            for id in added {
                println!("Built-in agent type loaded: {id}");
            }
            if demo {
                let demo = setup::seed_demo(&db, &keys, &settings.billing, &ctx)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                println!("Demo logins (password for all: {}):", setup::DEMO_PASSWORD);
                for l in demo.logins {
                    println!(
                        "  {:<10} {}{}",
                        l.role.as_str(),
                        l.email,
                        if l.created { "" } else { "  (existed already)" }
                    );
                }
                println!("{}", demo.month.line());
            }
            db.close().await;
            Ok(())
        }
        Command::User {
            action:
                UserAction::Create {
                    email,
                    role,
                    customer,
                    password_stdin,
                },
        } => {
            let role = Role::parse(&role).ok_or_else(|| {
                anyhow::anyhow!("--role must be admin, operator, viewer or customer")
            })?;
            if role == Role::Customer && customer.is_none() {
                anyhow::bail!(
                    "a customer user belongs to a customer: give --customer CUS-… with the id of an \
                     existing one. To create a customer together with its first user, sign in as \
                     an admin and use Users → New user."
                );
            }
            let password = if password_stdin {
                let mut s = String::new();
                std::io::stdin().read_to_string(&mut s)?;
                Some(s.trim_end_matches(['\r', '\n']).to_string())
            } else {
                None
            };
            let db = prepare_database(&settings, clock.as_ref()).await?;
            let ctx = Actor::system("cli:user-create", clock.now());
            let input = CreateUser {
                email,
                role,
                customer: customer
                    .map(CustomerChoice::Existing)
                    .unwrap_or(CustomerChoice::None),
                password,
                must_change_password: false,
            };
            let created = accounts::create_user(&db, &ctx, input)
                .await
                .map_err(describe)?;
            println!(
                "Created {} {} (id {}).",
                created.user.role.as_str(),
                created.user.email,
                created.user.id
            );
            if let Some(p) = created.generated_password {
                println!("Password: {p}");
            }
            db.close().await;
            Ok(())
        }
        Command::Token {
            action: TokenAction::Create { email, name },
        } => {
            let db = prepare_database(&settings, clock.as_ref()).await?;
            let email = normalise_email(&email).map_err(|m| anyhow::anyhow!("--email: {m}"))?;
            let user = {
                let mut c = db.acquire().await?;
                users::by_email(c.conn(), &email).await?
            }
            .ok_or_else(|| anyhow::anyhow!("no user with e-mail {email}"))?;
            let ctx = Actor::system("cli:token-create", clock.now());
            let (_, token) = tokens::create_token(&db, &ctx, user.id, &name)
                .await
                .map_err(describe)?;
            println!("{token}");
            if std::io::stdout().is_terminal() {
                eprintln!("This token is shown only once.");
            }
            db.close().await;
            Ok(())
        }
        Command::Secrets {
            action: SecretsAction::Rotate,
        } => {
            let previous = settings.secret_key_previous.clone().ok_or_else(|| {
                anyhow::anyhow!(
                    "set AGENTDESK_SECRET_KEY_PREVIOUS to the key the credentials are encrypted with now, \
                     and AGENTDESK_SECRET_KEY to the new one"
                )
            })?;
            let db = prepare_database(&settings, clock.as_ref()).await?;
            let current = crate::keys::master_secret(&db, &settings).await?;
            anyhow::ensure!(
                current.expose() != previous.expose(),
                "AGENTDESK_SECRET_KEY_PREVIOUS is the current key: set AGENTDESK_SECRET_KEY to the new one"
            );
            let actor = Actor::system(
                format!("cli-{}", uuid::Uuid::new_v4().simple()),
                clock.now(),
            );
            let n = crate::service::credentials::rotate(
                &db,
                &actor,
                &crate::keys::Keys::derive(&previous),
                &crate::keys::Keys::derive(&current),
            )
            .await?;
            println!(
                "Re-encrypted {n} credential(s) under the current key. Remove AGENTDESK_SECRET_KEY_PREVIOUS now."
            );
            Ok(())
        }
        Command::Jobs {
            action: JobsAction::RunDue { now },
        } => {
            let now = match now {
                Some(s) => chrono::DateTime::parse_from_rfc3339(&s)
                    .map_err(|e| {
                        anyhow::anyhow!("--now must be RFC 3339 like 2026-01-31T09:00:00Z: {e}")
                    })?
                    .with_timezone(&chrono::Utc),
                None => clock.now(),
            };
            let db = prepare_database(&settings, clock.as_ref()).await?;
            let r = crate::jobs::run_due(&db, now, &(&settings).into()).await?;
            println!(
                "Expired sessions removed: {}; old login attempts removed: {}.",
                r.sessions_purged, r.login_attempts_purged
            );
            let p = &r.period_ends;
            println!(
                "Subscription period ends: {} processed ({} canceled, {} renewed) as of {}.",
                p.processed,
                p.canceled,
                p.renewed,
                p.now.to_rfc3339()
            );
            let t = &r.trial_ends;
            println!(
                "Trial ends: {} processed ({} converted, {} not converted).",
                t.processed,
                t.converted_ids.len(),
                t.not_converted_ids.len()
            );
            println!("Drafts generated: {}.", r.drafts.generated);
            println!(
                "Outbox: {} delivered, {} to retry, {} failed for good.",
                r.outbox.delivered, r.outbox.retried, r.outbox.failed
            );
            for kind in &r.skipped {
                println!("Skipped {}: another instance is running it.", kind.as_str());
            }
            if !r.failed.is_empty() {
                anyhow::bail!("some jobs failed (see the log and the job_runs table)");
            }
            db.close().await;
            Ok(())
        }
        Command::Backup { path } => backup(&settings, clock.as_ref(), path).await,
        Command::Healthcheck => healthcheck(&settings).await,
    }
}

fn describe(e: crate::error::AppError) -> anyhow::Error {
    match e {
        crate::error::AppError::Invalid { violations, .. } => {
            anyhow::anyhow!("{}", crate::error::Violation::to_text(&violations))
        }
        other => anyhow::anyhow!("{other}"),
    }
}

async fn serve(settings: Settings, clock: Arc<dyn Clock>) -> anyhow::Result<()> {
    let bind = settings.bind.clone();
    let engine = Engine::from_url(&settings.database_url)?;
    let app = Application::build(settings, clock).await?;
    print_bootstrap(&app.bootstrap);
    println!(
        "agentdesk is listening on http://{bind} ({} database)",
        engine.name()
    );
    app.run_until_stopped().await?;
    tracing::info!("stopped");
    Ok(())
}

async fn backup(
    settings: &Settings,
    clock: &dyn Clock,
    path: Option<std::path::PathBuf>,
) -> anyhow::Result<()> {
    let now = clock.now();
    match Engine::from_url(&settings.database_url)? {
        Engine::Sqlite => {
            let db = Db::connect(&settings.database_url, &PoolSettings::default()).await?;
            let written = migrate::backup_sqlite(&db, now, path).await?;
            println!("Backup written to {}", written.display());
            db.close().await;
        }
        Engine::Postgres => {
            let target = path.unwrap_or_else(|| {
                std::path::PathBuf::from("data/backups")
                    .join(format!("{}.sql", now.format("%Y%m%dT%H%M%SZ")))
            });
            if let Some(dir) = target.parent()
                && !dir.as_os_str().is_empty()
            {
                std::fs::create_dir_all(dir)?;
            }
            let status = tokio::process::Command::new("pg_dump")
                .arg("--no-owner")
                .arg("--file")
                .arg(&target)
                .arg("--dbname")
                .arg(&settings.database_url)
                .status()
                .await
                .map_err(|e| match e.kind() {
                    std::io::ErrorKind::NotFound => anyhow::anyhow!(
                        "pg_dump was not found on the PATH; install the PostgreSQL client tools (same major version as the server)"
                    ),
                    _ => anyhow::anyhow!("could not run pg_dump: {e}"),
                })?;
            if !status.success() {
                anyhow::bail!("pg_dump failed ({status})");
            }
            println!("Backup written to {}", target.display());
        }
    }
    Ok(())
}

async fn healthcheck(settings: &Settings) -> anyhow::Result<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr: std::net::SocketAddr = settings.bind.parse()?;
    let target = if addr.ip().is_unspecified() {
        std::net::SocketAddr::from(([127, 0, 0, 1], addr.port()))
    } else {
        addr
    };
    let check = async {
        let mut s = tokio::net::TcpStream::connect(target).await?;
        s.write_all(
            format!("GET /health/ready HTTP/1.1\r\nHost: {target}\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        )
        .await?;
        let mut buf = Vec::new();
        s.read_to_end(&mut buf).await?;
        anyhow::Ok(String::from_utf8_lossy(&buf).starts_with("HTTP/1.1 200"))
    };
    match tokio::time::timeout(std::time::Duration::from_secs(5), check).await {
        Ok(Ok(true)) => Ok(()),
        Ok(Ok(false)) => anyhow::bail!("not ready"),
        Ok(Err(e)) => anyhow::bail!("unreachable: {e}"),
        Err(_) => anyhow::bail!("timed out"),
    }
}

/// Tells the person at the terminal about an admin that was just created.
fn print_bootstrap(bootstrap: &Bootstrap) {
    match bootstrap {
        Bootstrap::Generated { email, password } => {
            println!();
            println!("  First start: created the admin account");
            println!("    e-mail:   {email}");
            println!(
                "    password: {password}   (one-time: you choose a new one at first sign-in)"
            );
            println!();
        }
        Bootstrap::FromSettings { email } => {
            println!("Created the admin {email} from AGENTDESK_ADMIN_EMAIL.")
        }
        Bootstrap::NotNeeded => {}
    }
}
