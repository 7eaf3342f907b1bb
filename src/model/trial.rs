//! The per-trial function: draws, demand, effects, observations, rules, money.
//!
//! `Trial` is scratch space allocated once per worker and overwritten by every call of
//! `Model::simulate`; after the call its public fields hold the trial's results, which
//! the engine folds into summaries. Nothing here allocates or does I/O.
use super::compile::*;
use super::release::RuleInputs;
use crate::dist::{binomial_quantile, poisson_quantile};
use crate::rng::stream;
use crate::scenario::{Gate, MetricKind};

/// Results (and scratch) of one trial.
#[derive(Clone, Debug)]
pub struct Trial {
    pub index: u64,
    /// The parameters' uniforms (after the sampler and the copula), by uniform offset:
    /// filled by [`Model::simulate`] (and so `trace`), and by `Model::simulate_block`
    /// only for a sampler that adjusts uniforms. With a plain sampler the block keeps
    /// them in its lanes' columns instead, and this holds whatever it held before.
    pub uniforms: Vec<f64>,
    /// Value of every parameter (fixed ones included), by parameter index. `Trial::new`
    /// sets the fixed ones' and [`Model::simulate`] writes every value;
    /// `Model::simulate_block` writes only the drawn or held ones that the rules and
    /// outcomes read (its lanes' columns hold every value), leaving the others as they
    /// were.
    pub values: Vec<f64>,
    pub outcome_uniforms: Vec<f64>,
    pub occurs: Vec<bool>,
    /// Per metric per segment: expected activity (count) or mean proportion (proportion).
    pub segment_expected: Vec<Vec<f64>>,
    /// Per metric per segment: observed count or people at home.
    pub segment_observed: Vec<Vec<f64>>,
    /// Per window. `Model::simulate_block` leaves these as they were (its results are in
    /// the lanes' columns, `Lanes::window`, where its rules read them).
    pub window_expected: Vec<f64>,
    pub window_observed: Vec<f64>,
    pub window_achieved: Vec<f64>,
    /// Per condition (flattened over tranches). `Model::simulate_block` leaves these four
    /// as they were (its outcomes are in the lanes' columns, `Lanes::condition`).
    pub condition_met: Vec<bool>,
    pub condition_achieved: Vec<f64>,
    pub condition_fraction: Vec<f64>,
    pub condition_paid: Vec<i64>,
    pub tranche_paid: Vec<i64>,
    pub total_paid: i64,
    /// Per metric: avoided activity over the horizon (expected, no noise).
    pub metric_avoided: Vec<f64>,
    /// Per scheme: invested pence, attributed avoided activity per metric, savings, ROI.
    /// `Model::simulate_block` leaves these as they were (its values are in the lanes'
    /// columns, `Lanes::attributed` and `Lanes::scheme`).
    pub scheme_invest: Vec<i64>,
    pub scheme_avoided: Vec<Vec<f64>>,
    pub scheme_savings: Vec<i64>,
    pub scheme_roi: Vec<f64>,
    /// Per partner, pence. `Model::simulate_block` leaves these as they were (its values
    /// are in the lanes' columns, `Lanes::partner`).
    pub partner_invest: Vec<i64>,
    pub partner_savings: Vec<i64>,
    pub partner_performance: Vec<i64>,
    pub partner_risks: Vec<i64>,
    pub partner_net: Vec<i64>,
    /// Set when a money amount of this trial left the exact range (the run must fail).
    pub overflow: Option<Overflow>,
    /// Per scheme effective change at full ramp (change x scale^returns capped at 1), by metric.
    pub(super) effect_scratch: Vec<f64>,
    split_scratch: Vec<i64>,
    /// Each scheme's savings and each metric's in real pence (`Model::money`).
    savings_scratch: Vec<f64>,
    metric_savings_scratch: Vec<f64>,
    attribution_scratch: Vec<f64>,
    /// Avoided activity attributed to each effect of the current metric, summed over blocks.
    attribution_sum: Vec<f64>,
    /// -ln(1 - e) of each effect of the current metric at full ramp: the attribution
    /// weight of every block in which that effect's ramp is 1.
    full_weight: Vec<f64>,
    /// -ln(1 - e) of each effect of the current metric in the current ramp state.
    weight_scratch: Vec<f64>,
    /// The copula's uniforms and normal scores (`correlate`).
    copula_u: Vec<f64>,
    copula_z: Vec<f64>,
}

/// Largest whole-pence amount a trial may hold: 2^53 pence (about £90 trillion), the last
/// range in which f64 holds every whole penny exactly. Beyond it the run fails with
/// `Overflow` instead of saturating or wrapping.
pub const MAX_TRIAL_PENCE: i64 = 1 << 53;

/// Which money amount of a trial left the exact range (or was not a finite number).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Overflow {
    /// A scheme's spend (cost x overrun x scale), by scheme index.
    SchemeInvest(usize),
    /// A scheme's savings (attributed avoided activity x unit cost), by scheme index.
    SchemeSavings(usize),
    /// A metric's savings to its payer (avoided activity x unit cost), by metric index.
    MetricSavings(usize),
    /// A risk's impact, by risk index.
    RiskImpact(usize),
    /// A partner's total (invest, savings, risks or net), by partner index.
    PartnerTotal(usize),
}

/// Converts real pence to whole pence half-even; records `what` in `flag` (and gives 0)
/// when `x` is not finite or beyond `MAX_TRIAL_PENCE` (NaN and the infinities fail
/// `|x| <= MAX_TRIAL_PENCE`). The usual amount, below 2^51, is rounded with one test.
#[inline(always)]
pub(super) fn whole_pence(x: f64, what: Overflow, flag: &mut Option<Overflow>) -> i64 {
    let magnitude = x.abs();
    if magnitude < crate::money::TWO_51 {
        crate::money::round_ties_even_i64_below_2_51(x)
    } else if magnitude <= MAX_TRIAL_PENCE as f64 {
        crate::money::round_ties_even_i64(x)
    } else {
        flag.get_or_insert(what);
        0
    }
}

/// Partner `p`'s net from its savings, spend, performance money and risks: each is
/// within 2^53, so the i128 sum is exact; it must fit the range too (0 and `flag` set if
/// not).
#[inline(always)]
pub(super) fn partner_net(
    p: usize,
    (savings, invest, performance, risks): (i64, i64, i64, i64),
    flag: &mut Option<Overflow>,
) -> i64 {
    let sum =
        i128::from(savings) - i128::from(invest) + i128::from(performance) - i128::from(risks);
    if sum.abs() <= i128::from(MAX_TRIAL_PENCE) {
        sum as i64
    } else {
        flag.get_or_insert(Overflow::PartnerTotal(p));
        0
    }
}

/// The partners' sums one scheme's spend is added to: partner `p`'s at
/// `sums[p * stride + at]` (a trial's own, stride 1; or a lane of the block's columns).
pub(super) struct PartnerSums<'a> {
    pub(super) sums: &'a mut [i64],
    pub(super) stride: usize,
    pub(super) at: usize,
}

/// Adds whole pence, recording `what` when the sum leaves the exact range.
#[inline(always)]
pub(super) fn add_pence(sum: &mut i64, x: i64, what: Overflow, flag: &mut Option<Overflow>) {
    match sum.checked_add(x) {
        Some(total) if total.abs() <= MAX_TRIAL_PENCE => *sum = total,
        _ => {
            flag.get_or_insert(what);
        }
    }
}

impl Trial {
    pub fn new(model: &Model) -> Trial {
        let schemes = model.schemes.len();
        let partners = model.partners;
        let metrics = model.metrics.len();
        let copula_len = model.copula.as_ref().map(|c| c.0.len()).unwrap_or(0);
        Trial {
            index: 0,
            uniforms: vec![0.5; model.uniforms],
            // A fixed parameter's value from the start (`Model::simulate_block` leaves it).
            values: model
                .params
                .iter()
                .map(|p| p.fixed.unwrap_or(0.0))
                .collect(),
            outcome_uniforms: vec![0.5; model.outcomes.len()],
            occurs: vec![false; model.outcomes.len()],
            segment_expected: model
                .metrics
                .iter()
                .map(|m| vec![0.0; m.segments.len()])
                .collect(),
            segment_observed: model
                .metrics
                .iter()
                .map(|m| vec![0.0; m.segments.len()])
                .collect(),
            window_expected: vec![0.0; model.windows.len()],
            window_observed: vec![0.0; model.windows.len()],
            window_achieved: vec![0.0; model.windows.len()],
            condition_met: vec![false; model.conditions],
            condition_achieved: vec![f64::NAN; model.conditions],
            condition_fraction: vec![0.0; model.conditions],
            condition_paid: vec![0; model.conditions],
            tranche_paid: vec![0; model.tranches.len()],
            total_paid: 0,
            metric_avoided: vec![0.0; metrics],
            scheme_invest: vec![0; schemes],
            scheme_avoided: vec![vec![0.0; metrics]; schemes],
            scheme_savings: vec![0; schemes],
            scheme_roi: vec![0.0; schemes],
            partner_invest: vec![0; partners],
            partner_savings: vec![0; partners],
            partner_performance: vec![0; partners],
            partner_risks: vec![0; partners],
            partner_net: vec![0; partners],
            overflow: None,
            effect_scratch: vec![0.0; schemes],
            split_scratch: vec![0; partners],
            savings_scratch: vec![0.0; schemes],
            metric_savings_scratch: vec![0.0; metrics],
            attribution_scratch: vec![0.0; schemes],
            attribution_sum: vec![0.0; schemes],
            full_weight: vec![0.0; schemes],
            weight_scratch: vec![0.0; schemes],
            copula_u: vec![0.5; copula_len],
            copula_z: vec![0.0; copula_len],
        }
    }
}

impl Model {
    /// Runs trial `index`, leaving its results in `t`.
    pub fn simulate(&self, index: u64, t: &mut Trial) {
        t.index = index;
        self.draw_parameters(index, t);
        for m in 0..self.metrics.len() {
            self.metric_activity(m, t);
            self.observe(m, index, t);
        }
        self.windows_and_rules(t);
        self.money(t);
    }

    pub(super) fn draw_parameters(&self, index: u64, t: &mut Trial) {
        self.draw_uniforms(index, t);
        for (i, p) in self.params.iter().enumerate() {
            t.values[i] = match p.fixed {
                Some(v) => v,
                None => p
                    .quantile
                    .value(&t.uniforms[p.offset..p.offset + p.uniforms]),
            };
        }
        self.draw_outcomes(t);
    }

    /// Trial `index`'s uniforms for every parameter and outcome, through the sampler and
    /// the copula: what the parameters' values are drawn from.
    pub(super) fn draw_uniforms(&self, index: u64, t: &mut Trial) {
        self.draw_own_uniforms(index, t);
        self.correlate_trial(t);
    }

    /// `draw_uniforms` before the copula: each stream's uniforms, through the sampler.
    pub(super) fn draw_own_uniforms(&self, index: u64, t: &mut Trial) {
        for &(key, offset) in &self.streams {
            t.uniforms[offset] = stream(key, index).uniform();
        }
        for (key, range) in &self.multi_streams {
            let mut s = stream(*key, index);
            for u in &mut t.uniforms[range.clone()] {
                *u = s.uniform();
            }
        }
        for (u, outcome) in t.outcome_uniforms.iter_mut().zip(&self.outcomes) {
            *u = stream(outcome.key, index).uniform();
        }
        if !self.sampler.is_plain() {
            self.sampler
                .adjust_uniforms(self, index, &mut t.uniforms, &mut t.outcome_uniforms);
        }
    }

    /// `correlate` of trial `t`'s uniforms, in place.
    pub(super) fn correlate_trial(&self, t: &mut Trial) {
        self.correlate(
            t.index,
            &mut t.uniforms,
            &mut t.outcome_uniforms,
            &mut t.copula_u,
            &mut t.copula_z,
        );
    }

    /// Where copula dimension `slot` takes its uniform from and puts it back: a
    /// parameter's first uniform, a fresh draw of its stream (a parameter with no
    /// uniforms of its own, where nothing is put back), or an outcome's uniform.
    pub(super) fn place(&self, slot: Slot) -> Place {
        match slot {
            Slot::Param(p) if self.params[p].uniforms > 0 => Place::Uniform(self.params[p].offset),
            Slot::Param(p) => Place::Fresh(self.params[p].key),
            Slot::Outcome(o) => Place::Outcome(o),
        }
    }

    /// The uniform the copula dimension at `place` starts from in trial `index`.
    #[inline(always)]
    pub(super) fn slot_uniform(
        place: Place,
        index: u64,
        uniforms: &[f64],
        outcomes: &[f64],
    ) -> f64 {
        match place {
            Place::Uniform(at) => uniforms[at],
            Place::Fresh(key) => stream(key, index).uniform(),
            Place::Outcome(o) => outcomes[o],
        }
    }

    /// Puts the correlated uniform `u` where `slot_uniform` took its uniform from.
    #[inline(always)]
    pub(super) fn set_slot_uniform(
        place: Place,
        u: f64,
        uniforms: &mut [f64],
        outcomes: &mut [f64],
    ) {
        match place {
            Place::Uniform(at) => uniforms[at] = u,
            Place::Fresh(_) => {}
            Place::Outcome(o) => outcomes[o] = u,
        }
    }

    /// After the parameters' values: the sampler's held values, and whether each
    /// outcome occurs.
    #[inline(always)]
    pub(super) fn draw_outcomes(&self, t: &mut Trial) {
        self.sampler.hold_values(&mut t.values);
        let each = t.occurs.iter_mut().zip(&t.outcome_uniforms);
        for ((occurs, &u), outcome) in each.zip(&self.outcomes) {
            *occurs = u >= 1.0 - t.values[outcome.probability];
        }
        self.sampler.hold_outcomes(&mut t.occurs);
    }

    /// Passes trial `index`'s correlated uniforms (parameters' first uniforms in
    /// `uniforms`, outcomes' in `outcomes`) through the Gaussian copula, in place; nothing
    /// without correlations. `copula_u` and `copula_z` are scratch of the copula's size.
    /// Public so the variate-floor benchmark draws exactly what a trial draws.
    pub fn correlate(
        &self,
        index: u64,
        uniforms: &mut [f64],
        outcomes: &mut [f64],
        copula_u: &mut [f64],
        copula_z: &mut [f64],
    ) {
        let Some((copula, slots)) = &self.copula else {
            return;
        };
        for (i, &slot) in slots.iter().enumerate() {
            copula_u[i] = Model::slot_uniform(self.place(slot), index, uniforms, outcomes);
        }
        self.sampler.apply_copula(copula, copula_u, copula_z);
        for (i, &slot) in slots.iter().enumerate() {
            Model::set_slot_uniform(self.place(slot), copula_u[i], uniforms, outcomes);
        }
    }

    /// Effective change of each scheme on metric `m` at full ramp, into effect_scratch
    /// (indexed by the metric's effect list).
    pub(super) fn full_effects(&self, m: usize, t: &mut Trial) {
        for (j, &(s, change)) in self.metrics[m].effects.iter().enumerate() {
            t.effect_scratch[j] = self.full_effect(s, change, t);
        }
    }

    /// Scheme `s`'s effect (parameter `change`) at full ramp in trial `t`:
    /// `change x scale^returns`, capped at 1 (and at -10 below), 0 when the scheme is not
    /// delivered. A scheme scaled to nothing (`scale <= 0`) has no effect whatever its
    /// returns: `0^0` is 1, and would otherwise keep a zero-cost scheme's whole effect.
    /// Returns below 0 are refused at load; the rare draw beyond is taken as 0.
    #[inline]
    pub(super) fn full_effect(&self, s: usize, change: usize, t: &Trial) -> f64 {
        let scheme = &self.schemes[s];
        let delivered = t.occurs[scheme.delivery];
        let values = &t.values;
        full_effect_of(
            delivered,
            values[scheme.scale],
            values[scheme.returns],
            values[change],
        )
    }

    /// Expected activity per segment and avoided activity (with attribution) for metric m.
    pub(super) fn metric_activity(&self, m: usize, t: &mut Trial) {
        let metric = &self.metrics[m];
        self.full_effects(m, t);
        let n_effects = metric.effects.len();
        for (s, _) in metric.effects.iter() {
            t.scheme_avoided[*s][m] = 0.0;
        }
        let level = t.values[metric.level].max(0.0);
        let mut avoided = 0.0;
        t.segment_expected[m].fill(0.0);
        // Within a ramp block the combined effect and the attribution weights are the same
        // every month, so they are worked out once per block (when some ramp changed) and
        // applied to the block's summed activity.
        match metric.kind {
            MetricKind::Count => {
                let (q, mut factor) = growth_steps(level, t.values[metric.growth]);
                let mut state = RampState {
                    keep: 1.0,
                    rule: Attribution::None,
                };
                let sums = &mut t.attribution_sum[..n_effects];
                sums.fill(0.0);
                let full = &t.effect_scratch[..n_effects];
                let full_weight = &mut t.full_weight[..n_effects];
                for (w, &f) in full_weight.iter_mut().zip(full) {
                    *w = neg_ln_1m_nonzero(f);
                }
                let full_weight = &*full_weight;
                let effect = &mut t.attribution_scratch[..n_effects];
                let weight = &mut t.weight_scratch[..n_effects];
                let expected = &mut t.segment_expected[m];
                for (b, block) in metric.blocks.iter().enumerate() {
                    let mut mu = 0.0;
                    for base in &metric.month_base[block.from..=block.to] {
                        mu += base * factor;
                        factor *= q;
                    }
                    if block.new_ramps {
                        let ramps = metric.ramps_of_block(b);
                        state = ramp_state(full, ramps, full_weight, effect, weight);
                    }
                    expected[block.segment] += mu * state.keep;
                    let reduction = mu * (1.0 - state.keep);
                    avoided += reduction;
                    if n_effects > 0 && reduction != 0.0 {
                        attribute_count(effect, weight, state.rule, reduction, sums);
                    }
                }
                for (&(s, _), &sum) in metric.effects.iter().zip(sums.iter()) {
                    t.scheme_avoided[s][m] += sum;
                }
            }
            MetricKind::Proportion => {
                let p0 = (metric.baseline * level).clamp(0.0, 1.0);
                let mut total = 0.0;
                for (b, block) in metric.blocks.iter().enumerate() {
                    let people = metric.block_people[b];
                    if block.new_ramps {
                        total = 0.0;
                        let ramps = metric.ramps_of_block(b);
                        for ((w, &f), &ramp) in t
                            .attribution_scratch
                            .iter_mut()
                            .zip(&t.effect_scratch)
                            .zip(ramps)
                        {
                            let e = f * ramp;
                            *w = e;
                            total += e;
                        }
                    }
                    let p = (p0 + total).clamp(0.0, 1.0);
                    // Summed success per segment; divided by its cohort below.
                    t.segment_expected[m][block.segment] += people * p;
                    let gained = people * (p - p0);
                    avoided += gained;
                    if total != 0.0 && gained != 0.0 {
                        for (j, &(s, _)) in metric.effects.iter().enumerate() {
                            t.scheme_avoided[s][m] += gained * t.attribution_scratch[j] / total;
                        }
                    }
                }
                for (expected, seg) in t.segment_expected[m].iter_mut().zip(&metric.segments) {
                    *expected = if seg.cohort_sum > 0.0 {
                        *expected / seg.cohort_sum
                    } else {
                        p0
                    };
                }
            }
        }
        t.metric_avoided[m] = avoided;
    }

    /// Draws each observed segment once.
    pub(super) fn observe(&self, m: usize, index: u64, t: &mut Trial) {
        let metric = &self.metrics[m];
        for (si, seg) in metric.segments.iter().enumerate() {
            if !seg.observed {
                t.segment_observed[m][si] = 0.0;
                continue;
            }
            let mut s = stream(seg.key, index);
            let expected = t.segment_expected[m][si];
            t.segment_observed[m][si] = match metric.kind {
                MetricKind::Count => {
                    let lambda = match &metric.gamma {
                        Some((k, gamma)) => gamma.value(s.uniform()) * expected / k,
                        None => expected,
                    };
                    poisson_quantile(lambda.max(0.0), s.uniform()) as f64
                }
                MetricKind::Proportion => {
                    binomial_quantile(seg.people, expected.clamp(0.0, 1.0), s.uniform()) as f64
                }
            };
        }
    }

    /// The windows' results, then the release rules (`rules`).
    #[inline(always)]
    pub(super) fn windows_and_rules(&self, t: &mut Trial) {
        self.windows(t);
        self.rules(t);
    }

    /// Each window's expected, observed and achieved result, from the trial's segments.
    #[inline(always)]
    pub(super) fn windows(&self, t: &mut Trial) {
        let outputs = t.window_expected.iter_mut().zip(&mut t.window_observed);
        for (window, ((expected_out, observed_out), achieved_out)) in
            self.windows.iter().zip(outputs.zip(&mut t.window_achieved))
        {
            let segments = window.segments.clone();
            let observed = sum(&t.segment_observed[window.metric][segments.clone()]);
            let expected = &t.segment_expected[window.metric][segments.clone()];
            match window.kind {
                MetricKind::Count => {
                    *expected_out = sum(expected);
                    *observed_out = observed;
                    *achieved_out = (window.baseline - observed) / window.baseline;
                }
                MetricKind::Proportion => {
                    let metric = &self.metrics[window.metric];
                    let expected: f64 = match (&metric.segments[segments], expected) {
                        // One segment: the sum of one term, as `Iterator::sum` gives it.
                        ([s], [p]) => std::iter::once(s.people as f64 * p).sum(),
                        (segments, expected) => (segments.iter().zip(expected))
                            .map(|(s, p)| s.people as f64 * p)
                            .sum(),
                    };
                    let people = window.people as f64;
                    *expected_out = expected / people;
                    *observed_out = observed / people;
                    *achieved_out = observed / people - window.baseline;
                }
            }
        }
    }

    /// Each condition's and tranche's result and the total paid, from the windows'
    /// results (`Model::tranche_outcome`).
    #[inline(always)]
    fn rules(&self, t: &mut Trial) {
        let mut c = 0;
        let mut total = 0i64;
        let inputs = RuleInputs {
            values: &t.values,
            occurs: &t.occurs,
            window_achieved: &t.window_achieved,
            window_observed: &t.window_observed,
        };
        for (ti, tranche) in self.tranches.iter().enumerate() {
            let first = c;
            let outcome = self.tranche_outcome(ti, first, &inputs, None, |ci, o, paid| {
                t.condition_met[ci] = o.met;
                t.condition_fraction[ci] = o.fraction;
                t.condition_achieved[ci] = o.achieved;
                t.condition_paid[ci] = paid;
            });
            c += tranche.conditions.len();
            if tranche.gate == Gate::All && !outcome.all_met {
                for p in &mut t.condition_paid[first..c] {
                    *p = 0;
                }
            }
            t.tranche_paid[ti] = outcome.paid;
            total += outcome.paid;
        }
        t.total_paid = total;
    }

    /// The trial's money: each scheme's spend and savings, and the partners' totals.
    #[inline(always)]
    pub(super) fn money(&self, t: &mut Trial) {
        // Each scheme's savings in real pence, summed metric by metric, and each metric's
        // avoided activity in real pence.
        let mut savings = std::mem::take(&mut t.savings_scratch);
        for (savings, avoided) in savings.iter_mut().zip(&t.scheme_avoided) {
            let mut sum = 0.0;
            for (&avoided, metric) in avoided.iter().zip(&self.metrics) {
                sum += avoided * t.values[metric.unit_cost] * 100.0;
            }
            *savings = sum;
        }
        let mut metric_savings = std::mem::take(&mut t.metric_savings_scratch);
        let each = self.metrics.iter().zip(&t.metric_avoided);
        for (savings, (metric, &avoided)) in metric_savings.iter_mut().zip(each) {
            *savings = avoided * t.values[metric.unit_cost] * 100.0;
        }
        self.money_with(t, savings.iter().copied(), metric_savings.iter().copied());
        t.savings_scratch = savings;
        t.metric_savings_scratch = metric_savings;
    }

    /// `money`, with each scheme's savings in real pence (before rounding) given in
    /// scheme order by `savings`, and each metric's avoided activity in real pence
    /// (`avoided x cost x 100`; read only for a metric with a payer) in metric order by
    /// `metric_savings` (`simulate_block` gives the sums it made across the block's
    /// lanes).
    #[inline(always)]
    pub(super) fn money_with(
        &self,
        t: &mut Trial,
        savings: impl Iterator<Item = f64>,
        metric_savings: impl Iterator<Item = f64>,
    ) {
        let mut flag = None;
        Model::start_money(t);
        for (i, savings) in (0..self.schemes.len()).zip(savings) {
            let (invest, savings, roi) = self.scheme_money(i, t, savings, &mut flag);
            t.scheme_invest[i] = invest;
            t.scheme_savings[i] = savings;
            t.scheme_roi[i] = roi;
        }
        self.partners_money(t, metric_savings, flag);
    }

    /// Before `scheme_money`: the partners' sums of spend, savings and risks at 0.
    #[inline(always)]
    pub(super) fn start_money(t: &mut Trial) {
        t.partner_invest.fill(0);
        t.partner_savings.fill(0);
        t.partner_risks.fill(0);
    }

    /// Scheme `i`'s spend, savings (`savings`, in real pence) and return, in that order
    /// (a trial's `scheme_invest[i]`, `scheme_savings[i]` and `scheme_roi[i]`), its spend
    /// added to its funders' sums; the first amount to leave the exact range recorded in
    /// `flag`. `money_with` applies it to each scheme in turn.
    #[inline(always)]
    pub(super) fn scheme_money(
        &self,
        i: usize,
        t: &mut Trial,
        savings: f64,
        flag: &mut Option<Overflow>,
    ) -> (i64, i64, f64) {
        let scheme = &self.schemes[i];
        let (overrun, scale) = (t.values[scheme.cost_overrun], t.values[scheme.scale]);
        let delivered = t.occurs[scheme.delivery];
        let sums = PartnerSums {
            sums: &mut t.partner_invest,
            stride: 1,
            at: 0,
        };
        let inputs = (delivered, overrun, scale, savings);
        self.scheme_money_into(i, inputs, sums, &mut t.split_scratch, flag)
    }

    /// `scheme_money` from the scheme's delivery, cost overrun, scale and savings (in
    /// real pence), its spend added to its funders' sums in `sums` (`parts` scratch for
    /// a split): the one definition of a scheme's money, which the block's lanes
    /// (`scheme_money_lanes`) share.
    #[inline(always)]
    pub(super) fn scheme_money_into(
        &self,
        i: usize,
        (delivered, overrun, scale, savings): (bool, f64, f64, f64),
        sums: PartnerSums,
        parts: &mut [i64],
        flag: &mut Option<Overflow>,
    ) -> (i64, i64, f64) {
        let scheme = &self.schemes[i];
        let mut multiplier = overrun.max(0.0) * scale.max(0.0);
        if !delivered {
            multiplier *= scheme.cost_if_undelivered;
        }
        let invest = if multiplier == 1.0 {
            if scheme.cost_pence.abs() > MAX_TRIAL_PENCE {
                flag.get_or_insert(Overflow::SchemeInvest(i));
            }
            scheme.cost_pence
        } else {
            whole_pence(
                scheme.cost_pence as f64 * multiplier,
                Overflow::SchemeInvest(i),
                flag,
            )
        };
        let PartnerSums { sums, stride, at } = sums;
        match scheme.funder.whole() {
            // The other partners' parts are 0: they add nothing and cannot leave the
            // range (a partner's sum only ever holds an amount within it).
            Some(p) => add_pence(
                &mut sums[p * stride + at],
                invest,
                Overflow::PartnerTotal(p),
                flag,
            ),
            None => {
                scheme.funder.split(invest, parts);
                for (p, &part) in parts.iter().enumerate() {
                    add_pence(
                        &mut sums[p * stride + at],
                        part,
                        Overflow::PartnerTotal(p),
                        flag,
                    );
                }
            }
        }
        let savings = whole_pence(savings, Overflow::SchemeSavings(i), flag);
        let roi = if invest == 0 {
            0.0
        } else {
            savings as f64 / invest as f64
        };
        (invest, savings, roi)
    }

    /// After `scheme_money` of every scheme: each metric's savings (`metric_savings`, in
    /// real pence, metric by metric) to its payer, the risks, the released and unreleased
    /// money, and the partners' net; `flag` (from the schemes) into `t.overflow`.
    #[inline(always)]
    pub(super) fn partners_money(
        &self,
        t: &mut Trial,
        metric_savings: impl Iterator<Item = f64>,
        mut flag: Option<Overflow>,
    ) {
        for (m, (metric, savings)) in self.metrics.iter().zip(metric_savings).enumerate() {
            if let Some(payer) = metric.payer {
                let x = whole_pence(savings, Overflow::MetricSavings(m), &mut flag);
                add_pence(
                    &mut t.partner_savings[payer],
                    x,
                    Overflow::PartnerTotal(payer),
                    &mut flag,
                );
            }
        }
        for (r, risk) in self.risks.iter().enumerate() {
            if t.occurs[risk.occurs] {
                let x = whole_pence(
                    t.values[risk.impact] * 100.0,
                    Overflow::RiskImpact(r),
                    &mut flag,
                );
                add_pence(
                    &mut t.partner_risks[risk.partner],
                    x,
                    Overflow::PartnerTotal(risk.partner),
                    &mut flag,
                );
            }
        }
        self.released
            .split(t.total_paid, &mut t.partner_performance);
        let unreleased = self.pot - t.total_paid;
        match self.unreleased.whole() {
            Some(p) => t.partner_performance[p] += unreleased,
            None => {
                self.unreleased.split(unreleased, &mut t.split_scratch);
                let parts = t.partner_performance.iter_mut().zip(&t.split_scratch);
                for (performance, &part) in parts {
                    *performance += part;
                }
            }
        }
        let partners = t.partner_savings.iter().zip(&t.partner_invest);
        let partners = partners.zip(t.partner_performance.iter().zip(&t.partner_risks));
        for (p, (((&savings, &invest), (&performance, &risks)), net)) in
            partners.zip(&mut t.partner_net).enumerate()
        {
            *net = partner_net(p, (savings, invest, performance, risks), &mut flag);
        }
        t.overflow = flag;
    }
}

/// What a month's combined effect and attribution depend on, for one ramp state.
#[derive(Clone, Copy)]
struct RampState {
    /// Product of (1 - e) over the metric's effects.
    keep: f64,
    rule: Attribution,
}

/// How a month's avoided activity is split among the metric's schemes.
#[derive(Clone, Copy)]
enum Attribution {
    /// Equally among the `n` schemes at e >= 1.
    Full(usize),
    /// All to the only scheme.
    Single,
    /// By `weights[j] / total`, weights holding -ln(1 - e_j).
    Log { total: f64 },
    /// Nothing attributable (total zero or not finite).
    None,
}

/// The ramp state of one block: each effect `e = full x ramp` (into `effect`), their
/// combined `keep` and the attribution rule, with the weights the rule needs (into
/// `weight`), in one pass over the effects. For the multiplicative combination each
/// scheme's share is -ln(1 - e) of the total; schemes at e = 1 share equally. The
/// logarithms are taken once per ramp state, not per month, and not at all where they are
/// known: an effect at ramp 1 has e equal to its full effect, whose weight the trial took
/// once (`full_weight`), and e = 0 has weight 0. A single effect needs no weight.
fn ramp_state(
    full: &[f64],
    ramps: &[f64],
    full_weight: &[f64],
    effect: &mut [f64],
    weight: &mut [f64],
) -> RampState {
    let mut keep = 1.0;
    let mut any_full = 0usize;
    if full.len() == 1 {
        let e = full[0] * ramps[0];
        effect[0] = e;
        keep *= 1.0 - e;
        any_full += usize::from(e >= 1.0);
        let rule = if any_full > 0 {
            Attribution::Full(any_full)
        } else {
            Attribution::Single
        };
        return RampState { keep, rule };
    }
    // The sum of the weights in effect order, as `Iterator::sum` adds them.
    let mut total = -0.0;
    let each = effect.iter_mut().zip(weight.iter_mut());
    for ((&f, &ramp), ((e_out, w_out), &full_w)) in
        full.iter().zip(ramps).zip(each.zip(full_weight))
    {
        let e = f * ramp;
        *e_out = e;
        keep *= 1.0 - e;
        any_full += usize::from(e >= 1.0);
        let w = if ramp == 1.0 {
            full_w
        } else {
            neg_ln_1m_nonzero(e)
        };
        *w_out = w;
        total += w;
    }
    let rule = if any_full > 0 {
        Attribution::Full(any_full)
    } else if total.abs() < 1e-300 || !total.is_finite() {
        Attribution::None
    } else {
        Attribution::Log { total }
    };
    RampState { keep, rule }
}

/// `Model::full_effect` from the scheme's delivery, its `scale` and `returns`, and its
/// `change` on the metric.
#[inline(always)]
pub(super) fn full_effect_of(delivered: bool, scale: f64, returns: f64, change: f64) -> f64 {
    if !delivered {
        return 0.0;
    }
    let factor = if scale == 1.0 {
        1.0
    } else if scale > 0.0 {
        scale.powf(returns.max(0.0))
    } else {
        0.0
    };
    (change * factor).clamp(-10.0, 1.0)
}

/// `xs.iter().sum()`, with a window's usual single segment summed without the loop
/// (`Iterator::sum` of one term: the same value).
#[inline]
fn sum(xs: &[f64]) -> f64 {
    match xs {
        [x] => std::iter::once(*x).sum(),
        _ => xs.iter().sum(),
    }
}

/// A count metric's monthly growth step and its first month's factor, from the trial's
/// `level` and annual `growth`: mid-month growth, `level x (1 + g)^((month + 1/2) / 12)`
/// for month 0, 1, ..., one power per trial.
#[inline]
pub(super) fn growth_steps(level: f64, growth: f64) -> (f64, f64) {
    // Clamp the rare far-tail draw (validation bounds the 1e-6 quantiles).
    let g = growth.max(-0.99);
    let half = (1.0 + g).powf(0.5 / 12.0);
    (half * half, level * half)
}

/// -ln(1 - e) for e < 1, to within a few units in the last place: for the small effects
/// schemes usually have (|e| up to about 0.1) by the series 2 atanh(s), s = e / (2 - e),
/// which needs no library call and pipelines; otherwise by `ln` (whose relative error,
/// about 1e-16 / |e| from rounding 1 - e, is immaterial for shares of avoided activity).
/// 0 gives exactly 0.
#[inline]
fn neg_ln_1m(e: f64) -> f64 {
    let s = e / (2.0 - e);
    if in_series_range(s) {
        twice_atanh_series(s)
    } else {
        -(1.0 - e).ln()
    }
}

/// Whether [`neg_ln_1m`] uses [`twice_atanh_series`] for `s = e / (2 - e)`: false for NaN.
#[inline]
pub(super) fn in_series_range(s: f64) -> bool {
    s.abs() <= 0.05
}

/// `2 atanh(s)` by its series, `2 (s + s^3/3 + ... + s^13/13)`: the first term left out,
/// `s^15/15`, is below `2^-60 s` for `|s| <= 0.05` ([`in_series_range`]). Gives `s` itself (either
/// sign of zero) for a zero `s`.
#[inline]
pub(super) fn twice_atanh_series(s: f64) -> f64 {
    let s2 = s * s;
    let mut sum = 1.0 / 13.0;
    for k in [11.0, 9.0, 7.0, 5.0, 3.0] {
        sum = sum * s2 + 1.0 / k;
    }
    2.0 * s * (sum * s2 + 1.0)
}

/// [`neg_ln_1m`], skipped for 0 (no effect: not delivered, or not started), whose
/// weight is that 0 itself, as `neg_ln_1m` would give.
#[inline]
pub(super) fn neg_ln_1m_nonzero(e: f64) -> f64 {
    if e == 0.0 { e } else { neg_ln_1m(e) }
}

/// Adds a block's avoided activity to each effect's running sum (`sums`, in the metric's
/// effect order) by its ramp state's rule (see [`ramp_state`]), from the state's effects
/// (`Full`) or weights (`Log`); the arithmetic per block is `(reduction / total) * w`.
fn attribute_count(
    effect: &[f64],
    weight: &[f64],
    rule: Attribution,
    reduction: f64,
    sums: &mut [f64],
) {
    match rule {
        Attribution::Full(n) => {
            let share = reduction / n as f64;
            for (sum, &e) in sums.iter_mut().zip(effect) {
                if e >= 1.0 {
                    *sum += share;
                }
            }
        }
        Attribution::Single => sums[0] += reduction,
        Attribution::Log { total } => {
            let per_weight = reduction / total;
            // -ln(1 - e) is 0 exactly when e is 0, adding nothing.
            for (sum, &w) in sums.iter_mut().zip(weight) {
                *sum += per_weight * w;
            }
        }
        Attribution::None => {}
    }
}

/// Where a copula dimension's uniform lives in a trial ([`Model::place`]).
#[derive(Clone, Copy, Debug)]
pub(super) enum Place {
    /// The parameter's first uniform, at this offset.
    Uniform(usize),
    /// A fresh draw of the stream with this key (a parameter with no uniforms of its own).
    Fresh(u64),
    /// The outcome's uniform, at this index.
    Outcome(usize),
}

#[cfg(test)]
mod tests {
    use super::neg_ln_1m;

    #[test]
    fn neg_ln_1m_matches_the_library_logarithm() {
        assert_eq!(neg_ln_1m(0.0), 0.0);
        let mut checked = 0;
        for i in -20_000..20_000 {
            // Dense near 0 (where the series is used), and out to -10 and 0.999.
            let t = i as f64 / 20_000.0;
            for e in [t * 0.12, t.abs().powi(3).copysign(t) * 0.5, t * 10.0] {
                if !(-10.0..0.999).contains(&e) {
                    continue;
                }
                let exact = -(-e).ln_1p();
                let got = neg_ln_1m(e);
                // The series branch (|e / (2 - e)| <= 0.05) is relative-accurate; `ln`
                // also carries the rounding of 1 - e (absolute, about 1e-16).
                let series = (e / (2.0 - e)).abs() <= 0.05;
                let tolerance = 4.0 * f64::EPSILON * exact.abs()
                    + if series { 0.0 } else { 2.0 * f64::EPSILON };
                assert!(
                    (got - exact).abs() <= tolerance,
                    "e = {e}: {got} vs {exact}"
                );
                checked += 1;
            }
        }
        assert!(checked > 100_000);
    }
}
