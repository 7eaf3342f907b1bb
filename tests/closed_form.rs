//! Statistical checks of the whole model against closed forms, with every parameter fixed
//! so the only randomness is the observation noise. Fixed seeds; tolerances are 4 Monte
//! Carlo standard errors (a false alarm about once in 16,000 seeds).
use itfsim::engine;
use itfsim::model::{Trial, compile};
use itfsim::scenario::load_str;
use statrs::distribution::{Discrete, DiscreteCDF, Poisson};

fn scenario(effect: f64, rule: &str) -> String {
    format!(
        r#"
[scenario]
name = "closed form"
start = "2015-04"
months = 12
[partners]
nhs = {{}}
council = {{}}
[[metric]]
id = "nea"
kind = "count"
baseline = 1200
[[scheme]]
id = "s"
funder = {{ nhs = 1.0 }}
  [[scheme.cost]]
  item = "x"
  amount = "100"
  [[scheme.effect]]
  metric = "nea"
  change = {effect}
[fund]
pot = "1000"
released_to = {{ council = 1.0 }}
unreleased_to = {{ nhs = 1.0 }}
[[tranche]]
id = "t"
share = "1"
window = {{ from = "2015-04", to = "2015-06" }}
[[tranche.condition]]
metric = "nea"
target = 0.05
rule = "{rule}"
"#
    )
}

const TRIALS: u64 = 200_000;

#[test]
fn p_met_equals_the_poisson_cdf() {
    for effect in [0.0, 0.1] {
        let loaded = load_str("cf.toml", &scenario(effect, "all_or_nothing"), &[]).unwrap();
        let model = compile(&loaded.scenario, 42).unwrap();
        let acc = engine::run(&model, 0..TRIALS, 2).unwrap();
        // Window of 3 months: baseline 300, expected 300 x (1 - effect); met when N <= 285.
        let lambda = 300.0 * (1.0 - effect);
        let exact = Poisson::new(lambda).unwrap().cdf(285);
        let got = acc.condition_met[0].value();
        let mcse = (exact * (1.0 - exact) / TRIALS as f64).sqrt();
        assert!(
            (got - exact).abs() < 4.0 * mcse,
            "effect {effect}: {got} vs {exact} (mcse {mcse})"
        );
    }
}

#[test]
fn proportional_mean_equals_the_exact_sum_over_the_pmf() {
    let loaded = load_str("cf.toml", &scenario(0.03, "proportional"), &[]).unwrap();
    let model = compile(&loaded.scenario, 7).unwrap();
    let acc = engine::run(&model, 0..TRIALS, 2).unwrap();
    let poisson = Poisson::new(300.0 * 0.97).unwrap();
    let fraction = |k: u64| {
        if k as f64 <= 285.0 {
            1.0
        } else {
            (((300.0 - k as f64) / 300.0) / 0.05).clamp(0.0, 1.0)
        }
    };
    let (mut mean, mut second) = (0.0, 0.0);
    for k in 0..2000u64 {
        let p = poisson.pmf(k);
        // paid in pence: 100000 x f, rounded half-even (negligible against the tolerance)
        mean += p * fraction(k) * 100_000.0;
        second += p * (fraction(k) * 100_000.0).powi(2);
    }
    let sd = (second - mean * mean).sqrt();
    let got = acc.total_paid.finish();
    let tolerance = 4.0 * sd / (TRIALS as f64).sqrt() + 0.5;
    assert!(
        (got.mean as f64 - mean).abs() < tolerance,
        "{} vs {mean} (tol {tolerance})",
        got.mean
    );
}

#[test]
fn same_answer_on_any_thread_count() {
    let text = std::fs::read_to_string("scenarios/ealing-2014.toml").unwrap();
    let loaded = load_str("ealing.toml", &text, &[]).unwrap();
    let model = compile(&loaded.scenario, 1).unwrap();
    let one = engine::run(&model, 0..20_000, 1).unwrap();
    let two = engine::run(&model, 0..20_000, 2).unwrap();
    assert_eq!(
        format!("{:?}", one.total_paid.finish()),
        format!("{:?}", two.total_paid.finish())
    );
    assert_eq!(
        format!("{:?}", one.partner_net[0].finish()),
        format!("{:?}", two.partner_net[0].finish())
    );
    // The invariant is on finished summaries: internal state (which values still wait
    // in a quantile store's buffer, how exact sums lay out their partials) may differ.
    let finished = |acc: &engine::Accumulator| -> Vec<String> {
        acc.window_observed
            .iter()
            .map(|s| format!("{:?}", s.finish()))
            .collect()
    };
    assert_eq!(finished(&one), finished(&two));
}

#[test]
fn money_is_conserved_in_every_trial() {
    let text = std::fs::read_to_string("scenarios/ealing-2014.toml").unwrap();
    let loaded = load_str("ealing.toml", &text, &[]).unwrap();
    let model = compile(&loaded.scenario, 3).unwrap();
    let mut trial = Trial::new(&model);
    for index in 0..5_000 {
        model.simulate(index, &mut trial);
        let performance: i64 = trial.partner_performance.iter().sum();
        assert_eq!(performance, model.pot, "trial {index}");
        assert!(trial.total_paid >= 0 && trial.total_paid <= model.pot);
        for (paid, tranche) in trial.tranche_paid.iter().zip(&model.tranches) {
            assert!(*paid >= 0 && *paid <= tranche.amount);
        }
        let invest: i64 = trial.partner_invest.iter().sum();
        assert_eq!(invest, trial.scheme_invest.iter().sum::<i64>());
    }
}

fn ranks(x: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..x.len()).collect();
    idx.sort_by(|a, b| x[*a].total_cmp(&x[*b]));
    let mut r = vec![0.0; x.len()];
    for (rank, i) in idx.into_iter().enumerate() {
        r[i] = rank as f64;
    }
    r
}

fn pearson(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let cov: f64 = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = a.iter().map(|x| (x - ma).powi(2)).sum();
    let vb: f64 = b.iter().map(|y| (y - mb).powi(2)).sum();
    cov / (va * vb).sqrt()
}

#[test]
fn sampled_rank_correlations_match_the_specified_ones() {
    let mut text = scenario(0.0, "all_or_nothing");
    text = text.replace(
        "change = 0",
        "change = { dist = \"pert\", min = 0.0, mode = 0.01, max = 0.05 }",
    );
    text.push_str("[[risk]]\nid = \"r\"\npartner = \"nhs\"\nprobability = 0.4\nimpact = { dist = \"lognormal\", mean = 1000, sd = 500 }\n");
    text.push_str(
        "[[correlation]]\nbetween = [\"scheme.s.effect.nea\", \"risk.r.impact\"]\nrank = -0.6\n",
    );
    text.push_str(
        "[[correlation]]\nbetween = [\"scheme.s.effect.nea\", \"metric.nea.growth\"]\nrank = 0.3\n",
    );
    text = text.replace(
        "baseline = 1200",
        "baseline = 1200\ngrowth = { dist = \"normal\", mean = 0.02, sd = 0.01 }",
    );
    let loaded = load_str("corr.toml", &text, &[]).unwrap();
    let model = compile(&loaded.scenario, 11).unwrap();
    let find = |path: &str| model.params.iter().position(|p| p.path == path).unwrap();
    let (e, r, g) = (
        find("scheme.s.effect.nea"),
        find("risk.r.impact"),
        find("metric.nea.growth"),
    );
    let mut trial = Trial::new(&model);
    let (mut xs, mut ys, mut zs) = (Vec::new(), Vec::new(), Vec::new());
    for index in 0..100_000 {
        model.simulate(index, &mut trial);
        xs.push(trial.values[e]);
        ys.push(trial.values[r]);
        zs.push(trial.values[g]);
    }
    let (rx, ry, rz) = (ranks(&xs), ranks(&ys), ranks(&zs));
    let effect_impact = pearson(&rx, &ry);
    let effect_growth = pearson(&rx, &rz);
    assert!((effect_impact + 0.6).abs() < 0.02, "{effect_impact}");
    assert!((effect_growth - 0.3).abs() < 0.02, "{effect_growth}");
}

/// A scheme scaled to nothing does nothing, whatever its returns (`0^0` would be 1 and
/// keep the whole effect); at scale 2 the effect is `change x 2^returns`, capped at 1.
/// Every parameter is fixed, so a trial's expected activity is a closed form: baseline
/// 1,200 a year over 12 months times (1 - effect).
#[test]
fn scale_zero_has_no_effect_and_returns_scale_the_effect() {
    let cases = [
        ("0", "0", 0.0),
        ("0", "1", 0.0),
        ("0", "2.5", 0.0),
        ("2", "0", 0.1),
        ("2", "1", 0.2),
        ("2", "2", 0.4),
        ("2", "4", 1.0),
    ];
    for (scale, returns, effect) in cases {
        let sets = [
            format!("scheme.s.scale={scale}"),
            format!("scheme.s.returns={returns}"),
        ];
        let loaded = load_str("cf.toml", &scenario(0.1, "all_or_nothing"), &sets).unwrap();
        let model = compile(&loaded.scenario, 1).unwrap();
        let mut trial = Trial::new(&model);
        model.simulate(0, &mut trial);
        let expected: f64 = trial.segment_expected[0].iter().sum();
        let want = 1200.0 * (1.0 - effect);
        assert!(
            (expected - want).abs() < 1e-9,
            "scale {scale}, returns {returns}: expected activity {expected}, want {want}"
        );
        assert!((trial.metric_avoided[0] - 1200.0 * effect).abs() < 1e-9);
    }
}

/// MODEL.md's window baseline `B_W = baseline/12 x (sum of the window's seasonal
/// factors)` is exact for a plan's whole numbers: Ealing's residential admissions, 244 a
/// year, give 122 over a six-month window (adding six 244/12 gave 121.99999999999999), so
/// a trial that observes exactly the baseline achieves exactly 0, not -1.2e-16.
#[test]
fn a_whole_baseline_over_whole_months_is_exact() {
    let v = json_output(&[
        "run",
        "scenarios/ealing-2014.toml",
        "--trials",
        "20000",
        "--format",
        "json",
        "--quiet",
    ]);
    let metric = v["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == "residential65")
        .unwrap();
    let baselines: Vec<f64> = metric["windows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["baseline"].as_f64().unwrap())
        .collect();
    assert!(baselines.contains(&122.0), "{baselines:?}");
    for w in metric["windows"].as_array().unwrap() {
        let p50 = w["achieved"]["p50"].as_f64().unwrap();
        assert!(p50 == 0.0 || p50.abs() > 1e-12, "{p50}");
    }
}

/// The JSON an itfsim command that must succeed writes on stdout.
fn json_output(args: &[&str]) -> serde_json::Value {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_itfsim"))
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success());
    serde_json::from_slice(&out.stdout).unwrap()
}
