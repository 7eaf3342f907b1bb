//! `--sampling lhs` means the same thing in every simulating command: a sweep row, a
//! threshold point, a side of a comparison and a merged set of run shards each equal
//! `run --sampling lhs` at the same seed and trials, and say "lhs" in their output and
//! in their reports' provenance.
//! (Before, sweep, compare and thresholds silently ran plain Monte Carlo, and run shards
//! recorded "mc" in their partials.)

mod common;
use common::{EALING, PRORATA, itfsim, json_from, json_of};
use serde_json::Value;
use std::path::Path;

/// The report's provenance names the sampling.
fn report_says_lhs(report: &Path) {
    let html = std::fs::read_to_string(report).unwrap();
    assert!(
        html.contains("<dt>Sampling</dt><dd>lhs</dd>"),
        "{}: no lhs in the provenance",
        report.display()
    );
}

fn run_lhs(scenario: &str, trials: &str, seed: &str, sets: &[String]) -> Value {
    let mut args = vec![
        "run",
        scenario,
        "--trials",
        trials,
        "--seed",
        seed,
        "--sampling",
        "lhs",
    ];
    for s in sets {
        args.push("--set");
        args.push(s);
    }
    let v = json_of(&args);
    assert_eq!(v["run"]["sampling"], "lhs");
    v
}

#[test]
fn sweep_rows_use_the_latin_hypercube() {
    let grid = "scheme.reablement.delivery=0.6,1";
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("sweep.html");
    let sweep = |sampling: &str| {
        json_of(&[
            "sweep",
            PRORATA,
            "--grid",
            grid,
            "--trials",
            "1500",
            "--seed",
            "3",
            "--sampling",
            sampling,
            "--report",
            report.to_str().unwrap(),
        ])
    };
    let mc = sweep("mc");
    let lhs = sweep("lhs");
    report_says_lhs(&report);
    let rows = lhs.as_array().expect("rows");
    assert_eq!(rows.len(), 2);
    for (row, value) in rows.iter().zip(["0.6", "1"]) {
        let r = run_lhs(
            PRORATA,
            "1500",
            "3",
            &[format!("scheme.reablement.delivery={value}")],
        );
        assert_eq!(row["expected_paid"], r["total"]["paid"]["mean"], "{value}");
        assert_eq!(row["paid_p50"], r["total"]["paid"]["p50"], "{value}");
    }
    // Plain Monte Carlo is a different set of trials.
    assert_ne!(
        mc[0]["expected_paid"], rows[0]["expected_paid"],
        "lhs and mc sweeps gave the same mean"
    );
}

#[test]
fn threshold_points_and_compare_sides_use_the_latin_hypercube() {
    let dir = tempfile::tempdir().unwrap();
    let thresholds_report = dir.path().join("thresholds.html");
    let compare_report = dir.path().join("compare.html");
    let v = json_of(&[
        "thresholds",
        PRORATA,
        "--condition",
        "q1_1516.nea",
        "--from",
        "0.02",
        "--to",
        "0.04",
        "--step",
        "0.02",
        "--trials",
        "2000",
        "--seed",
        "5",
        "--sampling",
        "lhs",
        "--report",
        thresholds_report.to_str().unwrap(),
    ]);
    assert_eq!(v["run"]["sampling"], "lhs");
    report_says_lhs(&thresholds_report);
    for point in v["curve"].as_array().unwrap() {
        let target = point["target"].as_str().unwrap();
        let r = run_lhs(
            PRORATA,
            "2000",
            "5",
            &[format!("tranche.q1_1516.condition.nea.target={target}")],
        );
        assert_eq!(
            point["expected_paid"], r["total"]["paid"]["mean"],
            "{target}"
        );
        assert_eq!(point["p_full"], r["total"]["p_full"], "{target}");
    }

    let c = json_of(&[
        "compare",
        EALING,
        PRORATA,
        "--trials",
        "2000",
        "--seed",
        "5",
        "--sampling",
        "lhs",
        "--report",
        compare_report.to_str().unwrap(),
    ]);
    assert_eq!(c["run"]["sampling"], "lhs");
    report_says_lhs(&compare_report);
    for (i, file) in [EALING, PRORATA].iter().enumerate() {
        let r = run_lhs(file, "2000", "5", &[]);
        assert_eq!(
            c["scenarios"][i]["paid"]["mean"],
            r["total"]["paid"]["mean"]
        );
        assert_eq!(c["scenarios"][i]["paid"]["p90"], r["total"]["paid"]["p90"]);
    }
}

#[test]
fn merged_lhs_shards_equal_the_unsharded_lhs_run() {
    let dir = tempfile::tempdir().unwrap();
    let mut parts = Vec::new();
    for i in 0..3 {
        let path = dir.path().join(format!("part-{i}.json"));
        itfsim()
            .args(["run", EALING, "--trials", "5000", "--seed", "8"])
            .args(["--sampling", "lhs", "--quiet", "--shard"])
            .arg(format!("{i}/3"))
            .arg("--out")
            .arg(&path)
            .assert()
            .success();
        parts.push(path);
    }
    let merged = json_from(
        itfsim()
            .arg("merge")
            .args(&parts)
            .args(["--format", "json"]),
    );
    let whole = run_lhs(EALING, "5000", "8", &[]);
    assert_eq!(merged["run"]["sampling"], "lhs");
    assert_eq!(merged["total"], whole["total"]);
    assert_eq!(merged["partners"], whole["partners"]);
}
