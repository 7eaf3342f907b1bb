//! libFuzzer target: arbitrary bytes and structure-aware mutations of the shipped
//! scenarios go through the whole pipeline — parse and validate (`scenario::load_str`,
//! with `--set` overrides), `compile`, and a 50-trial `engine::run` — and must never
//! panic. Invalid input must come back as a `LoadError`/`CompileError`/`EngineError`.
//!
//! The input decodes (via `arbitrary`) either as raw text or as a shipped scenario plus a
//! list of edits: replace the n-th number on a line with an extreme or ordinary value,
//! replace a value with arbitrary text, delete/duplicate/swap lines, rename a key,
//! truncate, and `--set` overrides on real parameter paths. Set `ITFSIM_FUZZ_DUMP=FILE`
//! to write the scenario text a crashing input produces (with `# itfsim-fuzz-set:` lines
//! for its overrides) so it can be kept in tests/fuzz_regressions/.
#![no_main]

use arbitrary::Arbitrary;
use itfsim::{engine, model, scenario};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

const SEEDS: &[&str] = &[
    include_str!("../../scenarios/ealing-2014.toml"),
    include_str!("../../scenarios/ealing-2014-prorata.toml"),
    include_str!("../../scenarios/barnet-2013.toml"),
    include_str!("../../scenarios/hackney-2018.toml"),
    include_str!("../../scenarios/national-2013-design.toml"),
    include_str!("../../scenarios/national-2014-design.toml"),
    include_str!("../../src/template.toml"),
];

#[derive(Arbitrary, Debug)]
enum Input {
    Raw(String),
    Mutated {
        seed: u8,
        edits: Vec<Edit>,
        sets: Vec<SetOverride>,
    },
}

#[derive(Arbitrary, Debug)]
enum Edit {
    Number { line: u16, nth: u8, value: Num },
    Value { line: u16, text: String },
    DeleteLine { line: u16 },
    DuplicateLine { line: u16 },
    SwapLines { a: u16, b: u16 },
    RenameKey { line: u16, key: String },
    Truncate { at: u16 },
}

#[derive(Arbitrary, Debug)]
enum Num {
    Int(i64),
    Float(f64),
    Special(u8),
    Scaled(i8, i8),
}

#[derive(Arbitrary, Debug)]
struct SetOverride {
    path: u16,
    suffix: Option<String>,
    value: SetValue,
}

#[derive(Arbitrary, Debug)]
enum SetValue {
    Number(Num),
    Text(String),
}

const SPECIALS: &[&str] = &[
    "nan",
    "inf",
    "-inf",
    "0",
    "-0.0",
    "1e308",
    "-1e308",
    "5e-324",
    "1e15",
    "1e19",
    "99999999999999999999999999999999999999",
    "\"1e30\"",
    "\"-1\"",
    "\"0.999\"",
    "1.0000000001",
    "\"\"",
    "[]",
    "{}",
    "{ dist = \"normal\", mean = 0, sd = 1e300 }",
    "{ dist = \"uniform\", min = 1, max = 1 }",
    "{ dist = \"discrete\", values = [], weights = [] }",
    "{ dist = \"product\", of = [] }",
    "{ dist = \"beta\", mean = 0.5, sd = 0.5 }",
    "{ dist = \"pert\", min = 0, mode = 0, max = 0 }",
    "{ dist = \"lognormal\", p10 = 1, p90 = 1e300 }",
    "{ dist = \"gamma\", mean = 1e-300, sd = 1e300 }",
    "1200",
    "-1",
    "2",
    "0.5",
];

impl Num {
    fn text(&self) -> String {
        match self {
            Num::Int(i) => i.to_string(),
            Num::Float(f) => format!("{f:?}"),
            Num::Special(k) => SPECIALS[*k as usize % SPECIALS.len()].to_string(),
            Num::Scaled(m, e) => format!("{m}e{}", e / 4),
        }
    }
}

/// The `nth` numeric token after the `=` of `line`, as a byte range.
fn number_token(line: &str, nth: u8) -> Option<std::ops::Range<usize>> {
    let start = line.find('=')? + 1;
    let bytes = line.as_bytes();
    let mut tokens = Vec::new();
    let mut i = start;
    while i < bytes.len() {
        let c = bytes[i];
        let begins =
            c.is_ascii_digit() || (c == b'-' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit));
        let in_word = i > 0 && (bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_');
        if begins && !in_word {
            let from = i;
            i += 1;
            while i < bytes.len()
                && (bytes[i].is_ascii_alphanumeric() || b"._+-".contains(&bytes[i]))
            {
                i += 1;
            }
            tokens.push(from..i);
        } else {
            i += 1;
        }
    }
    if tokens.is_empty() {
        None
    } else {
        Some(tokens[nth as usize % tokens.len()].clone())
    }
}

fn apply(text: &str, edits: &[Edit]) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    for edit in edits.iter().take(16) {
        if lines.is_empty() {
            break;
        }
        let n = lines.len();
        match edit {
            Edit::Number { line, nth, value } => {
                // Search forward from `line` for a line with a number, so edits land.
                for k in 0..n {
                    let i = (*line as usize + k) % n;
                    if let Some(r) = number_token(&lines[i], *nth) {
                        lines[i].replace_range(r, &value.text());
                        break;
                    }
                }
            }
            Edit::Value { line, text } => {
                let i = *line as usize % n;
                if let Some(eq) = lines[i].find('=') {
                    lines[i].replace_range(eq + 1.., &format!(" {text}"));
                }
            }
            Edit::DeleteLine { line } => {
                lines.remove(*line as usize % n);
            }
            Edit::DuplicateLine { line } => {
                let i = *line as usize % n;
                let copy = lines[i].clone();
                lines.insert(i, copy);
            }
            Edit::SwapLines { a, b } => lines.swap(*a as usize % n, *b as usize % n),
            Edit::RenameKey { line, key } => {
                let i = *line as usize % n;
                if let Some(eq) = lines[i].find('=') {
                    let rest = lines[i][eq..].to_string();
                    lines[i] = format!("{key} {rest}");
                }
            }
            Edit::Truncate { at } => lines.truncate(*at as usize % n),
        }
    }
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

/// Parameter paths of each seed scenario, to aim `--set` overrides at real values.
fn seed_paths() -> &'static Vec<Vec<String>> {
    static PATHS: OnceLock<Vec<Vec<String>>> = OnceLock::new();
    PATHS.get_or_init(|| {
        SEEDS
            .iter()
            .map(|text| match scenario::load_str("seed.toml", text, &[]) {
                Ok(loaded) => {
                    let mut paths: Vec<String> = scenario::all_params(&loaded.scenario)
                        .into_iter()
                        .map(|(p, _)| p.path.clone())
                        .collect();
                    paths.extend(["fund.pot".to_string(), "scenario.months".to_string()]);
                    paths
                }
                Err(_) => vec!["fund.pot".to_string()],
            })
            .collect()
    })
}

fn pipeline(text: &str, sets: &[String]) {
    let Ok(loaded) = scenario::load_str("fuzz.toml", text, sets) else {
        return;
    };
    let Ok(model) = model::compile(&loaded.scenario, loaded.scenario.seed) else {
        return;
    };
    let _ = engine::run(&model, 0..50, 1);
}

fuzz_target!(|input: Input| {
    let (text, sets) = match input {
        Input::Raw(text) => (text, Vec::new()),
        Input::Mutated { seed, edits, sets } => {
            let which = seed as usize % SEEDS.len();
            let text = apply(SEEDS[which], &edits);
            let paths = &seed_paths()[which];
            let sets: Vec<String> = sets
                .iter()
                .take(4)
                .map(|s| {
                    let mut path = paths[s.path as usize % paths.len()].clone();
                    if let Some(suffix) = &s.suffix {
                        path.push('.');
                        path.push_str(suffix);
                    }
                    let value = match &s.value {
                        SetValue::Number(n) => n.text(),
                        SetValue::Text(t) => t.clone(),
                    };
                    format!("{path}={value}")
                })
                .collect();
            (text, sets)
        }
    };
    if let Ok(dump) = std::env::var("ITFSIM_FUZZ_DUMP") {
        let header: String = sets
            .iter()
            .map(|s| format!("# itfsim-fuzz-set: {s}\n"))
            .collect();
        let _ = std::fs::write(dump, format!("{header}{text}"));
    }
    pipeline(&text, &sets);
});
