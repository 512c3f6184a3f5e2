//! The rules of the practice's own record (its settings as history), one
//! test per rule code, and the checked values of its commands. Each test
//! has the closest allowed command and the refused one, and checks that a
//! refused command writes nothing.

use chrono::Duration;
use kapchart_domain::*;
use kapchart_e2e::settings::*;
use kapchart_e2e::*;

/// Asserts `$result` (evaluated after a snapshot of `$book`) is a refusal
/// by `$rule` that wrote nothing; yields the message.
macro_rules! refused {
    ($book:ident, $result:expr, $rule:expr) => {{
        let events = $book.events.clone();
        let record = $book.record.clone();
        let message = assert_settings_refused($result, $rule);
        assert_eq!($book.events, events, "a refused command wrote events");
        assert_eq!($book.record, record, "a refused command changed the record");
        message
    }};
}

/// A change made to a value under test.
type Change<T> = fn(&mut T);

fn book() -> Book {
    Book::at(local(LA, 2026, 3, 1, 9, 0))
}

fn every_body(now: chrono::DateTime<chrono::Utc>) -> Vec<PracticeCommandBody> {
    vec![
        identity_in(LA),
        provider(&therapist(), "therapist", "1245319599"),
        adopt_policy(now + Duration::days(1)),
        adopt_fees(ymd(2026, 4, 1), 600),
    ]
}

#[tokio::test]
async fn settings_admin_only() {
    let mut b = book();
    for role in [
        Role::Therapist,
        Role::Prescriber,
        Role::FrontDesk,
        Role::Auditor,
    ] {
        let actor = Actor {
            id: UserId::parse("someone").expect("valid id"),
            role,
        };
        for body in every_body(b.now) {
            let name = body.name();
            let message = refused!(
                b,
                b.exec(actor.clone(), body).await,
                Rule::SettingsAdminOnly
            );
            assert!(
                message.contains(name) && message.contains(role.as_str()),
                "{message}"
            );
        }
    }
    // The admin may issue each of them.
    for body in every_body(b.now) {
        b.ok(body).await;
    }
    assert_eq!(b.events.len(), 4);
    assert_eq!(b.replay(), b.record);
}

#[tokio::test]
async fn settings_retroactive() {
    let mut b = book();
    // A policy applies from when it is adopted, or later.
    let message = refused!(
        b,
        b.exec(admin(), adopt_policy(b.now - Duration::seconds(1)))
            .await,
        Rule::SettingsRetroactive
    );
    assert!(message.starts_with("effective_from"), "{message}");
    let event = b.ok(adopt_policy(b.now)).await;
    let PracticeEvent::PolicyAdopted(adopted) = event else {
        panic!("expected PolicyAdopted");
    };
    assert_eq!(adopted.policy.effective_from, b.now);

    // A fee schedule applies from a day after the practice's date of the
    // command. In Los Angeles at 18:00 on 2026-03-07 it is 02:00 on
    // 2026-03-08 UTC: March 8 is not yet begun there, so it may take
    // effect then; March 7 may not.
    let mut b = book();
    b.ok(identity_in(LA)).await;
    b.now = local(LA, 2026, 3, 7, 18, 0);
    assert_eq!(b.now.date_naive(), ymd(2026, 3, 8));
    let message = refused!(
        b,
        b.exec(admin(), adopt_fees(ymd(2026, 3, 7), 600)).await,
        Rule::SettingsRetroactive
    );
    assert!(message.contains("2026-03-07"), "{message}");
    b.ok(adopt_fees(ymd(2026, 3, 8), 600)).await;

    // After local midnight, March 8 has begun: a schedule from then is
    // retroactive, from the day after is not.
    let mut b = book();
    b.ok(identity_in(LA)).await;
    b.now = local(LA, 2026, 3, 8, 0, 30);
    refused!(
        b,
        b.exec(admin(), adopt_fees(ymd(2026, 3, 8), 600)).await,
        Rule::SettingsRetroactive
    );
    b.ok(adopt_fees(ymd(2026, 3, 9), 600)).await;
}

#[tokio::test]
async fn settings_not_increasing() {
    let mut b = book();
    let first = b.now + Duration::days(10);
    b.ok(adopt_policy(first)).await;
    refused!(
        b,
        b.exec(admin(), adopt_policy(first)).await,
        Rule::SettingsNotIncreasing
    );
    let message = refused!(
        b,
        b.exec(admin(), adopt_policy(first - Duration::days(1)))
            .await,
        Rule::SettingsNotIncreasing
    );
    assert!(message.contains("policy version 2"), "{message}");
    b.ok(adopt_policy(first + Duration::seconds(1))).await;

    b.ok(adopt_fees(ymd(2026, 4, 1), 600)).await;
    let message = refused!(
        b,
        b.exec(admin(), adopt_fees(ymd(2026, 4, 1), 650)).await,
        Rule::SettingsNotIncreasing
    );
    assert!(message.contains("fee schedule version 2"), "{message}");
    refused!(
        b,
        b.exec(admin(), adopt_fees(ymd(2026, 3, 20), 650)).await,
        Rule::SettingsNotIncreasing
    );
    b.ok(adopt_fees(ymd(2026, 4, 2), 650)).await;

    // Versions are numbered by the record, after the standard version 1.
    let settings = b.settings();
    let versions: Vec<u32> = settings.policies().iter().map(|p| p.version).collect();
    assert_eq!(versions, [1, 2, 3]);
    let versions: Vec<u32> = settings.fee_schedules().iter().map(|f| f.version).collect();
    assert_eq!(versions, [1, 2, 3]);
}

#[tokio::test]
async fn settings_out_of_range() {
    let mut b = book();
    let from = b.now + Duration::days(1);
    let cases: [(&str, Change<AdoptPolicy>, Change<AdoptPolicy>); 4] = [
        (
            "min_days_between_explorations",
            |p| p.min_days_between_explorations = 366,
            |p| p.min_days_between_explorations = 0,
        ),
        (
            "integration_window_days",
            |p| p.integration_window_days = 0,
            |p| p.integration_window_days = 365,
        ),
        (
            "max_explorations",
            |p| p.max_explorations = 101,
            |p| p.max_explorations = 1,
        ),
        (
            "idle_sign_out_minutes",
            |p| p.idle_sign_out_minutes = 61,
            |p| p.idle_sign_out_minutes = 60,
        ),
    ];
    for (i, (field, outside, edge)) in cases.into_iter().enumerate() {
        let at = from + Duration::hours(i as i64);
        let mut policy = policy_from(at);
        outside(&mut policy);
        let message = refused!(
            b,
            b.exec(admin(), PracticeCommandBody::AdoptPolicy(policy))
                .await,
            Rule::SettingsOutOfRange
        );
        assert!(message.starts_with(field), "{field}: {message}");
        let mut policy = policy_from(at);
        edge(&mut policy);
        b.ok(PracticeCommandBody::AdoptPolicy(policy)).await;
    }
    let idle_zero = policy_from(from + Duration::days(1));
    let mut p = idle_zero.clone();
    p.idle_sign_out_minutes = 0;
    refused!(
        b,
        b.exec(admin(), PracticeCommandBody::AdoptPolicy(p)).await,
        Rule::SettingsOutOfRange
    );
}

#[tokio::test]
async fn settings_npi_in_use() {
    let mut b = book();
    b.ok(identity_in(LA)).await;
    b.ok(provider(&therapist(), "therapist", "1245319599"))
        .await;
    // Another provider with the same NPI.
    let message = refused!(
        b,
        b.exec(admin(), provider(&prescriber(), "prescriber", "1245319599"))
            .await,
        Rule::SettingsNpiInUse
    );
    assert!(
        message.starts_with("npi:") && message.contains("t-rivera"),
        "{message}"
    );
    // The practice's organizational NPI is not a provider's.
    refused!(
        b,
        b.exec(admin(), provider(&prescriber(), "prescriber", "1234567893"))
            .await,
        Rule::SettingsNpiInUse
    );
    b.ok(provider(&prescriber(), "prescriber", "1982736450"))
        .await;
    // The practice's NPI is not a provider's either.
    let PracticeCommandBody::SetPracticeIdentity(mut identity) = identity_in(LA) else {
        unreachable!()
    };
    identity.npi = Npi::parse("1982736450").expect("valid NPI");
    let message = refused!(
        b,
        b.exec(admin(), PracticeCommandBody::SetPracticeIdentity(identity))
            .await,
        Rule::SettingsNpiInUse
    );
    assert!(message.contains("rx-chen"), "{message}");
    // The same provider may be set again (a change of licence, leaving).
    b.ok(provider(&therapist(), "therapist", "1245319599"))
        .await;
    assert_eq!(b.settings().providers().count(), 2);
}

#[tokio::test]
async fn practice_commands_are_idempotent_by_id() {
    let mut b = book();
    let command = b.command(admin(), identity_in(LA));
    assert_eq!(b.run(command.clone()).await.map(|e| e.len()), Ok(1));
    // A retry, even stamped later: applied once.
    let mut retry = command.clone();
    retry.issued_at += Duration::minutes(5);
    assert_eq!(b.run(retry).await, Ok(vec![]));
    assert_eq!(b.events.len(), 1);
    // The same id for something else.
    let mut other = command;
    other.body = identity_in("America/New_York");
    refused!(b, b.run(other).await, Rule::CommandIdReused);
    assert!(
        b.record
            .has_applied(&CommandId::parse("set-1").expect("id"))
    );
    assert_eq!(b.replay(), b.record);
}

#[tokio::test]
async fn empty_record_is_the_standard_settings() {
    let b = book();
    assert_eq!(b.settings(), PracticeSettings::standard());
    assert_eq!(b.settings().time_zone(), TimeZoneName::UTC);
    assert!(b.settings().identity().is_none());
}

#[tokio::test]
async fn the_record_yields_the_settings_it_holds() {
    let mut b = book();
    b.ok(identity_in(LA)).await;
    b.ok(provider(&therapist(), "therapist", "1245319599"))
        .await;
    let from = b.now + Duration::hours(1);
    b.ok(adopt_policy(from)).await;
    b.ok(adopt_fees(ymd(2026, 4, 1), 600)).await;
    let s = b.settings();
    assert_eq!(s.time_zone().as_str(), LA);
    let identity = s.identity().expect("identity set");
    assert_eq!(identity.npi.as_str(), "1234567893");
    assert_eq!(identity.tax_id.as_str(), "12-3456789");
    assert_eq!(identity.phone.as_str(), "415-555-0123");
    let p = s.provider(&therapist().id).expect("provider set");
    assert_eq!(p.credentials.as_str(), "LMFT");
    assert_eq!(p.role, ProviderRole::Therapist);
    assert_eq!(
        s.policy_at(from - Duration::seconds(1)).map(|p| p.version),
        Some(1)
    );
    assert_eq!(s.policy_at(from).map(|p| p.version), Some(2));
    assert_eq!(s.policy_at(from).map(|p| p.idle_sign_out_minutes), Some(15));
    let fees = s.fees_on(ymd(2026, 4, 1)).expect("fees");
    assert_eq!(fees.version, 2);
    assert_eq!(fees.fee(BillableService::Exploration), Cents::dollars(600));
    assert!(
        fees.codes
            .of_service(BillableService::Intake)
            .contains("90791")
    );
    assert_eq!(s.fees_on(ymd(2026, 3, 31)).map(|f| f.version), Some(1));
    // The events read back as they were written (a storage boundary).
    for event in &b.events {
        let json = serde_json::to_value(event).expect("serializes");
        let back: PracticeEvent = serde_json::from_value(json).expect("reads back");
        assert_eq!(&back, event);
        assert_eq!(
            cqrs_es::DomainEvent::event_version(event),
            PRACTICE_EVENT_VERSION
        );
    }
    assert_eq!(b.replay().settings(), s);
}

// ---- the checked values of practice commands ----

fn command_json(body: serde_json::Value) -> String {
    serde_json::json!({
        "id": "set-1",
        "actor": { "id": "ad-root", "role": "admin" },
        "issued_at": "2026-03-01T17:00:00Z",
        "body": body,
    })
    .to_string()
}

fn identity_json(change: impl FnOnce(&mut serde_json::Value)) -> String {
    let PracticeCommandBody::SetPracticeIdentity(identity) = identity_in(LA) else {
        unreachable!()
    };
    let mut value = serde_json::to_value(identity).expect("serializes");
    change(&mut value);
    command_json(serde_json::json!({ "SetPracticeIdentity": value }))
}

#[test]
fn npi_with_a_bad_check_digit_is_refused_naming_the_field() {
    assert!(parse_practice_command(&identity_json(|_| {})).is_ok());
    let err = parse_json::<PracticeCommand>(&identity_json(|v| v["npi"] = "1234567890".into()))
        .unwrap_err();
    assert_eq!(err.field, "body.SetPracticeIdentity.npi");
    assert!(err.message.contains("check digit"), "{err}");
    assert!(
        !err.message.contains("1234567890"),
        "echoes the value: {err}"
    );

    let PracticeCommandBody::SetProvider(p) = provider(&therapist(), "therapist", "1245319599")
    else {
        unreachable!()
    };
    let mut value = serde_json::to_value(p).expect("serializes");
    value["npi"] = "1245319598".into();
    let err =
        parse_json::<PracticeCommand>(&command_json(serde_json::json!({ "SetProvider": value })))
            .unwrap_err();
    assert_eq!(err.field, "body.SetProvider.npi");
    assert!(err.message.contains("check digit"), "{err}");
}

#[test]
fn ein_with_a_prefix_the_irs_does_not_assign_is_refused() {
    for prefix in ["00", "07", "19", "89", "97"] {
        let err = parse_json::<PracticeCommand>(&identity_json(|v| {
            v["tax_id"] = format!("{prefix}-3456789").into();
        }))
        .unwrap_err();
        assert_eq!(err.field, "body.SetPracticeIdentity.tax_id");
        assert!(err.message.contains("prefix"), "{err}");
    }
    let err = parse_json::<PracticeCommand>(&identity_json(|v| v["tax_id"] = "12-34567".into()))
        .unwrap_err();
    assert_eq!(err.field, "body.SetPracticeIdentity.tax_id");
}

#[test]
fn identity_values_are_checked_field_by_field() {
    let cases: [(&str, Change<serde_json::Value>, &str); 6] = [
        ("time_zone", |v| v["time_zone"] = "Pacific".into(), "IANA"),
        (
            "place_of_service",
            |v| v["place_of_service"] = "00".into(),
            "place of service",
        ),
        ("phone", |v| v["phone"] = "555-0123".into(), "10-digit"),
        (
            "address.zip",
            |v| v["address"]["zip"] = "9411".into(),
            "ZIP",
        ),
        (
            "address.state",
            |v| v["address"]["state"] = "ZZ".into(),
            "USPS",
        ),
        ("name", |v| v["name"] = "".into(), "1 to 200"),
    ];
    for (field, change, words) in cases {
        let err = parse_json::<PracticeCommand>(&identity_json(change)).unwrap_err();
        assert_eq!(err.field, format!("body.SetPracticeIdentity.{field}"));
        assert!(err.message.contains(words), "{field}: {err}");
    }
}

#[test]
fn fee_schedule_values_are_checked() {
    let PracticeCommandBody::AdoptFeeSchedule(fees) = adopt_fees(ymd(2026, 4, 1), 600) else {
        unreachable!()
    };
    let json = |change: fn(&mut serde_json::Value)| {
        let mut value = serde_json::to_value(&fees).expect("serializes");
        change(&mut value);
        command_json(serde_json::json!({ "AdoptFeeSchedule": value }))
    };
    let parsed = parse_json::<PracticeCommand>(&json(|_| {})).expect("valid");
    let PracticeCommandBody::AdoptFeeSchedule(back) = parsed.body else {
        panic!("AdoptFeeSchedule expected")
    };
    assert_eq!(back, fees);
    let err = parse_json::<PracticeCommand>(&json(|v| v["intake"]["codes"][0] = "9079".into()))
        .unwrap_err();
    assert_eq!(err.field, "body.AdoptFeeSchedule.intake.codes[0]");
    assert!(err.message.contains("CPT"), "{err}");
    let err = parse_json::<PracticeCommand>(&json(|v| {
        v["exploration"]["codes"] = serde_json::json!(["0820T", "0820t"]);
    }))
    .unwrap_err();
    assert_eq!(err.field, "body.AdoptFeeSchedule.exploration.codes");
    let err = parse_json::<PracticeCommand>(&json(|v| {
        v["exploration"]["fee"] = 10_000_001.into();
    }))
    .unwrap_err();
    assert_eq!(err.field, "body.AdoptFeeSchedule.exploration.fee");
    let err = parse_json::<PracticeCommand>(&json(|v| v["effective_from"] = "2200-01-01".into()))
        .unwrap_err();
    assert_eq!(err.field, "body.AdoptFeeSchedule.effective_from");
}
