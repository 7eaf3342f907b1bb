//! The command line (clap only): subcommands and their options, as MODEL.md section 8.
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "itfsim",
    version,
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
    Validate {
        /// Scenario files (TOML).
        #[arg(required = true)]
        scenarios: Vec<PathBuf>,
    },
    /// Print a commented starter scenario on stdout.
    Template,
    /// Run scenarios on the same trials (common random numbers): side by side, with paired differences against the first.
    Compare(CompareArgs),
    /// Run a scenario over a grid of --set values (cartesian product), one result row per point.
    Sweep(SweepArgs),
    /// Release curve as one condition's target moves, from one set of trials.
    Thresholds(ThresholdsArgs),
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
    /// Comma-separated values (sweep and thresholds).
    Csv,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum Sampling {
    /// Plain Monte Carlo.
    Mc,
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
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
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
    #[command(flatten)]
    pub options: RunOptions,
}

#[derive(Args, Debug)]
pub struct CompareArgs {
    /// Scenario files (TOML); differences are taken against the first.
    #[arg(required = true, num_args = 2..)]
    pub scenarios: Vec<PathBuf>,
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }
}
