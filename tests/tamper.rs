//! Tamper tests on the real stores: each attack of the audit contract
//! (docs/audit-format.md section 7, brief "Audit — the contract auditors
//! rely on") is carried out with plain SQL on a separate connection, as an
//! attacker with database access would, and `kapchart_store::audit::verify`
//! must name exactly the attacked aggregate and sequence with the expected
//! finding kinds, and nothing about the clients left alone.
//!
//! Every scenario runs on PostgreSQL and on SQLite (`postgres::*` and
//! `sqlite::*`).
//!
//! The practice: three clients treated through cqrs-es into the store.
//!
//! | client | explorations | events |
//! | --- | --- | --- |
//! | `client-a` | 3 | 12 |
//! | `client-b` | 3 | 12 (the one attacked) |
//! | `client-c` | 2 | 10 |
//!
//! `client-b`'s sequences: 1 registered, 2 intake, 3 medical evaluation,
//! 4 prescription, 5 consent, 6 preparation, 7 exploration x1, 8
//! integration i1, 9 x2, 10 i2, 11 x3, 12 i3 (the head).

use kapchart_audit::{Entry, FindingKind, Hash, StoredEntry, public_key_of};
use kapchart_domain::*;
use kapchart_e2e::*;
use kapchart_store::audit::{
    CheckpointFile, CheckpointProblem, VerifyOptions, VerifyReport, checkpoint, verify,
};
use kapchart_store::{CLIENT_RECORD, Database};
use kapchart_testkit::{Engine, TestDb};
use sqlx::Connection;

const A: &str = "client-a";
const B: &str = "client-b";
const C: &str = "client-c";
const D: &str = "client-d";

/// The practice's checkpoint key (any fixed 32 bytes).
const SECRET: [u8; 32] = [7; 32];
/// Another key: not the practice's.
const OTHER_SECRET: [u8; 32] = [9; 32];

// ---------------------------------------------------------------------------
// Set-up and helpers
// ---------------------------------------------------------------------------

/// Three clients, on days that never book the therapist twice:
/// a from day 0, b from day 1, c from day 4.
async fn practice(url: &str) -> StoredPractice {
    let p = StoredPractice::open(url).await;
    p.treat(A, 0, 3).await;
    p.treat(B, 1, 3).await;
    p.treat(C, 4, 2).await;
    p
}

/// A command with a caller-chosen id (so a reopened practice never reuses
/// an id a client has seen).
fn command_with_id(id: &str, actor: Actor, p: &StoredPractice, body: CommandBody) -> Command {
    Command::new(
        CommandId::parse(id).expect("valid command id"),
        actor,
        p.now(),
        body,
    )
}

async fn run_ok(p: &StoredPractice, client: &str, command: Command) {
    let name = command.body.name();
    if let Err(e) = p.run(client, command).await {
        panic!("{name} for {client} refused: {e}");
    }
}

fn phq9(score: i64) -> OutcomeMeasure {
    OutcomeMeasure::Phq9(Phq9Score::new(score).expect("valid score"))
}

/// One client's rows exactly as stored.
async fn stored(db: &Database, client: &str) -> Vec<StoredEntry> {
    db.repository(kapchart_store::system_clock())
        .events_of(CLIENT_RECORD, client, 0)
        .await
        .expect("rows load")
        .into_iter()
        .map(|e| e.stored)
        .collect()
}

async fn verify_with(db: &Database, options: &VerifyOptions) -> VerifyReport {
    verify(db, options, &|_| {}).await.expect("verify runs")
}

async fn verify_default(db: &Database) -> VerifyReport {
    verify_with(db, &VerifyOptions::default()).await
}

/// The practice's key, as the operator passes it to verify.
fn practice_key() -> VerifyOptions {
    VerifyOptions {
        public_key: Some(public_key_of(&SECRET)),
        ..VerifyOptions::default()
    }
}

/// Against a checkpoint file kept outside the database, under the
/// practice's key.
fn against(file: &CheckpointFile) -> VerifyOptions {
    VerifyOptions {
        checkpoint: Some(file.clone()),
        public_key: Some(public_key_of(&SECRET)),
        client: None,
    }
}

async fn take_checkpoint(db: &Database, issued_at: &str) -> CheckpointFile {
    checkpoint(db, &SECRET, issued_at)
        .await
        .unwrap_or_else(|e| panic!("checkpoint refused: {e}"))
}

fn describe(report: &VerifyReport) -> String {
    let mut out = String::new();
    for f in &report.findings {
        out.push_str(&format!("  finding: {f}\n"));
    }
    for p in &report.checkpoint_problems {
        out.push_str(&format!(
            "  checkpoint {} ({}): {}\n",
            p.number, p.source, p.problem
        ));
    }
    out
}

/// Asserts the findings are exactly `expected` (aggregate id, sequence,
/// kind code; any order), all of aggregate type `ClientRecord`, and that
/// there are no checkpoint problems.
#[track_caller]
fn assert_findings(report: &VerifyReport, expected: &[(&str, u64, &str)]) {
    for f in &report.findings {
        assert_eq!(f.aggregate_type, CLIENT_RECORD, "{f}");
    }
    let mut got: Vec<(String, u64, String)> = report
        .findings
        .iter()
        .map(|f| (f.aggregate_id.clone(), f.sequence, f.kind.code().to_owned()))
        .collect();
    got.sort();
    let mut want: Vec<(String, u64, String)> = expected
        .iter()
        .map(|(a, s, k)| ((*a).to_owned(), *s, (*k).to_owned()))
        .collect();
    want.sort();
    assert_eq!(
        got,
        want,
        "findings differ; the report:\n{}",
        describe(report)
    );
    assert!(
        report.checkpoint_problems.is_empty(),
        "unexpected checkpoint problems:\n{}",
        describe(report)
    );
    if !expected.is_empty() {
        assert!(!report.is_intact());
    }
}

/// Asserts only `client` is named by a finding.
#[track_caller]
fn assert_only(report: &VerifyReport, client: &str) {
    for f in &report.findings {
        assert_eq!(
            f.aggregate_id,
            client,
            "an untouched client is named:\n{}",
            describe(report)
        );
    }
}

#[track_caller]
fn assert_intact(report: &VerifyReport) {
    assert!(report.is_intact(), "not intact:\n{}", describe(report));
}

/// Checkpoint problems as (number, source), sorted.
fn problems(report: &VerifyReport) -> Vec<(u64, &'static str)> {
    let mut out: Vec<(u64, &'static str)> = report
        .checkpoint_problems
        .iter()
        .map(|p: &CheckpointProblem| (p.number, p.source))
        .collect();
    out.sort();
    out
}

/// Flips one bit of the hex digit at `index` (stays lowercase hex).
fn flip_hex(text: &str, index: usize) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    let digit = chars[index].to_digit(16).expect("hex digit");
    chars[index] = char::from_digit(digit ^ 1, 16).expect("hex digit");
    chars.into_iter().collect()
}

/// A forged row: `template`'s fields at `sequence`, linked to `prev_hash`,
/// with `payload` and `metadata` changed by the attacker, and its own hash
/// recomputed with the audit library, as a careful attacker would.
fn forge(
    template: &Entry,
    sequence: u64,
    prev_hash: Hash,
    edit: impl FnOnce(&mut Entry),
) -> StoredEntry {
    let mut entry = Entry {
        sequence,
        prev_hash,
        ..template.clone()
    };
    edit(&mut entry);
    entry.seal().expect("a forged entry hashes")
}

/// The attacker's dose: 300 mg instead of the 150 mg given.
fn forged_dose(entry: &mut Entry) {
    entry.payload["ExplorationRecorded"]["administration"]["dose"] = serde_json::json!(300);
    entry.metadata["command_id"] = serde_json::json!("forged-1");
}

/// The attacker: plain SQL on a connection of its own.
enum Sql {
    Pg(sqlx::PgPool),
    Lite(sqlx::SqlitePool),
}

impl Sql {
    async fn connect(url: &str) -> Self {
        if url.starts_with("postgres") {
            Sql::Pg(
                sqlx::postgres::PgPoolOptions::new()
                    .max_connections(1)
                    .connect(url)
                    .await
                    .expect("attacker connects"),
            )
        } else {
            Sql::Lite(
                sqlx::sqlite::SqlitePoolOptions::new()
                    .max_connections(1)
                    .connect(url)
                    .await
                    .expect("attacker connects"),
            )
        }
    }

    /// Runs `pg` on PostgreSQL or `lite` on SQLite; rows affected.
    async fn run(&self, pg: &str, lite: &str) -> u64 {
        match self {
            Sql::Pg(pool) => sqlx::query(pg)
                .execute(pool)
                .await
                .unwrap_or_else(|e| panic!("{pg}: {e}"))
                .rows_affected(),
            Sql::Lite(pool) => sqlx::query(lite)
                .execute(pool)
                .await
                .unwrap_or_else(|e| panic!("{lite}: {e}"))
                .rows_affected(),
        }
    }

    /// Runs the same SQL on either engine; rows affected.
    async fn both(&self, sql: &str) -> u64 {
        self.run(sql, sql).await
    }

    /// Moves `client`'s rows with sequence in `from..=to` by `by` (which
    /// may be negative), through a high detour so that the unique key on
    /// (aggregate, sequence), checked row by row, never collides.
    async fn shift(&self, client: &str, from: u64, to: u64, by: i64) {
        let n = to - from + 1;
        let up = self
            .both(&format!(
                "UPDATE events SET sequence = sequence + 100000 \
                 WHERE aggregate_id = '{client}' AND sequence BETWEEN {from} AND {to}"
            ))
            .await;
        assert_eq!(up, n);
        let back = self
            .both(&format!(
                "UPDATE events SET sequence = sequence - 100000 + ({by}) \
                 WHERE aggregate_id = '{client}' AND sequence > 100000"
            ))
            .await;
        assert_eq!(back, n);
    }

    /// Deletes `client`'s row at `sequence`.
    async fn delete(&self, client: &str, sequence: u64) {
        let n = self
            .both(&format!(
                "DELETE FROM events WHERE aggregate_id = '{client}' AND sequence = {sequence}"
            ))
            .await;
        assert_eq!(n, 1, "{client} has no row {sequence}");
    }

    /// Inserts a row with the given fields and hash.
    async fn insert(&self, row: &StoredEntry) {
        let e = &row.entry;
        let sequence = i64::try_from(e.sequence).expect("sequence fits");
        match self {
            Sql::Pg(pool) => sqlx::query(
                "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, \
                 event_version, payload, metadata, prev_hash, hash) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(&e.aggregate_type)
            .bind(&e.aggregate_id)
            .bind(sequence)
            .bind(&e.event_type)
            .bind(&e.event_version)
            .bind(&e.payload)
            .bind(&e.metadata)
            .bind(e.prev_hash.to_hex())
            .bind(row.hash.to_hex())
            .execute(pool)
            .await
            .map(|_| ()),
            Sql::Lite(pool) => sqlx::query(
                "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, \
                 event_version, payload, metadata, prev_hash, hash) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )
            .bind(&e.aggregate_type)
            .bind(&e.aggregate_id)
            .bind(sequence)
            .bind(&e.event_type)
            .bind(&e.event_version)
            .bind(e.payload.to_string())
            .bind(e.metadata.to_string())
            .bind(e.prev_hash.to_hex())
            .bind(row.hash.to_hex())
            .execute(pool)
            .await
            .map(|_| ()),
        }
        .expect("forged row inserted");
    }

    /// A checkpoint's stored signature.
    async fn signature(&self, number: u64) -> String {
        let n = i64::try_from(number).expect("fits");
        let (sig,): (String,) = match self {
            Sql::Pg(pool) => {
                sqlx::query_as("SELECT signature FROM checkpoints WHERE number = $1")
                    .bind(n)
                    .fetch_one(pool)
                    .await
            }
            Sql::Lite(pool) => {
                sqlx::query_as("SELECT signature FROM checkpoints WHERE number = ?1")
                    .bind(n)
                    .fetch_one(pool)
                    .await
            }
        }
        .expect("checkpoint row");
        sig
    }

    async fn close(self) {
        match self {
            Sql::Pg(pool) => pool.close().await,
            Sql::Lite(pool) => pool.close().await,
        }
    }
}

// ---------------------------------------------------------------------------
// Baseline
// ---------------------------------------------------------------------------

async fn untouched_store_is_intact(db: &TestDb) {
    let p = practice(&db.url).await;
    let report = verify_default(&p.db).await;
    assert_intact(&report);
    assert_eq!(report.rows, 34);
    assert_eq!(report.aggregates, 3);
    assert_eq!(report.checkpoints, 0);

    // With checkpoints, in the log and as a file, under the practice's key.
    let c1 = take_checkpoint(&p.db, "2026-03-01T21:00:00Z").await;
    assert_eq!(c1.number, 1);
    assert_eq!(c1.heads.len(), 3);
    let report = verify_with(&p.db, &practice_key()).await;
    assert_intact(&report);
    assert_eq!(report.checkpoints, 1);
    assert_intact(&verify_with(&p.db, &against(&c1)).await);

    // The chain is what the table says: sequences 1..=12 for client-b.
    let rows = stored(&p.db, B).await;
    let sequences: Vec<u64> = rows.iter().map(|r| r.entry.sequence).collect();
    assert_eq!(sequences, (1..=12).collect::<Vec<u64>>());
    assert_eq!(rows[6].entry.event_type, "ExplorationRecorded");
    assert_eq!(
        rows[6].entry.payload["ExplorationRecorded"]["administration"]["dose"],
        150
    );
    p.db.close().await;
}

// ---------------------------------------------------------------------------
// Attacks on the chains themselves
// ---------------------------------------------------------------------------

/// 150 mg becomes 300 mg in client-b's first exploration (sequence 7), the
/// stored hash left as it was.
async fn edited_payload(db: &TestDb) {
    let p = practice(&db.url).await;
    let sql = Sql::connect(&db.url).await;
    let n = sql
        .run(
            "UPDATE events SET payload = jsonb_set(payload::jsonb, \
             '{ExplorationRecorded,administration,dose}', '300'::jsonb) \
             WHERE aggregate_id = 'client-b' AND sequence = 7",
            "UPDATE events SET payload = json_set(payload, \
             '$.ExplorationRecorded.administration.dose', 300) \
             WHERE aggregate_id = 'client-b' AND sequence = 7",
        )
        .await;
    assert_eq!(n, 1);
    let rows = stored(&p.db, B).await;
    assert_eq!(
        rows[6].entry.payload["ExplorationRecorded"]["administration"]["dose"], 300,
        "the attack changed the dose"
    );

    let report = verify_default(&p.db).await;
    assert_findings(&report, &[(B, 7, "hash_mismatch")]);
    assert_only(&report, B);
    sql.close().await;
    p.db.close().await;
}

/// client-b's first exploration is back-dated by a day: `recorded_at` is
/// inside what is hashed.
async fn edited_metadata(db: &TestDb) {
    let p = practice(&db.url).await;
    let before = stored(&p.db, B).await[6].entry.metadata["recorded_at"].clone();
    assert_eq!(before, "2026-01-13T20:00:00.000000Z");
    let sql = Sql::connect(&db.url).await;
    let n = sql
        .run(
            "UPDATE events SET metadata = jsonb_set(metadata::jsonb, '{recorded_at}', \
             '\"2026-01-12T20:00:00.000000Z\"'::jsonb) \
             WHERE aggregate_id = 'client-b' AND sequence = 7",
            "UPDATE events SET metadata = json_set(metadata, '$.recorded_at', \
             '2026-01-12T20:00:00.000000Z') \
             WHERE aggregate_id = 'client-b' AND sequence = 7",
        )
        .await;
    assert_eq!(n, 1);
    assert_eq!(
        stored(&p.db, B).await[6].entry.metadata["recorded_at"],
        "2026-01-12T20:00:00.000000Z"
    );

    let report = verify_default(&p.db).await;
    assert_findings(&report, &[(B, 7, "hash_mismatch")]);
    assert_only(&report, B);
    sql.close().await;
    p.db.close().await;
}

/// client-b's exploration 7 is deleted: the row after it reports both the
/// jump in sequence and the link to a hash no longer there.
async fn deleted_middle_event(db: &TestDb) {
    let p = practice(&db.url).await;
    let sql = Sql::connect(&db.url).await;
    sql.delete(B, 7).await;

    let report = verify_default(&p.db).await;
    assert_findings(&report, &[(B, 8, "sequence_gap"), (B, 8, "broken_link")]);
    assert_only(&report, B);
    let gap = report
        .findings
        .iter()
        .find(|f| f.kind.code() == "sequence_gap")
        .expect("a gap");
    assert_eq!(gap.kind, FindingKind::SequenceGap { expected: 7 });
    sql.close().await;
    p.db.close().await;
}

/// The registration (sequence 1) is deleted: the chain no longer starts at
/// genesis.
async fn deleted_first_event(db: &TestDb) {
    let p = practice(&db.url).await;
    let sql = Sql::connect(&db.url).await;
    sql.delete(B, 1).await;

    let report = verify_default(&p.db).await;
    assert_findings(&report, &[(B, 2, "first_not_genesis")]);
    assert_only(&report, B);
    sql.close().await;
    p.db.close().await;
}

/// Event 7 is deleted and the gap closed (8..=12 renumbered to 7..=11):
/// the sequence is contiguous again, but every renumbered row's hash
/// covers its old number, and the new 7 links to the deleted event.
async fn deleted_event_with_gap_closed(db: &TestDb) {
    let p = practice(&db.url).await;
    let sql = Sql::connect(&db.url).await;
    sql.delete(B, 7).await;
    sql.shift(B, 8, 12, -1).await;

    let report = verify_default(&p.db).await;
    assert_findings(
        &report,
        &[
            (B, 7, "hash_mismatch"),
            (B, 7, "broken_link"),
            (B, 8, "hash_mismatch"),
            (B, 9, "hash_mismatch"),
            (B, 10, "hash_mismatch"),
            (B, 11, "hash_mismatch"),
        ],
    );
    assert_only(&report, B);
    sql.close().await;
    p.db.close().await;
}

/// A forged exploration (300 mg) is slipped in as client-b's sequence 7:
/// the real 7..=12 are renumbered 8..=13, and the forged row carries its
/// own correctly recomputed hash and links to the real 6. The forged row
/// itself passes; the real event after it no longer links to its
/// predecessor (`broken_link` at 8), and every renumbered row's stored hash
/// covers its old sequence (`hash_mismatch` at 8..=13).
async fn forged_event_inserted_in_the_middle(db: &TestDb) {
    let p = practice(&db.url).await;
    let rows = stored(&p.db, B).await;
    let sql = Sql::connect(&db.url).await;
    sql.shift(B, 7, 12, 1).await;
    let forged = forge(&rows[6].entry, 7, rows[5].hash, forged_dose);
    sql.insert(&forged).await;

    let report = verify_default(&p.db).await;
    let mut expected = vec![(B, 8, "broken_link")];
    expected.extend((8..=13).map(|s| (B, s, "hash_mismatch")));
    assert_findings(&report, &expected);
    assert_only(&report, B);
    sql.close().await;
    p.db.close().await;
}

/// The same forgery by an attacker who also rewrites the whole tail after
/// it (each later row renumbered, relinked and rehashed): the chain is
/// consistent again, and nothing in the rows can tell it from the truth.
/// It shows against the checkpoint taken before: the entry at client-b's
/// checkpointed head (12) has another hash now (`head_rewritten` at 12).
async fn forged_event_inserted_with_the_tail_rehashed(db: &TestDb) {
    let p = practice(&db.url).await;
    let c1 = take_checkpoint(&p.db, "2026-03-01T21:00:00Z").await;
    let rows = stored(&p.db, B).await;
    let sql = Sql::connect(&db.url).await;
    let n = sql
        .both("DELETE FROM events WHERE aggregate_id = 'client-b' AND sequence >= 7")
        .await;
    assert_eq!(n, 6);
    let forged = forge(&rows[6].entry, 7, rows[5].hash, forged_dose);
    let mut prev = forged.hash;
    sql.insert(&forged).await;
    for (i, real) in rows[6..].iter().enumerate() {
        let rewritten = forge(&real.entry, 8 + i as u64, prev, |_| {});
        prev = rewritten.hash;
        sql.insert(&rewritten).await;
    }

    // The rows alone form a consistent chain 1..=13: the only finding,
    // against the checkpoint in the log and against the same checkpoint
    // kept as a file, is the changed head.
    let report = verify_default(&p.db).await;
    assert_findings(&report, &[(B, 12, "head_rewritten")]);
    let report = verify_with(&p.db, &against(&c1)).await;
    assert_findings(&report, &[(B, 12, "head_rewritten")]);
    assert_only(&report, B);
    sql.close().await;
    p.db.close().await;
}

/// A forged event appended after client-b's head (13, linked to the real
/// 12, its own hash recomputed).
///
/// Not detectable, by design: the chain proves that stored events were not
/// changed, removed or reordered, not who wrote them. A correctly linked
/// new head is exactly what a legitimate new event looks like, and a
/// checkpoint taken before it only vouches for the chain up to the head it
/// covered (12, unchanged), so the log stays intact. Who may append is the
/// job of access control and of the access log; once a later checkpoint
/// covers the forged row, its removal or rewrite would be detected.
///
/// A forger who does not link the row to the real head (here: to 11, as a
/// fork) is detected: `broken_link` at 13.
async fn forged_event_appended_at_the_end(db: &TestDb) {
    let p = practice(&db.url).await;
    let c1 = take_checkpoint(&p.db, "2026-03-01T21:00:00Z").await;
    let rows = stored(&p.db, B).await;
    let sql = Sql::connect(&db.url).await;

    let forged = forge(&rows[6].entry, 13, rows[11].hash, forged_dose);
    sql.insert(&forged).await;
    let report = verify_default(&p.db).await;
    assert_intact(&report);
    assert_eq!(report.rows, 35);
    assert_intact(&verify_with(&p.db, &against(&c1)).await);

    // Linked to the wrong predecessor.
    sql.delete(B, 13).await;
    let fork = forge(&rows[6].entry, 13, rows[10].hash, forged_dose);
    sql.insert(&fork).await;
    let report = verify_with(&p.db, &against(&c1)).await;
    assert_findings(&report, &[(B, 13, "broken_link")]);
    assert_only(&report, B);
    sql.close().await;
    p.db.close().await;
}

/// The checkpointed head itself (12) is replaced by a forged event, linked
/// to the real 11 with its own hash recomputed: a consistent chain, caught
/// against the checkpoint (`head_rewritten` at 12).
async fn forged_event_replacing_the_checkpointed_head(db: &TestDb) {
    let p = practice(&db.url).await;
    let c1 = take_checkpoint(&p.db, "2026-03-01T21:00:00Z").await;
    let rows = stored(&p.db, B).await;
    let sql = Sql::connect(&db.url).await;
    sql.delete(B, 12).await;
    let forged = forge(&rows[11].entry, 12, rows[10].hash, |e| {
        e.metadata["recorded_at"] = serde_json::json!("2026-01-24T19:00:00.000000Z");
    });
    sql.insert(&forged).await;

    let report = verify_default(&p.db).await;
    assert_findings(&report, &[(B, 12, "head_rewritten")]);
    let report = verify_with(&p.db, &against(&c1)).await;
    assert_findings(&report, &[(B, 12, "head_rewritten")]);
    assert_only(&report, B);
    sql.close().await;
    p.db.close().await;
}

/// Events 7 and 8 swap sequence numbers: each moved row's hash covers its
/// old number and its link points elsewhere, and 9 links to the event that
/// is no longer before it.
async fn reordered_events(db: &TestDb) {
    let p = practice(&db.url).await;
    let sql = Sql::connect(&db.url).await;
    sql.shift(B, 7, 7, 1000).await;
    sql.shift(B, 8, 8, -1).await;
    sql.shift(B, 1007, 1007, -999).await;
    let rows = stored(&p.db, B).await;
    assert_eq!(rows[6].entry.event_type, "IntegrationRecorded");
    assert_eq!(rows[7].entry.event_type, "ExplorationRecorded");

    let report = verify_default(&p.db).await;
    assert_findings(
        &report,
        &[
            (B, 7, "hash_mismatch"),
            (B, 7, "broken_link"),
            (B, 8, "hash_mismatch"),
            (B, 8, "broken_link"),
            (B, 9, "broken_link"),
        ],
    );
    assert_only(&report, B);
    sql.close().await;
    p.db.close().await;
}

/// client-b's events 7..=12 are renumbered 8..=13: a gap where 7 was, and
/// every renumbered row's hash covers its old number.
async fn renumbered_tail(db: &TestDb) {
    let p = practice(&db.url).await;
    let sql = Sql::connect(&db.url).await;
    sql.shift(B, 7, 12, 1).await;

    let report = verify_default(&p.db).await;
    let mut expected = vec![(B, 8, "sequence_gap")];
    expected.extend((8..=13).map(|s| (B, s, "hash_mismatch")));
    assert_findings(&report, &expected);
    assert_only(&report, B);
    sql.close().await;
    p.db.close().await;
}

/// The whole of client-b's chain is renumbered 2..=13: it no longer starts
/// at sequence 1, and every hash covers the old number.
async fn renumbered_whole_chain(db: &TestDb) {
    let p = practice(&db.url).await;
    let sql = Sql::connect(&db.url).await;
    sql.shift(B, 1, 12, 1).await;

    let report = verify_default(&p.db).await;
    let mut expected = vec![(B, 2, "first_not_genesis")];
    expected.extend((2..=13).map(|s| (B, s, "hash_mismatch")));
    assert_findings(&report, &expected);
    assert_only(&report, B);
    sql.close().await;
    p.db.close().await;
}

// ---------------------------------------------------------------------------
// Attacks visible only against a checkpoint
// ---------------------------------------------------------------------------

/// client-b's last two events (11, 12) are deleted after a checkpoint. The
/// rest of the chain is intact; against the checkpoint the chain ends
/// before its checkpointed head (`truncated` at 12, now ending at 10) —
/// with the checkpoint from the log, and with the checkpoint kept as a file
/// after the attacker also emptied the checkpoint log (without the file,
/// nothing shows: why checkpoints are kept elsewhere too).
async fn truncated_tail(db: &TestDb) {
    let p = practice(&db.url).await;
    let c1 = take_checkpoint(&p.db, "2026-03-01T21:00:00Z").await;
    let sql = Sql::connect(&db.url).await;
    let n = sql
        .both("DELETE FROM events WHERE aggregate_id = 'client-b' AND sequence > 10")
        .await;
    assert_eq!(n, 2);

    let report = verify_default(&p.db).await;
    assert_findings(&report, &[(B, 12, "truncated")]);
    assert_only(&report, B);
    assert_eq!(report.findings[0].kind.clone(), truncated_kind(10, &c1, B));

    // The attacker also deletes the checkpoint log.
    let n = sql.both("DELETE FROM checkpoints").await;
    assert_eq!(n, 1);
    let blind = verify_with(&p.db, &practice_key()).await;
    assert_intact(&blind);
    assert_eq!(blind.checkpoints, 0);

    let report = verify_with(&p.db, &against(&c1)).await;
    assert_findings(&report, &[(B, 12, "truncated")]);
    assert_only(&report, B);
    sql.close().await;
    p.db.close().await;
}

/// Every row of client-b is deleted after a checkpoint: `client_removed`
/// at its checkpointed head (12), from the log's checkpoint and from the
/// file.
async fn removed_client(db: &TestDb) {
    let p = practice(&db.url).await;
    let c1 = take_checkpoint(&p.db, "2026-03-01T21:00:00Z").await;
    let sql = Sql::connect(&db.url).await;
    let n = sql
        .both("DELETE FROM events WHERE aggregate_id = 'client-b'")
        .await;
    assert_eq!(n, 12);

    let report = verify_default(&p.db).await;
    assert_findings(&report, &[(B, 12, "client_removed")]);
    assert_only(&report, B);
    assert_eq!(report.aggregates, 2);

    let n = sql.both("DELETE FROM checkpoints").await;
    assert_eq!(n, 1);
    let report = verify_with(&p.db, &against(&c1)).await;
    assert_findings(&report, &[(B, 12, "client_removed")]);
    sql.close().await;
    p.db.close().await;
}

/// A copy of the database: its URL, and for PostgreSQL what to drop.
struct DbCopy {
    url: String,
    drop: Option<(String, String)>,
}

impl DbCopy {
    async fn remove(self) {
        if let Some((server, name)) = self.drop {
            let mut conn = sqlx::PgConnection::connect(&server)
                .await
                .expect("server connects");
            sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .execute(&mut conn)
                .await
                .expect("copy dropped");
            conn.close().await.expect("closes");
        }
    }
}

/// Replaces the database name of a PostgreSQL URL.
fn pg_url_with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

/// Copies the database while nobody writes to it (every pool on it is
/// closed): PostgreSQL `CREATE DATABASE .. TEMPLATE`, SQLite `VACUUM INTO`
/// a file next to it.
async fn copy_database(db: &TestDb) -> DbCopy {
    match db.engine {
        Engine::Postgres => {
            static COPIES: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
            let original = db
                .url
                .rsplit('/')
                .next()
                .and_then(|s| s.split('?').next())
                .expect("a database name")
                .to_owned();
            // Named like the testkit's databases, so that a copy left by a
            // crashed run is swept by the next one.
            let n = COPIES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let name = format!("kapchart_t_{}_copy{n}", std::process::id());
            let server = pg_url_with_database(&db.url, "postgres");
            let mut conn = sqlx::PgConnection::connect(&server)
                .await
                .expect("server connects");
            sqlx::query(&format!(
                "CREATE DATABASE \"{name}\" TEMPLATE \"{original}\""
            ))
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("copy of {original}: {e}"));
            conn.close().await.expect("closes");
            DbCopy {
                url: pg_url_with_database(&db.url, &name),
                drop: Some((server, name)),
            }
        }
        Engine::Sqlite => {
            let path = std::path::PathBuf::from(
                db.url
                    .strip_prefix("sqlite://")
                    .expect("a sqlite:// test URL"),
            );
            let copy = path.with_file_name("older-copy.db");
            let sql = Sql::connect(&db.url).await;
            let literal = copy.display().to_string().replace('\'', "''");
            sql.both(&format!("VACUUM INTO '{literal}'")).await;
            sql.close().await;
            DbCopy {
                url: format!("sqlite://{}", copy.display()),
                drop: None,
            }
        }
    }
}

/// The database is restored from an older copy. Checkpoint C1 is taken and
/// the database copied; the practice goes on (client-b gets events 13 and
/// 14, client-c 11, a new client-d 1..=6) and checkpoint C2 is taken and
/// kept outside the database. Then the old copy is "restored".
///
/// The copy is self-consistent (its own log ends at C1), so only C2's file
/// shows the rollback: client-b `truncated` at 14, client-c `truncated` at
/// 11, client-d `client_removed` at 6; client-a, unchanged since C1, is
/// not named. When the restored database is then written again, the heads
/// C2 vouched for are overwritten: `head_rewritten` at client-b 14 and
/// client-c 11.
async fn restored_older_copy(db: &TestDb) {
    let p = practice(&db.url).await;
    let c1 = take_checkpoint(&p.db, "2026-03-01T21:00:00Z").await;
    p.db.close().await;
    drop(p);
    let copy = copy_database(db).await;

    // The practice goes on in the original.
    let p = StoredPractice::open(&db.url).await;
    p.treat(D, 5, 0).await;
    p.on(30);
    let late = [
        (B, "late-b-1", therapist(), outcome(phq9(9), date(30))),
        (
            B,
            "late-b-2",
            front_desk(),
            payment("pay-b-1", 15000, date(30)),
        ),
        (C, "late-c-1", therapist(), outcome(phq9(7), date(30))),
    ];
    for (client, id, actor, body) in late {
        let command = command_with_id(id, actor, &p, body);
        run_ok(&p, client, command).await;
    }
    let c2 = take_checkpoint(&p.db, "2026-03-02T21:00:00Z").await;
    assert_eq!(c2.number, 2);
    let heads: Vec<(&str, u64)> = c2
        .heads
        .iter()
        .map(|h| (h.aggregate_id.as_str(), h.sequence))
        .collect();
    assert_eq!(heads, [(A, 12), (B, 14), (C, 11), (D, 6)]);
    p.db.close().await;
    drop(p);

    // The older copy is restored.
    let restored = Database::open(&copy.url).await.expect("copy opens");
    let alone = verify_with(&restored, &practice_key()).await;
    assert_intact(&alone);
    assert_eq!(alone.checkpoints, 1);
    assert_intact(&verify_with(&restored, &against(&c1)).await);

    let report = verify_with(&restored, &against(&c2)).await;
    assert_findings(
        &report,
        &[
            (B, 14, "truncated"),
            (C, 11, "truncated"),
            (D, 6, "client_removed"),
        ],
    );
    assert_eq!(
        report
            .findings
            .iter()
            .find(|f| f.aggregate_id == B)
            .map(|f| f.kind.clone()),
        Some(truncated_kind(12, &c2, B))
    );
    restored.close().await;

    // The restored database is written again: new events take the
    // sequence numbers C2 vouched for, with other contents.
    let p = StoredPractice::open(&copy.url).await;
    p.on(31);
    let again = [
        (B, "redo-b-1", therapist(), outcome(phq9(11), date(31))),
        (B, "redo-b-2", therapist(), outcome(phq9(10), date(31))),
        (
            C,
            "redo-c-1",
            front_desk(),
            payment("pay-c-1", 9000, date(31)),
        ),
    ];
    for (client, id, actor, body) in again {
        let command = command_with_id(id, actor, &p, body);
        run_ok(&p, client, command).await;
    }
    let report = verify_with(&p.db, &against(&c2)).await;
    assert_findings(
        &report,
        &[
            (B, 14, "head_rewritten"),
            (C, 11, "head_rewritten"),
            (D, 6, "client_removed"),
        ],
    );
    p.db.close().await;
    drop(p);
    copy.remove().await;
}

// ---------------------------------------------------------------------------
// Bad signatures
// ---------------------------------------------------------------------------

/// One hex digit of checkpoint 1's signature is changed in the checkpoint
/// log (checkpoint 2 intact): a problem naming checkpoint 1, and nothing
/// else — its statement, which checkpoint 2 links to, is unchanged.
async fn bad_signature_in_the_log(db: &TestDb) {
    let p = practice(&db.url).await;
    take_checkpoint(&p.db, "2026-03-01T21:00:00Z").await;
    p.on(30);
    let command = command_with_id("late-b-1", therapist(), &p, outcome(phq9(9), date(30)));
    run_ok(&p, B, command).await;
    take_checkpoint(&p.db, "2026-03-02T21:00:00Z").await;
    assert_intact(&verify_with(&p.db, &practice_key()).await);

    let sql = Sql::connect(&db.url).await;
    let signature = sql.signature(1).await;
    let bad = flip_hex(&signature, 5);
    assert_ne!(bad, signature);
    let n = sql
        .both(&format!(
            "UPDATE checkpoints SET signature = '{bad}' WHERE number = 1"
        ))
        .await;
    assert_eq!(n, 1);

    for options in [VerifyOptions::default(), practice_key()] {
        let report = verify_with(&p.db, &options).await;
        assert!(!report.is_intact());
        assert!(report.findings.is_empty(), "{}", describe(&report));
        assert_eq!(problems(&report), [(1, "log")], "{}", describe(&report));
        assert!(
            report.checkpoint_problems[0].problem.contains("signature"),
            "{}",
            describe(&report)
        );
    }
    sql.close().await;
    p.db.close().await;
}

/// A checkpoint file with one signature bit flipped; the good file
/// verified under another key than the practice's; and a file whose
/// public key was replaced by another: each is a problem naming
/// checkpoint number 1. The log's own checkpoint 1 is intact; a file that
/// no longer matches it is reported against the log too.
async fn bad_signature_in_a_file(db: &TestDb) {
    let p = practice(&db.url).await;
    let c1 = take_checkpoint(&p.db, "2026-03-01T21:00:00Z").await;

    // One bit of the signature flipped.
    let mut flipped = c1.clone();
    flipped.checkpoint.signature = flip_hex(&c1.checkpoint.signature, 10);
    let report = verify_with(&p.db, &against(&flipped)).await;
    assert!(!report.is_intact());
    assert!(report.findings.is_empty(), "{}", describe(&report));
    assert_eq!(
        problems(&report),
        [(1, "file"), (1, "log")],
        "{}",
        describe(&report)
    );
    let file_problem = report
        .checkpoint_problems
        .iter()
        .find(|p| p.source == "file")
        .expect("a file problem");
    assert!(
        file_problem.problem.contains("signature"),
        "{file_problem:?}"
    );

    // The good file, under another key than the practice's.
    let other = VerifyOptions {
        checkpoint: Some(c1.clone()),
        public_key: Some(public_key_of(&OTHER_SECRET)),
        client: None,
    };
    let report = verify_with(&p.db, &other).await;
    assert!(!report.is_intact());
    assert!(report.findings.is_empty(), "{}", describe(&report));
    // The file and the log's checkpoint 1 are each signed with a key other
    // than the trusted one (their signatures verify under their own key).
    for source in ["file", "log"] {
        assert!(
            report
                .checkpoint_problems
                .iter()
                .any(|p| p.source == source
                    && p.problem.contains("other than the trusted public key")),
            "{}",
            describe(&report)
        );
    }
    assert_eq!(
        problems(&report),
        [(1, "file"), (1, "log")],
        "{}",
        describe(&report)
    );

    // Once the attacker has also removed the log, only the file speaks.
    let sql = Sql::connect(&db.url).await;
    assert_eq!(sql.both("DELETE FROM checkpoints").await, 1);
    let report = verify_with(&p.db, &against(&flipped)).await;
    assert!(!report.is_intact());
    assert!(report.findings.is_empty(), "{}", describe(&report));
    assert_eq!(problems(&report), [(1, "file")], "{}", describe(&report));

    // A file that names another public key (no key given by the operator):
    // the signature does not verify under it.
    let mut rekeyed = c1.clone();
    rekeyed.public_key = public_key_of(&OTHER_SECRET)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let report = verify_with(
        &p.db,
        &VerifyOptions {
            checkpoint: Some(rekeyed),
            ..VerifyOptions::default()
        },
    )
    .await;
    assert!(!report.is_intact());
    assert!(report.findings.is_empty(), "{}", describe(&report));
    assert_eq!(problems(&report), [(1, "file")], "{}", describe(&report));
    assert!(
        report.checkpoint_problems[0].problem.contains("signature"),
        "{}",
        describe(&report)
    );
    sql.close().await;
    p.db.close().await;
}

/// Checkpoint 2 of three is deleted from the log: checkpoint 3 now follows
/// 1, so its number and its `previous` are wrong — problems naming 3.
async fn checkpoint_dropped_from_the_log(db: &TestDb) {
    let p = practice(&db.url).await;
    take_checkpoint(&p.db, "2026-03-01T21:00:00Z").await;
    for (i, day) in [(1, 30), (2, 31)] {
        p.on(day);
        let command = command_with_id(
            &format!("late-b-{i}"),
            therapist(),
            &p,
            outcome(phq9(9), date(day)),
        );
        run_ok(&p, B, command).await;
        take_checkpoint(&p.db, &format!("2026-03-0{}T21:00:00Z", i + 1)).await;
    }
    let sql = Sql::connect(&db.url).await;
    assert_eq!(
        sql.both("DELETE FROM checkpoints WHERE number = 2").await,
        1
    );
    let report = verify_with(&p.db, &practice_key()).await;
    assert!(!report.is_intact());
    assert!(report.findings.is_empty(), "{}", describe(&report));
    assert_eq!(
        problems(&report),
        [(3, "log"), (3, "log")],
        "{}",
        describe(&report)
    );
    let texts: Vec<&str> = report
        .checkpoint_problems
        .iter()
        .map(|p| p.problem.as_str())
        .collect();
    assert!(
        texts
            .iter()
            .any(|t| t.contains("expected checkpoint number 2")),
        "{texts:?}"
    );
    assert!(texts.iter().any(|t| t.contains("previous")), "{texts:?}");
    sql.close().await;
    p.db.close().await;
}

/// The `truncated` finding expected for `client`: the chain now ends at
/// `current_sequence`, before its head in `file`.
fn truncated_kind(current_sequence: u64, file: &CheckpointFile, client: &str) -> FindingKind {
    let head = file
        .heads
        .iter()
        .find(|h| h.aggregate_id == client)
        .expect("client in the checkpoint");
    FindingKind::Truncated {
        current_sequence,
        checkpointed_hash: head.hash,
    }
}

/// Generates one `#[tokio::test]` per engine for each scenario:
/// `postgres::<scenario>` and `sqlite::<scenario>`.
macro_rules! on_both_engines {
    ($($scenario:ident),+ $(,)?) => {
        mod postgres {
            $(
                #[tokio::test]
                async fn $scenario() {
                    let db = kapchart_testkit::postgres().await;
                    super::$scenario(&db).await;
                    db.cleanup().await;
                }
            )+
        }
        mod sqlite {
            $(
                #[tokio::test]
                async fn $scenario() {
                    let db = kapchart_testkit::sqlite();
                    super::$scenario(&db).await;
                    db.cleanup().await;
                }
            )+
        }
    };
}

on_both_engines!(
    untouched_store_is_intact,
    edited_payload,
    edited_metadata,
    deleted_middle_event,
    deleted_first_event,
    deleted_event_with_gap_closed,
    forged_event_inserted_in_the_middle,
    forged_event_inserted_with_the_tail_rehashed,
    forged_event_appended_at_the_end,
    forged_event_replacing_the_checkpointed_head,
    reordered_events,
    renumbered_tail,
    renumbered_whole_chain,
    truncated_tail,
    removed_client,
    restored_older_copy,
    bad_signature_in_the_log,
    bad_signature_in_a_file,
    checkpoint_dropped_from_the_log,
);
