//! The front desk's pages over real HTTP on both engines: the calendar per
//! therapist with a double booking flagged and the booking form, every
//! client with their balance, a client's billing, and the superbill as a
//! print-ready page and as CSV; each page's access-log entries (query,
//! print, export); no clinical note on any of them; other roles refused.

use kapchart_domain::{ClientId, Suitability, UserId};
use kapchart_e2e::api::{ApiApp, Staff, body};
use kapchart_e2e::pages::Page;
use kapchart_e2e::*;
use kapchart_store::access::{AccessAction, AccessQuery, AccessRecord, DataCategory};
use serde_json::{Value, json};

on_both_engines!(
    the_calendar_shows_each_therapists_sessions_and_flags_a_double_booking,
    the_booking_form_leads_to_the_schedule_form_or_names_the_wrong_field,
    the_clients_list_shows_every_client_with_their_balance,
    billing_shows_charges_payments_and_the_balance_after_payments,
    the_superbill_prints_and_downloads_as_csv,
    other_roles_are_refused_and_no_page_shows_a_note,
    a_double_booking_across_midnight_is_flagged_on_either_day,
);

/// What the intake's notes say (tests/support `intake`): no desk page may
/// show it.
const NOTE: &str = "treatment-resistant depression";

/// RegisterClient of `client` named `name` with therapist `therapist`.
fn register(client: &str, name: &str, therapist: &str) -> Value {
    json!({"RegisterClient": {
        "client_id": client,
        "name": name,
        "date_of_birth": "1985-03-14",
        "therapist": therapist,
        "prescriber": "rx-chen",
    }})
}

/// Waits until the views hold every committed event (see
/// tests/api_reads.rs: on PostgreSQL other tests' open transactions hold
/// the feed back).
async fn views_current(app: &ApiApp) {
    let behind = kapchart_projector::Projector::new(app.db.clone())
        .catch_up_fully(std::time::Duration::from_secs(60))
        .await
        .expect("the views catch up");
    assert_eq!(behind, 0, "the views hold every event");
}

/// Three clients on day 0 (2026-01-05): client-1 and client-2 both held
/// their intake with t-rivera from 9 to 10 (a double booking that the
/// command-time check does not see: recording a held session does not
/// consult other clients' bookings), client-3 with t-okafor from 11 to
/// 12; client-1 has a preparation booked on day 1 from 10 to 11.
async fn three_clients(app: &ApiApp, s: &Staff) {
    app.on(0);
    let intake_9 = body(intake("intake-1", span(0, 9, 10), Suitability::Suitable));
    let steps: Vec<(&str, &str, &str, Value)> = vec![
        (
            "client-1",
            &s.front_desk,
            "c1-1",
            register("client-1", "Alex Example", "t-rivera"),
        ),
        ("client-1", &s.therapist, "c1-2", intake_9.clone()),
        (
            "client-1",
            &s.front_desk,
            "c1-3",
            body(schedule_preparation("prep-1", span(1, 10, 11))),
        ),
        (
            "client-2",
            &s.front_desk,
            "c2-1",
            register("client-2", "Blair Sample", "t-rivera"),
        ),
        ("client-2", &s.therapist, "c2-2", intake_9),
        (
            "client-3",
            &s.front_desk,
            "c3-1",
            register("client-3", "Casey Person", "t-okafor"),
        ),
        (
            "client-3",
            &s.other_therapist,
            "c3-2",
            body(intake("intake-1", span(0, 11, 12), Suitability::Suitable)),
        ),
    ];
    for (client, token, id, b) in steps {
        let reply = app.command(token, client, id, &b).await;
        assert_eq!(reply.status, 200, "{client} {id}: {}", reply.body);
    }
    views_current(app).await;
}

/// The part of a calendar page under the heading that names `therapist`,
/// up to the end of its section.
fn column<'a>(page: &'a Page, therapist: &str) -> &'a str {
    let heading = page
        .html
        .find(&format!("\">{therapist}</h2>"))
        .unwrap_or_else(|| panic!("no column for {therapist}:\n{}", page.html));
    let rest = &page.html[heading..];
    &rest[..rest.find("</section>").expect("the column ends")]
}

/// The access log, oldest first.
async fn log(app: &ApiApp) -> Vec<AccessRecord> {
    kapchart_store::access::list(&app.db, &AccessQuery::default())
        .await
        .expect("access log")
}

/// The entries appended since the log held `before` entries.
async fn log_since(app: &ApiApp, before: usize) -> Vec<AccessRecord> {
    log(app).await.into_iter().skip(before).collect()
}

fn client_of(r: &AccessRecord) -> &str {
    r.entry.client_id.as_ref().map_or("", ClientId::as_str)
}

async fn the_calendar_shows_each_therapists_sessions_and_flags_a_double_booking(url: &str) {
    let app = ApiApp::spawn(url).await;
    let s = app.staff().await;
    three_clients(&app, &s).await;
    let desk = app.browser("fd-jones", "payment").await;

    let before = log(&app).await.len();
    let page = desk.get("/desk?day=2026-01-05").await;
    assert_eq!(page.status, 200, "{}", page.html);
    page.shows("Calendar for Monday 5 January 2026")
        .shows("2 sessions shown are double-booked");
    let rivera = column(&page, "t-rivera");
    for text in [
        "client-1",
        "client-2",
        "09:00–10:00",
        "Intake",
        "Held",
        "Double-booked: overlaps client-2&#39;s session intake-1",
        "Double-booked: overlaps client-1&#39;s session intake-1",
        "Book a session with t-rivera",
    ] {
        assert!(
            rivera.contains(text),
            "t-rivera's column lacks {text:?}:\n{rivera}"
        );
    }
    assert!(!rivera.contains("client-3"), "{rivera}");
    assert!(!rivera.contains("prep-1"), "day 1's booking is not day 0's");
    let okafor = column(&page, "t-okafor");
    assert!(
        okafor.contains("client-3") && okafor.contains("11:00–12:00"),
        "{okafor}"
    );
    assert!(!okafor.contains("Double-booked"), "{okafor}");
    page.hides(NOTE);

    // One query per client shown, naming the request.
    let entries = log_since(&app, before).await;
    let mut clients: Vec<&str> = entries.iter().map(client_of).collect();
    clients.sort_unstable();
    assert_eq!(
        clients,
        ["client-1", "client-2", "client-3"],
        "{entries:#?}"
    );
    for e in &entries {
        assert_eq!(e.entry.action, AccessAction::Query);
        assert_eq!(e.entry.categories, [DataCategory::Demographics]);
        assert_eq!(e.entry.actor.user_id.as_str(), "fd-jones");
        assert_eq!(e.entry.purpose, "payment");
        assert!(
            e.entry
                .source
                .starts_with("web GET /desk?from=2026-01-05&to=2026-01-05 from "),
            "{}",
            e.entry.source
        );
    }

    // Today is the default; the next day shows the booking.
    desk.get("/desk")
        .await
        .shows("Calendar for Monday 5 January 2026");
    let next = desk.get("/desk?day=2026-01-06").await;
    assert!(column(&next, "t-rivera").contains("prep-1"));
    next.shows("Booked")
        .shows("href=\"/desk?day=2026-01-05\"")
        .shows("href=\"/desk?day=2026-01-07\"")
        .hides("double-booked");

    // The week holds both days.
    let week = desk.get("/desk?week=2026-01-07").await;
    assert_eq!(week.status, 200);
    week.shows("the week of Monday 5 January 2026 to Sunday 11 January 2026")
        .shows("Tuesday 6 January 2026");
    let rivera = column(&week, "t-rivera");
    assert!(
        rivera.contains("prep-1") && rivera.contains("intake-1"),
        "{rivera}"
    );

    // A bad day names the field.
    let bad = desk.get("/desk?day=2026-13-01").await;
    assert_eq!(bad.status, 400);
    bad.shows("day: expected a date as YYYY-MM-DD");
    app.stop().await;
}

async fn the_booking_form_leads_to_the_schedule_form_or_names_the_wrong_field(url: &str) {
    let app = ApiApp::spawn(url).await;
    let _ = app.staff().await;
    let desk = app.browser("fd-jones", "payment").await;

    // The calendar's form, filled in from its link.
    let page = desk
        .get("/desk?day=2026-01-07&therapist=t-okafor&client=client-9")
        .await;
    page.shows("<form method=\"get\" action=\"/desk/book\"")
        .shows("value=\"client-9\"")
        .shows("<option value=\"t-okafor\" selected>")
        .shows("value=\"2026-01-07\"");

    let events = app.events().await;
    let sent = desk
        .get("/desk/book?client=client-1&kind=exploration&therapist=t-rivera&day=2026-01-07&time=10%3A30")
        .await;
    assert_eq!(sent.status, 303, "{}", sent.html);
    assert_eq!(
        sent.location.as_deref(),
        Some(
            "/act/schedule-exploration?client=client-1&therapist=t-rivera&day=2026-01-07\
             &time=10%3A30&return_to=%2Fdesk%3Fday%3D2026-01-07"
        )
    );

    let wrong = desk
        .get(
            "/desk/book?client=not+an+id&kind=dosing&therapist=rx-chen&day=2026-02-30&time=25%3A00",
        )
        .await;
    assert_eq!(wrong.status, 400);
    wrong
        .shows("Client id: ")
        .shows("Session kind: choose preparation, exploration or integration")
        .shows("Therapist: choose one of the practice&#39;s therapists")
        .shows("Date: expected a date as YYYY-MM-DD")
        .shows("Time: expected a time as HH:MM (24-hour)")
        .shows("value=\"not an id\"")
        .shows("aria-describedby=\"book-client-hint book-client-error\" aria-invalid=\"true\"")
        .shows("id=\"book-time\" name=\"time\" value=\"25:00\" required aria-invalid=\"true\" aria-describedby=\"book-time-error\"");
    assert_eq!(app.events().await, events, "nothing is written");

    // The navigation's "Register a client" is the register form.
    let register = desk.get("/desk/register").await;
    assert_eq!(register.status, 303);
    assert_eq!(register.location.as_deref(), Some("/act/register-client"));
    app.stop().await;
}

async fn the_clients_list_shows_every_client_with_their_balance(url: &str) {
    let app = ApiApp::spawn(url).await;
    let s = app.staff().await;
    three_clients(&app, &s).await;
    app.commands_ok(
        "client-1",
        &[(
            &s.front_desk,
            "c1-pay",
            body(payment("pay-1", 5_000, date(0))),
        )],
    )
    .await;
    app.commands_ok(
        "client-4",
        &[(
            &s.front_desk,
            "c4-1",
            register("client-4", "Dana New", "t-okafor"),
        )],
    )
    .await;
    views_current(&app).await;
    let desk = app.browser("fd-jones", "payment").await;

    let before = log(&app).await.len();
    let page = desk.get("/desk/clients").await;
    assert_eq!(page.status, 200, "{}", page.html);
    page.shows("Alex Example")
        .shows("Dana New")
        .shows("$125.00 owed")
        .shows("$175.00 owed")
        .shows("$0.00 (nothing owed)")
        .shows("href=\"/act/register-client\"")
        .shows("href=\"/clients/client-1/billing\"")
        .shows("href=\"/clients/client-1/superbill\"")
        .shows(
            "href=\"/act/record-payment?client=client-1&#38;return_to=/clients/client-1/billing\"",
        )
        .hides(NOTE);
    let entries = log_since(&app, before).await;
    let clients: Vec<&str> = entries.iter().map(client_of).collect();
    assert_eq!(clients, ["client-1", "client-2", "client-3", "client-4"]);
    for e in &entries {
        assert_eq!(e.entry.action, AccessAction::Query);
        assert_eq!(
            e.entry.categories,
            [DataCategory::Billing, DataCategory::Demographics]
        );
        assert!(e.entry.source.starts_with("web GET /desk/clients from "));
    }
    app.stop().await;
}

async fn billing_shows_charges_payments_and_the_balance_after_payments(url: &str) {
    let app = ApiApp::spawn(url).await;
    let s = app.staff().await;
    three_clients(&app, &s).await;
    let desk = app.browser("fd-jones", "payment").await;

    let page = desk.get("/clients/client-1/billing").await;
    assert_eq!(page.status, 200, "{}", page.html);
    page.shows("Billing for client-1")
        .shows("Alex Example")
        .shows("90791")
        .shows("$175.00 owed")
        .shows("No payments yet.")
        .hides(NOTE);

    app.commands_ok(
        "client-1",
        &[
            (
                &s.front_desk,
                "p-1",
                body(payment("pay-1", 10_000, date(0))),
            ),
            (
                &s.front_desk,
                "p-2",
                body(payment("pay-2", 123_450, date(0))),
            ),
        ],
    )
    .await;
    views_current(&app).await;
    let before = log(&app).await.len();
    let page = desk
        .get("/clients/client-1/billing?done=record-payment")
        .await;
    assert_eq!(page.status, 200);
    page.shows("The payment is recorded.")
        .shows("pay-1")
        .shows("$100.00")
        .shows("$1,234.50")
        .shows("$1,334.50 (2)")
        .shows("$1,159.50 in credit")
        .shows("Card")
        .shows("href=\"/act/record-payment?client=client-1")
        .shows("href=\"/clients/client-1/superbill\"")
        .hides(NOTE);
    let entries = log_since(&app, before).await;
    assert_eq!(entries.len(), 1, "{entries:#?}");
    let e = &entries[0].entry;
    assert_eq!(client_of(&entries[0]), "client-1");
    assert_eq!(e.action, AccessAction::Query);
    assert_eq!(
        e.categories,
        [DataCategory::Billing, DataCategory::Demographics]
    );
    assert!(
        e.source
            .starts_with("web GET /clients/client-1/billing from "),
        "{}",
        e.source
    );

    // An unknown client and a malformed id.
    assert_eq!(desk.get("/clients/client-404/billing").await.status, 404);
    let bad = desk.get("/clients/no%20such/billing").await;
    assert_eq!(bad.status, 400);
    bad.shows("client id in the address");
    app.stop().await;
}

/// `GET path` by a fresh session of `user`, with the reply's headers.
async fn download(
    app: &ApiApp,
    user: &str,
    path: &str,
) -> (u16, reqwest::header::HeaderMap, String) {
    let opened = kapchart_store::web_sessions::open(
        &app.db,
        &UserId::parse(user).expect("id"),
        "payment",
        app.now(),
    )
    .await
    .expect("session");
    let reply = reqwest::Client::new()
        .get(format!("{}{path}", app.base))
        .header(
            "cookie",
            format!("{}={}", kapchart_web::session::COOKIE, opened.secret),
        )
        .send()
        .await
        .expect("answers");
    let status = reply.status().as_u16();
    let headers = reply.headers().clone();
    (status, headers, reply.text().await.expect("body"))
}

async fn the_superbill_prints_and_downloads_as_csv(url: &str) {
    let app = ApiApp::spawn(url).await;
    let s = app.staff().await;
    app.on(0);
    // A name a spreadsheet would run as a formula.
    let name = "=HYPERLINK(\"http://example.invalid\",\"x\")";
    app.commands_ok(
        "client-1",
        &[
            (&s.front_desk, "r-1", register("client-1", name, "t-rivera")),
            (
                &s.therapist,
                "r-2",
                body(intake("intake-1", span(0, 9, 10), Suitability::Suitable)),
            ),
            (&s.front_desk, "r-3", body(payment("pay-1", 5_000, date(0)))),
        ],
    )
    .await;
    views_current(&app).await;
    let desk = app.browser("fd-jones", "payment").await;

    let before = log(&app).await.len();
    let page = desk
        .get("/clients/client-1/superbill?from=2026-01-01&to=2026-01-31")
        .await;
    assert_eq!(page.status, 200, "{}", page.html);
    page.shows("Superbill for client-1")
        .shows("=HYPERLINK(&#34;http://example.invalid&#34;,&#34;x&#34;)")
        .shows("1985-03-14")
        .shows("F33.1")
        .shows("Thursday 1 January 2026 to Saturday 31 January 2026")
        .shows("2026-01-05")
        .shows("11 (office)")
        .shows("90791")
        .shows("t-rivera")
        .shows("$175.00")
        .shows("$50.00")
        .shows("$125.00")
        .shows("Print command")
        .shows("has not set its identity yet")
        .shows("href=\"/clients/client-1/superbill.csv?from=2026-01-01&#38;to=2026-01-31\"")
        .hides(NOTE);
    let entries = log_since(&app, before).await;
    assert_eq!(entries.len(), 1, "{entries:#?}");
    assert_eq!(entries[0].entry.action, AccessAction::Print);
    assert_eq!(
        entries[0].entry.source.split(" from ").next(),
        Some("web GET /clients/client-1/superbill?from=2026-01-01&to=2026-01-31")
    );
    assert_eq!(
        entries[0].entry.categories,
        [DataCategory::Billing, DataCategory::Demographics]
    );

    // The CSV: the same lines, the name neutralized, logged as an export.
    let before = log(&app).await.len();
    let (status, headers, text) = download(
        &app,
        "fd-jones",
        "/clients/client-1/superbill.csv?from=2026-01-01&to=2026-01-31",
    )
    .await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(
        headers.get("content-type").and_then(|v| v.to_str().ok()),
        Some("text/csv; charset=utf-8")
    );
    assert_eq!(
        headers
            .get("content-disposition")
            .and_then(|v| v.to_str().ok()),
        Some("attachment; filename=\"superbill-client-1-2026-01-01-2026-01-31.csv\"")
    );
    assert_eq!(
        headers.get("cache-control").and_then(|v| v.to_str().ok()),
        Some("no-store")
    );
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let columns: Vec<String> = reader
        .headers()
        .expect("a header row")
        .iter()
        .map(str::to_owned)
        .collect();
    let col = |name: &str| columns.iter().position(|c| c == name).expect(name);
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("a row")).collect();
    let lines: Vec<(&str, &str, &str, &str)> = rows
        .iter()
        .map(|r| {
            (
                &r[col("line")],
                &r[col("cpt_code")],
                &r[col("fee_cents")],
                &r[col("paid_cents")],
            )
        })
        .collect();
    assert_eq!(
        lines,
        [
            ("service", "90791", "17500", "0"),
            ("payment", "", "", "5000"),
            ("total", "", "17500", "5000"),
        ]
    );
    for r in &rows {
        assert_eq!(&r[col("client_name")], format!("'{name}"), "neutralized");
    }
    let entries = log_since(&app, before).await;
    assert_eq!(entries.len(), 1, "{entries:#?}");
    assert_eq!(entries[0].entry.action, AccessAction::Export);
    assert!(entries[0].entry.source.starts_with(
        "web GET /clients/client-1/superbill.csv?from=2026-01-01&to=2026-01-31 from "
    ));

    // No period: every date, and the file says so.
    let (status, headers, _) = download(&app, "fd-jones", "/clients/client-1/superbill.csv").await;
    assert_eq!(status, 200);
    assert_eq!(
        headers
            .get("content-disposition")
            .and_then(|v| v.to_str().ok()),
        Some("attachment; filename=\"superbill-client-1-all-all.csv\"")
    );
    // A period that is not one names the field; nothing is logged.
    let before = log(&app).await.len();
    let bad = desk
        .get("/clients/client-1/superbill?from=2026-02-01&to=2026-01-01")
        .await;
    assert_eq!(bad.status, 400);
    bad.shows("from");
    let bad = desk.get("/clients/client-1/superbill?from=yesterday").await;
    assert_eq!(bad.status, 400);
    bad.shows("from: expected a date as YYYY-MM-DD");
    assert_eq!(log(&app).await.len(), before, "a refused read logs nothing");

    // The same service read through the API is a query.
    let reply = app
        .get(
            &s.front_desk,
            "/api/v1/clients/client-1/superbill?purpose=payment",
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let entries = log_since(&app, before).await;
    assert_eq!(entries.len(), 1, "{entries:#?}");
    assert_eq!(entries[0].entry.action, AccessAction::Query);
    assert!(entries[0].entry.source.starts_with("api GET "));
    assert_eq!(reply.body.get("practice"), None, "no identity, no header");

    // Once the practice sets its identity and lists its provider, the
    // superbill carries them: the header, the place of service, the
    // provider's name, credentials and NPI.
    for (id, change) in [
        ("identity", settings::identity_in("America/Los_Angeles")),
        (
            "provider",
            settings::provider(&therapist(), "therapist", "1245319599"),
        ),
    ] {
        let request = json!({ "id": id, "body": change });
        let r = app
            .send(
                reqwest::Method::POST,
                "/api/v1/practice/commands",
                Some(&s.admin),
                Some(serde_json::to_vec(&request).expect("json")),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let page = desk
        .get("/clients/client-1/superbill?from=2026-01-01&to=2026-01-31")
        .await;
    assert_eq!(page.status, 200, "{}", page.html);
    page.shows("Harbor KAP Clinic")
        .shows("100 Harbor Way")
        .shows("San Francisco, CA 94110")
        .shows("12-3456789")
        .shows("1234567893")
        .shows("Sam Rivera, LMFT (NPI 1245319599)")
        .shows("11 (office)")
        .hides("has not set its identity yet");
    let reply = app
        .get(
            &s.front_desk,
            "/api/v1/clients/client-1/superbill?purpose=payment",
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(
        reply.body["practice"]["npi"], "1234567893",
        "{}",
        reply.body
    );
    assert_eq!(reply.body["practice"]["tax_id"], "12-3456789");
    let service = &reply.body["rows"][0];
    assert_eq!(service["rendering_provider_npi"], "1245319599", "{service}");
    assert_eq!(service["rendering_provider_credentials"], "LMFT");
    assert_eq!(service["place_of_service"], "11");
    assert_eq!(service["cpt_code"], "90791");
    app.stop().await;
}

async fn other_roles_are_refused_and_no_page_shows_a_note(url: &str) {
    let app = ApiApp::spawn(url).await;
    let s = app.staff().await;
    three_clients(&app, &s).await;
    let therapist = app.browser("t-rivera", "treatment").await;
    let prescriber = app.browser("rx-chen", "treatment").await;
    let before = log(&app).await.len();
    for path in [
        "/clients/client-1/billing",
        "/clients/client-1/superbill",
        "/clients/client-1/superbill.csv",
        "/desk/clients",
    ] {
        let page = therapist.get(path).await;
        assert_eq!(page.status, 403, "therapist {path}");
        page.hides("Alex Example");
        assert_eq!(prescriber.get(path).await.status, 403, "prescriber {path}");
    }
    assert_eq!(prescriber.get("/desk").await.status, 403);
    assert_eq!(log(&app).await.len(), before, "refused reads log nothing");

    // Every desk page of front desk, with a client whose intake notes the
    // pages must never show.
    let desk = app.browser("fd-jones", "payment").await;
    for path in [
        "/desk?day=2026-01-05",
        "/desk?week=2026-01-05",
        "/desk/clients",
        "/clients/client-1/billing",
        "/clients/client-1/superbill",
    ] {
        let page = desk.get(path).await;
        assert_eq!(page.status, 200, "{path}");
        page.hides(NOTE).hides("prior SSRIs");
    }
    let (_, _, csv) = download(&app, "fd-jones", "/clients/client-1/superbill.csv").await;
    assert!(!csv.contains(NOTE), "{csv}");
    // Without a session: sent to sign in.
    let anonymous = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
        .get(format!("{}/clients/client-1/billing", app.base))
        .send()
        .await
        .expect("answers");
    assert_eq!(anonymous.status().as_u16(), 303);
    app.stop().await;
}

/// The schedule of a day reads only the sessions of that day and the days
/// beside it; a session that began the evening before and overlaps one
/// of the day is still found, whichever day is asked for.
async fn a_double_booking_across_midnight_is_flagged_on_either_day(url: &str) {
    let app = ApiApp::spawn(url).await;
    let s = app.staff().await;
    app.on(4);
    let late = kapchart_domain::TimeSpan::new(
        day(0) + chrono::Duration::minutes(23 * 60 + 30),
        day(1) + chrono::Duration::minutes(30),
    )
    .expect("a span");
    let steps: Vec<(&str, &str, Value)> = vec![
        (
            "c1-1",
            "client-1",
            register("client-1", "Alex Example", "t-rivera"),
        ),
        (
            "c1-2",
            "client-1",
            body(intake("intake-1", late, Suitability::Suitable)),
        ),
        (
            "c2-1",
            "client-2",
            register("client-2", "Blair Sample", "t-rivera"),
        ),
        (
            "c2-2",
            "client-2",
            body(intake("intake-1", span(1, 0, 1), Suitability::Suitable)),
        ),
        (
            "c3-1",
            "client-3",
            register("client-3", "Casey Person", "t-rivera"),
        ),
        (
            "c3-2",
            "client-3",
            body(intake("intake-1", span(3, 9, 10), Suitability::Suitable)),
        ),
    ];
    for (id, client, b) in steps {
        let token = if id.ends_with("-1") {
            &s.front_desk
        } else {
            &s.therapist
        };
        let reply = app.command(token, client, id, &b).await;
        assert_eq!(reply.status, 200, "{client} {id}: {}", reply.body);
    }
    views_current(&app).await;
    for (d, shown, with) in [(0, "client-1", "client-2"), (1, "client-2", "client-1")] {
        let q = format!(
            "/api/v1/schedule?purpose=operations&from={0}&to={0}",
            date(d)
        );
        let reply = app.get(&s.front_desk, &q).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        let rows = reply.body["rows"].as_array().expect("rows");
        assert_eq!(rows.len(), 1, "day {d}: {}", reply.body);
        assert_eq!(rows[0]["client_id"], shown, "day {d}");
        let flagged = rows[0].to_string();
        assert!(flagged.contains(with), "day {d}: {flagged}");
    }
    app.stop().await;
}
