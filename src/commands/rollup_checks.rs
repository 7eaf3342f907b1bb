//! The checks `itfsim rollup` makes on each run result it reads (see [`super::rollup`]):
//! the identities every run result satisfies, so that a hand-edited or damaged file is
//! refused (exit 65, located at the key) rather than added into a national total.
use super::rollup::Area;
use crate::money::Pence;

/// A partner's mean net position and the means it is the sum of:
/// net = savings - invest + performance - risks in every trial.
pub(super) struct NetParts {
    pub id: String,
    pub invest: Pence,
    pub savings: Pence,
    pub performance: Pence,
    pub risks: Pence,
    pub net: Pence,
}

/// What a run result always satisfies (a hand edit or a damaged file may not), so that
/// what rollup adds up is a run's own figures: amounts within the pot, p5 <= p50 <= p95,
/// the pot split exactly (paid + unreleased, and the partners' performance money), each
/// partner's net the sum of its parts, the MCSE sd / sqrt(trials), and trials paid in full
/// and paid nothing exclusive when there is a pot. The error names the key it is about
/// and says what is wrong.
///
/// The splits hold exactly in every trial (whole pence, `split_pence`), so they hold for
/// the exact means too. The JSON's means are each the exact mean rounded half-even to
/// whole pence (MODEL.md section 9), at most half a penny off, so k such means can add
/// up to at most k / 2 pence away from the identity: paid + unreleased may miss the pot
/// by exactly one penny (when both exact means end in half a penny, which an even number
/// of trials allows), never more. [`slack`] is that allowance; anything beyond is not
/// rounding.
pub(super) fn consistent(a: &Area) -> Result<(), (String, String)> {
    let gbp = crate::money::format_gbp;
    // A sum of amounts of an edited file may leave i64: shown plain then.
    let gbp_wide =
        |x: i128| Pence::try_from(x).map_or_else(|_| crate::money::format_pence_i128(x), gbp);
    let within = |key: &str, x: Pence| {
        if (0..=a.pot).contains(&x) {
            Ok(())
        } else {
            Err((
                key.to_string(),
                format!(
                    "`{key}` is {} but the pot is {}: not a run result's figures",
                    gbp(x),
                    gbp(a.pot)
                ),
            ))
        }
    };
    if a.pot < 0 {
        return Err((
            "fund.pot".into(),
            "`fund.pot` is negative: not a run result's figures".into(),
        ));
    }
    // A run has at least one trial (clap refuses --trials 0): none means no figures.
    if a.trials == 0 {
        return Err((
            "run.trials".into(),
            "`run.trials` is 0: a run result has at least one trial, so these are not a run result's figures".into(),
        ));
    }
    within("total.paid.mean", a.paid_mean)?;
    within("total.unreleased.mean", a.unreleased_mean)?;
    for (key, x) in [
        ("total.paid.p5", a.paid_p5),
        ("total.paid.p50", a.paid_p50),
        ("total.paid.p95", a.paid_p95),
    ] {
        within(key, x)?;
    }
    if a.paid_p5 > a.paid_p50 || a.paid_p50 > a.paid_p95 {
        return Err((
            "total.paid.p50".into(),
            format!(
                "`total.paid` has p5 {}, p50 {}, p95 {}, out of order: not a run result's figures",
                gbp(a.paid_p5),
                gbp(a.paid_p50),
                gbp(a.paid_p95)
            ),
        ));
    }
    // Every trial's pot is either paid or unreleased.
    let split = i128::from(a.paid_mean) + i128::from(a.unreleased_mean);
    if (split - i128::from(a.pot)).abs() > slack(2) {
        return Err((
            "total.paid.mean".into(),
            format!(
                "`total.paid.mean` {} and `total.unreleased.mean` {} add up to {}, but the pot is {}: not a run result's figures (what is not paid is unreleased, to the penny)",
                gbp(a.paid_mean),
                gbp(a.unreleased_mean),
                gbp_wide(split),
                gbp(a.pot)
            ),
        ));
    }
    // Every trial's pot goes to the partners as performance money, paid or unreleased.
    let shared: i128 = a.partners.iter().map(|p| i128::from(p.performance)).sum();
    if (shared - i128::from(a.pot)).abs() > slack(a.partners.len()) {
        let each: Vec<String> = a
            .partners
            .iter()
            .map(|p| format!("{} {}", p.id, gbp(p.performance)))
            .collect();
        return Err((
            "partners".into(),
            format!(
                "the partners' mean performance money adds up to {} ({}), but the pot is {}: not a run result's figures (the pot is shared out to the penny)",
                gbp_wide(shared),
                each.join(", "),
                gbp(a.pot)
            ),
        ));
    }
    for p in &a.partners {
        let parts = i128::from(p.savings) - i128::from(p.invest) + i128::from(p.performance)
            - i128::from(p.risks);
        if (parts - i128::from(p.net)).abs() > slack(5) {
            let key = format!("partners.{}.net.mean", p.id);
            return Err((
                key.clone(),
                format!(
                    "`{key}` is {} but savings {} - invest {} + performance {} - risks {} is {}: not a run result's figures",
                    gbp(p.net),
                    gbp(p.savings),
                    gbp(p.invest),
                    gbp(p.performance),
                    gbp(p.risks),
                    gbp_wide(parts)
                ),
            ));
        }
    }
    // mcse is sd / sqrt(trials) from the unrounded sd; both are rounded to whole pence,
    // so mcse is within 0.5 + 0.5 / sqrt(trials) pence of the rounded sd / sqrt(trials).
    // The sum of these errors bounds the national Monte Carlo error, so it must be right.
    let implied = a.paid_sd as f64 / (a.trials as f64).sqrt();
    if (a.paid_mcse as f64 - implied).abs() > 1.0 + implied * 1e-12 {
        return Err((
            "total.paid.mcse".into(),
            format!(
                "`total.paid.mcse` is {} but sd {} over the square root of {} trials is {}: not a run result's figures",
                gbp(a.paid_mcse),
                gbp(a.paid_sd),
                a.trials,
                gbp(implied.round() as Pence)
            ),
        ));
    }
    // With a pot, a trial paid in full paid something. Both are ratios of counts over the
    // same trials, so their sum exceeds 1 only by rounding.
    if a.pot > 0 && a.p_full + a.p_zero > 1.0 + 1e-12 {
        return Err((
            "total.p_full".into(),
            format!(
                "`total.p_full` {} and `total.p_zero` {} add up to more than 1: not a run result's figures",
                a.p_full, a.p_zero
            ),
        ));
    }
    Ok(())
}

/// The most that `means` separately rounded means (each at most half a penny off) can
/// add up to away from the exact identity they satisfy, in whole pence.
fn slack(means: usize) -> i128 {
    (means / 2) as i128
}
