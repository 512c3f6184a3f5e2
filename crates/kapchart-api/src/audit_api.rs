//! The JSON handlers of the auditor's reads beyond verification: the
//! checkpoint log, a client's verifiable bundle (logged as an export) and
//! the access log. Each calls its service in [`crate::audit_reads`], the
//! same the pages call.

use axum::Json;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use chrono::{NaiveDate, SecondsFormat};
use kapchart_domain::{ClientId, UserId};
use kapchart_store::access::{AccessQuery, AccessRecord, AccessSort};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use crate::commands::client_id;
use crate::error::ApiError;
use crate::reads::{ClientPath, Purpose};
use crate::source::Source;
use crate::{AppState, Caller};

/// The checkpoint log.
#[derive(Debug, Serialize, ToSchema)]
pub struct Checkpoints {
    /// Every checkpoint issued, oldest first, each as `kapchart
    /// checkpoint` prints it: `number`, `checkpoint` (the signed
    /// statement), `public_key`, `heads`.
    #[schema(value_type = Vec<Object>)]
    pub checkpoints: Vec<Value>,
}

/// A client's verifiable bundle (docs/audit-format.md).
#[derive(Debug, Serialize, ToSchema)]
#[schema(value_type = Object)]
#[serde(transparent)]
pub struct BundleReply(Value);

/// `?purpose=` of a bundle.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct BundleQuery {
    /// Why the record is read (logged).
    purpose: Purpose,
}

/// `?from=&to=&client=&user=&sort=` of the access log.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AccessLogQuery {
    /// First day included (YYYY-MM-DD), the practice's local day.
    #[param(value_type = Option<String>, format = Date)]
    from: Option<NaiveDate>,
    /// Last day included (YYYY-MM-DD), the practice's local day.
    #[param(value_type = Option<String>, format = Date)]
    to: Option<NaiveDate>,
    /// Only this client's entries.
    client: Option<String>,
    /// Only this user's entries.
    user: Option<String>,
    /// The order: `time` (the default), `client`, `user`, `role`,
    /// `action`, `category`, `source` or `purpose`; ties by time, then
    /// sequence.
    sort: Option<String>,
}

/// One entry of the access log (docs/access-log.md).
#[derive(Debug, Serialize, ToSchema)]
pub struct AccessLogEntry {
    /// 1, 2, ... with no gaps.
    pub sequence: u64,
    /// When (ASTM E2147-18 7.1.1): RFC 3339 in UTC with microseconds.
    pub at: String,
    /// Whose record (7.1.2); null for account changes and sign-ins.
    pub client_id: Option<String>,
    /// Who (7.1.7).
    pub user_id: String,
    /// The role they acted in.
    pub role: String,
    /// What was done (7.1.8).
    pub action: String,
    /// The types of data (7.1.9), sorted by name.
    pub categories: Vec<String>,
    /// Where from (7.1.6).
    pub source: String,
    /// Why.
    pub purpose: String,
    /// The previous entry's hash.
    pub prev_hash: String,
    /// This entry's hash.
    pub hash: String,
}

impl From<AccessRecord> for AccessLogEntry {
    fn from(r: AccessRecord) -> Self {
        let e = r.entry;
        AccessLogEntry {
            sequence: r.sequence,
            at: e.at.to_rfc3339_opts(SecondsFormat::Micros, true),
            client_id: e.client_id.map(|c| c.to_string()),
            user_id: e.actor.user_id.to_string(),
            role: e.actor.role.as_str().to_owned(),
            action: e.action.as_str().to_owned(),
            categories: e.categories.iter().map(|c| c.as_str().to_owned()).collect(),
            source: e.source,
            purpose: e.purpose,
            prev_hash: r.prev_hash,
            hash: r.hash,
        }
    }
}

/// The access log's entries asked for.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccessLog {
    /// The entries, in the order asked for.
    pub entries: Vec<AccessLogEntry>,
}

/// Every checkpoint of the checkpoint log (auditors and admins; not
/// logged: ids, sequences and hashes only).
#[utoipa::path(
    get,
    path = "/api/v1/checkpoints",
    tag = "audit",
    responses(
        (status = 200, description = "The checkpoint log", body = Checkpoints),
        (status = 401, body = crate::ErrorBody),
        (status = 403, body = crate::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn checkpoints(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Checkpoints>, ApiError> {
    let log = state.read_checkpoints(&caller).await?;
    let checkpoints = log
        .iter()
        .map(serde_json::to_value)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ApiError::internal("encoding a checkpoint", &e))?;
    Ok(Json(Checkpoints { checkpoints }))
}

/// The client's verifiable bundle as of the latest checkpoint that holds
/// it (auditors; logged as an `export`). Signs nothing: entries recorded
/// after that checkpoint are not in it.
#[utoipa::path(
    get,
    path = "/api/v1/clients/{id}/bundle",
    tag = "audit",
    params(ClientPath, BundleQuery),
    responses((status = 200, description = "The bundle (docs/audit-format.md)", body = BundleReply), crate::error::ReadErrors),
    security(("bearer" = []))
)]
pub async fn bundle(
    State(state): State<AppState>,
    caller: Caller,
    source: Source,
    path: Result<Path<ClientPath>, PathRejection>,
    q: Result<Query<BundleQuery>, QueryRejection>,
) -> Result<Json<BundleReply>, ApiError> {
    let client = client_id(path)?;
    let q = crate::query::parse(q, "purpose")?;
    let bundle = state
        .export_client_bundle(&caller, &source, &client, q.purpose)
        .await?;
    let value =
        serde_json::to_value(&bundle).map_err(|e| ApiError::internal("encoding a bundle", &e))?;
    Ok(Json(BundleReply(value)))
}

/// The access log, filtered by the practice's local days, client and user,
/// sorted by any of its ASTM E2147-18 fields (auditors; not logged: it
/// lists who read which record, not the record).
#[utoipa::path(
    get,
    path = "/api/v1/access-log",
    tag = "audit",
    params(AccessLogQuery),
    responses(
        (status = 200, description = "The entries", body = AccessLog),
        (status = 400, body = crate::ErrorBody),
        (status = 401, body = crate::ErrorBody),
        (status = 403, body = crate::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn access_log(
    State(state): State<AppState>,
    caller: Caller,
    q: Result<Query<AccessLogQuery>, QueryRejection>,
) -> Result<Json<AccessLog>, ApiError> {
    let q = crate::query::parse(q, "from and to as YYYY-MM-DD, client, user and sort")?;
    let query = AccessQuery {
        client: q
            .client
            .as_deref()
            .map(ClientId::parse)
            .transpose()
            .map_err(|e| ApiError::bad("client", e.to_string()))?,
        user: q
            .user
            .as_deref()
            .map(UserId::parse)
            .transpose()
            .map_err(|e| ApiError::bad("user", e.to_string()))?,
        from: q.from,
        to: q.to,
        sort: q
            .sort
            .as_deref()
            .map(str::parse::<AccessSort>)
            .transpose()
            .map_err(|e| ApiError::bad("sort", e.to_string()))?
            .unwrap_or_default(),
    };
    let records = state.read_access_log(&caller, &query).await?;
    Ok(Json(AccessLog {
        entries: records.into_iter().map(AccessLogEntry::from).collect(),
    }))
}
