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
    session_hash text PRIMARY KEY CHECK (session_hash ~ '^[0-9a-f]{64}$'),
    user_id      text NOT NULL REFERENCES users (user_id),
    csrf_token   text NOT NULL,
    purpose      text NOT NULL,
    created_at   text NOT NULL,
    last_seen_at text NOT NULL,
    ended_at     text,
    ended_why    text CHECK (ended_why IN ('sign_out', 'idle', 'disabled'))
);

CREATE INDEX web_sessions_user ON web_sessions (user_id);
