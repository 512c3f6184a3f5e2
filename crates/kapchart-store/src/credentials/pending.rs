//! Sign-ins between their steps: the password (or setup code) is proved,
//! the second factor is next.
//!
//! The browser holds a random secret in a short-lived cookie (`kp_` and 43
//! base64url characters, 32 bytes from the operating system); only its
//! SHA-256 is stored, the primary key, with the user, the stage, the
//! purpose of use chosen at sign-in, a CSRF token for the second step's
//! form and, while a second factor is being enrolled, its new secret. A
//! pending sign-in lives [`PENDING_LIFETIME`] and is used once
//! ([`super::complete_sign_in`] deletes it in its transaction); a lock or
//! a reset of the account ends its pending sign-ins.

use std::fmt;

use chrono::{DateTime, Utc};
use kapchart_domain::UserId;

use super::{sqlite_sql, tx_execute};
use crate::Database;
use crate::access::timestamp;
use crate::accounts::{AccountTx, parse_time};
use crate::error::StoreError;

/// Every pending sign-in's cookie value starts with this.
pub const PENDING_PREFIX: &str = "kp_";

/// How long a pending sign-in can be completed: 10 minutes.
pub const PENDING_LIFETIME: chrono::Duration = chrono::Duration::minutes(10);

/// What the second step is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Enrol a new second factor (its secret is in the pending sign-in).
    Enroll,
    /// Give a code of the enrolled second factor.
    Verify,
}

impl Stage {
    fn as_str(self) -> &'static str {
        match self {
            Stage::Enroll => "enroll",
            Stage::Verify => "verify",
        }
    }
}

/// A pending sign-in just opened: the cookie's secret and the second
/// step's CSRF token. Its `Debug` form hides both.
#[derive(Clone, PartialEq, Eq)]
pub struct OpenedPending {
    /// The cookie's value, shown to the browser once, never stored.
    pub secret: String,
    /// The token the second step's form carries.
    pub csrf: String,
}

impl fmt::Debug for OpenedPending {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OpenedPending { <hidden> }")
    }
}

/// A pending sign-in. Its `Debug` form hides the secrets.
#[derive(Clone, PartialEq, Eq)]
pub struct Pending {
    /// Whose.
    pub user_id: UserId,
    /// What the second step is.
    pub stage: Stage,
    /// The purpose of use chosen at sign-in.
    pub purpose: String,
    /// The token the second step's form carries.
    pub csrf: String,
    /// The second factor being enrolled (stage [`Stage::Enroll`]).
    pub totp_secret: Option<String>,
    /// When it can no longer be completed.
    pub expires_at: DateTime<Utc>,
    hash: String,
}

impl fmt::Debug for Pending {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pending")
            .field("user_id", &self.user_id)
            .field("stage", &self.stage)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

fn looks_like_secret(secret: &str) -> bool {
    crate::secret::looks_like(PENDING_PREFIX, secret)
}

fn secret_hash(secret: &str) -> String {
    crate::secret::hash(secret)
}

/// Opens a pending sign-in of `user` at `stage` (with `totp_secret`, the
/// second factor being enrolled, for [`Stage::Enroll`]), and deletes the
/// expired ones of every user.
///
/// # Errors
/// A store error.
pub async fn open(
    db: &Database,
    user: &UserId,
    stage: Stage,
    purpose: &str,
    totp_secret: Option<&str>,
    at: DateTime<Utc>,
) -> Result<OpenedPending, StoreError> {
    let opened = OpenedPending {
        secret: crate::secret::new(PENDING_PREFIX, "a sign-in")?,
        csrf: crate::secret::random_text("a sign-in")?,
    };
    let now = timestamp(at);
    let expires = timestamp(at + PENDING_LIFETIME);
    const EXPIRED: &str = "DELETE FROM sign_in_pending WHERE expires_at <= $1";
    const INSERT: &str = "INSERT INTO sign_in_pending (pending_hash, user_id, stage, purpose, \
         csrf_token, totp_secret, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)";
    let hash = secret_hash(&opened.secret);
    macro_rules! run {
        ($pool:expr, $sql:expr) => {{
            sqlx::query(&$sql(EXPIRED))
                .bind(&now)
                .execute($pool)
                .await?;
            sqlx::query(&$sql(INSERT))
                .bind(&hash)
                .bind(user.as_str())
                .bind(stage.as_str())
                .bind(purpose)
                .bind(&opened.csrf)
                .bind(totp_secret)
                .bind(&expires)
                .execute($pool)
                .await
                .map(drop)
        }};
    }
    let done: Result<(), sqlx::Error> = async {
        match db {
            Database::Postgres(pool) => run!(pool, str::to_owned),
            Database::Sqlite(pool) => run!(pool, sqlite_sql),
        }
    }
    .await;
    done.map_err(StoreError::query)?;
    Ok(opened)
}

#[derive(sqlx::FromRow)]
struct PendingRow {
    pending_hash: String,
    user_id: String,
    stage: String,
    purpose: String,
    csrf_token: String,
    totp_secret: Option<String>,
    expires_at: String,
}

/// The pending sign-in a cookie's `secret` opens at `at`: none when it is
/// unknown, malformed, used or expired.
///
/// # Errors
/// A store error; an unreadable row is [`StoreError::Unreadable`].
pub async fn find(
    db: &Database,
    secret: &str,
    at: DateTime<Utc>,
) -> Result<Option<Pending>, StoreError> {
    if !looks_like_secret(secret) {
        return Ok(None);
    }
    const SQL: &str = "SELECT pending_hash, user_id, stage, purpose, csrf_token, totp_secret, \
         expires_at FROM sign_in_pending WHERE pending_hash = $1";
    let hash = secret_hash(secret);
    let row: Option<PendingRow> = match db {
        Database::Postgres(pool) => sqlx::query_as(SQL).bind(&hash).fetch_optional(pool).await,
        Database::Sqlite(pool) => {
            sqlx::query_as(&sqlite_sql(SQL))
                .bind(&hash)
                .fetch_optional(pool)
                .await
        }
    }
    .map_err(StoreError::query)?;
    let Some(row) = row else {
        return Ok(None);
    };
    let unreadable = |reason: &str| StoreError::Unreadable {
        table: "sign_in_pending",
        key: format!("of user {}", row.user_id),
        reason: reason.to_owned(),
    };
    let expires_at = parse_time(&row.expires_at)
        .ok_or_else(|| unreadable("expires_at is not an RFC 3339 time"))?;
    if at >= expires_at {
        return Ok(None);
    }
    let stage = match row.stage.as_str() {
        "enroll" => Stage::Enroll,
        "verify" => Stage::Verify,
        _ => return Err(unreadable("stage is not enroll or verify")),
    };
    Ok(Some(Pending {
        user_id: UserId::parse(&row.user_id).map_err(|_| unreadable("user_id is not a user id"))?,
        stage,
        purpose: row.purpose,
        csrf: row.csrf_token,
        totp_secret: row.totp_secret,
        expires_at,
        hash: row.pending_hash,
    }))
}

/// Ends the pending sign-in a cookie's `secret` opens, if any.
///
/// # Errors
/// A store error.
pub async fn drop_pending(db: &Database, secret: &str) -> Result<(), StoreError> {
    if !looks_like_secret(secret) {
        return Ok(());
    }
    const SQL: &str = "DELETE FROM sign_in_pending WHERE pending_hash = $1";
    let hash = secret_hash(secret);
    match db {
        Database::Postgres(pool) => sqlx::query(SQL).bind(&hash).execute(pool).await.map(drop),
        Database::Sqlite(pool) => sqlx::query(&sqlite_sql(SQL))
            .bind(&hash)
            .execute(pool)
            .await
            .map(drop),
    }
    .map_err(StoreError::query)?;
    Ok(())
}

/// Deletes `pending` in the transaction; false when it was gone already.
pub(crate) async fn take_in(tx: &mut AccountTx, pending: &Pending) -> Result<bool, StoreError> {
    let done = tx_execute!(
        tx,
        "DELETE FROM sign_in_pending WHERE pending_hash = $1 AND user_id = $2",
        &pending.hash,
        pending.user_id.as_str(),
    )?;
    Ok(done == 1)
}

/// Ends every pending sign-in of `user` in the transaction.
pub(crate) async fn drop_all_in(tx: &mut AccountTx, user: &UserId) -> Result<(), StoreError> {
    tx_execute!(
        tx,
        "DELETE FROM sign_in_pending WHERE user_id = $1",
        user.as_str(),
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_secrets_have_their_shape() {
        let secret = crate::secret::new(PENDING_PREFIX, "a test").expect("random");
        assert!(looks_like_secret(&secret), "{secret}");
        assert!(!looks_like_secret(
            "ks_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
        ));
        assert!(!looks_like_secret("kp_short"));
        assert_eq!(secret_hash(&secret).len(), 64);
    }
}
