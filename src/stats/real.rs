//! Streaming summary of real values ([`RealStats`] -> [`RealSummary`]).
//!
//! Two layers. The *running chunk* receives pushes on the hot path: plain f64 sums of
//! `d = x - shift` and `d * d`, where `shift` is the first value pushed into this
//! accumulator (deterministic, because a chunk's pushes arrive in trial order). The
//! *merged* layer holds exact sums ([`ExactSum`]) of x and x², to which a chunk
//! contributes `n·shift + Σd` and `n·shift² + 2·shift·Σd + Σd²`, each product added
//! exactly. `merge` folds the other accumulator's merged layer and its running chunk into
//! this one's merged layer and leaves this one's running chunk alone; `finish` folds the
//! running chunk into a copy. So an accumulator that has been merged into and also
//! received pushes counts its own pushes as one more chunk, consistently.
//!
//! Invariant: `finish()` depends only on the multiset of chunks (a chunk being the
//! sequence of pushes one accumulator received), bit for bit, however the accumulators
//! are grouped and ordered when merging. The mean is the exact sum rounded once, divided
//! by n; the variance is `(n·S2 - S1²) / (n (n - 1))` with the numerator computed exactly,
//! so a large mean does not cancel the spread away. Non-finite values (NaN, ±inf) are
//! counted in [`RealStats::non_finite`] and otherwise ignored: `n` and every statistic are
//! over the finite values only. Squares must fit in f64: with |x| beyond about 1e154 the
//! sums of squares overflow and sd and mcse become NaN or infinite (never a panic).

use super::exact::ExactSum;
use super::quantile::{QuantileStore, SketchValue};

/// Summary of real values (MODEL.md section 9); see the module documentation.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct RealSummary {
    /// Number of finite values.
    pub n: u64,
    pub mean: f64,
    /// Standard deviation with n - 1; 0 when n < 2.
    pub sd: f64,
    /// Monte Carlo standard error, sd / sqrt(n); 0 when n = 0.
    pub mcse: f64,
    pub p5: f64,
    pub p10: f64,
    pub p25: f64,
    pub p50: f64,
    pub p75: f64,
    pub p90: f64,
    pub p95: f64,
    pub min: f64,
    pub max: f64,
    /// Number of NaN or infinite values pushed (excluded from everything above).
    pub non_finite: u64,
}

impl RealSummary {
    /// The JSON summary object of MODEL.md section 9 (`mean`, `sd`, `mcse`, `p5` ...
    /// `p95`) as numbers; a non-finite number becomes `null`.
    pub fn to_json(&self) -> serde_json::Value {
        let number = |x: f64| {
            serde_json::Number::from_f64(x)
                .map(serde_json::Value::Number)
                .unwrap_or(serde_json::Value::Null)
        };
        serde_json::json!({
            "mean": number(self.mean),
            "sd": number(self.sd),
            "mcse": number(self.mcse),
            "p5": number(self.p5),
            "p10": number(self.p10),
            "p25": number(self.p25),
            "p50": number(self.p50),
            "p75": number(self.p75),
            "p90": number(self.p90),
            "p95": number(self.p95),
        })
    }
}

/// Mergeable accumulator of real values; see the module documentation. Serialised
/// (for shard partials) with every f64 as its bit pattern, so a round trip is exact.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct RealStats {
    // Running chunk: the hot path.
    chunk_n: u64,
    #[serde(with = "super::bits")]
    chunk_shift: f64,
    #[serde(with = "super::bits")]
    chunk_sum: f64,
    #[serde(with = "super::bits")]
    chunk_sum_squares: f64,
    // Merged chunks, exact.
    merged_n: u64,
    sum: ExactSum,
    sum_squares: ExactSum,
    // Order-free extras. The smallest and largest values as quantile store keys (the
    // total order, as f64::total_cmp), so a push compares integers it has computed
    // anyway (`push_all` compares floats and makes keys of a slice's extremes);
    // serialised as the values' bit patterns.
    non_finite: u64,
    #[serde(with = "key_bits")]
    min: u64,
    #[serde(with = "key_bits")]
    max: u64,
    store: QuantileStore<f64>,
}

impl Default for RealStats {
    fn default() -> Self {
        RealStats {
            chunk_n: 0,
            chunk_shift: 0.0,
            chunk_sum: 0.0,
            chunk_sum_squares: 0.0,
            merged_n: 0,
            sum: ExactSum::default(),
            sum_squares: ExactSum::default(),
            non_finite: 0,
            min: f64::INFINITY.key(),
            max: f64::NEG_INFINITY.key(),
            store: QuantileStore::default(),
        }
    }
}

impl RealStats {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one value; NaN and ±inf are only counted (see [`RealStats::non_finite`]).
    #[inline]
    pub fn push(&mut self, x: f64) {
        if !x.is_finite() {
            self.non_finite += 1;
            return;
        }
        if self.chunk_n == 0 {
            self.chunk_shift = x;
        }
        let d = x - self.chunk_shift;
        self.chunk_n += 1;
        self.chunk_sum += d;
        self.chunk_sum_squares += d * d;
        // The total order (as f64::total_cmp, so -0.0 and 0.0 give the same answer in
        // any order), compared as the quantile store's integer keys, computed once.
        let key = x.key();
        self.min = self.min.min(key);
        self.max = self.max.max(key);
        self.store.push_key(key);
    }

    /// Pushes every value of `xs` in turn: the same state, bit for bit, as
    /// [`RealStats::push`] on each (the running chunk's sums add the same numbers in the
    /// same order), with the running chunk in registers and the keys appended to the
    /// quantile buffer at once. The extremes are compared as floats (one instruction each)
    /// and turned into keys once: for finite values the total order is the numeric one
    /// but for the two zeros, so an extreme that is a zero takes its sign from a look for
    /// the other zero. A non-finite value makes the sum of squares non-finite (so can an
    /// overflow of finite ones): then the slice is pushed again one by one, the registers'
    /// work discarded.
    #[inline(always)]
    pub fn push_all(&mut self, xs: &[f64]) {
        let Some(&first) = xs.first() else {
            return;
        };
        let shift = if self.chunk_n == 0 {
            first
        } else {
            self.chunk_shift
        };
        let (mut sum, mut sum_squares) = (self.chunk_sum, self.chunk_sum_squares);
        let (mut low, mut high) = (f64::INFINITY, f64::NEG_INFINITY);
        for &x in xs {
            let d = x - shift;
            sum += d;
            sum_squares += d * d;
            // Written so as to compile to one `minsd` and one `maxsd`.
            low = if x < low { x } else { low };
            high = if x > high { x } else { high };
        }
        if !sum_squares.is_finite() {
            xs.iter().for_each(|&x| self.push(x));
            return;
        }
        // Every value is finite here, so `low` and `high` are among them, and the total
        // order differs from theirs only between -0.0 and 0.0.
        let has = |zero: f64| xs.iter().any(|x| x.to_bits() == zero.to_bits());
        if low == 0.0 {
            low = if has(-0.0) { -0.0 } else { 0.0 };
        }
        if high == 0.0 {
            high = if has(0.0) { 0.0 } else { -0.0 };
        }
        (self.chunk_n, self.chunk_shift) = (self.chunk_n + xs.len() as u64, shift);
        (self.chunk_sum, self.chunk_sum_squares) = (sum, sum_squares);
        (self.min, self.max) = (self.min.min(low.key()), self.max.max(high.key()));
        self.store.push_all(xs);
    }

    /// Adds everything `other` holds (its merged chunks and its running chunk).
    pub fn merge(&mut self, other: &RealStats) {
        self.merged_n += other.merged_n;
        self.sum.merge(&other.sum);
        self.sum_squares.merge(&other.sum_squares);
        other.fold_chunk_into(&mut self.merged_n, &mut self.sum, &mut self.sum_squares);
        self.non_finite += other.non_finite;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
        self.store.merge(&other.store);
    }

    /// Folds the quantile buffer in (the state is the same; queries then read the store
    /// without copying it).
    pub fn settle(&mut self) {
        self.store.settle();
    }

    /// Closes the running chunk: its sums join the exact merged layer, as if the chunk had
    /// been pushed into a fresh accumulator and merged in. The engine calls this at the
    /// end of every chunk, so one long-lived accumulator per worker gives bit for bit the
    /// answer of a fresh accumulator per chunk.
    pub fn end_chunk(&mut self) {
        let (mut n, mut sum, mut sum_squares) = (
            self.merged_n,
            std::mem::take(&mut self.sum),
            std::mem::take(&mut self.sum_squares),
        );
        self.fold_chunk_into(&mut n, &mut sum, &mut sum_squares);
        self.merged_n = n;
        self.sum = sum;
        self.sum_squares = sum_squares;
        self.chunk_n = 0;
        self.chunk_shift = 0.0;
        self.chunk_sum = 0.0;
        self.chunk_sum_squares = 0.0;
    }

    /// Number of finite values pushed and merged.
    pub fn len(&self) -> u64 {
        self.merged_n + self.chunk_n
    }

    /// Whether no finite value has been pushed or merged.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of NaN or infinite values pushed and merged.
    pub fn non_finite(&self) -> u64 {
        self.non_finite
    }

    /// Checks a state read from a shard partial that should have seen `n` values (finite
    /// or not): its counts add up to `n` and its quantile store holds every finite one.
    /// The error says what is wrong (the caller names the field).
    pub fn check_count(&self, n: u64) -> Result<(), String> {
        let seen = self
            .merged_n
            .checked_add(self.chunk_n)
            .and_then(|finite| finite.checked_add(self.non_finite));
        if seen != Some(n) {
            return Err(format!(
                "holds {} finite and {} non-finite values, not {n} in all",
                u128::from(self.merged_n) + u128::from(self.chunk_n),
                self.non_finite
            ));
        }
        let stored = self.store.checked_len();
        if stored != Some(self.len()) {
            let stored = stored.map_or("more than 2^64".into(), |s| s.to_string());
            return Err(format!(
                "holds {stored} values for its quantiles, not its {} finite ones",
                self.len()
            ));
        }
        Ok(())
    }

    fn fold_chunk_into(&self, n: &mut u64, sum: &mut ExactSum, sum_squares: &mut ExactSum) {
        if self.chunk_n == 0 {
            return;
        }
        // Exact for chunks of fewer than 2^53 values.
        let count = self.chunk_n as f64;
        let shift = self.chunk_shift;
        *n += self.chunk_n;
        sum.add_product(count, shift);
        sum.add(self.chunk_sum);
        let shift_squared = shift * shift;
        let shift_squared_error = shift.mul_add(shift, -shift_squared);
        sum_squares.add_product(count, shift_squared);
        sum_squares.add_product(count, shift_squared_error);
        sum_squares.add_product(2.0 * shift, self.chunk_sum);
        sum_squares.add(self.chunk_sum_squares);
    }

    /// The summary; n = 0 gives all zeros.
    pub fn finish(&self) -> RealSummary {
        let mut n = self.merged_n;
        let mut sum = self.sum.clone();
        let mut sum_squares = self.sum_squares.clone();
        self.fold_chunk_into(&mut n, &mut sum, &mut sum_squares);
        let Some(p) = self.store.percentiles() else {
            return RealSummary {
                n: 0,
                mean: 0.0,
                sd: 0.0,
                mcse: 0.0,
                p5: 0.0,
                p10: 0.0,
                p25: 0.0,
                p50: 0.0,
                p75: 0.0,
                p90: 0.0,
                p95: 0.0,
                min: 0.0,
                max: 0.0,
                non_finite: self.non_finite,
            };
        };
        let count = n as f64;
        let mean = sum.value() / count;
        let sd = if n < 2 {
            0.0
        } else {
            // Exact arithmetic keeps the numerator >= 0; the guard is for overflowed sums
            // (written so that NaN stays NaN).
            let numerator = variance_numerator(count, &sum, &sum_squares);
            let numerator = if numerator < 0.0 { 0.0 } else { numerator };
            numerator.sqrt() / (count * (count - 1.0)).sqrt()
        };
        RealSummary {
            n,
            mean,
            sd,
            mcse: sd / count.sqrt(),
            p5: p[0],
            p10: p[1],
            p25: p[2],
            p50: p[3],
            p75: p[4],
            p90: p[5],
            p95: p[6],
            min: f64::from_key(self.min),
            max: f64::from_key(self.max),
            non_finite: self.non_finite,
        }
    }
}

/// Serde for a quantile store key of an f64: written as the value's bit pattern (as
/// [`super::bits`]), the form partials have always had.
mod key_bits {
    use super::SketchValue;
    use serde::{Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(key: &u64, s: S) -> Result<S::Ok, S::Error> {
        super::super::bits::serialize(&f64::from_key(*key), s)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        super::super::bits::deserialize(d).map(f64::key)
    }
}

/// `n·S2 - S1²`, computed exactly and rounded once (or in plain f64 when a sum overflowed).
fn variance_numerator(count: f64, sum: &ExactSum, sum_squares: &ExactSum) -> f64 {
    if !sum.is_exact() || !sum_squares.is_exact() {
        let value = count * sum_squares.value() - sum.value() * sum.value();
        return if value.is_nan() { f64::NAN } else { value };
    }
    let mut numerator = ExactSum::default();
    for &s2 in sum_squares.partials() {
        numerator.add_product(count, s2);
    }
    for &a in sum.partials() {
        for &b in sum.partials() {
            numerator.add_product(-a, b);
        }
    }
    numerator.value()
}

#[cfg(test)]
#[path = "real_tests.rs"]
mod tests;
