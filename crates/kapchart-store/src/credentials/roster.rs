//! The admin's view of the accounts: every account with its sign-in
//! state (last sign-in, password and second factor set, lock, pending
//! setup code), and enabling a disabled account again.

use chrono::{DateTime, SubsecRound as _, Utc};
use kapchart_domain::UserId;

use super::{CredentialsRow, sqlite_sql};
use crate::Database;
use crate::access::{AccessAction, AccessActor};
use crate::accounts::{Account, AccountError, AccountTx, must_be_admin};
use crate::error::StoreError;

/// An account as the admin's list shows it: no secret, no hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountState {
    /// The account.
    pub account: Account,
    /// The last completed sign-in to the pages.
    pub last_sign_in_at: Option<DateTime<Utc>>,
    /// True once a password is set.
    pub has_password: bool,
    /// True once a second factor is enrolled.
    pub has_second_factor: bool,
    /// Locked until then, if that is later than now.
    pub locked_until: Option<DateTime<Utc>>,
    /// When the unused setup code expires, if one is waiting.
    pub setup_code_expires_at: Option<DateTime<Utc>>,
}

/// Every account with its sign-in state, by user id (byte order).
///
/// # Errors
/// [`StoreError::Unreadable`] for a stored row that cannot be read back; a
/// store error otherwise.
pub async fn roster(db: &Database) -> Result<Vec<AccountState>, StoreError> {
    const SQL: &str = "SELECT u.user_id, u.role, u.display_name, u.disabled_at, u.created_at, \
         c.password_phc, c.totp_secret, c.totp_last_step, \
         COALESCE(c.failed_attempts, 0) AS failed_attempts, c.locked_until, c.last_sign_in_at, \
         c.previous_sign_in_at, c.setup_code_hash, c.setup_code_expires_at \
         FROM users u LEFT JOIN credentials c ON c.user_id = u.user_id";
    let rows: Vec<CredentialsRow> = match db {
        Database::Postgres(pool) => sqlx::query_as(SQL).fetch_all(pool).await,
        Database::Sqlite(pool) => sqlx::query_as(&sqlite_sql(SQL)).fetch_all(pool).await,
    }
    .map_err(StoreError::query)?;
    let mut states = rows
        .into_iter()
        .map(|row| {
            let c = row.decode()?;
            Ok(AccountState {
                last_sign_in_at: c.last_sign_in_at,
                has_password: c.password_phc.is_some(),
                has_second_factor: c.totp_secret.is_some(),
                locked_until: c.locked_until,
                setup_code_expires_at: c.setup_code_hash.as_ref().and(c.setup_code_expires_at),
                account: c.account,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    states.sort_by(|a, b| a.account.user_id.as_str().cmp(b.account.user_id.as_str()));
    Ok(states)
}

/// Enables a disabled account again and appends the change to the
/// access log (action `change`, from `source`), in one transaction. Its
/// API tokens stay revoked (issue a new one); its password and second
/// factor are as they were (reset them if in doubt).
///
/// # Errors
/// [`AccountError::UnknownUser`], [`AccountError::NotDisabled`],
/// [`AccountError::NotAdmin`], [`AccountError::Invalid`] for a bad
/// `source`; internal errors otherwise. Nothing is written on an error.
pub async fn enable_user(
    db: &Database,
    user: &UserId,
    by: &AccessActor,
    source: &str,
    at: DateTime<Utc>,
) -> Result<(), AccountError> {
    must_be_admin(by)?;
    let at = at.trunc_subsecs(6);
    let mut tx = AccountTx::begin(db).await?;
    match tx.user_status(user).await? {
        None => return Err(AccountError::UnknownUser(user.clone())),
        Some(false) => return Err(AccountError::NotDisabled(user.clone())),
        Some(true) => {}
    }
    super::tx_execute!(
        &mut tx,
        "UPDATE users SET disabled_at = NULL WHERE user_id = $1",
        user.as_str(),
    )?;
    let purpose = format!("accounts: enable {user} (its API tokens stay revoked)");
    tx.log(by, AccessAction::Change, source, &purpose, at)
        .await?;
    tx.commit().await?;
    Ok(())
}
