//! The figures of one (vector, search setting, client count).

use crate::metrics::MeanInterval;
use crate::report::{LatencyFigures, PassReport};

/// What one search setting measured on one vector with one client count.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct SettingReport {
    /// The vector searched.
    pub vector: String,
    /// The setting's name (`hnsw_ef=128`, `exact`, `default`).
    pub setting: String,
    /// `hnsw_ef` sent, if any.
    #[serde(default)]
    pub hnsw_ef: Option<u32>,
    /// Exact search.
    #[serde(default)]
    pub exact: bool,
    /// Quantized vectors ignored (the original vectors searched).
    #[serde(default)]
    pub ignore: Option<bool>,
    /// Quantized search re-scored with the original vectors.
    #[serde(default)]
    pub rescore: Option<bool>,
    /// Quantized search oversampling.
    #[serde(default)]
    pub oversampling: Option<f64>,
    /// Results per query.
    pub k: u32,
    /// Concurrent clients.
    pub parallel: u32,
    /// The queries of the first pass counted by recall in tenths (see
    /// [`crate::metrics::recall_tenths`]); empty for runs stored before.
    #[serde(default)]
    pub recall_histogram: Vec<u64>,
    /// Queries scored.
    pub queries: u64,
    /// Mean precision@k.
    pub precision: f64,
    /// Mean recall@k.
    pub recall: f64,
    /// Mean per-query F1.
    pub f1: f64,
    /// Latencies of every pass together, in seconds.
    pub latency: LatencyFigures,
    /// The engine's own time, when it reports one.
    #[serde(default)]
    pub server_latency: Option<LatencyFigures>,
    /// Mean QPS of the passes.
    pub qps: f64,
    /// Wall time of every pass together.
    pub search_seconds: f64,
    /// Each measured pass (empty for runs stored before passes were kept).
    #[serde(default)]
    pub passes: Vec<PassReport>,
    /// The passes' QPS: mean and 95 % confidence interval.
    #[serde(default)]
    pub qps_interval: Option<MeanInterval>,
    /// The passes' p50 latency (seconds): mean and 95 % confidence interval.
    #[serde(default)]
    pub p50_interval: Option<MeanInterval>,
    /// The passes' p95 latency (seconds): mean and 95 % confidence interval.
    #[serde(default)]
    pub p95_interval: Option<MeanInterval>,
    /// The passes' p99 latency (seconds): mean and 95 % confidence interval.
    #[serde(default)]
    pub p99_interval: Option<MeanInterval>,
    /// The QPS or p99 interval is wider than ±10 % of its mean: the figure moved too much between
    /// passes to be compared with a neighbour's (measure longer or repeat more).
    #[serde(default)]
    pub unstable: bool,
    /// What is wrong or doubtful with this setting's figures.
    #[serde(default)]
    pub flags: Vec<String>,
    /// How the run chose this setting, when it did (an `hnsw_ef` search).
    #[serde(default)]
    pub chosen_by: Option<String>,
}
