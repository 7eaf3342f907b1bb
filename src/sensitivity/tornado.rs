//! Tornado: each input held at a low and a high value while every other input stays
//! uncertain, same seed (common random numbers), sorted by the swing of expected paid.
//!
//! A parameter is held at its p10 and p90 (exact quantiles for one-uniform
//! distributions; for a `product`, the empirical p10/p90 of 100,001 draws from its own
//! stream). A yes/no outcome with a fixed probability is held at no and at yes. When the
//! input is correlated, its partners move with it: the copula is conditioned on the
//! input's rank (0.1 / 0.9; for an outcome, the middle rank of the no or yes region,
//! (1 - p)/2 and 1 - p/2), so partners are drawn from their conditional distribution.
use super::{Input, InputKind};
use crate::engine::{self, EngineError};
use crate::model::Model;
use crate::money::Pence;
use crate::rng::stream;
use crate::sampling::Hold;
use crate::stats::PenceMoments;

/// Expected figures of one run.
#[derive(Clone, Debug)]
pub struct Point {
    pub paid: Pence,
    pub p_full: f64,
    pub net: Vec<Pence>,
}

impl Point {
    /// The expected figures of `model` over trials 0..trials: what `run` reports as the
    /// mean of total paid, P(all paid in full) and each partner's mean net, from a run
    /// that keeps only those figures ([`engine::run_totals`]).
    pub fn run(model: &Model, trials: u64, threads: usize) -> Result<Point, EngineError> {
        let totals = engine::run_totals(model, 0..trials, threads)?;
        Ok(Point {
            paid: totals.paid.moments().mean_pence(),
            p_full: totals.full.value(),
            net: totals.net.iter().map(PenceMoments::mean_pence).collect(),
        })
    }
}

/// One bar of the tornado.
#[derive(Clone, Debug)]
pub struct Row {
    pub path: String,
    pub correlated: bool,
    /// "p10/p90" or "no/yes".
    pub held: &'static str,
    pub low_value: f64,
    pub high_value: f64,
    pub low: Point,
    pub high: Point,
}

impl Row {
    /// |E[paid | high] - E[paid | low]| in pence.
    pub fn swing(&self) -> Pence {
        (self.high.paid - self.low.paid).abs()
    }
}

/// The p10 and p90 of parameter `i`.
pub fn p10_p90(model: &Model, i: usize) -> (f64, f64) {
    let p = &model.params[i];
    if p.uniforms <= 1 {
        return (p.quantile.value(&[0.1]), p.quantile.value(&[0.9]));
    }
    const DRAWS: u64 = 100_001;
    let mut us = vec![0.0; p.uniforms];
    let mut values: Vec<f64> = (0..DRAWS)
        .map(|t| {
            let mut s = stream(p.key, t);
            for u in us.iter_mut() {
                *u = s.uniform();
            }
            p.quantile.value(&us)
        })
        .collect();
    values.sort_by(f64::total_cmp);
    (values[10_000], values[90_000])
}

/// The model with `input` held at its low (`high = false`) or high value.
pub fn held_model(model: &Model, input: &Input, high: bool) -> (Model, f64) {
    let mut m = model.clone();
    let (hold, value, rank) = match input.kind {
        InputKind::Param(i) => {
            let (lo, hi) = p10_p90(model, i);
            let value = if high { hi } else { lo };
            let rank = if high { 0.9 } else { 0.1 };
            (Hold::Value { param: i, value }, value, rank)
        }
        InputKind::Outcome(o) => {
            let p = model.params[model.outcomes[o].probability]
                .fixed
                .unwrap_or(0.5);
            let rank = if high { 1.0 - p / 2.0 } else { (1.0 - p) / 2.0 };
            (
                Hold::Outcome {
                    outcome: o,
                    occurs: high,
                },
                f64::from(u8::from(high)),
                rank,
            )
        }
    };
    m.sampler.holds.push(hold);
    if let (Some(dim), Some((copula, _))) = (input.copula_dim, &model.copula) {
        m.sampler.conditional = Some(copula.conditional(dim, rank));
    }
    (m, value)
}

/// The tornado over `inputs`, sorted by swing of expected paid (largest first; ties by
/// path). Runs 2 x inputs x trials trials.
pub fn tornado(
    model: &Model,
    inputs: &[Input],
    trials: u64,
    threads: usize,
    mut progress: impl FnMut(usize),
) -> Result<Vec<Row>, EngineError> {
    let mut rows = Vec::with_capacity(inputs.len());
    for (k, input) in inputs.iter().enumerate() {
        progress(k);
        let (low_model, low_value) = held_model(model, input, false);
        let (high_model, high_value) = held_model(model, input, true);
        let low = Point::run(&low_model, trials, threads)?;
        let high = Point::run(&high_model, trials, threads)?;
        rows.push(Row {
            path: input.path.clone(),
            correlated: input.correlated(),
            held: match input.kind {
                InputKind::Param(_) => "p10/p90",
                InputKind::Outcome(_) => "no/yes",
            },
            low_value,
            high_value,
            low,
            high,
        });
    }
    rows.sort_by(|a, b| b.swing().cmp(&a.swing()).then_with(|| a.path.cmp(&b.path)));
    Ok(rows)
}
