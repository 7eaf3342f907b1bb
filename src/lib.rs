//! itfsim: a Monte Carlo simulator for the performance-linked element of the
//! Integration Transformation Fund / Better Care Fund.
//!
//! Data flows through the modules in the order their names suggest: a scenario
//! file is read into a spanned tree (`scenario`), validated into a `Scenario`,
//! compiled into a flat `model`, simulated trial by trial by the `engine`
//! (drawing from `dist` with keyed `rng` streams and paying out by `rules`),
//! summarised by `stats` and written by `output` (tables, JSON) and `report`
//! (HTML with charts, Excel, per-trial CSV).
#![deny(unsafe_code)]

pub mod atomic;
pub mod cli;
pub mod commands;
pub mod correlation;
pub mod diagnostic;
pub mod dist;
pub mod engine;
pub mod interrupt;
pub mod isa;
pub mod json_at;
pub mod model;
pub mod money;
pub mod observe;
pub mod output;
pub mod partial;
pub mod report;
pub mod rng;
pub mod rules;
pub mod sampling;
pub mod scenario;
pub mod sensitivity;
pub mod stats;
pub mod trace;

/// This build's identity (from `build.rs`): 16 hex digits of a sha256 over `src/`,
/// `Cargo.toml` and `Cargo.lock`, so it changes with the engine's code or its locked
/// dependencies even when the version does not. Shard partials record it.
pub const BUILD_ID: &str = env!("ITFSIM_BUILD_ID");

/// `itfsim --version`: the version and the build identity.
pub const LONG_VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (build ",
    env!("ITFSIM_BUILD_ID"),
    ")"
);
