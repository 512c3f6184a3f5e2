//! Helpers shared by the form tests (`pages_forms.rs`,
//! `pages_forms_refusals.rs`): filling a form as a browser does, the
//! redirect of a recorded command, the events a client's record holds.
#![allow(dead_code)]

use kapchart_domain::{Role, Suitability};
use kapchart_e2e::api::{ApiApp, body};
use kapchart_e2e::pages::{Page, PageClient};
use kapchart_e2e::*;

/// The value of the hidden `command_id` of a rendered form.
pub fn command_id_of(page: &Page) -> String {
    let marker = "name=\"command_id\" value=\"";
    let start = page
        .html
        .find(marker)
        .unwrap_or_else(|| panic!("no command id in the page:\n{}", page.html))
        + marker.len();
    let end = page.html[start..].find('"').expect("closing quote") + start;
    page.html[start..end].to_owned()
}

/// Opens the form `segment` for `client` as a browser would, then posts
/// `fields` with the form's command id and the client.
pub async fn fill(
    browser: &PageClient,
    segment: &str,
    client: &str,
    fields: &[(&str, &str)],
) -> Page {
    let form = browser
        .get(&format!("/act/{segment}?client={client}"))
        .await;
    assert_eq!(form.status, 200, "{segment}: {}", form.html);
    let command_id = command_id_of(&form);
    let mut all: Vec<(&str, &str)> = vec![("client_id", client), ("command_id", &command_id)];
    all.extend_from_slice(fields);
    browser.post(&format!("/act/{segment}"), &all).await
}

/// Asserts `page` is the redirect of a recorded command to `location`.
#[track_caller]
pub fn recorded(page: &Page, location: &str) {
    assert_eq!(page.status, 303, "not recorded:\n{}", page.html);
    assert_eq!(page.location.as_deref(), Some(location));
}

/// The staff who work a client through the protocol, signed in.
#[derive(Debug)]
pub struct Staff {
    /// fd-jones.
    pub desk: PageClient,
    /// t-rivera.
    pub therapist: PageClient,
    /// rx-chen.
    pub prescriber: PageClient,
}

/// Moves the server to 20:00 on day `d` and signs the staff in again
/// (sessions end after 15 idle minutes).
pub async fn on_day(app: &ApiApp, d: i64) -> Staff {
    app.on(d);
    Staff {
        desk: app.browser("fd-jones", "payment").await,
        therapist: app.browser("t-rivera", "treatment").await,
        prescriber: app.browser("rx-chen", "treatment").await,
    }
}

/// One text column of the client's events, in order: `column` is an SQL
/// expression over the `events` table (the client id is a test constant).
pub async fn event_texts(app: &ApiApp, client: &str, column: &str) -> Vec<String> {
    let sql =
        format!("SELECT {column} FROM events WHERE aggregate_id = '{client}' ORDER BY sequence");
    match &app.db {
        kapchart_store::Database::Postgres(pool) => sqlx::query_scalar(&sql).fetch_all(pool).await,
        kapchart_store::Database::Sqlite(pool) => sqlx::query_scalar(&sql).fetch_all(pool).await,
    }
    .expect("the client's events")
}

/// The client's event types, in order.
pub async fn event_types(app: &ApiApp, client: &str) -> Vec<String> {
    event_texts(app, client, "event_type").await
}

/// The client's events' payloads and metadata as text, in order.
pub async fn event_contents(app: &ApiApp, client: &str) -> Vec<String> {
    event_texts(
        app,
        client,
        "CAST(payload AS TEXT) || CAST(metadata AS TEXT)",
    )
    .await
}

/// Registers [`CLIENT`] (therapist t-rivera, prescriber rx-chen) through
/// the API and takes it through intake, clearance, prescription and
/// consent on day 0, with a preparation if `prepared`. Returns the
/// therapist's and the front desk's tokens.
pub async fn client_through_the_api(app: &ApiApp, prepared: bool) -> (String, String) {
    let t = app.user("t-rivera", Role::Therapist).await;
    let rx = app.user("rx-chen", Role::Prescriber).await;
    let fd = app.user("fd-jones", Role::FrontDesk).await;
    app.on(0);
    let mut steps = vec![
        (fd.as_str(), "s-1", body(register_client())),
        (
            t.as_str(),
            "s-2",
            body(intake("intake-1", span(0, 9, 10), Suitability::Suitable)),
        ),
        (
            rx.as_str(),
            "s-3",
            body(medical(date(0), kapchart_domain::Clearance::Cleared)),
        ),
        (rx.as_str(), "s-4", body(standard_prescription("rx-1"))),
        (t.as_str(), "s-5", body(consent(date(0)))),
    ];
    if prepared {
        steps.push((
            t.as_str(),
            "s-6",
            body(preparation("prep-1", span(0, 10, 11))),
        ));
    }
    app.commands_ok(CLIENT, &steps).await;
    (t, fd)
}
