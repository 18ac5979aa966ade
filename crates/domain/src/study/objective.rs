//! What a study optimises: a quality target to reach, a figure to make best, and hard limits.

use std::fmt;

/// The retrieval quality a target is set on (means over the test queries, at depth `k`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum QualityMetric {
    /// recall@k.
    Recall,
    /// precision@k.
    Precision,
    /// Harmonic mean of precision and recall.
    F1,
}

impl QualityMetric {
    /// The wire name (`recall`, `precision`, `f1`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Recall => "recall",
            Self::Precision => "precision",
            Self::F1 => "f1",
        }
    }
}

impl fmt::Display for QualityMetric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The figure made best among the settings that reach the target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Optimise {
    /// Highest queries per second.
    Qps,
    /// Lowest 99th-percentile latency.
    P99Latency,
    /// Smallest memory footprint.
    Memory,
}

impl Optimise {
    /// The wire name (`qps`, `p99_latency`, `memory`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Qps => "qps",
            Self::P99Latency => "p99_latency",
            Self::Memory => "memory",
        }
    }
}

impl fmt::Display for Optimise {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Reach `target` on `metric`, then make `optimise` best.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Objective {
    /// The quality measured against the target.
    pub metric: QualityMetric,
    /// The quality to reach, in `(0, 1]`.
    pub target: f64,
    /// The figure to make best.
    pub optimise: Optimise,
}

/// Hard limits a recommended setting must respect; `None` is no limit.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Constraints {
    /// Largest acceptable 99th-percentile latency, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_p99_ms: Option<f64>,
    /// Smallest acceptable throughput, in queries per second.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_qps: Option<f64>,
    /// Largest acceptable memory footprint, in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_memory_bytes: Option<u64>,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn an_objective_reads_with_snake_case_names() {
        let objective: Objective =
            serde_json::from_str(r#"{"metric": "f1", "target": 0.9, "optimise": "p99_latency"}"#).unwrap();
        assert_eq!(objective, Objective { metric: QualityMetric::F1, target: 0.9, optimise: Optimise::P99Latency });
        assert_eq!(QualityMetric::Recall.to_string(), "recall");
    }

    #[test]
    fn omitted_constraints_are_no_limits() {
        let constraints: Constraints = serde_json::from_str("{}").unwrap();
        assert_eq!(constraints, Constraints::default());
        assert_eq!(serde_json::to_string(&constraints).unwrap(), "{}");
    }
}
