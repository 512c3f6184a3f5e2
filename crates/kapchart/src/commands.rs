//! One handler per subcommand (`serve` lives in [`crate::serve`]).

use std::io::Write as _;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context as _, anyhow};
use chrono::{SecondsFormat, Utc};
use indicatif::{ProgressBar, ProgressStyle};
use kapchart_audit::{Bundle, StoredEntry, parse_public_key, public_key_of, verify_bundle};
use kapchart_domain::ClientId;
use kapchart_projector::Projector;
use kapchart_store::Database;
use kapchart_store::access::AccessVerifyReport;
use kapchart_store::accounts::AccountError;
use kapchart_store::audit::{
    CheckpointFile, CheckpointRefused, ExportError, VerifyOptions, VerifyReport,
};
use kapchart_views::{Table, ViewName};

use crate::checkpoint_status::CheckpointStatus;
use crate::cli::{
    CheckpointArgs, DemoArgs, ExportArgs, ExportFormat, GlobalArgs, RebuildArgs, UserAddArgs,
    UserNameArg, VerifyArgs,
};
use crate::error::CommandError;
use crate::keys;

/// What every handler returns.
pub type CommandResult = Result<(), CommandError>;

/// A runtime for one command.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, CommandError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CommandError::Failed(anyhow!(e).context("starting the async runtime")))
}

/// Connects and applies the schema; an unreachable database is a usage
/// error (exit 2), with a message that never holds the password.
pub(crate) async fn open(global: &GlobalArgs) -> Result<Database, CommandError> {
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
            checkpoint: checkpoint.clone(),
            public_key: trusted,
        };
        let report = kapchart_store::audit::verify(&db, &options, &|rows| bar.set_position(rows))
            .await
            .context("verifying")?;
        // The access log is its own chain: verified with the whole record,
        // not with one client's.
        let access = match &args.client {
            Some(_) => None,
            None => Some(
                kapchart_store::access::verify(&db)
                    .await
                    .context("verifying the access log")?,
            ),
        };
        bar.finish_and_clear();
        db.close().await;
        if let Some(client) = &args.client
            && report.rows == 0
            && report.findings.is_empty()
        {
            return Err(CommandError::Usage(format!("no client with id {client}")));
        }
        // Against a checkpoint kept elsewhere: current, or behind (a stale
        // backup) and what is missing, by client.
        let status = checkpoint
            .as_ref()
            .map(|file| CheckpointStatus::of(&report, file, args.client.as_deref()));
        print_report(&report, access.as_ref(), status.as_ref(), args.json)?;
        let access_findings = access.as_ref().map_or(0, |a| a.findings.len());
        if report.is_intact() && access_findings == 0 {
            Ok(())
        } else {
            Err(CommandError::Failed(anyhow!(
                "the record is not intact: {}",
                problem_counts(&report, access_findings)
            )))
        }
    })
}

/// `N findings, N checkpoint problems[, N access log findings]`.
fn problem_counts(report: &VerifyReport, access_findings: usize) -> String {
    let counts = format!(
        "{} findings, {} checkpoint problems",
        report.findings.len(),
        report.checkpoint_problems.len()
    );
    match access_findings {
        0 => counts,
        n => format!("{counts}, {n} access log findings"),
    }
}

pub(crate) fn progress_bar(message: &'static str) -> ProgressBar {
    let bar = ProgressBar::new_spinner().with_message(message);
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg}: {pos} events ({per_sec})")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

pub(crate) fn read_checkpoint(path: &Path) -> Result<CheckpointFile, CommandError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CommandError::Usage(format!("--checkpoint {}: {e}", path.display())))?;
    serde_json::from_str(&text).map_err(|e| {
        CommandError::Usage(format!(
            "--checkpoint {}: not a kapchart checkpoint ({e})",
            path.display()
        ))
    })
}

/// Prints what `verify` found: the record's findings, the checkpoint
/// problems and the access log's findings, one per line, then a summary
/// line; or all of it as one JSON object. The access log (`access`, none
/// when one client was verified) adds to the summary only when it holds
/// entries, so the output for a log that is empty is as it always was.
fn print_report(
    report: &VerifyReport,
    access: Option<&AccessVerifyReport>,
    status: Option<&CheckpointStatus>,
    json: bool,
) -> CommandResult {
    let access_findings = access.map_or(0, |a| a.findings.len());
    let intact = report.is_intact() && access_findings == 0;
    if json {
        let mut value = serde_json::json!({
            "intact": intact,
            "events": report.rows,
            "clients": report.aggregates,
            "checkpoints": report.checkpoints,
            "findings": report.findings,
            "checkpoint_problems": report.checkpoint_problems,
            "access_log": access.map(|a| serde_json::json!({
                "intact": a.is_intact(),
                "entries": a.entries,
                "head": a.head,
                "findings": a.findings,
            })),
        });
        if let Some(status) = status {
            value["checkpoint"] = serde_json::to_value(status).context("encoding JSON")?;
        }
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
    for f in access.map(|a| a.findings.as_slice()).unwrap_or_default() {
        writeln!(out, "{f}").context("writing to stdout")?;
    }
    if let Some(status) = status {
        status.write_text(&mut out).context("writing to stdout")?;
    }
    let verdict = if intact {
        "intact".to_owned()
    } else {
        format!("NOT INTACT: {}", problem_counts(report, access_findings))
    };
    let what = match access.map_or(0, |a| a.entries) {
        0 => format!(
            "{} events of {} clients and {} checkpoints",
            report.rows, report.aggregates, report.checkpoints
        ),
        entries => format!(
            "{} events of {} clients, {} checkpoints and {entries} access log entries",
            report.rows, report.aggregates, report.checkpoints
        ),
    };
    writeln!(out, "verified {what}: {verdict}").context("writing to stdout")?;
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
    if args.rotate_key || args.list_keys {
        return signing_keys(global, args.rotate_key);
    }
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
            Err(CheckpointRefused::Key(e)) => Err(CommandError::Failed(anyhow!(e))),
            Err(CheckpointRefused::Store(e)) => Err(CommandError::Failed(anyhow!(e))),
        }
    })
}

/// `kapchart checkpoint --rotate-key` and `--list-keys`: rotates the key
/// (the change written to the access log) or only lists; prints the
/// published keys as JSON.
fn signing_keys(global: &GlobalArgs, rotate: bool) -> CommandResult {
    use kapchart_store::signing_keys::{self, KeyError};
    let actor = if rotate {
        Some(crate::local_user::actor()?)
    } else {
        None
    };
    runtime()?.block_on(async {
        let db = open(global).await?;
        if let Some(actor) = &actor {
            let at = Utc::now();
            let rotation = signing_keys::rotate(
                &db,
                &global.key_file,
                actor,
                "cli checkpoint --rotate-key",
                at,
            )
            .await
            .map_err(|e| match e {
                KeyError::File { .. } => CommandError::Usage(e.to_string()),
                other => CommandError::Failed(anyhow!(other)),
            })?;
            eprintln!(
                "rotated the signing key: key {} ({}) is in use from {}{}",
                rotation.current.number,
                rotation.current.key_id,
                rotation.current.in_use_from,
                rotation
                    .retired
                    .as_ref()
                    .map_or_else(String::new, |r| format!(
                        "; key {} is retired and stays published",
                        r.number
                    ))
            );
        }
        let keys = signing_keys::published(&db)
            .await
            .context("reading the published keys")?;
        db.close().await;
        print_json(&keys)
    })
}

/// `kapchart export`.
pub fn export(global: &GlobalArgs, args: &ExportArgs) -> CommandResult {
    // A FHIR export signs nothing: it needs no key.
    let secret = match args.format {
        ExportFormat::Fhir => None,
        ExportFormat::Bundle | ExportFormat::Json => {
            Some(keys::load_or_create(&global.key_file).map_err(key_error)?)
        }
    };
    let client =
        ClientId::parse(&args.client).map_err(|e| CommandError::Usage(format!("--client: {e}")))?;
    let unknown = || CommandError::Usage(format!("no client with id {}", args.client));
    runtime()?.block_on(async {
        let db = open(global).await?;
        // What leaves: made now, or (FHIR) after the export is logged, so
        // that the Bundle's AuditEvents end with this export.
        enum Pending {
            Ready(serde_json::Value),
            Fhir(Vec<kapchart_store::FeedEvent>),
        }
        let (pending, entries) = match args.format {
            ExportFormat::Bundle => {
                let secret = secret
                    .as_ref()
                    .context("the checkpoint key, loaded for a bundle")?;
                let bundle =
                    kapchart_store::audit::export_bundle(&db, &args.client, secret, &now())
                        .await
                        .map_err(|e| match e {
                            ExportError::UnknownClient => unknown(),
                            other => CommandError::Failed(anyhow!(other)),
                        })?;
                let entries: Vec<_> = bundle.entries.iter().map(StoredEntry::to_json).collect();
                (
                    Pending::Ready(serde_json::to_value(&bundle).context("encoding the bundle")?),
                    entries,
                )
            }
            ExportFormat::Json => {
                let events = db
                    .repository(kapchart_store::system_clock())
                    .events_of(kapchart_store::CLIENT_RECORD, &args.client, 0)
                    .await
                    .context("reading the client's events")?;
                if events.is_empty() {
                    return Err(unknown());
                }
                let stored: Vec<_> = events.into_iter().map(|e| e.stored).collect();
                (
                    Pending::Ready(serde_json::to_value(&stored).context("encoding the entries")?),
                    stored.iter().map(StoredEntry::to_json).collect(),
                )
            }
            ExportFormat::Fhir => {
                let events = kapchart_api::fhir::client_events(&db, &client)
                    .await
                    .map_err(|e| match e {
                        kapchart_api::fhir::FhirExportError::UnknownClient => unknown(),
                        other => CommandError::Failed(
                            anyhow!(other).context("reading the client's events"),
                        ),
                    })?;
                let entries = events.iter().map(|e| e.stored.to_json()).collect();
                (Pending::Fhir(events), entries)
            }
        };
        // An export is a read of the client's record: logged before the
        // record leaves, and nothing leaves if it cannot be logged.
        let entry = kapchart_store::access::AccessEntry {
            at: Utc::now(),
            actor: crate::local_user::actor()?,
            action: kapchart_store::access::AccessAction::Export,
            client_id: Some(client.clone()),
            // What the export holds, as the API's complete history (its
            // FHIR export: the same, but billing).
            categories: match args.format {
                ExportFormat::Fhir => kapchart_api::fhir::export_categories(&entries),
                ExportFormat::Bundle | ExportFormat::Json => {
                    kapchart_api::disclosure::history_categories(&entries)
                }
            },
            source: format!(
                "cli export --client {} --format {}",
                args.client,
                match args.format {
                    ExportFormat::Bundle => "bundle",
                    ExportFormat::Json => "json",
                    ExportFormat::Fhir => "fhir",
                }
            ),
            purpose: args.purpose.clone(),
        };
        kapchart_store::access::append(&db, &entry)
            .await
            .map_err(|e| match e {
                kapchart_store::StoreError::Invalid { field, rule } => {
                    CommandError::Usage(format!("--{field}: {rule}"))
                }
                other => CommandError::Failed(anyhow!(other).context("writing the access log")),
            })?;
        let value = match pending {
            Pending::Ready(value) => value,
            Pending::Fhir(events) => {
                let settings = kapchart_store::practice::load(&db)
                    .await
                    .context("reading the practice's settings")?
                    .settings();
                kapchart_api::fhir::client_fhir_bundle(&db, &client, &events, &settings)
                    .await
                    .map_err(|e| {
                        CommandError::Failed(anyhow!(e).context("building the FHIR bundle"))
                    })?
            }
        };
        db.close().await;
        match &args.output {
            Some(path) => {
                // It holds PHI: readable by its owner only, like the key.
                let text = serde_json::to_string_pretty(&value).context("encoding JSON")?;
                kapchart_store::private_file::create(path)
                    .and_then(|mut file| {
                        file.write_all(text.as_bytes())?;
                        file.write_all(b"\n")?;
                        file.sync_all()
                    })
                    .with_context(|| format!("writing {}", path.display()))?;
                Ok(())
            }
            None => print_json(&value),
        }
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
        accounts_by: Some(crate::local_user::actor()?),
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

/// The request's errors are usage errors (exit 2), naming the flag where
/// there is one; the rest are failures.
fn account_error(e: AccountError) -> CommandError {
    match e {
        AccountError::Invalid {
            field: "display_name",
            rule,
        } => CommandError::Usage(format!("--display-name: {rule}")),
        e if e.is_user_error() => CommandError::Usage(e.to_string()),
        e => CommandError::Failed(anyhow!(e)),
    }
}

/// Prints a token alone on its line on stdout.
fn print_token(token: &str) -> CommandResult {
    print_lines(&[token])
}

/// Prints each secret alone on its line on stdout.
fn print_lines(lines: &[&str]) -> CommandResult {
    let mut out = std::io::stdout().lock();
    for line in lines {
        writeln!(out, "{line}").context("writing to stdout")?;
    }
    out.flush().context("writing to stdout")?;
    Ok(())
}

/// `kapchart user add`: the account, its first token and its setup code,
/// printed once (the token on line 1, the setup code on line 2).
pub fn user_add(global: &GlobalArgs, args: &UserAddArgs) -> CommandResult {
    let actor = crate::local_user::actor()?;
    runtime()?.block_on(async {
        let db = open(global).await?;
        let added = kapchart_store::credentials::add_user_with_setup_code(
            &db,
            &args.name,
            args.role,
            args.display_name.as_deref(),
            &actor,
            "cli user add",
            Utc::now(),
        )
        .await;
        db.close().await;
        let (account, issued, setup) = added.map_err(account_error)?;
        print_lines(&[&issued.token, &setup.code])?;
        eprintln!(
            "added user {} as {}; on stdout, shown only this once: line 1 is its API token (expires {}), line 2 its setup code for the web pages (/setup; works once, until {})",
            account.user_id,
            account.role.as_str(),
            issued.expires_at.format("%Y-%m-%d"),
            setup.expires_at.format("%Y-%m-%d %H:%M UTC")
        );
        Ok(())
    })
}

/// `kapchart user list`: id, role, display name and status; no tokens.
pub fn user_list(global: &GlobalArgs) -> CommandResult {
    runtime()?.block_on(async {
        let db = open(global).await?;
        let users = kapchart_store::accounts::list_users(&db)
            .await
            .context("reading the user accounts")?;
        db.close().await;
        let table = Table {
            columns: vec!["user_id", "role", "display_name", "status"],
            rows: users
                .into_iter()
                .map(|a| {
                    vec![
                        serde_json::json!(a.user_id),
                        serde_json::json!(a.role.as_str()),
                        serde_json::json!(a.display_name),
                        serde_json::json!(if a.disabled { "disabled" } else { "active" }),
                    ]
                })
                .collect(),
        };
        let mut out = std::io::stdout().lock();
        crate::report::write(&table, crate::cli::ReportFormat::Table, &mut out)?;
        Ok(())
    })
}

/// `kapchart user token`: a new token for the user, printed once.
pub fn user_token(global: &GlobalArgs, args: &UserNameArg) -> CommandResult {
    let actor = crate::local_user::actor()?;
    runtime()?.block_on(async {
        let db = open(global).await?;
        let issued = kapchart_store::accounts::issue_token_from(
            &db,
            &args.name,
            &actor,
            "cli user token",
            Utc::now(),
        )
        .await;
        db.close().await;
        let issued = issued.map_err(account_error)?;
        print_token(&issued.token)?;
        eprintln!(
            "issued a new API token for {} (on stdout), shown only this once; it expires {}",
            args.name,
            issued.expires_at.format("%Y-%m-%d")
        );
        Ok(())
    })
}

/// `kapchart user disable`: the account and all its tokens.
pub fn user_disable(global: &GlobalArgs, args: &UserNameArg) -> CommandResult {
    let actor = crate::local_user::actor()?;
    runtime()?.block_on(async {
        let db = open(global).await?;
        let done = kapchart_store::accounts::disable_user_from(
            &db,
            &args.name,
            &actor,
            "cli user disable",
            Utc::now(),
        )
        .await;
        db.close().await;
        done.map_err(account_error)?;
        println!("disabled user {}; its tokens are revoked", args.name);
        Ok(())
    })
}

/// `kapchart user reset`: clears the user's password and second factor,
/// ends their web sessions, and prints a new setup code once.
pub fn user_reset(global: &GlobalArgs, args: &UserNameArg) -> CommandResult {
    let actor = crate::local_user::actor()?;
    runtime()?.block_on(async {
        let db = open(global).await?;
        let done = kapchart_store::credentials::reset(
            &db,
            &args.name,
            &actor,
            "cli user reset",
            Utc::now(),
        )
        .await;
        db.close().await;
        let setup = done.map_err(account_error)?;
        print_token(&setup.code)?;
        eprintln!(
            "reset the web sign-in of {}: password and second factor cleared, web sessions ended; its new setup code (on stdout) is shown only this once and works once, until {}",
            args.name,
            setup.expires_at.format("%Y-%m-%d %H:%M UTC")
        );
        Ok(())
    })
}
