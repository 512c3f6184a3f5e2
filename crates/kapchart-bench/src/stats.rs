//! Figures: throughput over a fixed window, latency percentiles, and the
//! CPU the machine and this process spent meanwhile.

use std::time::Duration;

use serde::Serialize;

/// The `p`-th percentile (0–100) of sorted samples, by nearest rank: the
/// smallest sample with at least `p`% of the samples at or below it.
/// 0 for no samples.
pub fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let n = sorted.len();
    let rank = ((p / 100.0) * n as f64).ceil() as usize;
    sorted[rank.clamp(1, n) - 1]
}

/// One measured figure.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Figure {
    /// Operations completed inside the window (commands, inserts, rows).
    pub ops: u64,
    /// Units per second over the window (commands/s, inserts/s or
    /// events/s).
    pub per_sec: f64,
    /// Length of the measured window.
    pub seconds: f64,
    /// Median latency of one operation (a command, an insert, a pass).
    pub p50_ms: f64,
    /// 99th percentile latency.
    pub p99_ms: f64,
    /// Optimistic-lock conflicts (each retried).
    pub conflicts: u64,
    /// Share of the machine's CPU time that was busy during the window
    /// (all cores, user + system), when /proc/stat can be read.
    pub machine_cpu_busy_pct: Option<f64>,
    /// Share of the machine's CPU time spent waiting for I/O.
    pub machine_iowait_pct: Option<f64>,
    /// CPU time of this process per operation, in ms (client side: driver,
    /// framework, domain, JSON, hashing).
    pub bench_cpu_ms_per_op: Option<f64>,
}

/// Samples of one figure, merged from every writer.
#[derive(Debug, Default)]
pub struct Samples {
    /// Latency of each operation, in microseconds.
    pub latencies_us: Vec<u64>,
    /// Units counted inside the window (1 per command; rows per pass). An
    /// operation that straddles an edge of the window counts for the share
    /// of its duration inside it, so long operations (a verify pass) are
    /// not under- or over-counted.
    pub units: f64,
    /// Conflicts.
    pub conflicts: u64,
}

impl Samples {
    /// Adds another writer's samples.
    pub fn merge(&mut self, other: Samples) {
        self.latencies_us.extend(other.latencies_us);
        self.units += other.units;
        self.conflicts += other.conflicts;
    }

    /// The figure over a window of `window`.
    pub fn figure(mut self, window: Duration, cpu: Option<CpuDelta>) -> Figure {
        self.latencies_us.sort_unstable();
        let seconds = window.as_secs_f64();
        let ops = self.latencies_us.len() as u64;
        let ms = |us: u64| us as f64 / 1000.0;
        Figure {
            ops,
            per_sec: if seconds > 0.0 {
                self.units / seconds
            } else {
                0.0
            },
            seconds,
            p50_ms: ms(percentile(&self.latencies_us, 50.0)),
            p99_ms: ms(percentile(&self.latencies_us, 99.0)),
            conflicts: self.conflicts,
            machine_cpu_busy_pct: cpu.as_ref().and_then(CpuDelta::busy_pct),
            machine_iowait_pct: cpu.as_ref().and_then(CpuDelta::iowait_pct),
            bench_cpu_ms_per_op: cpu
                .as_ref()
                .and_then(|c| c.process_ms)
                .filter(|_| ops > 0)
                .map(|ms| ms / ops as f64),
        }
    }
}

/// CPU counters at one instant (Linux /proc; `None` fields elsewhere).
#[derive(Debug, Clone, Copy)]
pub struct CpuSnapshot {
    /// (busy, iowait, total) jiffies of all cores.
    machine: Option<(u64, u64, u64)>,
    /// utime + stime of this process, in jiffies.
    process: Option<u64>,
}

/// CPU spent between two snapshots.
#[derive(Debug, Clone, Copy)]
pub struct CpuDelta {
    machine: Option<(u64, u64, u64)>,
    process_ms: Option<f64>,
}

/// Linux's USER_HZ, the unit of /proc's CPU times, on every common
/// architecture.
const JIFFIES_PER_SEC: f64 = 100.0;

impl CpuSnapshot {
    /// Reads the counters now.
    pub fn now() -> Self {
        Self {
            machine: machine_jiffies(),
            process: process_jiffies(),
        }
    }

    /// CPU spent since `self`.
    pub fn since(&self) -> CpuDelta {
        let later = Self::now();
        let machine = match (self.machine, later.machine) {
            (Some((b0, w0, t0)), Some((b1, w1, t1))) => Some((
                b1.saturating_sub(b0),
                w1.saturating_sub(w0),
                t1.saturating_sub(t0),
            )),
            _ => None,
        };
        let process_ms = match (self.process, later.process) {
            (Some(p0), Some(p1)) => Some(p1.saturating_sub(p0) as f64 / JIFFIES_PER_SEC * 1000.0),
            _ => None,
        };
        CpuDelta {
            machine,
            process_ms,
        }
    }
}

impl CpuDelta {
    /// Nothing spent.
    pub fn zero() -> Self {
        Self {
            machine: Some((0, 0, 0)),
            process_ms: Some(0.0),
        }
    }

    /// The sum of two spans (the counters of each must be readable).
    pub fn combined(self, other: CpuDelta) -> CpuDelta {
        CpuDelta {
            machine: match (self.machine, other.machine) {
                (Some(a), Some(b)) => Some((a.0 + b.0, a.1 + b.1, a.2 + b.2)),
                _ => None,
            },
            process_ms: match (self.process_ms, other.process_ms) {
                (Some(a), Some(b)) => Some(a + b),
                _ => None,
            },
        }
    }

    fn busy_pct(&self) -> Option<f64> {
        self.machine
            .filter(|m| m.2 > 0)
            .map(|(busy, _, total)| 100.0 * busy as f64 / total as f64)
    }

    fn iowait_pct(&self) -> Option<f64> {
        self.machine
            .filter(|m| m.2 > 0)
            .map(|(_, iowait, total)| 100.0 * iowait as f64 / total as f64)
    }
}

/// (busy, iowait, total) from the `cpu` line of /proc/stat.
fn machine_jiffies() -> Option<(u64, u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let v: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|x| x.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal ...
    if v.len() < 8 {
        return None;
    }
    let idle = v[3];
    let iowait = v[4];
    let total: u64 = v[..8].iter().sum();
    Some((total - idle - iowait, iowait, total))
}

/// utime + stime of this process from /proc/self/stat.
fn process_jiffies() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) may hold spaces: fields after ')' follow.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // rest starts at field 3 (state); utime is field 14, stime field 15.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_is_nearest_rank() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&v, 50.0), 50);
        assert_eq!(percentile(&v, 99.0), 99);
        assert_eq!(percentile(&v, 100.0), 100);
        assert_eq!(percentile(&v, 0.0), 1);
        assert_eq!(percentile(&[7], 99.0), 7);
        assert_eq!(percentile(&[], 50.0), 0);
        assert_eq!(percentile(&[1, 2, 3], 50.0), 2);
    }

    #[test]
    fn figure_counts_units_over_the_window() {
        let samples = Samples {
            latencies_us: vec![3000, 1000, 2000, 4000],
            units: 200.0,
            conflicts: 1,
        };
        let f = samples.figure(Duration::from_secs(2), None);
        assert_eq!(f.ops, 4);
        assert!((f.per_sec - 100.0).abs() < 1e-9);
        assert!((f.p50_ms - 2.0).abs() < 1e-9);
        assert!((f.p99_ms - 4.0).abs() < 1e-9);
        assert_eq!(f.conflicts, 1);
    }
}
