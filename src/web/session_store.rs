//! Server-side sessions in our own database, so every instance sharing it sees the same sessions and
//! ending one (logout, disabled user, new password) takes effect everywhere at once.

use std::collections::HashMap;
use std::sync::Arc;

use actix_session::storage::{LoadError, SaveError, SessionKey, SessionStore, UpdateError};
use actix_web::cookie::time::Duration as CookieDuration;

use crate::clock::Clock;
use crate::db::{Db, sessions};

/// Session keys in the state map that the store reads.
pub const USER_ID_KEY: &str = "uid";

#[derive(Clone)]
pub struct DbSessionStore {
    pub db: Db,
    pub clock: Arc<dyn Clock>,
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

fn new_key() -> String {
    crate::passwords::random_urlsafe(32)
}

impl SessionStore for DbSessionStore {
    async fn load(
        &self,
        session_key: &SessionKey,
    ) -> Result<Option<HashMap<String, String>>, LoadError> {
        let now = self.clock.now();
        let mut c = self
            .db
            .acquire()
            .await
            .map_err(|e| LoadError::Other(e.into()))?;
        let Some(row) = sessions::load(c.conn(), session_key.as_ref())
            .await
            .map_err(|e| LoadError::Other(e.into()))?
        else {
            return Ok(None);
        };
        if row.expires_at <= now || row.created_at + self.max_lifetime <= now {
            sessions::delete(c.conn(), session_key.as_ref())
                .await
                .map_err(|e| LoadError::Other(e.into()))?;
            return Ok(None);
        }
        Ok(Some(row.state.0))
    }

    async fn save(
        &self,
        state: HashMap<String, String>,
        ttl_: &CookieDuration,
    ) -> Result<SessionKey, SaveError> {
        let now = self.clock.now();
        let key = new_key();
        let mut c = self
            .db
            .acquire()
            .await
            .map_err(|e| SaveError::Other(e.into()))?;
        sessions::insert(
            c.conn(),
            &key,
            user_id(&state),
            &state,
            now,
            now + ttl(ttl_),
        )
        .await
        .map_err(|e| SaveError::Other(e.into()))?;
        SessionKey::try_from(key).map_err(|e| SaveError::Other(e.into()))
    }

    async fn update(
        &self,
        session_key: SessionKey,
        state: HashMap<String, String>,
        ttl_: &CookieDuration,
    ) -> Result<SessionKey, UpdateError> {
        let now = self.clock.now();
        let mut c = self
            .db
            .acquire()
            .await
            .map_err(|e| UpdateError::Other(e.into()))?;
        let live = sessions::update(
            c.conn(),
            session_key.as_ref(),
            user_id(&state),
            &state,
            now + ttl(ttl_),
        )
        .await
        .map_err(|e| UpdateError::Other(e.into()))?;
        if live {
            return Ok(session_key);
        }
        // The session was ended meanwhile (signed out elsewhere): never resurrect it under the old
        // key; an anonymous state may start afresh, a signed-in one may not.
        drop(c);
        if user_id(&state).is_some() {
            return Ok(session_key);
        }
        self.save(state, ttl_)
            .await
            .map_err(|e| UpdateError::Other(anyhow::anyhow!(e.to_string())))
    }

    async fn update_ttl(
        &self,
        session_key: &SessionKey,
        ttl_: &CookieDuration,
    ) -> Result<(), anyhow::Error> {
        let now = self.clock.now();
        let mut c = self.db.acquire().await?;
        sessions::touch(
            c.conn(),
            session_key.as_ref(),
            now + ttl(ttl_),
            chrono::Duration::seconds(60),
        )
        .await?;
        Ok(())
    }

    async fn delete(&self, session_key: &SessionKey) -> Result<(), anyhow::Error> {
        let mut c = self.db.acquire().await?;
        sessions::delete(c.conn(), session_key.as_ref()).await?;
        Ok(())
    }
}
