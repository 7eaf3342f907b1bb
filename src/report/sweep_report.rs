//! The HTML report of `itfsim sweep`: the release curve over the first grid's values
//! (expected total paid with its ±1.645 MCSE band and its p10-p90 band), one line per
//! combination of the other grids' values, the table of points, warnings and provenance.
//!
//! Built from the sweep's rows alone (the JSON objects the command writes, also those a
//! resumed sweep reads back from its partial file), so a resumed sweep reports exactly
//! what an uninterrupted one does. Money strings are read back to whole pence exactly.
use super::html::{Document, figure, table};
use super::parts::{
    Axes, Line, axis_decimal, axis_gbp, cards, gbp, line_chart, pct, provenance, scenario_items,
    section, warnings,
};
use super::svg::escape;
use crate::money::Pence;
use serde_json::Value;

/// Everything the report shows.
pub struct SweepReport {
    pub name: String,
    pub file: String,
    pub sha256: String,
    /// The `--set` overrides every point shares, as `PATH=VALUE`.
    pub sets: Vec<String>,
    pub trials: u64,
    pub seed: u64,
    /// "mc" or "lhs", as the run reports it.
    pub sampling: String,
    /// Grid paths, in command-line order, and each grid's values.
    pub grids: Vec<(String, Vec<String>)>,
    pub partners: Vec<String>,
    /// One JSON object per point (grid paths, expected_paid, mcse, p_full, p_zero,
    /// paid_p10, paid_p50, paid_p90, `net_<partner>`).
    pub rows: Vec<Value>,
    pub warnings: Vec<String>,
}

/// z for a two-sided 90% band.
const Z90: f64 = 1.645;

/// "-1234.56" to pence, exactly.
fn money(v: &Value) -> Option<Pence> {
    let s = v.as_str()?;
    let (neg, s) = s.strip_prefix('-').map_or((false, s), |t| (true, t));
    let (int, frac) = s.split_once('.')?;
    if frac.len() != 2 {
        return None;
    }
    let p = int.parse::<i64>().ok()?.checked_mul(100)? + frac.parse::<i64>().ok()?;
    Some(if neg { -p } else { p })
}

fn text(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(v) => v.to_string(),
    }
}

const SERIES: [&str; 5] = [
    "median-line",
    "series-1",
    "series-2",
    "series-3",
    "series-4",
];

pub fn document(r: &SweepReport) -> Document {
    let (first_path, first_values) = &r.grids[0];
    // x positions: the values themselves when all are numbers, else their order.
    let numeric: Option<Vec<f64>> = first_values.iter().map(|v| v.parse::<f64>().ok()).collect();
    let x_of = |v: &str| -> f64 {
        match &numeric {
            Some(xs) => first_values
                .iter()
                .position(|u| u == v)
                .map_or(f64::NAN, |i| xs[i]),
            None => first_values
                .iter()
                .position(|u| u == v)
                .map_or(f64::NAN, |i| i as f64),
        }
    };
    // One series per combination of the other grids' values, in first-seen order.
    let mut series: Vec<(String, Vec<&Value>)> = Vec::new();
    for row in &r.rows {
        let key = r.grids[1..]
            .iter()
            .map(|(p, _)| format!("{p}={}", text(row.get(p))))
            .collect::<Vec<_>>()
            .join(", ");
        match series.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => v.push(row),
            None => series.push((key, vec![row])),
        }
    }
    let mut lines = Vec::new();
    for (i, (_, rows)) in series.iter().enumerate() {
        let mut pts: Vec<(f64, Pence, Pence, Pence, Pence)> = rows
            .iter()
            .filter_map(|row| {
                Some((
                    x_of(&text(row.get(first_path))),
                    money(row.get("expected_paid")?)?,
                    money(row.get("mcse")?)?,
                    money(row.get("paid_p10")?)?,
                    money(row.get("paid_p90")?)?,
                ))
            })
            .collect();
        pts.sort_by(|a, b| a.0.total_cmp(&b.0));
        lines.push(Line {
            points: vec![],
            band: pts.iter().map(|p| (p.0, p.3 as f64, p.4 as f64)).collect(),
            line_class: "band-wide",
            band_class: "band-wide",
        });
        lines.push(Line {
            points: pts.iter().map(|p| (p.0, p.1 as f64)).collect(),
            band: pts
                .iter()
                .map(|p| {
                    let m = Z90 * p.2 as f64;
                    (p.0, p.1 as f64 - m, p.1 as f64 + m)
                })
                .collect(),
            line_class: SERIES[i % SERIES.len()],
            band_class: "band",
        });
    }
    let names: Vec<String> = if r.grids.len() > 1 {
        series.iter().map(|(k, _)| k.clone()).collect()
    } else {
        vec!["expected total paid".into()]
    };
    let mut legend: Vec<(&str, &str)> = names
        .iter()
        .enumerate()
        .take(SERIES.len())
        .map(|(i, n)| (SERIES[i], n.as_str()))
        .collect();
    legend.push(("band", "± 1.645 × MCSE"));
    legend.push(("band-wide", "p10-p90 of trials"));
    let x_format = |x: f64| -> String {
        match &numeric {
            Some(_) => axis_decimal(x),
            None if x >= 0.0 && x.fract() == 0.0 => {
                first_values.get(x as usize).cloned().unwrap_or_default()
            }
            None => String::new(),
        }
    };
    let chart = line_chart(
        &format!("Expected total paid as {first_path} varies"),
        &lines,
        &Axes {
            x_label: first_path,
            y_label: "Total paid",
            x_format: &x_format,
            y_format: &axis_gbp,
            y_range: None,
        },
        None,
        None,
        &legend,
    );
    let best = r
        .rows
        .iter()
        .filter_map(|row| Some((money(row.get("expected_paid")?)?, row)))
        .max_by_key(|(p, _)| *p);
    let describe = |row: &Value| {
        r.grids
            .iter()
            .map(|(p, _)| format!("{p}={}", text(row.get(p))))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let headline = cards(&[
        (
            "Points",
            r.rows.len().to_string(),
            escape(
                &r.grids
                    .iter()
                    .map(|(p, v)| format!("{p}: {} values", v.len()))
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
        ),
        (
            "Highest expected release",
            best.map_or("–".into(), |(p, _)| gbp(p)),
            best.map_or(String::new(), |(_, row)| escape(&describe(row))),
        ),
        (
            "Trials",
            r.trials.to_string(),
            format!("seed {}; the same trials at every point", r.seed),
        ),
    ]);
    let mut header: Vec<String> = r.grids.iter().map(|(p, _)| p.clone()).collect();
    for h in [
        "Expected paid",
        "MCSE",
        "P(full)",
        "P(zero)",
        "p10",
        "p50",
        "p90",
    ] {
        header.push(h.into());
    }
    header.extend(r.partners.iter().map(|p| format!("Net: {p}")));
    let cell_money = |v: Option<&Value>| v.and_then(money).map_or("–".into(), gbp);
    let body: Vec<Vec<String>> = r
        .rows
        .iter()
        .map(|row| {
            let mut cells: Vec<String> = r
                .grids
                .iter()
                .map(|(p, _)| escape(&text(row.get(p))))
                .collect();
            cells.push(cell_money(row.get("expected_paid")));
            cells.push(cell_money(row.get("mcse")));
            cells.push(pct(row
                .get("p_full")
                .and_then(Value::as_f64)
                .unwrap_or(f64::NAN)));
            cells.push(pct(row
                .get("p_zero")
                .and_then(Value::as_f64)
                .unwrap_or(f64::NAN)));
            for k in ["paid_p10", "paid_p50", "paid_p90"] {
                cells.push(cell_money(row.get(k)));
            }
            for p in &r.partners {
                cells.push(cell_money(row.get(format!("net_{p}"))));
            }
            cells
        })
        .collect();
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    let mut prov = scenario_items(&r.name, &r.file, &r.sha256, &r.sets);
    prov.extend([
        ("Seed", r.seed.to_string()),
        ("Trials", r.trials.to_string()),
        ("Sampling", r.sampling.clone()),
    ]);
    let grid_items: Vec<String> = r
        .grids
        .iter()
        .map(|(p, v)| format!("{p} = {}", v.join(", ")))
        .collect();
    for g in &grid_items {
        prov.push(("Grid", g.clone()));
    }
    Document {
        title: format!("{}: sweep over {}", r.name, first_path),
        subtitle: format!(
            "itfsim sweep · {} points · {} trials · seed {}",
            r.rows.len(),
            r.trials,
            r.seed
        ),
        sections: vec![
            section("headline", "Headline", headline),
            section(
                "curve",
                "Release curve",
                figure(
                    &chart,
                    "Expected total performance money paid at each point; dark band: ± 1.645 Monte Carlo standard errors of the expected value; light band: 10th to 90th percentile of trials.",
                ),
            ),
            section("points", "Points", table(&header, &body)),
            warnings(&r.warnings),
            provenance(&prov),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_strings_read_back_to_exact_pence() {
        assert_eq!(money(&Value::from("1234.56")), Some(123_456));
        assert_eq!(money(&Value::from("-0.05")), Some(-5));
        assert_eq!(money(&Value::from("12.5")), None);
        assert_eq!(money(&Value::from(3)), None);
    }
}
