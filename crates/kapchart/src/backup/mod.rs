//! `kapchart backup` and `kapchart restore` (docs/reliability.md, "Backup
//! and restore").
//!
//! SQLite: SQLite's online backup API ([`sqlite`]), a consistent copy
//! while `kapchart serve` goes on writing. PostgreSQL: `pg_dump` in its
//! custom format and `pg_restore` ([`postgres`]). A backup holds PHI: it
//! is written readable by its owner only (0600), under a temporary name
//! first and renamed once complete, so a backup file is never half
//! written. The checkpoint signing key is not in it: its file is kept, and
//! backed up, apart from the database.
//!
//! A backup is an export of every client's record: it is written to the
//! access log (action `export`, no client: all of them) before the copy is
//! made, so the copy holds its own entry, and no copy is made that could
//! not be logged. A restore writes only into an empty database unless
//! `--force`, then verifies what it restored and logs the restore in the
//! restored access log (action `change`). Whether the backup was current is for
//! `kapchart verify --checkpoint` against the latest checkpoint kept
//! elsewhere to say.

mod postgres;
mod sqlite;

use std::fs::File;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, anyhow};
use clap::Args;
use kapchart_store::Database;
use kapchart_store::audit::VerifyOptions;

use crate::cli::GlobalArgs;
use crate::commands::{CommandResult, runtime};
use crate::database_url::DatabaseKind;
use crate::error::CommandError;

/// Arguments of `kapchart backup`.
#[derive(Debug, Args)]
pub struct BackupArgs {
    /// The file to write: a SQLite database file for a SQLite database, a
    /// pg_dump custom-format archive for PostgreSQL. Readable and writable
    /// by its owner only (0600).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    /// Replace FILE if it exists.
    #[arg(long)]
    pub force: bool,
}

/// Arguments of `kapchart restore`.
#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// A backup written by `kapchart backup` of the same engine as
    /// --database-url.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    /// Restore into a database that already holds tables, replacing what
    /// the backup holds (without it, restore writes only into an empty
    /// database).
    #[arg(long)]
    pub force: bool,
}

/// What a backup holds, read from the backup's own snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Contents {
    /// Events of client records.
    pub events: u64,
    /// Clients with at least one event.
    pub clients: u64,
    /// The latest checkpoint of its log: number and time issued.
    pub checkpoint: Option<(u64, String)>,
}

impl Contents {
    fn describe(&self) -> String {
        let latest = match &self.checkpoint {
            Some((number, issued_at)) => {
                format!("its latest checkpoint is number {number}, of {issued_at}")
            }
            None => "no checkpoint yet".to_owned(),
        };
        format!(
            "{} events of {} clients; {latest}",
            self.events, self.clients
        )
    }
}

/// The engine a backup file was written by, from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BackupKind {
    Sqlite,
    Postgres,
}

/// `kapchart backup`.
pub fn backup(global: &GlobalArgs, args: &BackupArgs) -> CommandResult {
    let out = &args.file;
    if out.exists() && !args.force {
        return Err(CommandError::Usage(format!(
            "{} exists: pass --force to replace it",
            out.display()
        )));
    }
    let source = match global.database_url.kind() {
        DatabaseKind::Sqlite => {
            let source = sqlite::path_of(global.database_url.as_str())?;
            if same_file(&source, out) {
                return Err(CommandError::Usage(
                    "the backup file is the database itself: name another file".into(),
                ));
            }
            if !source.is_file() {
                return Err(CommandError::Usage(format!(
                    "no database file at {}",
                    source.display()
                )));
            }
            Some(source)
        }
        DatabaseKind::Postgres => None,
    };
    let rt = runtime()?;
    rt.block_on(log(
        global,
        kapchart_store::access::AccessAction::Export,
        "cli backup",
        "operations: a backup of every client's record",
    ))?;
    let partial = with_suffix(out, ".partial");
    // Created (or emptied) private before anything is written to it.
    kapchart_store::private_file::create(&partial)
        .map_err(|e| CommandError::Usage(format!("{}: {e}", partial.display())))?;
    let made = match &source {
        Some(source) => sqlite::backup(source, &partial),
        None => rt.block_on(postgres::backup(global, &partial)),
    };
    let contents = match made.and_then(|c| finish(&partial, out).map(|()| c)) {
        Ok(contents) => contents,
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            return Err(e);
        }
    };
    println!(
        "backed up {} to {} (readable by its owner only): {}",
        global.database_url.redacted(),
        out.display(),
        contents.describe()
    );
    eprintln!(
        "the signing key ({}) is not in the backup: keep a copy of it apart from the database and its backups",
        global.key_file.display()
    );
    Ok(())
}

/// Makes the complete backup durable under its final name.
fn finish(partial: &Path, out: &Path) -> Result<(), CommandError> {
    let durable = || -> std::io::Result<()> {
        File::open(partial)?.sync_all()?;
        std::fs::rename(partial, out)?;
        let dir = match out.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        File::open(dir)?.sync_all()
    };
    durable()
        .with_context(|| format!("writing {}", out.display()))
        .map_err(CommandError::Failed)
}

/// `kapchart restore`.
pub fn restore(global: &GlobalArgs, args: &RestoreArgs) -> CommandResult {
    let file = &args.file;
    let kind = backup_kind(file)?;
    let url = &global.database_url;
    match (kind, url.kind()) {
        (BackupKind::Sqlite, DatabaseKind::Sqlite) => {
            let target = sqlite::path_of(url.as_str())?;
            if same_file(&target, file) {
                return Err(CommandError::Usage(
                    "the backup file is the target database itself".into(),
                ));
            }
            sqlite::restore(file, &target, args.force)?;
        }
        (BackupKind::Postgres, DatabaseKind::Postgres) => {
            runtime()?.block_on(postgres::restore(global, file, args.force))?;
        }
        (BackupKind::Sqlite, DatabaseKind::Postgres) => {
            return Err(CommandError::Usage(format!(
                "{} is a SQLite backup: restore it with a sqlite: --database-url",
                file.display()
            )));
        }
        (BackupKind::Postgres, DatabaseKind::Sqlite) => {
            return Err(CommandError::Usage(format!(
                "{} is a PostgreSQL backup (pg_dump): restore it with a postgres:// --database-url",
                file.display()
            )));
        }
    }
    runtime()?.block_on(verify_restored(global, file))
}

/// Opens the restored database (applying any newer migrations), verifies
/// every chain, the checkpoint log and the access log, and says what it
/// holds.
async fn verify_restored(global: &GlobalArgs, file: &Path) -> CommandResult {
    let db = crate::commands::open(global).await?;
    let report = kapchart_store::audit::verify(&db, &VerifyOptions::default(), &|_| {})
        .await
        .context("verifying the restored database")?;
    let access = kapchart_store::access::verify(&db)
        .await
        .context("verifying the restored access log")?;
    let latest = kapchart_store::audit::load_checkpoints(&db)
        .await
        .context("reading the checkpoint log")?
        .pop()
        .map(|c| (c.number, c.checkpoint.statement.issued_at));
    db.close().await;
    let contents = Contents {
        events: report.rows,
        clients: report.aggregates,
        checkpoint: latest,
    };
    if !report.is_intact() || !access.is_intact() {
        return Err(CommandError::Failed(anyhow!(
            "restored {} into {}, but it is not intact ({} findings, {} checkpoint problems, {} access log findings): run kapchart verify",
            file.display(),
            global.database_url.redacted(),
            report.findings.len(),
            report.checkpoint_problems.len(),
            access.findings.len()
        )));
    }
    log(
        global,
        kapchart_store::access::AccessAction::Change,
        "cli restore",
        "operations: every client's record restored from a backup",
    )
    .await?;
    println!(
        "restored {} into {}: {}, {} access log entries; verified: intact",
        file.display(),
        global.database_url.redacted(),
        contents.describe(),
        access.entries
    );
    eprintln!(
        "to tell whether the backup was current, run kapchart verify --checkpoint with the latest checkpoint kept elsewhere"
    );
    Ok(())
}

/// Which engine wrote `file`: SQLite's header, or pg_dump's custom format.
fn backup_kind(file: &Path) -> Result<BackupKind, CommandError> {
    let mut head = [0_u8; 16];
    let read = File::open(file)
        .and_then(|mut f| {
            let mut n = 0;
            while n < head.len() {
                match f.read(&mut head[n..])? {
                    0 => break,
                    k => n += k,
                }
            }
            Ok(n)
        })
        .map_err(|e| CommandError::Usage(format!("{}: {e}", file.display())))?;
    let head = &head[..read];
    if head == b"SQLite format 3\0" {
        Ok(BackupKind::Sqlite)
    } else if head.starts_with(b"PGDMP") {
        Ok(BackupKind::Postgres)
    } else {
        Err(CommandError::Usage(format!(
            "{} is not a kapchart backup (neither a SQLite database nor a pg_dump custom-format archive)",
            file.display()
        )))
    }
}

/// `path` with `suffix` added to its file name.
fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Both paths name one existing file.
fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// Appends an entry about every client's record (no client; every
/// clinical category) to the access log, as the operating-system user
/// running kapchart.
async fn log(
    global: &GlobalArgs,
    action: kapchart_store::access::AccessAction,
    source: &str,
    purpose: &str,
) -> CommandResult {
    use kapchart_store::access::DataCategory;
    let entry = kapchart_store::access::AccessEntry {
        at: chrono::Utc::now(),
        actor: crate::local_user::actor()?,
        action,
        client_id: None,
        categories: vec![
            DataCategory::Demographics,
            DataCategory::Notes,
            DataCategory::Dosing,
            DataCategory::Billing,
        ],
        source: source.to_owned(),
        purpose: purpose.to_owned(),
    };
    let db = connect(global).await?;
    let logged = kapchart_store::access::append(&db, &entry).await;
    db.close().await;
    logged
        .map(|_| ())
        .context("writing the access log")
        .map_err(CommandError::Failed)
}

/// Connects without migrating: a backup changes nothing in its source but
/// its access log.
async fn connect(global: &GlobalArgs) -> Result<Database, CommandError> {
    Database::connect(global.database_url.as_str())
        .await
        .map_err(|e| CommandError::Usage(format!("{} ({})", e, global.database_url.redacted())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_backup_is_known_by_its_first_bytes() {
        let dir = tempfile::tempdir().expect("temp dir");
        let write = |name: &str, bytes: &[u8]| {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).expect("written");
            path
        };
        let sqlite = write("a.db", b"SQLite format 3\0rest of the header");
        let pg = write("a.dump", b"PGDMP\x01\x0f\x00");
        let other = write("a.txt", b"hello");
        let empty = write("e", b"");
        assert_eq!(backup_kind(&sqlite).expect("known"), BackupKind::Sqlite);
        assert_eq!(backup_kind(&pg).expect("known"), BackupKind::Postgres);
        for path in [other, empty] {
            let e = backup_kind(&path).expect_err("not a backup").to_string();
            assert!(e.contains("is not a kapchart backup"), "{e}");
        }
        let e = backup_kind(&dir.path().join("missing"))
            .expect_err("missing")
            .to_string();
        assert!(e.contains("missing"), "{e}");
    }
}
