//! The controlled-substances and protocol-adherence reports
//! (docs/reports.md) for a period, as pages (`/audit/reports/{name}`,
//! each client shown logged as a `query`) and as CSV
//! (`/audit/reports/{name}.csv`, each logged as an `export`), from
//! `read_report_as`.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use chrono::NaiveDate;
use kapchart_api::{ReadAction, ReportReply};
use serde::Deserialize;
use serde_json::Value;

use super::{CSV, day_value, download, history_href, period_words, query_day, query_string};
use crate::WebState;
use crate::clinical::format;
use crate::page::{Layout, PageError, render};
use crate::session::SignedIn;

/// A report these pages show.
#[derive(Debug, Clone, Copy)]
struct Report {
    /// Its name in the API and `kapchart report`.
    name: &'static str,
    /// The page's title.
    title: &'static str,
    /// What it is, for the page.
    about: &'static str,
    /// When it has no lines.
    empty: &'static str,
}

const CONTROLLED_SUBSTANCES: Report = Report {
    name: "controlled-substances",
    title: "Controlled substances",
    about: "Every ketamine administration, in the practice and at affiliates: the DEA Schedule III administration record, by date, time given, client and entry.",
    empty: "No dose was given in this period.",
};

const PROTOCOL: Report = Report {
    name: "protocol",
    title: "Protocol adherence",
    about: "Every override recorded on an entry's decision, and every late integration, short spacing, exploration beyond the protocol maximum or beyond authorization the record's dates and counts show, by day, client and entry.",
    empty: "No finding in this period.",
};

/// `?from=&to=`: the period, either end open.
#[derive(Debug, Default, Deserialize)]
pub(super) struct PeriodParams {
    from: Option<String>,
    to: Option<String>,
}

/// A cell as the page shows it.
#[derive(Debug)]
struct Cell {
    text: String,
    /// A link (a client's history), or empty.
    href: String,
    num: bool,
}

#[derive(Template)]
#[template(path = "audit/report.html")]
struct ReportPage {
    layout: Layout,
    action: String,
    about: &'static str,
    empty: &'static str,
    time_zone: String,
    period: String,
    from: String,
    to: String,
    headings: Vec<String>,
    rows: Vec<Vec<Cell>>,
    csv_href: String,
}

/// `GET /audit/reports/controlled-substances`.
pub(super) async fn controlled_substances(
    state: State<WebState>,
    user: SignedIn,
    q: Query<PeriodParams>,
) -> Result<Response, PageError> {
    page(CONTROLLED_SUBSTANCES, state, user, q).await
}

/// `GET /audit/reports/controlled-substances.csv`.
pub(super) async fn controlled_substances_csv(
    state: State<WebState>,
    user: SignedIn,
    q: Query<PeriodParams>,
) -> Result<Response, PageError> {
    csv(CONTROLLED_SUBSTANCES, state, user, q).await
}

/// `GET /audit/reports/protocol`.
pub(super) async fn protocol(
    state: State<WebState>,
    user: SignedIn,
    q: Query<PeriodParams>,
) -> Result<Response, PageError> {
    page(PROTOCOL, state, user, q).await
}

/// `GET /audit/reports/protocol.csv`.
pub(super) async fn protocol_csv(
    state: State<WebState>,
    user: SignedIn,
    q: Query<PeriodParams>,
) -> Result<Response, PageError> {
    csv(PROTOCOL, state, user, q).await
}

fn period_of(q: &PeriodParams) -> Result<(Option<NaiveDate>, Option<NaiveDate>), PageError> {
    Ok((
        query_day("from", q.from.as_deref())?,
        query_day("to", q.to.as_deref())?,
    ))
}

async fn read(
    report: Report,
    state: &WebState,
    user: &SignedIn,
    period: (Option<NaiveDate>, Option<NaiveDate>),
    action: ReadAction,
) -> Result<ReportReply, PageError> {
    Ok(state
        .app
        .read_report_as(
            &user.caller,
            &user.source,
            report.name,
            user.purpose,
            period,
            None,
            action,
        )
        .await?)
}

async fn page(
    report: Report,
    State(state): State<WebState>,
    user: SignedIn,
    Query(q): Query<PeriodParams>,
) -> Result<Response, PageError> {
    let (from, to) = period_of(&q)?;
    let reply = read(report, &state, &user, (from, to), ReadAction::Query).await?;
    let tz = state.time_zone();
    let rows = reply
        .rows
        .iter()
        .map(|row| {
            let client = row.get("client_id").and_then(Value::as_str);
            reply
                .columns
                .iter()
                .map(|c| cell(c, row.get(c).unwrap_or(&Value::Null), client, tz))
                .collect()
        })
        .collect();
    let path = format!("/audit/reports/{}", report.name);
    let period = [("from", day_value(from)), ("to", day_value(to))];
    render(&ReportPage {
        layout: Layout::new(report.title, &user, &path),
        csv_href: format!("{path}.csv{}", query_string(&period)),
        action: path,
        about: report.about,
        empty: report.empty,
        time_zone: tz.name().to_owned(),
        period: period_words(from, to),
        from: day_value(from),
        to: day_value(to),
        headings: reply.columns.iter().map(|c| heading(c)).collect(),
        rows,
    })
}

/// A column's heading in words.
fn heading(column: &str) -> String {
    match column {
        "client_id" => "Client".to_owned(),
        "dose_mg" => "Dose (mg)".to_owned(),
        "given_at" => "Given at".to_owned(),
        "recorded_at" => "Recorded at".to_owned(),
        "event_type" => "Entry".to_owned(),
        other => format::words(other),
    }
}

/// A cell: client ids link to their history, an entry's sequence to the
/// entry in it.
fn cell(column: &str, value: &Value, client: Option<&str>, tz: chrono_tz::Tz) -> Cell {
    let text = match (column, value) {
        (_, Value::Null) => String::new(),
        ("event_type", Value::String(t)) => format::event_words(t),
        (_, v) => format::value_text(column, v, tz),
    };
    Cell {
        href: match (column, value, client) {
            ("client_id", Value::String(c), _) => history_href(c),
            ("sequence", Value::Number(n), Some(c)) => format!("{}#entry-{n}", history_href(c)),
            _ => String::new(),
        },
        num: value.is_number(),
        text,
    }
}

async fn csv(
    report: Report,
    State(state): State<WebState>,
    user: SignedIn,
    Query(q): Query<PeriodParams>,
) -> Result<Response, PageError> {
    static NULL: Value = Value::Null;
    let (from, to) = period_of(&q)?;
    let reply = read(report, &state, &user, (from, to), ReadAction::Export).await?;
    let columns: Vec<&str> = reply.columns.iter().map(String::as_str).collect();
    let rows = reply
        .rows
        .iter()
        .map(|row| columns.iter().map(move |c| row.get(*c).unwrap_or(&NULL)));
    let mut body = Vec::new();
    kapchart_views::spreadsheet::write_csv(&mut body, &columns, rows)
        .map_err(|e| PageError::internal("writing a report as CSV", &e))?;
    let end = |d: Option<NaiveDate>| d.map_or_else(|| "all".to_owned(), |d| day_value(Some(d)));
    Ok(download(
        CSV,
        &format!("{}-{}-{}.csv", report.name, end(from), end(to)),
        body,
    ))
}
