//! Sign-in credentials of the web pages: passwords, the second factor
//! (TOTP), one-time setup codes, failed attempts and lockout.
//!
//! The API's bearer tokens ([`crate::accounts`]) are untouched by all of
//! this: a locked account's tokens keep working, and a token never signs
//! a browser in.
//!
//! - **Setup codes.** `kapchart user add` and `kapchart user reset` (admin
//!   acts) print a one-time setup code: `su_` and 32 characters of RFC 4648
//!   base32 (20 random bytes from the operating system). Only its SHA-256
//!   is stored; it expires after [`SETUP_CODE_LIFETIME`] and is cleared
//!   once used to set a password. [`reset`] also clears the password and
//!   the second factor and ends the user's web sessions.
//! - **Passwords** are stored as argon2id PHC strings, made and checked by
//!   the sign-in pages (kapchart-web); this module stores them.
//! - **The second factor** is a TOTP secret (base32), kept in the clear
//!   because computing a code needs it; `totp_last_step` is the step of
//!   the last code accepted, and a code of that step or an earlier one is
//!   refused ([`CredentialError::Replayed`]).
//! - **Lockout.** [`MAX_FAILED_ATTEMPTS`] failed attempts in a row
//!   (password or second-factor code) lock the account for
//!   [`LOCK_DURATION`]; a completed sign-in starts the count again. A
//!   correct password alone does not, so the second factor cannot be
//!   guessed five codes at a time.
//! - **Pending sign-ins** ([`pending`]): between the password (or setup
//!   code) and the second factor, the browser holds a short-lived secret.
//!
//! Every change and every event is appended to the access log in the same
//! transaction, like [`crate::accounts`]' changes: category `accounts`, no
//! client, action `add`/`change` for account changes and `sign_in`,
//! `sign_in_failed`, `lock` for sign-in events (docs/access-log.md). A
//! failed attempt for a user id that has no account is logged with the
//! actor [`SYSTEM`](crate::accounts::SYSTEM), role admin, and without the
//! text typed (it may be a mistyped password).

pub mod pending;
mod roster;
mod setup_code;

use std::fmt;

use chrono::{DateTime, SubsecRound as _, Utc};
use kapchart_domain::{Role, UserId};

use crate::Database;
use crate::access::{AccessAction, AccessActor, timestamp};
use crate::accounts::{
    self, Account, AccountError, AccountTx, IssuedToken, UserRow, check_display_name, is_reserved,
    must_be_admin, parse_time,
};
use crate::error::StoreError;
use crate::web_sessions::Ending;

pub use pending::{OpenedPending, Pending, Stage};
pub use roster::{AccountState, enable_user, roster};
pub use setup_code::{SETUP_CODE_LIFETIME, SETUP_CODE_PREFIX, SetupCode};
use setup_code::{new_setup_code, setup_code_hash, setup_code_valid};

/// Failed attempts in a row that lock an account.
pub const MAX_FAILED_ATTEMPTS: u32 = 5;

/// How long a lock lasts.
pub const LOCK_DURATION: chrono::Duration = chrono::Duration::minutes(15);

/// Runs `$sql` (PostgreSQL placeholders; SQLite's are made from them) with
/// the binds in an [`AccountTx`]; the rows affected.
macro_rules! tx_execute {
    ($tx:expr, $sql:expr $(, $bind:expr)* $(,)?) => {
        match $tx {
            AccountTx::Postgres(tx) => sqlx::query($sql)
                $(.bind($bind))*
                .execute(&mut **tx)
                .await
                .map(|r| r.rows_affected()),
            AccountTx::Sqlite(tx) => sqlx::query(&sqlite_sql($sql))
                $(.bind($bind))*
                .execute(&mut **tx)
                .await
                .map(|r| r.rows_affected()),
        }
        .map_err(StoreError::query)
    };
}

/// Fetches at most one row of `$ty` in an [`AccountTx`].
macro_rules! tx_fetch_optional {
    ($tx:expr, $ty:ty, $sql:expr $(, $bind:expr)* $(,)?) => {
        match $tx {
            AccountTx::Postgres(tx) => sqlx::query_as::<_, $ty>($sql)
                $(.bind($bind))*
                .fetch_optional(&mut **tx)
                .await,
            AccountTx::Sqlite(tx) => sqlx::query_as::<_, $ty>(&sqlite_sql($sql))
                $(.bind($bind))*
                .fetch_optional(&mut **tx)
                .await,
        }
        .map_err(StoreError::query)
    };
}

pub(crate) use tx_execute;

/// SQLite's placeholders (`?1`) for PostgreSQL's (`$1`).
pub(crate) fn sqlite_sql(sql: &str) -> String {
    sql.replace('$', "?")
}

/// An account with its sign-in credentials. Its `Debug` form hides the
/// password hash and the second factor's secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The account.
    pub account: Account,
    /// The password's argon2id PHC string, once set.
    pub password_phc: Option<String>,
    /// The second factor's TOTP secret (base32), once enrolled.
    pub totp_secret: Option<String>,
    /// The step of the last second-factor code accepted.
    pub totp_last_step: Option<u64>,
    /// Failed attempts since the last sign-in or lock.
    pub failed_attempts: u32,
    /// Locked until then (if in the future).
    pub locked_until: Option<DateTime<Utc>>,
    /// The last completed sign-in.
    pub last_sign_in_at: Option<DateTime<Utc>>,
    /// The sign-in before it.
    pub previous_sign_in_at: Option<DateTime<Utc>>,
    setup_code_hash: Option<String>,
    setup_code_expires_at: Option<DateTime<Utc>>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("user_id", &self.account.user_id)
            .field("has_password", &self.password_phc.is_some())
            .field("has_second_factor", &self.totp_secret.is_some())
            .field("failed_attempts", &self.failed_attempts)
            .field("locked_until", &self.locked_until)
            .finish_non_exhaustive()
    }
}

impl Credentials {
    /// When the lock ends, if the account is locked at `at`.
    #[must_use]
    pub fn locked_at(&self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.locked_until.filter(|until| *until > at)
    }

    /// True when `typed` is the account's setup code, unused and unexpired
    /// at `at`, and the account is not disabled.
    #[must_use]
    pub fn setup_code_matches(&self, typed: &str, at: DateTime<Utc>) -> bool {
        setup_code_valid(
            self.setup_code_hash.as_deref(),
            self.setup_code_expires_at,
            typed,
            at,
        ) && !self.account.disabled
    }
}

/// Why a sign-in step was not taken.
#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    /// The setup code is wrong, used or expired, or the account disabled.
    #[error("the user id or setup code is wrong, used or expired")]
    SetupCodeRefused,
    /// The second-factor code's step was accepted before (or a later one).
    #[error("this second-factor code was used already")]
    Replayed,
    /// The pending sign-in was used, expired or ended meanwhile (a reset,
    /// a lock, the second factor enrolled in another browser).
    #[error("this sign-in is no longer open; start again")]
    Stale,
    /// A store error.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A failed or refused attempt, as the access log names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// A wrong password for an account that has one.
    WrongPassword,
    /// A password tried for an account that has none yet.
    NoPassword,
    /// A disabled account.
    Disabled,
    /// A user id with no account (logged as [`accounts::SYSTEM`]).
    UnknownUser,
    /// A wrong second-factor code.
    WrongCode,
    /// A second-factor code of a step already used.
    ReplayedCode,
    /// A wrong, used or expired setup code.
    WrongSetupCode,
    /// Any attempt while the account is locked.
    WhileLocked,
}

impl Failure {
    /// The entry's purpose.
    #[must_use]
    pub fn purpose(self) -> &'static str {
        match self {
            Failure::WrongPassword => "sign-in failed: wrong password",
            Failure::NoPassword => "sign-in failed: no password set",
            Failure::Disabled => "sign-in failed: account disabled",
            Failure::UnknownUser => "sign-in failed: unknown user id",
            Failure::WrongCode => "sign-in failed: wrong second-factor code",
            Failure::ReplayedCode => "sign-in failed: second-factor code used before",
            Failure::WrongSetupCode => "setup failed: wrong, used or expired setup code",
            Failure::WhileLocked => "sign-in refused: account locked",
        }
    }

    /// True for the failures that count towards the lock.
    #[must_use]
    pub fn counts(self) -> bool {
        matches!(
            self,
            Failure::WrongPassword
                | Failure::NoPassword
                | Failure::WrongCode
                | Failure::ReplayedCode
        )
    }
}

/// Creates an account with its first API token and its setup code, and
/// appends the change to the access log (one entry, action `add`, as
/// [`accounts::add_user_from`]), all in one transaction.
///
/// # Errors
/// As [`accounts::add_user_from`].
pub async fn add_user_with_setup_code(
    db: &Database,
    user: &UserId,
    role: Role,
    display_name: Option<&str>,
    by: &AccessActor,
    source: &str,
    at: DateTime<Utc>,
) -> Result<(Account, IssuedToken, SetupCode), AccountError> {
    must_be_admin(by)?;
    if is_reserved(user) {
        return Err(AccountError::Reserved(user.clone()));
    }
    check_display_name(display_name)?;
    let at = at.trunc_subsecs(6);
    let setup = new_setup_code(at)?;
    let mut tx = AccountTx::begin(db).await?;
    let (account, token) =
        accounts::add_user_in(&mut tx, user, role, display_name, by, source, at).await?;
    start_over(&mut tx, user, &setup, at).await?;
    tx.commit().await?;
    Ok((account, token, setup))
}

/// An admin's reset of `user`'s sign-in: clears the password, the second
/// factor, failed attempts and any lock, ends the user's web sessions and
/// pending sign-ins, and issues a new setup code; appends the change to
/// the access log (action `change`), all in one transaction. API tokens
/// are untouched.
///
/// # Errors
/// [`AccountError::UnknownUser`], [`AccountError::Disabled`],
/// [`AccountError::NotAdmin`], [`AccountError::Invalid`] for a bad
/// `source`; internal errors otherwise. Nothing is written on an error.
pub async fn reset(
    db: &Database,
    user: &UserId,
    by: &AccessActor,
    source: &str,
    at: DateTime<Utc>,
) -> Result<SetupCode, AccountError> {
    must_be_admin(by)?;
    let at = at.trunc_subsecs(6);
    let setup = new_setup_code(at)?;
    let mut tx = AccountTx::begin(db).await?;
    match tx.user_status(user).await? {
        None => return Err(AccountError::UnknownUser(user.clone())),
        Some(true) => return Err(AccountError::Disabled(user.clone())),
        Some(false) => {}
    }
    start_over(&mut tx, user, &setup, at).await?;
    pending::drop_all_in(&mut tx, user).await?;
    let when = timestamp(at);
    tx_execute!(
        &mut tx,
        "UPDATE web_sessions SET ended_at = $2, ended_why = $3 \
         WHERE user_id = $1 AND ended_at IS NULL",
        user.as_str(),
        &when,
        Ending::Reset.as_str(),
    )?;
    let purpose = format!(
        "accounts: reset the password and second factor of {user}, end its web sessions, issue a setup code"
    );
    tx.log(by, AccessAction::Change, source, &purpose, at)
        .await?;
    tx.commit().await?;
    Ok(setup)
}

/// The account `user` with its credentials (none yet when it never had
/// any); `None` when there is no such account.
///
/// # Errors
/// [`StoreError::Unreadable`] for a stored row that cannot be read back; a
/// store error otherwise.
pub async fn find(db: &Database, user: &UserId) -> Result<Option<Credentials>, StoreError> {
    const SQL: &str = "SELECT u.user_id, u.role, u.display_name, u.disabled_at, u.created_at, \
         c.password_phc, c.totp_secret, c.totp_last_step, \
         COALESCE(c.failed_attempts, 0) AS failed_attempts, c.locked_until, c.last_sign_in_at, \
         c.previous_sign_in_at, c.setup_code_hash, c.setup_code_expires_at \
         FROM users u LEFT JOIN credentials c ON c.user_id = u.user_id WHERE u.user_id = $1";
    let row: Option<CredentialsRow> = match db {
        Database::Postgres(pool) => {
            sqlx::query_as(SQL)
                .bind(user.as_str())
                .fetch_optional(pool)
                .await
        }
        Database::Sqlite(pool) => {
            sqlx::query_as(&sqlite_sql(SQL))
                .bind(user.as_str())
                .fetch_optional(pool)
                .await
        }
    }
    .map_err(StoreError::query)?;
    row.map(CredentialsRow::decode).transpose()
}

/// Sets `user`'s password (an argon2id PHC string made from what they
/// typed) with their setup code `typed`, which is then used up; clears
/// failed attempts and any lock, and appends the change to the access log
/// (action `change`, by the user), in one transaction.
///
/// # Errors
/// [`CredentialError::SetupCodeRefused`] when the code is wrong, used or
/// expired, or the account is disabled (nothing written); a store error
/// otherwise.
pub async fn set_password_with_setup_code(
    db: &Database,
    user: &UserId,
    typed: &str,
    password_phc: &str,
    source: &str,
    at: DateTime<Utc>,
) -> Result<Account, CredentialError> {
    let at = at.trunc_subsecs(6);
    let mut tx = AccountTx::begin(db).await?;
    let Some(state) = locked_row(&mut tx, user, at).await? else {
        return Err(CredentialError::SetupCodeRefused);
    };
    if !state.setup_code_matches(typed, at) {
        return Err(CredentialError::SetupCodeRefused);
    }
    let when = timestamp(at);
    tx_execute!(
        &mut tx,
        "UPDATE credentials SET password_phc = $2, totp_secret = NULL, totp_last_step = NULL, \
         failed_attempts = 0, locked_until = NULL, setup_code_hash = NULL, \
         setup_code_expires_at = NULL, updated_at = $3 WHERE user_id = $1",
        user.as_str(),
        password_phc,
        &when,
    )?;
    pending::drop_all_in(&mut tx, user).await?;
    let account = state.account;
    let purpose = format!("accounts: {user} sets a password with a setup code");
    log(
        &mut tx,
        &actor_of(&account),
        AccessAction::Change,
        source,
        &purpose,
        at,
    )
    .await?;
    tx.commit().await?;
    Ok(account)
}

/// Records a failed or refused attempt by `account` (`None`: a user id
/// with no account) and appends it to the access log (`sign_in_failed`);
/// a failure that [counts](Failure::counts) and is the
/// [`MAX_FAILED_ATTEMPTS`]th in a row locks the account for
/// [`LOCK_DURATION`] (a `lock` entry too) and ends its pending sign-ins.
/// One transaction. Returns when the lock ends if the account is locked
/// now.
///
/// # Errors
/// A store error.
pub async fn record_failure(
    db: &Database,
    account: Option<&Account>,
    failure: Failure,
    source: &str,
    at: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    let at = at.trunc_subsecs(6);
    let mut tx = AccountTx::begin(db).await?;
    let Some(account) = account else {
        let system = AccessActor {
            user_id: UserId::parse(accounts::SYSTEM)
                .map_err(|e| StoreError::Query(format!("the system actor: {e}")))?,
            role: Role::Admin,
        };
        let purpose = Failure::UnknownUser.purpose();
        log(
            &mut tx,
            &system,
            AccessAction::SignInFailed,
            source,
            purpose,
            at,
        )
        .await?;
        tx.commit().await?;
        return Ok(None);
    };
    let user = &account.user_id;
    let actor = actor_of(account);
    let locked = locked_row(&mut tx, user, at)
        .await?
        .and_then(|c| c.locked_at(at));
    let mut lock = None;
    if let Some(until) = locked {
        lock = Some(until);
    } else if failure.counts() {
        let (count,): (i64,) = tx_fetch_optional!(
            &mut tx,
            (i64,),
            "SELECT failed_attempts FROM credentials WHERE user_id = $1",
            user.as_str(),
        )?
        .unwrap_or((0,));
        let count = count.saturating_add(1);
        let when = timestamp(at);
        if count >= i64::from(MAX_FAILED_ATTEMPTS) {
            let until = at + LOCK_DURATION;
            tx_execute!(
                &mut tx,
                "UPDATE credentials SET failed_attempts = 0, locked_until = $2, updated_at = $3 \
                 WHERE user_id = $1",
                user.as_str(),
                timestamp(until),
                &when,
            )?;
            pending::drop_all_in(&mut tx, user).await?;
            lock = Some(until);
        } else {
            tx_execute!(
                &mut tx,
                "UPDATE credentials SET failed_attempts = $2, updated_at = $3 WHERE user_id = $1",
                user.as_str(),
                count,
                &when,
            )?;
        }
    }
    let failed = if locked.is_some() {
        Failure::WhileLocked
    } else {
        failure
    };
    log(
        &mut tx,
        &actor,
        AccessAction::SignInFailed,
        source,
        failed.purpose(),
        at,
    )
    .await?;
    if let (None, Some(until)) = (locked, lock) {
        let purpose = format!(
            "lock: {MAX_FAILED_ATTEMPTS} failed attempts in a row; locked until {}",
            timestamp(until)
        );
        log(&mut tx, &actor, AccessAction::Lock, source, &purpose, at).await?;
    }
    tx.commit().await?;
    Ok(lock)
}

/// Completes the sign-in `pending` of `account` with a second-factor code
/// of step `step` (checked by the caller against the pending enrolment's
/// secret, or the account's): uses the pending sign-in up, enrols the
/// second factor (stage `enroll`, an access-log `change` entry) or refuses
/// a step not later than the last one accepted, starts the failed attempts
/// again, records the time, and appends the `sign_in` entry. One
/// transaction; the caller then opens the web session.
///
/// # Errors
/// [`CredentialError::Stale`] when the pending sign-in is gone or the
/// account changed meanwhile, [`CredentialError::Replayed`] for a used
/// step (nothing written); a store error otherwise.
pub async fn complete_sign_in(
    db: &Database,
    pending: &Pending,
    account: &Account,
    step: u64,
    source: &str,
    at: DateTime<Utc>,
) -> Result<(), CredentialError> {
    let at = at.trunc_subsecs(6);
    let user = &account.user_id;
    if pending.user_id != *user {
        return Err(CredentialError::Stale);
    }
    let step = i64::try_from(step).map_err(|_| CredentialError::Replayed)?;
    let when = timestamp(at);
    let actor = actor_of(account);
    let mut tx = AccountTx::begin(db).await?;
    if !pending::take_in(&mut tx, pending).await? {
        return Err(CredentialError::Stale);
    }
    match (pending.stage, pending.totp_secret.as_deref()) {
        (Stage::Enroll, Some(secret)) => {
            let done = tx_execute!(
                &mut tx,
                "UPDATE credentials SET totp_secret = $2, totp_last_step = $3, updated_at = $4 \
                 WHERE user_id = $1 AND totp_secret IS NULL AND password_phc IS NOT NULL",
                user.as_str(),
                secret,
                step,
                &when,
            )?;
            if done != 1 {
                return Err(CredentialError::Stale);
            }
            let purpose = format!("accounts: {user} enrols a second factor (TOTP)");
            log(&mut tx, &actor, AccessAction::Change, source, &purpose, at).await?;
        }
        (Stage::Enroll, None) => return Err(CredentialError::Stale),
        (Stage::Verify, _) => {
            let done = tx_execute!(
                &mut tx,
                "UPDATE credentials SET totp_last_step = $2, updated_at = $3 \
                 WHERE user_id = $1 AND totp_secret IS NOT NULL \
                 AND (totp_last_step IS NULL OR totp_last_step < $2)",
                user.as_str(),
                step,
                &when,
            )?;
            if done != 1 {
                return Err(CredentialError::Replayed);
            }
        }
    }
    tx_execute!(
        &mut tx,
        "UPDATE credentials SET failed_attempts = 0, locked_until = NULL, \
         previous_sign_in_at = last_sign_in_at, last_sign_in_at = $2, updated_at = $2 \
         WHERE user_id = $1",
        user.as_str(),
        &when,
    )?;
    let purpose = format!(
        "sign-in: password and second factor; purpose of use {}",
        pending.purpose
    );
    log(&mut tx, &actor, AccessAction::SignIn, source, &purpose, at).await?;
    tx.commit().await?;
    Ok(())
}

/// The actor of an account's own acts.
#[must_use]
pub fn actor_of(account: &Account) -> AccessActor {
    AccessActor {
        user_id: account.user_id.clone(),
        role: account.role,
    }
}

/// Appends an entry in the transaction, with store errors as such.
async fn log(
    tx: &mut AccountTx,
    by: &AccessActor,
    action: AccessAction,
    source: &str,
    purpose: &str,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    tx.log(by, action, source, purpose, at)
        .await
        .map(drop)
        .map_err(|e| match e {
            AccountError::Store(e) => e,
            other => StoreError::Query(other.to_string()),
        })
}

/// The account's row (made when missing) and its credentials, inside the
/// transaction (which holds the access log's lock, so no other change to
/// credentials interleaves); `None` when there is no such account.
async fn locked_row(
    tx: &mut AccountTx,
    user: &UserId,
    at: DateTime<Utc>,
) -> Result<Option<Credentials>, StoreError> {
    if tx.user_status(user).await?.is_none() {
        return Ok(None);
    }
    tx_execute!(
        tx,
        "INSERT INTO credentials (user_id, updated_at) VALUES ($1, $2) \
         ON CONFLICT (user_id) DO NOTHING",
        user.as_str(),
        timestamp(at),
    )?;
    const SQL: &str = "SELECT u.user_id, u.role, u.display_name, u.disabled_at, u.created_at, \
         c.password_phc, c.totp_secret, c.totp_last_step, c.failed_attempts, c.locked_until, \
         c.last_sign_in_at, c.previous_sign_in_at, c.setup_code_hash, c.setup_code_expires_at \
         FROM users u JOIN credentials c ON c.user_id = u.user_id WHERE u.user_id = $1";
    let row = tx_fetch_optional!(tx, CredentialsRow, SQL, user.as_str())?;
    row.map(CredentialsRow::decode).transpose()
}

/// Clears the password, second factor, failed attempts and lock of `user`
/// and gives them `setup`.
async fn start_over(
    tx: &mut AccountTx,
    user: &UserId,
    setup: &SetupCode,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    tx_execute!(
        tx,
        "INSERT INTO credentials (user_id, setup_code_hash, setup_code_expires_at, updated_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (user_id) DO UPDATE SET \
         password_phc = NULL, totp_secret = NULL, totp_last_step = NULL, failed_attempts = 0, \
         locked_until = NULL, setup_code_hash = excluded.setup_code_hash, \
         setup_code_expires_at = excluded.setup_code_expires_at, updated_at = excluded.updated_at",
        user.as_str(),
        setup_code_hash(&setup.code),
        timestamp(setup.expires_at),
        timestamp(at),
    )?;
    Ok(())
}

/// An account joined with its credentials, as text.
#[derive(sqlx::FromRow)]
struct CredentialsRow {
    #[sqlx(flatten)]
    user: UserRow,
    password_phc: Option<String>,
    totp_secret: Option<String>,
    totp_last_step: Option<i64>,
    failed_attempts: i64,
    locked_until: Option<String>,
    last_sign_in_at: Option<String>,
    previous_sign_in_at: Option<String>,
    setup_code_hash: Option<String>,
    setup_code_expires_at: Option<String>,
}

impl CredentialsRow {
    fn decode(self) -> Result<Credentials, StoreError> {
        let key = self.user.user_id.clone();
        let unreadable = |reason: &str| StoreError::Unreadable {
            table: "credentials",
            key: key.clone(),
            reason: reason.to_owned(),
        };
        let time = |text: Option<String>, column: &str| {
            text.map(|t| {
                parse_time(&t)
                    .ok_or_else(|| unreadable(&format!("{column} is not an RFC 3339 time")))
            })
            .transpose()
        };
        Ok(Credentials {
            totp_last_step: self
                .totp_last_step
                .map(|s| u64::try_from(s).map_err(|_| unreadable("totp_last_step is negative")))
                .transpose()?,
            failed_attempts: u32::try_from(self.failed_attempts)
                .map_err(|_| unreadable("failed_attempts is out of range"))?,
            locked_until: time(self.locked_until, "locked_until")?,
            last_sign_in_at: time(self.last_sign_in_at, "last_sign_in_at")?,
            previous_sign_in_at: time(self.previous_sign_in_at, "previous_sign_in_at")?,
            setup_code_expires_at: time(self.setup_code_expires_at, "setup_code_expires_at")?,
            account: self.user.decode()?,
            password_phc: self.password_phc,
            totp_secret: self.totp_secret,
            setup_code_hash: self.setup_code_hash,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_name_themselves_and_some_count() {
        assert!(Failure::WrongPassword.counts());
        assert!(Failure::WrongCode.counts());
        assert!(Failure::ReplayedCode.counts());
        assert!(!Failure::UnknownUser.counts());
        assert!(!Failure::WhileLocked.counts());
        assert!(!Failure::WrongSetupCode.counts());
        assert!(Failure::WhileLocked.purpose().contains("locked"));
    }
}
