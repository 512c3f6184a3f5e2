//! Sums of money, checked: a total beyond what kapchart represents
//! (±[`Cents::MAX`], 2^53 − 1 cents) is an error, never a wrapped or
//! saturated number. Every total the views and reports show is therefore
//! an exact integer in any JSON reader.
//!
//! With each payment at most $100,000.00 (and fees far below that), a total
//! this large takes some 90 million entries of one client: the error exists
//! so that no input, however absurd, can show a wrong balance.

use kapchart_domain::Cents;

/// A sum of money went beyond ±[`Cents::MAX`] cents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a sum of money is beyond ±{} cents", Cents::MAX.get())]
pub struct MoneyOverflow;

/// A running sum of cents; negative for a balance in credit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Total(i64);

impl Total {
    /// The sum plus `cents`.
    pub(crate) fn plus(self, cents: i64) -> Result<Self, MoneyOverflow> {
        Self::checked(self.0.checked_add(cents))
    }

    /// The sum minus `cents`.
    pub(crate) fn minus(self, cents: i64) -> Result<Self, MoneyOverflow> {
        Self::checked(self.0.checked_sub(cents))
    }

    /// The sum of `amounts`.
    pub(crate) fn of(amounts: impl IntoIterator<Item = i64>) -> Result<Self, MoneyOverflow> {
        amounts
            .into_iter()
            .try_fold(Self::default(), |sum, cents| sum.plus(cents))
    }

    /// The sum, in cents.
    pub(crate) fn cents(self) -> i64 {
        self.0
    }

    fn checked(sum: Option<i64>) -> Result<Self, MoneyOverflow> {
        match sum {
            Some(s) if s.unsigned_abs() <= Cents::MAX.get().unsigned_abs() => Ok(Self(s)),
            _ => Err(MoneyOverflow),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: i64 = (1 << 53) - 1;

    #[test]
    fn sums_are_exact_up_to_the_bound_and_refused_beyond() {
        assert_eq!(Total::of([MAX]).map(Total::cents), Ok(MAX));
        assert_eq!(Total::of([MAX, 1]), Err(MoneyOverflow));
        assert_eq!(
            Total::default().minus(MAX).map(Total::cents),
            Ok(-MAX),
            "a credit down to -MAX"
        );
        assert_eq!(
            Total::default().minus(MAX).and_then(|t| t.minus(1)),
            Err(MoneyOverflow)
        );
        // Values that would wrap i64 itself.
        assert_eq!(Total::of([i64::MAX, 1]), Err(MoneyOverflow));
        assert_eq!(Total::default().minus(i64::MIN), Err(MoneyOverflow));
        // The finding: 1,025 payments of 2^53 - 1 summed to a negative
        // balance; now they are an error.
        assert_eq!(Total::of(vec![MAX; 1_025]), Err(MoneyOverflow));
        // 1,025 payments of $100,000.00 are exact.
        assert_eq!(
            Total::of(vec![10_000_000; 1_025]).map(Total::cents),
            Ok(10_250_000_000)
        );
    }
}
