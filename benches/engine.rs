//! Criterion benchmarks of the engine on the shipped Ealing scenario: the per-trial
//! function alone (trial by trial, and a block of trials at once as the engine runs
//! it); the *variate floor* (only the random variates the trials need, same count and
//! kinds, nothing else, drawn a block at a time through the same block paths as the
//! engine: the bound any implementation of this model must pay), both on the copy of the
//! block path the engine chooses for this CPU (`itfsim::isa`); a whole
//! run at fixed trials and seed on one and two threads; and a 20-point sweep (20 `--set`
//! variants loaded, compiled and run through the library).
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use itfsim::correlation::CopulaLanes;
use itfsim::dist::{
    binomial_needs_normal, binomial_quantile_given, binomial_uses_normal, normal_quantile_each,
    observation_normal_input, poisson_quantile_given_each,
};
use itfsim::engine;
use itfsim::model::{Lanes, Model, Slot, Trial, compile};
use itfsim::rng::stream;
use itfsim::scenario::{MetricKind, load, load_str};
use std::hint::black_box;
use std::path::Path;

fn ealing() -> itfsim::model::Model {
    let loaded = load(Path::new("scenarios/ealing-2014.toml"), &[]).expect("shipped scenario");
    compile(&loaded.scenario, 20140401).expect("compiles")
}

fn per_trial(c: &mut Criterion) {
    let model = ealing();
    let mut trial = Trial::new(&model);
    let mut group = c.benchmark_group("trial");
    group.throughput(Throughput::Elements(1));
    let mut index = 0u64;
    group.bench_function("ealing-2014", |b| {
        b.iter(|| {
            model.simulate(black_box(index), &mut trial);
            index += 1;
            black_box(trial.total_paid)
        })
    });
    group.finish();
    // What the engine runs: blocks of `engine::BLOCK` trials (`Model::simulate_block`,
    // the same results), on the copy of the block path the engine would choose
    // (`itfsim::isa`); time per block, throughput in trials.
    let mut trials = vec![Trial::new(&model); engine::BLOCK];
    let mut lanes = Lanes::new(&model, engine::BLOCK);
    let mut group = c.benchmark_group("trial-block");
    group.throughput(Throughput::Elements(engine::BLOCK as u64));
    let mut first = 0u64;
    group.bench_function("ealing-2014", |b| {
        b.iter(|| {
            itfsim::isa::run(
                #[inline(always)]
                || model.simulate_block(black_box(first), &mut trials, &mut lanes),
            );
            first += engine::BLOCK as u64;
            black_box(trials[engine::BLOCK - 1].total_paid)
        })
    });
    group.finish();
}

/// Draws every random variate a block of trials `first..first + BLOCK` needs, as
/// `Model::simulate_block` does, and nothing else: each parameter's uniforms from its
/// keyed stream, trial by trial, then parameter by parameter through its inverse CDF for
/// the whole block (`Quantile::fill`), each outcome's uniform, and each observed segment's
/// gamma mixing (if any, `GammaUnit::fill`) and Poisson or binomial quantile from the
/// block's normal quantiles (`normal_quantile_each`). The Poisson mean and binomial
/// probability are the segment's unadjusted baseline (no growth or scheme effects), so the
/// variates have the trials' kinds and magnitudes without the model's arithmetic.
/// Correlated draws go through the scenario's Gaussian copula first, the block together
/// (`Copula::apply_each`) as in the engine (Ealing correlates three pairs: six normal
/// quantiles, a Cholesky product and six normal CDFs per trial).
#[inline(always)]
fn variates(model: &Model, first: u64, s: &mut Scratch) -> f64 {
    const N: usize = engine::BLOCK;
    let mut check = 0.0;
    // Column-major: uniform k of trial i at k * N + i.
    for i in 0..N {
        let index = first + i as u64;
        for p in model.params.iter().filter(|p| p.uniforms > 0) {
            let mut stream = stream(p.key, index);
            for k in p.offset..p.offset + p.uniforms {
                s.uniforms[k * N + i] = stream.uniform();
            }
        }
        for (o, outcome) in model.outcomes.iter().enumerate() {
            s.outcomes[o * N + i] = stream(outcome.key, index).uniform();
        }
    }
    if let (Some((copula, slots)), Some(lanes)) = (&model.copula, s.copula.as_mut()) {
        for (d, &slot) in slots.iter().enumerate() {
            for i in 0..N {
                lanes.u[d * N + i] = match slot {
                    Slot::Param(p) if model.params[p].uniforms > 0 => {
                        s.uniforms[model.params[p].offset * N + i]
                    }
                    Slot::Param(p) => stream(model.params[p].key, first + i as u64).uniform(),
                    Slot::Outcome(o) => s.outcomes[o * N + i],
                };
            }
        }
        copula.apply_each(lanes, N);
        for (d, &slot) in slots.iter().enumerate() {
            for i in 0..N {
                match slot {
                    Slot::Param(p) if model.params[p].uniforms > 0 => {
                        s.uniforms[model.params[p].offset * N + i] = lanes.u[d * N + i];
                    }
                    Slot::Param(_) => {}
                    Slot::Outcome(o) => s.outcomes[o * N + i] = lanes.u[d * N + i],
                }
            }
        }
    }
    for p in model
        .params
        .iter()
        .filter(|p| p.uniforms > 0 && p.fixed.is_none())
    {
        let column = |k: usize| &s.uniforms[k * N..(k + 1) * N];
        if p.uniforms == 1 {
            p.quantile.fill(column(p.offset), &mut s.value);
        } else if let Some(factors) = p.quantile.one_uniform_factors() {
            s.value.fill(1.0);
            for (k, factor) in factors.iter().enumerate() {
                factor.fill(column(p.offset + k), &mut s.part);
                s.value.iter_mut().zip(&s.part).for_each(|(v, f)| *v *= f);
            }
        } else {
            for (i, v) in s.value.iter_mut().enumerate() {
                let us: Vec<f64> = (0..p.uniforms).map(|k| column(p.offset + k)[i]).collect();
                *v = p.quantile.value(&us);
            }
        }
        check += s.value.iter().sum::<f64>();
    }
    check += s.outcomes.iter().sum::<f64>();
    for metric in &model.metrics {
        for seg in metric.segments.iter().filter(|s| s.observed) {
            let gamma = metric.gamma.as_ref();
            let gamma = gamma.filter(|_| metric.kind == MetricKind::Count);
            for i in 0..N {
                let mut stream = stream(seg.key, first + i as u64);
                if gamma.is_some() {
                    s.mixing[i] = stream.uniform();
                }
                s.count[i] = stream.uniform();
            }
            let base: f64 = metric.month_base[seg.from..=seg.to].iter().sum();
            let p = metric.baseline.clamp(0.0, 1.0);
            let uses_normal = match metric.kind {
                MetricKind::Count => true,
                MetricKind::Proportion => {
                    binomial_uses_normal(seg.people) && binomial_needs_normal(seg.people, p)
                }
            };
            if uses_normal {
                let count = &s.count;
                normal_quantile_each(&mut s.w, |i| observation_normal_input(count[i]));
            }
            match (metric.kind, gamma) {
                (MetricKind::Count, gamma) => {
                    if let Some((k, gamma)) = gamma {
                        gamma.fill(&s.mixing, &mut s.value);
                        for v in s.value.iter_mut() {
                            *v = *v * base / k;
                        }
                    } else {
                        s.value.fill(base);
                    }
                    poisson_quantile_given_each(&mut s.value, &s.count, &s.w);
                    for &count in &s.value {
                        check += count;
                    }
                }
                (MetricKind::Proportion, _) => {
                    for i in 0..N {
                        let count = binomial_quantile_given(seg.people, p, s.count[i], s.w[i]);
                        check += count as f64;
                    }
                }
            }
        }
    }
    check
}

/// Columns of a block's uniforms and draws, as the engine's trials and `Lanes` hold them.
struct Scratch {
    uniforms: Vec<f64>,
    outcomes: Vec<f64>,
    copula: Option<CopulaLanes>,
    value: Vec<f64>,
    part: Vec<f64>,
    mixing: Vec<f64>,
    count: Vec<f64>,
    w: Vec<f64>,
}

fn variate_floor(c: &mut Criterion) {
    const N: usize = engine::BLOCK;
    let model = ealing();
    let mut scratch = Scratch {
        uniforms: vec![0.0; model.uniforms.max(1) * N],
        outcomes: vec![0.0; model.outcomes.len() * N],
        copula: model.copula.as_ref().map(|(c, _)| CopulaLanes::new(c, N)),
        value: vec![0.0; N],
        part: vec![0.0; N],
        mixing: vec![0.0; N],
        count: vec![0.0; N],
        w: vec![0.0; N],
    };
    // Time per block of `engine::BLOCK` trials, throughput in trials (as `trial-block`).
    let mut group = c.benchmark_group("floor");
    group.throughput(Throughput::Elements(N as u64));
    let mut first = 0u64;
    group.bench_function("ealing-2014-variates", |b| {
        b.iter(|| {
            first += N as u64;
            itfsim::isa::run(
                #[inline(always)]
                || variates(&model, black_box(first), &mut scratch),
            )
        })
    });
    group.finish();
}

fn sweep(c: &mut Criterion) {
    let text = std::fs::read_to_string("scenarios/ealing-2014.toml").expect("shipped scenario");
    let trials = 2_000u64;
    let mut group = c.benchmark_group("sweep");
    group.sample_size(10);
    group.throughput(Throughput::Elements(20 * trials));
    group.bench_function("ealing-2014-20-points", |b| {
        b.iter(|| {
            let mut paid = 0i128;
            for point in 0..20 {
                let delivery = 0.5 + 0.025 * f64::from(point);
                let sets = [format!("scheme.reablement.delivery={delivery}")];
                let loaded = load_str("ealing-2014.toml", &text, &sets).expect("valid point");
                let model = compile(&loaded.scenario, 20140401).expect("compiles");
                // What `sweep` runs per point: only the figures of its row.
                let totals = engine::run_totals(&model, 0..trials, 0).expect("runs");
                paid += totals.paid.finish().sum;
            }
            paid
        })
    });
    group.finish();
}

fn whole_run(c: &mut Criterion) {
    let model = ealing();
    let trials = 20_000u64;
    let mut group = c.benchmark_group("run");
    group.sample_size(10);
    group.throughput(Throughput::Elements(trials));
    for threads in [1usize, 2] {
        group.bench_with_input(
            BenchmarkId::new("ealing-2014", threads),
            &threads,
            |b, &threads| {
                b.iter(|| {
                    engine::run(&model, 0..trials, threads)
                        .expect("runs")
                        .trials
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, per_trial, variate_floor, whole_run, sweep);
criterion_main!(benches);
