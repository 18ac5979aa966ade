//! The report of a completed run.

use std::collections::BTreeMap;

use crate::report::{Headline, SettingReport};
use crate::{MemoryEstimate, StorageUsage};

/// Everything a completed run measured.
///
/// The seed's top-level figures (`precision` … `qps`) are those of one setting, named by
/// [`RunReport::headline`]; every setting is in [`RunReport::results`].
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct RunReport {
    /// Mean precision@k of the headline setting.
    pub precision: Option<f64>,
    /// Mean recall@k of the headline setting.
    pub recall: Option<f64>,
    /// Mean F1 of the headline setting.
    pub f1: Option<f64>,
    /// p50 latency of the headline setting, in seconds.
    pub p_50_latency: Option<f64>,
    /// p95 latency of the headline setting, in seconds.
    pub p_95_latency: Option<f64>,
    /// p99 latency of the headline setting, in seconds.
    pub p_99_latency: Option<f64>,
    /// QPS of the headline setting.
    pub qps: Option<f64>,
    /// Which setting the figures above describe, and why; `None` for runs stored before.
    #[serde(default)]
    pub headline: Option<Headline>,
    /// Upload time.
    pub upload_seconds: f64,
    /// Index build time.
    pub index_seconds: f64,
    /// Whole run.
    pub total_seconds: f64,
    /// Points uploaded.
    pub points: u64,
    /// The upload.
    pub upload: UploadReport,
    /// Every vector × search setting × client count.
    pub results: Vec<SettingReport>,
    /// The data measured and its ground truth.
    pub dataset: DatasetReport,
    /// What measured it.
    pub provenance: ProvenanceReport,
    /// The memory the collection was estimated to need before the run.
    #[serde(default)]
    pub memory_estimate: Option<MemoryEstimateReport>,
    /// What the built collection occupied, measured on the engine after indexing; `None` for
    /// runs stored before and engines that do not say.
    #[serde(default)]
    pub memory: Option<StorageUsage>,
    /// What the reader should know: ground truth not used or mismatched, doubtful settings.
    #[serde(default)]
    pub warnings: Vec<String>,
    /// Where the results were written.
    #[serde(default)]
    pub result_files: Option<ResultFiles>,
    /// Set when the index was restored from a snapshot instead of built: nothing was uploaded or
    /// indexed by this run (`upload_seconds` and `index_seconds` are 0), and the settings that
    /// built the index are the run's `optimizer_config`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index_source: Option<IndexSourceReport>,
}

/// Where a restored index came from.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct IndexSourceReport {
    /// The snapshot restored.
    pub snapshot_id: crate::SnapshotId,
    /// The run whose collection it holds: it uploaded and indexed what this run searched.
    pub built_by_run_id: crate::RunId,
    /// The archive's SHA-256, verified before the restore.
    pub sha256: String,
    /// The archive's size in bytes.
    pub bytes: u64,
    /// Points restored.
    pub points: u64,
    /// From opening the archive to the collection answering, in seconds.
    pub restore_seconds: f64,
}

/// The upload phase.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct UploadReport {
    /// Points uploaded.
    pub points: u64,
    /// Its wall time.
    pub seconds: f64,
    /// Points per second.
    pub points_per_second: f64,
    /// Points per upsert.
    pub batch_size: u64,
    /// Upserts in flight.
    pub parallel: u64,
}

/// The dataset as the run read it.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct DatasetReport {
    /// `singlefile`, `directory` or `glob`.
    pub layout: String,
    /// Files read.
    pub files: u64,
    /// Rows of the train files.
    pub train_rows: u64,
    /// Bytes of every file.
    pub bytes: u64,
    /// What identifies the content (locations, sizes, versions).
    pub fingerprint: String,
    /// Queries used.
    pub queries: u64,
    /// `test_file` or `held_out_rows`.
    pub queries_from: String,
    /// Every vector's ground-truth source when they share it (`neighbors_file`, `computed`,
    /// `cached`), else `mixed`.
    pub ground_truth: String,
    /// Each vector's ground truth.
    #[serde(default)]
    pub ground_truth_vectors: BTreeMap<String, TruthReport>,
}

/// Where one vector's ground truth came from.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct TruthReport {
    /// `neighbors_file`, `computed` or `cached`.
    pub source: String,
    /// The neighbours file used.
    pub file: Option<String>,
    /// How that file compared with exact search.
    pub check: Option<TruthCheckReport>,
}

/// A neighbours file against exact search under the declared distance.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct TruthCheckReport {
    /// The distance searched with.
    pub distance: String,
    /// Queries searched exactly (a seeded sample).
    pub queries: u64,
    /// Mean share of the file's top k that exact search confirms, ties counted.
    pub agreement: f64,
    /// The share required.
    pub required: f64,
    /// Whether the file agreed.
    pub passed: bool,
}

/// What measured the run.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct ProvenanceReport {
    /// qbench's version.
    pub qbench_version: String,
    /// The engine (`qdrant-edge`, `qdrant`).
    pub engine: String,
    /// Its version.
    pub engine_version: String,
    /// The collection measured.
    pub collection: String,
    /// The collection's configuration as the engine reports it, verbatim.
    #[serde(default)]
    pub collection_config: serde_json::Value,
    /// Vectors indexed at the end of the index phase.
    #[serde(default)]
    pub indexed_vectors: Option<u64>,
    /// Segments at the end of the index phase.
    #[serde(default)]
    pub segments: Option<u64>,
    /// `none`, `scalar`, `product` or `binary`.
    pub quantization: String,
    /// How percentiles are computed.
    pub percentile_rule: String,
    /// Cores of the machine.
    pub cores: u64,
    /// The worker that executed it.
    pub worker: String,
    /// Whether the collection was kept.
    pub collection_kept: bool,
}

/// The estimate made before the run.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct MemoryEstimateReport {
    /// Bytes in all.
    pub total_bytes: u64,
    /// By part.
    pub parts: MemoryEstimate,
}

/// Where a run's results were written.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct ResultFiles {
    /// `result.json`.
    pub result_json: String,
    /// The per-query rows.
    pub queries_parquet: String,
    /// The rendered report page; `None` for runs stored before, or when it could not be stored.
    #[serde(default)]
    pub report_html: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The metrics of a run stored before reports were typed (qbench 0.1, November 2026).
    const LEGACY: &str = r#"{
        "precision": 0.97, "recall": 0.97, "f1": 0.97, "p_50_latency": 0.0004, "p_95_latency": 0.0007,
        "p_99_latency": 0.0009, "qps": 2466.0, "upload_seconds": 2.3, "index_seconds": 18.4,
        "total_seconds": 25.0, "points": 100000,
        "upload": {"points": 100000, "seconds": 2.3, "points_per_second": 43478.3, "batch_size": 256, "parallel": 2},
        "results": [{"vector": "text", "setting": "hnsw_ef=64", "hnsw_ef": 64, "exact": false, "rescore": null,
                     "oversampling": null, "k": 10, "parallel": 1, "queries": 1000, "precision": 0.97,
                     "recall": 0.97, "f1": 0.97,
                     "latency": {"p50": 0.0004, "p95": 0.0007, "p99": 0.0009, "max": 0.002, "mean": 0.00041},
                     "server_latency": null, "qps": 2466.0, "search_seconds": 0.41}],
        "dataset": {"layout": "directory", "files": 3, "train_rows": 100000, "bytes": 300000000,
                    "fingerprint": "abc", "queries": 1000, "queries_from": "test_file", "ground_truth": "neighbors_file"},
        "provenance": {"qbench_version": "0.1.0", "engine": "qdrant-edge", "engine_version": "0.7.2",
                       "collection": "qbench-1", "collection_config": {"hnsw_config": {"m": 16}},
                       "indexed_vectors": 100000, "segments": 2, "quantization": "none",
                       "percentile_rule": "HdrHistogram", "cores": 2, "worker": "w", "collection_kept": false},
        "memory_estimate": {"total_bytes": 400000000, "parts": {"vectors_bytes": 307200000, "graph_bytes": 12800000,
                            "quantized_bytes": 0, "points_bytes": 1000000, "queries_bytes": 3072000}},
        "result_files": {"result_json": "file:///r/result.json", "queries_parquet": "file:///r/queries.parquet"}
    }"#;

    #[test]
    fn a_run_stored_before_reports_were_typed_stays_readable() {
        let report: RunReport = serde_json::from_str(LEGACY).unwrap();
        assert_eq!(report.f1, Some(0.97));
        assert_eq!(report.results[0].latency.p99, 0.0009);
        assert_eq!(report.results[0].passes, [], "no passes were kept then");
        assert_eq!(report.results[0].qps_interval, None);
        assert_eq!(report.headline, None, "the rule was not recorded");
        assert_eq!(report.dataset.ground_truth, "neighbors_file");
        assert!(report.dataset.ground_truth_vectors.is_empty());
        assert_eq!(report.provenance.segments, Some(2));
        assert_eq!(report.memory_estimate.as_ref().unwrap().total_bytes, 400_000_000);
        // And it writes back with the same figures.
        let again: RunReport = serde_json::from_value(serde_json::to_value(&report).unwrap()).unwrap();
        assert_eq!(again.results, report.results);
    }
}
