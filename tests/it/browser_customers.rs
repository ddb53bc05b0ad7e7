//! The customers journey in headless Chromium: search the list, create a customer with the live
//! GSTIN check and a refused value, edit it; every page at desktop and phone width, light and dark,
//! without sideways scrolling.

use std::time::Duration;

use fantoccini::{Client, Locator};
use serde_json::json;

use crate::both_engines;
use crate::browser::{assert_no_sideways_scroll, browser, click, fill, see, see_at, sign_in, snap};
use crate::helpers::*;

both_engines!(operator_searches_creates_and_edits_customers);

/// Looks at the page at 1280 and 390 px, light and dark: saved with AGENTDESK_SCREENSHOTS, and
/// never wider than the window. Back at 1280 px, light, afterwards.
async fn look(c: &Client, name: &str) {
    for (width, height) in [(390, 844), (1280, 900)] {
        c.set_window_size(width, height).await.unwrap();
        for theme in ["dark", "light"] {
            c.execute(
                "document.documentElement.setAttribute('data-theme', arguments[0])",
                vec![json!(theme)],
            )
            .await
            .unwrap();
            tokio::time::sleep(Duration::from_millis(150)).await;
            assert_no_sideways_scroll(c).await;
            snap(c, &format!("{name}-{width}-{theme}")).await;
        }
    }
}

async fn rows(c: &Client) -> usize {
    c.find_all(Locator::Css("#customer-results tbody tr"))
        .await
        .unwrap()
        .len()
}

async fn value_of(c: &Client, css: &str) -> String {
    c.find(Locator::Css(css))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap()
        .unwrap_or_default()
}

async fn operator_searches_creates_and_edits_customers(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let Some((_driver, c)) = browser().await else {
        return;
    };
    let admin = app.admin().await;
    for (name, email, gstin, address) in [
        (
            "Sri Venkateswara Multi-Speciality Hospitals and Research Centre Private Limited",
            "accounts.payable.department@sri-venkateswara-hospitals.example",
            "36AABCS1429B1Z3",
            "Plot 14, Road No. 2, Banjara Hills\nHyderabad 500034\nTelangana",
        ),
        ("Acme Clinic", "desk@acme.example", "", ""),
        (
            "Moonlight Labs",
            "hello@moon.example",
            "07AAACM1234A1Z5",
            "Connaught Place\nNew Delhi",
        ),
    ] {
        let res = admin
            .post_form(
                "/admin/customers",
                &[
                    ("name", name),
                    ("email", email),
                    ("gstin", gstin),
                    ("billing_address", address),
                ],
            )
            .await;
        assert_eq!(res.status(), reqwest::StatusCode::SEE_OTHER);
    }
    let (_, operator) = app.user_with_role("operator").await;
    sign_in(&c, &app.base, &operator, PASSWORD, "Dashboard").await;

    // The list, narrowed by the live search.
    click(&c, "nav a[href='/admin/customers']").await;
    see(&c, "New customer").await;
    assert_eq!(rows(&c).await, 3);
    look(&c, "customers-list").await;
    fill(&c, "#field-q", "venkat").await;
    for _ in 0..50 {
        if rows(&c).await == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(rows(&c).await, 1, "search narrowed the list");
    see(&c, "Telangana").await;
    look(&c, "customers-search").await;

    // A new customer: the GSTIN's state shows as the field is left; a wrong one is refused next
    // to the field and the rest stays typed.
    click(&c, "a[href='/admin/customers/new']").await;
    see(&c, "Create customer").await;
    fill(&c, "#field-name", "Sunrise Clinic").await;
    fill(&c, "#field-email", "desk@sunrise.example").await;
    fill(&c, "#field-billing_address", "12 MG Road\nPune 411001").await;
    fill(&c, "#field-gstin", "27aapfu0939f1zv").await;
    click(&c, "#field-name").await;
    see(&c, "Registered in Maharashtra.").await;
    look(&c, "customer-new").await;
    fill(&c, "#field-gstin", "27AAPFU0939F1Z").await;
    click(&c, "#customer-form button[type=submit]").await;
    see(&c, "exactly 15 characters; this one has 14").await;
    assert_eq!(value_of(&c, "#field-name").await, "Sunrise Clinic");
    assert_eq!(
        value_of(&c, "#field-billing_address").await,
        "12 MG Road\nPune 411001"
    );
    look(&c, "customer-new-errors").await;
    fill(&c, "#field-gstin", "27AAPFU0939F1ZV").await;
    click(&c, "#customer-form button[type=submit]").await;
    see(&c, "Created Sunrise Clinic.").await;
    assert!(
        crate::browser::path(&c)
            .await
            .starts_with("/admin/customers/CUS-")
    );
    see(&c, "Maharashtra").await;
    look(&c, "customer-detail").await;

    // Edit it: the history shows what changed.
    click(&c, "a[href$='/edit']").await;
    see(&c, "Save changes").await;
    fill(&c, "#field-name", "Sunrise Hospitals").await;
    fill(&c, "#field-gstin", "29AAPFU0939F1ZV").await;
    click(&c, "#customer-form button[type=submit]").await;
    see(&c, "Saved the details of Sunrise Hospitals.").await;
    see(&c, "Karnataka").await;
    see(&c, "updated").await;
    look(&c, "customer-edited").await;
    c.execute(
        "document.getElementById('customer-history').scrollIntoView()",
        vec![],
    )
    .await
    .unwrap();
    look(&c, "customer-history").await;

    // The long one's page, with its users section empty.
    click(&c, "nav a[href='/admin/customers']").await;
    see_at(&c, "/admin/customers", "Sunrise Hospitals").await;
    c.find(Locator::XPath("//a[starts-with(., 'Sri Venkateswara')]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    see(&c, "History").await;
    look(&c, "customer-page").await;
    c.close().await.unwrap();
}
