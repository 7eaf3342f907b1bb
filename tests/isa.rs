//! The engine's two copies of the block path (`itfsim::isa`): the AVX2 copy, chosen at
//! run time on a CPU that has it, and the build's own, forced by `ITFSIM_ISA=baseline`,
//! give the same results bit for bit, and `bench` says which one ran.
mod common;
use assert_cmd::Command;
use common::{itfsim, json_from};
use serde_json::Value;

/// Whether this CPU takes the AVX2 copy unless told otherwise.
fn cpu_has_avx2() -> bool {
    itfsim::isa::cpu_has_avx2()
}

/// `cmd` on the copy `isa` names: "baseline" forces the generic copy, "auto" leaves the
/// choice to the engine.
fn on_copy<'a>(cmd: &'a mut Command, isa: &str) -> &'a mut Command {
    if isa == "baseline" {
        cmd.env("ITFSIM_ISA", "baseline")
    } else {
        cmd.env_remove("ITFSIM_ISA")
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
fn both_copies_give_identical_results_on_every_shipped_scenario() {
    if !cpu_has_avx2() {
        eprintln!("this CPU lacks AVX2: both runs take the baseline copy");
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
            let (auto, baseline) = (run(path, sampling, "auto"), run(path, sampling, "baseline"));
            assert!(auto == baseline, "{path} {sampling}: the two copies differ");
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
    let auto = bench("auto");
    let expected = if cpu_has_avx2() { "avx2" } else { "baseline" };
    assert_eq!(auto["runs_with"], expected);
    assert_eq!(bench("baseline")["runs_with"], "baseline");
}
