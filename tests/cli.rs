//! The binary as a user meets it: real runs, exit codes (MODEL.md section 10), error
//! wording, JSON contract, atomic output.
mod common;
use common::{itfsim, succeeds, success};
use serde_json::Value;
use std::path::Path;

fn run_json(args: &[&str]) -> Value {
    common::json_from(itfsim().args(args).args(["--format", "json"]))
}

fn is_money(v: &Value) -> bool {
    v.as_str().is_some_and(|s| {
        let (int, frac) = s.split_once('.').unwrap_or(("", ""));
        frac.len() == 2
            && !int.is_empty()
            && int
                .trim_start_matches('-')
                .chars()
                .all(|c| c.is_ascii_digit())
    })
}

fn is_money_summary(v: &Value) -> bool {
    [
        "mean", "sd", "mcse", "p5", "p10", "p25", "p50", "p75", "p90", "p95",
    ]
    .iter()
    .all(|k| is_money(&v[k]))
}

#[test]
fn run_json_follows_the_contract() {
    let v = run_json(&[
        "run",
        "scenarios/ealing-2014.toml",
        "--trials",
        "3000",
        "--seed",
        "5",
    ]);
    assert!(v["itfsim"].is_string());
    assert_eq!(v["scenario"]["file"], "scenarios/ealing-2014.toml");
    // Additive to the contract: the scenario's area, which rollup tells areas apart by.
    assert_eq!(v["scenario"]["area"], "London Borough of Ealing");
    assert_eq!(v["scenario"]["sha256"].as_str().unwrap().len(), 64);
    assert_eq!(v["run"]["trials"], 3000);
    assert_eq!(v["run"]["seed"], 5);
    assert_eq!(v["run"]["sampling"], "mc");
    assert!(is_money(&v["fund"]["pot"]));
    assert!(is_money_summary(&v["total"]["paid"]));
    assert!(is_money_summary(&v["total"]["unreleased"]));
    let p_full = v["total"]["p_full"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&p_full));
    for t in v["tranches"].as_array().unwrap() {
        assert!(is_money(&t["amount"]) && is_money_summary(&t["paid"]));
        for c in t["conditions"].as_array().unwrap() {
            assert!(c.get("metric").is_some() ^ c.get("event").is_some());
            assert!(c["p_met"].as_f64().unwrap() <= 1.0);
            assert!(is_money_summary(&c["paid"]));
        }
    }
    for m in v["metrics"].as_array().unwrap() {
        for w in m["windows"].as_array().unwrap() {
            assert!(w["expected"]["mean"].is_number() && w["achieved"]["p50"].is_number());
        }
    }
    for s in v["schemes"].as_array().unwrap() {
        assert!(
            is_money(&s["cost"]) && is_money(&s["cost_stated"]) && is_money_summary(&s["savings"])
        );
        assert!(is_money_summary(&s["spend"]), "{}", s["id"]);
        assert!(s["roi"]["mean"].is_number() && s["p_roi_above_1"].is_number());
    }
    for p in v["partners"].as_array().unwrap() {
        for k in ["invest", "savings", "performance", "risks", "net"] {
            assert!(is_money_summary(&p[k]), "{k}");
        }
    }
    // The plan's own arithmetic is flagged.
    let warnings = v["warnings"].as_array().unwrap();
    assert!(
        warnings
            .iter()
            .any(|w| w.as_str().unwrap().contains("121,394.00")),
        "{warnings:?}"
    );
}

/// Each scheme's `spend` (additive to the contract) is the spend text, the HTML report
/// and the workbook show: its mean is the text's "expected spend" to the penny.
#[test]
fn scheme_spend_is_the_expected_spend_the_tables_show() {
    let args = ["run", "scenarios/ealing-2014.toml", "--trials", "3000"];
    let v = run_json(&args);
    let text = String::from_utf8(succeeds(itfsim().args(args).arg("--quiet")).stdout).unwrap();
    let schemes = text.split("\nSchemes (over the horizon)\n").nth(1).unwrap();
    for s in v["schemes"].as_array().unwrap() {
        let id = s["id"].as_str().unwrap();
        let row = schemes
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{id} ")))
            .unwrap_or_else(|| panic!("no row for {id} in\n{schemes}"));
        let cells: Vec<&str> = row.split("  ").filter(|c| !c.trim().is_empty()).collect();
        // scheme, cost, expected spend, ...
        let shown = cells[2].trim().replace(['£', ','], "");
        assert_eq!(s["spend"]["mean"], shown, "{row}");
    }
}

#[test]
fn identical_json_on_one_and_two_threads() {
    let strip = |mut v: Value| {
        let run = v["run"].as_object_mut().unwrap();
        run.remove("elapsed_s");
        run.remove("trials_per_s");
        run.remove("threads");
        v
    };
    let one = strip(run_json(&[
        "run",
        "scenarios/ealing-2014.toml",
        "--trials",
        "5000",
        "--threads",
        "1",
    ]));
    let two = strip(run_json(&[
        "run",
        "scenarios/ealing-2014.toml",
        "--trials",
        "5000",
        "--threads",
        "2",
    ]));
    assert_eq!(one, two);
}

#[test]
fn text_output_has_the_tables() {
    let out = itfsim()
        .args(["run", "scenarios/ealing-2014.toml", "--trials", "2000"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for heading in [
        "Expected paid",
        "Tranches",
        "Conditions",
        "Metrics",
        "Schemes",
        "Partners",
        "Warnings",
    ] {
        assert!(text.contains(heading), "missing {heading}:\n{text}");
    }
}

#[test]
fn invalid_scenario_lists_every_problem_and_exits_65() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.toml");
    let text = std::fs::read_to_string("scenarios/ealing-2014.toml").unwrap();
    let bad = text
        .replacen("months = 24", "months = 24\nmonths_extra = 1", 1)
        .replacen("kind = \"count\"", "kind = \"counts\"", 1);
    std::fs::write(&file, bad).unwrap();
    let out = itfsim()
        .args(["validate", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(65));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("bad.toml:"), "{err}");
    assert!(
        err.contains("`scenario.months_extra`: unknown key `months_extra`"),
        "{err}"
    );
    assert!(err.contains("unknown metric kind \"counts\""), "{err}");
    assert!(err.contains("hint:"), "{err}");
    assert!(err.contains("errors found"), "{err}");
}

#[test]
fn missing_file_and_directory_exit_66() {
    let out = itfsim()
        .args(["run", "scenarios/nope.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(66));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("scenarios/nope.toml: cannot read the scenario")
    );
    let out = itfsim().args(["validate", "scenarios"]).output().unwrap();
    assert_eq!(out.status.code(), Some(66));
    assert!(String::from_utf8_lossy(&out.stderr).contains("it is a directory"));
}

#[test]
fn unwritable_output_exits_73_before_running_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("missing-dir").join("out.json");
    let out = itfsim()
        .args([
            "run",
            "scenarios/ealing-2014.toml",
            "--trials",
            "1000000000",
            "--out",
            target.to_str().unwrap(),
        ])
        .timeout(std::time::Duration::from_secs(20))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(73),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!target.exists());
}

/// `run` of 1,000 Ealing trials as JSON with `--out OUT`, which must succeed; its stdout.
fn run_out(out: &Path) -> Vec<u8> {
    succeeds(
        itfsim()
            .args(["run", "scenarios/ealing-2014.toml", "--trials", "1000"])
            .args(["--format", "json", "--out"])
            .arg(out),
    )
    .stdout
}

#[test]
fn out_writes_the_file_atomically() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("r.json");
    assert!(run_out(&target).is_empty());
    let v: Value = serde_json::from_slice(&std::fs::read(&target).unwrap()).unwrap();
    assert_eq!(v["run"]["trials"], 1000);
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "{leftovers:?}");
}

/// Without `--format`, `--out`'s extension chooses: `.json` gives the JSON contract (a
/// finance lead's `--out ealing.json` is meant for a program), `.csv` gives CSV where the
/// command writes CSV, anything else text; an explicit `--format` always wins.
#[test]
fn out_extension_chooses_the_format_unless_format_is_given() {
    let dir = tempfile::tempdir().unwrap();
    // The file `args --out out [--format format]` writes.
    let written = |args: &[&str], out: &Path, format: Option<&str>| {
        let mut cmd = itfsim();
        cmd.args(args).arg("--quiet");
        if let Some(f) = format {
            cmd.args(["--format", f]);
        }
        succeeds(cmd.arg("--out").arg(out));
        std::fs::read_to_string(out).unwrap()
    };
    let run_args = ["run", "scenarios/ealing-2014.toml", "--trials", "500"];
    let run = |out: &Path, format: Option<&str>| written(&run_args, out, format);
    let json = run(&dir.path().join("a.JSON"), None);
    let v: Value = serde_json::from_str(&json).expect("JSON for an --out ending in .json");
    assert_eq!(v["run"]["trials"], 500);
    let text = run(&dir.path().join("b.json"), Some("text"));
    assert!(serde_json::from_str::<Value>(&text).is_err() && text.contains("Ealing"));
    // `run` writes no CSV: a .csv or .txt file gets the text.
    for name in ["c.csv", "d.txt"] {
        let text = run(&dir.path().join(name), None);
        assert!(serde_json::from_str::<Value>(&text).is_err() && text.contains("Ealing"));
    }
    // A sweep writes CSV for .csv, and the aligned table when text is asked for.
    let sweep_args = [
        "sweep",
        "scenarios/ealing-2014.toml",
        "--trials",
        "300",
        "--grid",
        "scheme.seven_day.delivery=0.5,0.9",
    ];
    let sweep = |out: &Path, format: Option<&str>| written(&sweep_args, out, format);
    let csv = sweep(&dir.path().join("s.csv"), None);
    assert!(
        csv.starts_with("scheme.seven_day.delivery,expected_paid,"),
        "{csv}"
    );
    let table = sweep(&dir.path().join("t.csv"), Some("text"));
    assert!(
        !table.contains(",expected_paid,") && table.contains('£'),
        "{table}"
    );
    let json = sweep(&dir.path().join("u.json"), None);
    assert!(serde_json::from_str::<Value>(&json).is_ok(), "{json}");
}

/// A shard writes its JSON partial whatever the extension, and refuses a text or CSV
/// format rather than silently writing JSON to a user who asked for a table.
#[test]
fn shard_refuses_text_and_csv_formats() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("part.json");
    for (command, format) in [("run", "text"), ("sweep", "text"), ("sweep", "csv")] {
        let mut cmd = itfsim();
        common::clear_shard_env(&mut cmd);
        cmd.args([command, "scenarios/ealing-2014.toml", "--trials", "300"])
            .args(["--shard", "0/2", "--format", format, "--out"])
            .arg(&out);
        if command == "sweep" {
            cmd.args(["--grid", "scheme.seven_day.delivery=0.5,0.9"]);
        }
        let o = cmd.output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{command} {format}: {err}");
        assert!(
            err.contains("--shard writes a partial result (JSON)")
                && err.contains(&format!("give --format {format} to `itfsim merge`")),
            "{err}"
        );
        assert!(!out.exists());
    }
    let mut cmd = itfsim();
    common::clear_shard_env(&mut cmd);
    let ok = cmd
        .args([
            "run",
            "scenarios/ealing-2014.toml",
            "--trials",
            "300",
            "--quiet",
        ])
        .args(["--shard", "0/2", "--out"])
        .arg(dir.path().join("p.txt"))
        .output()
        .unwrap();
    assert!(ok.status.success());
    let partial = std::fs::read_to_string(dir.path().join("p.txt")).unwrap();
    assert!(serde_json::from_str::<Value>(&partial).is_ok());
}

/// `--out` writes through links and into special files, as `cp` or a shell's `>` would,
/// instead of renaming a regular file over them.
#[cfg(unix)]
#[test]
fn out_writes_through_links_and_into_special_files() {
    use std::os::unix::fs::{FileTypeExt, symlink};
    let kind = |p: &str| std::fs::symlink_metadata(p).unwrap().file_type();
    // /dev/stdout (a link to /proc/self/fd/1, here a pipe): the text comes on stdout.
    let stdout_kind = kind("/dev/stdout");
    let v: Value = serde_json::from_slice(&run_out(Path::new("/dev/stdout"))).unwrap();
    assert_eq!(v["run"]["trials"], 1000);
    assert_eq!(kind("/dev/stdout"), stdout_kind);
    // /dev/null swallows it and stays a device.
    assert!(run_out(Path::new("/dev/null")).is_empty());
    assert!(kind("/dev/null").is_char_device());
    // A link to a file: the file gets the bytes, the link stays, nothing else is left.
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real.json");
    let link = dir.path().join("link.json");
    std::fs::write(&real, b"old").unwrap();
    symlink("real.json", &link).unwrap();
    assert!(run_out(&link).is_empty());
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    let v: Value = serde_json::from_slice(&std::fs::read(&real).unwrap()).unwrap();
    assert_eq!(v["run"]["trials"], 1000);
    let mut names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    assert_eq!(names, ["link.json", "real.json"]);
    // Standard output appending to a regular file: /dev/stdout writes through the stream,
    // after what the file held (replacing the file would lose it and leave the stream
    // writing into a deleted file).
    let log = dir.path().join("log.txt");
    std::fs::write(&log, b"header\n").unwrap();
    let appending = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    success(
        std::process::Command::new(env!("CARGO_BIN_EXE_itfsim"))
            .args(["run", "scenarios/ealing-2014.toml", "--trials", "1000"])
            .args(["--format", "json", "--quiet", "--out", "/dev/stdout"])
            .stdout(appending)
            .output()
            .unwrap(),
    );
    let logged = std::fs::read(&log).unwrap();
    let json = logged.strip_prefix(b"header\n".as_slice()).unwrap();
    let v: Value = serde_json::from_slice(json).unwrap();
    assert_eq!(v["run"]["trials"], 1000);
    // A pipe whose reader has gone (`--out /dev/stdout | head -c 0`) is not an error,
    // as it is not for plain standard output: the command finished its work.
    for out in [&["--out", "/dev/stdout"][..], &[]] {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_itfsim"))
            .args(["run", "scenarios/ealing-2014.toml", "--trials", "1000"])
            .args(["--format", "json", "--quiet"])
            .args(out)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let done = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&done.stderr);
        assert_eq!(done.status.code(), Some(0), "{out:?}: {stderr}");
        assert!(stderr.is_empty(), "{out:?}: {stderr}");
    }
    // A special file that cannot be opened (a socket) fails before any computing.
    let socket = dir.path().join("sock");
    let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    let out = itfsim()
        .args([
            "run",
            "scenarios/ealing-2014.toml",
            "--trials",
            "1000000000",
        ])
        .arg("--out")
        .arg(&socket)
        .timeout(std::time::Duration::from_secs(20))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(73),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(kind(socket.to_str().unwrap()).is_socket());
}

#[test]
fn set_overrides_values_and_bad_paths_exit_2() {
    let v = run_json(&[
        "run",
        "scenarios/ealing-2014.toml",
        "--trials",
        "500",
        "--set",
        "fund.pot=\"2000000\"",
    ]);
    assert_eq!(v["fund"]["pot"], "2000000.00");
    let out = itfsim()
        .args([
            "run",
            "scenarios/ealing-2014.toml",
            "--set",
            "scheme.nosuch.delivery=1",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no scheme \"nosuch\""));
    // Misspelled in its last part: exit 2 as well, with the "did you mean" of the file's
    // own unknown keys; a key the file leaves at its default is still set.
    for (set, words) in [
        (
            "scheme.reablement.delivry=0.9",
            "--set scheme.reablement.delivry=0.9: unknown key `delivry`\n  hint: did you mean `delivery`?",
        ),
        (
            "fund.nope=1",
            "--set fund.nope=1: unknown key `nope`\n  hint: allowed keys here: pot,",
        ),
        ("nope=1", "--set nope=1: unknown key `nope`"),
    ] {
        let out = itfsim()
            .args(["run", "scenarios/ealing-2014.toml", "--set", set])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{set}: {stderr}");
        assert!(stderr.contains(words), "{set}: {stderr}");
    }
    run_json(&[
        "run",
        "scenarios/ealing-2014.toml",
        "--trials",
        "500",
        "--set",
        "scheme.reablement.scale=2",
    ]);
    // A value that fails validation is located in the --set argument.
    let out = itfsim()
        .args(["run", "scenarios/ealing-2014.toml", "--set", "fund.pot=-5"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(65));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--set fund.pot:1:1"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn bad_command_lines_exit_2() {
    let out = itfsim()
        .args(["run", "scenarios/ealing-2014.toml", "--trials", "0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = itfsim().args(["frobnicate"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn template_is_a_valid_scenario() {
    let out = itfsim().arg("template").output().unwrap();
    assert!(out.status.success());
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("t.toml");
    std::fs::write(&file, &out.stdout).unwrap();
    succeeds(itfsim().args(["run", file.to_str().unwrap(), "--trials", "500"]));
}

#[test]
fn every_shipped_scenario_validates_and_runs() {
    let mut count = 0;
    for entry in std::fs::read_dir("scenarios").unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("toml") {
            continue;
        }
        count += 1;
        let out = itfsim()
            .args(["validate", path.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        let v = run_json(&["run", path.to_str().unwrap(), "--trials", "2000", "--quiet"]);
        assert!(is_money_summary(&v["total"]["paid"]));
    }
    assert!(count >= 6, "only {count} scenarios");
    assert!(Path::new("scenarios/ealing-2014.toml").exists());
}

/// `--threads 1` keeps to one worker for everything, not only the engine: before, the
/// samplers were compiled on a pool of every core, so a 1-core Slurm task ran more threads
/// than it asked for. A long run is looked at while it computes: its main thread, the
/// signal thread, one worker of the global pool and one of the engine's pool. (On a one-core
/// machine this cannot tell the difference; on this project's two-core machine the old
/// build shows 5.)
#[cfg(target_os = "linux")]
#[test]
fn threads_1_runs_one_worker_throughout() {
    use std::process::Stdio;
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("itfsim"))
        .args([
            "run",
            "scenarios/ealing-2014.toml",
            "--trials",
            "100000000",
            "--threads",
            "1",
            "--quiet",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let tasks = format!("/proc/{}/task", child.id());
    let mut most = 0;
    for _ in 0..20 {
        std::thread::sleep(std::time::Duration::from_millis(50));
        if let Ok(dir) = std::fs::read_dir(&tasks) {
            most = most.max(dir.count());
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(most >= 2, "the run was not seen running ({most} threads)");
    assert!(most <= 4, "{most} threads with --threads 1");
}

/// Each command refuses a format or output it cannot honour instead of writing something
/// else under that name: a shard always writes a JSON partial (so it needs --out, for run
/// as for sweep, and a sweep shard refuses csv), merged runs and bench have no csv form.
#[test]
fn formats_a_command_cannot_write_are_refused_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let ealing = "scenarios/ealing-2014.toml";
    let refused = |args: &[&str], says: &str| {
        let out = itfsim().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?} wrote to stdout");
    };
    refused(
        &["run", ealing, "--trials", "2000", "--shard", "0/2"],
        "--shard needs --out",
    );
    let csv = dir.path().join("g.csv");
    refused(
        &[
            "sweep",
            ealing,
            "--trials",
            "100",
            "--grid",
            "scheme.reablement.delivery=0.8,0.9",
            "--shard",
            "0/2",
            "--format",
            "csv",
            "--out",
            csv.to_str().unwrap(),
        ],
        "give --format csv to `itfsim merge`",
    );
    assert!(!csv.exists());
    refused(
        &["bench", ealing, "--trials", "100", "--format", "csv"],
        "csv is written by sweep, thresholds, sensitivity and rollup",
    );
    let part = dir.path().join("part-0.json");
    itfsim()
        .args([
            "run", ealing, "--trials", "2000", "--quiet", "--shard", "0/1", "--out",
        ])
        .arg(&part)
        .assert()
        .success();
    let merged = dir.path().join("merged.csv");
    refused(
        &[
            "merge",
            part.to_str().unwrap(),
            "--format",
            "csv",
            "--out",
            merged.to_str().unwrap(),
        ],
        "csv is for sweep partials\n  hint: give --format json (or text)",
    );
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "merge left a file"
    );
}

/// `bench` names the machine's cores and, apart, the cores this process may use: under
/// `taskset -c 0` (as under a one-CPU Slurm allocation) it used to call the machine a
/// one-core machine.
#[cfg(target_os = "linux")]
#[test]
fn bench_tells_machine_cores_from_the_cores_it_may_use() {
    let bin = assert_cmd::cargo::cargo_bin("itfsim");
    let out = std::process::Command::new("taskset")
        .args(["-c", "0"])
        .arg(&bin)
        .args([
            "bench",
            "scenarios/ealing-2014.toml",
            "--trials",
            "200",
            "--quiet",
        ])
        .args(["--format", "json"])
        .output()
        .expect("taskset (util-linux) runs");
    let out = success(out);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let cpus = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("processor"))
        .count() as u64;
    assert_eq!(v["machine"]["cores"].as_u64(), Some(cpus));
    assert_eq!(v["machine"]["cores_available"].as_u64(), Some(1));
    assert_eq!(v["run"]["threads"].as_u64(), Some(1));
}

/// `bench` says which vector instructions the binary was built for, whether the CPU has
/// AVX2 and AVX-512 (on x86-64), and which copy of the block path ran: the CPU's widest
/// (`itfsim::isa`; tests/isa.rs checks `ITFSIM_ISA`). The test is built with the
/// binary's flags, so its own `cfg!` is the binary's.
#[test]
fn bench_names_the_build_and_the_cpus_vector_instructions() {
    let args = [
        "bench",
        "scenarios/ealing-2014.toml",
        "--trials",
        "300",
        "--quiet",
    ];
    let v = run_json(&args);
    let built_for = if cfg!(target_feature = "avx512f") {
        "avx-512"
    } else if cfg!(target_feature = "avx2") {
        "avx2"
    } else {
        "baseline"
    };
    assert_eq!(v["built_for"], built_for);
    let avx2 = cfg!(target_arch = "x86_64").then(itfsim::isa::cpu_has_avx2);
    assert_eq!(v["machine"]["avx2"].as_bool(), avx2);
    let avx512 = cfg!(target_arch = "x86_64").then(itfsim::isa::cpu_has_avx512);
    assert_eq!(v["machine"]["avx512"].as_bool(), avx512);
    let best = itfsim::isa::cpu_best();
    assert_eq!(v["runs_with"], best.name());
    let text = String::from_utf8(succeeds(itfsim().args(args)).stdout).unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with("build: "))
        .expect("a build line");
    let says = match best {
        itfsim::isa::Isa::Avx512 => {
            "trials run with AVX2 and its keyed streams with AVX-512, chosen at run time"
        }
        itfsim::isa::Isa::Avx2 => "trials run with AVX2, chosen at run time",
        itfsim::isa::Isa::Baseline => "trials run with the build's own instructions",
    };
    assert!(line.contains(says), "{line}");
}

/// Without --trials, `bench` measures a steady rate over 1,000,000 trials rather than the
/// scenario's own `trials` (which sets the precision of results: Ealing's 100,000 ran
/// about 20% below its steady rate); --trials still decides when given.
#[test]
fn bench_runs_a_million_trials_unless_told() {
    let v = run_json(&["bench", "scenarios/national-2014-design.toml", "--quiet"]);
    assert_eq!(v["run"]["trials"].as_u64(), Some(1_000_000));
    let v = run_json(&[
        "bench",
        "scenarios/national-2014-design.toml",
        "--quiet",
        "--trials",
        "3000",
    ]);
    assert_eq!(v["run"]["trials"].as_u64(), Some(3000));
}

#[test]
fn no_output_replaces_an_input_or_another_output() {
    // Every command's outputs are checked against its inputs before anything runs: a
    // scenario (or shard, or area result) overwritten by the output it fed is lost.
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("plan.toml");
    std::fs::copy("scenarios/ealing-2014.toml", &scenario).unwrap();
    let before = std::fs::read(&scenario).unwrap();
    let spelled = dir.path().join(".").join("plan.toml");
    for args in [
        vec!["run", "--trials", "1000", "--out"],
        vec!["run", "--trials", "1000", "--report"],
        vec![
            "sweep",
            "--grid",
            "fund.pot=1000000,2000000",
            "--trials",
            "1000",
            "--out",
        ],
        vec![
            "thresholds",
            "--condition",
            "all_metrics_1516.nea",
            "--from",
            "0.01",
            "--to",
            "0.02",
            "--step",
            "0.01",
            "--out",
        ],
    ] {
        let (command, rest) = args.split_first().unwrap();
        let out = itfsim()
            .arg(command)
            .arg(&scenario)
            .args(rest)
            .arg(&spelled)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("is the input"), "{stderr}");
        assert_eq!(std::fs::read(&scenario).unwrap(), before, "{args:?}");
    }
    let report = dir.path().join("out.html");
    let out = itfsim()
        .arg("run")
        .arg(&scenario)
        .args(["--trials", "1000", "--report"])
        .arg(&report)
        .arg("--xlsx")
        .arg(&report)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("two outputs are one file"));
    assert!(!report.exists());
}

/// The conditions table's target column: the number when fixed, "uncertain" when a
/// distribution, "-" when there is none (an event, or a per-unit condition given no
/// target, which the user review found shown as "uncertain").
#[test]
fn condition_targets_show_as_given() {
    let target_of = |args: &[&str], scenario: &Path| {
        let out = itfsim()
            .arg("run")
            .arg(scenario)
            .args(["--trials", "1000", "--quiet"])
            .args(args)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let row = stdout
            .lines()
            .find(|l| l.trim_start().starts_with("progress_1415.nea "))
            .expect("the condition's row")
            .split_whitespace()
            .map(str::to_string)
            .collect::<Vec<_>>();
        (row[1].clone(), row[2].clone())
    };
    let ealing = Path::new("scenarios/ealing-2014.toml");
    assert_eq!(target_of(&[], ealing), ("banded".into(), "0.01".into()));
    let uncertain = [
        "--set",
        "tranche.progress_1415.condition.nea.target={ dist = \"uniform\", min = 0.005, max = 0.02 }",
    ];
    assert_eq!(
        target_of(&uncertain, ealing),
        ("banded".into(), "uncertain".into())
    );
    let text = std::fs::read_to_string(ealing).unwrap();
    let banded =
        "  metric = \"nea\"\n  target = 0.01\n  rule = \"banded\"\n  bands = [[0.7, 1.0]]\n";
    assert_eq!(text.matches(banded).count(), 1, "progress_1415.nea only");
    let dir = tempfile::tempdir().unwrap();
    let per_unit = dir.path().join("per-unit.toml");
    let edited = text.replace(
        banded,
        "  metric = \"nea\"\n  rate = \"1490\"\n  rule = \"per_unit\"\n",
    );
    std::fs::write(&per_unit, edited).unwrap();
    assert_eq!(target_of(&[], &per_unit), ("per_unit".into(), "-".into()));
}

/// One trial has no spread to estimate: the 0 shown for sd and mcse is warned about, in
/// the JSON's warnings as in the text; two trials are not.
#[test]
fn one_trial_warns_that_spread_and_error_are_not_estimated() {
    let warnings = |trials: &str| {
        let out = succeeds(
            itfsim()
                .args(["run", "scenarios/ealing-2014.toml", "--trials", trials])
                .args(["--format", "json", "--quiet"]),
        );
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["total"]["paid"]["mcse"] == "0.00", trials == "1");
        v["warnings"].as_array().unwrap().clone()
    };
    let one = warnings("1");
    assert!(
        one.iter().any(|w| w
            .as_str()
            .unwrap()
            .starts_with("only 1 trial: the spread (sd)")),
        "{one:?}"
    );
    let two = warnings("2");
    assert_eq!(two.len() + 1, one.len(), "{two:?}");
}

/// `scenario` with each `(from, to)` replaced once, in a temporary directory.
fn edited(scenario: &str, edits: &[(&str, &str)]) -> (tempfile::TempDir, String) {
    let mut text = std::fs::read_to_string(scenario).unwrap();
    for (from, to) in edits {
        assert!(text.contains(from), "{scenario} has no `{from}`");
        text = text.replacen(from, to, 1);
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("edited.toml");
    std::fs::write(&path, text).unwrap();
    let shown = path.display().to_string();
    (dir, shown)
}

fn scheme_cost(v: &Value, id: &str) -> String {
    v["schemes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == id)
        .unwrap()["cost"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn rates_keep_their_decimals_and_a_scheme_cost_is_rounded_once() {
    let args = ["--trials", "200", "--threads", "1"];
    let shipped = run_json(&[&["run", common::EALING][..], &args].concat());
    // 33.35 x 3640 + 18.00 x 5000 + 50000 + 75000.
    assert_eq!(scheme_cost(&shipped, "seven_day"), "336394.00");
    // 33.350001 x 3640 = 121394.00364 and 18.000001 x 5000 = 90000.005: each line alone
    // rounds to the same pence (the second half-even, down), their exact sum is
    // 0.00864 more, which rounds up to a penny. Rounding per line would give 336394.00.
    let (_dir, path) = edited(
        common::EALING,
        &[
            ("rate = \"33.35\"", "rate = \"33.350001\""),
            ("rate = \"18.00\"", "rate = \"18.000001\""),
        ],
    );
    let out = succeeds(itfsim().args(["run", &path, "--format", "json"]).args(args));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(scheme_cost(&v, "seven_day"), "336394.01");
    // The stated-figure warning shows the exact product, not a rounded one; a stated
    // figure that is the product to the nearest penny (90000 for 90000.005) agrees.
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "the plan states £120,000.00 but rate x quantity = £121,394.00364 (difference £1,394.00364)"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("£90,000.00 but"), "{stderr}");
}

#[test]
fn a_per_unit_rate_below_a_penny_still_pays() {
    // £0.004 per avoided admission: the money is rate x units rounded once, so hundreds
    // of avoided admissions pay whole pence (a rate rounded to the penny first paid 0).
    let (_dir, path) = edited(
        common::PRORATA,
        &[(
            "  rule = \"proportional\"\n  floor = 0.0\n",
            "  rule = \"per_unit\"\n  rate = \"0.004\"\n",
        )],
    );
    let v = run_json(&["run", &path, "--trials", "2000", "--threads", "1"]);
    let paid = v["tranches"][0]["paid"]["mean"].as_str().unwrap();
    let pence: f64 = paid.parse::<f64>().unwrap() * 100.0;
    assert!(pence >= 1.0, "paid {paid}");
    assert!(
        pence < 1000.0,
        "paid {paid}: more than 0.4p x the window's activity"
    );
}

/// Spaces around a `--set` value are not part of it (they were read as a string and
/// refused as "expected a number"), as around `=` in a scenario file.
#[test]
fn set_values_may_have_spaces_around_them() {
    let paid = |set: &str| {
        let out = succeeds(
            itfsim()
                .args(["run", "scenarios/ealing-2014.toml", "--trials", "500"])
                .args(["--format", "json", "--quiet", "--set", set]),
        );
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        v["total"]["paid"].clone()
    };
    let plain = paid("metric.reablement91.cohort=500");
    assert_eq!(paid("metric.reablement91.cohort=  500 "), plain);
    assert_eq!(paid(" metric.reablement91.cohort = 500"), plain);
    // And the value really is set (not the file's 400).
    assert_ne!(paid("metric.reablement91.cohort=400"), plain);
}

/// A range whose step does not land on TO says where it stops (on stderr; `--quiet`
/// silences it), for sweep grids and for thresholds alike.
#[test]
fn a_range_that_stops_short_of_to_is_noted() {
    let stderr = |args: &[&str]| {
        let out = succeeds(itfsim().args(args).args(["--trials", "200"]));
        String::from_utf8(out.stderr).unwrap()
    };
    let sweep = [
        "sweep",
        "scenarios/ealing-2014.toml",
        "--grid",
        "scheme.reablement.delivery=0.5:0.9:0.3",
    ];
    let note = "note: --grid scheme.reablement.delivery=0.5:0.9:0.3: the step does not land on 0.9, so the last value is 0.8";
    assert!(stderr(&sweep).contains(note));
    assert!(!stderr(&[&sweep[..], &["--quiet"]].concat()).contains("note:"));
    let thresholds = [
        "thresholds",
        "scenarios/ealing-2014.toml",
        "--condition",
        "all_metrics_1516.nea",
        "--from",
        "0.01",
        "--to",
        "0.03",
        "--step",
    ];
    assert!(stderr(&[&thresholds[..], &["0.015"]].concat()).contains(
        "note: --from/--to/--step: the step does not land on 0.03, so the last value is 0.025"
    ));
    assert!(!stderr(&[&thresholds[..], &["0.01"]].concat()).contains("note:"));
}

/// `itfsim ARGS` with stdout and stderr sent where the test says; its exit code and
/// stderr.
fn exit_with(
    args: &[&str],
    stdout: std::process::Stdio,
    stderr: std::process::Stdio,
) -> (Option<i32>, String) {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_itfsim"))
        .args(args)
        .stdout(stdout)
        .stderr(stderr)
        .spawn()
        .unwrap();
    let mut text = String::new();
    if let Some(mut err) = child.stderr.take() {
        std::io::Read::read_to_string(&mut err, &mut text).unwrap();
    }
    (child.wait().unwrap().code(), text)
}

#[test]
fn a_stdout_or_stderr_that_cannot_be_written_never_panics() {
    use std::process::Stdio;
    let full = || Stdio::from(std::fs::File::create("/dev/full").unwrap());
    let template = ["template"];
    let validate = ["validate", "scenarios/ealing-2014.toml"];
    // A full disk: exit 73 with the reason, as for every other command.
    for args in [&template[..], &validate[..]] {
        let (code, stderr) = exit_with(args, full(), Stdio::piped());
        assert_eq!(code, Some(73), "{args:?}: {stderr}");
        assert!(stderr.contains("cannot write to stdout"), "{stderr}");
    }
    // A pipe whose reader has gone (`| true`): not an error, as for `run`.
    for args in [&template[..], &validate[..]] {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_itfsim"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let done = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&done.stderr);
        assert_eq!(done.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    // Warnings to a full stderr are lost, not a failure (Ealing warns of two costs).
    let run = ["run", "scenarios/ealing-2014.toml", "--trials", "100"];
    for args in [&run[..], &validate[..]] {
        let (code, _) = exit_with(args, Stdio::null(), full());
        assert_eq!(code, Some(0), "{args:?}");
    }
}

#[test]
fn warnings_raised_by_the_run_go_to_stderr_once() {
    let stderr = |args: &[&str]| {
        let out = succeeds(itfsim().args(args));
        String::from_utf8(out.stderr).unwrap()
    };
    // Ealing's two stated costs are said at load, in full; the one-trial warning after
    // the run, once, as its JSON `warnings` holds it.
    let one = stderr(&["run", "scenarios/ealing-2014.toml", "--trials", "1"]);
    assert_eq!(one.matches("warning: only 1 trial: ").count(), 1, "{one}");
    assert_eq!(one.matches("plan states").count(), 2, "{one}");
    assert_eq!(one.matches("hint: the computed figure").count(), 2, "{one}");
    // A --precision cut short by --trials: its note once.
    let cut = stderr(&[
        "run",
        "scenarios/ealing-2014.toml",
        "--precision",
        "0.000001",
        "--trials",
        "20000",
    ]);
    assert_eq!(cut.matches("warning: --precision").count(), 1, "{cut}");
    assert_eq!(cut.matches("plan states").count(), 2, "{cut}");
    // --quiet says none of them.
    let quiet = stderr(&[
        "run",
        "scenarios/ealing-2014.toml",
        "--trials",
        "1",
        "--quiet",
    ]);
    assert!(quiet.is_empty(), "{quiet}");
}

#[test]
fn validate_counts_in_the_singular_for_one() {
    let dir = tempfile::tempdir().unwrap();
    let one = dir.path().join("one.toml");
    std::fs::write(&one, ONE_OF_EACH).unwrap();
    let out = succeeds(itfsim().arg("validate").arg(&one));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.ends_with(": ok (1 scheme, 1 metric, 1 tranche)\n"),
        "{stdout}"
    );
    let out = succeeds(itfsim().args(["validate", "scenarios/ealing-2014.toml"]));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains(" schemes, "), "{stdout}");
}

/// A scenario of one partner pair, one metric, one scheme and one tranche (a user
/// reviewer's small district).
const ONE_OF_EACH: &str = r#"[scenario]
name = "Small district S1"
area = "Smallton"
start = "2015-04"
months = 12
trials = 200000
seed = 7

[partners]
nhs = { label = "Smallton CCG" }
council = {}

[[metric]]
id = "nea"
kind = "count"
baseline = 1200
unit_cost = 1490
payer = "nhs"

[[scheme]]
id = "navig"
funder = { nhs = 0.3, council = 0.7 }
  [[scheme.cost]]
  item = "navigators"
  year = "2015/16"
  rate = "33.35"
  quantity = 3640
  [[scheme.effect]]
  metric = "nea"
  change = 0.05

[fund]
pot = "100000"
released_to = { council = 0.6, nhs = 0.4 }
unreleased_to = { nhs = 1.0 }

[[tranche]]
id = "y1"
share = "1"
window = { from = "2015-04", to = "2016-03" }
  [[tranche.condition]]
  metric = "nea"
  target = 0.03
  rule = "all_or_nothing"
"#;
