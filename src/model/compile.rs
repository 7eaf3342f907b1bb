//! Scenario -> Model: everything that does not change between trials, computed once.
//!
//! `compile` builds the model; `check` makes the same checks without tabulating any
//! sampler, and is what `scenario::load` runs, so a scenario that loads (and that
//! `validate` accepts) compiles. A `CompileError` names the key to fix and carries where
//! that key was written (from the scenario's `Origin`), shown as `file:line:col`.
use super::split::Split;
use crate::correlation::Copula;
use crate::diagnostic::{Diagnostic, Location, Severity};
use crate::dist::{Dist, GammaUnit, Quantile};
use crate::money::pounds_to_pence;
use crate::rng::{path_key, stream_key};
use crate::scenario::*;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

/// One uncertain value: where its uniforms come from and how they become a value.
#[derive(Clone, Debug)]
pub struct ParamModel {
    pub path: String,
    pub key: u64,
    pub quantile: Quantile,
    /// Some for fixed values (no draw).
    pub fixed: Option<f64>,
    /// Offset of its uniforms in the trial's uniform buffer, and how many.
    pub offset: usize,
    pub uniforms: usize,
}

/// A yes/no outcome with a probability parameter (delivery, events, risks).
#[derive(Clone, Debug)]
pub struct OutcomeModel {
    pub path: String,
    pub key: u64,
    pub probability: usize,
}

/// Which uniform a copula dimension drives.
#[derive(Clone, Copy, Debug)]
pub enum Slot {
    Param(usize),
    Outcome(usize),
}

#[derive(Clone, Debug)]
pub struct Segment {
    pub from: usize,
    pub to: usize,
    pub key: u64,
    /// Only segments inside some window are observed.
    pub observed: bool,
    /// Proportion metrics: people in the segment, and the cohort per month summed.
    pub people: u64,
    pub cohort_sum: f64,
}

#[derive(Clone, Debug)]
pub struct MetricModel {
    pub id: String,
    pub kind: MetricKind,
    pub baseline: f64,
    /// Count: baseline/12 x seasonal factor, per month. Proportion: cohort/12 x factor.
    pub month_base: Vec<f64>,
    pub level: usize,
    pub growth: usize,
    pub unit_cost: usize,
    pub payer: Option<usize>,
    pub gamma: Option<(f64, GammaUnit)>,
    pub segments: Vec<Segment>,
    /// (scheme, change parameter) for every scheme effect on this metric.
    pub effects: Vec<(usize, usize)>,
    /// The months cut into runs over which no effect's ramp changes, none crossing a
    /// segment; in month order, covering every month once.
    pub blocks: Vec<RampBlock>,
    /// Each block's ramp per effect (in effect order), block after block: what the
    /// trial multiplies the full effects by, laid out contiguously.
    pub block_ramps: Vec<f64>,
    /// Each block's `month_base` summed in month order (`Iterator::sum`): a proportion
    /// metric's people in the block.
    pub block_people: Vec<f64>,
}

impl MetricModel {
    /// Block `b`'s ramp per effect, in effect order.
    #[inline]
    pub fn ramps_of_block(&self, b: usize) -> &[f64] {
        let n = self.effects.len();
        &self.block_ramps[b * n..(b + 1) * n]
    }
}

/// Months `from..=to` of segment `segment` over which every effect of the metric has the
/// same ramp: the combined effect and its attribution are the same in each of them, so a
/// trial works them out once per block and applies them to the block's summed activity.
#[derive(Clone, Debug, PartialEq)]
pub struct RampBlock {
    pub segment: usize,
    pub from: usize,
    pub to: usize,
    /// Some effect's ramp differs from the previous block's (always true for the first).
    pub new_ramps: bool,
}

/// Cuts a metric's months into [`RampBlock`]s: a new block starts at every segment start
/// and at every month where some effect's ramp differs from the month before.
pub(crate) fn ramp_blocks(
    segments: &[Segment],
    effects: &[(usize, usize)],
    schemes: &[SchemeModel],
) -> Vec<RampBlock> {
    let same_ramps = |a: usize, b: usize| {
        effects
            .iter()
            .all(|&(s, _)| schemes[s].ramp[a] == schemes[s].ramp[b])
    };
    let mut blocks: Vec<RampBlock> = Vec::new();
    for (si, seg) in segments.iter().enumerate() {
        for month in seg.from..=seg.to {
            let ramps_change = month == 0 || !same_ramps(month, month - 1);
            match blocks.last_mut() {
                Some(last) if last.segment == si && !ramps_change => last.to = month,
                _ => blocks.push(RampBlock {
                    segment: si,
                    from: month,
                    to: month,
                    new_ramps: ramps_change,
                }),
            }
        }
    }
    blocks
}

#[derive(Clone, Debug)]
pub struct SchemeModel {
    pub id: String,
    pub cost_pence: i64,
    /// Partners' shares of the spend.
    pub funder: Split,
    pub delivery: usize,
    pub cost_overrun: usize,
    pub scale: usize,
    pub returns: usize,
    pub cost_if_undelivered: f64,
    /// Ramp factor per month in [0, 1].
    pub ramp: Vec<f64>,
}

/// A (metric, tranche) measurement window and its segment range.
#[derive(Clone, Debug)]
pub struct WindowModel {
    pub metric: usize,
    /// The metric's kind.
    pub kind: MetricKind,
    pub tranche: usize,
    pub from: usize,
    pub to: usize,
    pub segments: std::ops::Range<usize>,
    /// Count: B_W. Proportion: the baseline proportion.
    pub baseline: f64,
    /// Proportion: people observed in the window.
    pub people: u64,
}

#[derive(Clone, Debug)]
pub enum CondModel {
    Metric {
        window: usize,
        target: Option<usize>,
        rule: Rule,
        rate_pence: f64,
    },
    Event {
        outcome: usize,
    },
}

#[derive(Clone, Debug)]
pub struct TrancheModel {
    pub amount: i64,
    pub gate: Gate,
    pub conditions: Vec<(CondModel, f64)>,
    /// Per condition: the pence it pays at fraction 1 (what a met event pays).
    pub met_pence: Vec<i64>,
}

#[derive(Clone, Debug)]
pub struct RiskModel {
    pub partner: usize,
    pub occurs: usize,
    pub impact: usize,
}

/// Everything the per-trial function needs.
#[derive(Clone, Debug)]
pub struct Model {
    pub scenario: Scenario,
    pub seed: u64,
    pub months: usize,
    pub params: Vec<ParamModel>,
    pub uniforms: usize,
    /// The stream key and uniform offset of each parameter that draws one uniform, and
    /// the key and uniforms of each that draws several (a product), each in parameter
    /// order: what a trial draws first (fixed parameters draw nothing).
    pub streams: Vec<(u64, usize)>,
    pub multi_streams: Vec<(u64, std::ops::Range<usize>)>,
    pub outcomes: Vec<OutcomeModel>,
    pub copula: Option<(Copula, Vec<Slot>)>,
    pub metrics: Vec<MetricModel>,
    pub schemes: Vec<SchemeModel>,
    pub windows: Vec<WindowModel>,
    pub tranches: Vec<TrancheModel>,
    pub risks: Vec<RiskModel>,
    pub partners: usize,
    pub pot: i64,
    /// The fund's `released_to` and `unreleased_to` shares.
    pub released: Split,
    pub unreleased: Split,
    /// Number of conditions over all tranches (flattened in order).
    pub conditions: usize,
    /// Sampling plan (plain Monte Carlo unless set: LHS, held values, donor uniforms).
    pub sampler: crate::sampling::Sampler,
}

/// Why a valid scenario still cannot be simulated.
#[derive(Debug)]
pub struct CompileError {
    pub key: String,
    pub message: String,
    pub hint: String,
    /// Where `key` was written; None when the scenario was not read from text.
    pub location: Option<Location>,
}

impl CompileError {
    fn new(key: String, message: String, hint: &str) -> CompileError {
        CompileError {
            key,
            message,
            hint: hint.to_string(),
            location: None,
        }
    }

    /// The error as a located diagnostic, when its key's place is known.
    pub fn diagnostic(&self) -> Option<Diagnostic> {
        Some(Diagnostic {
            severity: Severity::Error,
            location: self.location.clone()?,
            key: self.key.clone(),
            message: self.message.clone(),
            hint: self.hint.clone(),
        })
    }
}

impl std::fmt::Display for CompileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.diagnostic() {
            Some(located) => located.fmt(f),
            None => write!(f, "`{}`: {}\n  hint: {}", self.key, self.message, self.hint),
        }
    }
}

impl std::error::Error for CompileError {}

struct Builder {
    seed: u64,
    /// Every parameter in the order of first use; compiled together by `finish`.
    params: Vec<Param>,
    outcomes: Vec<OutcomeModel>,
}

impl Builder {
    fn param(&mut self, p: &Param) -> usize {
        self.params.push(p.clone());
        self.params.len() - 1
    }

    /// Compiles every parameter's sampler, in parallel (tabulating a PERT, beta or gamma
    /// quantile takes about a millisecond; Ealing has 17), and lays out their uniforms in
    /// parameter order. The samplers are the same on any number of threads.
    fn finish(params: Vec<Param>, seed: u64) -> (Vec<ParamModel>, usize) {
        use rayon::prelude::*;
        let quantiles: Vec<_> = params.par_iter().map(|p| p.dist.compile()).collect();
        let mut offset = 0;
        let models = params
            .into_iter()
            .zip(quantiles)
            .map(|(p, quantile)| {
                let fixed = match p.dist {
                    Dist::Fixed(v) => Some(v),
                    _ => None,
                };
                let uniforms = if fixed.is_some() {
                    0
                } else {
                    quantile.uniforms()
                };
                let model = ParamModel {
                    key: stream_key(seed, path_key(&p.path)),
                    path: p.path,
                    quantile,
                    fixed,
                    offset,
                    uniforms,
                };
                offset += uniforms;
                model
            })
            .collect();
        (models, offset)
    }

    fn outcome(&mut self, p: &Param) -> usize {
        let probability = self.param(p);
        self.outcomes.push(OutcomeModel {
            path: format!("{}#outcome", p.path),
            key: stream_key(self.seed, path_key(&format!("{}#outcome", p.path))),
            probability,
        });
        self.outcomes.len() - 1
    }
}

/// Builds the model for `seed`.
pub fn compile(scenario: &Scenario, seed: u64) -> Result<Model, CompileError> {
    let (mut model, params) = structure(scenario, seed)?;
    (model.params, model.uniforms) = Builder::finish(params, seed);
    let params = model.params.iter();
    model.streams = (params.clone().filter(|p| p.uniforms == 1))
        .map(|p| (p.key, p.offset))
        .collect();
    model.multi_streams = (params.filter(|p| p.uniforms > 1))
        .map(|p| (p.key, p.offset..p.offset + p.uniforms))
        .collect();
    Ok(model)
}

/// The checks `compile` makes, without tabulating the samplers (the costly part):
/// Ok exactly when `compile` succeeds, for any seed.
pub fn check(scenario: &Scenario) -> Result<(), CompileError> {
    structure(scenario, 0).map(|_| ())
}

/// The model with its parameters not yet compiled (`params` empty), and those parameters;
/// an error is located at its key in the scenario's text.
fn structure(scenario: &Scenario, seed: u64) -> Result<(Model, Vec<Param>), CompileError> {
    build(scenario, seed).map_err(|mut e| {
        e.location = scenario.origin.locate(&e.key);
        e
    })
}

fn build(scenario: &Scenario, seed: u64) -> Result<(Model, Vec<Param>), CompileError> {
    let months = scenario.months;
    let mut b = Builder {
        seed,
        params: Vec::new(),
        outcomes: Vec::new(),
    };
    let start_calendar = scenario.start.rem_euclid(12) as usize; // 0 = January
    let season_index = |m: usize| (start_calendar + m + 12 - 3) % 12; // Apr = 0

    // Windows per (metric, tranche).
    let mut windows: Vec<WindowModel> = Vec::new();
    for (t, tranche) in scenario.tranches.iter().enumerate() {
        for c in &tranche.conditions {
            if let ConditionKind::Metric { metric, .. } = c.kind {
                let (from, to) = tranche
                    .window
                    .expect("validated: metric conditions have windows");
                windows.push(WindowModel {
                    metric,
                    kind: scenario.metrics[metric].kind,
                    tranche: t,
                    from,
                    to,
                    segments: 0..0,
                    baseline: 0.0,
                    people: 0,
                });
            }
        }
    }

    let mut metrics = Vec::new();
    for (k, m) in scenario.metrics.iter().enumerate() {
        let level = b.param(&m.level);
        let growth = b.param(&m.growth);
        let unit_cost = b.param(&m.unit_cost);
        let month_base: Vec<f64> = (0..months)
            .map(|i| {
                let s = m.seasonality[season_index(i)];
                match m.kind {
                    MetricKind::Count => m.baseline / 12.0 * s,
                    MetricKind::Proportion => m.cohort / 12.0 * s,
                }
            })
            .collect();
        let mut cuts = vec![0, months];
        for w in windows.iter().filter(|w| w.metric == k) {
            cuts.push(w.from);
            cuts.push(w.to + 1);
        }
        cuts.sort_unstable();
        cuts.dedup();
        let mut segments = Vec::new();
        for pair in cuts.windows(2) {
            let (from, to) = (pair[0], pair[1] - 1);
            let observed = windows
                .iter()
                .any(|w| w.metric == k && w.from <= from && to <= w.to);
            let cohort_sum: f64 = month_base[from..=to].iter().sum();
            let path = format!("metric.{}.observed.{}-{}", m.id, from, to);
            segments.push(Segment {
                from,
                to,
                key: stream_key(seed, path_key(&path)),
                observed,
                people: if m.kind == MetricKind::Proportion {
                    (cohort_sum + 0.5).floor() as u64
                } else {
                    0
                },
                cohort_sum,
            });
        }
        for w in windows.iter_mut().filter(|w| w.metric == k) {
            let first = segments
                .iter()
                .position(|s| s.from == w.from)
                .expect("cut at window start");
            let last = segments
                .iter()
                .position(|s| s.to == w.to)
                .expect("cut at window end");
            w.segments = first..last + 1;
            match m.kind {
                MetricKind::Count => {
                    // MODEL.md's B_W = baseline/12 x (sum of the window's seasonal factors),
                    // multiplied before dividing: a plan's whole-number baseline over whole
                    // months is then exact (244 over six months is 122, where adding six
                    // 244/12 gave 121.99999999999999).
                    let factors: f64 = (w.from..=w.to)
                        .map(|i| m.seasonality[season_index(i)])
                        .sum();
                    w.baseline = m.baseline * factors / 12.0;
                    if w.baseline.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) {
                        return Err(CompileError::new(
                            format!("metric.{}.seasonality", m.id),
                            format!(
                                "the window of tranche `{}` has no baseline activity (its seasonal factors are all 0)",
                                scenario.tranches[w.tranche].id
                            ),
                            "give the window's months a seasonal factor above 0",
                        ));
                    }
                }
                MetricKind::Proportion => {
                    w.baseline = m.baseline;
                    w.people = segments[w.segments.clone()].iter().map(|s| s.people).sum();
                    if w.people == 0 {
                        return Err(CompileError::new(
                            format!("metric.{}.cohort", m.id),
                            format!(
                                "the window of tranche `{}` observes no one (cohort {} a year)",
                                scenario.tranches[w.tranche].id, m.cohort
                            ),
                            "raise the cohort or lengthen the window",
                        ));
                    }
                }
            }
        }
        let gamma = match m.noise {
            Noise::NegativeBinomial { dispersion } => {
                Some((dispersion, GammaUnit::new(dispersion)))
            }
            Noise::Poisson => None,
        };
        metrics.push(MetricModel {
            id: m.id.clone(),
            kind: m.kind,
            baseline: m.baseline,
            month_base,
            level,
            growth,
            unit_cost,
            payer: m.payer,
            gamma,
            segments,
            effects: Vec::new(),
            blocks: Vec::new(),
            block_ramps: Vec::new(),
            block_people: Vec::new(),
        });
    }

    let mut schemes = Vec::new();
    for (i, s) in scenario.schemes.iter().enumerate() {
        let delivery = b.outcome(&s.delivery);
        let cost_overrun = b.param(&s.cost_overrun);
        let scale = b.param(&s.scale);
        let returns = b.param(&s.returns);
        for e in &s.effects {
            let change = b.param(&e.change);
            metrics[e.metric].effects.push((i, change));
        }
        let ramp = (0..months)
            .map(|m| {
                if s.end_month.is_some_and(|end| m >= end) {
                    return 0.0;
                }
                let progressed = m as f64 + 1.0 - s.start_month as f64;
                if s.ramp_months == 0 {
                    if m >= s.start_month { 1.0 } else { 0.0 }
                } else {
                    (progressed / s.ramp_months as f64).clamp(0.0, 1.0)
                }
            })
            .collect();
        let cost_pence = pounds_to_pence(s.cost()).map_err(|e| {
            CompileError::new(
                format!("scheme.{}.cost", s.id),
                format!("the scheme's cost cannot be held in pence: {e}"),
                "check the budget lines' units",
            )
        })?;
        schemes.push(SchemeModel {
            id: s.id.clone(),
            cost_pence,
            funder: Split::new(&s.funder_shares(scenario.partners.len())),
            delivery,
            cost_overrun,
            scale,
            returns,
            cost_if_undelivered: s.cost_if_undelivered,
            ramp,
        });
    }
    for metric in &mut metrics {
        metric.blocks = ramp_blocks(&metric.segments, &metric.effects, &schemes);
        metric.block_ramps = metric
            .blocks
            .iter()
            .flat_map(|b| metric.effects.iter().map(|&(s, _)| schemes[s].ramp[b.from]))
            .collect();
        metric.block_people = metric
            .blocks
            .iter()
            .map(|b| metric.month_base[b.from..=b.to].iter().sum())
            .collect();
    }

    let pot = pounds_to_pence(scenario.fund.pot)
        .map_err(|e| CompileError::new("fund.pot".into(), e.to_string(), "use a smaller pot"))?;
    let mut tranches = Vec::new();
    let mut window_index = 0;
    let mut conditions = 0;
    for t in &scenario.tranches {
        let amount = pounds_to_pence(scenario.fund.pot * t.share).map_err(|e| {
            CompileError::new(
                format!("tranche.{}.share", t.id),
                e.to_string(),
                "use a smaller pot",
            )
        })?;
        let mut conds = Vec::new();
        for c in &t.conditions {
            conditions += 1;
            let model = match &c.kind {
                ConditionKind::Metric { target, rule, .. } => {
                    let target = target.as_ref().map(|p| b.param(p));
                    // The rate keeps its decimals (£1,490.125 per admission is
                    // 149012.5 pence): the money, rate x units, is rounded once, to
                    // whole pence where the condition's and tranche's paid are.
                    let rate_pence = match rule {
                        Rule::PerUnit { rate } => rate
                            .checked_mul(Decimal::ONE_HUNDRED)
                            .and_then(|p| p.to_f64())
                            .unwrap_or(f64::INFINITY),
                        _ => 0.0,
                    };
                    let w = window_index;
                    window_index += 1;
                    CondModel::Metric {
                        window: w,
                        target,
                        rule: rule.clone(),
                        rate_pence,
                    }
                }
                ConditionKind::Event { probability, .. } => CondModel::Event {
                    outcome: b.outcome(probability),
                },
            };
            conds.push((model, c.weight));
        }
        let met_pence = (conds.iter())
            .map(|&(_, weight)| super::release::met_pence(amount, weight))
            .collect();
        tranches.push(TrancheModel {
            amount,
            gate: t.gate,
            conditions: conds,
            met_pence,
        });
    }

    let mut risks = Vec::new();
    for r in &scenario.risks {
        let occurs = b.outcome(&r.probability);
        let impact = b.param(&r.impact);
        risks.push(RiskModel {
            partner: r.partner,
            occurs,
            impact,
        });
    }

    let copula = if scenario.correlations.is_empty() {
        None
    } else {
        let copula = Copula::new(&scenario.correlations)
            .map_err(|m| CompileError::new("correlation".into(), m, "weaken the correlations"))?;
        let mut slots = Vec::new();
        for path in &copula.paths {
            let p = b
                .params
                .iter()
                .position(|p| &p.path == path)
                .expect("validated path");
            let slot = if matches!(b.params[p].dist, Dist::Fixed(_)) {
                match b.outcomes.iter().position(|o| o.probability == p) {
                    Some(o) => Slot::Outcome(o),
                    None => Slot::Param(p),
                }
            } else {
                Slot::Param(p)
            };
            slots.push(slot);
        }
        Some((copula, slots))
    };

    let model = Model {
        scenario: scenario.clone(),
        seed,
        months,
        uniforms: 0,
        params: Vec::new(),
        streams: Vec::new(),
        multi_streams: Vec::new(),
        outcomes: b.outcomes,
        copula,
        metrics,
        schemes,
        windows,
        tranches,
        risks,
        partners: scenario.partners.len(),
        pot,
        released: Split::new(&scenario.fund.released_to),
        unreleased: Split::new(&scenario.fund.unreleased_to),
        conditions,
        sampler: Default::default(),
    };
    Ok((model, b.params))
}
