//! Links from the clinical pages to the forms (`/act/{segment}?client=ID`,
//! pre-filled by the query): what a session needs recorded, the forms a
//! role may use in a client's phase, and the protocol's next step.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use kapchart_domain::{Phase, Role, SessionKind};
use kapchart_views::{NextStep, ProgressRow};

use super::format;
use crate::page::form_path;

/// A link to a form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// What it says.
    pub label: String,
    /// Where it goes.
    pub href: String,
}

/// The form `segment` for `client`, pre-filled with `extra` fields.
pub fn form(label: impl Into<String>, segment: &str, client: &str, extra: &[(&str, &str)]) -> Link {
    let mut href = form_path(segment, client);
    if !extra.is_empty() {
        href.push('&');
        href.push_str(&serde_urlencoded::to_string(extra).unwrap_or_default());
    }
    Link {
        label: label.into(),
        href,
    }
}

/// The form that records a session of `kind` as held.
fn record_segment(kind: SessionKind) -> &'static str {
    match kind {
        SessionKind::Intake => "record-intake",
        SessionKind::Preparation => "record-preparation",
        SessionKind::Exploration => "record-exploration",
        SessionKind::Integration => "record-integration",
        SessionKind::OngoingCare => "record-ongoing-care",
    }
}

/// What a therapist may do with a booked session: record it as held
/// (pre-filled with its id, day and start; an integration also with the
/// exploration awaiting it), cancel it, or record a no-show.
pub fn session_actions(
    client: &str,
    session: &str,
    kind: SessionKind,
    start: DateTime<Utc>,
    integrates: Option<&str>,
    tz: Tz,
) -> Vec<Link> {
    let day = start.with_timezone(&tz).format("%Y-%m-%d").to_string();
    let time = format::time(start, tz);
    let mut fields = vec![("session", session), ("day", &day), ("time", &time)];
    if let Some(x) = integrates.filter(|_| kind == SessionKind::Integration) {
        fields.push(("exploration", x));
    }
    vec![
        form(
            format!(
                "Record {}",
                format::words(&format::code(&kind)).to_lowercase()
            ),
            record_segment(kind),
            client,
            &fields,
        ),
        form("Cancel", "cancel-session", client, &[("session", session)]),
        form("No-show", "record-no-show", client, &[("session", session)]),
    ]
}

/// The forms `role` may use for a client in `phase` (the record still
/// decides: a form shown here can be refused with the rule's reason).
pub fn phase_forms(role: Role, phase: Phase, client: &str) -> Vec<Link> {
    use Phase::{Assessment, Discharged, NotSuitable, OngoingCare, Preparation, Protocol};
    let f = |label: &str, segment: &str| form(label, segment, client, &[]);
    let mut out = Vec::new();
    match role {
        Role::Therapist => {
            if matches!(phase, Assessment | NotSuitable) {
                out.push(f("Record the intake", "record-intake"));
                out.push(f("Refer to a prescriber", "refer-client"));
            }
            if matches!(phase, Preparation | Protocol) {
                out.push(f("Record consent", "record-consent"));
                out.push(f("Book a preparation session", "schedule-preparation"));
                out.push(f("Record a preparation session", "record-preparation"));
                out.push(f("Book an exploration", "schedule-exploration"));
                out.push(f("Record an exploration", "record-exploration"));
            }
            if matches!(phase, Protocol | OngoingCare) {
                out.push(f("Book an integration", "schedule-integration"));
                out.push(f("Record an integration", "record-integration"));
                out.push(f("Record ongoing care", "record-ongoing-care"));
            }
            if phase != Discharged {
                out.push(f("Record an outcome measure", "record-outcome-measure"));
                if matches!(phase, Protocol | OngoingCare) {
                    out.push(f(
                        "Record treatment at an affiliate",
                        "record-external-treatment",
                    ));
                }
                out.push(f("Discharge", "discharge-client"));
            }
        }
        Role::Prescriber => {
            if matches!(phase, Assessment | NotSuitable) {
                out.push(f(
                    "Record the medical evaluation",
                    "record-medical-evaluation",
                ));
            }
            if matches!(phase, Preparation | Protocol | OngoingCare) {
                out.push(f("Issue a prescription", "issue-prescription"));
                out.push(f("Adjust the dose", "adjust-dose"));
                out.push(f("Authorize a BP override", "authorize-override"));
                out.push(f("Record consent", "record-consent"));
                out.push(f(
                    "Record treatment at an affiliate",
                    "record-external-treatment",
                ));
            }
            if phase != Discharged {
                out.push(f("Record an outcome measure", "record-outcome-measure"));
                out.push(f("Discharge", "discharge-client"));
            }
        }
        Role::FrontDesk | Role::Auditor | Role::Admin => return out,
    }
    out.push(f("Amend an entry", "amend-entry"));
    out
}

/// May `role` amend an entry of `event_type`? An amendment is made by the
/// roles that may record the amended entry (docs/domain.md); the record
/// decides.
pub fn may_amend(role: Role, event_type: &str) -> bool {
    let roles: &[Role] = match event_type {
        "ClientRegistered" | "ClientReferred" | "SessionScheduled" | "SessionCancelled"
        | "NoShowRecorded" => &[Role::Therapist, Role::FrontDesk],
        "IntakeRecorded"
        | "PreparationRecorded"
        | "ExplorationRecorded"
        | "IntegrationRecorded"
        | "OngoingCareRecorded" => &[Role::Therapist],
        "MedicalEvaluationRecorded"
        | "PrescriptionIssued"
        | "DoseAdjusted"
        | "OverrideAuthorized" => &[Role::Prescriber],
        "ConsentRecorded"
        | "OutcomeMeasureRecorded"
        | "ExternalTreatmentRecorded"
        | "ClientDischarged" => &[Role::Therapist, Role::Prescriber],
        "PaymentRecorded" => &[Role::FrontDesk],
        _ => &[],
    };
    roles.contains(&role)
}

/// The protocol's next step for a client in words, for `role`, with the
/// form that takes it when `role` takes it.
pub fn next_step(role: Role, progress: &ProgressRow, client: &str) -> (String, Option<Link>) {
    let mine = |segment: &str, label: &str, extra: &[(&str, &str)]| {
        Some(form(label, segment, client, extra))
    };
    let by_prescriber = |what: &str| match &progress.prescriber {
        Some(p) => format!("{what} (prescriber {p})"),
        None => format!("{what} (no prescriber referred yet)"),
    };
    let therapist = role == Role::Therapist;
    let prescriber = role == Role::Prescriber;
    match progress.next_due_step {
        NextStep::Intake => (
            "Intake".to_owned(),
            therapist
                .then(|| mine("record-intake", "Record the intake", &[]))
                .flatten(),
        ),
        NextStep::MedicalEvaluation => (
            by_prescriber("Medical evaluation"),
            if prescriber {
                mine("record-medical-evaluation", "Record the evaluation", &[])
            } else if progress.prescriber.is_none() {
                mine("refer-client", "Refer to a prescriber", &[])
            } else {
                None
            },
        ),
        NextStep::Reassessment => (
            "Reassessment (found not suitable)".to_owned(),
            if therapist {
                mine("record-intake", "Record a new intake", &[])
            } else {
                mine("record-medical-evaluation", "Record a new evaluation", &[])
            },
        ),
        NextStep::Prescription => (
            by_prescriber("Prescription"),
            prescriber
                .then(|| mine("issue-prescription", "Issue a prescription", &[]))
                .flatten(),
        ),
        NextStep::Consent => (
            "Informed consent".to_owned(),
            mine("record-consent", "Record consent", &[]),
        ),
        NextStep::Preparation => (
            "Preparation session".to_owned(),
            therapist
                .then(|| mine("schedule-preparation", "Book a preparation session", &[]))
                .flatten(),
        ),
        NextStep::Integration => {
            let x = progress.integration_pending_for.as_deref().unwrap_or("");
            let due = progress
                .integration_due_by
                .map(|d| format!(", due by {}", format::date(d)))
                .unwrap_or_default();
            (
                format!("Integration of {x}{due}"),
                therapist
                    .then(|| {
                        mine(
                            "schedule-integration",
                            "Book the integration",
                            &[("exploration", x)],
                        )
                    })
                    .flatten(),
            )
        }
        NextStep::Exploration => {
            let from = progress
                .next_exploration_from
                .map(|d| format!(", from {}", format::date(d)))
                .unwrap_or_default();
            (
                format!("Exploration{from}"),
                therapist
                    .then(|| mine("schedule-exploration", "Book an exploration", &[]))
                    .flatten(),
            )
        }
        NextStep::OngoingCare => (
            "Ongoing care".to_owned(),
            therapist
                .then(|| mine("record-ongoing-care", "Record ongoing care", &[]))
                .flatten(),
        ),
        NextStep::None => ("Nothing: discharged".to_owned(), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_links_to_its_forms_prefilled() {
        let start: DateTime<Utc> = "2026-09-07T13:00:00Z".parse().expect("t");
        let tz: Tz = "America/New_York".parse().expect("tz");
        let links = session_actions(
            "c-1",
            "integ-1",
            SessionKind::Integration,
            start,
            Some("expl-1"),
            tz,
        );
        assert_eq!(links[0].label, "Record integration");
        assert_eq!(
            links[0].href,
            "/act/record-integration?client=c-1&session=integ-1&day=2026-09-07&time=09%3A00&exploration=expl-1"
        );
        assert_eq!(
            links[1].href,
            "/act/cancel-session?client=c-1&session=integ-1"
        );
        assert_eq!(
            links[2].href,
            "/act/record-no-show?client=c-1&session=integ-1"
        );
    }

    #[test]
    fn forms_follow_the_role_and_the_phase() {
        let labels = |role, phase| -> Vec<String> {
            phase_forms(role, phase, "c-1")
                .into_iter()
                .map(|l| l.label)
                .collect()
        };
        let assessing = labels(Role::Therapist, Phase::Assessment);
        assert!(assessing.contains(&"Record the intake".to_owned()));
        assert!(!assessing.contains(&"Record an exploration".to_owned()));
        let protocol = labels(Role::Therapist, Phase::Protocol);
        assert!(protocol.contains(&"Record an exploration".to_owned()));
        assert!(protocol.contains(&"Record an integration".to_owned()));
        assert!(!protocol.contains(&"Issue a prescription".to_owned()));
        let rx = labels(Role::Prescriber, Phase::Protocol);
        assert!(rx.contains(&"Authorize a BP override".to_owned()));
        assert!(rx.contains(&"Adjust the dose".to_owned()));
        // Discharged: amendments only.
        assert_eq!(
            labels(Role::Therapist, Phase::Discharged),
            ["Amend an entry"]
        );
        assert!(labels(Role::Auditor, Phase::Protocol).is_empty());
    }
}
