//! The HTML report document: one self-contained file (inline CSS and SVG, no scripts, no
//! fonts or images fetched from anywhere) built from titled sections, with a print
//! stylesheet so it prints cleanly on A4.
//!
//! Commands add what they know as [`Section`]s: `run` supplies the headline, the
//! distribution of total paid, tranches, monthly activity, schemes, partners, warnings
//! and provenance (`run_sections`); compare, sweep, thresholds or sensitivity can add
//! their own sections (a chart from `svg`, a table from [`table`]) to the same document.
//! Invariant: every piece of text from a scenario passes through `svg::escape`.
use super::svg::escape;
use std::fmt::Write;

/// One titled part of a report.
pub trait Section {
    /// Anchor id, `[a-z0-9-]+`, unique in the document.
    fn id(&self) -> String;
    fn title(&self) -> String;
    /// The section's HTML body (escaped, self-contained).
    fn body(&self) -> String;
}

/// A section whose body is already rendered.
pub struct Rendered {
    pub id: String,
    pub title: String,
    pub html: String,
}

impl Section for Rendered {
    fn id(&self) -> String {
        self.id.clone()
    }
    fn title(&self) -> String {
        self.title.clone()
    }
    fn body(&self) -> String {
        self.html.clone()
    }
}

/// A whole report.
pub struct Document {
    pub title: String,
    pub subtitle: String,
    pub sections: Vec<Box<dyn Section>>,
}

const CSS: &str = r#"
:root { --ink: #1d2733; --muted: #5b6875; --line: #d5dbe1; --accent: #1f5f99;
  --band: #9cc3e6; --good: #2e7d4f; --bad: #b3261e; --paper: #ffffff; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1060px; padding: 24px 28px 48px; color: var(--ink);
  background: var(--paper); font: 15px/1.45 "Segoe UI", "Helvetica Neue", Arial, sans-serif; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 20px; margin: 34px 0 10px; padding-bottom: 4px; border-bottom: 2px solid var(--accent); }
h3 { font-size: 16px; margin: 20px 0 6px; }
p.sub, p.note { color: var(--muted); margin: 4px 0 10px; }
nav { margin: 14px 0 6px; font-size: 14px; }
nav a { color: var(--accent); margin-right: 14px; text-decoration: none; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 12px 0; }
.card { flex: 1 1 200px; border: 1px solid var(--line); border-radius: 6px; padding: 10px 14px; }
.card .label { color: var(--muted); font-size: 13px; }
.card .value { font-size: 26px; font-weight: 600; }
.card .detail { color: var(--muted); font-size: 13px; }
table { border-collapse: collapse; width: 100%; margin: 8px 0 14px; font-size: 13.5px; }
th, td { padding: 5px 8px; border-bottom: 1px solid var(--line); text-align: right; vertical-align: top; }
th { background: #eef2f6; font-weight: 600; }
th:first-child, td:first-child { text-align: left; }
td.text { text-align: left; }
ul.warnings li { margin: 4px 0; }
dl.provenance { display: grid; grid-template-columns: 180px 1fr; gap: 4px 12px; font-size: 14px; }
dl.provenance dt { color: var(--muted); }
dl.provenance dd { margin: 0; overflow-wrap: anywhere; font-family: Consolas, "DejaVu Sans Mono", monospace; }
figure { margin: 10px 0 18px; }
svg.chart { display: block; max-width: 100%; height: auto; }
svg text { font-family: "Segoe UI", "Helvetica Neue", Arial, sans-serif; fill: var(--ink); }
.chart-title { font-size: 15px; font-weight: 600; }
.tick { font-size: 11.5px; fill: var(--muted); }
.axis-label, .legend, .row-note, .marker-label { font-size: 12.5px; }
.row-label { font-size: 12.5px; }
.axis { stroke: var(--ink); stroke-width: 1; }
.grid { stroke: #e7ebef; stroke-width: 1; }
.bar { fill: var(--accent); }
.bar-atom { fill: #e08a1e; }
.cdf { fill: none; stroke: var(--accent); stroke-width: 2.2; }
.band { fill: var(--band); fill-opacity: 0.55; stroke: none; }
.median-line { fill: none; stroke: var(--accent); stroke-width: 2.2; }
.baseline { fill: none; stroke: #6d6d6d; stroke-width: 1.6; stroke-dasharray: 6 4; }
.target-line { fill: none; stroke: var(--bad); stroke-width: 2; }
.pot { stroke: var(--bad); stroke-width: 1.6; stroke-dasharray: 5 3; }
.mean-line { stroke: var(--good); stroke-width: 1.6; stroke-dasharray: 2 3; }
.guide { stroke: #9aa5b1; stroke-width: 1; stroke-dasharray: 2 3; }
.reference { stroke: var(--ink); stroke-width: 1.2; stroke-dasharray: 4 3; }
.whisker { fill: none; stroke: var(--ink); stroke-width: 1.3; }
.box { fill: var(--band); stroke: var(--accent); stroke-width: 1.2; }
.median { fill: none; stroke: var(--accent); stroke-width: 2.5; }
.mean { fill: var(--good); }
.target { fill: none; stroke: var(--bad); stroke-width: 2.5; }
.swatch.band, .swatch.box { fill: var(--band); }
.swatch.median-line, .swatch.median, .swatch.bar, .swatch.cdf { fill: var(--accent); }
.swatch.baseline { fill: #6d6d6d; }
.swatch.target-line, .swatch.target, .swatch.pot { fill: var(--bad); }
.swatch.mean, .swatch.mean-line { fill: var(--good); }
.swatch.bar-atom { fill: #e08a1e; }
.swatch { stroke: none; }
.swatch.reference { fill: var(--ink); }
.swatch.guide { fill: #9aa5b1; }
.band-wide { fill: var(--band); fill-opacity: 0.22; stroke: none; }
.swatch.band-wide { fill: var(--band); fill-opacity: 0.4; }
.series-1, .series-2, .series-3, .series-4 { fill: none; stroke-width: 2.2; }
.series-1 { stroke: #e08a1e; } .swatch.series-1 { fill: #e08a1e; }
.series-2 { stroke: var(--good); } .swatch.series-2 { fill: var(--good); }
.series-3 { stroke: #7b4fa0; } .swatch.series-3 { fill: #7b4fa0; }
.series-4 { stroke: var(--bad); } .swatch.series-4 { fill: var(--bad); }
footer { margin-top: 40px; color: var(--muted); font-size: 12px; }
@media print {
  @page { size: A4; margin: 14mm; }
  body { max-width: none; padding: 0; font-size: 11pt; }
  nav { display: none; }
  h2 { break-after: avoid; page-break-after: avoid; }
  figure, table, .cards, dl { break-inside: avoid; page-break-inside: avoid; }
  section { break-before: auto; }
  th { background: #eef2f6 !important; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  svg.chart { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"#;

impl Document {
    pub fn render(&self) -> String {
        let mut o = String::new();
        let _ = write!(
            o,
            "<!DOCTYPE html>\n<html lang=\"en-GB\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<header>\n<h1>{}</h1>\n<p class=\"sub\">{}</p>\n<nav>",
            escape(&self.title),
            escape(&self.title),
            escape(&self.subtitle)
        );
        for s in &self.sections {
            let _ = write!(
                o,
                "<a href=\"#{}\">{}</a>",
                escape(&s.id()),
                escape(&s.title())
            );
        }
        o.push_str("</nav>\n</header>\n<main>\n");
        for s in &self.sections {
            let _ = write!(
                o,
                "<section id=\"{}\">\n<h2>{}</h2>\n{}\n</section>\n",
                escape(&s.id()),
                escape(&s.title()),
                s.body()
            );
        }
        let _ = write!(
            o,
            "</main>\n<footer>Generated by itfsim {}. Self-contained: this file fetches nothing.</footer>\n</body>\n</html>\n",
            escape(env!("CARGO_PKG_VERSION"))
        );
        o
    }
}

/// A table: header cells and rows of (already escaped) HTML cells. The first column is
/// left-aligned, the others right-aligned.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut o = String::from("<table>\n<thead><tr>");
    for h in header {
        let _ = write!(o, "<th>{}</th>", escape(h));
    }
    o.push_str("</tr></thead>\n<tbody>\n");
    for row in rows {
        o.push_str("<tr>");
        for cell in row {
            let _ = write!(o, "<td>{cell}</td>");
        }
        o.push_str("</tr>\n");
    }
    o.push_str("</tbody>\n</table>\n");
    o
}

/// A figure wrapping a chart, with a caption.
pub fn figure(svg: &str, caption: &str) -> String {
    format!(
        "<figure>{svg}<figcaption class=\"note\">{}</figcaption></figure>\n",
        escape(caption)
    )
}
