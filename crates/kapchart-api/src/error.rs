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
//! | the database does not answer (down, restarting, unreachable, no connection within the pool's timeout) | 503 | `unavailable` (with `Retry-After`) |
//! | the server failed | 500 | `internal` (details only in the log) |
//!
//! Messages never hold names, notes or tokens: they name the field or the
//! rule.

use std::any::Any;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kapchart_store::StoreError;
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
    /// The database does not answer. Answered 503 with `Retry-After`: try
    /// again later (a command with the same id: it may have been applied
    /// before the connection broke, and is applied once).
    #[error("the database is unavailable; try again shortly")]
    Unavailable,
    /// The server failed; the details are logged, not sent.
    #[error("internal error")]
    Internal,
}

/// The `Retry-After` of a 503 `unavailable`, in seconds.
pub const RETRY_AFTER_SECONDS: u32 = 5;

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

    /// A failure of the server: [`ApiError::Unavailable`] when it comes
    /// from a database that does not answer ([`database_unavailable`]),
    /// [`ApiError::Internal`] otherwise. Logged either way (never sent to
    /// the caller).
    pub fn internal<E: std::fmt::Display + Any>(context: &'static str, error: &E) -> Self {
        if database_unavailable(error) {
            tracing::warn!(%error, "{context}: the database is unavailable");
            ApiError::Unavailable
        } else {
            tracing::error!(%error, "{context}");
            ApiError::Internal
        }
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
            ApiError::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            ApiError::Internal => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

/// True when `error` says the database did not answer: a
/// [`StoreError::Unavailable`] (the store's one classification of sqlx's
/// errors), directly or inside the errors that carry store errors (the
/// projector's, the accounts', the audit's, cqrs-es's).
pub fn database_unavailable(error: &dyn Any) -> bool {
    use cqrs_es::AggregateError;
    use cqrs_es::persist::PersistenceError;
    use kapchart_domain::{ClientError, PracticeError};
    use kapchart_projector::ProjectorError;
    use kapchart_store::accounts::AccountError;
    use kapchart_store::audit::{CheckpointRefused, ExportError};
    use kapchart_store::credentials::CredentialError;
    use kapchart_store::signing_keys::KeyError;

    type Boxed = Box<dyn std::error::Error + Send + Sync + 'static>;
    fn boxed(b: &Boxed) -> bool {
        b.downcast_ref::<StoreError>()
            .is_some_and(StoreError::is_unavailable)
    }
    fn aggregate<T: std::error::Error + 'static>(error: &dyn Any) -> Option<bool> {
        error.downcast_ref::<AggregateError<T>>().map(|e| match e {
            AggregateError::DatabaseConnectionError(b) | AggregateError::UnexpectedError(b) => {
                boxed(b)
            }
            _ => false,
        })
    }
    // A service the record consults while deciding (the practice's
    // settings, the staff accounts, the schedule) whose database did not
    // answer.
    if let Some(e) = error.downcast_ref::<AggregateError<ClientError>>()
        && let AggregateError::UserError(ClientError::Service(s)) = e
    {
        return s.is_unavailable();
    }
    fn checkpoint(e: &CheckpointRefused) -> bool {
        match e {
            CheckpointRefused::Store(s) => s.is_unavailable(),
            CheckpointRefused::Key(KeyError::Store(s)) => s.is_unavailable(),
            _ => false,
        }
    }

    if let Some(e) = error.downcast_ref::<StoreError>() {
        return e.is_unavailable();
    }
    if let Some(e) = error.downcast_ref::<ProjectorError>() {
        return matches!(e, ProjectorError::Store(s) if s.is_unavailable());
    }
    if let Some(unavailable) = aggregate::<ClientError>(error) {
        return unavailable;
    }
    if let Some(unavailable) = aggregate::<PracticeError>(error) {
        return unavailable;
    }
    if let Some(e) = error.downcast_ref::<PersistenceError>() {
        return match e {
            PersistenceError::ConnectionError(b) | PersistenceError::UnknownError(b) => boxed(b),
            _ => false,
        };
    }
    if let Some(e) = error.downcast_ref::<AccountError>() {
        return matches!(e, AccountError::Store(s) if s.is_unavailable());
    }
    if let Some(e) = error.downcast_ref::<CredentialError>() {
        return matches!(e, CredentialError::Store(s) if s.is_unavailable());
    }
    if let Some(e) = error.downcast_ref::<KeyError>() {
        return matches!(e, KeyError::Store(s) if s.is_unavailable());
    }
    if let Some(e) = error.downcast_ref::<CheckpointRefused>() {
        return checkpoint(e);
    }
    if let Some(e) = error.downcast_ref::<ExportError>() {
        return match e {
            ExportError::Store(s) => s.is_unavailable(),
            ExportError::Checkpoint(c) => checkpoint(c),
            _ => false,
        };
    }
    if let Some(e) = error.downcast_ref::<crate::fhir::FhirExportError>() {
        return matches!(e, crate::fhir::FhirExportError::Store(s) if s.is_unavailable());
    }
    false
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
    /// `body_too_large`, `refused`, `unavailable` (503, with
    /// `Retry-After`) or `internal`.
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
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
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

#[cfg(test)]
mod tests {
    use cqrs_es::AggregateError;
    use kapchart_domain::ClientError;
    use kapchart_projector::ProjectorError;

    use super::*;

    fn down() -> StoreError {
        StoreError::Unavailable("timed out waiting for a connection".into())
    }

    #[test]
    fn an_unavailable_database_is_503_with_retry_after_wherever_it_is_carried() {
        let carried: [(&str, ApiError); 5] = [
            ("store", ApiError::internal("t", &down())),
            (
                "projector",
                ApiError::internal("t", &ProjectorError::Store(down())),
            ),
            (
                "cqrs-es",
                ApiError::internal(
                    "t",
                    &AggregateError::<ClientError>::DatabaseConnectionError(Box::new(down())),
                ),
            ),
            (
                "accounts",
                ApiError::internal("t", &kapchart_store::accounts::AccountError::Store(down())),
            ),
            (
                "a service the record consults",
                ApiError::internal(
                    "t",
                    &AggregateError::<ClientError>::UserError(ClientError::Service(
                        kapchart_domain::ServiceError::unavailable("the staff accounts"),
                    )),
                ),
            ),
        ];
        for (what, error) in carried {
            assert!(matches!(error, ApiError::Unavailable), "{what}");
            let response = error.into_response();
            assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE, "{what}");
            assert_eq!(
                response.headers().get(header::RETRY_AFTER),
                Some(&HeaderValue::from(RETRY_AFTER_SECONDS)),
                "{what}"
            );
        }
    }

    #[test]
    fn other_failures_stay_internal() {
        for error in [
            ApiError::internal("t", &StoreError::Query("syntax error".into())),
            ApiError::internal("t", &"a message"),
            ApiError::internal(
                "t",
                &AggregateError::<ClientError>::UnexpectedError(Box::new(StoreError::Query(
                    "x".into(),
                ))),
            ),
            ApiError::internal(
                "t",
                &AggregateError::<ClientError>::UserError(ClientError::Service(
                    kapchart_domain::ServiceError::failed("a settings row"),
                )),
            ),
        ] {
            assert!(matches!(error, ApiError::Internal));
        }
    }
}
