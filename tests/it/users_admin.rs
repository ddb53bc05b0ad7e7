use reqwest::StatusCode;

use crate::both_engines;
use crate::helpers::*;

both_engines!(
    admin_creates_users_with_clear_field_errors,
    admin_creates_a_customer_user_with_a_new_customer,
    generated_password_is_shown_once,
    user_list_searches_filters_and_serves_htmx_fragments,
    the_last_admin_cannot_be_demoted_or_disabled,
);

async fn admin_creates_users_with_clear_field_errors(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let admin = app.admin().await;
    let users_before = app.count("SELECT COUNT(*) FROM users").await;

    let res = admin
        .post_form(
            "/admin/users",
            &[
                ("email", "not-an-email"),
                ("role", "operator"),
                ("password", "short"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = res.text().await.unwrap();
    assert!(body.contains("Enter a valid e-mail address"), "{body}");
    assert!(body.contains("Use at least 12 characters"));
    assert!(
        body.contains("value=\"not-an-email\""),
        "typed values are kept"
    );
    assert!(body.contains("aria-invalid=\"true\""));

    let res = admin
        .post_form(
            "/admin/users",
            &[
                ("email", "c@example.com"),
                ("role", "customer"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Choose the customer this user belongs to")
    );

    let res = admin
        .post_form(
            "/admin/users",
            &[
                ("email", "Op@Example.com"),
                ("role", "operator"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = admin
        .post_form(
            "/admin/users",
            &[
                ("email", "op@example.com"),
                ("role", "viewer"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("A user with this e-mail exists already.")
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM users").await,
        users_before + 1,
        "nothing half-saved"
    );
}

async fn admin_creates_a_customer_user_with_a_new_customer(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let admin = app.admin().await;
    // A bad customer e-mail refuses the whole thing: no customer without its user.
    let res = admin
        .post_form(
            "/admin/users",
            &[
                ("email", "amy@clinic.example"),
                ("role", "customer"),
                ("customer_id", "new"),
                ("customer_name", "Clinic"),
                ("customer_email", "nope"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.count("SELECT COUNT(*) FROM customers").await, 0);

    let res = admin
        .post_form(
            "/admin/users",
            &[
                ("email", "amy@clinic.example"),
                ("role", "customer"),
                ("customer_id", "new"),
                ("customer_name", "Sunrise Clinic"),
                ("customer_email", "desk@clinic.example"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, page) = admin.page(&location(&res)).await;
    assert!(page.contains("Sunrise Clinic (CUS-"), "{page}");
    // A second user of the same customer picks it from the list.
    let (_, form) = admin.page("/admin/users/new").await;
    assert!(form.contains(">Sunrise Clinic</option>"));
    let cid = {
        let start = form.find("<option value=\"CUS-").unwrap() + "<option value=\"".len();
        form[start..start + form[start..].find('"').unwrap()].to_string()
    };
    let res = admin
        .post_form(
            "/admin/users",
            &[
                ("email", "bob@clinic.example"),
                ("role", "customer"),
                ("customer_id", &cid),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.count("SELECT COUNT(*) FROM customers").await, 1);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM users WHERE role = 'customer'")
            .await,
        2
    );
}

async fn generated_password_is_shown_once(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let admin = app.admin().await;
    let res = admin
        .post_form(
            "/admin/users",
            &[
                ("email", "gen@example.com"),
                ("role", "viewer"),
                ("password", ""),
                ("must_change_password", "true"),
            ],
        )
        .await;
    // A redirect to the new user's page (a reload cannot create them twice) ...
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let target = location(&res);
    let id = app
        .count("SELECT id FROM users WHERE email = 'gen@example.com'")
        .await;
    assert_eq!(target, format!("/admin/users/{id}"));
    assert!(!target.contains('?'), "nothing secret in the URL");
    let stored = session_states(&app).await;
    // ... which shows the one-time password once.
    let (status, page) = admin.page(&target).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Created gen@example.com."), "flash: {page}");
    let marker = "id=\"one-time-password-value\">";
    let start = page.find(marker).expect("password shown") + marker.len();
    let password = page[start..start + page[start..].find('<').unwrap()].to_string();
    assert_eq!(password.len(), 20, "{password}");
    let (_, again) = admin.page(&target).await;
    assert!(!again.contains(&password), "shown only once");
    assert!(!again.contains("one-time-password-value"));
    // On its way it crossed the session store sealed: never as plain text.
    assert!(stored.contains("one_time_secret"), "{stored}");
    assert!(
        !stored.contains(&password),
        "the session store never sees it"
    );
    assert!(!session_states(&app).await.contains("one_time_secret"));
    let c = app.client();
    let res = c.login("gen@example.com", &password).await;
    assert_eq!(location(&res), "/account/password", "must change it first");
}

async fn user_list_searches_filters_and_serves_htmx_fragments(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let admin = app.admin().await;
    for (email, role) in [
        ("ann@alpha.example", "operator"),
        ("ben@beta.example", "viewer"),
        ("cat@alpha.example", "viewer"),
    ] {
        admin
            .post_form(
                "/admin/users",
                &[("email", email), ("role", role), ("password", PASSWORD)],
            )
            .await;
    }
    let (_, all) = admin.page("/admin/users").await;
    for e in [
        "ann@alpha.example",
        "ben@beta.example",
        "cat@alpha.example",
        ADMIN_EMAIL,
    ] {
        assert!(all.contains(e));
    }
    let (_, alpha) = admin.page("/admin/users?q=ALPHA").await;
    assert!(
        alpha.contains("ann@alpha.example")
            && alpha.contains("cat@alpha.example")
            && !alpha.contains("ben@beta.example")
    );
    let (_, viewers) = admin.page("/admin/users?q=alpha&role=viewer").await;
    assert!(viewers.contains("cat@alpha.example") && !viewers.contains("ann@alpha.example"));
    let (_, none) = admin.page("/admin/users?q=zzz").await;
    assert!(none.contains("No user matches these filters."));
    let (_, wild) = admin.page("/admin/users?q=%25").await;
    assert!(
        wild.contains("No user matches these filters."),
        "% is searched literally"
    );

    // htmx asks for the results only; boosted navigation gets the whole page.
    let frag = admin
        .http
        .get(admin.url("/admin/users?q=beta"))
        .header("HX-Request", "true")
        .send()
        .await
        .unwrap();
    assert_eq!(frag.headers()["vary"], "HX-Request");
    let frag = frag.text().await.unwrap();
    assert!(
        frag.trim_start().starts_with("<div id=\"user-results\">"),
        "{frag}"
    );
    assert!(frag.contains("ben@beta.example") && !frag.contains("<html"));
    let boosted = admin
        .http
        .get(admin.url("/admin/users?q=beta"))
        .header("HX-Request", "true")
        .header("HX-Boosted", "true")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(boosted.contains("<html"));
}

async fn the_last_admin_cannot_be_demoted_or_disabled(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let admin = app.admin().await;
    let id = app
        .count("SELECT id FROM users WHERE email = 'admin@example.com'")
        .await;
    let res = admin
        .post_form(&format!("/admin/users/{id}/role"), &[("role", "viewer")])
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(res.text().await.unwrap().contains("last active admin"));
    let res = admin
        .post_form(&format!("/admin/users/{id}/disable"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let body = res.text().await.unwrap();
    assert!(body.contains("cannot disable your own account"));
    assert!(
        body.contains("Conflict") && body.contains("Reference:"),
        "a 409 page with its reference"
    );
    let res = admin
        .post_form(
            &format!("/admin/users/{id}/password"),
            &[("password", "a-new-password-123")],
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::CONFLICT,
        "own password only through the account page"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM users WHERE role = 'admin' AND NOT disabled")
            .await,
        1
    );
}

/// Every session's stored state, as one text.
async fn session_states(app: &TestApp) -> String {
    let sql = "SELECT CAST(state AS TEXT) FROM sessions";
    let rows: Vec<String> = match &app.db {
        agentdesk::db::Db::Postgres(p, ..) => sqlx::query_scalar(sql).fetch_all(p).await.unwrap(),
        agentdesk::db::Db::Sqlite(p) => sqlx::query_scalar(sql).fetch_all(p).await.unwrap(),
    };
    rows.join("\n")
}
