//! `itfsim rollup` through the binary: each area's row is its run result's own figures,
//! the totals are exact sums (pence, probabilities, an MCSE bound), the CSV and text carry
//! the same numbers, and bad inputs are refused with the exit codes of MODEL.md section 10
//! (66 unreadable, 65 not a run result, 2 an area given twice), leaving no output file.
mod common;
use common::{itfsim, succeeds};
use rust_decimal::Decimal;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::str::FromStr;

const AREAS: [&str; 3] = ["ealing-2014", "barnet-2013", "hackney-2018"];

/// Runs each area's scenario (4,000 trials) into DIR/AREA.json; returns the paths.
fn results(dir: &Path) -> Vec<PathBuf> {
    AREAS
        .iter()
        .map(|area| {
            let path = dir.join(format!("{area}.json"));
            succeeds(
                itfsim()
                    .args(["run", &format!("scenarios/{area}.toml"), "--trials", "4000"])
                    .args(["--quiet", "--format", "json", "--out"])
                    .arg(&path),
            );
            path
        })
        .collect()
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn pounds(v: &Value) -> Decimal {
    Decimal::from_str(v.as_str().unwrap()).unwrap()
}

fn rollup(args: &[&std::ffi::OsStr]) -> std::process::Output {
    itfsim().arg("rollup").args(args).output().unwrap()
}

fn os(paths: &[PathBuf]) -> Vec<&std::ffi::OsStr> {
    paths.iter().map(|p| p.as_os_str()).collect()
}

#[test]
fn rows_are_the_runs_figures_and_totals_are_exact_sums() {
    let dir = tempfile::tempdir().unwrap();
    let paths = results(dir.path());
    let mut args = os(&paths);
    args.extend(["--format", "json"].map(std::ffi::OsStr::new));
    let out = succeeds(itfsim().arg("rollup").args(&args));
    let roll: Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = roll["areas"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    let (mut pot, mut paid, mut mcse, mut unreleased) =
        (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO, Decimal::ZERO);
    let (mut full, mut zero) = (0.0, 0.0);
    let mut nhs_net = Decimal::ZERO;
    for (row, path) in rows.iter().zip(&paths) {
        let run = read_json(path);
        assert_eq!(row["file"], path.display().to_string());
        assert_eq!(row["scenario"]["name"], run["scenario"]["name"]);
        assert_eq!(row["trials"], 4000);
        assert_eq!(row["seed"], run["run"]["seed"]);
        assert_eq!(row["pot"], run["fund"]["pot"]);
        for q in ["mean", "mcse", "p5", "p50", "p95"] {
            assert_eq!(row["paid"][q], run["total"]["paid"][q], "{q}");
        }
        assert_eq!(row["unreleased_mean"], run["total"]["unreleased"]["mean"]);
        assert_eq!(row["p_full"], run["total"]["p_full"]);
        assert_eq!(row["p_zero"], run["total"]["p_zero"]);
        pot += pounds(&run["fund"]["pot"]);
        paid += pounds(&run["total"]["paid"]["mean"]);
        mcse += pounds(&run["total"]["paid"]["mcse"]);
        unreleased += pounds(&run["total"]["unreleased"]["mean"]);
        full += run["total"]["p_full"].as_f64().unwrap();
        zero += run["total"]["p_zero"].as_f64().unwrap();
        for p in run["partners"].as_array().unwrap() {
            if p["id"] == "nhs" {
                nhs_net += pounds(&p["net"]["mean"]);
            }
        }
    }
    let total = &roll["total"];
    assert_eq!(total["areas"], 3);
    assert_eq!(pounds(&total["pot"]), pot);
    assert_eq!(pounds(&total["paid_mean"]), paid);
    assert_eq!(pounds(&total["paid_mcse_at_most"]), mcse);
    assert_eq!(pounds(&total["unreleased_mean"]), unreleased);
    // Paid and unreleased split every pot, so their means add up to the pots.
    assert_eq!(paid + unreleased, pot);
    assert_eq!(total["expected_areas_full"].as_f64().unwrap(), full);
    assert_eq!(total["expected_areas_zero"].as_f64().unwrap(), zero);
    let nhs = &total["partners"].as_array().unwrap()[0];
    assert_eq!(nhs["id"], "nhs");
    assert_eq!(nhs["areas"], 3);
    assert_eq!(pounds(&nhs["net_mean"]), nhs_net);
}

#[test]
fn csv_and_text_carry_the_same_totals() {
    let dir = tempfile::tempdir().unwrap();
    let paths = results(dir.path());
    let json: Value = {
        let mut args = os(&paths);
        args.extend(["--format", "json"].map(std::ffi::OsStr::new));
        serde_json::from_slice(&rollup(&args).stdout).unwrap()
    };
    let csv_path = dir.path().join("national.csv");
    let mut args = os(&paths);
    args.extend(["--format", "csv", "--out"].map(std::ffi::OsStr::new));
    args.push(csv_path.as_os_str());
    let out = rollup(&args);
    assert!(out.status.success());
    assert!(out.stdout.is_empty(), "--out writes the file, not stdout");
    let csv = std::fs::read_to_string(&csv_path).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 1 + 3 + 1, "header, a row per area, the total");
    assert!(lines[0].starts_with("file,scenario,trials,seed,sampling,pot,paid_mean,paid_mcse,"));
    assert!(lines[0].contains(",nhs_performance_mean,nhs_net_mean,"));
    // Scenario names with commas are quoted.
    assert!(lines[2].contains("\"Barnet OPIC and care homes, October 2013 ITF design\""));
    let total: Vec<&str> = lines[4].split(',').collect();
    assert_eq!(total[0], "total");
    assert_eq!(total[5], json["total"]["pot"].as_str().unwrap());
    assert_eq!(total[6], json["total"]["paid_mean"].as_str().unwrap());
    assert_eq!(total[8], "", "quantiles of a sum are not given");

    let out = rollup(&os(&paths));
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let paid: Decimal = pounds(&json["total"]["paid_mean"]);
    let shown = format!("expected paid over all areas £{}", group(paid));
    assert!(text.contains(&shown), "{shown} not in\n{text}");
    assert!(text.contains("total (3 areas)"));
    assert!(text.contains("The spread of the national total is not shown"));
}

/// 1234567.89 -> "1,234,567.89".
fn group(d: Decimal) -> String {
    let s = format!("{d:.2}");
    let (whole, pence) = s.split_once('.').unwrap();
    let mut out = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    format!("{out}.{pence}")
}

/// Writes the result at `path` with `edit` applied to `edited` (pretty-printed, as run
/// writes it), which rollup must refuse with exit 65 saying every one of `says`, and
/// the file, line and column of the figure at fault, which `find` gives as a byte
/// offset into the edited text (and not create `out`).
fn refused_edit(
    path: &Path,
    edited: &Path,
    edit: impl FnOnce(&mut Value),
    find: impl FnOnce(&str) -> usize,
    says: &[&str],
    out: &Path,
) {
    let mut run = read_json(path);
    edit(&mut run);
    let text = serde_json::to_string_pretty(&run).unwrap();
    std::fs::write(edited, &text).unwrap();
    let (line, column) = common::line_col(&text, find(&text));
    let name = edited.file_name().unwrap().to_string_lossy();
    let at = format!("{name}:{line}:{column}: ");
    let mut all = says.to_vec();
    all.push(&at);
    refused(&[edited.as_os_str()], 65, &all, out);
}

/// The offset of `needle`'s first occurrence in the text.
fn found(needle: &str) -> impl FnOnce(&str) -> usize + '_ {
    move |text| text.find(needle).expect("the edit is in the text")
}

/// Runs rollup on `args`, which must fail with `code` and a message containing every
/// one of `says`, and must not create `out`.
fn refused(args: &[&std::ffi::OsStr], code: i32, says: &[&str], out: &Path) {
    let mut all = args.to_vec();
    all.extend([std::ffi::OsStr::new("--out"), out.as_os_str()]);
    let got = rollup(&all);
    let stderr = String::from_utf8_lossy(&got.stderr);
    assert_eq!(got.status.code(), Some(code), "{stderr}");
    for s in says {
        assert!(stderr.contains(s), "`{s}` not in: {stderr}");
    }
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!out.exists(), "no output after a refusal");
}

#[test]
fn bad_inputs_are_refused_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let paths = results(dir.path());
    let out = dir.path().join("rollup.txt");
    let ealing = paths[0].as_os_str();

    let missing = dir.path().join("nowhere.json");
    refused(
        &[ealing, missing.as_os_str()],
        66,
        &["nowhere.json", "cannot read"],
        &out,
    );

    refused(&[ealing, ealing], 2, &["same file"], &out);
    // Another spelling of the same file is the same area.
    let spelled = dir.path().join(".").join("ealing-2014.json");
    refused(&[ealing, spelled.as_os_str()], 2, &["same file"], &out);

    // --out naming an input would destroy that area's result.
    let before = std::fs::read(&paths[0]).unwrap();
    let got = rollup(&[
        ealing,
        paths[1].as_os_str(),
        std::ffi::OsStr::new("--out"),
        ealing,
    ]);
    assert_eq!(got.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&got.stderr).contains("is the input"));
    assert_eq!(
        std::fs::read(&paths[0]).unwrap(),
        before,
        "the input is untouched"
    );

    // The rollup's own output caught by a glob is named as such.
    let national = dir.path().join("national.json");
    let mut args = os(&paths);
    args.extend(["--format", "json", "--out"].map(std::ffi::OsStr::new));
    args.push(national.as_os_str());
    succeeds(itfsim().arg("rollup").args(&args));
    refused(
        &[ealing, national.as_os_str()],
        65,
        &["national.json:", "output of `itfsim rollup`"],
        &out,
    );

    let broken = dir.path().join("broken.json");
    std::fs::write(&broken, "{\n  \"itfsim\": \"0.1.0\",\n  oops\n}\n").unwrap();
    refused(
        &[broken.as_os_str()],
        65,
        &["broken.json:3:", "hint:"],
        &out,
    );

    // A shard's partial result is not a run result: the hint says to merge first.
    let part = dir.path().join("part.json");
    let got = itfsim()
        .args([
            "run",
            "scenarios/ealing-2014.toml",
            "--trials",
            "2000",
            "--quiet",
        ])
        .args(["--shard", "0/2", "--out"])
        .arg(&part)
        .output()
        .unwrap();
    assert!(got.status.success());
    refused(
        &[part.as_os_str()],
        65,
        &["part.json", "merge the shards first"],
        &out,
    );

    // An amount that is not money, named by its key.
    let edited = dir.path().join("edited.json");
    let barnet = &paths[1];
    refused_edit(
        barnet,
        &edited,
        |run| run["total"]["paid"]["mean"] = Value::from("lots"),
        found("\"lots\""),
        &["`total.paid.mean`", "\"lots\""],
        &out,
    );
    // Figures no run gives: more paid than the pot, a third decimal, a partner twice, a
    // probability above 1.
    refused_edit(
        barnet,
        &edited,
        |run| run["total"]["paid"]["mean"] = Value::from("99999999.00"),
        found("\"99999999.00\""),
        &["`total.paid.mean`", "the pot is"],
        &out,
    );
    refused_edit(
        barnet,
        &edited,
        |run| run["fund"]["pot"] = Value::from("7000000.005"),
        found("\"7000000.005\""),
        &["`fund.pot`", "two decimals"],
        &out,
    );
    refused_edit(
        barnet,
        &edited,
        |run| {
            let first = run["partners"][0].clone();
            run["partners"].as_array_mut().unwrap().push(first);
        },
        // The second copy: the last partner object, which opens before its last id.
        |text| {
            let id = text.rfind("\"id\"").unwrap();
            text[..id].rfind('{').unwrap()
        },
        &["listed twice"],
        &out,
    );
    refused_edit(
        barnet,
        &edited,
        |run| run["total"]["p_full"] = Value::from(1.5),
        |text| text.find("\"p_full\": 1.5").unwrap() + "\"p_full\": ".len(),
        &["`total.p_full`", "not a probability"],
        &out,
    );
}

#[test]
fn what_could_mislead_the_totals_is_warned_about() {
    let dir = tempfile::tempdir().unwrap();
    let paths = results(dir.path());
    // The same scenario run again with another seed and trial count, as an old result
    // caught by a glob would be: counted (it is a run result) but warned about, as are
    // the differing trials and the area's own run warnings (Ealing has two).
    let rerun = dir.path().join("old-ealing.json");
    succeeds(
        itfsim()
            .args([
                "run",
                "scenarios/ealing-2014.toml",
                "--trials",
                "3000",
                "--seed",
                "7",
            ])
            .args(["--quiet", "--format", "json", "--out"])
            .arg(&rerun),
    );
    // Both name their area, so they are refused (`one_area_is_refused_twice`); as
    // results of an itfsim that did not write the area, they are only warned about.
    let unnamed = |path: &Path| {
        let mut run = read_json(path);
        run["scenario"]
            .as_object_mut()
            .unwrap()
            .remove("area")
            .unwrap();
        let old = dir.path().join(format!(
            "unnamed-{}",
            path.file_name().unwrap().to_string_lossy()
        ));
        std::fs::write(&old, serde_json::to_string_pretty(&run).unwrap()).unwrap();
        old
    };
    let (first, rerun) = (unnamed(&paths[0]), unnamed(&rerun));
    let out = succeeds(itfsim().arg("rollup").arg(&first).arg(&rerun));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("same scenario file (\"Ealing ITF plan 2014/15-2015/16 (Dec 2013 design)\") with the same overrides (none): that area is counted twice"),
        "{stderr}"
    );
    assert!(
        stderr.contains("different numbers of trials (4000 in"),
        "{stderr}"
    );
    assert!(
        stderr.contains("ealing-2014.json: scenarios/ealing-2014.toml:"),
        "{stderr}"
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("2 areas carry warnings from their runs"),
        "{text}"
    );
    // --quiet silences stderr; the JSON keeps each area's warnings.
    let out = succeeds(
        itfsim()
            .arg("rollup")
            .arg(&first)
            .arg(&rerun)
            .args(["--quiet", "--format", "json"]),
    );
    assert!(out.stderr.is_empty());
    let roll: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        roll["areas"][0]["warnings"],
        read_json(&paths[0])["warnings"]
    );
    assert_eq!(roll["areas"][0]["scenario"]["area"], Value::Null);
}

#[test]
fn one_area_is_refused_twice() {
    let dir = tempfile::tempdir().unwrap();
    let paths = results(dir.path());
    let out = dir.path().join("rollup.txt");
    // The area is in the result, from the scenario.
    assert_eq!(
        read_json(&paths[0])["scenario"]["area"],
        "London Borough of Ealing"
    );
    // A variant of Ealing from another scenario file, with its own seed: the same area.
    let variant = dir.path().join("ealing-prorata.json");
    succeeds(
        itfsim()
            .args(["run", common::PRORATA, "--trials", "3000", "--seed", "7"])
            .args(["--quiet", "--format", "json", "--out"])
            .arg(&variant),
    );
    let mut args = os(&paths);
    args.push(variant.as_os_str());
    refused(
        &args,
        2,
        &[
            "ealing-2014.json and ",
            "ealing-prorata.json are both results for the area \"London Borough of Ealing\"",
            "would count that area twice",
            "hint: give one result per area",
            "itfsim compare",
        ],
        &out,
    );
    // The area named with other case and spacing is the same area.
    let respelled = dir.path().join("respelled.json");
    let mut run = read_json(&variant);
    run["scenario"]["area"] = Value::from("london  borough of EALING");
    std::fs::write(&respelled, serde_json::to_string_pretty(&run).unwrap()).unwrap();
    refused(
        &[paths[0].as_os_str(), respelled.as_os_str()],
        2,
        &["both results for the area"],
        &out,
    );
    // Another area set on the command line is another area.
    let elsewhere = dir.path().join("elsewhere.json");
    succeeds(
        itfsim()
            .args(["run", common::PRORATA, "--trials", "3000", "--quiet"])
            .args([
                "--set",
                "scenario.area=\"Elsewhere\"",
                "--format",
                "json",
                "--out",
            ])
            .arg(&elsewhere),
    );
    succeeds(
        itfsim()
            .arg("rollup")
            .arg(&paths[0])
            .arg(&elsewhere)
            .arg("--quiet"),
    );
}

#[test]
fn merge_refuses_an_out_that_is_one_of_its_shards() {
    let dir = tempfile::tempdir().unwrap();
    let part = |i: u32| {
        let path = dir.path().join(format!("part-{i}.json"));
        succeeds(
            itfsim()
                .args([
                    "run",
                    "scenarios/ealing-2014.toml",
                    "--trials",
                    "2000",
                    "--quiet",
                ])
                .args(["--shard", &format!("{i}/2"), "--out"])
                .arg(&path),
        );
        path
    };
    let (p0, p1) = (part(0), part(1));
    let before = std::fs::read(&p1).unwrap();
    let got = itfsim()
        .arg("merge")
        .arg(&p0)
        .arg(&p1)
        .arg("--out")
        .arg(&p1)
        .output()
        .unwrap();
    assert_eq!(got.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&got.stderr).contains("is the input"));
    assert_eq!(std::fs::read(&p1).unwrap(), before);
}

#[test]
fn figures_that_do_not_add_up_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let ealing = dir.path().join("ealing.json");
    succeeds(
        itfsim()
            .args(["run", common::EALING, "--trials", "4000", "--quiet"])
            .args(["--format", "json", "--out"])
            .arg(&ealing),
    );
    let out = dir.path().join("rollup.txt");
    let edited = dir.path().join("edited.json");
    let run = read_json(&ealing);
    let pot = pounds(&run["fund"]["pot"]);
    let paid = pounds(&run["total"]["paid"]["mean"]);
    assert_eq!(paid + pounds(&run["total"]["unreleased"]["mean"]), pot);
    // The review's edit: paid lowered, unreleased left, so they no longer make the pot.
    refused_edit(
        &ealing,
        &edited,
        |run| run["total"]["paid"]["mean"] = Value::from("3000000.00"),
        found("\"3000000.00\""),
        &[
            "`total.paid.mean` £3,000,000.00 and `total.unreleased.mean`",
            "but the pot is £6,300,000.00",
        ],
        &out,
    );
    // Two separately rounded means may miss the pot by one penny, never two.
    let unreleased = |off: i64| {
        let value = pot - paid - Decimal::new(off, 2);
        move |run: &mut Value| {
            run["total"]["unreleased"]["mean"] = Value::from(format!("{value:.2}"))
        }
    };
    let mut one_off = run.clone();
    unreleased(1)(&mut one_off);
    std::fs::write(&edited, serde_json::to_string_pretty(&one_off).unwrap()).unwrap();
    succeeds(itfsim().arg("rollup").arg(&edited).arg("--quiet"));
    refused_edit(
        &ealing,
        &edited,
        unreleased(2),
        // Named at paid, the figure the message leads with.
        within(&["\"total\": {", "\"paid\": {", "\"mean\": "], "\""),
        &["`total.unreleased.mean`", "add up to £6,299,999.98"],
        &out,
    );
    // Performance money moved between partners' totals: it no longer shares out the pot.
    refused_edit(
        &ealing,
        &edited,
        |run| {
            let council = &mut run["partners"][1];
            assert_eq!(council["id"], "council");
            for key in ["performance", "net"] {
                let more = pounds(&council[key]["mean"]) + Decimal::from(100_000);
                council[key]["mean"] = Value::from(format!("{more:.2}"));
            }
        },
        |text| text.find("\"partners\": [").unwrap() + "\"partners\": ".len(),
        &[
            "the partners' mean performance money adds up to",
            "but the pot is £6,300,000.00",
        ],
        &out,
    );
    // A net position that is not its parts.
    refused_edit(
        &ealing,
        &edited,
        |run| run["partners"][0]["net"]["mean"] = Value::from("1.00"),
        within(&["\"partners\": [", "\"net\": {", "\"mean\": "], "\"1.00\""),
        &["`partners.nhs.net.mean` is £1.00 but savings"],
        &out,
    );
    // An MCSE that is not sd / sqrt(trials): the national error bound adds them.
    refused_edit(
        &ealing,
        &edited,
        |run| run["total"]["paid"]["mcse"] = Value::from("0.00"),
        within(&["\"total\": {", "\"paid\": {", "\"mcse\": "], "\"0.00\""),
        &["`total.paid.mcse` is £0.00 but sd"],
        &out,
    );
    // No trials: its own message, not an MCSE over the square root of 0.
    refused_edit(
        &ealing,
        &edited,
        |run| run["run"]["trials"] = Value::from(0),
        within(&["\"run\": {", "\"trials\": "], "0"),
        &["`run.trials` is 0: a run result has at least one trial"],
        &out,
    );
    // Quantiles out of order.
    refused_edit(
        &ealing,
        &edited,
        |run| run["total"]["paid"]["p5"] = Value::from("6000000.00"),
        // Named at the median, which the other two straddle.
        within(&["\"total\": {", "\"paid\": {", "\"p50\": "], "\""),
        &["p5 £6,000,000.00, p50", "out of order"],
        &out,
    );
}

/// The offset of `needle` after each of `anchors` in turn (a key inside a key ...).
fn within<'a>(anchors: &'a [&'a str], needle: &'a str) -> impl FnOnce(&str) -> usize + 'a {
    move |text| {
        let mut at = 0;
        for anchor in anchors {
            at += text[at..].find(anchor).expect("anchor in the text") + anchor.len();
        }
        at + text[at..].find(needle).expect("the edit is in the text")
    }
}

#[test]
fn a_directory_or_an_empty_file_is_refused_with_a_hint_and_a_column() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("rollup.txt");
    let results = dir.path().join("results");
    std::fs::create_dir(&results).unwrap();
    refused(
        &[results.as_os_str()],
        66,
        &[
            "results: cannot read the run result: it is a directory",
            "hint: give the result files in it, e.g. ",
        ],
        &out,
    );
    // Columns count from 1, as everywhere: an empty file's error is at 1:1, not 1:0.
    let empty = dir.path().join("empty.json");
    std::fs::write(&empty, "").unwrap();
    refused(&[empty.as_os_str()], 65, &["empty.json:1:1: "], &out);
}

/// Two results of one scenario file, neither naming its area: rollup reads the `--set`
/// overrides each run recorded and says whether they are the same run twice or variants
/// of one area; a result without the overrides (an older itfsim) gets the general warning.
#[test]
fn results_of_one_file_are_told_apart_by_their_overrides() {
    let dir = tempfile::tempdir().unwrap();
    let run = |name: &str, sets: &[&str], keep_sets: bool| {
        let path = dir.path().join(name);
        let mut cmd = itfsim();
        cmd.args(["run", "scenarios/barnet-2013.toml", "--trials", "2000"]);
        for s in sets {
            cmd.args(["--set", s]);
        }
        succeeds(
            cmd.args(["--quiet", "--format", "json", "--out"])
                .arg(&path),
        );
        let mut result = read_json(&path);
        let scenario = result["scenario"].as_object_mut().unwrap();
        scenario.remove("area").unwrap();
        if !keep_sets {
            scenario.remove("sets").unwrap();
        }
        std::fs::write(&path, serde_json::to_string_pretty(&result).unwrap()).unwrap();
        path
    };
    let plain = run("plain.json", &[], true);
    let variant = run(
        "variant.json",
        &["fund.pot=7000000", "scenario.seed=3"],
        true,
    );
    let old = run("old.json", &[], false);
    let stderr = |a: &Path, b: &Path| {
        let out = succeeds(itfsim().arg("rollup").arg(a).arg(b));
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let says = stderr(&plain, &variant);
    assert!(
        says.contains("with different overrides (none and --set fund.pot=7000000 --set scenario.seed=3): variants of one area"),
        "{says}"
    );
    let again = dir.path().join("again.json");
    std::fs::copy(&plain, &again).unwrap();
    let says = stderr(&plain, &again);
    assert!(says.contains("with the same overrides (none)"), "{says}");
    let says = stderr(&plain, &old);
    assert!(
        says.contains("same scenario file (\"")
            && says.contains("unless they are different --set variants"),
        "{says}"
    );
}
