//! Hand-built SVG charts for the HTML report: axes with readable ticks, bars, lines,
//! bands and box rows, drawn into a plot area with data-to-pixel scales.
//!
//! Output is plain inline SVG whose colours and strokes come from CSS classes defined by
//! the report's stylesheet (`report::html`), so charts print cleanly and need nothing
//! from outside the file. Every chart carries a `<title>` and `role="img"` with an
//! `aria-label`. Non-finite data are skipped, never drawn at NaN coordinates.
use std::fmt::Write;

/// Escapes text for HTML and SVG content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Round tick values (1, 2, 2.5, 5 x 10^k steps) covering [min, max], about `count` of them.
pub fn nice_ticks(min: f64, max: f64, count: usize) -> Vec<f64> {
    if !(min.is_finite() && max.is_finite()) || max <= min || count == 0 {
        return if min.is_finite() {
            vec![min]
        } else {
            Vec::new()
        };
    }
    let raw = (max - min) / count as f64;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * magnitude);
    let first = (min / step).ceil() as i64;
    let last = (max / step).floor() as i64;
    (first..=last).map(|k| k as f64 * step).collect()
}

/// Widens [min, max] so it is not empty and has a little room at both ends.
pub fn padded(min: f64, max: f64) -> (f64, f64) {
    if !(min.is_finite() && max.is_finite()) {
        return (0.0, 1.0);
    }
    if max <= min {
        let d = if min == 0.0 { 1.0 } else { min.abs() * 0.1 };
        return (min - d, max + d);
    }
    let d = (max - min) * 0.05;
    (min - d, max + d)
}

/// A linear map from data values to pixels.
#[derive(Clone, Copy, Debug)]
pub struct Scale {
    pub min: f64,
    pub max: f64,
    pub from: f64,
    pub to: f64,
}

impl Scale {
    pub fn at(&self, x: f64) -> f64 {
        let span = self.max - self.min;
        if span == 0.0 {
            return self.from;
        }
        self.from + (x - self.min) / span * (self.to - self.from)
    }
}

/// One chart: a titled SVG with a plot area and x and y scales.
pub struct Chart {
    width: f64,
    height: f64,
    pub x: Scale,
    pub y: Scale,
    body: String,
    title: String,
}

/// Pixel margins around the plot area.
pub struct Margins {
    pub left: f64,
    pub right: f64,
    pub top: f64,
    pub bottom: f64,
}

impl Default for Margins {
    fn default() -> Self {
        Margins {
            left: 78.0,
            right: 24.0,
            top: 56.0,
            bottom: 52.0,
        }
    }
}

fn num(x: f64) -> String {
    format!("{:.1}", x)
}

impl Chart {
    pub fn new(
        title: &str,
        width: f64,
        height: f64,
        margins: Margins,
        x: (f64, f64),
        y: (f64, f64),
    ) -> Chart {
        let mut chart = Chart {
            width,
            height,
            x: Scale {
                min: x.0,
                max: x.1,
                from: margins.left,
                to: width - margins.right,
            },
            y: Scale {
                min: y.0,
                max: y.1,
                from: height - margins.bottom,
                to: margins.top,
            },
            body: String::new(),
            title: title.to_string(),
        };
        let _ = write!(
            chart.body,
            r#"<text class="chart-title" x="{}" y="20">{}</text>"#,
            num(margins.left),
            escape(title)
        );
        chart
    }

    /// X axis along the bottom with ticks, grid lines and a label.
    pub fn x_axis(&mut self, label: &str, ticks: &[f64], format: &dyn Fn(f64) -> String) {
        let y0 = self.y.from;
        for &t in ticks {
            let x = self.x.at(t);
            let _ = write!(
                self.body,
                r#"<line class="grid" x1="{x}" y1="{top}" x2="{x}" y2="{y0}"/><text class="tick" x="{x}" y="{ty}" text-anchor="middle">{}</text>"#,
                escape(&format(t)),
                x = num(x),
                top = num(self.y.to),
                y0 = num(y0),
                ty = num(y0 + 16.0)
            );
        }
        let _ = write!(
            self.body,
            r#"<line class="axis" x1="{}" y1="{y}" x2="{}" y2="{y}"/><text class="axis-label" x="{}" y="{}" text-anchor="middle">{}</text>"#,
            num(self.x.from),
            num(self.x.to),
            num((self.x.from + self.x.to) / 2.0),
            num(y0 + 38.0),
            escape(label),
            y = num(y0)
        );
    }

    /// Y axis on the left with ticks, grid lines and a rotated label.
    pub fn y_axis(&mut self, label: &str, ticks: &[f64], format: &dyn Fn(f64) -> String) {
        let x0 = self.x.from;
        for &t in ticks {
            let y = self.y.at(t);
            let _ = write!(
                self.body,
                r#"<line class="grid" x1="{x0}" y1="{y}" x2="{x1}" y2="{y}"/><text class="tick" x="{tx}" y="{ty}" text-anchor="end">{}</text>"#,
                escape(&format(t)),
                x0 = num(x0),
                x1 = num(self.x.to),
                y = num(y),
                tx = num(x0 - 6.0),
                ty = num(y + 4.0)
            );
        }
        let cy = (self.y.from + self.y.to) / 2.0;
        let _ = write!(
            self.body,
            r#"<line class="axis" x1="{x}" y1="{}" x2="{x}" y2="{}"/><text class="axis-label" x="14" y="{cy}" text-anchor="middle" transform="rotate(-90 14 {cy})">{}</text>"#,
            num(self.y.from),
            num(self.y.to),
            escape(label),
            x = num(x0),
            cy = num(cy)
        );
    }

    /// A rectangle in data coordinates.
    pub fn rect(&mut self, x0: f64, x1: f64, y0: f64, y1: f64, class: &str) {
        let (a, b) = (self.x.at(x0), self.x.at(x1));
        let (c, d) = (self.y.at(y0), self.y.at(y1));
        if ![a, b, c, d].iter().all(|v| v.is_finite()) {
            return;
        }
        let _ = write!(
            self.body,
            r#"<rect class="{class}" x="{}" y="{}" width="{}" height="{}"/>"#,
            num(a.min(b)),
            num(c.min(d)),
            num((b - a).abs().max(0.5)),
            num((d - c).abs())
        );
    }

    fn points(&self, points: &[(f64, f64)]) -> String {
        let mut s = String::new();
        for &(x, y) in points {
            let (px, py) = (self.x.at(x), self.y.at(y));
            if px.is_finite() && py.is_finite() {
                let _ = write!(s, "{},{} ", num(px), num(py));
            }
        }
        s
    }

    pub fn polyline(&mut self, points: &[(f64, f64)], class: &str) {
        let p = self.points(points);
        let _ = write!(
            self.body,
            r#"<polyline class="{class}" points="{}"/>"#,
            p.trim_end()
        );
    }

    pub fn polygon(&mut self, points: &[(f64, f64)], class: &str) {
        let p = self.points(points);
        let _ = write!(
            self.body,
            r#"<polygon class="{class}" points="{}"/>"#,
            p.trim_end()
        );
    }

    /// A vertical line across the plot at data x, with a label at the top.
    pub fn vline(&mut self, x: f64, class: &str, label: &str) {
        let px = self.x.at(x);
        if !px.is_finite() {
            return;
        }
        let anchor = if px > (self.x.from + self.x.to) / 2.0 {
            ("end", -4.0)
        } else {
            ("start", 4.0)
        };
        if label.is_empty() {
            let _ = write!(
                self.body,
                r#"<line class="{class}" x1="{x}" y1="{}" x2="{x}" y2="{}"/>"#,
                num(self.y.from),
                num(self.y.to),
                x = num(px)
            );
            return;
        }
        let _ = write!(
            self.body,
            r#"<line class="{class}" x1="{x}" y1="{}" x2="{x}" y2="{}"/><text class="marker-label" x="{}" y="{}" text-anchor="{}">{}</text>"#,
            num(self.y.from),
            num(self.y.to),
            num(px + anchor.1),
            num(self.y.to + 12.0),
            anchor.0,
            escape(label),
            x = num(px)
        );
    }

    /// A horizontal line across the plot at data y.
    pub fn hline(&mut self, y: f64, class: &str) {
        let py = self.y.at(y);
        if py.is_finite() {
            let _ = write!(
                self.body,
                r#"<line class="{class}" x1="{}" y1="{y}" x2="{}" y2="{y}"/>"#,
                num(self.x.from),
                num(self.x.to),
                y = num(py)
            );
        }
    }

    /// Text at pixel coordinates.
    pub fn text_px(&mut self, x: f64, y: f64, anchor: &str, class: &str, text: &str) {
        let _ = write!(
            self.body,
            r#"<text class="{class}" x="{}" y="{}" text-anchor="{anchor}">{}</text>"#,
            num(x),
            num(y),
            escape(text)
        );
    }

    /// A legend row under the title: (css class of the swatch, label).
    /// A legend row under the title, from the plot's left edge: (css class of the
    /// swatch, label).
    pub fn legend(&mut self, items: &[(&str, &str)]) {
        let mut x = self.x.from;
        for (class, label) in items {
            let _ = write!(
                self.body,
                r#"<rect class="swatch {class}" x="{}" y="27" width="14" height="10"/><text class="legend" x="{}" y="36">{}</text>"#,
                num(x),
                num(x + 18.0),
                escape(label)
            );
            x += 7.2 * label.chars().count() as f64 + 36.0;
        }
    }

    pub fn plot_left(&self) -> f64 {
        self.x.from
    }

    pub fn finish(self) -> String {
        format!(
            r#"<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-label="{t}"><title>{t}</title>{}</svg>"#,
            self.body,
            w = self.width,
            h = self.height,
            t = escape(&self.title)
        )
    }
}

/// One row of a box chart: whiskers p5..p95, box p25..p75, median, mean dot, and an
/// optional per-row marker (a target) and note printed at the right.
pub struct BoxRow {
    pub label: String,
    /// p5, p25, p50, p75, p95; None draws no box (e.g. an event).
    pub quantiles: Option<[f64; 5]>,
    pub mean: Option<f64>,
    pub marker: Option<f64>,
    pub note: String,
}

/// Horizontal box rows sharing an x axis, with an optional reference line.
pub fn box_rows(
    title: &str,
    rows: &[BoxRow],
    x_label: &str,
    format: &dyn Fn(f64) -> String,
    reference: Option<(f64, &str)>,
    legend: &[(&str, &str)],
) -> String {
    let row_height = 30.0;
    let margins = Margins {
        left: 250.0,
        right: 170.0,
        top: 56.0,
        bottom: 52.0,
    };
    let height = margins.top + margins.bottom + row_height * rows.len().max(1) as f64;
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    for r in rows {
        let extra = [r.mean, r.marker];
        for v in r
            .quantiles
            .iter()
            .flatten()
            .chain(extra.iter().flatten())
            .chain(reference.as_ref().map(|x| &x.0))
        {
            if v.is_finite() {
                lo = lo.min(*v);
                hi = hi.max(*v);
            }
        }
    }
    let (lo, hi) = padded(lo, hi);
    let y_range = (rows.len().max(1) as f64, 0.0);
    let mut chart = Chart::new(title, 1000.0, height, margins, (lo, hi), y_range);
    chart.x_axis(x_label, &nice_ticks(lo, hi, 8), format);
    if let Some((x, _)) = reference {
        chart.vline(x, "reference", "");
    }
    for (i, r) in rows.iter().enumerate() {
        let mid = i as f64 + 0.5;
        let y_px = chart.y.at(mid);
        chart.text_px(
            chart.plot_left() - 8.0,
            y_px + 4.0,
            "end",
            "row-label",
            &r.label,
        );
        if let Some([p5, p25, p50, p75, p95]) = r.quantiles {
            chart.polyline(&[(p5, mid), (p95, mid)], "whisker");
            chart.polyline(&[(p5, mid - 0.2), (p5, mid + 0.2)], "whisker");
            chart.polyline(&[(p95, mid - 0.2), (p95, mid + 0.2)], "whisker");
            chart.rect(p25, p75, mid - 0.3, mid + 0.3, "box");
            chart.polyline(&[(p50, mid - 0.3), (p50, mid + 0.3)], "median");
        }
        if let Some(m) = r.mean {
            let (px, py) = (chart.x.at(m), y_px);
            if px.is_finite() {
                let _ = write!(
                    chart.body,
                    r#"<circle class="mean" cx="{}" cy="{}" r="3.5"/>"#,
                    num(px),
                    num(py)
                );
            }
        }
        if let Some(t) = r.marker {
            chart.polyline(&[(t, mid - 0.42), (t, mid + 0.42)], "target");
        }
        let right = chart.x.to + 8.0;
        chart.text_px(right, y_px + 4.0, "start", "row-note", &r.note);
    }
    let mut items = legend.to_vec();
    if let Some((_, label)) = reference {
        items.push(("reference", label));
    }
    chart.legend(&items);
    chart.finish()
}

/// `s` cut to at most `max` characters, with an ellipsis when cut.
pub fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_cover_the_range() {
        assert_eq!(
            nice_ticks(0.0, 1.0, 5),
            vec![0.0, 0.2, 0.4, 0.6000000000000001, 0.8, 1.0]
        );
        let t = nice_ticks(0.0, 1_200_000.0, 6);
        assert_eq!(t.first(), Some(&0.0));
        assert_eq!(t.last(), Some(&1_200_000.0));
        assert!(t.len() >= 4 && t.len() <= 9, "{t:?}");
        assert_eq!(nice_ticks(1.0, 1.0, 5), vec![1.0]);
        assert!(nice_ticks(f64::NAN, 1.0, 5).is_empty());
    }

    #[test]
    fn charts_escape_text_and_skip_non_finite_points() {
        let mut c = Chart::new(
            "a < b & c",
            400.0,
            300.0,
            Margins::default(),
            (0.0, 1.0),
            (0.0, 1.0),
        );
        c.polyline(&[(0.0, 0.0), (f64::NAN, 1.0), (1.0, 1.0)], "line");
        let svg = c.finish();
        assert!(svg.contains("a &lt; b &amp; c"));
        assert!(!svg.contains("NaN"));
        assert!(svg.contains(r#"points="78.0,248.0 376.0,56.0""#), "{svg}");
        assert_eq!(shorten("abcdef", 4), "abc…");
        assert_eq!(shorten("abc", 4), "abc");
    }
}
