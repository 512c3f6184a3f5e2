//! docs/commands.md's example requests, posted to a live server in the
//! page's order, each as the user and at the time it names: every one is
//! applied (200), so
//! the page cannot drift from what the server accepts. The page is written
//! from the same examples (`kapchart_api::command_schema::examples`) and
//! kept equal to them by `crates/kapchart-api/tests/openapi.rs`. The
//! practice's commands' examples are posted by the admin the same way.

use std::collections::HashMap;

use kapchart_api::command_schema::examples::{CLIENT, examples, practice_examples};
use kapchart_domain::Role;
use kapchart_e2e::api::ApiApp;
use kapchart_e2e::*;

on_both_engines!(
    every_documented_example_is_accepted_in_order,
    every_documented_practice_example_is_accepted_in_order,
);

async fn every_documented_example_is_accepted_in_order(url: &str) {
    let app = ApiApp::spawn(url).await;
    let staff = app.staff().await;
    let tokens: HashMap<&str, (&str, Role)> = [
        ("t-rivera", (staff.therapist.as_str(), Role::Therapist)),
        ("rx-chen", (staff.prescriber.as_str(), Role::Prescriber)),
        (
            "rx-patel",
            (staff.other_prescriber.as_str(), Role::Prescriber),
        ),
        ("fd-jones", (staff.front_desk.as_str(), Role::FrontDesk)),
    ]
    .into_iter()
    .collect();

    let mut sequences = HashMap::new();
    for example in examples() {
        let &(token, role) = tokens
            .get(example.user)
            .unwrap_or_else(|| panic!("{} has no account", example.user));
        assert_eq!(role, example.role, "{}'s role", example.user);
        app.at(chrono::DateTime::parse_from_rfc3339(example.at)
            .expect("an RFC 3339 time")
            .to_utc());
        let reply = app
            .send(
                reqwest::Method::POST,
                &format!("/api/v1/clients/{CLIENT}/commands"),
                Some(token),
                Some(serde_json::to_vec(&example.request).expect("json")),
            )
            .await;
        assert_eq!(
            reply.status, 200,
            "{} as {}: {}",
            example.command, example.user, reply.body
        );
        sequences.insert(example.command, reply.body["sequence"].as_u64());
    }

    // The amendment's example names the exploration's entry.
    let amend = examples()
        .into_iter()
        .find(|e| e.command == "AmendEntry")
        .expect("an AmendEntry example");
    assert_eq!(
        sequences["RecordExploration"],
        amend.fields()["entry"].as_u64(),
        "AmendEntry's example amends the exploration"
    );
    app.stop().await;
}

async fn every_documented_practice_example_is_accepted_in_order(url: &str) {
    let app = ApiApp::spawn(url).await;
    let staff = app.staff().await;
    for example in practice_examples() {
        assert_eq!(
            (example.user, example.role),
            ("ad-root", Role::Admin),
            "{}",
            example.command
        );
        app.at(chrono::DateTime::parse_from_rfc3339(example.at)
            .expect("an RFC 3339 time")
            .to_utc());
        let reply = app
            .send(
                reqwest::Method::POST,
                "/api/v1/practice/commands",
                Some(&staff.admin),
                Some(serde_json::to_vec(&example.request).expect("json")),
            )
            .await;
        assert_eq!(reply.status, 200, "{}: {}", example.command, reply.body);
    }
    app.stop().await;
}
