//! Building the application: database, migrations, first admin, HTTP server.

use std::net::TcpListener;
use std::sync::Arc;

use actix_session::SessionMiddleware;
use actix_session::config::{BrowserSession, CookieContentSecurity, TtlExtensionPolicy};
use actix_web::cookie::SameSite;
use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::web as aw;
use actix_web::{App, HttpServer};

use crate::clock::Clock;
use crate::config::Settings;
use crate::db::{Db, PoolSettings, Pools, migrate};
use crate::domain::actor::Actor;
use crate::jobs;
use crate::keys::Keys;
use crate::service::setup::{self, Bootstrap};
use crate::web::AppState;
use crate::web::csrf::csrf_guard;
use crate::web::errors::render_errors;
use crate::web::input_guard::refuse_unsafe_text;
use crate::web::metrics::Metrics;
use crate::web::middleware::{RequestSpan, limit_body, observe};
use crate::web::session_store::DbSessionStore;

pub const SESSION_COOKIE: &str = "agentdesk_session";

/// Connects, applies pending migrations and returns the database. With a migration role
/// (`AGENTDESK_MIGRATE_DATABASE_URL`), that role migrates and grants the serving role only what
/// serving needs.
pub async fn prepare_database(settings: &Settings, clock: &dyn Clock) -> anyhow::Result<Db> {
    let pool = PoolSettings {
        max_connections: settings.db_max_connections,
        ..PoolSettings::default()
    };
    let db = Db::connect(&settings.database_url, &pool).await?;
    let owner = match &settings.migrate_database_url {
        Some(url) => Some(Db::connect(url, &migrate::owner_pool()).await?),
        None => None,
    };
    let applied = migrate::up(owner.as_ref().unwrap_or(&db), clock.now()).await?;
    for name in applied {
        tracing::info!(migration = name, "applied migration");
    }
    if let Some(owner) = owner {
        let role = migrate::grant_serving_role(&owner, &db).await?;
        tracing::info!(role, "granted the serving role its privileges");
        owner.close().await;
    }
    Ok(db)
}

/// Creates the first admin when the database has none (from the settings, or with a one-time
/// password to print).
pub async fn bootstrap(db: &Db, settings: &Settings, ctx: &Actor) -> anyhow::Result<Bootstrap> {
    let configured = settings.admin_email.clone().zip(
        settings
            .admin_password
            .as_ref()
            .map(|p| p.expose().to_string()),
    );
    setup::bootstrap_admin(db, ctx, configured)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))
}

pub struct Application {
    port: u16,
    server: Server,
    pub db: Db,
    pools: Pools,
    pub bootstrap: Bootstrap,
    stop_jobs: tokio::sync::watch::Sender<bool>,
    scheduler: Option<tokio::task::JoinHandle<()>>,
}

impl Application {
    /// Prepares everything and binds the listener (port 0 picks a free port, as tests do).
    pub async fn build(settings: Settings, clock: Arc<dyn Clock>) -> anyhow::Result<Application> {
        let db = prepare_database(&settings, clock.as_ref()).await?;
        let ctx = Actor::system("startup", clock.now());
        let bootstrap = bootstrap(&db, &settings, &ctx).await?;
        for id in crate::service::catalog::seed_builtins(&db, &ctx)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?
        {
            tracing::info!(agent_type = %id, "loaded built-in agent type");
        }
        let keys = Keys::derive(&crate::keys::master_secret(&db, &settings).await?);
        crate::passwords::warm_up();

        let listener = TcpListener::bind(&settings.bind)?;
        let port = listener.local_addr()?.port();
        let (stop_jobs, stop_signal) = tokio::sync::watch::channel(false);
        // One recorder for the server and its scheduler: a pass's counts show on `/metrics`.
        let metrics = Metrics::default();
        let scheduler = settings.scheduler.then(|| {
            let job_settings = jobs::JobSettings::from(&settings).with_metrics(metrics.clone());
            jobs::spawn_loop(db.clone(), clock.clone(), job_settings, stop_signal)
        });
        let pools = Pools::new(db.clone());
        let server = run(listener, pools.clone(), settings, clock, keys, metrics)?;
        Ok(Application {
            port,
            server,
            db,
            pools,
            bootstrap,
            stop_jobs,
            scheduler,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until SIGTERM/SIGINT (or the server is stopped), then closes the pool.
    /// The scheduler finishes the pass under way and stops with the server.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result = self.server.await;
        let _ = self.stop_jobs.send(true);
        if let Some(handle) = self.scheduler {
            let _ = handle.await;
        }
        self.pools.close().await;
        result
    }

    /// A handle that stops the server (and so, through `run_until_stopped`, its scheduler).
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    pub fn into_server(self) -> Server {
        self.server
    }
}

fn run(
    listener: TcpListener,
    pools: Pools,
    settings: Settings,
    clock: Arc<dyn Clock>,
    keys: Keys,
    metrics: Metrics,
) -> anyhow::Result<Server> {
    let key = keys.cookie.clone();
    let session_idle = chrono::Duration::from_std(settings.session_idle)?;
    let session_max = chrono::Duration::from_std(settings.session_max)?;
    let idle = actix_web::cookie::time::Duration::seconds(settings.session_idle.as_secs() as i64);
    let secure = settings.cookie_secure();
    let grace = settings.shutdown_grace.as_secs();
    let workers = settings.workers;
    let body_limit = settings.body_limit;
    let worker_count = workers.unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
    });
    // The connection limit is shared out between the workers' own pools (see `Pools`).
    let per_worker = settings.db_max_connections.div_ceil(worker_count as u32);
    let keys = Arc::new(keys);
    let type_names = Arc::new(crate::service::catalog::TypeNames::default());

    let mut server = HttpServer::new(move || {
        let db = pools.for_worker(per_worker);
        let state = aw::Data::new(AppState {
            db: db.clone(),
            pools: pools.clone(),
            settings: settings.clone(),
            clock: clock.clone(),
            metrics: metrics.clone(),
            keys: keys.clone(),
            type_names: type_names.clone(),
        });
        let store = DbSessionStore {
            db,
            clock: clock.clone(),
            idle: session_idle,
            max_lifetime: session_max,
        };
        let sessions = SessionMiddleware::builder(store, key.clone())
            .cookie_name(SESSION_COOKIE.into())
            .cookie_http_only(true)
            .cookie_same_site(SameSite::Lax)
            .cookie_secure(secure)
            .cookie_content_security(CookieContentSecurity::Private)
            .session_lifecycle(
                BrowserSession::default()
                    .state_ttl(idle)
                    // Unchanged sessions are not written back; the store's `load` moves a stale
                    // idle deadline instead (at most once a minute).
                    .state_ttl_extension_policy(TtlExtensionPolicy::OnStateChanges),
            )
            .build();
        App::new()
            .app_data(state.clone())
            .app_data(aw::PayloadConfig::new(body_limit))
            .app_data(aw::JsonConfig::default().limit(body_limit))
            .app_data(aw::FormConfig::default().limit(body_limit))
            .configure(crate::web::routes)
            .default_service(aw::to(crate::web::not_found))
            // Listed innermost first: flash messages ride on the handlers' answers, CSRF needs the
            // session, errors are rendered with the session and correlation id in place, `observe`
            // sees every final response.
            .wrap(from_fn(crate::web::flash::carry))
            .wrap(from_fn(csrf_guard))
            .wrap(sessions)
            .wrap(from_fn(refuse_unsafe_text))
            .wrap(from_fn(limit_body))
            .wrap(from_fn(render_errors))
            .wrap(from_fn(observe))
            .wrap(tracing_actix_web::TracingLogger::<RequestSpan>::new())
    })
    .listen(listener)?
    .shutdown_timeout(grace);
    if let Some(n) = workers {
        server = server.workers(n);
    }
    Ok(server.run())
}
