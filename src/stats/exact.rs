//! Exact arithmetic behind the order-free merges of `stats`: a float expansion
//! ([`ExactSum`], Shewchuk's partials as in Python's `math.fsum`) for real values, and a
//! small fixed-width unsigned integer ([`Wide`]) for sums of squared pence.
//!
//! Invariants: `ExactSum` holds the exact sum of every finite `f64` added to it, as a
//! list of non-overlapping partials; [`ExactSum::value`] is that sum correctly rounded,
//! so it depends only on the exact value, never on the order of additions or on how the
//! partials happen to be laid out. Exactness has two documented limits: an intermediate
//! sum beyond `f64::MAX` (the sum then becomes infinite), and products that underflow
//! into subnormals in [`ExactSum::add_product`] (their error term is not exact). Neither
//! occurs for values of sensible magnitude (1e-150 < |x| < 1e150).

/// Error-free sum: `a + b == s + e` exactly (Knuth's TwoSum), for finite `s`.
fn two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    let b_virtual = s - a;
    let a_virtual = s - b_virtual;
    (s, (a - a_virtual) + (b - b_virtual))
}

/// Error-free product: `a * b == p + e` exactly, barring underflow and overflow.
fn two_product(a: f64, b: f64) -> (f64, f64) {
    let p = a * b;
    (p, a.mul_add(b, -p))
}

/// The exact sum of a multiset of `f64` values; see the module documentation.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct ExactSum {
    /// Non-overlapping, increasing in magnitude; their exact sum is the total.
    #[serde(with = "super::bits::vec")]
    partials: Vec<f64>,
    /// Sum of non-finite inputs and of overflowed intermediates; 0 while exact.
    #[serde(with = "super::bits")]
    non_finite: f64,
}

impl ExactSum {
    /// Adds `x` exactly.
    pub(crate) fn add(&mut self, x: f64) {
        if !x.is_finite() {
            self.non_finite += x;
            return;
        }
        let mut x = x;
        let mut kept = 0;
        for j in 0..self.partials.len() {
            let (high, low) = two_sum(x, self.partials[j]);
            if !high.is_finite() {
                // The exact total is beyond f64; record that and stop being exact.
                self.non_finite += high;
                self.partials.clear();
                return;
            }
            if low != 0.0 {
                self.partials[kept] = low;
                kept += 1;
            }
            x = high;
        }
        self.partials.truncate(kept);
        self.partials.push(x);
    }

    /// Adds `a * b` exactly (see the module documentation for the underflow limit).
    pub(crate) fn add_product(&mut self, a: f64, b: f64) {
        let (p, e) = two_product(a, b);
        self.add(p);
        if p.is_finite() {
            self.add(e);
        }
    }

    /// Adds every value held by `other`.
    pub(crate) fn merge(&mut self, other: &ExactSum) {
        for &p in &other.partials {
            self.add(p);
        }
        self.non_finite += other.non_finite;
    }

    /// The partials, for exact products of two sums.
    pub(crate) fn partials(&self) -> &[f64] {
        &self.partials
    }

    /// Whether the sum is held exactly (no non-finite input, no overflow).
    pub(crate) fn is_exact(&self) -> bool {
        self.non_finite == 0.0
    }

    /// The sum, correctly rounded to nearest-even; NaN is returned as `f64::NAN`, so the
    /// bits depend only on the multiset of inputs.
    pub(crate) fn value(&self) -> f64 {
        if self.non_finite.is_nan() {
            return f64::NAN;
        }
        if self.non_finite != 0.0 {
            return self.non_finite;
        }
        // Python's math.fsum final step: add from the top until the sum becomes inexact,
        // then correct a half-way case using the sign of the rest.
        let p = &self.partials;
        let mut n = p.len();
        if n == 0 {
            return 0.0;
        }
        n -= 1;
        let mut high = p[n];
        let mut low = 0.0;
        while n > 0 {
            let x = high;
            n -= 1;
            let y = p[n];
            high = x + y;
            let y_rounded = high - x;
            low = y - y_rounded;
            if low != 0.0 {
                break;
            }
        }
        if n > 0 && ((low < 0.0 && p[n - 1] < 0.0) || (low > 0.0 && p[n - 1] > 0.0)) {
            let y = low * 2.0;
            let x = high + y;
            if y == x - high {
                high = x;
            }
        }
        high
    }
}

/// An unsigned integer of `LIMBS` 64-bit limbs, least significant first. Only what the
/// money variance needs: add, multiply by a small number, subtract, convert to f64.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Wide<const LIMBS: usize>(pub(crate) [u64; LIMBS]);

impl<const LIMBS: usize> Wide<LIMBS> {
    pub(crate) fn from_u128(x: u128) -> Self {
        let mut limbs = [0u64; LIMBS];
        limbs[0] = x as u64;
        limbs[1] = (x >> 64) as u64;
        Wide(limbs)
    }

    /// `self * m`; the caller guarantees the product fits.
    pub(crate) fn mul_u128(&self, m: u128) -> Self {
        let m_limbs = [m as u64, (m >> 64) as u64];
        let mut out = [0u64; LIMBS];
        for (j, &mj) in m_limbs.iter().enumerate() {
            let mut carry = 0u128;
            for i in 0..LIMBS - j {
                let t = u128::from(self.0[i]) * u128::from(mj) + u128::from(out[i + j]) + carry;
                out[i + j] = t as u64;
                carry = t >> 64;
            }
        }
        Wide(out)
    }

    /// `self - other`, or `None` if that would be negative.
    pub(crate) fn checked_sub(&self, other: &Self) -> Option<Self> {
        let mut out = [0u64; LIMBS];
        let mut borrow = false;
        for ((out, &a), &b) in out.iter_mut().zip(&self.0).zip(&other.0) {
            let (d, b1) = a.overflowing_sub(b);
            let (d, b2) = d.overflowing_sub(u64::from(borrow));
            *out = d;
            borrow = b1 || b2;
        }
        (!borrow).then_some(Wide(out))
    }

    /// Nearest-ish f64 (a deterministic function of the integer; relative error < 1e-15).
    pub(crate) fn to_f64(self) -> f64 {
        self.0.iter().rev().fold(0.0, |acc, &limb| {
            acc * 18_446_744_073_709_551_616.0 + limb as f64
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_sum_survives_cancellation() {
        let mut s = ExactSum::default();
        for x in [1e100, 1.0, -1e100, 1e-100, 3.0] {
            s.add(x);
        }
        assert_eq!(s.value(), 4.0);
        let mut t = ExactSum::default();
        for x in [0.1; 10] {
            t.add(x);
        }
        assert_eq!(t.value(), 1.0);
        assert_eq!(ExactSum::default().value(), 0.0);
    }

    #[test]
    fn exact_sum_rounds_half_even_across_partials() {
        // 1 + 2^-53 + tiny: the tiny part decides the rounding.
        let mut s = ExactSum::default();
        for x in [1.0, 2f64.powi(-53), 2f64.powi(-80)] {
            s.add(x);
        }
        assert_eq!(s.value(), 1.0 + f64::EPSILON);
        let mut t = ExactSum::default();
        for x in [1.0, 2f64.powi(-53)] {
            t.add(x);
        }
        assert_eq!(t.value(), 1.0);
    }

    #[test]
    fn exact_sum_merge_and_products() {
        let mut a = ExactSum::default();
        a.add_product(1.0 + f64::EPSILON, 1.0 + f64::EPSILON);
        a.add(-1.0);
        a.add(-2.0 * f64::EPSILON);
        assert_eq!(a.value(), f64::EPSILON * f64::EPSILON);
        let mut b = ExactSum::default();
        b.add(f64::INFINITY);
        a.merge(&b);
        assert!(!a.is_exact());
        assert_eq!(a.value(), f64::INFINITY);
        b.add(f64::NEG_INFINITY);
        assert!(b.value().is_nan());
        let mut c = ExactSum::default();
        c.add(f64::MAX);
        c.add(f64::MAX);
        assert_eq!(c.value(), f64::INFINITY);
    }

    #[test]
    fn wide_arithmetic() {
        let a = Wide::<4>::from_u128(u128::MAX);
        let b = a.mul_u128(u128::MAX);
        // (2^128 - 1)^2 = 2^256 - 2^129 + 1
        assert_eq!(b.0, [1, 0, u64::MAX - 1, u64::MAX]);
        let c = b.checked_sub(&Wide::from_u128(1)).unwrap();
        assert_eq!(c.0, [0, 0, u64::MAX - 1, u64::MAX]);
        assert_eq!(Wide::<4>::from_u128(1).checked_sub(&c), None);
        assert_eq!(Wide::<4>::from_u128(12345).to_f64(), 12345.0);
        assert_eq!(c.to_f64(), 2f64.powi(256));
    }
}
