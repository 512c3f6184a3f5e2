//! Many commands at once through the HTTP API, on both engines (issue 10,
//! item 9): fifty concurrent commands to one record are all applied (the
//! server serializes writers of one record), and commands to several
//! records in parallel all apply too (SQLite waits for its write lock
//! rather than failing with "database is locked").

use std::sync::Arc;

use kapchart_domain::Role;
use kapchart_e2e::api::{ApiApp, Reply};
use kapchart_e2e::*;
use serde_json::{Value, json};

on_both_engines!(
    fifty_concurrent_commands_to_one_record_all_apply,
    concurrent_commands_to_several_records_all_apply,
);

fn register(client: &str) -> Value {
    json!({"RegisterClient": {
        "client_id": client,
        "name": "Alex Example",
        "date_of_birth": "1985-03-14",
        "therapist": "t-rivera",
    }})
}

fn pay(k: usize) -> Value {
    serde_json::to_value(payment(&format!("pay-{k}"), 100, date(0))).expect("command JSON")
}

/// Sends every `(client, command id, body)` at once as `token`; returns
/// the replies in the same order.
async fn all_at_once(
    app: &Arc<ApiApp>,
    token: &str,
    commands: Vec<(String, String, Value)>,
) -> Vec<Reply> {
    let tasks: Vec<_> = commands
        .into_iter()
        .map(|(client, id, body)| {
            let app = Arc::clone(app);
            let token = token.to_owned();
            tokio::spawn(async move { app.command(&token, &client, &id, &body).await })
        })
        .collect();
    let mut replies = Vec::with_capacity(tasks.len());
    for t in tasks {
        replies.push(t.await.expect("task"));
    }
    replies
}

async fn stop(app: Arc<ApiApp>) {
    if let Ok(app) = Arc::try_unwrap(app) {
        app.stop().await;
    }
}

async fn fifty_concurrent_commands_to_one_record_all_apply(url: &str) {
    let app = Arc::new(ApiApp::spawn(url).await);
    let front_desk = app.user("fd-jones", Role::FrontDesk).await;
    // The staff the registration names are accounts of the practice.
    app.user("t-rivera", Role::Therapist).await;
    app.user("rx-chen", Role::Prescriber).await;
    let r = app
        .command(&front_desk, CLIENT, "reg", &register(CLIENT))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let commands = (0..50)
        .map(|k| (CLIENT.to_owned(), format!("cmd-{k}"), pay(k)))
        .collect();
    let replies = all_at_once(&app, &front_desk, commands).await;
    let mut sequences: Vec<u64> = replies
        .iter()
        .map(|r| {
            assert_eq!(r.status, 200, "every command applies: {}", r.body);
            r.body["sequence"].as_u64().expect("sequence")
        })
        .collect();
    sequences.sort_unstable();
    assert_eq!(sequences, (2..=51).collect::<Vec<u64>>());
    assert_eq!(
        app.events().await,
        51,
        "fifty payments and the registration"
    );
    stop(app).await;
}

async fn concurrent_commands_to_several_records_all_apply(url: &str) {
    let app = Arc::new(ApiApp::spawn(url).await);
    let front_desk = app.user("fd-jones", Role::FrontDesk).await;
    // The staff the registration names are accounts of the practice.
    app.user("t-rivera", Role::Therapist).await;
    app.user("rx-chen", Role::Prescriber).await;
    let clients: Vec<String> = (0..5).map(|c| format!("client-{c}")).collect();
    // The registrations at once, then ten payments to each at once.
    let registrations = clients
        .iter()
        .map(|c| (c.clone(), format!("reg-{c}"), register(c)))
        .collect();
    for r in all_at_once(&app, &front_desk, registrations).await {
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let payments = (0..50)
        .map(|k| {
            let client = clients[k % clients.len()].clone();
            (client, format!("cmd-{k}"), pay(k))
        })
        .collect();
    for r in all_at_once(&app, &front_desk, payments).await {
        assert_eq!(r.status, 200, "every command applies: {}", r.body);
    }
    assert_eq!(app.events().await, 55);
    stop(app).await;
}
