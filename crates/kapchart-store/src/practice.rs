//! The practice's own record (its settings as a hash-chained history) on
//! the database: the command side, loading the record, and the settings
//! every client record is decided with, reloaded when the record grows.
//!
//! The record's events live in the one `events` table beside the clients'
//! (aggregate type `PracticeRecord`, id `practice`), chained and
//! checkpointed like theirs; the projector skips them.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use cqrs_es::CqrsFramework;
use cqrs_es::persist::PersistedEventStore;
use kapchart_domain::{PRACTICE_EVENT_VERSION, PracticeEvent, PracticeRecord, PracticeSettings};

use crate::repo::EventRepository;
use crate::{Clock, Database, StoreError};

/// The aggregate type of the practice's record.
pub const PRACTICE_RECORD: &str = <PracticeRecord as cqrs_es::Aggregate>::TYPE;

/// The id of the one practice record a database holds.
pub const PRACTICE_ID: &str = "practice";

/// cqrs-es's event store of the practice record, in event-store mode.
pub type PracticeStore = PersistedEventStore<EventRepository, PracticeRecord>;

/// The command side of the practice record.
pub type PracticeCqrs = CqrsFramework<PracticeRecord, PracticeStore>;

impl Database {
    /// The command side for the practice's record.
    pub fn practice_cqrs(&self, clock: Clock) -> PracticeCqrs {
        let store = PersistedEventStore::new_event_store(self.repository(clock));
        CqrsFramework::new(store, vec![], ())
    }
}

/// One entry of the practice's record, as an admin or auditor reads it.
#[derive(Debug, Clone)]
pub struct PracticeEntry {
    /// Position in the record, from 1.
    pub sequence: u64,
    /// When the store recorded it.
    pub recorded_at: DateTime<Utc>,
    /// The event.
    pub event: PracticeEvent,
    /// Its chain hash (hex).
    pub hash: String,
    /// The previous entry's hash (hex).
    pub prev_hash: String,
}

/// Every entry of the practice's record, oldest first.
///
/// # Errors
/// [`StoreError::Unreadable`] naming the sequence of an entry this
/// version of kapchart cannot read; a store error otherwise.
pub async fn history(db: &Database) -> Result<Vec<PracticeEntry>, StoreError> {
    let clock: Clock = Arc::new(Utc::now);
    let events = db
        .repository(clock)
        .events_of(PRACTICE_RECORD, PRACTICE_ID, 0)
        .await?;
    events
        .into_iter()
        .map(|e| {
            let entry = &e.stored.entry;
            let unreadable = |reason: String| StoreError::Unreadable {
                table: "events",
                key: format!(
                    "{PRACTICE_RECORD}/{PRACTICE_ID} sequence {}",
                    entry.sequence
                ),
                reason,
            };
            if entry.event_version != PRACTICE_EVENT_VERSION {
                return Err(unreadable(format!(
                    "event version {:?} of {} is unknown to this version of kapchart",
                    entry.event_version, entry.event_type
                )));
            }
            let event: PracticeEvent = serde_json::from_value(entry.payload.clone())
                .map_err(|_| unreadable(format!("payload is not a valid {}", entry.event_type)))?;
            if event.type_name() != entry.event_type {
                return Err(unreadable(format!(
                    "payload is not a valid {}",
                    entry.event_type
                )));
            }
            let recorded_at =
                crate::upcast::recorded_at(entry).map_err(|e| unreadable(e.to_string()))?;
            Ok(PracticeEntry {
                sequence: entry.sequence,
                recorded_at,
                event,
                hash: e.stored.hash.to_hex(),
                prev_hash: entry.prev_hash.to_hex(),
            })
        })
        .collect()
}

/// The practice's record as it stands: every entry replayed.
///
/// # Errors
/// As [`history`].
pub async fn load(db: &Database) -> Result<PracticeRecord, StoreError> {
    use cqrs_es::Aggregate as _;
    let mut record = PracticeRecord::default();
    for entry in history(db).await? {
        record.apply(entry.event);
    }
    Ok(record)
}

/// The sequence of the practice record's last entry (0 while it has none).
///
/// # Errors
/// A store error.
pub async fn head(db: &Database) -> Result<u64, StoreError> {
    const SQL: &str = "SELECT COALESCE(MAX(sequence), 0) FROM events \
                       WHERE aggregate_type = $1 AND aggregate_id = $2";
    const SQL_SQLITE: &str = "SELECT COALESCE(MAX(sequence), 0) FROM events \
                              WHERE aggregate_type = ?1 AND aggregate_id = ?2";
    let last: i64 = match db {
        Database::Postgres(pool) => {
            sqlx::query_scalar(SQL)
                .bind(PRACTICE_RECORD)
                .bind(PRACTICE_ID)
                .fetch_one(pool)
                .await
        }
        Database::Sqlite(pool) => {
            sqlx::query_scalar(SQL_SQLITE)
                .bind(PRACTICE_RECORD)
                .bind(PRACTICE_ID)
                .fetch_one(pool)
                .await
        }
    }
    .map_err(StoreError::query)?;
    Ok(u64::try_from(last).unwrap_or(0))
}

/// The practice's settings as its record holds them now, kept in memory
/// and reloaded whenever the record has grown (one indexed query per
/// call), so a change made by any process (the API, the command line) is
/// in force for the next decision.
#[derive(Debug, Clone)]
pub struct SettingsSource {
    db: Database,
    cached: Arc<Mutex<(u64, Arc<PracticeSettings>)>>,
}

impl SettingsSource {
    /// Settings of `db`'s practice record (read on first use).
    pub fn new(db: Database) -> Self {
        Self {
            db,
            cached: Arc::new(Mutex::new((
                0,
                Arc::new(PracticeRecord::default().settings()),
            ))),
        }
    }

    /// The settings in force now: the record's, reloaded if it grew.
    ///
    /// # Errors
    /// A store error, or an entry of the record that cannot be read.
    pub async fn current(&self) -> Result<Arc<PracticeSettings>, StoreError> {
        let last = head(&self.db).await?;
        if let Some(settings) = self.cached_at(last) {
            return Ok(settings);
        }
        let record = load(&self.db).await?;
        let settings = Arc::new(record.settings());
        let mut cached = self.cached.lock().unwrap_or_else(|p| p.into_inner());
        if record.last_sequence() >= cached.0 {
            *cached = (record.last_sequence(), Arc::clone(&settings));
        }
        Ok(settings)
    }

    /// The settings last loaded, without asking the database (for what
    /// only displays: the pages' time zone between two reads).
    pub fn last_known(&self) -> Arc<PracticeSettings> {
        let cached = self.cached.lock().unwrap_or_else(|p| p.into_inner());
        Arc::clone(&cached.1)
    }

    fn cached_at(&self, last: u64) -> Option<Arc<PracticeSettings>> {
        let cached = self.cached.lock().unwrap_or_else(|p| p.into_inner());
        (cached.0 == last).then(|| Arc::clone(&cached.1))
    }
}
