//! The RFC 6962 suites: every inclusion and consistency vector must verify
//! when `wantErr` is false and be rejected when it is true. Hashes in the
//! vectors are base64; `proof` may be null (no hashes).

use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use kapchart_audit::ProofError;
use kapchart_audit::merkle::{verify_consistency_raw, verify_inclusion_raw};
use serde::Deserialize;

use crate::vectors::{Fatal, Tally, json_files, read};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InclusionFile {
    leaf_idx: u64,
    tree_size: u64,
    root: String,
    leaf_hash: String,
    proof: Option<Vec<String>>,
    #[serde(default)]
    desc: String,
    want_err: bool,
}

#[derive(Deserialize)]
struct ConsistencyFile {
    size1: u64,
    size2: u64,
    root1: String,
    root2: String,
    proof: Option<Vec<String>>,
    #[serde(default)]
    desc: String,
    #[serde(rename = "wantErr")]
    want_err: bool,
}

/// One inclusion vector, decoded.
#[derive(Debug)]
pub struct InclusionVector {
    path: PathBuf,
    desc: String,
    want_err: bool,
    leaf_index: u64,
    tree_size: u64,
    root: Vec<u8>,
    leaf_hash: Vec<u8>,
    proof: Vec<Vec<u8>>,
}

/// One consistency vector, decoded.
#[derive(Debug)]
pub struct ConsistencyVector {
    path: PathBuf,
    desc: String,
    want_err: bool,
    size1: u64,
    size2: u64,
    root1: Vec<u8>,
    root2: Vec<u8>,
    proof: Vec<Vec<u8>>,
}

fn parse<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T, Fatal> {
    let raw = read(path)?;
    serde_json::from_slice(&raw).map_err(|e| Fatal::Malformed(path.to_owned(), e.to_string()))
}

fn b64(path: &Path, field: &str, text: &str) -> Result<Vec<u8>, Fatal> {
    STANDARD
        .decode(text)
        .map_err(|e| Fatal::Malformed(path.to_owned(), format!("{field} is not base64: {e}")))
}

fn b64_all(path: &Path, proof: Option<Vec<String>>) -> Result<Vec<Vec<u8>>, Fatal> {
    proof
        .unwrap_or_default()
        .iter()
        .map(|p| b64(path, "a proof hash", p))
        .collect()
}

/// Reads every inclusion vector under `dir`.
pub fn load_inclusion(dir: &Path) -> Result<Vec<InclusionVector>, Fatal> {
    json_files(dir)?
        .into_iter()
        .map(|path| {
            let f: InclusionFile = parse(&path)?;
            Ok(InclusionVector {
                root: b64(&path, "root", &f.root)?,
                leaf_hash: b64(&path, "leafHash", &f.leaf_hash)?,
                proof: b64_all(&path, f.proof)?,
                desc: f.desc,
                want_err: f.want_err,
                leaf_index: f.leaf_idx,
                tree_size: f.tree_size,
                path,
            })
        })
        .collect()
}

/// Reads every consistency vector under `dir`.
pub fn load_consistency(dir: &Path) -> Result<Vec<ConsistencyVector>, Fatal> {
    json_files(dir)?
        .into_iter()
        .map(|path| {
            let f: ConsistencyFile = parse(&path)?;
            Ok(ConsistencyVector {
                root1: b64(&path, "root1", &f.root1)?,
                root2: b64(&path, "root2", &f.root2)?,
                proof: b64_all(&path, f.proof)?,
                desc: f.desc,
                want_err: f.want_err,
                size1: f.size1,
                size2: f.size2,
                path,
            })
        })
        .collect()
}

fn judge(
    tally: &mut Tally,
    path: &Path,
    desc: &str,
    want_err: bool,
    result: Result<(), ProofError>,
) {
    match (want_err, result) {
        (false, Ok(())) | (true, Err(_)) => tally.passed += 1,
        (false, Err(e)) => {
            tally.failed += 1;
            eprintln!(
                "FAIL {} {} ({desc}): expected to verify, rejected: {e}",
                tally.name,
                path.display()
            );
        }
        (true, Ok(())) => {
            tally.failed += 1;
            eprintln!(
                "FAIL {} {} ({desc}): expected to be rejected, verified",
                tally.name,
                path.display()
            );
        }
    }
}

/// Runs the inclusion verifier on every vector.
pub fn run_inclusion(vectors: &[InclusionVector]) -> Tally {
    let mut tally = Tally::new("rfc6962-inclusion", false);
    for v in vectors {
        let result =
            verify_inclusion_raw(v.leaf_index, v.tree_size, &v.leaf_hash, &v.proof, &v.root);
        judge(&mut tally, &v.path, &v.desc, v.want_err, result);
    }
    tally
}

/// Runs the consistency verifier on every vector.
pub fn run_consistency(vectors: &[ConsistencyVector]) -> Tally {
    let mut tally = Tally::new("rfc6962-consistency", false);
    for v in vectors {
        let result = verify_consistency_raw(v.size1, v.size2, &v.root1, &v.root2, &v.proof);
        judge(&mut tally, &v.path, &v.desc, v.want_err, result);
    }
    tally
}
