//! Quantiles by the inverted-CDF definition (MODEL.md section 9): the q-quantile of n
//! values is the smallest value x with F_n(x) >= q, i.e. `sorted[ceil(q * n) - 1]`, an
//! actual trial value.
//!
//! [`QuantileStore`] is the only place that holds values for quantiles. For now it keeps
//! every value and sorts at the end, so its answers depend only on the multiset of values
//! pushed and merged. It is private to `stats` on purpose: a bounded-memory mergeable
//! sketch (within 0.001 in rank, MODEL.md section 7) can replace it without touching the
//! callers. Ranks use integer percentages so `ceil(q * n)` is computed exactly.

use std::cmp::Ordering;

/// The percentiles every summary reports, in the order of the JSON contract.
pub(crate) const PERCENTS: [u32; 7] = [5, 10, 25, 50, 75, 90, 95];

/// Zero-based index of the `percent` quantile among `n > 0` sorted values.
pub(crate) fn rank_index(n: usize, percent: u32) -> usize {
    debug_assert!(n > 0 && (1..=100).contains(&percent));
    let rank = (n as u128 * u128::from(percent)).div_ceil(100);
    (rank.max(1) - 1) as usize
}

/// All values pushed, kept for exact quantiles.
#[derive(Clone, Debug, Default)]
pub(crate) struct QuantileStore<T> {
    values: Vec<T>,
}

impl<T: Copy> QuantileStore<T> {
    #[inline]
    pub(crate) fn push(&mut self, x: T) {
        self.values.push(x);
    }

    pub(crate) fn merge(&mut self, other: &QuantileStore<T>) {
        self.values.extend_from_slice(&other.values);
    }

    /// The [`PERCENTS`] quantiles under the total order `compare`, or `None` when empty.
    pub(crate) fn percentiles(
        &self,
        compare: impl Fn(&T, &T) -> Ordering,
    ) -> Option<[T; PERCENTS.len()]> {
        if self.values.is_empty() {
            return None;
        }
        let mut sorted = self.values.clone();
        sorted.sort_unstable_by(compare);
        Some(PERCENTS.map(|percent| sorted[rank_index(sorted.len(), percent)]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn percentiles(values: &[i64]) -> [i64; 7] {
        let mut store = QuantileStore::default();
        for &v in values {
            store.push(v);
        }
        store.percentiles(i64::cmp).unwrap()
    }

    #[test]
    fn rank_index_matches_definition() {
        // n = 10: ceil(0.05*10)=1, ceil(0.1*10)=1, ceil(2.5)=3, 5, ceil(7.5)=8, 9, ceil(9.5)=10
        let expected = [0, 0, 2, 4, 7, 8, 9];
        for (percent, index) in PERCENTS.iter().zip(expected) {
            assert_eq!(rank_index(10, *percent), index, "p{percent}");
        }
        // n = 20: q*n exactly an integer must not round up (0.05*20 = 1 -> index 0).
        assert_eq!(rank_index(20, 5), 0);
        assert_eq!(rank_index(20, 50), 9);
        assert_eq!(rank_index(20, 95), 18);
        assert_eq!(rank_index(1, 5), 0);
        assert_eq!(rank_index(1, 95), 0);
        assert_eq!(rank_index(usize::MAX, 100), usize::MAX - 1);
    }

    #[test]
    fn small_hand_examples() {
        assert_eq!(percentiles(&[7]), [7; 7]);
        let ten = [10, 1, 9, 2, 8, 3, 7, 4, 6, 5];
        assert_eq!(percentiles(&ten), [1, 1, 3, 5, 8, 9, 10]);
        let ties = [2, 2, 2, 1, 3, 3, 2, 2, 2, 2];
        assert_eq!(percentiles(&ties), [1, 1, 2, 2, 2, 3, 3]);
        assert!(
            QuantileStore::<i64>::default()
                .percentiles(i64::cmp)
                .is_none()
        );
    }

    #[test]
    fn merge_appends() {
        let mut a = QuantileStore::default();
        let mut b = QuantileStore::default();
        for v in 0..5 {
            a.push(v);
            b.push(v + 5);
        }
        b.merge(&a);
        assert_eq!(b.percentiles(i64::cmp).unwrap(), [0, 0, 2, 4, 7, 8, 9]);
    }
}
