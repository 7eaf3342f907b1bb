//! Results of a run and their renderings: `results` finishes the engine's summaries into
//! plain values, `json` writes MODEL.md section 9's contract, `text` the tables a person
//! reads. Renderers are pure: they return bytes, and the caller writes them atomically.
pub mod json;
pub mod results;
pub mod text;

pub use results::*;

/// The overrides a result records (`PATH=VALUE` each) as the `--set` options that apply
/// them again, ready to paste into a shell (an option with a character the shell would
/// read is single-quoted); "none" when there are none.
pub fn set_options(sets: &[String]) -> String {
    if sets.is_empty() {
        return "none".to_string();
    }
    let plain = |c: char| c.is_ascii_alphanumeric() || "._-=,:+/".contains(c);
    sets.iter()
        .map(|s| {
            if s.chars().all(plain) {
                format!("--set {s}")
            } else {
                format!("--set '{}'", s.replace('\'', "'\\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A CSV cell: quoted (inner quotes doubled) when it holds a comma, quote or line break.
pub fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}
