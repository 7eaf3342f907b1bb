//! Keyed random streams: every random quantity of a trial has its own stream, derived from
//! (seed, trial index, parameter path).
//!
//! This is what makes runs reproducible on any thread count and in any shard split (a
//! trial's draws do not depend on which worker ran it), and what gives common random
//! numbers between scenarios: `scheme.reablement.effect.nea` in trial 17 draws the same
//! uniforms in every scenario that has that path. The generator is `SplitMix64` from
//! `rand_xoshiro` (a named, version-stable algorithm), seeded by mixing the three keys with
//! the SplitMix64 finaliser. Path hashes use 64-bit FNV-1a over the path's bytes.
use rand::Rng;
use rand::SeedableRng;
use rand_xoshiro::SplitMix64;

/// 64-bit FNV-1a of a path: stable across platforms and releases.
pub fn path_key(path: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in path.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// The SplitMix64 output finaliser (Steele, Lea & Flood 2014).
#[inline]
pub fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_133e_11eb);
    z ^ (z >> 31)
}

/// A run-level key for one path: computed once per run.
#[inline]
pub fn stream_key(seed: u64, path_key: u64) -> u64 {
    mix64(mix64(seed ^ 0x6a09_e667_f3bc_c909) ^ path_key)
}

/// The stream of one path in one trial.
#[inline]
pub fn stream(stream_key: u64, trial: u64) -> Stream {
    Stream(SplitMix64::seed_from_u64(mix64(
        stream_key ^ trial.wrapping_mul(TRIAL_STEP),
    )))
}

/// What a trial's index is multiplied by in its streams' seeds (the golden ratio in
/// 64 bits).
const TRIAL_STEP: u64 = 0x9e37_79b9_7f4a_7c15;

/// The first uniform of stream `key` in trials `first`, `first + 1`, ... into `out`:
/// `stream(key, first + i).uniform()` for each `i`. The trials are independent, so the
/// compiler vectorises the loop (with AVX2, four trials at a time); each trial's
/// `trial * TRIAL_STEP` is stepped by an addition instead of multiplied out (the same
/// value: wrapping arithmetic is exact modulo 2^64), which saves an emulated 64-bit
/// vector multiply per trial.
#[inline(always)]
pub fn first_uniforms(key: u64, first: u64, out: &mut [f64]) {
    let mut h = first.wrapping_mul(TRIAL_STEP);
    for u in out.iter_mut() {
        *u = Stream(SplitMix64::seed_from_u64(mix64(key ^ h))).uniform();
        h = h.wrapping_add(TRIAL_STEP);
    }
}

/// The first two uniforms of stream `key` in trials `first`, `first + 1`, ... into `a`
/// and `b` (of the same length), as [`first_uniforms`].
#[inline(always)]
pub fn first_two_uniforms(key: u64, first: u64, a: &mut [f64], b: &mut [f64]) {
    let mut h = first.wrapping_mul(TRIAL_STEP);
    for (a, b) in a.iter_mut().zip(b) {
        let mut s = Stream(SplitMix64::seed_from_u64(mix64(key ^ h)));
        *a = s.uniform();
        *b = s.uniform();
        h = h.wrapping_add(TRIAL_STEP);
    }
}

/// A per-trial, per-path generator of uniforms in the open interval (0, 1).
pub struct Stream(SplitMix64);

impl Stream {
    #[inline]
    pub fn uniform(&mut self) -> f64 {
        to_unit(self.0.next_u64())
    }
}

/// 52 random bits to a double strictly inside (0, 1): (k + 1/2) / 2^52, so the largest
/// value is 1 - 2^-53, which is representable (with 53 bits it would round up to 1).
///
/// Computed without an integer-to-float conversion: the 52 bits `k` as the significand of
/// a double in [1, 2) give 1 + k / 2^52 exactly, and subtracting 1 - 2^-53 (the largest
/// double below 1) leaves (2k + 1) / 2^53, which has at most 53 significant bits and so is
/// exact: the same bits as `((x >> 12) as f64 + 0.5) / 2^52` for every `x`.
#[inline]
pub fn to_unit(x: u64) -> f64 {
    f64::from_bits(0x3ff0_0000_0000_0000 | (x >> 12)) - (1.0 - 1.0 / 9_007_199_254_740_992.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn golden_values_do_not_change_between_releases() {
        // If this fails, every published result changes: do not update it lightly.
        assert_eq!(
            path_key("scheme.reablement.effect.nea"),
            path_key("scheme.reablement.effect.nea")
        );
        assert_eq!(path_key(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(path_key("a"), 0xaf63_dc4c_8601_ec8c);
        let mut s = stream(stream_key(1, path_key("fund.pot")), 17);
        let first = s.uniform();
        let mut again = stream(stream_key(1, path_key("fund.pot")), 17);
        assert_eq!(first.to_bits(), again.uniform().to_bits());
        assert!(first > 0.0 && first < 1.0);
    }

    #[test]
    fn streams_differ_by_trial_seed_and_path() {
        let a = stream(stream_key(1, path_key("x")), 0).uniform();
        let b = stream(stream_key(1, path_key("x")), 1).uniform();
        let c = stream(stream_key(2, path_key("x")), 0).uniform();
        let d = stream(stream_key(1, path_key("y")), 0).uniform();
        assert!(a != b && a != c && a != d);
    }

    #[test]
    fn block_uniforms_equal_streams_trial_by_trial() {
        let key = stream_key(5, path_key("block"));
        for first in [0, 17, u64::MAX - 3] {
            let (mut one, mut a, mut b) = ([0.0; 9], [0.0; 9], [0.0; 9]);
            first_uniforms(key, first, &mut one);
            first_two_uniforms(key, first, &mut a, &mut b);
            for i in 0..9 {
                let mut s = stream(key, first.wrapping_add(i as u64));
                let u = s.uniform();
                assert_eq!(one[i].to_bits(), u.to_bits());
                assert_eq!(a[i].to_bits(), u.to_bits());
                assert_eq!(b[i].to_bits(), s.uniform().to_bits());
            }
        }
    }

    #[test]
    fn uniforms_are_strictly_inside_the_unit_interval() {
        assert!(to_unit(0) > 0.0);
        assert!(to_unit(u64::MAX) < 1.0);
    }

    #[test]
    fn to_unit_is_k_plus_one_half_over_two_to_the_52() {
        let reference = |x: u64| ((x >> 12) as f64 + 0.5) * (1.0 / 4_503_599_627_370_496.0);
        let mut edges = vec![0, 1 << 12, (1 << 12) - 1, u64::MAX, u64::MAX - (1 << 12)];
        edges.extend((0..64).map(|b| 1u64 << b));
        let mut s = stream(stream_key(3, path_key("to_unit")), 0);
        edges.extend((0..100_000).map(|_| s.0.next_u64()));
        for x in edges {
            assert_eq!(to_unit(x).to_bits(), reference(x).to_bits(), "{x:#x}");
        }
    }

    #[test]
    fn uniform_mean_is_one_half() {
        let key = stream_key(7, path_key("p"));
        let n = 100_000;
        let mean: f64 = (0..n).map(|t| stream(key, t).uniform()).sum::<f64>() / n as f64;
        // sd of the mean = sqrt(1/12/n) ~ 0.0009; allow 5 sd.
        assert!((mean - 0.5).abs() < 0.0046, "{mean}");
    }
}
