//! The one error type. Handlers, extractors, middleware and services return it; the web layer turns
//! it into an HTML page or an RFC 7807 problem document (see `web::errors`).

use serde::Serialize;

/// One problem with one input, named by its path (`email`, `config.risk_limits.max_units_per_order`).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Violation {
    pub path: String,
    pub message: String,
}

impl Violation {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Violation {
            path: path.into(),
            message: message.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("sign in required")]
    Unauthenticated,
    /// A signed-in user who must choose a new password before doing anything else.
    #[error("password change required")]
    PasswordChangeRequired,
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("gone: {0}")]
    Gone(String),
    #[error("request body too large")]
    PayloadTooLarge,
    #[error("invalid input: {detail}")]
    Invalid {
        detail: String,
        violations: Vec<Violation>,
    },
    #[error("too many requests; retry in {retry_after_secs}s")]
    TooManyRequests {
        retry_after_secs: u64,
        detail: String,
    },
    #[error("unavailable: {0}")]
    Unavailable(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl AppError {
    pub fn invalid(violations: Vec<Violation>) -> Self {
        let detail = match violations.len() {
            1 => violations[0].message.clone(),
            n => format!("{n} values need attention."),
        };
        AppError::Invalid { detail, violations }
    }

    pub fn forbidden(msg: impl Into<String>) -> Self {
        AppError::Forbidden(msg.into())
    }

    pub fn conflict(msg: impl Into<String>) -> Self {
        AppError::Conflict(msg.into())
    }
}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                AppError::unavailable_db(&e)
            }
            // Connection exceptions (08…) and the server shutting down or starting (57P0…).
            sqlx::Error::Database(ref d)
                if d.code()
                    .is_some_and(|c| c.starts_with("08") || c.starts_with("57P0")) =>
            {
                AppError::unavailable_db(&e)
            }
            other => AppError::Internal(other.into()),
        }
    }
}

impl AppError {
    fn unavailable_db(e: &sqlx::Error) -> AppError {
        {
            tracing::error!(error = %e, "database unreachable");
            AppError::Unavailable(
                "The database is not reachable right now. Please try again in a moment.".into(),
            )
        }
    }
}

pub type AppResult<T> = Result<T, AppError>;
