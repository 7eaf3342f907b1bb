//! The standard normal distribution: `normal_cdf` (Phi), `normal_pdf` (phi) and
//! `normal_quantile` (Phi^-1, Wichura's AS241 PPND16).
//!
//! Every other quantile in `dist` is driven through these: normal and lognormal
//! directly, the tabulated beta/gamma/PERT samplers through a grid in z = Phi^-1(u),
//! and the large-mean Poisson/binomial inverses through their normal start.
//! Invariants: `normal_quantile` is monotone non-decreasing (to within an ulp of
//! rounding, as any double implementation), returns -inf/+inf at
//! p <= 0 / p >= 1 and treats NaN as 0.5 (so it never yields NaN);
//! `normal_cdf(normal_quantile(p))` equals p to about 1e-15 relative.
#![allow(
    clippy::excessive_precision,
    reason = "coefficients are kept digit for digit as published, to check against the source"
)]

use std::sync::LazyLock;

/// 1 / sqrt(2 pi).
const FRAC_1_SQRT_2PI: f64 = 0.398_942_280_401_432_7;

// W. J. Cody's rational Chebyshev approximations (ACM TOMS 715), as in R's pnorm.
// (statrs' erfc is only good to ~1e-12 relative, too coarse for round trips.)
const CODY_A: [f64; 5] = [
    2.235_252_035_460_683_928_7,
    161.028_231_068_555_878_81,
    1_067.689_485_460_370_958_2,
    18_154.981_253_343_561_249,
    0.065_682_337_918_207_449_113,
];
const CODY_B: [f64; 4] = [
    47.202_581_904_688_241_87,
    976.098_551_737_776_693_22,
    10_260.932_208_618_978_205,
    45_507.789_335_026_729_956,
];
const CODY_C: [f64; 9] = [
    0.398_941_512_088_134_667_64,
    8.883_149_794_388_375_941_2,
    93.506_656_132_177_855_979,
    597.270_276_394_800_262_26,
    2_494.537_585_290_372_671_1,
    6_848.190_450_536_282_332_6,
    11_602.651_437_647_350_124,
    9_842.714_838_383_978_021_8,
    1.076_557_677_372_019_231_7e-8,
];
const CODY_D: [f64; 8] = [
    22.266_688_044_328_115_691,
    235.387_901_782_624_998_61,
    1_519.377_599_407_554_805,
    6_485.558_298_266_760_755,
    18_615.571_640_885_098_091,
    34_900.952_721_145_977_266,
    38_912.003_286_093_271_411,
    19_685.429_676_859_990_727,
];
const CODY_P: [f64; 6] = [
    0.215_898_534_057_956_99,
    0.127_401_161_160_247_363_9,
    0.022_235_277_870_649_807,
    0.001_421_619_193_227_893_466,
    2.911_287_495_116_879_2e-5,
    0.023_073_441_764_940_173_03,
];
const CODY_Q: [f64; 5] = [
    1.284_260_096_144_911_21,
    0.468_238_212_480_865_118,
    0.065_988_137_868_928_551_5,
    0.003_782_396_332_027_582_44,
    7.297_515_550_839_662_05e-5,
];

/// exp(-y^2/2) * temp, splitting y^2 so the exponent is computed exactly.
/// Callers pass 0 < y <= 40, so y * 16 truncates exactly through i32 (one instruction,
/// where generic x86-64 calls a library `trunc`).
#[inline]
fn gaussian_tail(y: f64, temp: f64) -> f64 {
    let sixteenths = (y * 16.0) as i32;
    let ysq = f64::from(sixteenths) / 16.0;
    let del = (y - ysq) * (y + ysq);
    // `coarse_exp(ysq)` from the table: the one `exp` per call that depends on y only
    // through its sixteenths.
    COARSE_EXP[sixteenths as usize] * (-del * 0.5).exp() * temp
}

/// The largest `y` [`gaussian_tail`] is called with, in sixteenths.
const TAIL_SIXTEENTHS: usize = 40 * 16;

/// `coarse_exp(k / 16)` for every k up to [`TAIL_SIXTEENTHS`]: the same values, each
/// worked out once per process by the same library `exp`, not once per tail `normal_cdf`.
static COARSE_EXP: LazyLock<[f64; TAIL_SIXTEENTHS + 1]> =
    LazyLock::new(|| std::array::from_fn(|k| coarse_exp(f64::from(k as i32) / 16.0)));

/// exp(-ysq^2/2) for a multiple `ysq` of 1/16, whose square is exact.
fn coarse_exp(ysq: f64) -> f64 {
    (-ysq * ysq * 0.5).exp()
}

/// Phi(x), the standard normal CDF (Cody), accurate to about 1e-15 absolute and
/// relative in the lower tail. NaN in, NaN out; -inf -> 0, +inf -> 1.
pub fn normal_cdf(x: f64) -> f64 {
    if central_cdf_region(x) {
        return central_cdf(x);
    }
    outer_cdf(x)
}

/// [`normal_cdf`] outside Cody's central region, or NaN (which gives NaN).
fn outer_cdf(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    let y = x.abs();
    let lower_tail = if y > 40.0 {
        0.0
    } else if middle_cdf_region(y) {
        gaussian_tail(y, middle_cdf_ratio(y))
    } else {
        let xsq = 1.0 / (x * x);
        let mut num = CODY_P[5] * xsq;
        let mut den = xsq;
        for i in 0..4 {
            num = (num + CODY_P[i]) * xsq;
            den = (den + CODY_Q[i]) * xsq;
        }
        let temp = xsq * (num + CODY_P[4]) / (den + CODY_Q[4]);
        gaussian_tail(y, (FRAC_1_SQRT_2PI - temp) / y)
    };
    upper_or_lower(x, lower_tail)
}

/// Whether `y = |x|` is at most the end of Cody's middle region (false for NaN); for a
/// `y` outside the central region, whether [`outer_cdf`] takes the middle branch.
#[inline(always)]
fn middle_cdf_region(y: f64) -> bool {
    y <= 5.656_854_249_492_38
}

/// The rational function of Cody's middle region at `y = |x|`: the `temp` that
/// [`gaussian_tail`] multiplies.
#[inline(always)]
fn middle_cdf_ratio(y: f64) -> f64 {
    let mut num = CODY_C[8] * y;
    let mut den = y;
    for i in 0..7 {
        num = (num + CODY_C[i]) * y;
        den = (den + CODY_D[i]) * y;
    }
    (num + CODY_C[7]) / (den + CODY_D[7])
}

/// Phi(x) from the lower tail Phi(-|x|).
#[inline(always)]
fn upper_or_lower(x: f64, lower_tail: f64) -> f64 {
    if x > 0.0 {
        1.0 - lower_tail
    } else {
        lower_tail
    }
}

/// How many marked elements [`outer_cdf_marked`] and [`outer_quantile_marked`] gather
/// before working them in one vectorised pass.
const BATCH: usize = 8;

/// [`outer_cdf`] of each `x[i]` whose bit is set in `outside` (all of them outside the
/// central region, or NaN) into `out[i]`: the same values. Those in Cody's middle region
/// are gathered `BATCH` at a time and their rational function and the split of the
/// exponent worked for the whole batch in one pass with no branch (it vectorises); only
/// the library `exp` and the final products are left per element, in the same order.
/// The rest (NaN and |x| beyond the middle region) take [`outer_cdf`].
#[inline(always)]
fn outer_cdf_marked(out: &mut [f64], x: &[f64], mut outside: u64) {
    let coarse: &[f64; TAIL_SIXTEENTHS + 1] = &COARSE_EXP;
    while outside != 0 {
        let mut ys = [0.0; BATCH];
        let mut at = [0usize; BATCH];
        let mut k = 0;
        while outside != 0 && k < BATCH {
            let i = outside.trailing_zeros() as usize;
            outside &= outside - 1;
            let y = x[i].abs();
            if middle_cdf_region(y) {
                ys[k] = y;
                at[k] = i;
                k += 1;
            } else {
                out[i] = outer_cdf(x[i]);
            }
        }
        // `gaussian_tail(y, middle_cdf_ratio(y))` up to its `exp`, for the whole batch
        // (lanes past k work a harmless 0).
        let mut temp = [0.0; BATCH];
        let mut scale = [0.0; BATCH];
        let mut exponent = [0.0; BATCH];
        for (((t, c), e), &y) in temp.iter_mut().zip(&mut scale).zip(&mut exponent).zip(&ys) {
            *t = middle_cdf_ratio(y);
            // 0 <= y <= 5.66, so 0 <= sixteenths <= 90: the `min` changes no index.
            let sixteenths = (y * 16.0) as i32;
            let ysq = f64::from(sixteenths) / 16.0;
            let del = (y - ysq) * (y + ysq);
            *c = coarse[(sixteenths as usize).min(TAIL_SIXTEENTHS)];
            *e = -del * 0.5;
        }
        for j in 0..k {
            let i = at[j];
            out[i] = upper_or_lower(x[i], scale[j] * exponent[j].exp() * temp[j]);
        }
    }
}

/// Whether `x` is in Cody's central region of [`normal_cdf`] (false for NaN).
#[inline(always)]
fn central_cdf_region(x: f64) -> bool {
    x.abs() <= 0.674_489_75
}

/// Phi(x) in Cody's central region.
#[inline(always)]
fn central_cdf(x: f64) -> f64 {
    let xsq = x * x;
    let mut num = CODY_A[4] * xsq;
    let mut den = xsq;
    for i in 0..3 {
        num = (num + CODY_A[i]) * xsq;
        den = (den + CODY_B[i]) * xsq;
    }
    0.5 + x * (num + CODY_A[3]) / (den + CODY_B[3])
}

/// `1 << i` at `i`: the bit of each element of a 64-element chunk in the tail masks of
/// [`normal_cdf_each`] and [`normal_quantile_each`], loaded rather than shifted (generic
/// x86-64 vectors have no shift by a different count in each lane).
static BITS: [u64; 64] = {
    let mut bits = [0; 64];
    let mut i = 0;
    while i < 64 {
        bits[i] = 1 << i;
        i += 1;
    }
    bits
};

/// [`normal_cdf`] of each `x[i]` into `out[i]`: the same values, the central region
/// worked for every element in one pass with no branch (it vectorises), marking the
/// tails (and NaN) in a bit mask, 64 elements at a time, and then those in batches
/// (`outer_cdf_marked`: Cody's middle region vectorised but for its `exp`), as
/// [`normal_quantile_each`] does.
#[inline(always)]
pub fn normal_cdf_each(out: &mut [f64], x: &[f64]) {
    let n = out.len().min(x.len());
    for (out, x) in out[..n].chunks_mut(64).zip(x[..n].chunks(64)) {
        let mut outside = 0u64;
        for ((p, &x), &bit) in out.iter_mut().zip(x).zip(&BITS) {
            outside |= if central_cdf_region(x) { 0 } else { bit };
            *p = central_cdf(x);
        }
        outer_cdf_marked(out, x, outside);
    }
}

/// phi(x), the standard normal density.
pub(crate) fn normal_pdf(x: f64) -> f64 {
    FRAC_1_SQRT_2PI * (-0.5 * x * x).exp()
}

const A: [f64; 8] = [
    3.387_132_872_796_366_608,
    1.331_416_678_917_843_774_5e2,
    1.971_590_950_306_551_442_7e3,
    1.373_169_376_550_946_112_5e4,
    4.592_195_393_154_987_145_7e4,
    6.726_577_092_700_870_085_3e4,
    3.343_057_558_358_812_810_5e4,
    2.509_080_928_730_122_672_7e3,
];
const B: [f64; 8] = [
    1.0,
    4.231_333_070_160_091_125_2e1,
    6.871_870_074_920_579_083e2,
    5.394_196_021_424_751_107_7e3,
    2.121_379_430_158_659_586_7e4,
    3.930_789_580_009_271_061e4,
    2.872_908_573_572_194_267_4e4,
    5.226_495_278_852_854_561e3,
];
const C: [f64; 8] = [
    1.423_437_110_749_683_577_34,
    4.630_337_846_156_545_295_9,
    5.769_497_221_460_691_405_5,
    3.647_848_324_763_204_605_04,
    1.270_458_252_452_368_382_58,
    2.417_807_251_774_506_117_7e-1,
    2.272_384_498_926_918_458_33e-2,
    7.745_450_142_783_414_076_4e-4,
];
const D: [f64; 8] = [
    1.0,
    2.053_191_626_637_758_821_87,
    1.676_384_830_183_803_849_4,
    6.897_673_349_851_000_045_5e-1,
    1.481_039_764_274_800_745_9e-1,
    1.519_866_656_361_645_719_66e-2,
    5.475_938_084_995_344_946e-4,
    1.050_750_071_644_416_843_24e-9,
];
const E: [f64; 8] = [
    6.657_904_643_501_103_777_2,
    5.463_784_911_164_114_369_9,
    1.784_826_539_917_291_335_8,
    2.965_605_718_285_048_912_3e-1,
    2.653_218_952_657_612_309_3e-2,
    1.242_660_947_388_078_438_6e-3,
    2.711_555_568_743_487_578_15e-5,
    2.010_334_399_292_288_132_65e-7,
];
const F: [f64; 8] = [
    1.0,
    5.998_322_065_558_879_376_9e-1,
    1.369_298_809_227_358_053_1e-1,
    1.487_536_129_085_061_485_25e-2,
    7.868_691_311_456_132_591e-4,
    1.846_318_317_510_054_681_8e-5,
    1.421_511_758_316_445_888_7e-7,
    2.044_263_103_389_939_785_64e-15,
];

#[inline]
fn poly(c: &[f64; 8], x: f64) -> f64 {
    let mut y = c[7];
    for &k in c[..7].iter().rev() {
        y = y * x + k;
    }
    y
}

/// Phi^-1(p) by Wichura's AS241 (PPND16), relative error about 1e-16.
/// p <= 0 gives -inf, p >= 1 gives +inf, NaN is treated as 0.5 (gives 0).
#[inline]
pub fn normal_quantile(p: f64) -> f64 {
    let q = p - 0.5;
    if central(q) {
        return central_quantile(q);
    }
    outer_quantile(p)
}

/// [`normal_quantile`] of a `p` outside AS241's central region, or NaN (which gives 0):
/// the tails, and p <= 0 or p >= 1.
fn outer_quantile(p: f64) -> f64 {
    if p.is_nan() {
        return 0.0;
    }
    if p <= 0.0 {
        return f64::NEG_INFINITY;
    }
    if p >= 1.0 {
        return f64::INFINITY;
    }
    let r = (tail_log(p)).sqrt();
    let x = if r <= 5.0 {
        near_tail_quantile(r)
    } else {
        let r = r - 5.0;
        poly(&E, r) / poly(&F, r)
    };
    signed_tail(p, x)
}

/// AS241's `-ln(min(p, 1 - p))` for 0 < p < 1 outside the central region: the library
/// `ln`, whose square root `r` picks the tail's rational function.
#[inline(always)]
fn tail_log(p: f64) -> f64 {
    let q = p - 0.5;
    let r = if q < 0.0 { p } else { 1.0 - p };
    -r.ln()
}

/// AS241's rational function for a tail with `r <= 5` (p above about 1.4e-11 and below
/// 1 - 1.4e-11), before the sign.
#[inline(always)]
fn near_tail_quantile(r: f64) -> f64 {
    let r = r - 1.6;
    poly(&C, r) / poly(&D, r)
}

/// The tail's quantile `x >= 0` with the sign of `p - 0.5`.
#[inline(always)]
fn signed_tail(p: f64, x: f64) -> f64 {
    let q = p - 0.5;
    if q < 0.0 { -x } else { x }
}

/// [`outer_quantile`] of `p(i)` into `out[i]` for each i whose bit is set in `outside`
/// (each such p outside the central region, or NaN): the same values. Those with
/// 0 < p < 1 are gathered `BATCH` at a time, each with its library `ln` (the only
/// call per element); the square root, the near tail's two polynomials, the division
/// and the sign are then worked for the whole batch in one pass with no branch (it
/// vectorises). The rare far tail (r > 5), p <= 0, p >= 1 and NaN take
/// [`outer_quantile`].
#[inline(always)]
fn outer_quantile_marked(out: &mut [f64], p: impl Fn(usize) -> f64, mut outside: u64) {
    while outside != 0 {
        let mut ps = [0.0; BATCH];
        let mut logs = [0.0; BATCH];
        let mut at = [0usize; BATCH];
        let mut k = 0;
        while outside != 0 && k < BATCH {
            let i = outside.trailing_zeros() as usize;
            outside &= outside - 1;
            let pi = p(i);
            if pi > 0.0 && pi < 1.0 {
                ps[k] = pi;
                logs[k] = tail_log(pi);
                at[k] = i;
                k += 1;
            } else {
                out[i] = outer_quantile(pi);
            }
        }
        // Lanes past k work p = 0 with a log of 0: harmless, and never stored.
        let mut r = [0.0; BATCH];
        let mut z = [0.0; BATCH];
        for (((r, z), &log), &p) in r.iter_mut().zip(&mut z).zip(&logs).zip(&ps) {
            *r = log.sqrt();
            *z = signed_tail(p, near_tail_quantile(*r));
        }
        for j in 0..k {
            out[at[j]] = if r[j] <= 5.0 {
                z[j]
            } else {
                outer_quantile(ps[j])
            };
        }
    }
}

/// Whether `q = p - 0.5` is in AS241's central region (false for NaN).
#[inline(always)]
fn central(q: f64) -> bool {
    q.abs() <= 0.425
}

/// AS241's central region: Phi^-1(0.5 + q) for `|q| <= 0.425`.
#[inline(always)]
fn central_quantile(q: f64) -> f64 {
    let r = 0.180625 - q * q;
    q * poly(&A, r) / poly(&B, r)
}

/// [`normal_quantile`] of `p(i)` into `out[i]`, for every i: the same values. The
/// central region, where most draws fall, is worked for every element in one pass with
/// no branch (it vectorises), which also marks the elements outside it (or NaN) in a
/// bit mask, 64 elements at a time; only those marked are then worked again, in batches
/// (`outer_quantile_marked`: a library `ln` each, the rest vectorised).
/// `p` is called again for them, so it must give the same value each time.
#[inline(always)]
pub fn normal_quantile_each(out: &mut [f64], p: impl Fn(usize) -> f64) {
    for (c, out) in out.chunks_mut(64).enumerate() {
        let first = c * 64;
        let mut outside = 0u64;
        for (i, (z, &bit)) in out.iter_mut().zip(&BITS).enumerate() {
            let q = p(first + i) - 0.5;
            outside |= if central(q) { 0 } else { bit };
            *z = central_quantile(q);
        }
        outer_quantile_marked(out, |i| p(first + i), outside);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_equals_one_by_one() {
        let mut ps: Vec<f64> = (0..=4_000).map(|i| i as f64 / 4_000.0).collect();
        ps.extend([
            f64::NAN,
            -1.0,
            2.0,
            1e-300,
            1.0 - 1e-16,
            0.075,
            0.925,
            0.0749999,
        ]);
        let mut out = vec![0.0; ps.len()];
        normal_quantile_each(&mut out, |i| ps[i]);
        for (&p, &z) in ps.iter().zip(&out) {
            assert_eq!(normal_quantile(p).to_bits(), z.to_bits(), "at {p}");
        }
        // All central: the second pass is skipped.
        let mid: Vec<f64> = (1..100).map(|i| 0.1 + i as f64 * 0.008).collect();
        let mut out = vec![0.0; mid.len()];
        normal_quantile_each(&mut out, |i| mid[i]);
        for (&p, &z) in mid.iter().zip(&out) {
            assert_eq!(normal_quantile(p).to_bits(), z.to_bits(), "at {p}");
        }
    }

    /// Adversarial probabilities for the batched tails: the region boundaries and the
    /// doubles either side of them, the ends, subnormals, NaN and the far tails.
    fn edge_probabilities() -> Vec<f64> {
        let mut ps = vec![
            0.0,
            -0.0,
            1.0,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::MIN_POSITIVE,
            f64::MIN_POSITIVE / 2.0,
            5e-324,
            1e-300,
            1e-20,
            1.0 - f64::EPSILON / 2.0,
            1.0 - f64::EPSILON,
            -1.0,
            2.0,
        ];
        // r = 5 (p = exp(-25)) is where the near tail ends.
        for b in [0.075, 0.925, (-25.0f64).exp(), 1.0 - (-25.0f64).exp()] {
            ps.extend([
                b,
                f64::from_bits(b.to_bits() - 1),
                f64::from_bits(b.to_bits() + 1),
            ]);
        }
        ps
    }

    /// Whether `normal_quantile_each` gives `normal_quantile` of every element of `ps`,
    /// to the bit.
    fn assert_quantile_each(ps: &[f64]) {
        let mut out = vec![f64::NAN; ps.len()];
        normal_quantile_each(&mut out, |i| ps[i]);
        for (&p, &z) in ps.iter().zip(&out) {
            assert_eq!(normal_quantile(p).to_bits(), z.to_bits(), "at {p}");
        }
    }

    /// Whether `normal_cdf_each` gives `normal_cdf` of every element of `xs`, to the bit.
    fn assert_cdf_each(xs: &[f64]) {
        let mut out = vec![0.25; xs.len()];
        normal_cdf_each(&mut out, xs);
        for (&x, &p) in xs.iter().zip(&out) {
            assert_eq!(normal_cdf(x).to_bits(), p.to_bits(), "at {x}");
        }
    }

    /// The batched tails (`outer_quantile_marked`) against the scalar function: chunks of
    /// 64 with 0, 1, 7, 8, 9 and 64 tail elements, every edge value in every position of
    /// a chunk, and chunks of every tail count mixing near, far and invalid tails.
    #[test]
    fn quantile_batches_equal_one_by_one() {
        let central = |i: usize| 0.3 + (i % 50) as f64 * 0.008;
        for tails in [0, 1, 7, 8, 9, 15, 16, 17, 63, 64] {
            let ps: Vec<f64> = (0..64)
                .map(|i| {
                    if i < tails {
                        1e-3 + i as f64 * 1e-3
                    } else {
                        central(i)
                    }
                })
                .collect();
            assert_quantile_each(&ps);
            let reversed: Vec<f64> = ps.iter().rev().copied().collect();
            assert_quantile_each(&reversed);
        }
        let edges = edge_probabilities();
        for &e in &edges {
            for at in [0, 1, 7, 8, 31, 63] {
                let mut ps: Vec<f64> = (0..64).map(central).collect();
                ps[at] = e;
                assert_quantile_each(&ps);
                // Surrounded by near tails, so it shares a batch.
                let mut ps: Vec<f64> = (0..64).map(|i| 0.999 - i as f64 * 1e-3).collect();
                ps[at] = e;
                assert_quantile_each(&ps);
            }
        }
        // Every mix of tail kinds and counts, over lengths that leave a short last chunk.
        let mut all: Vec<f64> = Vec::new();
        for n in 0..=64 {
            for i in 0..n {
                all.push(match (i * 7 + n) % 5 {
                    0 => edges[(i + n) % edges.len()],
                    1 => 1e-3 * (1 + i) as f64,
                    2 => 1.0 - 1e-4 * (1 + i) as f64,
                    3 => 1e-12 / (1 + i) as f64,
                    _ => central(i),
                });
            }
        }
        for len in [0, 1, 63, 64, 65, 1000, all.len()] {
            assert_quantile_each(&all[..len]);
        }
    }

    /// The batched CDF tails (`outer_cdf_marked`) against the scalar function, as for the
    /// quantiles: the region boundaries (0.674..., 5.657, 40), their neighbours, zeros,
    /// infinities, NaN, subnormals, in chunks with 0 to 64 tail elements.
    #[test]
    fn cdf_batches_equal_one_by_one() {
        let mut edges = vec![
            0.0,
            -0.0,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            5e-324,
            -5e-324,
            f64::MAX,
            -f64::MAX,
        ];
        for b in [
            0.674_489_75f64,
            5.656_854_249_492_38,
            40.0,
            1.0 / 16.0,
            5.625,
        ] {
            for b in [b, -b] {
                edges.extend([
                    b,
                    f64::from_bits(b.to_bits() - 1),
                    f64::from_bits(b.to_bits() + 1),
                ]);
            }
        }
        let central = |i: usize| -0.6 + (i % 60) as f64 * 0.02;
        for tails in [0, 1, 7, 8, 9, 15, 16, 17, 63, 64] {
            let xs: Vec<f64> = (0..64)
                .map(|i| {
                    if i < tails {
                        (if i % 2 == 0 { 1.0 } else { -1.0 }) * (0.7 + i as f64 * 0.07)
                    } else {
                        central(i)
                    }
                })
                .collect();
            assert_cdf_each(&xs);
            let reversed: Vec<f64> = xs.iter().rev().copied().collect();
            assert_cdf_each(&reversed);
        }
        for &e in &edges {
            for at in [0, 1, 7, 8, 31, 63] {
                let mut xs: Vec<f64> = (0..64).map(central).collect();
                xs[at] = e;
                assert_cdf_each(&xs);
                let mut xs: Vec<f64> = (0..64).map(|i| -5.5 + i as f64 * 0.17).collect();
                xs[at] = e;
                assert_cdf_each(&xs);
            }
        }
        let mut all: Vec<f64> = Vec::new();
        for n in 0..=64 {
            for i in 0..n {
                all.push(match (i * 7 + n) % 4 {
                    0 => edges[(i + n) % edges.len()],
                    1 => 0.7 + i as f64 * 0.08,
                    2 => -(6.0 + i as f64 * 0.6),
                    _ => central(i),
                });
            }
        }
        for len in [0, 1, 63, 64, 65, 1000, all.len()] {
            assert_cdf_each(&all[..len]);
        }
    }

    /// The tabulated exponent gives every `gaussian_tail` the value the direct
    /// `exp(-ysq^2/2) exp(-del/2) temp` gives, to the bit.
    #[test]
    fn tail_table_equals_direct_exp() {
        let direct = |y: f64, temp: f64| {
            let ysq = f64::from((y * 16.0) as i32) / 16.0;
            let del = (y - ysq) * (y + ysq);
            (-ysq * ysq * 0.5).exp() * (-del * 0.5).exp() * temp
        };
        for i in 1..=400_000 {
            let y = i as f64 * 1e-4;
            let temp = 0.3 + (i % 7) as f64 * 0.01;
            assert_eq!(
                gaussian_tail(y, temp).to_bits(),
                direct(y, temp).to_bits(),
                "{y}"
            );
        }
        for y in [
            0.674_489_76,
            1.0 / 16.0,
            5.656_854_249_492_38,
            39.999_999,
            40.0,
        ] {
            assert_eq!(
                gaussian_tail(y, 0.5).to_bits(),
                direct(y, 0.5).to_bits(),
                "{y}"
            );
        }
    }

    #[test]
    fn cdf_each_equals_one_by_one() {
        let mut xs: Vec<f64> = (-4_000..=4_000).map(|i| i as f64 / 400.0).collect();
        xs.extend([
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            0.674_489_75,
            -0.0,
            41.0,
        ]);
        let mut out = vec![0.0; xs.len()];
        normal_cdf_each(&mut out, &xs);
        for (&x, &p) in xs.iter().zip(&out) {
            assert_eq!(normal_cdf(x).to_bits(), p.to_bits(), "at {x}");
        }
        let mid: Vec<f64> = (-60..=60).map(|i| i as f64 / 100.0).collect();
        let mut out = vec![0.0; mid.len()];
        normal_cdf_each(&mut out, &mid);
        for (&x, &p) in mid.iter().zip(&out) {
            assert_eq!(normal_cdf(x).to_bits(), p.to_bits(), "at {x}");
        }
    }

    #[test]
    fn cdf_known_values() {
        assert_eq!(normal_cdf(0.0), 0.5);
        assert!((normal_cdf(1.959_963_984_540_054) - 0.975).abs() < 1e-15);
        assert!((normal_cdf(-1.0) - 0.158_655_253_931_457_05).abs() < 1e-16);
        // lower tail is relative-accurate
        let t = normal_cdf(-10.0);
        assert!((t / 7.619_853_024_160_527e-24 - 1.0).abs() < 1e-13);
        assert_eq!(normal_cdf(f64::NEG_INFINITY), 0.0);
        assert_eq!(normal_cdf(f64::INFINITY), 1.0);
    }

    #[test]
    fn quantile_known_values() {
        assert_eq!(normal_quantile(0.5), 0.0);
        assert!((normal_quantile(0.9) - 1.281_551_565_544_600_5).abs() < 1e-15);
        assert!((normal_quantile(0.975) - 1.959_963_984_540_054).abs() < 1e-15);
        assert!((normal_quantile(1e-10) + 6.361_340_902_404_056).abs() < 1e-13);
        assert_eq!(normal_quantile(0.0), f64::NEG_INFINITY);
        assert_eq!(normal_quantile(1.0), f64::INFINITY);
        assert_eq!(normal_quantile(f64::NAN), 0.0);
        assert!(normal_quantile(1e-300).is_finite());
        assert!(normal_quantile(1.0 - 1e-16).is_finite());
    }

    #[test]
    fn round_trip_and_monotone() {
        let mut prev = f64::NEG_INFINITY;
        for i in 1..20_000 {
            let p = i as f64 / 20_000.0;
            let x = normal_quantile(p);
            assert!(x >= prev);
            prev = x;
            let back = normal_cdf(x);
            let scale = p.min(1.0 - p);
            assert!((back - p).abs() <= 5e-15 * scale, "p {p} back {back}");
        }
        for e in 1..300 {
            let p = 10f64.powi(-e);
            let back = normal_cdf(normal_quantile(p));
            assert!((back / p - 1.0).abs() < 1e-12, "p {p} back {back}");
        }
    }
}
