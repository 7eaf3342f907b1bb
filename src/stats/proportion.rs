//! Counts of a yes/no event per trial (P(full), P(zero), P(met), P(ROI > 1)).
//!
//! Invariant: the state is two exact integers, so merging is exact and order-free. The
//! standard error matches what `RealStats` would give for the same 0/1 values: the
//! sample sd (with n - 1) over sqrt(n), i.e. sqrt(p (1 - p) / (n - 1)), and 0 when n < 2.

/// Hits out of trials; see the module documentation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Proportion {
    pub hits: u64,
    pub n: u64,
}

impl Proportion {
    #[inline]
    pub fn push(&mut self, yes: bool) {
        self.hits += u64::from(yes);
        self.n += 1;
    }

    /// Pushes every answer of `yes` in turn.
    #[inline]
    pub fn push_all(&mut self, yes: &[bool]) {
        self.hits += yes.iter().map(|&y| u64::from(y)).sum::<u64>();
        self.n += yes.len() as u64;
    }

    pub fn merge(&mut self, other: &Proportion) {
        self.hits += other.hits;
        self.n += other.n;
    }

    /// Checks a state read from a shard partial that should count `n` trials.
    pub fn check_count(&self, n: u64) -> Result<(), String> {
        if self.n != n {
            return Err(format!("counts {} values, not {n}", self.n));
        }
        if self.hits > self.n {
            return Err(format!("counts {} hits in only {n} values", self.hits));
        }
        Ok(())
    }

    /// hits / n, and 0 when n = 0.
    pub fn value(&self) -> f64 {
        if self.n == 0 {
            0.0
        } else {
            self.hits as f64 / self.n as f64
        }
    }

    /// Monte Carlo standard error of [`Proportion::value`]; 0 when n < 2.
    pub fn mcse(&self) -> f64 {
        if self.n < 2 {
            return 0.0;
        }
        let p = self.value();
        (p * (1.0 - p) / (self.n - 1) as f64).sqrt()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::RealStats;

    #[test]
    fn counts_value_and_mcse() {
        let empty = Proportion::default();
        assert_eq!((empty.value(), empty.mcse()), (0.0, 0.0));
        let mut p = Proportion::default();
        let mut reals = RealStats::new();
        for i in 0..10 {
            p.push(i % 4 == 0);
            reals.push(f64::from(u8::from(i % 4 == 0)));
        }
        assert_eq!((p.hits, p.n), (3, 10));
        assert_eq!(p.value(), 0.3);
        let reference = reals.finish().mcse;
        assert!(
            (p.mcse() - reference).abs() < 1e-15,
            "{} vs {reference}",
            p.mcse()
        );
        let mut q = Proportion { hits: 1, n: 1 };
        assert_eq!(q.mcse(), 0.0);
        q.merge(&p);
        assert_eq!(q, Proportion { hits: 4, n: 11 });
    }
}
