//! The checkpoint signing keys: the private key in a file outside the
//! database, the public keys published in the table `signing_keys` so
//! that every checkpoint stays verifiable after the key is rotated.
//!
//! - **The key file** holds the 32-byte Ed25519 secret as 64 lowercase
//!   hex digits and a newline, readable by its owner only (0600). It is
//!   created on first use ([`load_or_create_key_file`]); a file that
//!   others may read is made private when read.
//! - **Published keys** ([`PublishedKey`]): one row per key, numbered in
//!   the order they came into use, each with the time it came into use.
//!   A key is in use until the next one's `in_use_from`. Each row's
//!   [`statement`](PublishedKey::statement) (canonical JSON of its
//!   columns) is signed by the key itself and, from the second key on, by
//!   the key before it: the old key hands over to the new one, and the
//!   new one names the old, so trust in either extends to the other
//!   ([`trusted_keys`]).
//! - **Rotation** ([`rotate`]): a new key is generated and written beside
//!   the key file (0600), published (signed by both keys) in one
//!   transaction, then moved over the key file; the old secret is gone,
//!   its public half stays published. The first rotation also publishes
//!   the key it retires, in use since its first checkpoint (a key that
//!   signed nothing is not published).
//!
//! Publication begins with the first rotation: until then every
//! checkpoint is checked under the key stored with it, as before.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use chrono::{DateTime, SecondsFormat, SubsecRound as _, Utc};
use ed25519_dalek::{Signature, Signer as _, SigningKey, Verifier as _, VerifyingKey};
use serde_json::json;

use crate::Database;
use crate::access::{AccessAction, AccessActor};
use crate::accounts::{AccountError, AccountTx};
use crate::audit::{CheckpointFile, load_checkpoints};
use crate::credentials::{sqlite_sql, tx_execute};
use crate::error::StoreError;

/// A published public key.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PublishedKey {
    /// 1 for the first key published, then 2, 3, ...
    pub number: u64,
    /// The Ed25519 public key, 64 lowercase hex digits.
    pub public_key: String,
    /// Its key id: SHA-256 of the public key's bytes (what checkpoint
    /// statements name).
    pub key_id: String,
    /// When it came into use (RFC 3339 UTC, seconds).
    pub in_use_from: String,
    /// When the next key replaced it; `None` for the key in use.
    pub in_use_until: Option<String>,
    /// The key before it; `None` for the first.
    pub previous_key: Option<String>,
    /// The canonical JSON this row's signatures sign.
    pub statement: String,
    /// The key's own signature of the statement (hex).
    pub signature: String,
    /// The previous key's signature of the statement (hex).
    pub previous_signature: Option<String>,
}

/// Why a key file could not be used, or a key not rotated.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The key file could not be read or written (the path is named).
    #[error("the key file {}: {reason}", path.display())]
    File {
        /// Which file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The key file's key is not the published key in use: it was
    /// replaced without a rotation.
    #[error(
        "the key file's key ({key_id}) is not the published key in use; rotate keys with `kapchart checkpoint --rotate-key`, never by replacing the key file"
    )]
    NotCurrent {
        /// The key file's key id.
        key_id: String,
    },
    /// The new key's time is before the current key's or the latest
    /// checkpoint's (the clock went back, or a checkpoint was taken
    /// meanwhile): try again.
    #[error(
        "a new key cannot come into use before {0}, the time of the key in use or of the latest checkpoint; try again"
    )]
    TooEarly(String),
    /// Only an admin rotates keys.
    #[error("only an admin may rotate the signing key")]
    NotAdmin,
    /// The operating system gave no randomness.
    #[error("no randomness for a new key: {0}")]
    Random(String),
    /// A store error.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Reads the secret key, or `None` if the file does not exist. A key
/// file that others may read or write is made the owner's alone (a
/// warning is logged).
///
/// # Errors
/// [`KeyError::File`] when it cannot be read, does not hold 64 hex digits
/// or cannot be made private.
pub fn load_key_file(path: &Path) -> Result<Option<[u8; 32]>, KeyError> {
    let failed = |reason: String| KeyError::File {
        path: path.to_owned(),
        reason,
    };
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(failed(e.to_string())),
    };
    let Some(key) = parse_secret(&text) else {
        return Err(failed("does not hold 64 hex digits".into()));
    };
    if crate::private_file::restrict(path).map_err(|e| failed(format!("making it private: {e}")))? {
        tracing::warn!(
            path = %path.display(),
            "the key file was readable or writable by others; it is now 0600"
        );
    }
    Ok(Some(key))
}

/// Reads the secret key, creating the file (0600) with a new random key
/// when it does not exist.
///
/// # Errors
/// As [`load_key_file`]; [`KeyError::Random`].
pub fn load_or_create_key_file(path: &Path) -> Result<[u8; 32], KeyError> {
    if let Some(key) = load_key_file(path)? {
        return Ok(key);
    }
    let key = new_secret()?;
    write_new_key_file(path, &key)?;
    tracing::info!(path = %path.display(), "created a new checkpoint signing key");
    Ok(key)
}

fn parse_secret(text: &str) -> Option<[u8; 32]> {
    let bytes = hex::decode(text.trim()).ok().filter(|b| b.len() == 32)?;
    let mut key = [0_u8; 32];
    key.copy_from_slice(&bytes);
    Some(key)
}

fn new_secret() -> Result<[u8; 32], KeyError> {
    let mut key = [0_u8; 32];
    getrandom::fill(&mut key).map_err(|e| KeyError::Random(e.to_string()))?;
    Ok(key)
}

/// Writes `key` to a file that must not exist yet, mode 0600.
fn write_new_key_file(path: &Path, key: &[u8; 32]) -> Result<(), KeyError> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let failed = |e: std::io::Error| KeyError::File {
        path: path.to_owned(),
        reason: e.to_string(),
    };
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(crate::private_file::PRIVATE_MODE)
        .open(path)
        .map_err(failed)?;
    writeln!(file, "{}", hex::encode(key))
        .and_then(|()| file.sync_all())
        .map_err(failed)
}

/// The hex public key of a secret key.
#[must_use]
pub fn public_hex(secret: &[u8; 32]) -> String {
    hex::encode(kapchart_audit::public_key_of(secret))
}

/// Every published key, in the order they came into use.
///
/// # Errors
/// A store error; [`StoreError::Unreadable`] for a row that cannot be read.
pub async fn published(db: &Database) -> Result<Vec<PublishedKey>, StoreError> {
    const SQL: &str = "SELECT number, public_key, key_id, in_use_from, previous_key, statement, \
                       signature, previous_signature FROM signing_keys ORDER BY number";
    type Row = (
        i64,
        String,
        String,
        String,
        Option<String>,
        String,
        String,
        Option<String>,
    );
    let rows: Vec<Row> = match db {
        Database::Postgres(pool) => sqlx::query_as(SQL).fetch_all(pool).await,
        Database::Sqlite(pool) => sqlx::query_as(SQL).fetch_all(pool).await,
    }
    .map_err(StoreError::query)?;
    let mut keys = rows
        .into_iter()
        .map(|r| {
            Ok(PublishedKey {
                number: u64::try_from(r.0).map_err(|_| StoreError::Unreadable {
                    table: "signing_keys",
                    key: r.0.to_string(),
                    reason: "number is negative".into(),
                })?,
                public_key: r.1,
                key_id: r.2,
                in_use_from: r.3,
                in_use_until: None,
                previous_key: r.4,
                statement: r.5,
                signature: r.6,
                previous_signature: r.7,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let froms: Vec<String> = keys.iter().map(|k| k.in_use_from.clone()).collect();
    for (i, key) in keys.iter_mut().enumerate() {
        key.in_use_until = froms.get(i + 1).cloned();
    }
    Ok(keys)
}

/// The canonical JSON a key's row signs.
fn statement_of(
    number: u64,
    public_key: &str,
    in_use_from: &str,
    previous_key: Option<&str>,
) -> Result<String, StoreError> {
    let key_bytes = kapchart_audit::parse_public_key(public_key)
        .map_err(|e| StoreError::Query(format!("public key: {e}")))?;
    let value = json!({
        "number": number,
        "public_key": public_key,
        "key_id": kapchart_audit::key_id(&key_bytes),
        "in_use_from": in_use_from,
        "previous_key": previous_key,
    });
    let bytes = kapchart_audit::canonical_json(&value)
        .map_err(|e| StoreError::Query(format!("canonical key statement: {e}")))?;
    String::from_utf8(bytes).map_err(|e| StoreError::Query(e.to_string()))
}

/// A row for the key `secret`, signed by it and by `previous` (its
/// secret), which it follows.
fn row_for(
    number: u64,
    secret: &[u8; 32],
    in_use_from: &str,
    previous: Option<&[u8; 32]>,
) -> Result<PublishedKey, StoreError> {
    let public_key = public_hex(secret);
    let previous_key = previous.map(public_hex);
    let statement = statement_of(number, &public_key, in_use_from, previous_key.as_deref())?;
    let sign = |s: &[u8; 32]| {
        hex::encode(
            SigningKey::from_bytes(s)
                .sign(statement.as_bytes())
                .to_bytes(),
        )
    };
    Ok(PublishedKey {
        number,
        key_id: kapchart_audit::key_id(&kapchart_audit::public_key_of(secret)),
        public_key,
        in_use_from: in_use_from.to_owned(),
        in_use_until: None,
        signature: sign(secret),
        previous_signature: previous.map(sign),
        previous_key,
        statement,
    })
}

/// Checks a published row: its statement is the canonical JSON of its
/// columns, signed by its key and (after the first) by `previous`, the
/// row before. The problems, in words.
#[must_use]
pub fn check_row(key: &PublishedKey, previous: Option<&PublishedKey>) -> Vec<String> {
    let mut problems = Vec::new();
    match statement_of(
        key.number,
        &key.public_key,
        &key.in_use_from,
        key.previous_key.as_deref(),
    ) {
        Ok(s) if s == key.statement => {}
        Ok(_) => problems.push("its statement is not the canonical JSON of its columns".into()),
        Err(e) => problems.push(e.to_string()),
    }
    if parse_time(&key.in_use_from).is_none() {
        problems.push("in_use_from is not an RFC 3339 UTC time".into());
    }
    if !signed_by(&key.statement, &key.signature, &key.public_key) {
        problems.push("its own signature does not verify".into());
    }
    match previous {
        None if key.previous_key.is_some() || key.previous_signature.is_some() => {
            problems.push("the first key names a previous key".into());
        }
        None => {}
        Some(p) => {
            if key.previous_key.as_deref() != Some(p.public_key.as_str()) {
                problems.push("previous_key is not the key before it".into());
            }
            let handed = key
                .previous_signature
                .as_deref()
                .is_some_and(|s| signed_by(&key.statement, s, &p.public_key));
            if !handed {
                problems.push("the previous key's signature does not verify".into());
            }
            if parse_time(&key.in_use_from) < parse_time(&p.in_use_from) {
                problems.push("in_use_from is before the previous key's".into());
            }
        }
    }
    problems
}

fn signed_by(statement: &str, signature: &str, public_key: &str) -> bool {
    let Ok(key) = kapchart_audit::parse_public_key(public_key) else {
        return false;
    };
    let Ok(verifying) = VerifyingKey::from_bytes(&key) else {
        return false;
    };
    let mut bytes = [0_u8; 64];
    if signature.len() != 128 || hex::decode_to_slice(signature, &mut bytes).is_err() {
        return false;
    }
    verifying
        .verify(statement.as_bytes(), &Signature::from_bytes(&bytes))
        .is_ok()
}

/// The published keys trusted given the trusted key `anchor`: the anchor
/// itself and, along the published rows whose signatures verify, each key
/// a trusted key handed over to (the old key's signature on the new row)
/// and each key a trusted key names as the one before it (its own
/// signature on its row).
#[must_use]
pub fn trusted_keys(keys: &[PublishedKey], anchor: &str) -> Vec<String> {
    let mut trusted = vec![anchor.to_owned()];
    let valid: Vec<bool> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| check_row(k, i.checked_sub(1).and_then(|p| keys.get(p))).is_empty())
        .collect();
    loop {
        let before = trusted.len();
        for (i, key) in keys.iter().enumerate() {
            if !valid[i] {
                continue;
            }
            let Some(previous) = i.checked_sub(1).and_then(|p| keys.get(p)) else {
                continue;
            };
            let new_trusted = trusted.contains(&key.public_key);
            let old_trusted = trusted.contains(&previous.public_key);
            if new_trusted && !old_trusted {
                trusted.push(previous.public_key.clone());
            } else if old_trusted && !new_trusted {
                trusted.push(key.public_key.clone());
            }
        }
        if trusted.len() == before {
            return trusted;
        }
    }
}

/// The published key that was in use at `issued_at`, if keys are
/// published and `issued_at` is not before the first; at the instant of
/// a rotation both keys qualify and the later is returned, so check
/// [`in_use_at`] for a given key.
#[must_use]
pub fn key_in_use_at<'a>(keys: &'a [PublishedKey], issued_at: &str) -> Option<&'a PublishedKey> {
    let at = parse_time(issued_at)?;
    keys.iter()
        .rev()
        .find(|k| parse_time(&k.in_use_from).is_some_and(|from| from <= at))
}

/// True when `key` was in use at `issued_at` (its bounds included).
#[must_use]
pub fn in_use_at(key: &PublishedKey, issued_at: &str) -> bool {
    let Some(at) = parse_time(issued_at) else {
        return false;
    };
    let from_ok = parse_time(&key.in_use_from).is_some_and(|from| from <= at);
    let until_ok = key
        .in_use_until
        .as_deref()
        .is_none_or(|until| parse_time(until).is_some_and(|until| at <= until));
    from_ok && until_ok
}

fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .filter(|t| t.offset().local_minus_utc() == 0)
        .map(|t| t.with_timezone(&Utc))
}

/// `at` as published keys and checkpoints write it: RFC 3339 UTC, seconds.
#[must_use]
pub fn time_text(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Refuses a checkpoint signed with `secret` once keys are published and
/// it is not the published key in use.
///
/// # Errors
/// [`KeyError::NotCurrent`]; a store error.
pub async fn check_current(db: &Database, secret: &[u8; 32]) -> Result<(), KeyError> {
    let keys = published(db).await?;
    match keys.last() {
        Some(last) if last.public_key != public_hex(secret) => Err(KeyError::NotCurrent {
            key_id: kapchart_audit::key_id(&kapchart_audit::public_key_of(secret)),
        }),
        _ => Ok(()),
    }
}

/// [`check_current`] inside an account transaction (which holds the lock
/// rotations take).
pub(crate) async fn check_current_in(
    tx: &mut AccountTx,
    secret: &[u8; 32],
) -> Result<(), KeyError> {
    const SQL: &str = "SELECT public_key FROM signing_keys ORDER BY number DESC LIMIT 1";
    let current: Option<(String,)> = match tx {
        AccountTx::Postgres(tx) => sqlx::query_as(SQL).fetch_optional(&mut **tx).await,
        AccountTx::Sqlite(tx) => sqlx::query_as(SQL).fetch_optional(&mut **tx).await,
    }
    .map_err(StoreError::query)?;
    match current {
        Some((key,)) if key != public_hex(secret) => Err(KeyError::NotCurrent {
            key_id: kapchart_audit::key_id(&kapchart_audit::public_key_of(secret)),
        }),
        _ => Ok(()),
    }
}

/// The `issued_at` of the latest checkpoint, inside an account
/// transaction.
async fn latest_checkpoint_time(tx: &mut AccountTx) -> Result<Option<String>, StoreError> {
    let row: Option<(String,)> = match tx {
        AccountTx::Postgres(tx) => {
            sqlx::query_as("SELECT statement::text FROM checkpoints ORDER BY number DESC LIMIT 1")
                .fetch_optional(&mut **tx)
                .await
        }
        AccountTx::Sqlite(tx) => {
            sqlx::query_as("SELECT statement FROM checkpoints ORDER BY number DESC LIMIT 1")
                .fetch_optional(&mut **tx)
                .await
        }
    }
    .map_err(StoreError::query)?;
    Ok(row.and_then(|(text,)| {
        serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v["issued_at"].as_str().map(str::to_owned))
    }))
}

/// What a rotation did.
#[derive(Debug, Clone)]
pub struct Rotation {
    /// The key retired; `None` when the key file's key had signed no
    /// checkpoint (it is not published then).
    pub retired: Option<PublishedKey>,
    /// The key now in use.
    pub current: PublishedKey,
}

/// Rotates the signing key of `key_file` at `at`: a new key is generated
/// and written beside the key file (0600), published with the retiring
/// key's signature and its own, and moved over the key file; the
/// rotation is appended to the access log (by `by`, from `source`) in the
/// transaction that publishes it. On the first
/// rotation the retiring key is published first, in use since its first
/// checkpoint (when it signed none, it is not published). The old secret is then gone;
/// its public half stays published, so its checkpoints still verify.
///
/// # Errors
/// [`KeyError::NotAdmin`] unless `by` is an admin;
/// [`KeyError::NotCurrent`] when the key file's key is not the published
/// key in use; [`KeyError::TooEarly`] when `at` is not after the current
/// key's `in_use_from`; [`KeyError::File`]; a store error (nothing is
/// published then, and the key file is unchanged).
pub async fn rotate(
    db: &Database,
    key_file: &Path,
    by: &AccessActor,
    source: &str,
    at: DateTime<Utc>,
) -> Result<Rotation, KeyError> {
    if by.role != kapchart_domain::Role::Admin {
        return Err(KeyError::NotAdmin);
    }
    let logged_at = at.trunc_subsecs(6);
    let at = time_text(at);
    let old = load_or_create_key_file(key_file)?;
    let keys = published(db).await?;
    let mut rows = Vec::new();
    // The key retired: the published key in use, or on the first rotation
    // the key file's key, published from its first checkpoint (a key that
    // signed nothing needs no publishing).
    let retired = match keys.last() {
        Some(last) if last.public_key != public_hex(&old) => {
            return Err(KeyError::NotCurrent {
                key_id: kapchart_audit::key_id(&kapchart_audit::public_key_of(&old)),
            });
        }
        Some(last) => Some(last.clone()),
        None => {
            let log = load_checkpoints(db).await?;
            match first_signed_by(&log, &public_hex(&old)) {
                Some(since) => {
                    let first = row_for(1, &old, &since, None)?;
                    rows.push(first.clone());
                    Some(first)
                }
                None => None,
            }
        }
    };
    if let Some(r) = &retired
        && parse_time(&at) < parse_time(&r.in_use_from)
    {
        return Err(KeyError::TooEarly(r.in_use_from.clone()));
    }
    let new = new_secret()?;
    let number = retired.as_ref().map_or(1, |r| r.number + 1);
    let previous = retired.as_ref().map(|_| &old);
    let mut current = row_for(number, &new, &at, previous)?;
    rows.push(current.clone());
    let staged = staged_path(key_file)?;
    write_new_key_file(&staged, &new)?;
    let purpose = rotation_purpose(&current);
    if let Err(e) = insert(db, &rows, by, source, &purpose, logged_at).await {
        let _ = std::fs::remove_file(&staged);
        return Err(e);
    }
    std::fs::rename(&staged, key_file).map_err(|e| KeyError::File {
        path: key_file.to_owned(),
        reason: format!(
            "the new key is published but could not replace the key file; it is in {}: {e}",
            staged.display()
        ),
    })?;
    let retired = retired.map(|mut r| {
        r.in_use_until = Some(at);
        r
    });
    current.in_use_until = None;
    Ok(Rotation { retired, current })
}

/// A new file's path beside `key_file`, with a random suffix.
fn staged_path(key_file: &Path) -> Result<PathBuf, KeyError> {
    let mut suffix = [0_u8; 8];
    getrandom::fill(&mut suffix).map_err(|e| KeyError::Random(e.to_string()))?;
    let mut name = key_file
        .file_name()
        .map(std::ffi::OsStr::to_os_string)
        .unwrap_or_default();
    name.push(format!(".new-{}", hex::encode(suffix)));
    Ok(key_file.with_file_name(name))
}

/// The first checkpoint's `issued_at` signed by `public_key`.
fn first_signed_by(log: &[CheckpointFile], public_key: &str) -> Option<String> {
    log.iter()
        .find(|c| c.public_key == public_key)
        .map(|c| c.checkpoint.statement.issued_at.clone())
}

/// Publishes `rows` and appends the rotation to the access log (action
/// `change`, category `accounts`: the practice's signing credential), in
/// one transaction under the access log's lock.
async fn insert(
    db: &Database,
    rows: &[PublishedKey],
    by: &AccessActor,
    source: &str,
    purpose: &str,
    at: DateTime<Utc>,
) -> Result<(), KeyError> {
    let mut tx = AccountTx::begin(db).await?;
    // A checkpoint by the retiring key taken after this rotation began
    // would fall outside its time: the rotation is tried again instead.
    let from = rows
        .last()
        .map(|r| r.in_use_from.as_str())
        .unwrap_or_default();
    if let Some(latest) = latest_checkpoint_time(&mut tx).await?
        && parse_time(&latest) > parse_time(from)
    {
        return Err(KeyError::TooEarly(latest));
    }
    for r in rows {
        let n = i64::try_from(r.number).map_err(|_| StoreError::Query("too many keys".into()))?;
        tx_execute!(
            &mut tx,
            "INSERT INTO signing_keys (number, public_key, key_id, in_use_from, previous_key, \
             statement, signature, previous_signature) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            n,
            &r.public_key,
            &r.key_id,
            &r.in_use_from,
            &r.previous_key,
            &r.statement,
            &r.signature,
            &r.previous_signature,
        )
        .map_err(|e| match e {
            StoreError::Query(m) if m.contains("UNIQUE") || m.contains("unique") => {
                StoreError::Query("another key was published at the same time; try again".into())
            }
            other => other,
        })?;
    }
    tx.log(by, AccessAction::Change, source, purpose, at)
        .await
        .map_err(|e| match e {
            AccountError::Store(e) => e,
            AccountError::Invalid { field, rule } => StoreError::Invalid { field, rule },
            other => StoreError::Query(other.to_string()),
        })?;
    tx.commit().await?;
    Ok(())
}

/// What the access log says of a rotation (ids and numbers only).
#[must_use]
pub fn rotation_purpose(current: &PublishedKey) -> String {
    let retired = match current.number {
        0 | 1 => String::new(),
        n => format!("; key {} retired", n - 1),
    };
    format!(
        "signing keys: rotate to key {} ({}){retired}",
        current.number, current.key_id
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain() -> Vec<PublishedKey> {
        let (a, b, c) = ([1_u8; 32], [2_u8; 32], [3_u8; 32]);
        let mut rows = vec![
            row_for(1, &a, "2026-01-01T00:00:00Z", None).expect("row"),
            row_for(2, &b, "2026-02-01T00:00:00Z", Some(&a)).expect("row"),
            row_for(3, &c, "2026-03-01T00:00:00Z", Some(&b)).expect("row"),
        ];
        rows[0].in_use_until = Some(rows[1].in_use_from.clone());
        rows[1].in_use_until = Some(rows[2].in_use_from.clone());
        rows
    }

    #[test]
    fn a_published_chain_checks_and_extends_trust_both_ways() {
        let rows = chain();
        for (i, row) in rows.iter().enumerate() {
            let previous = i.checked_sub(1).map(|p| &rows[p]);
            assert_eq!(check_row(row, previous), Vec::<String>::new(), "row {i}");
        }
        // Trusting the newest key trusts every older one, and back.
        assert_eq!(trusted_keys(&rows, &rows[2].public_key).len(), 3);
        assert_eq!(trusted_keys(&rows, &rows[0].public_key).len(), 3);
        // An unknown anchor trusts nothing published.
        assert_eq!(trusted_keys(&rows, &"ab".repeat(32)).len(), 1);
        assert!(in_use_at(&rows[0], "2026-01-15T00:00:00Z"));
        assert!(!in_use_at(&rows[0], "2026-02-15T00:00:00Z"));
        assert!(in_use_at(&rows[1], "2026-02-01T00:00:00Z"));
        assert_eq!(
            key_in_use_at(&rows, "2026-03-02T00:00:00Z").map(|k| k.number),
            Some(3)
        );
        assert!(key_in_use_at(&rows, "2025-12-31T00:00:00Z").is_none());
    }

    #[test]
    fn a_forged_row_breaks_the_chain_of_trust() {
        let mut rows = chain();
        // A row re-signed by a stranger's key: the old key never handed over.
        let forged =
            row_for(2, &[9_u8; 32], "2026-02-01T00:00:00Z", Some(&[8_u8; 32])).expect("row");
        rows[1] = PublishedKey {
            previous_key: Some(rows[0].public_key.clone()),
            ..forged
        };
        assert!(!check_row(&rows[1], Some(&rows[0])).is_empty());
        let trusted = trusted_keys(&rows, &rows[2].public_key);
        assert!(!trusted.contains(&rows[0].public_key), "{trusted:?}");
    }
}
