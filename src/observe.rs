//! Running trials with an extra per-trial observer whose per-chunk results are handed
//! back in trial order: what report data (monthly fans, histograms) and the streamed
//! per-trial CSV need beyond the engine's summaries.
//!
//! It reuses the engine's fixed chunks (`engine::CHUNK`), `Accumulator` and merge, so the
//! summaries are bit-identical to `engine::run`. Chunks are computed in parallel in
//! batches of a few per thread; each batch is collected in chunk order and passed to the
//! sink on the calling thread before the next batch starts. So the sink sees chunks in
//! trial order, and memory holds at most one batch of chunk results (bounded, whatever
//! the trial count). A sink error stops the run after the current batch.
use crate::engine::{Accumulator, Blocks, CHUNK, EngineError};
use crate::model::{Model, Trial};
use rayon::prelude::*;
use std::ops::Range;

/// Chunks per thread in one batch: enough to keep every thread busy between sink calls.
const CHUNKS_PER_THREAD: u64 = 4;

/// Sees every trial as `Model::simulate` gives it but its parameters' `uniforms`
/// (simulated on the block path and completed from the lanes, `Model::complete_trial`);
/// one `Chunk` state per engine chunk.
pub trait TrialObserver: Sync {
    type Chunk: Send;
    /// A fresh state for the chunk that starts at trial `first`.
    fn start_chunk(&self, first: u64) -> Self::Chunk;
    /// Called for each trial of the chunk, in trial order.
    fn trial(&self, chunk: &mut Self::Chunk, model: &Model, trial: &Trial);
    /// Called once after the chunk's last trial, on the worker thread (e.g. to compact).
    fn finish_chunk(&self, _chunk: &mut Self::Chunk) {}
}

/// Why an observed run stopped.
#[derive(Debug, thiserror::Error)]
pub enum ObserveError {
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// The sink refused a chunk (e.g. a write failed); its message.
    #[error("{0}")]
    Sink(String),
}

/// Runs trials `range` on `threads` workers (0 = all cores), feeding `observer`, and
/// passes each chunk's observer state to `sink` in trial order.
pub fn run_observed<O: TrialObserver>(
    model: &Model,
    range: Range<u64>,
    threads: usize,
    observer: &O,
    mut sink: impl FnMut(O::Chunk) -> Result<(), String>,
) -> Result<Accumulator, ObserveError> {
    let pool = crate::engine::pool(threads)?;
    let batch = (pool.current_num_threads() as u64).max(1) * CHUNKS_PER_THREAD;
    let first_chunk = range.start / CHUNK;
    let last_chunk = range.end.div_ceil(CHUNK);
    let mut total = Accumulator::new(model);
    let mut next = first_chunk;
    while next < last_chunk {
        let end = (next + batch).min(last_chunk);
        let results: Vec<Result<(Accumulator, O::Chunk), crate::engine::EngineError>> = pool
            .install(|| {
                (next..end)
                    .into_par_iter()
                    .map_init(
                        || Blocks::new(model),
                        |blocks, chunk| {
                            let from = (chunk * CHUNK).max(range.start);
                            let to = ((chunk + 1) * CHUNK).min(range.end);
                            let mut acc = Accumulator::new(model);
                            let mut state = observer.start_chunk(from);
                            blocks.simulate_each(model, from..to, |trial| {
                                acc.push(model, trial);
                                observer.trial(&mut state, model, trial);
                            })?;
                            observer.finish_chunk(&mut state);
                            Ok((acc, state))
                        },
                    )
                    .collect()
            });
        for result in results {
            // Chunks are in trial order, so the first error is the lowest trial's.
            let (acc, state) = result.map_err(ObserveError::Engine)?;
            total.merge(&acc);
            sink(state).map_err(ObserveError::Sink)?;
        }
        next = end;
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::load;

    struct Indices;
    impl TrialObserver for Indices {
        type Chunk = Vec<u64>;
        fn start_chunk(&self, _first: u64) -> Vec<u64> {
            Vec::new()
        }
        fn trial(&self, chunk: &mut Vec<u64>, _model: &Model, trial: &Trial) {
            chunk.push(trial.index);
        }
    }

    #[test]
    fn chunks_arrive_in_trial_order_and_summaries_match_the_engine() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("scenarios/ealing-2014-prorata.toml");
        let loaded = load(&path, &[]).unwrap();
        let model = crate::model::compile(&loaded.scenario, 3).unwrap();
        let range = 100..(CHUNK * 9 + 17);
        let mut seen = Vec::new();
        let acc = run_observed(&model, range.clone(), 3, &Indices, |c| {
            seen.extend(c);
            Ok(())
        })
        .unwrap();
        assert_eq!(seen, range.clone().collect::<Vec<_>>());
        let plain = crate::engine::run(&model, range, 1).unwrap();
        assert_eq!(acc.total_paid.finish(), plain.total_paid.finish());
        assert_eq!(acc.partner_net[0].finish(), plain.partner_net[0].finish());
    }

    #[test]
    fn a_sink_error_stops_the_run() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/ealing-2014.toml");
        let loaded = load(&path, &[]).unwrap();
        let model = crate::model::compile(&loaded.scenario, 3).unwrap();
        let mut calls = 0;
        let err = run_observed(&model, 0..CHUNK * 40, 1, &Indices, |_| {
            calls += 1;
            Err("disk full".into())
        })
        .unwrap_err();
        assert_eq!(calls, 1);
        assert_eq!(err.to_string(), "disk full");
    }
}
