//! `itfsim thresholds` as a user meets it: every point of a release curve must equal
//! `run --set tranche.T.condition.M.target=X` at the same seed and trials (money strings
//! and probabilities exactly), and bad conditions or grids must exit with clear errors.

mod common;
use common::{EALING, PRORATA, itfsim, json_of, run_json};

#[test]
fn thresholds_equal_run_with_the_target_set() {
    let v = json_of(&[
        "thresholds",
        PRORATA,
        "--condition",
        "q1_1516.nea",
        "--from",
        "0.01",
        "--to",
        "0.06",
        "--step",
        "0.0125",
        "--trials",
        "3000",
        "--seed",
        "9",
        "--confidence",
        "0.2",
    ]);
    let curve = v["curve"].as_array().unwrap();
    assert_eq!(curve.len(), 5);
    assert_eq!(curve[4]["target"], "0.0600");
    for point in [&curve[0], &curve[2], &curve[4]] {
        let target = point["target"].as_str().unwrap();
        let r = run_json(
            PRORATA,
            "3000",
            "9",
            &[format!("tranche.q1_1516.condition.nea.target={target}")],
        );
        let tranche = r["tranches"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["id"] == "q1_1516")
            .unwrap();
        assert_eq!(
            point["p_met"], tranche["conditions"][0]["p_met"],
            "{target}"
        );
        assert_eq!(
            point["expected_paid"], r["total"]["paid"]["mean"],
            "{target}"
        );
        assert_eq!(point["mcse"], r["total"]["paid"]["mcse"], "{target}");
        assert_eq!(point["p_full"], r["total"]["p_full"], "{target}");
        assert_eq!(
            point["tranche_expected_paid"], tranche["paid"]["mean"],
            "{target}"
        );
    }
    // A harder target is never met more often (monotone inverse CDFs, same trials).
    let p: Vec<f64> = curve.iter().map(|c| c["p_met"].as_f64().unwrap()).collect();
    assert!(p.windows(2).all(|w| w[0] >= w[1]), "{p:?}");
    let best = curve
        .iter()
        .rev()
        .find(|c| c["p_met"].as_f64().unwrap() >= 0.2)
        .unwrap();
    assert_eq!(v["most_ambitious_target"], best["target"]);
}

#[test]
fn thresholds_on_banded_multi_condition_tranches_equal_run() {
    // Ealing 2014: banded rule, six conditions in the tranche (the others unaffected),
    // with the default weighted gate and with gate = "all".
    for gate in ["weighted", "all"] {
        let gate_set = format!("tranche.all_metrics_1516.gate={gate}");
        let v = json_of(&[
            "thresholds",
            EALING,
            "--condition",
            "all_metrics_1516.nea",
            "--from",
            "0.02",
            "--to",
            "0.05",
            "--step",
            "0.015",
            "--trials",
            "2000",
            "--set",
            &gate_set,
        ]);
        for point in v["curve"].as_array().unwrap() {
            let target = point["target"].as_str().unwrap();
            let sets = [
                gate_set.clone(),
                format!("tranche.all_metrics_1516.condition.nea.target={target}"),
            ];
            let r = run_json(EALING, "2000", "20140401", &sets);
            assert_eq!(
                point["expected_paid"], r["total"]["paid"]["mean"],
                "{gate} {target}"
            );
            assert_eq!(point["mcse"], r["total"]["paid"]["mcse"], "{gate} {target}");
            assert_eq!(point["p_full"], r["total"]["p_full"], "{gate} {target}");
            let tranche = r["tranches"]
                .as_array()
                .unwrap()
                .iter()
                .find(|t| t["id"] == "all_metrics_1516")
                .unwrap();
            assert_eq!(
                point["p_met"], tranche["conditions"][0]["p_met"],
                "{gate} {target}"
            );
            assert_eq!(
                point["tranche_expected_paid"], tranche["paid"]["mean"],
                "{gate} {target}"
            );
        }
    }
}

/// `thresholds PRORATA --condition C --from A --to B --step S` plus `extra`: exit code and
/// standard error.
fn thresholds_failure(
    condition: &str,
    [from, to, step]: [&str; 3],
    extra: &[&str],
) -> (Option<i32>, String) {
    let out = itfsim()
        .args(["thresholds", PRORATA, "--condition", condition])
        .args(["--from", from, "--to", to, "--step", step])
        .args(extra)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn thresholds_refuses_unknown_and_distribution_conditions() {
    let (code, stderr) = thresholds_failure("q4_1415.dtoc", ["0.01", "0.02", "0.01"], &[]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("q4_1415.nea, q1_1516.nea"));
    let (code, stderr) = thresholds_failure(
        "q4_1415.nea",
        ["0.01", "0.02", "0.01"],
        &[
            "--set",
            "tranche.q4_1415.condition.nea.target={ dist = \"uniform\", min = 0.01, max = 0.05 }",
        ],
    );
    assert_eq!(code, Some(2));
    assert!(stderr.contains("distribution"));
    // A target the scenario refuses (0) fails as run would, naming it.
    let (code, stderr) = thresholds_failure("q4_1415.nea", ["0", "0.02", "0.01"], &[]);
    assert_eq!(code, Some(65));
    assert!(stderr.contains("target 0.00"));
    for step in ["0", "-0.01"] {
        let (code, _) = thresholds_failure("q4_1415.nea", ["0.01", "0.02", step], &[]);
        assert_eq!(code, Some(2));
    }
}

#[test]
fn thresholds_writes_csv_to_a_csv_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("curve.csv");
    itfsim()
        .args([
            "thresholds",
            PRORATA,
            "--condition",
            "q4_1415.nea",
            "--from",
            "0.02",
            "--to",
            "0.03",
            "--step",
            "0.005",
            "--trials",
            "500",
            "--quiet",
        ])
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let text = std::fs::read_to_string(&out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "target,p_met,expected_paid,mcse,p_full,tranche_expected_paid"
    );
    assert_eq!(lines.len(), 4);
    assert!(lines[3].starts_with("0.030,"));
}

/// The targets are validated in parallel, but of several invalid ones the first in grid
/// order is the one reported, every time (1.5, 2.0, 2.5 and 3.0 are all reductions of
/// more than 100%).
#[test]
fn the_first_invalid_target_in_grid_order_is_reported() {
    for threads in ["1", "2", "2", "2"] {
        let out = itfsim()
            .args(["thresholds", PRORATA, "--condition", "q2_1516.nea"])
            .args(["--from", "0.5", "--to", "3", "--step", "0.5", "--quiet"])
            .args(["--threads", threads])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(65));
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(
            stderr.starts_with(
                "target 1.5 (tranche.q2_1516.condition.nea.target=1.5) makes the scenario invalid:"
            ),
            "{stderr}"
        );
    }
}
