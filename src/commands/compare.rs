//! `itfsim compare A B [C ...]`: every scenario on the same trials (same seed and trial
//! count, streams keyed by path, so they share every draw they have in common), side by
//! side, and the PAIRED difference of each against the first.
//!
//! The scenarios run in lockstep inside the engine's fixed chunks, a block of trials at a
//! time as `run` simulates them (`engine::simulate_block`, the same results as trial by
//! trial): every model simulates the block into its own trials and lanes, then for each
//! trial in turn every model's results are folded in, and the per-trial difference of
//! total paid (whole pence) into exact integer moments — no trial is kept for the
//! differences beyond its block. Every summary merges exactly, whatever the grouping, so
//! a worker keeps one state over all its chunks. The paired MCSE is shown beside the MCSE
//! the difference would have with independent streams, sqrt(mcse_A^2 + mcse_B^2), to show
//! what common random numbers buy.
use super::{Failure, emit};
use crate::atomic::PendingFile;
use crate::cli::{CompareArgs, Format};
use crate::engine::{BLOCK, Gather, NEVER, Totals, fold_chunks_in_place, simulate_block};
use crate::model::{Lanes, Model, Trial, compile};
use crate::money::{format_gbp, format_pence};
use crate::output::text::prob;
use crate::report::compare_report::{self, ComparePair, CompareReport, CompareSide};
use crate::scenario::{Loaded, load};
use crate::stats::{MoneyStats, MoneySummary, PenceMoments, Proportion};
use serde_json::{Value, json};

/// z for a two-sided 90% interval.
const Z90: f64 = 1.644_853_626_951_472_2;

/// Paired difference of scenario j against the first.
#[derive(Clone)]
struct Pair {
    difference: PenceMoments,
    /// The per-trial differences' distribution (for the report's box).
    distribution: MoneyStats,
    better: Proportion,
    tie: Proportion,
}

struct State {
    /// Each model's block of trials and its lanes (`Model::simulate_block`).
    blocks: Vec<(Vec<Trial>, Lanes)>,
    block: Gather,
    /// Each scenario's side of the comparison.
    sides: Vec<Totals>,
    pairs: Vec<Pair>,
}

fn fresh(models: &[Model]) -> State {
    State {
        blocks: (models.iter())
            .map(|m| (vec![Trial::new(m); BLOCK], Lanes::new(m, BLOCK)))
            .collect(),
        block: Gather::default(),
        sides: models.iter().map(Totals::new).collect(),
        pairs: vec![
            Pair {
                difference: PenceMoments::new(),
                distribution: MoneyStats::new(),
                better: Proportion::default(),
                tie: Proportion::default(),
            };
            models.len().saturating_sub(1)
        ],
    }
}

/// Takes trial `index` (the one after the last, within a chunk) into the block, and runs
/// the block when it is full.
fn step(models: &[Model], s: &mut State, index: u64) -> Result<(), crate::engine::EngineError> {
    if s.block.take(index) {
        run_block(models, s)?;
    }
    Ok(())
}

/// Simulates the gathered trials with every model and folds them in, trial by trial and
/// model by model: the first whose money left the exact range stops the worker (the
/// lowest trial, and of its models the first, as one trial at a time would find).
fn run_block(models: &[Model], s: &mut State) -> Result<(), crate::engine::EngineError> {
    let (first, n) = s.block.drain();
    if n == 0 {
        return Ok(());
    }
    for (model, (trials, lanes)) in models.iter().zip(&mut s.blocks) {
        simulate_block(model, first, &mut trials[..n], lanes);
    }
    for i in 0..n {
        for ((model, (trials, lanes)), side) in models.iter().zip(&s.blocks).zip(&mut s.sides) {
            let trial = &trials[i];
            crate::engine::checked(model, trial, trial.index)?;
            side.push(model, trial, lanes, i);
        }
        let first = s.blocks[0].0[i].total_paid;
        for (pair, (trials, _)) in s.pairs.iter_mut().zip(&s.blocks[1..]) {
            let d = trials[i].total_paid - first;
            pair.difference.push(d);
            pair.distribution.push(d);
            pair.better.push(d > 0);
            pair.tie.push(d == 0);
        }
    }
    Ok(())
}

fn merge(a: &mut State, b: State) {
    for (x, y) in a.sides.iter_mut().zip(&b.sides) {
        x.merge(y);
    }
    for (x, y) in a.pairs.iter_mut().zip(&b.pairs) {
        x.difference.merge(&y.difference);
        x.distribution.merge(&y.distribution);
        x.better.merge(&y.better);
        x.tie.merge(&y.tie);
    }
}

/// A finished side, for rendering.
struct SideResult {
    loaded: Loaded,
    pot: i64,
    paid: MoneySummary,
    /// Unrounded MCSE of the mean paid, pence.
    paid_mcse: f64,
    p_full: f64,
    p_zero: f64,
    net: Vec<(String, i64)>,
}

struct PairResult {
    mean: i64,
    distribution: MoneySummary,
    mcse: f64,
    mcse_independent: f64,
    p_better: f64,
    p_tie: f64,
    p_worse: f64,
}

impl PairResult {
    fn interval(&self) -> (i64, i64) {
        let half = (Z90 * self.mcse).round_ties_even() as i64;
        (self.mean - half, self.mean + half)
    }
}

fn pence(x: f64) -> i64 {
    x.round_ties_even() as i64
}

pub fn compare(args: &CompareArgs) -> Result<(), Failure> {
    let o = &args.options;
    let format = super::output_format(o.format, o.out.as_deref(), false);
    if format == Format::Csv {
        return Err(super::csv_refused("compare"));
    }
    let mut loaded = Vec::new();
    for path in &args.scenarios {
        loaded.push(load(path, &o.sets)?);
    }
    // One seed and one trial count for all: common random numbers need both.
    let trials = o.trials.unwrap_or(loaded[0].scenario.trials);
    let seed = o.seed.unwrap_or(loaded[0].scenario.seed);
    let threads = super::threads(o);
    let mut models = Vec::new();
    for l in &loaded {
        let mut model = compile(&l.scenario, seed)?;
        super::apply_sampling(&mut model, o.sampling, trials);
        models.push(model);
    }
    let pending = o.out.as_deref().map(PendingFile::create).transpose()?;
    let report_file = super::reserve(args.report.as_deref())?;
    // As `run` keeps them: on stderr each scenario warning in full (with its hint), in
    // the JSON and the report its one line (`Diagnostic::one_line`, as `run`'s JSON), and
    // compare's own notes as bare messages ("warning: " on stderr only). A warning two
    // scenarios share (a variant of one file) is kept once.
    let mut warnings: Vec<String> = Vec::new();
    for l in &loaded {
        for w in &l.scenario.warnings {
            let line = w.one_line();
            if !warnings.contains(&line) {
                if !o.quiet {
                    super::stderr_line(w);
                }
                warnings.push(line);
            }
        }
    }
    let differ = loaded[1..].iter().any(|l| {
        (o.trials.is_none() && l.scenario.trials != trials)
            || (o.seed.is_none() && l.scenario.seed != seed)
    });
    if differ {
        let note = format!(
            "the scenarios name different trials or seeds; all ran with the first one's (trials {trials}, seed {seed}) so they share their draws"
        );
        if !o.quiet {
            super::stderr_line(format_args!("warning: {note}"));
        }
        warnings.push(note);
    }
    let state = fold_chunks_in_place(
        0..trials,
        threads,
        &NEVER,
        &|_| {},
        || fresh(&models),
        |s, index| step(&models, s, index),
        |s| run_block(&models, s),
        merge,
    )?
    .unwrap_or_else(|| fresh(&models));
    let sides: Vec<SideResult> = loaded
        .into_iter()
        .zip(&state.sides)
        .zip(&models)
        .map(|((loaded, side), model)| {
            let paid = side.paid.finish();
            let paid_mcse = side.paid.moments().mcse();
            let net = loaded
                .scenario
                .partners
                .iter()
                .zip(&side.net)
                .map(|(p, m)| (p.id.clone(), m.mean_pence()))
                .collect();
            SideResult {
                loaded,
                pot: model.pot,
                paid,
                paid_mcse,
                p_full: side.full.value(),
                p_zero: side.zero.value(),
                net,
            }
        })
        .collect();
    let pairs: Vec<PairResult> = state
        .pairs
        .iter()
        .zip(&sides[1..])
        .map(|(pair, side)| {
            let mcse_first = sides[0].paid_mcse;
            let ties = pair.tie.value();
            let better = pair.better.value();
            PairResult {
                mean: pair.difference.mean_pence(),
                distribution: pair.distribution.finish(),
                mcse: pair.difference.mcse(),
                mcse_independent: (mcse_first * mcse_first + side.paid_mcse * side.paid_mcse)
                    .sqrt(),
                p_better: better,
                p_tie: ties,
                p_worse: if pair.better.n == 0 {
                    0.0
                } else {
                    (pair.better.n - pair.better.hits - pair.tie.hits) as f64 / pair.better.n as f64
                },
            }
        })
        .collect();
    if let Some(file) = report_file {
        let report = report(
            &sides,
            &pairs,
            trials,
            seed,
            models[0].sampler.name(),
            &warnings,
        );
        file.commit(compare_report::document(&report).render().as_bytes())?;
    }
    let bytes = match format {
        Format::Json => {
            let mut v = serde_json::to_vec_pretty(&render_json(
                &sides,
                &pairs,
                trials,
                seed,
                models[0].sampler.name(),
                threads,
                &warnings,
            ))
            .expect("JSON values serialise");
            v.push(b'\n');
            v
        }
        _ => render_text(&sides, &pairs, trials, seed).into_bytes(),
    };
    emit(pending, &bytes)
}

/// The report's view of the finished comparison (the same rounded figures as the JSON).
fn report(
    sides: &[SideResult],
    pairs: &[PairResult],
    trials: u64,
    seed: u64,
    sampling: &str,
    warnings: &[String],
) -> CompareReport {
    CompareReport {
        sides: sides
            .iter()
            .enumerate()
            .map(|(i, s)| CompareSide {
                letter: letter(i),
                name: s.loaded.scenario.name.clone(),
                file: s.loaded.file.clone(),
                sha256: s.loaded.sha256.clone(),
                pot: s.pot,
                paid: s.paid.clone(),
                mcse: pence(s.paid_mcse),
                p_full: s.p_full,
                p_zero: s.p_zero,
                net: s.net.clone(),
            })
            .collect(),
        pairs: pairs
            .iter()
            .map(|p| ComparePair {
                mean: p.mean,
                mcse: pence(p.mcse),
                mcse_independent: pence(p.mcse_independent),
                interval: p.interval(),
                p_more: p.p_better,
                p_tie: p.p_tie,
                p_less: p.p_worse,
                distribution: p.distribution.clone(),
            })
            .collect(),
        trials,
        seed,
        sampling: sampling.into(),
        // Every side loads with the same `--set`s.
        sets: sides
            .first()
            .map_or_else(Vec::new, |s| s.loaded.sets.clone()),
        warnings: warnings.to_vec(),
    }
}

fn letter(i: usize) -> String {
    if i < 26 {
        char::from(b'A' + i as u8).to_string()
    } else {
        format!("S{}", i + 1)
    }
}

fn render_json(
    sides: &[SideResult],
    pairs: &[PairResult],
    trials: u64,
    seed: u64,
    sampling: &str,
    threads: usize,
    warnings: &[String],
) -> Value {
    let scenarios: Vec<Value> = sides
        .iter()
        .map(|s| {
            json!({
                "name": s.loaded.scenario.name,
                "file": s.loaded.file,
                "sha256": s.loaded.sha256,
                "sets": s.loaded.sets,
                "pot": format_pence(s.pot),
                "paid": {
                    "mean": format_pence(s.paid.mean),
                    "mcse": format_pence(pence(s.paid_mcse)),
                    "p10": format_pence(s.paid.p10),
                    "p50": format_pence(s.paid.p50),
                    "p90": format_pence(s.paid.p90),
                },
                "p_full": s.p_full,
                "p_zero": s.p_zero,
                "partners": s.net.iter().map(|(id, net)| json!({"id": id, "net": format_pence(*net)})).collect::<Vec<_>>(),
            })
        })
        .collect();
    let differences: Vec<Value> = pairs
        .iter()
        .zip(&sides[1..])
        .map(|(p, s)| {
            let (lo, hi) = p.interval();
            json!({
                "scenario": s.loaded.file,
                "against": sides[0].loaded.file,
                "mean": format_pence(p.mean),
                "mcse": format_pence(pence(p.mcse)),
                "mcse_independent": format_pence(pence(p.mcse_independent)),
                "interval_90": [format_pence(lo), format_pence(hi)],
                "p_better": p.p_better,
                "p_tie": p.p_tie,
                "p_worse": p.p_worse,
            })
        })
        .collect();
    json!({
        "itfsim": env!("CARGO_PKG_VERSION"),
        "run": {"trials": trials, "seed": seed, "sampling": sampling, "threads": threads},
        "scenarios": scenarios,
        "differences": differences,
        "warnings": warnings,
    })
}

fn render_text(sides: &[SideResult], pairs: &[PairResult], trials: u64, seed: u64) -> String {
    let mut out = format!(
        "itfsim compare: {} scenarios on the same {trials} trials, seed {seed} (common random numbers)\n\n",
        sides.len()
    );
    for (i, s) in sides.iter().enumerate() {
        out += &format!(
            "  {}: {} ({})\n",
            letter(i),
            s.loaded.file,
            s.loaded.scenario.name
        );
    }
    let mut rows: Vec<(String, Vec<String>)> = vec![
        (
            "Pot".into(),
            sides.iter().map(|s| format_gbp(s.pot)).collect(),
        ),
        (
            "Expected paid".into(),
            sides.iter().map(|s| format_gbp(s.paid.mean)).collect(),
        ),
        (
            "  MCSE".into(),
            sides
                .iter()
                .map(|s| format_gbp(pence(s.paid_mcse)))
                .collect(),
        ),
        (
            "P(full)".into(),
            sides.iter().map(|s| prob(s.p_full)).collect(),
        ),
        (
            "P(zero)".into(),
            sides.iter().map(|s| prob(s.p_zero)).collect(),
        ),
        (
            "Paid p10".into(),
            sides.iter().map(|s| format_gbp(s.paid.p10)).collect(),
        ),
        (
            "Paid p50".into(),
            sides.iter().map(|s| format_gbp(s.paid.p50)).collect(),
        ),
        (
            "Paid p90".into(),
            sides.iter().map(|s| format_gbp(s.paid.p90)).collect(),
        ),
    ];
    let mut partner_ids: Vec<&str> = Vec::new();
    for s in sides {
        for (id, _) in &s.net {
            if !partner_ids.contains(&id.as_str()) {
                partner_ids.push(id);
            }
        }
    }
    for id in partner_ids {
        rows.push((
            format!("Expected net: {id}"),
            sides
                .iter()
                .map(|s| {
                    s.net
                        .iter()
                        .find(|(p, _)| p == id)
                        .map_or("-".to_string(), |(_, n)| format_gbp(*n))
                })
                .collect(),
        ));
    }
    let label_width = rows
        .iter()
        .map(|(l, _)| l.chars().count())
        .max()
        .unwrap_or(0);
    let width = rows
        .iter()
        .flat_map(|(_, v)| v.iter().map(|c| c.chars().count()))
        .max()
        .unwrap_or(0)
        .max(2);
    out += &format!("\n{:label_width$}", "");
    for i in 0..sides.len() {
        out += &format!("  {:>width$}", letter(i));
    }
    out += "\n";
    for (label, cells) in &rows {
        out += &format!("{label:label_width$}");
        for c in cells {
            out += &format!("  {c:>width$}");
        }
        out += "\n";
    }
    out += "\nPaired differences in total paid against A (same trials, common random numbers):\n";
    for (j, p) in pairs.iter().enumerate() {
        let b = letter(j + 1);
        let (lo, hi) = p.interval();
        let reduction = if p.mcse > 0.0 {
            format!("{:.1}x smaller", p.mcse_independent / p.mcse)
        } else {
            "no Monte Carlo error at all".to_string()
        };
        out += &format!(
            "  {b} - A: mean {}, MCSE {} (independent streams: {}; {reduction})\n",
            format_gbp(p.mean),
            format_gbp(pence(p.mcse)),
            format_gbp(pence(p.mcse_independent)),
        );
        out += &format!(
            "         90% interval of the mean difference [{}, {}]\n",
            format_gbp(lo),
            format_gbp(hi)
        );
        out += &format!(
            "         P({b} paid more) {}, P(tie) {}, P({b} paid less) {}\n",
            prob(p.p_better),
            prob(p.p_tie),
            prob(p.p_worse)
        );
    }
    out
}
