//! Per-kind construction and validation behind `Dist::build`: reads the keys a
//! distribution needs, records every problem as a `DistError` naming its key, and
//! converts the user's parameterisation (mean/sd, p10/p90, mode, ...) into the
//! `Dist` variant's own parameters (MODEL.md section 3, "Distribution details").
//! Numbers are checked for finiteness first, then relations, written so that NaN
//! fails them (`!(min < max)`).

use super::normal::normal_quantile;
use super::spec::{Dist, DistError, DistKeys, allowed_keys, truncated_mass};

/// Smallest truncated-normal mass accepted (below it sampling is numerically empty).
const MIN_TRUNCATED_MASS: f64 = 1e-12;
/// Tolerance on discrete weights summing to 1.
const WEIGHT_SUM_TOLERANCE: f64 = 1e-9;

/// Collects errors while reading keys.
pub(super) struct Checker {
    pub(super) kind: &'static str,
    pub(super) errors: Vec<DistError>,
}

impl Checker {
    pub(super) fn error(&mut self, key: &'static str, message: String, hint: impl Into<String>) {
        self.errors.push(DistError {
            key,
            message,
            hint: hint.into(),
        });
    }

    /// A finite number, or None after recording why not (missing only if required).
    fn number(&mut self, key: &'static str, value: Option<f64>, required: bool) -> Option<f64> {
        match value {
            Some(v) if v.is_finite() => Some(v),
            Some(v) => {
                self.error(
                    key,
                    format!("`{key}` is {v}, not a finite number"),
                    "write an ordinary number",
                );
                None
            }
            None => {
                if required {
                    let keys = allowed_keys(self.kind).unwrap_or(&[]).join(", ");
                    self.error(
                        key,
                        format!("a {} distribution needs `{key}`", self.kind),
                        format!("add `{key}` (keys for {}: {keys})", self.kind),
                    );
                }
                None
            }
        }
    }

    /// Whether `lo < hi` (false for NaN too); if not, an error at `key` saying so:
    /// "`lo_name` (lo) must be less than `hi_name` (hi)".
    fn ordered(
        &mut self,
        key: &'static str,
        (lo_name, lo): (&str, f64),
        (hi_name, hi): (&str, f64),
        hint: &str,
    ) -> bool {
        let ok = lo < hi;
        if !ok {
            self.error(
                key,
                format!("{lo_name} ({lo}) must be less than {hi_name} ({hi})"),
                hint,
            );
        }
        ok
    }

    /// A list that must be present.
    fn list<'a>(&mut self, key: &'static str, value: Option<&'a [f64]>) -> Option<&'a [f64]> {
        if value.is_none() {
            self.number(key, None, true);
        }
        value
    }

    /// Either mean/sd or p10/p90, exactly one pair, complete.
    fn pair_choice(&mut self, keys: &DistKeys) -> Option<Spread> {
        let moments = keys.mean.is_some() || keys.sd.is_some();
        let percentiles = keys.p10.is_some() || keys.p90.is_some();
        let hint = "use p10/p90 or mean/sd, not both";
        if moments && percentiles {
            self.error(
                "p10",
                format!(
                    "a {} distribution was given both mean/sd and p10/p90",
                    self.kind
                ),
                hint,
            );
            return None;
        }
        if !moments && !percentiles {
            self.error(
                "mean",
                format!(
                    "a {} distribution needs mean and sd, or p10 and p90",
                    self.kind
                ),
                "add mean = ..., sd = ... (or p10 = ..., p90 = ...)",
            );
            return None;
        }
        if moments {
            let mean = self.number("mean", keys.mean, true);
            let sd = self.number("sd", keys.sd, true);
            let sd = sd.filter(|&sd| {
                let ok = sd > 0.0;
                if !ok {
                    self.error(
                        "sd",
                        format!("sd is {sd}; it must be greater than 0"),
                        "use a positive sd, or a fixed number for a certain value",
                    );
                }
                ok
            });
            Some(Spread::Moments(mean?, sd?))
        } else {
            let p10 = self.number("p10", keys.p10, true);
            let p90 = self.number("p90", keys.p90, true);
            let (p10, p90) = (p10?, p90?);
            if !self.ordered(
                "p90",
                ("p10", p10),
                ("p90", p90),
                "p10 is the value with 10% below it; p90 the value with 90% below it",
            ) {
                return None;
            }
            Some(Spread::Percentiles(p10, p90))
        }
    }
}

enum Spread {
    Moments(f64, f64),
    Percentiles(f64, f64),
}

pub(super) fn uniform(check: &mut Checker, keys: &DistKeys) -> Option<Dist> {
    let min = check.number("min", keys.min, true);
    let max = check.number("max", keys.max, true);
    let (min, max) = (min?, max?);
    if !check.ordered(
        "min",
        ("min", min),
        ("max", max),
        "swap them, or use a fixed number for a certain value",
    ) {
        return None;
    }
    Some(Dist::Uniform { min, max })
}

pub(super) fn three_point(check: &mut Checker, keys: &DistKeys, pert: bool) -> Option<Dist> {
    let min = check.number("min", keys.min, true);
    let mode = check.number("mode", keys.mode, true);
    let max = check.number("max", keys.max, true);
    let lambda = if pert {
        check.number("lambda", keys.lambda.or(Some(4.0)), false)
    } else {
        Some(0.0)
    };
    let lambda = lambda.filter(|&l| {
        let ok = !pert || l > 0.0;
        if !ok {
            check.error(
                "lambda",
                format!("lambda is {l}; it must be greater than 0"),
                "leave it out for the usual 4, or give a positive number",
            );
        }
        ok
    });
    let (min, mode, max, lambda) = (min?, mode?, max?, lambda?);
    if !check.ordered(
        "min",
        ("min", min),
        ("max", max),
        "swap them, or use a fixed number for a certain value",
    ) {
        return None;
    }
    if !(min <= mode && mode <= max) {
        check.error(
            "mode",
            format!("mode ({mode}) must lie between min ({min}) and max ({max})"),
            "the mode is the most likely value, inside [min, max]",
        );
        return None;
    }
    Some(if pert {
        Dist::Pert {
            min,
            mode,
            max,
            lambda,
        }
    } else {
        Dist::Triangular { min, mode, max }
    })
}

pub(super) fn normal(check: &mut Checker, keys: &DistKeys) -> Option<Dist> {
    let spread = check.pair_choice(keys);
    let min = keys.min.and_then(|m| check.number("min", Some(m), false));
    let max = keys.max.and_then(|m| check.number("max", Some(m), false));
    let bounds_ok = (keys.min.is_none() || min.is_some()) && (keys.max.is_none() || max.is_some());
    let (mean, sd) = match spread? {
        Spread::Moments(mean, sd) => (mean, sd),
        Spread::Percentiles(p10, p90) => {
            let z = normal_quantile(0.9);
            (0.5 * (p10 + p90), (p90 - p10) / (2.0 * z))
        }
    };
    if !bounds_ok {
        return None;
    }
    if let (Some(lo), Some(hi)) = (min, max)
        && !check.ordered(
            "min",
            ("truncation min", lo),
            ("max", hi),
            "swap them, or drop the bounds",
        )
    {
        return None;
    }
    let a = min.map_or(f64::NEG_INFINITY, |m| (m - mean) / sd);
    let b = max.map_or(f64::INFINITY, |m| (m - mean) / sd);
    let mass = truncated_mass(a, b);
    if !(mass >= MIN_TRUNCATED_MASS) {
        check.error(
            if min.is_some() { "min" } else { "max" },
            format!(
                "truncating normal(mean {mean}, sd {sd}) to [{}, {}] keeps {} of its probability",
                min.unwrap_or(f64::NEG_INFINITY),
                max.unwrap_or(f64::INFINITY),
                share_kept(mass)
            ),
            "widen the bounds or move the mean inside them",
        );
        return None;
    }
    Some(Dist::Normal { mean, sd, min, max })
}

/// A truncated normal's kept probability as an error shows it: two significant figures
/// ("only 6.2e-16"), or "none" where it computes as 0 (it underflowed, or two tail areas
/// cancelled), rather than "0.000e0".
fn share_kept(mass: f64) -> String {
    if mass > 0.0 {
        format!("only {mass:.1e}")
    } else {
        "none".into()
    }
}

pub(super) fn lognormal(check: &mut Checker, keys: &DistKeys) -> Option<Dist> {
    match check.pair_choice(keys)? {
        Spread::Moments(mean, sd) => {
            if !(mean > 0.0) {
                check.error(
                    "mean",
                    format!("a lognormal mean must be greater than 0, not {mean}"),
                    "a lognormal value is always positive; use normal for values that can be negative",
                );
                return None;
            }
            let sigma2 = (sd * sd / (mean * mean)).ln_1p();
            Some(Dist::LogNormal {
                mu: mean.ln() - 0.5 * sigma2,
                sigma: sigma2.sqrt(),
            })
        }
        Spread::Percentiles(p10, p90) => {
            if !(p10 > 0.0) {
                check.error(
                    "p10",
                    format!("a lognormal p10 must be greater than 0, not {p10}"),
                    "a lognormal value is always positive; use normal for values that can be negative",
                );
                return None;
            }
            let z = normal_quantile(0.9);
            Some(Dist::LogNormal {
                mu: 0.5 * (p10.ln() + p90.ln()),
                sigma: (p90.ln() - p10.ln()) / (2.0 * z),
            })
        }
    }
}

fn moments(check: &mut Checker, keys: &DistKeys) -> Option<(f64, f64)> {
    let mean = check.number("mean", keys.mean, true);
    let sd = check.number("sd", keys.sd, true);
    let sd = sd.filter(|&sd| {
        let ok = sd > 0.0;
        if !ok {
            check.error(
                "sd",
                format!("sd is {sd}; it must be greater than 0"),
                "use a positive sd, or a fixed number for a certain value",
            );
        }
        ok
    });
    Some((mean?, sd?))
}

pub(super) fn beta(check: &mut Checker, keys: &DistKeys) -> Option<Dist> {
    let (m, sd) = moments(check, keys)?;
    if !(m > 0.0 && m < 1.0) {
        check.error(
            "mean",
            format!("a beta mean must lie strictly between 0 and 1, not {m}"),
            "beta is for proportions; give the mean as a fraction such as 0.25",
        );
        return None;
    }
    let limit = m * (1.0 - m);
    if !(sd * sd < limit) {
        check.error(
            "sd",
            format!(
                "sd {sd} is too large for a beta with mean {m}: sd^2 must be below m(1-m) = {limit}, i.e. sd < {}",
                limit.sqrt()
            ),
            "reduce sd",
        );
        return None;
    }
    let total = limit / (sd * sd) - 1.0;
    let (alpha, beta) = (m * total, (1.0 - m) * total);
    if !(shape_is_workable(alpha) && shape_is_workable(beta)) {
        check.error(
            "sd",
            format!(
                "beta(mean {m:?}, sd {sd:?}) has parameters a = {alpha:e}, b = {beta:e}, outside [1e-6, 1e12]"
            ),
            "use a larger sd (or a fixed number for a near-certain value), or a mean further from 0 and 1",
        );
        return None;
    }
    Some(Dist::Beta { alpha, beta })
}

pub(super) fn gamma(check: &mut Checker, keys: &DistKeys) -> Option<Dist> {
    let (m, sd) = moments(check, keys)?;
    if !(m > 0.0) {
        check.error(
            "mean",
            format!("a gamma mean must be greater than 0, not {m}"),
            "a gamma value is always positive; use normal for values that can be negative",
        );
        return None;
    }
    let (shape, scale) = ((m / sd) * (m / sd), sd * sd / m);
    if !(shape_is_workable(shape) && scale.is_finite() && scale > 0.0) {
        check.error(
            "sd",
            format!(
                "gamma(mean {m:?}, sd {sd:?}) has shape (mean/sd)^2 = {shape:e} and scale {scale:e}; the shape must lie in [1e-6, 1e12]"
            ),
            "make sd closer to the mean (or use a fixed number for a near-certain value)",
        );
        return None;
    }
    Some(Dist::Gamma { shape, scale })
}

/// Beta and gamma shape parameters the quantile tables handle (statrs' incomplete
/// gamma/beta functions reject 0 and non-finite shapes, which underflow or overflow
/// from extreme mean/sd would otherwise produce).
fn shape_is_workable(shape: f64) -> bool {
    (1e-6..=1e12).contains(&shape)
}

pub(super) fn bernoulli(check: &mut Checker, keys: &DistKeys) -> Option<Dist> {
    let p = check.number("p", keys.p, true)?;
    if !(0.0..=1.0).contains(&p) {
        check.error(
            "p",
            format!("p is {p}; a probability must lie in [0, 1]"),
            "write the probability as a fraction, e.g. 0.3 for 30%",
        );
        return None;
    }
    Some(Dist::Bernoulli { p })
}

pub(super) fn product(check: &mut Checker, keys: &DistKeys) -> Option<Dist> {
    let Some(of) = &keys.of else {
        check.error(
            "of",
            "a product distribution needs `of`, the list of factors".to_string(),
            "add of = [factor, factor, ...] with at least two factors",
        );
        return None;
    };
    if of.len() < 2 {
        check.error(
            "of",
            format!("a product needs at least 2 factors, got {}", of.len()),
            "list two or more factors, or use the single value directly",
        );
        return None;
    }
    Some(Dist::Product(of.clone()))
}

pub(super) fn discrete(check: &mut Checker, keys: &DistKeys) -> Option<Dist> {
    let values = check.list("values", keys.values.as_deref());
    let weights = check.list("weights", keys.weights.as_deref());
    let (values, weights) = (values?, weights?);
    if values.is_empty() {
        check.error(
            "values",
            "a discrete distribution needs at least one value".to_string(),
            "list the possible values, e.g. values = [1, 2, 3]",
        );
        return None;
    }
    if values.len() != weights.len() {
        check.error(
            "weights",
            format!(
                "there are {} values but {} weights",
                values.len(),
                weights.len()
            ),
            "give exactly one weight per value",
        );
        return None;
    }
    let mut bad = false;
    if let Some(v) = values.iter().find(|v| !v.is_finite()) {
        check.error(
            "values",
            format!("value {v} is not a finite number"),
            "write ordinary numbers",
        );
        bad = true;
    }
    if let Some(w) = weights.iter().find(|w| !(w.is_finite() && **w >= 0.0)) {
        check.error(
            "weights",
            format!("weight {w} is not a finite number >= 0"),
            "weights are probabilities: non-negative and summing to 1",
        );
        bad = true;
    }
    if bad {
        return None;
    }
    let total: f64 = weights.iter().sum();
    if !((total - 1.0).abs() <= WEIGHT_SUM_TOLERANCE) {
        check.error(
            "weights",
            format!("weights sum to {}, not 1", crate::diagnostic::show(total)),
            "make the weights add up to exactly 1",
        );
        return None;
    }
    let mut pairs: Vec<(f64, f64)> = values
        .iter()
        .copied()
        .zip(weights.iter().copied())
        .collect();
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut merged: Vec<(f64, f64)> = Vec::with_capacity(pairs.len());
    for (v, w) in pairs {
        match merged.last_mut() {
            Some(last) if last.0 == v => last.1 += w,
            _ => merged.push((v, w)),
        }
    }
    let (values, weights) = merged.into_iter().unzip();
    Some(Dist::Discrete { values, weights })
}
