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
    user_id               text PRIMARY KEY REFERENCES users (user_id),
    password_phc          text,
    totp_secret           text,
    totp_last_step        bigint CHECK (totp_last_step >= 0),
    failed_attempts       bigint NOT NULL DEFAULT 0 CHECK (failed_attempts >= 0),
    locked_until          text,
    last_sign_in_at       text,
    previous_sign_in_at   text,
    setup_code_hash       text CHECK (setup_code_hash ~ '^[0-9a-f]{64}$'),
    setup_code_expires_at text,
    updated_at            text NOT NULL
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
    pending_hash text PRIMARY KEY CHECK (pending_hash ~ '^[0-9a-f]{64}$'),
    user_id      text NOT NULL REFERENCES users (user_id),
    stage        text NOT NULL CHECK (stage IN ('enroll', 'verify')),
    purpose      text NOT NULL,
    csrf_token   text NOT NULL,
    totp_secret  text,
    expires_at   text NOT NULL
);

CREATE INDEX sign_in_pending_user ON sign_in_pending (user_id);

-- `kapchart user reset` ends the user's web sessions: `ended_why` `reset`.
ALTER TABLE web_sessions DROP CONSTRAINT web_sessions_ended_why_check;
ALTER TABLE web_sessions
    ADD CONSTRAINT web_sessions_ended_why_check
        CHECK (ended_why IN ('sign_out', 'idle', 'disabled', 'reset'));
