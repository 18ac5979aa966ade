//! Experiments: how to index and search a dataset, in Qdrant's vocabulary.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};

use crate::{ConnectionId, DatasetId, ExperimentId, PointSample, SnapshotId, VectorName, VectorSpec};

/// The kind of index built for a vector.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IndexKind {
    /// Qdrant's HNSW graph.
    Hnsw,
    /// No index: every search is a full scan.
    Plain,
}

impl IndexKind {
    /// The wire name (`hnsw`, `plain`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hnsw => "hnsw",
            Self::Plain => "plain",
        }
    }
}

/// How one named vector is indexed (Qdrant's `hnsw_config` for that vector).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct IndexConfig {
    /// HNSW graph or plain.
    #[serde(rename = "type")]
    pub kind: IndexKind,
    /// Edges per node; 0 disables the graph. Qdrant's default is 16.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub m: Option<u32>,
    /// Neighbours considered while building; at least 4. Qdrant's default is 100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ef_construct: Option<u32>,
    /// Below this many KB of vectors a segment is scanned rather than searched through the graph.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_scan_threshold: Option<u32>,
    /// Keep the graph on disk rather than in RAM.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_disk: Option<bool>,
}

impl IndexConfig {
    /// Qdrant's default `m`.
    pub const DEFAULT_M: u32 = 16;
    /// Qdrant's default `ef_construct`.
    pub const DEFAULT_EF_CONSTRUCT: u32 = 100;

    /// An HNSW index with the given `m` and `ef_construct`.
    pub fn hnsw(m: u32, ef_construct: u32) -> Self {
        Self {
            kind: IndexKind::Hnsw,
            m: Some(m),
            ef_construct: Some(ef_construct),
            full_scan_threshold: None,
            on_disk: None,
        }
    }

    /// No index.
    pub fn plain() -> Self {
        Self { kind: IndexKind::Plain, m: None, ef_construct: None, full_scan_threshold: None, on_disk: None }
    }
}

/// The element type of scalar quantization. Qdrant supports `int8` only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScalarType {
    /// 8-bit integers.
    Int8,
}

/// Product quantization's compression ratio.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProductCompression {
    /// 4× smaller.
    X4,
    /// 8× smaller.
    X8,
    /// 16× smaller.
    X16,
    /// 32× smaller.
    X32,
    /// 64× smaller.
    X64,
}

impl ProductCompression {
    /// Every ratio, smallest compression first.
    pub const ALL: [ProductCompression; 5] = [Self::X4, Self::X8, Self::X16, Self::X32, Self::X64];

    /// The wire name (`x4` … `x64`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::X4 => "x4",
            Self::X8 => "x8",
            Self::X16 => "x16",
            Self::X32 => "x32",
            Self::X64 => "x64",
        }
    }
}

impl fmt::Display for ProductCompression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Vector quantization, shaped as Qdrant's `quantization_config`.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Quantization {
    /// Scalar quantization.
    Scalar {
        /// Element type.
        #[serde(rename = "type")]
        scalar_type: ScalarType,
        /// Quantile used to clip outliers, in `0.5..=1.0`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        quantile: Option<f64>,
        /// Keep quantized vectors in RAM.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        always_ram: Option<bool>,
    },
    /// Product quantization.
    Product {
        /// Compression ratio.
        compression: ProductCompression,
        /// Keep quantized vectors in RAM.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        always_ram: Option<bool>,
    },
    /// Binary quantization.
    Binary {
        /// Keep quantized vectors in RAM.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        always_ram: Option<bool>,
    },
}

impl Quantization {
    /// The kinds qbench accepts, as the capabilities endpoint lists them.
    pub const KINDS: [&'static str; 3] = ["scalar", "product", "binary"];

    /// The kind's wire name.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Scalar { .. } => "scalar",
            Self::Product { .. } => "product",
            Self::Binary { .. } => "binary",
        }
    }
}

/// How vectors are indexed and quantized.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct OptimizerConfig {
    /// Index settings per named vector; a vector not listed gets Qdrant's defaults.
    #[serde(default)]
    pub indexing: BTreeMap<VectorName, IndexConfig>,
    /// Quantization applied to every vector, or none.
    #[serde(default)]
    pub quantization: Option<Quantization>,
}

/// Search-time use of quantized vectors (Qdrant's `QuantizationSearchParams`).
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SearchQuantization {
    /// Search the original vectors only, as if the collection were not quantized.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore: Option<bool>,
    /// Re-score the candidates with the original vectors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rescore: Option<bool>,
    /// Fetch `oversampling × k` candidates before re-scoring; at least 1.0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oversampling: Option<f64>,
}

/// The search for the cheapest `hnsw_ef` reaching a quality target: candidates are scored on one
/// quick pass over the queries (quality does not depend on timing), and only the one found is
/// measured with the run's passes and client counts.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EfSearch {
    /// Smallest `hnsw_ef` tried (at least `k`).
    pub min: u32,
    /// Largest `hnsw_ef` tried; measured first: if even it misses, the build cannot reach the
    /// target and it is what the run reports.
    pub max: u32,
    /// The quality to reach.
    pub metric: crate::study::QualityMetric,
    /// The value to reach, in (0, 1].
    pub target: f64,
}

/// How the test queries are run.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SearchConfig {
    /// Results per query (Qdrant's `limit`), and the `k` of precision@k / recall@k.
    pub k: u32,
    /// Each value is one search setting; empty means Qdrant's default `ef`.
    #[serde(default)]
    pub hnsw_ef: Vec<u32>,
    /// Instead of a list: find the smallest `hnsw_ef` in a range that reaches a quality target
    /// on the built index, by bisection, then measure that one setting in full.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hnsw_ef_search: Option<EfSearch>,
    /// Exact (brute-force) search instead of the index.
    #[serde(default)]
    pub exact: bool,
    /// Search-time quantization parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantization: Option<SearchQuantization>,
    /// Further search-time quantization parameters every `hnsw_ef` is also measured with, after
    /// `quantization`, at most [`SearchConfig::MAX_QUANTIZATION_SWEEP`]; only on a quantized
    /// collection.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub quantization_sweep: Vec<SearchQuantization>,
    /// Also measure exact search after the `hnsw_ef` settings, as the reference they trade
    /// quality against (on a quantized collection, ignoring the quantized vectors).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub with_exact: bool,
    /// Concurrent search clients.
    pub parallel: u32,
    /// Further client counts every setting is also measured with, after `parallel` (QPS against
    /// clients), at most [`SearchConfig::MAX_PARALLEL_SWEEP`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parallel_sweep: Vec<u32>,
    /// Use at most this many test queries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queries_limit: Option<u32>,
    /// Vectors to query; `None` means every vector of the experiment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vectors: Option<Vec<VectorName>>,
    /// Run even when the dataset's neighbours file disagrees with exact search under the declared
    /// distance (the mismatch is then recorded in the report instead of failing the run).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_ground_truth_mismatch: bool,
    /// Each search setting is measured for at least this many seconds per repetition, cycling
    /// through the queries after one full pass; `None` means the service's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_seconds: Option<f64>,
    /// Measured passes of each search setting, giving QPS and latency percentiles a confidence
    /// interval; `None` means the service's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repetitions: Option<u32>,
    /// The `hnsw_ef` whose figures the run's headline (`f1`, `p_95_latency`, `qps`) reports;
    /// `None` reports the setting with the best F1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_hnsw_ef: Option<u32>,
}

impl SearchConfig {
    /// The default `k`.
    pub const DEFAULT_K: u32 = 10;
    /// The default number of concurrent clients.
    pub const DEFAULT_PARALLEL: u32 = 1;
    /// Most further client counts a run measures.
    pub const MAX_PARALLEL_SWEEP: usize = 8;
    /// Most further quantization parameters a run measures.
    pub const MAX_QUANTIZATION_SWEEP: usize = 8;

    /// Every set of quantization parameters measured: `quantization`, then the sweep, each once.
    pub fn quantization_choices(&self) -> Vec<Option<SearchQuantization>> {
        let mut choices = vec![self.quantization.clone()];
        for choice in &self.quantization_sweep {
            if !choices.contains(&Some(choice.clone())) {
                choices.push(Some(choice.clone()));
            }
        }
        choices
    }

    /// Every client count measured: `parallel`, then the sweep, each once.
    pub fn client_counts(&self) -> Vec<u32> {
        let mut counts = vec![self.parallel.max(1)];
        for &count in &self.parallel_sweep {
            if !counts.contains(&count) {
                counts.push(count);
            }
        }
        counts
    }
}

impl Default for SearchConfig {
    fn default() -> Self {
        Self {
            k: Self::DEFAULT_K,
            hnsw_ef: Vec::new(),
            hnsw_ef_search: None,
            exact: false,
            quantization: None,
            quantization_sweep: Vec::new(),
            with_exact: false,
            parallel: Self::DEFAULT_PARALLEL,
            parallel_sweep: Vec::new(),
            queries_limit: None,
            vectors: None,
            allow_ground_truth_mismatch: false,
            min_seconds: None,
            repetitions: None,
            primary_hnsw_ef: None,
        }
    }
}

/// How the points are uploaded (the `upload_params` of Qdrant's own benchmarks); `None` means the
/// service's defaults.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct UploadConfig {
    /// Points per upsert request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_size: Option<u32>,
    /// Upsert requests in flight at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallel: Option<u32>,
    /// Upload only a seeded sample of the train points (a quick look, or a study's first round);
    /// the ground truth is then computed on the sample, never read from a file of the full data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample: Option<PointSample>,
}

/// What a user says about an experiment (serialisable so that a run keeps a copy of what it ran).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ExperimentSpec {
    /// Human-chosen name.
    pub name: String,
    /// The dataset to load.
    pub dataset_id: DatasetId,
    /// The Qdrant to load it into.
    pub connection_id: ConnectionId,
    /// Index and quantization settings.
    pub optimizer_config: OptimizerConfig,
    /// The vectors to create; `None` means every vector of the dataset.
    pub vector_config: Option<BTreeMap<VectorName, VectorSpec>>,
    /// Query settings.
    pub search_config: SearchConfig,
    /// Upload settings.
    pub upload_config: UploadConfig,
    /// Keep the collection after the run (for inspection) instead of dropping it.
    pub keep_collection: bool,
    /// Where the index comes from: `None` builds it (upload, then index); a snapshot restores
    /// an index built before, and the run measures search only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<IndexSource>,
}

/// An index built before, restored instead of built.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct IndexSource {
    /// A `READY` snapshot of a collection a run of the same dataset and vectors built.
    pub snapshot_id: SnapshotId,
}

impl ExperimentSpec {
    /// An experiment with default index, vector and search settings.
    pub fn new(name: impl Into<String>, dataset_id: DatasetId, connection_id: ConnectionId) -> Self {
        Self {
            name: name.into(),
            dataset_id,
            connection_id,
            optimizer_config: OptimizerConfig::default(),
            vector_config: None,
            search_config: SearchConfig::default(),
            upload_config: UploadConfig::default(),
            keep_collection: false,
            source: None,
        }
    }
}

/// A registered experiment.
#[derive(Clone, Debug, PartialEq)]
pub struct Experiment {
    /// Identifier.
    pub id: ExperimentId,
    /// The user's description of it.
    pub spec: ExperimentSpec,
    /// The user who registered it; only they and admins see it.
    pub owner: String,
    /// When it was registered.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl Experiment {
    /// A new experiment of `owner`, registered at `now`.
    pub fn new(spec: ExperimentSpec, owner: impl Into<String>, now: DateTime<Utc>) -> Self {
        Self { id: ExperimentId::new(), spec, owner: owner.into(), created_at: now, updated_at: now }
    }
}
