//! The therapist's and prescriber's pages and the client chart, over real
//! HTTP on both engines: a client driven through the protocol by the API
//! shows on the therapist's week and list, on the prescriber's page and in
//! the chart (dosing with BP and lot, an amendment beside its entry, the
//! chart as it stood at a past time, one plot marker per outcome measure);
//! other staff get the same 403 as for an unknown client; and each page
//! view appends its access-log entries before it is sent.

use kapchart_domain::ClientId;
use kapchart_e2e::api::{ApiApp, Staff, body};
use kapchart_e2e::pages::{Page, PageClient};
use kapchart_e2e::*;
use kapchart_store::access::{AccessQuery, AccessRecord};
use serde_json::{Value, json};

on_both_engines!(
    the_chart_shows_dosing_amendments_outcomes_and_the_past,
    the_therapist_sees_the_week_and_the_clients,
    the_prescriber_sees_referred_clients_and_decisions,
    other_staff_get_the_same_refusal_as_for_an_unknown_client,
);

fn register(client: &str, name: &str, prescriber: &str) -> Value {
    json!({"RegisterClient": {
        "client_id": client,
        "name": name,
        "date_of_birth": "1985-03-14",
        "therapist": "t-rivera",
        "prescriber": prescriber,
    }})
}

fn measure(instrument: &str, score: u8, d: i64) -> Value {
    json!({"RecordOutcomeMeasure": {
        "measure": {"instrument": instrument, "score": score},
        "administered_on": date(d),
    }})
}

/// `CLIENT` (Alex Example, t-rivera's, referred to rx-chen) through
/// assessment and preparation (day 0), a dosed exploration on day 7
/// (150 mg, lot L-2026-01, BP 134/86 before), its amendment on day 8 (entry
/// 10 amends entry 9), its integration on day 9, two PHQ-9 and two GAD-7
/// scores, and a second exploration and integration booked for days 14
/// and 16. The server's clock is left on day 10 (Thursday 15 January
/// 2026), 20:00 UTC.
async fn client_in_protocol(app: &ApiApp, s: &Staff) {
    app.on(0);
    let steps: Vec<(&str, &str, Value)> = vec![
        (
            &s.front_desk,
            "c-1",
            register(CLIENT, "Alex Example", "rx-chen"),
        ),
        (
            &s.therapist,
            "c-2",
            body(intake(
                "intake-1",
                span(0, 9, 10),
                kapchart_domain::Suitability::Suitable,
            )),
        ),
        (&s.therapist, "c-3", measure("phq9", 18, 0)),
        (&s.therapist, "c-4", measure("gad7", 12, 0)),
        (
            &s.prescriber,
            "c-5",
            body(medical(date(0), kapchart_domain::Clearance::Cleared)),
        ),
        (&s.prescriber, "c-6", body(standard_prescription("rx-1"))),
        (&s.therapist, "c-7", body(consent(date(0)))),
        (
            &s.therapist,
            "c-8",
            body(preparation("prep-1", span(0, 10, 11))),
        ),
    ];
    app.commands_ok(CLIENT, &steps).await;
    app.on(7);
    app.commands_ok(
        CLIENT,
        &[(
            &s.therapist,
            "c-9",
            body(exploration("expl-1", 7, Some(150), bp(134, 86))),
        )],
    )
    .await;
    app.on(8);
    app.commands_ok(CLIENT, &[(&s.therapist, "c-10", body(amend(9)))])
        .await;
    app.on(9);
    app.commands_ok(
        CLIENT,
        &[
            (
                &s.therapist,
                "c-11",
                body(integration("integ-1", span(9, 10, 11), "expl-1")),
            ),
            (&s.therapist, "c-12", measure("phq9", 12, 9)),
            (&s.therapist, "c-13", measure("gad7", 8, 9)),
            (
                &s.front_desk,
                "c-14",
                body(schedule_exploration("expl-2", span(14, 10, 13))),
            ),
            (
                &s.front_desk,
                "c-15",
                body(schedule_integration("integ-2", span(16, 10, 11), "expl-2")),
            ),
        ],
    )
    .await;
    app.on(10);
}

/// The access log's entries about `client`, in order.
async fn log_of(app: &ApiApp, client: &str) -> Vec<AccessRecord> {
    kapchart_store::access::list(
        &app.db,
        &AccessQuery {
            client: Some(ClientId::parse(client).expect("id")),
            ..Default::default()
        },
    )
    .await
    .expect("access log")
}

/// Gets `path` and asserts that the view appended exactly `entries` access
/// entries about `client`, each by `user` and naming the page's request
/// (`web GET {path}...`).
async fn viewed(
    app: &ApiApp,
    browser: &PageClient,
    user: &str,
    path: &str,
    client: &str,
    entries: usize,
) -> Page {
    let before = log_of(app, client).await.len();
    let page = browser.get(path).await;
    assert_eq!(page.status, 200, "{path}: {}", page.html);
    let log = log_of(app, client).await;
    assert_eq!(log.len(), before + entries, "{path}: {log:#?}");
    let route = path.split('?').next().unwrap_or(path);
    for r in &log[before..] {
        assert_eq!(r.entry.actor.user_id.as_str(), user, "{path}");
        assert!(
            r.entry.source.starts_with(&format!("web GET {route}")),
            "{path}: {}",
            r.entry.source
        );
        assert_eq!(r.entry.purpose, "treatment", "{path}");
    }
    page
}

/// The HTML from the element with `id` to the next `<article` (an entry of
/// the record and what is shown beside it).
fn article<'a>(page: &'a Page, id: &str) -> &'a str {
    let start = page
        .html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no {id} in {}", page.html));
    let rest = &page.html[start..];
    let end = rest[1..].find("<article").map_or(rest.len(), |e| e + 1);
    &rest[..end]
}

async fn the_chart_shows_dosing_amendments_outcomes_and_the_past(url: &str) {
    let app = ApiApp::spawn(url).await;
    let s = app.staff().await;
    client_in_protocol(&app, &s).await;
    let therapist = app.browser("t-rivera", "treatment").await;
    let chart = format!("/clients/{CLIENT}");
    let page = viewed(&app, &therapist, "t-rivera", &chart, CLIENT, 1).await;
    page.shows("<h1>Alex Example — chart</h1>")
        // Protocol progress, the current step marked.
        .shows("Protocol progress")
        .shows(r#"aria-current="step"><span class="step-name">Explorations</span> <span class="state">In progress</span>"#)
        // The dosing row: dose, lot, route, BP before and after, discharge.
        .shows("<td class=\"nowrap\">150 mg</td>")
        .shows("<td class=\"nowrap\">L-2026-01</td>")
        .shows("<td>Sublingual, 10:15</td>")
        .shows("<td class=\"nowrap\">134/86</td>")
        .shows("<td class=\"nowrap\">125/82</td>")
        .shows("calm, reflective; no distress")
        .shows("<td>12:45, with a companion</td>")
        // The integration, two days after its exploration.
        .shows("<td>expl-1</td>\n      <td class=\"num\">2</td>")
        // Forms of the phase, and the booked session's.
        .shows("/act/record-integration?client=client-1")
        .shows("/act/record-exploration?client=client-1&#38;session=expl-2")
        .shows("/act/amend-entry?client=client-1&#38;sequence=9")
        // Billing is not a therapist's: no charges or payments.
        .hides("$550.00")
        .hides("Charge");
    // The amendment is beside the entry it amends, and the original stays.
    let amended = article(&page, "entry-9");
    assert!(
        amended.contains("calm, reflective; no distress"),
        "{amended}"
    );
    assert!(amended.contains("transcription error"), "{amended}");
    assert!(amended.contains("mild nausea at 11:00"), "{amended}");
    assert!(article(&page, "entry-10").contains("Amends entry <a href=\"#entry-9\">#9</a>"));
    // Outcomes: change from baseline, and one marker per measure.
    page.shows("18 (moderately severe) on 5 Jan 2026")
        .shows("12 (moderate) on 14 Jan 2026")
        .shows("<td class=\"num\">−6</td><td class=\"num\">−33%</td>")
        .shows("<td class=\"num\">−4</td><td class=\"num\">−33%</td>");
    assert_eq!(page.html.matches(r#"class="point""#).count(), 4);
    assert_eq!(page.html.matches("<circle").count(), 2, "PHQ-9's circles");
    assert_eq!(
        page.html.matches(r#"role="img""#).count(),
        2,
        "one plot per instrument"
    );
    page.shows("<title>PHQ-9: 18 (moderately severe) on 5 Jan 2026</title>")
        .shows("0–4 minimal");

    // As it stood on day 7 at 21:00: the exploration, not its amendment.
    let at = "2026-01-12T21:00";
    let past = viewed(
        &app,
        &therapist,
        "t-rivera",
        &format!("{chart}?as_of={at}"),
        CLIENT,
        1,
    )
    .await;
    past.shows("the chart as it stood at 12 Jan 2026, 21:00")
        .shows("<td class=\"nowrap\">150 mg</td>")
        .hides("transcription error")
        .hides("integ-1")
        // A past chart offers no forms for the client (the navigation
        // still offers registering another).
        .hides("?client=");
    let logged = log_of(&app, CLIENT).await;
    assert!(
        logged
            .last()
            .is_some_and(|r| r.entry.source.contains("?as_of=2026-01-12T21:00:00Z")),
        "the log names the moment: {logged:#?}"
    );
    // Before the exploration was recorded, no dose at all.
    viewed(
        &app,
        &therapist,
        "t-rivera",
        &format!("{chart}?as_of=2026-01-12T12:00"),
        CLIENT,
        1,
    )
    .await
    .hides("<td class=\"nowrap\">150 mg</td>")
    .hides("L-2026-01")
    .shows("No exploration recorded.");
    // A bad moment names the field and reads nothing.
    let before = log_of(&app, CLIENT).await.len();
    let bad = therapist.get(&format!("{chart}?as_of=soon")).await;
    assert_eq!(bad.status, 400);
    bad.shows("as_of: expected a date and time");
    assert_eq!(log_of(&app, CLIENT).await.len(), before);

    // After a form, the chart says what was done.
    viewed(
        &app,
        &therapist,
        "t-rivera",
        &format!("{chart}?done=record-integration"),
        CLIENT,
        1,
    )
    .await
    .shows("The integration session is recorded.");
    // The auditor reads it too, billing included.
    let auditor = app.browser("au-smith", "audit").await;
    let page = auditor.get(&chart).await;
    assert_eq!(page.status, 200);
    page.shows("<td class=\"nowrap\">150 mg</td>")
        .hides("/act/");
    app.stop().await;
}

async fn the_therapist_sees_the_week_and_the_clients(url: &str) {
    let app = ApiApp::spawn(url).await;
    let s = app.staff().await;
    client_in_protocol(&app, &s).await;
    let therapist = app.browser("t-rivera", "treatment").await;
    // One entry for the client: the week's sessions and what the client
    // needs are one read.
    let week = viewed(&app, &therapist, "t-rivera", "/therapist", CLIENT, 1).await;
    let entry = log_of(&app, CLIENT).await.pop().expect("an entry");
    assert!(
        entry.entry.categories.len() > 1,
        "the schedule's and the chart's categories: {entry:?}"
    );
    week.shows("Today, Thursday 15 January 2026")
        .shows("Monday 19 January 2026")
        .shows("Wednesday 21 January 2026")
        .shows(r#"<a href="/clients/client-1">Alex Example</a>"#)
        .shows("<td>Exploration</td>")
        .shows("<td>Integration</td>")
        .shows("10:00–13:00")
        .shows("BP near the threshold: last pre-dose 134/86")
        .shows("/act/record-exploration?client=client-1&#38;session=expl-2&#38;day=2026-01-19&#38;time=10%3A00")
        .shows("/act/cancel-session?client=client-1&#38;session=expl-2")
        // Days before today are not this week's.
        .hides("integ-1");
    // Another week: the sessions of days 0 to 6, held.
    let earlier = viewed(
        &app,
        &therapist,
        "t-rivera",
        "/therapist?from=2026-01-05",
        CLIENT,
        1,
    )
    .await;
    earlier
        .shows("Monday 5 January 2026")
        .shows("<td>Intake</td>")
        .shows("<td>Held</td>")
        .hides("Today, ");
    // A week without sessions reads and logs nothing about the client.
    viewed(
        &app,
        &therapist,
        "t-rivera",
        "/therapist?from=2026-03-02",
        CLIENT,
        0,
    )
    .await
    .shows("No sessions.");
    let bad = therapist.get("/therapist?from=someday").await;
    assert_eq!(bad.status, 400);
    bad.shows("from: expected a day as YYYY-MM-DD");

    let list = viewed(
        &app,
        &therapist,
        "t-rivera",
        "/therapist/clients",
        CLIENT,
        1,
    )
    .await;
    list.shows("Alex Example")
        .shows("<td>Protocol (explorations)</td>")
        .shows("<td>1 of 8</td>")
        .shows("Exploration, from 19 Jan 2026")
        .shows("/act/schedule-exploration?client=client-1");
    // Another therapist's list does not hold the client, and logs nothing of it.
    let other = app.browser("t-okafor", "treatment").await;
    viewed(&app, &other, "t-okafor", "/therapist/clients", CLIENT, 0)
        .await
        .hides("Alex Example")
        .shows("No clients in care.");
    viewed(&app, &other, "t-okafor", "/therapist", CLIENT, 0)
        .await
        .hides("Alex Example");
    app.stop().await;
}

async fn the_prescriber_sees_referred_clients_and_decisions(url: &str) {
    let app = ApiApp::spawn(url).await;
    let s = app.staff().await;
    client_in_protocol(&app, &s).await;
    // A second client of rx-chen awaiting the medical evaluation, and a
    // client of rx-patel.
    app.commands_ok(
        "client-2",
        &[(
            &s.front_desk,
            "d-1",
            register("client-2", "Blair Sample", "rx-chen"),
        )],
    )
    .await;
    app.commands_ok(
        "client-3",
        &[(
            &s.front_desk,
            "e-1",
            register("client-3", "Casey Other", "rx-patel"),
        )],
    )
    .await;
    let prescriber = app.browser("rx-chen", "treatment").await;
    let before_3 = log_of(&app, "client-3").await.len();
    let page = viewed(&app, &prescriber, "rx-chen", "/prescriber", CLIENT, 1).await;
    assert_eq!(
        log_of(&app, "client-2").await.len(),
        1,
        "client-2 logged once"
    );
    assert_eq!(
        log_of(&app, "client-3").await.len(),
        before_3,
        "client-3 not read"
    );
    page.shows("Alex Example")
        .shows("Blair Sample")
        .hides("Casey Other")
        .shows("Medical evaluation pending")
        .shows("/act/record-medical-evaluation?client=client-2")
        .shows("rx-1: 100–300 mg, step up to 50 mg, ordered 150 mg; 1 of 8 sessions used")
        .shows("<td class=\"num\">150 mg</td>")
        .shows("<td>L-2026-01</td>")
        .shows("<td>134/86</td>")
        .shows("<td>125/82</td>");
    // The prescriber's chart offers the prescriber's forms.
    viewed(
        &app,
        &prescriber,
        "rx-chen",
        &format!("/clients/{CLIENT}"),
        CLIENT,
        1,
    )
    .await
    .shows("/act/adjust-dose?client=client-1")
    .shows("/act/authorize-override?client=client-1")
    .hides("/act/record-exploration");
    // Therapist pages are not the prescriber's, and the reverse.
    assert_eq!(prescriber.get("/therapist").await.status, 403);
    let therapist = app.browser("t-rivera", "treatment").await;
    assert_eq!(therapist.get("/prescriber").await.status, 403);
    app.stop().await;
}

async fn other_staff_get_the_same_refusal_as_for_an_unknown_client(url: &str) {
    let app = ApiApp::spawn(url).await;
    let s = app.staff().await;
    client_in_protocol(&app, &s).await;
    let before = log_of(&app, CLIENT).await.len();
    let other = app.browser("t-okafor", "treatment").await;
    let theirs = other.get(&format!("/clients/{CLIENT}")).await;
    let unknown = other.get("/clients/no-such-client").await;
    assert_eq!(theirs.status, 403);
    assert_eq!(unknown.status, 403);
    assert_eq!(theirs.html, unknown.html, "the same page either way");
    theirs.hides("Alex Example");
    let rx = app.browser("rx-patel", "treatment").await;
    assert_eq!(rx.get(&format!("/clients/{CLIENT}")).await.status, 403);
    for (id, role) in [("fd-jones", "payment"), ("ad-root", "operations")] {
        let browser = app.browser(id, role).await;
        for path in [
            format!("/clients/{CLIENT}"),
            "/therapist".to_owned(),
            "/therapist/clients".to_owned(),
            "/prescriber".to_owned(),
        ] {
            let page = browser.get(&path).await;
            assert_eq!(page.status, 403, "{id} {path}");
            page.hides("Alex Example");
        }
    }
    assert_eq!(
        log_of(&app, CLIENT).await.len(),
        before,
        "refused reads log nothing"
    );
    app.stop().await;
}
