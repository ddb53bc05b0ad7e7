//! The web side of the form engine: rendering helpers, live-validation answers (out-of-band error
//! slots) and the small endpoints behind repeatable rows.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::auth::SignedIn;
use super::pages::render;
use crate::domain::definition::Field;
use crate::domain::forms;
use crate::error::{AppError, ErrorCode, Violation};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/forms/row").get(row))
        .service(web::resource("/forms/removed").get(removed));
}

#[derive(Template)]
#[template(path = "forms/errors_oob.html")]
pub struct ErrorsOob {
    /// (element id prefix, message): each becomes `<small id="{id}-error">`.
    pub slots: Vec<(String, String)>,
    /// An optional summary container to refresh: (its id, the problems).
    pub summary: Option<(String, Vec<Violation>)>,
}

/// The answer to a live-validation request: every error slot of the form, filled or emptied, swapped
/// out of band so rules that involve several fields update everywhere at once.
pub fn live_errors(
    fields: &[Field],
    prefix: &str,
    errors: &[Violation],
) -> Result<HttpResponse, AppError> {
    render(
        StatusCode::OK,
        &ErrorsOob {
            slots: forms::error_ids(fields, prefix, errors),
            summary: None,
        },
    )
}

#[derive(Template)]
#[template(path = "forms/row.html")]
struct Row {
    name: String,
    kind: &'static str,
}

#[derive(Deserialize)]
struct RowQuery {
    name: String,
    kind: String,
}

/// One more empty row for a repeatable list (htmx "Add entry").
async fn row(_user: SignedIn, q: web::Query<RowQuery>) -> Result<HttpResponse, AppError> {
    let ok_name = !q.name.is_empty()
        && q.name.len() <= 200
        && q.name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._[]-".contains(&b));
    let kind = match q.kind.as_str() {
        "text" => "text",
        "number" => "number",
        "pair" => "pair",
        _ => {
            return Err(AppError::bad_request(
                ErrorCode::BadRequest,
                "Unknown row kind.",
            ));
        }
    };
    if !ok_name {
        return Err(AppError::bad_request(
            ErrorCode::BadRequest,
            "Unknown field.",
        ));
    }
    render(
        StatusCode::OK,
        &Row {
            name: q.name.clone(),
            kind,
        },
    )
}

/// htmx deletes the row it targets; the request only needs an answer.
async fn removed(_user: SignedIn) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body("")
}
