//! What `run` collects beyond the engine's summaries when a report, a workbook, monthly
//! output or per-trial samples are asked for: a fixed-bin histogram of total paid, exact
//! distributions of monthly counts, and CSV row blocks, gathered by a `TrialObserver`
//! (see `observe`) chunk by chunk.
//!
//! Invariants: everything here merges exactly and in bounded memory. The histogram's
//! bins are fixed from the tranche amounts before the run (known up front), so counts
//! simply add. Monthly counts are whole numbers, kept as exact sorted (value, frequency) lists
//! (bounded by the number of distinct counts, not by trials), so their quantiles are exact
//! inverted-CDF trial values like every other quantile of the run. A chunk keeps its raw
//! monthly counts (bounded by the chunk size) and compacts them when it ends.
use super::samples::SampleColumns;
use crate::model::monthly::{Monthly, MonthlyModel};
use crate::model::{Model, Trial};
use crate::observe::TrialObserver;

/// Bins strictly between nothing paid and everything paid.
pub const BINS: usize = 400;

/// Histogram of total paid in pence over [0, full], with the two atoms counted apart.
#[derive(Clone, Debug, PartialEq)]
pub struct PaidHistogram {
    /// Sum of the tranche amounts: the most a trial can pay.
    pub full: i64,
    pub n: u64,
    /// Trials paying exactly 0 and exactly `full`.
    pub zero: u64,
    pub all: u64,
    /// Bin k holds 0 < paid < full with floor(paid * BINS / full) = k.
    pub bins: Vec<u64>,
}

impl PaidHistogram {
    pub fn new(full: i64) -> PaidHistogram {
        PaidHistogram {
            full,
            n: 0,
            zero: 0,
            all: 0,
            bins: vec![0; BINS],
        }
    }

    pub fn push(&mut self, paid: i64) {
        self.n += 1;
        if paid <= 0 {
            self.zero += 1;
        } else if paid >= self.full {
            self.all += 1;
        } else {
            let k = (i128::from(paid) * BINS as i128 / i128::from(self.full)) as usize;
            self.bins[k.min(BINS - 1)] += 1;
        }
    }

    pub fn merge(&mut self, o: &PaidHistogram) {
        self.n += o.n;
        self.zero += o.zero;
        self.all += o.all;
        for (a, b) in self.bins.iter_mut().zip(&o.bins) {
            *a += b;
        }
    }

    /// Lower edge of bin k in pence (as f64, for drawing).
    pub fn edge(&self, k: usize) -> f64 {
        self.full as f64 * k as f64 / BINS as f64
    }
}

/// `CountDistribution::add_values` counts in a dense table when the values' range is
/// below this many slots per value, else sorts.
const DENSE_PER_VALUE: u64 = 4;

/// Exact distribution of whole-number values (monthly counts): sorted (value, frequency)
/// pairs. Values arrive in bulk (`add_values`, which counts or sorts them) and distributions merge
/// by a linear merge of the sorted pairs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CountDistribution {
    n: u64,
    sum: u128,
    counts: Vec<(u64, u64)>,
}

impl CountDistribution {
    /// Adds `values` (maybe reordered in place). When they lie in a range not much wider
    /// than their number (a month's counts over one chunk do), they are counted in a
    /// dense table over [min, max]; else sorted. Either way the same sorted
    /// (value, frequency) pairs.
    pub fn add_values(&mut self, values: &mut [u64]) {
        let (Some(&min), Some(&max)) = (values.iter().min(), values.iter().max()) else {
            return;
        };
        let mut other = CountDistribution {
            n: values.len() as u64,
            sum: values.iter().map(|&x| u128::from(x)).sum(),
            counts: Vec::new(),
        };
        let span = max - min;
        if span < DENSE_PER_VALUE.saturating_mul(values.len() as u64) {
            let mut dense = vec![0u64; span as usize + 1];
            for &x in values.iter() {
                dense[(x - min) as usize] += 1;
            }
            other.counts = (min..=max).zip(dense).filter(|&(_, c)| c > 0).collect();
        } else {
            values.sort_unstable();
            for &x in values.iter() {
                match other.counts.last_mut() {
                    Some((v, c)) if *v == x => *c += 1,
                    _ => other.counts.push((x, 1)),
                }
            }
        }
        self.merge(&other);
    }

    pub fn merge(&mut self, o: &CountDistribution) {
        if o.n == 0 {
            return;
        }
        self.n += o.n;
        self.sum += o.sum;
        let mut merged = Vec::with_capacity(self.counts.len() + o.counts.len());
        let (mut i, mut j) = (0, 0);
        while i < self.counts.len() || j < o.counts.len() {
            let take_left =
                j == o.counts.len() || (i < self.counts.len() && self.counts[i].0 <= o.counts[j].0);
            let next = if take_left {
                i += 1;
                self.counts[i - 1]
            } else {
                j += 1;
                o.counts[j - 1]
            };
            match merged.last_mut() {
                Some((v, c)) if *v == next.0 => *c += next.1,
                _ => merged.push(next),
            }
        }
        self.counts = merged;
    }

    pub fn len(&self) -> u64 {
        self.n
    }

    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    pub fn mean(&self) -> f64 {
        if self.n == 0 {
            f64::NAN
        } else {
            self.sum as f64 / self.n as f64
        }
    }

    /// Inverted-CDF quantile: the smallest value with at least ceil(q n) values at or
    /// below it (the first value when q n < 1).
    pub fn quantile(&self, q: f64) -> f64 {
        if self.n == 0 {
            return f64::NAN;
        }
        let rank = ((q * self.n as f64).ceil() as u64).clamp(1, self.n);
        let mut seen = 0;
        for (value, count) in &self.counts {
            seen += count;
            if seen >= rank {
                return *value as f64;
            }
        }
        f64::NAN
    }
}

/// One chunk's collected data.
pub struct RunChunk {
    pub histogram: PaidHistogram,
    /// Per count metric (MonthlyModel order), per month.
    pub monthly: Vec<Vec<CountDistribution>>,
    /// Per count metric, per month: this chunk's raw counts until `finish_chunk`.
    raw: Vec<Vec<Vec<u64>>>,
    /// Per count metric, per month: sum of expected activity `lambda[m]` over trials.
    pub monthly_expected: Vec<Vec<f64>>,
    scratch: Option<Monthly>,
    /// CSV rows of the chunk's trials, in trial order.
    pub csv: Vec<u8>,
}

/// The observer `run` uses; each part is present only when asked for.
pub struct RunCollector<'a> {
    pub model: &'a Model,
    pub monthly: Option<MonthlyModel>,
    pub samples: Option<SampleColumns>,
    pub full: i64,
}

impl<'a> RunCollector<'a> {
    pub fn new(model: &'a Model, monthly: bool, samples: bool) -> RunCollector<'a> {
        RunCollector {
            model,
            monthly: monthly.then(|| MonthlyModel::new(model)),
            samples: samples.then(|| SampleColumns::new(model)),
            full: model.tranches.iter().map(|t| t.amount).sum(),
        }
    }

    /// An empty chunk, also the starting point of the run's totals.
    pub fn empty(&self) -> RunChunk {
        let (metrics, months) = match &self.monthly {
            Some(m) => (m.metrics.len(), self.model.months),
            None => (0, 0),
        };
        RunChunk {
            histogram: PaidHistogram::new(self.full),
            monthly: vec![vec![CountDistribution::default(); months]; metrics],
            raw: vec![vec![Vec::new(); months]; metrics],
            monthly_expected: vec![vec![0.0; months]; metrics],
            scratch: None,
            csv: Vec::new(),
        }
    }
}

impl RunChunk {
    /// Adds another chunk's data (CSV bytes are not kept: the sink writes them).
    pub fn merge(&mut self, o: &RunChunk) {
        self.histogram.merge(&o.histogram);
        for (a, b) in self.monthly.iter_mut().zip(&o.monthly) {
            for (x, y) in a.iter_mut().zip(b) {
                x.merge(y);
            }
        }
        for (a, b) in self.monthly_expected.iter_mut().zip(&o.monthly_expected) {
            for (x, y) in a.iter_mut().zip(b) {
                *x += y;
            }
        }
    }
}

impl TrialObserver for RunCollector<'_> {
    type Chunk = RunChunk;

    fn start_chunk(&self, _first: u64) -> RunChunk {
        let mut chunk = self.empty();
        chunk.scratch = self.monthly.as_ref().map(|m| m.scratch(self.model));
        chunk
    }

    fn trial(&self, chunk: &mut RunChunk, model: &Model, trial: &Trial) {
        chunk.histogram.push(trial.total_paid);
        if let (Some(monthly), Some(scratch)) = (&self.monthly, chunk.scratch.as_mut()) {
            monthly.simulate(model, trial.index, trial, scratch);
            for (j, counts) in scratch.counts.iter().enumerate() {
                for (m, x) in counts.iter().enumerate() {
                    chunk.raw[j][m].push(*x as u64);
                    chunk.monthly_expected[j][m] += scratch.expected[j][m];
                }
            }
        }
        if let Some(columns) = &self.samples {
            columns.row(model, trial, &mut chunk.csv);
        }
    }

    fn finish_chunk(&self, chunk: &mut RunChunk) {
        for (dists, raws) in chunk.monthly.iter_mut().zip(&mut chunk.raw) {
            for (d, raw) in dists.iter_mut().zip(raws.iter_mut()) {
                d.add_values(raw);
                *raw = Vec::new();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_bins_atoms_and_merge() {
        let mut a = PaidHistogram::new(1000);
        for p in [0, 1, 2, 499, 500, 999, 1000] {
            a.push(p);
        }
        assert_eq!((a.n, a.zero, a.all), (7, 1, 1));
        assert_eq!(a.bins[0], 2);
        assert_eq!(a.bins[199], 1);
        assert_eq!(a.bins[200], 1);
        assert_eq!(a.bins[399], 1);
        let mut b = PaidHistogram::new(1000);
        b.push(0);
        a.merge(&b);
        assert_eq!((a.n, a.zero), (8, 2));
        assert_eq!(a.bins.iter().sum::<u64>() + a.zero + a.all, a.n);
    }

    /// The (value, frequency) pairs by sorting, as `add_values` did before its dense table.
    fn sorted_pairs(values: &[u64]) -> CountDistribution {
        let mut sorted = values.to_vec();
        sorted.sort();
        let mut d = CountDistribution::default();
        for x in sorted {
            d.n += 1;
            d.sum += u128::from(x);
            match d.counts.last_mut() {
                Some((v, c)) if *v == x => *c += 1,
                _ => d.counts.push((x, 1)),
            }
        }
        d
    }

    #[test]
    fn counting_and_sorting_give_the_same_pairs() {
        // A chunk's worth of counts in a narrow range (the dense table), from a fixed LCG.
        let mut state = 12345u64;
        let narrow: Vec<u64> = (0..1024)
            .map(|_| {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
                900 + (state >> 33) % 300
            })
            .collect();
        let cases: Vec<Vec<u64>> = vec![
            vec![],
            vec![7],
            vec![0],
            vec![u64::MAX],
            vec![5; 100],
            vec![u64::MAX; 3],
            vec![u64::MAX, u64::MAX - 2, u64::MAX - 1, u64::MAX],
            vec![0, u64::MAX],
            vec![0, 1, u64::MAX, 1, 0],
            // Span just inside and just outside the dense limit (4 slots per value).
            vec![10, 10 + 4 * 2 - 1],
            vec![10, 10 + 4 * 2],
            vec![3, 1_000_000, 3, 5],
            narrow.clone(),
            narrow.iter().map(|x| x * 1000).collect(),
        ];
        for values in cases {
            let want = sorted_pairs(&values);
            let mut got = CountDistribution::default();
            got.add_values(&mut values.clone());
            assert_eq!(got, want, "{values:?}");
            // Added to an existing distribution, too.
            let mut base = CountDistribution::default();
            base.add_values(&mut [1, 900, 1000]);
            let mut expected = base.clone();
            expected.merge(&want);
            base.add_values(&mut values.clone());
            assert_eq!(base, expected, "{values:?}");
        }
    }

    #[test]
    fn count_quantiles_are_inverted_cdf_values() {
        let mut d = CountDistribution::default();
        d.add_values(&mut [5, 1, 3]);
        d.add_values(&mut [9, 3]);
        // Sorted: 1 3 3 5 9.
        assert_eq!(d.quantile(0.1), 1.0);
        assert_eq!(d.quantile(0.2), 1.0);
        assert_eq!(d.quantile(0.5), 3.0);
        assert_eq!(d.quantile(0.9), 9.0);
        assert_eq!(d.mean(), 4.2);
        let mut e = CountDistribution::default();
        e.add_values(&mut [0]);
        e.merge(&d);
        assert_eq!(e.counts, vec![(0, 1), (1, 1), (3, 2), (5, 1), (9, 1)]);
        assert_eq!((e.len(), e.quantile(0.1)), (6, 0.0));
        assert!(CountDistribution::default().quantile(0.5).is_nan());
    }
}
