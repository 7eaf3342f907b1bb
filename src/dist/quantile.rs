//! `Quantile`: a `Dist` compiled for fast sampling by inverse CDF.
//!
//! `Dist::compile` does the slow work once (beta, PERT and gamma get a `Table`;
//! truncated normals precompute Phi at their bounds) so `value` is a few
//! arithmetic operations plus at most one Phi^-1. Invariants: `value` never panics
//! and never returns NaN for a built `Dist`; uniforms are sanitised by
//! `clamp_unit` (NaN -> 0.5, 0 and 1 nudged inward to the nearest doubles inside
//! (0, 1)); for every non-product dist `value` is monotone non-decreasing in u, which
//! common random numbers and rank correlation rely on.

use std::sync::Arc;

use super::normal::{normal_cdf, normal_quantile, normal_quantile_each};
use super::spec::{Dist, truncated_mass};
use super::table::{Shape, Table};

/// Largest double below 1.
const ONE_MINUS: f64 = 1.0 - f64::EPSILON / 2.0;

/// Map any f64 into (0, 1): NaN -> 0.5, below the smallest normal double -> it,
/// 1 or more -> the largest double below 1.
#[inline]
pub(crate) fn clamp_unit(u: f64) -> f64 {
    if u.is_nan() {
        0.5
    } else {
        u.clamp(f64::MIN_POSITIVE, ONE_MINUS)
    }
}

/// `x.clamp(lo, hi)` for bounds the caller knows to be ordered: the same value (NaN
/// stays NaN), without `clamp`'s check that `lo <= hi`, a compare and branch a draw.
#[inline(always)]
pub(crate) fn clamp_ordered(x: f64, lo: f64, hi: f64) -> f64 {
    let x = if x < lo { lo } else { x };
    if x > hi { hi } else { x }
}

/// The uniform quantile at `u` in (0, 1): `min + u x width`, kept at most `max` (the
/// product may round past it). One function for `Quantile::value` and `Quantile::fill`.
#[inline(always)]
fn uniform(u: f64, min: f64, width: f64, max: f64) -> f64 {
    (min + u * width).min(max)
}

/// The triangular quantile at `u` in (0, 1): below the mode (`u < split`) `min +
/// sqrt(u x left)`, above it `max - sqrt((1 - u) x right)`, kept inside [min, max].
/// One function for `Quantile::value` and `Quantile::fill`, so both give the same bits.
#[inline(always)]
fn triangular(u: f64, min: f64, max: f64, split: f64, left: f64, right: f64) -> f64 {
    let lower = u < split;
    let root = if lower { u * left } else { (1.0 - u) * right }.sqrt();
    let value = if lower { min + root } else { max - root };
    clamp_ordered(value, min, max)
}

#[derive(Clone, Debug)]
enum Kind {
    Fixed(f64),
    Uniform {
        min: f64,
        width: f64,
        max: f64,
    },
    Triangular {
        min: f64,
        max: f64,
        split: f64,
        left: f64,
        right: f64,
    },
    Normal {
        mean: f64,
        sd: f64,
    },
    /// Truncated to standardised [a, b]; `upper` = work with upper-tail
    /// probabilities (both bounds above the mean) to keep precision.
    TruncatedNormal {
        mean: f64,
        sd: f64,
        a: f64,
        b: f64,
        start: f64,
        mass: f64,
        upper: bool,
    },
    LogNormal {
        mu: f64,
        sigma: f64,
    },
    Tabulated {
        table: Arc<Table>,
        offset: f64,
        scale: f64,
    },
    Bernoulli {
        threshold: f64,
    },
    Discrete {
        values: Vec<f64>,
        cumulative: Vec<f64>,
    },
    Product(Vec<Quantile>, usize),
}

/// A compiled sampler: `value(us)` maps uniforms to a draw.
#[derive(Clone, Debug)]
pub struct Quantile {
    kind: Kind,
}

impl Dist {
    /// Compile for fast sampling: tabulate slow quantile functions once.
    pub fn compile(&self) -> Quantile {
        let kind = match self {
            Dist::Fixed(v) => Kind::Fixed(*v),
            Dist::Uniform { min, max } => Kind::Uniform {
                min: *min,
                width: max - min,
                max: *max,
            },
            Dist::Triangular { min, mode, max } => Kind::Triangular {
                min: *min,
                max: *max,
                split: (mode - min) / (max - min),
                left: (max - min) * (mode - min),
                right: (max - min) * (max - mode),
            },
            Dist::Pert {
                min,
                mode,
                max,
                lambda,
            } => {
                let width = max - min;
                let alpha = 1.0 + lambda * (mode - min) / width;
                let beta = 1.0 + lambda * (max - mode) / width;
                Kind::Tabulated {
                    table: Table::shared(Shape::Beta { alpha, beta }),
                    offset: *min,
                    scale: width,
                }
            }
            Dist::Normal {
                mean,
                sd,
                min: None,
                max: None,
            } => Kind::Normal {
                mean: *mean,
                sd: *sd,
            },
            Dist::Normal { mean, sd, min, max } => {
                let a = min.map_or(f64::NEG_INFINITY, |m| (m - mean) / sd);
                let b = max.map_or(f64::INFINITY, |m| (m - mean) / sd);
                let upper = a > 0.0;
                Kind::TruncatedNormal {
                    mean: *mean,
                    sd: *sd,
                    a,
                    b,
                    start: if upper { normal_cdf(-a) } else { normal_cdf(a) },
                    mass: truncated_mass(a, b),
                    upper,
                }
            }
            Dist::LogNormal { mu, sigma } => Kind::LogNormal {
                mu: *mu,
                sigma: *sigma,
            },
            Dist::Beta { alpha, beta } => Kind::Tabulated {
                table: Table::shared(Shape::Beta {
                    alpha: *alpha,
                    beta: *beta,
                }),
                offset: 0.0,
                scale: 1.0,
            },
            Dist::Gamma { shape, scale } => Kind::Tabulated {
                table: Table::shared(Shape::Gamma { shape: *shape }),
                offset: 0.0,
                scale: *scale,
            },
            Dist::Bernoulli { p } => Kind::Bernoulli { threshold: 1.0 - p },
            Dist::Discrete { values, weights } => {
                let total: f64 = weights.iter().sum();
                let mut acc = 0.0;
                let cumulative = weights
                    .iter()
                    .map(|w| {
                        acc += w;
                        acc / total
                    })
                    .collect();
                Kind::Discrete {
                    values: values.clone(),
                    cumulative,
                }
            }
            Dist::Product(factors) => {
                let compiled: Vec<Quantile> = factors.iter().map(Dist::compile).collect();
                let uniforms = compiled.iter().map(Quantile::uniforms).sum();
                Kind::Product(compiled, uniforms)
            }
        };
        Quantile { kind }
    }
}

impl Quantile {
    /// Number of uniforms `value` consumes: 1, except Product = sum over factors.
    /// Fixed also takes 1 (and ignores it) so callers can treat parameters alike.
    pub fn uniforms(&self) -> usize {
        match &self.kind {
            Kind::Product(_, n) => *n,
            _ => 1,
        }
    }

    /// The value at uniform(s) `us` (len == `uniforms()`); for a product the first
    /// uniform drives the first factor, and so on. Missing uniforms count as 0.5;
    /// NaN as 0.5; 0 and 1 are nudged inside (0, 1).
    #[inline]
    pub fn value(&self, us: &[f64]) -> f64 {
        match &self.kind {
            Kind::Product(factors, _) => {
                let mut rest = us;
                let mut product = 1.0;
                for factor in factors {
                    let n = factor.uniforms().min(rest.len());
                    product *= factor.value(&rest[..n]);
                    rest = &rest[n..];
                }
                product
            }
            _ => self.scalar(us.first().copied().unwrap_or(0.5)),
        }
    }

    /// A product's factors, each taking one uniform: what `value` multiplies, in order,
    /// from 1.0. None for anything else.
    pub fn one_uniform_factors(&self) -> Option<&[Quantile]> {
        match &self.kind {
            Kind::Product(factors, n) if *n == factors.len() => {
                let single = factors.iter().all(|f| !matches!(f.kind, Kind::Product(..)));
                single.then_some(factors.as_slice())
            }
            _ => None,
        }
    }

    /// `value` of many draws at once, draw i from its one uniform `us[i]` into `out[i]`:
    /// the same values as `value(&[us[i]])`. A tabulated distribution takes every draw's
    /// normal quantile first, then every table lookup in a pass of their own, so the
    /// rows' loads (a table is larger than the first-level cache) overlap instead of
    /// each waiting behind the next draw's arithmetic. Normal, lognormal and truncated
    /// normal draws likewise take their normal quantiles in one pass; triangular and
    /// uniform draws are worked in a loop of their own, without `value`'s dispatch per
    /// draw.
    #[inline(always)]
    pub fn fill(&self, us: &[f64], out: &mut [f64]) {
        let out = &mut out[..us.len()];
        let u = |i: usize| clamp_unit(us[i]);
        match &self.kind {
            Kind::Tabulated {
                table,
                offset,
                scale,
            } => {
                normal_quantile_each(out, u);
                table.at_z_each(out, |q| offset + scale * q);
            }
            Kind::Normal { mean, sd } => {
                normal_quantile_each(out, u);
                for v in out.iter_mut() {
                    *v = mean + sd * *v;
                }
            }
            Kind::LogNormal { mu, sigma } => {
                normal_quantile_each(out, u);
                for v in out.iter_mut() {
                    *v = (mu + sigma * *v).exp();
                }
            }
            Kind::TruncatedNormal {
                mean,
                sd,
                a,
                b,
                start,
                mass,
                upper,
            } => {
                if *upper {
                    normal_quantile_each(out, |i| start - u(i) * mass);
                } else {
                    normal_quantile_each(out, |i| start + u(i) * mass);
                }
                for v in out.iter_mut() {
                    let z = if *upper { -*v } else { *v };
                    *v = truncated(z, *mean, *sd, *a, *b);
                }
            }
            Kind::Triangular {
                min,
                max,
                split,
                left,
                right,
            } => {
                for (v, &u) in out.iter_mut().zip(us) {
                    *v = triangular(clamp_unit(u), *min, *max, *split, *left, *right);
                }
            }
            Kind::Uniform { min, width, max } => {
                for (v, &u) in out.iter_mut().zip(us) {
                    *v = uniform(clamp_unit(u), *min, *width, *max);
                }
            }
            _ => {
                for (v, u) in out.iter_mut().zip(us) {
                    *v = self.value(std::slice::from_ref(u));
                }
            }
        }
    }

    #[inline]
    fn scalar(&self, u: f64) -> f64 {
        let u = clamp_unit(u);
        match &self.kind {
            Kind::Fixed(v) => *v,
            Kind::Uniform { min, width, max } => uniform(u, *min, *width, *max),
            Kind::Triangular {
                min,
                max,
                split,
                left,
                right,
            } => triangular(u, *min, *max, *split, *left, *right),
            Kind::Normal { mean, sd } => mean + sd * normal_quantile(u),
            Kind::TruncatedNormal {
                mean,
                sd,
                a,
                b,
                start,
                mass,
                upper,
            } => {
                let z = if *upper {
                    -normal_quantile(start - u * mass)
                } else {
                    normal_quantile(start + u * mass)
                };
                truncated(z, *mean, *sd, *a, *b)
            }
            Kind::LogNormal { mu, sigma } => (mu + sigma * normal_quantile(u)).exp(),
            Kind::Tabulated {
                table,
                offset,
                scale,
            } => offset + scale * table.value(u),
            Kind::Bernoulli { threshold } => {
                if u >= *threshold {
                    1.0
                } else {
                    0.0
                }
            }
            Kind::Discrete { values, cumulative } => {
                let i = cumulative.partition_point(|&c| c < u);
                let last = values.len().saturating_sub(1);
                values.get(i.min(last)).copied().unwrap_or(0.0)
            }
            Kind::Product(..) => self.value(&[u]),
        }
    }
}

/// A truncated normal's value from its standard normal quantile `z`: inside the
/// standardised bounds `[a, b]` (their midpoint for NaN), then scaled.
#[inline(always)]
fn truncated(z: f64, mean: f64, sd: f64, a: f64, b: f64) -> f64 {
    let z = if z.is_nan() { 0.5 * (a + b) } else { z };
    mean + sd * clamp_ordered(z, a, b)
}

#[cfg(test)]
#[path = "quantile_tests.rs"]
mod tests;
