//! The auditor's JSON reads over real HTTP on both engines: the checkpoint
//! log, a client's verifiable bundle (logged as an export) and the access
//! log (filtered, sorted, not logged); other roles refused, nothing
//! logged.

use kapchart_audit::{Bundle, public_key_of, verify_bundle};
use kapchart_domain::{ClientId, UserId};
use kapchart_e2e::api::{ApiApp, body};
use kapchart_e2e::*;
use kapchart_store::access::{AccessAction, AccessQuery, AccessRecord, AccessSort};
use serde_json::json;

on_both_engines!(
    checkpoints_and_bundles_are_read_by_auditors,
    the_access_log_is_filtered_and_sorted_for_auditors,
);

const SECRET: [u8; 32] = [7; 32];

async fn log(app: &ApiApp) -> Vec<AccessRecord> {
    kapchart_store::access::list(&app.db, &AccessQuery::default())
        .await
        .expect("access log")
}

/// `client-1` registered with an intake (entries 1 and 2).
async fn client(app: &ApiApp, front_desk: &str, therapist: &str) {
    app.commands_ok(
        CLIENT,
        &[
            (
                front_desk,
                "c-1",
                json!({"RegisterClient": {
                    "client_id": CLIENT, "name": "Alex Example",
                    "date_of_birth": "1985-03-14", "therapist": "t-rivera",
                    "prescriber": "rx-chen",
                }}),
            ),
            (
                therapist,
                "c-2",
                body(intake(
                    "intake-1",
                    span(0, 9, 10),
                    kapchart_domain::Suitability::Suitable,
                )),
            ),
        ],
    )
    .await;
}

async fn checkpoints_and_bundles_are_read_by_auditors(url: &str) {
    let app = ApiApp::spawn(url).await;
    let s = app.staff().await;
    client(&app, &s.front_desk, &s.therapist).await;
    let bundle = "/api/v1/clients/client-1/bundle?purpose=audit";

    let before = log(&app).await.len();
    let none = app.get(&s.auditor, bundle).await;
    assert_eq!(
        (none.status, none.code()),
        (404, "not_found"),
        "{}",
        none.body
    );
    let empty = app.get(&s.auditor, "/api/v1/checkpoints").await;
    assert_eq!(empty.status, 200);
    assert_eq!(empty.body, json!({"checkpoints": []}));
    assert_eq!(
        log(&app).await.len(),
        before,
        "nothing read, nothing logged"
    );

    let file = kapchart_store::audit::checkpoint(&app.db, &SECRET, "2026-01-05T21:00:00Z")
        .await
        .expect("checkpoint");
    for token in [&s.auditor, &s.admin] {
        let reply = app.get(token, "/api/v1/checkpoints").await;
        assert_eq!(reply.status, 200);
        assert_eq!(
            reply.body["checkpoints"],
            json!([serde_json::to_value(&file).expect("json")])
        );
    }
    let reply = app.get(&s.auditor, bundle).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let b: Bundle = serde_json::from_value(reply.body).expect("a bundle");
    assert_eq!(
        verify_bundle(&b, &public_key_of(&SECRET))
            .expect("verifies")
            .entries,
        2
    );
    let entries: Vec<AccessRecord> = log(&app).await.into_iter().skip(before).collect();
    assert_eq!(entries.len(), 1, "{entries:#?}");
    assert_eq!(entries[0].entry.action, AccessAction::Export);
    assert_eq!(
        entries[0].entry.client_id.as_ref().map(ClientId::as_str),
        Some(CLIENT)
    );
    assert!(
        entries[0]
            .entry
            .source
            .starts_with("api GET /api/v1/clients/client-1/bundle from "),
        "{}",
        entries[0].entry.source
    );

    // Other roles: 403, nothing logged.
    let before = log(&app).await.len();
    for token in [&s.therapist, &s.prescriber, &s.front_desk, &s.admin] {
        let reply = app.get(token, bundle).await;
        assert_eq!((reply.status, reply.code()), (403, "forbidden"));
    }
    for token in [&s.therapist, &s.prescriber, &s.front_desk] {
        let reply = app.get(token, "/api/v1/checkpoints").await;
        assert_eq!(reply.status, 403);
    }
    assert_eq!(log(&app).await.len(), before);
    let bad = app.get(&s.auditor, "/api/v1/clients/client-1/bundle").await;
    assert_eq!(bad.status, 400);
    app.stop().await;
}

async fn the_access_log_is_filtered_and_sorted_for_auditors(url: &str) {
    let app = ApiApp::spawn(url).await;
    let s = app.staff().await;
    client(&app, &s.front_desk, &s.therapist).await;
    let chart = app
        .get(
            &s.therapist,
            "/api/v1/clients/client-1/chart?purpose=treatment",
        )
        .await;
    assert_eq!(chart.status, 200);
    let billing = app
        .get(
            &s.front_desk,
            "/api/v1/clients/client-1/billing?purpose=payment",
        )
        .await;
    assert_eq!(billing.status, 200);

    let before = log(&app).await.len();
    for (query, client, user, sort) in [
        ("", None, None, AccessSort::Time),
        (
            "?client=client-1&sort=user",
            Some(CLIENT),
            None,
            AccessSort::User,
        ),
        ("?user=fd-jones", None, Some("fd-jones"), AccessSort::Time),
        (
            "?from=2026-01-05&to=2026-01-05&sort=action",
            None,
            None,
            AccessSort::Action,
        ),
    ] {
        let reply = app
            .get(&s.auditor, &format!("/api/v1/access-log{query}"))
            .await;
        assert_eq!(reply.status, 200, "{query}: {}", reply.body);
        let got: Vec<u64> = reply.body["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .map(|e| e["sequence"].as_u64().expect("a sequence"))
            .collect();
        let day = "2026-01-05".parse().ok();
        let dated = query.contains("from=");
        let expected: Vec<u64> = kapchart_store::access::list(
            &app.db,
            &AccessQuery {
                client: client.map(|c| ClientId::parse(c).expect("id")),
                user: user.map(|u| UserId::parse(u).expect("id")),
                from: day.filter(|_| dated),
                to: day.filter(|_| dated),
                sort,
            },
        )
        .await
        .expect("lists")
        .into_iter()
        .map(|r| r.sequence)
        .filter(|n| (*n as usize) <= before)
        .collect();
        assert!(!expected.is_empty(), "{query}");
        assert_eq!(got, expected, "{query}");
    }
    let one = app
        .get(&s.auditor, "/api/v1/access-log?user=fd-jones")
        .await;
    let entry = &one.body["entries"][one.body["entries"].as_array().expect("a").len() - 1];
    assert_eq!(entry["action"], "query");
    assert_eq!(entry["client_id"], CLIENT);
    assert_eq!(entry["categories"], json!(["billing", "demographics"]));
    assert_eq!(entry["hash"].as_str().map(str::len), Some(64));
    assert_eq!(
        log(&app).await.len(),
        before,
        "reading the log is not logged"
    );

    for (query, field) in [
        ("?sort=size", "sort"),
        ("?user=no%20one", "user"),
        ("?from=2026-02-01&to=2026-01-01", "from"),
        ("?colour=red", "colour"),
        ("?from=2026-13-01", "from"),
    ] {
        let reply = app
            .get(&s.auditor, &format!("/api/v1/access-log{query}"))
            .await;
        assert_eq!(reply.status, 400, "{query}");
        assert_eq!(
            reply.body["error"]["field"], field,
            "{query}: {}",
            reply.body
        );
    }
    for token in [&s.therapist, &s.prescriber, &s.front_desk, &s.admin] {
        let reply = app.get(token, "/api/v1/access-log").await;
        assert_eq!((reply.status, reply.code()), (403, "forbidden"));
    }
    app.stop().await;
}
