//! The RFC 8785 suite: `input/NAME.json` must canonicalize to exactly the
//! bytes of `output/NAME.json` (and of `outhex/NAME.txt`, when present).
//! A vector holding numbers the canonicalizer refuses (floats) counts as
//! refused, not failed.

use std::path::{Path, PathBuf};

use kapchart_audit::canonical_json;

use crate::vectors::{Fatal, Tally, json_files, read};

/// One canonicalization vector.
#[derive(Debug)]
pub struct Vector {
    input_path: PathBuf,
    input: serde_json::Value,
    expected: Vec<u8>,
}

/// Reads every vector of `dir` (`input/`, `output/`, optional `outhex/`).
pub fn load(dir: &Path) -> Result<Vec<Vector>, Fatal> {
    let mut vectors = Vec::new();
    for input_path in json_files(&dir.join("input"))? {
        let Some(name) = input_path.file_name() else {
            continue;
        };
        let raw = read(&input_path)?;
        let input = serde_json::from_slice(&raw)
            .map_err(|e| Fatal::Malformed(input_path.clone(), format!("input is not JSON: {e}")))?;
        let output_path = dir.join("output").join(name);
        let expected = read(&output_path)?;
        let hex_path = dir
            .join("outhex")
            .join(Path::new(name).with_extension("txt"));
        if hex_path.exists() {
            let text = read(&hex_path)?;
            let from_hex = parse_hex(&text)
                .ok_or_else(|| Fatal::Malformed(hex_path.clone(), "not hex bytes".to_owned()))?;
            if from_hex != expected {
                return Err(Fatal::Malformed(
                    hex_path,
                    format!("disagrees with {}", output_path.display()),
                ));
            }
        }
        vectors.push(Vector {
            input_path,
            input,
            expected,
        });
    }
    Ok(vectors)
}

/// Space-separated hex byte pairs.
fn parse_hex(text: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(text).ok()?;
    text.split_ascii_whitespace()
        .map(|pair| {
            if pair.len() == 2 {
                u8::from_str_radix(pair, 16).ok()
            } else {
                None
            }
        })
        .collect()
}

/// Canonicalizes every vector and compares.
pub fn run(vectors: &[Vector]) -> Tally {
    let mut tally = Tally::new("rfc8785", true);
    for v in vectors {
        match canonical_json(&v.input) {
            Ok(bytes) if bytes == v.expected => tally.passed += 1,
            Ok(bytes) => {
                tally.failed += 1;
                let at = bytes
                    .iter()
                    .zip(&v.expected)
                    .position(|(a, b)| a != b)
                    .unwrap_or(bytes.len().min(v.expected.len()));
                eprintln!(
                    "FAIL rfc8785 {}: output differs from the expected bytes at byte {at}\n  expected: {}\n  got:      {}",
                    v.input_path.display(),
                    String::from_utf8_lossy(&v.expected),
                    String::from_utf8_lossy(&bytes),
                );
            }
            Err(e) if e.is_number_refusal() => {
                if let Some(refused) = &mut tally.refused {
                    *refused += 1;
                }
                eprintln!("refused rfc8785 {}: {e}", v.input_path.display());
            }
            Err(e) => {
                tally.failed += 1;
                eprintln!("FAIL rfc8785 {}: {e}", v.input_path.display());
            }
        }
    }
    tally
}
