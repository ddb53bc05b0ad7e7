//! The first admin (created by whatever command runs first on a database without one) and the demo
//! data of `seed --demo`.

use super::accounts::{CreateUser, CustomerChoice, create_user};

use crate::db::{Db, customers, users};
use crate::domain::actor::Actor;
use crate::domain::roles::Role;
use crate::error::{AppError, AppResult, Violation};

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

/// What `seed --demo` did: the logins, and the demo month (see [`super::demo`]).
pub struct Demo {
    pub logins: Vec<DemoLogin>,
    pub month: super::demo::MonthSummary,
}

/// Creates, once, an operator, a viewer and the demo customers, each with a customer user, then
/// the demo month: their hired agents (bought through the ordinary coupon checkout) and thirty days
/// of their work (see [`super::demo`]).
pub async fn seed_demo(
    db: &Db,
    keys: &crate::keys::Keys,
    billing: &crate::domain::billing::settings::BillingSettings,
    actor: &Actor,
) -> AppResult<Demo> {
    let mut wanted: Vec<(&str, Role, Option<&super::demo::DemoCustomer>)> = vec![
        ("operator@demo.example", Role::Operator, None),
        ("viewer@demo.example", Role::Viewer, None),
    ];
    for c in &super::demo::CUSTOMERS {
        wanted.push((c.user_email, Role::Customer, Some(c)));
    }
    let mut logins = vec![];
    for (email, role, customer) in wanted {
        let exists = {
            let mut c = db.acquire().await?;
            users::by_email(c.conn(), email).await?.is_some()
        };
        if !exists {
            let choice = match customer {
                Some(dc) => {
                    let existing = {
                        let mut c = db.acquire().await?;
                        customers::by_email(c.conn(), dc.email).await?.map(|c| c.id)
                    };
                    match existing {
                        Some(id) => CustomerChoice::Existing(id),
                        None => CustomerChoice::New {
                            name: dc.name.into(),
                            email: dc.email.into(),
                        },
                    }
                }
                None => CustomerChoice::None,
            };
            create_user(
                db,
                actor,
                CreateUser {
                    email: email.into(),
                    role,
                    customer: choice,
                    password: Some(DEMO_PASSWORD.into()),
                    must_change_password: false,
                },
            )
            .await?;
        }
        logins.push(DemoLogin {
            email: email.into(),
            role,
            created: !exists,
        });
    }
    let month = super::demo::seed_month(db, keys, billing, actor.now).await?;
    Ok(Demo { logins, month })
}
