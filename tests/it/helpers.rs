//! Test harness: every test starts its own agentdesk on a free port with a fresh database, on SQLite
//! and on PostgreSQL, and talks to it over HTTP like a browser would.

use std::str::FromStr;
use std::sync::{Arc, OnceLock};

use agentdesk::app::Application;
use agentdesk::clock::{Clock, ManualClock};
use agentdesk::config::{Secret, Settings};
use agentdesk::db::{Db, PoolSettings};
use reqwest::StatusCode;
use reqwest::cookie::CookieStore;
use sqlx::{Connection, PgConnection};

pub const ADMIN_EMAIL: &str = "admin@example.com";
pub const ADMIN_PASSWORD: &str = "admin-password-for-tests";
pub const PASSWORD: &str = "a-long-enough-password";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// Runs a test body once per engine: `both_engines!(name)` expects `async fn name(engine: Engine)`.
#[macro_export]
macro_rules! both_engines {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name($crate::helpers::Engine::Sqlite).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$name($crate::helpers::Engine::Postgres).await
                }
            }
        )*
    };
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

const DEFAULT_PG: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// The server-level PostgreSQL URL: TEST_DATABASE_URL, else the local default, else a throwaway
/// cluster started for this test process (see `pg_cluster`). Decided once, by `postgres_available`.
static PG_URL: OnceLock<Result<String, String>> = OnceLock::new();

pub fn pg_admin_url() -> String {
    match PG_URL.get() {
        Some(Ok(url)) => url.clone(),
        _ => std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_PG.into()),
    }
}

async fn reachable(url: &str) -> Result<(), String> {
    match PgConnection::connect(url).await {
        Ok(c) => {
            let _ = c.close().await;
            Ok(())
        }
        Err(e) => Err(e.to_string()),
    }
}

async fn find_postgres() -> Result<String, String> {
    if let Ok(url) = std::env::var("TEST_DATABASE_URL") {
        return reachable(&url)
            .await
            .map(|()| url.clone())
            .map_err(|e| format!("{url}: {e}"));
    }
    let forced = std::env::var("AGENTDESK_TEST_THROWAWAY_PG").is_ok_and(|v| v == "1");
    if !forced && reachable(DEFAULT_PG).await.is_ok() {
        return Ok(DEFAULT_PG.into());
    }
    let url = tokio::task::spawn_blocking(crate::pg_cluster::start)
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("no server at {DEFAULT_PG} and no throwaway one: {e}"))?;
    reachable(&url).await.map(|()| url)
}

/// Whether PostgreSQL can be used. Outside CI a missing server skips the PostgreSQL half (loudly);
/// under CI=true it fails the test.
async fn postgres_available() -> bool {
    static LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    if PG_URL.get().is_none() {
        let _one_at_a_time = LOCK.lock().await;
        if PG_URL.get().is_none() {
            let _ = PG_URL.set(find_postgres().await);
        }
    }
    match PG_URL.get().unwrap() {
        Ok(_) => true,
        Err(e) if in_ci() => panic!("PostgreSQL is required under CI=true: {e}"),
        Err(e) => {
            eprintln!("SKIPPED PostgreSQL half: {e}; set TEST_DATABASE_URL");
            false
        }
    }
}

/// The URL of database `name` on the test server (keeps host, user and socket parameters).
fn pg_url_for(name: &str) -> String {
    let mut url = url::Url::parse(&pg_admin_url()).expect("TEST_DATABASE_URL is a URL");
    url.set_path(&format!("/{name}"));
    url.to_string()
}

/// A fresh, empty database for one test, removed when dropped.
pub struct TestDb {
    pub url: String,
    pg_name: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    /// None: the engine is not available here (only outside CI).
    pub async fn new(engine: Engine) -> Option<TestDb> {
        match engine {
            Engine::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}", dir.path().join("agentdesk.db").display());
                Some(TestDb {
                    url,
                    pg_name: None,
                    _dir: Some(dir),
                })
            }
            Engine::Postgres => {
                if !postgres_available().await {
                    return None;
                }
                let name = format!("agentdesk_t_{}", uuid::Uuid::new_v4().simple());
                let mut c = PgConnection::connect(&pg_admin_url())
                    .await
                    .expect("connect to PostgreSQL");
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&mut c)
                    .await
                    .expect("create database");
                let _ = c.close().await;
                Some(TestDb {
                    url: pg_url_for(&name),
                    pg_name: Some(name),
                    _dir: None,
                })
            }
        }
    }

    pub fn sqlite_file(&self) -> Option<std::path::PathBuf> {
        self._dir.as_ref().map(|d| d.path().join("agentdesk.db"))
    }

    pub fn pg_name(&self) -> Option<&str> {
        self.pg_name.as_deref()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(name) = self.pg_name.take() {
            // Drop is synchronous: do the async clean-up on a thread of its own.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async move {
                    if let Ok(mut c) = PgConnection::connect(&pg_admin_url()).await {
                        let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                        )))
                        .execute(&mut c)
                        .await;
                    }
                });
            })
            .join();
        }
    }
}

/// Runs SQL as a superuser against the test database (to make PostgreSQL unreachable and back).
pub async fn pg_admin(sql: &str) {
    let mut c = PgConnection::connect(&pg_admin_url())
        .await
        .expect("connect");
    sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
        .execute(&mut c)
        .await
        .expect(sql);
}

pub struct TestApp {
    pub base: String,
    pub db: Db,
    pub clock: Arc<ManualClock>,
    /// The bootstrap admin's one-time password, when the app generated one.
    pub generated_admin: Option<(String, String)>,
    pub test_db: TestDb,
    handle: actix_web::dev::ServerHandle,
}

/// What to start an app with.
pub struct Options {
    /// Create the admin from settings (true) or let the app generate a one-time password (false).
    pub configured_admin: bool,
    pub body_limit: Option<usize>,
    /// Any other setting a test needs.
    pub configure: Option<fn(&mut Settings)>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            configured_admin: true,
            body_limit: None,
            configure: None,
        }
    }
}

pub async fn spawn_app(engine: Engine) -> Option<TestApp> {
    spawn_app_with(engine, Options::default()).await
}

pub async fn spawn_app_with(engine: Engine, opts: Options) -> Option<TestApp> {
    let test_db = TestDb::new(engine).await?;
    let mut settings = Settings {
        database_url: test_db.url.clone(),
        bind: "127.0.0.1:0".into(),
        secret_key: Some(Secret::new(
            "test-secret-key-that-is-long-enough-0123456789",
        )),
        scheduler: false,
        workers: Some(1),
        db_max_connections: 5,
        ..Settings::default()
    };
    if opts.configured_admin {
        settings.admin_email = Some(ADMIN_EMAIL.into());
        settings.admin_password = Some(Secret::new(ADMIN_PASSWORD));
    }
    if let Some(limit) = opts.body_limit {
        settings.body_limit = limit;
    }
    if let Some(configure) = opts.configure {
        configure(&mut settings);
    }
    let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
    let app = Application::build(settings, clock.clone() as Arc<dyn Clock>)
        .await
        .expect("app starts");
    let generated_admin = match &app.bootstrap {
        agentdesk::service::setup::Bootstrap::Generated { email, password } => {
            Some((email.clone(), password.clone()))
        }
        _ => None,
    };
    let port = app.port();
    let db = app.db.clone();
    let server = app.into_server();
    let handle = server.handle();
    tokio::spawn(server);
    Some(TestApp {
        base: format!("http://127.0.0.1:{port}"),
        db,
        clock,
        generated_admin,
        test_db,
        handle,
    })
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Ask the server to stop; the database is removed by TestDb's own Drop.
        drop(self.handle.stop(false));
    }
}

impl TestApp {
    /// A new browser-like client with its own cookie jar.
    pub fn client(&self) -> Client {
        Client::new(&self.base)
    }

    /// A client signed in as the configured admin.
    pub async fn admin(&self) -> Client {
        let c = self.client();
        let res = c.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "admin login");
        c
    }

    /// Creates a user through the admin pages and returns a client signed in as them.
    pub async fn user_with_role(&self, role: &str) -> (Client, String) {
        let admin = self.admin().await;
        let email = format!(
            "{role}-{}@example.com",
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        );
        let mut form = vec![
            ("email", email.as_str()),
            ("role", role),
            ("password", PASSWORD),
        ];
        if role == "customer" {
            form.extend([
                ("customer_id", "new"),
                ("customer_name", "Acme Clinic"),
                ("customer_email", "ops@acme.example"),
            ]);
        }
        let res = admin.post_form("/admin/users", &form).await;
        assert_eq!(
            res.status(),
            StatusCode::SEE_OTHER,
            "create {role}: {}",
            res.text().await.unwrap_or_default()
        );
        let c = self.client();
        let res = c.login(&email, PASSWORD).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "login as {role}");
        (c, email)
    }

    /// Scalar query against the app's database, written once for both engines.
    pub async fn count(&self, sql: &'static str) -> i64 {
        match &self.db {
            Db::Postgres(p, ..) => sqlx::query_scalar(sql).fetch_one(p).await.unwrap(),
            Db::Sqlite(p) => sqlx::query_scalar(sql).fetch_one(p).await.unwrap(),
        }
    }

    /// [`count`](Self::count) with text values bound to `$1`, `$2`, … in order.
    pub async fn count_with(&self, sql: &'static str, values: &[&str]) -> i64 {
        match &self.db {
            Db::Postgres(p, ..) => {
                let mut q = sqlx::query_scalar(sql);
                for v in values {
                    q = q.bind(*v);
                }
                q.fetch_one(p).await.unwrap()
            }
            Db::Sqlite(p) => {
                let mut q = sqlx::query_scalar(sql);
                for v in values {
                    q = q.bind(*v);
                }
                q.fetch_one(p).await.unwrap()
            }
        }
    }

    /// A text scalar from the app's database.
    pub async fn text(&self, sql: &'static str) -> String {
        match &self.db {
            Db::Postgres(p, ..) => sqlx::query_scalar(sql).fetch_one(p).await.unwrap(),
            Db::Sqlite(p) => sqlx::query_scalar(sql).fetch_one(p).await.unwrap(),
        }
    }

    /// Runs a statement against the app's database; the error text when it is refused.
    pub async fn exec(&self, sql: &'static str) -> Result<u64, String> {
        match &self.db {
            Db::Postgres(p, ..) => sqlx::query(sql)
                .execute(p)
                .await
                .map(|r| r.rows_affected())
                .map_err(|e| e.to_string()),
            Db::Sqlite(p) => sqlx::query(sql)
                .execute(p)
                .await
                .map(|r| r.rows_affected())
                .map_err(|e| e.to_string()),
        }
    }

    /// Runs a statement with `values` bound to `$1`, `$2`, …
    pub async fn exec_with(&self, sql: &'static str, values: &[&str]) -> Result<u64, String> {
        match &self.db {
            Db::Postgres(p, ..) => {
                let mut q = sqlx::query(sql);
                for v in values {
                    q = q.bind(*v);
                }
                q.execute(p).await.map(|r| r.rows_affected())
            }
            Db::Sqlite(p) => {
                let mut q = sqlx::query(sql);
                for v in values {
                    q = q.bind(*v);
                }
                q.execute(p).await.map(|r| r.rows_affected())
            }
        }
        .map_err(|e| e.to_string())
    }

    /// The app's clock now.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    /// Whether `needle` appears anywhere in the database: in the SQLite file (and its write-ahead
    /// log) byte for byte, or in any row of any PostgreSQL table as text.
    pub async fn database_contains(&self, needle: &str) -> bool {
        match &self.db {
            Db::Sqlite(p) => {
                // Checkpoint so every page is in the main file, then read the files themselves.
                sqlx::query("PRAGMA wal_checkpoint(FULL)")
                    .execute(p)
                    .await
                    .unwrap();
                let file = self.test_db.sqlite_file().expect("a SQLite file");
                let mut paths = vec![file.clone()];
                paths.push(std::path::PathBuf::from(format!("{}-wal", file.display())));
                paths
                    .iter()
                    .filter_map(|f| std::fs::read(f).ok())
                    .any(|bytes| bytes.windows(needle.len()).any(|w| w == needle.as_bytes()))
            }
            Db::Postgres(p, ..) => {
                let tables: Vec<String> = sqlx::query_scalar(
                    "SELECT table_name::text FROM information_schema.tables \
                     WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
                )
                .fetch_all(p)
                .await
                .unwrap();
                for t in tables {
                    let sql = format!(
                        "SELECT COUNT(*) FROM \"{t}\" x WHERE CAST(x AS TEXT) LIKE '%' || $1 || '%'"
                    );
                    let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                        .bind(needle)
                        .fetch_one(p)
                        .await
                        .unwrap();
                    if n > 0 {
                        return true;
                    }
                }
                false
            }
        }
    }

    /// A connection pool of our own on the same database (to inspect it like another instance would).
    pub async fn second_db(&self) -> Db {
        Db::connect(&self.test_db.url, &PoolSettings::default())
            .await
            .unwrap()
    }
}

pub struct Client {
    pub http: reqwest::Client,
    jar: Arc<reqwest::cookie::Jar>,
    pub base: String,
}

pub fn extract_csrf(html: &str) -> Option<String> {
    let marker = "name=\"_csrf\" value=\"";
    let start = html.find(marker)? + marker.len();
    let end = html[start..].find('"')?;
    Some(html[start..start + end].to_string())
}

impl Client {
    /// A browser-like client of the server at `base`, with its own cookie jar.
    pub fn new(base: &str) -> Client {
        let jar = Arc::new(reqwest::cookie::Jar::default());
        let http = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Client {
            http,
            jar,
            base: base.to_string(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http.get(self.url(path)).send().await.unwrap()
    }

    /// GET and return (status, body).
    pub async fn page(&self, path: &str) -> (StatusCode, String) {
        let res = self.get(path).await;
        let status = res.status();
        (status, res.text().await.unwrap())
    }

    /// GET as htmx asks for a fragment (`HX-Request`), and return (status, body).
    pub async fn fragment(&self, path: &str) -> (StatusCode, String) {
        let res = self
            .http
            .get(self.url(path))
            .header("HX-Request", "true")
            .send()
            .await
            .unwrap();
        let status = res.status();
        (status, res.text().await.unwrap())
    }

    /// The current session's CSRF token, read from a page like a browser has it.
    pub async fn csrf(&self) -> String {
        for path in ["/account/password", "/login"] {
            let (status, body) = self.page(path).await;
            if status == StatusCode::OK
                && let Some(t) = extract_csrf(&body)
            {
                return t;
            }
        }
        panic!("no page offered a CSRF token");
    }

    /// POSTs a form with the session's CSRF token added.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let token = self.csrf().await;
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        all.push(("_csrf", &token));
        self.http
            .post(self.url(path))
            .form(&all)
            .send()
            .await
            .unwrap()
    }

    /// POSTs a form exactly as given (no token added).
    pub async fn post_raw(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        self.http
            .post(self.url(path))
            .form(fields)
            .send()
            .await
            .unwrap()
    }

    pub async fn login(&self, email: &str, password: &str) -> reqwest::Response {
        let (status, body) = self.page("/login").await;
        assert_eq!(status, StatusCode::OK);
        let token = extract_csrf(&body).expect("login form has a CSRF field");
        self.http
            .post(self.url("/login"))
            .form(&[("email", email), ("password", password), ("_csrf", &token)])
            .send()
            .await
            .unwrap()
    }

    /// Creates an API token through the tokens page (as this client's user) and returns it.
    pub async fn api_token(&self) -> String {
        let res = self.post_form("/account/tokens", &[("name", "api")]).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&res), "/account/tokens");
        let (_, body) = self.page("/account/tokens").await;
        let marker = "id=\"new-token-value\">";
        let start = body.find(marker).expect("the new token is shown once") + marker.len();
        body[start..start + body[start..].find('<').unwrap()].to_string()
    }

    /// The Cookie header this client would send (to replay it later from elsewhere).
    pub fn cookie_header(&self) -> String {
        let url = reqwest::Url::from_str(&self.base).unwrap();
        self.jar
            .cookies(&url)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default()
    }
}

/// A client that sends a fixed Cookie header (a stolen or stale cookie) and keeps nothing.
pub async fn get_with_cookie(base: &str, path: &str, cookie: &str) -> reqwest::Response {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("{base}{path}"))
        .header("Cookie", cookie)
        .send()
        .await
        .unwrap()
}

pub fn location(res: &reqwest::Response) -> String {
    res.headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}
