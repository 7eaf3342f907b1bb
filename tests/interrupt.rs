//! Nothing lost: Ctrl-C (SIGINT) during any command stops it, says so on stderr, ends the
//! process by SIGINT (status 130 in a shell) and leaves no output file (neither the
//! target nor the reserved temporary file); a sweep keeps its partial points. Unwritable
//! targets fail with exit 73 before any computing. The signal is sent with
//! `nix::sys::signal::kill`, as Ctrl-C in a terminal would. Every child starts with
//! SIGINT at its default (whatever this test process inherited) and is waited for with a
//! deadline, so a regression fails instead of hanging.
#![cfg(unix)]
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_itfsim")
}

/// `program` run from the project root with SIGINT at its default disposition: a test
/// runner started with SIGINT ignored (`nohup`, `cmd &`) would otherwise pass that on.
fn command(program: &str) -> Command {
    let mut c = Command::new(program);
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    // SAFETY: between fork and exec only the async-signal-safe `signal` is called.
    unsafe {
        c.pre_exec(|| {
            nix::sys::signal::signal(
                nix::sys::signal::Signal::SIGINT,
                nix::sys::signal::SigHandler::SigDfl,
            )
            .map(|_| ())
            .map_err(std::io::Error::from)
        });
    }
    c
}

/// Waits (at most 60 s) until the command has reserved an output file in `dir`: it has
/// loaded its scenario and installed its signal handling by then.
fn wait_for_files(dir: &Path) {
    let waited = Instant::now();
    while entries(dir).is_empty() {
        assert!(waited.elapsed() < Duration::from_secs(60), "never started");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Sends `signal` to `child`, as a terminal or a scheduler would.
fn send(child: &Child, signal: nix::sys::signal::Signal) {
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).unwrap());
    nix::sys::signal::kill(pid, signal).unwrap();
}

/// Waits for `child` at most 60 s (a stopped command takes milliseconds), then kills it
/// (and its process group when it leads one) and fails; returns its status and stderr.
fn finish(mut child: Child, group: bool) -> (ExitStatus, String) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let pid = i32::try_from(child.id()).unwrap();
            let target = nix::unistd::Pid::from_raw(if group { -pid } else { pid });
            let _ = nix::sys::signal::kill(target, nix::sys::signal::Signal::SIGKILL);
            let _ = child.wait();
            panic!("still running 60 s after the signal");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    if let Some(mut pipe) = child.stderr.take() {
        use std::io::Read;
        let _ = pipe.read_to_string(&mut stderr);
    }
    (status, stderr)
}

fn entries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn sigint_stops_a_long_run_with_exit_130_and_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir
        .path()
        .join("result.json")
        .to_string_lossy()
        .into_owned();
    // The temporary output file is reserved after the scenario is loaded and the Ctrl-C
    // handler installed, just before the trials start: the helper waits for it.
    let stopped = interrupt_when_reserved(
        dir.path(),
        &[
            "run",
            "scenarios/national-2014-design.toml",
            "--trials",
            "1000000000",
            "--quiet",
            "--format",
            "json",
            "--out",
            &out,
        ],
    );
    assert!(
        stopped.died_of_sigint(),
        "{:?} {:?}: {}",
        stopped.signal,
        stopped.code,
        stopped.stderr
    );
    assert!(
        stopped
            .stderr
            .contains("interrupted: the run was stopped before it finished; nothing was written"),
        "{}",
        stopped.stderr
    );
    // "Promptly": a billion trials would take hours; stopping is a matter of milliseconds.
    // The bound is loose so that a loaded test machine does not make it flaky.
    assert!(
        stopped.took < Duration::from_secs(10),
        "took {:?} to stop",
        stopped.took
    );
    assert!(entries(dir.path()).is_empty(), "{:?}", entries(dir.path()));
}

#[test]
fn unwritable_output_fails_with_73_before_computing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("missing-dir").join("result.json");
    // A billion trials: if the output were not checked first this would run for hours.
    let output = Command::new(binary())
        .args([
            "run",
            "scenarios/ealing-2014.toml",
            "--trials",
            "1000000000",
            "--quiet",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(73));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("cannot create output file"), "{stderr}");
    assert!(entries(dir.path()).is_empty());
}

#[test]
fn a_raised_cancel_flag_stops_the_engine_and_a_lowered_one_changes_nothing() {
    use itfsim::engine::{self, EngineError};
    use itfsim::output::{Results, RunInfo, json};
    use std::sync::atomic::AtomicBool;
    let loaded = itfsim::scenario::load(Path::new("scenarios/ealing-2014.toml"), &[]).unwrap();
    let model = itfsim::model::compile(&loaded.scenario, 11).unwrap();
    let raised = AtomicBool::new(true);
    assert!(matches!(
        engine::run_cancellable(&model, 0..5000, 2, &raised),
        Err(EngineError::Cancelled)
    ));
    let lowered = AtomicBool::new(false);
    let render = |acc: &engine::Accumulator| {
        let info = RunInfo {
            trials: 3000,
            seed: 11,
            sampling: "mc".into(),
            threads: 2,
            elapsed_s: 0.0,
        };
        json::to_bytes(&Results::new(&loaded, &model, acc, info, Vec::new()))
    };
    let plain = engine::run(&model, 0..3000, 2).unwrap();
    let cancellable = engine::run_cancellable(&model, 0..3000, 2, &lowered).unwrap();
    assert!(render(&plain) == render(&cancellable));
}

/// A sweep killed outright (SIGKILL, as a cluster scheduler or an out-of-memory killer
/// would) keeps its finished points in FILE.partial, and `--resume` finishes the file
/// byte-identical to an uninterrupted sweep.
#[test]
fn killed_sweep_resumes_to_an_identical_file() {
    let dir = tempfile::tempdir().unwrap();
    let sweep = |out: &std::path::Path| {
        let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("itfsim"));
        c.args([
            "sweep",
            "scenarios/ealing-2014-prorata.toml",
            "--grid",
            "tranche.q4_1415.condition.nea.target=0.01:0.06:0.0025",
            "--trials",
            "3000",
            "--seed",
            "9",
            "--quiet",
            "--out",
        ])
        .arg(out);
        c
    };
    let whole = dir.path().join("whole.csv");
    assert!(sweep(&whole).status().unwrap().success());
    let out = dir.path().join("killed.csv");
    let partial = dir.path().join("killed.csv.partial");
    let mut child = sweep(&out)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait until a few points are saved, then kill without warning.
    let started = std::time::Instant::now();
    loop {
        let rows = std::fs::read_to_string(&partial)
            .map(|t| t.lines().count())
            .unwrap_or(0);
        if rows >= 4 || started.elapsed() > std::time::Duration::from_secs(60) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    child.kill().unwrap();
    let status = child.wait().unwrap();
    let saved = std::fs::read_to_string(&partial)
        .map(|t| t.lines().count())
        .unwrap_or(0);
    eprintln!("killed with {saved} lines saved (status {status:?})");
    if status.success() {
        // The machine finished all 21 points before the kill landed: nothing to resume.
        assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&whole).unwrap());
        return;
    }
    assert!(
        !out.exists(),
        "a killed sweep must not leave the output file"
    );
    assert!(
        saved >= 2,
        "finished points must survive the kill ({saved} lines)"
    );
    let resumed = sweep(&out).arg("--resume").output().unwrap();
    assert!(
        resumed.status.success(),
        "{}",
        String::from_utf8_lossy(&resumed.stderr)
    );
    assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&whole).unwrap());
    assert!(!partial.exists());
}

/// How a command ended after the SIGINT: killed by which signal (None: it exited), exit
/// code, stderr, and time from the signal.
struct Stopped {
    signal: Option<i32>,
    code: Option<i32>,
    stderr: String,
    took: Duration,
}

impl Stopped {
    /// Ended as an interrupted program should: killed by SIGINT itself (a shell shows
    /// status 130, and a script running it stops too).
    fn died_of_sigint(&self) -> bool {
        self.signal == Some(nix::sys::signal::Signal::SIGINT as i32)
    }
}

/// Starts `itfsim ARGS` writing into `dir`, waits until it has reserved an output file
/// (a hidden `.NAME.PID.tmp`) and `ready` holds, then sends SIGINT with
/// `nix::sys::signal::kill`, as Ctrl-C in a terminal would.
fn interrupt_when(dir: &Path, args: &[&str], ready: impl Fn() -> bool) -> Stopped {
    let mut child = command(binary())
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let waited = Instant::now();
    while !(entries(dir).iter().any(|e| e.ends_with(".tmp")) && ready()) {
        assert!(
            waited.elapsed() < Duration::from_secs(60),
            "{args:?} never reserved its output"
        );
        if let Some(status) = child.try_wait().unwrap() {
            panic!("{args:?} ended before the signal: {status}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    send(&child, nix::sys::signal::Signal::SIGINT);
    let signalled = Instant::now();
    let (status, stderr) = finish(child, false);
    use std::os::unix::process::ExitStatusExt;
    Stopped {
        signal: status.signal(),
        code: status.code(),
        stderr,
        took: signalled.elapsed(),
    }
}

fn interrupt_when_reserved(dir: &Path, args: &[&str]) -> Stopped {
    interrupt_when(dir, args, || true)
}

/// Ctrl-C during any command that writes files (not only the engine of a plain `run`)
/// exits 130 and leaves neither its outputs nor their reserved temporary files.
#[test]
fn sigint_during_any_writing_command_leaves_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let at = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
    let (json, html, csv) = (at("out.json"), at("report.html"), at("out.csv"));
    let long = "1000000000";
    let commands: Vec<Vec<&str>> = vec![
        vec![
            "compare",
            "scenarios/ealing-2014.toml",
            "scenarios/ealing-2014-no-networks.toml",
            "--trials",
            long,
            "--quiet",
            "--out",
            &json,
            "--report",
            &html,
        ],
        vec![
            "thresholds",
            "scenarios/ealing-2014.toml",
            "--condition",
            "all_metrics_1516.nea",
            "--from",
            "0.01",
            "--to",
            "0.05",
            "--step",
            "0.01",
            "--trials",
            long,
            "--quiet",
            "--out",
            &csv,
        ],
        vec![
            "sensitivity",
            "scenarios/ealing-2014.toml",
            "--trials",
            "2000000",
            "--quiet",
            "--out",
            &json,
        ],
        // (Two outputs for one target are refused before anything starts, exit 2: tests/cli.rs
        // `no_output_replaces_an_input_or_another_output`; two reservations of one target
        // within the process are `atomic`'s unit test.)
        // With report extras the run goes through the observed engine, which stops at
        // once rather than between chunks.
        vec![
            "run",
            "scenarios/ealing-2014.toml",
            "--trials",
            long,
            "--quiet",
            "--out",
            &json,
            "--report",
            &html,
            "--samples",
            &csv,
        ],
    ];
    for args in &commands {
        let stopped = interrupt_when_reserved(dir.path(), args);
        let stderr = &stopped.stderr;
        assert!(stopped.died_of_sigint(), "{args:?}: {stderr}");
        assert!(
            stderr.contains("interrupted: ") && stderr.contains("nothing was written"),
            "{args:?}: {stderr}"
        );
        assert!(
            entries(dir.path()).is_empty(),
            "{args:?} left {:?}",
            entries(dir.path())
        );
    }
}

/// Ctrl-C during a sweep keeps the finished points in FILE.partial (and says how to go
/// on), but neither the output nor the report's temporary file.
#[test]
fn sigint_during_a_sweep_keeps_only_its_partial_points() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sweep.csv").to_string_lossy().into_owned();
    let html = dir.path().join("sweep.html").to_string_lossy().into_owned();
    let partial = dir.path().join("sweep.csv.partial");
    // Its partial file holds its header (and the note is set) before the signal.
    let header_written = || std::fs::read_to_string(&partial).is_ok_and(|t| t.contains('\n'));
    let stopped = interrupt_when(
        dir.path(),
        &[
            "sweep",
            "scenarios/ealing-2014.toml",
            "--grid",
            "scheme.reablement.delivery=0.5,0.6,0.7,0.8",
            "--trials",
            "1000000000",
            "--quiet",
            "--out",
            &out,
            "--report",
            &html,
        ],
        header_written,
    );
    let stderr = &stopped.stderr;
    assert!(stopped.died_of_sigint(), "{stderr}");
    assert!(
        stderr.contains("sweep.csv.partial: run the same command with --resume"),
        "{stderr}"
    );
    assert_eq!(entries(dir.path()), vec!["sweep.csv.partial".to_string()]);
}

/// A shell script running itfsim stops at Ctrl-C (bash ends a script only when its child
/// died of SIGINT, not when it exited 130): the terminal's SIGINT goes to the whole
/// process group, as here.
#[test]
fn ctrl_c_stops_a_script_that_runs_itfsim_in_a_loop() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("c.json");
    let script = format!(
        "for i in 1 2; do '{}' compare scenarios/ealing-2014.toml scenarios/ealing-2014-no-networks.toml --trials 1000000000 --quiet --out '{}'; echo after $i; done; echo loop-finished",
        binary(),
        out.display()
    );
    let mut child = command("bash")
        .args(["-c", &script])
        .process_group(0)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_files(dir.path());
    std::thread::sleep(Duration::from_millis(300));
    let group = nix::unistd::Pid::from_raw(-i32::try_from(child.id()).unwrap());
    nix::sys::signal::kill(group, nix::sys::signal::Signal::SIGINT).unwrap();
    let stdout_pipe = child.stdout.take();
    finish(child, true);
    let mut stdout = String::new();
    if let Some(mut pipe) = stdout_pipe {
        use std::io::Read;
        let _ = pipe.read_to_string(&mut stdout);
    }
    assert!(!stdout.contains("after"), "the script went on: {stdout}");
    assert!(entries(dir.path()).is_empty(), "{:?}", entries(dir.path()));
}

/// Where SIGINT is ignored when itfsim starts (`nohup`, `cmd &` in a script), it stays
/// ignored: the run finishes and writes its output.
#[test]
fn an_ignored_sigint_stays_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.json");
    let mut ignoring = Command::new(binary());
    ignoring
        .args([
            "run",
            "scenarios/ealing-2014.toml",
            "--trials",
            "2000000",
            "--quiet",
            "--format",
            "json",
            "--out",
        ])
        .arg(&out)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stderr(Stdio::piped());
    // SAFETY: between fork and exec only the async-signal-safe `signal` is called.
    unsafe {
        ignoring.pre_exec(|| {
            nix::sys::signal::signal(
                nix::sys::signal::Signal::SIGINT,
                nix::sys::signal::SigHandler::SigIgn,
            )
            .map(|_| ())
            .map_err(std::io::Error::from)
        });
    }
    let child = ignoring.spawn().unwrap();
    wait_for_files(dir.path());
    send(&child, nix::sys::signal::Signal::SIGINT);
    let (status, stderr) = finish(child, false);
    assert!(status.success(), "{status:?}: {stderr}");
    assert!(out.exists());
}

/// A closed stderr (the other end of `2>&1 | tee` gone with the same Ctrl-C) cannot keep
/// the handler from ending the process.
#[test]
fn sigint_with_a_closed_stderr_still_stops() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("c.json");
    let mut child = command(binary())
        .args([
            "compare",
            "scenarios/ealing-2014.toml",
            "scenarios/ealing-2014-no-networks.toml",
            "--trials",
            "1000000000",
            "--quiet",
            "--out",
        ])
        .arg(&out)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_files(dir.path());
    // Close the read end: the child's writes to stderr now fail (EPIPE).
    drop(child.stderr.take());
    send(&child, nix::sys::signal::Signal::SIGINT);
    let (status, _) = finish(child, false);
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(
        status.signal(),
        Some(nix::sys::signal::Signal::SIGINT as i32),
        "{status:?}"
    );
    assert!(entries(dir.path()).is_empty(), "{:?}", entries(dir.path()));
}

/// Once a command has started committing its outputs, a first Ctrl-C waits until all of
/// them are written (a report never stands beside a missing main output), then ends the
/// process by SIGINT; a second Ctrl-C does not wait. Each commit is held 1.5 s
/// (`ITFSIM_TEST_COMMIT_DELAY_MS`) so the signals land during the first of two commits.
#[test]
fn sigint_while_outputs_are_committed_finishes_them_first() {
    let run = |signals: usize| {
        let dir = tempfile::tempdir().unwrap();
        let report = dir.path().join("c.html");
        let out = dir.path().join("c.json");
        let child = command(binary())
            .args([
                "compare",
                "scenarios/ealing-2014.toml",
                "scenarios/ealing-2014-no-networks.toml",
                "--trials",
                "2000",
                "--quiet",
                "--report",
            ])
            .arg(&report)
            .arg("--out")
            .arg(&out)
            .env("ITFSIM_TEST_COMMIT_DELAY_MS", "1500")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Both temporary files exist from the start; wait until the trials are done and
        // the first commit is under way (its file written, the rename held).
        let waited = Instant::now();
        while !entries(dir.path()).iter().any(|e| {
            e.ends_with(".tmp") && std::fs::metadata(dir.path().join(e)).is_ok_and(|m| m.len() > 0)
        }) {
            assert!(
                waited.elapsed() < Duration::from_secs(60),
                "never committed"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        for _ in 0..signals {
            send(&child, nix::sys::signal::Signal::SIGINT);
            std::thread::sleep(Duration::from_millis(100));
        }
        let (status, stderr) = finish(child, false);
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(2), "{status:?}: {stderr}");
        (entries(dir.path()), stderr)
    };
    let (mut files, stderr) = run(1);
    files.sort();
    assert_eq!(files, vec!["c.html", "c.json"], "{stderr}");
    assert!(stderr.contains("they were finished first"), "{stderr}");
    let (files, stderr) = run(2);
    assert!(!files.iter().any(|f| f.ends_with(".tmp")), "{files:?}");
    assert!(!files.contains(&"c.json".to_string()), "{files:?}");
    assert!(
        stderr.contains("stopped while writing its outputs"),
        "{stderr}"
    );
}

/// SIGTERM (what Slurm sends at a time limit or `scancel`, and Kubernetes to stop a pod)
/// is handled as Ctrl-C is: the temporary files go, and the process ends by SIGTERM.
#[test]
fn sigterm_cleans_up_like_ctrl_c() {
    for args in [
        vec!["run", "scenarios/ealing-2014.toml", "--format", "json"],
        vec![
            "compare",
            "scenarios/ealing-2014.toml",
            "scenarios/ealing-2014-no-networks.toml",
        ],
    ] {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out.json");
        let child = command(binary())
            .args(&args)
            .args(["--trials", "1000000000", "--quiet", "--out"])
            .arg(&out)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        wait_for_files(dir.path());
        std::thread::sleep(Duration::from_millis(300));
        send(&child, nix::sys::signal::Signal::SIGTERM);
        let (status, stderr) = finish(child, false);
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(
            status.signal(),
            Some(nix::sys::signal::Signal::SIGTERM as i32),
            "{args:?} {status:?}: {stderr}"
        );
        assert!(stderr.contains("interrupted"), "{args:?}: {stderr}");
        assert!(
            entries(dir.path()).is_empty(),
            "{args:?} left {:?}",
            entries(dir.path())
        );
    }
}
