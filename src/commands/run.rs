//! `itfsim run`: load, compile, simulate, render, write atomically; with `--shard I/N`,
//! simulate one shard's whole chunks and write its partial result instead.
use super::Failure;
use crate::atomic::PendingFile;
use crate::cli::{Format, RunArgs, RunOptions};
use crate::engine;
use crate::model::{Model, compile};
use crate::output::{Results, RunInfo, json, text};
use crate::partial::{self, Content, Fingerprint, Partial, ShardId};
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
    let acc = engine::run(&p.model, 0..p.trials, p.threads)?;
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
    let shard = args
        .shard
        .as_deref()
        .map(|spec| {
            crate::partial::parse_shard(spec, |k| std::env::var(k).ok())
                .map_err(|e| Failure::new(2, format!("--shard {spec}: {e}")))
        })
        .transpose()?;
    let prepared = prepare(&args.scenario, o)?;
    // Reserve the output before computing, so a bad path fails at once (exit 73).
    let pending = o.out.as_deref().map(PendingFile::create).transpose()?;
    if !o.quiet {
        for w in &prepared.loaded.scenario.warnings {
            eprintln!("{w}");
        }
    }
    if let Some(shard) = shard {
        let partial = simulate_shard(&args.scenario, o, &prepared, shard)?;
        return emit(pending, &partial.to_bytes());
    }
    let results = simulate(&prepared)?;
    let bytes = match o.format {
        Format::Json => json::to_bytes(&results),
        Format::Text => text::render(&results).into_bytes(),
    };
    emit(pending, &bytes)
}

/// Runs one shard's trials and packs its mergeable state (see `crate::partial`).
fn simulate_shard(
    path: &std::path::Path,
    o: &RunOptions,
    p: &Prepared,
    shard: ShardId,
) -> Result<Partial, Failure> {
    // The text travels with the partial; its sha256 is checked against the loaded one at
    // merge, so a file edited between the two reads is caught there.
    let scenario_text = std::fs::read_to_string(path).map_err(|e| {
        Failure::new(
            66,
            format!("{}: cannot read the scenario: {e}", path.display()),
        )
    })?;
    let range = engine::shard_range(p.trials, shard.index, shard.count);
    let started = Instant::now();
    let accumulator = engine::run(&p.model, range.clone(), p.threads)?;
    Ok(Partial {
        format: partial::FORMAT.into(),
        version: partial::VERSION,
        itfsim: env!("CARGO_PKG_VERSION").into(),
        fingerprint: Fingerprint {
            command: "run".into(),
            scenario_file: p.loaded.file.clone(),
            scenario_sha256: p.loaded.sha256.clone(),
            sets: o.sets.clone(),
            seed: p.seed,
            trials: p.trials,
            sampling: "mc".into(),
        },
        shard,
        trial_range: [range.start, range.end],
        threads: p.threads,
        elapsed_s: started.elapsed().as_secs_f64(),
        scenario_text,
        content: Content::Run {
            accumulator: Box::new(accumulator),
        },
    })
}

/// Writes `bytes` to the reserved file, or to stdout (a closed pipe is not an error).
pub fn emit(pending: Option<PendingFile>, bytes: &[u8]) -> Result<(), Failure> {
    match pending {
        Some(file) => file.commit(bytes)?,
        None => {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            if let Err(e) = out.write_all(bytes).and_then(|_| out.flush()) {
                if e.kind() != std::io::ErrorKind::BrokenPipe {
                    return Err(Failure::new(73, format!("cannot write to stdout: {e}")));
                }
            }
        }
    }
    Ok(())
}
