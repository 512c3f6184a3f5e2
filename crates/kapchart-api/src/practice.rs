//! The practice's own record through the API: its settings as they stand
//! with every version (`GET /api/v1/practice`), its entries with their
//! chain hashes (`GET /api/v1/practice/history`), and the admins' changes
//! (`POST /api/v1/practice/commands`). The same services serve the pages
//! and the command line.
//!
//! The settings are configuration, not client data: every role reads
//! them and no access-log entry is written. Who may change them is decided
//! by the practice's record on the state the change is decided on
//! (`settings.admin_only`).

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use chrono::{DateTime, Utc};
use cqrs_es::AggregateError;
use kapchart_domain::{
    CommandId, FeeSchedule, Policy, PracticeCommand, PracticeCommandBody, PracticeError,
    PracticeEvent, PracticeIdentity, PracticeSettings, Provider, Role, Rule,
};
use kapchart_store::metadata_of;
use kapchart_store::practice::{PRACTICE_ID, PRACTICE_RECORD};
use serde::Serialize;
use utoipa::ToSchema;

use crate::command_schema;
use crate::commands::{CommandReply, body_bytes};
use crate::error::ApiError;
use crate::{AppState, Caller};

/// The lock key of the practice's record among the records' locks (a
/// client id cannot start with `@`).
const LOCK_KEY: &str = "@practice";

/// How often a change that lost a race with another process is decided
/// again before the caller gets a 409.
const CONFLICT_RETRIES: usize = 5;

/// A change to the practice's settings, parsed: the actor and the time
/// come from the token and the server's clock. The JSON form, and its
/// schema in the OpenAPI document, is
/// [`command_schema::practice::PracticeCommandRequest`].
#[derive(Debug)]
pub struct PracticeCommandRequest {
    /// Chosen by the caller: the same id with the same body is applied
    /// once; with a different body it is refused (409).
    pub id: CommandId,
    /// The change.
    pub body: PracticeCommandBody,
}

impl PracticeCommandRequest {
    /// Parses a request from its JSON text through the wire types the
    /// OpenAPI document describes, naming the first bad field
    /// (`body.SetPracticeIdentity.npi`).
    ///
    /// # Errors
    /// 400 naming the field.
    pub fn parse(text: &str) -> Result<Self, ApiError> {
        command_schema::practice::PracticeCommandRequest::parse(text)
    }
}

/// The practice's settings as they stand, with every version.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PracticeReply {
    /// The practice's identity (name, address, NPI, tax id, place of
    /// service, time zone), once set.
    #[schema(value_type = Option<Object>)]
    pub identity: Option<PracticeIdentity>,
    /// The time zone the practice's days are counted in (IANA name; UTC
    /// until the identity is set).
    pub time_zone: String,
    /// The rendering providers, by user id.
    #[schema(value_type = Vec<Object>)]
    pub providers: Vec<Provider>,
    /// Every policy version, oldest first, each with its `effective_from`.
    #[schema(value_type = Vec<Object>)]
    pub policies: Vec<Policy>,
    /// Every fee schedule version, oldest first.
    #[schema(value_type = Vec<Object>)]
    pub fee_schedules: Vec<FeeSchedule>,
    /// The policy version in force now.
    pub policy_in_force: u32,
    /// The fee schedule version in force today (the practice's date).
    pub fee_schedule_in_force: u32,
}

/// One entry of the practice's record.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PracticeHistoryEntry {
    /// Position in the record, from 1.
    pub sequence: u64,
    /// When it was recorded (RFC 3339, UTC).
    #[schema(value_type = String, format = DateTime)]
    pub recorded_at: DateTime<Utc>,
    /// The event's type, e.g. `PolicyAdopted`.
    pub event_type: String,
    /// The event as stored.
    #[schema(value_type = Object)]
    pub event: PracticeEvent,
    /// Its chain hash (hex).
    pub hash: String,
    /// The previous entry's hash (hex; 64 zeros for the first).
    pub prev_hash: String,
}

impl AppState {
    /// The settings in force: as the practice's record holds them now.
    ///
    /// # Errors
    /// 500 when the record cannot be read.
    pub async fn settings(&self) -> Result<Arc<PracticeSettings>, ApiError> {
        self.inner
            .settings
            .current()
            .await
            .map_err(|e| ApiError::internal("reading the practice's settings", &e))
    }

    /// The settings as last read (no database round trip): for what only
    /// displays, between reads.
    pub fn settings_known(&self) -> Arc<PracticeSettings> {
        self.inner.settings.last_known()
    }

    /// The practice's settings with every version, for any signed-in role.
    ///
    /// # Errors
    /// 500 when the record cannot be read.
    pub async fn read_practice(&self) -> Result<PracticeReply, ApiError> {
        let settings = self.settings().await?;
        let now = self.now();
        Ok(PracticeReply {
            identity: settings.identity().cloned(),
            time_zone: settings.time_zone().to_string(),
            providers: settings.providers().cloned().collect(),
            policies: settings.policies().to_vec(),
            fee_schedules: settings.fee_schedules().to_vec(),
            policy_in_force: settings.policy_at(now).map_or(0, |p| p.version),
            fee_schedule_in_force: settings
                .fees_on(settings.local_date(now))
                .map_or(0, |f| f.version),
        })
    }

    /// Every entry of the practice's record with its chain hashes, for
    /// admins and auditors.
    ///
    /// # Errors
    /// 403 for other roles; 500 when the record cannot be read.
    pub async fn read_practice_history(
        &self,
        caller: &Caller,
    ) -> Result<Vec<PracticeHistoryEntry>, ApiError> {
        if !matches!(caller.role, Role::Admin | Role::Auditor) {
            return Err(ApiError::Forbidden(
                "the practice record's history is for admins and auditors",
            ));
        }
        let history = kapchart_store::practice::history(self.db())
            .await
            .map_err(|e| ApiError::internal("reading the practice's record", &e))?;
        Ok(history
            .into_iter()
            .map(|e| PracticeHistoryEntry {
                sequence: e.sequence,
                recorded_at: e.recorded_at,
                event_type: e.event.type_name().to_owned(),
                event: e.event,
                hash: e.hash,
                prev_hash: e.prev_hash,
            })
            .collect())
    }

    /// Decides and commits one change to the practice's settings (the
    /// service behind the API, the pages and the command line). The same
    /// command id with the same change is applied once.
    ///
    /// # Errors
    /// 403 for anyone but an admin, 409 for a reused command id or a
    /// record that kept changing, 422 for a rule of the settings.
    pub async fn execute_practice(
        &self,
        caller: &Caller,
        request: PracticeCommandRequest,
    ) -> Result<CommandReply, ApiError> {
        let command_id = request.id.clone();
        let mut command =
            PracticeCommand::new(request.id, caller.actor(), self.now(), request.body);
        let writing = self.inner.locks.lock(LOCK_KEY).await;
        let mut attempt = 0;
        loop {
            command.issued_at = self.now();
            let metadata = metadata_of(&command.actor, &command.id);
            match self
                .inner
                .practice
                .execute_with_metadata(PRACTICE_ID, command.clone(), metadata)
                .await
            {
                Ok(()) => break,
                Err(AggregateError::AggregateConflict) if attempt < CONFLICT_RETRIES => {
                    attempt += 1;
                }
                Err(AggregateError::AggregateConflict) => return Err(ApiError::Concurrent),
                Err(AggregateError::UserError(PracticeError::Refused(r)))
                    if r.rule == Rule::CommandIdReused =>
                {
                    return Err(ApiError::CommandIdReused(r.message));
                }
                Err(AggregateError::UserError(PracticeError::Refused(r))) => {
                    return Err(ApiError::Refused {
                        rule: r.rule.code(),
                        message: r.message,
                    });
                }
                Err(e) => return Err(ApiError::internal("executing a practice command", &e)),
            }
        }
        drop(writing);
        self.written(PRACTICE_RECORD, PRACTICE_ID, &command_id)
            .await
    }
}

/// The practice's settings with every version.
#[utoipa::path(
    get,
    path = "/api/v1/practice",
    tag = "practice",
    responses(
        (status = 200, description = "The settings as they stand", body = PracticeReply),
        (status = 401, description = "No valid token", body = crate::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn get_practice(
    State(state): State<AppState>,
    _caller: Caller,
) -> Result<Json<PracticeReply>, ApiError> {
    state.read_practice().await.map(Json)
}

/// The practice record's entries with their chain hashes.
#[utoipa::path(
    get,
    path = "/api/v1/practice/history",
    tag = "practice",
    responses(
        (status = 200, description = "Every entry, oldest first", body = Vec<PracticeHistoryEntry>),
        (status = 401, description = "No valid token", body = crate::ErrorBody),
        (status = 403, description = "Not an admin or auditor", body = crate::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn get_history(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<PracticeHistoryEntry>>, ApiError> {
    state.read_practice_history(&caller).await.map(Json)
}

/// One change to the practice's settings (admins only).
#[utoipa::path(
    post,
    path = "/api/v1/practice/commands",
    operation_id = "post_practice_command",
    tag = "practice",
    request_body = command_schema::practice::PracticeCommandRequest,
    responses(
        (status = 200, description = "Applied (or a retry of an applied change)", body = CommandReply),
        (status = 400, description = "Malformed: the field is named", body = crate::ErrorBody),
        (status = 401, description = "No valid token", body = crate::ErrorBody),
        (status = 403, description = "Not an admin (settings.admin_only)", body = crate::ErrorBody),
        (status = 409, description = "Command id reused", body = crate::ErrorBody),
        (status = 413, description = "Body too large", body = crate::ErrorBody),
        (status = 422, description = "Refused by a rule of the settings", body = crate::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn post_command(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<CommandReply>, ApiError> {
    let body = body_bytes(body)?;
    let text = std::str::from_utf8(&body).map_err(|_| ApiError::bad(".", "not UTF-8"))?;
    let request = PracticeCommandRequest::parse(text)?;
    state.execute_practice(&caller, request).await.map(Json)
}
