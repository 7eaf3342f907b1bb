//! The per-trial CSV (`run --samples FILE.csv`): one row per trial, in trial order,
//! streamed to the reserved output file chunk by chunk while the run goes on.
//!
//! Columns: `trial`; every sampled parameter by path (fixed values are left out);
//! each yes/no outcome whose probability is not fixed at 0 or 1 as `<path>#outcome`
//! (0 or 1); the observation of every window as `metric.<id>.observed.<tranche>` (a
//! count, or a proportion); `tranche.<id>.paid` and `total.paid` in pounds with two
//! decimals (exact, from whole pence); and `partner.<id>.net` in pounds. Reals are written
//! in Rust's shortest round-trip form, so reading them back gives the exact f64.
use crate::model::{Model, Trial};
use crate::money::format_pence;
use std::io::Write;

/// Which parameter and outcome indices appear, in column order.
#[derive(Clone, Debug)]
pub struct SampleColumns {
    params: Vec<usize>,
    outcomes: Vec<usize>,
    header: Vec<u8>,
}

impl SampleColumns {
    pub fn new(model: &Model) -> SampleColumns {
        let params: Vec<usize> = (0..model.params.len())
            .filter(|&p| model.params[p].fixed.is_none())
            .collect();
        let outcomes: Vec<usize> = (0..model.outcomes.len())
            .filter(|&o| {
                let p = &model.params[model.outcomes[o].probability];
                !matches!(p.fixed, Some(v) if v <= 0.0 || v >= 1.0)
            })
            .collect();
        let mut names = vec!["trial".to_string()];
        names.extend(params.iter().map(|&p| model.params[p].path.clone()));
        names.extend(outcomes.iter().map(|&o| model.outcomes[o].path.clone()));
        let scenario = &model.scenario;
        for w in &model.windows {
            names.push(format!(
                "metric.{}.observed.{}",
                model.metrics[w.metric].id, scenario.tranches[w.tranche].id
            ));
        }
        for t in &scenario.tranches {
            names.push(format!("tranche.{}.paid", t.id));
        }
        names.push("total.paid".into());
        for p in &scenario.partners {
            names.push(format!("partner.{}.net", p.id));
        }
        let mut header = names.join(",").into_bytes();
        header.push(b'\n');
        SampleColumns {
            params,
            outcomes,
            header,
        }
    }

    pub fn header(&self) -> &[u8] {
        &self.header
    }

    /// Appends the row of trial `t` to `out`.
    pub fn row(&self, model: &Model, t: &Trial, out: &mut Vec<u8>) {
        let _ = write!(out, "{}", t.index);
        for &p in &self.params {
            let _ = write!(out, ",{}", t.values[p]);
        }
        for &o in &self.outcomes {
            let _ = write!(out, ",{}", u8::from(t.occurs[o]));
        }
        for w in 0..model.windows.len() {
            let _ = write!(out, ",{}", t.window_observed[w]);
        }
        for paid in &t.tranche_paid {
            let _ = write!(out, ",{}", format_pence(*paid));
        }
        let _ = write!(out, ",{}", format_pence(t.total_paid));
        for net in &t.partner_net {
            let _ = write!(out, ",{}", format_pence(*net));
        }
        out.push(b'\n');
    }
}
