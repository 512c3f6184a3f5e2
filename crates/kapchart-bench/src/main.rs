//! `kapchart-bench`: the write and verify benchmark on PostgreSQL.
//!
//! In one run, on one server, on clients that already hold a realistic
//! history (the KAP protocol, about 50 events each), each figure over a
//! fixed window after a warm-up:
//! 1. commands/s through kapchart's store, with the chain, for each writer
//!    count;
//! 2. the same commands, aggregate and services through plain postgres-es
//!    (event-store mode, its own schema);
//! 3. raw single-row INSERT commits into kapchart's events table;
//! 4. `kapchart_store::audit::verify` over the chain database (events/s)
//!    against a raw streaming SELECT of the same columns of every row;
//!
//! then a breakdown of where one command's time goes (`breakdown.rs`): each
//! store's repository load and persist timed on the real command path, the
//! client-side CPU steps (row decoding, cqrs-es, the domain, the chain link
//! through `kapchart_audit`), and the SQL statements each store sends,
//! replayed one by one. Every chain figure goes through `kapchart_store`
//! itself: the bench holds no store of its own. Figures compared with
//! each other are interleaved in slices (`load.rs`). Progress goes to
//! stderr, results to stdout (a table, or JSON with `--json`). It is a
//! program, not a test: `cargo run --release -p kapchart-bench`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use cqrs_es::{CqrsFramework, EventStore};
use futures_util::{FutureExt, TryStreamExt};
use kapchart_bench::{breakdown, load, protocol, report, stores};
use kapchart_domain::ClientRecord;
use kapchart_store::Database;
use kapchart_store::audit::{VerifyOptions, verify};
use serde_json::Value;
use sqlx::Row as _;
use sqlx::postgres::PgPool;

use kapchart_bench::load::{Job, Op};
use kapchart_bench::report::{Machine, Report, VerifyRow, WriteRow};
use kapchart_bench::stores::{CHAIN_DB, DATABASES, PLAIN_DB, RAW_DB, Server};

/// Benchmarks kapchart's chained event store against plain postgres-es and
/// raw INSERT commits on one PostgreSQL server, and verification against a
/// raw scan.
///
/// Creates its own databases on the server (kapchart_bench_chain,
/// kapchart_bench_plain, kapchart_bench_raw), dropped and recreated at the
/// start and dropped at the end. Writer counts are measured in turn; each
/// figure's window is cut into slices that alternate between the chain,
/// postgres-es and raw INSERTs (and between verify and the raw scan), then
/// a breakdown shows where one command's time goes. Progress goes to
/// stderr, results to stdout.
#[derive(Debug, Parser)]
#[command(name = "kapchart-bench", version)]
struct Cli {
    /// The PostgreSQL server: a postgres:// URL of a role allowed to create
    /// databases (and, for CHECKPOINT between figures, a superuser).
    #[arg(
        long,
        value_name = "URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    database_url: String,

    /// Clients, each with a full history, that the commands are spread
    /// over.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
    clients: u32,

    /// Events in each client's history before the figures.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..))]
    events_per_client: u32,

    /// Duration of each figure, in seconds (after a warm-up of a fifth of
    /// it, at most 2 s; each later slice after a fifth of that).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    seconds: u64,

    /// Concurrent writer counts, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,4,16", value_parser = clap::value_parser!(u32).range(1..=64))]
    writers: Vec<u32>,

    /// Concurrent tasks filling the histories (setup, not measured).
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=64))]
    setup_tasks: u32,

    /// Slices each figure's window is cut into; the slices of the figures
    /// compared with each other alternate, so that background load on the
    /// machine falls on all of them alike.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=100))]
    slices: u32,

    /// Skip the breakdown of where a command's time goes (repository load
    /// and persist on the real path, client CPU steps, SQL statements
    /// replayed).
    #[arg(long)]
    no_breakdown: bool,

    /// Keep the databases at the end (for inspection).
    #[arg(long)]
    keep_databases: bool,

    /// Print the results as JSON on stdout instead of a table.
    #[arg(long)]
    json: bool,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match run(&cli).await {
        Ok(report) => {
            if cli.json {
                match serde_json::to_string_pretty(&report) {
                    Ok(text) => println!("{text}"),
                    Err(e) => {
                        eprintln!("kapchart-bench: {e}");
                        return std::process::ExitCode::FAILURE;
                    }
                }
            } else {
                print!("{}", report::table(&report));
            }
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("kapchart-bench: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Sets up, measures, and drops the databases whatever happened.
async fn run(cli: &Cli) -> anyhow::Result<Report> {
    let server = Server::new(&cli.database_url)?;
    let mut admin = server.admin().await?;
    stores::recreate(&mut admin, &DATABASES).await?;
    let result = measure(cli, &server, &mut admin).await;
    if !cli.keep_databases {
        for name in DATABASES {
            if let Err(e) = stores::drop_database(&mut admin, name).await {
                eprintln!("warning: {e:#}");
            }
        }
    }
    result
}

fn note(message: &str) {
    eprintln!("kapchart-bench: {message}");
}

async fn measure(
    cli: &Cli,
    server: &Server,
    admin: &mut sqlx::PgConnection,
) -> anyhow::Result<Report> {
    let clients = cli.clients as usize;
    let per_client = cli.events_per_client as usize;
    let window = Duration::from_secs(cli.seconds);
    let warmup = (window / 5).min(Duration::from_secs(2));
    let machine = machine(admin).await?;
    note(&format!(
        "{} cores; {}; synchronous_commit={}, fsync={}, shared_buffers={}",
        machine.cores,
        machine.server_version,
        machine.synchronous_commit,
        machine.fsync,
        machine.shared_buffers
    ));

    // ---- setup (not measured) ----
    let t = Instant::now();
    let tasks = cli.setup_tasks as usize;
    stores::setup_chain(server, clients, per_client, tasks).await?;
    note(&format!(
        "chain database filled: {clients} clients x {per_client} events in {:.0} s",
        t.elapsed().as_secs_f64()
    ));
    let t = Instant::now();
    stores::setup_plain(server, clients, per_client, tasks).await?;
    note(&format!(
        "postgres-es database filled in {:.0} s",
        t.elapsed().as_secs_f64()
    ));
    stores::setup_raw(server).await?;

    // Every writer holds at most one connection at a time.
    let pool_size = cli.writers.iter().copied().max().unwrap_or(1) + 2;
    let chain_pool = server.pool(CHAIN_DB, pool_size).await?;
    let plain_pool = server.pool(PLAIN_DB, pool_size).await?;
    let raw_pool = server.pool(RAW_DB, pool_size).await?;
    let expected = (clients * per_client) as i64;
    for (name, pool) in [
        (CHAIN_DB, &chain_pool),
        (PLAIN_DB, &plain_pool),
        (RAW_DB, &raw_pool),
    ] {
        stores::reset(pool, per_client).await?;
        let rows = stores::count_events(pool).await?;
        anyhow::ensure!(
            rows == expected,
            "{name} holds {rows} events, expected {expected}"
        );
    }
    note(&format!(
        "each database holds {expected} events; warm-up {:.1} s, window {} s per figure",
        warmup.as_secs_f64(),
        cli.seconds
    ));

    let chain_db = Database::Postgres(chain_pool.clone());
    let plain_cqrs = Arc::new(postgres_es::postgres_cqrs(
        plain_pool.clone(),
        vec![],
        stores::services(),
    ));
    let raw_rows = [
        breakdown::sample_event(0).await?,
        breakdown::sample_event(1).await?,
    ];

    // ---- write figures ----
    let mut writes = Vec::new();
    for &w in &cli.writers {
        let w = w as usize;
        let seed = 0x6B61_7063_6861_7274 ^ w as u64;
        for pool in [&chain_pool, &plain_pool, &raw_pool] {
            stores::reset(pool, per_client).await?;
        }
        stores::checkpoint(admin).await;
        // A fresh chain repository per writer count, as a fresh process
        // would have: it remembers last links, and the rows of the
        // previous figures are gone.
        let chain_cqrs =
            Arc::new(chain_db.client_cqrs(kapchart_store::system_clock(), stores::services()));
        let mut jobs = [
            Job::new(
                format!("chain, {w} writers"),
                w,
                command_op(Arc::clone(&chain_cqrs), format!("c{w}"), seed, clients),
            ),
            Job::new(
                format!("postgres-es, {w} writers"),
                w,
                command_op(Arc::clone(&plain_cqrs), format!("p{w}"), seed, clients),
            ),
            Job::new(
                format!("raw INSERT, {w} writers"),
                w,
                raw_insert_op(&raw_pool, &raw_rows, seed, clients),
            ),
        ];
        let mut figures = load::interleaved(&mut jobs, cli.slices, warmup, window)
            .await?
            .into_iter();
        let (Some(chain), Some(plain), Some(raw)) =
            (figures.next(), figures.next(), figures.next())
        else {
            anyhow::bail!("missing figures");
        };
        note(&format!(
            "{w} writers: chain {:.0} commands/s, postgres-es {:.0} commands/s, raw INSERT {:.0} commits/s",
            chain.per_sec, plain.per_sec, raw.per_sec
        ));
        // The chain the figures extended still verifies.
        let report = verify(&chain_db, &VerifyOptions::default(), &|_| {}).await?;
        anyhow::ensure!(
            report.is_intact(),
            "after the {w}-writer figures {CHAIN_DB} does not verify: {} findings",
            report.findings.len()
        );
        writes.push(WriteRow::new(w, chain, plain, raw));
    }

    // ---- verify against a raw scan ----
    stores::reset(&chain_pool, per_client).await?;
    stores::checkpoint(admin).await;
    let mut jobs = [
        Job::new("verify", 1, verify_op(&chain_db)),
        Job::new("raw scan", 1, scan_op(&chain_pool)),
    ];
    let mut figures = load::interleaved(&mut jobs, cli.slices, warmup, window)
        .await?
        .into_iter();
    let (Some(verify_figure), Some(scan)) = (figures.next(), figures.next()) else {
        anyhow::bail!("missing figures");
    };
    note(&format!(
        "verify {:.0} events/s, raw scan {:.0} events/s",
        verify_figure.per_sec, scan.per_sec
    ));
    let verify_row = VerifyRow::new(verify_figure, scan);

    // ---- breakdown ----
    let breakdown = if cli.no_breakdown {
        None
    } else {
        for pool in [&chain_pool, &plain_pool] {
            stores::reset(pool, per_client).await?;
        }
        stores::checkpoint(admin).await;
        let cpu = breakdown::cpu_steps(&chain_pool, clients.min(20))
            .await
            .context("breakdown: client CPU steps")?;
        let path = breakdown::paths(
            &chain_pool,
            &plain_pool,
            clients,
            cli.slices,
            warmup,
            window,
        )
        .await
        .context("breakdown: timed command path")?;
        stores::reset(&chain_pool, per_client).await?;
        stores::reset(&plain_pool, per_client).await?;
        stores::checkpoint(admin).await;
        let sql = breakdown::sql_steps(&chain_pool, &plain_pool, clients, cli.slices, window)
            .await
            .context("breakdown: SQL steps")?;
        Some(breakdown::Breakdown { path, cpu, sql })
    };

    chain_pool.close().await;
    plain_pool.close().await;
    raw_pool.close().await;
    let mut machine = machine;
    machine.load_average_after = load_average();
    Ok(Report {
        command: command_line(),
        machine,
        clients: cli.clients,
        events_per_client: cli.events_per_client,
        seconds: cli.seconds,
        warmup_seconds: warmup.as_secs_f64(),
        slices: cli.slices,
        writes,
        verify: verify_row,
        breakdown,
    })
}

/// The 1, 5 and 15 minute load averages, when /proc/loadavg exists.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".to_owned())
}

/// The command line as given, for the record.
fn command_line() -> String {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.is_empty() {
        "kapchart-bench".to_owned()
    } else {
        format!("kapchart-bench {}", args.join(" "))
    }
}

async fn machine(admin: &mut sqlx::PgConnection) -> anyhow::Result<Machine> {
    let setting = |name: &'static str| {
        sqlx::query_scalar::<_, String>("SELECT current_setting($1)").bind(name)
    };
    Ok(Machine {
        cores: std::thread::available_parallelism()
            .map(usize::from)
            .unwrap_or(0),
        server_version: sqlx::query_scalar("SELECT version()")
            .fetch_one(&mut *admin)
            .await?,
        synchronous_commit: setting("synchronous_commit").fetch_one(&mut *admin).await?,
        fsync: setting("fsync").fetch_one(&mut *admin).await?,
        shared_buffers: setting("shared_buffers").fetch_one(&mut *admin).await?,
        wal_sync_method: setting("wal_sync_method").fetch_one(&mut *admin).await?,
        load_average_before: load_average(),
        load_average_after: String::new(),
    })
}

/// Measured commands through `cqrs`: writer `w`'s `n`-th goes to a client
/// picked by (seed, w, n), with ids tagged `tag`.
fn command_op<ES>(
    cqrs: Arc<CqrsFramework<ClientRecord, ES>>,
    tag: String,
    seed: u64,
    clients: usize,
) -> Op
where
    ES: EventStore<ClientRecord> + 'static,
    ES::AC: Send,
{
    let tag = Arc::new(tag);
    Arc::new(move |writer, n| {
        let cqrs = Arc::clone(&cqrs);
        let tag = Arc::clone(&tag);
        async move {
            let client = protocol::client_id(load::pick(seed, writer, n, clients));
            let command = protocol::bench_command(&format!("{tag}-{writer}"), n)?;
            let conflicts = stores::execute(&cqrs, &client, command).await?;
            Ok((1, conflicts))
        }
        .boxed()
    })
}

/// Single-row INSERT commits (autocommit, one statement per operation)
/// into kapchart's events table: the statement kapchart-store sends for one
/// event (`breakdown::CHAIN_INSERT`, JSON as text cast to `json`), with a
/// stored event's payload and metadata (alternating an outcome measure and
/// a payment), but no load, no decision and no chain link.
fn raw_insert_op(
    pool: &PgPool,
    rows: &[(String, Value, Value); 2],
    seed: u64,
    clients: usize,
) -> Op {
    let rows: Arc<Vec<(String, String, String)>> = Arc::new(
        rows.iter()
            .map(|(t, p, m)| {
                let mut m = m.as_object().cloned().unwrap_or_default();
                m.insert(
                    "recorded_at".to_owned(),
                    Value::String("2026-01-05T20:00:00.000000Z".to_owned()),
                );
                (t.clone(), p.to_string(), Value::Object(m).to_string())
            })
            .collect(),
    );
    let pool = pool.clone();
    Arc::new(move |writer, n| {
        let pool = pool.clone();
        let rows = Arc::clone(&rows);
        async move {
            let client = protocol::client_id(load::pick(seed, writer, n, clients));
            let (event_type, payload, metadata) = &rows[(n % 2) as usize];
            // Above any history's sequence; unique per writer and
            // operation (the rows are removed after the figure).
            let sequence = 1_000_000_000 + writer as i64 * 100_000_000 + n as i64;
            sqlx::query(breakdown::CHAIN_INSERT)
                .bind(kapchart_store::CLIENT_RECORD)
                .bind(&client)
                .bind(sequence)
                .bind(event_type)
                .bind("1")
                .bind(payload)
                .bind(metadata)
                .bind("a3f1c2e4b5d6978812aa34bc56de78f09a1b2c3d4e5f60718293a4b5c6d7e8f9")
                .bind("0f9e8d7c6b5a49382716f5e4d3c2b1a0ffeeddccbbaa99887766554433221100")
                .execute(&pool)
                .await
                .context("raw INSERT")?;
            Ok((1, 0))
        }
        .boxed()
    })
}

/// `audit::verify` over the whole chain database, one pass per operation,
/// counting its rows.
fn verify_op(db: &Database) -> Op {
    let db = db.clone();
    Arc::new(move |_, _| {
        let db = db.clone();
        async move {
            let report = verify(&db, &VerifyOptions::default(), &|_| {}).await?;
            anyhow::ensure!(
                report.is_intact(),
                "the chain database does not verify: {} findings",
                report.findings.len()
            );
            Ok((report.rows, 0))
        }
        .boxed()
    })
}

/// The same query as `audit::verify` (same columns, JSON as text, same
/// order), streamed, every column read (borrowed, not parsed), one pass
/// per operation.
fn scan_op(pool: &PgPool) -> Op {
    let pool = pool.clone();
    Arc::new(move |_, _| {
        let pool = pool.clone();
        async move {
            let mut rows = sqlx::query(
                "SELECT position, aggregate_type, aggregate_id, sequence, event_type, \
                 event_version, payload::text AS payload, metadata::text AS metadata, \
                 prev_hash, hash FROM events ORDER BY aggregate_type, aggregate_id, sequence",
            )
            .fetch(&pool);
            let mut n = 0_u64;
            let mut bytes = 0_usize;
            while let Some(row) = rows.try_next().await? {
                let position: i64 = row.try_get(0)?;
                let sequence: i64 = row.try_get(3)?;
                for k in [1, 2, 4, 5, 6, 7, 8, 9] {
                    bytes += row.try_get::<&str, _>(k)?.len();
                }
                std::hint::black_box((position, sequence));
                n += 1;
            }
            std::hint::black_box(bytes);
            Ok((n, 0))
        }
        .boxed()
    })
}
