//! Concurrent writers over fixed windows: each writer runs operations one
//! after another; those that complete inside the window are counted.
//!
//! Figures that are compared with each other are interleaved: each
//! figure's window is cut into slices, and the slices of the compared
//! figures alternate (in a rotating order), so that a change in the
//! machine's background load during the run falls on all of them alike.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use futures_util::future::BoxFuture;
use indicatif::{ProgressBar, ProgressStyle};

use crate::stats::{CpuDelta, CpuSnapshot, Figure, Samples};

/// One operation of writer `w`, its `n`-th: the units it counts for (1 per
/// command or insert, rows per scan) and the conflicts it retried.
pub type Op =
    Arc<dyn Fn(usize, u64) -> BoxFuture<'static, anyhow::Result<(u64, u64)>> + Send + Sync>;

/// One figure to measure: a label, its writer count and its operation.
pub struct Job {
    /// For progress and errors.
    pub label: String,
    /// Concurrent writers.
    pub writers: usize,
    /// The operation.
    pub op: Op,
    /// Operations started so far by each writer (slices go on numbering,
    /// so ids stay fresh).
    next: Vec<u64>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job")
            .field("label", &self.label)
            .field("writers", &self.writers)
            .finish_non_exhaustive()
    }
}

impl Job {
    /// A figure of `writers` writers running `op`.
    pub fn new(label: impl Into<String>, writers: usize, op: Op) -> Self {
        Self {
            label: label.into(),
            writers,
            op,
            next: vec![0; writers],
        }
    }
}

/// Runs one slice of `job`: warm-up, then the window; returns the samples
/// completed inside the window and the CPU spent during it.
async fn slice(
    job: &mut Job,
    warmup: Duration,
    window: Duration,
    bar: &ProgressBar,
) -> anyhow::Result<(Samples, CpuDelta)> {
    bar.set_message(format!("{}: warming up", job.label));
    let start = Instant::now();
    let measure_from = start + warmup;
    let end = measure_from + window;
    let mut handles = Vec::with_capacity(job.writers);
    for (w, first) in job.next.iter().copied().enumerate() {
        let op = Arc::clone(&job.op);
        handles.push(tokio::spawn(async move {
            let mut samples = Samples::default();
            let mut n = first;
            loop {
                let t0 = Instant::now();
                if t0 >= end {
                    break;
                }
                let (units, conflicts) = op(w, n).await?;
                n += 1;
                let t1 = Instant::now();
                // Latency and conflicts: operations that end in the window.
                if t1 >= measure_from && t1 <= end {
                    samples.latencies_us.push((t1 - t0).as_micros() as u64);
                    samples.conflicts += conflicts;
                }
                // Units: the share of the operation inside the window.
                let inside = t1.min(end).saturating_duration_since(t0.max(measure_from));
                let whole = (t1 - t0).as_secs_f64();
                if whole > 0.0 {
                    samples.units += units as f64 * inside.as_secs_f64() / whole;
                } else if t1 >= measure_from && t1 <= end {
                    samples.units += units as f64;
                }
            }
            Ok::<(Samples, u64), anyhow::Error>((samples, n))
        }));
    }
    // The CPU counters cover the window only.
    tokio::time::sleep_until(measure_from.into()).await;
    bar.set_message(format!("{}: measuring", job.label));
    let cpu = CpuSnapshot::now();
    tokio::time::sleep_until(end.into()).await;
    let cpu = cpu.since();
    let mut samples = Samples::default();
    for (w, h) in handles.into_iter().enumerate() {
        let (s, n) = h
            .await
            .with_context(|| format!("{}: writer panicked", job.label))?
            .with_context(|| job.label.clone())?;
        samples.merge(s);
        job.next[w] = n;
    }
    Ok((samples, cpu))
}

/// Measures each job over `window` in total, cut into `slices` slices that
/// alternate between the jobs in a rotating order. The first slice of each
/// job is preceded by `warmup`; later ones by a fifth of it (connections
/// and caches are warm by then, but the server switches databases).
/// Returns one figure per job, in the jobs' order.
pub async fn interleaved(
    jobs: &mut [Job],
    slices: u32,
    warmup: Duration,
    window: Duration,
) -> anyhow::Result<Vec<Figure>> {
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(Duration::from_millis(250));
    let slices = slices.max(1);
    let part = window / slices;
    let mut acc: Vec<(Samples, CpuDelta)> = jobs
        .iter()
        .map(|_| (Samples::default(), CpuDelta::zero()))
        .collect();
    for round in 0..slices as usize {
        for k in 0..jobs.len() {
            let j = (k + round) % jobs.len();
            let w = if round == 0 { warmup } else { warmup / 5 };
            let (s, c) = slice(&mut jobs[j], w, part, &bar).await?;
            acc[j].0.merge(s);
            acc[j].1 = acc[j].1.combined(c);
        }
    }
    bar.finish_and_clear();
    Ok(acc
        .into_iter()
        .map(|(s, c)| s.figure(part * slices, Some(c)))
        .collect())
}

/// The client of writer `w`'s `n`-th operation, below `clients`: a
/// SplitMix64 hash of (seed, w, n), so every store gets the same sequence
/// of clients with no shared state.
pub fn pick(seed: u64, w: usize, n: u64, clients: usize) -> usize {
    let mut z = seed
        ^ (w as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ n.wrapping_mul(0xD1B5_4A32_D192_ED03);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z % clients.max(1) as u64) as usize
}
