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
    number             bigint PRIMARY KEY CHECK (number >= 1),
    public_key         text   NOT NULL UNIQUE CHECK (public_key ~ '^[0-9a-f]{64}$'),
    key_id             text   NOT NULL CHECK (key_id ~ '^[0-9a-f]{64}$'),
    in_use_from        text   NOT NULL,
    previous_key       text CHECK (previous_key ~ '^[0-9a-f]{64}$'),
    statement          text   NOT NULL,
    signature          text   NOT NULL CHECK (signature ~ '^[0-9a-f]{128}$'),
    previous_signature text CHECK (previous_signature ~ '^[0-9a-f]{128}$'),
    CHECK ((number = 1) = (previous_key IS NULL)),
    CHECK ((previous_key IS NULL) = (previous_signature IS NULL))
);
