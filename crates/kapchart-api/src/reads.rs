//! Reads: a client's chart, history, billing and superbill; the schedule;
//! reports; the verification status. Each read of a client's record is
//! appended to the access log before any of it is sent: if the entry
//! cannot be written, nothing is sent. The entry names the request as made
//! ([`Source`]) and the categories of data the reply holds
//! ([`crate::disclosure`]).

use axum::Json;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use chrono::{DateTime, NaiveDate, Utc};
use kapchart_domain::{ClientId, ClientRecord};
use kapchart_store::access::{AccessAction, AccessEntry, DataCategory};
use kapchart_views::{Period, ReportKind, Row, ViewName};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use crate::commands::client_id;
use crate::desk_reads::ReadAction;
use crate::disclosure::{clients_of, report_categories};
use crate::error::ApiError;
use crate::source::Source;
use crate::{AppState, Caller};

/// How long a read waits for committed events the feed still holds back.
const READ_PATIENCE: std::time::Duration = std::time::Duration::from_secs(2);

/// Why the record is read: logged with every read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// Treating the client.
    Treatment,
    /// Billing and payment.
    Payment,
    /// The practice's operations (scheduling, quality).
    Operations,
    /// Audit and compliance.
    Audit,
    /// The client asked for their record.
    ClientRequest,
}

impl Purpose {
    /// The purpose as logged.
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Treatment => "treatment",
            Purpose::Payment => "payment",
            Purpose::Operations => "operations",
            Purpose::Audit => "audit",
            Purpose::ClientRequest => "client_request",
        }
    }
}

/// `{id}`: the client.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ClientPath {
    /// The client's id: 1 to 64 ASCII letters, digits, `-` and `_`.
    #[param(
        example = "client-001",
        pattern = "^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$",
        max_length = 64
    )]
    pub(crate) id: String,
}

/// The reports of `/api/v1/reports/{name}` (columns in docs/reports.md).
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ReportName {
    /// Sessions per therapist and day.
    Schedule,
    /// Charges, payments and balance per client.
    Billing,
    /// Services with CPT codes, per client and period.
    Superbill,
    /// Every ketamine administration.
    ControlledSubstances,
    /// Protocol adherence findings.
    Protocol,
    /// Outcome measures: change from baseline.
    Outcomes,
}

/// `?purpose=`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PurposeQuery {
    /// Why the record is read (logged).
    purpose: Purpose,
}

/// `?purpose=&as_of=`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ChartQuery {
    /// Why the record is read (logged).
    purpose: Purpose,
    /// The chart as it stood at this moment (RFC 3339): only what had
    /// been recorded by then.
    #[param(value_type = Option<String>, format = DateTime)]
    as_of: Option<DateTime<Utc>>,
}

/// `?purpose=&from=&to=`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PeriodQuery {
    /// Why the record is read (logged).
    purpose: Purpose,
    /// First day included (YYYY-MM-DD).
    #[param(value_type = Option<String>, format = Date)]
    from: Option<NaiveDate>,
    /// Last day included (YYYY-MM-DD).
    #[param(value_type = Option<String>, format = Date)]
    to: Option<NaiveDate>,
}

/// `?purpose=&from=&to=&client=`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    /// Why the record is read (logged).
    purpose: Purpose,
    /// First day included (YYYY-MM-DD).
    #[param(value_type = Option<String>, format = Date)]
    from: Option<NaiveDate>,
    /// Last day included (YYYY-MM-DD).
    #[param(value_type = Option<String>, format = Date)]
    to: Option<NaiveDate>,
    /// Only this client.
    client: Option<String>,
}

pub(crate) fn period_chosen(
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Vec<(&'static str, String)> {
    [("from", from), ("to", to)]
        .into_iter()
        .filter_map(|(k, d)| d.map(|d| (k, d.format("%Y-%m-%d").to_string())))
        .collect()
}

fn query<T>(q: Result<Query<T>, QueryRejection>, expected: &str) -> Result<T, ApiError> {
    crate::query::parse(q, expected)
}

pub(crate) fn period(from: Option<NaiveDate>, to: Option<NaiveDate>) -> Result<Period, ApiError> {
    for (field, day) in [("from", from), ("to", to)] {
        if let Some(day) = day {
            kapchart_domain::input::check_date(day).map_err(|e| ApiError::bad(field, e.message))?;
        }
    }
    Period::new(from, to).map_err(|e| ApiError::bad("from", e.to_string()))
}

/// A row of a view.
#[derive(Debug, Serialize, ToSchema)]
pub struct ViewRow {
    /// The row kind (docs/reports.md), e.g. `entry`, `charge`.
    pub kind: String,
    /// Unique within the client and kind.
    pub key: String,
    /// The day it falls on, if any (YYYY-MM-DD).
    pub day: Option<String>,
    /// Its fields.
    #[schema(value_type = Object)]
    pub data: Value,
}

impl From<Row> for ViewRow {
    fn from(row: Row) -> Self {
        ViewRow {
            kind: row.kind,
            key: row.key,
            day: row.day.map(|d| d.to_string()),
            data: row.data,
        }
    }
}

/// A client's rows of a view.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClientRows {
    /// The client.
    pub client_id: String,
    /// For a chart as of a moment: that moment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub as_of: Option<String>,
    /// The rows.
    pub rows: Vec<ViewRow>,
}

/// A client's complete history, as hash-chained.
#[derive(Debug, Serialize, ToSchema)]
pub struct History {
    /// The client.
    pub client_id: String,
    /// Every entry: the eight hashed keys, its `hash`, and its feed
    /// `position`. Amendments are entries of their own
    /// (`EntryAmended`) naming the sequence they amend.
    #[schema(value_type = Vec<Object>)]
    pub entries: Vec<Value>,
}

/// A report: stable column names (docs/reports.md) and one object per row.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportReply {
    /// The report's name.
    pub report: String,
    /// Column names, in order.
    pub columns: Vec<String>,
    /// One object per row, keyed by column.
    #[schema(value_type = Vec<Object>)]
    pub rows: Vec<Value>,
    /// A superbill's header: the practice's name, address, phone, NPI,
    /// tax id and place of service (absent until the practice sets its
    /// identity, and for other reports).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub practice: Option<kapchart_views::superbill::PracticeHeader>,
}

/// The verification status of the record.
#[derive(Debug, Serialize, ToSchema)]
pub struct Verification {
    /// True when every chain verified and no checkpoint has a problem.
    pub intact: bool,
    /// Events read.
    pub rows: u64,
    /// Client records read.
    pub aggregates: u64,
    /// Checkpoints checked.
    pub checkpoints: u64,
    /// Every finding, with its aggregate and sequence.
    #[schema(value_type = Vec<Object>)]
    pub findings: Vec<Value>,
    /// Problems with checkpoints.
    #[schema(value_type = Vec<Object>)]
    pub checkpoint_problems: Vec<Value>,
    /// The access log's own chain.
    pub access_log: AccessLogStatus,
}

/// The verification status of the access log.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccessLogStatus {
    /// True when its chain verified.
    pub intact: bool,
    /// Entries read.
    pub entries: u64,
    /// Sequence and hash of its last entry: kept by an auditor, it shows
    /// a truncated tail later.
    #[schema(value_type = Option<Object>)]
    pub head: Option<Value>,
    /// Every finding, with its sequence.
    #[schema(value_type = Vec<Object>)]
    pub findings: Vec<Value>,
}

impl AppState {
    /// Appends a read of `client`'s record to the access log: `source` is
    /// [`Source::describe`]d.
    pub(crate) async fn log_read(
        &self,
        caller: &Caller,
        client: &ClientId,
        categories: &[DataCategory],
        source: &str,
        purpose: Purpose,
    ) -> Result<(), ApiError> {
        self.log_read_as(
            caller,
            client,
            categories,
            source,
            purpose,
            ReadAction::Query,
        )
        .await
    }

    /// Appends a read of `client`'s record to the access log with
    /// `action` (a view, a print or an export).
    pub(crate) async fn log_read_as(
        &self,
        caller: &Caller,
        client: &ClientId,
        categories: &[DataCategory],
        source: &str,
        purpose: Purpose,
        action: ReadAction,
    ) -> Result<(), ApiError> {
        self.log_reads(
            caller,
            [client.clone()],
            categories,
            source,
            purpose,
            action,
        )
        .await
    }

    /// Appends a read of each client's record to the access log, in one
    /// transaction.
    pub(crate) async fn log_reads(
        &self,
        caller: &Caller,
        clients: impl IntoIterator<Item = ClientId>,
        categories: &[DataCategory],
        source: &str,
        purpose: Purpose,
        action: ReadAction,
    ) -> Result<(), ApiError> {
        let at = self.now();
        let action = AccessAction::from(action);
        let entries: Vec<AccessEntry> = clients
            .into_iter()
            .map(|client| AccessEntry {
                at,
                actor: caller.access_actor(),
                action,
                client_id: Some(client),
                categories: categories.to_vec(),
                source: source.to_owned(),
                purpose: purpose.as_str().to_owned(),
            })
            .collect();
        kapchart_store::access::append_all(self.db(), &entries)
            .await
            .map_err(|e| ApiError::internal("appending to the access log", &e))?;
        Ok(())
    }

    /// A registered client's record, or 404.
    pub(crate) async fn registered(&self, client: &ClientId) -> Result<ClientRecord, ApiError> {
        let record = self.record(client.as_str()).await?;
        if record.is_registered() {
            Ok(record)
        } else {
            Err(ApiError::NotFound("no such client"))
        }
    }

    /// The `views` a read uses caught up with every event committed before
    /// the read (the others are the background projector's):
    /// on PostgreSQL the feed holds back events behind any transaction
    /// still open on the server, so the read waits for those, within
    /// [`READ_PATIENCE`]; past it, it is answered from the views as they
    /// are, and the lag is logged.
    pub(crate) async fn current(&self, views: &[ViewName]) -> Result<(), ApiError> {
        let behind = self
            .projector()
            .clone()
            .only(views)
            .catch_up_fully(READ_PATIENCE)
            .await
            .map_err(|e| ApiError::internal("catching up the views", &e))?;
        if behind > 0 {
            tracing::warn!(
                behind,
                "a read answered while the views lag committed events"
            );
        }
        Ok(())
    }

    pub(crate) async fn view_rows(
        &self,
        view: ViewName,
        kinds: &[&str],
        client: Option<&str>,
    ) -> Result<Vec<(String, Row)>, ApiError> {
        self.projector()
            .rows(view, kinds, client)
            .await
            .map_err(|e| ApiError::internal("reading a view", &e))
    }

    /// The rows of kind `T` of `view` of the given clients (all when
    /// `None`), in one query, parsed straight into `T`.
    pub(crate) async fn data_of_clients<T: kapchart_views::RowData>(
        &self,
        view: ViewName,
        clients: Option<&[&str]>,
    ) -> Result<Vec<(String, T)>, ApiError> {
        self.projector()
            .data_of_clients(view, clients)
            .await
            .map_err(|e| ApiError::internal("reading a view", &e))
    }

    pub(crate) async fn build(
        &self,
        kind: ReportKind,
        period: Period,
        client: Option<&str>,
    ) -> Result<kapchart_views::Table, ApiError> {
        let mut views: Vec<ViewName> = kind.sources().iter().map(|(view, _)| *view).collect();
        views.dedup();
        self.current(&views).await?;
        self.build_as_is(kind, period, client).await
    }

    /// [`build`](Self::build) without catching the views up: for services
    /// that caught the report's views up already.
    pub(crate) async fn build_as_is(
        &self,
        kind: ReportKind,
        period: Period,
        client: Option<&str>,
    ) -> Result<kapchart_views::Table, ApiError> {
        let rows = self
            .projector()
            .report_rows(kind, period, client)
            .await
            .map_err(|e| ApiError::internal("reading a view", &e))?;
        // A view row of the wrong shape or a sum of money beyond what
        // kapchart represents is the server's state, not the caller's
        // input: logged, answered 500.
        let mut table = kapchart_views::build_report(kind, period, client, &rows)
            .map_err(|e| ApiError::internal("building a report", &e))?;
        if kind == ReportKind::Superbill {
            // Billed as the practice bills: its place of service, its
            // providers, the codes of the fee schedule on each date.
            let settings = self.settings().await?;
            kapchart_views::superbill::bill_as_practice(&mut table, &settings);
        }
        Ok(table)
    }
}

pub(crate) fn report_reply(name: &str, table: &kapchart_views::Table) -> ReportReply {
    ReportReply {
        report: name.to_owned(),
        columns: table.columns.iter().map(|c| (*c).to_owned()).collect(),
        rows: table.objects(),
        practice: None,
    }
}

/// Logs a report's read of each client it shows.
pub(crate) async fn log_report(
    state: &AppState,
    caller: &Caller,
    table: &kapchart_views::Table,
    kind: ReportKind,
    source: &str,
    purpose: Purpose,
    action: ReadAction,
) -> Result<(), ApiError> {
    let clients = clients_of(table)
        .iter()
        .map(|c| ClientId::parse(c))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ApiError::internal("a report row's client id", &e))?;
    state
        .log_reads(
            caller,
            clients,
            report_categories(kind),
            source,
            purpose,
            action,
        )
        .await
}

/// The client's chart: current clinical state and every entry beside its
/// amendments; with `as_of`, as it stood then.
///
/// Therapists and prescribers get it without billing data (payments, their
/// amendments and the charges of sessions); auditors get all of it.
#[utoipa::path(
    get,
    path = "/api/v1/clients/{id}/chart",
    tag = "records",
    params(ClientPath, ChartQuery),
    responses((status = 200, description = "The client's rows", body = ClientRows), crate::error::ReadErrors),
    security(("bearer" = []))
)]
pub async fn chart(
    State(state): State<AppState>,
    caller: Caller,
    source: Source,
    path: Result<Path<ClientPath>, PathRejection>,
    q: Result<Query<ChartQuery>, QueryRejection>,
) -> Result<Json<ClientRows>, ApiError> {
    let client = client_id(path)?;
    let q = query(q, "purpose, and as_of as RFC 3339")?;
    state
        .read_chart(&caller, &source, &client, q.purpose, q.as_of)
        .await
        .map(Json)
}

/// The client's complete history with hashes (auditors).
#[utoipa::path(
    get,
    path = "/api/v1/clients/{id}/history",
    tag = "records",
    params(ClientPath, PurposeQuery),
    responses((status = 200, description = "Every entry, with its hash", body = History), crate::error::ReadErrors),
    security(("bearer" = []))
)]
pub async fn history(
    State(state): State<AppState>,
    caller: Caller,
    source: Source,
    path: Result<Path<ClientPath>, PathRejection>,
    q: Result<Query<PurposeQuery>, QueryRejection>,
) -> Result<Json<History>, ApiError> {
    let client = client_id(path)?;
    let q = query(q, "purpose")?;
    let events = state
        .read_history(&caller, &source, &client, q.purpose)
        .await?;
    let entries = events
        .into_iter()
        .map(|e| {
            let mut json = e.stored.to_json();
            if let Value::Object(map) = &mut json {
                map.insert("position".to_owned(), Value::from(e.position));
            }
            json
        })
        .collect::<Vec<_>>();
    Ok(Json(History {
        client_id: client.to_string(),
        entries,
    }))
}

/// The client's charges, payments and balance.
#[utoipa::path(
    get,
    path = "/api/v1/clients/{id}/billing",
    tag = "records",
    params(ClientPath, PurposeQuery),
    responses((status = 200, description = "The client's rows", body = ClientRows), crate::error::ReadErrors),
    security(("bearer" = []))
)]
pub async fn billing(
    State(state): State<AppState>,
    caller: Caller,
    source: Source,
    path: Result<Path<ClientPath>, PathRejection>,
    q: Result<Query<PurposeQuery>, QueryRejection>,
) -> Result<Json<ClientRows>, ApiError> {
    let client = client_id(path)?;
    let q = query(q, "purpose")?;
    state
        .read_billing(&caller, &source, &client, q.purpose)
        .await
        .map(Json)
}

/// The client's superbill for a period.
#[utoipa::path(
    get,
    path = "/api/v1/clients/{id}/superbill",
    tag = "records",
    params(ClientPath, PeriodQuery),
    responses((status = 200, description = "The report", body = ReportReply), crate::error::ReadErrors),
    security(("bearer" = []))
)]
pub async fn superbill(
    State(state): State<AppState>,
    caller: Caller,
    source: Source,
    path: Result<Path<ClientPath>, PathRejection>,
    q: Result<Query<PeriodQuery>, QueryRejection>,
) -> Result<Json<ReportReply>, ApiError> {
    let client = client_id(path)?;
    let q = query(q, "purpose, and from and to as YYYY-MM-DD")?;
    state
        .read_superbill(
            &caller,
            &source,
            &client,
            q.purpose,
            q.from,
            q.to,
            ReadAction::Query,
        )
        .await
        .map(Json)
}

/// Sessions per therapist and day, double-bookings flagged. A therapist
/// sees their own sessions.
#[utoipa::path(
    get,
    path = "/api/v1/schedule",
    tag = "reports",
    params(PeriodQuery),
    responses(
        (status = 200, description = "The report", body = ReportReply),
        (status = 400, body = crate::ErrorBody),
        (status = 401, body = crate::ErrorBody),
        (status = 403, body = crate::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn schedule(
    State(state): State<AppState>,
    caller: Caller,
    source: Source,
    q: Result<Query<PeriodQuery>, QueryRejection>,
) -> Result<Json<ReportReply>, ApiError> {
    let q = query(q, "purpose, and from and to as YYYY-MM-DD")?;
    state
        .read_schedule(&caller, &source, q.purpose, q.from, q.to)
        .await
        .map(Json)
}

/// A report: `schedule`, `billing`, `superbill`, `controlled-substances`,
/// `protocol` or `outcomes` (columns in docs/reports.md). Auditors read
/// every report; front desk the schedule, billing and superbills.
#[utoipa::path(
    get,
    path = "/api/v1/reports/{name}",
    tag = "reports",
    params(("name" = ReportName, Path, description = "The report"), ReportQuery),
    responses((status = 200, description = "The report", body = ReportReply), crate::error::ReadErrors),
    security(("bearer" = []))
)]
pub async fn report(
    State(state): State<AppState>,
    caller: Caller,
    source: Source,
    path: Result<Path<String>, PathRejection>,
    q: Result<Query<ReportQuery>, QueryRejection>,
) -> Result<Json<ReportReply>, ApiError> {
    let Path(name) = path.map_err(|_| ApiError::bad("name", "not a valid path segment"))?;
    let q = query(q, "purpose, from and to as YYYY-MM-DD, and client")?;
    state
        .read_report(
            &caller,
            &source,
            &name,
            q.purpose,
            q.from,
            q.to,
            q.client.as_deref(),
        )
        .await
        .map(Json)
}

/// Verifies every client's hash chain, the checkpoint log and the access
/// log (auditors and admins).
#[utoipa::path(
    get,
    path = "/api/v1/verification",
    tag = "audit",
    responses(
        (status = 200, description = "What verification found", body = Verification),
        (status = 401, body = crate::ErrorBody),
        (status = 403, body = crate::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn verification(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Verification>, ApiError> {
    let run = state.read_verification(&caller).await?;
    let (report, access) = (run.record, run.access_log);
    Ok(Json(Verification {
        intact: report.is_intact() && access.is_intact(),
        rows: report.rows,
        aggregates: report.aggregates,
        checkpoints: report.checkpoints,
        findings: report
            .findings
            .iter()
            .map(|f| serde_json::to_value(f).unwrap_or(Value::Null))
            .collect(),
        checkpoint_problems: report
            .checkpoint_problems
            .iter()
            .map(|p| serde_json::to_value(p).unwrap_or(Value::Null))
            .collect(),
        access_log: AccessLogStatus {
            intact: access.is_intact(),
            entries: access.entries,
            head: access
                .head
                .as_ref()
                .map(|h| serde_json::to_value(h).unwrap_or(Value::Null)),
            findings: access
                .findings
                .iter()
                .map(|f| serde_json::to_value(f).unwrap_or(Value::Null))
                .collect(),
        },
    }))
}
