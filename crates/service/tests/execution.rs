//! Executing runs end to end over the testkit's fakes: an exact in-memory store, in-memory
//! datasets and a recording result writer.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;

use qbench_domain::study::{
    EfValues, Objective, Optimise, QualityMetric, SearchSpace, Strategy, StudyLimits, StudyReport, StudySpace,
    StudySpec, VectorBuildSpace,
};
use qbench_domain::synthetic::SyntheticSpec;
use qbench_domain::{
    Caller, DatasetSpec, Dimension, Distance, ExperimentSpec, IndexConfig, PointId, PointSample, Run, RunId, RunStatus,
    SchemaConfig, VectorName, VectorSpec,
};
use qbench_service::execution::{BenchmarkHandler, ExecutionDefaults, ExecutionDependencies};
use qbench_service::jobs::{JobWorker, WorkerSettings};
use qbench_service::studies::{StudyHandler, StudyService};
use qbench_service::{Clock, ManualClock, SystemClock};
use qbench_service::{ConnectionService, DatasetService, ExperimentService, RunService};
use qbench_storage::Artifact;
use qbench_testkit::dataset::{InMemoryDatasetReader, MemoryDataset, RecordingResultWriter};
use qbench_testkit::vector_store::{InMemoryStoreProvider, InMemoryVectorStore};
use qbench_testkit::{InMemoryDatabase, in_memory_repositories_with_clock};
use qbench_vector_store::{
    CollectionInfo, CollectionSpec, EngineInfo, Point, SearchRequest, SearchResponse, VectorStore, VectorStoreError,
    VectorStoreProvider,
};
use serde_json::{Value, json};

const URI: &str = "datasets/synthetic.parquet";

struct Bench {
    runs: RunService,
    studies: StudyService,
    worker: Arc<JobWorker>,
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
    bench_with(|provider| Arc::new(provider.clone()))
}

/// A bench whose runs open the store `stores` makes of the in-memory provider (a wrapper of it).
fn bench_with(stores: impl FnOnce(&InMemoryStoreProvider) -> Arc<dyn VectorStoreProvider>) -> Bench {
    bench_on(stores, Arc::new(SystemClock))
}

/// A bench whose services, worker and database read `clock`.
fn bench_on(
    stores: impl FnOnce(&InMemoryStoreProvider) -> Arc<dyn VectorStoreProvider>,
    clock: Arc<dyn Clock>,
) -> Bench {
    bench_sampling(stores, clock, qbench_domain::study::DEFAULT_MIN_SAMPLE_POINTS)
}

/// A bench whose `auto` studies sample down to `min_sample_points` points.
fn bench_sampling(
    stores: impl FnOnce(&InMemoryStoreProvider) -> Arc<dyn VectorStoreProvider>,
    clock: Arc<dyn Clock>,
    min_sample_points: u64,
) -> Bench {
    let (repositories, database, _queue) = in_memory_repositories_with_clock(clock.clone());
    let reader = InMemoryDatasetReader::new();
    let provider = InMemoryStoreProvider::default();
    let results = RecordingResultWriter::default();
    let dependencies = ExecutionDependencies {
        experiments: repositories.experiments.clone(),
        datasets: repositories.datasets.clone(),
        storages: repositories.storages.clone(),
        connections: repositories.connections.clone(),
        reader: Arc::new(reader.clone()),
        stores: stores(&provider),
        results: Arc::new(results.clone()),
        sources: None,
        defaults: ExecutionDefaults {
            batch_size: 50,
            queries: 20,
            warmup_queries: 2,
            search_seconds: 0.0,
            repetitions: 2,
            ..ExecutionDefaults::default()
        },
    };
    let settings = WorkerSettings {
        heartbeat: Duration::from_millis(20),
        poll_interval: Duration::from_millis(10),
        ..WorkerSettings::default()
    };
    Bench {
        runs: RunService::new(
            repositories.runs.clone(),
            repositories.experiments.clone(),
            repositories.queue.clone(),
            clock.clone(),
        ),
        worker: Arc::new(
            JobWorker::new(repositories.jobs.clone(), settings, clock.clone())
                .with_handler(Arc::new(BenchmarkHandler::new(repositories.runs.clone(), dependencies)))
                .with_handler(Arc::new(StudyHandler::new(&repositories).with_min_sample_points(min_sample_points))),
        ),
        studies: StudyService::new(&repositories, StudyLimits::default()),
        experiments: ExperimentService::new(
            repositories.experiments.clone(),
            repositories.datasets.clone(),
            repositories.connections.clone(),
        ),
        datasets: DatasetService::new(repositories.datasets.clone(), repositories.storages.clone())
            .with_reader(Arc::new(reader.clone()), None),
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
        self.queue_run_declaring(schema(), edit).await
    }

    /// As [`Bench::queue_run`], the dataset declaring `declared`.
    async fn queue_run_declaring(&self, declared: SchemaConfig, edit: impl FnOnce(&mut ExperimentSpec)) -> Run {
        let dataset = self
            .datasets
            .create(
                &Caller::development(),
                DatasetSpec {
                    name: "synthetic".to_owned(),
                    source_uri: URI.parse().unwrap(),
                    storage_id: None,
                    schema_config: declared,
                },
            )
            .await
            .unwrap();
        let embedded = self.connections.ensure_builtin().await.unwrap();
        let mut spec = ExperimentSpec::new("exp", dataset.id, embedded.id);
        spec.optimizer_config.indexing.insert("text".parse().unwrap(), IndexConfig::hnsw(16, 100));
        spec.search_config.hnsw_ef = vec![32, 64];
        edit(&mut spec);
        let (experiment, _) = self.experiments.create(&Caller::development(), spec).await.unwrap();
        self.runs.create(&Caller::development(), experiment.id, None).await.unwrap()
    }

    async fn execute(&self) -> Run {
        let job = self.worker.run_next().await.unwrap().expect("a queued run");
        self.repositories.runs.get(RunId::from(job.id().as_uuid())).await.unwrap()
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
    let declared = SchemaConfig { vectors: spec.vectors.clone(), ..SchemaConfig::default() };
    bench.queue_run_declaring(declared, |_| {}).await;
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
async fn an_unreachable_engine_fails_the_run_before_the_dataset_is_read() {
    // Regression (issue 15): the dataset was read (and its ground truth computed) before the
    // engine was first asked anything. No dataset here: reading it would fail as "not found".
    let bench = bench();
    bench.provider.store.set_unreachable(true);
    bench.queue_run(|_| {}).await;
    let ended = bench.execute().await;
    assert_eq!(ended.status(), RunStatus::Failed);
    let error = ended.error().unwrap();
    assert!(error.starts_with("prepare: vector database unreachable"), "{error}");
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
async fn a_run_keeps_its_own_log_of_phases_warnings_and_how_it_ended() {
    let events = |bench: &Bench, run: &Run| -> Vec<Value> {
        let lines = bench.results.log(&run.id().to_string()).expect("a log");
        lines.iter().map(|line| serde_json::from_str(line).unwrap()).collect()
    };
    let bench = bench();
    bench.reader.insert(URI, MemoryDataset::synthetic(&synthetic(300, 10)));
    bench.queue_run(|_| {}).await;
    let completed = bench.execute().await;
    assert_eq!(completed.status(), RunStatus::Completed, "{:?}", completed.error());
    let log = events(&bench, &completed);
    let phases: Vec<&str> =
        log.iter().filter(|e| e["event"] == "phase").map(|e| e["phase"].as_str().unwrap()).collect();
    let order = ["prepare", "create_collection", "upload", "index", "search", "cleanup"];
    let mut seen = phases.clone();
    seen.dedup();
    assert_eq!(seen, order, "{phases:?}");
    let last = log.last().unwrap();
    assert_eq!((&last["event"], &last["level"]), (&json!("completed"), &json!("INFO")), "{last}");
    assert_eq!(last["summary"]["points"], completed.metrics().unwrap()["points"]);
    assert!(log.iter().all(|e| e["run_id"] == completed.id().to_string() && e["at"].is_string()));

    // And its report page, one chart point per measured setting, its location in the result.
    let page = bench.results.artifact(&completed.id().to_string(), Artifact::Report).expect("a report page");
    let page = String::from_utf8(page).unwrap();
    let settings = completed.metrics().unwrap()["results"].as_array().unwrap().len();
    assert!(page.contains(&format!(r#"data-chart="recall-qps" data-points="{settings}""#)), "{page}");
    assert!(completed.metrics().unwrap()["result_files"]["report_html"].as_str().unwrap().ends_with("/report.html"));

    // A failed run's log ends naming the phase and the cause.
    let failing = bench_with(|provider| Arc::new(provider.clone()));
    failing.queue_run(|_| {}).await;
    let failed = failing.execute().await;
    assert_eq!(failed.status(), RunStatus::Failed);
    let last = events(&failing, &failed).last().cloned().unwrap();
    assert_eq!(
        (&last["event"], &last["phase"], &last["level"]),
        (&json!("failed"), &json!("prepare"), &json!("ERROR"))
    );
    assert!(last["error"].as_str().unwrap().contains("not found"), "{last}");
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
    let canceled = bench.runs.cancel(&Caller::development(), run.id()).await.unwrap();
    assert_eq!(canceled.status(), RunStatus::Canceled);
    let ended = tokio::time::timeout(Duration::from_secs(10), execution)
        .await
        .expect("the run stopped")
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(ended.status(), qbench_domain::JobStatus::Canceled);
    assert!(bench.provider.store.upserts() < 2_000 / 50, "the upload stopped early");
    assert!(bench.provider.store.collections().is_empty(), "the collection was dropped");
    assert!(bench.results.written().is_empty());
    let log = bench.results.log(&canceled.id().to_string()).expect("a cancelled run keeps its log");
    assert!(log.last().unwrap().contains(r#""event":"cancelled""#), "{log:?}");
}

/// The in-memory store with searches delayed (from the `slow_from`-th on) and counted, so a test
/// can act while the search phase is under way (the testkit's store only delays upserts).
struct SlowSearches {
    store: Arc<InMemoryVectorStore>,
    delay: Duration,
    slow_from: u64,
    searches: AtomicU64,
    /// Answers only `hnsw_ef / 8` points: recall@10 grows with `hnsw_ef` up to 80, as a graph's does.
    ef_limited: bool,
}

impl SlowSearches {
    fn searches(&self) -> u64 {
        self.searches.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl VectorStore for SlowSearches {
    async fn engine(&self) -> Result<EngineInfo, VectorStoreError> {
        self.store.engine().await
    }

    async fn create_collection(&self, spec: &CollectionSpec) -> Result<(), VectorStoreError> {
        self.store.create_collection(spec).await
    }

    async fn upsert(&self, collection: &str, points: &[Point]) -> Result<(), VectorStoreError> {
        self.store.upsert(collection, points).await
    }

    async fn build_index(&self, collection: &str) -> Result<(), VectorStoreError> {
        self.store.build_index(collection).await
    }

    async fn search(&self, collection: &str, request: SearchRequest<'_>) -> Result<SearchResponse, VectorStoreError> {
        if self.searches.fetch_add(1, Ordering::SeqCst) >= self.slow_from {
            tokio::time::sleep(self.delay).await;
        }
        let ef = request.params.hnsw_ef;
        let mut response = self.store.search(collection, request).await?;
        if self.ef_limited {
            response.points.truncate(ef.map_or(usize::MAX, |ef| ef as usize / 8));
        }
        Ok(response)
    }

    async fn collection_info(&self, collection: &str) -> Result<CollectionInfo, VectorStoreError> {
        self.store.collection_info(collection).await
    }

    async fn drop_collection(&self, collection: &str) -> Result<(), VectorStoreError> {
        self.store.drop_collection(collection).await
    }
}

/// Opens the one [`SlowSearches`] for every connection.
struct SlowSearchesProvider(Arc<SlowSearches>);

#[async_trait]
impl VectorStoreProvider for SlowSearchesProvider {
    async fn open(
        &self,
        _connection: &qbench_domain::Connection,
        _run_id: qbench_domain::RunId,
    ) -> Result<Arc<dyn VectorStore>, VectorStoreError> {
        Ok(self.0.clone())
    }
}

#[tokio::test]
async fn cancelling_during_search_stops_the_run_and_drops_its_collection() {
    let mut slow = None;
    let bench = bench_with(|provider| {
        let store = Arc::new(SlowSearches {
            store: provider.store.clone(),
            delay: Duration::from_millis(20),
            slow_from: 0,
            searches: AtomicU64::new(0),
            ef_limited: false,
        });
        slow = Some(store.clone());
        Arc::new(SlowSearchesProvider(store))
    });
    let slow = slow.unwrap();
    bench.reader.insert(URI, MemoryDataset::synthetic(&synthetic(600, 20)));
    let run = bench.queue_run(|_| {}).await;
    // 2 vectors × 2 hnsw_ef settings × (20 queries + 2 warm-up queries).
    let every_search = 2 * 2 * (20 + 2);
    let worker = bench.worker.clone();
    let execution = tokio::spawn(async move { worker.run_next().await });

    // Wait until the heartbeat has stored the search phase with queries done, then cancel through
    // the service, as the API does.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let stored = bench.runs.get(&Caller::development(), run.id()).await.unwrap();
        if stored.progress().phase == "search" && stored.progress().done >= 2 {
            break;
        }
        assert!(stored.status() == RunStatus::Running || stored.status() == RunStatus::Created, "{stored:?}");
        assert!(Instant::now() < deadline, "the search never started: {:?}", stored.progress());
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(bench.provider.store.upserts() > 0, "the points were uploaded before the search");
    let canceled = bench.runs.cancel(&Caller::development(), run.id()).await.unwrap();
    let cancelled_at = Instant::now();
    assert_eq!(canceled.status(), RunStatus::Canceled);
    assert_eq!(canceled.progress().phase, "search", "cancelled in the search phase");

    let ended = tokio::time::timeout(Duration::from_secs(10), execution)
        .await
        .expect("the run stopped")
        .unwrap()
        .unwrap()
        .unwrap();
    let stopped_after = cancelled_at.elapsed();
    assert!(stopped_after < Duration::from_secs(1), "the run stopped {stopped_after:?} after the cancel");
    assert_eq!(ended.status(), qbench_domain::JobStatus::Canceled);
    assert_eq!(ended.error(), None, "a cancelled run has no error");
    let searches = slow.searches();
    assert!(searches < every_search, "the search stopped early: {searches} of {every_search} queries ran");
    assert_eq!(bench.provider.store.dropped(), [format!("qbench-{}", run.id())], "the collection was dropped");
    assert!(bench.provider.store.collections().is_empty());
    assert!(bench.results.written().is_empty(), "a cancelled run writes no results");
    // No query is sent once the run has stopped.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(slow.searches(), searches, "queries went on after the run stopped");
}

#[tokio::test]
async fn a_run_whose_worker_stopped_renewing_its_lease_fails_as_worker_lost() {
    let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
    let bench = bench_on(|provider| Arc::new(provider.clone()), clock.clone());
    let run = bench.queue_run(|_| {}).await;
    let crashed = qbench_repository::ClaimRequest {
        worker: "crashed-worker".to_owned(),
        labels: Vec::new(),
        kinds: vec![qbench_domain::JobKind::Benchmark],
        lease: Duration::from_secs(30),
    };
    let claimed = bench.repositories.jobs.claim_next(&crashed).await.unwrap().unwrap();
    assert_eq!(claimed.id().as_uuid(), run.id().as_uuid());
    clock.advance(Duration::from_secs(30));
    assert_eq!(bench.worker.sweep_lost().await.unwrap(), 0, "a lease holds to its last instant");
    clock.advance(Duration::from_secs(1));
    assert_eq!(bench.worker.sweep_lost().await.unwrap(), 1);
    let lost = bench.runs.get(&Caller::development(), run.id()).await.unwrap();
    assert_eq!(lost.status(), RunStatus::Failed);
    assert!(lost.error().unwrap().starts_with("worker lost: crashed-worker"), "{:?}", lost.error());
    assert!(
        bench.provider.store.dropped().is_empty(),
        "an embedded collection lives on the lost worker's disk: the sweep does not pretend to drop it"
    );
    assert_eq!(bench.worker.sweep_lost().await.unwrap(), 0, "a lost run is failed once");
}

#[tokio::test]
async fn upload_batch_size_and_parallelism_come_from_the_experiment() {
    let bench = bench();
    bench.reader.insert(URI, MemoryDataset::synthetic(&synthetic(600, 20)));
    bench
        .queue_run(|spec| {
            spec.upload_config.batch_size = Some(7);
            spec.upload_config.parallel = Some(3);
        })
        .await;
    let ended = bench.execute().await;
    assert_eq!(ended.status(), RunStatus::Completed, "{:?}", ended.error());
    let upload = &ended.metrics().unwrap()["upload"];
    assert_eq!((&upload["batch_size"], &upload["parallel"], &upload["points"]), (&json!(7), &json!(3), &json!(580)));
    // The defaults of this bench upload 50 points at a time: 12 upserts; 7 at a time needs 83.
    assert!(bench.provider.store.upserts() >= 580 / 7, "{} upserts", bench.provider.store.upserts());
}

#[tokio::test]
async fn a_completed_run_keeps_its_collection_when_the_experiment_asks() {
    let bench = bench();
    bench.reader.insert(URI, MemoryDataset::synthetic(&synthetic(300, 10)));
    let run = bench.queue_run(|spec| spec.keep_collection = true).await;
    let ended = bench.execute().await;
    assert_eq!(ended.status(), RunStatus::Completed, "{:?}", ended.error());
    assert_eq!(bench.provider.store.collections(), [format!("qbench-{}", run.id())]);
    assert!(bench.provider.store.dropped().is_empty());
    assert_eq!(ended.metrics().unwrap()["provenance"]["collection_kept"], true);
}

#[tokio::test]
async fn a_computed_ground_truth_is_cached_and_reused_until_the_data_changes() {
    let bench = bench();
    bench.reader.insert(URI, MemoryDataset::synthetic(&synthetic(600, 20)));
    let experiment = bench.queue_run(|_| {}).await.experiment_id();
    let first = bench.execute().await;
    assert_eq!(first.metrics().unwrap()["dataset"]["ground_truth"], "computed");
    let keys = bench.results.truth_keys();
    assert_eq!(keys.len(), 2, "one ground truth per vector: {keys:?}");

    bench.runs.create(&Caller::development(), experiment, None).await.unwrap();
    let second = bench.execute().await;
    assert_eq!(second.metrics().unwrap()["dataset"]["ground_truth"], "cached");
    assert_eq!(bench.results.truth_hits(), 2);
    assert!(results(&second).iter().all(|result| result["recall"] == 1.0), "{:?}", results(&second));

    // The cache is what the run scores against: a wrong one shows in the recall.
    for key in &keys {
        bench.results.replace_truth(key, vec![vec![(PointId::Num(u64::MAX), 0.0)]; 20]);
    }
    bench.runs.create(&Caller::development(), experiment, None).await.unwrap();
    let poisoned = bench.execute().await;
    assert!(results(&poisoned).iter().all(|result| result["recall"] == 0.0), "{:?}", results(&poisoned));

    // Other data at the same location is another dataset: its ground truth is computed afresh.
    bench.reader.insert(URI, MemoryDataset::synthetic(&SyntheticSpec { seed: 12, ..synthetic(600, 20) }));
    bench.runs.create(&Caller::development(), experiment, None).await.unwrap();
    let changed = bench.execute().await;
    assert_eq!(changed.metrics().unwrap()["dataset"]["ground_truth"], "computed");
    assert_eq!(bench.results.truth_keys().len(), 4);
    assert!(results(&changed).iter().all(|result| result["recall"] == 1.0), "{:?}", results(&changed));
}

fn text() -> VectorName {
    "text".parse().unwrap()
}

fn image() -> VectorName {
    "image".parse().unwrap()
}

#[tokio::test]
async fn a_sampled_run_uploads_the_seeded_sample_and_scores_it_against_a_ground_truth_of_the_sample() {
    let bench = bench();
    let mut spec = synthetic(1_000, 15);
    spec.vectors.retain(|name, _| name.as_str() == "text");
    // The dataset's neighbours file lists neighbours among all 1,000 points: wrong for a sample.
    bench.reader.insert(URI, MemoryDataset::synthetic_directory(&spec, 10));
    let declared = SchemaConfig { vectors: spec.vectors.clone(), ..SchemaConfig::default() };
    let sample = |seed| PointSample { fraction: 0.3, seed };
    let expected = (0..1_000_u64).filter(|id| sample(1).keeps(&PointId::Num(*id))).count() as u64;
    let mut runs = Vec::new();
    for seed in [1, 1, 2] {
        bench
            .queue_run_declaring(declared.clone(), |experiment| experiment.upload_config.sample = Some(sample(seed)))
            .await;
        let ended = bench.execute().await;
        assert_eq!(ended.status(), RunStatus::Completed, "{:?}", ended.error());
        runs.push(ended.metrics().unwrap().clone());
    }
    let first = &runs[0];
    assert_eq!(first["points"], expected, "{first:#}");
    assert!((250..350).contains(&expected), "about 30 % of 1,000: {expected}");
    assert_eq!(first["dataset"]["ground_truth"], "computed", "{first:#}");
    assert!(first["results"].as_array().unwrap().iter().all(|result| result["recall"] == 1.0), "{first:#}");
    let warnings = first["warnings"].as_array().unwrap();
    assert!(warnings.iter().any(|warning| warning.as_str().unwrap().contains("sample of 30.00 %")), "{warnings:?}");
    // The same sample reuses the ground truth computed for it; another seed does not.
    assert_eq!(runs[1]["dataset"]["ground_truth"], "cached", "{:#}", runs[1]);
    assert_eq!(runs[2]["dataset"]["ground_truth"], "computed", "{:#}", runs[2]);
    assert_ne!(runs[2]["points"], first["points"]);
}

/// Runs an experiment on `text` alone over a directory dataset of `text` and `image` whose
/// neighbours files are `neighbors` (file vector → the lists of which vector).
async fn run_on_text(neighbors: &[(Option<VectorName>, VectorName)], edit: impl FnOnce(&mut ExperimentSpec)) -> Run {
    let bench = bench();
    let mut dataset = MemoryDataset::synthetic_directory(&synthetic(400, 15), 10);
    let per_vector = std::mem::take(&mut dataset.neighbors);
    for (file, lists) in neighbors {
        dataset.neighbors.insert(file.clone(), per_vector[&Some(lists.clone())].clone());
    }
    bench.reader.insert(URI, dataset);
    bench
        .queue_run(|experiment| {
            experiment.vector_config = Some(schema().vectors.into_iter().filter(|(name, _)| *name == text()).collect());
            edit(experiment);
        })
        .await;
    bench.execute().await
}

#[tokio::test]
async fn a_run_on_one_vector_of_two_scores_against_that_vectors_own_neighbours_file() {
    // Each vector has its file; the run on `text` alone must take `text`'s, not the first by name.
    let ended = run_on_text(&[(Some(text()), text()), (Some(image()), image())], |_| {}).await;
    assert_eq!(ended.status(), RunStatus::Completed, "{:?}", ended.error());
    let metrics = ended.metrics().unwrap();
    let source = &metrics["dataset"]["ground_truth_vectors"]["text"];
    assert_eq!(source["source"], "neighbors_file", "{metrics:#}");
    assert!(source["file"].as_str().unwrap().ends_with("neighbors-text.parquet"), "{source}");
    assert_eq!(source["check"]["passed"], true, "{source}");
    assert_eq!(source["check"]["queries"], 15, "every query when there are fewer than 20");
    assert_eq!(source["check"]["distance"], "Cosine");
    assert!(results(&ended).iter().all(|result| result["recall"] == 1.0));
    let warnings = metrics["warnings"].as_array().unwrap();
    assert!(!warnings.iter().any(|warning| warning.as_str().unwrap().contains("neighbors")), "{warnings:?}");
}

#[tokio::test]
async fn a_plain_neighbors_file_of_a_two_vector_dataset_is_not_taken_for_either_vector() {
    // `neighbors.parquet` holds image's neighbours but does not say so: it is not used for `text`.
    let ended = run_on_text(&[(None, image())], |_| {}).await;
    assert_eq!(ended.status(), RunStatus::Completed, "{:?}", ended.error());
    let metrics = ended.metrics().unwrap();
    assert_eq!(metrics["dataset"]["ground_truth_vectors"]["text"]["source"], "computed", "{metrics:#}");
    let warning = metrics["warnings"][0].as_str().unwrap();
    assert!(warning.contains("neighbors.parquet not used for vector `text`"), "{warning}");
    assert!(results(&ended).iter().all(|result| result["recall"] == 1.0));
}

#[tokio::test]
async fn another_vectors_neighbours_fail_the_run_in_prepare_naming_vector_and_distance() {
    // The file named after `text` holds `image`'s neighbours: recall would be near zero, silently.
    let ended = run_on_text(&[(Some(text()), image())], |_| {}).await;
    assert_eq!(ended.status(), RunStatus::Failed);
    let error = ended.error().unwrap();
    for part in ["prepare", "neighbors-text.parquet", "vector `text`", "Cosine", "Wrong vector or distance?"] {
        assert!(error.contains(part), "{part:?} missing from: {error}");
    }
    assert!(error.contains("allow_ground_truth_mismatch"), "{error}");
}

#[tokio::test]
async fn a_wrong_distance_fails_the_run_and_an_allowed_mismatch_is_recorded_and_flagged() {
    // `image` is Euclid data with Euclid neighbours; the dataset declares it Dot.
    let bench = bench();
    let mut spec = synthetic(400, 15);
    spec.vectors.retain(|name, _| *name == image());
    bench.reader.insert(URI, MemoryDataset::synthetic_directory(&spec, 10));
    let mut declared = SchemaConfig { vectors: spec.vectors.clone(), ..SchemaConfig::default() };
    declared.vectors.get_mut(&image()).unwrap().distance = Distance::Dot;
    let exact = |experiment: &mut ExperimentSpec| {
        experiment.optimizer_config.indexing.clear();
        experiment.search_config.exact = true;
    };
    bench.queue_run_declaring(declared.clone(), exact).await;
    let failed = bench.execute().await;
    assert_eq!(failed.status(), RunStatus::Failed);
    let error = failed.error().unwrap();
    assert!(error.contains("vector `image` with distance Dot"), "{error}");

    bench
        .queue_run_declaring(declared, |experiment| {
            exact(experiment);
            experiment.search_config.allow_ground_truth_mismatch = true;
        })
        .await;
    let ended = bench.execute().await;
    assert_eq!(ended.status(), RunStatus::Completed, "{:?}", ended.error());
    let metrics = ended.metrics().unwrap();
    let check = &metrics["dataset"]["ground_truth_vectors"]["image"]["check"];
    assert_eq!(check["passed"], false, "{check}");
    assert!(check["agreement"].as_f64().unwrap() < 0.99, "{check}");
    let warnings: Vec<&str> = metrics["warnings"].as_array().unwrap().iter().map(|w| w.as_str().unwrap()).collect();
    assert!(warnings.iter().any(|w| w.contains("Used anyway")), "{warnings:?}");
    // Exact search scored against the mismatched file misses: the setting is flagged.
    let exact = &results(&ended)[0];
    assert_eq!(exact["setting"], "exact");
    assert!(exact["recall"].as_f64().unwrap() < 0.99, "{exact}");
    assert!(exact["flags"][0].as_str().unwrap().contains("exact search scored recall"), "{exact}");
}

#[tokio::test]
async fn editing_the_experiment_after_triggering_a_run_changes_neither_what_it_runs_nor_reports() {
    let bench = bench();
    bench.reader.insert(URI, MemoryDataset::synthetic(&synthetic(300, 10)));
    let queued = bench.queue_run(|_| {}).await;
    let mut edited = bench.experiments.get(&Caller::development(), queued.experiment_id()).await.unwrap().spec;
    edited.search_config.hnsw_ef = vec![128];
    edited.search_config.k = 5;
    bench.experiments.update(&Caller::development(), queued.experiment_id(), edited).await.unwrap();

    let ended = bench.execute().await;
    assert_eq!(ended.status(), RunStatus::Completed, "{:?}", ended.error());
    let settings: Vec<Value> = results(&ended).iter().map(|result| result["setting"].clone()).collect();
    assert_eq!(
        settings,
        ["hnsw_ef=32", "hnsw_ef=64", "hnsw_ef=32", "hnsw_ef=64"],
        "the settings it was triggered with"
    );
    assert!(results(&ended).iter().all(|result| result["k"] == 10));
    assert_eq!(ended.settings().unwrap().search_config.hnsw_ef, [32, 64]);
}

#[tokio::test]
async fn each_setting_is_measured_in_repeated_passes_of_at_least_the_minimum_duration() {
    let bench = bench();
    bench.reader.insert(URI, MemoryDataset::synthetic(&synthetic(300, 10)));
    bench
        .queue_run(|experiment| {
            experiment.search_config.min_seconds = Some(0.05);
            experiment.search_config.repetitions = Some(3);
            experiment.search_config.primary_hnsw_ef = Some(64);
        })
        .await;
    let ended = bench.execute().await;
    assert_eq!(ended.status(), RunStatus::Completed, "{:?}", ended.error());
    for result in results(&ended) {
        let passes = result["passes"].as_array().unwrap();
        assert_eq!(passes.len(), 3, "{result}");
        for pass in passes {
            assert!(pass["seconds"].as_f64().unwrap() >= 0.05, "a pass lasts the minimum: {pass}");
            assert!(pass["queries"].as_u64().unwrap() >= 20, "the 20 queries are cycled through: {pass}");
        }
        assert_eq!(result["queries"], 20, "quality is scored once per query");
        let mean = passes.iter().map(|pass| pass["qps"].as_f64().unwrap()).sum::<f64>() / 3.0;
        let interval = &result["qps_interval"];
        assert!((result["qps"].as_f64().unwrap() - mean).abs() < 1e-6 * mean, "QPS is the passes' mean: {result}");
        assert_eq!(interval["samples"], 3);
        assert!(interval["low"].as_f64().unwrap() <= mean && mean <= interval["high"].as_f64().unwrap(), "{interval}");
        assert_eq!(result["p99_interval"]["samples"], 3, "{result}");
    }
    // The headline is the setting the experiment marks primary, named with its rule.
    let metrics = ended.metrics().unwrap();
    assert_eq!(metrics["headline"]["setting"], "hnsw_ef=64", "{metrics:#}");
    assert_eq!(metrics["headline"]["rule"], "primary");
    let primary = results(&ended).into_iter().find(|result| result["setting"] == "hnsw_ef=64").unwrap();
    assert_eq!(metrics["qps"], primary["qps"]);
    assert_eq!(metrics["p_95_latency"], primary["latency"]["p95"]);
}

#[tokio::test]
async fn a_setting_whose_passes_disagree_is_flagged_unstable() {
    // The first pass is fast; from the 23rd search on (2 warm-up + 20 queries) each waits 5 ms.
    let bench = bench_with(|provider| {
        let store = SlowSearches {
            store: provider.store.clone(),
            delay: Duration::from_millis(5),
            slow_from: 22,
            searches: AtomicU64::new(0),
            ef_limited: false,
        };
        Arc::new(SlowSearchesProvider(Arc::new(store)))
    });
    bench.reader.insert(URI, MemoryDataset::synthetic(&synthetic(400, 20)));
    bench
        .queue_run(|experiment| {
            experiment.search_config.vectors = Some(vec![text()]);
            experiment.search_config.hnsw_ef = vec![32];
            experiment.search_config.repetitions = Some(3);
        })
        .await;
    let ended = bench.execute().await;
    assert_eq!(ended.status(), RunStatus::Completed, "{:?}", ended.error());
    let result = &results(&ended)[0];
    assert_eq!(result["unstable"], true, "{result}");
    assert!(result["flags"][0].as_str().unwrap().starts_with("unstable: QPS ±"), "{result}");
    let warnings = ended.metrics().unwrap()["warnings"].clone();
    assert!(warnings[0].as_str().unwrap().contains("text hnsw_ef=32: unstable"), "{warnings}");
}

#[tokio::test]
async fn a_grid_study_builds_each_configuration_once_and_recommends_the_best_that_meets_the_target() {
    let bench = bench();
    let space = StudySpace {
        vectors: [(text(), VectorBuildSpace::new(vec![8, 16], vec![32]))].into(),
        quantization: vec![qbench_domain::study::QuantizationChoice::None],
        search: SearchSpace::ef(EfValues::List(vec![16, 32])),
        parallel: vec![1, 2],
    };
    let report = run_study(&bench, space, Strategy::Grid).await;

    // Two builds, each one trial run of the study, every hnsw_ef measured on it.
    assert_eq!(report.trials.len(), 2);
    assert!(report.trials.iter().all(|trial| trial.status == "COMPLETED"), "{:?}", report.trials);
    assert_eq!(report.builds_made, 2);
    assert_eq!((report.grid.builds, report.grid.measurements), (2, 8));
    assert_eq!(report.points.len(), 8, "2 builds × 2 hnsw_ef × 2 client counts, all on the build");
    let clients: Vec<u32> = report.points.iter().map(|point| point.point.parallel).collect();
    assert_eq!(clients, [1, 2, 1, 2, 1, 2, 1, 2]);
    for trial in &report.trials {
        let run = bench.repositories.runs.get(trial.run_id.parse::<uuid::Uuid>().unwrap().into()).await.unwrap();
        let settings = run.settings().unwrap();
        assert_eq!(settings.search_config.hnsw_ef, [16, 32], "{}", trial.label);
        let m = settings.optimizer_config.indexing[&text()].m;
        assert!(trial.label.starts_with(&format!("m={}", m.unwrap())), "{} built m {m:?}", trial.label);
    }
    // The exact in-memory engine meets the target everywhere: the recommendation is the fastest.
    let recommendation = report.recommendation.unwrap();
    assert!(recommendation.meets_target);
    let fastest = report.points.iter().map(|point| point.point.qps).fold(f64::MIN, f64::max);
    assert_eq!(report.points[recommendation.point].point.qps, fastest);
    assert!(!report.fronts.recall_vs_qps.is_empty());
    assert!(report.fronts.recall_vs_qps.contains(&recommendation.point));
    let collection = serde_json::to_value(&recommendation.qdrant.collection).unwrap();
    let build = &report.points[recommendation.point].point.build;
    assert_eq!(collection["vectors"]["text"]["hnsw_config"]["m"], build.vectors[&text()].m, "{collection}");
    assert_eq!(collection["vectors"]["text"]["distance"], "Cosine");
    let search = serde_json::to_value(recommendation.qdrant.search_params).unwrap();
    assert_eq!(search["hnsw_ef"], report.points[recommendation.point].point.setting.hnsw_ef.unwrap());
}

#[tokio::test]
async fn a_study_measures_every_quantization_choice_and_exact_search_it_counts() {
    // Found missing: trials measured the first rescore/oversampling choice only and never `exact`,
    // while `validate` counted them all.
    let space = StudySpace {
        vectors: [(text(), VectorBuildSpace::new(vec![16], vec![32]))].into(),
        quantization: vec![qbench_domain::study::QuantizationChoice::Scalar(qbench_domain::ScalarType::Int8)],
        search: SearchSpace {
            exact: true,
            rescore: vec![true, false],
            ..SearchSpace::ef(EfValues::List(vec![16, 64]))
        },
        parallel: vec![1],
    };
    for strategy in [Strategy::Grid, Strategy::Auto] {
        let report = run_study(&bench(), space.clone(), strategy).await;
        let settings: Vec<String> = report.points.iter().map(|point| point.point.setting.label()).collect();
        let exact = report.points.iter().filter(|point| point.point.setting.exact).count();
        assert_eq!(exact, 1, "{strategy:?}: {settings:?}");
        let ignored = report.points.iter().find(|point| point.point.setting.exact).unwrap();
        assert_eq!(ignored.point.setting.quantization.and_then(|q| q.ignore), Some(true), "exact ignores int8");
        for rescore in [true, false] {
            let with = report
                .points
                .iter()
                .filter(|point| point.point.setting.quantization.and_then(|q| q.rescore) == Some(rescore))
                .count();
            // Grid: both hnsw_ef; auto: the one its bisection found for this choice.
            let expected = if strategy == Strategy::Grid { 2 } else { 1 };
            assert_eq!(with, expected, "{strategy:?} rescore={rescore}: {settings:?}");
        }
        if strategy == Strategy::Grid {
            assert_eq!(report.points.len() as u64, report.grid.measurements, "{settings:?}");
        }
    }
}

#[tokio::test]
async fn every_setting_is_also_measured_with_the_client_counts_of_the_sweep() {
    let bench = bench();
    bench.reader.insert(URI, MemoryDataset::synthetic(&synthetic(300, 10)));
    bench
        .queue_run(|experiment| {
            experiment.search_config.vectors = Some(vec![text()]);
            experiment.search_config.parallel_sweep = vec![3, 1, 2];
        })
        .await;
    let ended = bench.execute().await;
    assert_eq!(ended.status(), RunStatus::Completed, "{:?}", ended.error());
    let rows: Vec<(String, u64)> = results(&ended)
        .iter()
        .map(|result| (result["setting"].as_str().unwrap().to_owned(), result["parallel"].as_u64().unwrap()))
        .collect();
    let expected: Vec<(String, u64)> = ["hnsw_ef=32", "hnsw_ef=64"]
        .iter()
        .flat_map(|setting| [1, 3, 2].map(|clients| ((*setting).to_owned(), clients)))
        .collect();
    assert_eq!(rows, expected, "parallel first, then the sweep once each");
    assert!(results(&ended).iter().all(|result| result["recall"] == 1.0));
}

/// Runs a study of `space` (recall@10 0.9 on `text`, QPS best, two repetitions) on the bench's
/// dataset with its worker looping, and answers the report of the completed study.
async fn run_study(bench: &Bench, space: StudySpace, strategy: Strategy) -> StudyReport {
    run_study_within(bench, space, strategy, qbench_domain::study::Budget::default()).await
}

/// [`run_study`] within `budget`.
async fn run_study_within(
    bench: &Bench,
    space: StudySpace,
    strategy: Strategy,
    budget: qbench_domain::study::Budget,
) -> StudyReport {
    run_study_on(bench, 300, space, strategy, budget, Optimise::Qps).await
}

/// [`run_study_within`] on `rows` rows, making `optimise` best.
async fn run_study_on(
    bench: &Bench,
    rows: usize,
    space: StudySpace,
    strategy: Strategy,
    budget: qbench_domain::study::Budget,
    optimise: Optimise,
) -> StudyReport {
    bench.reader.insert(URI, MemoryDataset::synthetic(&synthetic(rows, 10)));
    // Registers the dataset and the connection; the queued run itself is not needed.
    let run = bench.queue_run(|_| {}).await;
    let experiment = bench.experiments.get(&Caller::development(), run.experiment_id()).await.unwrap();
    // Inspected, so that `auto` knows how many points a sample holds.
    bench.datasets.inspect(&Caller::development(), experiment.spec.dataset_id).await.unwrap();
    bench.runs.cancel(&Caller::development(), run.id()).await.unwrap();
    let objective = Objective { metric: QualityMetric::Recall, target: 0.9, optimise };
    let mut spec = StudySpec::new("tune", experiment.spec.dataset_id, experiment.spec.connection_id, space, objective);
    spec.vectors = Some(vec![text()]);
    spec.repetitions = 2;
    spec.strategy = strategy;
    spec.budget = budget;
    let study = bench.studies.create(&Caller::development(), spec).await.unwrap();

    let shutdown = tokio_util::sync::CancellationToken::new();
    let worker = tokio::spawn(bench.worker.clone().run(Arc::new(tokio::sync::Notify::new()), shutdown.clone()));
    let deadline = Instant::now() + Duration::from_secs(60);
    let ended = loop {
        let job = bench.studies.get(&Caller::development(), study.id()).await.unwrap();
        if job.status().is_terminal() {
            break job;
        }
        assert!(Instant::now() < deadline, "the study never ended: {:?}", job.progress());
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    shutdown.cancel();
    worker.await.unwrap();
    assert_eq!(ended.status(), qbench_domain::JobStatus::Completed, "{:?}", ended.error());
    serde_json::from_value(ended.result().unwrap().clone()).unwrap()
}

/// A bench whose engine answers `hnsw_ef / 8` points per query.
fn ef_limited_bench() -> Bench {
    bench_with(ef_limited)
}

/// The stores of an engine answering `hnsw_ef / 8` points per query.
fn ef_limited(provider: &InMemoryStoreProvider) -> Arc<dyn VectorStoreProvider> {
    let store = SlowSearches {
        store: provider.store.clone(),
        delay: Duration::ZERO,
        slow_from: u64::MAX,
        searches: AtomicU64::new(0),
        ef_limited: true,
    };
    Arc::new(SlowSearchesProvider(Arc::new(store)))
}

#[tokio::test]
async fn an_hnsw_ef_search_measures_the_smallest_hnsw_ef_that_reaches_the_target() {
    let bench = ef_limited_bench();
    bench.reader.insert(URI, MemoryDataset::synthetic(&synthetic(400, 10)));
    bench
        .queue_run(|experiment| {
            experiment.search_config.vectors = Some(vec![text()]);
            experiment.search_config.hnsw_ef = Vec::new();
            experiment.search_config.hnsw_ef_search =
                Some(qbench_domain::EfSearch { min: 16, max: 256, metric: QualityMetric::Recall, target: 0.9 });
        })
        .await;
    let ended = bench.execute().await;
    assert_eq!(ended.status(), RunStatus::Completed, "{:?}", ended.error());
    let found = results(&ended);
    assert_eq!(found.len(), 1, "only the setting found is measured in full: {found:#?}");
    // 72 / 8 = 9 of 10 neighbours: the smallest hnsw_ef at recall 0.9, within bisection's 5 %.
    let ef = found[0]["hnsw_ef"].as_u64().unwrap();
    assert!((72..=75).contains(&ef), "hnsw_ef {ef}");
    assert!(found[0]["recall"].as_f64().unwrap() >= 0.9);
    assert!(found[0]["chosen_by"].as_str().unwrap().starts_with("bisection: the smallest"), "{}", found[0]);
    let flags = found[0]["flags"].as_array().unwrap();
    assert!(
        !flags.iter().any(|flag| flag.as_str().unwrap().contains("hnsw_ef")),
        "a setting found is not a warning: {flags:?}"
    );

    // A target no hnsw_ef of the range reaches is measured at the best one and said so.
    bench
        .queue_run(|experiment| {
            experiment.search_config.vectors = Some(vec![text()]);
            experiment.search_config.hnsw_ef = Vec::new();
            experiment.search_config.hnsw_ef_search =
                Some(qbench_domain::EfSearch { min: 16, max: 40, metric: QualityMetric::Recall, target: 0.9 });
        })
        .await;
    let ended = bench.execute().await;
    let result = &results(&ended)[0];
    assert_eq!(result["hnsw_ef"], 40, "{result}");
    assert!(result["flags"][0].as_str().unwrap().starts_with("unreachable"), "{result}");
}

#[tokio::test]
async fn an_auto_study_recommends_the_grids_configuration_with_fewer_measurements() {
    let outcome = |strategy: Strategy| async move {
        let space = StudySpace {
            vectors: [(text(), VectorBuildSpace::new(vec![8, 16], vec![32]))].into(),
            quantization: vec![qbench_domain::study::QuantizationChoice::None],
            search: SearchSpace::ef(EfValues::List(vec![16, 32, 64, 80, 128, 256])),
            parallel: vec![1],
        };
        run_study(&ef_limited_bench(), space, strategy).await
    };
    let grid = outcome(Strategy::Grid).await;
    let auto = outcome(Strategy::Auto).await;
    assert_eq!((grid.points.len(), auto.points.len()), (12, 2), "auto measures one setting per build in full");
    let recommended = |report: &StudyReport| {
        let chosen = report.recommendation.as_ref().unwrap();
        assert!(chosen.meets_target);
        report.points[chosen.point].point.setting.hnsw_ef.unwrap()
    };
    // Every grid value from 80 up reaches the target, at the same speed on this engine: the grid
    // recommends one of them. Auto finds the true smallest (72–75), at least as cheap as any.
    assert!([80, 128, 256].contains(&recommended(&grid)), "{}", recommended(&grid));
    let cheapest_in_grid = grid
        .points
        .iter()
        .filter(|point| point.point.quality.recall >= 0.9)
        .filter_map(|point| point.point.setting.hnsw_ef)
        .min()
        .unwrap();
    assert_eq!(cheapest_in_grid, 80);
    assert!((72..=cheapest_in_grid).contains(&recommended(&auto)), "{}", recommended(&auto));
}

#[tokio::test]
async fn an_auto_study_prunes_builds_on_samples_and_builds_only_the_survivor_on_all_the_points() {
    // Memory best: on this engine a build's graph takes 8·m bytes a point, so the smallest m that
    // reaches the target wins, and halving on samples must keep it in every round.
    let sampling = || bench_sampling(ef_limited, Arc::new(SystemClock), 50);
    let space = || StudySpace {
        vectors: [(text(), VectorBuildSpace::new(vec![4, 8, 16, 32], vec![32, 64]))].into(),
        quantization: vec![qbench_domain::study::QuantizationChoice::None],
        search: SearchSpace::ef(EfValues::List(vec![16, 128])),
        parallel: vec![1],
    };
    let budget = qbench_domain::study::Budget::default();
    let grid = run_study_on(&sampling(), 1_000, space(), Strategy::Grid, budget, Optimise::Memory).await;
    let auto = run_study_on(&sampling(), 1_000, space(), Strategy::Auto, budget, Optimise::Memory).await;

    // Auto builds the largest ef_construct of each m only: 4 builds, 4 on 1/9 of the points (111),
    // the best 2 on 1/3 (333), the best one on all.
    assert!(auto.notes.iter().any(|note| note.contains("auto built 4 of the space's 8 builds")), "{:#?}", auto.notes);
    let fractions: Vec<Option<f64>> = auto.trials.iter().map(|trial| trial.sample.map(|s| s.fraction)).collect();
    let expected: Vec<Option<f64>> = [vec![Some(1.0 / 9.0); 4], vec![Some(1.0 / 3.0); 2], vec![None]].concat();
    assert_eq!(fractions, expected, "{:#?}", auto.notes);
    assert!(auto.trials.iter().all(|trial| trial.build.vectors[&text()].ef_construct == 64), "{:#?}", auto.trials);
    assert_eq!((auto.builds_made, auto.sample_builds), (7, 6));
    assert!(auto.points.iter().all(|point| point.run_id == auto.trials[6].run_id), "only the full build gives points");
    assert!(auto.notes.iter().any(|note| note.contains("kept 2 by memory")), "{:#?}", auto.notes);
    let chosen = |report: &StudyReport| {
        let recommendation = report.recommendation.as_ref().unwrap();
        assert!(recommendation.meets_target, "{recommendation:?}");
        report.points[recommendation.point].point.clone()
    };
    // The grid's choice and auto's have the same m, so the same memory on this engine.
    let (grid_choice, auto_choice) = (chosen(&grid), chosen(&auto));
    assert!(grid_choice.build.label().starts_with("m=4,ef_construct=32"), "{}", grid_choice.build.label());
    assert_eq!(auto_choice.build.vectors[&text()].m, 4);
    assert_eq!(auto_choice.memory_bytes, grid_choice.memory_bytes);
    assert_eq!(grid.sample_builds, 0);
}

#[tokio::test]
async fn a_sample_round_that_builds_nothing_ends_the_rounds() {
    // Found in review: a round left with no build went on to the next round, which noted again
    // that nothing completed on its sample.
    let bench = bench_sampling(|provider| Arc::new(provider.clone()), Arc::new(SystemClock), 50);
    bench.provider.store.set_unreachable(true);
    let space = StudySpace {
        vectors: [(text(), VectorBuildSpace::new(vec![4, 8, 16, 32], vec![32]))].into(),
        quantization: vec![qbench_domain::study::QuantizationChoice::None],
        search: SearchSpace::ef(EfValues::List(vec![16, 128])),
        parallel: vec![1],
    };
    let budget = qbench_domain::study::Budget::default();
    let report = run_study_on(&bench, 1_000, space, Strategy::Auto, budget, Optimise::Qps).await;
    assert_eq!(report.trials.len(), 4, "the first round only: {:#?}", report.notes);
    assert!(report.trials.iter().all(|trial| trial.status == "FAILED" && trial.sample.is_some()));
    let nothing: Vec<&String> = report.notes.iter().filter(|note| note.contains("no build completed")).collect();
    assert_eq!(nothing.len(), 1, "{:#?}", report.notes);
    assert!(report.points.is_empty() && report.recommendation.is_none());
}

#[tokio::test]
async fn cancelling_a_study_cancels_its_current_trial_and_keeps_the_finished_ones() {
    // Searches are slow from the 60th on: the first trial finishes, the second is still searching.
    let bench = bench_with(|provider| {
        let store = SlowSearches {
            store: provider.store.clone(),
            delay: Duration::from_millis(20),
            slow_from: 60,
            searches: AtomicU64::new(0),
            ef_limited: false,
        };
        Arc::new(SlowSearchesProvider(Arc::new(store)))
    });
    bench.reader.insert(URI, MemoryDataset::synthetic(&synthetic(300, 10)));
    let run = bench.queue_run(|_| {}).await;
    let experiment = bench.experiments.get(&Caller::development(), run.experiment_id()).await.unwrap();
    bench.runs.cancel(&Caller::development(), run.id()).await.unwrap();
    let space = StudySpace {
        vectors: [(text(), VectorBuildSpace::new(vec![8, 16, 32], vec![32]))].into(),
        quantization: vec![qbench_domain::study::QuantizationChoice::None],
        search: SearchSpace::ef(EfValues::List(vec![16])),
        parallel: vec![1],
    };
    let objective = Objective { metric: QualityMetric::Recall, target: 0.9, optimise: Optimise::Qps };
    let mut spec = StudySpec::new("tune", experiment.spec.dataset_id, experiment.spec.connection_id, space, objective);
    spec.vectors = Some(vec![text()]);
    spec.repetitions = 2;
    let study = bench.studies.create(&Caller::development(), spec).await.unwrap();
    let shutdown = tokio_util::sync::CancellationToken::new();
    let worker = tokio::spawn(bench.worker.clone().run(Arc::new(tokio::sync::Notify::new()), shutdown.clone()));

    let of_study = qbench_repository::RunFilter { study_id: Some(study.id()), ..Default::default() };
    let page = qbench_repository::Page { limit: 10, offset: 0 };
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let trials = bench.repositories.runs.list(of_study.clone(), page).await.unwrap().items;
        if trials.iter().any(|trial| trial.status() == RunStatus::Running && trial.progress().phase == "search")
            && trials.len() == 2
        {
            break;
        }
        assert!(Instant::now() < deadline, "the second trial never reached its search");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let jobs = qbench_service::jobs::JobService::new(
        bench.repositories.jobs.clone(),
        bench.repositories.workers.clone(),
        bench.repositories.queue.clone(),
        Arc::new(SystemClock),
    );
    jobs.cancel(&Caller::development(), study.id()).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let trials = loop {
        let study = bench.studies.get(&Caller::development(), study.id()).await.unwrap();
        let trials = bench.repositories.runs.list(of_study.clone(), page).await.unwrap().items;
        if study.status() == qbench_domain::JobStatus::Canceled
            && trials.iter().all(|trial| trial.status().is_terminal())
        {
            break trials;
        }
        assert!(Instant::now() < deadline, "the study or its trial did not stop");
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    shutdown.cancel();
    worker.await.unwrap();
    // Newest first: the second trial was cancelled, the first kept its result; no third was started.
    let statuses: Vec<RunStatus> = trials.iter().map(Run::status).collect();
    assert_eq!(statuses, [RunStatus::Canceled, RunStatus::Completed]);
    assert!(trials[1].metrics().is_some(), "the finished trial keeps its report");
}

#[tokio::test]
async fn a_study_over_its_build_budget_says_which_builds_it_left_out() {
    let space = StudySpace {
        vectors: [(text(), VectorBuildSpace::new(vec![8, 16, 32], vec![32]))].into(),
        quantization: vec![qbench_domain::study::QuantizationChoice::None],
        search: SearchSpace::ef(EfValues::List(vec![16])),
        parallel: vec![1],
    };
    let budget = qbench_domain::study::Budget { max_builds: Some(2), max_seconds: None };
    let report = run_study_within(&bench(), space, Strategy::Grid, budget).await;
    assert_eq!((report.trials.len(), report.grid.builds), (2, 3));
    assert_eq!(report.notes, ["budget.max_builds: 2 of the space's 3 builds were made"]);
}
