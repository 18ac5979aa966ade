//! Experiments on the wire, in Qdrant's vocabulary.

use std::collections::BTreeMap;

use apistos::ApiComponent;
use chrono::{DateTime, Utc};
use qbench_domain::study::QualityMetric;
use qbench_domain::{
    ConnectionId, DatasetId, EfSearch, Experiment, ExperimentSpec, IndexConfig, IndexKind, IndexSource,
    OptimizerConfig, PointSample, ProductCompression, Quantization, ScalarType, SearchConfig, SearchQuantization,
    SnapshotId, UploadConfig, ValidationReport, VectorName, Violation,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::api::problem::FieldError;
use crate::dto::vector::{VectorInput, vectors_from_domain, vectors_to_domain};
use crate::dto::{Violations, bounds};

/// Index type of a vector.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum IndexType {
    /// HNSW graph.
    #[default]
    Hnsw,
    /// No index (full scan).
    Plain,
}

/// Index settings of one vector (Qdrant's `hnsw_config`).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IndexBody {
    /// `hnsw` (default) or `plain`.
    #[serde(rename = "type", default)]
    pub index_type: IndexType,
    /// Edges per node, 0 to 512; 0 disables the graph. Default 16.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = "bounds::M_MIN", max = "bounds::M_MAX"))]
    pub m: Option<u32>,
    /// Build-time neighbours, 4 to 4096. Default 100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = "bounds::EF_CONSTRUCT_MIN", max = "bounds::EF_CONSTRUCT_MAX"))]
    pub ef_construct: Option<u32>,
    /// KB below which a segment is scanned instead of searched, 10 to 100000000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = "bounds::FULL_SCAN_THRESHOLD_MIN", max = "bounds::FULL_SCAN_THRESHOLD_MAX"))]
    pub full_scan_threshold: Option<u32>,
    /// Keep the graph on disk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_disk: Option<bool>,
}

/// Scalar quantization element type.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ScalarTypeBody {
    /// 8-bit integers.
    Int8,
}

/// Scalar quantization in full.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScalarBody {
    /// Element type (`int8`).
    #[serde(rename = "type")]
    pub scalar_type: ScalarTypeBody,
    /// Quantile, 0.5 to 1.0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = "bounds::QUANTILE_MIN", max = "bounds::QUANTILE_MAX"))]
    pub quantile: Option<f64>,
    /// Keep quantized vectors in RAM.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub always_ram: Option<bool>,
}

/// Scalar quantization: `"int8"` or `{type, quantile, always_ram}`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum ScalarInput {
    /// Shorthand: the element type alone.
    Short(ScalarTypeBody),
    /// Full form.
    Full(ScalarBody),
}

/// Product quantization compression.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum CompressionBody {
    /// 4×.
    X4,
    /// 8×.
    X8,
    /// 16×.
    X16,
    /// 32×.
    X32,
    /// 64×.
    X64,
}

/// Product quantization.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductBody {
    /// Compression ratio.
    pub compression: CompressionBody,
    /// Keep quantized vectors in RAM.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub always_ram: Option<bool>,
}

/// Binary quantization.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BinaryBody {
    /// Keep quantized vectors in RAM.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub always_ram: Option<bool>,
}

/// Quantization, shaped as Qdrant's `quantization_config`: exactly one of `scalar`, `product`, `binary`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
pub enum QuantizationBody {
    /// Scalar quantization.
    Scalar(ScalarInput),
    /// Product quantization.
    Product(ProductBody),
    /// Binary quantization.
    Binary(BinaryBody),
}

/// Index and quantization settings.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OptimizerConfigBody {
    /// Index settings per named vector.
    #[serde(default)]
    pub indexing: BTreeMap<String, IndexBody>,
    /// Quantization of every vector, or null.
    #[serde(default)]
    pub quantization: Option<QuantizationBody>,
}

/// Search-time quantization parameters.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchQuantizationBody {
    /// Re-score candidates with the original vectors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rescore: Option<bool>,
    /// Candidates fetched = oversampling × k; 1.0 to 100.0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = "bounds::OVERSAMPLING_MIN", max = "bounds::OVERSAMPLING_MAX"))]
    pub oversampling: Option<f64>,
    /// Ignore the quantized vectors and search the original ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore: Option<bool>,
}

impl SearchQuantizationBody {
    fn from_domain(quantization: &SearchQuantization) -> Self {
        Self { rescore: quantization.rescore, oversampling: quantization.oversampling, ignore: quantization.ignore }
    }

    fn to_domain(&self) -> SearchQuantization {
        SearchQuantization { ignore: self.ignore, rescore: self.rescore, oversampling: self.oversampling }
    }
}

/// One `hnsw_ef` or a list of them.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum OneOrMany {
    /// A single value.
    One(#[schemars(range(min = "bounds::HNSW_EF_MIN", max = "bounds::HNSW_EF_MAX"))] u32),
    /// Several values, each a search setting.
    Many(#[schemars(inner(range(min = "bounds::HNSW_EF_MIN", max = "bounds::HNSW_EF_MAX")))] Vec<u32>),
}

impl Default for OneOrMany {
    fn default() -> Self {
        Self::Many(Vec::new())
    }
}

fn default_k() -> u32 {
    SearchConfig::DEFAULT_K
}

fn default_parallel() -> u32 {
    SearchConfig::DEFAULT_PARALLEL
}

/// How test queries are run.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchConfigBody {
    /// Results per query, 1 to 10000. Default 10.
    #[serde(default = "default_k")]
    #[schemars(range(min = "bounds::K_MIN", max = "bounds::K_MAX"))]
    pub k: u32,
    /// `hnsw_ef` values, each one search setting (each at least `k`); empty means Qdrant's default.
    #[serde(default)]
    pub hnsw_ef: OneOrMany,
    /// Instead of `hnsw_ef`: find the smallest `hnsw_ef` in `min..=max` reaching the target on the
    /// built index (bisection, one quick pass per candidate), and measure that one in full.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hnsw_ef_search: Option<EfSearchBody>,
    /// Exact (brute-force) search.
    #[serde(default)]
    pub exact: bool,
    /// Search-time quantization parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantization: Option<SearchQuantizationBody>,
    /// Concurrent search clients, 1 to 256. Default 1.
    #[serde(default = "default_parallel")]
    #[schemars(range(min = "bounds::PARALLEL_MIN", max = "bounds::PARALLEL_MAX"))]
    pub parallel: u32,
    /// Further client counts every setting is also measured with (at most 8, each 1 to 256): QPS
    /// against clients on the same built collection.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 8))]
    pub parallel_sweep: Vec<u32>,
    /// Use at most this many test queries, 1 to 1000000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = "bounds::QUERIES_LIMIT_MIN", max = "bounds::QUERIES_LIMIT_MAX"))]
    pub queries_limit: Option<u32>,
    /// Vectors to query (at least one); default every vector of the experiment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub vectors: Option<Vec<String>>,
    /// Run even when the dataset's neighbours file disagrees with exact search under the declared
    /// distance; the mismatch is recorded in the run's report. Default false: such a run fails in
    /// `prepare`.
    #[serde(default)]
    pub allow_ground_truth_mismatch: bool,
    /// Seconds each search setting is measured for, at least, per repetition, cycling through
    /// the queries after one full pass (0 to 600); default the server's `worker.search_seconds`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = "bounds::SEARCH_SECONDS_MIN", max = "bounds::SEARCH_SECONDS_MAX"))]
    pub min_seconds: Option<f64>,
    /// Measured passes of each search setting (1 to 20), giving QPS and latency percentiles a 95 %
    /// confidence interval; default the server's `worker.repetitions`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = "bounds::REPETITIONS_MIN", max = "bounds::REPETITIONS_MAX"))]
    pub repetitions: Option<u32>,
    /// The `hnsw_ef` (one of `hnsw_ef`) whose figures the run's top-level `f1`, `p_95_latency` and
    /// `qps` report; default the setting with the best F1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_hnsw_ef: Option<u32>,
    /// Further quantization parameters every `hnsw_ef` is also measured with, after
    /// `quantization` (at most 8; only on a quantized collection).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 8))]
    pub quantization_sweep: Vec<SearchQuantizationBody>,
    /// Also measure exact search after the `hnsw_ef` settings, as the reference (ignoring the
    /// quantized vectors on a quantized collection).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub with_exact: bool,
}

impl Default for SearchConfigBody {
    fn default() -> Self {
        Self::from_domain(&SearchConfig::default())
    }
}

/// The search for the cheapest `hnsw_ef` that reaches a quality target.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EfSearchBody {
    /// Smallest `hnsw_ef` tried (at least `k`).
    #[schemars(range(min = "bounds::HNSW_EF_MIN", max = "bounds::HNSW_EF_MAX"))]
    pub min: u32,
    /// Largest `hnsw_ef` tried (measured first).
    #[schemars(range(min = "bounds::HNSW_EF_MIN", max = "bounds::HNSW_EF_MAX"))]
    pub max: u32,
    /// `recall` (default), `precision` or `f1`.
    #[serde(default)]
    pub metric: QualityMetricBody,
    /// The value to reach, in (0, 1].
    pub target: f64,
}

/// A quality metric.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum QualityMetricBody {
    /// Recall@k.
    #[default]
    Recall,
    /// Precision@k.
    Precision,
    /// F1@k.
    F1,
}

impl From<QualityMetricBody> for QualityMetric {
    fn from(metric: QualityMetricBody) -> Self {
        match metric {
            QualityMetricBody::Recall => Self::Recall,
            QualityMetricBody::Precision => Self::Precision,
            QualityMetricBody::F1 => Self::F1,
        }
    }
}

impl From<QualityMetric> for QualityMetricBody {
    fn from(metric: QualityMetric) -> Self {
        match metric {
            QualityMetric::Recall => Self::Recall,
            QualityMetric::Precision => Self::Precision,
            QualityMetric::F1 => Self::F1,
        }
    }
}

/// How points are uploaded (the `upload_params` of Qdrant's own benchmarks).
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UploadConfigBody {
    /// Points per upsert request (1..=65536); default 256.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = "bounds::UPLOAD_BATCH_SIZE_MIN", max = "bounds::UPLOAD_BATCH_SIZE_MAX"))]
    pub batch_size: Option<u32>,
    /// Upsert requests in flight at once (1..=64); default 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = "bounds::UPLOAD_PARALLEL_MIN", max = "bounds::UPLOAD_PARALLEL_MAX"))]
    pub parallel: Option<u32>,
    /// Upload only a seeded sample of the train points, for a quick look; the ground truth is then
    /// computed on the sample (a neighbours file of the full data is not used) and the run's
    /// warnings say it was sampled. A study's `auto` strategy uses it for its first rounds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample: Option<PointSampleBody>,
}

/// A seeded sample of the train points: each is kept or not by a hash of its id and the seed.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PointSampleBody {
    /// The share of points kept (0.0001..=1).
    #[schemars(range(min = "bounds::SAMPLE_FRACTION_MIN", max = "bounds::SAMPLE_FRACTION_MAX"))]
    pub fraction: f64,
    /// Chooses which points; the same seed keeps the same points. Default 0.
    #[serde(default)]
    #[schemars(range(min = 0, max = 4_294_967_295_u32))]
    pub seed: u32,
}

impl UploadConfigBody {
    fn from_domain(upload: &UploadConfig) -> Self {
        Self {
            batch_size: upload.batch_size,
            parallel: upload.parallel,
            sample: upload.sample.map(|sample| PointSampleBody { fraction: sample.fraction, seed: sample.seed }),
        }
    }

    fn to_domain(&self) -> UploadConfig {
        UploadConfig {
            batch_size: self.batch_size,
            parallel: self.parallel,
            sample: self.sample.map(|sample| PointSample { fraction: sample.fraction, seed: sample.seed }),
        }
    }
}

/// An experiment to register or validate (also the shape a PATCH merges into).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, ApiComponent)]
#[serde(deny_unknown_fields)]
#[schemars(example = "ExperimentRequest::example")]
pub struct ExperimentRequest {
    /// Name.
    #[schemars(length(min = 1, max = "bounds::NAME_LENGTH"))]
    pub name: String,
    /// Dataset to load.
    pub dataset_id: Uuid,
    /// Qdrant to load it into (the built-in `embedded` connection, or a registered one).
    pub connection_id: Uuid,
    /// Index and quantization settings.
    #[serde(default)]
    pub optimizer_config: OptimizerConfigBody,
    /// Vectors to create; default every vector of the dataset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vector_config: Option<BTreeMap<String, VectorInput>>,
    /// Query settings.
    #[serde(default)]
    pub search_config: SearchConfigBody,
    /// Upload settings.
    #[serde(default)]
    pub upload_config: UploadConfigBody,
    /// Keep the collection after the run (to inspect it in Qdrant) instead of dropping it.
    #[serde(default)]
    pub keep_collection: bool,
    /// Where the index comes from. Absent: each run uploads the dataset and builds the index.
    /// `{"snapshot_id": …}`: each run restores that snapshot's index (a `READY` snapshot of a run
    /// of the same dataset and vectors, checksum verified) and measures search only; its report
    /// says so and carries the settings that built the index. `optimizer_config` must then be
    /// left out, as must `upload_config.sample` (the snapshot holds every point).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<IndexSourceBody>,
}

/// An index built before: a snapshot to restore instead of building.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, ApiComponent)]
#[serde(deny_unknown_fields)]
pub struct IndexSourceBody {
    /// The snapshot (`/api/v1/snapshots/{id}`).
    pub snapshot_id: Uuid,
}

impl ExperimentRequest {
    fn example() -> Self {
        Self {
            name: "hnsw-m16-vs-m32".to_owned(),
            dataset_id: Uuid::nil(),
            connection_id: Uuid::nil(),
            optimizer_config: OptimizerConfigBody {
                indexing: BTreeMap::from([
                    (
                        "text_embedding".to_owned(),
                        IndexBody {
                            index_type: IndexType::Hnsw,
                            m: Some(16),
                            ef_construct: Some(100),
                            full_scan_threshold: None,
                            on_disk: None,
                        },
                    ),
                    (
                        "image_embedding".to_owned(),
                        IndexBody {
                            index_type: IndexType::Hnsw,
                            m: Some(32),
                            ef_construct: Some(200),
                            full_scan_threshold: None,
                            on_disk: None,
                        },
                    ),
                ]),
                quantization: Some(QuantizationBody::Scalar(ScalarInput::Short(ScalarTypeBody::Int8))),
            },
            vector_config: None,
            search_config: SearchConfigBody {
                k: 10,
                hnsw_ef: OneOrMany::Many(vec![64, 128, 256]),
                hnsw_ef_search: None,
                exact: false,
                quantization: Some(SearchQuantizationBody {
                    rescore: Some(true),
                    oversampling: Some(2.0),
                    ignore: None,
                }),
                parallel: 2,
                parallel_sweep: vec![4, 8],
                queries_limit: Some(1000),
                vectors: None,
                allow_ground_truth_mismatch: false,
                min_seconds: Some(2.0),
                repetitions: Some(3),
                primary_hnsw_ef: Some(128),
                quantization_sweep: Vec::new(),
                with_exact: true,
            },
            upload_config: UploadConfigBody { batch_size: Some(256), parallel: Some(2), sample: None },
            keep_collection: false,
            source: None,
        }
    }

    /// The write form of a stored experiment, for merging a PATCH.
    pub fn from_domain(experiment: &Experiment) -> Self {
        Self::from_spec(&experiment.spec)
    }

    /// The request that registers `spec`.
    pub fn from_spec(spec: &ExperimentSpec) -> Self {
        Self {
            name: spec.name.clone(),
            dataset_id: spec.dataset_id.as_uuid(),
            connection_id: spec.connection_id.as_uuid(),
            optimizer_config: OptimizerConfigBody::from_domain(&spec.optimizer_config),
            vector_config: spec.vector_config.as_ref().map(vectors_from_domain),
            search_config: SearchConfigBody::from_domain(&spec.search_config),
            upload_config: UploadConfigBody::from_domain(&spec.upload_config),
            keep_collection: spec.keep_collection,
            source: spec.source.map(|source| IndexSourceBody { snapshot_id: source.snapshot_id.as_uuid() }),
        }
    }
}

impl IndexBody {
    fn from_domain(index: &IndexConfig) -> Self {
        Self {
            index_type: match index.kind {
                IndexKind::Hnsw => IndexType::Hnsw,
                IndexKind::Plain => IndexType::Plain,
            },
            m: index.m,
            ef_construct: index.ef_construct,
            full_scan_threshold: index.full_scan_threshold,
            on_disk: index.on_disk,
        }
    }

    fn to_domain(&self) -> IndexConfig {
        IndexConfig {
            kind: match self.index_type {
                IndexType::Hnsw => IndexKind::Hnsw,
                IndexType::Plain => IndexKind::Plain,
            },
            m: self.m,
            ef_construct: self.ef_construct,
            full_scan_threshold: self.full_scan_threshold,
            on_disk: self.on_disk,
        }
    }
}

impl QuantizationBody {
    pub(crate) fn from_domain(quantization: &Quantization) -> Self {
        match quantization {
            Quantization::Scalar { scalar_type: ScalarType::Int8, quantile, always_ram } => {
                Self::Scalar(ScalarInput::Full(ScalarBody {
                    scalar_type: ScalarTypeBody::Int8,
                    quantile: *quantile,
                    always_ram: *always_ram,
                }))
            }
            Quantization::Product { compression, always_ram } => Self::Product(ProductBody {
                compression: match compression {
                    ProductCompression::X4 => CompressionBody::X4,
                    ProductCompression::X8 => CompressionBody::X8,
                    ProductCompression::X16 => CompressionBody::X16,
                    ProductCompression::X32 => CompressionBody::X32,
                    ProductCompression::X64 => CompressionBody::X64,
                },
                always_ram: *always_ram,
            }),
            Quantization::Binary { always_ram } => Self::Binary(BinaryBody { always_ram: *always_ram }),
        }
    }

    fn to_domain(&self) -> Quantization {
        match self {
            Self::Scalar(ScalarInput::Short(ScalarTypeBody::Int8)) => {
                Quantization::Scalar { scalar_type: ScalarType::Int8, quantile: None, always_ram: None }
            }
            Self::Scalar(ScalarInput::Full(body)) => Quantization::Scalar {
                scalar_type: match body.scalar_type {
                    ScalarTypeBody::Int8 => ScalarType::Int8,
                },
                quantile: body.quantile,
                always_ram: body.always_ram,
            },
            Self::Product(body) => Quantization::Product {
                compression: match body.compression {
                    CompressionBody::X4 => ProductCompression::X4,
                    CompressionBody::X8 => ProductCompression::X8,
                    CompressionBody::X16 => ProductCompression::X16,
                    CompressionBody::X32 => ProductCompression::X32,
                    CompressionBody::X64 => ProductCompression::X64,
                },
                always_ram: body.always_ram,
            },
            Self::Binary(body) => Quantization::Binary { always_ram: body.always_ram },
        }
    }
}

impl OptimizerConfigBody {
    /// The domain's index settings on the wire.
    pub(crate) fn from_domain(config: &OptimizerConfig) -> Self {
        Self {
            indexing: config
                .indexing
                .iter()
                .map(|(name, index)| (name.to_string(), IndexBody::from_domain(index)))
                .collect(),
            quantization: config.quantization.as_ref().map(QuantizationBody::from_domain),
        }
    }

    /// The index settings in the domain's terms, each vector name checked (violations named
    /// `optimizer_config.indexing.<name>`).
    pub(crate) fn to_domain(&self, violations: &mut Violations) -> Option<OptimizerConfig> {
        let mut indexing = BTreeMap::new();
        let mut complete = true;
        for (name, index) in &self.indexing {
            match violations.check(format!("optimizer_config.indexing.{name}"), name.parse::<VectorName>()) {
                Some(name) => {
                    indexing.insert(name, index.to_domain());
                }
                None => complete = false,
            }
        }
        complete.then(|| OptimizerConfig {
            indexing,
            quantization: self.quantization.as_ref().map(QuantizationBody::to_domain),
        })
    }
}

impl SearchConfigBody {
    fn from_domain(config: &SearchConfig) -> Self {
        Self {
            k: config.k,
            hnsw_ef: OneOrMany::Many(config.hnsw_ef.clone()),
            hnsw_ef_search: config.hnsw_ef_search.map(|search| EfSearchBody {
                min: search.min,
                max: search.max,
                metric: search.metric.into(),
                target: search.target,
            }),
            exact: config.exact,
            quantization: config.quantization.as_ref().map(SearchQuantizationBody::from_domain),
            parallel: config.parallel,
            parallel_sweep: config.parallel_sweep.clone(),
            queries_limit: config.queries_limit,
            vectors: config.vectors.as_ref().map(|names| names.iter().map(ToString::to_string).collect()),
            allow_ground_truth_mismatch: config.allow_ground_truth_mismatch,
            min_seconds: config.min_seconds,
            repetitions: config.repetitions,
            primary_hnsw_ef: config.primary_hnsw_ef,
            quantization_sweep: config.quantization_sweep.iter().map(SearchQuantizationBody::from_domain).collect(),
            with_exact: config.with_exact,
        }
    }

    fn to_domain(&self, violations: &mut Violations) -> Option<SearchConfig> {
        let vectors = match &self.vectors {
            None => Some(None),
            Some(names) => {
                let parsed: Vec<Option<VectorName>> = names
                    .iter()
                    .enumerate()
                    .map(|(index, name)| violations.check(format!("search_config.vectors[{index}]"), name.parse()))
                    .collect();
                parsed.into_iter().collect::<Option<Vec<_>>>().map(Some)
            }
        };
        Some(SearchConfig {
            k: self.k,
            hnsw_ef: match &self.hnsw_ef {
                OneOrMany::One(ef) => vec![*ef],
                OneOrMany::Many(list) => list.clone(),
            },
            hnsw_ef_search: self.hnsw_ef_search.map(|search| EfSearch {
                min: search.min,
                max: search.max,
                metric: search.metric.into(),
                target: search.target,
            }),
            exact: self.exact,
            quantization: self.quantization.as_ref().map(SearchQuantizationBody::to_domain),
            quantization_sweep: self.quantization_sweep.iter().map(SearchQuantizationBody::to_domain).collect(),
            with_exact: self.with_exact,
            parallel: self.parallel,
            parallel_sweep: self.parallel_sweep.clone(),
            queries_limit: self.queries_limit,
            vectors: vectors?,
            allow_ground_truth_mismatch: self.allow_ground_truth_mismatch,
            min_seconds: self.min_seconds,
            repetitions: self.repetitions,
            primary_hnsw_ef: self.primary_hnsw_ef,
        })
    }
}

impl TryFrom<ExperimentRequest> for ExperimentSpec {
    type Error = Vec<Violation>;

    fn try_from(request: ExperimentRequest) -> Result<Self, Self::Error> {
        let mut violations = Violations::default();
        let optimizer_config = request.optimizer_config.to_domain(&mut violations);
        let vector_config = match &request.vector_config {
            None => Some(None),
            Some(vectors) => vectors_to_domain("vector_config", vectors, &mut violations).map(Some),
        };
        let search_config = request.search_config.to_domain(&mut violations);
        let spec = match (optimizer_config, vector_config, search_config) {
            (Some(optimizer_config), Some(vector_config), Some(search_config)) => Some(ExperimentSpec {
                name: request.name,
                dataset_id: DatasetId::from(request.dataset_id),
                connection_id: ConnectionId::from(request.connection_id),
                optimizer_config,
                vector_config,
                search_config,
                upload_config: request.upload_config.to_domain(),
                keep_collection: request.keep_collection,
                source: request.source.map(|source| IndexSource { snapshot_id: SnapshotId::from(source.snapshot_id) }),
            }),
            _ => None,
        };
        violations.finish(spec)
    }
}

/// A registered experiment, in canonical form.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, ApiComponent)]
#[schemars(example = "ExperimentResponse::example")]
pub struct ExperimentResponse {
    /// Identifier.
    pub id: Uuid,
    /// The settings, as registered.
    #[serde(flatten)]
    pub settings: ExperimentRequest,
    /// The user who registered it; only they and admins see it.
    pub owner: String,
    /// When it was registered.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// Legal settings that are probably not what was meant (on creation and update only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<FieldError>,
}

impl ExperimentResponse {
    fn example() -> Self {
        Self {
            id: Uuid::nil(),
            settings: ExperimentRequest::example(),
            owner: "ann@example.com".to_owned(),
            created_at: DateTime::<Utc>::UNIX_EPOCH,
            updated_at: DateTime::<Utc>::UNIX_EPOCH,
            warnings: Vec::new(),
        }
    }

    /// The response for `experiment`, with `warnings`.
    pub fn new(experiment: &Experiment, warnings: Vec<Violation>) -> Self {
        Self {
            id: experiment.id.as_uuid(),
            settings: ExperimentRequest::from_domain(experiment),
            owner: experiment.owner.clone(),
            created_at: experiment.created_at,
            updated_at: experiment.updated_at,
            warnings: warnings.into_iter().map(FieldError::from).collect(),
        }
    }
}

/// The answer of the dry run.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, ApiComponent)]
#[schemars(example = "ValidationResponse::example")]
pub struct ValidationResponse {
    /// Whether the experiment would be accepted.
    pub valid: bool,
    /// Every error, naming its field.
    pub errors: Vec<FieldError>,
    /// Every warning, naming its field.
    pub warnings: Vec<FieldError>,
}

impl ValidationResponse {
    fn example() -> Self {
        Self {
            valid: false,
            errors: vec![FieldError {
                field: "search_config.hnsw_ef[0]".to_owned(),
                message: "hnsw_ef 5 is smaller than k 10".to_owned(),
            }],
            warnings: vec![],
        }
    }

    /// The answer for `report`.
    pub fn from_report(report: ValidationReport) -> Self {
        Self {
            valid: report.is_valid(),
            errors: report.errors.into_iter().map(FieldError::from).collect(),
            warnings: report.warnings.into_iter().map(FieldError::from).collect(),
        }
    }

    /// The answer for a request that could not even be converted.
    pub fn from_errors(errors: Vec<Violation>) -> Self {
        Self::from_report(ValidationReport { errors, warnings: Vec::new() })
    }
}
