//! Field bounds through the HTTP API, on PostgreSQL and SQLite (issue 10):
//! an amount of 2^53 cents, a date in year 0000 or -262143, a name with a
//! right-to-left override, free text with "Trojan Source" controls are each
//! a 400 naming the field, with nothing written; and many payments of the
//! largest amount give the exact balance in the billing view and reports.
//! docs/domain.md, "Field bounds", lists every bound.

use kapchart_domain::{Role, Suitability};
use kapchart_e2e::api::{ApiApp, body, ok};
use kapchart_e2e::*;
use serde_json::{Value, json};

on_both_engines!(
    out_of_range_input_is_a_400_naming_the_field_and_writes_nothing,
    many_payments_of_the_largest_amount_give_the_exact_balance,
    read_filters_outside_the_date_bounds_are_a_400_naming_the_parameter,
);

/// 2^53: the amount whose payment answered 500 (the chain refused it).
const TWO_53: u64 = 1 << 53;

/// `body` (a command's JSON) with the value at `pointer` replaced.
fn with(body: &Value, pointer: &str, new: Value) -> Value {
    let mut body = body.clone();
    *body
        .pointer_mut(pointer)
        .unwrap_or_else(|| panic!("no {pointer} in the command")) = new;
    body
}

fn payment_body(id: &str, cents: u64) -> Value {
    json!({"RecordPayment": {"payment": id, "amount": cents, "method": "card",
        "payer": "client", "received_on": date(0)}})
}

async fn out_of_range_input_is_a_400_naming_the_field_and_writes_nothing(url: &str) {
    let app = ApiApp::spawn(url).await;
    let front_desk = app.user("fd-jones", Role::FrontDesk).await;
    let therapist = app.user("t-rivera", Role::Therapist).await;
    app.user("rx-chen", Role::Prescriber).await;
    let register = body(register_client());

    // Registration: a bad date of birth or name is refused before anything
    // is written.
    let mut cases: Vec<(&str, &str, Value, &str, &[&str])> = Vec::new();
    // Year 0000 and -262143 (both were accepted), and a day either side of
    // 1900-01-01..=2199-12-31.
    for dob in [
        "0000-01-01",
        "-262143-01-01",
        "+262142-12-31",
        "1899-12-31",
        "2200-01-01",
    ] {
        cases.push((
            "date of birth",
            &front_desk,
            with(&register, "/RegisterClient/date_of_birth", json!(dob)),
            "body.RegisterClient.date_of_birth",
            &[],
        ));
    }
    for name in [
        "Alex\u{202E}elpmaxE",
        "Alex\u{200B}Example",
        "Alex\u{2066}Example\u{2069}",
        "\u{FEFF}Alex Example",
        "Alex\u{061C} Example",
    ] {
        cases.push((
            "name",
            &front_desk,
            with(&register, "/RegisterClient/name", json!(name)),
            "body.RegisterClient.name",
            &["invisible or direction-changing"],
        ));
    }
    for (what, token, b, field, why) in cases {
        assert_refused(&app, token, &b, what, field, why).await;
    }
    assert_eq!(app.events().await, 0, "nothing written");

    ok(
        &app.command(&front_desk, CLIENT, "c-1", &register).await,
        "register",
    );
    let written = app.events().await;

    // Money: the finding's 2^53 (a 500 before), the largest exact
    // integer, and one cent past $100,000.00.
    for cents in [TWO_53, TWO_53 - 1, 10_000_001, u64::MAX] {
        assert_refused(
            &app,
            &front_desk,
            &payment_body("pay-1", cents),
            "amount",
            "body.RecordPayment.amount",
            &[],
        )
        .await;
    }
    // Dates and times of other commands.
    let pay = payment_body("pay-1", 17_500);
    let prep = body(schedule_preparation("prep-1", span(1, 10, 11)));
    let intake_body = body(intake("intake-1", span(0, 9, 10), Suitability::Suitable));
    let refusals: Vec<(&str, &str, Value, &str, &[&str])> = vec![
        (
            "received in year 0",
            &front_desk,
            with(&pay, "/RecordPayment/received_on", json!("0000-01-01")),
            "body.RecordPayment.received_on",
            &["between 1900-01-01 and 2199-12-31"],
        ),
        (
            "received in year -262143",
            &front_desk,
            with(&pay, "/RecordPayment/received_on", json!("-262143-01-01")),
            "body.RecordPayment.received_on",
            &[],
        ),
        (
            "a session in year 0",
            &front_desk,
            with(
                &prep,
                "/SchedulePreparation/span/start",
                json!("0000-01-01T10:00:00Z"),
            ),
            "body.SchedulePreparation.span.start",
            &["between 1900-01-01T00:00:00Z and 2199-12-31T23:59:59Z"],
        ),
        (
            "a session in year -262143",
            &front_desk,
            with(
                &prep,
                "/SchedulePreparation/span/end",
                json!("-262143-01-01T11:00:00Z"),
            ),
            "body.SchedulePreparation.span.end",
            &[],
        ),
        (
            "Trojan Source notes",
            &therapist,
            with(
                &intake_body,
                "/RecordIntake/notes",
                json!("no contraindications \u{202E}\u{2066} // except MAOIs\u{2069}"),
            ),
            "body.RecordIntake.notes",
            &["bidirectional"],
        ),
    ];
    for (what, token, b, field, why) in refusals {
        assert_refused(&app, token, &b, what, field, why).await;
    }
    assert_eq!(app.events().await, written, "nothing written");

    // The bounds themselves are accepted.
    ok(
        &app.command(
            &front_desk,
            CLIENT,
            "c-2",
            &payment_body("pay-1", 10_000_000),
        )
        .await,
        "a payment of $100,000.00",
    );
    app.stop().await;
}

/// Posts `b` and asserts a 400 `invalid_input` naming `field`, whose
/// message contains each of `why` and never the rejected date or name.
async fn assert_refused(
    app: &ApiApp,
    token: &str,
    b: &Value,
    what: &str,
    field: &str,
    why: &[&str],
) {
    let r = app.command(token, CLIENT, "c-bad", b).await;
    assert_eq!(
        (r.status, r.code()),
        (400, "invalid_input"),
        "{what}: {}",
        r.body
    );
    assert_eq!(r.body["error"]["field"], field, "{what}: {}", r.body);
    let message = r.body["error"]["message"].as_str().expect("a message");
    for part in why {
        assert!(message.contains(part), "{what}: {message}");
    }
    assert!(
        !message.contains("Alex") && !message.contains("0000-01-01") && !message.contains("262"),
        "{what}: the message repeats the input: {message}"
    );
}

/// 430 payments of $100,000.00, a total past `u32::MAX` cents: the
/// account, the billing report and the superbill show the exact sums. (The
/// views' own tests sum 1,025 of them, the count of 2^53 - 1 payments that
/// overflowed the billing view to a negative balance; through HTTP that
/// many takes minutes, as every command re-projects the client's billing
/// view.)
async fn many_payments_of_the_largest_amount_give_the_exact_balance(url: &str) {
    const PAYMENTS: u64 = 430;
    const MAX: u64 = 10_000_000;
    let app = ApiApp::spawn(url).await;
    let front_desk = app.user("fd-jones", Role::FrontDesk).await;
    let therapist = app.user("t-rivera", Role::Therapist).await;
    app.user("rx-chen", Role::Prescriber).await;
    ok(
        &app.command(&front_desk, CLIENT, "c-1", &body(register_client()))
            .await,
        "register",
    );
    ok(
        &app.command(
            &therapist,
            CLIENT,
            "c-2",
            &body(intake("intake-1", span(0, 9, 10), Suitability::Suitable)),
        )
        .await,
        "intake",
    );
    for i in 0..PAYMENTS {
        let r = app
            .command(
                &front_desk,
                CLIENT,
                &format!("pay-{i}"),
                &payment_body(&format!("pay-{i}"), MAX),
            )
            .await;
        ok(&r, "a payment of $100,000.00");
    }
    let paid = PAYMENTS * MAX;
    // The intake fee, less the payments.
    let fee: i64 = 17_500;
    let balance = fee - i64::try_from(paid).expect("fits");
    assert!(paid > u64::from(u32::MAX));

    let billing = app
        .get(
            &front_desk,
            &format!("/api/v1/clients/{CLIENT}/billing?purpose=payment"),
        )
        .await;
    ok(&billing, "billing");
    let account = billing.body["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["kind"] == "account")
        .expect("an account row");
    assert_eq!(account["data"]["payments"], PAYMENTS);
    assert_eq!(account["data"]["payments_cents"], paid);
    assert_eq!(account["data"]["charges_cents"], fee);
    assert_eq!(account["data"]["balance_cents"], balance);

    let report = app
        .get(&front_desk, "/api/v1/reports/billing?purpose=payment")
        .await;
    ok(&report, "billing report");
    let total = report.body["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["line"] == "total")
        .expect("a total line");
    assert_eq!(total["charge_cents"], fee, "{total}");
    assert_eq!(total["payment_cents"], paid, "{total}");
    assert_eq!(total["balance_cents"], balance, "{total}");

    let superbill = app
        .get(
            &front_desk,
            &format!(
                "/api/v1/clients/{CLIENT}/superbill?purpose=payment&from=2026-01-01&to=2026-01-31"
            ),
        )
        .await;
    ok(&superbill, "superbill");
    let total = superbill.body["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["line"] == "total")
        .expect("a total line");
    assert_eq!(total["fee_cents"], fee, "{total}");
    assert_eq!(total["paid_cents"], paid, "{total}");
    app.stop().await;
}

/// The dates that choose what a read shows are bounded like those a
/// command sends: a 400 naming the parameter, and nothing logged.
async fn read_filters_outside_the_date_bounds_are_a_400_naming_the_parameter(url: &str) {
    let app = ApiApp::spawn(url).await;
    let front_desk = app.user("fd-jones", Role::FrontDesk).await;
    let auditor = app.user("au-smith", Role::Auditor).await;
    app.user("t-rivera", Role::Therapist).await;
    app.user("rx-chen", Role::Prescriber).await;
    ok(
        &app.command(&front_desk, CLIENT, "r-1", &body(register_client()))
            .await,
        "register",
    );
    let logged = kapchart_store::access::list(&app.db, &Default::default())
        .await
        .expect("access log")
        .len();
    for (token, path, field) in [
        (
            &front_desk,
            format!("/api/v1/clients/{CLIENT}/superbill?purpose=payment&from=0000-01-01"),
            "from",
        ),
        (
            &front_desk,
            format!("/api/v1/clients/{CLIENT}/superbill?purpose=payment&to=2200-01-01"),
            "to",
        ),
        (
            &auditor,
            "/api/v1/reports/billing?purpose=audit&from=-262143-01-01".to_owned(),
            "from",
        ),
        (
            &auditor,
            format!("/api/v1/clients/{CLIENT}/chart?purpose=audit&as_of=0000-01-01T00:00:00Z"),
            "as_of",
        ),
    ] {
        let r = app.get(token, &path).await;
        assert_eq!(r.status, 400, "{path}: {}", r.body);
        assert_eq!(r.body["error"]["field"], field, "{path}: {}", r.body);
    }
    let after = kapchart_store::access::list(&app.db, &Default::default())
        .await
        .expect("access log")
        .len();
    assert_eq!(after, logged, "a refused read was logged");
    app.stop().await;
}
