//! Real databases for tests: each test gets its own PostgreSQL database or
//! SQLite file.
//!
//! PostgreSQL: the server is `DATABASE_URL` when it names one; otherwise the
//! local server at 127.0.0.1:5432 (user `postgres`); when that does not
//! answer, a throwaway cluster is started in the temp folder (and reused by
//! later runs). No test is ever skipped for want of a server: if none can
//! be reached or started, [`postgres`] panics with the reason.
//!
//! [`Cluster`] is a PostgreSQL cluster of one test's own, which the test
//! stops and starts (database outages).
//!
//! Each test database is named `kapchart_t_<pid>_<n>`; [`TestDb::cleanup`]
//! drops it, and databases left by processes that are gone are dropped the
//! next time a test process starts.

mod cluster;

pub use cluster::Cluster;

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::{Connection, PgConnection};
use tokio::sync::OnceCell;

/// Which engine a test database runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// PostgreSQL.
    Postgres,
    /// SQLite.
    Sqlite,
}

/// A fresh, empty database for one test.
#[derive(Debug)]
pub struct TestDb {
    /// Connection URL of the database.
    pub url: String,
    /// Its engine.
    pub engine: Engine,
    name: Option<String>,
    server: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    /// Drops the database (PostgreSQL) or removes the file (SQLite).
    pub async fn cleanup(mut self) {
        if let (Some(name), Some(server)) = (self.name.take(), self.server.take())
            && let Ok(mut conn) = PgConnection::connect(&server).await
        {
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .execute(&mut conn)
                .await;
        }
    }
}

static COUNTER: AtomicU32 = AtomicU32::new(0);
static SERVER: OnceCell<String> = OnceCell::const_new();

/// A fresh SQLite database file in its own temp folder.
pub fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().expect("a temp folder for the SQLite test database");
    let path = dir.path().join("kapchart.db");
    TestDb {
        url: format!("sqlite://{}", path.display()),
        engine: Engine::Sqlite,
        name: None,
        server: None,
        _dir: Some(dir),
    }
}

/// A fresh, empty PostgreSQL database.
pub async fn postgres() -> TestDb {
    let server = SERVER.get_or_init(find_server).await.clone();
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let name = format!("kapchart_t_{}_{n}", std::process::id());
    let mut conn = PgConnection::connect(&server)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL test server stopped answering: {e}"));
    sqlx::query(&format!("CREATE DATABASE \"{name}\""))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("cannot create test database {name}: {e}"));
    TestDb {
        url: with_database(&server, &name),
        engine: Engine::Postgres,
        name: Some(name),
        server: Some(server),
        _dir: None,
    }
}

/// Replaces the database name (the path) of a PostgreSQL URL.
fn with_database(server: &str, name: &str) -> String {
    let (base, query) = match server.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (server, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

async fn find_server() -> String {
    let candidates: Vec<String> = match std::env::var("DATABASE_URL") {
        Ok(url) if url.starts_with("postgres") => vec![url],
        _ => vec!["postgres://postgres@127.0.0.1:5432/postgres".to_owned()],
    };
    for url in &candidates {
        if let Ok(mut conn) = PgConnection::connect(url).await {
            sweep_stale(&mut conn).await;
            return url.clone();
        }
    }
    if std::env::var("DATABASE_URL").is_ok_and(|u| u.starts_with("postgres")) {
        panic!("DATABASE_URL names a PostgreSQL server that does not answer");
    }
    let url = start_throwaway_cluster()
        .unwrap_or_else(|e| panic!("no PostgreSQL for the tests: the local server does not answer and a throwaway cluster could not start: {e}"));
    // `pg_ctl start -w` returns once the server accepts connections.
    match PgConnection::connect(&url).await {
        Ok(mut conn) => {
            sweep_stale(&mut conn).await;
            url
        }
        Err(e) => panic!("the throwaway PostgreSQL cluster started but refuses connections: {e}"),
    }
}

/// Drops test databases whose process is gone.
async fn sweep_stale(conn: &mut PgConnection) {
    let names: Vec<(String,)> =
        sqlx::query_as("SELECT datname FROM pg_database WHERE datname LIKE 'kapchart\\_t\\_%'")
            .fetch_all(&mut *conn)
            .await
            .unwrap_or_default();
    for (name,) in names {
        let pid = name
            .strip_prefix("kapchart_t_")
            .and_then(|rest| rest.split('_').next())
            .and_then(|p| p.parse::<u32>().ok());
        let alive = pid.is_some_and(|p| PathBuf::from(format!("/proc/{p}")).exists());
        if !alive {
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .execute(&mut *conn)
                .await;
        }
    }
}

const THROWAWAY_PORT: u16 = 55_432;

/// Starts (or reuses) a throwaway cluster in the temp folder, trusting local
/// connections, and returns its URL.
fn start_throwaway_cluster() -> Result<String, String> {
    let bindir = pg_bindir()?;
    let dir = std::env::temp_dir().join("kapchart-test-postgres");
    let data = dir.join("data");
    let url = format!("postgres://postgres@127.0.0.1:{THROWAWAY_PORT}/postgres");
    let as_root = running_as_root();
    let run = |program: &str, args: &[&str]| run_pg(&bindir, as_root, program, args);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    if as_root {
        let _ = Command::new("chown")
            .args(["postgres:postgres"])
            .arg(&dir)
            .status();
    }
    let data_s = data.to_string_lossy().into_owned();
    if !data.join("PG_VERSION").exists() {
        run(
            "initdb",
            &[
                "-D",
                &data_s,
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
            ],
        )?;
    }
    let status_ok = run("pg_ctl", &["-D", &data_s, "status"]).is_ok();
    if !status_ok {
        let opts = format!(
            "-p {THROWAWAY_PORT} -c listen_addresses=127.0.0.1 -k {}",
            dir.display()
        );
        let log = dir.join("log").to_string_lossy().into_owned();
        run(
            "pg_ctl",
            &["-D", &data_s, "-o", &opts, "-l", &log, "-w", "start"],
        )?;
    }
    Ok(url)
}

/// True when this process runs as root (PostgreSQL refuses to run as
/// root: its programs are then run as the `postgres` user).
fn running_as_root() -> bool {
    std::env::var("USER").is_ok_and(|u| u == "root")
        || Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| o.stdout.starts_with(b"0"))
}

/// Runs PostgreSQL's `program` from `bindir` (as `postgres` when
/// `as_root`), failing with its standard error.
fn run_pg(
    bindir: &std::path::Path,
    as_root: bool,
    program: &str,
    args: &[&str],
) -> Result<(), String> {
    let exe = bindir.join(program);
    let mut cmd = if as_root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(&exe);
        c
    } else {
        Command::new(&exe)
    };
    let out = cmd
        .args(args)
        .output()
        .map_err(|e| format!("{program}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{program} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

fn pg_bindir() -> Result<PathBuf, String> {
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output()
        && out.status.success()
    {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if dir.join("initdb").exists() {
            return Ok(dir);
        }
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map_err(|_| "PostgreSQL server binaries not found".to_owned())?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("initdb").exists())
        .collect();
    found.sort();
    found
        .pop()
        .ok_or_else(|| "PostgreSQL server binaries not found".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_name_replaces_the_path() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/postgres", "t1"),
            "postgres://postgres@127.0.0.1:5432/t1"
        );
        assert_eq!(
            with_database("postgres://u:p@h/db?sslmode=disable", "t2"),
            "postgres://u:p@h/t2?sslmode=disable"
        );
        assert_eq!(with_database("postgres://h", "t3"), "postgres://h/t3");
    }

    #[tokio::test]
    async fn each_test_gets_an_empty_postgres_database() {
        let a = postgres().await;
        let b = postgres().await;
        assert_ne!(a.url, b.url);
        let mut conn = PgConnection::connect(&a.url).await.expect("connects");
        let (name,): (String,) = sqlx::query_as("SELECT current_database()")
            .fetch_one(&mut conn)
            .await
            .expect("query");
        assert!(a.url.ends_with(&name));
        drop(conn);
        a.cleanup().await;
        b.cleanup().await;
    }
}
