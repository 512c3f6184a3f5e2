//! The superbill of a client for a period: a page made to be printed
//! (`/clients/{id}/superbill`, logged as `print`) and the same as CSV
//! (`/clients/{id}/superbill.csv`, logged as `export`), both from
//! `read_superbill`.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use kapchart_api::{ReadAction, ReportReply};
use kapchart_domain::ClientId;
use serde::Deserialize;
use serde_json::Value;

use super::format::{long_day, money, query_date, words};
use super::{client_of_path, staff_name, staff_of};
use crate::WebState;
use crate::page::{Layout, PageError, no_store, render};
use crate::session::SignedIn;

/// `?from=&to=`: the period, either end open.
#[derive(Debug, Default, Deserialize)]
pub(super) struct PeriodQuery {
    from: Option<String>,
    to: Option<String>,
}

impl PeriodQuery {
    fn dates(&self) -> Result<(Option<NaiveDate>, Option<NaiveDate>), PageError> {
        let from = query_date("from", self.from.as_deref()).map_err(PageError::bad)?;
        let to = query_date("to", self.to.as_deref()).map_err(PageError::bad)?;
        Ok((from, to))
    }
}

/// A line of the superbill report (docs/reports.md).
#[derive(Debug, Deserialize)]
struct SuperbillLine {
    client_name: Option<String>,
    date_of_birth: Option<String>,
    diagnosis_codes: Option<String>,
    line: String,
    date: Option<String>,
    place_of_service: Option<String>,
    cpt_code: Option<String>,
    units: Option<u32>,
    service: Option<String>,
    rendering_provider: Option<String>,
    rendering_provider_name: Option<String>,
    rendering_provider_credentials: Option<String>,
    rendering_provider_npi: Option<String>,
    insurance_billable: Option<bool>,
    fee_cents: Option<i64>,
    paid_cents: Option<i64>,
    reference: Option<String>,
}

#[derive(Debug)]
struct ServiceLine {
    date: String,
    place_of_service: String,
    cpt_code: String,
    units: String,
    service: String,
    provider: String,
    insurance: &'static str,
    fee: String,
    paid: String,
    reference: String,
}

#[derive(Debug)]
struct PaymentLine {
    date: String,
    paid: String,
    reference: String,
}

#[derive(Debug)]
struct Totals {
    fees: String,
    paid: String,
    balance: String,
}

/// A rendering provider of the superbill.
#[derive(Debug, PartialEq)]
struct ProviderLine {
    /// Name and credentials as the practice lists them, else the staff
    /// name.
    name: String,
    /// The provider's NPI, when the practice lists it.
    npi: Option<String>,
}

#[derive(Template)]
#[template(path = "desk/superbill.html")]
struct SuperbillPage {
    layout: Layout,
    client_id: String,
    name: String,
    date_of_birth: String,
    diagnoses: Vec<String>,
    period: String,
    from: String,
    to: String,
    practice: Option<kapchart_views::superbill::PracticeHeader>,
    providers: Vec<ProviderLine>,
    services: Vec<ServiceLine>,
    payments: Vec<PaymentLine>,
    totals: Option<Totals>,
    billing_href: String,
    csv_href: String,
}

/// The period in words.
fn period_words(from: Option<NaiveDate>, to: Option<NaiveDate>) -> String {
    match (from, to) {
        (None, None) => "all dates".to_owned(),
        (Some(f), None) => format!("from {} on", long_day(f)),
        (None, Some(t)) => format!("up to {}", long_day(t)),
        (Some(f), Some(t)) => format!("{} to {}", long_day(f), long_day(t)),
    }
}

fn date_param(d: Option<NaiveDate>) -> String {
    d.map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// `GET /clients/{id}/superbill`: the print-ready superbill, logged as
/// printed.
pub(super) async fn page(
    State(state): State<WebState>,
    user: SignedIn,
    Path(id): Path<String>,
    Query(q): Query<PeriodQuery>,
) -> Result<Response, PageError> {
    let client = client_of_path(&id)?;
    let (from, to) = q.dates()?;
    let reply = read(&state, &user, &client, from, to, ReadAction::Print).await?;
    let lines = reply
        .rows
        .into_iter()
        .map(serde_json::from_value::<SuperbillLine>)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| PageError::internal("reading the superbill report", &e))?;
    let staff = staff_of(&state).await?;
    let first = lines.first();
    let text = |v: Option<&Option<String>>| v.and_then(Clone::clone).unwrap_or_default();
    let name = text(first.map(|l| &l.client_name));
    let date_of_birth = text(first.map(|l| &l.date_of_birth));
    let diagnoses: Vec<String> = text(first.map(|l| &l.diagnosis_codes))
        .split(';')
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
        .collect();
    let cents = |c: Option<i64>| c.map_or_else(String::new, money);
    let mut providers: Vec<ProviderLine> = Vec::new();
    let mut services = Vec::new();
    let mut payments = Vec::new();
    let mut totals = None;
    for l in &lines {
        match l.line.as_str() {
            "service" => {
                let provider = match (
                    &l.rendering_provider_name,
                    &l.rendering_provider_credentials,
                ) {
                    (Some(name), Some(credentials)) => format!("{name}, {credentials}"),
                    _ => l
                        .rendering_provider
                        .as_deref()
                        .map(|p| staff_name(&staff, p))
                        .unwrap_or_default(),
                };
                let line = ProviderLine {
                    name: provider.clone(),
                    npi: l.rendering_provider_npi.clone(),
                };
                if !provider.is_empty() && !providers.contains(&line) {
                    providers.push(line);
                }
                services.push(ServiceLine {
                    date: l.date.clone().unwrap_or_default(),
                    place_of_service: match l.place_of_service.as_deref() {
                        Some("11") => "11 (office)".to_owned(),
                        Some("02") => "02 (telehealth, not at home)".to_owned(),
                        Some("10") => "10 (telehealth at home)".to_owned(),
                        other => other.unwrap_or_default().to_owned(),
                    },
                    cpt_code: l.cpt_code.clone().unwrap_or_else(|| "none".to_owned()),
                    units: l.units.map(|u| u.to_string()).unwrap_or_default(),
                    service: l.service.as_deref().map(words).unwrap_or_default(),
                    provider,
                    insurance: match l.insurance_billable {
                        Some(true) => "Yes",
                        Some(false) => "No (self-pay)",
                        None => "",
                    },
                    fee: cents(l.fee_cents),
                    paid: cents(l.paid_cents),
                    reference: l.reference.clone().unwrap_or_default(),
                });
            }
            "payment" => payments.push(PaymentLine {
                date: l.date.clone().unwrap_or_default(),
                paid: cents(l.paid_cents),
                reference: l.reference.clone().unwrap_or_default(),
            }),
            "total" => {
                let balance = match (l.fee_cents, l.paid_cents) {
                    (Some(f), Some(p)) => f.checked_sub(p).map(money).unwrap_or_default(),
                    _ => String::new(),
                };
                totals = Some(Totals {
                    fees: cents(l.fee_cents),
                    paid: cents(l.paid_cents),
                    balance,
                });
            }
            _ => {}
        }
    }
    let practice = reply.practice;
    let client_id = client.to_string();
    let query = period_query(from, to);
    render(&SuperbillPage {
        layout: Layout::new(format!("Superbill for {client_id}"), &user, "/desk/clients"),
        billing_href: format!("/clients/{client_id}/billing"),
        csv_href: format!("/clients/{client_id}/superbill.csv{query}"),
        client_id,
        name,
        date_of_birth,
        diagnoses,
        period: period_words(from, to),
        from: date_param(from),
        to: date_param(to),
        practice,
        providers,
        services,
        payments,
        totals,
    })
}

/// `?from=..&to=..` of the chosen ends, or nothing.
fn period_query(from: Option<NaiveDate>, to: Option<NaiveDate>) -> String {
    let pairs: Vec<(&str, String)> = [("from", from), ("to", to)]
        .into_iter()
        .filter_map(|(k, d)| d.map(|d| (k, date_param(Some(d)))))
        .collect();
    if pairs.is_empty() {
        String::new()
    } else {
        format!(
            "?{}",
            serde_urlencoded::to_string(pairs).unwrap_or_default()
        )
    }
}

/// `GET /clients/{id}/superbill.csv`: the superbill's report as CSV, a
/// download logged as an export.
pub(super) async fn csv(
    State(state): State<WebState>,
    user: SignedIn,
    Path(id): Path<String>,
    Query(q): Query<PeriodQuery>,
) -> Result<Response, PageError> {
    let client = client_of_path(&id)?;
    let (from, to) = q.dates()?;
    let reply = read(&state, &user, &client, from, to, ReadAction::Export).await?;
    let body = csv_of(&reply).map_err(|e| PageError::internal("writing a superbill as CSV", &e))?;
    let name = |d: Option<NaiveDate>| d.map_or_else(|| "all".to_owned(), |d| date_param(Some(d)));
    // The client id is letters, digits, `-` and `_`: safe in the header.
    let disposition = format!(
        "attachment; filename=\"superbill-{client}-{}-{}.csv\"",
        name(from),
        name(to)
    );
    let disposition = HeaderValue::from_str(&disposition)
        .map_err(|e| PageError::internal("naming a CSV file", &e))?;
    Ok((
        no_store(),
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
}

/// The report as CSV, cells that a spreadsheet would run neutralized
/// ([`kapchart_views::spreadsheet`], as `kapchart report --format csv`).
fn csv_of(reply: &ReportReply) -> std::io::Result<Vec<u8>> {
    static NULL: Value = Value::Null;
    let columns: Vec<&str> = reply.columns.iter().map(String::as_str).collect();
    let rows = reply
        .rows
        .iter()
        .map(|row| columns.iter().map(move |c| row.get(*c).unwrap_or(&NULL)));
    let mut out = Vec::new();
    kapchart_views::spreadsheet::write_csv(&mut out, &columns, rows)?;
    Ok(out)
}

async fn read(
    state: &WebState,
    user: &SignedIn,
    client: &ClientId,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    action: ReadAction,
) -> Result<ReportReply, PageError> {
    Ok(state
        .app
        .read_superbill(
            &user.caller,
            &user.source,
            client,
            user.purpose,
            from,
            to,
            action,
        )
        .await?)
}
