//! The three databases of a run, on one server: created fresh, filled with
//! the same histories, reset between figures, dropped at the end.

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{Context, bail};
use cqrs_es::{AggregateError, CqrsFramework, EventStore};
use indicatif::{ProgressBar, ProgressStyle};
use kapchart_domain::{ClientError, ClientRecord, Command, InMemoryPractice, PracticeSettings};
use kapchart_store::Database;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use sqlx::{Connection as _, Row as _};

use crate::protocol;

/// The chained store (kapchart's migrations).
pub const CHAIN_DB: &str = "kapchart_bench_chain";
/// Plain postgres-es (its own schema).
pub const PLAIN_DB: &str = "kapchart_bench_plain";
/// The raw-INSERT table (kapchart's events table).
pub const RAW_DB: &str = "kapchart_bench_raw";
/// Every database a run creates and drops.
pub const DATABASES: [&str; 3] = [CHAIN_DB, PLAIN_DB, RAW_DB];

/// postgres-es 0.5.0's schema (db/init.sql), events and snapshots tables
/// only (no view, sample row or user).
pub const POSTGRES_ES_SCHEMA: &str = "
CREATE TABLE events
(
    aggregate_type text                         NOT NULL,
    aggregate_id   text                         NOT NULL,
    sequence       bigint CHECK (sequence >= 0) NOT NULL,
    event_type     text                         NOT NULL,
    event_version  text                         NOT NULL,
    payload        json                         NOT NULL,
    metadata       json                         NOT NULL,
    PRIMARY KEY (aggregate_type, aggregate_id, sequence)
);
CREATE TABLE snapshots
(
    aggregate_type   text                                 NOT NULL,
    aggregate_id     text                                 NOT NULL,
    last_sequence    bigint CHECK (last_sequence >= 0)    NOT NULL,
    current_snapshot bigint CHECK (current_snapshot >= 0) NOT NULL,
    payload          json                                 NOT NULL,
    PRIMARY KEY (aggregate_type, aggregate_id, last_sequence)
);
";

/// The largest measured pool: `kapchart_store::Database::connect`'s size.
pub const MAX_POOL_SIZE: u32 = 32;

/// The server and the options to reach one of its databases.
#[derive(Debug, Clone)]
pub struct Server {
    options: PgConnectOptions,
}

impl Server {
    /// Parses the server URL.
    pub fn new(url: &str) -> anyhow::Result<Self> {
        let options = PgConnectOptions::from_str(url)
            .context("--database-url is not a PostgreSQL URL (postgres://...)")?;
        Ok(Self { options })
    }

    /// A connection to the database the URL names (to create and drop the
    /// benchmark's databases).
    pub async fn admin(&self) -> anyhow::Result<PgConnection> {
        PgConnection::connect_with(&self.options)
            .await
            .context("cannot connect to the PostgreSQL server")
    }

    /// The options for database `name`.
    pub fn options(&self, name: &str) -> PgConnectOptions {
        self.options.clone().database(name)
    }

    /// A measured pool on database `name`, of `size` connections (the
    /// same for every store; three pools are open at once, so they are kept
    /// no larger than the writers need).
    pub async fn pool(&self, name: &str, size: u32) -> anyhow::Result<PgPool> {
        PgPoolOptions::new()
            .max_connections(size.clamp(1, MAX_POOL_SIZE))
            .acquire_timeout(Duration::from_secs(30))
            // The three pools take turns: idle ones give their
            // connections back (they reconnect in the next warm-up).
            .idle_timeout(Duration::from_secs(3))
            .connect_with(self.options(name))
            .await
            .with_context(|| format!("cannot connect to database {name}"))
    }

    /// A setup pool on database `name`: its commits do not wait for the
    /// WAL flush (`synchronous_commit=off`), which makes filling fast and
    /// changes nothing in what is stored. Never used for a figure.
    pub async fn setup_pool(&self, name: &str, size: u32) -> anyhow::Result<PgPool> {
        PgPoolOptions::new()
            .max_connections(size)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(self.options(name).options([("synchronous_commit", "off")]))
            .await
            .with_context(|| format!("cannot connect to database {name}"))
    }
}

/// Drops (if there) and creates each database.
pub async fn recreate(admin: &mut PgConnection, names: &[&str]) -> anyhow::Result<()> {
    for name in names {
        drop_database(admin, name).await?;
        sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
            .execute(&mut *admin)
            .await
            .with_context(|| format!("cannot create database {name}"))?;
    }
    Ok(())
}

/// Drops a database, closing its connections.
pub async fn drop_database(admin: &mut PgConnection, name: &str) -> anyhow::Result<()> {
    sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut *admin)
        .await
        .with_context(|| format!("cannot drop database {name}"))?;
    Ok(())
}

/// The practice every command is decided against.
pub fn services() -> kapchart_domain::Services {
    let practice = InMemoryPractice::new(PracticeSettings::standard());
    for actor in crate::protocol::staff().unwrap_or_default() {
        practice.enrol(actor.id, actor.role);
    }
    Arc::new(practice)
}

/// The outcome of one command, retried on conflicts: how many conflicts.
pub async fn execute<ES>(
    cqrs: &CqrsFramework<ClientRecord, ES>,
    client: &str,
    command: Command,
) -> anyhow::Result<u64>
where
    ES: EventStore<ClientRecord>,
{
    let mut conflicts = 0;
    loop {
        let metadata = kapchart_store::command_metadata(&command);
        match cqrs
            .execute_with_metadata(client, command.clone(), metadata)
            .await
        {
            Ok(()) => return Ok(conflicts),
            Err(AggregateError::AggregateConflict) if conflicts < 1000 => conflicts += 1,
            Err(e) => bail!("{} for {client}: {}", command.body.name(), describe(&e)),
        }
    }
}

fn describe(e: &AggregateError<ClientError>) -> String {
    match e {
        AggregateError::UserError(u) => format!("refused: {u}"),
        other => other.to_string(),
    }
}

/// Writes every client's history through `cqrs`, `tasks` clients at a time
/// (each client's commands in order).
pub async fn fill<ES>(
    label: &str,
    cqrs: Arc<CqrsFramework<ClientRecord, ES>>,
    clients: usize,
    events_per_client: usize,
    tasks: usize,
) -> anyhow::Result<()>
where
    ES: EventStore<ClientRecord> + 'static,
    ES::AC: Send,
{
    fill_with(
        label,
        cqrs,
        clients,
        clients * events_per_client,
        move |i| protocol::history(i, events_per_client),
        tasks,
    )
    .await
}

/// Writes `history(i)` to client `i`'s record for every `i` below
/// `clients` through `cqrs`, `tasks` clients at a time (each client's
/// commands in order); `commands` is their number, for the progress bar.
pub async fn fill_with<ES, H>(
    label: &str,
    cqrs: Arc<CqrsFramework<ClientRecord, ES>>,
    clients: usize,
    commands: usize,
    history: H,
    tasks: usize,
) -> anyhow::Result<()>
where
    ES: EventStore<ClientRecord> + 'static,
    ES::AC: Send,
    H: Fn(usize) -> anyhow::Result<Vec<Command>> + Send + Sync + 'static,
{
    let history = Arc::new(history);
    let bar = ProgressBar::new(commands as u64).with_message(label.to_owned());
    bar.set_style(
        ProgressStyle::with_template("{msg}: {pos}/{len} commands ({per_sec}, {elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.enable_steady_tick(Duration::from_millis(250));
    let next = Arc::new(AtomicUsize::new(0));
    let mut handles = Vec::new();
    for _ in 0..tasks.max(1) {
        let cqrs = Arc::clone(&cqrs);
        let next = Arc::clone(&next);
        let history = Arc::clone(&history);
        let bar = bar.clone();
        handles.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= clients {
                    return Ok::<(), anyhow::Error>(());
                }
                let client = protocol::client_id(i);
                for command in history(i)? {
                    execute(&cqrs, &client, command).await?;
                    bar.inc(1);
                }
            }
        }));
    }
    for h in handles {
        h.await.context("setup task panicked")??;
    }
    bar.finish_and_clear();
    Ok(())
}

/// Opens the chain database's setup pool, applies kapchart's migrations and
/// fills it through the real command path.
pub async fn setup_chain(
    server: &Server,
    clients: usize,
    events_per_client: usize,
    tasks: usize,
) -> anyhow::Result<()> {
    let pool = server.setup_pool(CHAIN_DB, tasks as u32 + 2).await?;
    let db = Database::Postgres(pool.clone());
    db.migrate().await?;
    let cqrs = Arc::new(db.client_cqrs(kapchart_store::system_clock(), services()));
    fill("chain setup", cqrs, clients, events_per_client, tasks).await?;
    pool.close().await;
    Ok(())
}

/// Creates postgres-es's schema and fills it with the same commands
/// through postgres-es in event-store mode.
pub async fn setup_plain(
    server: &Server,
    clients: usize,
    events_per_client: usize,
    tasks: usize,
) -> anyhow::Result<()> {
    let pool = server.setup_pool(PLAIN_DB, tasks as u32 + 2).await?;
    sqlx::raw_sql(POSTGRES_ES_SCHEMA)
        .execute(&pool)
        .await
        .context("cannot create postgres-es's schema")?;
    let cqrs = Arc::new(postgres_es::postgres_cqrs(pool.clone(), vec![], services()));
    fill("postgres-es setup", cqrs, clients, events_per_client, tasks).await?;
    pool.close().await;
    Ok(())
}

/// Applies kapchart's migrations to the raw database and copies the chain
/// database's rows into its events table (same rows, same indexes, same
/// column types), so that its table grows only with its own writes.
pub async fn setup_raw(server: &Server) -> anyhow::Result<()> {
    let from = server.setup_pool(CHAIN_DB, 2).await?;
    let to = server.setup_pool(RAW_DB, 2).await?;
    Database::Postgres(to.clone()).migrate().await?;
    let mut after = 0_i64;
    loop {
        let rows = sqlx::query(
            "SELECT position, aggregate_type, aggregate_id, sequence, event_type, event_version, \
             payload::text AS payload, metadata::text AS metadata, prev_hash, hash \
             FROM events WHERE position > $1 ORDER BY position LIMIT 5000",
        )
        .bind(after)
        .fetch_all(&from)
        .await?;
        let Some(last) = rows.last() else { break };
        after = last.try_get("position")?;
        let mut cols: [Vec<String>; 8] = Default::default();
        let mut sequences: Vec<i64> = Vec::with_capacity(rows.len());
        for row in &rows {
            for (k, name) in [
                "aggregate_type",
                "aggregate_id",
                "event_type",
                "event_version",
                "payload",
                "metadata",
                "prev_hash",
                "hash",
            ]
            .iter()
            .enumerate()
            {
                cols[k].push(row.try_get(*name)?);
            }
            sequences.push(row.try_get("sequence")?);
        }
        let [
            types,
            ids,
            event_types,
            versions,
            payloads,
            metadata,
            prevs,
            hashes,
        ] = cols;
        // The JSON text as stored, cast to json as the store sends it (an
        // assignment cast would also fit a jsonb column).
        sqlx::query(
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, \
             event_version, payload, metadata, prev_hash, hash) \
             SELECT a, b, c, d, e, f::json, g::json, h, i FROM UNNEST($1::text[], \
             $2::text[], $3::int8[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], \
             $9::text[]) AS t(a, b, c, d, e, f, g, h, i)",
        )
        .bind(types)
        .bind(ids)
        .bind(sequences)
        .bind(event_types)
        .bind(versions)
        .bind(payloads)
        .bind(metadata)
        .bind(prevs)
        .bind(hashes)
        .execute(&to)
        .await
        .with_context(|| format!("cannot copy rows into {RAW_DB}"))?;
    }
    from.close().await;
    to.close().await;
    Ok(())
}

/// Removes the rows a figure added (sequence beyond the history) and
/// vacuums, so every figure starts from the same histories.
pub async fn reset(pool: &PgPool, events_per_client: usize) -> anyhow::Result<()> {
    sqlx::query("DELETE FROM events WHERE sequence > $1")
        .bind(events_per_client as i64)
        .execute(pool)
        .await
        .context("cannot reset the events table")?;
    sqlx::raw_sql("VACUUM (ANALYZE) events")
        .execute(pool)
        .await
        .context("cannot vacuum the events table")?;
    Ok(())
}

/// Rows in a database's events table.
pub async fn count_events(pool: &PgPool) -> anyhow::Result<i64> {
    Ok(sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(pool)
        .await?)
}

/// Asks the server for a checkpoint, so that no figure pays for the
/// previous one's dirty pages. Needs superuser or pg_checkpoint; skipped
/// (with a note) otherwise.
pub async fn checkpoint(admin: &mut PgConnection) {
    if let Err(e) = sqlx::raw_sql("CHECKPOINT").execute(&mut *admin).await {
        eprintln!("note: CHECKPOINT not permitted ({e}); figures may include checkpoint I/O");
    }
}
