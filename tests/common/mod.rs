//! Helpers shared by the CLI test files: the binary, JSON runs, HTML checks.
//! Each test file includes this with `mod common;` and uses what it needs.
#![allow(dead_code)]
use assert_cmd::Command;
use serde_json::Value;

pub const EALING: &str = "scenarios/ealing-2014.toml";
pub const PRORATA: &str = "scenarios/ealing-2014-prorata.toml";

pub fn itfsim() -> Command {
    Command::cargo_bin("itfsim").unwrap()
}

pub fn json_of(args: &[&str]) -> Value {
    json_from(itfsim().args(args).args(["--format", "json", "--quiet"]))
}

/// Runs `cmd`, which must succeed (else the test fails showing its stderr).
pub fn succeeds(cmd: &mut Command) -> std::process::Output {
    success(cmd.output().unwrap())
}

/// `out` of a command that must have succeeded (else the test fails showing its stderr);
/// for commands started some other way (`std::process::Command`, a wrapper).
pub fn success(out: std::process::Output) -> std::process::Output {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Runs `cmd`, which must succeed, and parses its standard output as JSON.
pub fn json_from(cmd: &mut Command) -> Value {
    serde_json::from_slice(&succeeds(cmd).stdout).unwrap()
}

pub fn run_json(scenario: &str, trials: &str, seed: &str, sets: &[String]) -> Value {
    let mut args = vec!["run", scenario, "--trials", trials, "--seed", seed];
    for s in sets {
        args.push("--set");
        args.push(s);
    }
    json_of(&args)
}

/// Tags nest and close (void elements and `/>` aside; style text skipped).
pub fn well_formed(html: &str) -> Result<(), String> {
    const VOID: [&str; 6] = ["meta", "br", "link", "img", "hr", "input"];
    let mut stack: Vec<String> = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        rest = &rest[start..];
        let end = rest.find('>').ok_or("unclosed <")?;
        let tag = &rest[1..end];
        rest = &rest[end + 1..];
        if tag.starts_with('!') {
            continue;
        }
        if let Some(name) = tag.strip_prefix('/') {
            let open = stack.pop().ok_or(format!("</{name}> without opening"))?;
            if open != name.trim() {
                return Err(format!("<{open}> closed by </{name}>"));
            }
            continue;
        }
        let name: String = tag
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        if name.is_empty() {
            return Err(format!("bad tag <{tag}>"));
        }
        if tag.ends_with('/') || VOID.contains(&name.as_str()) {
            continue;
        }
        if name == "style" {
            let close = rest.find("</style>").ok_or("unclosed style")?;
            rest = &rest[close + "</style>".len()..];
            continue;
        }
        stack.push(name);
    }
    if stack.is_empty() {
        Ok(())
    } else {
        Err(format!("unclosed: {stack:?}"))
    }
}

/// Point counts of every `<polyline|polygon class="CLASS" points="...">`.
pub fn points(html: &str, class: &str) -> Vec<usize> {
    let marker = format!("class=\"{class}\" points=\"");
    html.match_indices(&marker)
        .map(|(i, _)| {
            let rest = &html[i + marker.len()..];
            rest[..rest.find('"').unwrap()].split_whitespace().count()
        })
        .collect()
}

/// Recomputes a partial's `content_sha256` over its content's bytes, as a deliberate edit
/// would, so a test reaches the checks behind the checksum.
pub fn reseal(v: &mut Value) {
    use sha2::{Digest, Sha256};
    let content = serde_json::to_string(&v["content"]).unwrap();
    let sha: String = Sha256::digest(content.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    v["content_sha256"] = sha.into();
}

/// Removes every variable `--shard auto` reads, so a test sets exactly the ones it means
/// (and a CI job that itself runs under Slurm or Kubernetes changes nothing).
pub fn clear_shard_env(cmd: &mut Command) -> &mut Command {
    for var in [
        "SLURM_ARRAY_TASK_ID",
        "SLURM_ARRAY_TASK_COUNT",
        "SLURM_ARRAY_TASK_MIN",
        "SLURM_ARRAY_TASK_MAX",
        "SLURM_ARRAY_TASK_STEP",
        "JOB_COMPLETION_INDEX",
        "ITFSIM_SHARD_COUNT",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

/// 1-based line and column (in characters) of byte `offset` in `text`, worked out here
/// rather than by the crate, so a test of a located message checks the crate's own.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before[before.rfind('\n').map_or(0, |i| i + 1)..]
        .chars()
        .count()
        + 1;
    (line, column)
}

/// "LINE:COL" of the first `needle` at or after the first `after` in `text` (`""`: from
/// the start): positions are computed from the file, not written down.
pub fn position(text: &str, after: &str, needle: &str) -> String {
    let from = text.find(after).expect("anchor in text");
    let offset = from + text[from..].find(needle).expect("needle in text");
    let (line, column) = line_col(text, offset);
    format!("{line}:{column}")
}
