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
//! checksum; such partials are refused with a hint to rerun the shards.
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
use sha2::{Digest, Sha256};

/// Format name in every partial.
pub const FORMAT: &str = "itfsim-partial";
/// Format version: bump when the layout of the state changes. 2: the build identity in
/// the fingerprint and `content_sha256`.
pub const VERSION: u32 = 2;

/// Identifies a run: parts merge only if these are equal.
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
        "{file} is shard {} of {}, but {first} is shard {} of {}: they come from runs split into different numbers of shards\n  hint: stale partials of an earlier split are probably in the directory (a glob such as part-*.json picks them up): remove them, or give each split its own directory",
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
}

/// Why a partial of format version `found` is not read, after "this itfsim reads version N".
fn version_note(found: &u32) -> &'static str {
    if *found < VERSION {
        " (older partials carry no build identity and no checksum, so they cannot be checked)"
    } else {
        ""
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

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
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
            content_sha256: sha256_hex(content.get().as_bytes()),
            content: &content,
        };
        let mut bytes = serde_json::to_vec(&sealed).expect("a partial always serialises");
        bytes.push(b'\n');
        bytes
    }

    /// Parses a partial: the format and version first, then the whole header, then the
    /// checksum over the content's bytes as read, and only then the content.
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
        let format: Format =
            serde_json::from_slice(bytes).map_err(|e| not_partial(e.to_string()))?;
        if format.format != FORMAT {
            return Err(not_partial(format!("format is {:?}", format.format)));
        }
        if format.version != VERSION {
            return Err(PartialError::Version {
                file: file.to_string(),
                found: format.version,
            });
        }
        let opened: Opened =
            serde_json::from_slice(bytes).map_err(|e| not_partial(e.to_string()))?;
        let computed = sha256_hex(opened.content.get().as_bytes());
        if computed != opened.content_sha256 {
            return Err(PartialError::Checksum {
                file: file.to_string(),
                recorded: opened.content_sha256,
                computed,
            });
        }
        let content: Content = serde_json::from_str(opened.content.get())
            .map_err(|e| not_partial(format!("content: {e}")))?;
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
            return Err(PartialError::NotPartial {
                file: file.clone(),
                message: format!("shard {} of {}", p.shard.index, p.shard.count),
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
        let fields = [
            ("scenario file", &a.scenario_file, &b.scenario_file),
            ("scenario sha256", &a.scenario_sha256, &b.scenario_sha256),
            ("sampling", &a.sampling, &b.sampling),
        ];
        for (what, theirs, ours) in fields {
            if theirs != ours {
                return Err(mismatch(what, theirs.clone(), ours.clone()));
            }
        }
        if a.sets != b.sets {
            return Err(mismatch("--set list", a.sets.join(" "), b.sets.join(" ")));
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

/// Parses `--shard`: `I/N` (0 <= I < N), or `auto`, which reads Slurm's
/// `SLURM_ARRAY_TASK_ID` and `SLURM_ARRAY_TASK_COUNT` (I counted from
/// `SLURM_ARRAY_TASK_MIN` when set, so `--array=1-8` works too), else Kubernetes'
/// `JOB_COMPLETION_INDEX` with the count from `ITFSIM_SHARD_COUNT` (an Indexed Job does
/// not export its completions). `env` looks a variable up (the process environment in use).
pub fn parse_shard(spec: &str, env: impl Fn(&str) -> Option<String>) -> Result<ShardId, String> {
    let number = |what: &str, text: &str| -> Result<u64, String> {
        text.trim()
            .parse::<u64>()
            .map_err(|_| format!("{what} {text:?} is not a whole number"))
    };
    let (index, count) = if spec == "auto" {
        if let Some(id) = env("SLURM_ARRAY_TASK_ID") {
            let count = env("SLURM_ARRAY_TASK_COUNT")
                .ok_or("SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not")?;
            let min = match env("SLURM_ARRAY_TASK_MIN") {
                Some(m) => number("SLURM_ARRAY_TASK_MIN", &m)?,
                None => 0,
            };
            let id = number("SLURM_ARRAY_TASK_ID", &id)?;
            let index = id
                .checked_sub(min)
                .ok_or("SLURM_ARRAY_TASK_ID is below SLURM_ARRAY_TASK_MIN")?;
            (index, number("SLURM_ARRAY_TASK_COUNT", &count)?)
        } else if let Some(id) = env("JOB_COMPLETION_INDEX") {
            let count = env("ITFSIM_SHARD_COUNT").ok_or(
                "JOB_COMPLETION_INDEX is set but ITFSIM_SHARD_COUNT is not (set it to the Job's completions)",
            )?;
            (
                number("JOB_COMPLETION_INDEX", &id)?,
                number("ITFSIM_SHARD_COUNT", &count)?,
            )
        } else {
            return Err("--shard auto needs SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT (a Slurm job array) or JOB_COMPLETION_INDEX and ITFSIM_SHARD_COUNT (a Kubernetes Indexed Job)".into());
        }
    } else {
        let (i, n) = spec
            .split_once('/')
            .ok_or_else(|| format!("expected I/N or auto, got {spec:?}"))?;
        (number("shard index", i)?, number("shard count", n)?)
    };
    if count == 0 || index >= count {
        return Err(format!(
            "shard {index} of {count}: need 0 <= I < N (I counts from 0)"
        ));
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
        assert!(parse_shard("5/5", &none).is_err());
        assert!(parse_shard("0/0", &none).is_err());
        assert!(parse_shard("1", &none).is_err());
        assert!(parse_shard("a/3", &none).is_err());
        assert!(parse_shard("auto", &none).is_err());
        let slurm = env(&[
            ("SLURM_ARRAY_TASK_ID", "4"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
            ("SLURM_ARRAY_TASK_MIN", "1"),
        ]);
        assert_eq!(
            parse_shard("auto", &slurm),
            Ok(ShardId { index: 3, count: 4 })
        );
        let k8s = env(&[("JOB_COMPLETION_INDEX", "0"), ("ITFSIM_SHARD_COUNT", "3")]);
        assert_eq!(
            parse_shard("auto", &k8s),
            Ok(ShardId { index: 0, count: 3 })
        );
        assert!(parse_shard("auto", env(&[("JOB_COMPLETION_INDEX", "0")])).is_err());
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
