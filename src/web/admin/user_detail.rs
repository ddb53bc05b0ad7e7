//! `/admin/users/{id}`: one user's page and the changes made there (role, access, password,
//! tokens), each one transaction with its audit entry (admins only).
//!
//! Statements per request, besides the session (one statement, with its user): the page 6 (user,
//! customer, live sessions, tokens, history, customers for the role form); a change 1 transaction,
//! then the page.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::domain::roles::{MIN_PASSWORD_LEN, Role};
use crate::error::{AppError, ErrorCode};
use crate::service::accounts::{self};
use crate::service::{activity, tokens, users};
use crate::web::AppState;
use crate::web::account::TokenRow;
use crate::web::auth::Admin;
use crate::web::forms::Form;
use crate::web::one_time;
use crate::web::pages::{FormErrors, PageCtx, flash, render, see_other};
use crate::web::view::{AuditRow, Ts};

use super::users::{customer_options, role_options};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/admin/users/{id}").get(detail))
        .service(web::resource("/admin/users/{id}/role").post(change_role))
        .service(web::resource("/admin/users/{id}/disable").post(disable))
        .service(web::resource("/admin/users/{id}/enable").post(enable))
        .service(web::resource("/admin/users/{id}/password").post(set_password))
        .service(web::resource("/admin/tokens/{id}/revoke").post(revoke_token));
}

#[derive(Template)]
#[template(path = "admin/user.html")]
struct UserPage {
    ctx: PageCtx,
    user: users::User,
    customer: String,
    created: Ts,
    sessions: i64,
    roles: Vec<(&'static str, &'static str)>,
    customers: Vec<(String, String)>,
    tokens: Vec<TokenRow>,
    audit: Vec<AuditRow>,
    errors: FormErrors,
    password_help: String,
    /// A generated one-time password, shown on this page once.
    one_time_password: Option<String>,
}

async fn user_page(
    state: &AppState,
    ctx: PageCtx,
    id: i64,
    errors: FormErrors,
) -> Result<UserPage, AppError> {
    let users::Detail {
        user,
        customer,
        live_sessions: sessions,
        tokens,
    } = users::detail(&state.db, id).await?;
    let customer = customer.unwrap_or_default();
    let tokens = tokens.into_iter().map(TokenRow::from).collect();
    let audit = activity::history_of(&state.db, "user", &id.to_string(), 25)
        .await?
        .into_iter()
        .map(AuditRow::from)
        .collect();
    Ok(UserPage {
        ctx,
        created: Ts(user.created_at),
        user,
        customer,
        sessions,
        roles: role_options(),
        customers: customer_options(state).await?,
        tokens,
        audit,
        errors,
        password_help: format!("At least {MIN_PASSWORD_LEN} characters."),
        one_time_password: None,
    })
}

async fn detail(
    state: web::Data<AppState>,
    session: Session,
    _admin: Admin,
    ctx: PageCtx,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let mut page = user_page(&state, ctx, id, FormErrors::default()).await?;
    page.one_time_password = one_time::take(&session, &state.keys, &format!("user {id}"));
    render(StatusCode::OK, &page)
}

/// After a change: back to the user's page with a message, or the page again with the form's errors.
async fn after_change<T>(
    state: &AppState,
    req: &HttpRequest,
    ctx: PageCtx,
    id: i64,
    result: Result<T, AppError>,
    message: impl FnOnce(&T) -> String,
) -> Result<HttpResponse, AppError> {
    match result {
        Ok(v) => {
            flash(req, "success", message(&v));
            Ok(see_other(&format!("/admin/users/{id}")))
        }
        Err(AppError::Invalid { violations, .. }) => {
            let page = user_page(state, ctx, id, FormErrors(violations)).await?;
            render(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
struct RoleForm {
    #[serde(default)]
    role: String,
    #[serde(default)]
    customer_id: String,
}

async fn change_role(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: Admin,
    ctx: PageCtx,
    path: web::Path<i64>,
    Form(form): Form<RoleForm>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let result = match Role::parse(&form.role) {
        None => Err(AppError::invalid(vec![crate::error::Violation::new(
            "role",
            "Choose a role.",
        )])),
        Some(role) => {
            let audit = admin.actor.clone();
            accounts::change_role(&state.db, &audit, id, role, Some(form.customer_id)).await
        }
    };
    after_change(&state, &req, ctx, id, result, |u| {
        format!("{} is now {}.", u.email, u.role.label())
    })
    .await
}

async fn set_disabled(
    state: &AppState,
    req: &HttpRequest,
    admin: &Admin,
    id: i64,
    disabled: bool,
) -> Result<HttpResponse, AppError> {
    let audit = admin.actor.clone();
    let u = accounts::set_disabled(&state.db, &audit, id, disabled).await?;
    let msg = if disabled {
        format!("{} is disabled and was signed out.", u.email)
    } else {
        format!("{} is enabled.", u.email)
    };
    flash(req, "success", msg);
    Ok(see_other(&format!("/admin/users/{id}")))
}

async fn disable(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: Admin,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    set_disabled(&state, &req, &admin, path.into_inner(), true).await
}

async fn enable(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: Admin,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    set_disabled(&state, &req, &admin, path.into_inner(), false).await
}

#[derive(Deserialize)]
struct PasswordForm {
    #[serde(default)]
    password: String,
    must_change_password: Option<String>,
}

async fn set_password(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: Admin,
    ctx: PageCtx,
    path: web::Path<i64>,
    Form(form): Form<PasswordForm>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    if id == admin.user.id {
        return Err(AppError::conflict(
            ErrorCode::OwnAccount,
            "Change your own password under Password in the menu (it asks for the current one).",
        ));
    }
    let audit = admin.actor.clone();
    let result = accounts::set_password(
        &state.db,
        &audit,
        id,
        &form.password,
        form.must_change_password.is_some(),
    )
    .await;
    after_change(&state, &req, ctx, id, result, |u| {
        format!("New password set for {}; they were signed out.", u.email)
    })
    .await
}

async fn revoke_token(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: Admin,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let audit = admin.actor.clone();
    let t = tokens::revoke_token(&state.db, &audit, path.into_inner(), None).await?;
    flash(&req, "success", format!("Token “{}” revoked.", t.name));
    Ok(see_other(&format!("/admin/users/{}", t.user_id)))
}
