//! Rendering of sensitivity results: text tables, JSON and CSV, all from one `Report`.
use super::rank::RankResult;
use super::sobol::{Estimate, SobolResult};
use super::tornado::Row;
use crate::money::{Pence, format_gbp, format_pence};
use crate::output::csv_field;
use crate::output::text::{pct, prob};
use serde_json::{Value, json};

/// Everything a sensitivity command found.
#[derive(Clone, Debug)]
pub struct Report {
    pub scenario: String,
    pub file: String,
    pub trials: u64,
    pub seed: u64,
    pub sampling: String,
    pub threads: usize,
    pub pot: Pence,
    /// Names of the outputs: "paid", `"net.<partner>"`.
    pub outputs: Vec<String>,
    pub partners: Vec<String>,
    pub base: super::tornado::Point,
    /// Paths of correlated inputs.
    pub correlated: Vec<String>,
    pub tornado: Option<Vec<Row>>,
    pub rank: Option<RankResult>,
    pub sobol: Option<SobolResult>,
    pub notes: Vec<String>,
    pub warnings: Vec<String>,
    /// Rows shown in text output.
    pub top: usize,
}

fn number(x: f64) -> Value {
    serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)
}

fn round(x: f64, digits: i32) -> f64 {
    let k = 10f64.powi(digits);
    (x * k).round() / k
}

fn estimate_json(e: &Estimate) -> Value {
    json!({"value": number(round(e.value, 4)), "ci95": [number(round(e.low, 4)), number(round(e.high, 4))]})
}

pub fn to_json(r: &Report) -> Value {
    let nets = |v: &[Pence]| -> Value {
        let mut m = serde_json::Map::new();
        for (p, n) in r.partners.iter().zip(v) {
            m.insert(p.clone(), Value::String(format_pence(*n)));
        }
        Value::Object(m)
    };
    let tornado = r.tornado.as_ref().map(|rows| {
        rows.iter()
            .map(|row| {
                let swing_net: Vec<Pence> = row
                    .high
                    .net
                    .iter()
                    .zip(&row.low.net)
                    .map(|(h, l)| h - l)
                    .collect();
                json!({
                    "path": row.path,
                    "correlated": row.correlated,
                    "held": row.held,
                    "low": {"value": number(row.low_value), "paid": format_pence(row.low.paid),
                            "p_full": number(row.low.p_full), "net": nets(&row.low.net)},
                    "high": {"value": number(row.high_value), "paid": format_pence(row.high.paid),
                             "p_full": number(row.high.p_full), "net": nets(&row.high.net)},
                    "swing_paid": format_pence(row.swing()),
                    "swing_p_full": number(row.high.p_full - row.low.p_full),
                    "swing_net": nets(&swing_net),
                })
            })
            .collect::<Vec<_>>()
    });
    let rank = r.rank.as_ref().map(|rank| {
        json!({
            "trials": rank.trials,
            "inputs": rank.rows.iter().map(|row| {
                let mut m = serde_json::Map::new();
                m.insert("path".into(), json!(row.path));
                m.insert("correlated".into(), json!(row.correlated));
                for (name, rho) in r.outputs.iter().zip(&row.rho) {
                    m.insert(name.clone(), rho.map_or(Value::Null, |x| number(round(x, 4))));
                }
                Value::Object(m)
            }).collect::<Vec<_>>(),
        })
    });
    let sobol = r.sobol.as_ref().map(|s| {
        json!({
            "rows_per_matrix": s.rows_per_matrix,
            "bootstrap": s.bootstrap,
            "inputs": s.rows.iter().map(|row| {
                let mut m = serde_json::Map::new();
                m.insert("path".into(), json!(row.path));
                m.insert("correlated".into(), json!(row.correlated));
                for (name, idx) in r.outputs.iter().zip(&row.indices) {
                    m.insert(name.clone(), match idx {
                        Some((f, t)) => json!({"first": estimate_json(f), "total": estimate_json(t)}),
                        None => Value::Null,
                    });
                }
                Value::Object(m)
            }).collect::<Vec<_>>(),
            "warnings": s.warnings,
        })
    });
    json!({
        "itfsim": env!("CARGO_PKG_VERSION"),
        "scenario": {"name": r.scenario, "file": r.file},
        "run": {"trials": r.trials, "seed": r.seed, "sampling": r.sampling, "threads": r.threads},
        "fund": {"pot": format_pence(r.pot)},
        "base": {"paid": format_pence(r.base.paid), "p_full": number(r.base.p_full), "net": nets(&r.base.net)},
        "correlated": r.correlated,
        "tornado": tornado,
        "rank": rank,
        "sobol": sobol,
        "notes": r.notes,
        "warnings": r.warnings,
    })
}

fn signed_gbp(p: Pence) -> String {
    if p >= 0 {
        format!("+{}", format_gbp(p))
    } else {
        format_gbp(p)
    }
}

fn table(header: &[String], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let mut s = String::from(" ");
        for (i, (c, w)) in cells.iter().zip(&widths).enumerate() {
            let pad = w - c.chars().count();
            if i == 0 {
                s.push_str(&format!(" {c}{}", " ".repeat(pad)));
            } else {
                s.push_str(&format!("  {}{c}", " ".repeat(pad)));
            }
        }
        s.trim_end().to_string() + "\n"
    };
    let mut out = line(header);
    out += &line(&widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>());
    for row in rows {
        out += &line(row);
    }
    out
}

fn mark(path: &str, correlated: bool) -> String {
    if correlated {
        format!("{path} *")
    } else {
        path.to_string()
    }
}

fn value(x: f64) -> String {
    if x.abs() >= 1000.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.4}")
    }
}

pub fn to_text(r: &Report) -> String {
    let mut s = format!(
        "Sensitivity of {} ({})\n{} trials per run, seed {}, {} sampling, {} threads\n\n",
        r.scenario, r.file, r.trials, r.seed, r.sampling, r.threads
    );
    s += &format!(
        "Base: expected paid {} of {} ({}), P(all paid) {}\n",
        format_gbp(r.base.paid),
        format_gbp(r.pot),
        pct(r.base.paid as f64 / r.pot as f64),
        prob(r.base.p_full)
    );
    if let Some(rows) = &r.tornado {
        s += &format!(
            "\nTornado: expected paid with each input held low / high (top {} of {})\n",
            r.top.min(rows.len()),
            rows.len()
        );
        let mut header: Vec<String> = [
            "input",
            "held",
            "low",
            "high",
            "paid at low",
            "paid at high",
            "swing",
            "P(full) low",
            "P(full) high",
        ]
        .iter()
        .map(|h| h.to_string())
        .collect();
        header.extend(r.partners.iter().map(|p| format!("{p} net swing")));
        let body: Vec<Vec<String>> = rows
            .iter()
            .take(r.top)
            .map(|row| {
                let mut cells = vec![
                    mark(&row.path, row.correlated),
                    row.held.to_string(),
                    value(row.low_value),
                    value(row.high_value),
                    format_gbp(row.low.paid),
                    format_gbp(row.high.paid),
                    format_gbp(row.swing()),
                    prob(row.low.p_full),
                    prob(row.high.p_full),
                ];
                cells.extend(
                    row.high
                        .net
                        .iter()
                        .zip(&row.low.net)
                        .map(|(h, l)| signed_gbp(h - l)),
                );
                cells
            })
            .collect();
        s += &table(&header, &body);
    }
    if let Some(rank) = &r.rank {
        s += &format!(
            "\nRank correlation (Spearman) with each output, {} trials (top {} by |paid|)\n",
            rank.trials,
            r.top.min(rank.rows.len())
        );
        let mut header = vec!["input".to_string()];
        header.extend(r.outputs.iter().cloned());
        let mut rows: Vec<_> = rank.rows.iter().collect();
        rows.sort_by(|a, b| {
            let key = |x: &super::rank::RankRow| x.rho[0].map_or(0.0, f64::abs);
            key(b).total_cmp(&key(a)).then_with(|| a.path.cmp(&b.path))
        });
        let body: Vec<Vec<String>> = rows
            .iter()
            .take(r.top)
            .map(|row| {
                let mut cells = vec![mark(&row.path, row.correlated)];
                cells.extend(
                    row.rho
                        .iter()
                        .map(|x| x.map_or("-".into(), |x| format!("{x:+.3}"))),
                );
                cells
            })
            .collect();
        s += &table(&header, &body);
    }
    if let Some(sobol) = &r.sobol {
        s += &format!(
            "\nSobol indices on expected paid ({} rows per matrix, {} bootstrap resamples, 95% intervals)\n",
            sobol.rows_per_matrix, sobol.bootstrap
        );
        let header: Vec<String> = [
            "input",
            "first-order",
            "95% interval",
            "total effect",
            "95% interval",
        ]
        .iter()
        .map(|h| h.to_string())
        .collect();
        let body: Vec<Vec<String>> = sobol
            .rows
            .iter()
            .map(|row| match &row.indices[0] {
                Some((f, t)) => vec![
                    mark(&row.path, row.correlated),
                    format!("{:.3}", f.value),
                    format!("[{:.3}, {:.3}]", f.low, f.high),
                    format!("{:.3}", t.value),
                    format!("[{:.3}, {:.3}]", t.low, t.high),
                ],
                None => vec![
                    mark(&row.path, row.correlated),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                ],
            })
            .collect();
        s += &table(&header, &body);
        let sum: f64 = sobol
            .rows
            .iter()
            .filter_map(|r| r.indices[0].map(|(f, _)| f.value))
            .sum();
        s += &format!(
            "  sum of first-order indices shown: {sum:.3} (the rest is other inputs, interactions and observation noise)\n"
        );
    }
    if !r.correlated.is_empty() {
        s += "\n* correlated input: ";
        s += "the tornado moves its correlated partners with it (conditional copula); rank and Sobol figures include what it drives through the correlation.\n";
        s += &format!("  correlated inputs: {}\n", r.correlated.join(", "));
    }
    if !r.notes.is_empty() {
        s += "\nNotes\n";
        for n in &r.notes {
            s += &format!("  - {n}\n");
        }
    }
    if !r.warnings.is_empty() {
        s += "\nWarnings\n";
        for w in &r.warnings {
            s += &format!("  - {w}\n");
        }
    }
    s
}

fn pounds(p: Pence) -> String {
    format_pence(p)
}

/// One row per (method, input, output): a long table that spreadsheets pivot easily.
pub fn to_csv(r: &Report) -> String {
    let mut s = String::from(
        "method,input,correlated,output,held,low_value,high_value,at_low,at_high,swing,rank_correlation,first_order,first_order_low,first_order_high,total_effect,total_effect_low,total_effect_high\n",
    );
    let mut push = |cells: Vec<String>| {
        s += &cells
            .iter()
            .map(|c| csv_field(c))
            .collect::<Vec<_>>()
            .join(",");
        s.push('\n');
    };
    if let Some(rows) = &r.tornado {
        for row in rows {
            // `swing` is at_high - at_low with its sign in every row (docs/sensitivity.md);
            // the absolute paid swing (row.swing()) only orders the rows.
            let mut outs = vec![(
                "paid".to_string(),
                pounds(row.low.paid),
                pounds(row.high.paid),
                pounds(row.high.paid - row.low.paid),
            )];
            outs.push((
                "p_full".into(),
                format!("{}", row.low.p_full),
                format!("{}", row.high.p_full),
                format!("{}", row.high.p_full - row.low.p_full),
            ));
            for (k, p) in r.partners.iter().enumerate() {
                outs.push((
                    format!("net.{p}"),
                    pounds(row.low.net[k]),
                    pounds(row.high.net[k]),
                    pounds(row.high.net[k] - row.low.net[k]),
                ));
            }
            for (name, lo, hi, sw) in outs {
                let mut c = vec![
                    "tornado".into(),
                    row.path.clone(),
                    row.correlated.to_string(),
                    name,
                    row.held.into(),
                    format!("{}", row.low_value),
                    format!("{}", row.high_value),
                    lo,
                    hi,
                    sw,
                ];
                c.extend(std::iter::repeat_n(String::new(), 7));
                push(c);
            }
        }
    }
    if let Some(rank) = &r.rank {
        for row in &rank.rows {
            for (name, rho) in r.outputs.iter().zip(&row.rho) {
                let mut c = vec![
                    "rank".into(),
                    row.path.clone(),
                    row.correlated.to_string(),
                    name.clone(),
                ];
                c.extend(std::iter::repeat_n(String::new(), 6));
                c.push(rho.map_or(String::new(), |x| format!("{x}")));
                c.extend(std::iter::repeat_n(String::new(), 6));
                push(c);
            }
        }
    }
    if let Some(sobol) = &r.sobol {
        for row in &sobol.rows {
            for (name, idx) in r.outputs.iter().zip(&row.indices) {
                let mut c = vec![
                    "sobol".into(),
                    row.path.clone(),
                    row.correlated.to_string(),
                    name.clone(),
                ];
                c.extend(std::iter::repeat_n(String::new(), 7));
                match idx {
                    Some((f, t)) => c.extend(
                        [f.value, f.low, f.high, t.value, t.low, t.high]
                            .iter()
                            .map(|x| format!("{x}")),
                    ),
                    None => c.extend(std::iter::repeat_n(String::new(), 6)),
                }
                push(c);
            }
        }
    }
    s
}
