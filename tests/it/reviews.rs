//! Decisions on deliverables: approve, approve with edits, reject with a reason; exactly one
//! decision per deliverable however many people decide at once; approvals never change.

use agentdesk::domain::actor::{Actor, Scope};
use agentdesk::domain::billing::settings::BillingSettings;
use agentdesk::domain::deliverable_states::Decision;
use agentdesk::service::generation;
use agentdesk::service::reviews::{self, DecisionInput};
use serde_json::json;

use crate::agents_fixture::{self as fx};
use crate::billing::{CustomerUser, customer};
use crate::helpers::{Engine, TestApp, spawn_app};

/// A customer with a configured marketing agent that has one pending marketing batch.
pub async fn pending_batch(app: &TestApp) -> (CustomerUser, String) {
    let c = customer(app).await;
    let id = fx::hire(app, &c, fx::MARKETING, "Clinic").await;
    let version = app
        .text("SELECT CAST(row_version AS TEXT) FROM hired_agents")
        .await;
    let cred = fx::credential(app, &c, "Instagram", "ig-token").await;
    agentdesk::service::hired_agents::save(
        &app.db,
        &fx::keys(),
        &BillingSettings::default(),
        &fx::actor(app),
        &Scope::Customer(c.customer_id.clone()),
        &id,
        agentdesk::service::hired_agents::Edit {
            theme: Some("light".into()),
            config: Some(json!({"primary_language": "en", "timezone": "UTC", "brand_name": "Acme",
                "offerings_services": ["Dental"], "location": "Pune", "platforms_enabled": ["instagram"],
                "platform_credentials": {"instagram": cred}})),
            row_version: version.parse().ok(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    fx::add_goal(
        app,
        &c,
        &id,
        "marketing.daily_micro_post.v1",
        "daily",
        json!({"topic": "Flossing"}),
    )
    .await;
    let r = generation::run_due(&app.db, app.now(), None).await.unwrap();
    assert_eq!(r.generated, 1);
    (c, r.deliverable_ids[0].clone())
}

fn decision(d: Decision, notes: Option<&str>, edits: Option<serde_json::Value>) -> DecisionInput {
    DecisionInput {
        decision: d,
        notes: notes.map(str::to_string),
        edits,
    }
}

async fn decisions_are_kept_with_both_payloads_and_never_change(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let (c, del) = pending_batch(&app).await;
    let scope = Scope::Customer(c.customer_id.clone());
    let actor = fx::actor(&app);
    let b = BillingSettings::default();
    // A rejection needs its reason; an edit beyond the channel's limit is refused.
    let err = reviews::decide(
        &app.db,
        &b,
        &actor,
        &scope,
        &del,
        &decision(Decision::Reject, Some("  "), None),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("invalid input"), "{err}");
    let too_long = json!({"instagram": "x".repeat(2201)});
    assert!(
        reviews::decide(
            &app.db,
            &b,
            &actor,
            &scope,
            &del,
            &decision(Decision::ApproveWithEdits, None, Some(too_long))
        )
        .await
        .is_err()
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM approvals").await, 0);
    // Approve with an edited Instagram text: both payloads are kept, the edited one is used.
    let edits = json!({"instagram": "Floss daily! #Acme"});
    let done = reviews::decide(
        &app.db,
        &b,
        &actor,
        &scope,
        &del,
        &decision(
            Decision::ApproveWithEdits,
            Some("Shorter"),
            Some(edits.clone()),
        ),
    )
    .await
    .unwrap();
    assert!(!done.replayed);
    assert_eq!(done.deliverable.review_status, "approved");
    assert_eq!(
        done.deliverable.approval_id.as_deref(),
        Some(done.approval.id.as_str())
    );
    let edited = done.deliverable.edited_payload.clone().unwrap().0;
    assert_eq!(edited["variants"][0]["text"], "Floss daily! #Acme");
    assert_ne!(
        done.approval.original_payload.0["variants"][0]["text"],
        "Floss daily! #Acme"
    );
    // The same request again answers the same decision; another one is told who decided.
    let again = reviews::decide(
        &app.db,
        &b,
        &actor,
        &scope,
        &del,
        &decision(Decision::ApproveWithEdits, Some("Shorter"), Some(edits)),
    )
    .await
    .unwrap();
    assert!(again.replayed && again.approval.id == done.approval.id);
    let err = reviews::decide(
        &app.db,
        &b,
        &actor,
        &scope,
        &del,
        &decision(Decision::Reject, Some("No"), None),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("Already approved by"), "{err}");
    // The database refuses to change or delete an approval.
    for sql in [
        "UPDATE approvals SET decision = 'rejected'",
        "DELETE FROM approvals",
    ] {
        let e = app.exec(sql).await.unwrap_err();
        assert!(
            e.contains("append-only") || e.contains("refused"),
            "{sql}: {e}"
        );
    }
    // Another customer's deliverable does not exist for them.
    let other = customer(&app).await;
    let err = reviews::decide(
        &app.db,
        &b,
        &actor,
        &Scope::Customer(other.customer_id.clone()),
        &del,
        &decision(Decision::Approve, None, None),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, agentdesk::error::AppError::NotFound));
}
crate::both_engines!(decisions_are_kept_with_both_payloads_and_never_change);

async fn sixty_four_people_deciding_at_once_make_one_approval(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let (c, del) = pending_batch(&app).await;
    let mut tasks = vec![];
    for i in 0..64 {
        let db = app.db.clone();
        let scope = Scope::Customer(c.customer_id.clone());
        let del = del.clone();
        let actor = Actor::system(format!("race-{i}"), app.now());
        tasks.push(tokio::spawn(async move {
            let d = if i % 2 == 0 {
                decision(Decision::Approve, None, None)
            } else {
                decision(Decision::Reject, Some("Not now"), None)
            };
            reviews::decide(&db, &BillingSettings::default(), &actor, &scope, &del, &d)
                .await
                .map(|r| r.replayed)
        }));
    }
    let mut first = 0;
    for t in tasks {
        if let Ok(false) = t.await.unwrap() {
            first += 1;
        }
    }
    assert_eq!(first, 1, "exactly one decision was made");
    assert_eq!(app.count("SELECT COUNT(*) FROM approvals").await, 1);
}
crate::both_engines!(sixty_four_people_deciding_at_once_make_one_approval);

async fn execution_is_gated_stored_when_denied_and_happens_once(engine: Engine) {
    use agentdesk::service::executions::{self, Outcome};
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let (c, del) = pending_batch(&app).await;
    let scope = Scope::Customer(c.customer_id.clone());
    let b = BillingSettings::default();
    let actor = Actor::system("corr-exec-1", app.now());
    // Not approved yet: a conflict, nothing stored.
    let err = executions::execute(&app.db, &b, &actor, &scope, &del, None)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("only an approved one"), "{err}");
    let done = reviews::decide(
        &app.db,
        &b,
        &actor,
        &scope,
        &del,
        &decision(
            Decision::ApproveWithEdits,
            None,
            Some(json!({"instagram": "Edited for Instagram"})),
        ),
    )
    .await
    .unwrap();
    let approval = done.approval.id.clone();
    // Publishing needs the approval id: without it, and with another one, denied and stored.
    for (presented, reason) in [
        (None, "approval_required"),
        (Some("APR-other"), "approval_invalid"),
    ] {
        match executions::execute(&app.db, &b, &actor, &scope, &del, presented)
            .await
            .unwrap()
        {
            Outcome::Denied { reason: r, denial } => {
                assert_eq!(r.as_str(), reason);
                assert_eq!(denial.correlation_id, "corr-exec-1");
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM execution_denials").await, 2);
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox").await, 0);
    // With its approval: executed in one transaction, the edited text handed over with the
    // credential's reference only.
    let first = executions::execute(&app.db, &b, &actor, &scope, &del, Some(&approval))
        .await
        .unwrap();
    assert!(matches!(
        first,
        Outcome::Executed {
            replayed: false,
            ..
        }
    ));
    assert_eq!(
        app.text("SELECT execution_status FROM deliverables").await,
        "executed"
    );
    let outbox = app.text("SELECT CAST(payload AS TEXT) FROM outbox").await;
    assert!(outbox.contains("Edited for Instagram"), "{outbox}");
    assert!(!outbox.contains("ig-token"));
    let cred = app.text("SELECT credential_ref FROM outbox").await;
    assert!(cred.starts_with("CRED-"));
    assert_eq!(app.count("SELECT COUNT(*) FROM execution_steps").await, 2);
    // Again: the first result, nothing new.
    let again = executions::execute(&app.db, &b, &actor, &scope, &del, Some(&approval))
        .await
        .unwrap();
    assert!(matches!(again, Outcome::Executed { replayed: true, .. }));
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM execution_runs").await, 1);
    // Denials are kept forever.
    assert!(app.exec("DELETE FROM execution_denials").await.is_err());
}
crate::both_engines!(execution_is_gated_stored_when_denied_and_happens_once);

async fn a_trade_intent_that_failed_its_checks_never_runs(engine: Engine) {
    use agentdesk::service::executions::{self, Outcome};
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let c = customer(&app).await;
    let id = fx::configured_trading(&app, &c, "Desk").await;
    fx::add_goal(
        &app,
        &c,
        &id,
        "trading.trade_intent_draft.v1",
        "daily",
        json!({"coin": "BTC", "side": "buy", "units": 5}),
    )
    .await;
    let r = generation::run_due(&app.db, app.now(), None).await.unwrap();
    let del = r.deliverable_ids[0].clone();
    let scope = Scope::Customer(c.customer_id.clone());
    let b = BillingSettings::default();
    let actor = fx::actor(&app);
    let done = reviews::decide(
        &app.db,
        &b,
        &actor,
        &scope,
        &del,
        &decision(Decision::Approve, None, None),
    )
    .await
    .unwrap();
    match executions::execute(&app.db, &b, &actor, &scope, &del, Some(&done.approval.id))
        .await
        .unwrap()
    {
        Outcome::Denied { reason, .. } => assert_eq!(reason.as_str(), "guardrail_failed"),
        other => panic!("{other:?}"),
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox").await, 0);
    assert_eq!(
        app.text("SELECT reason FROM execution_denials").await,
        "guardrail_failed"
    );
}
crate::both_engines!(a_trade_intent_that_failed_its_checks_never_runs);

async fn the_outbox_hands_over_once_and_shows_a_failing_integration(engine: Engine) {
    use agentdesk::service::executions;
    use agentdesk::service::outbox::{self, RecordingDispatcher};
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let (c, del) = pending_batch(&app).await;
    let scope = Scope::Customer(c.customer_id.clone());
    let b = BillingSettings::default();
    let actor = fx::actor(&app);
    let done = reviews::decide(
        &app.db,
        &b,
        &actor,
        &scope,
        &del,
        &decision(Decision::Approve, None, None),
    )
    .await
    .unwrap();
    executions::execute(&app.db, &b, &actor, &scope, &del, Some(&done.approval.id))
        .await
        .unwrap();
    // An integration that cannot act: retried with backoff, then failed for good, visibly.
    app.exec("UPDATE outbox SET credential_ref = NULL")
        .await
        .unwrap();
    let mut now = app.now();
    let first = outbox::drain(&app.db, &RecordingDispatcher, now)
        .await
        .unwrap();
    assert_eq!(first.retried, 1);
    // Not due again before its backoff.
    let early = outbox::drain(&app.db, &RecordingDispatcher, now)
        .await
        .unwrap();
    assert_eq!(early.retried + early.failed + early.delivered, 0);
    for _ in 0..4 {
        now += chrono::Duration::hours(1);
        outbox::drain(&app.db, &RecordingDispatcher, now)
            .await
            .unwrap();
    }
    assert_eq!(app.text("SELECT status FROM outbox").await, "failed");
    assert_eq!(
        app.count("SELECT CAST(attempts AS BIGINT) FROM outbox")
            .await,
        5
    );
    assert!(
        app.text("SELECT last_error FROM outbox")
            .await
            .contains("no stored credential")
    );
    assert_eq!(
        app.text("SELECT execution_status FROM deliverables").await,
        "failed"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'deliverable.execution_failed'")
            .await,
        1
    );
    // A failed execution may be tried again: the channel's hand-over is queued again, not doubled.
    executions::execute(&app.db, &b, &actor, &scope, &del, Some(&done.approval.id))
        .await
        .unwrap();
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox").await, 1);
    assert_eq!(app.text("SELECT status FROM outbox").await, "pending");
    assert_eq!(
        app.text("SELECT execution_status FROM deliverables").await,
        "executed"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM execution_runs").await,
        2,
        "each run has its log"
    );
    let ok = outbox::drain(&app.db, &RecordingDispatcher, now)
        .await
        .unwrap();
    assert_eq!(ok.retried, 1, "still no credential: retried again");
}
crate::both_engines!(the_outbox_hands_over_once_and_shows_a_failing_integration);
