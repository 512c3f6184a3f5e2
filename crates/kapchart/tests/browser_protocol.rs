//! One client through the whole KAP protocol in a real browser (headless
//! Chromium over WebDriver) against `kapchart serve`, by the
//! server-rendered forms alone, each step by the role that does it: the
//! front desk registers the client and books the sessions; the therapist
//! records the intake, consent, a preparation, outcome measures; the
//! prescriber the medical evaluation and the prescription; the therapist
//! the exploration (dose, lot, blood pressure) and its integration; the
//! front desk a payment; the therapist ongoing care and the discharge.
//!
//! The server runs on the real clock, so every held session is in the
//! past (intake 40 days ago, exploration 30 days ago, integration two
//! days after it, ongoing care after that): a session is recorded only
//! once it has ended, and the protocol's windows hold.
//!
//! After each form, the page it leads to says what was done. Then the
//! chart shows the dosing row and one plot marker per measure; the
//! therapist's, prescriber's and front desk's lists, the billing page
//! and the superbill (also printed to PDF) render. axe-core runs on every
//! distinct page (no serious or critical violation) and each is
//! screenshotted. The access log holds one entry naming the client for
//! each view of the client's record.

mod browser;

use std::collections::HashSet;

use browser::{Browser, Practice, sign_in_through_store};
use kapchart_store::access::AccessAction;

const CLIENT: &str = "c-browser";

/// The pages of the client's record a test looks at, as the access log
/// names their paths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum View {
    Chart,
    Billing,
    Superbill,
}

impl View {
    fn path(self) -> String {
        match self {
            View::Chart => format!("/clients/{CLIENT}"),
            View::Billing => format!("/clients/{CLIENT}/billing"),
            View::Superbill => format!("/clients/{CLIENT}/superbill"),
        }
    }

    fn action(self) -> AccessAction {
        match self {
            View::Superbill => AccessAction::Print,
            View::Chart | View::Billing => AccessAction::Query,
        }
    }
}

/// What the test did: the views of the client's record (each should be
/// logged) and the pages axe-core already checked.
#[derive(Debug, Default)]
struct Run {
    views: Vec<(View, &'static str)>,
    checked: HashSet<String>,
}

impl Run {
    /// Runs axe-core and takes a screenshot of the page, once per `name`
    /// (`target/browser-screenshots/protocol-NAME.png`).
    async fn check(&mut self, browser: &Browser, name: &str) {
        if self.checked.insert(name.to_owned()) {
            // This test's artifacts are `protocol-NAME`, apart from other
            // tests' pages of the same name.
            let name = format!("protocol-{name}");
            browser.axe(&name).await;
            browser.screenshot(&name).await;
        }
    }

    /// Opens `/act/SEGMENT?client=...` as `who` (whose browser it is),
    /// checks the form page the first time, fills `fields` and submits;
    /// asserts the page it leads to (`then`: the chart or the billing) and
    /// its notice of what was done.
    async fn form(
        &mut self,
        browser: &Browser,
        who: &'static str,
        segment: &str,
        fields: &[(&str, &str)],
        then: View,
    ) {
        browser
            .goto(&format!("/act/{segment}?client={CLIENT}"))
            .await;
        assert!(
            browser.exists("main form").await,
            "{who}: no form at /act/{segment}: {}",
            browser.describe().await
        );
        self.check(browser, &format!("form-{segment}")).await;
        if segment == "register-client" {
            browser.fill("client_id", CLIENT).await;
        } else {
            assert_eq!(
                browser.field_value("client_id").await,
                CLIENT,
                "the form opens with the client of its link"
            );
        }
        for (name, value) in fields {
            browser.fill(name, value).await;
        }
        browser.submit().await;
        let expected = format!("{}?done={segment}", then.path());
        assert_eq!(
            browser.path().await,
            expected,
            "{who}: {segment} was not recorded: {}\n{}",
            browser.describe().await,
            browser.body_text().await
        );
        self.views.push((then, who));
        let notice = kapchart_web::page::done_notice(Some(segment)).expect("a done notice");
        assert_eq!(
            browser.text(".notice[role=status]").await,
            notice,
            "{segment}"
        );
        let landed = match then {
            View::Chart => format!("chart-as-{who}"),
            View::Billing => format!("billing-as-{who}"),
            View::Superbill => format!("superbill-as-{who}"),
        };
        self.check(browser, &landed).await;
    }

    /// Opens a page of the client's record (counted as a view).
    async fn open(&mut self, browser: &Browser, who: &'static str, view: View, query: &str) {
        browser.goto(&format!("{}{query}", view.path())).await;
        assert_eq!(
            browser.path().await,
            format!("{}{query}", view.path()),
            "{}",
            browser.describe().await
        );
        assert!(
            !browser.exists(".error[role=alert]").await,
            "{who}: {}",
            browser.describe().await
        );
        self.views.push((view, who));
    }
}

#[tokio::test]
async fn one_client_through_the_whole_protocol_in_a_browser() {
    let practice = Practice::sqlite();
    practice.create_user("fd-jones", "front_desk");
    practice.create_user("t-rivera", "therapist");
    practice.create_user("rx-chen", "prescriber");
    let desk = Browser::open(&practice).await;
    let therapist = Browser::open(&practice).await;
    let prescriber = Browser::open(&practice).await;
    sign_in_through_store(&desk, &practice, "fd-jones", "front_desk").await;
    sign_in_through_store(&therapist, &practice, "t-rivera", "therapist").await;
    sign_in_through_store(&prescriber, &practice, "rx-chen", "prescriber").await;

    // Days before today (UTC, the practice's time zone by default).
    let today = chrono::Utc::now().date_naive();
    let ago = |n: u64| {
        (today - chrono::Days::new(n))
            .format("%Y-%m-%d")
            .to_string()
    };
    let (intake_day, prep_day, x_day, int_day, care_day) =
        (ago(40), ago(38), ago(30), ago(28), ago(21));
    let (phq_first, phq_second, gad_day) = (ago(40), ago(27), ago(27));
    let (paid_on, discharged_on) = (ago(20), ago(1));
    let rx_from = ago(45);
    let rx_until = (today + chrono::Days::new(300))
        .format("%Y-%m-%d")
        .to_string();
    let mut run = Run::default();

    // The front desk registers the client, assigned to t-rivera and
    // referred to rx-chen.
    run.form(
        &desk,
        "fd-jones",
        "register-client",
        &[
            ("name", "Alex Example"),
            ("date_of_birth", "1985-03-14"),
            ("therapist", "t-rivera"),
            ("prescriber", "rx-chen"),
        ],
        View::Billing,
    )
    .await;

    // Intake and consent by the therapist; the medical evaluation and the
    // prescription by the prescriber.
    run.form(
        &therapist,
        "t-rivera",
        "record-intake",
        &[
            ("session", "intake-1"),
            ("span_date", &intake_day),
            ("span_start", "09:00"),
            ("span_end", "10:00"),
            ("finding", "suitable"),
            ("diagnoses", "F33.1, F41.1"),
            ("notes", "treatment-resistant depression"),
        ],
        View::Chart,
    )
    .await;
    run.form(
        &prescriber,
        "rx-chen",
        "record-medical-evaluation",
        &[
            ("evaluated_on", &intake_day),
            ("finding", "cleared"),
            ("notes", "no contraindications"),
        ],
        View::Chart,
    )
    .await;
    run.form(
        &prescriber,
        "rx-chen",
        "issue-prescription",
        &[
            ("prescription", "rx-1"),
            ("drug", "ketamine"),
            ("valid_from", &rx_from),
            ("valid_until", &rx_until),
            ("dose_min", "100"),
            ("dose_max", "300"),
            ("dose_starting", "150"),
            ("dose_max_step", "50"),
            ("authorized_sessions", "8"),
            ("instructions", "sublingual lozenge, hold 15 minutes"),
        ],
        View::Chart,
    )
    .await;
    run.form(
        &therapist,
        "t-rivera",
        "record-consent",
        &[
            ("signed_on", &intake_day),
            ("form", "KAP informed consent v3"),
        ],
        View::Chart,
    )
    .await;
    // The baseline PHQ-9 and GAD-7 at the intake.
    run.form(
        &therapist,
        "t-rivera",
        "record-outcome-measure",
        &[
            ("instrument", "phq9"),
            ("score", "18"),
            ("administered_on", &phq_first),
        ],
        View::Chart,
    )
    .await;

    // The front desk books the preparation; the therapist records it held.
    run.form(
        &desk,
        "fd-jones",
        "schedule-preparation",
        &[
            ("session", "prep-1"),
            ("span_date", &prep_day),
            ("span_start", "10:00"),
            ("span_end", "11:00"),
            ("therapist", "t-rivera"),
        ],
        View::Billing,
    )
    .await;
    run.form(
        &therapist,
        "t-rivera",
        "record-preparation",
        &[
            ("session", "prep-1"),
            ("span_date", &prep_day),
            ("span_start", "10:00"),
            ("span_end", "11:00"),
            ("intentions", "reconnect with family"),
            ("aftercare_plan", "partner drives home; journaling"),
            ("notes", "discussed what to expect"),
        ],
        View::Chart,
    )
    .await;

    // The exploration: booked by the front desk, recorded by the
    // therapist with the dose, its lot and the blood pressures.
    run.form(
        &desk,
        "fd-jones",
        "schedule-exploration",
        &[
            ("session", "x1"),
            ("span_date", &x_day),
            ("span_start", "10:00"),
            ("span_end", "13:00"),
            ("therapist", "t-rivera"),
        ],
        View::Billing,
    )
    .await;
    run.form(
        &therapist,
        "t-rivera",
        "record-exploration",
        &[
            ("session", "x1"),
            ("span_date", &x_day),
            ("span_start", "10:00"),
            ("span_end", "13:00"),
            ("drug", "ketamine"),
            ("route", "sublingual"),
            ("dose", "150"),
            ("lot_number", "L-2026-01"),
            ("given_at", "10:15"),
            ("bp_before_systolic", "128"),
            ("bp_before_diastolic", "82"),
            ("bp_after_systolic", "134"),
            ("bp_after_diastolic", "86"),
            ("observations", "calm, reflective"),
            ("adverse_1", "mild nausea at 11:00"),
            ("adverse_1_severity", "mild"),
            ("discharged_at", "12:45"),
            ("departure", "companion"),
        ],
        View::Chart,
    )
    .await;

    // Its integration two days later, booked and recorded; the follow-up
    // PHQ-9 and a GAD-7.
    run.form(
        &desk,
        "fd-jones",
        "schedule-integration",
        &[
            ("session", "int-1"),
            ("span_date", &int_day),
            ("span_start", "10:00"),
            ("span_end", "11:00"),
            ("therapist", "t-rivera"),
            ("exploration", "x1"),
        ],
        View::Billing,
    )
    .await;
    run.form(
        &therapist,
        "t-rivera",
        "record-integration",
        &[
            ("session", "int-1"),
            ("span_date", &int_day),
            ("span_start", "10:00"),
            ("span_end", "11:00"),
            ("exploration", "x1"),
            ("notes", "integrating insights about grief"),
        ],
        View::Chart,
    )
    .await;
    for (instrument, score, day) in [("phq9", "11", &phq_second), ("gad7", "9", &gad_day)] {
        run.form(
            &therapist,
            "t-rivera",
            "record-outcome-measure",
            &[
                ("instrument", instrument),
                ("score", score),
                ("administered_on", day),
            ],
            View::Chart,
        )
        .await;
    }

    // Ongoing care, and the front desk records a payment for the
    // exploration.
    run.form(
        &therapist,
        "t-rivera",
        "record-ongoing-care",
        &[
            ("session", "care-1"),
            ("span_date", &care_day),
            ("span_start", "10:00"),
            ("span_end", "11:00"),
            ("notes", "maintenance; mood stable"),
        ],
        View::Chart,
    )
    .await;
    run.form(
        &desk,
        "fd-jones",
        "record-payment",
        &[
            ("payment", "pay-1"),
            ("amount", "$1,175.05"),
            ("method", "card"),
            ("payer", "client"),
            ("received_on", &paid_on),
            ("session", "x1"),
        ],
        View::Billing,
    )
    .await;

    // The lists while the client is in care.
    therapist.goto("/therapist").await;
    assert_eq!(therapist.path().await, "/therapist");
    run.check(&therapist, "therapist-week").await;
    therapist.goto("/therapist/clients").await;
    assert_eq!(therapist.path().await, "/therapist/clients");
    assert!(
        therapist.body_text().await.contains(CLIENT),
        "the therapist's clients list the client: {}",
        therapist.describe().await
    );
    run.check(&therapist, "therapist-clients").await;
    prescriber.goto("/prescriber").await;
    assert_eq!(prescriber.path().await, "/prescriber");
    let referred = prescriber.body_text().await;
    assert!(
        referred.contains(CLIENT) && referred.contains("L-2026-01"),
        "the prescriber's page lists the client with the dosing history: {referred}"
    );
    run.check(&prescriber, "prescriber").await;

    // Discharge.
    run.form(
        &therapist,
        "t-rivera",
        "discharge-client",
        &[
            ("discharged_on", &discharged_on),
            ("reason", "care_complete"),
            ("summary", "protocol complete; PHQ-9 down"),
        ],
        View::Chart,
    )
    .await;

    // The chart: the dosing row, one plot marker per measure.
    run.open(&therapist, "t-rivera", View::Chart, "").await;
    let row = therapist.text("table.dosing tbody tr").await;
    // The day as the chart writes it: "7 Nov 2026".
    let x_shown = (today - chrono::Days::new(30))
        .format("%-d %b %Y")
        .to_string();
    for shown in [
        x_shown.as_str(),
        "x1",
        "150 mg",
        "L-2026-01",
        "Sublingual, 10:15",
        "128/82",
        "134/86",
    ] {
        assert!(
            row.contains(shown),
            "the dosing row shows {shown:?}: {row:?}"
        );
    }
    let markers = therapist.find_all("svg.outcome-plot .point").await;
    assert_eq!(
        markers.len(),
        3,
        "one marker per measure recorded (two PHQ-9, one GAD-7)"
    );
    assert_eq!(therapist.find_all("svg.outcome-plot").await.len(), 2);
    run.check(&therapist, "chart").await;
    run.open(&prescriber, "rx-chen", View::Chart, "").await;
    assert!(
        prescriber
            .text("table.dosing tbody tr")
            .await
            .contains("L-2026-01")
    );

    // The front desk: the calendar (today, and the exploration's day),
    // the billing, the superbill (printed to PDF).
    desk.goto("/desk").await;
    assert_eq!(desk.path().await, "/desk");
    run.check(&desk, "desk").await;
    desk.goto(&format!("/desk?day={x_day}")).await;
    let calendar = desk.body_text().await;
    assert!(
        calendar.contains("x1") && calendar.contains(CLIENT),
        "the calendar of the exploration's day shows it: {calendar}"
    );
    run.check(&desk, "desk-exploration-day").await;
    run.open(&desk, "fd-jones", View::Billing, "").await;
    let billing = desk.body_text().await;
    assert!(
        billing.contains("$1,175.05") && billing.contains("pay-1"),
        "the billing shows the payment: {billing}"
    );
    run.check(&desk, "billing").await;
    run.open(&desk, "fd-jones", View::Superbill, "").await;
    let superbill = desk.body_text().await;
    assert!(
        superbill.contains("Alex Example") && superbill.contains("x1"),
        "the superbill shows the client and the exploration: {superbill}"
    );
    run.check(&desk, "superbill").await;
    let pdf = desk.print_pdf("protocol-superbill").await;
    let bytes = std::fs::read(&pdf).expect("the superbill's PDF");
    assert!(
        bytes.starts_with(b"%PDF") && bytes.len() > 1000,
        "{}: {} bytes",
        pdf.display(),
        bytes.len()
    );

    desk.close().await;
    therapist.close().await;
    prescriber.close().await;

    // Every view of the client's record is in the access log, by whoever
    // looked, from the page's path (the source is `web GET PATH[?period]
    // from PEER`); each list viewed once names the client once.
    let log = practice.access_log().await;
    let about_client: Vec<(AccessAction, &str, &str)> = log
        .iter()
        .filter(|r| r.entry.client_id.as_ref().map(|c| c.as_str()) == Some(CLIENT))
        .map(|r| {
            (
                r.entry.action,
                r.entry.actor.user_id.as_str(),
                r.entry.source.as_str(),
            )
        })
        .collect();
    let logged = |action: AccessAction, who: &str, path: &str| {
        about_client
            .iter()
            .filter(|(a, w, source)| *a == action && *w == who && path_of(source) == Some(path))
            .count()
    };
    for view in [View::Chart, View::Billing, View::Superbill] {
        for who in ["fd-jones", "t-rivera", "rx-chen"] {
            let made = run
                .views
                .iter()
                .filter(|(v, w)| *v == view && *w == who)
                .count();
            assert_eq!(
                logged(view.action(), who, &view.path()),
                made,
                "{who}'s views of {} logged as {:?}: {about_client:#?}",
                view.path(),
                view.action(),
            );
        }
    }
    assert_eq!(
        run.views.len(),
        17 + 4,
        "the landings of the 17 forms and the 4 pages opened"
    );
    for (who, path) in [
        ("t-rivera", "/therapist/clients"),
        ("rx-chen", "/prescriber"),
        ("fd-jones", "/desk"),
    ] {
        assert_eq!(
            logged(AccessAction::Query, who, path),
            1,
            "{who}'s {path} is logged naming the client: {about_client:#?}"
        );
    }
}

/// The path of a web request's access-log source: `web GET
/// /desk?from=...&to=... from 127.0.0.1` is `/desk`.
fn path_of(source: &str) -> Option<&str> {
    let rest = source.strip_prefix("web GET ")?;
    let end = rest.find(['?', ' ']).unwrap_or(rest.len());
    Some(&rest[..end])
}
