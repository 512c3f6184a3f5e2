//! One example request per command, in an order one client's record (or
//! the practice's) accepts them: docs/commands.md shows them, and the
//! end-to-end test `tests/api_command_examples.rs` posts every one to a
//! live server, each as its user, and expects 200.
//!
//! The staff they name are the test practice's accounts: `t-rivera` (the
//! client's therapist), `rx-chen` and `rx-patel` (prescribers), `fd-jones`
//! (front desk), `ad-root` (admin). Each is posted at its own time ([`Example::at`]): a
//! session is recorded after it ends, a date is not in the future, an
//! authorization not already expired.

use kapchart_domain::Role;
use serde_json::{Value, json};

/// The client every example is posted to.
pub const CLIENT: &str = "client-1";

/// One example request.
#[derive(Debug, Clone)]
pub struct Example {
    /// The command's name (the body's tag).
    pub command: &'static str,
    /// When it is posted (the server's clock), RFC 3339.
    pub at: &'static str,
    /// The user who posts it.
    pub user: &'static str,
    /// That user's role.
    pub role: Role,
    /// What it shows, in a sentence.
    pub note: &'static str,
    /// The request: `{"id": ..., "body": {command: {...}}}`, with
    /// `overrides` where it needs them.
    pub request: Value,
}

impl Example {
    /// The body's fields (the object under the command's name).
    pub fn fields(&self) -> &Value {
        &self.request["body"][self.command]
    }
}

fn example(
    command: &'static str,
    at: &'static str,
    user: &'static str,
    role: Role,
    note: &'static str,
    id: &str,
    fields: Value,
) -> Example {
    Example {
        command,
        at,
        user,
        role,
        note,
        request: json!({ "id": id, "body": { command: fields } }),
    }
}

/// Every command's example, in an order the record accepts.
pub fn examples() -> Vec<Example> {
    use Role::{FrontDesk, Prescriber, Therapist};
    let mut all = vec![
        example(
            "RegisterClient",
            "2026-01-05T08:00:00Z",
            "fd-jones",
            FrontDesk,
            "Opens the record; `client_id` must equal the path's `{id}`.",
            "cmd-001",
            json!({
                "client_id": CLIENT,
                "name": "Alex Example",
                "date_of_birth": "1985-03-14",
                "therapist": "t-rivera",
                "prescriber": "rx-patel"
            }),
        ),
        example(
            "ReferClient",
            "2026-01-05T08:30:00Z",
            "fd-jones",
            FrontDesk,
            "Refers the client to another prescriber than the one named at registration.",
            "cmd-002",
            json!({ "prescriber": "rx-chen", "note": "evaluation for KAP, please" }),
        ),
        example(
            "RecordIntake",
            "2026-01-05T10:30:00Z",
            "t-rivera",
            Therapist,
            "The intake, by the client's therapist.",
            "cmd-003",
            json!({
                "session": "intake-1",
                "span": { "start": "2026-01-05T09:00:00Z", "end": "2026-01-05T10:00:00Z" },
                "finding": "suitable",
                "diagnoses": ["F33.1"],
                "notes": "treatment-resistant depression; prior SSRIs"
            }),
        ),
        example(
            "RecordMedicalEvaluation",
            "2026-01-06T15:00:00Z",
            "rx-chen",
            Prescriber,
            "By the prescriber the client is referred to.",
            "cmd-004",
            json!({
                "evaluated_on": "2026-01-06",
                "finding": "cleared",
                "notes": "no contraindications found"
            }),
        ),
        example(
            "IssuePrescription",
            "2026-01-06T15:30:00Z",
            "rx-chen",
            Prescriber,
            "After medical clearance.",
            "cmd-005",
            json!({
                "prescription": "rx-1",
                "drug": "ketamine",
                "valid": { "from": "2026-01-06", "until": "2026-12-31" },
                "dosing": { "min": 100, "max": 300, "starting": 150, "max_step": 50 },
                "authorized_sessions": 8,
                "instructions": "sublingual lozenge, hold 15 minutes"
            }),
        ),
        example(
            "RecordConsent",
            "2026-01-07T09:00:00Z",
            "t-rivera",
            Therapist,
            "Signed informed consent.",
            "cmd-006",
            json!({ "signed_on": "2026-01-07", "form": "KAP informed consent v3" }),
        ),
        example(
            "SchedulePreparation",
            "2026-01-07T09:30:00Z",
            "fd-jones",
            FrontDesk,
            "Books a preparation session (cancelled below).",
            "cmd-007",
            json!({
                "session": "prep-1",
                "span": { "start": "2026-01-08T10:00:00Z", "end": "2026-01-08T11:00:00Z" },
                "therapist": "t-rivera"
            }),
        ),
        example(
            "CancelSession",
            "2026-01-07T17:00:00Z",
            "fd-jones",
            FrontDesk,
            "Cancels the booked preparation.",
            "cmd-008",
            json!({
                "session": "prep-1",
                "reason": "client_request",
                "note": "client is travelling that week"
            }),
        ),
        example(
            "RecordPreparation",
            "2026-01-09T11:30:00Z",
            "t-rivera",
            Therapist,
            "A preparation held without a booking: a new session id.",
            "cmd-009",
            json!({
                "session": "prep-2",
                "span": { "start": "2026-01-09T10:00:00Z", "end": "2026-01-09T11:00:00Z" },
                "intentions": "reconnect with family",
                "aftercare_plan": "partner drives home; journaling",
                "notes": "discussed what to expect"
            }),
        ),
        example(
            "ScheduleExploration",
            "2026-01-09T12:00:00Z",
            "fd-jones",
            FrontDesk,
            "Books the first exploration.",
            "cmd-010",
            json!({
                "session": "exp-1",
                "span": { "start": "2026-01-12T10:00:00Z", "end": "2026-01-12T13:00:00Z" },
                "therapist": "t-rivera"
            }),
        ),
        example(
            "AuthorizeOverride",
            "2026-01-11T16:00:00Z",
            "rx-chen",
            Prescriber,
            "The prescriber allows a pre-dose blood pressure up to 150/95 for that session.",
            "cmd-011",
            json!({
                "authorization": "auth-1",
                "rule": "exploration.bp_above_threshold",
                "session": "exp-1",
                "valid_until": "2026-01-12",
                "ceiling": { "systolic": 150, "diastolic": 95 },
                "reason": "asymptomatic, repeat reading lower after rest; proceed"
            }),
        ),
    ];
    let mut exploration = example(
        "RecordExploration",
        "2026-01-12T13:30:00Z",
        "t-rivera",
        Therapist,
        "The dose, given with a pre-dose reading above the practice's 140/90: the request's override names the prescriber's authorization.",
        "cmd-012",
        json!({
            "session": "exp-1",
            "span": { "start": "2026-01-12T10:00:00Z", "end": "2026-01-12T13:00:00Z" },
            "administration": {
                "drug": "ketamine",
                "route": "sublingual",
                "dose": 150,
                "lot_number": "L-2026-01",
                "given_at": "2026-01-12T10:15:00Z"
            },
            "bp_before": { "systolic": 146, "diastolic": 92 },
            "bp_after": { "systolic": 125, "diastolic": 82 },
            "observations": "calm, reflective; no distress",
            "adverse_events": [
                { "description": "mild nausea at 11:00, passed", "severity": "mild" }
            ],
            "discharged_at": "2026-01-12T12:45:00Z",
            "departure": "companion"
        }),
    );
    exploration.request["overrides"] = json!([{
        "rule": "exploration.bp_above_threshold",
        "reason": "prescriber reviewed; rechecked after rest",
        "authorization": "auth-1"
    }]);
    all.push(exploration);
    all.extend([
        example(
            "ScheduleIntegration",
            "2026-01-12T13:45:00Z",
            "fd-jones",
            FrontDesk,
            "Books the exploration's integration (the client then misses it).",
            "cmd-013",
            json!({
                "session": "int-1",
                "span": { "start": "2026-01-14T10:00:00Z", "end": "2026-01-14T11:00:00Z" },
                "therapist": "t-rivera",
                "exploration": "exp-1"
            }),
        ),
        example(
            "RecordNoShow",
            "2026-01-14T10:30:00Z",
            "fd-jones",
            FrontDesk,
            "The client missed the booked integration (it had started).",
            "cmd-014",
            json!({ "session": "int-1" }),
        ),
        example(
            "RecordIntegration",
            "2026-01-15T11:30:00Z",
            "t-rivera",
            Therapist,
            "The integration held the next day, under a new session id.",
            "cmd-015",
            json!({
                "session": "int-2",
                "span": { "start": "2026-01-15T10:00:00Z", "end": "2026-01-15T11:00:00Z" },
                "exploration": "exp-1",
                "notes": "integrating insights about grief"
            }),
        ),
        example(
            "AdjustDose",
            "2026-01-15T16:00:00Z",
            "rx-chen",
            Prescriber,
            "The next exploration's dose: within the prescription's bounds and step.",
            "cmd-016",
            json!({ "dose": 200, "reason": "tolerated well, modest effect" }),
        ),
        example(
            "RecordOutcomeMeasure",
            "2026-01-15T16:30:00Z",
            "t-rivera",
            Therapist,
            "A PHQ-9 total (`gad7` 0–21, `pcl5` 0–80, `bdi_ii` 0–63 alike).",
            "cmd-017",
            json!({
                "measure": { "instrument": "phq9", "score": 12 },
                "administered_on": "2026-01-15"
            }),
        ),
        example(
            "RecordOngoingCare",
            "2026-01-20T11:30:00Z",
            "t-rivera",
            Therapist,
            "Once the protocol has started.",
            "cmd-018",
            json!({
                "session": "care-1",
                "span": { "start": "2026-01-20T10:00:00Z", "end": "2026-01-20T11:00:00Z" },
                "notes": "maintenance; mood stable"
            }),
        ),
        example(
            "RecordExternalTreatment",
            "2026-01-22T09:00:00Z",
            "t-rivera",
            Therapist,
            "An IV treatment at an affiliate: recorded, never counted as a practice dose.",
            "cmd-019",
            json!({
                "treated_on": "2026-01-21",
                "provider": "Affiliate Infusion Center",
                "route": "intravenous",
                "dose": 35,
                "notes": "IV series at affiliate"
            }),
        ),
        example(
            "RecordPayment",
            "2026-01-22T09:30:00Z",
            "fd-jones",
            FrontDesk,
            "$175.00 by card for the exploration: amounts are whole cents.",
            "cmd-020",
            json!({
                "payment": "pay-1",
                "amount": 17500,
                "method": "card",
                "payer": "client",
                "received_on": "2026-01-12",
                "session": "exp-1"
            }),
        ),
        example(
            "AmendEntry",
            "2026-01-22T10:00:00Z",
            "t-rivera",
            Therapist,
            "Corrects the exploration (entry 12 of this record, as its history numbers it).",
            "cmd-021",
            json!({
                "entry": 12,
                "reason": "transcription error",
                "corrected_content": "observations: calm, reflective; mild nausea at 11:00"
            }),
        ),
        example(
            "DischargeClient",
            "2026-01-30T12:00:00Z",
            "t-rivera",
            Therapist,
            "Ends care.",
            "cmd-022",
            json!({
                "discharged_on": "2026-01-30",
                "reason": "care_complete",
                "summary": "protocol complete; PHQ-9 down from 19 to 12"
            }),
        ),
    ]);
    all
}

/// Every practice command's example (`POST /api/v1/practice/commands`, by
/// the admin `ad-root`), in an order the practice's record accepts.
pub fn practice_examples() -> Vec<Example> {
    let admin = |command, at, note, id, fields| {
        example(command, at, "ad-root", Role::Admin, note, id, fields)
    };
    let fee = |cents: u32, codes: &[&str]| json!({ "fee": cents, "codes": codes });
    vec![
        admin(
            "SetPracticeIdentity",
            "2026-01-02T09:00:00Z",
            "The superbills' header and the time zone the practice's days are counted in.",
            "practice-001",
            json!({
                "name": "Riverside KAP Clinic",
                "address": {
                    "line1": "100 Main Street",
                    "line2": "Suite 200",
                    "city": "Portland",
                    "state": "OR",
                    "zip": "97205"
                },
                "phone": "(503) 555-0142",
                "npi": "1234567893",
                "tax_id": "12-3456789",
                "place_of_service": "11",
                "time_zone": "America/Los_Angeles"
            }),
        ),
        admin(
            "SetProvider",
            "2026-01-02T09:05:00Z",
            "A therapist as a rendering provider (a staff account of that role).",
            "practice-002",
            json!({
                "user": "t-rivera",
                "role": "therapist",
                "name": "Jordan Rivera",
                "credentials": "LMFT",
                "npi": "1987654328",
                "licence": { "number": "LMFT-12345", "state": "OR" },
                "active": true
            }),
        ),
        admin(
            "AdoptPolicy",
            "2026-01-02T09:10:00Z",
            "A new policy version from February: integrations within 10 days.",
            "practice-003",
            json!({
                "effective_from": "2026-02-01T08:00:00Z",
                "bp_threshold": { "systolic": 140, "diastolic": 90 },
                "min_days_between_explorations": 7,
                "integration_window_days": 10,
                "max_explorations": 8,
                "idle_sign_out_minutes": 15
            }),
        ),
        admin(
            "AdoptFeeSchedule",
            "2026-01-02T09:15:00Z",
            "A new fee schedule for sessions from February, with each service's CPT codes.",
            "practice-004",
            json!({
                "effective_from": "2026-02-01",
                "intake": fee(25_000, &["90791"]),
                "preparation": fee(17_500, &["90837"]),
                "exploration": fee(45_000, &["90837", "0820T"]),
                "integration": fee(17_500, &["90837"]),
                "ongoing_care": fee(17_500, &["90837"])
            }),
        ),
    ]
}
