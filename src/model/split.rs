//! Splitting whole pence between partners by shares so the parts add up exactly.
//!
//! Each part is rounded half-even; the rounding residue (a few pence at most) goes to the
//! partner with the largest share (the first such on ties). Deterministic and exact:
//! `split(total, shares).sum() == total` always.
//!
//! A trial splits every scheme's spend and the fund's released and unreleased money, each
//! by shares fixed for the run, so the model prepares each list once as a [`Split`]: the
//! largest share found at compile time, and a list that gives everything to one partner
//! (the common case) recognised, whose split is the whole to that partner and nothing to
//! the rest (what the general rule gives it, without rounding anything).

/// Splits `total` pence by `shares` (summing to 1) into `out`.
pub fn split_pence(total: i64, shares: &[f64], out: &mut [i64]) {
    split_with(total, shares, largest(shares), out);
}

/// The index of the largest share, the first such on ties (0 for no shares).
fn largest(shares: &[f64]) -> usize {
    let mut largest = 0;
    for (i, share) in shares.iter().enumerate() {
        if *share > shares[largest] {
            largest = i;
        }
    }
    largest
}

/// `split_pence` with the largest share's index already found.
fn split_with(total: i64, shares: &[f64], largest: usize, out: &mut [i64]) {
    let mut assigned: i64 = 0;
    for (out, share) in out.iter_mut().zip(shares) {
        let part = if *share == 1.0 {
            total
        } else if *share == 0.0 {
            0
        } else {
            crate::money::round_ties_even_i64(total as f64 * share)
        };
        *out = part;
        assigned += part;
    }
    if !shares.is_empty() {
        out[largest] += total - assigned;
    }
}

/// A list of shares prepared for many splits; see the module documentation.
#[derive(Clone, Debug)]
pub struct Split {
    shares: Vec<f64>,
    largest: usize,
    whole: Option<usize>,
}

impl Split {
    pub fn new(shares: &[f64]) -> Split {
        let ones = shares.iter().filter(|&&s| s == 1.0).count();
        let zeros = shares.iter().filter(|&&s| s == 0.0).count();
        let whole = (ones == 1 && ones + zeros == shares.len())
            .then(|| shares.iter().position(|&s| s == 1.0))
            .flatten();
        Split {
            shares: shares.to_vec(),
            largest: largest(shares),
            whole,
        }
    }

    /// The shares as given.
    pub fn shares(&self) -> &[f64] {
        &self.shares
    }

    /// The partner that takes every penny, when one share is 1 and the rest 0.
    #[inline]
    pub fn whole(&self) -> Option<usize> {
        self.whole
    }

    /// `split_pence(total, shares, out)`.
    #[inline]
    pub fn split(&self, total: i64, out: &mut [i64]) {
        match self.whole {
            Some(p) => {
                out.fill(0);
                out[p] = total;
            }
            None => split_with(total, &self.shares, self.largest, out),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_sum_exactly() {
        let mut out = [0i64; 3];
        for total in [0i64, 1, 2, 3, 100, 12_345_678_901, -7] {
            split_pence(total, &[1.0 / 3.0, 1.0 / 3.0, 1.0 / 3.0], &mut out);
            assert_eq!(out.iter().sum::<i64>(), total);
        }
        split_pence(101, &[0.5, 0.5, 0.0], &mut out);
        assert_eq!(out, [51, 50, 0]);
        split_pence(101, &[0.0, 1.0, 0.0], &mut out);
        assert_eq!(out, [0, 101, 0]);
    }

    /// A prepared split gives what `split_pence` gives, whole or shared.
    #[test]
    fn prepared_split_equals_split_pence() {
        let lists: [&[f64]; 7] = [
            &[0.0, 1.0, 0.0],
            &[1.0, 0.0, 0.0],
            &[-0.0, 1.0, 0.0],
            &[0.5, 0.5, 0.0],
            &[0.2, 0.3, 0.5],
            &[1.0 / 3.0, 1.0 / 3.0, 1.0 / 3.0],
            &[0.7, 0.3, 0.0],
        ];
        let (mut want, mut got) = ([0i64; 3], [9i64; 3]);
        for shares in lists {
            let split = Split::new(shares);
            assert_eq!(split.whole().is_some(), shares.contains(&1.0));
            for total in [0i64, 1, 2, 3, 101, 12_345_678_901, -7, -1 << 53, 1 << 53] {
                split_pence(total, shares, &mut want);
                split.split(total, &mut got);
                assert_eq!(want, got, "{shares:?} {total}");
            }
        }
    }
}
