//! The forms of the assessment phase: registration, referral, intake,
//! medical evaluation, prescription, consent.

use kapchart_domain::Role;
use kapchart_domain::input::MAX_DOSE_MG;

use super::spec::{Field, Kind, Spec, notes, span_field};

const DOSE_MAX: i64 = MAX_DOSE_MG as i64;

/// Dose fields of a prescription.
const fn dose_field(name: &'static str, path: &'static str, label: &'static str) -> Field {
    Field {
        name,
        path,
        label,
        hint: "Whole milligrams.",
        kind: Kind::Int {
            min: 1,
            max: DOSE_MAX,
        },
        required: true,
    }
}

/// The forms of this phase.
pub(crate) const SPECS: &[Spec] = &[
    Spec {
        segment: "register-client",
        command: "RegisterClient",
        title: "Register a client",
        intro: "Opens the client's record. A therapist registers clients to themselves.",
        sections: &[],
        fields: &[
            Field {
                name: "client_id",
                path: "client_id",
                label: "Client id",
                hint: "",
                kind: Kind::TheClient,
                required: true,
            },
            Field {
                name: "name",
                path: "name",
                label: "Legal name",
                hint: "",
                kind: Kind::Line,
                required: true,
            },
            Field {
                name: "date_of_birth",
                path: "date_of_birth",
                label: "Date of birth",
                hint: "",
                kind: Kind::Date { today: false },
                required: true,
            },
            Field {
                name: "therapist",
                path: "therapist",
                label: "Therapist",
                hint: "The client's KAP therapist.",
                kind: Kind::Staff(Role::Therapist),
                required: true,
            },
            Field {
                name: "prescriber",
                path: "prescriber",
                label: "Prescriber",
                hint: "The affiliated prescriber the client is referred to, if known yet.",
                kind: Kind::Staff(Role::Prescriber),
                required: false,
            },
        ],
    },
    Spec {
        segment: "record-intake",
        command: "RecordIntake",
        title: "Record the intake",
        intro: "The mental health intake with the KAP therapist.",
        sections: &[],
        fields: &[
            Field {
                name: "session",
                path: "session",
                label: "Session id",
                hint: "The booked session's id, or a new one.",
                kind: Kind::NewId("intake"),
                required: true,
            },
            span_field(
                60,
                "Held in the practice's time zone; recorded once it has ended.",
            ),
            Field {
                name: "finding",
                path: "finding",
                label: "Finding",
                hint: "KAP is not a first-line treatment.",
                kind: Kind::Select(&[
                    ("suitable", "Suitable for KAP"),
                    ("not_suitable", "Not suitable for KAP"),
                ]),
                required: true,
            },
            Field {
                name: "diagnoses",
                path: "diagnoses",
                label: "Diagnoses (ICD-10)",
                hint: "Codes such as F33.1, separated by commas.",
                kind: Kind::Codes,
                required: false,
            },
            notes("notes", "Notes", true),
        ],
    },
    Spec {
        segment: "refer-client",
        command: "ReferClient",
        title: "Refer to a prescriber",
        intro: "Refers the client to an affiliated prescriber, replacing any earlier referral.",
        sections: &[],
        fields: &[
            Field {
                name: "prescriber",
                path: "prescriber",
                label: "Prescriber",
                hint: "",
                kind: Kind::Staff(Role::Prescriber),
                required: true,
            },
            notes("note", "Note for the prescriber", false),
        ],
    },
    Spec {
        segment: "record-medical-evaluation",
        command: "RecordMedicalEvaluation",
        title: "Record the medical evaluation",
        intro: "The affiliated prescriber's medical evaluation.",
        sections: &[],
        fields: &[
            Field {
                name: "evaluated_on",
                path: "evaluated_on",
                label: "Evaluated on",
                hint: "Not in the future.",
                kind: Kind::Date { today: true },
                required: true,
            },
            Field {
                name: "finding",
                path: "finding",
                label: "Finding",
                hint: "",
                kind: Kind::Select(&[
                    ("cleared", "Medically cleared for ketamine"),
                    ("not_cleared", "Not cleared"),
                ]),
                required: true,
            },
            notes("notes", "Notes", true),
        ],
    },
    Spec {
        segment: "issue-prescription",
        command: "IssuePrescription",
        title: "Issue a prescription",
        intro: "A ketamine prescription; it supersedes the previous one. Doses given are held to its range and step.",
        sections: &[
            ("valid_from", "valid_until", "Days it covers"),
            ("dose_min", "dose_max_step", "Dosing"),
        ],
        fields: &[
            Field {
                name: "prescription",
                path: "prescription",
                label: "Prescription id",
                hint: "",
                kind: Kind::NewId("rx"),
                required: true,
            },
            Field {
                name: "drug",
                path: "drug",
                label: "Drug",
                hint: "",
                kind: Kind::Select(&[("ketamine", "Ketamine (sublingual lozenge)")]),
                required: true,
            },
            Field {
                name: "valid_from",
                path: "valid.from",
                label: "Valid from",
                hint: "",
                kind: Kind::Date { today: true },
                required: true,
            },
            Field {
                name: "valid_until",
                path: "valid.until",
                label: "Valid until",
                hint: "Not before the first day.",
                kind: Kind::Date { today: false },
                required: true,
            },
            dose_field("dose_min", "dosing.min", "Lowest dose (mg)"),
            dose_field("dose_max", "dosing.max", "Highest dose (mg)"),
            dose_field("dose_starting", "dosing.starting", "Starting dose (mg)"),
            dose_field(
                "dose_max_step",
                "dosing.max_step",
                "Largest change between doses (mg)",
            ),
            Field {
                name: "authorized_sessions",
                path: "authorized_sessions",
                label: "Exploration sessions authorized",
                hint: "1 to 52.",
                kind: Kind::Int { min: 1, max: 52 },
                required: true,
            },
            notes("instructions", "Instructions", true),
        ],
    },
    Spec {
        segment: "record-consent",
        command: "RecordConsent",
        title: "Record informed consent",
        intro: "Signed informed consent for KAP, required before any exploration.",
        sections: &[],
        fields: &[
            Field {
                name: "signed_on",
                path: "signed_on",
                label: "Signed on",
                hint: "Not in the future.",
                kind: Kind::Date { today: true },
                required: true,
            },
            Field {
                name: "form",
                path: "form",
                label: "Consent form",
                hint: "The form's title or version.",
                kind: Kind::Line,
                required: true,
            },
        ],
    },
];
