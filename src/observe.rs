//! Running trials with an extra per-trial observer whose per-chunk results are handed
//! back in trial order: what report data (monthly fans, histograms) and the streamed
//! per-trial CSV need beyond the engine's summaries.
//!
//! It runs the engine's own workers (`engine::Worker`: fixed chunks of `engine::CHUNK`,
//! blocks simulated on the block path and staged into one accumulator per worker, kept
//! for the whole run), so the summaries are bit-identical to `engine::run`; after a block
//! is staged, each of its trials is completed from the lanes (`Model::complete_trial`)
//! and shown to the observer. Chunks are computed in parallel in batches of a few per
//! thread on one pool whose workers keep their state from batch to batch
//! (`engine::Folds`); each batch's chunk states are put in chunk
//! order and passed to the sink on the calling thread before the next batch starts. So
//! the sink sees chunks in trial order, and memory holds at most one batch of chunk
//! results (bounded, whatever the trial count). A sink error stops the run after the
//! current batch; of the trials whose money leaves the exact range, the lowest is
//! reported, as `engine::run` does.
use crate::engine::{Accumulator, CHUNK, EngineError, Folds, NEVER, Worker, merged_accumulator};
use crate::model::{Lanes, Model, Trial};
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

/// A worker's state: the engine's [`Worker`] (its accumulator kept for the whole run),
/// the observer state of the chunk it is running with that chunk's first trial, and the
/// chunks it has finished in the current batch.
struct Part<C> {
    worker: Worker,
    chunk: Option<(u64, C)>,
    done: Vec<(u64, C)>,
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
    // One pool, whose workers keep their state from batch to batch.
    let mut folds = Folds::new(threads)?;
    let batch = folds.workers() as u64 * CHUNKS_PER_THREAD;
    let first_chunk = range.start / CHUNK;
    let last_chunk = range.end.div_ceil(CHUNK);
    let mut next = first_chunk;
    while next < last_chunk {
        let end = (next + batch).min(last_chunk);
        let trials = (next * CHUNK).max(range.start)..(end * CHUNK).min(range.end);
        // Errors: the lowest trial's in this batch (earlier batches had none).
        folds.fold(
            trials,
            &NEVER,
            &|_| {},
            || Part {
                worker: Worker::new(model),
                chunk: None,
                done: Vec::new(),
            },
            |part, index| {
                let (_, chunk) = part
                    .chunk
                    .get_or_insert_with(|| (index, observer.start_chunk(index)));
                part.worker
                    .step(model, index, &mut show(model, observer, chunk))
            },
            |part| {
                let Some((first, mut chunk)) = part.chunk.take() else {
                    return Ok(());
                };
                part.worker
                    .end_chunk(model, &mut show(model, observer, &mut chunk))?;
                observer.finish_chunk(&mut chunk);
                part.done.push((first, chunk));
                Ok(())
            },
        )?;
        let mut done: Vec<(u64, O::Chunk)> = folds
            .states_mut()
            .flat_map(|part| part.done.drain(..))
            .collect();
        done.sort_unstable_by_key(|(first, _)| *first);
        for (_, chunk) in done {
            sink(chunk).map_err(ObserveError::Sink)?;
        }
        next = end;
    }
    // Each worker's accumulator holds whole chunks, and merging is exact and order-free.
    Ok(merged_accumulator(folds.map(|part| part.worker), model))
}

/// What a worker does with each trial of `chunk` after its block is staged: completes it
/// from the lanes and shows it to the observer.
fn show<'a, O: TrialObserver>(
    model: &'a Model,
    observer: &'a O,
    chunk: &'a mut O::Chunk,
) -> impl FnMut(&Lanes, usize, &mut Trial) + 'a {
    move |lanes, lane, trial| {
        model.complete_trial(lanes, lane, trial);
        observer.trial(chunk, model, trial);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{Loaded, load};

    /// A shipped scenario, loaded and compiled with `seed`.
    fn shipped(file: &str, seed: u64) -> (Loaded, Model) {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("scenarios")
            .join(file);
        let loaded = load(&path, &[]).unwrap();
        let model = crate::model::compile(&loaded.scenario, seed).unwrap();
        (loaded, model)
    }

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
        let (loaded, model) = shipped("ealing-2014-prorata.toml", 3);
        // Starts and ends mid-chunk, and runs more batches than one.
        let range = 100..(CHUNK * 19 + 17);
        // Every reported summary, as `run --format json` renders it.
        let rendered = |acc: &Accumulator| {
            let info = crate::output::RunInfo {
                trials: acc.trials,
                seed: 3,
                sampling: "mc".into(),
                threads: 1,
                elapsed_s: 0.0,
            };
            let results = crate::output::Results::new(&loaded, &model, acc, info, Vec::new());
            serde_json::to_string(&crate::output::json::render(&results)).unwrap()
        };
        let plain = rendered(&crate::engine::run(&model, range.clone(), 1).unwrap());
        for threads in [1, 2, 3] {
            let mut seen = Vec::new();
            let acc = run_observed(&model, range.clone(), threads, &Indices, |c| {
                seen.extend(c);
                Ok(())
            })
            .unwrap();
            assert_eq!(seen, range.clone().collect::<Vec<_>>());
            // Every summary, bit for bit.
            assert_eq!(rendered(&acc), plain, "{threads} threads");
        }
    }

    #[test]
    fn the_observer_sees_the_trials_simulate_gives() {
        let (_, model) = shipped("ealing-2014.toml", 5);
        struct Paid;
        impl TrialObserver for Paid {
            type Chunk = Vec<(u64, i64, Vec<f64>)>;
            fn start_chunk(&self, _first: u64) -> Self::Chunk {
                Vec::new()
            }
            fn trial(&self, chunk: &mut Self::Chunk, _model: &Model, t: &Trial) {
                chunk.push((t.index, t.total_paid, t.values.clone()));
            }
        }
        let range = 1000..(CHUNK * 2 + 70);
        let mut seen = Vec::new();
        run_observed(&model, range.clone(), 2, &Paid, |c| {
            seen.extend(c);
            Ok(())
        })
        .unwrap();
        let mut t = Trial::new(&model);
        for (index, paid, values) in seen {
            model.simulate(index, &mut t);
            assert_eq!((paid, &values), (t.total_paid, &t.values), "trial {index}");
        }
    }

    #[test]
    fn a_sink_error_stops_the_run() {
        let (_, model) = shipped("ealing-2014.toml", 3);
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
