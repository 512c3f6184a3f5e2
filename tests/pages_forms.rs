//! The command forms (`/act/{segment}`) over real HTTP: one client through
//! the whole protocol by the forms alone, each step by the role that does
//! it; refusals re-rendered with the rule's message and what was typed,
//! writing nothing; overrides of a soft stop and of the prescriber's rule;
//! a double booking; bad fields named; CSRF-less posts and other roles'
//! forms refused.

use kapchart_domain::{Role, Suitability};
use kapchart_e2e::api::{ApiApp, body};
use kapchart_e2e::pages::{Page, PageClient};
use kapchart_e2e::*;

on_both_engines!(
    one_client_through_the_whole_protocol_by_the_forms,
    a_refused_exploration_keeps_what_was_typed_and_writes_nothing,
    posts_without_the_csrf_token_or_by_another_role_are_refused,
);

/// Scenarios whose storage does not matter: SQLite only.
mod on_sqlite {
    macro_rules! sqlite_only {
        ($($name:ident),* $(,)?) => {$(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let db = kapchart_testkit::sqlite();
                super::$name(&db.url).await;
                db.cleanup().await;
            }
        )*};
    }
    sqlite_only!(
        a_soft_stop_is_passed_with_an_override_reason,
        a_double_booking_shows_the_clash,
        bad_fields_are_named_and_write_nothing,
        forms_open_pre_filled_from_their_links,
    );
}

const CLIENT_ID: &str = "c-forms";

/// The value of the hidden `command_id` of a rendered form.
fn command_id_of(page: &Page) -> String {
    let marker = "name=\"command_id\" value=\"";
    let start = page
        .html
        .find(marker)
        .unwrap_or_else(|| panic!("no command id in the page:\n{}", page.html))
        + marker.len();
    let end = page.html[start..].find('"').expect("closing quote") + start;
    page.html[start..end].to_owned()
}

/// Opens the form `segment` for `client` as a browser would, then posts
/// `fields` with the form's command id and the client.
async fn fill(browser: &PageClient, segment: &str, client: &str, fields: &[(&str, &str)]) -> Page {
    let form = browser
        .get(&format!("/act/{segment}?client={client}"))
        .await;
    assert_eq!(form.status, 200, "{segment}: {}", form.html);
    let command_id = command_id_of(&form);
    let mut all: Vec<(&str, &str)> = vec![("client_id", client), ("command_id", &command_id)];
    all.extend_from_slice(fields);
    browser.post(&format!("/act/{segment}"), &all).await
}

/// Asserts `page` is the redirect of a recorded command to `location`.
#[track_caller]
fn recorded(page: &Page, location: &str) {
    assert_eq!(page.status, 303, "not recorded:\n{}", page.html);
    assert_eq!(page.location.as_deref(), Some(location));
}

/// The front desk's, the therapist's and the prescriber's browsers,
/// signed in now.
async fn browsers(app: &ApiApp) -> (PageClient, PageClient, PageClient) {
    (
        app.browser("fd-jones", "payment").await,
        app.browser("t-rivera", "treatment").await,
        app.browser("rx-chen", "treatment").await,
    )
}

/// The client's event types, in order.
async fn event_types(app: &ApiApp, client: &str) -> Vec<String> {
    let sql =
        format!("SELECT event_type FROM events WHERE aggregate_id = '{client}' ORDER BY sequence");
    match &app.db {
        kapchart_store::Database::Postgres(pool) => sqlx::query_scalar(&sql).fetch_all(pool).await,
        kapchart_store::Database::Sqlite(pool) => sqlx::query_scalar(&sql).fetch_all(pool).await,
    }
    .expect("event types")
}

async fn one_client_through_the_whole_protocol_by_the_forms(url: &str) {
    let app = ApiApp::spawn(url).await;
    app.user("fd-jones", Role::FrontDesk).await;
    app.user("t-rivera", Role::Therapist).await;
    app.user("rx-chen", Role::Prescriber).await;
    // Sessions end after 15 idle minutes: the staff sign in again each day.
    let (mut desk, mut therapist, mut prescriber) = browsers(&app).await;
    let chart = format!("/clients/{CLIENT_ID}");
    let billing = format!("/clients/{CLIENT_ID}/billing");
    let c = CLIENT_ID;

    // Day 0: the front desk registers; the therapist takes the intake and
    // refers; the prescriber evaluates and prescribes; consent.
    app.on(0);
    let page = fill(
        &desk,
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
    let steps: [(&PageClient, &str, Vec<(&str, &str)>); 5] = [
        (
            &therapist,
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
            &therapist,
            "refer-client",
            vec![
                ("prescriber", "rx-chen"),
                ("note", "medical evaluation please"),
            ],
        ),
        (
            &prescriber,
            "record-medical-evaluation",
            vec![
                ("evaluated_on", "2026-01-05"),
                ("finding", "cleared"),
                ("notes", "no contraindications"),
            ],
        ),
        (
            &prescriber,
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
            &therapist,
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
            &desk,
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
        &desk,
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
    app.on(1);
    (desk, therapist, prescriber) = browsers(&app).await;
    let page = fill(
        &therapist,
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
    app.on(3);
    (desk, therapist, prescriber) = browsers(&app).await;
    let page = fill(&desk, "record-no-show", c, &[("session", "prep-3")]).await;
    recorded(&page, &format!("{billing}?done=record-no-show"));

    // The exploration: booked by the front desk, the dose adjusted and a
    // high blood pressure authorized by the prescriber.
    let page = fill(
        &desk,
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
        &prescriber,
        "adjust-dose",
        c,
        &[("dose", "175"), ("reason", "tolerates lozenges well")],
    )
    .await;
    recorded(&page, &format!("{chart}?done=adjust-dose"));
    let page = fill(
        &prescriber,
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
    app.on(7);
    (desk, therapist, prescriber) = browsers(&app).await;
    let form = therapist
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
    let page = therapist
        .post("/act/record-exploration", &exploration)
        .await;
    assert_eq!(page.status, 422, "{}", page.html);
    page.shows("exploration.bp_above_threshold")
        .shows("name=\"override_rule\" value=\"exploration.bp_above_threshold\"")
        .shows("name=\"override_authorization\"")
        .shows("value=\"L-2026-01\"");
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
    let page = therapist
        .post("/act/record-exploration", &with_override)
        .await;
    recorded(&page, &format!("{chart}?done=record-exploration"));
    // The same form sent again is the same command: applied once.
    let page = therapist
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
        &desk,
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
    app.on(9);
    (desk, therapist, prescriber) = browsers(&app).await;
    let later: [(&PageClient, &str, Vec<(&str, &str)>); 3] = [
        (
            &therapist,
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
            &therapist,
            "record-outcome-measure",
            vec![
                ("instrument", "phq9"),
                ("score", "12"),
                ("administered_on", "2026-01-14"),
            ],
        ),
        (
            &therapist,
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
    app.on(16);
    (desk, therapist, prescriber) = browsers(&app).await;
    let page = fill(
        &therapist,
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
        &desk,
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
    let form = therapist.get(&link).await;
    form.shows(&format!("name=\"entry\" value=\"{sequence}\""));
    let sequence_text = sequence.to_string();
    let command_id = command_id_of(&form);
    let page = therapist
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
        &therapist,
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
    let payloads = payloads(&app, c).await;
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

/// The payloads of the client's events as text, in order.
async fn payloads(app: &ApiApp, client: &str) -> Vec<String> {
    let sql = format!(
        "SELECT CAST(payload AS TEXT) FROM events WHERE aggregate_id = '{client}' ORDER BY sequence"
    );
    match &app.db {
        kapchart_store::Database::Postgres(pool) => sqlx::query_scalar(&sql).fetch_all(pool).await,
        kapchart_store::Database::Sqlite(pool) => sqlx::query_scalar(&sql).fetch_all(pool).await,
    }
    .expect("payloads")
}

/// Registers [`CLIENT`] (therapist t-rivera, prescriber rx-chen) through
/// the API and takes it through intake, clearance, prescription and
/// consent on day 0, with a preparation if `prepared`. Returns the
/// therapist's and the front desk's tokens.
async fn client_through_the_api(app: &ApiApp, prepared: bool) -> (String, String) {
    let t = app.user("t-rivera", Role::Therapist).await;
    let rx = app.user("rx-chen", Role::Prescriber).await;
    let fd = app.user("fd-jones", Role::FrontDesk).await;
    app.on(0);
    let mut steps = vec![
        (fd.as_str(), "s-1", body(register_client())),
        (
            t.as_str(),
            "s-2",
            body(intake("intake-1", span(0, 9, 10), Suitability::Suitable)),
        ),
        (
            rx.as_str(),
            "s-3",
            body(medical(date(0), kapchart_domain::Clearance::Cleared)),
        ),
        (rx.as_str(), "s-4", body(standard_prescription("rx-1"))),
        (t.as_str(), "s-5", body(consent(date(0)))),
    ];
    if prepared {
        steps.push((
            t.as_str(),
            "s-6",
            body(preparation("prep-1", span(0, 10, 11))),
        ));
    }
    app.commands_ok(CLIENT, &steps).await;
    (t, fd)
}

async fn a_refused_exploration_keeps_what_was_typed_and_writes_nothing(url: &str) {
    let app = ApiApp::spawn(url).await;
    client_through_the_api(&app, false).await;
    app.on(7);
    let therapist = app.browser("t-rivera", "treatment").await;
    let before = app.events().await;
    let page = fill(
        &therapist,
        "record-exploration",
        CLIENT,
        &[
            ("session", "x1"),
            ("span_date", "2026-01-12"),
            ("span_start", "10:00"),
            ("span_end", "13:00"),
            ("drug", "ketamine"),
            ("route", "sublingual"),
            ("dose", "150"),
            ("lot_number", "LOT-77-A"),
            ("given_at", "10:15"),
            ("bp_before_systolic", "122"),
            ("bp_before_diastolic", "81"),
            ("bp_after_systolic", "126"),
            ("bp_after_diastolic", "83"),
            ("observations", "typed observations stay"),
            ("discharged_at", "12:45"),
            ("departure", "taxi_or_rideshare"),
        ],
    )
    .await;
    assert_eq!(page.status, 422, "{}", page.html);
    page.shows("role=\"alert\"")
        .shows("Exploration needs at least one completed preparation session")
        .shows("exploration.no_preparation")
        .shows("value=\"LOT-77-A\"")
        .shows("value=\"150\"")
        .shows("value=\"122\"")
        .shows(">typed observations stay</textarea>")
        .shows("<option value=\"taxi_or_rideshare\" selected>")
        .hides("name=\"override_rule\"");
    assert_eq!(
        app.events().await,
        before,
        "a refused command writes nothing"
    );
    app.stop().await;
}

async fn a_soft_stop_is_passed_with_an_override_reason(url: &str) {
    let app = ApiApp::spawn(url).await;
    client_through_the_api(&app, true).await;
    let desk = app.browser("fd-jones", "payment").await;
    let book = |session: &'static str, day: &'static str| {
        vec![
            ("session", session),
            ("span_date", day),
            ("span_start", "10:00"),
            ("span_end", "13:00"),
            ("therapist", "t-rivera"),
        ]
    };
    let page = fill(
        &desk,
        "schedule-exploration",
        CLIENT,
        &book("x1", "2026-01-12"),
    )
    .await;
    recorded(
        &page,
        &format!("/clients/{CLIENT}/billing?done=schedule-exploration"),
    );

    // Three days later is too soon: refused, the override offered.
    let form = desk
        .get(&format!("/act/schedule-exploration?client={CLIENT}"))
        .await;
    let command_id = command_id_of(&form);
    let mut fields: Vec<(&str, &str)> = vec![("client_id", CLIENT), ("command_id", &command_id)];
    fields.extend(book("x2", "2026-01-15"));
    let before = app.events().await;
    let page = desk.post("/act/schedule-exploration", &fields).await;
    assert_eq!(page.status, 422, "{}", page.html);
    page.shows("exploration.too_soon")
        .shows("<legend>Override exploration.too_soon</legend>")
        .shows("name=\"override_reason\"")
        .shows("href=\"#f-override-reason-0\"")
        .hides("name=\"override_authorization\" value=\"\" required");
    // Sent without a reason: the reason is asked for, nothing written.
    let mut without_reason = fields.clone();
    without_reason.extend_from_slice(&[
        ("override_rule", "exploration.too_soon"),
        ("override_reason", "  "),
        ("override_authorization", ""),
    ]);
    let page = desk
        .post("/act/schedule-exploration", &without_reason)
        .await;
    assert_eq!(page.status, 400, "{}", page.html);
    page.shows("Give the reason for going past exploration.too_soon");
    assert_eq!(app.events().await, before);
    // With a reason: booked, the override on the event.
    let mut with_reason = fields.clone();
    with_reason.extend_from_slice(&[
        ("override_rule", "exploration.too_soon"),
        (
            "override_reason",
            "client travels next week; prescriber agrees",
        ),
        ("override_authorization", ""),
    ]);
    let page = desk.post("/act/schedule-exploration", &with_reason).await;
    recorded(
        &page,
        &format!("/clients/{CLIENT}/billing?done=schedule-exploration"),
    );
    assert_eq!(app.events().await, before + 1);
    let metadata = payloads_and_metadata(&app).await;
    assert!(
        metadata
            .iter()
            .any(|m| m.contains("exploration.too_soon") && m.contains("client travels next week")),
        "{metadata:?}"
    );
    app.stop().await;
}

/// Every event of [`CLIENT`] as text (payload and metadata).
async fn payloads_and_metadata(app: &ApiApp) -> Vec<String> {
    let sql = format!(
        "SELECT CAST(payload AS TEXT) || CAST(metadata AS TEXT) FROM events WHERE aggregate_id = '{CLIENT}' ORDER BY sequence"
    );
    match &app.db {
        kapchart_store::Database::Postgres(pool) => sqlx::query_scalar(&sql).fetch_all(pool).await,
        kapchart_store::Database::Sqlite(pool) => sqlx::query_scalar(&sql).fetch_all(pool).await,
    }
    .expect("events")
}

async fn a_double_booking_shows_the_clash(url: &str) {
    let app = ApiApp::spawn(url).await;
    let (t, fd) = client_through_the_api(&app, false).await;
    // A second client of the same therapist.
    let second = "client-2";
    let register = serde_json::json!({"RegisterClient": {
        "client_id": second, "name": "Sam Sample", "date_of_birth": "1990-02-02",
        "therapist": "t-rivera", "prescriber": null}});
    app.commands_ok(
        second,
        &[
            (fd.as_str(), "d-1", register),
            (
                t.as_str(),
                "d-2",
                body(intake("intake-9", span(0, 11, 12), Suitability::Suitable)),
            ),
        ],
    )
    .await;
    let desk = app.browser("fd-jones", "payment").await;
    let page = fill(
        &desk,
        "schedule-preparation",
        CLIENT,
        &[
            ("session", "prep-a"),
            ("span_date", "2026-01-06"),
            ("span_start", "10:00"),
            ("span_end", "11:00"),
            ("therapist", "t-rivera"),
        ],
    )
    .await;
    recorded(
        &page,
        &format!("/clients/{CLIENT}/billing?done=schedule-preparation"),
    );
    let before = app.events().await;
    let page = fill(
        &desk,
        "schedule-preparation",
        second,
        &[
            ("session", "prep-b"),
            ("span_date", "2026-01-06"),
            ("span_start", "10:30"),
            ("span_end", "11:30"),
            ("therapist", "t-rivera"),
        ],
    )
    .await;
    assert_eq!(page.status, 422, "{}", page.html);
    page.shows("Therapist t-rivera has another client")
        .shows("schedule.therapist_double_booked")
        .shows("href=\"#f-span-date\"")
        .shows("aria-invalid=\"true\"")
        .shows("value=\"10:30\"");
    assert_eq!(app.events().await, before);
    app.stop().await;
}

async fn bad_fields_are_named_and_write_nothing(url: &str) {
    let app = ApiApp::spawn(url).await;
    client_through_the_api(&app, true).await;
    let prescriber = app.browser("rx-chen", "treatment").await;
    let desk = app.browser("fd-jones", "payment").await;
    let before = app.events().await;

    // A dose that is not a number: named by the form.
    let page = fill(
        &prescriber,
        "adjust-dose",
        CLIENT,
        &[("dose", "abc"), ("reason", "r")],
    )
    .await;
    assert_eq!(page.status, 400, "{}", page.html);
    page.shows("href=\"#f-dose\">Dose (mg): Enter a whole number.")
        .shows("id=\"f-dose-error\"")
        .shows("aria-describedby=\"f-dose-hint f-dose-error\"")
        .shows("value=\"abc\"");
    // A dose past the domain's bound: named by the API's parser.
    let page = fill(
        &prescriber,
        "adjust-dose",
        CLIENT,
        &[("dose", "10001"), ("reason", "r")],
    )
    .await;
    assert_eq!(page.status, 400, "{}", page.html);
    page.shows("href=\"#f-dose\">Dose (mg):").shows("10000");
    // An amount with a fraction of a cent.
    let payment = |amount: &'static str| {
        vec![
            ("payment", "pay-1"),
            ("amount", amount),
            ("method", "card"),
            ("payer", "client"),
            ("received_on", "2026-01-05"),
            ("session", ""),
        ]
    };
    let page = fill(&desk, "record-payment", CLIENT, &payment("12.345")).await;
    assert_eq!(page.status, 400, "{}", page.html);
    page.shows("href=\"#f-amount\">Amount (US dollars): Enter an amount in dollars and cents")
        .shows("value=\"12.345\"");
    // Above the domain's maximum payment: the parser's message, on the field.
    let page = fill(&desk, "record-payment", CLIENT, &payment("100000.01")).await;
    assert_eq!(page.status, 400, "{}", page.html);
    page.shows("href=\"#f-amount\">Amount (US dollars):")
        .shows("10000001 cents");
    // A required field left empty, and a day that is not a date.
    let page = fill(
        &prescriber,
        "record-medical-evaluation",
        CLIENT,
        &[
            ("evaluated_on", "5 Jan"),
            ("finding", "cleared"),
            ("notes", ""),
        ],
    )
    .await;
    assert_eq!(page.status, 400, "{}", page.html);
    page.shows("Evaluated on: Enter a date as YYYY-MM-DD.")
        .shows("Notes: Enter notes.");
    // A bad client id.
    let form = desk.get("/act/record-payment").await;
    let command_id = command_id_of(&form);
    let mut fields = vec![
        ("client_id", "not a client!"),
        ("command_id", command_id.as_str()),
    ];
    fields.extend(payment("10.00"));
    let page = desk.post("/act/record-payment", &fields).await;
    assert_eq!(page.status, 400, "{}", page.html);
    page.shows("href=\"#f-client-id\">Client id:");
    assert_eq!(app.events().await, before, "bad input writes nothing");
    app.stop().await;
}

async fn posts_without_the_csrf_token_or_by_another_role_are_refused(url: &str) {
    let app = ApiApp::spawn(url).await;
    client_through_the_api(&app, true).await;
    let therapist = app.browser("t-rivera", "treatment").await;
    let before = app.events().await;
    let form = therapist
        .get(&format!("/act/record-consent?client={CLIENT}"))
        .await;
    let command_id = command_id_of(&form);
    let fields = [
        ("client_id", CLIENT),
        ("command_id", command_id.as_str()),
        ("signed_on", "2026-01-05"),
        ("form", "KAP informed consent v4"),
    ];
    // No token, and a wrong one.
    let page = therapist.post_raw("/act/record-consent", &fields).await;
    assert_eq!(page.status, 403, "{}", page.html);
    let mut forged = vec![("csrf", "not-the-token")];
    forged.extend_from_slice(&fields);
    let page = therapist.post_raw("/act/record-consent", &forged).await;
    assert_eq!(page.status, 403, "{}", page.html);
    // A therapist on a prescriber's form: refused, opened or posted.
    let page = therapist
        .get(&format!("/act/issue-prescription?client={CLIENT}"))
        .await;
    assert_eq!(page.status, 403, "{}", page.html);
    let page = therapist
        .post(
            "/act/adjust-dose",
            &[
                ("client_id", CLIENT),
                ("command_id", "web-x"),
                ("dose", "200"),
                ("reason", "r"),
            ],
        )
        .await;
    assert_eq!(page.status, 403, "{}", page.html);
    // No such form; an auditor has none.
    assert_eq!(therapist.get("/act/launch-rockets").await.status, 404);
    let auditor = app.signed_in("au-smith", Role::Auditor).await;
    assert_eq!(
        auditor
            .get(&format!("/act/record-intake?client={CLIENT}"))
            .await
            .status,
        403
    );
    assert_eq!(app.events().await, before, "nothing was written");
    // The index lists the role's own forms only.
    let index = therapist.get(&format!("/act?client={CLIENT}")).await;
    index
        .shows(&format!("/act/record-exploration?client={CLIENT}"))
        .hides("/act/issue-prescription")
        .hides("/act/record-payment");
    app.stop().await;
}

async fn forms_open_pre_filled_from_their_links(url: &str) {
    let app = ApiApp::spawn(url).await;
    let therapist = app.signed_in("t-rivera", Role::Therapist).await;
    let page = therapist
        .get("/act/record-integration?client=c-7&session=int-3&exploration=x2&day=2026-02-03&time=14:00&return_to=//evil.example")
        .await;
    assert_eq!(page.status, 200, "{}", page.html);
    page.shows("name=\"client_id\" value=\"c-7\"")
        .shows("name=\"session\" value=\"int-3\"")
        .shows("name=\"exploration\" value=\"x2\"")
        .shows("name=\"span_date\" value=\"2026-02-03\"")
        .shows("name=\"span_start\" value=\"14:00\"")
        .shows("name=\"span_end\" value=\"15:00\"")
        .shows("name=\"csrf\"")
        .hides("evil.example");
    // Every form opens for a role that uses it, and every label names an
    // input of the page.
    let prescriber = app.signed_in("rx-chen", Role::Prescriber).await;
    let desk = app.signed_in("fd-jones", Role::FrontDesk).await;
    for (segment, _, _) in kapchart_web::page::COMMANDS {
        let mut opened = 0;
        for browser in [&therapist, &prescriber, &desk] {
            let page = browser.get(&format!("/act/{segment}")).await;
            if page.status == 403 {
                continue;
            }
            assert_eq!(page.status, 200, "{segment}: {}", page.html);
            opened += 1;
            for label in page.html.split("<label for=\"").skip(1) {
                let id = &label[..label.find('"').expect("quote")];
                assert!(
                    page.html.contains(&format!("id=\"{id}\"")),
                    "{segment}: label for {id}"
                );
            }
        }
        assert!(opened > 0, "{segment} opens for no role");
    }
    // A therapist registers clients to themselves: the form says so.
    let page = therapist.get("/act/register-client").await;
    page.shows("<option value=\"t-rivera\" selected>");
    app.stop().await;
}
