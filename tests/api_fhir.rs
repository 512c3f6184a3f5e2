//! `GET /api/v1/clients/{id}/fhir` over real HTTP on both engines: the
//! client's record as a FHIR R4 Bundle (docs/fhir.md) for auditors,
//! logged as an export before it is made (so its last AuditEvent is the
//! export itself); other roles refused and nothing logged.

use kapchart_domain::{Clearance, ClientId, OutcomeMeasure, Phq9Score, Suitability};
use kapchart_e2e::api::{ApiApp, Staff, body, ok};
use kapchart_e2e::*;
use kapchart_store::access::{AccessAction, AccessQuery, AccessRecord, DataCategory};
use serde_json::{Value, json};

on_both_engines!(auditors_export_a_clients_record_as_fhir);

async fn log(app: &ApiApp) -> Vec<AccessRecord> {
    kapchart_store::access::list(&app.db, &AccessQuery::default())
        .await
        .expect("access log")
}

/// Registration through one dosed exploration and its integration, with
/// an outcome measure; the therapist a provider of the practice with an
/// NPI.
async fn record(app: &ApiApp, s: &Staff) {
    app.on(0);
    let provider = json!({"SetProvider": {
        "user": "t-rivera", "role": "therapist", "name": "Sam Rivera",
        "credentials": "LMFT", "npi": "1245319599",
        "licence": {"number": "LMFT-12345", "state": "CA"}, "active": true,
    }});
    let request = json!({ "id": "p-1", "body": provider });
    let r = app
        .send(
            reqwest::Method::POST,
            "/api/v1/practice/commands",
            Some(&s.admin),
            Some(serde_json::to_vec(&request).expect("json")),
        )
        .await;
    ok(&r, "set the provider");
    let steps: Vec<(&str, &str, Value)> = vec![
        (&s.front_desk, "c-1", body(register_client())),
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
        (
            &s.therapist,
            "c-7",
            body(outcome(
                OutcomeMeasure::Phq9(Phq9Score::new(19).expect("a score")),
                date(0),
            )),
        ),
    ];
    app.commands_ok(CLIENT, &steps).await;
    app.on(7);
    let dose = body(exploration("x1", 7, Some(150), bp(120, 80)));
    ok(
        &app.command(&s.therapist, CLIENT, "c-8", &dose).await,
        "exploration",
    );
    app.on(9);
    let integrated = body(integration("i1", span(9, 10, 11), "x1"));
    ok(
        &app.command(&s.therapist, CLIENT, "c-9", &integrated).await,
        "integration",
    );
}

fn resources<'a>(bundle: &'a Value, kind: &str) -> Vec<&'a Value> {
    bundle["entry"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| &e["resource"])
        .filter(|r| r["resourceType"] == kind)
        .collect()
}

async fn auditors_export_a_clients_record_as_fhir(url: &str) {
    let app = ApiApp::spawn(url).await;
    let s = app.staff().await;
    record(&app, &s).await;
    let path = "/api/v1/clients/client-1/fhir?purpose=audit";

    let before = log(&app).await.len();
    let reply = app.get(&s.auditor, path).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let bundle = &reply.body;
    assert_eq!(bundle["resourceType"], "Bundle");
    assert_eq!(bundle["type"], "collection");

    // Logged once, as an export, before the Bundle was made: its last
    // AuditEvent is this export.
    let entries: Vec<AccessRecord> = log(&app).await.into_iter().skip(before).collect();
    assert_eq!(entries.len(), 1, "{entries:#?}");
    let logged = &entries[0];
    assert_eq!(logged.entry.action, AccessAction::Export);
    assert_eq!(
        logged.entry.categories,
        [
            DataCategory::Demographics,
            DataCategory::Dosing,
            DataCategory::Notes
        ],
        "no billing: the Bundle holds no charges or payments"
    );
    assert_eq!(
        logged.entry.client_id.as_ref().map(ClientId::as_str),
        Some(CLIENT)
    );
    assert!(
        logged
            .entry
            .source
            .starts_with("api GET /api/v1/clients/client-1/fhir from "),
        "{}",
        logged.entry.source
    );
    let audits = resources(bundle, "AuditEvent");
    let last = audits.last().expect("AuditEvents");
    assert_eq!(
        last["entity"][1]["what"]["identifier"]["value"],
        format!("{}/{}", logged.sequence, logged.hash)
    );
    assert_eq!(last["subtype"][0]["code"], "export");
    assert_eq!(last["purposeOfEvent"][0]["text"], "audit");

    // What the record holds.
    let patient = resources(bundle, "Patient");
    assert_eq!(patient.len(), 1);
    assert_eq!(patient[0]["identifier"][0]["value"], CLIENT);
    let rivera: Vec<&Value> = resources(bundle, "Practitioner")
        .into_iter()
        .filter(|p| p["identifier"][0]["system"] == "http://hl7.org/fhir/sid/us-npi")
        .collect();
    assert_eq!(rivera.len(), 1, "the therapist, a provider with an NPI");
    assert_eq!(rivera[0]["identifier"][0]["value"], "1245319599");
    assert_eq!(
        resources(bundle, "Encounter").len(),
        4,
        "intake, preparation, exploration, integration"
    );
    let dose = resources(bundle, "MedicationAdministration");
    assert_eq!(dose.len(), 1);
    assert_eq!(dose[0]["dosage"]["dose"]["value"], 150);
    assert_eq!(dose[0]["dosage"]["dose"]["code"], "mg");
    assert_eq!(dose[0]["dosage"]["route"]["coding"][0]["code"], "37161004");
    assert_eq!(dose[0]["contained"][0]["batch"]["lotNumber"], "L-2026-01");
    assert_eq!(dose[0]["contained"][0]["code"]["coding"][0]["code"], "6130");
    assert_eq!(resources(bundle, "MedicationRequest").len(), 1);
    assert_eq!(resources(bundle, "Consent").len(), 1);
    let observations = resources(bundle, "Observation");
    let codes: Vec<&str> = observations
        .iter()
        .filter_map(|o| o["code"]["coding"][0]["code"].as_str())
        .collect();
    assert_eq!(codes, ["44261-6", "85354-9", "85354-9"]);
    let phq9 = observations[0];
    assert_eq!(phq9["valueInteger"], 19);
    let before_dose = observations[1];
    assert_eq!(before_dose["component"][0]["valueQuantity"]["value"], 120);
    assert_eq!(
        before_dose["component"][1]["valueQuantity"]["code"],
        "mm[Hg]"
    );

    // Each Provenance names its entry by the hash the store holds.
    let stored = app
        .db
        .repository(std::sync::Arc::new(|| chrono::DateTime::UNIX_EPOCH))
        .events_of(kapchart_store::CLIENT_RECORD, CLIENT, 0)
        .await
        .expect("events");
    let provenances = resources(bundle, "Provenance");
    assert!(!provenances.is_empty());
    for p in provenances {
        let value = p["entity"][0]["what"]["identifier"]["value"]
            .as_str()
            .expect("an entry identifier");
        let parts: Vec<&str> = value.split('/').collect();
        let sequence: usize = parts[2].parse().expect("a sequence");
        assert_eq!(
            parts[3],
            stored[sequence - 1].stored.hash.to_hex(),
            "{value}"
        );
    }

    // Other roles: 403, nothing logged; no such client: 404; no purpose: 400.
    let before = log(&app).await.len();
    for token in [&s.therapist, &s.prescriber, &s.front_desk, &s.admin] {
        let reply = app.get(token, path).await;
        assert_eq!((reply.status, reply.code()), (403, "forbidden"));
    }
    let none = app
        .get(&s.auditor, "/api/v1/clients/nobody/fhir?purpose=audit")
        .await;
    assert_eq!((none.status, none.code()), (404, "not_found"));
    let bad = app.get(&s.auditor, "/api/v1/clients/client-1/fhir").await;
    assert_eq!(bad.status, 400);
    assert_eq!(log(&app).await.len(), before);
    app.stop().await;
}
