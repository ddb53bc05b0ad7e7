//! Flash messages ("Approved: …", "Goal saved: …"): shown once, on the next page the browser shows.
//! They travel in a cookie sealed with a key of their own (AES-GCM, [`Keys::seal_flash`]), not in
//! the session: queuing one and showing it write nothing to the database, where a session
//! write cost a statement on each side of every form's redirect.

use actix_web::body::MessageBody;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpRequest, web};
use serde::{Deserialize, Serialize};

use super::AppState;
use crate::keys::Keys;

pub const FLASH_COOKIE: &str = "agentdesk_flash";

/// The most one cookie's messages take as JSON: sealed (nonce and tag added, then base64) that is
/// about 3.6 kB, inside the 4 kB a browser keeps of a cookie.
const MAX_JSON: usize = 2_700;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flash {
    /// `success`, `info` or `error`.
    pub kind: String,
    pub text: String,
}

/// What the request did with messages, for [`carry`].
#[derive(Default)]
struct Pending {
    queued: Vec<Flash>,
    shown: bool,
}

/// Queues a message for the next page this browser shows.
pub fn flash(req: &HttpRequest, kind: &str, text: impl Into<String>) {
    let mut ext = req.extensions_mut();
    if !ext.contains::<Pending>() {
        ext.insert(Pending::default());
    }
    if let Some(p) = ext.get_mut::<Pending>() {
        p.queued.push(Flash {
            kind: kind.into(),
            text: text.into(),
        });
    }
}

/// The messages the browser brought, for the page being rendered; the answer removes them. An
/// htmx fragment (a goal card, filtered results) shows no messages, so it leaves them waiting.
pub fn take(req: &HttpRequest) -> Vec<Flash> {
    if super::pages::wants_fragment(req) {
        return vec![];
    }
    let Some(cookie) = req.cookie(FLASH_COOKIE) else {
        return vec![];
    };
    let Some(state) = req.app_data::<web::Data<AppState>>() else {
        return vec![];
    };
    let mut ext = req.extensions_mut();
    if !ext.contains::<Pending>() {
        ext.insert(Pending::default());
    }
    if let Some(p) = ext.get_mut::<Pending>() {
        p.shown = true;
    }
    open(&state.keys, &cookie)
}

/// The messages of a sealed cookie; none when it was not sealed with these keys (or is damaged).
fn open(keys: &Keys, cookie: &Cookie<'_>) -> Vec<Flash> {
    keys.open_flash(cookie.value())
        .and_then(|json| serde_json::from_str(&json).ok())
        .unwrap_or_default()
}

/// `flashes` as JSON of at most [`MAX_JSON`] bytes: the newest messages are dropped first, then a
/// lone message's text is cut.
fn fitted(mut flashes: Vec<Flash>) -> String {
    loop {
        let json = serde_json::to_string(&flashes).unwrap_or_default();
        if json.len() <= MAX_JSON {
            return json;
        }
        if flashes.len() > 1 {
            flashes.pop();
            continue;
        }
        let text = &mut flashes[0].text;
        let mut end = text.len() / 2;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push('…');
    }
}

/// The cookie carrying `flashes`, sealed.
fn seal(keys: &Keys, flashes: Vec<Flash>, secure: bool) -> Cookie<'static> {
    Cookie::build(FLASH_COOKIE, keys.seal_flash(&fitted(flashes)))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .finish()
}

/// Middleware: sets the cookie when the request queued messages (after any the browser brought
/// and no page showed yet), and removes it once a page showed them (a redirect shows nothing).
pub async fn carry(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let mut res = next.call(req).await?;
    let Some(p) = res.request().extensions_mut().remove::<Pending>() else {
        return Ok(res);
    };
    let Some(state) = res.request().app_data::<web::Data<AppState>>().cloned() else {
        return Ok(res);
    };
    // A form's POST reads the messages for the page it might show again, but when it redirects
    // they were not shown: they wait for the next page, ahead of any it queued.
    let shown = p.shown && !res.status().is_redirection();
    if !p.queued.is_empty() {
        let mut all = match (shown, res.request().cookie(FLASH_COOKIE)) {
            (false, Some(c)) => open(&state.keys, &c),
            _ => vec![],
        };
        all.extend(p.queued);
        let cookie = seal(&state.keys, all, state.settings.cookie_secure());
        let _ = res.response_mut().add_cookie(&cookie);
    } else if shown {
        let gone = Cookie::build(FLASH_COOKIE, "").path("/").finish();
        let _ = res.response_mut().add_removal_cookie(&gone);
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;

    fn keys(secret: &str) -> Keys {
        Keys::derive(&Secret::new(secret.repeat(32)))
    }

    fn said(text: &str) -> Flash {
        Flash {
            kind: "success".into(),
            text: text.into(),
        }
    }

    #[test]
    fn a_sealed_cookie_opens_only_with_its_keys() {
        let k = keys("a");
        let sealed = seal(&k, vec![said("Approved: Week 12 report.")], true);
        assert!(!sealed.value().contains("Approved"), "the text is sealed");
        assert!(sealed.http_only() == Some(true) && sealed.secure() == Some(true));
        assert_eq!(open(&k, &sealed), vec![said("Approved: Week 12 report.")]);
        assert_eq!(open(&keys("b"), &sealed), vec![]);
        let forged = Cookie::new(FLASH_COOKIE, r#"[{"kind":"error","text":"forged"}]"#);
        assert_eq!(open(&k, &forged), vec![]);
    }

    #[test]
    fn long_texts_are_cut_to_fit_a_cookie() {
        let k = keys("a");
        let sealed = seal(&k, vec![said(&"é".repeat(5_000)), said("next")], false);
        assert!(
            sealed.value().len() < 3_900,
            "{} bytes",
            sealed.value().len()
        );
        let back = open(&k, &sealed);
        assert_eq!(back.len(), 1, "the second no longer fits");
        assert!(back[0].text.starts_with("éé") && back[0].text.ends_with('…'));
        let two = open(&k, &seal(&k, vec![said("one"), said("two")], false));
        assert_eq!(
            two,
            vec![said("one"), said("two")],
            "short ones keep their order"
        );
    }
}
