//! The event store: cqrs-es in event-store mode over PostgreSQL (production)
//! or SQLite (the embedded default), with every event hash-chained in the
//! same transaction that writes it, and a global, position-ordered feed that
//! never skips a late commit.
//!
//! postgres-es and sqlite-es write events in a transaction of their own, with
//! no room for the chain, so [`EventRepository`] implements cqrs-es's
//! `PersistedEventRepository` itself over the same table (postgres-es's
//! columns plus `position`, `txid` on PostgreSQL, `prev_hash` and `hash`).

pub mod access;
pub mod accounts;
pub mod audit;
pub mod credentials;
mod error;
mod feed;
pub mod practice;
pub mod private_file;
mod repo;
mod secret;
pub mod signing_keys;
pub mod upcast;
pub mod web_sessions;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use cqrs_es::CqrsFramework;
use cqrs_es::persist::PersistedEventStore;
use kapchart_domain::{ClientRecord, Command};
use sqlx::Connection as _;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

pub use error::{StoreError, unavailable};
pub use feed::{Cursor, FeedEvent};
pub use repo::{CommandEvent, EventRepository};

static PG_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/postgres");
static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/sqlite");

/// Where "now" comes from when an event is recorded.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// The system clock.
pub fn system_clock() -> Clock {
    Arc::new(Utc::now)
}

/// The aggregate type of client records, as stored.
pub const CLIENT_RECORD: &str = <ClientRecord as cqrs_es::Aggregate>::TYPE;

/// cqrs-es's event store over [`EventRepository`], in event-store mode.
pub type ClientStore = PersistedEventStore<EventRepository, ClientRecord>;

/// The command side: decide with `ClientRecord`, persist with the chain.
pub type ClientCqrs = CqrsFramework<ClientRecord, ClientStore>;

/// How long a query waits for a pooled connection before it fails with
/// [`StoreError::Unavailable`] (PostgreSQL): while the server is down, a
/// request fails within this bound instead of hanging.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

/// Whether the schema in the database is the one this kapchart embeds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MigrationState {
    /// Every embedded migration is applied, with the same checksum, and
    /// nothing else.
    Current,
    /// Embedded migrations not applied yet (run `kapchart migrate`).
    Pending(usize),
    /// A migration failed part-way (its version).
    Dirty(i64),
    /// Applied migrations this kapchart does not know, or whose checksum
    /// differs (a newer or a different kapchart migrated the database).
    Unknown(usize),
}

/// A connected database.
#[derive(Debug, Clone)]
pub enum Database {
    /// PostgreSQL.
    Postgres(PgPool),
    /// SQLite, in WAL mode with `synchronous=FULL`.
    Sqlite(SqlitePool),
}

impl Database {
    /// Connects to `sqlite:PATH`, `sqlite://PATH`, `postgres://...` or
    /// `postgresql://...`. A SQLite file is created when missing, readable
    /// and writable by its owner only (0600), and an existing one is made
    /// so before it is opened: it holds PHI. SQLite gives its `-wal` and
    /// `-shm` files the database file's mode.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(url).map_err(|_| StoreError::BadUrl)?;
            // One direct connection first: an unreachable server or a wrong
            // password fails at once with its own reason, not after the
            // pool's acquire timeout.
            let probe = PgConnection::connect_with(&options)
                .await
                .map_err(StoreError::connect)?;
            let _ = probe.close().await;
            let pool = PgPoolOptions::new()
                .max_connections(32)
                .acquire_timeout(ACQUIRE_TIMEOUT)
                .connect_with(options)
                .await
                .map_err(StoreError::connect)?;
            Ok(Database::Postgres(pool))
        } else if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url).map_err(|_| StoreError::BadUrl)?;
            if !in_memory(url) {
                private_file::database(options.get_filename())?;
            }
            let options = options
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(Duration::from_secs(30))
                .foreign_keys(true);
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .connect_with(options)
                .await
                .map_err(StoreError::connect)?;
            Ok(Database::Sqlite(pool))
        } else {
            Err(StoreError::BadUrl)
        }
    }

    /// Applies the engine's migrations; applying them again is harmless.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match self {
            Database::Postgres(pool) => PG_MIGRATIONS.run(pool).await,
            Database::Sqlite(pool) => SQLITE_MIGRATIONS.run(pool).await,
        }
        .map_err(|e| StoreError::Migrate(e.to_string()))
    }

    /// Answers a trivial query (`SELECT 1`): the database is reachable.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when it does not answer.
    pub async fn ping(&self) -> Result<(), StoreError> {
        match self {
            Database::Postgres(pool) => sqlx::query("SELECT 1").execute(pool).await.map(drop),
            Database::Sqlite(pool) => sqlx::query("SELECT 1").execute(pool).await.map(drop),
        }
        .map_err(StoreError::query)
    }

    /// Compares the migrations applied to the database with the ones
    /// embedded in this build (versions and checksums).
    ///
    /// # Errors
    /// [`StoreError`] when the list cannot be read.
    pub async fn migration_state(&self) -> Result<MigrationState, StoreError> {
        /// The migrations applied on `conn`, and the version left dirty.
        async fn applied_on(
            conn: &mut impl sqlx::migrate::Migrate,
        ) -> Result<(Vec<sqlx::migrate::AppliedMigration>, Option<i64>), StoreError> {
            let applied = conn
                .list_applied_migrations()
                .await
                .map_err(migrate_error)?;
            let dirty = conn.dirty_version().await.map_err(migrate_error)?;
            Ok((applied, dirty))
        }
        let (migrator, (applied, dirty)) = match self {
            Database::Postgres(pool) => {
                let mut conn = pool.acquire().await.map_err(StoreError::query)?;
                (&PG_MIGRATIONS, applied_on(&mut *conn).await?)
            }
            Database::Sqlite(pool) => {
                let mut conn = pool.acquire().await.map_err(StoreError::query)?;
                (&SQLITE_MIGRATIONS, applied_on(&mut *conn).await?)
            }
        };
        if let Some(version) = dirty {
            return Ok(MigrationState::Dirty(version));
        }
        let embedded: Vec<_> = migrator
            .iter()
            .filter(|m| !m.migration_type.is_down_migration())
            .collect();
        let unknown = applied
            .iter()
            .filter(|a| {
                !embedded
                    .iter()
                    .any(|m| m.version == a.version && m.checksum == a.checksum)
            })
            .count();
        if unknown > 0 {
            return Ok(MigrationState::Unknown(unknown));
        }
        let pending = embedded
            .iter()
            .filter(|m| !applied.iter().any(|a| a.version == m.version))
            .count();
        Ok(if pending > 0 {
            MigrationState::Pending(pending)
        } else {
            MigrationState::Current
        })
    }

    /// Connects and migrates.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let db = Self::connect(url).await?;
        db.migrate().await?;
        Ok(db)
    }

    /// The engine's name, for messages.
    pub fn engine(&self) -> &'static str {
        match self {
            Database::Postgres(_) => "postgresql",
            Database::Sqlite(_) => "sqlite",
        }
    }

    /// The repository, recording events with `clock`.
    pub fn repository(&self, clock: Clock) -> EventRepository {
        EventRepository::new(self.clone(), clock)
    }

    /// The command side for client records.
    pub fn client_cqrs(&self, clock: Clock, services: kapchart_domain::Services) -> ClientCqrs {
        let store = PersistedEventStore::new_event_store(self.repository(clock));
        CqrsFramework::new(store, vec![], services)
    }

    /// Closes the pool.
    pub async fn close(&self) {
        match self {
            Database::Postgres(pool) => pool.close().await,
            Database::Sqlite(pool) => pool.close().await,
        }
    }
}

/// A failure to read the migrations table: no table means nothing is
/// applied yet, which [`Database::migration_state`] reports as a query
/// error (the readiness probe says "not current" either way).
fn migrate_error(e: sqlx::migrate::MigrateError) -> StoreError {
    match e {
        sqlx::migrate::MigrateError::Execute(e) => StoreError::query(e),
        other => StoreError::Query(other.to_string()),
    }
}

/// True for the URLs of SQLite databases held in memory, which have no
/// file.
fn in_memory(url: &str) -> bool {
    url.contains(":memory:") || url.contains("mode=memory")
}

/// The metadata the audit contract asks of every event (besides
/// `recorded_at`, which the store stamps): who acted, in which role, and the
/// command id. Pass it to `CqrsFramework::execute_with_metadata`.
pub fn command_metadata(command: &Command) -> std::collections::HashMap<String, String> {
    metadata_of(&command.actor, &command.id)
}

/// [`command_metadata`] of any record's command (the practice's too): who
/// acted, in which role, and the command id.
pub fn metadata_of(
    actor: &kapchart_domain::Actor,
    id: &kapchart_domain::CommandId,
) -> std::collections::HashMap<String, String> {
    std::collections::HashMap::from([
        ("actor_id".to_owned(), actor.id.to_string()),
        ("actor_role".to_owned(), actor.role.as_str().to_owned()),
        ("command_id".to_owned(), id.to_string()),
    ])
}
