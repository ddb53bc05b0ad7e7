//! Settings from the environment (and a `.env` file when present), validated once at start.

use std::net::SocketAddr;
use std::time::Duration;

pub use crate::domain::billing::settings::BillingSettings;

/// A value that must never be printed.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/agentdesk.db";
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
pub const DEFAULT_SECRET_KEY_FILE: &str = "data/secret.key";

/// An address or a CIDR range (`10.0.0.0/8`, `::1`), for trusted proxies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpRange {
    net: std::net::IpAddr,
    prefix: u8,
}

impl IpRange {
    pub fn parse(s: &str) -> Option<IpRange> {
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p.parse::<u8>().ok()?)),
            None => (s, None),
        };
        let net: std::net::IpAddr = addr.parse().ok()?;
        let max = if net.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        (prefix <= max).then_some(IpRange { net, prefix })
    }

    pub fn contains(&self, ip: std::net::IpAddr) -> bool {
        use std::net::IpAddr::{V4, V6};
        let (a, b, bits) = match (self.net, ip) {
            (V4(n), V4(i)) => (u32::from(n) as u128, u32::from(i) as u128, 32),
            (V6(n), V6(i)) => (u128::from(n), u128::from(i), 128),
            (V6(n), V4(i)) => match n.to_ipv4_mapped() {
                Some(n4) => {
                    return IpRange {
                        net: V4(n4),
                        prefix: self.prefix.saturating_sub(96),
                    }
                    .contains(V4(i));
                }
                None => return false,
            },
            (V4(_), V6(i)) => match i.to_ipv4_mapped() {
                Some(i4) => return self.contains(V4(i4)),
                None => return false,
            },
        };
        let shift = bits - self.prefix as u32;
        if shift >= 128 {
            return true;
        }
        (a >> shift) == (b >> shift)
    }
}

/// Every setting, with its environment variable, default and meaning; `--help` prints this table.
pub const SETTINGS_HELP: &str = "\
Settings (environment variables; a .env file in the working directory is read when present):
  DATABASE_URL                     sqlite://data/agentdesk.db (default, created if missing) or
                                   postgres://user:pass@host/db, postgres:///db?host=/run/postgresql
  AGENTDESK_MIGRATE_DATABASE_URL   PostgreSQL only: a role that owns the schema runs the migrations and
                                   grants the DATABASE_URL role only what serving needs (append-only
                                   tables: SELECT and INSERT) [default: the DATABASE_URL role does both]
  AGENTDESK_BIND                   address to listen on [default: 127.0.0.1:8080]
  AGENTDESK_ADMIN_EMAIL            e-mail of the admin created on a database without an admin
  AGENTDESK_ADMIN_PASSWORD         its password (then nothing is printed and no change is forced)
  AGENTDESK_SECRET_KEY             key for cookies and stored credentials (>= 32 chars); when unset
                                   one is generated once into AGENTDESK_SECRET_KEY_FILE
  AGENTDESK_SECRET_KEY_PREVIOUS    for `agentdesk secrets rotate`: the key credentials are encrypted
                                   with now (AGENTDESK_SECRET_KEY being the new one)
  AGENTDESK_SECRET_KEY_FILE        where the generated key is kept, mode 0600 [default: data/secret.key]
  AGENTDESK_TRUSTED_PROXIES        comma-separated addresses or CIDR ranges of reverse proxies whose
                                   X-Forwarded-For names the client (for sign-in throttling) [default: none]
  AGENTDESK_COOKIE_SECURE          true|false: Secure session cookie [default: false on loopback, else true]
  AGENTDESK_SESSION_IDLE_MINUTES   a session ends after this long without a request [default: 30]
  AGENTDESK_SESSION_MAX_HOURS      and at the latest this long after sign-in [default: 12]
  AGENTDESK_BODY_LIMIT_BYTES       largest request body accepted, else 413 [default: 1048576]
  AGENTDESK_SHUTDOWN_GRACE_SECONDS time in-flight requests get to finish on SIGTERM/SIGINT [default: 30]
  AGENTDESK_DB_MAX_CONNECTIONS     connections for requests, shared out among the HTTP workers; start-up
                                   and the job loop have as many more [default: 10]
  AGENTDESK_SCHEDULER              on|off: run the background job loop inside the server [default: on]
  AGENTDESK_WORKERS                HTTP worker threads [default: number of CPUs]
  AGENTDESK_PAYMENTS_MODE          how customers pay; only coupon exists [default: coupon]
  AGENTDESK_COUPON_CODE            the checkout coupon [default: WAOOAW100]
  AGENTDESK_COUPON_DISCOUNT_PERCENT how much of the list price it takes off, 1-100 [default: 100]
  AGENTDESK_SELLER_LEGAL_NAME      seller name printed on invoices [default: WAOOAW]
  AGENTDESK_SELLER_GSTIN           seller GSTIN printed on invoices [default: none]
  AGENTDESK_SELLER_STATE_CODE      seller's GST state code: same state CGST+SGST, else IGST
                                   [default: the GSTIN's first two digits, or 27]
  AGENTDESK_BILLING_TIMEZONE       IANA timezone of the billing day in invoice numbers
                                   [default: Asia/Kolkata]
  AGENTDESK_END_RETENTION_DAYS     days a canceled subscription stays readable [default: 30]
  RUST_LOG                         log filter, e.g. info or agentdesk=debug [default: info]";

#[derive(Debug, Clone)]
pub struct Settings {
    pub database_url: String,
    /// PostgreSQL: the schema owner that migrates; the serving role is then granted less.
    pub migrate_database_url: Option<String>,
    pub bind: String,
    pub admin_email: Option<String>,
    pub admin_password: Option<Secret>,
    pub secret_key: Option<Secret>,
    /// The key credentials are encrypted with before `agentdesk secrets rotate`.
    pub secret_key_previous: Option<Secret>,
    pub secret_key_file: String,
    pub trusted_proxies: Vec<IpRange>,
    pub cookie_secure: Option<bool>,
    pub session_idle: Duration,
    pub session_max: Duration,
    pub body_limit: usize,
    pub shutdown_grace: Duration,
    pub db_max_connections: u32,
    pub scheduler: bool,
    pub workers: Option<usize>,
    pub billing: BillingSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            database_url: DEFAULT_DATABASE_URL.into(),
            migrate_database_url: None,
            bind: DEFAULT_BIND.into(),
            admin_email: None,
            admin_password: None,
            secret_key: None,
            secret_key_previous: None,
            secret_key_file: DEFAULT_SECRET_KEY_FILE.into(),
            trusted_proxies: vec![],
            cookie_secure: None,
            session_idle: Duration::from_secs(30 * 60),
            session_max: Duration::from_secs(12 * 3600),
            body_limit: 1024 * 1024,
            shutdown_grace: Duration::from_secs(30),
            db_max_connections: 10,
            scheduler: true,
            workers: None,
            billing: BillingSettings::default(),
        }
    }
}

impl Settings {
    /// Reads the environment (after loading `.env`, which never overrides a set variable).
    pub fn from_env() -> anyhow::Result<Settings> {
        let _ = dotenvy::dotenv();
        Self::from_lookup(|k| std::env::var(k).ok().filter(|v| !v.trim().is_empty()))
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> anyhow::Result<Settings> {
        let d = Settings::default();
        let number = |key: &str, default: u64| -> anyhow::Result<u64> {
            match get(key) {
                None => Ok(default),
                Some(v) => v
                    .trim()
                    .parse::<u64>()
                    .map_err(|_| anyhow::anyhow!("{key} must be a whole number, got {v:?}")),
            }
        };
        let flag = |key: &str| -> anyhow::Result<Option<bool>> {
            match get(key).map(|v| v.trim().to_lowercase()) {
                None => Ok(None),
                Some(v) if ["1", "true", "on", "yes"].contains(&v.as_str()) => Ok(Some(true)),
                Some(v) if ["0", "false", "off", "no"].contains(&v.as_str()) => Ok(Some(false)),
                Some(v) => anyhow::bail!("{key} must be on/off or true/false, got {v:?}"),
            }
        };
        let database_url = get("DATABASE_URL").unwrap_or(d.database_url);
        let engine = crate::db::Engine::from_url(&database_url)?;
        let migrate_database_url = get("AGENTDESK_MIGRATE_DATABASE_URL");
        if let Some(url) = &migrate_database_url
            && (engine != crate::db::Engine::Postgres
                || crate::db::Engine::from_url(url)? != crate::db::Engine::Postgres)
        {
            anyhow::bail!(
                "AGENTDESK_MIGRATE_DATABASE_URL is for PostgreSQL: set it and DATABASE_URL to \
                 postgres:// URLs of the same database (SQLite has no roles)"
            );
        }
        let bind = get("AGENTDESK_BIND").unwrap_or(d.bind);
        bind.parse::<SocketAddr>().map_err(|_| {
            anyhow::anyhow!("AGENTDESK_BIND must be host:port like 127.0.0.1:8080, got {bind:?}")
        })?;
        let admin_email = match get("AGENTDESK_ADMIN_EMAIL") {
            Some(e) => Some(
                crate::domain::roles::normalise_email(&e)
                    .map_err(|m| anyhow::anyhow!("AGENTDESK_ADMIN_EMAIL: {m}"))?,
            ),
            None => None,
        };
        let admin_password = get("AGENTDESK_ADMIN_PASSWORD").map(Secret::new);
        if admin_email.is_some() != admin_password.is_some() {
            anyhow::bail!(
                "set both AGENTDESK_ADMIN_EMAIL and AGENTDESK_ADMIN_PASSWORD, or neither"
            );
        }
        if let Some(p) = &admin_password
            && let Some(problem) = crate::domain::roles::password_problem(p.expose())
        {
            anyhow::bail!("AGENTDESK_ADMIN_PASSWORD: {problem}");
        }
        let secret_key = get("AGENTDESK_SECRET_KEY").map(Secret::new);
        if let Some(k) = &secret_key
            && k.expose().len() < 32
        {
            anyhow::bail!("AGENTDESK_SECRET_KEY must be at least 32 characters");
        }
        let mut trusted_proxies = vec![];
        for item in get("AGENTDESK_TRUSTED_PROXIES")
            .unwrap_or_default()
            .split(',')
            .filter(|s| !s.trim().is_empty())
        {
            trusted_proxies.push(IpRange::parse(item).ok_or_else(|| {
                anyhow::anyhow!(
                    "AGENTDESK_TRUSTED_PROXIES: {item:?} is not an address or CIDR range like 10.0.0.0/8"
                )
            })?);
        }
        let idle = number("AGENTDESK_SESSION_IDLE_MINUTES", 30)?;
        let max = number("AGENTDESK_SESSION_MAX_HOURS", 12)?;
        if idle == 0 || max == 0 {
            anyhow::bail!("session lifetimes must be greater than zero");
        }
        let workers = match number("AGENTDESK_WORKERS", 0)? {
            0 => None,
            n => Some(n as usize),
        };
        Ok(Settings {
            database_url,
            migrate_database_url,
            bind,
            admin_email,
            admin_password,
            secret_key,
            secret_key_previous: get("AGENTDESK_SECRET_KEY_PREVIOUS").map(Secret::new),
            secret_key_file: get("AGENTDESK_SECRET_KEY_FILE").unwrap_or(d.secret_key_file),
            trusted_proxies,
            cookie_secure: flag("AGENTDESK_COOKIE_SECURE")?,
            session_idle: Duration::from_secs(idle * 60),
            session_max: Duration::from_secs(max * 3600),
            body_limit: number("AGENTDESK_BODY_LIMIT_BYTES", d.body_limit as u64)? as usize,
            shutdown_grace: Duration::from_secs(number("AGENTDESK_SHUTDOWN_GRACE_SECONDS", 30)?),
            db_max_connections: number("AGENTDESK_DB_MAX_CONNECTIONS", 10)?.max(1) as u32,
            scheduler: flag("AGENTDESK_SCHEDULER")?.unwrap_or(true),
            workers,
            billing: BillingSettings::from_lookup(&get)?,
        })
    }

    /// Secure cookies unless told otherwise or serving on loopback only.
    pub fn cookie_secure(&self) -> bool {
        self.cookie_secure
            .unwrap_or_else(|| match self.bind.parse::<SocketAddr>() {
                Ok(addr) => !addr.ip().is_loopback(),
                Err(_) => true,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(pairs: &[(&str, &str)]) -> anyhow::Result<Settings> {
        let map: std::collections::HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_are_sqlite_on_loopback() {
        let s = with(&[]).unwrap();
        assert_eq!(s.database_url, DEFAULT_DATABASE_URL);
        assert!(!s.cookie_secure());
        assert!(s.scheduler);
    }

    #[test]
    fn bad_values_are_named() {
        assert!(
            with(&[("AGENTDESK_BIND", "nowhere")])
                .unwrap_err()
                .to_string()
                .contains("AGENTDESK_BIND")
        );
        assert!(with(&[("DATABASE_URL", "mysql://x")]).is_err());
        assert!(
            with(&[("AGENTDESK_ADMIN_EMAIL", "a@b.io")])
                .unwrap_err()
                .to_string()
                .contains("both")
        );
        assert!(with(&[("AGENTDESK_SCHEDULER", "maybe")]).is_err());
        assert!(with(&[("AGENTDESK_TRUSTED_PROXIES", "10.0.0.0/99")]).is_err());
        assert!(
            with(&[(
                "AGENTDESK_MIGRATE_DATABASE_URL",
                "postgres://owner@db/agentdesk"
            )])
            .unwrap_err()
            .to_string()
            .contains("SQLite has no roles")
        );
        assert!(
            with(&[("AGENTDESK_BIND", "0.0.0.0:80")])
                .unwrap()
                .cookie_secure()
        );
        assert!(
            !with(&[
                ("AGENTDESK_BIND", "0.0.0.0:80"),
                ("AGENTDESK_COOKIE_SECURE", "false")
            ])
            .unwrap()
            .cookie_secure()
        );
    }

    #[test]
    fn trusted_proxy_ranges_match_their_addresses() {
        let s = with(&[("AGENTDESK_TRUSTED_PROXIES", "10.0.0.0/8, 192.168.1.7,::1")]).unwrap();
        let trusted = |ip: &str| {
            s.trusted_proxies
                .iter()
                .any(|r| r.contains(ip.parse().unwrap()))
        };
        assert!(trusted("10.20.30.40"));
        assert!(trusted("192.168.1.7"));
        assert!(!trusted("192.168.1.8"));
        assert!(trusted("::1"));
        assert!(!trusted("11.0.0.1"));
        assert!(
            IpRange::parse("0.0.0.0/0")
                .unwrap()
                .contains("8.8.8.8".parse().unwrap())
        );
    }
}
