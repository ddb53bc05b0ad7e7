//! The catalog's staff pages over HTTP: list, versions, previews (the form engine), the editor.

use reqwest::StatusCode;

use crate::both_engines;
use crate::helpers::*;

both_engines!(
    catalog_list_searches_filters_and_links_versions,
    previews_validate_like_a_customers_form,
    rows_are_added_and_removed_without_javascript,
    editor_adds_saves_switches_and_refuses_published_versions,
    new_version_form_explains_conflicts,
    only_admins_change_the_catalog,
);

const TRADING: &str = "/admin/agent-types/trading.delta_futures.v1/versions/1.0.0";

async fn catalog_list_searches_filters_and_links_versions(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let admin = app.admin().await;
    let (status, list) = admin.page("/admin/agent-types").await;
    assert_eq!(status, StatusCode::OK);
    assert!(list.contains("Healthcare marketing") && list.contains("Delta futures trader"));
    assert!(
        list.replace("<wbr>", "")
            .contains("<code>marketing.healthcare.v1</code>")
    );
    let (_, found) = admin.page("/admin/agent-types?q=TRADING").await;
    assert!(found.contains("Delta futures trader") && !found.contains("Healthcare marketing"));
    let (_, drafts) = admin.page("/admin/agent-types?status=draft").await;
    assert!(drafts.contains("No agent type matches these filters."));
    let frag = admin
        .http
        .get(admin.url("/admin/agent-types?q=health"))
        .header("HX-Request", "true")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        frag.trim_start().starts_with("<div id=\"type-results\">")
            && frag.contains("Healthcare marketing")
    );

    let (_, dash) = admin.page("/admin").await;
    assert!(dash.contains("<p class=\"stat-value\">2</p><p class=\"stat-label\"><a href=\"/admin/agent-types\">agent types</a>"), "{dash}");
    let (_, t) = admin
        .page("/admin/agent-types/trading.delta_futures.v1")
        .await;
    assert!(t.contains("new hires get version 1.0.0"));
    assert!(t.contains("/admin/agent-types/new?copy_from=trading.delta_futures.v1@1.0.0"));
    let (status, v) = admin.page(TRADING).await;
    assert_eq!(status, StatusCode::OK);
    // The fields table, including the tightenings.
    for text in [
        "exchange_credential_ref",
        "secret reference",
        "≥ 1",
        "max_notional_inr",
        "&#62; 0",
        "default_coin must be one of the values in allowed_coins",
    ] {
        assert!(v.contains(text), "version page shows {text}");
    }
    // The preview renders one widget per field type.
    assert!(
        v.contains("name=\"config.theme\" value=\"dark\""),
        "≤ 4 options: radios"
    );
    assert!(
        v.contains("type=\"password\" id=\"f-config-exchange_credential_ref\""),
        "secret input"
    );
    assert!(
        v.contains("name=\"config.allowed_coins\""),
        "repeatable rows"
    );
    assert!(v.contains("<legend>Risk limits"), "nested fieldset");
    assert!(v.contains("id=\"f-config-interval_seconds\" name=\"config.interval_seconds\" type=\"number\" step=\"1\""));
    assert!(
        v.contains("value=\"default\" checked"),
        "defaults pre-filled"
    );
    assert_eq!(
        admin.page("/admin/agent-types/nope").await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        admin
            .page("/admin/agent-types/trading.delta_futures.v1/versions/9.9.9")
            .await
            .0,
        StatusCode::NOT_FOUND
    );
}

async fn previews_validate_like_a_customers_form(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let admin = app.admin().await;
    let bad = [
        ("config.nickname", "Trader Joe"),
        ("config.theme", "dark"),
        ("config.timezone", "Asia/Kolkata"),
        ("config.exchange_provider", "delta_exchange_india"),
        ("config.exchange_credential_ref", "sk_live_raw_secret"),
        ("config.allowed_coins.__present", "1"),
        ("config.allowed_coins", "BTC"),
        ("config.allowed_coins", ""),
        ("config.default_coin", "DOGE"),
        ("config.interval_seconds", "soon"),
        ("config.risk_limits.__present", "1"),
        ("config.risk_limits.max_units_per_order", "0"),
    ];
    let res = admin
        .post_form(&format!("{TRADING}/preview?part=config"), &bad)
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = res.text().await.unwrap();
    for msg in [
        "Default coin must be one of the allowed coins.",
        "Interval (seconds) must be a whole number.",
        "Max units per order must be at least 1.",
        "raw secrets are never kept in the configuration",
        "4 problems — a customer would see these messages.",
    ] {
        assert!(page.contains(msg), "{msg}");
    }
    assert!(page.contains("value=\"soon\""), "what was typed is kept");
    assert!(
        !page.contains("sk_live_raw_secret"),
        "a secret is never echoed back"
    );

    let good = [
        ("config.nickname", "Trader Joe"),
        ("config.theme", "dark"),
        ("config.timezone", "Asia/Kolkata"),
        ("config.exchange_provider", "delta_exchange_india"),
        ("config.exchange_credential_ref", "CRED-42"),
        ("config.allowed_coins", "BTC"),
        ("config.allowed_coins", "ETH"),
        ("config.default_coin", "ETH"),
        ("config.interval_seconds", "60"),
        ("config.risk_limits.max_units_per_order", "2"),
    ];
    // A required list left empty is no answer.
    let mut empty_list: Vec<(&str, &str)> = good
        .iter()
        .filter(|(k, _)| *k != "config.allowed_coins")
        .copied()
        .collect();
    empty_list.push(("config.allowed_coins.__present", "1"));
    let res = admin
        .post_form(&format!("{TRADING}/preview?part=config"), &empty_list)
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Allowed coins needs at least 1 entry.")
    );
    let res = admin
        .post_form(&format!("{TRADING}/preview?part=config"), &good)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Valid: a customer could save this as it is.")
    );

    // A goal template's settings form.
    let part = "t0";
    let prefix = "settings-0";
    let res = admin
        .post_form(
            &format!("{TRADING}/preview?part={part}"),
            &[
                (&format!("{prefix}.coin") as &str, "BTC"),
                (&format!("{prefix}.side"), "hold"),
                (&format!("{prefix}.units"), "0"),
            ],
        )
        .await;
    let page = res.text().await.unwrap();
    assert!(page.contains("Side must be one of: buy, sell."), "{page}");
    assert!(page.contains("Units must be greater than 0."));

    // Live validation: one field's error comes back out of band; missing values are not errors yet.
    let res = admin
        .post_form(
            &format!("{TRADING}/preview/validate?part=config"),
            &[("config.interval_seconds", "0")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let oob = res.text().await.unwrap();
    assert!(oob.contains("id=\"f-config-interval_seconds-error\" role=\"status\" hx-swap-oob=\"true\">Interval (seconds) must be at least 1."), "{oob}");
    assert!(
        oob.contains(
            "id=\"f-config-nickname-error\" role=\"status\" hx-swap-oob=\"true\"></small>"
        ),
        "untouched fields stay quiet"
    );
    // Rules across fields are re-checked too.
    let res = admin
        .post_form(
            &format!("{TRADING}/preview/validate?part=config"),
            &[
                ("config.allowed_coins", "BTC"),
                ("config.default_coin", "ETH"),
            ],
        )
        .await;
    assert!(
        res.text()
            .await
            .unwrap()
            .contains(">Default coin must be one of the allowed coins.</small>")
    );
    // Repeatable rows: htmx fetches one more row.
    let row = admin
        .page("/forms/row?name=config.allowed_coins&kind=text")
        .await
        .1;
    assert!(row.contains("name=\"config.allowed_coins\" value=\"\""));
    assert_eq!(
        admin.page("/forms/row?name=%3Cscript%3E&kind=text").await.0,
        StatusCode::BAD_REQUEST
    );
}

async fn editor_adds_saves_switches_and_refuses_published_versions(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let admin = app.admin().await;
    let res = admin
        .post_form(
            "/admin/agent-types",
            &[
                ("agent_type_id", "support.helpdesk.v1"),
                ("version", "0.1.0"),
                ("display_name", "Help desk"),
                ("copy_from", ""),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let edit = "/admin/agent-types/support.helpdesk.v1/versions/0.1.0/edit";
    assert_eq!(location(&res), edit);
    let (status, page) = admin.page(edit).await;
    assert_eq!(status, StatusCode::OK);
    // Ids in headings offer break points (<wbr>) to narrow screens.
    assert!(
        page.replace("<wbr>", "")
            .contains("Edit draft support.helpdesk.v1@0.1.0")
    );

    let row = |i: usize, key: &str, label: &str, t: &str| -> Vec<(String, String)> {
        vec![
            (format!("cf[{i}].__row"), "1".into()),
            (format!("cf[{i}].key"), key.into()),
            (format!("cf[{i}].label"), label.into()),
            (format!("cf[{i}].type"), t.into()),
        ]
    };
    let send = |extra: Vec<(String, String)>| {
        let mut v = vec![
            ("display_name".to_string(), "Help desk".to_string()),
            ("approval_required".into(), "true".into()),
        ];
        v.extend(extra);
        v
    };
    let post = |fields: Vec<(String, String)>| {
        let admin = &admin;
        async move {
            let refs: Vec<(&str, &str)> = fields
                .iter()
                .map(|(a, b)| (a.as_str(), b.as_str()))
                .collect();
            admin.post_form(edit, &refs).await
        }
    };

    // Adding a field keeps what was typed and appends an empty row.
    let mut f = send(row(0, "nickname", "Agent nickname", "text"));
    f.push(("op".into(), "add_field:cf".into()));
    let page = post(f).await.text().await.unwrap();
    assert!(
        page.contains("value=\"nickname\"") && page.contains("New field 2"),
        "{page}"
    );

    // Saving an invalid draft: 422, each problem at its input, nothing saved.
    let mut f = send(row(0, "nickname", "Agent nickname", "text"));
    f.extend(row(1, "channel", "Channel", "enum"));
    f.push(("cf[1].default".into(), "email".into()));
    f.push(("op".into(), "save".into()));
    let res = post(f).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = res.text().await.unwrap();
    assert!(
        page.contains(
            "id=\"f-cf-1--options-error\" role=\"status\">An enum field needs at least one option."
        ),
        "{page}"
    );
    assert!(
        page.contains("config_schema.fields[1].options"),
        "the summary names the path"
    );

    // Live check: errors come back out of band for each input.
    let mut f = send(row(0, "nickname", "Agent nickname", "text"));
    f.extend(row(1, "channel", "Channel", "enum"));
    f.push(("cf[1].options".into(), "email\nsms".into()));
    f.push(("cf[1].default".into(), "fax".into()));
    f.push(("op".into(), "check".into()));
    let oob = post(f).await.text().await.unwrap();
    assert!(oob.contains("id=\"f-cf-1--default-error\" role=\"status\" hx-swap-oob=\"true\">The default is not valid for this field: Channel must be one of: email, sms."), "{oob}");
    assert!(oob.contains("id=\"f-cf-0--key-error\" role=\"status\" hx-swap-oob=\"true\"></small>"));

    // Switching to JSON keeps the work; editing the JSON and switching back keeps that too.
    let mut f = send(row(0, "nickname", "Agent nickname", "text"));
    f.push(("op".into(), "mode:json".into()));
    let page = post(f).await.text().await.unwrap();
    assert!(
        page.contains("name=\"raw_json\"") && page.contains("&#34;nickname&#34;"),
        "{page}"
    );
    let json = r#"{"agent_type_id": "support.helpdesk.v1", "version": "0.1.0", "display_name": "Help desk",
        "config_schema": {"fields": [{"key": "nickname", "label": "Agent nickname", "type": "text", "required": true},
                                     {"key": "tone", "label": "Tone", "type": "enum", "options": ["warm", "brief"], "default": "warm"}]}}"#;
    let res = post(vec![
        ("editor_mode".into(), "json".into()),
        ("raw_json".into(), json.into()),
        ("op".into(), "mode:structured".into()),
    ])
    .await;
    let page = res.text().await.unwrap();
    assert!(
        page.contains("value=\"tone\"") && page.contains("name=\"cf[1].options\""),
        "{page}"
    );
    // Broken JSON stays in the JSON editor, with the reason.
    let res = post(vec![
        ("editor_mode".into(), "json".into()),
        ("raw_json".into(), "{ not json".into()),
        ("op".into(), "mode:structured".into()),
    ])
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = res.text().await.unwrap();
    assert!(page.contains("This is not valid JSON") && page.contains("{ not json"));
    // Saving from the JSON editor.
    let res = post(vec![
        ("editor_mode".into(), "json".into()),
        ("raw_json".into(), json.into()),
        ("op".into(), "save".into()),
    ])
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, v) = admin
        .page("/admin/agent-types/support.helpdesk.v1/versions/0.1.0")
        .await;
    assert!(
        v.contains("Draft support.helpdesk.v1@0.1.0 saved.") && v.contains("<code>tone</code>")
    );

    // Unreadable inputs come back as typed, next to their error, whatever the button.
    let mut f = send(row(0, "limit", "Limit", "integer"));
    f.push(("cf[0].min".into(), "ten".into()));
    f.push(("cf[0].fields".into(), "[{broken".into()));
    f.push(("op".into(), "add_field:cf".into()));
    let page = post(f).await.text().await.unwrap();
    assert!(
        page.contains("value=\"ten\"") && page.contains("Enter a number."),
        "{page}"
    );
    assert!(
        page.contains("[{broken</textarea>")
            && page.contains("Sub-fields must be a JSON list of fields")
    );

    // Reordering and removing.
    let mut f = send(row(0, "a_one", "One", "text"));
    f.extend(row(1, "b_two", "Two", "text"));
    f.push(("op".into(), "up:cf[1]".into()));
    let page = post(f).await.text().await.unwrap();
    assert!(
        page.find("value=\"b_two\"").unwrap() < page.find("value=\"a_one\"").unwrap(),
        "moved up"
    );
    let mut f = send(row(0, "a_one", "One", "text"));
    f.extend(row(1, "b_two", "Two", "text"));
    f.push(("op".into(), "remove:cf[0]".into()));
    let page = post(f).await.text().await.unwrap();
    assert!(!page.contains("value=\"a_one\"") && page.contains("value=\"b_two\""));

    // Published versions are not editable: 409 with the hint.
    let (status, page) = admin
        .page("/admin/agent-types/trading.delta_futures.v1/versions/1.0.0/edit")
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(page.contains("Create a new version from it"), "{page}");
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE entity_type = 'agent_type_version' AND action = 'updated'").await, 1);
}

async fn new_version_form_explains_conflicts(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let admin = app.admin().await;
    let (_, form) = admin
        .page("/admin/agent-types/new?copy_from=trading.delta_futures.v1@1.0.0")
        .await;
    assert!(
        form.contains("value=\"1.1.0\""),
        "the next version is suggested"
    );
    let res = admin
        .post_form(
            "/admin/agent-types",
            &[
                ("copy_from", "trading.delta_futures.v1@1.0.0"),
                ("version", "1.0.0"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Version 1.0.0 of trading.delta_futures.v1 exists already.")
    );
    let res = admin
        .post_form(
            "/admin/agent-types",
            &[
                ("copy_from", "trading.delta_futures.v1@1.0.0"),
                ("version", "1.1"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Use a semantic version like 1.2.0.")
    );
    let res = admin
        .post_form(
            "/admin/agent-types",
            &[
                ("copy_from", "trading.delta_futures.v1@1.0.0"),
                ("version", "1.1.0"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM agent_type_versions WHERE status = 'draft'")
            .await,
        1
    );
}

async fn only_admins_change_the_catalog(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let (viewer, _) = app.user_with_role("viewer").await;
    let (operator, _) = app.user_with_role("operator").await;
    let (customer, _) = app.user_with_role("customer").await;
    for c in [&viewer, &operator] {
        assert_eq!(c.page("/admin/agent-types").await.0, StatusCode::OK);
        let (status, page) = c.page(TRADING).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            !page.contains("id=\"publish\"") && !page.contains("id=\"retire\""),
            "no change buttons for readers"
        );
        assert_eq!(
            c.page("/admin/agent-types/new").await.0,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            c.post_form(&format!("{TRADING}/retire"), &[])
                .await
                .status(),
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            c.page(&format!("{TRADING}/edit")).await.0,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            c.post_form(&format!("{TRADING}/edit"), &[("op", "save")])
                .await
                .status(),
            StatusCode::FORBIDDEN
        );
        // Previews are reading, not changing: any staff member may try the form.
        assert_eq!(
            c.post_form(&format!("{TRADING}/preview/validate?part=config"), &[])
                .await
                .status(),
            StatusCode::OK
        );
        assert_eq!(
            c.post_form(&format!("{TRADING}/preview?part=config"), &[])
                .await
                .status(),
            StatusCode::UNPROCESSABLE_ENTITY
        );
    }
    assert_eq!(
        customer.page("/admin/agent-types").await.0,
        StatusCode::FORBIDDEN
    );
    let admin = app.admin().await;
    let res = admin.post_form(&format!("{TRADING}/retire"), &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = admin.post_form(&format!("{TRADING}/retire"), &[]).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(res.text().await.unwrap().contains("is retired already"));
}

/// "+ Add entry" and "✕" are submit buttons: without JavaScript the form comes back with the row
/// added or removed, what was typed kept, nothing checked or saved.
async fn rows_are_added_and_removed_without_javascript(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let admin = app.admin().await;
    let typed = [
        ("config.nickname", "Trader Joe"),
        ("config.allowed_coins.__present", "1"),
        ("config.allowed_coins", "BTC"),
        ("config.allowed_coins", "ETH"),
        ("config.allowed_coins", "SOL"),
    ];
    let coin_rows = |page: &str| page.matches("name=\"config.allowed_coins\" value=").count();

    let mut add = typed.to_vec();
    add.push(("_row", "add config.allowed_coins"));
    let res = admin
        .post_form(&format!("{TRADING}/preview?part=config"), &add)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let page = res.text().await.unwrap();
    assert_eq!(coin_rows(&page), 4, "three typed rows and a new empty one");
    assert!(
        page.contains("value=\"Trader Joe\""),
        "what was typed is kept"
    );
    assert!(!page.contains("problem"), "nothing is checked yet");

    let mut remove = typed.to_vec();
    remove.push(("_row", "remove config.allowed_coins 1"));
    let res = admin
        .post_form(&format!("{TRADING}/preview?part=config"), &remove)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let page = res.text().await.unwrap();
    assert!(page.contains("value=\"BTC\"") && page.contains("value=\"SOL\""));
    assert!(!page.contains("value=\"ETH\""), "the second row is gone");
    assert_eq!(coin_rows(&page), 3, "two rows and the spare");
    // The buttons are real submit buttons, named for the row they act on.
    assert!(page.contains("name=\"_row\" value=\"remove config.allowed_coins 0\""));
    assert!(page.contains("name=\"_row\" value=\"add config.allowed_coins\""));
    // Enter in a field submits the form, not the first "✕": the form's default button comes first.
    let form = &page[page.find("class=\"schema-form\"").unwrap()..];
    let default = form
        .find("<button type=\"submit\" class=\"visually-hidden\"")
        .unwrap();
    assert!(default < form.find("name=\"_row\"").unwrap());
}
