//! The bad-input corpus (tests/bad_inputs/): every file is a scenario with one typical
//! hand-editing mistake. Each must be refused with the MODEL.md exit code (65 invalid,
//! 66 unreadable), an error located at `file:LINE:COL` naming the key, a message that says
//! what is wrong and a `hint:` line; never a panic and never a result. The table pins the
//! exact location, key and wording, so a reader change that loses a location or blurs a
//! message fails here. Inputs that cannot be committed usefully (a 10 MB file, a
//! directory, a missing file) are made in a temporary directory.
use assert_cmd::Command;
use common::position;
use std::path::Path;

mod common;

/// (file, exit code, "LINE:COL" of the first error, key, message substring)
const TABLE: &[(&str, i32, &str, &str, &str)] = &[
    (
        "bad_id_uppercase.toml",
        65,
        "41:6",
        "scheme[1].id",
        "`TeleCare` is not a valid id",
    ),
    (
        "correlation_listed_twice.toml",
        65,
        "96:1",
        "correlation.1",
        "the pair metric.nea.growth /",
    ),
    (
        "correlation_not_positive_definite.toml",
        65,
        "86:1",
        "correlation",
        "the correlation matrix over",
    ),
    (
        "correlation_rank_above_one.toml",
        65,
        "88:8",
        "correlation.0.rank",
        "rank 1.5 must lie strictly between -1 and 1",
    ),
    (
        "correlation_self.toml",
        65,
        "87:11",
        "correlation.0.between",
        "a value cannot be correlated with itself",
    ),
    (
        "duplicate_metric_id.toml",
        65,
        "20:1",
        "metric.nea.id",
        "duplicate metric id `nea`",
    ),
    (
        "duplicate_partner_label_key.toml",
        65,
        "10:32",
        "partners.council.label2",
        "unknown key `label2`",
    ),
    (
        "duplicate_scheme_id.toml",
        65,
        "40:1",
        "scheme.reablement.id",
        "duplicate scheme id `reablement`",
    ),
    (
        "empty.toml",
        65,
        "1:1",
        "scenario",
        "missing required section `[scenario]`",
    ),
    (
        "empty_bands.toml",
        65,
        "83:11",
        "tranche.t2.condition.reab.bands",
        "bands is empty",
    ),
    (
        "empty_discrete.toml",
        65,
        "51:42",
        "scheme.telecare.effect.nea.change.values",
        "a discrete distribution needs at least one value",
    ),
    (
        "empty_metric_list.toml",
        65,
        "23:12",
        "scheme.reablement.effect.nea.metric",
        "effect on unknown metric `nea`",
    ),
    (
        "empty_seasonality.toml",
        65,
        "16:15",
        "metric.nea.seasonality",
        "seasonality has 0 factors, not 12",
    ),
    (
        "growth_on_proportion.toml",
        65,
        "25:10",
        "metric.reab.growth",
        "`growth` applies to count metrics only",
    ),
    (
        "huge_float_sd.toml",
        65,
        "16:10",
        "metric.nea.growth",
        "annual growth must lie in [-0.99, 100], but",
    ),
    (
        "huge_months.toml",
        65,
        "4:10",
        "scenario.months",
        "100000000000000000000000 is out of range",
    ),
    (
        "inf_baseline.toml",
        65,
        "15:12",
        "metric.nea.baseline",
        "inf is not a finite number",
    ),
    (
        "missing_fund.toml",
        65,
        "1:1",
        "fund",
        "missing required section `[fund]`",
    ),
    (
        "money_with_commas.toml",
        65,
        "54:7",
        "fund.pot",
        "\"1,200,000\" is not an exact amount",
    ),
    (
        "months_over_limit.toml",
        65,
        "4:10",
        "scenario.months",
        "1201 is out of range",
    ),
    (
        "months_zero.toml",
        65,
        "4:10",
        "scenario.months",
        "0 is out of range",
    ),
    (
        "nan_delivery.toml",
        65,
        "29:12",
        "scheme.reablement.delivery",
        "nan is not a finite number",
    ),
    (
        "negative_cost_amount.toml",
        65,
        "47:12",
        "scheme.telecare.cost.0.amount",
        "-100000 is negative",
    ),
    (
        "negative_pot.toml",
        65,
        "54:7",
        "fund.pot",
        "-1200000 is negative",
    ),
    (
        "non_utf8.toml",
        65,
        "2:13",
        "(file)",
        "the file is not valid UTF-8 (byte 23)",
    ),
    (
        "one_partner.toml",
        65,
        "8:1",
        "partners",
        "a plan needs at least two partners",
    ),
    (
        "only_comments.toml",
        65,
        "1:1",
        "scenario",
        "missing required section `[scenario]`",
    ),
    (
        "pert_min_above_max.toml",
        65,
        "38:35",
        "scheme.reablement.effect.nea.change.min",
        "min (0.05) must be less than max (0.03)",
    ),
    (
        "pot_too_large.toml",
        65,
        "54:7",
        "fund.pot",
        "pot £100000000000000 is too large to simulate",
    ),
    (
        "probability_above_one.toml",
        65,
        "93:15",
        "risk.overperf.probability",
        "a probability must lie in [0, 1], but this",
    ),
    (
        "released_to_sum_0999.toml",
        65,
        "55:15",
        "fund.released_to",
        "shares sum to 0.999, not 1",
    ),
    (
        "sd_zero.toml",
        65,
        "16:47",
        "metric.nea.growth.sd",
        "sd is 0; it must be greater than 0",
    ),
    (
        "seasonality_not_mean_one.toml",
        65,
        "16:15",
        "metric.nea.seasonality",
        "seasonality averages 1.008333, not 1",
    ),
    (
        "shares_sum_0999.toml",
        65,
        "58:1",
        "tranche.*.share",
        "tranche shares sum to 0.999, not exactly 1",
    ),
    (
        "start_bad_format.toml",
        65,
        "3:9",
        "scenario.start",
        "\"April 2014\" is not a month",
    ),
    (
        "syntax_bad_table_header.toml",
        65,
        "53:6",
        "[fund",
        "TOML syntax error: unclosed table, expected `]`",
    ),
    (
        "syntax_duplicate_key.toml",
        65,
        "5:1",
        "scenario.months",
        "TOML syntax error: duplicate key",
    ),
    (
        "syntax_missing_equals.toml",
        65,
        "4:8",
        "months",
        "TOML syntax error: key with no value, expected",
    ),
    (
        "syntax_unclosed_string.toml",
        65,
        "2:23",
        "name",
        "TOML syntax error: invalid basic string,",
    ),
    (
        "target_zero_count.toml",
        65,
        "65:12",
        "tranche.t1.condition.nea.target",
        "a target must be above 0 (achievement is measured as a share of it), but this target is 0",
    ),
    (
        "typo_correlation_path.toml",
        65,
        "87:44",
        "correlation.0.between[1]",
        "no uncertain value has the path",
    ),
    (
        "typo_funder_partner.toml",
        65,
        "42:12",
        "scheme.telecare.funder.counsil",
        "unknown key `counsil`",
    ),
    (
        "typo_metric_id_in_effect.toml",
        65,
        "50:12",
        "scheme.telecare.effect.nae.metric",
        "effect on unknown metric `nae`",
    ),
    (
        "typo_payer.toml",
        65,
        "18:9",
        "metric.nea.payer",
        "unknown partner `nsh`",
    ),
    (
        "unit_cost_without_payer.toml",
        65,
        "25:13",
        "metric.reab.payer",
        "`unit_cost` is given without `payer`",
    ),
    (
        "unknown_dist.toml",
        65,
        "38:21",
        "scheme.reablement.effect.nea.change.dist",
        "unknown distribution \"perty\"",
    ),
    (
        "unknown_key_delivry.toml",
        65,
        "29:1",
        "scheme.reablement.delivry",
        "unknown key `delivry`",
    ),
    (
        "unknown_key_top_level.toml",
        65,
        "53:2",
        "funds",
        "unknown key `funds`",
    ),
    (
        "unknown_rule.toml",
        65,
        "66:10",
        "tranche.t1.condition.nea.rule",
        "unknown rule \"pro_rata\"",
    ),
    (
        "weights_sum_0999.toml",
        65,
        "73:3",
        "tranche.t2.condition.*.weight",
        "condition weights sum to 0.999, not 1",
    ),
    (
        "window_after_horizon.toml",
        65,
        "71:35",
        "tranche.t2.window.to",
        "2016-04 is outside the horizon 2014-04 to",
    ),
    (
        "window_bad_month.toml",
        65,
        "61:19",
        "tranche.t1.window.from",
        "\"2015-13\" is not a month",
    ),
    (
        "window_before_start.toml",
        65,
        "61:19",
        "tranche.t1.window.from",
        "2014-01 is outside the horizon 2014-04 to",
    ),
    (
        "window_reversed.toml",
        65,
        "61:10",
        "tranche.t1.window",
        "window starts (2015-03) after it ends (2015-01)",
    ),
    (
        "wrong_type_baseline_bool.toml",
        65,
        "15:12",
        "metric.nea.baseline",
        "expected a number, found a boolean",
    ),
    (
        "wrong_type_months_string.toml",
        65,
        "4:10",
        "scenario.months",
        "expected a whole number, found the string \"24\"",
    ),
    (
        "wrong_type_partners_string.toml",
        65,
        "9:7",
        "partners.nhs",
        "expected a table, found a string",
    ),
    (
        "wrong_type_pot_array.toml",
        65,
        "54:7",
        "fund.pot",
        "expected an amount, found an array",
    ),
    (
        "bands_descending.toml",
        65,
        "83:24",
        "tranche.t2.condition.reab.bands[1]",
        "band ratios must be strictly ascending",
    ),
    (
        "bands_fraction_above_one.toml",
        65,
        "83:24",
        "tranche.t2.condition.reab.bands[1]",
        "band (1.0, 1.5): ratio must be >= 0 and fraction in [0,",
    ),
    (
        "baseline_negative.toml",
        65,
        "15:12",
        "metric.nea.baseline",
        "baseline -30000 is out of range",
    ),
    (
        "cohort_negative.toml",
        65,
        "24:10",
        "metric.reab.cohort",
        "cohort -400 is out of range",
    ),
    (
        "cohort_zero.toml",
        65,
        "24:10",
        "metric.reab.cohort",
        "cohort 0 is out of range",
    ),
    (
        "correlation_three.toml",
        65,
        "87:11",
        "correlation.0.between",
        "`between` lists exactly two parameter paths",
    ),
    (
        "cost_both_amount_and_rate.toml",
        65,
        "47:12",
        "scheme.telecare.cost.0.amount",
        "give either `amount` or `rate` x `quantity`, not both",
    ),
    (
        "cost_rate_negative_quantity.toml",
        65,
        "48:14",
        "scheme.telecare.cost.0.quantity",
        "-5 is negative",
    ),
    (
        "delivery_dist_outside.toml",
        65,
        "29:12",
        "scheme.reablement.delivery",
        "a probability must lie in [0, 1], but this value can be",
    ),
    (
        "discrete_negative_weight.toml",
        65,
        "51:66",
        "scheme.telecare.effect.nea.change.weights",
        "weight -0.5 is not a finite number >= 0",
    ),
    (
        "discrete_weights_not_one.toml",
        65,
        "51:66",
        "scheme.telecare.effect.nea.change.weights",
        "weights sum to 0.9, not 1",
    ),
    (
        "duplicate_condition_metric.toml",
        65,
        "79:3",
        "tranche.t2.condition.nea",
        "two conditions named `nea` in this tranche",
    ),
    (
        "duplicate_tranche_id.toml",
        65,
        "68:1",
        "tranche.t1.id",
        "duplicate tranche id `t1`",
    ),
    (
        "floor_negative.toml",
        65,
        "67:11",
        "tranche.t1.condition.nea.floor",
        "floor -0.5 must be in [0, 1)",
    ),
    (
        "floor_one.toml",
        65,
        "67:11",
        "tranche.t1.condition.nea.floor",
        "floor 1 must be in [0, 1)",
    ),
    (
        "gamma_tiny.toml",
        65,
        "51:50",
        "scheme.telecare.effect.nea.change.sd",
        "gamma(mean 1e-300, sd 1e300) has shape (mean/sd)^2 =",
    ),
    (
        "label_number.toml",
        65,
        "2:8",
        "scenario.name",
        "expected a string, found an integer",
    ),
    (
        "lognormal_neg_mean.toml",
        65,
        "51:41",
        "scheme.telecare.effect.nea.change.mean",
        "a lognormal mean must be greater than 0, not -0.01",
    ),
    (
        "noise_bad.toml",
        65,
        "18:46",
        "metric.nea.noise.negative_binomial.dispersion",
        "dispersion -3 must lie in [1e-6, 1e12]",
    ),
    (
        "noise_zero_disp.toml",
        65,
        "18:46",
        "metric.nea.noise.negative_binomial.dispersion",
        "dispersion 1e-300 must lie in [1e-6, 1e12]",
    ),
    (
        "normal_p10_above_p90.toml",
        65,
        "16:47",
        "metric.nea.growth.p90",
        "p10 (0.03) must be less than p90 (0.01)",
    ),
    (
        "normal_trunc_empty.toml",
        65,
        "16:59",
        "metric.nea.growth.min",
        "truncating normal(mean 0.02, sd 0.01) to [0.5, 0.6]",
    ),
    (
        "pert_lambda_negative.toml",
        65,
        "38:74",
        "scheme.reablement.effect.nea.change.lambda",
        "lambda is -4; it must be greater than 0",
    ),
    (
        "population_inf.toml",
        65,
        "7:17",
        "scenario.population_65",
        "inf is not a finite number",
    ),
    (
        "product_empty.toml",
        65,
        "51:37",
        "scheme.telecare.effect.nea.change.of",
        "a product needs at least 2 factors, got 0",
    ),
    (
        "proportion_baseline_above_one.toml",
        65,
        "23:12",
        "metric.reab.baseline",
        "baseline 1.82 is out of range",
    ),
    (
        "ramp_negative.toml",
        65,
        "30:15",
        "scheme.reablement.ramp_months",
        "-3 is out of range",
    ),
    (
        "risk_id_digits.toml",
        65,
        "91:6",
        "risk.123.id",
        "`123` is not a valid risk id",
    ),
    (
        "seasonality_negative.toml",
        65,
        "16:16",
        "metric.nea.seasonality[0]",
        "factor -1 is negative",
    ),
    (
        "seed_negative.toml",
        65,
        "6:8",
        "scenario.seed",
        "-1 is out of range",
    ),
    (
        "start_month_float.toml",
        65,
        "30:15",
        "scheme.reablement.start_month",
        "expected a whole number, found the number 2.5",
    ),
    (
        "target_huge.toml",
        65,
        "65:12",
        "tranche.t1.condition.nea.target",
        "this target is 50: a reduction of 5000% against `nea`'s baseline, which can never be met",
    ),
    (
        "trials_zero.toml",
        65,
        "5:10",
        "scenario.trials",
        "0 is out of range",
    ),
    (
        "weight_negative.toml",
        65,
        "77:12",
        "tranche.t2.condition.nea.weight",
        "weight -0.5 is outside [0, 1]",
    ),
    (
        "window_string.toml",
        65,
        "61:10",
        "tranche.t1.window",
        "expected a table, found a string",
    ),
    (
        "overrun_negative.toml",
        65,
        "30:16",
        "scheme.reablement.cost_overrun",
        "cost_overrun must lie in [0, inf], not -1",
    ),
    (
        "scale_negative.toml",
        65,
        "30:9",
        "scheme.reablement.scale",
        "scale must lie in [0, inf], not -2",
    ),
    (
        "returns_negative.toml",
        65,
        "30:11",
        "scheme.reablement.returns",
        "returns must lie in [0, inf], not -1",
    ),
];

fn run(path: &str) -> (i32, String) {
    let out = Command::cargo_bin("itfsim")
        .unwrap()
        .args(["run", path, "--trials", "20", "--threads", "1"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !stderr.contains("panicked") && !stderr.contains("RUST_BACKTRACE"),
        "{path} panicked:\n{stderr}"
    );
    assert!(
        out.stdout.is_empty(),
        "{path} printed a result for bad input"
    );
    (out.status.code().expect("exited by a signal"), stderr)
}

#[test]
fn every_bad_input_is_refused_with_location_key_message_and_hint() {
    let mut failures = Vec::new();
    for (file, code, location, key, message) in TABLE {
        let path = format!("tests/bad_inputs/{file}");
        let (got, stderr) = run(&path);
        let first = stderr.lines().next().unwrap_or("");
        let expected_head = format!("{path}:{location}: error: `{key}`: ");
        let ok = got == *code
            && first.starts_with(&expected_head)
            && first.contains(message)
            && stderr
                .lines()
                .nth(1)
                .is_some_and(|l| l.starts_with("  hint: "))
            && stderr.contains("found; the scenario was not run");
        if !ok {
            failures.push(format!(
                "{file}: expected exit {code}, `{expected_head}...{message}` and a hint; got exit {got}:\n{stderr}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_corpus_is_all_in_the_table() {
    let mut files: Vec<String> = std::fs::read_dir("tests/bad_inputs")
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    let mut listed: Vec<String> = TABLE.iter().map(|r| r.0.to_string()).collect();
    listed.sort();
    assert_eq!(files, listed);
    assert!(files.len() >= 40);
}

#[test]
fn a_ten_megabyte_file_is_refused_unread() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.toml");
    // A valid scenario followed by 10 MB of comment lines: refused for its size alone.
    let mut text = std::fs::read_to_string("scenarios/ealing-2014.toml").unwrap();
    let line = "# ".to_string() + &"x".repeat(98) + "\n";
    while text.len() < 10 * 1024 * 1024 {
        text.push_str(&line);
    }
    std::fs::write(&path, text).unwrap();
    let shown = path.display().to_string();
    let (code, stderr) = run(&shown);
    assert_eq!(code, 66, "{stderr}");
    assert!(
        stderr.starts_with(&format!("{shown}: cannot read the scenario: the file is ")),
        "{stderr}"
    );
    assert!(stderr.contains("over the 4 MiB limit"), "{stderr}");
    assert!(stderr.contains("hint: a scenario is a small hand-written TOML file"));
}

#[test]
fn a_directory_and_a_missing_file_exit_66_with_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let shown = dir.path().display().to_string();
    let (code, stderr) = run(&shown);
    assert_eq!(code, 66);
    assert!(
        stderr.starts_with(&format!(
            "{shown}: cannot read the scenario: it is a directory"
        )),
        "{stderr}"
    );
    assert!(stderr.contains("hint: give a .toml file"));

    let missing = dir.path().join("nope.toml");
    assert!(!Path::new(&missing).exists());
    let shown = missing.display().to_string();
    let (code, stderr) = run(&shown);
    assert_eq!(code, 66);
    assert!(
        stderr.starts_with(&format!("{shown}: cannot read the scenario: No such file")),
        "{stderr}"
    );
    assert!(stderr.contains("hint: check the path"));
}

#[test]
fn validate_reports_the_same_errors_as_run() {
    let out = Command::cargo_bin("itfsim")
        .unwrap()
        .args([
            "validate",
            "tests/bad_inputs/typo_payer.toml",
            "tests/bad_inputs/empty.toml",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(65));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(
        "tests/bad_inputs/typo_payer.toml:18:9: error: `metric.nea.payer`: unknown partner `nsh`"
    ));
    assert!(stderr.contains(
        "tests/bad_inputs/empty.toml:1:1: error: `scenario`: missing required section `[scenario]`"
    ));
}

/// `itfsim ARGS`: exit code, stdout and stderr, after checking it did not panic.
fn itfsim(args: &[&str]) -> (i32, String, String) {
    let out = Command::cargo_bin("itfsim")
        .unwrap()
        .args(args)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{args:?} panicked:\n{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    (
        out.status.code().expect("exited by a signal"),
        stdout,
        stderr,
    )
}

#[test]
fn a_cohort_no_window_observes_is_refused_by_validate_and_run_at_its_value() {
    // The model's own check (a proportion window must observe at least one person) was
    // made only when compiling for a run: validate said ok, and run's error had no place.
    let ealing = std::fs::read_to_string("scenarios/ealing-2014.toml").unwrap();
    let text = ealing.replace("\ncohort = 400\n", "\ncohort = 0.5\n");
    assert_ne!(text, ealing);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.toml");
    std::fs::write(&path, &text).unwrap();
    let shown = path.display().to_string();
    let at = position(&text, "\ncohort = 0.5", "0.5");
    let message = "`metric.reablement91.cohort`: the window of tranche `all_metrics_1516` observes no one (cohort 0.5 a year)\n  hint: raise the cohort or lengthen the window\n1 error found; the scenario was not run\n";
    let expected = format!("{shown}:{at}: error: {message}");
    for command in ["validate", "run", "sweep", "thresholds", "compare", "trace"] {
        let mut args = vec![command, shown.as_str()];
        match command {
            "sweep" => args.extend(["--grid", "fund.pot=6000000,6300000"]),
            "thresholds" => args.extend([
                "--condition",
                "all_metrics_1516.nea",
                "--from",
                "0.01",
                "--to",
                "0.02",
                "--step",
                "0.01",
            ]),
            "compare" => args.push("scenarios/ealing-2014.toml"),
            "trace" => args.extend(["--trial", "0"]),
            _ => {}
        }
        if command != "validate" {
            args.extend(["--trials", "100", "--quiet"]);
        }
        let (code, stdout, stderr) = itfsim(&args);
        assert_eq!(code, 65, "{command}: {stderr}");
        assert_eq!(stderr, expected, "{command}");
        assert!(stdout.is_empty(), "{command}: {stdout}");
    }
    // The same value given by --set is located in the argument.
    let (code, _, stderr) = itfsim(&[
        "run",
        "scenarios/ealing-2014.toml",
        "--set",
        "metric.reablement91.cohort=0.5",
        "--trials",
        "100",
    ]);
    assert_eq!(code, 65);
    assert_eq!(
        stderr,
        format!("--set metric.reablement91.cohort:1:1: error: {message}")
    );
    // A sweep point that makes it so is refused before any point is computed.
    let out = dir.path().join("sweep.csv");
    let (code, _, stderr) = itfsim(&[
        "sweep",
        "scenarios/ealing-2014.toml",
        "--grid",
        "metric.reablement91.cohort=400,0.5",
        "--trials",
        "100",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 65, "{stderr}");
    assert!(
        stderr.starts_with(&format!(
            "sweep point 2 of 2 (metric.reablement91.cohort=0.5) makes the scenario invalid:\n--grid metric.reablement91.cohort:1:1: error: {message}"
        )),
        "{stderr}"
    );
    assert!(
        std::fs::read_dir(dir.path()).unwrap().count() == 1,
        "a file was left behind"
    );
}

#[test]
fn money_beyond_the_exact_range_in_a_trial_is_located_at_the_risk_impact() {
    let ealing = std::fs::read_to_string("scenarios/ealing-2014.toml").unwrap();
    let text = ealing.replace("max = 1500000 }", "max = 1e20 }");
    assert_ne!(text, ealing);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.toml");
    std::fs::write(&path, &text).unwrap();
    let shown = path.display().to_string();
    // Validation cannot see it (it depends on the draws), as validate's help says.
    let (code, stdout, _) = itfsim(&["validate", &shown]);
    assert_eq!(code, 0);
    assert!(stdout.starts_with(&format!("{shown}: ok (")), "{stdout}");
    let at = position(&text, "id = \"acute_overperformance\"", "{ dist");
    let key = "risk.acute_overperformance.impact";
    let (code, stdout, stderr) = itfsim(&["run", &shown, "--trials", "1000", "--quiet"]);
    assert_eq!(code, 65, "{stderr}");
    assert!(stdout.is_empty());
    let mut lines = stderr.lines().skip_while(|l| !l.contains(": error: "));
    assert_eq!(
        lines.next(),
        Some(
            format!(
                "{shown}:{at}: error: `{key}`: in trial 0 the risk's impact is beyond £90,071,992,547,409.92 (2^53 pence), the largest amount simulated to the penny; the run was stopped"
            )
            .as_str()
        ),
        "{stderr}"
    );
    assert!(
        lines
            .next()
            .is_some_and(|l| l.starts_with(&format!("  hint: check `{key}`"))),
        "{stderr}"
    );
    // `trace` of that trial refuses it as `run` does (it showed the risk occurring with
    // £0.00 of risks), leaving no output.
    let out = dir.path().join("trace.json");
    let (code, stdout, stderr) = itfsim(&[
        "trace",
        &shown,
        "--trial",
        "0",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 65, "{stderr}");
    assert!(stdout.is_empty());
    assert!(
        stderr.starts_with(&format!("{shown}:{at}: error: `{key}`: in trial 0")),
        "{stderr}"
    );
    assert!(!out.exists());
    // Given by --set, the impact is located in the argument.
    let (code, _, stderr) = itfsim(&[
        "run",
        "scenarios/ealing-2014.toml",
        "--set",
        "risk.0.impact={ dist = \"triangular\", min = 600000, mode = 1270000, max = 1e20 }",
        "--trials",
        "1000",
        "--quiet",
    ]);
    assert_eq!(code, 65);
    assert!(
        stderr.starts_with(&format!(
            "--set risk.0.impact:1:1: error: `{key}`: in trial 0 the risk's impact is beyond"
        )),
        "{stderr}"
    );
}

// Edits of a shipped scenario: each test changes `scenarios/ealing-2014.toml` as a user
// would, and expects the exact located message, its line and column computed from the
// edited text (so a moved key fails the test rather than passing by accident).

/// `scenarios/ealing-2014.toml` with each `(from, to)` replaced once (`from` must occur),
/// written into a temporary directory; (directory, path, edited text).
fn ealing_with(edits: &[(&str, &str)]) -> (tempfile::TempDir, String, String) {
    let mut text = std::fs::read_to_string("scenarios/ealing-2014.toml").unwrap();
    for (from, to) in edits {
        assert!(text.contains(from), "the scenario has no `{from}`");
        text = text.replacen(from, to, 1);
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("edited.toml");
    std::fs::write(&path, &text).unwrap();
    (dir, path.display().to_string(), text)
}

/// "LINE:COL" (from 1, columns in characters) of the first `needle` in `text`, `skip`
/// characters into it.
fn at(text: &str, needle: &str, skip: usize) -> String {
    let found = text.find(needle).unwrap_or_else(|| panic!("no `{needle}`"));
    let offset = found + needle.chars().take(skip).map(char::len_utf8).sum::<usize>();
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let line = text[..offset].matches('\n').count() + 1;
    let col = text[line_start..offset].chars().count() + 1;
    format!("{line}:{col}")
}

/// Runs `validate` on `path`, returning its exit code and stderr (never a panic).
fn validate(path: &str) -> (i32, String) {
    let out = Command::cargo_bin("itfsim")
        .unwrap()
        .args(["validate", path])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{stderr}");
    (out.status.code().expect("exited by a signal"), stderr)
}

/// `path` must be refused (exit 65) with each `(location, key, message, hint)` printed
/// exactly as `file:LINE:COL: error: `key`: message` and the hint on the next line.
fn refused(path: &str, expected: &[(String, &str, &str, &str)]) {
    let (code, stderr) = validate(path);
    assert_eq!(code, 65, "{stderr}");
    for (location, key, message, hint) in expected {
        let want = format!("{path}:{location}: error: `{key}`: {message}\n  hint: {hint}\n");
        assert!(stderr.contains(&want), "expected\n{want}in\n{stderr}");
    }
}

const PENCE_HINT: &str =
    "amounts are in pounds with at most two decimals (pence): write the amount to the penny, e.g.";

#[test]
fn money_with_a_third_decimal_is_refused_where_written() {
    let (_dir, path, text) = ealing_with(&[
        ("pot = \"6300000\"", "pot = \"6300000.009\""),
        ("  amount = \"50000\"", "  amount = \"50000.005\""),
        ("  stated = \"120000\"", "  stated = \"120000.001\""),
    ]);
    refused(
        &path,
        &[
            (
                at(&text, "pot = \"6300000.009\"", 6),
                "fund.pot",
                "\"6300000.009\" has more than two decimals",
                &format!("{PENCE_HINT} \"6300000.01\""),
            ),
            (
                at(&text, "amount = \"50000.005\"", 9),
                "scheme.seven_day.cost.0.amount",
                "\"50000.005\" has more than two decimals",
                &format!("{PENCE_HINT} \"50000.00\""),
            ),
            (
                at(&text, "stated = \"120000.001\"", 9),
                "scheme.seven_day.cost.1.stated",
                "\"120000.001\" has more than two decimals",
                &format!("{PENCE_HINT} \"120000.00\""),
            ),
        ],
    );
    // A float literal is read from its text: all nine decimals count.
    let (_dir, path, text) = ealing_with(&[("pot = \"6300000\"", "pot = 6300000.123456789")]);
    refused(
        &path,
        &[(
            at(&text, "pot = 6300000.123456789", 6),
            "fund.pot",
            "6300000.123456789 has more than two decimals",
            &format!("{PENCE_HINT} \"6300000.12\""),
        )],
    );
    // Trailing zeros are whole pence; a rate may carry any number of decimals.
    let (_dir, path, _) = ealing_with(&[
        ("pot = \"6300000\"", "pot = \"6300000.000\""),
        ("rate = \"33.35\"", "rate = \"33.3512345\""),
    ]);
    let (code, stderr) = validate(&path);
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn a_target_no_outcome_can_meet_is_refused_with_a_fraction_hint() {
    const HINT: &str = "a target is a fraction: write 4% as 0.04 (count: relative reduction against the baseline; proportion: improvement in points, 0.82 to 0.85 is 0.03)";
    let (_dir, path, text) = ealing_with(&[
        // 4% typed as 4 on a count metric (rule banded).
        ("  target = 0.04\n", "  target = 4\n"),
        // A distribution whose upper half asks for more than all of dtoc.
        (
            "  target = 0.06\n",
            "  target = { dist = \"uniform\", min = 0.5, max = 1.5 }\n",
        ),
        // 1% typed as 1 on the proportion metric (baseline 0.82).
        (
            "  metric = \"reablement91\"\n  target = 0.01\n",
            "  metric = \"reablement91\"\n  target = 1\n",
        ),
    ]);
    refused(
        &path,
        &[
            (
                at(&text, "  target = 4\n", 11),
                "tranche.all_metrics_1516.condition.nea.target",
                "this target is 4: a reduction of 400% against `nea`'s baseline, which can never be met (activity cannot fall below 0)",
                HINT,
            ),
            (
                at(&text, "  target = { dist = \"uniform\", min = 0.5", 11),
                "tranche.all_metrics_1516.condition.dtoc.target",
                "this target can be 0.5 to 1.5: a reduction of up to 150% against `dtoc`'s baseline, which can never be met (activity cannot fall below 0)",
                HINT,
            ),
            (
                at(&text, "  metric = \"reablement91\"\n  target = 1\n", 37),
                "tranche.all_metrics_1516.condition.reablement91.target",
                "this target is 1: `reablement91`'s baseline 0.82 + 1 = 1.82 is above 1, so it can never be met (a proportion is at most 1)",
                HINT,
            ),
        ],
    );
    // The limits themselves can be met (all activity gone; everyone at home).
    let (_dir, path, _) = ealing_with(&[
        ("  target = 0.04\n", "  target = 1\n"),
        (
            "  metric = \"reablement91\"\n  target = 0.01\n",
            "  metric = \"reablement91\"\n  target = 0.18\n",
        ),
    ]);
    let (code, stderr) = validate(&path);
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn growth_typed_as_a_percentage_is_a_located_warning() {
    let growth =
        "growth = { dist = \"normal\", mean = 0.026, sd = 0.012, min = -0.01, max = 0.06 }";
    let (_dir, path, text) = ealing_with(&[(growth, "growth = 2.6")]);
    let (code, stderr) = validate(&path);
    assert_eq!(code, 0, "a warning, not an error:\n{stderr}");
    let want = format!(
        "{path}:{}: warning: `metric.nea.growth`: annual demand growth 2.6 is 260% a year\n  hint: growth is a fraction a year: write 2.6% as 0.026; keep it only if demand really grows this fast\n",
        at(&text, "growth = 2.6", 9)
    );
    assert!(stderr.contains(&want), "expected\n{want}in\n{stderr}");

    let (_dir, path, text) = ealing_with(&[(
        growth,
        "growth = { dist = \"pert\", min = 0.0, mode = 0.6, max = 0.7 }",
    )]);
    let (code, stderr) = validate(&path);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "{path}:{}: warning: `metric.nea.growth`: annual demand growth with a mode of 0.6 is 60% a year",
            at(&text, "growth = { dist = \"pert\"", 9)
        )),
        "{stderr}"
    );
    // The shipped growth (2.6% a year) gives no such warning.
    let (_dir, path, _) = ealing_with(&[]);
    assert!(!validate(&path).1.contains("annual demand growth"));
}

#[test]
fn start_month_lies_inside_the_horizon() {
    // months = 24: months 0..23 are simulated, so go-live 24 never acts.
    let (_dir, path, text) = ealing_with(&[("start_month = 12\n", "start_month = 24\n")]);
    refused(
        &path,
        &[(
            at(&text, "start_month = 24", 14),
            "scheme.seven_day.start_month",
            "start_month 24 is after the horizon's last month (23; months count from 0)",
            "use a whole number from 0 to 23; for a scheme that costs money but never acts in this plan, set delivery = 0",
        )],
    );
    let (_dir, path, _) = ealing_with(&[("start_month = 12\n", "start_month = 23\n")]);
    assert_eq!(validate(&path).0, 0);
}

#[test]
fn messages_show_numbers_as_written_not_as_float_noise() {
    let (_dir, path, text) = ealing_with(&[
        (
            "\nfunder = { nhs = 1.0 }",
            "\nfunder = { nhs = 0.6, council = 0.3 }",
        ),
        ("delivery = 0.85", "delivery = 85"),
        ("baseline = 30000", "baseline = 1e300"),
    ]);
    refused(
        &path,
        &[
            (
                at(&text, "funder = { nhs = 0.6", 9),
                "scheme.seven_day.funder",
                "shares sum to 0.9, not 1",
                "make the shares add up to exactly 1 (e.g. 0.5 and 0.5)",
            ),
            (
                at(&text, "delivery = 85", 11),
                "scheme.seven_day.delivery",
                "a probability must lie in [0, 1], but this value is 85",
                "use a value from 0 to 1",
            ),
            (
                at(&text, "baseline = 1e300", 11),
                "metric.nea.baseline",
                "baseline 1e300 is too large to simulate",
                "counts above 10^11 a year are not supported",
            ),
        ],
    );
}

#[test]
fn a_duplicate_key_is_named_in_full_with_where_it_was_first_set() {
    let (_dir, path, text) = ealing_with(&[("months = 24\n", "months = 24\nmonths = 12\n")]);
    refused(
        &path,
        &[(
            at(&text, "months = 12", 0),
            "scenario.months",
            "TOML syntax error: duplicate key",
            &format!(
                "`months` is already set in this [scenario] on line {}; keep one of the two",
                at(&text, "months = 24", 0).split(':').next().unwrap()
            ),
        )],
    );
    let (_dir, path, text) = ealing_with(&[(
        "  amount = \"50000\"\n",
        "  amount = \"50000\"\n  amount = \"60000\"\n",
    )]);
    refused(
        &path,
        &[(
            at(&text, "amount = \"60000\"", 0),
            "scheme[0].cost[0].amount",
            "TOML syntax error: duplicate key",
            &format!(
                "`amount` is already set in this [[scheme.cost]] entry on line {}; keep one of the two",
                at(&text, "amount = \"50000\"", 0)
                    .split(':')
                    .next()
                    .unwrap()
            ),
        )],
    );
    let (_dir, path, text) = ealing_with(&[(
        "\nfunder = { nhs = 1.0 }",
        "\nfunder = { nhs = 1.0, nhs = 0.5 }",
    )]);
    refused(
        &path,
        &[(
            at(&text, "nhs = 0.5", 0),
            "scheme[0].funder.nhs",
            "TOML syntax error: duplicate key",
            "`nhs` is given twice in this inline table; keep one",
        )],
    );
}

#[test]
fn with_no_partners_the_hints_say_to_add_them() {
    let (_dir, path, _) = ealing_with(&[(
        "nhs = { label = \"Ealing CCG\" }\ncouncil = { label = \"London Borough of Ealing\" }\n",
        "",
    )]);
    let (code, stderr) = validate(&path);
    assert_eq!(code, 65, "{stderr}");
    let hints: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("  hint:"))
        .collect();
    assert!(hints.len() > 3, "{stderr}");
    // A payer, a funder share, a released_to share, a risk's partner: each says there are
    // none and what to add, where they listed nothing after "one of: ".
    for key in ["payer", "funder.nhs", "released_to.council", "partner"] {
        let error = stderr
            .lines()
            .position(|l| l.contains(&format!("{key}`: unknown")))
            .unwrap_or_else(|| panic!("no error for {key}:\n{stderr}"));
        let hint = stderr.lines().nth(error + 1).unwrap();
        assert!(
            hint.starts_with(
                "  hint: no partners are defined: add them under [partners], e.g. nhs = "
            ),
            "{hint}"
        );
    }
    for hint in hints {
        assert!(!hint.trim_end().ends_with(':'), "{hint}");
    }
}

#[test]
fn a_key_of_another_distribution_is_one_error_at_the_key() {
    let (_dir, path, text) = ealing_with(&[(
        "{ dist = \"triangular\", min = 1590, mode = 2000, max = 8000 }",
        "{ dist = \"triangular\", min = 1590, mode = 2000, max = 8000, sd = 9 }",
    )]);
    refused(
        &path,
        &[(
            at(&text, "max = 8000, sd", 12),
            "metric.nea.unit_cost.sd",
            "`sd` is not a key of a triangular distribution",
            "remove it (keys for triangular: min, mode, max)",
        )],
    );
    let (_, stderr) = validate(&path);
    assert!(
        stderr.ends_with("1 error found; the scenario was not run\n"),
        "{stderr}"
    );
    // A misspelling beside it is a second problem, with its own "did you mean", whose
    // list of allowed keys is the distribution's.
    let (_dir, path, _) = ealing_with(&[(
        "{ dist = \"triangular\", min = 1590, mode = 2000, max = 8000 }",
        "{ dist = \"triangular\", min = 1590, mode = 2000, max = 8000, sd = 9, mdoe = 1 }",
    )]);
    let (_, stderr) = validate(&path);
    assert!(
        stderr.contains("unknown key `mdoe`\n  hint: did you mean `mode`? Allowed keys here: dist, min, mode, max\n"),
        "{stderr}"
    );
    assert!(stderr.contains("2 errors found"), "{stderr}");
}
