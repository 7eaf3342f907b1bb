//! The HTML report of `itfsim sensitivity`: a tornado chart (expected total paid with
//! each input held low and high, as bars from the base run), the tornado table, rank
//! correlations, Sobol indices as bars (first order inside total effect) when computed,
//! notes, warnings and provenance.
//!
//! Built from the command's own `sensitivity::report::Report`, so money is the same whole
//! pence its JSON shows.
use super::html::{Document, figure, table};
use super::parts::{
    BarRow, axis_gbp, axis_pct, cards, gbp, hbars, pct, provenance, scenario_items, section, tail,
    warnings,
};
use super::svg::escape;
use crate::money::format_gbp;
use crate::sensitivity::report::Report;
use std::fmt::Write;

/// Bars drawn on a chart at most (tables list every input).
const CHART_ROWS: usize = 15;

fn real(x: f64) -> String {
    if !x.is_finite() {
        "–".into()
    } else if x == x.trunc() || x.abs() >= 100.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.4}")
    }
}

/// The report of `r`, run on the scenario file whose bytes have `sha256`, with the
/// `--set` overrides `sets`.
pub fn document(r: &Report, sha256: &str, sets: &[String]) -> Document {
    let mut items = vec![
        (
            "Expected performance money released (base)",
            gbp(r.base.paid),
            format!("of a {} pot; P(full) {}", gbp(r.pot), pct(r.base.p_full)),
        ),
        (
            "Trials",
            r.trials.to_string(),
            format!("seed {}; the same trials for every held input", r.seed),
        ),
    ];
    if let Some(top) = r.tornado.as_ref().and_then(|rows| rows.first()) {
        items.push((
            "Largest swing",
            gbp(top.swing()),
            format!("{} held {}", escape(&top.path), escape(top.held)),
        ));
    }
    let mut sections = vec![section("headline", "Headline", cards(&items))];
    if let Some(rows) = &r.tornado {
        let base = r.base.paid as f64;
        let bars: Vec<BarRow> = rows
            .iter()
            .take(CHART_ROWS)
            .map(|row| BarRow {
                label: tail(&row.path, 34),
                segments: vec![
                    (base, row.low.paid as f64, "bar-atom"),
                    (base, row.high.paid as f64, "bar"),
                ],
                note: format!("swing {}", format_gbp(row.swing())),
            })
            .collect();
        let chart = hbars(
            "Tornado: expected total paid with each input held low and high",
            &bars,
            "Expected total paid",
            &axis_gbp,
            Some((base, "base run")),
            &[
                ("bar-atom", "input low (p10 / no)"),
                ("bar", "input high (p90 / yes)"),
            ],
        );
        let body: Vec<Vec<String>> = rows
            .iter()
            .map(|row| {
                vec![
                    escape(&row.path),
                    escape(row.held),
                    real(row.low_value),
                    real(row.high_value),
                    gbp(row.low.paid),
                    gbp(row.high.paid),
                    gbp(row.swing()),
                ]
            })
            .collect();
        let caption = format!(
            "Each input held at its low and high value while every other input stays uncertain (same trials); bars start at the base run's expected paid ({}). The {} inputs with the largest swing are drawn.",
            format_gbp(r.base.paid),
            bars.len()
        );
        sections.push(section(
            "tornado",
            "Tornado",
            format!(
                "{}{}",
                figure(&chart, &caption),
                table(
                    &[
                        "Input",
                        "Held",
                        "Low value",
                        "High value",
                        "Paid (low)",
                        "Paid (high)",
                        "Swing",
                    ],
                    &body,
                )
            ),
        ));
    }
    if let Some(rank) = &r.rank {
        let mut header = vec!["Input".to_string()];
        header.extend(r.outputs.iter().map(|o| format!("ρ {o}")));
        let header: Vec<&str> = header.iter().map(String::as_str).collect();
        let body: Vec<Vec<String>> = rank
            .rows
            .iter()
            .map(|row| {
                std::iter::once(escape(&row.path))
                    .chain(
                        row.rho
                            .iter()
                            .map(|x| x.map_or("–".into(), |x| format!("{x:.4}"))),
                    )
                    .collect()
            })
            .collect();
        sections.push(section(
            "rank",
            "Rank correlations",
            format!(
                "<p class=\"note\">Spearman rank correlation of each input with total paid and each partner's net, over {} trials.</p>{}",
                rank.trials,
                table(&header, &body)
            ),
        ));
    }
    if let Some(sobol) = &r.sobol {
        let bars: Vec<BarRow> = sobol
            .rows
            .iter()
            .take(CHART_ROWS)
            .map(|row| {
                let (segments, note) = match row.indices.first().copied().flatten() {
                    Some((first, total)) => (
                        vec![
                            (0.0, total.value * 100.0, "box"),
                            (0.0, first.value * 100.0, "bar"),
                        ],
                        format!("S1 {:.3} · ST {:.3}", first.value, total.value),
                    ),
                    None => (vec![], "no variance".into()),
                };
                BarRow {
                    label: tail(&row.path, 34),
                    segments,
                    note,
                }
            })
            .collect();
        let chart = hbars(
            "Sobol indices of total paid",
            &bars,
            "Share of the variance of total paid",
            &axis_pct,
            Some((0.0, "zero")),
            &[("bar", "first order (S1)"), ("box", "total effect (ST)")],
        );
        let mut body = Vec::new();
        for row in &sobol.rows {
            let mut cells = vec![escape(&row.path)];
            for idx in row.indices.iter().take(1) {
                match idx {
                    Some((f, t)) => {
                        for e in [f, t] {
                            cells.push(format!("{:.4}", e.value));
                            cells.push(format!("{:.4} to {:.4}", e.low, e.high));
                        }
                    }
                    None => cells.extend(std::iter::repeat_n("–".to_string(), 4)),
                }
            }
            body.push(cells);
        }
        sections.push(section(
            "sobol",
            "Sobol indices",
            format!(
                "{}{}",
                figure(
                    &chart,
                    &format!(
                        "Share of the variance of total paid explained by each input alone (S1) and with its interactions (ST); {} rows per matrix, bootstrap 95% intervals from {} resamples in the table.",
                        sobol.rows_per_matrix, sobol.bootstrap
                    )
                ),
                table(&["Input", "S1", "S1 95%", "ST", "ST 95%"], &body)
            ),
        ));
    }
    let mut notes = String::from("<ul>");
    for n in &r.notes {
        let _ = write!(notes, "<li>{}</li>", escape(n));
    }
    notes.push_str("</ul>");
    sections.push(section("notes", "Notes", notes));
    sections.push(warnings(&r.warnings));
    let mut items = scenario_items(&r.scenario, &r.file, sha256, sets);
    items.extend([
        ("Seed", r.seed.to_string()),
        ("Trials", r.trials.to_string()),
        ("Sampling", r.sampling.clone()),
    ]);
    sections.push(provenance(&items));
    Document {
        title: format!("{}: sensitivity", r.scenario),
        subtitle: format!(
            "itfsim sensitivity · pot {} · {} trials · seed {}",
            format_gbp(r.pot),
            r.trials,
            r.seed
        ),
        sections,
    }
}
