//! Results of a run and their renderings: `results` finishes the engine's summaries into
//! plain values, `json` writes MODEL.md section 9's contract, `text` the tables a person
//! reads. Renderers are pure: they return bytes, and the caller writes them atomically.
pub mod json;
pub mod results;
pub mod text;

pub use results::*;

/// A CSV cell: quoted (inner quotes doubled) when it holds a comma, quote or line break.
pub fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}
