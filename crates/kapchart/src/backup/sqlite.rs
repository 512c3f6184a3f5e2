//! SQLite: the online backup API (`sqlite3_backup_*`, through rusqlite).
//!
//! The whole database is copied in one `sqlite3_backup_step(-1)`, which
//! holds one read transaction on the source for the copy: the copy is the
//! database as of one commit, whatever `kapchart serve` writes meanwhile.
//! In WAL mode (the store's) a reader never blocks the writer, so the
//! server goes on taking commands while the copy is made. The copy is then
//! switched to a rollback journal, so the backup is one self-contained
//! file, and checked with `PRAGMA integrity_check`.

use std::fs::OpenOptions;
use std::io;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};
use std::str::FromStr as _;
use std::time::Duration;

use anyhow::{Context as _, anyhow};
use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags, OptionalExtension as _};
use sqlx::sqlite::SqliteConnectOptions;

use super::Contents;
use crate::error::CommandError;

/// How long one step waits for a lock another connection holds (the
/// store's own busy timeout).
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// How many times a step that found the database locked is tried again
/// (each try having waited [`BUSY_TIMEOUT`]).
const STEP_TRIES: u32 = 3;

/// The database file a `sqlite:` URL names.
pub(super) fn path_of(url: &str) -> Result<PathBuf, CommandError> {
    let options = SqliteConnectOptions::from_str(url)
        .map_err(|_| CommandError::Usage("the sqlite --database-url cannot be read".into()))?;
    let path = options.get_filename();
    if path.as_os_str() == ":memory:" || url.contains("mode=memory") {
        return Err(CommandError::Usage(
            "an in-memory database has nothing to back up or restore into: name a file".into(),
        ));
    }
    Ok(path.to_path_buf())
}

fn failed(what: &'static str) -> impl FnOnce(rusqlite::Error) -> CommandError {
    move |e| CommandError::Failed(anyhow!(e).context(what))
}

/// Opens an existing database file (never creating one).
fn open_existing(path: &Path, flags: OpenFlags) -> Result<Connection, CommandError> {
    if !path.is_file() {
        return Err(CommandError::Usage(format!(
            "no database file at {}",
            path.display()
        )));
    }
    let conn = Connection::open_with_flags(path, flags | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .map_err(|e| CommandError::Usage(format!("{}: {e}", path.display())))?;
    conn.busy_timeout(BUSY_TIMEOUT)
        .map_err(failed("setting the busy timeout"))?;
    Ok(conn)
}

/// Copies every page of `from` into `to` in one step: one read
/// transaction of the source, one write transaction of the destination.
fn copy(from: &Connection, to: &mut Connection) -> Result<(), CommandError> {
    let backup = Backup::new(from, to).map_err(failed("starting the backup"))?;
    for _ in 0..STEP_TRIES {
        // Busy or locked for longer than the busy timeout, or (not with
        // -1) pages left: step again, a bounded number of times.
        if backup.step(-1).map_err(failed("copying the database"))? == StepResult::Done {
            return Ok(());
        }
    }
    Err(CommandError::Failed(anyhow!(
        "the database stayed locked by another connection: try again"
    )))
}

/// The tables of a database, and whether it holds kapchart's events.
fn tables(conn: &Connection) -> Result<(u64, bool), CommandError> {
    let (tables, events): (i64, i64) = conn
        .query_row(
            "SELECT count(*), count(*) FILTER (WHERE name = 'events') \
             FROM sqlite_master WHERE type = 'table'",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .map_err(failed("reading the list of tables"))?;
    Ok((u64::try_from(tables).unwrap_or(0), events > 0))
}

/// What a kapchart database holds.
fn contents(conn: &Connection) -> Result<Contents, CommandError> {
    let (events, clients): (i64, i64) = conn
        .query_row(
            "SELECT count(*), count(DISTINCT aggregate_id) FROM events WHERE aggregate_type = ?1",
            [kapchart_store::CLIENT_RECORD],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .map_err(failed("counting the events"))?;
    let checkpoint: Option<(i64, Option<String>)> = conn
        .query_row(
            "SELECT number, json_extract(statement, '$.issued_at') FROM checkpoints \
             ORDER BY number DESC LIMIT 1",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()
        .map_err(failed("reading the checkpoint log"))?;
    Ok(Contents {
        events: u64::try_from(events).unwrap_or(0),
        clients: u64::try_from(clients).unwrap_or(0),
        checkpoint: checkpoint
            .map(|(n, at)| (u64::try_from(n).unwrap_or(0), at.unwrap_or_default())),
    })
}

/// `PRAGMA integrity_check` answers `ok`.
fn check_integrity(conn: &Connection, what: &Path) -> Result<(), CommandError> {
    let answer: String = conn
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .map_err(|e| {
            CommandError::Failed(anyhow!(e).context(format!("{} is damaged", what.display())))
        })?;
    if answer == "ok" {
        Ok(())
    } else {
        Err(CommandError::Failed(anyhow!(
            "{} is damaged: SQLite's integrity check failed",
            what.display()
        )))
    }
}

/// Copies the database at `source` into `out` (an empty 0600 file).
pub(super) fn backup(source: &Path, out: &Path) -> Result<Contents, CommandError> {
    let from = open_existing(source, OpenFlags::SQLITE_OPEN_READ_WRITE)?;
    if !tables(&from)?.1 {
        return Err(CommandError::Usage(format!(
            "{} is not a kapchart database (it has no events table)",
            source.display()
        )));
    }
    let mut to = open_existing(out, OpenFlags::SQLITE_OPEN_READ_WRITE)?;
    copy(&from, &mut to)?;
    drop(from);
    // One self-contained file: no -wal beside it.
    let _: String = to
        .query_row("PRAGMA journal_mode = DELETE", [], |row| row.get(0))
        .map_err(failed("setting the backup's journal mode"))?;
    check_integrity(&to, out)?;
    let contents = contents(&to)?;
    to.close()
        .map_err(|(_, e)| CommandError::Failed(anyhow!(e).context("closing the backup")))?;
    Ok(contents)
}

/// Copies the backup `file` into the database at `target`, created 0600
/// when missing; one that holds tables only with `force`.
pub(super) fn restore(file: &Path, target: &Path, force: bool) -> Result<(), CommandError> {
    let from = open_existing(file, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    check_integrity(&from, file)?;
    if !tables(&from)?.1 {
        return Err(CommandError::Usage(format!(
            "{} is not a kapchart backup (it has no events table)",
            file.display()
        )));
    }
    create_private(target)
        .with_context(|| format!("creating {}", target.display()))
        .map_err(|e| CommandError::Usage(format!("{e:#}")))?;
    let mut to = open_existing(target, OpenFlags::SQLITE_OPEN_READ_WRITE)?;
    let (held, _) = tables(&to)?;
    if held > 0 && !force {
        return Err(CommandError::Usage(format!(
            "the database {} is not empty ({held} tables): restore writes only into an empty database; pass --force to replace it",
            target.display()
        )));
    }
    copy(&from, &mut to)?;
    to.close()
        .map_err(|(_, e)| CommandError::Failed(anyhow!(e).context("closing the database")))?;
    Ok(())
}

/// Creates `path` empty with mode 0600 when missing; makes an existing one
/// and its `-wal` and `-shm` files the owner's only.
fn create_private(path: &Path) -> io::Result<()> {
    match OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(kapchart_store::private_file::PRIVATE_MODE)
        .open(path)
    {
        Ok(_) => return Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e),
    }
    for suffix in ["", "-wal", "-shm"] {
        kapchart_store::private_file::restrict(&super::with_suffix(path, suffix))?;
    }
    Ok(())
}
