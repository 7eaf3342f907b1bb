//! A spanned, owned TOML tree: the scenario file as written, before any meaning is given
//! to it.
//!
//! Parsing keeps the raw text of every number so that money can be read exactly into a
//! `Decimal` (never through f64), and the byte span of every key and value so that each
//! problem can be reported at its line and column. `--set` overrides replace nodes in this
//! tree (see `paths`), so validation treats overridden values exactly like written ones,
//! with spans pointing into the command-line argument instead of the file.
use crate::diagnostic::{Collector, SourceId, Span};
use toml::de::{DeTable, DeValue};

/// A value with where it was written.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub value: Value,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    String(String),
    /// An integer, with its decimal text (other radixes are converted).
    Integer(i128, String),
    /// A float, with its text as written (underscores removed).
    Float(f64, String),
    Boolean(bool),
    Datetime(String),
    Array(Vec<Node>),
    Table(Table),
}

/// Entries in the order written.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Table {
    pub entries: Vec<Entry>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub key: String,
    pub key_span: Span,
    pub node: Node,
}

impl Table {
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entries.iter().find(|e| e.key == key).map(|e| &e.node)
    }

    pub fn get_entry(&self, key: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.key == key)
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Node> {
        self.entries
            .iter_mut()
            .find(|e| e.key == key)
            .map(|e| &mut e.node)
    }

    /// Replaces the value of `key`, or appends it.
    pub fn set(&mut self, key: &str, node: Node) {
        match self.get_mut(key) {
            Some(slot) => *slot = node,
            None => {
                let key_span = node.span;
                self.entries.push(Entry {
                    key: key.to_string(),
                    key_span,
                    node,
                })
            }
        }
    }
}

impl Value {
    /// A short name of the type, for messages ("a string", "a table", ...).
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::String(_) => "a string",
            Value::Integer(..) => "an integer",
            Value::Float(..) => "a number",
            Value::Boolean(_) => "a boolean",
            Value::Datetime(_) => "a date",
            Value::Array(_) => "an array",
            Value::Table(_) => "a table",
        }
    }
}

/// Parses a whole document. Syntax errors are reported to `diagnostics`; the tree is then
/// `None`, because later checks on a half-parsed file would only add noise.
pub fn parse_document(text: &str, source: SourceId, diagnostics: &mut Collector) -> Option<Node> {
    let (table, errors) = DeTable::parse_recoverable(text);
    if !errors.is_empty() {
        for error in errors {
            report_syntax(&error, source, text, diagnostics);
        }
        return None;
    }
    let span = Span::new(source, table.span());
    Some(Node {
        value: Value::Table(convert_table(table.into_inner(), source)),
        span,
    })
}

/// Parses a single value (a `--set` VALUE). A bare word that is not TOML is taken as a
/// string, so `--set tranche.t1.condition.nea.rule=banded` works without quotes.
pub fn parse_value(text: &str, source: SourceId) -> Node {
    match DeValue::parse(text) {
        Ok(value) => {
            let span = Span::new(source, value.span());
            convert_value(value.into_inner(), span, source)
        }
        Err(_) => Node {
            value: Value::String(text.to_string()),
            span: Span::new(source, 0..text.len()),
        },
    }
}

fn report_syntax(
    error: &toml::de::Error,
    source: SourceId,
    text: &str,
    diagnostics: &mut Collector,
) {
    let range = error.span().unwrap_or(0..0);
    let span = Span::new(source, range.clone());
    let message = error.message().trim().to_string();
    if message.starts_with("duplicate key") {
        let (key, hint) = duplicate(text, range);
        diagnostics.error(span, &key, format!("TOML syntax error: {message}"), hint);
        return;
    }
    let key = key_at(text, range.start);
    diagnostics.error(
        span,
        &key,
        format!("TOML syntax error: {message}"),
        "check quotes, brackets and `key = value` form on this line; strings need double quotes",
    );
}

/// The full dotted key of a duplicate (`scenario.months`, `scheme[0].cost[1].amount`,
/// `scheme[0].funder.nhs` in an inline table, `fund` for a second `[fund]`) and a hint
/// that says where it was first given. Tables are found from the `[header]` lines above,
/// with `[[list]]` entries numbered from 0 as the reader numbers entries without an id.
fn duplicate(text: &str, range: std::ops::Range<usize>) -> (String, String) {
    let start = range.start.min(text.len());
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    let line = &text[line_start..line_end];
    let written = text
        .get(range.clone())
        .filter(|k| !k.is_empty() && !k.contains(['\n', '=']))
        .map(|k| k.trim().trim_matches(['[', ']']).trim().to_string());
    // Headers above the duplicate, with each [[list]]'s entry count so far.
    let mut counts: Vec<(String, usize)> = Vec::new();
    let mut table: Option<(String, usize, bool)> = None; // name, line (from 1), a list
    for (n, raw) in text[..line_start].lines().enumerate() {
        let l = raw.trim();
        if let Some(name) = l.strip_prefix("[[").and_then(|r| r.split("]]").next()) {
            let name = name.trim().to_string();
            counts.retain(|(c, _)| !c.starts_with(&format!("{name}.")));
            match counts.iter_mut().find(|(c, _)| *c == name) {
                Some((_, k)) => *k += 1,
                None => counts.push((name.clone(), 1)),
            }
            table = Some((name, n + 1, true));
        } else if let Some(name) = l.strip_prefix('[').and_then(|r| r.split(']').next()) {
            table = Some((name.trim().to_string(), n + 1, false));
        }
    }
    let numbered = |name: &str| -> String {
        let parts: Vec<&str> = name.split('.').collect();
        let mut out = Vec::new();
        for i in 0..parts.len() {
            let prefix = parts[..=i].join(".");
            match counts.iter().find(|(c, _)| *c == prefix) {
                Some((_, k)) => out.push(format!("{}[{}]", parts[i], k - 1)),
                None => out.push(parts[i].to_string()),
            }
        }
        out.join(".")
    };
    let trimmed = line.trim_start();
    if trimmed.starts_with('[') {
        // A second [table] header.
        let name = written.unwrap_or_else(|| trimmed.trim_matches(['[', ']']).to_string());
        let hint = format!(
            "[{name}] is already defined above; put all its keys under one [{name}] header (lists of entries such as [[scheme]] use double brackets)"
        );
        return (name, hint);
    }
    let key = written.unwrap_or_else(|| key_at(text, start));
    let prefix = table
        .as_ref()
        .map(|(name, _, _)| format!("{}.", numbered(name)))
        .unwrap_or_default();
    let line_key = line.split_once('=').map(|(k, _)| k.trim()).unwrap_or("");
    if !line_key.is_empty() && line_key != key && start > line_start + line_key.len() {
        // Inside an inline table on this line: `funder = { nhs = 1, nhs = 0.5 }`.
        return (
            format!("{prefix}{line_key}.{key}"),
            format!("`{key}` is given twice in this inline table; keep one"),
        );
    }
    // The first line in the same table that sets this key.
    let from = table.as_ref().map_or(0, |(_, n, _)| *n);
    let first = text[..line_start]
        .lines()
        .enumerate()
        .skip(from)
        .find(|(_, l)| l.split_once('=').is_some_and(|(k, _)| k.trim() == key))
        .map(|(n, _)| n + 1);
    let place = match &table {
        Some((name, _, true)) => format!("this [[{name}]] entry"),
        Some((name, _, false)) => format!("this [{name}]"),
        None => "the top level".to_string(),
    };
    let hint = match first {
        Some(n) => format!("`{key}` is already set in {place} on line {n}; keep one of the two"),
        None => format!("`{key}` is already set in {place}; keep one of the two"),
    };
    (format!("{prefix}{key}"), hint)
}

/// The key on the line of `offset`, if the line looks like `key = ...`, for syntax errors.
fn key_at(text: &str, offset: usize) -> String {
    let offset = offset.min(text.len());
    let start = text[..offset].rfind('\n').map(|i| i + 1).unwrap_or(0);
    let end = text[offset..]
        .find('\n')
        .map(|i| offset + i)
        .unwrap_or(text.len());
    let line = &text[start..end];
    match line.split_once('=') {
        Some((k, _)) if !k.trim().is_empty() && !k.contains('"') => k.trim().to_string(),
        // `months 24`: the key is the first word; a header `[fund` is shown as written.
        _ if !line.trim_start().starts_with('[') && !line.trim().is_empty() => line
            .split_whitespace()
            .next()
            .unwrap_or("")
            .chars()
            .take(40)
            .collect(),
        _ => line.trim().chars().take(40).collect(),
    }
}

fn convert_table(table: DeTable<'_>, source: SourceId) -> Table {
    let mut entries = Vec::with_capacity(table.len());
    for (key, value) in table {
        let key_span = Span::new(source, key.span());
        let span = Span::new(source, value.span());
        entries.push(Entry {
            key: key.into_inner().into_owned(),
            key_span,
            node: convert_value(value.into_inner(), span, source),
        });
    }
    Table { entries }
}

fn convert_value(value: DeValue<'_>, span: Span, source: SourceId) -> Node {
    let value = match value {
        DeValue::String(s) => Value::String(s.into_owned()),
        DeValue::Integer(i) => match i128::from_str_radix(i.as_str(), i.radix()).ok() {
            Some(n) => Value::Integer(n, n.to_string()),
            // Too large even for i128: keep the text; readers report it as out of range.
            None => Value::Float(f64::INFINITY, i.as_str().to_string()),
        },
        DeValue::Float(f) => {
            let text = f.as_str().replace('_', "");
            let number = text.parse::<f64>().unwrap_or(f64::NAN);
            Value::Float(number, text)
        }
        DeValue::Boolean(b) => Value::Boolean(b),
        DeValue::Datetime(d) => Value::Datetime(d.to_string()),
        DeValue::Array(items) => Value::Array(
            items
                .into_iter()
                .map(|item| {
                    let span = Span::new(source, item.span());
                    convert_value(item.into_inner(), span, source)
                })
                .collect(),
        ),
        DeValue::Table(t) => Value::Table(convert_table(t, source)),
    };
    Node { value, span }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Sources;

    #[test]
    fn keeps_raw_number_text_and_spans() {
        let text = "pot = 1_200_000.10\n[[scheme]]\nid = \"a\"\n";
        let mut sources = Sources::new();
        let id = sources.add("f.toml", text);
        let mut diagnostics = Collector::new(&sources);
        let root = parse_document(text, id, &mut diagnostics).unwrap();
        let Value::Table(table) = &root.value else {
            panic!()
        };
        let pot = table.get("pot").unwrap();
        assert_eq!(pot.value, Value::Float(1200000.10, "1200000.10".into()));
        assert_eq!(sources.line_col(pot.span), (1, 7));
        let Value::Array(schemes) = &table.get("scheme").unwrap().value else {
            panic!()
        };
        assert_eq!(schemes.len(), 1);
    }

    #[test]
    fn syntax_errors_are_located() {
        let text = "a = 1\nb = \"unterminated\n";
        let mut sources = Sources::new();
        let id = sources.add("f.toml", text);
        let mut diagnostics = Collector::new(&sources);
        assert!(parse_document(text, id, &mut diagnostics).is_none());
        let d = &diagnostics.items[0];
        assert_eq!(d.location.line, 2);
        assert_eq!(d.key, "b");
    }

    #[test]
    fn bare_words_in_set_values_are_strings() {
        let node = parse_value("banded", 0);
        assert_eq!(node.value, Value::String("banded".into()));
        let node = parse_value("{ dist = \"uniform\", min = 0, max = 1 }", 0);
        assert!(matches!(node.value, Value::Table(_)));
    }
}
