//! End to end: the real `kapchart` binary runs `migrate`, `verify`,
//! `checkpoint` and `export` in a fresh working directory, against a fresh
//! SQLite file and a fresh PostgreSQL database. Records are written with
//! the store library (there is no `demo` yet) and tampered with plain SQL
//! behind the store's back, as an attacker with database access would.
//!
//! Exit statuses (issue items 5 to 7): 0 intact, 1 anything wrong (findings
//! listed with aggregate, sequence and kind), 2 usage or connection errors;
//! every error is one line on stderr, never a panic, never a password.

use std::os::unix::fs::PermissionsExt as _;

use kapchart_audit::{Hash, Statement, StoredEntry, canonical_json};
use kapchart_store::Database;
use serde_json::{Value, json};

#[macro_use]
mod common;

use common::*;

/// `text` with its first character changed to another hex digit.
fn flip_first_hex_digit(text: &str) -> String {
    let replacement = if text.starts_with('0') { "1" } else { "0" };
    format!("{replacement}{}", &text[1..])
}

on_both_engines!(
    migrate_applies_the_schema_idempotently,
    an_empty_store_verifies_and_checkpoints_chain,
    verify_reports_every_finding_with_aggregate_sequence_and_kind,
    a_tampered_record_is_not_checkpointed,
    export_writes_a_bundle_that_verifies_offline,
    verify_against_a_checkpoint_kept_elsewhere,
    unreadable_rows_are_findings_not_crashes,
    demo_writes_a_sample_practice_that_verifies,
);

// ---------------------------------------------------------------------------
// Writing and tampering with records behind the binary's back

fn register(client: &str, name: &str) -> Value {
    json!({"RegisterClient": {
        "client_id": client,
        "name": name,
        "date_of_birth": "1984-03-09",
        "therapist": "t-rivera",
    }})
}

fn outcome(instrument: &str, score: i64) -> Value {
    json!({"RecordOutcomeMeasure": {
        "measure": {"instrument": instrument, "score": score},
        "administered_on": "2025-11-03",
    }})
}

/// Two clients: `client-a` with 3 events, `client-b` with 2.
async fn two_clients(url: &str) {
    let consent = json!({"RecordConsent": {
        "signed_on": "2025-11-03",
        "form": "KAP informed consent v3",
    }});
    record(
        url,
        &[
            (
                "client-a",
                "cmd-a1",
                "fd-jones",
                "front_desk",
                register("client-a", "Alex Example"),
            ),
            ("client-a", "cmd-a2", "t-rivera", "therapist", consent),
            (
                "client-a",
                "cmd-a3",
                "t-rivera",
                "therapist",
                outcome("phq9", 14),
            ),
            (
                "client-b",
                "cmd-b1",
                "fd-jones",
                "front_desk",
                register("client-b", "Sam Sample"),
            ),
            (
                "client-b",
                "cmd-b2",
                "t-rivera",
                "therapist",
                outcome("gad7", 9),
            ),
        ],
    )
    .await;
    assert_eq!(stored_entries(url, "client-a").await.len(), 3);
    assert_eq!(stored_entries(url, "client-b").await.len(), 2);
}

/// One client's rows as stored.
async fn stored_entries(url: &str, client: &str) -> Vec<StoredEntry> {
    let db = Database::open(url).await.expect("the test database opens");
    let events = db
        .repository(kapchart_store::system_clock())
        .events_of(kapchart_store::CLIENT_RECORD, client, 0)
        .await
        .expect("read the client's events");
    db.close().await;
    events.into_iter().map(|e| e.stored).collect()
}

/// Runs one statement directly on the database (`postgres` or `sqlite`
/// text by engine), binding `binds` as text; returns the rows affected.
async fn sql(url: &str, postgres: &str, sqlite: &str, binds: &[&str]) -> u64 {
    let db = Database::connect(url).await.expect("connect for tampering");
    let affected = match &db {
        Database::Postgres(pool) => {
            let mut query = sqlx::query(postgres);
            for b in binds {
                query = query.bind(*b);
            }
            query.execute(pool).await.expect(postgres).rows_affected()
        }
        Database::Sqlite(pool) => {
            let mut query = sqlx::query(sqlite);
            for b in binds {
                query = query.bind(*b);
            }
            query.execute(pool).await.expect(sqlite).rows_affected()
        }
    };
    db.close().await;
    affected
}

/// The same statement on both engines (no casts, no parameters).
async fn sql_both(url: &str, statement: &str) -> u64 {
    sql(url, statement, statement, &[]).await
}

/// Changes the consent form in `client-a`'s event 2, leaving its hash.
async fn edit_consent_payload(url: &str) {
    let entries = stored_entries(url, "client-a").await;
    let payload = entries[1].entry.payload.to_string();
    assert!(payload.contains("consent v3"), "{payload}");
    let forged = payload.replace("consent v3", "consent v4");
    let changed = sql(
        url,
        "UPDATE events SET payload = $1::jsonb WHERE aggregate_id = 'client-a' AND sequence = 2",
        "UPDATE events SET payload = ?1 WHERE aggregate_id = 'client-a' AND sequence = 2",
        &[&forged],
    )
    .await;
    assert_eq!(changed, 1);
}

// ---------------------------------------------------------------------------
// Scenarios

async fn migrate_applies_the_schema_idempotently(env: &Env) {
    let sqlite_file = env.path("practice.db");
    if env.engine == "sqlite" {
        assert!(!sqlite_file.exists());
    }
    for _ in 0..2 {
        let run = env.run(&["migrate"]).ok();
        assert_eq!(run.stdout.lines().count(), 1, "one line: {run:#?}");
        assert!(run.stdout.ends_with('\n'), "{run:#?}");
        assert!(run.stdout.contains(env.engine), "{run:#?}");
    }
    if env.engine == "sqlite" {
        assert!(sqlite_file.is_file(), "migrate creates the SQLite file");
    }
    // The schema is really there: the store reads it.
    assert!(stored_entries(&env.url, "client-a").await.is_empty());
    // No key file for a command that signs nothing.
    assert!(!env.path(DEFAULT_KEY_FILE).exists());

    if env.engine == "sqlite" {
        // Without --database-url or DATABASE_URL: sqlite://kapchart.db, in
        // the working directory.
        let args = ["migrate"];
        let mut cmd = env.command(&args);
        cmd.env_remove("DATABASE_URL");
        let run = env.run_command(&args, &mut cmd).ok();
        assert_eq!(run.stdout.lines().count(), 1, "{run:#?}");
        assert!(env.path("kapchart.db").is_file(), "{run:#?}");
    }
}

async fn an_empty_store_verifies_and_checkpoints_chain(env: &Env) {
    let run = env.run(&["verify"]).ok();
    assert_eq!(
        run.stdout,
        "verified 0 events of 0 clients and 0 checkpoints: intact\n"
    );
    assert!(
        !env.path(DEFAULT_KEY_FILE).exists(),
        "verify never creates a signing key"
    );

    // First checkpoint: creates the key, owner-only.
    let first = env.run(&["checkpoint"]).ok().json();
    let key_path = env.path(DEFAULT_KEY_FILE);
    let mode = std::fs::metadata(&key_path)
        .expect("checkpoint creates kapchart-signing.key in the working directory")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "key file mode {mode:o}");
    let key_text = env.read(DEFAULT_KEY_FILE);
    assert!(
        is_hex(key_text.trim_end(), 64),
        "key file holds 64 hex digits"
    );

    assert_eq!(first["number"], 1, "{first:#}");
    let statement = &first["checkpoint"]["statement"];
    assert_eq!(statement["tree_size"], 0, "{first:#}");
    assert_eq!(statement["root_hash"], EMPTY_ROOT, "{first:#}");
    assert_eq!(statement["previous"], ZEROS, "{first:#}");
    assert_eq!(first["heads"], json!([]), "{first:#}");
    let public_key = first["public_key"].as_str().expect("public_key").to_owned();
    assert!(is_hex(&public_key, 64), "{first:#}");
    let key_bytes = hex::decode(&public_key).expect("hex");
    assert_eq!(
        statement["key_id"],
        Hash::sha256(&key_bytes).to_hex(),
        "key_id is SHA-256 of the public key"
    );
    let signature = first["checkpoint"]["signature"]
        .as_str()
        .expect("signature");
    assert!(is_hex(signature, 128), "{first:#}");
    let issued_at = statement["issued_at"].as_str().expect("issued_at");
    assert!(
        chrono::DateTime::parse_from_rfc3339(issued_at).is_ok() && issued_at.ends_with('Z'),
        "{issued_at}"
    );

    // `checkpoint --public-key` prints the same key, and needs no database.
    assert_eq!(env.public_key(DEFAULT_KEY_FILE), public_key);

    // Second checkpoint: chained to the first by `previous`.
    let second = env.run(&["checkpoint"]).ok().json();
    assert_eq!(second["number"], 2, "{second:#}");
    assert_eq!(second["public_key"], public_key.as_str());
    let first_statement: Statement =
        serde_json::from_value(statement.clone()).expect("a checkpoint statement");
    let expected_previous = first_statement.hash().expect("hashable").to_hex();
    assert_eq!(
        second["checkpoint"]["statement"]["previous"], expected_previous,
        "{second:#}"
    );
    // The same, from the RFC 8785 bytes directly.
    let canonical = canonical_json(statement).expect("canonical JSON");
    assert_eq!(Hash::sha256(&canonical).to_hex(), expected_previous);
    assert_eq!(
        key_text,
        env.read(DEFAULT_KEY_FILE),
        "the key is created once"
    );

    let run = env.run(&["verify"]).ok();
    assert_eq!(
        run.stdout,
        "verified 0 events of 0 clients and 2 checkpoints: intact\n"
    );

    // --key-file is global and KAPCHART_KEY_FILE names it too: another key.
    let other = env.public_key("other.key");
    assert_ne!(other, public_key);
    let args = ["checkpoint", "--public-key"];
    let mut cmd = env.command(&args);
    cmd.env("KAPCHART_KEY_FILE", "other.key");
    let run = env.run_command(&args, &mut cmd).ok();
    assert_eq!(run.stdout, format!("{other}\n"));
    let run = env
        .run(&["checkpoint", "--public-key", "--key-file", "env.key"])
        .ok();
    assert!(env.path("env.key").is_file(), "{run:#?}");

    // Under another trusted key, every checkpoint of the log is reported.
    let run = env.run(&["verify", "--public-key", &other]);
    run.fails(EX_FAILURE, &["not intact"]);
    for n in [1, 2] {
        assert!(
            run.stdout.contains(&format!(
                "checkpoint {n} (log): signed with a key other than the trusted public key"
            )),
            "{run:#?}"
        );
    }
    // Keys can be rotated: a new key file still checkpoints, and the log
    // (checkpoints 1–2 under the old key, 3 under the new) verifies, each
    // under its own key.
    let run = env.run(&["--key-file", "other.key", "checkpoint"]).ok();
    assert_eq!(run.json()["number"], 3);
    assert_eq!(run.json()["public_key"], other.as_str());
    let run = env.run(&["verify"]).ok();
    assert!(
        run.stdout.ends_with("and 3 checkpoints: intact\n"),
        "{run:#?}"
    );

    // A key file that is not a key: one line naming it, exit 2.
    env.write("bad.key", "not a key\n");
    for args in [
        &["--key-file", "bad.key", "checkpoint"][..],
        &["checkpoint", "--public-key", "--key-file", "bad.key"],
        &["export", "--client", "x", "--key-file", "bad.key"],
    ] {
        env.run(args).fails_quietly(EX_USAGE, &["bad.key"]);
    }
    assert_eq!(env.read("bad.key"), "not a key\n", "never overwritten");
    // Nothing was appended by the refused runs.
    let run = env.run(&["verify", "--json"]).ok();
    assert_eq!(run.json()["checkpoints"], 3);
}

async fn verify_reports_every_finding_with_aggregate_sequence_and_kind(env: &Env) {
    two_clients(&env.url).await;

    let run = env.run(&["verify"]).ok();
    assert_eq!(
        run.stdout,
        "verified 5 events of 2 clients and 0 checkpoints: intact\n"
    );
    let report = env.run(&["verify", "--json"]).ok().json();
    assert_eq!(report["intact"], true, "{report:#}");
    assert_eq!(report["events"], 5, "{report:#}");
    assert_eq!(report["clients"], 2, "{report:#}");
    assert_eq!(report["findings"], json!([]), "{report:#}");

    let run = env.run(&["verify", "--client", "client-a"]).ok();
    assert_eq!(
        run.stdout,
        "verified 3 events of 1 clients and 0 checkpoints: intact\n"
    );
    env.run(&["verify", "--client", "nobody"])
        .fails_quietly(EX_USAGE, &["nobody"]);

    edit_consent_payload(&env.url).await;

    let run = env.run(&["verify"]);
    run.fails(EX_FAILURE, &["not intact"]);
    let findings = run.finding_lines();
    assert_eq!(findings.len(), 1, "{run:#?}");
    assert!(
        findings[0].starts_with("ClientRecord/client-a sequence 2: hash_mismatch"),
        "{run:#?}"
    );
    assert!(run.summary().contains("NOT INTACT"), "{run:#?}");
    assert!(
        run.summary().starts_with("verified 5 events of 2 clients"),
        "{run:#?}"
    );

    let run = env.run(&["verify", "--json"]);
    run.fails(EX_FAILURE, &["not intact"]);
    let report = run.json();
    assert_eq!(report["intact"], false, "{report:#}");
    let findings = report["findings"].as_array().expect("findings");
    assert_eq!(findings.len(), 1, "{report:#}");
    assert_eq!(findings[0]["aggregate_type"], "ClientRecord");
    assert_eq!(findings[0]["aggregate_id"], "client-a");
    assert_eq!(findings[0]["sequence"], 2);
    assert_eq!(findings[0]["kind"], "hash_mismatch");

    // Scoped to one client: the tampered client fails, the other is intact.
    let run = env.run(&["verify", "--client", "client-a"]);
    run.fails(EX_FAILURE, &["not intact"]);
    assert_eq!(run.finding_lines().len(), 1, "{run:#?}");
    let run = env.run(&["verify", "--client", "client-b"]).ok();
    assert_eq!(
        run.stdout,
        "verified 2 events of 1 clients and 0 checkpoints: intact\n"
    );

    // A second tampering: an event deleted from the middle of a chain.
    let deleted = sql_both(
        &env.url,
        "DELETE FROM events WHERE aggregate_id = 'client-b' AND sequence = 1",
    )
    .await;
    assert_eq!(deleted, 1);
    let run = env.run(&["verify", "--json"]);
    run.fails(EX_FAILURE, &["not intact"]);
    let report = run.json();
    let kinds: Vec<(String, u64, String)> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["aggregate_id"].as_str().expect("id").to_owned(),
                f["sequence"].as_u64().expect("sequence"),
                f["kind"].as_str().expect("kind").to_owned(),
            )
        })
        .collect();
    assert!(
        kinds.contains(&("client-a".into(), 2, "hash_mismatch".into())),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&("client-b".into(), 2, "first_not_genesis".into())),
        "{kinds:?}"
    );
}

async fn a_tampered_record_is_not_checkpointed(env: &Env) {
    two_clients(&env.url).await;
    edit_consent_payload(&env.url).await;
    env.run(&["checkpoint"])
        .fails_quietly(EX_FAILURE, &["not intact"]);
    let bundle = env.run(&["export", "--client", "client-a"]);
    bundle.fails_quietly(EX_FAILURE, &[]);
    // The untampered client cannot be exported either: its bundle needs a
    // checkpoint, and none vouches for a tampered log.
    env.run(&["export", "--client", "client-b"])
        .fails_quietly(EX_FAILURE, &[]);
    let run = env.run(&["verify", "--json"]);
    run.fails(EX_FAILURE, &["not intact"]);
    assert_eq!(run.json()["checkpoints"], 0, "nothing was appended");
}

async fn export_writes_a_bundle_that_verifies_offline(env: &Env) {
    two_clients(&env.url).await;
    let public_key = env.public_key(DEFAULT_KEY_FILE);

    let run = env
        .run(&[
            "export", "--client", "client-a", "--format", "bundle", "--output", "b.json",
        ])
        .ok();
    assert_eq!(run.stdout, "", "the bundle goes to the file");
    let text = env.read("b.json");
    let bundle: Value = serde_json::from_str(&text).expect("the bundle is JSON");
    let keys: Vec<&str> = bundle
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys.len(),
        4,
        "entries, checkpoint, public_key, inclusion: {keys:?}"
    );
    assert_eq!(bundle["public_key"], public_key.as_str());
    let entries = bundle["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), 3);
    for (i, e) in entries.iter().enumerate() {
        assert_eq!(e["aggregate_type"], "ClientRecord");
        assert_eq!(e["aggregate_id"], "client-a");
        assert_eq!(e["sequence"], i + 1);
        assert_eq!(e.as_object().expect("entry").len(), 9, "{e:#}");
    }
    assert_eq!(entries[0]["prev_hash"], ZEROS);
    assert_eq!(bundle["inclusion"]["tree_size"], 2, "two clients' heads");
    assert_eq!(bundle["inclusion"]["leaf_index"], 0, "client-a sorts first");
    assert_eq!(bundle["checkpoint"]["statement"]["tree_size"], 2);

    // The export took the first checkpoint; a second export reuses it.
    let report = env.run(&["verify", "--json"]).ok().json();
    assert_eq!(report["checkpoints"], 1, "{report:#}");
    let again = env.run(&["export", "--client", "client-a"]).ok().json();
    assert_eq!(again, bundle, "same record, same checkpoint, same bundle");
    let report = env.run(&["verify", "--json"]).ok().json();
    assert_eq!(report["checkpoints"], 1, "{report:#}");

    // Offline: no database at all.
    let offline = |file: &str, key: &str| {
        env.run(&[
            "--database-url",
            NO_DATABASE,
            "verify",
            "--bundle",
            file,
            "--public-key",
            key,
        ])
    };
    let run = offline("b.json", &public_key).ok();
    assert_eq!(run.stdout.lines().count(), 1, "{run:#?}");
    assert!(
        run.stdout
            .starts_with("bundle intact: ClientRecord/client-a with 3 entries"),
        "{run:#?}"
    );
    let args = [
        "--database-url",
        NO_DATABASE,
        "verify",
        "--bundle",
        "b.json",
        "--public-key",
        &public_key,
        "--json",
    ];
    let report = env.run(&args).ok().json();
    assert_eq!(report["intact"], true, "{report:#}");
    assert_eq!(report["aggregate_id"], "client-a", "{report:#}");
    assert_eq!(report["entries"], 3, "{report:#}");
    // Upper-case hex is the same key.
    offline("b.json", &public_key.to_uppercase()).ok();

    // A changed payload: one character of the consent form.
    let mut forged = bundle.clone();
    let payload = forged["entries"][1]["payload"].to_string();
    assert!(payload.contains("consent v3"), "{payload}");
    forged["entries"][1]["payload"] =
        serde_json::from_str(&payload.replace("consent v3", "consent v4")).expect("JSON");
    env.write("forged.json", &forged.to_string());
    offline("forged.json", &public_key).fails_quietly(EX_FAILURE, &["sequence 2"]);

    // The head entry dropped: the chain is fine but the checkpoint proves
    // another head.
    let mut short = bundle.clone();
    short["entries"]
        .as_array_mut()
        .expect("entries")
        .truncate(2);
    env.write("short.json", &short.to_string());
    offline("short.json", &public_key).fails_quietly(EX_FAILURE, &["does not verify"]);

    // A damaged signature.
    let mut unsigned = bundle.clone();
    let signature = unsigned["checkpoint"]["signature"]
        .as_str()
        .expect("signature")
        .to_owned();
    unsigned["checkpoint"]["signature"] = json!(flip_first_hex_digit(&signature));
    env.write("unsigned.json", &unsigned.to_string());
    offline("unsigned.json", &public_key).fails_quietly(EX_FAILURE, &["signature"]);

    // Truncated JSON, and something that is not a bundle at all.
    env.write("truncated.json", &text[..text.len() / 2]);
    offline("truncated.json", &public_key).fails_quietly(EX_FAILURE, &["truncated.json"]);
    env.write("other.json", "{\"entries\": 5}");
    offline("other.json", &public_key).fails_quietly(EX_FAILURE, &["other.json"]);

    // Another valid key: the bundle is not the practice's.
    let other_key = env.public_key("other.key");
    offline("b.json", &other_key).fails_quietly(EX_FAILURE, &["key"]);

    // Usage errors: exit 2.
    let run = env.run(&[
        "--database-url",
        NO_DATABASE,
        "verify",
        "--bundle",
        "b.json",
    ]);
    run.fails_quietly(EX_USAGE, &["--public-key"]);
    for bad in [
        "not-hex".to_owned(),
        public_key[..63].to_owned(),
        format!("{public_key}00"),
        format!("{}zz", &public_key[..62]),
    ] {
        let run = offline("b.json", &bad);
        assert_eq!(run.code, Some(EX_USAGE), "{run:#?}");
        assert!(run.stderr.contains("--public-key"), "{run:#?}");
        assert_eq!(run.stdout, "", "{run:#?}");
    }
    offline("missing.json", &public_key).fails_quietly(EX_USAGE, &["missing.json"]);
    let run = env.run(&[
        "verify",
        "--bundle",
        "b.json",
        "--public-key",
        &public_key,
        "--client",
        "client-a",
    ]);
    assert_eq!(run.code, Some(EX_USAGE), "--bundle with --client: {run:#?}");

    // --format json: the client's entries as stored.
    let run = env
        .run(&["export", "--client", "client-a", "--format", "json"])
        .ok();
    assert_eq!(run.json(), bundle["entries"], "the same entries");
    let run = env
        .run(&[
            "export",
            "--client",
            "client-b",
            "--format",
            "json",
            "--output",
            "b-entries.json",
        ])
        .ok();
    assert_eq!(run.stdout, "");
    let entries: Value = serde_json::from_str(&env.read("b-entries.json")).expect("JSON");
    assert_eq!(entries.as_array().map(Vec::len), Some(2), "{entries:#}");

    // Unknown client: exit 2, one line, no file written.
    for format in ["bundle", "json"] {
        env.run(&[
            "export",
            "--client",
            "nobody",
            "--format",
            format,
            "--output",
            "nobody.json",
        ])
        .fails_quietly(EX_USAGE, &["nobody"]);
        assert!(!env.path("nobody.json").exists());
    }

    // A new event: the next export takes a new checkpoint that proves it.
    record(
        &env.url,
        &[(
            "client-a",
            "cmd-a4",
            "t-rivera",
            "therapist",
            outcome("pcl5", 31),
        )],
    )
    .await;
    env.run(&["export", "--client", "client-a", "--output", "b2.json"])
        .ok();
    let bundle2: Value = serde_json::from_str(&env.read("b2.json")).expect("JSON");
    assert_eq!(bundle2["entries"].as_array().map(Vec::len), Some(4));
    let report = env.run(&["verify", "--json"]).ok().json();
    assert_eq!(report["checkpoints"], 2, "{report:#}");
    let run = offline("b2.json", &public_key).ok();
    assert!(run.stdout.contains("with 4 entries"), "{run:#?}");
    // The earlier bundle still verifies: it proves the record up to its head.
    offline("b.json", &public_key).ok();
}

async fn verify_against_a_checkpoint_kept_elsewhere(env: &Env) {
    two_clients(&env.url).await;
    let run = env.run(&["checkpoint"]).ok();
    env.write("cp.json", &run.stdout);
    let checkpoint = run.json();
    assert_eq!(checkpoint["checkpoint"]["statement"]["tree_size"], 2);
    assert_eq!(checkpoint["heads"].as_array().map(Vec::len), Some(2));

    let issued_at = checkpoint["checkpoint"]["statement"]["issued_at"]
        .as_str()
        .expect("issued_at");
    let run = env.run(&["verify", "--checkpoint", "cp.json"]).ok();
    assert_eq!(
        run.stdout,
        format!(
            "This database holds everything the checkpoint of {issued_at} (number 1) covers (current): 2 clients at or past their checkpointed entry.\n\
             verified 5 events of 2 clients and 1 checkpoints: intact\n"
        )
    );
    let public_key = checkpoint["public_key"].as_str().expect("public_key");
    env.run(&[
        "verify",
        "--checkpoint",
        "cp.json",
        "--public-key",
        public_key,
        "--json",
    ])
    .ok();

    // A flipped hex digit of the signature.
    let mut forged = checkpoint.clone();
    let signature = forged["checkpoint"]["signature"]
        .as_str()
        .expect("signature")
        .to_owned();
    forged["checkpoint"]["signature"] = json!(flip_first_hex_digit(&signature));
    env.write("bad-signature.json", &forged.to_string());
    let run = env.run(&["verify", "--checkpoint", "bad-signature.json"]);
    run.fails(EX_FAILURE, &["not intact"]);
    assert!(
        run.stdout.contains("checkpoint 1 (file): signature"),
        "{run:#?}"
    );
    let report = env
        .run(&["verify", "--checkpoint", "bad-signature.json", "--json"])
        .json();
    assert_eq!(report["intact"], false);
    assert_eq!(report["findings"], json!([]), "the chains are intact");
    let problems = report["checkpoint_problems"].as_array().expect("problems");
    assert!(
        problems.iter().any(|p| p["source"] == "file"
            && p["number"] == 1
            && p["problem"]
                .as_str()
                .is_some_and(|t| t.contains("signature"))),
        "{report:#}"
    );

    // Heads that are not the statement's.
    let mut forged = checkpoint.clone();
    forged["heads"][1]["sequence"] = json!(7);
    env.write("bad-heads.json", &forged.to_string());
    let run = env.run(&["verify", "--checkpoint", "bad-heads.json"]);
    run.fails(EX_FAILURE, &["not intact"]);
    assert!(
        run.stdout.contains("checkpoint 1 (file): heads"),
        "{run:#?}"
    );

    // Not a checkpoint file: exit 2, one line.
    env.write("not-json.json", "this is not JSON\n");
    env.run(&["verify", "--checkpoint", "not-json.json"])
        .fails_quietly(EX_USAGE, &["not-json.json"]);
    env.run(&["verify", "--checkpoint", "missing.json"])
        .fails_quietly(EX_USAGE, &["missing.json"]);

    // client-b's last event deleted: truncated against the checkpoint.
    let deleted = sql_both(
        &env.url,
        "DELETE FROM events WHERE aggregate_id = 'client-b' AND sequence = 2",
    )
    .await;
    assert_eq!(deleted, 1);
    let run = env.run(&["verify", "--checkpoint", "cp.json"]);
    run.fails(EX_FAILURE, &["not intact"]);
    let findings = run.finding_lines();
    assert_eq!(findings.len(), 4, "{run:#?}");
    assert!(
        findings[0].starts_with("ClientRecord/client-b sequence 2: truncated"),
        "{run:#?}"
    );
    // And in words: behind the checkpoint, what is missing by client.
    assert_eq!(
        findings[1..],
        [
            format!(
                "This database is behind the checkpoint of {issued_at} (number 1): it looks like a stale backup (rolled back). Missing 1 event of 1 client, by client:"
            )
            .as_str(),
            "  client client-b: 1 event (sequence 2)",
            format!(
                "Anything recorded after {issued_at} is unknown to that checkpoint and may be missing too."
            )
            .as_str(),
        ],
        "{run:#?}"
    );
    let report = env
        .run(&["verify", "--checkpoint", "cp.json", "--json"])
        .json();
    assert_eq!(
        report["findings"],
        json!([{
            "aggregate_type": "ClientRecord",
            "aggregate_id": "client-b",
            "sequence": 2,
            "kind": "truncated",
            "current_sequence": 1,
            "checkpointed_hash": checkpoint["heads"][1]["hash"],
        }]),
        "{report:#}"
    );
    assert_eq!(
        report["checkpoint"],
        json!({
            "number": 1,
            "issued_at": issued_at,
            "status": "behind",
            "clients": 2,
            "missing": [{
                "client": "client-b",
                "events": 1,
                "from_sequence": 2,
                "to_sequence": 2,
                "absent": false,
            }],
            "differs": [],
            "other_findings": false,
        }),
        "{report:#}"
    );
    // Only client-a asked for: client-b's truncation is not its concern.
    env.run(&["verify", "--checkpoint", "cp.json", "--client", "client-a"])
        .ok();
    // Without a file, the latest checkpoint of the log is the reference.
    let run = env.run(&["verify"]);
    run.fails(EX_FAILURE, &["not intact"]);
    assert!(
        run.stdout.contains("client-b sequence 2: truncated"),
        "{run:#?}"
    );

    // The checkpoint log rolled back too: the database alone looks intact
    // (docs/audit-format.md section 7); the checkpoint kept elsewhere shows it.
    let removed = sql_both(&env.url, "DELETE FROM checkpoints").await;
    assert_eq!(removed, 1);
    env.run(&["verify"]).ok();
    let run = env.run(&["verify", "--checkpoint", "cp.json"]);
    run.fails(EX_FAILURE, &["not intact"]);
    assert!(
        run.stdout.contains("client-b sequence 2: truncated"),
        "{run:#?}"
    );

    // A whole client removed.
    let deleted = sql_both(
        &env.url,
        "DELETE FROM events WHERE aggregate_id = 'client-a'",
    )
    .await;
    assert_eq!(deleted, 3);
    let run = env.run(&["verify", "--checkpoint", "cp.json"]);
    run.fails(EX_FAILURE, &["not intact"]);
    assert!(
        run.stdout
            .contains("ClientRecord/client-a sequence 3: client_removed"),
        "{run:#?}"
    );
    // And asked for by id, the removed client is a finding, not unknown.
    let run = env.run(&["verify", "--checkpoint", "cp.json", "--client", "client-a"]);
    run.fails(EX_FAILURE, &["not intact"]);
    assert!(run.stdout.contains("client_removed"), "{run:#?}");
}

async fn unreadable_rows_are_findings_not_crashes(env: &Env) {
    two_clients(&env.url).await;
    let changed = sql_both(
        &env.url,
        "UPDATE events SET hash = 'not-a-hash' WHERE aggregate_id = 'client-a' AND sequence = 3",
    )
    .await;
    assert_eq!(changed, 1);
    let changed = sql(
        &env.url,
        "UPDATE events SET payload = '{\"score\": 1.5}'::jsonb WHERE aggregate_id = 'client-b' AND sequence = 2",
        "UPDATE events SET payload = '{\"score\": 1.5}' WHERE aggregate_id = 'client-b' AND sequence = 2",
        &[],
    )
    .await;
    assert_eq!(changed, 1);
    if env.engine == "sqlite" {
        let changed = sql_both(
            &env.url,
            "UPDATE events SET metadata = '{not json' WHERE aggregate_id = 'client-a' AND sequence = 1",
        )
        .await;
        assert_eq!(changed, 1);
    }
    let mut expected = vec![
        "ClientRecord/client-a sequence 3: malformed_row",
        "ClientRecord/client-b sequence 2: unhashable",
    ];
    if env.engine == "sqlite" {
        expected.insert(0, "ClientRecord/client-a sequence 1: malformed_row");
    }
    let run = env.run(&["verify"]);
    run.fails(EX_FAILURE, &["not intact"]);
    let findings = run.finding_lines();
    assert_eq!(findings.len(), expected.len(), "{run:#?}");
    for (line, start) in findings.iter().zip(&expected) {
        assert!(line.starts_with(start), "{start:?} expected: {run:#?}");
    }
    assert!(
        run.summary().starts_with("verified 5 events of 2 clients"),
        "every row is still counted: {run:#?}"
    );

    let run = env.run(&["verify", "--json"]);
    run.fails(EX_FAILURE, &["not intact"]);
    let report = run.json();
    let kinds: Vec<String> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            format!(
                "{}/{} sequence {}: {}",
                f["aggregate_type"].as_str().expect("type"),
                f["aggregate_id"].as_str().expect("id"),
                f["sequence"],
                f["kind"].as_str().expect("kind"),
            )
        })
        .collect();
    assert_eq!(kinds, expected, "{report:#}");

    // No checkpoint vouches for unreadable rows.
    env.run(&["checkpoint"])
        .fails_quietly(EX_FAILURE, &["not intact"]);
}

// ---------------------------------------------------------------------------
// No database needed

#[test]
fn an_unreachable_database_is_one_line_and_exit_2_without_the_password() {
    let env = Env::sqlite();
    let unreachable = "postgres://u:secret@127.0.0.1:1/x";
    let commands: [&[&str]; 5] = [
        &["verify"],
        &["migrate"],
        &["checkpoint"],
        &["export", "--client", "client-a"],
        &["verify", "--client", "client-a", "--json"],
    ];
    for url in [unreachable, NO_DATABASE] {
        for command in commands {
            let mut args = vec!["--database-url", url];
            args.extend_from_slice(command);
            let run = env.run(&args);
            run.fails_quietly(EX_USAGE, &[]);
            assert!(!run.all().contains("secret"), "password leaked: {run:#?}");
        }
    }
    // From the environment too, and with debug logs on.
    let args = ["-vv", "verify"];
    let mut cmd = env.command(&args);
    cmd.env("DATABASE_URL", unreachable);
    let run = env.run_command(&args, &mut cmd);
    assert_eq!(run.code, Some(EX_USAGE), "{run:#?}");
    assert!(
        run.stderr
            .lines()
            .last()
            .is_some_and(|l| l.starts_with("kapchart: ")),
        "{run:#?}"
    );
    assert!(!run.all().contains("secret"), "password leaked: {run:#?}");
    assert!(!std::path::Path::new("/nonexistent/dir").exists());
}

/// `kapchart demo` fills an empty database through the real command path:
/// the result verifies, checkpoints and exports; a second run into the same
/// database is refused (exit 2) and writes nothing.
async fn demo_writes_a_sample_practice_that_verifies(env: &Env) {
    let run = env.run(&["demo", "--clients", "6", "--seed", "3"]).ok();
    assert!(
        run.stdout
            .starts_with("sample practice written: 6 clients,"),
        "{run:#?}"
    );
    assert_eq!(run.stdout.lines().count(), 1, "{run:#?}");
    let run = env.run(&["verify", "--json"]).ok();
    assert_eq!(run.json()["intact"], true);
    assert_eq!(run.json()["clients"], 6);
    let events = run.json()["events"].as_u64().expect("a count");
    assert!(events > 6 * 5, "{events} events for 6 clients");

    let again = env.run(&["demo", "--clients", "6", "--seed", "3"]);
    again.fails_quietly(EX_USAGE, &["already holds events"]);
    let run = env.run(&["verify", "--json"]).ok();
    assert_eq!(run.json()["events"].as_u64(), Some(events));

    let run = env.run(&["checkpoint"]).ok();
    assert_eq!(run.json()["checkpoint"]["statement"]["tree_size"], 6);
    // clap's usage errors (several lines, with a usage hint).
    for (args, flag) in [
        (&["demo", "--clients", "0"][..], "--clients"),
        (&["demo", "--start", "2025-02-30"], "--start"),
    ] {
        let run = env.run(args);
        assert_eq!(run.code, Some(EX_USAGE), "{run:#?}");
        assert!(run.stderr.contains(flag), "{run:#?}");
        assert!(!run.all().contains("panicked"), "{run:#?}");
    }
}
