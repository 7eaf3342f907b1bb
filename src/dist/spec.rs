//! The `Dist` spec: what an uncertain value is, built from the keys of a TOML table
//! and validated, plus its closed-form mean and support.
//!
//! `Dist::build` is the only constructor the scenario layer uses; it returns every
//! problem at once as `DistError`s naming the offending key, so the caller can attach
//! line and column. Invariants of a built `Dist` (relied on by `compile`): all numbers
//! finite; uniform/triangular/PERT have min < max and min <= mode <= max; sd > 0;
//! normal truncation holds at least 1e-12 of the parent mass; beta/gamma parameters
//! positive; bernoulli p in [0, 1]; discrete values sorted ascending, distinct, with
//! non-negative weights summing to 1; a product has at least two factors.
//! Checks follow statrs/rand_distr: finiteness first, then relations written NaN-safe.

use super::build::{self, Checker};
use super::normal::{normal_cdf, normal_pdf};

/// Keys a distribution table may carry, as read from TOML (None = absent).
#[derive(Clone, Debug, Default)]
pub struct DistKeys {
    pub min: Option<f64>,
    pub mode: Option<f64>,
    pub max: Option<f64>,
    pub lambda: Option<f64>,
    pub mean: Option<f64>,
    pub sd: Option<f64>,
    pub p10: Option<f64>,
    pub p90: Option<f64>,
    pub p: Option<f64>,
    pub values: Option<Vec<f64>>,
    pub weights: Option<Vec<f64>>,
    pub of: Option<Vec<Dist>>,
}

/// One problem with a distribution; `key` names the offending key ("sd", "min",
/// "weights", "dist", ...).
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("`{key}`: {message} ({hint})")]
pub struct DistError {
    pub key: &'static str,
    pub message: String,
    pub hint: String,
}

/// An uncertain value. Built by `Dist::build`, which enforces the invariants in
/// the module docs; constructing variants directly bypasses validation.
#[derive(Clone, Debug, PartialEq)]
pub enum Dist {
    Fixed(f64),
    Uniform {
        min: f64,
        max: f64,
    },
    Triangular {
        min: f64,
        mode: f64,
        max: f64,
    },
    Pert {
        min: f64,
        mode: f64,
        max: f64,
        lambda: f64,
    },
    /// Parent normal plus optional truncation bounds.
    Normal {
        mean: f64,
        sd: f64,
        min: Option<f64>,
        max: Option<f64>,
    },
    /// Parameters of ln X.
    LogNormal {
        mu: f64,
        sigma: f64,
    },
    Beta {
        alpha: f64,
        beta: f64,
    },
    Gamma {
        shape: f64,
        scale: f64,
    },
    Bernoulli {
        p: f64,
    },
    /// Sorted ascending by value.
    Discrete {
        values: Vec<f64>,
        weights: Vec<f64>,
    },
    Product(Vec<Dist>),
}

/// All known dist names (for "did you mean" hints).
pub const DIST_NAMES: &[&str] = &[
    "uniform",
    "triangular",
    "pert",
    "normal",
    "lognormal",
    "beta",
    "gamma",
    "bernoulli",
    "discrete",
    "product",
];

/// Keys allowed for a `dist` name; None for an unknown name. (The TOML key `dist`
/// itself is handled by the caller and not listed.)
pub fn allowed_keys(kind: &str) -> Option<&'static [&'static str]> {
    Some(match kind {
        "uniform" => &["min", "max"],
        "triangular" => &["min", "mode", "max"],
        "pert" => &["min", "mode", "max", "lambda"],
        "normal" => &["mean", "sd", "p10", "p90", "min", "max"],
        "lognormal" => &["mean", "sd", "p10", "p90"],
        "beta" | "gamma" => &["mean", "sd"],
        "bernoulli" => &["p"],
        "discrete" => &["values", "weights"],
        "product" => &["of"],
        _ => return None,
    })
}

/// Levenshtein distance, for "did you mean" hints.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

fn static_kind(kind: &str) -> Option<&'static str> {
    DIST_NAMES.iter().copied().find(|&name| name == kind)
}

fn key_present(keys: &DistKeys, key: &str) -> bool {
    match key {
        "min" => keys.min.is_some(),
        "mode" => keys.mode.is_some(),
        "max" => keys.max.is_some(),
        "lambda" => keys.lambda.is_some(),
        "mean" => keys.mean.is_some(),
        "sd" => keys.sd.is_some(),
        "p10" => keys.p10.is_some(),
        "p90" => keys.p90.is_some(),
        "p" => keys.p.is_some(),
        "values" => keys.values.is_some(),
        "weights" => keys.weights.is_some(),
        "of" => keys.of.is_some(),
        _ => false,
    }
}

const ALL_KEYS: [&str; 12] = [
    "min", "mode", "max", "lambda", "mean", "sd", "p10", "p90", "p", "values", "weights", "of",
];

/// The error for `key`, a key of some distribution, given to a `kind` that does not take
/// it; None when `kind` takes it or no distribution does (a misspelling, for the reader's
/// "did you mean"). `Dist::build` and the scenario reader say it in the same words.
pub fn foreign_key(kind: &str, key: &str) -> Option<DistError> {
    let kind = static_kind(kind)?;
    let allowed = allowed_keys(kind).unwrap_or(&[]);
    let key = ALL_KEYS.into_iter().find(|k| *k == key)?;
    if allowed.contains(&key) {
        return None;
    }
    let extra = if matches!(key, "min" | "max") {
        "; only normal can be truncated with min/max"
    } else {
        ""
    };
    Some(DistError {
        key,
        message: format!("`{key}` is not a key of a {kind} distribution{extra}"),
        hint: format!("remove it (keys for {kind}: {})", allowed.join(", ")),
    })
}

impl Dist {
    /// Build and validate; return every problem found (not just the first).
    pub fn build(kind: &str, keys: &DistKeys) -> Result<Dist, Vec<DistError>> {
        let Some(kind) = static_kind(kind) else {
            let closest = DIST_NAMES
                .iter()
                .map(|name| (edit_distance(kind, name), *name))
                .min()
                .filter(|&(d, _)| d <= 2);
            let names = DIST_NAMES.join(", ");
            let hint = match closest {
                Some((_, name)) => format!("did you mean \"{name}\"? known: {names}"),
                None => format!("known distributions: {names}"),
            };
            return Err(vec![DistError {
                key: "dist",
                message: format!("unknown distribution \"{kind}\""),
                hint,
            }]);
        };
        let mut check = Checker {
            kind,
            errors: Vec::new(),
        };
        for key in ALL_KEYS {
            if key_present(keys, key)
                && let Some(e) = foreign_key(kind, key)
            {
                check.errors.push(e);
            }
        }
        let dist = match kind {
            "uniform" => build::uniform(&mut check, keys),
            "triangular" | "pert" => build::three_point(&mut check, keys, kind == "pert"),
            "normal" => build::normal(&mut check, keys),
            "lognormal" => build::lognormal(&mut check, keys),
            "beta" => build::beta(&mut check, keys),
            "gamma" => build::gamma(&mut check, keys),
            "bernoulli" => build::bernoulli(&mut check, keys),
            "discrete" => build::discrete(&mut check, keys),
            _ => build::product(&mut check, keys),
        };
        match dist {
            Some(dist) if check.errors.is_empty() => Ok(dist),
            _ => Err(check.errors),
        }
    }

    /// Inclusive support bounds (may be infinite).
    pub fn support(&self) -> (f64, f64) {
        match self {
            Dist::Fixed(v) => (*v, *v),
            Dist::Uniform { min, max }
            | Dist::Triangular { min, max, .. }
            | Dist::Pert { min, max, .. } => (*min, *max),
            Dist::Normal { min, max, .. } => (
                min.unwrap_or(f64::NEG_INFINITY),
                max.unwrap_or(f64::INFINITY),
            ),
            Dist::LogNormal { .. } | Dist::Gamma { .. } => (0.0, f64::INFINITY),
            Dist::Beta { .. } => (0.0, 1.0),
            Dist::Bernoulli { p } => (
                if *p >= 1.0 { 1.0 } else { 0.0 },
                if *p <= 0.0 { 0.0 } else { 1.0 },
            ),
            Dist::Discrete { values, weights } => {
                let mut live = values.iter().zip(weights).filter(|(_, w)| **w > 0.0);
                let first = live.next().map_or(f64::NAN, |(v, _)| *v);
                let last = live.next_back().map_or(first, |(v, _)| *v);
                (first, last)
            }
            Dist::Product(factors) => factors.iter().skip(1).fold(
                factors.first().map_or((1.0, 1.0), Dist::support),
                |(lo, hi), factor| {
                    let (a, b) = factor.support();
                    let corners =
                        [lo * a, lo * b, hi * a, hi * b].map(|c| if c.is_nan() { 0.0 } else { c });
                    (
                        corners.iter().copied().fold(f64::INFINITY, f64::min),
                        corners.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                    )
                },
            ),
        }
    }

    pub fn is_fixed(&self) -> bool {
        matches!(self, Dist::Fixed(_))
    }

    /// Mean (closed form; a product is the product of means, assuming independence).
    pub fn mean(&self) -> f64 {
        match self {
            Dist::Fixed(v) => *v,
            Dist::Uniform { min, max } => 0.5 * (min + max),
            Dist::Triangular { min, mode, max } => (min + mode + max) / 3.0,
            Dist::Pert {
                min,
                mode,
                max,
                lambda,
            } => (min + lambda * mode + max) / (lambda + 2.0),
            Dist::Normal { mean, sd, min, max } => {
                let a = min.map_or(f64::NEG_INFINITY, |m| (m - mean) / sd);
                let b = max.map_or(f64::INFINITY, |m| (m - mean) / sd);
                let mass = truncated_mass(a, b);
                let density = |z: f64| if z.is_finite() { normal_pdf(z) } else { 0.0 };
                mean + sd * (density(a) - density(b)) / mass
            }
            Dist::LogNormal { mu, sigma } => (mu + 0.5 * sigma * sigma).exp(),
            Dist::Beta { alpha, beta } => alpha / (alpha + beta),
            Dist::Gamma { shape, scale } => shape * scale,
            Dist::Bernoulli { p } => *p,
            Dist::Discrete { values, weights } => {
                values.iter().zip(weights).map(|(v, w)| v * w).sum::<f64>()
                    / weights.iter().sum::<f64>()
            }
            Dist::Product(factors) => factors.iter().map(Dist::mean).product(),
        }
    }
}

/// Phi(b) - Phi(a), computed in the upper tail when both bounds lie above 0.
pub(crate) fn truncated_mass(a: f64, b: f64) -> f64 {
    if a > 0.0 {
        normal_cdf(-a) - normal_cdf(-b)
    } else {
        normal_cdf(b) - normal_cdf(a)
    }
}

#[cfg(test)]
#[path = "spec_tests.rs"]
mod tests;
