//! Executing runs end to end over the testkit's fakes: an exact in-memory store, in-memory
//! datasets and a recording result writer.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use qbench_domain::synthetic::SyntheticSpec;
use qbench_domain::{
    DatasetSpec, Dimension, Distance, ExperimentSpec, IndexConfig, Run, RunStatus, SchemaConfig, VectorSpec,
};
use qbench_service::execution::{ExecutionDefaults, ExecutionDependencies, RunWorker, WorkerSettings};
use qbench_service::{ConnectionService, DatasetService, ExperimentService, RunService};
use qbench_testkit::dataset::{InMemoryDatasetReader, MemoryDataset, RecordingResultWriter};
use qbench_testkit::vector_store::InMemoryStoreProvider;
use qbench_testkit::{InMemoryDatabase, in_memory_repositories};
use serde_json::Value;

const URI: &str = "datasets/synthetic.parquet";

struct Bench {
    runs: RunService,
    worker: Arc<RunWorker>,
    reader: InMemoryDatasetReader,
    provider: InMemoryStoreProvider,
    results: RecordingResultWriter,
    experiments: ExperimentService,
    datasets: DatasetService,
    connections: ConnectionService,
    repositories: qbench_service::Repositories,
    _database: Arc<InMemoryDatabase>,
}

fn schema() -> SchemaConfig {
    SchemaConfig::from_vectors([
        ("text", VectorSpec::new(Dimension::new(16).unwrap(), Distance::Cosine)),
        ("image", VectorSpec::new(Dimension::new(8).unwrap(), Distance::Euclid)),
    ])
    .unwrap()
}

fn synthetic(rows: usize, queries: usize) -> SyntheticSpec {
    SyntheticSpec { rows, queries, vectors: schema().vectors, clusters: 8, seed: 11 }
}

fn bench() -> Bench {
    let (repositories, database, _queue) = in_memory_repositories();
    let reader = InMemoryDatasetReader::new();
    let provider = InMemoryStoreProvider::default();
    let results = RecordingResultWriter::default();
    let dependencies = ExecutionDependencies {
        experiments: repositories.experiments.clone(),
        datasets: repositories.datasets.clone(),
        storages: repositories.storages.clone(),
        connections: repositories.connections.clone(),
        reader: Arc::new(reader.clone()),
        stores: Arc::new(provider.clone()),
        results: Arc::new(results.clone()),
        defaults: ExecutionDefaults { batch_size: 50, queries: 20, warmup_queries: 2, ..ExecutionDefaults::default() },
    };
    let settings = WorkerSettings { heartbeat: Duration::from_millis(20), ..WorkerSettings::default() };
    Bench {
        runs: RunService::new(repositories.runs.clone(), repositories.experiments.clone(), repositories.queue.clone()),
        worker: Arc::new(RunWorker::new(repositories.runs.clone(), dependencies, settings)),
        experiments: ExperimentService::new(
            repositories.experiments.clone(),
            repositories.datasets.clone(),
            repositories.connections.clone(),
        ),
        datasets: DatasetService::new(repositories.datasets.clone(), repositories.storages.clone()),
        connections: ConnectionService::new(repositories.connections.clone()),
        repositories,
        reader,
        provider,
        results,
        _database: database,
    }
}

impl Bench {
    /// Registers the dataset at `URI` and an experiment on it; returns a queued run.
    async fn queue_run(&self, edit: impl FnOnce(&mut ExperimentSpec)) -> Run {
        let dataset = self
            .datasets
            .create(DatasetSpec {
                name: "synthetic".to_owned(),
                source_uri: URI.parse().unwrap(),
                storage_id: None,
                schema_config: schema(),
            })
            .await
            .unwrap();
        let embedded = self.connections.ensure_builtin().await.unwrap();
        let mut spec = ExperimentSpec::new("exp", dataset.id, embedded.id);
        spec.optimizer_config.indexing.insert("text".parse().unwrap(), IndexConfig::hnsw(16, 100));
        spec.search_config.hnsw_ef = vec![32, 64];
        edit(&mut spec);
        let (experiment, _) = self.experiments.create(spec).await.unwrap();
        self.runs.create(experiment.id).await.unwrap()
    }

    async fn execute(&self) -> Run {
        self.worker.run_next().await.unwrap().expect("a queued run")
    }
}

fn results(run: &Run) -> Vec<Value> {
    run.metrics().unwrap()["results"].as_array().unwrap().clone()
}

#[tokio::test]
async fn an_exact_engine_scores_one_for_every_vector_and_setting() {
    let bench = bench();
    bench.reader.insert(URI, MemoryDataset::synthetic(&synthetic(600, 20)));
    let run = bench.queue_run(|_| {}).await;
    let ended = bench.execute().await;
    assert_eq!(ended.status(), RunStatus::Completed, "{:?}", ended.error());
    let metrics = ended.metrics().unwrap();
    for key in [
        "f1",
        "precision",
        "recall",
        "p_50_latency",
        "p_95_latency",
        "p_99_latency",
        "qps",
        "upload_seconds",
        "index_seconds",
    ] {
        assert!(metrics[key].is_number(), "metrics.{key} is missing: {metrics}");
    }
    let results = results(&ended);
    assert_eq!(results.len(), 4, "2 vectors × 2 hnsw_ef settings");
    for result in &results {
        assert_eq!(result["recall"], 1.0, "{result}");
        assert_eq!(result["precision"], 1.0, "{result}");
        assert_eq!(result["queries"], 20);
    }
    // 600 rows, 20 held out as queries.
    assert_eq!(metrics["points"], 580);
    assert_eq!(metrics["dataset"]["queries_from"], "held_out_rows");
    assert_eq!(metrics["dataset"]["ground_truth"], "computed");
    assert_eq!(bench.provider.store.dropped(), [format!("qbench-{}", run.id())]);
    assert!(bench.provider.store.collections().is_empty());
    let written = bench.results.written();
    assert_eq!(written.len(), 1);
    assert_eq!(written[0].2.len(), 4 * 20, "one row per query and setting");
}

#[tokio::test]
async fn a_neighbors_file_is_the_ground_truth_of_a_directory_dataset() {
    let bench = bench();
    let mut spec = synthetic(400, 15);
    spec.vectors.retain(|name, _| name.as_str() == "text");
    bench.reader.insert(URI, MemoryDataset::synthetic_directory(&spec, 10));
    bench
        .queue_run(|experiment| {
            experiment.vector_config = Some(spec.vectors.clone());
        })
        .await;
    let ended = bench.execute().await;
    assert_eq!(ended.status(), RunStatus::Completed, "{:?}", ended.error());
    let metrics = ended.metrics().unwrap();
    assert_eq!(metrics["dataset"]["ground_truth"], "neighbors_file");
    assert_eq!(metrics["dataset"]["queries_from"], "test_file");
    assert_eq!(metrics["points"], 400, "no row is held out when the dataset has a test file");
    assert!(results(&ended).iter().all(|result| result["recall"] == 1.0));
}

#[tokio::test]
async fn a_wrong_engine_scores_near_zero_so_the_metric_can_fail() {
    let bench = bench();
    bench.reader.insert(URI, MemoryDataset::synthetic(&synthetic(600, 20)));
    bench.provider.store.set_scrambled(true);
    bench.queue_run(|_| {}).await;
    let ended = bench.execute().await;
    assert_eq!(ended.status(), RunStatus::Completed, "{:?}", ended.error());
    for result in results(&ended) {
        assert!(result["recall"].as_f64().unwrap() < 0.1, "{result}");
    }
}

#[tokio::test]
async fn an_unreachable_engine_fails_the_run_naming_the_phase() {
    let bench = bench();
    bench.reader.insert(URI, MemoryDataset::synthetic(&synthetic(200, 10)));
    bench.provider.store.set_unreachable(true);
    bench.queue_run(|_| {}).await;
    let ended = bench.execute().await;
    assert_eq!(ended.status(), RunStatus::Failed);
    let error = ended.error().unwrap();
    assert!(error.starts_with("create_collection: vector database unreachable"), "{error}");
}

#[tokio::test]
async fn a_missing_dataset_fails_the_run_in_prepare() {
    let bench = bench();
    bench.queue_run(|_| {}).await;
    let ended = bench.execute().await;
    assert_eq!(ended.status(), RunStatus::Failed);
    let error = ended.error().unwrap();
    assert!(error.starts_with("prepare:") && error.contains(URI) && error.contains("not found"), "{error}");
}

#[tokio::test]
async fn cancelling_during_upload_stops_the_run_and_drops_its_collection() {
    let bench = bench();
    bench.reader.insert(URI, MemoryDataset::synthetic(&synthetic(2_000, 10)));
    bench.provider.store.set_upsert_delay(Duration::from_millis(30));
    let run = bench.queue_run(|_| {}).await;
    let worker = bench.worker.clone();
    let execution = tokio::spawn(async move { worker.run_next().await });
    // Wait until the upload is under way, then cancel through the service, as the API does.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while bench.provider.store.upserts() < 2 {
        assert!(tokio::time::Instant::now() < deadline, "the upload never started");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let canceled = bench.runs.cancel(run.id()).await.unwrap();
    assert_eq!(canceled.status(), RunStatus::Canceled);
    let ended = tokio::time::timeout(Duration::from_secs(10), execution)
        .await
        .expect("the run stopped")
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(ended.status(), RunStatus::Canceled);
    assert!(bench.provider.store.upserts() < 2_000 / 50, "the upload stopped early");
    assert!(bench.provider.store.collections().is_empty(), "the collection was dropped");
    assert!(bench.results.written().is_empty());
}

#[tokio::test]
async fn a_run_whose_worker_stopped_renewing_its_lease_fails_as_worker_lost() {
    let bench = bench();
    let run = bench.queue_run(|_| {}).await;
    let past = chrono::Utc::now() - chrono::Duration::seconds(60);
    let claimed = bench.repositories.runs.claim_next("crashed-worker", past, past).await.unwrap().unwrap();
    assert_eq!(claimed.id(), run.id());
    assert_eq!(bench.worker.fail_lost_runs().await.unwrap(), 1);
    let lost = bench.runs.get(run.id()).await.unwrap();
    assert_eq!(lost.status(), RunStatus::Failed);
    assert!(lost.error().unwrap().starts_with("worker lost: crashed-worker"), "{:?}", lost.error());
    assert_eq!(bench.worker.fail_lost_runs().await.unwrap(), 0, "a lost run is failed once");
}
