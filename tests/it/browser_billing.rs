//! The hiring journey in headless Chromium: a customer browses the catalog, hires the trading agent
//! with the coupon (after a wrong one), opens the invoice, prints it on one A4 page and cancels at
//! period end.

use fantoccini::Locator;
use fantoccini::wd::{PrintConfiguration, PrintSize};

use crate::both_engines;
use crate::browser::{
    accept_confirm, assert_no_sideways_scroll, browser, click, fill, path, see, sign_in, snap,
};
use crate::helpers::*;

both_engines!(a_customer_hires_sees_and_prints_the_invoice_and_cancels);

/// Pages of a PDF that Chromium printed.
fn pdf_pages(pdf: &[u8]) -> usize {
    let text = String::from_utf8_lossy(pdf);
    text.match_indices("/Type /Page")
        .filter(|(i, _)| !text[i + 11..].starts_with('s'))
        .count()
}

async fn a_customer_hires_sees_and_prints_the_invoice_and_cancels(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let Some((_driver, c)) = browser().await else {
        return;
    };
    let (_, email) = app.user_with_role("customer").await;
    sign_in(&c, &app.base, &email, PASSWORD, "Acme Clinic").await;

    // The catalog, then the trading agent's page.
    click(&c, "main a[href='/portal/catalog']").await;
    see(&c, "Agents you can hire").await;
    snap(&c, "billing-1-catalog").await;
    assert_no_sideways_scroll(&c).await;
    click(&c, "a[href='/portal/catalog/trading.delta_futures.v1']").await;
    see(&c, "What you will configure").await;
    snap(&c, "billing-1b-type").await;
    assert_no_sideways_scroll(&c).await;
    click(
        &c,
        "a[href='/portal/hire?agent_type_id=trading.delta_futures.v1']",
    )
    .await;
    see(&c, "Choose the agent and how long").await;

    // A wrong coupon first: the error sits next to the field.
    click(&c, "input[name=duration][value=quarterly]").await;
    fill(&c, "#field-coupon_code", "WAOOAW99").await;
    click(&c, "#hire-form button[type=submit]").await;
    see(&c, "Invalid coupon code.").await;
    let error = c
        .find(Locator::Css("#error-coupon_code"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(error, "Invalid coupon code.");
    snap(&c, "billing-2-wrong-coupon").await;
    fill(&c, "#field-coupon_code", "WAOOAW100").await;
    click(&c, "#hire-form button[type=submit]").await;
    see(&c, "Confirm and hire").await;
    see(&c, "₹36,000.00").await;
    snap(&c, "billing-3-summary").await;
    assert_no_sideways_scroll(&c).await;
    click(&c, "#confirm-form button[type=submit]").await;
    see(&c, "Hired.").await;
    assert!(path(&c).await.starts_with("/portal/subscriptions/SUB-"));
    see(&c, "trading.delta_futures.v1@1.0.0").await;
    snap(&c, "billing-4-subscription").await;

    // The invoice, and its print: one A4 page.
    click(&c, "a[href^='/portal/invoices/']").await;
    see(&c, "Tax invoice").await;
    see(&c, "Coupon discount").await;
    snap(&c, "billing-5-invoice").await;
    assert_no_sideways_scroll(&c).await;
    let print = PrintConfiguration::builder()
        .size(PrintSize::A4)
        .build()
        .unwrap();
    let pdf = c.print(print).await.unwrap();
    assert_eq!(pdf_pages(&pdf), 1, "the invoice prints on one A4 page");
    let print_button = c.find(Locator::Css("[data-print]")).await.unwrap();
    assert!(
        print_button.is_displayed().await.unwrap(),
        "Print shows when scripts run"
    );

    // Back to the subscription: cancel at period end, after confirming.
    c.back().await.unwrap();
    see(&c, "Renews automatically").await;
    click(&c, "form[action$='/cancel'] button[type=submit]").await;
    accept_confirm(&c).await;
    see(&c, "Cancelled at period end").await;
    see(&c, "Keep this subscription").await;
    snap(&c, "billing-6-canceled").await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM subscriptions WHERE cancel_at_period_end = TRUE")
            .await,
        1
    );

    // Billing lists the subscription and its documents.
    c.goto(&format!("{}/portal/billing", app.base))
        .await
        .unwrap();
    see(&c, "Company details").await;
    see(&c, "INV-").await;
    snap(&c, "billing-7-portal-billing").await;
    assert_no_sideways_scroll(&c).await;
    click(&c, "main a[href^='/portal/receipts/']").await;
    see(&c, "Payment receipt").await;
    snap(&c, "billing-7b-receipt").await;
    assert_no_sideways_scroll(&c).await;

    // Staff see it all on the customer's page, each linked.
    let (_, op_email) = app.user_with_role("operator").await;
    c.delete_all_cookies().await.unwrap();
    sign_in(&c, &app.base, &op_email, PASSWORD, "Dashboard").await;
    let customer_id = app.text("SELECT customer_id FROM subscriptions").await;
    c.goto(&format!("{}/admin/customers/{customer_id}", app.base))
        .await
        .unwrap();
    see(&c, "Subscriptions").await;
    see(&c, "Hire an agent for this customer").await;
    snap(&c, "billing-8-admin-customer").await;
    assert_no_sideways_scroll(&c).await;
    click(&c, "main a[href^='/admin/subscriptions/']").await;
    see(&c, "Keep this subscription").await;
    snap(&c, "billing-9-admin-subscription").await;
    assert_no_sideways_scroll(&c).await;
}
