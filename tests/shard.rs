//! Sharded runs through the binary: `run --shard I/N` partials merged by `itfsim merge`
//! give the unsharded run's JSON byte for byte (timing fields aside), for uneven splits
//! and for more shards than chunks; incomplete or mismatched sets, partials of another
//! build and partials altered after they were written are refused (exit 65); and `bench`
//! reports what it promises.
mod common;
use assert_cmd::Command;
use common::itfsim;
use serde_json::Value;
use std::path::{Path, PathBuf};

const SCENARIO: &str = "scenarios/ealing-2014.toml";
const TRIALS: &str = "5000"; // 5 chunks, the last one partial

/// `itfsim run SCENARIO --trials TRIALS --threads THREADS --quiet`, more arguments to add.
fn run_cmd(threads: &str) -> Command {
    run_cmd_of(SCENARIO, threads)
}

/// [`run_cmd`] with the scenario's path spelled as `scenario`.
fn run_cmd_of(scenario: &str, threads: &str) -> Command {
    let mut cmd = itfsim();
    cmd.args([
        "run",
        scenario,
        "--trials",
        TRIALS,
        "--threads",
        threads,
        "--quiet",
    ]);
    cmd
}

/// JSON text with the timing fields removed.
fn without_timing(bytes: &[u8]) -> String {
    let mut v: Value = serde_json::from_slice(bytes).unwrap();
    let run = v["run"].as_object_mut().unwrap();
    run.remove("elapsed_s").unwrap();
    run.remove("trials_per_s").unwrap();
    serde_json::to_string_pretty(&v).unwrap()
}

fn unsharded(threads: &str) -> String {
    let out = run_cmd(threads)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    without_timing(&out.stdout)
}

fn shard(dir: &Path, index: u64, count: u64, extra: &[&str]) -> PathBuf {
    let path = dir.join(format!("part-{index}-of-{count}.json"));
    let spec = format!("{index}/{count}");
    let out = run_cmd("1")
        .args(["--shard", &spec, "--out", path.to_str().unwrap()])
        .args(extra)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    path
}

fn merge(parts: &[PathBuf]) -> std::process::Output {
    itfsim()
        .arg("merge")
        .args(parts)
        .args(["--format", "json"])
        .output()
        .unwrap()
}

#[test]
fn merged_shards_equal_the_unsharded_run() {
    let expected = unsharded("1");
    let dir = tempfile::tempdir().unwrap();
    // 2 and 3 shards split 5 chunks unevenly; 8 shards leave three of them empty.
    for count in [1, 2, 3, 8] {
        let mut parts: Vec<PathBuf> = (0..count)
            .map(|i| shard(dir.path(), i, count, &[]))
            .collect();
        parts.reverse(); // order on the command line does not matter
        let out = merge(&parts);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(without_timing(&out.stdout), expected, "{count} shards");
    }
    // The thread count changes nothing but the reported threads.
    assert_eq!(
        unsharded("2").replace("\"threads\": 2", "\"threads\": 1"),
        expected
    );
}

/// One scenario file reached by another path in one shard (a task rerun from another
/// directory) is the same scenario: the partials merge, in any order, into the run
/// naming the file as shard 0 did.
#[test]
fn shards_may_spell_the_scenario_path_differently() {
    let dir = tempfile::tempdir().unwrap();
    let dotted = format!("./{SCENARIO}");
    let absolute = std::fs::canonicalize(SCENARIO).unwrap();
    let absolute = absolute.to_str().unwrap();
    let part = |index: u64, scenario: &str| {
        let path = dir.path().join(format!("part-{index}.json"));
        common::succeeds(
            run_cmd_of(scenario, "1")
                .args(["--shard", &format!("{index}/3"), "--out"])
                .arg(&path),
        );
        path
    };
    let named = |scenario: &str| {
        let out = common::succeeds(run_cmd_of(scenario, "1").args(["--format", "json"]));
        without_timing(&out.stdout)
    };
    for (first, others) in [(SCENARIO, dotted.as_str()), (dotted.as_str(), absolute)] {
        let parts = [part(0, first), part(1, others), part(2, SCENARIO)];
        let expected = named(first);
        assert!(expected.contains(&format!("\"file\": \"{first}\"")));
        for order in [[0, 1, 2], [1, 2, 0], [2, 0, 1]] {
            let out = merge(&order.map(|i| parts[i].clone()));
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(out.status.success(), "{first} / {others}: {stderr}");
            assert_eq!(without_timing(&out.stdout), expected, "{first} / {others}");
        }
    }
    // Another file with the same name is not the same scenario.
    let copy = dir.path().join("ealing-2014.toml");
    let text = std::fs::read_to_string(SCENARIO).unwrap();
    std::fs::write(&copy, text.replace("seed = ", "seed = 1")).unwrap();
    let parts = [
        part(0, SCENARIO),
        part(1, copy.to_str().unwrap()),
        part(2, SCENARIO),
    ];
    let out = merge(&parts);
    assert_eq!(out.status.code(), Some(65));
    // Named by path and sha256 (the hashes alone did not say which file was which).
    let sha = |path: &str| {
        use sha2::{Digest, Sha256};
        let bytes = std::fs::read(path).unwrap();
        let digest = Sha256::digest(&bytes);
        digest
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    let copy = copy.to_str().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let wording = format!(
        "scenario differs from {}'s ({copy}, sha256 {} vs {SCENARIO}, sha256 {})",
        parts[0].display(),
        sha(copy),
        sha(SCENARIO)
    );
    assert!(stderr.contains(&wording), "{stderr}");
}

#[test]
fn incomplete_or_mismatched_shards_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let a = shard(dir.path(), 0, 3, &[]);
    let b = shard(dir.path(), 1, 3, &[]);
    let c = shard(dir.path(), 2, 3, &[]);
    let elsewhere = tempfile::tempdir().unwrap();
    let other_seed = shard(elsewhere.path(), 2, 3, &["--seed", "9"]);
    let with_set = shard(elsewhere.path(), 1, 3, &["--set", "fund.pot=1000000"]);
    // A partial of an earlier split into 2 left in the same directory (a glob picks it up).
    let stale = shard(dir.path(), 1, 2, &[]);
    let cases: [(Vec<PathBuf>, &str); 7] = [
        // No --set on one side was an empty space: "(fund.pot=1000000 vs )".
        (
            vec![a.clone(), with_set, c.clone()],
            "(fund.pot=1000000 vs no --set)",
        ),
        (vec![a.clone(), b.clone()], "shard 2 of 3 is missing"),
        (
            vec![a.clone(), b.clone(), b.clone(), c.clone()],
            "shard 1 of 3 is given more than once",
        ),
        // The last shard repeated is a repeat too, not a missing shard.
        (
            vec![a.clone(), b.clone(), c.clone(), c.clone()],
            "shard 2 of 3 is given more than once",
        ),
        (
            vec![c.clone(), a.clone(), b.clone(), c.clone()],
            "shard 2 of 3 is given more than once",
        ),
        (vec![a.clone(), b.clone(), other_seed], "seed differs"),
        (
            vec![a.clone(), b.clone(), c.clone(), stale],
            "stale partials of an earlier split",
        ),
    ];
    for (parts, wording) in cases {
        let out = merge(&parts);
        assert_eq!(out.status.code(), Some(65));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(wording), "{stderr}");
    }
    let out = merge(&[PathBuf::from(SCENARIO)]);
    assert_eq!(out.status.code(), Some(65));
    let out = merge(&[dir.path().join("missing.json")]);
    assert_eq!(out.status.code(), Some(66));
    let bad = itfsim()
        .args(["run", SCENARIO, "--shard", "3/3"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
}

/// Writes `from`'s partial, changed by `edit`, to `to`; with `reseal` its
/// `content_sha256` is recomputed over the content's new bytes (as a deliberate edit
/// would), to reach the checks behind the checksum.
fn altered(from: &Path, to: &Path, reseal: bool, edit: impl FnOnce(&mut Value)) -> PathBuf {
    let mut v: Value = serde_json::from_slice(&std::fs::read(from).unwrap()).unwrap();
    edit(&mut v);
    if reseal {
        common::reseal(&mut v);
    }
    std::fs::write(to, serde_json::to_vec(&v).unwrap()).unwrap();
    to.to_path_buf()
}

/// Merges `parts`, which must be refused with exit 65, nothing on stdout and a message
/// holding every one of `needles`.
fn refused(parts: &[PathBuf], needles: &[&str]) {
    let out = merge(parts);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(65), "{needles:?}: {stderr}");
    assert!(out.stdout.is_empty());
    for needle in needles {
        assert!(stderr.contains(needle), "{needle:?}: {stderr}");
    }
}

#[test]
fn partials_of_another_build_or_altered_after_writing_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let a = shard(dir.path(), 0, 2, &[]);
    let b = shard(dir.path(), 1, 2, &[]);
    let at = |name: &str| dir.path().join(name);
    let ours = {
        let v: Value = serde_json::from_slice(&std::fs::read(&a).unwrap()).unwrap();
        v["fingerprint"]["build"].as_str().unwrap().to_string()
    };
    assert_eq!(ours.len(), 16);
    // The build identity is `itfsim --version`'s.
    let version = itfsim().arg("--version").output().unwrap();
    assert!(String::from_utf8_lossy(&version.stdout).contains(&format!("(build {ours})")));
    // A shard written by another build (its build id is outside the checksummed state).
    let foreign = altered(&b, &at("foreign.json"), false, |v| {
        v["fingerprint"]["build"] = "0123456789abcdef".into()
    });
    let a_name = a.to_str().unwrap();
    let foreign_name = foreign.to_str().unwrap();
    refused(
        &[a.clone(), foreign.clone()],
        &[
            &format!(
                "{foreign_name} was written by itfsim build 0123456789abcdef, {a_name} by build {ours}"
            ),
            "rerun the shards with one build",
        ],
    );
    // One number of the state changed: the checksum, naming the file.
    let edited = altered(&b, &at("edited.json"), false, |v| {
        let n = &mut v["content"]["accumulator"]["total_paid"]["moments"]["n"];
        *n = (n.as_u64().unwrap() + 1).into();
    });
    let edited_name = edited.to_str().unwrap();
    refused(
        &[a.clone(), edited.clone()],
        &[
            &format!("{edited_name}: its state does not match the checksum"),
            "changed or damaged after it was written; rerun that shard",
        ],
    );
    // Cut short (a full disk, a copy interrupted): said so, not "not a partial" with a
    // hint to give the files `--shard` writes, which the user did.
    let bytes = std::fs::read(&b).unwrap();
    std::fs::write(at("cut.json"), &bytes[..bytes.len() / 2]).unwrap();
    refused(
        &[a.clone(), at("cut.json")],
        &[
            &format!(
                "cut.json: the partial result ends early, after {} bytes: the file was cut short",
                bytes.len() / 2
            ),
            "copy it again, or rerun that shard",
        ],
    );
    // Two shards joined into one file, and a partial still gzip-compressed: said so, not
    // "trailing characters at line 2 column 1" / "expected value at line 1 column 1".
    let mut joined = std::fs::read(&a).unwrap();
    joined.extend(std::fs::read(&b).unwrap());
    std::fs::write(at("joined.json"), joined).unwrap();
    refused(
        &[at("joined.json")],
        &[
            "joined.json: not an itfsim partial result: it goes on after its JSON ends (partials joined into one file",
        ],
    );
    let mut gz = vec![0x1f, 0x8b, 0x08, 0x00];
    gz.extend(&bytes[..64]);
    std::fs::write(at("part.json.gz"), gz).unwrap();
    refused(
        &[a.clone(), at("part.json.gz")],
        &["part.json.gz: not an itfsim partial result: it is gzip-compressed"],
    );
    // Empty, as `--shard ... > part.json` without --out leaves it.
    std::fs::write(at("empty.json"), b"").unwrap();
    refused(
        &[a.clone(), at("empty.json")],
        &[
            "empty.json: the file is empty, not a partial result",
            "rerun that shard with --out",
        ],
    );
    // Header values outside the checksum edited to what no shard writes: refused as
    // damaged, naming the field (a negative time was merged into "-2.99 s (0 trials/s)";
    // a threads of -1 was "this is a shard's partial result, not a shard's partial
    // result").
    type Header = (fn(&mut Value), &'static str);
    let headers: [Header; 5] = [
        // Was "not an itfsim partial result: shard 1 of 1" with the hint to give the
        // files --shard writes.
        (
            |v| v["shard"]["count"] = 1.into(),
            "it says it is shard 1 of 1, which no run writes (shards count from 0 to N-1)",
        ),
        (
            |v| v["elapsed_s"] = (-3.0).into(),
            "elapsed_s is -3; a shard's time is a number of seconds, 0 or more",
        ),
        (
            |v| v["threads"] = 0.into(),
            "threads is 0; a shard runs on 1 thread or more",
        ),
        (
            |v| v["threads"] = (-1).into(),
            "its header does not read: invalid value: integer `-1`",
        ),
        (
            |v| v["shard"] = "one".into(),
            "its header does not read: invalid type: string \"one\"",
        ),
    ];
    for (edit, wording) in headers {
        let edited = altered(&b, &at("header.json"), false, edit);
        refused(
            &[a.clone(), edited],
            &["header.json: ", wording, "rerun that shard"],
        );
    }
    // A partial of format version 1 (no build id, no checksum).
    let old = altered(&b, &at("old.json"), false, |v| v["version"] = 1.into());
    refused(
        &[a.clone(), old],
        &["old.json: partial format version 1, this itfsim reads version 3"],
    );
    // Behind the checksum, edits resealed by hand: the state's shape against the model.
    type Edit = fn(&mut Value);
    let cases: [(Edit, &str); 5] = [
        (
            |v| {
                v["content"]["accumulator"]["tranche_paid"]
                    .as_array_mut()
                    .unwrap()
                    .truncate(1)
            },
            "content.accumulator.tranche_paid has 1 entries, but the scenario has 3 tranches",
        ),
        (
            |v| v["content"]["accumulator"]["total_paid"]["moments"]["n"] = 1.into(),
            "content.accumulator.total_paid holds 1 values, not 2952",
        ),
        (
            |v| {
                let sum = &mut v["content"]["accumulator"]["total_paid"]["moments"]["sum"];
                let ten_times = sum.as_str().unwrap().parse::<i128>().unwrap() * 10;
                *sum = ten_times.to_string().into();
            },
            "content.accumulator.total_paid has a sum of",
        ),
        (
            |v| v["content"]["accumulator"]["tranche_full"][2]["n"] = 7.into(),
            "content.accumulator.tranche_full[2] counts 7 values, not 2952",
        ),
        (
            |v| v["content"]["accumulator"]["trials"] = 1000.into(),
            "content.accumulator.trials is 1000, but shard 1 of 2 covers the 2952 trials [2048, 5000)",
        ),
    ];
    for (edit, wording) in cases {
        let resealed = altered(&b, &at("resealed.json"), true, edit);
        refused(&[a.clone(), resealed], &["resealed.json: ", wording]);
    }
    // The trial range, outside the state: one way of printing ranges.
    let moved = altered(&b, &at("moved.json"), false, |v| {
        v["trial_range"] = serde_json::json!([2048, 6000])
    });
    refused(
        &[a.clone(), moved],
        &["shard 1 of 2 covers trials [2048, 6000) but should cover trials [2048, 5000) of 5000"],
    );
    // Resealing an unchanged partial changes nothing: it still merges to the same bytes.
    let same = altered(&b, &at("same.json"), true, |_| {});
    let merged = |parts: &[PathBuf]| without_timing(&merge(parts).stdout);
    assert_eq!(merged(&[a.clone(), same]), merged(&[a.clone(), b.clone()]));
    // All shards of one other build: merged, with a warning that this build formats them.
    let foreign_a = altered(&a, &at("foreign-a.json"), false, |v| {
        v["fingerprint"]["build"] = "0123456789abcdef".into()
    });
    let out = merge(&[foreign_a.clone(), foreign.clone()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "warning: the partials were written by itfsim build 0123456789abcdef, this is build {ours}"
        )),
        "{stderr}"
    );
    // `--quiet` silences it, as it does rollup's warnings.
    let quiet = itfsim()
        .arg("merge")
        .args([&foreign_a, &foreign])
        .args(["--format", "json", "--quiet"])
        .output()
        .unwrap();
    assert!(quiet.status.success());
    assert!(quiet.stderr.is_empty(), "{quiet:?}");
    assert_eq!(merged(&[foreign_a, foreign]), merged(&[a, b]));
}

#[test]
fn shard_auto_reads_the_slurm_array_variables() {
    let dir = tempfile::tempdir().unwrap();
    let explicit = shard(dir.path(), 1, 3, &[]);
    let auto = dir.path().join("auto.json");
    let out = run_cmd("1")
        .args(["--shard", "auto", "--out", auto.to_str().unwrap()])
        .env("SLURM_ARRAY_TASK_ID", "1")
        .env("SLURM_ARRAY_TASK_COUNT", "3")
        .output()
        .unwrap();
    assert!(out.status.success());
    let read = |p: &Path| -> Value {
        let mut v: Value = serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap();
        v.as_object_mut().unwrap().remove("elapsed_s");
        v
    };
    assert_eq!(read(&auto), read(&explicit));
    assert_eq!(read(&auto)["shard"]["index"], 1);
}

/// Rerunning one task of a Slurm array (`sbatch --array=1` of a 3-task job) sees a
/// one-task array: with ITFSIM_SHARD_COUNT it writes shard 1 of 3, the same partial as
/// `--shard 1/3`; without it, it is refused (exit 2) rather than run as shard 0 of 1. A
/// stepped array (`--array=0-4:2`) gives task 2 shard 1.
#[test]
fn shard_auto_reruns_one_slurm_task_and_divides_by_the_step() {
    let dir = tempfile::tempdir().unwrap();
    let explicit = shard(dir.path(), 1, 3, &[]);
    let auto = |name: &str, vars: &[(&str, &str)]| {
        let path = dir.path().join(name);
        let mut cmd = run_cmd("1");
        cmd.args(["--shard", "auto", "--out", path.to_str().unwrap()]);
        common::clear_shard_env(&mut cmd);
        (path, cmd.envs(vars.iter().copied()).output().unwrap())
    };
    let read = |p: &Path| -> Value {
        let mut v: Value = serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap();
        v.as_object_mut().unwrap().remove("elapsed_s");
        v
    };
    let rerun = [
        ("SLURM_ARRAY_TASK_ID", "1"),
        ("SLURM_ARRAY_TASK_COUNT", "1"),
        ("SLURM_ARRAY_TASK_MIN", "1"),
        ("SLURM_ARRAY_TASK_MAX", "1"),
        ("SLURM_ARRAY_TASK_STEP", "1"),
    ];
    let (path, out) = auto("refused.json", &rerun);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("--shard auto: a one-task job array"),
        "{stderr}"
    );
    assert!(stderr.contains("hint:") && stderr.contains("ITFSIM_SHARD_COUNT"));
    assert!(!path.exists());
    let mut pinned = rerun.to_vec();
    pinned.push(("ITFSIM_SHARD_COUNT", "3"));
    let (path, out) = auto("rerun.json", &pinned);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(read(&path), read(&explicit));
    let stepped = [
        ("SLURM_ARRAY_TASK_ID", "2"),
        ("SLURM_ARRAY_TASK_COUNT", "3"),
        ("SLURM_ARRAY_TASK_MIN", "0"),
        ("SLURM_ARRAY_TASK_MAX", "4"),
        ("SLURM_ARRAY_TASK_STEP", "2"),
    ];
    let (path, out) = auto("stepped.json", &stepped);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(read(&path), read(&explicit));
}

#[test]
fn bench_reports_speed_phases_and_machine() {
    let out = itfsim()
        .args([
            "bench",
            SCENARIO,
            "--trials",
            "3000",
            "--threads",
            "1",
            "--format",
            "json",
            "--quiet",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["run"]["trials"], 3000);
    // What was run, as the run JSON says it: a bench of --sampling lhs or with a --set
    // read the same as a plain one.
    assert_eq!(v["run"]["seed"], 20140401);
    assert_eq!(v["run"]["sampling"], "mc");
    assert_eq!(v["sets"], serde_json::json!([]));
    assert_eq!(v["run"]["threads"], 1);
    assert!(v["run"]["trials_per_s"].as_f64().unwrap() > 0.0);
    assert!(v["machine"]["cores"].as_u64().unwrap() >= 1);
    assert_eq!(v["build"].as_str().unwrap().len(), 16);
    assert!(!v["machine"]["cpu"].as_str().unwrap().is_empty());
    for phase in ["sampling", "model", "rules", "aggregation"] {
        assert!(
            v["phases"]["by_phase"][phase]["ns_per_trial"]
                .as_f64()
                .unwrap()
                > 0.0,
            "{phase}"
        );
    }
    let set = "scheme.reablement.delivery=0.9";
    let lhs = common::json_of(&[
        "bench",
        SCENARIO,
        "--trials",
        "2000",
        "--threads",
        "1",
        "--sampling",
        "lhs",
        "--seed",
        "7",
        "--set",
        set,
    ]);
    assert_eq!(lhs["run"]["seed"], 7);
    assert_eq!(lhs["run"]["sampling"], "lhs");
    assert_eq!(lhs["sets"], serde_json::json!([set]));
    let text = common::succeeds(
        itfsim()
            .args([
                "bench",
                SCENARIO,
                "--trials",
                "1",
                "--threads",
                "1",
                "--quiet",
            ])
            .args(["--sampling", "lhs", "--set", set]),
    );
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains(&format!("bench: {SCENARIO} --set {set}\n"))
            && text.contains("run: 1 trial, seed 20140401, lhs sampling, on 1 thread in"),
        "{text}"
    );
}

#[test]
fn merge_says_the_merged_results_warnings_on_stderr_as_run_does() {
    let dir = tempfile::tempdir().unwrap();
    // One trial over two shards (the second holds none): the merged result warns of it.
    for trials in ["5000", "1"] {
        let single = itfsim()
            .args(["run", SCENARIO, "--trials", trials])
            .output()
            .unwrap();
        assert!(single.status.success());
        let parts: Vec<PathBuf> = (0..2)
            .map(|i| {
                let path = dir.path().join(format!("w{trials}-{i}.json"));
                let out = itfsim()
                    .args(["run", SCENARIO, "--trials", trials, "--quiet"])
                    .args(["--shard", &format!("{i}/2"), "--out"])
                    .arg(&path)
                    .output()
                    .unwrap();
                assert!(out.status.success(), "{out:?}");
                path
            })
            .collect();
        let merged = itfsim().arg("merge").args(&parts).output().unwrap();
        assert!(merged.status.success(), "{merged:?}");
        let stderr = String::from_utf8_lossy(&merged.stderr);
        assert_eq!(stderr, String::from_utf8_lossy(&single.stderr));
        assert_eq!(stderr.matches("plan states").count(), 2, "{stderr}");
        let one_trial = stderr.matches("warning: only 1 trial: ").count();
        assert_eq!(one_trial, usize::from(trials == "1"), "{stderr}");
    }
}

#[test]
fn merge_says_what_a_file_that_is_no_partial_is() {
    let dir = tempfile::tempdir().unwrap();
    let sweep = dir.path().join("sweep.json");
    let out = itfsim()
        .args([
            "sweep", SCENARIO, "--trials", "100", "--quiet", "--format", "json",
        ])
        .args(["--grid", "scheme.reablement.delivery=0.5,0.9", "--out"])
        .arg(&sweep)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let run = dir.path().join("run.json");
    let out = run_cmd("1")
        .args(["--format", "json", "--out"])
        .arg(&run)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    for (file, kind) in [
        (
            &sweep,
            "this is a sweep's table (`itfsim sweep --format json`), not a shard's partial result",
        ),
        (
            &run,
            "this is a run's whole result (`itfsim run` or `itfsim merge`, --format json)",
        ),
    ] {
        let out = merge(std::slice::from_ref(file));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(65), "{stderr}");
        assert!(stderr.contains(kind), "{stderr}");
        assert!(stderr.contains("hint: merge combines the partial results that `itfsim run ... --shard I/N --out FILE`"), "{stderr}");
        assert!(!stderr.contains("invalid type"), "{stderr}");
    }
}
