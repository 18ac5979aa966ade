//! A run's report on the wire: every figure typed, with its schema.

use std::collections::BTreeMap;

use qbench_domain::metrics::MeanInterval;
use qbench_domain::report::{
    DatasetReport, Headline, HeadlineRule, LatencyFigures, PassReport, ProvenanceReport, RunReport, SettingReport,
    TruthReport,
};
use qbench_domain::{StorageUsage, Usage};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Everything a completed run measured. The top-level `precision` … `qps` are the figures of the
/// setting `headline` names.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct RunReportBody {
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
    /// QPS of the headline setting (mean of its passes).
    pub qps: Option<f64>,
    /// The setting the figures above describe and why; absent for runs stored before it was kept.
    pub headline: Option<HeadlineBody>,
    /// Upload time, in seconds.
    pub upload_seconds: f64,
    /// Index build time, in seconds.
    pub index_seconds: f64,
    /// Whole run, in seconds.
    pub total_seconds: f64,
    /// Points uploaded.
    pub points: u64,
    /// The upload.
    pub upload: UploadBody,
    /// Every vector × search setting × client count.
    pub results: Vec<SettingBody>,
    /// The data measured and its ground truth.
    pub dataset: DatasetBody,
    /// What measured it.
    pub provenance: ProvenanceBody,
    /// The memory the collection was estimated to need before the run.
    pub memory_estimate: Option<MemoryEstimateBody>,
    /// What the built collection occupied, measured on the engine after indexing; absent for
    /// older runs and engines that do not say (a remote Qdrant's gRPC answer carries no sizes).
    pub memory: Option<StorageUsageBody>,
    /// What the reader should know: a neighbours file not used or mismatched, doubtful settings.
    pub warnings: Vec<String>,
    /// Where the results were written.
    pub result_files: Option<ResultFilesBody>,
    /// Set when the index was restored from a snapshot instead of built: this run uploaded and
    /// indexed nothing (`upload_seconds` and `index_seconds` are 0), and its `optimizer_config` is
    /// the one that built the index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index_source: Option<IndexSourceBody>,
}

/// Where a restored index came from.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct IndexSourceBody {
    /// The snapshot restored.
    pub snapshot_id: uuid::Uuid,
    /// The run whose collection it holds: it uploaded and indexed what this run searched.
    pub built_by_run_id: uuid::Uuid,
    /// The archive's SHA-256, verified before the restore.
    pub sha256: String,
    /// The archive's size in bytes.
    pub bytes: u64,
    /// Points restored.
    pub points: u64,
    /// From opening the archive to the collection answering, in seconds.
    pub restore_seconds: f64,
}

/// Which setting the headline figures describe.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct HeadlineBody {
    /// Its vector.
    pub vector: String,
    /// Its setting.
    pub setting: String,
    /// Its client count.
    pub parallel: u32,
    /// `primary`: the experiment's `search_config.primary_hnsw_ef`; `best_f1`: no setting was
    /// marked, the best F1 (ties: higher QPS); `first`: a run stored before the rule.
    pub rule: HeadlineRuleBody,
}

/// How the headline setting was chosen.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum HeadlineRuleBody {
    /// The setting the experiment marks primary.
    Primary,
    /// The best F1.
    BestF1,
    /// The first setting (runs stored before the rule).
    First,
}

/// Latency percentiles, maximum and mean.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema)]
pub struct LatencyBody {
    /// Median.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Slowest.
    pub max: f64,
    /// Mean.
    pub mean: f64,
}

/// A mean over passes with its 95 % confidence interval (Student's t).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema)]
pub struct IntervalBody {
    /// Mean of the passes.
    pub mean: f64,
    /// Lower bound.
    pub low: f64,
    /// Upper bound.
    pub high: f64,
    /// Passes measured.
    pub samples: usize,
    /// Half the interval's width over the mean: above 0.10 the figure is flagged unstable; absent
    /// when the mean is zero.
    pub relative_half_width: Option<f64>,
}

/// One measured pass of a setting.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct PassBody {
    /// Queries answered (every query once, then cycled through until the minimum duration).
    pub queries: u64,
    /// Wall time, in seconds.
    pub seconds: f64,
    /// Queries per second.
    pub qps: f64,
    /// Latencies, in seconds.
    pub latency: LatencyBody,
}

/// What one search setting measured on one vector with one client count.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct SettingBody {
    /// The vector searched.
    pub vector: String,
    /// The setting (`hnsw_ef=128`, `exact`, `default`).
    pub setting: String,
    /// `hnsw_ef` sent.
    pub hnsw_ef: Option<u32>,
    /// Exact search.
    pub exact: bool,
    /// Quantized vectors ignored (the original vectors searched).
    pub ignore: Option<bool>,
    /// Quantized search re-scored.
    pub rescore: Option<bool>,
    /// Quantized search oversampling.
    pub oversampling: Option<f64>,
    /// Results per query.
    pub k: u32,
    /// Concurrent clients.
    pub parallel: u32,
    /// Queries scored.
    pub queries: u64,
    /// Mean precision@k.
    pub precision: f64,
    /// Mean recall@k.
    pub recall: f64,
    /// Mean per-query F1.
    pub f1: f64,
    /// Latencies of every pass together, in seconds.
    pub latency: LatencyBody,
    /// The same in milliseconds.
    pub latency_ms: LatencyBody,
    /// The engine's own time, in seconds, when it reports one.
    pub server_latency: Option<LatencyBody>,
    /// Mean QPS of the passes.
    pub qps: f64,
    /// Wall time of every pass together, in seconds.
    pub search_seconds: f64,
    /// Each measured pass.
    pub passes: Vec<PassBody>,
    /// QPS over the passes (absent with fewer than two).
    pub qps_interval: Option<IntervalBody>,
    /// p50 latency over the passes, in seconds.
    pub p50_interval: Option<IntervalBody>,
    /// p95 latency over the passes, in seconds.
    pub p95_interval: Option<IntervalBody>,
    /// p99 latency over the passes, in seconds.
    pub p99_interval: Option<IntervalBody>,
    /// The QPS or p99 interval is wider than ±10 %: too noisy to compare with a neighbour.
    pub unstable: bool,
    /// What is wrong or doubtful with these figures.
    pub flags: Vec<String>,
    /// How the run chose this setting, when it did (`hnsw_ef_search`).
    pub chosen_by: Option<String>,
}

/// The upload phase.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct UploadBody {
    /// Points uploaded.
    pub points: u64,
    /// Wall time, in seconds.
    pub seconds: f64,
    /// Points per second.
    pub points_per_second: f64,
    /// Points per upsert.
    pub batch_size: u64,
    /// Upserts in flight.
    pub parallel: u64,
}

/// The dataset as the run read it.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct DatasetBody {
    /// `singlefile`, `directory` or `glob`.
    pub layout: String,
    /// Files read.
    pub files: u64,
    /// Rows of the train files.
    pub train_rows: u64,
    /// Bytes of every file.
    pub bytes: u64,
    /// What identifies the content.
    pub fingerprint: String,
    /// Queries used.
    pub queries: u64,
    /// `test_file` or `held_out_rows`.
    pub queries_from: String,
    /// Every vector's ground-truth source when shared (`neighbors_file`, `computed`, `cached`), else
    /// `mixed`.
    pub ground_truth: String,
    /// Each vector's ground truth.
    pub ground_truth_vectors: BTreeMap<String, TruthBody>,
}

/// Where one vector's ground truth came from.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct TruthBody {
    /// `neighbors_file`, `computed` or `cached`.
    pub source: String,
    /// The neighbours file used.
    pub file: Option<String>,
    /// That file against exact search under the declared distance.
    pub check: Option<TruthCheckBody>,
}

/// A neighbours file checked against exact search on a seeded sample of queries.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct TruthCheckBody {
    /// The distance searched with.
    pub distance: String,
    /// Queries searched exactly.
    pub queries: u64,
    /// Mean share of the file's top k confirmed, ties counted.
    pub agreement: f64,
    /// The share required.
    pub required: f64,
    /// Whether the file agreed.
    pub passed: bool,
}

/// What measured the run.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ProvenanceBody {
    /// qbench's version.
    pub qbench_version: String,
    /// The engine.
    pub engine: String,
    /// Its version.
    pub engine_version: String,
    /// The collection measured.
    pub collection: String,
    /// The collection's configuration as the engine reports it, verbatim (the engine's own shape).
    pub collection_config: serde_json::Value,
    /// Vectors indexed after the index phase.
    pub indexed_vectors: Option<u64>,
    /// Segments after the index phase.
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

/// What a built collection occupied, in bytes, measured on the engine after indexing.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct StorageUsageBody {
    /// The whole collection.
    pub total: UsageBody,
    /// Per named vector.
    pub vectors: BTreeMap<String, VectorUsageBody>,
    /// Ids, payloads and the write-ahead log (on disk; RAM not attributed).
    pub other: UsageBody,
    /// How it was measured.
    pub method: String,
}

/// Bytes in RAM and on disk.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema)]
pub struct UsageBody {
    /// Kept in RAM (loaded, not memory-mapped on demand).
    pub ram_bytes: u64,
    /// On disk.
    pub disk_bytes: u64,
}

/// One named vector's parts.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema)]
pub struct VectorUsageBody {
    /// The original vectors.
    pub vectors: UsageBody,
    /// The HNSW graph.
    pub index: UsageBody,
    /// The quantized vectors.
    pub quantized: UsageBody,
}

impl From<Usage> for UsageBody {
    fn from(usage: Usage) -> Self {
        Self { ram_bytes: usage.ram_bytes, disk_bytes: usage.disk_bytes }
    }
}

impl From<&StorageUsage> for StorageUsageBody {
    fn from(usage: &StorageUsage) -> Self {
        Self {
            total: usage.total().into(),
            vectors: usage
                .vectors
                .iter()
                .map(|(name, vector)| {
                    let body = VectorUsageBody {
                        vectors: vector.vectors.into(),
                        index: vector.index.into(),
                        quantized: vector.quantized.into(),
                    };
                    (name.clone(), body)
                })
                .collect(),
            other: usage.other.into(),
            method: usage.method.clone(),
        }
    }
}

/// The memory estimate made before the run, in bytes.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct MemoryEstimateBody {
    /// In all.
    pub total_bytes: u64,
    /// Original vectors.
    pub vectors_bytes: u64,
    /// HNSW graph.
    pub graph_bytes: u64,
    /// Quantized vectors.
    pub quantized_bytes: u64,
    /// Point ids and payloads.
    pub points_bytes: u64,
    /// Queries and their results held by qbench.
    pub queries_bytes: u64,
}

/// Where the results were written.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ResultFilesBody {
    /// `result.json`.
    pub result_json: String,
    /// The per-query rows (Parquet).
    pub queries_parquet: String,
}

impl From<&LatencyFigures> for LatencyBody {
    fn from(figures: &LatencyFigures) -> Self {
        Self { p50: figures.p50, p95: figures.p95, p99: figures.p99, max: figures.max, mean: figures.mean }
    }
}

impl LatencyBody {
    fn in_milliseconds(self) -> Self {
        Self {
            p50: self.p50 * 1e3,
            p95: self.p95 * 1e3,
            p99: self.p99 * 1e3,
            max: self.max * 1e3,
            mean: self.mean * 1e3,
        }
    }
}

impl From<&MeanInterval> for IntervalBody {
    fn from(interval: &MeanInterval) -> Self {
        Self {
            mean: interval.mean,
            low: interval.low,
            high: interval.high,
            samples: interval.samples,
            relative_half_width: Some(interval.half_width_ratio()).filter(|ratio| ratio.is_finite()),
        }
    }
}

impl From<&PassReport> for PassBody {
    fn from(pass: &PassReport) -> Self {
        Self { queries: pass.queries, seconds: pass.seconds, qps: pass.qps, latency: LatencyBody::from(&pass.latency) }
    }
}

impl From<&SettingReport> for SettingBody {
    fn from(setting: &SettingReport) -> Self {
        let latency = LatencyBody::from(&setting.latency);
        let interval = |interval: &Option<MeanInterval>| interval.as_ref().map(IntervalBody::from);
        Self {
            vector: setting.vector.clone(),
            setting: setting.setting.clone(),
            hnsw_ef: setting.hnsw_ef,
            exact: setting.exact,
            ignore: setting.ignore,
            rescore: setting.rescore,
            oversampling: setting.oversampling,
            k: setting.k,
            parallel: setting.parallel,
            queries: setting.queries,
            precision: setting.precision,
            recall: setting.recall,
            f1: setting.f1,
            latency,
            latency_ms: latency.in_milliseconds(),
            server_latency: setting.server_latency.as_ref().map(LatencyBody::from),
            qps: setting.qps,
            search_seconds: setting.search_seconds,
            passes: setting.passes.iter().map(PassBody::from).collect(),
            qps_interval: interval(&setting.qps_interval),
            p50_interval: interval(&setting.p50_interval),
            p95_interval: interval(&setting.p95_interval),
            p99_interval: interval(&setting.p99_interval),
            unstable: setting.unstable,
            flags: setting.flags.clone(),
            chosen_by: setting.chosen_by.clone(),
        }
    }
}

impl From<&Headline> for HeadlineBody {
    fn from(headline: &Headline) -> Self {
        Self {
            vector: headline.vector.clone(),
            setting: headline.setting.clone(),
            parallel: headline.parallel,
            rule: match headline.rule {
                HeadlineRule::Primary => HeadlineRuleBody::Primary,
                HeadlineRule::BestF1 => HeadlineRuleBody::BestF1,
                HeadlineRule::First => HeadlineRuleBody::First,
            },
        }
    }
}

impl From<&TruthReport> for TruthBody {
    fn from(truth: &TruthReport) -> Self {
        Self {
            source: truth.source.clone(),
            file: truth.file.clone(),
            check: truth.check.as_ref().map(|check| TruthCheckBody {
                distance: check.distance.clone(),
                queries: check.queries,
                agreement: check.agreement,
                required: check.required,
                passed: check.passed,
            }),
        }
    }
}

impl From<&DatasetReport> for DatasetBody {
    fn from(dataset: &DatasetReport) -> Self {
        Self {
            layout: dataset.layout.clone(),
            files: dataset.files,
            train_rows: dataset.train_rows,
            bytes: dataset.bytes,
            fingerprint: dataset.fingerprint.clone(),
            queries: dataset.queries,
            queries_from: dataset.queries_from.clone(),
            ground_truth: dataset.ground_truth.clone(),
            ground_truth_vectors: dataset
                .ground_truth_vectors
                .iter()
                .map(|(name, truth)| (name.clone(), TruthBody::from(truth)))
                .collect(),
        }
    }
}

impl From<&ProvenanceReport> for ProvenanceBody {
    fn from(provenance: &ProvenanceReport) -> Self {
        Self {
            qbench_version: provenance.qbench_version.clone(),
            engine: provenance.engine.clone(),
            engine_version: provenance.engine_version.clone(),
            collection: provenance.collection.clone(),
            collection_config: provenance.collection_config.clone(),
            indexed_vectors: provenance.indexed_vectors,
            segments: provenance.segments,
            quantization: provenance.quantization.clone(),
            percentile_rule: provenance.percentile_rule.clone(),
            cores: provenance.cores,
            worker: provenance.worker.clone(),
            collection_kept: provenance.collection_kept,
        }
    }
}

impl From<&RunReport> for RunReportBody {
    fn from(report: &RunReport) -> Self {
        // A run stored before the rule reported its first setting.
        let headline = report.headline.as_ref().map(HeadlineBody::from).or_else(|| {
            report.results.first().map(|first| HeadlineBody {
                vector: first.vector.clone(),
                setting: first.setting.clone(),
                parallel: first.parallel,
                rule: HeadlineRuleBody::First,
            })
        });
        Self {
            precision: report.precision,
            recall: report.recall,
            f1: report.f1,
            p_50_latency: report.p_50_latency,
            p_95_latency: report.p_95_latency,
            p_99_latency: report.p_99_latency,
            qps: report.qps,
            headline,
            upload_seconds: report.upload_seconds,
            index_seconds: report.index_seconds,
            total_seconds: report.total_seconds,
            points: report.points,
            upload: UploadBody {
                points: report.upload.points,
                seconds: report.upload.seconds,
                points_per_second: report.upload.points_per_second,
                batch_size: report.upload.batch_size,
                parallel: report.upload.parallel,
            },
            results: report.results.iter().map(SettingBody::from).collect(),
            dataset: DatasetBody::from(&report.dataset),
            provenance: ProvenanceBody::from(&report.provenance),
            memory_estimate: report.memory_estimate.as_ref().map(|estimate| MemoryEstimateBody {
                total_bytes: estimate.total_bytes,
                vectors_bytes: estimate.parts.vectors_bytes,
                graph_bytes: estimate.parts.graph_bytes,
                quantized_bytes: estimate.parts.quantized_bytes,
                points_bytes: estimate.parts.points_bytes,
                queries_bytes: estimate.parts.queries_bytes,
            }),
            memory: report.memory.as_ref().map(StorageUsageBody::from),
            warnings: report.warnings.clone(),
            result_files: report.result_files.as_ref().map(|files| ResultFilesBody {
                result_json: files.result_json.clone(),
                queries_parquet: files.queries_parquet.clone(),
            }),
            index_source: report.index_source.as_ref().map(|source| IndexSourceBody {
                snapshot_id: source.snapshot_id.as_uuid(),
                built_by_run_id: source.built_by_run_id.as_uuid(),
                sha256: source.sha256.clone(),
                bytes: source.bytes,
                points: source.points,
                restore_seconds: source.restore_seconds,
            }),
        }
    }
}
