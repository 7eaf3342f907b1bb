//! The engine's copies of the block path (`itfsim::isa`): the build's own (forced by
//! `ITFSIM_ISA=baseline`), the AVX2 one (at most, with `ITFSIM_ISA=avx2`) and the AVX-512
//! one, each taken on a CPU that has its features, give the same results bit for bit, and
//! `bench` says which one ran; `compare`, `thresholds` and `sensitivity` (rank, Sobol),
//! which simulate on the block path too, likewise give the same output on every copy.
mod common;
use assert_cmd::Command;
use common::{itfsim, json_from};
use itfsim::isa::Isa;
use serde_json::Value;

/// `cmd` on the copy `isa` names: "baseline" forces the generic copy, "avx2" the AVX2
/// one at most, "auto" leaves the choice to the engine.
fn on_copy<'a>(cmd: &'a mut Command, isa: &str) -> &'a mut Command {
    if isa == "auto" {
        cmd.env_remove("ITFSIM_ISA")
    } else {
        cmd.env("ITFSIM_ISA", isa)
    }
}

/// `run` of `scenario` as JSON without its timing, on the copy `isa` names ("auto" leaves
/// the choice to the engine).
fn run(scenario: &str, sampling: &str, isa: &str) -> Value {
    let mut cmd = itfsim();
    cmd.args(["run", scenario, "--trials", "6000", "--threads", "2"])
        .args(["--sampling", sampling, "--format", "json"]);
    let mut v = json_from(on_copy(&mut cmd, isa));
    let timing = v["run"].as_object_mut().expect("a run object");
    timing.remove("elapsed_s").expect("elapsed_s");
    timing.remove("trials_per_s").expect("trials_per_s");
    v
}

#[test]
fn every_copy_gives_identical_results_on_every_shipped_scenario() {
    let best = itfsim::isa::cpu_best();
    if best != Isa::Avx512 {
        eprintln!("this CPU lacks AVX-512 (its widest copy: {})", best.name());
    }
    let mut scenarios: Vec<_> = std::fs::read_dir("scenarios")
        .expect("scenarios/")
        .map(|e| e.expect("an entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    scenarios.sort();
    assert!(scenarios.len() >= 7, "{scenarios:?}");
    for path in &scenarios {
        let path = path.to_str().expect("a UTF-8 path");
        for sampling in ["mc", "lhs"] {
            let baseline = run(path, sampling, "baseline");
            for copy in ["avx2", "auto"] {
                let other = run(path, sampling, copy);
                assert!(
                    other == baseline,
                    "{path} {sampling}: {copy} and baseline differ"
                );
            }
        }
    }
}

#[test]
fn bench_says_which_copy_ran() {
    let bench = |isa: &str| {
        let mut cmd = itfsim();
        cmd.args(["bench", "scenarios/ealing-2014.toml", "--trials", "300"])
            .args(["--quiet", "--format", "json"]);
        json_from(on_copy(&mut cmd, isa))
    };
    let best = itfsim::isa::cpu_best();
    assert_eq!(bench("auto")["runs_with"], best.name());
    assert_eq!(bench("avx2")["runs_with"], best.min(Isa::Avx2).name());
    assert_eq!(bench("baseline")["runs_with"], "baseline");
}

/// `compare`, `thresholds` and `sensitivity`'s rank and Sobol methods simulate on the
/// block path too: the same output on every copy.
#[test]
fn compare_thresholds_and_sensitivity_give_identical_results_on_every_copy() {
    let commands: [&[&str]; 4] = [
        &[
            "compare",
            "scenarios/ealing-2014.toml",
            "scenarios/ealing-2014-prorata.toml",
            "scenarios/hackney-2018.toml",
        ],
        &[
            "thresholds",
            "scenarios/ealing-2014-prorata.toml",
            "--condition",
            "q2_1516.nea",
            "--from",
            "0.001",
            "--to",
            "0.05",
            "--step",
            "0.007",
        ],
        &[
            "sensitivity",
            "scenarios/ealing-2014.toml",
            "--method",
            "rank",
        ],
        &[
            "sensitivity",
            "scenarios/hackney-2018.toml",
            "--method",
            "sobol",
        ],
    ];
    for args in commands {
        let output = |isa: &str| {
            let mut cmd = itfsim();
            cmd.args(args)
                .args(["--trials", "5003", "--threads", "2", "--format", "json"]);
            let mut v = json_from(on_copy(&mut cmd, isa));
            if let Some(run) = v["run"].as_object_mut() {
                run.remove("elapsed_s");
                run.remove("trials_per_s");
            }
            v
        };
        let baseline = output("baseline");
        for copy in ["avx2", "auto"] {
            assert!(
                output(copy) == baseline,
                "{}: {copy} and baseline differ",
                args[0]
            );
        }
    }
}
