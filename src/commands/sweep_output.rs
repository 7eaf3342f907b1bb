//! Sweep results: one row per point, the partial file that makes a sweep resumable, and
//! the final text table, CSV or JSON rendering.
//!
//! The partial file (`FILE.partial` next to `--out FILE`) is a header line
//! `# itfsim sweep partial build=<build id> scenario=<sha256> options=<sha256>`, with
//! ` shard=I/N` added for a shard's rows, followed by one compact JSON object per
//! finished point, in point order, each line flushed and synced before the next point
//! starts. `--resume` continues it only when the header is this one: the same build (rows
//! of another build are not mixed in), scenario bytes, shard and options; otherwise it
//! says which of them differs. The final file is rendered from those rows alone, so a resumed
//! sweep writes the same bytes as an uninterrupted one. A last line without its newline
//! (a process killed mid-write) is dropped on resume and recomputed.
use crate::money::{format_gbp, pounds_to_pence};
use crate::output::csv_field;
use crate::output::text::{prob, table};
use crate::partial::ShardId;
use serde_json::{Map, Value};
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

const MAGIC: &str = "# itfsim sweep partial";

/// The partial file next to `out`.
pub fn partial_path(out: &Path) -> PathBuf {
    let mut name = out.as_os_str().to_owned();
    name.push(".partial");
    PathBuf::from(name)
}

/// The header line of a sweep's rows file: `build` is [`crate::BUILD_ID`], `shard` the
/// sweep's `--shard` (none for a whole sweep).
pub fn header(
    build: &str,
    scenario_sha: &str,
    options_sha: &str,
    shard: Option<ShardId>,
) -> String {
    let shard = shard.map_or(String::new(), |s| format!(" shard={}/{}", s.index, s.count));
    format!("{MAGIC} build={build} scenario={scenario_sha} options={options_sha}{shard}\n")
}

/// Why a rows file with header `found` is not the one `wanted` resumes, with a hint.
fn resume_mismatch(found: &str, wanted: &str) -> String {
    let key = |h: &str, key: &str| {
        h.split_whitespace()
            .find_map(|w| w.strip_prefix(key).map(str::to_string))
    };
    let shard =
        |h: &str| key(h, "shard=").map_or("the whole sweep".to_string(), |s| format!("shard {s}"));
    let start_again = "run without --resume to start again";
    if !found.starts_with(MAGIC) {
        format!("it is not a sweep's partial file\n  hint: {start_again}")
    } else if key(found, "build=") != key(wanted, "build=") {
        let theirs = key(found, "build=").map_or(
            "an earlier itfsim (its header has no build identity)".to_string(),
            |b| format!("itfsim build {b}"),
        );
        format!(
            "its rows were written by {theirs}, this is build {}; rows of different builds may differ and are not mixed\n  hint: {start_again} with this build, or finish it with the build that started it",
            key(wanted, "build=").unwrap_or_default()
        )
    } else if key(found, "scenario=") != key(wanted, "scenario=") {
        format!(
            "the scenario file changed since that sweep started\n  hint: rerun with the same scenario file, or {start_again}"
        )
    } else if key(found, "shard=") != key(wanted, "shard=") {
        format!(
            "it holds the rows of {}, not of {}\n  hint: resume with the --shard it was started with, and give each shard its own --out file",
            shard(found),
            shard(wanted)
        )
    } else {
        format!(
            "the options changed since that sweep started (grids, --set, --seed, --trials or --sampling)\n  hint: rerun with the same options, or {start_again}"
        )
    }
}

/// An open partial file, appended point by point.
pub struct Partial {
    file: File,
    path: PathBuf,
}

/// Why a partial file cannot be resumed (exit 2: the request does not match it).
pub enum ResumeError {
    Io(String),
    Mismatch(String),
}

impl Partial {
    /// Starts a new partial file (replacing any).
    pub fn create(path: &Path, header: &str) -> Result<Partial, String> {
        let mut file =
            File::create(path).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
        file.write_all(header.as_bytes())
            .and_then(|_| file.sync_data())
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        Ok(Partial {
            file,
            path: path.to_path_buf(),
        })
    }

    /// Opens an existing partial file whose header must equal `header`; returns it with
    /// the finished rows (an unfinished last line is cut off).
    pub fn resume(path: &Path, header: &str) -> Result<(Partial, Vec<Value>), ResumeError> {
        let io = |e: std::io::Error| {
            ResumeError::Io(format!("cannot resume from {}: {e}", path.display()))
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .map_err(io)?;
        let mut text = String::new();
        file.read_to_string(&mut text).map_err(io)?;
        let Some(first_end) = text.find('\n') else {
            return Err(ResumeError::Mismatch(format!(
                "{} has no complete header line; it is not a sweep's partial file (run without --resume to start again)",
                path.display()
            )));
        };
        let found = &text[..=first_end];
        if found != header {
            return Err(ResumeError::Mismatch(format!(
                "cannot resume from {}: {}",
                path.display(),
                resume_mismatch(found, header)
            )));
        }
        let body = &text[first_end + 1..];
        let complete = body.rfind('\n').map_or(0, |i| i + 1);
        let mut rows = Vec::new();
        for line in body[..complete].lines() {
            let row: Value = serde_json::from_str(line).map_err(|e| {
                ResumeError::Mismatch(format!(
                    "cannot resume from {}: a row is damaged ({e}); run without --resume to start again",
                    path.display()
                ))
            })?;
            rows.push(row);
        }
        let keep = (first_end + 1 + complete) as u64;
        file.set_len(keep).map_err(io)?;
        file.seek(SeekFrom::Start(keep)).map_err(io)?;
        Ok((
            Partial {
                file,
                path: path.to_path_buf(),
            },
            rows,
        ))
    }

    /// Appends one row and syncs it to disk.
    pub fn append(&mut self, row: &Value) -> Result<(), String> {
        let mut line = serde_json::to_string(row).expect("JSON values serialise");
        line.push('\n');
        self.file
            .write_all(line.as_bytes())
            .and_then(|_| self.file.sync_data())
            .map_err(|e| format!("cannot write {}: {e}", self.path.display()))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Text (the default format): one aligned row per point under readable headers; money
/// as £ with thousands separators, probabilities as percentages (`prob`, as `run` shows
/// them). The grid values are shown as the sweep wrote them. Rendered from the rows alone,
/// like the CSV, so a merged sweep prints the same table.
pub fn render_text(columns: &[String], rows: &[Value]) -> Vec<u8> {
    let header: Vec<String> = columns.iter().map(|c| text_header(c)).collect();
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|row| columns.iter().map(|c| text_cell(c, row.get(c))).collect())
        .collect();
    table(&header, &cells).into_bytes()
}

/// A column's heading in the text table (grid paths as they are).
fn text_header(column: &str) -> String {
    match column {
        "expected_paid" => "expected paid".into(),
        "mcse" => "MCSE".into(),
        "p_full" => "P(all paid)".into(),
        "p_zero" => "P(nothing paid)".into(),
        "paid_p10" => "paid p10".into(),
        "paid_p50" => "paid p50".into(),
        "paid_p90" => "paid p90".into(),
        other => other
            .strip_prefix("net_")
            .map_or_else(|| other.to_string(), |partner| format!("net {partner}")),
    }
}

/// A cell of the text table: money columns (two-decimal strings) as £, probabilities as
/// percentages, anything else (grid values) verbatim; missing as "-".
fn text_cell(column: &str, value: Option<&Value>) -> String {
    let money = matches!(
        column,
        "expected_paid" | "mcse" | "paid_p10" | "paid_p50" | "paid_p90"
    ) || column.starts_with("net_");
    match value {
        Some(Value::String(s)) if money => s
            .parse::<rust_decimal::Decimal>()
            .ok()
            .and_then(|d| pounds_to_pence(d).ok())
            .map_or_else(|| s.clone(), format_gbp),
        Some(Value::Number(n)) if matches!(column, "p_full" | "p_zero") => {
            n.as_f64().map_or_else(|| n.to_string(), prob)
        }
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => "-".into(),
        Some(v) => v.to_string(),
    }
}

/// CSV: a header of `columns`, then one line per row.
pub fn render_csv(columns: &[String], rows: &[Value]) -> Vec<u8> {
    let mut out = columns
        .iter()
        .map(|c| csv_field(c))
        .collect::<Vec<_>>()
        .join(",");
    out.push('\n');
    for row in rows {
        let cells: Vec<String> = columns
            .iter()
            .map(|c| match row.get(c) {
                Some(Value::String(s)) => csv_field(s),
                Some(Value::Null) | None => String::new(),
                Some(v) => csv_field(&v.to_string()),
            })
            .collect();
        out += &cells.join(",");
        out.push('\n');
    }
    out.into_bytes()
}

/// JSON: an array of point objects, keys in column order.
pub fn render_json(columns: &[String], rows: &[Value]) -> Vec<u8> {
    let points: Vec<Value> = rows
        .iter()
        .map(|row| {
            let mut m = Map::new();
            for c in columns {
                m.insert(c.clone(), row.get(c).cloned().unwrap_or(Value::Null));
            }
            Value::Object(m)
        })
        .collect();
    let mut v = serde_json::to_vec_pretty(&Value::Array(points)).expect("JSON values serialise");
    v.push(b'\n');
    v
}
