//! Release of money in one trial (MODEL.md section 5): a condition's result and a
//! tranche's paid pence from the trial's observed windows and drawn values.
//!
//! This is the one place rules are applied: `Model::simulate` calls it for every
//! tranche, and `itfsim thresholds` calls it again with one condition's target moved
//! (`target_override`), so a release curve equals what `run --set ...target=X` gives,
//! trial by trial. Pure functions of their inputs; no allocation.
use super::compile::{CondModel, Model, TrancheModel};
use super::trial::Trial;
use crate::rules::{self, RuleView};
use crate::scenario::{Gate, MetricKind};

/// The parts of a trial the release rules read (after windows are observed).
pub struct RuleInputs<'a> {
    pub values: &'a [f64],
    pub occurs: &'a [bool],
    pub window_achieved: &'a [f64],
    pub window_observed: &'a [f64],
}

impl Trial {
    /// The trial's rule inputs, for re-evaluating conditions after `simulate`.
    pub fn rule_inputs(&self) -> RuleInputs<'_> {
        RuleInputs {
            values: &self.values,
            occurs: &self.occurs,
            window_achieved: &self.window_achieved,
            window_observed: &self.window_observed,
        }
    }
}

/// One condition's result in one trial.
#[derive(Clone, Copy, Debug)]
pub struct ConditionOutcome {
    pub met: bool,
    /// Fraction of the condition's weight paid (per_unit: money / cap).
    pub fraction: f64,
    /// per_unit conditions: their money in (real) pence.
    pub per_unit_money: Option<f64>,
    /// Achieved improvement `a` (NaN for events).
    pub achieved: f64,
}

impl ConditionOutcome {
    /// An event condition's result: met or not, all of its weight or none.
    #[inline(always)]
    pub fn event(met: bool) -> ConditionOutcome {
        ConditionOutcome {
            met,
            fraction: f64::from(u8::from(met)),
            per_unit_money: None,
            achieved: f64::NAN,
        }
    }
}

/// A tranche's result in one trial.
#[derive(Clone, Copy, Debug)]
pub struct TrancheOutcome {
    /// Paid pence, rounded half-even and clipped to [0, amount].
    pub paid: i64,
    pub all_met: bool,
}

impl Model {
    /// One condition's result given the trial's window results; `target_override`
    /// replaces the condition's target (thresholds moves one target this way). Inlined
    /// into `tranche_outcome`, where a run's `None` override folds away.
    #[inline(always)]
    pub fn condition_outcome(
        &self,
        condition: &CondModel,
        weight: f64,
        amount: f64,
        inputs: &RuleInputs,
        target_override: Option<f64>,
    ) -> ConditionOutcome {
        match condition {
            CondModel::Event { outcome } => ConditionOutcome::event(inputs.occurs[*outcome]),
            CondModel::Metric {
                window,
                target,
                rule,
                rate_pence,
            } => {
                let a = inputs.window_achieved[*window];
                let observed = inputs.window_observed[*window];
                let target = target_override.or_else(|| target.map(|p| inputs.values[p]));
                let wm = &self.windows[*window];
                let (kind, parts, rule) = (wm.kind, (wm.baseline, wm.people), rule.view());
                metric_outcome(
                    kind,
                    parts,
                    rule,
                    *rate_pence,
                    weight * amount,
                    a,
                    observed,
                    target,
                )
            }
        }
    }

    /// Tranche `tranche`'s paid pence from the trial's window results (MODEL.md section
    /// 5). Its conditions are numbered from `first_condition` in the flattened list;
    /// `target_override = Some((flat index, target))` moves one condition's target.
    /// `each(flat index, outcome, condition paid pence)` sees every condition (before the
    /// `gate = "all"` zeroing). `run` and `thresholds` both release money through here.
    #[inline(always)]
    pub fn tranche_outcome(
        &self,
        tranche: usize,
        first_condition: usize,
        inputs: &RuleInputs,
        target_override: Option<(usize, f64)>,
        mut each: impl FnMut(usize, &ConditionOutcome, i64),
    ) -> TrancheOutcome {
        let tranche = &self.tranches[tranche];
        let amount = tranche.amount as f64;
        let mut weighted = 0.0;
        let mut per_unit = 0.0;
        let mut all_met = true;
        let each_condition = tranche.conditions.iter().zip(&tranche.met_pence);
        for (k, ((cond, weight), &met_pence)) in each_condition.enumerate() {
            let c = first_condition + k;
            let target = target_override.and_then(|(i, x)| (i == c).then_some(x));
            let o = self.condition_outcome(cond, *weight, amount, inputs, target);
            all_met &= o.met;
            let event = matches!(cond, CondModel::Event { .. });
            let sums = (&mut weighted, &mut per_unit);
            let paid = condition_paid(event, &o, *weight, amount, met_pence, sums);
            each(c, &o, paid);
        }
        let paid = tranche_paid(tranche, all_met, weighted, per_unit);
        TrancheOutcome { paid, all_met }
    }
}

/// A metric condition's result (its window's metric kind `kind`, baseline and people
/// `wm`, rule `rule`, `rate_pence`, and `cap` = weight x tranche amount) from its
/// window's achieved improvement `a` and observed value `observed`, and its target if it
/// has one: the arithmetic of `Model::condition_outcome` for a metric, which the block's
/// rules call lane by lane with the kind and rule fixed.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(super) fn metric_outcome(
    kind: MetricKind,
    (baseline, people): (f64, u64),
    rule: RuleView,
    rate_pence: f64,
    cap: f64,
    a: f64,
    observed: f64,
    target: Option<f64>,
) -> ConditionOutcome {
    let met_target = target.map(|target| match kind {
        MetricKind::Count => rules::count_met(observed, baseline, target),
        MetricKind::Proportion => rules::proportion_met(observed, baseline, target),
    });
    match rule {
        RuleView::PerUnit => {
            let units = match kind {
                MetricKind::Count => baseline - observed,
                MetricKind::Proportion => (observed - baseline) * people as f64,
            };
            let money = rules::per_unit_money(rate_pence, units, cap);
            let met = met_target.unwrap_or_else(|| rules::per_unit_cap_reached(money, cap));
            ConditionOutcome {
                met,
                fraction: if cap > 0.0 { money / cap } else { 0.0 },
                per_unit_money: Some(money),
                achieved: a,
            }
        }
        _ => {
            let target = target.unwrap_or(f64::NAN);
            let met = met_target.unwrap_or(false);
            ConditionOutcome {
                met,
                fraction: rules::fraction_of(rule, met, a / target),
                per_unit_money: None,
                achieved: a,
            }
        }
    }
}

/// What condition outcome `o` (of an event condition if `event`; of weight `weight` in a
/// tranche of `amount` pence, paying `met_pence` at fraction 1) pays in whole pence, its
/// per-unit money or its weighted fraction added to the tranche's sums `(weighted,
/// per_unit)`: the step `Model::tranche_outcome` and the block's rules share.
#[inline(always)]
pub(super) fn condition_paid(
    event: bool,
    o: &ConditionOutcome,
    weight: f64,
    amount: f64,
    met_pence: i64,
    (weighted, per_unit): (&mut f64, &mut f64),
) -> i64 {
    match o.per_unit_money {
        Some(m) => {
            *per_unit += m;
            condition_pence(m)
        }
        None => {
            *weighted += weight * o.fraction;
            if event {
                // A fraction of 1 or 0: `condition_pence` of `amount x weight`, worked
                // out once (`met_pence`), or of a zero.
                if o.met { met_pence } else { 0 }
            } else {
                condition_pence(amount * weight * o.fraction)
            }
        }
    }
}

/// What `tranche` pays from its conditions' sums: all or nothing by `all_met` for
/// `Gate::All`, else `rules::tranche_paid` of the weighted fraction and per-unit money.
#[inline(always)]
pub(super) fn tranche_paid(
    tranche: &TrancheModel,
    all_met: bool,
    weighted: f64,
    per_unit: f64,
) -> i64 {
    match tranche.gate {
        Gate::All => {
            if all_met {
                tranche.amount
            } else {
                0
            }
        }
        Gate::Weighted => rules::tranche_paid(tranche.amount, weighted, per_unit),
    }
}

/// What a condition of weight `weight` in a tranche of `amount` pence pays at fraction 1:
/// `condition_pence(amount x weight x 1)` (a fraction of 0 pays 0, `amount x weight x 0`
/// being a zero or NaN).
pub(super) fn met_pence(amount: i64, weight: f64) -> i64 {
    condition_pence(amount as f64 * weight * 1.0)
}

/// A condition's money in whole pence (half-even). It is at most its tranche's amount
/// (the rules cap it), which is exact in f64, so no range check is needed; a NaN from a
/// degenerate rule input pays nothing.
#[inline]
pub(super) fn condition_pence(x: f64) -> i64 {
    if x.is_nan() {
        0
    } else {
        crate::money::round_ties_even_i64(x)
    }
}
