//! The client chart as the page shows it, built from the rows the chart
//! service returned (the `chart` row and the `entry` rows of
//! docs/reports.md): protocol progress, the dosing history, integrations,
//! outcome measures with their plots, sessions, and every entry with its
//! amendments beside it.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use kapchart_domain::{BloodPressure, Phase, Role, SessionKind, SessionStatus};
use kapchart_views::{AmendmentView, ChartRow, EntryRow, OverrideView};
use serde::Deserialize;

use super::actions::{self, Link};
use super::format::{self, Field};
use super::instruments::{INSTRUMENTS, Score, change_from_baseline, instrument, signed};
use super::needs::PendingIntegration;
use super::plot;
use crate::page::role_name;

/// An amendment, beside the entry it amends.
pub(super) struct AmendmentLine {
    pub sequence: u64,
    pub at: String,
    pub by: String,
    pub role: &'static str,
    pub reason: String,
    pub corrected: String,
}

fn amendment_lines(list: &[AmendmentView], tz: Tz) -> Vec<AmendmentLine> {
    list.iter()
        .map(|a| AmendmentLine {
            sequence: a.sequence,
            at: format::date_time(a.recorded_at, tz),
            by: a.amended_by.clone(),
            role: role_name(a.role),
            reason: a.reason.clone(),
            corrected: a.corrected_content.clone(),
        })
        .collect()
}

fn override_text(o: &OverrideView) -> String {
    let mut text = format!(
        "{}: {} (authorized by {}",
        o.rule.code(),
        o.reason,
        o.authorized_by
    );
    if let Some(a) = &o.authorization {
        text.push_str(&format!(", authorization {a}"));
    }
    text.push_str(&format!("; the rule found: {})", o.finding));
    text
}

/// A step of the protocol, from registration to discharge.
pub(super) struct Step {
    pub name: &'static str,
    pub state: &'static str,
    pub class: &'static str,
    pub detail: String,
    pub current: bool,
}

/// An exploration of the dosing history.
pub(super) struct ExplorationLine {
    pub sequence: u64,
    pub date: String,
    pub session: String,
    pub dose: String,
    pub lot: String,
    /// Route and time given.
    pub given: String,
    pub bp_before: String,
    pub bp_above: bool,
    pub bp_after: String,
    pub observations: String,
    pub adverse: Vec<String>,
    /// Discharge time and how the client went home.
    pub discharge: String,
    pub overrides: Vec<String>,
    pub amendments: Vec<AmendmentLine>,
}

/// An integration.
pub(super) struct IntegrationLine {
    pub sequence: u64,
    pub date: String,
    pub session: String,
    pub exploration: String,
    pub days_after: String,
    pub notes: String,
    pub overrides: Vec<String>,
    pub amendments: Vec<AmendmentLine>,
}

/// Change from baseline of one instrument.
pub(super) struct OutcomeSummary {
    pub name: &'static str,
    pub count: usize,
    pub baseline: String,
    pub latest: String,
    pub change: String,
    pub percent: String,
}

/// One outcome measure.
pub(super) struct OutcomeLine {
    pub sequence: u64,
    pub date: String,
    pub name: &'static str,
    pub score: u8,
    pub max: u8,
    pub band: &'static str,
    pub amendments: Vec<AmendmentLine>,
}

/// One instrument's plot.
pub(super) struct PlotView {
    pub name: &'static str,
    pub svg: String,
}

/// A session of the client.
pub(super) struct SessionLine {
    pub date: String,
    pub time: String,
    pub kind: String,
    pub status: String,
    pub therapist: String,
    pub actions: Vec<Link>,
}

/// An entry of the record, with its amendments.
pub(super) struct EntryView {
    pub sequence: u64,
    pub title: String,
    pub day: String,
    pub recorded_at: String,
    pub actor: String,
    pub role: &'static str,
    pub policy_version: u32,
    pub overrides: Vec<String>,
    pub fields: Vec<Field>,
    pub amends: Option<u64>,
    pub amendments: Vec<AmendmentLine>,
    pub amend: Option<Link>,
}

/// The chart, ready for the template.
pub(super) struct ChartView {
    pub name: String,
    pub facts: Vec<Field>,
    pub steps: Vec<Step>,
    pub explorations: Vec<ExplorationLine>,
    pub prescription: Vec<Field>,
    pub adjustments: Vec<Field>,
    pub authorizations: Vec<Field>,
    pub integrations: Vec<IntegrationLine>,
    pub outcome_summary: Vec<OutcomeSummary>,
    pub plots: Vec<PlotView>,
    pub outcomes: Vec<OutcomeLine>,
    pub sessions: Vec<SessionLine>,
    pub entries: Vec<EntryView>,
}

/// What the page needs to judge and link: who reads, and whether the
/// chart is the current one (forms act on the current record only).
pub(super) struct Viewer {
    pub role: Role,
    pub current: bool,
    pub tz: Tz,
    pub threshold: BloodPressure,
}

#[derive(Debug, Default, Deserialize)]
struct Administration {
    dose: Option<u32>,
    route: Option<String>,
    lot_number: Option<String>,
    given_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Deserialize)]
struct Adverse {
    description: String,
    severity: String,
}

#[derive(Debug, Deserialize)]
struct Span {
    start: DateTime<Utc>,
}

/// The fields of an `ExplorationRecorded` entry the history shows.
#[derive(Debug, Deserialize)]
struct ExplorationContent {
    session: String,
    span: Span,
    administration: Option<Administration>,
    not_dosed_reason: Option<String>,
    bp_before: BloodPressure,
    bp_after: BloodPressure,
    #[serde(default)]
    observations: String,
    #[serde(default)]
    adverse_events: Vec<Adverse>,
    discharged_at: Option<DateTime<Utc>>,
    departure: Option<String>,
}

/// The fields of an `IntegrationRecorded` entry the page shows.
#[derive(Debug, Deserialize)]
struct IntegrationContent {
    session: String,
    span: Span,
    exploration: String,
    #[serde(default)]
    notes: String,
}

/// The chart of `chart` and its `entries` (each with the day it is
/// about), as `viewer` sees it.
pub(super) fn build(
    client: &str,
    chart: &ChartRow,
    entries: &[(EntryRow, Option<NaiveDate>)],
    viewer: &Viewer,
) -> ChartView {
    let tz = viewer.tz;
    let name = chart
        .registration
        .as_ref()
        .map_or_else(|| client.to_owned(), |r| r.name.clone());
    ChartView {
        name,
        facts: facts(client, chart),
        steps: steps(chart, tz),
        explorations: explorations(entries, viewer),
        prescription: prescription(chart),
        adjustments: chart
            .dose_adjustments
            .iter()
            .map(|a| Field {
                label: format::date_time(a.stamp.recorded_at, tz),
                value: format!(
                    "{}: ordered dose {} mg → {} mg (entry #{})",
                    a.prescription, a.from_mg, a.to_mg, a.stamp.sequence
                ),
            })
            .collect(),
        authorizations: chart
            .authorizations
            .iter()
            .map(|a| Field {
                label: format!("{} for {}", a.authorization, a.session),
                value: format!(
                    "{} by {}, valid until {}{}; {}. {}",
                    a.rule.code(),
                    a.prescriber,
                    format::date(a.valid_until),
                    a.ceiling
                        .map(|c| format!(", BP up to {c}"))
                        .unwrap_or_default(),
                    match a.used_by {
                        Some(seq) => format!("used by entry #{seq}"),
                        None => "not used".to_owned(),
                    },
                    a.reason
                ),
            })
            .collect(),
        integrations: integrations(entries, chart, viewer),
        outcome_summary: outcome_summary(chart),
        plots: plots(chart),
        outcomes: outcomes(chart, tz),
        sessions: sessions(client, chart, viewer),
        entries: entry_views(client, entries, viewer),
    }
}

fn facts(client: &str, chart: &ChartRow) -> Vec<Field> {
    let mut out = vec![Field {
        label: "Client id".to_owned(),
        value: client.to_owned(),
    }];
    if let Some(r) = &chart.registration {
        out.push(Field {
            label: "Date of birth".to_owned(),
            value: format::date(r.date_of_birth),
        });
    }
    out.push(Field {
        label: "Phase".to_owned(),
        value: format::words(&format::code(&chart.phase)),
    });
    let staff = |s: &Option<String>| s.clone().unwrap_or_else(|| "none".to_owned());
    out.push(Field {
        label: "Therapist".to_owned(),
        value: staff(&chart.therapist),
    });
    out.push(Field {
        label: "Prescriber".to_owned(),
        value: staff(&chart.prescriber),
    });
    if let Some(i) = chart.intake.as_ref().filter(|i| !i.diagnoses.is_empty()) {
        out.push(Field {
            label: "Diagnoses (ICD-10)".to_owned(),
            value: i.diagnoses.join(", "),
        });
    }
    out
}

fn held(chart: &ChartRow, kind: SessionKind) -> Vec<NaiveDate> {
    chart
        .sessions
        .iter()
        .filter(|s| s.kind == kind && s.status == SessionStatus::Held)
        .map(|s| s.date)
        .collect()
}

fn steps(chart: &ChartRow, tz: Tz) -> Vec<Step> {
    const DONE: (&str, &str) = ("Done", "done");
    const TODO: (&str, &str) = ("Not yet", "todo");
    const GOING: (&str, &str) = ("In progress", "going");
    const STOPPED: (&str, &str) = ("Not suitable", "stopped");
    let phase = chart.phase;
    let past_protocol = matches!(phase, Phase::OngoingCare | Phase::Discharged);
    let mut steps: Vec<(&'static str, (&'static str, &'static str), String)> = Vec::new();
    steps.push(match &chart.registration {
        Some(r) => (
            "Registration",
            DONE,
            format::date(format::local_day(r.stamp.recorded_at, tz)),
        ),
        None => ("Registration", TODO, String::new()),
    });
    steps.push(match &chart.intake {
        Some(i) => (
            "Intake",
            if format::code(&i.finding) == "suitable" {
                DONE
            } else {
                STOPPED
            },
            format!(
                "{}: {}",
                format::date(i.date),
                format::words(&format::code(&i.finding)).to_lowercase()
            ),
        ),
        None => ("Intake", TODO, String::new()),
    });
    steps.push(match &chart.medical_evaluation {
        Some(m) => (
            "Medical evaluation",
            if format::code(&m.finding) == "cleared" {
                DONE
            } else {
                STOPPED
            },
            format!(
                "{}: {} by {}",
                format::date(m.evaluated_on),
                format::words(&format::code(&m.finding)).to_lowercase(),
                m.prescriber
            ),
        ),
        None => ("Medical evaluation", TODO, String::new()),
    });
    steps.push(match &chart.prescription {
        Some(rx) => (
            "Prescription",
            DONE,
            format!(
                "{}, valid {} to {}",
                rx.prescription,
                format::date(rx.valid_from),
                format::date(rx.valid_until)
            ),
        ),
        None => ("Prescription", TODO, String::new()),
    });
    steps.push(match &chart.consent {
        Some(c) => (
            "Informed consent",
            DONE,
            format!("signed {}", format::date(c.signed_on)),
        ),
        None => ("Informed consent", TODO, String::new()),
    });
    let preps = held(chart, SessionKind::Preparation);
    steps.push(match preps.first() {
        Some(first) => (
            "Preparation",
            DONE,
            count_text(preps.len(), "session", *first),
        ),
        None => ("Preparation", TODO, String::new()),
    });
    let dosed = chart.doses.len();
    steps.push(match chart.doses.first() {
        Some(first) => (
            "Explorations",
            if past_protocol { DONE } else { GOING },
            match &chart.prescription {
                Some(rx) => format!(
                    "{} dosed, from {}; {} of {} under {}",
                    dosed,
                    format::date(first.date),
                    rx.used_sessions,
                    rx.authorized_sessions,
                    rx.prescription
                ),
                None => count_text(dosed, "dose", first.date),
            },
        ),
        None => ("Explorations", TODO, String::new()),
    });
    let integrations = held(chart, SessionKind::Integration);
    steps.push(match integrations.first() {
        Some(first) => (
            "Integrations",
            if past_protocol { DONE } else { GOING },
            format!(
                "{} held for {} dosed, from {}",
                integrations.len(),
                dosed,
                format::date(*first)
            ),
        ),
        None => ("Integrations", TODO, String::new()),
    });
    let ongoing = held(chart, SessionKind::OngoingCare);
    steps.push(match ongoing.first() {
        Some(first) => (
            "Ongoing care",
            if phase == Phase::Discharged {
                DONE
            } else {
                GOING
            },
            count_text(ongoing.len(), "session", *first),
        ),
        None => ("Ongoing care", TODO, String::new()),
    });
    steps.push(match &chart.discharge {
        Some(d) => (
            "Discharge",
            DONE,
            format!(
                "{}: {}",
                format::date(d.discharged_on),
                format::words(&format::code(&d.reason)).to_lowercase()
            ),
        ),
        None => ("Discharge", TODO, String::new()),
    });
    // The current step: the first in progress or not yet taken (none once
    // discharged or found not suitable).
    let stopped = matches!(phase, Phase::Discharged | Phase::NotSuitable);
    let current = (!stopped)
        .then(|| steps.iter().position(|(_, s, _)| *s == GOING || *s == TODO))
        .flatten();
    steps
        .into_iter()
        .enumerate()
        .map(|(i, (name, (state, class), detail))| Step {
            name,
            state: if Some(i) == current && state == TODO.0 {
                "Next"
            } else {
                state
            },
            class,
            detail,
            current: Some(i) == current,
        })
        .collect()
}

fn count_text(n: usize, what: &str, first: NaiveDate) -> String {
    format!(
        "{n} {what}{} held, first on {}",
        if n == 1 { "" } else { "s" },
        format::date(first)
    )
}

fn prescription(chart: &ChartRow) -> Vec<Field> {
    let Some(rx) = &chart.prescription else {
        return Vec::new();
    };
    let f = |label: &str, value: String| Field {
        label: label.to_owned(),
        value,
    };
    let mut out = vec![
        f(
            "Prescription",
            format!("{} by {}", rx.prescription, rx.prescriber),
        ),
        f(
            "Valid",
            format!(
                "{} to {}",
                format::date(rx.valid_from),
                format::date(rx.valid_until)
            ),
        ),
        f(
            "Dose range",
            format!(
                "{}–{} mg, starting at {} mg, changes of at most {} mg",
                rx.min_mg, rx.max_mg, rx.starting_mg, rx.max_step_mg
            ),
        ),
        f(
            "Ordered for the next exploration",
            format!("{} mg", rx.ordered_mg),
        ),
        f(
            "Sessions",
            format!(
                "{} of {} authorized used",
                rx.used_sessions, rx.authorized_sessions
            ),
        ),
    ];
    if let Some(s) = &rx.supersedes {
        out.push(f("Replaces", s.clone()));
    }
    out
}

fn explorations(
    entries: &[(EntryRow, Option<NaiveDate>)],
    viewer: &Viewer,
) -> Vec<ExplorationLine> {
    let tz = viewer.tz;
    entries
        .iter()
        .filter(|(e, _)| e.event_type == "ExplorationRecorded")
        .filter_map(|(e, _)| {
            let c: ExplorationContent = serde_json::from_value(e.content.clone()).ok()?;
            let a = c.administration.unwrap_or_default();
            let dosed = a.dose.is_some();
            Some(ExplorationLine {
                sequence: e.sequence,
                date: format::date(format::local_day(c.span.start, tz)),
                session: c.session,
                dose: match (a.dose, &c.not_dosed_reason) {
                    (Some(mg), _) => format!("{mg} mg"),
                    (None, Some(why)) => format!("Not dosed: {why}"),
                    (None, None) => "Not dosed".to_owned(),
                },
                lot: a.lot_number.unwrap_or_else(|| "—".to_owned()),
                given: match (a.route, a.given_at.filter(|_| dosed)) {
                    (Some(route), Some(at)) => {
                        format!("{}, {}", format::words(&route), format::time(at, tz))
                    }
                    _ => "—".to_owned(),
                },
                bp_before: c.bp_before.to_string(),
                bp_above: c.bp_before.is_above(viewer.threshold),
                bp_after: c.bp_after.to_string(),
                observations: c.observations,
                adverse: c
                    .adverse_events
                    .iter()
                    .map(|a| {
                        format!(
                            "{} ({})",
                            a.description,
                            format::words(&a.severity).to_lowercase()
                        )
                    })
                    .collect(),
                discharge: match (c.discharged_at, c.departure) {
                    (Some(at), Some(how)) => format!(
                        "{}, {}",
                        format::time(at, tz),
                        format::words(&how).to_lowercase()
                    ),
                    (Some(at), None) => format::time(at, tz),
                    (None, Some(how)) => format::words(&how),
                    (None, None) => "—".to_owned(),
                },
                overrides: e.overrides.iter().map(override_text).collect(),
                amendments: amendment_lines(&e.amendments, tz),
            })
        })
        .collect()
}

fn integrations(
    entries: &[(EntryRow, Option<NaiveDate>)],
    chart: &ChartRow,
    viewer: &Viewer,
) -> Vec<IntegrationLine> {
    let tz = viewer.tz;
    entries
        .iter()
        .filter(|(e, _)| e.event_type == "IntegrationRecorded")
        .filter_map(|(e, _)| {
            let c: IntegrationContent = serde_json::from_value(e.content.clone()).ok()?;
            let explored = chart
                .sessions
                .iter()
                .find(|s| s.session == c.exploration)
                .map(|s| s.date);
            Some(IntegrationLine {
                sequence: e.sequence,
                date: format::date(format::local_day(c.span.start, tz)),
                session: c.session,
                days_after: explored.map_or_else(
                    || "—".to_owned(),
                    |d| {
                        (format::local_day(c.span.start, tz) - d)
                            .num_days()
                            .to_string()
                    },
                ),
                exploration: c.exploration,
                notes: c.notes,
                overrides: e.overrides.iter().map(override_text).collect(),
                amendments: amendment_lines(&e.amendments, tz),
            })
        })
        .collect()
}

/// The dosed exploration waiting for its integration, from the entries
/// (the chart page has no progress row): the first dosed exploration that
/// no integration names, due its day plus the integration window.
pub(super) fn pending_integration(
    entries: &[(EntryRow, Option<NaiveDate>)],
    window_days: u16,
) -> Option<PendingIntegration> {
    let integrated: Vec<String> = entries
        .iter()
        .filter(|(e, _)| e.event_type == "IntegrationRecorded")
        .filter_map(|(e, _)| e.content.get("exploration")?.as_str().map(str::to_owned))
        .collect();
    entries
        .iter()
        .filter(|(e, _)| e.event_type == "ExplorationRecorded")
        .filter_map(|(e, day)| {
            serde_json::from_value::<ExplorationContent>(e.content.clone())
                .ok()
                .map(|c| (c, *day))
        })
        .find(|(c, _)| {
            c.administration.as_ref().is_some_and(|a| a.dose.is_some())
                && !integrated.contains(&c.session)
        })
        .map(|(c, day)| PendingIntegration {
            // The entry's day: the exploration's local date.
            due_by: day.map(|d| d + Duration::days(i64::from(window_days))),
            exploration: c.session,
        })
}

fn scores_by_instrument(chart: &ChartRow) -> BTreeMap<&'static str, Vec<Score>> {
    let mut out: BTreeMap<&'static str, Vec<Score>> = BTreeMap::new();
    for m in &chart.outcome_measures {
        if let Some(i) = instrument(&m.instrument) {
            out.entry(i.code).or_default().push(Score {
                on: m.administered_on,
                sequence: m.stamp.sequence,
                score: m.score,
            });
        }
    }
    out
}

fn outcome_summary(chart: &ChartRow) -> Vec<OutcomeSummary> {
    let by = scores_by_instrument(chart);
    INSTRUMENTS
        .iter()
        .filter_map(|i| {
            let c = change_from_baseline(by.get(i.code)?)?;
            let score_text = |s: &Score| {
                format!(
                    "{} ({}) on {}",
                    s.score,
                    i.band_of(s.score).label,
                    format::date(s.on)
                )
            };
            Some(OutcomeSummary {
                name: i.name,
                count: c.count,
                baseline: score_text(&c.baseline),
                latest: score_text(&c.latest),
                change: signed(i32::from(c.change)),
                percent: c
                    .percent
                    .map_or_else(|| "—".to_owned(), |p| format!("{}%", signed(p))),
            })
        })
        .collect()
}

fn plots(chart: &ChartRow) -> Vec<PlotView> {
    let by = scores_by_instrument(chart);
    let days = chart.outcome_measures.iter().map(|m| m.administered_on);
    let (Some(first), Some(last)) = (days.clone().min(), days.max()) else {
        return Vec::new();
    };
    INSTRUMENTS
        .iter()
        .filter_map(|i| {
            let scores = by.get(i.code)?;
            Some(PlotView {
                name: i.name,
                svg: plot::plot(i, scores, (first, last), &format!("plot-{}", i.code)),
            })
        })
        .collect()
}

fn outcomes(chart: &ChartRow, tz: Tz) -> Vec<OutcomeLine> {
    let mut lines: Vec<OutcomeLine> = chart
        .outcome_measures
        .iter()
        .filter_map(|m| {
            let i = instrument(&m.instrument)?;
            Some(OutcomeLine {
                sequence: m.stamp.sequence,
                date: format::date(m.administered_on),
                name: i.name,
                score: m.score,
                max: i.max,
                band: i.band_of(m.score).label,
                amendments: amendment_lines(&m.stamp.amendments, tz),
            })
        })
        .collect();
    lines.sort_by_key(|l| l.sequence);
    lines
}

fn sessions(client: &str, chart: &ChartRow, viewer: &Viewer) -> Vec<SessionLine> {
    let tz = viewer.tz;
    chart
        .sessions
        .iter()
        .map(|s| SessionLine {
            date: format::date(format::local_day(s.start, tz)),
            time: format::span(s.start, s.end, tz),
            kind: format::words(&format::code(&s.kind)),
            status: format::words(&format::code(&s.status)),
            therapist: s.therapist.clone(),
            actions: if viewer.current
                && viewer.role == Role::Therapist
                && s.status == SessionStatus::Scheduled
            {
                actions::session_actions(client, &s.session, s.kind, s.start, None, tz)
            } else {
                Vec::new()
            },
        })
        .collect()
}

fn entry_views(
    client: &str,
    entries: &[(EntryRow, Option<NaiveDate>)],
    viewer: &Viewer,
) -> Vec<EntryView> {
    let tz = viewer.tz;
    entries
        .iter()
        .map(|(e, day)| EntryView {
            sequence: e.sequence,
            title: format::event_words(&e.event_type),
            day: day.map(format::date).unwrap_or_default(),
            recorded_at: format::date_time(e.recorded_at, tz),
            actor: e.actor.clone(),
            role: role_name(e.role),
            policy_version: e.policy_version,
            overrides: e.overrides.iter().map(override_text).collect(),
            fields: format::content_fields(&e.content, tz),
            amends: e.amends,
            amendments: amendment_lines(&e.amendments, tz),
            amend: (viewer.current && actions::may_amend(viewer.role, &e.event_type)).then(|| {
                actions::form(
                    format!("Amend entry #{}", e.sequence),
                    "amend-entry",
                    client,
                    &[("sequence", &e.sequence.to_string())],
                )
            }),
        })
        .collect()
}
