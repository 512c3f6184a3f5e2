//! Shared by the binary's end-to-end tests: run the real `kapchart` in a
//! fresh working directory against a fresh database, and check its exit
//! status and output.
#![allow(dead_code, unreachable_pub)]

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;

use kapchart_domain::{InMemoryPractice, PracticeSettings, Services, parse_command};
use kapchart_store::Database;
use serde_json::{Value, json};

/// Runs each scenario twice: on a fresh PostgreSQL database and on a fresh
/// SQLite file.
macro_rules! on_both_engines {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn postgres() {
                let db = kapchart_testkit::postgres().await;
                super::$name(&super::Env::postgres(&db.url)).await;
                db.cleanup().await;
            }

            #[tokio::test]
            async fn sqlite() {
                super::$name(&super::Env::sqlite()).await;
            }
        }
    )*};
}

pub const EX_OK: i32 = 0;
pub const EX_FAILURE: i32 = 1;
pub const EX_USAGE: i32 = 2;

/// `prev_hash` of a first entry and `previous` of a first checkpoint.
pub const ZEROS: &str = "0000000000000000000000000000000000000000000000000000000000000000";
/// RFC 6962: the root of the empty tree is SHA-256 of the empty string.
pub const EMPTY_ROOT: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
/// A database that cannot be opened: a command that touches it fails.
pub const NO_DATABASE: &str = "sqlite:///nonexistent/dir/x.db";
/// The key file used when neither --key-file nor KAPCHART_KEY_FILE is given.
pub const DEFAULT_KEY_FILE: &str = "kapchart-signing.key";
/// The operating-system user (USER) the binary runs as in the tests.
pub const OS_USER: &str = "kc-tester";
/// The access log's user id of the command line run by [`OS_USER`].
pub const CLI_USER_ID: &str = "local-kc-tester";

// ---------------------------------------------------------------------------
// Running the binary

/// What one run of the binary did.
#[derive(Debug)]
pub struct Run {
    pub args: Vec<String>,
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }

    /// Asserts exit 0 and no error line; returns the run.
    pub fn ok(self) -> Self {
        assert_eq!(self.code, Some(EX_OK), "{self:#?}");
        assert!(!self.stderr.contains("kapchart: "), "{self:#?}");
        self
    }

    /// Stdout parsed as one JSON document.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "kapchart {:?}: stdout is not JSON ({e}):\n{}",
                self.args, self.stdout
            )
        })
    }

    /// Asserts exit `code` with exactly one line on stderr, `kapchart: ...`,
    /// holding every one of `needles`; returns that line.
    pub fn fails(&self, code: i32, needles: &[&str]) -> String {
        assert_eq!(self.code, Some(code), "{self:#?}");
        let lines: Vec<&str> = self.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "exactly one line on stderr: {self:#?}");
        let line = lines[0];
        assert!(line.starts_with("kapchart: "), "{self:#?}");
        for needle in needles {
            assert!(line.contains(needle), "{needle:?} missing from {line:?}");
        }
        assert!(!self.all().contains("panicked"), "{self:#?}");
        line.to_owned()
    }

    /// Asserts a failure with exactly one line on stderr and nothing on stdout.
    pub fn fails_quietly(&self, code: i32, needles: &[&str]) -> String {
        let line = self.fails(code, needles);
        assert_eq!(self.stdout, "", "nothing on stdout: {self:#?}");
        line
    }

    /// The finding lines of a text `verify` report (all but the summary).
    pub fn finding_lines(&self) -> Vec<&str> {
        let mut lines: Vec<&str> = self.stdout.lines().collect();
        let summary = lines.pop().unwrap_or_default();
        assert!(summary.starts_with("verified "), "{self:#?}");
        lines
    }

    /// The last line of stdout: `verify`'s summary.
    pub fn summary(&self) -> &str {
        self.stdout.lines().last().unwrap_or_default()
    }
}

/// A test's working directory (the binary's cwd, holding the key files)
/// and its database.
pub struct Env {
    pub dir: tempfile::TempDir,
    pub url: String,
    pub engine: &'static str,
}

impl Env {
    /// A SQLite file in the working directory, not created yet.
    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temp working dir");
        let url = format!("sqlite://{}", dir.path().join("practice.db").display());
        Self {
            dir,
            url,
            engine: "sqlite",
        }
    }

    /// The given (fresh) PostgreSQL database.
    pub fn postgres(url: &str) -> Self {
        Self {
            dir: tempfile::tempdir().expect("temp working dir"),
            url: url.to_owned(),
            engine: "postgresql",
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn write(&self, name: &str, contents: &str) {
        std::fs::write(self.path(name), contents).expect("write test file");
    }

    pub fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path(name)).expect("read test file")
    }

    /// `kapchart ARGS` in the working directory, with DATABASE_URL naming
    /// the test database (an explicit --database-url wins), run by the OS
    /// user [`OS_USER`] (USER; no LOGNAME), and no KAPCHART_KEY_FILE or
    /// RUST_LOG from the outside.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_kapchart"));
        cmd.args(args)
            .current_dir(self.dir.path())
            .env("DATABASE_URL", &self.url)
            .env("USER", OS_USER)
            .env_remove("LOGNAME")
            .env_remove("KAPCHART_KEY_FILE")
            .env_remove("RUST_LOG");
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Run {
        self.run_command(args, &mut self.command(args))
    }

    pub fn run_command(&self, args: &[&str], cmd: &mut Command) -> Run {
        let out = cmd.output().expect("run kapchart");
        let run = Run {
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            code: out.status.code(),
            stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
            stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
        };
        assert!(!run.all().contains("panicked"), "{run:#?}");
        run
    }

    /// The hex public key of the key file `key_file` (created if missing).
    pub fn public_key(&self, key_file: &str) -> String {
        let run = self
            .run(&[
                "--database-url",
                NO_DATABASE,
                "--key-file",
                key_file,
                "checkpoint",
                "--public-key",
            ])
            .ok();
        let key = run.stdout.trim_end().to_owned();
        assert_eq!(run.stdout, format!("{key}\n"), "one line: {run:#?}");
        assert!(is_hex(&key, 64), "{key:?}");
        key
    }
}

/// The permission bits of `path`.
pub fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

// ---------------------------------------------------------------------------
// Writing records behind the binary's back

/// Issues commands through cqrs-es and the store, as the API will:
/// `(client, command id, actor id, role, body)`. `issued_at` is now, and
/// every day in the bodies lies before it.
pub async fn record(url: &str, commands: &[(&str, &str, &str, &str, Value)]) {
    let db = Database::open(url).await.expect("the test database opens");
    // Every actor of the commands, and every therapist and prescriber
    // their bodies name, is an active account of its role.
    let practice = InMemoryPractice::new(PracticeSettings::standard());
    let enrol = |id: &str, role: kapchart_domain::Role| {
        practice.enrol(
            kapchart_domain::UserId::parse(id).expect("a valid user id"),
            role,
        );
    };
    for (_, _, actor, role, body) in commands {
        enrol(actor, role.parse().expect("a valid role"));
        for fields in body.as_object().into_iter().flat_map(|b| b.values()) {
            if let Some(t) = fields["therapist"].as_str() {
                enrol(t, kapchart_domain::Role::Therapist);
            }
            if let Some(p) = fields["prescriber"].as_str() {
                enrol(p, kapchart_domain::Role::Prescriber);
            }
        }
    }
    let services: Services = Arc::new(practice);
    let cqrs = db.client_cqrs(kapchart_store::system_clock(), services);
    for (client, id, actor, role, body) in commands {
        let json = json!({
            "id": id,
            "actor": {"id": actor, "role": role},
            "issued_at": chrono::Utc::now().to_rfc3339(),
            "body": body,
        });
        let command = parse_command(&json.to_string())
            .unwrap_or_else(|e| panic!("command {id} does not parse: {e}"));
        let metadata = kapchart_store::command_metadata(&command);
        cqrs.execute_with_metadata(client, command, metadata)
            .await
            .unwrap_or_else(|e| panic!("command {id} for {client} refused: {e}"));
    }
    db.close().await;
}

pub fn is_hex(text: &str, len: usize) -> bool {
    text.len() == len && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Reads `kapchart serve`'s stderr up to its "listening on" line: the
/// base URL it names, and everything read so far (for failure messages).
pub fn wait_until_listening(
    stderr: &mut std::io::BufReader<std::process::ChildStderr>,
) -> (String, String) {
    use std::io::BufRead as _;
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        let n = stderr.read_line(&mut line).expect("stderr readable");
        assert!(n > 0, "serve ended before listening:\n{seen}");
        seen.push_str(&line);
        if let Some(base) = line.trim_end().strip_prefix("kapchart: listening on ") {
            return (base.to_owned(), seen);
        }
    }
}

/// Adds an account through a running server's admin API (`POST
/// /api/v1/users` with the admin's token); returns its token.
pub async fn add_user(
    http: &reqwest::Client,
    base: &str,
    admin: &str,
    id: &str,
    role: &str,
) -> String {
    let response = http
        .post(format!("{base}/api/v1/users"))
        .bearer_auth(admin)
        .json(&json!({ "user_id": id, "role": role }))
        .send()
        .await
        .expect("the admin API answers");
    assert_eq!(response.status().as_u16(), 201, "adding {id}");
    let body: Value = response.json().await.expect("JSON");
    body["token"].as_str().expect("a token").to_owned()
}
