//! The engine: runs trials in fixed-size chunks on a rayon pool and folds each chunk's
//! results into summaries.
//!
//! Chunk k always holds trials [k*CHUNK, (k+1)*CHUNK) whatever the thread count, each
//! trial draws from streams keyed by its own index, and the summaries merge exactly
//! (order-independent), so the same seed gives the same answer on any number of threads
//! (the `rand` rayon example's fixed batches, for the same reason). Within a chunk a
//! worker simulates its trials a block of [`BLOCK`] at a time (`Model::simulate_block`,
//! the same results as trial by trial) and stages their values for the summaries a block
//! at a time ([`Staged`]); no block crosses a chunk's end. The workers live on a
//! [`Folds`] (one pool, one state per worker), which a run in batches (`--precision`,
//! the observed run behind reports) keeps from batch to batch; commands that read only
//! total paid, P(full), P(zero) and the partners' nets fold into [`Totals`] instead
//! ([`run_totals`]).
//!
//! A run stops early, with an error and no result, when its cancel flag rises (Ctrl-C;
//! checked every `CANCEL_CHECK` trials) or when a trial's money leaves the exact range
//! (`Trial::overflow`); the error reported does not depend on scheduling.
use crate::diagnostic::Location;
use crate::model::{Lanes, Model, Overflow, Trial};
use crate::stats::{MoneyStats, PenceMoments, Proportion, RealStats};
use rayon::prelude::*;
use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

mod staged;
mod totals;
pub use staged::{BLOCK, Staged};
pub use totals::{Totals, run_totals};

/// Trials per chunk: fixed, so results do not depend on scheduling.
pub const CHUNK: u64 = 1024;

/// Summaries of every reported quantity, mergeable. Serialisable (shard partials): a
/// deserialised accumulator merges exactly like the original.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
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
    // No summary of a condition's achieved value: a metric condition's is its window's,
    // value for value, so its summary is `window_achieved`'s (see `output::results`),
    // and an event condition's is not reported.
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

/// Pushes `values[i]` into `stats[i]` for every i (the two are built from the same model,
/// so they have the same length).
#[inline]
fn push_each<S, V: Copy>(stats: &mut [S], values: &[V], push: impl Fn(&mut S, V)) {
    debug_assert_eq!(stats.len(), values.len());
    for (s, &v) in stats.iter_mut().zip(values) {
        push(s, v);
    }
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

    /// Checks an accumulator read from a shard partial against the model rebuilt from its
    /// scenario (defence in depth behind the partial's checksum): every vector has the
    /// model's length (a short one would merge only its first entries), and every summary
    /// has seen `self.trials` values. The error names the field as the partial's JSON
    /// does (`content.accumulator.tranche_paid[1]`) and says what is wrong.
    pub fn check_shape(&self, model: &Model) -> Result<(), String> {
        let shape = Accumulator::new(model);
        let field = |name: &str| format!("content.accumulator.{name}");
        let length = |name: &str, got: usize, want: usize, what: &str| {
            if got == want {
                Ok(())
            } else {
                Err(format!(
                    "{} has {got} entries, but the scenario has {want} {what}",
                    field(name)
                ))
            }
        };
        let n = self.trials;
        // One vector of summaries: its length against the model's, then each summary's count.
        let each = |name: &str, what: &str, want: usize, checks: Vec<Result<(), String>>| {
            length(name, checks.len(), want, what)?;
            for (i, check) in checks.into_iter().enumerate() {
                check.map_err(|e| format!("{}[{i}] {e}", field(name)))?;
            }
            Ok::<(), String>(())
        };
        let one = |name: &str, check: Result<(), String>| {
            check.map_err(|e| format!("{} {e}", field(name)))
        };
        let money = |v: &[MoneyStats]| v.iter().map(|s| s.check_count(n)).collect::<Vec<_>>();
        let reals = |v: &[RealStats]| v.iter().map(|s| s.check_count(n)).collect::<Vec<_>>();
        let props = |v: &[Proportion]| v.iter().map(|s| s.check_count(n)).collect::<Vec<_>>();
        let (t, c, w, s, p) = (
            shape.tranche_paid.len(),
            shape.condition_met.len(),
            shape.window_expected.len(),
            shape.scheme_invest.len(),
            shape.partner_net.len(),
        );
        one("total_paid", self.total_paid.check_count(n))?;
        one("total_unreleased", self.total_unreleased.check_count(n))?;
        one("total_full", self.total_full.check_count(n))?;
        one("total_zero", self.total_zero.check_count(n))?;
        each("tranche_paid", "tranches", t, money(&self.tranche_paid))?;
        each("tranche_full", "tranches", t, props(&self.tranche_full))?;
        each("tranche_zero", "tranches", t, props(&self.tranche_zero))?;
        each("condition_met", "conditions", c, props(&self.condition_met))?;
        each(
            "condition_paid",
            "conditions",
            c,
            money(&self.condition_paid),
        )?;
        each(
            "window_expected",
            "windows",
            w,
            reals(&self.window_expected),
        )?;
        each(
            "window_observed",
            "windows",
            w,
            reals(&self.window_observed),
        )?;
        each(
            "window_achieved",
            "windows",
            w,
            reals(&self.window_achieved),
        )?;
        length("scheme_avoided", self.scheme_avoided.len(), s, "schemes")?;
        for (i, (got, want)) in self
            .scheme_avoided
            .iter()
            .zip(&shape.scheme_avoided)
            .enumerate()
        {
            let name = format!("scheme_avoided[{i}]");
            length(&name, got.len(), want.len(), "effects for this scheme")?;
            for (k, ((metric, stats), (want_metric, _))) in got.iter().zip(want).enumerate() {
                if metric != want_metric {
                    return Err(format!(
                        "{}[{k}] is for metric {metric}, but the scheme's effect {k} is on metric {want_metric}",
                        field(&name)
                    ));
                }
                one(&format!("{name}[{k}]"), stats.check_count(n))?;
            }
        }
        each("scheme_invest", "schemes", s, money(&self.scheme_invest))?;
        each("scheme_savings", "schemes", s, money(&self.scheme_savings))?;
        each("scheme_roi", "schemes", s, reals(&self.scheme_roi))?;
        each(
            "scheme_roi_above_1",
            "schemes",
            s,
            props(&self.scheme_roi_above_1),
        )?;
        each("partner_invest", "partners", p, money(&self.partner_invest))?;
        each(
            "partner_savings",
            "partners",
            p,
            money(&self.partner_savings),
        )?;
        each(
            "partner_performance",
            "partners",
            p,
            money(&self.partner_performance),
        )?;
        each("partner_risks", "partners", p, money(&self.partner_risks))?;
        each("partner_net", "partners", p, money(&self.partner_net))?;
        Ok(())
    }

    /// Folds one trial in. Each vector of summaries takes its vector of the trial's values
    /// pairwise (`push_each`), so the compiler drops the bounds checks; the order in
    /// which different summaries are pushed does not matter, only each one's own order.
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
        push_each(&mut self.tranche_paid, &t.tranche_paid, MoneyStats::push);
        let tranches = model.tranches.iter().zip(&t.tranche_paid);
        for ((full, zero), (tranche, &paid)) in self
            .tranche_full
            .iter_mut()
            .zip(&mut self.tranche_zero)
            .zip(tranches)
        {
            full.push(paid == tranche.amount);
            zero.push(paid == 0);
        }
        push_each(&mut self.condition_met, &t.condition_met, Proportion::push);
        push_each(
            &mut self.condition_paid,
            &t.condition_paid,
            MoneyStats::push,
        );
        push_each(
            &mut self.window_expected,
            &t.window_expected,
            RealStats::push,
        );
        push_each(
            &mut self.window_observed,
            &t.window_observed,
            RealStats::push,
        );
        push_each(
            &mut self.window_achieved,
            &t.window_achieved,
            RealStats::push,
        );
        for (avoided, values) in self.scheme_avoided.iter_mut().zip(&t.scheme_avoided) {
            for (metric, stats) in avoided.iter_mut() {
                stats.push(values[*metric]);
            }
        }
        push_each(&mut self.scheme_invest, &t.scheme_invest, MoneyStats::push);
        push_each(
            &mut self.scheme_savings,
            &t.scheme_savings,
            MoneyStats::push,
        );
        push_each(&mut self.scheme_roi, &t.scheme_roi, RealStats::push);
        push_each(&mut self.scheme_roi_above_1, &t.scheme_roi, |s, roi| {
            s.push(roi > 1.0)
        });
        push_each(
            &mut self.partner_invest,
            &t.partner_invest,
            MoneyStats::push,
        );
        push_each(
            &mut self.partner_savings,
            &t.partner_savings,
            MoneyStats::push,
        );
        push_each(
            &mut self.partner_performance,
            &t.partner_performance,
            MoneyStats::push,
        );
        push_each(&mut self.partner_risks, &t.partner_risks, MoneyStats::push);
        push_each(&mut self.partner_net, &t.partner_net, MoneyStats::push);
    }

    /// Ends a chunk of pushes (see [`RealStats::end_chunk`]): pushing chunks into one
    /// accumulator with `end_chunk` after each equals, bit for bit, pushing each chunk
    /// into a fresh accumulator and merging them.
    pub fn end_chunk(&mut self) {
        let reals = self
            .window_expected
            .iter_mut()
            .chain(&mut self.window_observed)
            .chain(&mut self.window_achieved)
            .chain(self.scheme_avoided.iter_mut().flatten().map(|(_, s)| s))
            .chain(&mut self.scheme_roi);
        for stats in reals {
            stats.end_chunk();
        }
    }

    /// Exact, order-independent merge.
    pub fn merge(&mut self, o: &Accumulator) {
        for pair in self.merge_counts(o) {
            pair.merge();
        }
    }

    /// As [`Accumulator::merge`] (the same state, bit for bit), the summaries of money
    /// and real values merged in parallel on the current rayon pool: each merges on its
    /// own, exactly and whatever the order, so the scheduling does not show. For the
    /// merge of the workers' accumulators at the end of a run, which otherwise runs on
    /// one thread while the others wait.
    pub fn merge_parallel(&mut self, o: &Accumulator) {
        self.merge_counts(o)
            .into_par_iter()
            .with_max_len(1)
            .for_each(Pair::merge);
    }

    /// Folds every summary's quantile buffer in, the summaries in parallel on the
    /// current rayon pool (at the end of a run, `merged_accumulator`): the same state, and queries (`finish`) then
    /// read each store as it is instead of copying it to fold the buffer, one summary
    /// at a time.
    pub fn settle_parallel(&mut self) {
        let mut money: Vec<&mut MoneyStats> =
            vec![&mut self.total_paid, &mut self.total_unreleased];
        money.extend(self.tranche_paid.iter_mut());
        money.extend(self.condition_paid.iter_mut());
        money.extend(self.scheme_invest.iter_mut());
        money.extend(self.scheme_savings.iter_mut());
        money.extend(self.partner_invest.iter_mut());
        money.extend(self.partner_savings.iter_mut());
        money.extend(self.partner_performance.iter_mut());
        money.extend(self.partner_risks.iter_mut());
        money.extend(self.partner_net.iter_mut());
        let mut reals: Vec<&mut RealStats> = Vec::new();
        reals.extend(self.window_expected.iter_mut());
        reals.extend(self.window_observed.iter_mut());
        reals.extend(self.window_achieved.iter_mut());
        reals.extend(self.scheme_avoided.iter_mut().flatten().map(|(_, s)| s));
        reals.extend(self.scheme_roi.iter_mut());
        rayon::join(
            || {
                money
                    .into_par_iter()
                    .with_max_len(1)
                    .for_each(|s| s.settle())
            },
            || {
                reals
                    .into_par_iter()
                    .with_max_len(1)
                    .for_each(|s| s.settle())
            },
        );
    }

    /// Merges the trial count and the proportions (a few additions each) and returns the
    /// summaries of money and real values paired with `o`'s, to be merged.
    fn merge_counts<'a>(&'a mut self, o: &'a Accumulator) -> Vec<Pair<'a>> {
        self.trials += o.trials;
        self.total_full.merge(&o.total_full);
        self.total_zero.merge(&o.total_zero);
        merge_all(&mut self.tranche_full, &o.tranche_full, Proportion::merge);
        merge_all(&mut self.tranche_zero, &o.tranche_zero, Proportion::merge);
        merge_all(&mut self.condition_met, &o.condition_met, Proportion::merge);
        merge_all(
            &mut self.scheme_roi_above_1,
            &o.scheme_roi_above_1,
            Proportion::merge,
        );
        let money = |a: &'a mut Vec<MoneyStats>, b: &'a Vec<MoneyStats>| {
            a.iter_mut().zip(b).map(|(x, y)| Pair::Money(x, y))
        };
        let real = |a: &'a mut Vec<RealStats>, b: &'a Vec<RealStats>| {
            a.iter_mut().zip(b).map(|(x, y)| Pair::Real(x, y))
        };
        let mut pairs = vec![
            Pair::Money(&mut self.total_paid, &o.total_paid),
            Pair::Money(&mut self.total_unreleased, &o.total_unreleased),
        ];
        pairs.extend(money(&mut self.tranche_paid, &o.tranche_paid));
        pairs.extend(money(&mut self.condition_paid, &o.condition_paid));
        pairs.extend(real(&mut self.window_expected, &o.window_expected));
        pairs.extend(real(&mut self.window_observed, &o.window_observed));
        pairs.extend(real(&mut self.window_achieved, &o.window_achieved));
        for (a, b) in self.scheme_avoided.iter_mut().zip(&o.scheme_avoided) {
            pairs.extend(a.iter_mut().zip(b).map(|((_, x), (_, y))| Pair::Real(x, y)));
        }
        pairs.extend(money(&mut self.scheme_invest, &o.scheme_invest));
        pairs.extend(money(&mut self.scheme_savings, &o.scheme_savings));
        pairs.extend(real(&mut self.scheme_roi, &o.scheme_roi));
        pairs.extend(money(&mut self.partner_invest, &o.partner_invest));
        pairs.extend(money(&mut self.partner_savings, &o.partner_savings));
        pairs.extend(money(&mut self.partner_performance, &o.partner_performance));
        pairs.extend(money(&mut self.partner_risks, &o.partner_risks));
        pairs.extend(money(&mut self.partner_net, &o.partner_net));
        pairs
    }
}

/// A summary of one accumulator and the same summary of another, to be merged into the
/// first ([`Accumulator::merge`]).
enum Pair<'a> {
    Money(&'a mut MoneyStats, &'a MoneyStats),
    Real(&'a mut RealStats, &'a RealStats),
}

impl Pair<'_> {
    fn merge(self) {
        match self {
            Pair::Money(a, b) => a.merge(b),
            Pair::Real(a, b) => a.merge(b),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("cannot start {threads} worker threads: {message}")]
    Threads { threads: usize, message: String },
    /// The cancel flag was raised (Ctrl-C): the run stopped between trials.
    #[error("interrupted: the run was stopped before it finished; nothing was written")]
    Cancelled,
    /// A money amount of a trial left the exact whole-pence range (2^53 pence); located
    /// at `key` in the scenario's text when its place is known.
    #[error(
        "{}`{key}`: in trial {trial} {what} is beyond £90,071,992,547,409.92 (2^53 pence), the largest amount simulated to the penny; the run was stopped\n  hint: check `{key}` and the values it multiplies: money is in pounds (not pence), activity is per year for the whole area",
        at(.location)
    )]
    Overflow {
        trial: u64,
        key: String,
        what: String,
        location: Option<Location>,
    },
}

/// `file:line:col: error: ` before a located message, as a diagnostic starts; else nothing.
fn at(location: &Option<Location>) -> String {
    location
        .as_ref()
        .map(|l| format!("{l}: error: "))
        .unwrap_or_default()
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
pub(crate) static NEVER: AtomicBool = AtomicBool::new(false);

/// Runs trials `range` on `threads` workers (0 = all cores).
///
/// Each worker pushes its chunks' trials into one long-lived accumulator and ends the
/// chunk after each (so a chunk is the unit every floating-point sum merges by, exactly
/// as if each chunk had its own accumulator); workers take the next chunk from a shared
/// counter, so which worker runs which chunk varies from run to run. That is harmless
/// because the summaries depend only on the multiset of chunks and merging is exact and
/// order-free. Memory does not grow with the number of trials.
pub fn run(model: &Model, range: Range<u64>, threads: usize) -> Result<Accumulator, EngineError> {
    run_cancellable(model, range, threads, &NEVER)
}

/// Trials between two looks at the cancel flag (a few milliseconds of work at most).
const CANCEL_CHECK: u64 = 16;

/// As `run`, but stops early with `EngineError::Cancelled` once `cancel` is raised.
/// A run that is not cancelled gives exactly the result of `run`. A trial whose money
/// leaves the exact range stops the run with `EngineError::Overflow` naming the lowest
/// such trial (whatever the scheduling).
pub fn run_cancellable(
    model: &Model,
    range: Range<u64>,
    threads: usize,
    cancel: &AtomicBool,
) -> Result<Accumulator, EngineError> {
    run_with_progress(model, range, threads, cancel, &|_| {})
}

/// As `run_cancellable`, calling `progress(n)` after each finished chunk of n trials (for a
/// progress bar; it does not affect the result).
pub fn run_with_progress(
    model: &Model,
    range: Range<u64>,
    threads: usize,
    cancel: &AtomicBool,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Accumulator, EngineError> {
    let mut folds = Folds::new(threads)?;
    fold_workers(&mut folds, model, range, cancel, progress)?;
    Ok(merged_accumulator(folds, model))
}

/// Runs trials 0, 1, ... `batch_chunks` engine chunks at a time (the last batch cut at
/// `max`) until, after a batch, `enough` says so given the moments of total paid over
/// every trial so far, or `max` trials have run: for `run --precision`. The workers keep
/// their accumulators from batch to batch ([`Folds`]), so the result is `run`'s for the
/// trials run, and the histograms of a long run fill once, not once a batch.
pub fn run_until(
    model: &Model,
    max: u64,
    batch_chunks: u64,
    threads: usize,
    mut enough: impl FnMut(&PenceMoments) -> bool,
) -> Result<Accumulator, EngineError> {
    let batch = batch_chunks.max(1) * CHUNK;
    let mut folds = Folds::new(threads)?;
    let mut trials = 0;
    while trials < max {
        let to = (trials + batch).min(max);
        fold_workers(&mut folds, model, trials..to, &NEVER, &|_| {})?;
        trials = to;
        let mut paid = PenceMoments::new();
        for worker in folds.states() {
            paid.merge(worker.acc.total_paid.moments());
        }
        if enough(&paid) {
            break;
        }
    }
    Ok(merged_accumulator(folds, model))
}

/// Folds trials `range` into the workers of `folds`: each worker's trials are simulated
/// a block at a time (`Model::simulate_block`, the same results as trial by trial) and
/// staged a block at a time ([`Staged`]) into its accumulator; `end_chunk` (after the
/// chunk's last block) keeps chunks the unit of the floating-point sums, so the answer
/// equals a fresh accumulator per chunk.
fn fold_workers(
    folds: &mut Folds<Worker>,
    model: &Model,
    range: Range<u64>,
    cancel: &AtomicBool,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<(), EngineError> {
    folds.fold(
        range,
        cancel,
        progress,
        || Worker::new(model),
        |worker, index| worker.step(model, index, &mut no_trial),
        |worker| worker.end_chunk(model, &mut no_trial),
    )
}

/// The workers' accumulators merged (an empty one when no worker took a trial), with
/// every summary's quantile buffer then folded in, all in parallel on the pool
/// ([`Accumulator::merge_parallel`], [`Accumulator::settle_parallel`]): the same state,
/// and reading the results then copies nothing, where it copied and folded each
/// summary's store one at a time on one thread.
pub(crate) fn merged_accumulator(folds: Folds<Worker>, model: &Model) -> Accumulator {
    folds.merged_then(Worker::merge, |total| {
        let mut acc = total.map_or_else(|| Accumulator::new(model), Worker::into_accumulator);
        acc.settle_parallel();
        acc
    })
}

/// One worker's state in [`run_with_progress`] (and `observe::run_observed`): its
/// accumulator, and the block of trials it is gathering (consecutive, never crossing a
/// chunk end) with their scratch.
pub(crate) struct Worker {
    acc: Accumulator,
    trials: Vec<Trial>,
    lanes: Lanes,
    staged: Staged,
    block: Gather,
}

/// What a [`Worker`] does with each trial after its block is staged: nothing for `run`;
/// `run_observed` completes it from the lanes and shows it to its observer. Called in
/// trial order with the block's lanes, the trial's lane and the trial.
pub(crate) trait EachTrial: FnMut(&Lanes, usize, &mut Trial) {}
impl<F: FnMut(&Lanes, usize, &mut Trial)> EachTrial for F {}

impl Worker {
    pub(crate) fn new(model: &Model) -> Worker {
        Worker {
            acc: Accumulator::new(model),
            trials: vec![Trial::new(model); BLOCK],
            lanes: Lanes::new(model, BLOCK),
            staged: Staged::new(model),
            block: Gather::default(),
        }
    }

    /// The summaries of every chunk this worker has ended.
    pub(crate) fn into_accumulator(self) -> Accumulator {
        self.acc
    }

    /// Adds another worker's summaries to this one's, merged in parallel on the current
    /// pool ([`Accumulator::merge_parallel`]).
    pub(crate) fn merge(&mut self, other: Worker) {
        self.acc.merge_parallel(&other.acc);
    }

    /// Takes trial `index` (the one after the last, within a chunk) into the block, and
    /// runs the block when it is full, then calls `each` on its trials.
    pub(crate) fn step(
        &mut self,
        model: &Model,
        index: u64,
        each: &mut impl EachTrial,
    ) -> Result<(), EngineError> {
        if self.block.take(index) {
            self.run_block(model, each)?;
        }
        Ok(())
    }

    /// Simulates the gathered trials and stages their values, in trial order, then calls
    /// `each` on them; the first trial whose money left the exact range stops the worker
    /// (`each` sees only the trials before it).
    fn run_block(&mut self, model: &Model, each: &mut impl EachTrial) -> Result<(), EngineError> {
        let (n, overflowed) = crate::isa::run(
            #[inline(always)]
            || self.run_block_body(model),
        );
        let trials = &mut self.trials[..n];
        for (lane, trial) in trials[..overflowed.unwrap_or(n)].iter_mut().enumerate() {
            each(&self.lanes, lane, trial);
        }
        match overflowed {
            Some(k) => checked(model, &trials[k], trials[k].index),
            None => Ok(()),
        }
    }

    /// The block's trial count, and the first of them whose money left the exact range.
    #[inline(always)]
    fn run_block_body(&mut self, model: &Model) -> (usize, Option<usize>) {
        let (first, n) = self.block.drain();
        let trials = &mut self.trials[..n];
        model.simulate_block(first, trials, &mut self.lanes);
        // The trials before the first whose money left the exact range are staged, as
        // pushing trial by trial would; the error then stops the worker, whose
        // accumulator (and so whatever it staged) never reaches an output.
        let overflowed = trials.iter().position(|t| t.overflow.is_some());
        let staged = &trials[..overflowed.unwrap_or(trials.len())];
        self.staged
            .push_block(model, staged, &self.lanes, &mut self.acc);
        (n, overflowed)
    }

    /// After a chunk's last trial: runs the partial block (then `each` on its trials) and
    /// adds everything staged.
    pub(crate) fn end_chunk(
        &mut self,
        model: &Model,
        each: &mut impl EachTrial,
    ) -> Result<(), EngineError> {
        self.run_block(model, each)?;
        self.staged.flush(&mut self.acc);
        self.acc.end_chunk();
        Ok(())
    }
}

/// For a [`Worker`] whose trials need nothing after staging.
fn no_trial(_: &Lanes, _: usize, _: &mut Trial) {}

/// A block's trials and lanes, kept by a worker from chunk to chunk for
/// [`Blocks::simulate_each`] (instead of made afresh for every chunk).
pub struct Blocks {
    trials: Vec<Trial>,
    lanes: Lanes,
}

impl Blocks {
    pub fn new(model: &Model) -> Blocks {
        Blocks {
            trials: vec![Trial::new(model); BLOCK],
            lanes: Lanes::new(model, BLOCK),
        }
    }

    /// Simulates trials `range` a block at a time on the block path ([`simulate_block`])
    /// and calls `each` with every trial in order, completed from the block's lanes
    /// ([`Model::complete_trial`]): what [`Model::simulate`] gives it but the
    /// parameters' `uniforms` (see there). The first trial whose money left the exact
    /// range stops it with that error (`checked`): for commands that look at whole trials
    /// (`sensitivity`; `run`'s observer completes them after staging, `Worker::step`).
    pub fn simulate_each(
        &mut self,
        model: &Model,
        range: Range<u64>,
        mut each: impl FnMut(&Trial),
    ) -> Result<(), EngineError> {
        for first in range.clone().step_by(BLOCK) {
            let n = (range.end - first).min(BLOCK as u64) as usize;
            let trials = &mut self.trials[..n];
            simulate_block(model, first, trials, &mut self.lanes);
            for (i, trial) in trials.iter_mut().enumerate() {
                checked(model, trial, trial.index)?;
                model.complete_trial(&self.lanes, i, trial);
                each(trial);
            }
        }
        Ok(())
    }
}

/// Consecutive trial indices gathered into a block of at most [`BLOCK`], never crossing a
/// chunk end (the caller drains it at each): how `run`'s workers, `compare` and
/// `thresholds` take the trials of a chunk a block at a time.
#[derive(Default)]
pub struct Gather {
    /// The block's first trial, and how many it holds so far.
    first: u64,
    pending: usize,
}

impl Gather {
    /// Takes trial `index` (the one after the last, within a chunk); true when the block
    /// is then full.
    pub fn take(&mut self, index: u64) -> bool {
        if self.pending == 0 {
            self.first = index;
        }
        debug_assert_eq!(index, self.first + self.pending as u64);
        self.pending += 1;
        self.pending == BLOCK
    }

    /// The block's first trial and its number of trials (maybe 0), emptying it.
    pub fn drain(&mut self) -> (u64, usize) {
        (self.first, std::mem::take(&mut self.pending))
    }
}

/// `model.simulate_block(first, trials, lanes)` run in the widest compiled copy this CPU
/// takes ([`crate::isa::run`]): for commands that fold a block's trials their own way
/// (`compare`), with the speed of `run`'s block path. The same results on every copy.
pub fn simulate_block(model: &Model, first: u64, trials: &mut [Trial], lanes: &mut Lanes) {
    crate::isa::run(
        #[inline(always)]
        || model.simulate_block(first, trials, lanes),
    )
}

/// After a trial is simulated (`Model::simulate`, or `Model::simulate_block` for its
/// block): an error naming the money that left the exact range in this trial, if any.
/// Every path that simulates trials checks it.
pub fn checked(model: &Model, trial: &Trial, index: u64) -> Result<(), EngineError> {
    match trial.overflow {
        None => Ok(()),
        Some(overflow) => {
            let (key, what) = describe_overflow(model, overflow);
            Err(EngineError::Overflow {
                trial: index,
                location: model.scenario.origin.locate(&key),
                key,
                what,
            })
        }
    }
}

/// The chunked parallel fold with one long-lived state per worker: `step` folds trial
/// `index` into the worker's state, `end_chunk` is called after each chunk's last trial,
/// and `merge` combines the workers' states at the end, on the pool (so a merge may share
/// its work among the workers). Chunk k holds trials
/// [k*CHUNK, (k+1)*CHUNK) whatever the thread count; which worker runs which chunk
/// varies from run to run, so the answer is deterministic when the state depends only
/// on the multiset of chunks folded into it (as [`Accumulator`] with
/// [`Accumulator::end_chunk`] does) and `merge` is exact and order-free. The first error
/// of each worker stops that worker; of all errors the one reported is chosen by
/// `EngineError::first` (cancellation, else the lowest trial), so it does not depend on
/// scheduling. None for no trials. `compare` (several models in lockstep), `thresholds`
/// (one condition re-evaluated per target) and [`run_totals`] fold this way; [`Folds`]
/// is the same fold kept open from one range to the next (`run`'s workers,
/// `--precision`, the observed run).
#[allow(clippy::too_many_arguments)]
pub fn fold_chunks_in_place<S: Send>(
    range: Range<u64>,
    threads: usize,
    cancel: &AtomicBool,
    progress: &(dyn Fn(u64) + Sync),
    fresh: impl Fn() -> S + Sync,
    step: impl Fn(&mut S, u64) -> Result<(), EngineError> + Sync,
    end_chunk: impl Fn(&mut S) -> Result<(), EngineError> + Sync,
    merge: impl Fn(&mut S, S) + Sync,
) -> Result<Option<S>, EngineError> {
    let mut folds = Folds::new(threads)?;
    folds.fold(range, cancel, progress, fresh, step, end_chunk)?;
    Ok(folds.merged(merge))
}

/// [`fold_chunks_in_place`] kept open: one pool, and one state per worker that lives from
/// one range of chunks to the next, so a run that goes on in batches (`run --precision`)
/// neither starts its workers' states afresh (their quantile histograms refilling) nor
/// builds a pool per batch. Ranges folded one after another give the state of folding
/// them as one range, by the same argument (the states depend only on the multiset of
/// chunks folded in).
pub struct Folds<S> {
    pool: rayon::ThreadPool,
    /// One slot per worker, empty until that worker takes its first chunk.
    states: Vec<Option<S>>,
}

impl<S: Send> Folds<S> {
    pub fn new(threads: usize) -> Result<Folds<S>, EngineError> {
        let pool = pool(threads)?;
        let states = (0..pool.current_num_threads()).map(|_| None).collect();
        Ok(Folds { pool, states })
    }

    /// Folds the chunks of `range` into the workers' states, as [`fold_chunks_in_place`]
    /// (the same errors, chosen the same way). After an error the states hold part of
    /// the range: the caller must not use them.
    pub fn fold(
        &mut self,
        range: Range<u64>,
        cancel: &AtomicBool,
        progress: &(dyn Fn(u64) + Sync),
        fresh: impl Fn() -> S + Sync,
        step: impl Fn(&mut S, u64) -> Result<(), EngineError> + Sync,
        end_chunk: impl Fn(&mut S) -> Result<(), EngineError> + Sync,
    ) -> Result<(), EngineError> {
        let first_chunk = range.start / CHUNK;
        let last_chunk = range.end.div_ceil(CHUNK);
        let next = AtomicU64::new(first_chunk);
        let Folds { pool, states } = self;
        // Chunks are taken in increasing order, so every chunk below a failing one has
        // been run, and the lowest failing trial is always found.
        let results: Vec<Result<(), EngineError>> = pool.install(|| {
            states
                .par_iter_mut()
                .map(|slot| {
                    loop {
                        let chunk = next.fetch_add(1, Ordering::Relaxed);
                        if chunk >= last_chunk {
                            break;
                        }
                        let state = slot.get_or_insert_with(&fresh);
                        let from = (chunk * CHUNK).max(range.start);
                        let to = ((chunk + 1) * CHUNK).min(range.end);
                        for index in from..to {
                            if (index - from).is_multiple_of(CANCEL_CHECK)
                                && cancel.load(Ordering::Relaxed)
                            {
                                return Err(EngineError::Cancelled);
                            }
                            step(state, index)?;
                        }
                        end_chunk(state)?;
                        progress(to - from);
                    }
                    Ok(())
                })
                .collect()
        });
        let error = results
            .into_iter()
            .filter_map(Result::err)
            .reduce(EngineError::first);
        if let Some(e) = error {
            return Err(e);
        }
        if cancel.load(Ordering::Relaxed) {
            return Err(EngineError::Cancelled);
        }
        Ok(())
    }

    /// How many workers the pool has (at most one state each).
    pub fn workers(&self) -> usize {
        self.states.len()
    }

    /// The workers' states so far (those that have taken a chunk).
    pub fn states(&self) -> impl Iterator<Item = &S> {
        self.states.iter().flatten()
    }

    /// As [`Folds::states`], to change between folds (e.g. to take what a batch made).
    pub fn states_mut(&mut self) -> impl Iterator<Item = &mut S> {
        self.states.iter_mut().flatten()
    }

    /// The workers' states merged by `merge`, in the pool (so that a merge may share its
    /// work among the workers, as `run`'s does); None when no worker took a chunk.
    pub fn merged(self, merge: impl Fn(&mut S, S) + Sync) -> Option<S> {
        self.merged_then(merge, |total| total)
    }

    /// [`Folds::merged`], then `then` of the result, both in the pool.
    pub fn merged_then<R: Send>(
        self,
        merge: impl Fn(&mut S, S) + Sync,
        then: impl FnOnce(Option<S>) -> R + Send,
    ) -> R {
        let Folds { pool, states } = self;
        pool.install(|| {
            then(states.into_iter().flatten().reduce(|mut total, state| {
                merge(&mut total, state);
                total
            }))
        })
    }

    /// The same pool, each worker's state mapped by `f`.
    pub fn map<T>(self, mut f: impl FnMut(S) -> T) -> Folds<T> {
        Folds {
            pool: self.pool,
            states: self.states.into_iter().map(|s| s.map(&mut f)).collect(),
        }
    }
}

/// A rayon pool of `threads` workers (0 = all cores) for one run.
pub(crate) fn pool(threads: usize) -> Result<rayon::ThreadPool, EngineError> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| EngineError::Threads {
            threads,
            message: e.to_string(),
        })
}

/// The trials of shard `index` of `count` (0 <= index < count) in a run of `trials`:
/// a contiguous range of whole engine chunks, the chunks shared out as evenly as they go
/// (shards with no chunk get an empty range). The shards' ranges tile `0..trials` in
/// order, and every chunk boundary is the unsharded run's, so merging the shards'
/// accumulators gives exactly the unsharded result.
pub fn shard_range(trials: u64, index: u64, count: u64) -> Range<u64> {
    assert!(index < count, "shard {index} of {count}");
    let chunks = u128::from(trials.div_ceil(CHUNK));
    let bound = |i: u64| -> u64 {
        let chunk = (chunks * u128::from(i) / u128::from(count)) as u64;
        chunk.saturating_mul(CHUNK).min(trials)
    };
    bound(index)..bound(index + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_ranges_tile_the_trials_on_chunk_boundaries() {
        for trials in [1, 1023, 1024, 1025, 10 * CHUNK + 7, 100_000] {
            for count in [1, 2, 3, 7, 64, 1000] {
                let mut next = 0;
                for index in 0..count {
                    let r = shard_range(trials, index, count);
                    assert_eq!(r.start, next, "trials {trials} shard {index}/{count}");
                    assert!(
                        r.start.is_multiple_of(CHUNK)
                            && (r.end.is_multiple_of(CHUNK) || r.end == trials)
                    );
                    next = r.end;
                }
                assert_eq!(next, trials);
            }
        }
        // More shards than chunks: some are empty.
        assert!(shard_range(1024, 0, 2).is_empty());
        assert_eq!(shard_range(1024, 1, 2), 0..1024);
    }

    fn model(name: &str) -> Model {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("scenarios")
            .join(name);
        let loaded = crate::scenario::load(&path, &[]).unwrap();
        crate::model::compile(&loaded.scenario, 11).unwrap()
    }

    /// Every summary of `acc` finished (its serialised form also holds unfolded buffers,
    /// whose order depends on which worker ran which chunk).
    fn json(acc: &Accumulator) -> String {
        let money = |s: &[MoneyStats]| s.iter().map(MoneyStats::finish).collect::<Vec<_>>();
        let real = |s: &[RealStats]| s.iter().map(RealStats::finish).collect::<Vec<_>>();
        let avoided: Vec<_> = acc
            .scheme_avoided
            .iter()
            .flatten()
            .map(|(_, s)| s.finish())
            .collect();
        format!(
            "{} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?}",
            acc.trials,
            money(&[acc.total_paid.clone(), acc.total_unreleased.clone()]),
            (acc.total_full, acc.total_zero),
            money(&acc.tranche_paid),
            (&acc.tranche_full, &acc.tranche_zero, &acc.condition_met),
            money(&acc.condition_paid),
            real(&acc.window_expected),
            real(&acc.window_observed),
            real(&acc.window_achieved),
            avoided,
            (money(&acc.scheme_invest), money(&acc.scheme_savings)),
            real(&acc.scheme_roi),
            acc.scheme_roi_above_1,
            (money(&acc.partner_invest), money(&acc.partner_savings)),
            (money(&acc.partner_performance), money(&acc.partner_risks)),
            money(&acc.partner_net),
        )
    }

    #[test]
    fn a_parallel_merge_is_a_merge_and_settling_folds_every_summary() {
        let model = model("ealing-2014.toml");
        // Fewer trials than a quantile buffer holds, pushed one by one (a run settles its
        // result): every summary has keys pending.
        let pushed = |range: Range<u64>| {
            let (mut acc, mut t) = (Accumulator::new(&model), Trial::new(&model));
            for index in range {
                model.simulate(index, &mut t);
                acc.push(&model, &t);
            }
            acc.end_chunk();
            acc
        };
        let (a, b) = (pushed(0..3000), pushed(3000..5100));
        let pending = |acc: &Accumulator| {
            let debug = format!("{acc:?}");
            let stores = debug.matches("pending: [").count();
            (stores, stores - debug.matches("pending: []").count())
        };
        let (stores, unfolded) = pending(&a);
        assert!(stores > 50 && unfolded == stores, "{stores} {unfolded}");
        let mut merged = a.clone();
        merged.merge(&b);
        let mut parallel = a.clone();
        let workers = pool(2).unwrap();
        workers.install(|| parallel.merge_parallel(&b));
        assert_eq!(json(&parallel), json(&merged));
        workers.install(|| parallel.settle_parallel());
        // Every summary is folded (a summary missed would only lose the speed-up), and
        // the answers are the same.
        assert_eq!(pending(&parallel), (stores, 0));
        assert_eq!(json(&parallel), json(&merged));
    }

    #[test]
    fn run_until_equals_a_plain_run_of_the_trials_it_ran() {
        let model = model("ealing-2014-prorata.toml");
        // Never enough: every batch runs, the last one cut at max (mid-chunk).
        let max = 5 * CHUNK + 17;
        let plain = json(&run(&model, 0..max, 1).unwrap());
        for threads in [1, 2, 3] {
            let mut seen = Vec::new();
            let acc = run_until(&model, max, 2, threads, |paid| {
                seen.push(paid.len());
                false
            })
            .unwrap();
            assert_eq!(seen, [2 * CHUNK, 4 * CHUNK, max], "threads {threads}");
            assert_eq!(json(&acc), plain, "threads {threads}");
        }
        // Enough after the second batch: the moments it saw are those of the trials so
        // far, and the result is a plain run of them.
        let four = run(&model, 0..4 * CHUNK, 2).unwrap();
        let mut calls = 0;
        let acc = run_until(&model, max, 2, 2, |paid| {
            calls += 1;
            calls == 2 && {
                assert_eq!(paid, four.total_paid.moments());
                true
            }
        })
        .unwrap();
        assert_eq!(calls, 2);
        assert_eq!(json(&acc), json(&four));
        // No trials: no batch, an empty accumulator.
        let none = run_until(&model, 0, 2, 2, |_| unreachable!()).unwrap();
        assert_eq!(none.trials, 0);
    }
}
