//! Account operations shared by the web pages, the API and the command line. Each one is a single
//! transaction that writes its change and its audit entry together.

use serde_json::json;

use crate::db::audit::{self, Change};
use crate::db::users::{NewUser, User};
use crate::db::{self, Db, customers, sessions, users};
use crate::domain::actor::Actor;
use crate::domain::customer as customer_rules;
use crate::domain::ids::new_id;
use crate::domain::roles::{Role, normalise_email, password_problem};
use crate::error::{AppError, AppResult, ErrorCode, Violation};
use crate::passwords;

/// Which customer a new customer user belongs to.
#[derive(Debug, Clone)]
pub enum CustomerChoice {
    None,
    Existing(String),
    New { name: String, email: String },
}

#[derive(Debug, Clone)]
pub struct CreateUser {
    pub email: String,
    pub role: Role,
    pub customer: CustomerChoice,
    /// None: generate one and hand it back.
    pub password: Option<String>,
    pub must_change_password: bool,
}

/// The created user and, when none was given, the generated password (shown once).
pub struct Created {
    pub user: User,
    pub generated_password: Option<String>,
}

pub async fn create_user(db: &Db, actor: &Actor, input: CreateUser) -> AppResult<Created> {
    let mut problems = vec![];
    let email = normalise_email(&input.email)
        .map_err(|m| problems.push(Violation::new("email", m)))
        .ok();
    if let Some(p) = input.password.as_deref().and_then(password_problem) {
        problems.push(Violation::new("password", p));
    }
    let new_customer = match (&input.role, &input.customer) {
        (Role::Customer, CustomerChoice::None) => {
            problems.push(Violation::new(
                "customer_id",
                "Choose the customer this user belongs to, or create one.",
            ));
            None
        }
        (Role::Customer, CustomerChoice::New { name, email }) => {
            let name = customer_rules::name(name)
                .map_err(|m| problems.push(Violation::new("customer_name", m)))
                .ok();
            let email = customer_rules::email(email)
                .map_err(|m| problems.push(Violation::new("customer_email", m)))
                .ok();
            Some((name.unwrap_or_default(), email.unwrap_or_default()))
        }
        (Role::Customer, CustomerChoice::Existing(_)) => None,
        (_, CustomerChoice::None) => None,
        (_, _) => {
            problems.push(Violation::new(
                "customer_id",
                "Only customer users belong to a customer.",
            ));
            None
        }
    };
    if !problems.is_empty() {
        return Err(AppError::invalid(problems));
    }
    let email = email.unwrap_or_default();
    let (password, generated) = match input.password {
        Some(p) => (p, None),
        None => {
            let p = passwords::generate_password();
            (p.clone(), Some(p))
        }
    };
    let hash = passwords::hash(password).await?;

    let mut tx = db.begin().await?;
    if users::by_email(tx.conn(), &email).await?.is_some() {
        return Err(AppError::invalid(vec![Violation::new(
            "email",
            "A user with this e-mail exists already.",
        )]));
    }
    let customer_id = match (&input.customer, new_customer) {
        (CustomerChoice::Existing(id), _) => {
            if customers::by_id(tx.conn(), id).await?.is_none() {
                return Err(AppError::invalid(vec![Violation::new(
                    "customer_id",
                    "There is no such customer.",
                )]));
            }
            Some(id.clone())
        }
        (CustomerChoice::New { .. }, Some((name, cemail))) => {
            let values = customers::Values {
                name: &name,
                email: &cemail,
                gstin: None,
                billing_address: None,
            };
            let c = customers::insert(tx.conn(), &new_id("CUS"), &values, actor.now).await?;
            audit::record(
                tx.conn(),
                actor,
                Change {
                    entity_type: "customer",
                    entity_id: &c.id,
                    action: "customer.created",
                    before: None,
                    after: Some(c.audit_json()),
                },
            )
            .await?;
            Some(c.id)
        }
        _ => None,
    };
    let new = NewUser {
        email: &email,
        password_hash: &hash,
        role: input.role,
        customer_id: customer_id.as_deref(),
        must_change_password: input.must_change_password,
    };
    let user = match users::insert(tx.conn(), &new, actor.now).await {
        Ok(u) => u,
        Err(e) if db::is_unique_violation(&e) => {
            return Err(AppError::invalid(vec![Violation::new(
                "email",
                "A user with this e-mail exists already.",
            )]));
        }
        Err(e) => return Err(e.into()),
    };
    audit::record(
        tx.conn(),
        actor,
        Change {
            entity_type: "user",
            entity_id: &user.id.to_string(),
            action: "created",
            before: None,
            after: Some(user.audit_json()),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Created {
        user,
        generated_password: generated,
    })
}

async fn load_user(tx: &mut db::Tx, id: i64) -> AppResult<User> {
    users::by_id(tx.conn(), id).await?.ok_or(AppError::NotFound)
}

/// Changes a user's role (and customer, for customer users). The last enabled admin keeps the role.
pub async fn change_role(
    db: &Db,
    actor: &Actor,
    id: i64,
    role: Role,
    customer_id: Option<String>,
) -> AppResult<User> {
    let customer_id = customer_id.filter(|c| !c.trim().is_empty());
    if role == Role::Customer && customer_id.is_none() {
        return Err(AppError::invalid(vec![Violation::new(
            "customer_id",
            "Choose the customer this user belongs to.",
        )]));
    }
    let customer_id = if role == Role::Customer {
        customer_id
    } else {
        None
    };
    let mut tx = db.begin().await?;
    let before = load_user(&mut tx, id).await?;
    if before.role == role && before.customer_id == customer_id {
        return Ok(before);
    }
    if before.role == Role::Admin
        && role != Role::Admin
        && !before.disabled
        && users::count_active_admins(tx.conn()).await? <= 1
    {
        return Err(AppError::conflict(
            ErrorCode::LastAdmin,
            "This is the last active admin; make someone else admin first.",
        ));
    }
    if let Some(cid) = &customer_id
        && customers::by_id(tx.conn(), cid).await?.is_none()
    {
        return Err(AppError::invalid(vec![Violation::new(
            "customer_id",
            "There is no such customer.",
        )]));
    }
    users::set_role(tx.conn(), id, role, customer_id.as_deref(), actor.now).await?;
    let after = load_user(&mut tx, id).await?;
    audit::record(
        tx.conn(),
        actor,
        Change {
            entity_type: "user",
            entity_id: &id.to_string(),
            action: "role_changed",
            before: Some(before.audit_json()),
            after: Some(after.audit_json()),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// Disables (ending every session at once) or enables a user.
pub async fn set_disabled(db: &Db, actor: &Actor, id: i64, disabled: bool) -> AppResult<User> {
    if disabled && actor.user_id == Some(id) {
        return Err(AppError::conflict(
            ErrorCode::OwnAccount,
            "You cannot disable your own account.",
        ));
    }
    let mut tx = db.begin().await?;
    let before = load_user(&mut tx, id).await?;
    if before.disabled == disabled {
        return Ok(before);
    }
    if disabled && before.role == Role::Admin && users::count_active_admins(tx.conn()).await? <= 1 {
        return Err(AppError::conflict(
            ErrorCode::LastAdmin,
            "This is the last active admin and cannot be disabled.",
        ));
    }
    users::set_disabled(tx.conn(), id, disabled, actor.now).await?;
    if disabled {
        sessions::delete_for_user(tx.conn(), id).await?;
    }
    let after = load_user(&mut tx, id).await?;
    audit::record(
        tx.conn(),
        actor,
        Change {
            entity_type: "user",
            entity_id: &id.to_string(),
            action: if disabled { "disabled" } else { "enabled" },
            before: Some(before.audit_json()),
            after: Some(after.audit_json()),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// Sets a new password and ends every session of that user.
pub async fn set_password(
    db: &Db,
    actor: &Actor,
    id: i64,
    password: &str,
    must_change: bool,
) -> AppResult<User> {
    if let Some(p) = password_problem(password) {
        return Err(AppError::invalid(vec![Violation::new("password", p)]));
    }
    let hash = passwords::hash(password.to_string()).await?;
    let mut tx = db.begin().await?;
    let before = load_user(&mut tx, id).await?;
    users::set_password(tx.conn(), id, &hash, must_change, actor.now).await?;
    let ended = sessions::delete_for_user(tx.conn(), id).await?;
    let after = load_user(&mut tx, id).await?;
    let mut after_json = after.audit_json();
    after_json["sessions_ended"] = json!(ended);
    audit::record(
        tx.conn(),
        actor,
        Change {
            entity_type: "user",
            entity_id: &id.to_string(),
            action: "password_set",
            before: Some(before.audit_json()),
            after: Some(after_json),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// A user changing their own password: the current one must be right.
pub async fn change_own_password(
    db: &Db,
    actor: &Actor,
    user: &User,
    current: &str,
    new: &str,
) -> AppResult<User> {
    let mut problems = vec![];
    let stored = {
        let mut c = db.acquire().await?;
        users::password_hash(c.conn(), user.id).await?
    };
    if !passwords::verify(current.to_string(), stored).await {
        problems.push(Violation::new(
            "current_password",
            "That is not your current password.",
        ));
    }
    if let Some(p) = password_problem(new) {
        problems.push(Violation::new("new_password", p));
    } else if new == current {
        problems.push(Violation::new(
            "new_password",
            "Choose a password different from the current one.",
        ));
    }
    if !problems.is_empty() {
        return Err(AppError::invalid(problems));
    }
    set_password(db, actor, user.id, new, false).await
}
