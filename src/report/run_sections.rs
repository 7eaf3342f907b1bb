//! The sections `run` puts in the HTML report: headline, total paid (histogram and
//! S-curve), tranches and conditions, monthly activity, schemes, partners, warnings and
//! provenance. Each is built from finished `Results` and `RunExtras` only.
//!
//! Units on charts: money axes in pounds (compact, "£1.2m"); shares of trials and
//! achievements in percent. Count metrics' achievement is a relative reduction against
//! the window's baseline; proportion metrics' is in percentage points.
use super::html::{Document, Rendered, Section, figure, table};
use super::parts::pct;
use super::svg::{BoxRow, Chart, Margins, box_rows, escape, nice_ticks, padded};
use super::{MonthlyMetric, RunExtras};
use crate::model::Model;
use crate::model::split::split_pence;
use crate::money::{Pence, format_gbp, format_gbp_compact};
use crate::output::Results;
use crate::stats::{MoneySummary, RealSummary};
use std::fmt::Write;

fn gbp(p: Pence) -> String {
    escape(&format_gbp(p))
}

fn axis_gbp(x: f64) -> String {
    format_gbp_compact(x.round() as i64)
}

fn axis_pct(x: f64) -> String {
    let s = format!("{:.1}", x);
    let s = s.strip_suffix(".0").unwrap_or(&s).to_string();
    format!("{s}%")
}

fn money_box(s: &MoneySummary) -> Option<[f64; 5]> {
    Some([s.p5, s.p25, s.p50, s.p75, s.p95].map(|p| p as f64))
}

fn real_box(s: &RealSummary, scale: f64) -> Option<[f64; 5]> {
    Some([s.p5, s.p25, s.p50, s.p75, s.p95].map(|x| x * scale))
}

fn section(id: &str, title: &str, html: String) -> Box<dyn Section> {
    Box::new(Rendered {
        id: id.into(),
        title: title.into(),
        html,
    })
}

/// The full report of one run.
pub fn document(r: &Results, extras: &RunExtras, model: &Model) -> Document {
    let mut sections = vec![headline(r, model), total_paid(r, extras), tranches(r)];
    if !extras.monthly.is_empty() {
        sections.push(monthly(&extras.monthly));
    }
    sections.push(schemes(r));
    sections.push(partners(r));
    sections.push(super::parts::warnings(&r.warnings));
    sections.push(provenance(r));
    let area = model.scenario.area.clone().unwrap_or_default();
    Document {
        title: r.name.clone(),
        subtitle: format!(
            "{}{}Performance-linked fund {} · {} trials · seed {}",
            area,
            if area.is_empty() { "" } else { " · " },
            format_gbp(r.pot),
            r.run.trials,
            r.run.seed
        ),
        sections,
    }
}

fn headline(r: &Results, model: &Model) -> Box<dyn Section> {
    let mut o = String::from("<div class=\"cards\">");
    let card = |o: &mut String, label: &str, value: String, detail: String| {
        let _ = write!(
            o,
            "<div class=\"card\"><div class=\"label\">{}</div><div class=\"value\">{}</div><div class=\"detail\">{}</div></div>",
            escape(label),
            value,
            detail
        );
    };
    let share = if r.pot > 0 {
        r.paid.mean as f64 / r.pot as f64
    } else {
        0.0
    };
    card(
        &mut o,
        "Expected performance money released",
        gbp(r.paid.mean),
        format!(
            "{} of the {} pot; 80% range {} to {}",
            pct(share),
            gbp(r.pot),
            gbp(r.paid.p10),
            gbp(r.paid.p90)
        ),
    );
    card(
        &mut o,
        "Chance of receiving all of it",
        pct(r.p_full),
        "every tranche paid in full".into(),
    );
    card(
        &mut o,
        "Chance of receiving none of it",
        pct(r.p_zero),
        "no tranche pays anything".into(),
    );
    card(
        &mut o,
        "Expected money not released",
        gbp(r.unreleased.mean),
        // p90 is the smallest amount at least 9 in 10 trials stay at or under, so at
        // least 1 in 10 reach it: "more than" would be wrong for lumpy outcomes (a pot
        // withheld whole), where the p90 is the largest amount possible.
        format!("1 in 10 trials: {} or more", gbp(r.unreleased.p90)),
    );
    o.push_str("</div>\n<h3>Money at risk by partner</h3>\n");
    // What each partner would receive of the pot if every tranche paid in full.
    let fund = &model.scenario.fund;
    let full: Pence = model.tranches.iter().map(|t| t.amount).sum();
    let mut released = vec![0; model.partners];
    let mut withheld = vec![0; model.partners];
    split_pence(full, &fund.released_to, &mut released);
    split_pence(model.pot - full, &fund.unreleased_to, &mut withheld);
    let rows: Vec<Vec<String>> = r
        .partners
        .iter()
        .enumerate()
        .map(|(p, partner)| {
            let best = released[p] + withheld[p];
            vec![
                escape(&partner.label),
                gbp(best),
                gbp(partner.performance.mean),
                gbp(partner.performance.mean - best),
                gbp(partner.performance.p10),
                gbp(partner.net.mean),
            ]
        })
        .collect();
    o.push_str(&table(
        &[
            "Partner",
            "Receives if all released",
            "Expected to receive",
            "Expected gain (+) or loss (−) vs all released",
            "1 in 10 trials at or below",
            "Expected net position",
        ],
        &rows,
    ));
    o.push_str("<p class=\"note\">Performance money a partner receives: its share of released money plus its share of what is withheld (the risk share). A partner that receives the withheld money gains when targets are missed. Net position adds savings from avoided activity and subtracts scheme investment and risks that occur.</p>");
    section("headline", "Headline", o)
}

fn total_paid(r: &Results, extras: &RunExtras) -> Box<dyn Section> {
    let h = &extras.histogram;
    let n = h.n.max(1) as f64;
    let full = h.full as f64;
    let mut o = String::new();
    // Histogram: 40 display bins from the 400 fixed bins, atoms at 0 and at full.
    const SHOWN: usize = 40;
    let group = super::collect::BINS / SHOWN;
    let w = full / SHOWN as f64;
    let shares: Vec<f64> = (0..SHOWN)
        .map(|k| h.bins[k * group..(k + 1) * group].iter().sum::<u64>() as f64 / n * 100.0)
        .collect();
    let (zero, all) = (h.zero as f64 / n * 100.0, h.all as f64 / n * 100.0);
    let top = shares
        .iter()
        .copied()
        .fold(zero.max(all), f64::max)
        .max(1.0)
        * 1.12;
    let x_range = if full > 0.0 {
        (-w, full + w)
    } else {
        (-1.0, 1.0)
    };
    let mut c = Chart::new(
        "Total performance money paid: share of trials",
        1000.0,
        400.0,
        Margins::default(),
        x_range,
        (0.0, top),
    );
    c.y_axis("share of trials", &nice_ticks(0.0, top, 6), &axis_pct);
    c.x_axis(
        "total paid (£)",
        &nice_ticks(0.0, full.max(1.0), 8),
        &axis_gbp,
    );
    for (k, s) in shares.iter().enumerate() {
        if *s > 0.0 {
            c.rect(k as f64 * w, (k + 1) as f64 * w, 0.0, *s, "bar");
        }
    }
    c.rect(-w, 0.0, 0.0, zero, "bar-atom");
    c.rect(full, full + w, 0.0, all, "bar-atom");
    c.vline(
        r.paid.mean as f64,
        "mean-line",
        &format!("expected {}", format_gbp_compact(r.paid.mean)),
    );
    c.vline(
        r.pot as f64,
        "pot",
        &format!("pot {}", format_gbp_compact(r.pot)),
    );
    c.legend(&[
        ("bar", "part paid"),
        ("bar-atom", "nothing / everything paid"),
        ("pot", "pot"),
        ("mean-line", "expected"),
    ]);
    o.push_str(&figure(
        &c.finish(),
        &format!(
            "Bars: share of {} trials paying each amount (bins of {}). Orange: trials paying nothing ({}) or everything ({}).",
            r.run.trials,
            format_gbp_compact(w.round() as i64),
            pct(h.zero as f64 / n),
            pct(h.all as f64 / n)
        ),
    ));
    // S-curve: empirical CDF at the fixed bin edges.
    let mut c = Chart::new(
        "S-curve: chance that total paid is at most a given amount",
        1000.0,
        400.0,
        Margins::default(),
        (0.0, full.max(1.0) * 1.02),
        (0.0, 100.0),
    );
    c.y_axis(
        "chance of at most this (%)",
        &nice_ticks(0.0, 100.0, 5),
        &axis_pct,
    );
    c.x_axis(
        "total paid (£)",
        &nice_ticks(0.0, full.max(1.0), 8),
        &axis_gbp,
    );
    for q in [10.0, 50.0, 90.0] {
        c.hline(q, "guide");
    }
    let mut points = vec![(0.0, 0.0)];
    let mut cum = h.zero as f64;
    points.push((0.0, cum / n * 100.0));
    for (k, b) in h.bins.iter().enumerate() {
        cum += *b as f64;
        points.push((h.edge(k + 1), cum / n * 100.0));
    }
    points.push((full, 100.0));
    c.polyline(&points, "cdf");
    c.vline(
        r.pot as f64,
        "pot",
        &format!("pot {}", format_gbp_compact(r.pot)),
    );
    o.push_str(&figure(
        &c.finish(),
        &format!(
            "Read across from 10%, 50%, 90%: 1 in 10 trials pay at most {}, half at most {}, 9 in 10 at most {}.",
            format_gbp(r.paid.p10),
            format_gbp(r.paid.p50),
            format_gbp(r.paid.p90)
        ),
    ));
    section("total", "Total paid", o)
}

fn tranches(r: &Results) -> Box<dyn Section> {
    let rows: Vec<Vec<String>> = r
        .tranches
        .iter()
        .map(|t| {
            vec![
                escape(&t.label),
                t.window
                    .as_ref()
                    .map(|(a, b)| escape(&format!("{a} to {b}")))
                    .unwrap_or_else(|| "–".into()),
                gbp(t.amount),
                gbp(t.paid.mean),
                pct(t.p_full),
                pct(t.p_zero),
                format!("{} – {}", gbp(t.paid.p10), gbp(t.paid.p90)),
            ]
        })
        .collect();
    let mut o = table(
        &[
            "Tranche",
            "Window",
            "Amount",
            "Expected paid",
            "P(full)",
            "P(zero)",
            "80% range",
        ],
        &rows,
    );
    for t in &r.tranches {
        let _ = write!(o, "<h3>{}</h3>", escape(&t.label));
        let rows: Vec<Vec<String>> = t
            .conditions
            .iter()
            .map(|c| {
                vec![
                    escape(&c.id),
                    escape(&c.rule),
                    format!("{}", c.weight),
                    c.target.cell(pct, "–"),
                    pct(c.p_met),
                    c.achieved
                        .as_ref()
                        .map(|a| pct(a.mean))
                        .unwrap_or_else(|| "–".into()),
                    gbp(c.paid.mean),
                ]
            })
            .collect();
        o.push_str(&table(
            &[
                "Condition",
                "Rule",
                "Weight",
                "Target",
                "P(met)",
                "Achieved (mean)",
                "Expected paid",
            ],
            &rows,
        ));
        if t.conditions.iter().all(|c| c.achieved.is_none()) {
            continue;
        }
        let rows: Vec<BoxRow> = t
            .conditions
            .iter()
            .filter_map(|c| {
                let a = c.achieved.as_ref()?;
                Some(BoxRow {
                    label: format!("{} ({})", c.id, c.rule),
                    quantiles: real_box(a, 100.0),
                    mean: Some(a.mean * 100.0),
                    marker: c.target.fixed().map(|t| t * 100.0),
                    note: format!("P(met) {}", pct(c.p_met)),
                })
            })
            .collect();
        let svg = box_rows(
            &format!("{}: achieved improvement against target", t.id),
            &rows,
            "achieved improvement (% reduction for counts; points for proportions)",
            &axis_pct,
            Some((0.0, "no change")),
            &[
                ("box", "middle half"),
                ("median", "median"),
                ("mean", "mean"),
                ("target", "target"),
            ],
        );
        o.push_str(&figure(
            &svg,
            "Boxes span the 25th–75th percentiles of trials, whiskers the 5th–95th; the red tick is the target. P(met) is the share of trials meeting it. Events (yes/no conditions) are in the table only.",
        ));
    }
    section("tranches", "Tranches and conditions", o)
}

fn monthly(metrics: &[MonthlyMetric]) -> Box<dyn Section> {
    let mut o = String::from(
        "<p class=\"note\">Monthly observed activity: each measured window's drawn total split across its months in proportion to expected activity, so months add up to what the rules saw; months outside every window are drawn the same way. The band holds 80% of trials.</p>",
    );
    for m in metrics {
        let months = m.months.len();
        let mut lo = f64::INFINITY;
        let mut hi = 0.0f64;
        for v in m.p10.iter().chain(&m.p90).chain(&m.baseline) {
            if v.is_finite() {
                lo = lo.min(*v);
                hi = hi.max(*v);
            }
        }
        for (_, from, to, target) in &m.targets {
            for i in *from..=*to {
                lo = lo.min(m.baseline[i] * (1.0 - target));
            }
        }
        let (lo, hi) = padded(lo.min(hi), hi);
        let lo = lo.max(0.0);
        let mut c = Chart::new(
            &format!("{}: activity per month", m.label),
            1000.0,
            380.0,
            Margins::default(),
            (-0.5, months as f64 - 0.5),
            (lo, hi),
        );
        c.y_axis("per month", &nice_ticks(lo, hi, 6), &|x| format!("{x:.0}"));
        let step = if months > 36 { 6 } else { 3 };
        let ticks: Vec<f64> = (0..months).step_by(step).map(|i| i as f64).collect();
        let labels = m.months.clone();
        c.x_axis("month", &ticks, &move |x| {
            labels.get(x as usize).cloned().unwrap_or_default()
        });
        let mut band: Vec<(f64, f64)> = (0..months).map(|i| (i as f64, m.p90[i])).collect();
        band.extend((0..months).rev().map(|i| (i as f64, m.p10[i])));
        c.polygon(&band, "band");
        let line = |v: &[f64]| -> Vec<(f64, f64)> {
            v.iter().enumerate().map(|(i, y)| (i as f64, *y)).collect()
        };
        c.polyline(&line(&m.baseline), "baseline");
        c.polyline(&line(&m.p50), "median-line");
        for (_, from, to, target) in &m.targets {
            let points: Vec<(f64, f64)> = (*from..=*to)
                .map(|i| (i as f64, m.baseline[i] * (1.0 - target)))
                .collect();
            let points = if points.len() == 1 {
                vec![
                    (points[0].0 - 0.4, points[0].1),
                    (points[0].0 + 0.4, points[0].1),
                ]
            } else {
                points
            };
            c.polyline(&points, "target-line");
        }
        c.legend(&[
            ("band", "p10–p90"),
            ("median-line", "median"),
            ("baseline", "baseline"),
            ("target-line", "target level"),
        ]);
        let targets: Vec<String> = m
            .targets
            .iter()
            .map(|(t, from, to, target)| {
                format!(
                    "{t}: {} below baseline over {} to {}",
                    pct(*target),
                    m.months[*from],
                    m.months[*to]
                )
            })
            .collect();
        let caption = if targets.is_empty() {
            "No fixed target on this metric.".to_string()
        } else {
            format!("Target levels (red): {}.", targets.join("; "))
        };
        o.push_str(&figure(&c.finish(), &caption));
    }
    section("monthly", "Monthly activity", o)
}

fn schemes(r: &Results) -> Box<dyn Section> {
    let rows: Vec<Vec<String>> = r
        .schemes
        .iter()
        .map(|s| {
            let avoided: Vec<String> = s
                .avoided
                .iter()
                .map(|(m, a)| format!("{}: {:.0}", escape(m), a.mean))
                .collect();
            vec![
                escape(&s.label),
                gbp(s.cost),
                gbp(s.invest.mean),
                avoided.join("<br>"),
                gbp(s.savings.mean),
                format!("{:.2}", s.roi.mean),
                pct(s.p_roi_above_1),
            ]
        })
        .collect();
    let mut o = table(
        &[
            "Scheme",
            "Budgeted cost",
            "Expected spend",
            "Avoided activity (mean)",
            "Expected savings",
            "ROI (mean)",
            "P(ROI > 1)",
        ],
        &rows,
    );
    let rows: Vec<BoxRow> = r
        .schemes
        .iter()
        .map(|s| BoxRow {
            label: s.label.clone(),
            quantiles: real_box(&s.roi, 1.0),
            mean: Some(s.roi.mean),
            marker: None,
            note: format!("P(ROI > 1) {}", pct(s.p_roi_above_1)),
        })
        .collect();
    let svg = box_rows(
        "Return on investment by scheme (savings / spend)",
        &rows,
        "return on investment",
        &|x| format!("{x:.1}"),
        Some((1.0, "break-even")),
        &[
            ("box", "middle half"),
            ("median", "median"),
            ("mean", "mean"),
        ],
    );
    o.push_str(&figure(
        &svg,
        "Savings are attributed avoided activity times its unit cost; a scheme pays for itself to the right of the break-even line.",
    ));
    section("schemes", "Schemes", o)
}

fn partners(r: &Results) -> Box<dyn Section> {
    let rows: Vec<Vec<String>> = r
        .partners
        .iter()
        .map(|p| {
            vec![
                escape(&p.label),
                gbp(p.invest.mean),
                gbp(p.savings.mean),
                gbp(p.performance.mean),
                gbp(p.risks.mean),
                gbp(p.net.mean),
                format!("{} – {}", gbp(p.net.p10), gbp(p.net.p90)),
            ]
        })
        .collect();
    let mut o = table(
        &[
            "Partner",
            "Invests",
            "Savings",
            "Performance money",
            "Risks",
            "Net (mean)",
            "Net 80% range",
        ],
        &rows,
    );
    let rows: Vec<BoxRow> = r
        .partners
        .iter()
        .map(|p| BoxRow {
            label: p.label.clone(),
            quantiles: money_box(&p.net),
            mean: Some(p.net.mean as f64),
            marker: None,
            note: format!("mean {}", format_gbp_compact(p.net.mean)),
        })
        .collect();
    let svg = box_rows(
        "Net position by partner",
        &rows,
        "net position (£)",
        &axis_gbp,
        Some((0.0, "break-even")),
        &[
            ("box", "middle half"),
            ("median", "median"),
            ("mean", "mean"),
        ],
    );
    o.push_str(&figure(
        &svg,
        "Net = savings − investment + performance money − risks, per trial; whiskers 5th–95th percentile.",
    ));
    section("partners", "Partners", o)
}

fn provenance(r: &Results) -> Box<dyn Section> {
    let mut items = super::parts::scenario_items(&r.name, &r.file, &r.sha256, &r.sets);
    items.extend([
        ("Seed", r.run.seed.to_string()),
        ("Trials", r.run.trials.to_string()),
        ("Sampling", r.run.sampling.clone()),
    ]);
    super::parts::provenance(&items)
}
