//! The review pages, through HTTP as people use them: the queues (customer's and staff's, with
//! filters, oldest first and the count in the navigation), a deliverable's page with its payload
//! for people, approve / approve with edits / reject, execution and its log, bulk approval after
//! a confirmation, "Run now" on an on-demand goal, and another customer's items out of reach.

use chrono::Duration;
use reqwest::StatusCode;
use serde_json::json;

use crate::agents_fixture::{self as fx};
use crate::billing::customer;
use crate::helpers::{Engine, PASSWORD, location, spawn_app};
use crate::reviews::pending_batch;
use agentdesk::service::generation;

async fn a_customer_decides_through_the_pages_and_sees_the_execution(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let (c, del) = pending_batch(&app).await;
    let (status, queue) = c.client.page("/portal/reviews").await;
    assert_eq!(status, StatusCode::OK);
    assert!(queue.contains("Daily micro-post"), "{queue}");
    assert!(
        queue.contains("class=\"nav-badge\">1<"),
        "the navigation counts one waiting"
    );
    // The list carries no payloads: an item's preview is loaded when it is opened.
    let preview = format!("/portal/deliverables/{del}/preview");
    assert!(queue.contains(&format!("hx-get=\"{preview}\"")), "{queue}");
    assert!(!queue.contains("2,200 characters"), "{queue}");
    let (status, shown) = c.client.fragment(&preview).await;
    assert_eq!(status, StatusCode::OK);
    assert!(shown.contains("Instagram"), "{shown}");
    assert!(shown.contains(" / 2,200 characters"), "{shown}");
    assert!(!shown.contains("<html"), "a fragment: {shown}");
    assert!(
        !shown.contains("marketing_draft_batch_v1"),
        "no raw payload types"
    );
    // Opened without htmx (a new tab), the preview's address leads to the deliverable.
    let res = c.client.get(&preview).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        res.headers()["location"],
        format!("/portal/deliverables/{del}").as_str()
    );

    let page = format!("/portal/deliverables/{del}");
    let (status, body) = c.client.page(&page).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("Your decision"));
    assert!(
        body.contains("name=\"edit.instagram\""),
        "the edit form has the channel's text"
    );

    // A rejection without a reason is refused next to its field; nothing is decided.
    let res = c
        .client
        .post_form(&format!("{page}/reject"), &[("notes", "  ")])
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = res.text().await.unwrap();
    assert!(body.contains("id=\"reject-notes-error\" role=\"status\">Say why it is rejected"));
    // A form shown again after its POST loads the navigation's count once it is up.
    assert!(!body.contains("class=\"nav-badge\""), "{body}");
    assert!(
        body.contains("<span hx-get=\"/nav/waiting\" hx-trigger=\"load\""),
        "{body}"
    );
    let res = c.client.get("/nav/waiting").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let badge = res.text().await.unwrap();
    assert!(badge.contains("<span class=\"nav-badge\">1<"), "{badge}");
    assert!(!badge.contains("<html"), "a fragment: {badge}");
    // Another customer's count is theirs; nobody signed in gets nothing.
    let other = customer(&app).await;
    let (status, theirs) = other.client.page("/nav/waiting").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(theirs.trim(), "", "none waits for them");
    let (status, nobody) = app.client().page("/nav/waiting").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(nobody.trim(), "");
    // An edit over the channel's limit is refused next to it.
    let long = "x".repeat(2300);
    let res = c
        .client
        .post_form(
            &format!("{page}/approve-with-edits"),
            &[("edit.instagram", long.as_str())],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.count("SELECT COUNT(*) FROM approvals").await, 0);

    let res = c
        .client
        .post_form(
            &format!("{page}/approve-with-edits"),
            &[("edit.instagram", "Brush twice a day! #Acme")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), page);
    let (_, body) = c.client.page(&page).await;
    assert!(body.contains("Approved with edits"), "{body}");
    assert!(body.contains("Brush twice a day! #Acme"));
    assert!(body.contains("As the agent drafted it"));
    assert!(body.contains("badge warn\">edited"));
    assert!(
        !body.contains("Your decision"),
        "decided: no more decision forms"
    );

    // A second decision is told who decided first.
    let res = c.client.post_form(&format!("{page}/approve"), &[]).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let body = res.text().await.unwrap();
    assert!(
        body.contains(&format!("Already approved by {}", c.email)),
        "{body}"
    );

    // Execute: the page's form presents the approval id.
    let approval = app.text("SELECT id FROM approvals").await;
    let res = c
        .client
        .post_form(
            &format!("{page}/execute"),
            &[("approval_id", approval.as_str())],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, body) = c.client.page(&page).await;
    assert!(body.contains("id=\"execution-status\">Executed"), "{body}");
    assert!(body.contains("Execution log"));
    assert!(body.contains("Run 1"));
    assert!(body.contains("Hand-overs"));
    assert!(body.contains("Instagram (channel)"), "{body}");
    assert!(
        app.text("SELECT CAST(payload AS TEXT) FROM outbox")
            .await
            .contains("Brush twice a day!"),
        "the hand-over carries the edited text"
    );
    // The queue no longer counts it.
    let (_, queue) = c.client.page("/portal/reviews").await;
    assert!(!queue.contains("class=\"nav-badge\""));
    assert!(queue.contains("you are all caught up"));
}
crate::both_engines!(a_customer_decides_through_the_pages_and_sees_the_execution);

/// The page shows a deliverable's record for its state: nothing decided while it waits, and a
/// rejection with who rejected it and why, to the customer and to staff alike.
async fn a_rejection_shows_who_rejected_and_why(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let (c, del) = pending_batch(&app).await;
    let page = format!("/portal/deliverables/{del}");
    let (_, body) = c.client.page(&page).await;
    assert!(body.contains("Your decision"), "{body}");
    assert!(
        !body.contains("id=\"decision\""),
        "nothing decided yet: {body}"
    );
    assert!(!body.contains("Execution log"), "{body}");

    let res = c
        .client
        .post_form(&format!("{page}/reject"), &[("notes", "Wrong clinic name")])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, body) = c.client.page(&page).await;
    assert!(
        body.contains(&format!("<strong>Rejected</strong> by {}", c.email)),
        "{body}"
    );
    assert!(
        body.contains("<blockquote class=\"decision-notes\">Wrong clinic name</blockquote>"),
        "{body}"
    );
    assert!(!body.contains("Your decision"), "{body}");
    assert!(
        !body.contains("Execution log"),
        "a rejection is never executed"
    );

    let admin = app.admin().await;
    let (status, body) = admin.page(&format!("/admin/deliverables/{del}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.contains(&format!("<strong>Rejected</strong> by {}", c.email)),
        "{body}"
    );
    assert!(body.contains("Wrong clinic name"), "{body}");
}
crate::both_engines!(a_rejection_shows_who_rejected_and_why);

async fn executing_without_the_approval_is_denied_and_listed(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let (c, del) = pending_batch(&app).await;
    let page = format!("/portal/deliverables/{del}");
    let res = c.client.post_form(&format!("{page}/approve"), &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = c
        .client
        .post_form(&format!("{page}/execute"), &[("approval_id", "APR-forged")])
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let body = res.text().await.unwrap();
    assert!(body.contains("Execution denied"), "{body}");
    assert!(body.contains("approval_invalid"));
    assert!(body.contains("Denied executions"));
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM execution_denials").await, 1);
}
crate::both_engines!(executing_without_the_approval_is_denied_and_listed);

async fn staff_filter_the_queue_oldest_first_and_bulk_approve(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let (c, first) = pending_batch(&app).await;
    app.clock.advance(Duration::hours(2));
    let agent = app.text("SELECT id FROM hired_agents").await;
    c.client.login(&c.email, PASSWORD).await;
    fx::add_goal(
        &app,
        &c,
        &agent,
        "marketing.weekly_multichannel_batch.v1",
        "weekly",
        json!({"topics": ["Monsoon hygiene"]}),
    )
    .await;
    generation::run_due(&app.db, app.now(), None).await.unwrap();
    // (Two hours later may be another day: pick the weekly batch by its period.)
    let second = app
        .text("SELECT id FROM deliverables WHERE period_key LIKE 'weekly:%'")
        .await;
    let other = customer(&app).await;
    let admin = app.admin().await;

    let (status, body) = admin.page("/admin/reviews").await;
    assert_eq!(status, StatusCode::OK);
    let (a, b) = (
        body.find(&format!("/admin/deliverables/{first}\""))
            .expect("first"),
        body.find(&format!("/admin/deliverables/{second}\""))
            .expect("second"),
    );
    assert!(a < b, "oldest first");
    assert!(body.contains("waiting 2 h"), "{body}");
    assert!(body.contains("Clinic"), "the agent's name");
    // Staff open any customer's preview; an id that names nothing is a 404.
    let (status, shown) = admin
        .fragment(&format!("/admin/deliverables/{second}/preview"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(shown.contains("Monsoon hygiene"), "{shown}");
    let (status, _) = admin
        .fragment("/admin/deliverables/DEL-nothing/preview")
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Filters: older than an hour leaves the first; another type none; another customer none.
    let (_, body) = admin.page("/admin/reviews?age=1h").await;
    assert!(body.contains(&first) && !body.contains(&format!("/admin/deliverables/{second}\"")));
    // An item's "only this agent's" and "only this customer's" links keep the filters shown.
    for link in [
        format!("/admin/reviews?agent={agent}&#38;age=1h"),
        format!("/admin/reviews?customer={}&#38;age=1h", c.customer_id),
    ] {
        assert!(
            body.contains(&format!("href=\"{link}\"")),
            "{link} in {body}"
        );
    }
    let (_, body) = admin
        .page("/admin/reviews?type=trading.delta_futures.v1")
        .await;
    assert!(body.contains("Nothing matches these filters"));
    let (_, body) = admin
        .page(&format!("/admin/reviews?customer={}", other.customer_id))
        .await;
    assert!(body.contains("Nothing matches these filters"));
    let (_, body) = admin
        .page(&format!("/admin/reviews?customer={}", c.customer_id))
        .await;
    assert!(body.contains(&first) && body.contains(&second));

    // Bulk approve: a confirmation listing both, then one approval record each, on behalf.
    let res = admin
        .post_form(
            "/admin/reviews/bulk",
            &[("ids", first.as_str()), ("ids", second.as_str())],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body = res.text().await.unwrap();
    assert!(body.contains("Approve 2 items?"), "{body}");
    assert!(
        body.contains("Daily micro-post") && body.contains("Weekly multichannel posting batch")
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM approvals").await, 0);
    let res = admin
        .post_form(
            "/admin/reviews/bulk/approve",
            &[("ids", first.as_str()), ("ids", second.as_str())],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, body) = admin.page("/admin/reviews").await;
    assert!(body.contains("Approved 2 items."), "{body}");
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM approvals WHERE on_behalf = TRUE AND decision = 'approved'"
        )
        .await,
        2
    );
    // Approving them again changes nothing and says so.
    let res = admin
        .post_form("/admin/reviews/bulk", &[("ids", first.as_str())])
        .await;
    let body = res.text().await.unwrap();
    assert!(body.contains("Nothing left to approve"), "{body}");
    let (_, body) = admin.page("/admin/reviews?status=approved").await;
    assert!(body.contains(&first) && body.contains(&second));

    // A staff viewer reads the queue but cannot decide.
    let (viewer, _) = app.user_with_role("viewer").await;
    let (status, body) = viewer.page("/admin/reviews?status=all").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!body.contains("Approve selected"));
    let res = viewer
        .post_form(
            &format!("/admin/deliverables/{first}/reject"),
            &[("notes", "no")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}
crate::both_engines!(staff_filter_the_queue_oldest_first_and_bulk_approve);

async fn another_customers_deliverables_are_out_of_reach(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let (_, del) = pending_batch(&app).await;
    let agent = app.text("SELECT id FROM hired_agents").await;
    let intruder = customer(&app).await;
    let page = format!("/portal/deliverables/{del}");
    assert_eq!(intruder.client.page(&page).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        intruder.client.fragment(&format!("{page}/preview")).await.0,
        StatusCode::NOT_FOUND,
        "another customer's preview"
    );
    for (action, fields) in [
        ("approve", vec![]),
        ("reject", vec![("notes", "mine now")]),
        ("approve-with-edits", vec![("edit.instagram", "hijacked")]),
        ("execute", vec![("approval_id", "APR-x")]),
    ] {
        let res = intruder
            .client
            .post_form(&format!("{page}/{action}"), &fields)
            .await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{action}");
    }
    // Staff paths are not theirs either.
    assert_eq!(
        intruder
            .client
            .page(&format!("/admin/deliverables/{del}"))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    // Their queue, even asked for the other agent, shows nothing of it; bulk approval skips it.
    let (_, body) = intruder
        .client
        .page(&format!("/portal/reviews?agent={agent}&status=all"))
        .await;
    assert!(!body.contains(&del));
    let res = intruder
        .client
        .post_form("/portal/reviews/bulk", &[("ids", del.as_str())])
        .await;
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Nothing left to approve")
    );
    let res = intruder
        .client
        .post_form("/portal/reviews/bulk/approve", &[("ids", del.as_str())])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.count("SELECT COUNT(*) FROM approvals").await, 0);
    let res = intruder
        .client
        .post_form(
            &format!("/portal/agents/{agent}/goals/GOI-x/run"),
            &[("_key", "k1")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}
crate::both_engines!(another_customers_deliverables_are_out_of_reach);

async fn run_now_makes_one_draft_per_click(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let c = customer(&app).await;
    let agent = fx::configured_trading(&app, &c, "Desk").await;
    let goal = fx::add_goal(
        &app,
        &c,
        &agent,
        "trading.trade_intent_draft.v1",
        "on_demand",
        json!({"coin": "BTC", "side": "buy", "units": 1}),
    )
    .await;
    // The scheduler never drafts an on-demand goal.
    assert_eq!(
        generation::run_due(&app.db, app.now(), None)
            .await
            .unwrap()
            .generated,
        0
    );
    let (_, body) = c
        .client
        .page(&format!("/portal/agents/{agent}/goals"))
        .await;
    assert!(body.contains("Run now"), "{body}");
    let run = format!("/portal/agents/{agent}/goals/{goal}/run");
    let first = c.client.post_form(&run, &[("_key", "form-1")]).await;
    let again = c.client.post_form(&run, &[("_key", "form-1")]).await;
    assert_eq!(first.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(&first),
        location(&again),
        "a double submit is one draft"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM deliverables").await, 1);
    let (_, body) = c.client.page(&location(&first)).await;
    assert!(body.contains("Trade intent draft: BTC buy 1"), "{body}");
    assert!(body.contains("Units within the per-order limit"));
    c.client.post_form(&run, &[("_key", "form-2")]).await;
    assert_eq!(app.count("SELECT COUNT(*) FROM deliverables").await, 2);
    // The goal's card lists them.
    let (_, body) = c
        .client
        .page(&format!("/portal/agents/{agent}/goals"))
        .await;
    assert!(body.contains("Recent deliverables"));
    assert_eq!(body.matches("Trade intent draft: BTC buy 1").count(), 2);
    // Paused: refused with the reason, nothing made.
    let res = c
        .client
        .post_form(&format!("/portal/agents/{agent}/pause"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = c.client.post_form(&run, &[("_key", "form-3")]).await;
    assert_eq!(location(&res), format!("/portal/agents/{agent}/goals"));
    let (_, body) = c.client.page(&location(&res)).await;
    assert!(body.contains("paused"), "{body}");
    assert_eq!(app.count("SELECT COUNT(*) FROM deliverables").await, 2);
}
crate::both_engines!(run_now_makes_one_draft_per_click);
