//! `itfsim merge PARTS...`: combine the partial results of `run --shard I/N` or
//! `sweep --shard I/N` into the output the unsharded command would give.
//!
//! Run partials: byte-identical JSON apart from the timing fields `elapsed_s` and
//! `trials_per_s` (the shards' summed compute time) and `threads` (the most any shard
//! used). Sweep partials: byte-identical text, CSV, JSON and `--report` HTML (sweep
//! outputs have no timing fields); see `sweep_shard`. The kind of the first part decides which.
//!
//! Checks, in order: every file reads (66), is a whole partial (not cut short, empty,
//! joined to another or compressed) of this format version, its header holds what a
//! shard writes, and its content matches the sha256 written with it (65); no run and
//! sweep partials are mixed,
//! all come from one itfsim build, the fingerprints agree and shards 0..N are all present
//! exactly once (65); the carried scenario text validates and has the recorded sha256
//! (65); each part covers the trials or points its shard should, and its state has the
//! shape of the rebuilt model: a run's summaries one per tranche, condition, window,
//! scheme and partner, each over the shard's trials; a sweep's rows with exactly the
//! sweep's columns (65). Partials written by another build than the merging one merge
//! with a warning. The merged result's warnings go to stderr as `run` and `sweep` print
//! them (unless `--quiet`). The outputs are reserved first (73). Parts are read and merged one at
//! a time, so memory does not grow with the number of shards (a sweep keeps only its
//! rows).
use super::Failure;
use super::emit;
use crate::atomic::PendingFile;
use crate::cli::{Format, MergeArgs};
use crate::engine::{self, Accumulator};
use crate::model::{Model, compile};
use crate::output::{Results, RunInfo, json, text};
use crate::partial::{self, Content, Partial};
use crate::scenario::{Loaded, load_str};
use std::path::Path;

pub fn merge(args: &MergeArgs) -> Result<(), Failure> {
    let pending = args.out.as_deref().map(PendingFile::create).transpose()?;
    let report_file = super::reserve(args.report.as_deref())?;
    let Some((first_path, rest)) = args.parts.split_first() else {
        return Err(Failure::new(2, "give the partial result files to merge"));
    };
    let first = read(first_path)?;
    let kind = first.1.content.kind();
    let build = first.1.fingerprint.build.clone();
    if kind == "run" && report_file.is_some() {
        return Err(Failure::new(
            2,
            format!(
                "{}: --report is for sweep partials; a run's report needs per-trial data the shards do not keep\n  hint: merge without --report, or run `itfsim run --report` on one machine",
                first.0
            ),
        ));
    }
    let format = super::output_format(args.format, args.out.as_deref(), kind == "sweep");
    if kind == "run" && args.format == Some(Format::Csv) {
        return Err(Failure::new(
            2,
            format!(
                "{}: merged runs are written as --format text or json, as `run` writes them; csv is for sweep partials\n  hint: give --format json (or text); for a table across runs, `itfsim rollup` reads merged runs' JSON",
                first.0
            ),
        ));
    }
    let parts = std::iter::once(Ok(first)).chain(rest.iter().map(|p| read(p)));
    if kind == "sweep" {
        super::sweep_shard::merge(parts, format, pending, report_file, args.quiet)?;
    } else {
        merge_runs(parts, format, pending, args.quiet)?;
    }
    // Shards of one build merge exactly; another build only combines and formats them
    // (its merge and output code apply), so say so rather than refuse results that may
    // have cost many core hours.
    if build != crate::BUILD_ID && !args.quiet {
        super::stderr_line(format_args!(
            "warning: the partials were written by itfsim build {build}, this is build {}: the output is their results as this build combines and formats them\n  hint: to get exactly what that build's unsharded command gives, merge with the build that wrote them",
            crate::BUILD_ID
        ));
    }
    Ok(())
}

/// Why `file` (its `bytes`) is not a partial: another itfsim output is named as such
/// rather than by how its JSON failed to parse (65 either way).
fn not_read(file: &str, bytes: &[u8], e: partial::PartialError) -> Failure {
    const HINT: &str = "merge combines the partial results that `itfsim run ... --shard I/N --out FILE` or `itfsim sweep ... --shard I/N --out FILE` write, one per shard";
    match (&e, super::OutputKind::of(bytes)) {
        (partial::PartialError::NotPartial { .. }, Some(kind))
            if kind != super::OutputKind::Partial =>
        {
            let what = kind.describe();
            Failure::new(
                65,
                format!("{file}: this is {what}, not a shard's partial result\n  hint: {HINT}"),
            )
        }
        _ => Failure::new(65, e.to_string()),
    }
}

/// Reads and parses one partial (66 when unreadable, 65 when not a partial).
pub fn read(path: &Path) -> Result<(String, Partial), Failure> {
    let file = path.display().to_string();
    let bytes = std::fs::read(path)
        .map_err(|e| Failure::new(66, format!("{file}: cannot read the partial result: {e}")))?;
    let part = Partial::from_bytes(&file, &bytes).map_err(|e| not_read(&file, &bytes, e))?;
    if part.fingerprint.command != part.content.kind() {
        return Err(Failure::new(
            65,
            format!(
                "{file}: a `{}` partial holding `{}` content; the file was altered",
                part.fingerprint.command,
                part.content.kind()
            ),
        ));
    }
    Ok((file, part))
}

fn merge_runs(
    parts: impl Iterator<Item = Result<(String, Partial), Failure>>,
    format: Format,
    pending: Option<PendingFile>,
    quiet: bool,
) -> Result<(), Failure> {
    let data = |e: partial::PartialError| Failure::new(65, e.to_string());
    // One partial in memory at a time: each is checked against the first and merged.
    let mut headers = Vec::new();
    let mut merged: Option<(Loaded, Model, Accumulator)> = None;
    let mut scenario_text = String::new();
    let mut threads = 0;
    let mut elapsed_s = 0.0;
    for part in parts {
        let (file, part) = part?;
        // Fingerprints must agree before states are merged (their layouts must match).
        partial::admit(&mut headers, &file, &part).map_err(data)?;
        let (model, acc) = match &mut merged {
            Some((_, model, acc)) => (model, acc),
            None => {
                let (loaded, model) = rebuild(&part)?;
                scenario_text.clone_from(&part.scenario_text);
                let acc = Accumulator::new(&model);
                let (_, model, acc) = merged.insert((loaded, model, acc));
                (model, acc)
            }
        };
        let fp = &part.fingerprint;
        let (index, count) = (part.shard.index, part.shard.count);
        let expected = engine::shard_range(fp.trials, index, count);
        let Content::Run { accumulator } = &part.content else {
            return Err(Failure::new(65, format!("{file}: not a run partial")));
        };
        let damaged = |what: String| {
            data(partial::PartialError::Damaged {
                file: file.clone(),
                what,
            })
        };
        let should = partial::range_text(expected.start, expected.end);
        let [from, to] = part.trial_range;
        if part.trial_range != [expected.start, expected.end] {
            return Err(damaged(format!(
                "shard {index} of {count} covers trials {} but should cover trials {should} of {}",
                partial::range_text(from, to),
                fp.trials
            )));
        }
        if accumulator.trials != expected.end - expected.start {
            return Err(damaged(format!(
                "content.accumulator.trials is {}, but shard {index} of {count} covers the {} trials {should}",
                accumulator.trials,
                expected.end - expected.start
            )));
        }
        accumulator.check_shape(model).map_err(damaged)?;
        acc.merge(accumulator);
        threads = threads.max(part.threads);
        elapsed_s += part.elapsed_s;
    }
    let headers = partial::check_complete(headers).map_err(data)?;
    let Some((loaded, model, acc)) = merged else {
        return Err(Failure::new(65, "no partial results to merge"));
    };
    let loaded = named_as_shard_zero(loaded, &scenario_text, &headers)?;
    let fp = &headers[0].fingerprint;
    let info = RunInfo {
        trials: fp.trials,
        seed: fp.seed,
        sampling: fp.sampling.clone(),
        threads,
        elapsed_s,
    };
    let results = Results::new(&loaded, &model, &acc, info, Vec::new());
    // Said as `run` says them: nothing was printed before, as the shards ran elsewhere.
    super::warn_scenario(&loaded.scenario, quiet);
    super::warn_after(&results.warnings, loaded.scenario.warnings.len(), quiet);
    let bytes = match format {
        Format::Json => json::to_bytes(&results),
        Format::Text | Format::Csv => text::render(&results).into_bytes(),
    };
    emit(pending, &bytes)
}

/// The scenario a partial was run with, from the text it carries, checked against the
/// recorded sha256.
pub fn load_carried(part: &Partial) -> Result<Loaded, Failure> {
    let fp = &part.fingerprint;
    let loaded = load_str(&fp.scenario_file, &part.scenario_text, &fp.sets)?;
    if loaded.sha256 != fp.scenario_sha256 {
        return Err(Failure::new(
            65,
            format!(
                "{}: the scenario text carried by the shards does not match its recorded sha256\n  hint: the file changed while the shards ran; run them again",
                fp.scenario_file
            ),
        ));
    }
    Ok(loaded)
}

/// The scenario named as shard 0 named it (`headers` sorted by shard), whichever
/// partial was read first: shards may spell one file's path differently (one rerun from
/// another directory; their sha256 agree), and the output must not depend on the order of
/// the partials on the command line. `text` is the scenario text the shards carry.
pub fn named_as_shard_zero(
    loaded: Loaded,
    text: &str,
    headers: &[partial::Header],
) -> Result<Loaded, Failure> {
    let fp = &headers[0].fingerprint;
    if loaded.file == fp.scenario_file {
        return Ok(loaded);
    }
    Ok(load_str(&fp.scenario_file, text, &fp.sets)?)
}

/// The scenario and model a run partial was run with.
fn rebuild(part: &Partial) -> Result<(Loaded, Model), Failure> {
    let loaded = load_carried(part)?;
    let model = compile(&loaded.scenario, part.fingerprint.seed)?;
    Ok((loaded, model))
}
