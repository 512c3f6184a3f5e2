-- payload and metadata as `json`, not `jsonb`: the text as the store wrote
-- it (serde_json's compact form), kept exactly, as postgres-es's own schema
-- keeps it. The chain hashes the canonical form of the parsed JSON, so the
-- hashes of existing rows hold across the change. jsonb cost every write a
-- conversion to binary and every load one back to text
-- (docs/performance.md); nothing queries inside these columns.
ALTER TABLE events
    ALTER COLUMN payload TYPE json USING payload::json,
    ALTER COLUMN metadata TYPE json USING metadata::json;
