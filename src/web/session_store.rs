//! Server-side sessions in our own database, so every instance sharing it sees the same sessions and
//! ending one (logout, disabled user, new password) takes effect everywhere at once.
//!
//! Cost per request: one statement loads the session together with its user (the principal) and the
//! count of what waits for the user's review (the navigation's badge, shown on every page), and
//! nothing is written back unless the state changed or the idle deadline is more than a minute
//! stale. Visitors who have not signed in have no session row at all (their CSRF token lives in a
//! signed cookie, see `web::csrf`). Rows are keyed by the SHA-256 of the cookie's key, so a copy of
//! the database holds nothing that can be replayed as a cookie.

use std::collections::HashMap;
use std::sync::Arc;

use actix_session::storage::{LoadError, SaveError, SessionKey, SessionStore, UpdateError};
use actix_web::cookie::time::Duration as CookieDuration;

use crate::clock::Clock;
use crate::db::Db;
use crate::service::sessions;

/// Session keys in the state map that the store reads.
pub const USER_ID_KEY: &str = "uid";
/// The signed-in user as loaded with the session; filled by `load`, never stored.
pub const PRINCIPAL_KEY: &str = "__principal";
/// How many items wait for the signed-in user's review (the navigation's badge), counted by the
/// same statement; filled by `load`, never stored.
pub const WAITING_KEY: &str = "__waiting";

#[derive(Clone)]
pub struct DbSessionStore {
    pub db: Db,
    pub clock: Arc<dyn Clock>,
    /// Idle lifetime: the deadline moves this far ahead on use.
    pub idle: chrono::Duration,
    /// Absolute lifetime from creation (renewed at sign-in).
    pub max_lifetime: chrono::Duration,
}

fn user_id(state: &HashMap<String, String>) -> Option<i64> {
    state
        .get(USER_ID_KEY)
        .and_then(|v| serde_json::from_str::<i64>(v).ok())
}

fn ttl(d: &CookieDuration) -> chrono::Duration {
    chrono::Duration::seconds(d.whole_seconds())
}

/// The state as stored: without what `load` added.
fn stored(mut state: HashMap<String, String>) -> HashMap<String, String> {
    state.remove(PRINCIPAL_KEY);
    state.remove(WAITING_KEY);
    state
}

fn other<E: From<anyhow::Error>>(e: crate::error::AppError) -> E {
    E::from(anyhow::anyhow!(e))
}

impl SessionStore for DbSessionStore {
    async fn load(
        &self,
        session_key: &SessionKey,
    ) -> Result<Option<HashMap<String, String>>, LoadError> {
        let life = sessions::Lifetimes {
            idle: self.idle,
            max: self.max_lifetime,
        };
        let Some(loaded) = sessions::load(&self.db, session_key.as_ref(), self.clock.now(), life)
            .await
            .map_err(|e| LoadError::Other(anyhow::anyhow!(e)))?
        else {
            return Ok(None);
        };
        let mut state = stored(loaded.state);
        if let Some(user) = loaded.user {
            let json = serde_json::to_string(&user).map_err(|e| LoadError::Other(e.into()))?;
            state.insert(PRINCIPAL_KEY.into(), json);
            state.insert(WAITING_KEY.into(), loaded.waiting.to_string());
        }
        Ok(Some(state))
    }

    async fn save(
        &self,
        state: HashMap<String, String>,
        ttl_: &CookieDuration,
    ) -> Result<SessionKey, SaveError> {
        let state = stored(state);
        let now = self.clock.now();
        let key = sessions::create(&self.db, &state, user_id(&state), now, now + ttl(ttl_))
            .await
            .map_err(|e| SaveError::Other(anyhow::anyhow!(e)))?;
        SessionKey::try_from(key).map_err(|e| SaveError::Other(e.into()))
    }

    async fn update(
        &self,
        session_key: SessionKey,
        state: HashMap<String, String>,
        ttl_: &CookieDuration,
    ) -> Result<SessionKey, UpdateError> {
        let state = stored(state);
        let expires = self.clock.now() + ttl(ttl_);
        let live = sessions::replace(
            &self.db,
            session_key.as_ref(),
            &state,
            user_id(&state),
            expires,
        )
        .await
        .map_err(|e| UpdateError::Other(anyhow::anyhow!(e)))?;
        if live {
            return Ok(session_key);
        }
        // The session was ended meanwhile (signed out elsewhere): never resurrect it under the old
        // key; an anonymous state may start afresh, a signed-in one may not.
        if user_id(&state).is_some() {
            return Ok(session_key);
        }
        self.save(state, ttl_)
            .await
            .map_err(|e| UpdateError::Other(anyhow::anyhow!(e.to_string())))
    }

    /// Not called: the middleware extends only on state changes, and `load` moves a stale deadline.
    async fn update_ttl(
        &self,
        session_key: &SessionKey,
        ttl_: &CookieDuration,
    ) -> Result<(), anyhow::Error> {
        let expires = self.clock.now() + ttl(ttl_);
        sessions::touch(&self.db, session_key.as_ref(), expires)
            .await
            .map_err(other)
    }

    async fn delete(&self, session_key: &SessionKey) -> Result<(), anyhow::Error> {
        sessions::end(&self.db, session_key.as_ref())
            .await
            .map_err(other)
    }
}
