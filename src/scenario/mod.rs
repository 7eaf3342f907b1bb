//! Scenario files: read, override (`--set`), validate.
//!
//! `load` is the one entry point: it reads the file (exit 66 if it cannot), parses it into
//! a spanned tree (`tree`), applies `--set` overrides by path (`paths`), reads the tree
//! into a validated `Scenario` (`read` and its section readers), collecting every problem
//! with its file, line, column, key and a hint (exit 65), and makes the model's own checks
//! (`model::check`), so a scenario that loads is one every command can compile. The
//! scenario keeps its `Origin` (texts and tree), so problems found later are located too.
pub mod fields;
mod origin;
pub mod paths;
pub mod read;
mod read_lists;
mod read_metric;
mod read_scheme;
mod read_tranche;
pub mod tree;
pub mod types;

pub use origin::Origin;
pub use read_lists::all_params;
pub use types::*;

use crate::diagnostic::{Collector, Diagnostic, Severity, Sources, Span};
use sha2::{Digest, Sha256};
use std::path::Path;

/// A scenario with where it came from.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub scenario: Scenario,
    /// The file name as given on the command line.
    pub file: String,
    /// sha256 of the file's bytes, hex.
    pub sha256: String,
    /// The overrides applied to the file (`--set`, or a sweep point's grid values), each
    /// as `PATH=VALUE` with the spaces around both trimmed, in the order given: the file,
    /// its sha256 and these reproduce the scenario that ran.
    pub sets: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file cannot be read (missing, a directory, permissions): exit 66.
    #[error("{file}: cannot read the scenario: {message}\n  hint: {hint}")]
    Unreadable {
        file: String,
        message: String,
        hint: String,
    },
    /// The scenario is invalid: every problem, exit 65.
    #[error("{}", format_diagnostics(.0))]
    Invalid(Vec<Diagnostic>),
    /// The model cannot be built from the scenario and the key's place was not found in
    /// its text (never expected: the keys are the scenario's own), exit 65.
    #[error("{0}\n1 error found; the scenario was not run")]
    Model(crate::model::CompileError),
    /// A `--set` (or a sweep's `--grid`, as `option` says) names no value in the file, or
    /// a key its table does not have: a command-line error, exit 2.
    #[error("{option} {assignment}: {message}\n  hint: {hint}")]
    BadSet {
        option: &'static str,
        assignment: String,
        message: String,
        hint: String,
    },
}

impl LoadError {
    pub fn exit_code(&self) -> i32 {
        match self {
            LoadError::Unreadable { .. } => 66,
            LoadError::Invalid(_) | LoadError::Model(_) => 65,
            LoadError::BadSet { .. } => 2,
        }
    }
}

fn format_diagnostics(items: &[Diagnostic]) -> String {
    let errors = items
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    let mut out: Vec<String> = items.iter().map(|d| d.to_string()).collect();
    out.push(format!(
        "{errors} error{} found; the scenario was not run",
        if errors == 1 { "" } else { "s" }
    ));
    out.join("\n")
}

/// Maximum scenario file size read (bytes): over a hundred times the largest shipped
/// scenario, so a file this big is a wrong path (a data file, a log), not a scenario.
pub const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// Reads, overrides and validates a scenario file.
pub fn load(path: &Path, sets: &[String]) -> Result<Loaded, LoadError> {
    let file = path.display().to_string();
    let unreadable = |message: String, hint: &str| LoadError::Unreadable {
        file: file.clone(),
        message,
        hint: hint.to_string(),
    };
    let meta = std::fs::metadata(path).map_err(|e| {
        unreadable(
            e.to_string(),
            "check the path; scenarios live in scenarios/",
        )
    })?;
    if meta.is_dir() {
        return Err(unreadable(
            "it is a directory".into(),
            "give a .toml file, e.g. scenarios/ealing-2014.toml",
        ));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(unreadable(
            format!(
                "the file is {} bytes, over the {} MiB limit",
                meta.len(),
                MAX_FILE_BYTES >> 20
            ),
            "a scenario is a small hand-written TOML file",
        ));
    }
    let bytes = std::fs::read(path)
        .map_err(|e| unreadable(e.to_string(), "check the file's permissions"))?;
    let sha256 = sha256_hex(&bytes);
    let mut sources = Sources::new();
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let valid = e.utf8_error().valid_up_to();
            let lossy = String::from_utf8_lossy(e.as_bytes()).into_owned();
            let id = sources.add(file.clone(), lossy);
            let mut d = Collector::new(&sources);
            let prefix = String::from_utf8_lossy(&e.as_bytes()[..valid]).len();
            d.error(
                Span::new(id, prefix..prefix + 1),
                "(file)",
                format!("the file is not valid UTF-8 (byte {valid})"),
                "save the scenario as UTF-8 text",
            );
            return Err(LoadError::Invalid(d.items));
        }
    };
    let overrides: Vec<_> = sets.iter().map(|s| ("--set", s.as_str())).collect();
    from_text(&file, &text, sha256, &overrides)
}

/// Validates text directly (tests, fuzzing): same checks as `load`, no file system.
pub fn load_str(name: &str, text: &str, sets: &[String]) -> Result<Loaded, LoadError> {
    let overrides: Vec<_> = sets.iter().map(|s| ("--set", s.as_str())).collect();
    load_str_overrides(name, text, &overrides)
}

/// `load_str` with each override named by the option it came from (`--set`, or a sweep's
/// `--grid`), so that errors about it name that option.
pub fn load_str_overrides(
    name: &str,
    text: &str,
    overrides: &[(&'static str, &str)],
) -> Result<Loaded, LoadError> {
    from_text(name, text, sha256_hex(text.as_bytes()), overrides)
}

fn from_text(
    file: &str,
    text: &str,
    sha256: String,
    overrides: &[(&'static str, &str)],
) -> Result<Loaded, LoadError> {
    let mut sources = Sources::new();
    let file_id = sources.add(file.to_string(), text.to_string());
    let mut assignments = Vec::new();
    for &(option, assignment) in overrides {
        let Some((path, value)) = assignment.split_once('=') else {
            return Err(LoadError::BadSet {
                option,
                assignment: assignment.to_string(),
                message: "expected PATH=VALUE".into(),
                hint: "e.g. --set scheme.reablement.delivery=0.9".into(),
            });
        };
        // Spaces around a value (`--set x= 500`, a quoted shell word) are not part of it,
        // as around `=` in a file; without the trim " 500" would be read as a string.
        let value = value.trim();
        let id = sources.add(format!("{option} {}", path.trim()), value.to_string());
        assignments.push((option, path.trim().to_string(), value.to_string(), id));
    }
    let mut d = Collector::new(&sources);
    let Some(mut root) = tree::parse_document(text, file_id, &mut d) else {
        return Err(LoadError::Invalid(d.items));
    };
    // The keys the overrides added, by span (an added key's span is its value's).
    let mut added = Vec::new();
    for (option, path, value, id) in &assignments {
        let bad = move |message, hint| LoadError::BadSet {
            option,
            assignment: format!("{path}={value}"),
            message,
            hint,
        };
        let node = tree::parse_value(value, *id);
        let span = node.span;
        if paths::set_path(&mut root, path, node).map_err(|e| bad(e.message, e.hint))? {
            added.push((span, bad));
        }
    }
    let read = read::read_scenario(&root, &mut d);
    // A key an override added that its table does not allow is a misspelled path, so a
    // command-line error (exit 2) however far along the path the misspelling is.
    for (span, bad) in added {
        if let Some(e) = d.unknown_key_at(span) {
            return Err(bad(e.message.clone(), e.hint.clone()));
        }
    }
    let Some(mut scenario) = read else {
        return Err(LoadError::Invalid(d.items));
    };
    scenario.origin = Origin::new(sources, root);
    if let Err(e) = crate::model::check(&scenario) {
        return Err(match e.diagnostic() {
            Some(located) => LoadError::Invalid(vec![located]),
            None => LoadError::Model(e),
        });
    }
    Ok(Loaded {
        scenario,
        file: file.to_string(),
        sha256,
        sets: assignments
            .iter()
            .map(|(_, path, value, _)| format!("{path}={value}"))
            .collect(),
    })
}

/// The sha256 of `bytes` in lower-case hex: scenario files, partial results' state and
/// sweep options are all named by it.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
