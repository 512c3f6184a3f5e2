//! `kapchart-bench-rebuild`: how fast `kapchart rebuild` rebuilds the views
//! from a large event store on PostgreSQL, against a raw scan of the same
//! feed rows in the same run.
//!
//! 1. **Data (not measured).** Database `kapchart_bench_rebuild` on the
//!    server holds a sample practice written by `kapchart demo`'s generator
//!    (`kapchart_demo::generate`, the real command path) with `--clients`
//!    clients; with `--reuse` an existing one is kept (generating a million
//!    events takes most of an hour here, at `synchronous_commit = off`,
//!    which is reset before any figure); `--generate-only` stops there.
//! 2. **Figures**, interleaved for `--rounds` rounds so that other work on
//!    the machine falls on all alike:
//!    - raw scan: a streaming `SELECT` of the columns the projector reads,
//!      of every event in feed order, each column read as borrowed text and
//!      not parsed;
//!    - rebuild: `Projector::rebuild` of all four views (fold the whole feed
//!      in memory, write every row, switch generations), events/s;
//!    - rebuild of each view alone.
//!
//! Progress to stderr, results (a Markdown table) to stdout; `RUST_LOG=info`
//! adds the projector's timings of each phase of a rebuild.

use std::time::Instant;

use anyhow::Context as _;
use clap::Parser;
use futures_util::TryStreamExt as _;
use kapchart_projector::Projector;
use kapchart_store::Database;
use kapchart_views::ViewName;
use sqlx::Row as _;

const DATABASE: &str = "kapchart_bench_rebuild";

/// Rebuild rate of kapchart's views against a raw scan of the feed, on
/// PostgreSQL.
#[derive(Debug, Parser)]
#[command(name = "kapchart-bench-rebuild", version)]
struct Cli {
    /// The PostgreSQL server: a postgres:// URL of a role allowed to create
    /// databases.
    #[arg(
        long,
        value_name = "URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    database_url: String,

    /// Clients of the sample practice (about 43 events each: 23,500 make a
    /// million events).
    #[arg(long, default_value_t = 23_500, value_parser = clap::value_parser!(u32).range(1..))]
    clients: u32,

    /// Seed of the sample practice.
    #[arg(long, default_value_t = 1)]
    seed: u64,

    /// Keep an existing kapchart_bench_rebuild database instead of
    /// generating a new one.
    #[arg(long)]
    reuse: bool,

    /// Write the sample practice and stop, measuring nothing.
    #[arg(long)]
    generate_only: bool,

    /// Rounds of the interleaved figures.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=20))]
    rounds: u32,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    // The projector's own timings of each phase, with RUST_LOG=info.
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(&cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kapchart-bench-rebuild: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn database_url(server: &str, name: &str) -> anyhow::Result<String> {
    let mut url = url_without_path(server)?;
    url.push('/');
    url.push_str(name);
    Ok(url)
}

fn url_without_path(server: &str) -> anyhow::Result<String> {
    let after_scheme = server.find("://").context("--database-url is not a URL")? + 3;
    let path = server[after_scheme..]
        .find('/')
        .map_or(server.len(), |p| after_scheme + p);
    Ok(server[..path].to_owned())
}

async fn count_events(db: &Database) -> anyhow::Result<i64> {
    let Database::Postgres(pool) = db else {
        anyhow::bail!("the rebuild benchmark runs on PostgreSQL");
    };
    Ok(sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(pool)
        .await?)
}

async fn run(cli: &Cli) -> anyhow::Result<()> {
    let admin = sqlx::PgPool::connect(&cli.database_url)
        .await
        .context("connecting to the server")?;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(DATABASE)
            .fetch_one(&admin)
            .await?;
    let url = database_url(&cli.database_url, DATABASE)?;
    if !(cli.reuse && exists) {
        sqlx::query(&format!("DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"))
            .execute(&admin)
            .await?;
        sqlx::query(&format!("CREATE DATABASE {DATABASE}"))
            .execute(&admin)
            .await?;
        // Writing the sample is not measured: commit without waiting for
        // the WAL flush while generating, and reset before any figure.
        sqlx::query(&format!(
            "ALTER DATABASE {DATABASE} SET synchronous_commit = off"
        ))
        .execute(&admin)
        .await?;
        let db = Database::open(&url).await?;
        let started = Instant::now();
        let bar = indicatif::ProgressBar::new(u64::from(cli.clients));
        let options = kapchart_demo::DemoOptions {
            clients: cli.clients,
            seed: cli.seed,
            start: chrono::NaiveDate::from_ymd_opt(2025, 11, 3).context("date")?,
            accounts_by: None,
        };
        eprintln!(
            "kapchart-bench-rebuild: generating {} clients (kapchart demo)",
            cli.clients
        );
        let summary = kapchart_demo::generate(&db, &options, &|n| bar.set_position(u64::from(n)))
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        bar.finish_and_clear();
        eprintln!(
            "kapchart-bench-rebuild: {} events in {:.0} s",
            summary.events,
            started.elapsed().as_secs_f64()
        );
        db.close().await;
    }
    sqlx::query(&format!(
        "ALTER DATABASE {DATABASE} RESET synchronous_commit"
    ))
    .execute(&admin)
    .await?;
    admin.close().await;
    if cli.generate_only {
        return Ok(());
    }

    let db = Database::open(&url).await?;
    let events = count_events(&db).await?;
    eprintln!("kapchart-bench-rebuild: {events} events");
    let projector = Projector::new(db.clone());
    projector.catch_up().await.context("first catch-up")?;
    let Database::Postgres(pool) = &db else {
        anyhow::bail!("PostgreSQL only");
    };

    let mut scan = Vec::new();
    let mut all = Vec::new();
    let mut single: Vec<(ViewName, Vec<f64>)> =
        ViewName::ALL.iter().map(|v| (*v, Vec::new())).collect();
    #[allow(clippy::cast_precision_loss)]
    let rate = |n: i64, seconds: f64| n as f64 / seconds;
    for round in 1..=cli.rounds {
        let started = Instant::now();
        let mut rows = sqlx::query(
            "SELECT txid::text, position, aggregate_type, aggregate_id, sequence, event_type, \
             event_version, payload::text, metadata->>'recorded_at' FROM events \
             WHERE txid < pg_snapshot_xmin(pg_current_snapshot()) ORDER BY events.txid, events.position",
        )
        .fetch(pool);
        let mut n = 0_i64;
        let mut bytes = 0_usize;
        while let Some(row) = rows.try_next().await? {
            for i in [0, 2, 3, 5, 6, 7] {
                let text: &str = row.try_get(i)?;
                bytes += text.len();
            }
            let _: i64 = row.try_get(1)?;
            let _: i64 = row.try_get(4)?;
            let _: Option<&str> = row.try_get(8)?;
            n += 1;
        }
        drop(rows);
        let seconds = started.elapsed().as_secs_f64();
        scan.push(rate(n, seconds));
        eprintln!("round {round}: raw scan {n} events ({bytes} bytes) in {seconds:.2} s");

        let started = Instant::now();
        let report = projector.rebuild(&ViewName::ALL, &|_| {}).await?;
        let seconds = started.elapsed().as_secs_f64();
        all.push(rate(i64::try_from(report.events)?, seconds));
        eprintln!(
            "round {round}: rebuild of all views: {} events, {} rows in {seconds:.2} s",
            report.events, report.rows
        );
        for (view, rates) in &mut single {
            let started = Instant::now();
            let report = projector.rebuild(&[*view], &|_| {}).await?;
            let seconds = started.elapsed().as_secs_f64();
            rates.push(rate(i64::try_from(report.events)?, seconds));
            eprintln!(
                "round {round}: rebuild of {}: {} rows in {seconds:.2} s",
                view.as_str(),
                report.rows
            );
        }
    }
    let median = |v: &[f64]| {
        let mut v = v.to_vec();
        v.sort_by(f64::total_cmp);
        let n = v.len();
        if n.is_multiple_of(2) {
            (v[n / 2 - 1] + v[n / 2]) / 2.0
        } else {
            v[n / 2]
        }
    };
    let list = |v: &[f64]| {
        v.iter()
            .map(|r| format!("{r:.0}"))
            .collect::<Vec<_>>()
            .join(" / ")
    };
    println!("# kapchart-bench-rebuild\n");
    println!(
        "{events} events ({} clients of `kapchart demo`), {} rounds interleaved; events/s per round, median\n",
        cli.clients, cli.rounds
    );
    println!("| figure | events/s per round | median | vs raw scan | target |");
    println!("|---|---:|---:|---:|---|");
    let scan_median = median(&scan);
    println!(
        "| raw scan of the feed columns | {} | {scan_median:.0} | 1.00 | |",
        list(&scan)
    );
    let all_median = median(&all);
    println!(
        "| rebuild, all four views | {} | {all_median:.0} | {:.2} | >= 50000: {} |",
        list(&all),
        all_median / scan_median,
        if all_median >= 50_000.0 {
            "met"
        } else {
            "MISSED"
        }
    );
    for (view, rates) in &single {
        let m = median(rates);
        println!(
            "| rebuild, {} only | {} | {m:.0} | {:.2} | |",
            view.as_str(),
            list(rates),
            m / scan_median
        );
    }
    db.close().await;
    Ok(())
}
