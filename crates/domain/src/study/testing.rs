//! Small builders of measured points for the study module's tests.

use crate::study::{BuildConfig, SearchSettingChoice, TrialPoint, TrialQuality, VectorBuild};

/// A point of a one-vector build with graph degree `m` and `ef_construct` 128, searched with
/// `hnsw_ef` 64 by one client; precision and F1 equal recall.
pub(crate) fn point(m: u32, recall: f64, qps: f64, p99_ms: f64, memory_bytes: Option<u64>) -> TrialPoint {
    let dense = "dense".parse().unwrap_or_else(|_| crate::VectorName::unnamed());
    TrialPoint {
        build: BuildConfig {
            vectors: [(dense, VectorBuild { m, ef_construct: 128, on_disk: false })].into(),
            quantization: None,
        },
        setting: SearchSettingChoice { hnsw_ef: Some(64), exact: false, quantization: None },
        parallel: 1,
        quality: TrialQuality { recall, precision: recall, f1: recall },
        qps,
        p99_seconds: p99_ms / 1000.0,
        memory_bytes,
        qps_interval: None,
        p99_interval: None,
    }
}
