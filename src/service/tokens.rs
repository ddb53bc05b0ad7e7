//! API tokens: created (shown once, stored as a hash) and revoked, each with its audit entry.

use crate::db::audit::{self, Change};
use crate::db::tokens::ApiToken;
use crate::db::{Db, tokens};
use crate::domain::actor::Actor;
use crate::error::{AppError, AppResult, Violation};
use crate::passwords;

pub async fn create_token(
    db: &Db,
    actor: &Actor,
    user_id: i64,
    name: &str,
) -> AppResult<(ApiToken, String)> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::invalid(vec![Violation::new(
            "name",
            "Give the token a name of 1 to 100 characters.",
        )]));
    }
    let (token, hash) = passwords::generate_token();
    let mut tx = db.begin().await?;
    let row = tokens::insert(tx.conn(), user_id, name, &hash, actor.now).await?;
    audit::record(
        tx.conn(),
        actor,
        Change {
            entity_type: "api_token",
            entity_id: &row.id.to_string(),
            action: "created",
            before: None,
            after: Some(row.audit_json()),
        },
    )
    .await?;
    tx.commit().await?;
    Ok((row, token))
}

/// Revokes a token. With `owner`, only that user's token is found (others answer 404).
pub async fn revoke_token(
    db: &Db,
    actor: &Actor,
    token_id: i64,
    owner: Option<i64>,
) -> AppResult<ApiToken> {
    let mut tx = db.begin().await?;
    let before = tokens::by_id(tx.conn(), token_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if owner.is_some_and(|o| o != before.user_id) {
        return Err(AppError::NotFound);
    }
    if !tokens::revoke(tx.conn(), token_id, actor.now).await? {
        return Ok(before);
    }
    let after = tokens::by_id(tx.conn(), token_id)
        .await?
        .ok_or(AppError::NotFound)?;
    audit::record(
        tx.conn(),
        actor,
        Change {
            entity_type: "api_token",
            entity_id: &token_id.to_string(),
            action: "revoked",
            before: Some(before.audit_json()),
            after: Some(after.audit_json()),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}
