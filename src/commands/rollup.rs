//! `itfsim rollup RESULT.json...`: many areas' run results as one table, with the totals
//! that are exact whatever the areas have in common.
//!
//! A national run is one scenario per area, each run on its own (a Slurm array over the
//! area files: deploy/slurm/README.md, "Many areas"). This reads what `run --format json`
//! (or `merge --format json` of run shards) wrote, one file per area, and gives a row per
//! area and a total. Only totals that need no joint model are given: the expected amounts
//! add exactly (linearity of expectation, summed in whole pence), the expected number of
//! areas paid in full or nothing is the sum of their probabilities, and the Monte Carlo
//! error of a summed mean is at most the sum of the areas' (Minkowski's inequality,
//! however the estimates are correlated). The spread of the national total is not given:
//! it depends on how the areas' outcomes move together, which no scenario file states
//! (areas run with the same seed even share every draw of a parameter path they have in
//! common), so quantiles of a sum would be an invention.
use super::{Failure, emit, reserve};
use crate::cli::{Format, RollupArgs};
use crate::money::{Pence, format_gbp, format_pence, pounds_to_pence};
use crate::output::csv_field;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{Value, json};
use std::path::Path;
use std::str::FromStr;

/// The parts of a run result (MODEL.md section 9) that a rollup reads; the rest is ignored.
#[derive(Deserialize)]
struct RunResult {
    scenario: ScenarioInfo,
    run: RunInfo,
    fund: Fund,
    total: Total,
    partners: Vec<PartnerResult>,
}

#[derive(Deserialize)]
struct ScenarioInfo {
    name: String,
    sha256: String,
}

#[derive(Deserialize)]
struct RunInfo {
    trials: u64,
    seed: u64,
    sampling: String,
}

#[derive(Deserialize)]
struct Fund {
    pot: String,
}

#[derive(Deserialize)]
struct Total {
    paid: Summary,
    unreleased: Summary,
    p_full: f64,
    p_zero: f64,
}

#[derive(Deserialize)]
struct Summary {
    mean: String,
    mcse: String,
    p5: String,
    p50: String,
    p95: String,
}

#[derive(Deserialize)]
struct PartnerResult {
    id: String,
    performance: Summary,
    net: Summary,
}

/// One area's row, money in whole pence.
struct Area {
    file: String,
    name: String,
    sha256: String,
    trials: u64,
    seed: u64,
    sampling: String,
    pot: Pence,
    paid_mean: Pence,
    paid_mcse: Pence,
    paid_p5: Pence,
    paid_p50: Pence,
    paid_p95: Pence,
    unreleased_mean: Pence,
    p_full: f64,
    p_zero: f64,
    /// (partner id, mean performance money, mean net position).
    partners: Vec<(String, Pence, Pence)>,
}

/// Sums over the areas.
struct Totals {
    pot: Pence,
    paid_mean: Pence,
    paid_mcse_at_most: Pence,
    unreleased_mean: Pence,
    expected_full: f64,
    expected_zero: f64,
    /// (partner id, areas that have it, summed mean performance, summed mean net), in
    /// the order the ids first appear.
    partners: Vec<(String, usize, Pence, Pence)>,
}

const NOTE: &str = "Means and pots add exactly; the Monte Carlo error of a summed mean is at most the sum of the areas' errors; the expected number of areas paid in full (or nothing) is the sum of their probabilities. The spread of the national total is not shown: it depends on how areas' outcomes move together, which the scenario files do not state.";

pub fn rollup(args: &RollupArgs) -> Result<(), Failure> {
    let pending = reserve(args.out.as_deref())?;
    let mut areas: Vec<Area> = Vec::with_capacity(args.results.len());
    for path in &args.results {
        let area = read(path)?;
        if let Some(before) = areas.iter().find(|a| a.file == area.file) {
            return Err(Failure::new(
                2,
                format!(
                    "{}: given twice; every area would be counted once per mention\n  hint: list each area's result once",
                    before.file
                ),
            ));
        }
        areas.push(area);
    }
    for (i, a) in areas.iter().enumerate() {
        if let Some(b) = areas[..i]
            .iter()
            .find(|b| b.sha256 == a.sha256 && b.seed == a.seed)
        {
            eprintln!(
                "warning: {} and {} are results of the same scenario file content with the same seed: the area is counted twice in the totals, unless they differ by --set overrides",
                b.file, a.file
            );
        }
    }
    let totals = totals(&areas)?;
    let bytes = match args.format {
        Format::Text => text(&areas, &totals).into_bytes(),
        Format::Csv => csv(&areas, &totals).into_bytes(),
        Format::Json => {
            let mut b = serde_json::to_vec_pretty(&to_json(&areas, &totals))
                .map_err(|e| Failure::new(1, e.to_string()))?;
            b.push(b'\n');
            b
        }
    };
    emit(pending, &bytes)
}

/// Reads one run result: exit 66 when the file cannot be read, 65 (with line and column)
/// when it is not a run result.
fn read(path: &Path) -> Result<Area, Failure> {
    let file = path.display().to_string();
    let bytes = std::fs::read(path)
        .map_err(|e| Failure::new(66, format!("{file}: cannot read the run result: {e}")))?;
    let hint = "  hint: rollup reads what `itfsim run --format json --out FILE` writes (or `itfsim merge --format json` of a run's shards; merge shard partials first)";
    let r: RunResult = serde_json::from_slice(&bytes).map_err(|e| {
        let at = if e.line() > 0 {
            format!("{file}:{}:{}", e.line(), e.column())
        } else {
            file.clone()
        };
        // serde_json's message ends with the location, which leads the line already.
        let message = e.to_string();
        let message = message
            .rsplit_once(" at line ")
            .map_or(message.as_str(), |(m, _)| m);
        Failure::new(
            65,
            format!("{at}: not the JSON of an itfsim run result: {message}\n{hint}"),
        )
    })?;
    let money = |key: &str, text: &str| -> Result<Pence, Failure> {
        Decimal::from_str(text)
            .ok()
            .and_then(|d| pounds_to_pence(d).ok())
            .ok_or_else(|| {
                Failure::new(
                    65,
                    format!("{file}: `{key}` is \"{text}\", not an amount in pounds\n{hint}"),
                )
            })
    };
    let probability = |key: &str, p: f64| -> Result<f64, Failure> {
        if (0.0..=1.0).contains(&p) {
            Ok(p)
        } else {
            Err(Failure::new(
                65,
                format!("{file}: `{key}` is {p}, not a probability\n{hint}"),
            ))
        }
    };
    let paid = &r.total.paid;
    let mut partners = Vec::with_capacity(r.partners.len());
    for p in &r.partners {
        partners.push((
            p.id.clone(),
            money(
                &format!("partners.{}.performance.mean", p.id),
                &p.performance.mean,
            )?,
            money(&format!("partners.{}.net.mean", p.id), &p.net.mean)?,
        ));
    }
    Ok(Area {
        name: r.scenario.name,
        sha256: r.scenario.sha256,
        trials: r.run.trials,
        seed: r.run.seed,
        sampling: r.run.sampling,
        pot: money("fund.pot", &r.fund.pot)?,
        paid_mean: money("total.paid.mean", &paid.mean)?,
        paid_mcse: money("total.paid.mcse", &paid.mcse)?,
        paid_p5: money("total.paid.p5", &paid.p5)?,
        paid_p50: money("total.paid.p50", &paid.p50)?,
        paid_p95: money("total.paid.p95", &paid.p95)?,
        unreleased_mean: money("total.unreleased.mean", &r.total.unreleased.mean)?,
        p_full: probability("total.p_full", r.total.p_full)?,
        p_zero: probability("total.p_zero", r.total.p_zero)?,
        partners,
        file,
    })
}

fn totals(areas: &[Area]) -> Result<Totals, Failure> {
    let sum = |what: &str, f: &dyn Fn(&Area) -> Pence| -> Result<Pence, Failure> {
        areas
            .iter()
            .try_fold(0i64, |acc, a| acc.checked_add(f(a)))
            .ok_or_else(|| Failure::new(65, format!("the areas' {what} overflow when summed")))
    };
    let mut partners: Vec<(String, usize, Pence, Pence)> = Vec::new();
    for (id, performance, net) in areas.iter().flat_map(|a| &a.partners) {
        let at = match partners.iter().position(|p| &p.0 == id) {
            Some(at) => at,
            None => {
                partners.push((id.clone(), 0, 0, 0));
                partners.len() - 1
            }
        };
        let p = &mut partners[at];
        p.1 += 1;
        let overflow = || Failure::new(65, format!("partner {id}'s means overflow when summed"));
        p.2 = p.2.checked_add(*performance).ok_or_else(overflow)?;
        p.3 = p.3.checked_add(*net).ok_or_else(overflow)?;
    }
    Ok(Totals {
        pot: sum("pots", &|a| a.pot)?,
        paid_mean: sum("mean payments", &|a| a.paid_mean)?,
        paid_mcse_at_most: sum("Monte Carlo errors", &|a| a.paid_mcse)?,
        unreleased_mean: sum("mean unreleased amounts", &|a| a.unreleased_mean)?,
        expected_full: areas.iter().map(|a| a.p_full).sum(),
        expected_zero: areas.iter().map(|a| a.p_zero).sum(),
        partners,
    })
}

fn percent(p: f64) -> String {
    format!("{:.1}%", 100.0 * p)
}

fn text(areas: &[Area], t: &Totals) -> String {
    let mut rows: Vec<[String; 7]> = vec![[
        "area".into(),
        "trials".into(),
        "pot".into(),
        "paid: mean".into(),
        "p5 to p95".into(),
        "P(full)".into(),
        "P(zero)".into(),
    ]];
    for a in areas {
        rows.push([
            a.name.clone(),
            a.trials.to_string(),
            format_gbp(a.pot),
            format_gbp(a.paid_mean),
            format!("{} to {}", format_gbp(a.paid_p5), format_gbp(a.paid_p95)),
            percent(a.p_full),
            percent(a.p_zero),
        ]);
    }
    let n = areas.len();
    rows.push([
        format!("total ({n} area{})", if n == 1 { "" } else { "s" }),
        String::new(),
        format_gbp(t.pot),
        format_gbp(t.paid_mean),
        String::new(),
        String::new(),
        String::new(),
    ]);
    let widths: Vec<usize> = (0..7)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = format!(
        "itfsim rollup: {n} run result{}\n",
        if n == 1 { "" } else { "s" }
    );
    for row in &rows {
        let mut line = format!("{:<w$}", row[0], w = widths[0]);
        for (c, cell) in row.iter().enumerate().skip(1) {
            line.push_str(&format!("  {:>w$}", cell, w = widths[c]));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
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
        out.push_str("partners, means summed over the areas that have them:\n");
        let cells: Vec<[String; 4]> = t
            .partners
            .iter()
            .map(|(id, count, performance, net)| {
                [
                    id.clone(),
                    format!("{count} area{}", if *count == 1 { "" } else { "s" }),
                    format_gbp(*performance),
                    format_gbp(*net),
                ]
            })
            .collect();
        let width = |c: usize| {
            cells
                .iter()
                .map(|r| r[c].chars().count())
                .max()
                .unwrap_or(0)
        };
        let (w0, w1, w2, w3) = (width(0), width(1), width(2), width(3));
        for [id, areas, performance, net] in &cells {
            out.push_str(&format!(
                "  {id:<w0$}  {areas:>w1$}  performance money {performance:>w2$}  net {net:>w3$}\n"
            ));
        }
    }
    out.push_str(&format!("note: {NOTE}\n"));
    out
}

fn csv(areas: &[Area], t: &Totals) -> String {
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
        ];
        for (id, ..) in &t.partners {
            match a.partners.iter().find(|p| &p.0 == id) {
                Some((_, performance, net)) => {
                    cells.push(format_pence(*performance));
                    cells.push(format_pence(*net));
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
        format!("{} areas", areas.len()),
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
    ];
    for (_, _, performance, net) in &t.partners {
        cells.push(format_pence(*performance));
        cells.push(format_pence(*net));
    }
    line(cells);
    out
}

fn to_json(areas: &[Area], t: &Totals) -> Value {
    let areas: Vec<Value> = areas
        .iter()
        .map(|a| {
            json!({
                "file": a.file,
                "scenario": {"name": a.name, "sha256": a.sha256},
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
                "partners": a.partners.iter().map(|(id, performance, net)| json!({
                    "id": id,
                    "performance_mean": format_pence(*performance),
                    "net_mean": format_pence(*net),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "itfsim": env!("CARGO_PKG_VERSION"),
        "areas": areas,
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
