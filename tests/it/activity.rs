//! What staff read in the activity tables and the catalog list: changes path by path (never raw
//! JSON), sign-ins that can be hidden, and which version of a type is live.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both_engines;
use crate::helpers::*;

both_engines!(
    dashboard_hides_sign_ins_on_request,
    agent_type_changes_read_as_paths_not_json,
    list_shows_the_published_version_and_a_pending_draft,
);

/// The "Recent activity" section of the dashboard.
fn activity(page: &str) -> &str {
    let start = page.find("id=\"activity\"").expect("an activity section");
    let end = page[start..].find("</section>").unwrap() + start;
    &page[start..end]
}

async fn dashboard_hides_sign_ins_on_request(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let admin = app.admin().await;
    let res = admin
        .post_form(
            "/admin/users",
            &[
                ("email", "early@example.com"),
                ("role", "viewer"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    app.client().login(ADMIN_EMAIL, "wrong-password-123").await;
    // More sign-ins than the dashboard lists: filtering after the query would lose the creation.
    for _ in 0..16 {
        app.admin().await;
    }
    let (_, all) = admin.page("/admin").await;
    let all = activity(&all);
    assert!(all.contains("login succeeded"), "{all}");
    assert!(!all.contains("early@example.com"), "pushed out by sign-ins");
    assert!(all.contains("Hide sign-ins") && !all.contains("checked"));

    let (status, page) = admin.page("/admin?hide=logins").await;
    assert_eq!(status, StatusCode::OK);
    let hidden = activity(&page);
    for action in [
        "login succeeded",
        "login failed",
        "login throttled",
        "logout",
    ] {
        assert!(!hidden.contains(action), "{action} hidden: {hidden}");
    }
    assert!(hidden.contains("created") && hidden.contains("early@example.com"));
    assert!(
        hidden.contains("name=\"hide\" value=\"logins\" checked"),
        "{hidden}"
    );

    // htmx asks for the same page (the section is picked out of it); without the flag all is back.
    let (_, again) = admin.page("/admin?hide=").await;
    assert!(activity(&again).contains("login succeeded"));
}

async fn agent_type_changes_read_as_paths_not_json(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let admin = app.admin().await;
    let token = admin.api_token().await;
    let api = |method: reqwest::Method, path: &str, body: Value| {
        admin
            .http
            .request(method, admin.url(&format!("/api/v1{path}")))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };
    let res = api(
        reqwest::Method::POST,
        "/agent-types",
        json!({"copy_from": "marketing.healthcare.v1@1.0.0", "version": "1.1.0"}),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let mut doc: Value = serde_json::from_str(include_str!(
        "../../src/domain/builtin/marketing.healthcare.v1@1.0.0.json"
    ))
    .unwrap();
    doc["version"] = json!("1.1.0");
    doc["display_name"] = json!("Healthcare marketing, revised");
    doc["config_schema"]["fields"][0]["label"] = json!("What patients call the agent");
    let res = api(
        reqwest::Method::PUT,
        "/agent-types/marketing.healthcare.v1/versions/1.1.0",
        doc,
    )
    .await
    .unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    let (_, page) = admin.page("/admin").await;
    let table = activity(&page);
    let edit = "definition.config_schema.fields[nickname].label</code>: \
                <del>Agent nickname</del> → <ins>What patients call the agent</ins>";
    assert!(table.contains(edit), "{table}");
    assert!(table.contains(
        "definition.display_name</code>: <del>Healthcare marketing</del> → \
         <ins>Healthcare marketing, revised</ins>"
    ));
    // The copy lists its key fields, not the whole definition.
    assert!(table.contains("definition.version</code>: <ins>1.1.0</ins>"));
    for raw in ["{\"", "{&#34;", "{&quot;", "[{"] {
        assert!(!table.contains(raw), "no raw JSON ({raw}) in {table}");
    }
}

async fn list_shows_the_published_version_and_a_pending_draft(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let admin = app.admin().await;
    let res = admin
        .post_form(
            "/admin/agent-types",
            &[
                ("copy_from", "marketing.healthcare.v1@1.0.0"),
                ("version", "1.1.0"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, list) = admin.page("/admin/agent-types").await;
    let list = list.replace("<wbr>", "");
    let start = list.find("<code>marketing.healthcare.v1</code>").unwrap();
    let row = &list[start..start + list[start..].find("</tr>").unwrap()];
    assert!(
        row.contains(">1.0.0</a>") && !row.contains("1.1.0"),
        "{row}"
    );
    assert!(row.contains(">published</span>"), "{row}");
    assert!(row.contains("draft pending"), "{row}");
    let (_, pending) = admin.page("/admin/agent-types?status=pending").await;
    assert!(pending.contains("Healthcare marketing") && !pending.contains("Delta futures"));
    let (_, dash) = admin.page("/admin").await;
    assert!(dash.contains("<p class=\"stat-value\">1</p><p class=\"stat-label\"><a href=\"/admin/agent-types\">with a draft pending</a>"), "{dash}");

    // Built-ins were published by the system: said so, not left as "by" with nobody after it.
    let (_, v) = admin
        .page("/admin/agent-types/marketing.healthcare.v1/versions/1.0.0")
        .await;
    let start = v.find("<dt>Published</dt>").unwrap();
    let published = &v[start..start + v[start..].find("</dd>").unwrap()];
    assert!(published.contains("by the system"), "{published}");
}
