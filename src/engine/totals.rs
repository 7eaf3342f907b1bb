//! The few figures of a run that `sweep`'s rows, the tornado's points and `compare`'s
//! sides read — total paid (with its quantiles), P(every tranche paid in full),
//! P(nothing paid) and each partner's mean net — folded on the engine's block path
//! without the run's other summaries ([`Totals`], [`run_totals`]).
//!
//! A full [`super::run`] keeps about 75 summaries, each with a quantile histogram that
//! fills from empty in every worker; these commands threw all but a few away. The figures
//! are the same values pushed into the same kinds of summary as a full run pushes them
//! (exact integer sums, and the order-free histogram of total paid), so they equal
//! `Results::new`'s bit for bit, on any thread count.
use super::{BLOCK, EngineError, Gather, NEVER, checked, fold_chunks_in_place, simulate_block};
use crate::model::{Lanes, Model, Trial};
use crate::stats::{MoneyStats, PenceMoments, Proportion};
use std::ops::Range;

/// Total paid, P(full), P(zero) and each partner's net over some trials; mergeable.
#[derive(Clone)]
pub struct Totals {
    /// Total paid per trial (mean, sd, mcse and quantiles as `run` reports them).
    pub paid: MoneyStats,
    /// Whether every tranche was paid in full.
    pub full: Proportion,
    /// Whether nothing was paid.
    pub zero: Proportion,
    /// Per partner (the model's order): net per trial.
    pub net: Vec<PenceMoments>,
}

impl Totals {
    pub fn new(model: &Model) -> Totals {
        Totals {
            paid: MoneyStats::new(),
            full: Proportion::default(),
            zero: Proportion::default(),
            net: vec![PenceMoments::new(); model.partners],
        }
    }

    /// Adds the trial in lane `lane` of a block `model.simulate_block` has just run: the
    /// trial itself, and its lanes for the partners' money (the block leaves that in its
    /// lanes, not in the trials). The caller has `checked` the trial.
    #[inline]
    pub fn push(&mut self, model: &Model, trial: &Trial, lanes: &Lanes, lane: usize) {
        self.paid.push(trial.total_paid);
        let mut tranches = model.tranches.iter().zip(&trial.tranche_paid);
        self.full.push(tranches.all(|(t, paid)| *paid == t.amount));
        self.zero.push(trial.total_paid == 0);
        for (p, net) in self.net.iter_mut().enumerate() {
            let [.., partner_net] = lanes.partner(p);
            net.push(partner_net[lane]);
        }
    }

    pub fn merge(&mut self, other: &Totals) {
        self.paid.merge(&other.paid);
        self.full.merge(&other.full);
        self.zero.merge(&other.zero);
        for (a, b) in self.net.iter_mut().zip(&other.net) {
            a.merge(b);
        }
    }
}

/// The [`Totals`] of `model` over trials `range` on `threads` workers (0 = all cores):
/// the figures [`super::run`] gives for them, and the same error when a trial's money
/// leaves the exact range (the lowest such trial).
pub fn run_totals(model: &Model, range: Range<u64>, threads: usize) -> Result<Totals, EngineError> {
    let totals = fold_chunks_in_place(
        range,
        threads,
        &NEVER,
        &|_| {},
        || Worker::new(model),
        |w, index| match w.block.take(index) {
            true => w.run_block(model),
            false => Ok(()),
        },
        |w| w.run_block(model),
        |a, b| a.totals.merge(&b.totals),
    )?;
    Ok(totals.map_or_else(|| Totals::new(model), |w| w.totals))
}

/// One worker's totals in [`run_totals`], and the block of trials it is gathering.
struct Worker {
    trials: Vec<Trial>,
    lanes: Lanes,
    block: Gather,
    totals: Totals,
}

impl Worker {
    fn new(model: &Model) -> Worker {
        Worker {
            trials: vec![Trial::new(model); BLOCK],
            lanes: Lanes::new(model, BLOCK),
            block: Gather::default(),
            totals: Totals::new(model),
        }
    }

    /// Simulates the gathered trials and adds them in trial order; the first whose money
    /// left the exact range stops the worker.
    fn run_block(&mut self, model: &Model) -> Result<(), EngineError> {
        let (first, n) = self.block.drain();
        simulate_block(model, first, &mut self.trials[..n], &mut self.lanes);
        for (i, trial) in self.trials[..n].iter().enumerate() {
            checked(model, trial, trial.index)?;
            self.totals.push(model, trial, &self.lanes, i);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Pence;

    #[test]
    fn totals_are_the_figures_a_full_run_reports() {
        for name in ["ealing-2014.toml", "hackney-2018.toml"] {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("scenarios")
                .join(name);
            let loaded = crate::scenario::load(&path, &[]).unwrap();
            let model = crate::model::compile(&loaded.scenario, 5).unwrap();
            for (range, threads) in [(0..0, 2), (0..1, 1), (0..3149, 1), (700..3149, 3)] {
                let what = format!("{name}, trials {range:?}, {threads} threads");
                let acc = super::super::run(&model, range.clone(), threads).unwrap();
                let totals = run_totals(&model, range.clone(), threads).unwrap();
                assert_eq!(totals.paid.finish(), acc.total_paid.finish(), "{what}");
                assert_eq!(totals.full, acc.total_full, "{what}");
                assert_eq!(totals.zero, acc.total_zero, "{what}");
                let net: Vec<Pence> = acc.partner_net.iter().map(|n| n.finish().mean).collect();
                let ours: Vec<Pence> = totals.net.iter().map(PenceMoments::mean_pence).collect();
                assert_eq!(ours, net, "{what}");
                let mcse: Vec<Pence> = acc.partner_net.iter().map(|n| n.finish().mcse).collect();
                let ours: Vec<Pence> = totals.net.iter().map(PenceMoments::mcse_pence).collect();
                assert_eq!(ours, mcse, "{what}");
                assert!(range.end < 2 || net.iter().any(|&n| n != 0), "{what}");
            }
        }
    }
}
