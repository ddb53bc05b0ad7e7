//! Staff customer management at /admin/customers: what operators, viewers and customers' users
//! notice.

use agentdesk::db::Db;
use reqwest::StatusCode;

use crate::both_engines;
use crate::helpers::*;

both_engines!(
    operator_creates_and_edits_a_customer_and_the_history_shows_before_and_after,
    refused_input_gets_field_errors_and_nothing_is_saved,
    search_finds_name_email_or_gstin_fragments_and_pages_newest_first,
    csv_exports_the_filtered_list_with_formulas_neutralised,
    viewers_read_but_cannot_change,
    customer_users_are_refused_and_unknown_customers_are_not_found,
    the_customer_page_lists_its_users,
);

/// One text value of a query built at run time.
async fn text_of(app: &TestApp, sql: &str) -> String {
    let sql = sqlx::AssertSqlSafe(sql.to_string());
    match &app.db {
        Db::Postgres(p, ..) => sqlx::query_scalar(sql).fetch_one(p).await.unwrap(),
        Db::Sqlite(p) => sqlx::query_scalar(sql).fetch_one(p).await.unwrap(),
    }
}

/// Creates a customer through the form; returns its id.
async fn create(client: &Client, fields: &[(&str, &str)]) -> String {
    let res = client.post_form("/admin/customers", fields).await;
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "{}",
        res.text().await.unwrap_or_default()
    );
    location(&res)
        .strip_prefix("/admin/customers/")
        .expect("to the customer's page")
        .to_string()
}

const GSTIN: &str = "27AAPFU0939F1ZV";

async fn operator_creates_and_edits_a_customer_and_the_history_shows_before_and_after(
    engine: Engine,
) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let (operator, _) = app.user_with_role("operator").await;
    let (_, nav) = operator.page("/admin").await;
    assert!(
        nav.contains("href=\"/admin/customers\""),
        "in the navigation"
    );
    let (status, form) = operator.page("/admin/customers/new").await;
    assert_eq!(status, StatusCode::OK);
    assert!(form.contains("name=\"billing_address\"") && form.contains("name=\"gstin\""));

    let id = create(
        &operator,
        &[
            ("name", "  Sunrise Clinic "),
            ("email", "Desk@Sunrise.Example"),
            ("billing_address", "12 MG Road\r\nPune 411001\r\n"),
            ("gstin", " 27aapfu0939f1zv "),
        ],
    )
    .await;
    assert!(id.starts_with("CUS-"), "{id}");
    let (status, page) = operator.page(&format!("/admin/customers/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Created Sunrise Clinic."), "flash: {page}");
    assert!(page.contains("<h1>Sunrise Clinic</h1>"));
    assert!(page.replace("<wbr>", "").contains("desk@sunrise.example"));
    assert!(
        page.contains(GSTIN) && page.contains("Maharashtra"),
        "{page}"
    );
    assert!(page.contains("12 MG Road\nPune 411001"), "lines kept");
    assert!(page.contains("created"), "the history has the creation");

    // The edit form starts from what is stored and shows the GSTIN's state.
    let edit = format!("/admin/customers/{id}/edit");
    let (status, form) = operator.page(&edit).await;
    assert_eq!(status, StatusCode::OK);
    assert!(form.contains("value=\"Sunrise Clinic\""));
    assert!(form.contains("Registered in Maharashtra."));
    assert!(
        form.contains(">\n12 MG Road\nPune 411001</textarea>"),
        "{form}"
    );

    let res = operator
        .post_form(
            &edit,
            &[
                ("name", "Sunrise Hospitals"),
                ("email", "desk@sunrise.example"),
                ("billing_address", "12 MG Road\r\nPune 411001"),
                ("gstin", "29AAPFU0939F1ZV"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), format!("/admin/customers/{id}"));
    let (_, page) = operator.page(&location(&res)).await;
    assert!(page.contains("Saved the details of Sunrise Hospitals."));
    assert!(page.contains("Karnataka"));
    // The history names who changed what, before and after.
    assert!(page.contains("updated"), "{page}");
    assert!(page.contains("<del>Sunrise Clinic</del>"), "{page}");
    assert!(page.contains("<ins>Sunrise Hospitals</ins>"));
    assert!(
        page.contains("<del>27AAPFU0939F1ZV</del>") && page.contains("<ins>29AAPFU0939F1ZV</ins>")
    );
    assert!(page.contains("(operator)"), "who: {page}");
    let entries = |action: &'static str| {
        app.count(match action {
            "created" => "SELECT COUNT(*) FROM audit_log WHERE action = 'customer.created'",
            _ => {
                "SELECT COUNT(*) FROM audit_log WHERE action = 'customer.updated' \
                 AND before IS NOT NULL AND after IS NOT NULL"
            }
        })
    };
    assert_eq!(entries("created").await, 1);
    assert_eq!(entries("updated").await, 1);

    // Saving what is stored changes nothing and records nothing.
    let res = operator
        .post_form(
            &edit,
            &[
                ("name", "Sunrise Hospitals"),
                ("email", "desk@sunrise.example"),
                ("billing_address", "12 MG Road\nPune 411001  "),
                ("gstin", "29aapfu0939f1zv"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, page) = operator.page(&location(&res)).await;
    assert!(page.contains("Nothing changed."));
    assert_eq!(entries("updated").await, 1);
    assert_eq!(entries("created").await, 1);

    // The list shows it with the GSTIN's state.
    let (_, list) = operator.page("/admin/customers").await;
    assert!(list.contains(&format!(
        "href=\"/admin/customers/{id}\">Sunrise Hospitals</a>"
    )));
    assert!(list.contains("29AAPFU0939F1ZV") && list.contains("Karnataka"));
}

async fn refused_input_gets_field_errors_and_nothing_is_saved(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let admin = app.admin().await;
    let customers = || app.count("SELECT COUNT(*) FROM customers");
    let audit = || app.count("SELECT COUNT(*) FROM audit_log WHERE entity_type = 'customer'");

    // Every field's problem at once, next to its field, with what was typed kept.
    let res = admin
        .post_form(
            "/admin/customers",
            &[
                ("name", ""),
                ("email", "not-an-email"),
                ("billing_address", "Line one\r\nLine two"),
                ("gstin", "27AAPFU0939F1Z"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = res.text().await.unwrap();
    assert!(body.contains("Please fix these 3 problems"), "{body}");
    assert!(body.contains("Enter the customer"), "{body}");
    assert!(body.contains("Enter a valid e-mail address"));
    assert!(body.contains("exactly 15 characters; this one has 14"));
    assert!(
        body.contains("href=\"#field-gstin\""),
        "the summary links to the field"
    );
    assert!(body.contains("value=\"not-an-email\"") && body.contains("value=\"27AAPFU0939F1Z\""));
    assert!(
        body.contains("Line one\r\nLine two</textarea>")
            || body.contains("Line one\nLine two</textarea>")
    );
    assert!(body.contains("aria-invalid=\"true\""));

    for (gstin, says) in [
        ("00AAPFU0939F1ZV", "00 is not a GST state code"),
        (
            "AAAPFU0939F1ZVX",
            "starts with the two digits of its state code",
        ),
        ("27AAPFU-939F1ZV", "only digits and letters"),
    ] {
        let res = admin
            .post_form(
                "/admin/customers",
                &[
                    ("name", "Acme"),
                    ("email", "a@acme.example"),
                    ("gstin", gstin),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{gstin}");
        let body = res.text().await.unwrap();
        assert!(body.contains(says), "{gstin}: {body}");
        assert!(body.contains("value=\"Acme\""), "typed values kept");
    }

    // NUL and bidirectional controls: a field error (not an error page), the rest kept, the
    // invisible character taken out of what is shown again.
    for (field, value) in [
        ("name", "Evil\u{0} Corp"),
        ("name", "Evil\u{202e}proC"),
        ("billing_address", "Street 1\r\nCity\u{2066}"),
        ("email", "x\u{202e}@evil.example"),
        ("gstin", "27AAPFU0939F1ZV\u{0}"),
    ] {
        let mut fields = vec![
            ("name", "Evil Corp"),
            ("email", "ops@evil.example"),
            ("billing_address", ""),
            ("gstin", ""),
        ];
        fields.retain(|(k, _)| *k != field);
        fields.push((field, value));
        let res = admin.post_form("/admin/customers", &fields).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{field}");
        let body = res.text().await.unwrap();
        assert!(
            body.contains("<form method=\"post\" action=\"/admin/customers\""),
            "the form again: {body}"
        );
        assert!(
            body.contains("which is not accepted. It has been taken out below"),
            "{field}: {body}"
        );
        assert!(
            body.contains(&format!("id=\"error-{field}\""))
                || body.contains("id=\"field-gstin-error\">This value"),
            "{field} next to its field: {body}"
        );
        assert!(
            !body.contains('\u{0}') && !body.contains('\u{202e}') && !body.contains('\u{2066}')
        );
        assert!(body.contains("value=\"ops@evil.example\"") || field == "email");
    }
    assert_eq!(customers().await, 0, "nothing saved");
    assert_eq!(audit().await, 0, "nothing recorded");

    // Editing: the same refusals, and the stored customer stays as it was.
    let id = create(&admin, &[("name", "Calm Co"), ("email", "calm@co.example")]).await;
    let edit = format!("/admin/customers/{id}/edit");
    let long = "x".repeat(201);
    for fields in [
        [
            ("name", "Calm\u{0}Co"),
            ("email", "calm@co.example"),
            ("gstin", ""),
        ],
        [
            ("name", "Calm Co 2"),
            ("email", "calm@co.example"),
            ("gstin", "99XX"),
        ],
        [
            ("name", long.as_str()),
            ("email", "calm@co.example"),
            ("gstin", ""),
        ],
    ] {
        let res = admin.post_form(&edit, &fields).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body = res.text().await.unwrap();
        assert!(body.contains("<h1>Edit Calm Co</h1>"), "{body}");
    }
    let address = "x".repeat(1001);
    let res = admin
        .post_form(
            &edit,
            &[
                ("name", "Calm Co"),
                ("email", "calm@co.example"),
                ("billing_address", &address),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("this address has 1001"));
    assert_eq!(
        text_of(
            &app,
            &format!("SELECT name FROM customers WHERE id = '{id}'")
        )
        .await,
        "Calm Co"
    );
    assert_eq!(audit().await, 1, "only the creation");

    // Elsewhere the door still refuses such characters before anything runs.
    let res = admin
        .post_form("/account/tokens", &[("name", "n\u{0}ul")])
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Please check your input")
    );
}

async fn add_customers(app: &TestApp, n: usize) {
    // All created at the same instant: the page order then rests on the id alone.
    let sql = match (&app.db, n) {
        (Db::Postgres(..), 60) => {
            "INSERT INTO customers (id, name, email, gstin, created_at, updated_at) \
             SELECT 'CUS-bulk-' || lpad(g::text, 3, '0'), 'Bulk Buyer ' || g, 'buyer' || g || '@bulk.example', NULL, \
                    (SELECT MIN(created_at) FROM users), (SELECT MIN(created_at) FROM users) \
             FROM generate_series(1, 60) g"
        }
        (Db::Sqlite(_), 60) => {
            "WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 60) \
             INSERT INTO customers (id, name, email, gstin, created_at, updated_at) \
             SELECT 'CUS-bulk-' || printf('%03d', n), 'Bulk Buyer ' || n, 'buyer' || n || '@bulk.example', NULL, \
                    (SELECT MIN(created_at) FROM users), (SELECT MIN(created_at) FROM users) FROM g"
        }
        _ => unreachable!(),
    };
    assert_eq!(app.exec(sql).await.unwrap(), n as u64);
}

/// The customer ids a list page links to, in order.
fn linked_ids(page: &str) -> Vec<String> {
    page.split("href=\"/admin/customers/CUS-")
        .skip(1)
        .map(|rest| format!("CUS-{}", &rest[..rest.find('"').unwrap()]))
        .collect()
}

fn next_link(page: &str) -> Option<String> {
    let end = page.find("\">Older customers")?;
    let start = page[..end].rfind("href=\"")? + "href=\"".len();
    Some(page[start..end].replace("&#38;", "&").replace("&amp;", "&"))
}

async fn search_finds_name_email_or_gstin_fragments_and_pages_newest_first(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let admin = app.admin().await;
    add_customers(&app, 60).await;
    app.clock.advance(chrono::Duration::seconds(5));
    let sunrise = create(
        &admin,
        &[
            ("name", "Sunrise Clinic"),
            ("email", "desk@sunrise.example"),
            ("gstin", GSTIN),
        ],
    )
    .await;
    app.clock.advance(chrono::Duration::seconds(5));
    let moon = create(
        &admin,
        &[
            ("name", "Moonlight Labs"),
            ("email", "hello@moon.example"),
            ("gstin", "07AAACM1234A1Z5"),
        ],
    )
    .await;

    // Name, e-mail and GSTIN fragments, in any case.
    for (q, found, not) in [
        ("UNRIS", &sunrise, &moon),
        ("light l", &moon, &sunrise),
        ("desk@sun", &sunrise, &moon),
        ("moon.EXAMPLE", &moon, &sunrise),
        ("aapfu0939", &sunrise, &moon),
        ("ACM1234", &moon, &sunrise),
        // One or two characters: the start of a name, e-mail or GSTIN.
        ("su", &sunrise, &moon),
        ("07", &moon, &sunrise),
    ] {
        let (status, page) = admin
            .page(&format!("/admin/customers?q={}", q.replace(' ', "+")))
            .await;
        assert_eq!(status, StatusCode::OK);
        let ids = linked_ids(&page);
        assert!(ids.contains(found), "{q}: {ids:?}");
        assert!(!ids.contains(not), "{q}: {ids:?}");
        assert!(
            !ids.iter().any(|i| i.starts_with("CUS-bulk")),
            "{q}: only matches"
        );
    }
    let (_, none) = admin.page("/admin/customers?q=zzzz").await;
    assert!(none.contains("No customer matches “zzzz”."), "{none}");
    let (_, wild) = admin.page("/admin/customers?q=%25%25%25").await;
    assert!(
        wild.contains("No customer matches"),
        "% is searched literally"
    );
    let (_, wild) = admin.page("/admin/customers?q=b_lk").await;
    assert!(
        wild.contains("No customer matches"),
        "_ is searched literally"
    );

    // Newest first, 50 a page, every customer exactly once over the pages.
    let (_, first) = admin.page("/admin/customers").await;
    let mut seen = linked_ids(&first);
    assert_eq!(seen.len(), 50);
    assert_eq!(&seen[..2], [moon.clone(), sunrise.clone()]);
    let next = next_link(&first).expect("a link to the next page");
    let (status, second) = admin.page(&next).await;
    assert_eq!(status, StatusCode::OK);
    let more = linked_ids(&second);
    assert_eq!(more.len(), 12, "{next}");
    assert!(next_link(&second).is_none(), "the last page");
    seen.extend(more);
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 62, "none twice, none left out");

    // Paging keeps the search.
    let (_, bulk) = admin.page("/admin/customers?q=bulk").await;
    assert_eq!(linked_ids(&bulk).len(), 50);
    let next = next_link(&bulk).unwrap();
    assert!(next.contains("q=bulk"), "{next}");
    let (_, rest) = admin.page(&next).await;
    assert_eq!(linked_ids(&rest).len(), 10, "{next}");
    let (status, _) = admin.page("/admin/customers?before=garbage").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // htmx asks for the results only.
    let frag = admin
        .http
        .get(admin.url("/admin/customers?q=moon"))
        .header("HX-Request", "true")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        frag.trim_start()
            .starts_with("<div id=\"customer-results\">"),
        "{frag}"
    );
    assert!(frag.contains("Moonlight Labs") && !frag.contains("<html"));
    assert!(
        frag.contains("href=\"/admin/customers.csv?q=moon\""),
        "the export follows the search"
    );
}

async fn csv_exports_the_filtered_list_with_formulas_neutralised(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let admin = app.admin().await;
    add_customers(&app, 60).await;
    for (name, email) in [
        (
            "=HYPERLINK(\"http://evil.example\",\"Click\")",
            "eq@formula.example",
        ),
        ("+91 Traders", "plus@formula.example"),
        ("-Minus Ltd", "minus@formula.example"),
        ("@Home, \"Quoted\" Inc", "at@formula.example"),
    ] {
        create(
            &admin,
            &[
                ("name", name),
                ("email", email),
                ("billing_address", "Line 1\r\n=SUM(A1:A9)"),
                ("gstin", GSTIN),
            ],
        )
        .await;
    }

    let res = admin.get("/admin/customers.csv?q=formula").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
    let disposition = res.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        disposition.starts_with("attachment; filename=\"customers-")
            && disposition.ends_with(".csv\""),
        "{disposition}"
    );
    let body = res.text().await.unwrap();
    assert!(
        body.starts_with(
            "\u{feff}ID,Name,E-mail,GSTIN,GST state,Billing address,Created (UTC)\r\n"
        ),
        "{body}"
    );
    assert!(
        body.contains(
            ",\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"Click\"\")\",eq@formula.example,"
        ),
        "{body}"
    );
    assert!(body.contains(",'+91 Traders,"));
    assert!(body.contains(",'-Minus Ltd,"));
    assert!(body.contains(",\"'@Home, \"\"Quoted\"\" Inc\","));
    assert!(
        body.contains(&format!(",{GSTIN},Maharashtra,\"Line 1\n=SUM(A1:A9)\",")),
        "only a cell's start counts: {body}"
    );
    assert!(!body.contains("Bulk Buyer"), "only the matches");
    // Records: the header and four customers (the address's line break is inside quotes).
    assert_eq!(body.matches("\r\n").count(), 5, "{body}");

    // Without a search: every customer, not just the first page.
    let (_, all) = admin.page("/admin/customers.csv").await;
    assert_eq!(all.matches("Bulk Buyer ").count(), 60);
    assert_eq!(all.matches("@formula.example").count(), 4);
}

async fn viewers_read_but_cannot_change(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let admin = app.admin().await;
    let id = create(
        &admin,
        &[("name", "Read Only Co"), ("email", "ro@co.example")],
    )
    .await;
    let (viewer, _) = app.user_with_role("viewer").await;

    let (status, list) = viewer.page("/admin/customers").await;
    assert_eq!(status, StatusCode::OK);
    assert!(list.contains("Read Only Co"));
    assert!(
        !list.contains("href=\"/admin/customers/new\""),
        "no create button"
    );
    let (status, page) = viewer.page(&format!("/admin/customers/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.replace("<wbr>", "").contains("ro@co.example"));
    assert!(!page.contains("/edit\""), "no edit button");
    let (status, csv) = viewer.page("/admin/customers.csv").await;
    assert_eq!(status, StatusCode::OK);
    assert!(csv.contains("Read Only Co"));

    for path in [
        "/admin/customers/new".to_string(),
        format!("/admin/customers/{id}/edit"),
    ] {
        let (status, body) = viewer.page(&path).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        assert!(body.contains("Viewers can look at everything but change nothing."));
    }
    let fields = [("name", "Changed"), ("email", "ro@co.example")];
    let res = viewer.post_form("/admin/customers", &fields).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = viewer
        .post_form(&format!("/admin/customers/{id}/edit"), &fields)
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM customers WHERE name = 'Changed'")
            .await,
        0
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM customers WHERE name = 'Read Only Co'")
            .await,
        1
    );
}

async fn customer_users_are_refused_and_unknown_customers_are_not_found(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let (customer, _) = app.user_with_role("customer").await;
    let own = text_of(&app, "SELECT id FROM customers LIMIT 1").await;
    for path in [
        "/admin/customers".to_string(),
        "/admin/customers.csv".to_string(),
        "/admin/customers/new".to_string(),
        format!("/admin/customers/{own}"),
        format!("/admin/customers/{own}/edit"),
    ] {
        let (status, body) = customer.page(&path).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        assert!(body.contains("This area is for agentdesk staff."), "{path}");
    }
    let res = customer
        .post_form(
            &format!("/admin/customers/{own}/edit"),
            &[("name", "Mine now"), ("email", "x@y.example")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let (_, portal) = customer.page("/portal").await;
    assert!(!portal.contains("/admin/customers"), "no staff link");

    let (operator, _) = app.user_with_role("operator").await;
    for path in [
        "/admin/customers/CUS-nope",
        "/admin/customers/CUS-nope/edit",
    ] {
        let (status, _) = operator.page(path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    for fields in [
        [("name", "Ghost"), ("email", "g@ghost.example")],
        [("name", ""), ("email", "bad")],
    ] {
        let res = operator
            .post_form("/admin/customers/CUS-nope/edit", &fields)
            .await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM customers").await, 1);
}

async fn the_customer_page_lists_its_users(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let admin = app.admin().await;
    let (_, email) = app.user_with_role("customer").await;
    let id = text_of(&app, "SELECT id FROM customers LIMIT 1").await;
    let user_id = app
        .count("SELECT id FROM users WHERE role = 'customer'")
        .await;
    let (status, page) = admin.page(&format!("/admin/customers/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.replace("<wbr>", "")
            .contains(&format!("<a href=\"/admin/users/{user_id}\">{email}</a>")),
        "{page}"
    );
    // Operators see the users but have no users page to go to.
    let (operator, _) = app.user_with_role("operator").await;
    let (_, page) = operator.page(&format!("/admin/customers/{id}")).await;
    assert!(page.replace("<wbr>", "").contains(&email));
    assert!(!page.contains("href=\"/admin/users/"));
    // A customer without users says so.
    let lonely = create(
        &operator,
        &[("name", "Lonely"), ("email", "l@lonely.example")],
    )
    .await;
    let (_, page) = operator.page(&format!("/admin/customers/{lonely}")).await;
    assert!(page.contains("This customer has no users yet."));
    assert!(page.contains("GSTIN") && page.contains("none (not registered for GST)"));
}
