//! The report files as a user gets them from real runs of the binary: the HTML report
//! (well-formed, self-contained, the expected charts with data, rendered by headless
//! Chromium when it is installed), the workbook (read back with calamine, numbers equal
//! to the JSON), the per-trial CSV (re-aggregates exactly to the JSON means), exit 73
//! on unwritable paths, and byte-identical files on any thread count.
mod common;
use assert_cmd::Command;
use calamine::{Data, Reader, Xlsx, open_workbook};
use common::{json_of, points, success, well_formed};
use serde_json::Value;
use std::path::PathBuf;

const SCENARIO: &str = "scenarios/ealing-2014.toml";
const TRIALS: &str = "2500";

struct Outputs {
    _dir: tempfile::TempDir,
    json: Value,
    html: String,
    xlsx: PathBuf,
    csv: String,
    html_path: PathBuf,
}

fn itfsim() -> Command {
    Command::cargo_bin("itfsim").unwrap()
}

fn run_all(threads: &str) -> Outputs {
    let dir = tempfile::tempdir().unwrap();
    let html_path = dir.path().join("report.html");
    let xlsx = dir.path().join("results.xlsx");
    let csv = dir.path().join("samples.csv");
    let out = itfsim()
        .args(["run", SCENARIO, "--trials", TRIALS, "--seed", "11"])
        .args(["--threads", threads, "--format", "json"])
        .arg("--report")
        .arg(&html_path)
        .arg("--xlsx")
        .arg(&xlsx)
        .arg("--samples")
        .arg(&csv)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Outputs {
        json: serde_json::from_slice(&out.stdout).unwrap(),
        html: std::fs::read_to_string(&html_path).unwrap(),
        csv: std::fs::read_to_string(&csv).unwrap(),
        xlsx,
        html_path,
        _dir: dir,
    }
}

#[test]
fn html_report_is_well_formed_self_contained_and_has_the_charts() {
    let o = run_all("2");
    let html = &o.html;
    well_formed(html).unwrap();
    let lower = html.to_lowercase();
    assert!(!lower.contains("<script"), "no scripts");
    assert!(!lower.contains("@import") && !lower.contains("url("));
    for attr in ["src=", "href="] {
        for (i, _) in lower.match_indices(attr) {
            let value = &lower[i + attr.len()..];
            assert!(
                value.starts_with("\"#"),
                "only in-page links: {}",
                &value[..40]
            );
        }
    }
    // The only absolute URL is the SVG namespace name, which is never fetched.
    let urls = lower.matches("http").count();
    let namespaces = lower
        .matches("xmlns=\"http://www.w3.org/2000/svg\"")
        .count();
    assert_eq!(urls, namespaces);
    assert!(lower.contains("@media print"));
    // Charts: histogram, S-curve, one per tranche with a metric condition, one fan per count metric (3), schemes'
    // ROI, partners' net.
    let tranches = o.json["tranches"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| {
            t["conditions"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| !c["achieved"].is_null())
        })
        .count();
    let charts = html.matches("<svg class=\"chart\"").count();
    assert_eq!(charts, 2 + tranches + 3 + 2);
    for title in [
        "Total performance money paid",
        "S-curve",
        "achieved improvement against target",
        "activity per month",
        "Return on investment by scheme",
        "Net position by partner",
    ] {
        assert!(html.contains(title), "{title}");
    }
    assert!(html.matches("<rect class=\"bar\"").count() >= 5);
    // S-curve through every fixed bin edge; fan bands over 24 months each.
    assert_eq!(points(html, "cdf"), vec![403]);
    assert_eq!(points(html, "band"), vec![48, 48, 48]);
    assert_eq!(points(html, "median-line").len(), 3);
    assert!(!points(html, "target-line").is_empty());
    assert!(!html.contains("NaN") && !html.contains("inf\""));
    // Headline facts equal the JSON.
    let mean = o.json["total"]["paid"]["mean"].as_str().unwrap();
    let (int, frac) = mean.split_once('.').unwrap();
    let grouped: String = {
        let digits: Vec<char> = int.chars().collect();
        let mut s = String::new();
        for (i, c) in digits.iter().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                s.push(',');
            }
            s.push(*c);
        }
        s
    };
    assert!(
        html.contains(&format!("£{grouped}.{frac}")),
        "headline mean £{grouped}.{frac}"
    );
    assert!(html.contains(o.json["scenario"]["sha256"].as_str().unwrap()));
}

#[test]
fn html_report_renders_in_headless_chromium() {
    let Some(chromium) = ["chromium", "chromium-browser"].into_iter().find(|c| {
        std::process::Command::new(c)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    }) else {
        println!("SKIPPED: chromium is not installed (apt-get install -y chromium)");
        return;
    };
    let o = run_all("1");
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("shot.png");
    let status = std::process::Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
        ])
        .arg(format!(
            "--user-data-dir={}",
            dir.path().join("profile").display()
        ))
        .arg(format!("--screenshot={}", png.display()))
        .arg("--window-size=1200,2000")
        .arg(format!("file://{}", o.html_path.display()))
        .output()
        .unwrap();
    assert!(png.exists(), "{}", String::from_utf8_lossy(&status.stderr));
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&png).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let bytes = &buf[..info.buffer_size()];
    let channels = info.color_type.samples();
    let pixels = bytes.len() / channels;
    let ink = bytes
        .chunks(channels)
        .filter(|p| p[..3].iter().any(|v| *v < 200))
        .count();
    let blue = bytes
        .chunks(channels)
        .filter(|p| p[2] > 120 && p[0] < 120)
        .count();
    // Text, tables and charts: a real page has a few percent of dark pixels and some of
    // the charts' blue; a blank or error page has neither.
    assert!(ink * 100 > pixels, "ink {ink} of {pixels}");
    assert!(blue * 1000 > pixels, "blue {blue} of {pixels}");
}

fn cell_f64(range: &calamine::Range<Data>, row: usize, col: usize) -> f64 {
    match range.get((row, col)) {
        Some(Data::Float(x)) => *x,
        Some(Data::Int(x)) => *x as f64,
        other => panic!("({row}, {col}): {other:?}"),
    }
}

fn cell_str(range: &calamine::Range<Data>, row: usize, col: usize) -> String {
    match range.get((row, col)) {
        Some(Data::String(s)) => s.clone(),
        other => panic!("({row}, {col}): {other:?}"),
    }
}

fn money(v: &Value) -> f64 {
    v.as_str().unwrap().parse().unwrap()
}

#[test]
fn workbook_numbers_equal_the_json() {
    let o = run_all("2");
    let j = &o.json;
    let mut wb: Xlsx<_> = open_workbook(&o.xlsx).unwrap();
    assert_eq!(
        wb.sheet_names(),
        [
            "Summary",
            "Tranches",
            "Conditions",
            "Metrics",
            "Schemes",
            "Partners",
            "Warnings",
            "Provenance",
            "Monthly"
        ]
    );
    let keys = [
        "mean", "sd", "mcse", "p5", "p10", "p25", "p50", "p75", "p90", "p95",
    ];
    let summary = wb.worksheet_range("Summary").unwrap();
    for (k, key) in keys.iter().enumerate() {
        assert_eq!(
            cell_f64(&summary, 1, 1 + k),
            money(&j["total"]["paid"][key]),
            "{key}"
        );
        assert_eq!(
            cell_f64(&summary, 2, 1 + k),
            money(&j["total"]["unreleased"][key])
        );
    }
    assert_eq!(cell_f64(&summary, 4, 1), money(&j["fund"]["pot"]));
    assert_eq!(
        cell_f64(&summary, 5, 1),
        j["total"]["p_full"].as_f64().unwrap()
    );
    assert_eq!(
        cell_f64(&summary, 6, 1),
        j["total"]["p_zero"].as_f64().unwrap()
    );
    let tranches = wb.worksheet_range("Tranches").unwrap();
    for (i, t) in j["tranches"].as_array().unwrap().iter().enumerate() {
        assert_eq!(cell_str(&tranches, 1 + i, 0), t["id"].as_str().unwrap());
        assert_eq!(cell_f64(&tranches, 1 + i, 4), money(&t["amount"]));
        assert_eq!(cell_f64(&tranches, 1 + i, 5), t["p_full"].as_f64().unwrap());
        for (k, key) in keys.iter().enumerate() {
            assert_eq!(cell_f64(&tranches, 1 + i, 7 + k), money(&t["paid"][key]));
        }
    }
    let conditions = wb.worksheet_range("Conditions").unwrap();
    let mut row = 1;
    for t in j["tranches"].as_array().unwrap() {
        for c in t["conditions"].as_array().unwrap() {
            assert_eq!(cell_f64(&conditions, row, 6), c["p_met"].as_f64().unwrap());
            assert_eq!(cell_f64(&conditions, row, 17), money(&c["paid"]["mean"]));
            if !c["achieved"].is_null() {
                assert_eq!(
                    cell_f64(&conditions, row, 7),
                    c["achieved"]["mean"].as_f64().unwrap()
                );
            }
            row += 1;
        }
    }
    let schemes = wb.worksheet_range("Schemes").unwrap();
    for (i, s) in j["schemes"].as_array().unwrap().iter().enumerate() {
        assert_eq!(cell_f64(&schemes, 1 + i, 2), money(&s["cost"]));
        assert_eq!(cell_f64(&schemes, 1 + i, 15), money(&s["savings"]["mean"]));
        assert_eq!(
            cell_f64(&schemes, 1 + i, 4),
            s["p_roi_above_1"].as_f64().unwrap()
        );
    }
    let partners = wb.worksheet_range("Partners").unwrap();
    for (i, p) in j["partners"].as_array().unwrap().iter().enumerate() {
        for (q, name) in ["invest", "savings", "performance", "risks", "net"]
            .iter()
            .enumerate()
        {
            let r = 1 + 5 * i + q;
            assert_eq!(cell_str(&partners, r, 2), *name);
            for (k, key) in keys.iter().enumerate() {
                assert_eq!(
                    cell_f64(&partners, r, 3 + k),
                    money(&p[name][key]),
                    "{name} {key}"
                );
            }
        }
    }
    let provenance = wb.worksheet_range("Provenance").unwrap();
    assert_eq!(
        cell_str(&provenance, 4, 1),
        j["scenario"]["sha256"].as_str().unwrap()
    );
    let monthly = wb.worksheet_range("Monthly").unwrap();
    assert_eq!(monthly.height(), 1 + 3 * 24);
}

/// Sum of two-decimal amounts in pence, divided by n and rounded half-even, as text.
fn mean_of_pounds<'a>(values: impl Iterator<Item = &'a str>) -> String {
    let mut sum: i128 = 0;
    let mut n: i128 = 0;
    for v in values {
        let negative = v.starts_with('-');
        let (int, frac) = v.trim_start_matches('-').split_once('.').unwrap();
        assert_eq!(frac.len(), 2, "{v}");
        let pence = int.parse::<i128>().unwrap() * 100 + frac.parse::<i128>().unwrap();
        sum += if negative { -pence } else { pence };
        n += 1;
    }
    let (q, r) = (sum.div_euclid(n), sum.rem_euclid(n));
    let mean = match (2 * r).cmp(&n) {
        std::cmp::Ordering::Less => q,
        std::cmp::Ordering::Greater => q + 1,
        std::cmp::Ordering::Equal => q + (q & 1),
    };
    let sign = if mean < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", mean.abs() / 100, mean.abs() % 100)
}

#[test]
fn samples_re_aggregate_exactly_to_the_json_means() {
    let o = run_all("2");
    let j = &o.json;
    let mut lines = o.csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), TRIALS.parse::<usize>().unwrap());
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row.len(), header.len());
        assert_eq!(row[0], i.to_string(), "trial order");
    }
    let column = |name: &str| {
        let c = header
            .iter()
            .position(|h| *h == name)
            .unwrap_or_else(|| panic!("{name}"));
        rows.iter().map(move |r| r[c])
    };
    assert_eq!(
        mean_of_pounds(column("total.paid")),
        j["total"]["paid"]["mean"]
    );
    for t in j["tranches"].as_array().unwrap() {
        let name = format!("tranche.{}.paid", t["id"].as_str().unwrap());
        assert_eq!(mean_of_pounds(column(&name)), t["paid"]["mean"]);
    }
    for p in j["partners"].as_array().unwrap() {
        let name = format!("partner.{}.net", p["id"].as_str().unwrap());
        assert_eq!(mean_of_pounds(column(&name)), p["net"]["mean"]);
    }
    // A sampled parameter and a window observation are present and vary.
    assert!(header.contains(&"metric.nea.growth"));
    let observed = header
        .iter()
        .find(|h| h.starts_with("metric.nea.observed."))
        .unwrap();
    let values: Vec<f64> = column(observed).map(|v| v.parse().unwrap()).collect();
    assert!(values.iter().any(|v| *v != values[0]));
}

#[test]
fn report_files_do_not_depend_on_the_thread_count() {
    let a = run_all("1");
    // Over a second apart, so a workbook stamped with the clock's time would differ.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let b = run_all("2");
    assert_eq!(a.html, b.html);
    assert_eq!(a.csv, b.csv);
    assert!(
        std::fs::read(&a.xlsx).unwrap() == std::fs::read(&b.xlsx).unwrap(),
        "the workbooks differ"
    );
    assert_eq!(a.json["total"], b.json["total"]);
}

#[test]
fn monthly_json_adds_months_and_leaves_the_rest_alone() {
    let run = |extra: &[&str]| -> Value {
        let out = itfsim()
            .args(["run", SCENARIO, "--trials", "1500", "--format", "json"])
            .args(extra)
            .output()
            .unwrap();
        assert!(out.status.success());
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let plain = run(&[]);
    let monthly = run(&["--monthly"]);
    assert!(plain.get("monthly").is_none());
    assert_eq!(plain["total"], monthly["total"]);
    assert_eq!(plain["metrics"], monthly["metrics"]);
    let m = monthly["monthly"].as_array().unwrap();
    assert_eq!(m.len(), 3);
    for metric in m {
        let months = metric["months"].as_array().unwrap();
        assert_eq!(months.len(), 24);
        assert_eq!(months[0]["month"], "2014-04");
        for x in months {
            let (p10, p50, p90) = (
                x["p10"].as_f64().unwrap(),
                x["p50"].as_f64().unwrap(),
                x["p90"].as_f64().unwrap(),
            );
            assert!(p10 <= p50 && p50 <= p90 && p10 < p90, "{x}");
        }
    }
}

/// `run --monthly` in text shows the facts the JSON's `monthly` key holds (MODEL.md
/// section 9): a table per count metric, a row per month, before the warnings; without
/// `--monthly` the text is unchanged. (It used to print nothing more, silently.)
#[test]
fn monthly_text_shows_the_months_json_gives() {
    let run = |extra: &[&str]| -> String {
        let out = itfsim()
            .args(["run", SCENARIO, "--trials", "1500", "--quiet"])
            .args(extra)
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    };
    // The second line carries the timing.
    let untimed = |t: &str| -> Vec<String> {
        t.lines()
            .enumerate()
            .filter(|(i, _)| *i != 1)
            .map(|(_, l)| l.to_string())
            .collect()
    };
    let plain = run(&[]);
    let text = run(&["--monthly"]);
    assert!(!plain.contains("Monthly activity"));
    let json: Value = {
        let out = itfsim()
            .args(["run", SCENARIO, "--trials", "1500", "--quiet"])
            .args(["--monthly", "--format", "json"])
            .output()
            .unwrap();
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let start = text
        .find("\nMonthly activity: ")
        .expect("a monthly section");
    let end = text.find("\nWarnings\n").unwrap();
    assert!(start < end, "the months come before the warnings");
    let without = format!("{}{}", &text[..start], &text[end..]);
    assert_eq!(untimed(&without), untimed(&plain));
    let sections: Vec<&str> = text[start..end]
        .split("\nMonthly activity: ")
        .skip(1)
        .collect();
    let metrics = json["monthly"].as_array().unwrap();
    assert_eq!(sections.len(), metrics.len());
    for (section, metric) in sections.iter().zip(metrics) {
        let id = metric["metric"].as_str().unwrap();
        assert!(section.starts_with(&format!("{id} (")), "{section}");
        let lines: Vec<&str> = section.lines().collect();
        assert!(lines[1].split_whitespace().eq([
            "month", "baseline", "expected", "observed", "mean", "median", "observed", "p10", "to",
            "p90"
        ]));
        let widths: Vec<usize> = lines[1..].iter().map(|l| l.chars().count()).collect();
        assert!(widths.iter().all(|w| *w == widths[0]), "aligned: {section}");
        let months = metric["months"].as_array().unwrap();
        assert_eq!(lines.len(), 3 + months.len());
        for (line, m) in lines[3..].iter().zip(months) {
            let cells: Vec<&str> = line.split_whitespace().collect();
            let num = |i: usize| cells[i].parse::<f64>().unwrap();
            let close = |i: usize, key: &str| {
                let want = m[key].as_f64().unwrap();
                assert!((num(i) - want).abs() <= 0.5, "{key}: {line} vs {m}");
            };
            assert_eq!(cells[0], m["month"].as_str().unwrap());
            close(1, "baseline");
            close(2, "expected");
            close(3, "mean");
            assert_eq!(num(4), m["p50"].as_f64().unwrap(), "{line}");
            assert_eq!(num(5), m["p10"].as_f64().unwrap(), "{line}");
            assert_eq!(cells[6], "to");
            assert_eq!(num(7), m["p90"].as_f64().unwrap(), "{line}");
        }
    }
}

#[test]
fn unwritable_report_paths_fail_before_running_with_73() {
    let dir = tempfile::tempdir().unwrap();
    for flag in ["--report", "--xlsx", "--samples"] {
        let target = dir.path().join("missing").join("out");
        let out = itfsim()
            .args(["run", SCENARIO, "--trials", "1000000000"])
            .arg(flag)
            .arg(&target)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(73), "{flag}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("cannot create output file"), "{stderr}");
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn every_scenario_gives_a_well_formed_report() {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir("scenarios").unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        let html = dir.path().join("r.html");
        let xlsx = dir.path().join("r.xlsx");
        let out = itfsim()
            .arg("run")
            .arg(&path)
            .args(["--trials", "300", "--quiet", "--report"])
            .arg(&html)
            .arg("--xlsx")
            .arg(&xlsx)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        let text = std::fs::read_to_string(&html).unwrap();
        well_formed(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(!text.contains("NaN"), "{}", path.display());
        let wb: Xlsx<_> = open_workbook(&xlsx).unwrap();
        assert!(wb.sheet_names().len() >= 8);
    }
}

/// A run's `--set` overrides are recorded wherever its provenance is: the JSON's
/// `scenario.sets` (as PATH=VALUE), the text header, and the HTML and workbook
/// provenance (as the options that apply them again, quoted for a shell where needed);
/// a run without overrides records none.
#[test]
fn overrides_are_recorded_in_every_output() {
    let dir = tempfile::tempdir().unwrap();
    let (html, xlsx) = (dir.path().join("r.html"), dir.path().join("r.xlsx"));
    let run = |format: &str, extra: &[&std::ffi::OsStr]| {
        let out = itfsim()
            .args([
                "run", SCENARIO, "--trials", "500", "--quiet", "--format", format,
            ])
            .args([
                "--set",
                "fund.pot=7000000",
                "--set",
                "scenario.name = \"Ealing, 7m\"",
            ])
            .args(extra)
            .output()
            .unwrap();
        String::from_utf8(success(out).stdout).unwrap()
    };
    let json: Value = serde_json::from_str(&run(
        "json",
        &[
            "--report".as_ref(),
            html.as_os_str(),
            "--xlsx".as_ref(),
            xlsx.as_os_str(),
        ],
    ))
    .unwrap();
    assert_eq!(
        json["scenario"]["sets"],
        serde_json::json!(["fund.pot=7000000", "scenario.name=\"Ealing, 7m\""])
    );
    let options = "--set fund.pot=7000000 --set 'scenario.name=\"Ealing, 7m\"'";
    let text = run("text", &[]);
    assert_eq!(
        text.lines().nth(1),
        Some(format!("with {options}").as_str()),
        "{text}"
    );
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(
        page.contains("<dt>Overrides</dt><dd>--set fund.pot=7000000 --set &#39;scenario.name=&quot;Ealing, 7m&quot;&#39;</dd>"),
        "no overrides in the provenance"
    );
    let mut wb: Xlsx<_> = open_workbook(&xlsx).unwrap();
    let provenance = wb.worksheet_range("Provenance").unwrap();
    assert_eq!(cell_str(&provenance, 5, 0), "overrides");
    assert_eq!(cell_str(&provenance, 5, 1), options);
    let plain = json_of(&["run", SCENARIO, "--trials", "500"]);
    assert_eq!(plain["scenario"]["sets"], serde_json::json!([]));
}
