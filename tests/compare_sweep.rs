//! `compare` and `sweep` as a user meets them (thresholds: tests/thresholds.rs),
//! checked against `run`: the same seed and trials must give the same money strings and
//! probabilities, paired
//! differences must be exactly zero for a scenario against itself, common random numbers
//! must shrink the MCSE of a difference, and an interrupted sweep resumed must write the
//! same bytes as an uninterrupted one.
use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};

mod common;
use common::{EALING, PRORATA, itfsim, json_of, run_json, succeeds};

fn money(v: &Value) -> f64 {
    v.as_str().unwrap().parse().unwrap()
}

/// A copy of ealing-2014.toml without the networks scheme (never delivered, nothing spent).
fn no_networks(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(EALING).unwrap();
    assert_eq!(text.matches("\ndelivery = 0.75\n").count(), 1);
    let text = text
        .replace("\ndelivery = 0.75\n", "\ndelivery = 0\n")
        .replace("cost_if_undelivered = 0.6", "cost_if_undelivered = 0");
    let path = dir.join("no-networks.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn compare_of_a_scenario_with_itself_differs_by_exactly_zero() {
    let v = json_of(&["compare", EALING, EALING, "--trials", "3000"]);
    let d = &v["differences"][0];
    assert_eq!(d["mean"], "0.00");
    assert_eq!(d["mcse"], "0.00");
    assert_eq!(d["interval_90"], serde_json::json!(["0.00", "0.00"]));
    assert_eq!(d["p_tie"], 1.0);
    assert_eq!(d["p_better"], 0.0);
    // Independent streams would have had a real error.
    assert!(money(&d["mcse_independent"]) > 1000.0);
    assert_eq!(v["scenarios"][0]["paid"], v["scenarios"][1]["paid"]);
}

#[test]
fn compare_pairs_trials_and_matches_run() {
    let dir = tempfile::tempdir().unwrap();
    let variant = no_networks(dir.path());
    let variant = variant.to_str().unwrap();
    let v = json_of(&[
        "compare", EALING, variant, "--trials", "4000", "--seed", "11",
    ]);
    let d = &v["differences"][0];
    let paired = money(&d["mcse"]);
    let independent = money(&d["mcse_independent"]);
    assert!(
        paired > 0.0 && paired < independent / 2.0,
        "{paired} vs {independent}"
    );
    // Each side is what `run` gives at the same seed and trials.
    for (i, file) in [EALING, variant].iter().enumerate() {
        let r = run_json(file, "4000", "11", &[]);
        let side = &v["scenarios"][i];
        for key in ["mean", "p10", "p50", "p90"] {
            assert_eq!(side["paid"][key], r["total"]["paid"][key], "{file} {key}");
        }
        assert_eq!(side["p_full"], r["total"]["p_full"]);
        assert_eq!(side["p_zero"], r["total"]["p_zero"]);
        for (p, rp) in side["partners"]
            .as_array()
            .unwrap()
            .iter()
            .zip(r["partners"].as_array().unwrap())
        {
            assert_eq!(p["net"], rp["net"]["mean"]);
        }
    }
    // The mean difference is the difference of the means within a penny (each rounded).
    let diff = money(&d["mean"]);
    let means =
        money(&v["scenarios"][1]["paid"]["mean"]) - money(&v["scenarios"][0]["paid"]["mean"]);
    assert!((diff - means).abs() <= 0.011, "{diff} vs {means}");
    let total = d["p_better"].as_f64().unwrap()
        + d["p_tie"].as_f64().unwrap()
        + d["p_worse"].as_f64().unwrap();
    assert!((total - 1.0).abs() < 1e-12);
}

fn csv_rows(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut lines = text.lines();
    let header = lines
        .next()
        .unwrap()
        .split(',')
        .map(str::to_string)
        .collect();
    let rows = lines
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect();
    (header, rows)
}

#[test]
fn sweep_rows_equal_single_runs() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sweep.csv");
    itfsim()
        .args([
            "sweep",
            PRORATA,
            "--grid",
            "scheme.reablement.delivery=0.6:1:0.4",
        ])
        .args([
            "--grid",
            "fund.pot=1000000,1564500.50",
            "--trials",
            "1500",
            "--seed",
            "3",
            "--quiet",
        ])
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    assert!(!dir.path().join("sweep.csv.partial").exists());
    let (header, rows) = csv_rows(&std::fs::read_to_string(&out).unwrap());
    assert_eq!(header[..2], ["scheme.reablement.delivery", "fund.pot"]);
    assert_eq!(rows.len(), 4);
    for row in &rows {
        let get = |name: &str| &row[header.iter().position(|h| h == name).unwrap()];
        let sets = vec![
            format!("scheme.reablement.delivery={}", row[0]),
            format!("fund.pot={}", row[1]),
        ];
        let r = run_json(PRORATA, "1500", "3", &sets);
        let paid = &r["total"]["paid"];
        assert_eq!(get("expected_paid"), paid["mean"].as_str().unwrap());
        assert_eq!(get("mcse"), paid["mcse"].as_str().unwrap());
        assert_eq!(get("paid_p10"), paid["p10"].as_str().unwrap());
        assert_eq!(get("paid_p50"), paid["p50"].as_str().unwrap());
        assert_eq!(get("paid_p90"), paid["p90"].as_str().unwrap());
        assert_eq!(
            get("p_full").parse::<f64>().unwrap(),
            r["total"]["p_full"].as_f64().unwrap()
        );
        assert_eq!(
            get("p_zero").parse::<f64>().unwrap(),
            r["total"]["p_zero"].as_f64().unwrap()
        );
        for p in r["partners"].as_array().unwrap() {
            let id = p["id"].as_str().unwrap();
            assert_eq!(
                get(&format!("net_{id}")),
                p["net"]["mean"].as_str().unwrap()
            );
        }
    }
    assert_eq!(rows[0][..2], ["0.6", "1000000"]);
    assert_eq!(rows[3][..2], ["1.0", "1564500.50"]);
}

/// The default format is an aligned text table (it used to be the CSV); `--format csv`,
/// or `--out` ending in `.csv`, gives the CSV; both show the same figures.
#[test]
fn sweep_text_is_an_aligned_table_and_csv_stays_csv() {
    let sweep = |extra: &[&str]| -> String {
        let out = succeeds(
            itfsim()
                .args(["sweep", PRORATA, "--grid", "metric.nea.growth=0,0.03"])
                .args(["--trials", "1000", "--seed", "3", "--quiet"])
                .args(extra),
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let text = sweep(&[]);
    let csv = sweep(&["--format", "csv"]);
    let (header, rows) = csv_rows(&csv);
    assert_eq!(header[0], "metric.nea.growth");
    assert_eq!(header[1], "expected_paid");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2 + rows.len());
    assert!(
        lines[0]
            .split_whitespace()
            .collect::<Vec<_>>()
            .starts_with(&[
                "metric.nea.growth",
                "expected",
                "paid",
                "MCSE",
                "P(all",
                "paid)",
                "P(nothing",
                "paid)"
            ]),
        "{text}"
    );
    assert!(lines[1].trim().chars().all(|c| c == '-' || c == ' '));
    let width = lines[0].chars().count();
    assert!(lines.iter().all(|l| l.chars().count() == width), "{text}");
    for (line, row) in lines[2..].iter().zip(&rows) {
        assert!(!line.contains(",0."), "not CSV: {line}");
        let cells: Vec<&str> = line.split_whitespace().collect();
        let get = |name: &str| row[header.iter().position(|h| h == name).unwrap()].as_str();
        assert_eq!(cells[0], get("metric.nea.growth"));
        // Money as £ with separators: the CSV's figure without them.
        let pounds = |cell: &str| cell.replace(['£', ','], "");
        assert_eq!(pounds(cells[1]), get("expected_paid"));
        assert_eq!(pounds(cells[2]), get("mcse"));
        assert_eq!(pounds(cells.last().unwrap()), get("net_council"));
        // Probabilities as percentages with one decimal.
        let p_full: f64 = get("p_full").parse().unwrap();
        assert_eq!(cells[3], format!("{:.1}%", p_full * 100.0));
    }
    // `--out` decides by its extension when no format is given.
    let dir = tempfile::tempdir().unwrap();
    for (name, want) in [("s.csv", &csv), ("s.txt", &text)] {
        let file = dir.path().join(name);
        sweep(&["--out", file.to_str().unwrap()]);
        assert_eq!(&std::fs::read_to_string(&file).unwrap(), want, "{name}");
    }
}

#[test]
fn sweep_steps_in_exact_decimals_and_lists_inline_tables() {
    let v = json_of(&[
        "sweep",
        PRORATA,
        "--grid",
        "scheme.reablement.delivery=0:0.3:0.1",
        "--grid",
        r#"scheme.networks.effect.nea={ dist = "normal", mean = 0.005, sd = 0.02 },0.01"#,
        "--trials",
        "200",
    ]);
    let points = v.as_array().unwrap();
    let steps: Vec<&str> = points
        .iter()
        .step_by(2)
        .map(|p| p["scheme.reablement.delivery"].as_str().unwrap())
        .collect();
    assert_eq!(steps, ["0.0", "0.1", "0.2", "0.3"]);
    assert_eq!(
        points[0]["scheme.networks.effect.nea"],
        r#"{ dist = "normal", mean = 0.005, sd = 0.02 }"#
    );
    assert_eq!(points[1]["scheme.networks.effect.nea"], "0.01");
}

fn sweep_cmd(scenario: &str, out: &Path, trials: &str) -> Command {
    let mut c = itfsim();
    c.args([
        "sweep",
        scenario,
        "--grid",
        "scheme.reablement.delivery=0.2:1:0.2",
    ])
    .args([
        "--grid",
        "metric.nea.growth=0.01,0.03",
        "--trials",
        trials,
        "--seed",
        "5",
        "--quiet",
    ])
    .arg("--out")
    .arg(out);
    c
}

#[test]
fn resumed_sweep_is_byte_identical_and_refuses_changes() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("s.toml");
    std::fs::copy(PRORATA, &scenario).unwrap();
    let scenario = scenario.to_str().unwrap();
    let whole = dir.path().join("whole.csv");
    sweep_cmd(scenario, &whole, "800").assert().success();
    let out = dir.path().join("resumed.csv");
    let partial = dir.path().join("resumed.csv.partial");
    // Interrupted after 3 of 10 points: the output is not written, the partial holds 3 rows.
    sweep_cmd(scenario, &out, "800")
        .env("ITFSIM_SWEEP_STOP_AFTER", "3")
        .assert()
        .code(1);
    assert!(!out.exists());
    assert_eq!(
        std::fs::read_to_string(&partial).unwrap().lines().count(),
        4
    );
    // Changed options or scenario: refused (exit 2), partial kept.
    let refused = sweep_cmd(scenario, &out, "801")
        .arg("--resume")
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("options changed"));
    let edited = std::fs::read_to_string(scenario).unwrap() + "\n# edited\n";
    let edited_path = dir.path().join("edited.toml");
    std::fs::write(&edited_path, edited).unwrap();
    std::fs::copy(&edited_path, dir.path().join("s2.toml")).unwrap();
    std::fs::rename(&edited_path, scenario).unwrap();
    let refused = sweep_cmd(scenario, &out, "800")
        .arg("--resume")
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("scenario file changed"));
    std::fs::copy(PRORATA, scenario).unwrap();
    // A row cut short by a kill mid-write is dropped and recomputed.
    let mut text = std::fs::read_to_string(&partial).unwrap();
    text.push_str("{\"scheme.reablement.delivery\":\"0.8\",\"metric");
    std::fs::write(&partial, text).unwrap();
    // Interrupted again after 2 more, then finished.
    sweep_cmd(scenario, &out, "800")
        .arg("--resume")
        .env("ITFSIM_SWEEP_STOP_AFTER", "2")
        .assert()
        .code(1);
    assert_eq!(
        std::fs::read_to_string(&partial).unwrap().lines().count(),
        6
    );
    sweep_cmd(scenario, &out, "800")
        .arg("--resume")
        .assert()
        .success();
    assert!(!partial.exists());
    assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&whole).unwrap());
}

/// A two-point sweep into `o.csv` in a fresh directory whose `o.csv.partial` holds
/// `partial`, with `extra` arguments: the sweep's stderr, after checking it succeeded,
/// wrote both points and removed the partial file.
fn sweep_over_a_partial_file(partial: &str, extra: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o.csv");
    std::fs::write(dir.path().join("o.csv.partial"), partial).unwrap();
    let result = itfsim()
        .args([
            "sweep",
            PRORATA,
            "--grid",
            "fund.pot=1000,2000",
            "--trials",
            "100",
        ])
        .args(extra)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&result.stderr).into_owned();
    assert!(result.status.success(), "{stderr}");
    assert_eq!(std::fs::read_to_string(&out).unwrap().lines().count(), 3);
    assert!(!dir.path().join("o.csv.partial").exists());
    stderr
}

#[test]
fn sweep_without_resume_replaces_a_partial_file() {
    let stderr = sweep_over_a_partial_file("# stale\n", &[]);
    assert!(
        stderr.contains("replacing the earlier partial file"),
        "{stderr}"
    );
}

/// A partial file left empty (the sweep stopped before writing its header) is nothing to
/// resume: `--resume` starts from the first point instead of refusing.
#[test]
fn resume_from_an_empty_partial_file_starts_again() {
    let stderr = sweep_over_a_partial_file("", &["--resume"]);
    assert!(stderr.contains("is empty"), "{stderr}");
}

#[test]
fn bad_grids_exit_with_clear_errors() {
    let cases: &[(&str, i32, &str)] = &[
        ("scheme.nope.delivery=0:1:0.5", 2, "no scheme \"nope\""),
        // A path that names nothing is reported as the --grid it came from, not a --set.
        (
            "metric.nope.growth=0:0.02:0.01",
            2,
            "--grid metric.nope.growth=0.00: no metric \"nope\"",
        ),
        // Misspelled in its last part: still a path that names nothing, with the hint.
        (
            "scheme.reablement.delivry=0.5,0.9",
            2,
            "--grid scheme.reablement.delivry=0.5: unknown key `delivry`\n  hint: did you mean `delivery`?",
        ),
        (
            "scheme.reablement.delivery=0:1:0",
            2,
            "step must be above 0",
        ),
        ("scheme.reablement.delivery=1:0:0.1", 2, "reversed"),
        ("scheme.reablement.delivery=low:1:0.1", 2, "not a number"),
        ("scheme.reablement.delivery=0:1", 2, "FROM:TO:STEP"),
        ("scheme.reablement.delivery=0:1:0.000001", 2, "--max-points"),
        (
            "scheme.reablement.delivery=0.5,1.5",
            65,
            "sweep point 2 of 2 (scheme.reablement.delivery=1.5)",
        ),
    ];
    for (grid, code, words) in cases {
        let out = itfsim()
            .args([
                "sweep", PRORATA, "--grid", grid, "--trials", "10", "--quiet",
            ])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(*code), "{grid}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(words), "{grid}: {stderr}");
        assert!(!stderr.contains("--set"), "{grid}: {stderr}");
    }
    // 3 x 3 points with --max-points 8.
    itfsim()
        .args([
            "sweep",
            PRORATA,
            "--grid",
            "fund.pot=1,2,3",
            "--grid",
            "metric.nea.growth=0,0.01,0.02",
        ])
        .args(["--max-points", "8", "--trials", "10"])
        .assert()
        .code(2);
    itfsim()
        .args([
            "sweep",
            PRORATA,
            "--grid",
            "fund.pot=1,2",
            "--resume",
            "--trials",
            "10",
        ])
        .assert()
        .code(2);
}

#[test]
fn results_do_not_depend_on_threads() {
    let dir = tempfile::tempdir().unwrap();
    let variant = no_networks(dir.path());
    let variant = variant.to_str().unwrap();
    let compare = |threads: &str| {
        let mut v = json_of(&[
            "compare",
            EALING,
            variant,
            "--trials",
            "2500",
            "--threads",
            threads,
        ]);
        v["run"]["threads"] = Value::Null;
        v
    };
    assert_eq!(compare("1"), compare("2"));
    let curve = |threads: &str| {
        json_of(&[
            "thresholds",
            PRORATA,
            "--condition",
            "q3_1516.nea",
            "--from",
            "0.02",
            "--to",
            "0.04",
            "--step",
            "0.01",
            "--trials",
            "2500",
            "--threads",
            threads,
        ])["curve"]
            .clone()
    };
    assert_eq!(curve("1"), curve("2"));
}

#[test]
fn csv_is_refused_where_it_has_no_meaning() {
    for command in [
        vec!["run", PRORATA],
        vec!["compare", PRORATA, PRORATA],
        vec!["bench", PRORATA],
        vec!["trace", PRORATA, "--trial", "0"],
    ] {
        let out = itfsim()
            .args(&command)
            .args(["--format", "csv", "--trials", "10"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{command:?}");
        // The refusal names every command that writes CSV.
        let stderr = String::from_utf8_lossy(&out.stderr);
        let said = format!(
            "{} writes --format text or json; csv is written by sweep, thresholds, sensitivity and rollup (and by merge, of sweep partials)",
            command[0]
        );
        assert!(stderr.contains(&said), "{stderr}");
    }
}

/// compare keeps warnings as run does: in the JSON each is the bare one-line message
/// run's JSON has (no "warning: ", no hint), on stderr in full.
#[test]
fn compare_warnings_are_kept_as_run_keeps_them() {
    const BARNET: &str = "scenarios/barnet-2013.toml";
    let run = json_of(&["run", EALING, "--trials", "200"]);
    // Barnet names another seed: compare's own note joins Ealing's scenario warnings.
    let args = ["compare", EALING, BARNET, "--trials", "200"];
    let compared = json_of(&args);
    let warnings = compared["warnings"].as_array().unwrap();
    for w in run["warnings"].as_array().unwrap() {
        assert!(warnings.contains(w), "{w} not in {warnings:?}");
    }
    assert!(warnings.iter().any(|w| {
        w.as_str()
            .unwrap()
            .starts_with("the scenarios name different trials or seeds")
    }));
    for w in warnings {
        let w = w.as_str().unwrap();
        assert!(!w.contains("warning: ") && !w.contains("hint:"), "{w}");
    }
    let out = itfsim().args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(": warning: `"), "{stderr}");
    assert!(stderr.contains("\n  hint: "), "{stderr}");
    assert!(
        stderr.contains("warning: the scenarios name different trials or seeds"),
        "{stderr}"
    );
}

/// compare's text shows each probability as `run`'s text does ("<0.1%", not "0.0000").
#[test]
fn compare_shows_probabilities_as_run_does() {
    let text = |args: &[&str]| {
        let out = itfsim()
            .args(args)
            .args(["--trials", "2000", "--quiet"])
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    };
    // The cells after a row's label.
    let cells = |text: &str, label: &str| -> Vec<String> {
        let line = text
            .lines()
            .find(|l| l.starts_with(label))
            .unwrap_or_else(|| panic!("no {label} in\n{text}"));
        line[label.len()..]
            .split_whitespace()
            .map(String::from)
            .collect()
    };
    let compared = text(&["compare", EALING, PRORATA]);
    for (compare_label, run_label) in [("P(full)", "P(all paid)"), ("P(zero)", "P(nothing paid)")] {
        let run: Vec<String> = [EALING, PRORATA]
            .iter()
            .flat_map(|s| cells(&text(&["run", s]), run_label))
            .collect();
        assert_eq!(cells(&compared, compare_label), run, "{compared}");
    }
    assert!(compared.contains(", P(tie) "), "{compared}");
    assert!(!compared.contains("0.0000"), "{compared}");
}

/// Warnings a point's grid values raise and the scenario does not are said once a key,
/// as at the first point that raises them, with how many later points do too; the
/// scenario's own warnings are not repeated per point, and --quiet silences all.
#[test]
fn sweep_says_the_warnings_its_points_raise() {
    let args = [
        "sweep",
        EALING,
        "--grid",
        "metric.nea.growth=0.01,0.6,0.7",
        "--trials",
        "200",
    ];
    let out = succeeds(itfsim().args(args));
    let err = String::from_utf8_lossy(&out.stderr);
    let growth = "at sweep point 2 of 3 (metric.nea.growth=0.6) and 1 later point: --grid metric.nea.growth:1:1: warning: `metric.nea.growth`: annual demand growth 0.6 is 60% a year";
    assert!(err.contains(growth), "{err}");
    assert!(!err.contains("70% a year"), "{err}");
    // Fixing a correlated value at every point makes Ealing's correlation idle.
    assert!(
        err.contains("at sweep point 1 of 3 (metric.nea.growth=0.01) and 2 later points: ")
            && err.contains("\"metric.nea.growth\" is a fixed value"),
        "{err}"
    );
    // The scenario's own warning (a stated cost that disagrees) is said once, unprefixed.
    assert_eq!(
        err.matches("scheme.seven_day.cost.1.stated").count(),
        1,
        "{err}"
    );
    let quiet = succeeds(itfsim().args(args).arg("--quiet"));
    assert!(quiet.stderr.is_empty());
}
