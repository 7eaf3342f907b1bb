//! Exact inverse CDFs of the Poisson and binomial distributions, used for the
//! observation noise of count and proportion metrics.
//!
//! Both return the smallest k with P(X <= k) >= u, exactly (up to floating-point
//! ties within ~1e-14 of a CDF step), so they are monotone non-decreasing in u —
//! common random numbers and the property tests rely on that. Poisson is also
//! monotone in lambda. Small means use a sequential search with pmf recursion;
//! large means start from an asymptotic inverse and confirm with an exact CDF.
//! Out-of-range inputs never panic: NaN u is treated as 0.5, u <= 0 gives 0,
//! u >= 1 is nudged to the largest double below 1 (Poisson) or gives n (binomial).
//! The `_given` forms take that normal start as an argument, so a block of draws can
//! work out all its normal quantiles in one vectorised pass first; the result is the same.
//! `poisson_quantile_given_each` goes further for a block of Poisson draws: the
//! asymptotic inverse and its margin of every draw in vectorised passes, then each
//! draw's search.

use super::normal::normal_quantile;
use statrs::function::beta::beta_reg;
use statrs::function::gamma::ln_gamma;

/// Below this mean the Poisson inverse walks up from 0 (about lambda steps).
const POISSON_SEQUENTIAL_MAX: f64 = 12.0;
/// Beyond |w| = Phi^-1(u) this large the expansion is not trusted; walk exactly.
const POISSON_W_TRUSTED: f64 = 7.0;
/// Above this mean the asymptotic inverse is returned without exact confirmation.
const POISSON_EXACT_MAX: f64 = 1e15;
/// Below this n * min(p, 1 - p) the binomial inverse is a sequential search.
const BINOMIAL_SEQUENTIAL_MAX: f64 = 200.0;
/// Largest double below 1.
const ONE_MINUS: f64 = 1.0 - f64::EPSILON / 2.0;

fn sanitize_u(u: f64) -> f64 {
    if u.is_nan() { 0.5 } else { u }
}

/// Exact inverse CDF of Poisson(lambda): the smallest k with P(N <= k) >= u.
///
/// lambda NaN or <= 0 gives 0; lambda = +inf gives u64::MAX. Exact for lambda up
/// to ~1e15 (beyond that integers near the mean are not representable anyway).
pub fn poisson_quantile(lambda: f64, u: f64) -> u64 {
    poisson_inverse(
        lambda,
        u,
        |u| {
            let w = normal_quantile(u);
            (w, poisson_expansion(lambda, w))
        },
        |w, x| poisson_margin(lambda, w, x),
    )
}

/// The probability whose normal quantile `poisson_quantile` and `binomial_quantile` start
/// from (where they need one): `u` with NaN read as 0.5 and 1 or more as the largest double
/// below 1.
#[inline(always)]
pub fn observation_normal_input(u: f64) -> f64 {
    sanitize_u(u).min(ONE_MINUS)
}

/// [`poisson_quantile`]`(lambda, u)` given `w`, which must be
/// `normal_quantile(observation_normal_input(u))`: the same result, for callers that work
/// out the normal quantiles of many draws together (`normal_quantile_each`). A small mean
/// leaves `w` unused.
#[inline]
pub fn poisson_quantile_given(lambda: f64, u: f64, w: f64) -> u64 {
    poisson_inverse(
        lambda,
        u,
        |_| (w, poisson_expansion(lambda, w)),
        |w, x| poisson_margin(lambda, w, x),
    )
}

/// How many draws [`poisson_quantile_given_each`] works in one vectorised pass.
const POISSON_BATCH: usize = 16;

/// [`poisson_quantile_given`]`(lambda[i], us[i], ws[i])` for each i, as a double, with
/// `lambda[i]` taken from and the count written to `lambda_count[i]`: the same values.
/// The expansion and its margin (two square roots and eight divisions a draw) are worked
/// for `POISSON_BATCH` draws at a time in one pass with no branch (it vectorises),
/// whether a draw needs them or not; each draw's search then runs as
/// `poisson_quantile_given` does, taking them from there.
#[inline(always)]
pub fn poisson_quantile_given_each(lambda_count: &mut [f64], us: &[f64], ws: &[f64]) {
    let n = lambda_count.len().min(us.len()).min(ws.len());
    let batches = lambda_count[..n]
        .chunks_mut(POISSON_BATCH)
        .zip(us[..n].chunks(POISSON_BATCH))
        .zip(ws[..n].chunks(POISSON_BATCH));
    for ((lambda_count, us), ws) in batches {
        // Lanes past the batch's end work lambda = w = 0 (harmless, never read).
        let mut lambdas = [0.0; POISSON_BATCH];
        let mut w = [0.0; POISSON_BATCH];
        lambdas[..lambda_count.len()].copy_from_slice(lambda_count);
        w[..ws.len()].copy_from_slice(ws);
        let mut x = [0.0; POISSON_BATCH];
        let mut margin = [0.0; POISSON_BATCH];
        for (((x, margin), &lambda), &w) in x.iter_mut().zip(&mut margin).zip(&lambdas).zip(&w) {
            *x = poisson_expansion(lambda, w);
            *margin = poisson_margin(lambda, w, *x);
        }
        let each = lambda_count.iter_mut().zip(us).zip(&w).zip(&x).zip(&margin);
        for ((((lambda_count, &u), &w), &x), &margin) in each {
            let count = poisson_inverse(*lambda_count, u, |_| (w, x), |_, _| margin);
            *lambda_count = count as f64;
        }
    }
}

/// `poisson_quantile`, taking the normal quantile `w` of the cleaned `u` and the
/// expansion `x` at it from `start`, and the margin at (w, x) from `margin`: each called
/// at most once, only when the search needs it.
#[inline(always)]
fn poisson_inverse(
    lambda: f64,
    u: f64,
    start: impl FnOnce(f64) -> (f64, f64),
    margin: impl FnOnce(f64, f64) -> f64,
) -> u64 {
    let u = sanitize_u(u);
    if !(lambda > 0.0) || u <= 0.0 {
        return 0;
    }
    if lambda == f64::INFINITY {
        return u64::MAX;
    }
    let u = u.min(ONE_MINUS);
    if lambda < POISSON_SEQUENTIAL_MAX {
        return poisson_sequential(lambda, u);
    }
    let (w, x) = start(u);
    if lambda > POISSON_EXACT_MAX {
        // Integers near the mean are no longer all representable, and the exact CDF
        // (incomplete gamma, O(sqrt(lambda)) terms) would take seconds per call: the
        // expansion's floor is as exact as a double can be, and still monotone.
        return x.max(0.0).floor() as u64;
    }
    if w.abs() > POISSON_W_TRUSTED || x < 1.0 {
        return poisson_walk(lambda, u, x.max(0.0).floor() as u64);
    }
    // Here 1 <= x < 2^52, where truncation is floor and x - floor(x) is exact: this is
    // floor(x) and round(x) (halves away from zero) without the library calls, which
    // generic x86-64 makes for `floor` and `round`.
    let floor = x as i64;
    let nearest = floor + i64::from(x - floor as f64 >= 0.5);
    if (x - nearest as f64).abs() > margin(w, x) {
        return floor as u64;
    }
    // x* may lie on either side of `nearest`: the answer is `nearest` exactly when
    // P(N <= nearest - 1) < u.
    let n = nearest as u64;
    if poisson_cdf(n - 1, lambda) < u {
        n
    } else {
        n - 1
    }
}

/// Giles (ACM TOMS 955, 2016) normal asymptotic inverse: N = floor(x).
#[inline(always)]
pub(crate) fn poisson_expansion(lambda: f64, w: f64) -> f64 {
    let s = lambda.sqrt();
    let w2 = w * w;
    lambda
        + s * w
        + (1.0 / 3.0 + w2 / 6.0)
        + (-w / 36.0 - w * w2 / 72.0) / s
        + (-8.0 / 405.0 + 7.0 * w2 / 810.0 + w2 * w2 / 270.0) / lambda
}

/// How close x may come to an integer before floor(x) is confirmed exactly: a
/// bound on the expansion's truncation error: measured |x - x*| lambda^1.5 is at
/// most ~0.02 for |w| < 2 and below 0.01 |w|^5 beyond; we allow five times that plus floating-point rounding of x.
#[inline(always)]
pub(crate) fn poisson_margin(lambda: f64, w: f64, x: f64) -> f64 {
    let w2 = w * w;
    let poly = 0.1 + 0.05 * w2 * w2 * w.abs();
    poly / (lambda * lambda.sqrt()) + 8.0 * f64::EPSILON * x
}

fn poisson_sequential(lambda: f64, u: f64) -> u64 {
    let mut k = 0u64;
    let mut p = (-lambda).exp();
    let mut c = p;
    while c < u {
        k += 1;
        p *= lambda / k as f64;
        c += p;
        if p <= c * 1e-17 && k as f64 > lambda {
            break; // u is above every representable CDF value
        }
    }
    k
}

/// Exact search from a start k: one exact CDF, then pmf steps.
fn poisson_walk(lambda: f64, u: f64, start: u64) -> u64 {
    let mut k = start;
    let mut c = poisson_cdf(k, lambda);
    let mut p = poisson_pmf(k, lambda);
    if c >= u {
        while k > 0 && c - p >= u {
            c -= p;
            p *= k as f64 / lambda;
            k -= 1;
        }
    } else {
        while c < u {
            k += 1;
            p *= lambda / k as f64;
            c += p;
            if p <= c * 1e-17 && k as f64 > lambda {
                break;
            }
        }
    }
    k
}

/// ln(n!) - ln(sqrt(2 pi n) (n/e)^n), Loader's Stirling error.
fn stirling_error(n: f64) -> f64 {
    const S0: f64 = 1.0 / 12.0;
    const S1: f64 = 1.0 / 360.0;
    const S2: f64 = 1.0 / 1260.0;
    const S3: f64 = 1.0 / 1680.0;
    const S4: f64 = 1.0 / 1188.0;
    if n <= 15.0 {
        let half_ln_2pi = 0.918_938_533_204_672_8;
        return ln_gamma(n + 1.0) - (n + 0.5) * n.ln() + n - half_ln_2pi;
    }
    let nn = n * n;
    if n > 500.0 {
        (S0 - S1 / nn) / n
    } else if n > 80.0 {
        (S0 - (S1 - S2 / nn) / nn) / n
    } else if n > 35.0 {
        (S0 - (S1 - (S2 - S3 / nn) / nn) / nn) / n
    } else {
        (S0 - (S1 - (S2 - (S3 - S4 / nn) / nn) / nn) / nn) / n
    }
}

/// x ln(x/m) + m - x without cancellation (Loader's bd0).
fn deviance(x: f64, m: f64) -> f64 {
    if (x - m).abs() < 0.1 * (x + m) {
        let v = (x - m) / (x + m);
        let mut s = (x - m) * v;
        let mut ej = 2.0 * x * v;
        let v2 = v * v;
        for j in 1..1000 {
            ej *= v2;
            let s1 = s + ej / (2 * j + 1) as f64;
            if s1 == s {
                return s1;
            }
            s = s1;
        }
    }
    x * (x / m).ln() + m - x
}

/// P(N = k) for Poisson(lambda), relative error ~1e-14 even for large lambda.
pub(crate) fn poisson_pmf(k: u64, lambda: f64) -> f64 {
    if k == 0 {
        return (-lambda).exp();
    }
    let x = k as f64;
    (-stirling_error(x) - deviance(x, lambda)).exp() / (std::f64::consts::TAU * x).sqrt()
}

/// P(N <= m), summing outward from pmf(m) (or the upper tail when m >= lambda).
/// O(sqrt(lambda)) terms near the mean; used only to confirm or walk.
pub(crate) fn poisson_cdf(m: u64, lambda: f64) -> f64 {
    if (m as f64) < lambda {
        let mut t = 1.0;
        let mut s = 1.0;
        let mut j = m;
        while j > 0 {
            t *= j as f64 / lambda;
            s += t;
            if t < s * 1e-17 {
                break;
            }
            j -= 1;
        }
        (poisson_pmf(m, lambda) * s).min(1.0)
    } else {
        let mut t = 1.0;
        let mut s = 1.0;
        let mut j = m + 1;
        loop {
            j += 1;
            t *= lambda / j as f64;
            s += t;
            if t < s * 1e-17 {
                break;
            }
        }
        (1.0 - poisson_pmf(m + 1, lambda) * s).max(0.0)
    }
}

/// Exact inverse CDF of Binomial(n, p): the smallest k with P(X <= k) >= u.
///
/// p NaN or <= 0 gives 0, p >= 1 gives n, n = 0 gives 0.
pub fn binomial_quantile(n: u64, p: f64, u: f64) -> u64 {
    binomial_inverse(n, p, u, normal_quantile)
}

/// [`binomial_quantile`]`(n, p, u)` given `w`, which must be
/// `normal_quantile(observation_normal_input(u))` (as for [`poisson_quantile_given`]).
/// Only [`binomial_uses_normal`] trials need it: others may pass anything.
#[inline(always)]
pub fn binomial_quantile_given(n: u64, p: f64, u: f64, w: f64) -> u64 {
    binomial_inverse(n, p, u, |_| w)
}

/// Whether `binomial_quantile(n, p, u)` may take a normal quantile for some p and u: only
/// when n p q can reach the large-variance path, whose bound n min(p, q) is at most n / 2.
pub fn binomial_uses_normal(n: u64) -> bool {
    n as f64 * 0.5 >= BINOMIAL_SEQUENTIAL_MAX
}

/// Whether `binomial_quantile(n, p, u)` may take its normal quantile at this `p` (for
/// some u): the same test of n min(p, 1 - p) against the sequential bound, true for NaN.
/// A block of draws whose every `p` gives false can leave the normal quantiles out.
#[inline(always)]
pub fn binomial_needs_normal(n: u64, p: f64) -> bool {
    !(n as f64 * p.min(1.0 - p) < BINOMIAL_SEQUENTIAL_MAX)
}

/// `binomial_quantile`, taking the normal quantile of the cleaned `u` from `normal`.
#[inline(always)]
fn binomial_inverse(n: u64, p: f64, u: f64, normal: impl FnOnce(f64) -> f64) -> u64 {
    let u = sanitize_u(u);
    if n == 0 || !(p > 0.0) || u <= 0.0 {
        return 0;
    }
    if p >= 1.0 || u >= 1.0 {
        return n;
    }
    let q = 1.0 - p;
    let nf = n as f64;
    if nf * p.min(q) < BINOMIAL_SEQUENTIAL_MAX {
        let exact = n <= FLOAT_COUNTS_MAX;
        match (p <= 0.5, exact) {
            (true, true) => binomial_sequential::<true>(n, p, u),
            (true, false) => binomial_sequential::<false>(n, p, u),
            (false, true) => binomial_sequential_reflected::<true>(n, q, u),
            (false, false) => binomial_sequential_reflected::<false>(n, q, u),
        }
    } else {
        binomial_large(n, p, u, normal(u))
    }
}

/// The largest n whose counts 0..=n are all exact as doubles (2^53): up to it the
/// sequential loops keep the counts `n - k` and `k + 1` of their pmf ratio as doubles
/// stepped by 1.0, the same values as converting the integers each step (an addition
/// each instead of a subtraction and a conversion each).
const FLOAT_COUNTS_MAX: u64 = 1 << 53;

/// A count as a double: `k as i64 as f64` is one instruction on x86-64 where `k as f64`
/// from u64 takes about six, and for every count below 2^63 the same value. `SMALL` is
/// whether n is at most [`FLOAT_COUNTS_MAX`], so every count is below 2^63.
#[inline(always)]
fn count<const SMALL: bool>(k: u64) -> f64 {
    if SMALL { k as i64 as f64 } else { k as f64 }
}

/// Smallest k with P(X <= k) >= u, walking up from 0 with the pmf recursion. `SMALL`:
/// n is at most [`FLOAT_COUNTS_MAX`], so the ratio's counts step as doubles; otherwise
/// they are converted from the integers each step (the same values where both apply).
#[inline(always)]
fn binomial_sequential<const SMALL: bool>(n: u64, p: f64, u: f64) -> u64 {
    let q = 1.0 - p;
    let ratio = p / q;
    let mean = count::<SMALL>(n) * p;
    let mut pk = (count::<SMALL>(n) * (-p).ln_1p()).exp();
    let mut c = pk;
    let mut k = 0u64;
    // n - k and k + 1 as doubles (used only when SMALL).
    let mut down = count::<SMALL>(n);
    let mut up = 1.0;
    if SMALL {
        // While the step's new k is at most the mean, the stopping test after it
        // (`count(k) > mean`) cannot hold: those steps, the same operations, run without
        // it. floor(mean) <= mean < n, all below 2^53, so `k < below` keeps k < n.
        let below = mean as u64;
        while k < below && c < u {
            pk *= (down / up) * ratio;
            k += 1;
            down -= 1.0;
            up += 1.0;
            c += pk;
        }
    }
    while c < u && k < n {
        let factor = if SMALL {
            down / up
        } else {
            count::<SMALL>(n - k) / count::<SMALL>(k + 1)
        };
        pk *= factor * ratio;
        k += 1;
        down -= 1.0;
        up += 1.0;
        c += pk;
        if pk <= c * 1e-17 && count::<SMALL>(k) > mean {
            break;
        }
    }
    k
}

/// X = n - Y with Y ~ Binomial(n, q), q < 0.5: P(X <= k) >= u iff
/// F_Y(n - k - 1) <= 1 - u, so the answer is n - m where m - 1 is the largest j
/// with F_Y(j) <= 1 - u (m = 0 when even F_Y(0) > 1 - u). `SMALL` as in
/// `binomial_sequential`.
#[inline(always)]
fn binomial_sequential_reflected<const SMALL: bool>(n: u64, q: f64, u: f64) -> u64 {
    let v = 1.0 - u;
    let p = 1.0 - q;
    let ratio = q / p;
    let mean = count::<SMALL>(n) * q;
    let mut py = (count::<SMALL>(n) * (-q).ln_1p()).exp();
    let mut c = 0.0;
    let mut m = 0u64;
    // n - m and m + 1 as doubles (used only when SMALL).
    let mut down = count::<SMALL>(n);
    let mut up = 1.0;
    if SMALL {
        // As in `binomial_sequential`: the steps whose new m is at most the mean, where
        // the stopping test cannot hold, run without it (floor(mean) <= mean < n).
        let below = mean as u64;
        // Two steps a turn while two are left below the mean (one test of the count).
        while m + 1 < below && c + py <= v {
            c += py;
            py *= (down / up) * ratio;
            down -= 1.0;
            up += 1.0;
            if !(c + py <= v) {
                m += 1;
                break;
            }
            c += py;
            py *= (down / up) * ratio;
            down -= 1.0;
            up += 1.0;
            m += 2;
        }
        while m < below && c + py <= v {
            c += py;
            py *= (down / up) * ratio;
            m += 1;
            down -= 1.0;
            up += 1.0;
        }
    }
    while m <= n && c + py <= v {
        c += py;
        let factor = if SMALL {
            down / up
        } else {
            count::<SMALL>(n - m) / count::<SMALL>(m + 1)
        };
        py *= factor * ratio;
        m += 1;
        down -= 1.0;
        up += 1.0;
        if py <= c * 1e-17 && count::<SMALL>(m) > mean {
            break;
        }
    }
    n - m.min(n)
}

/// P(X <= k) = I_{1-p}(n - k, k + 1).
fn binomial_cdf(n: u64, p: f64, k: u64) -> f64 {
    if k >= n {
        return 1.0;
    }
    beta_reg((n - k) as f64, (k + 1) as f64, 1.0 - p)
}

/// Cornish-Fisher inverse with continuity and lattice corrections: the binomial
/// quantile is floor(x) up to an O(1 / (n p q)) error (bounded by `binomial_margin`).
pub(crate) fn binomial_expansion(n: u64, p: f64, w: f64) -> f64 {
    let q = 1.0 - p;
    let nf = n as f64;
    let variance = nf * p * q;
    let s = variance.sqrt();
    let skew = (q - p) / s;
    let kurtosis = (1.0 - 6.0 * p * q) / variance;
    let w2 = w * w;
    nf * p
        + 0.5
        + s * (w + skew * (w2 - 1.0) / 6.0 + kurtosis * w * (w2 - 3.0) / 24.0
            - skew * skew * w * (2.0 * w2 - 5.0) / 36.0)
        - w / (24.0 * s)
}

/// How close x may come to an integer before floor(x) is confirmed exactly:
/// measured |x - x*| n p q stays below 0.01 for |w| < 2.5 and below w^4 / 250
/// beyond (n p q >= 100, |w| <= 7); we allow several times that.
pub(crate) fn binomial_margin(variance: f64, w: f64, x: f64) -> f64 {
    let w2 = w * w;
    (0.1 + 0.05 * w2 * w2) / variance + 8.0 * f64::EPSILON * x
}

/// Large n p q: Cornish-Fisher from `w = normal_quantile(u)`, confirmed exactly when near
/// an integer.
fn binomial_large(n: u64, p: f64, u: f64, w: f64) -> u64 {
    let nf = n as f64;
    let x = binomial_expansion(n, p, w);
    if w.abs() > 7.0 || !(x >= 1.0 && x < nf) {
        return binomial_walk(n, p, u, x);
    }
    let nearest = x.round();
    if (x - nearest).abs() > binomial_margin(nf * p * (1.0 - p), w, x) {
        return x.floor() as u64;
    }
    let m = nearest as u64;
    if binomial_cdf(n, p, m - 1) < u {
        m
    } else {
        m - 1
    }
}

/// Exact search from a start x, one exact CDF per step.
fn binomial_walk(n: u64, p: f64, u: f64, x: f64) -> u64 {
    let nf = n as f64;
    let mut k = x.clamp(0.0, nf).floor() as u64;
    if binomial_cdf(n, p, k) >= u {
        while k > 0 && binomial_cdf(n, p, k - 1) >= u {
            k -= 1;
        }
    } else {
        k += 1;
        while k < n && binomial_cdf(n, p, k) < u {
            k += 1;
        }
    }
    k
}

#[cfg(test)]
#[path = "discrete_tests.rs"]
mod tests;
