//! Keeps `docs/audit-format.md` true: every value of its worked example
//! (fenced blocks marked `audit-example:NAME`) is recomputed here, and
//! every finding kind is documented.

use std::collections::BTreeMap;

use kapchart_audit::{
    Bundle, Entry, FindingKind, Hash, HeadLeaf, SignedCheckpoint, Statement, head_leaf_hashes,
    heads_root, key_id, merkle, public_key_of, verify_bundle,
};

const DOC: &str = include_str!("../../../docs/audit-format.md");
const MARKER: &str = "audit-example:";

/// The marked blocks of the doc, by name, without their final newline.
fn blocks() -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut lines = DOC.lines();
    while let Some(line) = lines.next() {
        let trimmed = line.trim_start();
        let Some(info) = trimmed.strip_prefix("```") else {
            continue;
        };
        let Some(name) = info
            .split_whitespace()
            .find_map(|word| word.strip_prefix(MARKER))
        else {
            continue;
        };
        let mut body = Vec::new();
        for inner in lines.by_ref() {
            if inner.trim_start().starts_with("```") {
                break;
            }
            body.push(inner);
        }
        let previous = out.insert(name.to_owned(), body.join("\n"));
        assert!(previous.is_none(), "block {name} appears twice");
    }
    out
}

fn block<'a>(blocks: &'a BTreeMap<String, String>, name: &str) -> &'a str {
    blocks
        .get(name)
        .unwrap_or_else(|| panic!("docs/audit-format.md has no block {MARKER}{name}"))
}

fn hash(blocks: &BTreeMap<String, String>, name: &str) -> Hash {
    Hash::from_hex(block(blocks, name).trim()).expect("a hash block is 64 hex characters")
}

fn hashes(blocks: &BTreeMap<String, String>, name: &str) -> Vec<Hash> {
    block(blocks, name)
        .lines()
        .map(|l| Hash::from_hex(l.trim()).expect("one hash per line"))
        .collect()
}

fn key(blocks: &BTreeMap<String, String>, name: &str) -> [u8; 32] {
    *hash(blocks, name).as_bytes()
}

fn entry(blocks: &BTreeMap<String, String>, name: &str) -> Entry {
    serde_json::from_str(block(blocks, name)).expect("an entry block is an entry")
}

#[test]
fn the_example_has_every_block() {
    let b = blocks();
    let names: Vec<&str> = b.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "audit-path",
            "bundle",
            "entry-1",
            "entry-1-canonical",
            "entry-1-hash",
            "entry-2",
            "entry-2-canonical",
            "entry-2-hash",
            "key-id",
            "leaf-hashes",
            "leaves",
            "node-0-1",
            "public-key",
            "root",
            "secret-key",
            "signature",
            "statement-canonical",
            "statement-hash",
        ]
    );
}

#[test]
fn entries_canonicalize_hash_and_chain_as_documented() {
    let b = blocks();
    let e1 = entry(&b, "entry-1");
    let e2 = entry(&b, "entry-2");
    assert_eq!(
        e1.metadata,
        serde_json::json!({"actor_id":"t-rivera","actor_role":"therapist","command_id":"cmd-1","recorded_at":"2026-01-05T20:00:00Z"})
    );
    for (e, name) in [(&e1, "entry-1"), (&e2, "entry-2")] {
        let canonical = e.canonical_bytes().expect("canonical");
        assert_eq!(
            String::from_utf8(canonical.clone()).expect("utf-8"),
            block(&b, &format!("{name}-canonical")),
            "{name} canonical bytes"
        );
        assert_eq!(Hash::sha256(&canonical), hash(&b, &format!("{name}-hash")));
        assert_eq!(e.hash().expect("hash"), hash(&b, &format!("{name}-hash")));
    }
    assert_eq!(e1.sequence, 1);
    assert_eq!(e1.prev_hash, Hash::ZERO);
    assert_eq!(e2.sequence, 2);
    assert_eq!(e2.prev_hash, hash(&b, "entry-1-hash"));
}

fn leaves(b: &BTreeMap<String, String>) -> Vec<HeadLeaf> {
    block(b, "leaves")
        .lines()
        .map(|l| serde_json::from_str(l).expect("a leaf per line"))
        .collect()
}

#[test]
fn leaves_tree_and_proof_are_as_documented() {
    let b = blocks();
    let leaves = leaves(&b);
    assert_eq!(leaves.len(), 3);
    // Leaf data lines are the canonical bytes of each leaf.
    for (leaf, line) in leaves.iter().zip(block(&b, "leaves").lines()) {
        assert_eq!(
            String::from_utf8(leaf.leaf_data().expect("data")).expect("utf-8"),
            line
        );
    }
    // client-1's head leaf is its entry 2.
    let head = &leaves[1];
    let e2 = entry(&b, "entry-2");
    assert_eq!(
        (head.aggregate_type.as_str(), head.aggregate_id.as_str()),
        (e2.aggregate_type.as_str(), e2.aggregate_id.as_str())
    );
    assert_eq!(head.sequence, 2);
    assert_eq!(head.hash, hash(&b, "entry-2-hash"));

    let leaf_hashes = head_leaf_hashes(&leaves).expect("sorted leaves");
    assert_eq!(leaf_hashes, hashes(&b, "leaf-hashes"));
    for (leaf, line) in leaf_hashes.iter().zip(block(&b, "leaves").lines()) {
        assert_eq!(*leaf, Hash::sha256_parts(&[&[0x00], line.as_bytes()]));
    }
    let node = merkle::node_hash(&leaf_hashes[0], &leaf_hashes[1]);
    assert_eq!(node, hash(&b, "node-0-1"));
    let root = merkle::node_hash(&node, &leaf_hashes[2]);
    assert_eq!(root, hash(&b, "root"));
    assert_eq!(heads_root(&leaves).expect("root"), root);

    let path = merkle::inclusion_proof(1, &leaf_hashes).expect("proof");
    assert_eq!(path, hashes(&b, "audit-path"));
    assert_eq!(
        merkle::verify_inclusion(1, 3, &leaf_hashes[1], &path, &root),
        Ok(())
    );
}

#[test]
fn statement_key_and_signature_are_as_documented() {
    let b = blocks();
    let secret = key(&b, "secret-key");
    let public = key(&b, "public-key");
    assert_eq!(public_key_of(&secret), public);
    assert_eq!(key_id(&public), block(&b, "key-id"));

    let statement = Statement::new(
        3,
        hash(&b, "root"),
        "2026-01-05T21:00:00Z",
        Hash::ZERO,
        &public,
    )
    .expect("statement");
    let canonical = statement.canonical_bytes().expect("canonical");
    assert_eq!(
        String::from_utf8(canonical).expect("utf-8"),
        block(&b, "statement-canonical")
    );
    assert_eq!(statement.hash().expect("hash"), hash(&b, "statement-hash"));

    let signed = SignedCheckpoint::sign(statement, &secret).expect("signs");
    assert_eq!(signed.signature, block(&b, "signature"));
    assert_eq!(signed.verify(&public), Ok(()));
}

#[test]
fn the_bundle_verifies_and_matches_the_other_blocks() {
    let b = blocks();
    let public = key(&b, "public-key");
    let bundle: Bundle = serde_json::from_str(block(&b, "bundle")).expect("a bundle");
    let report = verify_bundle(&bundle, &public).expect("the documented bundle verifies");
    assert_eq!(report.entries, 2);
    assert_eq!(report.head, leaves(&b)[1]);
    assert_eq!(report.statement_hash, hash(&b, "statement-hash"));

    assert_eq!(bundle.entries.len(), 2);
    assert_eq!(bundle.entries[0].entry, entry(&b, "entry-1"));
    assert_eq!(bundle.entries[0].hash, hash(&b, "entry-1-hash"));
    assert_eq!(bundle.entries[1].entry, entry(&b, "entry-2"));
    assert_eq!(bundle.entries[1].hash, hash(&b, "entry-2-hash"));
    assert_eq!(bundle.checkpoint.signature, block(&b, "signature"));
    assert_eq!(bundle.checkpoint.statement.root_hash, hash(&b, "root"));
    assert_eq!(bundle.checkpoint.statement.key_id, block(&b, "key-id"));
    assert_eq!(bundle.public_key, block(&b, "public-key"));
    assert_eq!(bundle.inclusion.leaf_index, 1);
    assert_eq!(bundle.inclusion.tree_size, 3);
    assert_eq!(bundle.inclusion.audit_path, hashes(&b, "audit-path"));
}

#[test]
fn every_finding_kind_is_documented() {
    for code in FindingKind::CODES {
        assert!(
            DOC.contains(&format!("| `{code}` |")),
            "docs/audit-format.md does not document finding kind {code}"
        );
    }
}
