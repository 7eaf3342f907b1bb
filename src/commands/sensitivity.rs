//! `itfsim sensitivity`: tornado, rank correlations and Sobol indices of a scenario,
//! as text, JSON, or CSV (when `--out` ends in `.csv`).
use super::Failure;
use super::run::prepare;
use crate::atomic::PendingFile;
use crate::cli::{Format, Method, Sampling, SensitivityArgs};
use crate::report::sensitivity_report;
use crate::sensitivity::report::{self, Report};
use crate::sensitivity::tornado::Point;
use crate::sensitivity::{InputKind, inputs, output_names, rank, sobol, tornado};
use std::io::IsTerminal;

pub use super::emit;

pub fn sensitivity(args: &SensitivityArgs) -> Result<(), Failure> {
    let o = &args.options;
    let wants_sobol = matches!(args.method, Method::Sobol | Method::All);
    if wants_sobol && o.sampling == Sampling::Lhs {
        return Err(Failure::new(
            2,
            "Sobol indices need independent A and B samples: use --sampling mc (tornado and rank accept lhs)",
        ));
    }
    let p = prepare(&args.scenario, o)?;
    let pending = o.out.as_deref().map(PendingFile::create).transpose()?;
    let report_file = super::reserve(args.report.as_deref())?;
    super::warn_scenario(&p.loaded.scenario, o.quiet);
    let show = !o.quiet && std::io::stderr().is_terminal();
    let model = &p.model;
    let all_inputs = inputs(model);
    let base = Point::run(model, p.trials, p.threads)?;
    let mut notes = vec![
        "inputs are the uncertain parameters (held at p10/p90) and the yes/no outcomes with a fixed probability (held at no/yes); an outcome whose probability is a distribution is analysed through that probability".to_string(),
    ];
    let tornado_rows = if matches!(args.method, Method::Tornado | Method::Both | Method::All) {
        let n = all_inputs.len();
        Some(tornado::tornado(
            model,
            &all_inputs,
            p.trials,
            p.threads,
            |k| {
                if show {
                    super::write_stderr(format_args!("\rtornado: input {}/{n}", k + 1));
                }
            },
        )?)
    } else {
        None
    };
    if show && tornado_rows.is_some() {
        super::stderr_line("");
    }
    let rank_result = if matches!(
        args.method,
        Method::Rank | Method::Both | Method::Sobol | Method::All
    ) {
        let r = rank::rank(model, &all_inputs, p.trials, p.threads)?;
        if r.trials < p.trials {
            notes.push(format!(
                "rank correlations use the first {} of {} trials (per-trial values are kept in memory)",
                r.trials, p.trials
            ));
        }
        Some(r)
    } else {
        None
    };
    let sobol_result = if wants_sobol {
        let top = args.top as usize;
        // Order inputs by tornado swing, else by |rank correlation with paid|.
        let mut order: Vec<usize> = (0..all_inputs.len()).collect();
        let by = match &tornado_rows {
            Some(rows) => {
                let swing = |i: usize| {
                    rows.iter()
                        .find(|r| r.path == all_inputs[i].path)
                        .map_or(0, |r| r.swing()) as f64
                };
                order.sort_by(|&a, &b| swing(b).total_cmp(&swing(a)));
                "tornado swing"
            }
            None => {
                let rows = &rank_result.as_ref().expect("rank ran").rows;
                let rho = |i: usize| rows[i].rho[0].map_or(0.0, f64::abs);
                order.sort_by(|&a, &b| rho(b).total_cmp(&rho(a)));
                "|rank correlation| with paid"
            }
        };
        order.truncate(top);
        let chosen: Vec<_> = order.iter().map(|&i| all_inputs[i].clone()).collect();
        notes.push(format!(
            "Sobol indices for the top {} inputs by {by}; the others and the observation noise stay random in every row",
            chosen.len()
        ));
        let n = chosen.len();
        Some(sobol::sobol(
            model,
            &chosen,
            p.trials,
            p.threads,
            args.bootstrap,
            |k| {
                if show {
                    super::write_stderr(format_args!("\rsobol: input {}/{n}", k + 1));
                }
            },
        )?)
    } else {
        None
    };
    if show && sobol_result.is_some() {
        super::stderr_line("");
    }
    let rank_result = if matches!(args.method, Method::Rank | Method::Both | Method::All) {
        rank_result
    } else {
        None
    };
    let correlated: Vec<String> = all_inputs
        .iter()
        .filter(|i| i.correlated())
        .map(|i| i.path.clone())
        .collect();
    if all_inputs.is_empty() {
        notes
            .push("the scenario has no uncertain inputs: only the observation noise varies".into());
    }
    if all_inputs
        .iter()
        .any(|i| matches!(i.kind, InputKind::Outcome(_)) && i.correlated())
    {
        notes.push("a correlated yes/no outcome held at no (yes) conditions its partners on the middle rank of its no (yes) region".into());
    }
    let mut warnings: Vec<String> = p
        .loaded
        .scenario
        .warnings
        .iter()
        .map(|w| w.one_line())
        .collect();
    if let Some(s) = &sobol_result {
        warnings.extend(s.warnings.iter().cloned());
    }
    let report = Report {
        scenario: p.loaded.scenario.name.clone(),
        file: args.scenario.display().to_string(),
        trials: p.trials,
        seed: p.seed,
        sampling: model.sampler.name().into(),
        threads: p.threads,
        pot: model.pot,
        outputs: output_names(model),
        partners: model
            .scenario
            .partners
            .iter()
            .map(|x| x.id.clone())
            .collect(),
        base,
        correlated,
        tornado: tornado_rows,
        rank: rank_result,
        sobol: sobol_result,
        notes,
        warnings,
        top: args.top as usize,
    };
    if let Some(file) = report_file {
        let html = sensitivity_report::document(&report, &p.loaded.sha256, &p.loaded.sets).render();
        file.commit(html.as_bytes())?;
    }
    // As sweep and thresholds: the default text becomes CSV for an `--out` ending in
    // `.csv`; an explicit `--format json` is kept whatever the file is called.
    let bytes = match super::output_format(o.format, o.out.as_deref(), true) {
        Format::Csv => report::to_csv(&report).into_bytes(),
        Format::Json => {
            let mut b = serde_json::to_vec_pretty(&report::to_json(&report))
                .map_err(|e| Failure::new(1, e.to_string()))?;
            b.push(b'\n');
            b
        }
        Format::Text => report::to_text(&report).into_bytes(),
    };
    emit(pending, &bytes)
}
