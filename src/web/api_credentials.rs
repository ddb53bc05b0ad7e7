//! `/api/v1/credentials`: customers' write-only secrets (Phase-1 `PUT /credentials` shape). The
//! secret goes in and is never answered back. The customer comes from the principal (staff name
//! it with `customer_id`).
//!
//! Statements per request, besides the principal: the list 1; a put 1 transaction.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::acting::{customer_for, existing_customer_for};
use super::auth::SignedIn;
use super::body::json_as;
use super::openapi::{BadRequest, Endpoint, NotFound, ValidationFailed, endpoints};
use crate::error::AppResult;
use crate::service::credentials::{self, CredentialInfo, PutCredential};

/// This module's operations; `openapi::scope` serves each where its annotation says.
pub fn endpoints() -> Vec<Endpoint> {
    endpoints![list, put]
}

#[derive(Deserialize, Default, IntoParams)]
#[into_params(parameter_in = Query)]
struct CustomerQuery {
    /// Staff: whose credentials. Customers: their own or nothing (another answers 404).
    customer_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
struct CredentialList {
    /// Oldest first; never with their secrets.
    credentials: Vec<CredentialInfo>,
}

/// A customer's credentials, without their secrets.
#[utoipa::path(
    get,
    path = "/api/v1/credentials",
    tag = "credentials",
    params(CustomerQuery),
    responses(
        (status = 200, description = "The credentials", body = CredentialList),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
    ),
)]
async fn list(
    state: web::Data<AppState>,
    user: SignedIn,
    q: web::Query<CustomerQuery>,
) -> AppResult<HttpResponse> {
    let (customer_id, _) = customer_for(&user, &user.actor, q.customer_id.as_deref(), false)?;
    let credentials = credentials::list(&state.db, &user.scope(), &customer_id).await?;
    Ok(HttpResponse::Ok().json(CredentialList { credentials }))
}

/// A secret to store.
#[derive(Deserialize, ToSchema)]
struct PutBody {
    /// A name for people ("Delta Exchange API key").
    label: String,
    /// The secret itself; stored encrypted and never shown again.
    secret: String,
    /// Replace the secret of this credential (`CRED-…`) instead of creating one.
    #[serde(default)]
    credential_ref: Option<String>,
    /// Staff: the customer acted for.
    #[serde(default)]
    customer_id: Option<String>,
}

/// Store a secret: a new credential, or a new secret for an existing one.
///
/// The answer names the credential (`credential_ref`, to put into a configuration) and never
/// holds the secret. Viewers get 403.
#[utoipa::path(
    put,
    path = "/api/v1/credentials",
    tag = "credentials",
    request_body = PutBody,
    responses(
        (status = 200, description = "The credential, without its secret", body = CredentialInfo),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        (status = 422, response = ValidationFailed),
    ),
)]
async fn put(
    state: web::Data<AppState>,
    user: SignedIn,
    body: web::Json<Value>,
) -> AppResult<HttpResponse> {
    let body: PutBody = json_as(body.into_inner())?;
    let (customer_id, actor) = existing_customer_for(
        &state.db,
        &user,
        &user.actor,
        body.customer_id.as_deref(),
        true,
    )
    .await?;
    let input = PutCredential {
        label: body.label,
        secret: body.secret,
        credential_ref: body.credential_ref,
    };
    let info = credentials::put(&state.db, &state.keys, &actor, &customer_id, &input).await?;
    Ok(HttpResponse::Ok().json(info))
}
