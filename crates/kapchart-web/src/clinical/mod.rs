//! The therapist's and prescriber's pages: their days and weeks, their
//! clients, the client chart with its outcome plot.
//!
//! - `GET /therapist`: the signed-in therapist's sessions today and the
//!   next six days (`?from=YYYY-MM-DD` for another week), each with what
//!   it needs ([`therapist`]).
//! - `GET /therapist/clients`: the therapist's clients: phase,
//!   explorations done of the plan, next step ([`therapist`]).
//! - `GET /prescriber`: the clients referred to the signed-in prescriber,
//!   their dosing and blood pressure, and the decisions due
//!   ([`prescriber`]).
//! - `GET /clients/{id}`: the client's chart (`?as_of=` a local date and
//!   time for the chart as it stood then) ([`chart`]).
//!
//! Every page reads through the API crate's services (`read_schedule`,
//! `read_my_clients`, `read_chart`), which check the role and the
//! assignment and append the access-log entries before returning; a page
//! renders only what they returned.

mod actions;
mod chart;
mod chart_view;
pub(crate) mod format;
mod instruments;
mod needs;
mod plot;
mod prescriber;
mod therapist;

use axum::Router;
use axum::routing::get;
use chrono::NaiveDate;
use kapchart_api::ClientSummary;
use kapchart_domain::{Policy, Role};

use crate::WebState;
use crate::page::{PageError, role_name};
use crate::session::SignedIn;

/// This module's routes.
pub(crate) fn routes() -> Router<WebState> {
    Router::new()
        .route("/therapist", get(therapist::week))
        .route("/therapist/clients", get(therapist::clients))
        .route("/prescriber", get(prescriber::page))
        .route("/clients/{id}", get(chart::page))
}

/// Refuses a page to every role but `role` (403).
fn only_for(user: &SignedIn, role: Role, pages: &str) -> Result<(), PageError> {
    if user.caller.role == role {
        Ok(())
    } else {
        Err(PageError::forbidden(format!(
            "{pages} are for the {} role; you are signed in as {}",
            role_name(role).to_lowercase(),
            role_name(user.caller.role).to_lowercase()
        )))
    }
}

/// Today in the practice's time zone.
/// The signed-in therapist's or prescriber's clients (read, and logged,
/// by the list service) in the order the lists show them: by phase, then
/// name, then id.
async fn my_clients_in_order(
    state: &WebState,
    user: &SignedIn,
) -> Result<Vec<ClientSummary>, PageError> {
    let mut list = state
        .app
        .read_my_clients(&user.caller, &user.source, user.purpose, None)
        .await?;
    list.sort_by_cached_key(|c| {
        (
            phase_rank(c.chart.phase),
            name_of(c),
            c.client_id.to_string(),
        )
    });
    Ok(list)
}

fn today(state: &WebState) -> NaiveDate {
    format::local_day(state.app.now(), state.time_zone())
}

/// The practice's policy in force now (the standard one if none is).
fn policy(state: &WebState) -> Policy {
    state
        .app
        .policy_at(state.app.now())
        .unwrap_or_else(Policy::standard)
}

/// A client's name as registered, or its id.
fn name_of(c: &ClientSummary) -> String {
    c.chart
        .registration
        .as_ref()
        .map_or_else(|| c.client_id.to_string(), |r| r.name.clone())
}

/// The chart page of a client.
fn chart_href(client: &str) -> String {
    format!("/clients/{client}")
}

/// The order phases are listed in: active care first, closed last.
fn phase_rank(phase: kapchart_domain::Phase) -> u8 {
    use kapchart_domain::Phase;
    match phase {
        Phase::Protocol => 0,
        Phase::Preparation => 1,
        Phase::Assessment => 2,
        Phase::OngoingCare => 3,
        Phase::NotSuitable => 4,
        Phase::Unregistered => 5,
        Phase::Discharged => 6,
    }
}

/// `?done=` and the other parameters of a page's query, read leniently:
/// a parameter a page does not know is ignored, one it knows must parse.
fn query_pairs(query: Option<&str>) -> Result<Vec<(String, String)>, PageError> {
    match query {
        None => Ok(Vec::new()),
        Some(q) => serde_urlencoded::from_str(q)
            .map_err(|_| PageError::bad("the page's query could not be read")),
    }
}

/// The value of `name` in `pairs`, if given and not empty.
fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}
