//! Export bundles: built, verified, and every tampering rejected with its
//! own error.

use kapchart_audit::{
    Bundle, BundleError, Entry, FindingKind, Hash, HeadLeaf, ProofError, SignedCheckpoint,
    Statement, StoredEntry, build_bundle, heads_root, public_key_of, sort_heads, verify_bundle,
};
use serde_json::json;

const SECRET: [u8; 32] = [42; 32];
const OTHER_SECRET: [u8; 32] = [43; 32];

fn chain(id: &str, n: u64) -> Vec<StoredEntry> {
    let mut rows: Vec<StoredEntry> = Vec::new();
    for sequence in 1..=n {
        let prev_hash = rows.last().map_or(Hash::ZERO, |r| r.hash);
        let entry = Entry {
            aggregate_type: "ClientRecord".to_owned(),
            aggregate_id: id.to_owned(),
            sequence,
            event_type: "NoteRecorded".to_owned(),
            event_version: "1".to_owned(),
            payload: json!({"n": sequence}),
            metadata: json!({"actor_id": "t-rivera", "actor_role": "therapist", "command_id": format!("{id}-{sequence}"), "recorded_at": "2026-01-05T20:00:00Z"}),
            prev_hash,
        };
        rows.push(entry.seal().expect("seals"));
    }
    rows
}

fn head(rows: &[StoredEntry]) -> HeadLeaf {
    let last = rows.last().expect("rows");
    HeadLeaf {
        aggregate_type: last.entry.aggregate_type.clone(),
        aggregate_id: last.entry.aggregate_id.clone(),
        sequence: last.entry.sequence,
        hash: last.hash,
    }
}

struct Fixture {
    client: Vec<StoredEntry>,
    heads: Vec<HeadLeaf>,
    checkpoint: SignedCheckpoint,
    public: [u8; 32],
}

fn fixture() -> Fixture {
    let public = public_key_of(&SECRET);
    let client = chain("client-2", 3);
    let mut heads = vec![
        head(&chain("client-3", 2)),
        head(&client),
        head(&chain("client-1", 4)),
        head(&chain("client-4", 1)),
        head(&chain("client-5", 7)),
    ];
    sort_heads(&mut heads).expect("sorts");
    let root = heads_root(&heads).expect("root");
    let statement = Statement::new(
        heads.len() as u64,
        root,
        "2026-01-05T21:00:00Z",
        Hash::ZERO,
        &public,
    )
    .expect("statement");
    let checkpoint = SignedCheckpoint::sign(statement, &SECRET).expect("signs");
    Fixture {
        client,
        heads,
        checkpoint,
        public,
    }
}

fn bundle(f: &Fixture) -> Bundle {
    build_bundle(f.client.clone(), f.checkpoint.clone(), &f.public, &f.heads).expect("builds")
}

#[test]
fn a_built_bundle_verifies_and_round_trips_through_json() {
    let f = fixture();
    let b = bundle(&f);
    assert_eq!(b.inclusion.leaf_index, 1);
    assert_eq!(b.inclusion.tree_size, 5);
    let report = verify_bundle(&b, &f.public).expect("verifies");
    assert_eq!(report.entries, 3);
    assert_eq!(report.head, head(&f.client));
    assert_eq!(
        report.statement_hash,
        f.checkpoint.statement.hash().expect("hash")
    );

    let json = serde_json::to_value(&b).expect("serializes");
    let keys: Vec<&String> = json.as_object().expect("object").keys().collect();
    assert_eq!(keys, ["checkpoint", "entries", "inclusion", "public_key"]);
    assert_eq!(json["entries"][0].as_object().expect("entry").len(), 9);
    assert_eq!(
        json["inclusion"]["audit_path"]
            .as_array()
            .expect("path")
            .len(),
        3
    );
    assert!(json["checkpoint"]["signature"].is_string());
    let back: Bundle = serde_json::from_value(json.clone()).expect("parses");
    assert_eq!(back, b);
    let mut extra = json;
    extra["note"] = json!(1);
    assert!(serde_json::from_value::<Bundle>(extra).is_err());
}

#[test]
fn every_client_of_the_checkpoint_gets_a_verifying_bundle() {
    let f = fixture();
    for (id, n) in [
        ("client-1", 4),
        ("client-3", 2),
        ("client-4", 1),
        ("client-5", 7),
    ] {
        let b =
            build_bundle(chain(id, n), f.checkpoint.clone(), &f.public, &f.heads).expect("builds");
        assert!(verify_bundle(&b, &f.public).is_ok(), "{id}");
    }
}

#[test]
fn wrong_or_malformed_keys_are_rejected() {
    let f = fixture();
    let b = bundle(&f);
    let other = public_key_of(&OTHER_SECRET);
    assert_eq!(verify_bundle(&b, &other), Err(BundleError::WrongKey));

    // A bundle re-signed with another key does not pass for the expected key.
    let mut resigned = b.clone();
    let statement = Statement {
        key_id: kapchart_audit::key_id(&other),
        ..b.checkpoint.statement.clone()
    };
    resigned.checkpoint = SignedCheckpoint::sign(statement, &OTHER_SECRET).expect("signs");
    resigned.public_key = hex(&other);
    assert_eq!(
        verify_bundle(&resigned, &f.public),
        Err(BundleError::WrongKey)
    );
    assert!(verify_bundle(&resigned, &other).is_ok());

    let mut malformed = b.clone();
    malformed.public_key = malformed.public_key.to_uppercase();
    assert_eq!(
        verify_bundle(&malformed, &f.public),
        Err(BundleError::MalformedPublicKey)
    );

    let mut wrong_id = b;
    wrong_id.checkpoint.statement.key_id = kapchart_audit::key_id(&other);
    assert_eq!(
        verify_bundle(&wrong_id, &f.public),
        Err(BundleError::KeyIdMismatch)
    );
}

fn hex(bytes: &[u8; 32]) -> String {
    Hash::from_bytes(*bytes).to_hex()
}

#[test]
fn a_changed_statement_or_signature_is_a_bad_signature() {
    let f = fixture();
    let mut b = bundle(&f);
    b.checkpoint.statement.issued_at = "2026-01-04T21:00:00Z".to_owned();
    assert_eq!(verify_bundle(&b, &f.public), Err(BundleError::BadSignature));

    let mut b = bundle(&f);
    b.checkpoint.statement.root_hash = Hash::sha256(b"other root");
    assert_eq!(verify_bundle(&b, &f.public), Err(BundleError::BadSignature));

    let mut b = bundle(&f);
    let last = if b.checkpoint.signature.ends_with('0') {
        "1"
    } else {
        "0"
    };
    b.checkpoint.signature.replace_range(127..128, last);
    assert_eq!(verify_bundle(&b, &f.public), Err(BundleError::BadSignature));

    let mut b = bundle(&f);
    b.checkpoint.signature.pop();
    assert_eq!(
        verify_bundle(&b, &f.public),
        Err(BundleError::MalformedSignature)
    );
}

#[test]
fn tampered_entries_are_rejected_at_their_sequence() {
    let f = fixture();

    let mut b = bundle(&f);
    b.entries[1].entry.payload = json!({"n": 99});
    assert_eq!(
        verify_bundle(&b, &f.public),
        Err(BundleError::EntryHash { sequence: 2 })
    );

    let mut b = bundle(&f);
    b.entries.remove(1);
    assert!(matches!(
        verify_bundle(&b, &f.public),
        Err(BundleError::BrokenChain {
            sequence: 3,
            finding: FindingKind::SequenceGap { expected: 2 }
        })
    ));

    let mut b = bundle(&f);
    b.entries.remove(0);
    assert!(matches!(
        verify_bundle(&b, &f.public),
        Err(BundleError::BrokenChain {
            sequence: 2,
            finding: FindingKind::FirstNotGenesis { .. }
        })
    ));

    let mut b = bundle(&f);
    b.entries[1].entry.metadata["recorded_at"] = json!("2026-01-06T20:00:00Z");
    b.entries[1] = b.entries[1].entry.clone().seal().expect("seals");
    assert!(matches!(
        verify_bundle(&b, &f.public),
        Err(BundleError::BrokenChain {
            sequence: 3,
            finding: FindingKind::BrokenLink { .. }
        })
    ));

    let mut b = bundle(&f);
    b.entries[2].entry.aggregate_id = "client-9".to_owned();
    assert_eq!(
        verify_bundle(&b, &f.public),
        Err(BundleError::MixedAggregates { sequence: 3 })
    );

    let mut b = bundle(&f);
    b.entries.clear();
    assert_eq!(verify_bundle(&b, &f.public), Err(BundleError::NoEntries));
}

#[test]
fn a_truncated_or_rewritten_head_is_not_included() {
    let f = fixture();

    // Tail dropped: the new last entry is not the checkpointed head.
    let mut b = bundle(&f);
    b.entries.pop();
    assert_eq!(
        verify_bundle(&b, &f.public),
        Err(BundleError::Inclusion(ProofError::RootMismatch))
    );

    // Head rewritten with a recomputed hash.
    let mut b = bundle(&f);
    b.entries[2].entry.payload = json!({"n": "rewritten"});
    b.entries[2] = b.entries[2].entry.clone().seal().expect("seals");
    assert_eq!(
        verify_bundle(&b, &f.public),
        Err(BundleError::Inclusion(ProofError::RootMismatch))
    );
}

#[test]
fn a_tampered_inclusion_proof_is_rejected() {
    let f = fixture();

    let mut b = bundle(&f);
    b.inclusion.leaf_index = 0;
    assert!(matches!(
        verify_bundle(&b, &f.public),
        Err(BundleError::Inclusion(_))
    ));

    let mut b = bundle(&f);
    b.inclusion.tree_size = 4;
    assert_eq!(
        verify_bundle(&b, &f.public),
        Err(BundleError::TreeSizeMismatch {
            inclusion: 4,
            statement: 5
        })
    );

    let mut b = bundle(&f);
    b.inclusion.audit_path[1] = Hash::sha256(b"x");
    assert_eq!(
        verify_bundle(&b, &f.public),
        Err(BundleError::Inclusion(ProofError::RootMismatch))
    );

    let mut b = bundle(&f);
    b.inclusion.audit_path.pop();
    assert!(matches!(
        verify_bundle(&b, &f.public),
        Err(BundleError::Inclusion(ProofError::ProofTooShort))
    ));
}

#[test]
fn building_refuses_inconsistent_inputs() {
    let f = fixture();
    // Entries past the checkpointed head.
    let longer = chain("client-2", 4);
    assert_eq!(
        build_bundle(longer, f.checkpoint.clone(), &f.public, &f.heads),
        Err(BundleError::HeadNotCheckpointed {
            checkpointed_sequence: 3,
            last_sequence: 4
        })
    );
    // A client not in the checkpoint.
    assert_eq!(
        build_bundle(
            chain("client-9", 1),
            f.checkpoint.clone(),
            &f.public,
            &f.heads
        ),
        Err(BundleError::NotInCheckpoint)
    );
    // Heads that are not the statement's.
    assert!(matches!(
        build_bundle(
            f.client.clone(),
            f.checkpoint.clone(),
            &f.public,
            &f.heads[..4]
        ),
        Err(BundleError::Heads(_))
    ));
    let mut unsorted = f.heads.clone();
    unsorted.swap(0, 1);
    assert!(matches!(
        build_bundle(f.client.clone(), f.checkpoint.clone(), &f.public, &unsorted),
        Err(BundleError::Heads(_))
    ));
    assert_eq!(
        build_bundle(Vec::new(), f.checkpoint.clone(), &f.public, &f.heads),
        Err(BundleError::NoEntries)
    );
    // The wrong key for the checkpoint.
    assert_eq!(
        build_bundle(
            f.client.clone(),
            f.checkpoint.clone(),
            &public_key_of(&OTHER_SECRET),
            &f.heads
        ),
        Err(BundleError::KeyIdMismatch)
    );
}
