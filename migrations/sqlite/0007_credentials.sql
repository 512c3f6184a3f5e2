-- Sign-in credentials of the web pages (kapchart_store::credentials), one
-- row per account that has had any (an account without a row has none).
-- `password_phc` is the argon2id PHC string of the password (salt and
-- parameters inside it), null until the user sets one with a setup code.
-- `totp_secret` is the second factor's shared secret (RFC 4648 base32, no
-- padding): TOTP needs it in the clear to compute codes, so it is kept
-- here like the rest of the database (owner-only file, protected server);
-- null until enrolled. `totp_last_step` is the 30-second step of the last
-- code accepted: a code of that step or an earlier one is refused
-- (replay). `failed_attempts` counts consecutive failed sign-in attempts
-- (password or code); the fifth sets `locked_until` and starts the count
-- again. `setup_code_hash` is the SHA-256 (lowercase hex) of the one-time
-- setup code printed by `kapchart user add` or `user reset`; it is cleared
-- when used. Times are RFC 3339 UTC text with microseconds.
CREATE TABLE credentials
(
    user_id               TEXT PRIMARY KEY REFERENCES users (user_id),
    password_phc          TEXT,
    totp_secret           TEXT,
    totp_last_step        INTEGER CHECK (totp_last_step >= 0),
    failed_attempts       INTEGER NOT NULL DEFAULT 0 CHECK (failed_attempts >= 0),
    locked_until          TEXT,
    last_sign_in_at       TEXT,
    previous_sign_in_at   TEXT,
    setup_code_hash       TEXT CHECK (length(setup_code_hash) = 64 AND setup_code_hash NOT GLOB '*[^0-9a-f]*'),
    setup_code_expires_at TEXT,
    updated_at            TEXT NOT NULL
);

-- A sign-in between its steps: the password (or setup code) is proved and
-- the second factor is next. The browser holds a random secret in the
-- cookie `kapchart_pending`; only its SHA-256 (lowercase hex) is kept.
-- `stage` is `enroll` (a new second factor, whose secret `totp_secret`
-- holds until the first code confirms it) or `verify`. `purpose` is the
-- purpose of use chosen at sign-in; `csrf_token` is carried by the second
-- step's form. A row lives 10 minutes and is deleted when used.
CREATE TABLE sign_in_pending
(
    pending_hash TEXT PRIMARY KEY CHECK (length(pending_hash) = 64 AND pending_hash NOT GLOB '*[^0-9a-f]*'),
    user_id      TEXT NOT NULL REFERENCES users (user_id),
    stage        TEXT NOT NULL CHECK (stage IN ('enroll', 'verify')),
    purpose      TEXT NOT NULL,
    csrf_token   TEXT NOT NULL,
    totp_secret  TEXT,
    expires_at   TEXT NOT NULL
);

CREATE INDEX sign_in_pending_user ON sign_in_pending (user_id);

-- `kapchart user reset` ends the user's web sessions: `ended_why` `reset`.
-- SQLite cannot change a CHECK constraint in place: the table is rebuilt
-- with the same columns and rows.
CREATE TABLE web_sessions_new
(
    session_hash TEXT PRIMARY KEY CHECK (length(session_hash) = 64 AND session_hash NOT GLOB '*[^0-9a-f]*'),
    user_id      TEXT NOT NULL REFERENCES users (user_id),
    csrf_token   TEXT NOT NULL,
    purpose      TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    ended_at     TEXT,
    ended_why    TEXT CHECK (ended_why IN ('sign_out', 'idle', 'disabled', 'reset'))
);

INSERT INTO web_sessions_new (session_hash, user_id, csrf_token, purpose, created_at,
                              last_seen_at, ended_at, ended_why)
SELECT session_hash, user_id, csrf_token, purpose, created_at, last_seen_at, ended_at, ended_why
FROM web_sessions;

DROP TABLE web_sessions;

ALTER TABLE web_sessions_new RENAME TO web_sessions;

CREATE INDEX web_sessions_user ON web_sessions (user_id);
