//! End to end: `kapchart export --format fhir` on a demo practice, on a
//! fresh SQLite file and a fresh PostgreSQL database. The export is a FHIR
//! R4 Bundle (docs/fhir.md), written to the access log before it leaves
//! (so its last AuditEvent is the export itself), to stdout or to a file
//! readable by its owner only; an unknown client is a usage error that
//! logs nothing.

use serde_json::Value;

#[macro_use]
mod common;

use common::*;

on_both_engines!(export_as_fhir_gives_a_logged_bundle);

fn resources<'a>(bundle: &'a Value, kind: &str) -> Vec<&'a Value> {
    bundle["entry"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| &e["resource"])
        .filter(|r| r["resourceType"] == kind)
        .collect()
}

/// The access log's entries about clients, as `report access` prints them.
fn client_reads(env: &Env) -> Vec<Value> {
    let log = env
        .run(&["report", "access", "--format", "json"])
        .ok()
        .json();
    log.as_array()
        .expect("an array")
        .iter()
        .filter(|e| !e["client_id"].is_null())
        .cloned()
        .collect()
}

async fn export_as_fhir_gives_a_logged_bundle(env: &Env) {
    env.run(&["demo", "--clients", "3"]).ok();

    let run = env
        .run(&[
            "export",
            "--client",
            "client-001",
            "--format",
            "fhir",
            "--purpose",
            "legal",
        ])
        .ok();
    let bundle = run.json();
    assert_eq!(bundle["resourceType"], "Bundle");
    assert_eq!(bundle["type"], "collection");
    assert_eq!(
        resources(&bundle, "Patient")[0]["identifier"][0]["value"],
        "client-001"
    );
    for kind in ["Practitioner", "Encounter", "Provenance", "AuditEvent"] {
        assert!(!resources(&bundle, kind).is_empty(), "no {kind}: {bundle}");
    }

    // Logged once, before the Bundle was made: its last AuditEvent.
    let reads = client_reads(env);
    assert_eq!(reads.len(), 1, "{reads:?}");
    let entry = &reads[0];
    assert_eq!(entry["client_id"], "client-001");
    assert_eq!(entry["action"], "export");
    assert_eq!(entry["user_id"], CLI_USER_ID);
    assert_eq!(entry["purpose"], "legal");
    assert_eq!(entry["categories"], "demographics;dosing;notes");
    assert_eq!(
        entry["source"],
        "cli export --client client-001 --format fhir"
    );
    let audits = resources(&bundle, "AuditEvent");
    assert_eq!(audits.len(), 1);
    let logged = audits[0]["entity"][1]["what"]["identifier"]["value"]
        .as_str()
        .expect("the access-log entry's identifier");
    assert!(
        logged.starts_with(&format!("{}/", entry["sequence"])),
        "{logged} vs {entry}"
    );
    assert_eq!(audits[0]["purposeOfEvent"][0]["text"], "legal");

    // To a file: owner only, the same mapping (the second export is one
    // more AuditEvent).
    env.run(&[
        "export",
        "--client",
        "client-001",
        "--format",
        "fhir",
        "--output",
        "fhir.json",
    ])
    .ok();
    assert_eq!(mode(&env.path("fhir.json")), 0o600);
    let written: Value = serde_json::from_str(&env.read("fhir.json")).expect("JSON");
    assert_eq!(resources(&written, "AuditEvent").len(), 2);
    assert_eq!(
        resources(&written, "Patient"),
        resources(&bundle, "Patient")
    );
    assert_eq!(
        resources(&written, "Provenance"),
        resources(&bundle, "Provenance")
    );

    // No such client: a usage error, nothing logged, nothing written.
    env.run(&["export", "--client", "nobody", "--format", "fhir"])
        .fails(EX_USAGE, &["nobody"]);
    assert_eq!(client_reads(env).len(), 2);
}
