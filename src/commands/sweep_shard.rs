//! Sharded sweeps: what `sweep --shard I/N` packs into its partial result and how
//! `itfsim merge` turns a complete set of sweep partials back into the sweep's output.
//!
//! Shard I runs the contiguous block of points [`partial::point_block`] gives it, each
//! point over all the trials exactly as the unsharded sweep runs it, so its rows are the
//! unsharded sweep's rows for those points. The partial carries those rows (the state
//! every sweep output is rendered from), the expanded grids and the sweep's option
//! fingerprint. Merging checks each part (its checksum and build, see `partial`; the
//! fingerprint agrees, the grids hash to it, the block is the one the split gives, every
//! row holds its point's grid values and exactly the sweep's columns, of the types the
//! sweep writes) and concatenates the blocks in shard order; the text table, CSV, JSON
//! and HTML report are then rendered by the same functions `sweep` uses, so they are
//! byte-identical to the unsharded sweep's. Sweep outputs have no timing fields, so
//! nothing differs.
//!
//! The helpers shared with `sweep` (columns, the canonical options hash, rendering, the
//! report's inputs) live here so the two cannot drift apart.
use super::grid::{Grid, point_count, point_values};
use super::sweep_output::{render_csv, render_json, render_text};
use super::{Failure, emit};
use crate::atomic::PendingFile;
use crate::cli::Format;
use crate::partial::{self, Content, GridValues, Partial, ShardId, point_block};
use crate::report::sweep_report::{self, SweepReport};
use crate::scenario::Loaded;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Per-point columns after the grid paths (then one `net_<partner>` per partner).
const STAT_COLUMNS: [&str; 7] = [
    "expected_paid",
    "mcse",
    "p_full",
    "p_zero",
    "paid_p10",
    "paid_p50",
    "paid_p90",
];

/// The partner ids, in scenario order.
pub fn partners(loaded: &Loaded) -> Vec<String> {
    loaded
        .scenario
        .partners
        .iter()
        .map(|p| p.id.clone())
        .collect()
}

/// The output columns: grid paths, the statistics, `net_<partner>` for each partner.
pub fn columns(grids: &[Grid], partners: &[String]) -> Vec<String> {
    let mut columns: Vec<String> = grids.iter().map(|g| g.path.clone()).collect();
    columns.extend(STAT_COLUMNS.iter().map(|c| c.to_string()));
    columns.extend(partners.iter().map(|p| format!("net_{p}")));
    columns
}

/// sha256 of the canonical sweep options: the sweep's option fingerprint, the same for
/// every shard. (A shard's resumable rows file names its shard in its header beside this
/// hash, so a shard never resumes another shard's rows.)
pub fn options_sha256(
    trials: u64,
    seed: u64,
    sampling: &str,
    sets: &[String],
    grids: &[Grid],
) -> String {
    // No version or build here: the fingerprint carries the build separately, and a
    // merge by another build is allowed (with a warning), so the hash a shard wrote must
    // be the hash any build recomputes.
    let canonical = json!({
        "trials": trials,
        "seed": seed,
        "sampling": sampling,
        "sets": sets,
        "grids": grids.iter().map(|g| json!({"path": g.path, "values": g.values})).collect::<Vec<_>>(),
    });
    crate::scenario::sha256_hex(canonical.to_string().as_bytes())
}

/// The sweep's text table, CSV or JSON output.
pub fn render(format: Format, columns: &[String], rows: &[Value]) -> Vec<u8> {
    match format {
        Format::Json => render_json(columns, rows),
        Format::Text => render_text(columns, rows),
        Format::Csv => render_csv(columns, rows),
    }
}

/// The HTML report's inputs; `base` is the scenario loaded with the user's --sets.
pub fn report(
    base: &Loaded,
    trials: u64,
    seed: u64,
    sampling: &str,
    grids: &[Grid],
    rows: Vec<Value>,
) -> SweepReport {
    SweepReport {
        name: base.scenario.name.clone(),
        file: base.file.clone(),
        sha256: base.sha256.clone(),
        sets: base.sets.clone(),
        trials,
        seed,
        sampling: sampling.into(),
        grids: grids
            .iter()
            .map(|g| (g.path.clone(), g.values.clone()))
            .collect(),
        partners: partners(base),
        rows,
        warnings: base
            .scenario
            .warnings
            .iter()
            .map(|w| w.to_string())
            .collect(),
    }
}

/// What a sweep shard knows when it has run its block.
pub struct ShardRun<'a> {
    pub base: &'a Loaded,
    pub text: String,
    pub sets: &'a [String],
    pub trials: u64,
    pub seed: u64,
    /// "mc" or "lhs".
    pub sampling: &'a str,
    pub grids: &'a [Grid],
    pub points: u64,
    pub shard: ShardId,
    pub threads: usize,
    pub elapsed_s: f64,
    pub rows: Vec<Value>,
}

/// The partial result of a sweep shard.
pub fn shard_partial(s: ShardRun<'_>) -> Partial {
    let block = point_block(s.points, s.shard.index, s.shard.count);
    Partial {
        format: partial::FORMAT.into(),
        version: partial::VERSION,
        itfsim: env!("CARGO_PKG_VERSION").into(),
        fingerprint: partial::Fingerprint {
            command: "sweep".into(),
            build: crate::BUILD_ID.into(),
            scenario_file: s.base.file.clone(),
            scenario_sha256: s.base.sha256.clone(),
            sets: s.sets.to_vec(),
            seed: s.seed,
            trials: s.trials,
            sampling: s.sampling.into(),
            options_sha256: Some(options_sha256(
                s.trials, s.seed, s.sampling, s.sets, s.grids,
            )),
        },
        shard: s.shard,
        trial_range: [0, s.trials],
        threads: s.threads,
        elapsed_s: s.elapsed_s,
        scenario_text: s.text,
        content: Content::Sweep {
            grids: s
                .grids
                .iter()
                .map(|g| GridValues {
                    path: g.path.clone(),
                    values: g.values.clone(),
                })
                .collect(),
            points: s.points,
            point_range: [block.start, block.end],
            rows: s.rows,
        },
    }
}

/// Checks one row of a sweep partial (defence in depth behind its checksum): it holds
/// exactly `columns`, of which the first `grids` are the grid values (checked by the
/// caller) and the rest the statistics and `net_<partner>` columns, each of the type the
/// sweep writes (money as a string with two decimals, `net_` also null; `p_full` and
/// `p_zero` numbers in [0, 1]).
fn check_row(row: &Value, columns: &[String], grids: usize) -> Result<(), String> {
    let Some(object) = row.as_object() else {
        return Err("is not an object".into());
    };
    if let Some(extra) = object.keys().find(|k| !columns.contains(k)) {
        return Err(format!(
            "has `{extra}`, which is not a column of this sweep"
        ));
    }
    for column in &columns[grids..] {
        let value = object.get(column);
        let ok = match (column.as_str(), value) {
            (_, None) => return Err(format!("has no `{column}`")),
            ("p_full" | "p_zero", Some(v)) => v.as_f64().is_some_and(|p| (0.0..=1.0).contains(&p)),
            (c, Some(Value::Null)) => c.starts_with("net_"),
            (_, Some(Value::String(text))) => is_money(text),
            _ => false,
        };
        if !ok {
            return Err(format!(
                "has `{column}` = {}, not what a sweep writes there",
                value.map_or("nothing".into(), Value::to_string)
            ));
        }
    }
    Ok(())
}

/// Money as `format_pence` writes it: an optional minus, digits, a point, two digits.
fn is_money(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let Some((whole, pence)) = digits.split_once('.') else {
        return false;
    };
    !whole.is_empty()
        && pence.len() == 2
        && whole
            .bytes()
            .chain(pence.bytes())
            .all(|b| b.is_ascii_digit())
}

/// Merges sweep partials (`parts` yields each file read and parsed, the first already
/// known to be a sweep partial) and writes the sweep's output and, when asked, its report.
pub fn merge(
    parts: impl Iterator<Item = Result<(String, Partial), Failure>>,
    format: Format,
    pending: Option<PendingFile>,
    report_file: Option<PendingFile>,
    quiet: bool,
) -> Result<(), Failure> {
    let data = |e: partial::PartialError| Failure::new(65, e.to_string());
    let mut headers = Vec::new();
    let mut blocks: BTreeMap<u64, Vec<Value>> = BTreeMap::new();
    let mut base: Option<Loaded> = None;
    let mut scenario_text = String::new();
    let mut first_grids: Option<Vec<Grid>> = None;
    for part in parts {
        let (file, part) = part?;
        partial::admit(&mut headers, &file, &part).map_err(data)?;
        if base.is_none() {
            base = Some(super::merge::load_carried(&part)?);
            scenario_text.clone_from(&part.scenario_text);
        }
        let Partial {
            fingerprint: fp,
            shard,
            content,
            ..
        } = part;
        let bad = |what: String| {
            data(partial::PartialError::Damaged {
                file: file.clone(),
                what,
            })
        };
        let Content::Sweep {
            grids,
            points,
            point_range,
            rows,
        } = content
        else {
            return Err(bad("not a sweep partial".into()));
        };
        let grids: Vec<Grid> = grids
            .into_iter()
            .map(|g| Grid {
                path: g.path,
                values: g.values,
            })
            .collect();
        if fp.options_sha256.as_deref()
            != Some(options_sha256(fp.trials, fp.seed, &fp.sampling, &fp.sets, &grids).as_str())
            || grids.iter().any(|g| g.values.is_empty())
        {
            return Err(bad(
                "the grids it carries do not match its fingerprint's options_sha256".into(),
            ));
        }
        if point_count(&grids, u64::MAX).ok() != Some(points) {
            return Err(bad(format!(
                "it says the sweep has {points} points, but its grids make a different number"
            )));
        }
        let expected = point_block(points, shard.index, shard.count);
        let should = partial::range_text(expected.start, expected.end);
        if point_range != [expected.start, expected.end] {
            return Err(bad(format!(
                "shard {} of {} covers points {} but should cover points {should} of {points}",
                shard.index,
                shard.count,
                partial::range_text(point_range[0], point_range[1]),
            )));
        }
        if rows.len() as u64 != expected.end - expected.start {
            return Err(bad(format!(
                "content.rows has {} rows, but shard {} of {} covers the {} points {should}",
                rows.len(),
                shard.index,
                shard.count,
                expected.end - expected.start
            )));
        }
        let columns = columns(&grids, &partners(base.as_ref().expect("loaded above")));
        for (index, row) in expected.clone().zip(&rows) {
            for (g, v) in grids.iter().zip(point_values(&grids, index)) {
                if row.get(&g.path).and_then(Value::as_str) != Some(v) {
                    return Err(bad(format!(
                        "the row of point {} does not hold its grid value {}={v}",
                        index + 1,
                        g.path
                    )));
                }
            }
            check_row(row, &columns, grids.len()).map_err(|what| {
                bad(format!(
                    "content.rows[{}] (point {}) {what}",
                    index - expected.start,
                    index + 1
                ))
            })?;
        }
        if first_grids.is_none() {
            first_grids = Some(grids);
        }
        blocks.insert(shard.index, rows);
    }
    let headers = partial::check_complete(headers).map_err(data)?;
    let (Some(loaded), Some(grids)) = (base, first_grids) else {
        return Err(Failure::new(65, "no partial results to merge"));
    };
    let loaded = super::merge::named_as_shard_zero(loaded, &scenario_text, &headers)?;
    let fp = &headers[0].fingerprint;
    let rows: Vec<Value> = blocks.into_values().flatten().collect();
    // The scenario's warnings, which the sweep's report carries, as `sweep` says them.
    super::warn_scenario(&loaded.scenario, quiet);
    let columns = columns(&grids, &partners(&loaded));
    if let Some(file) = report_file {
        let report = report(
            &loaded,
            fp.trials,
            fp.seed,
            &fp.sampling,
            &grids,
            rows.clone(),
        );
        file.commit(sweep_report::document(&report).render().as_bytes())?;
    }
    emit(pending, &render(format, &columns, &rows))
}
