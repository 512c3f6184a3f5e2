//! The prescriber's page: the clients referred to them (from the list
//! service), the decisions due, and each client's prescription, dosing
//! and blood pressure history.

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use kapchart_api::ClientSummary;
use kapchart_domain::{Phase, Policy, Role};

use super::actions::{self, Link};
use super::needs::{self, Flag};
use super::therapist::explorations_text;
use super::{
    chart_href, format, my_clients_in_order, name_of, only_for, param, policy, query_pairs, today,
};
use crate::WebState;
use crate::page::{Layout, PageError, done_notice, render};
use crate::session::SignedIn;

/// A decision due, with its client.
struct DecisionLine {
    client: String,
    href: String,
    flag: Flag,
}

/// One exploration of the history: the dose if one was given, and the
/// blood pressure before and after.
struct DoseLine {
    date: String,
    session: String,
    dose: String,
    lot: String,
    before: String,
    above: bool,
    after: String,
}

/// A referred client.
struct RxClient {
    name: String,
    id: String,
    href: String,
    anchor: String,
    phase: String,
    explorations: String,
    prescription: String,
    next: String,
    next_action: Option<Link>,
    doses: Vec<DoseLine>,
    adverse: Vec<String>,
}

/// A client discharged or found not suitable.
struct ClosedLine {
    name: String,
    href: String,
    phase: String,
}

#[derive(Template)]
#[template(path = "clinical/prescriber.html")]
struct PrescriberPage {
    layout: Layout,
    threshold: String,
    decisions: Vec<DecisionLine>,
    clients: Vec<RxClient>,
    closed: Vec<ClosedLine>,
}

/// `GET /prescriber`.
pub(super) async fn page(
    State(state): State<WebState>,
    user: SignedIn,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    only_for(&user, Role::Prescriber, "the prescriber's pages")?;
    let pairs = query_pairs(query.as_deref())?;
    let list = my_clients_in_order(&state, &user).await?;
    let policy = policy(&state);
    let today = today(&state);
    let mut decisions = Vec::new();
    let mut clients = Vec::new();
    let mut closed = Vec::new();
    for c in &list {
        let href = chart_href(c.client_id.as_str());
        if matches!(c.chart.phase, Phase::Discharged | Phase::NotSuitable) {
            closed.push(ClosedLine {
                name: name_of(c),
                href,
                phase: format::words(&format::code(&c.chart.phase)),
            });
            continue;
        }
        for flag in needs::prescriber_decisions(&needs::Subject::of(c), &policy, today) {
            decisions.push(DecisionLine {
                client: name_of(c),
                href: href.clone(),
                flag,
            });
        }
        clients.push(rx_client(c, &policy));
    }
    decisions.sort_by_key(|d| d.flag.level);
    render(&PrescriberPage {
        layout: Layout::new("Referred clients", &user, "/prescriber")
            .with_notice(done_notice(param(&pairs, "done"))),
        threshold: policy.bp_threshold.to_string(),
        decisions,
        clients,
        closed,
    })
}

fn rx_client(c: &ClientSummary, policy: &Policy) -> RxClient {
    let chart = &c.chart;
    let id = c.client_id.to_string();
    let prescription = match &chart.prescription {
        Some(rx) => format!(
            "{}: {}–{} mg, step up to {} mg, ordered {} mg; {} of {} sessions used; valid {} to {}",
            rx.prescription,
            rx.min_mg,
            rx.max_mg,
            rx.max_step_mg,
            rx.ordered_mg,
            rx.used_sessions,
            rx.authorized_sessions,
            format::date(rx.valid_from),
            format::date(rx.valid_until)
        ),
        None => "None issued".to_owned(),
    };
    let doses = chart
        .blood_pressure
        .iter()
        .map(|bp| {
            let dose = chart.doses.iter().find(|d| d.session == bp.session);
            DoseLine {
                date: format::date(bp.date),
                session: bp.session.clone(),
                dose: dose.map_or_else(|| "Not dosed".to_owned(), |d| format!("{} mg", d.dose_mg)),
                lot: dose.map_or_else(|| "—".to_owned(), |d| d.lot_number.clone()),
                before: bp.before.to_string(),
                above: bp.before.is_above(policy.bp_threshold),
                after: bp.after.to_string(),
            }
        })
        .collect();
    let adverse = chart
        .adverse_events
        .iter()
        .map(|a| {
            format!(
                "{} ({}, {}): {}",
                format::date(a.date),
                a.session,
                format::words(&format::code(&a.severity)).to_lowercase(),
                a.description
            )
        })
        .collect();
    let (next, next_action) = actions::next_step(Role::Prescriber, &c.progress, &id);
    RxClient {
        name: name_of(c),
        href: chart_href(&id),
        anchor: format!("client-{id}"),
        phase: format::words(&format::code(&chart.phase)),
        explorations: explorations_text(c),
        prescription,
        next,
        next_action,
        doses,
        adverse,
        id,
    }
}
