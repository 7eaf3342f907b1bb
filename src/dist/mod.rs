//! Uncertain values (work in progress).
pub mod discrete;
pub mod normal;
pub use discrete::{binomial_quantile, poisson_quantile};
pub use normal::{normal_cdf, normal_quantile};
