//! Criterion benchmarks of the engine on the shipped Ealing scenario: the per-trial
//! function alone, and a whole run at fixed trials and seed on one and two threads.
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use itfsim::engine;
use itfsim::model::{Trial, compile};
use itfsim::scenario::load;
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

criterion_group!(benches, per_trial, whole_run);
criterion_main!(benches);
