//! From the spanned tree to a validated `Scenario`: the top level, `[scenario]`,
//! `[partners]` and `[fund]`, and the checks that span sections (tranche shares, windows,
//! correlation matrix). Sections with more to them have their own files.
use super::fields::{Fields, is_id};
use super::read_lists::{read_correlations, read_risks};
use super::read_metric::read_metric;
use super::read_scheme::read_scheme;
use super::read_tranche::read_tranche;
use super::tree::{Node, Value};
use super::types::*;
use crate::diagnostic::{Collector, Span};
use rust_decimal::Decimal;
use std::collections::HashSet;

/// Largest pot (pounds) for which every tranche amount in pence is exact in f64 arithmetic.
pub const MAX_POT_POUNDS: i64 = 10_000_000_000_000;

const TOP_KEYS: &[&str] = &[
    "scenario",
    "partners",
    "metric",
    "scheme",
    "fund",
    "tranche",
    "correlation",
    "risk",
];
const SCENARIO_KEYS: &[&str] = &[
    "name",
    "area",
    "start",
    "months",
    "trials",
    "seed",
    "population_65",
];

/// What the section readers need to know about the rest of the file.
pub struct Context {
    pub partners: Vec<String>,
    /// Valid metrics: id, kind and baseline (conditions check targets against it).
    pub metrics: Vec<(String, MetricKind, f64)>,
    /// First month index and horizon length.
    pub start: i64,
    pub months: usize,
    /// Metrics that exist in the file but failed validation: references to them are not
    /// reported again as unknown (the metric's own errors say what is wrong).
    pub invalid_metrics: HashSet<String>,
}

impl Context {
    pub fn partner(&self, id: &str) -> Option<usize> {
        self.partners.iter().position(|p| p == id)
    }

    pub fn metric(&self, id: &str) -> Option<usize> {
        self.metrics.iter().position(|m| m.0 == id)
    }
}

/// Reads and validates the whole document. Returns `None` when any error was reported.
pub fn read_scenario(root: &Node, d: &mut Collector) -> Option<Scenario> {
    let top = Fields::new(root, super::fields::TOP_LEVEL, TOP_KEYS, d)?;
    let section = Fields::new;

    // [scenario]
    let mut name = None;
    let mut area = None;
    let mut start = None;
    let mut months = None;
    let mut trials = 100_000u64;
    let mut seed = 0u64;
    let mut population_65 = None;
    match top.node("scenario") {
        None => top.missing(
            "scenario",
            "add a [scenario] section with name, start and months",
            d,
        ),
        Some(node) => {
            if let Some(s) = section(node, "scenario", SCENARIO_KEYS, d) {
                name = s.req_string("name", "give the scenario a name", d);
                area = s.string("area", d);
                start = match s.req_string(
                    "start",
                    "first simulated month, e.g. start = \"2014-04\"",
                    d,
                ) {
                    Some(text) => parse_month(&text, s.span_of("start"), "scenario.start", d),
                    None => None,
                };
                if s.has("months") {
                    months = s.integer("months", 1, 1200, d).map(|m| m as usize);
                } else {
                    s.missing("months", "the horizon in months, e.g. months = 24", d);
                }
                if s.has("trials") {
                    trials = s
                        .integer("trials", 1, 1_000_000_000_000, d)
                        .unwrap_or(trials as i128) as u64;
                }
                if s.has("seed") {
                    seed = s.integer("seed", 0, u64::MAX as i128, d).unwrap_or(0) as u64;
                }
                if let Some(p) = s.number("population_65", d) {
                    if p > 0.0 {
                        population_65 = Some(p);
                    } else {
                        d.error(
                            s.span_of("population_65"),
                            "scenario.population_65",
                            "population must be positive",
                            "give the 65+ population, e.g. 37000",
                        );
                    }
                }
            }
        }
    }

    // [partners]
    let mut partners = Vec::new();
    match top.node("partners") {
        None => top.missing(
            "partners",
            "add [partners] with at least two, e.g. nhs = { label = \"CCG\" }",
            d,
        ),
        Some(node) => {
            if let Value::Table(table) = &node.value {
                for entry in &table.entries {
                    let path = format!("partners.{}", entry.key);
                    if !is_id(&entry.key) {
                        d.error(
                            entry.key_span,
                            &path,
                            format!("`{}` is not a valid id", entry.key),
                            "ids use only lower-case letters, digits and underscores",
                        );
                        continue;
                    }
                    let label = match Fields::new(&entry.node, &path, &["label"], d) {
                        Some(f) => f.string("label", d).unwrap_or_else(|| entry.key.clone()),
                        // Already reported; keep the id so references to it do not cascade.
                        None => entry.key.clone(),
                    };
                    partners.push(Partner {
                        id: entry.key.clone(),
                        label,
                    });
                }
                if table.entries.len() < 2 {
                    d.error(
                        node.span,
                        "partners",
                        "a plan needs at least two partners",
                        "e.g. nhs = { label = \"CCG\" } and council = { label = \"Council\" }",
                    );
                }
            } else {
                d.error(
                    node.span,
                    "partners",
                    "expected a table of partners",
                    "write [partners] then one line per partner",
                );
            }
        }
    }

    let (Some(start_month), Some(horizon)) = (start, months) else {
        return None;
    };
    let partner_ids: Vec<String> = partners.iter().map(|p| p.id.clone()).collect();
    let mut ctx = Context {
        partners: partner_ids,
        metrics: Vec::new(),
        start: start_month,
        months: horizon,
        invalid_metrics: HashSet::new(),
    };

    let mut warnings = Vec::new();
    // [[metric]]: read kinds first so other sections can resolve references.
    let metric_nodes = array_of_tables(&top, "metric", d);
    let mut metrics = Vec::new();
    let mut seen = HashSet::new();
    for (i, node) in metric_nodes.iter().enumerate() {
        let Some(metric) = read_metric(node, i, &ctx, d, &mut warnings) else {
            if let Some(id) =
                super::fields::entry_path(node, "metric", "id", i).strip_prefix("metric.")
            {
                ctx.invalid_metrics.insert(id.to_string());
            }
            continue;
        };
        {
            if !seen.insert(metric.id.clone()) {
                d.error(
                    node.span,
                    &format!("metric.{}.id", metric.id),
                    format!("duplicate metric id `{}`", metric.id),
                    "give every metric its own id",
                );
                continue;
            }
            metrics.push(metric);
        }
    }
    ctx.metrics = metrics
        .iter()
        .map(|m| (m.id.clone(), m.kind, m.baseline))
        .collect();

    let mut schemes = Vec::new();
    let mut seen = HashSet::new();
    for (i, node) in array_of_tables(&top, "scheme", d).iter().enumerate() {
        if let Some(scheme) = read_scheme(node, i, &ctx, d, &mut warnings) {
            if !seen.insert(scheme.id.clone()) {
                d.error(
                    node.span,
                    &format!("scheme.{}.id", scheme.id),
                    format!("duplicate scheme id `{}`", scheme.id),
                    "give every scheme its own id",
                );
                continue;
            }
            schemes.push(scheme);
        }
    }

    // [fund]
    let mut fund = None;
    match top.node("fund") {
        None => top.missing(
            "fund",
            "add [fund] with pot, released_to and unreleased_to",
            d,
        ),
        Some(node) => {
            if let Some(f) = Fields::new(node, "fund", &["pot", "released_to", "unreleased_to"], d)
            {
                let pot = if f.has("pot") {
                    f.money("pot", d)
                } else {
                    f.missing(
                        "pot",
                        "the performance-linked money at stake, e.g. pot = \"1200000\"",
                        d,
                    );
                    None
                };
                if let Some(p) = pot {
                    if p.is_zero() {
                        d.error(
                            f.span_of("pot"),
                            "fund.pot",
                            "the pot is zero",
                            "give the performance-linked amount at stake (more than 0)",
                        );
                    } else if p > Decimal::from(MAX_POT_POUNDS) {
                        d.error(f.span_of("pot"), "fund.pot", format!("pot £{p} is too large to simulate exactly"), "pots up to £10,000,000,000,000 (10^13) are paid to the penny; use a smaller unit or split the fund");
                    }
                }
                let released = f.shares("released_to", &ctx.partners, d);
                let unreleased = f.shares("unreleased_to", &ctx.partners, d);
                if let (Some(pot), Some(released_to), Some(unreleased_to)) =
                    (pot, released, unreleased)
                {
                    fund = Some(Fund {
                        pot,
                        released_to,
                        unreleased_to,
                    });
                }
            }
        }
    }

    // [[tranche]]
    let tranche_nodes = array_of_tables(&top, "tranche", d);
    if tranche_nodes.is_empty() && top.node("tranche").is_none() {
        top.missing(
            "tranche",
            "add at least one [[tranche]] with a share and conditions",
            d,
        );
    }
    let mut tranches = Vec::new();
    let mut seen = HashSet::new();
    for (i, node) in tranche_nodes.iter().enumerate() {
        if let Some(tranche) = read_tranche(node, i, &ctx, d) {
            if !seen.insert(tranche.id.clone()) {
                d.error(
                    node.span,
                    &format!("tranche.{}.id", tranche.id),
                    format!("duplicate tranche id `{}`", tranche.id),
                    "give every tranche its own id",
                );
                continue;
            }
            tranches.push(tranche);
        }
    }
    if !tranches.is_empty() && tranches.len() == tranche_nodes.len() {
        let total: Decimal = tranches.iter().map(|t| t.share).sum();
        if total != Decimal::ONE {
            let span = top.span_of("tranche");
            d.error(span, "tranche.*.share", format!("tranche shares sum to {total}, not exactly 1"), "shares are exact decimals; make them add up to 1 (e.g. \"0.25\" + \"0.25\" + \"0.5\")");
        }
    }

    let risks = read_risks(&top, &ctx, d);
    let mut scenario = Scenario {
        name: name.unwrap_or_default(),
        area,
        start: start_month,
        months: horizon,
        trials,
        seed,
        population_65,
        partners,
        metrics,
        schemes,
        fund: fund.unwrap_or(Fund {
            pot: Decimal::ZERO,
            released_to: vec![],
            unreleased_to: vec![],
        }),
        tranches,
        correlations: Vec::new(),
        risks,
        warnings: Vec::new(),
        origin: Default::default(),
    };
    scenario.correlations = read_correlations(&top, &scenario, d, &mut warnings);
    scenario.warnings = warnings;
    if d.has_errors() { None } else { Some(scenario) }
}

/// The nodes of `[[key]]`, reporting a non-array.
pub fn array_of_tables<'a>(top: &Fields<'a>, key: &str, d: &mut Collector) -> Vec<&'a Node> {
    match top.node(key) {
        None => Vec::new(),
        Some(node) => match &node.value {
            Value::Array(items) => items.iter().collect(),
            other => {
                d.error(
                    node.span,
                    key,
                    format!(
                        "expected a list of [[{key}]] tables, found {}",
                        other.type_name()
                    ),
                    format!("write each entry under its own [[{key}]] header"),
                );
                Vec::new()
            }
        },
    }
}

/// Parses "YYYY-MM" into year*12 + month-1.
pub fn parse_month(text: &str, span: Span, path: &str, d: &mut Collector) -> Option<i64> {
    let parsed = text.split_once('-').and_then(|(y, m)| {
        if y.len() != 4 || m.len() != 2 {
            return None;
        }
        let year: i64 = y.parse().ok()?;
        let month: i64 = m.parse().ok()?;
        (1..=12).contains(&month).then_some(year * 12 + month - 1)
    });
    if parsed.is_none() {
        d.error(
            span,
            path,
            format!("\"{text}\" is not a month"),
            "write months as \"YYYY-MM\", e.g. \"2015-04\"",
        );
    }
    parsed
}
