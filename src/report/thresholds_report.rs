//! The HTML report of `itfsim thresholds`: headline, the release curve (expected total
//! paid with its ±1.645 MCSE band, and P(met) with its ±1.645 binomial MCSE band, against
//! the target), the table of rows, warnings and provenance.
//!
//! Built from the rows the command prints, so every figure in it is the command's own
//! (money from whole pence; the most ambitious target is the command's choice).
use super::html::{Document, figure, table};
use super::parts::{
    Axes, Line, axis_gbp, axis_pct, cards, gbp, line_chart, pct, provenance, scenario_items,
    section, warnings,
};
use super::svg::escape;
use crate::money::Pence;

/// One target on the grid, as the command computed it.
pub struct ThresholdRow {
    /// The target as given on the grid (decimal text).
    pub target: String,
    /// The value the scenario reads for it.
    pub value: f64,
    pub p_met: f64,
    /// Binomial MCSE of `p_met`.
    pub p_met_mcse: f64,
    pub paid: Pence,
    pub mcse: Pence,
    pub p_full: f64,
    pub tranche_paid: Pence,
}

/// Everything the report shows.
pub struct ThresholdsReport {
    pub name: String,
    pub file: String,
    pub sha256: String,
    /// The `--set` overrides, as `PATH=VALUE`.
    pub sets: Vec<String>,
    pub condition: String,
    pub path: String,
    pub tranche_amount: Pence,
    pub pot: Pence,
    pub trials: u64,
    pub seed: u64,
    /// "mc" or "lhs", as the run reports it.
    pub sampling: String,
    pub confidence: f64,
    /// Index into `rows` of the most ambitious target met with P >= confidence.
    pub ambitious: Option<usize>,
    pub rows: Vec<ThresholdRow>,
    pub warnings: Vec<String>,
}

/// z for a two-sided 90% band.
const Z90: f64 = 1.645;

fn target_tick(x: f64) -> String {
    axis_pct(x * 100.0)
}

pub fn document(r: &ThresholdsReport) -> Document {
    let mut items = scenario_items(&r.name, &r.file, &r.sha256, &r.sets);
    items.extend([
        ("Condition", r.condition.clone()),
        ("Target path", r.path.clone()),
        ("Seed", r.seed.to_string()),
        ("Trials", r.trials.to_string()),
        ("Sampling", r.sampling.clone()),
    ]);
    let ambitious = r.ambitious.map(|i| &r.rows[i]);
    let headline = cards(&[
        (
            "Condition",
            escape(&r.condition),
            format!("target moved through {}", escape(&r.path)),
        ),
        (
            "Tranche amount",
            gbp(r.tranche_amount),
            format!("of a {} performance-linked pot", gbp(r.pot)),
        ),
        (
            "Most ambitious target met with enough confidence",
            ambitious.map_or("none".into(), |row| escape(&row.target)),
            match ambitious {
                Some(row) => format!(
                    "P(met) {} ≥ {}; expected paid {}",
                    pct(row.p_met),
                    pct(r.confidence),
                    gbp(row.paid)
                ),
                None => format!("no target on the grid has P(met) ≥ {}", pct(r.confidence)),
            },
        ),
        (
            "Trials",
            r.trials.to_string(),
            format!("seed {}; one set of trials for every target", r.seed),
        ),
    ]);
    let marker_label =
        ambitious.map(|row| format!("most ambitious at {}: {}", pct(r.confidence), row.target));
    let marker = ambitious
        .zip(marker_label.as_deref())
        .map(|(row, l)| (row.value, l));
    let paid = line_chart(
        "Expected total paid against the target",
        &[Line {
            points: r.rows.iter().map(|x| (x.value, x.paid as f64)).collect(),
            band: r
                .rows
                .iter()
                .map(|x| {
                    let m = Z90 * x.mcse as f64;
                    (x.value, x.paid as f64 - m, x.paid as f64 + m)
                })
                .collect(),
            line_class: "median-line",
            band_class: "band",
        }],
        &Axes {
            x_label: "Target",
            y_label: "Expected total paid",
            x_format: &target_tick,
            y_format: &axis_gbp,
            y_range: None,
        },
        None,
        marker,
        &[
            ("median-line", "expected total paid"),
            ("band", "± 1.645 × MCSE (90%)"),
            ("target-line", "most ambitious target"),
        ][..if ambitious.is_some() { 3 } else { 2 }],
    );
    let met = line_chart(
        "Chance the condition is met against the target",
        &[Line {
            points: r.rows.iter().map(|x| (x.value, x.p_met * 100.0)).collect(),
            band: r
                .rows
                .iter()
                .map(|x| {
                    let m = Z90 * x.p_met_mcse;
                    (
                        x.value,
                        (x.p_met - m).max(0.0) * 100.0,
                        (x.p_met + m).min(1.0) * 100.0,
                    )
                })
                .collect(),
            line_class: "cdf",
            band_class: "band",
        }],
        &Axes {
            x_label: "Target",
            y_label: "P(met)",
            x_format: &target_tick,
            y_format: &axis_pct,
            y_range: Some((0.0, 100.0)),
        },
        Some(r.confidence * 100.0),
        marker,
        &[
            ("cdf", "P(met)"),
            ("band", "± 1.645 × binomial MCSE"),
            ("guide", "required confidence"),
        ],
    );
    let curve = format!(
        "{}{}",
        figure(
            &paid,
            "Expected total performance money paid (all tranches) as this condition's target moves; the band is ± 1.645 Monte Carlo standard errors. Targets are shown ×100: a relative reduction in % for counts, percentage points for proportions."
        ),
        figure(
            &met,
            "The chance the condition is met at each target, with ± 1.645 binomial standard errors; the dotted line is the required confidence."
        )
    );
    let rows: Vec<Vec<String>> = r
        .rows
        .iter()
        .enumerate()
        .map(|(i, x)| {
            let mark = if r.ambitious == Some(i) {
                " <strong>(most ambitious)</strong>"
            } else {
                ""
            };
            vec![
                format!("{}{mark}", escape(&x.target)),
                pct(x.p_met),
                gbp(x.paid),
                gbp(x.mcse),
                pct(x.p_full),
                gbp(x.tranche_paid),
            ]
        })
        .collect();
    let table = table(
        &[
            "Target",
            "P(met)",
            "Expected paid",
            "MCSE",
            "P(all paid)",
            "Tranche paid",
        ],
        &rows,
    );
    Document {
        title: format!("{}: release curve of {}", r.name, r.condition),
        subtitle: format!(
            "itfsim thresholds · tranche {} · pot {} · {} trials · seed {}",
            crate::money::format_gbp(r.tranche_amount),
            crate::money::format_gbp(r.pot),
            r.trials,
            r.seed
        ),
        sections: vec![
            section("headline", "Headline", headline),
            section("curve", "Release curve", curve),
            section("rows", "Targets", table),
            warnings(&r.warnings),
            provenance(&items),
        ],
    }
}
