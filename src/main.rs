//! The `itfsim` binary: parse the command line, run, map errors to exit codes
//! (MODEL.md section 10). Nothing else lives here.
use clap::Parser;
use itfsim::cli::{Cli, Command};
use itfsim::{commands, interrupt};
use std::io::Write;

fn main() {
    let cli = Cli::parse();
    // Before any command reserves an output file: Ctrl-C never leaves one behind.
    interrupt::install();
    if let Some(threads) = cli.command.threads() {
        // The work outside the engine's own pools (compiling samplers, which tabulates
        // quantiles in parallel) keeps to --threads too, so `--threads 1` on a shared node
        // uses one core throughout. Only fails if a pool exists already, which it cannot here.
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(threads as usize)
            .build_global();
    }
    let result = commands::outputs_apart(&cli.command).and_then(|()| match &cli.command {
        Command::Run(args) => commands::run::run(args),
        Command::Validate { scenarios } => commands::validate::validate(scenarios),
        Command::Template => commands::template::template(),
        Command::Sensitivity(args) => commands::sensitivity::sensitivity(args),
        Command::Trace(args) => commands::trace::trace(args),
        Command::Compare(args) => commands::compare::compare(args),
        Command::Sweep(args) => commands::sweep::sweep(args),
        Command::Thresholds(args) => commands::thresholds::thresholds(args),
        Command::Merge(args) => commands::merge::merge(args),
        Command::Bench(args) => commands::bench::bench(args),
        Command::Rollup(args) => commands::rollup::rollup(args),
    });
    if let Err(failure) = &result {
        if failure.code == 130 {
            // `run` stopped itself on Ctrl-C: end as interrupted, as the shell expects.
            interrupt::stop(&failure.message);
        }
        if !failure.message.is_empty() {
            // A closed stderr must not turn the failure into a panic.
            let _ = writeln!(std::io::stderr(), "{}", failure.message);
        }
    }
    interrupt::after_command(result.is_ok());
    if let Err(failure) = result {
        std::process::exit(failure.code);
    }
}
