//! The access log report (`/audit/access`, and `/audit/access.csv`): the
//! entries of a period (days in the practice's time zone), filtered by
//! client and by user, sorted by any ASTM E2147-18 field the log holds:
//! plain GET forms and links.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use chrono::{Days, NaiveDate, SecondsFormat};
use chrono_tz::Tz;
use kapchart_domain::{ClientId, UserId};
use kapchart_store::access::{AccessQuery, AccessRecord, AccessSort};
use kapchart_views::Table;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    CSV, client_of, day_value, download, history_href, period_words, query_day, query_string,
};
use crate::WebState;
use crate::clinical::format;
use crate::page::{Layout, PageError, render};
use crate::session::SignedIn;

/// The CSV's columns: those of `kapchart report access` (docs/reports.md).
const COLUMNS: [&str; 9] = [
    "sequence",
    "at",
    "client_id",
    "user_id",
    "role",
    "action",
    "categories",
    "source",
    "purpose",
];

/// `?from=&to=&client=&user=&sort=`, as typed.
#[derive(Debug, Default, Deserialize)]
pub(super) struct AccessParams {
    from: Option<String>,
    to: Option<String>,
    client: Option<String>,
    user: Option<String>,
    sort: Option<String>,
}

/// The report's choices, checked.
#[derive(Debug, Clone)]
struct Choice {
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    client: Option<ClientId>,
    user: Option<UserId>,
    sort: AccessSort,
}

impl Choice {
    /// Reads the query; a wrong field is a 400 naming it. With neither
    /// end of the period given, the last seven days to `today`.
    fn of(p: &AccessParams, today: NaiveDate) -> Result<Self, PageError> {
        let (from, to) = if p.from.is_none() && p.to.is_none() {
            (today.checked_sub_days(Days::new(6)), Some(today))
        } else {
            (
                query_day("from", p.from.as_deref())?,
                query_day("to", p.to.as_deref())?,
            )
        };
        let filled = |t: &Option<String>| {
            t.as_deref()
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
        };
        let client = filled(&p.client)
            .map(|c| client_of("client", &c))
            .transpose()?;
        let user = filled(&p.user)
            .map(|u| UserId::parse(&u).map_err(|e| PageError::bad(format!("user: {e}"))))
            .transpose()?;
        let sort = match filled(&p.sort) {
            None => AccessSort::Time,
            Some(s) => s
                .parse()
                .map_err(|e: kapchart_domain::ParseError| PageError::bad(format!("sort: {e}")))?,
        };
        Ok(Choice {
            from,
            to,
            client,
            user,
            sort,
        })
    }

    /// The query string of these choices, sorted by `sort`.
    fn href(&self, path: &str, sort: AccessSort) -> String {
        format!(
            "{path}{}",
            query_string(&[
                ("from", day_value(self.from)),
                ("to", day_value(self.to)),
                (
                    "client",
                    self.client
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_default()
                ),
                (
                    "user",
                    self.user
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_default()
                ),
                ("sort", sort.as_str().to_owned()),
            ])
        )
    }
}

/// The entries chosen (the period's days are the practice's local days).
async fn entries(
    state: &WebState,
    user: &SignedIn,
    choice: &Choice,
) -> Result<Vec<AccessRecord>, PageError> {
    // The role first: another role gets its 403 whatever it asked.
    user.caller.must_be_auditor()?;
    if let (Some(f), Some(t)) = (choice.from, choice.to)
        && f > t
    {
        return Err(PageError::bad(format!(
            "from: {f} is after to: {t}; the period's first day comes first"
        )));
    }
    let query = AccessQuery {
        client: choice.client.clone(),
        user: choice.user.clone(),
        from: choice.from,
        to: choice.to,
        sort: choice.sort,
    };
    Ok(state.app.read_access_log(&user.caller, &query).await?)
}

/// A column the page sorts by.
#[derive(Debug)]
struct Column {
    label: &'static str,
    href: String,
    /// `ascending` on the column the rows are sorted by.
    sorted: bool,
}

/// An entry as the page shows it.
#[derive(Debug)]
struct Line {
    sequence: u64,
    at: String,
    /// The client's id and history page; empty for entries without one.
    client_id: String,
    client_href: String,
    user_id: String,
    role: &'static str,
    action: &'static str,
    categories: String,
    source: String,
    purpose: String,
}

#[derive(Template)]
#[template(path = "audit/access.html")]
struct AccessPage {
    layout: Layout,
    time_zone: String,
    period: String,
    from: String,
    to: String,
    client: String,
    user: String,
    sorts: Vec<SortOption>,
    columns: Vec<Column>,
    lines: Vec<Line>,
    csv_href: String,
}

/// An option of the sort menu.
#[derive(Debug)]
struct SortOption {
    value: &'static str,
    label: &'static str,
    selected: bool,
}

/// Each sort order with the field it sorts by, as the page names it.
const SORTS: [(AccessSort, &str); 8] = [
    (AccessSort::Time, "Date and time (7.1.1)"),
    (AccessSort::Client, "Client (7.1.2)"),
    (AccessSort::Source, "Where from (7.1.6)"),
    (AccessSort::User, "User (7.1.7)"),
    (AccessSort::Role, "Role"),
    (AccessSort::Action, "Action (7.1.8)"),
    (AccessSort::Category, "Type of data (7.1.9)"),
    (AccessSort::Purpose, "Purpose"),
];

/// `GET /audit/access`.
pub(super) async fn page(
    State(state): State<WebState>,
    user: SignedIn,
    Query(params): Query<AccessParams>,
) -> Result<Response, PageError> {
    let tz = state.time_zone();
    let choice = Choice::of(&params, format::local_day(state.app.now(), tz))?;
    let records = entries(&state, &user, &choice).await?;
    let columns = [
        ("Entry", AccessSort::Time),
        ("Date and time", AccessSort::Time),
        ("Client", AccessSort::Client),
        ("User", AccessSort::User),
        ("Role", AccessSort::Role),
        ("Action", AccessSort::Action),
        ("Type of data", AccessSort::Category),
        ("Where from", AccessSort::Source),
        ("Purpose", AccessSort::Purpose),
    ]
    .into_iter()
    .enumerate()
    .map(|(i, (label, sort))| Column {
        label,
        href: choice.href("/audit/access", sort),
        // "Entry" and "Date and time" share the time order: mark one.
        sorted: sort == choice.sort && i != 0,
    })
    .collect();
    let lines = records.iter().map(|r| line(r, tz)).collect();
    render(&AccessPage {
        layout: Layout::new("Access log", &user, "/audit/access"),
        time_zone: tz.name().to_owned(),
        period: period_words(choice.from, choice.to),
        from: day_value(choice.from),
        to: day_value(choice.to),
        client: choice
            .client
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        user: choice
            .user
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        sorts: SORTS
            .iter()
            .map(|(s, label)| SortOption {
                value: s.as_str(),
                label,
                selected: *s == choice.sort,
            })
            .collect(),
        columns,
        lines,
        csv_href: choice.href("/audit/access.csv", choice.sort),
    })
}

fn line(r: &AccessRecord, tz: Tz) -> Line {
    let e = &r.entry;
    Line {
        sequence: r.sequence,
        at: e
            .at
            .with_timezone(&tz)
            .format("%-d %b %Y, %H:%M:%S")
            .to_string(),
        client_id: e
            .client_id
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        client_href: e
            .client_id
            .as_ref()
            .map(|c| history_href(c.as_str()))
            .unwrap_or_default(),
        user_id: e.actor.user_id.to_string(),
        role: e.actor.role.as_str(),
        action: e.action.as_str(),
        categories: e
            .categories
            .iter()
            .map(|c| c.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        source: e.source.clone(),
        purpose: e.purpose.clone(),
    }
}

/// `GET /audit/access.csv`: the same entries as CSV, with the columns of
/// `kapchart report access` (`at` in UTC, RFC 3339 with microseconds).
pub(super) async fn csv(
    State(state): State<WebState>,
    user: SignedIn,
    Query(params): Query<AccessParams>,
) -> Result<Response, PageError> {
    let tz = state.time_zone();
    let choice = Choice::of(&params, format::local_day(state.app.now(), tz))?;
    let records = entries(&state, &user, &choice).await?;
    let rows: Vec<Vec<Value>> = records
        .into_iter()
        .map(|r| {
            let e = r.entry;
            let categories: Vec<&str> = e.categories.iter().map(|c| c.as_str()).collect();
            vec![
                json!(r.sequence),
                json!(e.at.to_rfc3339_opts(SecondsFormat::Micros, true)),
                json!(e.client_id),
                json!(e.actor.user_id),
                json!(e.actor.role.as_str()),
                json!(e.action.as_str()),
                json!(categories.join(";")),
                json!(e.source),
                json!(e.purpose),
            ]
        })
        .collect();
    let table = Table {
        columns: COLUMNS.to_vec(),
        rows,
    };
    let mut body = Vec::new();
    table
        .write_csv(&mut body)
        .map_err(|e| PageError::internal("writing the access log as CSV", &e))?;
    let end = |d: Option<NaiveDate>| d.map_or_else(|| "all".to_owned(), |d| day_value(Some(d)));
    Ok(download(
        CSV,
        &format!("access-log-{}-{}.csv", end(choice.from), end(choice.to)),
        body,
    ))
}
