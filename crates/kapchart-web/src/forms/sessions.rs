//! The forms of the preparation and protocol phases: booking and
//! recording preparation, exploration and integration sessions, and the
//! prescriber's dose adjustments and authorizations.

use kapchart_domain::Role;
use kapchart_domain::input::MAX_DOSE_MG;

use super::spec::{Field, Kind, Spec, notes, span_field};

const DOSE_MAX: i64 = MAX_DOSE_MG as i64;

/// The therapist a session is booked with.
const BOOKED_WITH: Field = Field {
    name: "therapist",
    path: "therapist",
    label: "Therapist",
    hint: "The therapist is not double-booked: a clash with another client's session is refused.",
    kind: Kind::Staff(Role::Therapist),
    required: true,
};

/// A new session id to book.
const fn new_session(prefix: &'static str) -> Field {
    Field {
        name: "session",
        path: "session",
        label: "Session id",
        hint: "",
        kind: Kind::NewId(prefix),
        required: true,
    }
}

/// The session a record holds: the booked one, or a new one.
const fn held_session(prefix: &'static str) -> Field {
    Field {
        name: "session",
        path: "session",
        label: "Session id",
        hint: "The booked session's id, or a new one for a session that was not booked.",
        kind: Kind::NewId(prefix),
        required: true,
    }
}

/// The exploration an integration belongs to.
const EXPLORATION: Field = Field {
    name: "exploration",
    path: "exploration",
    label: "Exploration session id",
    hint: "The exploration this integration follows.",
    kind: Kind::Id,
    required: true,
};

/// A blood pressure field.
const fn bp(name: &'static str, label: &'static str, hint: &'static str, required: bool) -> Field {
    Field {
        name,
        path: name,
        label,
        hint,
        kind: Kind::Bp,
        required,
    }
}

/// One adverse event slot (both fields optional: an empty slot is left out).
const fn adverse(
    description: &'static str,
    d_path: &'static str,
    severity: &'static str,
    s_path: &'static str,
    hint: &'static str,
) -> [Field; 2] {
    [
        Field {
            name: description,
            path: d_path,
            label: "What happened",
            hint,
            kind: Kind::Text,
            required: false,
        },
        Field {
            name: severity,
            path: s_path,
            label: "Severity",
            hint: "",
            kind: Kind::Select(&[
                ("mild", "Mild"),
                ("moderate", "Moderate"),
                ("severe", "Severe"),
            ]),
            required: false,
        },
    ]
}

const ADVERSE_1: [Field; 2] = adverse(
    "adverse_1",
    "adverse_events.0.description",
    "adverse_1_severity",
    "adverse_events.0.severity",
    "Leave empty if there was none.",
);
const ADVERSE_2: [Field; 2] = adverse(
    "adverse_2",
    "adverse_events.1.description",
    "adverse_2_severity",
    "adverse_events.1.severity",
    "Leave empty if there was no other.",
);

/// The forms of these phases.
pub(crate) const SPECS: &[Spec] = &[
    Spec {
        segment: "schedule-preparation",
        command: "SchedulePreparation",
        title: "Book a preparation session",
        intro: "At least one preparation session is held before the first exploration.",
        sections: &[],
        fields: &[
            new_session("prep"),
            span_field(60, "In the practice's time zone."),
            BOOKED_WITH,
        ],
    },
    Spec {
        segment: "record-preparation",
        command: "RecordPreparation",
        title: "Record a preparation session",
        intro: "Intentions, what to expect, and the aftercare plan.",
        sections: &[],
        fields: &[
            held_session("prep"),
            span_field(
                60,
                "Held in the practice's time zone; recorded once it has ended.",
            ),
            notes("intentions", "Intentions", true),
            notes("aftercare_plan", "Aftercare plan", true),
            notes("notes", "Notes", true),
        ],
    },
    Spec {
        segment: "schedule-exploration",
        command: "ScheduleExploration",
        title: "Book an exploration session",
        intro: "The exploration's hard stops (intake, medical clearance, consent, preparation, an active prescription with sessions left) apply to the session's date.",
        sections: &[],
        fields: &[
            new_session("x"),
            span_field(180, "In the practice's time zone."),
            BOOKED_WITH,
        ],
    },
    Spec {
        segment: "record-exploration",
        command: "RecordExploration",
        title: "Record an exploration session",
        intro: "The dosing record: the dose within the prescription's range and step, blood pressure before and after, observations, adverse events, discharge and how the client went home.",
        sections: &[
            ("drug", "given_at", "Dose given"),
            ("adverse_1", "adverse_1_severity", "Adverse event"),
            ("adverse_2", "adverse_2_severity", "Another adverse event"),
        ],
        fields: &[
            held_session("x"),
            span_field(
                180,
                "Arrival to discharge, in the practice's time zone; recorded once it has ended.",
            ),
            Field {
                name: "drug",
                path: "administration.drug",
                label: "Drug",
                hint: "",
                kind: Kind::Select(&[("ketamine", "Ketamine")]),
                required: false,
            },
            Field {
                name: "route",
                path: "administration.route",
                label: "Route",
                hint: "In-practice doses are sublingual; IV and IM at an affiliate are recorded as external treatment.",
                kind: Kind::Select(&[("sublingual", "Sublingual lozenge")]),
                required: false,
            },
            Field {
                name: "dose",
                path: "administration.dose",
                label: "Dose (mg)",
                hint: "Whole milligrams, within the prescription. Leave empty if no dose was given, and say why below.",
                kind: Kind::Int {
                    min: 1,
                    max: DOSE_MAX,
                },
                required: false,
            },
            Field {
                name: "lot_number",
                path: "administration.lot_number",
                label: "Lot number",
                hint: "Letters, digits and hyphens.",
                kind: Kind::Line,
                required: false,
            },
            Field {
                name: "given_at",
                path: "administration.given_at",
                label: "Time given",
                hint: "Within the session.",
                kind: Kind::TimeOf { span: "span" },
                required: false,
            },
            notes("not_dosed_reason", "Why no dose was given", false),
            bp(
                "bp_before",
                "Blood pressure before dosing",
                "Above the practice's threshold a dose needs the prescriber's authorization.",
                true,
            ),
            bp("bp_after", "Blood pressure after", "", true),
            notes("observations", "Observations", true),
            ADVERSE_1[0],
            ADVERSE_1[1],
            ADVERSE_2[0],
            ADVERSE_2[1],
            Field {
                name: "discharged_at",
                path: "discharged_at",
                label: "Discharge time",
                hint: "After the dose, within the session.",
                kind: Kind::TimeOf { span: "span" },
                required: true,
            },
            Field {
                name: "departure",
                path: "departure",
                label: "How the client went home",
                hint: "Driving is not an option.",
                kind: Kind::Select(&[
                    ("companion", "Driven by a companion"),
                    ("taxi_or_rideshare", "Taxi or rideshare"),
                    ("public_transport", "Public transport"),
                    ("walked", "On foot"),
                ]),
                required: true,
            },
        ],
    },
    Spec {
        segment: "schedule-integration",
        command: "ScheduleIntegration",
        title: "Book an integration session",
        intro: "Integration follows each exploration.",
        sections: &[],
        fields: &[
            new_session("int"),
            span_field(60, "In the practice's time zone."),
            BOOKED_WITH,
            EXPLORATION,
        ],
    },
    Spec {
        segment: "record-integration",
        command: "RecordIntegration",
        title: "Record an integration session",
        intro: "Integration after an exploration, within the practice's window (or with an override reason).",
        sections: &[],
        fields: &[
            held_session("int"),
            span_field(
                60,
                "Held in the practice's time zone; recorded once it has ended.",
            ),
            EXPLORATION,
            notes("notes", "Notes", true),
        ],
    },
    Spec {
        segment: "adjust-dose",
        command: "AdjustDose",
        title: "Adjust the dose",
        intro: "The dose ordered for the next exploration, within the prescription's range and step.",
        sections: &[],
        fields: &[
            Field {
                name: "dose",
                path: "dose",
                label: "Dose (mg)",
                hint: "Whole milligrams.",
                kind: Kind::Int {
                    min: 1,
                    max: DOSE_MAX,
                },
                required: true,
            },
            notes("reason", "Reason", true),
        ],
    },
    Spec {
        segment: "authorize-override",
        command: "AuthorizeOverride",
        title: "Authorize an override",
        intro: "Authorizes one exploration session past a clinical safety rule (pre-dose blood pressure above the threshold). The therapist's record references it by its id; it is used once.",
        sections: &[],
        fields: &[
            Field {
                name: "authorization",
                path: "authorization",
                label: "Authorization id",
                hint: "Give it to the therapist: their override references it.",
                kind: Kind::NewId("auth"),
                required: true,
            },
            Field {
                name: "rule",
                path: "rule",
                label: "Rule",
                hint: "",
                kind: Kind::Select(super::spec::PRESCRIBER_RULES),
                required: true,
            },
            Field {
                name: "session",
                path: "session",
                label: "Exploration session id",
                hint: "A booked exploration, or the id it will be recorded under.",
                kind: Kind::Id,
                required: true,
            },
            Field {
                name: "valid_until",
                path: "valid_until",
                label: "Valid until",
                hint: "The last day it may be used; not in the past.",
                kind: Kind::Date { today: true },
                required: true,
            },
            bp(
                "ceiling",
                "Highest pre-dose blood pressure authorized",
                "Leave empty to authorize any reading.",
                false,
            ),
            notes("reason", "Clinical reason", true),
        ],
    },
];
