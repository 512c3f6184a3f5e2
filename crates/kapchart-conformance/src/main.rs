//! `kapchart-conformance TESTDATA_DIR`: runs kapchart's RFC 8785 canonical
//! JSON and RFC 6962 proof verifiers against the reference vectors in
//! `TESTDATA_DIR/rfc8785` and `TESTDATA_DIR/rfc6962`.
//!
//! Prints one summary line per suite to stdout and each failure to stderr.
//! Exit status: 0 if nothing failed, 1 on any mismatch, 2 on a usage or
//! I/O error (missing folder, unreadable file, malformed vector).

mod jcs;
mod proofs;
mod vectors;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

use crate::vectors::{Fatal, Tally};

/// Run kapchart's canonical JSON (RFC 8785) and Merkle proof verifiers
/// (RFC 6962) against reference vectors.
///
/// Exits 0 if every vector passes (floats may be refused), 1 on any
/// mismatch, 2 on a usage or I/O error.
#[derive(Debug, Parser)]
#[command(name = "kapchart-conformance", version)]
struct Cli {
    /// Folder holding `rfc8785/` (input/, output/, outhex/) and `rfc6962/`
    /// (inclusion/, consistency/), e.g. `../shared/testdata`.
    testdata_dir: PathBuf,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(tallies) => {
            for tally in &tallies {
                println!("{}", tally.summary());
            }
            if tallies.iter().any(|t| t.failed > 0) {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(fatal) => {
            eprintln!("kapchart-conformance: error: {fatal}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: &Cli) -> Result<Vec<Tally>, Fatal> {
    let root = &cli.testdata_dir;
    if !root.is_dir() {
        return Err(Fatal::MissingFolder(root.clone()));
    }
    // Every suite is loaded (and so every vector parsed) before any runs,
    // so a malformed vector stops the program before it reports anything.
    let jcs_vectors = jcs::load(&root.join("rfc8785"))?;
    let inclusion = proofs::load_inclusion(&root.join("rfc6962").join("inclusion"))?;
    let consistency = proofs::load_consistency(&root.join("rfc6962").join("consistency"))?;
    Ok(vec![
        jcs::run(&jcs_vectors),
        proofs::run_inclusion(&inclusion),
        proofs::run_consistency(&consistency),
    ])
}
