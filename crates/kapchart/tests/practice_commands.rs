//! End to end: `kapchart practice show|change|history` with the real binary
//! against a fresh SQLite file and a fresh PostgreSQL database: the
//! standard settings until the practice sets its own; a change read from a
//! file; a bad field and a change reaching back refused (exit 2, one line,
//! nothing written); the history chained; `verify` covering the record.

use serde_json::{Value, json};

#[macro_use]
mod common;

use common::*;

on_both_engines!(the_practice_configures_itself_from_the_command_line);

fn identity(npi: &str) -> Value {
    json!({
        "id": format!("identity-{npi}"),
        "body": {"SetPracticeIdentity": {
            "name": "Harbor KAP Clinic",
            "address": {"line1": "100 Harbor Way", "city": "San Francisco", "state": "CA", "zip": "94110"},
            "phone": "(415) 555-0123",
            "npi": npi,
            "tax_id": "12-3456789",
            "place_of_service": "11",
            "time_zone": "America/Los_Angeles",
        }},
    })
}

async fn the_practice_configures_itself_from_the_command_line(env: &Env) {
    let shown = env.run(&["practice", "show"]).ok().json();
    assert_eq!(shown["time_zone"], "UTC");
    assert_eq!(shown["identity"], Value::Null);
    assert_eq!(shown["policies"].as_array().map(Vec::len), Some(1));
    assert_eq!(shown["fee_schedules"][0]["exploration"], 55_000);

    // A bad check digit: one line naming the field, nothing written.
    env.write("bad.json", &identity("1234567890").to_string());
    let bad = env.run(&[
        "practice",
        "change",
        &env.path("bad.json").to_string_lossy(),
    ]);
    bad.fails_quietly(EX_USAGE, &["body.SetPracticeIdentity.npi", "check digit"]);
    let history = env.run(&["practice", "history"]).ok().json();
    assert_eq!(history.as_array().map(Vec::len), Some(0));

    env.write("identity.json", &identity("1234567893").to_string());
    let file = env.path("identity.json").to_string_lossy().into_owned();
    let applied = env.run(&["practice", "change", &file]).ok().json();
    assert_eq!(applied["events"][0]["event_type"], "PracticeIdentitySet");
    assert_eq!(applied["sequence"], 1);
    // The same change again is the same answer, and writes nothing.
    let again = env.run(&["practice", "change", &file]).ok().json();
    assert_eq!(again["sequence"], 1);

    // Fees reaching back to a day already past are refused by their rule.
    let fees = |from: &str| {
        let fee = |cents: i64, codes: &[&str]| json!({"fee": cents, "codes": codes});
        json!({
            "id": format!("fees-{from}"),
            "body": {"AdoptFeeSchedule": {
                "effective_from": from,
                "intake": fee(20_000, &["90791"]),
                "preparation": fee(20_000, &["90832", "90834", "90837"]),
                "exploration": fee(60_000, &["0820T"]),
                "integration": fee(20_000, &["90832", "90834", "90837"]),
                "ongoing_care": fee(20_000, &["90832", "90834", "90837"]),
            }},
        })
    };
    env.write("old-fees.json", &fees("2001-01-01").to_string());
    env.run(&[
        "practice",
        "change",
        &env.path("old-fees.json").to_string_lossy(),
    ])
    .fails_quietly(EX_USAGE, &["settings.retroactive"]);
    env.write("new-fees.json", &fees("2199-01-01").to_string());
    env.run(&[
        "practice",
        "change",
        &env.path("new-fees.json").to_string_lossy(),
    ])
    .ok();

    let shown = env.run(&["practice", "show"]).ok().json();
    assert_eq!(shown["time_zone"], "America/Los_Angeles");
    assert_eq!(shown["identity"]["tax_id"], "12-3456789");
    assert_eq!(shown["fee_schedules"][1]["version"], 2);
    assert_eq!(shown["fee_schedules"][1]["effective_from"], "2199-01-01");
    assert_eq!(shown["fee_schedule_in_force"], 1);

    let history = env.run(&["practice", "history"]).ok().json();
    let entries = history.as_array().cloned().unwrap_or_default();
    assert_eq!(entries.len(), 2, "{history:#}");
    assert_eq!(entries[0]["prev_hash"], "0".repeat(64));
    assert_eq!(entries[1]["prev_hash"], entries[0]["hash"]);
    assert_eq!(
        entries[0]["event"]["PracticeIdentitySet"]["decision"]["actor"]["role"], "admin",
        "{history:#}"
    );

    // `verify` rehashes the practice's record with the clients'.
    let verified = env.run(&["verify", "--json"]).ok().json();
    assert_eq!(verified["intact"], true, "{verified:#}");
    // Its two entries are rehashed as one chain (counted among the
    // chains as `clients`).
    assert_eq!(verified["events"], 2, "{verified:#}");
    assert_eq!(verified["clients"], 1, "{verified:#}");
}
