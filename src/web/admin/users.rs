//! `/admin/users`: user administration (admins only).
//!
//! The list and creating users; one user's page is in `user_detail`.
//!
//! Statements per request, besides the session (one statement, with its user): the list 1 (an
//! indexed search, keyset-paginated); creating 1 transaction with its audit entry.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::domain::actor::Scope;
use crate::domain::roles::{MIN_PASSWORD_LEN, Role};
use crate::error::AppError;
use crate::service::accounts::{self, CreateUser, CustomerChoice};
use crate::service::{customers, users};
use crate::web::AppState;
use crate::web::auth::Admin;
use crate::web::forms::Form;
use crate::web::one_time;
use crate::web::pages::{FormErrors, PageCtx, flash, render, see_other, wants_fragment};
use crate::web::view::Ts;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/admin/users").get(list).post(create))
        .service(web::resource("/admin/users/new").get(new_form))
        .configure(super::user_detail::routes);
}

const PAGE_SIZE: i64 = 50;

pub(super) fn role_options() -> Vec<(&'static str, &'static str)> {
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

pub(super) fn password_help() -> String {
    format!(
        "At least {MIN_PASSWORD_LEN} characters. Leave empty to generate one, shown to you once."
    )
}

pub(super) async fn customer_options(state: &AppState) -> Result<Vec<(String, String)>, AppError> {
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
    req: HttpRequest,
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
            flash(&req, "success", format!("Created {}.", created.user.email));
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
