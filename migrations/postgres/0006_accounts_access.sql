-- Staff accounts (kapchart_store::accounts). `user_id` is the id the record
-- uses as actor id (kapchart_domain::UserId, e.g. `t-0001`); `role` one of
-- kapchart_domain::Role. `display_name` is the person's name: shown to
-- admins, never written to logs, errors or the access log. An account is
-- never deleted, so every actor id in the record and the access log stays
-- resolvable: `disabled_at` ends it, and its tokens are revoked in the same
-- transaction. Times are RFC 3339 UTC text with microseconds.
CREATE TABLE users
(
    user_id      text PRIMARY KEY,
    role         text NOT NULL CHECK (role IN ('therapist', 'prescriber', 'front_desk', 'auditor', 'admin')),
    display_name text,
    disabled_at  text,
    created_at   text NOT NULL
);

-- API bearer tokens. Only the SHA-256 of a token is kept (lowercase hex):
-- the plaintext (`kc_` and 43 base64url characters) is shown once when
-- issued and cannot be recovered from the database. A token authenticates
-- while `expires_at` is in the future, `revoked_at` is null and its user is
-- not disabled. Looked up by hash only (the primary key), so comparing a
-- presented token leaks nothing about stored plaintext.
CREATE TABLE tokens
(
    token_hash text PRIMARY KEY CHECK (token_hash ~ '^[0-9a-f]{64}$'),
    user_id    text NOT NULL REFERENCES users (user_id),
    created_at text NOT NULL,
    expires_at text NOT NULL,
    revoked_at text
);

CREATE INDEX tokens_user ON tokens (user_id);

-- The access log (docs/access-log.md): every read of a client's record and
-- every change to an account, with the fields of ASTM E2147-18 section 7.1,
-- hash-chained on its own. `sequence` is gapless from 1: appends take
-- pg_advisory_xact_lock on one fixed key, read the head and insert in one
-- transaction, so the chain never forks (the primary key also guards).
-- `hash` is the SHA-256 of the RFC 8785 canonical JSON of the row's fields
-- with `prev_hash`; `prev_hash` of sequence 1 is 64 zeros. `at` is RFC 3339
-- UTC text with microseconds, byte-ordered ("C") so that period filters
-- compare it as written. `categories` is the sorted names joined by `,`.
-- Rows are never updated or deleted; `kapchart verify` recomputes the chain.
CREATE TABLE access_log
(
    sequence   bigint PRIMARY KEY CHECK (sequence >= 1),
    at         text COLLATE "C" NOT NULL,
    user_id    text             NOT NULL,
    role       text             NOT NULL,
    action     text             NOT NULL,
    client_id  text,
    categories text             NOT NULL,
    source     text             NOT NULL,
    purpose    text             NOT NULL,
    prev_hash  text             NOT NULL,
    hash       text             NOT NULL
);

CREATE INDEX access_log_at ON access_log (at);
CREATE INDEX access_log_client ON access_log (client_id, at);
