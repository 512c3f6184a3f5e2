-- Every event of every aggregate, hash-chained per aggregate.
--
-- The columns after `position` are postgres-es's events table plus the
-- audit chain (prev_hash, hash; see docs/audit-format.md). SQLite has one
-- writer at a time, so `position` (assigned inside the writing transaction)
-- is also commit order: a reader can page by position alone.
CREATE TABLE events
(
    position       INTEGER PRIMARY KEY AUTOINCREMENT,
    aggregate_type TEXT    NOT NULL,
    aggregate_id   TEXT    NOT NULL,
    sequence       INTEGER NOT NULL CHECK (sequence >= 1),
    event_type     TEXT    NOT NULL,
    event_version  TEXT    NOT NULL,
    payload        TEXT    NOT NULL,
    metadata       TEXT    NOT NULL,
    prev_hash      TEXT    NOT NULL,
    hash           TEXT    NOT NULL,
    UNIQUE (aggregate_type, aggregate_id, sequence)
);
