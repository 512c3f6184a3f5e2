//! Exact means without floating point.
//!
//! A mean is kept as its integer sum and count, and shown as a decimal
//! string with a fixed number of places, rounded half away from zero with
//! integer arithmetic only: the mean of 19, 18 and 20 is `"19.00"`, of -13
//! and -12 is `"-12.50"`, of 1, 1 and 2 is `"1.33"`.

use serde::{Deserialize, Serialize};

/// The integer sum and count of a set of integer values.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Mean {
    /// Sum of the values.
    pub sum: i64,
    /// How many values.
    pub n: u64,
}

impl Mean {
    /// Adds a value.
    pub fn add(&mut self, value: i64) {
        self.sum += value;
        self.n += 1;
    }

    /// The mean in hundredths, rounded half away from zero; `None` when
    /// there are no values.
    pub fn hundredths(&self) -> Option<i64> {
        rounded(self.sum, self.n, 100)
    }

    /// The mean as a decimal string with two places (e.g. `"-6.50"`), or
    /// `None` when there are no values.
    pub fn to_fixed2(&self) -> Option<String> {
        self.hundredths().map(|h| format_fixed(h, 2))
    }
}

/// `sum / n` scaled by `scale`, rounded half away from zero.
fn rounded(sum: i64, n: u64, scale: i64) -> Option<i64> {
    if n == 0 {
        return None;
    }
    let num = i128::from(sum) * i128::from(scale);
    let den = i128::from(n);
    // Round the magnitude half up, then restore the sign.
    let magnitude = (2 * num.abs() + den) / (2 * den);
    let value = if num < 0 { -magnitude } else { magnitude };
    i64::try_from(value).ok()
}

/// An integer of `places` implied decimals as a string: 650, 2 → `"6.50"`.
pub fn format_fixed(value: i64, places: u32) -> String {
    let scale = 10u64.pow(places);
    let sign = if value < 0 { "-" } else { "" };
    let magnitude = value.unsigned_abs();
    if places == 0 {
        return format!("{sign}{magnitude}");
    }
    format!(
        "{sign}{}.{:0width$}",
        magnitude / scale,
        magnitude % scale,
        width = places as usize
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mean(values: &[i64]) -> Mean {
        let mut m = Mean::default();
        for v in values {
            m.add(*v);
        }
        m
    }

    #[test]
    fn means_are_exact_decimal_strings() {
        assert_eq!(mean(&[19, 18, 20]).to_fixed2().as_deref(), Some("19.00"));
        assert_eq!(mean(&[-13, -12]).to_fixed2().as_deref(), Some("-12.50"));
        assert_eq!(mean(&[1, 1, 2]).to_fixed2().as_deref(), Some("1.33"));
        assert_eq!(mean(&[1, 2, 2]).to_fixed2().as_deref(), Some("1.67"));
        assert_eq!(mean(&[-1, -2, -2]).to_fixed2().as_deref(), Some("-1.67"));
        assert_eq!(mean(&[0]).to_fixed2().as_deref(), Some("0.00"));
        assert_eq!(mean(&[]).to_fixed2(), None);
    }

    #[test]
    fn halves_round_away_from_zero() {
        // 1/8 = 0.125 → 0.13; -1/8 → -0.13; 1/200 = 0.005 → 0.01.
        assert_eq!(mean(&[1, 0, 0, 0, 0, 0, 0, 0]).hundredths(), Some(13));
        assert_eq!(mean(&[-1, 0, 0, 0, 0, 0, 0, 0]).hundredths(), Some(-13));
        let mut m = Mean::default();
        m.add(1);
        m.n = 200;
        assert_eq!(m.hundredths(), Some(1));
        // -1/300 rounds to zero and shows no sign.
        m = Mean { sum: -1, n: 300 };
        assert_eq!(m.to_fixed2().as_deref(), Some("0.00"));
    }

    #[test]
    fn fixed_formatting() {
        assert_eq!(format_fixed(650, 2), "6.50");
        assert_eq!(format_fixed(-650, 2), "-6.50");
        assert_eq!(format_fixed(-5, 2), "-0.05");
        assert_eq!(format_fixed(7, 0), "7");
        assert_eq!(format_fixed(i64::MIN, 2), "-92233720368547758.08");
    }

    #[test]
    fn large_sums_do_not_overflow() {
        let m = Mean {
            sum: i64::MAX,
            n: 1,
        };
        // i64::MAX * 100 does not fit an i64: no value rather than a wrong one.
        assert_eq!(m.hundredths(), None);
        let m = Mean {
            sum: i64::MAX,
            n: 1000,
        };
        assert!(m.hundredths().is_some());
    }
}
