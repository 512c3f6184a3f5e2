//! End to end: `kapchart user add|list|token|disable`, `kapchart report
//! access` and the access log's part of `kapchart verify`, with the real
//! binary against a fresh SQLite file and a fresh PostgreSQL database.
//! Tokens are checked with the store library (`accounts::authenticate`),
//! reads of client records are appended with it (as the API does), and the
//! access log is tampered with plain SQL behind the store's back.

use chrono::{TimeZone, Utc};
use kapchart_domain::{ClientId, Role, UserId};
use kapchart_store::Database;
use kapchart_store::access::{self, AccessAction, AccessActor, AccessEntry, DataCategory};
use kapchart_store::accounts;
use kapchart_store::credentials;
use kapchart_store::web_sessions::{self, Lookup};
use serde_json::Value;

#[macro_use]
mod common;

use common::*;

on_both_engines!(
    users_are_added_listed_given_tokens_and_disabled,
    bad_user_input_is_refused_and_writes_nothing,
    the_access_report_in_every_format,
    verify_finds_a_tampered_access_log_entry,
    an_export_is_written_to_the_access_log,
    a_reset_clears_the_web_sign_in_and_prints_a_new_setup_code,
);

/// The access report's columns, in order (docs/reports.md).
const ACCESS_COLUMNS: &str = "sequence,at,client_id,user_id,role,action,categories,source,purpose";

async fn open(url: &str) -> Database {
    Database::open(url).await.expect("database opens")
}

async fn exec(url: &str, sql: &str) -> u64 {
    let db = open(url).await;
    let done = match &db {
        Database::Postgres(pool) => sqlx::query(sql)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()),
        Database::Sqlite(pool) => sqlx::query(sql)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()),
    }
    .unwrap_or_else(|e| panic!("{sql}: {e}"));
    db.close().await;
    done
}

/// The account a token authenticates as, now.
async fn who(url: &str, token: &str) -> Option<(String, Role)> {
    let db = open(url).await;
    let account = accounts::authenticate(&db, token, Utc::now())
        .await
        .expect("authenticate answers");
    db.close().await;
    account.map(|a| (a.user_id.as_str().to_owned(), a.role))
}

/// The token a `user token` run printed: stdout is exactly the token and a
/// newline.
fn token_of(run: &Run) -> String {
    let token = run.stdout.trim_end_matches('\n').to_owned();
    assert_eq!(
        run.stdout,
        format!("{token}\n"),
        "alone on its line: {run:#?}"
    );
    assert!(token.starts_with("kc_") && token.len() == 46, "{run:#?}");
    assert!(
        run.stderr.contains("shown only this once"),
        "a note on stderr: {run:#?}"
    );
    assert!(!run.stderr.contains(&token), "{run:#?}");
    token
}

/// The token and the setup code a `user add` run printed: stdout is
/// exactly two lines, the token then the setup code, and stderr says
/// which is which without repeating either.
fn added(run: &Run) -> (String, String) {
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "two lines: {run:#?}");
    assert_eq!(run.stdout, format!("{}\n{}\n", lines[0], lines[1]));
    let (token, code) = (lines[0].to_owned(), lines[1].to_owned());
    assert!(token.starts_with("kc_") && token.len() == 46, "{run:#?}");
    assert!(code.starts_with("su_") && code.len() == 35, "{run:#?}");
    for note in [
        "shown only this once",
        "line 1 is its API token",
        "line 2 its setup code",
    ] {
        assert!(run.stderr.contains(note), "{note}: {run:#?}");
    }
    assert!(
        !run.stderr.contains(&token) && !run.stderr.contains(&code[3..]),
        "{run:#?}"
    );
    (token, code)
}

/// The setup code a `user reset` run printed, alone on its line.
fn setup_code_of(run: &Run) -> String {
    let code = run.stdout.trim_end_matches('\n').to_owned();
    assert_eq!(
        run.stdout,
        format!("{code}\n"),
        "alone on its line: {run:#?}"
    );
    assert!(code.starts_with("su_") && code.len() == 35, "{run:#?}");
    assert!(run.stderr.contains("shown only this once"), "{run:#?}");
    assert!(!run.stderr.contains(&code[3..]), "{run:#?}");
    code
}

fn records(csv_text: &str) -> Vec<csv::StringRecord> {
    csv::Reader::from_reader(csv_text.as_bytes())
        .records()
        .collect::<Result<_, _>>()
        .expect("valid CSV")
}

async fn users_are_added_listed_given_tokens_and_disabled(env: &Env) {
    let run = env
        .run(&[
            "user",
            "add",
            "--name",
            "t-0001",
            "--role",
            "therapist",
            "--display-name",
            "Ann Lee",
        ])
        .ok();
    let (first, _) = added(&run);
    assert!(!run.stderr.contains("Ann"), "no names on stderr: {run:#?}");
    assert_eq!(
        who(&env.url, &first).await,
        Some(("t-0001".to_owned(), Role::Therapist))
    );
    let run = env
        .run(&["user", "add", "--name", "a-0001", "--role", "auditor"])
        .ok();
    let (auditor, _) = added(&run);
    assert_eq!(
        who(&env.url, &auditor).await,
        Some(("a-0001".to_owned(), Role::Auditor))
    );

    let list = env.run(&["user", "list"]).ok();
    let lines: Vec<&str> = list.stdout.lines().collect();
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>(),
        ["user_id", "role", "display_name", "status"],
        "{list:#?}"
    );
    assert_eq!(
        lines[2].split_whitespace().collect::<Vec<_>>(),
        ["a-0001", "auditor", "active"]
    );
    assert_eq!(
        lines[3].split_whitespace().collect::<Vec<_>>(),
        ["t-0001", "therapist", "Ann", "Lee", "active"]
    );
    assert_eq!(lines.len(), 4, "{list:#?}");
    for token in [&first, &auditor] {
        assert!(!list.stdout.contains(&token[3..]), "no tokens listed");
    }

    let run = env.run(&["user", "token", "--name", "t-0001"]).ok();
    let second = token_of(&run);
    assert_ne!(second, first);
    for token in [&first, &second] {
        assert_eq!(
            who(&env.url, token).await,
            Some(("t-0001".to_owned(), Role::Therapist)),
            "both tokens work"
        );
    }

    let run = env.run(&["user", "disable", "--name", "t-0001"]).ok();
    assert_eq!(
        run.stdout, "disabled user t-0001; its tokens are revoked\n",
        "{run:#?}"
    );
    for token in [&first, &second] {
        assert_eq!(who(&env.url, token).await, None, "revoked");
    }
    assert_eq!(
        who(&env.url, &auditor).await,
        Some(("a-0001".to_owned(), Role::Auditor)),
        "other users are untouched"
    );
    let list = env.run(&["user", "list"]).ok();
    assert!(
        list.stdout
            .lines()
            .any(|l| l.starts_with("t-0001") && l.ends_with("disabled")),
        "{list:#?}"
    );

    env.run(&["user", "disable", "--name", "t-0001"])
        .fails_quietly(EX_USAGE, &["t-0001", "is disabled"]);
    env.run(&["user", "token", "--name", "t-0001"])
        .fails_quietly(EX_USAGE, &["t-0001", "is disabled"]);
    env.run(&["user", "token", "--name", "nobody"])
        .fails_quietly(EX_USAGE, &["no user with id nobody"]);
    env.run(&["user", "disable", "--name", "nobody"])
        .fails_quietly(EX_USAGE, &["no user with id nobody"]);

    // Every change is in the access log, by the local admin; the refused
    // ones are not.
    let log = env
        .run(&["report", "access", "--format", "json"])
        .ok()
        .json();
    let got: Vec<(&str, &str, &str, &str)> = log
        .as_array()
        .expect("an array")
        .iter()
        .map(|e| {
            (
                e["user_id"].as_str().unwrap_or_default(),
                e["action"].as_str().unwrap_or_default(),
                e["source"].as_str().unwrap_or_default(),
                e["purpose"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                CLI_USER_ID,
                "add",
                "cli user add",
                "accounts: add t-0001 as therapist"
            ),
            (
                CLI_USER_ID,
                "add",
                "cli user add",
                "accounts: add a-0001 as auditor"
            ),
            (
                CLI_USER_ID,
                "change",
                "cli user token",
                "accounts: issue a token to t-0001"
            ),
            (
                CLI_USER_ID,
                "change",
                "cli user disable",
                "accounts: disable t-0001 and revoke its tokens"
            ),
        ]
    );
    for entry in log.as_array().expect("an array") {
        assert_eq!(entry["role"], "admin");
        assert_eq!(entry["categories"], "accounts");
        assert_eq!(entry["client_id"], Value::Null);
    }
    assert!(!log.to_string().contains("Ann"), "no names in the log");
}

async fn bad_user_input_is_refused_and_writes_nothing(env: &Env) {
    // Refused by the argument parser: the database is not even opened.
    for (args, flag) in [
        (
            &["user", "add", "--name", "t 0001", "--role", "therapist"][..],
            "--name <ID>",
        ),
        (
            &["user", "add", "--name=-t", "--role", "therapist"],
            "--name <ID>",
        ),
        (
            &["user", "add", "--name", "t-0001", "--role", "wizard"],
            "--role <ROLE>",
        ),
        (&["user", "add", "--role", "therapist"], "--name <ID>"),
        (&["user", "token", "--name", "é"], "--name <ID>"),
        (&["user", "disable"], "--name <ID>"),
    ] {
        let run = env.run(args);
        assert_eq!(run.code, Some(EX_USAGE), "{run:#?}");
        assert_eq!(run.stdout, "", "{run:#?}");
        let errors: Vec<&str> = run
            .stderr
            .lines()
            .filter(|l| l.starts_with("error:"))
            .collect();
        assert_eq!(errors.len(), 1, "one clear line: {run:#?}");
        // clap names a missing flag on the line after its error line.
        assert!(run.stderr.contains(flag), "{flag}: {run:#?}");
    }
    if env.engine == "sqlite" {
        assert!(!env.path("practice.db").exists(), "nothing was opened");
    }
    // Refused by the store: one line, exit 2.
    env.run(&["user", "add", "--name", "local-admin", "--role", "admin"])
        .fails_quietly(EX_USAGE, &["local-admin", "reserved"]);
    env.run(&["user", "add", "--name", CLI_USER_ID, "--role", "admin"])
        .fails_quietly(EX_USAGE, &[CLI_USER_ID, "reserved"]);
    env.run(&["user", "add", "--name", "system", "--role", "admin"])
        .fails_quietly(EX_USAGE, &["system", "reserved"]);
    let line = env
        .run(&[
            "user",
            "add",
            "--name",
            "t-0002",
            "--role",
            "therapist",
            "--display-name",
            "Ann\tLee",
        ])
        .fails_quietly(EX_USAGE, &["--display-name", "control characters"]);
    assert!(!line.contains("Ann"), "{line}");
    let list = env.run(&["user", "list"]).ok();
    assert!(list.stdout.ends_with("(no rows)\n"), "{list:#?}");
    let log = env
        .run(&["report", "access", "--format", "json"])
        .ok()
        .json();
    assert_eq!(log, Value::Array(vec![]), "nothing logged");

    // A second add of the same id: refused, nothing written.
    added(
        &env.run(&["user", "add", "--name", "t-0002", "--role", "therapist"])
            .ok(),
    );
    env.run(&["user", "add", "--name", "t-0002", "--role", "admin"])
        .fails_quietly(EX_USAGE, &["t-0002", "already exists"]);
    let list = env.run(&["user", "list"]).ok();
    assert_eq!(list.stdout.lines().count(), 3, "{list:#?}");
    assert!(list.stdout.contains("therapist"), "{list:#?}");
    let log = env
        .run(&["report", "access", "--format", "json"])
        .ok()
        .json();
    assert_eq!(log.as_array().map(Vec::len), Some(1));
}

/// Appends reads of client records, as the API does.
async fn client_reads(url: &str) {
    let db = open(url).await;
    let at = |day: u32, hour: u32| {
        Utc.with_ymd_and_hms(2020, 1, day, hour, 0, 0)
            .single()
            .expect("valid instant")
    };
    let reads = [
        ("t-0001", Role::Therapist, "c-1", at(5, 9), "treatment"),
        ("f-0001", Role::FrontDesk, "c-2", at(6, 10), "payment"),
        ("a-0001", Role::Auditor, "c-1", at(7, 11), "audit"),
    ];
    for (user, role, client, at, purpose) in reads {
        access::append(
            &db,
            &AccessEntry {
                at,
                actor: AccessActor {
                    user_id: UserId::parse(user).expect("id"),
                    role,
                },
                action: AccessAction::Query,
                client_id: Some(ClientId::parse(client).expect("id")),
                categories: vec![DataCategory::Notes, DataCategory::Demographics],
                source: format!("api GET /api/v1/clients/{client}/chart from 127.0.0.1"),
                purpose: purpose.to_owned(),
            },
        )
        .await
        .expect("appends");
    }
    db.close().await;
}

async fn the_access_report_in_every_format(env: &Env) {
    // An empty log: the header and nothing else.
    let empty = env.run(&["report", "access", "--format", "csv"]).ok();
    assert_eq!(empty.stdout, format!("{ACCESS_COLUMNS}\n"));
    let table = env.run(&["report", "access"]).ok();
    assert!(table.stdout.ends_with("(no rows)\n"), "{table:#?}");

    env.run(&["user", "add", "--name", "t-0001", "--role", "therapist"])
        .ok();
    client_reads(&env.url).await;

    let csv_run = env.run(&["report", "access", "--format", "csv"]).ok();
    assert_eq!(
        csv_run.stdout.lines().next(),
        Some(ACCESS_COLUMNS),
        "{csv_run:#?}"
    );
    let rows = records(&csv_run.stdout);
    assert_eq!(rows.len(), 4);
    // By time: the reads of 2020 come before the account change of now.
    let sequences: Vec<&str> = rows.iter().map(|r| &r[0]).collect();
    assert_eq!(sequences, ["2", "3", "4", "1"]);
    assert_eq!(&rows[0][1], "2020-01-05T09:00:00.000000Z");
    assert_eq!(&rows[0][2], "c-1");
    assert_eq!(&rows[0][6], "demographics;notes");
    assert_eq!(
        &rows[0][7],
        "api GET /api/v1/clients/c-1/chart from 127.0.0.1"
    );

    let json = env
        .run(&["report", "access", "--format", "json"])
        .ok()
        .json();
    let objects = json.as_array().expect("an array");
    assert_eq!(objects.len(), rows.len(), "CSV and JSON agree");
    let mut keys: Vec<&str> = objects[0]
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    let mut columns: Vec<&str> = ACCESS_COLUMNS.split(',').collect();
    columns.sort_unstable();
    assert_eq!(keys, columns, "keyed by column");
    assert_eq!(objects[0]["sequence"], 2, "numbers stay numbers");

    let table = env.run(&["report", "access"]).ok();
    let header: Vec<&str> = table
        .stdout
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    assert_eq!(header, ACCESS_COLUMNS.split(',').collect::<Vec<_>>());
    assert_eq!(table.stdout.lines().count(), 2 + 4, "{table:#?}");

    // One client; a period; both.
    let one = |args: &[&str]| -> Vec<u64> {
        let mut all = vec!["report", "access", "--format", "json"];
        all.extend_from_slice(args);
        env.run(&all)
            .ok()
            .json()
            .as_array()
            .expect("an array")
            .iter()
            .map(|e| e["sequence"].as_u64().expect("a number"))
            .collect()
    };
    assert_eq!(one(&["--client", "c-1"]), [2, 4]);
    assert_eq!(one(&["--from", "2020-01-06", "--to", "2020-01-07"]), [3, 4]);
    assert_eq!(
        one(&[
            "--client",
            "c-1",
            "--from",
            "2020-01-06",
            "--to",
            "2020-01-07"
        ]),
        [4]
    );
    assert_eq!(one(&["--to", "2019-12-31"]), Vec::<u64>::new());
    // Sorted by each field.
    assert_eq!(one(&["--sort", "user"]), [4, 3, 1, 2]);
    assert_eq!(one(&["--sort", "purpose"]), [1, 4, 3, 2]);
    assert_eq!(one(&["--sort", "client"]), [1, 2, 4, 3]);
    assert_eq!(one(&["--sort", "time"]), [2, 3, 4, 1]);

    // Bad input: one line, exit 2.
    env.run(&["report", "access", "--client", "c 1"])
        .fails_quietly(EX_USAGE, &["--client", "client id"]);
    env.run(&[
        "report",
        "access",
        "--from",
        "2026-02-01",
        "--to",
        "2026-01-01",
    ])
    .fails_quietly(EX_USAGE, &["2026-02-01", "2026-01-01"]);
    env.run(&["report", "billing", "--sort", "user"])
        .fails_quietly(EX_USAGE, &["--sort", "access report only"]);
    let run = env.run(&["report", "access", "--sort", "colour"]);
    assert_eq!(run.code, Some(EX_USAGE), "{run:#?}");
    assert!(run.stderr.starts_with("error: invalid value"), "{run:#?}");
}

async fn verify_finds_a_tampered_access_log_entry(env: &Env) {
    // An empty log changes nothing in verify's output.
    let run = env.run(&["verify"]).ok();
    assert_eq!(
        run.stdout,
        "verified 0 events of 0 clients and 0 checkpoints: intact\n"
    );
    let report = env.run(&["verify", "--json"]).ok().json();
    assert_eq!(report["access_log"]["entries"], 0, "{report:#}");
    assert_eq!(report["access_log"]["head"], Value::Null, "{report:#}");

    env.run(&["user", "add", "--name", "t-0001", "--role", "therapist"])
        .ok();
    env.run(&["user", "token", "--name", "t-0001"]).ok();
    client_reads(&env.url).await;

    let run = env.run(&["verify"]).ok();
    assert_eq!(
        run.stdout,
        "verified 0 events of 0 clients, 0 checkpoints and 5 access log entries: intact\n"
    );
    let report = env.run(&["verify", "--json"]).ok().json();
    assert_eq!(report["intact"], true, "{report:#}");
    let log = &report["access_log"];
    assert_eq!(log["intact"], true, "{report:#}");
    assert_eq!(log["entries"], 5, "{report:#}");
    assert_eq!(log["head"]["sequence"], 5, "{report:#}");
    assert!(
        is_hex(log["head"]["hash"].as_str().unwrap_or_default(), 64),
        "{report:#}"
    );

    // A purpose rewritten behind the store's back.
    assert_eq!(
        exec(
            &env.url,
            "UPDATE access_log SET purpose = 'operations' WHERE sequence = 4"
        )
        .await,
        1
    );
    let run = env.run(&["verify"]);
    run.fails(EX_FAILURE, &["not intact", "1 access log findings"]);
    let findings = run.finding_lines();
    assert_eq!(findings.len(), 1, "{run:#?}");
    assert!(
        findings[0].starts_with("access log sequence 4: hash_mismatch"),
        "{run:#?}"
    );
    assert_eq!(
        run.summary(),
        "verified 0 events of 0 clients, 0 checkpoints and 5 access log entries: NOT INTACT: 0 findings, 0 checkpoint problems, 1 access log findings"
    );
    let run = env.run(&["verify", "--json"]);
    run.fails(EX_FAILURE, &["not intact"]);
    let report = run.json();
    assert_eq!(report["intact"], false, "{report:#}");
    assert_eq!(
        report["findings"],
        Value::Array(vec![]),
        "the record is fine"
    );
    let log = &report["access_log"];
    assert_eq!(log["intact"], false, "{report:#}");
    let found = log["findings"].as_array().expect("findings");
    assert_eq!(found.len(), 1, "{report:#}");
    assert_eq!(found[0]["sequence"], 4);
    assert_eq!(found[0]["kind"], "hash_mismatch");

    // An entry deleted from the middle: found at the next sequence.
    exec(
        &env.url,
        "UPDATE access_log SET purpose = 'payment' WHERE sequence = 4",
    )
    .await;
    env.run(&["verify"]).ok();
    assert_eq!(
        exec(&env.url, "DELETE FROM access_log WHERE sequence = 2").await,
        1
    );
    let run = env.run(&["verify", "--json"]);
    run.fails(EX_FAILURE, &["not intact"]);
    let kinds: Vec<(u64, String)> = run.json()["access_log"]["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["sequence"].as_u64().unwrap_or_default(),
                f["kind"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            (3, "sequence_gap".to_owned()),
            (3, "broken_link".to_owned())
        ]
    );
}

/// `kapchart export` reads a client's record: it is logged, with its
/// purpose, before the record leaves; an export that finds no client logs
/// nothing.
async fn an_export_is_written_to_the_access_log(env: &Env) {
    env.run(&["demo", "--clients", "2"]).ok();
    env.run(&[
        "export",
        "--client",
        "client-001",
        "--format",
        "json",
        "--purpose",
        "legal",
    ])
    .ok();
    env.run(&["export", "--client", "nobody", "--format", "json"])
        .fails(EX_USAGE, &["nobody"]);
    let log = env
        .run(&["report", "access", "--format", "json"])
        .ok()
        .json();
    // The demo's staff accounts are logged as account changes; the one
    // read of a client's record is the export.
    let entries: Vec<&serde_json::Value> = log
        .as_array()
        .expect("an array")
        .iter()
        .filter(|e| !e["client_id"].is_null())
        .collect();
    assert_eq!(entries.len(), 1, "{log}");
    let entry = entries[0];
    assert_eq!(entry["client_id"], "client-001");
    assert_eq!(entry["action"], "export");
    assert_eq!(entry["user_id"], CLI_USER_ID);
    assert_eq!(entry["purpose"], "legal");
    assert_eq!(
        entry["source"],
        "cli export --client client-001 --format json"
    );
    assert_eq!(entry["categories"], "billing;demographics;dosing;notes");
}

async fn a_reset_clears_the_web_sign_in_and_prints_a_new_setup_code(env: &Env) {
    let (token, first_code) = added(
        &env.run(&["user", "add", "--name", "t-0001", "--role", "therapist"])
            .ok(),
    );
    let user = UserId::parse("t-0001").expect("id");
    let db = open(&env.url).await;
    let now = Utc::now();
    let creds = credentials::find(&db, &user)
        .await
        .expect("readable")
        .expect("the account");
    assert!(creds.setup_code_matches(&first_code, now), "{creds:?}");
    assert!(!creds.setup_code_matches(&first_code, now + chrono::Duration::hours(72)));
    assert_eq!(creds.password_phc, None);
    // The user sets a password with the code and signs in on the web.
    credentials::set_password_with_setup_code(&db, &user, &first_code, "$argon2id$x", "test", now)
        .await
        .expect("the code works once");
    let session = web_sessions::open(&db, &user, "treatment", now)
        .await
        .expect("a session");
    db.close().await;

    let code = setup_code_of(&env.run(&["user", "reset", "--name", "t-0001"]).ok());
    assert_ne!(code, first_code);
    let db = open(&env.url).await;
    let creds = credentials::find(&db, &user)
        .await
        .expect("readable")
        .expect("the account");
    assert_eq!(creds.password_phc, None, "the password is cleared");
    assert_eq!(creds.totp_secret, None, "the second factor is cleared");
    assert!(creds.setup_code_matches(&code, Utc::now()));
    assert!(!creds.setup_code_matches(&first_code, Utc::now()));
    assert_eq!(
        web_sessions::find(
            &db,
            &session.secret,
            Utc::now(),
            chrono::Duration::minutes(15)
        )
        .await
        .expect("answers"),
        Lookup::None,
        "the web session is ended"
    );
    db.close().await;
    assert_eq!(
        who(&env.url, &token).await,
        Some(("t-0001".to_owned(), Role::Therapist)),
        "API tokens keep working"
    );

    env.run(&["user", "reset", "--name", "nobody"])
        .fails_quietly(EX_USAGE, &["no user with id nobody"]);
    env.run(&["user", "disable", "--name", "t-0001"]).ok();
    env.run(&["user", "reset", "--name", "t-0001"])
        .fails_quietly(EX_USAGE, &["t-0001", "is disabled"]);

    let log = env
        .run(&["report", "access", "--format", "json"])
        .ok()
        .json();
    let got: Vec<(&str, &str, &str, &str)> = log
        .as_array()
        .expect("an array")
        .iter()
        .map(|e| {
            (
                e["user_id"].as_str().unwrap_or_default(),
                e["action"].as_str().unwrap_or_default(),
                e["source"].as_str().unwrap_or_default(),
                e["purpose"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                CLI_USER_ID,
                "add",
                "cli user add",
                "accounts: add t-0001 as therapist"
            ),
            (
                "t-0001",
                "change",
                "test",
                "accounts: t-0001 sets a password with a setup code"
            ),
            (
                CLI_USER_ID,
                "change",
                "cli user reset",
                "accounts: reset the password and second factor of t-0001, end its web sessions, issue a setup code"
            ),
            (
                CLI_USER_ID,
                "change",
                "cli user disable",
                "accounts: disable t-0001 and revoke its tokens"
            ),
        ]
    );
    assert!(
        !log.to_string().contains(&code[3..]),
        "no setup code in the log"
    );
}
