//! `[[scheme]]`: what the plan buys (budget lines, exact to the penny), who funds it, when
//! it goes live, whether it is delivered, and its uncertain effect on each metric.
//!
//! A `stated` figure that differs from the computed line (rate x quantity) is a warning,
//! not an error: plans print rounded totals, and a finance lead wants to see the gap.
use super::fields::{Fields, entry_path};
use super::read::Context;
use super::read_metric::probability;
use super::tree::{Node, Value};
use super::types::*;
use crate::diagnostic::{Collector, Diagnostic, Severity, show};
use crate::dist::Dist;
use rust_decimal::Decimal;
use std::collections::HashSet;

const KEYS: &[&str] = &[
    "id",
    "label",
    "category",
    "funder",
    "start_month",
    "ramp_months",
    "end_month",
    "delivery",
    "cost_if_undelivered",
    "cost_overrun",
    "scale",
    "returns",
    "cost",
    "effect",
];
pub const CATEGORIES: &[&str] = &[
    "reablement",
    "telecare",
    "telehealth",
    "seven_day",
    "step_down",
    "care_navigation",
    "mdt",
    "data_sharing",
    "other",
];

pub fn read_scheme(
    node: &Node,
    index: usize,
    ctx: &Context,
    d: &mut Collector,
    warnings: &mut Vec<Diagnostic>,
) -> Option<Scheme> {
    let path = entry_path(node, "scheme", "id", index);
    let f = Fields::new(node, &path, KEYS, d)?;
    let before = d.error_count();
    let id = f.id("id", d);
    let label = f
        .string("label", d)
        .unwrap_or_else(|| id.clone().unwrap_or_default());
    let category = f
        .string("category", d)
        .unwrap_or_else(|| "other".to_string());
    if !CATEGORIES.contains(&category.as_str()) {
        d.error(
            f.span_of("category"),
            &f.key_path("category"),
            format!("unknown category \"{category}\""),
            format!("use one of: {}", CATEGORIES.join(", ")),
        );
    }
    // A scheme-level funder is the default for lines without their own.
    let all_lines_funded = match f.node("cost") {
        Some(Node {
            value: Value::Array(items),
            ..
        }) => {
            !items.is_empty()
                && items
                    .iter()
                    .all(|n| matches!(&n.value, Value::Table(t) if t.get("funder").is_some()))
        }
        _ => false,
    };
    let funder = if f.has("funder") || !all_lines_funded {
        f.shares("funder", &ctx.partners, d)
    } else {
        None
    };
    // Months are numbered 0..months-1 (MODEL.md section 4), so go-live must be one of
    // them: a scheme live only after the horizon would add its cost to every result and
    // never act, which reads as a scheme that failed. delivery = 0 says that openly.
    let last_month = ctx.months as i128 - 1;
    let start_month = match f.node("start_month") {
        Some(node) if matches!(node.value, Value::Integer(n, _) if n > last_month && last_month >= 0) =>
        {
            d.error(
                node.span,
                &f.key_path("start_month"),
                format!(
                    "start_month {} is after the horizon's last month ({last_month}; months count from 0)",
                    node_text(node)
                ),
                format!("use a whole number from 0 to {last_month}; for a scheme that costs money but never acts in this plan, set delivery = 0"),
            );
            0
        }
        Some(_) => f.integer("start_month", 0, last_month, d).unwrap_or(0) as usize,
        None => 0,
    };
    let end_month = if f.has("end_month") {
        let end = f
            .integer("end_month", 1, ctx.months as i128, d)
            .map(|m| m as usize);
        if let Some(e) = end
            && e <= start_month
        {
            d.error(
                    f.span_of("end_month"),
                    &f.key_path("end_month"),
                    format!("end_month {e} is not after start_month {start_month}"),
                    "end_month is the month (from the scenario start) from which the scheme has no effect",
                );
        }
        end
    } else {
        None
    };
    let ramp_months = if f.has("ramp_months") {
        f.integer("ramp_months", 0, 1200, d).unwrap_or(0) as usize
    } else {
        0
    };
    let delivery = if f.has("delivery") {
        probability(&f, "delivery", d)
    } else {
        Some(Dist::Fixed(1.0))
    };
    let cost_if_undelivered = match f.number("cost_if_undelivered", d) {
        None => 1.0,
        Some(x) if (0.0..=1.0).contains(&x) => x,
        Some(x) => {
            d.error(
                f.span_of("cost_if_undelivered"),
                &f.key_path("cost_if_undelivered"),
                format!("{} is outside [0, 1]", show(x)),
                "the share of cost still spent when the scheme is not delivered",
            );
            1.0
        }
    };
    let nonneg = |key: &str, d: &mut Collector| -> Option<Dist> {
        if f.has(key) {
            f.mostly_within(key, 0.0, f64::INFINITY, key, d)
        } else {
            Some(Dist::Fixed(1.0))
        }
    };
    let cost_overrun = nonneg("cost_overrun", d);
    let scale = nonneg("scale", d);
    // Negative returns would make a larger scheme do less, and at scale 0 an infinite
    // factor (0^-1): refused, as MODEL.md is silent on the range (docs/MODEL.md).
    let returns = nonneg("returns", d);

    let mut costs = Vec::new();
    if let Some(node) = f.node("cost") {
        match &node.value {
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    if let Some(line) = read_cost_line(
                        item,
                        &format!("{path}.cost.{i}"),
                        funder.as_deref(),
                        ctx,
                        d,
                        warnings,
                    ) {
                        costs.push(line);
                    }
                }
            }
            _ => d.error(
                node.span,
                &f.key_path("cost"),
                "expected [[scheme.cost]] budget lines",
                "write each line under its own [[scheme.cost]] header",
            ),
        }
    }

    let mut effects = Vec::new();
    if let Some(node) = f.node("effect") {
        match &node.value {
            Value::Array(items) => {
                let mut seen = HashSet::new();
                for (i, item) in items.iter().enumerate() {
                    let epath = entry_path(item, &format!("{path}.effect"), "metric", i);
                    let Some(e) = Fields::new(item, &epath, &["metric", "change"], d) else {
                        continue;
                    };
                    let Some(metric_id) = e.req_string(
                        "metric",
                        "the metric this scheme changes, e.g. metric = \"nea\"",
                        d,
                    ) else {
                        continue;
                    };
                    let metric = match ctx.metric(&metric_id) {
                        Some(m) => Some(m),
                        // Known but invalid: its own errors are reported; check the change anyway.
                        None if ctx.invalid_metrics.contains(&metric_id) => None,
                        None => {
                            let known: Vec<&str> =
                                ctx.metrics.iter().map(|m| m.0.as_str()).collect();
                            d.error(
                                e.span_of("metric"),
                                &e.key_path("metric"),
                                format!("effect on unknown metric `{metric_id}`"),
                                super::fields::known_metrics_hint(&known),
                            );
                            continue;
                        }
                    };
                    if !seen.insert(metric_id.clone()) {
                        d.error(
                            item.span,
                            &epath,
                            format!("two effects on metric `{metric_id}`"),
                            "combine them into one effect per metric",
                        );
                        continue;
                    }
                    let change = if e.has("change") {
                        e.mostly_within("change", -10.0, 10.0, "an effect", d)
                    } else {
                        e.missing("change", "count metric: relative reduction at full effect (0.02 = 2%); proportion: points", d);
                        None
                    };
                    if let (Some(change), Some(metric)) = (change, metric) {
                        effects.push(Effect {
                            metric,
                            change: Param {
                                path: format!("{path}.effect.{metric_id}"),
                                dist: change,
                            },
                        });
                    }
                }
            }
            _ => d.error(
                node.span,
                &f.key_path("effect"),
                "expected [[scheme.effect]] tables",
                "write each effect under its own [[scheme.effect]] header",
            ),
        }
    }
    if d.error_count() > before {
        return None;
    }
    let p = |key: &str, dist: Dist| Param {
        path: format!("{path}.{key}"),
        dist,
    };
    Some(Scheme {
        id: id?,
        label,
        category,
        funder: funder.unwrap_or_else(|| {
            costs
                .first()
                .map(|c: &CostLine| c.funder.clone())
                .unwrap_or_default()
        }),
        start_month,
        ramp_months,
        end_month,
        delivery: p("delivery", delivery?),
        cost_if_undelivered,
        cost_overrun: p("cost_overrun", cost_overrun?),
        scale: p("scale", scale?),
        returns: p("returns", returns?),
        costs,
        effects,
    })
}

fn read_cost_line(
    node: &Node,
    path: &str,
    scheme_funder: Option<&[f64]>,
    ctx: &Context,
    d: &mut Collector,
    warnings: &mut Vec<Diagnostic>,
) -> Option<CostLine> {
    let f = Fields::new(
        node,
        path,
        &[
            "item", "year", "amount", "rate", "quantity", "stated", "funder",
        ],
        d,
    )?;
    let funder = if f.has("funder") {
        f.shares("funder", &ctx.partners, d)
    } else {
        scheme_funder.map(<[f64]>::to_vec)
    };
    let item = f.req_string(
        "item",
        "describe the budget line, e.g. item = \"Reablement workers\"",
        d,
    );
    let year = f.string("year", d);
    let stated = f.money("stated", d);
    let amount = match (f.has("amount"), f.has("rate") || f.has("quantity")) {
        (true, true) => {
            d.error(
                f.span_of("amount"),
                &f.key_path("amount"),
                "give either `amount` or `rate` x `quantity`, not both",
                "remove one of them",
            );
            None
        }
        (true, false) => f.money("amount", d),
        (false, true) => {
            let rate = if f.has("rate") {
                f.decimal("rate", false, d)
            } else {
                f.missing("rate", "e.g. rate = \"33.35\" (£ per unit)", d);
                None
            };
            let quantity = if f.has("quantity") {
                f.decimal("quantity", false, d)
            } else {
                f.missing("quantity", "e.g. quantity = 3640 (units)", d);
                None
            };
            match (rate, quantity) {
                (Some(r), Some(q)) => match r.checked_mul(q) {
                    Some(v) => Some(v),
                    None => {
                        d.error(
                            f.span_of("quantity"),
                            &f.key_path("quantity"),
                            "rate x quantity is too large",
                            "check the units",
                        );
                        None
                    }
                },
                _ => None,
            }
        }
        (false, false) => {
            f.missing("amount", "give amount = \"50000\", or rate and quantity", d);
            None
        }
    };
    let amount = amount?;
    if let Some(s) = stated {
        // A stated figure is in pence; rate x quantity may not be (a rate can carry more
        // decimals), so a plan that printed the product rounded to the penny agrees.
        if (s - amount).abs() > Decimal::new(5, 3) {
            let location = d.sources.locate(f.span_of("stated"));
            warnings.push(Diagnostic {
                severity: Severity::Warning,
                location,
                key: f.key_path("stated"),
                message: format!(
                    "the plan states £{} but {} = £{} (difference £{})",
                    group(s),
                    if f.has("rate") {
                        "rate x quantity"
                    } else {
                        "the amount"
                    },
                    group(amount),
                    group(amount - s)
                ),
                hint: "the computed figure is used; check the plan's arithmetic".to_string(),
            });
        }
    }
    Some(CostLine {
        item: item?,
        year,
        amount,
        stated,
        funder: funder?,
    })
}

fn node_text(node: &Node) -> String {
    match &node.value {
        Value::Integer(_, text) => text.clone(),
        _ => String::new(),
    }
}

/// 121394.00 -> "121,394.00"; an exact product with more decimals keeps them all
/// (121394.004 -> "121,394.004"), so a message never shows a rounded figure.
fn group(x: Decimal) -> String {
    let places = x.normalize().scale().max(2) as usize;
    let text = format!("{:.places$}", x.abs());
    let (int, frac) = text.split_once('.').unwrap_or((&text, "00"));
    let mut out = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    let sign = if x.is_sign_negative() && !x.is_zero() {
        "-"
    } else {
        ""
    };
    format!("{sign}{out}.{frac}")
}
