//! Decoded rows.

use std::collections::BTreeMap;

use qbench_domain::{PointId, VectorName};

/// Consecutive rows of a dataset part, decoded.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PointBatch {
    /// Index of the first row within the part (rows are numbered across files in file order), so a
    /// deterministic sample of rows can be held out as queries.
    pub first_row: u64,
    /// Point ids, one per row.
    pub ids: Vec<PointId>,
    /// Each named vector's values, row after row (`ids.len() × dim` floats).
    pub vectors: BTreeMap<VectorName, Vec<f32>>,
    /// The scalar fields of each row (the point payload); empty maps when none are configured.
    pub payloads: Vec<serde_json::Map<String, serde_json::Value>>,
}

impl PointBatch {
    /// Rows in the batch.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether the batch has no rows.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

/// A ground-truth file: for each query id, its nearest neighbours' ids, nearest first.
pub type NeighborLists = Vec<(PointId, Vec<PointId>)>;
