-- Every event of every aggregate, hash-chained per aggregate.
--
-- The first seven columns are postgres-es's events table; kapchart adds:
--   position   a global number, taken at insert (not at commit);
--   txid       the writing transaction (xid8). A reader takes only rows whose
--              txid is below pg_snapshot_xmin(pg_current_snapshot()), so a
--              transaction that commits late is never skipped;
--   prev_hash, hash  the audit chain (docs/audit-format.md).
CREATE TABLE events
(
    position       bigint GENERATED ALWAYS AS IDENTITY,
    txid           xid8                         NOT NULL DEFAULT pg_current_xact_id(),
    aggregate_type text                         NOT NULL,
    aggregate_id   text                         NOT NULL,
    sequence       bigint CHECK (sequence >= 1) NOT NULL,
    event_type     text                         NOT NULL,
    event_version  text                         NOT NULL,
    payload        jsonb                        NOT NULL,
    metadata       jsonb                        NOT NULL,
    prev_hash      text                         NOT NULL,
    hash           text                         NOT NULL,
    PRIMARY KEY (aggregate_type, aggregate_id, sequence),
    UNIQUE (position)
);

CREATE INDEX events_feed ON events (txid, position);
