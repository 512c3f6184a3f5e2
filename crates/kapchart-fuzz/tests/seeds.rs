//! The seeds of the bundle, canonical and merkle corpora, made from their
//! sources: bundles built by `build_bundle` (with a few tamperings), the
//! RFC 8785 vectors, and the RFC 6962 vectors and reference tree (in
//! `crates/kapchart-conformance/testdata`). Each must be in `corpus/`,
//! byte for byte; `KAPCHART_FUZZ_WRITE_SEEDS=1 cargo test -p kapchart-fuzz
//! --test seeds` writes the missing ones. (The command corpus's seeds are
//! command bodies as the API's tests send them; `tests/corpus.rs` checks
//! that the `ok-*` ones parse.)

use std::fs;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use kapchart_audit::{
    Bundle, Entry, Hash, HeadLeaf, SignedCheckpoint, Statement, StoredEntry, build_bundle,
    canonical_json, heads_root, public_key_of, sort_heads,
};
use kapchart_fuzz::SEED_SECRET;
use kapchart_fuzz::merkle::{Input, encode};
use serde_json::{Value, json};

fn manifest() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn testdata() -> PathBuf {
    manifest().join("../kapchart-conformance/testdata")
}

/// A file name of letters, digits, `-`, `_` and `.` only.
fn safe(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn chain(id: &str, n: u64) -> Vec<StoredEntry> {
    let mut rows: Vec<StoredEntry> = Vec::new();
    for sequence in 1..=n {
        let entry = Entry {
            aggregate_type: "ClientRecord".to_owned(),
            aggregate_id: id.to_owned(),
            sequence,
            event_type: "OutcomeMeasureRecorded".to_owned(),
            event_version: "1".to_owned(),
            payload: json!({"measure": {"instrument": "phq9", "score": 14}, "on": "2026-01-05", "n": sequence}),
            metadata: json!({"actor_id": "t-rivera", "actor_role": "therapist", "command_id": format!("{id}-{sequence}"), "recorded_at": "2026-01-05T20:00:00Z"}),
            prev_hash: rows.last().map_or(Hash::ZERO, |r| r.hash),
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

/// The bundle of `client` (`entries` long) in a checkpoint of it and
/// `others` (id, length).
fn built(client: &str, entries: u64, others: &[(&str, u64)]) -> Bundle {
    let public = public_key_of(&SEED_SECRET);
    let rows = chain(client, entries);
    let mut heads = vec![head(&rows)];
    heads.extend(others.iter().map(|(id, n)| head(&chain(id, *n))));
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
    let checkpoint = SignedCheckpoint::sign(statement, &SEED_SECRET).expect("signs");
    build_bundle(rows, checkpoint, &public, &heads).expect("builds")
}

fn json_bytes(bundle: &Bundle) -> Vec<u8> {
    let mut text = serde_json::to_vec_pretty(bundle).expect("a bundle serializes");
    text.push(b'\n');
    text
}

fn bundle_seeds() -> Vec<(String, Vec<u8>)> {
    let five = built(
        "client-2",
        3,
        &[
            ("client-1", 4),
            ("client-3", 2),
            ("client-4", 1),
            ("client-5", 7),
        ],
    );
    let one = built("client-1", 1, &[]);
    let mut tampered_payload = five.clone();
    tampered_payload.entries[1].entry.payload = json!({"n": 99});
    let mut removed_entry = five.clone();
    removed_entry.entries.remove(1);
    let mut wrong_index = five.clone();
    wrong_index.inclusion.leaf_index += 1;
    vec![
        ("ok-five-clients.json".to_owned(), json_bytes(&five)),
        ("ok-one-client.json".to_owned(), json_bytes(&one)),
        (
            "tampered-payload.json".to_owned(),
            json_bytes(&tampered_payload),
        ),
        ("removed-entry.json".to_owned(), json_bytes(&removed_entry)),
        ("wrong-leaf-index.json".to_owned(), json_bytes(&wrong_index)),
    ]
}

fn canonical_seeds() -> Vec<(String, Vec<u8>)> {
    let mut seeds = Vec::new();
    for folder in ["input", "output"] {
        let dir = testdata().join("rfc8785").join(folder);
        let mut files: Vec<PathBuf> = fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.expect("an entry").path())
            .collect();
        files.sort();
        for path in files {
            let data = fs::read(&path).expect("a vector");
            let accepted =
                serde_json::from_slice::<Value>(&data).is_ok_and(|v| canonical_json(&v).is_ok());
            let stem = path.file_name().expect("a name").to_string_lossy();
            let prefix = if accepted { "ok-" } else { "" };
            seeds.push((safe(&format!("{prefix}rfc8785-{folder}-{stem}")), data));
        }
    }
    // A stored entry, as the store hashes it.
    let entry = chain("client-1", 2).pop().expect("an entry");
    let value = serde_json::to_value(&entry).expect("serializes");
    seeds.push((
        "ok-stored-entry.json".to_owned(),
        canonical_json(&value).expect("canonical"),
    ));
    seeds
}

fn b64(value: &Value) -> Vec<u8> {
    STANDARD
        .decode(value.as_str().unwrap_or_default())
        .expect("base64")
}

fn proof(value: &Value) -> Vec<Vec<u8>> {
    value
        .as_array()
        .map(|a| a.iter().map(b64).collect())
        .unwrap_or_default()
}

fn vector(path: &Path) -> Value {
    serde_json::from_slice(&fs::read(path).expect("a vector")).expect("a JSON vector")
}

fn merkle_input(kind: &str, v: &Value) -> Input {
    let n = |k: &str| v[k].as_u64().expect("a size");
    if kind == "inclusion" {
        Input::Inclusion {
            leaf_index: n("leafIdx"),
            tree_size: n("treeSize"),
            leaf: b64(&v["leafHash"]),
            root: b64(&v["root"]),
            proof: proof(&v["proof"]),
        }
    } else {
        Input::Consistency {
            size1: n("size1"),
            size2: n("size2"),
            root1: b64(&v["root1"]),
            root2: b64(&v["root2"]),
            proof: proof(&v["proof"]),
        }
    }
}

fn merkle_seeds() -> Vec<(String, Vec<u8>)> {
    let mut seeds = Vec::new();
    for kind in ["inclusion", "consistency"] {
        let base = testdata().join("rfc6962").join(kind);
        let mut dirs: Vec<PathBuf> = fs::read_dir(&base)
            .unwrap_or_else(|e| panic!("{}: {e}", base.display()))
            .map(|e| e.expect("an entry").path())
            .filter(|p| p.is_dir())
            .collect();
        dirs.sort();
        for dir in dirs {
            let dir_name = dir
                .file_name()
                .expect("a name")
                .to_string_lossy()
                .into_owned();
            let mut files: Vec<PathBuf> = fs::read_dir(&dir)
                .expect("a folder of vectors")
                .map(|e| e.expect("an entry").path())
                .filter(|p| p.extension().is_some_and(|e| e == "json"))
                .collect();
            files.sort();
            for path in files {
                let case = path.file_stem().expect("a name").to_string_lossy();
                // Every case of folder 1, and the happy path of the others.
                if dir_name != "1" && case != "happy-path" {
                    continue;
                }
                let v = vector(&path);
                let prefix = if v["wantErr"] == json!(false) {
                    "ok-"
                } else {
                    ""
                };
                seeds.push((
                    safe(&format!("{prefix}{kind}-{dir_name}-{case}.bin")),
                    encode(&merkle_input(kind, &v)),
                ));
            }
        }
    }
    // The RFC 6962 reference tree's eight leaves.
    let leaves: Vec<Vec<u8>> = [
        &b""[..],
        b"\x00",
        b"\x10",
        b"\x20\x21",
        b"\x30\x31",
        b"\x40\x41\x42\x43",
        b"\x50\x51\x52\x53\x54\x55\x56\x57",
        b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
    ]
    .iter()
    .map(|l| l.to_vec())
    .collect();
    for (pick, first, count) in [(5, 2, 8), (0, 0, 1), (6, 4, 7)] {
        seeds.push((
            format!("ok-tree-{count}-leaves.bin"),
            encode(&Input::Tree {
                pick,
                first,
                leaves: leaves[..count].to_vec(),
            }),
        ));
    }
    seeds
}

#[test]
fn the_seeds_made_from_their_sources_are_in_the_corpus() {
    let write = std::env::var_os("KAPCHART_FUZZ_WRITE_SEEDS").is_some_and(|v| v == "1");
    let mut missing = Vec::new();
    for (target, seeds) in [
        ("bundle", bundle_seeds()),
        ("canonical", canonical_seeds()),
        ("merkle", merkle_seeds()),
    ] {
        let dir = manifest().join("corpus").join(target);
        for (name, data) in seeds {
            let path = dir.join(&name);
            if fs::read(&path).is_ok_and(|d| d == data) {
                continue;
            }
            if write {
                fs::create_dir_all(&dir).expect("the corpus folder");
                fs::write(&path, &data).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            } else {
                missing.push(format!("{target}/{name}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "seeds missing or changed in corpus/ (KAPCHART_FUZZ_WRITE_SEEDS=1 writes them): {missing:?}"
    );
}
