//! Runs the `kapchart-conformance` binary: the reference vectors pass, a
//! mutated copy of one vector fails with exit status 1, and a missing
//! folder or a malformed vector is a usage/I/O error with exit status 2.
//!
//! The vectors are the project's own copy in this crate's `testdata/`
//! (or the folder `KAPCHART_TESTDATA` names), so the tests pass in a fresh
//! clone. Mutated copies are written under the system temporary folder,
//! never into the repository or the shared test data.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The project's own copy of the reference vectors, in this crate's
/// `testdata/` (a byte-identical copy of `shared/testdata`, see its
/// README), so the tests need nothing outside the repository.
fn own_copy() -> PathBuf {
    crate_dir().join("testdata")
}

/// This crate's folder, as cargo names it when it runs the tests: a path
/// compiled in would name wherever the test binary was built, e.g. the
/// fresh clone `.ci/run` builds in this checkout's target directory.
fn crate_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
}

/// The vectors the tests run on: the folder `KAPCHART_TESTDATA` names
/// when set, otherwise the project's own copy.
fn testdata() -> PathBuf {
    std::env::var_os("KAPCHART_TESTDATA").map_or_else(own_copy, PathBuf::from)
}

fn run(dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kapchart-conformance"))
        .arg(dir)
        .output()
        .expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A fresh copy of the test data under the temporary folder, removed on drop.
struct TempCopy(PathBuf);

impl TempCopy {
    fn new() -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "kapchart-conformance-test-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        if dir.exists() {
            fs::remove_dir_all(&dir).expect("stale temp folder removed");
        }
        copy_tree(&testdata(), &dir);
        TempCopy(dir)
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.0.join(relative)
    }
}

impl Drop for TempCopy {
    fn drop(&mut self) {
        // Best effort: a leftover temp folder is harmless.
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("temp folder created");
    for entry in fs::read_dir(from).expect("test data readable") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).expect("file copied");
            // The shared copy may be read-only; the temp copy must not be.
            let mut perms = fs::metadata(&target).expect("metadata").permissions();
            #[allow(clippy::permissions_set_readonly_false)]
            perms.set_readonly(false);
            fs::set_permissions(&target, perms).expect("writable");
        }
    }
}

#[test]
fn reference_vectors_pass() {
    let out = run(&testdata());
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout:\n{stdout}\nstderr:\n{}",
        text(&out.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    assert!(lines[0].starts_with("rfc8785: "), "{stdout}");
    assert!(lines[0].contains(" 0 failed"), "{stdout}");
    assert!(lines[1].starts_with("rfc6962-inclusion: "), "{stdout}");
    assert!(lines[1].ends_with(" 0 failed"), "{stdout}");
    assert!(lines[2].starts_with("rfc6962-consistency: "), "{stdout}");
    assert!(lines[2].ends_with(" 0 failed"), "{stdout}");
}

/// The project's own copy holds every vector: each one is counted, so a
/// file lost from the copy fails here even where no `shared/testdata`
/// exists to compare it with. (Always the own copy, whatever
/// `KAPCHART_TESTDATA` says: these are its counts.)
#[test]
fn the_projects_copy_runs_every_vector() {
    let out = run(&own_copy());
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout:\n{stdout}\nstderr:\n{}",
        text(&out.stderr)
    );
    assert_eq!(
        stdout,
        "rfc8785: 5 passed, 0 failed, 1 refused (floats)\n\
         rfc6962-inclusion: 98 passed, 0 failed\n\
         rfc6962-consistency: 98 passed, 0 failed\n"
    );
    // The one refused vector is the floating-point one, refused by rule.
    let stderr = text(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("values.json"), "{stderr}");
    assert!(stderr.contains("integers only"), "{stderr}");
}

#[test]
fn a_mutated_canonicalization_vector_fails() {
    let copy = TempCopy::new();
    let input = copy.path("rfc8785/input/arrays.json");
    let original = fs::read_to_string(&input).expect("vector");
    assert!(original.contains("56"));
    fs::write(&input, original.replacen("56", "57", 1)).expect("mutated");

    let out = run(&copy.0);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr:\n{stderr}");
    assert!(text(&out.stdout).contains("rfc8785: 4 passed, 1 failed"));
    assert!(stderr.contains("arrays.json"), "{stderr}");
}

#[test]
fn a_mutated_proof_vector_fails() {
    let copy = TempCopy::new();
    let vector = copy.path("rfc6962/inclusion/1/happy-path.json");
    let mut json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&vector).expect("vector")).expect("json");
    assert_eq!(json["wantErr"], false);
    // Point the valid proof at the neighbouring leaf.
    let index = json["leafIdx"].as_u64().expect("index");
    json["leafIdx"] = serde_json::json!(index ^ 1);
    fs::write(&vector, json.to_string()).expect("mutated");

    let out = run(&copy.0);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr:\n{stderr}");
    assert!(text(&out.stdout).contains("rfc6962-inclusion: "));
    assert!(stderr.contains("happy-path.json"), "{stderr}");
    assert!(stderr.contains("expected to verify"), "{stderr}");
}

#[test]
fn a_missing_folder_is_exit_2() {
    let missing = std::env::temp_dir().join(format!(
        "kapchart-conformance-missing-{}",
        std::process::id()
    ));
    let out = run(&missing);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr:\n{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("not found"), "{stderr}");
    assert!(out.stdout.is_empty());
}

#[test]
fn a_malformed_vector_is_exit_2() {
    let copy = TempCopy::new();
    let vector = copy.path("rfc6962/consistency/2/happy-path.json");
    fs::write(&vector, "{\"size1\": ").expect("broken");
    let out = run(&copy.0);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr:\n{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("malformed vector"), "{stderr}");
    assert!(stderr.contains("happy-path.json"), "{stderr}");
    assert!(out.stdout.is_empty());
}

#[test]
fn no_argument_is_a_usage_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_kapchart-conformance"))
        .output()
        .expect("the binary runs");
    assert_eq!(out.status.code(), Some(2));
}
