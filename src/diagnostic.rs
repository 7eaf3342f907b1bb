//! Diagnostics: one problem in an input, located by file, line and column, naming the
//! key it concerns and saying how to fix it.
//!
//! Every reader in the crate reports problems as `Diagnostic`s and collects *all* of them
//! before giving up, so that a user fixing a scenario sees every mistake at once. A
//! `Sources` table owns the texts that spans point into (the scenario file and each
//! `--set` argument), so a span can be turned into a line and column at report time.
use std::fmt;

/// Which text a span points into: index into `Sources`.
pub type SourceId = usize;

/// A byte range in one source text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Span {
    pub source: SourceId,
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(source: SourceId, range: std::ops::Range<usize>) -> Span {
        Span {
            source,
            start: range.start,
            end: range.end,
        }
    }
}

/// 1-based line and column (in characters) of a byte offset into `text` (an offset past
/// the end, or inside a character, counts as the position before it).
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while offset > 0 && !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let col = before[line_start..].chars().count() + 1;
    (line, col)
}

/// Texts that spans refer to, with the name shown to the user for each.
#[derive(Clone, Debug, Default)]
pub struct Sources {
    entries: Vec<(String, String)>,
}

impl Sources {
    pub fn new() -> Sources {
        Sources::default()
    }

    /// Adds a text and returns its id.
    pub fn add(&mut self, name: impl Into<String>, text: impl Into<String>) -> SourceId {
        self.entries.push((name.into(), text.into()));
        self.entries.len() - 1
    }

    pub fn name(&self, id: SourceId) -> &str {
        self.entries.get(id).map(|e| e.0.as_str()).unwrap_or("?")
    }

    pub fn text(&self, id: SourceId) -> &str {
        self.entries.get(id).map(|e| e.1.as_str()).unwrap_or("")
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, span: Span) -> (usize, usize) {
        line_col(self.text(span.source), span.start)
    }

    /// Turns a span into a location.
    pub fn locate(&self, span: Span) -> Location {
        let (line, column) = self.line_col(span);
        Location {
            file: self.name(span.source).to_string(),
            line,
            column,
        }
    }
}

/// file:line:col
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Location {
    pub file: String,
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// How serious a diagnostic is: errors stop the run, warnings are reported and kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// One located problem.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    pub location: Location,
    /// The key concerned, as a dotted path (`scheme.reablement.delivery`).
    pub key: String,
    pub message: String,
    pub hint: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(
            f,
            "{}: {}: `{}`: {}",
            self.location, level, self.key, self.message
        )?;
        if !self.hint.is_empty() {
            write!(f, "\n  hint: {}", self.hint)?;
        }
        Ok(())
    }
}

impl Diagnostic {
    /// A warning's one-line text for JSON output and stderr.
    pub fn one_line(&self) -> String {
        format!("{}: `{}`: {}", self.location, self.key, self.message)
    }
}

/// A number as a message shows it: at most 12 significant digits, so float noise from
/// summing shares (0.8999999999999999) reads 0.9, and exponent form at 10^12 and above or
/// below 10^-6, so `baseline = 1e300` is not printed as 301 digits. Non-finite values are
/// shown as Rust writes them (inf, -inf, NaN).
pub fn show(x: f64) -> String {
    if !x.is_finite() {
        return format!("{x}");
    }
    if x == 0.0 {
        return "0".to_string();
    }
    let rounded: f64 = format!("{x:.11e}").parse().unwrap_or(x);
    if (1e-6..1e12).contains(&rounded.abs()) {
        format!("{rounded}")
    } else {
        format!("{rounded:e}")
    }
}

/// Collects diagnostics while reading; the reader keeps going after a problem.
#[derive(Debug)]
pub struct Collector<'s> {
    pub sources: &'s Sources,
    pub items: Vec<Diagnostic>,
    /// The span of each key reported by [`Collector::unknown_key`], with the index of its
    /// diagnostic in `items`: a key a `--set` added is found here by its span, so the
    /// misspelled path becomes a command-line error rather than a scenario's.
    pub unknown_keys: Vec<(Span, usize)>,
}

impl<'s> Collector<'s> {
    pub fn new(sources: &'s Sources) -> Collector<'s> {
        Collector {
            sources,
            items: Vec::new(),
            unknown_keys: Vec::new(),
        }
    }

    /// An error: the key at `span` is not one the table allows.
    pub fn unknown_key(
        &mut self,
        span: Span,
        key: &str,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) {
        self.unknown_keys.push((span, self.items.len()));
        self.error(span, key, message, hint);
    }

    /// The unknown-key error reported at exactly `span`, if any.
    pub fn unknown_key_at(&self, span: Span) -> Option<&Diagnostic> {
        let &(_, index) = self.unknown_keys.iter().find(|(s, _)| *s == span)?;
        self.items.get(index)
    }

    pub fn error(
        &mut self,
        span: Span,
        key: &str,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) {
        self.push(Severity::Error, span, key, message.into(), hint.into());
    }

    pub fn warning(
        &mut self,
        span: Span,
        key: &str,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) {
        self.push(Severity::Warning, span, key, message.into(), hint.into());
    }

    fn push(&mut self, severity: Severity, span: Span, key: &str, message: String, hint: String) {
        self.items.push(Diagnostic {
            severity,
            location: self.sources.locate(span),
            key: key.to_string(),
            message,
            hint,
        });
    }

    pub fn has_errors(&self) -> bool {
        self.items.iter().any(|d| d.severity == Severity::Error)
    }

    pub fn error_count(&self) -> usize {
        self.items
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count()
    }
}

/// The closest of `candidates` to `word` within edit distance 2, for "did you mean" hints.
pub fn closest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (edit_distance(word, c), *c))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_count_characters() {
        let mut sources = Sources::new();
        let id = sources.add("a.toml", "x = 1\ny = \"é\" z\n");
        let (line, col) = sources.line_col(Span::new(id, 13..14));
        assert_eq!((line, col), (2, 7));
    }

    #[test]
    fn show_drops_float_noise_and_shortens_extremes() {
        assert_eq!(show(0.3 + 0.6), "0.9");
        assert_eq!(0.3 + 0.6, 0.8999999999999999, "the noise the test is about");
        assert_eq!(show(85.0), "85");
        assert_eq!(show(0.035), "0.035");
        assert_eq!(show(-0.99), "-0.99");
        assert_eq!(show(30000.0), "30000");
        assert_eq!(show(1e300), "1e300");
        assert_eq!(show(1.5e-7), "1.5e-7");
        assert_eq!(show(123456789012.0), "123456789012");
        assert_eq!(show(1234567890123.0), "1.23456789012e12");
        assert_eq!(show(0.0), "0");
        assert_eq!(show(-0.0), "0");
        assert_eq!(show(f64::INFINITY), "inf");
        assert_eq!(show(f64::NEG_INFINITY), "-inf");
    }

    #[test]
    fn closest_suggests_near_misses_only() {
        assert_eq!(closest("delivry", &["delivery", "scale"]), Some("delivery"));
        assert_eq!(closest("zzz", &["delivery", "scale"]), None);
    }
}
