//! The access log: who touched which client's record (or which account),
//! when, from where, how and why, hash-chained on its own
//! (docs/access-log.md).
//!
//! Its fields are those of ASTM E2147-18 section 7.1 as ONC 170.315(d)(2)
//! uses them: date and time (7.1.1), the client (7.1.2), where from
//! (7.1.6), the user (7.1.7), the action (7.1.8) and the categories of
//! data touched (7.1.9), plus the purpose the caller gave. Every read of a
//! client's record through the API, the pages or an export appends an
//! entry, and so does every change to an account ([`crate::accounts`], in
//! the same transaction as the change). There is no switch that turns it
//! off.
//!
//! Each entry is hashed like an event of the record: `hash` is the
//! lowercase hex SHA-256 of the RFC 8785 canonical JSON
//! ([`kapchart_audit::canonical_json`]) of the object with exactly the keys
//! `sequence`, `at`, `user_id`, `role`, `action`, `client_id`,
//! `categories`, `source`, `purpose` and `prev_hash`; `prev_hash` is the
//! previous entry's `hash` (64 zeros for sequence 1). [`verify`] recomputes
//! the chain with kapchart-audit's [`ChainVerifier`].
//!
//! Appends are serialized, so the chain never forks and `sequence` has no
//! gaps: on PostgreSQL each append takes the transaction-level advisory
//! lock [`APPEND_LOCK_KEY`], reads the head and inserts in one transaction;
//! on SQLite the transaction is `BEGIN IMMEDIATE` (the one writer). The
//! primary key on `sequence` guards both.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use chrono::{
    DateTime, Datelike as _, NaiveDate, SecondsFormat, SubsecRound as _, TimeZone as _, Utc,
};
use futures_util::TryStreamExt as _;
use kapchart_audit::{ChainVerifier, Finding, FindingKind, Hash, canonical_json};
use kapchart_domain::{ClientId, ParseError, Role, TimeZoneName, UserId};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sqlx::postgres::PgConnection;
use sqlx::sqlite::SqliteConnection;

use crate::Database;
use crate::error::StoreError;

/// The key of the PostgreSQL transaction-level advisory lock
/// (`pg_advisory_xact_lock`) that serializes appends to the access log:
/// the big-endian bytes of `"kcaccess"`.
pub const APPEND_LOCK_KEY: i64 = i64::from_be_bytes(*b"kcaccess");

/// The longest `source` accepted, in characters.
pub const MAX_SOURCE_CHARS: usize = 500;

/// The longest `purpose` accepted, in characters.
pub const MAX_PURPOSE_CHARS: usize = 200;

/// Who acted: the user (ASTM E2147-18 7.1.7) and the role they acted in.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AccessActor {
    /// The user's id, the same id the record uses as actor id.
    pub user_id: UserId,
    /// The role the user acted in.
    pub role: Role,
}

/// `ALL`, `NAMES`, `as_str`, `Display` and `FromStr` of a fieldless enum
/// whose names are stored and hashed.
macro_rules! named_enum {
    ($ty:ident, $what:literal, $noun:literal, [$($variant:ident = $name:literal),+ $(,)?]) => {
        impl $ty {
            #[doc = concat!("Every ", $noun, ".")]
            pub const ALL: [$ty; [$($name),+].len()] = [$($ty::$variant),+];

            #[doc = concat!("Every ", $noun, "'s name, as stored.")]
            pub const NAMES: [&'static str; [$($name),+].len()] = [$($name),+];

            #[doc = concat!("The ", $noun, "'s name as stored and hashed.")]
            #[must_use]
            pub fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $name),+
                }
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $ty {
            type Err = ParseError;

            fn from_str(s: &str) -> Result<Self, ParseError> {
                Self::ALL
                    .into_iter()
                    .find(|v| v.as_str() == s)
                    .ok_or_else(|| ParseError {
                        what: $what,
                        message: format!("expected one of {}", Self::NAMES.join(", ")),
                    })
            }
        }
    };
}

/// What was done with the data (ASTM E2147-18 7.1.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccessAction {
    /// Something was created (an account; a record entry).
    Add,
    /// Something was changed (an account's tokens or status).
    Change,
    /// Data was read (viewed).
    Query,
    /// Data was printed.
    Print,
    /// Data was copied.
    Copy,
    /// Data was exported (e.g. a client's bundle).
    Export,
    /// A user signed in to the web pages (password and second factor).
    /// This and the three below are kapchart's additions to ASTM
    /// E2147-18's list, for the sign-in events of HIPAA 164.312(b).
    SignIn,
    /// A sign-in or setup attempt failed (or was refused: locked).
    SignInFailed,
    /// Failed attempts locked an account.
    Lock,
    /// A web session ended: signed out by the user, or idle.
    SignOut,
}

named_enum!(
    AccessAction,
    "access action",
    "action",
    [
        Add = "add",
        Change = "change",
        Query = "query",
        Print = "print",
        Copy = "copy",
        Export = "export",
        SignIn = "sign_in",
        SignInFailed = "sign_in_failed",
        Lock = "lock",
        SignOut = "sign_out",
    ]
);

/// A category of data touched (ASTM E2147-18 7.1.9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DataCategory {
    /// Registration: name, date of birth, contact.
    Demographics,
    /// Clinical notes and assessments.
    Notes,
    /// Prescriptions and doses given.
    Dosing,
    /// Charges, payments, superbills.
    Billing,
    /// User accounts, roles, tokens and credentials: account changes,
    /// sign-ins and sign-outs.
    Accounts,
}

named_enum!(
    DataCategory,
    "data category",
    "category",
    [
        Demographics = "demographics",
        Notes = "notes",
        Dosing = "dosing",
        Billing = "billing",
        Accounts = "accounts",
    ]
);

/// One access, as the caller describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessEntry {
    /// When (7.1.1). Stored and hashed in UTC with microseconds (finer
    /// digits are dropped).
    pub at: DateTime<Utc>,
    /// Who (7.1.7), in which role.
    pub actor: AccessActor,
    /// What was done (7.1.8).
    pub action: AccessAction,
    /// Whose record (7.1.2); none for account changes.
    pub client_id: Option<ClientId>,
    /// Which categories of data (7.1.9): at least one. Stored sorted by
    /// name, each once.
    pub categories: Vec<DataCategory>,
    /// Where from (7.1.6), e.g. `api GET /api/v1/clients/c-1/chart from
    /// 127.0.0.1` or `cli export`: 1 to [`MAX_SOURCE_CHARS`] characters,
    /// no control characters.
    pub source: String,
    /// Why, as the caller gave it, e.g. `treatment`, `payment`,
    /// `operations`, `audit`: 1 to [`MAX_PURPOSE_CHARS`] characters, no
    /// control characters.
    pub purpose: String,
}

/// An entry as stored: its place in the chain and its hashes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessRecord {
    /// 1, 2, ... with no gaps.
    pub sequence: u64,
    /// The entry (time to the microsecond, categories sorted).
    pub entry: AccessEntry,
    /// The previous entry's hash (64 zeros for sequence 1).
    pub prev_hash: String,
    /// This entry's hash: lowercase hex SHA-256 of its canonical JSON.
    pub hash: String,
}

impl AccessRecord {
    /// The JSON object that is hashed (the keys of the module docs).
    #[must_use]
    pub fn to_hashed_json(&self) -> Value {
        let e = &self.entry;
        let categories: Vec<&str> = e.categories.iter().map(|c| c.as_str()).collect();
        hashed_json(&Fields {
            sequence: self.sequence,
            at: &timestamp(e.at),
            user_id: e.actor.user_id.as_str(),
            role: e.actor.role.as_str(),
            action: e.action.as_str(),
            client_id: e.client_id.as_ref().map(ClientId::as_str),
            categories: &categories,
            source: &e.source,
            purpose: &e.purpose,
            prev_hash: &self.prev_hash,
        })
    }
}

/// How [`list`] orders the entries. Ties go by time, then sequence.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccessSort {
    /// By date and time (7.1.1), then sequence.
    #[default]
    Time,
    /// By client id (7.1.2); entries without a client (account changes)
    /// first.
    Client,
    /// By user id (7.1.7).
    User,
    /// By role name.
    Role,
    /// By action name (7.1.8).
    Action,
    /// By the categories (7.1.9), as stored: sorted names joined by `,`.
    Category,
    /// By where from (7.1.6).
    Source,
    /// By purpose.
    Purpose,
}

impl AccessSort {
    /// Every order.
    pub const ALL: [AccessSort; 8] = [
        AccessSort::Time,
        AccessSort::Client,
        AccessSort::User,
        AccessSort::Role,
        AccessSort::Action,
        AccessSort::Category,
        AccessSort::Source,
        AccessSort::Purpose,
    ];

    /// Every order's name.
    pub const NAMES: [&'static str; 8] = [
        "time", "client", "user", "role", "action", "category", "source", "purpose",
    ];

    /// The order's name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            AccessSort::Time => "time",
            AccessSort::Client => "client",
            AccessSort::User => "user",
            AccessSort::Role => "role",
            AccessSort::Action => "action",
            AccessSort::Category => "category",
            AccessSort::Source => "source",
            AccessSort::Purpose => "purpose",
        }
    }
}

impl FromStr for AccessSort {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, ParseError> {
        Self::ALL
            .into_iter()
            .find(|o| o.as_str() == s)
            .ok_or_else(|| ParseError {
                what: "access log order",
                message: format!("expected one of {}", Self::NAMES.join(", ")),
            })
    }
}

/// Which entries [`list`] returns, and in which order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessQuery {
    /// Only this client's entries.
    pub client: Option<ClientId>,
    /// Only this user's entries (ASTM E2147-18 7.1.7).
    pub user: Option<UserId>,
    /// Only entries on or after this day (a UTC day for [`list`], the
    /// practice's local day for [`list_in_zone`]).
    pub from: Option<NaiveDate>,
    /// Only entries on or before this day (as `from`).
    pub to: Option<NaiveDate>,
    /// The order.
    pub sort: AccessSort,
}

/// One thing [`verify`] found wrong with the access log, at a sequence.
///
/// JSON: `sequence`, `kind` (the snake_case code of kapchart-audit's
/// [`FindingKind`]: `hash_mismatch`, `sequence_gap`, `broken_link`, ...)
/// and the kind's own fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessFinding {
    /// The entry's sequence as stored.
    pub sequence: u64,
    /// What was found.
    #[serde(flatten)]
    pub kind: FindingKind,
}

impl fmt::Display for AccessFinding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "access log sequence {}: {} ({})",
            self.sequence,
            self.kind.code(),
            self.kind
        )
    }
}

/// The last entry of the access log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessHead {
    /// Its sequence.
    pub sequence: u64,
    /// Its stored hash.
    pub hash: String,
}

/// What [`verify`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AccessVerifyReport {
    /// Entries read.
    pub entries: u64,
    /// The last entry (none for an empty log, or when the last is
    /// unreadable). An auditor who keeps it can later tell a truncated
    /// tail, which the chain alone cannot show.
    pub head: Option<AccessHead>,
    /// Every finding, in sequence order.
    pub findings: Vec<AccessFinding>,
}

impl AccessVerifyReport {
    /// True when nothing is wrong.
    #[must_use]
    pub fn is_intact(&self) -> bool {
        self.findings.is_empty()
    }
}

/// A connection inside a transaction that the caller commits.
pub(crate) enum Conn<'c> {
    /// PostgreSQL.
    Postgres(&'c mut PgConnection),
    /// SQLite, in a `BEGIN IMMEDIATE` transaction.
    Sqlite(&'c mut SqliteConnection),
}

/// Appends `entry` to the access log in a transaction of its own and
/// returns it as stored.
///
/// # Errors
/// [`StoreError::Invalid`] naming the field when the entry breaks a rule
/// of [`AccessEntry`] (nothing is written); a store error otherwise.
pub async fn append(db: &Database, entry: &AccessEntry) -> Result<AccessRecord, StoreError> {
    let mut records = append_all(db, std::slice::from_ref(entry)).await?;
    records
        .pop()
        .ok_or_else(|| StoreError::Query("no entry was appended".into()))
}

/// Appends `entries`, in order, in one transaction (a report that shows
/// many clients logs one entry per client, with one commit), and returns
/// them as stored. All or nothing.
///
/// # Errors
/// As [`append`]: an invalid entry writes none of them.
pub async fn append_all(
    db: &Database,
    entries: &[AccessEntry],
) -> Result<Vec<AccessRecord>, StoreError> {
    if entries.is_empty() {
        return Ok(Vec::new());
    }
    let records;
    match db {
        Database::Postgres(pool) => {
            let mut tx = pool.begin().await.map_err(StoreError::query)?;
            records = append_many_in_tx(Conn::Postgres(&mut tx), entries).await?;
            tx.commit().await.map_err(StoreError::query)?;
        }
        Database::Sqlite(pool) => {
            // IMMEDIATE takes the write lock before the head is read, so no
            // other writer can append between the read and the insert.
            let mut tx = pool
                .begin_with("BEGIN IMMEDIATE")
                .await
                .map_err(StoreError::query)?;
            records = append_many_in_tx(Conn::Sqlite(&mut tx), entries).await?;
            tx.commit().await.map_err(StoreError::query)?;
        }
    }
    Ok(records)
}

/// Takes the append lock for the rest of the transaction (PostgreSQL; a
/// SQLite `BEGIN IMMEDIATE` transaction holds the write lock already).
/// Taking it again in the same transaction is harmless.
pub(crate) async fn lock(conn: &mut Conn<'_>) -> Result<(), StoreError> {
    if let Conn::Postgres(c) = conn {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(APPEND_LOCK_KEY)
            .execute(&mut **c)
            .await
            .map_err(StoreError::query)?;
    }
    Ok(())
}

/// Appends `entry` inside the caller's transaction (which must be a
/// `BEGIN IMMEDIATE` one on SQLite): takes the lock, reads the head,
/// inserts. The entry is committed, or not, with the caller's changes.
pub(crate) async fn append_in_tx(
    conn: Conn<'_>,
    entry: &AccessEntry,
) -> Result<AccessRecord, StoreError> {
    append_many_in_tx(conn, std::slice::from_ref(entry))
        .await?
        .pop()
        .ok_or(StoreError::Invalid {
            field: "entries",
            rule: "one entry was appended",
        })
}

/// Rows per `INSERT`: 11 binds each, under SQLite's 32,766.
const ROWS_PER_INSERT: usize = 500;

/// Appends `entries`, in order, inside the caller's transaction (a
/// `BEGIN IMMEDIATE` one on SQLite): every entry is checked first, then
/// the lock is taken and the head read once, the chain extended in
/// memory and the rows written by multi-row inserts, so the time the
/// log is locked does not grow with round trips per entry.
async fn append_many_in_tx(
    mut conn: Conn<'_>,
    entries: &[AccessEntry],
) -> Result<Vec<AccessRecord>, StoreError> {
    let entries: Vec<AccessEntry> = entries.iter().map(normalize).collect::<Result<_, _>>()?;
    lock(&mut conn).await?;
    const HEAD: &str = "SELECT sequence, hash FROM access_log ORDER BY sequence DESC LIMIT 1";
    let head: Option<(i64, String)> = match &mut conn {
        Conn::Postgres(c) => sqlx::query_as(HEAD).fetch_optional(&mut **c).await,
        Conn::Sqlite(c) => sqlx::query_as(HEAD).fetch_optional(&mut **c).await,
    }
    .map_err(StoreError::query)?;
    let (mut sequence, mut prev_hash) = match head {
        None => (0, Hash::ZERO),
        Some((last, hash)) => {
            let unreadable = |reason: &str| StoreError::Unreadable {
                table: "access_log",
                key: last.to_string(),
                reason: reason.to_owned(),
            };
            let last = u64::try_from(last).map_err(|_| unreadable("sequence is out of range"))?;
            let prev = Hash::from_hex(&hash)
                .map_err(|_| unreadable("hash is not 64 lowercase hex digits"))?;
            (last, prev)
        }
    };
    let full = || StoreError::Invalid {
        field: "sequence",
        rule: "the access log is full",
    };
    let mut records = Vec::with_capacity(entries.len());
    for entry in entries {
        sequence = sequence
            .checked_add(1)
            .filter(|s| i64::try_from(*s).is_ok())
            .ok_or_else(full)?;
        let mut record = AccessRecord {
            sequence,
            entry,
            prev_hash: prev_hash.to_hex(),
            hash: String::new(),
        };
        let hash = hash_of(&record.to_hashed_json())?;
        record.hash = hash.to_hex();
        prev_hash = hash;
        records.push(record);
    }
    for chunk in records.chunks(ROWS_PER_INSERT) {
        match &mut conn {
            Conn::Postgres(c) => insert_rows::<sqlx::Postgres>(chunk)?
                .build()
                .execute(&mut **c)
                .await
                .map(|_| ()),
            Conn::Sqlite(c) => insert_rows::<sqlx::Sqlite>(chunk)?
                .build()
                .execute(&mut **c)
                .await
                .map(|_| ()),
        }
        .map_err(StoreError::query)?;
    }
    Ok(records)
}

/// One `INSERT` of `records` into the access log.
fn insert_rows<'a, DB>(
    records: &'a [AccessRecord],
) -> Result<sqlx::QueryBuilder<'a, DB>, StoreError>
where
    DB: sqlx::Database,
    i64: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    String: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    &'a str: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    Option<&'a str>: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    let mut rows = Vec::with_capacity(records.len());
    for record in records {
        let seq = i64::try_from(record.sequence).map_err(|_| StoreError::Invalid {
            field: "sequence",
            rule: "the access log is full",
        })?;
        rows.push((seq, record));
    }
    let mut insert = sqlx::QueryBuilder::new(
        "INSERT INTO access_log (sequence, at, user_id, role, action, \
         client_id, categories, source, purpose, prev_hash, hash) ",
    );
    insert.push_values(rows, |mut row, (seq, record)| {
        let e = &record.entry;
        row.push_bind(seq)
            .push_bind(timestamp(e.at))
            .push_bind(e.actor.user_id.as_str())
            .push_bind(e.actor.role.as_str())
            .push_bind(e.action.as_str())
            .push_bind(e.client_id.as_ref().map(ClientId::as_str))
            .push_bind(joined_categories(&e.categories))
            .push_bind(e.source.as_str())
            .push_bind(e.purpose.as_str())
            .push_bind(record.prev_hash.as_str())
            .push_bind(record.hash.as_str());
    });
    Ok(insert)
}

/// The first instant of local day `day` in `zone`: its midnight, or the
/// first hour that exists when the clocks skip midnight.
fn day_start(day: NaiveDate, zone: TimeZoneName) -> DateTime<Utc> {
    let midnight = day.and_time(chrono::NaiveTime::MIN);
    (0..=3)
        .find_map(|h| {
            zone.tz()
                .from_local_datetime(&(midnight + chrono::Duration::hours(h)))
                .earliest()
        })
        .map_or_else(|| midnight.and_utc(), |t| t.with_timezone(&Utc))
}

/// The entries `q` asks for, in its order.
///
/// # Errors
/// [`StoreError::Unreadable`] naming the sequence and column of a stored
/// row that cannot be read back; a store error otherwise.
pub async fn list(db: &Database, q: &AccessQuery) -> Result<Vec<AccessRecord>, StoreError> {
    list_in_zone(db, q, TimeZoneName::UTC).await
}

/// [`list`], with `from` and `to` the practice's local days in `zone`:
/// the entries from local midnight of `from` to local midnight after `to`.
///
/// # Errors
/// As [`list`].
pub async fn list_in_zone(
    db: &Database,
    q: &AccessQuery,
    zone: TimeZoneName,
) -> Result<Vec<AccessRecord>, StoreError> {
    // `at` is RFC 3339 UTC text with microseconds, byte-ordered, so a
    // period's entries are those from the instant its first day begins to
    // the instant the day after its last begins, written the same way.
    let mut conditions: Vec<&str> = Vec::new();
    let mut binds: Vec<String> = Vec::new();
    if let Some(client) = &q.client {
        conditions.push("client_id = ");
        binds.push(client.as_str().to_owned());
    }
    if let Some(user) = &q.user {
        conditions.push("user_id = ");
        binds.push(user.as_str().to_owned());
    }
    if let Some(from) = q.from {
        conditions.push("at >= ");
        binds.push(timestamp(day_start(from, zone)));
    }
    if let Some(after) = q.to.and_then(|d| d.succ_opt()) {
        conditions.push("at < ");
        binds.push(timestamp(day_start(after, zone)));
    }
    let filter = |placeholder: char| -> String {
        if conditions.is_empty() {
            return String::new();
        }
        let parts: Vec<String> = conditions
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c}{placeholder}{}", i + 1))
            .collect();
        format!(" WHERE {}", parts.join(" AND "))
    };
    let rows: Vec<AccessRow> = match db {
        Database::Postgres(pool) => {
            let sql = format!(
                "SELECT {COLUMNS} FROM access_log{} ORDER BY sequence",
                filter('$')
            );
            let mut query = sqlx::query_as(&sql);
            for b in &binds {
                query = query.bind(b);
            }
            query.fetch_all(pool).await
        }
        Database::Sqlite(pool) => {
            let sql = format!(
                "SELECT {COLUMNS} FROM access_log{} ORDER BY sequence",
                filter('?')
            );
            let mut query = sqlx::query_as(&sql);
            for b in &binds {
                query = query.bind(b);
            }
            query.fetch_all(pool).await
        }
    }
    .map_err(StoreError::query)?;
    let mut records = rows
        .into_iter()
        .map(AccessRow::decode)
        .collect::<Result<Vec<_>, _>>()?;
    sort(&mut records, q.sort);
    Ok(records)
}

/// Sorts `records` by `order`; ties by time, then sequence.
pub fn sort(records: &mut [AccessRecord], order: AccessSort) {
    fn categories(r: &AccessRecord) -> String {
        joined_categories(&r.entry.categories)
    }
    let key = |a: &AccessRecord, b: &AccessRecord| -> Ordering {
        let (x, y) = (&a.entry, &b.entry);
        match order {
            AccessSort::Time => Ordering::Equal,
            AccessSort::Client => x
                .client_id
                .as_ref()
                .map(ClientId::as_str)
                .cmp(&y.client_id.as_ref().map(ClientId::as_str)),
            AccessSort::User => x.actor.user_id.as_str().cmp(y.actor.user_id.as_str()),
            AccessSort::Role => x.actor.role.as_str().cmp(y.actor.role.as_str()),
            AccessSort::Action => x.action.as_str().cmp(y.action.as_str()),
            AccessSort::Category => categories(a).cmp(&categories(b)),
            AccessSort::Source => x.source.cmp(&y.source),
            AccessSort::Purpose => x.purpose.cmp(&y.purpose),
        }
    };
    records.sort_by(|a, b| {
        key(a, b)
            .then(a.entry.at.cmp(&b.entry.at))
            .then(a.sequence.cmp(&b.sequence))
    });
}

/// Recomputes the whole access log's chain, streaming it in sequence
/// order: each entry's hash against its stored fields (`hash_mismatch`:
/// a changed entry), genesis at sequence 1 (`first_not_genesis`), each
/// sequence against the one before (`sequence_gap`: deleted entries;
/// `sequence_not_increasing`), each `prev_hash` against the previous
/// entry's hash (`broken_link`: a deleted, inserted or reordered entry),
/// and rows that cannot be read (`malformed_row`). Each finding names the
/// sequence.
///
/// # Errors
/// A store error (the database could not be read).
pub async fn verify(db: &Database) -> Result<AccessVerifyReport, StoreError> {
    let mut verifier = ChainVerifier::new(CHAIN, CHAIN);
    let mut report = AccessVerifyReport::default();
    let mut push = |row: AccessRow| {
        let found = match row.hashed() {
            Ok((sequence, prev_hash, stored, computed)) => {
                verifier.push_hashed(CHAIN, CHAIN, sequence, prev_hash, stored, computed)
            }
            Err((sequence, reason)) => verifier.push_unreadable(sequence, &reason),
        };
        report
            .findings
            .extend(found.into_iter().map(access_finding));
    };
    let sql = format!("SELECT {COLUMNS} FROM access_log ORDER BY sequence");
    match db {
        Database::Postgres(pool) => {
            let mut rows = sqlx::query_as::<_, AccessRow>(&sql).fetch(pool);
            while let Some(row) = rows.try_next().await.map_err(StoreError::query)? {
                push(row);
            }
        }
        Database::Sqlite(pool) => {
            let mut rows = sqlx::query_as::<_, AccessRow>(&sql).fetch(pool);
            while let Some(row) = rows.try_next().await.map_err(StoreError::query)? {
                push(row);
            }
        }
    }
    let end = verifier.finish();
    report
        .findings
        .extend(end.findings.into_iter().map(access_finding));
    report.entries = end.rows;
    report.head = end.head.map(|h| AccessHead {
        sequence: h.sequence,
        hash: h.hash.to_hex(),
    });
    Ok(report)
}

/// The name the chain goes by inside [`ChainVerifier`] (findings drop it).
const CHAIN: &str = "access_log";

fn access_finding(f: Finding) -> AccessFinding {
    AccessFinding {
        sequence: f.sequence,
        kind: f.kind,
    }
}

/// The columns of [`AccessRow`].
const COLUMNS: &str = "sequence, at, user_id, role, action, client_id, categories, source, \
     purpose, prev_hash, hash";

/// A stored row as text, before any parsing.
#[derive(sqlx::FromRow)]
struct AccessRow {
    sequence: i64,
    at: String,
    user_id: String,
    role: String,
    action: String,
    client_id: Option<String>,
    categories: String,
    source: String,
    purpose: String,
    prev_hash: String,
    hash: String,
}

impl AccessRow {
    /// The row's sequence, its hashes as stored, and its hash computed from
    /// the stored text exactly as it is; or the sequence and why the row
    /// cannot be checked (a column named, never its value).
    #[allow(clippy::type_complexity)]
    fn hashed(
        &self,
    ) -> Result<(u64, Hash, Hash, Result<Hash, kapchart_audit::AuditError>), (u64, String)> {
        let sequence =
            u64::try_from(self.sequence).map_err(|_| (0, "sequence is negative".to_owned()))?;
        let hex = |text: &str, column: &str| {
            Hash::from_hex(text)
                .map_err(|_| (sequence, format!("{column} is not 64 lowercase hex digits")))
        };
        let prev_hash = hex(&self.prev_hash, "prev_hash")?;
        let stored = hex(&self.hash, "hash")?;
        let categories: Vec<&str> = self.categories.split(',').collect();
        let value = hashed_json(&Fields {
            sequence,
            at: &self.at,
            user_id: &self.user_id,
            role: &self.role,
            action: &self.action,
            client_id: self.client_id.as_deref(),
            categories: &categories,
            source: &self.source,
            purpose: &self.purpose,
            prev_hash: &self.prev_hash,
        });
        let computed = canonical_json(&value).map(|bytes| Hash::sha256(&bytes));
        Ok((sequence, prev_hash, stored, computed))
    }

    fn decode(self) -> Result<AccessRecord, StoreError> {
        let key = self.sequence.to_string();
        let unreadable = |reason: &str| StoreError::Unreadable {
            table: "access_log",
            key: key.clone(),
            reason: reason.to_owned(),
        };
        let sequence =
            u64::try_from(self.sequence).map_err(|_| unreadable("sequence is negative"))?;
        let at = DateTime::parse_from_rfc3339(&self.at)
            .map_err(|_| unreadable("at is not an RFC 3339 time"))?
            .with_timezone(&Utc);
        let user_id =
            UserId::parse(&self.user_id).map_err(|_| unreadable("user_id is not a user id"))?;
        let role: Role = self
            .role
            .parse()
            .map_err(|_| unreadable("role is not a role"))?;
        let action: AccessAction = self
            .action
            .parse()
            .map_err(|_| unreadable("action is not an access action"))?;
        let client_id = self
            .client_id
            .as_deref()
            .map(ClientId::parse)
            .transpose()
            .map_err(|_| unreadable("client_id is not a client id"))?;
        let categories = self
            .categories
            .split(',')
            .map(DataCategory::from_str)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| unreadable("categories are not data categories"))?;
        Ok(AccessRecord {
            sequence,
            entry: AccessEntry {
                at,
                actor: AccessActor { user_id, role },
                action,
                client_id,
                categories,
                source: self.source,
                purpose: self.purpose,
            },
            prev_hash: self.prev_hash,
            hash: self.hash,
        })
    }
}

/// The hashed fields, as text.
struct Fields<'a> {
    sequence: u64,
    at: &'a str,
    user_id: &'a str,
    role: &'a str,
    action: &'a str,
    client_id: Option<&'a str>,
    categories: &'a [&'a str],
    source: &'a str,
    purpose: &'a str,
    prev_hash: &'a str,
}

fn hashed_json(f: &Fields<'_>) -> Value {
    json!({
        "sequence": f.sequence,
        "at": f.at,
        "user_id": f.user_id,
        "role": f.role,
        "action": f.action,
        "client_id": f.client_id,
        "categories": f.categories,
        "source": f.source,
        "purpose": f.purpose,
        "prev_hash": f.prev_hash,
    })
}

fn hash_of(value: &Value) -> Result<Hash, StoreError> {
    canonical_json(value)
        .map(|bytes| Hash::sha256(&bytes))
        .map_err(|e| StoreError::Query(format!("an access log entry cannot be hashed: {e}")))
}

/// RFC 3339 in UTC with microseconds, as stored and hashed.
pub(crate) fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// The sorted names joined by `,`, as stored.
fn joined_categories(categories: &[DataCategory]) -> String {
    let mut names: Vec<&str> = categories.iter().map(|c| c.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    names.join(",")
}

/// Checks the rules of [`AccessEntry`] and returns the entry as it will be
/// stored: time to the microsecond, categories sorted by name, each once.
fn normalize(entry: &AccessEntry) -> Result<AccessEntry, StoreError> {
    fn text(field: &'static str, value: &str, max: usize) -> Result<(), StoreError> {
        if value.trim().is_empty() {
            return Err(StoreError::Invalid {
                field,
                rule: "is required and may not be blank",
            });
        }
        if value.chars().count() > max || value.chars().any(char::is_control) {
            return Err(StoreError::Invalid {
                field,
                rule: if field == "purpose" {
                    "must be at most 200 characters, with no control characters"
                } else {
                    "must be at most 500 characters, with no control characters"
                },
            });
        }
        Ok(())
    }
    text("source", &entry.source, MAX_SOURCE_CHARS)?;
    text("purpose", &entry.purpose, MAX_PURPOSE_CHARS)?;
    if entry.categories.is_empty() {
        return Err(StoreError::Invalid {
            field: "categories",
            rule: "at least one category of data is required",
        });
    }
    let at = entry.at.trunc_subsecs(6);
    if !(0..=9999).contains(&at.year()) {
        return Err(StoreError::Invalid {
            field: "at",
            rule: "the year must be 0000 to 9999",
        });
    }
    let mut categories = entry.categories.clone();
    categories.sort_unstable_by_key(|c| c.as_str());
    categories.dedup();
    Ok(AccessEntry {
        at,
        categories,
        ..entry.clone()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> AccessRecord {
        AccessRecord {
            sequence: 1,
            entry: AccessEntry {
                at: DateTime::parse_from_rfc3339("2026-01-05T20:00:00.123456Z")
                    .expect("time")
                    .with_timezone(&Utc),
                actor: AccessActor {
                    user_id: UserId::parse("t-0001").expect("id"),
                    role: Role::Therapist,
                },
                action: AccessAction::Query,
                client_id: Some(ClientId::parse("c-1").expect("id")),
                categories: vec![DataCategory::Dosing, DataCategory::Notes],
                source: "api GET /api/v1/clients/c-1/chart from 127.0.0.1".into(),
                purpose: "treatment".into(),
            },
            prev_hash: Hash::ZERO.to_hex(),
            hash: String::new(),
        }
    }

    #[test]
    fn the_hashed_object_has_exactly_the_documented_keys_in_canonical_form() {
        let value = record().to_hashed_json();
        let bytes = canonical_json(&value).expect("canonical");
        assert_eq!(
            String::from_utf8(bytes).expect("utf-8"),
            format!(
                "{{\"action\":\"query\",\"at\":\"2026-01-05T20:00:00.123456Z\",\
                 \"categories\":[\"dosing\",\"notes\"],\"client_id\":\"c-1\",\
                 \"prev_hash\":\"{}\",\"purpose\":\"treatment\",\"role\":\"therapist\",\
                 \"sequence\":1,\"source\":\"api GET /api/v1/clients/c-1/chart from 127.0.0.1\",\
                 \"user_id\":\"t-0001\"}}",
                "0".repeat(64)
            )
        );
        // The worked example of docs/access-log.md.
        assert_eq!(
            hash_of(&value).expect("hashes").to_hex(),
            "03f7a03e68f1c41792708ed834f98501267ef3ab02077ef8855f0daac40a8b90"
        );
        let mut none = record();
        none.entry.client_id = None;
        assert_eq!(none.to_hashed_json()["client_id"], Value::Null);
    }

    #[test]
    fn names_round_trip() {
        for a in AccessAction::ALL {
            assert_eq!(a.as_str().parse::<AccessAction>(), Ok(a));
            assert_eq!(serde_json::to_value(a).expect("json"), json!(a.as_str()));
        }
        for c in DataCategory::ALL {
            assert_eq!(c.as_str().parse::<DataCategory>(), Ok(c));
            assert_eq!(serde_json::to_value(c).expect("json"), json!(c.as_str()));
        }
        for o in AccessSort::ALL {
            assert_eq!(o.as_str().parse::<AccessSort>(), Ok(o));
        }
        assert_eq!(
            AccessAction::NAMES,
            AccessAction::ALL.map(AccessAction::as_str)
        );
        assert_eq!(
            DataCategory::NAMES,
            DataCategory::ALL.map(DataCategory::as_str)
        );
        assert_eq!(AccessSort::NAMES, AccessSort::ALL.map(AccessSort::as_str));
        assert!("read".parse::<AccessAction>().is_err());
    }

    #[test]
    fn entries_are_checked_and_normalized() {
        let mut e = record().entry;
        e.at += chrono::Duration::nanoseconds(789);
        e.categories = vec![
            DataCategory::Notes,
            DataCategory::Billing,
            DataCategory::Notes,
        ];
        let n = normalize(&e).expect("valid");
        assert_eq!(timestamp(n.at), "2026-01-05T20:00:00.123456Z");
        assert_eq!(n.categories, [DataCategory::Billing, DataCategory::Notes]);
        for (field, change) in [
            (
                "purpose",
                (|e: &mut AccessEntry| e.purpose = " ".into()) as fn(&mut AccessEntry),
            ),
            ("purpose", |e| e.purpose = "a\nb".into()),
            ("purpose", |e| e.purpose = "p".repeat(201)),
            ("source", |e| e.source = String::new()),
            ("categories", |e| e.categories.clear()),
        ] {
            let mut bad = record().entry;
            change(&mut bad);
            match normalize(&bad) {
                Err(StoreError::Invalid { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{field}: {other:?}"),
            }
        }
    }

    #[test]
    fn the_lock_key_is_fixed() {
        assert_eq!(APPEND_LOCK_KEY, 0x6b63_6163_6365_7373);
    }
}
