//! Customers, read within a scope: a customer's user only ever finds their own customer (anything
//! else is "not found").

use crate::db::{Db, customers};
use crate::domain::actor::Scope;
use crate::error::{AppError, AppResult};

pub use crate::db::customers::Customer;

/// One customer, if the scope may see it; otherwise `NotFound`, as for one that does not exist.
pub async fn get(db: &Db, scope: &Scope, id: &str) -> AppResult<Customer> {
    if !scope.sees(id) {
        return Err(AppError::NotFound);
    }
    let mut c = db.acquire().await?;
    customers::by_id(c.conn(), id)
        .await?
        .ok_or(AppError::NotFound)
}

/// (id, name) of customers for pickers (staff only).
pub async fn options(db: &Db, scope: &Scope) -> AppResult<Vec<(String, String)>> {
    let mut c = db.acquire().await?;
    Ok(customers::list(c.conn(), 500)
        .await?
        .into_iter()
        .filter(|c| scope.sees(&c.id))
        .map(|c| (c.id, c.name))
        .collect())
}
