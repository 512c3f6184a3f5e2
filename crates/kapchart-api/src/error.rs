//! The one table from errors to HTTP status and a stable error code.
//!
//! | error | status | code |
//! |---|---|---|
//! | malformed input (JSON, types, ids, query) | 400 | `invalid_input` (with `field`) |
//! | no, unknown, expired or revoked token | 401 | `unauthenticated` |
//! | the role or assignment does not allow it | 403 | `forbidden` |
//! | the record refuses the actor: `role.not_permitted`, `client.not_assigned`, `client.not_referred` | 403 | `forbidden` (the rule's code in `rule`) |
//! | no such client or route | 404 | `not_found` |
//! | a route without this method | 405 | `method_not_allowed` |
//! | a command id reused for a different command | 409 | `command_id_reused` |
//! | still conflicting after internal retries | 409 | `concurrent_update` |
//! | an account or key change that conflicts with the state (admins) | 409 | `user_exists`, `user_disabled`, `user_not_disabled`, `own_account`, `key_not_current`, `record_not_intact` |
//! | body over the limit | 413 | `body_too_large` |
//! | refused by a rule of the record | 422 | the rule's code (in `rule`) |
//! | the server failed | 500 | `internal` (details only in the log) |
//!
//! Messages never hold names, notes or tokens: they name the field or the
//! rule.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::{IntoResponses, ToSchema};

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Malformed input: the field is named.
    #[error("{field}: {message}")]
    BadRequest {
        /// Dotted path of the field (`.` for the whole body).
        field: String,
        /// Why.
        message: String,
    },
    /// No valid bearer token.
    #[error("a valid bearer token is required")]
    Unauthenticated,
    /// The caller's role or assignment does not allow this.
    #[error("{0}")]
    Forbidden(&'static str),
    /// No such resource.
    #[error("{0}")]
    NotFound(&'static str),
    /// The route exists, but not with this method.
    #[error("this route does not take this method")]
    MethodNotAllowed,
    /// A rule of the record refused the command.
    #[error("{message}")]
    Refused {
        /// The rule's stable code, e.g. `dose.step_too_large`.
        rule: &'static str,
        /// Why, in words (no free text from the record).
        message: String,
    },
    /// A command id was already used for a different command.
    #[error("{0}")]
    CommandIdReused(String),
    /// An admin's change conflicts with the state of the account, the
    /// keys or the record (409 with the code given).
    #[error("{message}")]
    Conflict {
        /// The stable code, e.g. `user_exists`.
        code: &'static str,
        /// Why, in words (ids only).
        message: String,
    },
    /// Other writers kept changing the record.
    #[error("the record kept changing; try again")]
    Concurrent,
    /// The body is over the limit.
    #[error("the body is larger than {0} bytes")]
    TooLarge(usize),
    /// The server failed; the details are logged, not sent.
    #[error("internal error")]
    Internal,
}

/// The record's rules that refuse who is acting rather than what is asked:
/// answered 403 like the API's own role checks.
fn is_access_rule(code: &str) -> bool {
    use kapchart_domain::Rule;
    [
        Rule::RoleNotPermitted,
        Rule::ClientNotAssigned,
        Rule::ClientNotReferred,
        Rule::SettingsAdminOnly,
    ]
    .iter()
    .any(|r| r.code() == code)
}

impl ApiError {
    /// A malformed field.
    pub fn bad(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::BadRequest {
            field: field.into(),
            message: message.into(),
        }
    }

    /// Logs an internal failure (never sent to the caller).
    pub fn internal(context: &'static str, error: &dyn std::fmt::Display) -> Self {
        tracing::error!(%error, "{context}");
        ApiError::Internal
    }

    /// The status and stable code of this error.
    pub fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::BadRequest { .. } => (StatusCode::BAD_REQUEST, "invalid_input"),
            ApiError::Unauthenticated => (StatusCode::UNAUTHORIZED, "unauthenticated"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            ApiError::CommandIdReused(_) => (StatusCode::CONFLICT, "command_id_reused"),
            ApiError::Concurrent => (StatusCode::CONFLICT, "concurrent_update"),
            ApiError::Conflict { code, .. } => (StatusCode::CONFLICT, code),
            ApiError::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "body_too_large"),
            ApiError::Refused { rule, .. } if is_access_rule(rule) => {
                (StatusCode::FORBIDDEN, "forbidden")
            }
            ApiError::Refused { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "refused"),
            ApiError::Internal => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

/// The body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// The HTTP status, repeated.
    pub status: u16,
    /// Stable code: `invalid_input`, `unauthenticated`, `forbidden`,
    /// `not_found`, `method_not_allowed`, `command_id_reused`,
    /// `concurrent_update`, the admins' conflicts (`user_exists`,
    /// `user_disabled`, `user_not_disabled`, `own_account`,
    /// `key_not_current`, `record_not_intact`),
    /// `body_too_large`, `refused` or `internal`.
    pub code: &'static str,
    /// Why, in words.
    pub message: String,
    /// For `invalid_input`: the field, as a dotted path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// For `refused`: the rule's stable code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<&'static str>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let (field, rule) = match &self {
            ApiError::BadRequest { field, .. } => (Some(field.clone()), None),
            ApiError::Refused { rule, .. } => (None, Some(*rule)),
            _ => (None, None),
        };
        let message = match &self {
            ApiError::BadRequest { message, .. } => message.clone(),
            other => other.to_string(),
        };
        let body = ErrorBody {
            error: ErrorDetail {
                status: status.as_u16(),
                code,
                message,
                field,
                rule,
            },
        };
        let mut response = (status, Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"kapchart\""),
            );
        }
        response
    }
}

/// The error replies of a read of a client's record or a report, for the
/// OpenAPI document.
#[derive(Debug, IntoResponses)]
#[allow(dead_code)] // Only its schema is used.
pub enum ReadErrors {
    /// Malformed: the field is named.
    #[response(status = 400)]
    BadRequest(ErrorBody),
    /// No valid token.
    #[response(status = 401)]
    Unauthenticated(ErrorBody),
    /// The role or assignment does not allow it.
    #[response(status = 403)]
    Forbidden(ErrorBody),
    /// No such client or report.
    #[response(status = 404)]
    NotFound(ErrorBody),
}
