//! Reports people would rather look at than read: the self-contained HTML report
//! (`html`, `svg`, `run_sections`), the Excel workbook (`xlsx`) and the per-trial CSV
//! (`samples`), plus what a run collects for them beyond its summaries (`collect`).
//!
//! Writers are pure: they take finished `Results` (and `RunExtras`) and return bytes; the
//! command reserves the output files before the run and commits the bytes after it
//! (`atomic`). The one exception is the samples CSV, which is streamed to its reserved
//! temporary file in trial order while the run goes on and renamed into place at the end.
pub mod collect;
pub mod compare_report;
pub mod html;
pub mod parts;
pub mod run_sections;
pub mod samples;
pub mod sensitivity_report;
pub mod svg;
pub mod sweep_report;
pub mod thresholds_report;
pub mod xlsx;

use crate::dist::Dist;
use crate::model::Model;
use crate::scenario::{ConditionKind, format_month};
use collect::{PaidHistogram, RunChunk, RunCollector};

/// Monthly observed activity of one count metric, summarised over trials.
#[derive(Clone, Debug)]
pub struct MonthlyMetric {
    pub id: String,
    pub label: String,
    /// Calendar label of each month, "YYYY-MM".
    pub months: Vec<String>,
    /// The historic baseline per month (baseline / 12 x seasonal factor).
    pub baseline: Vec<f64>,
    /// Mean over trials of the expected activity `lambda[m]` (demand after schemes).
    pub expected: Vec<f64>,
    pub mean: Vec<f64>,
    pub p10: Vec<f64>,
    pub p50: Vec<f64>,
    pub p90: Vec<f64>,
    /// Per condition with a fixed target: (tranche id, first month, last month, target);
    /// the monthly level that just meets it is `baseline[m] x (1 - target)`.
    pub targets: Vec<(String, usize, usize, f64)>,
}

/// What a run collected beyond its `Results`.
#[derive(Clone, Debug)]
pub struct RunExtras {
    pub histogram: PaidHistogram,
    /// Empty unless monthly output was asked for.
    pub monthly: Vec<MonthlyMetric>,
}

impl RunExtras {
    pub fn new(model: &Model, collector: &RunCollector, totals: &RunChunk) -> RunExtras {
        let scenario = &model.scenario;
        let mut monthly = Vec::new();
        if let Some(mm) = &collector.monthly {
            for (j, &m) in mm.metrics.iter().enumerate() {
                let metric = &model.metrics[m];
                let dists = &totals.monthly[j];
                let n = totals.histogram.n.max(1) as f64;
                let mut targets = Vec::new();
                for t in &scenario.tranches {
                    for c in &t.conditions {
                        let ConditionKind::Metric {
                            metric: k,
                            target: Some(target),
                            ..
                        } = &c.kind
                        else {
                            continue;
                        };
                        if let (true, Dist::Fixed(v), Some((from, to))) =
                            (*k == m, &target.dist, t.window)
                        {
                            targets.push((t.id.clone(), from, to, *v));
                        }
                    }
                }
                monthly.push(MonthlyMetric {
                    id: metric.id.clone(),
                    label: scenario.metrics[m].label.clone(),
                    months: (0..model.months)
                        .map(|i| format_month(scenario.start + i as i64))
                        .collect(),
                    baseline: metric.month_base.clone(),
                    expected: totals.monthly_expected[j].iter().map(|s| s / n).collect(),
                    mean: dists.iter().map(|d| d.mean()).collect(),
                    p10: dists.iter().map(|d| d.quantile(0.1)).collect(),
                    p50: dists.iter().map(|d| d.quantile(0.5)).collect(),
                    p90: dists.iter().map(|d| d.quantile(0.9)).collect(),
                    targets,
                });
            }
        }
        RunExtras {
            histogram: totals.histogram.clone(),
            monthly,
        }
    }
}

/// The monthly sections of `run --monthly`'s text output: the facts of `monthly_json`,
/// one table per count metric with a row per month (baseline, expected, observed mean,
/// median and the 80% band). Each section starts with a blank line (`text::render_with`).
pub fn monthly_text(monthly: &[MonthlyMetric]) -> String {
    use crate::output::text::{number, table};
    if monthly.is_empty() {
        return "\nMonthly activity: none (the scenario has no count metrics; proportion metrics get no monthly draws)\n".into();
    }
    // Quantiles are observed counts: whole numbers, shown without decimals.
    let count = |x: f64| {
        if x.fract() == 0.0 {
            format!("{x:.0}")
        } else {
            number(x)
        }
    };
    let mut o = String::new();
    for m in monthly {
        if m.label.is_empty() {
            o.push_str(&format!("\nMonthly activity: {}\n", m.id));
        } else {
            o.push_str(&format!("\nMonthly activity: {} ({})\n", m.id, m.label));
        }
        let rows: Vec<Vec<String>> = (0..m.months.len())
            .map(|i| {
                vec![
                    m.months[i].clone(),
                    number(m.baseline[i]),
                    number(m.expected[i]),
                    number(m.mean[i]),
                    count(m.p50[i]),
                    format!("{} to {}", count(m.p10[i]), count(m.p90[i])),
                ]
            })
            .collect();
        o.push_str(&table(
            &[
                "month",
                "baseline",
                "expected",
                "observed mean",
                "median",
                "observed p10 to p90",
            ],
            &rows,
        ));
    }
    o
}

/// The `monthly` key added to `run --format json` with `--monthly`:
/// `[{"metric", "months": [{"month", "baseline", "expected", "mean", "p10", "p50", "p90"}]}]`.
pub fn monthly_json(monthly: &[MonthlyMetric]) -> serde_json::Value {
    let number = |x: f64| {
        serde_json::Number::from_f64(x)
            .map(serde_json::Value::Number)
            .unwrap_or(serde_json::Value::Null)
    };
    serde_json::Value::Array(
        monthly
            .iter()
            .map(|m| {
                let months: Vec<serde_json::Value> = (0..m.months.len())
                    .map(|i| {
                        serde_json::json!({
                            "month": m.months[i],
                            "baseline": number(m.baseline[i]),
                            "expected": number(m.expected[i]),
                            "mean": number(m.mean[i]),
                            "p10": number(m.p10[i]),
                            "p50": number(m.p50[i]),
                            "p90": number(m.p90[i]),
                        })
                    })
                    .collect();
                serde_json::json!({"metric": m.id, "months": months})
            })
            .collect(),
    )
}
