//! The HTTP API over real HTTP on a random port, against a real database
//! (PostgreSQL; the full protocol also on SQLite): the protocol through the
//! API, each step by the role that does it; what each role is refused;
//! malformed input; idempotent command ids; the access log.

use kapchart_domain::{Clearance, OutcomeMeasure, Phq9Score, Suitability};
use kapchart_e2e::api::{ApiApp, Reply, Staff, body, ok};
use kapchart_e2e::*;
use serde_json::{Value, json};

fn phq9(score: i64) -> OutcomeMeasure {
    OutcomeMeasure::Phq9(Phq9Score::new(score).expect("valid score"))
}

/// Registration through one integrated exploration, a payment and an
/// outcome measure, each by the role that does it.
async fn protocol(app: &ApiApp, s: &Staff) {
    app.on(0);
    let r = app
        .command(&s.front_desk, CLIENT, "c-1", &body(register_client()))
        .await;
    ok(&r, "register");
    assert_eq!(r.body["sequence"], 1);
    assert_eq!(r.body["events"][0]["event_type"], "ClientRegistered");
    let steps: Vec<(&str, &str, Value)> = vec![
        (
            &s.therapist,
            "c-2",
            body(intake("intake-1", span(0, 9, 10), Suitability::Suitable)),
        ),
        (
            &s.prescriber,
            "c-3",
            body(medical(date(0), Clearance::Cleared)),
        ),
        (&s.prescriber, "c-4", body(standard_prescription("rx-1"))),
        (&s.therapist, "c-5", body(consent(date(0)))),
        (
            &s.therapist,
            "c-6",
            body(preparation("prep-1", span(0, 10, 11))),
        ),
        (&s.therapist, "c-6b", body(outcome(phq9(19), date(0)))),
    ];
    app.commands_ok(CLIENT, &steps).await;
    app.on(7);
    ok(
        &app.command(
            &s.therapist,
            CLIENT,
            "c-7",
            &body(exploration("x1", 7, Some(150), bp(120, 80))),
        )
        .await,
        "exploration",
    );
    app.on(9);
    ok(
        &app.command(
            &s.therapist,
            CLIENT,
            "c-8",
            &body(integration("i1", span(9, 10, 11), "x1")),
        )
        .await,
        "integration",
    );
    ok(
        &app.command(
            &s.front_desk,
            CLIENT,
            "c-9",
            &body(payment("pay-1", 10_000, date(9))),
        )
        .await,
        "payment",
    );
    ok(
        &app.command(
            &s.therapist,
            CLIENT,
            "c-10",
            &body(outcome(phq9(8), date(9))),
        )
        .await,
        "outcome",
    );
}

/// The rest of the protocol after [`protocol`]: the front desk books the
/// second exploration and its integration (judged against the schedule
/// view for double-bookings), the therapist holds them, gives ongoing
/// care, amends the first exploration's entry and discharges the client.
/// Then a second client's booking that would double-book the therapist is
/// refused.
async fn rest_of_protocol(app: &ApiApp, s: &Staff) {
    let steps: Vec<(i64, &str, &str, Value)> = vec![
        (
            10,
            &s.front_desk,
            "c-11",
            body(schedule_exploration("x2", span(14, 10, 13))),
        ),
        (
            10,
            &s.front_desk,
            "c-12",
            body(schedule_integration("i2", span(16, 10, 11), "x2")),
        ),
        (
            14,
            &s.therapist,
            "c-13",
            body(exploration("x2", 14, Some(150), bp(118, 78))),
        ),
        (
            16,
            &s.therapist,
            "c-14",
            body(integration("i2", span(16, 10, 11), "x2")),
        ),
        (
            20,
            &s.therapist,
            "c-15",
            body(ongoing_care("oc-1", span(20, 10, 11))),
        ),
        // Entry 8 is the first exploration.
        (20, &s.therapist, "c-16", body(amend(8))),
        (21, &s.therapist, "c-17", body(discharge(date(21)))),
    ];
    for (k, (d, token, id, b)) in steps.into_iter().enumerate() {
        app.on(d);
        ok(&app.command(token, CLIENT, id, &b).await, id);
        if k == 1 {
            double_booking(app, s).await;
        }
    }
}

/// A second client, whose preparation would overlap the first client's
/// booked exploration with the same therapist: refused by the
/// cross-client rule, judged on the schedule view.
async fn double_booking(app: &ApiApp, s: &Staff) {
    let mut second = body(register_client());
    second["RegisterClient"]["client_id"] = json!("client-2");
    ok(
        &app.command(&s.front_desk, "client-2", "b-1", &second).await,
        "a second client",
    );
    ok(
        &app.command(
            &s.therapist,
            "client-2",
            "b-1b",
            &body(intake("intake-b", span(10, 9, 10), Suitability::Suitable)),
        )
        .await,
        "the second client's intake",
    );
    let clash = app
        .command(
            &s.front_desk,
            "client-2",
            "b-2",
            &body(schedule_preparation("prep-b", span(14, 11, 12))),
        )
        .await;
    assert_eq!(clash.status, 422, "{}", clash.body);
    assert_eq!(
        clash.body["error"]["rule"], "schedule.therapist_double_booked",
        "{}",
        clash.body
    );
    ok(
        &app.command(
            &s.front_desk,
            "client-2",
            "b-3",
            &body(schedule_preparation("prep-b", span(14, 13, 14))),
        )
        .await,
        "the touching hour is free",
    );
}

async fn full_protocol(url: &str) {
    let app = ApiApp::spawn(url).await;
    let s = app.staff().await;
    protocol(&app, &s).await;
    rest_of_protocol(&app, &s).await;
    let events = app.events().await;
    assert_eq!(
        events, 21,
        "eighteen events of the client, three of another"
    );

    // The therapist's chart of their client.
    let chart = app
        .get(
            &s.therapist,
            &format!("/api/v1/clients/{CLIENT}/chart?purpose=treatment"),
        )
        .await;
    ok(&chart, "chart");
    let rows = chart.body["rows"].as_array().expect("rows");
    assert!(rows.iter().any(|r| r["kind"] == "chart"), "{}", chart.body);
    let entries: Vec<&Value> = rows.iter().filter(|r| r["kind"] == "entry").collect();
    assert_eq!(
        entries.len(),
        17,
        "one entry row per event but the payment: a therapist's chart holds no billing"
    );
    // The amendment is shown beside the entry it amends.
    let amended = entries
        .iter()
        .find(|r| r["key"].as_str().map(|k| k.trim_start_matches('0')) == Some("8"))
        .unwrap_or_else(|| panic!("entry 8 in {}", chart.body));
    assert!(
        amended["data"].to_string().contains("transcription error"),
        "{amended}"
    );
    // As of day 5: before the exploration.
    let as_of = app
        .get(
            &s.therapist,
            &format!("/api/v1/clients/{CLIENT}/chart?purpose=treatment&as_of=2026-01-10T00:00:00Z"),
        )
        .await;
    ok(&as_of, "chart as of");
    assert_eq!(
        as_of.body["rows"]
            .as_array()
            .expect("rows")
            .iter()
            .filter(|r| r["kind"] == "entry")
            .count(),
        7
    );

    // Billing by the front desk: a charge per held session, the payment.
    let billing = app
        .get(
            &s.front_desk,
            &format!("/api/v1/clients/{CLIENT}/billing?purpose=payment"),
        )
        .await;
    ok(&billing, "billing");
    let kinds: Vec<&str> = billing.body["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .filter_map(|r| r["kind"].as_str())
        .collect();
    assert!(kinds.contains(&"account") && kinds.contains(&"charge") && kinds.contains(&"payment"));
    let superbill = app
        .get(
            &s.front_desk,
            &format!(
                "/api/v1/clients/{CLIENT}/superbill?purpose=payment&from=2026-01-01&to=2026-01-31"
            ),
        )
        .await;
    ok(&superbill, "superbill");
    assert!(!superbill.body["rows"].as_array().expect("rows").is_empty());

    // The auditor: the complete history with hashes, chained.
    let history = app
        .get(
            &s.auditor,
            &format!("/api/v1/clients/{CLIENT}/history?purpose=audit"),
        )
        .await;
    ok(&history, "history");
    let entries = history.body["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), 18);
    assert!(entries.iter().any(|e| e["event_type"] == "EntryAmended"));
    assert_eq!(entries[0]["prev_hash"], "0".repeat(64));
    for pair in entries.windows(2) {
        assert_eq!(pair[1]["prev_hash"], pair[0]["hash"]);
    }
    let verification = app.get(&s.auditor, "/api/v1/verification").await;
    ok(&verification, "verification");
    assert_eq!(verification.body["intact"], true);
    assert_eq!(verification.body["rows"], 21);
    assert_eq!(verification.body["access_log"]["intact"], true);
    assert!(verification.body["access_log"]["entries"].as_u64() > Some(6));

    // Reports: the auditor reads the controlled-substance log.
    let controlled = app
        .get(
            &s.auditor,
            "/api/v1/reports/controlled-substances?purpose=audit",
        )
        .await;
    ok(&controlled, "controlled substances");
    assert_eq!(controlled.body["rows"].as_array().expect("rows").len(), 2);
    // The schedule: a therapist sees only their own sessions.
    let mine = app
        .get(&s.therapist, "/api/v1/schedule?purpose=operations")
        .await;
    ok(&mine, "schedule");
    assert!(!mine.body["rows"].as_array().expect("rows").is_empty());
    let theirs = app
        .get(&s.other_therapist, "/api/v1/schedule?purpose=operations")
        .await;
    ok(&theirs, "other schedule");
    assert!(theirs.body["rows"].as_array().expect("rows").is_empty());

    // Every read of the client's record is in the access log.
    let log = kapchart_store::access::list(
        &app.db,
        &kapchart_store::access::AccessQuery {
            client: Some(kapchart_domain::ClientId::parse(CLIENT).expect("id")),
            ..Default::default()
        },
    )
    .await
    .expect("access log");
    let reads: Vec<(String, String)> = log
        .iter()
        .map(|r| (r.entry.actor.user_id.to_string(), r.entry.source.clone()))
        .collect();
    assert!(
        reads.contains(&(
            "t-rivera".to_owned(),
            "api GET /api/v1/clients/client-1/chart from 127.0.0.1".to_owned()
        )),
        "{reads:?}"
    );
    assert!(
        reads
            .iter()
            .any(|(u, s)| u == "au-smith" && s.contains("/history"))
    );
    assert!(
        reads
            .iter()
            .any(|(u, s)| u == "fd-jones" && s.contains("/billing"))
    );
    assert_eq!(
        log.iter()
            .filter(|r| r.entry.purpose == "treatment")
            .count(),
        2,
        "the two chart reads"
    );
    // The document served is the one the code generates, and needs no
    // token.
    let served = app
        .send(reqwest::Method::GET, "/api/v1/openapi.json", None, None)
        .await;
    assert_eq!(served.status, 200);
    assert_eq!(served.body, kapchart_api::openapi::document_json());
    let _ = s.admin;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_full_protocol_through_the_api_on_postgres() {
    let db = kapchart_testkit::postgres().await;
    full_protocol(&db.url).await;
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_full_protocol_through_the_api_on_sqlite() {
    let db = kapchart_testkit::sqlite();
    full_protocol(&db.url).await;
    db.cleanup().await;
}

/// Each role is refused what it must not see or do, with 403 and nothing
/// written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_role_is_refused_what_it_must_not_see_or_do() {
    let db = kapchart_testkit::postgres().await;
    let app = ApiApp::spawn(&db.url).await;
    let s = app.staff().await;
    protocol(&app, &s).await;
    let events = app.events().await;
    let chart = format!("/api/v1/clients/{CLIENT}/chart?purpose=treatment");
    let billing = format!("/api/v1/clients/{CLIENT}/billing?purpose=payment");
    let history = format!("/api/v1/clients/{CLIENT}/history?purpose=audit");
    for (who, token, path) in [
        ("front desk: no clinical notes", &s.front_desk, &chart),
        ("another therapist's client", &s.other_therapist, &chart),
        ("admin: configuration only", &s.admin, &chart),
        ("therapist: no billing", &s.therapist, &billing),
        ("therapist: no complete history", &s.therapist, &history),
        ("front desk: no complete history", &s.front_desk, &history),
    ] {
        let r = app.get(token, path).await;
        assert_eq!(
            (r.status, r.code()),
            (403, "forbidden"),
            "{who}: {}",
            r.body
        );
    }
    for (who, token) in [
        ("auditors write nothing", &s.auditor),
        ("admins write no records", &s.admin),
        ("another therapist's client", &s.other_therapist),
    ] {
        let r = app
            .command(token, CLIENT, "c-99", &body(payment("pay-9", 100, date(9))))
            .await;
        assert_eq!(
            (r.status, r.code()),
            (403, "forbidden"),
            "{who}: {}",
            r.body
        );
    }
    // A therapist registers clients to themselves only.
    let mut register = body(register_client());
    register["RegisterClient"]["client_id"] = json!("client-2");
    let r = app
        .command(&s.other_therapist, "client-2", "c-97", &register)
        .await;
    assert_eq!((r.status, r.code()), (403, "forbidden"), "{}", r.body);
    // A role the record's rules refuse: the front desk cannot dose. The
    // record decides; the answer is 403 with the rule.
    let r = app
        .command(
            &s.front_desk,
            CLIENT,
            "c-98",
            &body(exploration("x2", 9, Some(150), bp(120, 80))),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(r.code(), "forbidden");
    assert_eq!(r.body["error"]["rule"], "role.not_permitted");
    // Roles that never send commands: the same 403 and rule.
    for (token, id) in [(&s.auditor, "c-96"), (&s.admin, "c-95")] {
        let r = app
            .command(token, CLIENT, id, &body(payment("p-403", 100, date(1))))
            .await;
        assert_eq!((r.status, r.code()), (403, "forbidden"), "{}", r.body);
        assert_eq!(r.body["error"]["rule"], "role.not_permitted", "{}", r.body);
    }
    assert_eq!(app.events().await, events, "nothing written");
    // No read was logged for a refused read.
    let log = kapchart_store::access::list(&app.db, &Default::default())
        .await
        .expect("access log");
    assert!(
        log.iter()
            .filter(|r| r.entry.client_id.is_some())
            .all(|r| r.entry.actor.user_id.as_str() != "fd-jones"
                || !r.entry.source.contains("/chart")),
        "refused reads are not logged as reads"
    );
    app.stop().await;
    db.cleanup().await;
}

/// Malformed input, bad ids, huge bodies, unknown commands, unknown or
/// expired tokens: a clear error each, and no event.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_a_clear_error_and_writes_nothing() {
    let db = kapchart_testkit::postgres().await;
    let app = ApiApp::spawn(&db.url).await;
    let s = app.staff().await;
    ok(
        &app.command(&s.front_desk, CLIENT, "c-1", &body(register_client()))
            .await,
        "register",
    );
    let events = app.events().await;
    let post = |token: Option<String>, path: String, raw: Vec<u8>| {
        let app = &app;
        async move {
            app.send(reqwest::Method::POST, &path, token.as_deref(), Some(raw))
                .await
        }
    };
    let commands = format!("/api/v1/clients/{CLIENT}/commands");
    let fd = Some(s.front_desk.clone());
    let cases: Vec<(&str, Reply, u16, &str, Option<&str>)> = vec![
        (
            "malformed JSON",
            post(fd.clone(), commands.clone(), b"not json".to_vec()).await,
            400,
            "invalid_input",
            Some("."),
        ),
        (
            "wrong type",
            post(
                fd.clone(),
                commands.clone(),
                br#"{"id": "c-2", "body": {"RecordPayment": {"payment": "p1", "amount": "lots", "received_on": "2026-01-05"}}}"#.to_vec(),
            )
            .await,
            400,
            "invalid_input",
            Some("body.RecordPayment.amount"),
        ),
        (
            "unknown command",
            post(
                fd.clone(),
                commands.clone(),
                br#"{"id": "c-3", "body": {"DeleteEverything": {}}}"#.to_vec(),
            )
            .await,
            400,
            "invalid_input",
            Some("body"),
        ),
        (
            "bad command id",
            post(
                fd.clone(),
                commands.clone(),
                serde_json::to_vec(&json!({"id": "no spaces", "body": body(payment("p", 1, date(0)))}))
                    .expect("json"),
            )
            .await,
            400,
            "invalid_input",
            Some("id"),
        ),
        (
            "bad client id",
            post(
                fd.clone(),
                "/api/v1/clients/bad%20id!/commands".to_owned(),
                serde_json::to_vec(&json!({"id": "c-4", "body": body(payment("p", 1, date(0)))}))
                    .expect("json"),
            )
            .await,
            400,
            "invalid_input",
            Some("client_id"),
        ),
        (
            "a session recorded before it has ended: the record names the field as the parser would",
            post(
                Some(s.therapist.clone()),
                commands.clone(),
                serde_json::to_vec(&json!({"id": "c-5", "body": body(preparation("prep-early", span(0, 21, 22)))}))
                    .expect("json"),
            )
            .await,
            400,
            "invalid_input",
            Some("body.RecordPreparation.span.end"),
        ),
        (
            "huge body",
            post(fd.clone(), commands.clone(), vec![b' '; 200_000]).await,
            413,
            "body_too_large",
            None,
        ),
        (
            "no token",
            post(None, commands.clone(), b"{}".to_vec()).await,
            401,
            "unauthenticated",
            None,
        ),
        (
            "unknown token",
            post(Some("kc_not-a-token".to_owned()), commands.clone(), b"{}".to_vec()).await,
            401,
            "unauthenticated",
            None,
        ),
        (
            "wrong method",
            app.send(reqwest::Method::DELETE, &commands, fd.as_deref(), None).await,
            405,
            "method_not_allowed",
            None,
        ),
        (
            "unknown route",
            post(fd.clone(), "/api/v1/nothing".to_owned(), b"{}".to_vec()).await,
            404,
            "not_found",
            None,
        ),
    ];
    for (what, reply, status, code, field) in cases {
        assert_eq!(
            (reply.status, reply.code()),
            (status, code),
            "{what}: {}",
            reply.body
        );
        if let Some(field) = field {
            assert_eq!(
                reply.body["error"]["field"], field,
                "{what}: {}",
                reply.body
            );
        }
    }
    // Bad query parameters on reads: a missing purpose, an unknown one, a
    // bad date, an unknown parameter: each named, its value not repeated.
    for (path, field) in [
        (format!("/api/v1/clients/{CLIENT}/billing"), "purpose"),
        (
            format!("/api/v1/clients/{CLIENT}/billing?purpose=gossip"),
            "purpose",
        ),
        (
            "/api/v1/reports/billing?purpose=payment&to=31%2F01".to_owned(),
            "to",
        ),
        (
            format!("/api/v1/clients/{CLIENT}/superbill?purpose=payment&from=yesterday"),
            "from",
        ),
        (
            format!(
                "/api/v1/clients/{CLIENT}/superbill?purpose=payment&from=2026-02-01&to=2026-01-01"
            ),
            "from",
        ),
        (
            "/api/v1/schedule?purpose=payment&colour=red".to_owned(),
            "colour",
        ),
    ] {
        let r = app.get(&s.front_desk, &path).await;
        assert_eq!(
            (r.status, r.code()),
            (400, "invalid_input"),
            "{path}: {}",
            r.body
        );
        assert_eq!(r.body["error"]["field"], field, "{path}: {}", r.body);
        for value in ["gossip", "yesterday", "31/01", "red"] {
            assert!(!r.body.to_string().contains(value), "{path}: {}", r.body);
        }
    }
    // An unknown client is 404.
    let r = app
        .get(
            &s.front_desk,
            "/api/v1/clients/nobody/billing?purpose=payment",
        )
        .await;
    assert_eq!((r.status, r.code()), (404, "not_found"));
    // An expired token: 91 days on.
    app.on(91);
    let r = app
        .get(
            &s.front_desk,
            &format!("/api/v1/clients/{CLIENT}/billing?purpose=payment"),
        )
        .await;
    assert_eq!((r.status, r.code()), (401, "unauthenticated"), "{}", r.body);
    assert_eq!(app.events().await, events, "nothing written");
    app.stop().await;
    db.cleanup().await;
}

/// The same command id with the same body is answered with the first
/// result and writes nothing; with a different body it is a 409.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_id_is_applied_once() {
    let db = kapchart_testkit::postgres().await;
    let app = ApiApp::spawn(&db.url).await;
    let s = app.staff().await;
    let first = app
        .command(&s.front_desk, CLIENT, "c-1", &body(register_client()))
        .await;
    ok(&first, "register");
    let pay = body(payment("pay-1", 5_000, date(0)));
    let paid = app.command(&s.front_desk, CLIENT, "c-2", &pay).await;
    ok(&paid, "payment");
    let events = app.events().await;
    app.on(1);
    let again = app.command(&s.front_desk, CLIENT, "c-2", &pay).await;
    assert_eq!(
        (again.status, &again.body),
        (200, &paid.body),
        "the first result"
    );
    assert_eq!(app.events().await, events, "nothing written");
    let other = app
        .command(
            &s.front_desk,
            CLIENT,
            "c-2",
            &body(payment("pay-2", 7_000, date(1))),
        )
        .await;
    assert_eq!(
        (other.status, other.code()),
        (409, "command_id_reused"),
        "{}",
        other.body
    );
    assert_eq!(app.events().await, events, "nothing written");
    app.stop().await;
    db.cleanup().await;
}

/// Concurrent commands to one record: conflicts are retried inside, and
/// every command is applied.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_commands_to_one_record_are_all_applied() {
    let db = kapchart_testkit::postgres().await;
    let app = std::sync::Arc::new(ApiApp::spawn(&db.url).await);
    let s = app.staff().await;
    ok(
        &app.command(&s.front_desk, CLIENT, "c-1", &body(register_client()))
            .await,
        "register",
    );
    let mut tasks = Vec::new();
    for k in 0..8 {
        let app = std::sync::Arc::clone(&app);
        let token = s.front_desk.clone();
        tasks.push(tokio::spawn(async move {
            app.command(
                &token,
                CLIENT,
                &format!("pay-c{k}"),
                &body(payment(&format!("pay-{k}"), 100 + k, date(0))),
            )
            .await
        }));
    }
    let mut sequences = Vec::new();
    for t in tasks {
        let r = t.await.expect("task");
        ok(&r, "concurrent payment");
        sequences.push(r.body["sequence"].as_u64().expect("sequence"));
    }
    sequences.sort_unstable();
    assert_eq!(sequences, (2..=9).collect::<Vec<u64>>());
    assert_eq!(app.events().await, 9);
    if let Ok(app) = std::sync::Arc::try_unwrap(app) {
        app.stop().await;
    }
    db.cleanup().await;
}
