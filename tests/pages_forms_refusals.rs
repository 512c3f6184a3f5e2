//! The command forms' refusals over real HTTP: a refused exploration
//! re-rendered with the rule's message and what was typed, writing
//! nothing; a soft stop passed with an override reason; a double booking
//! showing the clash; bad fields named; CSRF-less posts and other roles'
//! forms refused; forms pre-filled from their links.

#[path = "pages_forms_common/mod.rs"]
mod common;

use common::*;
use kapchart_domain::{Role, Suitability};
use kapchart_e2e::api::{ApiApp, body};
use kapchart_e2e::*;

on_both_engines!(
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
    let metadata = event_contents(&app, CLIENT).await;
    assert!(
        metadata
            .iter()
            .any(|m| m.contains("exploration.too_soon") && m.contains("client travels next week")),
        "{metadata:?}"
    );
    app.stop().await;
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
    page.shows("<option value=\"t-rivera\" selected>")
        .shows("name=\"client_id\" value=\"c-");
    app.stop().await;
}
