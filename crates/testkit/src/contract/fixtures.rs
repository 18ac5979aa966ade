//! Objects for the contract checks: fresh names, rich configurations, microsecond timestamps.
//!
//! Timestamps carry microseconds at most because that is what PostgreSQL keeps; a value an
//! adapter stores must read back equal.

use std::fmt::{Debug, Display};

use chrono::{DateTime, Duration, SubsecRound, Utc};
use qbench_domain::{
    Connection, ConnectionId, ConnectionSpec, Dataset, DatasetSpec, Dimension, Distance, Experiment, ExperimentSpec,
    IndexConfig, IndexSource, ObjectStorage, OptimizerConfig, Quantization, ScalarType, SchemaConfig, SearchConfig,
    SearchQuantization, Secret, SnapshotId, StorageId, StorageSpec, UploadConfig, VectorName, VectorSpec,
};
use qbench_repository::{Entity, RepositoryError};
use secrecy::ExposeSecret;

use super::RepositoryUnderTest;

/// The value of `result`, or a panic naming `what` and the error.
#[track_caller]
pub(crate) fn ok<T, E: Debug>(result: Result<T, E>, what: &str) -> T {
    match result {
        Ok(value) => value,
        Err(error) => panic!("{what}: unexpected error {error:?}"),
    }
}

/// The error of `result`, or a panic naming `what` when it succeeded.
#[track_caller]
pub(crate) fn err<T: Debug>(result: Result<T, RepositoryError>, what: &str) -> RepositoryError {
    match result {
        Ok(value) => panic!("{what}: expected an error, got Ok({value:?})"),
        Err(error) => error,
    }
}

/// Asserts that `result` is `NotFound` for `entity` `id`.
#[track_caller]
pub(crate) fn assert_not_found<T: Debug>(
    result: Result<T, RepositoryError>,
    entity: Entity,
    id: impl Display,
    what: &str,
) {
    let error = err(result, what);
    let RepositoryError::NotFound { entity: found, id: found_id } = error else {
        panic!("{what}: expected NotFound, got {error:?}");
    };
    assert_eq!((found, found_id), (entity, id.to_string()), "{what}");
}

/// Asserts that `result` is `Duplicate` of `entity`'s name `value`.
#[track_caller]
pub(crate) fn assert_duplicate_name(result: Result<(), RepositoryError>, entity: Entity, value: &str, what: &str) {
    let error = err(result, what);
    let RepositoryError::Duplicate { entity: found, field, value: found_value } = error else {
        panic!("{what}: expected Duplicate, got {error:?}");
    };
    assert_eq!((found, field, found_value.as_str()), (entity, "name", value), "{what}");
}

/// Asserts that `result` is `InUse` of `entity` `id` by `count` objects of kind `by`, the oldest
/// of them `first`.
#[track_caller]
pub(crate) fn assert_in_use(
    result: Result<(), RepositoryError>,
    (entity, id): (Entity, impl Display),
    by: Entity,
    count: u64,
    first: impl Display,
    what: &str,
) {
    let error = err(result, what);
    let RepositoryError::InUse { entity: found, id: found_id, by: found_by, count: found_count, first: found_first } =
        error
    else {
        panic!("{what}: expected InUse, got {error:?}");
    };
    assert_eq!(
        (found, found_id, found_by, found_count, found_first),
        (entity, id.to_string(), by, count, first.to_string()),
        "{what}"
    );
}

/// The owner of the fixtures' datasets, experiments and runs.
pub(crate) const OWNER: &str = "contract@example.com";

/// A name no other check uses.
pub(crate) fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

/// Now, at the precision every backend keeps.
pub(crate) fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// A time later than anything the other checks create, so the objects of a list check sit at a
/// known end of the list even in a shared database.
pub(crate) fn far_future() -> DateTime<Utc> {
    now() + Duration::days(365 * 100)
}

fn secret(value: String) -> Secret {
    Secret::from(value)
}

fn dim(value: u32) -> Dimension {
    ok(Dimension::new(value), "dimension")
}

fn vector_name(name: &str) -> VectorName {
    ok(name.parse(), "vector name")
}

/// A connection with a fresh name and an API key.
pub(crate) fn connection() -> Connection {
    let name = unique("connection");
    Connection::new(
        ConnectionSpec {
            url: "http://qdrant.test:6333".to_owned(),
            api_key: Some(secret(format!("api-key-of-{name}"))),
            name,
        },
        now(),
    )
}

/// A storage with a fresh name (when `named`), an endpoint and both keys.
pub(crate) fn storage(named: bool) -> ObjectStorage {
    let suffix = unique("keys");
    ObjectStorage::new(
        StorageSpec {
            name: named.then(|| unique("storage")),
            bucket: "datasets".to_owned(),
            region: "eu-west-3".to_owned(),
            endpoint_url: Some("http://minio.test:9000".to_owned()),
            access_key: Some(secret(format!("access-{suffix}"))),
            secret_key: Some(secret(format!("secret-{suffix}"))),
        },
        now(),
    )
}

/// A dataset with two named vectors and payload columns, reading from `storage_id`.
pub(crate) fn dataset(storage_id: Option<StorageId>) -> Dataset {
    let mut dense = VectorSpec::new(dim(768), Distance::Cosine);
    dense.column = Some("emb_dense".to_owned());
    let schema_config = SchemaConfig {
        scalar_fields: vec!["title".to_owned(), "lang".to_owned()],
        vectors: [(vector_name("dense"), dense), (vector_name("image"), VectorSpec::new(dim(512), Distance::Dot))]
            .into(),
    };
    Dataset::new(
        DatasetSpec {
            name: unique("dataset"),
            source_uri: ok("s3://datasets/wiki/train.parquet".parse(), "source uri"),
            storage_id,
            schema_config,
        },
        OWNER,
        now(),
    )
}

/// An experiment on `dataset_id` through `connection_id` that sets every optional setting.
pub(crate) fn experiment(dataset: &Dataset, connection_id: ConnectionId) -> Experiment {
    let mut index = IndexConfig::hnsw(32, 200);
    index.full_scan_threshold = Some(10_000);
    index.on_disk = Some(true);
    let spec = ExperimentSpec {
        name: unique("experiment"),
        dataset_id: dataset.id,
        connection_id,
        optimizer_config: OptimizerConfig {
            indexing: [(vector_name("dense"), index), (vector_name("image"), IndexConfig::plain())].into(),
            quantization: Some(Quantization::Scalar {
                scalar_type: ScalarType::Int8,
                quantile: Some(0.99),
                always_ram: Some(true),
            }),
        },
        vector_config: Some(
            dataset.spec.schema_config.vectors.iter().map(|(name, spec)| (name.clone(), spec.clone())).collect(),
        ),
        search_config: SearchConfig {
            k: 10,
            hnsw_ef: vec![64, 128],
            hnsw_ef_search: None,
            exact: false,
            quantization: Some(SearchQuantization { ignore: None, rescore: Some(true), oversampling: Some(2.5) }),
            quantization_sweep: vec![SearchQuantization { ignore: Some(true), rescore: None, oversampling: None }],
            with_exact: true,
            parallel: 4,
            parallel_sweep: vec![8, 16],
            queries_limit: Some(500),
            vectors: Some(vec![vector_name("dense")]),
            allow_ground_truth_mismatch: true,
            min_seconds: Some(0.5),
            repetitions: Some(4),
            primary_hnsw_ef: Some(128),
        },
        upload_config: UploadConfig {
            batch_size: Some(512),
            parallel: Some(4),
            sample: Some(qbench_domain::PointSample { fraction: 0.25, seed: 42 }),
        },
        keep_collection: true,
        source: Some(IndexSource { snapshot_id: SnapshotId::new() }),
    };
    Experiment::new(spec, OWNER, now())
}

/// A stored connection, dataset (without storage) and experiment using both.
pub(crate) async fn seed_experiment(repos: &RepositoryUnderTest) -> (Connection, Dataset, Experiment) {
    let connection = connection();
    ok(repos.connections.insert(&connection).await, "insert connection");
    let dataset = dataset(None);
    ok(repos.datasets.insert(&dataset).await, "insert dataset");
    let experiment = experiment(&dataset, connection.id);
    ok(repos.experiments.insert(&experiment).await, "insert experiment");
    (connection, dataset, experiment)
}

/// The secret's value, for comparisons.
pub(crate) fn exposed(secret: Option<&Secret>) -> Option<&str> {
    secret.map(ExposeSecret::expose_secret)
}

/// Asserts that two connections are equal, secrets included.
#[track_caller]
pub(crate) fn assert_same_connection(actual: &Connection, expected: &Connection, what: &str) {
    assert_eq!(actual.id, expected.id, "{what}: id");
    assert_eq!(actual.spec.name, expected.spec.name, "{what}: name");
    assert_eq!(actual.spec.url, expected.spec.url, "{what}: url");
    assert_eq!(exposed(actual.spec.api_key.as_ref()), exposed(expected.spec.api_key.as_ref()), "{what}: api_key");
    assert_eq!(actual.created_at, expected.created_at, "{what}: created_at");
    assert_eq!(actual.updated_at, expected.updated_at, "{what}: updated_at");
}

/// Asserts that two storages are equal, secrets included.
#[track_caller]
pub(crate) fn assert_same_storage(actual: &ObjectStorage, expected: &ObjectStorage, what: &str) {
    let (a, e) = (&actual.spec, &expected.spec);
    assert_eq!(actual.id, expected.id, "{what}: id");
    assert_eq!(a.name, e.name, "{what}: name");
    assert_eq!(a.bucket, e.bucket, "{what}: bucket");
    assert_eq!(a.region, e.region, "{what}: region");
    assert_eq!(a.endpoint_url, e.endpoint_url, "{what}: endpoint_url");
    assert_eq!(exposed(a.access_key.as_ref()), exposed(e.access_key.as_ref()), "{what}: access_key");
    assert_eq!(exposed(a.secret_key.as_ref()), exposed(e.secret_key.as_ref()), "{what}: secret_key");
    assert_eq!(actual.created_at, expected.created_at, "{what}: created_at");
    assert_eq!(actual.updated_at, expected.updated_at, "{what}: updated_at");
}
