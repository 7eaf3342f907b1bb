//! `--report FILE.html` on the commands other than `run`, from real runs of the binary:
//! each report is well-formed and self-contained (no scripts, no URLs but the SVG
//! namespace), has its charts with data, shows a figure equal to the command's JSON, and
//! an unwritable report path fails with exit 73 before any work and leaves nothing.
mod common;
use assert_cmd::Command;
use common::{points, well_formed};
use serde_json::Value;

const EALING: &str = "scenarios/ealing-2014.toml";
const PRORATA: &str = "scenarios/ealing-2014-prorata.toml";

fn itfsim() -> Command {
    Command::cargo_bin("itfsim").unwrap()
}

/// Runs a command with `--format json --report DIR/report.html`; returns (JSON, HTML).
fn json_and_report(args: &[&str]) -> (Value, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.html");
    let out = itfsim()
        .args(args)
        .args(["--format", "json", "--quiet", "--report"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let html = std::fs::read_to_string(&path).unwrap();
    (serde_json::from_slice(&out.stdout).unwrap(), html)
}

/// Well-formed, no scripts, only in-page links, no URL but the SVG namespace, no NaN.
fn self_contained(html: &str) {
    well_formed(html).unwrap();
    let lower = html.to_lowercase();
    assert!(!lower.contains("<script"), "no scripts");
    assert!(!lower.contains("@import") && !lower.contains("url("));
    for attr in ["src=", "href="] {
        for (i, _) in lower.match_indices(attr) {
            assert!(
                lower[i + attr.len()..].starts_with("\"#"),
                "in-page links only"
            );
        }
    }
    let urls = lower.matches("http").count();
    let namespaces = lower
        .matches("xmlns=\"http://www.w3.org/2000/svg\"")
        .count();
    assert_eq!(urls, namespaces);
    assert!(namespaces >= 1);
    assert!(!html.contains("NaN") && !html.contains("inf\""));
}

/// "1234567.89" as the report shows it: "£1,234,567.89".
fn gbp(json_money: &Value) -> String {
    let s = json_money.as_str().unwrap();
    let (sign, s) = s.strip_prefix('-').map_or(("", s), |t| ("-", t));
    let (int, frac) = s.split_once('.').unwrap();
    let digits: Vec<char> = int.chars().collect();
    let mut grouped = String::new();
    for (i, c) in digits.iter().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(*c);
    }
    format!("{sign}£{grouped}.{frac}")
}

/// `args` with `--report` into a missing directory: exit 73, nothing written.
fn unwritable_report_is_73(args: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing").join("r.html");
    let out = itfsim()
        .args(args)
        .args(["--quiet", "--report"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(73),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty());
    assert!(!dir.path().join("missing").exists());
}

const THRESHOLDS: [&str; 12] = [
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
];

#[test]
fn thresholds_report_has_the_release_curve_and_the_json_figures() {
    let mut args = THRESHOLDS.to_vec();
    args.extend(["--seed", "9", "--confidence", "0.2"]);
    let (v, html) = json_and_report(&args);
    self_contained(&html);
    let curve = v["curve"].as_array().unwrap();
    assert_eq!(curve.len(), 5);
    assert_eq!(html.matches("<svg class=\"chart\"").count(), 2);
    assert!(html.contains("Expected total paid against the target"));
    assert!(html.contains("Chance the condition is met against the target"));
    // One line of 5 points per chart, and a band (upper and lower edges) under each.
    assert_eq!(points(&html, "median-line"), vec![5]);
    assert_eq!(points(&html, "cdf"), vec![5]);
    assert_eq!(points(&html, "band"), vec![10, 10]);
    for point in curve {
        assert!(html.contains(&gbp(&point["expected_paid"])), "{point}");
    }
    assert!(html.contains(&gbp(&v["tranche_amount"])));
    assert!(html.contains(v["scenario"]["sha256"].as_str().unwrap()));
    // The most ambitious target is marked on both charts and in the table.
    let best = v["most_ambitious_target"].as_str().unwrap();
    assert_eq!(html.matches("class=\"target-line\"").count(), 2);
    assert!(html.contains(&format!("most ambitious at 20.0%: {best}")));
    assert!(html.contains(&format!(
        "<td>{best} <strong>(most ambitious)</strong></td>"
    )));
}

#[test]
fn thresholds_report_to_an_unwritable_path_exits_73() {
    unwritable_report_is_73(&THRESHOLDS);
}

const COMPARE: [&str; 7] = [
    "compare", EALING, PRORATA, "--trials", "3000", "--seed", "5",
];

#[test]
fn compare_report_has_bars_boxes_and_the_paired_difference() {
    let (v, html) = json_and_report(&COMPARE);
    self_contained(&html);
    assert_eq!(html.matches("<svg class=\"chart\"").count(), 4);
    for title in [
        "Expected performance money paid by scenario",
        "Distribution of total paid by scenario",
        "Expected net position by partner and scenario",
        "Paired difference in total paid against A, per trial",
    ] {
        assert!(html.contains(title), "{title}");
    }
    let scenarios = v["scenarios"].as_array().unwrap();
    let partners: usize = scenarios
        .iter()
        .map(|s| s["partners"].as_array().unwrap().len())
        .sum();
    assert!(partners >= 2);
    // One bar per scenario (expected paid) and per partner and scenario (net).
    assert_eq!(
        html.matches("<rect class=\"bar\"").count(),
        scenarios.len() + partners
    );
    // Boxes: one per scenario, one per difference.
    assert_eq!(html.matches("<rect class=\"box\"").count(), 3);
    for s in scenarios {
        assert!(html.contains(&gbp(&s["paid"]["mean"])));
        for p in s["partners"].as_array().unwrap() {
            assert!(html.contains(&gbp(&p["net"])), "{p}");
        }
    }
    let d = &v["differences"][0];
    assert!(html.contains(&gbp(&d["mean"])));
    assert!(html.contains(&format!(
        "{} to {}",
        gbp(&d["interval_90"][0]),
        gbp(&d["interval_90"][1])
    )));
    assert!(html.contains(&format!("{:.1}%", d["p_better"].as_f64().unwrap() * 100.0)));
    assert!(html.contains(scenarios[1]["sha256"].as_str().unwrap()));
}

#[test]
fn compare_report_to_an_unwritable_path_exits_73() {
    unwritable_report_is_73(&COMPARE);
}

const SWEEP: [&str; 10] = [
    "sweep",
    PRORATA,
    "--grid",
    "scheme.reablement.delivery=0.6:1:0.2",
    "--grid",
    "fund.pot=1000000,1564500.50",
    "--trials",
    "1000",
    "--seed",
    "3",
];

#[test]
fn sweep_report_draws_one_line_per_second_grid_value() {
    let (v, html) = json_and_report(&SWEEP);
    self_contained(&html);
    let rows = v.as_array().unwrap();
    assert_eq!(rows.len(), 6);
    assert_eq!(html.matches("<svg class=\"chart\"").count(), 1);
    assert!(html.contains("Expected total paid as scheme.reablement.delivery varies"));
    // Two pots: two lines of three delivery values, each with an MCSE band and a
    // p10-p90 band (upper and lower edges).
    assert_eq!(points(&html, "median-line"), vec![3]);
    assert_eq!(points(&html, "series-1"), vec![3]);
    assert_eq!(points(&html, "band"), vec![6, 6]);
    assert_eq!(points(&html, "band-wide"), vec![6, 6]);
    assert!(html.contains("fund.pot=1564500.50"));
    for row in rows {
        assert!(html.contains(&gbp(&row["expected_paid"])), "{row}");
        assert!(html.contains(&gbp(&row["paid_p90"])), "{row}");
    }
}

#[test]
fn sweep_report_to_an_unwritable_path_exits_73() {
    unwritable_report_is_73(&SWEEP);
}

const SENSITIVITY: [&str; 10] = [
    "sensitivity",
    PRORATA,
    "--method",
    "all",
    "--trials",
    "600",
    "--top",
    "3",
    "--seed",
    "2",
];

#[test]
fn sensitivity_report_has_the_tornado_and_sobol_bars() {
    let (v, html) = json_and_report(&SENSITIVITY);
    self_contained(&html);
    assert_eq!(html.matches("<svg class=\"chart\"").count(), 2);
    assert!(html.contains("Tornado: expected total paid with each input held low and high"));
    assert!(html.contains("Sobol indices of total paid"));
    let tornado = v["tornado"].as_array().unwrap();
    let drawn = tornado.len().min(15);
    assert!(drawn >= 3);
    // Low and high bar per drawn input; first-order bar inside a total-effect box per
    // Sobol input.
    let sobol = v["sobol"]["inputs"].as_array().unwrap().len();
    assert_eq!(sobol, 3);
    assert_eq!(html.matches("<rect class=\"bar-atom\"").count(), drawn);
    assert_eq!(html.matches("<rect class=\"bar\"").count(), drawn + sobol);
    assert_eq!(html.matches("<rect class=\"box\"").count(), sobol);
    assert!(html.contains(&gbp(&v["base"]["paid"])));
    for row in tornado {
        assert!(html.contains(&gbp(&row["low"]["paid"])), "{row}");
        assert!(html.contains(&gbp(&row["high"]["paid"])), "{row}");
    }
    assert!(html.contains("Rank correlations"));
}

#[test]
fn sensitivity_report_to_an_unwritable_path_exits_73() {
    unwritable_report_is_73(&SENSITIVITY);
}

/// The run report's "1 in 10 trials" figures say what a quantile is: at least 1 in 10
/// trials withhold the p90 or more, and at least 1 in 10 give a partner its p10 or less.
/// ("more than p90" and "below p10" are false for lumpy outcomes: Ealing's withheld money
/// comes in whole tranches, and its p90 can be the most that can be withheld.)
#[test]
fn run_report_reads_quantiles_as_at_least_and_at_most() {
    let (v, html) = json_and_report(&["run", EALING, "--trials", "4000"]);
    let p90 = gbp(&v["total"]["unreleased"]["p90"]);
    assert!(
        html.contains(&format!("1 in 10 trials: {p90} or more")),
        "no withheld-money card with {p90} or more"
    );
    assert!(html.contains("1 in 10 trials at or below"));
    assert!(!html.contains("more than £") && !html.contains("trials below"));
    for partner in v["partners"].as_array().unwrap() {
        assert!(html.contains(&gbp(&partner["performance"]["p10"])));
    }
}

/// Every report's provenance names the `--set` overrides the command applied ("none"
/// without), and the JSON of thresholds and compare records them as run's does.
#[test]
fn reports_name_their_overrides() {
    let set = ["--set", "scheme.reablement.delivery=0.8"];
    for command in [&THRESHOLDS[..], &SWEEP[..], &SENSITIVITY[..], &COMPARE[..]] {
        let (_, plain) = json_and_report(command);
        assert!(
            plain.contains("<dt>Overrides</dt><dd>none</dd>"),
            "{}",
            command[0]
        );
        let args: Vec<&str> = command.iter().chain(&set).copied().collect();
        let (v, html) = json_and_report(&args);
        assert!(
            html.contains("<dt>Overrides</dt><dd>--set scheme.reablement.delivery=0.8</dd>"),
            "{}",
            command[0]
        );
        let recorded = serde_json::json!(["scheme.reablement.delivery=0.8"]);
        match command[0] {
            "thresholds" => assert_eq!(v["scenario"]["sets"], recorded),
            "compare" => {
                for side in v["scenarios"].as_array().unwrap() {
                    assert_eq!(side["sets"], recorded);
                }
            }
            _ => {}
        }
    }
}
