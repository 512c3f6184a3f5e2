//! Every committed input of every fuzz target, replayed in the ordinary
//! test suite on the stable toolchain without the fuzzer: none may panic
//! or break its target's properties. The command target's corpus also goes
//! through the API's own parsers (`CommandRequest::parse`, through the
//! API's wire types, and `PracticeCommandRequest::parse`), which must not
//! panic and must answer as the target's shapes do.
//!
//! `KAPCHART_FUZZ_REPLAY=DIR` adds the inputs in `DIR/<target>/` (where
//! there is such a folder), e.g.
//! what a run of `cargo xtask fuzz` kept in `target/fuzz/corpus`:
//! `KAPCHART_FUZZ_REPLAY=$PWD/target/fuzz/corpus cargo test -p
//! kapchart-fuzz --test corpus`.

use std::fs;
use std::path::{Path, PathBuf};

use kapchart_fuzz::{CommandRequest, PracticeCommandRequest, TARGETS};

/// The committed inputs of `target`.
fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    inputs(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("corpus")
            .join(target),
    )
}

/// The committed inputs of `target` and those in `KAPCHART_FUZZ_REPLAY`.
fn corpus_and_replay(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let mut all = corpus(target);
    if let Some(dir) = std::env::var_os("KAPCHART_FUZZ_REPLAY").filter(|d| !d.is_empty()) {
        let dir = Path::new(&dir).join(target);
        if dir.is_dir() {
            all.extend(inputs(&dir));
        }
    }
    all
}

fn inputs(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut inputs: Vec<(PathBuf, Vec<u8>)> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.expect("a corpus entry").path();
            let data = fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            (path, data)
        })
        .collect();
    inputs.sort();
    inputs
}

#[test]
fn every_corpus_input_runs_through_its_target() {
    for (name, target) in TARGETS {
        let inputs = corpus_and_replay(name);
        assert!(inputs.len() >= 5, "{name}: {} seeds", inputs.len());
        for (path, data) in inputs {
            let outcome = std::panic::catch_unwind(|| target(&data));
            assert!(outcome.is_ok(), "{name} panicked on {}", path.display());
        }
    }
}

/// Seeds named `ok-*` are real, valid inputs: the fuzzer starts from
/// inputs that reach deep into the code, not only from refusals.
#[test]
fn the_valid_seeds_are_accepted() {
    let key = kapchart_audit::public_key_of(&kapchart_fuzz::SEED_SECRET);
    for (name, _) in TARGETS {
        let valid: Vec<_> = corpus(name)
            .into_iter()
            .filter(|(path, _)| file_name(path).starts_with("ok-"))
            .collect();
        assert!(!valid.is_empty(), "{name}: no ok-* seed");
        for (path, data) in valid {
            let text = String::from_utf8(data.clone()).unwrap_or_default();
            let accepted = match name {
                "command" => {
                    kapchart_api::CommandRequest::parse(&text).is_ok()
                        || kapchart_api::PracticeCommandRequest::parse(&text).is_ok()
                        || kapchart_domain::parse_command(&text).is_ok()
                        || kapchart_domain::parse_practice_command(&text).is_ok()
                }
                "bundle" => serde_json::from_str::<kapchart_audit::Bundle>(&text)
                    .is_ok_and(|b| kapchart_audit::verify_bundle(&b, &key).is_ok()),
                "canonical" => serde_json::from_str::<serde_json::Value>(&text)
                    .is_ok_and(|v| kapchart_audit::canonical_json(&v).is_ok()),
                "merkle" => merkle_seed_verifies(&data),
                other => panic!("no check for {other}"),
            };
            assert!(accepted, "{name}: {} is not accepted", path.display());
        }
    }
}

fn merkle_seed_verifies(data: &[u8]) -> bool {
    use kapchart_audit::merkle::{verify_consistency_raw, verify_inclusion_raw};
    use kapchart_fuzz::merkle::{Input, decode};
    match decode(data) {
        Some(Input::Inclusion {
            leaf_index,
            tree_size,
            leaf,
            root,
            proof,
        }) => verify_inclusion_raw(leaf_index, tree_size, &leaf, &proof, &root).is_ok(),
        Some(Input::Consistency {
            size1,
            size2,
            root1,
            root2,
            proof,
        }) => verify_consistency_raw(size1, size2, &root1, &root2, &proof).is_ok(),
        Some(Input::Tree { leaves, .. }) => !leaves.is_empty(),
        None => false,
    }
}

/// The target parses command bodies as the API does: on every input, the
/// API's `CommandRequest::parse` (through its wire types) and
/// `PracticeCommandRequest::parse` accept exactly what the target's
/// shapes (the domain's own types) accept, and into the same command. On
/// the committed corpus a refusal also names the same field. (On any
/// input it need not: with two faults, the wire types may meet the other
/// first, e.g. a syntax error after a body whose times are out of order;
/// and the messages may differ in serde's name for a type: the API's
/// `TimeSpan` is the domain's `SpanInput`.)
#[test]
fn the_command_target_parses_as_the_api_does() {
    let committed = corpus("command").len();
    for (n, (path, data)) in corpus_and_replay("command").into_iter().enumerate() {
        let Ok(text) = std::str::from_utf8(&data) else {
            continue;
        };
        let api = std::panic::catch_unwind(|| kapchart_api::CommandRequest::parse(text))
            .unwrap_or_else(|_| panic!("the API's parser panicked on {}", path.display()));
        let ours = kapchart_domain::parse_json::<CommandRequest>(text);
        match (api, ours) {
            (Ok(api), Ok(ours)) => {
                assert_eq!(api.id, ours.id, "{}", path.display());
                assert_eq!(api.overrides, ours.overrides, "{}", path.display());
                assert_eq!(api.body, ours.body, "{}", path.display());
            }
            (Err(api), Err(ours)) if n < committed => {
                assert_eq!(field(&api), ours.field, "{}", path.display());
            }
            (Err(_), Err(_)) => {}
            (api, ours) => panic!(
                "client command {}: the API says {:?}, the domain's types {:?}",
                path.display(),
                api.map(|_| ()).map_err(|e| field(&e)),
                ours.map(|_| ()).map_err(|e| e.field)
            ),
        }
        let api = std::panic::catch_unwind(|| kapchart_api::PracticeCommandRequest::parse(text))
            .unwrap_or_else(|_| panic!("the API's parser panicked on {}", path.display()));
        let ours = kapchart_domain::parse_json::<PracticeCommandRequest>(text);
        match (api, ours) {
            (Ok(api), Ok(ours)) => {
                assert_eq!(api.id, ours.id, "{}", path.display());
                assert_eq!(api.body, ours.body, "{}", path.display());
            }
            (Err(api), Err(ours)) if n < committed => {
                assert_eq!(field(&api), ours.field, "{}", path.display());
            }
            (Err(_), Err(_)) => {}
            (api, ours) => panic!(
                "practice command {}: the API says {:?}, the domain's types {:?}",
                path.display(),
                api.map(|_| ()).map_err(|e| field(&e)),
                ours.map(|_| ()).map_err(|e| e.field)
            ),
        }
    }
}

fn field(e: &kapchart_api::ApiError) -> String {
    match e {
        kapchart_api::ApiError::BadRequest { field, .. } => field.clone(),
        other => panic!("a parse error that is not a 400: {other:?}"),
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}
