//! Customers: read within a scope (a customer's user only ever finds their own customer; anything
//! else is "not found"), created and changed in one transaction each with its audit entry
//! (`customer.created` / `customer.updated`, before and after, like
//! billing's `customer.gstin_set`).
//!
//! The rules for what is typed are `domain::customer` and apply wherever details are entered:
//! staff in `/admin/customers` change everything ([`create`], [`update`]); a customer's own users
//! change their company details — name, billing address, GSTIN — but not the contact e-mail
//! ([`update_details`]): that address is how agentdesk reaches the customer, so moving it stays
//! with staff. Refusals are field errors (`AppError::Invalid`, paths `name`, `email`,
//! `billing_address`, `gstin`), all of them at once, and nothing is written then.

use serde::Deserialize;

use crate::db::audit::{self, Change};
use crate::db::customers::{self, Cursor, Values};
use crate::db::{Db, users};
use crate::domain::actor::{Actor, Scope};
use crate::domain::customer as rules;
use crate::domain::gstin::Gstin;
use crate::domain::ids::new_id;
use crate::domain::text::without_refused;
use crate::error::{AppError, AppResult, ErrorCode, Violation};

pub use crate::db::customers::Customer;
pub use crate::db::users::User;

/// Everything staff enter for a customer, as typed (trimmed and checked here). The field names are
/// the violation paths, so a form posting these names gets its errors back by field.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CustomerInput {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub billing_address: String,
    #[serde(default)]
    pub gstin: String,
}

/// What a customer's user may change of their own customer, as typed: the details printed on
/// invoices.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CompanyDetails {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub billing_address: String,
    #[serde(default)]
    pub gstin: String,
}

impl CustomerInput {
    fn checked(&self) -> AppResult<Checked> {
        check(
            &self.name,
            Some(&self.email),
            &self.billing_address,
            &self.gstin,
        )
    }

    /// The form's values from a stored customer (to edit it).
    pub fn of(c: &Customer) -> Self {
        CustomerInput {
            name: c.name.clone(),
            email: c.email.clone(),
            billing_address: c.billing_address.clone().unwrap_or_default(),
            gstin: c.gstin.clone().unwrap_or_default(),
        }
    }

    /// The values to show again in a form after a refusal: as typed, without the characters
    /// refused (they are invisible; the field error says they were taken out).
    pub fn shown_again(&self) -> Self {
        CustomerInput {
            name: without_refused(&self.name, true),
            email: without_refused(&self.email, true),
            billing_address: without_refused(&self.billing_address, false),
            gstin: without_refused(&self.gstin, true),
        }
    }
}

impl CompanyDetails {
    fn checked(&self) -> AppResult<Checked> {
        check(&self.name, None, &self.billing_address, &self.gstin)
    }

    /// The form's values from a stored customer.
    pub fn of(c: &Customer) -> Self {
        let CustomerInput {
            name,
            billing_address,
            gstin,
            ..
        } = CustomerInput::of(c);
        CompanyDetails {
            name,
            billing_address,
            gstin,
        }
    }

    /// See [`CustomerInput::shown_again`].
    pub fn shown_again(&self) -> Self {
        CompanyDetails {
            name: without_refused(&self.name, true),
            billing_address: without_refused(&self.billing_address, false),
            gstin: without_refused(&self.gstin, true),
        }
    }
}

/// `NotFound` when the scope may not see this customer (as when there is none).
fn visible(scope: &Scope, id: &str) -> AppResult<()> {
    if scope.sees(id) {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

/// Checked values, ready to keep.
struct Checked {
    name: String,
    /// `None`: keep the stored one (company details do not carry it).
    email: Option<String>,
    gstin: Option<String>,
    billing_address: Option<String>,
}

/// Every field's problem at once, or the values to keep.
fn check(
    name: &str,
    email: Option<&str>,
    billing_address: &str,
    gstin: &str,
) -> AppResult<Checked> {
    fn field<T>(problems: &mut Vec<Violation>, path: &str, r: Result<T, String>) -> Option<T> {
        r.map_err(|m| problems.push(Violation::new(path, m))).ok()
    }
    let mut problems = vec![];
    let p = &mut problems;
    let checked = Checked {
        name: field(p, "name", rules::name(name)).unwrap_or_default(),
        email: email.and_then(|e| field(p, "email", rules::email(e))),
        billing_address: field(
            p,
            "billing_address",
            rules::billing_address(billing_address),
        )
        .flatten(),
        gstin: field(p, "gstin", rules::gstin(gstin))
            .flatten()
            .map(Gstin::into_string),
    };
    if problems.is_empty() {
        Ok(checked)
    } else {
        Err(AppError::invalid(problems))
    }
}

/// Creates a customer (staff). One transaction: the customer and its audit entry.
pub async fn create(db: &Db, actor: &Actor, input: &CustomerInput) -> AppResult<Customer> {
    let v = input.checked()?;
    let email = v.email.unwrap_or_default();
    let mut tx = db.begin().await?;
    let customer = customers::insert(
        tx.conn(),
        &new_id("CUS"),
        &Values {
            name: &v.name,
            email: &email,
            gstin: v.gstin.as_deref(),
            billing_address: v.billing_address.as_deref(),
        },
        actor.now,
    )
    .await?;
    audit::record(
        tx.conn(),
        actor,
        Change {
            entity_type: "customer",
            entity_id: &customer.id,
            action: "customer.created",
            before: None,
            after: Some(customer.audit_json()),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(customer)
}

/// A customer after a save, and whether anything changed (nothing is written or recorded when the
/// values are the ones stored).
pub struct Saved {
    pub customer: Customer,
    pub changed: bool,
}

/// Changes everything staff may change of a customer, the contact e-mail included. A customer's
/// scope may not (see [`update_details`]); another customer's id, or an unknown one, is `NotFound`.
pub async fn update(
    db: &Db,
    actor: &Actor,
    scope: &Scope,
    id: &str,
    input: &CustomerInput,
) -> AppResult<Saved> {
    visible(scope, id)?;
    if !scope.is_staff() {
        return Err(AppError::forbidden(
            ErrorCode::StaffOnly,
            "The contact e-mail is changed by agentdesk staff.",
        ));
    }
    let v = input.checked()?;
    save(db, actor, id, v).await
}

/// Changes a customer's company details (name, billing address, GSTIN), keeping the contact
/// e-mail: what the customer's own users may change, and staff too. Another customer's id, or an
/// unknown one, is `NotFound`.
pub async fn update_details(
    db: &Db,
    actor: &Actor,
    scope: &Scope,
    id: &str,
    input: &CompanyDetails,
) -> AppResult<Saved> {
    visible(scope, id)?;
    let v = input.checked()?;
    save(db, actor, id, v).await
}

/// One transaction: the customer's row (locked on PostgreSQL), the change, its audit entry.
async fn save(db: &Db, actor: &Actor, id: &str, v: Checked) -> AppResult<Saved> {
    let mut tx = db.begin().await?;
    let before = customers::by_id_for_update(tx.conn(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    let email = v.email.unwrap_or_else(|| before.email.clone());
    let values = Values {
        name: &v.name,
        email: &email,
        gstin: v.gstin.as_deref(),
        billing_address: v.billing_address.as_deref(),
    };
    if before.name == values.name
        && before.email == values.email
        && before.gstin.as_deref() == values.gstin
        && before.billing_address.as_deref() == values.billing_address
    {
        return Ok(Saved {
            customer: before,
            changed: false,
        });
    }
    let after = customers::update(tx.conn(), id, &values, actor.now)
        .await?
        .ok_or(AppError::NotFound)?;
    audit::record(
        tx.conn(),
        actor,
        Change {
            entity_type: "customer",
            entity_id: id,
            action: "customer.updated",
            before: Some(before.audit_json()),
            after: Some(after.audit_json()),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Saved {
        customer: after,
        changed: true,
    })
}

/// One customer, if the scope may see it; otherwise `NotFound`, as for one that does not exist.
pub async fn get(db: &Db, scope: &Scope, id: &str) -> AppResult<Customer> {
    visible(scope, id)?;
    let mut c = db.acquire().await?;
    customers::by_id(c.conn(), id)
        .await?
        .ok_or(AppError::NotFound)
}

/// What a customer's page shows besides the history.
pub struct Detail {
    pub customer: Customer,
    /// The customer's users, oldest first.
    pub users: Vec<User>,
}

/// A customer and its users; `NotFound` when the scope may not see it or there is none. Two
/// statements.
pub async fn detail(db: &Db, scope: &Scope, id: &str) -> AppResult<Detail> {
    visible(scope, id)?;
    let mut c = db.acquire().await?;
    let customer = customers::by_id(c.conn(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    let users = users::for_customer(c.conn(), id).await?;
    Ok(Detail { customer, users })
}

/// One page of the customers list: matches of `query` (see `db::customers::search_sql`), newest
/// first, after the keyset cursor. One statement. A customer's scope finds only its own customer.
pub async fn search(
    db: &Db,
    scope: &Scope,
    query: &str,
    after: Option<&Cursor>,
    limit: i64,
) -> AppResult<Vec<Customer>> {
    let mut c = db.acquire().await?;
    let mut rows = customers::search(c.conn(), query, after, limit).await?;
    rows.retain(|r| scope.sees(&r.id));
    Ok(rows)
}

/// Every customer matching `query`, newest first (for the CSV export): read in pages of
/// `EXPORT_BATCH`, one statement each, on one connection.
pub async fn export(db: &Db, scope: &Scope, query: &str) -> AppResult<Vec<Customer>> {
    const EXPORT_BATCH: i64 = 500;
    let mut c = db.acquire().await?;
    let mut out: Vec<Customer> = vec![];
    loop {
        let after = out.last().map(|r| (r.created_at, r.id.clone()));
        let page = customers::search(c.conn(), query, after.as_ref(), EXPORT_BATCH).await?;
        let full = page.len() as i64 == EXPORT_BATCH;
        out.extend(page);
        if !full {
            break;
        }
    }
    out.retain(|r| scope.sees(&r.id));
    Ok(out)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_problem_at_once_by_field() {
        let Err(AppError::Invalid { violations, .. }) = check("", Some("nope"), "a\0", "27X")
        else {
            panic!("refused")
        };
        let paths: Vec<&str> = violations.iter().map(|v| v.path.as_str()).collect();
        assert_eq!(paths, ["name", "email", "billing_address", "gstin"]);
    }

    #[test]
    fn company_details_keep_the_email() {
        let v = check("Acme", None, "", "").unwrap();
        assert_eq!(v.email, None);
        assert_eq!(v.gstin, None);
        assert_eq!(v.billing_address, None);
        let v = check(" Acme ", Some("A@B.io"), "x", "27aapfu0939f1zv").unwrap();
        assert_eq!(v.email.as_deref(), Some("a@b.io"));
        assert_eq!(v.gstin.as_deref(), Some("27AAPFU0939F1ZV"));
        assert_eq!(v.name, "Acme");
    }

    #[test]
    fn shown_again_without_refused_characters() {
        let shown = CustomerInput {
            name: "Ac\u{202e}me".into(),
            email: "a@b.io\0".into(),
            billing_address: "line 1\r\nline 2\u{7}".into(),
            gstin: "27".into(),
        }
        .shown_again();
        assert_eq!(shown.name, "Acme");
        assert_eq!(shown.email, "a@b.io");
        assert_eq!(shown.billing_address, "line 1\r\nline 2");
    }
}
