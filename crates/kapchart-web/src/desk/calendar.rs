//! The calendar: every therapist's sessions of a day (`/desk?day=`) or a
//! week (`/desk?week=`), double-bookings flagged in words, and the booking
//! form, whose `GET /desk/book` sends the front desk to the schedule form
//! of the session's kind, filled in.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use kapchart_domain::{ClientId, Role};
use serde::Deserialize;

use super::format::{clock, local_day, long_day, query_date, today, words};
use super::{Staff, staff_of};
use crate::WebState;
use crate::page::{self, Layout, PageError, render};
use crate::session::SignedIn;

/// The kinds of session the front desk books, with the path segment of
/// their schedule form.
const BOOKABLE: &[(&str, &str, &str)] = &[
    // (kind, label, form)
    ("preparation", "Preparation", "schedule-preparation"),
    ("exploration", "Exploration", "schedule-exploration"),
    ("integration", "Integration", "schedule-integration"),
];

/// `?day=&week=&therapist=&client=`: which day or week; the booking
/// form's therapist and client, filled in.
#[derive(Debug, Default, Deserialize)]
pub(super) struct CalendarQuery {
    day: Option<String>,
    week: Option<String>,
    therapist: Option<String>,
    client: Option<String>,
}

/// A line of the schedule report (docs/reports.md).
#[derive(Debug, Deserialize)]
struct ScheduleLine {
    therapist: String,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    client_id: String,
    session: String,
    kind: String,
    status: String,
    double_booked: bool,
    conflicts: Option<String>,
}

/// A session as the calendar shows it.
#[derive(Debug)]
struct SessionLine {
    day: String,
    time: String,
    client_id: String,
    billing_href: String,
    session: String,
    kind: String,
    status: String,
    /// In words: what it overlaps.
    double_booking: Option<String>,
}

/// One therapist's column.
#[derive(Debug)]
struct TherapistColumn {
    name: String,
    heading_id: String,
    book_href: String,
    sessions: Vec<SessionLine>,
}

/// An option of a select.
#[derive(Debug)]
struct Choice {
    value: String,
    label: String,
    selected: bool,
}

/// The booking form: its values and the error of each field.
#[derive(Debug, Default)]
struct BookForm {
    client: String,
    kinds: Vec<Choice>,
    therapists: Vec<Choice>,
    day: String,
    time: String,
    client_error: Option<String>,
    kind_error: Option<String>,
    therapist_error: Option<String>,
    day_error: Option<String>,
    time_error: Option<String>,
}

impl BookForm {
    fn new(therapists: &[&Staff], therapist: &str, kind: &str, client: &str, day: &str) -> Self {
        BookForm {
            client: client.to_owned(),
            kinds: BOOKABLE
                .iter()
                .map(|(k, label, _)| Choice {
                    value: (*k).to_owned(),
                    label: (*label).to_owned(),
                    selected: *k == kind,
                })
                .collect(),
            therapists: therapists
                .iter()
                .map(|t| Choice {
                    value: t.id.clone(),
                    label: t.name.clone(),
                    selected: t.id == therapist,
                })
                .collect(),
            day: day.to_owned(),
            ..BookForm::default()
        }
    }

    fn has_errors(&self) -> bool {
        self.client_error.is_some()
            || self.kind_error.is_some()
            || self.therapist_error.is_some()
            || self.day_error.is_some()
            || self.time_error.is_some()
    }
}

#[derive(Template)]
#[template(path = "desk/calendar.html")]
struct CalendarPage {
    layout: Layout,
    /// True for a week, false for a day.
    week: bool,
    /// What the page shows, in words: `Monday 5 January 2026`.
    span: String,
    previous_href: String,
    previous_label: String,
    next_href: String,
    next_label: String,
    today_href: String,
    other_view_href: String,
    other_view_label: String,
    picker_value: String,
    columns: Vec<TherapistColumn>,
    double_bookings: usize,
    may_book: bool,
    book: BookForm,
    time_zone: String,
}

#[derive(Template)]
#[template(path = "desk/book.html")]
struct BookPage {
    layout: Layout,
    book: BookForm,
}

/// The days a request asks for: one day, or the Monday-to-Sunday week of
/// a day.
fn days_asked(
    q: &CalendarQuery,
    today: NaiveDate,
) -> Result<(bool, NaiveDate, NaiveDate), PageError> {
    if let Some(week) = query_date("week", q.week.as_deref()).map_err(PageError::bad)? {
        let monday = week - Duration::days(i64::from(week.weekday().num_days_from_monday()));
        return Ok((true, monday, monday + Duration::days(6)));
    }
    let day = query_date("day", q.day.as_deref())
        .map_err(PageError::bad)?
        .unwrap_or(today);
    Ok((false, day, day))
}

/// `GET /desk`: the calendar.
pub(super) async fn calendar(
    State(state): State<WebState>,
    user: SignedIn,
    Query(q): Query<CalendarQuery>,
) -> Result<Response, PageError> {
    let tz = state.time_zone();
    let today = today(state.app.now(), tz);
    let (week, first, last) = days_asked(&q, today)?;
    let days = state.schedule_days(first, last);
    let reply = state
        .app
        .read_schedule(&user.caller, &user.source, user.purpose, days.0, days.1)
        .await?;
    let mut lines = reply
        .rows
        .into_iter()
        .map(serde_json::from_value::<ScheduleLine>)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| PageError::internal("reading the schedule report", &e))?;
    lines.retain(|l| (first..=last).contains(&local_day(l.start, tz)));

    let staff = staff_of(&state).await?;
    let mut therapists: Vec<&Staff> = staff
        .iter()
        .filter(|s| s.role == Role::Therapist)
        .filter(|s| s.active || lines.iter().any(|l| l.therapist == s.id))
        .collect();
    if user.caller.role == Role::Therapist {
        therapists.retain(|s| s.id == user.caller.user_id.as_str());
    }
    therapists.sort_by(|a, b| a.name.cmp(&b.name));
    // A therapist of a session with no account here still gets a column.
    let orphans: Vec<Staff> = {
        let mut ids: Vec<&str> = lines
            .iter()
            .map(|l| l.therapist.as_str())
            .filter(|id| !therapists.iter().any(|t| t.id == *id))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids.into_iter()
            .map(|id| Staff {
                id: id.to_owned(),
                role: Role::Therapist,
                name: id.to_owned(),
                active: false,
            })
            .collect()
    };
    therapists.extend(orphans.iter());

    let day_param = first.format("%Y-%m-%d").to_string();
    let columns: Vec<TherapistColumn> = therapists
        .iter()
        .enumerate()
        .map(|(n, t)| TherapistColumn {
            name: t.name.clone(),
            heading_id: format!("therapist-{n}"),
            book_href: format!(
                "/desk?{}#book",
                serde_urlencoded::to_string([("day", day_param.as_str()), ("therapist", &t.id)])
                    .unwrap_or_default()
            ),
            sessions: lines
                .iter()
                .filter(|l| l.therapist == t.id)
                .map(|l| session_line(l, tz))
                .collect(),
        })
        .collect();
    let double_bookings = lines.iter().filter(|l| l.double_booked).count();

    let (step, unit) = if week { (7, "week") } else { (1, "day") };
    let key = if week { "week" } else { "day" };
    let href = |d: NaiveDate| format!("/desk?{key}={}", d.format("%Y-%m-%d"));
    let span = if week {
        format!("the week of {} to {}", long_day(first), long_day(last))
    } else {
        long_day(first)
    };
    let title = format!("Calendar for {span}");
    let may_book = matches!(user.caller.role, Role::FrontDesk | Role::Therapist);
    let active: Vec<&Staff> = therapists.iter().copied().filter(|t| t.active).collect();
    let book = BookForm::new(
        &active,
        q.therapist.as_deref().unwrap_or(""),
        "preparation",
        q.client.as_deref().unwrap_or(""),
        &day_param,
    );
    let page = CalendarPage {
        layout: Layout::new(title, &user, "/desk"),
        week,
        span,
        previous_href: href(first - Duration::days(step)),
        previous_label: format!("Previous {unit}"),
        next_href: href(first + Duration::days(step)),
        next_label: format!("Next {unit}"),
        today_href: href(today),
        other_view_href: if week {
            format!("/desk?day={day_param}")
        } else {
            format!("/desk?week={day_param}")
        },
        other_view_label: if week {
            format!("Show {} alone", long_day(first))
        } else {
            "Show the whole week".to_owned()
        },
        picker_value: day_param,
        columns,
        double_bookings,
        may_book,
        book,
        time_zone: tz.name().to_owned(),
    };
    render(&page)
}

fn session_line(l: &ScheduleLine, tz: Tz) -> SessionLine {
    let double_booking = l.double_booked.then(|| {
        let with: Vec<String> = l
            .conflicts
            .as_deref()
            .unwrap_or("")
            .split(';')
            .filter(|c| !c.is_empty())
            .map(|c| match c.split_once('/') {
                Some((client, session)) => format!("{client}'s session {session}"),
                None => c.to_owned(),
            })
            .collect();
        if with.is_empty() {
            "Double-booked: overlaps another session".to_owned()
        } else {
            format!("Double-booked: overlaps {}", with.join(", "))
        }
    });
    SessionLine {
        day: long_day(local_day(l.start, tz)),
        time: format!("{}–{}", clock(l.start, tz), clock(l.end, tz)),
        billing_href: format!("/clients/{}/billing", l.client_id),
        client_id: l.client_id.clone(),
        session: l.session.clone(),
        kind: words(&l.kind),
        status: match l.status.as_str() {
            "scheduled" => "Booked".to_owned(),
            other => words(other),
        },
        double_booking,
    }
}

/// `?client=&kind=&therapist=&day=&time=`: the booking form as sent.
#[derive(Debug, Default, Deserialize)]
pub(super) struct BookQuery {
    client: Option<String>,
    kind: Option<String>,
    therapist: Option<String>,
    day: Option<String>,
    time: Option<String>,
}

/// `GET /desk/book`: checks the booking form and sends the browser on to
/// the schedule form of the session's kind, filled in
/// (`/act/schedule-exploration?client=&therapist=&day=&time=&return_to=`);
/// with a field wrong, the form again with what was typed and the error
/// beside the field (400). Reads nothing of any client.
pub(super) async fn book(
    State(state): State<WebState>,
    user: SignedIn,
    Query(q): Query<BookQuery>,
) -> Result<Response, PageError> {
    let staff = staff_of(&state).await?;
    let therapists: Vec<&Staff> = staff
        .iter()
        .filter(|s| s.role == Role::Therapist && s.active)
        .collect();
    let field = |v: &Option<String>| v.as_deref().map(str::trim).unwrap_or("").to_owned();
    let (client, kind, therapist, day, time) = (
        field(&q.client),
        field(&q.kind),
        field(&q.therapist),
        field(&q.day),
        field(&q.time),
    );
    let mut form = BookForm::new(&therapists, &therapist, &kind, &client, &day);
    form.time.clone_from(&time);
    let layout = Layout::new("Book a session", &user, "/desk");
    let nothing_sent = [&q.client, &q.kind, &q.therapist, &q.day, &q.time]
        .iter()
        .all(|v| v.is_none());
    if nothing_sent {
        return render(&BookPage { layout, book: form });
    }

    if let Err(e) = ClientId::parse(&client) {
        form.client_error = Some(format!("Client id: {e}"));
    }
    let segment = BOOKABLE.iter().find(|(k, _, _)| *k == kind).map(|b| b.2);
    if segment.is_none() {
        form.kind_error =
            Some("Session kind: choose preparation, exploration or integration".into());
    }
    if !therapists.iter().any(|t| t.id == therapist) {
        form.therapist_error = Some("Therapist: choose one of the practice's therapists".into());
    }
    let parsed_day = NaiveDate::parse_from_str(&day, "%Y-%m-%d");
    if parsed_day.is_err() {
        form.day_error = Some("Date: expected a date as YYYY-MM-DD".into());
    }
    if NaiveTime::parse_from_str(&time, "%H:%M").is_err() {
        form.time_error = Some("Time: expected a time as HH:MM (24-hour)".into());
    }
    let (Some(segment), Ok(parsed_day), false) = (segment, parsed_day, form.has_errors()) else {
        let page = render(&BookPage { layout, book: form })?;
        return Ok((StatusCode::BAD_REQUEST, page).into_response());
    };
    let return_to = format!("/desk?day={}", parsed_day.format("%Y-%m-%d"));
    let rest = serde_urlencoded::to_string([
        ("therapist", therapist.as_str()),
        ("day", day.as_str()),
        ("time", time.as_str()),
        ("return_to", return_to.as_str()),
    ])
    .map_err(|e| PageError::internal("writing a form's address", &e))?;
    Ok(Redirect::to(&format!("{}&{rest}", page::form_path(segment, &client))).into_response())
}

/// `GET /desk/register`: the navigation's "Register a client", which is
/// the register-client form.
pub(super) async fn register(_user: SignedIn) -> Redirect {
    Redirect::to("/act/register-client")
}
