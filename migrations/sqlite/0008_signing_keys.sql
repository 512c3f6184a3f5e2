-- The checkpoint signing keys' public halves, published so that every
-- checkpoint stays verifiable after a key is rotated
-- (kapchart_store::signing_keys; docs/audit-format.md, "Key rotation").
-- The private key never enters the database: it is a file kept outside it.
--
-- One row per key, numbered 1, 2, ... in the order they came into use.
-- `statement` is the canonical JSON (RFC 8785) of
-- {"number", "public_key", "key_id", "in_use_from", "previous_key"}, the
-- columns beside it; `signature` is the key's own Ed25519 signature of
-- it (hex), and `previous_signature` the previous key's (null for the
-- first key): the old key hands over to the new one, and the new one
-- names the old. A key is in use from its `in_use_from` (RFC 3339 UTC,
-- seconds) until the next key's.
CREATE TABLE signing_keys
(
    number             INTEGER PRIMARY KEY CHECK (number >= 1),
    public_key         TEXT    NOT NULL UNIQUE CHECK (length(public_key) = 64 AND public_key NOT GLOB '*[^0-9a-f]*'),
    key_id             TEXT    NOT NULL CHECK (length(key_id) = 64 AND key_id NOT GLOB '*[^0-9a-f]*'),
    in_use_from        TEXT    NOT NULL,
    previous_key       TEXT CHECK (length(previous_key) = 64 AND previous_key NOT GLOB '*[^0-9a-f]*'),
    statement          TEXT    NOT NULL,
    signature          TEXT    NOT NULL CHECK (length(signature) = 128 AND signature NOT GLOB '*[^0-9a-f]*'),
    previous_signature TEXT CHECK (length(previous_signature) = 128 AND previous_signature NOT GLOB '*[^0-9a-f]*'),
    CHECK ((number = 1) = (previous_key IS NULL)),
    CHECK ((previous_key IS NULL) = (previous_signature IS NULL))
);
