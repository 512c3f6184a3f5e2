//! `GET /audit`: verification at a glance. Every client's chain, the
//! checkpoint log and the access log's chain are verified on the spot;
//! what failed is said in words, by client and sequence. And
//! `GET /audit/checkpoints.json`, the checkpoint log as a download.

use std::collections::{BTreeMap, BTreeSet};

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use kapchart_audit::{FindingKind, HeadLeaf};
use kapchart_store::CLIENT_RECORD;
use kapchart_store::audit::CheckpointFile;

use super::{JSON, download, history_href};
use crate::WebState;
use crate::clinical::format;
use crate::page::{Layout, PageError, render};
use crate::session::SignedIn;

/// Something verification found, in words.
#[derive(Debug)]
struct Problem {
    /// Where: `client-b, entry 7`, `checkpoint 2`, `access log entry 40`.
    place: String,
    /// Its client's history page, if any.
    href: Option<String>,
    /// What it means.
    meaning: String,
    /// The stable code and the numbers that show it.
    detail: String,
}

/// A client's chain as verified.
#[derive(Debug)]
struct Chain {
    client_id: String,
    href: String,
    entries: u64,
    head_hash: String,
    /// "Verified", or how many findings name it.
    status: String,
    failed: bool,
    /// Whether the latest checkpoint holds the head as it is now.
    checkpointed: &'static str,
}

/// A checkpoint of the log.
#[derive(Debug)]
struct Checkpoint {
    number: u64,
    issued: String,
    tree_size: u64,
    root: String,
    key_id: String,
    public_key: String,
    problems: usize,
}

/// The access log's chain.
#[derive(Debug)]
struct AccessLog {
    intact: bool,
    entries: u64,
    head: Option<kapchart_store::access::AccessHead>,
}

#[derive(Template)]
#[template(path = "audit/overview.html")]
struct OverviewPage {
    layout: Layout,
    time_zone: String,
    intact: bool,
    rows: u64,
    aggregates: u64,
    record_problems: Vec<Problem>,
    checkpoint_problems: Vec<Problem>,
    access_problems: Vec<Problem>,
    chains: Vec<Chain>,
    checkpoints: Vec<Checkpoint>,
    /// Chains whose current head the latest checkpoint does not hold.
    uncheckpointed: usize,
    access: AccessLog,
    /// Whether the history links are for this role.
    may_read_histories: bool,
}

/// What a finding's kind means, in words.
fn meaning(kind: &FindingKind) -> &'static str {
    match kind {
        FindingKind::HashMismatch { .. } => {
            "The entry was changed after it was recorded: its content no longer matches its hash."
        }
        FindingKind::Unhashable { .. } => "The entry cannot be hashed.",
        FindingKind::FirstNotGenesis { .. } => "The start of the history is missing.",
        FindingKind::SequenceGap { .. } => "Entries are missing before this one.",
        FindingKind::SequenceNotIncreasing { .. } => {
            "Entries are duplicated, reordered or renumbered."
        }
        FindingKind::BrokenLink { .. } => {
            "The link to the entry before is broken: an entry was deleted, inserted, reordered or rewritten."
        }
        FindingKind::MalformedRow { .. } => "The entry cannot be read.",
        FindingKind::AggregateMismatch { .. } => "The entry belongs to another record.",
        FindingKind::ClientRemoved { .. } => {
            "The record was checkpointed but has no entries any more."
        }
        FindingKind::Truncated { .. } => {
            "The history ends before its checkpointed head: entries were removed from its end."
        }
        FindingKind::HeadRewritten { .. } => {
            "The entry that was the checkpointed head has been rewritten."
        }
    }
}

fn detail(kind: &FindingKind) -> String {
    format!("{} — {kind}", kind.code())
}

/// `GET /audit`.
pub(super) async fn page(
    State(state): State<WebState>,
    user: SignedIn,
) -> Result<Response, PageError> {
    let run = state.app.read_verification(&user.caller).await?;
    let log = state.app.read_checkpoints(&user.caller).await?;
    let tz = state.time_zone();
    let may_read_histories = user.caller.must_be_auditor().is_ok();
    let client_href = |id: &str| may_read_histories.then(|| history_href(id));

    let record_problems: Vec<Problem> = run
        .record
        .findings
        .iter()
        .map(|f| Problem {
            place: if f.aggregate_type == CLIENT_RECORD {
                format!("{}, entry {}", f.aggregate_id, f.sequence)
            } else {
                format!(
                    "{} {}, entry {}",
                    f.aggregate_type, f.aggregate_id, f.sequence
                )
            },
            href: client_href(&f.aggregate_id),
            meaning: meaning(&f.kind).to_owned(),
            detail: detail(&f.kind),
        })
        .collect();
    let checkpoint_problems: Vec<Problem> = run
        .record
        .checkpoint_problems
        .iter()
        .map(|p| Problem {
            place: format!("checkpoint {}", p.number),
            href: None,
            meaning: "The checkpoint does not verify.".to_owned(),
            detail: p.problem.clone(),
        })
        .collect();
    let access_problems: Vec<Problem> = run
        .access_log
        .findings
        .iter()
        .map(|f| Problem {
            place: format!("access log entry {}", f.sequence),
            href: None,
            meaning: meaning(&f.kind).to_owned(),
            detail: detail(&f.kind),
        })
        .collect();

    let mut failing: BTreeMap<&str, usize> = BTreeMap::new();
    for f in &run.record.findings {
        *failing.entry(f.aggregate_id.as_str()).or_default() += 1;
    }
    let latest: BTreeSet<(&str, u64, String)> = log
        .last()
        .map(|c| {
            c.heads
                .iter()
                .map(|h| (h.aggregate_id.as_str(), h.sequence, h.hash.to_hex()))
                .collect()
        })
        .unwrap_or_default();
    let chains: Vec<Chain> = run
        .record
        .heads
        .iter()
        .filter(|h: &&HeadLeaf| h.aggregate_type == CLIENT_RECORD)
        .map(|h| {
            let found = failing.get(h.aggregate_id.as_str()).copied().unwrap_or(0);
            let head_hash = h.hash.to_hex();
            let checkpointed =
                if latest.contains(&(h.aggregate_id.as_str(), h.sequence, head_hash.clone())) {
                    "Yes"
                } else {
                    "Not yet"
                };
            Chain {
                client_id: h.aggregate_id.clone(),
                href: history_href(&h.aggregate_id),
                entries: h.sequence,
                head_hash,
                status: match found {
                    0 => "Verified".to_owned(),
                    1 => "1 finding".to_owned(),
                    n => format!("{n} findings"),
                },
                failed: found > 0,
                checkpointed,
            }
        })
        .collect();
    let uncheckpointed = chains.iter().filter(|c| c.checkpointed != "Yes").count();
    let checkpoints = log
        .iter()
        .rev()
        .map(|c| checkpoint_row(c, &run.record.checkpoint_problems, tz))
        .collect();
    let access = AccessLog {
        intact: run.access_log.is_intact(),
        entries: run.access_log.entries,
        head: run.access_log.head.clone(),
    };
    render(&OverviewPage {
        layout: Layout::new("Verification", &user, "/audit"),
        time_zone: tz.name().to_owned(),
        intact: run.is_intact(),
        rows: run.record.rows,
        aggregates: run.record.aggregates,
        record_problems,
        checkpoint_problems,
        access_problems,
        chains,
        checkpoints,
        uncheckpointed,
        access,
        may_read_histories,
    })
}

fn checkpoint_row(
    c: &CheckpointFile,
    problems: &[kapchart_store::audit::CheckpointProblem],
    tz: chrono_tz::Tz,
) -> Checkpoint {
    let statement = &c.checkpoint.statement;
    let issued = chrono::DateTime::parse_from_rfc3339(&statement.issued_at).map_or_else(
        |_| statement.issued_at.clone(),
        |t| format::date_time(t.to_utc(), tz),
    );
    Checkpoint {
        number: c.number,
        issued,
        tree_size: statement.tree_size,
        root: statement.root_hash.to_hex(),
        key_id: statement.key_id.clone(),
        public_key: c.public_key.clone(),
        problems: problems.iter().filter(|p| p.number == c.number).count(),
    }
}

/// `GET /audit/checkpoints.json`: every checkpoint of the log, oldest
/// first, as `kapchart checkpoint` prints each (number, signed statement,
/// public key, heads).
pub(super) async fn checkpoints(
    State(state): State<WebState>,
    user: SignedIn,
) -> Result<Response, PageError> {
    let log = state.app.read_checkpoints(&user.caller).await?;
    let body = serde_json::to_vec_pretty(&log)
        .map_err(|e| PageError::internal("writing the checkpoint log", &e))?;
    Ok(download(JSON, "checkpoints.json", body))
}
