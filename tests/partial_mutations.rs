//! `itfsim merge` never panics on a partial result, whatever is in it: one leaf of a real
//! shard's state (a count, a sum, an encoded quantile store, a row value) is replaced by
//! an extreme or ill-typed value, or removed, the checksum is recomputed (as a deliberate
//! edit would, so the shape checks behind it are reached), and the merge must end with
//! exit 0 (a change that is still a consistent state) or 65 (refused), never with a panic.
//! A user review ran about 2,300 such mutations by hand; this keeps a sample in the suite.
mod common;
use common::itfsim;
use proptest::prelude::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Two shards of a small Ealing run, written once for every case.
struct Shards {
    _dir: tempfile::TempDir,
    first: PathBuf,
    second: Value,
    /// JSON pointers of every leaf under the second shard's `content`.
    leaves: Vec<String>,
}

fn shards() -> &'static Shards {
    static SHARDS: OnceLock<Shards> = OnceLock::new();
    SHARDS.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let part = |i: u32| {
            let path = dir.path().join(format!("part-{i}.json"));
            itfsim()
                .args(["run", common::EALING, "--trials", "3000", "--quiet"])
                .args(["--shard", &format!("{i}/2"), "--out"])
                .arg(&path)
                .assert()
                .success();
            path
        };
        let first = part(0);
        let second: Value = serde_json::from_slice(&std::fs::read(part(1)).unwrap()).unwrap();
        let mut leaves = Vec::new();
        collect(&second["content"], "/content".into(), &mut leaves);
        Shards {
            _dir: dir,
            first,
            second,
            leaves,
        }
    })
}

fn collect(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, x) in map {
                collect(
                    x,
                    format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                    out,
                )
            }
        }
        Value::Array(items) => {
            for (i, x) in items.iter().enumerate() {
                collect(x, format!("{at}/{i}"), out)
            }
        }
        _ => out.push(at),
    }
}

/// What replaces the chosen leaf: extremes of every type the state holds, and wrong types.
fn replacement() -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        Just(None), // the key or element removed
        Just(Some(Value::from(0))),
        Just(Some(Value::from(-1))),
        Just(Some(Value::from(u64::MAX))),
        Just(Some(Value::from(i64::MIN))),
        Just(Some(Value::from(1e308))),
        Just(Some(Value::from(-0.5))),
        Just(Some(Value::from(""))),
        Just(Some(Value::from("zz"))),
        Just(Some(Value::from(
            "99999999999999999999999999999999999999999"
        ))),
        Just(Some(Value::Null)),
        Just(Some(Value::Bool(true))),
        Just(Some(serde_json::json!([]))),
        Just(Some(serde_json::json!({}))),
        any::<i64>().prop_map(|n| Some(Value::from(n))),
        any::<u64>().prop_map(|n| Some(Value::from(n.to_string()))),
    ]
}

fn remove(v: &mut Value, pointer: &str) {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    match v.pointer_mut(parent) {
        Some(Value::Object(map)) => {
            map.remove(&key.replace("~1", "/").replace("~0", "~"));
        }
        Some(Value::Array(items)) => {
            let i: usize = key.parse().unwrap();
            items.remove(i);
        }
        _ => unreachable!("a leaf's parent is an object or an array"),
    }
}

fn merge_code(first: &Path, edited: &Path) -> (Option<i32>, String) {
    let out = itfsim()
        .args(["merge", "--format", "json"])
        .arg(first)
        .arg(edited)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn merge_refuses_or_accepts_an_edited_partial_but_never_panics(
        pick in any::<prop::sample::Index>(),
        with in replacement(),
    ) {
        let s = shards();
        let pointer = pick.get(&s.leaves);
        let mut v = s.second.clone();
        match with {
            Some(x) => *v.pointer_mut(pointer).unwrap() = x,
            None => remove(&mut v, pointer),
        }
        common::reseal(&mut v);
        let dir = tempfile::tempdir().unwrap();
        let edited = dir.path().join("edited.json");
        std::fs::write(&edited, serde_json::to_vec(&v).unwrap()).unwrap();
        let (code, stderr) = merge_code(&s.first, &edited);
        prop_assert!(!stderr.contains("panicked"), "{pointer}: {stderr}");
        prop_assert!(code == Some(0) || code == Some(65), "{pointer}: exit {code:?}: {stderr}");
    }
}
