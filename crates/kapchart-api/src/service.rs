//! The reads of kapchart, as services: the JSON handlers ([`crate::reads`])
//! and the web pages (kapchart-web) both call these, so both go through
//! the same role and assignment checks and append the same access-log
//! entries before anything is sent. A caller parses its request into the
//! arguments; the [`Source`] names the request as made.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use kapchart_domain::{ClientId, Role};
use kapchart_views::{ReportKind, Row, ViewName, kinds};
use serde_json::Value;

use crate::desk_reads::ReadAction;
use crate::disclosure::{chart_categories, chart_without_billing, report_categories};
use crate::error::ApiError;
use crate::reads::{
    ClientRows, Purpose, ReportReply, ViewRow, log_report, period, period_chosen, report_reply,
};
use crate::source::Source;
use crate::{AppState, Caller};

impl AppState {
    /// The client's chart: current clinical state and every entry beside
    /// its amendments; with `as_of`, as it stood then. Therapists and
    /// prescribers get it without billing data.
    ///
    /// # Errors
    /// 400 for an `as_of` out of range, 403 for a caller who may not read
    /// the client (the same whether the client exists or not), 404 for an
    /// unregistered client, 500 if the access entry cannot be written.
    pub async fn read_chart(
        &self,
        caller: &Caller,
        source: &Source,
        client: &ClientId,
        purpose: Purpose,
        as_of: Option<DateTime<Utc>>,
    ) -> Result<ClientRows, ApiError> {
        if let Some(at) = as_of {
            kapchart_domain::input::check_instant(at)
                .map_err(|e| ApiError::bad("as_of", e.message))?;
        }
        // The role and assignment first: a caller who may not read this
        // client gets the same answer whether the client exists or not.
        let record = self.record(client.as_str()).await?;
        caller.may_read_chart(&record)?;
        if !record.is_registered() {
            return Err(ApiError::NotFound("no such client"));
        }
        let rows: Vec<Row> = match as_of {
            Some(at) => self
                .projector()
                .chart_as_of(client.as_str(), at)
                .await
                .map_err(|e| ApiError::internal("replaying a chart", &e))?,
            None => {
                self.current(&[ViewName::Chart]).await?;
                let rows: Vec<Row> = self
                    .view_rows(
                        ViewName::Chart,
                        &[kinds::CHART, kinds::ENTRY],
                        Some(client.as_str()),
                    )
                    .await?
                    .into_iter()
                    .map(|(_, r)| r)
                    .collect();
                // The chart sent must itself name the caller: a
                // reassignment or referral that lands between the record's
                // load above and the rows read here refuses the read
                // rather than send a chart the caller no longer holds.
                caller.may_read_chart_as_shown(&rows)?;
                rows
            }
        };
        // The minimum necessary: billing only for those who read billing.
        let rows = if caller.may_read_billing().is_ok() {
            rows
        } else {
            chart_without_billing(rows)
        };
        let chosen: Vec<(&'static str, String)> = as_of
            .map(|at| ("as_of", at.to_rfc3339_opts(SecondsFormat::AutoSi, true)))
            .into_iter()
            .collect();
        self.log_read(
            caller,
            client,
            &chart_categories(&rows),
            &source.describe(&chosen),
            purpose,
        )
        .await?;
        Ok(ClientRows {
            client_id: client.to_string(),
            as_of: as_of.map(|t| t.to_rfc3339()),
            rows: rows.into_iter().map(ViewRow::from).collect(),
        })
    }

    /// The client's charges, payments and balance (front desk, auditors).
    ///
    /// # Errors
    /// 403 for other roles, 404 for an unregistered client.
    pub async fn read_billing(
        &self,
        caller: &Caller,
        source: &Source,
        client: &ClientId,
        purpose: Purpose,
    ) -> Result<ClientRows, ApiError> {
        caller.may_read_billing()?;
        self.registered(client).await?;
        self.log_read(
            caller,
            client,
            report_categories(ReportKind::Billing),
            &source.describe(&[]),
            purpose,
        )
        .await?;
        self.current(&[ViewName::Billing]).await?;
        let rows = self
            .view_rows(
                ViewName::Billing,
                &[kinds::ACCOUNT, kinds::CHARGE, kinds::PAYMENT],
                Some(client.as_str()),
            )
            .await?;
        Ok(ClientRows {
            client_id: client.to_string(),
            as_of: None,
            rows: rows.into_iter().map(|(_, r)| ViewRow::from(r)).collect(),
        })
    }

    /// The client's superbill for a period (front desk, auditors), logged
    /// with `action`: [`ReadAction::Query`] for a view (the API),
    /// [`ReadAction::Print`] for the page made to be printed,
    /// [`ReadAction::Export`] for a file (CSV).
    ///
    /// # Errors
    /// 400 for a bad period, 403 for other roles, 404 for an unregistered
    /// client.
    #[allow(clippy::too_many_arguments)]
    pub async fn read_superbill(
        &self,
        caller: &Caller,
        source: &Source,
        client: &ClientId,
        purpose: Purpose,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        action: ReadAction,
    ) -> Result<ReportReply, ApiError> {
        let period = period(from, to)?;
        caller.may_read_billing()?;
        self.registered(client).await?;
        self.log_read_as(
            caller,
            client,
            report_categories(ReportKind::Superbill),
            &source.describe(&period_chosen(from, to)),
            purpose,
            action,
        )
        .await?;
        let table = self
            .build(ReportKind::Superbill, period, Some(client.as_str()))
            .await?;
        let mut reply = report_reply("superbill", &table);
        reply.practice = kapchart_views::superbill::practice_header(&self.settings_known());
        Ok(reply)
    }

    /// Sessions per therapist and day, double-bookings flagged. A
    /// therapist sees their own sessions.
    ///
    /// # Errors
    /// 400 for a bad period, 403 for prescribers and admins.
    pub async fn read_schedule(
        &self,
        caller: &Caller,
        source: &Source,
        purpose: Purpose,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    ) -> Result<ReportReply, ApiError> {
        let table = self.schedule_table(caller, from, to).await?;
        log_report(
            self,
            caller,
            &table,
            ReportKind::Schedule,
            &source.describe(&period_chosen(from, to)),
            purpose,
            ReadAction::Query,
        )
        .await?;
        Ok(report_reply("schedule", &table))
    }

    /// The schedule report of a period as `caller` may see it (a
    /// therapist: their own sessions), not logged: for services that log
    /// what they return.
    pub(crate) async fn schedule_table(
        &self,
        caller: &Caller,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    ) -> Result<kapchart_views::Table, ApiError> {
        schedule_reader(caller)?;
        self.current(&[ViewName::Schedule]).await?;
        self.schedule_table_as_is(caller, from, to).await
    }

    /// [`schedule_table`](Self::schedule_table) without catching the
    /// schedule view up: for services that caught it up already.
    pub(crate) async fn schedule_table_as_is(
        &self,
        caller: &Caller,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    ) -> Result<kapchart_views::Table, ApiError> {
        let period = period(from, to)?;
        schedule_reader(caller)?;
        let mut table = self.build_as_is(ReportKind::Schedule, period, None).await?;
        if caller.role == Role::Therapist
            && let Some(k) = table.columns.iter().position(|c| *c == "therapist")
        {
            let me = caller.user_id.as_str();
            table
                .rows
                .retain(|r| r.get(k).and_then(Value::as_str) == Some(me));
        }
        Ok(table)
    }

    /// A report by its name: `schedule`, `billing`, `superbill`,
    /// `controlled-substances`, `protocol` or `outcomes`. Auditors read
    /// every report; front desk the schedule, billing and superbills.
    ///
    /// # Errors
    /// 404 for an unknown report, 400 for a bad period or client id, 403
    /// for a report not open to the caller's role.
    #[allow(clippy::too_many_arguments)]
    pub async fn read_report(
        &self,
        caller: &Caller,
        source: &Source,
        name: &str,
        purpose: Purpose,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        client: Option<&str>,
    ) -> Result<ReportReply, ApiError> {
        self.read_report_as(
            caller,
            source,
            name,
            purpose,
            (from, to),
            client,
            ReadAction::Query,
        )
        .await
    }

    /// [`AppState::read_report`] of the period `(from, to)`, each client
    /// shown logged with `action`: [`ReadAction::Query`] for a view,
    /// [`ReadAction::Export`] for a file (CSV).
    ///
    /// # Errors
    /// As [`AppState::read_report`].
    #[allow(clippy::too_many_arguments)]
    pub async fn read_report_as(
        &self,
        caller: &Caller,
        source: &Source,
        name: &str,
        purpose: Purpose,
        (from, to): (Option<NaiveDate>, Option<NaiveDate>),
        client: Option<&str>,
        action: ReadAction,
    ) -> Result<ReportReply, ApiError> {
        let kind = match name {
            "schedule" => ReportKind::Schedule,
            "billing" => ReportKind::Billing,
            "superbill" => ReportKind::Superbill,
            "controlled-substances" => ReportKind::ControlledSubstances,
            "protocol" => ReportKind::Protocol,
            "outcomes" => ReportKind::Outcomes,
            _ => return Err(ApiError::NotFound("no such report")),
        };
        let period = period(from, to)?;
        let client = match client {
            Some(c) => {
                Some(ClientId::parse(c).map_err(|e| ApiError::bad("client", e.to_string()))?)
            }
            None => None,
        };
        let allowed = match caller.role {
            Role::Auditor => true,
            Role::FrontDesk => matches!(
                kind,
                ReportKind::Schedule | ReportKind::Billing | ReportKind::Superbill
            ),
            _ => false,
        };
        if !allowed {
            return Err(ApiError::Forbidden("this report is not open to your role"));
        }
        let table = self
            .build(kind, period, client.as_ref().map(ClientId::as_str))
            .await?;
        let mut chosen = period_chosen(from, to);
        if let Some(client) = &client {
            chosen.push(("client", client.to_string()));
        }
        log_report(
            self,
            caller,
            &table,
            kind,
            &source.describe(&chosen),
            purpose,
            action,
        )
        .await?;
        Ok(report_reply(name, &table))
    }
}

/// Only therapists, front desk and auditors read the schedule.
fn schedule_reader(caller: &Caller) -> Result<(), ApiError> {
    match caller.role {
        Role::Therapist | Role::FrontDesk | Role::Auditor => Ok(()),
        _ => Err(ApiError::Forbidden(
            "the schedule is read by therapists, front desk and auditors",
        )),
    }
}
