//! The schedule view: every session of the client (rows of kind
//! `session`) and the client's protocol progress (one row of kind
//! `progress`). Double-bookings cross clients, so they are found when the
//! schedule report is built from every client's session rows
//! ([`crate::build_report`]).

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use kapchart_domain::{
    CancelReason, Clearance, ClientEvent, Phase, SessionKind, SessionStatus, Suitability, TimeSpan,
};
use serde::{Deserialize, Serialize};

use crate::kinds;
use crate::view::{EventMeta, MakeRow, ViewPolicy};

/// A session (row kind `session`, key = session id, day = the practice's
/// local date it starts on).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRow {
    /// Session id (unique within the client).
    pub session: String,
    /// The client.
    pub client_id: String,
    /// `intake`, `preparation`, `exploration`, `integration`, `ongoing_care`.
    pub kind: SessionKind,
    /// The therapist (user id) the session is with.
    pub therapist: String,
    /// The practice's local date the session starts on (in the time zone
    /// the practice had when the session was booked or recorded): the day
    /// it is filed under.
    pub date: NaiveDate,
    /// Start (RFC 3339, UTC).
    pub start: DateTime<Utc>,
    /// End (RFC 3339, UTC).
    pub end: DateTime<Utc>,
    /// Whole minutes from start to end.
    pub minutes: i64,
    /// `scheduled`, `held`, `cancelled` or `no_show`.
    pub status: SessionStatus,
    /// For an integration: the exploration it integrates.
    pub integrates: Option<String>,
    /// Sequence of the entry that booked it, if it was booked.
    pub scheduled_sequence: Option<u64>,
    /// Sequence of the entry that recorded it as held.
    pub recorded_sequence: Option<u64>,
    /// Sequence of the entry that cancelled it or marked it a no-show.
    pub closed_sequence: Option<u64>,
    /// Why it was cancelled: `client_request`, `practice`, `clinical`, or
    /// `discharge` (cancelled by the client's discharge).
    pub cancel_reason: Option<String>,
}

impl SessionRow {
    /// True for a session that occupies its therapist's time (scheduled or
    /// held): the sessions a double-booking is judged between.
    pub fn is_open(&self) -> bool {
        matches!(self.status, SessionStatus::Scheduled | SessionStatus::Held)
    }

    /// True when the two sessions share any instant (touching ends do not).
    pub fn overlaps(&self, other: &SessionRow) -> bool {
        self.start < other.end && other.start < self.end
    }
}

/// The next step the protocol expects for a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NextStep {
    /// Mental health intake.
    Intake,
    /// Medical evaluation with the prescriber.
    MedicalEvaluation,
    /// The latest intake or medical evaluation found KAP not suitable: a
    /// new assessment (or discharge).
    Reassessment,
    /// A prescription from the prescriber.
    Prescription,
    /// Signed informed consent.
    Consent,
    /// A preparation session.
    Preparation,
    /// The integration of the last dosed exploration.
    Integration,
    /// The next exploration.
    Exploration,
    /// Ongoing care (the prescription's sessions or the protocol maximum are
    /// used, or ongoing care has begun).
    OngoingCare,
    /// Nothing: the client is discharged.
    None,
}

/// A client's protocol progress (row kind `progress`, key `progress`, no
/// day): one per registered client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgressRow {
    /// The client.
    pub client_id: String,
    /// The client's therapist.
    pub therapist: Option<String>,
    /// The client's prescriber (from registration, then the medical
    /// evaluation).
    pub prescriber: Option<String>,
    /// `assessment`, `not_suitable`, `preparation`, `protocol`,
    /// `ongoing_care`, `discharged`.
    pub phase: Phase,
    /// Preparation sessions held.
    pub preparations_held: u32,
    /// Explorations held (recorded), dosed or not.
    pub explorations_held: u32,
    /// Dosed explorations, under any prescription.
    pub explorations_dosed: u32,
    /// The current prescription (the latest issued).
    pub prescription: Option<String>,
    /// Its last valid day.
    pub prescription_valid_until: Option<NaiveDate>,
    /// Dosed explorations it authorizes.
    pub explorations_authorized: Option<u16>,
    /// Dosed explorations given under it.
    pub explorations_used: Option<u16>,
    /// Authorized minus used.
    pub sessions_left: Option<u16>,
    /// The dose currently ordered for the next exploration, mg.
    pub current_dose_mg: Option<u32>,
    /// The last dose given, mg.
    pub last_dose_mg: Option<u32>,
    /// A dosed exploration has no integration yet.
    pub integration_pending: bool,
    /// The exploration waiting for its integration.
    pub integration_pending_for: Option<String>,
    /// The last day its integration is on time: its date plus the policy's
    /// integration window.
    pub integration_due_by: Option<NaiveDate>,
    /// What the protocol expects next.
    pub next_due_step: NextStep,
    /// When the next step is an exploration after an earlier one: the
    /// first day it keeps the policy's minimum spacing.
    pub next_exploration_from: Option<NaiveDate>,
    /// Sessions booked and not yet held, cancelled or missed.
    pub upcoming_sessions: u32,
    /// Whether the client is discharged.
    pub discharged: bool,
    /// The day of discharge.
    pub discharged_on: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Slot {
    kind: SessionKind,
    therapist: String,
    date: NaiveDate,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    status: SessionStatus,
    integrates: Option<String>,
    scheduled_sequence: Option<u64>,
    recorded_sequence: Option<u64>,
    closed_sequence: Option<u64>,
    cancel_reason: Option<String>,
}

/// The schedule view's fold state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ScheduleFold {
    sessions: BTreeMap<String, Slot>,
    progress: ProgressFold,
}

impl ScheduleFold {
    pub(crate) fn apply(&mut self, event: &ClientEvent, meta: &EventMeta) {
        self.progress.apply(event, meta);
        let seq = meta.sequence;
        match event {
            ClientEvent::SessionScheduled(e) => {
                self.sessions.insert(
                    e.session.to_string(),
                    Slot {
                        kind: e.kind,
                        therapist: e.therapist.to_string(),
                        date: meta.local_date(e.span.start()),
                        start: e.span.start(),
                        end: e.span.end(),
                        status: SessionStatus::Scheduled,
                        integrates: e.exploration.as_ref().map(ToString::to_string),
                        scheduled_sequence: Some(seq),
                        recorded_sequence: None,
                        closed_sequence: None,
                        cancel_reason: None,
                    },
                );
            }
            ClientEvent::IntakeRecorded(e) => self.hold(
                e.session.as_str(),
                SessionKind::Intake,
                &e.span,
                e.therapist.as_str(),
                None,
                meta,
            ),
            ClientEvent::PreparationRecorded(e) => self.hold(
                e.session.as_str(),
                SessionKind::Preparation,
                &e.span,
                e.therapist.as_str(),
                None,
                meta,
            ),
            ClientEvent::ExplorationRecorded(e) => self.hold(
                e.session.as_str(),
                SessionKind::Exploration,
                &e.span,
                e.therapist.as_str(),
                None,
                meta,
            ),
            ClientEvent::IntegrationRecorded(e) => self.hold(
                e.session.as_str(),
                SessionKind::Integration,
                &e.span,
                e.therapist.as_str(),
                Some(e.exploration.to_string()),
                meta,
            ),
            ClientEvent::OngoingCareRecorded(e) => self.hold(
                e.session.as_str(),
                SessionKind::OngoingCare,
                &e.span,
                e.therapist.as_str(),
                None,
                meta,
            ),
            ClientEvent::SessionCancelled(e) => {
                let reason = match e.reason {
                    CancelReason::ClientRequest => "client_request",
                    CancelReason::Practice => "practice",
                    CancelReason::Clinical => "clinical",
                };
                self.close(
                    e.session.as_str(),
                    SessionStatus::Cancelled,
                    Some(reason),
                    seq,
                );
            }
            ClientEvent::NoShowRecorded(e) => {
                self.close(e.session.as_str(), SessionStatus::NoShow, None, seq)
            }
            ClientEvent::ClientDischarged(e) => {
                for s in &e.cancelled_sessions {
                    self.close(s.as_str(), SessionStatus::Cancelled, Some("discharge"), seq);
                }
            }
            _ => {}
        }
    }

    fn hold(
        &mut self,
        session: &str,
        kind: SessionKind,
        span: &TimeSpan,
        therapist: &str,
        integrates: Option<String>,
        meta: &EventMeta,
    ) {
        let seq = meta.sequence;
        let date = meta.local_date(span.start());
        let slot = self.sessions.entry(session.to_owned()).or_insert(Slot {
            kind,
            therapist: therapist.to_owned(),
            date,
            start: span.start(),
            end: span.end(),
            status: SessionStatus::Held,
            integrates: None,
            scheduled_sequence: None,
            recorded_sequence: None,
            closed_sequence: None,
            cancel_reason: None,
        });
        // What was held is what counts: the recorded time and therapist.
        slot.kind = kind;
        slot.therapist = therapist.to_owned();
        slot.date = date;
        slot.start = span.start();
        slot.end = span.end();
        slot.status = SessionStatus::Held;
        if integrates.is_some() {
            slot.integrates = integrates;
        }
        slot.recorded_sequence = Some(seq);
    }

    fn close(&mut self, session: &str, status: SessionStatus, reason: Option<&str>, seq: u64) {
        if let Some(slot) = self.sessions.get_mut(session) {
            slot.status = status;
            slot.closed_sequence = Some(seq);
            slot.cancel_reason = reason.map(str::to_owned);
        }
    }

    pub(crate) fn rows<R: MakeRow>(&self, client_id: &str, policy: &ViewPolicy) -> Vec<R> {
        let mut rows: Vec<R> = self
            .sessions
            .iter()
            .map(|(id, s)| {
                let data = SessionRow {
                    session: id.clone(),
                    client_id: client_id.to_owned(),
                    kind: s.kind,
                    therapist: s.therapist.clone(),
                    date: s.date,
                    start: s.start,
                    end: s.end,
                    minutes: (s.end - s.start).num_minutes(),
                    status: s.status,
                    integrates: s.integrates.clone(),
                    scheduled_sequence: s.scheduled_sequence,
                    recorded_sequence: s.recorded_sequence,
                    closed_sequence: s.closed_sequence,
                    cancel_reason: s.cancel_reason.clone(),
                };
                R::make(kinds::SESSION, id.clone(), Some(s.date), &data)
            })
            .collect();
        if self.progress.registered {
            let upcoming = self
                .sessions
                .values()
                .filter(|s| s.status == SessionStatus::Scheduled)
                .count();
            let data = self.progress.row(client_id, policy, upcoming as u32);
            rows.push(R::make(kinds::PROGRESS, "progress", None, &data));
        }
        rows
    }
}

/// A prescription as the progress row needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RxFold {
    id: String,
    valid_until: NaiveDate,
    authorized: u16,
    used: u16,
    ordered_mg: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExplorationFold {
    session: String,
    date: NaiveDate,
    dose_mg: Option<u32>,
    integrated: bool,
}

/// Where a client stands in the protocol, folded the way the record folds
/// it (see `ClientRecord::phase` in the domain).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ProgressFold {
    registered: bool,
    therapist: Option<String>,
    prescriber: Option<String>,
    intake: Option<Suitability>,
    medical: Option<Clearance>,
    consent: bool,
    preparations_held: u32,
    prescription: Option<RxFold>,
    explorations: Vec<ExplorationFold>,
    ongoing_care_held: u32,
    discharged_on: Option<NaiveDate>,
}

impl ProgressFold {
    pub(crate) fn apply(&mut self, event: &ClientEvent, meta: &EventMeta) {
        match event {
            ClientEvent::ClientRegistered(e) => {
                self.registered = true;
                self.therapist = Some(e.therapist.to_string());
                self.prescriber = e.prescriber.as_ref().map(ToString::to_string);
            }
            ClientEvent::IntakeRecorded(e) => self.intake = Some(e.finding),
            ClientEvent::ClientReferred(e) => self.prescriber = Some(e.prescriber.to_string()),
            ClientEvent::MedicalEvaluationRecorded(e) => {
                self.medical = Some(e.finding);
                // Records from before referral was an act of its own.
                if self.prescriber.is_none() {
                    self.prescriber = Some(e.prescriber.to_string());
                }
            }
            ClientEvent::PrescriptionIssued(e) => {
                self.prescription = Some(RxFold {
                    id: e.prescription.to_string(),
                    valid_until: e.valid.until(),
                    authorized: e.authorized_sessions.get(),
                    used: 0,
                    ordered_mg: e.dosing.starting().get(),
                });
            }
            ClientEvent::ConsentRecorded(_) => self.consent = true,
            ClientEvent::PreparationRecorded(_) => self.preparations_held += 1,
            ClientEvent::ExplorationRecorded(e) => {
                let dose = e.administration.as_ref().map(|a| a.dose.get());
                if let (Some(dose), Some(rx)) = (dose, self.prescription.as_mut()) {
                    rx.used = rx.used.saturating_add(1);
                    rx.ordered_mg = dose;
                }
                self.explorations.push(ExplorationFold {
                    session: e.session.to_string(),
                    date: meta.local_date(e.span.start()),
                    dose_mg: dose,
                    integrated: false,
                });
            }
            ClientEvent::IntegrationRecorded(e) => {
                if let Some(x) = self
                    .explorations
                    .iter_mut()
                    .find(|x| x.session == e.exploration.as_str())
                {
                    x.integrated = true;
                }
            }
            ClientEvent::DoseAdjusted(e) => {
                if let Some(rx) = self.prescription.as_mut() {
                    rx.ordered_mg = e.to.get();
                }
            }
            ClientEvent::OngoingCareRecorded(_) => self.ongoing_care_held += 1,
            ClientEvent::ClientDischarged(e) => self.discharged_on = Some(e.discharged_on),
            _ => {}
        }
    }

    /// The client's phase, as the record derives it.
    pub(crate) fn phase(&self) -> Phase {
        if !self.registered {
            Phase::Unregistered
        } else if self.discharged_on.is_some() {
            Phase::Discharged
        } else if self.intake == Some(Suitability::NotSuitable)
            || self.medical == Some(Clearance::NotCleared)
        {
            Phase::NotSuitable
        } else if self.intake.is_none() || self.medical.is_none() {
            Phase::Assessment
        } else if self.ongoing_care_held > 0 {
            Phase::OngoingCare
        } else if self.explorations.is_empty() {
            Phase::Preparation
        } else {
            Phase::Protocol
        }
    }

    pub(crate) fn prescriber(&self) -> Option<&str> {
        self.prescriber.as_deref()
    }

    pub(crate) fn therapist(&self) -> Option<&str> {
        self.therapist.as_deref()
    }

    fn row(&self, client_id: &str, policy: &ViewPolicy, upcoming: u32) -> ProgressRow {
        let dosed: Vec<&ExplorationFold> = self
            .explorations
            .iter()
            .filter(|x| x.dose_mg.is_some())
            .collect();
        let pending = dosed.iter().find(|x| !x.integrated);
        let rx = self.prescription.as_ref();
        let sessions_left = rx.map(|rx| rx.authorized.saturating_sub(rx.used));
        let phase = self.phase();
        let next = match phase {
            Phase::Unregistered | Phase::Assessment if self.intake.is_none() => NextStep::Intake,
            Phase::Unregistered | Phase::Assessment => NextStep::MedicalEvaluation,
            Phase::NotSuitable => NextStep::Reassessment,
            Phase::Discharged => NextStep::None,
            _ if pending.is_some() => NextStep::Integration,
            Phase::Preparation if rx.is_none() => NextStep::Prescription,
            Phase::Preparation if !self.consent => NextStep::Consent,
            Phase::Preparation if self.preparations_held == 0 => NextStep::Preparation,
            Phase::Preparation => NextStep::Exploration,
            Phase::Protocol
                if sessions_left.is_some_and(|n| n > 0)
                    && dosed.len() < usize::from(policy.max_explorations) =>
            {
                NextStep::Exploration
            }
            Phase::Protocol | Phase::OngoingCare => NextStep::OngoingCare,
        };
        let last_dosed = dosed.iter().map(|x| x.date).max();
        let next_exploration_from = match (next, last_dosed) {
            (NextStep::Exploration, Some(last)) => {
                Some(last + Duration::days(i64::from(policy.min_days_between_explorations)))
            }
            _ => None,
        };
        ProgressRow {
            client_id: client_id.to_owned(),
            therapist: self.therapist.clone(),
            prescriber: self.prescriber.clone(),
            phase,
            preparations_held: self.preparations_held,
            explorations_held: self.explorations.len() as u32,
            explorations_dosed: dosed.len() as u32,
            prescription: rx.map(|rx| rx.id.clone()),
            prescription_valid_until: rx.map(|rx| rx.valid_until),
            explorations_authorized: rx.map(|rx| rx.authorized),
            explorations_used: rx.map(|rx| rx.used),
            sessions_left,
            current_dose_mg: rx.map(|rx| rx.ordered_mg),
            last_dose_mg: dosed.last().and_then(|x| x.dose_mg),
            integration_pending: pending.is_some(),
            integration_pending_for: pending.map(|x| x.session.clone()),
            integration_due_by: pending
                .map(|x| x.date + Duration::days(i64::from(policy.integration_window_days))),
            next_due_step: next,
            next_exploration_from,
            upcoming_sessions: upcoming,
            discharged: self.discharged_on.is_some(),
            discharged_on: self.discharged_on,
        }
    }
}
