//! `/admin/users`: user administration (admins only).
//!
//! Statements per request, besides the session (one statement, with its user): the list 1 (an
//! indexed search, keyset-paginated); a user's page 6 (user, customer, live sessions, tokens,
//! history, customers for the role form); each change 1 transaction with its audit entry.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::domain::actor::Scope;
use crate::domain::roles::{MIN_PASSWORD_LEN, Role};
use crate::error::{AppError, ErrorCode};
use crate::service::accounts::{self, CreateUser, CustomerChoice};
use crate::service::{activity, customers, tokens, users};
use crate::web::AppState;
use crate::web::account::TokenRow;
use crate::web::auth::Admin;
use crate::web::forms::Form;
use crate::web::one_time;
use crate::web::pages::{FormErrors, PageCtx, flash, render, see_other, wants_fragment};
use crate::web::view::{AuditRow, Ts};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/admin/users").get(list).post(create))
        .service(web::resource("/admin/users/new").get(new_form))
        .service(web::resource("/admin/users/{id}").get(detail))
        .service(web::resource("/admin/users/{id}/role").post(change_role))
        .service(web::resource("/admin/users/{id}/disable").post(disable))
        .service(web::resource("/admin/users/{id}/enable").post(enable))
        .service(web::resource("/admin/users/{id}/password").post(set_password))
        .service(web::resource("/admin/tokens/{id}/revoke").post(revoke_token));
}

const PAGE_SIZE: i64 = 50;

fn role_options() -> Vec<(&'static str, &'static str)> {
    Role::ALL.iter().map(|r| (r.as_str(), r.label())).collect()
}

fn role_descriptions() -> Vec<(&'static str, &'static str, &'static str)> {
    vec![
        (
            "admin",
            "Admin",
            "everything, including users and agent types",
        ),
        (
            "operator",
            "Operator",
            "manages customers, hired agents and reviews",
        ),
        ("viewer", "Viewer", "reads all of /admin, changes nothing"),
        ("customer", "Customer", "the portal of one customer"),
    ]
}

fn password_help() -> String {
    format!(
        "At least {MIN_PASSWORD_LEN} characters. Leave empty to generate one, shown to you once."
    )
}

async fn customer_options(state: &AppState) -> Result<Vec<(String, String)>, AppError> {
    customers::options(&state.db, &Scope::Staff).await
}

pub struct UserItem {
    id: i64,
    email: String,
    role: String,
    customer: String,
    disabled: bool,
    created: Ts,
}

#[derive(Template)]
#[template(path = "admin/users.html")]
struct UsersPage {
    ctx: PageCtx,
    q: String,
    role: String,
    roles: Vec<(&'static str, &'static str)>,
    users: Vec<UserItem>,
    next_page: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/users.html", block = "results")]
struct UsersResults {
    q: String,
    role: String,
    users: Vec<UserItem>,
    next_page: Option<String>,
}

#[derive(Deserialize)]
struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    role: String,
    before: Option<i64>,
}

async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    _admin: Admin,
    ctx: PageCtx,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let ListQuery { q, role, before } = query.into_inner();
    let q = q.trim().to_string();
    let role_filter = Role::parse(&role);
    let role = role_filter
        .map(|r| r.as_str().to_string())
        .unwrap_or_default();
    let mut rows = users::search(&state.db, &q, role_filter, before, PAGE_SIZE + 1).await?;
    let next_page = if rows.len() as i64 > PAGE_SIZE {
        rows.truncate(PAGE_SIZE as usize);
        let last = rows.last().map(|r| r.id).unwrap_or_default();
        let qs: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("q", &q)
            .append_pair("role", &role)
            .append_pair("before", &last.to_string())
            .finish();
        Some(format!("/admin/users?{qs}"))
    } else {
        None
    };
    let users: Vec<UserItem> = rows
        .into_iter()
        .map(|r| UserItem {
            id: r.id,
            email: r.email,
            role: r.role,
            customer: r.customer_name.unwrap_or_default(),
            disabled: r.disabled,
            created: Ts(r.created_at),
        })
        .collect();
    if wants_fragment(&req) {
        return render(
            StatusCode::OK,
            &UsersResults {
                q,
                role,
                users,
                next_page,
            },
        );
    }
    render(
        StatusCode::OK,
        &UsersPage {
            ctx,
            q,
            role,
            roles: role_options(),
            users,
            next_page,
        },
    )
}

#[derive(Deserialize, Default)]
struct NewUserForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    customer_id: String,
    #[serde(default)]
    customer_name: String,
    #[serde(default)]
    customer_email: String,
    #[serde(default)]
    password: String,
    must_change_password: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/user_new.html")]
struct NewUserPage {
    ctx: PageCtx,
    form: NewUserForm,
    errors: FormErrors,
    roles: Vec<(&'static str, &'static str, &'static str)>,
    customers: Vec<(String, String)>,
    password_help: String,
}

async fn new_form(
    state: web::Data<AppState>,
    _admin: Admin,
    ctx: PageCtx,
) -> Result<HttpResponse, AppError> {
    let form = NewUserForm {
        role: "operator".into(),
        must_change_password: Some("true".into()),
        ..Default::default()
    };
    render(
        StatusCode::OK,
        &NewUserPage {
            ctx,
            form,
            errors: FormErrors::default(),
            roles: role_descriptions(),
            customers: customer_options(&state).await?,
            password_help: password_help(),
        },
    )
}

async fn create(
    state: web::Data<AppState>,
    session: Session,
    admin: Admin,
    ctx: PageCtx,
    Form(form): Form<NewUserForm>,
) -> Result<HttpResponse, AppError> {
    let result = match Role::parse(&form.role) {
        None => Err(AppError::invalid(vec![crate::error::Violation::new(
            "role",
            "Choose a role.",
        )])),
        Some(role) => {
            let customer = if role != Role::Customer {
                CustomerChoice::None
            } else if form.customer_id == "new"
                || (form.customer_id.is_empty() && !form.customer_name.trim().is_empty())
            {
                CustomerChoice::New {
                    name: form.customer_name.clone(),
                    email: form.customer_email.clone(),
                }
            } else if form.customer_id.is_empty() {
                CustomerChoice::None
            } else {
                CustomerChoice::Existing(form.customer_id.clone())
            };
            let input = CreateUser {
                email: form.email.clone(),
                role,
                customer,
                password: Some(form.password.clone()).filter(|p| !p.is_empty()),
                must_change_password: form.must_change_password.is_some(),
            };
            accounts::create_user(&state.db, &admin.actor.clone(), input).await
        }
    };
    match FormErrors::from_result(result)? {
        Ok(created) => {
            let id = created.user.id;
            flash(
                &session,
                "success",
                format!("Created {}.", created.user.email),
            );
            if let Some(p) = created.generated_password {
                // Crosses the redirect sealed; the user's page shows it once and drops it.
                one_time::stash(&session, &state.keys, &format!("user {id}"), &p);
            }
            Ok(see_other(&format!("/admin/users/{id}")))
        }
        Err(errors) => render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &NewUserPage {
                ctx,
                form,
                errors,
                roles: role_descriptions(),
                customers: customer_options(&state).await?,
                password_help: password_help(),
            },
        ),
    }
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
    session: &Session,
    ctx: PageCtx,
    id: i64,
    result: Result<T, AppError>,
    message: impl FnOnce(&T) -> String,
) -> Result<HttpResponse, AppError> {
    match result {
        Ok(v) => {
            flash(session, "success", message(&v));
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
    session: Session,
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
    after_change(&state, &session, ctx, id, result, |u| {
        format!("{} is now {}.", u.email, u.role.label())
    })
    .await
}

async fn set_disabled(
    state: &AppState,
    session: &Session,
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
    flash(session, "success", msg);
    Ok(see_other(&format!("/admin/users/{id}")))
}

async fn disable(
    state: web::Data<AppState>,
    session: Session,
    admin: Admin,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    set_disabled(&state, &session, &admin, path.into_inner(), true).await
}

async fn enable(
    state: web::Data<AppState>,
    session: Session,
    admin: Admin,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    set_disabled(&state, &session, &admin, path.into_inner(), false).await
}

#[derive(Deserialize)]
struct PasswordForm {
    #[serde(default)]
    password: String,
    must_change_password: Option<String>,
}

async fn set_password(
    state: web::Data<AppState>,
    session: Session,
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
    after_change(&state, &session, ctx, id, result, |u| {
        format!("New password set for {}; they were signed out.", u.email)
    })
    .await
}

async fn revoke_token(
    state: web::Data<AppState>,
    session: Session,
    admin: Admin,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let audit = admin.actor.clone();
    let t = tokens::revoke_token(&state.db, &audit, path.into_inner(), None).await?;
    flash(&session, "success", format!("Token “{}” revoked.", t.name));
    Ok(see_other(&format!("/admin/users/{}", t.user_id)))
}
