//! A `CollectionSpec` as Qdrant's `CreateCollection`, the switch that turns indexing on, and how to
//! tell that the index is finished from what the server reports.
//!
//! Deprecated fields are written and read on purpose: `on_disk` and `always_ram` are what every
//! server this client supports understands, while their replacement (`memory`) is ignored by older
//! servers, which would silently keep the graph or the quantized vectors elsewhere than asked.
#![allow(deprecated)]

use std::collections::HashMap;

use qbench_domain::{Distance, IndexConfig, ProductCompression, Quantization, ScalarType};
use qbench_vector_store::{CollectionSpec, HnswSettings, VectorStoreError};
use qdrant_client::qdrant::{
    self, BinaryQuantization, BinaryQuantizationEncoding, BinaryQuantizationQueryEncoding, CollectionStatus,
    CompressionRatio, CreateCollection, HnswConfigDiff, OptimizersConfigDiff, ProductQuantization, QuantizationConfig,
    QuantizationType, ScalarQuantization, UpdateCollection, VectorParams, VectorParamsMap, VectorsConfig,
    binary_quantization_query_encoding, quantization_config, vectors_config,
};

use crate::check_collection_name;

/// The indexing threshold that turns indexing off while points are uploaded: Qdrant reads 0 as
/// "never index" (as Qdrant's own benchmarks upload).
pub const INDEXING_OFF_KB: u64 = 0;

/// The indexing threshold `build_index` sets: the smallest that still means "on". A segment is
/// indexed once one of its vectors' storage reaches 1 KB, so in practice every segment is.
pub const INDEXING_ON_KB: u64 = 1;

const BYTES_IN_KB: u64 = 1024;
const BYTES_PER_COMPONENT: u64 = size_of::<f32>() as u64;

/// The request that creates `spec`'s collection, with indexing deferred.
///
/// - Every vector of `spec` becomes a named vector with its dimension and distance (a collection
///   of only the unnamed vector is created with Qdrant's single-vector form).
/// - Each vector gets its own `hnsw_config`: the spec's `m`, `ef_construct`, `full_scan_threshold`
///   and `on_disk`; `Plain` is `m = 0`, Qdrant's way of building no graph. A vector the spec does
///   not list gets Qdrant's `m` (16) and `ef_construct` (100).
/// - `full_scan_threshold` defaults to the lowest Qdrant accepts ([`Limits::MIN_FULL_SCAN_THRESHOLD`],
///   10 KB) instead of Qdrant's 10,000 KB: with Qdrant's default a segment of fewer than about
///   40,000 64-dimensional vectors is scanned rather than searched through its graph, and a
///   benchmark of a small collection would measure a full scan while reporting HNSW. The embedded
///   adapter does the same, so both engines measure the same index.
/// - The spec's quantization is the collection's `quantization_config` (binary quantization
///   spelled out as one bit per component with the query kept as it is, Qdrant's defaults, so the
///   configuration recorded with a run says what was measured).
/// - `optimizers_config.indexing_threshold` is [`INDEXING_OFF_KB`]; [`enable_indexing_request`]
///   turns indexing on.
///
/// # Errors
/// `Rejected`, naming every problem at once, when the name lacks the `qbench-` prefix, the spec
/// has no vector, indexes a vector it does not declare, or has an `ef_construct` or
/// `full_scan_threshold` below what Qdrant accepts.
pub fn create_collection_request(spec: &CollectionSpec) -> Result<CreateCollection, VectorStoreError> {
    let mut problems = Vec::new();
    if let Err(VectorStoreError::Rejected(problem)) = check_collection_name(&spec.name) {
        problems.push(problem);
    }
    problems.extend(spec.problems());
    if !problems.is_empty() {
        return Err(VectorStoreError::Rejected(problems.join("; ")));
    }

    let mut vectors: HashMap<String, VectorParams> = spec
        .vectors
        .iter()
        .map(|(name, vector)| {
            let params = VectorParams {
                size: u64::from(vector.dim.get()),
                distance: distance(vector.distance) as i32,
                hnsw_config: Some(hnsw_config(spec.hnsw(name))),
                ..Default::default()
            };
            (name.as_str().to_owned(), params)
        })
        .collect();
    let config = match vectors.remove("") {
        // Only the unnamed vector: Qdrant's single-vector form.
        Some(single) if vectors.is_empty() => vectors_config::Config::Params(single),
        unnamed => {
            vectors.extend(unnamed.map(|params| (String::new(), params)));
            vectors_config::Config::ParamsMap(VectorParamsMap { map: vectors })
        }
    };

    Ok(CreateCollection {
        collection_name: spec.name.clone(),
        vectors_config: Some(VectorsConfig { config: Some(config) }),
        quantization_config: spec.quantization.as_ref().map(quantization_config),
        optimizers_config: Some(OptimizersConfigDiff {
            indexing_threshold: Some(INDEXING_OFF_KB),
            ..Default::default()
        }),
        ..Default::default()
    })
}

/// The request that switches indexing on for `collection`: `indexing_threshold` back to
/// [`INDEXING_ON_KB`]. Qdrant re-plans its optimizations when the optimizer configuration changes,
/// so indexing starts without further points.
pub fn enable_indexing_request(collection: &str) -> UpdateCollection {
    UpdateCollection {
        collection_name: collection.to_owned(),
        optimizers_config: Some(OptimizersConfigDiff {
            indexing_threshold: Some(INDEXING_ON_KB),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The HNSW settings of one vector (see [`create_collection_request`]).
fn hnsw_config(settings: HnswSettings) -> HnswConfigDiff {
    HnswConfigDiff {
        m: Some(u64::from(settings.m)),
        ef_construct: Some(u64::from(settings.ef_construct)),
        full_scan_threshold: Some(u64::from(settings.full_scan_threshold)),
        on_disk: settings.on_disk,
        ..Default::default()
    }
}

fn quantization_config(quantization: &Quantization) -> QuantizationConfig {
    let quantization = match quantization {
        Quantization::Scalar { scalar_type, quantile, always_ram } => {
            quantization_config::Quantization::Scalar(ScalarQuantization {
                r#type: match scalar_type {
                    ScalarType::Int8 => QuantizationType::Int8 as i32,
                },
                // Qdrant's wire type is f32; quantiles are in 0.5..=1.0, where f32 is exact enough.
                quantile: quantile.map(|quantile| quantile as f32),
                always_ram: *always_ram,
                ..Default::default()
            })
        }
        Quantization::Product { compression, always_ram } => {
            quantization_config::Quantization::Product(ProductQuantization {
                compression: compression_ratio(*compression) as i32,
                always_ram: *always_ram,
                ..Default::default()
            })
        }
        Quantization::Binary { always_ram } => quantization_config::Quantization::Binary(BinaryQuantization {
            always_ram: *always_ram,
            encoding: Some(BinaryQuantizationEncoding::OneBit as i32),
            query_encoding: Some(BinaryQuantizationQueryEncoding {
                variant: Some(binary_quantization_query_encoding::Variant::Setting(
                    binary_quantization_query_encoding::Setting::Default as i32,
                )),
            }),
            ..Default::default()
        }),
    };
    QuantizationConfig { quantization: Some(quantization) }
}

fn compression_ratio(compression: ProductCompression) -> CompressionRatio {
    match compression {
        ProductCompression::X4 => CompressionRatio::X4,
        ProductCompression::X8 => CompressionRatio::X8,
        ProductCompression::X16 => CompressionRatio::X16,
        ProductCompression::X32 => CompressionRatio::X32,
        ProductCompression::X64 => CompressionRatio::X64,
    }
}

fn distance(distance: Distance) -> qdrant::Distance {
    match distance {
        Distance::Cosine => qdrant::Distance::Cosine,
        Distance::Euclid => qdrant::Distance::Euclid,
        Distance::Dot => qdrant::Distance::Dot,
        Distance::Manhattan => qdrant::Distance::Manhattan,
    }
}

/// How far a collection's indexing has come, from one `collection_info` answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexProgress {
    /// The collection is green (no optimization is running or planned) and no update is queued.
    pub green: bool,
    /// Points stored.
    pub points: u64,
    /// Vectors covered by an index, as the server counts them.
    pub indexed: u64,
    /// Vectors the finished index covers: every point of every vector with a graph (`m > 0`).
    /// 0 when the collection is too small for even the lowest indexing threshold (1 KB of its
    /// widest vector), which Qdrant never indexes and scans anyway.
    pub expected: u64,
}

impl IndexProgress {
    /// The index is finished: the collection is green and covers every vector it should.
    pub fn is_complete(&self) -> bool {
        self.green && self.indexed >= self.expected
    }
}

/// Reads the indexing progress of a collection from its `collection_info`.
///
/// Qdrant counts a vector as indexed only in a segment that has been indexed, and indexes a
/// segment only once its storage for some vector reaches the indexing threshold; a vector whose
/// HNSW `m` is 0 (`Plain`) has no graph. The expected count therefore is points × vectors with a
/// graph, compared with `>=` because the server may count graph-less vectors of indexed segments.
///
/// # Errors
/// `Internal` with the optimizer's message when the collection is red or an optimizer failed.
pub fn index_progress(info: &qdrant::CollectionInfo) -> Result<IndexProgress, VectorStoreError> {
    let status = info.status();
    let optimizer_error = info.optimizer_status.as_ref().filter(|status| !status.ok).map(|status| status.error.clone());
    if status == CollectionStatus::Red || optimizer_error.is_some() {
        let message = optimizer_error.filter(|error| !error.is_empty()).unwrap_or_else(|| "no message".to_owned());
        return Err(VectorStoreError::Internal(format!("the collection's optimizer failed: {message}")));
    }
    let points = info.points_count.unwrap_or(0);
    let (widest, graph_vectors) = graph_vectors(info.config.as_ref());
    let smallest_indexed = INDEXING_ON_KB * BYTES_IN_KB;
    let expected = if points.saturating_mul(widest).saturating_mul(BYTES_PER_COMPONENT) < smallest_indexed {
        0
    } else {
        points.saturating_mul(graph_vectors)
    };
    // Updates still queued (servers that report the queue) are work the optimizers have not seen.
    let queued = info.update_queue.as_ref().map_or(0, |queue| queue.length);
    Ok(IndexProgress {
        green: status == CollectionStatus::Green && queued == 0,
        points,
        indexed: info.indexed_vectors_count.unwrap_or(0),
        expected,
    })
}

/// The widest dimension of the collection's vectors, and how many of them get a graph (their own
/// `m`, else the collection's, else Qdrant's default, is above 0).
fn graph_vectors(config: Option<&qdrant::CollectionConfig>) -> (u64, u64) {
    let Some(config) = config else { return (0, 0) };
    let collection_m = config.hnsw_config.as_ref().and_then(|hnsw| hnsw.m);
    let vectors: Vec<&VectorParams> = match config
        .params
        .as_ref()
        .and_then(|params| params.vectors_config.as_ref())
        .and_then(|vectors| vectors.config.as_ref())
    {
        Some(vectors_config::Config::Params(params)) => vec![params],
        Some(vectors_config::Config::ParamsMap(map)) => map.map.values().collect(),
        None => Vec::new(),
    };
    let widest = vectors.iter().map(|params| params.size).max().unwrap_or(0);
    let with_graph = vectors
        .iter()
        .filter(|params| {
            let m = params.hnsw_config.as_ref().and_then(|hnsw| hnsw.m).or(collection_m);
            m.unwrap_or(u64::from(IndexConfig::DEFAULT_M)) > 0
        })
        .count() as u64;
    (widest, with_graph)
}
