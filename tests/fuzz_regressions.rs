//! Every input the fuzzer (fuzz/, `cargo fuzz run scenario`) ever crashed on, kept as a
//! scenario file in tests/fuzz_regressions/ and replayed through the real binary: each
//! must end with exit 0 (it was valid after all) or 65 (refused with located errors),
//! never a panic, an abort or a signal. A file's `# itfsim-fuzz-set: PATH=VALUE` header
//! lines are the `--set` overrides the fuzzer used with it. The expected exit code of
//! each file is pinned in its `# expect-exit: N` line, so a fix that turns a refusal into
//! a silent success (or the reverse) is noticed.
use assert_cmd::Command;

#[test]
fn fuzzer_crashes_stay_fixed() {
    let mut files: Vec<_> = std::fs::read_dir("tests/fuzz_regressions")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "the regression corpus is empty");
    let mut failures = Vec::new();
    for file in &files {
        let text = String::from_utf8_lossy(&std::fs::read(file).unwrap()).into_owned();
        let sets: Vec<String> = text
            .lines()
            .filter_map(|l| l.strip_prefix("# itfsim-fuzz-set: "))
            .map(str::to_string)
            .collect();
        let expected: i32 = text
            .lines()
            .find_map(|l| l.strip_prefix("# expect-exit: "))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or_else(|| panic!("{} has no `# expect-exit: N` line", file.display()));
        let mut cmd = Command::cargo_bin("itfsim").unwrap();
        cmd.arg("run")
            .arg(file)
            .args(["--trials", "50", "--threads", "1", "--quiet"]);
        for s in &sets {
            cmd.arg("--set").arg(s);
        }
        let out = cmd.output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let code = out.status.code();
        if code != Some(expected) || stderr.contains("panicked") {
            failures.push(format!(
                "{}: expected exit {expected}, got {code:?}\n{stderr}",
                file.display()
            ));
        } else if expected == 65
            && !stderr.contains(": error: `")
            && !stderr.contains("`: in trial")
        {
            failures.push(format!(
                "{}: refusal without a located error\n{stderr}",
                file.display()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
