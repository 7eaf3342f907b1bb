//! `[[tranche]]` and its conditions: how much of the pot each payment carries, which
//! months it measures, and the rule that turns achievement into money.
use super::fields::{Fields, entry_path, is_id, number};
use super::read::{Context, parse_month};
use super::read_metric::probability;
use super::tree::{Node, Value};
use super::types::*;
use crate::diagnostic::{Collector, Span, show};
use crate::dist::Dist;
use rust_decimal::Decimal;
use std::collections::HashSet;

const KEYS: &[&str] = &["id", "label", "share", "window", "gate", "condition"];
const CONDITION_KEYS: &[&str] = &[
    "metric",
    "event",
    "label",
    "target",
    "rule",
    "weight",
    "floor",
    "bands",
    "rate",
    "probability",
];
const RULES: &[&str] = &[
    "all_or_nothing",
    "proportional",
    "banded",
    "per_unit",
    "event",
];

pub fn read_tranche(
    node: &Node,
    index: usize,
    ctx: &Context,
    d: &mut Collector,
) -> Option<Tranche> {
    let path = entry_path(node, "tranche", "id", index);
    let f = Fields::new(node, &path, KEYS, d)?;
    let before = d.error_count();
    let id = f.id("id", d);
    let label = f
        .string("label", d)
        .unwrap_or_else(|| id.clone().unwrap_or_default());
    let share = if f.has("share") {
        f.decimal("share", false, d)
    } else {
        f.missing(
            "share",
            "the tranche's share of the pot, e.g. share = \"0.25\"",
            d,
        );
        None
    };
    if let Some(s) = share
        && (s.is_zero() || s > Decimal::ONE)
    {
        d.error(
            f.span_of("share"),
            &f.key_path("share"),
            format!("share {s} must be above 0 and at most 1"),
            "shares of all tranches add up to exactly 1",
        );
    }
    let gate = match f.string("gate", d).as_deref() {
        None | Some("weighted") => Gate::Weighted,
        Some("all") => Gate::All,
        Some(other) => {
            d.error(
                f.span_of("gate"),
                &f.key_path("gate"),
                format!("unknown gate \"{other}\""),
                "use \"weighted\" (default) or \"all\" (pays only if every condition is met)",
            );
            Gate::Weighted
        }
    };
    let window = match f.node("window") {
        Some(n) => read_window(n, &f.key_path("window"), ctx, d),
        None => None,
    };

    let mut conditions = Vec::new();
    let items: Vec<&Node> = match f.node("condition") {
        Some(Node {
            value: Value::Array(items),
            ..
        }) => items.iter().collect(),
        Some(other) => {
            d.error(
                other.span,
                &f.key_path("condition"),
                "expected [[tranche.condition]] tables",
                "write each condition under its own [[tranche.condition]] header",
            );
            Vec::new()
        }
        None => {
            f.missing("condition", "add at least one [[tranche.condition]]", d);
            Vec::new()
        }
    };
    let single = items.len() == 1;
    let mut seen = HashSet::new();
    for (i, item) in items.iter().enumerate() {
        if let Some(c) = read_condition(item, &path, i, single, ctx, d) {
            let key = match &c.kind {
                ConditionKind::Metric { metric, .. } => ctx.metrics[*metric].0.clone(),
                ConditionKind::Event { id, .. } => id.clone(),
            };
            if !seen.insert(key.clone()) {
                d.error(
                    item.span,
                    &format!("{path}.condition.{key}"),
                    format!("two conditions named `{key}` in this tranche"),
                    "each metric or event appears once per tranche",
                );
                continue;
            }
            conditions.push(c);
        }
    }
    if conditions.len() == items.len() && !conditions.is_empty() {
        let total: f64 = conditions.iter().map(|c| c.weight).sum();
        if (total - 1.0).abs() > 1e-9 {
            d.error(
                f.span_of("condition"),
                &format!("{path}.condition.*.weight"),
                format!("condition weights sum to {}, not 1", show(total)),
                "make the weights in this tranche add up to 1",
            );
        }
        let any_metric = conditions
            .iter()
            .any(|c| matches!(c.kind, ConditionKind::Metric { .. }));
        if any_metric && window.is_none() && !f.has("window") {
            f.missing("window", "metric conditions need the months measured: window = { from = \"2015-01\", to = \"2015-03\" }", d);
        }
    }
    if d.error_count() > before {
        return None;
    }
    Some(Tranche {
        id: id?,
        label,
        share: share?,
        window,
        gate,
        conditions,
    })
}

fn read_window(
    node: &Node,
    path: &str,
    ctx: &Context,
    d: &mut Collector,
) -> Option<(usize, usize)> {
    let f = Fields::new(node, path, &["from", "to"], d)?;
    let from = f
        .req_string("from", "first month measured, e.g. from = \"2015-01\"", d)
        .and_then(|t| parse_month(&t, f.span_of("from"), &f.key_path("from"), d));
    let to = f
        .req_string("to", "last month measured, e.g. to = \"2015-03\"", d)
        .and_then(|t| parse_month(&t, f.span_of("to"), &f.key_path("to"), d));
    let (from, to) = (from?, to?);
    let last = ctx.start + ctx.months as i64 - 1;
    let horizon = format!("{} to {}", format_month(ctx.start), format_month(last));
    let mut ok = true;
    for (key, m) in [("from", from), ("to", to)] {
        if m < ctx.start || m > last {
            d.error(
                f.span_of(key),
                &f.key_path(key),
                format!("{} is outside the horizon {horizon}", format_month(m)),
                "move the window inside the simulated months, or lengthen `scenario.months`",
            );
            ok = false;
        }
    }
    if ok && from > to {
        d.error(
            node.span,
            path,
            format!(
                "window starts ({}) after it ends ({})",
                format_month(from),
                format_month(to)
            ),
            "swap `from` and `to`",
        );
        ok = false;
    }
    ok.then(|| ((from - ctx.start) as usize, (to - ctx.start) as usize))
}

fn read_condition(
    node: &Node,
    tranche: &str,
    index: usize,
    single: bool,
    ctx: &Context,
    d: &mut Collector,
) -> Option<Condition> {
    let mut path = entry_path(node, &format!("{tranche}.condition"), "metric", index);
    if path.ends_with(']') {
        path = entry_path(node, &format!("{tranche}.condition"), "event", index);
    }
    let f = Fields::new(node, &path, CONDITION_KEYS, d)?;
    let before = d.error_count();
    let weight = match f.number("weight", d) {
        Some(w) if (0.0..=1.0).contains(&w) => w,
        Some(w) => {
            d.error(
                f.span_of("weight"),
                &f.key_path("weight"),
                format!("weight {} is outside [0, 1]", show(w)),
                "weights within a tranche are fractions that sum to 1",
            );
            0.0
        }
        None if single && !f.has("weight") => 1.0,
        None => {
            if !f.has("weight") {
                f.missing(
                    "weight",
                    "with several conditions each needs a weight; weights sum to 1",
                    d,
                );
            }
            0.0
        }
    };
    let kind = match (f.has("metric"), f.has("event")) {
        (true, true) | (false, false) => {
            d.error(node.span, &path, "a condition names either a `metric` or an `event`", "e.g. metric = \"nea\" with a target and rule, or event = \"seven_day_services\" with a probability");
            None
        }
        (false, true) => {
            let id = f.string("event", d).filter(|id| {
                let ok = is_id(id);
                if !ok {
                    d.error(
                        f.span_of("event"),
                        &f.key_path("event"),
                        format!("`{id}` is not a valid id"),
                        "ids use lower-case letters, digits and _",
                    );
                }
                ok
            });
            for key in ["target", "floor", "bands", "rate"] {
                if f.has(key) {
                    d.error(
                        f.span_of(key),
                        &f.key_path(key),
                        format!("`{key}` does not apply to an event"),
                        "an event condition has label, probability and weight",
                    );
                }
            }
            if let Some(rule) = f.string("rule", d)
                && rule != "event"
            {
                d.error(
                    f.span_of("rule"),
                    &f.key_path("rule"),
                    format!("an event's rule is \"event\", not \"{rule}\""),
                    "remove `rule` or write rule = \"event\"",
                );
            }
            let probability = if f.has("probability") {
                probability(&f, "probability", d)
            } else {
                f.missing(
                    "probability",
                    "the chance the event happens, e.g. probability = 0.9",
                    d,
                );
                None
            };
            let label = f
                .string("label", d)
                .unwrap_or_else(|| id.clone().unwrap_or_default());
            match (id, probability) {
                (Some(id), Some(p)) => Some(ConditionKind::Event {
                    probability: Param {
                        path: format!("{tranche}.condition.{id}.probability"),
                        dist: p,
                    },
                    id,
                    label,
                }),
                _ => None,
            }
        }
        (true, false) => read_metric_condition(&f, tranche, ctx, d),
    };
    if d.error_count() > before {
        return None;
    }
    Some(Condition {
        kind: kind?,
        weight,
    })
}

fn read_metric_condition(
    f: &Fields,
    tranche: &str,
    ctx: &Context,
    d: &mut Collector,
) -> Option<ConditionKind> {
    let metric_id = f.string("metric", d)?;
    // A metric that exists but failed its own checks: keep checking this condition (its
    // own mistakes are worth reporting) without repeating that the metric is unknown.
    let metric = match ctx.metric(&metric_id) {
        Some(m) => Some(m),
        None if ctx.invalid_metrics.contains(&metric_id) => None,
        None => {
            let known: Vec<&str> = ctx.metrics.iter().map(|m| m.0.as_str()).collect();
            d.error(
                f.span_of("metric"),
                &f.key_path("metric"),
                format!("condition on unknown metric `{metric_id}`"),
                super::fields::known_metrics_hint(&known),
            );
            return None;
        }
    };
    if f.has("probability") {
        d.error(
            f.span_of("probability"),
            &f.key_path("probability"),
            "`probability` applies to events only",
            "a metric condition is met by the simulated activity; remove it",
        );
    }
    let rule_name = f.req_string("rule", &format!("one of: {}", RULES[..4].join(", ")), d)?;
    let rule = match rule_name.as_str() {
        "all_or_nothing" => Some(Rule::AllOrNothing),
        "proportional" => {
            let floor = f.number("floor", d).unwrap_or(0.0);
            if (0.0..1.0).contains(&floor) {
                Some(Rule::Proportional { floor })
            } else {
                d.error(
                    f.span_of("floor"),
                    &f.key_path("floor"),
                    format!("floor {} must be in [0, 1)", show(floor)),
                    "achievement below the floor pays nothing; 0 gives pro rata",
                );
                None
            }
        }
        "banded" => read_bands(f, d).map(|bands| Rule::Banded { bands }),
        "per_unit" => {
            if f.has("rate") {
                f.decimal("rate", false, d)
                    .map(|rate| Rule::PerUnit { rate })
            } else {
                f.missing("rate", "£ per unit of improvement, e.g. rate = \"1490\"", d);
                None
            }
        }
        "event" => {
            d.error(
                f.span_of("rule"),
                &f.key_path("rule"),
                "rule \"event\" needs `event`, not `metric`",
                "use event = \"...\" with a probability",
            );
            None
        }
        other => {
            let hint = match crate::diagnostic::closest(other, RULES) {
                Some(near) => format!("did you mean \"{near}\"? Rules: {}", RULES.join(", ")),
                None => format!("rules: {}", RULES.join(", ")),
            };
            d.error(
                f.span_of("rule"),
                &f.key_path("rule"),
                format!("unknown rule \"{other}\""),
                hint,
            );
            None
        }
    };
    let rule = rule?;
    for (key, applies) in [
        ("floor", "proportional"),
        ("bands", "banded"),
        ("rate", "per_unit"),
    ] {
        if f.has(key) && rule.name() != applies {
            d.error(
                f.span_of(key),
                &f.key_path(key),
                format!("`{key}` applies to rule \"{applies}\" only"),
                format!("remove it, or use rule = \"{applies}\""),
            );
        }
    }
    let target = if f.has("target") {
        let dist = f.uncertain("target", d)?;
        let (span, key) = (f.span_of("target"), f.key_path("target"));
        if !check_target(&dist, metric.map(|m| &ctx.metrics[m]), span, &key, d) {
            return None;
        }
        Some(Param {
            path: format!("{tranche}.condition.{metric_id}.target"),
            dist,
        })
    } else if matches!(rule, Rule::PerUnit { .. }) {
        None
    } else {
        f.missing(
            "target",
            "count: relative reduction (0.035 = 3.5%); proportion: improvement in points",
            d,
        );
        return None;
    };
    let _ = Dist::Fixed(0.0);
    Some(ConditionKind::Metric {
        metric: metric?,
        target,
        rule,
    })
}

/// Checks a target against what its metric can reach (MODEL.md section 5), reporting
/// and returning false when it must be refused. Every rule reads `target` the same way
/// (it defines "met", and the achievement ratio r = a / target), so the limits do not
/// depend on the rule: a target must be above 0 (r divides by it); a count target is a
/// relative reduction, met when N <= B (1 - target), so above 1 it asks activity to fall
/// below 0; a proportion target is points added to the baseline, met when
/// obs >= baseline + target, so baseline + target above 1 cannot be observed. At exactly
/// 1 (all activity gone, everyone at home) a target can still be met and is accepted. A
/// distribution is checked over its support: every target distribution that passes the
/// "above 0" check is bounded (untruncated normal, lognormal and gamma reach 0 or below).
/// `metric` is None when the condition's metric is unknown or invalid (already reported):
/// only the sign is checked then.
fn check_target(
    dist: &Dist,
    metric: Option<&(String, MetricKind, f64)>,
    span: Span,
    key: &str,
    d: &mut Collector,
) -> bool {
    let (lo, hi) = dist.support();
    let up_to = if dist.is_fixed() { "" } else { "up to " };
    let is = if dist.is_fixed() {
        format!("is {}", show(lo))
    } else {
        format!("can be {} to {}", show(lo), show(hi))
    };
    let hint = "a target is a fraction: write 4% as 0.04 (count: relative reduction against the baseline; proportion: improvement in points, 0.82 to 0.85 is 0.03)";
    if lo.is_nan() || lo <= 0.0 {
        d.error(
            span,
            key,
            format!("a target must be above 0 (achievement is measured as a share of it), but this target {is}"),
            hint,
        );
        return false;
    }
    match metric {
        Some((id, MetricKind::Count, _)) if hi > 1.0 => {
            d.error(
                span,
                key,
                format!(
                    "this target {is}: a reduction of {up_to}{}% against `{id}`'s baseline, which can never be met (activity cannot fall below 0)",
                    show(hi * 100.0)
                ),
                hint,
            );
            false
        }
        Some((id, MetricKind::Proportion, baseline)) if baseline + hi > 1.0 + 1e-12 => {
            d.error(
                span,
                key,
                format!(
                    "this target {is}: `{id}`'s baseline {} + {} = {} is above 1, so it can never be met (a proportion is at most 1)",
                    show(*baseline),
                    show(hi),
                    show(baseline + hi)
                ),
                hint,
            );
            false
        }
        _ => true,
    }
}

fn read_bands(f: &Fields, d: &mut Collector) -> Option<Vec<(f64, f64)>> {
    let hint = "bands = [[0.7, 1.0]] pays in full from 70% of the target; list [ratio, fraction] pairs with ascending ratios";
    let Some(node) = f.node("bands") else {
        f.missing("bands", hint, d);
        return None;
    };
    let path = f.key_path("bands");
    let Value::Array(items) = &node.value else {
        d.error(
            node.span,
            &path,
            "bands must be an array of [ratio, fraction] pairs",
            hint,
        );
        return None;
    };
    if items.is_empty() {
        d.error(node.span, &path, "bands is empty", hint);
        return None;
    }
    let mut bands = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let p = format!("{path}[{i}]");
        let pair = match &item.value {
            Value::Array(v) if v.len() == 2 => (number(&v[0], &p, d)?, number(&v[1], &p, d)?),
            _ => {
                d.error(
                    item.span,
                    &p,
                    "each band is a pair [achievement ratio, fraction paid]",
                    hint,
                );
                return None;
            }
        };
        if !(0.0..=1.0).contains(&pair.1) || pair.0 < 0.0 {
            d.error(
                item.span,
                &p,
                format!("band {:?}: ratio must be >= 0 and fraction in [0, 1]", pair),
                hint,
            );
            return None;
        }
        if let Some(&(prev, _)) = bands.last()
            && pair.0 <= prev
        {
            d.error(
                item.span,
                &p,
                "band ratios must be strictly ascending",
                hint,
            );
            return None;
        }
        bands.push(pair);
    }
    Some(bands)
}
