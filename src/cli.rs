//! The command line (clap only): subcommands and their options, as MODEL.md section 8.
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::{Path, PathBuf};

#[derive(Parser, Debug)]
#[command(
    name = "itfsim",
    version = crate::LONG_VERSION,
    about = "Monte Carlo simulator for the performance-linked element of the Better Care Fund / Integration Transformation Fund"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Simulate a scenario: how much performance money is released, with what spread, and who carries the loss.
    Run(RunArgs),
    /// Check scenario files and list every problem with file:line:col, key and a hint.
    ///
    /// Makes every check `run` makes before simulating, so a file it accepts is one `run`
    /// accepts; only money that leaves the exact range in some trial (it depends on the
    /// draws) is found by simulating.
    Validate {
        /// Scenario files (TOML).
        #[arg(required = true)]
        scenarios: Vec<PathBuf>,
    },
    /// Combine the partial results of `run --shard I/N` or `sweep --shard I/N` into the output of the unsharded command.
    Merge(MergeArgs),
    /// Measure trials per second, overall and per phase, on this machine.
    Bench(BenchArgs),
    /// Print a commented starter scenario on stdout.
    Template,
    /// Which assumptions drive the money: tornado (p10/p90 swings), rank correlations, Sobol indices.
    Sensitivity(SensitivityArgs),
    /// Every sampled value and step of one trial, exactly as `run` computed it.
    Trace(TraceArgs),
    /// Run scenarios on the same trials (common random numbers): side by side, with paired differences against the first.
    Compare(CompareArgs),
    /// Run a scenario over a grid of --set values (cartesian product), one result row per point.
    Sweep(SweepArgs),
    /// Release curve as one condition's target moves, from one set of trials.
    Thresholds(ThresholdsArgs),
    /// Many areas' run results (JSON) as one table: a row per area and the totals that add up exactly.
    Rollup(RollupArgs),
}

impl Command {
    /// The files the command reads and the files it may write, for the check that no
    /// output replaces an input (`commands::outputs_apart`).
    pub fn files(&self) -> (Vec<&Path>, Vec<&Path>) {
        fn one(p: &Option<PathBuf>) -> Vec<&Path> {
            p.as_deref().into_iter().collect()
        }
        fn many(ps: &[PathBuf]) -> Vec<&Path> {
            ps.iter().map(PathBuf::as_path).collect()
        }
        let mut outputs: Vec<&Path> = Vec::new();
        let inputs = match self {
            Command::Run(a) => {
                outputs.extend(one(&a.options.out));
                outputs.extend(one(&a.reports.report));
                outputs.extend(one(&a.reports.xlsx));
                outputs.extend(one(&a.reports.samples));
                vec![a.scenario.as_path()]
            }
            Command::Bench(a) => {
                outputs.extend(one(&a.options.out));
                vec![a.scenario.as_path()]
            }
            Command::Sensitivity(a) => {
                outputs.extend(one(&a.options.out));
                outputs.extend(one(&a.report));
                vec![a.scenario.as_path()]
            }
            Command::Trace(a) => {
                outputs.extend(one(&a.options.out));
                vec![a.scenario.as_path()]
            }
            Command::Compare(a) => {
                outputs.extend(one(&a.options.out));
                outputs.extend(one(&a.report));
                many(&a.scenarios)
            }
            Command::Sweep(a) => {
                outputs.extend(one(&a.options.out));
                outputs.extend(one(&a.report));
                vec![a.scenario.as_path()]
            }
            Command::Thresholds(a) => {
                outputs.extend(one(&a.options.out));
                outputs.extend(one(&a.report));
                vec![a.scenario.as_path()]
            }
            Command::Merge(a) => {
                outputs.extend(one(&a.out));
                outputs.extend(one(&a.report));
                many(&a.parts)
            }
            Command::Rollup(a) => {
                outputs.extend(one(&a.out));
                many(&a.results)
            }
            Command::Validate { scenarios } => many(scenarios),
            Command::Template => Vec::new(),
        };
        (inputs, outputs)
    }

    /// The command's `--threads`, if it has that option and it was given.
    pub fn threads(&self) -> Option<u64> {
        match self {
            Command::Run(a) => a.options.threads,
            Command::Bench(a) => a.options.threads,
            Command::Sensitivity(a) => a.options.threads,
            Command::Trace(a) => a.options.threads,
            Command::Compare(a) => a.options.threads,
            Command::Sweep(a) => a.options.threads,
            Command::Thresholds(a) => a.options.threads,
            Command::Validate { .. }
            | Command::Template
            | Command::Merge(_)
            | Command::Rollup(_) => None,
        }
    }
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
    /// Comma-separated values (sweep, thresholds, sensitivity, rollup).
    Csv,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum Sampling {
    /// Plain Monte Carlo.
    Mc,
    /// Latin hypercube over the parameter draws (observation noise stays plain MC).
    Lhs,
}

impl Sampling {
    /// "mc" or "lhs", as outputs report it (the same name `Sampler::name` gives).
    pub fn name(self) -> &'static str {
        match self {
            Sampling::Mc => "mc",
            Sampling::Lhs => "lhs",
        }
    }
}

/// Options shared by everything that runs trials.
#[derive(Args, Debug, Clone)]
pub struct RunOptions {
    /// Number of trials (default: the scenario's `trials`, else 100000).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1_000_000_000_000))]
    pub trials: Option<u64>,
    /// Random seed (default: the scenario's `seed`, else 0).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub threads: Option<u64>,
    /// Sampling method.
    #[arg(long, value_enum, default_value_t = Sampling::Mc)]
    pub sampling: Sampling,
    /// Override a value by path before validation, e.g. --set scheme.reablement.delivery=0.9 (repeatable).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub sets: Vec<String>,
    /// Output format [default: json when --out ends in .json, csv when it ends in .csv and the command writes CSV, else text].
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Write the output to FILE (atomically) instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// No progress or warnings on stderr.
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Args, Debug)]
pub struct RunArgs {
    /// Scenario file (TOML).
    pub scenario: PathBuf,
    /// Run batches of trials until the MCSE of expected total paid is below X (a share of
    /// the pot, e.g. 0.001); --trials (default 10,000,000) is then the maximum.
    #[arg(long, value_name = "X", value_parser = parse_precision)]
    pub precision: Option<f64>,
    #[command(flatten)]
    pub options: RunOptions,
    #[command(flatten)]
    pub reports: ReportOptions,
    /// Run only shard I of N (I from 0) and write its partial result (JSON) for `itfsim merge`; `auto` reads a Slurm array task's SLURM_ARRAY_TASK_* variables (the array must be a range, or with ITFSIM_SHARD_COUNT=N the task ID is the shard, from 0) or a Kubernetes Indexed Job's JOB_COMPLETION_INDEX with ITFSIM_SHARD_COUNT.
    #[arg(long, value_name = "I/N|auto")]
    pub shard: Option<String>,
}

fn parse_precision(s: &str) -> Result<f64, String> {
    let x: f64 = s.parse().map_err(|_| format!("`{s}` is not a number"))?;
    if x.is_finite() && x > 0.0 && x < 1.0 {
        Ok(x)
    } else {
        Err("the precision is a share of the pot, above 0 and below 1 (e.g. 0.001)".into())
    }
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum Method {
    /// Swing of expected paid and P(full) with each input at its p10 and p90.
    Tornado,
    /// Spearman rank correlation of each input with total paid and partner nets.
    Rank,
    /// First-order and total-effect Sobol indices of the top inputs.
    Sobol,
    /// Tornado and rank (the name MODEL.md section 8 uses).
    Both,
    /// Tornado, rank and Sobol (top inputs by tornado swing).
    All,
}

#[derive(Args, Debug)]
pub struct SensitivityArgs {
    /// Scenario file (TOML).
    pub scenario: PathBuf,
    /// Which analysis.
    #[arg(long, value_enum, default_value_t = Method::Tornado)]
    pub method: Method,
    /// Sobol: how many top inputs to analyse; text output: rows shown.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub top: u64,
    /// Bootstrap resamples for the Sobol confidence intervals.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u64).range(10..=10000))]
    pub bootstrap: u64,
    /// Write a self-contained HTML report with the tornado and Sobol charts (docs/reports.md).
    #[arg(long, value_name = "FILE.html")]
    pub report: Option<PathBuf>,
    #[command(flatten)]
    pub options: RunOptions,
}

#[derive(Args, Debug)]
pub struct TraceArgs {
    /// Scenario file (TOML).
    pub scenario: PathBuf,
    /// The trial to replay (0-based, as `run` numbers them).
    #[arg(long)]
    pub trial: u64,
    #[command(flatten)]
    pub options: RunOptions,
}

/// Files for people rather than programs (see docs/reports.md).
#[derive(Args, Debug, Clone, Default)]
pub struct ReportOptions {
    /// Write a self-contained HTML report with charts (turns on --monthly).
    #[arg(long, value_name = "FILE.html")]
    pub report: Option<PathBuf>,
    /// Write an Excel workbook of the results.
    #[arg(long, value_name = "FILE.xlsx")]
    pub xlsx: Option<PathBuf>,
    /// Write one CSV row per trial (sampled parameters, observations, money), streamed.
    #[arg(long, value_name = "FILE.csv")]
    pub samples: Option<PathBuf>,
    /// Also draw monthly activity of count metrics (fan charts; `monthly` in JSON).
    #[arg(long)]
    pub monthly: bool,
}

#[derive(Args, Debug)]
pub struct CompareArgs {
    /// Scenario files (TOML); differences are taken against the first.
    #[arg(required = true, num_args = 2..)]
    pub scenarios: Vec<PathBuf>,
    /// Write a self-contained HTML report with charts (docs/reports.md).
    #[arg(long, value_name = "FILE.html")]
    pub report: Option<PathBuf>,
    #[command(flatten)]
    pub options: RunOptions,
}

#[derive(Args, Debug)]
pub struct SweepArgs {
    /// Scenario file (TOML).
    pub scenario: PathBuf,
    /// A grid over a --set path: PATH=FROM:TO:STEP (decimal steps, TO included when reached) or PATH=V1,V2,... (repeatable; the points are the cartesian product).
    #[arg(long = "grid", value_name = "PATH=VALUES", required = true)]
    pub grids: Vec<String>,
    /// Continue an interrupted sweep from FILE.partial (same scenario and options only).
    #[arg(long)]
    pub resume: bool,
    /// Refuse grids with more points than this.
    #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_points: u64,
    /// Write a self-contained HTML report with the release curve (docs/reports.md).
    #[arg(long, value_name = "FILE.html")]
    pub report: Option<PathBuf>,
    /// Run only shard I of N (I from 0): a contiguous block of the points, written with --out as a partial result (JSON) for `itfsim merge`; `auto` as for `run --shard`.
    #[arg(long, value_name = "I/N|auto")]
    pub shard: Option<String>,
    #[command(flatten)]
    pub options: RunOptions,
}

#[derive(Args, Debug)]
pub struct ThresholdsArgs {
    /// Scenario file (TOML).
    pub scenario: PathBuf,
    /// The condition whose target moves, as TRANCHE.METRIC (e.g. q4_1415.nea).
    #[arg(long, value_name = "TRANCHE.METRIC")]
    pub condition: String,
    /// First target on the grid (decimal).
    #[arg(long, value_parser = parse_decimal, allow_hyphen_values = true)]
    pub from: rust_decimal::Decimal,
    /// Last target on the grid (included when reached exactly).
    #[arg(long, value_parser = parse_decimal, allow_hyphen_values = true)]
    pub to: rust_decimal::Decimal,
    /// Step between targets (decimal, above 0).
    #[arg(long, value_parser = parse_decimal, allow_hyphen_values = true)]
    pub step: rust_decimal::Decimal,
    /// Report the most ambitious target met with at least this probability.
    #[arg(long, default_value_t = 0.8, value_parser = parse_probability)]
    pub confidence: f64,
    /// Write a self-contained HTML report with the release curve (docs/reports.md).
    #[arg(long, value_name = "FILE.html")]
    pub report: Option<PathBuf>,
    #[command(flatten)]
    pub options: RunOptions,
}

fn parse_decimal(s: &str) -> Result<rust_decimal::Decimal, String> {
    use std::str::FromStr;
    rust_decimal::Decimal::from_str(s.trim())
        .map_err(|_| format!("\"{s}\" is not a decimal number (e.g. 0.035)"))
}

fn parse_probability(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(p) if (0.0..=1.0).contains(&p) => Ok(p),
        _ => Err(format!("\"{s}\" is not a probability between 0 and 1")),
    }
}

#[derive(Args, Debug)]
pub struct MergeArgs {
    /// Partial result files written by `run --shard I/N` or `sweep --shard I/N`, one per shard, in any order.
    #[arg(required = true)]
    pub parts: Vec<PathBuf>,
    /// Sweep partials only: also write the sweep's HTML report, as `sweep --report` does.
    #[arg(long, value_name = "FILE.html")]
    pub report: Option<PathBuf>,
    /// Output format [default: json when --out ends in .json, csv when it ends in .csv and the command writes CSV, else text].
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Write the output to FILE (atomically) instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// No warnings on stderr (they stay in the JSON and text output).
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Args, Debug)]
pub struct RollupArgs {
    /// Run results written by `itfsim run --format json --out FILE` (or `itfsim merge --format json`), one per area.
    #[arg(required = true, value_name = "RESULT.json")]
    pub results: Vec<PathBuf>,
    /// Output format [default: json when --out ends in .json, csv when it ends in .csv and the command writes CSV, else text].
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Write the output to FILE (atomically) instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// No warnings on stderr (the areas' own warnings stay in the JSON and CSV).
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Args, Debug)]
#[command(mut_arg("trials", |a| a.help(
    "Number of trials (default: 1000000, enough for the steady rate; the scenario's `trials` sets the precision of results, not of a benchmark)"
)))]
pub struct BenchArgs {
    /// Scenario file (TOML).
    pub scenario: PathBuf,
    #[command(flatten)]
    pub options: RunOptions,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }
}
