use reqwest::StatusCode;

use crate::both_engines;
use crate::helpers::*;

both_engines!(
    login_succeeds_and_lands_on_the_role_home,
    wrong_password_and_unknown_email_are_refused_alike,
    repeated_failures_are_throttled_with_retry_after,
    next_is_honoured_only_for_local_paths,
    bootstrap_admin_must_change_the_one_time_password,
    password_form_explains_its_rules,
);

async fn login_succeeds_and_lands_on_the_role_home(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let c = app.client();
    let res = c.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/admin");
    let (status, body) = c.page("/admin").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.contains("Dashboard") && body.contains(ADMIN_EMAIL),
        "{body}"
    );
    assert!(body.contains("Signed in."), "flash shown once");
    let (_, again) = c.page("/admin").await;
    assert!(!again.contains("Signed in."), "flash not repeated");

    let (customer, _) = app.user_with_role("customer").await;
    let (status, body) = customer.page("/").await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let res = customer.get("/").await;
    assert_eq!(location(&res), "/portal");
    let (status, body) = customer.page("/portal").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("Acme Clinic"));
}

async fn wrong_password_and_unknown_email_are_refused_alike(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let c = app.client();
    let wrong = c.login(ADMIN_EMAIL, "not-the-password-at-all").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let wrong_body = wrong.text().await.unwrap();
    let unknown = c
        .login("nobody@example.com", "not-the-password-at-all")
        .await;
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    let unknown_body = unknown.text().await.unwrap();
    assert!(wrong_body.contains("do not match an active account"));
    assert!(unknown_body.contains("do not match an active account"));
    // The e-mail typed is kept, the password is not.
    assert!(wrong_body.contains(&format!("value=\"{ADMIN_EMAIL}\"")));
    assert!(!wrong_body.contains("not-the-password-at-all"));
    // Still signed out.
    let res = c.get("/admin").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}

async fn repeated_failures_are_throttled_with_retry_after(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let c = app.client();
    for _ in 0..5 {
        assert_eq!(
            c.login(ADMIN_EMAIL, "wrong-password-here").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    // Now even the right password is refused until the window passes.
    let res = c.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = res
        .headers()
        .get("retry-after")
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry > 0 && retry <= 15 * 60, "{retry}");
    let body = res.text().await.unwrap();
    assert!(
        body.contains("Too many failed sign-in attempts. Try again after"),
        "{body}"
    );
    // Other e-mails from the same client are not locked out by this one.
    let other = app.client();
    assert_eq!(
        other
            .login("someone@example.com", "wrong-password-here")
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    // After the window the right password works again.
    app.clock.advance(chrono::Duration::minutes(16));
    assert_eq!(
        c.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'login_throttled'")
            .await,
        1
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'login_failed'")
            .await,
        6
    );
}

async fn next_is_honoured_only_for_local_paths(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let c = app.client();
    let res = c.get("/admin/users?q=x").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/login?next=%2Fadmin%2Fusers%3Fq%3Dx");

    for (next, expected) in [
        ("/admin/users?q=x", "/admin/users?q=x"),
        ("//evil.example/x", "/admin"),
        ("https://evil.example/", "/admin"),
        ("/\\evil.example", "/admin"),
    ] {
        let c = app.client();
        let (_, body) = c.page("/login").await;
        let token = extract_csrf(&body).unwrap();
        let res = c
            .post_raw(
                "/login",
                &[
                    ("email", ADMIN_EMAIL),
                    ("password", ADMIN_PASSWORD),
                    ("next", next),
                    ("_csrf", &token),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&res), expected, "next={next}");
    }
}

async fn bootstrap_admin_must_change_the_one_time_password(engine: Engine) {
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
    let (email, one_time) = app.generated_admin.clone().expect("a generated admin");
    assert_eq!(email, "admin@agentdesk.local");
    let c = app.client();
    let res = c.login(&email, &one_time).await;
    assert_eq!(location(&res), "/account/password");
    // Every other page sends them back to choose a password.
    let res = c.get("/admin").await;
    assert_eq!(location(&res), "/account/password");
    let (status, body) = c.page("/account/password").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("Choose a new password"));

    let res = c
        .post_form(
            "/account/password",
            &[
                ("current_password", &one_time),
                ("new_password", PASSWORD),
                ("confirm_password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/admin");
    assert_eq!(c.get("/admin").await.status(), StatusCode::OK);
    // The one-time password no longer works; the new one does.
    assert_eq!(
        app.client().login(&email, &one_time).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.client().login(&email, PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
}

async fn password_form_explains_its_rules(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let c = app.admin().await;
    let (_, body) = c.page("/account/password").await;
    assert!(body.contains("At least 12 characters"));
    let res = c
        .post_form(
            "/account/password",
            &[
                ("current_password", "wrong"),
                ("new_password", "short"),
                ("confirm_password", "short"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = res.text().await.unwrap();
    assert!(
        body.contains("That is not your current password."),
        "{body}"
    );
    assert!(body.contains("Use at least 12 characters (this one has 5)."));
    assert!(
        body.contains("href=\"#field-new_password\""),
        "error summary links to the field"
    );
    let res = c
        .post_form(
            "/account/password",
            &[
                ("current_password", ADMIN_PASSWORD),
                ("new_password", PASSWORD),
                ("confirm_password", "different-password"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("The two new passwords differ.")
    );
    // Nothing changed.
    assert_eq!(
        app.client()
            .login(ADMIN_EMAIL, ADMIN_PASSWORD)
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
}
