//! The orchestrator's probes over real HTTP on both engines: `/healthz`
//! answers 200 without a token; `/readyz` answers 200 with every check
//! `ok` over a migrated database, reports the views' lag as events are
//! written and applied, answers 503 naming `migrations` when the database's
//! schema is not this build's, and neither probe appends to the access
//! log. (The database outage is `tests/outage.rs`.)

use kapchart_e2e::api::{ApiApp, Reply, body};
use kapchart_e2e::*;
use kapchart_store::Database;
use serde_json::{Value, json};

on_both_engines!(the_probes_answer_without_a_token,);

async fn probe(app: &ApiApp, path: &str) -> Reply {
    app.send(reqwest::Method::GET, path, None, None).await
}

/// The named check of a `/readyz` answer.
fn check<'a>(reply: &'a Reply, name: &str) -> &'a Value {
    reply.body["checks"]
        .as_array()
        .and_then(|checks| checks.iter().find(|c| c["name"] == name))
        .unwrap_or_else(|| panic!("no {name} check in {}", reply.body))
}

async fn access_log_entries(db: &Database) -> u64 {
    kapchart_store::access::verify(db)
        .await
        .expect("the access log reads")
        .entries
}

async fn execute(db: &Database, sql: &str) {
    match db {
        Database::Postgres(pool) => sqlx::query(sql).execute(pool).await.map(drop),
        Database::Sqlite(pool) => sqlx::query(sql).execute(pool).await.map(drop),
    }
    .expect("statement runs");
}

async fn the_probes_answer_without_a_token(url: &str) {
    let app = ApiApp::spawn(url).await;
    let s = app.staff().await;

    let r = probe(&app, "/healthz").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body, json!({ "status": "alive" }));

    let r = probe(&app, "/readyz").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["status"], "ready");
    assert_eq!(r.body["failed"], json!([]));
    for name in ["database", "migrations", "projector"] {
        assert_eq!(check(&r, name)["status"], "ok", "{}", r.body);
    }
    assert_eq!(check(&r, "migrations")["detail"], "current");

    // No projector runs here: the views lack the commands' events until
    // they are caught up, and the probe says how many.
    let mut second = body(register_client());
    second["RegisterClient"]["client_id"] = json!("client-2");
    app.commands_ok(CLIENT, &[(&s.front_desk, "reg-1", body(register_client()))])
        .await;
    app.commands_ok("client-2", &[(&s.front_desk, "reg-2", second)])
        .await;
    let r = probe(&app, "/readyz").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        check(&r, "projector")["detail"],
        "the views lack 2 events (bound 1000)",
        "{}",
        r.body
    );
    kapchart_projector::Projector::new(app.db.clone())
        .catch_up()
        .await
        .expect("the views catch up");
    let r = probe(&app, "/readyz").await;
    assert_eq!(
        check(&r, "projector")["detail"],
        "the views lack 0 events (bound 1000)",
        "{}",
        r.body
    );

    // The probes read no client data: nothing is appended to the access log.
    let logged = access_log_entries(&app.db).await;
    for path in ["/healthz", "/readyz", "/healthz", "/readyz"] {
        assert!(probe(&app, path).await.status == 200);
    }
    assert_eq!(access_log_entries(&app.db).await, logged);

    // A migration this build embeds is missing from the database: not
    // ready, and the answer names the check (and nothing else failed).
    execute(
        &app.db,
        "DELETE FROM _sqlx_migrations WHERE version = (SELECT max(version) FROM _sqlx_migrations)",
    )
    .await;
    let r = probe(&app, "/readyz").await;
    assert_eq!(r.status, 503, "{}", r.body);
    assert_eq!(r.body["status"], "not_ready");
    assert_eq!(r.body["failed"], json!(["migrations"]), "{}", r.body);
    assert_eq!(
        check(&r, "migrations")["detail"],
        "1 migrations not applied; run `kapchart migrate`"
    );
    // Alive all the same.
    assert_eq!(probe(&app, "/healthz").await.status, 200);

    app.stop().await;
}
