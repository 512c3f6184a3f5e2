//! `cargo xtask fuzz`: the fuzz targets of `crates/kapchart-fuzz`, each
//! for a bounded time, with cargo-fuzz (from crates.io, pinned to
//! [`CARGO_FUZZ_VERSION`], installed with `cargo install --locked` into
//! `target/fuzz-tools/` when it is not on PATH) on the stable toolchain:
//! `--sanitizer none`, so no nightly-only flag is used (the code under
//! test is safe Rust; what is looked for is a panic, an overflow, a hang
//! or a broken property).
//!
//! Each target starts from its committed corpus
//! (`crates/kapchart-fuzz/corpus/<target>/`, only read) and a scratch
//! corpus in `target/fuzz/corpus/<target>/` (where libFuzzer writes what
//! it finds); a crashing input is written to
//! `target/fuzz/artifacts/<target>/`, libFuzzer's output to
//! `target/fuzz/logs/<target>.log`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context as _, Result, bail, ensure};

use crate::tools::Workspace;

/// The cargo-fuzz release used.
pub const CARGO_FUZZ_VERSION: &str = "0.13.2";
/// The cargo-fuzz project (its own workspace), under the workspace root.
pub const FUZZ_DIR: &str = "crates/kapchart-fuzz/fuzz";
/// The committed corpora, one folder per target, under the workspace root.
pub const CORPUS_DIR: &str = "crates/kapchart-fuzz/corpus";
/// Every target (`fuzz/fuzz_targets/<target>.rs`).
pub const TARGETS: [&str; 4] = ["command", "bundle", "canonical", "merkle"];
/// Where cargo-fuzz is installed, under the target directory.
pub const TOOLS_DIR: &str = "fuzz-tools";
/// The fuzz build's target directory and its scratch folders, under the
/// target directory.
pub const WORK_DIR: &str = "fuzz";
/// Slowest single input allowed, in seconds, before it counts as a hang.
const INPUT_TIMEOUT_SECONDS: u64 = 10;

/// What one target's run did.
#[derive(Debug)]
struct Outcome {
    target: &'static str,
    runs: Option<u64>,
    ok: bool,
    log: PathBuf,
}

/// Runs `targets` (all when empty) for `seconds` each. Fails, showing
/// the end of libFuzzer's log and where the input was written, if any
/// target finds a crash.
pub fn fuzz(workspace: &Workspace, seconds: u64, targets: &[String]) -> Result<()> {
    ensure!(seconds > 0, "--seconds must be at least 1");
    let targets = chosen(targets)?;
    let cargo_fuzz = ensure_cargo_fuzz(workspace)?;
    let work = workspace.target.join(WORK_DIR);
    let build_args = |command: &mut Command| {
        command
            .arg("--fuzz-dir")
            .arg(workspace.root.join(FUZZ_DIR))
            .args(["--sanitizer", "none", "--codegen-units", "16"])
            .arg("--target-dir")
            .arg(&work);
    };

    let mut build = Command::new(&cargo_fuzz);
    build.current_dir(&workspace.root).args(["fuzz", "build"]);
    build_args(&mut build);
    eprintln!("xtask: {}", crate::describe(&build));
    let status = build.status().context("starting cargo fuzz build")?;
    ensure!(status.success(), "cargo fuzz build failed ({status})");

    let mut outcomes = Vec::new();
    for target in targets {
        let scratch = work.join("corpus").join(target);
        let artifacts = work.join("artifacts").join(target);
        let logs = work.join("logs");
        for dir in [&scratch, &artifacts, &logs] {
            fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let log = logs.join(format!("{target}.log"));
        let out = fs::File::create(&log).with_context(|| format!("creating {}", log.display()))?;
        let err = out.try_clone().context("sharing the log file")?;
        let mut run = Command::new(&cargo_fuzz);
        run.current_dir(&workspace.root).args(["fuzz", "run"]);
        build_args(&mut run);
        run.arg(target)
            .arg(&scratch)
            .arg(workspace.root.join(CORPUS_DIR).join(target))
            .arg("--")
            .arg(format!("-max_total_time={seconds}"))
            .arg(format!("-timeout={INPUT_TIMEOUT_SECONDS}"))
            .arg(format!("-artifact_prefix={}/", artifacts.display()))
            .arg("-print_final_stats=1")
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        eprintln!(
            "xtask: fuzzing {target} for {seconds} s (log: {})",
            log.display()
        );
        let status = run
            .status()
            .with_context(|| format!("starting cargo fuzz run {target}"))?;
        let text = fs::read_to_string(&log).unwrap_or_default();
        let outcome = Outcome {
            target,
            runs: runs_done(&text),
            ok: status.success(),
            log,
        };
        if !outcome.ok {
            eprintln!("xtask: {target} failed ({status}); the end of its log:");
            for line in tail(&text, 80) {
                eprintln!("  {line}");
            }
            eprintln!(
                "xtask: the input is in {} (replay: add it to {CORPUS_DIR}/{target}/ and run \
                 `cargo test -p kapchart-fuzz --test corpus`)",
                artifacts.display()
            );
        }
        outcomes.push(outcome);
    }

    for o in &outcomes {
        let runs = o
            .runs
            .map_or_else(|| "an unknown number of".to_owned(), |n| n.to_string());
        let verdict = if o.ok {
            "nothing found".to_owned()
        } else {
            format!("FAILED, see {}", o.log.display())
        };
        eprintln!(
            "xtask: fuzz {}: {runs} runs in {seconds} s: {verdict}",
            o.target
        );
    }
    let failed: Vec<&str> = outcomes
        .iter()
        .filter(|o| !o.ok)
        .map(|o| o.target)
        .collect();
    if !failed.is_empty() {
        bail!("fuzz targets failed: {}", failed.join(", "));
    }
    Ok(())
}

/// The targets named (every one when none is), each known.
fn chosen(names: &[String]) -> Result<Vec<&'static str>> {
    if names.is_empty() {
        return Ok(TARGETS.to_vec());
    }
    names
        .iter()
        .map(|name| {
            TARGETS
                .iter()
                .copied()
                .find(|t| t == name)
                .with_context(|| format!("no fuzz target {name}; the targets: {TARGETS:?}"))
        })
        .collect()
}

/// The number in libFuzzer's closing line `Done N runs in S second(s)`.
fn runs_done(log: &str) -> Option<u64> {
    log.lines().rev().find_map(|line| {
        let rest = line.strip_prefix("Done ")?;
        let (runs, _) = rest.split_once(" runs in ")?;
        runs.parse().ok()
    })
}

fn tail(text: &str, n: usize) -> Vec<&str> {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].to_vec()
}

/// cargo-fuzz [`CARGO_FUZZ_VERSION`]: on PATH, else in
/// `target/fuzz-tools/bin/`, else installed there from crates.io.
fn ensure_cargo_fuzz(workspace: &Workspace) -> Result<PathBuf> {
    let installed = workspace
        .target
        .join(TOOLS_DIR)
        .join("bin")
        .join("cargo-fuzz");
    let candidates = [crate::tools::on_path("cargo-fuzz"), Some(installed.clone())];
    for candidate in candidates.into_iter().flatten() {
        if is_pinned_version(&candidate) {
            eprintln!("xtask: using {}", candidate.display());
            return Ok(candidate);
        }
    }
    let root = workspace.target.join(TOOLS_DIR);
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut install = Command::new(cargo);
    install
        .args(["install", "cargo-fuzz", "--locked", "--version"])
        .arg(format!("={CARGO_FUZZ_VERSION}"))
        .arg("--root")
        .arg(&root);
    eprintln!(
        "xtask: installing cargo-fuzz {CARGO_FUZZ_VERSION}: {}",
        crate::describe(&install)
    );
    let status = install.status().context("starting cargo install")?;
    ensure!(
        status.success(),
        "cargo install cargo-fuzz failed ({status})"
    );
    ensure!(
        is_pinned_version(&installed),
        "cargo install finished but {} is not cargo-fuzz {CARGO_FUZZ_VERSION}",
        installed.display()
    );
    Ok(installed)
}

/// Whether `binary --version` says `cargo-fuzz <CARGO_FUZZ_VERSION>`.
fn is_pinned_version(binary: &Path) -> bool {
    Command::new(binary)
        .arg("--version")
        .output()
        .is_ok_and(|out| {
            String::from_utf8_lossy(&out.stdout).trim()
                == format!("cargo-fuzz {CARGO_FUZZ_VERSION}")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_targets_are_the_fuzz_projects_binaries_and_corpora() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let manifest = fs::read_to_string(root.join(FUZZ_DIR).join("Cargo.toml"))
            .expect("the fuzz project's manifest");
        for target in TARGETS {
            assert!(
                manifest.contains(&format!("name = \"{target}\"")),
                "{target} is not a binary of {FUZZ_DIR}"
            );
            assert!(
                root.join(CORPUS_DIR).join(target).is_dir(),
                "{target}'s corpus"
            );
            assert!(
                root.join(FUZZ_DIR)
                    .join("fuzz_targets")
                    .join(format!("{target}.rs"))
                    .is_file()
            );
        }
    }

    #[test]
    fn the_run_count_is_read_from_libfuzzers_closing_line() {
        let log = "#2\tINITED cov: 3\nstat::number_of_executed_units: 812\nDone 812 runs in 2 second(s)\n";
        assert_eq!(runs_done(log), Some(812));
        assert_eq!(runs_done("==1== ERROR: libFuzzer: deadly signal\n"), None);
    }

    #[test]
    fn only_known_targets_are_chosen() {
        assert_eq!(chosen(&[]).expect("all"), TARGETS.to_vec());
        assert_eq!(chosen(&["merkle".to_owned()]).expect("one"), vec!["merkle"]);
        let err = chosen(&["parser".to_owned()]).expect_err("unknown");
        assert!(err.to_string().contains("no fuzz target parser"), "{err}");
    }
}
