//! `/api/v1` as one registry: the router and the OpenAPI 3.1 document (`GET /api/v1/openapi.json`,
//! shown at `GET /api/docs`) are both built from it, so an operation can be neither served without
//! being documented nor documented at a method or path it is not served at.
//!
//! Each operation is a handler annotated with `#[utoipa::path(...)]`. The annotation names the method
//! and the full path; [`scope`] registers the handler at exactly that method and path (the scope is
//! opaque: nothing else can be added to it, and it is registered before every other route, so any
//! other `/api/v1/...` route would never be reached), and [`document`] describes it from the same
//! annotation, with the schemas its parameters, body and responses name.
//!
//! # Adding an endpoint
//!
//! 1. Annotate the handler. The doc comment's first line becomes the summary, the rest the
//!    description (say who may call it: "Admins only."):
//!
//!    ```ignore
//!    /// Refund a payment.
//!    ///
//!    /// Admins only. Refunding twice answers 409.
//!    #[utoipa::path(
//!        post,
//!        path = "/api/v1/payments/{payment_id}/refund",
//!        tag = "payments",
//!        params(PaymentPath),                        // #[derive(Deserialize, IntoParams)], also the extractor
//!        request_body = RefundRequest,               // #[derive(Deserialize, ToSchema)]
//!        responses(
//!            (status = 200, description = "The refunded payment", body = Payment), // #[derive(Serialize, ToSchema)]
//!            (status = 404, response = NotFound),
//!            (status = 409, response = Conflict),
//!            (status = 422, response = ValidationFailed),
//!        ),
//!    )]
//!    async fn refund(admin: Admin, path: web::Path<PaymentPath>, body: web::Json<RefundRequest>)
//!        -> Result<HttpResponse, AppError> { … }
//!    ```
//!
//!    - `path` is the full path, `{name}` placeholders included; each needs a path parameter of that
//!      name in `params` (an `IntoParams` struct with `#[into_params(parameter_in = Path)]` that is
//!      also the handler's `web::Path<…>` keeps the two the same).
//!    - Error responses are the shared ones of this module ([`BadRequest`], [`NotFound`],
//!      [`Conflict`], [`Gone`], [`ValidationFailed`], …): each is a problem document (`Problem`).
//!      The ones every operation can answer are added by [`document`] and need not be listed: 401,
//!      403 (authentication, role, CSRF) and 503 (database) unless it is public, and for operations
//!      with a body 400, 413 and 415. List a 403 yourself only to describe a refusal that is particular to it.
//!    - Security is added too: an API token (`bearer`) or the session cookie (`session`), plus the
//!      `X-CSRF-Token` header (`csrf`) on writes through the cookie. A public operation says
//!      `security(())`.
//!    - Types named in `body =` / `request_body =` / `params(...)` are collected into
//!      `components/schemas` by themselves; derive `ToSchema` on them (and `no_recursion` on a field
//!      that refers back to its own type).
//! 2. Add the handler's name to its module's `endpoints![...]` list (`api::endpoints`). A new module
//!    (`api_payments`) gets its own `pub fn endpoints() -> Vec<Endpoint> { endpoints![...] }`, named
//!    once in [`all_endpoints`] below.
//!
//! 3. In `tests/it/openapi.rs` (`documented_responses_are_what_the_api_answers`), add a call of the
//!    new operation that succeeds, and of its refusals if you like: each answer's status, media type
//!    and body are checked against the document. The test fails while a documented operation has no
//!    checked success answer.
//!
//! That test also checks the rest: every route is in the document with its method (from the running
//! router's `Allow` answers), the document validates against the official OpenAPI 3.1 schema, every
//! `$ref` resolves, and each path's parameters match its placeholders.

use std::sync::OnceLock;

use actix_web::dev::HttpServiceFactory;
use actix_web::http::{Method, StatusCode};
use actix_web::{FromRequest, Handler, HttpResponse, Responder, Route, web};
use askama::Template;
use serde_json::{Value, json};
use utoipa::openapi::path::{HttpMethod, Operation};
use utoipa::openapi::response::Response;
use utoipa::openapi::schema::Schema;
use utoipa::openapi::security::SecurityRequirement;
use utoipa::openapi::{OpenApi, RefOr};
use utoipa::{PartialSchema, ToSchema};

use super::errors::Problem;
use super::pages::PageCtx;
use crate::error::{AppError, ErrorCode};

/// Where the API lives.
pub const PREFIX: &str = "/api/v1";

/// Every `/api/v1` operation, module by module. The router and the document are both built from
/// this list (see the module doc).
pub fn all_endpoints() -> Vec<Endpoint> {
    let mut all = endpoints![openapi_json];
    all.extend(super::api::endpoints());
    all.extend(super::api_payments::endpoints());
    all.extend(super::api_credentials::endpoints());
    all.extend(super::api_hired_agents::endpoints());
    all.extend(super::api_deliverables::endpoints());
    all
}

/// The routes of this module: the `/api/v1` scope and the reference page.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(scope(all_endpoints()))
        .service(web::resource("/api/docs").get(docs_page));
}

/// One documented operation: a handler with its `#[utoipa::path]` annotation. Make them with
/// [`endpoints!`].
pub struct Endpoint {
    /// The full path as documented (`/api/v1/agent-types/{type_id}`).
    pub path: String,
    pub methods: Vec<HttpMethod>,
    operation: fn() -> Operation,
    tags: fn() -> Vec<&'static str>,
    schemas: fn(&mut Vec<(String, RefOr<Schema>)>),
    route: Box<dyn Fn(Method) -> Route>,
}

impl Endpoint {
    /// The handler `handler`, documented by `P` (the `__path_<handler>` type its annotation made).
    pub fn of<P, F, Args>(handler: F) -> Endpoint
    where
        P: utoipa::Path + utoipa::__dev::SchemaReferences + utoipa::__dev::Tags<'static>,
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        Endpoint {
            path: P::path(),
            methods: P::methods(),
            operation: P::operation,
            tags: <P as utoipa::__dev::Tags<'static>>::tags,
            schemas: <P as utoipa::__dev::SchemaReferences>::schemas,
            route: Box::new(move |m| web::method(m).to(handler.clone())),
        }
    }

    /// The operation as the document shows it: the annotation's, with the tags, security and the
    /// error responses every operation shares.
    fn operation(&self, method: &HttpMethod) -> Operation {
        let mut op = (self.operation)();
        let tags = (self.tags)();
        if !tags.is_empty() {
            op.tags
                .get_or_insert_with(Vec::new)
                .extend(tags.into_iter().map(str::to_string));
        }
        let public = op
            .security
            .as_ref()
            .is_some_and(|s| s.iter().any(is_anonymous));
        if op.security.is_none() {
            // Writes through the cookie need the CSRF header as well; a token needs nothing else.
            let write = !matches!(method, HttpMethod::Get | HttpMethod::Head);
            let session = if write {
                json!({"session": [], "csrf": []})
            } else {
                json!({"session": []})
            };
            op.security = Some(
                serde_json::from_value(json!([{"bearer": []}, session]))
                    .expect("security requirements parse"),
            );
        }
        let mut shared: Vec<(&str, &str)> = vec![];
        if !public {
            // Finding the caller takes the database, hence 503.
            shared.extend([
                ("401", "Unauthenticated"),
                ("403", "Forbidden"),
                ("503", "Unavailable"),
            ]);
        }
        if op.request_body.is_some() {
            shared.extend([
                ("400", "BadRequest"),
                ("413", "PayloadTooLarge"),
                ("415", "UnsupportedMediaType"),
            ]);
        }
        for (status, name) in shared {
            op.responses
                .responses
                .entry(status.to_string())
                .or_insert_with(|| utoipa::openapi::Ref::from_response_name(name).into());
        }
        op
    }
}

fn is_anonymous(s: &SecurityRequirement) -> bool {
    serde_json::to_value(s).is_ok_and(|v| v.as_object().is_some_and(|o| o.is_empty()))
}

/// `endpoints![handler, …]`: the [`Endpoint`]s of annotated handlers in scope.
macro_rules! endpoints {
    ($($handler:ident),* $(,)?) => {
        ::paste::paste! {
            vec![$($crate::web::openapi::Endpoint::of::<[<__path_ $handler>], _, _>($handler)),*]
        }
    };
}
pub(crate) use endpoints;

fn http_method(m: &HttpMethod) -> Method {
    match m {
        HttpMethod::Get => Method::GET,
        HttpMethod::Post => Method::POST,
        HttpMethod::Put => Method::PUT,
        HttpMethod::Delete => Method::DELETE,
        HttpMethod::Options => Method::OPTIONS,
        HttpMethod::Head => Method::HEAD,
        HttpMethod::Patch => Method::PATCH,
        HttpMethod::Trace => Method::TRACE,
    }
}

/// The `/api/v1` scope: each endpoint's handler at its documented path and methods (one resource
/// per path, so other methods answer 405 with `Allow`), anything else 404. Opaque on purpose.
///
/// Panics on a path outside `/api/v1` or a method registered twice for one path: both are
/// programming errors, found when the server (or any test) starts.
pub fn scope(endpoints: Vec<Endpoint>) -> impl HttpServiceFactory {
    let mut paths: Vec<(String, Vec<(Method, Route)>)> = Vec::new();
    for e in endpoints {
        let relative = e
            .path
            .strip_prefix(PREFIX)
            .filter(|r| r.starts_with('/'))
            .unwrap_or_else(|| panic!("{} is not under {PREFIX}", e.path))
            .to_string();
        let at = match paths.iter().position(|(p, _)| *p == relative) {
            Some(i) => i,
            None => {
                paths.push((relative, vec![]));
                paths.len() - 1
            }
        };
        for m in &e.methods {
            let method = http_method(m);
            let routes = &mut paths[at].1;
            assert!(
                routes.iter().all(|(taken, _)| *taken != method),
                "{method} {} is registered twice",
                e.path
            );
            routes.push((method.clone(), (e.route)(method)));
        }
    }
    paths
        .into_iter()
        .fold(web::scope(PREFIX), |scope, (path, routes)| {
            scope.service(
                routes
                    .into_iter()
                    .fold(web::resource(path), |r, (_, route)| r.route(route)),
            )
        })
        .default_service(web::to(super::not_found))
}

/// The OpenAPI document of `/api/v1`, built once.
pub fn document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| serde_json::to_value(build()).expect("the OpenAPI document serialises"))
}

fn build() -> OpenApi {
    let mut doc: OpenApi = serde_json::from_value(base()).expect("the base document parses");
    let components = doc.components.get_or_insert_with(Default::default);
    let mut schemas = vec![];
    for (name, response) in shared_responses() {
        components.responses.insert(name.to_string(), response);
    }
    for e in all_endpoints() {
        for m in &e.methods {
            doc.paths
                .add_path_operation(&e.path, vec![m.clone()], e.operation(m));
        }
        (e.schemas)(&mut schemas);
    }
    // The shared error responses refer to the problem document.
    schemas.push((
        <Problem as ToSchema>::name().into_owned(),
        <Problem as PartialSchema>::schema(),
    ));
    <Problem as ToSchema>::schemas(&mut schemas);
    let components = doc.components.get_or_insert_with(Default::default);
    components.schemas.extend(schemas);
    doc
}

/// What does not come from the handlers: info, security schemes, tags.
fn base() -> Value {
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "agentdesk",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The JSON API of agentdesk. Authenticate with a personal API token \
                (`Authorization: Bearer <token>`, created at `/account/tokens`), or from a signed-in \
                browser with the session cookie, which then needs the `X-CSRF-Token` header on every \
                request that changes something.\n\nEvery error is an RFC 7807 problem document \
                (`application/problem+json`, schema `Problem`) whose `code` says what went wrong; \
                clients branch on the code, never on the wording.",
            "license": {"name": "MIT", "identifier": "MIT"},
        },
        "paths": {},
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A personal API token (`Authorization: Bearer <token>`), created at \
                        `/account/tokens` or with `agentdesk token create`. It acts as its user, with \
                        the user's role, and needs no CSRF token.",
                },
                "session": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": crate::app::SESSION_COOKIE,
                    "description": "The session cookie of a signed-in browser. Requests that change \
                        something must also send `X-CSRF-Token` (see `csrf`), and requests from other \
                        sites are refused.",
                },
                "csrf": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-CSRF-Token",
                    "description": "With the session cookie only, on every request that is not a GET: \
                        the session's CSRF token, which each page carries (`data-csrf` on `<main>`).",
                },
            },
        },
        "tags": [
            {"name": "account", "description": "Who is calling."},
            {"name": "agent types", "description": "The catalog of agent types and their versions \
                (draft → published → retired)."},
            {"name": "meta", "description": "This document."},
            {"name": "payments", "description": "Coupon checkout and subscriptions (the Phase-1 \
                paths): hire, cancel at period end, undo, the period-end pass."},
            {"name": "credentials", "description": "Customers' secrets (API keys, tokens): \
                write-only, stored encrypted, named in configurations by `credential_ref`."},
            {"name": "hired agents", "description": "Hired agents (the Phase-1 paths): drafts of \
                their configuration, finalize and the trial, pause and resume, goals, trial status."},
            {"name": "deliverables", "description": "What hired agents draft (the Phase-1 paths): an \
                agent's deliverables (generating its due drafts first), review (approve, approve with \
                edits, reject), execution behind the approval gate with stored denials, run now."},
            {"name": "scheduler", "description": "The job passes, run by hand: due drafts, or the \
                whole pass the in-server scheduler runs every minute. Admins only."},
            {"name": "invoices", "description": "GST invoices, amounts in paise; append-only."},
            {"name": "receipts", "description": "Payment receipts, amounts in paise; append-only."},
        ],
    })
}

/// The error responses operations refer to (`response = NotFound`): each is a problem document,
/// with an example of its status and usual code.
macro_rules! problem_responses {
    ($($(#[$doc:meta])* $name:ident => ($status:literal, $code:ident, $description:literal)),* $(,)?) => {
        $(
            $(#[$doc])*
            pub struct $name;

            impl<'s> utoipa::ToResponse<'s> for $name {
                fn response() -> (&'s str, RefOr<Response>) {
                    (stringify!($name), problem_response($status, ErrorCode::$code, $description))
                }
            }
        )*

        fn shared_responses() -> Vec<(&'static str, RefOr<Response>)> {
            vec![$(<$name as utoipa::ToResponse>::response()),*]
        }
    };
}

problem_responses! {
    BadRequest => (400, UnreadableBody, "The request could not be understood: a body that is not \
        valid JSON (`unreadable_body`), refused characters in the address (`refused_characters`), or \
        a request that makes no sense (`bad_request`)."),
    Unauthenticated => (401, Unauthenticated, "No valid credentials: send a live API token, or sign \
        in (`unauthenticated`)."),
    Forbidden => (403, AdminOnly, "Not allowed: the caller's role may not do this (`admin_only`, \
        `staff_only`, `read_only`), the password must be changed first \
        (`password_change_required`), or a write through the session cookie came without a valid \
        `X-CSRF-Token` (`csrf_invalid`, `session_expired`) or from another site (`cross_site`)."),
    NotFound => (404, NotFound, "Nothing here, or nothing the caller may see (`not_found`)."),
    Conflict => (409, VersionNotEditable, "The request conflicts with the current state (see \
        `code`)."),
    Gone => (410, Gone, "It existed and is gone for good (`gone`)."),
    PayloadTooLarge => (413, PayloadTooLarge, "The body is larger than the server accepts \
        (`payload_too_large`)."),
    UnsupportedMediaType => (415, UnsupportedMediaType, "The body is not `application/json` \
        (`unsupported_media_type`)."),
    ValidationFailed => (422, ValidationFailed, "Values need attention (`validation_failed`): \
        `violations` lists each problem with the path of its value."),
    Unavailable => (503, DatabaseUnavailable, "The database cannot be reached right now; try again \
        shortly (`database_unavailable`)."),
}

fn problem_response(status: u16, code: ErrorCode, description: &str) -> RefOr<Response> {
    let status = StatusCode::from_u16(status).expect("an HTTP status");
    let mut example = json!({
        "type": code.problem_type(),
        "code": code.as_str(),
        "title": super::errors::title_for(status),
        "status": status.as_u16(),
        "detail": "What happened, in a sentence.",
        "instance": "/api/v1/agent-types/marketing.healthcare.v1",
        "correlation_id": "0b5e6c1e-8f5a-4d0e-9a55-3f1f2a7c9d10",
    });
    if status == StatusCode::UNPROCESSABLE_ENTITY {
        example["violations"] = json!([{"path": "config_schema.fields[0].type", "message": "Choose one of the field types."}]);
    }
    serde_json::from_value(json!({
        "description": description,
        "content": {"application/problem+json": {
            "schema": {"$ref": "#/components/schemas/Problem"},
            "example": example,
        }},
    }))
    .expect("a problem response parses")
}

/// The OpenAPI 3.1 document of this API.
///
/// Public: it tells how to call the API, not what is in it.
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    tag = "meta",
    security(()),
    responses((status = 200, description = "This document (OpenAPI 3.1)", content_type = "application/json", body = Object)),
)]
async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(document().to_string())
}

#[derive(Template)]
#[template(path = "api_docs.html")]
struct DocsPage {
    /// The session's CSRF token when signed in (so "Try it out" can change things), else empty.
    csrf: String,
}

/// `/api/docs`: the reference page, the vendored Swagger UI rendering [`document`].
async fn docs_page(ctx: PageCtx) -> Result<HttpResponse, AppError> {
    let csrf = if ctx.user.is_some() {
        ctx.csrf
    } else {
        String::new()
    };
    super::pages::ok(&DocsPage { csrf })
}
