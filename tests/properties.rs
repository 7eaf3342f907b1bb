//! Property tests on generated valid scenarios: a proptest strategy writes small scenario
//! TOML texts (1-3 metrics of both kinds, 0-4 schemes, 1-3 tranches with mixed rules,
//! gates and event conditions) and each property is checked trial by trial through the
//! public pipeline (`scenario::load_str` -> `model::compile` -> `Model::simulate` /
//! `engine::run`). The invariants are MODEL.md's: paid within [0, pot]; a higher target
//! never pays more; a larger scheme effect never lowers P(met) of a count condition (the
//! Poisson draw is an exact inverse CDF, so this holds trial by trial); partners'
//! performance money sums to the pot; spend equals the exact budget when nothing can
//! change it; and results do not depend on the thread count. Case counts are modest so
//! the suite stays fast; a failing case is shrunk and printed as scenario text.
use itfsim::engine;
use itfsim::model::{self, Model, Trial};
use itfsim::output::{Results, RunInfo, json};
use itfsim::scenario::{self, Loaded};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use rust_decimal::Decimal;
use std::fmt::Write;

const TRIALS: u64 = 300;

#[derive(Clone, Debug)]
struct MetricSpec {
    count: bool,
    baseline: u32,
    proportion: u8,
    growth: bool,
    negative_binomial: bool,
    unit_cost: u16,
}

#[derive(Clone, Debug)]
struct SchemeSpec {
    nhs_quarters: u8,
    amount: u32,
    delivery: Option<u8>,
    overrun: bool,
    start_month: u8,
    ramp_months: u8,
    /// (metric index, change in thousandths, as a pert when true)
    effects: Vec<(usize, u8, bool)>,
}

#[derive(Clone, Debug)]
struct ConditionSpec {
    metric: usize,
    rule: u8,
    target_thousandths: u8,
    event: bool,
}

#[derive(Clone, Debug)]
struct TrancheSpec {
    from: u8,
    length: u8,
    gate_all: bool,
    conditions: Vec<ConditionSpec>,
}

#[derive(Clone, Debug)]
struct Spec {
    months: u8,
    pot: u32,
    released_nhs_quarters: u8,
    metrics: Vec<MetricSpec>,
    schemes: Vec<SchemeSpec>,
    tranches: Vec<TrancheSpec>,
    share_cuts: Vec<u8>,
}

fn metric_spec() -> impl Strategy<Value = MetricSpec> {
    (
        any::<bool>(),
        50u32..60_000,
        // Proportion baselines up to 0.91: with targets below 0.08 every target can be
        // met (baseline + target at most 1), as the reader requires.
        50u8..92,
        any::<bool>(),
        any::<bool>(),
        0u16..5000,
    )
        .prop_map(
            |(count, baseline, proportion, growth, negative_binomial, unit_cost)| MetricSpec {
                count,
                baseline,
                proportion,
                growth,
                negative_binomial,
                unit_cost,
            },
        )
}

fn scheme_spec() -> impl Strategy<Value = SchemeSpec> {
    (
        0u8..=4,
        0u32..2_000_000,
        prop::option::of(50u8..100),
        any::<bool>(),
        0u8..12,
        0u8..6,
        prop::collection::vec((0usize..3, 0u8..60, any::<bool>()), 0..3),
    )
        .prop_map(
            |(nhs_quarters, amount, delivery, overrun, start_month, ramp_months, effects)| {
                SchemeSpec {
                    nhs_quarters,
                    amount,
                    delivery,
                    overrun,
                    start_month,
                    ramp_months,
                    effects,
                }
            },
        )
}

fn tranche_spec() -> impl Strategy<Value = TrancheSpec> {
    (
        0u8..36,
        1u8..13,
        any::<bool>(),
        prop::collection::vec(
            (0usize..3, 0u8..4, 1u8..80, prop::bool::weighted(0.15)).prop_map(
                |(metric, rule, target_thousandths, event)| ConditionSpec {
                    metric,
                    rule,
                    target_thousandths,
                    event,
                },
            ),
            1..3,
        ),
    )
        .prop_map(|(from, length, gate_all, conditions)| TrancheSpec {
            from,
            length,
            gate_all,
            conditions,
        })
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        12u8..37,
        1_000u32..20_000_000,
        0u8..=4,
        prop::collection::vec(metric_spec(), 1..4),
        prop::collection::vec(scheme_spec(), 0..5),
        prop::collection::vec(tranche_spec(), 1..4),
        prop::collection::vec(1u8..100, 2),
    )
        .prop_map(
            |(months, pot, released_nhs_quarters, metrics, schemes, tranches, share_cuts)| Spec {
                months,
                pot,
                released_nhs_quarters,
                metrics,
                schemes,
                tranches,
                share_cuts,
            },
        )
}

fn month(index: usize) -> String {
    // The scenario starts in April 2014.
    let m = 3 + index;
    format!("{}-{:02}", 2014 + m / 12, m % 12 + 1)
}

fn quarters(q: u8) -> String {
    let nhs = f64::from(q) / 4.0;
    format!("{{ nhs = {nhs:?}, council = {:?} }}", 1.0 - nhs)
}

/// Exact decimal shares in hundredths summing to 1.
fn shares(n: usize, cuts: &[u8]) -> Vec<String> {
    let mut points: Vec<u32> = cuts.iter().take(n - 1).map(|&c| u32::from(c)).collect();
    points.sort_unstable();
    points.dedup();
    while points.len() < n - 1 {
        // Duplicate cuts: spread evenly instead.
        points = (1..n as u32).map(|k| k * 100 / n as u32).collect();
    }
    let mut out = Vec::new();
    let mut last = 0;
    for p in points.iter().chain(std::iter::once(&100)) {
        out.push(format!("{}", Decimal::new(i64::from(p - last), 2)));
        last = *p;
    }
    out
}

/// Writes the scenario text of a spec (always valid by construction).
fn render(s: &Spec) -> String {
    let months = usize::from(s.months);
    let mut t = String::new();
    writeln!(
        t,
        "[scenario]\nname = \"generated\"\nstart = \"2014-04\"\nmonths = {months}\nseed = 7\n"
    )
    .unwrap();
    writeln!(t, "[partners]\nnhs = {{}}\ncouncil = {{}}\n").unwrap();
    for (i, m) in s.metrics.iter().enumerate() {
        writeln!(t, "[[metric]]\nid = \"m{i}\"").unwrap();
        if m.count {
            writeln!(t, "kind = \"count\"\nbaseline = {}", m.baseline).unwrap();
            if m.growth {
                writeln!(
                    t,
                    "growth = {{ dist = \"normal\", mean = 0.02, sd = 0.01 }}"
                )
                .unwrap();
            }
            if m.negative_binomial {
                writeln!(
                    t,
                    "noise = {{ negative_binomial = {{ dispersion = 400 }} }}"
                )
                .unwrap();
            }
        } else {
            writeln!(
                t,
                "kind = \"proportion\"\nbaseline = 0.{:02}\ncohort = {}",
                m.proportion,
                120 + m.baseline % 2000
            )
            .unwrap();
        }
        writeln!(t, "unit_cost = {}\npayer = \"nhs\"\n", m.unit_cost).unwrap();
    }
    for (i, sc) in s.schemes.iter().enumerate() {
        writeln!(
            t,
            "[[scheme]]\nid = \"s{i}\"\nfunder = {}\nstart_month = {}\nramp_months = {}",
            quarters(sc.nhs_quarters),
            usize::from(sc.start_month) % months,
            sc.ramp_months
        )
        .unwrap();
        if let Some(d) = sc.delivery {
            writeln!(t, "delivery = 0.{d:02}").unwrap();
        }
        if sc.overrun {
            writeln!(
                t,
                "cost_overrun = {{ dist = \"pert\", min = 0.95, mode = 1.0, max = 1.3 }}"
            )
            .unwrap();
        }
        writeln!(
            t,
            "[[scheme.cost]]\nitem = \"line\"\nyear = \"2015/16\"\namount = \"{}.{:02}\"",
            sc.amount / 100,
            sc.amount % 100
        )
        .unwrap();
        let mut seen = Vec::new();
        for &(metric, change, pert) in &sc.effects {
            let metric = metric % s.metrics.len();
            if seen.contains(&metric) {
                continue;
            }
            seen.push(metric);
            let c = f64::from(change) / 1000.0;
            let change = if pert {
                format!(
                    "{{ dist = \"pert\", min = 0.0, mode = {c:?}, max = {:?} }}",
                    c + 0.01
                )
            } else {
                format!("{c:?}")
            };
            writeln!(
                t,
                "[[scheme.effect]]\nmetric = \"m{metric}\"\nchange = {change}"
            )
            .unwrap();
        }
        writeln!(t).unwrap();
    }
    writeln!(
        t,
        "[fund]\npot = \"{}\"\nreleased_to = {}\nunreleased_to = {{ nhs = 1.0 }}\n",
        s.pot,
        quarters(s.released_nhs_quarters)
    )
    .unwrap();
    let tranche_shares = shares(s.tranches.len(), &s.share_cuts);
    for (i, tr) in s.tranches.iter().enumerate() {
        let from = usize::from(tr.from) % months;
        let to = (from + usize::from(tr.length) - 1).min(months - 1);
        writeln!(
            t,
            "[[tranche]]\nid = \"t{i}\"\nshare = \"{}\"\nwindow = {{ from = \"{}\", to = \"{}\" }}\ngate = \"{}\"",
            tranche_shares[i],
            month(from),
            month(to),
            if tr.gate_all { "all" } else { "weighted" }
        )
        .unwrap();
        let mut seen = Vec::new();
        let mut conditions = Vec::new();
        for c in &tr.conditions {
            let metric = c.metric % s.metrics.len();
            if !c.event && !seen.contains(&metric) {
                seen.push(metric);
                conditions.push((Some(metric), c));
            } else if c.event && !conditions.iter().any(|(m, _)| m.is_none()) {
                conditions.push((None, c));
            }
        }
        let weight = if conditions.len() == 1 { 1.0 } else { 0.5 };
        for (metric, c) in conditions {
            writeln!(t, "[[tranche.condition]]\nweight = {weight:?}").unwrap();
            let Some(metric) = metric else {
                writeln!(
                    t,
                    "event = \"national\"\nprobability = 0.{:02}",
                    c.target_thousandths
                )
                .unwrap();
                continue;
            };
            let target = f64::from(c.target_thousandths) / 1000.0;
            writeln!(t, "metric = \"m{metric}\"\ntarget = {target:?}").unwrap();
            match c.rule {
                0 => writeln!(t, "rule = \"all_or_nothing\"").unwrap(),
                1 => writeln!(t, "rule = \"proportional\"\nfloor = 0.5").unwrap(),
                2 => writeln!(t, "rule = \"banded\"\nbands = [[0.5, 0.25], [1.0, 1.0]]").unwrap(),
                _ => writeln!(t, "rule = \"per_unit\"\nrate = \"1490\"").unwrap(),
            }
        }
        writeln!(t).unwrap();
    }
    t
}

fn load(text: &str, sets: &[String]) -> Result<(Loaded, Model), TestCaseError> {
    let loaded = scenario::load_str("generated.toml", text, sets)
        .map_err(|e| TestCaseError::fail(format!("generated scenario refused: {e}\n{text}")))?;
    let model = model::compile(&loaded.scenario, loaded.scenario.seed)
        .map_err(|e| TestCaseError::fail(format!("compile failed: {e}")))?;
    Ok((loaded, model))
}

/// Runs every trial, handing each to `check`.
fn each_trial(
    model: &Model,
    mut check: impl FnMut(u64, &Trial) -> Result<(), TestCaseError>,
) -> Result<(), TestCaseError> {
    let mut t = Trial::new(model);
    for i in 0..TRIALS {
        model.simulate(i, &mut t);
        prop_assert!(t.overflow.is_none(), "overflow in trial {i}");
        check(i, &t)?;
    }
    Ok(())
}

/// Every trial's (total paid, per-condition met) of a model.
fn outcomes(model: &Model) -> Vec<(i64, Vec<bool>)> {
    let mut t = Trial::new(model);
    (0..TRIALS)
        .map(|i| {
            model.simulate(i, &mut t);
            (t.total_paid, t.condition_met.clone())
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn paid_is_within_the_pot_and_each_tranche_within_its_amount(s in spec()) {
        let (_, model) = load(&render(&s), &[])?;
        each_trial(&model, |i, t| {
            prop_assert!((0..=model.pot).contains(&t.total_paid), "trial {i}: paid {}", t.total_paid);
            for (k, tranche) in model.tranches.iter().enumerate() {
                prop_assert!((0..=tranche.amount).contains(&t.tranche_paid[k]));
            }
            prop_assert_eq!(t.tranche_paid.iter().sum::<i64>(), t.total_paid);
            Ok(())
        })?;
    }

    #[test]
    fn partners_performance_money_sums_to_the_pot(s in spec()) {
        let (_, model) = load(&render(&s), &[])?;
        each_trial(&model, |i, t| {
            prop_assert_eq!(t.partner_performance.iter().sum::<i64>(), model.pot, "trial {}", i);
            Ok(())
        })?;
    }

    #[test]
    fn raising_a_target_never_pays_more(s in spec(), which in any::<prop::sample::Index>(), factor in 1.01f64..3.0) {
        let text = render(&s);
        let (loaded, low) = load(&text, &[])?;
        // Metric conditions with a target, by path.
        let mut targets = Vec::new();
        for tr in &loaded.scenario.tranches {
            for c in &tr.conditions {
                if let scenario::ConditionKind::Metric { target: Some(p), .. } = &c.kind {
                    targets.push(p.path.clone());
                }
            }
        }
        prop_assume!(!targets.is_empty());
        let path = which.get(&targets);
        let (old, metric) = loaded.scenario.tranches.iter().flat_map(|t| &t.conditions).find_map(|c| match &c.kind {
            scenario::ConditionKind::Metric { target: Some(p), metric, .. } if &p.path == path => Some((p.dist.clone(), &loaded.scenario.metrics[*metric])),
            _ => None,
        }).unwrap();
        let itfsim::dist::Dist::Fixed(old) = old else { unreachable!("generated targets are fixed") };
        // Raised at most to the most a target can ask (the reader refuses more): all
        // activity gone for a count, a proportion of 1.
        let most = match metric.kind {
            scenario::MetricKind::Count => 1.0,
            scenario::MetricKind::Proportion => 1.0 - metric.baseline,
        };
        let raised = (old * factor).min(most);
        prop_assume!(raised > old);
        let (_, high) = load(&text, &[format!("{path}={raised:?}")])?;
        let (a, b) = (outcomes(&low), outcomes(&high));
        let (mut sum_a, mut sum_b) = (0i64, 0i64);
        for (i, ((pa, _), (pb, _))) in a.iter().zip(&b).enumerate() {
            prop_assert!(pb <= pa, "trial {i}: target x{factor} paid {pb} > {pa} ({path})");
            sum_a += pa;
            sum_b += pb;
        }
        prop_assert!(sum_b <= sum_a);
    }

    #[test]
    fn a_larger_scheme_effect_never_lowers_p_met_of_a_count_condition(s in spec(), which in any::<prop::sample::Index>(), scale in 1.05f64..4.0) {
        let text = render(&s);
        let (loaded, low) = load(&text, &[])?;
        let schemes: Vec<&str> = loaded.scenario.schemes.iter().map(|x| x.id.as_str()).collect();
        prop_assume!(!schemes.is_empty());
        let scheme = which.get(&schemes);
        // scale multiplies the effect (returns = 1); every generated change is >= 0.
        let (_, high) = load(&text, &[format!("scheme.{scheme}.scale={scale:?}")])?;
        let count_condition: Vec<bool> = low.tranches.iter().flat_map(|tr| &tr.conditions).map(|(c, _)| match c {
            model::CondModel::Metric { window, .. } => {
                low.metrics[low.windows[*window].metric].kind == scenario::MetricKind::Count
            }
            _ => false,
        }).collect();
        let (a, b) = (outcomes(&low), outcomes(&high));
        for (c, is_count) in count_condition.iter().enumerate() {
            if !is_count { continue; }
            let met_low = a.iter().filter(|(_, m)| m[c]).count();
            let met_high = b.iter().filter(|(_, m)| m[c]).count();
            for (i, ((_, ma), (_, mb))) in a.iter().zip(&b).enumerate() {
                prop_assert!(!ma[c] || mb[c], "trial {i}: condition {c} met at scale 1, not at {scale}");
            }
            prop_assert!(met_high >= met_low);
        }
    }

    #[test]
    fn spend_is_the_exact_budget_when_delivered_without_overrun(s in spec()) {
        let (loaded, model) = load(&render(&s), &[])?;
        each_trial(&model, |i, t| {
            let mut expected_total = 0i64;
            let mut fixed_total = true;
            for (k, sc) in loaded.scenario.schemes.iter().enumerate() {
                let exact = (sc.cost() * Decimal::ONE_HUNDRED).round_dp_with_strategy(0, rust_decimal::RoundingStrategy::MidpointNearestEven);
                let exact = i64::try_from(exact.mantissa()).unwrap();
                let certain = s.schemes[k].delivery.is_none() && !s.schemes[k].overrun;
                if certain {
                    prop_assert_eq!(t.scheme_invest[k], exact, "trial {}: scheme {}", i, k);
                    expected_total += exact;
                } else {
                    fixed_total = false;
                }
            }
            if fixed_total {
                prop_assert_eq!(t.partner_invest.iter().sum::<i64>(), expected_total);
            }
            Ok(())
        })?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn results_are_identical_on_one_and_two_threads(s in spec()) {
        let (loaded, model) = load(&render(&s), &[])?;
        // Over two chunks, so the two threads really split the work.
        let render_json = |threads: usize| {
            let acc = engine::run(&model, 0..2100, threads).unwrap();
            let info = RunInfo { trials: 2100, seed: 7, sampling: "mc".into(), threads: 1, elapsed_s: 0.0 };
            json::to_bytes(&Results::new(&loaded, &model, &acc, info, Vec::new()))
        };
        let one = render_json(1);
        let two = render_json(2);
        prop_assert!(one == two, "1 and 2 threads differ");
    }
}

#[test]
fn the_generator_writes_valid_scenarios() {
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    for _ in 0..200 {
        let s = spec().new_tree(&mut runner).unwrap().current();
        let text = render(&s);
        if let Err(e) = scenario::load_str("generated.toml", &text, &[]) {
            panic!("{e}\n{text}");
        }
    }
}
