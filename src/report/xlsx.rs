//! The Excel workbook (`run --xlsx FILE.xlsx`): sheets Summary, Tranches, Conditions,
//! Metrics, Schemes, Partners, Warnings, Provenance (and Monthly when monthly output
//! was asked for).
//!
//! Money cells are numbers with a £ number format whose value is exactly the JSON
//! string's: whole pence / 100 as f64, which is the f64 nearest the two-decimal amount
//! (both the pence and the division are exact or correctly rounded below 2^53 pence), so
//! Excel shows, sums and compares the same figures as the JSON. Probabilities and
//! achievements are numbers with percent formats; a non-finite number is an empty cell.
//!
//! The bytes depend only on the results (as JSON does, timing aside): the document's
//! creation time, which rust_xlsxwriter takes from the clock unless told, is fixed at
//! 1980-01-01T00:00:00Z, the time its zip entries already carry, so the same seed and
//! inputs give byte-identical workbooks (docs/reports.md).
use super::MonthlyMetric;
use crate::money::Pence;
use crate::output::Results;
use crate::stats::{MoneySummary, RealSummary};
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook, Worksheet, XlsxError};

enum Cell {
    Text(String),
    Money(Pence),
    Pct(f64),
    Num(f64),
    Empty,
}

struct Formats {
    header: Format,
    money: Format,
    pct: Format,
    num: Format,
}

const SUMMARY_COLUMNS: [&str; 10] = [
    "mean", "sd", "mcse", "p5", "p10", "p25", "p50", "p75", "p90", "p95",
];

fn money_cells(s: &MoneySummary) -> Vec<Cell> {
    [
        s.mean, s.sd, s.mcse, s.p5, s.p10, s.p25, s.p50, s.p75, s.p90, s.p95,
    ]
    .into_iter()
    .map(Cell::Money)
    .collect()
}

fn real_cells(s: &RealSummary, percent: bool) -> Vec<Cell> {
    [
        s.mean, s.sd, s.mcse, s.p5, s.p10, s.p25, s.p50, s.p75, s.p90, s.p95,
    ]
    .into_iter()
    .map(|x| if percent { Cell::Pct(x) } else { Cell::Num(x) })
    .collect()
}

fn with_prefix(prefix: &str) -> Vec<String> {
    SUMMARY_COLUMNS
        .iter()
        .map(|c| format!("{prefix} {c}"))
        .collect()
}

struct Sheet<'a> {
    ws: &'a mut Worksheet,
    f: &'a Formats,
    row: u32,
}

impl Sheet<'_> {
    fn header<S: AsRef<str>>(&mut self, cells: &[S]) -> Result<(), XlsxError> {
        for (c, h) in cells.iter().enumerate() {
            self.ws
                .write_string_with_format(self.row, c as u16, h.as_ref(), &self.f.header)?;
            let width = (h.as_ref().chars().count() as f64 + 2.0).max(12.0);
            self.ws.set_column_width(c as u16, width)?;
        }
        self.row += 1;
        Ok(())
    }

    fn row(&mut self, cells: Vec<Cell>) -> Result<(), XlsxError> {
        for (c, cell) in cells.into_iter().enumerate() {
            let (r, c) = (self.row, c as u16);
            match cell {
                Cell::Text(s) => {
                    self.ws.write_string(r, c, s)?;
                }
                Cell::Money(p) => {
                    self.ws
                        .write_number_with_format(r, c, p as f64 / 100.0, &self.f.money)?;
                }
                Cell::Pct(x) if x.is_finite() => {
                    self.ws.write_number_with_format(r, c, x, &self.f.pct)?;
                }
                Cell::Num(x) if x.is_finite() => {
                    self.ws.write_number_with_format(r, c, x, &self.f.num)?;
                }
                Cell::Pct(_) | Cell::Num(_) | Cell::Empty => {}
            }
        }
        self.row += 1;
        Ok(())
    }
}

fn sheet<'a>(
    workbook: &'a mut Workbook,
    name: &str,
    f: &'a Formats,
) -> Result<Sheet<'a>, XlsxError> {
    let ws = workbook.add_worksheet();
    ws.set_name(name)?;
    ws.set_freeze_panes(1, 0)?;
    Ok(Sheet { ws, f, row: 0 })
}

fn text(s: &str) -> Cell {
    Cell::Text(s.to_string())
}

/// The workbook's bytes.
pub fn render(r: &Results, monthly: &[MonthlyMetric]) -> Result<Vec<u8>, XlsxError> {
    let f = Formats {
        header: Format::new().set_bold().set_background_color("DCE6F0"),
        money: Format::new().set_num_format("£#,##0.00;-£#,##0.00"),
        pct: Format::new().set_num_format("0.0%"),
        num: Format::new().set_num_format("#,##0.####"),
    };
    let mut wb = Workbook::new();
    // Not the clock: a workbook is a function of the run (see the module's doc).
    let created = ExcelDateTime::from_ymd(1980, 1, 1)?;
    wb.set_properties(&DocProperties::new().set_creation_datetime(&created));

    let mut s = sheet(&mut wb, "Summary", &f)?;
    let mut h = vec!["Quantity".to_string()];
    h.extend(SUMMARY_COLUMNS.iter().map(|c| c.to_string()));
    s.header(&h)?;
    let mut row = vec![text("Total paid")];
    row.extend(money_cells(&r.paid));
    s.row(row)?;
    let mut row = vec![text("Unreleased")];
    row.extend(money_cells(&r.unreleased));
    s.row(row)?;
    s.row(vec![])?;
    s.row(vec![text("Pot"), Cell::Money(r.pot)])?;
    s.row(vec![text("P(full)"), Cell::Pct(r.p_full)])?;
    s.row(vec![text("P(zero)"), Cell::Pct(r.p_zero)])?;
    s.row(vec![text("Scenario"), text(&r.name)])?;

    let mut s = sheet(&mut wb, "Tranches", &f)?;
    let mut h: Vec<String> = ["id", "label", "from", "to", "amount", "P(full)", "P(zero)"]
        .iter()
        .map(|x| x.to_string())
        .collect();
    h.extend(with_prefix("paid"));
    s.header(&h)?;
    for t in &r.tranches {
        let (from, to) = t.window.clone().unwrap_or_default();
        let mut row = vec![
            text(&t.id),
            text(&t.label),
            Cell::Text(from),
            Cell::Text(to),
            Cell::Money(t.amount),
            Cell::Pct(t.p_full),
            Cell::Pct(t.p_zero),
        ];
        row.extend(money_cells(&t.paid));
        s.row(row)?;
    }

    let mut s = sheet(&mut wb, "Conditions", &f)?;
    let mut h: Vec<String> = [
        "tranche", "kind", "id", "rule", "target", "weight", "P(met)",
    ]
    .iter()
    .map(|x| x.to_string())
    .collect();
    h.extend(with_prefix("achieved"));
    h.extend(with_prefix("paid"));
    s.header(&h)?;
    for t in &r.tranches {
        for c in &t.conditions {
            let mut row = vec![
                text(&t.id),
                text(c.kind),
                text(&c.id),
                text(&c.rule),
                c.target.fixed().map(Cell::Pct).unwrap_or(Cell::Empty),
                Cell::Num(c.weight),
                Cell::Pct(c.p_met),
            ];
            match &c.achieved {
                Some(a) => row.extend(real_cells(a, true)),
                None => row.extend((0..SUMMARY_COLUMNS.len()).map(|_| Cell::Empty)),
            }
            row.extend(money_cells(&c.paid));
            s.row(row)?;
        }
    }

    let mut s = sheet(&mut wb, "Metrics", &f)?;
    let mut h: Vec<String> = ["metric", "label", "kind", "tranche", "window baseline"]
        .iter()
        .map(|x| x.to_string())
        .collect();
    h.extend(with_prefix("expected"));
    h.extend(with_prefix("observed"));
    h.extend(with_prefix("achieved"));
    s.header(&h)?;
    for m in &r.metrics {
        for w in &m.windows {
            let kind = match m.kind {
                crate::scenario::MetricKind::Count => "count",
                crate::scenario::MetricKind::Proportion => "proportion",
            };
            let mut row = vec![
                text(&m.id),
                text(&m.label),
                text(kind),
                text(&w.tranche),
                Cell::Num(w.baseline),
            ];
            row.extend(real_cells(&w.expected, false));
            row.extend(real_cells(&w.observed, false));
            row.extend(real_cells(&w.achieved, true));
            s.row(row)?;
        }
    }

    let mut s = sheet(&mut wb, "Schemes", &f)?;
    let mut avoided_metrics: Vec<String> = Vec::new();
    for sc in &r.schemes {
        for (m, _) in &sc.avoided {
            if !avoided_metrics.contains(m) {
                avoided_metrics.push(m.clone());
            }
        }
    }
    let mut h: Vec<String> = ["id", "label", "cost", "cost stated", "P(ROI > 1)"]
        .iter()
        .map(|x| x.to_string())
        .collect();
    h.extend(with_prefix("spend"));
    h.extend(with_prefix("savings"));
    h.extend(with_prefix("ROI"));
    h.extend(avoided_metrics.iter().map(|m| format!("avoided {m} mean")));
    s.header(&h)?;
    for sc in &r.schemes {
        let mut row = vec![
            text(&sc.id),
            text(&sc.label),
            Cell::Money(sc.cost),
            Cell::Money(sc.cost_stated),
            Cell::Pct(sc.p_roi_above_1),
        ];
        row.extend(money_cells(&sc.invest));
        row.extend(money_cells(&sc.savings));
        row.extend(real_cells(&sc.roi, false));
        for m in &avoided_metrics {
            row.push(
                sc.avoided
                    .iter()
                    .find(|(id, _)| id == m)
                    .map(|(_, a)| Cell::Num(a.mean))
                    .unwrap_or(Cell::Empty),
            );
        }
        s.row(row)?;
    }

    let mut s = sheet(&mut wb, "Partners", &f)?;
    let mut h: Vec<String> = ["partner", "label", "quantity"]
        .iter()
        .map(|x| x.to_string())
        .collect();
    h.extend(SUMMARY_COLUMNS.iter().map(|c| c.to_string()));
    s.header(&h)?;
    for p in &r.partners {
        for (name, summary) in [
            ("invest", &p.invest),
            ("savings", &p.savings),
            ("performance", &p.performance),
            ("risks", &p.risks),
            ("net", &p.net),
        ] {
            let mut row = vec![text(&p.id), text(&p.label), text(name)];
            row.extend(money_cells(summary));
            s.row(row)?;
        }
    }

    let mut s = sheet(&mut wb, "Warnings", &f)?;
    s.header(&["warning"])?;
    s.ws.set_column_width(0, 120)?;
    for w in &r.warnings {
        s.row(vec![text(w)])?;
    }

    let mut s = sheet(&mut wb, "Provenance", &f)?;
    s.header(&["item", "value"])?;
    s.ws.set_column_width(1, 70)?;
    for (k, v) in [
        ("itfsim version", r.version.clone()),
        ("scenario", r.name.clone()),
        ("file", r.file.clone()),
        ("sha256", r.sha256.clone()),
        ("overrides", crate::output::set_options(&r.sets)),
        ("seed", r.run.seed.to_string()),
        ("trials", r.run.trials.to_string()),
        ("sampling", r.run.sampling.clone()),
    ] {
        s.row(vec![text(k), Cell::Text(v)])?;
    }

    if !monthly.is_empty() {
        let mut s = sheet(&mut wb, "Monthly", &f)?;
        s.header(&[
            "metric", "month", "baseline", "expected", "mean", "p10", "p50", "p90",
        ])?;
        for m in monthly {
            for i in 0..m.months.len() {
                s.row(vec![
                    text(&m.id),
                    text(&m.months[i]),
                    Cell::Num(m.baseline[i]),
                    Cell::Num(m.expected[i]),
                    Cell::Num(m.mean[i]),
                    Cell::Num(m.p10[i]),
                    Cell::Num(m.p50[i]),
                    Cell::Num(m.p90[i]),
                ])?;
            }
        }
    }
    wb.save_to_buffer()
}
