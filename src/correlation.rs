//! Rank correlation between uncertain values by a Gaussian copula.
//!
//! A Spearman rank correlation r is turned into the Pearson correlation of the underlying
//! normals, rho = 2 sin(pi r / 6) (exact for the bivariate normal), the matrix is factored
//! by Cholesky once per run (which also proves it positive definite), and each trial maps
//! the group's independent uniforms u -> z = Phi^-1(u) -> L z -> Phi(.) before the values'
//! own inverse CDFs. Marginals are untouched; only the dependence changes.
use crate::dist::{normal_cdf, normal_quantile};
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
            // Keep strictly inside (0, 1) so inverse CDFs never see an endpoint.
            *ui = normal_cdf(s).clamp(1e-300, 1.0 - f64::EPSILON / 2.0);
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
    fn pearson_of_rank_fixes_endpoints() {
        assert!((pearson_of_rank(1.0) - 1.0).abs() < 1e-15);
        assert_eq!(pearson_of_rank(0.0), 0.0);
    }
}
