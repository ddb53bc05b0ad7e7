use reqwest::StatusCode;

use crate::both_engines;
use crate::helpers::*;

both_engines!(
    signing_out_everywhere_ends_every_session,
    csrf_missing_or_wrong_is_forbidden,
    cross_site_origin_is_refused,
    htmx_header_token_is_accepted,
    logout_ends_the_session_for_an_old_cookie,
    disabling_a_user_ends_their_sessions_at_once,
    password_change_ends_other_sessions,
    sessions_expire_when_idle_and_at_their_absolute_limit,
    session_key_changes_at_sign_in,
    sessions_are_shared_by_instances_on_one_database,
    flash_messages_ride_a_sealed_cookie_not_the_session,
);

async fn csrf_missing_or_wrong_is_forbidden(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let c = app.admin().await;
    let missing = c.post_raw("/account/tokens", &[("name", "no token")]).await;
    assert_eq!(missing.status(), StatusCode::FORBIDDEN);
    let body = missing.text().await.unwrap();
    assert!(
        body.contains("Not allowed") && body.contains("Reload the page"),
        "{body}"
    );
    let wrong = c
        .post_raw(
            "/account/tokens",
            &[("name", "bad token"), ("_csrf", "forged-token-value")],
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
    // The login form is protected too.
    let anon = app.client();
    let res = anon
        .post_raw(
            "/login",
            &[("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM api_tokens").await,
        0,
        "nothing was created"
    );
    // With the right token it works.
    assert_eq!(
        c.post_form("/account/tokens", &[("name", "good")])
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
}

async fn cross_site_origin_is_refused(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let c = app.admin().await;
    let token = c.csrf().await;
    let res = c
        .http
        .post(c.url("/account/tokens"))
        .header("Origin", "https://evil.example")
        .form(&[("name", "x"), ("_csrf", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Requests from other sites are not accepted.")
    );
    // A browser's own word that the request comes from another site is believed too.
    let res = c
        .http
        .post(c.url("/account/tokens"))
        .header("Sec-Fetch-Site", "cross-site")
        .form(&[("name", "x"), ("_csrf", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // An opaque origin (sandboxed frame, file:) still needs the token.
    let res = c
        .http
        .post(c.url("/account/tokens"))
        .header("Origin", "null")
        .form(&[("name", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let same = c
        .http
        .post(c.url("/account/tokens"))
        .header("Origin", app.base.as_str())
        .form(&[("name", "x"), ("_csrf", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(same.status(), StatusCode::SEE_OTHER);
}

async fn htmx_header_token_is_accepted(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let c = app.admin().await;
    let (_, page) = c.page("/admin").await;
    // The layout hands htmx the token on <body>.
    let token = c.csrf().await;
    assert!(
        page.contains(&format!(
            "hx-headers=\"{{&#34;X-CSRF-Token&#34;:&#34;{token}&#34;}}\""
        )),
        "{page}"
    );
    let res = c
        .http
        .post(c.url("/account/tokens"))
        .header("X-CSRF-Token", token.as_str())
        .header("HX-Request", "true")
        .form(&[("name", "via htmx")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM api_tokens WHERE name = 'via htmx'")
            .await,
        1
    );
}

async fn logout_ends_the_session_for_an_old_cookie(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let c = app.admin().await;
    let cookie = c.cookie_header();
    assert_eq!(
        get_with_cookie(&app.base, "/admin", &cookie).await.status(),
        StatusCode::OK
    );
    let res = c.post_form("/logout", &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/login?signed_out=1");
    let (_, body) = c.page("/login?signed_out=1").await;
    assert!(body.contains("You have signed out."));
    // The old cookie, replayed, no longer signs anyone in.
    let replay = get_with_cookie(&app.base, "/admin", &cookie).await;
    assert_eq!(replay.status(), StatusCode::SEE_OTHER);
    assert!(location(&replay).starts_with("/login"));
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'logout'")
            .await,
        1
    );
}

async fn disabling_a_user_ends_their_sessions_at_once(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let (op, email) = app.user_with_role("operator").await;
    let cookie = op.cookie_header();
    assert_eq!(op.get("/admin").await.status(), StatusCode::OK);
    let id = app.count("SELECT MAX(id) FROM users").await;
    let admin = app.admin().await;
    let res = admin
        .post_form(&format!("/admin/users/{id}/disable"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, page) = admin.page(&format!("/admin/users/{id}")).await;
    assert!(page.contains("is disabled and was signed out"), "{page}");
    assert!(location(&get_with_cookie(&app.base, "/admin", &cookie).await).starts_with("/login"));
    // And cannot sign in again; the right password is answered exactly like a wrong one, so the
    // answer does not confirm a guessed password.
    let right = app.client().login(&email, PASSWORD).await;
    assert_eq!(right.status(), StatusCode::UNAUTHORIZED);
    let right = right.text().await.unwrap();
    let wrong = app.client().login(&email, "a-wrong-password-here").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let wrong = wrong.text().await.unwrap();
    let message = |page: &str| {
        let start = page.find("do not match").expect("the refusal is shown");
        page[start - 40..start + 60].to_string()
    };
    assert_eq!(message(&right), message(&wrong));
    assert!(!right.contains("disabled"), "{right}");
    // Enabled again, they can.
    admin
        .post_form(&format!("/admin/users/{id}/enable"), &[])
        .await;
    assert_eq!(
        app.client().login(&email, PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
}

async fn password_change_ends_other_sessions(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let (op, _) = app.user_with_role("operator").await;
    let laptop = app.admin().await;
    let phone = app.admin().await;
    let new = "a-brand-new-password-2026";
    let res = laptop
        .post_form(
            "/account/password",
            &[
                ("current_password", ADMIN_PASSWORD),
                ("new_password", new),
                ("confirm_password", new),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    // The device that changed it stays signed in; the other one is signed out.
    assert_eq!(laptop.get("/admin").await.status(), StatusCode::OK);
    assert!(location(&phone.get("/admin").await).starts_with("/login"));
    // An admin setting someone's password signs that user out too.
    let id = app.count("SELECT MAX(id) FROM users").await;
    let res = laptop
        .post_form(
            &format!("/admin/users/{id}/password"),
            &[("password", "set-by-the-admin-123")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(location(&op.get("/admin").await).starts_with("/login"));
}

async fn sessions_expire_when_idle_and_at_their_absolute_limit(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let c = app.admin().await;
    // Default idle timeout: 30 minutes. Activity keeps the session alive...
    for _ in 0..3 {
        app.clock.advance(chrono::Duration::minutes(20));
        assert_eq!(c.get("/admin").await.status(), StatusCode::OK);
    }
    // ...idleness ends it.
    app.clock.advance(chrono::Duration::minutes(31));
    assert!(location(&c.get("/admin").await).starts_with("/login"));

    // The absolute lifetime (12 h) ends even a busy session.
    let c = app.admin().await;
    for _ in 0..25 {
        app.clock.advance(chrono::Duration::minutes(29));
        if c.get("/admin").await.status() != StatusCode::OK {
            break;
        }
    }
    assert!(
        location(&c.get("/admin").await).starts_with("/login"),
        "a session cannot outlive 12 hours"
    );
}

async fn session_key_changes_at_sign_in(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let c = app.client();
    let _ = c.page("/login").await;
    // Before signing in there is no session at all, so there is none to fix.
    assert!(!c.cookie_header().contains("agentdesk_session="));
    c.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let before = c.cookie_header();
    assert!(before.contains("agentdesk_session="));
    // Signing in again on the same browser starts a new session; the old key is dead.
    let token = c.csrf().await;
    let res = c
        .post_raw(
            "/login",
            &[
                ("email", ADMIN_EMAIL),
                ("password", ADMIN_PASSWORD),
                ("_csrf", &token),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_ne!(c.cookie_header(), before);
    assert_eq!(c.page("/admin").await.0, StatusCode::OK);
    assert!(location(&get_with_cookie(&app.base, "/admin", &before).await).starts_with("/login"));
}

async fn sessions_are_shared_by_instances_on_one_database(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let c = app.admin().await;
    let rows = match app.second_db().await {
        agentdesk::db::Db::Postgres(p, ..) => {
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM sessions WHERE user_id IS NOT NULL")
                .fetch_one(&p)
                .await
                .unwrap()
        }
        agentdesk::db::Db::Sqlite(p) => {
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM sessions WHERE user_id IS NOT NULL")
                .fetch_one(&p)
                .await
                .unwrap()
        }
    };
    assert_eq!(rows, 1, "the signed-in session lives in the database");
    // Ending it in the database (as another instance would) signs the browser out here.
    app.exec("DELETE FROM sessions").await.unwrap();
    assert!(location(&c.get("/admin").await).starts_with("/login"));
}

async fn signing_out_everywhere_ends_every_session(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let laptop = app.admin().await;
    let phone = app.admin().await;
    // A plain sign-out ends only that device's session.
    laptop.post_form("/logout", &[]).await;
    assert_eq!(phone.get("/admin").await.status(), StatusCode::OK);
    let laptop = app.admin().await;
    let (_, page) = phone.page("/account/password").await;
    assert!(page.contains("Sign out everywhere"));
    let res = phone.post_form("/logout", &[("everywhere", "1")]).await;
    assert_eq!(location(&res), "/login?signed_out=1");
    assert!(
        location(&laptop.get("/admin").await).starts_with("/login"),
        "the other device is signed out too"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM sessions WHERE user_id IS NOT NULL")
            .await,
        0
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'logout_everywhere'")
            .await,
        1
    );
}

/// The flash cookie's `Set-Cookie` line of an answer, if it has one.
fn flash_cookie(res: &reqwest::Response) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("agentdesk_flash="))
        .map(str::to_string)
}

/// A form's message ("Created …") is shown once, on the next full page, in the order the forms were sent;
/// it crosses the redirect sealed in a cookie of its own, so the session row is not written for it;
/// a cookie nobody sealed shows nothing and is removed.
async fn flash_messages_ride_a_sealed_cookie_not_the_session(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    const SESSION: &str = "SELECT CAST(state AS TEXT) || '|' || CAST(expires_at AS TEXT) \
                           FROM sessions WHERE user_id IS NOT NULL";
    let admin = app.admin().await;
    let token = admin.csrf().await;
    let session_before = app.text(SESSION).await;
    // Two forms before any page is shown (two tabs, say): both messages wait.
    for name in ["First Clinic", "<b>Second</b> Clinic"] {
        let res = admin
            .post_raw(
                "/admin/customers",
                &[
                    ("name", name),
                    ("email", "desk@clinic.example"),
                    ("billing_address", "12 MG Road, Pune 411001"),
                    ("_csrf", &token),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let cookie = flash_cookie(&res).expect("the message rides a cookie");
        assert!(cookie.contains("HttpOnly"), "{cookie}");
        assert!(!cookie.contains("Clinic"), "its text is sealed: {cookie}");
    }
    assert_eq!(
        app.text(SESSION).await,
        session_before,
        "a message writes nothing to the session"
    );
    // An htmx fragment (filtered results, say) shows no messages and leaves them waiting.
    let (_, fragment) = admin.fragment("/admin/customers?q=Clinic").await;
    assert!(!fragment.contains("Created First Clinic."));
    let res = admin.get("/admin/customers").await;
    assert!(
        flash_cookie(&res).is_some_and(|c| c.contains("Max-Age=0")),
        "the page that shows the messages removes them"
    );
    let page = res.text().await.unwrap();
    let first = page.find("Created First Clinic.").expect("first message");
    let second = page
        .find("Created &#60;b&#62;Second&#60;/b&#62; Clinic.")
        .expect("second message, escaped");
    assert!(first < second, "in the order the forms were sent");
    assert!(!page.contains("<b>Second</b>"));
    let (_, again) = admin.page("/admin/customers").await;
    assert!(!again.contains("Created First Clinic."), "shown once");

    // A cookie this server did not seal is ignored, and removed.
    let forged = format!(
        "{}; agentdesk_flash=W3sia2luZCI6ImVycm9yIiwidGV4dCI6ImZvcmdlZCJ9XQ",
        admin.cookie_header()
    );
    let res = get_with_cookie(&app.base, "/admin/customers", &forged).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(flash_cookie(&res).is_some_and(|c| c.contains("Max-Age=0")));
    let page = res.text().await.unwrap();
    assert!(
        !page.contains("forged") && !page.contains("class=\"flash"),
        "{page}"
    );
}
