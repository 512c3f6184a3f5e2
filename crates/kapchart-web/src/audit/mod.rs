//! The auditor's pages, read-only: verification at a glance, a client's
//! complete history with its hashes and downloads, the access log report,
//! and the controlled-substances and protocol-adherence reports.
//!
//! | route | page | read (service) | logged as |
//! | --- | --- | --- | --- |
//! | `GET /audit` | chains, checkpoints, access log head, what failed | `read_verification`, `read_checkpoints` | — (ids and hashes only) |
//! | `GET /audit/checkpoints.json` | the checkpoint log, a download | `read_checkpoints` | — |
//! | `GET /audit/clients?client=` | 303 to the client's history | none | — |
//! | `GET /audit/clients/{id}` | every entry with its hashes | `read_history` | `query` |
//! | `GET /audit/clients/{id}/bundle.json` | the verifiable bundle | `export_client_bundle` | `export` |
//! | `GET /audit/access[.csv]` | the access log of a period | `read_access_log` | — (the log, not a record) |
//! | `GET /audit/reports/{name}[.csv]` | controlled substances, protocol adherence | `read_report_as` | `query` (page), `export` (CSV), each client shown |
//!
//! Every page is built only from what these services return; they check
//! the role (auditors; verification and checkpoints also admins) and log
//! before returning. No page here writes anything else.

mod access;
mod history;
mod overview;
mod reports;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::NaiveDate;
use kapchart_domain::ClientId;

use crate::WebState;
use crate::page::{PageError, no_store};

/// This module's routes.
pub(crate) fn routes() -> Router<WebState> {
    Router::new()
        .route("/audit", get(overview::page))
        .route("/audit/checkpoints.json", get(overview::checkpoints))
        .route("/audit/clients", get(history::find))
        .route("/audit/clients/{id}", get(history::page))
        .route("/audit/clients/{id}/bundle.json", get(history::bundle))
        .route("/audit/access", get(access::page))
        .route("/audit/access.csv", get(access::csv))
        .route(
            "/audit/reports/controlled-substances",
            get(reports::controlled_substances),
        )
        .route(
            "/audit/reports/controlled-substances.csv",
            get(reports::controlled_substances_csv),
        )
        .route("/audit/reports/protocol", get(reports::protocol))
        .route("/audit/reports/protocol.csv", get(reports::protocol_csv))
}

/// The client id of an address or a form, or a 400 that names it.
fn client_of(field: &str, id: &str) -> Result<ClientId, PageError> {
    ClientId::parse(id.trim()).map_err(|e| PageError::bad(format!("{field}: {e}")))
}

/// A day typed in a form (`YYYY-MM-DD`), empty for none; a bad one names
/// its field.
fn query_day(field: &str, text: Option<&str>) -> Result<Option<NaiveDate>, PageError> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) => NaiveDate::parse_from_str(t, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| PageError::bad(format!("{field}: expected a date like 2026-01-05"))),
    }
}

/// `YYYY-MM-DD`, or empty.
fn day_value(d: Option<NaiveDate>) -> String {
    d.map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// A period in words.
fn period_words(from: Option<NaiveDate>, to: Option<NaiveDate>) -> String {
    let long = |d: NaiveDate| d.format("%-d %B %Y").to_string();
    match (from, to) {
        (None, None) => "all dates".to_owned(),
        (Some(f), None) => format!("from {} on", long(f)),
        (None, Some(t)) => format!("up to {}", long(t)),
        (Some(f), Some(t)) => format!("{} to {}", long(f), long(t)),
    }
}

/// `?k=v&...` of the pairs whose value is not empty, or nothing.
fn query_string(pairs: &[(&str, String)]) -> String {
    let kept: Vec<(&str, &str)> = pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (*k, v.as_str()))
        .collect();
    if kept.is_empty() {
        String::new()
    } else {
        format!("?{}", serde_urlencoded::to_string(kept).unwrap_or_default())
    }
}

/// A download: `body` with its content type, as an attachment named
/// `filename` (letters, digits, `-`, `_` and `.` only), not cached.
fn download(content_type: &'static str, filename: &str, body: Vec<u8>) -> Response {
    let safe: String = filename
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{safe}\""))
        .unwrap_or_else(|_| HeaderValue::from_static("attachment"));
    (
        no_store(),
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response()
}

/// The content type of the CSV downloads.
const CSV: &str = "text/csv; charset=utf-8";

/// The content type of the JSON downloads.
const JSON: &str = "application/json";

/// The history page of a client.
fn history_href(client: &str) -> String {
    format!("/audit/clients/{client}")
}
