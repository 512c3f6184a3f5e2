//! Runs the real `kapchart` binary and checks its command-line contract:
//! help, version, exit statuses, stderr/stdout separation, `--database-url`
//! validation and that no database file (nor key file) is created by the
//! subcommands that fail before connecting. The subcommands are run
//! against real databases in `audit_commands.rs` (migrate, verify,
//! checkpoint, export, demo), `report_commands.rs` (report, rebuild),
//! `user_commands.rs` (user, report access) and `serve_command.rs`
//! (serve).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

const EX_USAGE: i32 = 2;

const SUBCOMMANDS: [&str; 9] = [
    "serve",
    "migrate",
    "verify",
    "checkpoint",
    "export",
    "report",
    "rebuild",
    "demo",
    "user",
];

/// A fresh, empty working directory, removed on drop.
struct WorkDir(PathBuf);

impl WorkDir {
    fn new() -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("kapchart-cli-test-{}-{n}", std::process::id()));
        if path.exists() {
            std::fs::remove_dir_all(&path).expect("remove stale work dir");
        }
        std::fs::create_dir_all(&path).expect("create work dir");
        Self(path)
    }

    fn entries(&self) -> Vec<String> {
        std::fs::read_dir(&self.0)
            .expect("read work dir")
            .map(|e| {
                e.expect("dir entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect()
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[derive(Debug)]
struct Output {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Output {
    fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// Runs `kapchart ARGS` in a fresh directory with `env` set (and
/// DATABASE_URL / KAPCHART_KEY_FILE / RUST_LOG removed unless given), and checks that it left
/// the directory empty: no kapchart.db or anything else.
fn kapchart_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let dir = WorkDir::new();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kapchart"));
    cmd.args(args)
        .current_dir(&dir.0)
        .env_remove("DATABASE_URL")
        .env_remove("KAPCHART_KEY_FILE")
        .env_remove("RUST_LOG");
    for (key, value) in env {
        cmd.env(key, value);
    }
    let out = cmd.output().expect("run kapchart");
    let output = Output {
        code: out.status.code(),
        stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
    };
    assert_no_files(&dir, args, &output);
    output
}

fn kapchart(args: &[&str]) -> Output {
    kapchart_env(args, &[])
}

fn assert_no_files(dir: &WorkDir, args: &[&str], output: &Output) {
    assert!(
        !Path::new(&dir.0).join("kapchart.db").exists(),
        "kapchart {args:?} created kapchart.db; {output:?}"
    );
    let entries = dir.entries();
    assert!(
        entries.is_empty(),
        "kapchart {args:?} created {entries:?}; {output:?}"
    );
}

#[test]
fn help_lists_every_subcommand_and_the_exit_statuses() {
    for flag in ["--help", "-h"] {
        let out = kapchart(&[flag]);
        assert_eq!(out.code, Some(0), "{out:?}");
        assert_eq!(out.stderr, "", "help goes to stdout");
        let commands: Vec<&str> = out
            .stdout
            .split("Commands:")
            .nth(1)
            .expect("a Commands: section")
            .lines()
            .skip(1)
            .take_while(|line| !line.trim().is_empty())
            .filter_map(|line| line.split_whitespace().next())
            .collect();
        for sub in SUBCOMMANDS {
            assert!(
                commands.contains(&sub),
                "{flag}: {sub} missing from {commands:?}"
            );
        }
        assert!(
            out.stdout.contains("--database-url <URL>"),
            "{}",
            out.stdout
        );
        assert!(
            out.stdout.contains("Exit status:"),
            "{flag} does not document the exit statuses"
        );
    }
}

#[test]
fn user_help_lists_its_subcommands() {
    let out = kapchart(&["user", "--help"]);
    assert_eq!(out.code, Some(0), "{out:?}");
    for sub in ["add", "list", "token", "disable", "reset"] {
        assert!(
            out.stdout.lines().any(|l| l.trim_start().starts_with(sub)),
            "{sub} missing from:\n{}",
            out.stdout
        );
    }
    let cases: [(&str, &[&str]); 4] = [
        (
            "add",
            &[
                "--name <ID>",
                "--role <ROLE>",
                "front_desk",
                "--display-name <NAME>",
                "local-",
            ],
        ),
        ("token", &["--name <ID>"]),
        ("disable", &["--name <ID>"]),
        ("reset", &["--name <ID>", "setup code"]),
    ];
    for (sub, flags) in cases {
        let out = kapchart(&["user", sub, "--help"]);
        assert_eq!(out.code, Some(0), "{sub}: {out:?}");
        for flag in flags {
            assert!(
                out.stdout.contains(flag),
                "user {sub} --help lacks {flag}:\n{}",
                out.stdout
            );
        }
    }
}

#[test]
fn subcommand_help_describes_planned_flags() {
    let cases: [(&str, &[&str]); 7] = [
        ("serve", &["--listen <ADDR>", "127.0.0.1:8080"]),
        (
            "verify",
            &[
                "--client <ID>",
                "--checkpoint <FILE>",
                "--bundle <FILE>",
                "--public-key <HEX>",
                "--json",
            ],
        ),
        ("checkpoint", &["--public-key", "--key-file <PATH>"]),
        (
            "export",
            &[
                "--client <ID>",
                "--format <FORMAT>",
                "bundle",
                "json",
                "--output <FILE>",
            ],
        ),
        (
            "report",
            &[
                "--from <DATE>",
                "--to <DATE>",
                "--client <ID>",
                "--format <FORMAT>",
                "superbill",
                "controlled-substances",
                "outcomes",
                "csv",
            ],
        ),
        ("rebuild", &["--view <NAME>", "compliance"]),
        (
            "demo",
            &[
                "--clients <N>",
                "[default: 40]",
                "--seed <S>",
                "[default: 1]",
            ],
        ),
    ];
    for (sub, flags) in cases {
        let out = kapchart(&[sub, "--help"]);
        assert_eq!(out.code, Some(0), "{sub}: {out:?}");
        for flag in flags {
            assert!(
                out.stdout.contains(flag),
                "{sub} --help lacks {flag}:\n{}",
                out.stdout
            );
        }
    }
}

#[test]
fn version_prints_the_package_version() {
    for flag in ["--version", "-V"] {
        let out = kapchart(&[flag]);
        assert_eq!(out.code, Some(0), "{out:?}");
        assert_eq!(
            out.stdout,
            format!("kapchart {}\n", env!("CARGO_PKG_VERSION"))
        );
        assert_eq!(out.stderr, "");
    }
}

#[test]
fn help_documents_the_global_key_file_option() {
    let out = kapchart(&["--help"]);
    assert_eq!(out.code, Some(0), "{out:?}");
    for text in [
        "--key-file <PATH>",
        "KAPCHART_KEY_FILE",
        "[default: kapchart-signing.key]",
    ] {
        assert!(
            out.stdout.contains(text),
            "--help lacks {text}:\n{}",
            out.stdout
        );
    }
    // Global: accepted by, and shown for, a subcommand that does not use it.
    let out = kapchart(&["rebuild", "--help"]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(out.stdout.contains("--key-file <PATH>"), "{}", out.stdout);
}

/// Asserts exit 2 with one line on stderr, `kapchart: cannot connect ...`,
/// naming the URL with its password hidden.
fn assert_cannot_connect(args: &[&str], redacted: &str, out: &Output) {
    assert_eq!(out.code, Some(EX_USAGE), "kapchart {args:?}: {out:?}");
    assert!(
        out.stderr
            .starts_with("kapchart: cannot connect to the database"),
        "kapchart {args:?}: {out:?}"
    );
    assert!(out.stderr.ends_with(&format!("({redacted})\n")), "{out:?}");
    assert_eq!(out.stderr.lines().count(), 1, "{out:?}");
    assert_eq!(out.stdout, "", "kapchart {args:?} wrote to stdout");
    assert!(!out.all().contains("secret"), "{}", out.all());
}

#[test]
fn database_urls_are_used_without_echoing_their_password() {
    let url = "postgres://u:secret@127.0.0.1:1/db";
    let args = ["--database-url", url, "user", "list"];
    let out = kapchart(&args);
    assert_cannot_connect(&args, "postgres://u:***@127.0.0.1:1/db", &out);

    let args = ["report", "access"];
    let out = kapchart_env(&args, &[("DATABASE_URL", "postgresql://u:secret@h/db")]);
    assert_cannot_connect(&args, "postgresql://u:***@h/db", &out);

    // An in-memory database: no file, and no users in it.
    let args = ["user", "list", "--database-url", "sqlite::memory:"];
    let out = kapchart(&args);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(out.stdout.ends_with("(no rows)\n"), "{out:?}");
}

#[test]
fn unknown_subcommand_is_a_usage_error() {
    let out = kapchart(&["frobnicate"]);
    assert_eq!(out.code, Some(EX_USAGE), "{out:?}");
    assert!(out.stderr.contains("frobnicate"), "{}", out.stderr);
    assert_eq!(out.stdout, "");
}

#[test]
fn missing_subcommand_and_bad_flags_are_usage_errors() {
    let cases: [&[&str]; 9] = [
        &[],
        &["user"],
        &["serve", "--no-such-flag"],
        &["serve", "--listen", "not-an-address"],
        &["demo", "--clients", "0"],
        &["demo", "--clients", "many"],
        &["export"],
        &["report", "2024-01-01"],
        &["report", "billing", "--from", "2025-02-29"],
    ];
    for args in cases {
        let out = kapchart(args);
        assert_eq!(out.code, Some(EX_USAGE), "kapchart {args:?}: {out:?}");
        assert_eq!(out.stdout, "", "kapchart {args:?}");
        assert!(
            !out.stderr.contains("(tracked in the issue list)"),
            "kapchart {args:?}"
        );
    }
    let out = kapchart(&["verify", "--public-key", "abc"]);
    assert_eq!(out.code, Some(EX_USAGE), "{out:?}");
    assert!(out.stderr.contains("--public-key"), "{}", out.stderr);
}

#[test]
fn unsupported_database_url_is_a_usage_error_naming_the_flag() {
    for url in [
        "mysql://x",
        "kapchart.db",
        "sqlite:",
        "postgres:db",
        "http://h/db",
    ] {
        let args = ["--database-url", url, "migrate"];
        let out = kapchart(&args);
        assert_eq!(out.code, Some(EX_USAGE), "{url}: {out:?}");
        assert!(
            out.stderr.contains("--database-url"),
            "{url}: {}",
            out.stderr
        );
        assert!(
            !out.stderr.contains("(tracked in the issue list)"),
            "{url}: {}",
            out.stderr
        );
        assert_eq!(out.stdout, "", "{url}");
    }
}

#[test]
fn bad_database_url_from_the_environment_is_a_usage_error() {
    let out = kapchart_env(&["migrate"], &[("DATABASE_URL", "mysql://x")]);
    assert_eq!(out.code, Some(EX_USAGE), "{out:?}");
    assert!(out.stderr.contains("--database-url"), "{}", out.stderr);
}

#[test]
fn passwords_in_database_urls_are_never_shown() {
    let bad = [
        "postgress://u:secret@h/db",
        "mysql://u:secret@h/db",
        "postgres:u:secret@h/db",
        "pg://u:secret@h/db",
        "u:secret@h/db",
    ];
    for url in bad {
        let out = kapchart(&["--database-url", url, "serve"]);
        assert_eq!(out.code, Some(EX_USAGE), "{url}: {out:?}");
        assert!(
            out.stderr.contains("--database-url"),
            "{url}: {}",
            out.stderr
        );
        assert!(!out.all().contains("secret"), "{url} leaked: {}", out.all());

        let out = kapchart(&[&format!("--database-url={url}"), "serve"]);
        assert_eq!(out.code, Some(EX_USAGE), "{url}: {out:?}");
        assert!(!out.all().contains("secret"), "{url} leaked: {}", out.all());

        let out = kapchart_env(&["serve"], &[("DATABASE_URL", url)]);
        assert_eq!(out.code, Some(EX_USAGE), "{url}: {out:?}");
        assert!(!out.all().contains("secret"), "{url} leaked: {}", out.all());
    }
}

#[test]
fn passwords_are_hidden_from_help_and_from_other_usage_errors() {
    let env = [("DATABASE_URL", "postgres://u:secret@h/db")];
    let out = kapchart_env(&["--help"], &env);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(!out.all().contains("secret"), "{}", out.all());

    // A URL that ends up where clap does not expect it is echoed redacted.
    let out = kapchart(&["serve", "postgres://u:secret@h/db"]);
    assert_eq!(out.code, Some(EX_USAGE), "{out:?}");
    assert!(
        out.stderr.contains("postgres://u:***@h/db"),
        "{}",
        out.stderr
    );
    assert!(!out.all().contains("secret"), "{}", out.all());

    let out = kapchart(&["--databse-url", "postgres://u:secret@h/db", "serve"]);
    assert_eq!(out.code, Some(EX_USAGE), "{out:?}");
    assert!(!out.all().contains("secret"), "{}", out.all());
}

#[test]
fn logs_go_to_stderr_and_follow_verbose_and_rust_log() {
    // A server that refuses connections: the command fails at once, after
    // its debug logs.
    let refused = "postgres://u:secret@127.0.0.1:1/db";
    let args = ["-vv", "--database-url", refused, "user", "list"];
    let out = kapchart(&args);
    assert_eq!(out.code, Some(EX_USAGE), "{out:?}");
    assert_eq!(out.stdout, "", "logs must not go to stdout");
    assert!(
        out.stderr.contains("DEBUG"),
        "-vv shows debug logs: {}",
        out.stderr
    );
    assert!(
        out.stderr.contains("postgres://u:***@127.0.0.1:1/db"),
        "{}",
        out.stderr
    );
    assert!(!out.all().contains("secret"), "{}", out.all());
    let last = out.stderr.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("kapchart: cannot connect to the database"),
        "{}",
        out.stderr
    );

    let args = ["user", "list"];
    let out = kapchart_env(&args, &[("RUST_LOG", "debug"), ("DATABASE_URL", refused)]);
    assert_eq!(out.code, Some(EX_USAGE), "{out:?}");
    assert!(
        out.stderr.contains("DEBUG"),
        "RUST_LOG=debug is honoured: {}",
        out.stderr
    );

    let out = kapchart_env(&args, &[("RUST_LOG", "error"), ("DATABASE_URL", refused)]);
    assert_cannot_connect(&args, "postgres://u:***@127.0.0.1:1/db", &out);
}
