//! The catalog's staff pages over HTTP: list, versions, previews (the form engine), the editor.

use reqwest::StatusCode;

use crate::both_engines;
use crate::helpers::*;

both_engines!(
    catalog_list_searches_filters_and_links_versions,
    previews_validate_like_a_customers_form,
    rows_are_added_and_removed_without_javascript,
    editor_adds_saves_switches_and_refuses_published_versions,
    editor_rows_follow_their_type_and_edits_land_on_their_row,
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
    let edit = new_helpdesk_draft(&admin).await;
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
        page.contains("value=\"nickname\"") && page.contains("Field 2 (new)"),
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
        page.contains("<a href=\"#f-cf-1--options\">Field 2 (Channel) — Options</a>: An enum field needs at least one option."),
        "the summary says where in words and links to the input"
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

/// The opening tag of the element with this id (to look at its attributes).
fn tag<'a>(page: &'a str, id: &str) -> &'a str {
    let at = page
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id} in {page}"));
    let start = page[..at].rfind('<').unwrap();
    let end = at + page[at..].find('>').unwrap();
    &page[start..=end]
}

fn autofocused(page: &str) -> Vec<String> {
    page.match_indices(" autofocus")
        .map(|(i, _)| {
            let start = page[..i].rfind('<').unwrap();
            let t = &page[start..i];
            let id = t.split("id=\"").nth(1).unwrap_or_default();
            id[..id.find('"').unwrap_or(0)].to_string()
        })
        .collect()
}

async fn editor_rows_follow_their_type_and_edits_land_on_their_row(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let admin = app.admin().await;
    let edit = new_helpdesk_draft(&admin).await;
    let row = |i: usize, key: &str, t: &str| -> Vec<(String, String)> {
        vec![
            (format!("cf[{i}].__row"), "1".into()),
            (format!("cf[{i}].__shape"), t.into()),
            (format!("cf[{i}].key"), key.into()),
            (format!("cf[{i}].label"), key.to_uppercase()),
            (format!("cf[{i}].type"), t.into()),
        ]
    };
    let post = |mut fields: Vec<(String, String)>, op: &str| {
        let admin = &admin;
        fields.push(("display_name".into(), "Help desk".into()));
        fields.push(("op".into(), op.into()));
        async move {
            let refs: Vec<(&str, &str)> = fields
                .iter()
                .map(|(a, b)| (a.as_str(), b.as_str()))
                .collect();
            let res = admin.post_form(edit, &refs).await;
            (res.status(), res.text().await.unwrap())
        }
    };
    let rows3 = || {
        [
            row(0, "a_one", "text"),
            row(1, "b_two", "number"),
            row(2, "c_three", "enum"),
        ]
        .concat()
    };

    // Each row shows the inputs of its type, folds, and sums itself up: number, label, key, type.
    let (_, page) = post(rows3(), "show").await;
    assert!(
        page.contains("name=\"cf[1].min\"") && !page.contains("name=\"cf[1].options\""),
        "a number has bounds, no options"
    );
    assert!(
        page.contains("name=\"cf[0].pattern\"") && !page.contains("name=\"cf[0].min\""),
        "a text has a pattern, no bounds"
    );
    assert!(
        page.contains("name=\"cf[2].options\"") && !page.contains("name=\"cf[2].pattern\""),
        "an enum has options"
    );
    assert!(
        tag(&page, "f-cf-1--row").starts_with("<details")
            && tag(&page, "f-cf-1--row").contains(" open")
    );
    assert!(page.contains("<summary><span class=\"row-title\">Field 2</span> B_TWO <code class=\"id\">b_two</code> <span class=\"badge muted\">number</span></summary>"), "{page}");
    assert!(autofocused(&page).is_empty());

    // "+ Add field" without JavaScript: the answer focuses the new row's first input.
    let (status, page) = post(rows3(), "add_field:cf").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(autofocused(&page), ["f-cf-3--key"]);
    assert!(tag(&page, "f-cf-3--row").contains(" open"));
    // Moving: the focus stays on the moved row's button, to move it again.
    let (_, page) = post(rows3(), "up:cf[2]").await;
    assert_eq!(autofocused(&page), ["f-cf-1--up"]);
    assert!(page.find("value=\"c_three\"").unwrap() < page.find("value=\"b_two\"").unwrap());
    let (_, page) = post(rows3(), "up:cf[1]").await;
    assert_eq!(
        autofocused(&page),
        ["f-cf-0--down"],
        "first now: no Up button"
    );
    let (_, page) = post(rows3(), "down:cf[0]").await;
    assert_eq!(autofocused(&page), ["f-cf-1--down"]);
    // Removing: the next row, the one before the last, then the add button.
    let (_, page) = post(rows3(), "remove:cf[1]").await;
    assert_eq!(autofocused(&page), ["f-cf-1--key"]);
    assert!(page.contains("value=\"c_three\"") && !page.contains("value=\"b_two\""));
    let (_, page) = post(rows3(), "remove:cf[2]").await;
    assert_eq!(autofocused(&page), ["f-cf-1--key"]);
    let (_, page) = post(row(0, "a_one", "text"), "remove:cf[0]").await;
    assert_eq!(autofocused(&page), ["f-cf-add"]);
    // A page out of date: nothing changes, and the editor says so.
    let (status, page) = post(rows3(), "remove:cf[7]").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("not in the editor any more") && page.contains("value=\"c_three\""));

    // Changing a type (htmx swaps the row; without JavaScript the button under the select): the row
    // now shows the new type's inputs, and drops what the old type had.
    let mut f = row(0, "coins", "number");
    f[4].1 = "enum".into();
    f.push(("cf[0].min".into(), "3".into()));
    let (_, page) = post(f.clone(), "retype:cf[0]").await;
    assert!(
        page.contains("name=\"cf[0].options\"") && !page.contains("name=\"cf[0].min\""),
        "{page}"
    );
    assert_eq!(autofocused(&page), ["f-cf-0--type"]);
    assert!(
        tag(&page, "f-cf-0--type").contains("hx-select=\"#f-cf-0--row\""),
        "htmx swaps just the row"
    );
    // Saved without the button: the enum needs options, the bounds are gone.
    let (status, page) = post(f, "save").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("<a href=\"#f-cf-0--options\">Field 1 (COINS) — Options</a>: An enum field needs at least one option."), "{page}");
    assert!(!page.contains("Only number and integer fields have bounds"));

    // A folded row stays folded through edits that move it, unless it holds a problem.
    let mut f = rows3();
    f.push(("cf[2].__closed".into(), "1".into()));
    f.push(("cf[2].options".into(), "x".into()));
    f.push(("cf[0].__closed".into(), "1".into()));
    f.push(("cf[1].max".into(), "ten".into()));
    let (_, page) = post(f, "down:cf[1]").await;
    assert!(
        !tag(&page, "f-cf-1--row").contains(" open"),
        "c_three moved up, still folded"
    );
    assert!(!tag(&page, "f-cf-0--row").contains(" open"));
    assert!(tag(&page, "f-cf-2--row").contains(" open"));
    // The number typed as text moved with its row, next to its error.
    assert!(
        tag(&page, "f-cf-2--max").contains("value=\"ten\""),
        "{page}"
    );
    assert!(page.contains("id=\"f-cf-2--max-error\" role=\"status\">Enter a number."));
    assert!(
        page.contains("<a href=\"#f-cf-2--max\">Field 3 (B_TWO) — Maximum</a>: Enter a number."),
        "{page}"
    );
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

/// Creates the empty draft `support.helpdesk.v1@0.1.0` through the "new agent type" form and
/// returns its editor's address.
async fn new_helpdesk_draft(admin: &Client) -> &'static str {
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
    assert_eq!(location(&res), edit, "the new draft opens in the editor");
    edit
}
