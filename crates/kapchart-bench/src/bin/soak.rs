//! `kapchart-bench-soak`: mixed load on one `kapchart serve` for ten
//! minutes (commands, reads, reports), with the server's memory and each
//! kind of request's latency per minute, beside raw SQL inserts into a
//! plain table on the same PostgreSQL server in the same run: are memory
//! and latency flat, and when they move, is it kapchart or the machine?
//!
//! 1. **Setup (not measured).** Database `kapchart_bench_soak`, dropped
//!    and created afresh, gets kapchart's migrations, the accounts of the
//!    histories' therapist (`t-rivera`), prescriber and front desk
//!    (`fd-jones`) with a bearer token each, and `--clients` clients with
//!    `--events-per-client` entries of the KAP protocol each, through the
//!    real command path. Database `kapchart_bench_soak_raw` gets one plain
//!    table shaped like the event store's (no chain, no framework).
//!    `kapchart serve --listen 127.0.0.1:0` is started as a child process
//!    (killed at the end, also on an error or Ctrl-C) and its views are
//!    left to catch up.
//! 2. **The soak**, for `--minutes`: `--connections` tasks send requests
//!    at a fixed total rate (`--rate` per second; a task whose request
//!    took longer than its turn sends the next at once), so the load is
//!    the same in every minute and a slower server shows as latency, not
//!    as less work. Of every ten requests, on a client picked at random:
//!    - five commands: `RecordPayment` by the front desk, fresh command
//!      and payment ids (`POST /api/v1/clients/{id}/commands`);
//!    - two chart reads by the therapist (`GET /api/v1/clients/{id}/chart`);
//!    - two billing reads by the front desk (`GET /api/v1/clients/{id}/billing`);
//!    - one report: the billing report of March 2025, every client
//!      (`GET /api/v1/reports/billing`): a month of the histories, which
//!      the soak's payments (received today) are not in, so the report
//!      has the same rows to show in every minute.
//!
//!    Any reply but 2xx stops the run. Beside them, one task inserts a row
//!    shaped like a payment event into the raw table at the rate of the
//!    commands, each insert its own transaction: the baseline.
//!
//!    A server without autovacuum (this project's CI machine turns it off)
//!    would let the tables' dead rows and statistics go stale as no
//!    production server does: the soak then runs `VACUUM (ANALYZE)` on both
//!    databases at the start of each window in its place, and says so.
//! 3. **Figures, per minute:** each kind's p50/p99 latency, the commands
//!    applied per second, the server's resident memory (the highest of
//!    its samples, read from /proc every 5 s) and the events in the store;
//!    then the last minute against the second (the first holds the
//!    warm-up) for each.
//!
//! Progress goes to stderr, results (Markdown) to stdout.

use kapchart_bench::protocol;
use kapchart_bench::serve::{
    ServeProcess, database_url, kapchart_binary, load_average, wait_until_idle,
};
use kapchart_bench::stats::percentile;
use kapchart_bench::stores::{self, Server};

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow, bail};
use chrono::Utc;
use clap::Parser;
use kapchart_domain::{Role, UserId};
use kapchart_store::Database;
use serde_json::json;
use sqlx::postgres::PgPool;

/// The database `kapchart serve` serves.
const DB: &str = "kapchart_bench_soak";
/// The baseline's database.
const RAW_DB: &str = "kapchart_bench_soak_raw";

const THERAPIST: &str = "t-rivera";
const FRONT_DESK: &str = "fd-jones";

/// The seed of the client picks.
const SEED: u64 = 0x736f_616b;

/// The billing report's period: a month of the histories (which start on
/// 6 January 2025).
const REPORT_FROM: &str = "2025-03-01";
const REPORT_TO: &str = "2025-03-31";

/// How often the server's memory is read.
const MEMORY_SAMPLE: Duration = Duration::from_secs(5);

/// Mixed load (commands, reads, reports) on `kapchart serve` for ten
/// minutes: latency and the server's memory per minute, beside raw SQL
/// inserts in the same run.
///
/// Creates the databases kapchart_bench_soak and kapchart_bench_soak_raw,
/// serves the first with a `kapchart serve` child process, and sends
/// requests at a fixed rate. Progress goes to stderr, Markdown tables to
/// stdout. Needs a release build of kapchart (`cargo build --release -p
/// kapchart -p kapchart-bench`).
#[derive(Debug, Parser)]
#[command(name = "kapchart-bench-soak", version)]
struct Cli {
    /// The PostgreSQL server: a postgres:// URL of a role allowed to create
    /// databases.
    #[arg(
        long,
        value_name = "URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    database_url: String,

    /// How long the soak lasts, in minutes.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=1440))]
    minutes: u64,

    /// The length of one figure's window, in seconds.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(5..=3600))]
    window: u64,

    /// Clients in the practice, each the therapist's.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(10..=99_999))]
    clients: u32,

    /// Entries of each client's history before the soak.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=500))]
    events_per_client: u32,

    /// Requests per second, over all tasks.
    #[arg(long, default_value_t = 40, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    rate: u32,

    /// Concurrent tasks sending the requests.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=256))]
    connections: u32,

    /// The kapchart binary to serve with [default: `kapchart` beside this
    /// program, i.e. target/release/kapchart].
    #[arg(long, value_name = "PATH")]
    kapchart: Option<PathBuf>,

    /// Keep the databases at the end (for inspection).
    #[arg(long)]
    keep_database: bool,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match run(&cli).await {
        Ok(report) => {
            print!("{report}");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("kapchart-bench-soak: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn note(message: &str) {
    eprintln!("kapchart-bench-soak: {message}");
}

/// Sets up, soaks (until done, failed or Ctrl-C), and drops the databases
/// whatever happened.
async fn run(cli: &Cli) -> anyhow::Result<String> {
    let kapchart = kapchart_binary(cli.kapchart.as_deref())?;
    let server = Server::new(&cli.database_url)?;
    let mut admin = server.admin().await?;
    stores::recreate(&mut admin, &[DB, RAW_DB]).await?;
    let result = tokio::select! {
        r = soak(cli, &server, &kapchart) => r,
        _ = tokio::signal::ctrl_c() => Err(anyhow!("interrupted")),
    };
    if !cli.keep_database {
        match server.admin().await {
            Ok(mut admin) => {
                for name in [DB, RAW_DB] {
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

/// The accounts and every client's history. Returns the therapist's and
/// the front desk's bearer tokens.
async fn setup(
    server: &Server,
    clients: usize,
    per_client: usize,
) -> anyhow::Result<(String, String)> {
    const TASKS: usize = 16;
    let pool = server.setup_pool(DB, TASKS as u32 + 2).await?;
    let db = Database::Postgres(pool.clone());
    db.migrate().await?;
    let by = kapchart_store::access::AccessActor {
        user_id: UserId::parse(kapchart_store::accounts::LOCAL_ADMIN)?,
        role: Role::Admin,
    };
    let mut tokens = Vec::new();
    for (id, role) in [
        (THERAPIST, Role::Therapist),
        ("rx-chen", Role::Prescriber),
        (FRONT_DESK, Role::FrontDesk),
    ] {
        let (_, issued) = kapchart_store::accounts::add_user(
            &db,
            &UserId::parse(id)?,
            role,
            None,
            &by,
            Utc::now(),
        )
        .await
        .with_context(|| format!("adding the account {id}"))?;
        tokens.push(issued.token);
    }
    let cqrs = Arc::new(db.client_cqrs(kapchart_store::system_clock(), stores::services()));
    stores::fill_with(
        "setup",
        cqrs,
        clients,
        clients * per_client,
        move |i| protocol::history(i, per_client),
        TASKS,
    )
    .await?;
    pool.close().await;

    let raw = server.setup_pool(RAW_DB, 1).await?;
    sqlx::raw_sql(
        "CREATE TABLE raw_events (position BIGSERIAL PRIMARY KEY, aggregate_id TEXT NOT NULL, \
         sequence BIGINT NOT NULL, event_type TEXT NOT NULL, payload JSON NOT NULL, \
         metadata JSON NOT NULL, UNIQUE (aggregate_id, sequence))",
    )
    .execute(&raw)
    .await
    .context("creating the baseline's table")?;
    raw.close().await;

    let desk = tokens.pop().context("the front desk's token")?;
    tokens.truncate(1);
    let therapist = tokens.pop().context("the therapist's token")?;
    Ok((therapist, desk))
}

/// The kinds of request measured, in the tables' order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Command,
    Chart,
    Billing,
    Report,
    RawInsert,
}

impl Kind {
    const ALL: [Kind; 5] = [
        Kind::Command,
        Kind::Chart,
        Kind::Billing,
        Kind::Report,
        Kind::RawInsert,
    ];

    fn label(self) -> &'static str {
        match self {
            Kind::Command => "command (RecordPayment)",
            Kind::Chart => "chart read",
            Kind::Billing => "billing read",
            Kind::Report => "billing report, a month",
            Kind::RawInsert => "baseline: raw INSERT",
        }
    }

    /// The `n`-th request of a task: five commands, two chart reads, two
    /// billing reads and a report in every ten.
    fn of(n: u64) -> Kind {
        match n % 10 {
            0 | 2 | 4 | 6 | 8 => Kind::Command,
            1 | 5 => Kind::Chart,
            3 | 7 => Kind::Billing,
            _ => Kind::Report,
        }
    }
}

/// What one window (minute) saw.
#[derive(Debug, Default, Clone)]
struct Window {
    /// Latencies in microseconds, by `Kind::ALL`'s order.
    latencies_us: [Vec<u64>; 5],
    /// The server's resident memory samples, in KiB.
    rss_kib: Vec<u64>,
    /// Events in the store at the window's end.
    events: Option<i64>,
}

/// Every window's samples, filled by the tasks.
#[derive(Debug)]
struct Recorder {
    started: Instant,
    window: Duration,
    count: usize,
    windows: Mutex<Vec<Window>>,
}

impl Recorder {
    fn new(window: Duration, count: usize) -> Self {
        Self {
            started: Instant::now(),
            window,
            count,
            windows: Mutex::new(vec![Window::default(); count]),
        }
    }

    /// The window `at` falls in, if inside the soak.
    fn index(&self, at: Instant) -> Option<usize> {
        let i =
            (at.duration_since(self.started).as_secs_f64() / self.window.as_secs_f64()) as usize;
        (i < self.count).then_some(i)
    }

    fn latency(&self, kind: Kind, began: Instant) {
        let now = Instant::now();
        if let Some(i) = self.index(now) {
            let k = Kind::ALL.iter().position(|x| *x == kind).unwrap_or(0);
            if let Ok(mut w) = self.windows.lock() {
                w[i].latencies_us[k].push(now.duration_since(began).as_micros() as u64);
            }
        }
    }

    fn with_window(&self, f: impl FnOnce(&mut Window)) {
        if let (Some(i), Ok(mut w)) = (self.index(Instant::now()), self.windows.lock()) {
            f(&mut w[i]);
        }
    }

    fn done(&self, at: Instant) -> bool {
        self.index(at).is_none()
    }
}

/// Everything a load task needs.
struct Load {
    http: reqwest::Client,
    base: String,
    therapist: String,
    desk: String,
    clients: usize,
    recorder: Arc<Recorder>,
    /// The day the soak's payments are received.
    today: String,
}

impl Load {
    /// Sends task `w`'s `n`-th request and records its latency.
    async fn request(&self, w: usize, n: u64) -> anyhow::Result<()> {
        let kind = Kind::of(n);
        let client = protocol::client_id(kapchart_bench::load::pick(SEED, w, n, self.clients));
        let request = match kind {
            Kind::Command => {
                let tag = format!("soak-{w}-{n}");
                self.http
                    .post(format!("{}/api/v1/clients/{client}/commands", self.base))
                    .bearer_auth(&self.desk)
                    .json(&json!({
                        "id": tag,
                        "body": { "RecordPayment": {
                            "payment": tag,
                            "amount": 17_500,
                            "method": "card",
                            "payer": "client",
                            "received_on": self.today,
                            "session": null,
                        }},
                    }))
            }
            Kind::Chart => self
                .http
                .get(format!(
                    "{}/api/v1/clients/{client}/chart?purpose=treatment",
                    self.base
                ))
                .bearer_auth(&self.therapist),
            Kind::Billing => self
                .http
                .get(format!(
                    "{}/api/v1/clients/{client}/billing?purpose=payment",
                    self.base
                ))
                .bearer_auth(&self.desk),
            Kind::Report | Kind::RawInsert => self
                .http
                .get(format!(
                    "{}/api/v1/reports/billing?purpose=payment&from={REPORT_FROM}&to={REPORT_TO}",
                    self.base
                ))
                .bearer_auth(&self.desk),
        };
        let began = Instant::now();
        let response = request
            .send()
            .await
            .with_context(|| format!("{} for {client}: no answer", kind.label()))?;
        let status = response.status();
        let body = response.bytes().await.context("reading a reply")?;
        if !status.is_success() {
            bail!(
                "{} for {client}: {status}: {}",
                kind.label(),
                String::from_utf8_lossy(&body)
            );
        }
        self.recorder.latency(kind, began);
        Ok(())
    }
}

/// One load task: its share of the rate until the soak is over.
async fn task(load: Arc<Load>, w: usize, period: Duration) -> anyhow::Result<u64> {
    let mut ticks = tokio::time::interval(period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut n = 0;
    loop {
        let at = ticks.tick().await;
        if load.recorder.done(at.into_std()) {
            return Ok(n);
        }
        load.request(w, n).await?;
        n += 1;
    }
}

/// The baseline: a row shaped like a payment event inserted into the raw
/// table at `period`, each insert its own transaction.
async fn baseline(pool: PgPool, recorder: Arc<Recorder>, period: Duration) -> anyhow::Result<u64> {
    let payload = json!({ "PaymentRecorded": {
        "payment": "raw-0", "amount": 17_500, "method": "card", "payer": "client",
        "received_on": "2026-01-05", "session": null,
    }});
    let metadata =
        json!({ "actor_id": FRONT_DESK, "actor_role": "front_desk", "command_id": "raw-0" });
    let mut ticks = tokio::time::interval(period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut n: u64 = 0;
    loop {
        let at = ticks.tick().await;
        if recorder.done(at.into_std()) {
            return Ok(n);
        }
        let began = Instant::now();
        sqlx::query(
            "INSERT INTO raw_events (aggregate_id, sequence, event_type, payload, metadata) \
             VALUES ($1, $2, 'PaymentRecorded', $3, $4)",
        )
        .bind("raw")
        .bind(n as i64)
        .bind(&payload)
        .bind(&metadata)
        .execute(&pool)
        .await
        .context("the baseline's insert")?;
        recorder.latency(Kind::RawInsert, began);
        n += 1;
    }
}

/// The server's resident memory, in KiB, from /proc.
fn resident_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Samples the server's memory every [`MEMORY_SAMPLE`], and the events in
/// the store near each window's end, until the soak is over.
async fn sampler(pid: u32, pool: PgPool, recorder: Arc<Recorder>) -> anyhow::Result<()> {
    let mut ticks = tokio::time::interval(MEMORY_SAMPLE);
    loop {
        let at = ticks.tick().await;
        if recorder.done(at.into_std()) {
            return Ok(());
        }
        let rss = resident_kib(pid).context("the server's memory (/proc/PID/status)")?;
        let events: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
            .fetch_one(&pool)
            .await
            .context("counting events")?;
        recorder.with_window(|w| {
            w.rss_kib.push(rss);
            w.events = Some(events);
        });
    }
}

/// In place of autovacuum, when the server runs without it (this
/// project's CI machine sets `autovacuum = off`): `VACUUM (ANALYZE)` of
/// both databases at the start of every window, as autovacuum would keep
/// a production server's tables vacuumed and their statistics current.
async fn vacuumer(pools: [PgPool; 2], recorder: Arc<Recorder>) -> anyhow::Result<()> {
    let mut ticks = tokio::time::interval(recorder.window);
    ticks.tick().await;
    loop {
        let at = ticks.tick().await;
        if recorder.done(at.into_std()) {
            return Ok(());
        }
        for pool in &pools {
            sqlx::raw_sql("VACUUM (ANALYZE)")
                .execute(pool)
                .await
                .context("VACUUM (ANALYZE) in place of autovacuum")?;
        }
    }
}

async fn soak(cli: &Cli, server: &Server, kapchart: &std::path::Path) -> anyhow::Result<String> {
    let clients = cli.clients as usize;
    let per_client = cli.events_per_client as usize;
    note(&format!(
        "setting up {clients} clients with {per_client} entries each"
    ));
    let (therapist, desk) = setup(server, clients, per_client).await?;
    let url = database_url(&cli.database_url, DB)?;
    let mut serve = ServeProcess::start(kapchart, &url).await?;
    note(&format!(
        "kapchart serve (pid {}) listens on {}",
        serve.pid, serve.address
    ));
    wait_until_idle(serve.pid).await?;

    let windows = (cli.minutes * 60).div_ceil(cli.window) as usize;
    let recorder = Arc::new(Recorder::new(Duration::from_secs(cli.window), windows));
    let today = Utc::now().date_naive();
    let load = Arc::new(Load {
        http: reqwest::Client::builder()
            .pool_max_idle_per_host(cli.connections as usize)
            .timeout(Duration::from_secs(60))
            .build()?,
        base: format!("http://{}", serve.address),
        therapist,
        desk,
        clients,
        recorder: Arc::clone(&recorder),
        today: today.to_string(),
    });
    let period = Duration::from_secs_f64(f64::from(cli.connections) / f64::from(cli.rate));
    // The baseline inserts at the commands' rate: half of all requests.
    let raw_period = Duration::from_secs_f64(2.0 / f64::from(cli.rate));
    let raw = server.pool(RAW_DB, 2).await?;
    let watch = server.pool(DB, 1).await?;
    note(&format!(
        "soaking for {} min at {} requests/s from {} tasks (load average {})",
        cli.minutes,
        cli.rate,
        cli.connections,
        load_average()
    ));
    let mut tasks = tokio::task::JoinSet::new();
    for w in 0..cli.connections as usize {
        tasks.spawn(task(Arc::clone(&load), w, period));
    }
    tasks.spawn(baseline(raw.clone(), Arc::clone(&recorder), raw_period));
    let memory = tokio::spawn(sampler(serve.pid, watch.clone(), Arc::clone(&recorder)));
    let autovacuum: String = sqlx::query_scalar("SHOW autovacuum")
        .fetch_one(&watch)
        .await
        .context("SHOW autovacuum")?;
    let vacuum = if autovacuum == "on" {
        None
    } else {
        note("the server's autovacuum is off: VACUUM (ANALYZE) each window in its place");
        Some(tokio::spawn(vacuumer(
            [server.pool(DB, 1).await?, server.pool(RAW_DB, 1).await?],
            Arc::clone(&recorder),
        )))
    };
    let progress = tokio::spawn({
        let recorder = Arc::clone(&recorder);
        async move {
            let mut ticks = tokio::time::interval(recorder.window);
            ticks.tick().await;
            let mut minute = 0;
            loop {
                let at = ticks.tick().await;
                minute += 1;
                if recorder.done(at.into_std()) {
                    break;
                }
                note(&format!("window {minute} done"));
            }
        }
    });
    let mut sent = 0;
    while let Some(done) = tasks.join_next().await {
        sent += done.context("a load task")??;
        serve.check_running()?;
    }
    memory.await.context("the sampler")??;
    if let Some(vacuum) = vacuum {
        vacuum.await.context("the vacuum task")??;
    }
    progress.abort();
    raw.close().await;
    watch.close().await;
    serve.stop().await?;

    let windows = recorder
        .windows
        .lock()
        .map_err(|_| anyhow!("a task panicked"))?
        .clone();
    Ok(report(cli, sent, &windows, autovacuum == "on"))
}

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

/// The tables: per window, then the last window against the second.
fn report(cli: &Cli, sent: u64, windows: &[Window], autovacuum: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Soak: {} min, {} requests/s from {} tasks, {} clients with {} entries each; \
         {sent} requests and their baseline inserts sent. Latency p50 / p99 in ms; memory is \
         the server's resident set (highest sample in the window).\n",
        cli.minutes, cli.rate, cli.connections, cli.clients, cli.events_per_client
    );
    if !autovacuum {
        let _ = writeln!(
            out,
            "The PostgreSQL server's autovacuum is off: the soak ran VACUUM (ANALYZE) on both \
             databases at the start of each window in its place.\n"
        );
    }
    let _ = write!(out, "| window | commands/s |");
    for kind in Kind::ALL {
        let _ = write!(out, " {} |", kind.label());
    }
    let _ = writeln!(out, " serve RSS (MiB) | events |");
    let _ = writeln!(out, "|---|---|{}---|---|", "---|".repeat(Kind::ALL.len()));
    let mut summaries = Vec::new();
    for (i, w) in windows.iter().enumerate() {
        let mut sorted = w.latencies_us.clone();
        for s in &mut sorted {
            s.sort_unstable();
        }
        let commands = sorted[0].len() as f64 / cli.window as f64;
        let _ = write!(out, "| {} | {commands:.1} |", i + 1);
        let mut row = Vec::new();
        for s in &sorted {
            let (p50, p99) = (ms(percentile(s, 50.0)), ms(percentile(s, 99.0)));
            row.push((p50, p99));
            let _ = write!(out, " {p50:.1} / {p99:.1} |");
        }
        let rss = w.rss_kib.iter().max().copied().unwrap_or(0) as f64 / 1024.0;
        let events = w.events.map_or_else(|| "—".to_owned(), |e| e.to_string());
        let _ = writeln!(out, " {rss:.0} | {events} |");
        summaries.push((row, rss));
    }
    if summaries.len() >= 3 {
        let (second, last) = (&summaries[1], &summaries[summaries.len() - 1]);
        let _ = writeln!(
            out,
            "\nThe last window against the second (the first holds the warm-up):\n\n\
             | | p50 last / second | p99 last / second |\n|---|---|---|"
        );
        for (k, kind) in Kind::ALL.iter().enumerate() {
            let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { f64::NAN };
            let _ = writeln!(
                out,
                "| {} | {:.2} | {:.2} |",
                kind.label(),
                ratio(last.0[k].0, second.0[k].0),
                ratio(last.0[k].1, second.0[k].1)
            );
        }
        let _ = writeln!(
            out,
            "| serve RSS | {:.0} MiB → {:.0} MiB ({:+.1}%) | |",
            second.1,
            last.1,
            if second.1 > 0.0 {
                (last.1 / second.1 - 1.0) * 100.0
            } else {
                f64::NAN
            }
        );
    }
    out
}
