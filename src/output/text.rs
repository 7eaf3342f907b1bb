//! Text output: the run's facts as tables a finance lead can read in a terminal.
use super::results::*;
use crate::money::{Pence, format_gbp};
use crate::scenario::MetricKind;
use std::fmt::Write;

/// A probability as a percentage with one decimal.
pub(crate) fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

/// A probability as a percentage with one decimal, except that one that is not 0 (or
/// not 1) never prints as if it were: "<0.1%" and ">99.9%" (a 1-in-20,000 chance of being
/// paid in full is not "0.0%").
pub fn prob(x: f64) -> String {
    if x > 0.0 && x < 0.0005 {
        "<0.1%".into()
    } else if (0.9995..1.0).contains(&x) {
        ">99.9%".into()
    } else {
        pct(x)
    }
}

fn gbp(p: Pence) -> String {
    format_gbp(p)
}

/// Left-aligned first column, right-aligned others, under a header and a rule.
pub(crate) fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let cols = header.len();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate().take(cols) {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let line = |cells: &[String], out: &mut String| {
        for (i, cell) in cells.iter().enumerate() {
            let pad = widths[i].saturating_sub(cell.chars().count());
            if i == 0 {
                out.push_str("  ");
                out.push_str(cell);
                out.push_str(&" ".repeat(pad));
            } else {
                out.push_str("  ");
                out.push_str(&" ".repeat(pad));
                out.push_str(cell);
            }
        }
        out.push('\n');
    };
    line(
        &header.iter().map(|h| h.to_string()).collect::<Vec<_>>(),
        &mut out,
    );
    let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    line(&rule, &mut out);
    for row in rows {
        line(row, &mut out);
    }
    out
}

/// A count or proportion: whole numbers from 100 up, else 2 or 4 decimals.
pub(crate) fn number(x: f64) -> String {
    if x.abs() >= 100.0 {
        format!("{x:.0}")
    } else if x.abs() >= 1.0 {
        format!("{x:.2}")
    } else {
        format!("{x:.4}")
    }
}

pub fn render(r: &Results) -> String {
    render_with(r, "")
}

/// `render` with `sections` (whole sections, each starting with a blank line, such as
/// `run --monthly`'s monthly activity) placed after the partners and before the warnings.
pub fn render_with(r: &Results, sections: &str) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "{} ({})", r.name, r.file);
    if !r.sets.is_empty() {
        let _ = writeln!(o, "with {}", super::set_options(&r.sets));
    }
    let _ = writeln!(
        o,
        "{} trials, seed {}, {} sampling, {} thread{}, {:.2} s ({:.0} trials/s)\n",
        r.run.trials,
        r.run.seed,
        r.run.sampling,
        r.run.threads,
        if r.run.threads == 1 { "" } else { "s" },
        r.run.elapsed_s,
        if r.run.elapsed_s > 0.0 {
            r.run.trials as f64 / r.run.elapsed_s
        } else {
            0.0
        }
    );
    let share = |p: Pence| {
        if r.pot != 0 {
            p as f64 / r.pot as f64
        } else {
            0.0
        }
    };
    let _ = writeln!(o, "Performance-linked pot      {}", gbp(r.pot));
    let _ = writeln!(
        o,
        "Expected paid               {}  ({} of the pot, MCSE {})",
        gbp(r.paid.mean),
        pct(share(r.paid.mean)),
        gbp(r.paid.mcse)
    );
    let _ = writeln!(
        o,
        "Paid, 90% range             {} to {}",
        gbp(r.paid.p5),
        gbp(r.paid.p95)
    );
    let _ = writeln!(o, "Expected unreleased         {}", gbp(r.unreleased.mean));
    let _ = writeln!(o, "P(all paid)                 {}", prob(r.p_full));
    let _ = writeln!(o, "P(nothing paid)             {}\n", prob(r.p_zero));

    let _ = writeln!(o, "Tranches");
    let rows: Vec<Vec<String>> = r
        .tranches
        .iter()
        .map(|t| {
            vec![
                t.id.clone(),
                t.window
                    .as_ref()
                    .map(|(a, b)| format!("{a}..{b}"))
                    .unwrap_or_else(|| "-".into()),
                gbp(t.amount),
                gbp(t.paid.mean),
                gbp(t.paid.p10),
                gbp(t.paid.p90),
                prob(t.p_full),
                prob(t.p_zero),
            ]
        })
        .collect();
    o.push_str(&table(
        &[
            "tranche",
            "window",
            "amount",
            "expected paid",
            "p10",
            "p90",
            "P(full)",
            "P(zero)",
        ],
        &rows,
    ));

    let _ = writeln!(o, "\nConditions");
    let mut rows = Vec::new();
    for t in &r.tranches {
        for c in &t.conditions {
            rows.push(vec![
                format!("{}.{}", t.id, c.id),
                c.rule.clone(),
                c.target.cell(|x| format!("{x}"), "-"),
                format!("{}", c.weight),
                prob(c.p_met),
                c.achieved
                    .as_ref()
                    .map(|a| number(a.mean))
                    .unwrap_or_else(|| "-".into()),
                c.achieved
                    .as_ref()
                    .map(|a| format!("{} to {}", number(a.p10), number(a.p90)))
                    .unwrap_or_else(|| "-".into()),
                gbp(c.paid.mean),
            ]);
        }
    }
    o.push_str(&table(
        &[
            "condition",
            "rule",
            "target",
            "weight",
            "P(met)",
            "achieved mean",
            "achieved p10 to p90",
            "expected paid",
        ],
        &rows,
    ));

    let _ = writeln!(o, "\nMetrics (per measured window)");
    let mut rows = Vec::new();
    for m in &r.metrics {
        for w in &m.windows {
            let (unit, base) = match m.kind {
                MetricKind::Count => ("count", number(w.baseline)),
                MetricKind::Proportion => ("proportion", number(w.baseline)),
            };
            rows.push(vec![
                format!("{} @ {}", m.id, w.tranche),
                unit.into(),
                base,
                number(w.expected.mean),
                number(w.observed.mean),
                format!("{} to {}", number(w.observed.p10), number(w.observed.p90)),
                number(w.achieved.mean),
            ]);
        }
    }
    o.push_str(&table(
        &[
            "metric @ tranche",
            "kind",
            "baseline",
            "expected",
            "observed",
            "observed p10 to p90",
            "achieved",
        ],
        &rows,
    ));

    let _ = writeln!(o, "\nSchemes (over the horizon)");
    let rows: Vec<Vec<String>> = r
        .schemes
        .iter()
        .map(|s| {
            vec![
                s.id.clone(),
                gbp(s.cost),
                gbp(s.invest.mean),
                s.avoided
                    .iter()
                    .map(|(m, a)| format!("{m} {}", number(a.mean)))
                    .collect::<Vec<_>>()
                    .join(", "),
                gbp(s.savings.mean),
                number(s.roi.mean),
                prob(s.p_roi_above_1),
            ]
        })
        .collect();
    o.push_str(&table(
        &[
            "scheme",
            "cost",
            "expected spend",
            "avoided (mean)",
            "savings",
            "ROI",
            "P(ROI>1)",
        ],
        &rows,
    ));

    let _ = writeln!(o, "\nPartners (expected, with net 90% range)");
    let rows: Vec<Vec<String>> = r
        .partners
        .iter()
        .map(|p| {
            vec![
                p.id.clone(),
                gbp(p.invest.mean),
                gbp(p.savings.mean),
                gbp(p.performance.mean),
                gbp(p.risks.mean),
                gbp(p.net.mean),
                format!("{} to {}", gbp(p.net.p5), gbp(p.net.p95)),
            ]
        })
        .collect();
    o.push_str(&table(
        &[
            "partner",
            "invest",
            "savings",
            "performance",
            "risks",
            "net",
            "net p5 to p95",
        ],
        &rows,
    ));

    o.push_str(sections);
    if !r.warnings.is_empty() {
        let _ = writeln!(o, "\nWarnings");
        for w in &r.warnings {
            let _ = writeln!(o, "  - {w}");
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::{pct, prob};

    #[test]
    fn a_probability_that_is_not_0_or_1_never_prints_as_one() {
        assert_eq!(prob(0.0), "0.0%");
        assert_eq!(prob(0.00006), "<0.1%");
        assert_eq!(prob(0.0004999), "<0.1%");
        assert_eq!(prob(0.0005), "0.1%");
        assert_eq!(prob(0.123), "12.3%");
        assert_eq!(prob(0.9994), "99.9%");
        assert_eq!(prob(0.99995), ">99.9%");
        assert_eq!(prob(1.0), "100.0%");
        // Plain percentages (shares, targets) keep their rounding.
        assert_eq!(pct(0.00006), "0.0%");
    }
}
