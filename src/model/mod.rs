//! The compiled model: a validated `Scenario` flattened into index-addressed tables that
//! the per-trial function can walk without allocating or looking anything up by name.
//!
//! `compile` builds it once per run (streams keyed by path, quantile tables, month
//! factors, observation segments, tranche amounts in pence); `trial` holds the pure
//! per-trial function and its reusable scratch space (`Trial`); `block` runs a block of
//! trials phase by phase with the same results (`Model::simulate_block`, what the engine
//! uses), its scratch columns in `Lanes`.
mod block;
mod compile;
pub mod monthly;
mod release;
pub mod split;
mod trial;

pub use block::Lanes;
pub use compile::*;
pub use release::{ConditionOutcome, RuleInputs, TrancheOutcome};
pub use trial::{MAX_TRIAL_PENCE, Overflow, Trial};

/// Every shipped scenario (`scenarios/*.toml`, in name order) with its compiled model, for
/// tests that hold two paths of the engine to each other on real plans.
#[cfg(test)]
pub(crate) fn shipped_models() -> Vec<(std::path::PathBuf, Model)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    paths.sort();
    assert!(!paths.is_empty());
    paths
        .into_iter()
        .map(|path| {
            let loaded = crate::scenario::load(&path, &[]).unwrap();
            let model = compile(&loaded.scenario, 3).unwrap();
            (path, model)
        })
        .collect()
}
