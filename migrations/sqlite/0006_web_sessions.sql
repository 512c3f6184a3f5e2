-- Signed-in browser sessions of the web pages (kapchart_store::web_sessions).
-- The cookie holds a random secret; only its SHA-256 (lowercase hex) is
-- kept here, so the table cannot be used to sign in. `csrf_token` is the
-- session's form token (random; it is useless without the cookie).
-- `purpose` is the purpose of use chosen at sign-in, logged with each page
-- that shows a client's record. A session authenticates while `ended_at`
-- is null and `last_seen_at` is within the idle limit; `ended_why` says
-- how it ended: `sign_out`, `idle` or `disabled`. Times are RFC 3339 UTC
-- text with microseconds.
CREATE TABLE web_sessions
(
    session_hash TEXT PRIMARY KEY CHECK (length(session_hash) = 64 AND session_hash NOT GLOB '*[^0-9a-f]*'),
    user_id      TEXT NOT NULL REFERENCES users (user_id),
    csrf_token   TEXT NOT NULL,
    purpose      TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    ended_at     TEXT,
    ended_why    TEXT CHECK (ended_why IN ('sign_out', 'idle', 'disabled'))
);

CREATE INDEX web_sessions_user ON web_sessions (user_id);
