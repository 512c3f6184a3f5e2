//! Concurrent writers on the real stores: 16 tasks write to one client at
//! the same time and 16 more each to a client of its own. Optimistic
//! concurrency makes the loser of a race on one client get
//! `AggregateConflict`; it retries the very same command (same command id)
//! on the new state until it is applied or refused. Afterwards the log
//! verifies, every sequence is contiguous, every acknowledged command's
//! event is stored exactly once (in its client's chain), and no event
//! exists for a command that was not acknowledged.
//!
//! Runs on PostgreSQL and on SQLite (one writer at a time: the store takes
//! the write lock up front and maps a lock still busy after its timeout to
//! a conflict, which is retried like any other).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use cqrs_es::AggregateError;
use kapchart_domain::*;
use kapchart_e2e::*;
use kapchart_store::CLIENT_RECORD;
use kapchart_store::audit::{VerifyOptions, verify};
use tokio::sync::Barrier;

const SHARED: &str = "client-shared";
/// Tasks writing to [`SHARED`], and tasks writing each to its own client.
const TASKS: usize = 16;
/// Commands each task issues, one after the other.
const COMMANDS_PER_TASK: usize = 2;
/// A conflict means another writer committed first; with 34 writers no
/// command can lose this many races in a row unless something is wrong.
const MAX_CONFLICTS: u32 = 10_000;
/// Today, for every concurrent command.
const TODAY: i64 = 20;

fn solo(i: usize) -> String {
    format!("client-solo-{i:02}")
}

fn phq9(score: i64) -> OutcomeMeasure {
    OutcomeMeasure::Phq9(Phq9Score::new(score).expect("valid score"))
}

/// A command valid in any order on a registered client: payments with
/// distinct ids (front desk) and outcome measures (therapist), alternating.
fn body(n: usize) -> (Actor, CommandBody, &'static str) {
    if n.is_multiple_of(2) {
        (
            front_desk(),
            payment(&format!("pay-{n}"), 1000 + n as i64, date(TODAY)),
            "PaymentRecorded",
        )
    } else {
        (
            therapist(),
            outcome(phq9((n % 27) as i64), date(TODAY)),
            "OutcomeMeasureRecorded",
        )
    }
}

/// What happened to one command.
#[derive(Debug)]
struct Sent {
    client: String,
    command: Command,
    id: String,
    event_type: &'static str,
    /// `None`: acknowledged (Ok); `Some`: refused by the record.
    refused: Option<ClientError>,
    conflicts: u32,
}

/// Runs `command` until it is applied or refused, retrying it unchanged
/// (same command id) on every optimistic-concurrency conflict.
async fn execute(
    p: &StoredPractice,
    client: &str,
    command: Command,
    event_type: &'static str,
) -> Sent {
    let id = command.id.to_string();
    let sent = |refused, conflicts| Sent {
        client: client.to_owned(),
        command: command.clone(),
        id: id.clone(),
        event_type,
        refused,
        conflicts,
    };
    let mut conflicts = 0;
    loop {
        match p.run(client, command.clone()).await {
            Ok(()) => return sent(None, conflicts),
            Err(AggregateError::AggregateConflict) => {
                conflicts += 1;
                assert!(
                    conflicts < MAX_CONFLICTS,
                    "{id} for {client}: {conflicts} conflicts in a row"
                );
            }
            Err(AggregateError::UserError(e)) => return sent(Some(e), conflicts),
            Err(other) => panic!("{id} for {client}: {other}"),
        }
    }
}

fn command_with_id(p: &StoredPractice, id: &str, actor: Actor, body: CommandBody) -> Command {
    Command::new(
        CommandId::parse(id).expect("valid command id"),
        actor,
        p.now(),
        body,
    )
}

async fn concurrent_writers(url: &str) {
    let p = Arc::new(StoredPractice::open(url).await);
    // Every client registered and through preparation (6 events each).
    p.treat(SHARED, 0, 0).await;
    for i in 0..TASKS {
        p.treat(&solo(i), 0, 0).await;
    }
    let setup_rows = 6 * (TASKS as u64 + 1);
    p.on(TODAY);

    // 16 tasks on the shared client, 16 on clients of their own, and two
    // more on the shared client racing to record the same payment id: one
    // of those two must be refused and leave nothing.
    let writers = 2 * TASKS + 2;
    let start = Arc::new(Barrier::new(writers));
    let mut handles = Vec::with_capacity(writers);
    for t in 0..TASKS {
        for (client, prefix) in [(SHARED.to_owned(), "shared"), (solo(t), "solo")] {
            let p = Arc::clone(&p);
            let start = Arc::clone(&start);
            handles.push(tokio::spawn(async move {
                let commands: Vec<(Command, &'static str)> = (0..COMMANDS_PER_TASK)
                    .map(|k| {
                        let n = t * COMMANDS_PER_TASK + k;
                        let (actor, body, event_type) = body(n);
                        let id = format!("conc-{prefix}-{t:02}-{k}");
                        (command_with_id(&p, &id, actor, body), event_type)
                    })
                    .collect();
                start.wait().await;
                let mut sent = Vec::new();
                for (command, event_type) in commands {
                    sent.push(execute(&p, &client, command, event_type).await);
                }
                sent
            }));
        }
    }
    for d in 0..2 {
        let p = Arc::clone(&p);
        let start = Arc::clone(&start);
        handles.push(tokio::spawn(async move {
            let command = command_with_id(
                &p,
                &format!("conc-dup-{d}"),
                front_desk(),
                payment("pay-dup", 5000, date(TODAY)),
            );
            start.wait().await;
            vec![execute(&p, SHARED, command, "PaymentRecorded").await]
        }));
    }
    let mut sent: Vec<Sent> = Vec::new();
    for handle in handles {
        sent.extend(handle.await.expect("writer task"));
    }
    assert_eq!(sent.len(), 2 * TASKS * COMMANDS_PER_TASK + 2);

    // Every ordinary command was acknowledged; of the duplicate payments,
    // exactly one, the other refused because the payment id is in use.
    let (acked, refused): (Vec<&Sent>, Vec<&Sent>) = sent.iter().partition(|s| s.refused.is_none());
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert!(refused[0].id.starts_with("conc-dup-"), "{refused:?}");
    match &refused[0].refused {
        Some(ClientError::Refused(r)) => assert_eq!(r.rule, Rule::IdInUse, "{r:?}"),
        other => panic!("the duplicate payment: {other:?}"),
    }
    let conflicts: u32 = sent.iter().map(|s| s.conflicts).sum();
    eprintln!(
        "{}: {} commands acknowledged, {} refused, {conflicts} conflicts retried",
        p.db.engine(),
        acked.len(),
        refused.len()
    );

    // The log verifies.
    let report = verify(&p.db, &VerifyOptions::default(), &|_| {})
        .await
        .expect("verify runs");
    assert!(report.is_intact(), "{:?}", report.findings);
    assert_eq!(report.rows, setup_rows + acked.len() as u64);
    assert_eq!(report.aggregates, TASKS as u64 + 1);

    // Each client's stored events: contiguous sequences, and the command ids
    // of the concurrent commands.
    let repo = p.db.repository(kapchart_store::system_clock());
    let mut clients: Vec<String> = (0..TASKS).map(solo).collect();
    clients.push(SHARED.to_owned());
    let mut stored: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for client in &clients {
        let events = repo
            .events_of(CLIENT_RECORD, client, 0)
            .await
            .expect("events load");
        let sequences: Vec<u64> = events.iter().map(|e| e.stored.entry.sequence).collect();
        assert_eq!(
            sequences,
            (1..=events.len() as u64).collect::<Vec<u64>>(),
            "{client}: sequences are not contiguous"
        );
        for e in &events {
            let command_id = e.stored.entry.metadata["command_id"]
                .as_str()
                .expect("command_id is a string")
                .to_owned();
            if command_id.starts_with("conc-") {
                stored
                    .entry((client.clone(), command_id))
                    .or_default()
                    .push(e.stored.entry.event_type.clone());
            }
        }
    }

    // Every acknowledged command: exactly one event, of its kind, in its
    // client's chain.
    for s in &acked {
        let key = (s.client.clone(), s.id.clone());
        assert_eq!(
            stored.get(&key).map(Vec::as_slice),
            Some(&[s.event_type.to_owned()][..]),
            "{} for {}: not stored exactly once",
            s.id,
            s.client
        );
    }
    // No event for anything else: the stored concurrent commands are
    // exactly the acknowledged ones.
    let acked_keys: BTreeSet<(String, String)> = acked
        .iter()
        .map(|s| (s.client.clone(), s.id.clone()))
        .collect();
    let stored_keys: BTreeSet<(String, String)> = stored.keys().cloned().collect();
    assert_eq!(stored_keys, acked_keys);
    assert!(
        !stored.keys().any(|(_, id)| *id == refused[0].id),
        "the refused command left an event"
    );

    // Sending every acknowledged command again (a client's retry after a
    // lost answer) is applied once: Ok, and nothing new is stored.
    let rows_before = report.rows;
    for s in &acked {
        p.run(&s.client, s.command.clone())
            .await
            .unwrap_or_else(|e| panic!("{}: a repeated command is not Ok: {e}", s.id));
    }
    let report = verify(&p.db, &VerifyOptions::default(), &|_| {})
        .await
        .expect("verify runs");
    assert!(report.is_intact(), "{:?}", report.findings);
    assert_eq!(report.rows, rows_before, "a repeated command wrote events");

    p.db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_postgres() {
    let db = kapchart_testkit::postgres().await;
    concurrent_writers(&db.url).await;
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_sqlite() {
    let db = kapchart_testkit::sqlite();
    concurrent_writers(&db.url).await;
    db.cleanup().await;
}
