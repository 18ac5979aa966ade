//! Latency figures and passes, as a report holds them.

use crate::metrics::LatencySummary;

/// Latency percentiles, maximum and mean, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct LatencyFigures {
    /// Median.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Slowest.
    pub max: f64,
    /// Arithmetic mean.
    pub mean: f64,
}

impl From<&LatencySummary> for LatencyFigures {
    fn from(summary: &LatencySummary) -> Self {
        Self { p50: summary.p50, p95: summary.p95, p99: summary.p99, max: summary.max, mean: summary.mean }
    }
}

/// One measured pass of a search setting.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct PassReport {
    /// Queries answered (every query once, then cycled through until the minimum duration).
    pub queries: u64,
    /// Wall time of the pass.
    pub seconds: f64,
    /// Queries answered per second.
    pub qps: f64,
    /// Its latencies, in seconds.
    pub latency: LatencyFigures,
}
