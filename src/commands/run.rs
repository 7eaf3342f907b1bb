//! `itfsim run`: load, compile, simulate, render, write atomically.
use super::Failure;
use crate::atomic::PendingFile;
use crate::cli::{Format, RunArgs, RunOptions, Sampling};
use crate::engine;
use crate::model::{Model, compile};
use crate::output::{Results, RunInfo, json, text};
use crate::scenario::{Loaded, load};
use std::time::Instant;

/// A scenario loaded and compiled with the run options applied.
pub struct Prepared {
    pub loaded: Loaded,
    pub model: Model,
    pub trials: u64,
    pub seed: u64,
    pub threads: usize,
}

pub fn prepare(path: &std::path::Path, options: &RunOptions) -> Result<Prepared, Failure> {
    let loaded = load(path, &options.sets)?;
    let trials = options.trials.unwrap_or(loaded.scenario.trials);
    let seed = options.seed.unwrap_or(loaded.scenario.seed);
    let threads = options.threads.map(|t| t as usize).unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    let mut model = compile(&loaded.scenario, seed)?;
    if options.sampling == Sampling::Lhs {
        model.sampler.lhs = Some(crate::sampling::Lhs::new(&model, trials));
    }
    Ok(Prepared {
        loaded,
        model,
        trials,
        seed,
        threads,
    })
}

/// Runs all trials and returns finished results.
pub fn simulate(p: &Prepared) -> Result<Results, Failure> {
    let started = Instant::now();
    let acc = engine::run(&p.model, 0..p.trials, p.threads)?;
    Ok(finish(p, &acc, started, Vec::new()))
}

fn finish(
    p: &Prepared,
    acc: &engine::Accumulator,
    started: Instant,
    notes: Vec<String>,
) -> Results {
    let info = RunInfo {
        trials: acc.trials,
        seed: p.seed,
        sampling: p.model.sampler.name().into(),
        threads: p.threads,
        elapsed_s: started.elapsed().as_secs_f64(),
    };
    Results::new(&p.loaded, &p.model, acc, info, notes)
}

/// Trials per batch of a `--precision` run: whole engine chunks, so the batches
/// concatenate to exactly the trials 0..n of a plain run.
pub const PRECISION_BATCH: u64 = 16 * engine::CHUNK;
/// Maximum trials of a `--precision` run when --trials is not given.
pub const PRECISION_MAX: u64 = 10_000_000;

/// Runs batches of trials 0.. (the last one cut at `max`) until the MCSE of expected
/// total paid is at most `precision` x pot. Returns the results and whether the target
/// was reached before `max` trials.
pub fn simulate_to_precision(
    p: &Prepared,
    precision: f64,
    max: u64,
) -> Result<(Results, bool), Failure> {
    let started = Instant::now();
    let target = precision * p.model.pot as f64;
    let mut acc = engine::Accumulator::new(&p.model);
    let mut reached = false;
    while acc.trials < max {
        let from = acc.trials;
        let to = (from + PRECISION_BATCH).min(max);
        acc.merge(&engine::run(&p.model, from..to, p.threads)?);
        let summary = acc.total_paid.finish();
        let mcse = summary.sd as f64 / (acc.trials as f64).sqrt();
        if mcse <= target {
            reached = true;
            break;
        }
    }
    let mut notes = Vec::new();
    if !reached {
        notes.push(format!(
            "--precision {precision}: stopped at the maximum of {max} trials before the MCSE of expected paid reached {:.4}% of the pot (raise --trials to allow more)",
            precision * 100.0
        ));
    }
    Ok((finish(p, &acc, started, notes), reached))
}

pub fn run(args: &RunArgs) -> Result<(), Failure> {
    let o = &args.options;
    if args.precision.is_some() && o.sampling == Sampling::Lhs {
        return Err(Failure::new(
            2,
            "--precision cannot be combined with --sampling lhs: a Latin hypercube is designed for a fixed number of trials (give --trials instead)",
        ));
    }
    let mut options = o.clone();
    if args.precision.is_some() && options.trials.is_none() {
        options.trials = Some(PRECISION_MAX);
    }
    let prepared = prepare(&args.scenario, &options)?;
    // Reserve the output before computing, so a bad path fails at once (exit 73).
    let pending = o.out.as_deref().map(PendingFile::create).transpose()?;
    if !o.quiet {
        for w in &prepared.loaded.scenario.warnings {
            eprintln!("{w}");
        }
    }
    let results = match args.precision {
        Some(x) => {
            let (results, reached) = simulate_to_precision(&prepared, x, prepared.trials)?;
            if !reached && !o.quiet {
                for w in results.warnings.iter().rev().take(1) {
                    eprintln!("warning: {w}");
                }
            }
            results
        }
        None => simulate(&prepared)?,
    };
    let bytes = match o.format {
        Format::Json => json::to_bytes(&results),
        Format::Text => text::render(&results).into_bytes(),
    };
    match pending {
        Some(file) => file.commit(&bytes)?,
        None => {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            if let Err(e) = out.write_all(&bytes).and_then(|_| out.flush()) {
                if e.kind() != std::io::ErrorKind::BrokenPipe {
                    return Err(Failure::new(73, format!("cannot write to stdout: {e}")));
                }
            }
        }
    }
    Ok(())
}
