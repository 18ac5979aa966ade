//! Seeded clustered data, collections loaded from it, and recall against the domain's brute force.

use std::collections::{BTreeMap, HashSet};

use qbench_domain::neighbors::{TopK, offer_batch};
use qbench_domain::synthetic::{SyntheticSpec, SyntheticVectors, generate};
use qbench_domain::{
    Dimension, Distance, IndexConfig, PointId, Quantization, SearchQuantization, VectorName, VectorSpec,
};
use qbench_qdrant_edge::EmbeddedEngine;
use qbench_vector_store::{CollectionSpec, Point, SearchParams, SearchRequest, VectorStore};
use tempfile::TempDir;

/// Results per query.
pub(crate) const K: u32 = 10;
/// Points upserted per call.
const BATCH: usize = 500;

/// An engine in a fresh directory, deleted with it.
pub(crate) struct Fixture {
    pub(crate) engine: EmbeddedEngine,
    pub(crate) dir: TempDir,
}

impl Fixture {
    pub(crate) fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        Self { engine: EmbeddedEngine::new(dir.path().join("engine")), dir }
    }
}

pub(crate) fn name(name: &str) -> VectorName {
    name.parse().unwrap()
}

pub(crate) fn vector(dim: u32, distance: Distance) -> VectorSpec {
    VectorSpec::new(Dimension::new(dim).unwrap(), distance)
}

/// A collection of `vectors`, each indexed with HNSW `m` 16 and `ef_construct` 100 unless
/// `indexing` says otherwise.
pub(crate) fn spec(
    collection: &str,
    vectors: &[(&str, VectorSpec)],
    indexing: &[(&str, IndexConfig)],
    quantization: Option<Quantization>,
) -> CollectionSpec {
    let mut index: BTreeMap<VectorName, IndexConfig> =
        vectors.iter().map(|(vector, _)| (name(vector), IndexConfig::hnsw(16, 100))).collect();
    index.extend(indexing.iter().map(|(vector, config)| (name(vector), config.clone())));
    CollectionSpec {
        name: collection.to_owned(),
        vectors: vectors.iter().map(|(vector, spec)| (name(vector), spec.clone())).collect(),
        indexing: index,
        quantization,
    }
}

/// A data set for a collection: its points (numeric ids `0..rows`) and queries.
pub(crate) struct Data {
    pub(crate) spec: CollectionSpec,
    pub(crate) vectors: SyntheticVectors,
    pub(crate) ids: Vec<PointId>,
    queries: usize,
}

impl Data {
    /// Seeded clustered vectors for every vector of `spec`.
    pub(crate) fn generate(spec: &CollectionSpec, rows: usize, queries: usize, seed: u64) -> Self {
        let vectors = generate(&SyntheticSpec { rows, queries, vectors: spec.vectors.clone(), clusters: 16, seed });
        Self { spec: spec.clone(), vectors, ids: (0..rows as u64).map(PointId::Num).collect(), queries }
    }

    /// The same data under other ids.
    pub(crate) fn with_ids(mut self, ids: Vec<PointId>) -> Self {
        assert_eq!(ids.len(), self.ids.len());
        self.ids = ids;
        self
    }

    fn dim(&self, vector: &VectorName) -> usize {
        self.spec.vectors[vector].dim.get() as usize
    }

    /// The points, each with every vector and its cluster as payload.
    pub(crate) fn points(&self) -> Vec<Point> {
        self.ids
            .iter()
            .enumerate()
            .map(|(row, id)| Point {
                id: *id,
                vectors: self
                    .vectors
                    .points
                    .iter()
                    .map(|(vector, values)| {
                        let dim = self.dim(vector);
                        (vector.clone(), values[row * dim..(row + 1) * dim].to_vec())
                    })
                    .collect(),
                payload: serde_json::json!({ "cluster": self.vectors.point_clusters[row] })
                    .as_object()
                    .cloned()
                    .unwrap(),
            })
            .collect()
    }

    /// The queries of `vector`.
    pub(crate) fn queries(&self, vector: &str) -> Vec<&[f32]> {
        let vector = name(vector);
        self.vectors.queries[&vector].chunks_exact(self.dim(&vector)).take(self.queries).collect()
    }

    /// The exact `K` nearest points of every query of `vector`, by the domain's brute force.
    pub(crate) fn ground_truth(&self, vector: &str) -> Vec<Vec<PointId>> {
        let queries = self.queries(vector);
        let vector = name(vector);
        let spec = &self.spec.vectors[&vector];
        let mut tops: Vec<TopK> = queries.iter().map(|_| TopK::new(K as usize)).collect();
        offer_batch(spec.distance, self.dim(&vector), &self.ids, &self.vectors.points[&vector], &queries, &mut tops);
        tops.into_iter().map(|top| top.into_sorted().into_iter().map(|(id, _)| id).collect()).collect()
    }
}

/// Creates the collection of `data`, upserts its points in batches and builds the index.
pub(crate) async fn load(engine: &EmbeddedEngine, data: &Data) {
    engine.create_collection(&data.spec).await.unwrap();
    for batch in data.points().chunks(BATCH) {
        engine.upsert(&data.spec.name, batch).await.unwrap();
    }
    engine.build_index(&data.spec.name).await.unwrap();
}

/// Search parameters: HNSW with `ef`, or exact.
pub(crate) fn hnsw(ef: u32) -> SearchParams {
    SearchParams { hnsw_ef: Some(ef), exact: false, quantization: None }
}

pub(crate) fn exact() -> SearchParams {
    SearchParams { hnsw_ef: None, exact: true, quantization: None }
}

/// HNSW with `ef`, re-scoring `oversampling × k` quantized candidates with the original vectors.
pub(crate) fn rescored(ef: u32, oversampling: f64) -> SearchParams {
    SearchParams {
        quantization: Some(SearchQuantization { ignore: None, rescore: Some(true), oversampling: Some(oversampling) }),
        ..hnsw(ef)
    }
}

/// Mean recall@K of searching every query of `vector` with `params`, against the brute force.
pub(crate) async fn recall(engine: &EmbeddedEngine, data: &Data, vector: &str, params: &SearchParams) -> f64 {
    let truth = data.ground_truth(vector);
    let found = search_all(engine, data, vector, params).await;
    let hits: usize = found
        .iter()
        .zip(&truth)
        .map(|(found, truth)| {
            let truth: HashSet<&PointId> = truth.iter().collect();
            found.iter().filter(|id| truth.contains(id)).count()
        })
        .sum();
    hits as f64 / (truth.len() * K as usize) as f64
}

/// The ids found for every query of `vector`, checking each answer's shape on the way: at most `K`
/// results, best first under the vector's distance, and the engine's own time.
pub(crate) async fn search_all(
    engine: &EmbeddedEngine,
    data: &Data,
    vector: &str,
    params: &SearchParams,
) -> Vec<Vec<PointId>> {
    let distance = data.spec.vectors[&name(vector)].distance;
    let vector_name = name(vector);
    let mut found = Vec::new();
    for query in data.queries(vector) {
        let request = SearchRequest { vector: &vector_name, query, k: K, params };
        let response = engine.search(&data.spec.name, request).await.unwrap();
        // A deliberately poor graph (m 2) can leave a query fewer than K reachable points.
        assert!((1..=K as usize).contains(&response.points.len()), "{vector}: {} results", response.points.len());
        assert!(response.server_time.is_some());
        let scores: Vec<f32> = response.points.iter().map(|point| point.score).collect();
        let best_first = match distance {
            Distance::Cosine | Distance::Dot => scores.windows(2).all(|pair| pair[0] >= pair[1]),
            Distance::Euclid | Distance::Manhattan => scores.windows(2).all(|pair| pair[0] <= pair[1]),
        };
        assert!(best_first, "{vector} ({distance}) scores are not best first: {scores:?}");
        found.push(response.points.iter().map(|point| point.id).collect());
    }
    found
}
