//! Criterion benchmarks of the engine on the shipped Ealing scenario: the per-trial
//! function alone (trial by trial, and a block of trials at once as the engine runs
//! it); the *variate floor* (only the random variates one trial needs, same count and
//! kinds, nothing else: the bound any implementation of this model must pay); a whole
//! run at fixed trials and seed on one and two threads; and a 20-point sweep (20 `--set`
//! variants loaded, compiled and run through the library).
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use itfsim::dist::{binomial_quantile, poisson_quantile};
use itfsim::engine;
use itfsim::model::{Lanes, Model, Trial, compile};
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
    // the same results); time per block, throughput in trials.
    let mut trials = vec![Trial::new(&model); engine::BLOCK];
    let mut lanes = Lanes::new(&model, engine::BLOCK);
    let mut group = c.benchmark_group("trial-block");
    group.throughput(Throughput::Elements(engine::BLOCK as u64));
    let mut first = 0u64;
    group.bench_function("ealing-2014", |b| {
        b.iter(|| {
            model.simulate_block(black_box(first), &mut trials, &mut lanes);
            first += engine::BLOCK as u64;
            black_box(trials[engine::BLOCK - 1].total_paid)
        })
    });
    group.finish();
}

/// Draws every random variate trial `index` needs, as `Model::simulate` does, and
/// nothing else: each parameter's uniforms from its keyed stream through its inverse CDF,
/// each outcome's uniform, and each observed segment's gamma mixing (if any) and
/// Poisson or binomial quantile. The Poisson mean and binomial probability are the
/// segment's unadjusted baseline (no growth or scheme effects), so the variates have
/// the trial's kinds and magnitudes without the model's arithmetic. Correlated draws go
/// through the scenario's Gaussian copula first, as in the engine (Ealing correlates three
/// pairs: six normal quantiles, a Cholesky product and six normal CDFs per trial).
fn variates(model: &Model, index: u64, s: &mut Scratch) -> f64 {
    let mut check = 0.0;
    for p in &model.params {
        if p.uniforms > 0 {
            let mut stream = stream(p.key, index);
            for u in &mut s.uniforms[p.offset..p.offset + p.uniforms] {
                *u = stream.uniform();
            }
        }
    }
    for (o, outcome) in model.outcomes.iter().enumerate() {
        s.outcomes[o] = stream(outcome.key, index).uniform();
    }
    model.correlate(
        index,
        &mut s.uniforms,
        &mut s.outcomes,
        &mut s.copula_u,
        &mut s.copula_z,
    );
    for p in &model.params {
        if p.uniforms > 0 {
            check += p
                .quantile
                .value(&s.uniforms[p.offset..p.offset + p.uniforms]);
        }
    }
    check += s.outcomes.iter().sum::<f64>();
    for metric in &model.metrics {
        for seg in metric.segments.iter().filter(|s| s.observed) {
            let mut s = stream(seg.key, index);
            check += match metric.kind {
                MetricKind::Count => {
                    let base: f64 = metric.month_base[seg.from..=seg.to].iter().sum();
                    let lambda = match &metric.gamma {
                        Some((k, gamma)) => gamma.value(s.uniform()) * base / k,
                        None => base,
                    };
                    poisson_quantile(lambda, s.uniform()) as f64
                }
                MetricKind::Proportion => {
                    binomial_quantile(seg.people, metric.baseline.clamp(0.0, 1.0), s.uniform())
                        as f64
                }
            };
        }
    }
    check
}

/// Buffers of one trial's uniforms, as the engine's `Trial` holds them.
struct Scratch {
    uniforms: Vec<f64>,
    outcomes: Vec<f64>,
    copula_u: Vec<f64>,
    copula_z: Vec<f64>,
}

fn variate_floor(c: &mut Criterion) {
    let model = ealing();
    let slots = model.copula.as_ref().map_or(0, |(_, slots)| slots.len());
    let mut scratch = Scratch {
        uniforms: vec![0.0; model.uniforms.max(1)],
        outcomes: vec![0.0; model.outcomes.len()],
        copula_u: vec![0.0; slots],
        copula_z: vec![0.0; slots],
    };
    let mut group = c.benchmark_group("floor");
    group.throughput(Throughput::Elements(1));
    let mut index = 0u64;
    group.bench_function("ealing-2014-variates", |b| {
        b.iter(|| {
            index += 1;
            variates(&model, black_box(index), &mut scratch)
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
                let acc = engine::run(&model, 0..trials, 0).expect("runs");
                paid += acc.total_paid.finish().sum;
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
