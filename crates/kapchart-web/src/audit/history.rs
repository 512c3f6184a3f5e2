//! A client's complete history (`/audit/clients/{id}`): every entry
//! exactly as hash-chained, with its sequence, type, the time it was
//! recorded (practice time zone), its actor, its hash and the link to the
//! entry before, amendments beside the entries they amend, and a link to
//! the chart as it stood after each entry; the verifiable bundle as a
//! download (`/audit/clients/{id}/bundle.json`, logged as an export).

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Redirect, Response};
use chrono::{DateTime, Duration, SubsecRound as _, Utc};
use chrono_tz::Tz;
use kapchart_audit::Hash;
use kapchart_store::CLIENT_RECORD;
use serde::Deserialize;
use serde_json::Value;

use super::{JSON, client_of, download, history_href};
use crate::WebState;
use crate::clinical::format::{self, Field};
use crate::page::{Layout, PageError, render};
use crate::session::SignedIn;

/// An amendment, beside the entry it amends.
#[derive(Debug)]
struct Amendment {
    sequence: u64,
    recorded: String,
    actor: String,
    reason: String,
    corrected: String,
}

/// One entry of the history as the page shows it.
#[derive(Debug)]
struct EntryView {
    sequence: u64,
    event: String,
    event_type: String,
    recorded: String,
    actor: String,
    hash: String,
    prev_hash: String,
    /// The entry's hash recomputed from its stored fields matches.
    hash_ok: bool,
    /// What `prev_hash` links to, in words.
    link: String,
    link_ok: bool,
    content: Vec<Field>,
    /// The entry this one amends, if it is an amendment.
    amends: Option<u64>,
    /// The amendments of this entry.
    amendments: Vec<Amendment>,
    /// The chart as it stood once this entry was recorded.
    chart_href: String,
}

/// The bundle on offer: the latest checkpoint that holds the client.
#[derive(Debug)]
struct BundleOffer {
    checkpoint: u64,
    issued: String,
    /// The last entry the bundle holds.
    head: u64,
    /// Entries were recorded after it.
    later: bool,
}

#[derive(Template)]
#[template(path = "audit/history.html")]
struct HistoryPage {
    layout: Layout,
    client_id: String,
    chart_href: String,
    time_zone: String,
    entries: Vec<EntryView>,
    head_hash: String,
    problems: usize,
    bundle: Option<BundleOffer>,
    bundle_href: String,
}

/// `?client=`: the client id typed on `/audit`.
#[derive(Debug, Deserialize)]
pub(super) struct FindQuery {
    #[serde(default)]
    client: String,
}

/// `GET /audit/clients?client=ID`: 303 to that client's history.
pub(super) async fn find(
    user: SignedIn,
    Query(q): Query<FindQuery>,
) -> Result<Redirect, PageError> {
    user.caller.must_be_auditor()?;
    let client = client_of("client", &q.client)?;
    Ok(Redirect::to(&history_href(client.as_str())))
}

/// The instant as a `datetime-local` value with seconds, rounded up to
/// the whole second, so the chart as of it holds the entry.
fn as_of_value(t: DateTime<Utc>, tz: Tz) -> String {
    let whole = t.trunc_subsecs(0);
    let up = if whole < t {
        whole + Duration::seconds(1)
    } else {
        whole
    };
    up.with_timezone(&tz)
        .format("%Y-%m-%dT%H:%M:%S")
        .to_string()
}

fn text_of(v: &Value) -> String {
    v.as_str().map_or_else(String::new, str::to_owned)
}

/// `GET /audit/clients/{id}`.
pub(super) async fn page(
    State(state): State<WebState>,
    user: SignedIn,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let client = client_of("client id in the address", &id)?;
    let events = state
        .app
        .read_history(&user.caller, &user.source, &client, user.purpose)
        .await?;
    let log = state.app.read_checkpoints(&user.caller).await?;
    let tz = state.time_zone();
    let chart_base = format!("/clients/{client}");

    let mut entries: Vec<EntryView> = Vec::with_capacity(events.len());
    let mut amendments: BTreeMap<u64, Vec<Amendment>> = BTreeMap::new();
    let mut previous: Option<(u64, Hash)> = None;
    for e in &events {
        let entry = &e.stored.entry;
        let meta = &entry.metadata;
        let recorded_at = meta["recorded_at"]
            .as_str()
            .and_then(|t| t.parse::<DateTime<Utc>>().ok());
        let recorded = recorded_at.map_or_else(
            || text_of(&meta["recorded_at"]),
            |t| format::date_time(t, tz),
        );
        let actor = match (meta["actor_id"].as_str(), meta["actor_role"].as_str()) {
            (Some(id), Some(role)) => format!("{id} ({})", format::words(role)),
            (Some(id), None) => id.to_owned(),
            _ => "unknown".to_owned(),
        };
        let body = entry
            .payload
            .get(&entry.event_type)
            .unwrap_or(&entry.payload);
        let amends = (entry.event_type == "EntryAmended")
            .then(|| body["entry"].as_u64())
            .flatten();
        if let Some(target) = amends {
            amendments.entry(target).or_default().push(Amendment {
                sequence: entry.sequence,
                recorded: recorded.clone(),
                actor: actor.clone(),
                reason: text_of(&body["reason"]),
                corrected: text_of(&body["corrected_content"]),
            });
        }
        let (link, link_ok) = match previous {
            None if entry.prev_hash == Hash::ZERO => ("the start of the history".to_owned(), true),
            None => (
                "nothing: the first entry should link to zeros".to_owned(),
                false,
            ),
            Some((seq, hash)) if hash == entry.prev_hash => (format!("entry {seq}"), true),
            Some((seq, _)) => (
                format!("no entry: it is not the hash of entry {seq}"),
                false,
            ),
        };
        previous = Some((entry.sequence, e.stored.hash));
        entries.push(EntryView {
            sequence: entry.sequence,
            event: format::event_words(&entry.event_type),
            event_type: entry.event_type.clone(),
            recorded,
            actor,
            hash: e.stored.hash.to_hex(),
            prev_hash: entry.prev_hash.to_hex(),
            hash_ok: entry.hash().is_ok_and(|h| h == e.stored.hash),
            link,
            link_ok,
            content: format::content_fields(body, tz),
            amends,
            amendments: Vec::new(),
            chart_href: match recorded_at {
                Some(t) => format!(
                    "{chart_base}?{}",
                    serde_urlencoded::to_string([("as_of", as_of_value(t, tz))])
                        .unwrap_or_default()
                ),
                None => chart_base.clone(),
            },
        });
    }
    for e in &mut entries {
        if let Some(list) = amendments.remove(&e.sequence) {
            e.amendments = list;
        }
    }
    let problems = entries.iter().filter(|e| !e.hash_ok || !e.link_ok).count();
    let bundle = log.iter().rev().find_map(|c| {
        c.heads
            .iter()
            .find(|h| h.aggregate_type == CLIENT_RECORD && h.aggregate_id == client.as_str())
            .map(|h| BundleOffer {
                checkpoint: c.number,
                issued: chrono::DateTime::parse_from_rfc3339(&c.checkpoint.statement.issued_at)
                    .map_or_else(
                        |_| c.checkpoint.statement.issued_at.clone(),
                        |t| format::date_time(t.to_utc(), tz),
                    ),
                head: h.sequence,
                later: entries.last().is_some_and(|e| e.sequence > h.sequence),
            })
    });
    let client_id = client.to_string();
    render(&HistoryPage {
        layout: Layout::new(format!("Complete history of {client_id}"), &user, ""),
        head_hash: entries.last().map(|e| e.hash.clone()).unwrap_or_default(),
        bundle_href: format!("/audit/clients/{client_id}/bundle.json"),
        chart_href: chart_base,
        client_id,
        time_zone: tz.name().to_owned(),
        entries,
        problems,
        bundle,
    })
}

/// `GET /audit/clients/{id}/bundle.json`: the client's verifiable bundle
/// as of the latest checkpoint that holds it, logged as an export.
pub(super) async fn bundle(
    State(state): State<WebState>,
    user: SignedIn,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let client = client_of("client id in the address", &id)?;
    let bundle = state
        .app
        .export_client_bundle(&user.caller, &user.source, &client, user.purpose)
        .await?;
    let body = serde_json::to_vec_pretty(&bundle)
        .map_err(|e| PageError::internal("writing a bundle", &e))?;
    Ok(download(JSON, &format!("bundle-{client}.json"), body))
}
