//! Keeps the documentation, the rules and the tests in step, and the domain
//! crate free of I/O dependencies.

use std::collections::BTreeMap;
use std::process::Command;

use kapchart_domain::{Rule, Severity};

const DOMAIN_MD: &str = include_str!("../docs/domain.md");
const RULE_TESTS: &[&str] = &[
    include_str!("rules_clinical.rs"),
    include_str!("rules_record.rs"),
    include_str!("rules_authority.rs"),
    include_str!("rules_settings.rs"),
];

/// `code -> severity` from the rule table in the "## Rules" section of
/// docs/domain.md.
fn documented_rules() -> BTreeMap<String, String> {
    DOMAIN_MD
        .lines()
        .skip_while(|l| *l != "## Rules")
        .skip(1)
        .take_while(|l| !l.starts_with("## "))
        .filter_map(|line| {
            let mut cells = line.split('|').map(str::trim).skip(1);
            let code = cells.next()?.strip_prefix('`')?.strip_suffix('`')?;
            let severity = cells.next()?;
            Some((code.to_owned(), severity.to_owned()))
        })
        .collect()
}

fn severity_word(s: Severity) -> &'static str {
    match s {
        Severity::Hard => "hard",
        Severity::Soft => "soft",
        Severity::PrescriberOverride => "prescriber",
    }
}

#[test]
fn every_rule_is_documented_once_with_its_severity() {
    let documented = documented_rules();
    let known: BTreeMap<String, String> = Rule::ALL
        .iter()
        .map(|r| (r.code().to_owned(), severity_word(r.severity()).to_owned()))
        .collect();
    assert_eq!(documented, known, "docs/domain.md rule table vs Rule::ALL");
}

#[test]
fn every_rule_has_a_test_named_after_it_that_asserts_the_refusal() {
    let sources = RULE_TESTS.concat();
    let mut missing = Vec::new();
    for rule in Rule::ALL {
        let name = format!("fn {}(", rule.code().replace('.', "_"));
        let refusal = format!("Rule::{rule:?}");
        if !sources.contains(&name) || !sources.contains(&refusal) {
            missing.push(rule.code());
        }
    }
    assert!(missing.is_empty(), "rules without a test: {missing:?}");
}

/// The domain does no I/O: no database driver, HTTP stack or runtime I/O
/// crate may appear among its (normal) dependencies.
#[test]
fn domain_crate_has_no_io_dependencies() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let out = Command::new(cargo)
        .args([
            "tree",
            "--offline",
            "--locked",
            "-p",
            "kapchart-domain",
            "-e",
            "normal",
            "--prefix",
            "none",
            "--format",
            "{p}",
        ])
        .current_dir(crate_dir())
        .output()
        .expect("cargo tree runs");
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tree = String::from_utf8_lossy(&out.stdout);
    let crates: Vec<&str> = tree
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert!(
        crates.contains(&"cqrs-es"),
        "cqrs-es is the framework: {crates:?}"
    );
    for banned in [
        "sqlx",
        "sqlx-core",
        "postgres-es",
        "sqlite-es",
        "axum",
        "hyper",
        "reqwest",
        "mio",
        "tokio-postgres",
        "rusqlite",
        "libsqlite3-sys",
        "socket2",
    ] {
        assert!(
            !crates.contains(&banned),
            "kapchart-domain depends on {banned}"
        );
    }
    // cqrs-es brings tokio for its sync primitives only: no net, fs or time.
    let tokio = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()))
        .args([
            "tree",
            "--offline",
            "--locked",
            "-p",
            "kapchart-domain",
            "-e",
            "features",
            "-i",
            "tokio",
        ])
        .current_dir(crate_dir())
        .output()
        .expect("cargo tree runs");
    let features = String::from_utf8_lossy(&tokio.stdout);
    for io in ["feature \"net\"", "feature \"fs\"", "feature \"process\""] {
        assert!(
            !features.contains(io),
            "tokio {io} enabled for the domain:\n{features}"
        );
    }
}

/// This crate's folder, as cargo names it when it runs the tests: a path
/// compiled in would name wherever the test binary was built, e.g. the
/// fresh clone `.ci/run` builds in this checkout's target directory.
fn crate_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR").map_or_else(
        || std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")),
        std::path::PathBuf::from,
    )
}
