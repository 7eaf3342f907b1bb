//! `itfsim merge PARTS...`: combine the partial results of `run --shard I/N` into the
//! output the unsharded run would give (byte-identical JSON apart from the timing fields
//! `elapsed_s` and `trials_per_s`, which are the shards' summed compute time).
//!
//! Checks, in order: every file reads (66) and is a partial of this format version (65);
//! the fingerprints agree and shards 0..N are all present exactly once (65); each part's
//! trial range is the one `engine::shard_range` gives it (65); the carried scenario text
//! validates and has the recorded sha256 (65). The output is reserved first (73).
use super::Failure;
use super::run::emit;
use crate::atomic::PendingFile;
use crate::cli::{Format, MergeArgs};
use crate::engine::{self, Accumulator};
use crate::model::compile;
use crate::output::{Results, RunInfo, json, text};
use crate::partial::{self, Content, Partial};
use crate::scenario::load_str;

pub fn merge(args: &MergeArgs) -> Result<(), Failure> {
    let pending = args.out.as_deref().map(PendingFile::create).transpose()?;
    let mut parts = Vec::new();
    for path in &args.parts {
        let file = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|e| {
            Failure::new(66, format!("{file}: cannot read the partial result: {e}"))
        })?;
        let part =
            Partial::from_bytes(&file, &bytes).map_err(|e| Failure::new(65, e.to_string()))?;
        parts.push((file, part));
    }
    let parts = partial::check_complete(parts).map_err(|e| Failure::new(65, e.to_string()))?;
    let first = &parts[0];
    let fp = &first.fingerprint;
    let loaded = load_str(&fp.scenario_file, &first.scenario_text, &fp.sets)?;
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
    let mut acc = Accumulator::new(&model);
    let mut threads = 0;
    let mut elapsed_s = 0.0;
    for p in &parts {
        let expected = engine::shard_range(fp.trials, p.shard.index, p.shard.count);
        let Content::Run { accumulator } = &p.content;
        if p.trial_range != [expected.start, expected.end]
            || accumulator.trials != expected.end - expected.start
        {
            return Err(Failure::new(
                65,
                format!(
                    "shard {} of {}: covers trials {:?} but should cover {expected:?}",
                    p.shard.index, p.shard.count, p.trial_range
                ),
            ));
        }
        acc.merge(accumulator);
        threads = threads.max(p.threads);
        elapsed_s += p.elapsed_s;
    }
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
        Format::Text => text::render(&results).into_bytes(),
    };
    emit(pending, &bytes)
}
