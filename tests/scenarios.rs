//! The scenario library: every shipped file validates, runs at 10,000 trials without
//! warnings other than the deliberate reconciliation ones, is listed in
//! scenarios/README.md, and its headline there matches what the current version computes.
#[path = "../examples/scenario_table.rs"]
mod table;

use itfsim::scenario::load;
use std::path::Path;

#[test]
fn every_scenario_is_catalogued_and_its_headline_is_current() {
    let readme = std::fs::read_to_string("scenarios/README.md").expect("scenarios/README.md");
    let dir = Path::new("scenarios");
    let mut shipped: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".toml"))
        .collect();
    shipped.sort();
    let mut listed: Vec<String> = table::CATALOGUE.iter().map(|c| c.0.to_string()).collect();
    listed.sort();
    assert_eq!(
        shipped, listed,
        "scenarios/ and the catalogue in examples/scenario_table.rs differ"
    );
    for (file, question, sources) in table::CATALOGUE {
        let row = table::row(dir, file, question, sources);
        assert!(
            readme.lines().any(|l| l == row),
            "scenarios/README.md is stale for {file}; regenerate with\n  cargo run --release --example scenario_table > scenarios/README.md\nexpected row:\n{row}"
        );
    }
}

#[test]
fn only_reconciliation_warnings() {
    for (file, _, _) in table::CATALOGUE {
        let loaded = load(&Path::new("scenarios").join(file), &[]).unwrap();
        for w in &loaded.scenario.warnings {
            assert!(w.key.ends_with(".stated"), "{file}: unexpected warning {w}");
        }
    }
}

#[test]
fn ealing_flags_the_plans_own_arithmetic() {
    let loaded = load(Path::new("scenarios/ealing-2014.toml"), &[]).unwrap();
    let text: Vec<String> = loaded
        .scenario
        .warnings
        .iter()
        .map(|w| w.message.clone())
        .collect();
    assert!(
        text.iter()
            .any(|m| m.contains("£120,000.00") && m.contains("£121,394.00")),
        "{text:?}"
    );
    assert!(
        text.iter()
            .any(|m| m.contains("£346,000.00") && m.contains("£346,632.00")),
        "{text:?}"
    );
    let cost: rust_decimal::Decimal = loaded.scenario.schemes.iter().map(|s| s.cost()).sum();
    let stated: rust_decimal::Decimal = loaded
        .scenario
        .schemes
        .iter()
        .map(|s| s.cost_stated())
        .sum();
    assert_eq!(cost - stated, rust_decimal::Decimal::new(2026, 0));
}
