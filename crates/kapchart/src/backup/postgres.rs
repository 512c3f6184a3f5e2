//! PostgreSQL: `pg_dump --format=custom` and `pg_restore`.
//!
//! The tools are found on PATH, else in the newest
//! `/usr/lib/postgresql/*/bin` (Debian's layout). They are given the URL
//! without its password, and the password in their environment
//! (`PGPASSWORD`), never on their command line, where any user of the
//! machine could read it in the process list.
//!
//! The dump is taken in a snapshot this command exports (`pg_dump
//! --snapshot`): what the command reports of the backup (events, clients,
//! latest checkpoint) is read in the very snapshot dumped, while the
//! server goes on writing.

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context as _, anyhow};
use kapchart_store::Database;
use percent_encoding::percent_decode_str;
use url::Url;

use super::Contents;
use crate::cli::GlobalArgs;
use crate::database_url::redact_urls_in_text;
use crate::error::CommandError;

/// Where Debian installs each major version's programs.
const DEBIAN_PG_LIB: &str = "/usr/lib/postgresql";

/// A libpq connection without its password, and the password apart.
struct Target {
    /// The URL with no password in it (user info nor query).
    url: String,
    /// The password, for `PGPASSWORD`.
    password: Option<String>,
}

impl Target {
    fn parse(url: &str) -> Result<Self, CommandError> {
        let unreadable =
            || CommandError::Usage("the PostgreSQL --database-url cannot be read".into());
        let mut parsed = Url::parse(url).map_err(|_| unreadable())?;
        let mut password = parsed
            .password()
            .map(|p| percent_decode_str(p).decode_utf8_lossy().into_owned());
        parsed.set_password(None).map_err(|()| unreadable())?;
        let pairs: Vec<(String, String)> = parsed.query_pairs().into_owned().collect();
        if pairs
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("password"))
        {
            let mut kept = Vec::new();
            for (key, value) in pairs {
                if key.eq_ignore_ascii_case("password") {
                    password = Some(value);
                } else {
                    kept.push((key, value));
                }
            }
            if kept.is_empty() {
                parsed.set_query(None);
            } else {
                parsed.query_pairs_mut().clear().extend_pairs(kept);
            }
        }
        Ok(Target {
            url: parsed.into(),
            password,
        })
    }
}

/// Runs `tool` with `args` (and, given a target, `--dbname` and the
/// password in its environment), stdin closed, stdout to `stdout`; its
/// stderr becomes the error (passwords of any URLs in it redacted).
fn run(
    tool: &Path,
    args: &[&str],
    target: Option<&Target>,
    stdout: Stdio,
) -> Result<(), CommandError> {
    let name = tool.file_name().map_or_else(
        || tool.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let mut cmd = Command::new(tool);
    cmd.env_remove("DATABASE_URL")
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(Stdio::piped());
    if let Some(target) = target {
        cmd.arg("--no-password")
            .arg(format!("--dbname={}", target.url));
        if let Some(password) = &target.password {
            cmd.env("PGPASSWORD", password);
        }
    }
    cmd.args(args);
    let out = cmd
        .output()
        .with_context(|| format!("running {}", tool.display()))?;
    if out.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let said: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    let said = said[said.len().saturating_sub(3)..].join("; ");
    Err(CommandError::Failed(anyhow!(
        "{name} failed ({}): {}",
        out.status,
        redact_urls_in_text(&said)
    )))
}

/// `name` on PATH, else in the newest `/usr/lib/postgresql/N/bin`.
fn find_tool(name: &str) -> Result<PathBuf, CommandError> {
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .map(|dir| dir.join(name))
        .find(|p| is_executable(p));
    if let Some(path) = on_path {
        return Ok(path);
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir(DEBIAN_PG_LIB)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let version = entry
                .file_name()
                .to_string_lossy()
                .split('.')
                .next()?
                .parse()
                .ok()?;
            let tool = entry.path().join("bin").join(name);
            is_executable(&tool).then_some((version, tool))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, p)| p).ok_or_else(|| {
        CommandError::Failed(anyhow!(
            "{name} was not found on PATH nor in {DEBIAN_PG_LIB}/*/bin: install PostgreSQL's client programs (Debian: postgresql-client) of the server's major version or newer"
        ))
    })
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

fn query_failed(what: &'static str) -> impl FnOnce(sqlx::Error) -> CommandError {
    move |e| CommandError::Failed(anyhow!(e).context(what))
}

/// The pool of a database `--database-url` named as PostgreSQL.
fn postgres_pool(db: &Database) -> Result<&sqlx::PgPool, CommandError> {
    match db {
        Database::Postgres(pool) => Ok(pool),
        Database::Sqlite(_) => Err(CommandError::Failed(anyhow!(
            "expected a PostgreSQL database"
        ))),
    }
}

/// Dumps the database into `out` (an empty 0600 file) with pg_dump.
pub(super) async fn backup(global: &GlobalArgs, out: &Path) -> Result<Contents, CommandError> {
    let tool = find_tool("pg_dump")?;
    let target = Target::parse(global.database_url.as_str())?;
    let db = super::connect(global).await?;
    let pool = postgres_pool(&db)?;
    // One snapshot for what is reported and what is dumped.
    let mut tx = pool
        .begin()
        .await
        .map_err(query_failed("starting a transaction"))?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *tx)
        .await
        .map_err(query_failed("starting a snapshot"))?;
    let snapshot: String = sqlx::query_scalar("SELECT pg_export_snapshot()")
        .fetch_one(&mut *tx)
        .await
        .map_err(query_failed("exporting the snapshot"))?;
    let has_events: bool = sqlx::query_scalar("SELECT to_regclass('events') IS NOT NULL")
        .fetch_one(&mut *tx)
        .await
        .map_err(query_failed("reading the list of tables"))?;
    if !has_events {
        return Err(CommandError::Usage(format!(
            "{} is not a kapchart database (it has no events table)",
            global.database_url.redacted()
        )));
    }
    let (events, clients): (i64, i64) = sqlx::query_as(
        "SELECT count(*), count(DISTINCT aggregate_id) FROM events WHERE aggregate_type = $1",
    )
    .bind(kapchart_store::CLIENT_RECORD)
    .fetch_one(&mut *tx)
    .await
    .map_err(query_failed("counting the events"))?;
    let checkpoint: Option<(i64, Option<String>)> = sqlx::query_as(
        "SELECT number, statement->>'issued_at' FROM checkpoints ORDER BY number DESC LIMIT 1",
    )
    .fetch_optional(&mut *tx)
    .await
    .map_err(query_failed("reading the checkpoint log"))?;
    let file = OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(out)
        .with_context(|| format!("opening {}", out.display()))?;
    // pg_dump reads in the exported snapshot while the transaction that
    // exported it stays open.
    let snapshot_arg = format!("--snapshot={snapshot}");
    let dumped = run(
        &tool,
        &["--format=custom", "--no-sync", &snapshot_arg],
        Some(&target),
        Stdio::from(file),
    );
    let _ = tx.rollback().await;
    db.close().await;
    dumped?;
    Ok(Contents {
        events: u64::try_from(events).unwrap_or(0),
        clients: u64::try_from(clients).unwrap_or(0),
        checkpoint: checkpoint
            .map(|(n, at)| (u64::try_from(n).unwrap_or(0), at.unwrap_or_default())),
    })
}

/// Restores the archive `file` into the database of --database-url with
/// pg_restore, in one transaction; into a database that holds tables only
/// with `force` (pg_restore then drops what the archive holds first).
pub(super) async fn restore(
    global: &GlobalArgs,
    file: &Path,
    force: bool,
) -> Result<(), CommandError> {
    let tool = find_tool("pg_restore")?;
    let target = Target::parse(global.database_url.as_str())?;
    let db = super::connect(global).await.map_err(|e| match e {
        CommandError::Usage(text) => CommandError::Usage(format!(
            "{text}; restore writes into an existing database: create it first (createdb)"
        )),
        other => other,
    })?;
    let pool = postgres_pool(&db)?;
    let tables: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_catalog.pg_tables \
         WHERE schemaname NOT IN ('pg_catalog', 'information_schema')",
    )
    .fetch_one(pool)
    .await
    .map_err(query_failed("reading the list of tables"))?;
    db.close().await;
    if tables > 0 && !force {
        return Err(CommandError::Usage(format!(
            "the database {} is not empty ({tables} tables): restore writes only into an empty database; pass --force to replace it",
            global.database_url.redacted()
        )));
    }
    let path = file.to_str().ok_or_else(|| {
        CommandError::Usage(format!("{}: the file name is not UTF-8", file.display()))
    })?;
    // A damaged archive is refused before anything is replaced.
    run(&tool, &["--list", path], None, Stdio::null())?;
    if tables > 0 {
        // pg_restore --clean cannot drop the views' partitioned tables in
        // order: the schema is replaced whole instead.
        replace_schema(global).await?;
    }
    run(
        &tool,
        &[
            "--exit-on-error",
            "--single-transaction",
            "--no-owner",
            "--no-privileges",
            path,
        ],
        Some(&target),
        Stdio::null(),
    )
    .map_err(|e| match e {
        CommandError::Failed(e) if tables > 0 => CommandError::Failed(e.context(
            "the database was emptied first (--force) and holds nothing now: restore a backup into it again",
        )),
        other => other,
    })
}

/// `--force`: drops the `public` schema with everything in it and creates
/// it empty again, in one transaction.
async fn replace_schema(global: &GlobalArgs) -> Result<(), CommandError> {
    let db = super::connect(global).await?;
    let pool = postgres_pool(&db)?;
    let mut tx = pool
        .begin()
        .await
        .map_err(query_failed("starting a transaction"))?;
    for statement in [
        "DROP SCHEMA IF EXISTS public CASCADE",
        "CREATE SCHEMA public",
    ] {
        sqlx::query(statement)
            .execute(&mut *tx)
            .await
            .map_err(query_failed("emptying the target database (--force)"))?;
    }
    tx.commit()
        .await
        .map_err(query_failed("emptying the target database (--force)"))?;
    db.close().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_leaves_the_url() {
        let t = Target::parse("postgres://kc:s%40cret@db.example:5433/practice?sslmode=require")
            .expect("parses");
        assert_eq!(
            t.url,
            "postgres://kc@db.example:5433/practice?sslmode=require"
        );
        assert_eq!(t.password.as_deref(), Some("s@cret"));

        let t = Target::parse("postgresql://db/practice?user=kc&password=pw&sslmode=disable")
            .expect("parses");
        assert_eq!(t.url, "postgresql://db/practice?user=kc&sslmode=disable");
        assert_eq!(t.password.as_deref(), Some("pw"));

        let t = Target::parse("postgres://postgres@127.0.0.1/kapchart").expect("parses");
        assert_eq!(t.url, "postgres://postgres@127.0.0.1/kapchart");
        assert_eq!(t.password, None);

        let t = Target::parse("postgres://h/db?password=pw").expect("parses");
        assert_eq!(t.url, "postgres://h/db");
    }

    #[test]
    fn a_missing_tool_is_named() {
        let e = find_tool("kapchart-no-such-tool")
            .expect_err("absent")
            .to_string();
        assert!(
            e.starts_with("kapchart-no-such-tool was not found on PATH"),
            "{e}"
        );
    }
}
