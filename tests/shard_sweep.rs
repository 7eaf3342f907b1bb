//! Sharded sweeps through the binary: `sweep --shard I/N` partials merged by `itfsim
//! merge` give the unsharded sweep's CSV, JSON and HTML report byte for byte, for an even
//! split, an uneven one and more shards than points; `--shard auto` takes I and N from
//! Slurm's or Kubernetes' variables; a shard resumes its own rows; and incomplete,
//! duplicated, mismatched, mixed or altered sets of partials are refused with exit 65
//! naming the file.
use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};

mod common;
use common::{EALING, itfsim};

const TRIALS: &str = "2000";
/// 4 points (2 x 2: two grids, the last one fastest).
const FOUR: &[&str] = &[
    "--grid",
    "scheme.reablement.delivery=0.6,0.9",
    "--grid",
    "fund.pot=1000000,1400000",
];
/// 5 points.
const FIVE: &[&str] = &["--grid", "scheme.reablement.delivery=0.5:0.9:0.1"];
/// 3 points.
const THREE: &[&str] = &["--grid", "fund.pot=900000,1200000,1500000"];

/// `itfsim sweep EALING GRIDS --trials TRIALS --quiet` with a clean shard environment.
fn sweep(grids: &[&str]) -> Command {
    let mut cmd = itfsim();
    cmd.args(["sweep", EALING, "--trials", TRIALS, "--quiet"])
        .args(grids);
    common::clear_shard_env(&mut cmd);
    cmd
}

fn ok(out: std::process::Output) -> std::process::Output {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap()
}

/// The unsharded sweep's CSV, JSON and HTML report.
fn unsharded(dir: &Path, grids: &[&str]) -> [Vec<u8>; 3] {
    let csv = ok(sweep(grids).output().unwrap()).stdout;
    let report = dir.join("unsharded.html");
    let json = ok(sweep(grids)
        .args(["--format", "json", "--report", report.to_str().unwrap()])
        .output()
        .unwrap())
    .stdout;
    [csv, json, read(&report)]
}

fn shard(dir: &Path, grids: &[&str], index: u64, count: u64, extra: &[&str]) -> PathBuf {
    let path = dir.join(format!("sweep-{index}-of-{count}.json"));
    let spec = format!("{index}/{count}");
    ok(sweep(grids)
        .args(["--shard", &spec, "--out", path.to_str().unwrap()])
        .args(extra)
        .output()
        .unwrap());
    path
}

/// Runs shard `spec` of a plain Ealing run into `out` (a run partial, for the refusals of
/// mixing run and sweep partials); returns `out`.
fn run_shard(out: &Path, spec: &str) -> PathBuf {
    ok(itfsim()
        .args([
            "run", EALING, "--trials", TRIALS, "--quiet", "--shard", spec,
        ])
        .arg("--out")
        .arg(out)
        .output()
        .unwrap());
    out.to_path_buf()
}

fn merge(parts: &[PathBuf], extra: &[&str]) -> std::process::Output {
    itfsim()
        .arg("merge")
        .args(parts)
        .args(extra)
        .output()
        .unwrap()
}

/// Merges `parts` into CSV, JSON and a report.
fn merged(dir: &Path, parts: &[PathBuf]) -> [Vec<u8>; 3] {
    let report = dir.join("merged.html");
    let csv = ok(merge(parts, &[])).stdout;
    let json = ok(merge(
        parts,
        &["--format", "json", "--report", report.to_str().unwrap()],
    ))
    .stdout;
    [csv, json, read(&report)]
}

/// Writes `v` as a partial to `to`, its `content_sha256` recomputed over the content's
/// bytes (as a deliberate edit would), to reach the checks behind the checksum.
fn write_resealed(to: &Path, mut v: Value) -> PathBuf {
    common::reseal(&mut v);
    std::fs::write(to, serde_json::to_vec(&v).unwrap()).unwrap();
    to.to_path_buf()
}

fn content(path: &Path) -> Value {
    let v: Value = serde_json::from_slice(&read(path)).unwrap();
    v["content"].clone()
}

#[test]
fn merged_sweep_shards_equal_the_unsharded_sweep_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    // Even split, uneven split (2 + 2 + 1), more shards than points (two empty blocks).
    for (grids, points, count) in [(FOUR, 4, 2), (FIVE, 5, 3), (THREE, 3, 5)] {
        let expected = unsharded(dir.path(), grids);
        let rows: Vec<Value> = serde_json::from_slice(&expected[1]).unwrap();
        assert_eq!(rows.len(), points);
        let mut parts: Vec<PathBuf> = (0..count)
            .map(|i| shard(dir.path(), grids, i, count, &[]))
            .collect();
        let blocks: Vec<Value> = parts
            .iter()
            .map(|p| content(p)["point_range"].clone())
            .collect();
        let sizes: Vec<u64> = blocks
            .iter()
            .map(|b| b[1].as_u64().unwrap() - b[0].as_u64().unwrap())
            .collect();
        match count {
            2 => assert_eq!(sizes, [2, 2]),
            3 => assert_eq!(sizes, [2, 2, 1]),
            _ => assert_eq!(sizes, [1, 1, 1, 0, 0]),
        }
        parts.reverse(); // order on the command line does not matter
        let got = merged(dir.path(), &parts);
        for (name, (g, e)) in ["csv", "json", "html"]
            .iter()
            .zip(got.iter().zip(&expected))
        {
            assert!(
                g == e,
                "{name}, {points} points in {count} shards:\n{}\nvs\n{}",
                String::from_utf8_lossy(g),
                String::from_utf8_lossy(e)
            );
        }
        // `--format text` is the CSV, as for sweep.
        assert_eq!(ok(merge(&parts, &["--format", "text"])).stdout, expected[0]);
    }
}

#[test]
fn shard_auto_reads_slurm_and_kubernetes_variables() {
    let dir = tempfile::tempdir().unwrap();
    let expected = unsharded(dir.path(), FIVE);
    // A Slurm array --array=1-3: task ids 1..3, shards 0..2 of 3.
    let parts: Vec<PathBuf> = (1..=3)
        .map(|id| {
            let path = dir.path().join(format!("slurm-{id}.json"));
            ok(sweep(FIVE)
                .args(["--shard", "auto", "--out", path.to_str().unwrap()])
                .env("SLURM_ARRAY_TASK_ID", id.to_string())
                .env("SLURM_ARRAY_TASK_COUNT", "3")
                .env("SLURM_ARRAY_TASK_MIN", "1")
                .output()
                .unwrap());
            path
        })
        .collect();
    let explicit = shard(dir.path(), FIVE, 1, 3, &[]);
    assert_eq!(content(&parts[1]), content(&explicit));
    assert_eq!(merged(dir.path(), &parts), expected);
    // A Kubernetes Indexed Job.
    let k8s = dir.path().join("k8s-2.json");
    ok(sweep(FIVE)
        .args(["--shard", "auto", "--out", k8s.to_str().unwrap()])
        .env("JOB_COMPLETION_INDEX", "2")
        .env("ITFSIM_SHARD_COUNT", "3")
        .output()
        .unwrap());
    assert_eq!(content(&k8s), content(&parts[2]));
    // Without the variables it is a command-line error.
    let out = sweep(FIVE)
        .args(["--shard", "auto", "--out"])
        .arg(dir.path().join("none.json"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("SLURM_ARRAY_TASK_ID"));
}

#[test]
fn an_interrupted_shard_resumes_its_own_rows() {
    let dir = tempfile::tempdir().unwrap();
    let expected = unsharded(dir.path(), FIVE);
    let first = dir.path().join("first.json");
    let out = sweep(FIVE)
        .args(["--shard", "0/2", "--out", first.to_str().unwrap()])
        .env("ITFSIM_SWEEP_STOP_AFTER", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(!first.exists());
    let rows_file = dir.path().join("first.json.partial");
    assert_eq!(
        std::fs::read_to_string(&rows_file).unwrap().lines().count(),
        2
    );
    // Another shard's rows are not this shard's: resuming them is refused.
    let out = sweep(FIVE)
        .args([
            "--shard",
            "1/2",
            "--resume",
            "--out",
            first.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("it holds the rows of shard 0/2, not of shard 1/2")
            && stderr.contains("resume with the --shard it was started with"),
        "{stderr}"
    );
    // Nor the unsharded sweep's rows file.
    let out = sweep(FIVE)
        .args(["--resume", "--out", first.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("it holds the rows of shard 0/2, not of the whole sweep"),
        "{stderr}"
    );
    // Rows written by another build are not mixed in (the build id in the header).
    let saved = std::fs::read_to_string(&rows_file).unwrap();
    let build = saved
        .split_whitespace()
        .find_map(|w| w.strip_prefix("build="))
        .unwrap()
        .to_string();
    for (header, wording) in [
        (
            saved.replacen(&build, "0123456789abcdef", 1),
            "its rows were written by itfsim build 0123456789abcdef, this is build ",
        ),
        (
            saved.replacen(&format!("build={build} "), "", 1),
            "its rows were written by an earlier itfsim (its header has no build identity)",
        ),
    ] {
        std::fs::write(&rows_file, header).unwrap();
        let out = sweep(FIVE)
            .args(["--shard", "0/2", "--resume", "--out"])
            .arg(&first)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(wording), "{stderr}");
    }
    std::fs::write(&rows_file, saved).unwrap();
    let out = ok(sweep(FIVE)
        .args([
            "--shard",
            "0/2",
            "--resume",
            "--out",
            first.to_str().unwrap(),
        ])
        .args(["--threads", "1"])
        .output()
        .unwrap());
    drop(out);
    assert!(!rows_file.exists());
    let second = shard(dir.path(), FIVE, 1, 2, &[]);
    assert_eq!(merged(dir.path(), &[first, second]), expected);
}

#[test]
fn incomplete_mismatched_mixed_or_altered_partials_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let a = shard(dir.path(), FIVE, 0, 3, &[]);
    let b = shard(dir.path(), FIVE, 1, 3, &[]);
    let c = shard(dir.path(), FIVE, 2, 3, &[]);
    let elsewhere = tempfile::tempdir().unwrap();
    let other_seed = shard(elsewhere.path(), FIVE, 2, 3, &["--seed", "9"]);
    let other_grid = shard(
        elsewhere.path(),
        &["--grid", "scheme.reablement.delivery=0.5:0.9:0.2"],
        1,
        3,
        &[],
    );
    let run = run_shard(&elsewhere.path().join("run-1-of-3.json"), "1/3");
    // Shard 1's partial with its block moved to shard 2's points.
    let moved = elsewhere.path().join("moved.json");
    let mut v: Value = serde_json::from_slice(&read(&b)).unwrap();
    v["content"]["point_range"] = serde_json::json!([4, 5]);
    v["content"]["rows"].as_array_mut().unwrap().truncate(1);
    v["shard"]["index"] = 2.into();
    write_resealed(&moved, v);
    // Shard 1's first row with its expected payment edited, as the file left it (the
    // checksum) and resealed to a value no sweep writes (the row check).
    let mut v: Value = serde_json::from_slice(&read(&b)).unwrap();
    v["content"]["rows"][0]["expected_paid"] = "1234567.89".into();
    let edited = elsewhere.path().join("edited.json");
    std::fs::write(&edited, serde_json::to_vec(&v).unwrap()).unwrap();
    v["content"]["rows"][0]["expected_paid"] = "a lot".into();
    let bad_row = write_resealed(&elsewhere.path().join("bad-row.json"), v);
    // A partial of an earlier split into 2 left among them.
    let stale = shard(elsewhere.path(), FIVE, 1, 2, &[]);
    let cases: Vec<(Vec<PathBuf>, &Path, &str)> = vec![
        (vec![a.clone(), b.clone()], &b, "shard 2 of 3 is missing"),
        (
            vec![a.clone(), b.clone(), b.clone(), c.clone()],
            &b,
            "shard 1 of 3 is given more than once",
        ),
        (
            vec![a.clone(), b.clone(), c.clone(), c.clone()],
            &c,
            "shard 2 of 3 is given more than once",
        ),
        (
            vec![a.clone(), b.clone(), c.clone(), stale.clone()],
            &stale,
            "stale partials of an earlier split",
        ),
        (
            vec![a.clone(), edited.clone(), c.clone()],
            &edited,
            "its state does not match the checksum",
        ),
        (
            vec![a.clone(), bad_row.clone(), c.clone()],
            &bad_row,
            "content.rows[0] (point 3) has `expected_paid` = \"a lot\"",
        ),
        (
            vec![a.clone(), b.clone(), other_seed.clone()],
            &other_seed,
            "seed differs",
        ),
        (
            vec![a.clone(), other_grid.clone(), c.clone()],
            &other_grid,
            "its sweep options hash differs from",
        ),
        (
            vec![a.clone(), run.clone(), c.clone()],
            &run,
            "a `run` partial cannot be merged with",
        ),
        (
            vec![run.clone(), a.clone()],
            &a,
            "a `sweep` partial cannot be merged with",
        ),
        (
            vec![a.clone(), b.clone(), moved.clone()],
            &moved,
            "does not hold its grid value",
        ),
    ];
    for (parts, named, wording) in cases {
        let out = merge(&parts, &["--format", "json"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(65), "{wording}: {stderr}");
        assert!(stderr.contains(wording), "{wording}: {stderr}");
        if !wording.contains("missing") {
            assert!(
                stderr.contains(named.to_str().unwrap()),
                "{wording}: {stderr}"
            );
        }
        assert!(out.stdout.is_empty());
    }
    // The full set still merges.
    ok(merge(&[a, b, c], &[]));
}

#[test]
fn command_line_misuse_of_sweep_shards_is_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let out_file = dir.path().join("p.json");
    let out_arg = out_file.to_str().unwrap();
    let report = dir.path().join("r.html");
    let cases: [(Vec<&str>, &str); 3] = [
        (vec!["--shard", "0/2"], "--shard needs --out"),
        (vec!["--shard", "2/2", "--out", out_arg], "need 0 <= I < N"),
        (
            vec![
                "--shard",
                "0/2",
                "--out",
                out_arg,
                "--report",
                report.to_str().unwrap(),
            ],
            "give --report to `itfsim merge`",
        ),
    ];
    for (args, wording) in cases {
        let out = sweep(FIVE).args(&args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{wording}: {stderr}");
        assert!(stderr.contains(wording), "{wording}: {stderr}");
        assert!(!out_file.exists() && !report.exists());
    }
    // A run's partials carry no report data.
    let run = run_shard(&dir.path().join("run.json"), "0/1");
    let out = merge(&[run], &["--report", report.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--report is for sweep partials"));
    assert!(!report.exists());
}

/// Sweep shards all written by one other build (and version) merge here with the same
/// warning as run shards. (The options hash a sweep shard records used to include the
/// version, so a merge by a binary of another version called such shards damaged; that
/// needs two versions to show, which one binary cannot write, so this checks the policy.)
#[test]
fn sweep_shards_of_another_build_merge_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let parts: Vec<PathBuf> = (0..2).map(|i| shard(dir.path(), FOUR, i, 2, &[])).collect();
    let expected = merged(dir.path(), &parts);
    let foreign: Vec<PathBuf> = parts
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let mut v: Value = serde_json::from_slice(&read(p)).unwrap();
            v["itfsim"] = "0.0.9".into();
            v["fingerprint"]["build"] = "0123456789abcdef".into();
            let to = dir.path().join(format!("foreign-{i}.json"));
            std::fs::write(&to, serde_json::to_vec(&v).unwrap()).unwrap();
            to
        })
        .collect();
    let out = ok(merge(&foreign, &[]));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("warning: the partials were written by itfsim build 0123456789abcdef"),
        "{stderr}"
    );
    assert_eq!(merged(dir.path(), &foreign), expected);
}

/// A shard run with the scenario's path spelled differently (rerun from another
/// directory) merges like the others, in any order, naming the file as shard 0 does.
#[test]
fn a_shard_may_spell_the_scenario_path_differently() {
    let dir = tempfile::tempdir().unwrap();
    let expected = unsharded(dir.path(), FIVE);
    let mut parts: Vec<PathBuf> = (0..3).map(|i| shard(dir.path(), FIVE, i, 3, &[])).collect();
    let dotted = format!("./{EALING}");
    let mut cmd = itfsim();
    cmd.args(["sweep", &dotted, "--trials", TRIALS, "--quiet"])
        .args(FIVE)
        .args(["--shard", "1/3", "--out"])
        .arg(&parts[1]);
    common::clear_shard_env(&mut cmd);
    ok(cmd.output().unwrap());
    assert_eq!(merged(dir.path(), &parts), expected);
    parts.rotate_left(1);
    assert_eq!(merged(dir.path(), &parts), expected);
}

#[test]
fn merge_of_sweep_shards_says_the_scenarios_warnings_as_sweep_does() {
    let dir = tempfile::tempdir().unwrap();
    let parts: Vec<PathBuf> = (0..2).map(|i| shard(dir.path(), FOUR, i, 2, &[])).collect();
    let loud = |cmd: &mut Command| {
        let out = ok(cmd.output().unwrap());
        String::from_utf8(out.stderr).unwrap()
    };
    let mut single = itfsim();
    single
        .args(["sweep", EALING, "--trials", TRIALS])
        .args(FOUR);
    common::clear_shard_env(&mut single);
    let expected = loud(&mut single);
    assert_eq!(expected.matches("plan states").count(), 2, "{expected}");
    assert_eq!(loud(itfsim().arg("merge").args(&parts)), expected);
    assert!(loud(itfsim().arg("merge").args(&parts).arg("--quiet")).is_empty());
}
