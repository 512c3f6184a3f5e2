//! A report of a past period reads only the rows filed under its days
//! (`Projector::rows_within`): on PostgreSQL through the `view_rows_day`
//! index (migration 0011), not a walk of every row of the kind. The billing
//! view here holds many payments received after the period and a few
//! before it, as a practice's store does a year on; the plan of the billing
//! report's read must find the few by an index condition on `day`.

use kapchart_projector::{Projector, rows_within_sql};
use kapchart_store::Database;
use kapchart_views::{DaySpan, ViewName};
use sqlx::Connection as _;

#[tokio::test]
async fn a_past_periods_rows_are_found_by_their_day_through_the_index() {
    let db = kapchart_testkit::postgres().await;
    let store = Database::open(&db.url).await.expect("migrated");
    // The billing view's first generation and its partition.
    let generation = Projector::new(store.clone())
        .active(ViewName::Billing)
        .await
        .expect("the billing view's generation");
    store.close().await;
    let mut conn = sqlx::PgConnection::connect(&db.url)
        .await
        .expect("connects");
    // 20,000 payments after the period, 20 in it.
    sqlx::query(
        "INSERT INTO view_rows (view, generation, kind, client_id, row_key, day, data) \
         SELECT 'billing', $1, 'payment', 'client-' || (i % 500), 'pay-' || i, \
                CASE WHEN i % 1000 = 0 THEN '2025-03-' || lpad((1 + i / 1000)::text, 2, '0') \
                     ELSE '2026-12-07' END, '{}' \
         FROM generate_series(1, 20000) AS i",
    )
    .bind(generation.generation)
    .execute(&mut conn)
    .await
    .expect("rows");
    sqlx::query("ANALYZE view_rows")
        .execute(&mut conn)
        .await
        .expect("analyze");

    let days = DaySpan {
        first: None,
        last: Some("2025-03-31".parse().expect("a date")),
    };
    let sql = rows_within_sql(days, false);
    let plan: serde_json::Value = sqlx::query_scalar(&format!("EXPLAIN (FORMAT JSON) {sql}"))
        .bind("billing")
        .bind(generation.generation)
        .bind("payment")
        .bind("2025-03-31")
        .fetch_one(&mut conn)
        .await
        .expect("explain");
    let text = plan.to_string();
    assert!(
        text.contains("\"Index Cond\"") && text.contains("day <="),
        "the period's end is not an index condition: {text}"
    );
    assert!(!text.contains("Seq Scan"), "{text}");
    // And the query finds exactly the rows filed up to the period's end.
    let found: Vec<String> = sqlx::query_scalar(&sql.replace(
        "SELECT client_id, kind, row_key, day, data",
        "SELECT row_key",
    ))
    .bind("billing")
    .bind(generation.generation)
    .bind("payment")
    .bind("2025-03-31")
    .fetch_all(&mut conn)
    .await
    .expect("rows");
    assert_eq!(found.len(), 20, "{found:?}");
    conn.close().await.expect("closes");
    db.cleanup().await;
}
