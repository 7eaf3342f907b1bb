//! Tabulated quantile functions for the distributions without a closed-form
//! inverse (beta, hence PERT, and gamma), and `GammaUnit` for negative-binomial noise.
//!
//! A `Table` holds the exact quantile at nodes uniform in z = Phi^-1(u) over
//! [-Z_EDGE, Z_EDGE] and a monotone cubic Hermite piece per interval, built from the
//! exact slope dq/dz = phi(z) / f(q) (the secant where f is 0 or infinite) and
//! limited Fritsch–Carlson style, so evaluation is monotone non-decreasing in u.
//! Node quantiles are solved once, in `Table::new`, against statrs' regularised
//! incomplete beta/gamma functions (lower tail for z <= 0, upper tail for z > 0, so
//! neither loses precision near 1). Guarantee, checked in tests: |F(q(u)) - u| < 1e-5.
//! Outside the grid (u < Phi(-Z_EDGE) ~ 5e-17) the exact solver is used per call.
//! Gamma shapes above 1e6 use the Wilson–Hilferty closed form instead of a grid.
//! Limit: doubles cannot resolve every quantile of very small shapes — below
//! ~0.35 for beta's second parameter (quantiles within 1e-16 of 1 round to 1) or
//! ~0.03 for a gamma/beta first parameter (quantiles underflow to 0) part of (0,1)
//! collapses onto the support end and the 1e-5 guarantee cannot hold there.

use super::normal::{normal_cdf, normal_pdf, normal_quantile, normal_quantile_each};
use statrs::function::beta::{beta_reg, ln_beta};
use statrs::function::gamma::{gamma_lr, gamma_ur, ln_gamma};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Grid half-width in z; Phi(-8.3) ~ 5e-17, below the spacing of doubles near 1.
const Z_EDGE: f64 = 8.3;
/// Above this gamma shape the incomplete gamma function gets slow (its series
/// needs O(sqrt(shape)) terms per call) and the Wilson–Hilferty cube-root normal
/// approximation is already far inside the 1e-5 CDF tolerance (error O(1/shape)).
const WILSON_HILFERTY_SHAPE: f64 = 1e6;
/// Number of Hermite intervals: a power of two, so that [`on_row`]'s mask changes no index
/// on the grid.
const INTERVALS: usize = 1024;
const _: () = assert!(INTERVALS.is_power_of_two());
/// Most tables kept by [`Table::shared`].
const CACHE_MAX: usize = 256;

/// The standard shapes that get tabulated (location/scale is applied by the caller).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Shape {
    Beta { alpha: f64, beta: f64 },
    Gamma { shape: f64 },
}

impl Shape {
    /// P(X <= x).
    fn lower(self, x: f64) -> f64 {
        match self {
            Shape::Beta { alpha, beta } => {
                if x <= 0.0 {
                    0.0
                } else if x >= 1.0 {
                    1.0
                } else {
                    beta_reg(alpha, beta, x)
                }
            }
            Shape::Gamma { shape } => {
                if x <= 0.0 {
                    0.0
                } else if x == f64::INFINITY {
                    1.0
                } else {
                    gamma_lr(shape, x)
                }
            }
        }
    }

    /// P(X > x).
    fn upper(self, x: f64) -> f64 {
        match self {
            Shape::Beta { alpha, beta } => {
                if x <= 0.0 {
                    1.0
                } else if x >= 1.0 {
                    0.0
                } else {
                    beta_reg(beta, alpha, 1.0 - x)
                }
            }
            Shape::Gamma { shape } => {
                if x <= 0.0 {
                    1.0
                } else if x == f64::INFINITY {
                    0.0
                } else {
                    gamma_ur(shape, x)
                }
            }
        }
    }

    /// Density; may be 0 or +inf at the support's ends.
    fn pdf(self, x: f64) -> f64 {
        match self {
            Shape::Beta { alpha, beta } => {
                if !(x > 0.0 && x < 1.0) {
                    return f64::NAN;
                }
                ((alpha - 1.0) * x.ln() + (beta - 1.0) * (-x).ln_1p() - ln_beta(alpha, beta)).exp()
            }
            Shape::Gamma { shape } => {
                if !(x > 0.0 && x.is_finite()) {
                    return f64::NAN;
                }
                ((shape - 1.0) * x.ln() - x - ln_gamma(shape)).exp()
            }
        }
    }

    fn upper_bound(self) -> f64 {
        match self {
            Shape::Beta { .. } => 1.0,
            Shape::Gamma { .. } => f64::INFINITY,
        }
    }

    /// Exact quantile at z = Phi^-1(u), bracketed by [lo, hi] (hi may be +inf).
    /// Safeguarded Newton: bisection (geometric when the bracket spans decades)
    /// whenever a Newton step leaves the bracket or is not finite.
    pub(crate) fn solve(self, z: f64, lo: f64, hi: f64, guess: f64) -> f64 {
        // g(x) increasing, g(q) = 0: F(x) - u in the lower half, u' - S(x) above.
        let lower_half = z <= 0.0;
        let target = normal_cdf(if lower_half { z } else { -z });
        let g = |x: f64| {
            if lower_half {
                self.lower(x) - target
            } else {
                target - self.upper(x)
            }
        };
        let mut lo = lo.max(0.0);
        let mut hi = hi;
        if hi == f64::INFINITY {
            let shape = match self {
                Shape::Gamma { shape } => shape,
                Shape::Beta { .. } => 1.0,
            };
            hi = (2.0 * lo).max(shape + 40.0 * shape.sqrt() + 40.0);
            while g(hi) < 0.0 && hi < f64::MAX / 4.0 {
                lo = hi;
                hi *= 2.0;
            }
        }
        let bisect = |lo: f64, hi: f64| {
            let floor = if lo > 0.0 { lo } else { f64::MIN_POSITIVE };
            if hi > 4.0 * floor {
                floor.sqrt() * hi.sqrt()
            } else {
                0.5 * (lo + hi)
            }
        };
        let mut x = if guess > lo && guess < hi {
            guess
        } else {
            bisect(lo, hi)
        };
        for _ in 0..400 {
            let gx = g(x);
            if gx == 0.0 {
                return x;
            }
            if gx < 0.0 {
                lo = x;
            } else {
                hi = x;
            }
            let newton = x - gx / self.pdf(x);
            let next = if newton > lo && newton < hi {
                newton
            } else {
                bisect(lo, hi)
            };
            if (next - x).abs() <= 2.0 * f64::EPSILON * x.abs() || hi - lo <= f64::EPSILON * hi {
                return next;
            }
            x = next;
        }
        x
    }
}

/// A monotone cubic per interval of the z grid: q = c0 + t (c1 + t (c2 + t c3)).
#[derive(Clone, Debug)]
pub(crate) struct Table {
    shape: Shape,
    /// Gamma shape above `WILSON_HILFERTY_SHAPE`: closed form, no grid.
    wilson_hilferty: Option<f64>,
    /// One row per interval and a last row [q at the grid's right end, 0, 0, 0], so
    /// every interval's right end is the next row's c0 (no special case for the last).
    coefficients: Vec<[f64; 4]>,
    first: f64,
    last: f64,
}

impl Table {
    pub(crate) fn new(shape: Shape) -> Table {
        if let Shape::Gamma { shape: k } = shape
            && k > WILSON_HILFERTY_SHAPE
        {
            return Table {
                shape,
                wilson_hilferty: Some(k),
                coefficients: Vec::new(),
                first: 0.0,
                last: f64::INFINITY,
            };
        }
        let h = 2.0 * Z_EDGE / INTERVALS as f64;
        let mut q = Vec::with_capacity(INTERVALS + 1);
        let mut slope = Vec::with_capacity(INTERVALS + 1);
        let mut prev = 0.0;
        let mut guess = f64::NAN;
        for i in 0..=INTERVALS {
            let z = -Z_EDGE + i as f64 * h;
            let qi = shape.solve(z, prev, shape.upper_bound(), guess).max(prev);
            let density = shape.pdf(qi);
            let m = normal_pdf(z) / density;
            q.push(qi);
            slope.push(if m.is_finite() && m >= 0.0 {
                m
            } else {
                f64::NAN
            });
            prev = qi;
            guess = qi + h * m; // NaN (no guess) when the slope is unknown
        }
        let coefficients = (0..INTERVALS)
            .map(|i| hermite(q[i], q[i + 1], slope[i], slope[i + 1], h))
            .chain([[q[INTERVALS], 0.0, 0.0, 0.0]])
            .collect();
        Table {
            shape,
            wilson_hilferty: None,
            coefficients,
            first: q[0],
            last: q[INTERVALS],
        }
    }

    /// The table of `shape`, built once per process and shared: a sweep, a sensitivity
    /// analysis or a comparison compiles the scenario many times with mostly the same
    /// distributions, and building one table (1,025 exact quantiles from the incomplete
    /// beta or gamma function) takes about 2 ms. A table depends on nothing but its
    /// shape, so the shared one is identical to a fresh one. The cache holds at most
    /// `CACHE_MAX` tables (about 32 KiB each) and starts again when full.
    pub(crate) fn shared(shape: Shape) -> Arc<Table> {
        static CACHE: Mutex<Option<HashMap<[u64; 3], Arc<Table>>>> = Mutex::new(None);
        let key = match shape {
            Shape::Beta { alpha, beta } => [0, alpha.to_bits(), beta.to_bits()],
            Shape::Gamma { shape } => [1, shape.to_bits(), 0],
        };
        // A panic while the cache was held cannot leave a half-made entry (insert is
        // the only change), so a poisoned lock is still usable.
        let lock = || CACHE.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(table) = lock().as_ref().and_then(|tables| tables.get(&key)) {
            return Arc::clone(table);
        }
        // Built without the lock, so threads compiling different shapes build in
        // parallel; two building the same shape make equal tables and keep the first.
        let built = Arc::new(Table::new(shape));
        let mut cache = lock();
        let tables = cache.get_or_insert_with(HashMap::new);
        if tables.len() >= CACHE_MAX && !tables.contains_key(&key) {
            tables.clear();
        }
        Arc::clone(tables.entry(key).or_insert(built))
    }

    /// Quantile at u; u is assumed already inside (0, 1) (callers clamp).
    #[inline(always)]
    pub(crate) fn value(&self, u: f64) -> f64 {
        self.at_z(normal_quantile(u))
    }

    /// Quantile at the standard normal quantile `z` of its u: the second half of
    /// [`Table::value`], apart so that many draws can look up their rows in one pass.
    #[inline(always)]
    pub(crate) fn at_z(&self, z: f64) -> f64 {
        let pos = position(z);
        if self.wilson_hilferty.is_none() && on_grid(pos) {
            return on_row(&self.coefficients, pos);
        }
        self.off_grid(z, pos)
    }

    /// `then(at_z(z))` for each `z` in `out`, in place: the same values, with the
    /// Wilson–Hilferty case decided once for all of them and the rows reached through an
    /// array of known length, so a lookup checks no bounds.
    #[inline(always)]
    pub(crate) fn at_z_each(&self, out: &mut [f64], then: impl Fn(f64) -> f64) {
        let rows: Option<&[[f64; 4]; INTERVALS + 1]> = self.coefficients.as_slice().try_into().ok();
        match rows {
            Some(rows) if self.wilson_hilferty.is_none() => {
                for v in out.iter_mut() {
                    let z = *v;
                    let pos = position(z);
                    let q = if on_grid(pos) {
                        on_row(rows, pos)
                    } else {
                        self.off_grid(z, pos)
                    };
                    *v = then(q);
                }
            }
            _ => {
                for v in out.iter_mut() {
                    *v = then(self.at_z(*v));
                }
            }
        }
    }

    /// `value` without a grid (Wilson–Hilferty) or beyond it (u below about 5e-17 or
    /// above 1 - 5e-17): kept out of line so the grid lookup stays small enough to inline.
    #[cold]
    #[inline(never)]
    fn off_grid(&self, z: f64, pos: f64) -> f64 {
        if let Some(k) = self.wilson_hilferty {
            let c = 1.0 - 1.0 / (9.0 * k) + z / (3.0 * k.sqrt());
            return k * (c.max(0.0) * c.max(0.0) * c.max(0.0));
        }
        if pos < 0.0 {
            self.shape
                .solve(z, 0.0, self.first, f64::NAN)
                .min(self.first)
        } else {
            self.shape
                .solve(z, self.last, self.shape.upper_bound(), f64::NAN)
                .max(self.last)
        }
    }
}

/// Where `z` falls on the grid: interval `i` covers positions [i, i + 1).
#[inline(always)]
fn position(z: f64) -> f64 {
    (z + Z_EDGE) * (INTERVALS as f64 / (2.0 * Z_EDGE))
}

/// Whether `pos` lies in one of the grid's intervals (false for NaN).
#[inline(always)]
fn on_grid(pos: f64) -> bool {
    pos >= 0.0 && pos < INTERVALS as f64
}

/// The Hermite piece of the interval holding `pos` (which must be [`on_grid`]) at `pos`,
/// kept between the interval's end values. `rows` is a table's coefficients, a last row
/// holding only the right end; as a slice or as an array of known length (no bound
/// checks: the index is below `INTERVALS`).
#[inline(always)]
fn on_row<R: std::ops::Index<usize, Output = [f64; 4]> + ?Sized>(rows: &R, pos: f64) -> f64 {
    // 0 <= pos < INTERVALS: through i32 the conversions are exact and one instruction
    // each (to and from usize they take several on x86-64); the mask changes no index
    // below INTERVALS and tells the compiler the bound.
    let i = pos as i32;
    let t = pos - f64::from(i);
    let i = i as usize & (INTERVALS - 1);
    let [c0, c1, c2, c3] = rows[i];
    let end = rows[i + 1][0];
    // c0 <= end: a table's nodes never decrease.
    super::quantile::clamp_ordered(c0 + t * (c1 + t * (c2 + t * c3)), c0, end)
}

/// Cubic Hermite coefficients on t in [0, 1] for values q0, q1 and z-slopes m0, m1
/// (NaN = unknown, replaced by the secant), with slopes limited to 3x the secant so
/// the piece is monotone.
fn hermite(q0: f64, q1: f64, m0: f64, m1: f64, h: f64) -> [f64; 4] {
    let dq = q1 - q0;
    if !(dq > 0.0) {
        return [q0, 0.0, 0.0, 0.0];
    }
    let secant = dq / h;
    let limit = |m: f64| {
        if m.is_nan() {
            secant
        } else {
            m.clamp(0.0, 3.0 * secant)
        }
    };
    let d0 = h * limit(m0);
    let d1 = h * limit(m1);
    [q0, d0, 3.0 * dq - 2.0 * d0 - d1, -2.0 * dq + d0 + d1]
}

/// Gamma(shape, 1) quantile for negative-binomial observation noise, tabulated
/// once per run. Same accuracy guarantee as the beta/gamma tables.
#[derive(Clone, Debug)]
pub struct GammaUnit {
    table: Arc<Table>,
}

impl GammaUnit {
    /// `shape` should be finite and positive (validated upstream); anything else is
    /// clamped into [1e-6, 1e12] (NaN is treated as 1) rather than panicking.
    pub fn new(shape: f64) -> GammaUnit {
        let shape = if shape.is_nan() {
            1.0
        } else {
            shape.clamp(1e-6, 1e12)
        };
        GammaUnit {
            table: Table::shared(Shape::Gamma { shape }),
        }
    }

    /// The Gamma(shape, 1) quantile at u (NaN treated as 0.5, 0 and 1 nudged inward).
    #[inline]
    pub fn value(&self, u: f64) -> f64 {
        self.table.value(super::quantile::clamp_unit(u))
    }

    /// `value` of many draws at once, `us[i]` into `out[i]`, the same values: every
    /// draw's normal quantile first, then every table lookup, so that the lookups' loads
    /// overlap (as `Quantile::fill`).
    #[inline(always)]
    pub fn fill(&self, us: &[f64], out: &mut [f64]) {
        let out = &mut out[..us.len()];
        normal_quantile_each(out, |i| super::quantile::clamp_unit(us[i]));
        self.table.at_z_each(out, |q| q);
    }
}
