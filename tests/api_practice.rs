//! The practice's settings record over real HTTP on both engines: every
//! role reads the settings; only admins change them, and a refused change
//! writes nothing; a bad NPI is a 400 naming the field; a change can't
//! reach back; a fee schedule adopted for a later date prices the sessions
//! on and after it and leaves the earlier ones as they were; the record's
//! history chains its entries and `verify` covers it.

use kapchart_domain::Suitability;
use kapchart_e2e::api::{ApiApp, Reply, Staff, body, ok};
use kapchart_e2e::settings::{adopt_fees, identity_in};
use kapchart_e2e::*;
use serde_json::{Value, json};

on_both_engines!(
    admins_change_the_settings_and_everyone_reads_them,
    a_fee_schedule_prices_sessions_from_its_date_only,
);

/// Posts a change to the practice's record as `token`.
async fn change(app: &ApiApp, token: &str, id: &str, body: &Value) -> Reply {
    let request = json!({ "id": id, "body": body });
    app.send(
        reqwest::Method::POST,
        "/api/v1/practice/commands",
        Some(token),
        Some(serde_json::to_vec(&request).expect("json")),
    )
    .await
}

fn json_of(b: kapchart_domain::PracticeCommandBody) -> Value {
    serde_json::to_value(b).expect("practice command JSON")
}

async fn admins_change_the_settings_and_everyone_reads_them(url: &str) {
    let app = ApiApp::spawn(url).await;
    let s: Staff = app.staff().await;
    app.on(0);

    // Before the practice configures itself: the standard settings, in UTC.
    for token in [&s.therapist, &s.front_desk, &s.auditor, &s.admin] {
        let r = app.get(token, "/api/v1/practice").await;
        ok(&r, "read the settings");
        assert_eq!(r.body["time_zone"], "UTC");
        assert_eq!(r.body["identity"], Value::Null);
        assert_eq!(r.body["policies"].as_array().map(Vec::len), Some(1));
        assert_eq!(r.body["fee_schedules"].as_array().map(Vec::len), Some(1));
        assert_eq!(r.body["policy_in_force"], 1);
    }

    // Anyone but an admin is refused, and nothing is written.
    let before = app.events().await;
    for token in [&s.therapist, &s.prescriber, &s.front_desk, &s.auditor] {
        let r = change(&app, token, "fees-x", &json_of(adopt_fees(date(3), 600))).await;
        assert_eq!(r.status, 403, "{}", r.body);
        assert_eq!(r.body["error"]["rule"], "settings.admin_only", "{}", r.body);
    }
    assert_eq!(app.events().await, before);

    // A bad check digit is named by its field, and writes nothing.
    let mut bad = json_of(identity_in("America/Los_Angeles"));
    bad["SetPracticeIdentity"]["npi"] = json!("1234567890");
    let r = change(&app, &s.admin, "identity-bad", &bad).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(
        r.body["error"]["field"], "body.SetPracticeIdentity.npi",
        "{}",
        r.body
    );
    assert_eq!(app.events().await, before);

    // The identity sets the practice's time zone.
    let r = change(
        &app,
        &s.admin,
        "identity-1",
        &json_of(identity_in("America/Los_Angeles")),
    )
    .await;
    ok(&r, "identity");
    assert_eq!(r.body["events"][0]["event_type"], "PracticeIdentitySet");
    let r = app.get(&s.therapist, "/api/v1/practice").await;
    assert_eq!(r.body["time_zone"], "America/Los_Angeles");
    assert_eq!(r.body["identity"]["npi"], "1234567893");

    // Day 0 at 20:00 UTC is noon of day 0 in Los Angeles: fees from that
    // day would reach back over a day already begun.
    let r = change(&app, &s.admin, "fees-0", &json_of(adopt_fees(date(0), 600))).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(
        r.body["error"]["rule"], "settings.retroactive",
        "{}",
        r.body
    );

    let r = change(&app, &s.admin, "fees-2", &json_of(adopt_fees(date(2), 600))).await;
    ok(&r, "fees from day 2");
    let sequence = r.body["sequence"].clone();
    // A retry is the first answer, and writes nothing.
    let events = app.events().await;
    let again = change(&app, &s.admin, "fees-2", &json_of(adopt_fees(date(2), 600))).await;
    ok(&again, "retry");
    assert_eq!(again.body["sequence"], sequence);
    assert_eq!(app.events().await, events);
    // The same id for another change is refused.
    let reused = change(&app, &s.admin, "fees-2", &json_of(adopt_fees(date(3), 650))).await;
    assert_eq!(reused.status, 409, "{}", reused.body);

    let r = app.get(&s.front_desk, "/api/v1/practice").await;
    assert_eq!(r.body["fee_schedules"].as_array().map(Vec::len), Some(2));
    assert_eq!(r.body["fee_schedules"][1]["version"], 2);
    assert_eq!(r.body["fee_schedules"][1]["effective_from"], "2026-01-07");
    assert_eq!(r.body["fee_schedule_in_force"], 1);

    // The history: admins and auditors, each entry chained to the last.
    let r = app.get(&s.therapist, "/api/v1/practice/history").await;
    assert_eq!(r.status, 403, "{}", r.body);
    let r = app.get(&s.auditor, "/api/v1/practice/history").await;
    ok(&r, "history");
    let entries = r.body.as_array().cloned().unwrap_or_default();
    let types: Vec<&str> = entries
        .iter()
        .filter_map(|e| e["event_type"].as_str())
        .collect();
    assert_eq!(types, ["PracticeIdentitySet", "FeeScheduleAdopted"]);
    assert_eq!(entries[0]["prev_hash"], "0".repeat(64));
    assert_eq!(entries[1]["prev_hash"], entries[0]["hash"]);

    // Verification covers the practice's record beside the clients'.
    let r = app.get(&s.auditor, "/api/v1/verification").await;
    ok(&r, "verification");
    assert_eq!(r.body["intact"], true, "{}", r.body);
    assert_eq!(r.body["aggregates"], 1, "{}", r.body);
    app.stop().await;
}

/// Every `charge` object in `value`.
fn charges(value: &Value) -> Vec<Value> {
    match value {
        Value::Object(map) => map
            .iter()
            .flat_map(|(k, v)| {
                if k == "charge" && v.is_object() {
                    vec![v.clone()]
                } else {
                    charges(v)
                }
            })
            .collect(),
        Value::Array(items) => items.iter().flat_map(charges).collect(),
        _ => Vec::new(),
    }
}

async fn a_fee_schedule_prices_sessions_from_its_date_only(url: &str) {
    let app = ApiApp::spawn(url).await;
    let s: Staff = app.staff().await;
    app.on(0);
    ok(
        &change(&app, &s.admin, "fees-2", &json_of(adopt_fees(date(2), 600))).await,
        "fees from day 2",
    );
    // The new schedule prices intakes at $200 (the standard is $175).
    for (client, d) in [("client-1", 1), ("client-2", 2)] {
        let mut register = body(register_client());
        register["RegisterClient"]["client_id"] = json!(client);
        app.on(d);
        ok(
            &app.command(&s.front_desk, client, &format!("{client}-r"), &register)
                .await,
            "register",
        );
        ok(
            &app.command(
                &s.therapist,
                client,
                &format!("{client}-i"),
                &body(intake("intake-1", span(d, 9, 10), Suitability::Suitable)),
            )
            .await,
            "intake",
        );
    }
    let priced = |client: &'static str| {
        let app = &app;
        let token = s.auditor.clone();
        async move {
            let r = app
                .get(
                    &token,
                    &format!("/api/v1/clients/{client}/history?purpose=audit"),
                )
                .await;
            ok(&r, "history");
            charges(&r.body)
        }
    };
    let before = priced("client-1").await;
    assert_eq!(before.len(), 1, "{before:?}");
    assert_eq!(before[0]["amount"], 17_500);
    assert_eq!(before[0]["fee_schedule_version"], 1);
    let after = priced("client-2").await;
    assert_eq!(after.len(), 1, "{after:?}");
    assert_eq!(after[0]["amount"], 20_000);
    assert_eq!(after[0]["fee_schedule_version"], 2);
    // A later schedule never reprices what was recorded.
    app.on(2);
    ok(
        &change(&app, &s.admin, "fees-5", &json_of(adopt_fees(date(5), 700))).await,
        "fees from day 5",
    );
    assert_eq!(priced("client-1").await, before);
    assert_eq!(priced("client-2").await, after);
    app.stop().await;
}
