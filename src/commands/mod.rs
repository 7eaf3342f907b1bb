//! One file per subcommand; each returns `Ok` or a `Failure` carrying its exit code
//! (MODEL.md section 10), so `main` only prints and exits.
pub mod bench;
pub mod compare;
pub mod grid;
pub mod merge;
pub mod progress;
pub mod rollup;
pub mod rollup_checks;
pub mod rollup_output;
pub mod run;
pub mod sensitivity;
pub mod sweep;
pub mod sweep_output;
pub mod sweep_shard;
pub mod template;
pub mod thresholds;
pub mod trace;
pub mod validate;

use crate::cli::Format;

/// A failed command: what to print on stderr and the exit code.
#[derive(Debug)]
pub struct Failure {
    pub code: i32,
    pub message: String,
}

impl Failure {
    pub fn new(code: i32, message: impl Into<String>) -> Failure {
        Failure {
            code,
            message: message.into(),
        }
    }
}

/// The output format: `--format` when given; otherwise the one `--out`'s extension names
/// (`.json`, and `.csv` for a command that writes CSV: a sweep, a merged sweep, a
/// thresholds curve, sensitivity, a rollup), so `--out growth.csv` gives a file a
/// spreadsheet reads and `--out ealing.json` a file a program reads; otherwise text.
pub fn output_format(
    given: Option<Format>,
    out: Option<&std::path::Path>,
    writes_csv: bool,
) -> Format {
    let named = |ext: &str| {
        out.and_then(|o| o.extension())
            .is_some_and(|e| e.eq_ignore_ascii_case(ext))
    };
    match given {
        Some(format) => format,
        None if named("json") => Format::Json,
        None if writes_csv && named("csv") => Format::Csv,
        None => Format::Text,
    }
}

/// The refusal of `--format csv` by a command that writes only text or JSON, naming
/// every command that does write CSV, so the list is kept in one place.
pub fn csv_refused(command: &str) -> Failure {
    Failure::new(
        2,
        format!(
            "{command} writes --format text or json; csv is written by sweep, thresholds, sensitivity and rollup (and by merge, of sweep partials)"
        ),
    )
}

impl From<crate::scenario::LoadError> for Failure {
    fn from(e: crate::scenario::LoadError) -> Failure {
        Failure::new(e.exit_code(), e.to_string())
    }
}

impl From<crate::atomic::AtomicError> for Failure {
    fn from(e: crate::atomic::AtomicError) -> Failure {
        Failure::new(73, e.to_string())
    }
}

impl From<crate::model::CompileError> for Failure {
    fn from(e: crate::model::CompileError) -> Failure {
        Failure::new(65, e.to_string())
    }
}

impl From<crate::engine::EngineError> for Failure {
    fn from(e: crate::engine::EngineError) -> Failure {
        use crate::engine::EngineError;
        let code = match e {
            // 128 + SIGINT, as a shell reports a process stopped by Ctrl-C.
            EngineError::Cancelled => 130,
            // The scenario's values take money beyond the exact range: an invalid scenario.
            EngineError::Overflow { .. } => 65,
            EngineError::Threads { .. } => 1,
        };
        Failure::new(code, e.to_string())
    }
}

/// Which itfsim command wrote a JSON output, recognised by its top-level keys, so that a
/// command given the wrong kind of file (merge, rollup) says what it was given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputKind {
    SweepTable,
    Partial,
    Rollup,
    Thresholds,
    Compare,
    Sensitivity,
    Trace,
    Run,
}

impl OutputKind {
    /// The kind of the JSON in `bytes`; None for anything else.
    pub fn of(bytes: &[u8]) -> Option<OutputKind> {
        let v: serde_json::Value = serde_json::from_slice(bytes).ok()?;
        let has = |key: &str| v.get(key).is_some();
        Some(if v.is_array() {
            OutputKind::SweepTable
        } else if v.get("format").and_then(|f| f.as_str()) == Some(crate::partial::FORMAT) {
            OutputKind::Partial
        } else if has("areas") && has("total") {
            OutputKind::Rollup
        } else if has("curve") {
            OutputKind::Thresholds
        } else if has("scenarios") {
            OutputKind::Compare
        } else if has("tornado") || has("sobol") {
            OutputKind::Sensitivity
        } else if has("trial") && has("parameters") {
            OutputKind::Trace
        } else if has("run") && has("total") {
            OutputKind::Run
        } else {
            return None;
        })
    }

    /// What it is, in words: "a sweep's table (`itfsim sweep --format json`)".
    pub fn describe(self) -> &'static str {
        match self {
            OutputKind::SweepTable => "a sweep's table (`itfsim sweep --format json`)",
            OutputKind::Partial => "a shard's partial result (`--shard I/N --out FILE`)",
            OutputKind::Rollup => "the output of `itfsim rollup`",
            OutputKind::Thresholds => "the output of `itfsim thresholds`",
            OutputKind::Compare => "the output of `itfsim compare`",
            OutputKind::Sensitivity => "the output of `itfsim sensitivity`",
            OutputKind::Trace => "the output of `itfsim trace`",
            OutputKind::Run => {
                "a run's whole result (`itfsim run` or `itfsim merge`, --format json)"
            }
        }
    }
}

/// `n` things, singular for one: "1 scheme", "2 schemes".
pub fn plural(n: usize, one: &str) -> String {
    format!("{n} {one}{}", if n == 1 { "" } else { "s" })
}

/// Writes `text` to stderr: a warning, a note, a progress line. Any error is ignored: a
/// closed or full stderr must not fail a command whose results go elsewhere (where
/// `eprint!` would panic, exit 101).
pub fn write_stderr(text: impl std::fmt::Display) {
    use std::io::Write;
    let _ = write!(std::io::stderr(), "{text}");
}

/// [`write_stderr`] of one line.
pub fn stderr_line(text: impl std::fmt::Display) {
    write_stderr(format_args!("{text}\n"));
}

/// Prints a scenario's warnings on stderr unless `quiet`, each in full (located, with its
/// hint): what a command says of the scenario it loaded, before its work.
pub fn warn_scenario(scenario: &crate::scenario::Scenario, quiet: bool) {
    if !quiet {
        for w in &scenario.warnings {
            stderr_line(w);
        }
    }
}

/// Prints on stderr, unless `quiet`, the warnings of a result (its JSON `warnings`) past
/// the first `printed`, which [`warn_scenario`] said already: those the run raised (one
/// trial, a `--precision` cut short), each as `warning: MESSAGE`. MODEL.md section 10:
/// warnings go to stderr and into the JSON.
pub fn warn_after(warnings: &[String], printed: usize, quiet: bool) {
    if !quiet {
        for w in warnings.iter().skip(printed) {
            stderr_line(format_args!("warning: {w}"));
        }
    }
}

/// Writes a command's output: into the reserved file (atomically), else to stdout (a
/// closed pipe is not an error).
pub fn emit(pending: Option<crate::atomic::PendingFile>, bytes: &[u8]) -> Result<(), Failure> {
    match pending {
        Some(file) => Ok(file.commit(bytes)?),
        None => {
            use std::io::Write;
            crate::interrupt::writing_stdout();
            let mut out = std::io::stdout().lock();
            match out.write_all(bytes).and_then(|_| out.flush()) {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                    Err(Failure::new(73, format!("cannot write to stdout: {e}")))
                }
                _ => Ok(()),
            }
        }
    }
}

pub use crate::atomic::same_file;

/// Refuses (exit 2, before anything is read or written) a command whose output file is
/// one of its inputs (the output would replace what it is computed from: a scenario, a
/// shard, an area's result) or whose two outputs are one file (one would replace the
/// other). Every command's files come from [`crate::cli::Command::files`].
pub fn outputs_apart(command: &crate::cli::Command) -> Result<(), Failure> {
    let (inputs, outputs) = command.files();
    for (i, out) in outputs.iter().enumerate() {
        if let Some(input) = inputs.iter().find(|input| same_file(out, input)) {
            return Err(Failure::new(
                2,
                format!(
                    "the output {} is the input {}: writing it would destroy that input\n  hint: write the output to another file",
                    out.display(),
                    input.display()
                ),
            ));
        }
        // A device or pipe (`/dev/null`) takes any number of outputs.
        let special = std::fs::metadata(out).is_ok_and(|m| !m.is_file() && !m.is_dir());
        if let Some(other) = outputs[..i]
            .iter()
            .find(|other| !special && (*other == out || same_file(other, out)))
        {
            return Err(Failure::new(
                2,
                format!(
                    "two outputs are one file ({} and {}): one would replace the other\n  hint: give each output its own file",
                    other.display(),
                    out.display()
                ),
            ));
        }
    }
    Ok(())
}

/// Reserves an optional output file before any computing (exit 73 on a bad path).
pub fn reserve(
    path: Option<&std::path::Path>,
) -> Result<Option<crate::atomic::PendingFile>, Failure> {
    Ok(path.map(crate::atomic::PendingFile::create).transpose()?)
}

/// Applies `--sampling` to a compiled model run for `trials` trials: a Latin hypercube
/// over those trials for `lhs` (strata keyed by parameter path, so models sharing a path
/// share its strata and common random numbers still pair), nothing for `mc`. Report the
/// result with `model.sampler.name()`.
pub fn apply_sampling(
    model: &mut crate::model::Model,
    sampling: crate::cli::Sampling,
    trials: u64,
) {
    if sampling == crate::cli::Sampling::Lhs {
        model.sampler.lhs = Some(crate::sampling::Lhs::new(model, trials));
    }
}

/// `--shard I/N|auto` of a command (`auto` reads Slurm's or Kubernetes' variables), or
/// None; a bad value is a command-line error (exit 2).
pub fn shard_option(spec: Option<&str>) -> Result<Option<crate::partial::ShardId>, Failure> {
    spec.map(|spec| {
        crate::partial::parse_shard(spec, |k| std::env::var(k).ok())
            .map_err(|e| Failure::new(2, format!("--shard {spec}: {e}")))
    })
    .transpose()
}

/// A shard's partial result goes to `--out` (run and sweep alike): refused without it.
pub fn shard_needs_out(
    shard: Option<crate::partial::ShardId>,
    out: Option<&std::path::Path>,
) -> Result<(), Failure> {
    if shard.is_some() && out.is_none() {
        return Err(Failure::new(
            2,
            "--shard needs --out FILE: the shard's partial result is written there for `itfsim merge`",
        ));
    }
    Ok(())
}

/// The refusal of `--format text` or `csv` beside `--shard`: a shard writes its partial
/// result as JSON whatever the format, for `itfsim merge`, which takes the format of the
/// output; saying so beats writing JSON to a user who asked for a table.
pub fn shard_writes_json(
    shard: Option<crate::partial::ShardId>,
    format: Option<Format>,
) -> Result<(), Failure> {
    match (shard, format) {
        (Some(_), Some(f @ (Format::Text | Format::Csv))) => Err(Failure::new(
            2,
            format!(
                "--shard writes a partial result (JSON) for `itfsim merge`, not {}\n  hint: give --format {} to `itfsim merge` instead; it writes the same output from the shards",
                if f == Format::Csv { "a table" } else { "text" },
                if f == Format::Csv { "csv" } else { "text" },
            ),
        )),
        _ => Ok(()),
    }
}

/// Worker threads: `--threads`, else every core.
pub fn threads(options: &crate::cli::RunOptions) -> usize {
    options.threads.map(|t| t as usize).unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    })
}
