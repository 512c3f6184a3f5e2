//! `EventRepository`: cqrs-es's `PersistedEventRepository` over the events
//! table, writing each event and its chain link in one row, in one
//! transaction.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use cqrs_es::Aggregate;
use cqrs_es::persist::{
    PersistedEventRepository, PersistenceError, ReplayStream, SerializedEvent, SerializedSnapshot,
};
use kapchart_audit::{Entry, Hash, StoredEntry};
use serde_json::Value;
use sqlx::Row;
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;

use crate::error::StoreError;
use crate::feed::FeedEvent;
use crate::{Clock, Database};

/// Metadata keys every event must carry besides `recorded_at` (audit
/// contract). See [`crate::command_metadata`].
pub const REQUIRED_METADATA: [&str; 3] = ["actor_id", "actor_role", "command_id"];

/// An event written by a command: where it went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandEvent {
    /// Its sequence in the aggregate's history.
    pub sequence: u64,
    /// Its global position in the feed.
    pub position: i64,
    /// Its type, e.g. `ClientRegistered`.
    pub event_type: String,
}

/// The events table, with the audit chain, for PostgreSQL or SQLite.
///
/// Clones share one [`LinkCache`].
#[derive(Clone)]
pub struct EventRepository {
    db: Database,
    clock: Clock,
    links: Arc<LinkCache>,
}

/// The last link (sequence, hash) seen of each aggregate, so that an append
/// following a load need not read it again.
///
/// Safe because stored rows never change: the row at a given sequence has
/// one hash forever, so a remembered `(sequence, hash)` is a fact, used only
/// when the events to append follow on from exactly that sequence. If
/// another writer appended in between, the primary key refuses the insert
/// and cqrs-es reports a conflict, as without the cache. Bounded: when it
/// holds [`LinkCache::CAPACITY`] aggregates it is emptied, and the next
/// append of each reads its link from the table.
#[derive(Debug, Default)]
struct LinkCache {
    links: Mutex<HashMap<(String, String), (u64, Hash)>>,
}

impl LinkCache {
    const CAPACITY: usize = 65_536;

    fn get(&self, aggregate_type: &str, aggregate_id: &str) -> Option<(u64, Hash)> {
        let links = self.links.lock().unwrap_or_else(|p| p.into_inner());
        links
            .get(&(aggregate_type.to_owned(), aggregate_id.to_owned()))
            .copied()
    }

    fn put(&self, aggregate_type: &str, aggregate_id: &str, link: (u64, Hash)) {
        let mut links = self.links.lock().unwrap_or_else(|p| p.into_inner());
        if links.len() >= Self::CAPACITY {
            links.clear();
        }
        links.insert((aggregate_type.to_owned(), aggregate_id.to_owned()), link);
    }
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
        Self {
            db,
            clock,
            links: Arc::new(LinkCache::default()),
        }
    }

    /// The database.
    pub fn database(&self) -> &Database {
        &self.db
    }

    /// The events a command wrote to one aggregate (by the `command_id` in
    /// their metadata), in sequence order: what a retried command answers
    /// with. Empty if it wrote none.
    pub async fn command_events(
        &self,
        aggregate_type: &str,
        aggregate_id: &str,
        command_id: &str,
    ) -> Result<Vec<CommandEvent>, StoreError> {
        const COLUMNS: &str = "SELECT sequence, position, event_type FROM events";
        const WHERE: &str = "aggregate_type = $1 AND aggregate_id = $2 \
                             AND metadata ->> 'command_id' = $3 ORDER BY sequence";
        let rows: Vec<(i64, i64, String)> = match &self.db {
            Database::Postgres(pool) => {
                sqlx::query_as(&format!("{COLUMNS} WHERE {WHERE}"))
                    .bind(aggregate_type)
                    .bind(aggregate_id)
                    .bind(command_id)
                    .fetch_all(pool)
                    .await
            }
            Database::Sqlite(pool) => {
                sqlx::query_as(&format!("{COLUMNS} WHERE {}", WHERE.replace('$', "?")))
                    .bind(aggregate_type)
                    .bind(aggregate_id)
                    .bind(command_id)
                    .fetch_all(pool)
                    .await
            }
        }
        .map_err(StoreError::query)?;
        Ok(rows
            .into_iter()
            .map(|(sequence, position, event_type)| CommandEvent {
                sequence: u64::try_from(sequence).unwrap_or(0),
                position,
                event_type,
            })
            .collect())
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

    /// Appends events of one aggregate with their chain links, atomically:
    /// all of them or none. One event is one INSERT (atomic on its own);
    /// several are one transaction.
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
        let last = self.link_before(first).await?;
        let entries = chain(last, events, &recorded_at)?;
        match &self.db {
            Database::Postgres(pool) => {
                if let [one] = entries.as_slice() {
                    insert_pg(one)?.execute(pool).await.map_err(write_error)?;
                } else {
                    let mut tx = pool.begin().await.map_err(connection)?;
                    for entry in &entries {
                        insert_pg(entry)?
                            .execute(&mut *tx)
                            .await
                            .map_err(write_error)?;
                    }
                    tx.commit().await.map_err(write_error)?;
                }
            }
            Database::Sqlite(pool) => {
                if let [one] = entries.as_slice() {
                    insert_sqlite(one)?
                        .execute(pool)
                        .await
                        .map_err(write_error)?;
                } else {
                    // IMMEDIATE takes the write lock up front, so the
                    // transaction cannot fail part-way on a lock upgrade.
                    let mut tx = pool
                        .begin_with("BEGIN IMMEDIATE")
                        .await
                        .map_err(write_error)?;
                    for entry in &entries {
                        insert_sqlite(entry)?
                            .execute(&mut *tx)
                            .await
                            .map_err(write_error)?;
                    }
                    tx.commit().await.map_err(write_error)?;
                }
            }
        }
        if let Some(last) = entries.last() {
            self.links.put(
                &first.aggregate_type,
                &first.aggregate_id,
                (last.entry.sequence, last.hash),
            );
        }
        Ok(())
    }

    /// The link the first of the events to append follows: the chain's
    /// start for sequence 1, the remembered link when it is the one
    /// before, else the last stored row. A row that another writer adds
    /// meanwhile makes the insert hit the primary key: a conflict.
    async fn link_before(&self, first: &SerializedEvent) -> Result<(u64, Hash), PersistenceError> {
        let follows = (first.sequence as u64).saturating_sub(1);
        if follows == 0 {
            return Ok((0, Hash::ZERO));
        }
        if let Some(link) = self
            .links
            .get(&first.aggregate_type, &first.aggregate_id)
            .filter(|(sequence, _)| *sequence == follows)
        {
            return Ok(link);
        }
        let sql = match &self.db {
            Database::Postgres(_) => {
                "SELECT sequence, hash FROM events WHERE aggregate_type = $1 \
                 AND aggregate_id = $2 ORDER BY sequence DESC LIMIT 1"
            }
            Database::Sqlite(_) => {
                "SELECT sequence, hash FROM events WHERE aggregate_type = ?1 \
                 AND aggregate_id = ?2 ORDER BY sequence DESC LIMIT 1"
            }
        };
        let last: Option<(i64, String)> = match &self.db {
            Database::Postgres(pool) => {
                sqlx::query_as(sql)
                    .bind(&first.aggregate_type)
                    .bind(&first.aggregate_id)
                    .fetch_optional(pool)
                    .await
            }
            Database::Sqlite(pool) => {
                sqlx::query_as(sql)
                    .bind(&first.aggregate_type)
                    .bind(&first.aggregate_id)
                    .fetch_optional(pool)
                    .await
            }
        }
        .map_err(connection)?;
        match last {
            None => Ok((0, Hash::ZERO)),
            Some((sequence, hash)) => Ok((
                u64::try_from(sequence).map_err(|_| unknown("stored sequence is negative"))?,
                Hash::from_hex(&hash).map_err(|_| unknown("stored hash is not 64 hex digits"))?,
            )),
        }
    }

    /// What cqrs-es needs to rebuild an aggregate, and nothing more: the
    /// events after `after_sequence`, parsed, without the chain columns
    /// (which verification checks, not loading). Remembers the last link.
    async fn load(
        &self,
        aggregate_type: &str,
        aggregate_id: &str,
        after_sequence: usize,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        let after = i64::try_from(after_sequence).unwrap_or(i64::MAX);
        let rows: Vec<LoadRow> = match &self.db {
            Database::Postgres(pool) => {
                sqlx::query_as(
                    "SELECT sequence, event_type, event_version, payload::text AS payload, \
                     metadata::text AS metadata, hash FROM events WHERE aggregate_type = $1 \
                     AND aggregate_id = $2 AND sequence > $3 ORDER BY sequence",
                )
                .bind(aggregate_type)
                .bind(aggregate_id)
                .bind(after)
                .fetch_all(pool)
                .await
            }
            Database::Sqlite(pool) => {
                sqlx::query_as(
                    "SELECT sequence, event_type, event_version, payload, metadata, hash \
                     FROM events WHERE aggregate_type = ?1 AND aggregate_id = ?2 \
                     AND sequence > ?3 ORDER BY sequence",
                )
                .bind(aggregate_type)
                .bind(aggregate_id)
                .bind(after)
                .fetch_all(pool)
                .await
            }
        }
        .map_err(connection)?;
        if let Some(last) = rows.last() {
            // A row that does not parse is left for verification to report;
            // the append then reads the link itself.
            if let (Ok(sequence), Ok(hash)) =
                (u64::try_from(last.sequence), Hash::from_hex(&last.hash))
            {
                self.links
                    .put(aggregate_type, aggregate_id, (sequence, hash));
            }
        }
        rows.into_iter()
            .map(|row| {
                let json = |text: &str, column: &str| {
                    serde_json::from_str::<Value>(text).map_err(|_| {
                        PersistenceError::DeserializationError(
                            format!(
                                "{aggregate_type}/{aggregate_id} sequence {}: {column} is not JSON",
                                row.sequence
                            )
                            .into(),
                        )
                    })
                };
                Ok(SerializedEvent {
                    aggregate_id: aggregate_id.to_owned(),
                    sequence: usize::try_from(row.sequence).map_err(|_| {
                        PersistenceError::DeserializationError(
                            format!("{aggregate_type}/{aggregate_id}: a sequence is negative")
                                .into(),
                        )
                    })?,
                    aggregate_type: aggregate_type.to_owned(),
                    payload: json(&row.payload, "payload")?,
                    metadata: json(&row.metadata, "metadata")?,
                    event_type: row.event_type,
                    event_version: row.event_version,
                })
            })
            .collect()
    }
}

/// A row as [`EventRepository::load`] reads it.
#[derive(sqlx::FromRow)]
struct LoadRow {
    sequence: i64,
    event_type: String,
    event_version: String,
    payload: String,
    metadata: String,
    hash: String,
}

type PgInsert<'q> = sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>;
type SqliteInsert<'q> = sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>>;

/// One row: the event and its link. The JSON goes as text, stored as
/// written (`json` columns keep the text).
fn insert_pg(entry: &StoredEntry) -> Result<PgInsert<'_>, PersistenceError> {
    let e = &entry.entry;
    Ok(sqlx::query(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, \
         event_version, payload, metadata, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6::json, $7::json, $8, $9)",
    )
    .bind(&e.aggregate_type)
    .bind(&e.aggregate_id)
    .bind(to_i64(e.sequence)?)
    .bind(&e.event_type)
    .bind(&e.event_version)
    .bind(e.payload.to_string())
    .bind(e.metadata.to_string())
    .bind(e.prev_hash.to_hex())
    .bind(entry.hash.to_hex()))
}

fn insert_sqlite(entry: &StoredEntry) -> Result<SqliteInsert<'_>, PersistenceError> {
    let e = &entry.entry;
    Ok(sqlx::query(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, \
         event_version, payload, metadata, prev_hash, hash) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )
    .bind(&e.aggregate_type)
    .bind(&e.aggregate_id)
    .bind(to_i64(e.sequence)?)
    .bind(&e.event_type)
    .bind(&e.event_version)
    .bind(e.payload.to_string())
    .bind(e.metadata.to_string())
    .bind(e.prev_hash.to_hex())
    .bind(entry.hash.to_hex()))
}

/// Links `events` onto the chain whose last stored entry is `last`
/// (sequence, hash; `(0, ZERO)` for a new chain): checks the sequence numbers follow on, stamps
/// `recorded_at`, and computes each hash.
fn chain(
    last: (u64, Hash),
    events: &[SerializedEvent],
    recorded_at: &str,
) -> Result<Vec<StoredEntry>, PersistenceError> {
    let (mut sequence, mut prev) = last;
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
    // Kept as a StoreError, so that the API can tell an unavailable
    // database from other failures behind cqrs-es's error.
    PersistenceError::ConnectionError(Box::new(StoreError::query(e)))
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

/// A stored row as owned text, before any parsing: what the feed decodes,
/// and what verification decodes a row it could not hash with, so that the
/// row is reported with its reason, not fatal.
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

/// A stored row's columns borrowed from the database row, before any
/// parsing: what verification reads, copying nothing for a good row.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RawText<'r> {
    pub position: i64,
    pub aggregate_type: &'r str,
    pub aggregate_id: &'r str,
    pub sequence: i64,
    pub event_type: &'r str,
    pub event_version: &'r str,
    pub payload: &'r str,
    pub metadata: &'r str,
    pub prev_hash: &'r str,
    pub hash: &'r str,
}

impl<'r> RawText<'r> {
    /// Reads the columns of [`RAW_COLUMNS_PG`] or [`RAW_COLUMNS_SQLITE`].
    pub(crate) fn from_row<R>(row: &'r R) -> Result<Self, sqlx::Error>
    where
        R: Row,
        &'static str: sqlx::ColumnIndex<R>,
        i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
        &'r str: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    {
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

    /// The row with its text copied.
    pub(crate) fn to_raw_row(self) -> RawRow {
        RawRow {
            position: self.position,
            aggregate_type: self.aggregate_type.to_owned(),
            aggregate_id: self.aggregate_id.to_owned(),
            sequence: self.sequence,
            event_type: self.event_type.to_owned(),
            event_version: self.event_version.to_owned(),
            payload: self.payload.to_owned(),
            metadata: self.metadata.to_owned(),
            prev_hash: self.prev_hash.to_owned(),
            hash: self.hash.to_owned(),
        }
    }
}

impl RawRow {
    /// Reads the columns of [`RAW_COLUMNS_PG`] or [`RAW_COLUMNS_SQLITE`].
    pub(crate) fn from_row<'r, R>(row: &'r R) -> Result<Self, sqlx::Error>
    where
        R: Row,
        &'static str: sqlx::ColumnIndex<R>,
        i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
        &'r str: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    {
        RawText::from_row(row).map(RawText::to_raw_row)
    }

    /// The sequence as stored, clamped to 0 when negative (for reporting).
    pub(crate) fn sequence_u64(&self) -> u64 {
        u64::try_from(self.sequence).unwrap_or(0)
    }

    /// Parses the row, moving its text into the entry; on failure gives
    /// the row back with the reason, which names the column, never its
    /// content.
    pub(crate) fn decode(self) -> Result<StoredEntry, Box<(Self, String)>> {
        let parsed = (|| {
            let sequence =
                u64::try_from(self.sequence).map_err(|_| "sequence is negative".to_owned())?;
            let json = |text: &str, column: &str| {
                serde_json::from_str::<Value>(text).map_err(|_| format!("{column} is not JSON"))
            };
            let hash = |text: &str, column: &str| {
                Hash::from_hex(text).map_err(|_| format!("{column} is not 64 lowercase hex digits"))
            };
            Ok::<_, String>((
                sequence,
                json(&self.payload, "payload")?,
                json(&self.metadata, "metadata")?,
                hash(&self.prev_hash, "prev_hash")?,
                hash(&self.hash, "hash")?,
            ))
        })();
        match parsed {
            Ok((sequence, payload, metadata, prev_hash, hash)) => Ok(StoredEntry {
                entry: Entry {
                    aggregate_type: self.aggregate_type,
                    aggregate_id: self.aggregate_id,
                    sequence,
                    event_type: self.event_type,
                    event_version: self.event_version,
                    payload,
                    metadata,
                    prev_hash,
                },
                hash,
            }),
            Err(reason) => Err(Box::new((self, reason))),
        }
    }

    fn into_feed(self) -> Result<FeedEvent, StoreError> {
        let position = self.position;
        let stored = self.decode().map_err(|e| StoreError::Corrupt {
            position,
            reason: e.1,
        })?;
        Ok(FeedEvent {
            position,
            txid: None,
            stored,
        })
    }
}

pub(crate) fn pg_row(row: &PgRow) -> Result<FeedEvent, StoreError> {
    RawRow::from_row(row)
        .map_err(StoreError::query)?
        .into_feed()
}

pub(crate) fn sqlite_row(row: &SqliteRow) -> Result<FeedEvent, StoreError> {
    RawRow::from_row(row)
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
        other => PersistenceError::ConnectionError(Box::new(other)),
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
        self.load(A::TYPE, aggregate_id, last_sequence).await
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
