//! The validated scenario: what the engine accepts.
//!
//! Everything here has passed validation: ids are unique and resolved to indices, shares
//! sum to one, windows lie inside the horizon, money is exact `Decimal`. Uncertain values
//! are `Dist`s (a fixed number is `Dist::Fixed`). Each uncertain value keeps its path
//! (`scheme.reablement.effect.nea`), which names its random stream and is how `--set`,
//! correlations and reports refer to it.
use crate::diagnostic::Diagnostic;
use crate::dist::Dist;
use rust_decimal::Decimal;

/// An uncertain value and its path.
#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    pub path: String,
    pub dist: Dist,
}

impl Param {
    pub fn fixed(path: impl Into<String>, value: f64) -> Param {
        Param {
            path: path.into(),
            dist: Dist::Fixed(value),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Scenario {
    pub name: String,
    pub area: Option<String>,
    /// First simulated month as year*12 + (month-1).
    pub start: i64,
    pub months: usize,
    pub trials: u64,
    pub seed: u64,
    pub population_65: Option<f64>,
    pub partners: Vec<Partner>,
    pub metrics: Vec<Metric>,
    pub schemes: Vec<Scheme>,
    pub fund: Fund,
    pub tranches: Vec<Tranche>,
    pub correlations: Vec<Correlation>,
    pub risks: Vec<Risk>,
    /// Non-fatal findings (reconciliation of stated figures, ineffective correlations).
    pub warnings: Vec<Diagnostic>,
    /// Where the values were written, to locate problems found after reading.
    pub origin: super::Origin,
}

#[derive(Clone, Debug)]
pub struct Partner {
    pub id: String,
    pub label: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetricKind {
    Count,
    Proportion,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Noise {
    Poisson,
    NegativeBinomial { dispersion: f64 },
}

#[derive(Clone, Debug)]
pub struct Metric {
    pub id: String,
    pub label: String,
    pub kind: MetricKind,
    /// Historic annual level (count) or proportion.
    pub baseline: f64,
    pub level: Param,
    /// Count metrics only (fixed 0 for proportions).
    pub growth: Param,
    /// Apr..Mar factors, mean 1.
    pub seasonality: [f64; 12],
    pub noise: Noise,
    /// Proportion metrics: people per year in the denominator.
    pub cohort: f64,
    pub unit_cost: Param,
    /// Partner index of who saves when activity is avoided.
    pub payer: Option<usize>,
}

#[derive(Clone, Debug)]
pub struct CostLine {
    pub item: String,
    pub year: Option<String>,
    /// Exact amount: the `amount`, or rate x quantity.
    pub amount: Decimal,
    pub stated: Option<Decimal>,
    /// Shares of this line by partner index (the line's own `funder`, else the scheme's).
    pub funder: Vec<f64>,
}

#[derive(Clone, Debug)]
pub struct Effect {
    pub metric: usize,
    pub change: Param,
}

#[derive(Clone, Debug)]
pub struct Scheme {
    pub id: String,
    pub label: String,
    pub category: String,
    /// Share of cost per partner index, summing to 1.
    pub funder: Vec<f64>,
    pub start_month: usize,
    pub ramp_months: usize,
    /// Month (from the scenario start) from which the scheme has no effect: funding ended.
    pub end_month: Option<usize>,
    pub delivery: Param,
    pub cost_if_undelivered: f64,
    pub cost_overrun: Param,
    pub scale: Param,
    pub returns: Param,
    pub costs: Vec<CostLine>,
    pub effects: Vec<Effect>,
}

impl Scheme {
    /// Exact sum of the budget lines (a rate x quantity line can have more than two
    /// decimals). This is the one place a scheme's cost is rounded from: the model and the
    /// results convert it to whole pence, half-even, with `money::pounds_to_pence`.
    pub fn cost(&self) -> Decimal {
        self.costs.iter().map(|c| c.amount).sum()
    }

    /// Each partner's share of the exact cost, weighting lines by their own funders.
    pub fn funder_shares(&self, partners: usize) -> Vec<f64> {
        let total = self.cost();
        if total.is_zero() || self.costs.is_empty() {
            return self.funder.clone();
        }
        let mut shares = vec![0.0; partners];
        for line in &self.costs {
            let weight =
                rust_decimal::prelude::ToPrimitive::to_f64(&(line.amount / total)).unwrap_or(0.0);
            for (share, f) in shares.iter_mut().zip(&line.funder) {
                *share += weight * f;
            }
        }
        shares
    }

    /// Sum using the stated figure where a line has one.
    pub fn cost_stated(&self) -> Decimal {
        self.costs
            .iter()
            .map(|c| c.stated.unwrap_or(c.amount))
            .sum()
    }
}

#[derive(Clone, Debug)]
pub struct Fund {
    pub pot: Decimal,
    pub released_to: Vec<f64>,
    pub unreleased_to: Vec<f64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gate {
    Weighted,
    All,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Rule {
    AllOrNothing,
    Proportional {
        floor: f64,
    },
    /// (achievement ratio threshold, fraction paid), ascending thresholds.
    Banded {
        bands: Vec<(f64, f64)>,
    },
    /// Pounds per unit of improvement.
    PerUnit {
        rate: Decimal,
    },
}

impl Rule {
    pub fn name(&self) -> &'static str {
        match self {
            Rule::AllOrNothing => "all_or_nothing",
            Rule::Proportional { .. } => "proportional",
            Rule::Banded { .. } => "banded",
            Rule::PerUnit { .. } => "per_unit",
        }
    }
}

#[derive(Clone, Debug)]
pub enum ConditionKind {
    Metric {
        metric: usize,
        /// None only for per_unit without a target.
        target: Option<Param>,
        rule: Rule,
    },
    Event {
        id: String,
        label: String,
        probability: Param,
    },
}

#[derive(Clone, Debug)]
pub struct Condition {
    pub kind: ConditionKind,
    pub weight: f64,
}

#[derive(Clone, Debug)]
pub struct Tranche {
    pub id: String,
    pub label: String,
    pub share: Decimal,
    /// Inclusive month indices from the scenario start; None when every condition is an event.
    pub window: Option<(usize, usize)>,
    pub gate: Gate,
    pub conditions: Vec<Condition>,
}

#[derive(Clone, Debug)]
pub struct Correlation {
    pub between: [String; 2],
    pub rank: f64,
}

#[derive(Clone, Debug)]
pub struct Risk {
    pub id: String,
    pub label: String,
    pub partner: usize,
    pub probability: Param,
    pub impact: Param,
}

/// Formats a month index (year*12 + month-1) as YYYY-MM.
pub fn format_month(index: i64) -> String {
    format!(
        "{:04}-{:02}",
        index.div_euclid(12),
        index.rem_euclid(12) + 1
    )
}
