//! Small pieces the reports of `thresholds`, `compare`, `sweep` and `sensitivity` share:
//! number formats for cells and axes, headline cards, a line-with-band chart, and the
//! warnings and provenance sections. Everything returned is escaped HTML or SVG.
//!
//! Invariant: money is shown from whole pence (`format_gbp`), exactly the figure the
//! command prints; floats are used only for pixel positions.
use super::html::{Rendered, Section};
use super::svg::{Chart, Margins, escape, nice_ticks, padded};
use crate::money::{Pence, format_gbp, format_gbp_compact};
use std::fmt::Write;

/// A probability as a percentage with one decimal ("–" when not finite).
pub fn pct(x: f64) -> String {
    if x.is_finite() {
        format!("{:.1}%", x * 100.0)
    } else {
        "–".into()
    }
}

/// Exact pounds and pence, escaped.
pub fn gbp(p: Pence) -> String {
    escape(&format_gbp(p))
}

/// Compact pounds for axis ticks ("£1.2m").
pub fn axis_gbp(x: f64) -> String {
    format_gbp_compact(x.round() as i64)
}

/// A percentage tick, with no trailing ".0".
pub fn axis_pct(x: f64) -> String {
    let s = format!("{:.1}", x);
    let s = s.strip_suffix(".0").unwrap_or(&s).to_string();
    format!("{s}%")
}

pub fn section(id: &str, title: &str, html: String) -> Box<dyn Section> {
    Box::new(Rendered {
        id: id.into(),
        title: title.into(),
        html,
    })
}

/// Headline cards: (label, value HTML, detail HTML).
pub fn cards(items: &[(&str, String, String)]) -> String {
    let mut o = String::from("<div class=\"cards\">");
    for (label, value, detail) in items {
        let _ = write!(
            o,
            "<div class=\"card\"><div class=\"label\">{}</div><div class=\"value\">{}</div><div class=\"detail\">{}</div></div>",
            escape(label),
            value,
            detail
        );
    }
    o.push_str("</div>");
    o
}

/// One line of a [`line_chart`]: points (x, y), an optional band (x, low, high) and the
/// CSS classes of line and band.
pub struct Line<'a> {
    pub points: Vec<(f64, f64)>,
    pub band: Vec<(f64, f64, f64)>,
    pub line_class: &'a str,
    pub band_class: &'a str,
}

/// Axes of a [`line_chart`]: labels, tick formats and optional fixed y range.
pub struct Axes<'a> {
    pub x_label: &'a str,
    pub y_label: &'a str,
    pub x_format: &'a dyn Fn(f64) -> String,
    pub y_format: &'a dyn Fn(f64) -> String,
    pub y_range: Option<(f64, f64)>,
}

/// Lines with bands over a shared x axis, an optional horizontal guide at y and an
/// optional labelled vertical marker at x. Bands are drawn first, lines over them.
pub fn line_chart(
    title: &str,
    lines: &[Line],
    axes: &Axes,
    hguide: Option<f64>,
    marker: Option<(f64, &str)>,
    legend: &[(&str, &str)],
) -> String {
    let finite = |v: &f64| v.is_finite();
    let xs: Vec<f64> = lines
        .iter()
        .flat_map(|l| l.points.iter().map(|p| p.0))
        .filter(finite)
        .collect();
    let ys: Vec<f64> = lines
        .iter()
        .flat_map(|l| {
            l.points
                .iter()
                .map(|p| p.1)
                .chain(l.band.iter().flat_map(|b| [b.1, b.2]))
        })
        .chain(hguide)
        .filter(finite)
        .collect();
    let lo = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = |v: &[f64]| v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let (x0, x1) = if xs.len() > 1 && hi(&xs) > lo(&xs) {
        (lo(&xs), hi(&xs))
    } else {
        padded(lo(&xs), hi(&xs))
    };
    let (y0, y1) = axes.y_range.unwrap_or_else(|| padded(lo(&ys), hi(&ys)));
    let mut chart = Chart::new(title, 1000.0, 380.0, Margins::default(), (x0, x1), (y0, y1));
    chart.x_axis(axes.x_label, &nice_ticks(x0, x1, 8), axes.x_format);
    chart.y_axis(axes.y_label, &nice_ticks(y0, y1, 6), axes.y_format);
    for l in lines.iter().filter(|l| !l.band.is_empty()) {
        let mut poly: Vec<(f64, f64)> = l.band.iter().map(|b| (b.0, b.2)).collect();
        poly.extend(l.band.iter().rev().map(|b| (b.0, b.1)));
        chart.polygon(&poly, l.band_class);
    }
    if let Some(y) = hguide {
        chart.hline(y, "guide");
    }
    for l in lines.iter().filter(|l| !l.points.is_empty()) {
        chart.polyline(&l.points, l.line_class);
    }
    if let Some((x, label)) = marker {
        chart.vline(x, "target-line", label);
    }
    chart.legend(legend);
    chart.finish()
}

/// `s` cut to its last `max` characters, with a leading ellipsis when cut (row labels
/// whose end tells them apart, like parameter paths).
pub fn tail(s: &str, max: usize) -> String {
    let n = s.chars().count();
    if n <= max {
        s.to_string()
    } else {
        let mut t = String::from("…");
        t.extend(s.chars().skip(n + 1 - max));
        t
    }
}

/// A tick for a decimal axis: at most 6 decimals, no trailing zeros.
pub fn axis_decimal(x: f64) -> String {
    let s = format!("{x:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.to_string() }
}

/// The warnings section.
pub fn warnings(w: &[String]) -> Box<dyn Section> {
    let html = if w.is_empty() {
        "<p>No warnings.</p>".to_string()
    } else {
        let mut o = String::from("<ul class=\"warnings\">");
        for x in w {
            let _ = write!(o, "<li>{}</li>", escape(x));
        }
        o.push_str("</ul>");
        o
    };
    section("warnings", "Warnings", html)
}

/// The provenance section: (item, value) pairs, then the itfsim version.
/// The first items of every report's provenance: the scenario, the file and its bytes'
/// sha256, and the `--set` overrides applied to it (as options to paste into a shell).
pub fn scenario_items(
    name: &str,
    file: &str,
    sha256: &str,
    sets: &[String],
) -> Vec<(&'static str, String)> {
    vec![
        ("Scenario", name.to_string()),
        ("Scenario file", file.to_string()),
        ("SHA-256", sha256.to_string()),
        ("Overrides", crate::output::set_options(sets)),
    ]
}

pub fn provenance(items: &[(&str, String)]) -> Box<dyn Section> {
    let mut o = String::from("<dl class=\"provenance\">");
    for (k, v) in items {
        let _ = write!(o, "<dt>{}</dt><dd>{}</dd>", escape(k), escape(v));
    }
    let _ = write!(
        o,
        "<dt>itfsim version</dt><dd>{}</dd></dl><p class=\"note\">The same scenario file, options, seed and trials reproduce these figures exactly on any machine and thread count.</p>",
        escape(env!("CARGO_PKG_VERSION"))
    );
    section("provenance", "Provenance", o)
}

/// One row of [`hbars`]: a label, bar segments (from, to, CSS class) and a note at the
/// right.
pub struct BarRow {
    pub label: String,
    pub segments: Vec<(f64, f64, &'static str)>,
    pub note: String,
}

/// Horizontal bars sharing an x axis (money or any unit), with an optional reference
/// line (e.g. zero, or a base value for a tornado).
pub fn hbars(
    title: &str,
    rows: &[BarRow],
    x_label: &str,
    format: &dyn Fn(f64) -> String,
    reference: Option<(f64, &str)>,
    legend: &[(&str, &str)],
) -> String {
    let margins = Margins {
        left: 250.0,
        right: 280.0,
        top: 56.0,
        bottom: 52.0,
    };
    let height = margins.top + margins.bottom + 30.0 * rows.len().max(1) as f64;
    let values: Vec<f64> = rows
        .iter()
        .flat_map(|r| r.segments.iter().flat_map(|s| [s.0, s.1]))
        .chain(reference.map(|r| r.0))
        .filter(|v| v.is_finite())
        .collect();
    let (lo, hi) = padded(
        values.iter().copied().fold(f64::INFINITY, f64::min),
        values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    );
    let y_range = (rows.len().max(1) as f64, 0.0);
    let mut chart = Chart::new(title, 1000.0, height, margins, (lo, hi), y_range);
    chart.x_axis(x_label, &nice_ticks(lo, hi, 8), format);
    for (i, r) in rows.iter().enumerate() {
        let mid = i as f64 + 0.5;
        let y_px = chart.y.at(mid);
        let left = chart.plot_left() - 8.0;
        chart.text_px(left, y_px + 4.0, "end", "row-label", &r.label);
        for &(a, b, class) in &r.segments {
            chart.rect(a.min(b), a.max(b), mid - 0.32, mid + 0.32, class);
        }
        let right = chart.x.to + 8.0;
        chart.text_px(right, y_px + 4.0, "start", "row-note", &r.note);
    }
    let mut items = legend.to_vec();
    if let Some((x, label)) = reference {
        chart.vline(x, "reference", "");
        items.push(("reference", label));
    }
    chart.legend(&items);
    chart.finish()
}
