//! A client's record as a FHIR R4 Bundle (docs/fhir.md): the JSON handler
//! `GET /api/v1/clients/{id}/fhir`, its service on [`AppState`], and
//! [`client_fhir_bundle`], which reads what kapchart-fhir maps (the
//! client's stored entries through the store's upcaster, the practice's
//! settings, the access log's entries about the client) and is shared
//! with `kapchart export --format fhir`.
//!
//! The export is a read of the record: its access-log entry (an `export`)
//! is appended before the record is read for the Bundle, so the Bundle's
//! AuditEvents end with the export itself, and nothing leaves if it cannot
//! be logged. Who may export: auditors, as for the verifiable bundle.

use std::str::FromStr as _;

use axum::Json;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use kapchart_domain::{Actor, ClientId, PracticeSettings, Role, UserId};
use kapchart_fhir::{AccessAction, AccessLogEntry, RecordEntry};
use kapchart_store::access::{self, AccessQuery, AccessRecord, DataCategory};
use kapchart_store::{CLIENT_RECORD, Database, FeedEvent, upcast};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use crate::commands::client_id;
use crate::desk_reads::ReadAction;
use crate::disclosure::history_categories;
use crate::error::ApiError;
use crate::reads::{ClientPath, Purpose};
use crate::source::Source;
use crate::{AppState, Caller};

/// Why a client's FHIR Bundle could not be made. Names columns, sequences
/// and kinds, never the record's content.
#[derive(Debug, thiserror::Error)]
pub enum FhirExportError {
    /// No such client.
    #[error("no client with this id")]
    UnknownClient,
    /// The store could not be read.
    #[error("reading the store: {0}")]
    Store(#[from] kapchart_store::StoreError),
    /// A stored entry is not readable as a client event.
    #[error("entry {sequence}: {error}")]
    Unreadable {
        /// The entry's sequence.
        sequence: u64,
        /// What is wrong with it.
        error: upcast::UpcastError,
    },
    /// A stored entry's metadata names no valid actor.
    #[error("entry {0}: metadata.actor_id or metadata.actor_role is missing or invalid")]
    BadActor(u64),
    /// An access-log entry's hash is not a hash.
    #[error("access log entry {0}: its hash is not 64 hex digits")]
    BadAccessHash(u64),
    /// The mapping refused the record.
    #[error(transparent)]
    Mapping(#[from] kapchart_fhir::FhirError),
}

/// The categories of data a client's FHIR Bundle holds, for the access
/// log: those of the complete history but billing (the Bundle carries no
/// charges or payments).
pub fn export_categories(entries: &[Value]) -> Vec<DataCategory> {
    history_categories(entries)
        .into_iter()
        .filter(|c| *c != DataCategory::Billing)
        .collect()
}

/// The client's stored entries, as kapchart-fhir takes them.
///
/// # Errors
/// [`FhirExportError::Unreadable`] or [`FhirExportError::BadActor`] for an
/// entry that is not a readable client event.
pub fn record_entries(events: &[FeedEvent]) -> Result<Vec<RecordEntry>, FhirExportError> {
    events
        .iter()
        .map(|row| {
            let entry = &row.stored.entry;
            let sequence = entry.sequence;
            let unreadable = |error| FhirExportError::Unreadable { sequence, error };
            let event = upcast::client_event(entry).map_err(unreadable)?;
            let recorded_at = upcast::recorded_at(entry).map_err(unreadable)?;
            let metadata = &entry.metadata;
            let id = metadata["actor_id"]
                .as_str()
                .and_then(|s| UserId::parse(s).ok());
            let role = metadata["actor_role"]
                .as_str()
                .and_then(|s| Role::from_str(s).ok());
            let (Some(id), Some(role)) = (id, role) else {
                return Err(FhirExportError::BadActor(sequence));
            };
            Ok(RecordEntry {
                sequence,
                hash: row.stored.hash,
                recorded_at,
                actor: Actor { id, role },
                event,
            })
        })
        .collect()
}

/// The access log's entries about a client, as kapchart-fhir takes them
/// (sign-ins name no client and are left out).
///
/// # Errors
/// [`FhirExportError::BadAccessHash`] for a stored hash that is not one.
pub fn access_entries(records: &[AccessRecord]) -> Result<Vec<AccessLogEntry>, FhirExportError> {
    records
        .iter()
        .filter_map(|r| {
            let action = match r.entry.action {
                access::AccessAction::Add => AccessAction::Add,
                access::AccessAction::Change => AccessAction::Change,
                access::AccessAction::Query => AccessAction::Query,
                access::AccessAction::Print => AccessAction::Print,
                access::AccessAction::Copy => AccessAction::Copy,
                access::AccessAction::Export => AccessAction::Export,
                access::AccessAction::SignIn
                | access::AccessAction::SignInFailed
                | access::AccessAction::Lock
                | access::AccessAction::SignOut => return None,
            };
            Some(
                r.hash
                    .parse()
                    .map_err(|_| FhirExportError::BadAccessHash(r.sequence))
                    .map(|hash| AccessLogEntry {
                        sequence: r.sequence,
                        hash,
                        at: r.entry.at,
                        user: r.entry.actor.user_id.clone(),
                        role: r.entry.actor.role,
                        action,
                        categories: r.entry.categories.iter().map(|c| c.to_string()).collect(),
                        source: r.entry.source.clone(),
                        purpose: r.entry.purpose.clone(),
                    }),
            )
        })
        .collect()
}

/// The client's stored entries (as JSON, for the access log's categories),
/// read before the export is logged.
///
/// # Errors
/// [`FhirExportError::UnknownClient`] when the client has no entries.
pub async fn client_events(
    db: &Database,
    client: &ClientId,
) -> Result<Vec<FeedEvent>, FhirExportError> {
    let clock = std::sync::Arc::new(|| chrono::DateTime::<chrono::Utc>::UNIX_EPOCH);
    let events = db
        .repository(clock)
        .events_of(CLIENT_RECORD, client.as_str(), 0)
        .await?;
    if events.is_empty() {
        return Err(FhirExportError::UnknownClient);
    }
    Ok(events)
}

/// The client's FHIR R4 Bundle from `events` (the client's entries, as
/// [`client_events`] read them), `settings` and the access log's entries
/// about the client as they stand now (so an export logged before this
/// call is among them).
///
/// # Errors
/// [`FhirExportError`] when the store cannot be read or the record is not
/// readable.
pub async fn client_fhir_bundle(
    db: &Database,
    client: &ClientId,
    events: &[FeedEvent],
    settings: &PracticeSettings,
) -> Result<Value, FhirExportError> {
    let entries = record_entries(events)?;
    let query = AccessQuery {
        client: Some(client.clone()),
        ..AccessQuery::default()
    };
    let logged = access::list(db, &query).await?;
    let access = access_entries(&logged)?;
    Ok(kapchart_fhir::client_bundle(
        client, &entries, settings, &access,
    )?)
}

impl AppState {
    /// The client's record as a FHIR R4 Bundle (auditors). Logged as an
    /// `export` with the categories of data in it ([`export_categories`]),
    /// before the Bundle is made.
    ///
    /// # Errors
    /// 403 for other roles, 404 for an unregistered client, 500 when the
    /// store or the record cannot be read.
    pub async fn export_client_fhir(
        &self,
        caller: &Caller,
        source: &Source,
        client: &ClientId,
        purpose: Purpose,
    ) -> Result<Value, ApiError> {
        caller.must_be_auditor()?;
        self.registered(client).await?;
        let events = client_events(self.db(), client)
            .await
            .map_err(|e| match e {
                FhirExportError::UnknownClient => ApiError::NotFound("no such client"),
                other => ApiError::internal("reading a record for FHIR", &other),
            })?;
        let entries: Vec<Value> = events.iter().map(|e| e.stored.to_json()).collect();
        self.log_read_as(
            caller,
            client,
            &export_categories(&entries),
            &source.describe(&[]),
            purpose,
            ReadAction::Export,
        )
        .await?;
        let settings = self.settings().await?;
        client_fhir_bundle(self.db(), client, &events, &settings)
            .await
            .map_err(|e| ApiError::internal("building a FHIR bundle", &e))
    }
}

/// A client's record as a FHIR R4 Bundle of type `collection`
/// (docs/fhir.md).
#[derive(Debug, Serialize, ToSchema)]
#[schema(value_type = Object)]
#[serde(transparent)]
pub struct FhirBundleReply(Value);

/// `?purpose=` of a FHIR export.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct FhirQuery {
    /// Why the record is exported (logged).
    purpose: Purpose,
}

/// The client's record as a FHIR R4 Bundle: Patient, Practitioners with
/// their NPIs, an Encounter per session held, MedicationRequests,
/// MedicationAdministrations, Observations, Consent, a Provenance per
/// event naming its chain hash, and an AuditEvent per access-log entry
/// about the client (auditors; logged as an `export` first, so the last
/// AuditEvent is this export).
#[utoipa::path(
    get,
    path = "/api/v1/clients/{id}/fhir",
    tag = "audit",
    params(ClientPath, FhirQuery),
    responses((status = 200, description = "The FHIR R4 Bundle (docs/fhir.md)", body = FhirBundleReply), crate::error::ReadErrors),
    security(("bearer" = []))
)]
pub async fn fhir(
    State(state): State<AppState>,
    caller: Caller,
    source: Source,
    path: Result<Path<ClientPath>, PathRejection>,
    q: Result<Query<FhirQuery>, QueryRejection>,
) -> Result<Json<FhirBundleReply>, ApiError> {
    let client = client_id(path)?;
    let q = crate::query::parse(q, "purpose")?;
    let bundle = state
        .export_client_fhir(&caller, &source, &client, q.purpose)
        .await?;
    Ok(Json(FhirBundleReply(bundle)))
}
