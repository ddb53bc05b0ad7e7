//! A secret shown exactly once on the page a redirect leads to (a generated one-time password after
//! "create user"): it crosses the redirect in the session, sealed with a key that is not in the
//! database, and the first page that shows it takes it out.

use actix_session::Session;
use serde::{Deserialize, Serialize};

use crate::keys::Keys;

const KEY: &str = "one_time_secret";

#[derive(Serialize, Deserialize)]
struct Stashed {
    /// The page it belongs to, e.g. `user 7`; also the sealing context.
    about: String,
    sealed: String,
}

/// Keeps `secret` for the next page about `about` (replacing one not yet shown).
pub fn stash(session: &Session, keys: &Keys, about: &str, secret: &str) {
    let stashed = Stashed {
        about: about.to_string(),
        sealed: keys.seal(about, secret),
    };
    let _ = session.insert(KEY, stashed);
}

/// The secret kept for the page about `about`, removed as it is read; `None` when there is none.
pub fn take(session: &Session, keys: &Keys, about: &str) -> Option<String> {
    let stashed: Stashed = session.get(KEY).ok().flatten()?;
    if stashed.about != about {
        return None;
    }
    session.remove(KEY);
    keys.open(about, &stashed.sealed)
}
