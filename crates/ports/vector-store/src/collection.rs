//! Collections: what is created for a run, and what the engine reports about it.

use std::collections::BTreeMap;

use qbench_domain::{IndexConfig, Limits, Quantization, VectorName, VectorSpec};

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

impl CollectionSpec {
    /// Everything that makes the spec unusable by any Qdrant: no vector, indexing of a vector the
    /// collection lacks, `ef_construct` or `full_scan_threshold` below Qdrant's minimum. Adapters
    /// refuse such a spec as `Rejected` with all of these at once.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.vectors.is_empty() {
            problems.push("a collection needs at least one vector".to_owned());
        }
        for (name, index) in &self.indexing {
            if !self.vectors.contains_key(name) {
                problems.push(format!("indexing names vector `{name}`, which the collection does not have"));
            }
            if let Some(ef_construct) = index.ef_construct
                && ef_construct < Limits::MIN_EF_CONSTRUCT
            {
                problems.push(format!(
                    "vector `{name}`: ef_construct {ef_construct} is below {}",
                    Limits::MIN_EF_CONSTRUCT
                ));
            }
            if let Some(threshold) = index.full_scan_threshold
                && threshold < Limits::MIN_FULL_SCAN_THRESHOLD
            {
                problems.push(format!(
                    "vector `{name}`: full_scan_threshold {threshold} KB is below {} KB",
                    Limits::MIN_FULL_SCAN_THRESHOLD
                ));
            }
        }
        problems
    }
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
