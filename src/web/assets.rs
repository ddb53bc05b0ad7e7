//! Static files, compiled into the binary (so it runs from any directory and in a bare container)
//! and served with long cache lifetimes: vendored files carry their version in the name.

use actix_web::http::header;
use actix_web::{HttpResponse, web};

use crate::error::AppError;

struct Asset {
    path: &'static str,
    content_type: &'static str,
    body: &'static [u8],
    immutable: bool,
}

macro_rules! asset {
    ($path:literal, $ct:literal, $immutable:expr) => {
        Asset {
            path: $path,
            content_type: $ct,
            body: include_bytes!(concat!("../../static/", $path)),
            immutable: $immutable,
        }
    };
}

static ASSETS: &[Asset] = &[
    asset!(
        "vendor/htmx-2.0.11.min.js",
        "text/javascript; charset=utf-8",
        true
    ),
    asset!("vendor/pico-2.1.1.min.css", "text/css; charset=utf-8", true),
    asset!(
        "vendor/htmx-2.0.11.LICENSE",
        "text/plain; charset=utf-8",
        true
    ),
    asset!(
        "vendor/pico-2.1.1.LICENSE.md",
        "text/plain; charset=utf-8",
        true
    ),
    asset!(
        "vendor/swagger-ui-bundle-5.35.0.js",
        "text/javascript; charset=utf-8",
        true
    ),
    asset!(
        "vendor/swagger-ui-5.35.0.css",
        "text/css; charset=utf-8",
        true
    ),
    asset!(
        "vendor/swagger-ui-5.35.0.LICENSE",
        "text/plain; charset=utf-8",
        true
    ),
    asset!(
        "vendor/swagger-ui-5.35.0.NOTICE",
        "text/plain; charset=utf-8",
        true
    ),
    asset!(
        "vendor/swagger-ui-bundle-5.35.0.js.LICENSE.txt",
        "text/plain; charset=utf-8",
        true
    ),
    asset!("app.css", "text/css; charset=utf-8", false),
    asset!("app.js", "text/javascript; charset=utf-8", false),
    asset!("api-docs.js", "text/javascript; charset=utf-8", false),
    asset!("api-docs.css", "text/css; charset=utf-8", false),
    asset!("favicon.svg", "image/svg+xml", false),
];

pub fn routes(cfg: &mut web::ServiceConfig) {
    // Only static files are compressed: pages carry per-session secrets (CSRF and new API tokens) next
    // to text the visitor controls, which compression would leak (BREACH).
    cfg.service(
        web::resource("/static/{path:.*}")
            .wrap(actix_web::middleware::Compress::default())
            .route(web::get().to(serve)),
    );
}

async fn serve(path: web::Path<String>) -> Result<HttpResponse, AppError> {
    let path = path.into_inner();
    let asset = ASSETS
        .iter()
        .find(|a| a.path == path)
        .ok_or(AppError::NotFound)?;
    let cache = if asset.immutable {
        "public, max-age=31536000, immutable"
    } else {
        "public, max-age=3600"
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, asset.content_type))
        .insert_header((header::CACHE_CONTROL, cache))
        .body(asset.body))
}
