//! Backfills over the testkit's fakes on an injected clock: a sharded in-memory dataset loaded
//! into the exact in-memory store by the real worker, interrupted (a worker dropped mid-upsert, a
//! pause, transient and permanent failures) and continued.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use qbench_domain::backfill::{Backfill, BackfillMode, BackfillSpec, IndexSettings, WorkItem, WorkItemStatus};
use qbench_domain::study::{
    BuildConfig, Constraints, Objective, Optimise, QualityMetric, SearchSettingChoice, SpaceSize, StudyPoint,
    StudyReport, TrialPoint, TrialQuality, VectorBuild,
};
use qbench_domain::synthetic::SyntheticSpec;
use qbench_domain::{
    Caller, Connection, ConnectionSpec, Dataset, DatasetSpec, Dimension, Distance, IndexConfig, Job, JobId, JobKind,
    JobStatus, OptimizerConfig, PointId, Role, SchemaConfig, VectorSpec, Violation,
};
use qbench_repository::Page;
use qbench_service::backfills::{BackfillCommand, BackfillHandler, BackfillService};
use qbench_service::jobs::{JobWorker, WorkerSettings};
use qbench_service::{Clock, ManualClock, Repositories, ServiceError};
use qbench_storage::PointBatch;
use qbench_testkit::dataset::{InMemoryDatasetReader, MemoryDataset};
use qbench_testkit::in_memory_repositories_with_clock;
use qbench_testkit::vector_store::InMemoryStoreProvider;

const URI: &str = "datasets/sharded/";
const COLLECTION: &str = "qbench-docs";
const LEASE: Duration = Duration::from_secs(30);
/// The files of the dataset, by the rows of their row groups: 120 rows in five items of at most
/// [`ITEM_ROWS`] rows (`train-00` in two, `train-01` in one, `train-02` in two).
const SHARDS: [&[u64]; 3] = [&[20, 20], &[30], &[25, 25]];
const ROWS: u64 = 120;
const ITEM_ROWS: u64 = 25;

struct Setup {
    repositories: Repositories,
    clock: Arc<ManualClock>,
    reader: InMemoryDatasetReader,
    provider: InMemoryStoreProvider,
    service: BackfillService,
    worker: Arc<JobWorker>,
    dataset: Dataset,
    connection: Connection,
    dev: Caller,
}

fn schema() -> SchemaConfig {
    SchemaConfig::from_vectors([("dense", VectorSpec::new(Dimension::new(8).unwrap(), Distance::Cosine))]).unwrap()
}

/// The whole dataset, three files.
fn sharded() -> MemoryDataset {
    let spec = SyntheticSpec { rows: ROWS as usize, queries: 0, vectors: schema().vectors, clusters: 4, seed: 5 };
    MemoryDataset::synthetic(&spec).sharded(SHARDS.iter().map(|groups| groups.to_vec()).collect())
}

/// The dataset before its last file was added: its first two files.
fn without_last_file() -> MemoryDataset {
    let full = sharded();
    let rows = (SHARDS[0].iter().sum::<u64>() + SHARDS[1].iter().sum::<u64>()) as usize;
    let train = PointBatch {
        first_row: 0,
        ids: full.train.ids[..rows].to_vec(),
        vectors: full.train.vectors.iter().map(|(name, values)| (name.clone(), values[..rows * 8].to_vec())).collect(),
        payloads: full.train.payloads.get(..rows).map(<[_]>::to_vec).unwrap_or_default(),
    };
    MemoryDataset { train, shards: vec![SHARDS[0].to_vec(), SHARDS[1].to_vec()], ..full }
}

async fn setup() -> Setup {
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let (repositories, _database, _queue) = in_memory_repositories_with_clock(clock.clone());
    let reader = InMemoryDatasetReader::new();
    reader.insert(URI, sharded());
    let provider = InMemoryStoreProvider::default();
    let now = clock.now();
    let connection = Connection::new(
        ConnectionSpec { name: "engine".to_owned(), url: "http://qdrant:6333".to_owned(), api_key: None },
        now,
    );
    repositories.connections.insert(&connection).await.unwrap();
    let spec = DatasetSpec {
        name: "sharded".to_owned(),
        source_uri: URI.parse().unwrap(),
        storage_id: None,
        schema_config: schema(),
    };
    let dataset = Dataset::new(spec, Caller::DEVELOPMENT_USER, now);
    repositories.datasets.insert(&dataset).await.unwrap();
    let handler = BackfillHandler::new(
        &repositories,
        Arc::new(reader.clone()),
        Arc::new(provider.clone()),
        None,
        qbench_domain::LocalAccess::Shared,
    )
    .with_item_rows(ITEM_ROWS)
    .with_retry_backoff(Duration::ZERO);
    let settings = WorkerSettings {
        lease: LEASE,
        heartbeat: Duration::from_millis(5),
        poll_interval: Duration::from_millis(10),
        ..WorkerSettings::default()
    };
    let worker =
        Arc::new(JobWorker::new(repositories.jobs.clone(), settings, clock.clone()).with_handler(Arc::new(handler)));
    let service = BackfillService::new(&repositories).with_stores(Arc::new(provider.clone()));
    Setup { repositories, clock, reader, provider, service, worker, dataset, connection, dev: Caller::development() }
}

impl Setup {
    fn spec(&self, mode: BackfillMode) -> BackfillSpec {
        BackfillSpec {
            dataset_id: self.dataset.id,
            connection_id: self.connection.id,
            collection: COLLECTION.to_owned(),
            settings: IndexSettings::Given(OptimizerConfig {
                indexing: [("dense".parse().unwrap(), IndexConfig::hnsw(8, 32))].into(),
                quantization: None,
            }),
            batch_size: 10,
            parallel: 1,
            mode,
        }
    }

    async fn create(&self, spec: BackfillSpec) -> Backfill {
        self.service.create(&self.dev, spec).await.unwrap()
    }

    async fn get(&self, id: JobId) -> Backfill {
        self.service.get(&self.dev, id).await.unwrap()
    }

    async fn items(&self, id: JobId) -> Vec<WorkItem> {
        let page = Page { limit: Page::MAX_LIMIT, offset: 0 };
        self.service.items(&self.dev, id, None, page).await.unwrap().items
    }

    /// Runs the next queued job to its end (or pause).
    async fn run(&self) -> Job {
        self.worker.run_next().await.unwrap().expect("a queued job")
    }

    /// The ids in the collection, in order.
    fn ids(&self) -> Vec<PointId> {
        self.provider.store.point_ids(COLLECTION)
    }

    /// How often each item's range was read.
    fn reads(&self) -> Vec<(String, std::ops::Range<usize>)> {
        self.reader.range_reads()
    }
}

fn every_id(rows: u64) -> Vec<PointId> {
    (0..rows).map(PointId::Num).collect()
}

fn statuses(items: &[WorkItem]) -> Vec<WorkItemStatus> {
    items.iter().map(|item| item.status).collect()
}

#[tokio::test]
async fn a_full_backfill_of_a_sharded_dataset_loads_every_point_once_and_every_item_is_done() {
    let setup = setup().await;
    let backfill = setup.create(BackfillSpec { parallel: 3, batch_size: 7, ..setup.spec(BackfillMode::Full) }).await;
    assert_eq!(backfill.job.status(), JobStatus::Created);
    assert_eq!(backfill.points_total(), None, "planned by the first execution");

    let job = setup.run().await;
    assert_eq!(job.status(), JobStatus::Completed, "{:?}", job.error());
    assert_eq!(job.result().unwrap()["points"], ROWS);
    assert_eq!(setup.ids(), every_id(ROWS), "every point, none twice");

    let items = setup.items(backfill.id()).await;
    let shape: Vec<(&str, std::ops::Range<u32>, u64, u64)> = items
        .iter()
        .map(|item| (item.location.rsplit('/').next().unwrap(), item.row_groups.clone(), item.first_row, item.points))
        .collect();
    assert_eq!(
        shape,
        [
            ("train-00.parquet", 0..1, 0, 20),
            ("train-00.parquet", 1..2, 20, 20),
            ("train-01.parquet", 0..1, 40, 30),
            ("train-02.parquet", 0..1, 70, 25),
            ("train-02.parquet", 1..2, 95, 25),
        ]
    );
    assert!(items.iter().all(|item| item.status == WorkItemStatus::Done && item.attempts == 1), "{items:#?}");
    assert_eq!(setup.reads().len(), 5, "each item read once");

    let done = setup.get(backfill.id()).await;
    assert_eq!((done.points_done(), done.points_total()), (ROWS, Some(ROWS)));
    assert_eq!((done.items.done, done.items.pending, done.items.running, done.items.failed), (5, 0, 0, 0));
    assert_eq!(done.seconds_left(), None, "nothing left once it ended");
}

#[tokio::test]
async fn a_backfill_whose_worker_died_mid_item_resumes_redoing_only_that_item_without_duplicates() {
    let setup = setup().await;
    let backfill = setup.create(setup.spec(BackfillMode::Full)).await;
    // Items 0 and 1 take two upserts each; the worker hangs in the second upsert of item 2.
    setup.provider.store.hold_upserts_after(5);
    tokio::select! {
        _ = setup.run() => panic!("the execution finished while an upsert was held"),
        () = setup.provider.store.upsert_held() => {}
    }
    // The execution is dropped there, as its process would die: nothing is written after.
    let items = setup.items(backfill.id()).await;
    use WorkItemStatus::{Done, Pending, Running};
    assert_eq!(statuses(&items), [Done, Done, Running, Pending, Pending]);
    assert_eq!(setup.ids().len(), 50, "items 0 and 1, and one batch of item 2");
    setup.provider.store.release_upserts();

    // Another worker's sweep finds the lease lapsed and hands the backfill back to the queue.
    setup.clock.advance(LEASE + Duration::from_secs(1));
    assert_eq!(setup.worker.sweep_lost().await.unwrap(), 1);
    assert_eq!(setup.get(backfill.id()).await.job.status(), JobStatus::Created);

    let job = setup.run().await;
    assert_eq!(job.status(), JobStatus::Completed, "{:?}", job.error());
    assert_eq!(job.attempts(), 2);
    assert_eq!(setup.ids(), every_id(ROWS), "every point exactly once");
    let items = setup.items(backfill.id()).await;
    assert!(items.iter().all(|item| item.status == WorkItemStatus::Done));
    let attempts: Vec<u32> = items.iter().map(|item| item.attempts).collect();
    assert_eq!(attempts, [1, 1, 2, 1, 1], "only the item under way is loaded again");
    let reads: Vec<u32> = setup.reads().iter().map(|(_, groups)| groups.start as u32).collect();
    assert_eq!(reads.len(), 6, "five items, one of them twice: {:?}", setup.reads());
    assert_eq!(setup.get(backfill.id()).await.points_done(), ROWS);
}

#[tokio::test]
async fn a_paused_backfill_holds_no_worker_and_resumes_to_completion_without_reloading() {
    let setup = setup().await;
    // Paused while queued: no worker takes it, nothing is planned or loaded.
    let queued = setup.create(setup.spec(BackfillMode::Full)).await;
    let paused = setup.service.command(&setup.dev, queued.id(), BackfillCommand::Pause).await.unwrap();
    assert_eq!(paused.job.status(), JobStatus::Paused);
    assert!(setup.worker.run_next().await.unwrap().is_none(), "a paused backfill holds no worker");
    assert_eq!(setup.get(queued.id()).await.items.total(), 0);
    assert!(setup.reads().is_empty());

    // Resumed, then paused while it loads item 2: that item ends, no other starts.
    setup.service.command(&setup.dev, queued.id(), BackfillCommand::Resume).await.unwrap();
    setup.provider.store.hold_upserts_after(4);
    let worker = setup.worker.clone();
    let running = tokio::spawn(async move { worker.run_next().await });
    setup.provider.store.upsert_held().await;
    let asked = setup.service.command(&setup.dev, queued.id(), BackfillCommand::Pause).await.unwrap();
    assert!(asked.job.pause_requested());
    // Wait for a heartbeat after the request (it renews the lease from the moved clock), which is
    // what tells the execution to pause.
    setup.clock.advance(Duration::from_secs(1));
    let renewed = setup.clock.now() + chrono::Duration::from_std(LEASE).unwrap();
    while setup.repositories.jobs.get(queued.id()).await.unwrap().lease_until() < Some(renewed) {
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    setup.provider.store.release_upserts();
    let paused = running.await.unwrap().unwrap().expect("the backfill");
    assert_eq!(paused.status(), JobStatus::Paused, "{:?}", paused.error());
    use WorkItemStatus::{Done, Pending};
    assert_eq!(statuses(&setup.items(queued.id()).await), [Done, Done, Done, Pending, Pending]);
    assert_eq!(setup.ids().len(), 70);
    assert_eq!(paused.progress().done, 70, "progress is the points loaded");
    assert!(setup.worker.run_next().await.unwrap().is_none(), "still holds no worker");

    setup.service.command(&setup.dev, queued.id(), BackfillCommand::Resume).await.unwrap();
    let job = setup.run().await;
    assert_eq!(job.status(), JobStatus::Completed, "{:?}", job.error());
    assert_eq!(setup.ids(), every_id(ROWS));
    assert_eq!(setup.reads().len(), 5, "no item loaded twice");
}

#[tokio::test]
async fn an_incremental_backfill_loads_only_the_file_added_since() {
    let setup = setup().await;
    setup.reader.insert(URI, without_last_file());
    let first = setup.create(setup.spec(BackfillMode::Full)).await;
    assert_eq!(setup.run().await.status(), JobStatus::Completed);
    assert_eq!(setup.ids().len(), 70);
    let error = setup.service.create(&setup.dev, setup.spec(BackfillMode::Full)).await.unwrap_err();
    let ServiceError::Conflict(message) = error else { panic!("expected Conflict, got {error:?}") };
    assert!(message.contains(&format!("collection `{COLLECTION}` already exists")), "{message}");

    setup.reader.insert(URI, sharded());
    let reads_before = setup.reads().len();
    let added = setup.create(setup.spec(BackfillMode::Incremental)).await;
    let job = setup.run().await;
    assert_eq!(job.status(), JobStatus::Completed, "{:?}", job.error());
    assert_eq!(job.result().unwrap()["points"], ROWS);
    assert_eq!(setup.ids(), every_id(ROWS));
    let items = setup.items(added.id()).await;
    let files: BTreeSet<&str> = items.iter().map(|item| item.location.rsplit('/').next().unwrap()).collect();
    assert_eq!(files, BTreeSet::from(["train-02.parquet"]), "only the new file");
    assert_eq!(setup.get(added.id()).await.points_total(), Some(50));
    assert!(setup.reads()[reads_before..].iter().all(|(location, _)| location.ends_with("train-02.parquet")));
    assert_eq!(setup.get(first.id()).await.points_done(), 70, "the first backfill's record is its own");

    // Nothing new: nothing to load.
    let nothing = setup.create(setup.spec(BackfillMode::Incremental)).await;
    assert_eq!(setup.run().await.status(), JobStatus::Completed);
    assert_eq!(setup.get(nothing.id()).await.items.total(), 0);
    assert_eq!(setup.ids().len(), ROWS as usize);
}

#[tokio::test]
async fn an_incremental_backfill_into_a_collection_of_other_vectors_fails_before_loading() {
    let setup = setup().await;
    let other = qbench_vector_store::CollectionSpec {
        name: COLLECTION.to_owned(),
        vectors: [("dense".parse().unwrap(), VectorSpec::new(Dimension::new(4).unwrap(), Distance::Dot))].into(),
        indexing: Default::default(),
        quantization: None,
    };
    qbench_vector_store::VectorStore::create_collection(setup.provider.store.as_ref(), &other).await.unwrap();
    let backfill = setup.create(setup.spec(BackfillMode::Incremental)).await;
    let job = setup.run().await;
    assert_eq!(job.status(), JobStatus::Failed);
    let error = job.error().unwrap();
    assert!(error.contains("has the vectors `dense` (4, Dot), the dataset `dense` (8, Cosine)"), "{error}");
    assert!(setup.reads().is_empty() && setup.ids().is_empty());
    assert_eq!(setup.get(backfill.id()).await.items.total(), 0);
}

#[tokio::test]
async fn a_transient_read_is_retried_and_an_item_failing_for_good_fails_the_backfill_naming_it() {
    let setup = setup().await;
    setup.reader.fail_next_reads(1);
    let retried = setup.create(setup.spec(BackfillMode::Full)).await;
    assert_eq!(setup.run().await.status(), JobStatus::Completed);
    let first = &setup.items(retried.id()).await[0];
    assert_eq!((first.status, first.attempts), (WorkItemStatus::Done, 2));
    assert!(first.last_error.as_deref().unwrap().contains("unreachable"), "{first:?}");
    assert_eq!(setup.ids(), every_id(ROWS));

    let spec = BackfillSpec { collection: "qbench-broken".to_owned(), ..setup.spec(BackfillMode::Full) };
    let broken = setup.create(spec).await;
    setup.reader.fail_next_reads(3);
    let job = setup.run().await;
    assert_eq!(job.status(), JobStatus::Failed);
    let error = job.error().unwrap();
    assert!(
        error.contains("work item 0 (datasets/sharded/train-00.parquet, row groups 0..1) failed after 3 attempts"),
        "{error}"
    );
    assert!(error.contains("0 of 5 items are loaded"), "{error}");
    let items = setup.items(broken.id()).await;
    use WorkItemStatus::{Failed, Pending};
    assert_eq!(statuses(&items), [Failed, Pending, Pending, Pending, Pending], "nothing after the failure started");
}

#[tokio::test]
async fn a_cancelled_backfill_keeps_what_it_loaded_and_no_item_reads_running() {
    let setup = setup().await;
    let backfill = setup.create(setup.spec(BackfillMode::Full)).await;
    setup.provider.store.hold_upserts_after(3);
    let worker = setup.worker.clone();
    let running = tokio::spawn(async move { worker.run_next().await });
    setup.provider.store.upsert_held().await;
    let cancelled = setup.service.command(&setup.dev, backfill.id(), BackfillCommand::Cancel).await.unwrap();
    assert_eq!(cancelled.job.status(), JobStatus::Canceled);
    // The next heartbeat finds the job cancelled and the execution stops, its upsert held.
    assert_eq!(running.await.unwrap().unwrap().unwrap().status(), JobStatus::Canceled);
    setup.provider.store.release_upserts();
    let counts = setup.get(backfill.id()).await.items;
    assert_eq!((counts.done, counts.running), (1, 0), "{counts:?}");
    assert_eq!(counts.pending, 4);
    let error = setup.service.command(&setup.dev, backfill.id(), BackfillCommand::Resume).await.unwrap_err();
    assert!(matches!(error, ServiceError::Conflict(_)), "{error:?}");
}

/// A completed study whose one measured point was built with `m` 24, `ef_construct` 64.
fn completed_study(owner: &str, at: chrono::DateTime<Utc>) -> Job {
    let build = BuildConfig {
        vectors: [("dense".parse().unwrap(), VectorBuild { m: 24, ef_construct: 64, on_disk: false })].into(),
        quantization: None,
    };
    let point = TrialPoint {
        build,
        setting: SearchSettingChoice { hnsw_ef: Some(64), exact: false, quantization: None },
        parallel: 1,
        quality: TrialQuality { recall: 0.97, precision: 0.97, f1: 0.97 },
        qps: 1_000.0,
        p99_seconds: 0.002,
        memory_bytes: None,
        qps_interval: None,
        p99_interval: None,
    };
    let points = vec![StudyPoint { run_id: "trial".to_owned(), vector: "dense".to_owned(), point }];
    let objective = Objective { metric: QualityMetric::Recall, target: 0.9, optimise: Optimise::Qps };
    let grid = SpaceSize { builds: 1, measurements: 1 };
    let report =
        StudyReport::assemble(Vec::new(), points, &objective, &Constraints::default(), &schema(), grid, 1.0).unwrap();
    let mut study = Job::new(JobId::new(), JobKind::Study, owner, serde_json::json!({}), None, at);
    study.claim("w", at, at).unwrap();
    study.complete(serde_json::to_value(report).unwrap(), at).unwrap();
    study
}

#[tokio::test]
async fn a_backfill_from_a_study_creates_its_collection_with_the_recommended_build() {
    let setup = setup().await;
    let study = completed_study(Caller::DEVELOPMENT_USER, setup.clock.now());
    setup.repositories.jobs.insert(&study).await.unwrap();
    let spec = BackfillSpec { settings: IndexSettings::Study(study.id()), ..setup.spec(BackfillMode::Full) };
    let backfill = setup.create(spec).await;
    assert_eq!(backfill.payload.study_id, Some(study.id()));
    let indexing = &backfill.payload.optimizer_config.indexing;
    assert_eq!(indexing[&"dense".parse().unwrap()], IndexConfig::hnsw(24, 64));
    assert_eq!(setup.run().await.status(), JobStatus::Completed);
    assert_eq!(setup.ids().len(), ROWS as usize);
}

#[tokio::test]
async fn a_backfill_request_names_each_field_at_fault() {
    let setup = setup().await;
    let fields = |error: ServiceError| -> Vec<String> {
        let ServiceError::Invalid(violations) = error else { panic!("expected Invalid, got {error:?}") };
        violations.into_iter().map(|Violation { field, .. }| field).collect()
    };
    let spec = BackfillSpec {
        dataset_id: qbench_domain::DatasetId::new(),
        connection_id: qbench_domain::ConnectionId::new(),
        batch_size: 0,
        parallel: 17,
        ..setup.spec(BackfillMode::Full)
    };
    let error = setup.service.create(&setup.dev, spec).await.unwrap_err();
    assert_eq!(fields(error), ["batch_size", "parallel", "dataset_id", "connection_id"]);

    // A study that does not exist, one still running, one of another user.
    let running = Job::new(
        JobId::new(),
        JobKind::Study,
        Caller::DEVELOPMENT_USER,
        serde_json::json!({}),
        None,
        setup.clock.now(),
    );
    setup.repositories.jobs.insert(&running).await.unwrap();
    let theirs = completed_study("bob@example.com", setup.clock.now());
    setup.repositories.jobs.insert(&theirs).await.unwrap();
    let editor = Caller::new("ann@example.com", [Role::Editor]);
    for (caller, study, needle) in [
        (&setup.dev, JobId::new(), "does not exist"),
        (&setup.dev, running.id(), "is CREATED: only a COMPLETED study"),
        (&editor, theirs.id(), "does not exist"),
    ] {
        let spec = BackfillSpec { settings: IndexSettings::Study(study), ..setup.spec(BackfillMode::Full) };
        let ServiceError::Invalid(violations) = setup.service.create(caller, spec).await.unwrap_err() else {
            panic!("expected Invalid")
        };
        let found = violations.iter().find(|violation| violation.field == "study_id");
        assert!(found.is_some_and(|violation| violation.message.contains(needle)), "{violations:?}");
    }

    // Index settings that do not fit the dataset name their field.
    let config = OptimizerConfig {
        indexing: [("sparse".parse().unwrap(), IndexConfig::hnsw(16, 2))].into(),
        quantization: None,
    };
    let spec = BackfillSpec { settings: IndexSettings::Given(config), ..setup.spec(BackfillMode::Full) };
    let error = setup.service.create(&setup.dev, spec).await.unwrap_err();
    assert_eq!(fields(error), ["optimizer_config.indexing.sparse", "optimizer_config.indexing.sparse.ef_construct"]);

    // A collection qbench did not create: an admin's to name.
    let spec = BackfillSpec { collection: "docs".to_owned(), ..setup.spec(BackfillMode::Full) };
    let error = setup.service.create(&editor, spec.clone()).await.unwrap_err();
    let ServiceError::ForbiddenField(violation) = error else { panic!("expected ForbiddenField, got {error:?}") };
    assert_eq!(violation.field, "collection");
    let viewer = Caller::new("vic@example.com", [Role::Viewer]);
    assert!(matches!(setup.service.create(&viewer, spec.clone()).await, Err(ServiceError::Forbidden(_))));
    setup.create(spec).await;

    // A second backfill into a collection one is still loading.
    setup.create(setup.spec(BackfillMode::Incremental)).await;
    let error = setup.service.create(&setup.dev, setup.spec(BackfillMode::Incremental)).await.unwrap_err();
    let ServiceError::Conflict(message) = error else { panic!("expected Conflict, got {error:?}") };
    assert!(message.contains(&format!("collection `{COLLECTION}`: backfill")), "{message}");
}
