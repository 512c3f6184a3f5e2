//! `kapchart serve` drains the requests in flight when it is told to stop
//! (SIGTERM): a read held up by a lock the test takes on the events table
//! is in flight (PostgreSQL shows its query waiting) when SIGTERM comes;
//! the server stops accepting connections at once, but answers that read
//! 200 once the lock goes, and only then exits 0, saying it stopped.

#[allow(unused_macros)] // on_both_engines: this test is PostgreSQL's.
mod common;

use std::io::{BufRead as _, BufReader, Read as _};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::*;
use sqlx::{Connection as _, PgConnection};

/// How long each step may take.
const BOUND: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_the_requests_in_flight() {
    let db = kapchart_testkit::postgres().await;
    let env = Env::postgres(&db.url);

    let mut cmd = env.command(&["serve", "--listen", "127.0.0.1:0"]);
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("kapchart serve starts");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let (base, mut seen) = wait_until_listening(&mut stderr);
    // The first start prints the admin's token (before it listens).
    let mut token = String::new();
    stdout.read_line(&mut token).expect("the admin's token");
    let token = token.trim().to_owned();

    // Hold every reader of the events table.
    let mut lock = PgConnection::connect(&db.url).await.expect("connects");
    sqlx::query("BEGIN")
        .execute(&mut lock)
        .await
        .expect("begin");
    sqlx::query("LOCK TABLE events IN ACCESS EXCLUSIVE MODE")
        .execute(&mut lock)
        .await
        .expect("lock");

    // A read (the verification reads every event) is sent, and waits.
    let http = reqwest::Client::new();
    let in_flight = tokio::spawn(
        http.get(format!("{base}/api/v1/verification"))
            .bearer_auth(&token)
            .send(),
    );
    let mut watch = PgConnection::connect(&db.url).await.expect("connects");
    let deadline = Instant::now() + BOUND;
    loop {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity \
             WHERE datname = current_database() AND wait_event_type = 'Lock'",
        )
        .fetch_one(&mut watch)
        .await
        .expect("pg_stat_activity");
        if waiting > 0 {
            break;
        }
        assert!(Instant::now() < deadline, "the read never reached the lock");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // SIGTERM: the server stops accepting connections at once...
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let deadline = Instant::now() + BOUND;
    while http
        .get(format!("{base}/healthz"))
        .timeout(Duration::from_secs(1))
        .send()
        .await
        .is_ok()
    {
        assert!(
            Instant::now() < deadline,
            "the server still accepts connections after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // ... but is still running, serving the read in flight.
    assert!(
        child.try_wait().expect("the child's status").is_none(),
        "serve exited with a request in flight"
    );

    // The lock goes: the read is answered, then the server exits.
    sqlx::query("ROLLBACK")
        .execute(&mut lock)
        .await
        .expect("rollback");
    let response = tokio::time::timeout(BOUND, in_flight)
        .await
        .expect("the read is answered in time")
        .expect("the request task")
        .expect("the read is answered, not cut");
    assert_eq!(response.status().as_u16(), 200);
    let body: serde_json::Value = response.json().await.expect("JSON");
    assert_eq!(body["intact"], true, "{body}");

    let exit = child.wait().expect("serve exits");
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).expect("stderr");
    seen.push_str(&rest);
    assert_eq!(exit.code(), Some(EX_OK), "{seen}");
    assert!(seen.contains("kapchart: stopped"), "{seen}");

    drop(lock);
    drop(watch);
    db.cleanup().await;
}
