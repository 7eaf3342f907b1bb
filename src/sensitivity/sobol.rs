//! Sobol indices by the A/B/AB_i scheme on the inputs' uniforms.
//!
//! Row r of matrix A is trial r (every stream as a plain run draws it); row r of B is
//! trial N + r; AB_i is trial r with input i's uniforms taken from trial N + r (the
//! `Donor` hook of the sampler: B's row is recomputed from the streams, not stored).
//! Inputs not analysed and the observation noise ride along in A's streams, so they are
//! part of the residual. First order: Saltelli et al. (2010, Table 2 (b)) on the centred
//! output, S_i = mean((f_B - f0) (f_ABi - f_A)) / V, f0 the mean of f_A and f_B pooled
//! (the centring Sobol' (2001) recommends; without it the estimate carries an extra
//! f0 mean(f_ABi - f_A), zero only in expectation, so adding a constant to the output
//! moved it); total effect: Jansen (1999), ST_i = mean((f_A - f_ABi)^2) / (2 V); V is the
//! variance of f_A and f_B pooled, from deviations about f0. Both are therefore the same
//! for f and c ± f in exact arithmetic. The outputs are whole pence (as f64), so sums and
//! deviations scaled by 2N are exact integers while |2N f| stays below 2^53 (outputs up
//! to £2.2bn at 20,000 rows per matrix), and then f and c - f give bit-identical indices
//! (beyond that, equal within rounding). Confidence intervals: percentile bootstrap over
//! rows with a fixed stream, each resample centred on its own f0. For a correlated input
//! the uniforms are the copula's independent inputs, so its indices include what it
//! drives in its partners.
use super::{Input, InputKind, collect, outputs_pence};
use crate::engine::EngineError;
use crate::model::Model;
use crate::rng::{path_key, stream, stream_key};
use crate::sampling::Donor;

/// An index with its bootstrap 95% interval (None when the variance is zero).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    pub value: f64,
    pub low: f64,
    pub high: f64,
}

#[derive(Clone, Debug)]
pub struct SobolRow {
    pub path: String,
    pub correlated: bool,
    /// Per output: (first order, total effect).
    pub indices: Vec<Option<(Estimate, Estimate)>>,
}

#[derive(Clone, Debug)]
pub struct SobolResult {
    pub rows_per_matrix: u64,
    pub bootstrap: u64,
    pub rows: Vec<SobolRow>,
    pub warnings: Vec<String>,
}

/// Point estimates (first, total) from f_A, f_B, f_ABi over the rows `rows` (repeats
/// allowed: a bootstrap resample).
///
/// With m = rows.len(), every deviation from f0 is kept scaled by 2m (d = 2m f - sum,
/// sum over f_A and f_B), so no division happens before the last step: for whole-number
/// outputs d is exact, and an output c - f has d exactly -d of f. The products that
/// follow then differ only in sign pairs, which round identically.
fn point(a: &[f64], b: &[f64], ab: &[f64], rows: &[usize]) -> Option<(f64, f64)> {
    let m = rows.len() as f64;
    let two_m = 2.0 * m;
    let sum: f64 = rows.iter().map(|&r| a[r] + b[r]).sum();
    let (mut squares, mut first, mut total) = (0.0, 0.0, 0.0);
    for &r in rows {
        let da = two_m * a[r] - sum;
        let db = two_m * b[r] - sum;
        squares += da * da + db * db;
        first += db * (ab[r] - a[r]);
        total += (a[r] - ab[r]) * (a[r] - ab[r]);
    }
    let mean = sum / two_m;
    let variance = squares / (two_m * two_m) / (two_m - 1.0);
    let large_enough = variance > 1e-12 * (mean * mean).max(1.0);
    if !large_enough {
        return None;
    }
    Some((first / two_m / m / variance, total / two_m / variance))
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    let k = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[k]
}

/// Indices with bootstrap intervals from per-row outputs of one input's AB matrix.
pub fn estimate(
    a: &[f64],
    b: &[f64],
    ab: &[f64],
    bootstrap: u64,
    seed: u64,
) -> Option<(Estimate, Estimate)> {
    let n = a.len();
    let mut rows: Vec<usize> = (0..n).collect();
    let (first, total) = point(a, b, ab, &rows)?;
    let key = stream_key(seed, path_key("sensitivity.sobol.bootstrap"));
    let mut firsts = Vec::with_capacity(bootstrap as usize);
    let mut totals = Vec::with_capacity(bootstrap as usize);
    for rep in 0..bootstrap {
        let mut s = stream(key, rep);
        for row in rows.iter_mut() {
            *row = ((s.uniform() * n as f64) as usize).min(n - 1);
        }
        if let Some((f, t)) = point(a, b, ab, &rows) {
            firsts.push(f);
            totals.push(t);
        }
    }
    if firsts.is_empty() {
        return None;
    }
    firsts.sort_by(f64::total_cmp);
    totals.sort_by(f64::total_cmp);
    Some((
        Estimate {
            value: first,
            low: percentile(&firsts, 0.025),
            high: percentile(&firsts, 0.975),
        },
        Estimate {
            value: total,
            low: percentile(&totals, 0.025),
            high: percentile(&totals, 0.975),
        },
    ))
}

/// Sobol indices of `inputs` (already the chosen top ones) with `n` rows per matrix:
/// (inputs + 2) x n trials. Rows come back sorted by total effect on paid.
pub fn sobol(
    model: &Model,
    inputs: &[Input],
    n: u64,
    threads: usize,
    bootstrap: u64,
    mut progress: impl FnMut(usize),
) -> Result<SobolResult, EngineError> {
    let n_out = 1 + model.partners;
    // Whole pence: the estimator is exact on integers (see `point`).
    let grab = |t: &crate::model::Trial, rows: &mut Vec<f64>| rows.extend(outputs_pence(t));
    let fa = collect(model, 0..n, threads, n_out, grab)?;
    let fb = collect(model, n..2 * n, threads, n_out, grab)?;
    let column =
        |d: &[f64], k: usize| -> Vec<f64> { d.iter().skip(k).step_by(n_out).copied().collect() };
    let a_cols: Vec<Vec<f64>> = (0..n_out).map(|k| column(&fa, k)).collect();
    let b_cols: Vec<Vec<f64>> = (0..n_out).map(|k| column(&fb, k)).collect();
    let mut rows = Vec::new();
    let mut warnings = Vec::new();
    for (k, input) in inputs.iter().enumerate() {
        progress(k);
        let mut m = model.clone();
        let mut donor = Donor {
            offset: n,
            ..Donor::default()
        };
        match input.kind {
            InputKind::Param(i) => {
                donor.params.push(i);
                donor.outcomes.extend(&input.outcomes);
            }
            InputKind::Outcome(o) => donor.outcomes.push(o),
        }
        m.sampler.donor = Some(donor);
        let fab = collect(&m, 0..n, threads, n_out, grab)?;
        let indices: Vec<_> = (0..n_out)
            .map(|o| {
                estimate(
                    &a_cols[o],
                    &b_cols[o],
                    &column(&fab, o),
                    bootstrap,
                    model.seed,
                )
            })
            .collect();
        for (o, est) in indices.iter().enumerate() {
            let Some((first, total)) = est else { continue };
            let name = super::output_names(model)[o].clone();
            for (what, e) in [("first-order", first), ("total-effect", total)] {
                if e.high < 0.0 {
                    warnings.push(format!(
                        "{} on {name}: {what} index {:.3} is negative beyond its interval [{:.3}, {:.3}]: the estimate is unreliable at {n} rows; raise --trials",
                        input.path, e.value, e.low, e.high
                    ));
                }
            }
            if first.high - first.low > 0.1 || total.high - total.low > 0.1 {
                warnings.push(format!(
                    "{} on {name}: intervals wider than 0.1 (first-order [{:.3}, {:.3}], total [{:.3}, {:.3}]): too few rows ({n}) for stable indices; raise --trials",
                    input.path, first.low, first.high, total.low, total.high
                ));
            }
        }
        rows.push(SobolRow {
            path: input.path.clone(),
            correlated: input.correlated(),
            indices,
        });
    }
    // Largest total effect on paid first (rows without indices last).
    let total_on_paid = |r: &SobolRow| r.indices[0].map_or(f64::NEG_INFINITY, |(_, t)| t.value);
    rows.sort_by(|a, b| total_on_paid(b).total_cmp(&total_on_paid(a)));
    if n < 1000 {
        warnings.insert(
            0,
            format!(
                "{n} rows per matrix is too few for stable Sobol indices (use at least 10,000)"
            ),
        );
    }
    Ok(SobolResult {
        rows_per_matrix: n,
        bootstrap,
        rows,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// f of each row of `a` with its input `i` taken from the same row of `b`: the
    /// estimator's A_B^(i) outputs.
    fn swapped(a: &[[f64; 3]], b: &[[f64; 3]], i: usize, f: impl Fn([f64; 3]) -> f64) -> Vec<f64> {
        a.iter()
            .zip(b)
            .map(|(ra, rb)| {
                let mut x = *ra;
                x[i] = rb[i];
                f(x)
            })
            .collect()
    }

    /// Y = 1 x1 + 2 x2 + x1 x3 with independent uniforms on (0, 1): closed forms.
    /// Var(x) = 1/12, E x = 1/2. Y = x1 (1 + x3) + 2 x2.
    /// V1 = Var(E[Y|x1]) = Var(1.5 x1) = 2.25/12; V2 = 4/12; V3 = Var(x3/2) = 0.25/12;
    /// V13 = Var(x1 x3 - x1/2 - x3/2 + 1/4) = Var((x1-1/2)(x3-1/2)) = 1/144.
    #[test]
    fn indices_match_closed_forms_for_a_known_function() {
        let n = 40_000;
        let u = |t: u64, j: u64| stream(stream_key(3, path_key("x")), t * 8 + j).uniform();
        let f = |x: [f64; 3]| x[0] + 2.0 * x[1] + x[0] * x[2];
        let a: Vec<[f64; 3]> = (0..n).map(|t| [u(t, 0), u(t, 1), u(t, 2)]).collect();
        let b: Vec<[f64; 3]> = (0..n).map(|t| [u(t, 3), u(t, 4), u(t, 5)]).collect();
        let fa: Vec<f64> = a.iter().map(|x| f(*x)).collect();
        let fb: Vec<f64> = b.iter().map(|x| f(*x)).collect();
        let v1 = 2.25 / 12.0;
        let v2 = 4.0 / 12.0;
        let v3 = 0.25 / 12.0;
        let v13 = 1.0 / 144.0;
        let v = v1 + v2 + v3 + v13;
        let expected = [
            (v1 / v, (v1 + v13) / v),
            (v2 / v, v2 / v),
            (v3 / v, (v3 + v13) / v),
        ];
        for (i, (s, st)) in expected.iter().enumerate() {
            let fab = swapped(&a, &b, i, f);
            let (first, total) = estimate(&fa, &fb, &fab, 100, 1).unwrap();
            // Within about 4 standard errors (the 95% interval is ~3.9 se wide).
            assert!(
                (first.value - s).abs() <= first.high - first.low,
                "S{i}: {first:?} vs {s}"
            );
            assert!(
                (total.value - st).abs() <= total.high - total.low,
                "ST{i}: {total:?} vs {st}"
            );
            // Measured widths: first-order about 0.05, total about 0.02 at 40,000 rows.
            assert!(first.high - first.low < 0.08 && total.high - total.low < 0.04);
        }
    }

    /// An output and a constant minus it (net.nhs = pot - paid when only events decide
    /// the money) have the same variance decomposition, so the same indices: bit for bit
    /// on whole-pence outputs, intervals included. The uncentred first-order estimator
    /// gave 0.354 against 0.383 on such a pair.
    #[test]
    fn an_output_and_a_constant_minus_it_get_identical_indices() {
        let n = 20_000;
        let u = |t: u64, j: u64| stream(stream_key(5, path_key("y")), t * 8 + j).uniform();
        // Pence, as `outputs_pence` gives them: two yes/no events and a continuous input.
        let f = |x: [f64; 3]| {
            let e1 = if x[0] < 0.5 { 30_000.0 } else { 0.0 };
            let e2 = if x[1] < 0.5 { 70_000.0 } else { 0.0 };
            e1 + e2 + (x[2] * 25_000.0).floor()
        };
        let a: Vec<[f64; 3]> = (0..n).map(|t| [u(t, 0), u(t, 1), u(t, 2)]).collect();
        let b: Vec<[f64; 3]> = (0..n).map(|t| [u(t, 3), u(t, 4), u(t, 5)]).collect();
        let c = 100_000.0;
        let flip = |v: &[f64]| -> Vec<f64> { v.iter().map(|y| c - y).collect() };
        let shift = |v: &[f64]| -> Vec<f64> { v.iter().map(|y| y + 987_654_321.0).collect() };
        let fa: Vec<f64> = a.iter().map(|x| f(*x)).collect();
        let fb: Vec<f64> = b.iter().map(|x| f(*x)).collect();
        for i in 0..3 {
            let fab = swapped(&a, &b, i, f);
            let plain = estimate(&fa, &fb, &fab, 200, 1).unwrap();
            let flipped = estimate(&flip(&fa), &flip(&fb), &flip(&fab), 200, 1).unwrap();
            let shifted = estimate(&shift(&fa), &shift(&fb), &shift(&fab), 200, 1).unwrap();
            assert_eq!(plain, flipped, "input {i}: f against {c} - f");
            assert_eq!(plain, shifted, "input {i}: f against f + 987654321");
        }
    }

    #[test]
    fn a_constant_output_has_no_indices() {
        let c = vec![5.0; 100];
        assert!(estimate(&c, &c, &c, 20, 1).is_none());
    }
}
