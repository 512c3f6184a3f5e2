//! `kapchart report`: the reports of the views, and the access report.
//!
//! A report of the views shows client data, so it is a read of each
//! client's record it shows: before anything is written, one access log
//! entry per client shown is appended, all in one transaction, as the
//! operating-system user running it ([`crate::local_user`]), with source
//! `cli report NAME` and the arguments that chose the data, and the
//! `--purpose` given (default [`DEFAULT_PURPOSE`]). If the entries cannot be
//! written, nothing is shown. The action is `query` for the table on a
//! terminal and `export` for CSV and JSON, which are made to leave
//! kapchart (a file, a spreadsheet, another program).
//!
//! The access report lists the access log itself and is not logged: it
//! shows who read which client's record, not the record.

use std::time::Duration;

use anyhow::{Context as _, anyhow};
use chrono::{SecondsFormat, Utc};
use kapchart_api::disclosure::{clients_of, report_categories};
use kapchart_domain::ClientId;
use kapchart_projector::Projector;
use kapchart_store::StoreError;
use kapchart_store::access::{AccessAction, AccessActor, AccessEntry, AccessQuery};
use kapchart_views::{Period, ReportKind, Table};

use crate::cli::{GlobalArgs, ReportArgs, ReportFormat, ReportName};
use crate::commands::{CommandResult, open, progress_bar, runtime};
use crate::error::CommandError;

/// The purpose logged when `--purpose` is not given: the practice's
/// operations (billing, scheduling, compliance).
pub const DEFAULT_PURPOSE: &str = "operations";

/// Columns of `kapchart report access` (docs/reports.md).
pub const ACCESS_COLUMNS: [&str; 9] = [
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

/// `kapchart report`: catches the views up, builds the report, logs the
/// reads of the clients it shows, then writes it; the access report reads
/// the access log.
pub fn report(global: &GlobalArgs, args: &ReportArgs) -> CommandResult {
    if args.sort.is_some() && args.report != ReportName::Access {
        return Err(CommandError::Usage(
            "--sort applies to the access report only".into(),
        ));
    }
    let kind = match args.report {
        ReportName::Schedule => ReportKind::Schedule,
        ReportName::Billing => ReportKind::Billing,
        ReportName::Superbill => ReportKind::Superbill,
        ReportName::ControlledSubstances => ReportKind::ControlledSubstances,
        ReportName::Protocol => ReportKind::Protocol,
        ReportName::Outcomes => ReportKind::Outcomes,
        ReportName::Access => {
            if args.purpose.is_some() {
                return Err(CommandError::Usage(
                    "--purpose applies to reports of client data: the access report is not logged"
                        .into(),
                ));
            }
            return report_access(global, args);
        }
    };
    let period = Period::new(args.from, args.to).map_err(|e| CommandError::Usage(e.to_string()))?;
    let client = client_arg(args)?;
    let actor = crate::local_user::actor()?;
    runtime()?.block_on(async {
        let db = open(global).await?;
        let projector = Projector::new(db.clone());
        let bar = progress_bar("catching up the views");
        let behind = projector
            .catch_up_fully(Duration::from_secs(10))
            .await
            .context("catching up the views")?;
        bar.finish_and_clear();
        if behind > 0 {
            eprintln!(
                "kapchart: warning: this report lacks the {behind} latest events (an open \
                 database transaction holds them back); run it again shortly"
            );
        }
        let only = client.as_ref().map(ClientId::as_str);
        let rows = projector
            .report_rows(kind, period, only)
            .await
            .context("reading the views")?;
        // The views' state, not the request: a failure (exit 1), not usage.
        let mut table = kapchart_views::build_report(kind, period, only, &rows)
            .map_err(|e| CommandError::Failed(anyhow!(e).context("building the report")))?;
        if kind == ReportKind::Superbill {
            // Billed as the practice bills, with the settings its record
            // holds (as the API's superbill is).
            let settings = kapchart_store::practice::load(&db)
                .await
                .context("reading the practice's settings")?
                .settings();
            kapchart_views::superbill::bill_as_practice(&mut table, &settings);
        }
        // Logged before anything is shown: nothing is shown unlogged.
        let entries = reads(&table, kind, &actor, args)?;
        let logged = kapchart_store::access::append_all(&db, &entries).await;
        db.close().await;
        logged.map_err(|e| match e {
            StoreError::Invalid { field, rule } => {
                CommandError::Usage(format!("--{field}: {rule}"))
            }
            other => CommandError::Failed(anyhow!(other).context("writing the access log")),
        })?;
        let mut out = std::io::stdout().lock();
        crate::report::write(&table, args.format, &mut out)?;
        Ok(())
    })
}

/// `--client`, checked.
fn client_arg(args: &ReportArgs) -> Result<Option<ClientId>, CommandError> {
    args.client
        .as_deref()
        .map(ClientId::parse)
        .transpose()
        .map_err(|e| CommandError::Usage(format!("--client: {e}")))
}

/// `cli report NAME` and the arguments that chose the data.
fn source(kind: ReportKind, args: &ReportArgs) -> String {
    let mut source = format!("cli report {}", kind.as_str());
    if let Some(client) = &args.client {
        source.push_str(&format!(" --client {client}"));
    }
    for (flag, day) in [("--from", args.from), ("--to", args.to)] {
        if let Some(day) = day {
            source.push_str(&format!(" {flag} {}", day.format("%Y-%m-%d")));
        }
    }
    source
}

/// One access log entry per client `table` shows.
fn reads(
    table: &Table,
    kind: ReportKind,
    actor: &AccessActor,
    args: &ReportArgs,
) -> Result<Vec<AccessEntry>, CommandError> {
    let at = Utc::now();
    let action = match args.format {
        ReportFormat::Table => AccessAction::Query,
        ReportFormat::Csv | ReportFormat::Json => AccessAction::Export,
    };
    let source = source(kind, args);
    let purpose = args.purpose.as_deref().unwrap_or(DEFAULT_PURPOSE);
    clients_of(table)
        .iter()
        .map(|c| {
            let client = ClientId::parse(c)
                .map_err(|e| CommandError::Failed(anyhow!("a report row's client id: {e}")))?;
            Ok(AccessEntry {
                at,
                actor: actor.clone(),
                action,
                client_id: Some(client),
                categories: report_categories(kind).to_vec(),
                source: source.clone(),
                purpose: purpose.to_owned(),
            })
        })
        .collect()
}

/// `kapchart report access`: the access log, filtered and sorted.
fn report_access(global: &GlobalArgs, args: &ReportArgs) -> CommandResult {
    // The same check, and message, as the other reports' periods.
    Period::new(args.from, args.to).map_err(|e| CommandError::Usage(e.to_string()))?;
    let query = AccessQuery {
        client: client_arg(args)?,
        user: None,
        from: args.from,
        to: args.to,
        sort: args.sort.unwrap_or_default(),
    };
    runtime()?.block_on(async {
        let db = open(global).await?;
        // The period's days are the practice's local days.
        let zone = kapchart_store::practice::load(&db)
            .await
            .context("reading the practice's settings")?
            .time_zone();
        let records = kapchart_store::access::list_in_zone(&db, &query, zone)
            .await
            .context("reading the access log")?;
        db.close().await;
        let rows = records
            .into_iter()
            .map(|r| {
                let e = r.entry;
                let categories: Vec<&str> = e.categories.iter().map(|c| c.as_str()).collect();
                vec![
                    serde_json::json!(r.sequence),
                    serde_json::json!(e.at.to_rfc3339_opts(SecondsFormat::Micros, true)),
                    serde_json::json!(e.client_id),
                    serde_json::json!(e.actor.user_id),
                    serde_json::json!(e.actor.role.as_str()),
                    serde_json::json!(e.action.as_str()),
                    serde_json::json!(categories.join(";")),
                    serde_json::json!(e.source),
                    serde_json::json!(e.purpose),
                ]
            })
            .collect();
        let table = Table {
            columns: ACCESS_COLUMNS.to_vec(),
            rows,
        };
        let mut out = std::io::stdout().lock();
        crate::report::write(&table, args.format, &mut out)?;
        Ok(())
    })
}
