//! `[[risk]]` (the financial risk and opportunity register) and `[[correlation]]` (rank
//! correlations between uncertain values, checked to form a valid correlation matrix).
use super::fields::{Fields, entry_path, is_id};
use super::read::{Context, array_of_tables};
use super::read_metric::probability;
use super::tree::Value;
use super::types::*;
use crate::diagnostic::{Collector, Diagnostic, Severity};
use std::collections::HashSet;

pub fn read_risks(top: &Fields, ctx: &Context, d: &mut Collector) -> Vec<Risk> {
    let mut risks = Vec::new();
    let mut seen = HashSet::new();
    for (i, node) in array_of_tables(top, "risk", d).iter().enumerate() {
        let path = entry_path(node, "risk", "id", i);
        let Some(f) = Fields::new(
            node,
            &path,
            &["id", "label", "partner", "probability", "impact"],
            d,
        ) else {
            continue;
        };
        let before = d.error_count();
        let id = match f.string("id", d) {
            Some(id) if is_id(&id) && !id.chars().all(|c| c.is_ascii_digit()) => id,
            Some(id) => {
                d.error(f.span_of("id"), &f.key_path("id"), format!("`{id}` is not a valid risk id"), "use lower-case letters, digits and _, not all digits (paths use risk.<index> for unnamed risks)");
                continue;
            }
            None => i.to_string(),
        };
        if !seen.insert(id.clone()) {
            d.error(
                node.span,
                &path,
                format!("duplicate risk id `{id}`"),
                "give every risk its own id",
            );
            continue;
        }
        let label = f.string("label", d).unwrap_or_else(|| id.clone());
        let partner = match f.req_string(
            "partner",
            "the partner who bears it, e.g. partner = \"nhs\"",
            d,
        ) {
            Some(p) => match ctx.partner(&p) {
                Some(i) => Some(i),
                None => {
                    d.error(
                        f.span_of("partner"),
                        &f.key_path("partner"),
                        format!("unknown partner `{p}`"),
                        super::fields::partners_hint(&ctx.partners, "one of: "),
                    );
                    None
                }
            },
            None => None,
        };
        let probability = if f.has("probability") {
            probability(&f, "probability", d)
        } else {
            f.missing(
                "probability",
                "chance the risk occurs, e.g. probability = 0.47",
                d,
            );
            None
        };
        let impact = if f.has("impact") {
            f.uncertain("impact", d)
        } else {
            f.missing(
                "impact",
                "£ cost if it occurs (negative = a gain), e.g. impact = 1270000",
                d,
            );
            None
        };
        if d.error_count() > before {
            continue;
        }
        if let (Some(partner), Some(p), Some(impact)) = (partner, probability, impact) {
            let base = format!("risk.{id}");
            risks.push(Risk {
                probability: Param {
                    path: format!("{base}.probability"),
                    dist: p,
                },
                impact: Param {
                    path: format!("{base}.impact"),
                    dist: impact,
                },
                id,
                label,
                partner,
            });
        }
    }
    risks
}

/// Every uncertain value of a scenario with whether it is a probability (whose yes/no
/// outcome a correlation can drive when the probability itself is fixed).
pub fn all_params(s: &Scenario) -> Vec<(&Param, bool)> {
    let mut out = Vec::new();
    for m in &s.metrics {
        out.extend([(&m.level, false), (&m.growth, false), (&m.unit_cost, false)]);
    }
    for sc in &s.schemes {
        out.extend([
            (&sc.delivery, true),
            (&sc.cost_overrun, false),
            (&sc.scale, false),
            (&sc.returns, false),
        ]);
        out.extend(sc.effects.iter().map(|e| (&e.change, false)));
    }
    for t in &s.tranches {
        for c in &t.conditions {
            match &c.kind {
                ConditionKind::Metric {
                    target: Some(p), ..
                } => out.push((p, false)),
                ConditionKind::Metric { .. } => {}
                ConditionKind::Event { probability, .. } => out.push((probability, true)),
            }
        }
    }
    for r in &s.risks {
        out.extend([(&r.probability, true), (&r.impact, false)]);
    }
    out
}

pub fn read_correlations(
    top: &Fields,
    s: &Scenario,
    d: &mut Collector,
    warnings: &mut Vec<Diagnostic>,
) -> Vec<Correlation> {
    let params = all_params(s);
    // Entries with errors are missing from `s`; naming their paths as unknown would be noise.
    let earlier_errors = d.has_errors();
    let mut out = Vec::new();
    let mut pairs = HashSet::new();
    for (i, node) in array_of_tables(top, "correlation", d).iter().enumerate() {
        let path = format!("correlation.{i}");
        let Some(f) = Fields::new(node, &path, &["between", "rank"], d) else {
            continue;
        };
        let rank = f.req_number(
            "rank",
            "Spearman rank correlation in (-1, 1), e.g. rank = 0.5",
            d,
        );
        if let Some(r) = rank
            && !(r > -1.0 && r < 1.0)
        {
            d.error(
                f.span_of("rank"),
                &f.key_path("rank"),
                format!("rank {r} must lie strictly between -1 and 1"),
                "e.g. rank = 0.5",
            );
        }
        let between = match f.node("between") {
            Some(n) => match &n.value {
                Value::Array(items) if items.len() == 2 => {
                    let mut names = Vec::new();
                    for (j, item) in items.iter().enumerate() {
                        let Value::String(p) = &item.value else {
                            d.error(
                                item.span,
                                &format!("{path}.between[{j}]"),
                                "expected a parameter path string",
                                "e.g. \"scheme.reablement.effect.nea\"",
                            );
                            continue;
                        };
                        match params.iter().find(|(q, _)| q.path == *p) {
                            None if earlier_errors => {}
                            None => {
                                let known: Vec<&str> = params
                                    .iter()
                                    .filter(|(q, prob)| !q.dist.is_fixed() || *prob)
                                    .map(|(q, _)| q.path.as_str())
                                    .collect();
                                let near = crate::diagnostic::closest(p, &known);
                                let hint = match near {
                                    Some(n) => format!("did you mean \"{n}\"?"),
                                    None => format!(
                                        "uncertain values here include: {}",
                                        known
                                            .iter()
                                            .take(8)
                                            .cloned()
                                            .collect::<Vec<_>>()
                                            .join(", ")
                                    ),
                                };
                                d.error(
                                    item.span,
                                    &format!("{path}.between[{j}]"),
                                    format!("no uncertain value has the path \"{p}\""),
                                    hint,
                                );
                            }
                            Some((q, is_probability)) => {
                                if q.dist.is_fixed() && !is_probability {
                                    warnings.push(Diagnostic {
                                        severity: Severity::Warning,
                                        location: d.sources.locate(item.span),
                                        key: format!("{path}.between[{j}]"),
                                        message: format!("\"{p}\" is a fixed value, so this correlation has no effect"),
                                        hint: "make it a distribution, or remove the correlation".into(),
                                    });
                                }
                                names.push(p.clone());
                            }
                        }
                    }
                    if names.len() == 2 && names[0] == names[1] {
                        d.error(
                            n.span,
                            &format!("{path}.between"),
                            "a value cannot be correlated with itself",
                            "name two different paths",
                        );
                        None
                    } else {
                        (names.len() == 2).then(|| [names[0].clone(), names[1].clone()])
                    }
                }
                _ => {
                    d.error(
                        n.span,
                        &format!("{path}.between"),
                        "`between` lists exactly two parameter paths",
                        "e.g. between = [\"scheme.a.effect.nea\", \"scheme.b.effect.nea\"]",
                    );
                    None
                }
            },
            None => {
                f.missing("between", "two parameter paths, e.g. between = [\"scheme.a.effect.nea\", \"scheme.b.effect.nea\"]", d);
                None
            }
        };
        if let (Some(between), Some(rank)) = (between, rank) {
            let mut key = between.clone();
            key.sort();
            if !pairs.insert(key) {
                d.error(
                    node.span,
                    &path,
                    format!(
                        "the pair {} / {} is correlated twice",
                        between[0], between[1]
                    ),
                    "list each pair once",
                );
                continue;
            }
            out.push(Correlation { between, rank });
        }
    }
    if !out.is_empty()
        && !d.has_errors()
        && let Err(message) = crate::correlation::check_positive_definite(&out)
    {
        let span = top.span_of("correlation");
        d.error(span, "correlation", message, "the correlations contradict each other (e.g. a~b and b~c strongly positive but a~c strongly negative); weaken some of them");
    }
    out
}
