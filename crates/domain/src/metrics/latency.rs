//! Latency statistics of a batch of queries.

use std::time::Duration;

use hdrhistogram::Histogram;

/// How percentiles are computed, recorded with every result so figures stay comparable.
pub const PERCENTILE_RULE: &str = "HdrHistogram (3 significant digits, nanosecond values): the smallest recorded value v such that at least q of the values are <= v";

/// Latency percentiles, maximum and mean of a batch, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct LatencySummary {
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
    /// Queries measured.
    pub count: u64,
}

impl LatencySummary {
    /// Summarises `latencies` (all zero when empty).
    pub fn from_latencies(latencies: &[Duration]) -> Self {
        // Three significant digits up to an hour of nanoseconds; a larger value is clamped, which
        // a query never reaches.
        let Ok(mut histogram) = Histogram::<u64>::new_with_bounds(1, 3_600_000_000_000, 3) else {
            return Self::default();
        };
        for latency in latencies {
            let nanos = u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX);
            histogram.saturating_record(nanos.max(1));
        }
        if histogram.is_empty() {
            return Self::default();
        }
        let seconds = |nanos: u64| nanos as f64 / 1e9;
        let exact_mean = latencies.iter().map(Duration::as_secs_f64).sum::<f64>() / latencies.len() as f64;
        Self {
            p50: seconds(histogram.value_at_quantile(0.50)),
            p95: seconds(histogram.value_at_quantile(0.95)),
            p99: seconds(histogram.value_at_quantile(0.99)),
            max: latencies.iter().max().map_or(0.0, Duration::as_secs_f64),
            mean: exact_mean,
            count: histogram.len(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_one_to_a_hundred_milliseconds() {
        let latencies: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        let summary = LatencySummary::from_latencies(&latencies);
        // Within HdrHistogram's 3 significant digits of the nearest-rank values 50, 95 and 99 ms.
        assert!((summary.p50 - 0.050).abs() < 0.050 * 1e-3, "{summary:?}");
        assert!((summary.p95 - 0.095).abs() < 0.095 * 1e-3, "{summary:?}");
        assert!((summary.p99 - 0.099).abs() < 0.099 * 1e-3, "{summary:?}");
        assert_eq!(summary.max, 0.100);
        assert!((summary.mean - 0.0505).abs() < 1e-12);
        assert_eq!(summary.count, 100);
    }

    #[test]
    fn no_latencies_summarise_to_zero() {
        assert_eq!(LatencySummary::from_latencies(&[]), LatencySummary::default());
    }
}
