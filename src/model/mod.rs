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
