//! A seeded, version-stable random source.
//!
//! ChaCha8 from `rand_chacha` (its output stream is fixed for a given seed
//! and stream number, on every platform and release of the 0.3 line), with
//! every derived value (ranges, choices, shuffles) computed here from raw
//! `u64` draws, so no change in a distribution algorithm upstream can alter
//! the sample practice.

use std::cell::RefCell;

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};

/// A deterministic random source. Drawing takes `&self` (the state is in
/// a `RefCell`), so a planner can draw while its other fields are borrowed.
#[derive(Debug, Clone)]
pub(crate) struct Rng(RefCell<ChaCha8Rng>);

impl Rng {
    /// The generator for `seed`, on its own `stream`: independent sequences
    /// for the practice and each client.
    pub(crate) fn new(seed: u64, stream: u64) -> Self {
        let mut inner = ChaCha8Rng::seed_from_u64(seed);
        inner.set_stream(stream);
        Self(RefCell::new(inner))
    }

    /// A uniform number in `0..n` (`n > 0`), without modulo bias.
    pub(crate) fn below(&self, n: u64) -> u64 {
        let n = n.max(1);
        let zone = u64::MAX - (u64::MAX % n);
        loop {
            let v = self.0.borrow_mut().next_u64();
            if v < zone {
                return v % n;
            }
        }
    }

    /// A uniform number in `lo..=hi` (`lo <= hi`).
    pub(crate) fn range(&self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        let width = hi.abs_diff(lo) + 1;
        lo + self.below(width) as i64
    }

    /// True with the given probability in percent.
    pub(crate) fn chance(&self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// One of `items` (not empty).
    pub(crate) fn pick<'a, T>(&self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// One of `items`, by weight (weights not all zero).
    pub(crate) fn weighted<T: Copy>(&self, items: &[(T, u64)]) -> T {
        let total: u64 = items.iter().map(|(_, w)| w).sum();
        let mut roll = self.below(total);
        for (item, weight) in items {
            if roll < *weight {
                return *item;
            }
            roll -= weight;
        }
        items[items.len() - 1].0
    }

    /// Fisher–Yates shuffle.
    pub(crate) fn shuffle<T>(&self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stream_is_fixed_for_a_seed() {
        // Pinned: a change here changes every demo practice.
        let a = Rng::new(1, 0);
        let first: Vec<u64> = (0..4).map(|_| a.below(1000)).collect();
        let b = Rng::new(1, 0);
        let again: Vec<u64> = (0..4).map(|_| b.below(1000)).collect();
        assert_eq!(first, again);
        assert_eq!(first, [201, 795, 285, 466]);
        let c = Rng::new(1, 1);
        let other: Vec<u64> = (0..4).map(|_| c.below(1000)).collect();
        assert_ne!(first, other);
    }

    #[test]
    fn ranges_stay_in_bounds() {
        let r = Rng::new(7, 0);
        for _ in 0..1000 {
            let v = r.range(-3, 3);
            assert!((-3..=3).contains(&v));
        }
        assert_eq!(r.range(5, 5), 5);
        let mut v: Vec<u32> = (0..10).collect();
        r.shuffle(&mut v);
        v.sort_unstable();
        assert_eq!(v, (0..10).collect::<Vec<_>>());
    }
}
