//! One handler per subcommand. Handlers not built yet return
//! [`CommandError::NotAvailable`] without touching the database.

use std::io::Write as _;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context as _, anyhow};
use chrono::{SecondsFormat, Utc};
use indicatif::{ProgressBar, ProgressStyle};
use kapchart_audit::{Bundle, parse_public_key, public_key_of, verify_bundle};
use kapchart_projector::Projector;
use kapchart_store::Database;
use kapchart_store::audit::{
    CheckpointFile, CheckpointRefused, ExportError, VerifyOptions, VerifyReport,
};
use kapchart_views::ViewName;

use crate::cli::{
    CheckpointArgs, DemoArgs, ExportArgs, ExportFormat, GlobalArgs, RebuildArgs, ReportArgs,
    ReportName, ServeArgs, UserAddArgs, UserNameArg, VerifyArgs,
};
use crate::error::CommandError;
use crate::keys;

/// What every handler returns.
pub type CommandResult = Result<(), CommandError>;

fn not_available(command: &'static str) -> CommandResult {
    Err(CommandError::NotAvailable { command })
}

/// A runtime for one command.
fn runtime() -> Result<tokio::runtime::Runtime, CommandError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CommandError::Failed(anyhow!(e).context("starting the async runtime")))
}

/// Connects and applies the schema; an unreachable database is a usage
/// error (exit 2), with a message that never holds the password.
async fn open(global: &GlobalArgs) -> Result<Database, CommandError> {
    Database::open(global.database_url.as_str())
        .await
        .map_err(|e| CommandError::Usage(format!("{} ({})", e, global.database_url.redacted())))
}

/// A key file that cannot be read or created is an input problem (exit 2).
fn key_error(e: anyhow::Error) -> CommandError {
    CommandError::Usage(format!("{e:#}"))
}

fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn print_json(value: &impl serde::Serialize) -> CommandResult {
    let text = serde_json::to_string_pretty(value).context("encoding JSON")?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}").context("writing to stdout")?;
    Ok(())
}

/// `kapchart serve`.
pub fn serve(_global: &GlobalArgs, _args: &ServeArgs) -> CommandResult {
    not_available("serve")
}

/// `kapchart migrate`.
pub fn migrate(global: &GlobalArgs) -> CommandResult {
    runtime()?.block_on(async {
        let db = open(global).await?;
        println!("database schema is up to date ({})", db.engine());
        db.close().await;
        Ok(())
    })
}

/// `kapchart verify`.
pub fn verify(global: &GlobalArgs, args: &VerifyArgs) -> CommandResult {
    let public_key = match &args.public_key {
        Some(hex) => Some(
            parse_public_key(hex).map_err(|e| CommandError::Usage(format!("--public-key: {e}")))?,
        ),
        None => None,
    };
    if let Some(path) = &args.bundle {
        let Some(key) = public_key else {
            return Err(CommandError::Usage(
                "--bundle needs --public-key: the key the practice publishes".into(),
            ));
        };
        return verify_bundle_file(path, &key, args.json);
    }
    let checkpoint = match &args.checkpoint {
        Some(path) => Some(read_checkpoint(path)?),
        None => None,
    };
    // A key given with --public-key is trusted: checkpoints signed by any
    // other key are reported. Without it, each checkpoint is checked under
    // the key stored with it (keys may have been rotated).
    let trusted = public_key;
    runtime()?.block_on(async {
        let db = open(global).await?;
        let bar = progress_bar("verifying");
        let options = VerifyOptions {
            client: args.client.clone(),
            checkpoint,
            public_key: trusted,
        };
        let report = kapchart_store::audit::verify(&db, &options, &|rows| bar.set_position(rows))
            .await
            .context("verifying")?;
        bar.finish_and_clear();
        db.close().await;
        if let Some(client) = &args.client
            && report.rows == 0
            && report.findings.is_empty()
        {
            return Err(CommandError::Usage(format!("no client with id {client}")));
        }
        print_report(&report, args.json)?;
        if report.is_intact() {
            Ok(())
        } else {
            Err(CommandError::Failed(anyhow!(
                "the record is not intact: {} findings, {} checkpoint problems",
                report.findings.len(),
                report.checkpoint_problems.len()
            )))
        }
    })
}

fn progress_bar(message: &'static str) -> ProgressBar {
    let bar = ProgressBar::new_spinner().with_message(message);
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg}: {pos} events ({per_sec})")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

fn read_checkpoint(path: &Path) -> Result<CheckpointFile, CommandError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CommandError::Usage(format!("--checkpoint {}: {e}", path.display())))?;
    serde_json::from_str(&text).map_err(|e| {
        CommandError::Usage(format!(
            "--checkpoint {}: not a kapchart checkpoint ({e})",
            path.display()
        ))
    })
}

fn print_report(report: &VerifyReport, json: bool) -> CommandResult {
    if json {
        let value = serde_json::json!({
            "intact": report.is_intact(),
            "events": report.rows,
            "clients": report.aggregates,
            "checkpoints": report.checkpoints,
            "findings": report.findings,
            "checkpoint_problems": report.checkpoint_problems,
        });
        return print_json(&value);
    }
    let mut out = std::io::stdout().lock();
    for f in &report.findings {
        writeln!(out, "{f}").context("writing to stdout")?;
    }
    for p in &report.checkpoint_problems {
        writeln!(out, "checkpoint {} ({}): {}", p.number, p.source, p.problem)
            .context("writing to stdout")?;
    }
    let verdict = if report.is_intact() {
        "intact".to_owned()
    } else {
        format!(
            "NOT INTACT: {} findings, {} checkpoint problems",
            report.findings.len(),
            report.checkpoint_problems.len()
        )
    };
    writeln!(
        out,
        "verified {} events of {} clients and {} checkpoints: {verdict}",
        report.rows, report.aggregates, report.checkpoints
    )
    .context("writing to stdout")?;
    Ok(())
}

fn verify_bundle_file(path: &Path, key: &[u8; 32], json: bool) -> CommandResult {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CommandError::Usage(format!("--bundle {}: {e}", path.display())))?;
    let bundle: Bundle = serde_json::from_str(&text).map_err(|e| {
        CommandError::Failed(anyhow!(
            "the bundle {} is corrupt: not a kapchart bundle ({e})",
            path.display()
        ))
    })?;
    match verify_bundle(&bundle, key) {
        Ok(report) => {
            if json {
                print_json(&serde_json::json!({
                    "intact": true,
                    "aggregate_type": report.head.aggregate_type,
                    "aggregate_id": report.head.aggregate_id,
                    "entries": report.entries,
                    "head_sequence": report.head.sequence,
                    "tree_size": report.statement.tree_size,
                    "issued_at": report.statement.issued_at,
                }))
            } else {
                println!(
                    "bundle intact: {}/{} with {} entries, head {} included in the checkpoint of {} clients issued {}",
                    report.head.aggregate_type,
                    report.head.aggregate_id,
                    report.entries,
                    report.head.sequence,
                    report.statement.tree_size,
                    report.statement.issued_at
                );
                Ok(())
            }
        }
        Err(e) => Err(CommandError::Failed(anyhow!(
            "the bundle does not verify: {e}"
        ))),
    }
}

/// `kapchart checkpoint`.
pub fn checkpoint(global: &GlobalArgs, args: &CheckpointArgs) -> CommandResult {
    let secret = keys::load_or_create(&global.key_file).map_err(key_error)?;
    if args.public_key {
        println!("{}", hex::encode(public_key_of(&secret)));
        return Ok(());
    }
    runtime()?.block_on(async {
        let db = open(global).await?;
        let result = kapchart_store::audit::checkpoint(&db, &secret, &now()).await;
        db.close().await;
        match result {
            Ok(file) => print_json(&file),
            Err(CheckpointRefused::NotIntact(report)) => Err(CommandError::Failed(anyhow!(
                "no checkpoint taken: the record is not intact ({} findings, {} checkpoint problems); run kapchart verify",
                report.findings.len(),
                report.checkpoint_problems.len()
            ))),
            Err(CheckpointRefused::Store(e)) => Err(CommandError::Failed(anyhow!(e))),
        }
    })
}

/// `kapchart export`.
pub fn export(global: &GlobalArgs, args: &ExportArgs) -> CommandResult {
    let secret = keys::load_or_create(&global.key_file).map_err(key_error)?;
    runtime()?.block_on(async {
        let db = open(global).await?;
        let value = match args.format {
            ExportFormat::Bundle => {
                let bundle =
                    kapchart_store::audit::export_bundle(&db, &args.client, &secret, &now())
                        .await
                        .map_err(|e| match e {
                            ExportError::UnknownClient => {
                                CommandError::Usage(format!("no client with id {}", args.client))
                            }
                            other => CommandError::Failed(anyhow!(other)),
                        })?;
                serde_json::to_value(&bundle).context("encoding the bundle")?
            }
            ExportFormat::Json => {
                let events = db
                    .repository(kapchart_store::system_clock())
                    .events_of(kapchart_store::CLIENT_RECORD, &args.client, 0)
                    .await
                    .context("reading the client's events")?;
                if events.is_empty() {
                    return Err(CommandError::Usage(format!(
                        "no client with id {}",
                        args.client
                    )));
                }
                let entries: Vec<_> = events.into_iter().map(|e| e.stored).collect();
                serde_json::to_value(&entries).context("encoding the entries")?
            }
        };
        db.close().await;
        match &args.output {
            Some(path) => {
                let text = serde_json::to_string_pretty(&value).context("encoding JSON")?;
                std::fs::write(path, text + "\n")
                    .with_context(|| format!("writing {}", path.display()))?;
                Ok(())
            }
            None => print_json(&value),
        }
    })
}

/// `kapchart report`: catches the views up, then builds the report.
pub fn report(global: &GlobalArgs, args: &ReportArgs) -> CommandResult {
    use kapchart_views::{Period, ReportKind};
    let kind = match args.report {
        ReportName::Schedule => ReportKind::Schedule,
        ReportName::Billing => ReportKind::Billing,
        ReportName::Superbill => ReportKind::Superbill,
        ReportName::ControlledSubstances => ReportKind::ControlledSubstances,
        ReportName::Protocol => ReportKind::Protocol,
        ReportName::Outcomes => ReportKind::Outcomes,
        ReportName::Access => return not_available("report access"),
    };
    let period = Period::new(args.from, args.to).map_err(|e| CommandError::Usage(e.to_string()))?;
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
        let mut rows = Vec::new();
        for (view, row_kind) in kind.sources() {
            rows.extend(
                projector
                    .rows(*view, &[row_kind], args.client.as_deref())
                    .await
                    .context("reading the views")?,
            );
        }
        db.close().await;
        let table = kapchart_views::build_report(kind, period, args.client.as_deref(), &rows)
            .map_err(|e| CommandError::Usage(e.to_string()))?;
        let mut out = std::io::stdout().lock();
        crate::report::write(&table, args.format, &mut out)?;
        Ok(())
    })
}

/// `kapchart rebuild`.
pub fn rebuild(global: &GlobalArgs, args: &RebuildArgs) -> CommandResult {
    let views: Vec<ViewName> = match &args.view {
        Some(name) => vec![
            name.parse::<ViewName>()
                .map_err(|e| CommandError::Usage(e.to_string()))?,
        ],
        None => ViewName::ALL.to_vec(),
    };
    runtime()?.block_on(async {
        let db = open(global).await?;
        let projector = Projector::new(db.clone());
        let started = std::time::Instant::now();
        let bar = progress_bar("rebuilding");
        let report = projector
            .rebuild(&views, &|events| bar.set_position(events))
            .await
            .context("rebuilding the views")?;
        bar.finish_and_clear();
        db.close().await;
        let seconds = started.elapsed().as_secs_f64();
        for (view, generation) in &report.generations {
            println!("rebuilt {} (generation {generation})", view.as_str());
        }
        #[allow(clippy::cast_precision_loss)]
        let rate = report.events as f64 / seconds.max(1e-9);
        println!(
            "{} events, {} rows in {seconds:.1} s ({rate:.0} events/s)",
            report.events, report.rows
        );
        Ok(())
    })
}

/// `kapchart demo`.
pub fn demo(global: &GlobalArgs, args: &DemoArgs) -> CommandResult {
    let options = kapchart_demo::DemoOptions {
        clients: args.clients,
        seed: args.seed,
        start: args.start,
    };
    runtime()?.block_on(async {
        let db = open(global).await?;
        let bar = ProgressBar::new(u64::from(args.clients)).with_message("clients");
        bar.set_style(
            ProgressStyle::with_template("{bar:30} {pos}/{len} {msg} ({elapsed})")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        let result =
            kapchart_demo::generate(&db, &options, &|done| bar.set_position(u64::from(done)))
                .await;
        bar.finish_and_clear();
        db.close().await;
        let summary = match result {
            Ok(summary) => summary,
            Err(kapchart_demo::DemoError::NotEmpty) => {
                return Err(CommandError::Usage(
                    "the database already holds events: the demo writes only into an empty database"
                        .into(),
                ));
            }
            Err(e) => return Err(CommandError::Failed(anyhow!(e))),
        };
        let phases: Vec<String> = summary
            .by_phase
            .iter()
            .map(|(phase, n)| format!("{phase} {n}"))
            .collect();
        println!(
            "sample practice written: {} clients, {} commands, {} events ({} refused by the rules on purpose); phases: {}",
            summary.clients,
            summary.commands,
            summary.events,
            summary.refused,
            phases.join(", ")
        );
        Ok(())
    })
}

/// `kapchart user add`.
pub fn user_add(_global: &GlobalArgs, _args: &UserAddArgs) -> CommandResult {
    not_available("user add")
}

/// `kapchart user list`.
pub fn user_list(_global: &GlobalArgs) -> CommandResult {
    not_available("user list")
}

/// `kapchart user token`.
pub fn user_token(_global: &GlobalArgs, _args: &UserNameArg) -> CommandResult {
    not_available("user token")
}

/// `kapchart user disable`.
pub fn user_disable(_global: &GlobalArgs, _args: &UserNameArg) -> CommandResult {
    not_available("user disable")
}
