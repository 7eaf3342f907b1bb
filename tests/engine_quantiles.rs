//! The engine's quantiles (chunks on two threads, per-worker stores merged in whatever
//! order the scheduler gives) equal those of one store fed every trial in order, beyond
//! the point where the bounded quantile store coarsens (more than 16384 distinct values).
use itfsim::engine;
use itfsim::model::{Trial, compile};
use itfsim::scenario::load;
use itfsim::stats::{MoneyStats, RealStats};
use std::path::Path;

#[test]
fn engine_quantiles_equal_one_sequential_store() {
    let n = 40_000;
    let loaded = load(Path::new("scenarios/ealing-2014.toml"), &[]).unwrap();
    let model = compile(&loaded.scenario, 20140401).unwrap();
    let acc = engine::run(&model, 0..n, 2).unwrap();
    let windows = model.windows.len();
    let mut expected: Vec<RealStats> = (0..windows).map(|_| RealStats::new()).collect();
    let mut roi: Vec<RealStats> = (0..model.schemes.len()).map(|_| RealStats::new()).collect();
    let mut net: Vec<MoneyStats> = (0..model.partners).map(|_| MoneyStats::new()).collect();
    let mut t = Trial::new(&model);
    for i in 0..n {
        model.simulate(i, &mut t);
        for (stats, &x) in expected.iter_mut().zip(&t.window_expected) {
            stats.push(x);
        }
        for (s, stats) in roi.iter_mut().enumerate() {
            stats.push(t.scheme_roi[s]);
        }
        for (p, stats) in net.iter_mut().enumerate() {
            stats.push(t.partner_net[p]);
        }
    }
    let quantiles =
        |s: itfsim::stats::RealSummary| [s.p5, s.p10, s.p25, s.p50, s.p75, s.p90, s.p95];
    for (w, stats) in expected.iter().enumerate() {
        assert_eq!(
            quantiles(acc.window_expected[w].finish()),
            quantiles(stats.finish()),
            "window {w}"
        );
    }
    for (s, stats) in roi.iter().enumerate() {
        assert_eq!(
            quantiles(acc.scheme_roi[s].finish()),
            quantiles(stats.finish()),
            "scheme {s}"
        );
    }
    for (p, stats) in net.iter().enumerate() {
        let (a, b) = (acc.partner_net[p].finish(), stats.finish());
        assert_eq!((a.p5, a.p50, a.p95), (b.p5, b.p50, b.p95), "partner {p}");
    }
}
