//! Client-overhead benchmark: qbench's own cost per query in the search loop, measured against a
//! vector store that answers instantly, so the engine's time is zero and what remains is qbench's
//! (query hand-out, timing, the port's boxed future, recording, progress).
//!
//! Run: `cargo bench -p qbench-service --bench client_overhead` (part of `make bench`).
//!
//! A run is executed the way `qbench serve` executes one (`RunWorker::run_next` on a multi-thread
//! tokio runtime, heartbeat included) over the testkit's in-memory repositories and dataset reader
//! and a [`FixedStore`] defined here, whose `search` returns the same `k` points at once (the
//! testkit's exact store brute-forces, which would dominate). The dataset is a directory dataset of
//! [`QUERIES`] test queries with a neighbors file, so no ground truth is computed. Each run has
//! three search settings, each a full pass over the queries, at `parallel` 1 and 2. Per-query
//! overhead is the run's `results[].search_seconds` (the search phase's wall time, warm-up
//! excluded) divided by the queries; "per client" multiplies it by `parallel`. The bare cost of
//! calling the fake store through `Arc<dyn VectorStore>` in a tight loop is printed as the floor.
//!
//! Environment: `QBENCH_BENCH_QUERIES` (test queries, default 200000).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use qbench_domain::synthetic::SyntheticSpec;
use qbench_domain::{
    Caller, Connection, DatasetSpec, Dimension, Distance, ExperimentSpec, RunId, RunStatus, SchemaConfig, VectorSpec,
};
use qbench_service::execution::{BenchmarkHandler, ExecutionDefaults, ExecutionDependencies};
use qbench_service::jobs::{JobWorker, WorkerSettings};
use qbench_service::{ConnectionService, DatasetService, ExperimentService, RunService};
use qbench_testkit::dataset::{InMemoryDatasetReader, MemoryDataset, RecordingResultWriter};
use qbench_testkit::in_memory_repositories;
use qbench_vector_store::{
    CollectionInfo, CollectionSpec, EngineInfo, Point, PointId, ScoredPoint, SearchParams, SearchRequest,
    SearchResponse, VectorStore, VectorStoreError, VectorStoreProvider,
};

/// Test queries per search setting: enough for a pass to last well beyond the timer's and the
/// scheduler's granularity (a pass of 20,000 takes only milliseconds).
const QUERIES: usize = 200_000;
/// Points in the collection (the fake store ignores them; the dataset needs at least `K`).
const POINTS: usize = 100;
/// Query dimension: the loop hands the store a slice of the query set, never a copy, so the
/// dimension does not change qbench's cost; a small one keeps the ground truth quick to build.
const DIM: u32 = 32;
/// Results per query.
const K: u32 = 10;
/// Search settings per run, each a full pass over the queries.
const HNSW_EF: [u32; 3] = [64, 128, 256];
/// Concurrent search clients.
const PARALLEL: [u32; 2] = [1, 2];
/// Where the in-memory reader serves the dataset.
const URI: &str = "datasets/overhead";

/// A vector store that accepts everything and answers every search with the same `K` points.
struct FixedStore {
    answer: Vec<ScoredPoint>,
}

impl FixedStore {
    fn new() -> Self {
        let answer = (0..u64::from(K)).map(|id| ScoredPoint { id: PointId::Num(id), score: 1.0 - id as f32 * 0.01 });
        Self { answer: answer.collect() }
    }
}

#[async_trait]
impl VectorStore for FixedStore {
    async fn engine(&self) -> Result<EngineInfo, VectorStoreError> {
        Ok(EngineInfo { engine: "fixed".to_owned(), version: "0".to_owned() })
    }

    async fn create_collection(&self, _spec: &CollectionSpec) -> Result<(), VectorStoreError> {
        Ok(())
    }

    async fn upsert(&self, _collection: &str, _points: &[Point]) -> Result<(), VectorStoreError> {
        Ok(())
    }

    async fn build_index(&self, _collection: &str) -> Result<(), VectorStoreError> {
        Ok(())
    }

    async fn search(&self, _collection: &str, _request: SearchRequest<'_>) -> Result<SearchResponse, VectorStoreError> {
        Ok(SearchResponse { points: self.answer.clone(), server_time: None })
    }

    async fn collection_info(&self, _collection: &str) -> Result<CollectionInfo, VectorStoreError> {
        Ok(CollectionInfo { points: 0, indexed_vectors: 0, segments: 1, config: serde_json::json!({}), storage: None })
    }

    async fn drop_collection(&self, _collection: &str) -> Result<(), VectorStoreError> {
        Ok(())
    }
}

/// Hands out one [`FixedStore`] for every connection.
struct FixedProvider(Arc<FixedStore>);

#[async_trait]
impl VectorStoreProvider for FixedProvider {
    async fn open(&self, _connection: &Connection, _run_id: RunId) -> Result<Arc<dyn VectorStore>, VectorStoreError> {
        Ok(self.0.clone())
    }
}

/// One (parallel, setting) measurement, from a run's metrics.
struct Measured {
    parallel: u64,
    setting: String,
    queries: u64,
    seconds: f64,
    qps: f64,
    p50: f64,
    p99: f64,
}

fn main() {
    let queries = std::env::var("QBENCH_BENCH_QUERIES").map_or(QUERIES, |value| value.trim().parse().unwrap());
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let dataset = dataset(queries);
    let floor = runtime.block_on(store_floor(queries));
    let mut measured = Vec::new();
    for parallel in PARALLEL {
        measured.extend(runtime.block_on(run(&dataset, queries, parallel)));
    }

    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    println!("client overhead: {queries} queries per setting, k {K}, fixed-answer store, {cores} cores");
    println!();
    println!(
        "| parallel | setting | queries | search s | QPS | µs/query (wall) | µs/query per client | p50 µs | p99 µs |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for m in &measured {
        let per_query = m.seconds / m.queries as f64 * 1e6;
        println!(
            "| {} | {} | {} | {:.3} | {:.0} | {per_query:.2} | {:.2} | {:.2} | {:.2} |",
            m.parallel,
            m.setting,
            m.queries,
            m.seconds,
            m.qps,
            per_query * m.parallel as f64,
            m.p50 * 1e6,
            m.p99 * 1e6,
        );
    }
    println!();
    println!("floor: calling the fixed store through Arc<dyn VectorStore> in a tight loop: {floor:.3} µs/query");
}

/// A directory dataset of `POINTS` points and `queries` queries with their exact neighbours.
fn dataset(queries: usize) -> MemoryDataset {
    let spec = SyntheticSpec {
        rows: POINTS,
        queries,
        vectors: SchemaConfig::from_vectors([("text", vector_spec())]).unwrap().vectors,
        clusters: 8,
        seed: 7,
    };
    MemoryDataset::synthetic_directory(&spec, K as usize)
}

/// µs per call of the fixed store's `search` alone, through the port, with nothing around it.
async fn store_floor(queries: usize) -> f64 {
    let store: Arc<dyn VectorStore> = Arc::new(FixedStore::new());
    let (vector, query, params) = ("text".parse().unwrap(), vec![0.5_f32; DIM as usize], SearchParams::default());
    let started = Instant::now();
    for _ in 0..queries {
        let request = SearchRequest { vector: &vector, query: &query, k: K, params: &params };
        std::hint::black_box(store.search("c", request).await.unwrap());
    }
    started.elapsed().as_secs_f64() / queries as f64 * 1e6
}

/// Executes one run at `parallel` clients through the worker and returns its measurements.
async fn run(dataset: &MemoryDataset, queries: usize, parallel: u32) -> Vec<Measured> {
    let (repositories, _database, _queue) = in_memory_repositories();
    let reader = InMemoryDatasetReader::new();
    reader.insert(URI, dataset.clone());
    let dependencies = ExecutionDependencies {
        experiments: repositories.experiments.clone(),
        datasets: repositories.datasets.clone(),
        storages: repositories.storages.clone(),
        connections: repositories.connections.clone(),
        reader: Arc::new(reader),
        stores: Arc::new(FixedProvider(Arc::new(FixedStore::new()))),
        results: Arc::new(RecordingResultWriter::default()),
        sources: None,
        defaults: ExecutionDefaults { queries, search_seconds: 0.0, repetitions: 1, ..ExecutionDefaults::default() },
    };
    let worker = Arc::new(
        JobWorker::new(repositories.jobs.clone(), WorkerSettings::default(), repositories.clock.clone())
            .with_handler(Arc::new(BenchmarkHandler::new(repositories.runs.clone(), dependencies))),
    );
    let datasets = DatasetService::new(repositories.datasets.clone(), repositories.storages.clone());
    let connections = ConnectionService::new(repositories.connections.clone());
    let experiments = ExperimentService::new(
        repositories.experiments.clone(),
        repositories.datasets.clone(),
        repositories.connections.clone(),
    );
    let runs = RunService::new(
        repositories.runs.clone(),
        repositories.experiments.clone(),
        repositories.queue.clone(),
        repositories.clock.clone(),
    );

    let spec = DatasetSpec {
        name: "overhead".to_owned(),
        source_uri: URI.parse().unwrap(),
        storage_id: None,
        schema_config: SchemaConfig::from_vectors([("text", vector_spec())]).unwrap(),
    };
    let registered = datasets.create(&Caller::development(), spec).await.unwrap();
    let connection = connections.ensure_builtin().await.unwrap();
    let mut experiment = ExperimentSpec::new("overhead", registered.id, connection.id);
    experiment.search_config.k = K;
    experiment.search_config.hnsw_ef = HNSW_EF.to_vec();
    experiment.search_config.parallel = parallel;
    experiment.search_config.queries_limit = Some(u32::try_from(queries).unwrap());
    let (experiment, _) = experiments.create(&Caller::development(), experiment).await.unwrap();
    let run = runs.create(&Caller::development(), experiment.id, None).await.unwrap();

    worker.run_next().await.unwrap().expect("a queued run");
    let ended = runs.get(&Caller::development(), run.id()).await.unwrap();
    assert_eq!(ended.status(), RunStatus::Completed, "{:?}", ended.error());
    let metrics = ended.metrics().unwrap();
    metrics["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|result| Measured {
            parallel: result["parallel"].as_u64().unwrap(),
            setting: result["setting"].as_str().unwrap().to_owned(),
            queries: result["queries"].as_u64().unwrap(),
            // `search_seconds` is the search phase's wall time for the setting (`seconds` in older
            // results).
            seconds: result.get("search_seconds").unwrap_or(&result["seconds"]).as_f64().unwrap(),
            qps: result["qps"].as_f64().unwrap(),
            p50: result["latency"]["p50"].as_f64().unwrap(),
            p99: result["latency"]["p99"].as_f64().unwrap(),
        })
        .collect()
}

fn vector_spec() -> VectorSpec {
    VectorSpec::new(Dimension::new(DIM).unwrap(), Distance::Cosine)
}
