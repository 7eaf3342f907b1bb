//! `itfsim thresholds`: the release curve as one condition's target moves, from ONE set
//! of trials.
//!
//! Each trial is simulated once (a block of trials at a time, as `run` simulates them:
//! `engine::simulate_block`); then, for every target on the grid, the condition's
//! tranche is re-released through `Model::tranche_outcome` (the function `run` itself
//! releases money with) with that condition's target overridden, the rest of the tranche
//! and every other tranche unchanged. Each grid target is first checked by loading the
//! scenario with `--set tranche.T.condition.M.target=X` (so an invalid target fails as
//! `run` would, exit 65) and the overriding value is the one that load reads, so every
//! row equals `run --set ...target=X` at the same seed and trials exactly.
use super::grid::{decimal_range, short_of};
use super::{Failure, emit};
use crate::atomic::PendingFile;
use crate::cli::{Format, ThresholdsArgs};
use crate::dist::Dist;
use crate::engine::{BLOCK, Gather, NEVER, fold_chunks_in_place, simulate_block};
use crate::model::{Lanes, Trial, compile};
use crate::money::{format_gbp, format_pence};
use crate::report::thresholds_report::{self, ThresholdRow, ThresholdsReport};
use crate::scenario::{ConditionKind, load, load_str};
use crate::stats::{PenceMoments, Proportion};
use rayon::prelude::*;
use rust_decimal::Decimal;
use serde_json::{Value, json};

/// A worker's block of trials (simulated a block at a time) and its per-target curves.
struct Block {
    trials: Vec<Trial>,
    lanes: Lanes,
    block: Gather,
    curves: Vec<Curve>,
}

/// Per-target accumulators.
#[derive(Clone, Copy, Default)]
struct Curve {
    met: Proportion,
    full: Proportion,
    total: PenceMoments,
    tranche: PenceMoments,
}

struct Row {
    target: String,
    p_met: f64,
    p_met_mcse: f64,
    paid: i64,
    mcse: i64,
    p_full: f64,
    tranche_paid: i64,
}

pub fn thresholds(args: &ThresholdsArgs) -> Result<(), Failure> {
    let o = &args.options;
    let base = load(&args.scenario, &o.sets)?;
    let s = &base.scenario;
    // Find TRANCHE.METRIC among metric conditions; c is its flattened index.
    let mut found = None;
    let mut known = Vec::new();
    let mut flat = 0;
    for (ti, tranche) in s.tranches.iter().enumerate() {
        let first = flat;
        for (k, cond) in tranche.conditions.iter().enumerate() {
            if let ConditionKind::Metric { metric, target, .. } = &cond.kind {
                let name = format!("{}.{}", tranche.id, s.metrics[*metric].id);
                if name == args.condition {
                    found = Some((
                        ti,
                        first,
                        flat,
                        k,
                        target.clone(),
                        s.metrics[*metric].id.clone(),
                    ));
                }
                known.push(name);
            }
            flat += 1;
        }
    }
    let Some((ti, first, c, _, target, metric_id)) = found else {
        return Err(Failure::new(
            2,
            format!(
                "--condition {}: no such metric condition in {}\n  hint: known TRANCHE.METRIC names: {}",
                args.condition,
                base.file,
                if known.is_empty() {
                    "(none)".to_string()
                } else {
                    known.join(", ")
                }
            ),
        ));
    };
    let tranche_id = s.tranches[ti].id.clone();
    let target_path = format!("tranche.{tranche_id}.condition.{metric_id}.target");
    if let Some(p) = &target
        && !matches!(p.dist, Dist::Fixed(_))
    {
        return Err(Failure::new(
            2,
            format!(
                "--condition {}: its target is a distribution, and thresholds moves a fixed target\n  hint: fix it first, e.g. --set {target_path}=0.035, or sweep the distribution's keys with itfsim sweep",
                args.condition
            ),
        ));
    }
    let targets = decimal_range(args.from, args.to, args.step, 100_000)
        .map_err(|m| Failure::new(2, format!("--from/--to/--step: {m}")))?;
    if let Some(note) = short_of("--from/--to/--step", args.to, &targets)
        && !o.quiet
    {
        super::stderr_line(format_args!("note: {note}"));
    }
    // Validate each target as `run --set` would, and read the value it would use: each
    // a whole load of the scenario (about 0.4 ms for Ealing), so the targets are loaded
    // in parallel; the first invalid one in grid order is the one reported.
    let text = std::fs::read_to_string(&args.scenario)
        .map_err(|e| Failure::new(66, format!("{}: cannot read the scenario: {e}", base.file)))?;
    let target_value = |t: &Decimal| -> Result<f64, Failure> {
        let mut sets = o.sets.clone();
        sets.push(format!("{target_path}={t}"));
        let point = load_str(&base.file, &text, &sets).map_err(|e| {
            Failure::new(
                e.exit_code(),
                format!("target {t} ({target_path}={t}) makes the scenario invalid:\n{e}"),
            )
        })?;
        point.scenario.tranches[ti]
            .conditions
            .iter()
            .find_map(|cond| match &cond.kind {
                ConditionKind::Metric {
                    metric,
                    target: Some(p),
                    ..
                } if point.scenario.metrics[*metric].id == metric_id => match p.dist {
                    Dist::Fixed(v) => Some(v),
                    _ => None,
                },
                _ => None,
            })
            .ok_or_else(|| Failure::new(1, format!("target {t}: the condition lost its target")))
    };
    let loaded: Vec<Result<f64, Failure>> = targets.par_iter().map(target_value).collect();
    let values = loaded.into_iter().collect::<Result<Vec<f64>, Failure>>()?;
    let trials = o.trials.unwrap_or(s.trials);
    let seed = o.seed.unwrap_or(s.seed);
    let threads = super::threads(o);
    let mut model = compile(s, seed)?;
    super::apply_sampling(&mut model, o.sampling, trials);
    let format = super::output_format(o.format, o.out.as_deref(), true);
    let pending = o.out.as_deref().map(PendingFile::create).transpose()?;
    let report_file = super::reserve(args.report.as_deref())?;
    super::warn_scenario(s, o.quiet);
    let fresh = || Block {
        trials: vec![Trial::new(&model); BLOCK],
        lanes: Lanes::new(&model, BLOCK),
        block: Gather::default(),
        curves: vec![Curve::default(); values.len()],
    };
    // Each trial of a block (in trial order) into every target's curve.
    let run_block = |b: &mut Block| -> Result<(), crate::engine::EngineError> {
        let (first_trial, n) = b.block.drain();
        if n == 0 {
            return Ok(());
        }
        simulate_block(&model, first_trial, &mut b.trials[..n], &mut b.lanes);
        for (i, trial) in b.trials[..n].iter_mut().enumerate() {
            crate::engine::checked(&model, trial, trial.index)?;
            // The block leaves the windows' results in its lanes; the rules read them
            // from the trial.
            model.complete_trial(&b.lanes, i, trial);
            let others_full = model
                .tranches
                .iter()
                .zip(&trial.tranche_paid)
                .enumerate()
                .all(|(i, (tr, paid))| i == ti || *paid == tr.amount);
            let rest = trial.total_paid - trial.tranche_paid[ti];
            let inputs = trial.rule_inputs();
            for (curve, &x) in b.curves.iter_mut().zip(&values) {
                let mut met = false;
                let outcome =
                    model.tranche_outcome(ti, first, &inputs, Some((c, x)), |ci, o, _| {
                        if ci == c {
                            met = o.met;
                        }
                    });
                curve.met.push(met);
                curve
                    .full
                    .push(others_full && outcome.paid == model.tranches[ti].amount);
                curve.total.push(rest + outcome.paid);
                curve.tranche.push(outcome.paid);
            }
        }
        Ok(())
    };
    // One state per worker over all its chunks: every curve's sums merge exactly.
    let state = fold_chunks_in_place(
        0..trials,
        threads,
        &NEVER,
        &|_| {},
        fresh,
        |b, index| {
            if b.block.take(index) {
                run_block(b)?;
            }
            Ok(())
        },
        run_block,
        |a, b| {
            for (x, y) in a.curves.iter_mut().zip(&b.curves) {
                x.met.merge(&y.met);
                x.full.merge(&y.full);
                x.total.merge(&y.total);
                x.tranche.merge(&y.tranche);
            }
        },
    )?
    .unwrap_or_else(fresh);
    let rows: Vec<Row> = targets
        .iter()
        .zip(&state.curves)
        .map(|(t, curve)| Row {
            target: t.to_string(),
            p_met: curve.met.value(),
            p_met_mcse: curve.met.mcse(),
            paid: curve.total.mean_pence(),
            mcse: curve.total.mcse_pence(),
            p_full: curve.full.value(),
            tranche_paid: curve.tranche.mean_pence(),
        })
        .collect();
    // The most ambitious target (the largest: a bigger reduction or a bigger gain in
    // points) met with probability >= confidence.
    let ambitious = rows.iter().rev().find(|r| r.p_met >= args.confidence);
    if let Some(file) = report_file {
        let report = ThresholdsReport {
            name: s.name.clone(),
            file: base.file.clone(),
            sha256: base.sha256.clone(),
            sets: base.sets.clone(),
            condition: args.condition.clone(),
            path: target_path.clone(),
            tranche_amount: model.tranches[ti].amount,
            pot: model.pot,
            trials,
            seed,
            sampling: model.sampler.name().into(),
            confidence: args.confidence,
            ambitious: rows.iter().rposition(|r| r.p_met >= args.confidence),
            rows: rows
                .iter()
                .zip(&values)
                .map(|(r, &value)| ThresholdRow {
                    target: r.target.clone(),
                    value,
                    p_met: r.p_met,
                    p_met_mcse: r.p_met_mcse,
                    paid: r.paid,
                    mcse: r.mcse,
                    p_full: r.p_full,
                    tranche_paid: r.tranche_paid,
                })
                .collect(),
            warnings: s.warnings.iter().map(|w| w.to_string()).collect(),
        };
        file.commit(thresholds_report::document(&report).render().as_bytes())?;
    }
    let bytes = match format {
        Format::Json => {
            let doc = json!({
                "itfsim": env!("CARGO_PKG_VERSION"),
                "scenario": {"name": s.name, "file": base.file, "sha256": base.sha256, "sets": base.sets},
                "run": {"trials": trials, "seed": seed, "sampling": model.sampler.name(), "threads": threads},
                "condition": args.condition,
                "path": target_path,
                "tranche_amount": format_pence(model.tranches[ti].amount),
                "pot": format_pence(model.pot),
                "confidence": args.confidence,
                "most_ambitious_target": ambitious.map(|r| Value::String(r.target.clone())).unwrap_or(Value::Null),
                "curve": rows.iter().map(|r| json!({
                    "target": r.target,
                    "p_met": r.p_met,
                    "expected_paid": format_pence(r.paid),
                    "mcse": format_pence(r.mcse),
                    "p_full": r.p_full,
                    "tranche_expected_paid": format_pence(r.tranche_paid),
                })).collect::<Vec<_>>(),
                "warnings": s.warnings.iter().map(|w| w.to_string()).collect::<Vec<_>>(),
            });
            let mut v = serde_json::to_vec_pretty(&doc).expect("JSON values serialise");
            v.push(b'\n');
            v
        }
        Format::Csv => {
            let mut out =
                String::from("target,p_met,expected_paid,mcse,p_full,tranche_expected_paid\n");
            for r in &rows {
                out += &format!(
                    "{},{},{},{},{},{}\n",
                    r.target,
                    json!(r.p_met),
                    format_pence(r.paid),
                    format_pence(r.mcse),
                    json!(r.p_full),
                    format_pence(r.tranche_paid)
                );
            }
            out.into_bytes()
        }
        Format::Text => {
            let mut out = format!(
                "itfsim thresholds: {} ({})\n{} trials, seed {seed}; condition {} ({target_path}), tranche amount {}, pot {}\n\n",
                base.file,
                s.name,
                trials,
                args.condition,
                format_gbp(model.tranches[ti].amount),
                format_gbp(model.pot)
            );
            out += &format!(
                "{:>10}  {:>8}  {:>16}  {:>10}  {:>11}  {:>16}\n",
                "target", "P(met)", "expected paid", "MCSE", "P(all paid)", "tranche paid"
            );
            for r in &rows {
                out += &format!(
                    "{:>10}  {:>8.4}  {:>16}  {:>10}  {:>11.4}  {:>16}\n",
                    r.target,
                    r.p_met,
                    format_gbp(r.paid),
                    format_gbp(r.mcse),
                    r.p_full,
                    format_gbp(r.tranche_paid)
                );
            }
            out += &match ambitious {
                Some(r) => format!(
                    "\nMost ambitious target met with probability >= {}: {} (P(met) {:.4})\n",
                    args.confidence, r.target, r.p_met
                ),
                None => format!(
                    "\nNo target on the grid is met with probability >= {}\n",
                    args.confidence
                ),
            };
            out.into_bytes()
        }
    };
    emit(pending, &bytes)
}
