//! Regenerates `scenarios/README.md`: one line per shipped scenario with the question it
//! answers, its main sources and its headline result at 10,000 trials with the file's own
//! seed. Run `cargo run --release --example scenario_table > scenarios/README.md`; the test
//! `tests/scenarios.rs` fails when the committed table no longer matches the program.
use itfsim::engine;
use itfsim::model::compile;
use itfsim::money::format_gbp;
use itfsim::output::text::prob;
use itfsim::scenario::load;
use std::path::Path;

/// Trials behind each headline.
pub const TRIALS: u64 = 10_000;

/// (file, question it answers, main sources)
pub const CATALOGUE: &[(&str, &str, &str)] = &[
    (
        "ealing-2014.toml",
        "How much of Ealing's performance money would its 2014 ITF plan release under the December 2013 tranche design (national conditions, 2014/15 progress, all metrics, 70% threshold)?",
        "Ealing ITF proposal (seed: london-collaborative-itf-2013-09.txt, Appendix 1); NAO HC 781; ASCOF 2A/2B; WSD trials",
    ),
    (
        "ealing-2014-prorata.toml",
        "The same plan under the July 2014 rules: quarterly pro-rata payments on non-elective admissions, 3.5% minimum, pot = 3.5% x admissions x £1,490, unearned money to the NHS.",
        "As ealing-2014; HFMA Sep 2014; Lords answer HL838",
    ),
    (
        "ealing-2014-no-networks.toml",
        "What do Ealing's integrated care networks add? The same plan with the networks scheme not delivered and not funded, for `itfsim compare` against ealing-2014.toml.",
        "As ealing-2014",
    ),
    (
        "barnet-2013.toml",
        "Can Barnet's OPIC case management and care home projects earn the 2013 performance tranches, and who carries the cost if savings land in the NHS while costs sit with the council?",
        "Barnet HOSC Oct 2013 (seed: barnet-hosc-2013-10.txt); Roland et al. 2012; Stokes et al. 2015",
    ),
    (
        "hackney-2018.toml",
        "City and Hackney's pooled budgets and month-2 risk and opportunity register, with the improved BCF's delayed-transfer condition: what is the net position and how likely is the iBCF money to be kept?",
        "City and Hackney ICB July 2018 (seed: hackney-icb-2018-07.txt)",
    ),
    (
        "national-2013-design.toml",
        "England-wide: how much of the £1bn performance element would the December 2013 design have released?",
        "Spending Round 2013; HSJ/HFMA Feb 2014; NAO HC 781; evidence on scheme effects (SOURCES.md)",
    ),
    (
        "national-2014-design.toml",
        "England-wide under the July 2014 redesign: pro rata on non-elective admissions against the plans' average 3.07% ambition, £253m pot.",
        "PAC HC 807; HFMA Sep 2014; NAO HC 781",
    ),
];

/// Expected paid (£), P(full), P(zero) as printed in the table.
pub fn headline(file: &Path) -> (String, String, String) {
    let loaded = load(file, &[]).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let model = compile(&loaded.scenario, loaded.scenario.seed).expect("compiles");
    let acc = engine::run(&model, 0..TRIALS, 2).expect("runs");
    let paid = acc.total_paid.finish();
    (
        format!("{} of {}", format_gbp(paid.mean), format_gbp(model.pot)),
        prob(acc.total_full.value()),
        prob(acc.total_zero.value()),
    )
}

/// One table row.
pub fn row(dir: &Path, file: &str, question: &str, sources: &str) -> String {
    let (paid, full, zero) = headline(&dir.join(file));
    format!("| `{file}` | {question} | {sources} | {paid} | {full} | {zero} |")
}

#[allow(dead_code)]
fn main() {
    let dir = Path::new("scenarios");
    println!("# Shipped scenarios\n");
    println!(
        "Every number in these files carries its source: `seed:` quotes a document in `../shared/seeds/`,"
    );
    println!(
        "`source:` names a public source, and `assumption:` gives the reasoning. Open a file to check any figure.\n"
    );
    println!(
        "Headlines: expected performance money paid, P(all paid) and P(nothing paid), at {TRIALS} trials with the"
    );
    println!("file's own seed. Regenerate this page with");
    println!(
        "`cargo run --release --example scenario_table > scenarios/README.md`; `cargo test` fails when it is stale.\n"
    );
    println!("| file | question it answers | main sources | expected paid | P(full) | P(zero) |");
    println!("|---|---|---|---|---|---|");
    for (file, question, sources) in CATALOGUE {
        println!("{}", row(dir, file, question, sources));
    }
}
