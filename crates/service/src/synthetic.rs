//! Synthetic datasets with their exact neighbours, in the directory layout, for `qbench dataset
//! generate`, tests and benchmarks.

use qbench_domain::neighbors::{TopK, offer_batch};
use qbench_domain::synthetic::{SyntheticSpec, generate};
use qbench_domain::{PointId, SchemaConfig, VectorName, VectorSpec};
use qbench_storage::{GeneratedDataset, NeighborLists, PointBatch};

/// The dataset `spec` describes: points with a `cluster` payload, queries, and for each vector
/// the `k` exact neighbours of each query under that vector's distance (one list per query),
/// computed on every core.
pub fn synthetic_dataset(spec: &SyntheticSpec, k: usize) -> GeneratedDataset {
    let vectors = generate(spec);
    let train = PointBatch {
        first_row: 0,
        ids: (0..spec.rows as u64).map(PointId::Num).collect(),
        vectors: vectors.points,
        payloads: vectors
            .point_clusters
            .iter()
            .map(|cluster| serde_json::Map::from_iter([("cluster".to_owned(), serde_json::json!(cluster))]))
            .collect(),
    };
    let test = PointBatch {
        first_row: 0,
        ids: (0..spec.queries as u64).map(PointId::Num).collect(),
        vectors: vectors.queries,
        payloads: vec![serde_json::Map::new(); spec.queries],
    };
    let neighbors = spec
        .vectors
        .iter()
        .map(|(name, vector)| (name.clone(), exact_neighbors(&train, &test, name, vector, k)))
        .collect();
    let schema = SchemaConfig { scalar_fields: vec!["cluster".to_owned()], vectors: spec.vectors.clone() };
    GeneratedDataset { schema, train, test, neighbors }
}

/// The `k` exact neighbours among `train` of each query of `test`, for vector `name`.
fn exact_neighbors(
    train: &PointBatch,
    test: &PointBatch,
    name: &VectorName,
    vector: &VectorSpec,
    k: usize,
) -> NeighborLists {
    let dim = vector.dim.get() as usize;
    let (Some(points), Some(query_values)) = (train.vectors.get(name), test.vectors.get(name)) else {
        return NeighborLists::new();
    };
    let queries: Vec<&[f32]> = query_values.chunks_exact(dim).collect();
    let mut tops = vec![TopK::new(k); queries.len()];
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let chunk = queries.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        for (query_chunk, top_chunk) in queries.chunks(chunk).zip(tops.chunks_mut(chunk)) {
            let ids = &train.ids;
            scope.spawn(move || offer_batch(vector.distance, dim, ids, points, query_chunk, top_chunk));
        }
    });
    test.ids
        .iter()
        .zip(tops)
        .map(|(id, top)| (*id, top.into_sorted().into_iter().map(|(id, _)| id).collect()))
        .collect()
}
