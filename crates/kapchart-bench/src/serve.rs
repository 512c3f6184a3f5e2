//! `kapchart serve` as a child process of a benchmark, and what the
//! benchmarks read of processes from /proc: shared by
//! `kapchart-bench-http` and `kapchart-bench-pages`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow, bail};
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, ChildStderr};

/// What `kapchart serve` prints on stderr once it listens.
pub const LISTENING: &str = "kapchart: listening on http://";

/// `--kapchart`, or `kapchart` beside this program.
pub fn kapchart_binary(given: Option<&Path>) -> anyhow::Result<PathBuf> {
    let path = match given {
        Some(p) => p.to_path_buf(),
        None => std::env::current_exe()
            .context("finding this program's own path")?
            .with_file_name(format!("kapchart{}", std::env::consts::EXE_SUFFIX)),
    };
    if !path.is_file() {
        bail!(
            "no kapchart binary at {}: build it with `cargo build --release -p kapchart` \
             (or give --kapchart PATH)",
            path.display()
        );
    }
    Ok(path)
}

/// The server URL with database `name` in place of its own.
pub fn database_url(server: &str, name: &str) -> anyhow::Result<String> {
    let after_scheme = server.find("://").context("--database-url is not a URL")? + 3;
    let path = server[after_scheme..]
        .find('/')
        .map_or(server.len(), |p| after_scheme + p);
    Ok(format!("{}/{name}", &server[..path]))
}

/// The running `kapchart serve`: killed when dropped.
pub struct ServeProcess {
    child: Child,
    /// Its process id.
    pub pid: u32,
    /// Where it listens.
    pub address: SocketAddr,
}

impl std::fmt::Debug for ServeProcess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServeProcess")
            .field("pid", &self.pid)
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

impl ServeProcess {
    /// Starts `kapchart --database-url URL serve --listen 127.0.0.1:0` and
    /// waits (at most 60 s) for the line that says where it listens. Its
    /// stderr is passed on to ours, each line prefixed.
    pub async fn start(kapchart: &Path, url: &str) -> anyhow::Result<Self> {
        let mut child = tokio::process::Command::new(kapchart)
            .arg("--database-url")
            .arg(url)
            .arg("serve")
            .arg("--listen")
            .arg("127.0.0.1:0")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", kapchart.display()))?;
        let pid = child.id().context("the server exited at once")?;
        let stderr = child.stderr.take().context("the server's stderr")?;
        let mut lines = BufReader::new(stderr).lines();
        let address = tokio::time::timeout(Duration::from_secs(60), async {
            while let Some(line) = lines.next_line().await? {
                if let Some(rest) = line.strip_prefix(LISTENING) {
                    let address: SocketAddr =
                        rest.trim().trim_end_matches('/').parse().with_context(|| {
                            format!("reading the server's address from {line:?}")
                        })?;
                    return Ok(address);
                }
                eprintln!("kapchart serve: {line}");
            }
            Err(anyhow!("the server closed its stderr"))
        })
        .await
        .map_err(|_| anyhow!("the server did not say it listens within 60 s"))
        .and_then(|r| r);
        let address = match address {
            Ok(a) => a,
            Err(e) => {
                let status = match child.try_wait() {
                    Ok(Some(s)) => format!("it exited with {s}"),
                    _ => "it is being stopped".to_owned(),
                };
                return Err(e.context(format!("kapchart serve did not start; {status}")));
            }
        };
        tokio::spawn(pass_on(lines));
        Ok(Self {
            child,
            pid,
            address,
        })
    }

    /// Kills the server and waits for it.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        self.child.start_kill().context("stopping the server")?;
        self.child.wait().await.context("waiting for the server")?;
        Ok(())
    }

    /// Fails if the server has exited.
    pub fn check_running(&mut self) -> anyhow::Result<()> {
        match self.child.try_wait() {
            Ok(None) => Ok(()),
            Ok(Some(status)) => bail!("kapchart serve exited during the run ({status})"),
            Err(e) => Err(anyhow!(e).context("checking on the server")),
        }
    }
}

/// Passes the server's stderr on to ours until it closes.
async fn pass_on(mut lines: tokio::io::Lines<BufReader<ChildStderr>>) {
    while let Ok(Some(line)) = lines.next_line().await {
        eprintln!("kapchart serve: {line}");
    }
}

/// (utime + stime, cutime + cstime) of process `pid` ("self" for this
/// one), and its command name, from /proc/PID/stat.
pub fn process_stat(pid: &str) -> Option<(String, u64, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The name (field 2) is in parentheses and may hold spaces.
    let (head, rest) = stat.rsplit_once(')')?;
    let name = head.split_once('(')?.1.to_owned();
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // rest starts at field 3; utime, stime, cutime, cstime are 14 to 17.
    let n = |i: usize| fields.get(i)?.parse::<u64>().ok();
    Some((name, n(11)? + n(12)?, n(13)? + n(14)?))
}

/// (own, children's) CPU jiffies of process `pid` ("self" for this one).
pub fn process_jiffies(pid: &str) -> Option<(u64, u64)> {
    process_stat(pid).map(|(_, own, children)| (own, children))
}

/// Waits until process `pid` has used under 4% of a core for half a
/// second (at most 5 minutes): the server's views have caught up.
pub async fn wait_until_idle(pid: u32) -> anyhow::Result<()> {
    let pid = pid.to_string();
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let before = process_jiffies(&pid);
        tokio::time::sleep(Duration::from_millis(500)).await;
        match (before, process_jiffies(&pid)) {
            (Some((a, _)), Some((b, _))) if b.saturating_sub(a) > 2 => {
                anyhow::ensure!(
                    Instant::now() < deadline,
                    "kapchart serve stayed busy for 5 minutes"
                );
            }
            // Idle, or no /proc to tell.
            _ => return Ok(()),
        }
    }
}

/// The 1, 5 and 15 minute load averages, when /proc/loadavg exists.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".to_owned())
}
