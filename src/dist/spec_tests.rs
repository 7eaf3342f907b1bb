//! Tests for `Dist::build`: a table of invalid specs with the key and message
//! each must produce, parameter conversions, hints, and means/supports.

use super::*;

fn keys(f: impl FnOnce(&mut DistKeys)) -> DistKeys {
    let mut k = DistKeys::default();
    f(&mut k);
    k
}

#[test]
fn invalid_specs_name_the_key() {
    let nan = f64::NAN;
    let inf = f64::INFINITY;
    let u = |min, max| keys(|k| (k.min, k.max) = (Some(min), Some(max)));
    let three =
        |min, mode, max| keys(|k| (k.min, k.mode, k.max) = (Some(min), Some(mode), Some(max)));
    let ms = |mean, sd| keys(|k| (k.mean, k.sd) = (Some(mean), Some(sd)));
    let pp = |p10, p90| keys(|k| (k.p10, k.p90) = (Some(p10), Some(p90)));
    let disc = |v: Vec<f64>, w: Vec<f64>| keys(|k| (k.values, k.weights) = (Some(v), Some(w)));
    let cases: Vec<(&str, DistKeys, &str, &str)> = vec![
        (
            "uniform",
            u(5.0, 3.0),
            "min",
            "min (5) must be less than max (3)",
        ),
        ("uniform", u(3.0, 3.0), "min", "must be less than"),
        ("uniform", u(nan, 3.0), "min", "not a finite number"),
        ("uniform", u(0.0, inf), "max", "inf, not a finite number"),
        ("uniform", keys(|k| k.min = Some(1.0)), "max", "needs `max`"),
        (
            "triangular",
            three(0.0, 5.0, 4.0),
            "mode",
            "mode (5) must lie between",
        ),
        (
            "triangular",
            three(4.0, 4.0, 4.0),
            "min",
            "must be less than",
        ),
        (
            "triangular",
            keys(|k| (k.min, k.max) = (Some(0.0), Some(1.0))),
            "mode",
            "needs `mode`",
        ),
        (
            "pert",
            keys(|k| {
                (k.min, k.mode, k.max, k.lambda) = (Some(0.0), Some(1.0), Some(2.0), Some(0.0))
            }),
            "lambda",
            "greater than 0",
        ),
        ("pert", three(2.0, 1.0, 0.0), "min", "must be less than"),
        ("normal", ms(1.0, 0.0), "sd", "sd is 0"),
        ("normal", ms(1.0, -2.0), "sd", "greater than 0"),
        ("normal", ms(nan, 1.0), "mean", "not a finite number"),
        (
            "normal",
            keys(|k| (k.mean, k.sd, k.p10, k.p90) = (Some(0.0), Some(1.0), Some(-1.0), Some(1.0))),
            "p10",
            "both mean/sd and p10/p90",
        ),
        (
            "normal",
            DistKeys::default(),
            "mean",
            "needs mean and sd, or p10 and p90",
        ),
        ("normal", keys(|k| k.mean = Some(1.0)), "sd", "needs `sd`"),
        ("normal", keys(|k| k.p10 = Some(1.0)), "p90", "needs `p90`"),
        (
            "normal",
            pp(2.0, 2.0),
            "p90",
            "p10 (2) must be less than p90 (2)",
        ),
        (
            "normal",
            keys(|k| (k.mean, k.sd, k.min, k.max) = (Some(0.0), Some(1.0), Some(1.0), Some(0.5))),
            "min",
            "truncation min (1) must be less than max (0.5)",
        ),
        // The share kept, readable: P(Z > 8) = 6.2e-16; none where it underflows.
        (
            "normal",
            keys(|k| (k.mean, k.sd, k.min) = (Some(0.0), Some(1.0), Some(8.0))),
            "min",
            "keeps only 6.2e-16 of its probability",
        ),
        (
            "normal",
            keys(|k| (k.mean, k.sd, k.min, k.max) = (Some(0.0), Some(0.001), Some(0.5), Some(0.6))),
            "min",
            "keeps none of its probability",
        ),
        (
            "normal",
            keys(|k| (k.mean, k.sd, k.max) = (Some(0.0), Some(1.0), Some(-8.0))),
            "max",
            "keeps only",
        ),
        ("lognormal", ms(0.0, 1.0), "mean", "greater than 0"),
        ("lognormal", pp(-1.0, 3.0), "p10", "greater than 0"),
        (
            "lognormal",
            keys(|k| (k.mean, k.sd, k.min) = (Some(1.0), Some(1.0), Some(0.0))),
            "min",
            "only normal can be truncated",
        ),
        ("beta", ms(1.2, 0.1), "mean", "strictly between 0 and 1"),
        ("beta", ms(0.0, 0.1), "mean", "strictly between 0 and 1"),
        (
            "beta",
            ms(0.5, 0.5),
            "sd",
            "sd^2 must be below m(1-m) = 0.25",
        ),
        ("beta", pp(0.1, 0.2), "p10", "not a key of a beta"),
        ("gamma", ms(-3.0, 1.0), "mean", "greater than 0"),
        ("gamma", ms(3.0, 0.0), "sd", "greater than 0"),
        (
            "bernoulli",
            keys(|k| k.p = Some(1.5)),
            "p",
            "must lie in [0, 1]",
        ),
        (
            "bernoulli",
            keys(|k| k.p = Some(-0.0001)),
            "p",
            "must lie in [0, 1]",
        ),
        (
            "bernoulli",
            keys(|k| k.p = Some(nan)),
            "p",
            "not a finite number",
        ),
        ("bernoulli", DistKeys::default(), "p", "needs `p`"),
        (
            "discrete",
            disc(vec![], vec![]),
            "values",
            "at least one value",
        ),
        (
            "discrete",
            disc(vec![1.0, 2.0], vec![1.0]),
            "weights",
            "2 values but 1 weights",
        ),
        (
            "discrete",
            disc(vec![1.0, 2.0], vec![1.5, -0.5]),
            "weights",
            "weight -0.5 is not a finite number >= 0",
        ),
        (
            "discrete",
            disc(vec![1.0, 2.0], vec![0.5, 0.4]),
            "weights",
            "weights sum to 0.9",
        ),
        (
            "discrete",
            disc(vec![1.0, nan], vec![0.5, 0.5]),
            "values",
            "not a finite number",
        ),
        (
            "discrete",
            keys(|k| k.values = Some(vec![1.0])),
            "weights",
            "needs `weights`",
        ),
        ("product", DistKeys::default(), "of", "needs `of`"),
        (
            "product",
            keys(|k| k.of = Some(vec![Dist::Fixed(1.0)])),
            "of",
            "at least 2 factors, got 1",
        ),
        (
            "normal",
            keys(|k| (k.mean, k.sd, k.lambda) = (Some(0.0), Some(1.0), Some(2.0))),
            "lambda",
            "not a key of a normal",
        ),
        (
            "gaussian",
            ms(0.0, 1.0),
            "dist",
            "unknown distribution \"gaussian\"",
        ),
    ];
    for (kind, spec, key, fragment) in cases {
        let errors = Dist::build(kind, &spec).expect_err(&format!("{kind} {spec:?} should fail"));
        assert!(
            errors
                .iter()
                .any(|e| e.key == key && e.message.contains(fragment)),
            "{kind} {spec:?}: expected key {key} with {fragment:?}, got {errors:?}"
        );
        assert!(errors.iter().all(|e| !e.hint.is_empty()));
    }
}

#[test]
fn every_problem_is_reported() {
    let spec = keys(|k| {
        (k.mean, k.sd, k.min, k.lambda) = (Some(f64::NAN), Some(-1.0), Some(0.0), Some(1.0))
    });
    let errors = Dist::build("gamma", &spec).unwrap_err();
    let keys: Vec<&str> = errors.iter().map(|e| e.key).collect();
    for key in ["min", "lambda", "mean", "sd"] {
        assert!(keys.contains(&key), "{keys:?} lacks {key}");
    }
    let spec = keys_pair();
    let errors = Dist::build("uniform", &spec).unwrap_err();
    assert_eq!(errors.len(), 2, "{errors:?}");
}

fn keys_pair() -> DistKeys {
    keys(|k| (k.min, k.max) = (Some(f64::NAN), Some(f64::NEG_INFINITY)))
}

#[test]
fn unknown_names_get_a_suggestion() {
    let error = &Dist::build("trianglar", &DistKeys::default()).unwrap_err()[0];
    assert_eq!(error.key, "dist");
    assert!(
        error.hint.contains("did you mean \"triangular\""),
        "{}",
        error.hint
    );
    let error = &Dist::build("weibull", &DistKeys::default()).unwrap_err()[0];
    assert!(!error.hint.contains("did you mean"));
    assert!(error.hint.contains("uniform, triangular, pert"));
    assert!(allowed_keys("weibull").is_none());
    for name in DIST_NAMES {
        assert!(allowed_keys(name).is_some());
    }
    assert_eq!(
        allowed_keys("normal"),
        Some(&["mean", "sd", "p10", "p90", "min", "max"][..])
    );
    assert!(!allowed_keys("lognormal").unwrap().contains(&"min"));
}

#[test]
fn parameterisations_convert_per_model() {
    let z = crate::dist::normal_quantile(0.9);
    let d = Dist::build(
        "normal",
        &keys(|k| (k.p10, k.p90) = (Some(10.0), Some(20.0))),
    )
    .unwrap();
    assert_eq!(
        d,
        Dist::Normal {
            mean: 15.0,
            sd: 10.0 / (2.0 * z),
            min: None,
            max: None
        }
    );
    let Dist::LogNormal { mu, sigma } = Dist::build(
        "lognormal",
        &keys(|k| (k.mean, k.sd) = (Some(100.0), Some(30.0))),
    )
    .unwrap() else {
        panic!()
    };
    let s2 = (1.0f64 + 0.09).ln();
    assert!((sigma * sigma - s2).abs() < 1e-15 && (mu - (100f64.ln() - s2 / 2.0)).abs() < 1e-14);
    let Dist::Beta { alpha, beta } =
        Dist::build("beta", &keys(|k| (k.mean, k.sd) = (Some(0.3), Some(0.1)))).unwrap()
    else {
        panic!()
    };
    assert!((alpha + beta - 20.0).abs() < 1e-12 && (alpha / (alpha + beta) - 0.3).abs() < 1e-15);
    let Dist::Gamma { shape, scale } =
        Dist::build("gamma", &keys(|k| (k.mean, k.sd) = (Some(5.0), Some(2.0)))).unwrap()
    else {
        panic!()
    };
    assert!((shape - 6.25).abs() < 1e-12 && (scale - 0.8).abs() < 1e-15);
    let pert = Dist::build(
        "pert",
        &keys(|k| (k.min, k.mode, k.max) = (Some(0.0), Some(0.01), Some(0.03))),
    )
    .unwrap();
    assert_eq!(
        pert,
        Dist::Pert {
            min: 0.0,
            mode: 0.01,
            max: 0.03,
            lambda: 4.0
        }
    );
    assert!((pert.mean() - 0.07 / 6.0).abs() < 1e-15);
    let merged = Dist::build(
        "discrete",
        &keys(|k| (k.values, k.weights) = (Some(vec![2.0, 1.0, 2.0]), Some(vec![0.25, 0.5, 0.25]))),
    )
    .unwrap();
    assert_eq!(
        merged,
        Dist::Discrete {
            values: vec![1.0, 2.0],
            weights: vec![0.5, 0.5]
        }
    );
    let product = Dist::build(
        "product",
        &keys(|k| k.of = Some(vec![Dist::Fixed(3.0), merged])),
    )
    .unwrap();
    assert_eq!(product.mean(), 4.5);
}

#[test]
fn supports_and_fixed() {
    assert_eq!(Dist::Fixed(2.0).support(), (2.0, 2.0));
    assert!(Dist::Fixed(2.0).is_fixed() && !Dist::Bernoulli { p: 0.5 }.is_fixed());
    assert_eq!(
        Dist::Beta {
            alpha: 2.0,
            beta: 3.0
        }
        .support(),
        (0.0, 1.0)
    );
    assert_eq!(Dist::Bernoulli { p: 0.0 }.support(), (0.0, 0.0));
    assert_eq!(
        Dist::Normal {
            mean: 0.0,
            sd: 1.0,
            min: Some(0.0),
            max: None
        }
        .support(),
        (0.0, f64::INFINITY)
    );
    let d = Dist::Discrete {
        values: vec![1.0, 2.0, 3.0],
        weights: vec![0.0, 1.0, 0.0],
    };
    assert_eq!(d.support(), (2.0, 2.0));
    let p = Dist::Product(vec![
        Dist::Uniform {
            min: -1.0,
            max: 2.0,
        },
        Dist::Uniform { min: 3.0, max: 4.0 },
    ]);
    assert_eq!(p.support(), (-4.0, 8.0));
    let g = Dist::Product(vec![
        Dist::Gamma {
            shape: 2.0,
            scale: 1.0,
        },
        Dist::Beta {
            alpha: 1.0,
            beta: 1.0,
        },
    ]);
    assert_eq!(g.support(), (0.0, f64::INFINITY));
    // truncated mean: half-normal
    let half = Dist::Normal {
        mean: 0.0,
        sd: 1.0,
        min: Some(0.0),
        max: None,
    };
    assert!((half.mean() - (2.0 / std::f64::consts::PI).sqrt()).abs() < 1e-15);
}
