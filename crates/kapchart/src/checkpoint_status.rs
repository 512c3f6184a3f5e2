//! What a checkpoint kept elsewhere says of this database, in words an
//! operator understands (`kapchart verify --checkpoint FILE`): the
//! database is current (it holds everything the checkpoint covers), behind
//! (a stale backup, rolled back: what is missing, by client), or its
//! history differs from the one the checkpoint was taken of.
//!
//! It reads the findings `verify` already made against the checkpoint's
//! heads (`truncated`, `client_removed`, `head_rewritten`); it adds no
//! check of its own. Client ids and sequence numbers only: never PHI.

use std::io::Write;

use kapchart_audit::FindingKind;
use kapchart_store::CLIENT_RECORD;
use kapchart_store::audit::{CheckpointFile, VerifyReport};
use serde::Serialize;

/// The verdict on the database against one checkpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Every client the checkpoint covers is here, at or past its
    /// checkpointed entry, with the checkpointed entry unchanged.
    Current,
    /// Clients the checkpoint covers end before their checkpointed entry or
    /// are absent: a stale backup, or a database rolled back.
    Behind,
    /// An entry the checkpoint holds is another one here: not the history
    /// the checkpoint was taken of.
    Differs,
    /// The checkpoint file itself does not verify (signature, heads, key):
    /// it cannot vouch for anything.
    Unverified,
}

/// What one client lacks of what the checkpoint holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Missing {
    /// The client's id.
    pub client: String,
    /// How many of the checkpointed entries are missing.
    pub events: u64,
    /// The first missing sequence.
    pub from_sequence: u64,
    /// The last missing sequence: the checkpointed head.
    pub to_sequence: u64,
    /// The client has no entries at all here.
    pub absent: bool,
}

/// A client whose checkpointed entry is another one here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Differs {
    /// The client's id.
    pub client: String,
    /// The checkpointed sequence whose entry differs.
    pub sequence: u64,
}

/// The database against one checkpoint kept elsewhere.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckpointStatus {
    /// The checkpoint's number in the log it came from.
    pub number: u64,
    /// When it was issued (RFC 3339, UTC).
    pub issued_at: String,
    /// The verdict.
    pub status: Verdict,
    /// The clients it covers (the one asked for, with `--client`).
    pub clients: u64,
    /// What is missing, by client (behind).
    pub missing: Vec<Missing>,
    /// Checkpointed entries that are other entries here.
    pub differs: Vec<Differs>,
    /// The verify report has findings a stale backup does not explain
    /// (changed or unreadable entries).
    pub other_findings: bool,
}

impl CheckpointStatus {
    /// Reads `report` (verified against `file`, for `client` if given).
    #[must_use]
    pub fn of(report: &VerifyReport, file: &CheckpointFile, client: Option<&str>) -> Self {
        let clients = file
            .heads
            .iter()
            .filter(|h| {
                h.aggregate_type == CLIENT_RECORD && client.is_none_or(|c| c == h.aggregate_id)
            })
            .count() as u64;
        let mut missing = Vec::new();
        let mut differs = Vec::new();
        let mut other_findings = false;
        for f in &report.findings {
            let client = f.aggregate_id.clone();
            match &f.kind {
                FindingKind::Truncated {
                    current_sequence, ..
                } => missing.push(Missing {
                    client,
                    events: f.sequence.saturating_sub(*current_sequence),
                    from_sequence: current_sequence + 1,
                    to_sequence: f.sequence,
                    absent: false,
                }),
                FindingKind::ClientRemoved { .. } => missing.push(Missing {
                    client,
                    events: f.sequence,
                    from_sequence: 1,
                    to_sequence: f.sequence,
                    absent: true,
                }),
                FindingKind::HeadRewritten { .. } => differs.push(Differs {
                    client,
                    sequence: f.sequence,
                }),
                _ => other_findings = true,
            }
        }
        let unverified = report
            .checkpoint_problems
            .iter()
            .any(|p| p.source == "file" && p.number == file.number);
        let status = if unverified {
            Verdict::Unverified
        } else if !differs.is_empty() {
            Verdict::Differs
        } else if !missing.is_empty() {
            Verdict::Behind
        } else {
            Verdict::Current
        };
        CheckpointStatus {
            number: file.number,
            issued_at: file.checkpoint.statement.issued_at.clone(),
            status,
            clients,
            missing,
            differs,
            other_findings,
        }
    }

    /// The events missing in all.
    #[must_use]
    pub fn missing_events(&self) -> u64 {
        self.missing.iter().map(|m| m.events).sum()
    }

    /// Writes the verdict in words, a line per client where something is
    /// missing or differs.
    ///
    /// # Errors
    /// Writing fails.
    pub fn write_text(&self, out: &mut impl Write) -> std::io::Result<()> {
        let which = format!(
            "the checkpoint of {} (number {})",
            self.issued_at, self.number
        );
        match self.status {
            Verdict::Current => writeln!(
                out,
                "This database holds everything {which} covers (current): {} {} at or past {} checkpointed entry.",
                self.clients,
                plural(self.clients, "client", "clients"),
                if self.clients == 1 { "its" } else { "their" },
            )?,
            Verdict::Unverified => writeln!(
                out,
                "The checkpoint file does not verify (see above): it cannot tell whether this database is current."
            )?,
            Verdict::Behind => {
                let clients = self.missing.len() as u64;
                let events = self.missing_events();
                writeln!(
                    out,
                    "This database is behind {which}: it looks like a stale backup (rolled back). Missing {events} {} of {clients} {}, by client:",
                    plural(events, "event", "events"),
                    plural(clients, "client", "clients"),
                )?;
                self.write_missing(out)?;
                writeln!(
                    out,
                    "Anything recorded after {} is unknown to that checkpoint and may be missing too.",
                    self.issued_at
                )?;
            }
            Verdict::Differs => {
                writeln!(
                    out,
                    "This database's history differs from {which}: it is not the record the checkpoint was taken of (an entry was rewritten, or a stale backup was written to after its restore). By client:"
                )?;
                for d in &self.differs {
                    writeln!(
                        out,
                        "  client {}: entry {} is not the one checkpointed",
                        d.client, d.sequence
                    )?;
                }
                if !self.missing.is_empty() {
                    writeln!(out, "Missing too, by client:")?;
                    self.write_missing(out)?;
                }
            }
        }
        if self.other_findings && self.status != Verdict::Unverified {
            writeln!(
                out,
                "Other findings above are not explained by a stale backup: entries were changed or cannot be read."
            )?;
        }
        Ok(())
    }

    fn write_missing(&self, out: &mut impl Write) -> std::io::Result<()> {
        for m in &self.missing {
            let events = plural(m.events, "event", "events");
            let range = if m.from_sequence == m.to_sequence {
                format!("sequence {}", m.to_sequence)
            } else {
                format!("sequence {}\u{2013}{}", m.from_sequence, m.to_sequence)
            };
            if m.absent {
                writeln!(
                    out,
                    "  client {}: absent (all {} {events}, {range})",
                    m.client, m.events
                )?;
            } else {
                writeln!(
                    out,
                    "  client {}: {} {events} ({range})",
                    m.client, m.events
                )?;
            }
        }
        Ok(())
    }
}

fn plural(n: u64, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 { one } else { many }
}

#[cfg(test)]
mod tests {
    use kapchart_audit::{Finding, Hash, HeadLeaf, SignedCheckpoint, Statement};
    use kapchart_store::audit::CheckpointProblem;

    use super::*;

    fn file(heads: &[(&str, u64)]) -> CheckpointFile {
        CheckpointFile {
            number: 2,
            checkpoint: SignedCheckpoint {
                statement: Statement {
                    tree_size: heads.len() as u64,
                    root_hash: Hash::ZERO,
                    issued_at: "2026-12-07T19:40:00Z".into(),
                    previous: Hash::ZERO,
                    key_id: String::new(),
                },
                signature: String::new(),
            },
            public_key: String::new(),
            heads: heads
                .iter()
                .map(|(id, sequence)| HeadLeaf {
                    aggregate_type: CLIENT_RECORD.into(),
                    aggregate_id: (*id).into(),
                    sequence: *sequence,
                    hash: Hash::ZERO,
                })
                .collect(),
        }
    }

    fn finding(id: &str, sequence: u64, kind: FindingKind) -> Finding {
        Finding {
            aggregate_type: CLIENT_RECORD.into(),
            aggregate_id: id.into(),
            sequence,
            kind,
        }
    }

    fn text(status: &CheckpointStatus) -> String {
        let mut out = Vec::new();
        status.write_text(&mut out).expect("written");
        String::from_utf8(out).expect("UTF-8")
    }

    #[test]
    fn nothing_found_is_current() {
        let f = file(&[("c-1", 3), ("c-2", 1)]);
        let status = CheckpointStatus::of(&VerifyReport::default(), &f, None);
        assert_eq!(status.status, Verdict::Current);
        assert_eq!(
            text(&status),
            "This database holds everything the checkpoint of 2026-12-07T19:40:00Z (number 2) covers (current): 2 clients at or past their checkpointed entry.\n"
        );
        let one = CheckpointStatus::of(&VerifyReport::default(), &f, Some("c-2"));
        assert_eq!(one.clients, 1);
    }

    #[test]
    fn truncated_and_removed_clients_are_a_stale_backup() {
        let f = file(&[("c-1", 12), ("c-2", 4), ("c-3", 7)]);
        let report = VerifyReport {
            findings: vec![
                finding(
                    "c-1",
                    12,
                    FindingKind::Truncated {
                        current_sequence: 10,
                        checkpointed_hash: Hash::ZERO,
                    },
                ),
                finding(
                    "c-2",
                    4,
                    FindingKind::ClientRemoved {
                        checkpointed_hash: Hash::ZERO,
                    },
                ),
                finding(
                    "c-3",
                    7,
                    FindingKind::Truncated {
                        current_sequence: 6,
                        checkpointed_hash: Hash::ZERO,
                    },
                ),
            ],
            ..VerifyReport::default()
        };
        let status = CheckpointStatus::of(&report, &f, None);
        assert_eq!(status.status, Verdict::Behind);
        assert_eq!(status.missing_events(), 7);
        assert_eq!(
            text(&status),
            "This database is behind the checkpoint of 2026-12-07T19:40:00Z (number 2): it looks like a stale backup (rolled back). Missing 7 events of 3 clients, by client:\n\
             \x20 client c-1: 2 events (sequence 11\u{2013}12)\n\
             \x20 client c-2: absent (all 4 events, sequence 1\u{2013}4)\n\
             \x20 client c-3: 1 event (sequence 7)\n\
             Anything recorded after 2026-12-07T19:40:00Z is unknown to that checkpoint and may be missing too.\n"
        );
    }

    #[test]
    fn a_rewritten_head_differs_and_a_bad_file_vouches_for_nothing() {
        let f = file(&[("c-1", 3)]);
        let mut report = VerifyReport {
            findings: vec![
                finding(
                    "c-1",
                    3,
                    FindingKind::HeadRewritten {
                        checkpointed_hash: Hash::ZERO,
                        current_hash: Hash::ZERO,
                    },
                ),
                finding("c-1", 2, FindingKind::SequenceGap { expected: 1 }),
            ],
            ..VerifyReport::default()
        };
        let status = CheckpointStatus::of(&report, &f, None);
        assert_eq!(status.status, Verdict::Differs);
        assert!(status.other_findings);
        let said = text(&status);
        assert!(
            said.contains("  client c-1: entry 3 is not the one checkpointed\n"),
            "{said}"
        );
        assert!(said.contains("not explained by a stale backup"), "{said}");

        report.checkpoint_problems.push(CheckpointProblem {
            number: 2,
            source: "file",
            problem: "signature: bad".into(),
        });
        let status = CheckpointStatus::of(&report, &f, None);
        assert_eq!(status.status, Verdict::Unverified);
        assert!(text(&status).starts_with("The checkpoint file does not verify"));
    }
}
