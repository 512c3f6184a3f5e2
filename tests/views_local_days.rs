//! The views count days in the practice's time zone, as its record sets
//! it, on both engines: a session booked for a Los Angeles evening (the
//! next day in UTC) is filed on its local day, and the schedule report's
//! periods are local days; a rebuild from the first event counts them the
//! same; and a view whose rows an older version wrote (an older format) is
//! rebuilt by the next catch-up, beside the rows it replaces.

use std::collections::BTreeMap;

use chrono::Duration;
use kapchart_domain::Suitability;
use kapchart_e2e::api::{ApiApp, Reply, body, ok};
use kapchart_e2e::settings::{LA, identity_in, local};
use kapchart_e2e::*;
use kapchart_projector::Projector;
use kapchart_store::Database;
use kapchart_views::{Row, STATE_FORMAT, ViewName};
use serde_json::{Value, json};

on_both_engines!(the_views_file_days_in_the_practices_time_zone);

async fn schedule_between(app: &ApiApp, token: &str, from: &str, to: &str) -> Vec<Value> {
    let r: Reply = app
        .get(
            token,
            &format!("/api/v1/reports/schedule?purpose=operations&from={from}&to={to}"),
        )
        .await;
    ok(&r, "the schedule report");
    r.body["rows"].as_array().cloned().unwrap_or_default()
}

/// Every row of every view, by (view, client, kind, key).
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

async fn the_views_file_days_in_the_practices_time_zone(url: &str) {
    let app = ApiApp::spawn(url).await;
    let s = app.staff().await;
    app.on(0);
    let identity = json!({
        "id": "identity-1",
        "body": serde_json::to_value(identity_in(LA)).expect("json"),
    });
    let r = app
        .send(
            reqwest::Method::POST,
            "/api/v1/practice/commands",
            Some(&s.admin),
            Some(serde_json::to_vec(&identity).expect("json")),
        )
        .await;
    ok(&r, "the practice's identity, in Los Angeles");

    // Thursday 8 January, 21:00 to 22:00 in Los Angeles: Friday 05:00 UTC.
    let start = local(LA, 2026, 1, 8, 21, 0);
    let evening =
        kapchart_domain::TimeSpan::new(start, start + Duration::hours(1)).expect("a span");
    assert_eq!(start.date_naive(), date(4), "the next day in UTC");
    let steps = [
        (&s.front_desk, "register", body(register_client())),
        (
            &s.therapist,
            "intake",
            body(intake("intake", span(0, 16, 17), Suitability::Suitable)),
        ),
        (
            &s.front_desk,
            "book",
            body(schedule_preparation("prep-evening", evening)),
        ),
    ];
    for (token, id, command) in steps {
        let r = app.command(token, CLIENT, id, &command).await;
        ok(&r, id);
    }

    let thursday = schedule_between(&app, &s.front_desk, "2026-01-08", "2026-01-08").await;
    assert_eq!(thursday.len(), 1, "{thursday:?}");
    assert_eq!(thursday[0]["session"], "prep-evening");
    assert_eq!(thursday[0]["day"], "2026-01-08");
    assert!(
        schedule_between(&app, &s.front_desk, "2026-01-09", "2026-01-09")
            .await
            .is_empty(),
        "nothing is filed on the UTC date"
    );
    let projector = Projector::new(app.db.clone());
    let booked = projector
        .rows(ViewName::Schedule, &[kapchart_views::kinds::SESSION], None)
        .await
        .expect("session rows");
    let evening_row = booked
        .iter()
        .find(|(_, r)| r.key == "prep-evening")
        .expect("the booked session's row");
    assert_eq!(
        evening_row.1.day,
        Some(date(3)),
        "the session row's day is local"
    );

    // A rebuild from the first event counts the same days.
    projector.catch_up().await.expect("catch up");
    let incremental = all_rows(&projector).await;
    projector
        .rebuild(&ViewName::ALL, &|_| {})
        .await
        .expect("rebuild");
    assert_eq!(all_rows(&projector).await, incremental);

    // Rows of an older format are rebuilt by the next catch-up.
    mark_schedule_format_1(&app.db).await;
    let before = projector
        .active(ViewName::Schedule)
        .await
        .expect("generation");
    assert_eq!(before.format, 1);
    // As a read catches up: nothing new in the feed, but an old format.
    projector
        .catch_up_fully(std::time::Duration::from_secs(3))
        .await
        .expect("catch up");
    let after = projector
        .active(ViewName::Schedule)
        .await
        .expect("generation");
    assert_eq!(after.format, i64::from(STATE_FORMAT));
    assert!(after.generation > before.generation, "a new generation");
    assert_eq!(all_rows(&projector).await, incremental);

    app.stop().await;
}

async fn mark_schedule_format_1(db: &Database) {
    const SQL: &str =
        "UPDATE view_generations SET format = 1 WHERE view = 'schedule' AND status = 'active'";
    let changed = match db {
        Database::Postgres(pool) => sqlx::query(SQL)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()),
        Database::Sqlite(pool) => sqlx::query(SQL)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()),
    }
    .expect("update");
    assert_eq!(changed, 1);
}
