//! The use cases over the testkit's in-memory fakes: the rules the services add on top of the
//! domain and the repositories.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use qbench_domain::{
    Caller, ConnectionSpec, DatasetSpec, Dimension, Distance, ExperimentId, ExperimentSpec, IndexConfig, RunStatus,
    SchemaConfig, Secret, StorageId, VectorSpec,
};
use qbench_repository::{Entity, Page, RunFilter};
use qbench_service::{ConnectionService, DatasetService, ExperimentService, RunService, ServiceError};
use qbench_testkit::{InMemoryDatabase, RecordingJobQueue, in_memory_repositories};

struct Services {
    connections: ConnectionService,
    datasets: DatasetService,
    experiments: ExperimentService,
    runs: RunService,
    database: Arc<InMemoryDatabase>,
    queue: Arc<RecordingJobQueue>,
}

fn services() -> Services {
    let (repositories, database, queue) = in_memory_repositories();
    Services {
        connections: ConnectionService::new(repositories.connections.clone()),
        datasets: DatasetService::new(repositories.datasets.clone(), repositories.storages.clone()),
        experiments: ExperimentService::new(
            repositories.experiments.clone(),
            repositories.datasets.clone(),
            repositories.connections.clone(),
        ),
        runs: RunService::new(
            repositories.runs.clone(),
            repositories.experiments.clone(),
            repositories.queue.clone(),
            repositories.clock.clone(),
        ),
        database,
        queue,
    }
}

/// The caller of development mode, an admin: these tests are about the other rules.
fn dev() -> Caller {
    Caller::development()
}

fn dense_dataset() -> DatasetSpec {
    DatasetSpec {
        name: "wiki".to_owned(),
        source_uri: "s3://datasets/wiki.parquet".parse().unwrap(),
        storage_id: None,
        schema_config: SchemaConfig::from_vectors([(
            "dense",
            VectorSpec::new(Dimension::new(1536).unwrap(), Distance::Cosine),
        )])
        .unwrap(),
    }
}

/// A registered dataset and the built-in connection, and a valid experiment spec on them.
async fn experiment_spec(services: &Services) -> ExperimentSpec {
    let dataset = services.datasets.create(&dev(), dense_dataset()).await.unwrap();
    let embedded = services.connections.ensure_builtin().await.unwrap();
    let mut spec = ExperimentSpec::new("m16", dataset.id, embedded.id);
    spec.optimizer_config.indexing.insert("dense".parse().unwrap(), IndexConfig::hnsw(16, 100));
    spec.search_config.hnsw_ef = vec![64, 128];
    spec
}

fn fields(error: ServiceError) -> Vec<String> {
    let ServiceError::Invalid(violations) = error else {
        panic!("expected Invalid, got {error:?}");
    };
    violations.into_iter().map(|v| v.field).collect()
}

#[tokio::test]
async fn the_builtin_connection_is_created_once_and_cannot_change() {
    let services = services();
    let first = services.connections.ensure_builtin().await.unwrap();
    let second = services.connections.ensure_builtin().await.unwrap();
    assert_eq!(first.id, second.id);
    assert_eq!(services.connections.list(&dev(), Page::default()).await.unwrap().total, 1);

    let spec = ConnectionSpec { name: "renamed".to_owned(), url: "http://localhost:6333".to_owned(), api_key: None };
    assert!(matches!(services.connections.update(&dev(), first.id, spec).await, Err(ServiceError::Conflict(_))));
    assert!(matches!(services.connections.delete(&dev(), first.id).await, Err(ServiceError::Conflict(_))));
    assert!(services.connections.get(&dev(), first.id).await.is_ok());
}

#[tokio::test]
async fn an_invalid_connection_is_refused_with_every_field_and_not_stored() {
    let services = services();
    let spec = ConnectionSpec { name: String::new(), url: "ftp://qdrant".to_owned(), api_key: Some(Secret::from("k")) };
    assert_eq!(fields(services.connections.create(&dev(), spec).await.unwrap_err()), ["name", "url"]);
    assert_eq!(services.connections.list(&dev(), Page::default()).await.unwrap().total, 0);
}

#[tokio::test]
async fn a_dataset_naming_an_unknown_storage_is_refused_naming_storage_id() {
    let services = services();
    let mut spec = dense_dataset();
    spec.storage_id = Some(StorageId::new());
    assert_eq!(fields(services.datasets.create(&dev(), spec).await.unwrap_err()), ["storage_id"]);
}

#[tokio::test]
async fn experiment_validation_names_a_missing_dataset_and_connection_together() {
    let services = services();
    let spec = ExperimentSpec::new("orphan", qbench_domain::DatasetId::new(), qbench_domain::ConnectionId::new());
    let report = services.experiments.validate(&dev(), &spec).await.unwrap();
    let named: Vec<&str> = report.errors.iter().map(|v| v.field.as_str()).collect();
    assert_eq!(named, ["dataset_id", "connection_id"]);
    assert!(matches!(services.experiments.create(&dev(), spec).await, Err(ServiceError::Invalid(_))));
}

#[tokio::test]
async fn a_valid_experiment_is_stored_with_its_warnings() {
    let services = services();
    let mut spec = experiment_spec(&services).await;
    spec.search_config.hnsw_ef = vec![64, 64];
    let (experiment, warnings) = services.experiments.create(&dev(), spec).await.unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(warnings[0].field, "search_config.hnsw_ef[1]");
    assert_eq!(services.experiments.get(&dev(), experiment.id).await.unwrap(), experiment);
}

#[tokio::test]
async fn an_update_that_breaks_the_experiment_is_refused_and_changes_nothing() {
    let services = services();
    let (experiment, _) = services.experiments.create(&dev(), experiment_spec(&services).await).await.unwrap();
    let mut broken = experiment.spec.clone();
    broken.search_config.k = 0;
    assert_eq!(
        fields(services.experiments.update(&dev(), experiment.id, broken).await.unwrap_err()),
        ["search_config.k"]
    );
    assert_eq!(services.experiments.get(&dev(), experiment.id).await.unwrap().spec.search_config.k, 10);
}

#[tokio::test]
async fn a_run_is_stored_created_and_announced_on_the_queue() {
    let services = services();
    let (experiment, _) = services.experiments.create(&dev(), experiment_spec(&services).await).await.unwrap();
    let run = services.runs.create(&dev(), experiment.id, None).await.unwrap();
    assert_eq!(run.status(), RunStatus::Created);
    assert_eq!(services.queue.enqueued(), [run.job().id()]);
    assert_eq!(services.runs.get(&dev(), run.id()).await.unwrap(), run);
}

#[tokio::test]
async fn a_failing_queue_does_not_lose_the_run() {
    let services = services();
    let (experiment, _) = services.experiments.create(&dev(), experiment_spec(&services).await).await.unwrap();
    services.queue.fail_with("broker down");
    let run = services.runs.create(&dev(), experiment.id, None).await.unwrap();
    assert_eq!(services.runs.get(&dev(), run.id()).await.unwrap().status(), RunStatus::Created);
}

#[tokio::test]
async fn a_run_of_an_unknown_experiment_is_not_found() {
    let services = services();
    let error = services.runs.create(&dev(), ExperimentId::new(), None).await.unwrap_err();
    assert!(matches!(error, ServiceError::NotFound { entity: Entity::Experiment, .. }), "{error:?}");
    assert!(services.queue.enqueued().is_empty());
}

#[tokio::test]
async fn cancel_ends_a_queued_run_once_and_then_conflicts() {
    let services = services();
    let (experiment, _) = services.experiments.create(&dev(), experiment_spec(&services).await).await.unwrap();
    let run = services.runs.create(&dev(), experiment.id, None).await.unwrap();
    let canceled = services.runs.cancel(&dev(), run.id()).await.unwrap();
    assert_eq!(canceled.status(), RunStatus::Canceled);
    assert!(canceled.end_time().is_some());
    assert!(matches!(services.runs.cancel(&dev(), run.id()).await, Err(ServiceError::Conflict(_))));
    let listed = services
        .runs
        .list(
            &dev(),
            RunFilter {
                experiment_id: Some(experiment.id),
                status: Some(RunStatus::Canceled),
                owner: None,
                study_id: None,
            },
            false,
            Page::default(),
        )
        .await
        .unwrap();
    assert_eq!(listed.total, 1);
}

#[tokio::test]
async fn an_experiment_with_runs_is_deleted_only_with_cascade() {
    let services = services();
    let (experiment, _) = services.experiments.create(&dev(), experiment_spec(&services).await).await.unwrap();
    let run = services.runs.create(&dev(), experiment.id, None).await.unwrap();
    assert!(matches!(services.experiments.delete(&dev(), experiment.id, false).await, Err(ServiceError::Conflict(_))));
    services.experiments.delete(&dev(), experiment.id, true).await.unwrap();
    assert!(matches!(services.runs.get(&dev(), run.id()).await, Err(ServiceError::NotFound { .. })));
}

#[tokio::test]
async fn a_dataset_or_connection_in_use_cannot_be_deleted() {
    let services = services();
    let spec = experiment_spec(&services).await;
    let remote = services
        .connections
        .create(
            &dev(),
            ConnectionSpec { name: "remote".to_owned(), url: "http://qdrant:6333".to_owned(), api_key: None },
        )
        .await
        .unwrap();
    let spec = ExperimentSpec { connection_id: remote.id, ..spec };
    let (experiment, _) = services.experiments.create(&dev(), spec).await.unwrap();
    assert!(matches!(
        services.datasets.delete(&dev(), experiment.spec.dataset_id).await,
        Err(ServiceError::Conflict(_))
    ));
    assert!(matches!(services.connections.delete(&dev(), remote.id).await, Err(ServiceError::Conflict(_))));
}

#[tokio::test]
async fn an_unavailable_database_is_reported_as_unavailable() {
    let services = services();
    services.database.set_unavailable(true);
    let error = services.connections.list(&dev(), Page::default()).await.unwrap_err();
    assert!(matches!(error, ServiceError::Unavailable(_)), "{error:?}");
}

fn inspecting_datasets(services: &Services) -> (DatasetService, qbench_testkit::dataset::InMemoryDatasetReader) {
    let reader = qbench_testkit::dataset::InMemoryDatasetReader::new();
    let datasets = services.datasets.clone().with_reader(std::sync::Arc::new(reader.clone()), None);
    (datasets, reader)
}

#[tokio::test]
async fn inspecting_a_dataset_stores_what_its_footers_say() {
    let services = services();
    let (datasets, reader) = inspecting_datasets(&services);
    let spec = dense_dataset();
    let synthetic = qbench_domain::synthetic::SyntheticSpec {
        rows: 50,
        queries: 5,
        vectors: spec.schema_config.vectors.clone(),
        clusters: 2,
        seed: 3,
    };
    reader.insert(spec.source_uri.as_str(), qbench_testkit::dataset::MemoryDataset::synthetic(&synthetic));
    let dataset = datasets.create_inspected(&dev(), spec).await.unwrap();
    let inspection = dataset.inspection.clone().unwrap();
    assert_eq!(inspection.train_rows, 50);
    assert_eq!(inspection.layout, "singlefile");
    assert_eq!(datasets.get(&dev(), dataset.id).await.unwrap().inspection, Some(inspection));

    let mut changed = dataset.spec.clone();
    changed.source_uri = "s3://datasets/other.parquet".parse().unwrap();
    let updated = datasets.update(&dev(), dataset.id, changed).await.unwrap();
    assert_eq!(updated.inspection, None, "a new source makes the old inspection meaningless");
}

#[tokio::test]
async fn a_dataset_whose_file_is_missing_is_refused_naming_the_source() {
    let services = services();
    let (datasets, _reader) = inspecting_datasets(&services);
    let error = datasets.create_inspected(&dev(), dense_dataset()).await.unwrap_err();
    let ServiceError::Invalid(violations) = error else { panic!("expected Invalid, got {error:?}") };
    assert_eq!(violations[0].field, "source_uri");
    assert!(violations[0].message.contains("not found"), "{}", violations[0].message);
    assert_eq!(datasets.list(&dev(), Page::default()).await.unwrap().total, 0, "nothing is stored");
}

#[tokio::test]
async fn inspection_without_a_reader_is_unavailable() {
    let services = services();
    let dataset = services.datasets.create(&dev(), dense_dataset()).await.unwrap();
    assert!(matches!(services.datasets.inspect(&dev(), dataset.id).await, Err(ServiceError::Unavailable(_))));
}
