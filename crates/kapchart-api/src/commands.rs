//! `POST /api/v1/clients/{id}/commands`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use cqrs_es::AggregateError;
use kapchart_domain::{ClientError, ClientId, Command, CommandBody, CommandId, Override, Rule};
use kapchart_store::{CLIENT_RECORD, command_metadata};
use serde::Serialize;
use utoipa::ToSchema;

use crate::command_schema;
use crate::error::ApiError;
use crate::reads::ClientPath;
use crate::{AppState, BODY_LIMIT, Caller};

/// How often a command that lost a race with another writer of the same
/// record (another process: in this one, writers of a record take turns)
/// is decided again before the caller gets a 409.
const CONFLICT_RETRIES: usize = 5;

/// A command to one client's record, parsed: the actor and the time come
/// from the token and the server's clock. The JSON form, and its schema in
/// the OpenAPI document, is [`command_schema::CommandRequest`].
#[derive(Debug)]
pub struct CommandRequest {
    /// Chosen by the caller: the same id with the same body is applied
    /// once and answered with the first result; with a different body it
    /// is refused (409).
    pub id: CommandId,
    /// Reasons given for going past soft stops.
    pub overrides: Vec<Override>,
    /// The command.
    pub body: CommandBody,
}

impl CommandRequest {
    /// Parses a request from its JSON text through the wire types the
    /// OpenAPI document describes ([`command_schema`]): every field
    /// checked, the first bad one named (`body.RecordPayment.amount`).
    ///
    /// # Errors
    /// 400 naming the field.
    pub fn parse(text: &str) -> Result<Self, ApiError> {
        command_schema::CommandRequest::parse(text)
    }
}

/// What a command wrote.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CommandReply {
    /// The client.
    pub client_id: String,
    /// The command's id.
    pub command_id: String,
    /// The sequence of the last event written: the record's new length.
    pub sequence: u64,
    /// The global feed position of the last event written.
    pub position: i64,
    /// Every event the command wrote, in order.
    pub events: Vec<WrittenEvent>,
}

/// One event a command wrote.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WrittenEvent {
    /// Its sequence in the client's record.
    pub sequence: u64,
    /// Its global feed position.
    pub position: i64,
    /// Its type, e.g. `PaymentRecorded`.
    pub event_type: String,
}

/// The request's path of a field the record refused while deciding (a
/// span that has not ended, a date in the future): the same path a parse
/// error names, `body.RecordPreparation.span.end`, or the request's own
/// `overrides...`.
fn decided_field(command: &str, field: &str) -> String {
    if field == "overrides" || field.starts_with("overrides.") {
        field.to_owned()
    } else {
        format!("body.{command}.{field}")
    }
}

/// Parses a client id from the path.
pub(crate) fn client_id(
    path: Result<Path<ClientPath>, PathRejection>,
) -> Result<ClientId, ApiError> {
    let Path(ClientPath { id }) =
        path.map_err(|_| ApiError::bad("client_id", "not a valid path segment"))?;
    ClientId::parse(&id).map_err(|e| ApiError::bad("client_id", e.to_string()))
}

/// A request's body, or 413 when it is too large and 400 when it could
/// not be read.
pub(crate) fn body_bytes(body: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::TooLarge(BODY_LIMIT)
        } else {
            ApiError::bad(".", "the body could not be read")
        }
    })
}

/// One command to one client's record.
#[utoipa::path(
    post,
    path = "/api/v1/clients/{id}/commands",
    operation_id = "post_client_command",
    tag = "commands",
    params(crate::reads::ClientPath),
    request_body = command_schema::CommandRequest,
    responses(
        (status = 200, description = "Applied (or a retry of an applied command: the first result)", body = CommandReply),
        (status = 400, description = "Malformed: the field is named", body = crate::ErrorBody),
        (status = 401, description = "No valid token", body = crate::ErrorBody),
        (status = 403, description = "The role or assignment does not allow it", body = crate::ErrorBody),
        (status = 409, description = "Command id reused, or still conflicting after retries", body = crate::ErrorBody),
        (status = 413, description = "Body too large", body = crate::ErrorBody),
        (status = 422, description = "Refused by a rule of the record", body = crate::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn post_command(
    State(state): State<AppState>,
    caller: Caller,
    path: Result<Path<ClientPath>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<CommandReply>, ApiError> {
    let client = client_id(path)?;
    let body = body_bytes(body)?;
    let text = std::str::from_utf8(&body).map_err(|_| ApiError::bad(".", "not UTF-8"))?;
    let request = CommandRequest::parse(text)?;
    state.execute(&caller, &client, request).await.map(Json)
}

impl AppState {
    /// Decides and commits one command of `caller` to `client`'s record
    /// (the service behind the API's commands and the pages' forms): the
    /// actor and the time come from the caller and the server's clock.
    /// The same command id with the same command is applied once and
    /// answered with the first result.
    ///
    /// # Errors
    /// 400 naming a field, 403 when the record refuses the actor, 409 for
    /// a reused command id or a record that kept changing, 422 for a rule
    /// of the record.
    pub async fn execute(
        &self,
        caller: &Caller,
        client: &ClientId,
        request: CommandRequest,
    ) -> Result<CommandReply, ApiError> {
        let state = self;
        if let CommandBody::RegisterClient(r) = &request.body
            && r.client_id != *client
        {
            return Err(ApiError::bad(
                "body.RegisterClient.client_id",
                "must equal the client id in the path",
            ));
        }
        // Who may act on this client (role, assignment, referral) is decided
        // by the record itself, on the state the command is decided on.
        let command_id = request.id.clone();
        let mut command = Command {
            id: request.id,
            actor: caller.actor(),
            issued_at: state.now(),
            overrides: request.overrides,
            body: request.body,
        };
        // One command per record at a time in this server: deciding and
        // committing happen under the record's lock, so concurrent commands to
        // one record queue here instead of conflicting. The retries remain for
        // writers in other processes.
        let writing = state.inner.locks.lock(client.as_str()).await;
        let mut attempt = 0;
        loop {
            command.issued_at = state.now();
            let metadata = command_metadata(&command);
            match state
                .inner
                .cqrs
                .execute_with_metadata(client.as_str(), command.clone(), metadata)
                .await
            {
                Ok(()) => break,
                Err(AggregateError::AggregateConflict) if attempt < CONFLICT_RETRIES => {
                    attempt += 1;
                }
                Err(AggregateError::AggregateConflict) => return Err(ApiError::Concurrent),
                Err(AggregateError::UserError(ClientError::Refused(r)))
                    if r.rule == Rule::CommandIdReused =>
                {
                    return Err(ApiError::CommandIdReused(r.message));
                }
                Err(AggregateError::UserError(ClientError::Refused(r))) => {
                    return Err(ApiError::Refused {
                        rule: r.rule.code(),
                        message: r.message,
                    });
                }
                Err(AggregateError::UserError(ClientError::Invalid { field, message })) => {
                    return Err(ApiError::bad(
                        decided_field(command.body.name(), field),
                        message,
                    ));
                }
                Err(e) => return Err(ApiError::internal("executing a command", &e)),
            }
        }
        drop(writing);
        state.projector().waker().notify_one();

        // The events this command id wrote: the same answer for the first
        // request and for every retry of it.
        state
            .written(CLIENT_RECORD, client.as_str(), &command_id)
            .await
    }

    /// The reply to command `command_id` of a record: the events it wrote
    /// (the same answer for the first request and every retry of it).
    pub(crate) async fn written(
        &self,
        aggregate_type: &str,
        record: &str,
        command_id: &CommandId,
    ) -> Result<CommandReply, ApiError> {
        let written = self
            .inner
            .repository
            .command_events(aggregate_type, record, command_id.as_str())
            .await
            .map_err(|e| ApiError::internal("reading a command's events", &e))?;
        let Some(last) = written.last() else {
            return Err(ApiError::internal(
                "a command was applied but no event carries its id",
                command_id,
            ));
        };
        Ok(CommandReply {
            client_id: record.to_owned(),
            command_id: command_id.to_string(),
            sequence: last.sequence,
            position: last.position,
            events: written
                .iter()
                .map(|e| WrittenEvent {
                    sequence: e.sequence,
                    position: e.position,
                    event_type: e.event_type.clone(),
                })
                .collect(),
        })
    }
}
