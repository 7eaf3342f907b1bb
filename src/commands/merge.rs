//! `itfsim merge PARTS...`: combine the partial results of `run --shard I/N` into the
//! output the unsharded run would give (byte-identical JSON apart from the timing fields
//! `elapsed_s` and `trials_per_s`, which are the shards' summed compute time).
//!
//! Checks, in order: every file reads (66) and is a partial of this format version (65);
//! the fingerprints agree and shards 0..N are all present exactly once (65); each part's
//! trial range is the one `engine::shard_range` gives it (65); the carried scenario text
//! validates and has the recorded sha256 (65). The output is reserved first (73). Parts
//! are read and merged one at a time, so memory does not grow with the number of shards.
use super::Failure;
use super::emit;
use crate::atomic::PendingFile;
use crate::cli::{Format, MergeArgs};
use crate::engine::{self, Accumulator};
use crate::model::{Model, compile};
use crate::output::{Results, RunInfo, json, text};
use crate::partial::{self, Content, Partial};
use crate::scenario::{Loaded, load_str};

pub fn merge(args: &MergeArgs) -> Result<(), Failure> {
    let pending = args.out.as_deref().map(PendingFile::create).transpose()?;
    let data = |e: partial::PartialError| Failure::new(65, e.to_string());
    // One partial in memory at a time: each is checked against the first and merged.
    let mut headers = Vec::new();
    let mut merged: Option<(Loaded, Model, Accumulator)> = None;
    let mut threads = 0;
    let mut elapsed_s = 0.0;
    for path in &args.parts {
        let file = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|e| {
            Failure::new(66, format!("{file}: cannot read the partial result: {e}"))
        })?;
        let part = Partial::from_bytes(&file, &bytes).map_err(data)?;
        drop(bytes);
        headers.push((file, part.header()));
        // Fingerprints must agree before states are merged (their layouts must match).
        let newest = [headers[0].clone(), headers[headers.len() - 1].clone()];
        partial::check_consistent(&newest).map_err(data)?;
        let (_, acc) = match &mut merged {
            Some((_, model, acc)) => (model, acc),
            None => {
                let (loaded, model) = rebuild(&part)?;
                let acc = Accumulator::new(&model);
                let (_, model, acc) = merged.insert((loaded, model, acc));
                (model, acc)
            }
        };
        let fp = &part.fingerprint;
        let expected = engine::shard_range(fp.trials, part.shard.index, part.shard.count);
        let Content::Run { accumulator } = &part.content;
        if part.trial_range != [expected.start, expected.end]
            || accumulator.trials != expected.end - expected.start
        {
            return Err(Failure::new(
                65,
                format!(
                    "{}: shard {} of {} covers trials {:?} but should cover {expected:?}",
                    path.display(),
                    part.shard.index,
                    part.shard.count,
                    part.trial_range
                ),
            ));
        }
        acc.merge(accumulator);
        threads = threads.max(part.threads);
        elapsed_s += part.elapsed_s;
    }
    let headers = partial::check_complete(headers).map_err(data)?;
    let (loaded, model, acc) = merged.expect("at least one part (clap requires it)");
    let fp = &headers[0].fingerprint;
    let info = RunInfo {
        trials: fp.trials,
        seed: fp.seed,
        sampling: fp.sampling.clone(),
        threads,
        elapsed_s,
    };
    let results = Results::new(&loaded, &model, &acc, info, Vec::new());
    let bytes = match args.format {
        Format::Json => json::to_bytes(&results),
        Format::Text | Format::Csv => text::render(&results).into_bytes(),
    };
    emit(pending, &bytes)
}

/// The scenario and model a partial was run with, from the text it carries.
fn rebuild(part: &Partial) -> Result<(Loaded, Model), Failure> {
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
    let model = compile(&loaded.scenario, fp.seed)?;
    Ok((loaded, model))
}
