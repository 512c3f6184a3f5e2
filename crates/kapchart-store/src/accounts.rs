//! Staff accounts and their API bearer tokens.
//!
//! An account is a user id (the id the record uses as actor id) with a
//! role; it is never deleted, only disabled. A token is `kc_` followed by
//! 43 base64url characters (32 random bytes from the operating system);
//! only its SHA-256 (lowercase hex) is stored, and a presented token is
//! found by that hash, the primary key, so nothing is ever compared with a
//! stored secret. The plaintext is returned once, when issued.
//!
//! Every change (adding a user, issuing a token, disabling a user) appends
//! an entry to the access log ([`crate::access`]) in the same transaction:
//! the change and its entry are committed together or not at all. Such an
//! entry has action `add` or `change`, the category `accounts`, no client,
//! and a purpose that says what changed, e.g. `accounts: add t-0001 as
//! therapist` (ids and role names only, never a display name).
//!
//! Only an actor in the admin role may change accounts. The user id
//! [`SYSTEM`] and every id starting with [`LOCAL_PREFIX`] are reserved for
//! kapchart's own entries in the access log and cannot be given to an
//! account.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, SubsecRound as _, Utc};
use kapchart_audit::Hash;
use kapchart_domain::{Role, UserId};
use sqlx::{Postgres, Sqlite, Transaction};

use crate::Database;
use crate::access::{
    self, AccessAction, AccessActor, AccessEntry, AccessRecord, Conn, DataCategory, timestamp,
};
use crate::error::StoreError;

/// How long a token authenticates after it is issued: 90 days.
pub const TOKEN_LIFETIME: chrono::Duration = chrono::Duration::days(90);

/// Every token starts with this.
pub const TOKEN_PREFIX: &str = "kc_";

/// How the user ids of the `kapchart` command line begin: it acts as the
/// operating-system user who runs it (`local-alice`, or `local-uid-1000`),
/// in the admin role, since whoever runs it has the database itself.
/// Reserved: no account's id can start with it.
pub const LOCAL_PREFIX: &str = "local-";

/// The user id of every command-line entry written before the command
/// line named the operating-system user. Reserved, as every id starting
/// with [`LOCAL_PREFIX`].
pub const LOCAL_ADMIN: &str = "local-admin";

/// The user id of kapchart's own changes, such as the first admin created
/// by [`bootstrap_admin`]. Reserved: no account can have it.
pub const SYSTEM: &str = "system";

/// The id of the account [`bootstrap_admin`] creates.
pub const BOOTSTRAP_ADMIN: &str = "admin";

/// What [`add_user`], [`issue_token`] and [`disable_user`] record as where
/// the change came from; the `_from` variants take it from the caller.
pub const UNSPECIFIED_SOURCE: &str = "unspecified";

/// What [`bootstrap_admin`] records as where the change came from.
pub const BOOTSTRAP_SOURCE: &str = "bootstrap on a database with no users";

/// The longest display name accepted, in characters.
pub const MAX_DISPLAY_NAME_CHARS: usize = 200;

/// A user account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// The user's id, the same id the record uses as actor id.
    pub user_id: UserId,
    /// The user's role.
    pub role: Role,
    /// The person's name, for display only.
    pub display_name: Option<String>,
    /// True once the account is disabled (its tokens are then revoked).
    pub disabled: bool,
    /// When the account was created.
    pub created_at: DateTime<Utc>,
}

/// A token just issued. Its `Debug` form hides the token.
#[derive(Clone, PartialEq, Eq)]
pub struct IssuedToken {
    /// The bearer token in plaintext: shown once, never stored.
    pub token: String,
    /// When it stops authenticating.
    pub expires_at: DateTime<Utc>,
}

impl fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedToken")
            .field("token", &"<hidden>")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// Why an account change was refused. The user's errors name the id or the
/// field and never a display name or token; [`AccountError::Store`] and
/// [`AccountError::Random`] are internal.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// No account has this id.
    #[error("no user with id {0}")]
    UnknownUser(UserId),
    /// An account with this id exists already (nothing was written).
    #[error("a user with id {0} already exists")]
    AlreadyExists(UserId),
    /// The account is disabled.
    #[error("user {0} is disabled")]
    Disabled(UserId),
    /// The account is not disabled (so it cannot be enabled).
    #[error("user {0} is not disabled")]
    NotDisabled(UserId),
    /// The id is reserved for kapchart's own access log entries.
    #[error("user id {0} is reserved for kapchart's own entries in the access log")]
    Reserved(UserId),
    /// The acting user is not an admin.
    #[error("only an admin may change accounts; the acting user's role is {}", .0.as_str())]
    NotAdmin(Role),
    /// A field breaks its rule.
    #[error("{field}: {rule}")]
    Invalid {
        /// The field, e.g. `display_name`.
        field: &'static str,
        /// The rule.
        rule: &'static str,
    },
    /// The operating system gave no randomness for a token.
    #[error("no randomness for a new token: {0}")]
    Random(String),
    /// A store error.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl AccountError {
    /// True for the errors of the request itself (unknown or existing user,
    /// disabled, reserved id, not an admin, a bad field); false for the
    /// internal ones.
    #[must_use]
    pub fn is_user_error(&self) -> bool {
        !matches!(self, AccountError::Random(_) | AccountError::Store(_))
    }
}

/// Creates an account and its first token. The access log records the
/// change with source [`UNSPECIFIED_SOURCE`]; [`add_user_from`] records
/// where the request came from.
///
/// # Errors
/// See [`add_user_from`].
pub async fn add_user(
    db: &Database,
    user: &UserId,
    role: Role,
    display_name: Option<&str>,
    by: &AccessActor,
    at: DateTime<Utc>,
) -> Result<(Account, IssuedToken), AccountError> {
    add_user_from(db, user, role, display_name, by, UNSPECIFIED_SOURCE, at).await
}

/// Creates an account and its first token, and appends the change to the
/// access log (action `add`, from `source`), all in one transaction.
///
/// # Errors
/// [`AccountError::AlreadyExists`] (nothing written),
/// [`AccountError::Reserved`], [`AccountError::NotAdmin`],
/// [`AccountError::Invalid`] for a display name that is blank, longer than
/// [`MAX_DISPLAY_NAME_CHARS`] or holds control characters, or for a bad
/// `source`; internal errors otherwise.
pub async fn add_user_from(
    db: &Database,
    user: &UserId,
    role: Role,
    display_name: Option<&str>,
    by: &AccessActor,
    source: &str,
    at: DateTime<Utc>,
) -> Result<(Account, IssuedToken), AccountError> {
    must_be_admin(by)?;
    if is_reserved(user) {
        return Err(AccountError::Reserved(user.clone()));
    }
    check_display_name(display_name)?;
    let at = at.trunc_subsecs(6);
    let mut tx = AccountTx::begin(db).await?;
    let added = add_user_in(&mut tx, user, role, display_name, by, source, at).await?;
    tx.commit().await?;
    Ok(added)
}

/// The body of [`add_user_from`] inside the caller's transaction, which
/// the caller commits (after its own changes: `credentials` adds a setup
/// code). The caller has checked the actor, the id and the display name,
/// and truncated `at` to microseconds.
pub(crate) async fn add_user_in(
    tx: &mut AccountTx,
    user: &UserId,
    role: Role,
    display_name: Option<&str>,
    by: &AccessActor,
    source: &str,
    at: DateTime<Utc>,
) -> Result<(Account, IssuedToken), AccountError> {
    let token = new_token(at)?;
    if !tx.insert_user(user, role, display_name, at).await? {
        return Err(AccountError::AlreadyExists(user.clone()));
    }
    tx.insert_token(user, &token, at).await?;
    let purpose = format!("accounts: add {user} as {}", role.as_str());
    tx.log(by, AccessAction::Add, source, &purpose, at).await?;
    let account = Account {
        user_id: user.clone(),
        role,
        display_name: display_name.map(str::to_owned),
        disabled: false,
        created_at: at,
    };
    Ok((account, token))
}

/// Issues another token for an account (earlier tokens stay valid until
/// they expire or the account is disabled). The access log records the
/// change with source [`UNSPECIFIED_SOURCE`]; [`issue_token_from`] records
/// where the request came from.
///
/// # Errors
/// See [`issue_token_from`].
pub async fn issue_token(
    db: &Database,
    user: &UserId,
    by: &AccessActor,
    at: DateTime<Utc>,
) -> Result<IssuedToken, AccountError> {
    issue_token_from(db, user, by, UNSPECIFIED_SOURCE, at).await
}

/// Issues another token for an account and appends the change to the
/// access log (action `change`, from `source`), in one transaction.
///
/// # Errors
/// [`AccountError::UnknownUser`], [`AccountError::Disabled`],
/// [`AccountError::NotAdmin`], [`AccountError::Invalid`] for a bad
/// `source`; internal errors otherwise. Nothing is written on an error.
pub async fn issue_token_from(
    db: &Database,
    user: &UserId,
    by: &AccessActor,
    source: &str,
    at: DateTime<Utc>,
) -> Result<IssuedToken, AccountError> {
    must_be_admin(by)?;
    let at = at.trunc_subsecs(6);
    let token = new_token(at)?;
    let mut tx = AccountTx::begin(db).await?;
    match tx.user_status(user).await? {
        None => return Err(AccountError::UnknownUser(user.clone())),
        Some(true) => return Err(AccountError::Disabled(user.clone())),
        Some(false) => {}
    }
    tx.insert_token(user, &token, at).await?;
    let purpose = format!("accounts: issue a token to {user}");
    tx.log(by, AccessAction::Change, source, &purpose, at)
        .await?;
    tx.commit().await?;
    Ok(token)
}

/// Disables an account and revokes all its tokens. The access log records
/// the change with source [`UNSPECIFIED_SOURCE`]; [`disable_user_from`]
/// records where the request came from.
///
/// # Errors
/// See [`disable_user_from`].
pub async fn disable_user(
    db: &Database,
    user: &UserId,
    by: &AccessActor,
    at: DateTime<Utc>,
) -> Result<(), AccountError> {
    disable_user_from(db, user, by, UNSPECIFIED_SOURCE, at).await
}

/// Disables an account, revokes all its tokens and appends the change to
/// the access log (action `change`, from `source`), in one transaction.
///
/// # Errors
/// [`AccountError::UnknownUser`], [`AccountError::Disabled`] (already
/// disabled), [`AccountError::NotAdmin`], [`AccountError::Invalid`] for a
/// bad `source`; internal errors otherwise. Nothing is written on an error.
pub async fn disable_user_from(
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
        Some(true) => return Err(AccountError::Disabled(user.clone())),
        Some(false) => {}
    }
    tx.disable(user, at).await?;
    let purpose = format!("accounts: disable {user} and revoke its tokens");
    tx.log(by, AccessAction::Change, source, &purpose, at)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Every account, by user id.
///
/// # Errors
/// [`StoreError::Unreadable`] naming the user id and column of a stored
/// row that cannot be read back; a store error otherwise.
pub async fn list_users(db: &Database) -> Result<Vec<Account>, StoreError> {
    const SQL: &str = "SELECT user_id, role, display_name, disabled_at, created_at \
                       FROM users ORDER BY user_id";
    let rows: Vec<UserRow> = match db {
        Database::Postgres(pool) => sqlx::query_as(SQL).fetch_all(pool).await,
        Database::Sqlite(pool) => sqlx::query_as(SQL).fetch_all(pool).await,
    }
    .map_err(StoreError::query)?;
    let mut accounts = rows
        .into_iter()
        .map(UserRow::decode)
        .collect::<Result<Vec<_>, _>>()?;
    // Byte order of the ids on both engines, whatever the collation.
    accounts.sort_by(|a, b| a.user_id.as_str().cmp(b.user_id.as_str()));
    Ok(accounts)
}

/// One account by user id, disabled or not; `None` when there is none.
///
/// # Errors
/// [`StoreError::Unreadable`] for a stored row that cannot be read back; a
/// store error otherwise.
pub async fn find_user(db: &Database, user: &UserId) -> Result<Option<Account>, StoreError> {
    let row: Option<UserRow> = match db {
        Database::Postgres(pool) => {
            sqlx::query_as(
                "SELECT user_id, role, display_name, disabled_at, created_at \
                 FROM users WHERE user_id = $1",
            )
            .bind(user.as_str())
            .fetch_optional(pool)
            .await
        }
        Database::Sqlite(pool) => {
            sqlx::query_as(
                "SELECT user_id, role, display_name, disabled_at, created_at \
                 FROM users WHERE user_id = ?1",
            )
            .bind(user.as_str())
            .fetch_optional(pool)
            .await
        }
    }
    .map_err(StoreError::query)?;
    row.map(UserRow::decode).transpose()
}

/// The account a bearer token belongs to, if the token is known, unexpired
/// at `at`, not revoked, and its user not disabled.
///
/// # Errors
/// A store error; an unreadable stored row is [`StoreError::Unreadable`].
pub async fn authenticate(
    db: &Database,
    token: &str,
    at: DateTime<Utc>,
) -> Result<Option<Account>, StoreError> {
    if !looks_like_token(token) {
        return Ok(None);
    }
    let hash = token_hash(token);
    const PG: &str = "SELECT u.user_id, u.role, u.display_name, u.disabled_at, u.created_at, \
         t.expires_at, t.revoked_at FROM tokens t JOIN users u ON u.user_id = t.user_id \
         WHERE t.token_hash = $1";
    const SQLITE: &str = "SELECT u.user_id, u.role, u.display_name, u.disabled_at, \
         u.created_at, t.expires_at, t.revoked_at FROM tokens t \
         JOIN users u ON u.user_id = t.user_id WHERE t.token_hash = ?1";
    let row: Option<TokenRow> = match db {
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
        return Ok(None);
    };
    if row.revoked_at.is_some() {
        return Ok(None);
    }
    let expires_at = parse_time(&row.expires_at).ok_or_else(|| StoreError::Unreadable {
        table: "tokens",
        key: format!("of user {}", row.user.user_id),
        reason: "expires_at is not an RFC 3339 time".into(),
    })?;
    if at >= expires_at {
        return Ok(None);
    }
    let account = row.user.decode()?;
    Ok((!account.disabled).then_some(account))
}

/// On a database with no users at all: creates user [`BOOTSTRAP_ADMIN`]
/// (role admin) and returns it with its token; otherwise `None`.
/// Race-safe: the check and the insert run in one transaction under the
/// access log's append lock (PostgreSQL) or SQLite's write lock, so two
/// servers starting at once create one admin. The access log records the
/// change as done by [`SYSTEM`] (role admin) from [`BOOTSTRAP_SOURCE`].
///
/// # Errors
/// A store error.
pub async fn bootstrap_admin(
    db: &Database,
    at: DateTime<Utc>,
) -> Result<Option<(Account, IssuedToken)>, StoreError> {
    let internal = |e: AccountError| match e {
        AccountError::Store(e) => e,
        other => StoreError::Query(other.to_string()),
    };
    let reserved =
        |id: &str| UserId::parse(id).map_err(|e| StoreError::Query(format!("bootstrap: {e}")));
    let admin = reserved(BOOTSTRAP_ADMIN)?;
    let by = AccessActor {
        user_id: reserved(SYSTEM)?,
        role: Role::Admin,
    };
    let at = at.trunc_subsecs(6);
    let token = new_token(at).map_err(internal)?;
    let mut tx = AccountTx::begin(db).await?;
    if tx.count_users().await? > 0 {
        return Ok(None);
    }
    if !tx.insert_user(&admin, Role::Admin, None, at).await? {
        return Ok(None);
    }
    tx.insert_token(&admin, &token, at).await?;
    let purpose = format!("accounts: add {admin} as admin");
    tx.log(&by, AccessAction::Add, BOOTSTRAP_SOURCE, &purpose, at)
        .await
        .map_err(internal)?;
    tx.commit().await?;
    let account = Account {
        user_id: admin,
        role: Role::Admin,
        display_name: None,
        disabled: false,
        created_at: at,
    };
    Ok(Some((account, token)))
}

pub(crate) fn must_be_admin(by: &AccessActor) -> Result<(), AccountError> {
    if by.role == Role::Admin {
        Ok(())
    } else {
        Err(AccountError::NotAdmin(by.role))
    }
}

pub(crate) fn is_reserved(user: &UserId) -> bool {
    user.as_str() == SYSTEM || user.as_str().starts_with(LOCAL_PREFIX)
}

pub(crate) fn check_display_name(name: Option<&str>) -> Result<(), AccountError> {
    if let Some(name) = name
        && (name.trim().is_empty()
            || name.chars().count() > MAX_DISPLAY_NAME_CHARS
            || name.chars().any(char::is_control)
            || name.chars().any(kapchart_domain::input::is_hidden_in_names))
    {
        return Err(AccountError::Invalid {
            field: "display_name",
            rule: "must be 1 to 200 characters, not blank, with no control characters (nor invisible or direction-changing ones)",
        });
    }
    Ok(())
}

/// A new token: `kc_` and the base64url (no padding) of 32 random bytes.
fn new_token(at: DateTime<Utc>) -> Result<IssuedToken, AccountError> {
    let mut bytes = [0_u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| AccountError::Random(e.to_string()))?;
    Ok(IssuedToken {
        token: format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes)),
        expires_at: at + TOKEN_LIFETIME,
    })
}

/// The shape of a token: the prefix and 43 base64url characters.
fn looks_like_token(token: &str) -> bool {
    token.strip_prefix(TOKEN_PREFIX).is_some_and(|rest| {
        rest.len() == 43
            && rest
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

/// What is stored of a token: its SHA-256 in lowercase hex.
fn token_hash(token: &str) -> String {
    Hash::sha256(token.as_bytes()).to_hex()
}

pub(crate) fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// A `users` row as text.
#[derive(sqlx::FromRow)]
pub(crate) struct UserRow {
    pub(crate) user_id: String,
    role: String,
    display_name: Option<String>,
    disabled_at: Option<String>,
    created_at: String,
}

impl UserRow {
    pub(crate) fn decode(self) -> Result<Account, StoreError> {
        let unreadable = |reason: &str| StoreError::Unreadable {
            table: "users",
            key: self.user_id.clone(),
            reason: reason.to_owned(),
        };
        Ok(Account {
            user_id: UserId::parse(&self.user_id)
                .map_err(|_| unreadable("user_id is not a user id"))?,
            role: self
                .role
                .parse()
                .map_err(|_| unreadable("role is not a role"))?,
            created_at: parse_time(&self.created_at)
                .ok_or_else(|| unreadable("created_at is not an RFC 3339 time"))?,
            disabled: self.disabled_at.is_some(),
            display_name: self.display_name,
        })
    }
}

/// A token joined with its user.
#[derive(sqlx::FromRow)]
struct TokenRow {
    #[sqlx(flatten)]
    user: UserRow,
    expires_at: String,
    revoked_at: Option<String>,
}

/// One account change: a transaction that holds the access log's append
/// lock from its start (PostgreSQL: `pg_advisory_xact_lock`; SQLite:
/// `BEGIN IMMEDIATE`), so that account changes, their log entries and the
/// bootstrap check never interleave. Dropped without [`commit`], it rolls
/// back.
///
/// [`commit`]: AccountTx::commit
pub(crate) enum AccountTx {
    Postgres(Transaction<'static, Postgres>),
    Sqlite(Transaction<'static, Sqlite>),
}

impl AccountTx {
    pub(crate) async fn begin(db: &Database) -> Result<Self, StoreError> {
        let mut tx = match db {
            Database::Postgres(pool) => {
                AccountTx::Postgres(pool.begin().await.map_err(StoreError::query)?)
            }
            Database::Sqlite(pool) => AccountTx::Sqlite(
                pool.begin_with("BEGIN IMMEDIATE")
                    .await
                    .map_err(StoreError::query)?,
            ),
        };
        access::lock(&mut tx.conn()).await?;
        Ok(tx)
    }

    pub(crate) fn conn(&mut self) -> Conn<'_> {
        match self {
            AccountTx::Postgres(tx) => Conn::Postgres(tx),
            AccountTx::Sqlite(tx) => Conn::Sqlite(tx),
        }
    }

    pub(crate) async fn commit(self) -> Result<(), StoreError> {
        match self {
            AccountTx::Postgres(tx) => tx.commit().await,
            AccountTx::Sqlite(tx) => tx.commit().await,
        }
        .map_err(StoreError::query)
    }

    async fn count_users(&mut self) -> Result<i64, StoreError> {
        const SQL: &str = "SELECT COUNT(*) FROM users";
        match self {
            AccountTx::Postgres(tx) => sqlx::query_scalar(SQL).fetch_one(&mut **tx).await,
            AccountTx::Sqlite(tx) => sqlx::query_scalar(SQL).fetch_one(&mut **tx).await,
        }
        .map_err(StoreError::query)
    }

    /// `Some(disabled)` for an existing account, `None` for none.
    pub(crate) async fn user_status(&mut self, user: &UserId) -> Result<Option<bool>, StoreError> {
        const PG: &str = "SELECT disabled_at FROM users WHERE user_id = $1";
        const SQLITE: &str = "SELECT disabled_at FROM users WHERE user_id = ?1";
        let row: Option<(Option<String>,)> = match self {
            AccountTx::Postgres(tx) => {
                sqlx::query_as(PG)
                    .bind(user.as_str())
                    .fetch_optional(&mut **tx)
                    .await
            }
            AccountTx::Sqlite(tx) => {
                sqlx::query_as(SQLITE)
                    .bind(user.as_str())
                    .fetch_optional(&mut **tx)
                    .await
            }
        }
        .map_err(StoreError::query)?;
        Ok(row.map(|(disabled_at,)| disabled_at.is_some()))
    }

    /// Inserts the account; false when the id is taken (nothing written).
    async fn insert_user(
        &mut self,
        user: &UserId,
        role: Role,
        display_name: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        const PG: &str = "INSERT INTO users (user_id, role, display_name, created_at) \
                          VALUES ($1, $2, $3, $4) ON CONFLICT (user_id) DO NOTHING";
        const SQLITE: &str = "INSERT INTO users (user_id, role, display_name, created_at) \
                              VALUES (?1, ?2, ?3, ?4) ON CONFLICT (user_id) DO NOTHING";
        let created = timestamp(at);
        let done = match self {
            AccountTx::Postgres(tx) => sqlx::query(PG)
                .bind(user.as_str())
                .bind(role.as_str())
                .bind(display_name)
                .bind(&created)
                .execute(&mut **tx)
                .await
                .map(|r| r.rows_affected()),
            AccountTx::Sqlite(tx) => sqlx::query(SQLITE)
                .bind(user.as_str())
                .bind(role.as_str())
                .bind(display_name)
                .bind(&created)
                .execute(&mut **tx)
                .await
                .map(|r| r.rows_affected()),
        }
        .map_err(StoreError::query)?;
        Ok(done == 1)
    }

    async fn insert_token(
        &mut self,
        user: &UserId,
        token: &IssuedToken,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        const PG: &str = "INSERT INTO tokens (token_hash, user_id, created_at, expires_at) \
                          VALUES ($1, $2, $3, $4)";
        const SQLITE: &str = "INSERT INTO tokens (token_hash, user_id, created_at, expires_at) \
                              VALUES (?1, ?2, ?3, ?4)";
        let hash = token_hash(&token.token);
        let (created, expires) = (timestamp(at), timestamp(token.expires_at));
        match self {
            AccountTx::Postgres(tx) => sqlx::query(PG)
                .bind(&hash)
                .bind(user.as_str())
                .bind(&created)
                .bind(&expires)
                .execute(&mut **tx)
                .await
                .map(|_| ()),
            AccountTx::Sqlite(tx) => sqlx::query(SQLITE)
                .bind(&hash)
                .bind(user.as_str())
                .bind(&created)
                .bind(&expires)
                .execute(&mut **tx)
                .await
                .map(|_| ()),
        }
        .map_err(StoreError::query)?;
        Ok(())
    }

    /// Marks the account disabled and revokes its live tokens.
    async fn disable(&mut self, user: &UserId, at: DateTime<Utc>) -> Result<(), StoreError> {
        const USER_PG: &str = "UPDATE users SET disabled_at = $2 WHERE user_id = $1";
        const TOKENS_PG: &str = "UPDATE tokens SET revoked_at = $2 \
                                 WHERE user_id = $1 AND revoked_at IS NULL";
        let when = timestamp(at);
        match self {
            AccountTx::Postgres(tx) => {
                for sql in [USER_PG, TOKENS_PG] {
                    sqlx::query(sql)
                        .bind(user.as_str())
                        .bind(&when)
                        .execute(&mut **tx)
                        .await
                        .map_err(StoreError::query)?;
                }
            }
            AccountTx::Sqlite(tx) => {
                for sql in [USER_PG, TOKENS_PG] {
                    sqlx::query(&sql.replace('$', "?"))
                        .bind(user.as_str())
                        .bind(&when)
                        .execute(&mut **tx)
                        .await
                        .map_err(StoreError::query)?;
                }
            }
        }
        Ok(())
    }

    /// Appends the change to the access log in this transaction.
    pub(crate) async fn log(
        &mut self,
        by: &AccessActor,
        action: AccessAction,
        source: &str,
        purpose: &str,
        at: DateTime<Utc>,
    ) -> Result<AccessRecord, AccountError> {
        let entry = AccessEntry {
            at,
            actor: by.clone(),
            action,
            client_id: None,
            categories: vec![DataCategory::Accounts],
            source: source.to_owned(),
            purpose: purpose.to_owned(),
        };
        access::append_in_tx(self.conn(), &entry)
            .await
            .map_err(|e| match e {
                StoreError::Invalid { field, rule } => AccountError::Invalid { field, rule },
                other => AccountError::Store(other),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_have_their_documented_shape_and_are_hashed_as_hex() {
        let at = Utc::now();
        let a = new_token(at).expect("random");
        let b = new_token(at).expect("random");
        assert_ne!(a.token, b.token);
        for t in [&a.token, &b.token] {
            assert_eq!(t.len(), 46, "{t}");
            assert!(looks_like_token(t), "{t}");
            let h = token_hash(t);
            assert_eq!(h.len(), 64);
            assert!(h.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')));
        }
        assert_eq!(a.expires_at - at, TOKEN_LIFETIME);
        assert_eq!(TOKEN_LIFETIME.num_days(), 90);
        assert!(!format!("{a:?}").contains(&a.token));
        for bad in [
            "",
            "kc_",
            "kc_short",
            "xx_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        ] {
            assert!(!looks_like_token(bad), "{bad}");
        }
        assert!(!looks_like_token(&format!("{}=", a.token)));
    }

    #[test]
    fn display_names_are_checked_without_echoing_them() {
        assert!(check_display_name(None).is_ok());
        assert!(check_display_name(Some("Ann Lee")).is_ok());
        for bad in [" ", "Ann\nLee", &"x".repeat(201)] {
            let e = check_display_name(Some(bad)).expect_err("refused");
            assert!(e.is_user_error());
            assert!(!e.to_string().contains("Ann"), "{e}");
        }
    }
}
