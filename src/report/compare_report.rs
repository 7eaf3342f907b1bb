//! The HTML report of `itfsim compare`: expected paid per scenario (bars, with P(full)
//! and P(zero)), each scenario's distribution of total paid, partner nets side by side,
//! the paired difference against the first scenario (mean with its 90% interval, P(more),
//! P(tie), P(less), and the per-trial difference's p5..p95 box), tables, warnings and
//! provenance.
//!
//! Built from the figures the command prints (whole pence), so the report and
//! `compare --format json` agree to the penny.
use super::html::{Document, figure, table};
use super::parts::{BarRow, axis_gbp, cards, gbp, hbars, pct, provenance, section, warnings};
use super::svg::{BoxRow, box_rows, escape, shorten};
use crate::money::Pence;
use crate::stats::MoneySummary;

/// One scenario's side.
pub struct CompareSide {
    pub letter: String,
    pub name: String,
    pub file: String,
    pub sha256: String,
    pub pot: Pence,
    pub paid: MoneySummary,
    pub mcse: Pence,
    pub p_full: f64,
    pub p_zero: f64,
    /// (partner id, expected net).
    pub net: Vec<(String, Pence)>,
}

/// The paired difference of one scenario against the first.
pub struct ComparePair {
    pub mean: Pence,
    pub mcse: Pence,
    pub mcse_independent: Pence,
    pub interval: (Pence, Pence),
    pub p_more: f64,
    pub p_tie: f64,
    pub p_less: f64,
    /// The per-trial difference's distribution.
    pub distribution: MoneySummary,
}

pub struct CompareReport {
    pub sides: Vec<CompareSide>,
    /// One per side after the first.
    pub pairs: Vec<ComparePair>,
    pub trials: u64,
    pub seed: u64,
    /// "mc" or "lhs", as the run reports it.
    pub sampling: String,
    /// The `--set` overrides applied to every scenario, as `PATH=VALUE`.
    pub sets: Vec<String>,
    pub warnings: Vec<String>,
}

fn quantiles(s: &MoneySummary) -> Option<[f64; 5]> {
    Some([s.p5, s.p25, s.p50, s.p75, s.p95].map(|p| p as f64))
}

/// "A: ealing-2014.toml": the file name tells scenarios apart where names share a
/// long prefix (the tables give the full names).
fn side_label(s: &CompareSide) -> String {
    let file = std::path::Path::new(&s.file)
        .file_name()
        .map_or(s.file.clone(), |f| f.to_string_lossy().into_owned());
    format!("{}: {}", s.letter, shorten(&file, 30))
}

pub fn document(r: &CompareReport) -> Document {
    let first = &r.sides[0];
    let mut items = vec![(
        "Scenarios",
        r.sides.len().to_string(),
        format!(
            "on the same {} trials, seed {} (common random numbers)",
            r.trials, r.seed
        ),
    )];
    if let (Some(best), Some(_)) = (r.sides.iter().max_by_key(|s| s.paid.mean), r.pairs.first()) {
        items.push((
            "Highest expected release",
            escape(&best.letter),
            format!("{}: {}", escape(&best.name), gbp(best.paid.mean)),
        ));
    }
    for (p, s) in r.pairs.iter().zip(&r.sides[1..]) {
        items.push((
            "Paired difference against A",
            gbp(p.mean),
            format!(
                "{} − A; 90% interval {} to {}; P(more) {}",
                escape(&s.letter),
                gbp(p.interval.0),
                gbp(p.interval.1),
                pct(p.p_more)
            ),
        ));
    }
    let headline = cards(&items);

    let paid_rows: Vec<BarRow> = r
        .sides
        .iter()
        .map(|s| BarRow {
            label: side_label(s),
            segments: vec![(0.0, s.paid.mean as f64, "bar")],
            note: format!(
                "{} · P(full) {} · P(zero) {}",
                crate::money::format_gbp(s.paid.mean),
                pct(s.p_full),
                pct(s.p_zero)
            ),
        })
        .collect();
    let paid_bars = hbars(
        "Expected performance money paid by scenario",
        &paid_rows,
        "Expected total paid",
        &axis_gbp,
        None,
        &[("bar", "expected total paid")],
    );
    let paid_boxes = box_rows(
        "Distribution of total paid by scenario",
        &r.sides
            .iter()
            .map(|s| BoxRow {
                label: side_label(s),
                quantiles: quantiles(&s.paid),
                mean: Some(s.paid.mean as f64),
                marker: Some(s.pot as f64),
                note: format!("pot {}", crate::money::format_gbp(s.pot)),
            })
            .collect::<Vec<_>>(),
        "Total paid",
        &axis_gbp,
        None,
        &[
            ("box", "middle half (p25-p75)"),
            ("mean", "mean"),
            ("target", "pot"),
        ],
    );
    let mut partner_ids: Vec<&str> = Vec::new();
    for s in &r.sides {
        for (id, _) in &s.net {
            if !partner_ids.contains(&id.as_str()) {
                partner_ids.push(id);
            }
        }
    }
    let net_rows: Vec<BarRow> = partner_ids
        .iter()
        .flat_map(|id| {
            r.sides.iter().filter_map(move |s| {
                let (_, net) = s.net.iter().find(|(p, _)| p == id)?;
                Some(BarRow {
                    label: format!("{} · {}", shorten(id, 22), s.letter),
                    segments: vec![(0.0, *net as f64, "bar")],
                    note: crate::money::format_gbp(*net),
                })
            })
        })
        .collect();
    let nets = hbars(
        "Expected net position by partner and scenario",
        &net_rows,
        "Expected net",
        &axis_gbp,
        Some((0.0, "break-even")),
        &[("bar", "expected net")],
    );
    let scenarios_html = format!(
        "{}{}",
        figure(
            &paid_bars,
            "Expected total performance money paid; the note gives the chance of receiving all of it and none of it."
        ),
        figure(
            &paid_boxes,
            "Box: middle half of trials; whiskers: 5th-95th percentile; green dot: mean; red tick: the pot."
        )
    );
    let side_table = table(
        &[
            "Scenario",
            "Pot",
            "Expected paid",
            "MCSE",
            "P(full)",
            "P(zero)",
            "p10",
            "p50",
            "p90",
        ],
        &r.sides
            .iter()
            .map(|s| {
                vec![
                    format!("{}: {}", escape(&s.letter), escape(&s.name)),
                    gbp(s.pot),
                    gbp(s.paid.mean),
                    gbp(s.mcse),
                    pct(s.p_full),
                    pct(s.p_zero),
                    gbp(s.paid.p10),
                    gbp(s.paid.p50),
                    gbp(s.paid.p90),
                ]
            })
            .collect::<Vec<_>>(),
    );
    let diff_boxes = box_rows(
        "Paired difference in total paid against A, per trial",
        &r.pairs
            .iter()
            .zip(&r.sides[1..])
            .map(|(p, s)| BoxRow {
                label: format!("{} − A", s.letter),
                quantiles: quantiles(&p.distribution),
                mean: Some(p.mean as f64),
                marker: None,
                note: format!("mean {}", crate::money::format_gbp(p.mean)),
            })
            .collect::<Vec<_>>(),
        "Difference in total paid (same trial)",
        &axis_gbp,
        Some((0.0, "no difference")),
        &[("box", "middle half (p25-p75)"), ("mean", "mean")],
    );
    let diff_table = table(
        &[
            "Difference",
            "Mean",
            "90% interval",
            "MCSE",
            "MCSE if independent",
            "P(more)",
            "P(tie)",
            "P(less)",
        ],
        &r.pairs
            .iter()
            .zip(&r.sides[1..])
            .map(|(p, s)| {
                vec![
                    format!("{} − A", escape(&s.letter)),
                    gbp(p.mean),
                    format!("{} to {}", gbp(p.interval.0), gbp(p.interval.1)),
                    gbp(p.mcse),
                    gbp(p.mcse_independent),
                    pct(p.p_more),
                    pct(p.p_tie),
                    pct(p.p_less),
                ]
            })
            .collect::<Vec<_>>(),
    );
    let differences_html = format!(
        "{}<p class=\"note\">Each scenario runs on the same trials as A, so the difference is taken trial by trial; the 90% interval is for the mean difference (± 1.645 paired MCSE). P(more) is the share of trials in which the scenario pays more than A.</p>{}",
        figure(
            &diff_boxes,
            "Box: middle half of trials' differences; whiskers: 5th-95th percentile; green dot: mean."
        ),
        diff_table
    );
    let mut prov = vec![
        ("Overrides", crate::output::set_options(&r.sets)),
        ("Seed", r.seed.to_string()),
        ("Trials", r.trials.to_string()),
        ("Sampling", r.sampling.clone()),
    ];
    let labels: Vec<(String, String)> = r
        .sides
        .iter()
        .flat_map(|s| {
            [
                (format!("{} file", s.letter), s.file.clone()),
                (format!("{} SHA-256", s.letter), s.sha256.clone()),
            ]
        })
        .collect();
    let mut items: Vec<(&str, String)> = labels
        .iter()
        .map(|(k, v)| (k.as_str(), v.clone()))
        .collect();
    items.append(&mut prov);
    Document {
        title: format!(
            "Comparison: {}",
            r.sides
                .iter()
                .map(|s| s.name.as_str())
                .collect::<Vec<_>>()
                .join(" vs ")
        ),
        subtitle: format!(
            "itfsim compare · {} scenarios · {} trials · seed {} · differences against A ({})",
            r.sides.len(),
            r.trials,
            r.seed,
            first.name
        ),
        sections: vec![
            section("headline", "Headline", headline),
            section(
                "scenarios",
                "Scenarios",
                format!("{scenarios_html}{side_table}"),
            ),
            section(
                "partners",
                "Partners",
                figure(
                    &nets,
                    "Expected net position (investment, savings, performance money and risks) of each partner in each scenario.",
                ),
            ),
            section("differences", "Paired differences", differences_html),
            warnings(&r.warnings),
            provenance(&items),
        ],
    }
}
