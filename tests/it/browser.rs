//! The first-run journey in real headless Chromium, with htmx live.

use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};

use crate::both_engines;
use crate::helpers::*;

both_engines!(bootstrap_admin_signs_in_changes_password_creates_an_operator_and_signs_out);

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// chromedriver on a free port, killed when dropped.
pub struct Driver {
    child: Child,
    port: u16,
    _profile: tempfile::TempDir,
}

impl Drop for Driver {
    /// Ends chromedriver and every Chromium it started (they share its process group), also when
    /// a test panicked before closing its session.
    fn drop(&mut self) {
        // SAFETY: signalling our own child's process group.
        unsafe {
            libc::kill(-(self.child.id() as i32), libc::SIGKILL);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn which(var: &str, default: &str) -> Option<String> {
    let path = std::env::var(var).unwrap_or_else(|_| default.to_string());
    std::path::Path::new(&path).exists().then_some(path)
}

pub async fn browser() -> Option<(Driver, Client)> {
    let (Some(driver_bin), Some(chrome_bin)) = (
        which("CHROMEDRIVER", "/usr/bin/chromedriver"),
        which("CHROME_BIN", "/usr/bin/chromium"),
    ) else {
        assert!(
            !in_ci(),
            "Chromium and chromedriver are required under CI=true"
        );
        eprintln!("SKIPPED browser test: chromium/chromedriver not installed");
        return None;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(driver_bin)
        .process_group(0)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let profile = tempfile::tempdir().unwrap();
    let driver = Driver {
        child,
        port,
        _profile: profile,
    };
    let caps: serde_json::Map<String, serde_json::Value> = serde_json::from_value(serde_json::json!({
        "goog:chromeOptions": {
            "binary": chrome_bin,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", format!("--window-size={}", std::env::var("AGENTDESK_BROWSER_WINDOW").unwrap_or_else(|_| "1280,900".into())),
                format!("--user-data-dir={}", driver._profile.path().display()),
                // AGENTDESK_BROWSER_DARK=1: pages see `prefers-color-scheme: dark`.
                format!("--blink-settings=preferredColorScheme={}", if std::env::var("AGENTDESK_BROWSER_DARK").is_ok() { 0 } else { 1 }),
            ]
        }
    }))
    .unwrap();
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    for _ in 0..100 {
        let attempt = ClientBuilder::new(connector.clone())
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{}", driver.port))
            .await;
        if let Ok(client) = attempt {
            return Some((driver, client));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("could not start a WebDriver session with chromedriver");
}

pub async fn fill(c: &Client, css: &str, text: &str) {
    let el = c
        .wait()
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"));
    el.clear().await.unwrap();
    el.send_keys(text).await.unwrap();
}

pub async fn click(c: &Client, css: &str) {
    c.wait()
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .unwrap();
}

/// The text a person sees on the page now (not the source: hidden inputs, attributes and templates
/// do not count).
pub async fn visible_text(c: &Client) -> String {
    c.execute(
        "return document.body ? document.body.innerText : ''",
        vec![],
    )
    .await
    .unwrap()
    .as_str()
    .unwrap_or_default()
    .to_string()
}

/// The page is no wider than the window: nothing makes it scroll sideways (the elements sticking
/// out are named when something does).
pub async fn assert_no_sideways_scroll(c: &Client) {
    let out = c
        .execute(
            "const w = document.documentElement.clientWidth; \
             return [document.documentElement.scrollWidth - w, \
               Array.from(document.querySelectorAll('body *')) \
                 .filter(e => e.getBoundingClientRect().right > w + 1) \
                 .slice(0, 5).map(e => e.tagName + '.' + e.className)];",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(out[0], 0, "the page scrolls sideways because of {}", out[1]);
}

/// Accepts the confirmation dialog of a `data-confirm` form.
pub async fn accept_confirm(c: &Client) {
    for _ in 0..50 {
        if c.accept_alert().await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no confirmation dialog appeared");
}

/// Waits until the page shows `needle`.
pub async fn see(c: &Client, needle: &str) {
    for _ in 0..100 {
        if visible_text(c).await.contains(needle) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("never saw {needle:?} in:\n{}", visible_text(c).await);
}

/// Waits until the browser is at `path` (so the next check is about the new page, not one still
/// showing from before) and the page shows `needle`.
pub async fn see_at(c: &Client, path_wanted: &str, needle: &str) {
    for _ in 0..100 {
        if path(c).await == path_wanted {
            return see(c, needle).await;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("never arrived at {path_wanted}; at {}", path(c).await);
}

/// With AGENTDESK_SCREENSHOTS=DIR set, saves what the browser shows (to look at the pages by eye).
pub async fn snap(c: &Client, name: &str) {
    if let Ok(dir) = std::env::var("AGENTDESK_SCREENSHOTS") {
        // The whole page: the window grows to the page's height for the picture.
        let (w, h) = c.get_window_size().await.unwrap();
        let full = c
            .execute("return document.documentElement.scrollHeight", vec![])
            .await
            .ok()
            .and_then(|v| v.as_u64())
            .unwrap_or(h);
        let grow = full + 140 > h;
        if grow {
            c.set_window_size(w as u32, (full + 140) as u32)
                .await
                .unwrap();
        }
        let png = c.screenshot().await.unwrap();
        if grow {
            c.set_window_size(w as u32, h as u32).await.unwrap();
        }
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(std::path::Path::new(&dir).join(format!("{name}.png")), png).unwrap();
    }
}

/// Signs in through the login form and waits for the landing page.
pub async fn sign_in(c: &Client, base: &str, email: &str, password: &str, landing: &str) {
    c.goto(&format!("{base}/login")).await.unwrap();
    fill(c, "#field-email", email).await;
    fill(c, "#field-password", password).await;
    click(c, "form[action='/login'] button[type=submit]").await;
    for _ in 0..100 {
        if path(c).await != "/login" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    see(c, landing).await;
}

pub async fn path(c: &Client) -> String {
    c.current_url().await.unwrap().path().to_string()
}

async fn bootstrap_admin_signs_in_changes_password_creates_an_operator_and_signs_out(
    engine: Engine,
) {
    let Some(app) = spawn_app_with(
        engine,
        Options {
            configured_admin: false,
            ..Options::default()
        },
    )
    .await
    else {
        return;
    };
    let Some((_driver, c)) = browser().await else {
        return;
    };
    let (email, one_time) = app.generated_admin.clone().unwrap();

    c.goto(&format!("{}/admin/users", app.base)).await.unwrap();
    assert_eq!(path(&c).await, "/login");
    fill(&c, "#field-email", &email).await;
    fill(&c, "#field-password", &one_time).await;
    click(&c, "form[action='/login'] button[type=submit]").await;

    // Made to choose a new password first.
    see(&c, "Choose a new password").await;
    snap(&c, "password").await;
    assert_eq!(path(&c).await, "/account/password");
    let new_password = "my-own-strong-password";
    fill(&c, "#field-current_password", &one_time).await;
    fill(&c, "#field-new_password", new_password).await;
    fill(&c, "#field-confirm_password", new_password).await;
    click(&c, "form[action='/account/password'] button[type=submit]").await;
    see(&c, "Your password was changed.").await;
    assert_eq!(path(&c).await, "/admin");

    // htmx is live (vendored, no inline script needed).
    let htmx = c
        .execute(
            "return typeof window.htmx === 'object' && !!window.htmx.version",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(htmx, serde_json::Value::Bool(true));

    // To the users list, then the new-user form; htmx (boost) submits it without a page load.
    click(&c, "nav a[href='/admin/users']").await;
    see(&c, "New user").await;
    click(&c, "a[href='/admin/users/new']").await;
    see(&c, "Create user").await;
    c.execute("window.__samePage = true", vec![]).await.unwrap();
    fill(&c, "#field-email", "oscar@example.com").await;
    click(&c, "input[name=role][value=operator]").await;
    // A too-short password first: the error appears next to the field, the e-mail is kept.
    fill(&c, "#field-password", "short").await;
    click(&c, "#new-user-form button[type=submit]").await;
    see(&c, "Use at least 12 characters").await;
    snap(&c, "new-user-errors").await;
    let kept = c
        .find(Locator::Css("#field-email"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(kept.as_deref(), Some("oscar@example.com"));
    fill(&c, "#field-password", "operator-password-1").await;
    click(&c, "#new-user-form button[type=submit]").await;
    see(&c, "Created oscar@example.com.").await;
    snap(&c, "user-created").await;
    assert_no_sideways_scroll(&c).await;
    let same_page = c
        .execute("return window.__samePage === true", vec![])
        .await
        .unwrap();
    assert_eq!(
        same_page,
        serde_json::Value::Bool(true),
        "htmx swapped the page instead of reloading it"
    );

    // The operator is in the list, found by the live search.
    click(&c, "nav a[href='/admin/users']").await;
    see(&c, "oscar@example.com").await;
    fill(&c, "#field-q", "oscar").await;
    for _ in 0..50 {
        let rows = c
            .find_all(Locator::Css("#user-results tbody tr"))
            .await
            .unwrap();
        if rows.len() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let rows = c
        .find_all(Locator::Css("#user-results tbody tr"))
        .await
        .unwrap();
    assert_eq!(rows.len(), 1, "search narrowed the list");
    snap(&c, "users-search").await;
    assert_no_sideways_scroll(&c).await;
    assert!(rows[0].text().await.unwrap().contains("operator"));

    // Sign out, from the account menu.
    click(&c, ".account-menu summary").await;
    click(&c, ".account-menu form[action='/logout'] button").await;
    see(&c, "You have signed out.").await;
    c.goto(&format!("{}/admin", app.base)).await.unwrap();
    assert_eq!(path(&c).await, "/login");
    c.close().await.unwrap();
}
