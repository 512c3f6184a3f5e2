//! `GET /clients/{id}`: the client chart, read through the chart service
//! (which checks the reader and logs the read), as it stands or, with
//! `?as_of=` (a date and time in the practice's time zone), as it stood
//! then.

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use kapchart_domain::{ClientId, Role};
use kapchart_views::{ChartRow, EntryRow, kinds};

use super::actions::{self, Link};
use super::chart_view::{self, ChartView, Viewer};
use super::format::{self, LocalTimeError};
use super::needs::{self, Flag, Subject};
use super::{param, policy, query_pairs, today};
use crate::WebState;
use crate::page::{Layout, PageError, done_notice, render};
use crate::session::SignedIn;

#[derive(Template)]
#[template(path = "clinical/chart.html")]
struct ChartPage {
    layout: Layout,
    client_id: String,
    href: String,
    time_zone: String,
    /// The moment shown, in words, for a past chart.
    as_of: Option<String>,
    /// What the `as_of` input holds.
    as_of_value: String,
    /// Nothing had been recorded by the moment asked for.
    empty: bool,
    chart: Option<ChartView>,
    needs: Vec<Flag>,
    forms: Vec<Link>,
}

/// `GET /clients/{id}`.
pub(super) async fn page(
    State(state): State<WebState>,
    user: SignedIn,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    let client = ClientId::parse(&id).map_err(|e| PageError::bad(format!("client: {e}")))?;
    let pairs = query_pairs(query.as_deref())?;
    let tz = state.time_zone();
    let as_of = match param(&pairs, "as_of") {
        Some(text) => Some(format::parse_local(text, tz).map_err(|e| {
            PageError::bad(match e {
                LocalTimeError::Unreadable => {
                    "as_of: expected a date and time like 2026-01-05T14:30".to_owned()
                }
                LocalTimeError::Skipped => format!(
                    "as_of: that time did not happen in {} (the clocks went forward)",
                    tz.name()
                ),
            })
        })?),
        None => None,
    };
    let reply = state
        .app
        .read_chart(&user.caller, &user.source, &client, user.purpose, as_of)
        .await?;

    let mut chart: Option<ChartRow> = None;
    let mut entries: Vec<(EntryRow, Option<chrono::NaiveDate>)> = Vec::new();
    for row in reply.rows {
        let unreadable = |e: serde_json::Error| PageError::internal("reading a chart row", &e);
        match row.kind.as_str() {
            kinds::CHART => chart = Some(serde_json::from_value(row.data).map_err(unreadable)?),
            kinds::ENTRY => {
                let day = row.day.as_deref().and_then(|d| d.parse().ok());
                entries.push((serde_json::from_value(row.data).map_err(unreadable)?, day));
            }
            _ => {}
        }
    }
    entries.sort_by_key(|(e, _)| e.sequence);

    let policy = policy(&state);
    let role = user.caller.role;
    let current = as_of.is_none();
    let viewer = Viewer {
        role,
        current,
        tz,
        threshold: policy.bp_threshold,
    };
    let (mut needs, mut forms) = (Vec::new(), Vec::new());
    if let Some(c) = chart.as_ref().filter(|_| current) {
        let subject = Subject {
            client: client.as_str(),
            chart: c,
            pending: chart_view::pending_integration(&entries, policy.integration_window_days),
        };
        let today = today(&state);
        needs = match role {
            Role::Therapist => {
                let mut flags = needs::client_flags(&subject, &policy, today);
                for s in c.sessions.iter().filter(|s| {
                    s.status == kapchart_domain::SessionStatus::Scheduled
                        && s.kind == kapchart_domain::SessionKind::Exploration
                }) {
                    for mut f in needs::exploration_flags(&subject, &policy, &s.session, s.date) {
                        f.text = format!(
                            "{} on {}: {}",
                            s.session,
                            format::date(format::local_day(s.start, tz)),
                            f.text
                        );
                        flags.push(f);
                    }
                }
                flags
            }
            Role::Prescriber => needs::prescriber_decisions(&subject, &policy, today),
            _ => Vec::new(),
        };
        forms = actions::phase_forms(role, c.phase, client.as_str());
    }
    let view = chart
        .as_ref()
        .map(|c| chart_view::build(client.as_str(), c, &entries, &viewer));
    let title = match &view {
        Some(v) => format!("{} — chart", v.name),
        None => format!("{client} — chart"),
    };
    let layout = Layout::new(title, &user, "").with_notice(if current {
        done_notice(param(&pairs, "done"))
    } else {
        None
    });
    render(&ChartPage {
        layout,
        href: format!("/clients/{client}"),
        client_id: client.to_string(),
        time_zone: tz.name().to_owned(),
        as_of: as_of.map(|t| format::date_time(t, tz)),
        as_of_value: as_of
            .map(|t| format::input_value(t, tz))
            .unwrap_or_default(),
        empty: chart.is_none(),
        chart: view,
        needs,
        forms,
    })
}
