//! The S3 path end to end against a real S3-compatible server (SeaweedFS, `make deps`), and HTTP
//! sources through the same server's filer.
//!
//! One server serves the whole test binary (each test has buckets of its own); the fixture's
//! watchdog removes it when the binary exits.

use std::sync::{Arc, OnceLock};

use futures::StreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};
use qbench_object_storage::{EgressPolicy, ParquetStorage, ParquetStorageConfig, ResultsLocation};
use qbench_storage::{
    DatasetLayout, DatasetPart, DatasetReader, DatasetSource, DatasetWriter, FileRole, ResultWriter, S3Credentials,
    StorageError,
};
use qbench_testkit::s3::S3Server;
use serde_json::json;

use crate::results::{check_queries_parquet, queries};
use crate::support::{dataset, dataset_schema, dense, read_merged, s3_source, source};

/// The server shared by this binary's tests.
pub(crate) fn server() -> &'static S3Server {
    static SERVER: OnceLock<S3Server> = OnceLock::new();
    SERVER.get_or_init(|| S3Server::start().unwrap_or_else(|error| panic!("{error}")))
}

/// A fresh bucket.
pub(crate) fn bucket() -> String {
    let name = format!("qb-{}", &uuid::Uuid::new_v4().simple().to_string()[..16]);
    server().create_bucket(&name).unwrap();
    name
}

/// A source in the test server with its admin credentials.
pub(crate) fn s3(uri: &str) -> DatasetSource {
    let server = server();
    s3_source(uri, &server.endpoint(), server.access_key(), server.secret_key())
}

/// An adapter with no local roots: everything here is remote.
fn storage() -> ParquetStorage {
    ParquetStorage::new(ParquetStorageConfig::default()).unwrap()
}

/// An adapter whose egress policy allows HTTP(S) sources on 127.0.0.1, where the test server is.
fn local_http_storage() -> ParquetStorage {
    ParquetStorage::new(ParquetStorageConfig {
        egress: EgressPolicy::new(["127.0.0.1/32"], [""; 0]).unwrap(),
        ..ParquetStorageConfig::default()
    })
    .unwrap()
}

#[tokio::test]
async fn s3_directory_round_trip_writes_inspects_streams_and_reads_neighbors() {
    let bucket = bucket();
    let storage = storage();
    let data = dataset(150, 12);
    let schema = dataset_schema();
    storage.write_dataset(&s3(&format!("s3://{bucket}/sets/small/")), &data).await.unwrap();

    for uri in [format!("s3://{bucket}/sets/small/"), format!("s3://{bucket}/sets/small")] {
        let inspection = storage.inspect(&s3(&uri), &schema).await.unwrap();
        assert_eq!(inspection.layout, DatasetLayout::Directory, "{uri}");
        let locations: Vec<(FileRole, &str)> = inspection.files.iter().map(|f| (f.role, f.location.as_str())).collect();
        assert_eq!(
            locations,
            [
                (FileRole::Train, format!("s3://{bucket}/sets/small/train.parquet").as_str()),
                (FileRole::Test, format!("s3://{bucket}/sets/small/test.parquet").as_str()),
                (FileRole::Neighbors, format!("s3://{bucket}/sets/small/neighbors.parquet").as_str()),
            ]
        );
        assert_eq!((inspection.train_rows, inspection.test_rows), (150, 12));
        assert!(inspection.files.iter().all(|file| file.version.is_some()), "S3 reports an ETag: {inspection:?}");
    }

    let source = s3(&format!("s3://{bucket}/sets/small/"));
    let train = read_merged(&storage, &source, &schema, DatasetPart::Train).await.unwrap();
    assert_eq!(
        (&train.ids, &train.vectors, &train.payloads),
        (&data.train.ids, &data.train.vectors, &data.train.payloads)
    );
    let test = read_merged(&storage, &source, &schema, DatasetPart::Test).await.unwrap();
    assert_eq!((&test.ids, &test.vectors), (&data.test.ids, &data.test.vectors));
    let neighbors = storage.read_neighbors(&source, &dense(), 4).await.unwrap().unwrap().lists;
    assert_eq!(neighbors.len(), 12);
    assert_eq!(neighbors[0].1, data.neighbors[&dense()][0].1[..4]);
}

#[tokio::test]
async fn s3_single_file_and_glob_layouts() {
    let bucket = bucket();
    let storage = storage();
    let data = dataset(40, 3);
    let schema = dataset_schema();
    storage.write_dataset(&s3(&format!("s3://{bucket}/p")), &data).await.unwrap();

    let single = s3(&format!("s3://{bucket}/p/train.parquet"));
    assert_eq!(storage.inspect(&single, &schema).await.unwrap().layout, DatasetLayout::SingleFile);
    let glob = s3(&format!("s3://{bucket}/p/t*.parquet"));
    let inspection = storage.inspect(&glob, &schema).await.unwrap();
    assert_eq!(inspection.layout, DatasetLayout::Glob);
    assert_eq!(inspection.train_rows, 43, "train and test files both match t*.parquet");
    let rows = read_merged(&storage, &glob, &crate::support::schema(&[], &[]), DatasetPart::Train).await.unwrap();
    assert_eq!(rows.ids.len(), 43);
}

#[tokio::test]
async fn s3_wrong_credentials_are_refused() {
    let bucket = bucket();
    let storage = storage();
    storage.write_dataset(&s3(&format!("s3://{bucket}/d/")), &dataset(5, 1)).await.unwrap();
    let server = server();
    let wrong =
        s3_source(&format!("s3://{bucket}/d/train.parquet"), &server.endpoint(), server.access_key(), "not-the-secret");
    let error = storage.inspect(&wrong, &dataset_schema()).await.unwrap_err();
    assert!(
        matches!(&error, StorageError::Refused { location, .. } if location.ends_with("/d/train.parquet")),
        "{error}"
    );
    let message = error.to_string();
    assert!(message.contains("403 Forbidden"), "{message}");
    assert!(!message.contains(server.secret_key()) && !message.contains("not-the-secret"), "no secret in {message}");

    let anonymous = DatasetSource {
        uri: format!("s3://{bucket}/d/").parse().unwrap(),
        s3: Some(S3Credentials {
            endpoint_url: Some(server.endpoint()),
            region: "us-east-1".to_owned(),
            access_key: None,
            secret_key: None,
        }),
        local_area: None,
    };
    let error = storage.inspect(&anonymous, &dataset_schema()).await.unwrap_err();
    assert!(matches!(error, StorageError::Refused { .. }), "unsigned requests are refused: {error}");
    let error = storage.write_dataset(&wrong, &dataset(5, 1)).await.unwrap_err();
    assert!(matches!(error, StorageError::Refused { .. }), "{error}");
}

#[tokio::test]
async fn s3_missing_keys_are_not_found() {
    let bucket = bucket();
    let storage = storage();
    let schema = dataset_schema();
    let missing = format!("s3://{bucket}/nothing/here.parquet");
    let error = storage.inspect(&s3(&missing), &schema).await.unwrap_err();
    assert!(matches!(&error, StorageError::NotFound { location } if *location == missing), "{error}");
    let error = storage.inspect(&s3(&format!("s3://{bucket}/nothing/")), &schema).await.unwrap_err();
    assert!(matches!(error, StorageError::NotFound { .. }), "{error}");
    let error = storage.inspect(&s3(&format!("s3://{bucket}/nothing/*.parquet")), &schema).await.unwrap_err();
    assert!(matches!(error, StorageError::NotFound { .. }), "{error}");
}

#[tokio::test]
async fn s3_unreachable_endpoints_are_unreachable() {
    // A port nobody listens on: bound, then released.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let unreachable = s3_source("s3://bucket/x.parquet", &format!("http://127.0.0.1:{port}"), "key", "secret");
    let error = storage().inspect(&unreachable, &dataset_schema()).await.unwrap_err();
    assert!(
        matches!(&error, StorageError::Unreachable { location, .. } if location == "s3://bucket/x.parquet"),
        "{error}"
    );
    assert!(error.is_transient());

    // HTTPS builds a TLS client (with the aws-lc-rs provider) before failing to connect.
    let https = source(&format!("https://127.0.0.1:{port}/data/x.parquet"));
    let error = local_http_storage().inspect(&https, &dataset_schema()).await.unwrap_err();
    assert!(matches!(error, StorageError::Unreachable { .. }), "{error}");
}

#[tokio::test]
async fn s3_results_are_written_under_the_prefix() {
    let bucket = bucket();
    let server = server();
    let credentials = S3Credentials {
        endpoint_url: Some(server.endpoint()),
        region: String::new(),
        access_key: Some(server.access_key().into()),
        secret_key: Some(server.secret_key().into()),
    };
    let storage = ParquetStorage::new(ParquetStorageConfig {
        data_roots: Vec::new(),
        results: Some(ResultsLocation::S3 { uri: format!("s3://{bucket}/results/"), credentials }),
        ..ParquetStorageConfig::default()
    })
    .unwrap();
    let result = json!({"run": "r-9", "recall": 1.0});
    let stored = storage.write_result("r-9", &result, &queries()).await.unwrap();
    assert_eq!(stored.result_json, format!("s3://{bucket}/results/r-9/result.json"));
    assert_eq!(stored.queries_parquet, format!("s3://{bucket}/results/r-9/queries.parquet"));

    let store: Arc<dyn ObjectStore> = Arc::new(
        AmazonS3Builder::new()
            .with_endpoint(server.endpoint())
            .with_allow_http(true)
            .with_region(server.region())
            .with_bucket_name(&bucket)
            .with_access_key_id(server.access_key())
            .with_secret_access_key(server.secret_key())
            .build()
            .unwrap(),
    );
    let json_bytes = store.get(&Path::from("results/r-9/result.json")).await.unwrap().bytes().await.unwrap();
    assert_eq!(serde_json::from_slice::<serde_json::Value>(&json_bytes).unwrap(), result);
    check_queries_parquet(store.get(&Path::from("results/r-9/queries.parquet")).await.unwrap().bytes().await.unwrap());

    // Deleting the run's results removes every object under its prefix, and only those.
    storage.write_result("r-10", &result, &queries()).await.unwrap();
    storage.write_log("r-9", &["{}".to_owned()]).await.unwrap();
    storage.delete_results("r-9").await.unwrap();
    let left: Vec<String> = store
        .list(Some(&Path::from("results")))
        .map(|meta| meta.unwrap().location.to_string())
        .collect::<Vec<_>>()
        .await;
    assert!(left.iter().all(|key| key.starts_with("results/r-10/")), "{left:?}");
    assert_eq!(left.len(), 2, "{left:?}");
    storage.delete_results("r-9").await.unwrap();
}

#[tokio::test]
async fn http_sources_read_a_single_file_and_a_directory_found_by_probing() {
    let bucket = bucket();
    let storage = local_http_storage();
    let data = dataset(60, 4);
    let schema = dataset_schema();
    storage.write_dataset(&s3(&format!("s3://{bucket}/web/")), &data).await.unwrap();
    let base = format!("{}/buckets/{bucket}/web", server().filer_endpoint());

    let single = source(&format!("{base}/train.parquet"));
    let inspection = storage.inspect(&single, &schema).await.unwrap();
    assert_eq!((inspection.layout, inspection.train_rows), (DatasetLayout::SingleFile, 60));
    let train = read_merged(&storage, &single, &schema, DatasetPart::Train).await.unwrap();
    assert_eq!(train.vectors, data.train.vectors);

    let directory = source(&format!("{base}/"));
    let inspection = storage.inspect(&directory, &schema).await.unwrap();
    assert_eq!((inspection.layout, inspection.files.len(), inspection.test_rows), (DatasetLayout::Directory, 3, 4));
    let neighbors = storage.read_neighbors(&directory, &dense(), 10).await.unwrap().unwrap().lists;
    assert_eq!(neighbors, data.neighbors[&dense()]);

    let error = storage.inspect(&source(&format!("{base}/missing.parquet")), &schema).await.unwrap_err();
    assert!(matches!(error, StorageError::NotFound { .. }), "{error}");
    let error = storage.write_dataset(&directory, &data).await.unwrap_err();
    assert!(matches!(error, StorageError::Refused { .. }), "HTTP is read-only: {error}");
}
