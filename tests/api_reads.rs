//! Reads through the HTTP API, on both engines (issue 10, items 6 to 8):
//! the chart a therapist or prescriber reads holds no billing data and the
//! access log names exactly the categories each reply held; the log's
//! source is the request as made; a caller who may not read a client gets
//! the same answer whether the client exists or not.

use kapchart_domain::{Clearance, ClientId, Suitability};
use kapchart_e2e::api::{ApiApp, Reply, Staff, body, ok};
use kapchart_e2e::*;
use kapchart_store::access::{AccessQuery, AccessRecord};
use serde_json::{Value, json};

on_both_engines!(
    therapists_and_prescribers_read_the_chart_without_billing_and_the_log_says_what_was_sent,
    the_access_log_names_the_request_as_made,
    a_client_the_caller_may_not_read_looks_the_same_whether_it_exists_or_not,
);

/// `CLIENT`, registered to t-rivera and referred to rx-chen, with an intake
/// (which raises a charge), a cleared medical evaluation, a prescription, a
/// payment and an amendment of that payment (entry 6).
async fn client_with_billing(app: &ApiApp, s: &Staff) {
    app.on(0);
    let register = json!({"RegisterClient": {
        "client_id": CLIENT,
        "name": "Alex Example",
        "date_of_birth": "1985-03-14",
        "therapist": "t-rivera",
        "prescriber": "rx-chen",
    }});
    let steps: Vec<(&str, &str, Value)> = vec![
        (&s.front_desk, "r-1", register),
        (
            &s.therapist,
            "r-2",
            body(intake("intake-1", span(0, 9, 10), Suitability::Suitable)),
        ),
        (
            &s.prescriber,
            "r-3",
            body(medical(date(0), Clearance::Cleared)),
        ),
        (&s.prescriber, "r-4", body(standard_prescription("rx-1"))),
        (
            &s.front_desk,
            "r-5",
            body(payment("pay-1", 12_500, date(0))),
        ),
        (&s.front_desk, "r-6", body(amend(5))),
    ];
    app.commands_ok(CLIENT, &steps).await;
    views_current(app).await;
}

/// Waits until the views hold every committed event. On PostgreSQL the
/// feed holds back events while any older transaction of the cluster is
/// open (docs/ARCHITECTURE.md), and other tests share the cluster: without
/// this, a read could show the record as it stood a moment earlier.
async fn views_current(app: &ApiApp) {
    let behind = kapchart_projector::Projector::new(app.db.clone())
        .catch_up_fully(std::time::Duration::from_secs(60))
        .await
        .expect("the views catch up");
    assert_eq!(behind, 0, "the views hold every event");
}

/// The access log's entries about `CLIENT`, in order.
async fn log_of_client(app: &ApiApp) -> Vec<AccessRecord> {
    kapchart_store::access::list(
        &app.db,
        &AccessQuery {
            client: Some(ClientId::parse(CLIENT).expect("id")),
            ..Default::default()
        },
    )
    .await
    .expect("access log")
}

fn categories(record: &AccessRecord) -> Vec<&'static str> {
    record.entry.categories.iter().map(|c| c.as_str()).collect()
}

/// Every text of `value` that names billing: keys and event types.
fn billing_in(value: &Value) -> Vec<String> {
    let text = value.to_string();
    [
        "PaymentRecorded",
        "\"charge\"",
        "\"amount\"",
        "\"payer\"",
        "\"method\"",
        "12500",
    ]
    .into_iter()
    .filter(|needle| text.contains(needle))
    .map(str::to_owned)
    .collect()
}

async fn therapists_and_prescribers_read_the_chart_without_billing_and_the_log_says_what_was_sent(
    url: &str,
) {
    let app = ApiApp::spawn(url).await;
    let s = app.staff().await;
    client_with_billing(&app, &s).await;
    let chart = format!("/api/v1/clients/{CLIENT}/chart?purpose=treatment");
    let as_of = format!("{chart}&as_of=2026-01-05T23:00:00Z");
    for (who, token) in [
        ("t-rivera", &s.therapist),
        ("rx-chen", &s.prescriber),
        ("au-smith", &s.auditor),
    ] {
        for path in [&chart, &as_of] {
            let before = log_of_client(&app).await.len();
            let reply = app.get(token, path).await;
            ok(&reply, who);
            let entries: Vec<&Value> = reply.body["rows"]
                .as_array()
                .expect("rows")
                .iter()
                .filter(|r| r["kind"] == "entry")
                .collect();
            let log = log_of_client(&app).await;
            assert_eq!(log.len(), before + 1, "{who}: one entry per read");
            let logged = log.last().expect("an entry");
            assert_eq!(logged.entry.actor.user_id.as_str(), who);
            if who == "au-smith" {
                // Auditors read everything, and the log says billing.
                assert_eq!(entries.len(), 6, "{who} {path}: {}", reply.body);
                assert!(!billing_in(&reply.body).is_empty(), "{}", reply.body);
                assert_eq!(
                    categories(logged),
                    ["billing", "demographics", "dosing", "notes"],
                    "{who} {path}"
                );
            } else {
                // The payment and its amendment are left out, and so is
                // the intake's charge: the minimum necessary.
                assert_eq!(entries.len(), 4, "{who} {path}: {}", reply.body);
                assert_eq!(
                    billing_in(&reply.body),
                    Vec::<String>::new(),
                    "{who} {path}: {}",
                    reply.body
                );
                let types: Vec<&str> = entries
                    .iter()
                    .filter_map(|e| e["data"]["event_type"].as_str())
                    .collect();
                assert_eq!(
                    types,
                    [
                        "ClientRegistered",
                        "IntakeRecorded",
                        "MedicalEvaluationRecorded",
                        "PrescriptionIssued"
                    ]
                );
                assert_eq!(
                    categories(logged),
                    ["demographics", "dosing", "notes"],
                    "{who} {path}: what is logged is what was sent"
                );
                // The chart's counts hide nothing either.
                let current = reply.body["rows"]
                    .as_array()
                    .expect("rows")
                    .iter()
                    .find(|r| r["kind"] == "chart")
                    .expect("the chart row");
                assert_eq!(
                    (&current["data"]["entries"], &current["data"]["amendments"]),
                    (&json!(4), &json!(0))
                );
            }
        }
    }
    // The complete history (auditors) holds everything and says so.
    let before = log_of_client(&app).await.len();
    let history = app
        .get(
            &s.auditor,
            &format!("/api/v1/clients/{CLIENT}/history?purpose=audit"),
        )
        .await;
    ok(&history, "history");
    let log = log_of_client(&app).await;
    assert_eq!(log.len(), before + 1);
    assert_eq!(
        categories(log.last().expect("an entry")),
        ["billing", "demographics", "dosing", "notes"]
    );
    app.stop().await;
}

async fn the_access_log_names_the_request_as_made(url: &str) {
    let app = ApiApp::spawn(url).await;
    let s = app.staff().await;
    client_with_billing(&app, &s).await;
    let reads = [
        (
            &s.front_desk,
            "/api/v1/reports/billing?purpose=payment&from=2026-01-01&to=2026-03-31",
            "api GET /api/v1/reports/billing?from=2026-01-01&to=2026-03-31 from 127.0.0.1",
        ),
        (
            &s.front_desk,
            "/api/v1/reports/superbill?from=2026-01-01&purpose=payment&to=2026-03-31",
            "api GET /api/v1/reports/superbill?from=2026-01-01&to=2026-03-31 from 127.0.0.1",
        ),
        (
            &s.front_desk,
            "/api/v1/reports/superbill?purpose=payment&client=client-1",
            "api GET /api/v1/reports/superbill?client=client-1 from 127.0.0.1",
        ),
        (
            &s.front_desk,
            "/api/v1/clients/client-1/superbill?purpose=payment&to=2026-01-31",
            "api GET /api/v1/clients/client-1/superbill?to=2026-01-31 from 127.0.0.1",
        ),
        (
            &s.front_desk,
            "/api/v1/clients/client-1/billing?purpose=payment",
            "api GET /api/v1/clients/client-1/billing from 127.0.0.1",
        ),
        (
            &s.therapist,
            "/api/v1/clients/client-1/chart?purpose=treatment&as_of=2026-01-10T00:00:00Z",
            "api GET /api/v1/clients/client-1/chart?as_of=2026-01-10T00:00:00Z from 127.0.0.1",
        ),
        (
            // The same moment written another way: logged as understood.
            &s.therapist,
            "/api/v1/clients/client-1/chart?as_of=2026-01-10T01:00:00%2B01:00&purpose=treatment",
            "api GET /api/v1/clients/client-1/chart?as_of=2026-01-10T00:00:00Z from 127.0.0.1",
        ),
        (
            &s.therapist,
            "/api/v1/clients/client-1/chart?purpose=treatment",
            "api GET /api/v1/clients/client-1/chart from 127.0.0.1",
        ),
        (
            &s.auditor,
            "/api/v1/clients/client-1/history?purpose=audit",
            "api GET /api/v1/clients/client-1/history from 127.0.0.1",
        ),
    ];
    for (token, path, source) in reads {
        let before = log_of_client(&app).await.len();
        ok(&app.get(token, path).await, path);
        let log = log_of_client(&app).await;
        assert_eq!(log.len(), before + 1, "{path}");
        let entry = &log.last().expect("an entry").entry;
        assert_eq!(entry.source, source, "{path}");
        assert!(!entry.source.contains("purpose"), "{path}");
    }
    app.stop().await;
}

async fn a_client_the_caller_may_not_read_looks_the_same_whether_it_exists_or_not(url: &str) {
    let app = ApiApp::spawn(url).await;
    let s = app.staff().await;
    client_with_billing(&app, &s).await;
    let reads = |client: &str| {
        vec![
            format!("/api/v1/clients/{client}/chart?purpose=treatment"),
            format!("/api/v1/clients/{client}/chart?purpose=treatment&as_of=2026-01-10T00:00:00Z"),
            format!("/api/v1/clients/{client}/history?purpose=audit"),
            format!("/api/v1/clients/{client}/billing?purpose=payment"),
            format!("/api/v1/clients/{client}/superbill?purpose=payment"),
        ]
    };
    let before = log_of_client(&app).await.len();
    let answer = |r: &Reply| {
        (
            r.status,
            r.code().to_owned(),
            r.body["error"]["message"].clone(),
        )
    };
    // Who may not read which of the existing client's reads.
    let refused: Vec<(&str, &String, Vec<usize>)> = vec![
        ("another therapist", &s.other_therapist, vec![0, 1, 2, 3, 4]),
        (
            "a prescriber it is not referred to",
            &s.other_prescriber,
            vec![0, 1, 2, 3, 4],
        ),
        ("its therapist", &s.therapist, vec![2, 3, 4]),
        ("its prescriber", &s.prescriber, vec![2, 3, 4]),
        ("front desk", &s.front_desk, vec![0, 1, 2]),
        ("admin", &s.admin, vec![0, 1, 2, 3, 4]),
    ];
    for (who, token, indices) in refused {
        for k in indices {
            let existing = app.get(token, &reads(CLIENT)[k]).await;
            let unknown = app.get(token, &reads("nobody")[k]).await;
            assert_eq!(
                existing.status,
                403,
                "{who} {}: {}",
                reads(CLIENT)[k],
                existing.body
            );
            assert_eq!(
                answer(&existing),
                answer(&unknown),
                "{who}: {} answers alike for a client that exists and one that does not",
                reads(CLIENT)[k]
            );
        }
    }
    // Those who may read every client may learn that one does not exist.
    for (token, k) in [
        (&s.auditor, 0),
        (&s.auditor, 2),
        (&s.front_desk, 3),
        (&s.front_desk, 4),
        (&s.auditor, 3),
    ] {
        let unknown = app.get(token, &reads("nobody")[k]).await;
        assert_eq!(
            (unknown.status, unknown.code()),
            (404, "not_found"),
            "{}: {}",
            reads("nobody")[k],
            unknown.body
        );
    }
    assert_eq!(
        log_of_client(&app).await.len(),
        before,
        "refused reads log nothing"
    );
    app.stop().await;
}
