//! Finished summaries of a run, in the shape of the JSON contract, shared by every
//! renderer so text and JSON can never disagree.
use crate::engine::Accumulator;
use crate::model::{CondModel, Model};
use crate::money::Pence;
use crate::scenario::{ConditionKind, Loaded, MetricKind};
use crate::stats::{MoneySummary, RealSummary};

#[derive(Clone, Debug)]
pub struct RunInfo {
    pub trials: u64,
    pub seed: u64,
    pub sampling: String,
    pub threads: usize,
    pub elapsed_s: f64,
}

/// A condition's target as the scenario gives it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Target {
    Fixed(f64),
    /// A distribution: no one number to show (JSON null).
    Uncertain,
    /// None: an event, or a `per_unit` condition given no target.
    Absent,
}

impl Target {
    /// The number, when the target is one.
    pub fn fixed(self) -> Option<f64> {
        match self {
            Target::Fixed(x) => Some(x),
            _ => None,
        }
    }

    /// A table cell: the number as `fixed` writes it, "uncertain", or `absent`.
    pub fn cell(self, fixed: impl Fn(f64) -> String, absent: &str) -> String {
        match self {
            Target::Fixed(x) => fixed(x),
            Target::Uncertain => "uncertain".into(),
            Target::Absent => absent.into(),
        }
    }
}

#[derive(Clone, Debug)]
pub struct ConditionResult {
    /// "metric" or "event", and its id.
    pub kind: &'static str,
    pub id: String,
    pub rule: String,
    pub target: Target,
    pub weight: f64,
    pub p_met: f64,
    pub achieved: Option<RealSummary>,
    pub paid: MoneySummary,
}

#[derive(Clone, Debug)]
pub struct TrancheResult {
    pub id: String,
    pub label: String,
    pub amount: Pence,
    pub window: Option<(String, String)>,
    pub paid: MoneySummary,
    pub p_full: f64,
    pub p_zero: f64,
    pub conditions: Vec<ConditionResult>,
}

#[derive(Clone, Debug)]
pub struct WindowResult {
    pub tranche: String,
    pub baseline: f64,
    pub expected: RealSummary,
    pub observed: RealSummary,
    pub achieved: RealSummary,
}

#[derive(Clone, Debug)]
pub struct MetricResult {
    pub id: String,
    pub label: String,
    pub kind: MetricKind,
    pub windows: Vec<WindowResult>,
}

#[derive(Clone, Debug)]
pub struct SchemeResult {
    pub id: String,
    pub label: String,
    pub cost: Pence,
    pub cost_stated: Pence,
    pub invest: MoneySummary,
    pub avoided: Vec<(String, RealSummary)>,
    pub savings: MoneySummary,
    pub roi: RealSummary,
    pub p_roi_above_1: f64,
}

#[derive(Clone, Debug)]
pub struct PartnerResult {
    pub id: String,
    pub label: String,
    pub invest: MoneySummary,
    pub savings: MoneySummary,
    pub performance: MoneySummary,
    pub risks: MoneySummary,
    pub net: MoneySummary,
}

#[derive(Clone, Debug)]
pub struct Results {
    pub version: String,
    pub name: String,
    /// The scenario's `area` (JSON null when it gives none): rollup tells areas apart by it.
    pub area: Option<String>,
    pub file: String,
    pub sha256: String,
    /// The `--set` overrides the run applied to the file, as `PATH=VALUE`.
    pub sets: Vec<String>,
    pub run: RunInfo,
    pub pot: Pence,
    pub paid: MoneySummary,
    pub unreleased: MoneySummary,
    pub p_full: f64,
    pub p_zero: f64,
    pub tranches: Vec<TrancheResult>,
    pub metrics: Vec<MetricResult>,
    pub schemes: Vec<SchemeResult>,
    pub partners: Vec<PartnerResult>,
    pub warnings: Vec<String>,
}

fn pence(x: rust_decimal::Decimal) -> Pence {
    crate::money::pounds_to_pence(x).unwrap_or(0)
}

impl Results {
    pub fn new(
        loaded: &Loaded,
        model: &Model,
        acc: &Accumulator,
        run: RunInfo,
        extra_warnings: Vec<String>,
    ) -> Results {
        let s = &loaded.scenario;
        let mut tranches = Vec::new();
        let mut c = 0;
        for (ti, (tranche, tm)) in s.tranches.iter().zip(&model.tranches).enumerate() {
            let mut conditions = Vec::new();
            for (cond, (cm, _)) in tranche.conditions.iter().zip(&tm.conditions) {
                let (kind, id, rule, target) = match &cond.kind {
                    ConditionKind::Metric {
                        metric,
                        target,
                        rule,
                    } => (
                        "metric",
                        s.metrics[*metric].id.clone(),
                        rule.name().to_string(),
                        match target.as_ref().map(|p| &p.dist) {
                            Some(crate::dist::Dist::Fixed(v)) => Target::Fixed(*v),
                            Some(_) => Target::Uncertain,
                            None => Target::Absent,
                        },
                    ),
                    ConditionKind::Event { id, .. } => {
                        ("event", id.clone(), "event".to_string(), Target::Absent)
                    }
                };
                conditions.push(ConditionResult {
                    kind,
                    id,
                    rule,
                    target,
                    weight: cond.weight,
                    p_met: acc.condition_met[c].value(),
                    // A metric condition's achieved value is its window's, trial by
                    // trial, so its summary is the window's.
                    achieved: match cm {
                        CondModel::Metric { window, .. } => {
                            Some(acc.window_achieved[*window].finish())
                        }
                        CondModel::Event { .. } => None,
                    },
                    paid: acc.condition_paid[c].finish(),
                });
                c += 1;
            }
            tranches.push(TrancheResult {
                id: tranche.id.clone(),
                label: tranche.label.clone(),
                amount: tm.amount,
                window: tranche.window.map(|(a, b)| {
                    (
                        crate::scenario::format_month(s.start + a as i64),
                        crate::scenario::format_month(s.start + b as i64),
                    )
                }),
                paid: acc.tranche_paid[ti].finish(),
                p_full: acc.tranche_full[ti].value(),
                p_zero: acc.tranche_zero[ti].value(),
                conditions,
            });
        }
        let metrics = s
            .metrics
            .iter()
            .enumerate()
            .map(|(k, m)| MetricResult {
                id: m.id.clone(),
                label: m.label.clone(),
                kind: m.kind,
                windows: model
                    .windows
                    .iter()
                    .enumerate()
                    .filter(|(_, w)| w.metric == k)
                    .map(|(wi, w)| WindowResult {
                        tranche: s.tranches[w.tranche].id.clone(),
                        baseline: w.baseline,
                        expected: acc.window_expected[wi].finish(),
                        observed: acc.window_observed[wi].finish(),
                        achieved: acc.window_achieved[wi].finish(),
                    })
                    .collect(),
            })
            .collect();
        let schemes = s
            .schemes
            .iter()
            .enumerate()
            .map(|(i, sc)| SchemeResult {
                id: sc.id.clone(),
                label: sc.label.clone(),
                cost: pence(sc.cost()),
                cost_stated: pence(sc.cost_stated()),
                invest: acc.scheme_invest[i].finish(),
                avoided: acc.scheme_avoided[i]
                    .iter()
                    .map(|(m, st)| (s.metrics[*m].id.clone(), st.finish()))
                    .collect(),
                savings: acc.scheme_savings[i].finish(),
                roi: acc.scheme_roi[i].finish(),
                p_roi_above_1: acc.scheme_roi_above_1[i].value(),
            })
            .collect();
        let partners = s
            .partners
            .iter()
            .enumerate()
            .map(|(p, partner)| PartnerResult {
                id: partner.id.clone(),
                label: partner.label.clone(),
                invest: acc.partner_invest[p].finish(),
                savings: acc.partner_savings[p].finish(),
                performance: acc.partner_performance[p].finish(),
                risks: acc.partner_risks[p].finish(),
                net: acc.partner_net[p].finish(),
            })
            .collect();
        let mut warnings: Vec<String> = s.warnings.iter().map(|w| w.one_line()).collect();
        warnings.extend(extra_warnings);
        if acc.trials < 2 {
            // sd divides by n - 1: with one trial there is no spread to estimate, and the
            // 0 the summaries show for sd and mcse is not a precision.
            warnings.push(format!(
                "only {} trial: the spread (sd) and the Monte Carlo error (mcse) cannot be estimated, so they show as 0; run at least 2 trials",
                acc.trials
            ));
        }
        Results {
            version: env!("CARGO_PKG_VERSION").to_string(),
            name: s.name.clone(),
            area: s.area.clone(),
            file: loaded.file.clone(),
            sha256: loaded.sha256.clone(),
            sets: loaded.sets.clone(),
            run,
            pot: model.pot,
            paid: acc.total_paid.finish(),
            unreleased: acc.total_unreleased.finish(),
            p_full: acc.total_full.value(),
            p_zero: acc.total_zero.value(),
            tranches,
            metrics,
            schemes,
            partners,
            warnings,
        }
    }
}
