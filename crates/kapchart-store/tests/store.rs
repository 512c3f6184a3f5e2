//! The store on real databases: a fresh PostgreSQL database and a fresh
//! SQLite file per test.

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use cqrs_es::persist::{PersistenceError, SerializedEvent};
use kapchart_audit::Hash;
use kapchart_store::{Clock, Cursor, Database, EventRepository};
use serde_json::{Value, json};
use sqlx::{Connection, PgConnection};

fn fixed_clock() -> Clock {
    Arc::new(|| {
        Utc.with_ymd_and_hms(2026, 1, 5, 20, 0, 0)
            .single()
            .expect("valid instant")
    })
}

fn event(id: &str, sequence: usize, payload: Value) -> SerializedEvent {
    SerializedEvent {
        aggregate_id: id.to_owned(),
        sequence,
        aggregate_type: "ClientRecord".to_owned(),
        event_type: "ConsentRecorded".to_owned(),
        event_version: "1".to_owned(),
        payload,
        metadata: json!({"actor_id": "t-rivera", "actor_role": "therapist", "command_id": format!("cmd-{sequence}")}),
    }
}

async fn open(url: &str) -> (Database, EventRepository) {
    let db = Database::open(url).await.expect("database opens");
    let repo = db.repository(fixed_clock());
    (db, repo)
}

macro_rules! on_both_engines {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn postgres() {
                let db = kapchart_testkit::postgres().await;
                super::$name(&db.url).await;
                db.cleanup().await;
            }

            #[tokio::test]
            async fn sqlite() {
                let db = kapchart_testkit::sqlite();
                super::$name(&db.url).await;
                db.cleanup().await;
            }
        }
    )*};
}

on_both_engines!(
    migrations_apply_again_harmlessly,
    appends_link_each_event_to_the_previous,
    a_stale_writer_gets_a_conflict_and_writes_nothing,
    remembered_links_never_break_the_chain,
    metadata_without_actor_or_command_is_refused,
    feed_returns_every_event_once_in_order,
);

async fn migrations_apply_again_harmlessly(url: &str) {
    let db = Database::open(url).await.expect("first open");
    db.migrate().await.expect("second migrate");
    db.close().await;
    let db = Database::open(url).await.expect("reopen");
    let (events, _) = db.read_feed(&Cursor::START, 10).await.expect("feed");
    assert!(events.is_empty());
}

async fn appends_link_each_event_to_the_previous(url: &str) {
    let (_db, repo) = open(url).await;
    repo.append(&[event("c1", 1, json!({"n": 1}))])
        .await
        .expect("first");
    repo.append(&[
        event("c1", 2, json!({"n": 2})),
        event("c1", 3, json!({"n": 3})),
    ])
    .await
    .expect("two at once");
    repo.append(&[event("c2", 1, json!({"n": 1}))])
        .await
        .expect("other client");

    let stored = repo.events_of("ClientRecord", "c1", 0).await.expect("load");
    assert_eq!(stored.len(), 3);
    let mut prev = Hash::ZERO;
    for (i, e) in stored.iter().enumerate() {
        let entry = &e.stored.entry;
        assert_eq!(entry.sequence, i as u64 + 1);
        assert_eq!(entry.prev_hash, prev, "link of sequence {}", entry.sequence);
        assert_eq!(entry.hash().expect("hashable"), e.stored.hash);
        assert_eq!(entry.metadata["recorded_at"], "2026-01-05T20:00:00.000000Z");
        assert_eq!(entry.metadata["command_id"], format!("cmd-{}", i + 1));
        prev = e.stored.hash;
    }
    // A second chain starts from the genesis hash.
    let other = repo.events_of("ClientRecord", "c2", 0).await.expect("load");
    assert_eq!(other[0].stored.entry.prev_hash, Hash::ZERO);
    // Loading after a sequence returns the tail only.
    let tail = repo.events_of("ClientRecord", "c1", 2).await.expect("tail");
    assert_eq!(tail.len(), 1);
    assert_eq!(tail[0].stored.entry.sequence, 3);
}

async fn a_stale_writer_gets_a_conflict_and_writes_nothing(url: &str) {
    let (_db, repo) = open(url).await;
    repo.append(&[event("c1", 1, json!({}))])
        .await
        .expect("first");
    // A writer that loaded the record before event 1 also writes sequence 1.
    let stale = repo
        .append(&[
            event("c1", 1, json!({"stale": true})),
            event("c1", 2, json!({})),
        ])
        .await;
    assert!(
        matches!(stale, Err(PersistenceError::OptimisticLockError)),
        "{stale:?}"
    );
    let stored = repo.events_of("ClientRecord", "c1", 0).await.expect("load");
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].stored.entry.payload, json!({}));
}

/// Each repository remembers the last link its loads and appends saw. Two
/// repositories (two processes, say) over one database: a remembered link
/// that another writer has since moved past gives a conflict, never a
/// second event at one sequence or a broken link.
async fn remembered_links_never_break_the_chain(url: &str) {
    use cqrs_es::persist::PersistedEventRepository as _;
    use kapchart_domain::ClientRecord;

    let (db, a) = open(url).await;
    let b = db.repository(fixed_clock());
    a.append(&[event("c1", 1, json!({})), event("c1", 2, json!({}))])
        .await
        .expect("first two");
    let loaded_a = a.get_events::<ClientRecord>("c1").await.expect("a loads");
    let loaded_b = b.get_events::<ClientRecord>("c1").await.expect("b loads");
    assert_eq!((loaded_a.len(), loaded_b.len()), (2, 2));
    b.append(&[event("c1", 3, json!({"by": "b"}))])
        .await
        .expect("b appends 3 after the link it loaded");
    let stale = a.append(&[event("c1", 3, json!({"by": "a"}))]).await;
    assert!(
        matches!(stale, Err(PersistenceError::OptimisticLockError)),
        "{stale:?}"
    );
    // `a` remembers sequence 2; an event at 4 makes it read the last link.
    a.append(&[event("c1", 4, json!({"by": "a"}))])
        .await
        .expect("a appends 4 after the stored 3");

    let stored = a.events_of("ClientRecord", "c1", 0).await.expect("load");
    let sequences: Vec<u64> = stored.iter().map(|e| e.stored.entry.sequence).collect();
    assert_eq!(sequences, [1, 2, 3, 4]);
    assert_eq!(stored[2].stored.entry.payload, json!({"by": "b"}));
    let mut prev = Hash::ZERO;
    for e in &stored {
        assert_eq!(
            e.stored.entry.prev_hash, prev,
            "link of {}",
            e.stored.entry.sequence
        );
        assert_eq!(e.stored.entry.hash().expect("hashable"), e.stored.hash);
        prev = e.stored.hash;
    }
}

async fn metadata_without_actor_or_command_is_refused(url: &str) {
    let (_db, repo) = open(url).await;
    let mut e = event("c1", 1, json!({}));
    e.metadata = json!({"actor_id": "t-rivera", "actor_role": "therapist"});
    let refused = repo.append(&[e]).await;
    match refused {
        Err(PersistenceError::UnknownError(msg)) => assert!(msg.to_string().contains("command_id")),
        other => panic!("expected a refusal, got {other:?}"),
    }
    // A float cannot be canonicalized for the chain: refused, nothing written.
    let refused = repo.append(&[event("c1", 1, json!({"dose": 1.5}))]).await;
    assert!(refused.is_err());
    assert!(
        repo.events_of("ClientRecord", "c1", 0)
            .await
            .expect("load")
            .is_empty()
    );
}

async fn feed_returns_every_event_once_in_order(url: &str) {
    let (db, repo) = open(url).await;
    for i in 1..=5 {
        repo.append(&[event("a", i, json!({"i": i}))])
            .await
            .expect("a");
        repo.append(&[event("b", i, json!({"i": i}))])
            .await
            .expect("b");
    }
    // On PostgreSQL the horizon is cluster-wide: another test's open write
    // transaction (in another database) holds the feed back until it ends,
    // so an empty page means "not yet", never "skipped". Poll until every
    // committed event has come through.
    let mut cursor = Cursor::START;
    let mut seen = Vec::new();
    let mut empty_polls = 0;
    while seen.len() < 10 {
        let (page, next) = db.read_feed(&cursor, 3).await.expect("feed");
        if page.is_empty() {
            assert_eq!(next, cursor);
            empty_polls += 1;
            assert!(empty_polls < 100_000, "the feed stalled at {cursor:?}");
            tokio::task::yield_now().await;
            continue;
        }
        assert!(next > cursor);
        seen.extend(
            page.iter()
                .map(|e| (e.stored.entry.aggregate_id.clone(), e.stored.entry.sequence)),
        );
        cursor = next;
    }
    let (rest, _) = db.read_feed(&cursor, 3).await.expect("feed");
    assert!(rest.is_empty(), "events beyond the ten written");
    let expected: Vec<(String, u64)> = (1..=5)
        .flat_map(|i| [("a".to_owned(), i), ("b".to_owned(), i)])
        .collect();
    assert_eq!(seen, expected);
}

/// PostgreSQL numbers rows at insert, not at commit. A transaction that
/// inserts first (lower position) but commits after a later one must not be
/// skipped by a reader that has already read the later one.
#[tokio::test]
async fn postgres_reader_never_skips_a_late_commit() {
    let tdb = kapchart_testkit::postgres().await;
    let (db, repo) = open(&tdb.url).await;

    let insert = "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, \
                  event_version, payload, metadata, prev_hash, hash) \
                  VALUES ('ClientRecord', $1, 1, 'T', '1', '{}', '{}', $2, $2)";
    let zeros = Hash::ZERO.to_hex();

    let mut slow = PgConnection::connect(&tdb.url).await.expect("connect");
    let mut fast = PgConnection::connect(&tdb.url).await.expect("connect");
    sqlx::query("BEGIN")
        .execute(&mut slow)
        .await
        .expect("begin");
    sqlx::query(insert)
        .bind("slow")
        .bind(&zeros)
        .execute(&mut slow)
        .await
        .expect("slow insert");
    sqlx::query("BEGIN")
        .execute(&mut fast)
        .await
        .expect("begin");
    sqlx::query(insert)
        .bind("fast")
        .bind(&zeros)
        .execute(&mut fast)
        .await
        .expect("fast insert");
    sqlx::query("COMMIT")
        .execute(&mut fast)
        .await
        .expect("fast commit");

    // "fast" is committed with the higher position; "slow" is still open.
    let (page, cursor) = db.read_feed(&Cursor::START, 100).await.expect("feed");
    assert!(
        page.is_empty(),
        "the reader must wait for the open transaction: got {:?}",
        page.iter()
            .map(|e| &e.stored.entry.aggregate_id)
            .collect::<Vec<_>>()
    );

    sqlx::query("COMMIT")
        .execute(&mut slow)
        .await
        .expect("slow commit");
    // Other tests' transactions elsewhere in the cluster may hold the
    // horizon back for a moment: an empty page means "not yet". Poll until
    // both rows have come through.
    let mut cursor = cursor;
    let page = read_at_least(&db, &mut cursor, 2).await;
    let ids: Vec<&str> = page
        .iter()
        .map(|e| e.stored.entry.aggregate_id.as_str())
        .collect();
    assert_eq!(ids, ["slow", "fast"]);
    assert!(page[0].position < page[1].position);

    // Events written through the repository flow through the same feed,
    // after the ones already read.
    repo.append(&[event("c1", 1, json!({}))])
        .await
        .expect("append");
    let page = read_at_least(&db, &mut cursor, 1).await;
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].stored.entry.aggregate_id, "c1");
    drop((slow, fast));
    db.close().await;
    tdb.cleanup().await;
}

/// Reads the feed from `cursor` until at least `n` events have come (an
/// empty page only means the horizon has not passed them yet).
async fn read_at_least(
    db: &Database,
    cursor: &mut Cursor,
    n: usize,
) -> Vec<kapchart_store::FeedEvent> {
    let mut out = Vec::new();
    let mut empty_polls = 0;
    while out.len() < n {
        let (page, next) = db.read_feed(cursor, 100).await.expect("feed");
        if page.is_empty() {
            empty_polls += 1;
            assert!(empty_polls < 100_000, "the feed stalled at {cursor:?}");
            tokio::task::yield_now().await;
        }
        out.extend(page);
        *cursor = next;
    }
    out
}

/// An event and its chain link are one row written in one transaction: when
/// the transaction fails part-way, neither the events before the failure nor
/// their links remain.
#[tokio::test]
async fn postgres_failed_transaction_leaves_nothing() {
    let tdb = kapchart_testkit::postgres().await;
    let (db, repo) = open(&tdb.url).await;
    // PostgreSQL's text refuses the NUL character: the second insert fails
    // after the first succeeded inside the same transaction.
    let mut bad = event("c1", 2, json!({"ok": true}));
    bad.event_type = "Consent\u{0}Recorded".to_owned();
    let failed = repo
        .append(&[event("c1", 1, json!({"ok": true})), bad])
        .await;
    assert!(failed.is_err());
    let stored = repo.events_of("ClientRecord", "c1", 0).await.expect("load");
    assert!(
        stored.is_empty(),
        "a failed transaction left {} rows",
        stored.len()
    );
    db.close().await;
    tdb.cleanup().await;
}

/// The feed orders by the transaction id as a number, never as its text:
/// read as text, txid 100 would sort before 99, a reader paging one event
/// at a time would take 100 first and then skip 99 for good.
#[tokio::test]
async fn postgres_feed_orders_transaction_ids_as_numbers() {
    let tdb = kapchart_testkit::postgres().await;
    let (db, _repo) = open(&tdb.url).await;
    let mut conn = PgConnection::connect(&tdb.url).await.expect("connect");
    for (txid, id) in [("100", "c-100"), ("99", "c-99")] {
        sqlx::query(
            "INSERT INTO events (txid, aggregate_type, aggregate_id, sequence, event_type, \
             event_version, payload, metadata, prev_hash, hash) \
             VALUES ($1::text::xid8, 'ClientRecord', $2, 1, 'ConsentRecorded', '1', '{}', '{}', \
             repeat('0', 64), repeat('0', 64))",
        )
        .bind(txid)
        .bind(id)
        .execute(&mut conn)
        .await
        .expect("insert");
    }
    let mut cursor = Cursor::START;
    let mut seen = Vec::new();
    for _ in 0..3 {
        let (page, next) = db.read_feed(&cursor, 1).await.expect("feed");
        seen.extend(page.into_iter().map(|e| e.stored.entry.aggregate_id));
        cursor = next;
    }
    assert_eq!(seen, ["c-99", "c-100"]);
    db.close().await;
    tdb.cleanup().await;
}
