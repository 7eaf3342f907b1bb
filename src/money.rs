//! Exact money: pounds as `rust_decimal::Decimal` at the edges (scenario inputs, reports)
//! and whole pence as `i64` ([`Pence`]) inside a trial; sums of pence are `i128`.
//!
//! Invariants: money is never summed in `f64`. Every conversion to pence names its
//! rounding, which is always half-even (banker's) at the penny, and fails with a
//! [`MoneyError`] rather than wrapping or saturating when a value does not fit. The only
//! door from `f64` into money is [`f64_pounds_to_pence`], used where a trial's model output
//! is a real number (savings = avoided x unit cost). Formatting works on integers only, so
//! `format_pence` and `pence_to_pounds` always show exactly two decimals.

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};

/// A whole number of pence.
pub type Pence = i64;

/// `x.round_ties_even()`, bit for bit, without the library call generic x86-64 makes for
/// it (its rounding instruction needs SSE4.1), which a trial makes for every amount it
/// turns into pence: for `|x| < 2^52`, adding and then subtracting 2^52 rounds `|x|` to
/// a whole number in the processor's rounding mode, which Rust always leaves at
/// round-half-even; larger magnitudes are whole already, and NaN and the infinities come
/// back as they are. The sign is put back with `copysign`, so -0.4 gives -0.0 as the
/// library does.
#[inline]
pub fn round_ties_even(x: f64) -> f64 {
    const TWO_52: f64 = 4_503_599_627_370_496.0;
    let magnitude = x.abs();
    if magnitude < TWO_52 {
        ((magnitude + TWO_52) - TWO_52).copysign(x)
    } else {
        x
    }
}

/// `round_ties_even(x) as i64`, the same integer for every `x` (NaN gives 0), with fewer
/// instructions where |x| < 2^51: adding 1.5 * 2^52 puts x in [2^52, 2^53), whose
/// doubles are the integers, so the addition rounds x half-even (1.5 * 2^52 is even, so
/// parity is kept) and the sum's bits less the constant's bits are that integer.
#[inline]
pub fn round_ties_even_i64(x: f64) -> i64 {
    if x.abs() < TWO_51 {
        round_ties_even_i64_below_2_51(x)
    } else {
        round_ties_even(x) as i64
    }
}

/// 2^51, below which (in magnitude) [`round_ties_even_i64_below_2_51`] holds.
pub const TWO_51: f64 = 2_251_799_813_685_248.0;

/// [`round_ties_even_i64`] for `|x| < 2^51` (the caller has tested it), without the test.
#[inline]
pub fn round_ties_even_i64_below_2_51(x: f64) -> i64 {
    const SHIFT: f64 = 6_755_399_441_055_744.0;
    (x + SHIFT).to_bits() as i64 - SHIFT.to_bits() as i64
}

/// A money conversion that cannot be done exactly.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum MoneyError {
    /// The amount in pence is outside the `i64` range (about ±£92 million million).
    #[error("£{pounds} is too large to hold in whole pence (limit about ±£92,233,720,368,547,758)")]
    Overflow {
        /// The amount, as given, in pounds.
        pounds: String,
    },
    /// An f64 amount was NaN or infinite.
    #[error("amount of money is not a finite number ({value}); check the inputs that produce it")]
    NotFinite {
        /// The offending value, formatted.
        value: String,
    },
}

/// Pounds -> whole pence, rounding half-even (banker's) at the penny.
/// Errors if the result does not fit in `i64`.
pub fn pounds_to_pence(amount: Decimal) -> Result<Pence, MoneyError> {
    let overflow = || MoneyError::Overflow {
        pounds: amount.to_string(),
    };
    amount
        .checked_mul(Decimal::ONE_HUNDRED)
        .ok_or_else(overflow)?
        .round_dp_with_strategy(0, RoundingStrategy::MidpointNearestEven)
        .to_i64()
        .ok_or_else(overflow)
}

/// Pence -> pounds as a `Decimal` with scale exactly 2.
pub fn pence_to_pounds(p: Pence) -> Decimal {
    Decimal::new(p, 2)
}

/// Formats pence with exactly two decimals and no separators: "412345.67", "-0.05", "0.00".
pub fn format_pence(p: Pence) -> String {
    format_pence_i128(i128::from(p))
}

/// Same as [`format_pence`] for an `i128` (sums of pence).
pub fn format_pence_i128(p: i128) -> String {
    let sign = if p < 0 { "-" } else { "" };
    let magnitude = p.unsigned_abs();
    format!("{sign}{}.{:02}", magnitude / 100, magnitude % 100)
}

/// Rounds an `f64` amount of pounds to whole pence, half-even.
///
/// The amount is first scaled in `f64` (`x * 100`, one correctly rounded multiplication)
/// and that value is rounded half-even, so decimal-looking inputs behave as written:
/// 0.015 -> 2 pence, 0.025 -> 2 pence. Errors (never wraps or saturates) when `x` is not
/// finite or the result is outside the `i64` range.
pub fn f64_pounds_to_pence(x: f64) -> Result<Pence, MoneyError> {
    if !x.is_finite() {
        return Err(MoneyError::NotFinite {
            value: x.to_string(),
        });
    }
    let pence = (x * 100.0).round_ties_even();
    // 2^63 is exactly representable; i64 covers [-2^63, 2^63).
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    if !(-LIMIT..LIMIT).contains(&pence) {
        return Err(if pence.is_finite() {
            MoneyError::Overflow {
                pounds: format!("{x:e}"),
            }
        } else {
            MoneyError::NotFinite {
                value: format!("{x:e} x 100"),
            }
        });
    }
    // In range and integral, so the cast is exact.
    Ok(pence as i64)
}

/// Human format for text tables: "£1,234,567.89", "-£12.00", "£0.00".
pub fn format_gbp(p: Pence) -> String {
    let sign = if p < 0 { "-" } else { "" };
    let magnitude = p.unsigned_abs();
    format!(
        "{sign}£{}.{:02}",
        group_thousands(u128::from(magnitude / 100)),
        magnitude % 100
    )
}

/// Compact human format: "£1.23bn", "£1.23m", "£456k", "£4.5k", and below £1,000 the
/// full form ("£999.50"). Rounding is half-even at the digit shown; a value that rounds
/// up to the next unit is shown in that unit (£999,999.99 -> "£1.00m").
pub fn format_gbp_compact(p: Pence) -> String {
    // (threshold in pence, rounding step in pence, decimals shown, suffix), largest first.
    const TIERS: [(u128, u128, usize, &str); 4] = [
        (100_000_000_000, 1_000_000_000, 2, "bn"),
        (100_000_000, 1_000_000, 2, "m"),
        (1_000_000, 100_000, 0, "k"),
        (100_000, 10_000, 1, "k"),
    ];
    let sign = if p < 0 { "-" } else { "" };
    let magnitude = u128::from(p.unsigned_abs());
    let Some(mut tier) = TIERS.iter().position(|t| magnitude >= t.0) else {
        return format_gbp(p);
    };
    loop {
        let (_, step, decimals, suffix) = TIERS[tier];
        let units = divide_half_even(magnitude, step);
        if tier > 0 && units * step >= TIERS[tier - 1].0 {
            tier -= 1;
            continue;
        }
        let scale = 10u128.pow(decimals as u32);
        let whole = group_thousands(units / scale);
        return if decimals == 0 {
            format!("{sign}£{whole}{suffix}")
        } else {
            let fraction = units % scale;
            format!("{sign}£{whole}.{fraction:0decimals$}{suffix}")
        };
    }
}

/// `value / step` rounded half-even.
fn divide_half_even(value: u128, step: u128) -> u128 {
    let (quotient, remainder) = (value / step, value % step);
    match (2 * remainder).cmp(&step) {
        std::cmp::Ordering::Less => quotient,
        std::cmp::Ordering::Greater => quotient + 1,
        std::cmp::Ordering::Equal => quotient + (quotient & 1),
    }
}

fn group_thousands(value: u128) -> String {
    let digits = value.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn round_ties_even_i64_matches_round_ties_even() {
        use super::{round_ties_even, round_ties_even_i64};
        let two_51 = 2_251_799_813_685_248.0_f64;
        let mut xs = vec![
            0.0,
            -0.0,
            0.5,
            -0.5,
            1.5,
            -1.5,
            2.5,
            -2.5,
            -0.4,
            0.49999999999999994,
            two_51,
            -two_51,
            two_51 - 0.5,
            -two_51 + 0.5,
            two_51 - 0.25,
            -two_51 + 0.25,
            1e300,
            -1e300,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ];
        let mut z: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..200_000 {
            z = crate::rng::mix64(z.wrapping_add(0x9e37_79b9_7f4a_7c15));
            let scale = [1.0, 100.0, 1e6, 1e12, two_51][(z % 5) as usize];
            let x = (crate::rng::to_unit(z) - 0.5) * 2.0 * scale;
            xs.push(x);
            xs.push(x.trunc() + 0.5);
        }
        for x in xs {
            assert_eq!(round_ties_even_i64(x), round_ties_even(x) as i64, "{x}");
        }
    }

    #[test]
    fn round_ties_even_matches_the_library() {
        let mut xs = vec![
            0.0,
            -0.0,
            0.5,
            -0.5,
            1.5,
            -1.5,
            2.5,
            -2.5,
            0.49999999999999994,
            -0.4,
            4_503_599_627_370_495.5,
            -4_503_599_627_370_495.5,
            4_503_599_627_370_496.0,
            9_007_199_254_740_993.0,
            1e300,
            -1e300,
            f64::MIN_POSITIVE,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            f64::MAX,
            f64::MIN,
        ];
        let mut z: u64 = 0x9e37_79b9_7f4a_7c15;
        for i in 0..200_000 {
            z = crate::rng::mix64(z.wrapping_add(i));
            // Every exponent, and halves at every scale up to 2^53.
            xs.push(f64::from_bits(z));
            xs.push((z >> 11) as f64 / 2.0 * if z & 1 == 0 { 1.0 } else { -1.0 });
            xs.push((z % 1_000_000_007) as f64 / 100.0 - 5e6);
        }
        for x in xs {
            let (got, want) = (round_ties_even(x), x.round_ties_even());
            assert!(
                got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan()),
                "{x:e}: {got:e} vs {want:e}"
            );
        }
    }

    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn pounds_to_pence_rounds_half_even() {
        let cases = [
            ("0.005", 0),
            ("0.015", 2),
            ("0.025", 2),
            ("0.035", 4),
            ("-0.005", 0),
            ("-0.015", -2),
            ("-0.025", -2),
            ("0.0051", 1),
            ("0.0049", 0),
            ("12.345", 1234),
            ("412345.67", 41234567),
            ("0", 0),
        ];
        for (input, expected) in cases {
            assert_eq!(pounds_to_pence(d(input)), Ok(expected), "{input}");
        }
    }

    #[test]
    fn pounds_to_pence_large_values_and_overflow() {
        assert_eq!(
            pounds_to_pence(d("92233720368547758.07")),
            Ok(i64::MAX),
            "largest amount that fits"
        );
        assert_eq!(pounds_to_pence(d("-92233720368547758.08")), Ok(i64::MIN));
        for too_big in ["92233720368547758.08", "-92233720368547758.09", "1e26"] {
            let err = pounds_to_pence(d(too_big)).unwrap_err();
            assert!(matches!(err, MoneyError::Overflow { .. }), "{too_big}");
            assert!(err.to_string().contains("too large"));
        }
        // Decimal::MAX * 100 overflows the Decimal itself.
        assert!(matches!(
            pounds_to_pence(Decimal::MAX),
            Err(MoneyError::Overflow { .. })
        ));
    }

    #[test]
    fn pence_to_pounds_has_scale_two() {
        for (p, text) in [
            (0, "0.00"),
            (5, "0.05"),
            (-5, "-0.05"),
            (41234567, "412345.67"),
        ] {
            let pounds = pence_to_pounds(p);
            assert_eq!(pounds.scale(), 2);
            assert_eq!(pounds.to_string(), text);
            assert_eq!(pounds_to_pence(pounds), Ok(p));
        }
    }

    #[test]
    fn format_pence_two_decimals() {
        assert_eq!(format_pence(41234567), "412345.67");
        assert_eq!(format_pence(-5), "-0.05");
        assert_eq!(format_pence(0), "0.00");
        assert_eq!(format_pence(-100), "-1.00");
        assert_eq!(format_pence(i64::MIN), "-92233720368547758.08");
        assert_eq!(format_pence(i64::MAX), "92233720368547758.07");
        assert_eq!(format_pence_i128(-7), "-0.07");
        assert_eq!(
            format_pence_i128(i128::MIN),
            "-1701411834604692317316873037158841057.28"
        );
        assert_eq!(
            format_pence_i128(i128::from(i64::MAX) * 3),
            "276701161105643274.21"
        );
    }

    #[test]
    fn f64_pounds_to_pence_rounds_and_rejects() {
        assert_eq!(f64_pounds_to_pence(0.015), Ok(2));
        assert_eq!(f64_pounds_to_pence(0.025), Ok(2));
        assert_eq!(f64_pounds_to_pence(-0.005), Ok(0));
        assert_eq!(f64_pounds_to_pence(1234.5678), Ok(123457));
        assert_eq!(f64_pounds_to_pence(-0.0), Ok(0));
        assert_eq!(f64_pounds_to_pence(9.0e16), Ok(9_000_000_000_000_000_000));
        assert!(matches!(
            f64_pounds_to_pence(9.3e16),
            Err(MoneyError::Overflow { .. })
        ));
        assert!(matches!(
            f64_pounds_to_pence(-9.3e16),
            Err(MoneyError::Overflow { .. })
        ));
        assert!(matches!(
            f64_pounds_to_pence(1e307 * 100.0),
            Err(MoneyError::NotFinite { .. })
        ));
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let err = f64_pounds_to_pence(bad).unwrap_err();
            assert!(matches!(err, MoneyError::NotFinite { .. }));
        }
        assert!(matches!(
            f64_pounds_to_pence(f64::MAX),
            Err(MoneyError::NotFinite { .. })
        ));
    }

    #[test]
    fn format_gbp_groups_thousands() {
        assert_eq!(format_gbp(123456789), "£1,234,567.89");
        assert_eq!(format_gbp(-1200), "-£12.00");
        assert_eq!(format_gbp(0), "£0.00");
        assert_eq!(format_gbp(99999), "£999.99");
        assert_eq!(format_gbp(100000), "£1,000.00");
        assert_eq!(format_gbp(i64::MIN), "-£92,233,720,368,547,758.08");
    }

    #[test]
    fn format_gbp_compact_units() {
        let cases = [
            (0, "£0.00"),
            (99950, "£999.50"),
            (150000, "£1.5k"),
            (-150000, "-£1.5k"),
            (999_996, "£10k"),
            (45_600_000, "£456k"),
            (45_650_000, "£456k"),
            (45_750_000, "£458k"),
            (123_000_000, "£1.23m"),
            (-123_456_789, "-£1.23m"),
            (99_999_999, "£1.00m"),
            (12_345_678_900, "£123.46m"),
            (250_000_000_000, "£2.50bn"),
            (i64::MAX, "£92,233,720.37bn"),
        ];
        for (p, expected) in cases {
            assert_eq!(format_gbp_compact(p), expected, "{p}");
        }
    }
}
