//! `itfsim rollup RESULT.json...`: many areas' run results as one table, with the totals
//! that are exact whatever the areas have in common.
//!
//! A national run is one scenario per area, each run on its own (a Slurm array over the
//! area files: deploy/slurm/README.md, "National runs: many areas"). This reads what
//! `run --format json` (or `merge --format json` of run shards) wrote, one file per area,
//! checks each is a consistent run result (its figures add up: [`super::rollup_checks`]),
//! and gives a row per area and a total
//! (rendered by [`super::rollup_output`]). Only totals that need no joint model are given:
//! the expected amounts add exactly (linearity of expectation, summed in whole pence), the
//! expected number of areas paid in full or nothing is the sum of their probabilities, and
//! the Monte Carlo error of a summed mean is at most the sum of the areas' (Minkowski's
//! inequality, however the estimates are correlated). The spread of the national total is
//! not given: it depends on how the areas' outcomes move together, which no scenario file
//! states (areas run with the same seed even share every draw of a parameter path they
//! have in common), so quantiles of a sum would be an invention.
//!
//! Guards, because one area counted twice or one stale file silently moves a national
//! figure: the same file twice (any spelling, by device and inode) is refused, as are two
//! results of one area (the scenarios' `area`, from any files: variants of a plan belong
//! in `compare`, not in a sum) and (for every command, [`super::outputs_apart`]) an
//! `--out` naming an input; one scenario file's results twice when they name no area,
//! areas run with different trials, sampling or itfsim versions, and each area's own run
//! warnings are reported on stderr.
use super::rollup_checks::{NetParts, consistent};
use super::rollup_output::{csv, text, to_json};
use super::{Failure, emit, reserve, same_file};
use crate::cli::{Format, RollupArgs};
use crate::json_at;
use crate::money::{Pence, pounds_to_pence};
use crate::output::set_options;
use rust_decimal::Decimal;
use serde::Deserialize;
use std::path::Path;
use std::str::FromStr;

/// The parts of a run result (MODEL.md section 9) that a rollup reads; the rest is ignored.
#[derive(Deserialize)]
struct RunResult {
    itfsim: String,
    scenario: ScenarioInfo,
    run: RunInfo,
    fund: Fund,
    total: Total,
    partners: Vec<PartnerResult>,
    #[serde(default)]
    warnings: Vec<String>,
}

#[derive(Deserialize)]
struct ScenarioInfo {
    name: String,
    /// The scenario's `area`; absent from results of itfsim before it was written, and
    /// null when the scenario names none.
    #[serde(default)]
    area: Option<String>,
    sha256: String,
    /// The run's `--set` overrides; absent from results of itfsim before it wrote them.
    #[serde(default)]
    sets: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct RunInfo {
    trials: u64,
    seed: u64,
    sampling: String,
}

#[derive(Deserialize)]
struct Fund {
    pot: String,
}

#[derive(Deserialize)]
struct Total {
    paid: Summary,
    unreleased: Summary,
    p_full: f64,
    p_zero: f64,
}

#[derive(Deserialize)]
struct Summary {
    mean: String,
    sd: String,
    mcse: String,
    p5: String,
    p50: String,
    p95: String,
}

/// A summary of which only the mean is read (for the partners' identity).
#[derive(Deserialize)]
struct Mean {
    mean: String,
}

#[derive(Deserialize)]
struct PartnerResult {
    id: String,
    invest: Mean,
    savings: Mean,
    performance: Summary,
    risks: Mean,
    net: Summary,
}

/// One area's row, money in whole pence.
pub(super) struct Area {
    /// The path as given.
    pub file: String,
    pub name: String,
    pub area: Option<String>,
    pub sha256: String,
    /// `--set` overrides, when the result records them.
    pub sets: Option<Vec<String>>,
    pub version: String,
    pub trials: u64,
    pub seed: u64,
    pub sampling: String,
    pub pot: Pence,
    pub paid_mean: Pence,
    /// Read only to check the MCSE against it (mcse = sd / sqrt(trials)).
    pub paid_sd: Pence,
    pub paid_mcse: Pence,
    pub paid_p5: Pence,
    pub paid_p50: Pence,
    pub paid_p95: Pence,
    pub unreleased_mean: Pence,
    pub p_full: f64,
    pub p_zero: f64,
    /// Each partner's means: performance money and net position (what rollup adds up),
    /// and the invest, savings and risks the net is made of (for [`consistent`]).
    pub partners: Vec<NetParts>,
    /// The run's own warnings.
    pub warnings: Vec<String>,
}

/// Sums over the areas.
pub(super) struct Totals {
    pub pot: Pence,
    pub paid_mean: Pence,
    pub paid_mcse_at_most: Pence,
    pub unreleased_mean: Pence,
    pub expected_full: f64,
    pub expected_zero: f64,
    /// (partner id, areas that have it, summed mean performance, summed mean net), in
    /// the order the ids first appear.
    pub partners: Vec<(String, usize, Pence, Pence)>,
}

pub fn rollup(args: &RollupArgs) -> Result<(), Failure> {
    for (i, path) in args.results.iter().enumerate() {
        if let Some(before) = args.results[..i].iter().find(|b| same_file(b, path)) {
            return Err(Failure::new(
                2,
                format!(
                    "{} and {} are the same file: the area would be counted twice\n  hint: list each area's result once",
                    before.display(),
                    path.display()
                ),
            ));
        }
    }
    let pending = reserve(args.out.as_deref())?;
    let areas = args
        .results
        .iter()
        .map(|p| read(p))
        .collect::<Result<Vec<Area>, Failure>>()?;
    one_result_per_area(&areas)?;
    if !args.quiet {
        for warning in warnings(&areas) {
            super::stderr_line(format_args!("warning: {warning}"));
        }
    }
    let totals = totals(&areas)?;
    let bytes = match super::output_format(args.format, args.out.as_deref(), true) {
        Format::Text => text(&areas, &totals).into_bytes(),
        Format::Csv => csv(&areas, &totals).into_bytes(),
        Format::Json => {
            let mut b = serde_json::to_vec_pretty(&to_json(&areas, &totals))
                .map_err(|e| Failure::new(1, e.to_string()))?;
            b.push(b'\n');
            b
        }
    };
    emit(pending, &bytes)
}

const HINT: &str = "  hint: rollup reads what `itfsim run --format json --out FILE` writes, one file per area (or `itfsim merge --format json` of a run's shards)";

/// Reads one run result: exit 66 when the file cannot be read, 65 when it is not a
/// consistent run result, named by file, line and column (and by key for a figure that
/// parses but is wrong).
fn read(path: &Path) -> Result<Area, Failure> {
    let file = path.display().to_string();
    if path.is_dir() {
        return Err(Failure::new(
            66,
            format!(
                "{file}: cannot read the run result: it is a directory\n  hint: give the result files in it, e.g. {}",
                path.join("*.json").display()
            ),
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| {
        Failure::new(
            66,
            format!(
                "{file}: cannot read the run result: {e}\n  hint: check the path; {}",
                &HINT["  hint: ".len()..]
            ),
        )
    })?;
    let r: RunResult = serde_json::from_slice(&bytes).map_err(|e| {
        // serde_json counts a line's characters from 1 but says column 0 before the
        // first (an empty file, an error at a line's start); columns are 1-based here as
        // everywhere else.
        let at = if e.line() > 0 {
            format!("{file}:{}:{}", e.line(), e.column().max(1))
        } else {
            file.clone()
        };
        // serde_json's message ends with the location, which leads the line already.
        let message = e.to_string();
        let message = message
            .rsplit_once(" at line ")
            .map_or(message.as_str(), |(m, _)| m);
        Failure::new(
            65,
            format!(
                "{at}: not the JSON of an itfsim run result: {message}\n{}",
                other_output(&bytes).unwrap_or_else(|| HINT.into())
            ),
        )
    })?;
    // A figure that parses but is wrong is located by its key: file:line:column.
    let json = std::str::from_utf8(&bytes).unwrap_or_default();
    let located = |place: Option<(usize, usize)>, what: String| {
        let at = place.map_or(file.clone(), |(line, column)| {
            format!("{file}:{line}:{column}")
        });
        Failure::new(65, format!("{at}: {what}\n{HINT}"))
    };
    let bad = |key: &str, what: String| located(json_at::position(json, key), what);
    let money = |key: &str, text: &str| -> Result<Pence, Failure> {
        let amount = Decimal::from_str(text).ok().filter(|d| d.scale() <= 2);
        let Some(amount) = amount else {
            return Err(bad(
                key,
                format!("`{key}` is \"{text}\", not an amount in pounds with at most two decimals"),
            ));
        };
        pounds_to_pence(amount).map_err(|_| {
            bad(
                key,
                format!("`{key}` is \"{text}\", more than itfsim can hold"),
            )
        })
    };
    let probability = |key: &str, p: f64| -> Result<f64, Failure> {
        if (0.0..=1.0).contains(&p) {
            Ok(p)
        } else {
            Err(bad(key, format!("`{key}` is {p}, not a probability")))
        }
    };
    let paid = &r.total.paid;
    let mut partners: Vec<NetParts> = Vec::with_capacity(r.partners.len());
    for (i, p) in r.partners.iter().enumerate() {
        if partners.iter().any(|q| q.id == p.id) {
            return Err(located(
                json_at::element_position(json, "partners", i),
                format!("partner `{}` is listed twice", p.id),
            ));
        }
        let performance = money(
            &format!("partners.{}.performance.mean", p.id),
            &p.performance.mean,
        )?;
        let net = money(&format!("partners.{}.net.mean", p.id), &p.net.mean)?;
        let mean = |what: &str, m: &Mean| money(&format!("partners.{}.{what}.mean", p.id), &m.mean);
        partners.push(NetParts {
            id: p.id.clone(),
            invest: mean("invest", &p.invest)?,
            savings: mean("savings", &p.savings)?,
            performance,
            risks: mean("risks", &p.risks)?,
            net,
        });
    }
    let area = Area {
        name: r.scenario.name,
        area: r.scenario.area,
        sha256: r.scenario.sha256,
        sets: r.scenario.sets,
        version: r.itfsim,
        trials: r.run.trials,
        seed: r.run.seed,
        sampling: r.run.sampling,
        pot: money("fund.pot", &r.fund.pot)?,
        paid_mean: money("total.paid.mean", &paid.mean)?,
        paid_sd: money("total.paid.sd", &paid.sd)?,
        paid_mcse: money("total.paid.mcse", &paid.mcse)?,
        paid_p5: money("total.paid.p5", &paid.p5)?,
        paid_p50: money("total.paid.p50", &paid.p50)?,
        paid_p95: money("total.paid.p95", &paid.p95)?,
        unreleased_mean: money("total.unreleased.mean", &r.total.unreleased.mean)?,
        p_full: probability("total.p_full", r.total.p_full)?,
        p_zero: probability("total.p_zero", r.total.p_zero)?,
        partners,
        warnings: r.warnings,
        file: file.clone(),
    };
    consistent(&area).map_err(|(key, what)| bad(&key, what))?;
    Ok(area)
}

/// The hint for a file that is another itfsim output, recognised by `OutputKind::of`.
fn other_output(bytes: &[u8]) -> Option<String> {
    use super::OutputKind;
    Some(match OutputKind::of(bytes)? {
        OutputKind::Rollup => "  hint: this is the output of `itfsim rollup` itself (a glob caught it?): leave it out of the inputs".into(),
        OutputKind::Partial => "  hint: this is a shard's partial result: merge the shards first (`itfsim merge PARTS... --format json --out RESULT.json`)".into(),
        kind => format!("  hint: this is {}, not the result of `itfsim run`", kind.describe()),
    })
}

/// An area in the sense of the scenarios' `area`: case and runs of spaces aside.
fn area_key(area: &str) -> String {
    area.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Refuses (exit 2, as the same file twice) two results of one area: variants of a plan
/// (another scenario file, another `--set`) are worth comparing, but added into a national
/// total they count the area twice. Results without an area (a scenario that names none,
/// or a result written before itfsim wrote it) are only caught by [`warnings`], when they
/// come from one scenario file.
fn one_result_per_area(areas: &[Area]) -> Result<(), Failure> {
    for (i, a) in areas.iter().enumerate() {
        let Some(area) = &a.area else { continue };
        let same = |b: &&Area| {
            b.area
                .as_deref()
                .is_some_and(|x| area_key(x) == area_key(area))
        };
        if let Some(b) = areas[..i].iter().find(same) {
            return Err(Failure::new(
                2,
                format!(
                    "{} and {} are both results for the area \"{area}\" (scenarios \"{}\" and \"{}\"): rollup adds areas into one total, which would count that area twice\n  hint: give one result per area; to set variants of one area side by side, use `itfsim compare A.toml B.toml`; if these are different areas, give each scenario its own `area`",
                    b.file, a.file, b.name, a.name
                ),
            ));
        }
    }
    Ok(())
}

/// What the analyst should know before trusting the totals: each area's own warnings, one
/// scenario file's results given twice, and areas run with different settings.
fn warnings(areas: &[Area]) -> Vec<String> {
    let mut out = Vec::new();
    for a in areas {
        for w in &a.warnings {
            out.push(format!("{}: {w}", a.file));
        }
    }
    for (i, a) in areas.iter().enumerate() {
        // With the same area on both, [`one_result_per_area`] has refused them already;
        // different areas (`--set scenario.area=...`) are different areas.
        let unnamed = |b: &Area| a.area.is_none() || b.area.is_none();
        if let Some(b) = areas[..i]
            .iter()
            .find(|b| b.sha256 == a.sha256 && unnamed(b))
        {
            let (files, name) = (format!("{} and {}", b.file, a.file), &a.name);
            out.push(match (&b.sets, &a.sets) {
                (Some(x), Some(y)) if x == y => format!(
                    "{files} are results of the same scenario file (\"{name}\") with the same overrides ({}): that area is counted twice in the totals",
                    set_options(x)
                ),
                (Some(x), Some(y)) => format!(
                    "{files} are results of the same scenario file (\"{name}\") with different overrides ({} and {}): variants of one area are counted twice in the totals, unless the overrides make them different areas",
                    set_options(x),
                    set_options(y)
                ),
                _ => format!(
                    "{files} are results of the same scenario file (\"{name}\"): that area is counted twice in the totals, unless they are different --set variants of it"
                ),
            });
        }
    }
    let mixed = |what: &str, value: &dyn Fn(&Area) -> String| {
        let first = value(&areas[0]);
        areas.iter().find(|a| value(a) != first).map(|a| {
            format!(
                "the areas were run with different {what} ({} in {}, {} in {}): check they were meant to be",
                first,
                areas[0].file,
                value(a),
                a.file
            )
        })
    };
    out.extend(mixed("numbers of trials", &|a| a.trials.to_string()));
    out.extend(mixed("sampling", &|a| a.sampling.clone()));
    out.extend(mixed("itfsim versions", &|a| a.version.clone()));
    out
}

fn totals(areas: &[Area]) -> Result<Totals, Failure> {
    let overflow = |what: &str| {
        Failure::new(
            65,
            format!(
                "the areas' {what} add up to more than itfsim can hold\n  hint: check the results for hand-edited amounts"
            ),
        )
    };
    let sum = |what: &str, f: &dyn Fn(&Area) -> Pence| -> Result<Pence, Failure> {
        areas
            .iter()
            .try_fold(0i64, |acc, a| acc.checked_add(f(a)))
            .ok_or_else(|| overflow(what))
    };
    let mut partners: Vec<(String, usize, Pence, Pence)> = Vec::new();
    for NetParts {
        id,
        performance,
        net,
        ..
    } in areas.iter().flat_map(|a| &a.partners)
    {
        let at = match partners.iter().position(|p| &p.0 == id) {
            Some(at) => at,
            None => {
                partners.push((id.clone(), 0, 0, 0));
                partners.len() - 1
            }
        };
        let p = &mut partners[at];
        p.1 += 1;
        let what = format!("means for partner {id}");
        p.2 =
            p.2.checked_add(*performance)
                .ok_or_else(|| overflow(&what))?;
        p.3 = p.3.checked_add(*net).ok_or_else(|| overflow(&what))?;
    }
    Ok(Totals {
        pot: sum("pots", &|a| a.pot)?,
        paid_mean: sum("mean payments", &|a| a.paid_mean)?,
        paid_mcse_at_most: sum("Monte Carlo errors", &|a| a.paid_mcse)?,
        unreleased_mean: sum("mean unreleased amounts", &|a| a.unreleased_mean)?,
        expected_full: sum_probabilities(areas.iter().map(|a| a.p_full)),
        expected_zero: sum_probabilities(areas.iter().map(|a| a.p_zero)),
        partners,
    })
}

/// The sum of probabilities, rounded to 9 decimals: each is a ratio of counts, so the
/// floating-point sum carries only rounding noise beyond that ("46.52400000000001").
fn sum_probabilities(ps: impl Iterator<Item = f64>) -> f64 {
    (ps.sum::<f64>() * 1e9).round() / 1e9
}
