//! The scenario reader through the library: exact money, defaults from MODEL.md section 3,
//! `--set` overrides, and errors that name the right place.
use itfsim::dist::Dist;
use itfsim::scenario::{LoadError, load_str};
use rust_decimal::Decimal;
use std::str::FromStr;

const BASE: &str = r#"
[scenario]
name = "t"
start = "2015-04"
months = 12
[partners]
nhs = {}
council = { label = "Council" }
[[metric]]
id = "nea"
kind = "count"
baseline = 1200
[[scheme]]
id = "s"
funder = { nhs = 0.5, council = 0.5 }
  [[scheme.cost]]
  item = "social workers"
  rate = "33.35"
  quantity = 3640
  stated = "120000"
  [[scheme.cost]]
  item = "float literal"
  amount = 1200.10
  [[scheme.effect]]
  metric = "nea"
  change = 0.01
[fund]
pot = "1000000.05"
released_to = { council = 1.0 }
unreleased_to = { nhs = 1.0 }
[[tranche]]
id = "t"
share = "1"
window = { from = "2015-04", to = "2015-06" }
[[tranche.condition]]
metric = "nea"
target = 0.05
rule = "all_or_nothing"
"#;

fn errors(text: &str, sets: &[&str]) -> Vec<String> {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    match load_str("t.toml", text, &sets) {
        Err(LoadError::Invalid(items)) => items.iter().map(|d| d.to_string()).collect(),
        Err(other) => vec![other.to_string()],
        Ok(_) => vec![],
    }
}

#[test]
fn money_is_read_exactly() {
    let loaded = load_str("t.toml", BASE, &[]).unwrap();
    let s = &loaded.scenario;
    assert_eq!(
        s.schemes[0].costs[0].amount,
        Decimal::from_str("121394.00").unwrap()
    );
    assert_eq!(
        s.schemes[0].costs[1].amount,
        Decimal::from_str("1200.10").unwrap()
    );
    assert_eq!(s.schemes[0].cost(), Decimal::from_str("122594.10").unwrap());
    assert_eq!(
        s.schemes[0].cost_stated(),
        Decimal::from_str("121200.10").unwrap()
    );
    assert_eq!(s.fund.pot, Decimal::from_str("1000000.05").unwrap());
    let warning = &s.warnings[0];
    assert_eq!(warning.key, "scheme.s.cost.0.stated");
    assert_eq!((warning.location.line, warning.location.column), (20, 12));
    assert!(
        warning.message.contains("£120,000.00")
            && warning.message.contains("£121,394.00")
            && warning.message.contains("£1,394.00")
    );
}

#[test]
fn defaults_follow_the_contract() {
    let s = load_str("t.toml", BASE, &[]).unwrap().scenario;
    assert_eq!((s.trials, s.seed), (100_000, 0));
    let m = &s.metrics[0];
    assert_eq!(
        (
            m.level.dist.clone(),
            m.growth.dist.clone(),
            m.unit_cost.dist.clone()
        ),
        (Dist::Fixed(1.0), Dist::Fixed(0.0), Dist::Fixed(0.0))
    );
    assert_eq!(m.seasonality, [1.0; 12]);
    let sc = &s.schemes[0];
    assert_eq!(sc.delivery.dist, Dist::Fixed(1.0));
    assert_eq!(sc.cost_if_undelivered, 1.0);
    assert_eq!((sc.start_month, sc.ramp_months), (0, 0));
    assert_eq!(sc.scale.dist, Dist::Fixed(1.0));
    assert_eq!(s.partners[0].label, "nhs");
    assert_eq!(s.tranches[0].conditions[0].weight, 1.0);
}

#[test]
fn set_changes_values_before_validation() {
    let sets = vec![
        "scheme.s.effect.nea={ dist = \"pert\", min = 0, mode = 0.01, max = 0.03 }".to_string(),
        "fund.pot=\"2000000\"".to_string(),
        "scheme.s.scale=2".to_string(),
    ];
    let s = load_str("t.toml", BASE, &sets).unwrap().scenario;
    assert!(matches!(
        s.schemes[0].effects[0].change.dist,
        Dist::Pert { .. }
    ));
    assert_eq!(s.fund.pot, Decimal::from(2_000_000));
    assert_eq!(s.schemes[0].scale.dist, Dist::Fixed(2.0));
}

#[test]
fn every_problem_is_reported_with_its_place() {
    let text = BASE
        .replace("baseline = 1200", "baseline = -5")
        .replace("nhs = 0.5, council = 0.5", "nhs = 0.5, council = 0.499")
        .replace("to = \"2015-06\"", "to = \"2016-06\"")
        .replace("rule = \"all_or_nothing\"", "rule = \"all_or_nothin\"");
    let e = errors(&text, &[]);
    let joined = e.join("\n");
    assert!(
        joined.contains("t.toml:12:12: error: `metric.nea.baseline`: baseline -5 is out of range"),
        "{joined}"
    );
    assert!(
        joined.contains("`scheme.s.funder`: shares sum to 0.999, not 1"),
        "{joined}"
    );
    assert!(
        joined.contains("`tranche.t.window.to`: 2016-06 is outside the horizon 2015-04 to 2016-03"),
        "{joined}"
    );
    assert!(
        joined.contains("unknown rule \"all_or_nothin\"")
            && joined.contains("did you mean \"all_or_nothing\"?"),
        "{joined}"
    );
    assert_eq!(e.len(), 4, "{joined}");
}

#[test]
fn bad_set_values_are_located_in_the_argument() {
    let e = errors(BASE, &["scheme.s.delivery=1.5"]);
    assert!(e[0].starts_with("--set scheme.s.delivery:1:1: error: `scheme.s.delivery`: a probability must lie in [0, 1]"), "{e:?}");
}

#[test]
fn cost_lines_may_have_their_own_funder() {
    let text = BASE
        .replace("funder = { nhs = 0.5, council = 0.5 }\n", "")
        .replace(
            "  item = \"social workers\"",
            "  item = \"social workers\"\n  funder = { council = 1.0 }",
        )
        .replace(
            "  item = \"float literal\"",
            "  item = \"float literal\"\n  funder = { nhs = 1.0 }",
        );
    let s = load_str("t.toml", &text, &[]).unwrap().scenario;
    let shares = s.schemes[0].funder_shares(2);
    // 1,200.10 of 122,594.10 is the NHS's.
    assert!(
        (shares[0] - 1200.10 / 122_594.10).abs() < 1e-12,
        "{shares:?}"
    );
    assert!((shares[0] + shares[1] - 1.0).abs() < 1e-12);
    let model = itfsim::model::compile(&s, 1).unwrap();
    let mut trial = itfsim::model::Trial::new(&model);
    model.simulate(0, &mut trial);
    assert_eq!(trial.partner_invest, vec![120_010, 12_139_400]);
    // Without any funder at all, the scheme's is required.
    let none = text.replace("  funder = { nhs = 1.0 }\n", "");
    let e = errors(&none, &[]);
    assert!(
        e.iter()
            .any(|m| m.contains("missing required key `funder` in `scheme.s`")),
        "{e:?}"
    );
}

#[test]
fn end_month_stops_the_effect() {
    let text = BASE.replace("  change = 0.01", "  change = 0.5").replace(
        "funder = { nhs = 0.5, council = 0.5 }",
        "funder = { nhs = 0.5, council = 0.5 }\nend_month = 3",
    );
    let s = load_str("t.toml", &text, &[]).unwrap().scenario;
    assert_eq!(s.schemes[0].end_month, Some(3));
    let sets = vec!["tranche.t.window={ from = \"2015-07\", to = \"2015-09\" }".to_string()];
    let s = load_str("t.toml", &text, &sets).unwrap().scenario;
    let model = itfsim::model::compile(&s, 1).unwrap();
    let mut trial = itfsim::model::Trial::new(&model);
    model.simulate(0, &mut trial);
    // Months 3..5 are after the scheme ended: expected activity is the baseline, 300.
    assert!(
        (trial.window_expected[0] - 300.0).abs() < 1e-9,
        "{}",
        trial.window_expected[0]
    );
    // Months 0..2 had half the activity: 150 avoided.
    assert!(
        (trial.metric_avoided[0] - 150.0).abs() < 1e-9,
        "{}",
        trial.metric_avoided[0]
    );
    let bad = text.replace("end_month = 3", "end_month = 0");
    assert!(
        errors(&bad, &[])
            .iter()
            .any(|m| m.contains("`scheme.s.end_month`"))
    );
}
