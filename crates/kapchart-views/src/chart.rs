//! The client chart: every entry of the record with the amendments that
//! correct it shown beside it (rows of kind `entry`), and the client's
//! current clinical state (one row of kind `chart`).
//!
//! The chart's state is the client's events themselves: the chart shows all
//! of them, and its rows are folded from them on demand. The chart "as of"
//! a past time is the same fold over only the events recorded by then
//! ([`crate::chart_as_of`]).

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use kapchart_domain::{
    AdverseSeverity, BloodPressure, Clearance, ClientEvent, Departure, DischargeReason, Drug,
    Phase, Role, Route, Rule, SessionKind, SessionStatus, Suitability, TimeZoneName,
};
use serde::{Deserialize, Serialize};

use crate::kinds;
use crate::schedule::ProgressFold;
use crate::view::{EventMeta, MakeRow, ViewPolicy, event_day, sequence_key};

/// An amendment (an `EntryAmended` entry), shown beside the entry it amends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AmendmentView {
    /// The amendment's own sequence.
    pub sequence: u64,
    /// When it was recorded.
    pub recorded_at: DateTime<Utc>,
    /// Who amended (user id).
    pub amended_by: String,
    /// In which role.
    pub role: Role,
    /// Why.
    pub reason: String,
    /// The corrected content.
    pub corrected_content: String,
}

/// An override recorded on an entry's decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverrideView {
    /// The rule passed (its stable code).
    pub rule: Rule,
    /// Why.
    pub reason: String,
    /// Who authorized it.
    pub authorized_by: String,
    /// The prescriber's authorization it used, if the rule needs one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization: Option<String>,
    /// What the rule found.
    pub finding: String,
}

/// One entry of the record (row kind `entry`, key = the sequence
/// zero-padded to 10 digits, day = the day the entry is about, see
/// [`crate::event_day`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntryRow {
    /// The entry's sequence in the client's record.
    pub sequence: u64,
    /// When it was recorded.
    pub recorded_at: DateTime<Utc>,
    /// Its event type, e.g. `ExplorationRecorded`.
    pub event_type: String,
    /// Who issued the command (user id).
    pub actor: String,
    /// In which role.
    pub role: Role,
    /// When the command was issued.
    pub decided_at: DateTime<Utc>,
    /// The policy version that decided it.
    pub policy_version: u32,
    /// Soft stops passed, with reasons.
    pub overrides: Vec<OverrideView>,
    /// The entry's content: the event's fields except its decision, as
    /// stored.
    pub content: serde_json::Value,
    /// For an amendment: the sequence of the entry it amends.
    pub amends: Option<u64>,
    /// Every amendment of this entry, oldest first. The content above stays
    /// as it was recorded.
    pub amendments: Vec<AmendmentView>,
}

/// Where an item of the chart comes from: the entry, when it was recorded,
/// and the amendments of that entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    /// The entry's sequence.
    pub sequence: u64,
    /// When it was recorded.
    pub recorded_at: DateTime<Utc>,
    /// Its amendments, oldest first.
    pub amendments: Vec<AmendmentView>,
}

/// Registration facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistrationItem {
    /// Legal name.
    pub name: String,
    /// Date of birth.
    pub date_of_birth: NaiveDate,
    /// The client's therapist.
    pub therapist: String,
    /// The referred prescriber.
    pub prescriber: Option<String>,
    /// Source entry.
    #[serde(flatten)]
    pub stamp: Stamp,
}

/// The latest intake.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntakeItem {
    /// Session id.
    pub session: String,
    /// Day held.
    pub date: NaiveDate,
    /// Therapist.
    pub therapist: String,
    /// `suitable` or `not_suitable`.
    pub finding: Suitability,
    /// ICD-10 codes.
    pub diagnoses: Vec<String>,
    /// Source entry.
    #[serde(flatten)]
    pub stamp: Stamp,
}

/// The latest medical evaluation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MedicalItem {
    /// Prescriber who evaluated.
    pub prescriber: String,
    /// Day.
    pub evaluated_on: NaiveDate,
    /// `cleared` or `not_cleared`.
    pub finding: Clearance,
    /// Source entry.
    #[serde(flatten)]
    pub stamp: Stamp,
}

/// The current prescription.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrescriptionItem {
    /// Prescription id.
    pub prescription: String,
    /// Prescriber.
    pub prescriber: String,
    /// Drug.
    pub drug: Drug,
    /// First valid day.
    pub valid_from: NaiveDate,
    /// Last valid day.
    pub valid_until: NaiveDate,
    /// Lowest dose, mg.
    pub min_mg: u32,
    /// Highest dose, mg.
    pub max_mg: u32,
    /// Starting dose, mg.
    pub starting_mg: u32,
    /// Largest change between doses, mg.
    pub max_step_mg: u32,
    /// Dosed explorations authorized.
    pub authorized_sessions: u16,
    /// Dosed explorations given under it.
    pub used_sessions: u16,
    /// The dose ordered for the next exploration, mg.
    pub ordered_mg: u32,
    /// The prescription it replaced.
    pub supersedes: Option<String>,
    /// Source entry (the issue).
    #[serde(flatten)]
    pub stamp: Stamp,
}

/// Consent on file (the latest).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentItem {
    /// Day signed.
    pub signed_on: NaiveDate,
    /// Form.
    pub form: String,
    /// Source entry.
    #[serde(flatten)]
    pub stamp: Stamp,
}

/// A dose given in the practice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoseItem {
    /// Exploration session.
    pub session: String,
    /// Day given.
    pub date: NaiveDate,
    /// Time given.
    pub given_at: DateTime<Utc>,
    /// Drug.
    pub drug: Drug,
    /// Route.
    pub route: Route,
    /// Dose, mg.
    pub dose_mg: u32,
    /// Lot number.
    pub lot_number: String,
    /// Prescription it was given under.
    pub prescription: Option<String>,
    /// Therapist present.
    pub therapist: String,
    /// When the client was discharged.
    pub discharged_at: DateTime<Utc>,
    /// How the client went home.
    pub departure: Departure,
    /// Source entry.
    #[serde(flatten)]
    pub stamp: Stamp,
}

/// A change of the ordered dose.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoseAdjustmentItem {
    /// Prescription.
    pub prescription: String,
    /// Previously ordered, mg.
    pub from_mg: u32,
    /// Newly ordered, mg.
    pub to_mg: u32,
    /// Source entry.
    #[serde(flatten)]
    pub stamp: Stamp,
}

/// A prescriber's authorization to go past a prescriber-override rule for
/// one session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizationItem {
    /// Its id in the record.
    pub authorization: String,
    /// The rule.
    pub rule: kapchart_domain::Rule,
    /// The exploration session it covers.
    pub session: String,
    /// The last day it may be used.
    pub valid_until: NaiveDate,
    /// The highest pre-dose blood pressure authorized, if limited.
    pub ceiling: Option<kapchart_domain::BloodPressure>,
    /// The prescriber who gave it.
    pub prescriber: String,
    /// The prescriber's reason.
    pub reason: String,
    /// The entry whose override used it, if any.
    pub used_by: Option<u64>,
    /// Source entry.
    #[serde(flatten)]
    pub stamp: Stamp,
}

/// Blood pressure before and after an exploration (mmHg).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BloodPressureItem {
    /// Exploration session.
    pub session: String,
    /// Day.
    pub date: NaiveDate,
    /// Before the dose.
    pub before: BloodPressure,
    /// After.
    pub after: BloodPressure,
    /// Source entry.
    #[serde(flatten)]
    pub stamp: Stamp,
}

/// An outcome measure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutcomeItem {
    /// `phq9`, `gad7`, `pcl5`, `bdi_ii`.
    pub instrument: String,
    /// Total score.
    pub score: u8,
    /// Day administered.
    pub administered_on: NaiveDate,
    /// Source entry.
    #[serde(flatten)]
    pub stamp: Stamp,
}

/// A session, as it stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionItem {
    /// Session id.
    pub session: String,
    /// Kind.
    pub kind: SessionKind,
    /// The practice's local date it starts on.
    pub date: NaiveDate,
    /// Start.
    pub start: DateTime<Utc>,
    /// End.
    pub end: DateTime<Utc>,
    /// Status.
    pub status: SessionStatus,
    /// Therapist.
    pub therapist: String,
    /// Source entry: the one that recorded it held, else the one that
    /// booked it.
    #[serde(flatten)]
    pub stamp: Stamp,
}

/// An adverse event during an exploration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdverseEventItem {
    /// Exploration session.
    pub session: String,
    /// Day.
    pub date: NaiveDate,
    /// What happened.
    pub description: String,
    /// `mild`, `moderate`, `severe`.
    pub severity: AdverseSeverity,
    /// Source entry.
    #[serde(flatten)]
    pub stamp: Stamp,
}

/// A treatment at an affiliate (never an in-practice dose).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExternalTreatmentItem {
    /// Day.
    pub treated_on: NaiveDate,
    /// Affiliate.
    pub provider: String,
    /// Route.
    pub route: Route,
    /// Dose, mg, if reported.
    pub dose_mg: Option<u32>,
    /// Source entry.
    #[serde(flatten)]
    pub stamp: Stamp,
}

/// The discharge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DischargeItem {
    /// Day.
    pub discharged_on: NaiveDate,
    /// Why.
    pub reason: DischargeReason,
    /// Summary.
    pub summary: String,
    /// Sessions cancelled by it.
    pub cancelled_sessions: Vec<String>,
    /// Source entry.
    #[serde(flatten)]
    pub stamp: Stamp,
}

/// The client's current clinical state (row kind `chart`, key `current`,
/// no day). Every item names the entry it comes from (sequence,
/// recorded_at) with that entry's amendments beside it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChartRow {
    /// The client.
    pub client_id: String,
    /// Where the client stands.
    pub phase: Phase,
    /// The client's therapist.
    pub therapist: Option<String>,
    /// The client's prescriber.
    pub prescriber: Option<String>,
    /// Registration.
    pub registration: Option<RegistrationItem>,
    /// The latest intake.
    pub intake: Option<IntakeItem>,
    /// The latest medical evaluation.
    pub medical_evaluation: Option<MedicalItem>,
    /// The current prescription.
    pub prescription: Option<PrescriptionItem>,
    /// The latest consent.
    pub consent: Option<ConsentItem>,
    /// Doses given in the practice, in order.
    pub doses: Vec<DoseItem>,
    /// Changes of the ordered dose, in order.
    pub dose_adjustments: Vec<DoseAdjustmentItem>,
    /// Prescribers' authorizations past prescriber-override rules, in order.
    pub authorizations: Vec<AuthorizationItem>,
    /// Blood pressure at every exploration.
    pub blood_pressure: Vec<BloodPressureItem>,
    /// Outcome measures, in order recorded.
    pub outcome_measures: Vec<OutcomeItem>,
    /// Every session, by start.
    pub sessions: Vec<SessionItem>,
    /// Adverse events.
    pub adverse_events: Vec<AdverseEventItem>,
    /// Treatments at affiliates.
    pub external_treatments: Vec<ExternalTreatmentItem>,
    /// The discharge.
    pub discharge: Option<DischargeItem>,
    /// Entries recorded.
    pub entries: u64,
    /// Amendments among them.
    pub amendments: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Recorded {
    sequence: u64,
    recorded_at: DateTime<Utc>,
    /// The practice's time zone and policy the event was decided in.
    zone: TimeZoneName,
    policy: ViewPolicy,
    event: ClientEvent,
}

impl Recorded {
    /// The event's metadata as the chart keeps it (no feed position).
    fn meta(&self, client_id: &str) -> EventMeta {
        EventMeta::new(client_id, self.sequence, 0, self.recorded_at)
            .in_practice(self.zone, self.policy)
    }
}

/// The chart's fold state: the client's entries.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ChartFold {
    entries: Vec<Recorded>,
}

impl ChartFold {
    pub(crate) fn apply(&mut self, event: &ClientEvent, meta: &EventMeta) {
        self.entries.push(Recorded {
            sequence: meta.sequence,
            recorded_at: meta.recorded_at,
            zone: meta.zone,
            policy: meta.policy,
            event: event.clone(),
        });
    }

    pub(crate) fn rows<R: MakeRow>(&self, client_id: &str) -> Vec<R> {
        let amendments = self.amendments();
        let stamp = |sequence: u64, recorded_at: DateTime<Utc>| Stamp {
            sequence,
            recorded_at,
            amendments: amendments.get(&sequence).cloned().unwrap_or_default(),
        };
        let mut rows = Vec::with_capacity(self.entries.len() + 1);
        for r in &self.entries {
            let d = r.event.decision();
            let meta = r.meta(client_id);
            let data = EntryRow {
                sequence: r.sequence,
                recorded_at: r.recorded_at,
                event_type: r.event.type_name().to_owned(),
                actor: d.actor.id.to_string(),
                role: d.actor.role,
                decided_at: d.decided_at,
                policy_version: d.policy_version,
                overrides: d
                    .overrides
                    .iter()
                    .map(|o| OverrideView {
                        rule: o.rule,
                        reason: o.reason.as_str().to_owned(),
                        authorized_by: o.authorized_by.to_string(),
                        authorization: o.authorization.as_ref().map(ToString::to_string),
                        finding: o.finding.clone(),
                    })
                    .collect(),
                content: content(&r.event),
                amends: match &r.event {
                    ClientEvent::EntryAmended(a) => Some(a.entry),
                    _ => None,
                },
                amendments: amendments.get(&r.sequence).cloned().unwrap_or_default(),
            };
            rows.push(R::make(
                kinds::ENTRY,
                sequence_key(r.sequence),
                Some(event_day(&r.event, &meta)),
                &data,
            ));
        }
        if !self.entries.is_empty() {
            let data = self.current(client_id, &stamp);
            rows.push(R::make(
                kinds::SUMMARY,
                "current",
                None,
                &crate::summary::ChartSummary::of(&data),
            ));
            rows.push(R::make(kinds::CHART, "current", None, &data));
        }
        rows
    }

    /// Amendments by the sequence they amend.
    fn amendments(&self) -> BTreeMap<u64, Vec<AmendmentView>> {
        let mut out: BTreeMap<u64, Vec<AmendmentView>> = BTreeMap::new();
        for r in &self.entries {
            if let ClientEvent::EntryAmended(a) = &r.event {
                out.entry(a.entry).or_default().push(AmendmentView {
                    sequence: r.sequence,
                    recorded_at: r.recorded_at,
                    amended_by: a.decision.actor.id.to_string(),
                    role: a.decision.actor.role,
                    reason: a.reason.as_str().to_owned(),
                    corrected_content: a.corrected_content.as_str().to_owned(),
                });
            }
        }
        out
    }

    fn current(&self, client_id: &str, stamp: &dyn Fn(u64, DateTime<Utc>) -> Stamp) -> ChartRow {
        let mut progress = ProgressFold::default();
        let mut chart = ChartRow {
            client_id: client_id.to_owned(),
            phase: Phase::Unregistered,
            therapist: None,
            prescriber: None,
            registration: None,
            intake: None,
            medical_evaluation: None,
            prescription: None,
            consent: None,
            doses: Vec::new(),
            dose_adjustments: Vec::new(),
            authorizations: Vec::new(),
            blood_pressure: Vec::new(),
            outcome_measures: Vec::new(),
            sessions: Vec::new(),
            adverse_events: Vec::new(),
            external_treatments: Vec::new(),
            discharge: None,
            entries: self.entries.len() as u64,
            amendments: 0,
        };
        let mut sessions: BTreeMap<String, SessionItem> = BTreeMap::new();
        for r in &self.entries {
            let meta = r.meta(client_id);
            progress.apply(&r.event, &meta);
            let st = || stamp(r.sequence, r.recorded_at);
            for used in r
                .event
                .decision()
                .overrides
                .iter()
                .filter_map(|o| o.authorization.as_ref())
            {
                if let Some(a) = chart
                    .authorizations
                    .iter_mut()
                    .find(|a| a.authorization == used.as_str())
                {
                    a.used_by = Some(r.sequence);
                }
            }
            match &r.event {
                ClientEvent::ClientReferred(_) => {}
                ClientEvent::OverrideAuthorized(e) => {
                    chart.authorizations.push(AuthorizationItem {
                        authorization: e.authorization.to_string(),
                        rule: e.rule,
                        session: e.session.to_string(),
                        valid_until: e.valid_until,
                        ceiling: e.ceiling,
                        prescriber: e.decision.actor.id.to_string(),
                        reason: e.reason.as_str().to_owned(),
                        used_by: None,
                        stamp: st(),
                    });
                }
                ClientEvent::ClientRegistered(e) => {
                    chart.registration = Some(RegistrationItem {
                        name: e.name.as_str().to_owned(),
                        date_of_birth: e.date_of_birth,
                        therapist: e.therapist.to_string(),
                        prescriber: e.prescriber.as_ref().map(ToString::to_string),
                        stamp: st(),
                    });
                }
                ClientEvent::IntakeRecorded(e) => {
                    chart.intake = Some(IntakeItem {
                        session: e.session.to_string(),
                        date: meta.local_date(e.span.start()),
                        therapist: e.therapist.to_string(),
                        finding: e.finding,
                        diagnoses: e.diagnoses.iter().map(|c| c.as_str().to_owned()).collect(),
                        stamp: st(),
                    });
                    hold(
                        &mut sessions,
                        e.session.as_str(),
                        SessionKind::Intake,
                        &e.span,
                        e.therapist.as_str(),
                        meta.local_date(e.span.start()),
                        st(),
                    );
                }
                ClientEvent::MedicalEvaluationRecorded(e) => {
                    chart.medical_evaluation = Some(MedicalItem {
                        prescriber: e.prescriber.to_string(),
                        evaluated_on: e.evaluated_on,
                        finding: e.finding,
                        stamp: st(),
                    });
                }
                ClientEvent::PrescriptionIssued(e) => {
                    chart.prescription = Some(PrescriptionItem {
                        prescription: e.prescription.to_string(),
                        prescriber: e.prescriber.to_string(),
                        drug: e.drug,
                        valid_from: e.valid.from(),
                        valid_until: e.valid.until(),
                        min_mg: e.dosing.min().get(),
                        max_mg: e.dosing.max().get(),
                        starting_mg: e.dosing.starting().get(),
                        max_step_mg: e.dosing.max_step().get(),
                        authorized_sessions: e.authorized_sessions.get(),
                        used_sessions: 0,
                        ordered_mg: e.dosing.starting().get(),
                        supersedes: e.supersedes.as_ref().map(ToString::to_string),
                        stamp: st(),
                    });
                }
                ClientEvent::ConsentRecorded(e) => {
                    chart.consent = Some(ConsentItem {
                        signed_on: e.signed_on,
                        form: e.form.as_str().to_owned(),
                        stamp: st(),
                    });
                }
                ClientEvent::SessionScheduled(e) => {
                    sessions.insert(
                        e.session.to_string(),
                        SessionItem {
                            session: e.session.to_string(),
                            kind: e.kind,
                            date: meta.local_date(e.span.start()),
                            start: e.span.start(),
                            end: e.span.end(),
                            status: SessionStatus::Scheduled,
                            therapist: e.therapist.to_string(),
                            stamp: st(),
                        },
                    );
                }
                ClientEvent::PreparationRecorded(e) => {
                    hold(
                        &mut sessions,
                        e.session.as_str(),
                        SessionKind::Preparation,
                        &e.span,
                        e.therapist.as_str(),
                        meta.local_date(e.span.start()),
                        st(),
                    );
                }
                ClientEvent::ExplorationRecorded(e) => {
                    let date = meta.local_date(e.span.start());
                    if let Some(a) = &e.administration {
                        if let Some(rx) = chart.prescription.as_mut() {
                            rx.used_sessions = rx.used_sessions.saturating_add(1);
                            rx.ordered_mg = a.dose.get();
                        }
                        chart.doses.push(DoseItem {
                            session: e.session.to_string(),
                            date: meta.local_date(a.given_at),
                            given_at: a.given_at,
                            drug: a.drug,
                            route: a.route,
                            dose_mg: a.dose.get(),
                            lot_number: a.lot_number.as_str().to_owned(),
                            prescription: e.prescription.as_ref().map(ToString::to_string),
                            therapist: e.therapist.to_string(),
                            discharged_at: e.discharged_at,
                            departure: e.departure,
                            stamp: st(),
                        });
                    }
                    chart.blood_pressure.push(BloodPressureItem {
                        session: e.session.to_string(),
                        date,
                        before: e.bp_before,
                        after: e.bp_after,
                        stamp: st(),
                    });
                    for a in &e.adverse_events {
                        chart.adverse_events.push(AdverseEventItem {
                            session: e.session.to_string(),
                            date,
                            description: a.description.as_str().to_owned(),
                            severity: a.severity,
                            stamp: st(),
                        });
                    }
                    hold(
                        &mut sessions,
                        e.session.as_str(),
                        SessionKind::Exploration,
                        &e.span,
                        e.therapist.as_str(),
                        meta.local_date(e.span.start()),
                        st(),
                    );
                }
                ClientEvent::IntegrationRecorded(e) => {
                    hold(
                        &mut sessions,
                        e.session.as_str(),
                        SessionKind::Integration,
                        &e.span,
                        e.therapist.as_str(),
                        meta.local_date(e.span.start()),
                        st(),
                    );
                }
                ClientEvent::DoseAdjusted(e) => {
                    if let Some(rx) = chart.prescription.as_mut() {
                        rx.ordered_mg = e.to.get();
                    }
                    chart.dose_adjustments.push(DoseAdjustmentItem {
                        prescription: e.prescription.to_string(),
                        from_mg: e.from.get(),
                        to_mg: e.to.get(),
                        stamp: st(),
                    });
                }
                ClientEvent::OutcomeMeasureRecorded(e) => {
                    let (instrument, score) = crate::compliance::instrument_score(&e.measure);
                    chart.outcome_measures.push(OutcomeItem {
                        instrument: instrument.to_owned(),
                        score,
                        administered_on: e.administered_on,
                        stamp: st(),
                    });
                }
                ClientEvent::OngoingCareRecorded(e) => {
                    hold(
                        &mut sessions,
                        e.session.as_str(),
                        SessionKind::OngoingCare,
                        &e.span,
                        e.therapist.as_str(),
                        meta.local_date(e.span.start()),
                        st(),
                    );
                }
                ClientEvent::ExternalTreatmentRecorded(e) => {
                    chart.external_treatments.push(ExternalTreatmentItem {
                        treated_on: e.treated_on,
                        provider: e.provider.as_str().to_owned(),
                        route: e.route,
                        dose_mg: e.dose.map(|d| d.get()),
                        stamp: st(),
                    });
                }
                ClientEvent::SessionCancelled(e) => {
                    if let Some(s) = sessions.get_mut(e.session.as_str()) {
                        s.status = SessionStatus::Cancelled;
                    }
                }
                ClientEvent::NoShowRecorded(e) => {
                    if let Some(s) = sessions.get_mut(e.session.as_str()) {
                        s.status = SessionStatus::NoShow;
                    }
                }
                ClientEvent::PaymentRecorded(_) => {}
                ClientEvent::EntryAmended(_) => chart.amendments += 1,
                ClientEvent::ClientDischarged(e) => {
                    for id in &e.cancelled_sessions {
                        if let Some(s) = sessions.get_mut(id.as_str()) {
                            s.status = SessionStatus::Cancelled;
                        }
                    }
                    chart.discharge = Some(DischargeItem {
                        discharged_on: e.discharged_on,
                        reason: e.reason,
                        summary: e.summary.as_str().to_owned(),
                        cancelled_sessions: e
                            .cancelled_sessions
                            .iter()
                            .map(ToString::to_string)
                            .collect(),
                        stamp: st(),
                    });
                }
            }
        }
        chart.phase = progress.phase();
        chart.therapist = progress.therapist().map(str::to_owned);
        chart.prescriber = progress.prescriber().map(str::to_owned);
        let mut sessions: Vec<SessionItem> = sessions.into_values().collect();
        sessions.sort_by(|a, b| (a.start, &a.session).cmp(&(b.start, &b.session)));
        chart.sessions = sessions;
        chart
    }
}

fn hold(
    sessions: &mut BTreeMap<String, SessionItem>,
    session: &str,
    kind: SessionKind,
    span: &kapchart_domain::TimeSpan,
    therapist: &str,
    date: NaiveDate,
    stamp: Stamp,
) {
    sessions.insert(
        session.to_owned(),
        SessionItem {
            session: session.to_owned(),
            kind,
            date,
            start: span.start(),
            end: span.end(),
            status: SessionStatus::Held,
            therapist: therapist.to_owned(),
            stamp,
        },
    );
}

/// The event's fields except its decision, as stored.
fn content(event: &ClientEvent) -> serde_json::Value {
    let tagged = serde_json::to_value(event).expect("events serialize to JSON");
    match tagged {
        serde_json::Value::Object(outer) => match outer.into_iter().next() {
            Some((_, serde_json::Value::Object(mut inner))) => {
                inner.remove("decision");
                serde_json::Value::Object(inner)
            }
            Some((_, other)) => other,
            None => serde_json::Value::Null,
        },
        other => other,
    }
}
