//! Where the time of one command goes, on both stores, and of one verified
//! row.
//!
//! Three measurements:
//! - the real command path of each store (`kapchart_store`'s
//!   `EventRepository`, postgres-es's `PostgresEventRepository`) with its
//!   repository wrapped in a timer (one writer): repository load,
//!   repository persist, and the rest (cqrs-es deserializing and applying
//!   the events, the domain deciding, cqrs-es serializing the new event);
//! - the client-side CPU steps, in process, on real stored histories: row
//!   decoding as the store's load does it, deserialize + apply, decide,
//!   serialize, the chain link (`Entry::seal`: canonical JSON through
//!   kapchart-audit's RFC 8785 writer, then SHA-256);
//! - the SQL steps of each repository's load and append, one connection,
//!   statement by statement, replaying the statements kapchart-store
//!   (`repo.rs`) and postgres-es send for one command. For the chain that
//!   is the lean load (no `position`, no `prev_hash`), then one autocommit
//!   INSERT: the link it follows is the one the load just read, which the
//!   store remembers, so no SELECT of the last link.

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use cqrs_es::event_sink::EventSink;
use cqrs_es::persist::{
    PersistedEventRepository, PersistedEventStore, PersistenceError, ReplayStream, SerializedEvent,
    SerializedSnapshot,
};
use cqrs_es::{Aggregate, CqrsFramework};
use futures_util::FutureExt;
use kapchart_audit::{Entry, Hash};
use kapchart_domain::{ClientEvent, ClientRecord, Command};
use serde::Serialize;
use serde_json::Value;
use sqlx::Connection as _;
use sqlx::Row as _;
use sqlx::postgres::PgPool;

use crate::load::{self, Job, Op};
use crate::protocol;
use crate::stats::percentile;
use crate::stores;

/// Per-command stage times of one store's real path.
#[derive(Debug, Clone, Serialize)]
pub struct PathRow {
    /// `chain` or `plain`.
    pub store: &'static str,
    /// Commands measured.
    pub commands: u64,
    /// Mean whole command, ms.
    pub total_ms: f64,
    /// Mean repository load (`get_events`: SQL, rows to `SerializedEvent`).
    pub load_ms: f64,
    /// Mean repository persist (`persist`: for the chain, link + SQL).
    pub persist_ms: f64,
    /// The rest: cqrs-es deserialize + apply, decide, serialize.
    pub other_ms: f64,
}

/// Client-side CPU per step, microseconds, measured in process.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CpuSteps {
    /// Histories sampled.
    pub histories: u64,
    /// Mean rows per history.
    pub rows_per_history: f64,
    /// Mean payload size as stored (JSON text), bytes.
    pub payload_bytes: f64,
    /// Mean canonical entry size, bytes.
    pub canonical_bytes: f64,
    /// Parse one stored row's payload and metadata text, and the last
    /// row's hash once per history (the store's load decoding, per row).
    pub decode_row_us: f64,
    /// cqrs-es's deserialize (payload and metadata) + apply, per row.
    pub deserialize_apply_row_us: f64,
    /// The domain deciding one measured command (handle + sink).
    pub decide_us: f64,
    /// cqrs-es serializing the new event and its metadata.
    pub serialize_us: f64,
    /// The chain link of the new event: metadata + `recorded_at`, the
    /// entry, canonical JSON and SHA-256 (`Entry::seal`).
    pub chain_link_us: f64,
    /// Canonical JSON (RFC 8785, `Entry::canonical_bytes`: kapchart-audit's
    /// direct writer) of one stored row's entry.
    pub canonicalize_us: f64,
    /// SHA-256 of one stored row's canonical entry.
    pub sha256_us: f64,
    /// Verification's CPU per row: decode + recompute the hash.
    pub verify_row_us: f64,
}

/// One SQL step, replayed on one connection.
#[derive(Debug, Clone, Serialize)]
pub struct SqlStep {
    /// `chain` or `plain`.
    pub store: &'static str,
    /// The step.
    pub step: &'static str,
    /// Mean, ms.
    pub mean_ms: f64,
    /// Median, ms.
    pub p50_ms: f64,
}

/// The whole breakdown.
#[derive(Debug, Clone, Serialize)]
pub struct Breakdown {
    /// The real path, per store.
    pub path: Vec<PathRow>,
    /// Client-side CPU steps.
    pub cpu: CpuSteps,
    /// SQL steps, per store.
    pub sql: Vec<SqlStep>,
}

// ---- the real path, timed --------------------------------------------------

#[derive(Debug, Default)]
struct Times {
    load: Mutex<Vec<u64>>,
    persist: Mutex<Vec<u64>>,
    total: Mutex<Vec<u64>>,
}

fn record(into: &Mutex<Vec<u64>>, since: Instant) {
    let ns = since.elapsed().as_nanos() as u64;
    into.lock().unwrap_or_else(|p| p.into_inner()).push(ns);
}

fn mean_ms(v: &Mutex<Vec<u64>>) -> (u64, f64) {
    let v = v.lock().unwrap_or_else(|p| p.into_inner());
    let n = v.len() as u64;
    let sum: u64 = v.iter().sum();
    (
        n,
        if n == 0 {
            0.0
        } else {
            sum as f64 / n as f64 / 1e6
        },
    )
}

/// A repository that times `get_events` and `persist` of another.
struct Timed<R> {
    inner: R,
    times: Arc<Times>,
}

impl<R: PersistedEventRepository> PersistedEventRepository for Timed<R> {
    async fn get_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        let t = Instant::now();
        let r = self.inner.get_events::<A>(aggregate_id).await;
        record(&self.times.load, t);
        r
    }

    async fn get_last_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
        last_sequence: usize,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        self.inner
            .get_last_events::<A>(aggregate_id, last_sequence)
            .await
    }

    async fn get_snapshot<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<Option<SerializedSnapshot>, PersistenceError> {
        self.inner.get_snapshot::<A>(aggregate_id).await
    }

    async fn persist<A: Aggregate>(
        &self,
        events: &[SerializedEvent],
        snapshot_update: Option<(String, Value, usize)>,
    ) -> Result<(), PersistenceError> {
        let t = Instant::now();
        let r = self.inner.persist::<A>(events, snapshot_update).await;
        record(&self.times.persist, t);
        r
    }

    async fn stream_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<ReplayStream, PersistenceError> {
        self.inner.stream_events::<A>(aggregate_id).await
    }

    async fn stream_all_events<A: Aggregate>(&self) -> Result<ReplayStream, PersistenceError> {
        self.inner.stream_all_events::<A>().await
    }
}

impl Times {
    fn clear(&self) {
        for v in [&self.load, &self.persist, &self.total] {
            v.lock().unwrap_or_else(|p| p.into_inner()).clear();
        }
    }

    fn row(&self, store: &'static str) -> PathRow {
        let (commands, total_ms) = mean_ms(&self.total);
        let (_, load_ms) = mean_ms(&self.load);
        let (_, persist_ms) = mean_ms(&self.persist);
        PathRow {
            store,
            commands,
            total_ms,
            load_ms,
            persist_ms,
            other_ms: total_ms - load_ms - persist_ms,
        }
    }
}

/// A one-writer job running measured commands through `repo`, timed.
fn timed_job<R>(store: &'static str, repo: R, clients: usize) -> (Job, Arc<Times>)
where
    R: PersistedEventRepository + 'static,
{
    let times = Arc::new(Times::default());
    let timed = Timed {
        inner: repo,
        times: Arc::clone(&times),
    };
    let cqrs = Arc::new(CqrsFramework::new(
        PersistedEventStore::new_event_store(timed),
        vec![],
        stores::services(),
    ));
    let op_times = Arc::clone(&times);
    let tag: Arc<str> = store
        .replace(|c: char| !c.is_ascii_alphanumeric(), "")
        .into();
    let op: Op = Arc::new(move |w, n| {
        let cqrs = Arc::clone(&cqrs);
        let times = Arc::clone(&op_times);
        let tag = Arc::clone(&tag);
        async move {
            let client = protocol::client_id(load::pick(0xB4EA_CD0E, w, n, clients));
            let command = protocol::bench_command(&format!("bd{tag}-{w}"), n)?;
            let t = Instant::now();
            let conflicts = stores::execute(&cqrs, &client, command).await?;
            record(&times.total, t);
            Ok((1, conflicts))
        }
        .boxed()
    });
    (Job::new(format!("breakdown, {store} path"), 1, op), times)
}

/// The real path of both stores, one writer each, interleaved.
pub async fn paths(
    chain: &PgPool,
    plain: &PgPool,
    clients: usize,
    slices: u32,
    warmup: Duration,
    window: Duration,
) -> anyhow::Result<Vec<PathRow>> {
    let chain_repo = kapchart_store::Database::Postgres(chain.clone())
        .repository(kapchart_store::system_clock());
    let plain_repo = postgres_es::PostgresEventRepository::new(plain.clone());
    let (chain_job, chain_times) = timed_job("chain", chain_repo, clients);
    let (plain_job, plain_times) = timed_job("plain", plain_repo, clients);
    let mut jobs = [chain_job, plain_job];
    let times = [("chain", chain_times), ("plain", plain_times)];
    // Warm up, forget the warm-up, measure.
    load::interleaved(&mut jobs, 1, warmup, Duration::from_millis(200)).await?;
    for (_, t) in &times {
        t.clear();
    }
    load::interleaved(&mut jobs, slices, Duration::ZERO, window).await?;
    Ok(times.iter().map(|(store, t)| t.row(store)).collect())
}

// ---- client-side CPU steps -------------------------------------------------

/// The chain store's load query (`EventRepository::load` on PostgreSQL):
/// what cqrs-es needs, and the hash of the last row for the link it
/// remembers.
const CHAIN_LOAD: &str = "SELECT sequence, event_type, event_version, payload::text AS payload, \
     metadata::text AS metadata, hash FROM events WHERE aggregate_type = $1 \
     AND aggregate_id = $2 AND sequence > $3 ORDER BY sequence";

/// The chain store's append of one event (`insert_pg`): one statement in
/// autocommit, the JSON sent as text and cast to `json`. The raw INSERT
/// figure sends it too.
pub const CHAIN_INSERT: &str = "INSERT INTO events (aggregate_type, aggregate_id, sequence, \
     event_type, event_version, payload, metadata, prev_hash, hash) \
     VALUES ($1, $2, $3, $4, $5, $6::json, $7::json, $8, $9)";

/// One aggregate's stored rows with their chain columns (as `audit::verify`
/// reads them), for the CPU steps that need whole entries.
const CHAIN_ROWS: &str = "SELECT sequence, event_type, event_version, payload::text AS payload, \
     metadata::text AS metadata, prev_hash, hash FROM events WHERE aggregate_type = $1 \
     AND aggregate_id = $2 ORDER BY sequence";

/// postgres-es's load query (`select_events`).
const PLAIN_LOAD: &str = "
SELECT aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata
  FROM events
  WHERE aggregate_type = $1 AND aggregate_id = $2
  ORDER BY sequence";

struct TextRow {
    sequence: u64,
    event_type: String,
    event_version: String,
    payload: String,
    metadata: String,
    prev_hash: String,
    hash: String,
}

fn time_us<T>(iterations: u32, mut f: impl FnMut() -> T) -> f64 {
    let t = Instant::now();
    for _ in 0..iterations {
        black_box(f());
    }
    t.elapsed().as_secs_f64() * 1e6 / f64::from(iterations)
}

/// The client-side CPU steps on `histories` stored histories of the chain
/// database.
pub async fn cpu_steps(chain: &PgPool, histories: usize) -> anyhow::Result<CpuSteps> {
    const ITER: u32 = 50;
    let services = stores::services();
    let mut acc = CpuSteps::default();
    let mut rows_total = 0_u64;
    for i in 0..histories {
        let client = protocol::client_id(i);
        let rows: Vec<TextRow> = sqlx::query(CHAIN_ROWS)
            .bind(kapchart_store::CLIENT_RECORD)
            .bind(&client)
            .fetch_all(chain)
            .await?
            .iter()
            .map(|r| {
                Ok(TextRow {
                    sequence: u64::try_from(r.try_get::<i64, _>("sequence")?).unwrap_or(0),
                    event_type: r.try_get("event_type")?,
                    event_version: r.try_get("event_version")?,
                    payload: r.try_get("payload")?,
                    metadata: r.try_get("metadata")?,
                    prev_hash: r.try_get("prev_hash")?,
                    hash: r.try_get("hash")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()?;
        let n = rows.len() as f64;
        rows_total += rows.len() as u64;
        acc.payload_bytes += rows.iter().map(|r| r.payload.len()).sum::<usize>() as f64;

        // The store's load decoding: every row's JSON, the last row's
        // hash (the link it remembers).
        let decode = || -> anyhow::Result<Vec<(Value, Value)>> {
            black_box(rows.last().map(|r| Hash::from_hex(&r.hash).ok()));
            rows.iter()
                .map(|r| {
                    let p: Value = serde_json::from_str(&r.payload)?;
                    let m: Value = serde_json::from_str(&r.metadata)?;
                    Ok((p, m))
                })
                .collect()
        };
        acc.decode_row_us += time_us(ITER, || decode().map(|v| v.len()).unwrap_or(0)) / n;
        let decoded = decode()?;

        // cqrs-es: deserialize payload and metadata, apply.
        let mut copies: Vec<Vec<(Value, Value)>> = (0..ITER).map(|_| decoded.clone()).collect();
        let t = Instant::now();
        let mut record = ClientRecord::default();
        for copy in copies.drain(..) {
            record = ClientRecord::default();
            for (p, m) in copy {
                let event: ClientEvent = serde_json::from_value(p)?;
                let meta: HashMap<String, String> = serde_json::from_value(m)?;
                black_box(meta);
                record.apply(event);
            }
        }
        acc.deserialize_apply_row_us += t.elapsed().as_secs_f64() * 1e6 / f64::from(ITER) / n;

        // Decide one measured command on the loaded record.
        let commands: Vec<Command> = (0..u64::from(ITER))
            .map(|k| protocol::bench_command(&format!("cpu-{i}"), k))
            .collect::<anyhow::Result<_>>()?;
        let mut records: Vec<ClientRecord> = (0..ITER).map(|_| record.clone()).collect();
        let mut events: Vec<ClientEvent> = Vec::new();
        let t = Instant::now();
        for (command, mut r) in commands.iter().cloned().zip(records.drain(..)) {
            let sink = EventSink::<ClientRecord>::default();
            r.handle(command, &services, &sink)
                .await
                .map_err(|e| anyhow::anyhow!("decide: {e}"))?;
            events.extend(sink.collect().await);
        }
        acc.decide_us += t.elapsed().as_secs_f64() * 1e6 / f64::from(ITER);

        // cqrs-es serializing the event and its metadata.
        let metadata = kapchart_store::command_metadata(&commands[0]);
        let event = events.first().context("decide gave no event")?.clone();
        acc.serialize_us += time_us(ITER, || {
            (
                serde_json::to_value(&event).ok(),
                serde_json::to_value(&metadata).ok(),
            )
        });
        let payload = serde_json::to_value(&event)?;
        let meta_value = serde_json::to_value(&metadata)?;

        // The chain link, as the store computes it.
        let last = rows.last().context("empty history")?;
        let prev = Hash::from_hex(&last.hash).map_err(|e| anyhow::anyhow!("{e}"))?;
        let link = || -> anyhow::Result<Hash> {
            let mut m = match &meta_value {
                Value::Object(map) => map.clone(),
                _ => anyhow::bail!("metadata is not an object"),
            };
            m.insert(
                "recorded_at".to_owned(),
                Value::String("2026-01-05T20:00:00.000000Z".to_owned()),
            );
            let entry = Entry {
                aggregate_type: kapchart_store::CLIENT_RECORD.to_owned(),
                aggregate_id: client.clone(),
                sequence: last.sequence + 1,
                event_type: event.type_name().to_owned(),
                event_version: "1".to_owned(),
                payload: payload.clone(),
                metadata: Value::Object(m),
                prev_hash: prev,
            };
            Ok(entry.seal()?.hash)
        };
        acc.chain_link_us += time_us(ITER, || link().ok());

        // Canonical JSON and SHA-256 alone, over the stored rows' entries.
        let entries: Vec<Entry> = rows
            .iter()
            .zip(&decoded)
            .map(|(r, (p, m))| {
                Ok(Entry {
                    aggregate_type: kapchart_store::CLIENT_RECORD.to_owned(),
                    aggregate_id: client.clone(),
                    sequence: r.sequence,
                    event_type: r.event_type.clone(),
                    event_version: r.event_version.clone(),
                    payload: p.clone(),
                    metadata: m.clone(),
                    prev_hash: Hash::from_hex(&r.prev_hash).map_err(|e| anyhow::anyhow!("{e}"))?,
                })
            })
            .collect::<anyhow::Result<_>>()?;
        let canonical: Vec<Vec<u8>> = entries
            .iter()
            .map(|e| e.canonical_bytes())
            .collect::<Result<_, _>>()?;
        acc.canonical_bytes += canonical.iter().map(Vec::len).sum::<usize>() as f64;
        acc.canonicalize_us += time_us(ITER, || {
            entries
                .iter()
                .map(|e| e.canonical_bytes().map(|b| b.len()).unwrap_or(0))
                .sum::<usize>()
        }) / n;
        acc.sha256_us += time_us(ITER, || {
            canonical
                .iter()
                .map(|b| Hash::sha256(b).to_hex().len())
                .sum::<usize>()
        }) / n;

        // Verification's CPU per row: decode, then recompute and compare
        // the hash (as `audit::verify` does after reading the row).
        let verify = || -> usize {
            rows.iter()
                .filter(|r| {
                    let (Ok(p), Ok(m)) = (
                        serde_json::from_str::<Value>(&r.payload),
                        serde_json::from_str::<Value>(&r.metadata),
                    ) else {
                        return false;
                    };
                    let (Ok(prev), Ok(stored)) =
                        (Hash::from_hex(&r.prev_hash), Hash::from_hex(&r.hash))
                    else {
                        return false;
                    };
                    let entry = Entry {
                        aggregate_type: kapchart_store::CLIENT_RECORD.to_owned(),
                        aggregate_id: client.clone(),
                        sequence: r.sequence,
                        event_type: r.event_type.clone(),
                        event_version: r.event_version.clone(),
                        payload: p,
                        metadata: m,
                        prev_hash: prev,
                    };
                    entry.hash().is_ok_and(|h| h == stored)
                })
                .count()
        };
        anyhow::ensure!(
            verify() == rows.len(),
            "a stored hash of {client} does not verify"
        );
        acc.verify_row_us += time_us(ITER, verify) / n;
    }
    let h = histories.max(1) as f64;
    Ok(CpuSteps {
        histories: histories as u64,
        rows_per_history: rows_total as f64 / h,
        payload_bytes: acc.payload_bytes / rows_total.max(1) as f64,
        canonical_bytes: acc.canonical_bytes / rows_total.max(1) as f64,
        decode_row_us: acc.decode_row_us / h,
        deserialize_apply_row_us: acc.deserialize_apply_row_us / h,
        decide_us: acc.decide_us / h,
        serialize_us: acc.serialize_us / h,
        chain_link_us: acc.chain_link_us / h,
        canonicalize_us: acc.canonicalize_us / h,
        sha256_us: acc.sha256_us / h,
        verify_row_us: acc.verify_row_us / h,
    })
}

// ---- SQL steps ---------------------------------------------------------------

#[derive(Default)]
struct StepTimes(Vec<(&'static str, Vec<u64>)>);

impl StepTimes {
    fn add(&mut self, step: &'static str, since: Instant) {
        let us = since.elapsed().as_micros() as u64;
        match self.0.iter_mut().find(|(s, _)| *s == step) {
            Some((_, v)) => v.push(us),
            None => self.0.push((step, vec![us])),
        }
    }

    fn rows(self, store: &'static str) -> Vec<SqlStep> {
        self.0
            .into_iter()
            .map(|(step, mut v)| {
                v.sort_unstable();
                let mean = v.iter().sum::<u64>() as f64 / v.len().max(1) as f64;
                SqlStep {
                    store,
                    step,
                    mean_ms: mean / 1000.0,
                    p50_ms: percentile(&v, 50.0) as f64 / 1000.0,
                }
            })
            .collect()
    }
}

/// The event of measured command `n` (even: an outcome measure, odd: a
/// payment) on client 0's history: its type, payload and metadata as
/// cqrs-es serializes them.
pub async fn sample_event(n: u64) -> anyhow::Result<(String, Value, Value)> {
    let services = stores::services();
    let mut record = ClientRecord::default();
    for command in protocol::history(0, 50)? {
        let sink = EventSink::<ClientRecord>::default();
        record
            .handle(command, &services, &sink)
            .await
            .map_err(|e| anyhow::anyhow!("history: {e}"))?;
    }
    let command = protocol::bench_command("sample", n)?;
    let metadata = serde_json::to_value(kapchart_store::command_metadata(&command))?;
    let sink = EventSink::<ClientRecord>::default();
    record
        .handle(command, &services, &sink)
        .await
        .map_err(|e| anyhow::anyhow!("decide: {e}"))?;
    let event = sink
        .collect()
        .await
        .into_iter()
        .next()
        .context("no event")?;
    Ok((
        event.type_name().to_owned(),
        serde_json::to_value(&event)?,
        metadata,
    ))
}

/// Replays each repository's statements for `window` on one connection,
/// timing each; the two stores take turns in `slices` slices.
pub async fn sql_steps(
    chain: &PgPool,
    plain: &PgPool,
    clients: usize,
    slices: u32,
    window: Duration,
) -> anyhow::Result<Vec<SqlStep>> {
    let (event_type, payload, metadata) = sample_event(0).await?;
    let slices = slices.max(1);
    let part = window / slices;
    let mut chain_steps = StepTimes::default();
    let mut plain_steps = StepTimes::default();
    let mut chain_n = 0_u64;
    let mut plain_n = 0_u64;
    for _ in 0..slices {
        sql_chain_slice(
            chain,
            clients,
            part,
            &mut chain_n,
            &mut chain_steps,
            (&event_type, &payload, &metadata),
        )
        .await?;
        sql_plain_slice(
            plain,
            clients,
            part,
            &mut plain_n,
            &mut plain_steps,
            (&event_type, &payload, &metadata),
        )
        .await?;
    }
    let mut out = chain_steps.rows("chain");
    out.extend(plain_steps.rows("plain"));
    Ok(out)
}

/// A sample event: its type, payload and metadata.
type Sample<'a> = (&'a str, &'a Value, &'a Value);

/// The chain store's statements for `part`, as `EventRepository` sends
/// them for one command: the lean load, then one INSERT in autocommit (its
/// own transaction). The link it follows is the last row the load read (the
/// store remembers it), so there is no SELECT of the last link; the store
/// reads it only when it has not just loaded the aggregate. Stamping
/// `recorded_at` and sealing the entry are client CPU, not timed here.
async fn sql_chain_slice(
    chain: &PgPool,
    clients: usize,
    part: Duration,
    n: &mut u64,
    steps: &mut StepTimes,
    (event_type, payload, metadata): Sample<'_>,
) -> anyhow::Result<()> {
    let mut conn = chain.acquire().await?;
    let end = Instant::now() + part;
    while Instant::now() < end {
        let client = protocol::client_id(load::pick(0x5A1, 0, *n, clients));
        *n += 1;
        let t = Instant::now();
        let rows = sqlx::query(CHAIN_LOAD)
            .bind(kapchart_store::CLIENT_RECORD)
            .bind(&client)
            .bind(0_i64)
            .fetch_all(&mut *conn)
            .await?;
        steps.add("load (SELECT ~50 rows)", t);
        let last = rows.last().context("empty history")?;
        let seq: i64 = last.try_get("sequence")?;
        let hash: String = last.try_get("hash")?;
        let mut m = metadata.as_object().cloned().unwrap_or_default();
        m.insert(
            "recorded_at".to_owned(),
            Value::String(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)),
        );
        let sealed = Entry {
            aggregate_type: kapchart_store::CLIENT_RECORD.to_owned(),
            aggregate_id: client.clone(),
            sequence: u64::try_from(seq + 1).unwrap_or(1),
            event_type: event_type.to_owned(),
            event_version: "1".to_owned(),
            payload: payload.clone(),
            metadata: Value::Object(m),
            prev_hash: Hash::from_hex(&hash).map_err(|e| anyhow::anyhow!("{e}"))?,
        }
        .seal()?;
        let t = Instant::now();
        sqlx::query(CHAIN_INSERT)
            .bind(&sealed.entry.aggregate_type)
            .bind(&sealed.entry.aggregate_id)
            .bind(seq + 1)
            .bind(&sealed.entry.event_type)
            .bind(&sealed.entry.event_version)
            .bind(sealed.entry.payload.to_string())
            .bind(sealed.entry.metadata.to_string())
            .bind(sealed.entry.prev_hash.to_hex())
            .bind(sealed.hash.to_hex())
            .execute(&mut *conn)
            .await?;
        steps.add("INSERT, autocommit (its own commit)", t);
    }
    Ok(())
}

/// postgres-es's statements for `part`: load, then BEGIN, INSERT, COMMIT.
async fn sql_plain_slice(
    plain: &PgPool,
    clients: usize,
    part: Duration,
    n: &mut u64,
    steps: &mut StepTimes,
    (event_type, payload, metadata): Sample<'_>,
) -> anyhow::Result<()> {
    let mut conn = plain.acquire().await?;
    let end = Instant::now() + part;
    while Instant::now() < end {
        let client = protocol::client_id(load::pick(0x5A1, 0, *n, clients));
        *n += 1;
        let t = Instant::now();
        let rows = sqlx::query(PLAIN_LOAD)
            .bind(kapchart_store::CLIENT_RECORD)
            .bind(&client)
            .fetch_all(&mut *conn)
            .await?;
        steps.add("load (SELECT ~50 rows)", t);
        let last: i64 = rows
            .last()
            .map(|r| r.try_get("sequence"))
            .transpose()?
            .unwrap_or(0);
        let t = Instant::now();
        let mut tx = conn.begin().await?;
        steps.add("BEGIN", t);
        let t = Instant::now();
        sqlx::query(
            "
INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(kapchart_store::CLIENT_RECORD)
        .bind(&client)
        // As postgres-es binds it (an int4 parameter).
        .bind(i32::try_from(last + 1)?)
        .bind(event_type)
        .bind("1")
        .bind(payload)
        .bind(metadata)
        .execute(&mut *tx)
        .await?;
        steps.add("INSERT", t);
        let t = Instant::now();
        tx.commit().await?;
        steps.add("COMMIT", t);
    }
    Ok(())
}
