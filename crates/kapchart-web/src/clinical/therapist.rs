//! The therapist's pages: today and this week (their own sessions, from
//! the schedule service, each with what it needs), and their clients
//! (from the list service).

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use kapchart_api::ClientSummary;
use kapchart_domain::{Role, SessionKind, SessionStatus};
use serde::Deserialize;

use super::actions::{self, Link};
use super::needs::{self, About, Flag};
use super::{
    chart_href, format, my_clients_in_order, name_of, only_for, param, policy, query_pairs, today,
};
use crate::WebState;
use crate::page::{Layout, PageError, done_notice, render};
use crate::session::SignedIn;

/// Days the week page shows.
const DAYS: i64 = 7;

/// A line of the schedule report (docs/reports.md): the columns the page
/// uses.
#[derive(Debug, Deserialize)]
struct ScheduleLine {
    /// The practice's local date the session is filed under.
    day: NaiveDate,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    client_id: String,
    session: String,
    kind: SessionKind,
    status: SessionStatus,
    double_booked: bool,
    conflicts: Option<String>,
}

/// A session as the week page shows it.
struct SessionView {
    time: String,
    client: String,
    /// The chart's link, when the client is the therapist's own.
    href: Option<String>,
    kind: String,
    status: String,
    /// Still to be held (what it needs is shown only then).
    scheduled: bool,
    double_booked: Option<String>,
    flags: Vec<Flag>,
    actions: Vec<Link>,
}

/// One day of the week page.
struct DayView {
    heading: String,
    id: String,
    today: bool,
    sessions: Vec<SessionView>,
}

#[derive(Template)]
#[template(path = "clinical/week.html")]
struct WeekPage {
    layout: Layout,
    range: String,
    time_zone: String,
    days: Vec<DayView>,
    previous: String,
    next: String,
    this_week: Option<String>,
    from_value: String,
}

/// `GET /therapist`: the therapist's sessions from today (or `?from=`)
/// for seven days, with what each needs.
pub(super) async fn week(
    State(state): State<WebState>,
    user: SignedIn,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    only_for(&user, Role::Therapist, "the therapist's pages")?;
    let pairs = query_pairs(query.as_deref())?;
    let tz = state.time_zone();
    let today = today(&state);
    let first = match param(&pairs, "from") {
        Some(text) => NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .ok()
            .filter(|d| kapchart_domain::input::check_date(*d).is_ok())
            .ok_or_else(|| PageError::bad("from: expected a day as YYYY-MM-DD"))?,
        None => today,
    };
    let last = first + Duration::days(DAYS - 1);
    let asked = state.schedule_days(first, last);
    // The therapist's own sessions and what their clients among them
    // need, as one read: one access-log entry per client shown.
    let (report, summaries) = state
        .app
        .read_my_schedule(&user.caller, &user.source, user.purpose, asked.0, asked.1)
        .await?;
    let mut lines: Vec<ScheduleLine> = report
        .rows
        .into_iter()
        .map(serde_json::from_value)
        .collect::<Result<_, _>>()
        .map_err(|e| PageError::internal("reading the schedule report", &e))?;
    lines.retain(|l| (first..=last).contains(&format::local_day(l.start, tz)));
    lines.sort_by(|a, b| {
        (a.start, &a.client_id, &a.session).cmp(&(b.start, &b.client_id, &b.session))
    });

    let summaries: BTreeMap<String, ClientSummary> = summaries
        .into_iter()
        .map(|c| (c.client_id.to_string(), c))
        .collect();
    let policy = policy(&state);

    let mut days: Vec<DayView> = (0..DAYS)
        .map(|i| {
            let d = first + Duration::days(i);
            DayView {
                heading: if d == today {
                    format!("Today, {}", format::day_heading(d))
                } else {
                    format::day_heading(d)
                },
                id: format!("day-{d}"),
                today: d == today,
                sessions: Vec::new(),
            }
        })
        .collect();
    for line in &lines {
        let index = (format::local_day(line.start, tz) - first).num_days();
        let Some(day) = usize::try_from(index).ok().and_then(|i| days.get_mut(i)) else {
            continue;
        };
        day.sessions.push(session_view(
            line,
            summaries.get(&line.client_id),
            &policy,
            today,
            tz,
        ));
    }

    let notice = done_notice(param(&pairs, "done"));
    render(&WeekPage {
        layout: Layout::new("Today and this week", &user, "/therapist").with_notice(notice),
        range: format!("{} to {}", format::date(first), format::date(last)),
        time_zone: tz.name().to_owned(),
        days,
        previous: format!("/therapist?from={}", first - Duration::days(DAYS)),
        next: format!("/therapist?from={}", first + Duration::days(DAYS)),
        this_week: (first != today).then(|| "/therapist".to_owned()),
        from_value: first.to_string(),
    })
}

fn session_view(
    line: &ScheduleLine,
    summary: Option<&ClientSummary>,
    policy: &kapchart_domain::Policy,
    today: NaiveDate,
    tz: chrono_tz::Tz,
) -> SessionView {
    let scheduled = line.status == SessionStatus::Scheduled;
    let mut flags = Vec::new();
    let mut session_actions = Vec::new();
    if let Some(summary) = summary.filter(|_| scheduled) {
        let c = &needs::Subject::of(summary);
        let day = line.day;
        let (kind_flags, skip): (Vec<Flag>, &[About]) = match line.kind {
            SessionKind::Exploration => (
                needs::exploration_flags(c, policy, &line.session, day),
                &[About::Integration, About::Prescription],
            ),
            SessionKind::Integration => (
                needs::integration_flags(c, policy, day),
                &[About::Integration],
            ),
            _ => (Vec::new(), &[]),
        };
        flags = kind_flags;
        flags.extend(
            needs::client_flags(c, policy, today)
                .into_iter()
                .filter(|f| !skip.contains(&f.about)),
        );
        let integrates = c.pending.as_ref().map(|p| p.exploration.as_str());
        session_actions = actions::session_actions(
            c.client,
            &line.session,
            line.kind,
            line.start,
            integrates,
            tz,
        );
    }
    SessionView {
        time: format::span(line.start, line.end, tz),
        client: summary.map_or_else(|| line.client_id.clone(), name_of),
        href: summary.map(|c| chart_href(c.client_id.as_str())),
        kind: format::words(&format::code(&line.kind)),
        status: format::words(&format::code(&line.status)),
        scheduled,
        double_booked: line.double_booked.then(|| {
            format!(
                "Double-booked with {}",
                line.conflicts.as_deref().unwrap_or("another session")
            )
        }),
        flags,
        actions: session_actions,
    }
}

/// A client as the list shows it.
struct ClientLine {
    name: String,
    id: String,
    href: String,
    phase: String,
    explorations: String,
    next: String,
    next_action: Option<Link>,
    upcoming: u32,
    flags: Vec<Flag>,
}

#[derive(Template)]
#[template(path = "clinical/clients.html")]
struct ClientsPage {
    layout: Layout,
    active: Vec<ClientLine>,
    closed: Vec<ClientLine>,
}

/// `GET /therapist/clients`: the therapist's clients.
pub(super) async fn clients(
    State(state): State<WebState>,
    user: SignedIn,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    only_for(&user, Role::Therapist, "the therapist's pages")?;
    let pairs = query_pairs(query.as_deref())?;
    let list = my_clients_in_order(&state, &user).await?;
    let policy = policy(&state);
    let today = today(&state);
    let (mut active, mut closed) = (Vec::new(), Vec::new());
    for c in &list {
        let line = client_line(Role::Therapist, c, &policy, today);
        if matches!(
            c.chart.phase,
            kapchart_domain::Phase::Discharged | kapchart_domain::Phase::NotSuitable
        ) {
            closed.push(line);
        } else {
            active.push(line);
        }
    }
    render(&ClientsPage {
        layout: Layout::new("My clients", &user, "/therapist/clients")
            .with_notice(done_notice(param(&pairs, "done"))),
        active,
        closed,
    })
}

/// Explorations done of the plan: dosed under the current prescription of
/// those it authorizes (and all dosed, when earlier prescriptions had
/// some).
pub(super) fn explorations_text(c: &ClientSummary) -> String {
    let p = &c.progress;
    match (p.explorations_used, p.explorations_authorized) {
        (Some(used), Some(authorized)) => {
            let mut text = format!("{used} of {authorized}");
            if p.explorations_dosed != u32::from(used) {
                text.push_str(&format!(" ({} in all)", p.explorations_dosed));
            }
            text
        }
        _ if p.explorations_dosed > 0 => {
            format!("{} (no current prescription)", p.explorations_dosed)
        }
        _ => "None yet".to_owned(),
    }
}

fn client_line(
    role: Role,
    c: &ClientSummary,
    policy: &kapchart_domain::Policy,
    today: NaiveDate,
) -> ClientLine {
    let id = c.client_id.to_string();
    let (next, next_action) = actions::next_step(role, &c.progress, &id);
    ClientLine {
        name: name_of(c),
        href: chart_href(&id),
        phase: format::words(&format::code(&c.chart.phase)),
        explorations: explorations_text(c),
        next,
        next_action,
        upcoming: c.progress.upcoming_sessions,
        flags: needs::client_flags(&needs::Subject::of(c), policy, today),
        id,
    }
}
