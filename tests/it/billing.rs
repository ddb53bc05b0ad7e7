//! Coupon checkout, subscriptions and GST billing (SPEC §4), through the pages and the Phase-1 API.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both_engines;
use crate::helpers::*;

both_engines!(
    hiring_through_the_portal_pins_the_version_and_issues_invoice_and_receipt,
    api_checkout_keeps_the_phase1_shape_and_replays_by_idempotency_key,
    gst_is_split_by_state_and_absent_without_gstin,
    concurrent_checkouts_number_documents_without_gaps_or_duplicates,
    issued_invoices_and_receipts_cannot_be_changed,
    cancel_undo_cancel_then_the_period_end_ends_or_renews_exactly_once,
    a_canceled_subscription_is_gone_after_its_retention,
    another_customers_billing_objects_are_not_found,
    staff_hire_on_a_customers_behalf_and_viewers_cannot
);

pub const TRADING: &str = "trading.delta_futures.v1";

/// A customer's user with an API token, and the customer's id.
pub struct CustomerUser {
    pub client: Client,
    pub email: String,
    pub token: String,
    pub customer_id: String,
}

pub async fn customer(app: &TestApp) -> CustomerUser {
    let (client, email) = app.user_with_role("customer").await;
    let token = client.api_token().await;
    let (_, me) = api(app, &token, reqwest::Method::GET, "/me", None, None).await;
    let customer_id = me["customer_id"]
        .as_str()
        .expect("a customer user")
        .to_string();
    CustomerUser {
        client,
        email,
        token,
        customer_id,
    }
}

/// Calls `/api/v1{path}` with a bearer token (and an Idempotency-Key when given).
pub async fn api(
    app: &TestApp,
    token: &str,
    method: reqwest::Method,
    path: &str,
    key: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = reqwest::Client::new()
        .request(method, format!("{}/api/v1{path}", app.base))
        .bearer_auth(token);
    if let Some(k) = key {
        req = req.header("Idempotency-Key", k);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

pub async fn checkout(
    app: &TestApp,
    token: &str,
    key: Option<&str>,
    body: Value,
) -> (StatusCode, Value) {
    api(
        app,
        token,
        reqwest::Method::POST,
        "/payments/coupon/checkout",
        key,
        Some(body),
    )
    .await
}

fn hire_body(duration: &str) -> Value {
    json!({"coupon_code": "WAOOAW100", "agent_type_id": TRADING, "duration": duration})
}

/// The value of `name="…" value="…"` in a page.
fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} field"))
        + marker.len();
    html[start..start + html[start..].find('"').unwrap()].to_string()
}

async fn hiring_through_the_portal_pins_the_version_and_issues_invoice_and_receipt(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let c = customer(&app).await;

    // The catalog shows each published type with its prices.
    let (status, catalog) = c.client.page("/portal/catalog").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        catalog.contains("Delta")
            && catalog.contains("₹12,000.00")
            && catalog.contains("₹1,44,000.00"),
        "{catalog}"
    );
    let (status, detail) = c.client.page(&format!("/portal/catalog/{TRADING}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        detail.contains("What you will configure") && detail.contains("Goals it can work towards")
    );

    // A wrong coupon is an error next to its field, and nothing is created.
    let (status, page) = c
        .client
        .page(&format!(
            "/portal/hire?step=review&agent_type_id={TRADING}&duration=quarterly&coupon_code=FREE"
        ))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.contains("id=\"error-coupon_code\">Invalid coupon code."),
        "{page}"
    );
    assert!(page.contains("value=\"FREE\""), "what was typed is kept");
    assert_eq!(app.count("SELECT COUNT(*) FROM subscriptions").await, 0);

    // The right one shows the summary: list price, the discount, nothing to tax, the total.
    let (status, page) = c
        .client
        .page(&format!("/portal/hire?step=review&agent_type_id={TRADING}&duration=quarterly&coupon_code=waooaw100"))
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(
        page.contains("₹36,000.00")
            && page.contains("−₹36,000.00")
            && page.contains("Confirm and hire")
    );
    assert!(
        page.contains(&format!("{TRADING}@1.0.0")),
        "the version it will be pinned to"
    );
    let key = hidden(&page, "idempotency_key");

    let form = [
        ("agent_type_id", TRADING),
        ("duration", "quarterly"),
        ("coupon_code", "waooaw100"),
        ("idempotency_key", key.as_str()),
    ];
    let res = c.client.post_form("/portal/hire", &form).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let target = location(&res);
    assert!(target.starts_with("/portal/subscriptions/SUB-"), "{target}");
    let (_, landed) = c.client.page(&target).await;
    assert!(
        landed.contains("Hired."),
        "the customer lands on the new subscription"
    );

    // A double submit lands on the same subscription and creates nothing new.
    let res = c.client.post_form("/portal/hire", &form).await;
    assert_eq!(location(&res), target);
    assert_eq!(app.count("SELECT COUNT(*) FROM subscriptions").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM orders").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM invoices").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM receipts").await, 1);
    // The same key with other choices is refused.
    let changed = [
        ("agent_type_id", TRADING),
        ("duration", "yearly"),
        ("coupon_code", "waooaw100"),
        ("idempotency_key", key.as_str()),
    ];
    let res = c.client.post_form("/portal/hire", &changed).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let page = res.text().await.unwrap();
    assert!(
        page.contains("already used for different choices")
            && page.contains("value=\"yearly\" checked"),
        "the form says why and keeps the new choice: {page}"
    );

    let (status, sub) = c.client.page(&target).await;
    assert_eq!(status, StatusCode::OK);
    assert!(sub.contains("active") && sub.contains(&format!("{TRADING}@1.0.0")));
    assert!(sub.contains("Cancel at period end"));
    assert_eq!(
        app.text("SELECT agent_type_version FROM subscriptions")
            .await,
        "1.0.0",
        "pinned to the newest published version"
    );
    assert_eq!(app.text("SELECT status FROM orders").await, "paid");
    assert_eq!(app.count("SELECT amount FROM orders").await, 0);

    // The invoice: numbered for the billing day, a printable page and a download.
    let number = app.text("SELECT number FROM invoices").await;
    let day = chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Kolkata)
        .format("%Y%m%d")
        .to_string();
    assert_eq!(number, format!("INV-{day}-0001"));
    assert_eq!(
        app.text("SELECT number FROM receipts").await,
        format!("RCT-{day}-0001")
    );
    let invoice_id = app.text("SELECT id FROM invoices").await;
    assert!(
        sub.contains(&number),
        "the subscription page links its invoice"
    );
    let (status, inv) = c
        .client
        .page(&format!("/portal/invoices/{invoice_id}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    for text in [
        "Tax invoice",
        &number,
        "Acme Clinic",
        "₹36,000.00",
        "Coupon discount",
        "Taxable amount",
        "Total (INR)",
        "Print",
        "No GST charged",
    ] {
        assert!(inv.contains(text), "invoice page shows {text}");
    }
    let res = c
        .client
        .get(&format!("/portal/invoices/{invoice_id}/download"))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()["content-disposition"].to_str().unwrap(),
        format!("attachment; filename=\"{number}.html\"")
    );
    let file = res.text().await.unwrap();
    assert!(
        file.contains("<style>") && file.contains(&number) && !file.contains("site-header"),
        "a document of its own"
    );

    // Billing lists it all; the home page lists the subscription.
    let (_, billing) = c.client.page("/portal/billing").await;
    assert!(billing.contains(&number) && billing.contains("RCT-") && billing.contains("Delta"));
    let (_, home) = c.client.page("/portal").await;
    assert!(home.contains(&target));

    // The audit trail has the whole checkout, by the customer's user.
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action IN ('subscription.created', 'order.paid', 'invoice.issued', 'receipt.issued')").await,
        4
    );
}

async fn api_checkout_keeps_the_phase1_shape_and_replays_by_idempotency_key(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let c = customer(&app).await;

    let (status, config) = api(
        &app,
        &c.token,
        reqwest::Method::GET,
        "/payments/config",
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        config,
        json!({"mode": "coupon", "coupon_code": "WAOOAW100", "coupon_unlimited": true})
    );

    // Refusals carry the Phase-1 messages and create nothing.
    for (body, status, detail) in [
        (
            json!({"coupon_code": "NOPE", "agent_type_id": TRADING, "duration": "monthly"}),
            400,
            "Invalid coupon code.",
        ),
        (
            json!({"coupon_code": "WAOOAW100", "agent_type_id": TRADING, "duration": "weekly"}),
            400,
            "Unsupported duration.",
        ),
        (
            json!({"coupon_code": "WAOOAW100", "duration": "monthly"}),
            400,
            "agent_type_id is required.",
        ),
        (
            json!({"coupon_code": "WAOOAW100", "agent_id": "AGT-XYZ-1", "duration": "monthly"}),
            400,
            "agent_type_id is required.",
        ),
        (
            json!({"coupon_code": "WAOOAW100", "agent_type_id": TRADING, "duration": "monthly", "gstin": "27-SHORT"}),
            400,
            "Invalid GSTIN.",
        ),
    ] {
        let (s, problem) = checkout(&app, &c.token, None, body.clone()).await;
        assert_eq!(s.as_u16(), status, "{body}");
        assert_eq!(problem["detail"], detail, "{body}");
        assert!(problem["correlation_id"].is_string());
    }
    let (s, problem) = checkout(&app, &c.token, None, json!({"duration": "monthly"})).await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a missing coupon_code: {problem}"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM subscriptions").await, 0);

    // A Phase-1 listing id names the type; the response is Phase 1's plus the pinned version.
    let body = json!({"coupon_code": " WAOOAW100 ", "agent_id": "AGT-TRD-DELTA-001", "duration": "monthly"});
    let (s, first) = checkout(&app, &c.token, Some("retry-1"), body.clone()).await;
    assert_eq!(s, StatusCode::OK, "{first}");
    for (k, v) in [
        ("payment_provider", json!("coupon")),
        ("amount", json!(0)),
        ("currency", json!("INR")),
        ("coupon_code", json!("WAOOAW100")),
        ("agent_id", json!("AGT-TRD-DELTA-001")),
        ("agent_type_id", json!(TRADING)),
        ("agent_type_version", json!("1.0.0")),
        ("duration", json!("monthly")),
        ("subscription_status", json!("active")),
        ("trial_status", json!("not_started")),
    ] {
        assert_eq!(first[k], v, "{k}");
    }
    assert!(first["order_id"].as_str().unwrap().starts_with("ORDER-"));
    let sub_id = first["subscription_id"].as_str().unwrap().to_string();
    assert!(sub_id.starts_with("SUB-"));

    // A retry with the same key answers the same, creating nothing.
    let (s, again) = checkout(&app, &c.token, Some("retry-1"), body.clone()).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(again, first);
    assert_eq!(app.count("SELECT COUNT(*) FROM subscriptions").await, 1);
    // The same key with another payload is a 409.
    let (s, problem) = checkout(
        &app,
        &c.token,
        Some("retry-1"),
        json!({"coupon_code": "WAOOAW100", "agent_id": "AGT-TRD-DELTA-001", "duration": "yearly"}),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert_eq!(
        problem["detail"],
        "Idempotency-Key reuse with different payload."
    );
    assert_eq!(problem["code"], "idempotency_key_reused");
    // Keys are per customer: another customer's same key is a fresh checkout.
    let other = customer(&app).await;
    let (s, theirs) = checkout(&app, &other.token, Some("retry-1"), body.clone()).await;
    assert_eq!(s, StatusCode::OK);
    assert_ne!(theirs["subscription_id"], first["subscription_id"]);

    // Reads keep Phase 1's shapes.
    let (s, sub) = api(
        &app,
        &c.token,
        reqwest::Method::GET,
        &format!("/payments/subscriptions/{sub_id}"),
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    for k in [
        "subscription_id",
        "agent_id",
        "duration",
        "customer_id",
        "status",
        "current_period_start",
        "current_period_end",
        "cancel_at_period_end",
        "ended_at",
    ] {
        assert!(sub.get(k).is_some(), "subscription has {k}");
    }
    assert_eq!(sub["customer_id"], c.customer_id);
    let (s, list) = api(
        &app,
        &c.token,
        reqwest::Method::GET,
        &format!("/payments/subscriptions/by-customer/{}", c.customer_id),
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(list.as_array().unwrap().len(), 1);
    let (s, invoices) = api(
        &app,
        &c.token,
        reqwest::Method::GET,
        &format!("/invoices?customer_id={}", c.customer_id),
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let inv = &invoices["invoices"][0];
    assert_eq!(inv["order_id"], first["order_id"]);
    assert_eq!(inv["tax_type"], "none");
    assert_eq!(inv["subtotal_amount"], 1_200_000, "paise");
    assert_eq!(inv["discount_amount"], 1_200_000);
    assert_eq!(inv["total_amount"], 0);
    let order_id = first["order_id"].as_str().unwrap();
    let (s, by_order) = api(
        &app,
        &c.token,
        reqwest::Method::GET,
        &format!("/invoices/by-order/{order_id}"),
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(by_order["invoice_id"], inv["invoice_id"]);
    let (s, receipt) = api(
        &app,
        &c.token,
        reqwest::Method::GET,
        &format!("/receipts/by-order/{order_id}"),
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(receipt["payment_status"], "paid");
    let res = reqwest::Client::new()
        .get(format!(
            "{}/api/v1/receipts/{}/html",
            app.base,
            receipt["receipt_id"].as_str().unwrap()
        ))
        .bearer_auth(&c.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains(receipt["receipt_number"].as_str().unwrap())
    );
}

fn ten_percent_off(s: &mut agentdesk::config::Settings) {
    s.billing.coupon_discount_percent = 10;
}

async fn gst_is_split_by_state_and_absent_without_gstin(engine: Engine) {
    let Some(app) = spawn_app_with(
        engine,
        Options {
            configure: Some(ten_percent_off),
            ..Options::default()
        },
    )
    .await
    else {
        return;
    };
    // Monthly lists at ₹12,000: 10 % off leaves ₹10,800 taxable, 18 % of it is ₹1,944.
    for (gstin, tax_type, cgst, sgst, igst) in [
        (Some("27AAPFU0939F1ZV"), "cgst_sgst", 97_200, 97_200, 0),
        (Some("29AAPFU0939F1ZV"), "igst", 0, 0, 194_400),
        (None, "none", 0, 0, 0),
    ] {
        let c = customer(&app).await;
        let mut body = hire_body("monthly");
        if let Some(g) = gstin {
            body["gstin"] = json!(g.to_lowercase());
        }
        let (s, done) = checkout(&app, &c.token, None, body).await;
        assert_eq!(s, StatusCode::OK, "{done}");
        assert_eq!(done["amount"], 1_080_000 + cgst + sgst + igst);
        let (_, inv) = api(
            &app,
            &c.token,
            reqwest::Method::GET,
            &format!("/invoices/by-order/{}", done["order_id"].as_str().unwrap()),
            None,
            None,
        )
        .await;
        assert_eq!(inv["tax_type"], tax_type);
        assert_eq!(inv["subtotal_amount"], 1_200_000);
        assert_eq!(inv["discount_amount"], 120_000);
        assert_eq!(inv["taxable_amount"], 1_080_000);
        assert_eq!(
            (
                inv["cgst_amount"].as_i64(),
                inv["sgst_amount"].as_i64(),
                inv["igst_amount"].as_i64()
            ),
            (Some(cgst), Some(sgst), Some(igst))
        );
        assert_eq!(inv["total_amount"], 1_080_000 + cgst + sgst + igst);
        assert_eq!(
            inv["customer_gstin"],
            gstin.map(Value::from).unwrap_or(Value::Null),
            "upper-cased and kept"
        );
        // The page says it in words and rupees.
        let (_, page) = c
            .client
            .page(&format!(
                "/portal/invoices/{}",
                inv["invoice_id"].as_str().unwrap()
            ))
            .await;
        match tax_type {
            "cgst_sgst" => assert!(
                page.contains("CGST 9 %")
                    && page.contains("₹972.00")
                    && page.contains("27 · Maharashtra")
            ),
            "igst" => assert!(
                page.contains("IGST 18 %")
                    && page.contains("₹1,944.00")
                    && page.contains("29 · Karnataka")
            ),
            _ => assert!(page.contains("No GST charged") && page.contains("₹10,800.00")),
        }
    }
}

async fn concurrent_checkouts_number_documents_without_gaps_or_duplicates(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let c = customer(&app).await;
    let runs = (0..32).map(|i| {
        let key = format!("k-{i}");
        let (app, token) = (&app, c.token.clone());
        async move { checkout(app, &token, Some(&key), hire_body("monthly")).await }
    });
    for (s, body) in futures_util::future::join_all(runs).await {
        assert_eq!(s, StatusCode::OK, "{body}");
    }
    let (_, all) = api(
        &app,
        &c.token,
        reqwest::Method::GET,
        "/invoices",
        None,
        None,
    )
    .await;
    let mut numbers: Vec<String> = all["invoices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["invoice_number"].as_str().unwrap().to_string())
        .collect();
    numbers.sort();
    let day = &numbers[0][4..12];
    let expected: Vec<String> = (1..=32).map(|n| format!("INV-{day}-{n:04}")).collect();
    assert_eq!(numbers, expected, "1 to 32, each once");
    // Eight retries of one request at the same moment: one checkout, eight identical answers.
    let same = (0..8).map(|_| {
        let (app, token) = (&app, c.token.clone());
        async move { checkout(app, &token, Some("same-key"), hire_body("yearly")).await }
    });
    let answers = futures_util::future::join_all(same).await;
    for (s, body) in &answers {
        assert_eq!(*s, StatusCode::OK, "{body}");
        assert_eq!(body, &answers[0].1);
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM subscriptions WHERE duration = 'yearly'")
            .await,
        1
    );
    let (_, all) = api(
        &app,
        &c.token,
        reqwest::Method::GET,
        "/receipts",
        None,
        None,
    )
    .await;
    let mut numbers: Vec<String> = all["receipts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["receipt_number"].as_str().unwrap().to_string())
        .collect();
    numbers.sort();
    numbers.dedup();
    assert_eq!(numbers.len(), 33);
    assert_eq!(numbers.last().unwrap(), &format!("RCT-{day}-0033"));
}

async fn issued_invoices_and_receipts_cannot_be_changed(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let c = customer(&app).await;
    let (s, _) = checkout(&app, &c.token, None, hire_body("yearly")).await;
    assert_eq!(s, StatusCode::OK);
    for sql in [
        "UPDATE invoices SET total_amount = 1, taxable_amount = 1, discount_amount = subtotal_amount - 1",
        "DELETE FROM invoices",
        "UPDATE receipts SET total_amount = 5",
        "DELETE FROM receipts",
    ] {
        let err = app.exec(sql).await.expect_err(sql);
        assert!(err.contains("append-only"), "{sql}: {err}");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM invoices").await, 1);
    assert_eq!(app.count("SELECT total_amount FROM invoices").await, 0);
}

async fn cancel_undo_cancel_then_the_period_end_ends_or_renews_exactly_once(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let c = customer(&app).await;
    let admin = app.admin().await.api_token().await;
    let (_, ending) = checkout(&app, &c.token, None, hire_body("monthly")).await;
    let (_, renewing) = checkout(&app, &c.token, None, hire_body("monthly")).await;
    let ending = ending["subscription_id"].as_str().unwrap().to_string();
    let renewing = renewing["subscription_id"].as_str().unwrap().to_string();

    // Cancel through the page, undo through the page, cancel again through the API.
    let page = format!("/portal/subscriptions/{ending}");
    let res = c.client.post_form(&format!("{page}/cancel"), &[]).await;
    assert_eq!(location(&res), page);
    let (_, body) = c.client.page(&page).await;
    assert!(
        body.contains("ends at period end") && body.contains("Keep this subscription"),
        "{body}"
    );
    let res = c
        .client
        .post_form(&format!("{page}/undo-cancel"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, body) = c.client.page(&page).await;
    assert!(body.contains("Renews automatically"));
    let (s, sub) = api(
        &app,
        &c.token,
        reqwest::Method::POST,
        &format!("/payments/subscriptions/{ending}/cancel"),
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(sub["cancel_at_period_end"], true);
    assert_eq!(sub["effective_at"], sub["current_period_end"]);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action IN ('subscription.cancel_scheduled', 'subscription.cancel_undone')").await,
        3
    );

    // Before the period ends nothing is due; after it, two passes at once change each once.
    let pass = |now: String| {
        let (app, admin) = (&app, admin.clone());
        async move {
            api(
                app,
                &admin,
                reqwest::Method::POST,
                "/payments/subscriptions/process-period-end",
                None,
                Some(json!({"now": now})),
            )
            .await
        }
    };
    let (s, report) = pass(chrono::Utc::now().to_rfc3339()).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(report["processed"], 0);
    let after = (chrono::Utc::now() + chrono::Duration::days(31)).to_rfc3339();
    let (a, b) = tokio::join!(pass(after.clone()), pass(after.clone()));
    assert_eq!((a.0, b.0), (StatusCode::OK, StatusCode::OK));
    let total = |k: &str| a.1[k].as_i64().unwrap() + b.1[k].as_i64().unwrap();
    assert_eq!(
        (total("processed"), total("canceled"), total("renewed")),
        (2, 1, 1),
        "{} {}",
        a.1,
        b.1
    );
    assert!(a.1["now"].is_string());
    let (_, again) = pass(after.clone()).await;
    assert_eq!(again["processed"], 0, "exactly once");

    let (_, ended) = api(
        &app,
        &c.token,
        reqwest::Method::GET,
        &format!("/payments/subscriptions/{ending}"),
        None,
        None,
    )
    .await;
    assert_eq!(ended["status"], "canceled");
    assert_eq!(
        ended["ended_at"], ended["current_period_end"],
        "ended when its period ended"
    );
    let (_, renewed) = api(
        &app,
        &c.token,
        reqwest::Method::GET,
        &format!("/payments/subscriptions/{renewing}"),
        None,
        None,
    )
    .await;
    assert_eq!(renewed["status"], "active");
    let start =
        chrono::DateTime::parse_from_rfc3339(renewed["current_period_start"].as_str().unwrap())
            .unwrap();
    let end = chrono::DateTime::parse_from_rfc3339(renewed["current_period_end"].as_str().unwrap())
        .unwrap();
    assert_eq!((end - start).num_days(), 30, "the same duration again");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM orders WHERE kind = 'renewal'")
            .await,
        1
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM invoices").await,
        3,
        "two checkouts, one renewal"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM receipts").await, 3);

    // A canceled subscription takes no more writes.
    for action in ["cancel", "undo-cancel"] {
        let (s, problem) = api(
            &app,
            &c.token,
            reqwest::Method::POST,
            &format!("/payments/subscriptions/{ending}/{action}"),
            None,
            None,
        )
        .await;
        assert_eq!(s, StatusCode::CONFLICT, "{action}");
        assert_eq!(problem["code"], "subscription_not_active");
    }
    let res = c
        .client
        .post_form(&format!("/portal/subscriptions/{ending}/cancel"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
}

async fn a_canceled_subscription_is_gone_after_its_retention(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let c = customer(&app).await;
    let (_, done) = checkout(&app, &c.token, Some("hire-once"), hire_body("monthly")).await;
    let id = done["subscription_id"].as_str().unwrap().to_string();
    let (s, _) = api(
        &app,
        &c.token,
        reqwest::Method::POST,
        &format!("/payments/subscriptions/{id}/cancel"),
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    // The scheduler's pass ends it once the period is over.
    app.clock.advance(chrono::Duration::days(31));
    let report = agentdesk::jobs::run_due(
        &app.db,
        agentdesk::clock::Clock::now(app.clock.as_ref()),
        &agentdesk::jobs::JobSettings::new(std::time::Duration::from_secs(3600)),
    )
    .await
    .unwrap();
    assert_eq!(report.period_ends.canceled, 1);
    assert_eq!(report.period_ends.canceled_ids, vec![id.clone()]);
    assert_eq!(
        report.idempotency_keys_purged, 1,
        "keys are forgotten after a week"
    );
    // Still readable during retention (sessions do not last a month: sign in again)…
    let res = c.client.login(&c.email, PASSWORD).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (status, page) = c.client.page(&format!("/portal/subscriptions/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("canceled") && page.contains("Data kept until"));
    // …and gone after it.
    app.clock.advance(chrono::Duration::days(30));
    let res = c.client.login(&c.email, PASSWORD).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (status, page) = c.client.page(&format!("/portal/subscriptions/{id}")).await;
    assert_eq!(status, StatusCode::GONE);
    assert!(page.contains("no longer available"), "{page}");
    let (s, problem) = api(
        &app,
        &c.token,
        reqwest::Method::GET,
        &format!("/payments/subscriptions/{id}"),
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::GONE);
    assert_eq!(problem["code"], "gone");
    // The invoice stays: tax documents are kept.
    let (s, _) = api(
        &app,
        &c.token,
        reqwest::Method::GET,
        &format!("/invoices/by-order/{}", done["order_id"].as_str().unwrap()),
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
}

async fn another_customers_billing_objects_are_not_found(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let a = customer(&app).await;
    let b = customer(&app).await;
    let (_, done) = checkout(&app, &a.token, None, hire_body("monthly")).await;
    let sub = done["subscription_id"].as_str().unwrap();
    let order = done["order_id"].as_str().unwrap();
    let invoice = done["invoice_id"].as_str().unwrap();
    let receipt = done["receipt_id"].as_str().unwrap();
    let ca = &a.customer_id;
    use reqwest::Method;
    let api_routes: Vec<(Method, String)> = vec![
        (Method::GET, format!("/payments/subscriptions/{sub}")),
        (
            Method::GET,
            format!("/payments/subscriptions/by-customer/{ca}"),
        ),
        (
            Method::POST,
            format!("/payments/subscriptions/{sub}/cancel"),
        ),
        (
            Method::POST,
            format!("/payments/subscriptions/{sub}/undo-cancel"),
        ),
        (Method::GET, format!("/invoices?customer_id={ca}")),
        (Method::GET, format!("/invoices/{invoice}")),
        (Method::GET, format!("/invoices/by-order/{order}")),
        (Method::GET, format!("/invoices/{invoice}/html")),
        (Method::GET, format!("/receipts?customer_id={ca}")),
        (Method::GET, format!("/receipts/{receipt}")),
        (Method::GET, format!("/receipts/by-order/{order}")),
        (Method::GET, format!("/receipts/{receipt}/html")),
    ];
    for (method, path) in &api_routes {
        let (s, _) = api(&app, &b.token, method.clone(), path, None, None).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{method} {path} as customer B");
        let (s, _) = api(&app, &a.token, method.clone(), path, None, None).await;
        assert!(s.is_success(), "{method} {path} as customer A: {s}");
    }
    // Checking out for another customer is not possible either.
    let mut body = hire_body("monthly");
    body["customer_id"] = json!(ca);
    let (s, _) = checkout(&app, &b.token, None, body).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // B's own lists stay empty.
    let (_, list) = api(&app, &b.token, Method::GET, "/invoices", None, None).await;
    assert_eq!(list["invoices"], json!([]));

    for path in [
        format!("/portal/subscriptions/{sub}"),
        format!("/portal/invoices/{invoice}"),
        format!("/portal/invoices/{invoice}/download"),
        format!("/portal/receipts/{receipt}"),
        format!("/portal/receipts/{receipt}/download"),
    ] {
        assert_eq!(
            b.client.page(&path).await.0,
            StatusCode::NOT_FOUND,
            "{path}"
        );
        assert_eq!(a.client.page(&path).await.0, StatusCode::OK, "{path}");
    }
    for path in [
        format!("/portal/subscriptions/{sub}/cancel"),
        format!("/portal/subscriptions/{sub}/undo-cancel"),
    ] {
        let res = b.client.post_form(&path, &[]).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM subscriptions WHERE cancel_at_period_end = TRUE")
            .await,
        0
    );
}

async fn staff_hire_on_a_customers_behalf_and_viewers_cannot(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let c = customer(&app).await;
    let (operator, _) = app.user_with_role("operator").await;
    let (viewer, _) = app.user_with_role("viewer").await;
    let hire = format!("/admin/customers/{}/hire", c.customer_id);

    let (status, page) = operator
        .page(&format!(
            "{hire}?step=review&agent_type_id={TRADING}&duration=yearly&coupon_code=WAOOAW100"
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Hire an agent for Acme Clinic") && page.contains("₹1,44,000.00"));
    let key = hidden(&page, "idempotency_key");
    let form = [
        ("agent_type_id", TRADING),
        ("duration", "yearly"),
        ("coupon_code", "WAOOAW100"),
        ("idempotency_key", key.as_str()),
    ];
    let res = viewer.post_form(&hire, &form).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.count("SELECT COUNT(*) FROM subscriptions").await, 0);
    let res = operator.post_form(&hire, &form).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let target = location(&res);
    assert!(target.starts_with("/admin/subscriptions/SUB-"), "{target}");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'subscription.created' AND on_behalf_of IS NOT NULL").await,
        1,
        "recorded as on the customer's behalf"
    );
    // Staff see it, viewers included; the customer sees it as theirs.
    let (status, page) = viewer.page(&target).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("Acme Clinic") && !page.contains("Cancel at period end"),
        "viewers get no buttons"
    );
    assert!(
        page.contains("subscription.created") && page.contains("History"),
        "staff see its history"
    );
    // The customer's page lists the hire in its history, next to the customer's own changes.
    let (_, customer_page) = operator
        .page(&format!("/admin/customers/{}", c.customer_id))
        .await;
    for action in [
        "subscription.created",
        "order.paid",
        "invoice.issued",
        "receipt.issued",
        "customer.created",
    ] {
        assert!(
            customer_page.contains(action),
            "{action} in the customer's history"
        );
    }
    let (status, _) = c.client.page(&target.replace("/admin/", "/portal/")).await;
    assert_eq!(status, StatusCode::OK);
    // Staff cancel on behalf; viewers cannot.
    let res = viewer.post_form(&format!("{target}/cancel"), &[]).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = operator.post_form(&format!("{target}/cancel"), &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'subscription.cancel_scheduled' AND on_behalf_of IS NOT NULL").await,
        1
    );

    // Through the API, staff name the customer; without one it is a 400.
    let token = operator.api_token().await;
    let (s, problem) = checkout(&app, &token, None, hire_body("monthly")).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(problem["detail"], "customer_id is required.");
    let mut body = hire_body("monthly");
    body["customer_id"] = json!(c.customer_id);
    let (s, done) = checkout(&app, &token, None, body.clone()).await;
    assert_eq!(s, StatusCode::OK, "{done}");
    body["customer_id"] = json!("CUS-nobody");
    let (s, _) = checkout(&app, &token, None, body).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // Staff lists name the customer (a list of everyone's documents has no end).
    let (s, problem) = api(&app, &token, reqwest::Method::GET, "/invoices", None, None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(problem["detail"], "customer_id is required.");
    let (s, list) = api(
        &app,
        &token,
        reqwest::Method::GET,
        &format!("/receipts?customer_id={}", c.customer_id),
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(list["receipts"].as_array().unwrap().len(), 2);
    // Viewers' tokens read but do not buy.
    let vt = viewer.api_token().await;
    let mut body = hire_body("monthly");
    body["customer_id"] = json!(c.customer_id);
    let (s, _) = checkout(&app, &vt, None, body).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, list) = api(
        &app,
        &vt,
        reqwest::Method::GET,
        &format!("/payments/subscriptions/by-customer/{}", c.customer_id),
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(list.as_array().unwrap().len(), 2);
}

both_engines!(customers_edit_their_company_details_and_new_invoices_print_them);

async fn customers_edit_their_company_details_and_new_invoices_print_them(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let c = customer(&app).await;
    let (status, page) = c.client.page("/portal/billing").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Company details") && page.contains("value=\"Acme Clinic\""));

    // A bad GSTIN and a hidden bidi override: errors next to their fields, nothing saved.
    let res = c
        .client
        .post_form(
            "/portal/billing",
            &[
                ("name", "Acme\u{202e} Clinic"),
                ("billing_address", "1 MG Road"),
                ("gstin", "27ABC"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = res.text().await.unwrap();
    assert!(
        page.contains("id=\"error-gstin\"") && page.contains("id=\"error-name\""),
        "{page}"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM customers WHERE billing_address IS NOT NULL")
            .await,
        0
    );

    let res = c
        .client
        .post_form(
            "/portal/billing",
            &[
                ("name", "Acme Clinic Pvt Ltd"),
                ("billing_address", "1 MG Road\nPune 411001"),
                ("gstin", "27aapfu0939f1zv"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, page) = c.client.page("/portal/billing").await;
    assert!(
        page.contains("Company details saved")
            && page.contains("27AAPFU0939F1ZV")
            && page.contains("Maharashtra")
    );

    // The next invoice prints them, with CGST + SGST (same state as the seller).
    let (s, done) = checkout(&app, &c.token, None, hire_body("monthly")).await;
    assert_eq!(s, StatusCode::OK);
    let (_, inv) = c
        .client
        .page(&format!(
            "/portal/invoices/{}",
            done["invoice_id"].as_str().unwrap()
        ))
        .await;
    assert!(
        inv.contains("Acme Clinic Pvt Ltd")
            && inv.contains("Pune 411001")
            && inv.contains("GSTIN 27AAPFU0939F1ZV")
            && inv.contains("CGST 9 %")
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'customer.updated'")
            .await,
        1
    );
}
