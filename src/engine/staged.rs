//! Trials' values staged a block at a time and added to the summaries column by column.
//!
//! [`Accumulator::push`] visits about a hundred summaries per trial (for Ealing), each with
//! its own state and quantile buffer, to add one value to each: most of its cost is
//! loading and storing every summary's state around a few instructions of work.
//! [`Staged`] instead writes each trial's values into one column per summary (one store
//! per value) and, every [`BLOCK`] trials and whenever the engine ends a chunk, adds each
//! column to its summary in one tight loop (`push_all` of [`MoneyStats`], [`RealStats`],
//! [`Proportion`]), the summary's running state held in registers across the column.
//!
//! The result is bit for bit that of [`Accumulator::push`] on each trial: every summary
//! receives the same values in the same (trial) order, and a block never spans the end of
//! a chunk (the engine flushes before [`Accumulator::end_chunk`]), so the floating-point
//! chunk sums add the same numbers in the same order. [`Staged::flush`] lists the columns
//! in the order of [`Accumulator::push`], and [`Staged::push`] puts each value in its
//! column (one loop may fill several columns, or several buffers, a position at a time);
//! a test checks the two paths agree.
//!
//! The engine stages a whole block at once ([`Staged::push_block`], after
//! [`Model::simulate_block`]): each trial's values go in trial by trial as above, but for
//! the values the block leaves in its lanes' columns rather than in the trials (each
//! window's result, [`Lanes::window`], each condition's outcome, [`Lanes::condition`],
//! each scheme's attributed avoided activity, [`Lanes::attributed`], and its spend,
//! savings and return, [`Lanes::scheme`], and each partner's money, [`Lanes::partner`]),
//! which are copied a column at a time. A second test holds this path to the
//! trial-by-trial one.
use super::Accumulator;
use crate::model::{Lanes, Model, Trial};
use crate::stats::{MoneyStats, Proportion, RealStats};

/// Trials per block: a block's columns (about 100 values of 8 bytes a trial for Ealing,
/// 51 KiB at 64 trials) stay in the second-level cache while it fills, and the model's
/// loops over a block's lanes run long enough to pay their setup. Measured (eleventh
/// round, `itfsim bench`, medians of five alternating runs on 2 threads): 64 trials ran
/// 1.9% faster than 32 for Ealing (2.1% for national-2014-design, 3.4% for
/// hackney-2018); 128 ran 10% slower. A divisor of [`super::CHUNK`].
pub const BLOCK: usize = 64;

/// A block of trials' values, one column of [`BLOCK`] slots per summary; see the module
/// documentation. Holds nothing between blocks but its buffers.
pub struct Staged {
    money: Vec<i64>,
    reals: Vec<f64>,
    flags: Vec<bool>,
    /// For each column of schemes' avoided activity (`Accumulator::scheme_avoided`
    /// flattened): the scheme, the metric, and the column of `Lanes::attributed` that
    /// holds it after a block (none: it stays 0).
    avoided: Vec<(usize, usize, Option<usize>)>,
    /// Trials staged and not yet added.
    rows: usize,
}

/// Writes one trial's values into its row of consecutive columns: `at` is the row's slot
/// in the next column.
struct Row<'a, V> {
    slots: &'a mut [V],
    at: usize,
}

impl<V: Copy> Row<'_, V> {
    #[inline]
    fn put(&mut self, value: V) {
        self.slots[self.at] = value;
        self.at += BLOCK;
    }

    /// Puts each of `N` equally long vectors' values in turn, in one loop over their
    /// positions (one loop's overhead for `N` values).
    #[inline]
    fn put_columns<const N: usize>(&mut self, vectors: [&[V]; N]) {
        let n = vectors[0].len();
        assert!(vectors.iter().all(|v| v.len() == n), "equally long vectors");
        let step = n * BLOCK;
        for i in 0..n {
            let at = self.at + i * BLOCK;
            for (j, v) in vectors.iter().enumerate() {
                self.slots[at + j * step] = v[i];
            }
        }
        self.at += N * step;
    }
}

/// A summary that takes a column of values at once.
trait Summary {
    type Value;
    fn push_all(&mut self, values: &[Self::Value]);
}

macro_rules! summary {
    ($($stats:ty: $value:ty),*) => {$(
        impl Summary for $stats {
            type Value = $value;
            #[inline(always)]
            fn push_all(&mut self, values: &[$value]) {
                <$stats>::push_all(self, values)
            }
        }
    )*};
}
summary!(MoneyStats: i64, RealStats: f64, Proportion: bool);

/// Adds the next `stats.len()` columns to `stats`, in order.
#[inline(always)]
fn each<S: Summary>(stats: &mut [S], columns: &mut Columns<S::Value>) {
    for s in stats {
        s.push_all(columns.next());
    }
}

/// Reads consecutive columns' first `rows` values.
struct Columns<'a, V> {
    columns: std::slice::ChunksExact<'a, V>,
    rows: usize,
}

impl<'a, V> Columns<'a, V> {
    #[inline]
    fn next(&mut self) -> &'a [V] {
        &self.columns.next().expect("a column per summary")[..self.rows]
    }
}

impl Staged {
    pub fn new(model: &Model) -> Staged {
        let (t, c, w, s, p) = (
            model.tranches.len(),
            model.conditions,
            model.windows.len(),
            model.schemes.len(),
            model.partners,
        );
        let schemes = model.scenario.schemes.iter().enumerate();
        let avoided: Vec<(usize, usize, Option<usize>)> = (schemes.flat_map(|(s, sc)| {
            (sc.effects.iter()).map(move |e| (s, e.metric, model.attributed_column(s, e.metric)))
        }))
        .collect();
        let money = 2 + t + c + 2 * s + 5 * p;
        let reals = 3 * w + avoided.len() + s;
        let flags = 2 + 2 * t + c + s;
        Staged {
            money: vec![0; money * BLOCK],
            reals: vec![0.0; reals * BLOCK],
            flags: vec![false; flags * BLOCK],
            avoided,
            rows: 0,
        }
    }

    /// Stages trial `t` (after [`Model::simulate`]), adding the block to `acc` when it is
    /// full.
    #[inline(always)]
    pub fn push(&mut self, model: &Model, t: &Trial, acc: &mut Accumulator) {
        self.stage(model, t, true);
        if self.rows == BLOCK {
            self.flush(acc);
        }
    }

    /// Stages the trials of a block (after [`Model::simulate_block`] into `lanes`, the
    /// first `trials.len()` of its trials), in order, adding the block to `acc` when it is
    /// full: the same as [`Staged::push`] of each trial after [`Model::simulate`]. They
    /// must fit in the block's free rows (the engine starts each block at row 0). The
    /// windows' results, the conditions' outcomes, the schemes' avoided activity, spend,
    /// savings and return and the partners' money are copied from the lanes' columns
    /// ([`Lanes::window`], [`Lanes::condition`], [`Lanes::attributed`], [`Lanes::scheme`],
    /// [`Lanes::partner`]), a column at a time; the rest trial by trial.
    #[inline(always)]
    pub fn push_block(
        &mut self,
        model: &Model,
        trials: &[Trial],
        lanes: &Lanes,
        acc: &mut Accumulator,
    ) {
        let (at, n) = (self.rows, trials.len());
        assert!(at + n <= BLOCK, "a block's trials fit in its free rows");
        for t in trials {
            self.stage(model, t, false);
        }
        let (tranches, c) = (model.tranches.len(), model.conditions);
        let met = self.flags[(2 + 2 * tranches) * BLOCK..].chunks_exact_mut(BLOCK);
        let paid = self.money[(2 + tranches) * BLOCK..].chunks_exact_mut(BLOCK);
        for (k, (met, paid)) in met.zip(paid).take(c).enumerate() {
            let (met_in, _, paid_in) = lanes.condition(k);
            met[at..][..n].copy_from_slice(&met_in[..n]);
            paid[at..][..n].copy_from_slice(&paid_in[..n]);
        }
        // Each window's expected, observed and achieved result: three groups of a column
        // per window.
        let w = model.windows.len();
        let windows = &mut self.reals[..3 * w * BLOCK];
        for v in 0..w {
            let (expected, observed, achieved) = lanes.window(v);
            for (k, column) in [expected, observed, achieved].into_iter().enumerate() {
                windows[(k * w + v) * BLOCK + at..][..n].copy_from_slice(&column[..n]);
            }
        }
        let first = 3 * w;
        let mut columns = self.reals[first * BLOCK..].chunks_exact_mut(BLOCK);
        // The columns second, so that the zip takes none past the last avoided one.
        for (&(_, _, from), column) in self.avoided.iter().zip(columns.by_ref()) {
            let column = &mut column[at..][..n];
            match from {
                Some(from) => column.copy_from_slice(&lanes.attributed(from)[..n]),
                None => column.fill(0.0),
            }
        }
        // Each scheme's spend and savings (pence), return, and whether it is above 1.
        let s = model.schemes.len();
        let money = &mut self.money[(2 + tranches + c) * BLOCK..][..2 * s * BLOCK];
        let (invest, savings) = money.split_at_mut(s * BLOCK);
        let money = invest
            .chunks_exact_mut(BLOCK)
            .zip(savings.chunks_exact_mut(BLOCK));
        let flags = self.flags[(2 + 2 * tranches + c) * BLOCK..].chunks_exact_mut(BLOCK);
        let each = money.zip(columns.zip(flags));
        for (i, ((invest, savings), (roi, above))) in each.enumerate() {
            let (invest_in, savings_in, roi_in) = lanes.scheme(i);
            invest[at..][..n].copy_from_slice(&invest_in[..n]);
            savings[at..][..n].copy_from_slice(&savings_in[..n]);
            roi[at..][..n].copy_from_slice(&roi_in[..n]);
            for (above, &roi) in above[at..][..n].iter_mut().zip(&roi_in[..n]) {
                *above = roi > 1.0;
            }
        }
        // Each partner's spend, savings, performance money, risks and net: five groups of
        // a column per partner.
        let p = model.partners;
        let partners = &mut self.money[(2 + tranches + c + 2 * s) * BLOCK..][..5 * p * BLOCK];
        for q in 0..p {
            for (k, column) in lanes.partner(q).into_iter().enumerate() {
                partners[(k * p + q) * BLOCK + at..][..n].copy_from_slice(&column[..n]);
            }
        }
        if self.rows == BLOCK {
            self.flush(acc);
        }
    }

    /// Stages trial `t` in the next row; its windows' results, conditions' outcomes,
    /// schemes' avoided activity, spend, savings and return and partners' money only if
    /// `all` (otherwise leaving those columns' slots for `push_block`).
    #[inline(always)]
    fn stage(&mut self, model: &Model, t: &Trial, all: bool) {
        let row = self.rows;
        let mut money = Row {
            slots: &mut self.money,
            at: row,
        };
        let mut reals = Row {
            slots: &mut self.reals,
            at: row,
        };
        let mut flags = Row {
            slots: &mut self.flags,
            at: row,
        };
        money.put(t.total_paid);
        money.put(model.pot - t.total_paid);
        let tranches = model.tranches.iter().zip(&t.tranche_paid);
        let all_full = tranches.clone().all(|(tr, &paid)| paid == tr.amount);
        flags.put(all_full);
        flags.put(t.total_paid == 0);
        // Each buffer's columns stay in `flush`'s order; a loop fills several buffers.
        for (tranche, &paid) in tranches {
            money.put(paid);
            flags.put(paid == tranche.amount);
            flags.put(paid == 0);
        }
        // A condition's achieved value has no column: a metric condition's is its
        // window's (summarised once, as `window_achieved`), an event's is not reported.
        if all {
            let met = &t.condition_met;
            assert!(met.len() == t.condition_paid.len());
            for (&met, &paid) in met.iter().zip(&t.condition_paid) {
                flags.put(met);
                money.put(paid);
            }
        } else {
            let skip = model.conditions * BLOCK;
            (flags.at, money.at) = (flags.at + skip, money.at + skip);
        }
        if all {
            reals.put_columns([&t.window_expected, &t.window_observed, &t.window_achieved]);
        } else {
            reals.at += 3 * model.windows.len() * BLOCK;
        }
        if all {
            for &(scheme, metric, _) in &self.avoided {
                reals.put(t.scheme_avoided[scheme][metric]);
            }
        } else {
            reals.at += self.avoided.len() * BLOCK;
        }
        if all {
            money.put_columns([&t.scheme_invest, &t.scheme_savings]);
            for &roi in &t.scheme_roi {
                reals.put(roi);
                flags.put(roi > 1.0);
            }
        } else {
            // The trial's last real and flag columns are the schemes'.
            money.at += 2 * model.schemes.len() * BLOCK;
        }
        // The trial's last money columns are the partners'.
        if all {
            money.put_columns([
                &t.partner_invest,
                &t.partner_savings,
                &t.partner_performance,
                &t.partner_risks,
                &t.partner_net,
            ]);
        }
        self.rows += 1;
    }

    /// Adds the staged trials to `acc`, each column to its summary, and empties the block.
    #[inline(always)]
    pub fn flush(&mut self, acc: &mut Accumulator) {
        let rows = std::mem::take(&mut self.rows);
        if rows == 0 {
            return;
        }
        let mut money = Columns {
            columns: self.money.chunks_exact(BLOCK),
            rows,
        };
        let mut reals = Columns {
            columns: self.reals.chunks_exact(BLOCK),
            rows,
        };
        let mut flags = Columns {
            columns: self.flags.chunks_exact(BLOCK),
            rows,
        };
        acc.trials += rows as u64;
        acc.total_paid.push_all(money.next());
        acc.total_unreleased.push_all(money.next());
        acc.total_full.push_all(flags.next());
        acc.total_zero.push_all(flags.next());
        each(&mut acc.tranche_paid, &mut money);
        for (full, zero) in acc.tranche_full.iter_mut().zip(&mut acc.tranche_zero) {
            full.push_all(flags.next());
            zero.push_all(flags.next());
        }
        each(&mut acc.condition_met, &mut flags);
        each(&mut acc.condition_paid, &mut money);
        each(&mut acc.window_expected, &mut reals);
        each(&mut acc.window_observed, &mut reals);
        each(&mut acc.window_achieved, &mut reals);
        for (_, stats) in acc.scheme_avoided.iter_mut().flatten() {
            stats.push_all(reals.next());
        }
        each(&mut acc.scheme_invest, &mut money);
        each(&mut acc.scheme_savings, &mut money);
        each(&mut acc.scheme_roi, &mut reals);
        each(&mut acc.scheme_roi_above_1, &mut flags);
        each(&mut acc.partner_invest, &mut money);
        each(&mut acc.partner_savings, &mut money);
        each(&mut acc.partner_performance, &mut money);
        each(&mut acc.partner_risks, &mut money);
        each(&mut acc.partner_net, &mut money);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::CondModel;

    /// Staged pushes (blocks, partial blocks at chunk ends) give exactly the state of
    /// pushing trial by trial, on every shipped scenario.
    #[test]
    fn staged_equals_trial_by_trial() {
        for (path, model) in crate::model::shipped_models() {
            let (mut direct, mut staged) = (Accumulator::new(&model), Accumulator::new(&model));
            let mut block = Staged::new(&model);
            let mut trial = Trial::new(&model);
            // Chunk ends at uneven places, so partial blocks are flushed too.
            for (index, end) in (0..3000u64).map(|i| (i, i % 1000 == 999 || i == 1500)) {
                model.simulate(index, &mut trial);
                direct.push(&model, &trial);
                block.push(&model, &trial, &mut staged);
                if end {
                    block.flush(&mut staged);
                    direct.end_chunk();
                    staged.end_chunk();
                }
            }
            block.flush(&mut staged);
            let json = |a: &Accumulator| serde_json::to_string(a).unwrap();
            assert_eq!(json(&direct), json(&staged), "{}", path.display());
        }
    }

    /// The block path (`Model::simulate_block` into lanes, then `Staged::push_block`)
    /// gives exactly the state of simulating and pushing trial by trial, on every shipped
    /// scenario: full blocks, partial ones flushed at chunk ends, and a block staged after
    /// a partial one (from row 1).
    #[test]
    fn staged_blocks_equal_trial_by_trial() {
        let blocks = [
            (BLOCK, false),
            (BLOCK, false),
            (13, true),
            (BLOCK, false),
            (1, false),
            (BLOCK - 1, false),
            (40, true),
            (BLOCK, false),
        ];
        for (path, model) in crate::model::shipped_models() {
            let (mut direct, mut staged) = (Accumulator::new(&model), Accumulator::new(&model));
            let mut block = Staged::new(&model);
            let mut lanes = Lanes::new(&model, BLOCK);
            let mut trials = vec![Trial::new(&model); BLOCK];
            let mut trial = Trial::new(&model);
            let mut first = 0;
            for (size, end) in blocks {
                model.simulate_block(first, &mut trials[..size], &mut lanes);
                block.push_block(&model, &trials[..size], &lanes, &mut staged);
                for index in first..first + size as u64 {
                    model.simulate(index, &mut trial);
                    direct.push(&model, &trial);
                }
                if end {
                    block.flush(&mut staged);
                    direct.end_chunk();
                    staged.end_chunk();
                }
                first += size as u64;
            }
            block.flush(&mut staged);
            let json = |a: &Accumulator| serde_json::to_string(a).unwrap();
            assert_eq!(json(&direct), json(&staged), "{}", path.display());
        }
    }

    /// A metric condition's achieved value is its window's in every trial, on the trial
    /// path and the block path: what lets a run summarise it once, as the window's
    /// (`window_achieved`), and report that summary for the condition.
    #[test]
    fn a_metric_conditions_achieved_value_is_its_windows() {
        for (path, model) in crate::model::shipped_models() {
            let windows: Vec<(usize, usize)> = (model.tranches.iter())
                .flat_map(|tr| &tr.conditions)
                .enumerate()
                .filter_map(|(c, (cond, _))| match cond {
                    CondModel::Metric { window, .. } => Some((c, *window)),
                    CondModel::Event { .. } => None,
                })
                .collect();
            assert!(!windows.is_empty(), "{}", path.display());
            let mut trial = Trial::new(&model);
            for index in 0..2000 {
                model.simulate(index, &mut trial);
                for &(c, w) in &windows {
                    let (condition, window) =
                        (trial.condition_achieved[c], trial.window_achieved[w]);
                    assert_eq!(condition.to_bits(), window.to_bits(), "{}", path.display());
                }
            }
            let mut lanes = Lanes::new(&model, BLOCK);
            let mut trials = vec![Trial::new(&model); BLOCK];
            for first in (0..2000).step_by(BLOCK) {
                model.simulate_block(first, &mut trials, &mut lanes);
                for &(c, w) in &windows {
                    let (condition, window) = (lanes.condition(c).1, lanes.window(w).2);
                    for (a, b) in condition[..BLOCK].iter().zip(&window[..BLOCK]) {
                        assert_eq!(a.to_bits(), b.to_bits(), "{}", path.display());
                    }
                }
            }
        }
    }
}
