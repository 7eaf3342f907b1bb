//! Mean and standard error of whole pence without keeping the values ([`PenceMoments`]):
//! for paired differences (`compare`) and release curves (`thresholds`), where only the
//! mean and its Monte Carlo error are reported and memory must not grow with trials.
//!
//! Invariants as in `money_stats`: the sum is an exact `i128`, the sum of squares an
//! exact 256-bit integer (two `u128` halves), so merging is exact and order-free and
//! `mean_pence` / `mcse` depend only on the multiset of values pushed. The mean is the
//! exact sum / n rounded half-even to the penny, like `MoneySummary::mean`.
use super::exact::Wide;
use super::money_stats::{mean_half_even, round_to_pence};
use crate::money::Pence;

/// Count, exact sum and exact sum of squares of pence; see the module documentation.
/// `MoneyStats` holds one of these beside its quantile store.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PenceMoments {
    n: u64,
    #[serde(with = "super::bits::wide")]
    sum: i128,
    #[serde(with = "super::bits::wide")]
    squares_low: u128,
    #[serde(with = "super::bits::wide")]
    squares_high: u128,
}

impl PenceMoments {
    pub fn new() -> Self {
        Self::default()
    }

    #[inline]
    pub fn push(&mut self, p: Pence) {
        self.n += 1;
        self.sum += i128::from(p);
        let magnitude = u128::from(p.unsigned_abs());
        self.add_squares(magnitude * magnitude, 0);
    }

    #[inline]
    fn add_squares(&mut self, low: u128, high: u128) {
        let (sum, carry) = self.squares_low.overflowing_add(low);
        self.squares_low = sum;
        self.squares_high += high + u128::from(carry);
    }

    /// Adds `n` values whose sum is `sum` and whose squares sum to `squares`: the state of
    /// pushing them one by one (the sums are exact, so their grouping never shows).
    #[inline]
    pub(crate) fn add_sums(&mut self, n: u64, sum: i128, squares: u128) {
        self.n += n;
        self.sum += sum;
        self.add_squares(squares, 0);
    }

    pub fn merge(&mut self, other: &PenceMoments) {
        self.n += other.n;
        self.sum += other.sum;
        self.add_squares(other.squares_low, other.squares_high);
    }

    pub fn len(&self) -> u64 {
        self.n
    }

    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// The exact sum of the values.
    pub fn sum(&self) -> i128 {
        self.sum
    }

    /// Mean in whole pence, half-even; 0 when empty.
    pub fn mean_pence(&self) -> Pence {
        if self.n == 0 {
            0
        } else {
            mean_half_even(self.sum, self.n)
        }
    }

    /// Standard deviation in (real) pence, with n - 1; 0 when n < 2.
    pub fn sd(&self) -> f64 {
        if self.n < 2 {
            return 0.0;
        }
        let count = self.n as f64;
        (self.variance_numerator() / (count * (count - 1.0))).sqrt()
    }

    /// Monte Carlo standard error in (real) pence: sd (n - 1) / sqrt(n); 0 when n < 2.
    pub fn mcse(&self) -> f64 {
        if self.n < 2 {
            return 0.0;
        }
        self.sd() / (self.n as f64).sqrt()
    }

    /// [`PenceMoments::sd`] rounded half-even to whole pence (`MoneySummary::sd`).
    pub fn sd_pence(&self) -> Pence {
        round_to_pence(self.sd())
    }

    /// [`PenceMoments::mcse`] rounded half-even to whole pence.
    pub fn mcse_pence(&self) -> Pence {
        round_to_pence(self.mcse())
    }

    /// `n·S2 - S1²`, exact, converted to f64 once (0 when every value is equal).
    fn variance_numerator(&self) -> f64 {
        let mut squares = Wide::<6>::from_u128(self.squares_low);
        squares.0[2] = self.squares_high as u64;
        squares.0[3] = (self.squares_high >> 64) as u64;
        let scaled = squares.mul_u128(u128::from(self.n));
        let magnitude = self.sum.unsigned_abs();
        let sum_squared = Wide::<6>::from_u128(magnitude).mul_u128(magnitude);
        scaled
            .checked_sub(&sum_squared)
            .map_or(0.0, |numerator| numerator.to_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::MoneyStats;

    #[test]
    fn agrees_with_money_stats_and_merges_exactly() {
        let values: Vec<Pence> = (0..1000).map(|i| (i * 7919 % 1013) - 400).collect();
        let mut whole = PenceMoments::new();
        let mut money = MoneyStats::new();
        for &v in &values {
            whole.push(v);
            money.push(v);
        }
        let summary = money.finish();
        assert_eq!(whole.mean_pence(), summary.mean);
        assert_eq!(whole.mcse_pence(), summary.mcse);
        let (a, b) = values.split_at(333);
        let mut left = PenceMoments::new();
        let mut right = PenceMoments::new();
        a.iter().for_each(|&v| left.push(v));
        b.iter().for_each(|&v| right.push(v));
        right.merge(&left);
        assert_eq!(right, whole);
    }

    #[test]
    fn constant_values_have_zero_error() {
        let mut m = PenceMoments::new();
        for _ in 0..10 {
            m.push(-12_345);
        }
        assert_eq!(m.mean_pence(), -12_345);
        assert_eq!(m.mcse(), 0.0);
    }
}
