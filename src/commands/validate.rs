//! `itfsim validate`: check scenario files, report every problem, exit 65 (or 66) if any.
//!
//! The checks are `scenario::load`'s, which include building the model (`model::check`),
//! so a file validate accepts is one `run` accepts; only money leaving the exact range in
//! some trial is found by simulating, not here.
use super::Failure;
use crate::scenario::{LoadError, load};
use std::path::PathBuf;

pub fn validate(files: &[PathBuf]) -> Result<(), Failure> {
    let mut worst = 0;
    for file in files {
        match load(file, &[]) {
            Ok(loaded) => {
                for w in &loaded.scenario.warnings {
                    super::stderr_line(w);
                }
                let s = &loaded.scenario;
                let line = format!(
                    "{}: ok ({}, {}, {})\n",
                    file.display(),
                    super::plural(s.schemes.len(), "scheme"),
                    super::plural(s.metrics.len(), "metric"),
                    super::plural(s.tranches.len(), "tranche")
                );
                // A line at a time, so each file's verdict comes as it is checked; a
                // stdout that cannot be written ends the command (exit 73).
                super::emit(None, line.as_bytes())?;
            }
            Err(e) => {
                super::stderr_line(&e);
                let code = e.exit_code();
                worst = match (worst, &e) {
                    (_, LoadError::Unreadable { .. }) if worst != 65 => code,
                    (0, _) => code,
                    (w, _) => w.max(code),
                };
            }
        }
    }
    if worst == 0 {
        Ok(())
    } else {
        Err(Failure::new(worst, String::new()))
    }
}
