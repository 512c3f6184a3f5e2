//! The four views, their per-client fold state and the rows it yields.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use kapchart_domain::{ClientEvent, Policy, TimeZoneName};
use serde::{Deserialize, Serialize};

use crate::billing::BillingFold;
use crate::chart::ChartFold;
use crate::compliance::ComplianceFold;
use crate::schedule::ScheduleFold;

/// The version of the [`ViewState`] format and of the rows' `data` shapes.
///
/// Bump it whenever a fold's state or a row's `data` changes shape or
/// meaning (including the CPT table, see [`crate::cpt`]). A stored state of
/// another format is not applied to: the projector rebuilds the view from
/// the first event instead.
pub const STATE_FORMAT: u32 = 2;

/// What the projector knows of a stored event besides its payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventMeta {
    /// The aggregate id (the client).
    pub client_id: String,
    /// The per-client sequence, 1 for the first event.
    pub sequence: u64,
    /// The global feed position.
    pub position: i64,
    /// When the store recorded the event (from the event metadata).
    pub recorded_at: DateTime<Utc>,
    /// The practice's time zone when the event was decided (from the
    /// practice's record): the event's days are the practice's local
    /// dates in it, as the record counted them. UTC before the practice
    /// set one.
    pub zone: TimeZoneName,
    /// The values of the policy version the event was decided under.
    pub policy: ViewPolicy,
}

impl EventMeta {
    /// The metadata of an event decided in UTC under the standard policy
    /// (a practice that has configured neither).
    pub fn new(
        client_id: impl Into<String>,
        sequence: u64,
        position: i64,
        recorded_at: DateTime<Utc>,
    ) -> Self {
        Self {
            client_id: client_id.into(),
            sequence,
            position,
            recorded_at,
            zone: TimeZoneName::UTC,
            policy: ViewPolicy::standard(),
        }
    }

    /// The same metadata, decided in `zone` under `policy`.
    #[must_use]
    pub fn in_practice(mut self, zone: TimeZoneName, policy: ViewPolicy) -> Self {
        self.zone = zone;
        self.policy = policy;
        self
    }

    /// The practice's local date at an instant, in the event's zone.
    pub fn local_date(&self, at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&self.zone.tz()).date_naive()
    }
}

/// The views projected from the event feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ViewName {
    /// Sessions per therapist and day, and each client's protocol progress.
    Schedule,
    /// The client chart: every entry with its amendments, and the current
    /// clinical state.
    Chart,
    /// Charges, payments and each client's account.
    Billing,
    /// Controlled-substance log, protocol adherence and outcome measures.
    Compliance,
}

impl ViewName {
    /// Every view.
    pub const ALL: [ViewName; 4] = [
        ViewName::Schedule,
        ViewName::Chart,
        ViewName::Billing,
        ViewName::Compliance,
    ];

    /// The view's stable name: `schedule`, `chart`, `billing`, `compliance`.
    pub fn as_str(self) -> &'static str {
        match self {
            ViewName::Schedule => "schedule",
            ViewName::Chart => "chart",
            ViewName::Billing => "billing",
            ViewName::Compliance => "compliance",
        }
    }

    /// The row kinds this view produces (each kind belongs to one view).
    pub fn kinds(self) -> &'static [&'static str] {
        use crate::kinds::*;
        match self {
            ViewName::Schedule => &[SESSION, PROGRESS],
            ViewName::Chart => &[ENTRY, CHART, SUMMARY],
            ViewName::Billing => &[ACCOUNT, CHARGE, PAYMENT],
            ViewName::Compliance => &[ADMINISTRATION, ADHERENCE, OUTCOME],
        }
    }

    /// An empty fold state for one client, judging dates against the
    /// standard policy ([`ViewPolicy::standard`]).
    pub fn new_state(self, client_id: &str) -> ViewState {
        self.new_state_with_policy(client_id, ViewPolicy::standard())
    }

    /// An empty fold state for one client, judging dates (integration
    /// windows, spacing, the protocol maximum) against `policy`.
    pub fn new_state_with_policy(self, client_id: &str, policy: ViewPolicy) -> ViewState {
        let fold = match self {
            ViewName::Schedule => Fold::Schedule(ScheduleFold::default()),
            ViewName::Chart => Fold::Chart(ChartFold::default()),
            ViewName::Billing => Fold::Billing(BillingFold::default()),
            ViewName::Compliance => Fold::Compliance(ComplianceFold::default()),
        };
        ViewState {
            format: STATE_FORMAT,
            client_id: client_id.to_owned(),
            last_sequence: 0,
            policy,
            fold,
        }
    }
}

impl fmt::Display for ViewName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A view name that is not one of the four.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("unknown view: expected one of schedule, chart, billing, compliance")]
pub struct UnknownView;

impl FromStr for ViewName {
    type Err = UnknownView;

    fn from_str(s: &str) -> Result<Self, UnknownView> {
        ViewName::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or(UnknownView)
    }
}

/// The policy values a view judges dates by: when an integration is due,
/// when explorations are too close, when the protocol maximum is passed.
///
/// The record itself decides with the policy version in force when each
/// command was issued and records any override it needed; the views report
/// those overrides as they are. These values are only used for what the
/// views compute themselves from dates: the due dates in the progress row,
/// and findings that carry no override (which the record should never let
/// through, so a compliance report lists them as unexplained).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ViewPolicy {
    /// An integration more than this many calendar days after its
    /// exploration is late.
    pub integration_window_days: u16,
    /// Dosed explorations fewer than this many calendar days apart are too
    /// close together.
    pub min_days_between_explorations: u16,
    /// Dosed explorations beyond this count exceed the standard protocol.
    pub max_explorations: u16,
}

impl ViewPolicy {
    /// The values of [`Policy::standard`]: 7 days, 7 days, 8 explorations.
    pub fn standard() -> Self {
        Self::from(&Policy::standard())
    }
}

impl Default for ViewPolicy {
    fn default() -> Self {
        Self::standard()
    }
}

impl From<&Policy> for ViewPolicy {
    fn from(p: &Policy) -> Self {
        Self {
            integration_window_days: p.integration_window_days,
            min_days_between_explorations: p.min_days_between_explorations,
            max_explorations: p.max_explorations,
        }
    }
}

/// One row of a view for one client.
///
/// `kind` is a table-like name, unique across views (see [`crate::kinds`]);
/// `key` is unique within (view, client, kind) and stable across
/// re-projection; `day` is the date the row falls on, for period filters
/// (`None` when it has none); `data` is the row as JSON, with no
/// floating-point numbers (money in integer cents, doses in integer mg).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// The row kind, e.g. `session`, `charge`.
    pub kind: String,
    /// Unique within (view, client, kind).
    pub key: String,
    /// The date the row falls on.
    pub day: Option<NaiveDate>,
    /// The row's fields.
    pub data: serde_json::Value,
}

impl Row {
    pub(crate) fn new<T: Serialize>(
        kind: &str,
        key: impl Into<String>,
        day: Option<NaiveDate>,
        data: &T,
    ) -> Row {
        Row {
            kind: kind.to_owned(),
            key: key.into(),
            day,
            // The row types are plain structs of strings, integers, bools,
            // dates and vectors: serializing them cannot fail.
            data: serde_json::to_value(data).expect("row data serializes to JSON"),
        }
    }

    /// The row's `data` as its typed form (e.g. [`crate::ChargeRow`]), or
    /// `None` when the row is of another kind or does not have that shape.
    pub fn parse<T: RowData>(&self) -> Option<T> {
        if self.kind != T::KIND {
            return None;
        }
        T::deserialize(&self.data).ok()
    }
}

/// A [`Row`] whose `data` is already JSON text (compact, members in the
/// row type's field order): what a store writes, made without building a
/// JSON value first. See [`ViewState::rows_text`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowText {
    /// As [`Row::kind`].
    pub kind: String,
    /// As [`Row::key`].
    pub key: String,
    /// As [`Row::day`].
    pub day: Option<NaiveDate>,
    /// [`Row::data`] as JSON text.
    pub data: String,
}

/// How a fold makes its rows: as [`Row`] (data as a JSON value) or as
/// [`RowText`] (data as JSON text), from the same code.
pub(crate) trait MakeRow {
    fn make<T: Serialize>(
        kind: &str,
        key: impl Into<String>,
        day: Option<NaiveDate>,
        data: &T,
    ) -> Self;
    fn sort_key(&self) -> (&str, &str);
}

impl MakeRow for Row {
    fn make<T: Serialize>(
        kind: &str,
        key: impl Into<String>,
        day: Option<NaiveDate>,
        data: &T,
    ) -> Self {
        Row::new(kind, key, day, data)
    }

    fn sort_key(&self) -> (&str, &str) {
        (&self.kind, &self.key)
    }
}

impl MakeRow for RowText {
    fn make<T: Serialize>(
        kind: &str,
        key: impl Into<String>,
        day: Option<NaiveDate>,
        data: &T,
    ) -> Self {
        RowText {
            kind: kind.to_owned(),
            key: key.into(),
            day,
            // As in Row::new: plain structs, serializing cannot fail.
            data: serde_json::to_string(data).expect("row data serializes to JSON"),
        }
    }

    fn sort_key(&self) -> (&str, &str) {
        (&self.kind, &self.key)
    }
}

/// The typed form of one row kind's `data`.
pub trait RowData: Serialize + for<'de> Deserialize<'de> {
    /// The row kind it is the data of (see [`crate::kinds`]).
    const KIND: &'static str;
}

macro_rules! row_data {
    ($($ty:ty => $kind:ident),* $(,)?) => {
        $(impl RowData for $ty {
            const KIND: &'static str = crate::kinds::$kind;
        })*
    };
}

row_data! {
    crate::SessionRow => SESSION,
    crate::ProgressRow => PROGRESS,
    crate::EntryRow => ENTRY,
    crate::ChartRow => CHART,
    crate::ChartSummary => SUMMARY,
    crate::ChargeRow => CHARGE,
    crate::PaymentRow => PAYMENT,
    crate::AccountRow => ACCOUNT,
    crate::AdministrationRow => ADMINISTRATION,
    crate::AdherenceRow => ADHERENCE,
    crate::OutcomeRow => OUTCOME,
}

/// A row key for a per-client sequence number, zero-padded so that keys sort
/// in sequence order.
pub(crate) fn sequence_key(sequence: u64) -> String {
    format!("{sequence:010}")
}

/// A stored state that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StateError {
    /// The state was written by another format version: rebuild the view.
    #[error("view state format {found} is not the current format {expected}: rebuild the view")]
    Format {
        /// The stored state's format.
        found: u64,
        /// [`STATE_FORMAT`].
        expected: u32,
    },
    /// The state does not have the shape of a view state.
    #[error("stored view state does not have the view state shape: rebuild the view")]
    Shape,
}

/// One view's fold state for one client.
///
/// Serializable so the projector can store it between batches; `format`
/// ([`STATE_FORMAT`]) tells a state written by an older version of this
/// crate. [`ViewState::apply`] is deterministic and idempotent per
/// (client, sequence); [`ViewState::rows`] is a pure function of the state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ViewState {
    format: u32,
    client_id: String,
    last_sequence: u64,
    policy: ViewPolicy,
    fold: Fold,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Fold {
    Schedule(ScheduleFold),
    Chart(ChartFold),
    Billing(BillingFold),
    Compliance(ComplianceFold),
}

impl ViewState {
    /// Reads a stored state, refusing one of another format (the caller
    /// rebuilds the view then) or of another shape.
    pub fn from_json(value: &serde_json::Value) -> Result<ViewState, StateError> {
        let found = value
            .get("format")
            .and_then(serde_json::Value::as_u64)
            .ok_or(StateError::Shape)?;
        if found != u64::from(STATE_FORMAT) {
            return Err(StateError::Format {
                found,
                expected: STATE_FORMAT,
            });
        }
        ViewState::deserialize(value).map_err(|_| StateError::Shape)
    }

    /// The state as JSON, for storing (read back with [`ViewState::from_json`]).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("view state serializes to JSON")
    }

    /// Which view this is the state of.
    pub fn view(&self) -> ViewName {
        match self.fold {
            Fold::Schedule(_) => ViewName::Schedule,
            Fold::Chart(_) => ViewName::Chart,
            Fold::Billing(_) => ViewName::Billing,
            Fold::Compliance(_) => ViewName::Compliance,
        }
    }

    /// The client whose state this is.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The format version the state was written with.
    pub fn format(&self) -> u32 {
        self.format
    }

    /// The policy values the view judges dates by.
    pub fn policy(&self) -> ViewPolicy {
        self.policy
    }

    /// Applies one event of this client.
    ///
    /// Idempotent: an event whose sequence is not above
    /// [`ViewState::last_sequence`] has been applied already and is
    /// ignored, so replaying a batch after a crash changes nothing. An event
    /// of another client is ignored too. Sequences may skip (the chart "as
    /// of" a time applies only the events recorded by then).
    pub fn apply(&mut self, event: &ClientEvent, meta: &EventMeta) {
        if meta.sequence <= self.last_sequence || meta.client_id != self.client_id {
            return;
        }
        // Dates are judged by the policy the latest event was decided
        // under (the practice may adopt new versions over time).
        self.policy = meta.policy;
        let policy = self.policy;
        match &mut self.fold {
            Fold::Schedule(f) => f.apply(event, meta),
            Fold::Chart(f) => f.apply(event, meta),
            Fold::Billing(f) => f.apply(event, meta),
            Fold::Compliance(f) => f.apply(event, meta, &policy),
        }
        self.last_sequence = meta.sequence;
    }

    /// The sequence of the last event applied (0 before the first).
    pub fn last_sequence(&self) -> u64 {
        self.last_sequence
    }

    /// Every row this client currently has in this view, ordered by kind
    /// then key: a pure function of the state.
    pub fn rows(&self) -> Vec<Row> {
        self.rows_as()
    }

    /// [`ViewState::rows`] with each row's data as JSON text: the same
    /// data (its members in field order rather than sorted), made without
    /// the intermediate JSON value. What a store writes.
    pub fn rows_text(&self) -> Vec<RowText> {
        self.rows_as()
    }

    fn rows_as<R: MakeRow>(&self) -> Vec<R> {
        let mut rows: Vec<R> = match &self.fold {
            Fold::Schedule(f) => f.rows(&self.client_id, &self.policy),
            Fold::Chart(f) => f.rows(&self.client_id),
            Fold::Billing(f) => f.rows(&self.client_id),
            Fold::Compliance(f) => f.rows(),
        };
        rows.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        rows
    }
}

/// The client's chart as it stood at `as_of`: only what had been recorded
/// by then.
///
/// Replays the client's events whose `recorded_at` is at or before `as_of`
/// (in any order given: they are applied in sequence order) through a fresh
/// chart state and returns its rows: the entries and the chart (the
/// `summary` row, for lists, is left out). Events of other clients are
/// ignored. Equivalent to calling `ViewName::Chart.new_state(client_id)`,
/// [`ViewState::apply`] for each such event, then [`ViewState::rows`]
/// without the summary.
pub fn chart_as_of<'a>(
    client_id: &str,
    events: impl IntoIterator<Item = (&'a EventMeta, &'a ClientEvent)>,
    as_of: DateTime<Utc>,
) -> Vec<Row> {
    let mut recorded: Vec<(&EventMeta, &ClientEvent)> = events
        .into_iter()
        .filter(|(meta, _)| meta.client_id == client_id && meta.recorded_at <= as_of)
        .collect();
    recorded.sort_by_key(|(meta, _)| meta.sequence);
    let mut state = ViewName::Chart.new_state(client_id);
    for (meta, event) in recorded {
        state.apply(event, meta);
    }
    let mut rows = state.rows();
    rows.retain(|r| r.kind != crate::kinds::SUMMARY);
    rows
}

/// The calendar day an event is about: the session's local date for
/// session events, the day named by the event (evaluated, signed,
/// administered, treated, received, discharged), else the local date it
/// was recorded on. Local dates are the practice's, in the event's zone
/// ([`EventMeta::local_date`]).
pub fn event_day(event: &ClientEvent, meta: &EventMeta) -> NaiveDate {
    match event {
        ClientEvent::IntakeRecorded(e) => meta.local_date(e.span.start()),
        ClientEvent::MedicalEvaluationRecorded(e) => e.evaluated_on,
        ClientEvent::ConsentRecorded(e) => e.signed_on,
        ClientEvent::SessionScheduled(e) => meta.local_date(e.span.start()),
        ClientEvent::PreparationRecorded(e) => meta.local_date(e.span.start()),
        ClientEvent::ExplorationRecorded(e) => meta.local_date(e.span.start()),
        ClientEvent::IntegrationRecorded(e) => meta.local_date(e.span.start()),
        ClientEvent::OutcomeMeasureRecorded(e) => e.administered_on,
        ClientEvent::OngoingCareRecorded(e) => meta.local_date(e.span.start()),
        ClientEvent::ExternalTreatmentRecorded(e) => e.treated_on,
        ClientEvent::PaymentRecorded(e) => e.received_on,
        ClientEvent::ClientDischarged(e) => e.discharged_on,
        ClientEvent::ClientRegistered(_)
        | ClientEvent::PrescriptionIssued(_)
        | ClientEvent::DoseAdjusted(_)
        | ClientEvent::ClientReferred(_)
        | ClientEvent::OverrideAuthorized(_)
        | ClientEvent::SessionCancelled(_)
        | ClientEvent::NoShowRecorded(_)
        | ClientEvent::EntryAmended(_) => meta.local_date(meta.recorded_at),
    }
}

/// Calendar days from `earlier` to `later` (local dates).
pub(crate) fn days_between(earlier: NaiveDate, later: NaiveDate) -> i64 {
    (later - earlier).num_days()
}
