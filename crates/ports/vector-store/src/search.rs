//! Searches: one query vector against one named vector.

use std::time::Duration;

use qbench_domain::{PointId, SearchQuantization, VectorName};

/// Search-time parameters (Qdrant's `SearchParams`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchParams {
    /// Candidate list size of the HNSW search; `None` is the engine's default.
    pub hnsw_ef: Option<u32>,
    /// Exact (brute-force) search.
    pub exact: bool,
    /// Use of quantized vectors.
    pub quantization: Option<SearchQuantization>,
}

/// One query.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SearchRequest<'a> {
    /// The named vector searched.
    pub vector: &'a VectorName,
    /// The query vector.
    pub query: &'a [f32],
    /// Results wanted.
    pub k: u32,
    /// Parameters.
    pub params: &'a SearchParams,
}

/// One result.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoredPoint {
    /// The point.
    pub id: PointId,
    /// Its score under the vector's distance.
    pub score: f32,
}

/// The answer to one query.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchResponse {
    /// Results, best first.
    pub points: Vec<ScoredPoint>,
    /// The engine's own time for the query, when it reports one.
    pub server_time: Option<Duration>,
}
