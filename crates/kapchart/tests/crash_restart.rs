//! `kapchart serve` killed with SIGKILL under load loses nothing it
//! acknowledged, on PostgreSQL and on SQLite.
//!
//! The real binary serves; load clients (front desk) register clients and
//! record payments, each on its own clients and all on one shared client,
//! and record every acknowledged (2xx) command with its reply. Once enough
//! are acknowledged, the server is killed (SIGKILL: no drain, no shutdown,
//! the projector stopped wherever it was). The commands the clients sent
//! and got no answer to are in flight: applied or not, nobody knows.
//! The server is started again on the same database, and each command in
//! flight, sent again with its id and body, is answered 200. Three rounds
//! of load, kill and restart; then:
//! - each command in flight is applied once;
//! - an acknowledged command sent again is answered with its first result;
//! - every acknowledged command's events are in the store exactly once,
//!   and nothing else (no command the clients did not send);
//! - `kapchart verify` finds every chain intact;
//! - once the server has stopped, the views it kept, caught up, equal a
//!   rebuild of every view from the first event.

#[macro_use]
mod common;

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead as _, BufReader, Read as _};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use kapchart_projector::Projector;
use kapchart_store::{CLIENT_RECORD, Database};
use kapchart_views::{Row, ViewName};
use serde_json::{Value, json};

on_both_engines!(a_killed_server_loses_nothing_it_acknowledged);

/// Load clients, each sending its commands one after another.
const WRITERS: usize = 8;
/// How many times the server is killed and started again.
const ROUNDS: usize = 3;
/// How many commands are acknowledged in each round before the kill.
const ACKNOWLEDGED_PER_ROUND: usize = 40;
/// How long a step (a start, a request, the load before the kill) may take.
const BOUND: Duration = Duration::from_secs(60);
/// The client every writer also records payments for: one record written
/// by all of them at once.
const SHARED: &str = "cr-shared";

/// A running `kapchart serve`, its stderr collected by a thread (so that
/// the server never blocks on a full pipe).
struct Server {
    child: Child,
    base: String,
    log: Arc<Mutex<String>>,
}

impl Server {
    /// Starts `kapchart serve` on a random port; on the first start of a
    /// database it also returns the admin's token, which it prints then.
    fn start(env: &Env, first: bool) -> (Self, Option<String>) {
        let mut cmd = env.command(&["serve", "--listen", "127.0.0.1:0"]);
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("kapchart serve starts");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
        let (base, seen) = wait_until_listening(&mut stderr);
        let token = first.then(|| {
            let mut token = String::new();
            stdout.read_line(&mut token).expect("the admin's token");
            token.trim().to_owned()
        });
        let log = Arc::new(Mutex::new(seen));
        let sink = Arc::clone(&log);
        std::thread::spawn(move || {
            let mut line = String::new();
            while stderr.read_line(&mut line).is_ok_and(|n| n > 0) {
                sink.lock().expect("log").push_str(&line);
                line.clear();
            }
        });
        (Self { child, base, log }, token)
    }

    fn log(&self) -> String {
        self.log.lock().expect("log").clone()
    }

    /// SIGKILL, and waits for the process to be gone.
    fn kill(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("the killed server is reaped");
    }

    /// SIGTERM, and waits for a clean exit.
    fn stop(mut self) {
        let status = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
        let exit = self.child.wait().expect("serve exits");
        if let Some(mut out) = self.child.stdout.take() {
            let mut rest = String::new();
            out.read_to_string(&mut rest).expect("stdout");
        }
        assert_eq!(exit.code(), Some(EX_OK), "{}", self.log());
    }
}

/// One command a load client sent: where, its id and its request body.
#[derive(Debug, Clone)]
struct Sent {
    client: String,
    id: String,
    body: Value,
}

/// What the load clients saw.
#[derive(Debug, Default)]
struct Seen {
    /// Every 2xx reply, with the command.
    acknowledged: Vec<(Sent, Value)>,
    /// Commands with no answer: the server died while they were sent.
    in_flight: Vec<Sent>,
    /// Any other answer: (status, body).
    other: Vec<(u16, String)>,
}

fn registration(client: &str) -> Value {
    json!({ "RegisterClient": {
        "client_id": client,
        "name": "Alex Example",
        "date_of_birth": "1985-03-14",
        "therapist": "t-rivera",
        "prescriber": "rx-chen",
    }})
}

fn payment(payment: &str, cents: u64) -> Value {
    json!({ "RecordPayment": {
        "payment": payment,
        "amount": cents,
        "method": "card",
        "payer": "client",
        "received_on": "2026-01-05",
        "session": null,
    }})
}

/// Sends one command; `None` when no answer came (connection refused or
/// cut).
async fn send(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    sent: &Sent,
) -> Option<(u16, Value)> {
    let response = http
        .post(format!("{base}/api/v1/clients/{}/commands", sent.client))
        .bearer_auth(token)
        .json(&json!({ "id": sent.id, "body": sent.body }))
        .send()
        .await
        .ok()?;
    let status = response.status().as_u16();
    let bytes = response.bytes().await.ok()?;
    Some((
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    ))
}

/// A front-desk load client: for k = 0, 1, ... registers `cr-{round}-{w}-{k}`,
/// records a payment for it and one for the shared client, until the
/// server stops answering.
async fn writer(
    round: usize,
    w: usize,
    http: reqwest::Client,
    base: String,
    token: String,
    seen: Arc<Mutex<Seen>>,
) {
    for k in 0.. {
        let client = format!("cr-{round}-{w}-{k}");
        let commands = [
            Sent {
                client: client.clone(),
                id: format!("reg-{round}-{w}-{k}"),
                body: registration(&client),
            },
            Sent {
                client: client.clone(),
                id: format!("pay-{round}-{w}-{k}"),
                body: payment(&format!("p-{round}-{w}-{k}"), 10_000 + k),
            },
            Sent {
                client: SHARED.to_owned(),
                id: format!("shared-{round}-{w}-{k}"),
                body: payment(&format!("s-{round}-{w}-{k}"), 5_000 + k),
            },
        ];
        for sent in commands {
            match send(&http, &base, &token, &sent).await {
                Some((status, reply)) if (200..300).contains(&status) => {
                    seen.lock().expect("seen").acknowledged.push((sent, reply));
                }
                Some((status, reply)) => {
                    seen.lock()
                        .expect("seen")
                        .other
                        .push((status, reply.to_string()));
                    return;
                }
                None => {
                    seen.lock().expect("seen").in_flight.push(sent);
                    return;
                }
            }
        }
    }
}

/// Every (client, command id) in the store with its number of events.
async fn stored_commands(db: &Database) -> BTreeMap<(String, String), usize> {
    const SQL: &str = "SELECT aggregate_id, metadata ->> 'command_id' FROM events \
                       WHERE aggregate_type = $1";
    let rows: Vec<(String, String)> = match db {
        Database::Postgres(pool) => {
            sqlx::query_as(SQL)
                .bind(CLIENT_RECORD)
                .fetch_all(pool)
                .await
        }
        Database::Sqlite(pool) => {
            sqlx::query_as(&SQL.replace('$', "?"))
                .bind(CLIENT_RECORD)
                .fetch_all(pool)
                .await
        }
    }
    .expect("the events");
    let mut out = BTreeMap::new();
    for key in rows {
        *out.entry(key).or_insert(0) += 1;
    }
    out
}

/// Every row of every view's active generation.
async fn all_rows(projector: &Projector) -> BTreeMap<(ViewName, String, String, String), Row> {
    let mut out = BTreeMap::new();
    for view in ViewName::ALL {
        for (client, row) in projector
            .rows(view, view.kinds(), None)
            .await
            .expect("the view's rows")
        {
            out.insert((view, client, row.kind.clone(), row.key.clone()), row);
        }
    }
    out
}

async fn a_killed_server_loses_nothing_it_acknowledged(env: &Env) {
    let http = reqwest::Client::builder()
        .timeout(BOUND)
        .build()
        .expect("an HTTP client");
    let (server, admin) = Server::start(env, true);
    let admin = admin.expect("the first start prints the admin's token");
    let base = server.base.clone();
    add_user(&http, &base, &admin, "t-rivera", "therapist").await;
    add_user(&http, &base, &admin, "rx-chen", "prescriber").await;
    let desk = add_user(&http, &base, &admin, "fd-jones", "front_desk").await;
    let shared = Sent {
        client: SHARED.to_owned(),
        id: "reg-shared".to_owned(),
        body: registration(SHARED),
    };
    let (status, first) = send(&http, &base, &desk, &shared).await.expect("an answer");
    assert_eq!(status, 200, "{first}");

    let db = Database::open(&env.url).await.expect("the database opens");

    // Rounds of load, each ended by SIGKILL once enough is acknowledged,
    // and a restart whose first work is to send the commands in flight
    // again.
    let mut server = server;
    let mut acknowledged: Vec<(Sent, Value)> = Vec::new();
    let mut retried: Vec<(Sent, Value)> = Vec::new();
    let (mut in_flight, mut committed_unacknowledged) = (0, 0);
    for round in 0..ROUNDS {
        let base = server.base.clone();
        let seen = Arc::new(Mutex::new(Seen::default()));
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                tokio::spawn(writer(
                    round,
                    w,
                    http.clone(),
                    base.clone(),
                    desk.clone(),
                    Arc::clone(&seen),
                ))
            })
            .collect();
        let deadline = Instant::now() + BOUND;
        loop {
            let (count, refused) = {
                let seen = seen.lock().expect("seen");
                (seen.acknowledged.len(), seen.other.clone())
            };
            assert!(refused.is_empty(), "refused under load: {refused:?}");
            if count >= ACKNOWLEDGED_PER_ROUND {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "only {count} commands acknowledged in {BOUND:?}:\n{}",
                server.log()
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let log_before = server.log();
        server.kill();
        for writer in writers {
            tokio::time::timeout(BOUND, writer)
                .await
                .expect("every load client stops once the server is gone")
                .expect("the load client");
        }
        let seen = Arc::into_inner(seen)
            .expect("the load clients are done")
            .into_inner()
            .expect("seen");
        assert!(
            seen.other.is_empty(),
            "refused under load: {:?}",
            seen.other
        );
        assert_eq!(
            seen.in_flight.len(),
            WRITERS,
            "each load client stops at its first unanswered command"
        );
        assert!(!log_before.contains("panicked"), "{log_before}");

        // What the killed server had committed of the commands in flight.
        let before_restart = stored_commands(&db).await;
        in_flight += seen.in_flight.len();
        committed_unacknowledged += seen
            .in_flight
            .iter()
            .filter(|s| before_restart.contains_key(&(s.client.clone(), s.id.clone())))
            .count();

        // Started again on the same database: the commands in flight are
        // sent again, with their ids, and applied once.
        let (restarted, none) = Server::start(env, false);
        assert_eq!(none, None, "the admin's token is printed once");
        server = restarted;
        for sent in &seen.in_flight {
            let (status, reply) = send(&http, &server.base, &desk, sent)
                .await
                .expect("an answer");
            assert_eq!(status, 200, "the retry of {}: {reply}", sent.id);
            assert_eq!(reply["command_id"], sent.id.as_str(), "{reply}");
            retried.push((sent.clone(), reply));
        }
        acknowledged.extend(seen.acknowledged);
    }
    eprintln!(
        "{}: {ROUNDS} kills; {} commands acknowledged, {in_flight} in flight at a kill, \
         {committed_unacknowledged} of those committed before it",
        env.engine,
        acknowledged.len(),
    );

    // An acknowledged command sent again gets its first result.
    let base = server.base.clone();
    for (sent, first) in acknowledged.iter().step_by(7) {
        let (status, again) = send(&http, &base, &desk, sent).await.expect("an answer");
        assert_eq!(status, 200, "the retry of {}: {again}", sent.id);
        assert_eq!(&again, first, "a retry answers the first result");
    }
    // Retried twice: still once.
    for (sent, first) in &retried {
        let (status, again) = send(&http, &base, &desk, sent).await.expect("an answer");
        assert_eq!(status, 200, "{again}");
        assert_eq!(&again, first);
    }

    // Every acknowledged or retried command's events, exactly once; and
    // no other command.
    let stored = stored_commands(&db).await;
    let mut expected: HashMap<(String, String), usize> = HashMap::new();
    expected.insert((SHARED.to_owned(), "reg-shared".to_owned()), 1);
    for (sent, reply) in acknowledged.iter().chain(&retried) {
        let written = reply["events"].as_array().expect("events").len();
        assert!(written > 0, "{reply}");
        expected.insert((sent.client.clone(), sent.id.clone()), written);
    }
    for (key, written) in &expected {
        assert_eq!(
            stored.get(key),
            Some(written),
            "command {key:?}: its {written} event(s) once in the store"
        );
    }
    for key in stored.keys() {
        assert!(
            expected.contains_key(key),
            "the store holds {key:?}, which no one sent"
        );
    }
    // verify: every chain intact.
    let run = env.run(&["verify", "--json"]);
    let report = run.json();
    assert_eq!(run.code, Some(EX_OK), "{run:#?}");
    assert_eq!(report["intact"], true, "{report:#}");

    // The views the server kept, caught up, equal a rebuild.
    server.stop();
    let projector = Projector::new(db.clone());
    projector.catch_up().await.expect("catch up");
    let kept = all_rows(&projector).await;
    assert!(
        kept.keys().any(|(_, client, _, _)| client == SHARED),
        "the views hold the shared client"
    );
    projector
        .rebuild(&ViewName::ALL, &|_| {})
        .await
        .expect("rebuild");
    assert_eq!(
        all_rows(&projector).await,
        kept,
        "the views equal a rebuild"
    );
    db.close().await;
}
