//! The feed's last event is read before every read (the catch-up's fast
//! path): on PostgreSQL it must be one step down the `events_feed` index,
//! not a sort of every event. The plan is asked for with sequential scans
//! disabled, so that a small table cannot hide a missing index path: a
//! query PostgreSQL cannot answer from the index in order still shows a
//! Sort node.

use kapchart_projector::FEED_HEAD_PG;
use kapchart_store::Database;
use sqlx::Connection as _;

#[tokio::test]
async fn the_feed_head_is_read_from_the_index_in_order() {
    let db = kapchart_testkit::postgres().await;
    Database::open(&db.url)
        .await
        .expect("migrated")
        .close()
        .await;
    let mut conn = sqlx::PgConnection::connect(&db.url)
        .await
        .expect("connects");
    sqlx::query("SET enable_seqscan = off")
        .execute(&mut conn)
        .await
        .expect("set");
    let plan: serde_json::Value =
        sqlx::query_scalar(&format!("EXPLAIN (FORMAT JSON) {FEED_HEAD_PG}"))
            .fetch_one(&mut conn)
            .await
            .expect("explain");
    let text = plan.to_string();
    assert!(
        !text.contains("\"Sort\""),
        "the feed's head is sorted, not read from the index: {text}"
    );
    assert!(text.contains("events_feed"), "{text}");
    conn.close().await.expect("closes");
    db.cleanup().await;
}
