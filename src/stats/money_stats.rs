//! Streaming summary of money in whole pence ([`MoneyStats`] -> [`MoneySummary`]).
//!
//! Everything is integer: the sum is an `i128` and the sum of squares a 256-bit unsigned
//! integer (two `u128` halves), so merging is exact and `finish()` depends only on the
//! multiset of values pushed, bit for bit, whatever the grouping and order of merges.
//! Neither can overflow while the total count fits in `u64`: |sum| <= n·2^63 < 2^127 and
//! the sum of squares <= n·2^126 < 2^190. The variance numerator `n·S2 - S1²` is computed
//! exactly in 384-bit integers (it is never negative), then converted to f64 once.
//! Rounding (MODEL.md section 9): the mean is the exact sum / n rounded half-even to whole
//! pence; sd and mcse are rounded half-even to whole pence; quantiles, min and max are
//! actual trial values.

use super::moments::PenceMoments;
use super::quantile::QuantileStore;
use crate::money::{Pence, format_pence};

/// Summary of money in pence; see the module documentation.
#[derive(Clone, Debug, PartialEq)]
pub struct MoneySummary {
    pub n: u64,
    pub mean: Pence,
    /// Standard deviation with n - 1, in whole pence; 0 when n < 2.
    pub sd: Pence,
    /// Monte Carlo standard error, sd / sqrt(n) from the unrounded sd, in whole pence.
    pub mcse: Pence,
    pub p5: Pence,
    pub p10: Pence,
    pub p25: Pence,
    pub p50: Pence,
    pub p75: Pence,
    pub p90: Pence,
    pub p95: Pence,
    pub min: Pence,
    pub max: Pence,
    /// The exact sum of all values.
    pub sum: i128,
}

impl MoneySummary {
    /// The JSON summary object of MODEL.md section 9 (`mean`, `sd`, `mcse`, `p5` ...
    /// `p95`), money as strings with exactly two decimals ("123.45").
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "mean": format_pence(self.mean),
            "sd": format_pence(self.sd),
            "mcse": format_pence(self.mcse),
            "p5": format_pence(self.p5),
            "p10": format_pence(self.p10),
            "p25": format_pence(self.p25),
            "p50": format_pence(self.p50),
            "p75": format_pence(self.p75),
            "p90": format_pence(self.p90),
            "p95": format_pence(self.p95),
        })
    }
}

/// Mergeable accumulator of pence; see the module documentation.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct MoneyStats {
    /// Count, exact sum and exact sum of squares.
    moments: PenceMoments,
    min: Pence,
    max: Pence,
    store: QuantileStore<Pence>,
}

/// Most values whose moments [`MoneyStats::push_all`] sums before adding them exactly:
/// with every magnitude below [`BELOW`], 64 values sum to below 2^63 and their squares to
/// below 2^120.
const SHORT: usize = 64;

/// See [`SHORT`].
const BELOW: Pence = 1 << 57;

impl Default for MoneyStats {
    fn default() -> Self {
        MoneyStats {
            moments: PenceMoments::default(),
            min: Pence::MAX,
            max: Pence::MIN,
            store: QuantileStore::default(),
        }
    }
}

impl MoneyStats {
    pub fn new() -> Self {
        Self::default()
    }

    #[inline]
    pub fn push(&mut self, p: Pence) {
        self.moments.push(p);
        self.min = self.min.min(p);
        self.max = self.max.max(p);
        self.store.push(p);
    }

    /// Pushes every value of `ps` in turn (the same state as [`MoneyStats::push`] on each),
    /// with the running state in registers: one scalar pass for the moments and extremes,
    /// then the keys appended to the quantile buffer. The moments of up to 64 (`SHORT`)
    /// values at a time are summed in an `i64` and a `u128`, which cannot overflow while
    /// every value is below 2^57 in magnitude (the extremes, found in the same pass, say
    /// whether they were), and added to the exact sums at once; otherwise they are pushed
    /// one by one. Exact integer sums do not depend on their grouping.
    #[inline(always)]
    pub fn push_all(&mut self, ps: &[Pence]) {
        let (mut min, mut max) = (self.min, self.max);
        for run in ps.chunks(SHORT) {
            let (mut low, mut high, mut sum, mut squares) = (Pence::MAX, Pence::MIN, 0i64, 0u128);
            for &p in run {
                low = low.min(p);
                high = high.max(p);
                sum = sum.wrapping_add(p);
                // A signed widening product (one `imul`), never negative and below 2^126.
                let square = i128::from(p) * i128::from(p);
                squares = squares.wrapping_add(square as u128);
            }
            if -BELOW < low && high < BELOW {
                self.moments
                    .add_sums(run.len() as u64, i128::from(sum), squares);
            } else {
                run.iter().for_each(|&p| self.moments.push(p));
            }
            (min, max) = (min.min(low), max.max(high));
        }
        (self.min, self.max) = (min, max);
        self.store.push_all(ps);
    }

    pub fn merge(&mut self, other: &MoneyStats) {
        self.moments.merge(&other.moments);
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
        self.store.merge(&other.store);
    }

    /// The count, exact sum and exact sum of squares (what `finish`'s mean, sd and mcse
    /// come from), without folding the quantile buffer.
    pub fn moments(&self) -> &PenceMoments {
        &self.moments
    }

    pub fn len(&self) -> u64 {
        self.moments.len()
    }

    pub fn is_empty(&self) -> bool {
        self.moments.is_empty()
    }

    /// Checks a state read from a shard partial that should hold `n` values: its count
    /// and its quantile store's are `n`, and the exact sum lies within n x [min, max].
    /// The error says what is wrong (the caller names the field).
    pub fn check_count(&self, n: u64) -> Result<(), String> {
        if self.moments.len() != n {
            return Err(format!("holds {} values, not {n}", self.moments.len()));
        }
        let stored = self.store.checked_len();
        if stored != Some(n) {
            let stored = stored.map_or("more than 2^64".into(), |s| s.to_string());
            return Err(format!("holds {stored} values for its quantiles, not {n}"));
        }
        let count = i128::from(n);
        let sum = self.moments.sum();
        let (low, high) = (
            count.checked_mul(i128::from(self.min)),
            count.checked_mul(i128::from(self.max)),
        );
        if n > 0 && !matches!((low, high), (Some(l), Some(h)) if l <= sum && sum <= h) {
            return Err(format!(
                "has a sum of {} pence, outside {n} x [min {}, max {}]",
                sum, self.min, self.max
            ));
        }
        Ok(())
    }

    /// Folds the quantile buffer in (the state is the same; queries then read the store
    /// without copying it).
    pub fn settle(&mut self) {
        self.store.settle();
    }

    /// The summary; n = 0 gives all zeros.
    pub fn finish(&self) -> MoneySummary {
        let Some(p) = self.store.percentiles() else {
            return MoneySummary {
                n: 0,
                mean: 0,
                sd: 0,
                mcse: 0,
                p5: 0,
                p10: 0,
                p25: 0,
                p50: 0,
                p75: 0,
                p90: 0,
                p95: 0,
                min: 0,
                max: 0,
                sum: 0,
            };
        };
        let n = self.moments.len();
        let (sd, mcse) = (self.moments.sd_pence(), self.moments.mcse_pence());
        MoneySummary {
            n,
            mean: self.moments.mean_pence(),
            sd,
            mcse,
            p5: p[0],
            p10: p[1],
            p25: p[2],
            p50: p[3],
            p75: p[4],
            p90: p[5],
            p95: p[6],
            min: self.min,
            max: self.max,
            sum: self.moments.sum(),
        }
    }
}

/// `sum / n` rounded half-even; the mean of i64 values always fits in i64.
pub(super) fn mean_half_even(sum: i128, n: u64) -> Pence {
    let n = i128::from(n);
    let (quotient, remainder) = (sum.div_euclid(n), sum.rem_euclid(n));
    let rounded = match (2 * remainder).cmp(&n) {
        std::cmp::Ordering::Less => quotient,
        std::cmp::Ordering::Greater => quotient + 1,
        std::cmp::Ordering::Equal => quotient + (quotient & 1),
    };
    rounded as Pence
}

/// A non-negative f64 amount of pence rounded half-even (saturating: sd of i64 values is
/// below 2^63).
pub(super) fn round_to_pence(x: f64) -> Pence {
    crate::money::round_ties_even(x) as Pence
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::testing::{Lcg, assert_groupings_agree};

    fn stats_of(values: &[Pence]) -> MoneyStats {
        let mut s = MoneyStats::new();
        for &v in values {
            s.push(v);
        }
        s
    }

    #[test]
    fn mean_rounds_half_even() {
        assert_eq!(stats_of(&[2, 3]).finish().mean, 2); // 2.5 -> 2
        assert_eq!(stats_of(&[3, 4]).finish().mean, 4); // 3.5 -> 4
        assert_eq!(stats_of(&[0, 5]).finish().mean, 2); // sum 5 over 2 trials
        assert_eq!(stats_of(&[-2, -3]).finish().mean, -2);
        assert_eq!(stats_of(&[-3, -4]).finish().mean, -4);
        assert_eq!(stats_of(&[1, 1, 0]).finish().mean, 1); // 0.667
        assert_eq!(stats_of(&[-1, 0, 0]).finish().mean, 0); // -0.333
        assert_eq!(stats_of(&[i64::MAX, i64::MAX]).finish().mean, i64::MAX);
        assert_eq!(stats_of(&[i64::MIN, i64::MIN]).finish().mean, i64::MIN);
    }

    #[test]
    fn sd_and_mcse_against_reference() {
        let s = stats_of(&[100, 200, 300, 400]).finish();
        // var = 50000/3 = 16666.67, sd = 129.099, mcse = 64.55
        assert_eq!((s.sd, s.mcse), (129, 65));
        assert_eq!(s.sum, 1000);
        assert_eq!((s.min, s.max, s.n), (100, 400, 4));
        // Large values with a small spread: exact integers do not cancel.
        let base = 900_000_000_000_000i64;
        let s = stats_of(&[base, base + 2, base + 4]).finish();
        assert_eq!((s.mean, s.sd, s.mcse), (base + 2, 2, 1));
        let single = stats_of(&[-7]).finish();
        assert_eq!(
            (single.mean, single.sd, single.mcse, single.p50),
            (-7, 0, 0, -7)
        );
    }

    #[test]
    fn extreme_values_do_not_overflow() {
        let s = stats_of(&[i64::MIN, i64::MAX, i64::MIN, i64::MAX]).finish();
        assert_eq!(s.sum, -2);
        assert_eq!(s.mean, 0); // -0.5 -> 0
        // sd = 2^63 * sqrt(4/3) ~ 1.065e19 saturates at i64::MAX.
        assert_eq!(s.sd, i64::MAX);
        assert_eq!((s.min, s.max), (i64::MIN, i64::MAX));
    }

    #[test]
    fn empty_gives_zeros() {
        let s = MoneyStats::new().finish();
        assert_eq!(
            (s.n, s.mean, s.sd, s.mcse, s.p50, s.min, s.max, s.sum),
            (0, 0, 0, 0, 0, 0, 0, 0)
        );
        assert!(MoneyStats::new().is_empty());
        let mut merged = MoneyStats::new();
        merged.merge(&MoneyStats::new());
        assert_eq!(merged.finish(), s);
    }

    #[test]
    fn json_uses_two_decimal_strings() {
        let s = stats_of(&[12345, -5, 0, 10000]).finish();
        let json = s.to_json();
        let keys: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.as_str())
            .collect();
        assert_eq!(
            keys,
            [
                "mean", "sd", "mcse", "p5", "p10", "p25", "p50", "p75", "p90", "p95"
            ]
        );
        assert_eq!(json["mean"], "55.85"); // 22340 / 4
        assert_eq!(json["p5"], "-0.05");
        assert_eq!(json["p50"], "0.00");
        assert_eq!(json["p95"], "123.45");
    }

    #[test]
    fn push_all_equals_push_one_by_one() {
        let mut rng = Lcg::new(5);
        let values: Vec<Pence> = (0..20_000)
            .map(|i| match i % 3 {
                0 => rng.below(1_000_000_000) as i64 - 500_000_000,
                1 => i64::MIN + rng.below(10) as i64,
                _ => i64::MAX - rng.below(10) as i64,
            })
            .collect();
        // Runs of values summed in machine words (magnitudes up to just below 2^57, the
        // largest allowed, with some runs reaching 2^57 and beyond, summed exactly).
        let edge = BELOW - 1;
        let moderate: Vec<Pence> = (0..20_000)
            .map(|i| match (i / 100 % 4, i % 5) {
                (0, _) => rng.below(1_000_000_000) as i64 - 500_000_000,
                (1, 0) => edge - rng.below(3) as i64,
                (1, 1) => -edge + rng.below(3) as i64,
                (2, 0) => BELOW,
                (2, 1) => -BELOW,
                (3, 0) => i64::MIN,
                _ => rng.below(1000) as i64,
            })
            .collect();
        for values in [values, moderate] {
            let mut one = MoneyStats::new();
            values.iter().for_each(|&v| one.push(v));
            for chunk in [777, 32, 1] {
                let mut all = MoneyStats::new();
                values.chunks(chunk).for_each(|c| all.push_all(c));
                all.push_all(&[]);
                let json = |s: &MoneyStats| serde_json::to_string(s).unwrap();
                assert_eq!(json(&one), json(&all), "chunks of {chunk}");
            }
        }
    }

    #[test]
    fn merge_grouping_is_bit_identical() {
        let mut rng = Lcg::new(7);
        let values: Vec<Pence> = (0..5_000)
            .map(|i| match i % 4 {
                0 => rng.below(1_000_000_000_000) as i64,
                1 => -(rng.below(1_000) as i64),
                2 => 900_000_000_000_000 + rng.below(100) as i64,
                _ => rng.below(10) as i64,
            })
            .collect();
        let summaries = assert_groupings_agree(
            &values,
            64,
            MoneyStats::new,
            |s, &v| s.push(v),
            |a, b| a.merge(b),
            MoneyStats::finish,
        );
        let reference_sum: i128 = values.iter().map(|&v| i128::from(v)).sum();
        assert_eq!(summaries.sum, reference_sum);
    }
}
