//! The compliance view: the controlled-substance administration log (kind
//! `administration`), protocol adherence findings (kind `adherence`) and
//! outcome measures (kind `outcome`).
//!
//! Adherence findings come from two sources. Every override recorded on an
//! event's decision is a finding (`overridden: true`, with its rule, reason
//! and who authorized it): that is the record's own account of a soft stop
//! passed under the policy in force. The view also checks the dates and
//! counts in the events itself, against its [`ViewPolicy`] and the
//! prescriptions: a late integration, explorations too close together or
//! beyond the protocol maximum with no override recorded, and any dosed
//! exploration beyond its prescription's authorization, appear as findings
//! with `overridden: false` (the record refuses these, so they should never
//! appear: when one does, it needs explaining).

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use kapchart_domain::{ClientEvent, Drug, OutcomeMeasure, Route, Rule, SessionKind};
use serde::{Deserialize, Serialize};

use crate::kinds;
use crate::view::{EventMeta, MakeRow, ViewPolicy, days_between, event_day, sequence_key};

/// Where a dose was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Setting {
    /// In the practice, at an exploration.
    InPractice,
    /// At an affiliate (IV, IM): never an in-practice dose.
    External,
}

/// One administration of a controlled substance (row kind
/// `administration`; key = the exploration's session id, or
/// `external:` and the entry's zero-padded sequence for a treatment at an
/// affiliate; day = the day given).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdministrationRow {
    /// The client.
    pub client_id: String,
    /// `in_practice` or `external`.
    pub setting: Setting,
    /// The exploration session (in practice).
    pub session: Option<String>,
    /// Day given.
    pub date: NaiveDate,
    /// Time given (in practice).
    pub given_at: Option<DateTime<Utc>>,
    /// Drug (in practice; an external treatment does not record it).
    pub drug: Option<Drug>,
    /// `sublingual`, `intravenous`, `intramuscular`.
    pub route: Route,
    /// Dose, integer mg (external: if reported).
    pub dose_mg: Option<u32>,
    /// Lot number (in practice).
    pub lot_number: Option<String>,
    /// The prescription the dose was given under.
    pub prescription: Option<String>,
    /// Its prescriber.
    pub prescriber: Option<String>,
    /// The therapist present (in practice).
    pub monitoring_clinician: Option<String>,
    /// The affiliate (external).
    pub provider: Option<String>,
    /// The entry that recorded it.
    pub sequence: u64,
    /// When it was recorded.
    pub recorded_at: DateTime<Utc>,
}

/// What a protocol adherence finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Finding {
    /// An integration more than the window after its exploration
    /// (`integration.late`).
    LateIntegration,
    /// Dosed explorations closer together than the minimum
    /// (`exploration.too_soon`).
    ShortSpacing,
    /// More dosed explorations than the protocol maximum
    /// (`exploration.beyond_protocol_maximum`).
    BeyondProtocolMaximum,
    /// A dosed exploration without a prescription covering its date
    /// (`prescription.none_active`) or beyond its authorized sessions
    /// (`exploration.no_sessions_left`).
    BeyondAuthorization,
    /// Pre-dose blood pressure above the threshold, passed by the
    /// prescriber (`exploration.bp_above_threshold`).
    BpAboveThreshold,
    /// An override of any other rule.
    Override,
}

impl Finding {
    /// The finding's stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Finding::LateIntegration => "late_integration",
            Finding::ShortSpacing => "short_spacing",
            Finding::BeyondProtocolMaximum => "beyond_protocol_maximum",
            Finding::BeyondAuthorization => "beyond_authorization",
            Finding::BpAboveThreshold => "bp_above_threshold",
            Finding::Override => "override",
        }
    }

    fn of_override(rule: Rule) -> Finding {
        match rule {
            Rule::IntegrationLate => Finding::LateIntegration,
            Rule::ExplorationTooSoon => Finding::ShortSpacing,
            Rule::ExplorationBeyondProtocolMaximum => Finding::BeyondProtocolMaximum,
            Rule::ExplorationNoSessionsLeft | Rule::PrescriptionNoneActive => {
                Finding::BeyondAuthorization
            }
            Rule::ExplorationBloodPressureAboveThreshold => Finding::BpAboveThreshold,
            _ => Finding::Override,
        }
    }
}

/// A protocol adherence finding (row kind `adherence`; key = the entry's
/// zero-padded sequence, the finding and the rule code, joined by `:`;
/// day = the day the entry is about).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdherenceRow {
    /// The client.
    pub client_id: String,
    /// What it is about.
    pub finding: Finding,
    /// The rule concerned (stable code).
    pub rule: Rule,
    /// True when the entry's decision records an override for the rule.
    pub overridden: bool,
    /// The override's reason.
    pub reason: Option<String>,
    /// Who authorized the override.
    pub authorized_by: Option<String>,
    /// What was found: the override's finding as the record stated it, or
    /// the view's own description (numbers and ids only).
    pub detail: String,
    /// The entry's event type.
    pub event_type: String,
    /// The session concerned.
    pub session: Option<String>,
    /// The exploration an integration integrates, or the nearest earlier
    /// dosed exploration for spacing.
    pub related_session: Option<String>,
    /// Calendar days: integration after its exploration, or since the
    /// nearest earlier dosed exploration.
    pub days: Option<i64>,
    /// The dosed exploration's number: overall (protocol maximum) or under
    /// its prescription (authorization).
    pub count: Option<u32>,
    /// The day the entry is about.
    pub day: NaiveDate,
    /// The entry.
    pub sequence: u64,
    /// When it was recorded.
    pub recorded_at: DateTime<Utc>,
}

/// An outcome measure (row kind `outcome`, key = the entry's zero-padded
/// sequence, day = day administered).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutcomeRow {
    /// The client.
    pub client_id: String,
    /// `phq9`, `gad7`, `pcl5`, `bdi_ii`.
    pub instrument: String,
    /// Total score.
    pub score: u8,
    /// Day administered.
    pub administered_on: NaiveDate,
    /// The entry.
    pub sequence: u64,
    /// When it was recorded.
    pub recorded_at: DateTime<Utc>,
}

/// The instruments in report order, by their stable names.
pub const INSTRUMENTS: [&str; 4] = ["phq9", "gad7", "pcl5", "bdi_ii"];

/// An outcome measure's instrument name and score.
pub fn instrument_score(measure: &OutcomeMeasure) -> (&'static str, u8) {
    match measure {
        OutcomeMeasure::Phq9(s) => ("phq9", s.get()),
        OutcomeMeasure::Gad7(s) => ("gad7", s.get()),
        OutcomeMeasure::Pcl5(s) => ("pcl5", s.get()),
        OutcomeMeasure::BdiIi(s) => ("bdi_ii", s.get()),
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RxInfo {
    prescriber: String,
    valid_from: NaiveDate,
    valid_until: NaiveDate,
    authorized: u16,
    dosed: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Explored {
    session: String,
    date: NaiveDate,
    dosed: bool,
}

/// The compliance view's fold state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ComplianceFold {
    prescriptions: BTreeMap<String, RxInfo>,
    explorations: Vec<Explored>,
    dosed: u32,
    administrations: Vec<(String, AdministrationRow)>,
    findings: Vec<(String, AdherenceRow)>,
    outcomes: Vec<OutcomeRow>,
}

/// What the findings of one event may need.
#[derive(Default)]
struct Context {
    session: Option<String>,
    /// Nearest earlier dosed exploration: (session, days).
    spacing: Option<(String, i64)>,
    /// The exploration integrated: (session, days after it).
    integrated: Option<(String, Option<i64>)>,
    /// Dosed exploration number, overall.
    count: Option<u32>,
}

impl ComplianceFold {
    pub(crate) fn apply(&mut self, event: &ClientEvent, meta: &EventMeta, policy: &ViewPolicy) {
        let day = event_day(event, meta);
        let mut found: Vec<AdherenceRow> = Vec::new();
        let base = |finding: Finding, rule: Rule, detail: String| AdherenceRow {
            client_id: meta.client_id.clone(),
            finding,
            rule,
            overridden: false,
            reason: None,
            authorized_by: None,
            detail,
            event_type: event.type_name().to_owned(),
            session: None,
            related_session: None,
            days: None,
            count: None,
            day,
            sequence: meta.sequence,
            recorded_at: meta.recorded_at,
        };

        let mut ctx = Context::default();
        match event {
            ClientEvent::SessionScheduled(e) => {
                ctx.session = Some(e.session.to_string());
                if e.kind == SessionKind::Exploration {
                    ctx.spacing = self.nearest_dosed(meta.local_date(e.span.start()));
                }
            }
            ClientEvent::ExplorationRecorded(e) => {
                ctx.session = Some(e.session.to_string());
                if e.administration.is_some() {
                    ctx.spacing = self.nearest_dosed(meta.local_date(e.span.start()));
                    ctx.count = Some(self.dosed + 1);
                }
            }
            ClientEvent::IntegrationRecorded(e) => {
                ctx.session = Some(e.session.to_string());
                let days = self
                    .explorations
                    .iter()
                    .find(|x| x.session == e.exploration.as_str())
                    .map(|x| days_between(x.date, meta.local_date(e.span.start())));
                ctx.integrated = Some((e.exploration.to_string(), days));
            }
            ClientEvent::IntakeRecorded(e) => ctx.session = Some(e.session.to_string()),
            ClientEvent::PreparationRecorded(e) => ctx.session = Some(e.session.to_string()),
            ClientEvent::OngoingCareRecorded(e) => ctx.session = Some(e.session.to_string()),
            ClientEvent::SessionCancelled(e) => ctx.session = Some(e.session.to_string()),
            ClientEvent::NoShowRecorded(e) => ctx.session = Some(e.session.to_string()),
            _ => {}
        }
        let with_context = |mut row: AdherenceRow| {
            row.session = ctx.session.clone();
            match row.finding {
                Finding::LateIntegration => {
                    if let Some((x, days)) = &ctx.integrated {
                        row.related_session = Some(x.clone());
                        row.days = *days;
                    }
                }
                Finding::ShortSpacing => {
                    if let Some((x, days)) = &ctx.spacing {
                        row.related_session = Some(x.clone());
                        row.days = Some(*days);
                    }
                }
                Finding::BeyondProtocolMaximum => row.count = ctx.count,
                _ => {}
            }
            row
        };

        // The record's own account: every override on the decision.
        let decision = event.decision();
        for ov in &decision.overrides {
            let mut row = base(Finding::of_override(ov.rule), ov.rule, ov.finding.clone());
            row.overridden = true;
            row.reason = Some(ov.reason.as_str().to_owned());
            row.authorized_by = Some(ov.authorized_by.to_string());
            found.push(with_context(row));
        }
        let overridden = |rule: Rule| decision.overrides.iter().any(|o| o.rule == rule);

        // The view's own checks of dates and counts.
        match event {
            ClientEvent::IntegrationRecorded(_) => {
                let window = i64::from(policy.integration_window_days);
                if let Some((x, Some(days))) = &ctx.integrated
                    && *days > window
                    && !overridden(Rule::IntegrationLate)
                {
                    found.push(with_context(base(
                        Finding::LateIntegration,
                        Rule::IntegrationLate,
                        format!(
                            "integration {days} days after exploration {x}; window {window} days"
                        ),
                    )));
                }
            }
            ClientEvent::ExplorationRecorded(e) if e.administration.is_some() => {
                let min = i64::from(policy.min_days_between_explorations);
                if let Some((x, days)) = &ctx.spacing
                    && *days < min
                    && !overridden(Rule::ExplorationTooSoon)
                {
                    found.push(with_context(base(
                        Finding::ShortSpacing,
                        Rule::ExplorationTooSoon,
                        format!("{days} days after dosed exploration {x}; minimum {min} days"),
                    )));
                }
                let max = u32::from(policy.max_explorations);
                if let Some(n) = ctx.count
                    && n > max
                    && !overridden(Rule::ExplorationBeyondProtocolMaximum)
                {
                    found.push(with_context(base(
                        Finding::BeyondProtocolMaximum,
                        Rule::ExplorationBeyondProtocolMaximum,
                        format!("dosed exploration {n}; protocol maximum {max}"),
                    )));
                }
                let date = meta.local_date(e.span.start());
                let rx = e
                    .prescription
                    .as_ref()
                    .and_then(|id| self.prescriptions.get(id.as_str()).map(|rx| (id, rx)));
                match rx {
                    None => found.push(with_context(base(
                        Finding::BeyondAuthorization,
                        Rule::PrescriptionNoneActive,
                        "dosed exploration under no recorded prescription".to_owned(),
                    ))),
                    Some((id, rx)) => {
                        if date < rx.valid_from || date > rx.valid_until {
                            found.push(with_context(base(
                                Finding::BeyondAuthorization,
                                Rule::PrescriptionNoneActive,
                                format!(
                                    "exploration on {date} is outside prescription {id}'s dates {} to {}",
                                    rx.valid_from, rx.valid_until
                                ),
                            )));
                        }
                        let n = rx.dosed + 1;
                        if n > u32::from(rx.authorized) {
                            let mut row = with_context(base(
                                Finding::BeyondAuthorization,
                                Rule::ExplorationNoSessionsLeft,
                                format!(
                                    "dosed exploration {n} under prescription {id}, which authorizes {}",
                                    rx.authorized
                                ),
                            ));
                            row.count = Some(n);
                            found.push(row);
                        }
                    }
                }
            }
            _ => {}
        }

        for row in found {
            let mut key = format!(
                "{}:{}:{}",
                sequence_key(meta.sequence),
                row.finding.as_str(),
                row.rule.code()
            );
            let same = self
                .findings
                .iter()
                .filter(|(k, _)| k == &key || k.starts_with(&format!("{key}:")))
                .count();
            if same > 0 {
                key = format!("{key}:{same}");
            }
            self.findings.push((key, row));
        }

        self.update(event, meta, day);
    }

    /// The nearest earlier dosed exploration to `date`, with the calendar
    /// days between them.
    fn nearest_dosed(&self, date: NaiveDate) -> Option<(String, i64)> {
        self.explorations
            .iter()
            .filter(|x| x.dosed)
            .map(|x| (x.session.clone(), days_between(x.date, date).abs()))
            .min_by_key(|(_, days)| *days)
    }

    fn update(&mut self, event: &ClientEvent, meta: &EventMeta, day: NaiveDate) {
        match event {
            ClientEvent::PrescriptionIssued(e) => {
                self.prescriptions.insert(
                    e.prescription.to_string(),
                    RxInfo {
                        prescriber: e.prescriber.to_string(),
                        valid_from: e.valid.from(),
                        valid_until: e.valid.until(),
                        authorized: e.authorized_sessions.get(),
                        dosed: 0,
                    },
                );
            }
            ClientEvent::ExplorationRecorded(e) => {
                self.explorations.push(Explored {
                    session: e.session.to_string(),
                    date: meta.local_date(e.span.start()),
                    dosed: e.administration.is_some(),
                });
                if let Some(a) = &e.administration {
                    self.dosed += 1;
                    let rx_id = e.prescription.as_ref().map(ToString::to_string);
                    let prescriber = rx_id.as_ref().and_then(|id| {
                        let rx = self.prescriptions.get_mut(id)?;
                        rx.dosed += 1;
                        Some(rx.prescriber.clone())
                    });
                    self.administrations.push((
                        e.session.to_string(),
                        AdministrationRow {
                            client_id: meta.client_id.clone(),
                            setting: Setting::InPractice,
                            session: Some(e.session.to_string()),
                            date: meta.local_date(a.given_at),
                            given_at: Some(a.given_at),
                            drug: Some(a.drug),
                            route: a.route,
                            dose_mg: Some(a.dose.get()),
                            lot_number: Some(a.lot_number.as_str().to_owned()),
                            prescription: rx_id,
                            prescriber,
                            monitoring_clinician: Some(e.therapist.to_string()),
                            provider: None,
                            sequence: meta.sequence,
                            recorded_at: meta.recorded_at,
                        },
                    ));
                }
            }
            ClientEvent::ExternalTreatmentRecorded(e) => {
                self.administrations.push((
                    format!("external:{}", sequence_key(meta.sequence)),
                    AdministrationRow {
                        client_id: meta.client_id.clone(),
                        setting: Setting::External,
                        session: None,
                        date: day,
                        given_at: None,
                        drug: None,
                        route: e.route,
                        dose_mg: e.dose.map(|d| d.get()),
                        lot_number: None,
                        prescription: None,
                        prescriber: None,
                        monitoring_clinician: None,
                        provider: Some(e.provider.as_str().to_owned()),
                        sequence: meta.sequence,
                        recorded_at: meta.recorded_at,
                    },
                ));
            }
            ClientEvent::OutcomeMeasureRecorded(e) => {
                let (instrument, score) = instrument_score(&e.measure);
                self.outcomes.push(OutcomeRow {
                    client_id: meta.client_id.clone(),
                    instrument: instrument.to_owned(),
                    score,
                    administered_on: e.administered_on,
                    sequence: meta.sequence,
                    recorded_at: meta.recorded_at,
                });
            }
            _ => {}
        }
    }

    pub(crate) fn rows<R: MakeRow>(&self) -> Vec<R> {
        let mut rows = Vec::with_capacity(
            self.administrations.len() + self.findings.len() + self.outcomes.len(),
        );
        for (key, a) in &self.administrations {
            rows.push(R::make(kinds::ADMINISTRATION, key.clone(), Some(a.date), a));
        }
        for (key, f) in &self.findings {
            rows.push(R::make(kinds::ADHERENCE, key.clone(), Some(f.day), f));
        }
        for o in &self.outcomes {
            rows.push(R::make(
                kinds::OUTCOME,
                sequence_key(o.sequence),
                Some(o.administered_on),
                o,
            ));
        }
        rows
    }
}
