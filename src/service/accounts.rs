//! Account operations shared by the web pages, the API and the command line. Each one is a single
//! transaction that writes its change and its audit entry together.

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::db::audit::{self, Change};
use crate::db::tokens::ApiToken;
use crate::db::users::{NewUser, User};
use crate::db::{self, Db, customers, login_attempts, sessions, tokens, users};
use crate::domain::actor::Actor;
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
            let name = name.trim().to_string();
            if name.is_empty() || name.chars().count() > 200 {
                problems.push(Violation::new(
                    "customer_name",
                    "Enter the customer's name (at most 200 characters).",
                ));
            }
            let email = normalise_email(email)
                .map_err(|m| problems.push(Violation::new("customer_email", m)))
                .ok();
            Some((name, email.unwrap_or_default()))
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
            let c = customers::insert(tx.conn(), &new_id("CUS"), &name, &cemail, actor.now).await?;
            audit::record(
                tx.conn(),
                actor,
                Change {
                    entity_type: "customer",
                    entity_id: &c.id,
                    action: "created",
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

pub const THROTTLE_WINDOW_MINUTES: i64 = 15;
pub const MAX_FAILURES_PER_EMAIL: i64 = 5;
pub const MAX_FAILURES_PER_CLIENT: i64 = 20;

#[derive(Debug)]
pub enum LoginError {
    /// Wrong e-mail or password (deliberately not saying which).
    WrongCredentials,
    Disabled,
    Throttled {
        retry_after_secs: u64,
        until: DateTime<Utc>,
    },
    Other(AppError),
}

impl<E: Into<AppError>> From<E> for LoginError {
    fn from(e: E) -> Self {
        LoginError::Other(e.into())
    }
}

/// The e-mail as kept in throttling records and the audit trail: normalised, or a fixed marker when it
/// is not an address at all (so a password typed into the wrong box never lands in the audit trail).
fn login_key(raw_email: &str) -> String {
    match normalise_email(raw_email) {
        Ok(e) => e,
        Err(_) => "<not an e-mail address>".to_string(),
    }
}

/// Checks a sign-in attempt, with throttling per e-mail and per client, and audits the outcome. The
/// attempt is recorded (as failed) before the password is checked, in one transaction with the count,
/// so parallel guesses cannot slip past the limit.
pub async fn login(
    db: &Db,
    actor: &Actor,
    raw_email: &str,
    password: &str,
    client_ip: &str,
) -> Result<User, LoginError> {
    let email = login_key(raw_email);
    let window = chrono::Duration::minutes(THROTTLE_WINDOW_MINUTES);
    let since = actor.now - window;

    let mut tx = db.begin().await?;
    login_attempts::lock(tx.conn(), &email, client_ip).await?;
    let by_email = login_attempts::failures_for_email(tx.conn(), &email, since).await?;
    let by_ip = login_attempts::failures_for_ip(tx.conn(), client_ip, since).await?;
    let mut until: Option<DateTime<Utc>> = None;
    if by_email.count >= MAX_FAILURES_PER_EMAIL {
        until = by_email.oldest.map(|o| o + window);
    }
    if by_ip.count >= MAX_FAILURES_PER_CLIENT {
        until = until.max(by_ip.oldest.map(|o| o + window));
    }
    if let Some(until) = until {
        let retry_after_secs = (until - actor.now).num_seconds().max(1) as u64;
        // One audit entry per e-mail and window is enough; a flood of refused attempts adds nothing.
        if !audit::exists_since(tx.conn(), "login", &email, "login_throttled", since).await? {
            audit::record(
                tx.conn(),
                actor,
                Change {
                    entity_type: "login",
                    entity_id: &email,
                    action: "login_throttled",
                    before: None,
                    after: Some(json!({"email": email, "client_ip": client_ip, "retry_after_secs": retry_after_secs})),
                },
            )
            .await?;
        }
        tx.commit().await?;
        return Err(LoginError::Throttled {
            retry_after_secs,
            until,
        });
    }
    let attempt = login_attempts::record(tx.conn(), &email, client_ip, false, actor.now).await?;
    let found = users::by_email_for_login(tx.conn(), &email).await?;
    tx.commit().await?;

    let (user, hash) = match found {
        Some((u, h)) => (Some(u), Some(h)),
        None => (None, None),
    };
    let ok = passwords::verify(password.to_string(), hash).await;
    let outcome = match (&user, ok) {
        (Some(u), true) if !u.disabled => Ok(u.clone()),
        (Some(_), true) => Err(LoginError::Disabled),
        _ => Err(LoginError::WrongCredentials),
    };
    let mut tx = db.begin().await?;
    let (signed_in_actor, action, entity_type, entity_id) = match &outcome {
        Ok(u) => {
            login_attempts::mark_succeeded(tx.conn(), attempt).await?;
            (
                Actor {
                    user_id: Some(u.id),
                    role: Some(u.role),
                    ..actor.clone()
                },
                "login_succeeded",
                "user",
                u.id.to_string(),
            )
        }
        Err(_) => (actor.clone(), "login_failed", "login", email.clone()),
    };
    audit::record(
        tx.conn(),
        &signed_in_actor,
        Change {
            entity_type,
            entity_id: &entity_id,
            action,
            before: None,
            after: Some(json!({"email": email, "client_ip": client_ip})),
        },
    )
    .await?;
    tx.commit().await?;
    outcome
}

/// Audits a sign-out (the session row itself is removed by the session layer).
/// With `everywhere`, every session of the user ends in the same transaction (other devices too).
pub async fn record_logout(db: &Db, actor: &Actor, user: &User, everywhere: bool) -> AppResult<()> {
    let mut tx = db.begin().await?;
    let ended = if everywhere {
        Some(sessions::delete_for_user(tx.conn(), user.id).await?)
    } else {
        None
    };
    audit::record(
        tx.conn(),
        actor,
        Change {
            entity_type: "user",
            entity_id: &user.id.to_string(),
            action: if everywhere {
                "logout_everywhere"
            } else {
                "logout"
            },
            before: None,
            after: ended.map(|n| json!({"sessions_ended": n})),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub const BOOTSTRAP_ADMIN_EMAIL: &str = "admin@agentdesk.local";

/// What start-up did about the first admin.
pub enum Bootstrap {
    /// Users exist already.
    NotNeeded,
    /// Created from AGENTDESK_ADMIN_EMAIL / AGENTDESK_ADMIN_PASSWORD.
    FromSettings { email: String },
    /// Created with a one-time password that must be changed at first sign-in.
    Generated { email: String, password: String },
}

/// Creates the first admin when the database has no user.
pub async fn bootstrap_admin(
    db: &Db,
    actor: &Actor,
    configured: Option<(String, String)>,
) -> AppResult<Bootstrap> {
    // Whatever ran first (`serve`, `seed --demo`, `user create`), a database without an admin gets
    // one: otherwise nobody could ever reach the user administration.
    {
        let mut c = db.acquire().await?;
        if users::count_admins(c.conn()).await? > 0 {
            return Ok(Bootstrap::NotNeeded);
        }
    }
    let (email, password, must_change) = match configured {
        Some((e, p)) => (e, Some(p), false),
        None => (BOOTSTRAP_ADMIN_EMAIL.to_string(), None, true),
    };
    let input = CreateUser {
        email,
        role: Role::Admin,
        customer: CustomerChoice::None,
        password,
        must_change_password: must_change,
    };
    match create_user(db, actor, input).await {
        Ok(created) => Ok(match created.generated_password {
            Some(password) => Bootstrap::Generated {
                email: created.user.email,
                password,
            },
            None => Bootstrap::FromSettings {
                email: created.user.email,
            },
        }),
        Err(AppError::Invalid { violations, .. }) => {
            // Another instance starting at the same moment may have won the race: then there is
            // an admin now, and nothing is wrong. Asked of the database, not read from a message.
            let mut c = db.acquire().await?;
            if users::count_admins(c.conn()).await? > 0 {
                return Ok(Bootstrap::NotNeeded);
            }
            Err(AppError::Internal(anyhow::anyhow!(
                "cannot create the first admin: {}",
                Violation::to_text(&violations)
            )))
        }
        Err(e) => Err(e),
    }
}

pub const DEMO_PASSWORD: &str = "agentdesk-demo-2026";
pub const DEMO_CUSTOMER_EMAIL: &str = "care@demo-clinic.example";

/// One login printed by `seed --demo`.
pub struct DemoLogin {
    pub email: String,
    pub role: Role,
    pub created: bool,
}

/// Creates, once, a demo customer with a customer user, plus an operator and a viewer.
pub async fn seed_demo(db: &Db, actor: &Actor) -> AppResult<Vec<DemoLogin>> {
    let customer_id = {
        let mut c = db.acquire().await?;
        customers::by_email(c.conn(), DEMO_CUSTOMER_EMAIL)
            .await?
            .map(|c| c.id)
    };
    let wanted = [
        ("operator@demo.example", Role::Operator),
        ("viewer@demo.example", Role::Viewer),
        ("customer@demo-clinic.example", Role::Customer),
    ];
    let mut out = vec![];
    let mut customer_id = customer_id;
    for (email, role) in wanted {
        let exists = {
            let mut c = db.acquire().await?;
            users::by_email(c.conn(), email).await?.is_some()
        };
        if !exists {
            let customer = match (role, &customer_id) {
                (Role::Customer, Some(id)) => CustomerChoice::Existing(id.clone()),
                (Role::Customer, None) => CustomerChoice::New {
                    name: "Demo Clinic".into(),
                    email: DEMO_CUSTOMER_EMAIL.into(),
                },
                _ => CustomerChoice::None,
            };
            let created = create_user(
                db,
                actor,
                CreateUser {
                    email: email.into(),
                    role,
                    customer,
                    password: Some(DEMO_PASSWORD.into()),
                    must_change_password: false,
                },
            )
            .await?;
            if role == Role::Customer {
                customer_id = created.user.customer_id.clone();
            }
        }
        out.push(DemoLogin {
            email: email.into(),
            role,
            created: !exists,
        });
    }
    Ok(out)
}

/// Removes expired sessions and login attempts older than the throttling window.
pub async fn housekeeping(
    db: &Db,
    now: DateTime<Utc>,
    session_max: chrono::Duration,
) -> AppResult<(u64, u64)> {
    let mut tx = db.begin().await?;
    let s = sessions::purge_expired(tx.conn(), now, now - session_max).await?;
    let l = login_attempts::purge_before(tx.conn(), now - chrono::Duration::days(1)).await?;
    tx.commit().await?;
    Ok((s, l))
}
