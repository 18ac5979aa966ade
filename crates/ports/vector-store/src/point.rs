//! Points: an id, its named vectors and its payload.

use qbench_domain::{PointId, VectorName};

/// One point to upsert.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// Its id.
    pub id: PointId,
    /// Its vectors, one per named vector of the collection.
    pub vectors: Vec<(VectorName, Vec<f32>)>,
    /// Its payload (the dataset's scalar fields).
    pub payload: serde_json::Map<String, serde_json::Value>,
}
