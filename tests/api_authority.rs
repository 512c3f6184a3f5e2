//! Issue 10's attacks on who may act, replayed over real HTTP against a
//! real database on both engines: a therapist forging a prescriber's
//! authorization, an unassigned therapist racing a registration, a
//! prescriber referring a client to themselves, clinical facts in a refusal
//! to the front desk, a booking for a therapist who has no account. Each
//! now fails, and writes nothing.

use std::sync::Arc;

use kapchart_domain::{
    AuthorizationId, AuthorizeOverride, Clearance, CommandBody, ReferClient, Rule, ScheduleSession,
    Suitability,
};
use kapchart_e2e::api::{ApiApp, Reply, Staff, body, ok};
use kapchart_e2e::*;
use serde_json::{Value, json};

on_both_engines!(
    a_forged_prescriber_authorization_is_refused,
    a_prescriber_cannot_refer_a_client_to_themselves,
);

/// Asserts an error reply: status, stable code and (if any) rule.
fn refused(reply: &Reply, status: u16, code: &str, rule: Option<Rule>, what: &str) {
    assert_eq!(reply.status, status, "{what}: {}", reply.body);
    assert_eq!(reply.code(), code, "{what}: {}", reply.body);
    assert_eq!(
        reply.body["error"]["rule"].as_str(),
        rule.map(Rule::code),
        "{what}: {}",
        reply.body
    );
}

/// Registered (referred to rx-chen), assessed, prescribed, consented and
/// prepared on day 0, each step by its role.
async fn ready_for_exploration(app: &ApiApp, s: &Staff) {
    app.on(0);
    let steps: Vec<(&str, &str, Value)> = vec![
        (&s.front_desk, "r-1", body(register_client())),
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
        (&s.therapist, "r-5", body(consent(date(0)))),
        (
            &s.therapist,
            "r-6",
            body(preparation("prep-1", span(0, 10, 11))),
        ),
    ];
    app.commands_ok(CLIENT, &steps).await;
}

/// Posts a command with overrides.
async fn command_with(app: &ApiApp, token: &str, id: &str, b: &Value, overrides: Value) -> Reply {
    let request = json!({ "id": id, "body": b, "overrides": overrides });
    app.send(
        reqwest::Method::POST,
        &format!("/api/v1/clients/{CLIENT}/commands"),
        Some(token),
        Some(serde_json::to_vec(&request).expect("json")),
    )
    .await
}

// ---- 1. a forged prescriber authorization ----

async fn a_forged_prescriber_authorization_is_refused(url: &str) {
    let app = ApiApp::spawn(url).await;
    let s = app.staff().await;
    ready_for_exploration(&app, &s).await;
    app.on(7);
    let high = body(exploration("x1", 7, Some(150), bp(185, 115)));
    let before = app.events().await;

    // The attack as found: the therapist names the prescriber. The field is
    // gone; nobody's authority is taken from a request.
    let r = command_with(
        &app,
        &s.therapist,
        "x-1",
        &high,
        json!([{"rule": "exploration.bp_above_threshold", "reason": "fine",
                "authorized_by": "rx-chen"}]),
    )
    .await;
    refused(
        &r,
        400,
        "invalid_input",
        None,
        "authorized_by in the request",
    );
    // Referencing an authorization that the prescriber never gave.
    let r = command_with(
        &app,
        &s.therapist,
        "x-2",
        &high,
        json!([{"rule": "exploration.bp_above_threshold", "reason": "fine",
                "authorization": "auth-forged"}]),
    )
    .await;
    refused(
        &r,
        422,
        "refused",
        Some(Rule::OverrideNotAuthorized),
        "a forged authorization",
    );
    // Writing the authorization themselves: not a therapist's act.
    let authorize = body(CommandBody::AuthorizeOverride(AuthorizeOverride {
        authorization: AuthorizationId::parse("auth-x1").expect("valid"),
        rule: Rule::ExplorationBloodPressureAboveThreshold,
        session: sid("x1"),
        valid_until: date(7),
        ceiling: Some(bp(190, 120)),
        reason: text("reviewed by phone: asymptomatic; proceed"),
    }));
    let r = app.command(&s.therapist, CLIENT, "x-3", &authorize).await;
    refused(
        &r,
        403,
        "forbidden",
        Some(Rule::RoleNotPermitted),
        "a therapist authorizing",
    );
    // Nor another prescriber's, to whom the client is not referred.
    let r = app
        .command(&s.other_prescriber, CLIENT, "x-4", &authorize)
        .await;
    refused(
        &r,
        403,
        "forbidden",
        Some(Rule::ClientNotReferred),
        "another prescriber",
    );
    assert_eq!(app.events().await, before, "a refused command wrote events");

    // The client's prescriber authorizes with their own credential; the
    // therapist's override references it.
    ok(
        &app.command(&s.prescriber, CLIENT, "x-5", &authorize).await,
        "authorize",
    );
    let r = command_with(
        &app,
        &s.therapist,
        "x-6",
        &high,
        json!([{"rule": "exploration.bp_above_threshold", "reason": "per rx-chen",
                "authorization": "auth-x1"}]),
    )
    .await;
    ok(&r, "the authorized exploration");
    let history = app
        .get(
            &s.auditor,
            &format!("/api/v1/clients/{CLIENT}/history?purpose=audit"),
        )
        .await;
    ok(&history, "history");
    let entries = history.body["entries"].as_array().expect("entries");
    let authorized = entries
        .iter()
        .find(|e| e["event_type"] == "OverrideAuthorized")
        .expect("the authorization is an entry");
    assert_eq!(
        authorized["metadata"]["actor_id"], "rx-chen",
        "{authorized}"
    );
    let explored = entries.last().expect("entries");
    assert_eq!(explored["event_type"], "ExplorationRecorded");
    let ov = &explored["payload"]["ExplorationRecorded"]["decision"]["overrides"][0];
    assert_eq!(ov["authorized_by"], "rx-chen", "{ov}");
    assert_eq!(ov["authorization"], "auth-x1", "{ov}");
    app.stop().await;
}

// ---- 2. the assignment race ----

/// Rounds of: the front desk registers a new client to t-rivera while
/// eight requests of t-okafor record an intake on the same id. Decided on
/// the record's own state, none of t-okafor's can ever apply.
async fn assignment_race(url: &str) {
    const ROUNDS: usize = 12;
    const ATTACKERS: usize = 8;
    let app = Arc::new(ApiApp::spawn(url).await);
    let s = app.staff().await;
    let intake_body = body(intake("intake-1", span(0, 9, 10), Suitability::Suitable));
    for round in 0..ROUNDS {
        let client = format!("race-{round}");
        let mut registration = serde_json::to_value(register_client()).expect("json");
        registration["RegisterClient"]["client_id"] = json!(client);
        let mut tasks = Vec::new();
        for k in 0..ATTACKERS {
            let (app, token, client, b) = (
                Arc::clone(&app),
                s.other_therapist.clone(),
                client.clone(),
                intake_body.clone(),
            );
            tasks.push(tokio::spawn(async move {
                app.command(&token, &client, &format!("intake-{k}"), &b)
                    .await
            }));
        }
        let register = app
            .command(&s.front_desk, &client, "register", &registration)
            .await;
        ok(&register, "registration");
        for task in tasks {
            let r = task.await.expect("the request ran");
            refused(
                &r,
                403,
                "forbidden",
                Some(Rule::ClientNotAssigned),
                "an unassigned therapist's intake",
            );
        }
    }
    assert_eq!(app.events().await, ROUNDS as i64, "only the registrations");
    Arc::into_inner(app).expect("one owner").stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_unassigned_therapist_never_wins_a_race_with_registration_on_postgres() {
    let db = kapchart_testkit::postgres().await;
    assignment_race(&db.url).await;
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_unassigned_therapist_never_wins_a_race_with_registration_on_sqlite() {
    let db = kapchart_testkit::sqlite();
    assignment_race(&db.url).await;
    db.cleanup().await;
}

// ---- 3. self-referral ----

async fn a_prescriber_cannot_refer_a_client_to_themselves(url: &str) {
    let app = ApiApp::spawn(url).await;
    let s = app.staff().await;
    app.on(0);
    let mut registration = serde_json::to_value(register_client()).expect("json");
    registration["RegisterClient"]["prescriber"] = Value::Null;
    ok(
        &app.command(&s.front_desk, CLIENT, "r-1", &registration)
            .await,
        "register",
    );
    let before = app.events().await;

    // Evaluating an unreferred client no longer makes it one's own.
    let evaluation = body(medical(date(0), Clearance::Cleared));
    let r = app.command(&s.prescriber, CLIENT, "m-1", &evaluation).await;
    refused(
        &r,
        403,
        "forbidden",
        Some(Rule::ClientNotReferred),
        "self-referral",
    );
    assert_eq!(app.events().await, before);
    // And the chart stays closed, answered exactly as for a client that
    // does not exist.
    let chart = app
        .get(
            &s.prescriber,
            &format!("/api/v1/clients/{CLIENT}/chart?purpose=treatment"),
        )
        .await;
    let nobody = app
        .get(
            &s.prescriber,
            "/api/v1/clients/nobody/chart?purpose=treatment",
        )
        .await;
    assert_eq!(chart.status, 403, "{}", chart.body);
    assert_eq!((chart.status, &chart.body), (nobody.status, &nobody.body));

    // The therapist refers the client to rx-chen: an entry of its own.
    let refer = body(CommandBody::ReferClient(ReferClient {
        prescriber: kapchart_domain::UserId::parse("rx-chen").expect("valid"),
        note: Some(text("medical evaluation before KAP, please")),
    }));
    let r = app.command(&s.therapist, CLIENT, "ref-1", &refer).await;
    ok(&r, "referral");
    assert_eq!(r.body["events"][0]["event_type"], "ClientReferred");
    ok(
        &app.command(&s.prescriber, CLIENT, "m-2", &evaluation).await,
        "evaluation",
    );
    let chart = app
        .get(
            &s.prescriber,
            &format!("/api/v1/clients/{CLIENT}/chart?purpose=treatment"),
        )
        .await;
    ok(&chart, "the referred prescriber's chart");
    let other = app
        .get(
            &s.other_prescriber,
            &format!("/api/v1/clients/{CLIENT}/chart?purpose=treatment"),
        )
        .await;
    assert_eq!(other.status, 403, "{}", other.body);
    app.stop().await;
}

// ---- 5. clinical facts in refusals; 8. a booking for nobody ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_to_the_front_desk_carry_no_clinical_facts_and_bookings_name_real_staff() {
    let db = kapchart_testkit::postgres().await;
    let app = ApiApp::spawn(&db.url).await;
    let s = app.staff().await;
    ready_for_exploration(&app, &s).await;
    // rx-1 covers days -10 to 360: a session on day 401 is outside it.
    app.on(1);
    let book = body(schedule_exploration("x1", span(401, 10, 13)));
    let to_therapist = app.command(&s.therapist, CLIENT, "b-1", &book).await;
    refused(
        &to_therapist,
        422,
        "refused",
        Some(Rule::PrescriptionNoneActive),
        "therapist",
    );
    let detailed = to_therapist.body["error"]["message"]
        .as_str()
        .expect("message");
    assert!(detailed.contains("rx-1"), "{detailed}");
    let to_front_desk = app.command(&s.front_desk, CLIENT, "b-2", &book).await;
    refused(
        &to_front_desk,
        422,
        "refused",
        Some(Rule::PrescriptionNoneActive),
        "front desk",
    );
    let neutral = to_front_desk.body["error"]["message"]
        .as_str()
        .expect("message");
    assert_eq!(neutral, Rule::PrescriptionNoneActive.summary());
    for fact in ["rx-1", "2026", "2027", "valid"] {
        assert!(!neutral.contains(fact), "{fact} leaked: {neutral}");
    }
    // Amending the intake (entry 2): refused without saying what it is.
    let r = app
        .command(&s.front_desk, CLIENT, "b-3", &body(amend(2)))
        .await;
    refused(
        &r,
        403,
        "forbidden",
        Some(Rule::RoleNotPermitted),
        "front desk amending the intake",
    );
    let message = r.body["error"]["message"].as_str().expect("message");
    assert!(!message.contains("Intake"), "{message}");

    // A booking for a therapist who has no account is refused.
    let ghost = body(CommandBody::SchedulePreparation(ScheduleSession {
        session: sid("prep-2"),
        span: span(402, 10, 11),
        therapist: kapchart_domain::UserId::parse("t-ghost").expect("valid"),
    }));
    let before = app.events().await;
    let r = app.command(&s.front_desk, CLIENT, "b-4", &ghost).await;
    refused(
        &r,
        422,
        "refused",
        Some(Rule::StaffUnknown),
        "a booking for nobody",
    );
    assert_eq!(app.events().await, before);
    app.stop().await;
    db.cleanup().await;
}
