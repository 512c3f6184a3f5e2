//! Verification, checkpoints and one-client bundles over the stored log.
//!
//! The format and the checks are `kapchart-audit`'s (docs/audit-format.md);
//! this module streams the rows to them and keeps the checkpoint log.

use futures_util::TryStreamExt;
use kapchart_audit::{
    AuditError, Bundle, EntryText, Finding, Hash, HeadLeaf, LogVerifier, SignedCheckpoint,
    Statement, StoredEntry, build_bundle, heads_root, public_key_of, verify_heads,
};
use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::Database;
use crate::error::StoreError;
use crate::repo::{RAW_COLUMNS_PG, RAW_COLUMNS_SQLITE, RawText};

/// A checkpoint as `kapchart checkpoint` prints it and an auditor keeps it:
/// the signed statement, the public key, and the head leaves it commits to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckpointFile {
    /// Its number in the checkpoint log (1, 2, ...).
    pub number: u64,
    /// The signed statement.
    pub checkpoint: SignedCheckpoint,
    /// Hex Ed25519 public key.
    pub public_key: String,
    /// Every chain head, in tree order: the leaves of `root_hash`.
    pub heads: Vec<HeadLeaf>,
}

/// Something wrong with a checkpoint rather than with a chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckpointProblem {
    /// Which checkpoint (0 for a checkpoint file that names none).
    pub number: u64,
    /// Where it came from: `file` or `log`.
    pub source: &'static str,
    /// What is wrong.
    pub problem: String,
}

/// What a verification found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct VerifyReport {
    /// Rows read.
    pub rows: u64,
    /// Aggregates (clients) read.
    pub aggregates: u64,
    /// Checkpoints of the log checked.
    pub checkpoints: u64,
    /// Every chain finding: aggregate, sequence and kind.
    pub findings: Vec<Finding>,
    /// Problems with checkpoints (signatures, links, roots).
    pub checkpoint_problems: Vec<CheckpointProblem>,
    /// The current heads, in tree order.
    #[serde(skip)]
    pub heads: Vec<HeadLeaf>,
}

impl VerifyReport {
    /// True when nothing is wrong.
    pub fn is_intact(&self) -> bool {
        self.findings.is_empty() && self.checkpoint_problems.is_empty()
    }
}

/// What to verify.
#[derive(Debug, Clone, Default)]
pub struct VerifyOptions {
    /// Only this client.
    pub client: Option<String>,
    /// A checkpoint kept outside the database to check against (detects a
    /// truncated tail, a removed client and a database rolled back).
    pub checkpoint: Option<CheckpointFile>,
    /// A trusted public key: checkpoints (in the log or the file) signed by
    /// any other key are reported. Without one, each checkpoint is checked
    /// under the key stored with it.
    pub public_key: Option<[u8; 32]>,
}

const AGGREGATE: &str = crate::CLIENT_RECORD;

/// Verifies the log: every chain, the checkpoint log, and the log against a
/// checkpoint (the one given, else the latest in the log). `progress` is
/// called with the number of rows read so far.
///
/// Each row is hashed from its columns borrowed as text
/// ([`EntryText`]): payload and metadata as the store writes them are
/// canonical JSON already and are hashed without being parsed.
pub async fn verify(
    db: &Database,
    options: &VerifyOptions,
    progress: &(dyn Fn(u64) + Send + Sync),
) -> Result<VerifyReport, StoreError> {
    let mut report = VerifyReport::default();
    let log = load_checkpoints(db).await?;
    let keys = crate::signing_keys::published(db).await?;
    check_keys(&keys, &mut report);
    let trusted = Trust::new(options.public_key.as_ref(), &keys);
    check_log(&log, &trusted, &mut report);

    let reference: Option<(&'static str, &CheckpointFile)> = match &options.checkpoint {
        Some(file) => Some(("file", file)),
        None => log.last().map(|c| ("log", c)),
    };
    let mut leaves: Vec<HeadLeaf> = Vec::new();
    if let Some((source, file)) = reference {
        if source == "file" {
            check_file(file, &trusted, &mut report);
            if let Some(stored) = log.iter().find(|c| c.number == file.number)
                && stored.checkpoint != file.checkpoint
            {
                report.checkpoint_problems.push(CheckpointProblem {
                    number: file.number,
                    source: "log",
                    problem: "the log's checkpoint of this number differs from the file".into(),
                });
            }
        }
        leaves = file
            .heads
            .iter()
            .filter(|h| {
                h.aggregate_type == AGGREGATE
                    && options
                        .client
                        .as_deref()
                        .is_none_or(|c| c == h.aggregate_id)
            })
            .cloned()
            .collect();
    }
    let mut verifier = LogVerifier::with_checkpoint(&leaves)
        .map_err(|e| StoreError::Query(format!("checkpoint heads: {e}")))?;

    let mut rows = 0_u64;
    let mut push = |raw: RawText<'_>, report: &mut VerifyReport| -> Result<(), StoreError> {
        rows += 1;
        if rows.is_multiple_of(4096) {
            progress(rows);
        }
        let found = match hash_row(&raw) {
            Some(hashed) => verifier.push_hashed(
                raw.aggregate_type,
                raw.aggregate_id,
                hashed.sequence,
                hashed.prev_hash,
                hashed.stored,
                hashed.computed,
            ),
            // Unreadable: the full decoder names the reason, as it always has.
            None => match raw.to_raw_row().decode() {
                Ok(entry) => verifier.push(&entry),
                Err(failed) => {
                    let (raw, reason) = *failed;
                    verifier.push_unreadable(
                        &raw.aggregate_type,
                        &raw.aggregate_id,
                        raw.sequence_u64(),
                        &reason,
                    )
                }
            },
        }
        .map_err(|e| StoreError::Query(e.to_string()))?;
        report.findings.extend(found);
        Ok(())
    };
    match db {
        Database::Postgres(pool) => {
            let (sql, client) = scan_sql(RAW_COLUMNS_PG, "$1", options.client.as_deref());
            let mut q = sqlx::query(&sql);
            if let Some(c) = client {
                q = q.bind(c);
            }
            let mut stream = q.fetch(pool);
            while let Some(row) = stream.try_next().await.map_err(StoreError::query)? {
                push(
                    RawText::from_row(&row).map_err(StoreError::query)?,
                    &mut report,
                )?;
            }
        }
        Database::Sqlite(pool) => {
            let (sql, client) = scan_sql(RAW_COLUMNS_SQLITE, "?1", options.client.as_deref());
            let mut q = sqlx::query(&sql);
            if let Some(c) = client {
                q = q.bind(c);
            }
            let mut stream = q.fetch(pool);
            while let Some(row) = stream.try_next().await.map_err(StoreError::query)? {
                push(
                    RawText::from_row(&row).map_err(StoreError::query)?,
                    &mut report,
                )?;
            }
        }
    }
    progress(rows);
    let end = verifier.finish();
    report.findings.extend(end.findings);
    report.rows = end.rows;
    report.aggregates = end.aggregates;
    report.heads = end.heads;
    report.checkpoints = log.len() as u64;
    Ok(report)
}

/// A row's hashes as stored and its hash as computed from its text.
struct Hashed {
    sequence: u64,
    prev_hash: Hash,
    stored: Hash,
    computed: Result<Hash, AuditError>,
}

/// Hashes a row from its text, without copying it and, when payload and
/// metadata are canonical (as the store writes them), without parsing
/// them. `None` for a row that cannot be read (negative sequence, a hash
/// that is not hex, JSON that does not parse): [`RawRow::decode`] then
/// names the reason.
///
/// [`RawRow::decode`]: crate::repo::RawRow::decode
fn hash_row(raw: &RawText<'_>) -> Option<Hashed> {
    let sequence = u64::try_from(raw.sequence).ok()?;
    let prev_hash = Hash::from_hex(raw.prev_hash).ok()?;
    let stored = Hash::from_hex(raw.hash).ok()?;
    let computed = EntryText {
        aggregate_type: raw.aggregate_type,
        aggregate_id: raw.aggregate_id,
        sequence,
        event_type: raw.event_type,
        event_version: raw.event_version,
        payload: raw.payload,
        metadata: raw.metadata,
        prev_hash,
    }
    .hash();
    if let Err(AuditError::NotJson { .. }) = computed {
        return None;
    }
    Some(Hashed {
        sequence,
        prev_hash,
        stored,
        computed,
    })
}

fn scan_sql<'a>(columns: &str, param: &str, client: Option<&'a str>) -> (String, Option<&'a str>) {
    let filter = match client {
        Some(_) => format!("WHERE aggregate_type = '{AGGREGATE}' AND aggregate_id = {param}"),
        None => String::new(),
    };
    (
        format!(
            "SELECT {columns} FROM events {filter} ORDER BY aggregate_type, aggregate_id, sequence"
        ),
        client,
    )
}

/// Checks a checkpoint file on its own: its signature under its own key
/// (which must be the trusted key, when one is given) and that its heads
/// make its root.
fn check_file(file: &CheckpointFile, trusted: &Trust<'_>, report: &mut VerifyReport) {
    let mut problem = |text: String| {
        report.checkpoint_problems.push(CheckpointProblem {
            number: file.number,
            source: "file",
            problem: text,
        });
    };
    let key = match kapchart_audit::parse_public_key(&file.public_key) {
        Ok(k) => k,
        Err(e) => {
            problem(format!("public key: {e}"));
            return;
        }
    };
    if let Some(text) = trusted.refuses(&file.public_key, &file.checkpoint.statement.issued_at) {
        problem(text);
    }
    if let Err(e) = file.checkpoint.verify(&key) {
        problem(format!("signature: {e}"));
    }
    if let Err(e) = verify_heads(&file.checkpoint.statement, &file.heads) {
        problem(format!("heads: {e}"));
    }
}

/// Checks the stored checkpoint log: numbers 1..n, each `previous` the
/// hash of the statement before, heads that make the root, and each
/// signature under the key stored with it (keys may be rotated). With a
/// trusted key, checkpoints signed by any other key are reported: whoever
/// can rewrite the database could re-sign the log with a key of their own.
fn check_log(log: &[CheckpointFile], trusted: &Trust<'_>, report: &mut VerifyReport) {
    let mut previous = kapchart_audit::Hash::ZERO;
    for (i, c) in log.iter().enumerate() {
        let mut problem = |text: String| {
            report.checkpoint_problems.push(CheckpointProblem {
                number: c.number,
                source: "log",
                problem: text,
            });
        };
        if c.number != i as u64 + 1 {
            problem(format!("expected checkpoint number {}", i + 1));
        }
        if c.checkpoint.statement.previous != previous {
            problem("previous is not the hash of the checkpoint before".into());
        }
        if let Err(e) = verify_heads(&c.checkpoint.statement, &c.heads) {
            problem(format!("heads: {e}"));
        }
        match kapchart_audit::parse_public_key(&c.public_key) {
            Ok(key) => {
                if let Err(e) = c.checkpoint.verify(&key) {
                    problem(format!("signature: {e}"));
                }
                if let Some(text) =
                    trusted.refuses(&c.public_key, &c.checkpoint.statement.issued_at)
                {
                    problem(text);
                }
            }
            Err(e) => problem(format!("public key: {e}")),
        }
        previous = c
            .checkpoint
            .statement
            .hash()
            .unwrap_or(kapchart_audit::Hash::ZERO);
    }
}

/// Which keys may have signed a checkpoint: the trusted key given (and
/// the published keys its chain of signatures reaches), and, once keys
/// are published, the published key in use when it was issued.
struct Trust<'a> {
    /// The trusted keys (hex), when a trusted key is given.
    anchored: Option<Vec<String>>,
    /// The published keys.
    keys: &'a [crate::signing_keys::PublishedKey],
}

impl<'a> Trust<'a> {
    fn new(anchor: Option<&[u8; 32]>, keys: &'a [crate::signing_keys::PublishedKey]) -> Self {
        Trust {
            anchored: anchor.map(|a| crate::signing_keys::trusted_keys(keys, &hex_key(a))),
            keys,
        }
    }

    /// Why a checkpoint issued at `issued_at` may not be signed by
    /// `public_key` (hex), if it may not.
    fn refuses(&self, public_key: &str, issued_at: &str) -> Option<String> {
        if let Some(trusted) = &self.anchored
            && !trusted.iter().any(|k| k == public_key)
        {
            return Some("signed with a key other than the trusted public key".into());
        }
        // Before the first published key, each checkpoint stands under
        // its own key (keys were replaced, not rotated, then).
        crate::signing_keys::key_in_use_at(self.keys, issued_at)?;
        match self.keys.iter().find(|k| k.public_key == public_key) {
            None => Some("signed with a key that is not published".into()),
            Some(k) if !crate::signing_keys::in_use_at(k, issued_at) => Some(format!(
                "signed with published key {} outside the time it was in use",
                k.number
            )),
            Some(_) => None,
        }
    }
}

/// Checks the published keys: each row's statement, its own signature,
/// and the previous key's signature handing over to it. A problem is
/// reported with the key's number and source `keys`.
fn check_keys(keys: &[crate::signing_keys::PublishedKey], report: &mut VerifyReport) {
    for (i, key) in keys.iter().enumerate() {
        let previous = i.checked_sub(1).and_then(|p| keys.get(p));
        if key.number != i as u64 + 1 {
            report.checkpoint_problems.push(CheckpointProblem {
                number: key.number,
                source: "keys",
                problem: format!("expected published key number {}", i + 1),
            });
        }
        for problem in crate::signing_keys::check_row(key, previous) {
            report.checkpoint_problems.push(CheckpointProblem {
                number: key.number,
                source: "keys",
                problem: format!("published key: {problem}"),
            });
        }
    }
}

/// Every checkpoint of the log, oldest first.
pub async fn load_checkpoints(db: &Database) -> Result<Vec<CheckpointFile>, StoreError> {
    let rows: Vec<(i64, String, String, String, String)> = match db {
        Database::Postgres(pool) => sqlx::query(
            "SELECT number, statement::text AS statement, signature, public_key, \
             heads::text AS heads FROM checkpoints ORDER BY number",
        )
        .fetch_all(pool)
        .await
        .map_err(StoreError::query)?
        .iter()
        .map(|r| {
            Ok((
                r.try_get("number")?,
                r.try_get("statement")?,
                r.try_get("signature")?,
                r.try_get("public_key")?,
                r.try_get("heads")?,
            ))
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(StoreError::query)?,
        Database::Sqlite(pool) => sqlx::query_as(
            "SELECT number, statement, signature, public_key, heads FROM checkpoints \
             ORDER BY number",
        )
        .fetch_all(pool)
        .await
        .map_err(StoreError::query)?,
    };
    rows.into_iter()
        .map(|(number, statement, signature, public_key, heads)| {
            let corrupt = |what: &str| StoreError::Corrupt {
                position: number,
                reason: format!("checkpoint {number}: {what} is unreadable"),
            };
            Ok(CheckpointFile {
                number: u64::try_from(number).map_err(|_| corrupt("number"))?,
                checkpoint: SignedCheckpoint {
                    statement: serde_json::from_str(&statement)
                        .map_err(|_| corrupt("statement"))?,
                    signature,
                },
                public_key,
                heads: serde_json::from_str(&heads).map_err(|_| corrupt("heads"))?,
            })
        })
        .collect()
}

/// Why a checkpoint was not taken.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointRefused {
    /// Keys are published and the signing key is not the one in use.
    #[error(transparent)]
    Key(#[from] crate::signing_keys::KeyError),
    /// The log is not intact: a checkpoint would vouch for tampered rows.
    #[error("the log is not intact ({} findings, {} checkpoint problems): run kapchart verify", .0.findings.len(), .0.checkpoint_problems.len())]
    NotIntact(Box<VerifyReport>),
    /// A store error.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Verifies the log, then signs a checkpoint over every chain head and
/// appends it to the checkpoint log. `issued_at` is RFC 3339 UTC ("now").
pub async fn checkpoint(
    db: &Database,
    secret_key: &[u8; 32],
    issued_at: &str,
) -> Result<CheckpointFile, CheckpointRefused> {
    let public_key = public_key_of(secret_key);
    // Once keys are published, only the key in use signs.
    crate::signing_keys::check_current(db, secret_key).await?;
    // Earlier checkpoints may be signed by earlier keys: each is checked
    // under its own key, so a rotated key does not block new checkpoints.
    let report = verify(db, &VerifyOptions::default(), &|_| {}).await?;
    if !report.is_intact() {
        return Err(CheckpointRefused::NotIntact(Box::new(report)));
    }
    let log = load_checkpoints(db).await?;
    let (number, previous) = match log.last() {
        Some(last) => (
            last.number + 1,
            last.checkpoint
                .statement
                .hash()
                .map_err(|e| StoreError::Query(e.to_string()))?,
        ),
        None => (1, kapchart_audit::Hash::ZERO),
    };
    let heads = report.heads;
    let root = heads_root(&heads).map_err(|e| StoreError::Query(e.to_string()))?;
    let statement = Statement::new(heads.len() as u64, root, issued_at, previous, &public_key)
        .map_err(|e| StoreError::Query(e.to_string()))?;
    let signed = SignedCheckpoint::sign(statement, secret_key)
        .map_err(|e| StoreError::Query(e.to_string()))?;
    let statement_json =
        serde_json::to_string(&signed.statement).map_err(|e| StoreError::Query(e.to_string()))?;
    let heads_json = serde_json::to_string(&heads).map_err(|e| StoreError::Query(e.to_string()))?;
    let n = i64::try_from(number).map_err(|_| StoreError::Query("too many checkpoints".into()))?;
    // Written under the lock rotations take (the access log's), after
    // checking again that this key is still the published key in use: a
    // rotation either comes before (refused here) or after (it then sees
    // this checkpoint's time).
    let mut tx = crate::accounts::AccountTx::begin(db).await?;
    crate::signing_keys::check_current_in(&mut tx, secret_key).await?;
    let inserted = match &mut tx {
        crate::accounts::AccountTx::Postgres(tx) => sqlx::query(
            "INSERT INTO checkpoints (number, statement, signature, public_key, heads) \
                 VALUES ($1, $2::jsonb, $3, $4, $5::jsonb)",
        )
        .bind(n)
        .bind(&statement_json)
        .bind(&signed.signature)
        .bind(hex_key(&public_key))
        .bind(&heads_json)
        .execute(&mut **tx)
        .await
        .map(|_| ()),
        crate::accounts::AccountTx::Sqlite(tx) => sqlx::query(
            "INSERT INTO checkpoints (number, statement, signature, public_key, heads) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .bind(n)
        .bind(&statement_json)
        .bind(&signed.signature)
        .bind(hex_key(&public_key))
        .bind(&heads_json)
        .execute(&mut **tx)
        .await
        .map(|_| ()),
    };
    inserted.map_err(|e| match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            StoreError::Query("another checkpoint was taken at the same time; try again".into())
        }
        _ => StoreError::query(e),
    })?;
    tx.commit().await?;
    Ok(CheckpointFile {
        number,
        checkpoint: signed,
        public_key: hex_key(&public_key),
        heads,
    })
}

fn hex_key(key: &[u8; 32]) -> String {
    key.iter().map(|b| format!("{b:02x}")).collect()
}

/// Why a bundle could not be exported.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// No such client.
    #[error("no client with that id")]
    UnknownClient,
    /// No checkpoint of the log holds the client's chain yet.
    #[error("no checkpoint holds this client's record yet")]
    NotCheckpointed,
    /// A checkpoint was needed and could not be taken.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointRefused),
    /// The bundle failed its own verification.
    #[error("the bundle does not verify: {0}")]
    Bundle(#[from] kapchart_audit::BundleError),
    /// A store error.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The one-client bundle: the client's entries up to its head in the latest
/// checkpoint, with the inclusion proof. When the latest checkpoint does not
/// hold the client's current head, a new checkpoint is taken first.
pub async fn export_bundle(
    db: &Database,
    client: &str,
    secret_key: &[u8; 32],
    issued_at: &str,
) -> Result<Bundle, ExportError> {
    let repo = db.repository(crate::system_clock());
    let entries: Vec<StoredEntry> = repo
        .events_of(AGGREGATE, client, 0)
        .await?
        .into_iter()
        .map(|e| e.stored)
        .collect();
    let Some(last) = entries.last() else {
        return Err(ExportError::UnknownClient);
    };
    let current = (last.entry.sequence, last.hash);
    let log = load_checkpoints(db).await?;
    let public_key = public_key_of(secret_key);
    let signer = hex_key(&public_key);
    // Reuse the latest checkpoint only if it holds the client's current head
    // and is signed by the current key (the bundle carries that key).
    let covers = |c: &CheckpointFile| {
        c.public_key == signer
            && c.heads.iter().any(|h| {
                h.aggregate_type == AGGREGATE
                    && h.aggregate_id == client
                    && (h.sequence, h.hash) == current
            })
    };
    let file = match log.into_iter().last().filter(covers) {
        Some(c) => c,
        None => checkpoint(db, secret_key, issued_at).await?,
    };
    let head = file
        .heads
        .iter()
        .find(|h| h.aggregate_type == AGGREGATE && h.aggregate_id == client)
        .map(|h| h.sequence)
        .ok_or(ExportError::UnknownClient)?;
    let entries: Vec<StoredEntry> = entries
        .into_iter()
        .take_while(|e| e.entry.sequence <= head)
        .collect();
    Ok(build_bundle(
        entries,
        file.checkpoint,
        &public_key,
        &file.heads,
    )?)
}

/// The one-client bundle as of the latest checkpoint that holds the
/// client, signing nothing: the client's entries up to its head in that
/// checkpoint, under the key that checkpoint was signed with. Reads
/// only, so an auditor can take it; entries recorded after that
/// checkpoint are not in it until the next checkpoint is issued.
///
/// # Errors
/// [`ExportError::UnknownClient`] for a client with no entries,
/// [`ExportError::NotCheckpointed`] when no checkpoint holds the client,
/// [`ExportError::Bundle`] when the stored checkpoint and entries do not
/// make a bundle that verifies.
pub async fn bundle_at_latest_checkpoint(
    db: &Database,
    client: &str,
) -> Result<Bundle, ExportError> {
    let entries: Vec<StoredEntry> = db
        .repository(crate::system_clock())
        .events_of(AGGREGATE, client, 0)
        .await?
        .into_iter()
        .map(|e| e.stored)
        .collect();
    if entries.is_empty() {
        return Err(ExportError::UnknownClient);
    }
    let log = load_checkpoints(db).await?;
    let (file, head) = log
        .iter()
        .rev()
        .find_map(|c| {
            c.heads
                .iter()
                .find(|h| h.aggregate_type == AGGREGATE && h.aggregate_id == client)
                .map(|h| (c, h.sequence))
        })
        .ok_or(ExportError::NotCheckpointed)?;
    let public_key = kapchart_audit::parse_public_key(&file.public_key)
        .map_err(|_| kapchart_audit::BundleError::MalformedPublicKey)?;
    let entries: Vec<StoredEntry> = entries
        .into_iter()
        .take_while(|e| e.entry.sequence <= head)
        .collect();
    Ok(build_bundle(
        entries,
        file.checkpoint.clone(),
        &public_key,
        &file.heads,
    )?)
}

#[cfg(test)]
mod tests {
    use cqrs_es::persist::SerializedEvent;
    use kapchart_audit::{FindingKind, is_canonical};
    use serde_json::json;

    use super::*;

    fn event(sequence: usize) -> SerializedEvent {
        SerializedEvent {
            aggregate_id: "client-1".to_owned(),
            sequence,
            aggregate_type: AGGREGATE.to_owned(),
            event_type: "ConsentRecorded".to_owned(),
            event_version: "1".to_owned(),
            payload: json!({"ConsentRecorded": {"form": "kap-consent-v2", "signed_on": "2026-01-05", "pages": 4}}),
            metadata: json!({"actor_id": "t-rivera", "actor_role": "therapist", "command_id": format!("cmd-{sequence}")}),
        }
    }

    async fn run(db: &Database, sql: &str, binds: &[&str]) {
        match db {
            Database::Postgres(pool) => {
                let mut q = sqlx::query(sql);
                for b in binds {
                    q = q.bind(*b);
                }
                q.execute(pool).await.expect("update runs");
            }
            Database::Sqlite(pool) => {
                let mut q = sqlx::query(sql);
                for b in binds {
                    q = q.bind(*b);
                }
                q.execute(pool).await.expect("update runs");
            }
        }
    }

    /// A JSON column's text as verification reads it.
    async fn stored_text(db: &Database, column: &str, sequence: i64) -> String {
        match db {
            Database::Postgres(pool) => {
                sqlx::query_scalar(&format!(
                    "SELECT {column}::text FROM events WHERE sequence = $1"
                ))
                .bind(sequence)
                .fetch_one(pool)
                .await
            }
            Database::Sqlite(pool) => {
                sqlx::query_scalar(&format!("SELECT {column} FROM events WHERE sequence = ?1"))
                    .bind(sequence)
                    .fetch_one(pool)
                    .await
            }
        }
        .expect("reads")
    }

    async fn findings(db: &Database) -> Vec<(u64, FindingKind)> {
        let report = verify(db, &VerifyOptions::default(), &|_| {})
            .await
            .expect("verify runs");
        assert_eq!(report.rows, 3);
        report
            .findings
            .into_iter()
            .map(|f| (f.sequence, f.kind))
            .collect()
    }

    /// Rows as the store writes them take the fast path; rows whose JSON
    /// text is not canonical (as converted from `jsonb`) the slow one, with
    /// the same hash; rows that cannot be read keep their reasons.
    async fn text_paths(url: &str, postgres: bool) {
        let db = Database::open(url).await.expect("database opens");
        let repo = db.repository(crate::system_clock());
        for sequence in 1..=3 {
            repo.append(&[event(sequence)]).await.expect("appends");
        }
        let stored = repo
            .events_of(AGGREGATE, "client-1", 0)
            .await
            .expect("loads");
        for sequence in 1..=3 {
            for column in ["payload", "metadata"] {
                let text = stored_text(&db, column, sequence).await;
                assert!(is_canonical(&text), "{text}");
            }
        }
        assert_eq!(findings(&db).await, []);

        // Same values, text as jsonb prints it.
        if postgres {
            run(
                &db,
                "UPDATE events SET payload = payload::jsonb::json, \
                 metadata = metadata::jsonb::json WHERE sequence = 2",
                &[],
            )
            .await;
        } else {
            let pretty = |v: &serde_json::Value| serde_json::to_string_pretty(v).expect("json");
            let entry = &stored[1].stored.entry;
            run(
                &db,
                "UPDATE events SET payload = ?1, metadata = ?2 WHERE sequence = 2",
                &[&pretty(&entry.payload), &pretty(&entry.metadata)],
            )
            .await;
        }
        for column in ["payload", "metadata"] {
            let text = stored_text(&db, column, 2).await;
            assert!(!is_canonical(&text), "{text}");
        }
        assert_eq!(findings(&db).await, []);

        // A hash that is not hex, and (where the column allows it) a
        // payload that is not JSON: the payload is reported, as before.
        run(
            &db,
            "UPDATE events SET hash = 'XYZ' WHERE sequence = 3",
            &[],
        )
        .await;
        let reason = if postgres {
            "hash is not 64 lowercase hex digits"
        } else {
            run(
                &db,
                "UPDATE events SET payload = '{not json' WHERE sequence = 3",
                &[],
            )
            .await;
            "payload is not JSON"
        };
        assert_eq!(
            findings(&db).await,
            [(
                3,
                FindingKind::MalformedRow {
                    reason: reason.to_owned()
                }
            )]
        );
        db.close().await;
    }

    #[tokio::test]
    async fn text_paths_postgres() {
        let db = kapchart_testkit::postgres().await;
        text_paths(&db.url, true).await;
        db.cleanup().await;
    }

    #[tokio::test]
    async fn text_paths_sqlite() {
        let db = kapchart_testkit::sqlite();
        text_paths(&db.url, false).await;
        db.cleanup().await;
    }
}
