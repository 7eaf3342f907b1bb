//! The renderings of `itfsim rollup` (see [`super::rollup`]): text tables for people (laid
//! out as `run`'s are),
//! CSV with a row per area and a `total` row holding only what adds up, and JSON.
use super::plural;
use super::rollup::{Area, Totals};
use crate::money::{format_gbp, format_pence};
use crate::output::csv_field;
use crate::output::text::{prob, table};
use serde_json::{Value, json};

/// What the totals are, in every rendering.
const NOTE: &str = "Means and pots add exactly; the Monte Carlo error of a summed mean is at most the sum of the areas' errors; the expected number of areas paid in full (or nothing) is the sum of their probabilities. The spread of the national total is not shown: it depends on how areas' outcomes move together, which the scenario files do not state.";

/// A name for a one-line table cell: control characters (a line break in a scenario's
/// name) shown escaped rather than breaking the layout.
fn one_line(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// The result file's name without its directories, to tell apart areas of one name.
fn file_name(path: &str) -> String {
    std::path::Path::new(path)
        .file_name()
        .map_or_else(|| path.to_string(), |n| n.to_string_lossy().into_owned())
}

pub(super) fn text(areas: &[Area], t: &Totals) -> String {
    let header = [
        "area",
        "result",
        "trials",
        "pot",
        "paid: mean",
        "p5 to p95",
        "P(full)",
        "P(zero)",
    ];
    let mut rows: Vec<Vec<String>> = Vec::with_capacity(areas.len() + 1);
    for a in areas {
        rows.push(vec![
            one_line(&a.name),
            one_line(&file_name(&a.file)),
            a.trials.to_string(),
            format_gbp(a.pot),
            format_gbp(a.paid_mean),
            format!("{} to {}", format_gbp(a.paid_p5), format_gbp(a.paid_p95)),
            prob(a.p_full),
            prob(a.p_zero),
        ]);
    }
    let n = areas.len();
    rows.push(vec![
        format!("total ({})", plural(n, "area")),
        String::new(),
        String::new(),
        format_gbp(t.pot),
        format_gbp(t.paid_mean),
    ]);
    let mut out = format!("itfsim rollup: {}\n", plural(n, "run result"));
    out.push_str(&table(&header, &rows));
    out.push_str(&format!(
        "\nexpected paid over all areas {} (Monte Carlo error at most {}), unreleased {}\n",
        format_gbp(t.paid_mean),
        format_gbp(t.paid_mcse_at_most),
        format_gbp(t.unreleased_mean)
    ));
    out.push_str(&format!(
        "expected number of areas paid in full {:.2}, paid nothing {:.2}\n",
        t.expected_full, t.expected_zero
    ));
    if !t.partners.is_empty() {
        out.push_str("\npartners, means summed over the areas that have them:\n");
        let rows: Vec<Vec<String>> = t
            .partners
            .iter()
            .map(|(id, count, performance, net)| {
                vec![
                    one_line(id),
                    count.to_string(),
                    format_gbp(*performance),
                    format_gbp(*net),
                ]
            })
            .collect();
        out.push_str(&table(
            &["partner", "areas", "performance money", "net"],
            &rows,
        ));
    }
    let warned = areas.iter().filter(|a| !a.warnings.is_empty()).count();
    if warned > 0 {
        let who = if warned == 1 {
            "1 area carries warnings from its run".to_string()
        } else {
            format!("{warned} areas carry warnings from their runs")
        };
        out.push_str(&format!("\n{who} (on stderr, and in the JSON and CSV)\n"));
    }
    out.push_str(&format!("\nnote: {NOTE}\n"));
    out
}

pub(super) fn csv(areas: &[Area], t: &Totals) -> String {
    let mut header: Vec<String> = [
        "file",
        "scenario",
        "trials",
        "seed",
        "sampling",
        "pot",
        "paid_mean",
        "paid_mcse",
        "paid_p5",
        "paid_p50",
        "paid_p95",
        "unreleased_mean",
        "p_full",
        "p_zero",
        "warnings",
    ]
    .map(String::from)
    .to_vec();
    for (id, ..) in &t.partners {
        header.push(format!("{id}_performance_mean"));
        header.push(format!("{id}_net_mean"));
    }
    let mut out = String::new();
    let mut line = |cells: Vec<String>| {
        let cells: Vec<String> = cells.iter().map(|c| csv_field(c)).collect();
        out.push_str(&cells.join(","));
        out.push('\n');
    };
    line(header);
    for a in areas {
        let mut cells = vec![
            a.file.clone(),
            a.name.clone(),
            a.trials.to_string(),
            a.seed.to_string(),
            a.sampling.clone(),
            format_pence(a.pot),
            format_pence(a.paid_mean),
            format_pence(a.paid_mcse),
            format_pence(a.paid_p5),
            format_pence(a.paid_p50),
            format_pence(a.paid_p95),
            format_pence(a.unreleased_mean),
            // As JSON writes them ("0.0", "0.61565"), like the sweep's CSV.
            Value::from(a.p_full).to_string(),
            Value::from(a.p_zero).to_string(),
            a.warnings.len().to_string(),
        ];
        for (id, ..) in &t.partners {
            match a.partners.iter().find(|p| &p.id == id) {
                Some(p) => {
                    cells.push(format_pence(p.performance));
                    cells.push(format_pence(p.net));
                }
                None => cells.extend([String::new(), String::new()]),
            }
        }
        line(cells);
    }
    // Only what adds up: quantiles and probabilities stay empty (the sum of the p_full
    // column is the expected number of areas paid in full); the MCSE cell is a bound.
    let mut cells = vec![
        "total".to_string(),
        plural(areas.len(), "area"),
        String::new(),
        String::new(),
        String::new(),
        format_pence(t.pot),
        format_pence(t.paid_mean),
        format_pence(t.paid_mcse_at_most),
        String::new(),
        String::new(),
        String::new(),
        format_pence(t.unreleased_mean),
        String::new(),
        String::new(),
        areas
            .iter()
            .map(|a| a.warnings.len())
            .sum::<usize>()
            .to_string(),
    ];
    for (_, _, performance, net) in &t.partners {
        cells.push(format_pence(*performance));
        cells.push(format_pence(*net));
    }
    line(cells);
    out
}

pub(super) fn to_json(areas: &[Area], t: &Totals) -> Value {
    let rows: Vec<Value> = areas
        .iter()
        .map(|a| {
            json!({
                "file": a.file,
                "scenario": {"name": a.name, "area": a.area, "sha256": a.sha256},
                "itfsim": a.version,
                "trials": a.trials,
                "seed": a.seed,
                "sampling": a.sampling,
                "pot": format_pence(a.pot),
                "paid": {
                    "mean": format_pence(a.paid_mean),
                    "mcse": format_pence(a.paid_mcse),
                    "p5": format_pence(a.paid_p5),
                    "p50": format_pence(a.paid_p50),
                    "p95": format_pence(a.paid_p95),
                },
                "unreleased_mean": format_pence(a.unreleased_mean),
                "p_full": a.p_full,
                "p_zero": a.p_zero,
                "partners": a.partners.iter().map(|p| json!({
                    "id": p.id,
                    "performance_mean": format_pence(p.performance),
                    "net_mean": format_pence(p.net),
                })).collect::<Vec<_>>(),
                "warnings": a.warnings,
            })
        })
        .collect();
    json!({
        "itfsim": env!("CARGO_PKG_VERSION"),
        "areas": rows,
        "total": {
            "areas": areas.len(),
            "pot": format_pence(t.pot),
            "paid_mean": format_pence(t.paid_mean),
            "paid_mcse_at_most": format_pence(t.paid_mcse_at_most),
            "unreleased_mean": format_pence(t.unreleased_mean),
            "expected_areas_full": t.expected_full,
            "expected_areas_zero": t.expected_zero,
            "partners": t.partners.iter().map(|(id, count, performance, net)| json!({
                "id": id,
                "areas": count,
                "performance_mean": format_pence(*performance),
                "net_mean": format_pence(*net),
            })).collect::<Vec<_>>(),
        },
        "note": NOTE,
    })
}
