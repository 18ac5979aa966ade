//! The S3 path end to end: a dataset in a real S3-compatible server (SeaweedFS, installed by
//! `make deps`) is registered with the storage that holds its credentials, inspected, and run to
//! COMPLETED on the embedded engine; wrong credentials fail the run naming the object.

use std::sync::OnceLock;

use qbench_domain::synthetic::SyntheticSpec;
use qbench_domain::{Dimension, Distance, SchemaConfig, VectorSpec};
use qbench_object_storage::{ParquetStorage, ParquetStorageConfig};
use qbench_service::synthetic::synthetic_dataset;
use qbench_storage::{DatasetSource, DatasetWriter, S3Credentials};
use qbench_testkit::s3::S3Server;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, spawn_app, spawn_app_with};

/// The server shared by this binary's tests; its watchdog removes it when the binary exits.
fn server() -> &'static S3Server {
    static SERVER: OnceLock<S3Server> = OnceLock::new();
    SERVER.get_or_init(|| S3Server::start().unwrap_or_else(|error| panic!("{error}")))
}

/// Writes a generated directory dataset (one Cosine vector `v`, with its neighbors file) to
/// `s3://bucket/prefix/`.
async fn write_s3_dataset(bucket: &str, prefix: &str) {
    let server = server();
    let vectors = SchemaConfig::from_vectors([("v", VectorSpec::new(Dimension::new(32).unwrap(), Distance::Cosine))])
        .unwrap()
        .vectors;
    let spec = SyntheticSpec { rows: 2_000, queries: 30, vectors, clusters: 8, seed: 3 };
    let target = DatasetSource {
        uri: format!("s3://{bucket}/{prefix}/").parse().unwrap(),
        s3: Some(S3Credentials {
            endpoint_url: Some(server.endpoint()),
            region: server.region().to_owned(),
            access_key: Some(server.access_key().into()),
            secret_key: Some(server.secret_key().into()),
        }),
        local_area: None,
    };
    let storage = ParquetStorage::new(ParquetStorageConfig::default()).unwrap();
    storage.write_dataset(&target, &synthetic_dataset(&spec, 10)).await.unwrap();
}

/// Registers a storage for `bucket` with `secret_key`, a dataset at `uri` on it and an HNSW
/// experiment; runs it and answers the ended run.
async fn run_on_s3(app: &TestApp, bucket: &str, uri: &str, secret_key: &str) -> Value {
    let server = server();
    let storage = app
        .create(
            "/api/v1/storage",
            json!({"name": format!("seaweed-{secret_key}"), "bucket": bucket, "region": server.region(),
                   "endpoint_url": server.endpoint(), "access_key": server.access_key(), "secret_key": secret_key}),
        )
        .await;
    let dataset = app
        .create(
            "/api/v1/datasets",
            json!({"name": format!("{uri}-{secret_key}"), "source_uri": uri, "storage_id": storage["id"],
                   "schema_config": {"vectors": {"v": {"dim": 32, "distance": "Cosine"}}}}),
        )
        .await;
    let embedded = app.builtin_connection_id().await;
    let experiment = app
        .create(
            "/api/v1/experiments",
            json!({"name": format!("s3-{secret_key}"), "dataset_id": dataset["id"], "connection_id": embedded,
                   "optimizer_config": {"indexing": {"v": {"type": "hnsw", "m": 16, "ef_construct": 100}}},
                   "search_config": {"k": 10, "hnsw_ef": [64]}}),
        )
        .await;
    let run_id = app.start_run(experiment["id"].as_str().unwrap()).await;
    app.worker().await.run_next().await.unwrap().expect("the queued run");
    app.get(&format!("/api/v1/runs/{run_id}")).await.body
}

#[actix_web::test]
async fn a_dataset_in_s3_runs_to_completed_with_the_credentials_of_its_storage() {
    let app = spawn_app().await;
    let bucket = format!("qb-{}", &uuid::Uuid::new_v4().simple().to_string()[..16]);
    server().create_bucket(&bucket).unwrap();
    write_s3_dataset(&bucket, "wiki").await;
    let uri = format!("s3://{bucket}/wiki/");

    let run = run_on_s3(&app, &bucket, &uri, server().secret_key()).await;
    assert_eq!(run["status"], "COMPLETED", "{run:#}");
    let metrics = &run["metrics"];
    assert_eq!(metrics["dataset"]["layout"], "directory", "{metrics:#}");
    assert_eq!(metrics["dataset"]["ground_truth"], "neighbors_file");
    assert_eq!((&metrics["points"], &metrics["dataset"]["queries"]), (&json!(2_000), &json!(30)));
    assert!(metrics["recall"].as_f64().unwrap() >= 0.9, "{metrics:#}");

    let refused = run_on_s3(&app, &bucket, &uri, "not-the-secret-key").await;
    assert_eq!(refused["status"], "FAILED", "{refused:#}");
    let error = refused["error"].as_str().unwrap();
    assert!(error.starts_with("prepare: "), "{error}");
    assert!(error.contains(&format!("s3://{bucket}/wiki")), "the error names the object: {error}");
    assert!(!error.contains("not-the-secret-key"), "{error}");
}

/// Results kept on S3 are handed out as the storage's own presigned URLs, which work with no
/// other credential (fetched here with a plain HTTP client) until they expire.
#[actix_web::test]
async fn results_on_s3_are_handed_out_as_presigned_urls() {
    let server = server();
    let bucket = format!("qb-{}", &uuid::Uuid::new_v4().simple().to_string()[..16]);
    server.create_bucket(&bucket).unwrap();
    write_s3_dataset(&bucket, "wiki").await;
    let results = format!("s3://{bucket}/results");
    let endpoint = server.endpoint();
    let app = spawn_app_with(
        Backend::Sqlite,
        &[
            ("QBENCH_ENGINE__RESULTS", results.as_str()),
            ("MINIO_ENDPOINT", endpoint.as_str()),
            ("MINIO_ACCESS_KEY", server.access_key()),
            ("MINIO_SECRET_KEY", server.secret_key()),
        ],
    )
    .await;
    let run = run_on_s3(&app, &bucket, &format!("s3://{bucket}/wiki/"), server.secret_key()).await;
    assert_eq!(run["status"], "COMPLETED", "{run:#}");
    let run_id = run["id"].as_str().unwrap();
    let result = app.get(&format!("/api/v1/runs/{run_id}/result")).await;
    result.expect(200);
    let links = &result.body["artifacts"];
    let url = links["result_url"].as_str().unwrap();
    assert!(url.starts_with(&endpoint) && url.contains("X-Amz-Signature="), "{links:#}");
    assert!(url.contains(&format!("/{bucket}/results/{run_id}/result.json")), "{url}");

    let client = reqwest::Client::new();
    let fetched = client.get(url).send().await.unwrap();
    assert_eq!(fetched.status(), 200);
    let stored: Value = serde_json::from_slice(&fetched.bytes().await.unwrap()).unwrap();
    assert_eq!(stored["recall"], result.body["result"]["recall"]);
    let parquet = client.get(links["results_url"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(parquet.status(), 200);
    assert!(parquet.bytes().await.unwrap().starts_with(b"PAR1"));
    let log = client.get(links["log_url"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(log.status(), 200);
    assert!(String::from_utf8_lossy(&log.bytes().await.unwrap()).contains(r#""event":"completed""#));
    let page = client.get(links["report_url"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(String::from_utf8_lossy(&page.bytes().await.unwrap()).contains(r#"data-chart="recall-qps""#));
    // Altered, the signature no longer holds.
    let altered = url.replace("result.json", "queries.parquet");
    assert_eq!(client.get(&altered).send().await.unwrap().status(), 403);
}
