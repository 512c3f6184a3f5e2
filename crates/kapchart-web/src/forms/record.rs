//! The forms of ongoing care and of the record as a whole: outcome
//! measures, ongoing care, external treatment, cancellations, no-shows,
//! payments, amendments and discharge.

use kapchart_domain::input::{MAX_DOSE_MG, MAX_ENTRY};
use kapchart_domain::{BdiIiScore, Gad7Score, Pcl5Score, Phq9Score};

use super::spec::{Field, Kind, Spec, notes, span_field};

const DOSE_MAX: i64 = MAX_DOSE_MG as i64;

/// The highest score of any instrument (the domain checks each one's own).
pub(crate) const SCORE_MAX: i64 = {
    let mut max = Phq9Score::MAX;
    if Gad7Score::MAX > max {
        max = Gad7Score::MAX;
    }
    if Pcl5Score::MAX > max {
        max = Pcl5Score::MAX;
    }
    if BdiIiScore::MAX > max {
        max = BdiIiScore::MAX;
    }
    max as i64
};

/// The hint of the score field: each instrument's published range.
pub(crate) const SCORE_HINT: &str = "PHQ-9 0–27, GAD-7 0–21, PCL-5 0–80, BDI-II 0–63.";

/// A session of the client's, by id.
const fn a_session(hint: &'static str, required: bool) -> Field {
    Field {
        name: "session",
        path: "session",
        label: "Session id",
        hint,
        kind: Kind::Id,
        required,
    }
}

/// The forms of this part.
pub(crate) const SPECS: &[Spec] = &[
    Spec {
        segment: "record-outcome-measure",
        command: "RecordOutcomeMeasure",
        title: "Record an outcome measure",
        intro: "A PHQ-9, GAD-7, PCL-5 or BDI-II total score.",
        sections: &[],
        fields: &[
            Field {
                name: "instrument",
                path: "measure.instrument",
                label: "Instrument",
                hint: "",
                kind: Kind::Select(&[
                    ("phq9", "PHQ-9 (depression)"),
                    ("gad7", "GAD-7 (anxiety)"),
                    ("pcl5", "PCL-5 (PTSD)"),
                    ("bdi_ii", "BDI-II (depression)"),
                ]),
                required: true,
            },
            Field {
                name: "score",
                path: "measure.score",
                label: "Total score",
                hint: SCORE_HINT,
                kind: Kind::Int {
                    min: 0,
                    max: SCORE_MAX,
                },
                required: true,
            },
            Field {
                name: "administered_on",
                path: "administered_on",
                label: "Administered on",
                hint: "",
                kind: Kind::Date { today: true },
                required: true,
            },
        ],
    },
    Spec {
        segment: "record-ongoing-care",
        command: "RecordOngoingCare",
        title: "Record an ongoing care session",
        intro: "Ongoing care after the protocol, until discharge.",
        sections: &[],
        fields: &[
            Field {
                name: "session",
                path: "session",
                label: "Session id",
                hint: "",
                kind: Kind::NewId("care"),
                required: true,
            },
            span_field(
                60,
                "Held in the practice's time zone; recorded once it has ended.",
            ),
            notes("notes", "Notes", true),
        ],
    },
    Spec {
        segment: "record-external-treatment",
        command: "RecordExternalTreatment",
        title: "Record an external treatment",
        intro: "IV or IM ketamine at an affiliate: never an in-practice dose, and no dose rules apply.",
        sections: &[],
        fields: &[
            Field {
                name: "treated_on",
                path: "treated_on",
                label: "Treated on",
                hint: "",
                kind: Kind::Date { today: true },
                required: true,
            },
            Field {
                name: "provider",
                path: "provider",
                label: "Affiliate provider",
                hint: "",
                kind: Kind::Line,
                required: true,
            },
            Field {
                name: "route",
                path: "route",
                label: "Route",
                hint: "",
                kind: Kind::Select(&[
                    ("intravenous", "Intravenous (IV)"),
                    ("intramuscular", "Intramuscular (IM)"),
                    ("sublingual", "Sublingual"),
                ]),
                required: true,
            },
            Field {
                name: "dose",
                path: "dose",
                label: "Dose (mg)",
                hint: "If the affiliate reported it.",
                kind: Kind::Int {
                    min: 1,
                    max: DOSE_MAX,
                },
                required: false,
            },
            notes("notes", "Notes", true),
        ],
    },
    Spec {
        segment: "cancel-session",
        command: "CancelSession",
        title: "Cancel a session",
        intro: "Cancels a booked session.",
        sections: &[],
        fields: &[
            a_session("The booked session.", true),
            Field {
                name: "reason",
                path: "reason",
                label: "Reason",
                hint: "",
                kind: Kind::Select(&[
                    ("client_request", "The client asked"),
                    ("practice", "The practice (therapist unavailable, ...)"),
                    ("clinical", "A clinical reason"),
                ]),
                required: true,
            },
            notes("note", "Details", false),
        ],
    },
    Spec {
        segment: "record-no-show",
        command: "RecordNoShow",
        title: "Record a no-show",
        intro: "The client did not attend a booked session (recorded once it has started).",
        sections: &[],
        fields: &[a_session("The booked session.", true)],
    },
    Spec {
        segment: "record-payment",
        command: "RecordPayment",
        title: "Record a payment",
        intro: "A payment received.",
        sections: &[],
        fields: &[
            Field {
                name: "payment",
                path: "payment",
                label: "Payment id",
                hint: "",
                kind: Kind::NewId("pay"),
                required: true,
            },
            Field {
                name: "amount",
                path: "amount",
                label: "Amount (US dollars)",
                hint: "Dollars and cents, like 175.00; at most 100,000.00.",
                kind: Kind::Money,
                required: true,
            },
            Field {
                name: "method",
                path: "method",
                label: "Method",
                hint: "",
                kind: Kind::Select(&[
                    ("card", "Card"),
                    ("cash", "Cash"),
                    ("check", "Check"),
                    ("bank_transfer", "Bank transfer"),
                ]),
                required: true,
            },
            Field {
                name: "payer",
                path: "payer",
                label: "Payer",
                hint: "",
                kind: Kind::Select(&[("client", "The client"), ("insurer", "An insurer")]),
                required: true,
            },
            Field {
                name: "received_on",
                path: "received_on",
                label: "Received on",
                hint: "",
                kind: Kind::Date { today: true },
                required: true,
            },
            a_session("The session it pays for, if any.", false),
        ],
    },
    Spec {
        segment: "amend-entry",
        command: "AmendEntry",
        title: "Amend an entry",
        intro: "Corrects an entry by appending an amendment: the original stays as it was, linked from the amendment.",
        sections: &[],
        fields: &[
            Field {
                name: "entry",
                path: "entry",
                label: "Entry number",
                hint: "The sequence number of the entry amended, as the record shows it.",
                kind: Kind::Int {
                    min: 1,
                    max: MAX_ENTRY as i64,
                },
                required: true,
            },
            notes("reason", "Why it is amended", true),
            notes("corrected_content", "Corrected content", true),
        ],
    },
    Spec {
        segment: "discharge-client",
        command: "DischargeClient",
        title: "Discharge the client",
        intro: "Ends care. Open booked sessions are cancelled with it; afterwards only amendments and payments are recorded.",
        sections: &[],
        fields: &[
            Field {
                name: "discharged_on",
                path: "discharged_on",
                label: "Discharged on",
                hint: "Not in the future.",
                kind: Kind::Date { today: true },
                required: true,
            },
            Field {
                name: "reason",
                path: "reason",
                label: "Reason",
                hint: "",
                kind: Kind::Select(&[
                    ("care_complete", "Protocol and ongoing care complete"),
                    ("client_choice", "The client chose to stop"),
                    ("not_suitable", "An assessment found KAP not suitable"),
                    ("referred_out", "Referred to another provider"),
                ]),
                required: true,
            },
            notes("summary", "Discharge summary", true),
        ],
    },
];
