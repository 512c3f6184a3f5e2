//! `kapchart serve` as a process: the first start on an empty database
//! creates the admin account and prints its token once; the API answers
//! on the address it names; SIGTERM stops it cleanly.

#[macro_use]
mod common;

use std::io::{BufReader, Read as _};
use std::process::{Child, ChildStderr, ChildStdout, Stdio};

use common::*;

/// A running server: the process, its base URL, its output so far.
struct Server {
    child: Child,
    base: String,
    stdout: ChildStdout,
    stderr: BufReader<ChildStderr>,
    stderr_seen: String,
}

impl Server {
    /// Starts `kapchart serve` on a free port and waits for its
    /// "listening on" line (read from its stderr, no polling).
    fn start(env: &Env) -> Server {
        let mut cmd = env.command(&["serve", "--listen", "127.0.0.1:0"]);
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("kapchart serve starts");
        let stdout = child.stdout.take().expect("stdout");
        let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
        let (base, seen) = wait_until_listening(&mut stderr);
        Server {
            child,
            base,
            stdout,
            stderr,
            stderr_seen: seen,
        }
    }

    /// Sends SIGTERM and waits: (exit code, all stdout, all stderr).
    fn stop(mut self) -> (Option<i32>, String, String) {
        let status = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
        let exit = self.child.wait().expect("serve exits");
        let mut out = String::new();
        self.stdout.read_to_string(&mut out).expect("stdout");
        let mut rest = String::new();
        self.stderr.read_to_string(&mut rest).expect("stderr");
        self.stderr_seen.push_str(&rest);
        (exit.code(), out, self.stderr_seen)
    }
}

async fn get(base: &str, path: &str, token: Option<&str>) -> (u16, serde_json::Value) {
    let mut request = reqwest::Client::new().get(format!("{base}{path}"));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("the server answers");
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(serde_json::Value::Null);
    (status, body)
}

on_both_engines!(the_first_serve_creates_the_admin_and_prints_its_token_once);

async fn the_first_serve_creates_the_admin_and_prints_its_token_once(env: &Env) {
    let first = Server::start(env);
    // The token went to stdout before the server listened.
    let base = first.base.clone();
    let (status, body) = get(&base, "/api/v1/openapi.json", None).await;
    assert_eq!(status, 200);
    assert_eq!(body["info"]["title"], "kapchart");
    let (status, body) = get(&base, "/api/v1/verification", None).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("unauthenticated"))
    );
    let (code, stdout, stderr) = first.stop();
    assert_eq!(code, Some(EX_OK), "{stderr}");
    assert!(stderr.contains("kapchart: stopped"), "{stderr}");
    let token = stdout.trim().to_owned();
    assert_eq!(stdout.lines().count(), 1, "one line, the token: {stdout}");
    assert!(token.starts_with("kc_"), "{stdout}");
    assert!(stderr.contains("shown only once"), "{stderr}");
    assert!(!stderr.contains(&token), "the token is never logged");

    // The admin's token works; a second start prints no token.
    let second = Server::start(env);
    let (status, body) = get(&second.base, "/api/v1/verification", Some(&token)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["intact"], true);
    let (code, stdout, stderr) = second.stop();
    assert_eq!(code, Some(EX_OK), "{stderr}");
    assert_eq!(stdout, "", "no second admin token");
}

/// A server on a fresh SQLite file: the database and the `-wal` and
/// `-shm` files SQLite keeps beside it while connections are open hold
/// PHI, and are readable and writable by their owner only.
#[tokio::test]
async fn the_sqlite_files_of_a_running_server_are_private() {
    let env = Env::sqlite();
    let server = Server::start(&env);
    for name in ["practice.db", "practice.db-wal", "practice.db-shm"] {
        assert_eq!(mode(&env.path(name)), 0o600, "{name}");
    }
    let (code, _, stderr) = server.stop();
    assert_eq!(code, Some(EX_OK), "{stderr}");
}

/// An address that cannot be bound is a usage error naming the option.
#[test]
fn an_address_in_use_is_a_usage_error() {
    let env = Env::sqlite();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let address = taken.local_addr().expect("bound").to_string();
    let run = env.run(&["serve", "--listen", &address]);
    run.fails(EX_USAGE, &["--listen"]);
}
