//! `itfsim run`: load, compile, simulate, render, write atomically.
use super::Failure;
use crate::atomic::PendingFile;
use crate::cli::{Format, RunArgs, RunOptions};
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
    let model = compile(&loaded.scenario, seed)?;
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
    let acc = engine::run_cancellable(&p.model, 0..p.trials, p.threads, super::interrupt_flag())?;
    let elapsed_s = started.elapsed().as_secs_f64();
    let info = RunInfo {
        trials: p.trials,
        seed: p.seed,
        sampling: "mc".into(),
        threads: p.threads,
        elapsed_s,
    };
    Ok(Results::new(&p.loaded, &p.model, &acc, info, Vec::new()))
}

pub fn run(args: &RunArgs) -> Result<(), Failure> {
    let o = &args.options;
    // Install the Ctrl-C handler first, so an interrupt at any point of the run is caught.
    super::interrupt_flag();
    let prepared = prepare(&args.scenario, o)?;
    // Reserve the output before computing, so a bad path fails at once (exit 73).
    let pending = o.out.as_deref().map(PendingFile::create).transpose()?;
    if !o.quiet {
        for w in &prepared.loaded.scenario.warnings {
            eprintln!("{w}");
        }
    }
    let results = simulate(&prepared)?;
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
