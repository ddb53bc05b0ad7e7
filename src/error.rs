//! The one error type. Handlers, extractors, middleware and services return it; the web layer turns
//! it into an HTML page or an RFC 7807 problem document (see `web::errors`).

use serde::Serialize;

/// One problem with one input, named by its path (`email`, `config.risk_limits.max_units_per_order`).
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Violation {
    /// Where the value is: dotted keys and `[index]` (empty for the input as a whole).
    #[schema(example = "config_schema.fields[0].key")]
    pub path: String,
    /// What to change, in a sentence for people.
    pub message: String,
}

impl Violation {
    /// Violations as one line of text (`path: message; path: message`), for the command line and
    /// the log.
    pub fn to_text(violations: &[Violation]) -> String {
        violations
            .iter()
            .map(|v| {
                if v.path.is_empty() {
                    v.message.clone()
                } else {
                    format!("{}: {}", v.path, v.message)
                }
            })
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Violation {
            path: path.into(),
            message: message.into(),
        }
    }
}

/// What went wrong, for machines: each refusal has one code, and each code one problem `type`
/// (`urn:agentdesk:problem:<code>`), documented in `docs/errors.md`. Clients branch on the code,
/// never on the wording of the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// 400: a request the server cannot make sense of (an unknown status, an unknown row kind).
    BadRequest,
    /// 400: the body could not be read or parsed.
    UnreadableBody,
    /// 400: NUL, control or bidirectional-override characters in the address.
    RefusedCharacters,
    /// 401: sign in, or send a live API token.
    Unauthenticated,
    /// 403: the area is for staff.
    StaffOnly,
    /// 403: viewers read but change nothing.
    ReadOnly,
    /// 403: only admins may do this.
    AdminOnly,
    /// 403: the portal is for customers' users.
    CustomersOnly,
    /// 403: the request came from another site.
    CrossSite,
    /// 403: the CSRF token is missing or belongs to another form or session.
    CsrfInvalid,
    /// 403: the session behind the form ended.
    SessionExpired,
    /// 403: choose a new password first.
    PasswordChangeRequired,
    /// 404: nothing here (or nothing this principal may see).
    NotFound,
    /// 405: the address does not take this method (see `Allow`).
    MethodNotAllowed,
    /// 409: that version exists already.
    VersionExists,
    /// 409: published and retired versions never change.
    VersionNotEditable,
    /// 409: the status change is not allowed from the current status.
    StatusChangeRefused,
    /// 409: someone else changed it since it was read.
    ChangedMeanwhile,
    /// 409: the last active admin must stay an active admin.
    LastAdmin,
    /// 409: done to one's own account where another way exists.
    OwnAccount,
    /// 400: the coupon code is not the one on offer.
    InvalidCoupon,
    /// 400: durations are monthly, quarterly or yearly.
    UnsupportedDuration,
    /// 400: a GSTIN is 15 characters 0-9 A-Z.
    InvalidGstin,
    /// 400: name the agent type (or a Phase-1 listing id it derives from).
    AgentTypeRequired,
    /// 400: no published agent type has this id.
    UnknownAgentType,
    /// 400: staff name the customer they act for.
    CustomerRequired,
    /// 400: an idempotency key is 1 to 200 visible ASCII characters.
    InvalidIdempotencyKey,
    /// 409: the idempotency key was used before with a different request.
    IdempotencyKeyReused,
    /// 409: the subscription has ended; it changes no more.
    SubscriptionNotActive,
    /// 409: the deliverable was decided by someone else first.
    AlreadyDecided,
    /// 409: only an approved deliverable can be executed.
    NotApproved,
    /// 409: the goal cannot run now (not on demand, disabled, or its agent paused or unconfigured).
    GoalNotRunnable,
    /// 409: the period is over and waits for the job pass that renews or ends it.
    PeriodEnded,
    /// 403: the execution policy refused the action (see the problem's `reason`).
    PolicyDenied,
    /// 410: it existed and is gone for good.
    Gone,
    /// 413: the body is larger than the server accepts.
    PayloadTooLarge,
    /// 415: the body's media type is not one this address takes.
    UnsupportedMediaType,
    /// 422: values need attention; see `violations`.
    ValidationFailed,
    /// 429: too many attempts; see `Retry-After`.
    TooManyAttempts,
    /// 500: a fault on the server; quote the correlation id.
    Internal,
    /// 503: the database cannot be reached right now.
    DatabaseUnavailable,
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 41] = [
        ErrorCode::BadRequest,
        ErrorCode::UnreadableBody,
        ErrorCode::RefusedCharacters,
        ErrorCode::Unauthenticated,
        ErrorCode::StaffOnly,
        ErrorCode::ReadOnly,
        ErrorCode::AdminOnly,
        ErrorCode::CustomersOnly,
        ErrorCode::CrossSite,
        ErrorCode::CsrfInvalid,
        ErrorCode::SessionExpired,
        ErrorCode::PasswordChangeRequired,
        ErrorCode::NotFound,
        ErrorCode::MethodNotAllowed,
        ErrorCode::VersionExists,
        ErrorCode::VersionNotEditable,
        ErrorCode::StatusChangeRefused,
        ErrorCode::ChangedMeanwhile,
        ErrorCode::LastAdmin,
        ErrorCode::OwnAccount,
        ErrorCode::InvalidCoupon,
        ErrorCode::UnsupportedDuration,
        ErrorCode::InvalidGstin,
        ErrorCode::AgentTypeRequired,
        ErrorCode::UnknownAgentType,
        ErrorCode::CustomerRequired,
        ErrorCode::InvalidIdempotencyKey,
        ErrorCode::IdempotencyKeyReused,
        ErrorCode::SubscriptionNotActive,
        ErrorCode::AlreadyDecided,
        ErrorCode::NotApproved,
        ErrorCode::GoalNotRunnable,
        ErrorCode::PeriodEnded,
        ErrorCode::PolicyDenied,
        ErrorCode::Gone,
        ErrorCode::PayloadTooLarge,
        ErrorCode::UnsupportedMediaType,
        ErrorCode::ValidationFailed,
        ErrorCode::TooManyAttempts,
        ErrorCode::Internal,
        ErrorCode::DatabaseUnavailable,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::UnreadableBody => "unreadable_body",
            ErrorCode::RefusedCharacters => "refused_characters",
            ErrorCode::Unauthenticated => "unauthenticated",
            ErrorCode::StaffOnly => "staff_only",
            ErrorCode::ReadOnly => "read_only",
            ErrorCode::AdminOnly => "admin_only",
            ErrorCode::CustomersOnly => "customers_only",
            ErrorCode::CrossSite => "cross_site",
            ErrorCode::CsrfInvalid => "csrf_invalid",
            ErrorCode::SessionExpired => "session_expired",
            ErrorCode::PasswordChangeRequired => "password_change_required",
            ErrorCode::NotFound => "not_found",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::VersionExists => "version_exists",
            ErrorCode::VersionNotEditable => "version_not_editable",
            ErrorCode::StatusChangeRefused => "status_change_refused",
            ErrorCode::ChangedMeanwhile => "changed_meanwhile",
            ErrorCode::LastAdmin => "last_admin",
            ErrorCode::OwnAccount => "own_account",
            ErrorCode::InvalidCoupon => "invalid_coupon",
            ErrorCode::UnsupportedDuration => "unsupported_duration",
            ErrorCode::InvalidGstin => "invalid_gstin",
            ErrorCode::AgentTypeRequired => "agent_type_required",
            ErrorCode::UnknownAgentType => "unknown_agent_type",
            ErrorCode::CustomerRequired => "customer_required",
            ErrorCode::InvalidIdempotencyKey => "invalid_idempotency_key",
            ErrorCode::IdempotencyKeyReused => "idempotency_key_reused",
            ErrorCode::SubscriptionNotActive => "subscription_not_active",
            ErrorCode::AlreadyDecided => "already_decided",
            ErrorCode::NotApproved => "not_approved",
            ErrorCode::GoalNotRunnable => "goal_not_runnable",
            ErrorCode::PeriodEnded => "period_ended",
            ErrorCode::PolicyDenied => "policy_denied",
            ErrorCode::Gone => "gone",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ErrorCode::ValidationFailed => "validation_failed",
            ErrorCode::TooManyAttempts => "too_many_attempts",
            ErrorCode::Internal => "internal",
            ErrorCode::DatabaseUnavailable => "database_unavailable",
        }
    }

    /// The problem document's `type`.
    pub fn problem_type(self) -> String {
        format!("urn:agentdesk:problem:{}", self.as_str())
    }

    /// The code of a bare status (a response actix produced itself).
    pub fn for_status(status: u16) -> ErrorCode {
        match status {
            400 => ErrorCode::BadRequest,
            401 => ErrorCode::Unauthenticated,
            404 => ErrorCode::NotFound,
            405 => ErrorCode::MethodNotAllowed,
            410 => ErrorCode::Gone,
            413 => ErrorCode::PayloadTooLarge,
            415 => ErrorCode::UnsupportedMediaType,
            422 => ErrorCode::ValidationFailed,
            429 => ErrorCode::TooManyAttempts,
            503 => ErrorCode::DatabaseUnavailable,
            _ => ErrorCode::Internal,
        }
    }
}

/// A code is written as its `as_str` (problem documents' `code`).
impl Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// In the OpenAPI document: a string, one of `ErrorCode::ALL`.
impl utoipa::PartialSchema for ErrorCode {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(ErrorCode::ALL.map(ErrorCode::as_str)))
            .description(Some(
                "What went wrong, for machines: one code per refusal, explained in docs/errors.md.",
            ))
            .into()
    }
}

impl utoipa::ToSchema for ErrorCode {}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("bad request ({}): {message}", code.as_str())]
    BadRequest { code: ErrorCode, message: String },
    #[error("sign in required")]
    Unauthenticated,
    /// A signed-in user who must choose a new password before doing anything else.
    #[error("password change required")]
    PasswordChangeRequired,
    #[error("forbidden ({}): {message}", code.as_str())]
    Forbidden { code: ErrorCode, message: String },
    #[error("not found")]
    NotFound,
    #[error("conflict ({}): {message}", code.as_str())]
    Conflict { code: ErrorCode, message: String },
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

    pub fn bad_request(code: ErrorCode, message: impl Into<String>) -> Self {
        AppError::BadRequest {
            code,
            message: message.into(),
        }
    }

    pub fn forbidden(code: ErrorCode, message: impl Into<String>) -> Self {
        AppError::Forbidden {
            code,
            message: message.into(),
        }
    }

    pub fn conflict(code: ErrorCode, message: impl Into<String>) -> Self {
        AppError::Conflict {
            code,
            message: message.into(),
        }
    }

    /// The machine-readable code of this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            AppError::BadRequest { code, .. }
            | AppError::Forbidden { code, .. }
            | AppError::Conflict { code, .. } => *code,
            AppError::Unauthenticated => ErrorCode::Unauthenticated,
            AppError::PasswordChangeRequired => ErrorCode::PasswordChangeRequired,
            AppError::NotFound => ErrorCode::NotFound,
            AppError::Gone(_) => ErrorCode::Gone,
            AppError::PayloadTooLarge => ErrorCode::PayloadTooLarge,
            AppError::Invalid { .. } => ErrorCode::ValidationFailed,
            AppError::TooManyRequests { .. } => ErrorCode::TooManyAttempts,
            AppError::Unavailable(_) => ErrorCode::DatabaseUnavailable,
            AppError::Internal(_) => ErrorCode::Internal,
        }
    }

    /// The sentence for people, when the error carries one.
    pub fn message(&self) -> Option<&str> {
        match self {
            AppError::BadRequest { message, .. }
            | AppError::Forbidden { message, .. }
            | AppError::Conflict { message, .. } => Some(message),
            AppError::Gone(m) | AppError::Unavailable(m) => Some(m),
            AppError::Invalid { detail, .. } | AppError::TooManyRequests { detail, .. } => {
                Some(detail)
            }
            _ => None,
        }
    }
}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => AppError::unavailable_db(&e),
            sqlx::Error::Io(_) => {
                crate::db::kept_reads::connection_failed();
                AppError::unavailable_db(&e)
            }
            // Connection exceptions (08…) and the server shutting down or starting (57P0…).
            sqlx::Error::Database(ref d)
                if d.code()
                    .is_some_and(|c| c.starts_with("08") || c.starts_with("57P0")) =>
            {
                crate::db::kept_reads::connection_failed();
                AppError::unavailable_db(&e)
            }
            other => {
                if matches!(other, sqlx::Error::Protocol(_) | sqlx::Error::Tls(_)) {
                    crate::db::kept_reads::connection_failed();
                }
                AppError::Internal(other.into())
            }
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

#[cfg(test)]
mod tests {
    use super::ErrorCode;

    #[test]
    fn every_code_is_documented_once() {
        let doc = include_str!("../docs/errors.md");
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            assert!(seen.insert(code.as_str()), "{} twice", code.as_str());
            assert!(
                doc.contains(&format!("`{}`", code.as_str())),
                "docs/errors.md does not explain {}",
                code.as_str()
            );
        }
    }
}
