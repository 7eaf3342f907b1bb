//! Tests of the quantile store: the definition on hand examples, exactness below the
//! bucket cap, order-free merging beyond it, and rank accuracy against exact quantiles at
//! 10^6 values.
use super::*;
use crate::stats::testing::Lcg;

fn percentiles(values: &[i64]) -> [i64; 7] {
    let mut store = QuantileStore::default();
    for &v in values {
        store.push(v);
    }
    store.percentiles().unwrap()
}

/// The state after folding everything in, as text (exact f64 bits do not matter: keys).
fn state<T: SketchValue>(s: &QuantileStore<T>) -> (u32, Vec<Bucket>) {
    let mut f = s.clone();
    f.fold_pending();
    (f.level, f.buckets)
}

#[test]
fn rank_index_matches_definition() {
    // n = 10: ceil(0.05*10)=1, ceil(0.1*10)=1, ceil(2.5)=3, 5, ceil(7.5)=8, 9, ceil(9.5)=10
    let expected = [0, 0, 2, 4, 7, 8, 9];
    for (percent, index) in PERCENTS.iter().zip(expected) {
        assert_eq!(rank_index(10, *percent), index, "p{percent}");
    }
    // n = 20: q*n exactly an integer must not round up (0.05*20 = 1 -> index 0).
    assert_eq!(rank_index(20, 5), 0);
    assert_eq!(rank_index(20, 50), 9);
    assert_eq!(rank_index(20, 95), 18);
    assert_eq!(rank_index(1, 5), 0);
    assert_eq!(rank_index(1, 95), 0);
    assert_eq!(rank_index(u64::MAX, 100), u64::MAX - 1);
}

#[test]
fn small_hand_examples() {
    assert_eq!(percentiles(&[7]), [7; 7]);
    let ten = [10, 1, 9, 2, 8, 3, 7, 4, 6, 5];
    assert_eq!(percentiles(&ten), [1, 1, 3, 5, 8, 9, 10]);
    let ties = [2, 2, 2, 1, 3, 3, 2, 2, 2, 2];
    assert_eq!(percentiles(&ties), [1, 1, 2, 2, 2, 3, 3]);
    assert!(QuantileStore::<i64>::default().percentiles().is_none());
}

#[test]
fn keys_preserve_order_and_invert() {
    let reals = [
        f64::NEG_INFINITY,
        -1e300,
        -1.5,
        -f64::MIN_POSITIVE,
        -0.0,
        0.0,
        f64::MIN_POSITIVE,
        1.0,
        1.0 + f64::EPSILON,
        1e300,
        f64::INFINITY,
    ];
    for pair in reals.windows(2) {
        assert!(pair[0].key() < pair[1].key(), "{pair:?}");
    }
    for x in reals {
        assert_eq!(f64::from_key(x.key()).to_bits(), x.to_bits());
    }
    let pence = [i64::MIN, -1, 0, 1, i64::MAX];
    for pair in pence.windows(2) {
        assert!(pair[0].key() < pair[1].key());
    }
    for p in pence {
        assert_eq!(i64::from_key(p.key()), p);
    }
}

#[test]
fn exact_below_the_bucket_cap() {
    // 100k values, 5000 distinct: every quantile is the exact inverted-CDF value.
    let mut rng = Lcg::new(3);
    let values: Vec<i64> = (0..100_000)
        .map(|_| rng.below(5000) as i64 - 2500)
        .collect();
    let mut sorted = values.clone();
    sorted.sort_unstable();
    let got = percentiles(&values);
    for (k, percent) in PERCENTS.iter().enumerate() {
        assert_eq!(got[k], sorted[rank_index(100_000, *percent) as usize]);
    }
}

#[test]
fn merge_is_independent_of_grouping_and_order_beyond_the_cap() {
    // Enough distinct values to force several coarsenings.
    let mut rng = Lcg::new(11);
    let values: Vec<f64> = (0..200_000)
        .map(|_| (rng.uniform() * 8.0).exp() - 30.0)
        .collect();
    let chunk = |size: usize| -> Vec<QuantileStore<f64>> {
        values
            .chunks(size)
            .map(|c| {
                let mut s = QuantileStore::default();
                c.iter().for_each(|&x| s.push(x));
                s
            })
            .collect()
    };
    let mut one = QuantileStore::default();
    values.iter().for_each(|&x| one.push(x));
    let reference = state(&one);
    assert!(reference.0 > 0, "the test must exercise coarsening");
    for size in [1024, 777, 50_000] {
        let parts = chunk(size);
        let mut forward = QuantileStore::default();
        parts.iter().for_each(|p| forward.merge(p));
        let mut backward = QuantileStore::default();
        parts.iter().rev().for_each(|p| backward.merge(p));
        // A tree: pairs first, then pairs of pairs.
        let mut level: Vec<QuantileStore<f64>> = parts.clone();
        while level.len() > 1 {
            level = level
                .chunks(2)
                .map(|pair| {
                    let mut a = pair[0].clone();
                    if let Some(b) = pair.get(1) {
                        a.merge(b);
                    }
                    a
                })
                .collect();
        }
        assert_eq!(state(&forward), reference, "forward, chunks of {size}");
        assert_eq!(state(&backward), reference, "backward, chunks of {size}");
        assert_eq!(state(&level[0]), reference, "tree, chunks of {size}");
    }
}

/// Distance in rank between `reported` and the q-quantile: 0 when some position of
/// `reported` among the sorted values is the exact rank.
fn rank_error(sorted: &[f64], reported: f64, percent: u32) -> f64 {
    let n = sorted.len() as f64;
    let below = sorted.partition_point(|x| x.total_cmp(&reported).is_lt()) as f64;
    let at_or_below = sorted.partition_point(|x| x.total_cmp(&reported).is_le()) as f64;
    let q = f64::from(percent) / 100.0;
    if q * n < below {
        (below - q * n) / n
    } else if q * n > at_or_below {
        (q * n - at_or_below) / n
    } else {
        0.0
    }
}

#[test]
fn within_a_thousandth_in_rank_of_exact_at_a_million_values() {
    let mut rng = Lcg::new(5);
    let n = 1_000_000;
    let normal = |rng: &mut Lcg| {
        // Box-Muller from the test generator.
        let u = 1.0 - rng.uniform();
        let v = rng.uniform();
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    };
    let cases: Vec<(&str, Vec<f64>)> = vec![
        // Narrow: an activity count around 30000 with 2% spread.
        (
            "narrow normal",
            (0..n)
                .map(|_| 30_000.0 + 600.0 * normal(&mut rng))
                .collect(),
        ),
        // Very narrow around a large value.
        (
            "very narrow",
            (0..n).map(|_| 1e6 + 50.0 * normal(&mut rng)).collect(),
        ),
        // Wide, skewed, crossing zero.
        (
            "lognormal shifted",
            (0..n)
                .map(|_| (2.0 * normal(&mut rng)).exp() - 1.0)
                .collect(),
        ),
        // Heavy point mass at 0 plus a continuous part.
        (
            "mass at zero",
            (0..n)
                .map(|_| {
                    let x = normal(&mut rng);
                    if x < 0.3 { 0.0 } else { x * 1e5 }
                })
                .collect(),
        ),
    ];
    for (name, values) in cases {
        let mut store = QuantileStore::default();
        values.iter().for_each(|&x| store.push(x));
        assert!(state(&store).1.len() <= MAX_BUCKETS);
        let mut sorted = values;
        sorted.sort_unstable_by(f64::total_cmp);
        let got = store.percentiles().unwrap();
        for (k, percent) in PERCENTS.iter().enumerate() {
            let error = rank_error(&sorted, got[k], *percent);
            assert!(error <= 0.001, "{name} p{percent}: rank error {error}");
            // An actual value.
            assert!(sorted.binary_search_by(|x| x.total_cmp(&got[k])).is_ok());
        }
    }
}

#[test]
fn serialised_stores_round_trip_exactly() {
    let mut rng = Lcg::new(21);
    for n in [0usize, 1, 5000, 60_000] {
        let mut store = QuantileStore::<f64>::default();
        for _ in 0..n {
            store.push((rng.uniform() * 6.0).exp() - 40.0);
        }
        let text = serde_json::to_string(&store).unwrap();
        let back: QuantileStore<f64> = serde_json::from_str(&text).unwrap();
        assert_eq!(state(&back), state(&store), "{n} values");
    }
    let mut pence = QuantileStore::<i64>::default();
    [i64::MIN, -1, 0, 0, 7, i64::MAX]
        .iter()
        .for_each(|&p| pence.push(p));
    let back: QuantileStore<i64> =
        serde_json::from_str(&serde_json::to_string(&pence).unwrap()).unwrap();
    assert_eq!(state(&back), state(&pence));
    for bad in [
        r#"{"level":0,"buckets":"AQEBAAEA"}"#, // a minimum outside its bucket
        r#"{"level":0,"buckets":"AQEAAAEA"}"#, // keys not increasing
        r#"{"level":0,"buckets":"gA"}"#,       // a truncated varint
        r#"{"level":65,"buckets":""}"#,
        r#"{"level":0,"buckets":"*"}"#,
    ] {
        assert!(
            serde_json::from_str::<QuantileStore<f64>>(bad).is_err(),
            "{bad}"
        );
    }
}
