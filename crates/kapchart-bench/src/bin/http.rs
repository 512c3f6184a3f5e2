//! `kapchart-bench-http`: commands per second and p50/p99 latency through
//! the HTTP API under concurrent load from a separate process (wrk), beside
//! the store's own rate for the same commands, measured in the same run.
//!
//! 1. **Setup (not measured).** Database `kapchart_bench_http`, dropped
//!    and created afresh, gets kapchart's migrations, `--clients` clients
//!    each with the same history of `--events-per-client` commands (the
//!    KAP protocol of `kapchart-bench`, through the real command path;
//!    registration alone with 1), and a front-desk account (`fd-jones`)
//!    with its bearer token. `kapchart_bench_http_store`, the store
//!    baseline's database, is created as a copy of it, so that the
//!    server's projector never folds the baseline's events while a figure
//!    runs. Then `kapchart serve --listen 127.0.0.1:0` is started on the
//!    first as a child process (killed at the end, also on an error or
//!    Ctrl-C), and its views are left to catch up.
//! 2. **Figures**, in `--rounds` rounds, each round running both figures
//!    one after the other (odd rounds the store first, even rounds HTTP
//!    first), each for `--seconds`. Before each figure its database is put
//!    back to exactly the histories (the rows a figure added are deleted,
//!    as `kapchart-bench` does; every command loads its record first, so
//!    the store's remembered links stay right), the server takes a
//!    `CHECKPOINT`, and the server's CPU is let go idle:
//!    - **store**: `--connections` concurrent tasks in this process, each
//!      sending a command through cqrs-es (`execute_with_metadata`, the
//!      real command path with `InMemoryPractice` services), waiting for
//!      it and sending the next; commands/s, p50/p99 of each command;
//!    - **http**: wrk with `--latency -t2 -c<connections> -d<seconds>s`
//!      and a Lua script (below) that posts the same kind of command to
//!      `POST /api/v1/clients/{id}/commands`; commands/s (wrk's
//!      Requests/sec), p50/p99 (wrk's latency distribution). Any non-2xx
//!      response fails the run.
//!
//!    Every command is a `RecordPayment` by the front desk with a fresh
//!    command id and payment id, the clients taken in turn (each task or wrk
//!    thread from its own offset). After each figure the events the
//!    database gained are counted against the commands completed (for
//!    HTTP, requests still in flight when wrk stops may add a few more).
//! 3. **Where the time goes**, per command of each figure: the machine's
//!    CPU by process (this one, the server, wrk, PostgreSQL's), from
//!    /proc; PostgreSQL's transactions and rows read and written in the
//!    figure's database, from `pg_stat_database` (read 11 s after the
//!    figure, once every backend has reported its counts).
//!
//! Progress goes to stderr, results (Markdown tables) to stdout.

// Shared with `kapchart-bench`; this program uses part of each.
use kapchart_bench::serve::{
    ServeProcess, database_url, kapchart_binary, load_average, process_jiffies, process_stat,
    wait_until_idle,
};
use kapchart_bench::{protocol, stats, stores};

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow, bail};
use chrono::{NaiveDate, Utc};
use clap::Parser;
use kapchart_domain::{
    Actor, Cents, Command, CommandBody, CommandId, Payer, PaymentId, PaymentMethod, RecordPayment,
    Role, UserId,
};
use kapchart_store::{ClientCqrs, Database};
use sqlx::postgres::PgPool;

use crate::stores::Server;

/// The database `kapchart serve` serves.
const HTTP_DB: &str = "kapchart_bench_http";
/// The store baseline's database.
const STORE_DB: &str = "kapchart_bench_http_store";
/// Both, created at the start and dropped at the end.
const DATABASES: [&str; 2] = [HTTP_DB, STORE_DB];

/// The user every command is issued by: the front desk of the protocol's
/// histories, with an account on the served database.
const FRONT_DESK: &str = "fd-jones";

/// wrk's time limit per request: far above any latency here, so that no
/// request leaves the latency distribution as a "timeout".
const WRK_TIMEOUT: &str = "30s";

/// A valid payment id that marks where the payment id goes in the JSON
/// body the Lua script sends.
const PAYMENT_MARK: &str = "PAYMENTxIDxMARK";

/// How long after its last statement a backend's counts are surely in
/// pg_stat_database: PostgreSQL 15 reports them at most once a second, and
/// counts held back by that limit go out after 10 s idle
/// (PGSTAT_IDLE_INTERVAL).
const STATS_DELAY: Duration = Duration::from_secs(11);

/// Linux's USER_HZ, the unit of /proc's CPU times.
const JIFFIES_PER_SEC: f64 = 100.0;

/// The wrk script. `@...@` are filled in by [`lua_script`]; wrk passes the
/// figure's tag (`wrk ... URL -- TAG`), which keeps ids unique across
/// figures.
const LUA: &str = r#"-- kapchart-bench-http: every request is a RecordPayment command with a
-- fresh command id and payment id (the figure's tag, the thread's number
-- and the thread's own counter), each thread taking the clients in turn
-- from its own offset.

local TOKEN = [==[@TOKEN@]==]
local CLIENTS = @CLIENTS@
local THREADS = @THREADS@
local BODY_BEFORE = [==[@BODY_BEFORE@]==]
local BODY_AFTER = [==[@BODY_AFTER@]==]

local threads = {}
local next_tid = 0

function setup(thread)
  next_tid = next_tid + 1
  thread:set("tid", next_tid)
  table.insert(threads, thread)
end

function init(args)
  tag = args[1]
  n = 0
  non2xx = 0
  first_error = ""
  offset = math.floor((tid - 1) * CLIENTS / THREADS)
  wrk.method = "POST"
  wrk.headers["Authorization"] = "Bearer " .. TOKEN
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  n = n + 1
  local id = tag .. "-" .. tid .. "-" .. n
  local path = string.format("/api/v1/clients/client-%05d/commands", (offset + n) % CLIENTS)
  local body = '{"id":"' .. id .. '","body":' .. BODY_BEFORE .. "p" .. id .. BODY_AFTER .. "}"
  return wrk.format(nil, path, nil, body)
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    if first_error == "" then
      first_error = status .. " " .. string.sub(body or "", 1, 300)
    end
  end
end

function done(summary, latency, requests)
  local total = 0
  local first = ""
  for _, thread in ipairs(threads) do
    total = total + (thread:get("non2xx") or 0)
    local e = thread:get("first_error")
    if first == "" and e ~= nil then
      first = e
    end
  end
  io.write(string.format("kapchart-bench-http: non-2xx %d\n", total))
  if first ~= "" then
    io.write("kapchart-bench-http: first error " .. string.gsub(first, "%s", " ") .. "\n")
  end
end
"#;

/// Commands per second and p50/p99 latency through kapchart's HTTP API
/// under concurrent load from wrk, beside the store's own rate for the
/// same commands in the same run.
///
/// Creates the databases kapchart_bench_http (served by a `kapchart serve`
/// child process) and kapchart_bench_http_store (the store baseline), with
/// the same clients and histories, then in each round measures
/// RecordPayment commands through the store in this process and through
/// HTTP with wrk, one after the other, each from the same histories.
/// Progress goes to stderr, a Markdown table to stdout. Needs wrk (`apt-get install wrk`) and a release build of
/// kapchart (`cargo build --release -p kapchart`).
#[derive(Debug, Parser)]
#[command(name = "kapchart-bench-http", version)]
struct Cli {
    /// The PostgreSQL server: a postgres:// URL of a role allowed to create
    /// databases (and, for CHECKPOINT between figures, a superuser).
    #[arg(
        long,
        value_name = "URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    database_url: String,

    /// Clients, each with the same history, that the commands are spread
    /// over.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=99_999))]
    clients: u32,

    /// Events in each client's history before every figure (the KAP
    /// protocol of kapchart-bench; 1 is the registration alone).
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=1000))]
    events_per_client: u32,

    /// Concurrent connections: wrk's -c, and the store's concurrent tasks.
    /// wrk runs 2 threads when this is even, else 1.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=1000))]
    connections: u32,

    /// Duration of each figure in each round, in seconds.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
    seconds: u64,

    /// Rounds; each runs the store and the HTTP figure, alternating which
    /// goes first.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=20))]
    rounds: u32,

    /// Warm-up of each figure before the first round, in seconds (not
    /// measured; 0 for none).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(0..=600))]
    warmup: u64,

    /// The kapchart binary to serve with [default: `kapchart` beside this
    /// program, i.e. target/release/kapchart].
    #[arg(long, value_name = "PATH")]
    kapchart: Option<PathBuf>,

    /// The wrk binary [default: `wrk` on PATH].
    #[arg(long, value_name = "PATH")]
    wrk: Option<PathBuf>,

    /// Keep the databases at the end (for inspection).
    #[arg(long)]
    keep_databases: bool,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match run(&cli).await {
        Ok(table) => {
            print!("{table}");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("kapchart-bench-http: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn note(message: &str) {
    eprintln!("kapchart-bench-http: {message}");
}

/// Finds the programs, sets up, measures (until done, failed or Ctrl-C),
/// and drops the databases whatever happened. The server child is killed
/// when `measure` returns or is dropped.
async fn run(cli: &Cli) -> anyhow::Result<String> {
    let kapchart = kapchart_binary(cli.kapchart.as_deref())?;
    let wrk = wrk_binary(cli.wrk.as_deref())?;
    let server = Server::new(&cli.database_url)?;
    let mut admin = server.admin().await?;
    stores::drop_database(&mut admin, STORE_DB).await?;
    stores::recreate(&mut admin, &[HTTP_DB]).await?;
    let result = tokio::select! {
        r = measure(cli, &server, &mut admin, &kapchart, &wrk) => r,
        _ = tokio::signal::ctrl_c() => Err(anyhow!("interrupted")),
    };
    if !cli.keep_databases {
        // The server is gone by now; FORCE closes any connection left. A
        // fresh connection: an interrupted run may have left the first one
        // in the middle of a query.
        match server.admin().await {
            Ok(mut admin) => {
                for name in DATABASES {
                    if let Err(e) = stores::drop_database(&mut admin, name).await {
                        eprintln!("warning: {e:#}");
                    }
                }
            }
            Err(e) => eprintln!("warning: the databases were not dropped: {e:#}"),
        }
    }
    result
}

/// `--wrk`, or `wrk` on PATH.
fn wrk_binary(given: Option<&Path>) -> anyhow::Result<PathBuf> {
    let found = match given {
        Some(p) => p.is_file().then(|| p.to_path_buf()),
        None => std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join("wrk"))
                .find(|p| p.is_file())
        }),
    };
    found.ok_or_else(|| {
        anyhow!(
            "wrk not found ({}): install it with `apt-get install wrk` (or give --wrk PATH)",
            given.map_or_else(|| "not on PATH".to_owned(), |p| p.display().to_string())
        )
    })
}

/// The measured command's body: a card payment by the client, with
/// payment id `payment`.
fn payment_body(payment: &str) -> anyhow::Result<CommandBody> {
    Ok(CommandBody::RecordPayment(RecordPayment {
        payment: PaymentId::parse(payment)?,
        amount: Cents::new(15_000)?,
        method: PaymentMethod::Card,
        payer: Payer::Client,
        received_on: NaiveDate::from_ymd_opt(2026, 1, 5).context("date")?,
        session: None,
    }))
}

fn front_desk() -> anyhow::Result<Actor> {
    Ok(Actor {
        id: UserId::parse(FRONT_DESK)?,
        role: Role::FrontDesk,
    })
}

/// wrk's thread count for `connections`: 2 when they divide evenly (wrk
/// gives each thread connections / threads), else 1.
fn wrk_threads(connections: u32) -> u32 {
    if connections >= 2 && connections.is_multiple_of(2) {
        2
    } else {
        1
    }
}

/// The wrk script with its constants filled in: the token, the clients,
/// the threads, and the JSON of [`payment_body`] as serde writes it, cut
/// where the payment id goes.
fn lua_script(token: &str, clients: u32, threads: u32) -> anyhow::Result<String> {
    let body = serde_json::to_string(&payment_body(PAYMENT_MARK)?)?;
    let (before, after) = body
        .split_once(PAYMENT_MARK)
        .context("the payment id is not in the body's JSON")?;
    for part in [token, before, after] {
        anyhow::ensure!(
            !part.contains("]==]"),
            "a constant of the Lua script holds ]==]"
        );
    }
    Ok(LUA
        .replace("@TOKEN@", token)
        .replace("@CLIENTS@", &clients.to_string())
        .replace("@THREADS@", &threads.to_string())
        .replace("@BODY_BEFORE@", before)
        .replace("@BODY_AFTER@", after))
}

/// One measured figure.
#[derive(Debug, Clone, Default)]
struct Figure {
    /// Commands (requests) completed.
    commands: u64,
    /// Commands per second.
    per_sec: f64,
    /// Median latency, ms.
    p50_ms: f64,
    /// 99th percentile latency, ms.
    p99_ms: f64,
    /// Events the database gained during the figure (counted after it).
    events_added: i64,
    /// Store: conflicts retried. HTTP: wrk's socket errors.
    trouble: String,
    /// Where the CPU went.
    cpu: Option<CpuUse>,
    /// What PostgreSQL did in the figure's database.
    pg: PgUse,
}

/// Counters of one database in pg_stat_database.
#[derive(Debug, Clone, Copy, Default)]
struct PgCounters {
    /// Transactions committed (each autocommit statement is one).
    xact_commit: i64,
    /// Rows read: returned by sequential scans and index scans.
    tup_returned: i64,
    /// Rows inserted, updated or deleted.
    tup_written: i64,
}

/// What PostgreSQL did per command during a figure.
#[derive(Debug, Clone, Copy, Default)]
struct PgUse {
    transactions: f64,
    rows_read: f64,
    rows_written: f64,
}

impl PgCounters {
    fn use_since(&self, earlier: &Self, commands: u64) -> PgUse {
        let per = |a: i64, b: i64| (a - b) as f64 / commands.max(1) as f64;
        PgUse {
            transactions: per(self.xact_commit, earlier.xact_commit),
            rows_read: per(self.tup_returned, earlier.tup_returned),
            rows_written: per(self.tup_written, earlier.tup_written),
        }
    }
}

/// Database `name`'s counters (the benchmark's own few queries on it are
/// counted too).
async fn pg_counters(pool: &PgPool, name: &str) -> anyhow::Result<PgCounters> {
    let (xact_commit, tup_returned, tup_written): (i64, i64, i64) = sqlx::query_as(
        "SELECT xact_commit, tup_returned, tup_inserted + tup_updated + tup_deleted \
         FROM pg_stat_database WHERE datname = $1",
    )
    .bind(name)
    .fetch_one(pool)
    .await
    .context("reading pg_stat_database")?;
    Ok(PgCounters {
        xact_commit,
        tup_returned,
        tup_written,
    })
}

/// CPU time, in jiffies, of the whole machine and of the processes of a
/// run.
#[derive(Debug, Clone, Copy, Default)]
struct CpuSample {
    /// All cores: busy (not idle, not iowait) and total.
    machine_busy: u64,
    machine_total: u64,
    /// This process, and its children waited for (wrk).
    bench: u64,
    children: u64,
    /// The server.
    server: u64,
    /// Every process named `postgres` (the backends and the server's own).
    postgres: u64,
}

/// CPU spent during one figure, per command.
#[derive(Debug, Clone, Copy)]
struct CpuUse {
    /// Share of the machine's CPU that was busy, %.
    busy_pct: f64,
    /// ms of CPU per command: this process, the server, wrk, PostgreSQL,
    /// and the rest of the busy time (kernel, other processes).
    bench_ms: f64,
    server_ms: f64,
    wrk_ms: f64,
    postgres_ms: f64,
    other_ms: f64,
}

impl CpuSample {
    fn now(server_pid: u32) -> Option<Self> {
        let (machine_busy, machine_total) = machine_jiffies()?;
        let (bench, children) = process_jiffies("self")?;
        let (server, _) = process_jiffies(&server_pid.to_string())?;
        Some(Self {
            machine_busy,
            machine_total,
            bench,
            children,
            server,
            postgres: postgres_jiffies(),
        })
    }

    fn use_since(&self, earlier: &Self, commands: u64) -> CpuUse {
        let d = |a: u64, b: u64| a.saturating_sub(b);
        let busy = d(self.machine_busy, earlier.machine_busy);
        let total = d(self.machine_total, earlier.machine_total).max(1);
        let bench = d(self.bench, earlier.bench);
        let wrk = d(self.children, earlier.children);
        let server = d(self.server, earlier.server);
        let postgres = d(self.postgres, earlier.postgres);
        let other = busy.saturating_sub(bench + wrk + server + postgres);
        let per = |j: u64| j as f64 / JIFFIES_PER_SEC * 1000.0 / commands.max(1) as f64;
        let busy_pct = 100.0 * busy as f64 / total as f64;
        CpuUse {
            busy_pct,
            bench_ms: per(bench),
            server_ms: per(server),
            wrk_ms: per(wrk),
            postgres_ms: per(postgres),
            other_ms: per(other),
        }
    }
}

/// (busy, total) jiffies of all cores, from /proc/stat.
fn machine_jiffies() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let v: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|x| x.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal
    if v.len() < 8 {
        return None;
    }
    let total: u64 = v[..8].iter().sum();
    Some((total - v[3] - v[4], total))
}

/// CPU of every process named `postgres` (on this machine, the server's).
/// A backend that exits during a figure takes its time with it; the pools
/// keep their connections, so few do.
fn postgres_jiffies() -> u64 {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0;
    };
    dir.filter_map(Result::ok)
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|name| name.bytes().all(|b| b.is_ascii_digit()))
        .filter_map(|pid| process_stat(&pid))
        .filter(|(name, _, _)| name == "postgres")
        .map(|(_, own, _)| own)
        .sum()
}

async fn count_events(pool: &PgPool) -> anyhow::Result<i64> {
    sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(pool)
        .await
        .context("counting events")
}

/// Fills the HTTP database: kapchart's migrations, every client's history
/// through the real command path (on a pool that does not wait for the WAL
/// flush: setup only), and the front-desk account. Returns its token.
async fn setup(server: &Server, clients: usize, per_client: usize) -> anyhow::Result<String> {
    const TASKS: usize = 16;
    let pool = server.setup_pool(HTTP_DB, TASKS as u32 + 2).await?;
    let db = Database::Postgres(pool.clone());
    db.migrate().await?;
    let cqrs = Arc::new(db.client_cqrs(kapchart_store::system_clock(), stores::services()));
    stores::fill("setup", cqrs, clients, per_client, TASKS).await?;
    let by = kapchart_store::access::AccessActor {
        user_id: UserId::parse(kapchart_store::accounts::LOCAL_ADMIN)?,
        role: Role::Admin,
    };
    let (_, issued) = kapchart_store::accounts::add_user(
        &db,
        &UserId::parse(FRONT_DESK)?,
        Role::FrontDesk,
        None,
        &by,
        Utc::now(),
    )
    .await
    .context("adding the front-desk account")?;
    pool.close().await;
    Ok(issued.token)
}

/// Everything a round needs.
struct Bench<'a> {
    cli: &'a Cli,
    clients: usize,
    per_client: usize,
    window: Duration,
    store_cqrs: Arc<ClientCqrs>,
    store_pool: PgPool,
    http_pool: PgPool,
    serve: ServeProcess,
    wrk: &'a Path,
    script: &'a Path,
    threads: u32,
}

impl std::fmt::Debug for Bench<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bench")
            .field("serve", &self.serve)
            .finish_non_exhaustive()
    }
}

async fn measure(
    cli: &Cli,
    server: &Server,
    admin: &mut sqlx::PgConnection,
    kapchart: &Path,
    wrk: &Path,
) -> anyhow::Result<String> {
    let clients = cli.clients as usize;
    let load_before = load_average();
    let pg_version: String = sqlx::query_scalar("SHOW server_version")
        .fetch_one(&mut *admin)
        .await?;

    // ---- setup (not measured) ----
    let per_client = cli.events_per_client as usize;
    let http_url = database_url(&cli.database_url, HTTP_DB)?;
    let store_url = database_url(&cli.database_url, STORE_DB)?;
    let started = Instant::now();
    let token = setup(server, clients, per_client).await?;
    sqlx::raw_sql(&format!("CREATE DATABASE {STORE_DB} TEMPLATE {HTTP_DB}"))
        .execute(&mut *admin)
        .await
        .with_context(|| format!("cannot create {STORE_DB} as a copy of {HTTP_DB}"))?;
    note(&format!(
        "{HTTP_DB} and its copy {STORE_DB}: {clients} clients x {per_client} events, \
         written in {:.0} s",
        started.elapsed().as_secs_f64()
    ));

    let threads = wrk_threads(cli.connections);
    let mut script = tempfile::Builder::new()
        .prefix("kapchart-bench-http-")
        .suffix(".lua")
        .tempfile()
        .context("creating the wrk script")?;
    std::io::Write::write_all(
        &mut script,
        lua_script(&token, cli.clients, threads)?.as_bytes(),
    )
    .context("writing the wrk script")?;

    let serve = ServeProcess::start(kapchart, &http_url).await?;
    note(&format!(
        "kapchart serve (pid {}) listening on http://{}; waiting for its views to catch up",
        serve.pid, serve.address
    ));
    wait_until_idle(serve.pid).await?;
    let store_db = Database::open(&store_url)
        .await
        .with_context(|| format!("opening {STORE_DB}"))?;
    let Database::Postgres(store_pool) = &store_db else {
        bail!("the store database is not PostgreSQL");
    };
    let mut bench = Bench {
        cli,
        clients,
        per_client,
        window: Duration::from_secs(cli.seconds),
        store_cqrs: Arc::new(
            store_db.client_cqrs(kapchart_store::system_clock(), stores::services()),
        ),
        store_pool: store_pool.clone(),
        http_pool: server.pool(HTTP_DB, 2).await?,
        serve,
        wrk,
        script: script.path(),
        threads,
    };
    let result = rounds(&mut bench, admin).await;
    bench.http_pool.close().await;
    let stopped = bench.serve.stop().await;
    store_db.close().await;
    let figures = result?;
    stopped?;

    let mut out = String::new();
    report(
        &mut out,
        cli,
        &figures,
        &RunNotes {
            pg_version,
            load_before,
            load_after: load_average(),
            threads,
        },
    )?;
    Ok(out)
}

/// What the report says of the run besides the figures.
#[derive(Debug)]
struct RunNotes {
    pg_version: String,
    load_before: String,
    load_after: String,
    threads: u32,
}

/// Puts `pool`'s database back to exactly the histories, checkpoints, and
/// waits for the server to be idle.
async fn prepare(
    bench: &Bench<'_>,
    pool: &PgPool,
    admin: &mut sqlx::PgConnection,
) -> anyhow::Result<()> {
    reset(pool, bench.per_client).await?;
    let events = count_events(pool).await?;
    let expected = i64::try_from(bench.clients * bench.per_client)?;
    anyhow::ensure!(
        events == expected,
        "after the reset the database holds {events} events, expected {expected}"
    );
    stores::checkpoint(admin).await;
    wait_until_idle(bench.serve.pid).await
}

/// Removes the rows the figures added (sequence beyond the histories) and
/// vacuums, as `kapchart-bench` does, on one connection whose counts are
/// then sent to pg_stat_database at once, before the next figure's first
/// reading.
async fn reset(pool: &PgPool, per_client: usize) -> anyhow::Result<()> {
    let mut conn = pool.acquire().await?;
    sqlx::query("DELETE FROM events WHERE sequence > $1")
        .bind(i64::try_from(per_client)?)
        .execute(&mut *conn)
        .await
        .context("cannot reset the events table")?;
    sqlx::raw_sql("VACUUM (ANALYZE) events")
        .execute(&mut *conn)
        .await
        .context("cannot vacuum the events table")?;
    // PostgreSQL 15 and later: flush when this statement ends.
    sqlx::raw_sql("SELECT pg_stat_force_next_flush()")
        .execute(&mut *conn)
        .await
        .context("pg_stat_force_next_flush (PostgreSQL 15 or later)")?;
    Ok(())
}

/// The warm-up, then the rounds: (store, http) per round.
async fn rounds(
    bench: &mut Bench<'_>,
    admin: &mut sqlx::PgConnection,
) -> anyhow::Result<Vec<(Figure, Figure)>> {
    if bench.cli.warmup > 0 {
        let warmup = Duration::from_secs(bench.cli.warmup);
        note(&format!("warming up, {} s each", bench.cli.warmup));
        prepare(bench, &bench.store_pool, admin).await?;
        store_figure(bench, "sw", warmup).await?;
        prepare(bench, &bench.http_pool, admin).await?;
        http_figure(bench, "hw", warmup).await?;
    }
    let mut figures = Vec::new();
    for round in 1..=bench.cli.rounds {
        let mut store = Figure::default();
        let mut http = Figure::default();
        let store_first = round % 2 == 1;
        for k in 0..2 {
            if (k == 0) == store_first {
                prepare(bench, &bench.store_pool, admin).await?;
                store = store_figure(bench, &format!("s{round}"), bench.window).await?;
                note(&format!(
                    "round {round}: store {:.0} commands/s, p50 {:.2} ms, p99 {:.2} ms",
                    store.per_sec, store.p50_ms, store.p99_ms
                ));
            } else {
                prepare(bench, &bench.http_pool, admin).await?;
                http = http_figure(bench, &format!("h{round}"), bench.window).await?;
                note(&format!(
                    "round {round}: http {:.0} commands/s, p50 {:.2} ms, p99 {:.2} ms",
                    http.per_sec, http.p50_ms, http.p99_ms
                ));
            }
        }
        figures.push((store, http));
    }
    Ok(figures)
}

/// The store figure: `--connections` tasks sending commands through
/// cqrs-es for `window`, ids tagged `tag`.
async fn store_figure(bench: &Bench<'_>, tag: &str, window: Duration) -> anyhow::Result<Figure> {
    let tasks = bench.cli.connections as usize;
    let clients = bench.clients;
    let before = count_events(&bench.store_pool).await?;
    let pg_before = pg_counters(&bench.store_pool, STORE_DB).await?;
    let cpu_before = CpuSample::now(bench.serve.pid);
    let start = Instant::now();
    let end = start + window;
    let mut handles = Vec::with_capacity(tasks);
    for t in 0..tasks {
        let cqrs = Arc::clone(&bench.store_cqrs);
        let tag = tag.to_owned();
        let actor = front_desk()?;
        handles.push(tokio::spawn(async move {
            let offset = t * clients / tasks;
            let mut latencies_us = Vec::new();
            let mut conflicts = 0_u64;
            let mut n = 0_usize;
            while Instant::now() < end {
                n += 1;
                let client = protocol::client_id((offset + n) % clients);
                let id = format!("{tag}-{t}-{n}");
                let command = Command::new(
                    CommandId::parse(&id)?,
                    actor.clone(),
                    Utc::now(),
                    payment_body(&format!("p{id}"))?,
                );
                let t0 = Instant::now();
                conflicts += stores::execute(&cqrs, &client, command).await?;
                latencies_us.push(u64::try_from(t0.elapsed().as_micros()).unwrap_or(u64::MAX));
            }
            Ok::<_, anyhow::Error>((latencies_us, conflicts))
        }));
    }
    let mut latencies_us = Vec::new();
    let mut conflicts = 0;
    for h in handles {
        let (l, c) = h.await.context("a store task panicked")??;
        latencies_us.extend(l);
        conflicts += c;
    }
    let seconds = start.elapsed().as_secs_f64();
    let cpu_after = CpuSample::now(bench.serve.pid);
    latencies_us.sort_unstable();
    let commands = latencies_us.len() as u64;
    tokio::time::sleep(STATS_DELAY).await;
    let pg = pg_counters(&bench.store_pool, STORE_DB)
        .await?
        .use_since(&pg_before, commands);
    let after = count_events(&bench.store_pool).await?;
    let events_added = after - before;
    anyhow::ensure!(
        u64::try_from(events_added).ok() == Some(commands),
        "store figure {tag}: {commands} commands completed but the database gained \
         {events_added} events"
    );
    let ms = |us: u64| us as f64 / 1000.0;
    Ok(Figure {
        commands,
        per_sec: commands as f64 / seconds,
        p50_ms: ms(stats::percentile(&latencies_us, 50.0)),
        p99_ms: ms(stats::percentile(&latencies_us, 99.0)),
        events_added,
        trouble: format!("{conflicts} conflicts retried"),
        cpu: cpu_before
            .zip(cpu_after)
            .map(|(b, a)| a.use_since(&b, commands)),
        pg,
    })
}

/// The HTTP figure: wrk against the server for `window`, ids tagged `tag`.
async fn http_figure(bench: &mut Bench<'_>, tag: &str, window: Duration) -> anyhow::Result<Figure> {
    bench.serve.check_running()?;
    let before = count_events(&bench.http_pool).await?;
    let pg_before = pg_counters(&bench.http_pool, HTTP_DB).await?;
    let cpu_before = CpuSample::now(bench.serve.pid);
    let output = tokio::process::Command::new(bench.wrk)
        .arg("--latency")
        .arg(format!("-t{}", bench.threads))
        .arg(format!("-c{}", bench.cli.connections))
        .arg(format!("-d{}s", window.as_secs()))
        .arg("--timeout")
        .arg(WRK_TIMEOUT)
        .arg("-s")
        .arg(bench.script)
        .arg(format!("http://{}/", bench.serve.address))
        .arg("--")
        .arg(tag)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .with_context(|| format!("running {}", bench.wrk.display()))?;
    let cpu_after = CpuSample::now(bench.serve.pid);
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!(
            "wrk failed ({}):\n{}{}",
            output.status,
            stdout,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let wrk = parse_wrk(&stdout).with_context(|| format!("reading wrk's output:\n{stdout}"))?;
    let non2xx = wrk.non2xx_script.max(wrk.non2xx_wrk);
    if non2xx > 0 {
        bail!(
            "http figure {tag}: {non2xx} of {} responses were not 2xx, so the run is not \
             valid (first: {})",
            wrk.requests,
            wrk.first_error.as_deref().unwrap_or("not recorded")
        );
    }
    // Requests in flight when wrk stopped may still be committed: let them
    // finish (and every backend's statistics arrive) before counting.
    tokio::time::sleep(STATS_DELAY).await;
    bench.serve.check_running()?;
    let pg = pg_counters(&bench.http_pool, HTTP_DB)
        .await?
        .use_since(&pg_before, wrk.requests);
    let events_added = count_events(&bench.http_pool).await? - before;
    let requests = i64::try_from(wrk.requests)?;
    if events_added != requests {
        note(&format!(
            "http figure {tag}: {} requests completed, {events_added} events added \
             (difference {:+}: commands in flight when wrk stopped)",
            wrk.requests,
            events_added - requests
        ));
    }
    anyhow::ensure!(
        events_added >= requests,
        "http figure {tag}: {requests} requests completed with 2xx but the database gained \
         only {events_added} events"
    );
    let s = wrk.socket_errors;
    Ok(Figure {
        commands: wrk.requests,
        per_sec: wrk.per_sec,
        p50_ms: wrk.p50_ms,
        p99_ms: wrk.p99_ms,
        events_added,
        trouble: format!(
            "socket errors: connect {}, read {}, write {}, timeout {}",
            s[0], s[1], s[2], s[3]
        ),
        cpu: cpu_before
            .zip(cpu_after)
            .map(|(b, a)| a.use_since(&b, wrk.requests)),
        pg,
    })
}

/// What wrk printed.
#[derive(Debug, Clone, Default, PartialEq)]
struct WrkResult {
    /// "N requests in ...".
    requests: u64,
    /// "Requests/sec:".
    per_sec: f64,
    /// The latency distribution's 50% and 99%, in ms.
    p50_ms: f64,
    p99_ms: f64,
    /// "Non-2xx or 3xx responses:" (wrk counts status >= 400).
    non2xx_wrk: u64,
    /// Every status outside 200-299, counted by the script.
    non2xx_script: u64,
    /// The first such response, from the script.
    first_error: Option<String>,
    /// "Socket errors:": connect, read, write, timeout.
    socket_errors: [u64; 4],
}

/// Reads wrk's report (with `--latency`, and the script's `done` lines).
fn parse_wrk(out: &str) -> anyhow::Result<WrkResult> {
    let mut r = WrkResult::default();
    let (mut requests, mut per_sec, mut p50, mut p99, mut script) =
        (false, false, false, false, false);
    for line in out.lines() {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("50%") {
            r.p50_ms = duration_ms(rest.trim())?;
            p50 = true;
        } else if let Some(rest) = line.strip_prefix("99%") {
            r.p99_ms = duration_ms(rest.trim())?;
            p99 = true;
        } else if let Some((n, _)) = line.split_once(" requests in ") {
            r.requests = n.trim().parse().context("the request count")?;
            requests = true;
        } else if let Some(rest) = line.strip_prefix("Requests/sec:") {
            r.per_sec = rest.trim().parse().context("Requests/sec")?;
            per_sec = true;
        } else if let Some(rest) = line.strip_prefix("Non-2xx or 3xx responses:") {
            r.non2xx_wrk = rest.trim().parse().context("Non-2xx or 3xx responses")?;
        } else if let Some(rest) = line.strip_prefix("Socket errors:") {
            for part in rest.split(',') {
                let mut words = part.split_whitespace();
                let (Some(kind), Some(n)) = (words.next(), words.next()) else {
                    bail!("socket errors: {part:?}");
                };
                let i = ["connect", "read", "write", "timeout"]
                    .iter()
                    .position(|k| *k == kind)
                    .with_context(|| format!("socket errors: {kind:?}"))?;
                r.socket_errors[i] = n.parse().context("socket errors")?;
            }
        } else if let Some(rest) = line.strip_prefix("kapchart-bench-http: non-2xx ") {
            r.non2xx_script = rest.trim().parse().context("the script's non-2xx count")?;
            script = true;
        } else if let Some(rest) = line.strip_prefix("kapchart-bench-http: first error ") {
            r.first_error = Some(rest.to_owned());
        }
    }
    for (found, what) in [
        (requests, "the request count"),
        (per_sec, "Requests/sec"),
        (p50, "the 50% latency"),
        (p99, "the 99% latency"),
        (script, "the script's count of non-2xx responses"),
    ] {
        anyhow::ensure!(found, "no {what}");
    }
    Ok(r)
}

/// A wrk duration (`512.00us`, `1.83ms`, `1.02s`, `2.00m`, `1.00h`) in ms.
fn duration_ms(text: &str) -> anyhow::Result<f64> {
    let units = [
        ("us", 0.001),
        ("ms", 1.0),
        ("s", 1000.0),
        ("m", 60_000.0),
        ("h", 3_600_000.0),
    ];
    for (unit, ms) in units {
        if let Some(number) = text.strip_suffix(unit) {
            let value: f64 = number
                .parse()
                .with_context(|| format!("duration {text:?}"))?;
            return Ok(value * ms);
        }
    }
    bail!("duration {text:?} has no unit wrk uses")
}

/// The command line as given, for the record.
fn command_line() -> String {
    std::iter::once("kapchart-bench-http".to_owned())
        .chain(std::env::args().skip(1))
        .collect::<Vec<_>>()
        .join(" ")
}

fn median(values: impl Iterator<Item = f64>) -> f64 {
    let mut v: Vec<f64> = values.collect();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    match n {
        0 => 0.0,
        _ if n.is_multiple_of(2) => f64::midpoint(v[n / 2 - 1], v[n / 2]),
        _ => v[n / 2],
    }
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { 0.0 }
}

/// The results as Markdown.
fn report(
    out: &mut String,
    cli: &Cli,
    figures: &[(Figure, Figure)],
    context: &RunNotes,
) -> std::fmt::Result {
    use std::fmt::Write as _;
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    writeln!(out, "# kapchart-bench-http\n")?;
    writeln!(out, "command: `{}`  ", command_line())?;
    writeln!(
        out,
        "machine: {cores} cores shared by PostgreSQL {}, the server, wrk and this process; \
         load average (1 5 15 min) {} before, {} after  ",
        context.pg_version, context.load_before, context.load_after
    )?;
    writeln!(
        out,
        "data: {} clients x {} events per database, put back before each figure; \
         RecordPayment commands by the front desk, fresh ids; {} connections (wrk -t{} -c{}; \
         {} store tasks); {} s per figure, {} rounds, store first in odd rounds\n",
        cli.clients,
        cli.events_per_client,
        cli.connections,
        context.threads,
        cli.connections,
        cli.connections,
        cli.seconds,
        cli.rounds,
    )?;
    writeln!(
        out,
        "| round | store commands/s | store p50 / p99 ms | http commands/s | http p50 / p99 ms \
         | http / store |"
    )?;
    writeln!(out, "|---|---:|---:|---:|---:|---:|")?;
    for (i, (store, http)) in figures.iter().enumerate() {
        writeln!(
            out,
            "| {} | {:.0} | {:.2} / {:.2} | {:.0} | {:.2} / {:.2} | {:.2} |",
            i + 1,
            store.per_sec,
            store.p50_ms,
            store.p99_ms,
            http.per_sec,
            http.p50_ms,
            http.p99_ms,
            ratio(http.per_sec, store.per_sec)
        )?;
    }
    let m = |f: &dyn Fn(&(Figure, Figure)) -> f64| median(figures.iter().map(f));
    let (store_rate, http_rate) = (m(&|f| f.0.per_sec), m(&|f| f.1.per_sec));
    writeln!(
        out,
        "| **median** | **{:.0}** | {:.2} / {:.2} | **{:.0}** | {:.2} / {:.2} | **{:.2}** |\n",
        store_rate,
        m(&|f| f.0.p50_ms),
        m(&|f| f.0.p99_ms),
        http_rate,
        m(&|f| f.1.p50_ms),
        m(&|f| f.1.p99_ms),
        ratio(http_rate, store_rate)
    )?;

    writeln!(
        out,
        "Checks (commands completed, events the database gained during the figure):\n"
    )?;
    writeln!(out, "| round | store | http |")?;
    writeln!(out, "|---|---|---|")?;
    for (i, (store, http)) in figures.iter().enumerate() {
        writeln!(
            out,
            "| {} | {} commands, {} events; {} | {} requests (all 2xx), {} events; {} |",
            i + 1,
            store.commands,
            store.events_added,
            store.trouble,
            http.commands,
            http.events_added,
            http.trouble
        )?;
    }
    if figures
        .iter()
        .all(|(s, h)| s.cpu.is_some() && h.cpu.is_some())
    {
        writeln!(
            out,
            "\nCPU per command, ms (machine busy: share of all cores; other: kernel and other \
             processes):\n"
        )?;
        writeln!(
            out,
            "| round | figure | machine busy | this process | kapchart serve | wrk | PostgreSQL \
             | other |"
        )?;
        writeln!(out, "|---|---|---:|---:|---:|---:|---:|---:|")?;
        for (i, (store, http)) in figures.iter().enumerate() {
            for (name, f) in [("store", store), ("http", http)] {
                if let Some(c) = f.cpu {
                    writeln!(
                        out,
                        "| {} | {name} | {:.0}% | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} |",
                        i + 1,
                        c.busy_pct,
                        c.bench_ms,
                        c.server_ms,
                        c.wrk_ms,
                        c.postgres_ms,
                        c.other_ms
                    )?;
                }
            }
        }
    }
    writeln!(
        out,
        "\nPostgreSQL per command, in the figure's database (pg_stat_database; the server's \
         projector included):\n"
    )?;
    writeln!(
        out,
        "| round | figure | transactions | rows read (tup_returned) | rows written |"
    )?;
    writeln!(out, "|---|---|---:|---:|---:|")?;
    for (i, (store, http)) in figures.iter().enumerate() {
        for (name, f) in [("store", store), ("http", http)] {
            writeln!(
                out,
                "| {} | {name} | {:.2} | {:.1} | {:.2} |",
                i + 1,
                f.pg.transactions,
                f.pg.rows_read,
                f.pg.rows_written
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const WRK_OUTPUT: &str = "Running 10s test @ http://127.0.0.1:41234/
  2 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    38.06ms   12.23ms 121.63ms   70.12%
    Req/Sec   210.02     30.00   290.00     70.00%
  Latency Distribution
     50%   36.83ms
     75%   44.34ms
     90%   53.05ms
     99%    1.02s
  4201 requests in 10.01s, 1.50MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 3
Requests/sec:    419.75
Transfer/sec:    153.12KB
kapchart-bench-http: non-2xx 3
kapchart-bench-http: first error 422 {\"error\":\"client.not_registered\"}
";

    #[test]
    fn wrk_output_is_read() {
        let r = parse_wrk(WRK_OUTPUT).expect("parses");
        assert_eq!(r.requests, 4201);
        assert!((r.per_sec - 419.75).abs() < 1e-9);
        assert!((r.p50_ms - 36.83).abs() < 1e-9);
        assert!((r.p99_ms - 1020.0).abs() < 1e-9);
        assert_eq!(r.non2xx_wrk, 3);
        assert_eq!(r.non2xx_script, 3);
        assert_eq!(r.socket_errors, [0, 2, 0, 1]);
        assert_eq!(
            r.first_error.as_deref(),
            Some("422 {\"error\":\"client.not_registered\"}")
        );
    }

    #[test]
    fn wrk_output_without_figures_is_an_error() {
        assert!(parse_wrk("unable to connect to 127.0.0.1:1 Connection refused\n").is_err());
        // Without the script's own count of non-2xx responses.
        let without_script: String = WRK_OUTPUT
            .lines()
            .filter(|l| !l.starts_with("kapchart-bench-http"))
            .map(|l| format!("{l}\n"))
            .collect();
        assert!(parse_wrk(&without_script).is_err());
    }

    #[test]
    fn wrk_durations_are_read_in_ms() {
        assert!((duration_ms("512.00us").expect("us") - 0.512).abs() < 1e-9);
        assert!((duration_ms("1.83ms").expect("ms") - 1.83).abs() < 1e-9);
        assert!((duration_ms("2.50s").expect("s") - 2500.0).abs() < 1e-9);
        assert!((duration_ms("1.00m").expect("m") - 60_000.0).abs() < 1e-9);
        assert!(duration_ms("12").is_err());
        assert!(duration_ms("fast").is_err());
    }

    #[test]
    fn the_script_sends_the_body_serde_writes() {
        let script = lua_script("kc_token", 200, 2).expect("script");
        assert!(!script.contains('@'), "a constant is left unfilled");
        // What the script sends for id "h1-1-7", built the way it builds it.
        let before = script
            .split("local BODY_BEFORE = [==[")
            .nth(1)
            .and_then(|s| s.split("]==]").next())
            .expect("BODY_BEFORE");
        let after = script
            .split("local BODY_AFTER = [==[")
            .nth(1)
            .and_then(|s| s.split("]==]").next())
            .expect("BODY_AFTER");
        let sent = format!("{{\"id\":\"h1-1-7\",\"body\":{before}ph1-1-7{after}}}");
        let request: serde_json::Value = serde_json::from_str(&sent).expect("JSON");
        let body: CommandBody =
            serde_json::from_value(request["body"].clone()).expect("a command body");
        assert_eq!(body, payment_body("ph1-1-7").expect("body"));
        assert_eq!(request["id"], "h1-1-7");
    }

    #[test]
    fn the_script_names_clients_as_the_protocol_does() {
        // The script formats client ids as client-%05d.
        assert_eq!(protocol::client_id(7), "client-00007");
        assert!(LUA.contains("client-%05d"));
    }

    #[test]
    fn database_names_replace_the_servers() {
        assert_eq!(
            database_url("postgres://postgres@127.0.0.1:5432/postgres", HTTP_DB).expect("url"),
            "postgres://postgres@127.0.0.1:5432/kapchart_bench_http"
        );
        assert_eq!(
            database_url("postgres://u@h", STORE_DB).expect("url"),
            "postgres://u@h/kapchart_bench_http_store"
        );
    }

    #[test]
    fn wrk_threads_divide_the_connections() {
        assert_eq!(wrk_threads(16), 2);
        assert_eq!(wrk_threads(15), 1);
        assert_eq!(wrk_threads(1), 1);
    }
}
