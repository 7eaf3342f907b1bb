//! Uncertain values (work in progress).
#![allow(
    clippy::neg_cmp_op_on_partial_ord,
    reason = "NaN-safe checks: `!(min < max)` must also reject NaN"
)]
mod build;
pub mod discrete;
pub mod normal;
mod quantile;
pub mod spec;
mod table;
pub use discrete::{binomial_quantile, poisson_quantile};
pub use normal::{normal_cdf, normal_quantile};
pub use quantile::Quantile;
pub use spec::{DIST_NAMES, Dist, DistError, DistKeys, allowed_keys};
pub use table::GammaUnit;
