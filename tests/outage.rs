//! A PostgreSQL outage under load, on a throwaway cluster the test
//! controls (kapchart-testkit's `Cluster`): the API with the projector
//! running beside it, as `kapchart serve` runs them; clients sending
//! commands the whole time, each recording every acknowledged (2xx)
//! command. The cluster is stopped at once (`pg_ctl stop -m immediate`)
//! mid-load; while it is down, commands, reads, a staff page and the
//! readiness probe are answered 503 (`unavailable` with `Retry-After` for
//! the API; `Retry-After` for the page)
//! within a bound, never a 500; the liveness probe stays 200. The cluster
//! is started again and the server recovers by itself (`/readyz` 200);
//! the commands refused meanwhile are retried with their ids; then every
//! acknowledged command's event is in the store exactly once, `verify`
//! finds both chains intact and the views catch up with the feed.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kapchart_e2e::api::{ApiApp, Staff, body};
use kapchart_e2e::*;
use kapchart_projector::Projector;
use kapchart_store::audit::{VerifyOptions, verify};
use kapchart_store::{CLIENT_RECORD, Database};
use kapchart_testkit::Cluster;
use serde_json::{Value, json};

/// How long any one request may take while the database is down: the
/// pool's acquire timeout, the fallback's bounded probe and a margin for
/// a shared CI machine.
const REQUEST_BOUND: Duration = Duration::from_secs(15);

/// How long the server may take to be ready again after the database
/// returns.
const RECOVERY_BOUND: Duration = Duration::from_secs(60);

/// Load clients, each sending its own commands one after another.
const WRITERS: usize = 3;

/// What a load client saw.
#[derive(Debug, Default)]
struct Seen {
    /// (client id, command id) of every 2xx reply.
    acknowledged: Vec<(String, String)>,
    /// (client id, command id) of every 503 `unavailable`, to retry.
    refused: Vec<(String, String)>,
    /// Any other reply: (status, body).
    other: Vec<(u16, String)>,
}

/// One request, with the time it took; `None` when no answer came.
async fn timed(
    request: reqwest::RequestBuilder,
) -> (Option<(u16, Value, Option<String>)>, Duration) {
    let started = Instant::now();
    let answer = match request.send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let bytes = response.bytes().await.unwrap_or_default();
            let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            Some((status, body, retry_after))
        }
        Err(_) => None,
    };
    (answer, started.elapsed())
}

fn registration(client: &str) -> Value {
    let mut b = body(register_client());
    b["RegisterClient"]["client_id"] = json!(client);
    b
}

fn command_request(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    client: &str,
    id: &str,
) -> reqwest::RequestBuilder {
    http.post(format!("{base}/api/v1/clients/{client}/commands"))
        .bearer_auth(token)
        .json(&json!({ "id": id, "body": registration(client) }))
}

/// Asserts a 503 `unavailable` with a `Retry-After` of whole seconds.
#[track_caller]
fn assert_unavailable(answer: &(u16, Value, Option<String>), what: &str) {
    let (status, body, retry_after) = answer;
    assert_eq!(*status, 503, "{what}: {body}");
    assert_eq!(body["error"]["code"], "unavailable", "{what}: {body}");
    let seconds = retry_after
        .as_deref()
        .and_then(|s| s.parse::<u32>().ok())
        .unwrap_or_else(|| panic!("{what}: no Retry-After in seconds"));
    assert!(seconds > 0, "{what}: Retry-After {seconds}");
}

/// Polls `/readyz` until it answers `want`, within `bound`.
async fn readyz_becomes(http: &reqwest::Client, base: &str, want: u16, bound: Duration) -> Value {
    let deadline = Instant::now() + bound;
    loop {
        let (answer, _) = timed(http.get(format!("{base}/readyz"))).await;
        if let Some((status, body, _)) = answer {
            if status == want {
                return body;
            }
            assert!(
                Instant::now() < deadline,
                "/readyz still answers {status} after {bound:?}: {body}"
            );
        } else {
            assert!(Instant::now() < deadline, "/readyz gave no answer");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn count(db: &Database, sql: &str) -> i64 {
    match db {
        Database::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
        Database::Sqlite(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
    }
    .expect("count")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_server_rides_out_a_postgres_outage() {
    let cluster = Cluster::start().unwrap_or_else(|e| panic!("a throwaway cluster: {e}"));
    let app = ApiApp::spawn(&cluster.url()).await;
    let s: Staff = app.staff().await;
    let http = reqwest::Client::new();
    let base = app.base.clone();

    // The projector runs beside the API, as in `kapchart serve`.
    let (stop_views, views_stopped) = tokio::sync::oneshot::channel::<()>();
    let projector = Projector::new(app.db.clone());
    let views = {
        let projector = projector.clone();
        tokio::spawn(async move {
            projector
                .run(Duration::from_millis(200), async move {
                    let _ = views_stopped.await;
                })
                .await;
        })
    };

    // A few commands before the outage.
    for n in 0..3 {
        let client = format!("before-{n}");
        let (answer, _) = timed(command_request(
            &http,
            &base,
            &s.front_desk,
            &client,
            &client,
        ))
        .await;
        let (status, body, _) = answer.expect("an answer");
        assert_eq!(status, 200, "{body}");
    }
    let ready = readyz_becomes(&http, &base, 200, RECOVERY_BOUND).await;
    assert_eq!(ready["status"], "ready");

    // Load: each writer registers new clients one after another until
    // told to stop, recording what it saw.
    let seen = Arc::new(Mutex::new(Seen::default()));
    let (stop_load, load_stopped) = tokio::sync::watch::channel(false);
    let slowest = Arc::new(Mutex::new(Duration::ZERO));
    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let (http, base, token) = (http.clone(), base.clone(), s.front_desk.clone());
        let (seen, slowest, stopped) = (seen.clone(), slowest.clone(), load_stopped.clone());
        writers.push(tokio::spawn(async move {
            let mut n = 0;
            while !*stopped.borrow() {
                let client = format!("load-{w}-{n}");
                n += 1;
                let (answer, took) =
                    timed(command_request(&http, &base, &token, &client, &client)).await;
                {
                    let mut slowest = slowest.lock().unwrap_or_else(|p| p.into_inner());
                    *slowest = (*slowest).max(took);
                }
                let mut seen = seen.lock().unwrap_or_else(|p| p.into_inner());
                match answer {
                    Some((200, _, _)) => seen.acknowledged.push((client.clone(), client)),
                    Some((503, body, retry_after))
                        if body["error"]["code"] == "unavailable" && retry_after.is_some() =>
                    {
                        seen.refused.push((client.clone(), client));
                    }
                    Some((status, body, _)) => seen.other.push((status, body.to_string())),
                    None => seen.other.push((0, "no answer".to_owned())),
                }
            }
        }));
    }

    // Some load acknowledged, then the database goes away mid-load.
    let deadline = Instant::now() + RECOVERY_BOUND;
    while seen
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .acknowledged
        .len()
        < 2 * WRITERS
    {
        assert!(Instant::now() < deadline, "no load was acknowledged");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    cluster
        .stop_immediately()
        .unwrap_or_else(|e| panic!("stopping the cluster: {e}"));

    // While it is down: the load is refused with 503 `unavailable`...
    let refused_before = seen.lock().unwrap_or_else(|p| p.into_inner()).refused.len();
    let deadline = Instant::now() + RECOVERY_BOUND;
    while seen.lock().unwrap_or_else(|p| p.into_inner()).refused.len() < refused_before + WRITERS {
        assert!(
            Instant::now() < deadline,
            "the load was not refused while the database was down"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // ... and so are a command, reads and an admin's read, each within
    // the bound; the readiness probe names the database; the liveness
    // probe stays 200.
    let (answer, took) = timed(command_request(
        &http,
        &base,
        &s.front_desk,
        "during",
        "during",
    ))
    .await;
    assert_unavailable(&answer.expect("an answer"), "a command");
    assert!(took < REQUEST_BOUND, "a command took {took:?}");
    // (At once: each waits out the pool's acquire timeout.)
    let reads: Vec<_> = [
        (
            s.therapist.clone(),
            "/api/v1/clients/before-0/chart?purpose=treatment",
        ),
        (s.front_desk.clone(), "/api/v1/schedule?purpose=operations"),
        (s.auditor.clone(), "/api/v1/verification"),
        (s.admin.clone(), "/api/v1/users"),
    ]
    .into_iter()
    .map(|(token, path)| {
        let request = http.get(format!("{base}{path}")).bearer_auth(token);
        (path, tokio::spawn(timed(request)))
    })
    .collect();
    for (path, read) in reads {
        let (answer, took) = read.await.expect("a read");
        assert_unavailable(&answer.expect("an answer"), path);
        assert!(took < REQUEST_BOUND, "{path} took {took:?}");
    }
    // A staff page (the session is looked up first): 503 too.
    let (answer, took) = timed(
        http.get(format!("{base}/therapist"))
            .header(reqwest::header::COOKIE, "kapchart_session=not-a-session"),
    )
    .await;
    let (status, _, retry_after) = answer.expect("an answer");
    assert_eq!(status, 503, "a page");
    assert!(retry_after.is_some(), "a page's Retry-After");
    assert!(took < REQUEST_BOUND, "a page took {took:?}");
    let (answer, took) = timed(http.get(format!("{base}/readyz"))).await;
    let (status, body, _) = answer.expect("an answer");
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["status"], "not_ready", "{body}");
    assert_eq!(body["failed"], json!(["database"]), "{body}");
    assert!(took < REQUEST_BOUND, "/readyz took {took:?}");
    let (answer, _) = timed(http.get(format!("{base}/healthz"))).await;
    assert_eq!(answer.expect("an answer").0, 200);

    // The database returns: the server recovers by itself.
    cluster
        .start_again()
        .unwrap_or_else(|e| panic!("starting the cluster again: {e}"));
    let ready = readyz_becomes(&http, &base, 200, RECOVERY_BOUND).await;
    assert_eq!(ready["status"], "ready");
    let acknowledged_at_recovery = seen
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .acknowledged
        .len();
    let deadline = Instant::now() + RECOVERY_BOUND;
    while seen
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .acknowledged
        .len()
        < acknowledged_at_recovery + WRITERS
    {
        assert!(
            Instant::now() < deadline,
            "the load was not acknowledged again"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = stop_load.send(true);
    for writer in writers {
        writer.await.expect("a load client");
    }
    let mut seen = std::mem::take(&mut *seen.lock().unwrap_or_else(|p| p.into_inner()));
    assert!(
        seen.other.is_empty(),
        "replies other than 200 and 503 unavailable: {:?}",
        seen.other
    );
    let slowest = *slowest.lock().unwrap_or_else(|p| p.into_inner());
    assert!(slowest < REQUEST_BOUND, "a command took {slowest:?}");
    eprintln!(
        "outage: {} commands acknowledged, {} refused 503 while the database was down, \
         slowest reply {slowest:?}",
        seen.acknowledged.len(),
        seen.refused.len()
    );

    // The commands refused during the outage are retried with their ids
    // (and the one sent by hand): a command whose commit made it before
    // the cut is not applied twice.
    seen.refused
        .push(("during".to_owned(), "during".to_owned()));
    for (client, id) in std::mem::take(&mut seen.refused) {
        let (answer, _) = timed(command_request(&http, &base, &s.front_desk, &client, &id)).await;
        let (status, body, _) = answer.expect("an answer");
        assert_eq!(status, 200, "retrying {id}: {body}");
        seen.acknowledged.push((client, id));
    }

    // Every acknowledged command's event is in the store exactly once, and
    // nothing else is.
    let repository = app.db.repository(kapchart_store::system_clock());
    for (client, id) in &seen.acknowledged {
        let written = repository
            .command_events(CLIENT_RECORD, client, id)
            .await
            .expect("reading a command's events");
        assert_eq!(written.len(), 1, "command {id}: {written:?}");
    }
    let before = 3;
    let events = count(&app.db, "SELECT count(*) FROM events").await;
    assert_eq!(
        usize::try_from(events).expect("a count"),
        before + seen.acknowledged.len(),
        "events beside the acknowledged commands'"
    );

    // Both chains verify, and the views catch up with the feed.
    let report = verify(&app.db, &VerifyOptions::default(), &|_| {})
        .await
        .expect("verify runs");
    assert!(report.is_intact(), "{report:?}");
    let access = kapchart_store::access::verify(&app.db)
        .await
        .expect("the access log reads");
    assert!(access.is_intact(), "{access:?}");
    let behind = projector
        .catch_up_fully(Duration::from_secs(10))
        .await
        .expect("the views catch up");
    assert_eq!(behind, 0);

    let _ = stop_views.send(());
    views.await.expect("the projector stops");
    app.stop().await;
    drop(cluster);
}
