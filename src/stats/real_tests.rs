//! Tests of `RealStats`: merge-grouping invariance, accuracy against a two-pass
//! reference, the quantile definition, non-finite values and empty accumulators.

use super::*;
use crate::stats::testing::{Lcg, assert_groupings_agree};

fn stats_of(values: &[f64]) -> RealStats {
    let mut s = RealStats::new();
    for &v in values {
        s.push(v);
    }
    s
}

/// Mean and sd (n - 1) by two passes, with the deviations summed exactly.
fn two_pass(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mut sum = ExactSum::default();
    values.iter().for_each(|&v| sum.add(v));
    let mean = sum.value() / n;
    let mut squares = ExactSum::default();
    values
        .iter()
        .for_each(|&v| squares.add((v - mean) * (v - mean)));
    (mean, (squares.value() / (n - 1.0)).sqrt())
}

fn relative_error(a: f64, b: f64) -> f64 {
    ((a - b) / b).abs()
}

fn mixed_data(seed: u64, n: usize) -> Vec<f64> {
    let mut rng = Lcg::new(seed);
    (0..n)
        .map(|i| match i % 5 {
            0 => 1e6 + rng.uniform(),
            1 => -1e12 * rng.uniform(),
            2 => 1e-8 * rng.uniform(),
            3 => 1e15 * (rng.uniform() - 0.5),
            _ => (rng.uniform() * 100.0).floor() - 50.0,
        })
        .collect()
}

#[test]
fn merge_grouping_is_bit_identical() {
    for (seed, chunk) in [(1, 64), (2, 97), (3, 500)] {
        let values = mixed_data(seed, 6_000);
        let summary = assert_groupings_agree(
            &values,
            chunk,
            RealStats::new,
            |s, &v| s.push(v),
            |a, b| a.merge(b),
            RealStats::finish,
        );
        assert_eq!(summary.n, 6_000);
        let (mean, sd) = two_pass(&values);
        assert!(
            relative_error(summary.mean, mean) < 1e-12,
            "{} vs {mean}",
            summary.mean
        );
        assert!(
            relative_error(summary.sd, sd) < 1e-12,
            "{} vs {sd}",
            summary.sd
        );
    }
}

#[test]
fn naive_f64_sums_would_not_be_grouping_invariant() {
    // Guards the test above: with this data a plain f64 sum does depend on the order,
    // so the grouping test is not passing vacuously.
    let values = mixed_data(1, 6_000);
    let forward: f64 = values.iter().sum();
    let backward: f64 = values.iter().rev().sum();
    assert_ne!(forward.to_bits(), backward.to_bits());
}

#[test]
fn large_mean_small_spread_against_two_pass() {
    let mut rng = Lcg::new(11);
    for noise in [1.0, 1e-3, 1e-6] {
        let values: Vec<f64> = (0..10_000).map(|_| 1e6 + noise * rng.uniform()).collect();
        let (mean, sd) = two_pass(&values);
        for chunk in [values.len(), 100, 7] {
            let mut total = RealStats::new();
            for part in values.chunks(chunk) {
                total.merge(&stats_of(part));
            }
            let s = total.finish();
            assert!(
                relative_error(s.mean, mean) < 1e-15,
                "mean {} vs {mean}",
                s.mean
            );
            assert!(
                relative_error(s.sd, sd) < 1e-6,
                "noise {noise} chunk {chunk}: sd {} vs {sd}",
                s.sd
            );
            assert_eq!(s.mcse, s.sd / 100.0);
        }
    }
}

#[test]
fn constant_values_have_zero_spread() {
    let s = stats_of(&[0.1; 1000]).finish();
    assert_eq!((s.sd, s.mcse), (0.0, 0.0));
    assert_eq!(s.mean, 0.1);
    let mut merged = stats_of(&[1e150; 3]);
    merged.merge(&stats_of(&[1e150; 5]));
    assert_eq!(merged.finish().sd, 0.0);
}

#[test]
fn quantiles_are_trial_values() {
    let one = stats_of(&[3.5]).finish();
    assert_eq!(
        [one.p5, one.p50, one.p95, one.min, one.max, one.mean, one.sd],
        [3.5, 3.5, 3.5, 3.5, 3.5, 3.5, 0.0]
    );
    let ten = stats_of(&[10.0, 1.0, 9.0, 2.0, 8.0, 3.0, 7.0, 4.0, 6.0, 5.0]).finish();
    assert_eq!(
        [ten.p5, ten.p10, ten.p25, ten.p50, ten.p75, ten.p90, ten.p95],
        [1.0, 1.0, 3.0, 5.0, 8.0, 9.0, 10.0]
    );
    assert_eq!((ten.min, ten.max, ten.mean), (1.0, 10.0, 5.5));
    // sd of 1..=10 with n - 1: sqrt(55/6)
    assert!(relative_error(ten.sd, (55.0f64 / 6.0).sqrt()) < 1e-15);
    let ties = stats_of(&[2.0, 2.0, 2.0, 1.0, 3.0, 3.0, 2.0, 2.0, 2.0, 2.0]).finish();
    assert_eq!(
        [
            ties.p5, ties.p10, ties.p25, ties.p50, ties.p75, ties.p90, ties.p95
        ],
        [1.0, 1.0, 2.0, 2.0, 2.0, 3.0, 3.0]
    );
}

#[test]
fn signed_zeros_do_not_depend_on_order() {
    let a = stats_of(&[0.0, -0.0, 0.0]).finish();
    let b = stats_of(&[-0.0, 0.0, 0.0]).finish();
    assert_eq!(format!("{a:?}"), format!("{b:?}"));
    assert_eq!(a.min.to_bits(), (-0.0f64).to_bits());
    assert_eq!(a.max.to_bits(), 0.0f64.to_bits());
}

#[test]
fn non_finite_values_are_counted_and_excluded() {
    let mut s = stats_of(&[f64::NAN, 1.0, f64::INFINITY, 3.0, f64::NEG_INFINITY]);
    assert_eq!((s.len(), s.non_finite()), (2, 3));
    let mut other = RealStats::new();
    other.push(f64::NAN);
    s.merge(&other);
    let summary = s.finish();
    assert_eq!((summary.n, summary.non_finite), (2, 4));
    assert_eq!((summary.mean, summary.min, summary.max), (2.0, 1.0, 3.0));
    assert_eq!(summary.p95, 3.0);
}

#[test]
fn empty_gives_zeros() {
    let mut s = RealStats::new();
    assert!(s.is_empty());
    s.merge(&RealStats::new());
    let summary = s.finish();
    assert_eq!(summary.n, 0);
    for x in [
        summary.mean,
        summary.sd,
        summary.mcse,
        summary.p5,
        summary.p95,
        summary.min,
        summary.max,
    ] {
        assert_eq!(x, 0.0);
    }
    let only_nan = stats_of(&[f64::NAN]).finish();
    assert_eq!(
        (only_nan.n, only_nan.mean, only_nan.non_finite),
        (0, 0.0, 1)
    );
}

#[test]
fn pushes_after_merge_count_as_one_more_chunk() {
    let values = mixed_data(5, 300);
    let (first, rest) = values.split_at(100);
    let (second, third) = rest.split_at(100);
    // X gets pushes, a merge, then more pushes: its own pushes are one chunk.
    let mut x = stats_of(&first[..50]);
    x.merge(&stats_of(second));
    first[50..].iter().for_each(|&v| x.push(v));
    x.merge(&stats_of(third));
    // The same chunks merged into a fresh accumulator in another order.
    let mut y = stats_of(third);
    y.merge(&stats_of(first));
    y.merge(&stats_of(second));
    let mut z = RealStats::new();
    z.merge(&y);
    assert_eq!(format!("{:?}", x.finish()), format!("{:?}", z.finish()));
    // finish() does not change the accumulator.
    assert_eq!(
        format!("{:?}", x.finish()),
        format!("{:?}", x.clone().finish())
    );
}

#[test]
fn json_numbers_and_nulls() {
    let s = stats_of(&[1.5, 2.5]).finish();
    let json = s.to_json();
    let keys: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    assert_eq!(
        keys,
        [
            "mean", "sd", "mcse", "p5", "p10", "p25", "p50", "p75", "p90", "p95"
        ]
    );
    assert_eq!(json["mean"], 2.0);
    assert_eq!(json["p95"], 2.5);
    let overflowing = stats_of(&[1e308, 1e308, -1e308]).finish();
    assert_eq!(overflowing.to_json()["mean"], serde_json::Value::Null);
}

/// `push_all` over slices of any length (non-finite values included, chunks ended in
/// between) leaves the state, bit for bit, of `push` on each value.
#[test]
fn push_all_equals_push_one_by_one() {
    let mut rng = Lcg::new(11);
    let values: Vec<f64> = (0..20_000)
        .map(|i| match i % 997 {
            5 => f64::NAN,
            9 => f64::INFINITY,
            13 => f64::NEG_INFINITY,
            17 => -f64::NAN,
            // Finite, with keys next to those of the infinities.
            21 => f64::MAX,
            25 => -f64::MAX,
            _ => 1e6 + (rng.below(1_000_000) as f64) / 7.0,
        })
        .collect();
    assert_eq!(push_all_against_push(&values).non_finite(), 4 * 21);
    // Signed zeros as extremes (the total order tells them apart), alone and among
    // others of both signs.
    let zeros: Vec<f64> = (0..20_000)
        .map(|i| match (i / 40) % 5 {
            0 => [0.0, -0.0][rng.below(2) as usize],
            1 => [0.0, 0.5][rng.below(2) as usize],
            2 => [-0.0, -0.5][rng.below(2) as usize],
            3 => [0.0, -0.0, 0.5, -0.5][rng.below(4) as usize],
            _ => [-0.0, 0.0, -0.0][rng.below(3) as usize],
        })
        .collect();
    push_all_against_push(&zeros);
}

/// The state of `push_all` over slices of `values` of several lengths (chunks ended in
/// between), checked equal to that of `push` on each value.
fn push_all_against_push(values: &[f64]) -> RealStats {
    let (mut one, mut all) = (RealStats::new(), RealStats::new());
    let mut at = 0;
    for (k, len) in [0usize, 1, 31, 32, 33, 500, 9000]
        .iter()
        .cycle()
        .enumerate()
    {
        let end = (at + len).min(values.len());
        values[at..end].iter().for_each(|&x| one.push(x));
        all.push_all(&values[at..end]);
        assert_eq!((one.min, one.max), (all.min, all.max), "at {at}");
        // The slice's own extremes too (the running ones may hide a zero's sign).
        let (mut alone, mut at_once) = (RealStats::new(), RealStats::new());
        values[at..end].iter().for_each(|&x| alone.push(x));
        at_once.push_all(&values[at..end]);
        assert_eq!(
            (alone.min, alone.max),
            (at_once.min, at_once.max),
            "at {at}"
        );
        if k % 3 == 2 {
            one.end_chunk();
            all.end_chunk();
        }
        at = end;
        if at == values.len() {
            break;
        }
    }
    let json = |s: &RealStats| serde_json::to_string(s).unwrap();
    assert_eq!(json(&one), json(&all));
    all
}
