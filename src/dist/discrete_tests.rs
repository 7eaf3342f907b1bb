//! Tests for the exact Poisson and binomial inverses against references built by
//! normalised pmf recursion outward from the mode (independent of the code under test).

use super::*;
use statrs::distribution::{DiscreteCDF, Poisson};

/// CDF values P(X <= lo + i) from unnormalised pmf weights, recursion from the mode.
struct Reference {
    lo: u64,
    cdf: Vec<f64>,
}

impl Reference {
    fn from_ratios(mode: u64, max: u64, up: impl Fn(u64) -> f64) -> Reference {
        // up(j) = pmf(j + 1) / pmf(j)
        let mut below = Vec::new();
        let mut w = 1.0;
        let mut j = mode;
        while j > 0 {
            w /= up(j - 1);
            if w < 1e-40 {
                break;
            }
            below.push(w);
            j -= 1;
        }
        let lo = j;
        below.reverse();
        let mut weights = below;
        weights.push(1.0);
        let mut w = 1.0;
        let mut j = mode;
        while j < max {
            w *= up(j);
            if w < 1e-40 {
                break;
            }
            weights.push(w);
            j += 1;
        }
        // Sum each tail from its small end, so upper-tail CDF values keep their
        // relative accuracy (a running sum near 1 would carry ~1e-15 absolute noise).
        let total: f64 = weights.iter().sum();
        let mut above = vec![0.0; weights.len()];
        let mut acc = 0.0;
        for i in (0..weights.len()).rev() {
            above[i] = acc;
            acc += weights[i];
        }
        let mut acc = 0.0;
        let cdf = weights
            .iter()
            .zip(&above)
            .map(|(w, up)| {
                acc += w;
                if acc < 0.5 * total {
                    acc / total
                } else {
                    1.0 - up / total
                }
            })
            .collect();
        Reference { lo, cdf }
    }

    fn poisson(lambda: f64) -> Reference {
        if lambda == 0.0 {
            return Reference {
                lo: 0,
                cdf: vec![1.0],
            };
        }
        Reference::from_ratios(lambda.floor() as u64, u64::MAX, |j| lambda / (j + 1) as f64)
    }

    fn binomial(n: u64, p: f64) -> Reference {
        let q = 1.0 - p;
        let mode = (((n + 1) as f64) * p).floor().min(n as f64) as u64;
        Reference::from_ratios(mode, n, |j| (n - j) as f64 / (j + 1) as f64 * p / q)
    }

    fn quantile(&self, u: f64) -> u64 {
        self.lo + self.cdf.partition_point(|&c| c < u) as u64
    }

    /// True when u lies within floating-point noise of the CDF step below the
    /// reference answer (an exact tie, or a difference below the resolution of u
    /// near 1), where either neighbouring answer is defensible.
    fn ambiguous(&self, u: f64) -> bool {
        let k = self.cdf.partition_point(|&c| c < u);
        let noise = 1e-13 * u.min(1.0 - u) + 4.0 * f64::EPSILON;
        let near = |i: usize| self.cdf.get(i).is_some_and(|&c| (c - u).abs() <= noise);
        near(k) || (k > 0 && near(k - 1))
    }
}

/// Deterministic low-discrepancy u values in (0,1) plus the tails.
fn u_grid(count: usize) -> Vec<f64> {
    let golden = 0.618_033_988_749_894_9;
    let mut us: Vec<f64> = (1..=count).map(|i| (i as f64 * golden).fract()).collect();
    us.extend([
        1e-9,
        1e-6,
        1e-3,
        0.1,
        0.5,
        0.9,
        1.0 - 1e-3,
        1.0 - 1e-6,
        1.0 - 1e-9,
    ]);
    us
}

const LAMBDAS: [f64; 14] = [
    0.0, 1e-3, 0.5, 3.0, 11.99, 12.0, 29.0, 31.0, 50.0, 100.0, 777.7, 7500.0, 1e6, 1e8,
];

#[test]
fn poisson_matches_exact_reference() {
    for &lambda in &LAMBDAS {
        let reference = Reference::poisson(lambda);
        let count = if lambda > 1e7 { 3_000 } else { 20_000 };
        for u in u_grid(count) {
            if reference.ambiguous(u) {
                continue;
            }
            let got = poisson_quantile(lambda, u);
            let want = reference.quantile(u);
            assert_eq!(got, want, "lambda {lambda} u {u}");
        }
    }
}

#[test]
fn poisson_reference_agrees_with_statrs() {
    for &lambda in &[0.5, 3.0, 31.0, 100.0, 777.7] {
        let reference = Reference::poisson(lambda);
        let dist = Poisson::new(lambda).unwrap();
        for (i, c) in reference.cdf.iter().enumerate() {
            let k = reference.lo + i as u64;
            assert!((dist.cdf(k) - c).abs() < 1e-12, "lambda {lambda} k {k}");
        }
    }
}

#[test]
fn poisson_cdf_helper_is_accurate() {
    for &lambda in &[40.0, 100.0, 7500.0, 1e6] {
        let reference = Reference::poisson(lambda);
        for (i, c) in reference.cdf.iter().enumerate().step_by(7) {
            let k = reference.lo + i as u64;
            let got = poisson_cdf(k, lambda);
            assert!(
                (got - c).abs() < 1e-13 * c.max(1e-3),
                "lambda {lambda} k {k}"
            );
        }
    }
}

/// Verifies Giles' coefficients and the confirmation margin: wherever floor(x) of the
/// expansion disagrees with the exact answer, x must lie well inside the margin.
#[test]
fn poisson_expansion_errors_stay_inside_margin() {
    let mut worst = 0.0f64;
    let mut lambda = POISSON_SEQUENTIAL_MAX;
    while lambda < 2e6 {
        let reference = Reference::poisson(lambda);
        let mut us = u_grid(100_000);
        for i in 0..4_000 {
            let tail = 10f64.powf(-3.0 - 9.0 * i as f64 / 4_000.0);
            us.extend([tail, 1.0 - tail]);
        }
        for u in us {
            let w = normal_quantile(u);
            if w.abs() > POISSON_W_TRUSTED {
                continue;
            }
            let x = poisson_expansion(lambda, w);
            let exact = reference.quantile(u);
            if x.floor() as u64 != exact && !reference.ambiguous(u) {
                let gap = (x - x.round()).abs();
                let ratio = gap / poisson_margin(lambda, w, x);
                worst = worst.max(ratio);
                assert!(ratio < 0.3, "lambda {lambda} u {u} x {x} exact {exact}");
            }
        }
        lambda *= if lambda < 100.0 { 1.03 } else { 1.37 };
    }
    eprintln!("worst gap / margin = {worst}");
}

#[test]
fn poisson_monotone_in_u_and_lambda() {
    let mut us = u_grid(2_000);
    us.sort_by(f64::total_cmp);
    for &lambda in &LAMBDAS {
        let mut prev = 0;
        for &u in &us {
            let k = poisson_quantile(lambda, u);
            assert!(k >= prev, "lambda {lambda} u {u}");
            prev = k;
        }
    }
    for &u in &[1e-9, 0.01, 0.3, 0.5, 0.77, 0.99, 1.0 - 1e-9] {
        let mut prev = 0;
        let mut lambda = 0.0;
        while lambda < 300.0 {
            let k = poisson_quantile(lambda, u);
            assert!(k >= prev, "u {u} lambda {lambda}");
            prev = k;
            lambda += 0.0137;
        }
        let mut prev = 0;
        for i in 0..20_000 {
            let lambda = 1e6 + i as f64 * 0.05;
            let k = poisson_quantile(lambda, u);
            assert!(k >= prev, "u {u} lambda {lambda}");
            prev = k;
        }
    }
}

#[test]
fn poisson_edge_inputs_never_panic() {
    for &lambda in &[f64::NAN, -1.0, 0.0, 1e-300, 5.0, 1e4, 1e12, f64::INFINITY] {
        for &u in &[f64::NAN, -1.0, 0.0, 1e-300, 0.5, 1.0 - 1e-16, 1.0, 2.0] {
            let _ = poisson_quantile(lambda, u);
        }
    }
    assert_eq!(poisson_quantile(0.0, 0.99), 0);
    assert_eq!(poisson_quantile(5.0, 0.0), 0);
    assert_eq!(poisson_quantile(f64::NAN, 0.5), 0);
    assert_eq!(poisson_quantile(5.0, f64::NAN), poisson_quantile(5.0, 0.5));
    assert!(poisson_quantile(5.0, 1.0) > 20);
}

#[test]
fn binomial_matches_exact_reference() {
    let ns = [1u64, 2, 5, 33, 400, 1000, 5000, 100_000];
    let ps = [1e-4, 0.01, 0.3, 0.5, 0.5 + 1e-9, 0.82, 0.99, 1.0 - 1e-4];
    for &n in &ns {
        for &p in &ps {
            let reference = Reference::binomial(n, p);
            let mut us = u_grid(3_000);
            us.sort_by(f64::total_cmp);
            let mut prev = 0;
            for u in us {
                let got = binomial_quantile(n, p, u);
                assert!(got >= prev);
                prev = got;
                if reference.ambiguous(u) {
                    continue;
                }
                let want = reference.quantile(u).min(n);
                assert_eq!(got, want, "n {n} p {p} u {u}");
            }
        }
    }
}

/// Verifies the binomial Cornish-Fisher expansion against its confirmation margin.
#[test]
fn binomial_expansion_errors_stay_inside_margin() {
    let mut worst = 0.0f64;
    for &n in &[400u64, 401, 777, 1000, 3000, 10_000, 100_000] {
        for &p in &[0.5, 0.45, 0.3, 0.1, 0.7, 0.9, 0.02, 0.98, 0.003] {
            let variance = n as f64 * p * (1.0 - p);
            if n as f64 * p.min(1.0 - p) < BINOMIAL_SEQUENTIAL_MAX {
                continue;
            }
            let reference = Reference::binomial(n, p);
            let mut us = u_grid(20_000);
            for i in 0..2_000 {
                let tail = 10f64.powf(-3.0 - 9.0 * i as f64 / 2_000.0);
                us.extend([tail, 1.0 - tail]);
            }
            for u in us {
                let w = normal_quantile(u);
                let x = binomial_expansion(n, p, w);
                if w.abs() > 7.0 || reference.ambiguous(u) {
                    continue;
                }
                let exact = reference.quantile(u);
                if x.floor() as u64 != exact {
                    let ratio = (x - x.round()).abs() / binomial_margin(variance, w, x);
                    worst = worst.max(ratio);
                    assert!(ratio < 0.5, "n {n} p {p} u {u} x {x} exact {exact}");
                }
            }
        }
    }
    eprintln!("worst gap / margin = {worst}");
}

#[test]
fn binomial_edge_cases() {
    assert_eq!(binomial_quantile(0, 0.5, 0.7), 0);
    assert_eq!(binomial_quantile(10, 0.0, 0.999), 0);
    assert_eq!(binomial_quantile(10, 1.0, 1e-9), 10);
    assert_eq!(binomial_quantile(10, 0.5, 0.0), 0);
    assert_eq!(binomial_quantile(10, 0.5, 1.0), 10);
    assert_eq!(binomial_quantile(10, f64::NAN, 0.5), 0);
    assert_eq!(binomial_quantile(10, 0.5, f64::NAN), 5);
    // ties: P(X <= 0) = 0.5 for n = 1, p = 0.5 — u = 0.5 must give 0.
    assert_eq!(binomial_quantile(1, 0.5, 0.5), 0);
    assert_eq!(binomial_quantile(1, 0.5, 0.500_000_1), 1);
    assert_eq!(binomial_quantile(2, 0.75, 0.0625), 0);
    assert_eq!(binomial_quantile(2, 0.75, 0.062_500_1), 1);
    for &u in &[1e-300, 1.0 - 1e-16, -3.0, 7.0] {
        let k = binomial_quantile(1_000_000, 0.4, u);
        assert!(k <= 1_000_000);
    }
}

/// Uniforms for the `_given` tests: the grid, the inputs the inverses clean (NaN, 0,
/// negative, 1 and beyond) and, with `extremes`, both tails down to 1e-300 (where the
/// inverses walk with exact CDFs: kept to moderate means, for time).
fn given_uniforms(extremes: bool) -> Vec<f64> {
    let mut us = u_grid(200);
    us.extend([f64::NAN, 0.0, -0.5, 1.0, 1.5, ONE_MINUS, 0.075, 0.925]);
    if extremes {
        for e in (1..=300).step_by(7) {
            let tail = 10f64.powi(-e);
            us.extend([tail, 1.0 - tail]);
        }
        us.push(f64::MIN_POSITIVE);
    }
    us
}

/// `poisson_quantile_given` with the normal quantile worked out beforehand gives what
/// `poisson_quantile` gives, over small, moderate and huge means and all of `u`.
#[test]
fn poisson_given_equals_poisson_quantile() {
    let mut lambdas = vec![0.0, -1.0, f64::NAN, f64::INFINITY, 1e-9, 0.5, 11.999, 12.0];
    let mut lambda = 12.5;
    while lambda < 1e9 {
        lambdas.push(lambda);
        lambda *= 1.37;
    }
    lambdas.extend([1.5e15, 1e18]);
    for &lambda in &lambdas {
        let extremes = !(lambda > 1e5 && lambda < 1e16);
        for &u in &given_uniforms(extremes) {
            let w = normal_quantile(observation_normal_input(u));
            assert_eq!(
                poisson_quantile_given(lambda, u, w),
                poisson_quantile(lambda, u),
                "lambda {lambda} u {u}"
            );
        }
    }
}

/// `poisson_quantile_given_each` gives `poisson_quantile` (as a double) of every draw,
/// over blocks of every length from 0 to 40 (partial and whole batches) and a long one
/// mixing small, moderate, huge, invalid and infinite means with extreme uniforms.
#[test]
fn poisson_given_each_equals_poisson_quantile() {
    let mut lambdas = vec![0.0, -1.0, f64::NAN, f64::INFINITY, 1e-9, 0.5, 11.999, 12.0];
    let mut lambda = 12.5;
    while lambda < 1e6 {
        lambdas.push(lambda);
        lambda *= 2.9;
    }
    lambdas.extend([1.5e15, 1e18]);
    let us = given_uniforms(true);
    let check = |pairs: &[(f64, f64)]| {
        let mut lambda_count: Vec<f64> = pairs.iter().map(|p| p.0).collect();
        let u: Vec<f64> = pairs.iter().map(|p| p.1).collect();
        let w: Vec<f64> = u
            .iter()
            .map(|&u| normal_quantile(observation_normal_input(u)))
            .collect();
        poisson_quantile_given_each(&mut lambda_count, &u, &w);
        for (&(lambda, u), &count) in pairs.iter().zip(&lambda_count) {
            let expected = poisson_quantile(lambda, u) as f64;
            assert_eq!(count.to_bits(), expected.to_bits(), "lambda {lambda} u {u}");
        }
    };
    let pairs: Vec<(f64, f64)> = (0..lambdas.len() * us.len())
        .map(|i| (lambdas[i % lambdas.len()], us[(i * 7) % us.len()]))
        .filter(|&(lambda, u)| {
            let extremes = !(lambda > 1e5 && lambda < 1e16);
            extremes || u.is_nan() || (1e-9..=1.0 - 1e-9).contains(&u)
        })
        .collect();
    for len in 0..=40 {
        check(&pairs[len * 13..][..len]);
    }
    check(&pairs);
}

/// `binomial_quantile_given` likewise, on both sequential searches and the
/// large-variance path; and `binomial_uses_normal` is false only where no p reaches it.
#[test]
fn binomial_given_equals_binomial_quantile() {
    let ps = [0.0, 1e-9, 0.01, 0.18, 0.5, 0.82, 0.999, 1.0, f64::NAN];
    for n in [0, 1, 7, 399, 400, 401, 1_000, 123_457, 1 << 40] {
        for &p in &ps {
            for &u in &given_uniforms(n <= 1_000) {
                let w = normal_quantile(observation_normal_input(u));
                let expected = binomial_quantile(n, p, u);
                assert_eq!(binomial_quantile_given(n, p, u, w), expected, "{n} {p} {u}");
                if !binomial_uses_normal(n) {
                    let unused = binomial_quantile_given(n, p, u, f64::NAN);
                    assert_eq!(unused, expected, "{n} {p} {u}");
                }
            }
        }
    }
    assert!(!binomial_uses_normal(399) && binomial_uses_normal(400));
}
