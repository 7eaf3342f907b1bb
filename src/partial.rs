//! Shard partial results (MODEL.md section 11): what `run --shard I/N` and
//! `sweep --shard I/N` write and `itfsim merge` combines.
//!
//! A partial is one JSON object: the format name and version and the itfsim version; the
//! *fingerprint* of the work (command, the build identity [`crate::BUILD_ID`], scenario
//! file name, its sha256, `--set` overrides, seed, total trials, sampling, and for a sweep
//! the sha256 of its canonical options, which covers the expanded grids); which shard it
//! is, the trial range it covered, the scenario's full text; and last `content_sha256`
//! and the shard's state, `content`, tagged by kind:
//!
//! - `{"kind": "run", "accumulator": ...}`: the engine's [`Accumulator`] for the shard's
//!   trials, every f64 written as its bit pattern so a round trip is exact;
//! - `{"kind": "sweep", "grids", "points", "point_range", "rows"}`: the expanded grids,
//!   the sweep's number of points, the block of points `[from, to)` the shard ran (see
//!   [`point_block`]) and one finished row per point, each over all the trials. The rows
//!   are the sweep's own row objects, from which every sweep output (CSV, JSON, HTML
//!   report) is rendered, so nothing else is needed.
//!
//! The scenario text travels with the partial so that `merge` can rebuild the scenario
//! on any machine without the original file, and its sha256 proves it is the same file.
//!
//! Integrity. `content_sha256` is the sha256 of the exact bytes of `content` as written;
//! [`Partial::from_bytes`] hashes the exact bytes it read (serde_json's `RawValue`, no
//! re-serialisation) and refuses a mismatch, so a state changed or damaged after it was
//! written is never merged. The build identity is in the fingerprint, outside the
//! checksummed content, so a partial from another build is refused as such (a different
//! build may sum floating-point values in another order, and the version string does not
//! change between commits), not as damaged. `merge` then checks the state's shape against
//! the model rebuilt from the carried scenario (`Accumulator::check_shape`, the sweep's
//! row checks) as defence in depth. Format version 1 had neither the build nor the
//! checksum; version 2 summarised each metric condition's achieved value apart from its
//! window's (the same values); such partials are refused with a hint to rerun the
//! shards.
//!
//! Invariants checked by [`check_consistent`] and [`check_complete`]: every part has the
//! same format version, command, build and fingerprint, the same shard count N, and the
//! indices are 0..N each exactly once. Merging then equals the unsharded work: run shards
//! are whole engine chunks ([`crate::engine::shard_range`]) and merging accumulators is
//! exact; sweep shards are contiguous blocks of points in the unsharded order, each point
//! run exactly as the unsharded sweep runs it.
use crate::engine::Accumulator;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// Format name in every partial.
pub const FORMAT: &str = "itfsim-partial";
/// Format version: bump when the layout of the state changes. 2: the build identity in
/// the fingerprint and `content_sha256`. 3: no summary of conditions' achieved values in
/// a run's accumulator (a metric condition's is its window's).
pub const VERSION: u32 = 3;

/// Identifies a run: parts merge only if these are equal, except `scenario_file`, the
/// path as given, which may be spelled differently for the same bytes (`scenario_sha256`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fingerprint {
    pub command: String,
    /// The build identity of the itfsim that wrote the partial ([`crate::BUILD_ID`]).
    pub build: String,
    pub scenario_file: String,
    pub scenario_sha256: String,
    pub sets: Vec<String>,
    pub seed: u64,
    pub trials: u64,
    pub sampling: String,
    /// `sweep` only: sha256 of the canonical sweep options (version, trials, seed,
    /// sampling, --sets, expanded grids). Absent from run partials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options_sha256: Option<String>,
}

/// Which shard a partial is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardId {
    pub index: u64,
    pub count: u64,
}

/// The mergeable state, by kind of command.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Content {
    Run {
        accumulator: Box<Accumulator>,
    },
    Sweep {
        grids: Vec<GridValues>,
        /// Points of the whole sweep (the product of the grids' sizes).
        points: u64,
        /// Points `[from, to)` this shard ran.
        point_range: [u64; 2],
        /// One row object per point of `point_range`, in point order.
        rows: Vec<serde_json::Value>,
    },
}

impl Content {
    /// The command that writes this kind of content.
    pub fn kind(&self) -> &'static str {
        match self {
            Content::Run { .. } => "run",
            Content::Sweep { .. } => "sweep",
        }
    }
}

/// One expanded `--grid` of a sweep: its path and values as `--set` value text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GridValues {
    pub path: String,
    pub values: Vec<String>,
}

/// The block of points shard `index` of `count` runs: contiguous, in point order, the
/// first `points % count` shards one point more than the rest, so shards beyond the
/// number of points get an empty block.
pub fn point_block(points: u64, index: u64, count: u64) -> std::ops::Range<u64> {
    assert!(index < count, "shard {index} of {count}");
    let start = |i: u64| i * (points / count) + i.min(points % count);
    start(index)..start(index + 1)
}

/// A half-open range `[from, to)` as every partial message prints it: "[0, 2048)".
pub fn range_text(from: u64, to: u64) -> String {
    format!("[{from}, {to})")
}

/// One shard's partial result; see the module documentation. Written by
/// [`Partial::to_bytes`] and read by [`Partial::from_bytes`] only (they add and check
/// `content_sha256`).
#[derive(Clone, Debug)]
pub struct Partial {
    pub format: String,
    pub version: u32,
    pub itfsim: String,
    pub fingerprint: Fingerprint,
    pub shard: ShardId,
    /// Trials `[from, to)` this shard ran (a sweep shard runs all of them at each point).
    pub trial_range: [u64; 2],
    pub threads: usize,
    pub elapsed_s: f64,
    pub scenario_text: String,
    pub content: Content,
}

/// A partial without its state: what [`check_complete`] needs.
#[derive(Clone, Debug)]
pub struct Header {
    pub fingerprint: Fingerprint,
    pub shard: ShardId,
}

impl Partial {
    pub fn header(&self) -> Header {
        Header {
            fingerprint: self.fingerprint.clone(),
            shard: self.shard,
        }
    }
}

/// Why a set of partials cannot be merged.
#[derive(Debug, thiserror::Error)]
pub enum PartialError {
    #[error(
        "{file}: not an itfsim partial result: {message}\n  hint: give the files written by `itfsim run --shard I/N --out FILE` or `itfsim sweep ... --shard I/N --out FILE`"
    )]
    NotPartial { file: String, message: String },
    #[error(
        "{file}: partial format version {found}, this itfsim reads version {VERSION}{why}\n  hint: rerun the shards with this itfsim, or merge with the build that wrote them",
        why = version_note(.found)
    )]
    Version { file: String, found: u32 },
    #[error(
        "{file}: its state does not match the checksum written with it (content_sha256 {recorded}, the content read hashes to {computed})\n  hint: the file was changed or damaged after it was written; rerun that shard"
    )]
    Checksum {
        file: String,
        recorded: String,
        computed: String,
    },
    #[error(
        "{file} was written by itfsim build {theirs}, {first} by build {ours}: different builds may give different results, so their shards cannot be merged\n  hint: rerun the shards with one build (was the itfsim binary replaced while they ran?); `itfsim --version` shows a binary's build"
    )]
    Build {
        file: String,
        first: String,
        theirs: String,
        ours: String,
    },
    #[error(
        "{file}: {what} differs from {first}'s ({theirs} vs {ours})\n  hint: every shard must come from the same scenario file, --set overrides, seed, trials and sampling"
    )]
    Mismatch {
        file: String,
        first: String,
        what: String,
        theirs: String,
        ours: String,
    },
    #[error(
        "{file}: its sweep options hash differs from {first}'s ({theirs} vs {ours}); the hash covers the expanded --grid values, --set overrides, seed, trials and sampling\n  hint: the --set overrides, seed, trials and sampling agree, so the grids differ: run every shard with the same --grid arguments"
    )]
    SweepOptions {
        file: String,
        first: String,
        theirs: String,
        ours: String,
    },
    #[error(
        "{file} is shard {} of {}, but {first} is shard {} of {}: they come from runs split into different numbers of shards\n  hint: stale partials of an earlier split are probably in the directory (a glob such as part-*.json picks them up): remove them, or give each split its own directory; or a shard was rerun as a Slurm array task without ITFSIM_SHARD_COUNT (deploy/slurm/README.md, \"Rerunning a shard\")",
        .theirs.index, .theirs.count, .ours.index, .ours.count
    )]
    ShardCount {
        file: String,
        first: String,
        theirs: ShardId,
        ours: ShardId,
    },
    #[error(
        "{file}: a `{theirs}` partial cannot be merged with {first}, a `{ours}` partial\n  hint: merge the shards of each command separately"
    )]
    Mixed {
        file: String,
        first: String,
        theirs: String,
        ours: String,
    },
    #[error("shard {index} of {count} is missing\n  hint: pass every shard's partial file, 0 to {last}", last = .count - 1)]
    Missing { index: u64, count: u64 },
    #[error(
        "{file}: shard {index} of {count} is given more than once\n  hint: pass each shard's partial file once"
    )]
    Duplicate {
        file: String,
        index: u64,
        count: u64,
    },
    #[error(
        "{file}: {what}\n  hint: the file was changed after it was written, or written by a faulty build; rerun that shard"
    )]
    Damaged { file: String, what: String },
    #[error(
        "{file}: the partial result ends early, after {bytes} bytes: the file was cut short\n  hint: a copy or transfer that did not finish, or a full disk; copy it again, or rerun that shard"
    )]
    Truncated { file: String, bytes: usize },
    #[error(
        "{file}: the file is empty, not a partial result\n  hint: a shard writes its partial with --out FILE (a shell redirect, `> FILE`, of a command that failed leaves an empty file); rerun that shard with --out"
    )]
    Empty { file: String },
}

/// Why a partial of format version `found` is not read, after "this itfsim reads version N".
fn version_note(found: &u32) -> &'static str {
    match *found {
        0 | 1 => {
            " (older partials carry no build identity and no checksum, so they cannot be checked)"
        }
        2 => {
            " (version 2 partials come from an older itfsim, whose runs' state had a summary more per metric condition)"
        }
        _ => "",
    }
}

/// The partial as written: the header fields, then the checksum and the content's exact
/// bytes.
#[derive(Serialize)]
struct Sealed<'a> {
    format: &'a str,
    version: u32,
    itfsim: &'a str,
    fingerprint: &'a Fingerprint,
    shard: ShardId,
    trial_range: [u64; 2],
    threads: usize,
    elapsed_s: f64,
    scenario_text: &'a str,
    content_sha256: String,
    content: &'a RawValue,
}

/// The partial as read: the content kept as the exact bytes in the file.
#[derive(Deserialize)]
struct Opened<'a> {
    format: String,
    version: u32,
    itfsim: String,
    fingerprint: Fingerprint,
    shard: ShardId,
    trial_range: [u64; 2],
    threads: usize,
    elapsed_s: f64,
    scenario_text: String,
    content_sha256: String,
    #[serde(borrow)]
    content: &'a RawValue,
}

impl Partial {
    /// The partial's bytes: compact JSON and a newline, with `content_sha256` over the
    /// exact bytes of `content`.
    pub fn to_bytes(&self) -> Vec<u8> {
        let content = serde_json::to_string(&self.content).expect("a partial always serialises");
        let content = RawValue::from_string(content).expect("serde_json wrote valid JSON");
        let sealed = Sealed {
            format: &self.format,
            version: self.version,
            itfsim: &self.itfsim,
            fingerprint: &self.fingerprint,
            shard: self.shard,
            trial_range: self.trial_range,
            threads: self.threads,
            elapsed_s: self.elapsed_s,
            scenario_text: &self.scenario_text,
            content_sha256: crate::scenario::sha256_hex(content.get().as_bytes()),
            content: &content,
        };
        let mut bytes = serde_json::to_vec(&sealed).expect("a partial always serialises");
        bytes.push(b'\n');
        bytes
    }

    /// Parses a partial: the format and version first, then the whole header, then the
    /// checksum over the content's bytes as read, and only then the content. The file is
    /// parsed once; only when its header does not have this version's layout is it read
    /// again for just the format and version, to say which it is.
    pub fn from_bytes(file: &str, bytes: &[u8]) -> Result<Partial, PartialError> {
        #[derive(Deserialize)]
        struct Format {
            format: String,
            version: u32,
        }
        let not_partial = |message: String| PartialError::NotPartial {
            file: file.to_string(),
            message,
        };
        let check = |format: &str, version: u32| {
            if format != FORMAT {
                return Err(not_partial(format!("format is {format:?}")));
            }
            if version != VERSION {
                return Err(PartialError::Version {
                    file: file.to_string(),
                    found: version,
                });
            }
            Ok(())
        };
        let damaged = |what: String| PartialError::Damaged {
            file: file.to_string(),
            what,
        };
        let opened: Opened = match serde_json::from_slice(bytes) {
            Ok(opened) => opened,
            Err(_) if bytes.trim_ascii().is_empty() => {
                return Err(PartialError::Empty {
                    file: file.to_string(),
                });
            }
            Err(e) => {
                // What `to_bytes` writes first: a file that begins so and ends in the
                // middle of its JSON is a partial cut short, not some other file.
                let start = format!("{{\"format\":\"{FORMAT}\"");
                // (Or cut inside that start itself.)
                let cut_in_start = bytes.len() >= 2 && start.as_bytes().starts_with(bytes);
                if e.is_eof() && (bytes.starts_with(start.as_bytes()) || cut_in_start) {
                    return Err(PartialError::Truncated {
                        file: file.to_string(),
                        bytes: bytes.len(),
                    });
                }
                if bytes.starts_with(start.as_bytes()) && is_followed_by_more(bytes) {
                    return Err(not_partial(
                        "it goes on after its JSON ends (partials joined into one file, by `cat`?): give each shard's file on its own".into(),
                    ));
                }
                if bytes.starts_with(&[0x1f, 0x8b]) {
                    return Err(not_partial(
                        "it is gzip-compressed: decompress it first (`gunzip FILE.gz`)".into(),
                    ));
                }
                let format: Format =
                    serde_json::from_slice(bytes).map_err(|e| not_partial(e.to_string()))?;
                check(&format.format, format.version)?;
                // A partial of this version whose header does not read: damaged or edited.
                return Err(damaged(format!("its header does not read: {e}")));
            }
        };
        check(&opened.format, opened.version)?;
        // The header is outside the checksum: values no shard writes are an edit.
        if opened.threads == 0 {
            return Err(damaged(
                "threads is 0; a shard runs on 1 thread or more".into(),
            ));
        }
        if !(opened.elapsed_s.is_finite() && opened.elapsed_s >= 0.0) {
            return Err(damaged(format!(
                "elapsed_s is {}; a shard's time is a number of seconds, 0 or more",
                opened.elapsed_s
            )));
        }
        let computed = crate::scenario::sha256_hex(opened.content.get().as_bytes());
        if computed != opened.content_sha256 {
            return Err(PartialError::Checksum {
                file: file.to_string(),
                recorded: opened.content_sha256,
                computed,
            });
        }
        let content: Content = serde_json::from_str(opened.content.get())
            .map_err(|e| damaged(format!("its state does not read: {e}")))?;
        Ok(Partial {
            format: opened.format,
            version: opened.version,
            itfsim: opened.itfsim,
            fingerprint: opened.fingerprint,
            shard: opened.shard,
            trial_range: opened.trial_range,
            threads: opened.threads,
            elapsed_s: opened.elapsed_s,
            scenario_text: opened.scenario_text,
            content,
        })
    }
}

/// Whether `bytes` start with one whole JSON value followed by more than blanks.
fn is_followed_by_more(bytes: &[u8]) -> bool {
    let mut values = serde_json::Deserializer::from_slice(bytes).into_iter::<&RawValue>();
    matches!(values.next(), Some(Ok(_))) && !bytes[values.byte_offset()..].trim_ascii().is_empty()
}

/// Checks that every header agrees with the first: same command, build, fingerprint and
/// shard count, and an index below the count.
pub fn check_consistent(parts: &[(String, Header)]) -> Result<(), PartialError> {
    let Some((first_file, first)) = parts.first() else {
        return Ok(());
    };
    for (file, p) in parts {
        let mismatch = |what: &str, theirs: String, ours: String| PartialError::Mismatch {
            file: file.clone(),
            first: first_file.to_string(),
            what: what.to_string(),
            theirs,
            ours,
        };
        if p.shard.index >= p.shard.count {
            // No `--shard I/N` writes this (I counts from 0 and is below N): an edit.
            return Err(PartialError::Damaged {
                file: file.clone(),
                what: format!(
                    "it says it is shard {} of {}, which no run writes (shards count from 0 to N-1)",
                    p.shard.index, p.shard.count
                ),
            });
        }
        let (a, b) = (&p.fingerprint, &first.fingerprint);
        if a.command != b.command {
            return Err(PartialError::Mixed {
                file: file.clone(),
                first: first_file.to_string(),
                theirs: a.command.clone(),
                ours: b.command.clone(),
            });
        }
        // Before the other fields: another build explains any other difference.
        if a.build != b.build {
            return Err(PartialError::Build {
                file: file.clone(),
                first: first_file.to_string(),
                theirs: a.build.clone(),
                ours: b.build.clone(),
            });
        }
        // The scenario is the same if its bytes are: another spelling of its path (a
        // shard rerun from another directory) does not matter, and the merged output
        // names the file as shard 0 did (`merge::named_as_shard_zero`).
        // Named by file and sha256: two scenarios' hashes alone do not say which is which.
        if a.scenario_sha256 != b.scenario_sha256 {
            let named =
                |f: &Fingerprint| format!("{}, sha256 {}", f.scenario_file, f.scenario_sha256);
            return Err(mismatch("scenario", named(a), named(b)));
        }
        if a.sampling != b.sampling {
            return Err(mismatch("sampling", a.sampling.clone(), b.sampling.clone()));
        }
        if a.sets != b.sets {
            let sets = |f: &Fingerprint| match f.sets.is_empty() {
                true => "no --set".to_string(),
                false => f.sets.join(" "),
            };
            return Err(mismatch("--set list", sets(a), sets(b)));
        }
        if a.seed != b.seed {
            return Err(mismatch("seed", a.seed.to_string(), b.seed.to_string()));
        }
        if a.trials != b.trials {
            return Err(mismatch(
                "trials",
                a.trials.to_string(),
                b.trials.to_string(),
            ));
        }
        if a.options_sha256 != b.options_sha256 {
            let text = |o: &Option<String>| o.clone().unwrap_or_else(|| "none".into());
            return Err(PartialError::SweepOptions {
                file: file.clone(),
                first: first_file.to_string(),
                theirs: text(&a.options_sha256),
                ours: text(&b.options_sha256),
            });
        }
        if p.shard.count != first.shard.count {
            return Err(PartialError::ShardCount {
                file: file.clone(),
                first: first_file.to_string(),
                theirs: p.shard,
                ours: first.shard,
            });
        }
    }
    Ok(())
}

/// Adds `part`'s header (read from `file`) to `headers` and checks it agrees with the
/// first, as [`check_consistent`] does for all of them: called as each partial is read, so
/// a stranger is refused before its state is merged, holding one state in memory at a time.
pub fn admit(
    headers: &mut Vec<(String, Header)>,
    file: &str,
    part: &Partial,
) -> Result<(), PartialError> {
    headers.push((file.to_string(), part.header()));
    let newest = [headers[0].clone(), headers[headers.len() - 1].clone()];
    check_consistent(&newest)
}

/// Checks that `parts` (headers with their file names) are one whole sharded run; see the
/// module documentation. Returns them sorted by shard index.
pub fn check_complete(mut parts: Vec<(String, Header)>) -> Result<Vec<Header>, PartialError> {
    check_consistent(&parts)?;
    let Some(count) = parts.first().map(|(_, p)| p.shard.count) else {
        return Err(PartialError::Missing { index: 0, count: 1 });
    };
    parts.sort_by_key(|(_, p)| p.shard.index);
    for (expected, (file, p)) in parts.iter().enumerate() {
        let expected = expected as u64;
        // A repeat first: sorted, a repeated index shows as one below its position, and
        // a repeated last shard also as a position past the count.
        if p.shard.index < expected {
            return Err(PartialError::Duplicate {
                file: file.clone(),
                index: p.shard.index,
                count,
            });
        }
        if p.shard.index > expected || expected >= count {
            return Err(PartialError::Missing {
                index: expected.min(count.saturating_sub(1)),
                count,
            });
        }
    }
    if (parts.len() as u64) < count {
        return Err(PartialError::Missing {
            index: parts.len() as u64,
            count,
        });
    }
    Ok(parts.into_iter().map(|(_, p)| p).collect())
}

#[cfg(test)]
#[path = "partial_tests.rs"]
mod integrity_tests;

/// Parses `--shard`: `I/N` (0 <= I < N), or `auto`, which takes I and N from the
/// environment (`env` looks a variable up: the process environment in use):
///
/// - a Slurm job array task (`SLURM_ARRAY_TASK_ID` set) with `ITFSIM_SHARD_COUNT` set:
///   N is `ITFSIM_SHARD_COUNT` and the task ID is the shard number I, from 0, whatever
///   the array (so a rerun of one task, `sbatch --array=5`, is still shard 5 of N);
/// - a Slurm job array task without it: the array must be a range (`--array=0-7`, `1-8`,
///   `0-14:2`), N is `SLURM_ARRAY_TASK_COUNT` and I is (ID - `SLURM_ARRAY_TASK_MIN`) /
///   `SLURM_ARRAY_TASK_STEP` (0 and 1 when unset), checked against
///   `SLURM_ARRAY_TASK_MAX` when set. Anything else is refused rather than guessed: a
///   list (`--array=1,3,6`), an ID off the step, and a one-task array with an ID other
///   than 0 (most likely a rerun of one task, which would otherwise run the whole job).
///   A real Slurm (tests/slurm.sh) sets MIN=0 MAX=4 STEP=2 COUNT=3 for `--array=0-4:2`
///   and MIN=0 MAX=3 STEP=1 COUNT=3 for `--array=0,1,3`, which is how a list is told;
/// - a Kubernetes Indexed Job: `JOB_COMPLETION_INDEX`, with N from `ITFSIM_SHARD_COUNT`
///   (an Indexed Job does not export its completions).
///
/// The error reads after the caller's `--shard SPEC: ` and ends with a hint.
pub fn parse_shard(spec: &str, env: impl Fn(&str) -> Option<String>) -> Result<ShardId, String> {
    let number = |what: &str, text: &str| -> Result<u64, String> {
        text.trim()
            .parse::<u64>()
            .map_err(|_| format!("{what} {text:?} is not a whole number"))
    };
    if spec != "auto" {
        const HINT: &str = "\n  hint: give --shard I/N, shard I of N shards with I from 0 to N-1 (--shard 0/4 to --shard 3/4 for 4 shards), or --shard auto in a Slurm job array or Kubernetes Indexed Job";
        let (i, n) = spec.split_once('/').ok_or(format!(
            "expected I/N (shard I of N, I from 0) or auto{HINT}"
        ))?;
        let whole = |what, text| number(what, text).map_err(|e| format!("{e}{HINT}"));
        let (index, count) = (whole("shard index", i)?, whole("shard count", n)?);
        if count == 0 {
            return Err(format!(
                "shard {index} of 0: need 0 <= I < N, and N is the number of shards, 1 or more{HINT}"
            ));
        }
        if index >= count {
            return Err(format!(
                "shard {index} of {count}: need 0 <= I < N (I counts from 0)\n  hint: {}",
                match count {
                    1 => "the only shard of 1 is 0/1".to_string(),
                    2 => "the shards of 2 are 0/2 and 1/2, so the last is 1/2".to_string(),
                    _ => format!(
                        "the shards of {count} are 0/{count} to {}/{count}, so the last is {}/{count}",
                        count - 1,
                        count - 1
                    ),
                }
            ));
        }
        return Ok(ShardId { index, count });
    }
    // A variable that is set but not a number: say who sets it, so the fix is clear.
    let var = |name: &str| {
        env(name)
            .map(|v| {
                number(name, &v).map_err(|e| {
                    let who = match name {
                        "ITFSIM_SHARD_COUNT" => "set it to the number of shards, e.g. ITFSIM_SHARD_COUNT=8 (deploy/slurm/submit.sh and the deploy/k8s examples set it)",
                        "JOB_COMPLETION_INDEX" => "Kubernetes sets it in an Indexed Job's pods (completionMode: Indexed); unset it elsewhere",
                        _ => "Slurm sets it in a job array's tasks (sbatch --array); unset it elsewhere",
                    };
                    format!("{e}\n  hint: {who}")
                })
            })
            .transpose()
    };
    let shard_count = var("ITFSIM_SHARD_COUNT")?;
    if shard_count == Some(0) {
        return Err(
            "ITFSIM_SHARD_COUNT is 0\n  hint: set it to the number of shards (1 or more)".into(),
        );
    }
    if let Some(id) = var("SLURM_ARRAY_TASK_ID")? {
        return match shard_count {
            Some(count) if id >= count => Err(format!(
                "SLURM_ARRAY_TASK_ID is {id} but ITFSIM_SHARD_COUNT is {count}: with ITFSIM_SHARD_COUNT set, the array task ID is the shard number, from 0 to {}\n  hint: submit array IDs below {count} (--array=0-{}, or the IDs of the shards to rerun), or set ITFSIM_SHARD_COUNT to the number of shards",
                count - 1,
                count - 1
            )),
            Some(count) => Ok(ShardId { index: id, count }),
            None => slurm_array_range_shard(id, var),
        };
    }
    if let Some(id) = var("JOB_COMPLETION_INDEX")? {
        let count = shard_count.ok_or(
            "JOB_COMPLETION_INDEX is set but ITFSIM_SHARD_COUNT is not\n  hint: set ITFSIM_SHARD_COUNT to the Job's completions",
        )?;
        if id >= count {
            return Err(format!(
                "JOB_COMPLETION_INDEX is {id} but ITFSIM_SHARD_COUNT is {count}: the index is the shard number, from 0 to {}\n  hint: set ITFSIM_SHARD_COUNT to the Job's completions (at least {})",
                count - 1,
                id + 1
            ));
        }
        return Ok(ShardId { index: id, count });
    }
    Err("found neither a Slurm job array task (SLURM_ARRAY_TASK_ID) nor a Kubernetes Indexed Job (JOB_COMPLETION_INDEX) in the environment\n  hint: run it as a task of a job array (sbatch --array=0-7) or of an Indexed Job with ITFSIM_SHARD_COUNT set, or give --shard I/N".into())
}

/// `--shard auto` in Slurm array task `id` without `ITFSIM_SHARD_COUNT`: the array must
/// be a range, MIN..=MAX by STEP with COUNT tasks (see [`parse_shard`]).
fn slurm_array_range_shard(
    id: u64,
    var: impl Fn(&str) -> Result<Option<u64>, String>,
) -> Result<ShardId, String> {
    const HINT: &str = "hint: submit the array as a range (--array=0-7, 1-8 or 0-14:2), or set ITFSIM_SHARD_COUNT to the number of shards and use the shard numbers 0..N-1 as array task IDs (what deploy/slurm/submit.sh does)";
    let count = var("SLURM_ARRAY_TASK_COUNT")?.ok_or_else(|| {
        format!("SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not\n  {HINT}")
    })?;
    let min = var("SLURM_ARRAY_TASK_MIN")?;
    let max = var("SLURM_ARRAY_TASK_MAX")?;
    let step = var("SLURM_ARRAY_TASK_STEP")?;
    let shown = |v: Option<u64>| v.map_or("unset".to_string(), |v| v.to_string());
    let not_a_range = |why: &str| {
        Err(format!(
            "the job array is not a plain range (SLURM_ARRAY_TASK_ID={id} MIN={} MAX={} STEP={} COUNT={count}): {why}, so the task's shard number cannot be told\n  {HINT}",
            shown(min),
            shown(max),
            shown(step)
        ))
    };
    let (min, step) = (min.unwrap_or(0), step.unwrap_or(1));
    if count == 1 && id != 0 {
        return Err(format!(
            "a one-task job array with task ID {id} is most likely a rerun of one task of a larger array, and would run the whole job as shard 0 of 1\n  hint: to rerun one task of an array submitted as 0..N-1 (as deploy/slurm/submit.sh does), set ITFSIM_SHARD_COUNT to N (sbatch --array=I --export=ALL,ITFSIM_SHARD_COUNT=N ...: task IDs are then shard numbers from 0); for a job of a single shard submit --array=0"
        ));
    }
    let Some(offset) = id.checked_sub(min) else {
        return not_a_range("the task ID is below SLURM_ARRAY_TASK_MIN");
    };
    if count == 0 {
        return not_a_range("SLURM_ARRAY_TASK_COUNT is 0");
    }
    if step == 0 {
        return not_a_range("SLURM_ARRAY_TASK_STEP is 0");
    }
    if let Some(max) = max {
        let span = max.checked_sub(min);
        if span.is_none_or(|span| span % step != 0 || span / step + 1 != count) {
            return not_a_range(
                "MIN to MAX by STEP does not make COUNT tasks (a list such as --array=1,3,6?)",
            );
        }
    }
    if offset % step != 0 {
        return not_a_range("the task ID is not MIN plus a multiple of STEP");
    }
    let index = offset / step;
    if index >= count {
        return not_a_range("the task ID is past the last of COUNT tasks from MIN by STEP");
    }
    Ok(ShardId { index, count })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn shard_specs() {
        let none = env(&[]);
        assert_eq!(
            parse_shard("2/5", &none),
            Ok(ShardId { index: 2, count: 5 })
        );
        // Each refusal with a hint (they had none).
        let err = parse_shard("3/3", &none).unwrap_err();
        assert!(
            err.contains("need 0 <= I < N (I counts from 0)")
                && err.contains("hint: the shards of 3 are 0/3 to 2/3, so the last is 2/3"),
            "{err}"
        );
        let err = parse_shard("1/0", &none).unwrap_err();
        assert!(
            err.contains("N is the number of shards, 1 or more")
                && err.contains("hint: give --shard I/N"),
            "{err}"
        );
        for spec in ["1", "a/3", "1/x"] {
            let err = parse_shard(spec, &none).unwrap_err();
            assert!(err.contains("hint: give --shard I/N"), "{spec}: {err}");
        }
        let err = parse_shard("auto", &none).unwrap_err();
        assert!(err.starts_with("found neither a Slurm"), "{err}");
        assert!(
            err.contains("SLURM_ARRAY_TASK_ID") && err.contains("hint:"),
            "{err}"
        );
        let k8s = env(&[("JOB_COMPLETION_INDEX", "0"), ("ITFSIM_SHARD_COUNT", "3")]);
        assert_eq!(
            parse_shard("auto", &k8s),
            Ok(ShardId { index: 0, count: 3 })
        );
        let err = parse_shard("auto", env(&[("JOB_COMPLETION_INDEX", "0")])).unwrap_err();
        assert!(err.contains("ITFSIM_SHARD_COUNT is not"), "{err}");
        let past = env(&[("JOB_COMPLETION_INDEX", "3"), ("ITFSIM_SHARD_COUNT", "3")]);
        let err = parse_shard("auto", past).unwrap_err();
        assert!(
            err.contains("is the shard number, from 0 to 2")
                && err.contains("to the Job's completions (at least 4)"),
            "{err}"
        );
        // A variable that is not a number says who sets it (there was no hint).
        let blank = env(&[("JOB_COMPLETION_INDEX", "1"), ("ITFSIM_SHARD_COUNT", "")]);
        let err = parse_shard("auto", blank).unwrap_err();
        assert!(
            err.starts_with("ITFSIM_SHARD_COUNT \"\" is not a whole number\n  hint: set it to the number of shards"),
            "{err}"
        );
        let odd = env(&[("JOB_COMPLETION_INDEX", "x"), ("ITFSIM_SHARD_COUNT", "3")]);
        let err = parse_shard("auto", odd).unwrap_err();
        assert!(err.contains("hint: Kubernetes sets it"), "{err}");
        let zero = env(&[("JOB_COMPLETION_INDEX", "0"), ("ITFSIM_SHARD_COUNT", "0")]);
        assert!(parse_shard("auto", zero).is_err());
    }

    /// `--shard auto` in the Slurm array task `id` of an array whose other variables are
    /// `vars` (ID, then COUNT, MIN, MAX, STEP as Slurm sets them, and/or ITFSIM_SHARD_COUNT).
    fn slurm(id: u64, vars: &[(&str, &str)]) -> Result<ShardId, String> {
        let id = id.to_string();
        let mut all = vec![("SLURM_ARRAY_TASK_ID", id.as_str())];
        all.extend_from_slice(vars);
        parse_shard("auto", env(&all))
    }

    fn array(
        count: &'static str,
        min: &'static str,
        max: &'static str,
        step: &'static str,
    ) -> [(&'static str, &'static str); 4] {
        [
            ("SLURM_ARRAY_TASK_COUNT", count),
            ("SLURM_ARRAY_TASK_MIN", min),
            ("SLURM_ARRAY_TASK_MAX", max),
            ("SLURM_ARRAY_TASK_STEP", step),
        ]
    }

    fn shard(index: u64, count: u64) -> Result<ShardId, String> {
        Ok(ShardId { index, count })
    }

    #[test]
    fn slurm_plain_ranges_count_from_min() {
        // --array=1-8, with and without MAX and STEP (older Slurm sets fewer variables).
        for id in 1..=8 {
            assert_eq!(slurm(id, &array("8", "1", "8", "1")), shard(id - 1, 8));
        }
        let old = [
            ("SLURM_ARRAY_TASK_COUNT", "4"),
            ("SLURM_ARRAY_TASK_MIN", "1"),
        ];
        assert_eq!(slurm(4, &old), shard(3, 4));
        assert_eq!(slurm(2, &[("SLURM_ARRAY_TASK_COUNT", "3")]), shard(2, 3));
        // --array=0-7, and a one-task --array=0.
        assert_eq!(slurm(7, &array("8", "0", "7", "1")), shard(7, 8));
        assert_eq!(slurm(0, &array("1", "0", "0", "1")), shard(0, 1));
        let err = slurm(2, &[]).unwrap_err();
        assert!(err.contains("SLURM_ARRAY_TASK_COUNT is not"), "{err}");
        assert!(slurm(0, &array("8", "1", "8", "1")).is_err());
        assert!(slurm(9, &array("8", "1", "8", "1")).is_err());
        assert!(slurm(3, &[("SLURM_ARRAY_TASK_COUNT", "3")]).is_err());
    }

    #[test]
    fn slurm_stepped_ranges_divide_by_the_step() {
        // --array=0-14:2: IDs 0, 2, ..., 14 are shards 0..7 of 8.
        let even = array("8", "0", "14", "2");
        assert_eq!(slurm(0, &even), shard(0, 8));
        assert_eq!(slurm(2, &even), shard(1, 8));
        assert_eq!(slurm(14, &even), shard(7, 8));
        let err = slurm(3, &even).unwrap_err();
        assert!(
            err.contains("not a plain range") && err.contains("hint:"),
            "{err}"
        );
        // --array=1-15:2: IDs 1, 3, ..., 15.
        let odd = array("8", "1", "15", "2");
        assert_eq!(slurm(1, &odd), shard(0, 8));
        assert_eq!(slurm(5, &odd), shard(2, 8));
        assert_eq!(slurm(15, &odd), shard(7, 8));
        assert!(slurm(4, &odd).is_err());
        // Without MAX the step still applies; an ID past the last task is refused.
        let no_max = [
            ("SLURM_ARRAY_TASK_COUNT", "8"),
            ("SLURM_ARRAY_TASK_MIN", "0"),
            ("SLURM_ARRAY_TASK_STEP", "2"),
        ];
        assert_eq!(slurm(6, &no_max), shard(3, 8));
        assert!(slurm(16, &no_max).is_err());
        // A stepped array seen without STEP (ID 14 of 8 tasks) is refused, not wrapped.
        let no_step = &array("8", "0", "14", "2")[..3];
        assert!(slurm(2, no_step).is_err());
        assert!(slurm(14, no_step).is_err());
        assert!(slurm(0, &array("8", "0", "14", "0")).is_err());
    }

    #[test]
    fn slurm_lists_and_inconsistent_arrays_are_refused() {
        // --array=1,3,6 (or 1,2,5,7): MIN to MAX by STEP does not give COUNT tasks.
        for vars in [array("3", "1", "6", "1"), array("4", "1", "7", "1")] {
            for id in [1, 3, 6] {
                let err = slurm(id, &vars).unwrap_err();
                assert!(err.contains("not a plain range"), "{err}");
                assert!(err.contains("ITFSIM_SHARD_COUNT"), "{err}");
                assert!(err.contains("MIN=1 MAX="), "{err}");
            }
        }
        // MAX below MIN, COUNT 0, an ID below MIN.
        assert!(slurm(5, &array("2", "5", "4", "1")).is_err());
        assert!(slurm(0, &array("0", "0", "0", "1")).is_err());
        assert!(slurm(2, &array("4", "3", "6", "1")).is_err());
        // Not numbers.
        let err = slurm(1, &array("4", "x", "4", "1")).unwrap_err();
        assert!(err.contains("SLURM_ARRAY_TASK_MIN \"x\""), "{err}");
    }

    #[test]
    fn slurm_rerun_of_one_task_needs_the_shard_count() {
        // `sbatch --array=5` rerunning task 5 of 8: Slurm sees a one-task array.
        let rerun = array("1", "5", "5", "1");
        let err = slurm(5, &rerun).unwrap_err();
        assert!(
            err.contains("rerun") && err.contains("ITFSIM_SHARD_COUNT"),
            "{err}"
        );
        // With ITFSIM_SHARD_COUNT the task ID is the shard number, whatever the array.
        let mut pinned = rerun.to_vec();
        pinned.push(("ITFSIM_SHARD_COUNT", "8"));
        assert_eq!(slurm(5, &pinned), shard(5, 8));
        assert_eq!(slurm(0, &pinned), shard(0, 8));
        assert_eq!(slurm(7, &pinned), shard(7, 8));
        let err = slurm(8, &pinned).unwrap_err();
        assert!(err.starts_with("SLURM_ARRAY_TASK_ID is 8 but ITFSIM_SHARD_COUNT is 8"));
        assert!(
            err.contains("hint: submit array IDs below 8 (--array=0-7"),
            "{err}"
        );
        // Also without the other Slurm variables, and for a list of shards to rerun.
        assert_eq!(slurm(3, &[("ITFSIM_SHARD_COUNT", "4")]), shard(3, 4));
        let mut list = array("2", "1", "6", "5").to_vec();
        list.push(("ITFSIM_SHARD_COUNT", "8"));
        assert_eq!(slurm(6, &list), shard(6, 8));
        assert!(slurm(0, &[("ITFSIM_SHARD_COUNT", "0")]).is_err());
        assert!(slurm(0, &[("ITFSIM_SHARD_COUNT", "eight")]).is_err());
        // Slurm's variables win over a stray JOB_COMPLETION_INDEX.
        let both = [("ITFSIM_SHARD_COUNT", "8"), ("JOB_COMPLETION_INDEX", "1")];
        assert_eq!(slurm(4, &both), shard(4, 8));
    }

    #[test]
    fn point_blocks_tile_the_points_in_order() {
        for points in 0..30u64 {
            for count in 1..12u64 {
                let blocks: Vec<_> = (0..count).map(|i| point_block(points, i, count)).collect();
                assert_eq!(blocks[0].start, 0);
                assert_eq!(blocks[count as usize - 1].end, points);
                for pair in blocks.windows(2) {
                    assert_eq!(pair[0].end, pair[1].start, "{points} in {count}");
                    // Earlier shards never get fewer points than later ones.
                    assert!(pair[0].end - pair[0].start >= pair[1].end - pair[1].start);
                }
                let sizes = blocks.iter().map(|b| b.end - b.start);
                assert!(sizes.clone().max().unwrap() - sizes.min().unwrap() <= 1);
            }
        }
        assert_eq!(point_block(5, 0, 3), 0..2);
        assert_eq!(point_block(5, 2, 3), 4..5);
        assert_eq!(point_block(3, 3, 5), 3..3);
        assert_eq!(point_block(3, 4, 5), 3..3);
    }
}
