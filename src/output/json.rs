//! The JSON contract of MODEL.md section 9: money as strings with exactly two decimals,
//! probabilities and counts as numbers, a distribution-valued target as null.
use super::results::*;
use crate::money::format_pence;
use crate::scenario::MetricKind;
use serde_json::{Value, json};

fn number(x: f64) -> Value {
    serde_json::Number::from_f64(x)
        .map(Value::Number)
        .unwrap_or(Value::Null)
}

/// The whole document.
pub fn render(r: &Results) -> Value {
    let trials_per_s = if r.run.elapsed_s > 0.0 {
        r.run.trials as f64 / r.run.elapsed_s
    } else {
        0.0
    };
    json!({
        "itfsim": r.version,
        // `area` and `sets` are additive to MODEL.md section 9 (`area` null when the
        // scenario gives none; `sets` the `--set` overrides, empty when none).
        "scenario": {"name": r.name, "area": r.area, "file": r.file, "sha256": r.sha256, "sets": r.sets},
        "run": {
            "trials": r.run.trials,
            "seed": r.run.seed,
            "sampling": r.run.sampling,
            "threads": r.run.threads,
            "elapsed_s": number((r.run.elapsed_s * 1e6).round() / 1e6),
            "trials_per_s": number(trials_per_s.round()),
        },
        "fund": {"pot": format_pence(r.pot)},
        "total": {
            "paid": r.paid.to_json(),
            "unreleased": r.unreleased.to_json(),
            "p_full": r.p_full,
            "p_zero": r.p_zero,
        },
        "tranches": r.tranches.iter().map(tranche).collect::<Vec<_>>(),
        "metrics": r.metrics.iter().map(metric).collect::<Vec<_>>(),
        "schemes": r.schemes.iter().map(scheme).collect::<Vec<_>>(),
        "partners": r.partners.iter().map(|p| json!({
            "id": p.id,
            "invest": p.invest.to_json(),
            "savings": p.savings.to_json(),
            "performance": p.performance.to_json(),
            "risks": p.risks.to_json(),
            "net": p.net.to_json(),
        })).collect::<Vec<_>>(),
        "warnings": r.warnings,
    })
}

fn tranche(t: &TrancheResult) -> Value {
    json!({
        "id": t.id,
        "amount": format_pence(t.amount),
        "paid": t.paid.to_json(),
        "p_full": t.p_full,
        "p_zero": t.p_zero,
        "conditions": t.conditions.iter().map(|c| {
            let mut o = serde_json::Map::new();
            o.insert(c.kind.to_string(), json!(c.id));
            o.insert("rule".into(), json!(c.rule));
            o.insert("target".into(), c.target.fixed().map(number).unwrap_or(Value::Null));
            o.insert("weight".into(), number(c.weight));
            o.insert("p_met".into(), number(c.p_met));
            o.insert("achieved".into(), c.achieved.as_ref().map(|a| a.to_json()).unwrap_or(Value::Null));
            o.insert("paid".into(), c.paid.to_json());
            Value::Object(o)
        }).collect::<Vec<_>>(),
    })
}

fn metric(m: &MetricResult) -> Value {
    json!({
        "id": m.id,
        "kind": match m.kind { MetricKind::Count => "count", MetricKind::Proportion => "proportion" },
        "windows": m.windows.iter().map(|w| json!({
            "tranche": w.tranche,
            "baseline": number(w.baseline),
            "expected": w.expected.to_json(),
            "observed": w.observed.to_json(),
            "achieved": w.achieved.to_json(),
        })).collect::<Vec<_>>(),
    })
}

fn scheme(s: &SchemeResult) -> Value {
    let avoided: serde_json::Map<String, Value> = s
        .avoided
        .iter()
        .map(|(m, a)| (m.clone(), a.to_json()))
        .collect();
    json!({
        "id": s.id,
        "cost": format_pence(s.cost),
        "cost_stated": format_pence(s.cost_stated),
        // Additive to MODEL.md section 9: the spend whose mean text, HTML and the
        // workbook show as expected spend (per trial the cost x overrun x scale, x
        // cost_if_undelivered when the scheme is not delivered; MODEL.md section 6).
        "spend": s.invest.to_json(),
        "avoided": avoided,
        "savings": s.savings.to_json(),
        "roi": s.roi.to_json(),
        "p_roi_above_1": s.p_roi_above_1,
    })
}

/// Pretty-printed bytes with a trailing newline.
pub fn to_bytes(r: &Results) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(&render(r)).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}
