//! Typed access to one TOML table of a scenario, reporting every problem to a collector.
//!
//! `Fields` wraps a table together with its dotted path (`scheme.reablement`), checks for
//! unknown keys up front (with a "did you mean" hint), and reads values with the checks
//! every section needs: numbers must be finite, money is read exactly from its written
//! text, uncertain values become `Dist`s, partner shares must sum to one. A getter that
//! finds a problem reports it and returns `None`; the caller carries on, so a user sees
//! all problems at once.
use super::tree::{Node, Table, Value};
use crate::diagnostic::{Collector, Span, closest, show};
use crate::dist::{self, Dist, DistKeys};
use rust_decimal::Decimal;
use std::str::FromStr;

/// A table being read, with its path for messages.
pub struct Fields<'a> {
    pub table: &'a Table,
    pub span: Span,
    pub path: String,
}

impl<'a> Fields<'a> {
    /// Wraps `node` as a table, reporting a wrong type or keys outside `allowed`.
    pub fn new(
        node: &'a Node,
        path: &str,
        allowed: &[&str],
        d: &mut Collector,
    ) -> Option<Fields<'a>> {
        Fields::new_except(node, path, allowed, &[], d)
    }

    /// [`Fields::new`], leaving out of the unknown-key check the keys in `reported`, whose
    /// problem the caller has said in its own words.
    pub fn new_except(
        node: &'a Node,
        path: &str,
        allowed: &[&str],
        reported: &[&str],
        d: &mut Collector,
    ) -> Option<Fields<'a>> {
        let Value::Table(table) = &node.value else {
            d.error(
                node.span,
                path,
                format!("expected a table, found {}", node.value.type_name()),
                format!("write `[{path}]` with keys below it, or an inline table {{ ... }}"),
            );
            return None;
        };
        for entry in &table.entries {
            let key = entry.key.as_str();
            if !allowed.contains(&key) && !reported.contains(&key) {
                let hint = match closest(&entry.key, allowed) {
                    Some(near) => format!(
                        "did you mean `{near}`? Allowed keys here: {}",
                        allowed.join(", ")
                    ),
                    None if allowed.is_empty() => "this table takes no keys".into(),
                    None => format!("allowed keys here: {}", allowed.join(", ")),
                };
                let key = if path == TOP_LEVEL {
                    entry.key.clone()
                } else {
                    format!("{path}.{}", entry.key)
                };
                d.unknown_key(
                    entry.key_span,
                    &key,
                    format!("unknown key `{}`", entry.key),
                    hint,
                );
            }
        }
        Some(Fields {
            table,
            span: node.span,
            path: path.to_string(),
        })
    }

    pub fn node(&self, key: &str) -> Option<&'a Node> {
        self.table.get(key)
    }

    pub fn has(&self, key: &str) -> bool {
        self.table.get(key).is_some()
    }

    pub fn key_path(&self, key: &str) -> String {
        if self.path == TOP_LEVEL {
            key.to_string()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    /// Span of a key's value, or of the table when the key is absent.
    pub fn span_of(&self, key: &str) -> Span {
        self.node(key).map(|n| n.span).unwrap_or(self.span)
    }

    pub fn missing(&self, key: &str, hint: &str, d: &mut Collector) {
        d.error(
            self.span,
            &self.key_path(key),
            if self.path == TOP_LEVEL {
                format!("missing required section `[{key}]`")
            } else {
                format!("missing required key `{key}` in `{}`", self.path)
            },
            hint,
        );
    }

    pub fn number(&self, key: &str, d: &mut Collector) -> Option<f64> {
        let node = self.node(key)?;
        number(node, &self.key_path(key), d)
    }

    pub fn req_number(&self, key: &str, hint: &str, d: &mut Collector) -> Option<f64> {
        if !self.has(key) {
            self.missing(key, hint, d);
            return None;
        }
        self.number(key, d)
    }

    pub fn string(&self, key: &str, d: &mut Collector) -> Option<String> {
        let node = self.node(key)?;
        match &node.value {
            Value::String(s) => Some(s.clone()),
            other => {
                d.error(
                    node.span,
                    &self.key_path(key),
                    format!("expected a string, found {}", other.type_name()),
                    "put the value in double quotes",
                );
                None
            }
        }
    }

    pub fn req_string(&self, key: &str, hint: &str, d: &mut Collector) -> Option<String> {
        if !self.has(key) {
            self.missing(key, hint, d);
            return None;
        }
        self.string(key, d)
    }

    /// A whole number in [min, max].
    pub fn integer(&self, key: &str, min: i128, max: i128, d: &mut Collector) -> Option<i128> {
        let node = self.node(key)?;
        let path = self.key_path(key);
        match &node.value {
            Value::Integer(n, _) if (min..=max).contains(n) => Some(*n),
            Value::Integer(n, _) => {
                d.error(
                    node.span,
                    &path,
                    format!("{n} is out of range"),
                    format!("use a whole number from {min} to {max}"),
                );
                None
            }
            Value::Float(x, _) if x.fract() == 0.0 && *x >= min as f64 && *x <= max as f64 => {
                Some(*x as i128)
            }
            Value::String(s) if s.trim().parse::<i128>().is_ok() => {
                d.error(
                    node.span,
                    &path,
                    format!("expected a whole number, found the string \"{s}\""),
                    format!("remove the quotes: {key} = {}", s.trim()),
                );
                None
            }
            other => {
                d.error(
                    node.span,
                    &path,
                    format!("expected a whole number, found {}", describe(other)),
                    format!("use a whole number from {min} to {max}"),
                );
                None
            }
        }
    }

    /// An identifier `[a-z0-9_]+`.
    pub fn id(&self, key: &str, d: &mut Collector) -> Option<String> {
        let value = self.req_string(
            key,
            "every entry needs an id of lower-case letters, digits and _",
            d,
        )?;
        if is_id(&value) {
            Some(value)
        } else {
            d.error(
                self.span_of(key),
                &self.key_path(key),
                format!("`{value}` is not a valid id"),
                "ids use only lower-case letters, digits and underscores, e.g. \"care_navigation\"",
            );
            None
        }
    }

    /// An exact decimal (a share, a rate, a quantity), any number of decimals; amounts of
    /// money use [`Fields::money`]. Negative values are refused unless `allow_negative`.
    pub fn decimal(&self, key: &str, allow_negative: bool, d: &mut Collector) -> Option<Decimal> {
        let node = self.node(key)?;
        decimal(node, &self.key_path(key), allow_negative, d)
    }

    /// An amount of money in pounds: exact, zero or more, in whole pence.
    pub fn money(&self, key: &str, d: &mut Collector) -> Option<Decimal> {
        let node = self.node(key)?;
        money(node, &self.key_path(key), d)
    }

    /// An uncertain value (number or distribution table); `None` when absent or invalid.
    pub fn uncertain(&self, key: &str, d: &mut Collector) -> Option<Dist> {
        let node = self.node(key)?;
        uncertain(node, &self.key_path(key), d)
    }

    /// An uncertain value whose whole support must lie in [lo, hi] (probabilities).
    pub fn bounded(
        &self,
        key: &str,
        lo: f64,
        hi: f64,
        what: &str,
        d: &mut Collector,
    ) -> Option<Dist> {
        let dist = self.uncertain(key, d)?;
        check_support(
            &dist,
            self.span_of(key),
            &self.key_path(key),
            lo,
            hi,
            what,
            d,
        )
    }

    /// An uncertain value that must lie in [lo, hi] except in far tails: its 1-in-a-million
    /// quantiles must be inside, and the model clamps the rare draw beyond. This accepts an
    /// untruncated normal growth of 2.5% +- 1%, as MODEL.md's own example writes it.
    pub fn mostly_within(
        &self,
        key: &str,
        lo: f64,
        hi: f64,
        what: &str,
        d: &mut Collector,
    ) -> Option<Dist> {
        let dist = self.uncertain(key, d)?;
        let (a, b) = effective_support(&dist);
        if a < lo || b > hi {
            let message = if dist.is_fixed() {
                format!(
                    "{what} must lie in [{}, {}], not {}",
                    show(lo),
                    show(hi),
                    show(a)
                )
            } else {
                format!(
                    "{what} must lie in [{}, {}], but this value reaches {} to {} (1-in-a-million tails)",
                    show(lo),
                    show(hi),
                    show(a),
                    show(b)
                )
            };
            d.error(
                self.span_of(key),
                &self.key_path(key),
                message,
                if dist.is_fixed() && hi.is_infinite() {
                    format!("use a value of {} or more", show(lo))
                } else if dist.is_fixed() {
                    format!("use a value from {} to {}", show(lo), show(hi))
                } else {
                    "narrow the distribution, or truncate a normal with min/max".to_string()
                },
            );
            return None;
        }
        Some(dist)
    }

    /// Partner shares `{ nhs = 0.5, council = 0.5 }`, as a vector indexed like `partners`.
    pub fn shares(&self, key: &str, partners: &[String], d: &mut Collector) -> Option<Vec<f64>> {
        let Some(node) = self.node(key) else {
            self.missing(
                key,
                "give shares by partner id, e.g. { nhs = 0.5, council = 0.5 }",
                d,
            );
            return None;
        };
        shares(node, &self.key_path(key), partners, d)
    }
}

/// The path given to the document's root table; keys under it are shown bare.
pub const TOP_LEVEL: &str = "(top level)";

/// "metrics defined: a, b", or a hint to define one when there are none.
pub fn known_metrics_hint(known: &[&str]) -> String {
    if known.is_empty() {
        "no valid [[metric]] is defined; add one with this id".to_string()
    } else {
        format!("metrics defined: {}", known.join(", "))
    }
}

pub fn is_id(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn describe(value: &Value) -> String {
    match value {
        Value::String(s) => format!("the string \"{s}\""),
        Value::Float(_, text) => format!("the number {text}"),
        other => other.type_name().to_string(),
    }
}

/// A finite number.
pub fn number(node: &Node, path: &str, d: &mut Collector) -> Option<f64> {
    match &node.value {
        Value::Integer(n, _) => Some(*n as f64),
        Value::Float(x, text) if x.is_finite() => {
            let _ = text;
            Some(*x)
        }
        Value::Float(_, text) => {
            d.error(
                node.span,
                path,
                format!("{text} is not a finite number"),
                "nan and inf are not allowed; write an ordinary number",
            );
            None
        }
        Value::String(s) if s.trim().parse::<f64>().is_ok() => {
            d.error(
                node.span,
                path,
                format!("expected a number, found the string \"{s}\""),
                format!("remove the quotes: {path} = {}", s.trim()),
            );
            None
        }
        other => {
            d.error(
                node.span,
                path,
                format!("expected a number, found {}", describe(other)),
                "write a number, e.g. 0.85",
            );
            None
        }
    }
}

/// Exact decimal from a string, integer or float as written.
pub fn decimal(
    node: &Node,
    path: &str,
    allow_negative: bool,
    d: &mut Collector,
) -> Option<Decimal> {
    let parsed = match &node.value {
        Value::String(s) => parse_decimal(s.trim()),
        Value::Integer(n, text) => Decimal::from_i128_with_scale(*n, 0)
            .checked_mul(Decimal::ONE)
            .or_else(|| parse_decimal(text)),
        Value::Float(_, text) => parse_decimal(text),
        other => {
            d.error(
                node.span,
                path,
                format!("expected an amount, found {}", describe(other)),
                "write money as a string of digits, e.g. \"120000\" or \"33.35\"",
            );
            return None;
        }
    };
    let Some(value) = parsed else {
        let shown = match &node.value {
            Value::String(s) => format!("\"{s}\""),
            Value::Integer(_, t) | Value::Float(_, t) => t.clone(),
            _ => String::new(),
        };
        d.error(
            node.span,
            path,
            format!("{shown} is not an exact amount"),
            "write digits with an optional decimal point, no commas, currency signs or exponents beyond 28 digits, e.g. \"1200000\"",
        );
        return None;
    };
    if value.is_sign_negative() && !value.is_zero() && !allow_negative {
        d.error(
            node.span,
            path,
            format!("{value} is negative"),
            "amounts here must be zero or more",
        );
        return None;
    }
    Some(value)
}

/// An amount of money in pounds, read exactly by [`decimal`], that must be zero or more
/// and have at most two decimals. A third decimal would be rounded away somewhere
/// downstream (the pot to the penny, a tranche amount, a scheme's cost), so a figure that
/// was never in the file would be reported; it is refused instead. Trailing zeros
/// (`"50000.000"`) are whole pence and pass. Rates (£ per hour, £ per unit) are not
/// amounts and keep every decimal: see [`Fields::decimal`].
pub fn money(node: &Node, path: &str, d: &mut Collector) -> Option<Decimal> {
    let value = decimal(node, path, false, d)?;
    let (written, quoted) = match &node.value {
        Value::String(s) => (s.trim().replace('_', ""), true),
        Value::Integer(_, t) | Value::Float(_, t) => (t.replace('_', ""), false),
        _ => (String::new(), false),
    };
    if fraction_digits(&written, value) <= 2 {
        return Some(value);
    }
    let shown = if quoted {
        format!("\"{written}\"")
    } else {
        written
    };
    d.error(
        node.span,
        path,
        format!("{shown} has more than two decimals"),
        format!(
            "amounts are in pounds with at most two decimals (pence): write the amount to the penny, e.g. \"{}\"",
            value.round_dp(2)
        ),
    );
    None
}

/// Decimals an amount really has: from the text as written (so digits that a long string
/// lost in parsing still count), trailing zeros aside; from the value for an exponent.
fn fraction_digits(written: &str, value: Decimal) -> u32 {
    if written.contains(['e', 'E']) {
        return value.normalize().scale();
    }
    written.split_once('.').map_or(0, |(_, fraction)| {
        fraction.trim_end_matches('0').len() as u32
    })
}

fn parse_decimal(text: &str) -> Option<Decimal> {
    let cleaned = text.replace('_', "");
    if cleaned.is_empty() || cleaned.contains(['n', 'i', 'N', 'I']) {
        return None;
    }
    if cleaned.contains(['e', 'E']) {
        return Decimal::from_scientific(&cleaned).ok();
    }
    Decimal::from_str_exact(&cleaned)
        .or_else(|_| Decimal::from_str(&cleaned))
        .ok()
}

const SCALAR_DIST_KEYS: &[&str] = &[
    "min", "mode", "max", "lambda", "mean", "sd", "p10", "p90", "p",
];

/// A number, or a table `{ dist = "...", ... }`.
pub fn uncertain(node: &Node, path: &str, d: &mut Collector) -> Option<Dist> {
    match &node.value {
        Value::Integer(..) | Value::Float(..) => number(node, path, d).map(Dist::Fixed),
        Value::Table(table) => {
            let Some(kind_node) = table.get("dist") else {
                d.error(
                    node.span,
                    path,
                    "a distribution table needs a `dist` key",
                    format!("e.g. {{ dist = \"pert\", min = 0, mode = 0.01, max = 0.03 }}; dist is one of {}", dist::DIST_NAMES.join(", ")),
                );
                return None;
            };
            let Value::String(kind) = &kind_node.value else {
                d.error(
                    kind_node.span,
                    &format!("{path}.dist"),
                    "`dist` must be a string",
                    "e.g. dist = \"normal\"",
                );
                return None;
            };
            let Some(allowed) = dist::allowed_keys(kind) else {
                let hint = match closest(kind, dist::DIST_NAMES) {
                    Some(near) => format!(
                        "did you mean \"{near}\"? Known: {}",
                        dist::DIST_NAMES.join(", ")
                    ),
                    None => format!("known distributions: {}", dist::DIST_NAMES.join(", ")),
                };
                d.error(
                    kind_node.span,
                    &format!("{path}.dist"),
                    format!("unknown distribution \"{kind}\""),
                    hint,
                );
                return None;
            };
            let before = d.error_count();
            let mut allowed_with_dist: Vec<&str> = vec!["dist"];
            allowed_with_dist.extend_from_slice(allowed);
            let mut foreign = Vec::new();
            // A key of another distribution (`mode` on a uniform) is said once, at the key,
            // in the distribution's words; Fields says the rest (misspellings, with "did
            // you mean"); either stops the read before `Dist::build` says it again.
            for entry in &table.entries {
                if let Some(e) = dist::foreign_key(kind, &entry.key) {
                    let key = format!("{path}.{}", e.key);
                    d.unknown_key(entry.key_span, &key, e.message, e.hint);
                    foreign.push(e.key);
                }
            }
            let fields = Fields::new_except(node, path, &allowed_with_dist, &foreign, d)?;
            let mut keys = DistKeys::default();
            for key in SCALAR_DIST_KEYS {
                let value = fields.number(key, d);
                match *key {
                    "min" => keys.min = value,
                    "mode" => keys.mode = value,
                    "max" => keys.max = value,
                    "lambda" => keys.lambda = value,
                    "mean" => keys.mean = value,
                    "sd" => keys.sd = value,
                    "p10" => keys.p10 = value,
                    "p90" => keys.p90 = value,
                    _ => keys.p = value,
                }
            }
            keys.values = fields
                .node("values")
                .and_then(|n| number_list(n, &format!("{path}.values"), d));
            keys.weights = fields
                .node("weights")
                .and_then(|n| number_list(n, &format!("{path}.weights"), d));
            if let Some(of) = fields.node("of") {
                keys.of = factor_list(of, &format!("{path}.of"), d);
            }
            if d.error_count() > before {
                return None;
            }
            match Dist::build(kind, &keys) {
                Ok(dist) => Some(dist),
                Err(errors) => {
                    for e in errors {
                        let span = if e.key == "dist" {
                            kind_node.span
                        } else {
                            fields.span_of(e.key)
                        };
                        let key = if e.key.is_empty() {
                            path.to_string()
                        } else {
                            format!("{path}.{}", e.key)
                        };
                        d.error(span, &key, e.message, e.hint);
                    }
                    None
                }
            }
        }
        other => {
            d.error(
                node.span,
                path,
                format!("expected a number or a distribution, found {}", describe(other)),
                "write a number (0.85) or a table such as { dist = \"pert\", min = 0.7, mode = 0.85, max = 0.95 }",
            );
            None
        }
    }
}

fn number_list(node: &Node, path: &str, d: &mut Collector) -> Option<Vec<f64>> {
    let Value::Array(items) = &node.value else {
        d.error(
            node.span,
            path,
            format!(
                "expected an array of numbers, found {}",
                describe(&node.value)
            ),
            "e.g. [0.1, 0.2, 0.7]",
        );
        return None;
    };
    let values: Vec<Option<f64>> = items
        .iter()
        .enumerate()
        .map(|(i, n)| number(n, &format!("{path}[{i}]"), d))
        .collect();
    values.into_iter().collect()
}

fn factor_list(node: &Node, path: &str, d: &mut Collector) -> Option<Vec<Dist>> {
    let Value::Array(items) = &node.value else {
        d.error(
            node.span,
            path,
            "expected an array of factors",
            "e.g. of = [{ dist = \"uniform\", min = 400, max = 600 }, 52]",
        );
        return None;
    };
    let factors: Vec<Option<Dist>> = items
        .iter()
        .enumerate()
        .map(|(i, n)| uncertain(n, &format!("{path}.{i}"), d))
        .collect();
    factors.into_iter().collect()
}

/// Reports when a distribution can leave [lo, hi].
pub fn check_support(
    dist: &Dist,
    span: Span,
    path: &str,
    lo: f64,
    hi: f64,
    what: &str,
    d: &mut Collector,
) -> Option<Dist> {
    let (a, b) = dist.support();
    if a < lo || b > hi {
        let (lo, hi) = (show(lo), show(hi));
        d.error(
            span,
            path,
            if dist.is_fixed() {
                format!("{what} must lie in [{lo}, {hi}], but this value is {}", show(a))
            } else {
                format!("{what} must lie in [{lo}, {hi}], but this value can be {} to {}", show(a), show(b))
            },
            if dist.is_fixed() {
                format!("use a value from {lo} to {hi}")
            } else {
                format!("use a distribution bounded to [{lo}, {hi}] (uniform, triangular, pert, beta, or a normal with min/max)")
            },
        );
        return None;
    }
    Some(dist.clone())
}

/// How to name a partner: `lead` and the partners' ids, or, when the file defines none,
/// that there are none and how to add them (rather than "one of: " and nothing).
pub fn partners_hint(partners: &[String], lead: &str) -> String {
    if partners.is_empty() {
        "no partners are defined: add them under [partners], e.g. nhs = { label = \"CCG\" } and council = { label = \"Council\" }".into()
    } else {
        format!("{lead}{}", partners.join(", "))
    }
}

/// `{ partner = share, ... }` summing to 1 within 1e-9.
pub fn shares(node: &Node, path: &str, partners: &[String], d: &mut Collector) -> Option<Vec<f64>> {
    if partners.is_empty()
        && let Value::Table(table) = &node.value
    {
        // Each share names a partner the file lacks: the hint says to add partners, not
        // that the table allows no keys.
        for entry in &table.entries {
            d.unknown_key(
                entry.key_span,
                &format!("{path}.{}", entry.key),
                format!("unknown key `{}`", entry.key),
                partners_hint(partners, ""),
            );
        }
        return None;
    }
    let allowed: Vec<&str> = partners.iter().map(String::as_str).collect();
    let fields = Fields::new(node, path, &allowed, d)?;
    let mut out = vec![0.0; partners.len()];
    let mut ok = true;
    for (i, partner) in partners.iter().enumerate() {
        if let Some(n) = fields.node(partner) {
            match number(n, &format!("{path}.{partner}"), d) {
                Some(x) if (0.0..=1.0).contains(&x) => out[i] = x,
                Some(x) => {
                    d.error(
                        n.span,
                        &format!("{path}.{partner}"),
                        format!("share {} is outside [0, 1]", show(x)),
                        "shares are fractions that sum to 1",
                    );
                    ok = false;
                }
                None => ok = false,
            }
        }
    }
    if fields
        .table
        .entries
        .iter()
        .any(|e| !allowed.contains(&e.key.as_str()))
    {
        return None;
    }
    if !ok {
        return None;
    }
    let total: f64 = out.iter().sum();
    if (total - 1.0).abs() > 1e-9 {
        d.error(
            node.span,
            path,
            format!("shares sum to {}, not 1", show(total)),
            "make the shares add up to exactly 1 (e.g. 0.5 and 0.5)",
        );
        return None;
    }
    Some(out)
}

/// The path of the `index`th entry of `[[list]]`: `list.<id>` when the entry has a valid
/// `key` id, else `list[index]`.
pub fn entry_path(node: &Node, list: &str, key: &str, index: usize) -> String {
    if let Value::Table(table) = &node.value
        && let Some(Node {
            value: Value::String(id),
            ..
        }) = table.get(key)
        && is_id(id)
    {
        return format!("{list}.{id}");
    }
    format!("{list}[{index}]")
}

/// Support bounds, with unbounded tails cut at the 1e-6 and 1 - 1e-6 quantiles.
pub fn effective_support(dist: &Dist) -> (f64, f64) {
    let (a, b) = dist.support();
    if a.is_finite() && b.is_finite() {
        return (a, b);
    }
    let q = dist.compile();
    let n = q.uniforms();
    let low = q.value(&vec![1e-6; n]);
    let high = q.value(&vec![1.0 - 1e-6; n]);
    (
        if a.is_finite() { a } else { low.min(high) },
        if b.is_finite() { b } else { high.max(low) },
    )
}
