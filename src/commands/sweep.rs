//! `itfsim sweep`: a scenario run at every point of a cartesian product of grids over
//! `--set` paths, with the same seed and trials (common random numbers), one row per
//! point: an aligned text table (the default), CSV (`--format csv`, or text with `--out`
//! ending in `.csv`) or JSON.
//!
//! Each point loads the scenario with the user's `--set`s and then the point's values as
//! further `--set`s (so a grid may sweep a key inside a distribution the user set), and
//! runs it like `run`, keeping only the figures of its row (`engine::run_totals`): a row
//! equals `run --set ...` at that point. With `--out FILE`
//! rows go point by point into `FILE.partial` (see `sweep_output`), which `--resume`
//! continues if its fingerprint — the build identity, sha256 of the scenario bytes, the
//! shard, and sha256 of the canonical options (trials, seed, sampling, --sets,
//! expanded grids) — matches; otherwise it refuses with exit 2 (the command line asks to
//! resume a different sweep, or rows of another build; the scenario is not invalid, so
//! not 65). The finished file is committed atomically.
//!
//! With `--shard I/N` (`--out` required) it runs only the contiguous block of points
//! `partial::point_block` gives shard I, and writes a partial result for `itfsim merge`
//! instead of the table (see `sweep_shard`). `--resume` works per shard: the shard's rows
//! go to `FILE.partial` as above, under a header that also names the shard.
use super::grid::{Grid, parse_grid, point_count, point_values};
use super::sweep_output::{Partial, ResumeError, header, partial_path};
use super::sweep_shard::{self, ShardRun, options_sha256};
use super::{Failure, emit};
use crate::atomic::PendingFile;
use crate::cli::SweepArgs;
use crate::engine;
use crate::model::compile;
use crate::money::format_pence;
use crate::partial::point_block;
use crate::report::sweep_report;
use crate::scenario::{LoadError, load, load_str_overrides};
use serde_json::{Map, Value, json};
use std::io::IsTerminal;
use std::time::Instant;

/// Test hook: stop (exit 1) after this many points were written in this process, as an
/// interruption would.
const STOP_AFTER_ENV: &str = "ITFSIM_SWEEP_STOP_AFTER";

pub fn sweep(args: &SweepArgs) -> Result<(), Failure> {
    let o = &args.options;
    if args.resume && o.out.is_none() {
        return Err(Failure::new(
            2,
            "--resume needs --out FILE (it continues FILE.partial)",
        ));
    }
    let shard = super::shard_option(args.shard.as_deref())?;
    super::shard_needs_out(shard, o.out.as_deref())?;
    super::shard_writes_json(shard, o.format)?;
    if shard.is_some() && args.report.is_some() {
        return Err(Failure::new(
            2,
            "--shard writes a partial result, not a report\n  hint: give --report to `itfsim merge` instead; it writes the same report from the shards",
        ));
    }
    let (grids, notes): (Vec<Grid>, Vec<Option<String>>) = args
        .grids
        .iter()
        .map(|g| parse_grid(g, args.max_points))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|m| Failure::new(2, m))?
        .into_iter()
        .unzip();
    if !o.quiet {
        for note in notes.into_iter().flatten() {
            super::stderr_line(format_args!("note: {note}"));
        }
    }
    for (i, g) in grids.iter().enumerate() {
        if grids[..i].iter().any(|h| h.path == g.path) {
            return Err(Failure::new(
                2,
                format!("--grid {}: the path is given twice", g.path),
            ));
        }
    }
    let points = point_count(&grids, args.max_points).map_err(|m| Failure::new(2, m))?;
    let base = load(&args.scenario, &o.sets)?;
    let bytes = std::fs::read(&args.scenario)
        .map_err(|e| Failure::new(66, format!("{}: cannot read the scenario: {e}", base.file)))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| Failure::new(65, format!("{}: the file is not valid UTF-8", base.file)))?;
    let trials = o.trials.unwrap_or(base.scenario.trials);
    let seed = o.seed.unwrap_or(base.scenario.seed);
    let threads = super::threads(o);
    // A point's overrides: the user's --sets, then its grid values, each named by its
    // option so that an error about it says which.
    let overrides_of = |index: u64| -> Vec<(&'static str, String)> {
        let sets = o.sets.iter().map(|s| ("--set", s.clone()));
        let values = point_values(&grids, index);
        let points = grids
            .iter()
            .zip(values)
            .map(|(g, v)| ("--grid", format!("{}={v}", g.path)));
        sets.chain(points).collect()
    };
    let load_point = |index: u64| {
        let overrides = overrides_of(index);
        let borrowed: Vec<_> = overrides.iter().map(|(o, a)| (*o, a.as_str())).collect();
        load_str_overrides(&base.file, &text, &borrowed)
    };
    let describe = |index: u64| -> String {
        grids
            .iter()
            .zip(point_values(&grids, index))
            .map(|(g, v)| format!("{}={v}", g.path))
            .collect::<Vec<_>>()
            .join(" ")
    };
    // Every point's overrides must name real paths and give a valid scenario: check all
    // before any computing (an unknown path is a command-line error, exit 2). A point's
    // values may also raise warnings the scenario itself does not (a growth of 60% a
    // year, a correlated value made fixed): each key's is said once, as at its first
    // point, with how many later points raise it too.
    let said: Vec<String> = base
        .scenario
        .warnings
        .iter()
        .map(|w| w.to_string())
        .collect();
    let mut point_warnings: Vec<(String, String, u64, u64)> = Vec::new();
    for index in 0..points {
        let loaded = load_point(index);
        if let Ok(loaded) = &loaded {
            for w in &loaded.scenario.warnings {
                let text = w.to_string();
                if said.contains(&text) {
                    continue;
                }
                match point_warnings.iter_mut().find(|(key, ..)| *key == w.key) {
                    Some((.., more)) => *more += 1,
                    None => point_warnings.push((w.key.clone(), text, index, 0)),
                }
            }
        }
        if let Err(e) = loaded {
            let message = match &e {
                // Named by the option that gave the path (`--grid PATH=VALUE: ...`).
                LoadError::BadSet { .. } => e.to_string(),
                // Located at the option that gave the value (`--grid PATH:1:1: ...`).
                _ => format!(
                    "sweep point {} of {points} ({}) makes the scenario invalid:\n{e}",
                    index + 1,
                    describe(index)
                ),
            };
            return Err(Failure::new(e.exit_code(), message));
        }
    }
    let partners = sweep_shard::partners(&base);
    let columns = sweep_shard::columns(&grids, &partners);
    let scenario_sha = crate::scenario::sha256_hex(text.as_bytes());
    let sampling = o.sampling.name();
    let options_sha = options_sha256(trials, seed, sampling, &o.sets, &grids);
    let head = header(crate::BUILD_ID, &scenario_sha, &options_sha, shard);
    // The points this process runs: all of them, or the shard's block.
    let block = match shard {
        Some(s) => point_block(points, s.index, s.count),
        None => 0..points,
    };
    let block_len = block.end - block.start;
    // Reserve the output before computing (exit 73 on an unwritable path).
    let pending = o.out.as_deref().map(PendingFile::create).transpose()?;
    let report_file = super::reserve(args.report.as_deref())?;
    let mut rows: Vec<Value> = Vec::new();
    let mut partial = match &o.out {
        None => None,
        Some(out) => {
            let path = partial_path(out);
            // Said from before the partial file is created (an empty one is started afresh
            // by --resume).
            crate::interrupt::set_note(format!(
                "the sweep was stopped before it finished; its finished points are kept in {}: run the same command with --resume to go on from there",
                path.display()
            ));
            // An empty file is a partial whose header never got written (stopped at once):
            // nothing to resume.
            if args.resume && path.metadata().is_ok_and(|m| m.len() > 0) {
                let (p, done) = Partial::resume(&path, &head).map_err(|e| match e {
                    ResumeError::Io(m) => Failure::new(73, m),
                    ResumeError::Mismatch(m) => Failure::new(2, m),
                })?;
                if done.len() as u64 > block_len {
                    return Err(Failure::new(
                        2,
                        format!(
                            "cannot resume from {}: it holds more rows than the sweep (or shard) has points",
                            path.display()
                        ),
                    ));
                }
                if !o.quiet {
                    super::stderr_line(format_args!(
                        "resuming from {}: {} of {block_len} points done",
                        path.display(),
                        done.len()
                    ));
                }
                rows = done;
                Some(p)
            } else {
                if !o.quiet {
                    if args.resume && path.exists() {
                        super::stderr_line(format_args!(
                            "the partial file {} is empty (its sweep stopped before its first line); starting from the first point",
                            path.display()
                        ));
                    } else if args.resume {
                        super::stderr_line(format_args!(
                            "no partial file {}; starting from the first point",
                            path.display()
                        ));
                    } else if path.exists() {
                        super::stderr_line(format_args!(
                            "replacing the earlier partial file {} (use --resume to continue it)",
                            path.display()
                        ));
                    }
                }
                Some(Partial::create(&path, &head).map_err(|m| Failure::new(73, m))?)
            }
        }
    };
    super::warn_scenario(&base.scenario, o.quiet);
    if !o.quiet {
        for (_, w, first, more) in &point_warnings {
            let others = match more {
                0 => String::new(),
                1 => " and 1 later point".into(),
                n => format!(" and {n} later points"),
            };
            super::stderr_line(format_args!(
                "at sweep point {} of {points} ({}){others}: {w}",
                first + 1,
                describe(*first)
            ));
        }
    }
    let stop_after: Option<u64> = std::env::var(STOP_AFTER_ENV)
        .ok()
        .and_then(|v| v.parse().ok());
    let progress = (!o.quiet && std::io::stderr().is_terminal()).then(|| {
        let bar = indicatif::ProgressBar::new(block_len);
        bar.set_position(rows.len() as u64);
        bar
    });
    let started = Instant::now();
    let mut written = 0u64;
    for index in block.start + rows.len() as u64..block.end {
        let loaded = load_point(index)?;
        let mut model = compile(&loaded.scenario, seed).map_err(|e| {
            Failure::new(
                65,
                format!("sweep point {} ({}): {e}", index + 1, describe(index)),
            )
        })?;
        super::apply_sampling(&mut model, o.sampling, trials);
        // A row reads only total paid, P(full), P(zero) and the partners' mean nets:
        // a run that keeps only those (the same figures `run` reports).
        let totals = engine::run_totals(&model, 0..trials, threads)?;
        let paid = totals.paid.finish();
        let mut row = Map::new();
        for (g, v) in grids.iter().zip(point_values(&grids, index)) {
            row.insert(g.path.clone(), Value::String(v.to_string()));
        }
        row.insert("expected_paid".into(), format_pence(paid.mean).into());
        row.insert("mcse".into(), format_pence(paid.mcse).into());
        row.insert("p_full".into(), json!(totals.full.value()));
        row.insert("p_zero".into(), json!(totals.zero.value()));
        row.insert("paid_p10".into(), format_pence(paid.p10).into());
        row.insert("paid_p50".into(), format_pence(paid.p50).into());
        row.insert("paid_p90".into(), format_pence(paid.p90).into());
        for id in &partners {
            let net = (loaded.scenario.partners.iter())
                .zip(&totals.net)
                .find(|(p, _)| &p.id == id)
                .map(|(_, net)| format_pence(net.mean_pence()));
            row.insert(format!("net_{id}"), net.map_or(Value::Null, Value::String));
        }
        let row = Value::Object(row);
        if let Some(p) = &mut partial {
            p.append(&row).map_err(|m| Failure::new(73, m))?;
        }
        rows.push(row);
        written += 1;
        if let Some(bar) = &progress {
            bar.inc(1);
        }
        if stop_after == Some(written) && index + 1 < block.end {
            return Err(Failure::new(
                1,
                format!("sweep stopped after {written} points ({STOP_AFTER_ENV})"),
            ));
        }
    }
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    if let Some(file) = report_file {
        let report = sweep_shard::report(&base, trials, seed, sampling, &grids, rows.clone());
        file.commit(sweep_report::document(&report).render().as_bytes())?;
    }
    let bytes = match shard {
        Some(shard) => sweep_shard::shard_partial(ShardRun {
            base: &base,
            text,
            sets: &o.sets,
            trials,
            seed,
            sampling,
            grids: &grids,
            points,
            shard,
            threads,
            elapsed_s: started.elapsed().as_secs_f64(),
            rows,
        })
        .to_bytes(),
        None => sweep_shard::render(
            super::output_format(o.format, o.out.as_deref(), true),
            &columns,
            &rows,
        ),
    };
    emit(pending, &bytes)?;
    if let Some(p) = partial {
        let path = p.path().to_path_buf();
        drop(p);
        std::fs::remove_file(&path).map_err(|e| {
            Failure::new(
                73,
                format!("wrote the output but cannot remove {}: {e}", path.display()),
            )
        })?;
    }
    Ok(())
}
