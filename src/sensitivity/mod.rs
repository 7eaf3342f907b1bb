//! Sensitivity analysis: which uncertain inputs drive the money.
//!
//! An *input* is every parameter that is not fixed (by path) plus every yes/no outcome
//! (delivery, event, risk occurring: `<path>#outcome`) whose probability is fixed strictly
//! between 0 and 1. An outcome whose probability is itself a distribution is analysed
//! through that probability (its outcome uniform travels with it in Sobol).
//!
//! Three methods, all on the compiled model through its `Sampler` (never by editing the
//! scenario), so every other stream is untouched and runs share common random numbers:
//! `tornado` (each input held at its p10 and p90, or an outcome held at no and yes),
//! `rank` (Spearman correlations from one run) and `sobol` (Saltelli/Jansen indices on
//! the inputs' uniforms). `report` renders the results as text, JSON and CSV.
use crate::engine::{Blocks, CHUNK};
use crate::model::{Model, Slot, Trial};
use rayon::prelude::*;

pub mod rank;
pub mod report;
pub mod sobol;
pub mod tornado;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputKind {
    /// A parameter by index.
    Param(usize),
    /// A yes/no outcome with a fixed probability, by outcome index.
    Outcome(usize),
}

/// One uncertain input.
#[derive(Clone, Debug)]
pub struct Input {
    pub path: String,
    pub kind: InputKind,
    /// Dimension in the Gaussian copula when the input is correlated with others.
    pub copula_dim: Option<usize>,
    /// Outcomes whose probability is this parameter (moved with it in Sobol).
    pub outcomes: Vec<usize>,
}

impl Input {
    pub fn correlated(&self) -> bool {
        self.copula_dim.is_some()
    }
}

/// Every uncertain input of `model`, in model order.
pub fn inputs(model: &Model) -> Vec<Input> {
    let slots: &[Slot] = model.copula.as_ref().map_or(&[], |(_, s)| s.as_slice());
    let dim_of = |kind: InputKind| {
        slots.iter().position(|s| match (*s, kind) {
            (Slot::Param(a), InputKind::Param(b)) => a == b,
            (Slot::Outcome(a), InputKind::Outcome(b)) => a == b,
            _ => false,
        })
    };
    let mut out = Vec::new();
    for (i, p) in model.params.iter().enumerate() {
        if p.fixed.is_none() {
            out.push(Input {
                path: p.path.clone(),
                kind: InputKind::Param(i),
                copula_dim: dim_of(InputKind::Param(i)),
                outcomes: (0..model.outcomes.len())
                    .filter(|&o| model.outcomes[o].probability == i)
                    .collect(),
            });
        }
    }
    for (o, outcome) in model.outcomes.iter().enumerate() {
        let p = &model.params[outcome.probability];
        if let Some(prob) = p.fixed
            && prob > 0.0
            && prob < 1.0
        {
            out.push(Input {
                path: outcome.path.clone(),
                kind: InputKind::Outcome(o),
                copula_dim: dim_of(InputKind::Outcome(o)),
                outcomes: Vec::new(),
            });
        }
    }
    out
}

/// The per-trial outputs every method looks at: total paid and each partner's net, in
/// pounds (f64 here only for statistics; the money itself was summed in pence).
pub fn outputs(t: &Trial) -> impl Iterator<Item = f64> + '_ {
    outputs_pence(t).map(|p| p / 100.0)
}

/// `outputs` in whole pence (exact in f64 below 2^53 pence): Sobol's estimator needs
/// the integers, so that an output and a constant minus it get identical indices.
pub fn outputs_pence(t: &Trial) -> impl Iterator<Item = f64> + '_ {
    std::iter::once(t.total_paid as f64).chain(t.partner_net.iter().map(|p| *p as f64))
}

/// Names of `outputs`: "paid", then `"net.<partner>"`.
pub fn output_names(model: &Model) -> Vec<String> {
    std::iter::once("paid".to_string())
        .chain(
            model
                .scenario
                .partners
                .iter()
                .map(|p| format!("net.{}", p.id)),
        )
        .collect()
}

/// Runs trials `range` and returns, in trial order, `per_trial(trial)` values for each
/// trial (row-major, `width` per trial). Chunked like the engine, so the result does
/// not depend on the thread count; each chunk's trials simulated a block at a time on
/// the block path and completed from the lanes (`engine::Blocks::simulate_each`), so
/// `per_trial` sees what `Model::simulate` gives.
pub fn collect(
    model: &Model,
    range: std::ops::Range<u64>,
    threads: usize,
    width: usize,
    per_trial: impl Fn(&Trial, &mut Vec<f64>) + Sync,
) -> Result<Vec<f64>, crate::engine::EngineError> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| crate::engine::EngineError::Threads {
            threads,
            message: e.to_string(),
        })?;
    let first = range.start / CHUNK;
    let last = range.end.div_ceil(CHUNK);
    let parts: Vec<Vec<f64>> = pool.install(|| {
        (first..last)
            .into_par_iter()
            .map_init(
                || Blocks::new(model),
                |blocks, chunk| {
                    let from = (chunk * CHUNK).max(range.start);
                    let to = ((chunk + 1) * CHUNK).min(range.end);
                    let mut rows = Vec::with_capacity((to - from) as usize * width);
                    blocks.simulate_each(model, from..to, |trial| per_trial(trial, &mut rows))?;
                    Ok(rows)
                },
            )
            .collect::<Result<Vec<_>, crate::engine::EngineError>>()
    })?;
    Ok(parts.concat())
}
