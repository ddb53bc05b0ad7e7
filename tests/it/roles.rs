//! Who may use which route: every role (and nobody) against every area.

use reqwest::StatusCode;

use crate::both_engines;
use crate::helpers::*;

both_engines!(route_by_role_matrix, customers_never_see_admin_pages);

const OK: u16 = 200;
const SIGN_IN: u16 = 303; // pages redirect to /login
const UNAUTH: u16 = 401; // the API answers with a problem document
const DENIED: u16 = 403;
const INVALID: u16 = 422; // allowed, but the empty form is refused field by field
const CONFLICT: u16 = 409; // allowed, but refused for a reason (an admin cannot disable themself)
const MOVED: u16 = 303; // allowed: done, back to the page
const NOT_FOUND: u16 = 404;

/// (method, path, [anonymous, admin, operator, viewer, customer])
const MATRIX: &[(&str, &str, [u16; 5])] = &[
    ("GET", "/admin", [SIGN_IN, OK, OK, OK, DENIED]),
    ("GET", "/admin/users", [SIGN_IN, OK, DENIED, DENIED, DENIED]),
    (
        "GET",
        "/admin/users/new",
        [SIGN_IN, OK, DENIED, DENIED, DENIED],
    ),
    (
        "GET",
        "/admin/users/1",
        [SIGN_IN, OK, DENIED, DENIED, DENIED],
    ),
    (
        "POST",
        "/admin/users",
        [DENIED, INVALID, DENIED, DENIED, DENIED],
    ),
    (
        "POST",
        "/admin/users/1/role",
        [DENIED, INVALID, DENIED, DENIED, DENIED],
    ),
    (
        "POST",
        "/admin/users/1/disable",
        [DENIED, CONFLICT, DENIED, DENIED, DENIED],
    ),
    (
        "POST",
        "/admin/users/2/enable",
        [DENIED, MOVED, DENIED, DENIED, DENIED],
    ),
    (
        "POST",
        "/admin/users/2/password",
        [DENIED, INVALID, DENIED, DENIED, DENIED],
    ),
    (
        "POST",
        "/admin/tokens/999/revoke",
        [DENIED, NOT_FOUND, DENIED, DENIED, DENIED],
    ),
    ("GET", "/admin/customers", [SIGN_IN, OK, OK, OK, DENIED]),
    ("GET", "/admin/customers.csv", [SIGN_IN, OK, OK, OK, DENIED]),
    (
        "GET",
        "/admin/customers/new",
        [SIGN_IN, OK, OK, DENIED, DENIED],
    ),
    (
        "POST",
        "/admin/customers",
        [DENIED, INVALID, INVALID, DENIED, DENIED],
    ),
    (
        "GET",
        "/admin/customers/CUS-none",
        [SIGN_IN, NOT_FOUND, NOT_FOUND, NOT_FOUND, DENIED],
    ),
    (
        "POST",
        "/admin/customers/CUS-none/edit",
        [DENIED, NOT_FOUND, NOT_FOUND, DENIED, DENIED],
    ),
    ("GET", "/portal", [SIGN_IN, DENIED, DENIED, DENIED, OK]),
    (
        "GET",
        "/portal/catalog",
        [SIGN_IN, DENIED, DENIED, DENIED, OK],
    ),
    ("GET", "/portal/hire", [SIGN_IN, DENIED, DENIED, DENIED, OK]),
    (
        "GET",
        "/portal/billing",
        [SIGN_IN, DENIED, DENIED, DENIED, OK],
    ),
    (
        "GET",
        "/portal/subscriptions/SUB-none",
        [SIGN_IN, DENIED, DENIED, DENIED, NOT_FOUND],
    ),
    (
        "GET",
        "/portal/invoices/INV-ID-none",
        [SIGN_IN, DENIED, DENIED, DENIED, NOT_FOUND],
    ),
    (
        "GET",
        "/admin/customers/CUS-none/hire",
        [SIGN_IN, NOT_FOUND, NOT_FOUND, DENIED, DENIED],
    ),
    (
        "GET",
        "/admin/subscriptions/SUB-none",
        [SIGN_IN, NOT_FOUND, NOT_FOUND, NOT_FOUND, DENIED],
    ),
    (
        "POST",
        "/admin/subscriptions/SUB-none/cancel",
        [DENIED, NOT_FOUND, NOT_FOUND, DENIED, DENIED],
    ),
    (
        "GET",
        "/admin/receipts/RCT-ID-none",
        [SIGN_IN, NOT_FOUND, NOT_FOUND, NOT_FOUND, DENIED],
    ),
    ("GET", "/api/v1/payments/config", [UNAUTH, OK, OK, OK, OK]),
    ("GET", "/account/tokens", [SIGN_IN, OK, OK, OK, OK]),
    ("GET", "/account/password", [SIGN_IN, OK, OK, OK, OK]),
    ("GET", "/api/v1/me", [UNAUTH, OK, OK, OK, OK]),
];

async fn route_by_role_matrix(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let anonymous = app.client();
    let admin = app.admin().await;
    let (operator, _) = app.user_with_role("operator").await;
    let (viewer, _) = app.user_with_role("viewer").await;
    let (customer, _) = app.user_with_role("customer").await;
    let clients = [
        ("anonymous", &anonymous),
        ("admin", &admin),
        ("operator", &operator),
        ("viewer", &viewer),
        ("customer", &customer),
    ];

    let mut failures = vec![];
    for (method, path, expected) in MATRIX {
        for (i, (who, client)) in clients.iter().enumerate() {
            let res = match *method {
                "GET" => client.get(path).await,
                _ if *who == "anonymous" => client.post_raw(path, &[]).await,
                _ => client.post_form(path, &[]).await,
            };
            let got = res.status().as_u16();
            if got != expected[i] {
                failures.push(format!(
                    "{method} {path} as {who}: expected {}, got {got}",
                    expected[i]
                ));
            }
            if got == SIGN_IN && expected[i] == SIGN_IN && *method == "GET" {
                assert!(
                    location(&res).starts_with("/login?next="),
                    "{method} {path}: {}",
                    location(&res)
                );
            }
            if got == UNAUTH {
                assert_eq!(res.headers()["content-type"], "application/problem+json");
            }
        }
    }
    assert!(
        failures.is_empty(),
        "role matrix mismatches:\n{}",
        failures.join("\n")
    );
}

async fn customers_never_see_admin_pages(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let (customer, _) = app.user_with_role("customer").await;
    let (status, body) = customer.page("/admin").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body.contains("This area is for agentdesk staff."));
    assert!(
        body.contains("Reference:"),
        "error pages show the correlation id"
    );
    let (_, portal) = customer.page("/portal").await;
    assert!(
        !portal.contains("href=\"/admin"),
        "no staff links in the customer's navigation"
    );
    let (viewer, _) = app.user_with_role("viewer").await;
    let (_, dash) = viewer.page("/admin").await;
    assert!(dash.contains("You can look at everything"));
    assert!(
        !dash.contains("href=\"/admin/users\""),
        "viewers get no Users link"
    );
}
