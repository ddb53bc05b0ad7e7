//! What every page template gets (`PageCtx`), flash messages, and rendering helpers.

use std::sync::atomic::{AtomicUsize, Ordering};

use actix_session::SessionExt;
use actix_web::dev::Payload;
use actix_web::http::{Method, StatusCode};
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse};
use askama::Template;
use futures_util::future::LocalBoxFuture;

use super::auth::{AuthVia, Principal, principal_of};
use super::session_store::WAITING_KEY;
use crate::domain::roles::Role;
use crate::error::AppError;

pub use super::flash::{Flash, flash};

/// The signed-in user as the layout shows them.
#[derive(Debug, Clone)]
pub struct NavUser {
    pub id: i64,
    pub email: String,
    pub role: Role,
}

/// One link of the main navigation.
#[derive(Debug, Clone)]
pub struct NavLink {
    pub href: &'static str,
    pub label: &'static str,
    pub current: bool,
    /// A count beside the label ("3", "99+"); empty for none.
    pub badge: String,
    /// The count is loaded by htmx once the page is shown (`GET /nav/waiting`).
    pub badge_later: bool,
}

/// The badge of the reviews link: how many items wait, "99+" past the cap, nothing for none.
pub fn waiting_badge(count: i64) -> String {
    match count {
        0 => String::new(),
        n if n >= crate::service::review_queue::BADGE_CAP => {
            format!("{}+", crate::service::review_queue::BADGE_CAP - 1)
        }
        n => n.to_string(),
    }
}

#[derive(Debug, Clone)]
pub struct PageCtx {
    pub user: Option<NavUser>,
    pub csrf: String,
    pub flashes: Vec<Flash>,
    pub nav: Vec<NavLink>,
    pub path: String,
}

impl PageCtx {
    /// For pages rendered without a session (error pages).
    pub fn bare() -> Self {
        PageCtx {
            user: None,
            csrf: String::new(),
            flashes: vec![],
            nav: vec![],
            path: String::new(),
        }
    }

    /// For error pages: the signed-in user and their token as the request already knew them (the
    /// session itself is closed by then), so an error never looks like being signed out.
    pub fn for_error(req: &HttpRequest) -> Self {
        let ext = req.extensions();
        let user = ext
            .get::<Option<super::auth::Principal>>()
            .and_then(|p| p.as_ref())
            .filter(|p| p.via == super::auth::AuthVia::Session)
            .map(|p| NavUser {
                id: p.user.id,
                email: p.user.email.clone(),
                role: p.user.role,
            });
        let Some(user) = user else {
            return PageCtx::bare();
        };
        let path = req.path().to_string();
        PageCtx {
            nav: nav_for(Some(user.role), &path),
            user: Some(user),
            csrf: ext
                .get::<super::csrf::PageCsrf>()
                .map(|t| t.0.clone())
                .unwrap_or_default(),
            flashes: vec![],
            path,
        }
    }

    pub fn role_label(&self) -> &'static str {
        self.user.as_ref().map(|u| u.role.label()).unwrap_or("")
    }

    pub fn can_write(&self) -> bool {
        self.user.as_ref().is_some_and(|u| u.role.can_write_admin())
    }

    pub fn is_admin(&self) -> bool {
        self.user.as_ref().is_some_and(|u| u.role == Role::Admin)
    }

    /// The `hx-headers` attribute value that makes htmx send the CSRF token.
    pub fn hx_headers(&self) -> String {
        serde_json::json!({ "X-CSRF-Token": self.csrf }).to_string()
    }
}

fn nav_for(role: Option<Role>, path: &str) -> Vec<NavLink> {
    let links: Vec<(&'static str, &'static str)> = match role {
        Some(Role::Admin) => vec![
            ("/admin", "Dashboard"),
            ("/admin/reviews", "Reviews"),
            ("/admin/customers", "Customers"),
            ("/admin/hired-agents", "Hired agents"),
            ("/admin/agent-types", "Agent types"),
            ("/admin/users", "Users"),
        ],
        Some(Role::Operator | Role::Viewer) => vec![
            ("/admin", "Dashboard"),
            ("/admin/reviews", "Reviews"),
            ("/admin/customers", "Customers"),
            ("/admin/hired-agents", "Hired agents"),
            ("/admin/agent-types", "Agent types"),
        ],
        Some(Role::Customer) => vec![
            ("/portal", "Home"),
            ("/portal/agents", "My agents"),
            ("/portal/reviews", "Reviews"),
            ("/portal/catalog", "Catalog"),
            ("/portal/billing", "Billing"),
        ],
        None => vec![],
    };
    // Pages that belong to a section whose address they do not start with.
    const SECTIONS: [(&str, &str); 9] = [
        ("/admin/deliverables/", "/admin/reviews"),
        ("/portal/deliverables/", "/portal/reviews"),
        ("/admin/subscriptions/", "/admin/customers"),
        ("/admin/invoices/", "/admin/customers"),
        ("/admin/receipts/", "/admin/customers"),
        ("/portal/hire", "/portal/catalog"),
        ("/portal/subscriptions/", "/portal/billing"),
        ("/portal/invoices/", "/portal/billing"),
        ("/portal/receipts/", "/portal/billing"),
    ];
    // The setup wizard lives under a subscription but belongs to the agents.
    if path.starts_with("/portal/subscriptions/") && path.contains("/setup") {
        return nav_for(role, "/portal/agents");
    }
    let path = SECTIONS
        .iter()
        .find(|(prefix, _)| path.starts_with(prefix))
        .map_or(path, |(_, section)| section);
    let longest = links
        .iter()
        .filter(|(h, _)| path == *h || path.starts_with(&format!("{h}/")))
        .map(|(h, _)| h.len())
        .max();
    links
        .into_iter()
        .map(|(href, label)| NavLink {
            href,
            label,
            current: Some(href.len()) == longest && path.starts_with(href),
            badge: String::new(),
            badge_later: false,
        })
        .collect()
}

impl FromRequest for PageCtx {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let principal = principal_of(&req).await?;
            let csrf = super::csrf::token_for(&req);
            let flashes = super::flash::take(&req);
            // The reviews link counts what waits in the user's scope (one capped statement) on the
            // pages one navigates to. A form's POST mostly answers with a redirect, where the count
            // would be thrown away; a form shown again with its errors loads it afterwards.
            let navigable = matches!(*req.method(), Method::GET | Method::HEAD);
            let waiting = match &principal {
                Some(p) if navigable => waiting_of(&req, p).await?,
                _ => 0,
            };
            let user = principal.map(|p| NavUser {
                id: p.user.id,
                email: p.user.email,
                role: p.user.role,
            });
            let path = req.path().to_string();
            let mut nav = nav_for(user.as_ref().map(|u| u.role), &path);
            for link in nav.iter_mut().filter(|l| l.href.ends_with("/reviews")) {
                link.badge = waiting_badge(waiting);
                link.badge_later = !navigable;
            }
            Ok(PageCtx {
                nav,
                user,
                csrf,
                flashes,
                path,
            })
        })
    }
}

/// How many items wait for review in the principal's scope (up to the badge's cap): counted by the
/// session's load for a signed-in browser, by its own statement otherwise.
async fn waiting_of(req: &HttpRequest, p: &Principal) -> Result<i64, AppError> {
    if p.via == AuthVia::Session
        && let Ok(Some(n)) = req.get_session().get::<i64>(WAITING_KEY)
    {
        return Ok(n);
    }
    match req.app_data::<actix_web::web::Data<super::AppState>>() {
        Some(state) => {
            let scope = super::auth::scope_of(&p.user);
            crate::service::review_queue::pending_count(&state.db, &scope).await
        }
        None => Ok(0),
    }
}

#[derive(Template)]
#[template(source = "{% include \"_nav_badge.html\" %}", ext = "html")]
struct NavBadge {
    link: NavLink,
}

/// `GET /nav/waiting`: the reviews link's count as a fragment, for a page made without it (a form
/// shown again after its POST); nothing when none waits or nobody is signed in.
pub async fn nav_waiting(req: HttpRequest) -> Result<HttpResponse, AppError> {
    let badge = match principal_of(&req).await? {
        Some(p) => waiting_badge(waiting_of(&req, &p).await?),
        None => String::new(),
    };
    let link = NavLink {
        href: "",
        label: "",
        current: false,
        badge,
        badge_later: false,
    };
    // Never cached: the security headers' middleware marks every page `no-store`.
    render(StatusCode::OK, &NavBadge { link })
}

/// About the size of the last page rendered (with an eighth to spare): the next page's first guess.
static RECENT_PAGE_BYTES: AtomicUsize = AtomicUsize::new(0);
/// Kept below glibc's threshold for mapping allocations from the system (128 kB).
const MAX_PAGE_HINT: usize = 120 * 1024;

/// Renders a template as an HTML response with the given status.
pub fn render<T: Template>(status: StatusCode, page: &T) -> Result<HttpResponse, AppError> {
    // Sized from the pages rendered lately rather than from askama's guess (the template's own
    // text): a 95 kB queue page grown from a few kB is reallocated and copied five times over.
    let hint = RECENT_PAGE_BYTES
        .load(Ordering::Relaxed)
        .clamp(T::SIZE_HINT, MAX_PAGE_HINT);
    let mut html = String::with_capacity(hint);
    page.render_into(&mut html)
        .map_err(|e| anyhow::anyhow!("template error: {e}"))?;
    RECENT_PAGE_BYTES.store(html.len() + html.len() / 8, Ordering::Relaxed);
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(html))
}

pub fn ok<T: Template>(page: &T) -> Result<HttpResponse, AppError> {
    render(StatusCode::OK, page)
}

/// True for htmx requests that want a fragment (not boosted navigation, not a history restore).
pub fn wants_fragment(req: &HttpRequest) -> bool {
    let h = req.headers();
    h.contains_key("HX-Request")
        && !h.contains_key("HX-Boosted")
        && !h.contains_key("HX-History-Restore-Request")
}

/// Accepts only same-site absolute paths (`/admin/users?q=x`), refusing `//evil.example`, `/\evil`,
/// schemes and control characters: what `next` and back links may point at.
pub fn safe_local_path(p: &str) -> Option<String> {
    let ok = p.starts_with('/')
        && !p.starts_with("//")
        && !p.starts_with("/\\")
        && p.is_ascii()
        && !p.chars().any(|c| c.is_control() || c == '\\')
        && p.len() <= 2048;
    ok.then(|| p.to_string())
}

/// The local path of a Referer URL, if it points at this site's paths.
pub fn local_path_of_referer(referer: &str) -> Option<String> {
    let url = url::Url::parse(referer).ok()?;
    let mut p = url.path().to_string();
    if let Some(q) = url.query() {
        p.push('?');
        p.push_str(q);
    }
    safe_local_path(&p)
}

/// A redirect after a successful POST (303, or HX-Redirect-free for boosted htmx which follows it).
pub fn see_other(target: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((actix_web::http::header::LOCATION, target))
        .finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_keep_non_empty_pairs_form_encoded() {
        assert_eq!(with_query("/x", &[("a", ""), ("b", "")]), "/x");
        assert_eq!(
            with_query("/x", &[("a", "1 2"), ("b", ""), ("c", "&=é")]),
            "/x?a=1+2&c=%26%3D%C3%A9"
        );
    }

    #[test]
    fn only_local_paths_are_safe() {
        assert_eq!(
            safe_local_path("/admin/users?q=a").as_deref(),
            Some("/admin/users?q=a")
        );
        for bad in [
            "//evil.example",
            "/\\evil.example",
            "https://evil.example/",
            "javascript:alert(1)",
            "admin",
            "/a\nb",
        ] {
            assert!(safe_local_path(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn nav_marks_the_current_area() {
        let nav = nav_for(Some(Role::Admin), "/admin/users/3");
        assert!(
            nav.iter()
                .find(|l| l.href == "/admin/users")
                .unwrap()
                .current
        );
        assert!(!nav.iter().find(|l| l.href == "/admin").unwrap().current);
        assert!(
            nav_for(Some(Role::Viewer), "/admin")
                .iter()
                .all(|l| l.href != "/admin/users")
        );
        let nav = nav_for(Some(Role::Operator), "/admin/customers/CUS-1/edit");
        let current: Vec<_> = nav.iter().filter(|l| l.current).map(|l| l.href).collect();
        assert_eq!(current, ["/admin/customers"]);
        for path in [
            "/admin/hired-agents",
            "/admin/hired-agents/HAI-1",
            "/admin/hired-agents/HAI-1.config",
        ] {
            let nav = nav_for(Some(Role::Viewer), path);
            let current: Vec<_> = nav.iter().filter(|l| l.current).map(|l| l.href).collect();
            assert_eq!(current, ["/admin/hired-agents"], "{path}");
        }
    }
}

/// Per-field errors of a submitted form, shown next to each field and summed up at the top.
#[derive(Debug, Clone, Default)]
pub struct FormErrors(pub Vec<crate::error::Violation>);

impl FormErrors {
    /// The message for one field, or "" when it has none.
    pub fn get<S: AsRef<str>>(&self, field: S) -> &str {
        let field = field.as_ref();
        self.0
            .iter()
            .find(|v| v.path == field)
            .map(|v| v.message.as_str())
            .unwrap_or("")
    }

    pub fn has(&self, field: &str) -> bool {
        self.0.iter().any(|v| v.path == field)
    }

    pub fn any(&self) -> bool {
        !self.0.is_empty()
    }

    pub fn all(&self) -> &[crate::error::Violation] {
        &self.0
    }

    /// Turns a 422 into form errors; any other error passes through.
    pub fn from_result<T>(r: Result<T, AppError>) -> Result<Result<T, FormErrors>, AppError> {
        match r {
            Ok(v) => Ok(Ok(v)),
            Err(AppError::Invalid { violations, .. }) => Ok(Err(FormErrors(violations))),
            Err(e) => Err(e),
        }
    }
}

/// `path` with the non-empty pairs as its query (a list page's links keep its filters).
pub fn with_query(path: &str, pairs: &[(&str, &str)]) -> String {
    QueryHref {
        path: &[path],
        pairs,
    }
    .to_string()
}

/// A path (written in parts) with the non-empty pairs as its form-encoded query, written straight
/// into a page: [`with_query`] without the string.
pub struct QueryHref<'a> {
    pub path: &'a [&'a str],
    pub pairs: &'a [(&'a str, &'a str)],
}

impl super::view::WritePieces for QueryHref<'_> {
    fn write_pieces(&self, f: &mut dyn std::fmt::Write) -> std::fmt::Result {
        for part in self.path {
            f.write_str(part)?;
        }
        let mut sep = "?";
        for (key, value) in self.pairs.iter().filter(|(_, v)| !v.is_empty()) {
            f.write_str(sep)?;
            for part in url::form_urlencoded::byte_serialize(key.as_bytes()) {
                f.write_str(part)?;
            }
            f.write_str("=")?;
            for part in url::form_urlencoded::byte_serialize(value.as_bytes()) {
                f.write_str(part)?;
            }
            sep = "&";
        }
        Ok(())
    }
}

super::view::written_in_pieces!(QueryHref<'_>);
