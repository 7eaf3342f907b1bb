//! The engine: runs trials in fixed-size chunks on a rayon pool and folds each chunk's
//! results into summaries.
//!
//! Chunk k always holds trials [k*CHUNK, (k+1)*CHUNK) whatever the thread count, each
//! trial draws from streams keyed by its own index, and the summaries merge exactly
//! (order-independent), so the same seed gives the same answer on any number of threads
//! (the `rand` rayon example's fixed batches, for the same reason).
//!
//! A run stops early, with an error and no result, when its cancel flag rises (Ctrl-C;
//! checked every `CANCEL_CHECK` trials) or when a trial's money leaves the exact range
//! (`Trial::overflow`); the error reported does not depend on scheduling.
use crate::model::{CondModel, Model, Overflow, Trial};
use crate::stats::{MoneyStats, Proportion, RealStats};
use rayon::prelude::*;
use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};

/// Trials per chunk: fixed, so results do not depend on scheduling.
pub const CHUNK: u64 = 1024;

/// Summaries of every reported quantity, mergeable.
#[derive(Clone, Debug)]
pub struct Accumulator {
    pub trials: u64,
    pub total_paid: MoneyStats,
    pub total_unreleased: MoneyStats,
    pub total_full: Proportion,
    pub total_zero: Proportion,
    pub tranche_paid: Vec<MoneyStats>,
    pub tranche_full: Vec<Proportion>,
    pub tranche_zero: Vec<Proportion>,
    pub condition_met: Vec<Proportion>,
    pub condition_achieved: Vec<RealStats>,
    pub condition_paid: Vec<MoneyStats>,
    pub window_expected: Vec<RealStats>,
    pub window_observed: Vec<RealStats>,
    pub window_achieved: Vec<RealStats>,
    /// Per scheme, per effect of that scheme (in the scheme's effect order): avoided units.
    pub scheme_avoided: Vec<Vec<(usize, RealStats)>>,
    pub scheme_invest: Vec<MoneyStats>,
    pub scheme_savings: Vec<MoneyStats>,
    pub scheme_roi: Vec<RealStats>,
    pub scheme_roi_above_1: Vec<Proportion>,
    pub partner_invest: Vec<MoneyStats>,
    pub partner_savings: Vec<MoneyStats>,
    pub partner_performance: Vec<MoneyStats>,
    pub partner_risks: Vec<MoneyStats>,
    pub partner_net: Vec<MoneyStats>,
}

fn money(n: usize) -> Vec<MoneyStats> {
    (0..n).map(|_| MoneyStats::new()).collect()
}
fn real(n: usize) -> Vec<RealStats> {
    (0..n).map(|_| RealStats::new()).collect()
}
fn props(n: usize) -> Vec<Proportion> {
    vec![Proportion::default(); n]
}

fn merge_all<T>(a: &mut [T], b: &[T], f: impl Fn(&mut T, &T)) {
    for (x, y) in a.iter_mut().zip(b) {
        f(x, y);
    }
}

impl Accumulator {
    pub fn new(model: &Model) -> Accumulator {
        let t = model.tranches.len();
        let c = model.conditions;
        let w = model.windows.len();
        let s = model.schemes.len();
        let p = model.partners;
        Accumulator {
            trials: 0,
            total_paid: MoneyStats::new(),
            total_unreleased: MoneyStats::new(),
            total_full: Proportion::default(),
            total_zero: Proportion::default(),
            tranche_paid: money(t),
            tranche_full: props(t),
            tranche_zero: props(t),
            condition_met: props(c),
            condition_achieved: real(c),
            condition_paid: money(c),
            window_expected: real(w),
            window_observed: real(w),
            window_achieved: real(w),
            scheme_avoided: model
                .scenario
                .schemes
                .iter()
                .map(|sc| {
                    sc.effects
                        .iter()
                        .map(|e| (e.metric, RealStats::new()))
                        .collect()
                })
                .collect(),
            scheme_invest: money(s),
            scheme_savings: money(s),
            scheme_roi: real(s),
            scheme_roi_above_1: props(s),
            partner_invest: money(p),
            partner_savings: money(p),
            partner_performance: money(p),
            partner_risks: money(p),
            partner_net: money(p),
        }
    }

    /// Folds one trial in.
    pub fn push(&mut self, model: &Model, t: &Trial) {
        self.trials += 1;
        self.total_paid.push(t.total_paid);
        self.total_unreleased.push(model.pot - t.total_paid);
        let all_full = model
            .tranches
            .iter()
            .zip(&t.tranche_paid)
            .all(|(tr, paid)| *paid == tr.amount);
        self.total_full.push(all_full);
        self.total_zero.push(t.total_paid == 0);
        for (i, tranche) in model.tranches.iter().enumerate() {
            self.tranche_paid[i].push(t.tranche_paid[i]);
            self.tranche_full[i].push(t.tranche_paid[i] == tranche.amount);
            self.tranche_zero[i].push(t.tranche_paid[i] == 0);
        }
        let mut c = 0;
        for tranche in &model.tranches {
            for (cond, _) in &tranche.conditions {
                self.condition_met[c].push(t.condition_met[c]);
                if let CondModel::Metric { .. } = cond {
                    self.condition_achieved[c].push(t.condition_achieved[c]);
                }
                self.condition_paid[c].push(t.condition_paid[c]);
                c += 1;
            }
        }
        for w in 0..model.windows.len() {
            self.window_expected[w].push(t.window_expected[w]);
            self.window_observed[w].push(t.window_observed[w]);
            self.window_achieved[w].push(t.window_achieved[w]);
        }
        for (s, avoided) in self.scheme_avoided.iter_mut().enumerate() {
            for (metric, stats) in avoided.iter_mut() {
                stats.push(t.scheme_avoided[s][*metric]);
            }
            self.scheme_invest[s].push(t.scheme_invest[s]);
            self.scheme_savings[s].push(t.scheme_savings[s]);
            self.scheme_roi[s].push(t.scheme_roi[s]);
            self.scheme_roi_above_1[s].push(t.scheme_roi[s] > 1.0);
        }
        for p in 0..model.partners {
            self.partner_invest[p].push(t.partner_invest[p]);
            self.partner_savings[p].push(t.partner_savings[p]);
            self.partner_performance[p].push(t.partner_performance[p]);
            self.partner_risks[p].push(t.partner_risks[p]);
            self.partner_net[p].push(t.partner_net[p]);
        }
    }

    /// Exact, order-independent merge.
    pub fn merge(&mut self, o: &Accumulator) {
        self.trials += o.trials;
        self.total_paid.merge(&o.total_paid);
        self.total_unreleased.merge(&o.total_unreleased);
        self.total_full.merge(&o.total_full);
        self.total_zero.merge(&o.total_zero);
        merge_all(&mut self.tranche_paid, &o.tranche_paid, MoneyStats::merge);
        merge_all(&mut self.tranche_full, &o.tranche_full, Proportion::merge);
        merge_all(&mut self.tranche_zero, &o.tranche_zero, Proportion::merge);
        merge_all(&mut self.condition_met, &o.condition_met, Proportion::merge);
        merge_all(
            &mut self.condition_achieved,
            &o.condition_achieved,
            RealStats::merge,
        );
        merge_all(
            &mut self.condition_paid,
            &o.condition_paid,
            MoneyStats::merge,
        );
        merge_all(
            &mut self.window_expected,
            &o.window_expected,
            RealStats::merge,
        );
        merge_all(
            &mut self.window_observed,
            &o.window_observed,
            RealStats::merge,
        );
        merge_all(
            &mut self.window_achieved,
            &o.window_achieved,
            RealStats::merge,
        );
        for (a, b) in self.scheme_avoided.iter_mut().zip(&o.scheme_avoided) {
            for ((_, x), (_, y)) in a.iter_mut().zip(b) {
                x.merge(y);
            }
        }
        merge_all(&mut self.scheme_invest, &o.scheme_invest, MoneyStats::merge);
        merge_all(
            &mut self.scheme_savings,
            &o.scheme_savings,
            MoneyStats::merge,
        );
        merge_all(&mut self.scheme_roi, &o.scheme_roi, RealStats::merge);
        merge_all(
            &mut self.scheme_roi_above_1,
            &o.scheme_roi_above_1,
            Proportion::merge,
        );
        merge_all(
            &mut self.partner_invest,
            &o.partner_invest,
            MoneyStats::merge,
        );
        merge_all(
            &mut self.partner_savings,
            &o.partner_savings,
            MoneyStats::merge,
        );
        merge_all(
            &mut self.partner_performance,
            &o.partner_performance,
            MoneyStats::merge,
        );
        merge_all(&mut self.partner_risks, &o.partner_risks, MoneyStats::merge);
        merge_all(&mut self.partner_net, &o.partner_net, MoneyStats::merge);
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("cannot start {threads} worker threads: {message}")]
    Threads { threads: usize, message: String },
    /// The cancel flag was raised (Ctrl-C): the run stopped between trials.
    #[error("interrupted: the run was stopped before it finished; nothing was written")]
    Cancelled,
    /// A money amount of a trial left the exact whole-pence range (2^53 pence).
    #[error(
        "`{key}`: in trial {trial} {what} is beyond £90,071,992,547,409.92 (2^53 pence), the largest amount simulated to the penny; the run was stopped\n  hint: check `{key}` and the values it multiplies: money is in pounds (not pence), activity is per year for the whole area"
    )]
    Overflow {
        trial: u64,
        key: String,
        what: String,
    },
}

impl EngineError {
    /// Of two errors from different chunks, the one to report: cancellation first, then
    /// the overflow in the lowest trial, so the message does not depend on scheduling.
    fn first(self, other: EngineError) -> EngineError {
        match (&self, &other) {
            (EngineError::Cancelled, _) => self,
            (_, EngineError::Cancelled) => other,
            (EngineError::Overflow { trial: a, .. }, EngineError::Overflow { trial: b, .. })
                if b < a =>
            {
                other
            }
            _ => self,
        }
    }
}

/// The key and wording of an overflow, named from the scenario.
fn describe_overflow(model: &Model, overflow: Overflow) -> (String, String) {
    let s = &model.scenario;
    match overflow {
        Overflow::SchemeInvest(i) => (
            format!("scheme.{}.cost", s.schemes[i].id),
            "the scheme's spend (cost x overrun x scale)".into(),
        ),
        Overflow::SchemeSavings(i) => (
            format!("scheme.{}.effect", s.schemes[i].id),
            "the scheme's savings (its avoided activity x the metrics' unit_cost)".into(),
        ),
        Overflow::MetricSavings(m) => (
            format!("metric.{}.unit_cost", s.metrics[m].id),
            "the metric's savings (avoided activity x unit cost)".into(),
        ),
        Overflow::RiskImpact(r) => (s.risks[r].impact.path.clone(), "the risk's impact".into()),
        Overflow::PartnerTotal(p) => (
            format!("partners.{}", s.partners[p].id),
            "a money total of this partner".into(),
        ),
    }
}

/// A flag that is never raised, for runs that cannot be interrupted.
static NEVER: AtomicBool = AtomicBool::new(false);

/// Runs trials `range` on `threads` workers (0 = all cores).
pub fn run(model: &Model, range: Range<u64>, threads: usize) -> Result<Accumulator, EngineError> {
    run_cancellable(model, range, threads, &NEVER)
}

/// Trials between two looks at the cancel flag (a few milliseconds of work at most).
const CANCEL_CHECK: u64 = 16;

/// As `run`, but stops early with `EngineError::Cancelled` once `cancel` is raised.
/// A run that is not cancelled gives exactly the result of `run`.
pub fn run_cancellable(
    model: &Model,
    range: Range<u64>,
    threads: usize,
    cancel: &AtomicBool,
) -> Result<Accumulator, EngineError> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| EngineError::Threads {
            threads,
            message: e.to_string(),
        })?;
    let first_chunk = range.start / CHUNK;
    let last_chunk = range.end.div_ceil(CHUNK);
    let result = pool.install(|| {
        (first_chunk..last_chunk)
            .into_par_iter()
            .map(|chunk| {
                let mut acc = Accumulator::new(model);
                let mut trial = Trial::new(model);
                let from = (chunk * CHUNK).max(range.start);
                let to = ((chunk + 1) * CHUNK).min(range.end);
                for index in from..to {
                    if (index - from) % CANCEL_CHECK == 0 && cancel.load(Ordering::Relaxed) {
                        return Err(EngineError::Cancelled);
                    }
                    model.simulate(index, &mut trial);
                    if let Some(overflow) = trial.overflow {
                        let (key, what) = describe_overflow(model, overflow);
                        return Err(EngineError::Overflow {
                            trial: index,
                            key,
                            what,
                        });
                    }
                    acc.push(model, &trial);
                }
                Ok(acc)
            })
            .reduce_with(|a, b| match (a, b) {
                (Ok(mut a), Ok(b)) => {
                    a.merge(&b);
                    Ok(a)
                }
                (Err(a), Err(b)) => Err(a.first(b)),
                (Err(e), Ok(_)) | (Ok(_), Err(e)) => Err(e),
            })
    });
    if cancel.load(Ordering::Relaxed) {
        return Err(EngineError::Cancelled);
    }
    result.unwrap_or_else(|| Ok(Accumulator::new(model)))
}
