//! `/api/v1/openapi.json`: the OpenAPI 3.1 document covers every route, is a valid OpenAPI 3.1
//! document, and tells the truth about what the API answers; `/api/docs` shows it.
//!
//! How "every route is in the document" is made to fail when someone forgets: actix-web has no
//! public way to list a router's resources and their methods, so instead the router and the document
//! come from the same registrations (`agentdesk::web::openapi`). Each `/api/v1` handler is served at
//! the method and path of its own `#[utoipa::path]` annotation, and nothing else: the `/api/v1` scope
//! is opaque (no `.service()` can be added to it) and registered before every other route, so an
//! `/api/v1` route added any other way is never reached (the scope answers 404 for it). What is left
//! to check is checked here, against the running server: every registration is in the document with
//! its method, and no operation twice; for every documented path, a request with a method no route
//! takes answers 405 with an `Allow` that lists exactly the documented methods (so a route with an
//! undocumented method, or a documented operation the router does not serve, fails); and a path
//! under `/api/v1` that no registration names answers 404.

use std::collections::{BTreeMap, BTreeSet};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both_engines;
use crate::helpers::*;

both_engines!(
    openapi_document_is_valid_and_covers_every_route,
    documented_responses_are_what_the_api_answers,
    api_reference_page_is_served_without_inline_script,
);

/// The official OpenAPI 3.1 schema (see tests/fixtures/openapi/README.md).
const OAS_31_SCHEMA: &str = include_str!("../fixtures/openapi/oas-3.1-schema-2025-11-23.json");

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

async fn fetch_document(app: &TestApp) -> Value {
    let res = app.client().get("/api/v1/openapi.json").await;
    assert_eq!(res.status(), StatusCode::OK, "public, no token needed");
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    res.json().await.unwrap()
}

/// Every (METHOD, path) the document describes.
fn operations(doc: &Value) -> BTreeSet<(String, String)> {
    let mut ops = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for m in METHODS {
            if item.get(m).is_some() {
                ops.insert((m.to_uppercase(), path.clone()));
            }
        }
    }
    ops
}

/// `{name}` placeholders of a path, in order.
fn placeholders(path: &str) -> Vec<String> {
    path.split('{')
        .skip(1)
        .map(|rest| {
            rest.split_once('}')
                .expect("closed placeholder")
                .0
                .to_string()
        })
        .collect()
}

/// The path with each placeholder filled in.
fn concrete(path: &str) -> String {
    let mut out = path.to_string();
    for p in placeholders(path) {
        out = out.replace(&format!("{{{p}}}"), "x");
    }
    out
}

/// Every `$ref` in the document, with where it is.
fn refs<'a>(v: &'a Value, at: String, out: &mut Vec<(String, &'a str)>) {
    match v {
        Value::Object(o) => {
            for (k, child) in o {
                if k == "$ref"
                    && let Some(r) = child.as_str()
                {
                    out.push((at.clone(), r));
                }
                refs(child, format!("{at}/{k}"), out);
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                refs(child, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// A validator for a schema of the document, its `#/components/...` references resolved in it.
fn validator_for(doc: &Value, schema: &Value) -> jsonschema::Validator {
    let root = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "components": doc["components"],
        "allOf": [schema],
    });
    jsonschema::options()
        .should_validate_formats(true)
        .build(&root)
        .unwrap_or_else(|e| panic!("schema {schema} does not compile: {e}"))
}

async fn openapi_document_is_valid_and_covers_every_route(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let doc = fetch_document(&app).await;

    // (b) OpenAPI 3.1, valid against the official schema.
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    assert_eq!(doc["info"]["title"], "agentdesk");
    assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
    let oas: Value = serde_json::from_str(OAS_31_SCHEMA).unwrap();
    assert_eq!(
        oas["$id"],
        "https://spec.openapis.org/oas/3.1/schema/2025-11-23"
    );
    let oas = jsonschema::options()
        .should_validate_formats(true)
        .build(&oas)
        .expect("the OpenAPI 3.1 schema compiles");
    let errors: Vec<String> = oas
        .iter_errors(&doc)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "not valid OpenAPI 3.1:\n{}",
        errors.join("\n")
    );
    // The check is live: broken copies are refused (a missing `info`, a response keyed by a word, a
    // parameter in an unknown place, an operation under a made-up method).
    for (pointer, broken) in [
        ("/info", Value::Null),
        (
            "/paths/~1api~1v1~1me/get/responses/ok",
            json!({"description": "x"}),
        ),
        (
            "/paths/~1api~1v1~1me/get/parameters",
            json!([{"name": "x", "in": "body"}]),
        ),
        ("/paths/~1api~1v1~1me/fetch", json!({"responses": {}})),
    ] {
        let mut copy = doc.clone();
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        let parent = copy.pointer_mut(parent).unwrap().as_object_mut().unwrap();
        if broken.is_null() {
            parent.remove(key);
        } else {
            parent.insert(key.to_string(), broken);
        }
        assert!(!oas.is_valid(&copy), "{pointer}: a broken document passed");
    }

    // What the schema cannot see. Every reference resolves inside the document.
    let mut all_refs = vec![];
    refs(&doc, String::new(), &mut all_refs);
    assert!(!all_refs.is_empty());
    for (at, r) in &all_refs {
        let pointer = r
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("{at}: {r} points outside the document"));
        assert!(
            doc.pointer(pointer).is_some(),
            "{at}: {r} resolves to nothing"
        );
    }
    // Each component schema is a JSON Schema 2020-12 that compiles (with its references).
    for (name, schema) in doc["components"]["schemas"].as_object().unwrap() {
        assert!(
            jsonschema::meta::is_valid(schema),
            "components/schemas/{name} is not a JSON Schema"
        );
        validator_for(&doc, schema);
    }
    // The error responses are problem documents (`Problem`, with RFC 7807's members and ours).
    let problem = &doc["components"]["schemas"]["Problem"];
    for key in [
        "type",
        "title",
        "status",
        "detail",
        "instance",
        "correlation_id",
        "code",
        "violations",
    ] {
        assert!(problem["properties"].get(key).is_some(), "Problem.{key}");
    }
    assert_eq!(
        problem["properties"]["violations"]["items"]["$ref"],
        "#/components/schemas/Violation"
    );
    for (name, response) in doc["components"]["responses"].as_object().unwrap() {
        let media = &response["content"]["application/problem+json"];
        assert_eq!(
            media["schema"]["$ref"], "#/components/schemas/Problem",
            "{name}"
        );
        // Its example is a problem document too.
        assert!(
            validator_for(&doc, &media["schema"]).is_valid(&media["example"]),
            "{name}: {}",
            media["example"]
        );
    }
    // Security: the bearer token, the session cookie and, for its writes, the CSRF header.
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    assert_eq!(schemes["session"]["in"], "cookie");
    assert_eq!(schemes["csrf"]["in"], "header");
    assert_eq!(schemes["csrf"]["name"], "X-CSRF-Token");
    let tags: BTreeSet<&str> = doc["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();

    let mut operation_ids = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        assert!(path.starts_with("/api/v1/"), "{path}");
        let names = placeholders(path);
        let unique: BTreeSet<&String> = names.iter().collect();
        assert_eq!(unique.len(), names.len(), "{path}: a placeholder twice");
        for m in METHODS {
            let Some(op) = item.get(m) else { continue };
            let what = format!("{} {path}", m.to_uppercase());
            // Each path's parameters match its placeholders, and path parameters are required.
            let params: Vec<&Value> = item["parameters"]
                .as_array()
                .into_iter()
                .chain(op["parameters"].as_array())
                .flatten()
                .collect();
            let in_path: BTreeSet<&str> = params
                .iter()
                .filter(|p| p["in"] == "path")
                .map(|p| {
                    assert_eq!(p["required"], true, "{what}: path parameter {p}");
                    p["name"].as_str().unwrap()
                })
                .collect();
            let expected: BTreeSet<&str> = names.iter().map(String::as_str).collect();
            assert_eq!(in_path, expected, "{what}: parameters vs placeholders");
            assert!(
                operation_ids.insert(op["operationId"].as_str().expect("an operationId")),
                "{what}: operationId {} twice",
                op["operationId"]
            );
            assert!(
                op["summary"].as_str().is_some_and(|s| !s.is_empty()),
                "{what}: summary"
            );
            for t in op["tags"].as_array().expect("tagged") {
                assert!(
                    tags.contains(t.as_str().unwrap()),
                    "{what}: tag {t} is not declared"
                );
            }
            let security = op["security"].as_array().expect("security");
            for requirement in security {
                for scheme in requirement.as_object().unwrap().keys() {
                    assert!(schemes.get(scheme).is_some(), "{what}: scheme {scheme}");
                }
            }
            let public = security.iter().any(|r| r.as_object().unwrap().is_empty());
            let responses = op["responses"].as_object().unwrap();
            assert!(
                responses.keys().any(|s| s.starts_with('2')),
                "{what}: no success response"
            );
            if !public {
                for status in ["401", "403"] {
                    assert!(responses.contains_key(status), "{what}: {status}");
                }
                // Writes through the cookie need the CSRF header.
                if m != "get" {
                    assert!(
                        security
                            .iter()
                            .any(|r| r.get("session").is_some() && r.get("csrf").is_some()),
                        "{what}: {security:?}"
                    );
                }
            }
        }
    }
    assert_eq!(
        doc["paths"]["/api/v1/openapi.json"]["get"]["security"],
        json!([{}]),
        "the document itself is public"
    );

    // (a) The registrations the router is built from are each in the document, once.
    let documented = operations(&doc);
    let mut registered = BTreeSet::new();
    for e in agentdesk::web::openapi::all_endpoints() {
        for m in &e.methods {
            let m = serde_json::to_value(m).unwrap();
            let op = (m.as_str().unwrap().to_uppercase(), e.path.clone());
            assert!(
                documented.contains(&op),
                "{op:?} is served but not documented"
            );
            assert!(registered.insert(op.clone()), "{op:?} is registered twice");
        }
    }
    assert_eq!(registered, documented, "documented but not registered");
    for (method, path) in [
        ("GET", "/api/v1/me"),
        ("GET", "/api/v1/agent-types"),
        ("POST", "/api/v1/agent-types"),
        ("PUT", "/api/v1/agent-types/{type_id}"),
        (
            "POST",
            "/api/v1/agent-types/{type_id}/versions/{version}/publish",
        ),
        ("GET", "/api/v1/openapi.json"),
    ] {
        assert!(
            documented.contains(&(method.to_string(), path.to_string())),
            "{method} {path}"
        );
    }

    // The running router serves each documented path with exactly the documented methods: a method
    // no route takes answers 405 and `Allow` names the routes' methods. (A bearer header, any, lets
    // the request past the CSRF check to the router.)
    let mut by_path: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (method, path) in &documented {
        by_path.entry(path).or_default().insert(method);
    }
    let probe = reqwest::Method::from_bytes(b"PROBE").unwrap();
    let http = reqwest::Client::new();
    for (path, methods) in &by_path {
        let res = http
            .request(probe.clone(), format!("{}{}", app.base, concrete(path)))
            .bearer_auth("not-a-token")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED, "{path}");
        let allow: BTreeSet<String> = res.headers()["allow"]
            .to_str()
            .unwrap()
            .split(',')
            .map(|m| m.trim().to_string())
            .collect();
        let methods: BTreeSet<String> = methods.iter().map(|m| m.to_string()).collect();
        assert_eq!(allow, methods, "{path}: routed methods vs documented ones");
    }
    // Anything else under /api/v1 is not served at all.
    for path in ["/api/v1/nowhere", "/api/v1/agent-types/x/y", "/api/v1"] {
        let res = http
            .request(probe.clone(), format!("{}{path}", app.base))
            .bearer_auth("not-a-token")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
    }
}

/// Checks answers against the document: the status is documented for the operation, the media type
/// is the documented one, the body validates against the documented schema.
struct Checker {
    doc: Value,
    /// Operations whose documented success answer was checked.
    succeeded: BTreeSet<(String, String)>,
}

impl Checker {
    fn check(
        &mut self,
        method: &str,
        template: &str,
        status: StatusCode,
        content_type: &str,
        headers: &reqwest::header::HeaderMap,
        body: &Value,
    ) {
        let what = format!("{method} {template} → {status}");
        let op = &self.doc["paths"][template][method.to_lowercase()];
        assert!(op.is_object(), "{what}: not documented");
        let mut response = &op["responses"][status.as_str()];
        assert!(response.is_object(), "{what}: status not documented");
        if let Some(r) = response["$ref"].as_str() {
            response = self.doc.pointer(&r[1..]).unwrap();
        }
        let media = content_type.split(';').next().unwrap().trim();
        let schema = &response["content"][media]["schema"];
        assert!(
            schema.is_object(),
            "{what}: answered {media}, documented {}",
            response["content"]
        );
        let validator = validator_for(&self.doc, schema);
        let errors: Vec<String> = validator
            .iter_errors(body)
            .map(|e| format!("{}: {e}", e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{what}: the body does not match the document:\n{}\n{body}",
            errors.join("\n")
        );
        for name in response["headers"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, _)| k)
        {
            assert!(headers.contains_key(name.as_str()), "{what}: header {name}");
        }
        if status.is_success() {
            self.succeeded
                .insert((method.to_string(), template.to_string()));
        }
    }
}

struct Caller<'a> {
    app: &'a TestApp,
    token: Option<String>,
}

impl Caller<'_> {
    /// Calls `template` with its placeholders filled from `args`, checks the answer against the
    /// document, and returns the status and body.
    async fn call(
        &self,
        checker: &mut Checker,
        method: &str,
        template: &str,
        args: &[&str],
        body: Option<Body>,
    ) -> (StatusCode, Value) {
        let mut path = template.to_string();
        let names = placeholders(template);
        assert_eq!(names.len(), args.len(), "{template}");
        for (name, arg) in names.iter().zip(args) {
            path = path.replace(&format!("{{{name}}}"), arg);
        }
        let mut req = reqwest::Client::new().request(
            reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
            format!("{}{path}", self.app.base),
        );
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        match body {
            Some(Body::Json(v)) => req = req.json(&v),
            Some(Body::Raw(s)) => {
                req = req.header("content-type", "application/json").body(s);
            }
            None => {}
        }
        let res = req.send().await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let content_type = headers
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        let text = res.text().await.unwrap();
        // Documents served as HTML files are checked as strings; everything else is JSON.
        let value: Value = if content_type.starts_with("text/html") {
            Value::String(text)
        } else {
            serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{method} {path}: not JSON ({e}): {text}"))
        };
        let template = template.split('?').next().unwrap();
        checker.check(method, template, status, &content_type, &headers, &value);
        (status, value)
    }
}

impl Caller<'_> {
    /// [`Caller::call`], which must answer `status`; the body.
    async fn expect(
        &self,
        checker: &mut Checker,
        method: &str,
        template: &str,
        args: &[&str],
        body: Option<Body>,
        status: StatusCode,
    ) -> Value {
        let (got, body) = self.call(checker, method, template, args, body).await;
        assert_eq!(got, status, "{method} {template} {args:?}: {body}");
        body
    }
}

enum Body {
    Json(Value),
    Raw(&'static str),
}

fn minimal(version: &str) -> Value {
    json!({
        "agent_type_id": "support.helpdesk.v1", "version": version, "display_name": "Help desk",
        "config_schema": {"fields": [{"key": "nickname", "label": "Agent nickname", "type": "text", "required": true}]},
        "goal_templates": [{"goal_template_id": "support.daily_digest.v1", "name": "Daily digest", "default_frequency": "daily"}]
    })
}

async fn documented_responses_are_what_the_api_answers(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let mut c = Checker {
        doc: fetch_document(&app).await,
        succeeded: BTreeSet::new(),
    };
    let admin = Caller {
        app: &app,
        token: Some(app.admin().await.api_token().await),
    };
    let nobody = Caller {
        app: &app,
        token: None,
    };
    let (viewer, _) = app.user_with_role("viewer").await;
    let viewer = Caller {
        app: &app,
        token: Some(viewer.api_token().await),
    };
    use Body::{Json, Raw};
    use StatusCode as S;
    const OK: S = S::OK;
    const CREATED: S = S::CREATED;
    const BAD_REQUEST: S = S::BAD_REQUEST;
    const UNAUTHORIZED: S = S::UNAUTHORIZED;
    const FORBIDDEN: S = S::FORBIDDEN;
    const NOT_FOUND: S = S::NOT_FOUND;
    const CONFLICT: S = S::CONFLICT;
    const UNPROCESSABLE_ENTITY: S = S::UNPROCESSABLE_ENTITY;
    const TYPES: &str = "/api/v1/agent-types";
    const TYPE: &str = "/api/v1/agent-types/{type_id}";
    const VERSIONS: &str = "/api/v1/agent-types/{type_id}/versions";
    const VERSION: &str = "/api/v1/agent-types/{type_id}/versions/{version}";
    const PUBLISH: &str = "/api/v1/agent-types/{type_id}/versions/{version}/publish";
    const RETIRE: &str = "/api/v1/agent-types/{type_id}/versions/{version}/retire";
    const TRADING: &str = "trading.delta_futures.v1";
    const HELPDESK: &str = "support.helpdesk.v1";

    let openapi = admin
        .expect(&mut c, "GET", "/api/v1/openapi.json", &[], None, OK)
        .await;
    assert_eq!(openapi["openapi"], c.doc["openapi"]);
    let me = admin
        .expect(&mut c, "GET", "/api/v1/me", &[], None, OK)
        .await;
    assert_eq!(me["email"], ADMIN_EMAIL);
    nobody
        .expect(&mut c, "GET", "/api/v1/me", &[], None, UNAUTHORIZED)
        .await;

    let list = admin.expect(&mut c, "GET", TYPES, &[], None, OK).await;
    assert_eq!(list.as_array().unwrap().len(), 2);
    let slash = "/api/v1/agent-types/";
    admin.expect(&mut c, "GET", slash, &[], None, OK).await;
    let drafts = "/api/v1/agent-types?include=drafts";
    admin.expect(&mut c, "GET", drafts, &[], None, OK).await;
    admin
        .expect(&mut c, "GET", TYPE, &[TRADING], None, OK)
        .await;
    let missing = admin
        .expect(&mut c, "GET", TYPE, &["no.such.type"], None, NOT_FOUND)
        .await;
    assert_eq!(missing["code"], "not_found");
    assert_eq!(missing["instance"], "/api/v1/agent-types/no.such.type");
    admin
        .expect(&mut c, "GET", VERSIONS, &[TRADING], None, OK)
        .await;
    let v1 = &[TRADING, "1.0.0"];
    admin.expect(&mut c, "GET", VERSION, v1, None, OK).await;
    let config = "/api/v1/agent-types/{type_id}/versions/{version}/config.schema.json";
    let schema = admin.expect(&mut c, "GET", config, v1, None, OK).await;
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    let settings = "/api/v1/agent-types/{type_id}/versions/{version}/goal-templates/{template_id}/settings.schema.json";
    let template = &[TRADING, "1.0.0", "trading.trade_intent_draft.v1"];
    admin
        .expect(&mut c, "GET", settings, template, None, OK)
        .await;

    // The lifecycle of a draft, with its refusals.
    let draft = Some(Json(minimal("1.9.0")));
    let created = admin
        .expect(&mut c, "POST", TYPES, &[], draft, CREATED)
        .await;
    assert_eq!(created["status"], "draft");
    let copy = json!({"copy_from": "support.helpdesk.v1@1.9.0", "version": "1.10.0"});
    admin
        .expect(&mut c, "POST", TYPES, &[], Some(Json(copy)), CREATED)
        .await;
    let again = Some(Json(minimal("1.9.0")));
    let exists = admin
        .expect(&mut c, "POST", TYPES, &[], again, CONFLICT)
        .await;
    assert_eq!(exists["code"], "version_exists");
    let mut invalid = minimal("2.0.0");
    invalid["config_schema"]["fields"][0]["type"] = json!("colour");
    let invalid = Some(Json(invalid));
    let problem = admin
        .expect(&mut c, "POST", TYPES, &[], invalid, UNPROCESSABLE_ENTITY)
        .await;
    assert!(
        !problem["violations"].as_array().unwrap().is_empty(),
        "{problem}"
    );
    let broken = Some(Raw("{not json"));
    admin
        .expect(&mut c, "POST", TYPES, &[], broken, BAD_REQUEST)
        .await;
    let mut changed = minimal("1.9.0");
    changed["display_name"] = json!("Help desk (beta)");
    let draft = &[HELPDESK, "1.9.0"];
    let change = || Some(Json(changed.clone()));
    admin
        .expect(&mut c, "PUT", VERSION, draft, change(), OK)
        .await;
    viewer
        .expect(&mut c, "POST", PUBLISH, draft, None, FORBIDDEN)
        .await;
    admin
        .expect(&mut c, "POST", RETIRE, draft, None, CONFLICT)
        .await;
    let published = admin.expect(&mut c, "POST", PUBLISH, draft, None, OK).await;
    assert_eq!(published["status"], "published");
    admin
        .expect(&mut c, "PUT", VERSION, draft, change(), CONFLICT)
        .await;
    let versions = admin
        .expect(&mut c, "GET", VERSIONS, &[HELPDESK], None, OK)
        .await;
    assert_eq!(versions["newest_published"]["version"], "1.9.0");
    let retired = admin.expect(&mut c, "POST", RETIRE, draft, None, OK).await;
    assert_eq!(retired["status"], "retired");
    // Phase 1's PUT: the body's version becomes live; another type's body is refused.
    let live = Some(Json(minimal("3.0.0")));
    admin
        .expect(&mut c, "PUT", TYPE, &[HELPDESK], live, OK)
        .await;
    let mut other = minimal("3.0.1");
    other["agent_type_id"] = json!(TRADING);
    admin
        .expect(
            &mut c,
            "PUT",
            TYPE,
            &[HELPDESK],
            Some(Json(other)),
            BAD_REQUEST,
        )
        .await;

    // Payments, subscriptions, invoices and receipts, as a customer (and the admin's pass).
    let (customer, _) = app.user_with_role("customer").await;
    let customer = Caller {
        app: &app,
        token: Some(customer.api_token().await),
    };
    customer
        .expect(&mut c, "GET", "/api/v1/payments/config", &[], None, OK)
        .await;
    let checkout = "/api/v1/payments/coupon/checkout";
    let hire = || {
        Some(Json(
            json!({"coupon_code": "WAOOAW100", "agent_type_id": TRADING, "duration": "monthly"}),
        ))
    };
    let done = customer
        .expect(&mut c, "POST", checkout, &[], hire(), OK)
        .await;
    let wrong = Some(Json(
        json!({"coupon_code": "NOPE", "agent_type_id": TRADING, "duration": "monthly"}),
    ));
    let refused = customer
        .expect(&mut c, "POST", checkout, &[], wrong, BAD_REQUEST)
        .await;
    assert_eq!(refused["code"], "invalid_coupon");
    let sub = done["subscription_id"].as_str().unwrap();
    let order = done["order_id"].as_str().unwrap();
    let customer_id = customer
        .expect(&mut c, "GET", "/api/v1/me", &[], None, OK)
        .await["customer_id"]
        .as_str()
        .unwrap()
        .to_string();
    const SUB: &str = "/api/v1/payments/subscriptions/{id}";
    customer.expect(&mut c, "GET", SUB, &[sub], None, OK).await;
    customer
        .expect(&mut c, "GET", SUB, &["SUB-none"], None, NOT_FOUND)
        .await;
    customer
        .expect(
            &mut c,
            "GET",
            "/api/v1/payments/subscriptions/by-customer/{customer_id}",
            &[&customer_id],
            None,
            OK,
        )
        .await;
    let canceled = customer
        .expect(
            &mut c,
            "POST",
            "/api/v1/payments/subscriptions/{id}/cancel",
            &[sub],
            None,
            OK,
        )
        .await;
    assert_eq!(canceled["cancel_at_period_end"], true);
    customer
        .expect(
            &mut c,
            "POST",
            "/api/v1/payments/subscriptions/{id}/undo-cancel",
            &[sub],
            None,
            OK,
        )
        .await;
    let pass = "/api/v1/payments/subscriptions/process-period-end";
    admin
        .expect(&mut c, "POST", pass, &[], Some(Json(json!({}))), OK)
        .await;
    viewer
        .expect(&mut c, "POST", pass, &[], None, FORBIDDEN)
        .await;
    let list = customer
        .expect(&mut c, "GET", "/api/v1/invoices", &[], None, OK)
        .await;
    let invoice = list["invoices"][0]["invoice_id"]
        .as_str()
        .unwrap()
        .to_string();
    customer
        .expect(
            &mut c,
            "GET",
            "/api/v1/invoices/{id}",
            &[&invoice],
            None,
            OK,
        )
        .await;
    customer
        .expect(
            &mut c,
            "GET",
            "/api/v1/invoices/by-order/{order_id}",
            &[order],
            None,
            OK,
        )
        .await;
    customer
        .expect(
            &mut c,
            "GET",
            "/api/v1/invoices/{id}/html",
            &[&invoice],
            None,
            OK,
        )
        .await;
    let list = customer
        .expect(&mut c, "GET", "/api/v1/receipts", &[], None, OK)
        .await;
    let receipt = list["receipts"][0]["receipt_id"]
        .as_str()
        .unwrap()
        .to_string();
    customer
        .expect(
            &mut c,
            "GET",
            "/api/v1/receipts/{id}",
            &[&receipt],
            None,
            OK,
        )
        .await;
    customer
        .expect(
            &mut c,
            "GET",
            "/api/v1/receipts/by-order/{order_id}",
            &[order],
            None,
            OK,
        )
        .await;
    customer
        .expect(
            &mut c,
            "GET",
            "/api/v1/receipts/{id}/html",
            &[&receipt],
            None,
            OK,
        )
        .await;

    let secret = Some(Json(json!({"label": "Exchange key", "secret": "k-123"})));
    let saved = customer
        .expect(&mut c, "PUT", "/api/v1/credentials", &[], secret, OK)
        .await;
    assert!(saved.get("secret").is_none());
    customer
        .expect(&mut c, "GET", "/api/v1/credentials", &[], None, OK)
        .await;

    // Hired agents, goals and trial status, on the subscription bought above.
    const DRAFT: &str = "/api/v1/hired-agents/draft";
    const AGENT: &str = "/api/v1/hired-agents/{id}";
    const GOALS: &str = "/api/v1/hired-agents/{id}/goals";
    let body = || {
        Some(Json(
            json!({"subscription_id": sub, "nickname": "Desk", "theme": "dark"}),
        ))
    };
    let agent = customer.expect(&mut c, "PUT", DRAFT, &[], body(), OK).await;
    let agent_id = agent["hired_instance_id"].as_str().unwrap().to_string();
    let id = &[agent_id.as_str()];
    let stale = Some(Json(
        json!({"subscription_id": sub, "nickname": "Old", "row_version": 0}),
    ));
    let conflict = customer
        .expect(&mut c, "PUT", DRAFT, &[], stale, CONFLICT)
        .await;
    assert_eq!(conflict["current"]["hired_instance_id"], agent_id.as_str());
    let wrong = Some(Json(
        json!({"subscription_id": sub, "config": {"exchange_provider": "nope"}}),
    ));
    customer
        .expect(&mut c, "PUT", DRAFT, &[], wrong, UNPROCESSABLE_ENTITY)
        .await;
    customer
        .expect(&mut c, "GET", "/api/v1/hired-agents", &[], None, OK)
        .await;
    admin
        .expect(
            &mut c,
            "GET",
            "/api/v1/hired-agents",
            &[],
            None,
            BAD_REQUEST,
        )
        .await;
    customer.expect(&mut c, "GET", AGENT, id, None, OK).await;
    customer
        .expect(&mut c, "GET", AGENT, &["HAI-none"], None, NOT_FOUND)
        .await;
    customer
        .expect(
            &mut c,
            "GET",
            "/api/v1/hired-agents/by-subscription/{subscription_id}",
            &[sub],
            None,
            OK,
        )
        .await;
    let goal = Some(Json(
        json!({"goal_template_id": "trading.guardrail_report.v1", "frequency": "daily"}),
    ));
    let goal = customer.expect(&mut c, "PUT", GOALS, id, goal, OK).await;
    let goal_id = goal["goal_instance_id"].as_str().unwrap().to_string();
    let stale = Some(Json(
        json!({"goal_instance_id": goal_id, "goal_template_id": "trading.guardrail_report.v1", "frequency": "daily", "row_version": 9}),
    ));
    customer
        .expect(&mut c, "PUT", GOALS, id, stale, CONFLICT)
        .await;
    customer.expect(&mut c, "GET", GOALS, id, None, OK).await;
    let finalized = customer
        .expect(
            &mut c,
            "POST",
            "/api/v1/hired-agents/{id}/finalize",
            id,
            Some(Json(json!({"goals_completed": true}))),
            OK,
        )
        .await;
    assert!(finalized["missing"].is_array());
    for action in ["pause", "resume"] {
        customer
            .expect(
                &mut c,
                "POST",
                &format!("/api/v1/hired-agents/{{id}}/{action}"),
                id,
                None,
                OK,
            )
            .await;
    }
    customer
        .expect(&mut c, "GET", "/api/v1/trial-status", &[], None, OK)
        .await;
    customer
        .expect(
            &mut c,
            "GET",
            "/api/v1/trial-status/by-subscription/{subscription_id}",
            &[sub],
            None,
            OK,
        )
        .await;
    // Deliverables, once the agent is configured: the list drafts its due goal; review, the
    // execution gate, run now and the scheduler's passes.
    let cred = saved["credential_ref"].as_str().unwrap();
    let config = json!({"timezone": "UTC", "exchange_provider": "delta_exchange_india",
        "exchange_credential_ref": cred, "allowed_coins": ["BTC"], "default_coin": "BTC",
        "interval_seconds": 60, "risk_limits": {"max_units_per_order": 2}});
    let configured = Some(Json(json!({"subscription_id": sub, "config": config})));
    let agent = customer
        .expect(&mut c, "PUT", DRAFT, &[], configured, OK)
        .await;
    assert_eq!(agent["configured"], true, "{agent}");
    const LIST: &str = "/api/v1/hired-agents/{id}/deliverables";
    const DELIVERABLE: &str = "/api/v1/deliverables/{id}";
    const REVIEW: &str = "/api/v1/deliverables/{id}/review";
    const EXECUTE: &str = "/api/v1/deliverables/{id}/execute";
    const RUN_NOW: &str = "/api/v1/hired-agents/{id}/run-now";
    let list = customer.expect(&mut c, "GET", LIST, id, None, OK).await;
    let del = list["deliverables"][0]["deliverable_id"]
        .as_str()
        .unwrap()
        .to_string();
    let del = &[del.as_str()];
    let bad = format!("{LIST}?status=nope&limit=0");
    customer
        .expect(&mut c, "GET", &bad, id, None, UNPROCESSABLE_ENTITY)
        .await;
    customer
        .expect(&mut c, "GET", DELIVERABLE, del, None, OK)
        .await;
    customer
        .expect(&mut c, "GET", DELIVERABLE, &["DEL-none"], None, NOT_FOUND)
        .await;
    customer
        .expect(&mut c, "POST", EXECUTE, del, None, CONFLICT)
        .await;
    let approve = || Some(Json(json!({"decision": "approved"})));
    let decided = customer
        .expect(&mut c, "POST", REVIEW, del, approve(), OK)
        .await;
    let approval = decided["approval_id"].as_str().unwrap().to_string();
    customer
        .expect(&mut c, "POST", REVIEW, del, approve(), OK)
        .await;
    let reject = Some(Json(json!({"decision": "rejected", "notes": "Late"})));
    customer
        .expect(&mut c, "POST", REVIEW, del, reject, CONFLICT)
        .await;
    let unknown = Some(Json(json!({"decision": "maybe"})));
    customer
        .expect(&mut c, "POST", REVIEW, del, unknown, UNPROCESSABLE_ENTITY)
        .await;
    let denied = customer
        .expect(
            &mut c,
            "POST",
            EXECUTE,
            del,
            Some(Json(json!({}))),
            FORBIDDEN,
        )
        .await;
    assert_eq!(denied["reason"], "approval_required");
    let with_approval = || Some(Json(json!({"approval_id": approval})));
    customer
        .expect(&mut c, "POST", EXECUTE, del, with_approval(), OK)
        .await;
    customer
        .expect(&mut c, "POST", EXECUTE, del, with_approval(), OK)
        .await;
    viewer
        .expect(&mut c, "POST", EXECUTE, del, with_approval(), FORBIDDEN)
        .await;
    let on_demand = Some(Json(
        json!({"goal_template_id": "trading.trade_intent_draft.v1",
        "frequency": "on_demand", "settings": {"coin": "BTC", "side": "buy", "units": 1}}),
    ));
    let on_demand = customer
        .expect(&mut c, "PUT", GOALS, id, on_demand, OK)
        .await;
    let run = Some(Json(
        json!({"goal_instance_id": on_demand["goal_instance_id"]}),
    ));
    customer.expect(&mut c, "POST", RUN_NOW, id, run, OK).await;
    let scheduled = Some(Json(json!({"goal_instance_id": goal_id})));
    customer
        .expect(&mut c, "POST", RUN_NOW, id, scheduled, CONFLICT)
        .await;
    customer
        .expect(
            &mut c,
            "POST",
            RUN_NOW,
            id,
            Some(Json(json!({}))),
            UNPROCESSABLE_ENTITY,
        )
        .await;
    for pass in [
        "/api/v1/scheduler/goals/run-due",
        "/api/v1/scheduler/run-due",
    ] {
        admin
            .expect(&mut c, "POST", pass, &[], Some(Json(json!({}))), OK)
            .await;
        admin.expect(&mut c, "POST", pass, &[], None, OK).await;
        let nobody_there = Some(Json(json!({"hired_instance_id": "HAI-none"})));
        admin
            .expect(&mut c, "POST", pass, &[], nobody_there, NOT_FOUND)
            .await;
        customer
            .expect(&mut c, "POST", pass, &[], None, FORBIDDEN)
            .await;
    }

    let trial_end = "/api/v1/hired-agents/process-trial-end";
    admin
        .expect(&mut c, "POST", trial_end, &[], Some(Json(json!({}))), OK)
        .await;
    viewer
        .expect(&mut c, "POST", trial_end, &[], None, FORBIDDEN)
        .await;
    customer
        .expect(
            &mut c,
            "DELETE",
            &format!("{GOALS}?goal_instance_id={goal_id}"),
            id,
            None,
            OK,
        )
        .await;
    customer
        .expect(&mut c, "DELETE", GOALS, id, None, BAD_REQUEST)
        .await;

    // The check bites: a body of the wrong shape is refused.
    let me_schema = validator_for(&c.doc, &json!({"$ref": "#/components/schemas/Me"}));
    assert!(me_schema.is_valid(&me));
    assert!(!me_schema.is_valid(&json!({"id": "1", "email": ADMIN_EMAIL, "role": "admin"})));
    assert!(!me_schema.is_valid(&json!({"id": 1, "email": ADMIN_EMAIL, "role": "owner"})));

    // Every documented operation had its success answer checked here: a new endpoint gets a call
    // above, so its documented shape is held against the real one.
    let unchecked: Vec<_> = operations(&c.doc)
        .difference(&c.succeeded)
        .cloned()
        .collect();
    assert!(
        unchecked.is_empty(),
        "no call in this test checks the success answer of {unchecked:?}"
    );
}

async fn api_reference_page_is_served_without_inline_script(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let res = app.client().get("/api/docs").await;
    assert_eq!(res.status(), StatusCode::OK);
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    let html = res.text().await.unwrap();
    let mut scripts = vec![];
    for part in html.split("<script").skip(1) {
        let tag = part.split('>').next().unwrap();
        let src = tag
            .split("src=\"")
            .nth(1)
            .unwrap_or_else(|| panic!("inline script: <script{tag}>"))
            .split('"')
            .next()
            .unwrap();
        assert!(
            part[tag.len() + 1..].trim_start().starts_with("</script>"),
            "inline script"
        );
        scripts.push(src.to_string());
    }
    assert!(
        scripts
            .iter()
            .any(|s| s.starts_with("/static/vendor/swagger-ui-bundle-")),
        "{scripts:?}"
    );
    assert!(
        scripts.contains(&"/static/api-docs.js".to_string()),
        "{scripts:?}"
    );
    assert!(html.contains("data-spec=\"/api/v1/openapi.json\""));
    // Every file the page loads is served.
    for part in html.split(['"']).filter(|p| p.starts_with("/static/")) {
        let res = app.client().get(part).await;
        assert_eq!(res.status(), StatusCode::OK, "{part}");
    }
    // Signed out: no CSRF token in the page; signed in: the session's, for "Try it out".
    assert!(html.contains("data-csrf=\"\""));
    let admin = app.admin().await;
    let (_, html) = admin.page("/api/docs").await;
    assert!(html.contains(&format!("data-csrf=\"{}\"", admin.csrf().await)));
    // The API tokens page links to it.
    let (_, tokens) = admin.page("/account/tokens").await;
    assert!(tokens.contains("href=\"/api/docs\""));
}
