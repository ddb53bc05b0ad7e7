//! Customers' credentials (SPEC §5): write-only secrets. A secret is encrypted on its way in and
//! never answered back; configurations name it by reference (`CRED-…`). `rotate` re-encrypts every
//! credential under a new master key in one transaction.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::db::audit::{self, Change};
use crate::db::credentials::{self, Credential};
use crate::db::{Conn, Db};
use crate::domain::actor::{Actor, Scope};
use crate::domain::ids::new_id;
use crate::error::{AppError, AppResult, Violation};
use crate::keys::Keys;

/// The largest secret accepted (API keys and OAuth tokens are far shorter).
pub const MAX_SECRET_BYTES: usize = 8 * 1024;

/// A credential as anyone may see it: never its secret.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CredentialInfo {
    #[schema(example = "CRED-3f2c…")]
    pub credential_ref: String,
    pub label: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&Credential> for CredentialInfo {
    fn from(c: &Credential) -> Self {
        CredentialInfo {
            credential_ref: c.id.clone(),
            label: c.label.clone(),
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

/// A new secret, or a new secret for an existing credential (`credential_ref`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PutCredential {
    pub label: String,
    pub secret: String,
    pub credential_ref: Option<String>,
}

fn check(input: &PutCredential) -> AppResult<(String, String)> {
    let mut problems = vec![];
    let label = input.label.trim();
    if label.is_empty() || label.chars().count() > 200 {
        problems.push(Violation::new(
            "label",
            "Give the credential a name of 1 to 200 characters.",
        ));
    }
    if input.secret.trim().is_empty() {
        problems.push(Violation::new("secret", "Enter the secret."));
    } else if input.secret.len() > MAX_SECRET_BYTES {
        problems.push(Violation::new(
            "secret",
            format!("A secret is at most {MAX_SECRET_BYTES} bytes."),
        ));
    }
    if !problems.is_empty() {
        return Err(AppError::invalid(problems));
    }
    Ok((label.to_string(), input.secret.clone()))
}

/// Stores a secret for `customer_id`: a new credential, or a new secret (and label) for one of
/// its own (`credential_ref`; another customer's is "not found"). One transaction with its audit
/// entry, which names the credential and never holds the secret.
pub async fn put(
    db: &Db,
    keys: &Keys,
    actor: &Actor,
    customer_id: &str,
    input: &PutCredential,
) -> AppResult<CredentialInfo> {
    let (label, secret) = check(input)?;
    let mut tx = db.begin().await?;
    let saved = store_in(
        tx.conn(),
        keys,
        actor,
        customer_id,
        input.credential_ref.as_deref(),
        &label,
        &secret,
    )
    .await?;
    tx.commit().await?;
    Ok(CredentialInfo::from(&saved))
}

/// Stores a checked secret inside the caller's transaction (a new credential, or a new secret for
/// `credential_ref`), with its audit entry; also used by configuration forms' secret inputs.
pub async fn store_in(
    mut c: Conn<'_>,
    keys: &Keys,
    actor: &Actor,
    customer_id: &str,
    credential_ref: Option<&str>,
    label: &str,
    secret: &str,
) -> AppResult<Credential> {
    let existing = credential_ref.map(str::trim).filter(|r| !r.is_empty());
    let saved = match existing {
        Some(id) => {
            let sealed = keys.seal_credential(id, secret);
            if !credentials::replace(c.reborrow(), id, customer_id, label, &sealed, actor.now)
                .await?
            {
                return Err(AppError::NotFound);
            }
            credentials::get(c.reborrow(), id, customer_id)
                .await?
                .ok_or(AppError::NotFound)?
        }
        None => {
            let id = new_id("CRED");
            let row = Credential {
                sealed: keys.seal_credential(&id, secret),
                id,
                customer_id: customer_id.to_string(),
                label: label.to_string(),
                created_at: actor.now,
                updated_at: actor.now,
            };
            credentials::insert(c.reborrow(), &row).await?;
            row
        }
    };
    audit::record(
        c,
        actor,
        Change {
            entity_type: "credential",
            entity_id: &saved.id,
            action: if existing.is_some() {
                "credential.secret_replaced"
            } else {
                "credential.created"
            },
            before: None,
            after: Some(
                json!({"label": saved.label, "customer_id": customer_id, "secret": "(write-only)"}),
            ),
        },
    )
    .await?;
    Ok(saved)
}

/// Checks a secret typed into a form (size only: the label is made by the caller).
pub fn check_secret(path: &str, secret: &str) -> Result<(), Violation> {
    if secret.len() > MAX_SECRET_BYTES {
        return Err(Violation::new(
            path,
            format!("A secret is at most {MAX_SECRET_BYTES} bytes."),
        ));
    }
    Ok(())
}

/// The ids among `refs` that are not credentials of `customer_id`.
pub async fn unknown_refs(
    mut c: Conn<'_>,
    customer_id: &str,
    refs: &[(String, String)],
) -> AppResult<Vec<Violation>> {
    let mut out = vec![];
    for (path, r) in refs {
        if credentials::get(c.reborrow(), r, customer_id)
            .await?
            .is_none()
        {
            out.push(Violation::new(
                path.clone(),
                format!("{r} is not one of this customer's stored credentials."),
            ));
        }
    }
    Ok(out)
}

/// A customer's credentials, without their secrets.
pub async fn list(db: &Db, scope: &Scope, customer_id: &str) -> AppResult<Vec<CredentialInfo>> {
    if !scope.sees(customer_id) {
        return Err(AppError::NotFound);
    }
    let mut c = db.acquire().await?;
    Ok(credentials::of_customer(c.conn(), customer_id)
        .await?
        .iter()
        .map(CredentialInfo::from)
        .collect())
}

/// The secret of a customer's credential, for the code that uses it (never for a response).
pub async fn reveal(db: &Db, keys: &Keys, customer_id: &str, id: &str) -> AppResult<String> {
    let mut c = db.acquire().await?;
    let row = credentials::get(c.conn(), id, customer_id)
        .await?
        .ok_or(AppError::NotFound)?;
    keys.open_credential(&row.id, &row.sealed).ok_or_else(|| {
        AppError::Internal(anyhow::anyhow!(
            "credential {id} does not open with the current key"
        ))
    })
}

/// Re-encrypts every credential from `old` to `new` in one transaction; the number re-encrypted.
/// If any does not open with `old`, nothing changes and the error names it.
pub async fn rotate(db: &Db, actor: &Actor, old: &Keys, new: &Keys) -> anyhow::Result<usize> {
    let mut tx = db.begin().await?;
    let rows = credentials::all_for_update(tx.conn()).await?;
    for row in &rows {
        let secret = old.open_credential(&row.id, &row.sealed).ok_or_else(|| {
            anyhow::anyhow!(
                "credential {} does not open with AGENTDESK_SECRET_KEY_PREVIOUS; nothing was changed",
                row.id
            )
        })?;
        credentials::set_sealed(tx.conn(), &row.id, &new.seal_credential(&row.id, &secret)).await?;
    }
    audit::record(
        tx.conn(),
        actor,
        Change {
            entity_type: "credential",
            entity_id: "*",
            action: "credential.keys_rotated",
            before: None,
            after: Some(json!({"credentials": rows.len()})),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(rows.len())
}
