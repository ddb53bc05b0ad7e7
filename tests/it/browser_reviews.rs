//! Reviewing in headless Chromium: a customer opens the review queue, approves a marketing batch
//! with an edited Instagram text, executes it and reads its execution log, rejects another batch
//! with a reason; then an operator approves two waiting items at once after the confirmation.

use serde_json::json;

use crate::agents_fixture as fx;
use crate::both_engines;
use crate::browser::{
    accept_confirm, assert_no_sideways_scroll, browser, click, fill, see, see_at, sign_in, snap,
};
use crate::helpers::*;
use crate::reviews::pending_batch;
use agentdesk::service::generation;

both_engines!(a_customer_reviews_and_executes_and_staff_bulk_approve);

async fn a_customer_reviews_and_executes_and_staff_bulk_approve(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let Some((_driver, c)) = browser().await else {
        return;
    };
    // Four waiting items: two daily posts, a weekly and a monthly batch.
    let (cu, daily) = pending_batch(&app).await;
    let agent = app.text("SELECT id FROM hired_agents").await;
    for (template, frequency, settings) in [
        (
            "marketing.weekly_multichannel_batch.v1",
            "weekly",
            json!({"topics": ["Monsoon hygiene"]}),
        ),
        (
            "marketing.monthly_campaign_pack.v1",
            "monthly",
            json!({"theme": "Diwali care"}),
        ),
        (
            "marketing.daily_micro_post.v1",
            "daily",
            json!({"topic": "Whitening myths"}),
        ),
    ] {
        fx::add_goal(&app, &cu, &agent, template, frequency, settings).await;
    }
    let made = generation::run_due(&app.db, app.now(), None).await.unwrap();
    assert_eq!(made.generated, 3);
    let id_of = |period: &'static str| app.text(period);
    let weekly = id_of("SELECT id FROM deliverables WHERE period_key LIKE 'weekly:%'").await;
    let monthly = id_of("SELECT id FROM deliverables WHERE period_key LIKE 'monthly:%'").await;
    let second_daily = app
        .text("SELECT d.id FROM deliverables d JOIN goal_instances g ON g.id = d.goal_instance_id WHERE CAST(g.settings AS TEXT) LIKE '%Whitening%'")
        .await;

    sign_in(&c, &app.base, &cu.email, PASSWORD, "Acme Clinic").await;
    c.goto(&format!("{}/portal/reviews", app.base))
        .await
        .unwrap();
    see(&c, "Daily micro-post").await;
    see(&c, "Weekly multichannel posting batch").await;
    // Opening an item's preview loads it in place.
    click(
        &c,
        &format!("li:has(a[href$=\"/deliverables/{weekly}\"]) details.review-payload summary"),
    )
    .await;
    see(&c, "Instagram").await;
    see(&c, "/ 2,200 characters").await;
    snap(&c, "reviews-1-customer-queue").await;
    assert_no_sideways_scroll(&c).await;

    // Approve the daily post with an edited Instagram text.
    click(
        &c,
        &format!("a.review-open[href$=\"/deliverables/{daily}\"]"),
    )
    .await;
    see_at(
        &c,
        &format!("/portal/deliverables/{daily}"),
        "Your decision",
    )
    .await;
    snap(&c, "reviews-2-deliverable-pending").await;
    assert_no_sideways_scroll(&c).await;
    click(&c, "details.edit-approve summary").await;
    fill(
        &c,
        "#f-edit-instagram",
        "Floss daily, smile wide! Book a check-up at Acme.",
    )
    .await;
    click(&c, "#approve-edited").await;
    see(&c, "Approved with your edits").await;
    see(&c, "Floss daily, smile wide!").await;
    see(&c, "As the agent drafted it").await;

    // Execute it and read the log.
    click(&c, "#execute-button").await;
    accept_confirm(&c).await;
    see(&c, "The hand-over is queued").await;
    see(&c, "Execution log").await;
    see(&c, "Run 1").await;
    see(&c, "Hand-overs").await;
    snap(&c, "reviews-3-deliverable-executed").await;
    assert_no_sideways_scroll(&c).await;
    assert!(
        app.text("SELECT CAST(payload AS TEXT) FROM outbox")
            .await
            .contains("Floss daily, smile wide!")
    );

    // Reject the weekly batch: first without a reason, then with one.
    c.goto(&format!("{}/portal/deliverables/{weekly}", app.base))
        .await
        .unwrap();
    see(&c, "Your decision").await;
    click(&c, "#reject").await;
    see(&c, "Say why it is rejected").await;
    // The form came back with its error; the navigation's count of waiting items loads after it.
    let badge = c
        .wait()
        .for_element(fantoccini::Locator::Css("li.wide-only .nav-badge"))
        .await
        .expect("the count beside Reviews");
    let count = badge.prop("textContent").await.unwrap().unwrap_or_default();
    assert!(count.ends_with(" waiting"), "{count}");
    assert!(count.starts_with(|ch: char| ch.is_ascii_digit()), "{count}");
    snap(&c, "reviews-4-reject-needs-reason").await;
    fill(&c, "#reject-notes", "The tone does not fit our clinic.").await;
    click(&c, "#reject").await;
    see(&c, "Rejected:").await;
    see(&c, "The tone does not fit our clinic.").await;

    // An operator approves the two left at once, after the confirmation listing them.
    let (_, op_email) = app.user_with_role("operator").await;
    c.delete_all_cookies().await.unwrap();
    sign_in(&c, &app.base, &op_email, PASSWORD, "Dashboard").await;
    c.goto(&format!("{}/admin/reviews", app.base))
        .await
        .unwrap();
    see(&c, "Monthly campaign pack").await;
    snap(&c, "reviews-5-staff-queue").await;
    assert_no_sideways_scroll(&c).await;
    click(&c, &format!("input[name=ids][value=\"{monthly}\"]")).await;
    click(&c, &format!("input[name=ids][value=\"{second_daily}\"]")).await;
    click(&c, "#bulk-approve").await;
    see(&c, "Approve 2 items?").await;
    snap(&c, "reviews-6-bulk-confirm").await;
    click(&c, "#confirm-approve").await;
    see(&c, "Approved 2 items.").await;
    see(&c, "Nothing waits for review").await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM approvals WHERE on_behalf = TRUE")
            .await,
        2
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM approvals").await, 4);
}

both_engines!(a_trader_runs_a_goal_now_and_a_failed_check_is_never_executed);

/// "Run now" on an on-demand trade intent that breaks the per-order limit: the draft shows which
/// check failed, and approved as it is, its execution is denied and the denial listed.
async fn a_trader_runs_a_goal_now_and_a_failed_check_is_never_executed(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let Some((_driver, c)) = browser().await else {
        return;
    };
    let cu = crate::billing::customer(&app).await;
    let agent = fx::configured_trading(&app, &cu, "Desk").await;
    fx::add_goal(
        &app,
        &cu,
        &agent,
        "trading.trade_intent_draft.v1",
        "on_demand",
        json!({"coin": "ETH", "side": "buy", "units": 5}),
    )
    .await;
    sign_in(&c, &app.base, &cu.email, PASSWORD, "Acme Clinic").await;
    c.goto(&format!("{}/portal/agents/{agent}/goals", app.base))
        .await
        .unwrap();
    see(&c, "Runs when you ask for it").await;
    snap(&c, "reviews-7-goal-run-now").await;
    click(&c, "button.run-now").await;
    see(&c, "A new draft is ready").await;
    see(&c, "Trade intent draft: ETH buy 5").await;
    see(
        &c,
        "This trade intent failed its checks: as it is, it will not be executed.",
    )
    .await;
    see(&c, "Failed: units within the per-order limit").await;
    snap(&c, "reviews-8-trade-intent-failed-check").await;
    assert_no_sideways_scroll(&c).await;
    // Approved as drafted, it is refused at execution and the refusal is listed.
    click(&c, "#approve").await;
    see(&c, "Approved: Trade intent draft").await;
    click(&c, "#execute-button").await;
    accept_confirm(&c).await;
    see(&c, "Execution denied").await;
    see(&c, "guardrail_failed").await;
    see(&c, "Denied executions").await;
    snap(&c, "reviews-9-denied").await;
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox").await, 0);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM execution_denials WHERE reason = 'guardrail_failed'")
            .await,
        1
    );
    // The goal's card lists the draft.
    c.goto(&format!("{}/portal/agents/{agent}/goals", app.base))
        .await
        .unwrap();
    see(&c, "Recent deliverables").await;
}
