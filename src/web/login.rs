//! Sign in, sign out, change one's password.
//!
//! Statements per request: the sign-in page none for a visitor (no session row, the CSRF token is
//! in a signed cookie); signing in 2 transactions (record the attempt and read the user, then the
//! outcome with its audit entry) plus the new session; signing out 1 transaction and the session's
//! removal.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::AppState;
use super::auth::{SignedIn, actor_for, anonymous_actor, client_ip, principal_of};
use super::csrf::{CSRF_SESSION_KEY, session_token};
use super::forms::Form;
use super::pages::{FormErrors, PageCtx, flash, render, safe_local_path, see_other};
use super::session_store::USER_ID_KEY;
use crate::domain::roles::MIN_PASSWORD_LEN;
use crate::error::{AppError, Violation};
use crate::service::accounts;
use crate::service::signin::{self, LoginError};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/login").get(login_page).post(login_submit))
        .service(web::resource("/logout").post(logout))
        .service(
            web::resource("/account/password")
                .get(password_page)
                .post(password_submit),
        );
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    ctx: PageCtx,
    email: String,
    next: String,
    error: String,
    notice: String,
}

#[derive(Deserialize)]
struct LoginQuery {
    next: Option<String>,
    signed_out: Option<String>,
}

async fn login_page(
    req: HttpRequest,
    ctx: PageCtx,
    q: web::Query<LoginQuery>,
) -> Result<HttpResponse, AppError> {
    if let Some(p) = principal_of(&req).await? {
        let target = q
            .next
            .as_deref()
            .and_then(safe_local_path)
            .unwrap_or_else(|| p.user.role.home().into());
        return Ok(see_other(&target));
    }
    let notice = if q.signed_out.is_some() {
        "You have signed out."
    } else {
        ""
    };
    render(
        StatusCode::OK,
        &LoginPage {
            ctx,
            email: String::new(),
            next: q
                .next
                .as_deref()
                .and_then(safe_local_path)
                .unwrap_or_default(),
            error: String::new(),
            notice: notice.into(),
        },
    )
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

async fn login_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
    ctx: PageCtx,
    Form(form): Form<LoginForm>,
) -> Result<HttpResponse, AppError> {
    let audit = anonymous_actor(&req);
    let next = safe_local_path(&form.next).unwrap_or_default();
    let again = |status: StatusCode, error: String| {
        render(
            status,
            &LoginPage {
                ctx: ctx.clone(),
                email: form.email.clone(),
                next: next.clone(),
                error,
                notice: String::new(),
            },
        )
    };
    if form.email.trim().is_empty() || form.password.is_empty() {
        return again(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Enter your e-mail and your password.".into(),
        );
    }
    match signin::login(
        &state.db,
        &audit,
        &form.email,
        &form.password,
        &client_ip(&req),
    )
    .await
    {
        Ok(user) => {
            start_signed_in_session(&session, user.id)?;
            let target = if user.must_change_password {
                "/account/password".to_string()
            } else {
                flash(&req, "success", "Signed in.");
                if next.is_empty() {
                    user.role.home().to_string()
                } else {
                    next
                }
            };
            Ok(see_other(&target))
        }
        // A disabled account looks exactly like a wrong password: the answer must not confirm that
        // a guessed password is right. The audit trail tells staff which it was.
        Err(LoginError::WrongCredentials | LoginError::Disabled) => again(
            StatusCode::UNAUTHORIZED,
            "That e-mail and password do not match an active account.".into(),
        ),
        Err(LoginError::Throttled {
            retry_after_secs,
            until,
        }) => {
            let minutes = retry_after_secs.div_ceil(60);
            let mut res = again(
                StatusCode::TOO_MANY_REQUESTS,
                format!(
                    "Too many failed sign-in attempts. Try again after {} ({} minute{}).",
                    until.format("%H:%M UTC"),
                    minutes,
                    if minutes == 1 { "" } else { "s" }
                ),
            )?;
            res.headers_mut().insert(
                header::RETRY_AFTER,
                retry_after_secs.to_string().parse().expect("digits"),
            );
            Ok(res)
        }
        Err(LoginError::Other(e)) => Err(e),
    }
}

/// The steps of every sign-in (and of a password change, which signs in afresh): a new session key
/// and a new CSRF token, so nothing from before carries over (no session fixation).
fn start_signed_in_session(session: &Session, user_id: i64) -> Result<(), AppError> {
    session.renew();
    session
        .insert(USER_ID_KEY, user_id)
        .map_err(|e| anyhow::anyhow!("session: {e}"))?;
    session.remove(CSRF_SESSION_KEY);
    session_token(session);
    Ok(())
}

#[derive(Deserialize, Default)]
struct LogoutForm {
    everywhere: Option<String>,
}

/// Ends this session; with `everywhere`, every session of the user on every device.
async fn logout(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
    Form(form): Form<LogoutForm>,
) -> Result<HttpResponse, AppError> {
    if let Some(p) = principal_of(&req).await? {
        let everywhere = form.everywhere.is_some();
        signin::record_logout(&state.db, &actor_for(&req, &p.user), &p.user, everywhere).await?;
    }
    session.purge();
    Ok(see_other("/login?signed_out=1"))
}

#[derive(Template)]
#[template(path = "account/password.html")]
struct PasswordPage {
    ctx: PageCtx,
    forced: bool,
    errors: FormErrors,
    min_length_hint: String,
}

fn min_length_hint() -> String {
    format!("At least {MIN_PASSWORD_LEN} characters. A few unrelated words make a strong one.")
}

async fn password_page(user: SignedIn, ctx: PageCtx) -> Result<HttpResponse, AppError> {
    render(
        StatusCode::OK,
        &PasswordPage {
            ctx,
            forced: user.user.must_change_password,
            errors: FormErrors::default(),
            min_length_hint: min_length_hint(),
        },
    )
}

#[derive(Deserialize)]
struct PasswordForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    confirm_password: String,
}

async fn password_submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    user: SignedIn,
    ctx: PageCtx,
    Form(form): Form<PasswordForm>,
) -> Result<HttpResponse, AppError> {
    let result = if form.new_password != form.confirm_password {
        Err(AppError::invalid(vec![Violation::new(
            "confirm_password",
            "The two new passwords differ.",
        )]))
    } else {
        let audit = user.actor.clone();
        accounts::change_own_password(
            &state.db,
            &audit,
            &user.user,
            &form.current_password,
            &form.new_password,
        )
        .await
    };
    match FormErrors::from_result(result)? {
        Ok(updated) => {
            // Every other session was ended; this one continues under a new key and token.
            start_signed_in_session(&session, updated.id)?;
            flash(
                &req,
                "success",
                "Your password was changed. Other sessions were signed out.",
            );
            Ok(see_other(updated.role.home()))
        }
        Err(errors) => render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &PasswordPage {
                ctx,
                forced: user.user.must_change_password,
                errors,
                min_length_hint: min_length_hint(),
            },
        ),
    }
}
