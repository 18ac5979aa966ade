//! Points: an id, its named vectors and its payload.

use std::fmt;

use qbench_domain::VectorName;
use uuid::Uuid;

/// A point id as Qdrant accepts it: an unsigned integer or a UUID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PointId {
    /// A numeric id.
    Num(u64),
    /// A UUID id (string ids of a dataset are mapped to stable UUIDs).
    Uuid(Uuid),
}

impl fmt::Display for PointId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Num(id) => id.fmt(f),
            Self::Uuid(id) => id.fmt(f),
        }
    }
}

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
