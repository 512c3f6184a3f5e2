//! Signed-in browser sessions of the web pages.
//!
//! A session is opened once a user has proved who they are (the sign-in
//! flow of kapchart-web: password and second factor). Its cookie holds a
//! random secret (`ks_` and 43 base64url characters, 32 bytes from the
//! operating system); only its SHA-256 is stored, the primary key, so a
//! presented cookie is found by hash and never compared with a stored
//! secret. Each session has its own CSRF token, which every form carries.
//!
//! A session authenticates while it has not ended, its user is not
//! disabled, and it was last seen within the idle limit; [`find`] ends an
//! idle one (`idle`) and marks the others seen. [`close`] ends one on
//! sign-out. Ending is recorded, never deleted, so the sessions of a user
//! can be listed later. Writing the access-log entries of sign-in and
//! sign-out is the caller's (the sign-in flow's) part.

use std::fmt;

use chrono::{DateTime, Utc};
use kapchart_domain::UserId;

use crate::Database;
use crate::access::timestamp;
use crate::accounts::{Account, UserRow, parse_time};
use crate::error::StoreError;

/// Every session cookie value starts with this.
pub const SESSION_PREFIX: &str = "ks_";

/// A session just opened: the cookie's secret and the session's CSRF
/// token. Its `Debug` form hides both.
#[derive(Clone, PartialEq, Eq)]
pub struct OpenedSession {
    /// The cookie's value, shown to the browser once, never stored.
    pub secret: String,
    /// The token every form of this session carries.
    pub csrf: String,
}

impl fmt::Debug for OpenedSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OpenedSession { <hidden> }")
    }
}

/// A live session.
#[derive(Clone, PartialEq, Eq)]
pub struct WebSession {
    /// Whose.
    pub account: Account,
    /// The session's CSRF token.
    pub csrf: String,
    /// The purpose of use chosen at sign-in.
    pub purpose: String,
    /// When it was opened.
    pub created_at: DateTime<Utc>,
}

impl fmt::Debug for WebSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebSession")
            .field("user_id", &self.account.user_id)
            .field("purpose", &self.purpose)
            .finish_non_exhaustive()
    }
}

/// What a presented cookie is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// A live session, now marked seen.
    Active(WebSession),
    /// It was idle past the limit and has just been ended: the caller
    /// logs the sign-out.
    EndedIdle(UserId),
    /// Unknown, malformed, ended before, or its user disabled.
    None,
}

/// How a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// The user signed out.
    SignOut,
    /// Idle past the limit.
    Idle,
    /// The account was disabled.
    Disabled,
    /// An admin reset the account's password and second factor
    /// (`kapchart_store::credentials::reset`).
    Reset,
}

impl Ending {
    /// The name stored in `ended_why`.
    pub fn as_str(self) -> &'static str {
        match self {
            Ending::SignOut => "sign_out",
            Ending::Idle => "idle",
            Ending::Disabled => "disabled",
            Ending::Reset => "reset",
        }
    }
}

fn looks_like_secret(secret: &str) -> bool {
    crate::secret::looks_like(SESSION_PREFIX, secret)
}

fn secret_hash(secret: &str) -> String {
    crate::secret::hash(secret)
}

/// Opens a session for `user` (who has just proved who they are) with
/// the purpose of use `purpose`.
///
/// # Errors
/// A store error (also when `user` has no account).
pub async fn open(
    db: &Database,
    user: &UserId,
    purpose: &str,
    at: DateTime<Utc>,
) -> Result<OpenedSession, StoreError> {
    let opened = OpenedSession {
        secret: crate::secret::new(SESSION_PREFIX, "a session")?,
        csrf: crate::secret::random_text("a session")?,
    };
    let hash = secret_hash(&opened.secret);
    let now = timestamp(at);
    const PG: &str = "INSERT INTO web_sessions (session_hash, user_id, csrf_token, purpose, \
         created_at, last_seen_at) VALUES ($1, $2, $3, $4, $5, $5)";
    const SQLITE: &str = "INSERT INTO web_sessions (session_hash, user_id, csrf_token, purpose, \
         created_at, last_seen_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5)";
    match db {
        Database::Postgres(pool) => sqlx::query(PG)
            .bind(&hash)
            .bind(user.as_str())
            .bind(&opened.csrf)
            .bind(purpose)
            .bind(&now)
            .execute(pool)
            .await
            .map(drop),
        Database::Sqlite(pool) => sqlx::query(SQLITE)
            .bind(&hash)
            .bind(user.as_str())
            .bind(&opened.csrf)
            .bind(purpose)
            .bind(&now)
            .execute(pool)
            .await
            .map(drop),
    }
    .map_err(StoreError::query)?;
    Ok(opened)
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    #[sqlx(flatten)]
    user: UserRow,
    csrf_token: String,
    purpose: String,
    session_created_at: String,
    last_seen_at: String,
    ended_at: Option<String>,
}

/// The session a cookie's `secret` opens at `at`, given the idle limit
/// `idle`: marks a live one seen, ends an idle one.
///
/// # Errors
/// A store error; an unreadable row is [`StoreError::Unreadable`].
pub async fn find(
    db: &Database,
    secret: &str,
    at: DateTime<Utc>,
    idle: chrono::Duration,
) -> Result<Lookup, StoreError> {
    if !looks_like_secret(secret) {
        return Ok(Lookup::None);
    }
    let hash = secret_hash(secret);
    const PG: &str = "SELECT u.user_id, u.role, u.display_name, u.disabled_at, u.created_at, \
         s.csrf_token, s.purpose, s.created_at AS session_created_at, s.last_seen_at, s.ended_at \
         FROM web_sessions s JOIN users u ON u.user_id = s.user_id WHERE s.session_hash = $1";
    const SQLITE: &str = "SELECT u.user_id, u.role, u.display_name, u.disabled_at, \
         u.created_at, s.csrf_token, s.purpose, s.created_at AS session_created_at, \
         s.last_seen_at, s.ended_at \
         FROM web_sessions s JOIN users u ON u.user_id = s.user_id WHERE s.session_hash = ?1";
    let row: Option<SessionRow> = match db {
        Database::Postgres(pool) => sqlx::query_as(PG).bind(&hash).fetch_optional(pool).await,
        Database::Sqlite(pool) => {
            sqlx::query_as(SQLITE)
                .bind(&hash)
                .fetch_optional(pool)
                .await
        }
    }
    .map_err(StoreError::query)?;
    let Some(row) = row else {
        return Ok(Lookup::None);
    };
    if row.ended_at.is_some() {
        return Ok(Lookup::None);
    }
    let unreadable = |reason: &str| StoreError::Unreadable {
        table: "web_sessions",
        key: format!("of user {}", row.user.user_id),
        reason: reason.to_owned(),
    };
    let last_seen = parse_time(&row.last_seen_at)
        .ok_or_else(|| unreadable("last_seen_at is not an RFC 3339 time"))?;
    let created_at = parse_time(&row.session_created_at)
        .ok_or_else(|| unreadable("created_at is not an RFC 3339 time"))?;
    let account = row.user.decode()?;
    if account.disabled {
        end(db, &hash, at, Ending::Disabled).await?;
        return Ok(Lookup::None);
    }
    if at - last_seen >= idle {
        // Ended once: a second request racing on the same cookie finds it
        // ended and gets `None`, so the sign-out is logged once.
        return Ok(if end(db, &hash, at, Ending::Idle).await? {
            Lookup::EndedIdle(account.user_id)
        } else {
            Lookup::None
        });
    }
    seen(db, &hash, at).await?;
    Ok(Lookup::Active(WebSession {
        account,
        csrf: row.csrf_token,
        purpose: row.purpose,
        created_at,
    }))
}

async fn seen(db: &Database, hash: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
    let now = timestamp(at);
    const PG: &str = "UPDATE web_sessions SET last_seen_at = $2 \
         WHERE session_hash = $1 AND ended_at IS NULL AND last_seen_at < $2";
    const SQLITE: &str = "UPDATE web_sessions SET last_seen_at = ?2 \
         WHERE session_hash = ?1 AND ended_at IS NULL AND last_seen_at < ?2";
    match db {
        Database::Postgres(pool) => sqlx::query(PG)
            .bind(hash)
            .bind(&now)
            .execute(pool)
            .await
            .map(drop),
        Database::Sqlite(pool) => sqlx::query(SQLITE)
            .bind(hash)
            .bind(&now)
            .execute(pool)
            .await
            .map(drop),
    }
    .map_err(StoreError::query)?;
    Ok(())
}

/// Ends the session `hash` if it is live; true if this call ended it.
async fn end(
    db: &Database,
    hash: &str,
    at: DateTime<Utc>,
    why: Ending,
) -> Result<bool, StoreError> {
    let now = timestamp(at);
    const PG: &str = "UPDATE web_sessions SET ended_at = $2, ended_why = $3 \
         WHERE session_hash = $1 AND ended_at IS NULL";
    const SQLITE: &str = "UPDATE web_sessions SET ended_at = ?2, ended_why = ?3 \
         WHERE session_hash = ?1 AND ended_at IS NULL";
    let done = match db {
        Database::Postgres(pool) => sqlx::query(PG)
            .bind(hash)
            .bind(&now)
            .bind(why.as_str())
            .execute(pool)
            .await
            .map(|r| r.rows_affected()),
        Database::Sqlite(pool) => sqlx::query(SQLITE)
            .bind(hash)
            .bind(&now)
            .bind(why.as_str())
            .execute(pool)
            .await
            .map(|r| r.rows_affected()),
    }
    .map_err(StoreError::query)?;
    Ok(done == 1)
}

/// Ends the session the cookie's `secret` opens (sign-out); true if it
/// was live.
///
/// # Errors
/// A store error.
pub async fn close(
    db: &Database,
    secret: &str,
    at: DateTime<Utc>,
    why: Ending,
) -> Result<bool, StoreError> {
    if !looks_like_secret(secret) {
        return Ok(false);
    }
    end(db, &secret_hash(secret), at, why).await
}

/// Changes the purpose of use of a live session.
///
/// # Errors
/// A store error.
pub async fn set_purpose(db: &Database, secret: &str, purpose: &str) -> Result<(), StoreError> {
    if !looks_like_secret(secret) {
        return Ok(());
    }
    let hash = secret_hash(secret);
    const PG: &str =
        "UPDATE web_sessions SET purpose = $2 WHERE session_hash = $1 AND ended_at IS NULL";
    const SQLITE: &str =
        "UPDATE web_sessions SET purpose = ?2 WHERE session_hash = ?1 AND ended_at IS NULL";
    match db {
        Database::Postgres(pool) => sqlx::query(PG)
            .bind(&hash)
            .bind(purpose)
            .execute(pool)
            .await
            .map(drop),
        Database::Sqlite(pool) => sqlx::query(SQLITE)
            .bind(&hash)
            .bind(purpose)
            .execute(pool)
            .await
            .map(drop),
    }
    .map_err(StoreError::query)?;
    Ok(())
}
