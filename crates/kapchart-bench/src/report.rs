//! The results: as JSON (`--json`) or as the tables docs/performance.md
//! quotes.

use std::fmt::Write as _;

use serde::Serialize;

use crate::breakdown::Breakdown;
use crate::stats::Figure;

/// The chain may cost at most this share of plain postgres-es's throughput.
pub const CHAIN_TARGET: f64 = 0.90;
/// Verification may be at most this many times slower than the raw scan.
pub const VERIFY_TARGET: f64 = 2.0;

/// Where the figures were taken.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    /// Cores this process may use.
    pub cores: usize,
    /// `SELECT version()`.
    pub server_version: String,
    /// The server's `synchronous_commit`.
    pub synchronous_commit: String,
    /// The server's `fsync`.
    pub fsync: String,
    /// The server's `shared_buffers`.
    pub shared_buffers: String,
    /// The server's `wal_sync_method`.
    pub wal_sync_method: String,
    /// /proc/loadavg before setup (1, 5, 15 min): other work on the
    /// machine shows here.
    pub load_average_before: String,
    /// /proc/loadavg at the end.
    pub load_average_after: String,
}

/// The write figures of one writer count.
#[derive(Debug, Clone, Serialize)]
pub struct WriteRow {
    /// Concurrent writers.
    pub writers: usize,
    /// Commands through kapchart's store, with the chain.
    pub chain: Figure,
    /// The same commands through plain postgres-es.
    pub plain: Figure,
    /// Single-row INSERT commits.
    pub raw: Figure,
    /// chain / plain (target at least 0.90).
    pub chain_over_plain: f64,
    /// plain / raw.
    pub plain_over_raw: f64,
    /// chain / raw.
    pub chain_over_raw: f64,
    /// chain / plain meets its target.
    pub chain_target_met: bool,
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { 0.0 }
}

impl WriteRow {
    /// The row and its ratios.
    pub fn new(writers: usize, chain: Figure, plain: Figure, raw: Figure) -> Self {
        let chain_over_plain = ratio(chain.per_sec, plain.per_sec);
        Self {
            writers,
            chain_over_plain,
            plain_over_raw: ratio(plain.per_sec, raw.per_sec),
            chain_over_raw: ratio(chain.per_sec, raw.per_sec),
            chain_target_met: chain_over_plain >= CHAIN_TARGET,
            chain,
            plain,
            raw,
        }
    }
}

/// Verification against the raw scan.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyRow {
    /// `audit::verify` over the whole chain database; latency is per pass.
    pub verify: Figure,
    /// The raw streaming SELECT of the same rows; latency is per pass.
    pub scan: Figure,
    /// How many times slower verify is than the scan (target at most 2).
    pub slowdown: f64,
    /// The target is met.
    pub target_met: bool,
}

impl VerifyRow {
    /// The row and its ratio.
    pub fn new(verify: Figure, scan: Figure) -> Self {
        let slowdown = ratio(scan.per_sec, verify.per_sec);
        Self {
            target_met: slowdown > 0.0 && slowdown <= VERIFY_TARGET,
            slowdown,
            verify,
            scan,
        }
    }
}

/// Everything one run measured.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The command that produced it.
    pub command: String,
    /// The machine and server.
    pub machine: Machine,
    /// Clients.
    pub clients: u32,
    /// Events per client before each figure.
    pub events_per_client: u32,
    /// Window of each figure, seconds.
    pub seconds: u64,
    /// Warm-up before each figure's first slice, seconds.
    pub warmup_seconds: f64,
    /// Slices each figure's window is cut into.
    pub slices: u32,
    /// Write figures, per writer count.
    pub writes: Vec<WriteRow>,
    /// Verification.
    pub verify: VerifyRow,
    /// Where the time goes (absent with `--no-breakdown`).
    pub breakdown: Option<Breakdown>,
}

fn lat(f: &Figure) -> String {
    format!("{:.2} / {:.2}", f.p50_ms, f.p99_ms)
}

fn cpu(f: &Figure) -> String {
    match (f.machine_cpu_busy_pct, f.bench_cpu_ms_per_op) {
        (Some(busy), Some(ms)) => format!("{busy:.0}% / {ms:.2}"),
        (Some(busy), None) => format!("{busy:.0}% / -"),
        _ => "-".to_owned(),
    }
}

/// The results as Markdown tables.
pub fn table(r: &Report) -> String {
    let mut out = String::new();
    let m = &r.machine;
    let _ = writeln!(out, "# kapchart-bench\n");
    let _ = writeln!(out, "command: `{}`", r.command);
    let _ = writeln!(
        out,
        "machine: {} cores; {}; synchronous_commit={}, fsync={}, wal_sync_method={}, shared_buffers={}",
        m.cores,
        m.server_version,
        m.synchronous_commit,
        m.fsync,
        m.wal_sync_method,
        m.shared_buffers
    );
    let _ = writeln!(
        out,
        "load average (1 5 15 min, other work on the machine shows here): {} before, {} after",
        m.load_average_before, m.load_average_after
    );
    let _ = writeln!(
        out,
        "data: {} clients x {} events per store; each figure {} s in {} interleaved slices, the first after {:.1} s warm-up\n",
        r.clients, r.events_per_client, r.seconds, r.slices, r.warmup_seconds
    );

    let _ = writeln!(out, "## Writes (commands/s; latency p50 / p99 ms)\n");
    let _ = writeln!(
        out,
        "| writers | chain cmd/s | chain p50 / p99 | plain cmd/s | plain p50 / p99 | raw INSERT/s | raw p50 / p99 | chain/plain (>= {CHAIN_TARGET:.2}) | plain/raw | chain/raw | conflicts chain / plain |"
    );
    let _ = writeln!(
        out,
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    for w in &r.writes {
        let _ = writeln!(
            out,
            "| {} | {:.0} | {} | {:.0} | {} | {:.0} | {} | {:.3} {} | {:.3} (1/{:.1}) | {:.3} (1/{:.1}) | {} / {} |",
            w.writers,
            w.chain.per_sec,
            lat(&w.chain),
            w.plain.per_sec,
            lat(&w.plain),
            w.raw.per_sec,
            lat(&w.raw),
            w.chain_over_plain,
            if w.chain_target_met { "met" } else { "MISSED" },
            w.plain_over_raw,
            ratio(1.0, w.plain_over_raw),
            w.chain_over_raw,
            ratio(1.0, w.chain_over_raw),
            w.chain.conflicts,
            w.plain.conflicts,
        );
    }
    let _ = writeln!(
        out,
        "\nCPU during each window (machine busy % / bench process CPU ms per operation):\n"
    );
    let _ = writeln!(out, "| writers | chain | plain | raw INSERT |");
    let _ = writeln!(out, "|---:|---:|---:|---:|");
    for w in &r.writes {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            w.writers,
            cpu(&w.chain),
            cpu(&w.plain),
            cpu(&w.raw)
        );
    }

    let v = &r.verify;
    let _ = writeln!(
        out,
        "\n## Verify (events/s; latency per full pass, p50 / p99 ms)\n"
    );
    let _ = writeln!(
        out,
        "| verify events/s | verify pass p50 / p99 | raw scan events/s | scan pass p50 / p99 | verify slowdown (<= {VERIFY_TARGET:.1}x) |"
    );
    let _ = writeln!(out, "|---:|---:|---:|---:|---:|");
    let _ = writeln!(
        out,
        "| {:.0} | {} | {:.0} | {} | {:.2}x {} |",
        v.verify.per_sec,
        lat(&v.verify),
        v.scan.per_sec,
        lat(&v.scan),
        v.slowdown,
        if v.target_met { "met" } else { "MISSED" }
    );
    let _ = writeln!(
        out,
        "\nCPU: verify {}, raw scan {} (machine busy % / bench CPU ms per pass)",
        cpu(&v.verify),
        cpu(&v.scan)
    );

    if let Some(b) = &r.breakdown {
        let _ = writeln!(out, "\n## Where one command's time goes (1 writer)\n");
        let _ = writeln!(
            out,
            "| store | commands | total ms | load ms | persist ms | rest ms (deserialize + apply, decide, serialize) |"
        );
        let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|");
        for p in &b.path {
            let _ = writeln!(
                out,
                "| {} | {} | {:.3} | {:.3} | {:.3} | {:.3} |",
                p.store, p.commands, p.total_ms, p.load_ms, p.persist_ms, p.other_ms
            );
        }
        let c = &b.cpu;
        let rows = c.rows_per_history;
        let _ = writeln!(
            out,
            "\nClient CPU, in process ({} histories, {:.1} rows each, payload {:.0} B, canonical entry {:.0} B):\n",
            c.histories, rows, c.payload_bytes, c.canonical_bytes
        );
        let _ = writeln!(out, "| step | µs per command |");
        let _ = writeln!(out, "|---|---:|");
        let lines = [
            (
                "decode stored rows (JSON text to values; the last row's hash)",
                c.decode_row_us * rows,
            ),
            (
                "cqrs-es deserialize + apply the history",
                c.deserialize_apply_row_us * rows,
            ),
            ("decide (ClientRecord::handle)", c.decide_us),
            ("serialize the new event + metadata", c.serialize_us),
            (
                "chain link: canonical JSON + SHA-256 (Entry::seal)",
                c.chain_link_us,
            ),
        ];
        for (step, us) in lines {
            let _ = writeln!(out, "| {step} | {us:.1} |");
        }
        let _ = writeln!(
            out,
            "\nPer stored row: canonical JSON (Entry::canonical_bytes, kapchart-audit's RFC 8785 writer) {:.1} µs, SHA-256 {:.1} µs; verify's CPU per row (decode + hash + compare) {:.1} µs.",
            c.canonicalize_us, c.sha256_us, c.verify_row_us
        );
        let _ = writeln!(
            out,
            "\nSQL, replayed statement by statement on one connection (mean / p50 ms):\n"
        );
        let _ = writeln!(out, "| step | chain | plain |");
        let _ = writeln!(out, "|---|---:|---:|");
        let mut steps: Vec<&'static str> = Vec::new();
        for s in &b.sql {
            if !steps.contains(&s.step) {
                steps.push(s.step);
            }
        }
        for step in steps {
            let cell = |store: &str| {
                b.sql
                    .iter()
                    .find(|s| s.store == store && s.step == step)
                    .map_or_else(
                        || "-".to_owned(),
                        |s| format!("{:.3} / {:.3}", s.mean_ms, s.p50_ms),
                    )
            };
            let _ = writeln!(out, "| {step} | {} | {} |", cell("chain"), cell("plain"));
        }
        let total = |store: &str| {
            let ms: f64 = b
                .sql
                .iter()
                .filter(|s| s.store == store)
                .map(|s| s.mean_ms)
                .sum();
            format!("{ms:.3}")
        };
        let _ = writeln!(
            out,
            "| all statements of one command (sum of means) | {} | {} |",
            total("chain"),
            total("plain")
        );
    }
    out
}
