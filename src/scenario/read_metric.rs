//! `[[metric]]`: outcome metrics, count (admissions, delayed days) or proportion
//! (reablement success), with their baseline, demand and observation noise.
use super::fields::{Fields, check_support, entry_path, number};
use super::read::Context;
use super::tree::{Node, Value};
use super::types::*;
use crate::diagnostic::{Collector, Diagnostic, Severity, show};
use crate::dist::Dist;

const KEYS: &[&str] = &[
    "id",
    "label",
    "kind",
    "baseline",
    "level",
    "growth",
    "seasonality",
    "noise",
    "cohort",
    "unit_cost",
    "payer",
];

/// Reads one metric; a likely unit slip that is still a valid value (growth of 2.6 a
/// year) is pushed to `warnings`, as budget-line mismatches are.
pub fn read_metric(
    node: &Node,
    index: usize,
    ctx: &Context,
    d: &mut Collector,
    warnings: &mut Vec<Diagnostic>,
) -> Option<Metric> {
    let path = entry_path(node, "metric", "id", index);
    let f = Fields::new(node, &path, KEYS, d)?;
    let id = f.id("id", d);
    let label = f
        .string("label", d)
        .unwrap_or_else(|| id.clone().unwrap_or_default());
    let kind = match f
        .req_string("kind", "kind = \"count\" or \"proportion\"", d)
        .as_deref()
    {
        Some("count") => Some(MetricKind::Count),
        Some("proportion") => Some(MetricKind::Proportion),
        Some(other) => {
            d.error(
                f.span_of("kind"),
                &f.key_path("kind"),
                format!("unknown metric kind \"{other}\""),
                "use \"count\" (admissions, delayed days) or \"proportion\" (share of people)",
            );
            None
        }
        None => None,
    };
    let baseline = f.req_number(
        "baseline",
        "the historic annual level (count) or proportion that targets are measured against",
        d,
    );
    let mut ok = id.is_some() && kind.is_some() && baseline.is_some();
    if let (Some(kind), Some(b)) = (kind, baseline) {
        let bad = match kind {
            MetricKind::Count => b <= 0.0,
            MetricKind::Proportion => !(0.0..=1.0).contains(&b),
        };
        if bad {
            let hint = match kind {
                MetricKind::Count => "a count baseline is activity per year and must be positive",
                MetricKind::Proportion => "a proportion baseline lies in [0, 1], e.g. 0.82",
            };
            d.error(
                f.span_of("baseline"),
                &f.key_path("baseline"),
                format!("baseline {} is out of range", show(b)),
                hint,
            );
            ok = false;
        }
        if kind == MetricKind::Count && b > 1e11 {
            d.error(
                f.span_of("baseline"),
                &f.key_path("baseline"),
                format!("baseline {} is too large to simulate", show(b)),
                "counts above 10^11 a year are not supported",
            );
            ok = false;
        }
    }
    let level = if f.has("level") {
        // A level is relative to the baseline (1 = at it); above 10 it is a unit slip
        // (98.7 written for 0.987), and it would feed absurd activity to the noise.
        f.mostly_within(
            "level",
            0.0,
            10.0,
            "level (relative to the baseline, 1 = at it)",
            d,
        )
    } else {
        Some(Dist::Fixed(1.0))
    };
    ok &= level.is_some();

    let is_proportion = kind == Some(MetricKind::Proportion);
    for key in ["growth", "noise"] {
        if is_proportion && f.has(key) {
            d.error(
                f.span_of(key),
                &f.key_path(key),
                format!("`{key}` applies to count metrics only"),
                "a proportion metric has no demand growth and binomial noise; remove this key",
            );
            ok = false;
        }
    }
    if kind == Some(MetricKind::Count) && f.has("cohort") {
        d.error(
            f.span_of("cohort"),
            &f.key_path("cohort"),
            "`cohort` applies to proportion metrics only",
            "remove it, or set kind = \"proportion\"",
        );
        ok = false;
    }
    let growth = if f.has("growth") && !is_proportion {
        f.mostly_within("growth", -0.99, 100.0, "annual growth", d)
    } else {
        Some(Dist::Fixed(0.0))
    };
    ok &= growth.is_some();
    if let Some(g) = growth.as_ref().filter(|_| f.has("growth")) {
        // Growth is a fraction a year; 2.6 (260%) is almost always 2.6% typed as a
        // percentage. Some local metric could grow that fast, so this only warns.
        let (centre, what) = match g {
            Dist::Triangular { mode, .. } | Dist::Pert { mode, .. } => (*mode, "mode"),
            Dist::Fixed(x) => (*x, ""),
            other => (other.mean(), "mean"),
        };
        if centre > 0.5 {
            let value = if what.is_empty() {
                show(centre)
            } else {
                format!("with a {what} of {}", show(centre))
            };
            warnings.push(Diagnostic {
                severity: Severity::Warning,
                location: d.sources.locate(f.span_of("growth")),
                key: f.key_path("growth"),
                message: format!(
                    "annual demand growth {value} is {}% a year",
                    show(centre * 100.0)
                ),
                hint: "growth is a fraction a year: write 2.6% as 0.026; keep it only if demand really grows this fast".into(),
            });
        }
    }

    let seasonality = match f.node("seasonality") {
        None => Some([1.0; 12]),
        Some(n) => read_seasonality(n, &f.key_path("seasonality"), d),
    };
    ok &= seasonality.is_some();

    let noise = match f.node("noise") {
        None => Some(Noise::Poisson),
        Some(n) if !is_proportion => read_noise(n, &f.key_path("noise"), d),
        Some(_) => None,
    };
    ok &= noise.is_some() || is_proportion;

    let mut cohort = 0.0;
    if is_proportion {
        match f.req_number(
            "cohort",
            "people per year in the denominator, e.g. cohort = 400",
            d,
        ) {
            Some(c) if c > 0.0 && c <= 1e9 => cohort = c,
            Some(c) => {
                d.error(
                    f.span_of("cohort"),
                    &f.key_path("cohort"),
                    format!("cohort {} is out of range", show(c)),
                    "give people per year, more than 0 and at most 10^9",
                );
                ok = false;
            }
            None => ok = false,
        }
    }

    let unit_cost = if f.has("unit_cost") {
        f.uncertain("unit_cost", d)
    } else {
        Some(Dist::Fixed(0.0))
    };
    ok &= unit_cost.is_some();
    let payer = match f.string("payer", d) {
        Some(p) => match ctx.partner(&p) {
            Some(i) => Some(i),
            None => {
                d.error(
                    f.span_of("payer"),
                    &f.key_path("payer"),
                    format!("unknown partner `{p}`"),
                    super::fields::partners_hint(&ctx.partners, "payer must be one of: "),
                );
                ok = false;
                None
            }
        },
        None => None,
    };
    if f.has("unit_cost") && !f.has("payer") {
        d.error(
            f.span_of("unit_cost"),
            &f.key_path("payer"),
            "`unit_cost` is given without `payer`",
            "say which partner saves when activity is avoided, e.g. payer = \"nhs\"",
        );
        ok = false;
    }
    if !ok {
        return None;
    }
    Some(Metric {
        id: id?,
        label,
        kind: kind?,
        baseline: baseline?,
        level: param(&path, "level", level?),
        growth: param(&path, "growth", growth?),
        seasonality: seasonality?,
        noise: noise.unwrap_or(Noise::Poisson),
        cohort,
        unit_cost: param(&path, "unit_cost", unit_cost?),
        payer,
    })
}

fn param(path: &str, key: &str, dist: Dist) -> Param {
    Param {
        path: format!("{path}.{key}"),
        dist,
    }
}

fn read_seasonality(node: &Node, path: &str, d: &mut Collector) -> Option<[f64; 12]> {
    let Value::Array(items) = &node.value else {
        d.error(
            node.span,
            path,
            "seasonality must be an array of 12 factors",
            "list April to March, e.g. [1.0, 1.0, 0.97, ...]",
        );
        return None;
    };
    if items.len() != 12 {
        d.error(
            node.span,
            path,
            format!("seasonality has {} factors, not 12", items.len()),
            "give one factor per calendar month, April first",
        );
        return None;
    }
    let mut out = [0.0; 12];
    for (i, item) in items.iter().enumerate() {
        let x = number(item, &format!("{path}[{i}]"), d)?;
        if x < 0.0 {
            d.error(
                item.span,
                &format!("{path}[{i}]"),
                format!("factor {} is negative", show(x)),
                "seasonal factors are 0 or more",
            );
            return None;
        }
        out[i] = x;
    }
    let mean = out.iter().sum::<f64>() / 12.0;
    if (mean - 1.0).abs() > 1e-3 {
        d.error(
            node.span,
            path,
            format!("seasonality averages {mean:.6}, not 1"),
            "scale the factors so their mean is 1 (within 0.001)",
        );
        return None;
    }
    Some(out)
}

fn read_noise(node: &Node, path: &str, d: &mut Collector) -> Option<Noise> {
    match &node.value {
        Value::String(s) if s == "poisson" => Some(Noise::Poisson),
        Value::Table(_) => {
            let f = Fields::new(node, path, &["negative_binomial"], d)?;
            let Some(inner) = f.node("negative_binomial") else {
                f.missing(
                    "negative_binomial",
                    "noise = { negative_binomial = { dispersion = 300 } }",
                    d,
                );
                return None;
            };
            let g = Fields::new(
                inner,
                &format!("{path}.negative_binomial"),
                &["dispersion"],
                d,
            )?;
            let k = g.req_number(
                "dispersion",
                "the gamma shape k: larger means closer to Poisson",
                d,
            )?;
            // The gamma mixing table works for shapes in [1e-6, 1e12]; outside it the
            // value would be clamped silently, so refuse it instead.
            if (1e-6..=1e12).contains(&k) {
                Some(Noise::NegativeBinomial { dispersion: k })
            } else {
                d.error(
                    g.span_of("dispersion"),
                    &g.key_path("dispersion"),
                    format!("dispersion {} must lie in [1e-6, 1e12]", show(k)),
                    "e.g. dispersion = 300; larger is closer to Poisson, so use noise = \"poisson\" for very large values",
                );
                None
            }
        }
        _ => {
            d.error(
                node.span,
                path,
                "unknown noise model",
                "use noise = \"poisson\" or noise = { negative_binomial = { dispersion = 300 } }",
            );
            None
        }
    }
}

/// Re-exported for other readers: a probability-valued uncertain key.
pub fn probability(f: &Fields, key: &str, d: &mut Collector) -> Option<Dist> {
    let dist = f.uncertain(key, d)?;
    check_support(
        &dist,
        f.span_of(key),
        &f.key_path(key),
        0.0,
        1.0,
        "a probability",
        d,
    )
}
