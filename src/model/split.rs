//! Splitting whole pence between partners by shares so the parts add up exactly.
//!
//! Each part is rounded half-even; the rounding residue (a few pence at most) goes to the
//! partner with the largest share (the first such on ties). Deterministic and exact:
//! `split(total, shares).sum() == total` always.

/// Splits `total` pence by `shares` (summing to 1) into `out`.
pub fn split_pence(total: i64, shares: &[f64], out: &mut [i64]) {
    let mut assigned: i64 = 0;
    let mut largest = 0;
    for (i, share) in shares.iter().enumerate() {
        let part = if *share == 1.0 {
            total
        } else if *share == 0.0 {
            0
        } else {
            crate::money::round_ties_even(total as f64 * share) as i64
        };
        out[i] = part;
        assigned += part;
        if *share > shares[largest] {
            largest = i;
        }
    }
    if !shares.is_empty() {
        out[largest] += total - assigned;
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
}
