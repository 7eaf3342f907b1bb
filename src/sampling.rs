//! Sampling plans layered on the keyed streams: Latin hypercube stratification, held
//! values (sensitivity), donor uniforms (Sobol) and a conditional copula.
//!
//! A `Sampler` lives in the compiled `Model` and is empty by default, in which case
//! `draw_parameters` does exactly what it did before (plain Monte Carlo). Every plan
//! only rewrites the uniforms or values of the parameters it names, after they have been
//! drawn from their own streams, so every other stream (other parameters, observation
//! noise) is untouched: common random numbers hold between a plain and a modified run.
//!
//! Latin hypercube: for trial t of n and each parameter uniform j (and each yes/no
//! outcome uniform), u = (perm_j(t) + v) / n, where v is the uniform the stream drew and
//! perm_j is a keyed bijection of [0, n) (a 6-round Feistel network on the smallest even
//! bit width covering n, cycle-walked into [0, n)), so no table of n entries is stored
//! and every trial is computed independently of the others (any thread count, any shard).
use crate::correlation::{Conditional, Copula};
use crate::model::Model;
use crate::rng::{mix64, path_key, stream, stream_key};

/// A keyed pseudo-random permutation of [0, n), computed on demand.
#[derive(Clone, Debug)]
pub struct Permutation {
    n: u64,
    half_bits: u32,
    key: u64,
}

impl Permutation {
    pub fn new(n: u64, key: u64) -> Permutation {
        let bits = 64 - n.saturating_sub(1).leading_zeros();
        Permutation {
            n,
            half_bits: bits.div_ceil(2).max(1),
            key,
        }
    }

    fn feistel(&self, x: u64) -> u64 {
        let mask = (1u64 << self.half_bits) - 1;
        let mut left = x >> self.half_bits;
        let mut right = x & mask;
        for round in 0..6u64 {
            let f = mix64(self.key ^ round.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ right) & mask;
            (left, right) = (right, left ^ f);
        }
        (left << self.half_bits) | right
    }

    /// The image of `t` (t < n). Cycle walking: apply the bijection of the power-of-4
    /// domain until the value falls in [0, n); this is a bijection of [0, n).
    pub fn apply(&self, t: u64) -> u64 {
        let mut x = t;
        loop {
            x = self.feistel(x);
            if x < self.n {
                return x;
            }
        }
    }
}

/// Latin hypercube over `n` trials: one permutation per parameter uniform and outcome.
#[derive(Clone, Debug)]
pub struct Lhs {
    pub n: u64,
    /// Per parameter, one permutation per uniform it draws (empty for fixed ones).
    params: Vec<Vec<Permutation>>,
    outcomes: Vec<Permutation>,
}

impl Lhs {
    pub fn new(model: &Model, n: u64) -> Lhs {
        let key =
            |path: &str, j: usize| stream_key(model.seed, path_key(&format!("{path}#lhs{j}")));
        Lhs {
            n,
            params: model
                .params
                .iter()
                .map(|p| {
                    (0..p.uniforms)
                        .map(|j| Permutation::new(n, key(&p.path, j)))
                        .collect()
                })
                .collect(),
            outcomes: model
                .outcomes
                .iter()
                .map(|o| Permutation::new(n, key(&o.path, 0)))
                .collect(),
        }
    }

    #[inline]
    fn stratify(&self, perm: &Permutation, trial: u64, v: f64) -> f64 {
        // Largest double below 1: keep u strictly inside (0, 1).
        const TOP: f64 = 1.0 - f64::EPSILON / 2.0;
        ((perm.apply(trial) as f64 + v) / self.n as f64).min(TOP)
    }
}

/// A value or outcome held fixed in every trial.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Hold {
    Value { param: usize, value: f64 },
    Outcome { outcome: usize, occurs: bool },
}

/// Uniforms of some parameters and outcomes taken from another trial's streams (trial
/// index + offset): the B-matrix row of the Saltelli scheme, recomputed rather than stored.
#[derive(Clone, Debug, Default)]
pub struct Donor {
    pub params: Vec<usize>,
    pub outcomes: Vec<usize>,
    pub offset: u64,
}

/// The sampling plan of a run. `Sampler::default()` is plain Monte Carlo.
#[derive(Clone, Debug, Default)]
pub struct Sampler {
    pub lhs: Option<Lhs>,
    pub holds: Vec<Hold>,
    pub donor: Option<Donor>,
    pub conditional: Option<Conditional>,
}

impl Sampler {
    /// True when the plan changes nothing.
    pub fn is_plain(&self) -> bool {
        self.lhs.is_none()
            && self.holds.is_empty()
            && self.donor.is_none()
            && self.conditional.is_none()
    }

    /// "mc" or "lhs", as reported in `run.sampling`.
    pub fn name(&self) -> &'static str {
        if self.lhs.is_some() { "lhs" } else { "mc" }
    }

    /// Rewrites the independent uniforms (before the copula) of trial `index`.
    pub fn adjust_uniforms(
        &self,
        model: &Model,
        index: u64,
        uniforms: &mut [f64],
        outcome_uniforms: &mut [f64],
    ) {
        if let Some(donor) = &self.donor {
            let from = index.wrapping_add(donor.offset);
            for &p in &donor.params {
                let param = &model.params[p];
                let mut s = stream(param.key, from);
                for u in &mut uniforms[param.offset..param.offset + param.uniforms] {
                    *u = s.uniform();
                }
            }
            for &o in &donor.outcomes {
                outcome_uniforms[o] = stream(model.outcomes[o].key, from).uniform();
            }
        }
        if let Some(lhs) = &self.lhs
            && index < lhs.n
        {
            for (param, perms) in model.params.iter().zip(&lhs.params) {
                for (j, perm) in perms.iter().enumerate() {
                    let u = &mut uniforms[param.offset + j];
                    *u = lhs.stratify(perm, index, *u);
                }
            }
            for (u, perm) in outcome_uniforms.iter_mut().zip(&lhs.outcomes) {
                *u = lhs.stratify(perm, index, *u);
            }
        }
    }

    /// Applies the copula, conditionally on one dimension when a plan asks for it.
    pub fn apply_copula(&self, copula: &Copula, u: &mut [f64], z: &mut [f64]) {
        match &self.conditional {
            Some(c) => c.apply(u, z),
            None => copula.apply(u, z),
        }
    }

    /// Overwrites held values (before outcomes are decided from probabilities).
    pub fn hold_values(&self, values: &mut [f64]) {
        for h in &self.holds {
            if let Hold::Value { param, value } = *h {
                values[param] = value;
            }
        }
    }

    /// Overwrites held yes/no outcomes.
    pub fn hold_outcomes(&self, occurs: &mut [bool]) {
        for h in &self.holds {
            if let Hold::Outcome { outcome, occurs: o } = *h {
                occurs[outcome] = o;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permutations_are_bijections_for_awkward_sizes() {
        for n in [1u64, 2, 3, 5, 16, 17, 1000, 1023, 1025, 4097] {
            let p = Permutation::new(n, 12345 + n);
            let mut seen = vec![false; n as usize];
            for t in 0..n {
                let x = p.apply(t) as usize;
                assert!(!seen[x], "n={n}: {x} twice");
                seen[x] = true;
            }
        }
    }

    #[test]
    fn permutations_depend_on_the_key() {
        let a: Vec<u64> = (0..100)
            .map(|t| Permutation::new(100, 1).apply(t))
            .collect();
        let b: Vec<u64> = (0..100)
            .map(|t| Permutation::new(100, 2).apply(t))
            .collect();
        assert_ne!(a, b);
        // Not the identity either.
        assert!(
            a.iter()
                .enumerate()
                .filter(|(i, x)| *i as u64 == **x)
                .count()
                < 10
        );
    }
}
