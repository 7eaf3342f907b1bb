//! The sensitivity, trace, `--sampling lhs` and `--precision` commands as a user meets
//! them: real runs, exit codes, JSON and CSV shapes, agreement with `run`.
mod common;
use assert_cmd::Command;
use common::succeeds;
use serde_json::Value;

const EALING: &str = "scenarios/ealing-2014.toml";

fn itfsim() -> Command {
    Command::cargo_bin("itfsim").unwrap()
}

fn json(args: &[&str]) -> Value {
    let out = itfsim()
        .args(args)
        .args(["--format", "json", "--quiet"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The run JSON without its timing fields.
fn untimed(mut v: Value) -> Value {
    let run = v["run"].as_object_mut().unwrap();
    run.remove("elapsed_s");
    run.remove("trials_per_s");
    v
}

#[test]
fn precision_stops_at_whole_batches_and_equals_a_plain_run() {
    // Ealing's paid has sd about 12.6% of the pot: 0.0006 needs about 44,000 trials,
    // three batches of 16,384.
    let v = json(&["run", EALING, "--precision", "0.0006"]);
    let trials = v["run"]["trials"].as_u64().unwrap();
    assert_eq!(trials % 16_384, 0);
    assert!(trials >= 2 * 16_384, "{trials}");
    let mcse: f64 = v["total"]["paid"]["mcse"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(mcse <= 0.0006 * 6_300_000.0 + 0.01);
    let plain = json(&["run", EALING, "--trials", &trials.to_string()]);
    assert_eq!(untimed(v), untimed(plain));
}

#[test]
fn precision_says_when_the_maximum_is_hit() {
    let v = json(&["run", EALING, "--precision", "0.00001", "--trials", "5000"]);
    assert_eq!(v["run"]["trials"], 5000);
    let warnings = v["warnings"].as_array().unwrap();
    assert!(
        warnings
            .iter()
            .any(|w| w.as_str().unwrap().contains("maximum of 5000"))
    );
    // The share is shown as messages show numbers, however small: not "0.0000%".
    for (precision, shown) in [("0.00001", "0.001%"), ("0.0000001", "0.00001%")] {
        let v = json(&["run", EALING, "--precision", precision, "--trials", "2000"]);
        let said = format!("reached {shown} of the pot");
        assert!(
            v["warnings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|w| w.as_str().unwrap().contains(&said)),
            "{said} not in {}",
            v["warnings"]
        );
    }
    itfsim()
        .args(["run", EALING, "--precision", "2"])
        .assert()
        .code(2);
    itfsim()
        .args(["run", EALING, "--precision", "0.01", "--sampling", "lhs"])
        .assert()
        .code(2);
}

#[test]
fn lhs_is_reported_and_reproducible_across_threads() {
    let a = json(&[
        "run",
        EALING,
        "--trials",
        "3000",
        "--sampling",
        "lhs",
        "--threads",
        "1",
    ]);
    let b = json(&[
        "run",
        EALING,
        "--trials",
        "3000",
        "--sampling",
        "lhs",
        "--threads",
        "2",
    ]);
    assert_eq!(a["run"]["sampling"], "lhs");
    assert_eq!(a["total"], b["total"]);
    assert_eq!(a["partners"], b["partners"]);
}

#[test]
fn trace_matches_the_run_of_that_trial() {
    // `run --trials 1` is exactly trial 0; its mean is that trial's value.
    let run = json(&["run", EALING, "--trials", "1"]);
    let trace = json(&["trace", EALING, "--trial", "0", "--trials", "1"]);
    assert_eq!(trace["total"]["paid"], run["total"]["paid"]["mean"]);
    for (p, partner) in run["partners"].as_array().unwrap().iter().enumerate() {
        for key in ["invest", "savings", "performance", "risks", "net"] {
            assert_eq!(trace["partners"][p][key], partner[key]["mean"], "{key}");
        }
    }
    assert!(!trace["parameters"].as_array().unwrap().is_empty());
    itfsim()
        .args(["trace", EALING, "--trial", "10", "--trials", "10"])
        .assert()
        .code(2);
    let text = itfsim()
        .args(["trace", EALING, "--trial", "3", "--quiet"])
        .output()
        .unwrap();
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(text.contains("metric.nea.level = "));
    assert!(text.contains("Partners"));
}

#[test]
fn sensitivity_json_csv_and_refusals() {
    let v = json(&[
        "sensitivity",
        EALING,
        "--method",
        "all",
        "--trials",
        "2000",
        "--top",
        "3",
    ]);
    let tornado = v["tornado"].as_array().unwrap();
    let swing = |r: &Value| -> f64 { r["swing_paid"].as_str().unwrap().parse().unwrap() };
    assert!(tornado.windows(2).all(|w| swing(&w[0]) >= swing(&w[1])));
    // A swing is the difference of the two held runs.
    for r in tornado {
        let lo: f64 = r["low"]["paid"].as_str().unwrap().parse().unwrap();
        let hi: f64 = r["high"]["paid"].as_str().unwrap().parse().unwrap();
        assert!(((hi - lo).abs() - swing(r)).abs() < 0.005);
    }
    let growth = tornado
        .iter()
        .find(|r| r["path"] == "metric.nea.growth")
        .unwrap();
    assert_eq!(growth["correlated"], true);
    assert_eq!(v["sobol"]["inputs"].as_array().unwrap().len(), 3);
    assert_eq!(v["rank"]["trials"], 2000);

    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("sens.csv");
    // A rank-only sensitivity into `csv`, with `format` options.
    let rank_into_csv = |format: &[&str]| {
        itfsim()
            .args([
                "sensitivity",
                EALING,
                "--method",
                "rank",
                "--trials",
                "1000",
            ])
            .args(format)
            .args(["--quiet", "--out"])
            .arg(&csv)
            .assert()
            .success();
    };
    rank_into_csv(&[]);
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(text.starts_with("method,input,correlated,output,"));
    assert!(text.lines().skip(1).all(|l| l.starts_with("rank,")));
    // An explicit format wins over the file's name, as for sweep and thresholds.
    rank_into_csv(&["--format", "json"]);
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&csv).unwrap()).unwrap();
    assert_eq!(v["rank"]["trials"], 1000);

    itfsim()
        .args([
            "sensitivity",
            EALING,
            "--method",
            "sobol",
            "--sampling",
            "lhs",
        ])
        .assert()
        .code(2);
    itfsim()
        .args([
            "sensitivity",
            EALING,
            "--trials",
            "100",
            "--out",
            "/nonexistent/dir/x.json",
        ])
        .assert()
        .code(73);
}

/// Only yes/no events decide the money, so net.nhs is exactly the pot minus paid (it
/// keeps what is withheld) and net.council is paid: all three outputs must get the same
/// Sobol indices and intervals. The uncentred first-order estimator gave paid 0.354 and
/// net.nhs 0.383 for `tranche.b.condition.e2` (the exact value is 30625/83125 = 0.368).
#[test]
fn sobol_indices_are_the_same_for_an_output_and_the_pot_minus_it() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("events.toml");
    let condition = |tranche: &str| {
        format!(
            "[[tranche]]\nid = \"{tranche}\"\nshare = \"0.5\"\n{}\n\
             [[tranche.condition]]\nevent = \"e1\"\nprobability = 0.5\nweight = 0.3\n\
             [[tranche.condition]]\nevent = \"e2\"\nprobability = 0.5\nweight = 0.7\n",
            if tranche == "a" { "gate = \"all\"" } else { "" }
        )
    };
    let text = format!(
        "[scenario]\nname = \"events\"\nstart = \"2015-04\"\nmonths = 12\n\
         [partners]\nnhs = {{}}\ncouncil = {{}}\n\
         [fund]\npot = \"1000\"\nreleased_to = {{ council = 1.0 }}\nunreleased_to = {{ nhs = 1.0 }}\n{}{}",
        condition("a"),
        condition("b")
    );
    std::fs::write(&scenario, text).unwrap();
    let out = succeeds(
        itfsim()
            .arg("sensitivity")
            .arg(&scenario)
            .args(["--method", "sobol", "--trials", "20000", "--format", "csv"]),
    );
    let csv = String::from_utf8(out.stdout).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 4 * 3, "{csv}");
    for input in rows.chunks(3) {
        let indices =
            |r: &[&str]| -> String { r[col("first_order")..=col("total_effect_high")].join(",") };
        assert_eq!(input[0][col("output")], "paid");
        for other in &input[1..] {
            assert_eq!(indices(other), indices(&input[0]), "{csv}");
        }
    }
    let e2 = rows
        .iter()
        .find(|r| r[col("input")] == "tranche.b.condition.e2.probability#outcome")
        .unwrap();
    let first: f64 = e2[col("first_order")].parse().unwrap();
    assert!((first - 30625.0 / 83125.0).abs() < 0.01, "{first}");
}

/// The CSV's `swing` is at_high - at_low, with its sign, in every tornado row (paid,
/// p_full and each partner's net alike), as docs/sensitivity.md defines it.
#[test]
fn every_csv_swing_is_high_minus_low() {
    let out = itfsim()
        .args([
            "sensitivity",
            EALING,
            "--method",
            "tornado",
            "--trials",
            "1000",
        ])
        .args(["--quiet", "--format", "csv"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let csv = String::from_utf8(out.stdout).unwrap();
    let mut negative_paid = false;
    for line in csv.lines().skip(1) {
        let cells: Vec<&str> = line.split(',').collect();
        let number = |i: usize| -> f64 { cells[i].parse().unwrap() };
        let (low, high, swing) = (number(7), number(8), number(9));
        assert!(
            (swing - (high - low)).abs() < 1e-9 * (1.0 + swing.abs()),
            "{line}"
        );
        negative_paid |= cells[3] == "paid" && swing < 0.0;
    }
    // Ealing's admissions level: more admissions, less paid.
    assert!(negative_paid, "{csv}");
}
