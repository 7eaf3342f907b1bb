//! `itfsim run`: load, compile, simulate, render, write atomically.
//!
//! With `--report`, `--xlsx`, `--samples` or `--monthly` the trials run through
//! `observe::run_observed`, which also collects the report data and streams the samples
//! CSV in trial order; the summaries are the same as without them. Every output file is
//! reserved before the run (exit 73 on a bad path) and committed after it.
//!
//! With `--shard I/N` it simulates one shard's whole chunks and writes its partial
//! result for `itfsim merge` instead.
use super::Failure;
use crate::atomic::PendingFile;
use crate::cli::{Format, ReportOptions, RunArgs, RunOptions, Sampling};
use crate::engine;
use crate::model::{Model, compile};
use crate::observe::{ObserveError, run_observed};
use crate::output::{Results, RunInfo, json, text};
use crate::partial::{self, Content, Fingerprint, Partial, ShardId};
use crate::report::collect::RunCollector;
use crate::report::{RunExtras, monthly_json, monthly_text, run_sections, xlsx};
use crate::scenario::{Loaded, load};
use std::time::Instant;

/// A scenario loaded and compiled with the run options applied.
pub struct Prepared {
    pub loaded: Loaded,
    pub model: Model,
    pub trials: u64,
    pub seed: u64,
    pub threads: usize,
    /// Show a progress bar on stderr (a terminal, and not --quiet).
    pub progress: bool,
}

pub fn prepare(path: &std::path::Path, options: &RunOptions) -> Result<Prepared, Failure> {
    let loaded = load(path, &options.sets)?;
    let trials = options.trials.unwrap_or(loaded.scenario.trials);
    let seed = options.seed.unwrap_or(loaded.scenario.seed);
    let threads = super::threads(options);
    let mut model = compile(&loaded.scenario, seed)?;
    super::apply_sampling(&mut model, options.sampling, trials);
    let progress = !options.quiet && std::io::IsTerminal::is_terminal(&std::io::stderr());
    Ok(Prepared {
        progress,
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
    let bar = super::progress::Progress::new(p.progress, p.trials);
    let (acc, interrupted) = crate::interrupt::polling(|flag| {
        engine::run_with_progress(&p.model, 0..p.trials, p.threads, flag, &|n| bar.advance(n))
    });
    bar.finish();
    let acc = acc?;
    if interrupted {
        return Err(engine::EngineError::Cancelled.into());
    }
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
    let mut reached = false;
    let acc = engine::run_until(
        &p.model,
        max,
        PRECISION_BATCH / engine::CHUNK,
        p.threads,
        |paid| {
            // The MCSE from the summary's sd in whole pence, as the report gives it.
            reached = paid.sd_pence() as f64 / (paid.len() as f64).sqrt() <= target;
            reached
        },
    )?;
    let mut notes = Vec::new();
    if !reached {
        notes.push(format!(
            "--precision {precision}: stopped at the maximum of {max} trials before the MCSE of expected paid reached {}% of the pot (raise --trials to allow more)",
            // As messages show numbers: 1e-7 is "0.00001%", not "0.0000%".
            crate::diagnostic::show(precision * 100.0)
        ));
    }
    Ok((finish(p, &acc, started, notes), reached))
}

/// Runs all trials collecting report data too (monthly activity when `monthly`), and
/// streams the per-trial CSV into `samples` when given (header first, rows in trial order).
pub fn simulate_with_extras(
    p: &Prepared,
    monthly: bool,
    mut samples: Option<&mut PendingFile>,
) -> Result<(Results, RunExtras), Failure> {
    let started = Instant::now();
    let collector = RunCollector::new(&p.model, monthly, samples.is_some());
    if let (Some(file), Some(columns)) = (samples.as_deref_mut(), &collector.samples) {
        file.write(columns.header())?;
    }
    let mut totals = collector.empty();
    let acc = run_observed(&p.model, 0..p.trials, p.threads, &collector, |chunk| {
        totals.merge(&chunk);
        match samples.as_deref_mut() {
            Some(file) => file.write(&chunk.csv).map_err(|e| e.to_string()),
            None => Ok(()),
        }
    })
    .map_err(|e| match e {
        ObserveError::Engine(e) => Failure::from(e),
        ObserveError::Sink(message) => Failure::new(73, message),
    })?;
    let results = finish(p, &acc, started, Vec::new());
    let extras = RunExtras::new(&p.model, &collector, &totals);
    Ok((results, extras))
}

fn wants_extras(r: &ReportOptions) -> bool {
    r.report.is_some() || r.xlsx.is_some() || r.samples.is_some() || r.monthly
}

pub fn run(args: &RunArgs) -> Result<(), Failure> {
    let o = &args.options;
    let r = &args.reports;
    // `main` installs it first; this keeps library callers of `run` covered too.
    crate::interrupt::install();
    let format = super::output_format(o.format, o.out.as_deref(), false);
    if format == Format::Csv {
        return Err(super::csv_refused("run"));
    }
    if args.precision.is_some() && o.sampling == Sampling::Lhs {
        return Err(Failure::new(
            2,
            "--precision cannot be combined with --sampling lhs: a Latin hypercube is designed for a fixed number of trials (give --trials instead)",
        ));
    }
    if args.precision.is_some() && wants_extras(r) {
        return Err(Failure::new(
            2,
            "--precision cannot be combined with --report, --xlsx, --samples or --monthly: run with --precision first, then give the --trials it reports",
        ));
    }
    let mut options = o.clone();
    if args.precision.is_some() && options.trials.is_none() {
        options.trials = Some(PRECISION_MAX);
    }
    let shard = super::shard_option(args.shard.as_deref())?;
    if shard.is_some() && (args.precision.is_some() || wants_extras(r)) {
        return Err(Failure::new(
            2,
            "--shard runs a fixed slice of the trials: it cannot be combined with --precision, --report, --xlsx, --samples or --monthly",
        ));
    }
    super::shard_needs_out(shard, o.out.as_deref())?;
    super::shard_writes_json(shard, o.format)?;
    let prepared = prepare(&args.scenario, &options)?;
    // Reserve every output before computing, so a bad path fails at once (exit 73).
    let pending = o.out.as_deref().map(PendingFile::create).transpose()?;
    let report_file = r.report.as_deref().map(PendingFile::create).transpose()?;
    let xlsx_file = r.xlsx.as_deref().map(PendingFile::create).transpose()?;
    let mut samples_file = r.samples.as_deref().map(PendingFile::create).transpose()?;
    super::warn_scenario(&prepared.loaded.scenario, o.quiet);
    if let Some(shard) = shard {
        let partial = simulate_shard(&args.scenario, o, &prepared, shard)?;
        return emit(pending, &partial.to_bytes());
    }
    let monthly = r.monthly || r.report.is_some();
    let (results, extras) = match args.precision {
        Some(x) => {
            // A target not reached is a warning among the results', said with them below.
            let (results, _reached) = simulate_to_precision(&prepared, x, prepared.trials)?;
            (results, None)
        }
        None if wants_extras(r) => {
            let (results, extras) =
                simulate_with_extras(&prepared, monthly, samples_file.as_mut())?;
            (results, Some(extras))
        }
        None => (simulate(&prepared)?, None),
    };
    let printed = prepared.loaded.scenario.warnings.len();
    super::warn_after(&results.warnings, printed, o.quiet);
    if let (Some(file), Some(extras)) = (report_file, &extras) {
        let document = run_sections::document(&results, extras, &prepared.model);
        file.commit(document.render().as_bytes())?;
    }
    if let (Some(file), Some(extras)) = (xlsx_file, &extras) {
        let bytes = xlsx::render(&results, &extras.monthly)
            .map_err(|e| Failure::new(1, format!("cannot build the workbook: {e}")))?;
        file.commit(&bytes)?;
    }
    if let Some(file) = samples_file {
        file.commit(&[])?;
    }
    let bytes = match format {
        Format::Json => {
            let mut value = json::render(&results);
            if let (true, Some(extras), Some(map)) = (r.monthly, &extras, value.as_object_mut()) {
                map.insert("monthly".into(), monthly_json(&extras.monthly));
            }
            let mut bytes = serde_json::to_vec_pretty(&value).unwrap_or_default();
            bytes.push(b'\n');
            bytes
        }
        Format::Text | Format::Csv => {
            let monthly = match (r.monthly, &extras) {
                (true, Some(extras)) => monthly_text(&extras.monthly),
                _ => String::new(),
            };
            text::render_with(&results, &monthly).into_bytes()
        }
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
            build: crate::BUILD_ID.into(),
            scenario_file: p.loaded.file.clone(),
            scenario_sha256: p.loaded.sha256.clone(),
            sets: o.sets.clone(),
            seed: p.seed,
            trials: p.trials,
            sampling: p.model.sampler.name().into(),
            options_sha256: None,
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

pub use super::emit;
