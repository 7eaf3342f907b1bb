//! Release rules (MODEL.md section 5): each turns a condition's achievement into the
//! fraction of its weight that is paid. Small pure functions, tested one by one.
//!
//! Tolerances are part of the contract: a count target is met when `N <= B(1 - t) + 1e-9`,
//! a proportion target when `obs >= baseline + t - 1e-12`, a band is reached when
//! `r >= threshold - 1e-9`.
use crate::scenario::Rule;

/// Count metric: is the target met? `observed` N_W, `baseline` B_W.
#[inline]
pub fn count_met(observed: f64, baseline: f64, target: f64) -> bool {
    observed <= baseline * (1.0 - target) + 1e-9
}

/// Proportion metric: is the target (in points) met?
#[inline]
pub fn proportion_met(observed: f64, baseline: f64, target: f64) -> bool {
    observed >= baseline + target - 1e-12
}

/// A rule's kind and parameters by value, a banded rule's bands borrowed: what
/// `fraction_of` matches on. The block path takes a condition's view once and passes it
/// to each lane's `fraction_of`, where its kind is then known.
#[derive(Clone, Copy, Debug)]
pub enum RuleView<'a> {
    AllOrNothing,
    Proportional { floor: f64 },
    Banded { bands: &'a [(f64, f64)] },
    PerUnit,
}

impl Rule {
    /// The rule as a [`RuleView`].
    #[inline(always)]
    pub fn view(&self) -> RuleView<'_> {
        match self {
            Rule::AllOrNothing => RuleView::AllOrNothing,
            Rule::Proportional { floor } => RuleView::Proportional { floor: *floor },
            Rule::Banded { bands } => RuleView::Banded { bands },
            Rule::PerUnit { .. } => RuleView::PerUnit,
        }
    }
}

/// Fraction paid for the fraction-valued rules (not per_unit, whose money is computed
/// by `per_unit_money`). `ratio` is achieved / target.
#[inline]
pub fn fraction(rule: &Rule, met: bool, ratio: f64) -> f64 {
    fraction_of(rule.view(), met, ratio)
}

/// `fraction` of a rule's view.
#[inline(always)]
pub fn fraction_of(rule: RuleView, met: bool, ratio: f64) -> f64 {
    match rule {
        RuleView::AllOrNothing => f64::from(u8::from(met)),
        RuleView::Proportional { floor } => {
            if met {
                1.0
            } else {
                let f = (ratio - floor) / (1.0 - floor);
                if f.is_nan() { 0.0 } else { f.clamp(0.0, 1.0) }
            }
        }
        RuleView::Banded { bands } => bands
            .iter()
            .rev()
            .find(|(threshold, _)| ratio >= threshold - 1e-9)
            .map(|(_, f)| *f)
            .unwrap_or(0.0),
        RuleView::PerUnit => 0.0,
    }
}

/// per_unit: money in pence (real) = min(cap, rate x units); `cap` = weight x tranche
/// amount, both in pence.
#[inline]
pub fn per_unit_money(rate_pence: f64, units: f64, cap_pence: f64) -> f64 {
    (rate_pence * units.max(0.0)).min(cap_pence)
}

/// per_unit without a target: met when the cap is reached, within half a penny.
#[inline]
pub fn per_unit_cap_reached(money_pence: f64, cap_pence: f64) -> bool {
    money_pence >= cap_pence - 0.5
}

/// A tranche's paid pence from its amount and the weighted fraction plus per_unit money,
/// rounded half-even and clipped to [0, amount]. A fraction within half a penny of the
/// whole pays the whole, so a fully met tranche is paid exactly.
#[inline]
pub fn tranche_paid(amount: i64, weighted_fraction: f64, per_unit_pence: f64) -> i64 {
    let a = amount as f64;
    let money = a * weighted_fraction + per_unit_pence;
    if money.is_nan() || money <= 0.0 {
        return 0;
    }
    if money >= a - 0.5 {
        return amount;
    }
    // `money::round_ties_even_i64`, not `f64::round_ties_even`, which calls a software
    // `rint` on generic x86-64: the same result bit for bit.
    crate::money::round_ties_even_i64(money).clamp(0, amount)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn count_tolerance_is_one_billionth() {
        assert!(count_met(96.0, 100.0, 0.04));
        assert!(count_met(96.0 + 0.9e-9, 100.0, 0.04));
        assert!(!count_met(96.000_001, 100.0, 0.04));
    }

    #[test]
    fn proportion_tolerance() {
        assert!(proportion_met(0.84, 0.82, 0.02));
        assert!(!proportion_met(0.839_999, 0.82, 0.02));
    }

    #[test]
    fn all_or_nothing() {
        assert_eq!(fraction(&Rule::AllOrNothing, true, 0.5), 1.0);
        assert_eq!(fraction(&Rule::AllOrNothing, false, 0.99), 0.0);
    }

    #[test]
    fn proportional_pro_rata_and_floor() {
        let pro_rata = Rule::Proportional { floor: 0.0 };
        assert!((fraction(&pro_rata, false, 0.3) - 0.3).abs() < 1e-15);
        assert_eq!(fraction(&pro_rata, false, -0.2), 0.0);
        assert_eq!(fraction(&pro_rata, true, 0.3), 1.0);
        let floored = Rule::Proportional { floor: 0.5 };
        assert_eq!(fraction(&floored, false, 0.4), 0.0);
        assert!((fraction(&floored, false, 0.75) - 0.5).abs() < 1e-15);
    }

    #[test]
    fn banded_takes_highest_band_reached() {
        let rule = Rule::Banded {
            bands: vec![(0.5, 0.25), (0.7, 1.0)],
        };
        assert_eq!(fraction(&rule, false, 0.49), 0.0);
        assert_eq!(fraction(&rule, false, 0.5 - 1e-10), 0.25);
        assert_eq!(fraction(&rule, false, 0.69), 0.25);
        assert_eq!(fraction(&rule, false, 0.7), 1.0);
        assert_eq!(fraction(&rule, false, 3.0), 1.0);
    }

    #[test]
    fn per_unit_is_capped() {
        assert_eq!(per_unit_money(149_000.0, 10.0, 1_000_000.0), 1_000_000.0);
        assert_eq!(per_unit_money(149_000.0, 2.0, 1_000_000.0), 298_000.0);
        assert_eq!(per_unit_money(149_000.0, -3.0, 1_000_000.0), 0.0);
        assert!(per_unit_cap_reached(999_999.6, 1_000_000.0));
        assert!(!per_unit_cap_reached(999_999.4, 1_000_000.0));
    }

    #[test]
    fn tranche_paid_rounds_half_even_and_clips() {
        assert_eq!(tranche_paid(1_000, 0.5, 0.0), 500);
        assert_eq!(tranche_paid(3, 0.5, 0.0), 2); // 1.5 -> 2 (even)
        assert_eq!(tranche_paid(5, 0.5, 0.0), 2); // 2.5 -> 2 (even)
        assert_eq!(tranche_paid(1_000, 0.999_999_999_9, 0.0), 1_000);
        assert_eq!(tranche_paid(1_000, 0.9, 500.0), 1_000);
        assert_eq!(tranche_paid(1_000, f64::NAN, 0.0), 0);
    }
}
