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

/// The state the module documentation defines for a multiset of keys, computed directly:
/// the smallest level at which at most `MAX_BUCKETS` buckets are occupied, and per bucket
/// its count and smallest key.
fn defined_state(keys: &[u64]) -> (u32, Vec<Bucket>) {
    let mut sorted = keys.to_vec();
    sorted.sort_unstable();
    let level = (0..=64)
        .find(|&level| {
            let mut buckets: Vec<u64> = sorted.iter().map(|&k| bucket_of(k, level)).collect();
            buckets.dedup();
            buckets.len() <= MAX_BUCKETS
        })
        .unwrap();
    let mut buckets: Vec<Bucket> = Vec::new();
    for &k in &sorted {
        match buckets.last_mut() {
            Some(b) if b.key(level) == bucket_of(k, level) => b.count += 1,
            _ => buckets.push(Bucket { count: 1, min: k }),
        }
    }
    (level, buckets)
}

fn shuffled(values: &[u64], rng: &mut Lcg) -> Vec<u64> {
    let mut v = values.to_vec();
    for i in (1..v.len()).rev() {
        v.swap(i, rng.below(i as u64 + 1) as usize);
    }
    v
}

/// Keys of batches that exercise every fold path: few distinct values (counted without
/// sorting), a few dozen crossing zero, pence crossing zero (radix sorted by offset from
/// the smallest bucket), narrow and wide continuous spreads (radix sorts of one to three
/// digits, comparison sorts, and coarsening), i64 extremes.
fn adversarial_batches() -> Vec<(&'static str, Vec<u64>)> {
    let mut rng = Lcg::new(17);
    let mut batches = vec![
        ("all equal", vec![42.0f64.key(); 20_000]),
        (
            "two values",
            (0..20_000)
                .map(|i| (i % 2) as i64 * 7_000_000)
                .map(i64::key)
                .collect(),
        ),
        (
            "i64 extremes",
            (0..9000)
                .map(|i| [i64::MIN, -1, 0, 1, i64::MAX][i % 5].key())
                .collect(),
        ),
    ];
    batches.push((
        "forty values crossing zero",
        (0..30_000)
            .map(|_| (rng.below(40) as f64 - 20.0) * 1.5)
            .map(f64::key)
            .collect(),
    ));
    batches.push((
        "three thousand values crossing zero",
        (0..30_000)
            .map(|_| (rng.below(3000) as f64 - 1500.0) / 15_000.0)
            .map(f64::key)
            .collect(),
    ));
    batches.push((
        "pence crossing zero",
        (0..60_000)
            .map(|_| rng.below(20_000_000) as i64 - 10_000_000)
            .map(i64::key)
            .collect(),
    ));
    batches.push((
        "integers",
        (0..30_000)
            .map(|_| rng.below(5000) as f64)
            .map(f64::key)
            .collect(),
    ));
    batches.push((
        "narrow continuous",
        (0..60_000)
            .map(|_| 3000.0 + rng.uniform())
            .map(f64::key)
            .collect(),
    ));
    batches.push((
        "wide continuous crossing zero",
        (0..60_000)
            .map(|_| (rng.uniform() * 20.0).exp() * if rng.below(2) == 0 { -1.0 } else { 1.0 })
            .map(f64::key)
            .collect(),
    ));
    // A coarse store then batches of a few values sharing buckets (counted at level > 0).
    let mut mixed: Vec<u64> = (0..40_000)
        .map(|_| (rng.uniform() * 10.0).exp())
        .map(f64::key)
        .collect();
    mixed.extend((0..20_000).map(|i| (100.0 + (i % 5) as f64 * 1e-9).key()));
    batches.push(("coarse then few values", mixed));
    batches
}

#[test]
fn sort_by_bucket_orders_by_bucket_and_keeps_the_keys() {
    for (name, keys) in adversarial_batches() {
        for level in [0, 1, 5, 13, 30, 40, 52, 63, 64] {
            for len in [0, 1, 2, RADIX_MIN - 1, RADIX_MIN, 1000, BUFFER, keys.len()] {
                let input = &keys[..len.min(keys.len())];
                let case = format!("{name}, level {level}, {len} keys");
                let mut sorted = input.to_vec();
                if !sort_by_bucket(&mut sorted, level) {
                    // Too wide: left as it was, for sort_wide.
                    assert_eq!(sorted, input, "{case}");
                    sorted.sort_unstable();
                }
                assert_sorted_by_bucket(input, sorted, level, &case);
                let mut wide = input.to_vec();
                sort_wide(&mut wide, level);
                assert_sorted_by_bucket(input, wide, level, &format!("{case}, sort_wide"));
            }
        }
    }
}

/// `sorted` is in bucket order at `level` and holds the keys of `input`.
fn assert_sorted_by_bucket(input: &[u64], mut sorted: Vec<u64>, level: u32, case: &str) {
    assert!(
        sorted
            .windows(2)
            .all(|w| bucket_of(w[0], level) <= bucket_of(w[1], level)),
        "{case}: not in bucket order"
    );
    let mut a = input.to_vec();
    a.sort_unstable();
    sorted.sort_unstable();
    assert_eq!(a, sorted, "{case}: keys changed");
}

#[test]
fn few_distinct_counts_or_gives_up() {
    let keys = [5u64, 3, 5, 5, 9, 3];
    assert_eq!(few_distinct(&keys, 3), Some(vec![(3, 2), (5, 3), (9, 1)]));
    assert_eq!(few_distinct(&keys, 2), None);
    // Keys that all hash to the last slot (so probes wrap around): k * 2^64/phi has top
    // bits all ones when k = (m + ones) * phi^-1 mod 2^64 for small m.
    let phi = 0x9E37_79B9_7F4A_7C15u64;
    let mut inverse = phi;
    for _ in 0..6 {
        inverse = inverse.wrapping_mul(2u64.wrapping_sub(phi.wrapping_mul(inverse)));
    }
    assert_eq!(phi.wrapping_mul(inverse), 1);
    for limit in [FEW, FEW_WIDE] {
        let slots = (4 * limit).next_power_of_two() as u64;
        let last_slot = (slots - 1) << (64 - slots.trailing_zeros());
        let many: Vec<u64> = (0..=limit as u64)
            .map(|m| (last_slot + m).wrapping_mul(inverse))
            .collect();
        let twice: Vec<u64> = many[..limit]
            .iter()
            .chain(&many[..limit])
            .copied()
            .collect();
        let mut expected: Vec<(u64, u64)> = many[..limit].iter().map(|&k| (k, 2)).collect();
        expected.sort_unstable();
        assert_eq!(few_distinct(&twice, limit), Some(expected), "limit {limit}");
        assert_eq!(few_distinct(&many, limit), None, "limit {limit}");
    }
    // The thread's table is reused: after calls that gave up or counted thousands of keys
    // in a bigger table, a small one still starts empty.
    assert_eq!(few_distinct(&keys, 3), Some(vec![(3, 2), (5, 3), (9, 1)]));
    assert_eq!(few_distinct(&[7, 7], FEW), Some(vec![(7, 2)]));
}

#[test]
fn two_distinct_counts_or_gives_up() {
    assert_eq!(two_distinct(&[]), None);
    assert_eq!(two_distinct(&[7; 5]), Some(vec![(7, 5)]));
    assert_eq!(two_distinct(&[9, 2, 9, 9]), Some(vec![(2, 1), (9, 3)]));
    assert_eq!(
        two_distinct(&[0, u64::MAX, 0]),
        Some(vec![(0, 2), (u64::MAX, 1)])
    );
    // A third value, however rare and wherever it is, and keys whose bits are those of
    // the first two combined (0b01 and 0b10 against 0b00 and 0b11).
    assert_eq!(two_distinct(&[1, 2, 1, 2, 3]), None);
    assert_eq!(two_distinct(&[1, 2, 0]), None);
    assert_eq!(two_distinct(&[5, 5, 5, 6, 5, 4]), None);
    let keys = [5u64, 3, 5, 5, 3];
    assert_eq!(two_distinct(&keys), few_distinct(&keys, FEW));
    // The second value first seen at the edges of the chunks it is looked for by (64
    // keys), or only last; a third value before, in or after the second's chunk.
    for n in [63, 64, 65, 127, 128, 129, 1000] {
        for at in [1, 62, 63, 64, 65, 127, 128, n - 1] {
            if at >= n {
                continue;
            }
            let mut keys = vec![u64::MAX; n];
            keys[at] = 0;
            keys.push(0);
            let expected = Some(vec![(0, 2), (u64::MAX, n as u64 - 1)]);
            assert_eq!(two_distinct(&keys), expected, "{n} {at}");
            assert_eq!(two_distinct(&keys), few_distinct(&keys, FEW), "{n} {at}");
            for third in [1, at / 2 + 1, at + 1, n] {
                let mut three = keys.clone();
                three[third.min(n)] = 7;
                if three.contains(&0) {
                    assert_eq!(two_distinct(&three), None, "{n} {at} {third}");
                }
            }
        }
    }
}

#[test]
fn state_is_the_defined_one_for_any_push_order() {
    let mut rng = Lcg::new(29);
    for (name, keys) in adversarial_batches() {
        let expected = defined_state(&keys);
        for order in 0..3 {
            let pushes = if order == 0 {
                keys.clone()
            } else {
                shuffled(&keys, &mut rng)
            };
            // Pence keys: every u64 is one (f64 keys would include NaN patterns).
            let mut store = QuantileStore::<i64>::default();
            pushes.iter().for_each(|&k| store.push(i64::from_key(k)));
            assert_eq!(state(&store), expected, "{name}, order {order}");
        }
    }
}

#[test]
fn fit_finds_the_smallest_fitting_level() {
    let mut rng = Lcg::new(31);
    for case in 0..40 {
        // Random distinct bucket keys at a random level, more than fit, spread over a
        // random number of bits.
        let level = rng.below(20) as u32;
        let spread = 20 + rng.below(64 - 20 - u64::from(level) + 1) as u32;
        let n = MAX_BUCKETS + 1 + rng.below(3 * MAX_BUCKETS as u64) as usize;
        let mut keys: Vec<u64> = (0..n).map(|_| rng.next_u64() >> (64 - spread)).collect();
        keys.sort_unstable();
        keys.dedup();
        let buckets: Vec<Bucket> = keys
            .iter()
            .map(|&key| Bucket {
                count: 1,
                min: key << level,
            })
            .collect();
        let mut store = QuantileStore::<f64> {
            level,
            buckets: buckets.clone(),
            pending: Vec::new(),
            value: std::marker::PhantomData,
        };
        store.fit();
        // The definition: drop one bit at a time until the buckets fit.
        let mut reference = buckets;
        let mut bits = 0;
        while reference.len() > MAX_BUCKETS {
            bits += 1;
            coarsen(&mut reference, level + bits);
        }
        assert_eq!(store.level, level + bits, "case {case}");
        assert_eq!(store.buckets, reference, "case {case}");
    }
}

/// Random sorted buckets at `level` with distinct numbers below `2^spread`, minima anywhere
/// in their buckets, counts 1 to 3.
fn random_buckets(rng: &mut Lcg, n: usize, level: u32, spread: u32) -> Vec<Bucket> {
    let mut numbers: Vec<u64> = (0..n).map(|_| rng.next_u64() >> (64 - spread)).collect();
    numbers.sort_unstable();
    numbers.dedup();
    numbers
        .iter()
        .map(|&number| Bucket {
            count: 1 + rng.below(3),
            min: (number << level) + (rng.next_u64() & ((1u64 << level) - 1)),
        })
        .collect()
}

#[test]
fn add_buckets_equals_merging_then_coarsening_one_bit_at_a_time() {
    let mut rng = Lcg::new(37);
    // Sizes around the cap: the union below it (in place), at it, one past it, and far
    // past it (through the thread's scratch); one side empty; theirs all below or all
    // above ours (whole runs of ours copied at once).
    let sizes = [
        (0, 5),
        (7, 0),
        (MAX_BUCKETS / 2, MAX_BUCKETS / 2),
        (MAX_BUCKETS - 1, 1),
        (MAX_BUCKETS, 1),
        (MAX_BUCKETS, MAX_BUCKETS),
        (1, MAX_BUCKETS),
        (MAX_BUCKETS / 3, MAX_BUCKETS),
    ];
    for (case, &(ours_n, theirs_n)) in sizes.iter().cycle().take(40).enumerate() {
        let level = rng.below(12) as u32;
        let spread = 16 + rng.below(30) as u32;
        let mut ours = random_buckets(&mut rng, ours_n, level, spread);
        let mut theirs = random_buckets(&mut rng, theirs_n, level, spread);
        let fresh = case % 2 == 0;
        if fresh {
            // No bucket number of ours; in some cases all above or all below ours.
            theirs.retain(|t| ours.iter().all(|o| o.key(level) != t.key(level)));
            let above = 1u64 << (spread + level);
            match case % 6 {
                0 => theirs.iter_mut().for_each(|t| t.min += above),
                2 => ours.iter_mut().for_each(|o| o.min += above),
                _ => {}
            }
        }
        let mut reference = merge_sorted(&ours, &theirs, level);
        let mut bits = 0;
        while reference.len() > MAX_BUCKETS {
            bits += 1;
            coarsen(&mut reference, level + bits);
        }
        let mut store = QuantileStore::<f64> {
            level,
            buckets: ours.clone(),
            pending: Vec::new(),
            value: std::marker::PhantomData,
        };
        store.add_buckets(&theirs, fresh);
        assert_eq!(store.level, level + bits, "case {case}");
        assert_eq!(store.buckets, reference, "case {case}");
        if ours.len() + theirs.len() > MAX_BUCKETS {
            // Through the scratch: the store's vector never grew to hold the union.
            assert!(
                store.buckets.capacity() <= ours.len().max(MAX_BUCKETS),
                "case {case}"
            );
        }
    }
}

/// The buckets and fresh buckets from counting `batch` into `store`'s buckets through
/// `count` (which keeps the keys of fresh buckets), and from sorting and merging.
fn looked_up_and_sorted(
    store: &QuantileStore<f64>,
    batch: Vec<u64>,
    count: impl Fn(&mut [Bucket], &mut Vec<u64>, u32),
) {
    let level = store.level;
    let (mut looked_up, mut kept) = (store.buckets.clone(), batch.clone());
    count(&mut looked_up, &mut kept, level);
    if !sort_by_bucket(&mut kept, level) {
        sort_wide(&mut kept, level);
    }
    let fresh_looked_up = add_sorted(&mut [], &kept, level);
    let (mut sorted, mut keys) = (store.buckets.clone(), batch);
    if !sort_by_bucket(&mut keys, level) {
        sort_wide(&mut keys, level);
    }
    let fresh_sorted = add_sorted(&mut sorted, &keys, level);
    assert!(!fresh_sorted.is_empty());
    assert_eq!(looked_up, sorted);
    assert_eq!(fresh_looked_up, fresh_sorted);
}

#[test]
fn add_indexed_counts_as_add_sorted() {
    let mut rng = Lcg::new(37);
    let mut store = QuantileStore::<f64>::default();
    (0..3 * BUFFER).for_each(|_| store.push(3000.0 + rng.uniform()));
    store.fold_pending();
    let (lowest, range) = store.index_range().expect("a narrow coarse store");
    // New keys in existing buckets, in gaps between them, below and above all of them.
    let mut batch: Vec<u64> = (0..BUFFER)
        .map(|_| (3000.0 + 1.2 * rng.uniform() - 0.1).key())
        .collect();
    batch.extend([1.0f64.key(), 1e9f64.key(), 3000.5f64.key(), 0.0f64.key()]);
    looked_up_and_sorted(&store, batch, |buckets, keys, level| {
        add_indexed(buckets, keys, level, lowest, range)
    });
}

#[test]
fn add_hashed_counts_as_add_sorted() {
    let mut rng = Lcg::new(41);
    let mut wide = || (rng.uniform() * 20.0).exp() * if rng.below(2) == 0 { -1.0 } else { 1.0 };
    for (level, values) in [(0, 2000), (1, 2000), (30, BUFFER), (50, BUFFER)] {
        // A store at `level` with the buckets of `values` spread over both signs.
        let keys: Vec<u64> = (0..values).map(|_| wide().key()).collect();
        let mut buckets: Vec<Bucket> = Vec::new();
        let mut sorted = keys.clone();
        sorted.sort_unstable();
        let fresh = add_sorted(&mut buckets, &sorted, level);
        insert_sorted(&mut buckets, &fresh);
        let store = QuantileStore::<f64> {
            level,
            buckets,
            pending: Vec::new(),
            value: std::marker::PhantomData,
        };
        let mut batch: Vec<u64> = keys.iter().step_by(3).copied().collect();
        batch.extend((0..BUFFER / 2).map(|_| wide().key()));
        batch.extend([0, u64::MAX, 0.0f64.key()]);
        looked_up_and_sorted(&store, batch, add_hashed);
    }
}

#[test]
fn add_hashed_counts_as_add_sorted_at_the_edges() {
    let mut rng = Lcg::new(47);
    // Keys either side of zero and next to 0 and u64::MAX, whose buckets include bucket 0
    // (floor 0, an empty slot's) and the last one.
    let mut edge = || match rng.below(8) {
        0 => rng.below(1 << 20),
        1 => u64::MAX - rng.below(1 << 20),
        _ => ((rng.uniform() * 20.0).exp() * if rng.below(2) == 0 { -1.0 } else { 1.0 }).key(),
    };
    let stock: Vec<u64> = (0..4 * MAX_BUCKETS).map(|_| edge()).collect();
    let batch_keys: Vec<u64> = (0..BUFFER).map(|_| edge()).collect();
    // (level, buckets kept from the start or, negative, from the end): one and two buckets,
    // either side of a power of two of slots, the most a store holds.
    let cases: [(u32, isize); 12] = [
        (0, 1),
        (0, 2),
        (0, -1),
        (0, 1024),
        (0, 1025),
        (3, -2049),
        (10, MAX_BUCKETS as isize),
        (20, -(MAX_BUCKETS as isize)),
        (40, 8192),
        (50, -8193),
        (62, 2),
        (63, 1),
    ];
    for (level, len) in cases {
        let mut buckets: Vec<Bucket> = Vec::new();
        let mut sorted = stock.clone();
        sorted.sort_unstable();
        let fresh = add_sorted(&mut buckets, &sorted, level);
        insert_sorted(&mut buckets, &fresh);
        if len >= 0 {
            buckets.truncate(len as usize);
        } else {
            buckets.drain(..buckets.len().saturating_sub(len.unsigned_abs()));
        }
        let store = QuantileStore::<f64> {
            level,
            buckets,
            pending: Vec::new(),
            value: std::marker::PhantomData,
        };
        let mut batch = batch_keys.clone();
        batch.extend([0, 0, 1, u64::MAX, u64::MAX - 1, 1u64 << 63]);
        batch.extend(std::iter::repeat_n(store.buckets[0].min, 100));
        looked_up_and_sorted(&store, batch, add_hashed);
    }
}

#[test]
fn settling_keeps_the_state_and_the_answers() {
    for (name, keys) in adversarial_batches() {
        let mut store = QuantileStore::<i64>::default();
        keys.iter().for_each(|&k| store.push(i64::from_key(k)));
        let before = (state(&store), store.percentiles(), store.len());
        store.settle();
        assert!(store.pending.is_empty(), "{name}");
        // Read as it is now, without a copy.
        assert_eq!(
            (state(&store), store.percentiles(), store.len()),
            before,
            "{name}"
        );
    }
}
