//! The practice under test: `kapchart serve` (the real binary) on a free
//! port over a fresh database, with the command line beside it for
//! accounts, and the access log read back from the database.

use std::io::{BufRead as _, BufReader, Read as _};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kapchart_store::Database;
use kapchart_store::access::{self, AccessQuery, AccessRecord};

/// How long `kapchart serve` may take to say it listens (it migrates a
/// fresh database first).
const SERVE_START: Duration = Duration::from_secs(120);

/// The operating-system user the command line runs as (the access log's
/// `local-...` actor of `user add`).
const OS_USER: &str = "kc-browser";

/// A running `kapchart serve` over its own database; stopped (killed) on
/// drop, when its output is printed if the test is failing.
#[derive(Debug)]
pub struct Practice {
    dir: tempfile::TempDir,
    url: String,
    base: String,
    server: Child,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
}

/// An account made by `kapchart user add`.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// The account's id.
    pub id: String,
    /// Its API bearer token (stdout line 1).
    pub token: String,
    setup_code: Option<String>,
}

impl NewUser {
    /// The one-time setup code (stdout line 2) the user sets their
    /// password with at `/setup`.
    #[track_caller]
    pub fn setup_code(&self) -> &str {
        self.setup_code.as_deref().unwrap_or_else(|| {
            panic!(
                "`kapchart user add --name {}` printed no setup code (line 2 of its stdout)",
                self.id
            )
        })
    }
}

impl Practice {
    /// A server on a fresh SQLite file in a temporary folder.
    pub fn sqlite() -> Practice {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let url = format!("sqlite://{}", dir.path().join("practice.db").display());
        Practice::start(dir, url)
    }

    /// A server on the given (fresh) database, e.g. a PostgreSQL one from
    /// `kapchart_testkit::postgres()` (the caller cleans it up after
    /// dropping the practice).
    pub fn on(url: &str) -> Practice {
        Practice::start(
            tempfile::tempdir().expect("a temporary folder"),
            url.to_owned(),
        )
    }

    fn start(dir: tempfile::TempDir, url: String) -> Practice {
        let mut server = kapchart(dir.path(), &url)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("kapchart serve starts");
        let stdout = Arc::new(Mutex::new(String::new()));
        let stderr = Arc::new(Mutex::new(String::new()));
        drain(
            server.stdout.take().expect("stdout"),
            Arc::clone(&stdout),
            None,
        );
        let (listening, address) = mpsc::channel();
        drain(
            server.stderr.take().expect("stderr"),
            Arc::clone(&stderr),
            Some(listening),
        );
        // The line `kapchart: listening on http://ADDR`, or the end of
        // stderr (the server stopped) first.
        let base = match address.recv_timeout(SERVE_START) {
            Ok(base) => base,
            Err(e) => {
                let _ = server.kill();
                let _ = server.wait();
                panic!(
                    "kapchart serve did not say it listens ({e}); its stderr:\n{}",
                    stderr.lock().expect("stderr")
                );
            }
        };
        Practice {
            dir,
            url,
            base,
            server,
            stdout,
            stderr,
        }
    }

    /// The server's address: `http://127.0.0.1:PORT`.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The database's URL.
    pub fn database_url(&self) -> &str {
        &self.url
    }

    /// What the server printed on stderr so far.
    pub fn server_log(&self) -> String {
        self.stderr.lock().expect("stderr").clone()
    }

    /// The admin token the first start printed (its only stdout line).
    pub fn admin_token(&self) -> String {
        let out = self.stdout.lock().expect("stdout");
        out.lines().next().unwrap_or_default().to_owned()
    }

    /// `kapchart ARGS` against this practice's database, in its folder.
    pub fn run(&self, args: &[&str]) -> Output {
        kapchart(self.dir.path(), &self.url)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("kapchart runs")
    }

    /// `kapchart user add --name ID --role ROLE`: the token (stdout line
    /// 1) and the one-time setup code (line 2).
    #[track_caller]
    pub fn create_user(&self, id: &str, role: &str) -> NewUser {
        let out = self.run(&["user", "add", "--name", id, "--role", role]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "kapchart user add --name {id} --role {role}: {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        let mut lines = stdout.lines();
        NewUser {
            id: id.to_owned(),
            token: lines.next().unwrap_or_default().trim().to_owned(),
            setup_code: lines.next().map(|l| l.trim().to_owned()),
        }
    }

    /// Every entry of the access log, oldest first (read from the
    /// database, as `kapchart report access` reads it).
    pub async fn access_log(&self) -> Vec<AccessRecord> {
        let db = Database::open(&self.url)
            .await
            .expect("the practice's database opens");
        let entries = access::list(&db, &AccessQuery::default())
            .await
            .expect("the access log reads");
        db.close().await;
        entries
    }
}

impl Drop for Practice {
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
        if std::thread::panicking() {
            eprintln!(
                "--- kapchart serve ({}), stderr:\n{}",
                self.base,
                self.stderr.lock().map(|s| s.clone()).unwrap_or_default()
            );
        }
    }
}

/// The binary, in `dir`, on the database `url`, as the OS user
/// [`OS_USER`], with nothing from the outside that changes its behaviour.
fn kapchart(dir: &std::path::Path, url: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kapchart"));
    cmd.current_dir(dir)
        .env("DATABASE_URL", url)
        .env("USER", OS_USER)
        .env_remove("LOGNAME")
        .env_remove("KAPCHART_KEY_FILE")
        .env_remove("RUST_LOG");
    cmd
}

/// Reads `pipe` to its end on a thread of its own, into `into`; sends the
/// address of the first `kapchart: listening on ADDR` line to `listening`.
fn drain(
    pipe: impl std::io::Read + Send + 'static,
    into: Arc<Mutex<String>>,
    listening: Option<mpsc::Sender<String>>,
) {
    std::thread::spawn(move || {
        let mut reader = BufReader::new(pipe);
        let mut listening = listening;
        loop {
            let mut line = String::new();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            if let Some(address) = line.trim_end().strip_prefix("kapchart: listening on ")
                && let Some(sender) = listening.take()
            {
                let _ = sender.send(address.to_owned());
            }
            into.lock().expect("output buffer").push_str(&line);
        }
        // Anything unreadable as lines (not expected) is kept too.
        let mut rest = String::new();
        let _ = reader.read_to_string(&mut rest);
        into.lock().expect("output buffer").push_str(&rest);
    });
}
