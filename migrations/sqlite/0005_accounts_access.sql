-- Staff accounts (kapchart_store::accounts). `user_id` is the id the record
-- uses as actor id (kapchart_domain::UserId, e.g. `t-0001`); `role` one of
-- kapchart_domain::Role. `display_name` is the person's name: shown to
-- admins, never written to logs, errors or the access log. An account is
-- never deleted, so every actor id in the record and the access log stays
-- resolvable: `disabled_at` ends it, and its tokens are revoked in the same
-- transaction. Times are RFC 3339 UTC text with microseconds.
CREATE TABLE users
(
    user_id      TEXT PRIMARY KEY,
    role         TEXT NOT NULL CHECK (role IN ('therapist', 'prescriber', 'front_desk', 'auditor', 'admin')),
    display_name TEXT,
    disabled_at  TEXT,
    created_at   TEXT NOT NULL
);

-- API bearer tokens. Only the SHA-256 of a token is kept (lowercase hex):
-- the plaintext (`kc_` and 43 base64url characters) is shown once when
-- issued and cannot be recovered from the database. A token authenticates
-- while `expires_at` is in the future, `revoked_at` is null and its user is
-- not disabled. Looked up by hash only (the primary key), so comparing a
-- presented token leaks nothing about stored plaintext.
CREATE TABLE tokens
(
    token_hash TEXT PRIMARY KEY CHECK (length(token_hash) = 64 AND token_hash NOT GLOB '*[^0-9a-f]*'),
    user_id    TEXT NOT NULL REFERENCES users (user_id),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    revoked_at TEXT
);

CREATE INDEX tokens_user ON tokens (user_id);

-- The access log (docs/access-log.md): every read of a client's record and
-- every change to an account, with the fields of ASTM E2147-18 section 7.1,
-- hash-chained on its own. `sequence` is gapless from 1: appends run in a
-- BEGIN IMMEDIATE transaction (SQLite's one writer) that reads the head and
-- inserts, so the chain never forks (the primary key also guards). `hash`
-- is the SHA-256 of the RFC 8785 canonical JSON of the row's fields with
-- `prev_hash`; `prev_hash` of sequence 1 is 64 zeros. `at` is RFC 3339 UTC
-- text with microseconds, compared as written by period filters.
-- `categories` is the sorted names joined by `,`. Rows are never updated or
-- deleted; `kapchart verify` recomputes the chain.
CREATE TABLE access_log
(
    sequence   INTEGER PRIMARY KEY CHECK (sequence >= 1),
    at         TEXT    NOT NULL,
    user_id    TEXT    NOT NULL,
    role       TEXT    NOT NULL,
    action     TEXT    NOT NULL,
    client_id  TEXT,
    categories TEXT    NOT NULL,
    source     TEXT    NOT NULL,
    purpose    TEXT    NOT NULL,
    prev_hash  TEXT    NOT NULL,
    hash       TEXT    NOT NULL
);

CREATE INDEX access_log_at ON access_log (at);
CREATE INDEX access_log_client ON access_log (client_id, at);
