//! The global feed: every event of every aggregate in one order that a
//! reader can page through without ever skipping an event that commits late.
//!
//! PostgreSQL assigns `position` at insert, not at commit, so a reader that
//! has passed position 7 could later see 5 commit. Each row therefore
//! records its writing transaction (`txid`, xid8), and a reader takes only
//! rows whose transaction is below `pg_snapshot_xmin(pg_current_snapshot())`:
//! every transaction below that horizon has finished, so nothing can appear
//! behind the cursor. The feed order is `(txid, position)`.
//!
//! SQLite has a single writer and assigns `position` inside the writing
//! transaction, so `position` is commit order and the cursor is the position.

use kapchart_audit::StoredEntry;
use sqlx::Row;

use crate::Database;
use crate::error::StoreError;
use crate::repo::{pg_row, sqlite_row};

/// A stored event with its place in the feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedEvent {
    /// Global position (insert order).
    pub position: i64,
    /// The writing transaction (PostgreSQL), as text.
    pub txid: Option<String>,
    /// The entry as stored, with its stored hash.
    pub stored: StoredEntry,
}

/// Where a reader of the feed stands: after the event `(txid, position)`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Cursor {
    /// Transaction id of the last event read (PostgreSQL; 0 on SQLite).
    pub txid: u64,
    /// Position of the last event read.
    pub position: i64,
}

impl Cursor {
    /// Before the first event.
    pub const START: Cursor = Cursor {
        txid: 0,
        position: 0,
    };
}

/// Up to `limit` events after `cursor`, in feed order, and the cursor after
/// the last one returned (the same cursor when none).
pub async fn read_after(
    db: &Database,
    cursor: &Cursor,
    limit: i64,
) -> Result<(Vec<FeedEvent>, Cursor), StoreError> {
    match db {
        Database::Postgres(pool) => {
            let rows = sqlx::query(
                "SELECT txid::text AS txid, position, aggregate_type, aggregate_id, sequence, \
                 event_type, event_version, payload::text AS payload, \
                 metadata::text AS metadata, prev_hash, hash \
                 FROM events \
                 WHERE (txid, position) > ($1::text::xid8, $2) \
                   AND txid < pg_snapshot_xmin(pg_current_snapshot()) \
                 ORDER BY events.txid, events.position LIMIT $3",
            )
            .bind(cursor.txid.to_string())
            .bind(cursor.position)
            .bind(limit)
            .fetch_all(pool)
            .await
            .map_err(StoreError::query)?;
            let mut next = cursor.clone();
            let mut events = Vec::with_capacity(rows.len());
            for row in &rows {
                let event = pg_row(row)?;
                let txid: String = row.try_get("txid").map_err(StoreError::query)?;
                next = Cursor {
                    txid: txid.parse().map_err(|_| StoreError::Corrupt {
                        position: event.position,
                        reason: "unreadable txid".to_owned(),
                    })?,
                    position: event.position,
                };
                events.push(event);
            }
            Ok((events, next))
        }
        Database::Sqlite(pool) => {
            let rows = sqlx::query(
                "SELECT position, aggregate_type, aggregate_id, sequence, event_type, \
                 event_version, payload, metadata, prev_hash, hash \
                 FROM events WHERE position > ?1 ORDER BY position LIMIT ?2",
            )
            .bind(cursor.position)
            .bind(limit)
            .fetch_all(pool)
            .await
            .map_err(StoreError::query)?;
            let events = rows.iter().map(sqlite_row).collect::<Result<Vec<_>, _>>()?;
            let next = events.last().map_or_else(
                || cursor.clone(),
                |e| Cursor {
                    txid: 0,
                    position: e.position,
                },
            );
            Ok((events, next))
        }
    }
}

impl Database {
    /// Up to `limit` events after `cursor` in feed order; see [`read_after`].
    pub async fn read_feed(
        &self,
        cursor: &Cursor,
        limit: i64,
    ) -> Result<(Vec<FeedEvent>, Cursor), StoreError> {
        read_after(self, cursor, limit).await
    }
}
