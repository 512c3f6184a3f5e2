//! A what-if repository, to measure optimisations proposed for
//! kapchart-store before anyone makes them (docs/performance.md). It is
//! not the product: the figures of the chain are always taken through
//! `kapchart_store`.
//!
//! Same table, same chain (the link computed exactly as the store does,
//! `Entry::seal`), same PostgreSQL types. It differs from
//! `kapchart_store::EventRepository` in three ways:
//! - **lean load**: `get_events` reads only what cqrs-es needs, plus the
//!   last row's hash (no `position`, no `prev_hash`, no hex decoding of
//!   every row);
//! - **remembered link**: the last (sequence, hash) read by a load is kept
//!   per aggregate, so the append does not read it again when it follows
//!   on from it (stored rows never change, and the primary key still
//!   rejects a second row at the same sequence, so a conflict is still a
//!   conflict);
//! - **one-statement append**: a single event is one INSERT in autocommit
//!   (atomic on its own), not BEGIN / INSERT / COMMIT.

use std::collections::HashMap;
use std::sync::Mutex;

use cqrs_es::Aggregate;
use cqrs_es::persist::{
    PersistedEventRepository, PersistenceError, ReplayStream, SerializedEvent, SerializedSnapshot,
};
use kapchart_audit::{Entry, Hash, StoredEntry};
use serde_json::Value;
use sqlx::Row as _;
use sqlx::postgres::PgPool;

const INSERT: &str = "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, \
     event_version, payload, metadata, prev_hash, hash) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";

/// The what-if repository.
#[derive(Debug)]
pub struct LeanChain {
    pool: PgPool,
    /// Last (sequence, hash) seen per aggregate id.
    links: Mutex<HashMap<String, (u64, Hash)>>,
}

impl LeanChain {
    /// Over the chain database.
    pub fn new(pool: PgPool) -> Self {
        Self {
            pool,
            links: Mutex::new(HashMap::new()),
        }
    }

    fn remembered(&self, aggregate_id: &str) -> Option<(u64, Hash)> {
        self.links
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(aggregate_id)
            .copied()
    }

    fn remember(&self, aggregate_id: &str, link: (u64, Hash)) {
        self.links
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(aggregate_id.to_owned(), link);
    }
}

fn unknown(message: impl Into<String>) -> PersistenceError {
    PersistenceError::UnknownError(message.into().into())
}

fn db_error(e: sqlx::Error) -> PersistenceError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            PersistenceError::OptimisticLockError
        }
        _ => PersistenceError::ConnectionError(Box::new(e)),
    }
}

/// The store's `chain`: link `events` after `last`, stamping `recorded_at`.
fn chain(
    last: (u64, Hash),
    events: &[SerializedEvent],
) -> Result<Vec<StoredEntry>, PersistenceError> {
    let recorded_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let (mut sequence, mut prev) = last;
    let mut out = Vec::with_capacity(events.len());
    for event in events {
        sequence += 1;
        if event.sequence as u64 != sequence {
            return Err(PersistenceError::OptimisticLockError);
        }
        let mut metadata = match &event.metadata {
            Value::Object(map) => map.clone(),
            _ => return Err(unknown("event metadata must be a JSON object")),
        };
        metadata.insert("recorded_at".to_owned(), Value::String(recorded_at.clone()));
        let sealed = Entry {
            aggregate_type: event.aggregate_type.clone(),
            aggregate_id: event.aggregate_id.clone(),
            sequence,
            event_type: event.event_type.clone(),
            event_version: event.event_version.clone(),
            payload: event.payload.clone(),
            metadata: Value::Object(metadata),
            prev_hash: prev,
        }
        .seal()
        .map_err(|e| unknown(e.to_string()))?;
        prev = sealed.hash;
        out.push(sealed);
    }
    Ok(out)
}

fn bind_entry<'q>(
    q: sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>,
    e: &'q StoredEntry,
) -> Result<sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>, PersistenceError> {
    Ok(q.bind(&e.entry.aggregate_type)
        .bind(&e.entry.aggregate_id)
        .bind(i64::try_from(e.entry.sequence).map_err(|_| unknown("sequence"))?)
        .bind(&e.entry.event_type)
        .bind(&e.entry.event_version)
        .bind(&e.entry.payload)
        .bind(&e.entry.metadata)
        .bind(e.entry.prev_hash.to_hex())
        .bind(e.hash.to_hex()))
}

impl PersistedEventRepository for LeanChain {
    async fn get_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        self.get_last_events::<A>(aggregate_id, 0).await
    }

    async fn get_last_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
        last_sequence: usize,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        let rows = sqlx::query(
            "SELECT sequence, event_type, event_version, payload::text AS payload, \
             metadata::text AS metadata, hash FROM events WHERE aggregate_type = $1 \
             AND aggregate_id = $2 AND sequence > $3 ORDER BY sequence",
        )
        .bind(A::TYPE)
        .bind(aggregate_id)
        .bind(i64::try_from(last_sequence).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let sequence: i64 = row.try_get("sequence").map_err(db_error)?;
            let payload: &str = row.try_get("payload").map_err(db_error)?;
            let metadata: &str = row.try_get("metadata").map_err(db_error)?;
            out.push(SerializedEvent {
                aggregate_id: aggregate_id.to_owned(),
                sequence: usize::try_from(sequence).unwrap_or(0),
                aggregate_type: A::TYPE.to_owned(),
                event_type: row.try_get("event_type").map_err(db_error)?,
                event_version: row.try_get("event_version").map_err(db_error)?,
                payload: serde_json::from_str(payload)
                    .map_err(|e| PersistenceError::DeserializationError(e.into()))?,
                metadata: serde_json::from_str(metadata)
                    .map_err(|e| PersistenceError::DeserializationError(e.into()))?,
            });
        }
        if let Some(last) = rows.last() {
            let sequence: i64 = last.try_get("sequence").map_err(db_error)?;
            let hash: &str = last.try_get("hash").map_err(db_error)?;
            let hash = Hash::from_hex(hash).map_err(|_| unknown("stored hash"))?;
            self.remember(aggregate_id, (u64::try_from(sequence).unwrap_or(0), hash));
        }
        Ok(out)
    }

    async fn get_snapshot<A: Aggregate>(
        &self,
        _aggregate_id: &str,
    ) -> Result<Option<SerializedSnapshot>, PersistenceError> {
        Ok(None)
    }

    async fn persist<A: Aggregate>(
        &self,
        events: &[SerializedEvent],
        snapshot_update: Option<(String, Value, usize)>,
    ) -> Result<(), PersistenceError> {
        if snapshot_update.is_some() {
            return Err(unknown("event-store mode only"));
        }
        let Some(first) = events.first() else {
            return Ok(());
        };
        let follows = first.sequence as u64 - 1;
        let last = match self.remembered(&first.aggregate_id) {
            Some((seq, hash)) if seq == follows => (seq, hash),
            _ if follows == 0 => (0, Hash::ZERO),
            _ => {
                let (seq, hash): (i64, String) = sqlx::query_as(
                    "SELECT sequence, hash FROM events WHERE aggregate_type = $1 \
                     AND aggregate_id = $2 ORDER BY sequence DESC LIMIT 1",
                )
                .bind(&first.aggregate_type)
                .bind(&first.aggregate_id)
                .fetch_one(&self.pool)
                .await
                .map_err(db_error)?;
                let hash = Hash::from_hex(&hash).map_err(|_| unknown("stored hash"))?;
                (u64::try_from(seq).unwrap_or(0), hash)
            }
        };
        let entries = chain(last, events)?;
        if let [one] = entries.as_slice() {
            bind_entry(sqlx::query(INSERT), one)?
                .execute(&self.pool)
                .await
                .map_err(db_error)?;
        } else {
            let mut tx = self.pool.begin().await.map_err(db_error)?;
            for e in &entries {
                bind_entry(sqlx::query(INSERT), e)?
                    .execute(&mut *tx)
                    .await
                    .map_err(db_error)?;
            }
            tx.commit().await.map_err(db_error)?;
        }
        if let Some(e) = entries.last() {
            self.remember(&first.aggregate_id, (e.entry.sequence, e.hash));
        }
        Ok(())
    }

    async fn stream_events<A: Aggregate>(
        &self,
        _aggregate_id: &str,
    ) -> Result<ReplayStream, PersistenceError> {
        Err(unknown("not used by the benchmark"))
    }

    async fn stream_all_events<A: Aggregate>(&self) -> Result<ReplayStream, PersistenceError> {
        Err(unknown("not used by the benchmark"))
    }
}
