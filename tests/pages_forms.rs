//! The command forms (`/act/{segment}`) over real HTTP: one client
//! through the whole protocol by the forms alone, each step by the role
//! that does it (front desk, therapist, prescriber), including a
//! prescriber-authorized override, a resubmitted form applied once, an
//! amendment opened from a link with `return_to`, and the record holding
//! exactly what was typed (exact cents, times in UTC).

#[path = "pages_forms_common/mod.rs"]
mod common;

use common::*;
use kapchart_domain::Role;
use kapchart_e2e::api::ApiApp;
use kapchart_e2e::pages::PageClient;
use kapchart_e2e::*;

on_both_engines!(one_client_through_the_whole_protocol_by_the_forms);

const CLIENT_ID: &str = "c-forms";

/// A step of the protocol: who fills which form with what.
type Step<'a> = (&'a PageClient, &'a str, Vec<(&'a str, &'a str)>);

async fn one_client_through_the_whole_protocol_by_the_forms(url: &str) {
    let app = ApiApp::spawn(url).await;
    app.user("fd-jones", Role::FrontDesk).await;
    app.user("t-rivera", Role::Therapist).await;
    app.user("rx-chen", Role::Prescriber).await;
    // Sessions end after 15 idle minutes: the staff sign in again each day.
    let mut staff = on_day(&app, 0).await;
    let chart = format!("/clients/{CLIENT_ID}");
    let billing = format!("/clients/{CLIENT_ID}/billing");
    let c = CLIENT_ID;

    // Day 0: the front desk registers; the therapist takes the intake and
    // refers; the prescriber evaluates and prescribes; consent.
    let page = fill(
        &staff.desk,
        "register-client",
        c,
        &[
            ("name", "Alex Example"),
            ("date_of_birth", "1985-03-14"),
            ("therapist", "t-rivera"),
            ("prescriber", ""),
        ],
    )
    .await;
    recorded(&page, &format!("{billing}?done=register-client"));
    let steps: [Step; 5] = [
        (
            &staff.therapist,
            "record-intake",
            vec![
                ("session", "intake-1"),
                ("span_date", "2026-01-05"),
                ("span_start", "09:00"),
                ("span_end", "10:00"),
                ("finding", "suitable"),
                ("diagnoses", "F33.1, F41.1"),
                ("notes", "treatment-resistant depression"),
            ],
        ),
        (
            &staff.therapist,
            "refer-client",
            vec![
                ("prescriber", "rx-chen"),
                ("note", "medical evaluation please"),
            ],
        ),
        (
            &staff.prescriber,
            "record-medical-evaluation",
            vec![
                ("evaluated_on", "2026-01-05"),
                ("finding", "cleared"),
                ("notes", "no contraindications"),
            ],
        ),
        (
            &staff.prescriber,
            "issue-prescription",
            vec![
                ("prescription", "rx-1"),
                ("drug", "ketamine"),
                ("valid_from", "2026-01-01"),
                ("valid_until", "2026-12-31"),
                ("dose_min", "100"),
                ("dose_max", "300"),
                ("dose_starting", "150"),
                ("dose_max_step", "50"),
                ("authorized_sessions", "8"),
                ("instructions", "sublingual lozenge, hold 15 minutes"),
            ],
        ),
        (
            &staff.therapist,
            "record-consent",
            vec![
                ("signed_on", "2026-01-05"),
                ("form", "KAP informed consent v3"),
            ],
        ),
    ];
    for (browser, segment, fields) in &steps {
        let page = fill(browser, segment, c, fields).await;
        recorded(&page, &format!("{chart}?done={segment}"));
    }

    // The front desk books preparation sessions: one held, one cancelled,
    // one the client misses.
    for (session, day) in [
        ("prep-1", "2026-01-06"),
        ("prep-2", "2026-01-07"),
        ("prep-3", "2026-01-08"),
    ] {
        let page = fill(
            &staff.desk,
            "schedule-preparation",
            c,
            &[
                ("session", session),
                ("span_date", day),
                ("span_start", "10:00"),
                ("span_end", "11:00"),
                ("therapist", "t-rivera"),
            ],
        )
        .await;
        recorded(&page, &format!("{billing}?done=schedule-preparation"));
    }
    let page = fill(
        &staff.desk,
        "cancel-session",
        c,
        &[
            ("session", "prep-2"),
            ("reason", "client_request"),
            ("note", ""),
        ],
    )
    .await;
    recorded(&page, &format!("{billing}?done=cancel-session"));
    staff = on_day(&app, 1).await;
    let page = fill(
        &staff.therapist,
        "record-preparation",
        c,
        &[
            ("session", "prep-1"),
            ("span_date", "2026-01-06"),
            ("span_start", "10:00"),
            ("span_end", "11:00"),
            ("intentions", "reconnect with family"),
            ("aftercare_plan", "partner drives home; journaling"),
            ("notes", "discussed what to expect"),
        ],
    )
    .await;
    recorded(&page, &format!("{chart}?done=record-preparation"));
    staff = on_day(&app, 3).await;
    let page = fill(&staff.desk, "record-no-show", c, &[("session", "prep-3")]).await;
    recorded(&page, &format!("{billing}?done=record-no-show"));

    // The exploration: booked by the front desk, the dose adjusted and a
    // high blood pressure authorized by the prescriber.
    let page = fill(
        &staff.desk,
        "schedule-exploration",
        c,
        &[
            ("session", "x1"),
            ("span_date", "2026-01-12"),
            ("span_start", "10:00"),
            ("span_end", "13:00"),
            ("therapist", "t-rivera"),
        ],
    )
    .await;
    recorded(&page, &format!("{billing}?done=schedule-exploration"));
    let page = fill(
        &staff.prescriber,
        "adjust-dose",
        c,
        &[("dose", "175"), ("reason", "tolerates lozenges well")],
    )
    .await;
    recorded(&page, &format!("{chart}?done=adjust-dose"));
    let page = fill(
        &staff.prescriber,
        "authorize-override",
        c,
        &[
            ("authorization", "auth-1"),
            ("rule", "exploration.bp_above_threshold"),
            ("session", "x1"),
            ("valid_until", "2026-01-12"),
            ("ceiling_systolic", "160"),
            ("ceiling_diastolic", "100"),
            ("reason", "white-coat pattern; proceed below 160/100"),
        ],
    )
    .await;
    recorded(&page, &format!("{chart}?done=authorize-override"));

    // The therapist records it: the pre-dose blood pressure is above the
    // threshold, so the form comes back offering the prescriber's override.
    staff = on_day(&app, 7).await;
    let form = staff
        .therapist
        .get(&format!("/act/record-exploration?client={c}"))
        .await;
    let command_id = command_id_of(&form);
    let exploration: Vec<(&str, &str)> = vec![
        ("client_id", c),
        ("command_id", &command_id),
        ("session", "x1"),
        ("span_date", "2026-01-12"),
        ("span_start", "10:00"),
        ("span_end", "13:00"),
        ("drug", "ketamine"),
        ("route", "sublingual"),
        ("dose", "175"),
        ("lot_number", "L-2026-01"),
        ("given_at", "10:15"),
        ("not_dosed_reason", ""),
        ("bp_before_systolic", "150"),
        ("bp_before_diastolic", "95"),
        ("bp_after_systolic", "130"),
        ("bp_after_diastolic", "85"),
        ("observations", "calm, reflective"),
        ("adverse_1", "mild nausea at 11:00"),
        ("adverse_1_severity", "mild"),
        ("adverse_2", ""),
        ("adverse_2_severity", "mild"),
        ("discharged_at", "12:45"),
        ("departure", "companion"),
    ];
    let before = app.events().await;
    let page = staff
        .therapist
        .post("/act/record-exploration", &exploration)
        .await;
    assert_eq!(page.status, 422, "{}", page.html);
    page.shows("exploration.bp_above_threshold")
        .shows("name=\"override_rule\" value=\"exploration.bp_above_threshold\"")
        .shows("name=\"override_authorization\"")
        .shows("value=\"L-2026-01\"");
    assert_eq!(app.events().await, before, "a refusal writes nothing");
    // An authorization id the prescriber never gave: refused, named on
    // the override's field.
    let mut wrong = exploration.clone();
    wrong.extend_from_slice(&[
        ("override_rule", "exploration.bp_above_threshold"),
        ("override_reason", "rechecked after rest"),
        ("override_authorization", "auth-9"),
    ]);
    let page = staff
        .therapist
        .post("/act/record-exploration", &wrong)
        .await;
    assert_eq!(page.status, 422, "{}", page.html);
    page.shows("override.not_authorized")
        .shows("href=\"#f-override-authorization-0\"")
        .shows("value=\"auth-9\"")
        .shows(">rechecked after rest</textarea>");
    assert_eq!(app.events().await, before, "a refusal writes nothing");
    let mut with_override = exploration.clone();
    with_override.extend_from_slice(&[
        ("override_rule", "exploration.bp_above_threshold"),
        (
            "override_reason",
            "rechecked after rest; prescriber authorized",
        ),
        ("override_authorization", "auth-1"),
    ]);
    let page = staff
        .therapist
        .post("/act/record-exploration", &with_override)
        .await;
    recorded(&page, &format!("{chart}?done=record-exploration"));
    // The same form sent again is the same command: applied once.
    let page = staff
        .therapist
        .post("/act/record-exploration", &with_override)
        .await;
    recorded(&page, &format!("{chart}?done=record-exploration"));
    assert_eq!(
        app.events().await,
        before + 1,
        "a resubmission writes nothing"
    );

    // Integration, an outcome measure, ongoing care, a payment.
    let page = fill(
        &staff.desk,
        "schedule-integration",
        c,
        &[
            ("session", "int-1"),
            ("span_date", "2026-01-14"),
            ("span_start", "10:00"),
            ("span_end", "11:00"),
            ("therapist", "t-rivera"),
            ("exploration", "x1"),
        ],
    )
    .await;
    recorded(&page, &format!("{billing}?done=schedule-integration"));
    staff = on_day(&app, 9).await;
    let later: [Step; 3] = [
        (
            &staff.therapist,
            "record-integration",
            vec![
                ("session", "int-1"),
                ("span_date", "2026-01-14"),
                ("span_start", "10:00"),
                ("span_end", "11:00"),
                ("exploration", "x1"),
                ("notes", "integrating insights about grief"),
            ],
        ),
        (
            &staff.therapist,
            "record-outcome-measure",
            vec![
                ("instrument", "phq9"),
                ("score", "12"),
                ("administered_on", "2026-01-14"),
            ],
        ),
        (
            &staff.therapist,
            "record-external-treatment",
            vec![
                ("treated_on", "2026-01-13"),
                ("provider", "Affiliate Infusion Center"),
                ("route", "intravenous"),
                ("dose", "35"),
                ("notes", "IV at the affiliate"),
            ],
        ),
    ];
    for (browser, segment, fields) in &later {
        let page = fill(browser, segment, c, fields).await;
        recorded(&page, &format!("{chart}?done={segment}"));
    }
    staff = on_day(&app, 16).await;
    let page = fill(
        &staff.therapist,
        "record-ongoing-care",
        c,
        &[
            ("session", "care-1"),
            ("span_date", "2026-01-21"),
            ("span_start", "10:00"),
            ("span_end", "11:00"),
            ("notes", "maintenance; mood stable"),
        ],
    )
    .await;
    recorded(&page, &format!("{chart}?done=record-ongoing-care"));
    let page = fill(
        &staff.desk,
        "record-payment",
        c,
        &[
            ("payment", "pay-1"),
            ("amount", "$1,175.05"),
            ("method", "card"),
            ("payer", "client"),
            ("received_on", "2026-01-21"),
            ("session", "x1"),
        ],
    )
    .await;
    recorded(&page, &format!("{billing}?done=record-payment"));

    // An amendment of the exploration, opened from a link that names the
    // entry and where to go back to.
    let types = event_types(&app, c).await;
    let sequence = types
        .iter()
        .position(|t| t == "ExplorationRecorded")
        .expect("the exploration is recorded")
        + 1;
    let link = format!(
        "/act/amend-entry?client={c}&sequence={sequence}&return_to=/clients/{c}%3Ftab%3Ddosing"
    );
    let form = staff.therapist.get(&link).await;
    form.shows(&format!("name=\"entry\" value=\"{sequence}\""));
    let sequence_text = sequence.to_string();
    let command_id = command_id_of(&form);
    let page = staff
        .therapist
        .post(
            "/act/amend-entry",
            &[
                ("client_id", c),
                ("command_id", &command_id),
                ("return_to", &format!("/clients/{c}?tab=dosing")),
                ("entry", &sequence_text),
                ("reason", "transcription error"),
                (
                    "corrected_content",
                    "observations: calm, reflective; mild nausea at 11:00",
                ),
            ],
        )
        .await;
    recorded(&page, &format!("/clients/{c}?tab=dosing"));

    // Discharge.
    let page = fill(
        &staff.therapist,
        "discharge-client",
        c,
        &[
            ("discharged_on", "2026-01-21"),
            ("reason", "care_complete"),
            ("summary", "protocol complete; PHQ-9 down"),
        ],
    )
    .await;
    recorded(&page, &format!("{chart}?done=discharge-client"));

    let types = event_types(&app, c).await;
    assert_eq!(
        types,
        [
            "ClientRegistered",
            "IntakeRecorded",
            "ClientReferred",
            "MedicalEvaluationRecorded",
            "PrescriptionIssued",
            "ConsentRecorded",
            "SessionScheduled",
            "SessionScheduled",
            "SessionScheduled",
            "SessionCancelled",
            "PreparationRecorded",
            "NoShowRecorded",
            "SessionScheduled",
            "DoseAdjusted",
            "OverrideAuthorized",
            "ExplorationRecorded",
            "SessionScheduled",
            "IntegrationRecorded",
            "OutcomeMeasureRecorded",
            "ExternalTreatmentRecorded",
            "OngoingCareRecorded",
            "PaymentRecorded",
            "EntryAmended",
            "ClientDischarged",
        ]
    );
    // What the forms sent is what the record holds: the amount in exact
    // cents, the times in UTC, the override with its authorization.
    let payloads = event_texts(&app, c, "CAST(payload AS TEXT)").await;
    let payment = payloads
        .iter()
        .find(|p| p.contains("PaymentRecorded"))
        .expect("payment");
    assert!(payment.contains("117505"), "{payment}");
    let x = payloads
        .iter()
        .find(|p| p.contains("ExplorationRecorded"))
        .expect("exploration");
    assert!(x.contains("2026-01-12T10:15:00Z"), "{x}");
    assert!(x.contains("mild nausea at 11:00"), "{x}");
    app.stop().await;
}
