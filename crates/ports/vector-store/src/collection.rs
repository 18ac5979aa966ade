//! Collections: what is created for a run, and what the engine reports about it.

use std::collections::BTreeMap;

use qbench_domain::{IndexConfig, Quantization, VectorName, VectorSpec};

/// A collection to create for one run.
#[derive(Debug, Clone, PartialEq)]
pub struct CollectionSpec {
    /// Collection name (`qbench-<run id>`); qbench never touches a collection it did not create.
    pub name: String,
    /// The named vectors, with dimension and distance.
    pub vectors: BTreeMap<VectorName, VectorSpec>,
    /// Index settings per vector; a vector not listed gets the engine's defaults.
    pub indexing: BTreeMap<VectorName, IndexConfig>,
    /// Quantization of every vector.
    pub quantization: Option<Quantization>,
}

/// What the engine reports about a collection.
#[derive(Debug, Clone, PartialEq)]
pub struct CollectionInfo {
    /// Points stored.
    pub points: u64,
    /// Vectors covered by an index (all named vectors together).
    pub indexed_vectors: u64,
    /// Segments.
    pub segments: u64,
    /// The collection configuration as the engine reports it, for the run's provenance.
    pub config: serde_json::Value,
}

/// Which engine answers, for the run's provenance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineInfo {
    /// `qdrant-edge` (embedded) or `qdrant` (remote).
    pub engine: String,
    /// The engine's version.
    pub version: String,
}
