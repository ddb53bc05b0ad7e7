//! The door that keeps characters no text column should hold out of the application (the rule is
//! `domain::text`): NUL (which PostgreSQL refuses with a 500 while SQLite stores it), other control
//! characters, and the Unicode bidirectional overrides and isolates that make text read differently
//! from what it is ("Trojan Source"). Path segments and query values are refused with 400; form
//! fields and JSON strings with a 422 naming the field, before any handler, session or database work
//! happens — except the few forms that show the refusal next to the field themselves
//! (`checks_its_own_fields`).

use actix_web::HttpMessage;
use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::web::{self, Bytes};

use super::AppState;
use super::body::read_limited;
use crate::error::{AppError, ErrorCode, Violation};

pub use crate::domain::text::{refused_char, text_problem};

/// Percent-decodes a path or query component (`+` is left alone); `None` when the bytes are not
/// UTF-8 after decoding.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// A name safe to repeat in a message: the refused characters left out.
fn printable(name: &str) -> String {
    name.chars()
        .filter(|c| refused_char(*c, true).is_none())
        .collect()
}

fn check_url(req: &ServiceRequest) -> Result<(), AppError> {
    let bad = |what: String, why: &str| {
        AppError::bad_request(
            ErrorCode::RefusedCharacters,
            format!("The {what} {why}; such characters are not accepted."),
        )
    };
    let path =
        percent_decode(req.path()).ok_or_else(|| bad("address".into(), "is not valid UTF-8"))?;
    if let Some(why) = text_problem(&path, true) {
        return Err(bad("address".into(), why));
    }
    for pair in req.query_string().split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let (k, v) = (k.replace('+', " "), v.replace('+', " "));
        let (Some(k), Some(v)) = (percent_decode(&k), percent_decode(&v)) else {
            return Err(bad("address".into(), "is not valid UTF-8"));
        };
        if let Some(why) = text_problem(&k, true).or_else(|| text_problem(&v, true)) {
            return Err(bad(
                format!("search parameter \u{201c}{}\u{201d}", printable(&k)),
                why,
            ));
        }
    }
    Ok(())
}

fn form_violations(body: &[u8]) -> Vec<Violation> {
    let mut out = vec![];
    for (k, v) in url::form_urlencoded::parse(body) {
        if let Some(why) = text_problem(&k, false).or_else(|| text_problem(&v, false)) {
            out.push(Violation::new(printable(&k), format!("This value {why}.")));
        }
    }
    out
}

/// Walks every key and string of a JSON document, naming each bad one by its path.
fn json_violations(v: &serde_json::Value, path: &str, out: &mut Vec<Violation>) {
    use serde_json::Value;
    match v {
        Value::String(s) => {
            if let Some(why) = text_problem(s, false) {
                out.push(Violation::new(path, format!("This value {why}.")));
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                json_violations(item, &format!("{path}[{i}]"), out);
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                let child = crate::domain::paths::join(path, k);
                if let Some(why) = text_problem(k, false) {
                    out.push(Violation::new(
                        path.to_string(),
                        format!("A property name {why}."),
                    ));
                }
                json_violations(item, &child, out);
            }
        }
        _ => {}
    }
}

fn content_type(req: &ServiceRequest) -> String {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase()
}

/// Forms whose handler shows refused characters next to the field, with the rest of what was typed
/// kept, instead of this guard's error page: every field they take goes through a service that
/// applies the same rule (`domain::text`) before anything is written, and answers with field errors.
/// Only urlencoded form bodies are let through, and only to these addresses (POST); their address
/// is still checked, and their JSON bodies are not taken at all. Adding a form here means its
/// service checks every text field it keeps.
fn checks_its_own_fields(method: &actix_web::http::Method, path: &str) -> bool {
    if method != actix_web::http::Method::POST {
        return false;
    }
    // `/admin/customers` (create), `/admin/customers/{id}/edit` and the customer's own
    // `/portal/billing`: `service::customers`.
    path == "/admin/customers"
        || path == "/portal/billing"
        || path
            .strip_prefix("/admin/customers/")
            .and_then(|rest| rest.strip_suffix("/edit"))
            .is_some_and(|id| !id.is_empty() && !id.contains('/'))
}

async fn check_body(req: &mut ServiceRequest) -> Result<(), AppError> {
    let ct = content_type(req);
    let is_form = ct.starts_with("application/x-www-form-urlencoded");
    let is_json = ct.starts_with("application/json") || ct.contains("+json");
    if (!is_form && !is_json) || (is_form && checks_its_own_fields(req.method(), req.path())) {
        return Ok(());
    }
    let limit = req
        .app_data::<web::Data<AppState>>()
        .map(|s| s.settings.body_limit)
        .unwrap_or(1 << 20);
    let body: Bytes = read_limited(&mut req.take_payload(), limit).await?;
    let violations = if is_form {
        form_violations(&body)
    } else {
        let mut out = vec![];
        // Malformed JSON is the handler's to explain; only well-formed documents are walked.
        if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&body) {
            json_violations(&v, "", &mut out);
        }
        out
    };
    req.set_payload(Payload::from(body));
    if violations.is_empty() {
        Ok(())
    } else {
        Err(AppError::invalid(violations))
    }
}

/// Middleware: refuses a request carrying refused characters before anything else reads it.
pub async fn refuse_unsafe_text(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let checked = match check_url(&req) {
        Ok(()) => check_body(&mut req).await,
        Err(e) => Err(e),
    };
    match checked {
        Ok(()) => next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body),
        Err(e) => Ok(req.error_response(e).map_into_right_body()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_listed_forms_check_their_own_fields() {
        use actix_web::http::Method;
        for path in ["/admin/customers", "/admin/customers/CUS-1/edit"] {
            assert!(checks_its_own_fields(&Method::POST, path), "{path}");
            assert!(!checks_its_own_fields(&Method::PUT, path), "{path}");
        }
        for path in [
            "/admin/customers/new",
            "/admin/customers//edit",
            "/admin/customers/a/b/edit",
            "/admin/customersx",
            "/admin/users",
            "/api/v1/customers",
        ] {
            assert!(!checks_its_own_fields(&Method::POST, path), "{path}");
        }
    }

    #[test]
    fn paths_are_decoded_before_checking() {
        assert_eq!(percent_decode("/a%00b").unwrap(), "/a\0b");
        assert_eq!(percent_decode("/%E2%80%AE").unwrap(), "/\u{202e}");
        assert_eq!(percent_decode("/100%").unwrap(), "/100%");
        assert_eq!(percent_decode("/%E2%80%AE").unwrap(), "/\u{202e}");
        assert!(percent_decode("/%FF").is_none());
    }

    #[test]
    fn json_paths_name_the_value() {
        let mut out = vec![];
        json_violations(
            &serde_json::json!({"a": {"b": ["ok", "bad\u{0}"]}, "c\u{202e}": 1}),
            "",
            &mut out,
        );
        let paths: Vec<_> = out.iter().map(|v| v.path.as_str()).collect();
        assert!(paths.contains(&"a.b[1]"), "{paths:?}");
        assert_eq!(out.len(), 2, "{out:?}");
    }
}
