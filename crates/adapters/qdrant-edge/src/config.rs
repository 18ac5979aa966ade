//! A `CollectionSpec` as an `EdgeConfig`, and what the finished index has to cover.

use std::collections::BTreeMap;

use qbench_domain::{Dimension, Distance, ProductCompression, Quantization, ScalarType, VectorName, VectorSpec};
use qbench_vector_store::{CollectionSpec, HnswSettings, VectorStoreError};
use qdrant_edge::{
    BinaryQuantizationConfig, BinaryQuantizationEncoding, BinaryQuantizationQueryEncoding, CompressionRatio,
    EdgeConfig, EdgeOptimizersConfig, EdgeVectorParams, HnswIndexConfig, ProductQuantizationConfig, QuantizationConfig,
    ScalarQuantizationConfig,
};

/// The indexing threshold that turns the indexer off: the engine reads 0 as "never".
pub(crate) const INDEXING_OFF_KB: usize = 0;

/// The smallest indexing threshold that still means "on": a segment whose largest vector
/// storage reaches 1 KB is indexed.
pub(crate) const INDEXING_ON_KB: usize = 1;

const BYTES_IN_KB: u64 = 1024;
const BYTES_PER_COMPONENT: u64 = size_of::<f32>() as u64;

/// The shape of a collection, kept next to its shard: the dimensions requests are checked
/// against, and which vectors the finished index must cover.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Layout {
    /// The dimension of every named vector.
    dims: BTreeMap<String, usize>,
    /// Which parts of every named vector the engine keeps in RAM.
    in_ram: BTreeMap<String, InRam>,
}

/// Which parts of a vector the engine loads into RAM rather than memory-maps from disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct InRam {
    /// The original vectors (`on_disk: false`).
    pub(crate) vectors: bool,
    /// The HNSW graph (`hnsw_config.on_disk: false`).
    pub(crate) index: bool,
    /// The quantized vectors: Qdrant loads them when the original vectors are in RAM or
    /// `always_ram` is set.
    pub(crate) quantized: bool,
}

impl Layout {
    /// The dimension of the vector called `name`, if the collection has it.
    pub(crate) fn dim(&self, name: &str) -> Option<usize> {
        self.dims.get(name).copied()
    }

    /// The names of the collection's vectors.
    pub(crate) fn vector_names(&self) -> Vec<String> {
        self.dims.keys().cloned().collect()
    }

    /// A layout of vectors all kept in RAM.
    #[cfg(test)]
    pub(crate) fn for_test(dims: &[(&str, usize)]) -> Self {
        let in_ram = InRam { vectors: true, index: true, quantized: true };
        Self {
            dims: dims.iter().map(|(name, dim)| ((*name).to_owned(), *dim)).collect(),
            in_ram: dims.iter().map(|(name, _)| ((*name).to_owned(), in_ram)).collect(),
        }
    }

    /// Which parts of the vector called `name` are kept in RAM, if the collection has it.
    pub(crate) fn in_ram(&self, name: &str) -> Option<InRam> {
        self.in_ram.get(name).copied()
    }

    /// The names of the collection's vectors, for error messages.
    pub(crate) fn names(&self) -> String {
        let names: Vec<String> = self.dims.keys().map(|name| format!("`{name}`")).collect();
        names.join(", ")
    }

    /// The layout of a collection loaded from disk, read from its shard's configuration: each
    /// dense vector's dimension, and which of its parts the engine keeps in RAM (as
    /// [`edge_config`] sets them, or as any `EdgeConfig` says).
    pub(crate) fn from_edge_config(config: &EdgeConfig) -> Self {
        let (mut dims, mut in_ram) = (BTreeMap::new(), BTreeMap::new());
        for (name, vector) in &config.vectors {
            let vectors = !vector.on_disk.unwrap_or(false);
            let hnsw = vector.hnsw_config.unwrap_or(config.hnsw_config);
            let always_ram = vector
                .quantization_config
                .as_ref()
                .or(config.quantization_config.as_ref())
                .is_some_and(QuantizationConfig::always_ram);
            dims.insert(name.clone(), vector.size);
            in_ram.insert(
                name.clone(),
                InRam { vectors, index: !hnsw.on_disk.unwrap_or(false), quantized: vectors || always_ram },
            );
        }
        Self { dims, in_ram }
    }

    /// The indexed vectors `build_index` must reach for `points` points: every point of every
    /// vector. The engine counts a vector as indexed once its segment is optimized, graph or not,
    /// so a `Plain` vector (`m = 0`) counts too. A collection too small to cross the lowest
    /// indexing threshold (1 KB for its widest vector) is never indexed, and is scanned anyway.
    pub(crate) fn expected_indexed(&self, points: u64) -> u64 {
        let widest = self.dims.values().copied().max().unwrap_or(0) as u64;
        if points * widest * BYTES_PER_COMPONENT < INDEXING_ON_KB as u64 * BYTES_IN_KB {
            0
        } else {
            points * self.dims.len() as u64
        }
    }
}

/// The engine configuration of `spec`, with indexing deferred, and its layout.
///
/// Every vector is stored in RAM. Its index follows `spec.indexing` (see the crate documentation
/// for the defaults and the full-scan threshold); the spec's quantization is set on every vector.
///
/// # Errors
/// `Rejected`, naming every problem, when the spec has no vector, indexes a vector it does not
/// declare, or has an `ef_construct` or `full_scan_threshold` below what Qdrant accepts.
pub(crate) fn edge_config(spec: &CollectionSpec) -> Result<(EdgeConfig, Layout), VectorStoreError> {
    let mut problems = Vec::new();
    problems.extend(spec.problems());
    if !problems.is_empty() {
        return Err(VectorStoreError::Rejected(problems.join("; ")));
    }

    let quantization = spec.quantization.as_ref().map(quantization_config);
    let mut builder = EdgeConfig::builder();
    let (mut dims, mut in_ram) = (BTreeMap::new(), BTreeMap::new());
    for (name, vector) in &spec.vectors {
        let settings = spec.hnsw(name);
        // Vectors are always in RAM here (`on_disk(false)`), so their quantized form is too.
        in_ram.insert(
            name.as_str().to_owned(),
            InRam { vectors: true, index: !settings.on_disk.unwrap_or(false), quantized: true },
        );
        let hnsw = hnsw_config(settings);
        let dim = vector.dim.get() as usize;
        let mut params = EdgeVectorParams::builder(dim, distance(vector.distance)).hnsw_config(hnsw).on_disk(false);
        if let Some(quantization) = &quantization {
            params = params.quantization_config(quantization.clone());
        }
        builder = builder.vector(name.as_str(), params.build());
        dims.insert(name.as_str().to_owned(), dim);
    }
    let config = builder
        .optimizers(EdgeOptimizersConfig { indexing_threshold: Some(INDEXING_OFF_KB), ..Default::default() })
        .build();
    Ok((config, Layout { dims, in_ram }))
}

/// The engine's form of a vector's HNSW settings, building on every core.
fn hnsw_config(settings: HnswSettings) -> HnswIndexConfig {
    HnswIndexConfig {
        m: settings.m as usize,
        ef_construct: settings.ef_construct as usize,
        full_scan_threshold: settings.full_scan_threshold as usize,
        // 0 lets the engine use every core.
        max_indexing_threads: 0,
        on_disk: Some(settings.on_disk.unwrap_or(false)),
        payload_m: None,
        inline_storage: None,
    }
}

fn quantization_config(quantization: &Quantization) -> QuantizationConfig {
    match quantization {
        Quantization::Scalar { scalar_type, quantile, always_ram } => ScalarQuantizationConfig {
            r#type: match scalar_type {
                ScalarType::Int8 => qdrant_edge::ScalarType::Int8,
            },
            quantile: quantile.map(|quantile| quantile as f32),
            always_ram: *always_ram,
        }
        .into(),
        Quantization::Product { compression, always_ram } => {
            ProductQuantizationConfig { compression: compression_ratio(*compression), always_ram: *always_ram }.into()
        }
        // One bit per component, and the query kept as it is: Qdrant's defaults, spelled out so
        // the configuration in the run's provenance says what was measured.
        Quantization::Binary { always_ram } => BinaryQuantizationConfig {
            always_ram: *always_ram,
            encoding: Some(BinaryQuantizationEncoding::OneBit),
            query_encoding: Some(BinaryQuantizationQueryEncoding::Default),
        }
        .into(),
    }
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

/// The vectors of a collection as its engine configuration declares them: name, dimension and
/// distance (`""` is the unnamed vector).
pub(crate) fn vectors_of(config: &EdgeConfig) -> Result<BTreeMap<VectorName, VectorSpec>, VectorStoreError> {
    let unreadable = |name: &str, error: &dyn std::fmt::Display| {
        VectorStoreError::Internal(format!("the engine's vector `{name}` does not read back: {error}"))
    };
    config
        .vectors
        .iter()
        .map(|(name, params)| {
            let vector = if name.is_empty() { Ok(VectorName::unnamed()) } else { name.parse::<VectorName>() };
            let vector = vector.map_err(|error| unreadable(name, &error))?;
            let dim = u32::try_from(params.size).map_err(|error| unreadable(name, &error))?;
            let dim = Dimension::new(dim).map_err(|error| unreadable(name, &error))?;
            Ok((vector, VectorSpec::new(dim, distance_of(params.distance))))
        })
        .collect()
}

fn distance_of(distance: qdrant_edge::Distance) -> Distance {
    match distance {
        qdrant_edge::Distance::Cosine => Distance::Cosine,
        qdrant_edge::Distance::Euclid => Distance::Euclid,
        qdrant_edge::Distance::Dot => Distance::Dot,
        qdrant_edge::Distance::Manhattan => Distance::Manhattan,
    }
}

fn distance(distance: Distance) -> qdrant_edge::Distance {
    match distance {
        Distance::Cosine => qdrant_edge::Distance::Cosine,
        Distance::Euclid => qdrant_edge::Distance::Euclid,
        Distance::Dot => qdrant_edge::Distance::Dot,
        Distance::Manhattan => qdrant_edge::Distance::Manhattan,
    }
}

#[cfg(test)]
mod tests {
    use qbench_domain::{Dimension, IndexConfig, VectorName, VectorSpec};

    use super::*;

    fn name(name: &str) -> VectorName {
        name.parse().unwrap()
    }

    fn spec() -> CollectionSpec {
        CollectionSpec {
            name: "c".to_owned(),
            vectors: [
                (name("text"), VectorSpec::new(Dimension::new(32).unwrap(), Distance::Cosine)),
                (name("image"), VectorSpec::new(Dimension::new(16).unwrap(), Distance::Euclid)),
            ]
            .into(),
            indexing: [(name("image"), IndexConfig::plain())].into(),
            quantization: Some(Quantization::Product { compression: ProductCompression::X8, always_ram: None }),
        }
    }

    #[test]
    fn vectors_keep_their_shape_defer_indexing_and_default_to_a_low_full_scan_threshold() {
        let (config, layout) = edge_config(&spec()).unwrap();
        assert_eq!(config.optimizers.indexing_threshold, Some(INDEXING_OFF_KB));
        let text = &config.vectors["text"];
        assert_eq!((text.size, text.distance), (32, qdrant_edge::Distance::Cosine));
        let hnsw = text.hnsw_config.unwrap();
        assert_eq!((hnsw.m, hnsw.ef_construct, hnsw.full_scan_threshold), (16, 100, 10));
        assert_eq!(config.vectors["image"].hnsw_config.map(|hnsw| hnsw.m), Some(0));
        assert!(matches!(text.quantization_config, Some(QuantizationConfig::Product(_))));
        assert_eq!(layout.dim("image"), Some(16));
        assert_eq!(layout.dim("audio"), None);
    }

    #[test]
    fn the_layout_read_back_from_the_engine_configuration_is_the_one_created() {
        let mut spec = spec();
        let (config, layout) = edge_config(&spec).unwrap();
        assert_eq!(Layout::from_edge_config(&config), layout);
        spec.indexing.insert(name("text"), IndexConfig { on_disk: Some(true), ..IndexConfig::hnsw(16, 100) });
        let (config, layout) = edge_config(&spec).unwrap();
        assert_eq!(layout.in_ram("text").map(|in_ram| in_ram.index), Some(false));
        assert_eq!(Layout::from_edge_config(&config), layout);
        // Vectors on disk keep their quantized form in RAM only when `always_ram` says so.
        let mut config = config;
        for vector in config.vectors.values_mut() {
            vector.on_disk = Some(true);
        }
        let on_disk = Layout::from_edge_config(&config);
        assert_eq!(on_disk.in_ram("image"), Some(InRam { vectors: false, index: true, quantized: false }));
    }

    #[test]
    fn the_vectors_read_back_from_the_engine_configuration_are_the_ones_created() {
        let (config, _) = edge_config(&spec()).unwrap();
        assert_eq!(vectors_of(&config).unwrap(), spec().vectors);
    }

    #[test]
    fn every_vector_of_a_collection_above_one_kb_is_expected_indexed() {
        let (_, layout) = edge_config(&spec()).unwrap();
        // 32 components × 4 bytes × 8 points = 1 KB: indexed, the plain vector too; 7 points are not.
        assert_eq!(layout.expected_indexed(8), 16);
        assert_eq!(layout.expected_indexed(7), 0);
        assert_eq!(layout.expected_indexed(0), 0);
    }

    #[test]
    fn every_problem_of_a_spec_is_named() {
        let mut spec = spec();
        spec.indexing.insert(
            name("audio"),
            IndexConfig { ef_construct: Some(2), full_scan_threshold: Some(5), ..IndexConfig::hnsw(16, 100) },
        );
        let Err(VectorStoreError::Rejected(message)) = edge_config(&spec) else { panic!("accepted") };
        assert!(message.contains("`audio`, which the collection does not have"), "{message}");
        assert!(message.contains("ef_construct 2"), "{message}");
        assert!(message.contains("full_scan_threshold 5 is outside 10..=100000000"), "{message}");
    }

    /// Regression (issue 11): `m` 4294967295 reached the engine, whose graph builder asked for
    /// 34 GB and aborted the process. The adapter refuses it itself, whatever the caller checked.
    #[test]
    fn m_4294967295_reached_the_engine_and_is_now_rejected() {
        let mut spec = spec();
        let vector = spec.vectors.keys().next().unwrap().clone();
        spec.indexing.insert(vector, IndexConfig::hnsw(u32::MAX, 100));
        let Err(VectorStoreError::Rejected(message)) = edge_config(&spec) else { panic!("accepted") };
        assert!(message.contains("m 4294967295 is outside 0..=512"), "{message}");
    }
}
