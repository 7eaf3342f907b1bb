//! Tests for compiled samplers: table accuracy against statrs' exact CDFs, means
//! over a deterministic u grid against `Dist::mean`, percentile round trips,
//! truncation, monotonicity, support and behaviour at awkward uniforms.

use super::*;
use crate::dist::GammaUnit;
use crate::dist::spec::DistKeys;
use statrs::distribution::{Beta, ContinuousCDF, Gamma};

fn build(kind: &str, keys: DistKeys) -> Dist {
    Dist::build(kind, &keys).unwrap_or_else(|e| panic!("{kind}: {e:?}"))
}

/// u values for accuracy checks, including deep tails.
fn accuracy_us() -> Vec<f64> {
    let mut us: Vec<f64> = (1..4_000).map(|i| i as f64 / 4_000.0).collect();
    for e in 1..=15 {
        let t = 10f64.powi(-e);
        us.extend([t, 3.0 * t, 1.0 - t, 1.0 - 3.0 * t]);
    }
    us.extend([1e-6, 1.0 - 1e-6, 1e-300, f64::MIN_POSITIVE]);
    us
}

fn awkward_us() -> [f64; 10] {
    [
        0.0,
        1.0,
        1e-300,
        1.0 - 1e-16,
        f64::NAN,
        -1.0,
        2.0,
        f64::INFINITY,
        f64::NEG_INFINITY,
        0.5,
    ]
}

/// Midpoint-rule mean over a fine u grid.
fn grid_mean(q: &Quantile, n: usize) -> f64 {
    (0..n)
        .map(|i| q.value(&[(i as f64 + 0.5) / n as f64]))
        .sum::<f64>()
        / n as f64
}

fn sample_dists() -> Vec<Dist> {
    let keys = |f: &dyn Fn(&mut DistKeys)| {
        let mut k = DistKeys::default();
        f(&mut k);
        k
    };
    vec![
        Dist::Fixed(2.5),
        build(
            "uniform",
            keys(&|k| (k.min, k.max) = (Some(-1.0), Some(3.0))),
        ),
        build(
            "triangular",
            keys(&|k| (k.min, k.mode, k.max) = (Some(1490.0), Some(2000.0), Some(8000.0))),
        ),
        build(
            "triangular",
            keys(&|k| (k.min, k.mode, k.max) = (Some(0.0), Some(0.0), Some(1.0))),
        ),
        build(
            "pert",
            keys(&|k| (k.min, k.mode, k.max) = (Some(0.95), Some(1.0), Some(1.25))),
        ),
        build(
            "pert",
            keys(&|k| {
                (k.min, k.mode, k.max, k.lambda) = (Some(0.0), Some(0.01), Some(0.03), Some(2.0))
            }),
        ),
        build(
            "normal",
            keys(&|k| (k.mean, k.sd) = (Some(0.025), Some(0.01))),
        ),
        build(
            "normal",
            keys(&|k| (k.mean, k.sd, k.min) = (Some(0.02), Some(0.01), Some(0.0))),
        ),
        build(
            "normal",
            keys(&|k| (k.mean, k.sd, k.min, k.max) = (Some(0.0), Some(1.0), Some(5.0), Some(6.0))),
        ),
        build(
            "normal",
            keys(&|k| {
                (k.mean, k.sd, k.min, k.max) = (Some(0.0), Some(1.0), Some(-6.0), Some(-5.5))
            }),
        ),
        build(
            "normal",
            keys(&|k| (k.p10, k.p90, k.max) = (Some(10.0), Some(20.0), Some(18.0))),
        ),
        build(
            "lognormal",
            keys(&|k| (k.mean, k.sd) = (Some(100.0), Some(30.0))),
        ),
        build(
            "lognormal",
            keys(&|k| (k.p10, k.p90) = (Some(2.0), Some(9.0))),
        ),
        build("beta", keys(&|k| (k.mean, k.sd) = (Some(0.3), Some(0.1)))),
        build("gamma", keys(&|k| (k.mean, k.sd) = (Some(5.0), Some(2.0)))),
        build("gamma", keys(&|k| (k.mean, k.sd) = (Some(1.0), Some(1.4)))),
        build("bernoulli", keys(&|k| k.p = Some(0.47))),
        build(
            "discrete",
            keys(&|k| {
                (k.values, k.weights) = (
                    Some(vec![3.0, 1.0, 2.0, 1.0]),
                    Some(vec![0.4, 0.2, 0.3, 0.1]),
                )
            }),
        ),
        Dist::Product(vec![
            build(
                "uniform",
                keys(&|k| (k.min, k.max) = (Some(100.0), Some(200.0))),
            ),
            build(
                "pert",
                keys(&|k| (k.min, k.mode, k.max) = (Some(2.0), Some(6.0), Some(20.0))),
            ),
        ]),
    ]
}

#[test]
fn beta_tables_invert_the_exact_cdf() {
    let shapes = [0.6, 1.0, 2.5, 30.0];
    for &a in &shapes {
        for &b in &shapes {
            let q = Dist::Beta { alpha: a, beta: b }.compile();
            let exact = Beta::new(a, b).unwrap();
            for u in accuracy_us() {
                let x = q.value(&[u]);
                assert!((0.0..=1.0).contains(&x), "beta({a},{b}) u {u} x {x}");
                let err = (exact.cdf(x) - u).abs();
                assert!(err < 1e-5, "beta({a},{b}) u {u} x {x} err {err}");
            }
        }
    }
}

#[test]
fn pert_tables_invert_the_exact_cdf() {
    for &(min, mode, max, lambda) in &[
        (0.0, 0.01, 0.03, 4.0),
        (0.95, 1.0, 1.25, 4.0),
        (10.0, 10.0, 50.0, 4.0),
        (0.0, 0.9, 1.0, 1.5),
        (-3.0, -2.9, 7.0, 12.0),
    ] {
        let dist = Dist::Pert {
            min,
            mode,
            max,
            lambda,
        };
        let q = dist.compile();
        let w = max - min;
        let exact = Beta::new(
            1.0 + lambda * (mode - min) / w,
            1.0 + lambda * (max - mode) / w,
        )
        .unwrap();
        for u in accuracy_us() {
            let x = q.value(&[u]);
            assert!(x >= min && x <= max);
            let err = (exact.cdf((x - min) / w) - u).abs();
            assert!(err < 1e-5, "pert({min},{mode},{max}) u {u} err {err}");
        }
    }
}

#[test]
fn gamma_tables_invert_the_exact_cdf() {
    for &shape in &[0.05, 0.5, 1.0, 2.0, 300.0, 1e5, 3e6] {
        let unit = GammaUnit::new(shape);
        let scaled = Dist::Gamma { shape, scale: 2.5 }.compile();
        let exact = Gamma::new(shape, 1.0).unwrap();
        for u in accuracy_us() {
            let x = unit.value(u);
            assert!(x >= 0.0 && x.is_finite(), "shape {shape} u {u} x {x}");
            let err = (exact.cdf(x) - u).abs();
            assert!(err < 1e-5, "gamma {shape} u {u} x {x} err {err}");
            let y = scaled.value(&[u]);
            assert!((y - 2.5 * x).abs() <= 1e-12 * y.abs());
        }
    }
}

#[test]
fn gamma_unit_sanitises_shape_and_u() {
    for shape in [f64::NAN, -1.0, 0.0, f64::INFINITY] {
        let unit = GammaUnit::new(shape);
        for u in awkward_us() {
            assert!(!unit.value(u).is_nan());
        }
    }
}

#[test]
fn grid_means_match_closed_forms() {
    for dist in sample_dists() {
        let q = dist.compile();
        if q.uniforms() != 1 {
            continue;
        }
        let got = grid_mean(&q, 200_000);
        let want = dist.mean();
        let tolerance = match dist {
            Dist::LogNormal { .. } | Dist::Gamma { .. } => 2e-4,
            Dist::Bernoulli { .. } | Dist::Discrete { .. } => 1e-5,
            _ => 1e-6,
        };
        assert!(
            (got - want).abs() <= tolerance * want.abs().max(1.0),
            "{dist:?}: grid mean {got}, closed form {want}"
        );
    }
}

#[test]
fn product_mean_is_product_of_factor_means() {
    let dist = sample_dists().pop().unwrap();
    let q = dist.compile();
    assert_eq!(q.uniforms(), 2);
    let n = 600;
    let mut total = 0.0;
    for i in 0..n {
        for j in 0..n {
            total += q.value(&[(i as f64 + 0.5) / n as f64, (j as f64 + 0.5) / n as f64]);
        }
    }
    let got = total / (n * n) as f64;
    assert!(
        (got / dist.mean() - 1.0).abs() < 1e-4,
        "{got} vs {}",
        dist.mean()
    );
    let nested = Dist::Product(vec![
        dist.clone(),
        Dist::Fixed(2.0),
        Dist::Bernoulli { p: 0.5 },
    ]);
    assert_eq!(nested.compile().uniforms(), 4);
    // the first uniform drives the first factor
    let first = dist.compile();
    assert_eq!(first.value(&[0.3, 0.8]), {
        let Dist::Product(f) = &dist else {
            unreachable!()
        };
        f[0].compile().value(&[0.3]) * f[1].compile().value(&[0.8])
    });
}

#[test]
fn percentile_parameterisations_round_trip() {
    let mut keys = DistKeys {
        p10: Some(10.0),
        p90: Some(20.0),
        ..DistKeys::default()
    };
    let normal = Dist::build("normal", &keys).unwrap().compile();
    assert!((normal.value(&[0.1]) - 10.0).abs() < 1e-9);
    assert!((normal.value(&[0.9]) - 20.0).abs() < 1e-9);
    keys.p10 = Some(0.002);
    keys.p90 = Some(0.05);
    let lognormal = Dist::build("lognormal", &keys).unwrap().compile();
    assert!((lognormal.value(&[0.1]) - 0.002).abs() < 1e-9 * 0.002);
    assert!((lognormal.value(&[0.9]) - 0.05).abs() < 1e-9 * 0.05);
}

#[test]
fn truncated_normals_stay_inside_their_bounds() {
    for dist in sample_dists() {
        let Dist::Normal { min, max, .. } = dist else {
            continue;
        };
        let q = dist.compile();
        let lo = min.unwrap_or(f64::NEG_INFINITY);
        let hi = max.unwrap_or(f64::INFINITY);
        for i in 0..=10_000 {
            let x = q.value(&[i as f64 / 10_000.0]);
            assert!(x >= lo && x <= hi, "{dist:?} gives {x}");
        }
        if let (Some(lo), Some(hi)) = (min, max) {
            assert!((q.value(&[0.0]) - lo).abs() < 1e-6 * (hi - lo));
            assert!((q.value(&[1.0]) - hi).abs() < 1e-6 * (hi - lo));
        }
    }
    // truncation is not clipping: no atom at the bound
    let dist = Dist::Normal {
        mean: 0.0,
        sd: 1.0,
        min: Some(0.0),
        max: None,
    };
    let q = dist.compile();
    assert!(q.value(&[0.01]) > 0.0);
    assert!((q.value(&[0.5]) - normal_quantile(0.75)).abs() < 1e-12);
}

#[test]
fn values_are_monotone_in_u_and_inside_the_support() {
    for dist in sample_dists() {
        let q = dist.compile();
        if q.uniforms() != 1 {
            continue;
        }
        let (lo, hi) = dist.support();
        let mut us = accuracy_us();
        us.extend([0.0, 1.0]);
        us.sort_by(f64::total_cmp);
        let mut prev = f64::NEG_INFINITY;
        for u in us {
            let x = q.value(&[u]);
            // Phi^-1 itself is monotone only to within an ulp or so.
            let slack = 4.0 * f64::EPSILON * prev.abs();
            assert!(
                x >= prev - slack,
                "{dist:?} not monotone at u {u}: {x} < {prev}"
            );
            assert!(
                x >= lo && x <= hi,
                "{dist:?} at u {u}: {x} outside [{lo}, {hi}]"
            );
            prev = x;
        }
    }
}

#[test]
fn awkward_uniforms_never_give_nan() {
    for dist in sample_dists() {
        let q = dist.compile();
        for u in awkward_us() {
            for v in awkward_us() {
                let x = q.value(&[u, v]);
                assert!(
                    !x.is_nan() && x.is_finite(),
                    "{dist:?} at ({u}, {v}) gives {x}"
                );
            }
            assert!(!q.value(&[]).is_nan());
            assert!(!q.value(&[u]).is_nan());
        }
    }
}

#[test]
fn bernoulli_and_discrete_follow_the_inverse_cdf() {
    let b = Dist::Bernoulli { p: 0.3 }.compile();
    assert_eq!(b.value(&[0.7]), 1.0);
    assert_eq!(b.value(&[0.699_999]), 0.0);
    assert_eq!(Dist::Bernoulli { p: 0.0 }.compile().value(&[1.0]), 0.0);
    assert_eq!(Dist::Bernoulli { p: 1.0 }.compile().value(&[0.0]), 1.0);
    let keys = DistKeys {
        values: Some(vec![3.0, 1.0, 2.0]),
        weights: Some(vec![0.5, 0.25, 0.25]),
        ..DistKeys::default()
    };
    let d = Dist::build("discrete", &keys).unwrap();
    assert_eq!(
        d,
        Dist::Discrete {
            values: vec![1.0, 2.0, 3.0],
            weights: vec![0.25, 0.25, 0.5]
        }
    );
    let q = d.compile();
    assert_eq!(q.value(&[0.25]), 1.0);
    assert_eq!(q.value(&[0.250_001]), 2.0);
    assert_eq!(q.value(&[0.5]), 2.0);
    assert_eq!(q.value(&[0.9]), 3.0);
    assert_eq!(q.value(&[1.0]), 3.0);
    assert_eq!(Dist::Fixed(7.0).compile().uniforms(), 1);
    assert_eq!(Dist::Fixed(7.0).compile().value(&[0.1]), 7.0);
}

#[test]
fn shared_tables_are_built_once_and_equal_a_fresh_build() {
    use super::super::table::{Shape, Table};
    // A shape no other test uses, so the first call here builds it.
    let shape = Shape::Beta {
        alpha: 2.75,
        beta: 3.25,
    };
    let first = Table::shared(shape);
    let again = Table::shared(shape);
    assert!(std::sync::Arc::ptr_eq(&first, &again));
    let fresh = Table::new(shape);
    for i in 1..1000 {
        let u = f64::from(i) / 1000.0;
        assert_eq!(
            first.value(u).to_bits(),
            fresh.value(u).to_bits(),
            "u = {u}"
        );
    }
    let other = Table::shared(Shape::Beta {
        alpha: 2.75,
        beta: 3.0,
    });
    assert!(!std::sync::Arc::ptr_eq(&first, &other));
    assert_ne!(first.value(0.3), other.value(0.3));
}

#[test]
fn fill_gives_value_draw_by_draw() {
    let mut us = accuracy_us();
    us.extend(awkward_us());
    for dist in sample_dists() {
        let q = dist.compile();
        let mut out = vec![0.0; us.len()];
        q.fill(&us, &mut out);
        for (&u, &x) in us.iter().zip(&out) {
            let one = q.value(&[u]);
            assert_eq!(one.to_bits(), x.to_bits(), "{dist:?} at {u}: {one} vs {x}");
        }
    }
}

/// `Table::at_z_each` (batches of `LOOKUP_BATCH`: positions vectorised, rows loaded, the
/// pieces vectorised, off-grid lanes last) gives `then(at_z(z))` of every z: the grid's
/// ends and their neighbouring doubles, beyond it both ways, infinities, NaN, in
/// runs of every length from 0 to 40 so that off-grid values sit in every lane of a
/// batch, on beta and gamma tables and a Wilson-Hilferty gamma.
#[test]
fn table_at_z_each_equals_at_z() {
    use super::super::table::{Shape, Table};
    let edge = 8.3f64;
    let mut zs = vec![
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        0.0,
        -0.0,
        9.0,
        -9.0,
    ];
    for b in [edge, -edge, 8.29, -8.29] {
        zs.extend([
            b,
            f64::from_bits(b.to_bits() - 1),
            f64::from_bits(b.to_bits() + 1),
        ]);
    }
    // Every interval's start (position k) and points inside.
    for k in 0..=1024 {
        zs.push(-edge + f64::from(k) * (2.0 * edge / 1024.0));
        zs.push(-edge + (f64::from(k) + 0.37) * (2.0 * edge / 1024.0));
    }
    let then = |q: f64| 1.5 + 2.25 * q;
    for shape in [
        Shape::Beta {
            alpha: 2.0,
            beta: 5.0,
        },
        Shape::Beta {
            alpha: 0.5,
            beta: 0.5,
        },
        Shape::Gamma { shape: 3.0 },
        Shape::Gamma { shape: 2e6 },
    ] {
        let table = Table::shared(shape);
        let check = |zs: &[f64]| {
            let mut out = zs.to_vec();
            table.at_z_each(&mut out, then);
            for (&z, &x) in zs.iter().zip(&out) {
                let one = then(table.at_z(z));
                assert_eq!(one.to_bits(), x.to_bits(), "{shape:?} at z {z}");
            }
        };
        check(&zs);
        for len in 0..=40 {
            for start in 0..20 {
                check(&zs[start..][..len]);
            }
        }
    }
}
