//! Numerical guards: extreme but well-formed parameters either work exactly or are
//! refused with a clear message (exit 65) naming the key — never a silent wrap-around or
//! a saturated figure. Money in a trial must stay within 2^53 pence (about £90 trillion),
//! where every penny is exact; pots are limited to £10^13 at validation; amounts that only
//! a trial's draws can push past the limit (avoided activity x unit cost, risk impacts,
//! spend x overrun) stop the run with the trial and the key to check.
use assert_cmd::Command;

mod common;
use serde_json::Value;

fn scenario(pot: &str, baseline: &str, unit_cost: &str, impact: &str, amount: &str) -> String {
    format!(
        r#"[scenario]
name = "extremes"
start = "2014-04"
months = 12
seed = 3

[partners]
nhs = {{}}
council = {{}}

[[metric]]
id = "nea"
kind = "count"
baseline = {baseline}
unit_cost = {unit_cost}
payer = "nhs"

[[scheme]]
id = "big"
funder = {{ council = 1.0 }}
  [[scheme.cost]]
  item = "everything"
  year = "2014/15"
  amount = "{amount}"
  [[scheme.effect]]
  metric = "nea"
  change = 0.05

[fund]
pot = "{pot}"
released_to = {{ council = 0.5, nhs = 0.5 }}
unreleased_to = {{ nhs = 1.0 }}

[[tranche]]
id = "t1"
share = "0.75"
window = {{ from = "2014-04", to = "2015-03" }}
  [[tranche.condition]]
  metric = "nea"
  target = 0.03
  rule = "proportional"

[[tranche]]
id = "t2"
share = "0.25"
  [[tranche.condition]]
  event = "national"
  probability = 1.0

[[risk]]
id = "r"
partner = "council"
probability = 1.0
impact = {impact}
"#
    )
}

/// "LINE:COL" of the first `needle` in `text` (1-based), where an error about it points.
fn position(text: &str, needle: &str) -> String {
    common::position(text, "", needle)
}

fn run(text: &str) -> (i32, Value, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.toml");
    std::fs::write(&path, text).unwrap();
    let out = Command::cargo_bin("itfsim")
        .unwrap()
        .arg("run")
        .arg(&path)
        .args(["--trials", "400", "--format", "json", "--quiet"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{stderr}");
    let json = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code().unwrap(), json, stderr)
}

#[test]
fn a_pot_of_ten_trillion_pounds_is_paid_to_the_penny() {
    // The largest pot allowed, with an odd penny so rounding would show.
    let (code, v, stderr) = run(&scenario(
        "9999999999999.99",
        "30000",
        "1490",
        "1000000",
        "500000",
    ));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(v["fund"]["pot"], "9999999999999.99");
    // t2 (an event with probability 1) pays its amount exactly in every trial:
    // 0.25 x 9999999999999.99 = 2499999999999.9975, half-even to the penny.
    let t2 = &v["tranches"][1];
    assert_eq!(t2["amount"], "2500000000000.00");
    assert_eq!(t2["paid"]["p5"], "2500000000000.00");
    assert_eq!(t2["p_full"], 1.0);
    // Paid plus unreleased is the pot exactly in every trial, so the means add up too.
    let paid = v["total"]["paid"]["mean"].as_str().unwrap();
    let unreleased = v["total"]["unreleased"]["mean"].as_str().unwrap();
    let pence = |s: &str| s.replace('.', "").parse::<i128>().unwrap();
    let sum = pence(paid) + pence(unreleased);
    assert!((sum - 999999999999999).abs() <= 1, "{paid} + {unreleased}");
}

#[test]
fn a_pot_over_ten_trillion_is_refused_at_its_line() {
    let (code, _, stderr) = run(&scenario(
        "10000000000000.01",
        "30000",
        "1490",
        "1000000",
        "500000",
    ));
    assert_eq!(code, 65);
    assert!(
        stderr.contains(
            ":30:7: error: `fund.pot`: pot £10000000000000.01 is too large to simulate exactly"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("hint: pots up to £10,000,000,000,000"));
}

#[test]
fn a_billion_admissions_a_year_simulate_correctly() {
    let (code, v, stderr) = run(&scenario(
        "1200000",
        "1000000000",
        "1490",
        "1000000",
        "500000",
    ));
    assert_eq!(code, 0, "{stderr}");
    // No growth, a 5% effect from month 0: expected activity 0.95e9 over the year, and
    // Poisson noise (sd ~31,000) is tiny next to the 3% target margin, so t1 is met in
    // every trial (achieved 5% >= 3%).
    let window = &v["metrics"][0]["windows"][0];
    let expected: f64 = window["expected"]["mean"].as_f64().unwrap();
    assert!((expected - 0.95e9).abs() < 1.0, "{expected}");
    let observed: f64 = window["observed"]["mean"].as_f64().unwrap();
    // MCSE of the mean of 400 Poisson(0.95e9) draws is ~1,541; allow 5 MCSE.
    assert!((observed - 0.95e9).abs() < 7_800.0, "{observed}");
    assert_eq!(v["tranches"][0]["p_full"], 1.0);
    // Savings: 0.05e9 avoided x £1490 = £74.5bn, exact in pence.
    let savings = v["partners"][0]["savings"]["mean"].as_str().unwrap();
    assert_eq!(savings, "74500000000.00");
}

#[test]
fn a_unit_cost_of_a_quadrillion_pounds_is_refused_not_saturated() {
    // 1.5m avoided admissions x £1e15 is far beyond 2^53 pence.
    let text = scenario("1200000", "30000000", "1e15", "1000000", "500000");
    let (code, v, stderr) = run(&text);
    assert_eq!(code, 65, "{stderr}");
    assert_eq!(v, Value::Null);
    // The scheme's share of the savings is the first amount computed, so it is named, and
    // located at the scheme's (first) effect.
    let first = stderr.lines().next().unwrap();
    assert!(
        first.contains(&format!("/s.toml:{}: error: `scheme.big.effect`: in trial 0 the scheme's savings (its avoided activity x the metrics' unit_cost) is beyond £90,071,992,547,409.92 (2^53 pence)", position(&text, "[[scheme.effect]]"))),
        "{stderr}"
    );
    assert!(stderr.contains(
        "hint: check `scheme.big.effect` and the values it multiplies: money is in pounds"
    ));
}

#[test]
fn a_risk_impact_of_a_quadrillion_pounds_is_refused() {
    let text = scenario("1200000", "30000", "1490", "1e15", "500000");
    let (code, _, stderr) = run(&text);
    assert_eq!(code, 65, "{stderr}");
    let first = stderr.lines().next().unwrap();
    assert!(
        first.contains(&format!(
            "/s.toml:{}: error: `risk.r.impact`: in trial 0 the risk's impact is beyond",
            position(&text, "1e15")
        )),
        "{stderr}"
    );
}

#[test]
fn a_budget_line_of_a_quadrillion_pounds_is_refused() {
    let text = scenario("1200000", "30000", "1490", "1000000", "1000000000000000");
    let (code, _, stderr) = run(&text);
    assert_eq!(code, 65, "{stderr}");
    let first = stderr.lines().next().unwrap();
    assert!(
        first.contains(&format!(
            "/s.toml:{}: error: `scheme.big.cost`: in trial 0 the scheme's spend",
            position(&text, "[[scheme.cost]]")
        )),
        "{stderr}"
    );
}

#[test]
fn amounts_just_inside_the_limit_work_exactly() {
    // £90 trillion of risk is inside 2^53 pence: exact, and reported to the penny.
    let (code, v, stderr) = run(&scenario(
        "1200000",
        "30000",
        "1490",
        "90000000000000",
        "500000",
    ));
    assert_eq!(code, 0, "{stderr}");
    let risks = &v["partners"][1]["risks"];
    assert_eq!(risks["mean"], "90000000000000.00");
    assert_eq!(risks["p95"], "90000000000000.00");
}

#[test]
fn poisson_draws_for_astronomical_means_are_monotone_and_near_the_mean() {
    // Beyond 1e15 the inverse CDF returns the asymptotic expansion's floor (the exact
    // confirmation would need O(sqrt(lambda)) terms); it must stay monotone in u and in
    // lambda, and within a few sd of the mean.
    use itfsim::dist::poisson_quantile;
    for lambda in [2e15, 1e17, 1e18] {
        let sd = f64::sqrt(lambda);
        let mut last = 0u64;
        for i in 1..1000 {
            let u = f64::from(i) / 1000.0;
            let k = poisson_quantile(lambda, u);
            assert!(k >= last, "lambda {lambda}: not monotone at u {u}");
            assert!(
                (k as f64 - lambda).abs() < 4.0 * sd + 1.0,
                "lambda {lambda}, u {u}: {k}"
            );
            last = k;
        }
        assert!(poisson_quantile(lambda * 1.001, 0.5) >= poisson_quantile(lambda, 0.5));
    }
}

#[test]
fn every_command_that_simulates_refuses_out_of_range_money() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.toml");
    std::fs::write(
        &path,
        scenario("1200000", "30000000", "1e15", "1000000", "500000"),
    )
    .unwrap();
    let p = path.to_str().unwrap();
    let html = dir.path().join("r.html");
    let commands: Vec<Vec<&str>> = vec![
        vec!["compare", p, p],
        vec![
            "thresholds",
            p,
            "--condition",
            "t1.nea",
            "--from",
            "0.01",
            "--to",
            "0.02",
            "--step",
            "0.01",
        ],
        vec!["run", p, "--report", html.to_str().unwrap()],
        vec!["sensitivity", p, "--method", "rank"],
        vec!["sensitivity", p, "--method", "tornado"],
    ];
    for args in commands {
        let out = Command::cargo_bin("itfsim")
            .unwrap()
            .args(&args)
            .args(["--trials", "300", "--quiet"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(65), "{args:?}: {stderr}");
        assert!(
            stderr.contains("is beyond £90,071,992,547,409.92 (2^53 pence)"),
            "{args:?}: {stderr}"
        );
    }
    assert!(!html.exists());
}
