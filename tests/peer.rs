//! The NumPy peer (`benches/peer/itf_numpy.py`, run by `benches/peer/compare.sh`) stops
//! with a message on a scenario using what it does not model, rather than a Python
//! traceback or, for seasonality and end months, numbers silently computed without them.
//! Skipped (passes, saying so) where python3 with numpy and scipy is not installed, as on
//! a CI machine with only the Rust toolchain.
use std::process::Command;

fn peer_available() -> bool {
    Command::new("python3")
        .args(["-c", "import numpy, scipy"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

fn peer(scenario: &str) -> std::process::Output {
    Command::new("python3")
        .args(["benches/peer/itf_numpy.py", scenario, "--trials", "200"])
        .output()
        .unwrap()
}

#[test]
fn the_peer_refuses_what_it_does_not_model_and_runs_ealing() {
    if !peer_available() {
        eprintln!("SKIP: python3 with numpy and scipy is not installed");
        return;
    }
    let ealing = peer("scenarios/ealing-2014.toml");
    assert!(
        ealing.status.success(),
        "{}",
        String::from_utf8_lossy(&ealing.stderr)
    );
    // Barnet's all_or_nothing rules were a NotImplementedError traceback.
    let barnet = peer("scenarios/barnet-2013.toml");
    let stderr = String::from_utf8_lossy(&barnet.stderr);
    assert_eq!(barnet.status.code(), Some(2), "{stderr}");
    assert!(!stderr.contains("Traceback"), "{stderr}");
    assert!(
        stderr.contains("uses what this NumPy peer does not model")
            && stderr.contains("rule = 'all_or_nothing'")
            && stderr.contains("compare on that scenario"),
        "{stderr}"
    );
    // Seasonality and an end month were ignored without a word: another model's numbers.
    let dir = tempfile::tempdir().unwrap();
    let seasonal = dir.path().join("seasonal.toml");
    let text = std::fs::read_to_string("scenarios/ealing-2014.toml").unwrap();
    let at = text.find("\nkind = \"count\"").expect("a count metric");
    let mut edited = text.clone();
    edited.insert_str(
        at,
        "\nseasonality = [1.0, 1.0, 0.97, 0.97, 0.96, 0.97, 1.0, 1.02, 1.05, 1.04, 1.01, 1.01]",
    );
    let edited = edited.replacen("\nramp_months", "\nend_month = 20\nramp_months", 1);
    std::fs::write(&seasonal, edited).unwrap();
    let out = peer(seasonal.to_str().unwrap());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("metric.nea.seasonality") && stderr.contains(".end_month"),
        "{stderr}"
    );
}
