//! Rank: Spearman rank correlation of each input's sampled value (an outcome counts as
//! 0/1) with total paid and each partner's net, from one run.
//!
//! Per-trial values are kept (trials x (inputs + outputs) doubles), so the run is capped
//! at `MAX_TRIALS`; beyond it the first `MAX_TRIALS` trials are used and the report says
//! so. Ties get average ranks, so yes/no inputs and outputs with many equal values (paid
//! in full, paid nothing) are handled correctly.
use super::{Input, InputKind, collect, outputs};
use crate::engine::EngineError;
use crate::model::Model;

/// Most trials whose values are kept for rank correlations.
pub const MAX_TRIALS: u64 = 1_000_000;

#[derive(Clone, Debug)]
pub struct RankRow {
    pub path: String,
    pub correlated: bool,
    /// Per output (paid, then each partner's net); None when either side is constant.
    pub rho: Vec<Option<f64>>,
}

#[derive(Clone, Debug)]
pub struct RankResult {
    pub trials: u64,
    pub rows: Vec<RankRow>,
}

/// Average ranks (1-based) of `x`, ties sharing the mean of their positions.
pub fn ranks(x: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..x.len()).collect();
    order.sort_by(|&a, &b| x[a].total_cmp(&x[b]));
    let mut r = vec![0.0; x.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && x[order[j + 1]] == x[order[i]] {
            j += 1;
        }
        let average = (i + j) as f64 / 2.0 + 1.0;
        for &k in &order[i..=j] {
            r[k] = average;
        }
        i = j + 1;
    }
    r
}

/// Pearson correlation; None when either series is constant.
pub fn pearson(a: &[f64], b: &[f64]) -> Option<f64> {
    let n = a.len() as f64;
    let ma = a.iter().sum::<f64>() / n;
    let mb = b.iter().sum::<f64>() / n;
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        sab += (x - ma) * (y - mb);
        saa += (x - ma) * (x - ma);
        sbb += (y - mb) * (y - mb);
    }
    if saa <= 0.0 || sbb <= 0.0 {
        None
    } else {
        Some((sab / (saa * sbb).sqrt()).clamp(-1.0, 1.0))
    }
}

/// Spearman rank correlation.
pub fn spearman(a: &[f64], b: &[f64]) -> Option<f64> {
    pearson(&ranks(a), &ranks(b))
}

/// Rank correlations of every input with every output over trials 0..min(trials, MAX).
pub fn rank(
    model: &Model,
    inputs: &[Input],
    trials: u64,
    threads: usize,
) -> Result<RankResult, EngineError> {
    let n = trials.min(MAX_TRIALS);
    let n_out = 1 + model.partners;
    let width = inputs.len() + n_out;
    let data = collect(model, 0..n, threads, width, |t, rows| {
        for input in inputs {
            rows.push(match input.kind {
                InputKind::Param(i) => t.values[i],
                InputKind::Outcome(o) => f64::from(u8::from(t.occurs[o])),
            });
        }
        rows.extend(outputs(t));
    })?;
    let column = |c: usize| -> Vec<f64> { data.iter().skip(c).step_by(width).copied().collect() };
    let output_ranks: Vec<Vec<f64>> = (0..n_out)
        .map(|k| ranks(&column(inputs.len() + k)))
        .collect();
    let rows = inputs
        .iter()
        .enumerate()
        .map(|(j, input)| {
            let r = ranks(&column(j));
            RankRow {
                path: input.path.clone(),
                correlated: input.correlated(),
                rho: output_ranks.iter().map(|o| pearson(&r, o)).collect(),
            }
        })
        .collect();
    Ok(RankResult { trials: n, rows })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_share_average_ranks() {
        assert_eq!(ranks(&[3.0, 1.0, 3.0, 2.0]), vec![3.5, 1.0, 3.5, 2.0]);
    }

    #[test]
    fn spearman_of_monotone_maps_is_one() {
        let a: Vec<f64> = (0..50).map(|i| i as f64).collect();
        let b: Vec<f64> = a.iter().map(|x| x.powi(3) - 7.0).collect();
        let c: Vec<f64> = a.iter().map(|x| (-x).exp()).collect();
        assert!((spearman(&a, &b).unwrap() - 1.0).abs() < 1e-12);
        assert!((spearman(&a, &c).unwrap() + 1.0).abs() < 1e-12);
        assert_eq!(spearman(&a, &[1.0; 50]), None);
    }

    #[test]
    fn spearman_matches_the_textbook_formula_without_ties() {
        // 1 - 6 sum d^2 / (n (n^2 - 1)) with d = rank differences.
        let a = [1.0, 2.0, 3.0, 4.0, 5.0];
        let b = [2.0, 1.0, 4.0, 3.0, 5.0];
        let expected = 1.0 - 6.0 * 4.0 / (5.0 * 24.0);
        assert!((spearman(&a, &b).unwrap() - expected).abs() < 1e-12);
    }
}
