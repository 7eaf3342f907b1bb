//! Rank correlation between uncertain values by a Gaussian copula.
//!
//! A Spearman rank correlation r is turned into the Pearson correlation of the underlying
//! normals, rho = 2 sin(pi r / 6) (exact for the bivariate normal), the matrix is factored
//! by Cholesky once per run (which also proves it positive definite), and each trial maps
//! the group's independent uniforms u -> z = Phi^-1(u) -> L z -> Phi(.) before the values'
//! own inverse CDFs. Marginals are untouched; only the dependence changes. A block of
//! trials can be correlated at once (`Copula::apply_each`, the same values), so the normal
//! quantiles and CDFs of all its trials are worked in vectorised passes.
use crate::dist::{normal_cdf, normal_cdf_each, normal_quantile, normal_quantile_each};
use crate::scenario::Correlation;

/// Pearson correlation of the normal scores that gives Spearman rank correlation `rank`.
pub fn pearson_of_rank(rank: f64) -> f64 {
    2.0 * (std::f64::consts::PI * rank / 6.0).sin()
}

/// A correlated group: the paths in matrix order and the lower Cholesky factor.
#[derive(Clone, Debug)]
pub struct Copula {
    pub paths: Vec<String>,
    lower: Vec<f64>,
}

impl Copula {
    /// Builds the copula over every path named in `correlations`, or says why the matrix is
    /// not positive definite.
    pub fn new(correlations: &[Correlation]) -> Result<Copula, String> {
        let mut paths: Vec<String> = Vec::new();
        for c in correlations {
            for p in &c.between {
                if !paths.contains(p) {
                    paths.push(p.clone());
                }
            }
        }
        let n = paths.len();
        let mut m = vec![0.0; n * n];
        for i in 0..n {
            m[i * n + i] = 1.0;
        }
        for c in correlations {
            let i = paths.iter().position(|p| *p == c.between[0]).unwrap_or(0);
            let j = paths.iter().position(|p| *p == c.between[1]).unwrap_or(0);
            let rho = pearson_of_rank(c.rank);
            m[i * n + j] = rho;
            m[j * n + i] = rho;
        }
        let lower = cholesky(&m, n).ok_or_else(|| {
            format!(
                "the correlation matrix over {} is not positive definite",
                paths.join(", ")
            )
        })?;
        Ok(Copula { paths, lower })
    }

    pub fn len(&self) -> usize {
        self.paths.len()
    }

    pub fn is_empty(&self) -> bool {
        self.paths.is_empty()
    }

    /// Correlates `u` in place (len == self.len()). `z` is scratch of the same length.
    pub fn apply(&self, u: &mut [f64], z: &mut [f64]) {
        let n = self.paths.len();
        for (zi, ui) in z.iter_mut().zip(u.iter()) {
            *zi = normal_quantile(*ui);
        }
        for (i, ui) in u.iter_mut().enumerate().take(n) {
            let row = &self.lower[i * n..i * n + i + 1];
            let s: f64 = row.iter().zip(z.iter()).map(|(l, zj)| l * zj).sum();
            *ui = inside_unit(normal_cdf(s));
        }
    }
}

/// A correlated uniform kept strictly inside (0, 1), so inverse CDFs never see an endpoint.
#[inline]
fn inside_unit(p: f64) -> f64 {
    p.clamp(1e-300, 1.0 - f64::EPSILON / 2.0)
}

/// Scratch for [`Copula::apply_each`]: per dimension, one column of `width` lanes for
/// the normal scores, and one lane column for a dimension's correlated score.
#[derive(Clone, Debug)]
pub struct CopulaLanes {
    width: usize,
    /// The block's uniforms, one column per dimension (`u[d * width + i]`).
    pub u: Vec<f64>,
    z: Vec<f64>,
    score: Vec<f64>,
}

impl CopulaLanes {
    pub fn new(copula: &Copula, width: usize) -> CopulaLanes {
        let column = |n: usize| vec![0.0; n * width];
        CopulaLanes {
            width,
            u: column(copula.len()),
            z: column(copula.len()),
            score: column(1),
        }
    }
}

impl Copula {
    /// [`Copula::apply`] for the first `n` trials of a block at once, their uniforms in
    /// `lanes.u`: every normal score (vectorised, `normal_quantile_each`), then each
    /// dimension's sum of `L z` for every trial, added in the same order as `apply`
    /// (`Iterator::sum`, from -0.0), and its `Phi` (`normal_cdf_each`). The same values.
    #[inline(always)]
    pub fn apply_each(&self, lanes: &mut CopulaLanes, n: usize) {
        let dims = self.paths.len();
        let width = lanes.width;
        for d in 0..dims {
            let u = &lanes.u[d * width..][..n];
            normal_quantile_each(&mut lanes.z[d * width..][..n], |i| u[i]);
        }
        for d in 0..dims {
            let score = &mut lanes.score[..n];
            score.fill(-0.0);
            for (j, &l) in self.lower[d * dims..=d * dims + d].iter().enumerate() {
                for (s, &z) in score.iter_mut().zip(&lanes.z[j * width..][..n]) {
                    *s += l * z;
                }
            }
            let u = &mut lanes.u[d * width..][..n];
            normal_cdf_each(u, score);
            for u in u.iter_mut() {
                *u = inside_unit(*u);
            }
        }
    }
}

/// The copula with one dimension held at a given rank: the other dimensions' normal
/// scores are drawn from their conditional distribution given that one's score
/// (used by the tornado to move a parameter's correlated partners with it).
///
/// The matrix is reordered with the held dimension first and factored again; with
/// z = L w and `L[0][0] = 1`, setting w_0 = Phi^-1(rank) fixes z_0 and leaves the rest
/// distributed as z_rest | z_0, each still driven by its own uniform.
#[derive(Clone, Debug)]
pub struct Conditional {
    order: Vec<usize>,
    lower: Vec<f64>,
    score: f64,
}

impl Copula {
    /// The correlation matrix of the normal scores (row-major), rebuilt as L L^T.
    pub fn matrix(&self) -> Vec<f64> {
        let n = self.paths.len();
        let mut m = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..n {
                m[i * n + j] = (0..=i.min(j))
                    .map(|k| self.lower[i * n + k] * self.lower[j * n + k])
                    .sum();
            }
        }
        m
    }

    /// Conditions on dimension `dim` having uniform `rank` (in (0, 1)).
    pub fn conditional(&self, dim: usize, rank: f64) -> Conditional {
        let n = self.paths.len();
        let m = self.matrix();
        let mut order = vec![dim];
        order.extend((0..n).filter(|&i| i != dim));
        let permuted: Vec<f64> = (0..n * n)
            .map(|k| m[order[k / n] * n + order[k % n]])
            .collect();
        // A symmetric permutation of a positive definite matrix is positive definite.
        let lower = cholesky(&permuted, n).unwrap_or_else(|| self.lower.clone());
        Conditional {
            order,
            lower,
            score: normal_quantile(rank),
        }
    }
}

impl Conditional {
    /// Like `Copula::apply`, with the held dimension's score fixed.
    pub fn apply(&self, u: &mut [f64], z: &mut [f64]) {
        let n = self.order.len();
        for (k, &i) in self.order.iter().enumerate() {
            z[k] = if k == 0 {
                self.score
            } else {
                normal_quantile(u[i])
            };
        }
        for (k, &i) in self.order.iter().enumerate() {
            let row = &self.lower[k * n..k * n + k + 1];
            let s: f64 = row.iter().zip(z.iter()).map(|(l, w)| l * w).sum();
            u[i] = normal_cdf(s).clamp(1e-300, 1.0 - f64::EPSILON / 2.0);
        }
    }
}

/// Validation hook for the scenario reader.
pub fn check_positive_definite(correlations: &[Correlation]) -> Result<(), String> {
    Copula::new(correlations).map(|_| ())
}

fn cholesky(m: &[f64], n: usize) -> Option<Vec<f64>> {
    let mut l = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            let mut s = m[i * n + j];
            for k in 0..j {
                s -= l[i * n + k] * l[j * n + k];
            }
            if i == j {
                if s <= 1e-10 {
                    return None;
                }
                l[i * n + i] = s.sqrt();
            } else {
                l[i * n + j] = s / l[j * n + j];
            }
        }
    }
    Some(l)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corr(a: &str, b: &str, rank: f64) -> Correlation {
        Correlation {
            between: [a.into(), b.into()],
            rank,
        }
    }

    /// A block through `apply_each` gets what `apply` gives each trial, to the bit,
    /// tails and endpoints included.
    #[test]
    fn apply_each_equals_apply() {
        let copula = Copula::new(&[
            corr("a", "b", 0.6),
            corr("b", "c", -0.4),
            corr("a", "c", 0.2),
        ])
        .unwrap();
        let (dims, width) = (copula.len(), 16);
        let mut lanes = CopulaLanes::new(&copula, width);
        let values = [
            1e-300,
            1e-9,
            0.01,
            0.074,
            0.3,
            0.5,
            0.77,
            0.926,
            0.999,
            1.0 - 1e-16,
        ];
        let trial_u = |i: usize, d: usize| values[(i * 7 + d * 3) % values.len()];
        for n in [width, 5] {
            for i in 0..n {
                for d in 0..dims {
                    lanes.u[d * width + i] = trial_u(i, d);
                }
            }
            copula.apply_each(&mut lanes, n);
            for i in 0..n {
                let mut u: Vec<f64> = (0..dims).map(|d| trial_u(i, d)).collect();
                copula.apply(&mut u, &mut vec![0.0; dims]);
                for (d, u) in u.iter().enumerate() {
                    assert_eq!(u.to_bits(), lanes.u[d * width + i].to_bits(), "{i} {d}");
                }
            }
        }
    }

    #[test]
    fn rejects_contradictory_matrices() {
        let bad = [
            corr("a", "b", 0.95),
            corr("b", "c", 0.95),
            corr("a", "c", -0.95),
        ];
        assert!(Copula::new(&bad).is_err());
        let good = [corr("a", "b", 0.5), corr("b", "c", 0.5)];
        assert!(Copula::new(&good).is_ok());
    }

    #[test]
    fn conditional_copula_matches_the_conditional_normal() {
        // Three dimensions; hold the middle one at rank 0.9. Given z_1 = c, z_0 has mean
        // rho01 c and z_2 has mean rho12 c (rho02 = 0 here but z_2 is still moved).
        let copula = Copula::new(&[corr("a", "b", 0.6), corr("b", "c", 0.4)]).unwrap();
        let m = copula.matrix();
        let held = copula.conditional(1, 0.9);
        let c = normal_quantile(0.9);
        let n: usize = 200_000;
        let (mut s0, mut s2, mut q0) = (0.0, 0.0, 0.0);
        let mut z = [0.0; 3];
        for k in 0..n {
            // Stratified uniforms for the free dimensions (deterministic test).
            let mut u = [
                ((k * 7919 % n) as f64 + 0.5) / n as f64,
                0.3,
                ((k * 104_729 % n) as f64 + 0.5) / n as f64,
            ];
            held.apply(&mut u, &mut z);
            assert!((u[1] - 0.9).abs() < 1e-12);
            let z0 = normal_quantile(u[0]);
            s0 += z0;
            q0 += z0 * z0;
            s2 += normal_quantile(u[2]);
        }
        let mean0 = s0 / n as f64;
        let var0 = q0 / n as f64 - mean0 * mean0;
        assert!((mean0 - m[1] * c).abs() < 0.01, "{mean0}");
        assert!((var0 - (1.0 - m[1] * m[1])).abs() < 0.01, "{var0}");
        assert!((s2 / n as f64 - m[5] * c).abs() < 0.01);
    }

    #[test]
    fn pearson_of_rank_fixes_endpoints() {
        assert!((pearson_of_rank(1.0) - 1.0).abs() < 1e-15);
        assert_eq!(pearson_of_rank(0.0), 0.0);
    }
}
