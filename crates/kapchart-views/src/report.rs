//! Reports: tables built from the rows of the views, for a period and
//! optionally one client. Column names are stable and documented in
//! docs/reports.md.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::billing::{AccountRow, ChargeRow, PaymentRow};
use crate::compliance::{AdherenceRow, AdministrationRow, INSTRUMENTS, OutcomeRow};
use crate::kinds;
use crate::mean::Mean;
use crate::money::{MoneyOverflow, Total};
use crate::schedule::SessionRow;
use crate::view::{Row, STATE_FORMAT, ViewName};

/// Report output: named columns and rows of JSON cells (strings, integers,
/// bools, null).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Table {
    /// Stable snake_case column names.
    pub columns: Vec<&'static str>,
    /// One vector of cells per row, in column order.
    pub rows: Vec<Vec<Value>>,
}

impl Table {
    fn new(columns: &[&'static str]) -> Table {
        Table {
            columns: columns.to_vec(),
            rows: Vec::new(),
        }
    }

    fn push(&mut self, row: Vec<Value>) {
        debug_assert_eq!(row.len(), self.columns.len(), "row width");
        self.rows.push(row);
    }

    /// One JSON object per row, keyed by column name: the JSON form of a
    /// report.
    pub fn objects(&self) -> Vec<Value> {
        self.rows
            .iter()
            .map(|row| {
                Value::Object(
                    self.columns
                        .iter()
                        .zip(row)
                        .map(|(c, v)| ((*c).to_owned(), v.clone()))
                        .collect(),
                )
            })
            .collect()
    }

    /// The cells of one column, top to bottom (empty for an unknown column).
    pub fn column(&self, name: &str) -> Vec<&Value> {
        match self.columns.iter().position(|c| *c == name) {
            Some(i) => self.rows.iter().map(|r| &r[i]).collect(),
            None => Vec::new(),
        }
    }
}

/// The reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReportKind {
    /// Sessions per therapist and day, double-bookings flagged.
    Schedule,
    /// Charges, payments and balances per client.
    Billing,
    /// Superbills per client: services with codes, payments, totals.
    Superbill,
    /// Controlled-substance administration log.
    ControlledSubstances,
    /// Protocol adherence findings.
    Protocol,
    /// Outcome measures: change from baseline per client and practice-wide
    /// mean change per instrument.
    Outcomes,
}

/// A report name that is not one of the six.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown report: expected one of schedule, billing, superbill, controlled-substances, protocol, outcomes"
)]
pub struct UnknownReport;

impl ReportKind {
    /// Every report.
    pub const ALL: [ReportKind; 6] = [
        ReportKind::Schedule,
        ReportKind::Billing,
        ReportKind::Superbill,
        ReportKind::ControlledSubstances,
        ReportKind::Protocol,
        ReportKind::Outcomes,
    ];

    /// The report's stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            ReportKind::Schedule => "schedule",
            ReportKind::Billing => "billing",
            ReportKind::Superbill => "superbill",
            ReportKind::ControlledSubstances => "controlled-substances",
            ReportKind::Protocol => "protocol",
            ReportKind::Outcomes => "outcomes",
        }
    }

    /// The (view, row kind) pairs the report is built from.
    pub fn sources(self) -> &'static [(ViewName, &'static str)] {
        match self {
            ReportKind::Schedule => &[(ViewName::Schedule, kinds::SESSION)],
            ReportKind::Billing => &[
                (ViewName::Billing, kinds::CHARGE),
                (ViewName::Billing, kinds::PAYMENT),
            ],
            ReportKind::Superbill => &[
                (ViewName::Billing, kinds::ACCOUNT),
                (ViewName::Billing, kinds::CHARGE),
                (ViewName::Billing, kinds::PAYMENT),
            ],
            ReportKind::ControlledSubstances => &[(ViewName::Compliance, kinds::ADMINISTRATION)],
            ReportKind::Protocol => &[(ViewName::Compliance, kinds::ADHERENCE)],
            ReportKind::Outcomes => &[(ViewName::Compliance, kinds::OUTCOME)],
        }
    }

    /// The days of the rows of `row_kind` (one of [`sources`](Self::sources))
    /// that the report of `period` reads: rows filed under other days
    /// cannot change it, so a store need not read them. A report of a past
    /// period costs the same however much is recorded after it.
    ///
    /// - Schedule: sessions starting from the day before the period to the
    ///   day after (a session lasts at most a day, so every session that
    ///   overlaps one in the period, and so every double booking, is among
    ///   them).
    /// - Billing: charges and payments up to the period's end; balances
    ///   run over the whole history before it.
    /// - Superbill: charges in the period; payments of any day (a payment
    ///   received later still pays a service in the period); accounts.
    /// - Outcomes: scores up to the period's end (the baseline is the
    ///   first score ever).
    /// - Controlled substances, protocol adherence: the period's days.
    pub fn days_read(self, row_kind: &str, period: Period) -> DaySpan {
        let up_to_end = DaySpan {
            first: None,
            last: period.to,
        };
        let in_period = DaySpan {
            first: period.from,
            last: period.to,
        };
        match (self, row_kind) {
            (ReportKind::Schedule, _) => DaySpan {
                first: period.from.and_then(|d| d.pred_opt()),
                last: period.to.and_then(|d| d.succ_opt()),
            },
            (ReportKind::Billing, _) | (ReportKind::Outcomes, _) => up_to_end,
            (ReportKind::Superbill, kinds::CHARGE) => in_period,
            (ReportKind::Superbill, _) => DaySpan::ALL,
            (ReportKind::ControlledSubstances, _) | (ReportKind::Protocol, _) => in_period,
        }
    }

    /// The report's columns, in order.
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            ReportKind::Schedule => SCHEDULE_COLUMNS,
            ReportKind::Billing => BILLING_COLUMNS,
            ReportKind::Superbill => SUPERBILL_COLUMNS,
            ReportKind::ControlledSubstances => CONTROLLED_COLUMNS,
            ReportKind::Protocol => PROTOCOL_COLUMNS,
            ReportKind::Outcomes => OUTCOME_COLUMNS,
        }
    }
}

impl fmt::Display for ReportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ReportKind {
    type Err = UnknownReport;

    fn from_str(s: &str) -> Result<Self, UnknownReport> {
        ReportKind::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or(UnknownReport)
    }
}

/// A period that cannot be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    /// `from` is after `to`.
    #[error("from ({from}) is after to ({to})")]
    FromAfterTo {
        /// The first day asked for.
        from: NaiveDate,
        /// The last day asked for.
        to: NaiveDate,
    },
}

/// An inclusive period of days; either end may be open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Period {
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
}

impl Period {
    /// A checked period: `from` not after `to`.
    pub fn new(from: Option<NaiveDate>, to: Option<NaiveDate>) -> Result<Period, PeriodError> {
        if let (Some(from), Some(to)) = (from, to)
            && from > to
        {
            return Err(PeriodError::FromAfterTo { from, to });
        }
        Ok(Period { from, to })
    }

    /// Every day.
    pub fn all() -> Period {
        Period::default()
    }

    /// The first day, if bounded.
    pub fn from(&self) -> Option<NaiveDate> {
        self.from
    }

    /// The last day, if bounded.
    pub fn to(&self) -> Option<NaiveDate> {
        self.to
    }

    /// True when `day` lies in the period, ends included.
    pub fn contains(&self, day: NaiveDate) -> bool {
        self.from.is_none_or(|f| f <= day) && self.to.is_none_or(|t| day <= t)
    }

    /// True when `day` is after the period's end.
    fn is_after(&self, day: NaiveDate) -> bool {
        self.to.is_some_and(|t| day > t)
    }
}

/// The days of view rows a read needs, by the day each row is filed
/// under; an open end reads every day that way (and a bounded end leaves
/// out rows filed under no day).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DaySpan {
    /// The first day, if bounded.
    pub first: Option<NaiveDate>,
    /// The last day, if bounded.
    pub last: Option<NaiveDate>,
}

impl DaySpan {
    /// Every row, whatever its day.
    pub const ALL: DaySpan = DaySpan {
        first: None,
        last: None,
    };

    /// True when a row filed under `day` is in the span.
    pub fn holds(&self, day: Option<NaiveDate>) -> bool {
        match day {
            Some(day) => self.first.is_none_or(|f| f <= day) && self.last.is_none_or(|l| day <= l),
            None => self.first.is_none() && self.last.is_none(),
        }
    }
}

/// Why a report could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReportError {
    /// A row's data does not have its kind's shape (written by another
    /// format version, or damaged): rebuild the view.
    #[error(
        "{kind} row {key} of client {client_id} does not have the {kind} row shape of format {format}: rebuild the view"
    )]
    BadRow {
        /// The row kind.
        kind: String,
        /// The row key (an id or sequence).
        key: String,
        /// The client id.
        client_id: String,
        /// [`STATE_FORMAT`].
        format: u32,
    },
    /// A sum of money (a total or a running balance) beyond what kapchart
    /// represents ([`MoneyOverflow`]): the report is refused rather than
    /// show a wrapped or saturated number.
    #[error("{report} report: {overflow} for client {client_id}")]
    MoneyOverflow {
        /// The report.
        report: &'static str,
        /// The client whose sums overflowed.
        client_id: String,
        /// What overflowed.
        overflow: MoneyOverflow,
    },
}

const SCHEDULE_COLUMNS: &[&str] = &[
    "day",
    "therapist",
    "start",
    "end",
    "minutes",
    "client_id",
    "session",
    "kind",
    "status",
    "double_booked",
    "conflicts",
];

const BILLING_COLUMNS: &[&str] = &[
    "client_id",
    "day",
    "line",
    "reference",
    "service",
    "cpt_code",
    "units",
    "insurance_billable",
    "fee_schedule_version",
    "payer",
    "method",
    "charge_cents",
    "payment_cents",
    "balance_cents",
];

const SUPERBILL_COLUMNS: &[&str] = &[
    "client_id",
    "client_name",
    "date_of_birth",
    "diagnosis_codes",
    "line",
    "date",
    "place_of_service",
    "cpt_code",
    "units",
    "service",
    "rendering_provider",
    "insurance_billable",
    "fee_cents",
    "paid_cents",
    "reference",
    // Filled by `superbill::bill_as_practice` from the practice's
    // settings (the views do not hold them).
    "rendering_provider_name",
    "rendering_provider_credentials",
    "rendering_provider_npi",
];

const CONTROLLED_COLUMNS: &[&str] = &[
    "date",
    "given_at",
    "client_id",
    "setting",
    "session",
    "drug",
    "route",
    "dose_mg",
    "lot_number",
    "prescription",
    "prescriber",
    "monitoring_clinician",
    "provider",
    "sequence",
    "recorded_at",
];

const PROTOCOL_COLUMNS: &[&str] = &[
    "day",
    "client_id",
    "sequence",
    "event_type",
    "finding",
    "rule",
    "overridden",
    "reason",
    "authorized_by",
    "detail",
    "session",
    "related_session",
    "days",
    "count",
];

const OUTCOME_COLUMNS: &[&str] = &[
    "scope",
    "client_id",
    "instrument",
    "n",
    "baseline_on",
    "latest_on",
    "baseline",
    "latest",
    "change",
    "mean_baseline",
    "mean_latest",
    "mean_change",
];

/// CMS place-of-service code for an office: every session the practice
/// bills is held at its office (treatments at affiliates are not billed
/// here).
pub const PLACE_OF_SERVICE_OFFICE: &str = "11";

/// Builds a report from all rows of its sources.
///
/// The caller passes every row of the report's [`ReportKind::sources`]
/// (`(client_id, row)` pairs, any order; rows of other kinds are ignored)
/// without filtering by date: the builder applies the period and the
/// client itself, because some results depend on rows outside them (a
/// double-booking with another client's session, a balance carried into the
/// period, an outcome's baseline). A period with nothing in it gives an
/// empty table with its columns. Output order is deterministic.
pub fn build_report(
    kind: ReportKind,
    period: Period,
    client: Option<&str>,
    rows: &[(String, Row)],
) -> Result<Table, ReportError> {
    let input = Input { rows };
    match kind {
        ReportKind::Schedule => schedule(&input, period, client),
        ReportKind::Billing => billing(&input, period, client),
        ReportKind::Superbill => superbill(&input, period, client),
        ReportKind::ControlledSubstances => controlled(&input, period, client),
        ReportKind::Protocol => protocol(&input, period, client),
        ReportKind::Outcomes => outcomes(&input, period, client),
    }
}

struct Input<'a> {
    rows: &'a [(String, Row)],
}

impl Input<'_> {
    /// Every row of `kind`, parsed, with its client id, for `client` (or
    /// every client).
    fn parse<T: for<'de> Deserialize<'de>>(
        &self,
        kind: &str,
        client: Option<&str>,
    ) -> Result<Vec<(String, T)>, ReportError> {
        self.rows
            .iter()
            .filter(|(c, row)| row.kind == kind && client.is_none_or(|want| want == c))
            .map(|(c, row)| {
                T::deserialize(&row.data)
                    .map(|t| (c.clone(), t))
                    .map_err(|_| ReportError::BadRow {
                        kind: row.kind.clone(),
                        key: row.key.clone(),
                        client_id: c.clone(),
                        format: STATE_FORMAT,
                    })
            })
            .collect()
    }
}

// ---- cells ----

fn text(s: impl fmt::Display) -> Value {
    Value::String(s.to_string())
}

fn opt_text<T: fmt::Display>(s: Option<T>) -> Value {
    s.map_or(Value::Null, text)
}

fn int(n: impl Into<i64>) -> Value {
    Value::from(n.into())
}

fn uint(n: u64) -> Value {
    Value::from(n)
}

fn opt_int<T: Into<i64>>(n: Option<T>) -> Value {
    n.map_or(Value::Null, int)
}

fn time(t: DateTime<Utc>) -> Value {
    Value::String(t.to_rfc3339_opts(SecondsFormat::AutoSi, true))
}

/// The serialized name of a unit enum (e.g. `ongoing_care`).
fn name<T: Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

// ---- schedule ----

/// Overlapping open (scheduled or held) sessions of one therapist, across
/// all clients: for each such session, by (client id, session id), the
/// sessions it overlaps. Touching ends do not overlap.
pub fn double_bookings(
    sessions: &[SessionRow],
) -> BTreeMap<(String, String), BTreeSet<(String, String)>> {
    let mut by_therapist: BTreeMap<&str, Vec<&SessionRow>> = BTreeMap::new();
    for s in sessions.iter().filter(|s| s.is_open()) {
        by_therapist
            .entry(s.therapist.as_str())
            .or_default()
            .push(s);
    }
    let mut out: BTreeMap<(String, String), BTreeSet<(String, String)>> = BTreeMap::new();
    for list in by_therapist.values_mut() {
        list.sort_by(|a, b| {
            (a.start, a.end, &a.client_id, &a.session).cmp(&(
                b.start,
                b.end,
                &b.client_id,
                &b.session,
            ))
        });
        // Sweep by start: every session still running when another starts
        // overlaps it.
        let mut running: Vec<&SessionRow> = Vec::new();
        for s in list.iter() {
            running.retain(|r| r.end > s.start);
            for r in &running {
                let a = (r.client_id.clone(), r.session.clone());
                let b = (s.client_id.clone(), s.session.clone());
                out.entry(a.clone()).or_default().insert(b.clone());
                out.entry(b).or_default().insert(a);
            }
            running.push(s);
        }
    }
    out
}

fn schedule(input: &Input<'_>, period: Period, client: Option<&str>) -> Result<Table, ReportError> {
    // Conflicts cross clients: judge them on every client's sessions.
    let all: Vec<SessionRow> = input
        .parse::<SessionRow>(kinds::SESSION, None)?
        .into_iter()
        .map(|(_, s)| s)
        .collect();
    let conflicts = double_bookings(&all);
    let mut shown: Vec<&SessionRow> = all
        .iter()
        .filter(|s| client.is_none_or(|c| c == s.client_id))
        .filter(|s| period.contains(s.date))
        .collect();
    shown.sort_by(|a, b| {
        (
            a.date,
            &a.therapist,
            a.start,
            a.end,
            &a.client_id,
            &a.session,
        )
            .cmp(&(
                b.date,
                &b.therapist,
                b.start,
                b.end,
                &b.client_id,
                &b.session,
            ))
    });
    let mut table = Table::new(SCHEDULE_COLUMNS);
    for s in shown {
        let with = conflicts.get(&(s.client_id.clone(), s.session.clone()));
        table.push(vec![
            text(s.date),
            text(&s.therapist),
            time(s.start),
            time(s.end),
            int(s.minutes),
            text(&s.client_id),
            text(&s.session),
            name(&s.kind),
            name(&s.status),
            Value::Bool(with.is_some()),
            with.map_or(Value::Null, |w| {
                text(
                    w.iter()
                        .map(|(c, s)| format!("{c}/{s}"))
                        .collect::<Vec<_>>()
                        .join(";"),
                )
            }),
        ]);
    }
    Ok(table)
}

// ---- billing ----

enum Line<'a> {
    Charge(&'a ChargeRow),
    Payment(&'a PaymentRow),
}

impl Line<'_> {
    fn day(&self) -> NaiveDate {
        match self {
            Line::Charge(c) => c.service_date,
            Line::Payment(p) => p.received_on,
        }
    }

    fn sequence(&self) -> u64 {
        match self {
            Line::Charge(c) => c.sequence,
            Line::Payment(p) => p.sequence,
        }
    }
}

fn billing(input: &Input<'_>, period: Period, client: Option<&str>) -> Result<Table, ReportError> {
    let charges = input.parse::<ChargeRow>(kinds::CHARGE, client)?;
    let payments = input.parse::<PaymentRow>(kinds::PAYMENT, client)?;
    let mut by_client: BTreeMap<&str, Vec<Line<'_>>> = BTreeMap::new();
    for (c, row) in &charges {
        by_client
            .entry(c.as_str())
            .or_default()
            .push(Line::Charge(row));
    }
    for (c, row) in &payments {
        by_client
            .entry(c.as_str())
            .or_default()
            .push(Line::Payment(row));
    }
    let mut table = Table::new(BILLING_COLUMNS);
    for (client_id, mut lines) in by_client {
        lines.sort_by_key(|l| (l.day(), l.sequence()));
        // The balance runs over the client's whole history up to the end of
        // the period, so a period starting mid-way shows true balances.
        let overflow = |overflow| ReportError::MoneyOverflow {
            report: "billing",
            client_id: client_id.to_owned(),
            overflow,
        };
        let mut balance = Total::default();
        let mut charged = Total::default();
        let mut paid = Total::default();
        let mut any = false;
        for line in &lines {
            let day = line.day();
            if period.is_after(day) {
                break;
            }
            balance = match line {
                Line::Charge(c) => balance.plus(c.amount_cents),
                Line::Payment(p) => balance.minus(p.amount_cents),
            }
            .map_err(overflow)?;
            if !period.contains(day) {
                continue;
            }
            any = true;
            let row = match line {
                Line::Charge(c) => {
                    charged = charged.plus(c.amount_cents).map_err(overflow)?;
                    vec![
                        text(client_id),
                        text(day),
                        text("charge"),
                        text(&c.session),
                        name(&c.service),
                        opt_text(c.cpt_code.as_deref()),
                        uint(u64::from(c.units)),
                        Value::Bool(c.insurance_billable),
                        uint(u64::from(c.fee_schedule_version)),
                        Value::Null,
                        Value::Null,
                        int(c.amount_cents),
                        Value::Null,
                        int(balance.cents()),
                    ]
                }
                Line::Payment(p) => {
                    paid = paid.plus(p.amount_cents).map_err(overflow)?;
                    vec![
                        text(client_id),
                        text(day),
                        text("payment"),
                        text(&p.payment),
                        Value::Null,
                        Value::Null,
                        Value::Null,
                        Value::Null,
                        Value::Null,
                        name(&p.payer),
                        name(&p.method),
                        Value::Null,
                        int(p.amount_cents),
                        int(balance.cents()),
                    ]
                }
            };
            table.push(row);
        }
        if any {
            table.push(vec![
                text(client_id),
                Value::Null,
                text("total"),
                Value::Null,
                Value::Null,
                Value::Null,
                Value::Null,
                Value::Null,
                Value::Null,
                Value::Null,
                Value::Null,
                int(charged.cents()),
                int(paid.cents()),
                int(balance.cents()),
            ]);
        }
    }
    Ok(table)
}

// ---- superbill ----

fn superbill(
    input: &Input<'_>,
    period: Period,
    client: Option<&str>,
) -> Result<Table, ReportError> {
    let accounts: BTreeMap<String, AccountRow> = input
        .parse::<AccountRow>(kinds::ACCOUNT, client)?
        .into_iter()
        .collect();
    let charges = input.parse::<ChargeRow>(kinds::CHARGE, client)?;
    let payments = input.parse::<PaymentRow>(kinds::PAYMENT, client)?;
    let mut clients: BTreeSet<&str> = BTreeSet::new();
    clients.extend(charges.iter().map(|(c, _)| c.as_str()));
    clients.extend(payments.iter().map(|(c, _)| c.as_str()));
    let mut table = Table::new(SUPERBILL_COLUMNS);
    for client_id in clients {
        let account = accounts.get(client_id);
        let header = |line: &str| -> Vec<Value> {
            vec![
                text(client_id),
                opt_text(account.and_then(|a| a.name.as_deref())),
                opt_text(account.and_then(|a| a.date_of_birth)),
                account.map_or(Value::Null, |a| text(a.diagnoses.join(";"))),
                text(line),
            ]
        };
        let mut services: Vec<&ChargeRow> = charges
            .iter()
            .filter(|(c, ch)| c == client_id && period.contains(ch.service_date))
            .map(|(_, ch)| ch)
            .collect();
        services.sort_by(|a, b| {
            (a.service_date, a.start, &a.session).cmp(&(b.service_date, b.start, &b.session))
        });
        let listed: BTreeSet<&str> = services.iter().map(|c| c.session.as_str()).collect();
        let client_payments: Vec<&PaymentRow> = payments
            .iter()
            .filter(|(c, _)| c == client_id)
            .map(|(_, p)| p)
            .collect();
        let mut loose: Vec<&PaymentRow> = client_payments
            .iter()
            .copied()
            .filter(|p| period.contains(p.received_on))
            .filter(|p| p.session.as_deref().is_none_or(|s| !listed.contains(s)))
            .collect();
        loose.sort_by_key(|p| (p.received_on, p.sequence));
        if services.is_empty() && loose.is_empty() {
            continue;
        }
        let overflow = |overflow| ReportError::MoneyOverflow {
            report: "superbill",
            client_id: client_id.to_owned(),
            overflow,
        };
        let mut fees = Total::default();
        let mut paid_total = Total::default();
        for c in services {
            let paid = Total::of(
                client_payments
                    .iter()
                    .filter(|p| p.session.as_deref() == Some(c.session.as_str()))
                    .map(|p| p.amount_cents),
            )
            .map_err(overflow)?
            .cents();
            fees = fees.plus(c.amount_cents).map_err(overflow)?;
            paid_total = paid_total.plus(paid).map_err(overflow)?;
            let mut row = header("service");
            row.extend([
                text(c.service_date),
                text(PLACE_OF_SERVICE_OFFICE),
                opt_text(c.cpt_code.as_deref()),
                uint(u64::from(c.units)),
                name(&c.service),
                text(&c.therapist),
                Value::Bool(c.insurance_billable),
                int(c.amount_cents),
                int(paid),
                text(&c.session),
                Value::Null,
                Value::Null,
                Value::Null,
            ]);
            table.push(row);
        }
        for p in loose {
            paid_total = paid_total.plus(p.amount_cents).map_err(overflow)?;
            let mut row = header("payment");
            row.extend([
                text(p.received_on),
                Value::Null,
                Value::Null,
                Value::Null,
                Value::Null,
                Value::Null,
                Value::Null,
                Value::Null,
                int(p.amount_cents),
                text(&p.payment),
                Value::Null,
                Value::Null,
                Value::Null,
            ]);
            table.push(row);
        }
        let mut row = header("total");
        row.extend([
            Value::Null,
            Value::Null,
            Value::Null,
            Value::Null,
            Value::Null,
            Value::Null,
            Value::Null,
            int(fees.cents()),
            int(paid_total.cents()),
            Value::Null,
            Value::Null,
            Value::Null,
            Value::Null,
        ]);
        table.push(row);
    }
    Ok(table)
}

// ---- controlled substances ----

fn controlled(
    input: &Input<'_>,
    period: Period,
    client: Option<&str>,
) -> Result<Table, ReportError> {
    let mut rows: Vec<AdministrationRow> = input
        .parse::<AdministrationRow>(kinds::ADMINISTRATION, client)?
        .into_iter()
        .map(|(_, a)| a)
        .filter(|a| period.contains(a.date))
        .collect();
    rows.sort_by(|a, b| {
        (a.date, a.given_at, &a.client_id, a.sequence).cmp(&(
            b.date,
            b.given_at,
            &b.client_id,
            b.sequence,
        ))
    });
    let mut table = Table::new(CONTROLLED_COLUMNS);
    for a in rows {
        table.push(vec![
            text(a.date),
            a.given_at.map_or(Value::Null, time),
            text(&a.client_id),
            name(&a.setting),
            opt_text(a.session.as_deref()),
            a.drug.as_ref().map_or(Value::Null, name),
            name(&a.route),
            opt_int(a.dose_mg),
            opt_text(a.lot_number.as_deref()),
            opt_text(a.prescription.as_deref()),
            opt_text(a.prescriber.as_deref()),
            opt_text(a.monitoring_clinician.as_deref()),
            opt_text(a.provider.as_deref()),
            uint(a.sequence),
            time(a.recorded_at),
        ]);
    }
    Ok(table)
}

// ---- protocol adherence ----

fn protocol(input: &Input<'_>, period: Period, client: Option<&str>) -> Result<Table, ReportError> {
    let mut rows: Vec<AdherenceRow> = input
        .parse::<AdherenceRow>(kinds::ADHERENCE, client)?
        .into_iter()
        .map(|(_, f)| f)
        .filter(|f| period.contains(f.day))
        .collect();
    rows.sort_by(|a, b| {
        (a.day, &a.client_id, a.sequence, a.finding, a.rule.code()).cmp(&(
            b.day,
            &b.client_id,
            b.sequence,
            b.finding,
            b.rule.code(),
        ))
    });
    let mut table = Table::new(PROTOCOL_COLUMNS);
    for f in rows {
        table.push(vec![
            text(f.day),
            text(&f.client_id),
            uint(f.sequence),
            text(&f.event_type),
            text(f.finding.as_str()),
            text(f.rule.code()),
            Value::Bool(f.overridden),
            opt_text(f.reason.as_deref()),
            opt_text(f.authorized_by.as_deref()),
            text(&f.detail),
            opt_text(f.session.as_deref()),
            opt_text(f.related_session.as_deref()),
            opt_int(f.days),
            opt_int(f.count),
        ]);
    }
    Ok(table)
}

// ---- outcomes ----

fn instrument_rank(instrument: &str) -> usize {
    INSTRUMENTS
        .iter()
        .position(|i| *i == instrument)
        .unwrap_or(INSTRUMENTS.len())
}

fn outcomes(input: &Input<'_>, period: Period, client: Option<&str>) -> Result<Table, ReportError> {
    let rows = input.parse::<OutcomeRow>(kinds::OUTCOME, client)?;
    // (client, instrument) -> scores in order administered.
    let mut series: BTreeMap<(&str, &str), Vec<&OutcomeRow>> = BTreeMap::new();
    for (c, o) in &rows {
        series
            .entry((c.as_str(), o.instrument.as_str()))
            .or_default()
            .push(o);
    }
    let mut ordered: Vec<((&str, &str), Vec<&OutcomeRow>)> = series.into_iter().collect();
    ordered.sort_by_key(|((c, i), _)| (*c, instrument_rank(i), *i));

    struct Means {
        baseline: Mean,
        latest: Mean,
        change: Mean,
    }
    let mut practice: BTreeMap<(usize, &str), Means> = BTreeMap::new();
    let mut table = Table::new(OUTCOME_COLUMNS);
    for ((client_id, instrument), mut scores) in ordered {
        scores.sort_by_key(|o| (o.administered_on, o.sequence));
        let baseline = scores[0];
        let Some(latest) = scores
            .iter()
            .rev()
            .find(|o| period.contains(o.administered_on))
        else {
            continue;
        };
        let change = (latest.sequence != baseline.sequence)
            .then(|| i64::from(latest.score) - i64::from(baseline.score));
        if let Some(change) = change {
            let m = practice
                .entry((instrument_rank(instrument), instrument))
                .or_insert(Means {
                    baseline: Mean::default(),
                    latest: Mean::default(),
                    change: Mean::default(),
                });
            m.baseline.add(i64::from(baseline.score));
            m.latest.add(i64::from(latest.score));
            m.change.add(change);
        }
        table.push(vec![
            text("client"),
            text(client_id),
            text(instrument),
            Value::Null,
            text(baseline.administered_on),
            text(latest.administered_on),
            int(baseline.score),
            int(latest.score),
            opt_int(change),
            Value::Null,
            Value::Null,
            Value::Null,
        ]);
    }
    for ((_, instrument), m) in practice {
        table.push(vec![
            text("practice"),
            Value::Null,
            text(instrument),
            uint(m.change.n),
            Value::Null,
            Value::Null,
            Value::Null,
            Value::Null,
            Value::Null,
            opt_text(m.baseline.to_fixed2()),
            opt_text(m.latest.to_fixed2()),
            opt_text(m.change.to_fixed2()),
        ]);
    }
    Ok(table)
}
