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

/// Creates, once, a demo customer with a customer user and a hired trading agent (through the
/// ordinary coupon checkout), plus an operator and a viewer.
pub async fn seed_demo(
    db: &Db,
    billing: &crate::domain::billing::settings::BillingSettings,
    actor: &Actor,
) -> AppResult<Vec<DemoLogin>> {
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
    if let Some(id) = &customer_id {
        // The idempotency key makes a second seed replay this checkout instead of buying again.
        let request = crate::service::checkout::CheckoutRequest {
            coupon_code: billing.coupon_code.clone(),
            agent_type_id: Some("trading.delta_futures.v1".into()),
            duration: "quarterly".into(),
            idempotency_key: Some("demo-seed-trading".into()),
            ..Default::default()
        };
        crate::service::checkout::checkout(
            db,
            billing,
            &actor.clone().on_behalf_of(id),
            id,
            &request,
        )
        .await?;
    }
    Ok(out)
}
