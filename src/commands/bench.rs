//! `itfsim bench SCENARIO`: trials per second on this machine, overall and per phase.
//!
//! Overall: one whole `engine::run` of the requested trials on the requested threads,
//! timed end to end (what `run` would take, without output). Per phase: a separate
//! single-threaded pass over a sample of trials (the first `min(trials, 20000)`) on the
//! path the engine runs them, a block of 64 at a time in the widest instruction set
//! this CPU takes, with a clock read between the phases of `Model::simulate_block_phases`
//! (sampling = every uniform of the block, parameters', outcomes' and the observations'
//! noise, and the parameters' values; model = demand, effects, attribution and savings,
//! and the observed counts; rules = windows, conditions, tranches and the money split)
//! and around the block's staged pushes, flushes and chunk ends (aggregation, as the
//! engine folds, into the run's own accumulator so that its histograms are as full as at
//! the run's steady state). The clock is read five times a block of 64 trials, so the
//! phase figures add up to about the uninstrumented per-trial time on one thread; use
//! them as shares, and `trials_per_s` as the speed.
use super::Failure;
use super::run::{emit, prepare};
use crate::atomic::PendingFile;
use crate::cli::{BenchArgs, Format};
use crate::engine::{self, BLOCK, CHUNK};
use crate::isa::{self, Isa};
use crate::model::{Lanes, Trial};
use std::time::Instant;

const PHASES: [&str; 4] = ["sampling", "model", "rules", "aggregation"];
const SAMPLE: u64 = 20_000;
/// Trials without `--trials`: about two seconds for Ealing on this project's machine.
pub const DEFAULT_TRIALS: u64 = 1_000_000;

struct Report {
    scenario: String,
    /// The `--set` overrides, as the run JSON's `scenario.sets` gives them.
    sets: Vec<String>,
    trials: u64,
    seed: u64,
    /// "mc" or "lhs": the sampling the run (and the timed sample) used.
    sampling: String,
    threads: usize,
    elapsed_s: f64,
    sample: u64,
    /// Nanoseconds per trial, by phase.
    phase_ns: [f64; 4],
    /// CPUs the machine has (processors in /proc/cpuinfo).
    cores: usize,
    /// CPUs this process may use (affinity and cgroup quotas: a Slurm task's allocation,
    /// `taskset`, a container's CPU limit).
    cores_available: usize,
    cpu: String,
    /// Whether the CPU has AVX2 (None off x86-64).
    cpu_avx2: Option<bool>,
    /// Whether the CPU has AVX-512 (None off x86-64).
    cpu_avx512: Option<bool>,
}

/// The vector instructions this binary was built to use: "avx-512", "avx2", or
/// "baseline" (the target's own, SSE2 on x86-64: the default build, which runs on any
/// machine of the architecture).
fn built_for() -> &'static str {
    if cfg!(target_feature = "avx512f") {
        "avx-512"
    } else if cfg!(target_feature = "avx2") {
        "avx2"
    } else {
        "baseline"
    }
}

/// Whether this CPU has AVX2 and the other x86-64-v3 features the engine's AVX2 copy is
/// compiled with (`isa::cpu_has_avx2`), checked at run time; None off x86-64.
fn cpu_avx2() -> Option<bool> {
    cfg!(target_arch = "x86_64").then(isa::cpu_has_avx2)
}

/// Whether this CPU has the x86-64-v4 features (AVX-512 F, BW, CD, DQ, VL) the engine's
/// AVX-512 copy is compiled with (`isa::cpu_has_avx512`); None off x86-64.
fn cpu_avx512() -> Option<bool> {
    cfg!(target_arch = "x86_64").then(isa::cpu_has_avx512)
}

/// The text line on the instructions: what the build targets, and which copy of the
/// block path this process runs (`isa`), and why when it is not the CPU's widest.
fn instructions_text(x86_64: bool) -> String {
    let build = match built_for() {
        "baseline" => "build: baseline instructions (it runs on any machine of its architecture)",
        "avx2" => "build: AVX2 instructions",
        _ => "build: AVX-512 instructions",
    };
    let (chosen, best) = (isa::chosen(), isa::cpu_best());
    let copy = match chosen {
        Isa::Baseline => "the build's own instructions",
        Isa::Avx2 => "AVX2",
        Isa::Avx512 => "AVX2 and its keyed streams with AVX-512",
    };
    let why = if chosen < best {
        format!(" (ITFSIM_ISA={})", chosen.name())
    } else {
        match chosen {
            Isa::Avx512 => ", chosen at run time (this CPU has both)",
            Isa::Avx2 => ", chosen at run time (this CPU has it, not AVX-512)",
            Isa::Baseline if x86_64 => " (this CPU lacks AVX2)",
            Isa::Baseline => "",
        }
        .to_string()
    };
    format!("{build}; trials run with {copy}{why}")
}

pub fn bench(args: &BenchArgs) -> Result<(), Failure> {
    let o = &args.options;
    let format = super::output_format(o.format, o.out.as_deref(), false);
    if format == Format::Csv {
        return Err(super::csv_refused("bench"));
    }
    // A short run understates the rate: the summaries' histograms are still filling
    // (Ealing's own 100,000 trials run about 40% below its steady rate: every run's
    // workers fill their summaries' histograms from empty, and merge them at the end).
    let mut options = o.clone();
    options.trials = Some(o.trials.unwrap_or(DEFAULT_TRIALS));
    let prepared = prepare(&args.scenario, &options)?;
    let pending = o.out.as_deref().map(PendingFile::create).transpose()?;
    let model = &prepared.model;
    let started = Instant::now();
    let warm = engine::run(model, 0..prepared.trials, prepared.threads)?;
    let elapsed_s = started.elapsed().as_secs_f64();
    debug_assert_eq!(warm.trials, prepared.trials);

    let sample = prepared.trials.min(SAMPLE);
    let mut nanos = [0u128; 4];
    let mut trials = vec![Trial::new(model); BLOCK];
    let mut lanes = Lanes::new(model, BLOCK);
    // As the engine does: one accumulator, each block simulated in the chosen copy
    // (`isa::run`) and staged (`engine::Staged`), each chunk flushed and ended after its
    // last block. The accumulator is the run's own, already holding its trials, so the
    // sample is folded into histograms as full as a long run's: an empty one would time
    // the first trials' growth, when most values open a new bucket. Its summaries are
    // not reported, so counting the sample twice is harmless.
    let mut total = warm;
    let mut staged = engine::Staged::new(model);
    for chunk in (0..sample).step_by(CHUNK as usize) {
        let end = (chunk + CHUNK).min(sample);
        for first in (chunk..end).step_by(BLOCK) {
            let block = &mut trials[..(end - first).min(BLOCK as u64) as usize];
            let mut last = Instant::now();
            isa::run(|| {
                model.simulate_block_phases(first, block, &mut lanes, |phase| {
                    let now = Instant::now();
                    nanos[phase] += (now - last).as_nanos();
                    last = now;
                })
            });
            staged.push_block(model, block, &lanes, &mut total);
            nanos[3] += last.elapsed().as_nanos();
        }
        let ending = Instant::now();
        staged.flush(&mut total);
        total.end_chunk();
        nanos[3] += ending.elapsed().as_nanos();
    }
    let (cores, cpu) = cpuinfo();
    let available = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let report = Report {
        scenario: prepared.loaded.file.clone(),
        sets: o.sets.clone(),
        trials: prepared.trials,
        seed: prepared.seed,
        sampling: prepared.model.sampler.name().into(),
        threads: prepared.threads,
        elapsed_s,
        sample,
        phase_ns: nanos.map(|n| n as f64 / sample as f64),
        cores: cores.unwrap_or(available),
        cores_available: available,
        cpu,
        cpu_avx2: cpu_avx2(),
        cpu_avx512: cpu_avx512(),
    };
    let bytes = match format {
        Format::Json => {
            let mut b = serde_json::to_vec_pretty(&report.to_json())
                .map_err(|e| Failure::new(1, e.to_string()))?;
            b.push(b'\n');
            b
        }
        Format::Text | Format::Csv => report.to_text().into_bytes(),
    };
    emit(pending, &bytes)
}

/// From /proc/cpuinfo: the machine's processors (all of them, whatever this process may
/// use under affinity or cgroup limits), if listed, and the CPU model name, or "unknown".
fn cpuinfo() -> (Option<usize>, String) {
    let text = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let n = text.lines().filter(|l| l.starts_with("processor")).count();
    let model = text
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map_or_else(|| "unknown".into(), |(_, v)| v.trim().to_string());
    ((n > 0).then_some(n), model)
}

impl Report {
    fn trials_per_s(&self) -> f64 {
        self.trials as f64 / self.elapsed_s
    }

    fn to_json(&self) -> serde_json::Value {
        let phases: serde_json::Map<String, serde_json::Value> = PHASES
            .iter()
            .zip(self.phase_ns)
            .map(|(name, ns)| {
                (
                    name.to_string(),
                    serde_json::json!({"ns_per_trial": round1(ns), "trials_per_s": (1e9 / ns).round()}),
                )
            })
            .collect();
        serde_json::json!({
            "itfsim": env!("CARGO_PKG_VERSION"),
            "build": crate::BUILD_ID,
            "scenario": self.scenario,
            "sets": self.sets,
            "machine": {"cores": self.cores, "cores_available": self.cores_available, "cpu": self.cpu, "avx2": self.cpu_avx2, "avx512": self.cpu_avx512},
            "built_for": built_for(),
            "runs_with": isa::chosen().name(),
            "run": {
                "trials": self.trials,
                "seed": self.seed,
                "sampling": self.sampling,
                "threads": self.threads,
                "elapsed_s": self.elapsed_s,
                "trials_per_s": self.trials_per_s().round(),
            },
            "phases": {
                "sample_trials": self.sample,
                "threads": 1,
                "ns_per_trial": round1(self.phase_ns.iter().sum()),
                "by_phase": phases,
            },
        })
    }

    fn to_text(&self) -> String {
        let mut out = format!(
            "itfsim {} (build {}) bench: {}{}\nmachine: {}, {}\nrun: {} trial{}, seed {}, {} sampling, on {} thread{} in {:.3} s = {:.0} trials/s\n",
            env!("CARGO_PKG_VERSION"),
            crate::BUILD_ID,
            self.scenario,
            self.sets
                .iter()
                .map(|s| format!(" --set {s}"))
                .collect::<String>(),
            cores_text(self.cores, self.cores_available),
            self.cpu,
            self.trials,
            if self.trials == 1 { "" } else { "s" },
            self.seed,
            self.sampling,
            self.threads,
            if self.threads == 1 { "" } else { "s" },
            self.elapsed_s,
            self.trials_per_s()
        );
        out += &instructions_text(self.cpu_avx2.is_some());
        out += "\n";
        let sum: f64 = self.phase_ns.iter().sum();
        out += &format!(
            "phases (1 thread, first {} trials, blocks of 64 as the engine runs them, clock read between phases):\n",
            self.sample
        );
        for (name, ns) in PHASES.iter().zip(self.phase_ns) {
            out += &format!(
                "  {name:<12} {ns:>9.1} ns/trial {:>5.1}%\n",
                100.0 * ns / sum
            );
        }
        out += &format!("  {:<12} {sum:>9.1} ns/trial\n", "total");
        out
    }
}

/// "2 cores", or "2 cores (1 available to this process)" under an affinity limit.
fn cores_text(cores: usize, available: usize) -> String {
    let plural = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
    if available == cores {
        plural(cores, "core")
    } else {
        format!(
            "{} ({available} available to this process)",
            plural(cores, "core")
        )
    }
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}
