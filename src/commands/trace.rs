//! `itfsim trace`: replay one trial exactly as `run` computed it (same model, seed and
//! sampling plan) and print every sampled value and step, as text or JSON.
use super::Failure;
use super::run::prepare;
use crate::atomic::PendingFile;
use crate::cli::{Format, TraceArgs};
use crate::trace;

pub fn trace(args: &TraceArgs) -> Result<(), Failure> {
    let o = &args.options;
    let prepared = prepare(&args.scenario, o)?;
    if args.trial >= prepared.trials {
        return Err(Failure::new(
            2,
            format!(
                "--trial {} is outside the run's trials 0..{} (raise --trials)",
                args.trial, prepared.trials
            ),
        ));
    }
    let pending = o.out.as_deref().map(PendingFile::create).transpose()?;
    super::warn_scenario(&prepared.loaded.scenario, o.quiet);
    let trial = trace::replay(&prepared.model, args.trial);
    // A trial whose money left the exact range is refused as `run` refuses it, not shown
    // with figures that no longer add up.
    crate::engine::checked(&prepared.model, &trial, args.trial)?;
    let bytes = match super::output_format(o.format, o.out.as_deref(), false) {
        Format::Json => {
            let mut b = serde_json::to_vec_pretty(&trace::to_json(&prepared.model, &trial))
                .map_err(|e| Failure::new(1, e.to_string()))?;
            b.push(b'\n');
            b
        }
        Format::Csv => {
            return Err(super::csv_refused("trace"));
        }
        Format::Text => trace::to_text(&prepared.model, &trial).into_bytes(),
    };
    super::emit(pending, &bytes)
}
