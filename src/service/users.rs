//! Reads of users and their tokens for the pages (changes are in `accounts`).

use crate::db::{Db, customers, sessions, tokens, users};
use crate::domain::roles::Role;
use crate::error::{AppError, AppResult};

pub use crate::db::tokens::ApiToken;
pub use crate::db::users::{User, UserListRow};

/// One page of the users list: matches of `query` (see `db::users::search_sql`), newest first,
/// after the keyset cursor. One statement.
pub async fn search(
    db: &Db,
    query: &str,
    role: Option<Role>,
    before_id: Option<i64>,
    limit: i64,
) -> AppResult<Vec<UserListRow>> {
    let mut c = db.acquire().await?;
    Ok(users::search(c.conn(), query, role, before_id, limit).await?)
}

/// What a user's page shows besides the history.
pub struct Detail {
    pub user: User,
    /// "Name (CUS-…)" of the user's customer, for customer users.
    pub customer: Option<String>,
    pub live_sessions: i64,
    pub tokens: Vec<ApiToken>,
}

/// A user with their customer, live sessions and tokens; `NotFound` when there is no such user.
pub async fn detail(db: &Db, id: i64) -> AppResult<Detail> {
    let mut c = db.acquire().await?;
    let user = users::by_id(c.conn(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    let customer = match &user.customer_id {
        Some(cid) => customers::by_id(c.conn(), cid)
            .await?
            .map(|c| format!("{} ({})", c.name, c.id)),
        None => None,
    };
    let live_sessions = sessions::count_for_user(c.conn(), id).await?;
    let tokens = tokens::for_user(c.conn(), id).await?;
    Ok(Detail {
        user,
        customer,
        live_sessions,
        tokens,
    })
}

/// A user's own API tokens.
pub async fn tokens_of(db: &Db, user_id: i64) -> AppResult<Vec<ApiToken>> {
    let mut c = db.acquire().await?;
    Ok(tokens::for_user(c.conn(), user_id).await?)
}
