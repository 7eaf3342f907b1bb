//! Test support for `stats`: a tiny fixed-seed generator (no dependency, stable forever)
//! and a checker that merges the same chunk accumulators in many groupings and orders
//! and asserts that `finish()` is bit-identical (compared through `Debug`, which prints
//! each f64 by its exact shortest round-trip form and so tells -0.0 from 0.0).

use std::fmt::Debug;

/// SplitMix64: deterministic test data from a seed.
pub(crate) struct Lcg(u64);

impl Lcg {
    pub(crate) fn new(seed: u64) -> Self {
        Lcg(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub(crate) fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Roughly uniform in [0, bound).
    pub(crate) fn below(&mut self, bound: u64) -> u64 {
        self.next_u64() % bound
    }
}

/// Builds one accumulator per fixed-size chunk of `values` (pushed in order), merges them
/// in several groupings and orders, asserts every `finish()` agrees exactly, and returns
/// the common summary.
pub(crate) fn assert_groupings_agree<A: Clone, T, S: Debug>(
    values: &[T],
    chunk_size: usize,
    new: impl Fn() -> A,
    push: impl Fn(&mut A, &T),
    merge: impl Fn(&mut A, &A),
    finish: impl Fn(&A) -> S,
) -> S {
    let chunks: Vec<A> = values
        .chunks(chunk_size)
        .map(|chunk| {
            let mut accumulator = new();
            for v in chunk {
                push(&mut accumulator, v);
            }
            accumulator
        })
        .collect();
    assert!(chunks.len() >= 4, "need several chunks to test groupings");
    let fold = |start: A, order: &mut dyn Iterator<Item = &A>| {
        let mut total = start;
        for chunk in order {
            merge(&mut total, chunk);
        }
        total
    };
    let mut results: Vec<(String, S)> = Vec::new();

    // ((a b) c) ... into a fresh accumulator.
    let total = fold(new(), &mut chunks.iter());
    results.push(("left fold".into(), finish(&total)));
    // Into the first chunk's accumulator itself (it received pushes and then merges).
    let total = fold(chunks[0].clone(), &mut chunks[1..].iter());
    results.push(("into first chunk".into(), finish(&total)));
    // (... (c (d e))), right to left.
    let mut total = chunks.last().unwrap().clone();
    for chunk in chunks.iter().rev().skip(1) {
        let mut next = chunk.clone();
        merge(&mut next, &total);
        total = next;
    }
    results.push(("right fold".into(), finish(&total)));
    // Reverse order.
    let total = fold(new(), &mut chunks.iter().rev());
    results.push(("reversed".into(), finish(&total)));
    // Odd/even shards merged separately, then together.
    let odd = fold(new(), &mut chunks.iter().skip(1).step_by(2));
    let even = fold(new(), &mut chunks.iter().step_by(2));
    let mut total = odd.clone();
    merge(&mut total, &even);
    results.push(("shards".into(), finish(&total)));
    // Random binary trees over random orders.
    for seed in 1..=4 {
        let mut rng = Lcg::new(seed);
        let mut pool = chunks.clone();
        while pool.len() > 1 {
            let i = rng.below(pool.len() as u64) as usize;
            let taken = pool.swap_remove(i);
            let j = rng.below(pool.len() as u64) as usize;
            merge(&mut pool[j], &taken);
        }
        results.push((format!("random tree {seed}"), finish(&pool[0])));
    }

    let (first_name, first) = results.remove(0);
    let expected = format!("{first:?}");
    for (name, summary) in &results {
        assert_eq!(
            format!("{summary:?}"),
            expected,
            "{name} differs from {first_name}"
        );
    }
    first
}
