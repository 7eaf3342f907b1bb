//! itfsim: a Monte Carlo simulator for the performance-linked element of the
//! Integration Transformation Fund / Better Care Fund.
//!
//! Data flows through the modules in the order their names suggest: a scenario
//! file is read into a spanned tree (`scenario`), validated into a `Scenario`,
//! compiled into a flat `model`, simulated trial by trial by the `engine`
//! (drawing from `dist` with keyed `rng` streams and paying out by `rules`),
//! summarised by `stats` and written by `output`.
#![forbid(unsafe_code)]
pub mod dist;
