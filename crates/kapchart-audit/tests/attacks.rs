//! Every tampering the audit contract must detect, and what each yields.

use kapchart_audit::{
    ChainVerifier, Entry, Finding, Hash, HeadLeaf, LogVerifier, StoredEntry, compare_heads,
};
use serde_json::json;

const TYPE: &str = "ClientRecord";

fn entry(id: &str, sequence: u64, prev_hash: Hash) -> Entry {
    Entry {
        aggregate_type: TYPE.to_owned(),
        aggregate_id: id.to_owned(),
        sequence,
        event_type: format!("Event{sequence}"),
        event_version: "1".to_owned(),
        payload: json!({"n": sequence, "note": format!("entry {sequence}")}),
        metadata: json!({
            "actor_id": "t-rivera",
            "actor_role": "therapist",
            "command_id": format!("cmd-{sequence}"),
            "recorded_at": format!("2026-01-{:02}T20:00:00Z", sequence % 28 + 1),
        }),
        prev_hash,
    }
}

/// A valid chain of `n` entries.
fn chain(id: &str, n: u64) -> Vec<StoredEntry> {
    let mut rows: Vec<StoredEntry> = Vec::new();
    for sequence in 1..=n {
        let prev = rows.last().map_or(Hash::ZERO, |r| r.hash);
        rows.push(entry(id, sequence, prev).seal().expect("seals"));
    }
    rows
}

fn reseal(row: &StoredEntry) -> StoredEntry {
    row.entry.clone().seal().expect("seals")
}

/// (sequence, code) of every finding of one aggregate's rows.
fn check(rows: &[StoredEntry]) -> Vec<(u64, &'static str)> {
    let mut verifier = ChainVerifier::new(TYPE, &rows[0].entry.aggregate_id);
    let mut findings: Vec<Finding> = rows.iter().flat_map(|r| verifier.push(r)).collect();
    findings.extend(verifier.finish().findings);
    codes(&findings)
}

fn codes(findings: &[Finding]) -> Vec<(u64, &'static str)> {
    findings
        .iter()
        .map(|f| (f.sequence, f.kind.code()))
        .collect()
}

fn head(rows: &[StoredEntry]) -> HeadLeaf {
    let last = rows.last().expect("rows");
    HeadLeaf {
        aggregate_type: TYPE.to_owned(),
        aggregate_id: last.entry.aggregate_id.clone(),
        sequence: last.entry.sequence,
        hash: last.hash,
    }
}

#[test]
fn an_untouched_chain_has_no_findings() {
    let rows = chain("c1", 6);
    assert_eq!(check(&rows), []);
    let mut verifier = ChainVerifier::new(TYPE, "c1").with_checkpointed_head(4, rows[3].hash);
    for row in &rows {
        assert!(verifier.push(row).is_empty());
    }
    let report = verifier.finish();
    assert_eq!(report.findings, []);
    assert_eq!(report.rows, 6);
    assert_eq!(report.head, Some(head(&rows)));
}

#[test]
fn edited_payload_is_a_hash_mismatch() {
    let mut rows = chain("c1", 5);
    rows[2].entry.payload["note"] = json!("changed");
    assert_eq!(check(&rows), [(3, "hash_mismatch")]);
}

#[test]
fn edited_metadata_is_a_hash_mismatch() {
    let mut rows = chain("c1", 5);
    rows[1].entry.metadata["recorded_at"] = json!("2025-12-31T20:00:00Z");
    assert_eq!(check(&rows), [(2, "hash_mismatch")]);
    let mut rows = chain("c1", 5);
    rows[4].entry.metadata["actor_id"] = json!("someone-else");
    assert_eq!(check(&rows), [(5, "hash_mismatch")]);
}

#[test]
fn edited_and_rehashed_entry_breaks_the_next_link() {
    let mut rows = chain("c1", 5);
    rows[2].entry.payload["note"] = json!("changed");
    rows[2] = reseal(&rows[2]);
    assert_eq!(check(&rows), [(4, "broken_link")]);
}

#[test]
fn edited_and_rehashed_head_shows_only_against_a_checkpoint() {
    let rows = chain("c1", 5);
    let checkpointed = vec![head(&rows)];
    let mut tampered = rows.clone();
    tampered[4].entry.payload["note"] = json!("changed");
    tampered[4] = reseal(&tampered[4]);
    assert_eq!(check(&tampered), []);
    assert_eq!(
        codes(&compare_heads(&checkpointed, &[head(&tampered)]).expect("compares")),
        [(5, "head_rewritten")]
    );
    let mut log = LogVerifier::with_checkpoint(&checkpointed).expect("leaves");
    let mut findings: Vec<Finding> = tampered
        .iter()
        .flat_map(|r| log.push(r).expect("grouped"))
        .collect();
    findings.extend(log.finish().findings);
    assert_eq!(codes(&findings), [(5, "head_rewritten")]);
}

#[test]
fn deleted_middle_event_is_a_gap_and_a_broken_link() {
    let mut rows = chain("c1", 5);
    rows.remove(2);
    assert_eq!(check(&rows), [(4, "sequence_gap"), (4, "broken_link")]);
}

#[test]
fn deleted_first_event_is_not_genesis() {
    let mut rows = chain("c1", 3);
    rows.remove(0);
    assert_eq!(check(&rows), [(2, "first_not_genesis")]);
}

#[test]
fn deleted_event_with_later_ones_renumbered() {
    let mut rows = chain("c1", 5);
    rows.remove(2);
    for row in &mut rows[2..] {
        row.entry.sequence -= 1;
    }
    // Renumbered rows no longer match their hashes; the link is broken.
    assert_eq!(
        check(&rows),
        [
            (3, "hash_mismatch"),
            (3, "broken_link"),
            (4, "hash_mismatch"),
        ]
    );
}

#[test]
fn inserted_forged_event_breaks_the_chain_after_it() {
    // Forged event with a recomputed hash, linked to entry 2, given the
    // number 3; the old entry 3 keeps its number (a duplicate).
    let rows = chain("c1", 4);
    let forged = entry("c1", 3, rows[1].hash).seal().expect("seals");
    let mut forged_entry = forged.entry.clone();
    forged_entry.payload = json!({"n": 3, "note": "forged"});
    let forged = forged_entry.seal().expect("seals");
    let mut tampered = rows.clone();
    tampered.insert(2, forged.clone());
    assert_eq!(
        check(&tampered),
        [(3, "sequence_not_increasing"), (3, "broken_link")]
    );

    // The same with the later entries renumbered (hashes not recomputed).
    let mut renumbered = rows.clone();
    for row in &mut renumbered[2..] {
        row.entry.sequence += 1;
    }
    renumbered.insert(2, forged);
    assert_eq!(
        check(&renumbered),
        [
            (4, "hash_mismatch"),
            (4, "broken_link"),
            (5, "hash_mismatch"),
        ]
    );
}

#[test]
fn reordered_events_break_sequence_and_links() {
    // Rows swapped in stored order.
    let mut rows = chain("c1", 5);
    rows.swap(1, 2);
    assert_eq!(
        check(&rows),
        [
            (3, "sequence_gap"),
            (3, "broken_link"),
            (2, "sequence_not_increasing"),
            (2, "broken_link"),
            (4, "sequence_gap"),
            (4, "broken_link"),
        ]
    );
    // Contents swapped under fixed sequence numbers.
    let mut rows = chain("c1", 5);
    let (a, b) = (rows[1].clone(), rows[2].clone());
    rows[1] = StoredEntry {
        entry: Entry {
            sequence: 2,
            ..b.entry
        },
        hash: b.hash,
    };
    rows[2] = StoredEntry {
        entry: Entry {
            sequence: 3,
            ..a.entry
        },
        hash: a.hash,
    };
    assert_eq!(
        check(&rows),
        [
            (2, "hash_mismatch"),
            (2, "broken_link"),
            (3, "hash_mismatch"),
            (3, "broken_link"),
            (4, "broken_link"),
        ]
    );
}

#[test]
fn renumbered_events_are_detected() {
    // One entry renumbered.
    let mut rows = chain("c1", 4);
    rows[1].entry.sequence = 7;
    assert_eq!(
        check(&rows),
        [
            (7, "hash_mismatch"),
            (7, "sequence_gap"),
            (3, "sequence_not_increasing"),
        ]
    );
    // Every entry renumbered from 2, hashes and links recomputed: only
    // the start gives it away.
    let mut rewritten: Vec<StoredEntry> = Vec::new();
    for row in chain("c1", 3) {
        let mut e = row.entry;
        e.sequence += 1;
        e.prev_hash = rewritten.last().map_or(Hash::ZERO, |r| r.hash);
        rewritten.push(e.seal().expect("seals"));
    }
    assert_eq!(check(&rewritten), [(2, "first_not_genesis")]);
}

#[test]
fn duplicated_event_is_not_increasing() {
    let mut rows = chain("c1", 3);
    rows.insert(2, rows[1].clone());
    assert_eq!(
        check(&rows),
        [(2, "sequence_not_increasing"), (2, "broken_link")]
    );
}

#[test]
fn truncated_tail_shows_only_against_a_checkpoint() {
    let rows = chain("c1", 6);
    let checkpointed = vec![head(&rows)];
    let truncated = &rows[..4];
    assert_eq!(check(truncated), []);
    assert_eq!(
        codes(&compare_heads(&checkpointed, &[head(truncated)]).expect("compares")),
        [(6, "truncated")]
    );
    let mut verifier = ChainVerifier::new(TYPE, "c1").with_checkpointed_head(6, rows[5].hash);
    for row in truncated {
        assert!(verifier.push(row).is_empty());
    }
    assert_eq!(codes(&verifier.finish().findings), [(6, "truncated")]);
}

#[test]
fn removed_client_shows_only_against_a_checkpoint() {
    let a = chain("a", 2);
    let b = chain("b", 3);
    let c = chain("c", 1);
    let checkpointed = vec![head(&a), head(&b), head(&c)];
    // Client b removed entirely.
    let current = vec![head(&a), head(&c)];
    assert_eq!(
        codes(&compare_heads(&checkpointed, &current).expect("compares")),
        [(3, "client_removed")]
    );
    let mut log = LogVerifier::with_checkpoint(&checkpointed).expect("leaves");
    for row in a.iter().chain(&c) {
        assert!(log.push(row).expect("grouped").is_empty());
    }
    let report = log.finish();
    assert_eq!(codes(&report.findings), [(3, "client_removed")]);
    assert_eq!(report.findings[0].aggregate_id, "b");
    assert_eq!(report.heads, current);
    assert_eq!((report.aggregates, report.rows), (2, 3));
}

#[test]
fn database_rolled_back_shows_against_a_checkpoint_kept_elsewhere() {
    // The old copy: a had 2 entries, b did not exist yet.
    let a_now = chain("a", 5);
    let b_now = chain("b", 2);
    let checkpoint_kept_elsewhere = vec![head(&a_now), head(&b_now)];
    let a_old = &a_now[..2];
    assert_eq!(
        codes(&compare_heads(&checkpoint_kept_elsewhere, &[head(a_old)]).expect("compares")),
        [(5, "truncated"), (2, "client_removed")]
    );

    // Rolled back, then written again past the checkpointed head: the
    // entry at the checkpointed sequence differs.
    let mut rewritten = a_old.to_vec();
    for sequence in 3..=7 {
        let prev = rewritten.last().map_or(Hash::ZERO, |r| r.hash);
        let mut e = entry("a", sequence, prev);
        e.payload["note"] = json!("written after the rollback");
        rewritten.push(e.seal().expect("seals"));
    }
    assert_eq!(check(&rewritten), []);
    // Heads alone cannot judge a chain that grew ...
    assert_eq!(
        codes(
            &compare_heads(&checkpoint_kept_elsewhere[..1], &[head(&rewritten)]).expect("compares")
        ),
        []
    );
    // ... streaming the chain against the checkpoint can.
    let mut log = LogVerifier::with_checkpoint(&checkpoint_kept_elsewhere).expect("leaves");
    let mut findings: Vec<Finding> = rewritten
        .iter()
        .flat_map(|r| log.push(r).expect("grouped"))
        .collect();
    findings.extend(log.finish().findings);
    assert_eq!(
        codes(&findings),
        [(5, "head_rewritten"), (2, "client_removed")]
    );
}

#[test]
fn unreadable_rows_are_reported_and_skip_one_link() {
    let rows = chain("c1", 4);
    let mut verifier = ChainVerifier::new(TYPE, "c1");
    let mut findings = verifier.push(&rows[0]);
    findings.extend(verifier.push_unreadable(2, "payload is not JSON"));
    findings.extend(verifier.push(&rows[2]));
    findings.extend(verifier.push(&rows[3]));
    assert_eq!(codes(&findings), [(2, "malformed_row")]);
    assert_eq!(verifier.head(), Some((4, rows[3].hash)));
}

#[test]
fn unhashable_and_foreign_rows_are_findings() {
    let mut rows = chain("c1", 2);
    rows[1].entry.payload = json!({"dose_mg": 1.5});
    assert_eq!(check(&rows), [(2, "unhashable")]);
    let other = chain("c2", 1);
    let mut verifier = ChainVerifier::new(TYPE, "c1");
    assert_eq!(
        codes(&verifier.push(&other[0])),
        [(1, "aggregate_mismatch")]
    );
}

#[test]
fn log_verifier_needs_rows_grouped_by_aggregate() {
    let a = chain("a", 2);
    let b = chain("b", 1);
    let mut log = LogVerifier::new();
    log.push(&a[0]).expect("first");
    log.push(&b[0]).expect("second aggregate");
    assert!(log.push(&a[1]).is_err());
}

#[test]
fn findings_serialize_with_their_kind_code() {
    let mut rows = chain("c1", 2);
    rows[1].entry.payload = json!({});
    let mut verifier = ChainVerifier::new(TYPE, "c1");
    verifier.push(&rows[0]);
    let finding = verifier.push(&rows[1]).remove(0);
    let json = serde_json::to_value(&finding).expect("serializes");
    assert_eq!(json["kind"], "hash_mismatch");
    assert_eq!(json["sequence"], 2);
    assert_eq!(json["aggregate_id"], "c1");
    assert_eq!(json["stored"], json!(rows[1].hash.to_hex()));
    let back: Finding = serde_json::from_value(json).expect("parses");
    assert_eq!(back, finding);
    assert!(
        finding
            .to_string()
            .starts_with("ClientRecord/c1 sequence 2: hash_mismatch")
    );
}
