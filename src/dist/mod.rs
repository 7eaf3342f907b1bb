//! Uncertain values: the `Dist` spec types built and validated from a scenario's
//! distribution tables (`spec`, `build`), and their sampling by inverse CDF
//! (`quantile`, with `table` for beta/PERT/gamma), plus the exact Poisson and
//! binomial inverses used for observation noise (`discrete`) and the normal
//! functions everything is driven through (`normal`).
//!
//! Sampling is always "uniform(s) in, value out": the engine owns the random
//! streams (common random numbers, copulas) and this module only maps u in (0,1)
//! to values, monotonically, without panicking or producing NaN. No random number
//! generator is used here. Slow work (tables) happens once, in `Dist::compile` or
//! `GammaUnit::new`; the per-draw paths cost tens of nanoseconds.
#![allow(
    clippy::neg_cmp_op_on_partial_ord,
    reason = "NaN-safe checks: `!(min < max)` must also reject NaN"
)]

mod build;
mod discrete;
mod normal;
mod quantile;
mod spec;
mod table;

pub use discrete::{
    binomial_needs_normal, binomial_quantile, binomial_quantile_given, binomial_uses_normal,
    observation_normal_input, poisson_quantile, poisson_quantile_given,
    poisson_quantile_given_each,
};
pub use normal::{normal_cdf, normal_cdf_each, normal_quantile, normal_quantile_each};
pub use quantile::Quantile;
pub use spec::{DIST_NAMES, Dist, DistError, DistKeys, allowed_keys, foreign_key};
pub use table::GammaUnit;
