//! The metric maths of a run: retrieval quality against ground truth, latency statistics, and the
//! confidence interval of a mean over repeated runs.
//!
//! Everything here is a pure function of recorded numbers, so every figure a run reports can be
//! recomputed and checked by hand. The definitions are those of `docs/METRICS.md`.

mod interval;
mod latency;
mod quality;

pub use interval::{CONFIDENCE, MeanInterval, WIDE_INTERVAL, mean_interval};
pub use latency::{LatencySummary, PERCENTILE_RULE};
pub use quality::{QualitySummary, QueryQuality, Returned, TIE_EPSILON, query_quality, recall_tenths};
