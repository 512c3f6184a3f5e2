//! Refusals and guards in a real browser (headless Chromium over
//! WebDriver) against `kapchart serve` on the real clock: a refused
//! exploration shows the rule's message, keeps what was typed and writes
//! nothing; a soft stop is passed with an override reason; a double
//! booking shows the clash; a post without the CSRF token is a 403 page;
//! other roles' pages are 403 pages (and a client not the therapist's
//! looks like one that does not exist); an idle session is signed out;
//! each page view of a chart is one `query` entry of the access log, and a
//! refused one is none.
//!
//! The client's record is set up through the JSON API with the users'
//! bearer tokens (sessions held yesterday or before, booked tomorrow or
//! after), then the step under test is done in the browser. axe-core runs
//! on each new page shown; screenshots go to target/browser-screenshots/.

mod browser;

use browser::{Browser, Practice, sign_in_through_store};
use chrono::{DateTime, Duration, NaiveDate, SecondsFormat, Utc};
use kapchart_domain as d;
use kapchart_store::Database;
use kapchart_store::access::AccessAction;
use serde_json::json;

/// The client every test sets up: therapist t-rivera, prescriber rx-chen.
const CLIENT: &str = "client-1";

/// The staff's accounts (each printed its bearer token).
struct Staff {
    therapist: String,
    prescriber: String,
    desk: String,
}

fn staff(practice: &Practice) -> Staff {
    let therapist = practice.create_user("t-rivera", "therapist").token;
    let prescriber = practice.create_user("rx-chen", "prescriber").token;
    let desk = practice.create_user("fd-jones", "front_desk").token;
    Staff {
        therapist,
        prescriber,
        desk,
    }
}

/// Today (UTC: `kapchart serve`'s default time zone, in which the forms
/// read days and times).
fn today() -> NaiveDate {
    Utc::now().date_naive()
}

/// Midnight UTC of `n` days from today.
fn midnight(n: i64) -> DateTime<Utc> {
    (today() + Duration::days(n))
        .and_hms_opt(0, 0, 0)
        .expect("midnight")
        .and_utc()
}

/// The day `n` days from today as the forms take it: `2026-03-01`.
fn day(n: i64) -> String {
    (today() + Duration::days(n)).format("%Y-%m-%d").to_string()
}

/// A span on day `n` (from today) from hour `from` to hour `to`.
fn span(n: i64, from: i64, to: i64) -> d::TimeSpan {
    d::TimeSpan::new(
        midnight(n) + Duration::hours(from),
        midnight(n) + Duration::hours(to),
    )
    .expect("a span")
}

fn text(s: &str) -> d::Text {
    d::Text::new(s).expect("text")
}

fn sid(s: &str) -> d::SessionId {
    d::SessionId::parse(s).expect("a session id")
}

fn uid(s: &str) -> d::UserId {
    d::UserId::parse(s).expect("a user id")
}

fn mg(n: i64) -> d::Milligrams {
    d::Milligrams::new(n).expect("a dose")
}

fn register(client: &str, name: &str) -> d::CommandBody {
    d::CommandBody::RegisterClient(d::RegisterClient {
        client_id: d::ClientId::parse(client).expect("a client id"),
        name: d::PersonName::new(name).expect("a name"),
        date_of_birth: NaiveDate::from_ymd_opt(1985, 3, 14).expect("a date"),
        therapist: uid("t-rivera"),
        prescriber: Some(uid("rx-chen")),
    })
}

fn intake(session: &str, span: d::TimeSpan) -> d::CommandBody {
    d::CommandBody::RecordIntake(d::RecordIntake {
        session: sid(session),
        span,
        finding: d::Suitability::Suitable,
        diagnoses: vec![d::Icd10Code::new("F33.1").expect("a code")],
        notes: text("treatment-resistant depression; prior SSRIs"),
    })
}

fn schedule(session: &str, span: d::TimeSpan) -> d::ScheduleSession {
    d::ScheduleSession {
        session: sid(session),
        span,
        therapist: uid("t-rivera"),
    }
}

/// Posts a command to `client`'s record through the JSON API as the
/// holder of `token`; it must be applied.
async fn command(practice: &Practice, token: &str, client: &str, id: &str, body: d::CommandBody) {
    let reply = reqwest::Client::new()
        .post(format!(
            "{}/api/v1/clients/{client}/commands",
            practice.base()
        ))
        .bearer_auth(token)
        .json(&json!({ "id": id, "body": body }))
        .send()
        .await
        .expect("the API answers");
    let status = reply.status();
    let text = reply.text().await.unwrap_or_default();
    assert!(status.is_success(), "{id}: {status} {text}");
}

/// Registers [`CLIENT`] and takes it through intake (two days ago),
/// clearance, prescription and consent, and a preparation held two days
/// ago if `prepared`.
async fn client_through_the_api(practice: &Practice, staff: &Staff, prepared: bool) {
    let t = staff.therapist.as_str();
    let rx = staff.prescriber.as_str();
    command(
        practice,
        &staff.desk,
        CLIENT,
        "s-1",
        register(CLIENT, "Alex Example"),
    )
    .await;
    command(
        practice,
        t,
        CLIENT,
        "s-2",
        intake("intake-1", span(-2, 9, 10)),
    )
    .await;
    let evaluated = d::CommandBody::RecordMedicalEvaluation(d::RecordMedicalEvaluation {
        evaluated_on: today() - Duration::days(2),
        finding: d::Clearance::Cleared,
        notes: text("no contraindications found"),
    });
    command(practice, rx, CLIENT, "s-3", evaluated).await;
    let prescription = d::CommandBody::IssuePrescription(d::IssuePrescription {
        prescription: d::PrescriptionId::parse("rx-1").expect("an id"),
        drug: d::Drug::Ketamine,
        valid: d::DateRange::new(today() - Duration::days(10), today() + Duration::days(300))
            .expect("a range"),
        dosing: d::Dosing::new(mg(100), mg(300), mg(150), mg(50)).expect("dosing"),
        authorized_sessions: d::SessionCount::new(8).expect("a count"),
        instructions: text("sublingual lozenge, hold 15 minutes"),
    });
    command(practice, rx, CLIENT, "s-4", prescription).await;
    let consent = d::CommandBody::RecordConsent(d::RecordConsent {
        signed_on: today() - Duration::days(2),
        form: text("KAP informed consent v3"),
    });
    command(practice, t, CLIENT, "s-5", consent).await;
    if prepared {
        let preparation = d::CommandBody::RecordPreparation(d::RecordPreparation {
            session: sid("prep-1"),
            span: span(-2, 10, 11),
            intentions: text("reconnect with family"),
            aftercare_plan: text("partner drives home; journaling"),
            notes: text("discussed what to expect"),
        });
        command(practice, t, CLIENT, "s-6", preparation).await;
    }
}

/// Events in the practice's store.
async fn events(practice: &Practice) -> i64 {
    const SQL: &str = "SELECT count(*) FROM events";
    let db = Database::open(practice.database_url())
        .await
        .expect("the practice's database opens");
    let count = match &db {
        Database::Postgres(pool) => sqlx::query_scalar(SQL).fetch_one(pool).await,
        Database::Sqlite(pool) => sqlx::query_scalar(SQL).fetch_one(pool).await,
    }
    .expect("count events");
    db.close().await;
    count
}

/// The text of the page's error summary (`role="alert"`).
async fn alert(browser: &Browser) -> String {
    assert!(
        browser.exists("[role=alert]").await,
        "no error summary on {}",
        browser.describe().await
    );
    browser.text("[role=alert]").await
}

/// Asserts the browser shows the 403 page.
async fn assert_forbidden(browser: &Browser, what: &str) {
    assert_eq!(
        browser.h1().await,
        "403 Forbidden",
        "{what}: not the 403 page: {}",
        browser.describe().await
    );
    assert!(browser.exists("[role=alert]").await, "{what}: the message");
}

/// 1. A therapist records an exploration for a client with no completed
/// preparation: the form comes back with the rule's message in its error
/// summary, everything as typed, and no event written.
#[tokio::test]
async fn a_refused_exploration_shows_the_rule_keeps_what_was_typed_and_writes_nothing() {
    let practice = Practice::sqlite();
    let staff = staff(&practice);
    client_through_the_api(&practice, &staff, false).await;
    let browser = Browser::open(&practice).await;
    sign_in_through_store(&browser, &practice, "t-rivera", "therapist").await;

    browser
        .goto(&format!("/act/record-exploration?client={CLIENT}"))
        .await;
    browser.axe("record-exploration").await;
    browser.screenshot("record-exploration").await;
    let before = events(&practice).await;
    let yesterday = day(-1);
    for (name, value) in [
        ("session", "x1"),
        ("span_date", yesterday.as_str()),
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
    ] {
        browser.fill(name, value).await;
    }
    browser.submit().await;

    assert!(
        browser.path().await.starts_with("/act/record-exploration"),
        "{}",
        browser.describe().await
    );
    let summary = alert(&browser).await;
    assert!(
        summary.contains("Exploration needs at least one completed preparation session")
            && summary.contains("exploration.no_preparation"),
        "{summary:?}"
    );
    for (name, typed) in [
        ("session", "x1"),
        ("span_date", yesterday.as_str()),
        ("span_start", "10:00"),
        ("dose", "150"),
        ("lot_number", "LOT-77-A"),
        ("bp_before_systolic", "122"),
        ("observations", "typed observations stay"),
        ("departure", "taxi_or_rideshare"),
    ] {
        assert_eq!(browser.field_value(name).await, typed, "{name} is kept");
    }
    assert!(
        !browser.exists("[name=override_reason]").await,
        "a hard stop offers no override"
    );
    browser.axe("record-exploration-refused").await;
    browser.screenshot("record-exploration-refused").await;
    assert_eq!(events(&practice).await, before, "a refusal writes nothing");
    browser.close().await;
}

/// 2. A second exploration booked three days after the first is too soon
/// (a soft stop): the form offers the override; with a reason it is
/// booked, and the chart shows the override.
#[tokio::test]
async fn a_soft_stop_is_passed_with_an_override_reason() {
    let practice = Practice::sqlite();
    let staff = staff(&practice);
    client_through_the_api(&practice, &staff, true).await;
    let first = d::CommandBody::ScheduleExploration(schedule("x1", span(2, 10, 13)));
    command(&practice, &staff.therapist, CLIENT, "s-7", first).await;
    let browser = Browser::open(&practice).await;
    sign_in_through_store(&browser, &practice, "t-rivera", "therapist").await;

    browser
        .goto(&format!("/act/schedule-exploration?client={CLIENT}"))
        .await;
    browser.axe("schedule-exploration").await;
    browser.screenshot("schedule-exploration").await;
    let before = events(&practice).await;
    let later = day(5);
    browser.fill("session", "x2").await;
    browser.fill("span_date", &later).await;
    browser.fill("span_start", "10:00").await;
    browser.fill("span_end", "13:00").await;
    browser.fill("therapist", "t-rivera").await;
    browser.submit().await;

    // Refused, the override offered.
    let summary = alert(&browser).await;
    assert!(summary.contains("exploration.too_soon"), "{summary:?}");
    let legends = browser.texts("main fieldset legend").await;
    assert!(
        legends
            .iter()
            .any(|l| l.contains("Override exploration.too_soon")),
        "{legends:?}"
    );
    assert_eq!(browser.field_value("span_date").await, later);
    browser.axe("schedule-exploration-soft-stop").await;
    browser.screenshot("schedule-exploration-soft-stop").await;
    assert_eq!(events(&practice).await, before);

    // With a reason: booked.
    let reason = "client travels next week; prescriber agrees";
    browser.fill("override_reason", reason).await;
    browser.submit().await;
    assert_eq!(
        browser.path().await,
        format!("/clients/{CLIENT}?done=schedule-exploration"),
        "{}",
        browser.describe().await
    );
    assert!(
        browser.exists("[role=status]").await,
        "the done notice: {}",
        browser.describe().await
    );
    assert_eq!(events(&practice).await, before + 1);
    let overrides = browser.texts("main p").await;
    assert!(
        overrides
            .iter()
            .any(|p| p.starts_with("Override:") && p.contains(reason)),
        "the chart shows the override: {:?}",
        overrides
            .iter()
            .filter(|p| p.contains("Override"))
            .collect::<Vec<_>>()
    );
    browser.axe("chart-after-override").await;
    browser.screenshot("chart-after-override").await;
    browser.close().await;
}

/// 3. The front desk books a preparation for a second client of t-rivera
/// at a time he already has one: the schedule form shows the clash on the
/// session's time, nothing written.
#[tokio::test]
async fn a_double_booking_shows_the_clash_on_the_form() {
    let practice = Practice::sqlite();
    let staff = staff(&practice);
    client_through_the_api(&practice, &staff, false).await;
    let second = "client-2";
    command(
        &practice,
        &staff.desk,
        second,
        "d-1",
        register(second, "Sam Sample"),
    )
    .await;
    command(
        &practice,
        &staff.therapist,
        second,
        "d-2",
        intake("intake-9", span(-2, 11, 12)),
    )
    .await;
    let booked = d::CommandBody::SchedulePreparation(schedule("prep-a", span(1, 10, 11)));
    command(&practice, &staff.desk, CLIENT, "d-3", booked).await;

    let browser = Browser::open(&practice).await;
    sign_in_through_store(&browser, &practice, "fd-jones", "front_desk").await;
    let tomorrow = day(1);
    // The calendar's booking form, filled in from the therapist's link.
    browser
        .goto(&format!("/desk?day={tomorrow}&therapist=t-rivera#book"))
        .await;
    browser.axe("desk-day-booking").await;
    browser.screenshot("desk-day-booking").await;
    browser.fill("client", second).await;
    browser.fill("kind", "preparation").await;
    browser.fill("therapist", "t-rivera").await;
    browser.fill("time", "10:30").await;
    browser.submit().await;
    assert!(
        browser
            .path()
            .await
            .starts_with("/act/schedule-preparation"),
        "{}",
        browser.describe().await
    );
    assert_eq!(browser.field_value("client_id").await, second);
    assert_eq!(browser.field_value("span_date").await, tomorrow);
    assert_eq!(browser.field_value("span_start").await, "10:30");
    assert_eq!(browser.field_value("span_end").await, "11:30");
    browser.axe("schedule-preparation").await;
    browser.screenshot("schedule-preparation").await;

    let before = events(&practice).await;
    browser.fill("session", "prep-b").await;
    browser.submit().await;
    let summary = alert(&browser).await;
    assert!(
        summary.contains("Therapist t-rivera has another client")
            && summary.contains("schedule.therapist_double_booked"),
        "{summary:?}"
    );
    let on_time = browser.field_error("span_date").await;
    assert!(
        on_time
            .as_deref()
            .is_some_and(|e| e.contains("schedule.therapist_double_booked")),
        "the clash is on the session's time: {on_time:?}"
    );
    assert_eq!(browser.field_value("span_start").await, "10:30");
    assert_eq!(browser.field_value("session").await, "prep-b");
    browser.axe("schedule-preparation-double-booked").await;
    browser
        .screenshot("schedule-preparation-double-booked")
        .await;
    assert_eq!(events(&practice).await, before, "nothing written");
    browser.close().await;
}

/// 4. A form posted without its CSRF token, from the page (the hidden
/// input removed) or from outside (the session cookie, no token): a 403
/// page, nothing written.
#[tokio::test]
async fn a_post_without_the_csrf_token_is_refused() {
    let practice = Practice::sqlite();
    let staff = staff(&practice);
    client_through_the_api(&practice, &staff, false).await;
    let browser = Browser::open(&practice).await;
    sign_in_through_store(&browser, &practice, "t-rivera", "therapist").await;

    browser
        .goto(&format!("/act/record-consent?client={CLIENT}"))
        .await;
    browser.axe("record-consent").await;
    browser.screenshot("record-consent").await;
    let command_id = browser.field_value("command_id").await;
    let before = events(&practice).await;
    browser.fill("signed_on", &day(0)).await;
    browser.fill("form", "KAP informed consent v4").await;
    let removed = browser
        .script(
            "const csrf = document.querySelectorAll('input[name=csrf]');
             csrf.forEach((input) => input.remove());
             return csrf.length;",
            vec![],
        )
        .await;
    assert!(removed.as_u64().unwrap_or(0) >= 1, "{removed}");
    browser.submit().await;
    assert_forbidden(&browser, "a post without the token").await;
    browser.axe("csrf-refused").await;
    browser.screenshot("csrf-refused").await;
    assert_eq!(events(&practice).await, before, "nothing written");

    // From outside: the session's cookie, no token.
    let cookie = browser
        .client()
        .get_named_cookie(kapchart_web::session::COOKIE)
        .await
        .expect("the session cookie");
    let reply = reqwest::Client::new()
        .post(format!("{}/act/record-consent", practice.base()))
        .header(
            "cookie",
            format!("{}={}", kapchart_web::session::COOKIE, cookie.value()),
        )
        .form(&[
            ("client_id", CLIENT),
            ("command_id", command_id.as_str()),
            ("return_to", ""),
            ("signed_on", &day(0)),
            ("form", "KAP informed consent v4"),
        ])
        .send()
        .await
        .expect("the server answers");
    assert_eq!(reply.status().as_u16(), 403);
    assert_eq!(events(&practice).await, before, "nothing written");
    // The session itself still works.
    browser.goto(&format!("/clients/{CLIENT}")).await;
    assert!(
        !browser.h1().await.starts_with("403"),
        "{}",
        browser.describe().await
    );
    browser.close().await;
}

/// 5. Other roles' pages: the front desk on the chart and the therapist's
/// pages, another therapist on a client not theirs (the same page as an
/// unknown client), a therapist on billing: the 403 page, and no access
/// log entry.
#[tokio::test]
async fn other_roles_pages_are_the_403_page_and_log_nothing() {
    let practice = Practice::sqlite();
    let staff = staff(&practice);
    practice.create_user("t-okafor", "therapist");
    client_through_the_api(&practice, &staff, false).await;
    let log_before = practice.access_log().await.len();

    let desk = Browser::open(&practice).await;
    sign_in_through_store(&desk, &practice, "fd-jones", "front_desk").await;
    desk.goto(&format!("/clients/{CLIENT}")).await;
    assert_forbidden(&desk, "the front desk on the chart").await;
    desk.axe("forbidden-chart-front-desk").await;
    desk.screenshot("forbidden-chart-front-desk").await;
    desk.goto("/therapist").await;
    assert_forbidden(&desk, "the front desk on /therapist").await;
    desk.axe("forbidden-therapist-front-desk").await;
    desk.screenshot("forbidden-therapist-front-desk").await;
    desk.close().await;

    let other = Browser::open(&practice).await;
    sign_in_through_store(&other, &practice, "t-okafor", "therapist").await;
    other.goto(&format!("/clients/{CLIENT}")).await;
    assert_forbidden(&other, "another therapist's client").await;
    let not_theirs = (other.title().await, other.h1().await, alert(&other).await);
    other.axe("forbidden-chart-not-assigned").await;
    other.screenshot("forbidden-chart-not-assigned").await;
    other.goto("/clients/client-404").await;
    let unknown = (other.title().await, other.h1().await, alert(&other).await);
    assert_eq!(
        not_theirs, unknown,
        "a client not theirs looks like one that does not exist"
    );
    other.close().await;

    let therapist = Browser::open(&practice).await;
    sign_in_through_store(&therapist, &practice, "t-rivera", "therapist").await;
    therapist.goto(&format!("/clients/{CLIENT}/billing")).await;
    assert_forbidden(&therapist, "a therapist on billing").await;
    therapist.axe("forbidden-billing-therapist").await;
    therapist.screenshot("forbidden-billing-therapist").await;
    therapist.close().await;

    // The refused reads logged nothing.
    let log = practice.access_log().await;
    let written: Vec<_> = log[log_before..]
        .iter()
        .map(|r| {
            (
                r.entry.actor.user_id.as_str().to_owned(),
                r.entry.action,
                r.entry.source.clone(),
            )
        })
        .collect();
    assert!(written.is_empty(), "{written:#?}");
}

/// 6. A session idle for longer than the limit (15 minutes) is ended on
/// the next page: the browser lands on the sign-in page with the notice,
/// and the access log has the sign-out.
#[tokio::test]
async fn an_idle_session_is_signed_out() {
    let practice = Practice::sqlite();
    practice.create_user("t-rivera", "therapist");
    let browser = Browser::open(&practice).await;
    sign_in_through_store(&browser, &practice, "t-rivera", "therapist").await;
    browser.goto("/therapist").await;
    assert_eq!(browser.path().await, "/therapist");

    let idle_since =
        (Utc::now() - Duration::minutes(16)).to_rfc3339_opts(SecondsFormat::Micros, true);
    let db = Database::open(practice.database_url())
        .await
        .expect("the practice's database opens");
    const SQL: &str =
        "UPDATE web_sessions SET last_seen_at = ? WHERE user_id = ? AND ended_at IS NULL";
    let updated = match &db {
        Database::Sqlite(pool) => sqlx::query(SQL)
            .bind(&idle_since)
            .bind("t-rivera")
            .execute(pool)
            .await
            .map(|r| r.rows_affected()),
        Database::Postgres(_) => unreachable!("a SQLite practice"),
    }
    .expect("the session is made idle");
    db.close().await;
    assert_eq!(updated, 1);

    browser.goto("/therapist").await;
    assert_eq!(browser.path().await, "/sign-in?ended=idle");
    let notice = browser.text("[role=status]").await;
    assert!(
        notice.contains("signed out after 15 minutes without activity"),
        "the page says the session ended: {notice:?}"
    );
    browser.axe("sign-in-idle").await;
    browser.screenshot("sign-in-idle").await;
    // And stays signed out.
    browser.goto("/therapist").await;
    assert!(browser.path().await.starts_with("/sign-in"));
    browser.close().await;

    let log = practice.access_log().await;
    let sign_outs: Vec<_> = log
        .iter()
        .filter(|r| {
            r.entry.action == AccessAction::SignOut && r.entry.actor.user_id.as_str() == "t-rivera"
        })
        .collect();
    assert_eq!(sign_outs.len(), 1, "{log:#?}");
}

/// 7. Each page view is one `query` entry of the access log naming the
/// client, with the page in its source; a refused page view writes none.
#[tokio::test]
async fn each_page_view_is_one_access_log_entry() {
    let practice = Practice::sqlite();
    let staff = staff(&practice);
    client_through_the_api(&practice, &staff, true).await;
    let browser = Browser::open(&practice).await;
    sign_in_through_store(&browser, &practice, "t-rivera", "therapist").await;
    let log_before = practice.access_log().await.len();

    browser.goto(&format!("/clients/{CLIENT}")).await;
    assert!(!browser.h1().await.starts_with("403"));
    browser.axe("chart").await;
    browser.screenshot("chart").await;
    browser.goto("/therapist/clients").await;
    browser.axe("therapist-clients").await;
    browser.screenshot("therapist-clients").await;
    let as_of = Utc::now().format("%Y-%m-%dT%H:%M").to_string();
    browser
        .goto(&format!("/clients/{CLIENT}?as_of={as_of}"))
        .await;
    assert!(!browser.h1().await.starts_with("403"));
    browser.axe("chart-as-of").await;
    browser.screenshot("chart-as-of").await;
    // Refused: no entry.
    browser.goto(&format!("/clients/{CLIENT}/billing")).await;
    assert_forbidden(&browser, "a therapist on billing").await;
    browser.close().await;

    let log = practice.access_log().await;
    let views: Vec<(AccessAction, Option<String>, String)> = log[log_before..]
        .iter()
        .filter(|r| r.entry.actor.user_id.as_str() == "t-rivera")
        .map(|r| {
            (
                r.entry.action,
                r.entry.client_id.as_ref().map(|c| c.as_str().to_owned()),
                r.entry.source.clone(),
            )
        })
        .collect();
    let count = |source: &str| {
        views
            .iter()
            .filter(|(action, client, s)| {
                *action == AccessAction::Query
                    && client.as_deref() == Some(CLIENT)
                    && s.starts_with(source)
            })
            .count()
    };
    let chart = format!("web GET /clients/{CLIENT}");
    assert_eq!(
        views
            .iter()
            .filter(|(_, _, s)| s.starts_with(&chart) && !s.contains("/billing"))
            .count(),
        2,
        "the chart twice: {views:#?}"
    );
    assert_eq!(
        count(&chart) - count(&format!("{chart}/billing")),
        2,
        "{views:#?}"
    );
    assert_eq!(
        views
            .iter()
            .filter(|(_, _, s)| s.starts_with(&chart) && s.contains("as_of"))
            .count(),
        1,
        "the chart as of a moment names it: {views:#?}"
    );
    assert_eq!(count("web GET /therapist/clients"), 1, "{views:#?}");
    assert_eq!(
        views
            .iter()
            .filter(|(_, _, s)| s.contains("/billing"))
            .count(),
        0,
        "the refused page view wrote none: {views:#?}"
    );
    assert_eq!(views.len(), 3, "one entry per page view: {views:#?}");
}
