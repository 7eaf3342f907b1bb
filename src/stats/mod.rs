//! Streaming summaries of trial results, with a deterministic merge (MODEL.md sections
//! 7 and 9).
//!
//! The engine runs trials in fixed-size chunks, pushes each chunk's values in trial order
//! into fresh accumulators, and merges those in any grouping (threads, shards on other
//! machines). Invariant of every accumulator here: `finish()` is bit-identical however
//! the chunk accumulators are grouped and ordered when merging, given the same chunks.
//! [`MoneyStats`] and [`Proportion`] get this from exact integers; [`RealStats`] keeps a
//! cheap f64 running sum per chunk and merges chunk sums exactly (see `real`).
//!
//! Quantiles are actual trial values by the inverted-CDF definition, held in bounded
//! memory by a private `QuantileStore` (exact up to 16384 distinct values, then a
//! deterministic histogram within 0.001 in rank; see `quantile`).

mod bits;
mod exact;
mod moments;
mod money_stats;
mod proportion;
pub(crate) mod quantile;
mod real;
#[cfg(test)]
mod testing;

pub use moments::PenceMoments;
pub use money_stats::{MoneyStats, MoneySummary};
pub use proportion::Proportion;
pub use real::{RealStats, RealSummary};
