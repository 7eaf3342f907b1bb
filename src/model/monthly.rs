//! Monthly observed activity of count metrics (`run --monthly`, and the report's fan
//! charts): an optional step after `Model::simulate`, never run unless asked for, so the
//! rules and every other result are untouched by it.
//!
//! Consistency with the windows: a segment that the rules observe (MODEL.md section 4)
//! already has its drawn total `N_seg`; its months are that total split multinomially in
//! proportion to each month's expected activity `lambda[m]`, which is exactly the
//! conditional distribution of independent Poisson months given their sum (and, for
//! negative binomial noise, given the gamma-mixed rate, which scales every month alike).
//! So the months of a window always add up to the window's observation. A segment outside
//! every window has no draw; its total is drawn here the same way (Poisson, or the gamma
//! mixture) from the monthly stream, then split. The split uses sequential binomials by
//! exact inverse CDF, from the stream `metric.<id>.monthly.<from>-<to>` of the segment
//! (months 0-based from the start), so the monthly draws share no uniforms with the rules
//! and are reproducible on any thread count. Proportion metrics get no monthly draws.
use super::compile::Model;
use super::trial::Trial;
use crate::dist::{binomial_quantile, poisson_quantile};
use crate::rng::{path_key, stream, stream_key};
use crate::scenario::MetricKind;

/// Stream keys of the monthly split, per metric per segment; built once per run.
#[derive(Clone, Debug)]
pub struct MonthlyModel {
    /// Count metrics' indices in the model.
    pub metrics: Vec<usize>,
    keys: Vec<Vec<u64>>,
}

/// Per-trial monthly results and scratch.
#[derive(Clone, Debug)]
pub struct Monthly {
    /// Per count metric (in `MonthlyModel::metrics` order), per month: observed count.
    pub counts: Vec<Vec<f64>>,
    /// Per count metric, per month: expected activity `lambda[m]` of this trial.
    pub expected: Vec<Vec<f64>>,
    effects: Vec<f64>,
}

impl MonthlyModel {
    pub fn new(model: &Model) -> MonthlyModel {
        let metrics: Vec<usize> = (0..model.metrics.len())
            .filter(|&m| model.metrics[m].kind == MetricKind::Count)
            .collect();
        let keys = metrics
            .iter()
            .map(|&m| {
                let metric = &model.metrics[m];
                metric
                    .segments
                    .iter()
                    .map(|s| {
                        let path = format!("metric.{}.monthly.{}-{}", metric.id, s.from, s.to);
                        stream_key(model.seed, path_key(&path))
                    })
                    .collect()
            })
            .collect();
        MonthlyModel { metrics, keys }
    }

    pub fn scratch(&self, model: &Model) -> Monthly {
        let n = self.metrics.len();
        Monthly {
            counts: vec![vec![0.0; model.months]; n],
            expected: vec![vec![0.0; model.months]; n],
            effects: vec![0.0; model.schemes.len()],
        }
    }

    /// Fills `out` for the trial `t` that `model.simulate(index, t)` has just computed.
    pub fn simulate(&self, model: &Model, index: u64, t: &Trial, out: &mut Monthly) {
        for (j, &m) in self.metrics.iter().enumerate() {
            expected_by_month(model, m, t, &mut out.effects, &mut out.expected[j]);
            let metric = &model.metrics[m];
            for (si, seg) in metric.segments.iter().enumerate() {
                let mut s = stream(self.keys[j][si], index);
                let lambdas = &out.expected[j][seg.from..=seg.to];
                let total_expected: f64 = lambdas.iter().sum();
                let total = if seg.observed {
                    t.segment_observed[m][si] as u64
                } else {
                    let lambda = match &metric.gamma {
                        Some((k, gamma)) => gamma.value(s.uniform()) * total_expected / k,
                        None => total_expected,
                    };
                    poisson_quantile(lambda.max(0.0), s.uniform())
                };
                split(
                    total,
                    lambdas,
                    &mut s,
                    &mut out.counts[j][seg.from..=seg.to],
                );
            }
        }
    }
}

/// Splits `total` over months in proportion to `weights` by sequential binomials.
fn split(total: u64, weights: &[f64], s: &mut crate::rng::Stream, out: &mut [f64]) {
    let mut remaining = total;
    let mut rest: f64 = weights.iter().map(|w| w.max(0.0)).sum();
    for (i, w) in weights.iter().enumerate() {
        let w = w.max(0.0);
        let x = if i + 1 == weights.len() {
            remaining
        } else if rest > 0.0 && remaining > 0 {
            binomial_quantile(remaining, (w / rest).clamp(0.0, 1.0), s.uniform())
        } else {
            0
        };
        out[i] = x as f64;
        remaining -= x;
        rest -= w;
    }
}

/// lambda[m] of count metric `m` for every month, as `Model::simulate` computes it
/// (the same arithmetic month by month; `Model::simulate` sums each ramp block's months
/// before applying the effects, so segment sums match `segment_expected` up to rounding).
fn expected_by_month(model: &Model, m: usize, t: &Trial, effects: &mut [f64], out: &mut [f64]) {
    let metric = &model.metrics[m];
    for (j, &(s, change)) in metric.effects.iter().enumerate() {
        effects[j] = model.full_effect(s, change, t);
    }
    let level = t.values[metric.level].max(0.0);
    let g = t.values[metric.growth].max(-0.99);
    let half = (1.0 + g).powf(0.5 / 12.0);
    let q = half * half;
    let mut factor = level * half;
    for (month, slot) in out.iter_mut().enumerate() {
        let mu = metric.month_base[month] * factor;
        factor *= q;
        let mut keep = 1.0;
        for (j, &(s, _)) in metric.effects.iter().enumerate() {
            keep *= 1.0 - effects[j] * model.schemes[s].ramp[month];
        }
        *slot = mu * keep;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::load;

    fn ealing() -> Model {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/ealing-2014.toml");
        let loaded = load(&path, &[]).unwrap();
        crate::model::compile(&loaded.scenario, 7).unwrap()
    }

    #[test]
    fn months_add_up_to_the_segments_the_rules_observed() {
        let model = ealing();
        let monthly = MonthlyModel::new(&model);
        assert!(!monthly.metrics.is_empty());
        let mut t = Trial::new(&model);
        let mut out = monthly.scratch(&model);
        for index in 0..200 {
            model.simulate(index, &mut t);
            monthly.simulate(&model, index, &t, &mut out);
            for (j, &m) in monthly.metrics.iter().enumerate() {
                for (si, seg) in model.metrics[m].segments.iter().enumerate() {
                    let months = &out.counts[j][seg.from..=seg.to];
                    assert!(months.iter().all(|x| *x >= 0.0 && x.fract() == 0.0));
                    let expected: f64 = out.expected[j][seg.from..=seg.to].iter().sum();
                    let rules = t.segment_expected[m][si];
                    assert!((expected - rules).abs() <= 1e-9 * rules.abs().max(1.0));
                    if seg.observed {
                        let sum: f64 = months.iter().sum();
                        assert_eq!(sum, t.segment_observed[m][si]);
                    }
                }
            }
        }
    }

    #[test]
    fn monthly_means_match_expected_activity() {
        // E[N_m] = E[lambda_m]; compare the average count with the average lambda for
        // every month, within 5 standard errors of the Poisson-plus-parameter spread.
        let model = ealing();
        let monthly = MonthlyModel::new(&model);
        let mut t = Trial::new(&model);
        let mut out = monthly.scratch(&model);
        let n = 2000;
        let months = model.months;
        let j = 0;
        let mut diff = vec![0.0; months];
        let mut diff2 = vec![0.0; months];
        for index in 0..n {
            model.simulate(index, &mut t);
            monthly.simulate(&model, index, &t, &mut out);
            for m in 0..months {
                let d = out.counts[j][m] - out.expected[j][m];
                diff[m] += d;
                diff2[m] += d * d;
            }
        }
        for m in 0..months {
            let mean = diff[m] / n as f64;
            let sd = (diff2[m] / n as f64 - mean * mean).sqrt();
            assert!(
                mean.abs() < 5.0 * sd / (n as f64).sqrt(),
                "month {m}: {mean} (sd {sd})"
            );
        }
    }

    #[test]
    fn split_is_exact_and_follows_weights() {
        let mut out = [0.0; 3];
        let mut s = stream(1, 2);
        split(10, &[1.0, 0.0, 1.0], &mut s, &mut out);
        assert_eq!(out[1], 0.0);
        assert_eq!(out.iter().sum::<f64>(), 10.0);
        split(0, &[1.0, 2.0, 3.0], &mut s, &mut out);
        assert_eq!(out, [0.0; 3]);
    }
}
