//! `EventRepository`: cqrs-es's `PersistedEventRepository` over the events
//! table, writing each event and its chain link in one row, in one
//! transaction.

use std::fmt;

use cqrs_es::Aggregate;
use cqrs_es::persist::{
    PersistedEventRepository, PersistenceError, ReplayStream, SerializedEvent, SerializedSnapshot,
};
use kapchart_audit::{Entry, Hash, StoredEntry};
use serde_json::Value;
use sqlx::Row;
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;

use crate::error::{StoreError, describe};
use crate::feed::FeedEvent;
use crate::{Clock, Database};

/// Metadata keys every event must carry besides `recorded_at` (audit
/// contract). See [`crate::command_metadata`].
pub const REQUIRED_METADATA: [&str; 3] = ["actor_id", "actor_role", "command_id"];

/// The events table, with the audit chain, for PostgreSQL or SQLite.
#[derive(Clone)]
pub struct EventRepository {
    db: Database,
    clock: Clock,
}

impl fmt::Debug for EventRepository {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventRepository")
            .field("engine", &self.db.engine())
            .finish_non_exhaustive()
    }
}

impl EventRepository {
    /// A repository over `db`, stamping `recorded_at` from `clock`.
    pub fn new(db: Database, clock: Clock) -> Self {
        Self { db, clock }
    }

    /// The database.
    pub fn database(&self) -> &Database {
        &self.db
    }

    /// One aggregate's stored events after `after_sequence`, in sequence
    /// order, exactly as stored (hashes included, nothing verified).
    pub async fn events_of(
        &self,
        aggregate_type: &str,
        aggregate_id: &str,
        after_sequence: u64,
    ) -> Result<Vec<FeedEvent>, StoreError> {
        let after = i64::try_from(after_sequence).unwrap_or(i64::MAX);
        match &self.db {
            Database::Postgres(pool) => {
                let sql = format!(
                    "SELECT {RAW_COLUMNS_PG} FROM events WHERE aggregate_type = $1 \
                     AND aggregate_id = $2 AND sequence > $3 ORDER BY sequence"
                );
                let rows = sqlx::query(&sql)
                    .bind(aggregate_type)
                    .bind(aggregate_id)
                    .bind(after)
                    .fetch_all(pool)
                    .await
                    .map_err(StoreError::query)?;
                rows.iter().map(pg_row).collect()
            }
            Database::Sqlite(pool) => {
                let sql = format!(
                    "SELECT {RAW_COLUMNS_SQLITE} FROM events WHERE aggregate_type = ?1 \
                     AND aggregate_id = ?2 AND sequence > ?3 ORDER BY sequence"
                );
                let rows = sqlx::query(&sql)
                    .bind(aggregate_type)
                    .bind(aggregate_id)
                    .bind(after)
                    .fetch_all(pool)
                    .await
                    .map_err(StoreError::query)?;
                rows.iter().map(sqlite_row).collect()
            }
        }
    }

    /// Appends events of one aggregate with their chain links, in one
    /// transaction: all of them or none.
    pub async fn append(&self, events: &[SerializedEvent]) -> Result<(), PersistenceError> {
        let Some(first) = events.first() else {
            return Ok(());
        };
        if events.iter().any(|e| {
            e.aggregate_type != first.aggregate_type || e.aggregate_id != first.aggregate_id
        }) {
            return Err(unknown("one append must hold events of one aggregate"));
        }
        let recorded_at = (self.clock)().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        match &self.db {
            Database::Postgres(pool) => {
                let mut tx = pool.begin().await.map_err(connection)?;
                let last: Option<(i64, String)> = sqlx::query_as(
                    "SELECT sequence, hash FROM events WHERE aggregate_type = $1 \
                     AND aggregate_id = $2 ORDER BY sequence DESC LIMIT 1",
                )
                .bind(&first.aggregate_type)
                .bind(&first.aggregate_id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(connection)?;
                for entry in chain(last, events, &recorded_at)? {
                    sqlx::query(
                        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, \
                         event_version, payload, metadata, prev_hash, hash) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                    )
                    .bind(&entry.entry.aggregate_type)
                    .bind(&entry.entry.aggregate_id)
                    .bind(to_i64(entry.entry.sequence)?)
                    .bind(&entry.entry.event_type)
                    .bind(&entry.entry.event_version)
                    .bind(&entry.entry.payload)
                    .bind(&entry.entry.metadata)
                    .bind(entry.entry.prev_hash.to_hex())
                    .bind(entry.hash.to_hex())
                    .execute(&mut *tx)
                    .await
                    .map_err(write_error)?;
                }
                tx.commit().await.map_err(write_error)
            }
            Database::Sqlite(pool) => {
                // IMMEDIATE takes the write lock up front: SQLite's single
                // writer makes `position` commit order.
                let mut tx = pool
                    .begin_with("BEGIN IMMEDIATE")
                    .await
                    .map_err(write_error)?;
                let last: Option<(i64, String)> = sqlx::query_as(
                    "SELECT sequence, hash FROM events WHERE aggregate_type = ?1 \
                     AND aggregate_id = ?2 ORDER BY sequence DESC LIMIT 1",
                )
                .bind(&first.aggregate_type)
                .bind(&first.aggregate_id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(connection)?;
                for entry in chain(last, events, &recorded_at)? {
                    sqlx::query(
                        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, \
                         event_version, payload, metadata, prev_hash, hash) \
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                    )
                    .bind(&entry.entry.aggregate_type)
                    .bind(&entry.entry.aggregate_id)
                    .bind(to_i64(entry.entry.sequence)?)
                    .bind(&entry.entry.event_type)
                    .bind(&entry.entry.event_version)
                    .bind(entry.entry.payload.to_string())
                    .bind(entry.entry.metadata.to_string())
                    .bind(entry.entry.prev_hash.to_hex())
                    .bind(entry.hash.to_hex())
                    .execute(&mut *tx)
                    .await
                    .map_err(write_error)?;
                }
                tx.commit().await.map_err(write_error)
            }
        }
    }
}

/// Links `events` onto the chain whose last stored entry is `last`
/// (sequence, hash): checks the sequence numbers follow on, stamps
/// `recorded_at`, and computes each hash.
fn chain(
    last: Option<(i64, String)>,
    events: &[SerializedEvent],
    recorded_at: &str,
) -> Result<Vec<StoredEntry>, PersistenceError> {
    let (mut sequence, mut prev) = match last {
        None => (0_u64, Hash::ZERO),
        Some((seq, hash)) => (
            u64::try_from(seq).map_err(|_| unknown("stored sequence is negative"))?,
            Hash::from_hex(&hash).map_err(|_| unknown("stored hash is not 64 hex digits"))?,
        ),
    };
    let mut out = Vec::with_capacity(events.len());
    for event in events {
        sequence += 1;
        if event.sequence as u64 != sequence {
            // Another writer got there first: cqrs-es reports a conflict and
            // the command can be retried on the new state.
            return Err(PersistenceError::OptimisticLockError);
        }
        let mut metadata = match &event.metadata {
            Value::Object(map) => map.clone(),
            _ => return Err(unknown("event metadata must be a JSON object")),
        };
        if let Some(missing) = REQUIRED_METADATA
            .iter()
            .find(|k| !metadata.get(**k).is_some_and(Value::is_string))
        {
            return Err(unknown(&format!(
                "event metadata lacks `{missing}` (use command_metadata)"
            )));
        }
        metadata.insert(
            "recorded_at".to_owned(),
            Value::String(recorded_at.to_owned()),
        );
        let entry = Entry {
            aggregate_type: event.aggregate_type.clone(),
            aggregate_id: event.aggregate_id.clone(),
            sequence,
            event_type: event.event_type.clone(),
            event_version: event.event_version.clone(),
            payload: event.payload.clone(),
            metadata: Value::Object(metadata),
            prev_hash: prev,
        };
        let sealed = entry
            .seal()
            .map_err(|e| unknown(&format!("event cannot be hashed: {e}")))?;
        prev = sealed.hash;
        out.push(sealed);
    }
    Ok(out)
}

fn to_i64(n: u64) -> Result<i64, PersistenceError> {
    i64::try_from(n).map_err(|_| unknown("sequence out of range"))
}

fn unknown(message: &str) -> PersistenceError {
    PersistenceError::UnknownError(message.to_owned().into())
}

fn connection(e: sqlx::Error) -> PersistenceError {
    PersistenceError::ConnectionError(describe(&e).into())
}

fn write_error(e: sqlx::Error) -> PersistenceError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            PersistenceError::OptimisticLockError
        }
        // SQLite: another writer holds the lock past the busy timeout.
        sqlx::Error::Database(db) if db.code().as_deref() == Some("5") => {
            PersistenceError::OptimisticLockError
        }
        _ => connection(e),
    }
}

/// A stored row as text, before any parsing: what verification reads, so
/// that a row it cannot parse is reported, not fatal.
#[derive(Debug, Clone)]
pub(crate) struct RawRow {
    pub position: i64,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
    pub event_type: String,
    pub event_version: String,
    pub payload: String,
    pub metadata: String,
    pub prev_hash: String,
    pub hash: String,
}

/// Columns of [`RawRow`], JSON as text on both engines.
pub(crate) const RAW_COLUMNS_PG: &str = "position, aggregate_type, aggregate_id, sequence, \
     event_type, event_version, payload::text AS payload, metadata::text AS metadata, \
     prev_hash, hash";
pub(crate) const RAW_COLUMNS_SQLITE: &str = "position, aggregate_type, aggregate_id, sequence, \
     event_type, event_version, payload, metadata, prev_hash, hash";

impl RawRow {
    pub(crate) fn from_pg(row: &PgRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            position: row.try_get("position")?,
            aggregate_type: row.try_get("aggregate_type")?,
            aggregate_id: row.try_get("aggregate_id")?,
            sequence: row.try_get("sequence")?,
            event_type: row.try_get("event_type")?,
            event_version: row.try_get("event_version")?,
            payload: row.try_get("payload")?,
            metadata: row.try_get("metadata")?,
            prev_hash: row.try_get("prev_hash")?,
            hash: row.try_get("hash")?,
        })
    }

    pub(crate) fn from_sqlite(row: &SqliteRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            position: row.try_get("position")?,
            aggregate_type: row.try_get("aggregate_type")?,
            aggregate_id: row.try_get("aggregate_id")?,
            sequence: row.try_get("sequence")?,
            event_type: row.try_get("event_type")?,
            event_version: row.try_get("event_version")?,
            payload: row.try_get("payload")?,
            metadata: row.try_get("metadata")?,
            prev_hash: row.try_get("prev_hash")?,
            hash: row.try_get("hash")?,
        })
    }

    /// The sequence as stored, clamped to 0 when negative (for reporting).
    pub(crate) fn sequence_u64(&self) -> u64 {
        u64::try_from(self.sequence).unwrap_or(0)
    }

    /// Parses the row; the reason names the column, never its content.
    pub(crate) fn decode(&self) -> Result<StoredEntry, String> {
        let sequence =
            u64::try_from(self.sequence).map_err(|_| "sequence is negative".to_owned())?;
        let json = |text: &str, column: &str| {
            serde_json::from_str::<Value>(text).map_err(|_| format!("{column} is not JSON"))
        };
        let hash = |text: &str, column: &str| {
            Hash::from_hex(text).map_err(|_| format!("{column} is not 64 lowercase hex digits"))
        };
        Ok(StoredEntry {
            entry: Entry {
                aggregate_type: self.aggregate_type.clone(),
                aggregate_id: self.aggregate_id.clone(),
                sequence,
                event_type: self.event_type.clone(),
                event_version: self.event_version.clone(),
                payload: json(&self.payload, "payload")?,
                metadata: json(&self.metadata, "metadata")?,
                prev_hash: hash(&self.prev_hash, "prev_hash")?,
            },
            hash: hash(&self.hash, "hash")?,
        })
    }

    fn into_feed(self) -> Result<FeedEvent, StoreError> {
        let stored = self.decode().map_err(|reason| StoreError::Corrupt {
            position: self.position,
            reason,
        })?;
        Ok(FeedEvent {
            position: self.position,
            txid: None,
            stored,
        })
    }
}

pub(crate) fn pg_row(row: &PgRow) -> Result<FeedEvent, StoreError> {
    RawRow::from_pg(row).map_err(StoreError::query)?.into_feed()
}

pub(crate) fn sqlite_row(row: &SqliteRow) -> Result<FeedEvent, StoreError> {
    RawRow::from_sqlite(row)
        .map_err(StoreError::query)?
        .into_feed()
}

fn to_serialized(event: FeedEvent) -> SerializedEvent {
    let e = event.stored.entry;
    SerializedEvent {
        aggregate_id: e.aggregate_id,
        sequence: usize::try_from(e.sequence).unwrap_or(usize::MAX),
        aggregate_type: e.aggregate_type,
        event_type: e.event_type,
        event_version: e.event_version,
        payload: e.payload,
        metadata: e.metadata,
    }
}

fn store_to_persistence(e: StoreError) -> PersistenceError {
    match e {
        StoreError::Corrupt { .. } => PersistenceError::DeserializationError(e.to_string().into()),
        other => PersistenceError::ConnectionError(other.to_string().into()),
    }
}

impl PersistedEventRepository for EventRepository {
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
        let events = self
            .events_of(A::TYPE, aggregate_id, last_sequence as u64)
            .await
            .map_err(store_to_persistence)?;
        Ok(events.into_iter().map(to_serialized).collect())
    }

    async fn get_snapshot<A: Aggregate>(
        &self,
        _aggregate_id: &str,
    ) -> Result<Option<SerializedSnapshot>, PersistenceError> {
        // Event-store mode only: cqrs-es 0.5.0's snapshot and aggregate-store
        // modes apply new events twice.
        Ok(None)
    }

    async fn persist<A: Aggregate>(
        &self,
        events: &[SerializedEvent],
        snapshot_update: Option<(String, Value, usize)>,
    ) -> Result<(), PersistenceError> {
        if snapshot_update.is_some() {
            return Err(unknown("snapshots are not supported: use event-store mode"));
        }
        self.append(events).await
    }

    async fn stream_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<ReplayStream, PersistenceError> {
        let events = self
            .events_of(A::TYPE, aggregate_id, 0)
            .await
            .map_err(store_to_persistence)?;
        Ok(replay(events))
    }

    async fn stream_all_events<A: Aggregate>(&self) -> Result<ReplayStream, PersistenceError> {
        let mut all = Vec::new();
        let mut cursor = crate::Cursor::START;
        loop {
            let (page, next) = crate::feed::read_after(&self.db, &cursor, 1000)
                .await
                .map_err(store_to_persistence)?;
            if page.is_empty() {
                break;
            }
            all.extend(
                page.into_iter()
                    .filter(|e| e.stored.entry.aggregate_type == A::TYPE),
            );
            cursor = next;
        }
        Ok(replay(all))
    }
}

fn replay(events: Vec<FeedEvent>) -> ReplayStream {
    let (mut feed, stream) = ReplayStream::new(events.len().max(1));
    tokio::spawn(async move {
        for event in events {
            if feed.push(Ok(to_serialized(event))).await.is_err() {
                break;
            }
        }
    });
    stream
}
