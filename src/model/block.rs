//! A block of trials simulated together: the same results as [`Model::simulate`] on each
//! trial, computed phase by phase across the block.
//!
//! Most of a trial's model work is the monthly activity of its count metrics: per ramp
//! block, a running growth factor, a product of `(1 - e)` over the metric's effects and
//! the `-ln(1 - e)` attribution weights. Trial by trial, each of these is a chain of
//! dependent floating-point operations (every month waits for the last month's factor,
//! every effect for the last effect's product), walked once per metric per trial with its
//! branches (which ramp is 1, which rule applies) taken anew. Across a block the months,
//! ramps and effects are the same for every trial; only the numbers differ. So
//! [`Model::simulate_block`] works each count metric for all the block's trials at once,
//! one column of [`Lanes`] per quantity, the loops running over trials innermost:
//! independent chains the processor overlaps, and branches that depend only on the block
//! taken once for all.
//!
//! The draws gain the same way where they wait on memory: a beta, PERT or gamma value is
//! a row of a table larger than the first-level cache, looked up after a normal
//! quantile. The block draws each parameter for all its trials together
//! (`Quantile::fill`: every normal quantile, then every lookup, so the loads overlap),
//! and likewise each negative binomial observation's gamma mixing draws. The
//! observations' Poisson and binomial inverses start (for large means) from a normal
//! quantile, a long chain of dependent operations: the block works those out for all
//! its trials in one vectorised pass (`normal_quantile_each`), then each trial's count.
//!
//! Every trial gets the same floating-point operations in the same order as
//! [`Model::simulate`] gives it, from the same uniforms, so the results are bit for bit
//! the same (a test holds the two to it on every shipped scenario); only their
//! interleaving across trials differs. The Gaussian copula, between the streams' uniforms
//! and the values, is likewise a chain of normal quantiles and CDFs per trial: the block
//! applies it to all its trials at once (`Copula::apply_each`, both vectorised), unless a
//! conditional copula (tornado) is in use. A proportion metric's months go by block as
//! a count metric's do (`proportion_activity_block`). With a plain sampler the streams'
//! uniforms go straight into one column per uniform (`draw_uniforms_block`, stream by
//! stream), where the copula and the parameters' draws read them without gathering
//! them from each trial; a sampler that adjusts uniforms (LHS, holds, a donor, a
//! conditional copula) draws them trial by trial and the block copies them into the
//! columns. The parameters' values likewise stay in one column per parameter (a fixed
//! one's filled once, when the lanes are made), where the model's phases read them;
//! only the few the outcomes read trial by trial are copied into each trial.
//! Each segment's expected activity and observed count stay in the lanes' columns too,
//! and the windows go window by window over them (`windows_block`). The savings in real
//! pence (each scheme's attributed avoided activity x unit cost, summed over the
//! metrics, and each metric's avoided activity x unit cost) are worked out in the lanes
//! as each metric's activity is worked out (`savings_block`). The rules go
//! condition by condition (`rules_block`): each condition's kind is looked at once for
//! the block, and each lane's tranche sums are kept in the lanes' columns. The money
//! likewise goes step by step over the lanes (`money_block`): scheme by scheme, then
//! metric by metric, risk by risk and partner by partner, the partners' sums in the
//! lanes' columns and each lane's first amount out of range in its `flags` slot.
use super::compile::{CondModel, Model};
use super::release::{ConditionOutcome, condition_paid, metric_outcome, tranche_paid};
use super::trial::{
    MAX_TRIAL_PENCE, Overflow, PartnerSums, Place, Trial, add_pence, full_effect_of, growth_steps,
    in_series_range, neg_ln_1m_nonzero, partner_net, twice_atanh_series, whole_pence,
};
use crate::correlation::CopulaLanes;
use crate::dist::{
    binomial_needs_normal, binomial_quantile_given, binomial_uses_normal, normal_quantile_each,
    observation_normal_input, poisson_quantile_given_each,
};
use crate::rng::{first_two_uniforms, first_uniforms, stream};
use crate::rules::RuleView;
use crate::sampling::Hold;
use crate::scenario::{Gate, MetricKind};

/// Scratch columns for [`Model::simulate_block`], one lane per trial of the block: built
/// once per worker for blocks of up to `lanes` trials.
#[derive(Clone, Debug)]
pub struct Lanes {
    lanes: usize,
    /// Per effect (effect-major, `lanes` apart): effect at full ramp, its weight
    /// `-ln(1 - e)`, the effect in the current ramp state, its weight there, and the
    /// avoided activity attributed to it so far.
    full: Vec<f64>,
    full_weight: Vec<f64>,
    effect: Vec<f64>,
    weight: Vec<f64>,
    sums: Vec<f64>,
    /// Per effect of every metric in turn (metric by metric, each metric's effects in
    /// order, `lanes` apart): the avoided activity attributed to the effect's scheme over
    /// the horizon, as `sums` ends the metric. `Trial::scheme_avoided`, which the block
    /// leaves as it was: the engine's `Staged` reads these columns instead
    /// ([`Lanes::attributed`], [`Model::attributed_column`]).
    attributed: Vec<f64>,
    /// Per segment of every metric in turn (the metrics' segments in order, as in
    /// `observations`; `segment_first` gives each metric's first): its expected activity
    /// (a proportion metric: first its summed success, then its mean proportion), and
    /// its observed count (`observe_block`), kept for the windows (`windows_block`).
    expected: Vec<f64>,
    observed: Vec<f64>,
    /// Per window (window-major, `lanes` apart), from `windows_block`: its expected,
    /// observed and achieved result. A trial's `window_expected`, `window_observed` and
    /// `window_achieved`, which the block leaves as they were: its rules and the engine's
    /// `Staged` read these columns instead ([`Lanes::window`]).
    window_expected: Vec<f64>,
    window_observed: Vec<f64>,
    window_achieved: Vec<f64>,
    /// Per metric, the index of its first segment in `expected` and `observed`.
    segment_first: Vec<usize>,
    /// Per trial: growth factor of the month (a proportion metric: its baseline
    /// proportion `p0`), monthly growth step, a ramp block's activity (a proportion
    /// metric: its gain), the ramp state's `keep`, its largest effect, sum of weights
    /// (a proportion metric: of effects), avoided activity of the metric.
    factor: Vec<f64>,
    step: Vec<f64>,
    mu: Vec<f64>,
    keep: Vec<f64>,
    largest: Vec<f64>,
    total: Vec<f64>,
    avoided: Vec<f64>,
    /// Per trial, for one block's attribution: the share of each effect at `e >= 1`
    /// (`Full` rule), or the multiplier of each weight (`Log` rule; the whole reduction
    /// for a single effect), and which of the two applies (a proportion metric: whether
    /// the block's gain is attributed).
    share: Vec<f64>,
    per_weight: Vec<f64>,
    by_weight: Vec<f64>,
    /// Per parameter (parameter-major, `lanes` apart): its value in each trial. A fixed
    /// parameter's column holds its value from the start and is never written again; a
    /// drawn one's is written by `values_block` (and a held one's set to the held value).
    values: Vec<f64>,
    /// The parameters whose values the trial-by-trial outcomes read (the outcomes'
    /// probabilities) and which are drawn or held: copied into each trial's `values` (a
    /// fixed one's is already there, from `Trial::new`).
    per_trial: Vec<usize>,
    /// Each outcome's threshold `1 - probability`, if every outcome's probability is
    /// fixed and no parameter's value is held (`outcomes_block`): worked out once.
    thresholds: Option<Vec<f64>>,
    /// A one in every lane, and a +0.0.
    ones: Vec<f64>,
    zeros: Vec<f64>,
    /// Per uniform of the model (column-major, `lanes` apart): each trial's uniforms, which
    /// the block's parameters are drawn from (a trial's own `uniforms` are left as they
    /// were, unless the sampler adjusts them).
    uniforms: Vec<f64>,
    /// One trial's uniforms of one parameter, gathered from `uniforms` for a
    /// distribution drawn from several at once (`Quantile::value`).
    gathered: Vec<f64>,
    /// Per trial: a parameter's value (a segment's normal quantiles), and one factor's
    /// value of a product.
    value: Vec<f64>,
    part: Vec<f64>,
    /// Per scheme (scheme-major, `lanes` apart): its savings in real pence so far,
    /// summed metric by metric as `Model::money` sums them. Per metric with a payer (metric-major): its avoided activity in real pence.
    savings: Vec<f64>,
    metric_savings: Vec<f64>,
    /// Per trial, for the rules of one tranche (`rules_block`): its weighted fraction
    /// so far, its per-unit money, and whether every condition is met.
    weighted: Vec<f64>,
    per_unit: Vec<f64>,
    all_met: Vec<bool>,
    /// Per condition (condition-major, `lanes` apart), from `rules_block`: whether it is
    /// met, its fraction, its achieved value and the pence it pays. `Trial::condition_met`
    /// and the like, which the block leaves as they were: the engine's `Staged` reads
    /// these columns instead ([`Lanes::condition`]).
    met: Vec<bool>,
    fraction: Vec<f64>,
    achieved: Vec<f64>,
    paid: Vec<i64>,
    /// Per trial, for `money_block`: the first money amount out of range so far.
    flags: Vec<Option<Overflow>>,
    /// Per partner (partner-major, `lanes` apart), for `money_block`: its sums of spend,
    /// savings and risks, its performance money and its net, in whole pence (a trial's
    /// `partner_invest` and the like, which the block leaves as they were: the engine's
    /// `Staged` reads these columns instead, [`Lanes::partner`]); and one trial's parts
    /// of a split (`Split::split`).
    partner_invest: Vec<i64>,
    partner_savings: Vec<i64>,
    partner_risks: Vec<i64>,
    partner_performance: Vec<i64>,
    partner_net: Vec<i64>,
    parts: Vec<i64>,
    /// Per scheme (scheme-major, `lanes` apart), for `money_block`: its spend and
    /// savings in whole pence and its return (a trial's `scheme_invest` and the like,
    /// which the block leaves as they were: the engine's `Staged` reads these columns
    /// instead, [`Lanes::scheme`]); and
    /// per trial, whether the scheme of the moment is delivered, and its funder's sum
    /// of spend with the scheme's added (`scheme_money_block`).
    scheme_invest: Vec<i64>,
    scheme_savings: Vec<i64>,
    scheme_roi: Vec<f64>,
    delivered: Vec<bool>,
    funder_sum: Vec<i64>,
    /// Per segment of every metric in turn, two columns: its uniforms for the
    /// observation (`draw_observation_uniforms`).
    observations: Vec<f64>,
    /// The copula's columns, if the model has one.
    copula: Option<CopulaLanes>,
}

impl Lanes {
    /// Scratch for blocks of up to `lanes` trials of `model`.
    pub fn new(model: &Model, lanes: usize) -> Lanes {
        let effects = model.metrics.iter().map(|m| m.effects.len()).max();
        let effects = effects.unwrap_or(0);
        let segment_first: Vec<usize> = (model.metrics.iter())
            .scan(0, |first, m| {
                let at = *first;
                *first += m.segments.len();
                Some(at)
            })
            .collect();
        let segments: usize = model.metrics.iter().map(|m| m.segments.len()).sum();
        let column = |n: usize| vec![0.0; n * lanes];
        Lanes {
            lanes,
            full: column(effects),
            full_weight: column(effects),
            effect: column(effects),
            weight: column(effects),
            sums: column(effects),
            attributed: column(model.metrics.iter().map(|m| m.effects.len()).sum()),
            expected: column(segments),
            observed: column(segments),
            window_expected: column(model.windows.len()),
            window_observed: column(model.windows.len()),
            window_achieved: column(model.windows.len()),
            segment_first,
            factor: column(1),
            step: column(1),
            mu: column(1),
            keep: column(1),
            largest: column(1),
            total: column(1),
            avoided: column(1),
            share: column(1),
            per_weight: column(1),
            by_weight: column(1),
            values: (model.params.iter())
                .flat_map(|p| std::iter::repeat_n(p.fixed.unwrap_or(0.0), lanes))
                .collect(),
            per_trial: (params_read_per_trial(model).into_iter())
                .filter(|&p| model.params[p].fixed.is_none() || held(model, p))
                .collect(),
            thresholds: outcome_thresholds(model),
            ones: vec![1.0; lanes],
            zeros: vec![0.0; lanes],
            uniforms: column(model.uniforms),
            gathered: vec![0.0; model.uniforms],
            value: column(1),
            part: column(1),
            savings: column(model.schemes.len()),
            metric_savings: column(model.metrics.len()),
            weighted: column(1),
            per_unit: column(1),
            all_met: vec![true; lanes],
            met: vec![false; model.conditions * lanes],
            fraction: column(model.conditions),
            achieved: column(model.conditions),
            paid: vec![0; model.conditions * lanes],
            flags: vec![None; lanes],
            partner_invest: vec![0; model.partners * lanes],
            partner_savings: vec![0; model.partners * lanes],
            partner_risks: vec![0; model.partners * lanes],
            partner_performance: vec![0; model.partners * lanes],
            partner_net: vec![0; model.partners * lanes],
            parts: vec![0; model.partners],
            scheme_invest: vec![0; model.schemes.len() * lanes],
            scheme_savings: vec![0; model.schemes.len() * lanes],
            scheme_roi: column(model.schemes.len()),
            delivered: vec![false; lanes],
            funder_sum: vec![0; lanes],
            observations: column(
                2 * model
                    .metrics
                    .iter()
                    .map(|m| m.segments.len())
                    .sum::<usize>(),
            ),
            copula: model
                .copula
                .as_ref()
                .map(|(c, _)| CopulaLanes::new(c, lanes)),
        }
    }

    /// Metric `m`'s effects' attributed avoided activity (its `effects` columns of
    /// `sums`, `n` lanes) into their columns of `attributed`.
    #[inline(always)]
    fn keep_attributed(&mut self, m: usize, effects: usize, n: usize, model: &Model) {
        let width = self.lanes;
        let first: usize = model.metrics[..m].iter().map(|m| m.effects.len()).sum();
        let to = self.attributed[first * width..][..effects * width].chunks_exact_mut(width);
        for (to, from) in to.zip(self.sums[..effects * width].chunks_exact(width)) {
            to[..n].copy_from_slice(&from[..n]);
        }
    }

    /// Column `i` (one value per lane) of a buffer of columns `lanes` apart.
    #[inline(always)]
    fn column<'a, T>(&self, columns: &'a [T], i: usize) -> &'a [T] {
        &columns[i * self.lanes..][..self.lanes]
    }

    /// Column `column` of the attributed avoided activity (see
    /// [`Model::attributed_column`]), one value per lane, as the last block left it.
    #[inline(always)]
    pub fn attributed(&self, column: usize) -> &[f64] {
        self.column(&self.attributed, column)
    }

    /// Window `w`'s expected, observed and achieved result in each lane, as the last block
    /// left them (a trial's `window_expected[w]`, `window_observed[w]` and
    /// `window_achieved[w]` after [`Model::simulate`]).
    #[inline(always)]
    pub fn window(&self, w: usize) -> (&[f64], &[f64], &[f64]) {
        let expected = self.column(&self.window_expected, w);
        let observed = self.column(&self.window_observed, w);
        (expected, observed, self.column(&self.window_achieved, w))
    }

    /// Condition `c`'s outcome in each lane, as the last block left it: whether it is
    /// met, its achieved value and the pence it pays (a trial's `condition_met[c]`,
    /// `condition_achieved[c]` and `condition_paid[c]` after [`Model::simulate`]).
    #[inline(always)]
    pub fn condition(&self, c: usize) -> (&[bool], &[f64], &[i64]) {
        let met = self.column(&self.met, c);
        (
            met,
            self.column(&self.achieved, c),
            self.column(&self.paid, c),
        )
    }

    /// Scheme `i`'s spend, savings (pence) and return in each lane, as the last block left
    /// them (a trial's `scheme_invest[i]`, `scheme_savings[i]` and `scheme_roi[i]` after
    /// [`Model::simulate`]).
    #[inline(always)]
    pub fn scheme(&self, i: usize) -> (&[i64], &[i64], &[f64]) {
        let invest = self.column(&self.scheme_invest, i);
        let savings = self.column(&self.scheme_savings, i);
        (invest, savings, self.column(&self.scheme_roi, i))
    }

    /// Partner `p`'s spend, savings, performance money, risks and net (pence) in each
    /// lane, as the last block left them (a trial's `partner_invest[p]`,
    /// `partner_savings[p]`, `partner_performance[p]`, `partner_risks[p]` and
    /// `partner_net[p]` after [`Model::simulate`]).
    #[inline(always)]
    pub fn partner(&self, p: usize) -> [&[i64]; 5] {
        [
            &self.partner_invest,
            &self.partner_savings,
            &self.partner_performance,
            &self.partner_risks,
            &self.partner_net,
        ]
        .map(|columns| self.column(columns, p))
    }

    /// Condition `c`'s fraction in lane `lane` (a trial's `condition_fraction[c]`), as the
    /// block left it.
    fn condition_fraction(&self, c: usize, lane: usize) -> f64 {
        self.fraction[c * self.lanes + lane]
    }

    /// Parameter `param`'s value in lane `lane`, as the block left it.
    fn value(&self, param: usize, lane: usize) -> f64 {
        self.values[param * self.lanes + lane]
    }
}

/// Whether parameter `p`'s value is held by the sampler.
fn held(model: &Model, p: usize) -> bool {
    (model.sampler.holds.iter()).any(|h| matches!(*h, Hold::Value { param, .. } if param == p))
}

/// The parameters whose values the block's trial-by-trial code reads from each
/// trial's `values` (`draw_outcomes`: the outcomes' probabilities), each once, in order.
/// The rules (`rules_block`) read the conditions' targets, and the money (`money_block`)
/// the schemes' and risks' parameters, from the lanes' columns.
pub(super) fn params_read_per_trial(model: &Model) -> Vec<usize> {
    let mut read: Vec<usize> = model.outcomes.iter().map(|o| o.probability).collect();
    read.sort_unstable();
    read.dedup();
    read
}

/// Each outcome's threshold `1 - probability` (`1.0 - t.values[outcome.probability]`,
/// the same in every trial), where no parameter's value is held and every outcome's
/// probability is fixed (a plan's usual case); otherwise none.
fn outcome_thresholds(model: &Model) -> Option<Vec<f64>> {
    let holds = &model.sampler.holds;
    if holds.iter().any(|h| matches!(h, Hold::Value { .. })) {
        return None;
    }
    (model.outcomes.iter())
        .map(|outcome| model.params[outcome.probability].fixed.map(|p| 1.0 - p))
        .collect()
}

impl Model {
    /// The column of [`Lanes::attributed`] that holds scheme `s`'s attributed avoided
    /// activity on metric `m` (a trial's `scheme_avoided[s][m]` after
    /// [`Model::simulate`]), if the scheme has an effect on the metric (the last such
    /// effect, as a trial's value is the last written); otherwise the value stays
    /// `Trial::new`'s 0.
    pub fn attributed_column(&self, s: usize, m: usize) -> Option<usize> {
        let before: usize = self.metrics[..m].iter().map(|m| m.effects.len()).sum();
        let effects = &self.metrics[m].effects;
        effects
            .iter()
            .rposition(|&(e, _)| e == s)
            .map(|j| before + j)
    }

    /// Puts in `t`, the trial of lane `lane` after [`Model::simulate_block`], everything
    /// the block left in the lanes' columns instead (every parameter's value, the
    /// windows' results, the conditions' outcomes, the schemes' and partners' outputs), so
    /// that it holds what [`Model::simulate`] gives the trial, but for its `uniforms`:
    /// the parameters' uniforms stay in the lanes unless the sampler drew them trial by
    /// trial (nothing reads them after a trial). For commands that read a whole trial
    /// after a block (`thresholds`, `sensitivity`, `run`'s observer). A test holds it to
    /// `simulate` on every shipped scenario.
    pub fn complete_trial(&self, lanes: &Lanes, lane: usize, t: &mut Trial) {
        for (p, v) in t.values.iter_mut().enumerate() {
            *v = lanes.value(p, lane);
        }
        for s in 0..self.schemes.len() {
            let (invested, saved, roi) = lanes.scheme(s);
            t.scheme_invest[s] = invested[lane];
            t.scheme_savings[s] = saved[lane];
            t.scheme_roi[s] = roi[lane];
        }
        for c in 0..self.conditions {
            let (met, achieved, paid) = lanes.condition(c);
            t.condition_met[c] = met[lane];
            t.condition_fraction[c] = lanes.condition_fraction(c, lane);
            t.condition_achieved[c] = achieved[lane];
            t.condition_paid[c] = paid[lane];
        }
        for w in 0..self.windows.len() {
            let (expected, observed, achieved) = lanes.window(w);
            t.window_expected[w] = expected[lane];
            t.window_observed[w] = observed[lane];
            t.window_achieved[w] = achieved[lane];
        }
        for p in 0..self.partners {
            let [invest, savings, performance, risks, net] = lanes.partner(p);
            t.partner_invest[p] = invest[lane];
            t.partner_savings[p] = savings[lane];
            t.partner_performance[p] = performance[lane];
            t.partner_risks[p] = risks[lane];
            t.partner_net[p] = net[lane];
        }
        for (s, avoided) in t.scheme_avoided.iter_mut().enumerate() {
            for (m, v) in avoided.iter_mut().enumerate() {
                if let Some(column) = self.attributed_column(s, m) {
                    *v = lanes.attributed(column)[lane];
                }
            }
        }
    }

    /// Runs trials `first`, `first + 1`, ... into `trials` (at most `lanes.lanes` of
    /// them): the same results as `simulate(first + i, &mut trials[i])` for each. The
    /// parameters' uniforms are drawn into the lanes' columns: a trial's `uniforms` are
    /// left as they were unless the sampler adjusts them (LHS, holds, a donor, a
    /// conditional copula), when they are drawn trial by trial as `simulate` does.
    /// Likewise the parameters' values are worked out in the lanes' columns, and only
    /// those the rules and outcomes read are put in each trial's `values`: `trials` must
    /// have been made by `Trial::new` of this model, which puts the fixed values there.
    /// Each window's result, each condition's outcome, each scheme's attributed avoided
    /// activity, spend, savings and return, and each partner's money are left in the
    /// lanes ([`Lanes::window`], [`Lanes::condition`], [`Lanes::attributed`],
    /// [`Lanes::scheme`], [`Lanes::partner`]), not put in the trials' `window_expected`,
    /// `window_observed`, `window_achieved`, `condition_met`, `condition_fraction`,
    /// `condition_achieved`, `condition_paid`, `scheme_avoided`, `scheme_invest`,
    /// `scheme_savings`, `scheme_roi`, `partner_invest`, `partner_savings`,
    /// `partner_performance`, `partner_risks` and `partner_net`.
    #[inline(always)]
    pub fn simulate_block(&self, first: u64, trials: &mut [Trial], lanes: &mut Lanes) {
        self.simulate_block_phases(first, trials, lanes, |_| {});
    }

    /// [`Model::simulate_block`] with `lap(phase)` called after each phase, for
    /// `itfsim bench`; the same results. 0 sampling: every uniform of the block (the
    /// parameters' and outcomes' through the sampler and the copula, and the
    /// observations' noise), the parameters' values and the outcomes; 1 model: monthly
    /// activity, effects, attribution and savings, and the observed counts (the Poisson,
    /// negative binomial and binomial draws); 2 rules and money: windows, conditions,
    /// tranches and each partner's money.
    #[inline(always)]
    pub fn simulate_block_phases(
        &self,
        first: u64,
        trials: &mut [Trial],
        lanes: &mut Lanes,
        mut lap: impl FnMut(usize),
    ) {
        assert!(trials.len() <= lanes.lanes, "a block larger than its lanes");
        for (i, t) in trials.iter_mut().enumerate() {
            t.index = first + i as u64;
        }
        if self.sampler.is_plain() {
            self.draw_uniforms_block(first, trials, lanes);
            self.correlate_columns(trials, lanes);
        } else {
            for t in trials.iter_mut() {
                self.draw_own_uniforms(t.index, t);
            }
            self.correlate_block(trials, lanes);
            let width = lanes.lanes;
            for k in 0..self.uniforms {
                for (i, t) in trials.iter().enumerate() {
                    lanes.uniforms[k * width + i] = t.uniforms[k];
                }
            }
        }
        self.draw_observation_uniforms(first, trials.len(), lanes);
        self.values_block(trials, lanes);
        self.outcomes_block(trials, lanes);
        lap(0);
        let (width, n) = (lanes.lanes, trials.len());
        for savings in lanes.savings.chunks_exact_mut(width) {
            savings[..n].fill(0.0);
        }
        for m in 0..self.metrics.len() {
            match self.metrics[m].kind {
                MetricKind::Count => self.count_activity_block(m, trials, lanes),
                MetricKind::Proportion => self.proportion_activity_block(m, trials, lanes),
            }
            self.savings_block(m, trials, lanes);
        }
        for m in 0..self.metrics.len() {
            self.observe_block(m, trials, lanes);
        }
        lap(1);
        self.windows_block(trials.len(), lanes);
        self.rules_block(trials, lanes);
        self.money_block(trials, lanes);
        lap(2);
    }

    /// `money_with` of every trial of the block, from the savings in its lanes, step by
    /// step over the lanes: each scheme's spend and savings (`scheme_money_block`), each
    /// metric's savings to its payer, each risk, the released and unreleased money and
    /// each partner's net (`partners_money_block`). The partners' sums are kept in the
    /// lanes' columns ([`Lanes::partner`]), not copied into the trials; each lane's
    /// first amount out of range is kept in its `flags` slot and copied into its trial's
    /// `overflow`, which the engine checks. Each trial sees the same steps in the
    /// same order as in `money_with` (`scheme_money`, then `partners_money`), so the
    /// same amounts and the same first amount out of range.
    #[inline(always)]
    fn money_block(&self, trials: &mut [Trial], lanes: &mut Lanes) {
        let (width, n) = (lanes.lanes, trials.len());
        lanes.flags[..n].fill(None);
        // `start_money`.
        for p in 0..self.partners {
            lanes.partner_invest[p * width..][..n].fill(0);
            lanes.partner_savings[p * width..][..n].fill(0);
            lanes.partner_risks[p * width..][..n].fill(0);
        }
        for i in 0..self.schemes.len() {
            self.scheme_money_block(i, trials, lanes);
        }
        self.partners_money_block(trials, lanes);
        for (t, &flag) in trials.iter_mut().zip(&lanes.flags) {
            t.overflow = flag;
        }
    }

    /// `scheme_money` of scheme `i` in every lane, from its savings column, its spend
    /// added to its funders' columns, its spend, savings and return into its columns.
    ///
    /// A scheme with one funder takes first a pass that assumes every amount in range
    /// (its spend and savings below 2^51 in magnitude, where `whole_pence` rounds by
    /// `round_ties_even_i64_below_2_51`, and its funder's sum within `MAX_TRIAL_PENCE`):
    /// branch-free, so vectorised, with the rounding's shift for the whole pence and, in
    /// `f64`, for the return's quotient (the rounded amount itself, as `as f64` of the
    /// whole pence gives it). If some lane's amount is out of that range, its results
    /// are dropped and the scheme is worked out lane by lane as `scheme_money` does
    /// (`scheme_money_lanes`), amounts out of range recorded in the lanes' `flags`.
    #[inline(always)]
    fn scheme_money_block(&self, i: usize, trials: &[Trial], lanes: &mut Lanes) {
        let (width, n) = (lanes.lanes, trials.len());
        let scheme = &self.schemes[i];
        let delivered = &mut lanes.delivered[..n];
        for (delivered, t) in delivered.iter_mut().zip(trials) {
            *delivered = t.occurs[scheme.delivery];
        }
        let cost = scheme.cost_pence;
        let (Some(p), true) = (scheme.funder.whole(), cost.abs() <= MAX_TRIAL_PENCE) else {
            self.scheme_money_lanes(i, n, lanes);
            return;
        };
        let (cost_f, cost_if_undelivered) = (cost as f64, scheme.cost_if_undelivered);
        let savings = &lanes.savings[i * width..][..n];
        let overruns = &lanes.values[scheme.cost_overrun * width..][..n];
        let scales = &lanes.values[scheme.scale * width..][..n];
        let sums = &lanes.partner_invest[p * width..][..n];
        let invests = &mut lanes.scheme_invest[i * width..][..n];
        let savings_out = &mut lanes.scheme_savings[i * width..][..n];
        let rois = &mut lanes.scheme_roi[i * width..][..n];
        let new_sums = &mut lanes.funder_sum[..n];
        let inputs = (savings.iter().zip(&*delivered)).zip(overruns.iter().zip(scales));
        let outputs = (invests.iter_mut().zip(savings_out.iter_mut()))
            .zip(rois.iter_mut().zip(new_sums.iter_mut()));
        let mut in_range = true;
        for (
            (((invest, savings_out), (roi, new_sum)), &sum),
            ((&savings, &delivered), (&overrun, &scale)),
        ) in outputs.zip(sums).zip(inputs)
        {
            let multiplier = overrun.max(0.0) * scale.max(0.0);
            let undelivered = multiplier * cost_if_undelivered;
            let multiplier = if delivered { multiplier } else { undelivered };
            let one = multiplier == 1.0;
            let x = cost_f * multiplier;
            in_range &= one | (x.abs() < crate::money::TWO_51);
            let (whole, whole_f) = shifted_whole_pence(x);
            *invest = if one { cost } else { whole };
            let invest_f = if one { cost_f } else { whole_f };
            let total = sum.wrapping_add(*invest);
            in_range &= (-MAX_TRIAL_PENCE..=MAX_TRIAL_PENCE).contains(&total);
            *new_sum = total;
            in_range &= savings.abs() < crate::money::TWO_51;
            let (whole, whole_f) = shifted_whole_pence(savings);
            *savings_out = whole;
            let quotient = whole_f / invest_f;
            *roi = if invest_f == 0.0 { 0.0 } else { quotient };
        }
        if in_range {
            lanes.partner_invest[p * width..][..n].copy_from_slice(&lanes.funder_sum[..n]);
        } else {
            self.scheme_money_lanes(i, n, lanes);
        }
    }

    /// `scheme_money` of scheme `i` in each of the first `n` lanes in turn (each lane's
    /// delivery in `delivered`), into the lanes' columns.
    #[inline(always)]
    fn scheme_money_lanes(&self, i: usize, n: usize, lanes: &mut Lanes) {
        let width = lanes.lanes;
        let scheme = &self.schemes[i];
        let savings = &lanes.savings[i * width..][..n];
        let overruns = &lanes.values[scheme.cost_overrun * width..][..n];
        let scales = &lanes.values[scheme.scale * width..][..n];
        let inputs = (savings.iter().zip(&lanes.delivered[..n])).zip(overruns.iter().zip(scales));
        for (lane, ((&savings, &delivered), (&overrun, &scale))) in inputs.enumerate() {
            let sums = PartnerSums {
                sums: &mut lanes.partner_invest,
                stride: width,
                at: lane,
            };
            let inputs = (delivered, overrun, scale, savings);
            let flag = &mut lanes.flags[lane];
            let (invest, savings, roi) =
                self.scheme_money_into(i, inputs, sums, &mut lanes.parts, flag);
            lanes.scheme_invest[i * width + lane] = invest;
            lanes.scheme_savings[i * width + lane] = savings;
            lanes.scheme_roi[i * width + lane] = roi;
        }
    }

    /// `partners_money` in every lane, step by step: each metric's savings to its payer
    /// (from its `metric_savings` column), each risk (from its impact's column), the
    /// released and unreleased money, then each partner's net, into the partners'
    /// columns.
    #[inline(always)]
    fn partners_money_block(&self, trials: &[Trial], lanes: &mut Lanes) {
        let (width, n) = (lanes.lanes, trials.len());
        let flags = &mut lanes.flags[..n];
        for (m, metric) in self.metrics.iter().enumerate() {
            let Some(payer) = metric.payer else {
                continue;
            };
            let savings = &lanes.metric_savings[m * width..][..n];
            let sums = &mut lanes.partner_savings[payer * width..][..n];
            for ((sum, &savings), flag) in sums.iter_mut().zip(savings).zip(flags.iter_mut()) {
                let x = whole_pence(savings, Overflow::MetricSavings(m), flag);
                add_pence(sum, x, Overflow::PartnerTotal(payer), flag);
            }
        }
        for (r, risk) in self.risks.iter().enumerate() {
            let impacts = &lanes.values[risk.impact * width..][..n];
            let sums = &mut lanes.partner_risks[risk.partner * width..][..n];
            let each = sums.iter_mut().zip(impacts).zip(flags.iter_mut());
            for (((sum, &impact), flag), t) in each.zip(trials) {
                if t.occurs[risk.occurs] {
                    let x = whole_pence(impact * 100.0, Overflow::RiskImpact(r), flag);
                    add_pence(sum, x, Overflow::PartnerTotal(risk.partner), flag);
                }
            }
        }
        // `released.split(total_paid)` into the performance columns, then the unreleased
        // money (`pot - total_paid`) added.
        let performance = &mut lanes.partner_performance;
        match self.released.whole() {
            Some(whole) => {
                for p in 0..self.partners {
                    let column = &mut performance[p * width..][..n];
                    if p == whole {
                        for (out, t) in column.iter_mut().zip(trials) {
                            *out = t.total_paid;
                        }
                    } else {
                        column.fill(0);
                    }
                }
            }
            None => {
                for (lane, t) in trials.iter().enumerate() {
                    self.released.split(t.total_paid, &mut lanes.parts);
                    for (p, &part) in lanes.parts.iter().enumerate() {
                        performance[p * width + lane] = part;
                    }
                }
            }
        }
        match self.unreleased.whole() {
            Some(p) => {
                let column = &mut performance[p * width..][..n];
                for (out, t) in column.iter_mut().zip(trials) {
                    *out += self.pot - t.total_paid;
                }
            }
            None => {
                for (lane, t) in trials.iter().enumerate() {
                    self.unreleased
                        .split(self.pot - t.total_paid, &mut lanes.parts);
                    for (p, &part) in lanes.parts.iter().enumerate() {
                        performance[p * width + lane] += part;
                    }
                }
            }
        }
        for p in 0..self.partners {
            let savings = &lanes.partner_savings[p * width..][..n];
            let invest = &lanes.partner_invest[p * width..][..n];
            let performance = &lanes.partner_performance[p * width..][..n];
            let risks = &lanes.partner_risks[p * width..][..n];
            let net = &mut lanes.partner_net[p * width..][..n];
            let terms = savings
                .iter()
                .zip(invest)
                .zip(performance.iter().zip(risks));
            // Each sum of spend, savings and risks is within `MAX_TRIAL_PENCE` (`add_pence`
            // keeps it there): where the performance money is too, the `i64` sum is
            // exact, and in range in every lane it is each lane's net, no amount out of
            // range. Otherwise each lane's net as `partners_money` works it out.
            let mut in_range = true;
            for (net, ((&savings, &invest), (&performance, &risks))) in
                net.iter_mut().zip(terms.clone())
            {
                let sum = (savings.wrapping_sub(invest))
                    .wrapping_add(performance)
                    .wrapping_sub(risks);
                let range = -MAX_TRIAL_PENCE..=MAX_TRIAL_PENCE;
                in_range &= range.contains(&performance) & range.contains(&sum);
                *net = sum;
            }
            if in_range {
                continue;
            }
            for ((net, flag), ((&savings, &invest), (&performance, &risks))) in
                net.iter_mut().zip(flags.iter_mut()).zip(terms)
            {
                *net = partner_net(p, (savings, invest, performance, risks), flag);
            }
        }
    }

    /// `windows` of the block's first `n` trials, window by window: each window's kind and
    /// segments looked at once for the block, its sums over its segments worked out in
    /// every lane from the segments' columns (`expected` and `observed`, which the
    /// metrics' phases and `observe_block` fill), in segment order from the same start
    /// as `Iterator::sum` (`sum_columns`), then each lane's expected, observed and
    /// achieved result, as `windows` works them out, into the window's columns
    /// ([`Lanes::window`]), where the rules read them (`rules_block`); none is put in the
    /// trials.
    #[inline(always)]
    fn windows_block(&self, n: usize, lanes: &mut Lanes) {
        let width = lanes.lanes;
        for (w, window) in self.windows.iter().enumerate() {
            let first = lanes.segment_first[window.metric];
            let segments = first + window.segments.start..first + window.segments.end;
            let column = w * width..w * width + n;
            let expected = &mut lanes.window_expected[column.clone()];
            let observed = &mut lanes.window_observed[column.clone()];
            let achieved = &mut lanes.window_achieved[column];
            let baseline = window.baseline;
            // `for` loops, not `for_each`: LLVM once left such a call out of line.
            match window.kind {
                MetricKind::Count => {
                    sum_columns(observed, &lanes.observed, segments.clone(), width, |_| None);
                    sum_columns(expected, &lanes.expected, segments, width, |_| None);
                    for (achieved, &observed) in achieved.iter_mut().zip(&*observed) {
                        *achieved = (baseline - observed) / baseline;
                    }
                }
                MetricKind::Proportion => {
                    let summed = &mut lanes.value[..n];
                    sum_columns(summed, &lanes.observed, segments.clone(), width, |_| None);
                    // Each segment's mean proportion x its people, summed.
                    let metric = &self.metrics[window.metric];
                    let people = |s: usize| Some(metric.segments[s - first].people as f64);
                    sum_columns(expected, &lanes.expected, segments, width, people);
                    let people = window.people as f64;
                    let each = observed.iter_mut().zip(achieved.iter_mut());
                    for ((expected, (observed, achieved)), &sum) in
                        expected.iter_mut().zip(each).zip(&*summed)
                    {
                        *expected /= people;
                        *observed = sum / people;
                        *achieved = sum / people - baseline;
                    }
                }
            }
        }
    }

    /// The rules (`Model::tranche_outcome` of every tranche, as `windows_and_rules`
    /// applies them) for every trial of the block, condition by condition: each
    /// condition's kind looked at once for the block, its result worked out in every
    /// lane, each lane's weighted fraction, per-unit money and whether all are met kept
    /// in the lanes' columns (summed in condition order, as `tranche_outcome` sums them),
    /// and each condition's outcome left in its columns ([`Lanes::condition`]).
    #[inline(always)]
    fn rules_block(&self, trials: &mut [Trial], lanes: &mut Lanes) {
        let (width, n) = (lanes.lanes, trials.len());
        let (weighted, per_unit) = (&mut lanes.weighted[..n], &mut lanes.per_unit[..n]);
        let all_met = &mut lanes.all_met[..n];
        let (met, fraction) = (&mut lanes.met, &mut lanes.fraction);
        let (achieved, paid) = (&mut lanes.achieved, &mut lanes.paid);
        let values = &lanes.values;
        let (window_observed, window_achieved) = (&lanes.window_observed, &lanes.window_achieved);
        for t in trials.iter_mut() {
            t.total_paid = 0;
        }
        // A lane's sums (weighted fraction, per-unit money, all met) and its slots of
        // one condition's columns (met, fraction, achieved, paid).
        type Slots<'a> = (
            (&'a mut f64, (&'a mut f64, &'a mut bool)),
            ((&'a mut bool, &'a mut f64), (&'a mut f64, &'a mut i64)),
        );
        let mut c = 0;
        for (ti, tranche) in self.tranches.iter().enumerate() {
            let amount = tranche.amount as f64;
            weighted.fill(0.0);
            per_unit.fill(0.0);
            all_met.fill(true);
            let each_condition = tranche.conditions.iter().zip(&tranche.met_pence);
            for (k, ((cond, weight), &met_pence)) in each_condition.enumerate() {
                let column = (c + k) * width..(c + k) * width + n;
                let sums = weighted
                    .iter_mut()
                    .zip(per_unit.iter_mut().zip(all_met.iter_mut()));
                let outputs = (met[column.clone()].iter_mut())
                    .zip(&mut fraction[column.clone()])
                    .zip(achieved[column.clone()].iter_mut().zip(&mut paid[column]));
                let each = trials.iter().zip(sums.zip(outputs));
                let event = matches!(cond, CondModel::Event { .. });
                // Each lane's outcome `o` into its sums and the condition's columns.
                let record = |slots: Slots, o: ConditionOutcome| {
                    let ((weighted, (per_unit, all_met)), ((met, fraction), outputs)) = slots;
                    let (achieved, paid) = outputs;
                    *all_met &= o.met;
                    let sums = (weighted, per_unit);
                    *paid = condition_paid(event, &o, *weight, amount, met_pence, sums);
                    (*met, *fraction, *achieved) = (o.met, o.fraction, o.achieved);
                };
                match cond {
                    CondModel::Event { outcome } => {
                        for (t, slots) in each {
                            // `condition_outcome` of an event, without the trial's inputs.
                            record(slots, ConditionOutcome::event(t.occurs[*outcome]));
                        }
                    }
                    CondModel::Metric {
                        window,
                        target,
                        rule,
                        rate_pence,
                    } => {
                        // `condition_outcome` of a metric: its window's kind and baseline,
                        // its rule and its cap taken once, its target from the parameter's
                        // column; the loop is run for the rule's and the metric's kind, so
                        // that each lane's `metric_outcome` has them fixed.
                        let (w, wm, cap) = (*window, &self.windows[*window], *weight * amount);
                        let (parts, rate_pence) = ((wm.baseline, wm.people), *rate_pence);
                        let targets = target.map(|p| &values[p * width..][..n]);
                        // The window's achieved and observed results in each lane.
                        let results = (window_achieved[w * width..][..n].iter())
                            .zip(&window_observed[w * width..][..n]);
                        let each = each.map(|(_, slots)| slots).zip(results);
                        // The lanes' loop for a kind and rule (a macro, not a closure
                        // called three times, which the compiler leaves out of line).
                        macro_rules! column {
                            ($kind:expr, $rule:expr) => {{
                                let outcome = |(&a, &observed): (&f64, &f64), target| {
                                    let (kind, rule) = ($kind, $rule);
                                    metric_outcome(
                                        kind, parts, rule, rate_pence, cap, a, observed, target,
                                    )
                                };
                                match targets {
                                    Some(targets) => {
                                        for ((slots, result), &target) in each.zip(targets) {
                                            record(slots, outcome(result, Some(target)));
                                        }
                                    }
                                    None => {
                                        for (slots, result) in each {
                                            record(slots, outcome(result, None));
                                        }
                                    }
                                }
                            }};
                        }
                        match (wm.kind, rule.view()) {
                            (MetricKind::Count, RuleView::Banded { bands }) => {
                                column!(MetricKind::Count, RuleView::Banded { bands })
                            }
                            (MetricKind::Proportion, RuleView::Banded { bands }) => {
                                column!(MetricKind::Proportion, RuleView::Banded { bands })
                            }
                            (kind, rule) => column!(kind, rule),
                        }
                    }
                }
            }
            let conditions = c..c + tranche.conditions.len();
            c = conditions.end;
            let each = weighted.iter().zip(&*per_unit).zip(&*all_met);
            let lanes = trials.iter_mut().zip(each).enumerate();
            for (lane, (t, ((&weighted, &per_unit), &all_met))) in lanes {
                let tranche_paid = tranche_paid(tranche, all_met, weighted, per_unit);
                if tranche.gate == Gate::All && !all_met {
                    for ci in conditions.clone() {
                        paid[ci * width + lane] = 0;
                    }
                }
                t.tranche_paid[ti] = tranche_paid;
                t.total_paid += tranche_paid;
            }
        }
    }

    /// Each scheme's savings from metric `m` added to its `savings` column, from the
    /// metric's attributed avoided activity (`sums`, as `count_activity_block` or
    /// `proportion_activity_block` left it) and each trial's unit cost (its column): `avoided x cost x
    /// 100`, what `Model::money` adds for the metric, metrics being taken in the same
    /// order. A scheme without an effect on the metric has avoided activity +0.0, whose
    /// term (`0 x cost x 100`) is a zero that leaves the sum as it is (a sum from +0.0 is
    /// never -0.0) when the cost is finite, and is added only where some cost is not.
    /// For a metric with a payer, also its own avoided activity in real pence
    /// (`metric_savings`), as `Model::money` works it out.
    #[inline(always)]
    fn savings_block(&self, m: usize, trials: &[Trial], lanes: &mut Lanes) {
        let metric = &self.metrics[m];
        let (width, n) = (lanes.lanes, trials.len());
        let cost = &lanes.values[metric.unit_cost * width..][..n];
        if metric.payer.is_some() {
            let metric_savings = &mut lanes.metric_savings[m * width..][..n];
            let each = metric_savings.iter_mut().zip(&lanes.avoided[..n]);
            for ((savings, &avoided), &cost) in each.zip(cost) {
                *savings = avoided * cost * 100.0;
            }
        }
        let finite = (cost.iter()).fold(true, |all, &c| all & (c.abs() <= f64::MAX));
        let columns = lanes.savings.chunks_exact_mut(width).enumerate();
        for (s, savings) in columns.take(self.schemes.len()) {
            match metric.effects.iter().position(|&(e, _)| e == s) {
                Some(j) => add_savings(&mut savings[..n], &lanes.sums[j * width..][..n], cost),
                None if !finite => add_savings(&mut savings[..n], &lanes.zeros[..n], cost),
                None => {}
            }
        }
    }

    /// `draw_own_uniforms` of every trial of the block, for a plain sampler: each
    /// parameter's uniforms into its columns, stream by stream (the same streams and
    /// draws; `parameter_streams`, on the copy `isa::run_streams` chooses), and each
    /// outcome's uniform into its trial.
    #[inline(always)]
    fn draw_uniforms_block(&self, first: u64, trials: &mut [Trial], lanes: &mut Lanes) {
        let n = trials.len();
        crate::isa::run_streams(
            #[inline(always)]
            || self.parameter_streams(first, n, lanes),
        );
        for t in trials.iter_mut() {
            for (u, outcome) in t.outcome_uniforms.iter_mut().zip(&self.outcomes) {
                *u = stream(outcome.key, t.index).uniform();
            }
        }
    }

    /// Each parameter's uniforms in trials `first..first + n` into its columns.
    #[inline(always)]
    fn parameter_streams(&self, first: u64, n: usize, lanes: &mut Lanes) {
        let width = lanes.lanes;
        for &(key, offset) in &self.streams {
            first_uniforms(key, first, &mut lanes.uniforms[offset * width..][..n]);
        }
        for (key, range) in &self.multi_streams {
            if range.len() == 2 {
                // A product of two factors (Ealing's unit cost): both columns in one
                // vectorised loop.
                let (a, b) = lanes.uniforms[range.start * width..].split_at_mut(width);
                first_two_uniforms(*key, first, &mut a[..n], &mut b[..n]);
                continue;
            }
            for i in 0..n {
                let mut s = stream(*key, first + i as u64);
                for k in range.clone() {
                    lanes.uniforms[k * width + i] = s.uniform();
                }
            }
        }
    }

    /// Each observed segment's uniforms for every trial of the block (its gamma mixing
    /// uniform, where the noise is negative binomial, then its count's), two columns a
    /// segment in `lanes.observations`, for `observe_block`: drawn before the model, so
    /// that the streams' vectorised loops sit apart from the observations' searches (and
    /// run on the copy `isa::run_streams` chooses).
    #[inline(always)]
    fn draw_observation_uniforms(&self, first: u64, n: usize, lanes: &mut Lanes) {
        crate::isa::run_streams(
            #[inline(always)]
            || self.observation_streams(first, n, lanes),
        );
    }

    /// `draw_observation_uniforms`'s streams.
    #[inline(always)]
    fn observation_streams(&self, first: u64, n: usize, lanes: &mut Lanes) {
        let width = lanes.lanes;
        let segments = self.metrics.iter().flat_map(|metric| {
            let gamma = metric.gamma.is_some() && metric.kind == MetricKind::Count;
            metric.segments.iter().map(move |seg| (seg, gamma))
        });
        let columns = lanes.observations.chunks_exact_mut(2 * width);
        for ((seg, gamma), columns) in segments.zip(columns) {
            if !seg.observed {
                continue;
            }
            let (mixings, counts) = columns.split_at_mut(width);
            if gamma {
                first_two_uniforms(seg.key, first, &mut mixings[..n], &mut counts[..n]);
            } else {
                first_uniforms(seg.key, first, &mut counts[..n]);
            }
        }
    }

    /// `correlate` of every trial of the block with their uniforms in the lanes' columns
    /// (a plain sampler: no conditional copula): the copula for all of them at once.
    #[inline(always)]
    fn correlate_columns(&self, trials: &mut [Trial], lanes: &mut Lanes) {
        let (Some((copula, slots)), Some(columns)) = (&self.copula, lanes.copula.as_mut()) else {
            return;
        };
        let (width, n) = (lanes.lanes, trials.len());
        for (d, &slot) in slots.iter().enumerate() {
            let u = &mut columns.u[d * width..][..n];
            match self.place(slot) {
                Place::Uniform(at) => u.copy_from_slice(&lanes.uniforms[at * width..][..n]),
                Place::Fresh(key) => {
                    for (u, t) in u.iter_mut().zip(&*trials) {
                        *u = stream(key, t.index).uniform();
                    }
                }
                Place::Outcome(o) => {
                    for (u, t) in u.iter_mut().zip(&*trials) {
                        *u = t.outcome_uniforms[o];
                    }
                }
            }
        }
        copula.apply_each(columns, n);
        for (d, &slot) in slots.iter().enumerate() {
            let u = &columns.u[d * width..][..n];
            match self.place(slot) {
                Place::Uniform(at) => lanes.uniforms[at * width..][..n].copy_from_slice(u),
                Place::Fresh(_) => {}
                Place::Outcome(o) => {
                    for (&u, t) in u.iter().zip(trials.iter_mut()) {
                        t.outcome_uniforms[o] = u;
                    }
                }
            }
        }
    }

    /// `correlate` of every trial of the block, their uniforms in the trials (a sampler
    /// that adjusts them): the plain copula for all of them at once
    /// (`Copula::apply_each`); a conditional one trial by trial.
    fn correlate_block(&self, trials: &mut [Trial], lanes: &mut Lanes) {
        let Some((copula, slots)) = &self.copula else {
            return;
        };
        let (Some(columns), None) = (lanes.copula.as_mut(), &self.sampler.conditional) else {
            trials.iter_mut().for_each(|t| self.correlate_trial(t));
            return;
        };
        let (width, n) = (lanes.lanes, trials.len());
        // Dimension by dimension, each slot's place looked up once for the block.
        for (d, &slot) in slots.iter().enumerate() {
            let place = self.place(slot);
            let each = columns.u[d * width..][..n].iter_mut().zip(&*trials);
            for (u, t) in each {
                *u = Model::slot_uniform(place, t.index, &t.uniforms, &t.outcome_uniforms);
            }
        }
        copula.apply_each(columns, n);
        for (d, &slot) in slots.iter().enumerate() {
            let place = self.place(slot);
            let each = columns.u[d * width..][..n].iter().zip(trials.iter_mut());
            for (&u, t) in each {
                Model::set_slot_uniform(place, u, &mut t.uniforms, &mut t.outcome_uniforms);
            }
        }
    }

    /// Every parameter's value in every trial of the block, parameter by parameter, into
    /// its column: the values `draw_parameters` gives, with a one-uniform distribution's
    /// draws made together by `Quantile::fill`, and the held values. A fixed parameter's
    /// column already holds its value. Then the values the trial-by-trial code reads
    /// (`per_trial`) into each trial's `values`.
    #[inline(always)]
    fn values_block(&self, trials: &mut [Trial], lanes: &mut Lanes) {
        let (width, n) = (lanes.lanes, trials.len());
        for (i, p) in self.params.iter().enumerate() {
            let values = &mut lanes.values[i * width..][..n];
            match p.fixed {
                Some(_) => {}
                None if p.uniforms == 1 => {
                    let us = &lanes.uniforms[p.offset * width..][..n];
                    p.quantile.fill(us, values);
                }
                None => match p.quantile.one_uniform_factors() {
                    Some(factors) if factors.len() == p.uniforms => {
                        // A product: 1.0 times each factor in turn, as `Quantile::value`.
                        values.fill(1.0);
                        for (k, factor) in factors.iter().enumerate() {
                            let us = &lanes.uniforms[(p.offset + k) * width..][..n];
                            factor.fill(us, &mut lanes.part[..n]);
                            for (v, &f) in values.iter_mut().zip(&lanes.part) {
                                *v *= f;
                            }
                        }
                    }
                    _ => {
                        let us = &mut lanes.gathered[..p.uniforms];
                        for (lane, v) in values.iter_mut().enumerate() {
                            for (k, u) in us.iter_mut().enumerate() {
                                *u = lanes.uniforms[(p.offset + k) * width + lane];
                            }
                            *v = p.quantile.value(us);
                        }
                    }
                },
            }
        }
        // `Sampler::hold_values`, which `draw_outcomes` applies before the model.
        for h in &self.sampler.holds {
            if let Hold::Value { param, value } = *h {
                lanes.values[param * width..][..n].fill(value);
            }
        }
        for (lane, t) in trials.iter_mut().enumerate() {
            for &p in &lanes.per_trial {
                t.values[p] = lanes.values[p * width + lane];
            }
        }
    }

    /// `observe` of metric `m` for every trial of the block, segment by segment: from
    /// each trial's uniforms of the segment's stream, drawn before the model
    /// (`draw_observation_uniforms`: the gamma mixing draw first, for negative binomial
    /// noise), for the whole block the gamma mixing variates
    /// (`GammaUnit::fill`, the table lookups overlapping) and the normal quantiles the
    /// Poisson and binomial inverses start from (`normal_quantile_each`, vectorised),
    /// then each trial's count from those.
    #[inline(always)]
    fn observe_block(&self, m: usize, trials: &mut [Trial], lanes: &mut Lanes) {
        let metric = &self.metrics[m];
        let (width, n) = (lanes.lanes, trials.len());
        let first_segment = lanes.segment_first[m];
        for (si, seg) in metric.segments.iter().enumerate() {
            let column = (first_segment + si) * width..(first_segment + si) * width + n;
            if !seg.observed {
                lanes.observed[column].fill(0.0);
                for t in trials.iter_mut() {
                    t.segment_observed[m][si] = 0.0;
                }
                continue;
            }
            let expected = &lanes.expected[column.clone()];
            let gamma = metric.gamma.as_ref();
            let gamma = gamma.filter(|_| metric.kind == MetricKind::Count);
            // The segment's uniforms, drawn by `draw_observation_uniforms`.
            let at = 2 * (first_segment + si) * width;
            let (mixings, counts) = lanes.observations[at..at + 2 * width].split_at(width);
            let (mixings, counts) = (&mixings[..n], &counts[..n]);
            let uses_normal = match metric.kind {
                MetricKind::Count => true,
                // Only a block with some trial past the sequential search's bound.
                MetricKind::Proportion => {
                    binomial_uses_normal(seg.people)
                        && expected
                            .iter()
                            .any(|&p| binomial_needs_normal(seg.people, p.clamp(0.0, 1.0)))
                }
            };
            if uses_normal {
                let w = &mut lanes.value[..n];
                normal_quantile_each(w, |i| observation_normal_input(counts[i]));
            }
            let each = lanes.value.iter().zip(counts);
            match (metric.kind, gamma) {
                (MetricKind::Count, gamma) => {
                    // Each trial's mean into `mu`, then its count in its place.
                    let lambdas = &mut lanes.mu[..n];
                    if let Some((k, gamma)) = gamma {
                        gamma.fill(mixings, lambdas);
                        for (lambda, &expected) in lambdas.iter_mut().zip(expected) {
                            *lambda = (*lambda * expected / k).max(0.0);
                        }
                    } else {
                        for (lambda, &expected) in lambdas.iter_mut().zip(expected) {
                            *lambda = expected.max(0.0);
                        }
                    }
                    poisson_quantile_given_each(lambdas, counts, &lanes.value[..n]);
                    let observed = &mut lanes.observed[column];
                    observed.copy_from_slice(lambdas);
                    for (&count, t) in observed.iter().zip(trials.iter_mut()) {
                        t.segment_observed[m][si] = count;
                    }
                }
                (MetricKind::Proportion, _) => {
                    let observed = lanes.observed[column].iter_mut().zip(expected);
                    for (((&w, &u), t), (observed, &p)) in each.zip(trials.iter_mut()).zip(observed)
                    {
                        let count = binomial_quantile_given(seg.people, p.clamp(0.0, 1.0), u, w);
                        *observed = count as f64;
                        t.segment_observed[m][si] = count as f64;
                    }
                }
            }
        }
    }

    /// Each trial's effects of metric `m` at full ramp (`full_effect`), effect by effect
    /// into the `full` columns. The schemes' avoided activity of the metric is set at the
    /// end (to the attributed sum: 0 plus the sum, as a scheme has at most one effect on
    /// a metric, is the sum itself, which is never -0.0).
    ///
    /// A scheme whose scale is a fixed 1 (no `scale`, or `scale = 1`), which no hold
    /// moves, takes `full_effect`'s branch for a scale of 1 in every trial: its scale is
    /// not read.
    #[inline(always)]
    fn full_effects_block(&self, m: usize, trials: &[Trial], lanes: &mut Lanes) {
        let (width, n) = (lanes.lanes, trials.len());
        for (j, &(s, change)) in self.metrics[m].effects.iter().enumerate() {
            let scheme = &self.schemes[s];
            let delivery = scheme.delivery;
            let changes = lanes.values[change * width..][..n].iter().zip(trials);
            let full = lanes.full[j * width..][..n].iter_mut().zip(changes);
            if self.fixed_at_one(scheme.scale) {
                for (full, (&change, t)) in full {
                    // `full_effect` with a factor of 1.
                    *full = if t.occurs[delivery] {
                        (change * 1.0).clamp(-10.0, 1.0)
                    } else {
                        0.0
                    };
                }
            } else {
                let scales = lanes.values[scheme.scale * width..][..n].iter();
                let returns = lanes.values[scheme.returns * width..][..n].iter();
                for ((full, (&change, t)), (&scale, &returns)) in full.zip(scales.zip(returns)) {
                    *full = full_effect_of(t.occurs[delivery], scale, returns, change);
                }
            }
        }
    }

    /// `draw_outcomes` of every trial of the block. Where no parameter's value is held
    /// and every outcome's probability is fixed (a plan's usual case), from each
    /// outcome's threshold `1 - probability`, worked out once (`Lanes::new`).
    #[inline(always)]
    fn outcomes_block(&self, trials: &mut [Trial], lanes: &Lanes) {
        let Some(thresholds) = &lanes.thresholds else {
            trials.iter_mut().for_each(|t| self.draw_outcomes(t));
            return;
        };
        for t in trials.iter_mut() {
            let each = t.occurs.iter_mut().zip(&t.outcome_uniforms);
            for ((occurs, &u), &threshold) in each.zip(thresholds) {
                *occurs = u >= threshold;
            }
            self.sampler.hold_outcomes(&mut t.occurs);
        }
    }

    /// Whether parameter `p` is 1 in every trial: fixed at 1 and not held.
    #[inline(always)]
    fn fixed_at_one(&self, p: usize) -> bool {
        self.params[p].fixed == Some(1.0)
            && !(self.sampler.holds.iter())
                .any(|h| matches!(*h, Hold::Value { param, .. } if param == p))
    }

    /// `metric_activity` of count metric `m` for every trial of the block.
    #[inline(always)]
    fn count_activity_block(&self, m: usize, trials: &mut [Trial], lanes: &mut Lanes) {
        let metric = &self.metrics[m];
        let n = trials.len();
        let width = lanes.lanes;
        let effects = metric.effects.len();
        // Each trial's full effects, their weights, and its growth.
        self.full_effects_block(m, trials, lanes);
        let levels = lanes.values[metric.level * width..][..n].iter();
        let growths = lanes.values[metric.growth * width..][..n].iter();
        let steps = lanes.step[..n].iter_mut().zip(&mut lanes.factor[..n]);
        for ((step, factor), (&level, &growth)) in steps.zip(levels.zip(growths)) {
            (*step, *factor) = growth_steps(level.max(0.0), growth);
        }
        for j in 0..effects {
            let column = j * width..j * width + n;
            weights(&lanes.full[column.clone()], &mut lanes.full_weight[column]);
        }
        // Whether every lane's full effects are numbers (always, short of a NaN
        // parameter): then an effect at ramp 0 is skipped (`ramp_state_block`).
        let (nan, at_one) = (lanes.full[..effects * width].chunks_exact(width)).fold(
            (false, false),
            |flags, column| {
                (column[..n].iter()).fold(flags, |(nan, at_one), &f| {
                    (nan | f.is_nan(), at_one | (f >= 1.0))
                })
            },
        );
        let skip_zero = !nan;
        let first = lanes.segment_first[m] * width;
        lanes.expected[first..][..metric.segments.len() * width].fill(0.0);
        lanes.sums[..effects * width].fill(0.0);
        lanes.avoided[..n].fill(0.0);
        for (b, block) in metric.blocks.iter().enumerate() {
            let ramps = metric.ramps_of_block(b);
            // Some lane can have an effect at `e >= 1` (the `Full` rule) only if some full
            // effect is (`e = full x ramp`, at most `full` for a ramp in [0, 1], and at
            // most 0 for a negative `full`): otherwise the largest effects are not kept.
            let full = at_one || ramps.iter().any(|r| !(0.0..=1.0).contains(r));
            if block.new_ramps {
                ramp_state_block(ramps, skip_zero, full, n, lanes);
            }
            let bases = &metric.month_base[block.from..=block.to];
            let expected = &mut lanes.expected[first + block.segment * width..][..n];
            let (avoided, mu) = (&mut lanes.avoided[..n], &mut lanes.mu[..n]);
            let (factor, step, keep) = (&mut lanes.factor[..n], &lanes.step[..n], &lanes.keep[..n]);
            match bases {
                &[base] => one_month(base, expected, avoided, mu, factor, step, keep),
                _ => {
                    months(bases, mu, factor, step);
                    reduce(expected, avoided, mu, keep);
                }
            }
            if effects > 0 {
                attribute_block(ramps, skip_zero, full, n, lanes);
            }
        }
        for (i, t) in trials.iter_mut().enumerate() {
            for (s, expected) in t.segment_expected[m].iter_mut().enumerate() {
                *expected = lanes.expected[first + s * width + i];
            }
            t.metric_avoided[m] = lanes.avoided[i];
        }
        lanes.keep_attributed(m, effects, n, self);
    }
}

impl Model {
    /// `metric_activity` of proportion metric `m` for every trial of the block: per ramp
    /// block, each trial's effects and their sum (when the ramps change), its proportion
    /// `p = clamp(p0 + total)`, the people it gains, and their attribution to each
    /// effect by `gained x e / total`, unless the total or the gain is 0 (a select: such
    /// a lane adds +0.0). The attribution is summed per effect and added to the scheme's
    /// avoided activity at the end, where the trial adds each block's share straight
    /// into it: the same sums, as a scheme has at most one effect on a metric.
    #[inline(always)]
    fn proportion_activity_block(&self, m: usize, trials: &mut [Trial], lanes: &mut Lanes) {
        let metric = &self.metrics[m];
        let n = trials.len();
        let width = lanes.lanes;
        let effects = metric.effects.len();
        self.full_effects_block(m, trials, lanes);
        let levels = lanes.values[metric.level * width..][..n].iter();
        for (p0, &level) in lanes.factor[..n].iter_mut().zip(levels) {
            *p0 = (metric.baseline * level.max(0.0)).clamp(0.0, 1.0);
        }
        let first = lanes.segment_first[m] * width;
        lanes.expected[first..][..metric.segments.len() * width].fill(0.0);
        lanes.sums[..effects * width].fill(0.0);
        lanes.avoided[..n].fill(0.0);
        lanes.total[..n].fill(0.0);
        for (b, block) in metric.blocks.iter().enumerate() {
            let total = &mut lanes.total[..n];
            if block.new_ramps {
                total.fill(0.0);
                for (j, &ramp) in metric.ramps_of_block(b).iter().enumerate() {
                    let column = j * width..j * width + n;
                    let each = lanes.effect[column.clone()]
                        .iter_mut()
                        .zip(total.iter_mut());
                    for ((e_out, total), &f) in each.zip(&lanes.full[column]) {
                        let e = f * ramp;
                        *e_out = e;
                        *total += e;
                    }
                }
            }
            let people = metric.block_people[b];
            let expected = &mut lanes.expected[first + block.segment * width..][..n];
            let each = expected.iter_mut().zip(&mut lanes.avoided[..n]);
            let gains = lanes.mu[..n].iter_mut().zip(&mut lanes.by_weight[..n]);
            let mut any = false;
            for (((expected, avoided), (gained, attributed)), (&p0, &total)) in
                each.zip(gains).zip(lanes.factor[..n].iter().zip(&*total))
            {
                let p = (p0 + total).clamp(0.0, 1.0);
                // Summed success per segment; divided by its cohort below.
                *expected += people * p;
                let gain = people * (p - p0);
                *avoided += gain;
                *gained = gain;
                let attributable = (total != 0.0) & (gain != 0.0);
                any |= attributable;
                *attributed = if attributable { 1.0 } else { 0.0 };
            }
            if !any {
                continue;
            }
            for j in 0..effects {
                let column = j * width..j * width + n;
                let each = lanes.sums[column.clone()]
                    .iter_mut()
                    .zip(&lanes.effect[column]);
                let rules = lanes.mu[..n].iter().zip(&lanes.by_weight[..n]);
                for (((sum, &e), (&gain, &attributed)), &total) in
                    each.zip(rules).zip(&lanes.total[..n])
                {
                    let share = gain * e / total;
                    *sum += if attributed != 0.0 { share } else { 0.0 };
                }
            }
        }
        for (s, seg) in metric.segments.iter().enumerate() {
            let expected = &mut lanes.expected[first + s * width..][..n];
            let each = expected.iter_mut().zip(&lanes.factor[..n]);
            for (t, (expected, &p0)) in trials.iter_mut().zip(each) {
                *expected = if seg.cohort_sum > 0.0 {
                    *expected / seg.cohort_sum
                } else {
                    p0
                };
                t.segment_expected[m][s] = *expected;
            }
        }
        for (i, t) in trials.iter_mut().enumerate() {
            t.metric_avoided[m] = lanes.avoided[i];
        }
        lanes.keep_attributed(m, effects, n, self);
    }
}

/// `x` in whole pence half-even (`round_ties_even_i64_below_2_51`), and the same as an
/// `f64` (what `as f64` of the whole pence gives): right for `|x| < 2^51`, and some value
/// (without a panic) otherwise, which the caller drops.
#[inline(always)]
fn shifted_whole_pence(x: f64) -> (i64, f64) {
    const SHIFT: f64 = 6_755_399_441_055_744.0;
    let shifted = x + SHIFT;
    let whole = (shifted.to_bits() as i64).wrapping_sub(SHIFT.to_bits() as i64);
    (whole, shifted - SHIFT)
}

/// `Iterator::sum` in each lane of `sums` over `columns`' columns `segments` (each
/// `width` apart), each term the column's value, or `scale(s) x value` where `scale`
/// gives one: the same additions in the same order as `sum` in `windows` (one term:
/// `std::iter::once(x).sum()`) and `Iterator::sum` of the terms (the fold from the empty
/// sum's value), so the same result to the bit.
#[inline(always)]
fn sum_columns(
    sums: &mut [f64],
    columns: &[f64],
    segments: std::ops::Range<usize>,
    width: usize,
    scale: impl Fn(usize) -> Option<f64>,
) {
    let n = sums.len();
    let start: f64 = std::iter::empty::<f64>().sum();
    sums.fill(start);
    for s in segments {
        let column = &columns[s * width..][..n];
        match scale(s) {
            None => {
                for (sum, &x) in sums.iter_mut().zip(column) {
                    *sum += x;
                }
            }
            Some(k) => {
                for (sum, &x) in sums.iter_mut().zip(column) {
                    *sum += k * x;
                }
            }
        }
    }
}

/// `savings += avoided x cost x 100` in each lane.
#[inline]
fn add_savings(savings: &mut [f64], avoided: &[f64], cost: &[f64]) {
    let n = savings.len();
    let (avoided, cost) = (&avoided[..n], &cost[..n]);
    for ((savings, &avoided), &cost) in savings.iter_mut().zip(avoided).zip(cost) {
        *savings += avoided * cost * 100.0;
    }
}

/// `ramp_state` of block `b` (its `ramps`) for the first `n` lanes: each effect
/// `e = full x ramp`, the product `keep` of `(1 - e)`, the largest effect (some effect is
/// at `e >= 1` exactly when it is; `attribute_block` counts them only then) and (for two
/// or more effects) the weights and their sum, in the same order of operations, each
/// effect's in one pass.
///
/// The largest effects are kept only if `full` (some lane may have an effect at
/// `e >= 1`); `attribute_block`, given the same `full`, reads them only then. A weight
/// is stored only for an effect whose ramp is neither 0 nor 1 (the others' are the
/// full-ramp weight and the effect itself, where `attribute_block` reads them). With
/// `skip_zero` (every lane's full effects are numbers) an effect at ramp 0 is skipped:
/// its `e` is a zero, which leaves `keep` and a nonzero total as they are (a zero total,
/// of either sign, is not usable), and is never the largest effect that counts (`>= 1`).
/// `attribute_block` skips it likewise.
#[inline(always)]
fn ramp_state_block(ramps: &[f64], skip_zero: bool, full: bool, n: usize, lanes: &mut Lanes) {
    if full {
        ramp_state_lanes::<true>(ramps, skip_zero, n, lanes);
    } else {
        ramp_state_lanes::<false>(ramps, skip_zero, n, lanes);
    }
}

/// `ramp_state_block`, the largest effects kept only if `FULL`.
#[inline(always)]
fn ramp_state_lanes<const FULL: bool>(ramps: &[f64], skip_zero: bool, n: usize, lanes: &mut Lanes) {
    let width = lanes.lanes;
    let keep = &mut lanes.keep[..n];
    let largest = &mut lanes.largest[..n];
    let total = &mut lanes.total[..n];
    keep.fill(1.0);
    if FULL {
        largest.fill(f64::NEG_INFINITY);
    }
    // The sum of the weights in effect order, as `Iterator::sum` adds them.
    total.fill(-0.0);
    for (j, &ramp) in ramps.iter().enumerate() {
        if skip_zero && ramp == 0.0 {
            continue;
        }
        let column = j * width..j * width + n;
        let full = &lanes.full[column.clone()];
        let effect = &mut lanes.effect[column.clone()];
        if ramps.len() == 1 {
            // One effect takes all the avoided activity: it needs no weight.
            single_pass::<FULL>(ramp, full, effect, keep, largest);
        } else if ramp == 1.0 {
            // The weight of `e = full` is the trial's full-ramp weight.
            known_pass::<FULL>(
                ramp,
                full,
                &lanes.full_weight[column],
                effect,
                keep,
                largest,
                total,
            );
        } else if ramp == 0.0 {
            // `e = full x 0` is a zero, its own weight (or NaN from a NaN full effect,
            // whose weight is NaN as well).
            zero_pass::<FULL>(ramp, full, effect, keep, largest, total);
        } else {
            let weight = &mut lanes.weight[column];
            let before = &mut lanes.share[..n];
            series_pass::<FULL>(ramp, full, effect, keep, largest, weight, total, before);
        }
    }
}

/// A ramp block's expected activity (`mu x keep`) and avoided activity
/// (`mu x (1 - keep)`) in each lane, added to the segment's and the metric's; the
/// avoided activity replaces `mu`, standing in for the activity in `attribute_block`.
#[inline]
fn reduce(expected: &mut [f64], avoided: &mut [f64], mu: &mut [f64], keep: &[f64]) {
    let n = expected.len();
    let (avoided, mu, keep) = (&mut avoided[..n], &mut mu[..n], &keep[..n]);
    let each = expected.iter_mut().zip(avoided.iter_mut());
    for ((expected, avoided), (mu, &keep)) in each.zip(mu.iter_mut().zip(keep)) {
        *expected += *mu * keep;
        let reduction = *mu * (1.0 - keep);
        *avoided += reduction;
        *mu = reduction;
    }
}

/// [`months`] then [`reduce`] for a ramp block of one month, in one pass: `mu` is
/// `0 + base x factor`.
#[inline]
fn one_month(
    base: f64,
    expected: &mut [f64],
    avoided: &mut [f64],
    mu: &mut [f64],
    factor: &mut [f64],
    step: &[f64],
    keep: &[f64],
) {
    let n = expected.len();
    let (avoided, mu, keep) = (&mut avoided[..n], &mut mu[..n], &keep[..n]);
    let (factor, step) = (&mut factor[..n], &step[..n]);
    let each = expected.iter_mut().zip(avoided.iter_mut());
    let growth = factor.iter_mut().zip(step);
    for (((expected, avoided), (mu, &keep)), (factor, &step)) in
        each.zip(mu.iter_mut().zip(keep)).zip(growth)
    {
        let activity = 0.0 + base * *factor;
        *factor *= step;
        *expected += activity * keep;
        let reduction = activity * (1.0 - keep);
        *avoided += reduction;
        *mu = reduction;
    }
}

/// A ramp block's activity in each lane, over two or more months: `mu`, from 0, adds
/// `base x factor` month by month, the factor growing by `step` after each. Four lanes
/// at a time with the months innermost, so a lane's `mu` and factor stay in registers
/// from month to month (the same operations in the same order in each lane).
#[inline(always)]
fn months(bases: &[f64], mu: &mut [f64], factor: &mut [f64], step: &[f64]) {
    let n = mu.len();
    let (factor, step) = (&mut factor[..n], &step[..n]);
    let fours = mu.chunks_exact_mut(4).zip(factor.chunks_exact_mut(4));
    for ((mu, factor), step) in fours.zip(step.chunks_exact(4)) {
        let mut m = [0.0f64; 4];
        let mut f = [factor[0], factor[1], factor[2], factor[3]];
        let s = [step[0], step[1], step[2], step[3]];
        for &base in bases {
            for k in 0..4 {
                m[k] += base * f[k];
                f[k] *= s[k];
            }
        }
        mu.copy_from_slice(&m);
        factor.copy_from_slice(&f);
    }
    let rest = n - n % 4;
    let each = mu[rest..].iter_mut().zip(&mut factor[rest..]);
    for ((mu, factor), &step) in each.zip(&step[rest..]) {
        *mu = 0.0;
        for &base in bases {
            *mu += base * *factor;
            *factor *= step;
        }
    }
}

// The passes of `ramp_state_block` over the lanes of one effect, each a function of its
// own: its slices, as parameters, are known not to overlap, so the vectorised loop needs
// no run-time overlap checks. Each lane: `e = full x ramp`, `keep *= 1 - e`, the largest
// `e` (a NaN effect is never the largest, as it is never at `e >= 1`), and the weight
// added to the total.

/// One lane of a pass: `e = full x ramp` (returned and stored), `keep *= 1 - e`, and the
/// largest `e` if `FULL`.
#[inline(always)]
fn ramp_lane<const FULL: bool>(
    f: f64,
    ramp: f64,
    e_out: &mut f64,
    keep: &mut f64,
    largest: &mut f64,
) -> f64 {
    let e = f * ramp;
    *e_out = e;
    *keep *= 1.0 - e;
    if FULL {
        *largest = if e > *largest { e } else { *largest };
    }
    e
}

/// A metric's only effect: no weight.
#[inline]
fn single_pass<const FULL: bool>(
    ramp: f64,
    full: &[f64],
    effect: &mut [f64],
    keep: &mut [f64],
    largest: &mut [f64],
) {
    let n = full.len();
    let (effect, keep, largest) = (&mut effect[..n], &mut keep[..n], &mut largest[..n]);
    let state = effect
        .iter_mut()
        .zip(keep.iter_mut().zip(largest.iter_mut()));
    for ((e_out, (keep, largest)), &f) in state.zip(full) {
        ramp_lane::<FULL>(f, ramp, e_out, keep, largest);
    }
}

/// Ramp 1: the weight is the full-ramp weight `known`, which stays where it is.
#[inline]
fn known_pass<const FULL: bool>(
    ramp: f64,
    full: &[f64],
    known: &[f64],
    effect: &mut [f64],
    keep: &mut [f64],
    largest: &mut [f64],
    total: &mut [f64],
) {
    let n = full.len();
    let (known, effect, keep) = (&known[..n], &mut effect[..n], &mut keep[..n]);
    let (largest, total) = (&mut largest[..n], &mut total[..n]);
    let state = effect
        .iter_mut()
        .zip(keep.iter_mut().zip(largest.iter_mut()));
    let weights = full.iter().zip(known).zip(total.iter_mut());
    for ((e_out, (keep, largest)), ((&f, &w), total)) in state.zip(weights) {
        ramp_lane::<FULL>(f, ramp, e_out, keep, largest);
        *total += w;
    }
}

/// Ramp 0: the weight is `e` itself.
#[inline]
fn zero_pass<const FULL: bool>(
    ramp: f64,
    full: &[f64],
    effect: &mut [f64],
    keep: &mut [f64],
    largest: &mut [f64],
    total: &mut [f64],
) {
    let n = full.len();
    let (effect, keep) = (&mut effect[..n], &mut keep[..n]);
    let (largest, total) = (&mut largest[..n], &mut total[..n]);
    let state = effect
        .iter_mut()
        .zip(keep.iter_mut().zip(largest.iter_mut()));
    for ((e_out, (keep, largest)), (&f, total)) in state.zip(full.iter().zip(total.iter_mut())) {
        let e = ramp_lane::<FULL>(f, ramp, e_out, keep, largest);
        *total += e;
    }
}

/// Any other ramp: `neg_ln_1m_nonzero` of each effect, by the series in every lane,
/// added to the total (the total before it kept in `before`); then, if some lane is
/// outside the series' range, by the logarithm there, added to the total before instead.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn series_pass<const FULL: bool>(
    ramp: f64,
    full: &[f64],
    effect: &mut [f64],
    keep: &mut [f64],
    largest: &mut [f64],
    weight: &mut [f64],
    total: &mut [f64],
    before: &mut [f64],
) {
    let n = full.len();
    let (effect, keep, largest) = (&mut effect[..n], &mut keep[..n], &mut largest[..n]);
    let (weight, total, before) = (&mut weight[..n], &mut total[..n], &mut before[..n]);
    let state = effect
        .iter_mut()
        .zip(keep.iter_mut().zip(largest.iter_mut()));
    let sums = weight
        .iter_mut()
        .zip(total.iter_mut().zip(before.iter_mut()));
    let mut outside = false;
    for ((e_out, (keep, largest)), ((w_out, (total, before)), &f)) in state.zip(sums.zip(full)) {
        let e = ramp_lane::<FULL>(f, ramp, e_out, keep, largest);
        let s = e / (2.0 - e);
        let w = twice_atanh_series(s);
        outside |= !in_series_range(s);
        *w_out = w;
        *before = *total;
        *total += w;
    }
    if outside {
        let sums = weight.iter_mut().zip(total.iter_mut().zip(&*before));
        for ((w, (total, &before)), &e) in sums.zip(&*effect) {
            if !in_series_range(e / (2.0 - e)) {
                *w = neg_ln_1m_nonzero(e);
                *total = before + *w;
            }
        }
    }
}

/// `neg_ln_1m_nonzero` of each effect: the series for every lane in one pass (it gives
/// a zero effect's own zero), then, if some lane is outside the series' range, the
/// logarithm for those lanes.
fn weights(effect: &[f64], weight: &mut [f64]) {
    let mut outside = false;
    for (w, &e) in weight.iter_mut().zip(effect) {
        let s = e / (2.0 - e);
        *w = twice_atanh_series(s);
        outside |= !in_series_range(s);
    }
    if outside {
        for (w, &e) in weight.iter_mut().zip(effect) {
            if !in_series_range(e / (2.0 - e)) {
                *w = neg_ln_1m_nonzero(e);
            }
        }
    }
}

/// `attribute_count` for the first `n` lanes, whose reductions are in `lanes.mu`: the
/// rule of each lane's ramp state (`Full` if some effect is at `e >= 1`; else all to the
/// only effect; else by weight, unless the weights sum to nothing) chosen per lane, then
/// added effect by effect (each effect at its `ramps` entry). A lane given nothing adds
/// +0.0, which leaves a sum unchanged (a sum starts at +0.0, so is never -0.0); the
/// trial-by-trial path adds nothing there.
///
/// The per-lane choices are selects, not branches, so the loops vectorise: a quotient a
/// lane's rule does not use is worked out and dropped. The `Full` rule (an effect at
/// `e >= 1`, rare) is looked for only if `full` (some lane may have it), and its shares
/// worked out only when some lane of the block has it.
///
/// With `skip_zero` (as `ramp_state_block` took it), an effect at ramp 0 adds
/// `per_weight x (a zero)`, or a zero for `Full`: nothing, as long as every lane's
/// `per_weight` is finite, and is skipped; otherwise its `e` (and so its weight) is
/// worked out here and it is added like the others.
#[inline(always)]
fn attribute_block(ramps: &[f64], skip_zero: bool, full: bool, n: usize, lanes: &mut Lanes) {
    let width = lanes.lanes;
    let effects = ramps.len();
    let single = effects == 1;
    let zeros = skip_zero && ramps.contains(&0.0);
    if zeros && !single && ramps.iter().all(|&r| r == 0.0) {
        // No effect left: the total is -0.0, no lane is by weight or `Full`.
        return;
    }
    let (mu, total, largest) = (&lanes.mu[..n], &lanes.total[..n], &lanes.largest[..n]);
    let (by_weight, per_weight) = (&mut lanes.by_weight[..n], &mut lanes.per_weight[..n]);
    let any_full = match (single, full) {
        (true, true) => single_rules::<true>(mu, largest, by_weight, per_weight),
        (true, false) => single_rules::<false>(mu, largest, by_weight, per_weight),
        (false, true) => weight_rules::<true>(mu, total, largest, by_weight, per_weight),
        (false, false) => weight_rules::<false>(mu, total, largest, by_weight, per_weight),
    };
    let mut skip_zero = skip_zero;
    if zeros {
        let finite =
            (lanes.per_weight[..n].iter()).fold(true, |all, &p| all & (p.abs() <= f64::MAX));
        if !finite {
            // Rare: the effects at ramp 0 are added after all.
            skip_zero = false;
            for (j, &ramp) in ramps.iter().enumerate() {
                if ramp == 0.0 {
                    let column = j * width..j * width + n;
                    let each = lanes.effect[column.clone()].iter_mut();
                    for (e, &f) in each.zip(&lanes.full[column]) {
                        *e = f * ramp;
                    }
                }
            }
        }
    }
    if any_full {
        // Each lane's count of effects at `e >= 1`, then the share of each of them.
        let share = &mut lanes.share[..n];
        share.fill(0.0);
        for (j, &ramp) in ramps.iter().enumerate() {
            if skip_zero && ramp == 0.0 {
                continue;
            }
            for (count, &e) in share.iter_mut().zip(&lanes.effect[j * width..][..n]) {
                *count += if e >= 1.0 { 1.0 } else { 0.0 };
            }
        }
        for (share, &reduction) in share.iter_mut().zip(&lanes.mu[..n]) {
            *share = if *share > 0.0 {
                reduction / *share
            } else {
                0.0
            };
        }
    }
    for (j, &ramp) in ramps.iter().enumerate() {
        if skip_zero && ramp == 0.0 {
            continue;
        }
        let column = j * width..j * width + n;
        // A single effect's weight is 1: `reduction x 1` is the reduction itself.
        // At ramp 1 the full-ramp weight, at ramp 0 the effect itself (a zero, or a
        // NaN), otherwise the weight `ramp_state_block` stored.
        let weight = if single {
            &lanes.ones[..n]
        } else if ramp == 1.0 {
            &lanes.full_weight[column.clone()]
        } else if ramp == 0.0 {
            &lanes.effect[column.clone()]
        } else {
            &lanes.weight[column.clone()]
        };
        let (by_weight, per_weight) = (&lanes.by_weight[..n], &lanes.per_weight[..n]);
        let sums = &mut lanes.sums[column.clone()];
        if any_full {
            let (effect, share) = (&lanes.effect[column], &lanes.share[..n]);
            add_full(sums, effect, weight, by_weight, per_weight, share);
        } else if skip_zero {
            // No lane is `Full` and no effect is NaN: every weight is finite (each
            // `e < 1`), so a lane not by weight, whose `per_weight` is 0, adds a zero.
            add_products(sums, weight, per_weight);
        } else {
            add_weighed(sums, weight, by_weight, per_weight);
        }
    }
}

// The loops of `attribute_block`, each a function of its own so that its slices, as
// parameters, are known not to overlap (no run-time overlap checks).

/// A single effect's rule per lane (`Full` or all to it); whether some lane is `Full`.
#[inline]
fn single_rules<const FULL: bool>(
    mu: &[f64],
    largest: &[f64],
    by_weight: &mut [f64],
    per_weight: &mut [f64],
) -> bool {
    let n = mu.len();
    let (largest, by_weight, per_weight) =
        (&largest[..n], &mut by_weight[..n], &mut per_weight[..n]);
    let mut any_full = false;
    let each = mu
        .iter()
        .zip(largest)
        .zip(by_weight.iter_mut().zip(per_weight.iter_mut()));
    for ((&reduction, &largest), (by_weight, per_weight)) in each {
        let full = FULL && largest >= 1.0;
        any_full |= full;
        *by_weight = if full { 0.0 } else { 1.0 };
        *per_weight = if full { 0.0 } else { reduction };
    }
    any_full
}

/// Two or more effects' rule per lane (`Full`, by weight, or nothing); whether some lane
/// is `Full`.
#[inline]
fn weight_rules<const FULL: bool>(
    mu: &[f64],
    total: &[f64],
    largest: &[f64],
    by_weight: &mut [f64],
    per_weight: &mut [f64],
) -> bool {
    let n = mu.len();
    let (total, largest) = (&total[..n], &largest[..n]);
    let (by_weight, per_weight) = (&mut by_weight[..n], &mut per_weight[..n]);
    let mut any_full = false;
    let rules = mu.iter().zip(total).zip(largest);
    for (((&reduction, &total), &largest), (by_weight, per_weight)) in
        rules.zip(by_weight.iter_mut().zip(per_weight.iter_mut()))
    {
        // Not `total.abs() < 1e-300 || !total.is_finite()` (which includes NaN);
        // finite as `<= f64::MAX`, one comparison of doubles.
        let usable = (1e-300..=f64::MAX).contains(&total.abs());
        let full = FULL && largest >= 1.0;
        any_full |= full;
        let weighed = !full & usable;
        *by_weight = if weighed { 1.0 } else { 0.0 };
        let quotient = reduction / total;
        *per_weight = if weighed { quotient } else { 0.0 };
    }
    any_full
}

/// One effect's attribution where some lane is `Full`: its share there if the effect is
/// at `e >= 1`, `per_weight x w` in a lane by weight.
#[inline]
fn add_full(
    sums: &mut [f64],
    effect: &[f64],
    weight: &[f64],
    by_weight: &[f64],
    per_weight: &[f64],
    share: &[f64],
) {
    let n = sums.len();
    let (effect, weight, by_weight) = (&effect[..n], &weight[..n], &by_weight[..n]);
    let (per_weight, share) = (&per_weight[..n], &share[..n]);
    let rules = by_weight.iter().zip(per_weight).zip(share);
    let each = sums.iter_mut().zip(effect).zip(weight);
    for (((sum, &e), &w), ((&by_weight, &per_weight), &share)) in each.zip(rules) {
        let full = if e >= 1.0 { share } else { 0.0 };
        *sum += if by_weight != 0.0 {
            per_weight * w
        } else {
            full
        };
    }
}

/// [`add_weighed`] where every weight is finite: `per_weight x w` in every lane (a
/// zero where `per_weight` is 0).
#[inline]
fn add_products(sums: &mut [f64], weight: &[f64], per_weight: &[f64]) {
    let n = sums.len();
    let (weight, per_weight) = (&weight[..n], &per_weight[..n]);
    for ((sum, &w), &per_weight) in sums.iter_mut().zip(weight).zip(per_weight) {
        *sum += per_weight * w;
    }
}

/// One effect's attribution where no lane is `Full`: `per_weight x w` in a lane by
/// weight, +0.0 in any other.
#[inline]
fn add_weighed(sums: &mut [f64], weight: &[f64], by_weight: &[f64], per_weight: &[f64]) {
    let n = sums.len();
    let (weight, by_weight, per_weight) = (&weight[..n], &by_weight[..n], &per_weight[..n]);
    let rules = by_weight.iter().zip(per_weight);
    for ((sum, &w), (&by_weight, &per_weight)) in sums.iter_mut().zip(weight).zip(rules) {
        let weighed = per_weight * w;
        *sum += if by_weight != 0.0 { weighed } else { 0.0 };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A trial's results through `Debug`, which writes every float to the last bit and
    /// NaN as NaN: every field up to the scratch space, which `Trial` declares last and
    /// the block path does not use.
    fn results(t: &Trial) -> String {
        // A trial's own uniforms are inputs the block path leaves in its lanes' columns.
        let mut t = t.clone();
        t.uniforms.clear();
        let all = format!("{t:?}");
        let end = all
            .find(", effect_scratch:")
            .expect("scratch declared last");
        all[..end].to_string()
    }

    /// Blocks of every size up to the lanes' give each trial of `model` exactly what
    /// `Model::simulate` gives it.
    fn assert_blocks_equal(what: &str, model: &Model) {
        let mut lanes = Lanes::new(model, 32);
        let mut block = vec![Trial::new(model); 32];
        let mut single = Trial::new(model);
        let read = params_read_per_trial(model);
        let mut first = 0;
        for size in [32, 1, 7, 32, 31, 2, 32] {
            model.simulate_block(first, &mut block[..size], &mut lanes);
            for (i, t) in block[..size].iter().enumerate() {
                model.simulate(first + i as u64, &mut single);
                // The values the trial-by-trial code reads are in the trial; all of them
                // are in the lanes' columns.
                for &p in &read {
                    let (want, got) = (single.values[p], t.values[p]);
                    assert_eq!(want.to_bits(), got.to_bits(), "{what} parameter {p}");
                }
                // So is everything else, which `complete_trial` puts in the trial.
                let mut t = t.clone();
                model.complete_trial(&lanes, i, &mut t);
                assert_eq!(
                    results(&single),
                    results(&t),
                    "{what} trial {}",
                    first + i as u64
                );
            }
            first += size as u64;
        }
    }

    /// The block path against the trial-by-trial path on every shipped scenario.
    #[test]
    fn blocks_equal_trial_by_trial() {
        for (path, model) in crate::model::shipped_models() {
            assert_blocks_equal(&path.display().to_string(), &model);
        }
    }

    /// The same for a plan with no metrics and no schemes, only events (the lanes have no
    /// savings columns): a block of several trials once ran past their end.
    #[test]
    fn blocks_equal_trial_by_trial_without_metrics_or_schemes() {
        let text = "[scenario]\nname = \"events\"\nstart = \"2015-04\"\nmonths = 12\n\
                    [partners]\nnhs = {}\ncouncil = {}\n\
                    [fund]\npot = \"1000\"\nreleased_to = { council = 1.0 }\n\
                    unreleased_to = { nhs = 1.0 }\n\
                    [[tranche]]\nid = \"a\"\nshare = \"1\"\n\
                    [[tranche.condition]]\nevent = \"e1\"\nprobability = 0.5\n";
        let loaded = crate::scenario::load_str("events.toml", text, &[]).expect("valid");
        let model = crate::model::compile(&loaded.scenario, 7).expect("compiles");
        assert!(model.metrics.is_empty() && model.schemes.is_empty());
        assert_blocks_equal("events only", &model);
    }

    /// The same with a sampler that holds values and outcomes (a drawn parameter's, a
    /// fixed one's, and every scheme's cost overrun, which the money reads from the
    /// lanes' columns): the held values reach the lanes' columns and the trials.
    #[test]
    fn blocks_equal_trial_by_trial_with_holds() {
        for (path, mut model) in crate::model::shipped_models() {
            let drawn = model.params.iter().position(|p| p.fixed.is_none());
            let fixed = model.params.iter().position(|p| p.fixed.is_some());
            let overruns = model.schemes.iter().map(|s| s.cost_overrun);
            let mut holds: Vec<Hold> = (drawn.into_iter().chain(fixed).chain(overruns))
                .map(|param| Hold::Value { param, value: 0.75 })
                .collect();
            if !model.outcomes.is_empty() {
                holds.push(Hold::Outcome {
                    outcome: model.outcomes.len() - 1,
                    occurs: true,
                });
            }
            model.sampler.holds = holds;
            assert!(!model.sampler.is_plain());
            assert_blocks_equal(&format!("{} with holds", path.display()), &model);
        }
    }

    /// The same with every tranche gated `all` (no shipped plan is): a tranche pays all
    /// or nothing, and its conditions' pay is zeroed where some condition is not met.
    #[test]
    fn blocks_equal_trial_by_trial_with_gates_all() {
        for (path, mut model) in crate::model::shipped_models() {
            for tranche in &mut model.tranches {
                tranche.gate = Gate::All;
            }
            assert_blocks_equal(&format!("{} gated all", path.display()), &model);
        }
    }

    /// A plan no shipped scenario is like: windows over several segments (a count metric
    /// with negative binomial noise and a proportion metric, each with a year's window
    /// and a half-year's inside it), a scheme funded in shares (one of them 0), the
    /// released and unreleased money split in shares (one 0), and unit costs and a risk
    /// so large that some trials' money leaves the exact range and others' does not.
    const EDGES: &str = r#"
[scenario]
name = "edges"
start = "2015-04"
months = 12
[partners]
nhs = {}
council = {}
third = {}
[[metric]]
id = "nea"
kind = "count"
baseline = 1200
growth = { dist = "normal", mean = 0.02, sd = 0.01 }
noise = { negative_binomial = { dispersion = 100 } }
unit_cost = { dist = "uniform", min = 0, max = 3e12 }
payer = "nhs"
[[metric]]
id = "home"
kind = "proportion"
baseline = 0.8
cohort = 400
unit_cost = { dist = "uniform", min = 0, max = 3000 }
payer = "council"
[[scheme]]
id = "s"
funder = { nhs = 0.7, council = 0.3, third = 0.0 }
delivery = 0.8
cost_overrun = { dist = "uniform", min = 0.5, max = 2.0 }
  [[scheme.cost]]
  item = "x"
  amount = "1000"
  [[scheme.effect]]
  metric = "nea"
  change = { dist = "uniform", min = 0.0, max = 0.1 }
  [[scheme.effect]]
  metric = "home"
  change = 0.02
[[scheme]]
id = "t"
funder = { council = 1.0 }
  [[scheme.cost]]
  item = "y"
  amount = "500"
  [[scheme.effect]]
  metric = "nea"
  change = 0.03
[fund]
pot = "100000"
released_to = { council = 0.6, nhs = 0.4, third = 0.0 }
unreleased_to = { nhs = 0.5, third = 0.5, council = 0.0 }
[[tranche]]
id = "year"
share = "0.5"
window = { from = "2015-04", to = "2016-03" }
  [[tranche.condition]]
  metric = "nea"
  target = 0.02
  rule = "proportional"
  weight = 0.5
  [[tranche.condition]]
  metric = "home"
  target = 0.01
  rule = "proportional"
  weight = 0.5
[[tranche]]
id = "half"
share = "0.5"
window = { from = "2015-07", to = "2015-12" }
  [[tranche.condition]]
  metric = "nea"
  target = 0.03
  rule = "proportional"
  weight = 0.5
  [[tranche.condition]]
  metric = "home"
  target = 0.01
  rule = "proportional"
  weight = 0.5
[[risk]]
id = "r"
partner = "nhs"
probability = 0.5
impact = { dist = "uniform", min = -9e13, max = 2e14 }
"#;

    fn edges_model(text: &str) -> Model {
        let loaded = crate::scenario::load_str("edges.toml", text, &[]).expect("valid");
        crate::model::compile(&loaded.scenario, 11).expect("compiles")
    }

    /// Tranches with every rule the scenarios support, on a count and a proportion
    /// metric (`EDGES`'s metrics and schemes): banded with several bands, proportional
    /// with a floor, all or nothing, per unit with a target and without one, targets
    /// drawn and fixed; the test then holds the drawn targets at 0.01 and at 0 (which no
    /// plan may give: `achieved / target` infinite or NaN), and gates every tranche `all`.
    const RULES: &str = r#"
[[tranche]]
id = "year"
share = "0.25"
window = { from = "2015-04", to = "2016-03" }
  [[tranche.condition]]
  metric = "nea"
  target = { dist = "uniform", min = 0.001, max = 0.05 }
  rule = "banded"
  bands = [[0.3, 0.2], [0.7, 0.6], [1.0, 1.0]]
  weight = 0.4
  [[tranche.condition]]
  metric = "home"
  target = { dist = "uniform", min = 0.001, max = 0.03 }
  rule = "banded"
  bands = [[0.5, 0.5], [1.0, 1.0]]
  weight = 0.4
  [[tranche.condition]]
  event = "e"
  probability = 0.5
  weight = 0.2
[[tranche]]
id = "quarter"
share = "0.25"
window = { from = "2015-04", to = "2015-06" }
  [[tranche.condition]]
  metric = "nea"
  target = 0.02
  rule = "proportional"
  floor = 0.25
  weight = 0.5
  [[tranche.condition]]
  metric = "home"
  target = 0.02
  rule = "all_or_nothing"
  weight = 0.5
[[tranche]]
id = "half"
share = "0.25"
window = { from = "2015-07", to = "2015-12" }
  [[tranche.condition]]
  metric = "nea"
  rule = "per_unit"
  rate = "3"
  weight = 0.5
  [[tranche.condition]]
  metric = "home"
  rule = "per_unit"
  rate = "0.5"
  weight = 0.5
[[tranche]]
id = "second_half"
share = "0.25"
window = { from = "2016-01", to = "2016-03" }
  [[tranche.condition]]
  metric = "nea"
  target = { dist = "uniform", min = 0.001, max = 0.04 }
  rule = "per_unit"
  rate = "2"
  weight = 0.5
  [[tranche.condition]]
  metric = "home"
  target = 0.01
  rule = "proportional"
  weight = 0.5
"#;

    /// The block path against the trial path with `RULES`' tranches in place of
    /// `EDGES`'s: every rule, targets drawn, fixed, absent and held.
    #[test]
    fn blocks_equal_trial_by_trial_with_every_rule() {
        let start = EDGES.find("[[tranche]]").expect("tranches");
        let end = EDGES.find("[[risk]]").expect("risk");
        let text = format!("{}{}{}", &EDGES[..start], RULES, &EDGES[end..]);
        let model = edges_model(&text);
        let rules: Vec<&str> = (model.tranches.iter())
            .flat_map(|t| &t.conditions)
            .filter_map(|(c, _)| match c {
                CondModel::Metric { rule, .. } => Some(rule.name()),
                CondModel::Event { .. } => None,
            })
            .collect();
        for rule in ["banded", "proportional", "all_or_nothing", "per_unit"] {
            assert!(rules.contains(&rule), "{rule} in {rules:?}");
        }
        assert_blocks_equal("every rule", &model);
        let mut held = model.clone();
        held.sampler.holds = (model.tranches.iter())
            .flat_map(|t| &t.conditions)
            .filter_map(|(c, _)| match c {
                CondModel::Metric { target, .. } => *target,
                CondModel::Event { .. } => None,
            })
            .filter(|&p| model.params[p].fixed.is_none())
            .map(|param| Hold::Value { param, value: 0.01 })
            .collect();
        assert!(!held.sampler.holds.is_empty());
        assert_blocks_equal("every rule, targets held", &held);
        for hold in &mut held.sampler.holds {
            if let Hold::Value { value, .. } = hold {
                *value = 0.0;
            }
        }
        assert_blocks_equal("every rule, targets held at 0", &held);
        let mut all = model.clone();
        for tranche in &mut all.tranches {
            tranche.gate = Gate::All;
        }
        assert_blocks_equal("every rule gated all", &all);
    }

    /// The block path against the trial path on `EDGES`: windows summed over several
    /// segments, money out of range in some lanes of a block (the first such amount of
    /// each trial the same), shares of 0; then with every level held at 0 (no expected
    /// activity, a proportion of 0), and with no windows at all (event conditions only).
    #[test]
    fn blocks_equal_trial_by_trial_on_edges() {
        let model = edges_model(EDGES);
        assert!(model.windows.iter().any(|w| w.segments.len() > 1));
        let mut single = Trial::new(&model);
        // The trials `assert_blocks_equal` runs.
        let kinds: Vec<Option<Overflow>> = (0..137)
            .map(|i| {
                model.simulate(i, &mut single);
                single.overflow
            })
            .collect();
        assert!(
            kinds.iter().any(|o| o.is_none()),
            "some trial in range: {kinds:?}"
        );
        for kind in [
            Overflow::MetricSavings(0),
            Overflow::SchemeSavings(0),
            Overflow::RiskImpact(0),
            Overflow::PartnerTotal(0),
        ] {
            assert!(
                kinds.contains(&Some(kind)),
                "some trial overflows: {kind:?}"
            );
        }
        assert_blocks_equal("edges", &model);
        let mut held = model.clone();
        held.sampler.holds = (held.metrics.iter())
            .map(|m| Hold::Value {
                param: m.level,
                value: 0.0,
            })
            .collect();
        assert_blocks_equal("edges with levels held at 0", &held);
        let events = EDGES.replace(
            "  metric = \"home\"\n  target = 0.01\n  rule = \"proportional\"",
            "  event = \"e\"\n  probability = 0.5",
        );
        let events = events.replace(
            "  metric = \"nea\"\n  target = 0.02\n  rule = \"proportional\"",
            "  event = \"f\"\n  probability = 0.25",
        );
        let events = events.replace(
            "  metric = \"nea\"\n  target = 0.03\n  rule = \"proportional\"",
            "  event = \"g\"\n  probability = 0.75",
        );
        let events = edges_model(&events);
        assert!(events.windows.is_empty() && !events.metrics.is_empty());
        assert_blocks_equal("edges without windows", &events);
    }

    /// The same with some effects held at full strength (`e >= 1`, the `Full`
    /// attribution rule, which no shipped scenario reaches) and some at none.
    #[test]
    fn blocks_equal_trial_by_trial_with_effects_at_full() {
        for (path, mut model) in crate::model::shipped_models() {
            let changes: Vec<usize> = (model.metrics.iter())
                .flat_map(|m| m.effects.iter().map(|&(_, change)| change))
                .collect();
            for (k, &change) in changes.iter().enumerate() {
                // Every third effect at 1 (capped there from 1.5 too), one in three at 0.
                match k % 6 {
                    0 => model.params[change].fixed = Some(1.0),
                    3 => model.params[change].fixed = Some(1.5),
                    4 => model.params[change].fixed = Some(0.0),
                    _ => {}
                }
            }
            assert_blocks_equal(&format!("{} at full", path.display()), &model);
        }
    }

    /// The same with values no plan reaches, for the paths that skip an effect at ramp 0
    /// only when that cannot change a result: a NaN full effect (nothing skipped), and
    /// activity so large that some lane's attribution coefficient is infinite (the
    /// skipped effects added after all).
    #[test]
    fn blocks_equal_trial_by_trial_with_extreme_values() {
        for (path, model) in crate::model::shipped_models() {
            let mut nan = model.clone();
            let changes: Vec<usize> = (nan.metrics.iter())
                .flat_map(|m| m.effects.iter().map(|&(_, change)| change))
                .collect();
            for &change in changes.iter().step_by(3) {
                nan.params[change].fixed = Some(f64::NAN);
            }
            assert_blocks_equal(&format!("{} with NaN effects", path.display()), &nan);
            let mut huge = model;
            let levels: Vec<usize> = huge.metrics.iter().map(|m| m.level).collect();
            for level in levels {
                huge.params[level].fixed = Some(f64::MAX);
            }
            assert_blocks_equal(&format!("{} at huge levels", path.display()), &huge);
        }
    }
}
