//! README.md's example client, run exactly as written against a live
//! server, on both engines: the curl commands (the section's `sh` block,
//! run by bash) and the Python script (its `python` block, run by
//! python3), each registering a client and recording their intake as the
//! therapist `t-rivera`. Both must succeed and write exactly those
//! entries; the curl commands run a second time write nothing (the same
//! command ids).

use std::io::Write as _;
use std::process::{Command, Stdio};

use kapchart_domain::Role;
use kapchart_e2e::api::ApiApp;
use kapchart_e2e::*;
use kapchart_store::{CLIENT_RECORD, Database};

on_both_engines!(the_readme_example_client_registers_a_client_and_records_an_intake);

/// The heading of README.md's section.
const SECTION: &str = "### An example client";

/// The fenced blocks of README.md's example-client section, by language.
fn blocks() -> (String, String) {
    let readme =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
            .expect("README.md");
    let start = readme
        .find(SECTION)
        .expect("README.md has the example client");
    let section = &readme[start + SECTION.len()..];
    let section = &section[..section.find("\n#").unwrap_or(section.len())];
    let block = |language: &str| {
        let open = format!("```{language}\n");
        let from = section
            .find(&open)
            .unwrap_or_else(|| panic!("no {language} block in the section"))
            + open.len();
        let len = section[from..].find("```").expect("the block is closed");
        section[from..from + len].to_owned()
    };
    (block("sh"), block("python"))
}

/// Runs `program args` with the script on stdin, the server's address and
/// the token in the environment; returns stdout, asserting success.
fn run(program: &str, args: &[&str], script: &str, base: &str, token: &str) -> String {
    let mut child = Command::new(program)
        .args(args)
        .env("KAPCHART_URL", base)
        .env("TOKEN", token)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{program} is needed to run README.md's example client: {e}"));
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(script.as_bytes())
        .expect("the script is written");
    let out = child.wait_with_output().expect("the script runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{program}: {}\nstdout: {stdout}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// Every (client, event type) in the store, in order.
async fn events(db: &Database) -> Vec<(String, String)> {
    const SQL: &str = "SELECT aggregate_id, event_type FROM events \
                       WHERE aggregate_type = $1 ORDER BY position";
    match db {
        Database::Postgres(pool) => {
            sqlx::query_as(SQL)
                .bind(CLIENT_RECORD)
                .fetch_all(pool)
                .await
        }
        Database::Sqlite(pool) => {
            sqlx::query_as(&SQL.replace('$', "?"))
                .bind(CLIENT_RECORD)
                .fetch_all(pool)
                .await
        }
    }
    .expect("the events")
}

async fn the_readme_example_client_registers_a_client_and_records_an_intake(url: &str) {
    let app = ApiApp::spawn(url).await;
    let token = app.user("t-rivera", Role::Therapist).await;
    let (curl, python) = blocks();

    let out = run(
        "bash",
        &["-euo", "pipefail", "-s"],
        &curl,
        &app.base,
        &token,
    );
    assert_eq!(
        out.matches("\"command_id\"").count(),
        2,
        "two replies: {out}"
    );
    let out = run("python3", &["-"], &python, &app.base, &token);
    assert_eq!(out, "client-101: intake recorded as entry 2\n");

    let written = events(&app.db).await;
    let expected: Vec<(String, String)> = [
        ("client-100", "ClientRegistered"),
        ("client-100", "IntakeRecorded"),
        ("client-101", "ClientRegistered"),
        ("client-101", "IntakeRecorded"),
    ]
    .iter()
    .map(|(c, t)| ((*c).to_owned(), (*t).to_owned()))
    .collect();
    assert_eq!(written, expected);

    // Sent again: the same results, nothing written.
    run(
        "bash",
        &["-euo", "pipefail", "-s"],
        &curl,
        &app.base,
        &token,
    );
    assert_eq!(events(&app.db).await, expected);
    app.stop().await;
}
