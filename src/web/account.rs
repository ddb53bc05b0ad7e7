//! `/account/tokens`: a user's personal API tokens.
//!
//! Statements per request, besides the session (one statement, with its user): the page 1 (the
//! user's tokens); creating or revoking 1 transaction with its audit entry, then the list.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use validator::Validate;

use super::AppState;
use super::auth::{AuthVia, SignedIn};
use super::forms::{Form, violations};
use super::one_time;
use super::pages::{FormErrors, PageCtx, flash, render, see_other};
use super::view::Ts;
use crate::error::AppError;
use crate::service::tokens;
use crate::service::users::{self, ApiToken};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/account/tokens")
            .get(tokens_page)
            .post(create_token),
    )
    .service(web::resource("/account/tokens/{id}/revoke").post(revoke_token));
}

/// A token as the lists show it.
pub struct TokenRow {
    pub id: i64,
    pub name: String,
    pub created: Ts,
    pub last_used: Option<Ts>,
    pub revoked: bool,
}

impl From<ApiToken> for TokenRow {
    fn from(t: ApiToken) -> Self {
        TokenRow {
            id: t.id,
            name: t.name,
            created: Ts(t.created_at),
            last_used: t.last_used_at.map(Ts),
            revoked: t.revoked_at.is_some(),
        }
    }
}

#[derive(Template)]
#[template(path = "account/tokens.html")]
struct TokensPage {
    ctx: PageCtx,
    tokens: Vec<TokenRow>,
    new_token: Option<String>,
    token_name: String,
    errors: FormErrors,
}

async fn list(state: &AppState, user_id: i64) -> Result<Vec<TokenRow>, AppError> {
    Ok(users::tokens_of(&state.db, user_id)
        .await?
        .into_iter()
        .map(TokenRow::from)
        .collect())
}

/// What a new token's one-time display is kept under (see `one_time`).
fn new_token_slot(user_id: i64) -> String {
    format!("new token of user {user_id}")
}

async fn tokens_page(
    state: web::Data<AppState>,
    session: Session,
    user: SignedIn,
    ctx: PageCtx,
) -> Result<HttpResponse, AppError> {
    let tokens = list(&state, user.user.id).await?;
    // A token just created is shown here once; a reload shows the list without it.
    let new_token = one_time::take(&session, &state.keys, &new_token_slot(user.user.id));
    render(
        StatusCode::OK,
        &TokensPage {
            ctx,
            tokens,
            new_token,
            token_name: String::new(),
            errors: FormErrors::default(),
        },
    )
}

#[derive(Deserialize, Validate)]
struct TokenForm {
    #[serde(default)]
    #[validate(length(
        min = 1,
        max = 100,
        message = "Give the token a name of 1 to 100 characters."
    ))]
    name: String,
}

async fn create_token(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    user: SignedIn,
    ctx: PageCtx,
    Form(form): Form<TokenForm>,
) -> Result<HttpResponse, AppError> {
    let result = match form.validate() {
        Err(e) => Err(AppError::invalid(violations(&e))),
        Ok(()) => {
            tokens::create_token(&state.db, &user.actor.clone(), user.user.id, &form.name).await
        }
    };
    match FormErrors::from_result(result)? {
        Ok((_, token)) if user.via == AuthVia::Token => {
            // A client with a token has no session to carry the new one across a redirect.
            let tokens = list(&state, user.user.id).await?;
            render(
                StatusCode::CREATED,
                &TokensPage {
                    ctx,
                    tokens,
                    new_token: Some(token),
                    token_name: String::new(),
                    errors: FormErrors::default(),
                },
            )
        }
        Ok((created, token)) => {
            // Post/redirect/get: a reload or a second click cannot create a second token. The
            // token crosses the redirect sealed in the session and is shown once.
            one_time::stash(&session, &state.keys, &new_token_slot(user.user.id), &token);
            flash(
                &req,
                "success",
                format!(
                    "Token “{}” created. Copy it now: it is shown only this once.",
                    created.name
                ),
            );
            Ok(see_other("/account/tokens"))
        }
        Err(errors) => {
            let tokens = list(&state, user.user.id).await?;
            render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &TokensPage {
                    ctx,
                    tokens,
                    new_token: None,
                    token_name: form.name,
                    errors,
                },
            )
        }
    }
}

async fn revoke_token(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: SignedIn,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let audit = user.actor.clone();
    let t = tokens::revoke_token(&state.db, &audit, path.into_inner(), Some(user.user.id)).await?;
    flash(&req, "success", format!("Token “{}” revoked.", t.name));
    Ok(see_other("/account/tokens"))
}
