//! `trace`: one trial replayed step by step, for an auditor to follow a number from the
//! draws to the pounds.
//!
//! The replay calls the very `Model::simulate` that the engine calls, on the same model
//! (same seed, same sampling plan), so every figure is the one `run` used for that trial:
//! the trace adds no computation of its own beyond formatting. JSON and text are both
//! rendered from the same `Trial`.
use crate::model::{CondModel, Model, Trial};
use crate::money::{Pence, format_gbp, format_pence};
use crate::scenario::{ConditionKind, MetricKind};
use serde_json::{Value, json};

/// Runs trial `index` and returns its filled scratch.
pub fn replay(model: &Model, index: u64) -> Trial {
    let mut trial = Trial::new(model);
    model.simulate(index, &mut trial);
    trial
}

fn number(x: f64) -> Value {
    serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)
}

/// "tranche.<id>.condition.<metric or event id>" for each flattened condition.
fn condition_names(model: &Model) -> Vec<(String, String)> {
    let mut names = Vec::new();
    for t in &model.scenario.tranches {
        for c in &t.conditions {
            let (id, rule) = match &c.kind {
                ConditionKind::Metric { metric, rule, .. } => {
                    (model.scenario.metrics[*metric].id.clone(), rule.name())
                }
                ConditionKind::Event { id, .. } => (id.clone(), "event"),
            };
            names.push((format!("{}.{}", t.id, id), rule.to_string()));
        }
    }
    names
}

/// The trace as JSON: every sampled value by path, windows, conditions, tranches, money.
pub fn to_json(model: &Model, t: &Trial) -> Value {
    let params: Vec<Value> = model
        .params
        .iter()
        .enumerate()
        .map(|(i, p)| {
            json!({
                "path": p.path,
                "value": number(t.values[i]),
                "fixed": p.fixed.is_some(),
                "uniforms": t.uniforms[p.offset..p.offset + p.uniforms]
                    .iter().map(|u| number(*u)).collect::<Vec<_>>(),
            })
        })
        .collect();
    let outcomes: Vec<Value> = model
        .outcomes
        .iter()
        .enumerate()
        .map(|(o, out)| {
            json!({
                "path": out.path,
                "probability": number(t.values[out.probability]),
                "uniform": number(t.outcome_uniforms[o]),
                "occurs": t.occurs[o],
            })
        })
        .collect();
    let windows: Vec<Value> = model
        .windows
        .iter()
        .enumerate()
        .map(|(w, win)| {
            json!({
                "metric": model.metrics[win.metric].id,
                "tranche": model.scenario.tranches[win.tranche].id,
                "months": [win.from, win.to],
                "baseline": number(win.baseline),
                "expected": number(t.window_expected[w]),
                "observed": number(t.window_observed[w]),
                "achieved": number(t.window_achieved[w]),
            })
        })
        .collect();
    let names = condition_names(model);
    let mut c = 0;
    let mut tranches = Vec::new();
    for (ti, tranche) in model.tranches.iter().enumerate() {
        let mut conditions = Vec::new();
        for _ in &tranche.conditions {
            conditions.push(json!({
                "condition": names[c].0,
                "rule": names[c].1,
                "met": t.condition_met[c],
                "achieved": number(t.condition_achieved[c]),
                "fraction": number(t.condition_fraction[c]),
                "paid": format_pence(t.condition_paid[c]),
            }));
            c += 1;
        }
        tranches.push(json!({
            "id": model.scenario.tranches[ti].id,
            "amount": format_pence(tranche.amount),
            "paid": format_pence(t.tranche_paid[ti]),
            "conditions": conditions,
        }));
    }
    let schemes: Vec<Value> = model
        .schemes
        .iter()
        .enumerate()
        .map(|(i, s)| {
            json!({
                "id": s.id,
                "delivered": t.occurs[s.delivery],
                "invest": format_pence(t.scheme_invest[i]),
                "savings": format_pence(t.scheme_savings[i]),
                "roi": number(t.scheme_roi[i]),
            })
        })
        .collect();
    let partners: Vec<Value> = model
        .scenario
        .partners
        .iter()
        .enumerate()
        .map(|(p, partner)| {
            json!({
                "id": partner.id,
                "invest": format_pence(t.partner_invest[p]),
                "savings": format_pence(t.partner_savings[p]),
                "performance": format_pence(t.partner_performance[p]),
                "risks": format_pence(t.partner_risks[p]),
                "net": format_pence(t.partner_net[p]),
            })
        })
        .collect();
    json!({
        "itfsim": env!("CARGO_PKG_VERSION"),
        "scenario": model.scenario.name,
        "trial": t.index,
        "seed": model.seed,
        "sampling": model.sampler.name(),
        "parameters": params,
        "outcomes": outcomes,
        "windows": windows,
        "tranches": tranches,
        "total": {
            "pot": format_pence(model.pot),
            "paid": format_pence(t.total_paid),
            "unreleased": format_pence(model.pot - t.total_paid),
        },
        "schemes": schemes,
        "partners": partners,
    })
}

fn gbp(p: Pence) -> String {
    format_gbp(p)
}

/// The trace as readable text, from the same figures as `to_json`.
pub fn to_text(model: &Model, t: &Trial) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Trace of trial {} of {} (seed {}, {} sampling)\n",
        t.index,
        model.scenario.name,
        model.seed,
        model.sampler.name()
    );
    let _ = writeln!(s, "Sampled values (path = value  [uniforms])");
    for (i, p) in model.params.iter().enumerate() {
        if p.fixed.is_some() {
            continue;
        }
        let us: Vec<String> = t.uniforms[p.offset..p.offset + p.uniforms]
            .iter()
            .map(|u| format!("{u:.6}"))
            .collect();
        let _ = writeln!(s, "  {} = {:.6}  [{}]", p.path, t.values[i], us.join(", "));
    }
    let _ = writeln!(s, "\nYes/no outcomes (occurs when u >= 1 - p)");
    for (o, out) in model.outcomes.iter().enumerate() {
        let _ = writeln!(
            s,
            "  {}: p = {:.4}, u = {:.6} -> {}",
            out.path,
            t.values[out.probability],
            t.outcome_uniforms[o],
            if t.occurs[o] { "yes" } else { "no" }
        );
    }
    let _ = writeln!(s, "\nWindows");
    for (w, win) in model.windows.iter().enumerate() {
        let metric = &model.metrics[win.metric];
        let (expected, observed) = match metric.kind {
            MetricKind::Count => (
                format!("{:.2}", t.window_expected[w]),
                format!("{}", t.window_observed[w]),
            ),
            MetricKind::Proportion => (
                format!("{:.4}", t.window_expected[w]),
                format!("{:.4}", t.window_observed[w]),
            ),
        };
        let _ = writeln!(
            s,
            "  {} @ {} (months {}..{}): baseline {:.2}, expected {}, observed {}, achieved {:.4}",
            metric.id,
            model.scenario.tranches[win.tranche].id,
            win.from,
            win.to,
            win.baseline,
            expected,
            observed,
            t.window_achieved[w]
        );
    }
    let _ = writeln!(s, "\nTranches and conditions");
    let names = condition_names(model);
    let mut c = 0;
    for (ti, tranche) in model.tranches.iter().enumerate() {
        let _ = writeln!(
            s,
            "  {}: amount {}, paid {}",
            model.scenario.tranches[ti].id,
            gbp(tranche.amount),
            gbp(t.tranche_paid[ti])
        );
        for (cond, weight) in &tranche.conditions {
            let achieved = match cond {
                CondModel::Metric { .. } => format!(", achieved {:.4}", t.condition_achieved[c]),
                CondModel::Event { .. } => String::new(),
            };
            let _ = writeln!(
                s,
                "    {} ({}, weight {}): met {}{}, fraction {:.4}, paid {}",
                names[c].0,
                names[c].1,
                weight,
                if t.condition_met[c] { "yes" } else { "no" },
                achieved,
                t.condition_fraction[c],
                gbp(t.condition_paid[c])
            );
            c += 1;
        }
    }
    let _ = writeln!(
        s,
        "\nTotal paid {} of {} (unreleased {})",
        gbp(t.total_paid),
        gbp(model.pot),
        gbp(model.pot - t.total_paid)
    );
    let _ = writeln!(s, "\nSchemes");
    for (i, scheme) in model.schemes.iter().enumerate() {
        let _ = writeln!(
            s,
            "  {}: delivered {}, spend {}, savings {}, ROI {:.4}",
            scheme.id,
            if t.occurs[scheme.delivery] {
                "yes"
            } else {
                "no"
            },
            gbp(t.scheme_invest[i]),
            gbp(t.scheme_savings[i]),
            t.scheme_roi[i]
        );
    }
    let _ = writeln!(s, "\nPartners");
    for (p, partner) in model.scenario.partners.iter().enumerate() {
        let _ = writeln!(
            s,
            "  {}: invest {}, savings {}, performance {}, risks {}, net {}",
            partner.id,
            gbp(t.partner_invest[p]),
            gbp(t.partner_savings[p]),
            gbp(t.partner_performance[p]),
            gbp(t.partner_risks[p]),
            gbp(t.partner_net[p])
        );
    }
    s
}
