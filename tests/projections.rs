//! The projector on real databases: views fed from the durable feed, caught
//! up after a crash, rebuilt beside the live views, never applying a batch
//! twice, and woken within a second of a command.

use std::collections::BTreeMap;
use std::time::Duration;

use kapchart_e2e::{StoredPractice, date, front_desk, on_both_engines, payment};
use kapchart_projector::Projector;
use kapchart_store::{Cursor, Database};
use kapchart_views::{EventMeta, Row, ViewName, ViewState};

type Rows = BTreeMap<(String, String, String), Row>;

/// Events in the table, committed or not yet visible in the feed.
async fn stored_events(db: &Database) -> u64 {
    let n: i64 = match db {
        Database::Postgres(pool) => sqlx::query_scalar("SELECT count(*) FROM events")
            .fetch_one(pool)
            .await
            .expect("count"),
        Database::Sqlite(pool) => sqlx::query_scalar("SELECT count(*) FROM events")
            .fetch_one(pool)
            .await
            .expect("count"),
    };
    u64::try_from(n).expect("positive")
}

/// The whole feed. On PostgreSQL the feed holds back events while any
/// transaction in the cluster that began before them is open (other tests
/// run beside this one), so read until every stored event has come.
async fn whole_feed(db: &Database) -> Vec<kapchart_store::FeedEvent> {
    let total = stored_events(db).await;
    tokio::time::timeout(Duration::from_secs(60), async {
        let mut out = Vec::new();
        let mut cursor = Cursor::START;
        while (out.len() as u64) < total {
            let (page, next) = db.read_feed(&cursor, 500).await.expect("feed");
            if page.is_empty() {
                tokio::task::yield_now().await;
            }
            out.extend(page);
            cursor = next;
        }
        out
    })
    .await
    .expect("the feed delivers every stored event")
}

/// Catches up until every view has applied every stored event.
async fn settle(projector: &Projector) -> u64 {
    let total = stored_events(projector.database()).await;
    tokio::time::timeout(Duration::from_secs(60), async {
        let mut applied = 0;
        loop {
            applied += projector.catch_up().await.expect("catch up");
            let generations = projector.generations().await.expect("generations");
            if generations
                .iter()
                .filter(|g| g.status == "active")
                .all(|g| u64::try_from(g.events).expect("positive") == total)
            {
                return applied;
            }
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the views catch up")
}

/// What every view must hold: the pure fold of the whole feed.
async fn expected(db: &Database, view: ViewName) -> Rows {
    let mut states: BTreeMap<String, ViewState> = BTreeMap::new();
    {
        let page = whole_feed(db).await;
        for e in &page {
            let entry = &e.stored.entry;
            let event = kapchart_store::upcast::client_event(entry).expect("client event");
            // No practice record in these stores: UTC, the standard policy.
            let meta = EventMeta::new(
                entry.aggregate_id.clone(),
                entry.sequence,
                e.position,
                kapchart_store::upcast::recorded_at(entry).expect("recorded_at"),
            );
            states
                .entry(entry.aggregate_id.clone())
                .or_insert_with(|| view.new_state(&entry.aggregate_id))
                .apply(&event, &meta);
        }
    }
    let mut out = Rows::new();
    for (client, state) in &states {
        for row in state.rows() {
            out.insert((client.clone(), row.kind.clone(), row.key.clone()), row);
        }
    }
    out
}

async fn stored(projector: &Projector, view: ViewName) -> Rows {
    projector
        .rows(view, view.kinds(), None)
        .await
        .expect("rows")
        .into_iter()
        .map(|(client, row)| ((client, row.kind.clone(), row.key.clone()), row))
        .collect()
}

async fn assert_views_current(projector: &Projector) {
    for view in ViewName::ALL {
        let want = expected(projector.database(), view).await;
        assert!(!want.is_empty(), "{} has rows", view.as_str());
        let got = stored(projector, view).await;
        assert_eq!(
            got.keys().collect::<Vec<_>>(),
            want.keys().collect::<Vec<_>>(),
            "rows of {}",
            view.as_str()
        );
        assert_eq!(got, want, "{}", view.as_str());
    }
}

async fn feed_len(db: &Database) -> i64 {
    i64::try_from(stored_events(db).await).expect("fits")
}

on_both_engines!(
    views_catch_up_after_a_crash,
    small_batches_and_a_rebuild_agree,
    two_projectors_apply_each_batch_once,
    rebuild_while_commands_are_written,
    a_woken_projector_shows_a_command_within_a_second,
);

/// Events committed while no projector ran (a crash between the event
/// commit and the view update): the next catch-up applies them, once.
async fn views_catch_up_after_a_crash(url: &str) {
    let p = StoredPractice::open(url).await;
    p.treat("client-a", 0, 2).await;
    p.treat("client-b", 3, 1).await;
    let projector = Projector::new(p.db.clone());
    let applied = settle(&projector).await;
    let events = feed_len(&p.db).await;
    assert_eq!(applied, 4 * u64::try_from(events).expect("positive"));
    assert_views_current(&projector).await;
    assert_eq!(
        projector.catch_up().await.expect("again"),
        0,
        "nothing twice"
    );

    // More commands while the projector is down, then a new projector.
    p.treat("client-c", 10, 3).await;
    p.ok("client-a", front_desk(), payment("pay-9", 17_500, date(30)))
        .await;
    let restarted = Projector::new(p.db.clone());
    assert!(settle(&restarted).await > 0);
    assert_views_current(&restarted).await;
    for g in restarted.generations().await.expect("generations") {
        assert_eq!(g.status, "active");
        assert_eq!(g.events, feed_len(&p.db).await, "{}", g.view.as_str());
    }
}

/// Views built a few events at a time equal a rebuild from the first
/// event, which replaces them with a new generation.
async fn small_batches_and_a_rebuild_agree(url: &str) {
    let p = StoredPractice::open(url).await;
    p.treat("client-a", 0, 3).await;
    p.treat("client-b", 2, 2).await;
    p.on(25);
    p.ok("client-b", front_desk(), payment("pay-1", 5_000, date(20)))
        .await;
    let projector = Projector::new(p.db.clone()).with_batch(3);
    settle(&projector).await;
    let mut before = BTreeMap::new();
    for view in ViewName::ALL {
        before.insert(view, stored(&projector, view).await);
    }
    let report = projector
        .rebuild(&ViewName::ALL, &|_| {})
        .await
        .expect("rebuild");
    assert_eq!(
        report.events,
        u64::try_from(feed_len(&p.db).await).expect("positive")
    );
    let generations = projector.generations().await.expect("generations");
    assert_eq!(
        generations.len(),
        4,
        "old generations removed: {generations:?}"
    );
    for g in &generations {
        assert_eq!((g.generation, g.status.as_str()), (2, "active"));
    }
    if let Database::Postgres(pool) = &p.db {
        // Each generation is a table of its own, keyed, and the old ones
        // are dropped whole (migration 0005).
        let tables: Vec<(String, bool)> = sqlx::query_as(
            "SELECT c.relname::text, EXISTS (SELECT 1 FROM pg_index i \
                 WHERE i.indrelid = c.oid AND i.indisprimary) \
             FROM pg_inherits h JOIN pg_class c ON c.oid = h.inhrelid \
             WHERE c.relname LIKE 'view\\_rows\\_%' AND c.relkind = 'r' ORDER BY 1",
        )
        .fetch_all(pool)
        .await
        .expect("partitions");
        let mut expected: Vec<(String, bool)> = ViewName::ALL
            .iter()
            .map(|v| (format!("view_rows_{}_2", v.as_str()), true))
            .collect();
        expected.sort();
        assert_eq!(tables, expected);
    }
    for view in ViewName::ALL {
        assert_eq!(
            stored(&projector, view).await,
            before[&view],
            "{}",
            view.as_str()
        );
    }
    assert_views_current(&projector).await;
}

/// Two projectors (two server processes, say) on one database: each batch
/// is applied by exactly one of them.
async fn two_projectors_apply_each_batch_once(url: &str) {
    let p = StoredPractice::open(url).await;
    for (k, client) in ["client-a", "client-b", "client-c"].iter().enumerate() {
        p.treat(client, i64::try_from(k).expect("small") * 2, 2)
            .await;
    }
    let one = Projector::new(p.db.clone()).with_batch(2);
    let two = Projector::new(p.db.clone()).with_batch(2);
    whole_feed(&p.db).await;
    let (a, b) = tokio::join!(settle(&one), settle(&two));
    let events = u64::try_from(feed_len(&p.db).await).expect("positive");
    assert_eq!(a + b, 4 * events, "each event applied once per view");
    assert_views_current(&one).await;
    for g in one.generations().await.expect("generations") {
        assert_eq!(g.events, feed_len(&p.db).await, "{}", g.view.as_str());
    }
}

/// A rebuild runs while commands are written: the views it switches to
/// miss nothing, and reports keep reading the old ones until the switch.
async fn rebuild_while_commands_are_written(url: &str) {
    let p = std::sync::Arc::new(StoredPractice::open(url).await);
    p.treat("client-a", 0, 2).await;
    let projector = Projector::new(p.db.clone());
    settle(&projector).await;

    let writer = {
        let p = std::sync::Arc::clone(&p);
        tokio::spawn(async move {
            for k in 0..3 {
                p.treat(&format!("client-w{k}"), 20 + k * 3, 1).await;
            }
        })
    };
    let rebuilt = projector
        .rebuild(&[ViewName::Billing, ViewName::Schedule], &|_| {})
        .await
        .expect("rebuild");
    assert_eq!(rebuilt.generations.len(), 2);
    writer.await.expect("writer");
    settle(&projector).await;
    assert_views_current(&projector).await;
}

/// `run` wakes on the waker (a command committed in this process) and the
/// views show the command well within a second; the poll interval is a
/// minute, so only the wake-up can have done it.
async fn a_woken_projector_shows_a_command_within_a_second(url: &str) {
    let p = StoredPractice::open(url).await;
    p.treat("client-a", 0, 1).await;
    let projector = Projector::new(p.db.clone());
    settle(&projector).await;
    let waker = projector.waker();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = {
        let projector = projector.clone();
        tokio::spawn(async move {
            projector
                .run(Duration::from_secs(60), async {
                    let _ = stopped.await;
                })
                .await;
        })
    };
    p.ok(
        "client-a",
        front_desk(),
        payment("pay-late", 1_234, date(9)),
    )
    .await;
    // Other tests' transactions in the same cluster can hold the feed back
    // (a reader sees an event once every older transaction has ended); the
    // second is the projector's, timed from when the feed shows the event.
    whole_feed(&p.db).await;
    waker.notify_one();
    let seen = tokio::time::timeout(Duration::from_secs(1), async {
        loop {
            let payments = projector
                .rows(ViewName::Billing, &["payment"], Some("client-a"))
                .await
                .expect("rows");
            if payments.iter().any(|(_, r)| r.key.contains("pay-late")) {
                break;
            }
            tokio::task::yield_now().await;
        }
    })
    .await;
    let _ = stop.send(());
    running.await.expect("projector stops");
    assert!(
        seen.is_ok(),
        "the payment reached the billing view within a second"
    );
    settle(&projector).await;
    assert_views_current(&projector).await;
}

/// The chart as of a past moment holds only what had been recorded by then,
/// read from the events themselves.
#[tokio::test]
async fn the_chart_as_of_a_moment_shows_what_was_recorded_by_then() {
    let db = kapchart_testkit::sqlite();
    let p = StoredPractice::open(&db.url).await;
    p.treat("client-a", 0, 1).await;
    let projector = Projector::new(p.db.clone());
    let entries = |rows: &[Row]| rows.iter().filter(|r| r.kind == "entry").count();
    let all = projector
        .chart_as_of("client-a", p.now())
        .await
        .expect("chart");
    // Registration to consent and preparation on day 0, the exploration on
    // day 7, its integration on day 9.
    let day0 = projector
        .chart_as_of(
            "client-a",
            kapchart_e2e::day(0) + chrono::Duration::hours(23),
        )
        .await
        .expect("chart");
    let before = projector
        .chart_as_of("client-a", kapchart_e2e::day(-1))
        .await
        .expect("chart");
    assert_eq!(
        entries(&all),
        usize::try_from(feed_len(&p.db).await).expect("fits")
    );
    assert_eq!(entries(&day0), 6, "{day0:#?}");
    assert!(
        before.is_empty(),
        "nothing recorded before day 0: {before:?}"
    );
    db.cleanup().await;
}

/// A view that has never applied an event, over a store that holds many,
/// is built in bulk by the first catch-up (a new view, or an upgrade), and
/// continues batch by batch from there.
#[tokio::test]
async fn a_first_catch_up_over_a_large_store_builds_in_bulk() {
    for db in [
        kapchart_testkit::postgres().await,
        kapchart_testkit::sqlite(),
    ] {
        let p = StoredPractice::open(&db.url).await;
        p.treat("client-a", 0, 2).await;
        p.treat("client-b", 4, 1).await;
        let projector = Projector::new(p.db.clone()).with_bulk_threshold(10);
        settle(&projector).await;
        for g in projector.generations().await.expect("generations") {
            assert_eq!(
                (g.generation, g.status.as_str()),
                (2, "active"),
                "{} was built in bulk",
                g.view.as_str()
            );
        }
        assert_views_current(&projector).await;
        p.ok("client-b", front_desk(), payment("pay-2", 2_000, date(12)))
            .await;
        settle(&projector).await;
        assert_views_current(&projector).await;
        db.cleanup().await;
    }
}
