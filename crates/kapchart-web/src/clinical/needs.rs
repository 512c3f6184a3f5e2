//! What a client or a booked session needs, derived from what the list
//! and chart services return (the chart's current state and the protocol
//! progress) and the practice's policy: integrations due, the soft and
//! hard stops a dose would meet (spacing, protocol maximum, blood
//! pressure, prescription), outcome measures overdue, and the
//! prescriber's decisions. Pure functions; the record still decides every
//! command.

use chrono::{Duration, NaiveDate};
use kapchart_api::ClientSummary;
use kapchart_domain::{BloodPressure, Phase, Policy, SessionStatus};
use kapchart_views::ChartRow;

use super::actions::{Link, form};
use super::format;

/// Outcome measures are due this many days after the last one (a
/// practice convention of these pages, not a rule of the record).
pub const OUTCOME_EVERY_DAYS: i64 = 28;

/// Pre-dose blood pressure this close to the threshold (mmHg, systolic or
/// diastolic) is flagged as near it.
pub const BP_NEAR_SYSTOLIC: u16 = 10;
/// See [`BP_NEAR_SYSTOLIC`].
pub const BP_NEAR_DIASTOLIC: u16 = 5;

/// A prescription ending within this many days is flagged.
pub const PRESCRIPTION_ENDING_DAYS: i64 = 14;

/// How much a flag matters. Its words are shown with it, so nothing rests
/// on colour alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// The record would refuse: a hard stop.
    Stop,
    /// Allowed only with an override reason: a soft stop.
    Soft,
    /// Something due.
    Due,
    /// Worth knowing.
    Note,
}

/// Something a client or a session needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flag {
    /// How much it matters.
    pub level: Level,
    /// What, in words (ids, dates and numbers only).
    pub text: String,
    /// The form that deals with it, if one does.
    pub action: Option<Link>,
    /// What it is about ([`About`]), so a page can leave out a client's
    /// flag that a session's flag already says.
    pub about: About,
}

/// What a flag is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum About {
    /// An integration due.
    Integration,
    /// An outcome measure due.
    Outcome,
    /// The prescription.
    Prescription,
    /// Anything else.
    Other,
}

impl Flag {
    fn new(level: Level, text: impl Into<String>) -> Self {
        Flag {
            level,
            text: text.into(),
            action: None,
            about: About::Other,
        }
    }

    fn on(mut self, about: About) -> Self {
        self.about = about;
        self
    }

    fn with(mut self, action: Link) -> Self {
        self.action = Some(action);
        self
    }

    /// The level in words, shown before the text.
    pub fn prefix(&self) -> &'static str {
        match self.level {
            Level::Stop => "Hard stop",
            Level::Soft => "Soft stop",
            Level::Due => "Due",
            Level::Note => "Note",
        }
    }

    /// The CSS class of the level.
    pub fn class(&self) -> &'static str {
        match self.level {
            Level::Stop => "flag stop",
            Level::Soft => "flag soft",
            Level::Due => "flag due",
            Level::Note => "flag note",
        }
    }
}

/// True when `bp` is at or above the threshold less the margins of
/// [`BP_NEAR_SYSTOLIC`] and [`BP_NEAR_DIASTOLIC`], but not above it.
pub fn bp_near(bp: BloodPressure, threshold: BloodPressure) -> bool {
    !bp.is_above(threshold)
        && (bp.systolic() + BP_NEAR_SYSTOLIC > threshold.systolic()
            || bp.diastolic() + BP_NEAR_DIASTOLIC > threshold.diastolic())
}

/// The exploration waiting for its integration, if one is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingIntegration {
    /// The exploration session.
    pub exploration: String,
    /// The last day its integration is on time.
    pub due_by: Option<NaiveDate>,
}

/// A client as the flags see it: the chart's current state and the
/// integration pending, from the list service's progress row or from the
/// chart's entries.
#[derive(Debug, Clone)]
pub struct Subject<'a> {
    /// The client's id.
    pub client: &'a str,
    /// The chart's current state.
    pub chart: &'a ChartRow,
    /// The integration pending, if any.
    pub pending: Option<PendingIntegration>,
}

impl<'a> Subject<'a> {
    /// A client of a list.
    pub fn of(c: &'a ClientSummary) -> Self {
        Subject {
            client: c.client_id.as_str(),
            chart: &c.chart,
            pending: c.progress.integration_pending.then(|| PendingIntegration {
                exploration: c
                    .progress
                    .integration_pending_for
                    .clone()
                    .unwrap_or_default(),
                due_by: c.progress.integration_due_by,
            }),
        }
    }
}

fn is_active(phase: Phase) -> bool {
    matches!(
        phase,
        Phase::Preparation | Phase::Protocol | Phase::OngoingCare
    )
}

/// What a client needs now: an integration due or overdue, an outcome
/// measure overdue, a prescription used up or expired.
pub fn client_flags(c: &Subject<'_>, policy: &Policy, today: NaiveDate) -> Vec<Flag> {
    let client = c.client;
    let mut out = Vec::new();
    if let Some(p) = &c.pending {
        let x = p.exploration.as_str();
        let book = form(
            "Book the integration",
            "schedule-integration",
            client,
            &[("exploration", x)],
        );
        match p.due_by {
            Some(due) if today > due => out.push(
                Flag::new(
                    Level::Soft,
                    format!(
                        "Integration of {x} overdue since {}: the window is {} days; recording it now needs an override reason",
                        format::date(due),
                        policy.integration_window_days
                    ),
                )
                .with(book)
                .on(About::Integration),
            ),
            Some(due) => out.push(
                Flag::new(
                    Level::Due,
                    format!("Integration of {x} due by {}", format::date(due)),
                )
                .with(book)
                .on(About::Integration),
            ),
            None => out.push(
                Flag::new(Level::Due, format!("Integration of {x}"))
                    .with(book)
                    .on(About::Integration),
            ),
        }
    }
    if is_active(c.chart.phase) {
        let latest = c
            .chart
            .outcome_measures
            .iter()
            .map(|m| m.administered_on)
            .max();
        let measure = form(
            "Record an outcome measure",
            "record-outcome-measure",
            client,
            &[],
        );
        match latest {
            None => out.push(
                Flag::new(Level::Due, "No outcome measure on record")
                    .with(measure)
                    .on(About::Outcome),
            ),
            Some(last) if (today - last).num_days() > OUTCOME_EVERY_DAYS => out.push(
                Flag::new(
                    Level::Due,
                    format!(
                        "Outcome measure overdue: the last was on {} (every {} days)",
                        format::date(last),
                        OUTCOME_EVERY_DAYS
                    ),
                )
                .with(measure)
                .on(About::Outcome),
            ),
            Some(_) => {}
        }
    }
    if matches!(c.chart.phase, Phase::Preparation | Phase::Protocol)
        && let Some(rx) = &c.chart.prescription
    {
        if rx.valid_until < today {
            out.push(
                Flag::new(
                    Level::Stop,
                    format!(
                        "Prescription {} expired on {}: no exploration without a new one",
                        rx.prescription,
                        format::date(rx.valid_until)
                    ),
                )
                .on(About::Prescription),
            );
        } else if rx.used_sessions >= rx.authorized_sessions {
            out.push(
                Flag::new(
                    Level::Stop,
                    format!(
                        "Prescription {} has no authorized sessions left ({} of {} used)",
                        rx.prescription, rx.used_sessions, rx.authorized_sessions
                    ),
                )
                .on(About::Prescription),
            );
        }
    }
    out
}

/// What a booked exploration on `day` (its local date, as the rules count
/// days) would meet when dosed: the previous exploration not integrated,
/// the prescription, spacing, the protocol maximum, and blood pressure.
pub fn exploration_flags(
    c: &Subject<'_>,
    policy: &Policy,
    session: &str,
    day: NaiveDate,
) -> Vec<Flag> {
    let chart = c.chart;
    let client = c.client;
    let mut out = Vec::new();
    if let Some(p) = &c.pending {
        out.push(Flag::new(
            Level::Stop,
            format!(
                "Exploration {} is not integrated yet: record its integration before the next dose",
                p.exploration
            ),
        ));
    }
    match &chart.prescription {
        None => out.push(Flag::new(Level::Stop, "No prescription on record")),
        Some(rx) if day < rx.valid_from || day > rx.valid_until => out.push(Flag::new(
            Level::Stop,
            format!(
                "Prescription {} runs {} to {}: it does not cover this day",
                rx.prescription,
                format::date(rx.valid_from),
                format::date(rx.valid_until)
            ),
        )),
        Some(rx) if rx.used_sessions >= rx.authorized_sessions => out.push(Flag::new(
            Level::Stop,
            format!(
                "No authorized sessions left on prescription {} ({} of {} used)",
                rx.prescription, rx.used_sessions, rx.authorized_sessions
            ),
        )),
        Some(_) => {}
    }
    let earlier = chart
        .doses
        .iter()
        .filter(|d| d.session != session && d.date <= day)
        .map(|d| d.date)
        .max();
    if let Some(last) = earlier {
        let days = (day - last).num_days();
        let min = i64::from(policy.min_days_between_explorations);
        if days < min {
            out.push(Flag::new(
                Level::Soft,
                format!(
                    "{days} days after the last dose on {} (minimum {min}): dosing needs an override reason",
                    format::date(last)
                ),
            ));
        }
    }
    if chart.doses.len() >= usize::from(policy.max_explorations) {
        out.push(Flag::new(
            Level::Soft,
            format!(
                "{} explorations dosed: beyond the protocol maximum of {} dosing needs an override reason",
                chart.doses.len(),
                policy.max_explorations
            ),
        ));
    }
    let threshold = policy.bp_threshold;
    let authorized = chart
        .authorizations
        .iter()
        .find(|a| a.session == session && a.used_by.is_none());
    let last_bp = chart.blood_pressure.last();
    if let Some(a) = authorized {
        let ceiling = a
            .ceiling
            .map(|c| format!(", up to {c}"))
            .unwrap_or_default();
        out.push(Flag::new(
            Level::Note,
            format!(
                "Prescriber authorization {} on file for this session (BP above {threshold}{ceiling}, valid until {})",
                a.authorization,
                format::date(a.valid_until)
            ),
        ));
    } else if let Some(bp) = last_bp {
        if bp.before.is_above(threshold) {
            out.push(
                Flag::new(
                    Level::Stop,
                    format!(
                        "Last pre-dose BP {} (on {}) was above the threshold {threshold}: if it still is, the dose needs the prescriber's authorization",
                        bp.before,
                        format::date(bp.date)
                    ),
                )
                .with(form(
                    "Authorize (prescriber)",
                    "authorize-override",
                    client,
                    &[("session", session)],
                )),
            );
        } else if bp_near(bp.before, threshold) {
            out.push(Flag::new(
                Level::Note,
                format!(
                    "BP near the threshold: last pre-dose {} (on {}), threshold {threshold}",
                    bp.before,
                    format::date(bp.date)
                ),
            ));
        }
    }
    out
}

/// What a booked integration on `day` needs: the exploration it
/// integrates and whether it is inside the window.
pub fn integration_flags(c: &Subject<'_>, policy: &Policy, day: NaiveDate) -> Vec<Flag> {
    let Some(p) = &c.pending else {
        return Vec::new();
    };
    let x = p.exploration.as_str();
    match p.due_by {
        Some(due) if day > due => vec![Flag::new(
            Level::Soft,
            format!(
                "Integrates {x}: after the {}-day window (due by {}), recording it needs an override reason",
                policy.integration_window_days,
                format::date(due)
            ),
        )],
        Some(due) => vec![Flag::new(
            Level::Due,
            format!("Integrates {x}: due by {}", format::date(due)),
        )],
        None => vec![Flag::new(Level::Due, format!("Integrates {x}"))],
    }
}

/// The prescriber's decisions due for a client referred to them: the
/// medical evaluation, a prescription to issue or renew, sessions running
/// out, blood pressure authorizations for booked explorations, and
/// explorations recently left undosed.
pub fn prescriber_decisions(c: &Subject<'_>, policy: &Policy, today: NaiveDate) -> Vec<Flag> {
    let chart = c.chart;
    let client = c.client;
    let mut out = Vec::new();
    if chart.phase == Phase::Discharged {
        return out;
    }
    if chart.medical_evaluation.is_none() && chart.phase == Phase::Assessment {
        out.push(
            Flag::new(Level::Due, "Medical evaluation pending").with(form(
                "Record the evaluation",
                "record-medical-evaluation",
                client,
                &[],
            )),
        );
    }
    let issue = || form("Issue a prescription", "issue-prescription", client, &[]);
    let wants_doses = matches!(chart.phase, Phase::Preparation | Phase::Protocol);
    match &chart.prescription {
        None if wants_doses => {
            out.push(Flag::new(Level::Due, "Prescription to issue").with(issue()))
        }
        Some(rx) if wants_doses && rx.valid_until < today => out.push(
            Flag::new(
                Level::Due,
                format!(
                    "Prescription {} expired on {}",
                    rx.prescription,
                    format::date(rx.valid_until)
                ),
            )
            .with(issue()),
        ),
        Some(rx) if wants_doses => {
            let left = rx.authorized_sessions.saturating_sub(rx.used_sessions);
            let below_max = chart.doses.len() < usize::from(policy.max_explorations);
            if left <= 1 && below_max {
                out.push(
                    Flag::new(
                        Level::Due,
                        format!(
                            "Sessions running out: {left} of {} left on prescription {}",
                            rx.authorized_sessions, rx.prescription
                        ),
                    )
                    .with(issue()),
                );
            }
            if (rx.valid_until - today).num_days() <= PRESCRIPTION_ENDING_DAYS {
                out.push(
                    Flag::new(
                        Level::Due,
                        format!(
                            "Prescription {} ends on {}",
                            rx.prescription,
                            format::date(rx.valid_until)
                        ),
                    )
                    .with(issue()),
                );
            }
        }
        _ => {}
    }
    let threshold = policy.bp_threshold;
    let last_bp = chart.blood_pressure.last();
    for s in chart.sessions.iter().filter(|s| {
        s.status == SessionStatus::Scheduled
            && s.kind == kapchart_domain::SessionKind::Exploration
            && s.date >= today
    }) {
        let authorized = chart
            .authorizations
            .iter()
            .any(|a| a.session == s.session && a.used_by.is_none());
        if let Some(bp) = last_bp.filter(|bp| !authorized && bp.before.is_above(threshold)) {
            out.push(
                Flag::new(
                    Level::Due,
                    format!(
                        "BP authorization for {} on {}: the last pre-dose BP was {} (on {}), above {threshold}",
                        s.session,
                        format::date(s.date),
                        bp.before,
                        format::date(bp.date)
                    ),
                )
                .with(form(
                    "Authorize",
                    "authorize-override",
                    client,
                    &[("session", &s.session)],
                )),
            );
        }
    }
    let recent = today - Duration::days(PRESCRIPTION_ENDING_DAYS);
    for bp in chart
        .blood_pressure
        .iter()
        .filter(|bp| bp.date >= recent && !chart.doses.iter().any(|d| d.session == bp.session))
    {
        let why = if bp.before.is_above(threshold) {
            format!(", pre-dose BP {} above {threshold}", bp.before)
        } else {
            String::new()
        };
        out.push(
            Flag::new(
                Level::Due,
                format!(
                    "Exploration {} on {} was not dosed{why}: review before the next session",
                    bp.session,
                    format::date(bp.date)
                ),
            )
            .with(form("Adjust the dose", "adjust-dose", client, &[])),
        );
    }
    out
}

#[cfg(test)]
#[path = "needs_tests.rs"]
mod tests;
