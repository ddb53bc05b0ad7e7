//! Whose data a request acts on. The customer always comes from the principal: a customer's user
//! acts for their own customer (naming another is "not found"); staff name the customer they act
//! for, and their changes are recorded as on that customer's behalf.

use crate::domain::actor::{Actor, Scope};
use crate::error::{AppError, AppResult, ErrorCode};

use super::auth::Principal;

/// The customer a request acts for, with the actor to record. `write`: staff must be allowed to
/// change things (viewers read only).
pub fn customer_for(
    principal: &Principal,
    actor: &Actor,
    named: Option<&str>,
    write: bool,
) -> AppResult<(String, Actor)> {
    let named = named.map(str::trim).filter(|c| !c.is_empty());
    match super::auth::scope_of(&principal.user) {
        Scope::Customer(own) => match named {
            Some(other) if other != own => Err(AppError::NotFound),
            _ if own.is_empty() => Err(AppError::NotFound),
            _ => Ok((own, actor.clone())),
        },
        Scope::Staff => {
            if write {
                require_write(principal)?;
            }
            let id = named.ok_or_else(|| {
                AppError::bad_request(ErrorCode::CustomerRequired, "customer_id is required.")
            })?;
            Ok((id.to_string(), actor.clone().on_behalf_of(id)))
        }
    }
}

/// Customers change their own data; of staff, viewers change nothing.
pub fn require_write(principal: &Principal) -> AppResult<()> {
    let role = principal.user.role;
    if role.is_staff() && !role.can_write_admin() {
        return Err(AppError::forbidden(
            ErrorCode::ReadOnly,
            "Viewers can look at everything but change nothing.",
        ));
    }
    Ok(())
}

/// [`customer_for`], and for staff also that the named customer exists ("not found" otherwise;
/// a customer's own always does).
pub async fn existing_customer_for(
    db: &crate::db::Db,
    principal: &Principal,
    actor: &Actor,
    named: Option<&str>,
    write: bool,
) -> AppResult<(String, Actor)> {
    let (id, actor) = customer_for(principal, actor, named, write)?;
    if principal.user.role.is_staff() {
        crate::service::customers::get(db, &Scope::Staff, &id).await?;
    }
    Ok((id, actor))
}
