//! A PostgreSQL cluster of one test's own: `initdb` in a temp folder, the
//! server on a free port, stopped and started again by the test to play a
//! database outage. Removed (stopped at once, files deleted) on drop.

use std::path::PathBuf;
use std::process::Command;

use crate::{pg_bindir, run_pg, running_as_root};

/// A throwaway PostgreSQL cluster that the test controls.
#[derive(Debug)]
pub struct Cluster {
    dir: tempfile::TempDir,
    bindir: PathBuf,
    as_root: bool,
    port: u16,
}

impl Cluster {
    /// Creates a cluster (local connections trusted, user `postgres`) in a
    /// temp folder and starts it on a free port of 127.0.0.1. PostgreSQL's
    /// programs come from `pg_config --bindir` or `/usr/lib/postgresql/*/bin`
    /// and run as the `postgres` user when this process is root.
    ///
    /// # Errors
    /// The binaries are missing, or `initdb` or the start failed (the
    /// message holds their standard error).
    pub fn start() -> Result<Self, String> {
        let bindir = pg_bindir()?;
        let as_root = running_as_root();
        let dir = tempfile::Builder::new()
            .prefix("kapchart-cluster-")
            .tempdir()
            .map_err(|e| format!("a temp folder for the cluster: {e}"))?;
        if as_root {
            let status = Command::new("chown")
                .arg("postgres:postgres")
                .arg(dir.path())
                .status()
                .map_err(|e| format!("chown: {e}"))?;
            if !status.success() {
                return Err("chown postgres: the temp folder cannot be given to postgres".into());
            }
        }
        let port = free_port()?;
        let cluster = Cluster {
            dir,
            bindir,
            as_root,
            port,
        };
        cluster.run(
            "initdb",
            &[
                "-D",
                &cluster.data(),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        )?;
        cluster.start_again()?;
        Ok(cluster)
    }

    /// The URL of its `postgres` database.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Its port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops the server at once (`pg_ctl stop -m immediate`): every
    /// connection is cut and the server recovers from its WAL at the next
    /// start, as after a crash. Returns when it has stopped.
    ///
    /// # Errors
    /// `pg_ctl` failed.
    pub fn stop_immediately(&self) -> Result<(), String> {
        self.run(
            "pg_ctl",
            &["-D", &self.data(), "-m", "immediate", "-w", "stop"],
        )
    }

    /// Starts the server (again), on the same port; returns when it
    /// accepts connections (`pg_ctl start -w`).
    ///
    /// # Errors
    /// `pg_ctl` failed.
    pub fn start_again(&self) -> Result<(), String> {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {}",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("log").to_string_lossy().into_owned();
        self.run(
            "pg_ctl",
            &[
                "-D",
                &self.data(),
                "-o",
                &options,
                "-l",
                &log,
                "-w",
                "start",
            ],
        )
    }

    fn data(&self) -> String {
        self.dir.path().join("data").to_string_lossy().into_owned()
    }

    fn run(&self, program: &str, args: &[&str]) -> Result<(), String> {
        run_pg(&self.bindir, self.as_root, program, args)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self.stop_immediately();
    }
}

/// A port nobody listens on now (the kernel's choice).
fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("a free port: {e}"))
}
