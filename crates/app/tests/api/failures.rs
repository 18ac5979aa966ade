//! The benchmark engine's failure paths through the API: a run over a missing file, a corrupt
//! Parquet file, vectors of the wrong dimension or an unreachable remote Qdrant ends `FAILED`,
//! with an `error` naming the phase that failed and the file, column or server at fault, so that
//! a user can fix the registration from the message alone.

use std::path::Path;
use std::time::Duration;

use qbench_domain::synthetic::SyntheticSpec;
use qbench_domain::{Dimension, Distance, PointId, SchemaConfig, VectorSpec};
use qbench_service::synthetic::synthetic_dataset;
use qbench_storage::GeneratedDataset;
use serde_json::{Value, json};

use crate::helpers::{self, TestApp, spawn_app};

/// Writes a synthetic directory dataset under `dir/name` with one vector `v` of `dim` values per
/// row: `train.parquet`, `test.parquet`, and, when `with_neighbors`, a `neighbors.parquet` whose one
/// row is for a query id the test file does not have; without it qbench computes the ground truth.
async fn write_dataset(dir: &Path, name: &str, dim: u32, with_neighbors: bool) {
    let vectors = SchemaConfig::from_vectors([("v", VectorSpec::new(Dimension::new(dim).unwrap(), Distance::Cosine))])
        .unwrap()
        .vectors;
    let spec = SyntheticSpec { rows: 300, queries: 10, vectors, clusters: 4, seed: 7 };
    let lists = if with_neighbors { vec![(PointId::Num(10_000), vec![PointId::Num(0)])] } else { Vec::new() };
    let neighbors = [("v".parse().unwrap(), lists)].into();
    let dataset = GeneratedDataset { neighbors, ..synthetic_dataset(&spec, 1) };
    helpers::write_dataset(dir, name, &dataset).await;
    assert_eq!(dir.join(name).join("neighbors.parquet").exists(), with_neighbors);
}

/// Registers a dataset at `source_uri` declaring vector `v` of `dim` values, without inspecting
/// it (so that the run, not the registration, meets the problem).
async fn register_dataset(app: &TestApp, source_uri: &str, dim: u32) -> String {
    let dataset = app
        .create(
            "/api/v1/datasets",
            json!({"name": source_uri, "source_uri": source_uri,
                   "schema_config": {"vectors": {"v": {"dim": dim, "distance": "Cosine"}}}}),
        )
        .await;
    dataset["id"].as_str().unwrap().to_owned()
}

/// Creates an experiment on `dataset_id` and `connection_id`, runs it with a worker, and returns
/// the run as the API shows it afterwards.
async fn run_experiment(app: &TestApp, dataset_id: &str, connection_id: &str) -> Value {
    let experiment = app
        .create(
            "/api/v1/experiments",
            json!({
                "name": format!("on-{dataset_id}"), "dataset_id": dataset_id, "connection_id": connection_id,
                "optimizer_config": {"indexing": {"v": {"type": "hnsw", "m": 16, "ef_construct": 100}}},
                "search_config": {"k": 10, "hnsw_ef": [64]}
            }),
        )
        .await;
    let run_id = app.start_run(experiment["id"].as_str().unwrap()).await;
    let worker = app.worker().await;
    // A generous bound: every failure here takes well under a second; a hung run fails the test.
    let ended = tokio::time::timeout(Duration::from_secs(120), worker.run_next())
        .await
        .expect("the run ended")
        .unwrap()
        .expect("the queued run");
    assert_eq!(ended.id().to_string(), run_id);
    let run = app.get(&format!("/api/v1/runs/{run_id}")).await;
    run.expect(200);
    run.body
}

/// The `error` of a run that must have `FAILED` in `phase`: the error starts with the phase, and
/// the progress stored last shows the run in that phase.
#[track_caller]
fn failure<'a>(run: &'a Value, phase: &str) -> &'a str {
    assert_eq!(run["status"], "FAILED", "{run:#}");
    assert!(run["metrics"].is_null(), "a failed run has no metrics: {run:#}");
    assert!(run["end_time"].is_string(), "a failed run has ended: {run:#}");
    let error = run["error"].as_str().unwrap_or_else(|| panic!("a failed run without an error: {run:#}"));
    assert!(error.starts_with(&format!("{phase}: ")), "the error names the phase `{phase}`: {error}");
    assert_eq!(run["progress"]["phase"], phase, "{run:#}");
    error
}

/// How a run's error names a local file: relative to its data root, never by its server path.
fn file_uri(app: &TestApp, path: &Path) -> String {
    let shown = path.strip_prefix(app.data_dir()).unwrap().display().to_string();
    assert!(!shown.starts_with('/'), "{shown}");
    shown
}

#[actix_web::test]
async fn a_missing_parquet_file_fails_the_run_in_prepare_naming_it() {
    let app = spawn_app().await;
    let embedded = app.builtin_connection_id().await;
    // Registered without `?inspect=true`, so nothing looks for the file before the run.
    let dataset = register_dataset(&app, "nowhere/points.parquet", 8).await;
    let run = run_experiment(&app, &dataset, &embedded).await;
    assert_eq!(failure(&run, "prepare"), "prepare: nowhere/points.parquet: not found");
}

#[actix_web::test]
async fn a_train_file_deleted_after_registration_fails_the_run_in_prepare_naming_it() {
    let app = spawn_app().await;
    let embedded = app.builtin_connection_id().await;
    write_dataset(app.data_dir(), "deleted", 8, false).await;
    let inspected = app
        .post_json(
            "/api/v1/datasets?inspect=true",
            &json!({"name": "deleted", "source_uri": "deleted/", "schema_config": {"vectors": {"v": 8}}}),
        )
        .await;
    inspected.expect(201);
    assert_eq!(inspected.body["inspection"]["train_rows"], 300, "{:#}", inspected.body);
    std::fs::remove_file(app.data_dir().join("deleted/train.parquet")).unwrap();

    let run = run_experiment(&app, &inspected.id(), &embedded).await;
    let error = failure(&run, "prepare");
    assert!(error.contains("deleted/train") && error.ends_with(": not found"), "{error}");
}

#[actix_web::test]
async fn a_file_that_is_not_parquet_fails_the_run_in_prepare_naming_it() {
    let app = spawn_app().await;
    let embedded = app.builtin_connection_id().await;
    let path = app.data_dir().join("garbage.parquet");
    std::fs::write(&path, b"id,v\n1,\"[0.1, 0.2]\"\n").unwrap();
    let dataset = register_dataset(&app, "garbage.parquet", 8).await;
    let run = run_experiment(&app, &dataset, &embedded).await;
    let error = failure(&run, "prepare");
    assert!(error.starts_with(&format!("prepare: {}: ", file_uri(&app, &path))), "{error}");
    assert!(error.contains("Parquet") && error.contains("footer"), "the error says what is wrong: {error}");
    // Regression (issue 11): errors showed absolute server paths.
    assert!(!error.contains(&app.data_dir().display().to_string()), "no server path: {error}");
}

#[actix_web::test]
async fn a_truncated_parquet_file_fails_the_run_in_prepare_naming_it() {
    let app = spawn_app().await;
    let embedded = app.builtin_connection_id().await;
    write_dataset(app.data_dir(), "truncated", 8, false).await;
    let train = app.data_dir().join("truncated/train.parquet");
    let bytes = std::fs::read(&train).unwrap();
    std::fs::write(&train, &bytes[..bytes.len() / 2]).unwrap();
    let dataset = register_dataset(&app, "truncated/", 8).await;
    let run = run_experiment(&app, &dataset, &embedded).await;
    let error = failure(&run, "prepare");
    assert!(error.starts_with(&format!("prepare: {}: ", file_uri(&app, &train))), "{error}");
    assert!(error.contains("footer"), "the error says what is wrong: {error}");
}

#[actix_web::test]
async fn a_corrupt_page_fails_the_run_in_prepare_naming_the_file_and_row_group() {
    let app = spawn_app().await;
    let embedded = app.builtin_connection_id().await;
    write_dataset(app.data_dir(), "pages", 8, false).await;
    // The footer stays intact, so the file opens; its first pages are overwritten, so decoding
    // the points (for the ground truth) fails.
    let train = app.data_dir().join("pages/train.parquet");
    let mut bytes = std::fs::read(&train).unwrap();
    let half = bytes.len() / 2;
    bytes[4..half].fill(0xFF);
    std::fs::write(&train, &bytes).unwrap();
    let dataset = register_dataset(&app, "pages/", 8).await;
    let run = run_experiment(&app, &dataset, &embedded).await;
    let error = failure(&run, "prepare");
    assert!(error.starts_with(&format!("prepare: {}, row group 0: ", file_uri(&app, &train))), "{error}");
}

#[actix_web::test]
async fn vectors_of_another_dimension_fail_the_run_in_prepare_naming_the_column() {
    let app = spawn_app().await;
    let embedded = app.builtin_connection_id().await;
    write_dataset(app.data_dir(), "dim4", 4, false).await;
    let dataset = register_dataset(&app, "dim4/", 8).await;
    let run = run_experiment(&app, &dataset, &embedded).await;
    let error = failure(&run, "prepare");
    let train = app.data_dir().join("dim4/train.parquet");
    assert_eq!(
        error,
        format!(
            "prepare: {}, column `v`: the column holds fixed-size lists of 4 values, the schema says dim 8",
            file_uri(&app, &train)
        )
    );
}

#[actix_web::test]
async fn a_neighbors_file_without_the_queries_fails_the_run_in_prepare_naming_it() {
    let app = spawn_app().await;
    let embedded = app.builtin_connection_id().await;
    write_dataset(app.data_dir(), "no-truth", 8, true).await;
    let dataset = register_dataset(&app, "no-truth/", 8).await;
    let run = run_experiment(&app, &dataset, &embedded).await;
    let error = failure(&run, "prepare");
    assert!(error.contains("neighbors.parquet") && error.contains("no row for query id 0"), "{error}");
}

#[actix_web::test]
/// Issue 15: the engine is asked first, so the run fails in `prepare`, before the dataset is read.
async fn an_unreachable_remote_qdrant_fails_the_run_in_prepare_naming_it() {
    let app = spawn_app().await;
    // A port nothing listens on: bound, then released.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let api_key = "nobody-home-api-key-7q";
    let connection = app
        .create(
            "/api/v1/connections",
            json!({"name": "nobody-home", "url": format!("http://127.0.0.1:{port}"), "api_key": api_key}),
        )
        .await;
    write_dataset(app.data_dir(), "fine", 8, false).await;
    let dataset = register_dataset(&app, "fine/", 8).await;
    let run = run_experiment(&app, &dataset, connection["id"].as_str().unwrap()).await;
    let error = failure(&run, "prepare");
    assert!(error.starts_with("prepare: vector database unreachable: "), "{error}");
    assert!(error.contains(&format!("127.0.0.1:{port}")), "the error names the server: {error}");
    app.assert_never_shown(api_key);
}

/// Regression (issue 11): `m` 4294967295 was accepted (201), and its run's index build asked for
/// 34 GB and aborted the whole server. Each bounded setting at its maximum + 1 is now a 422 naming
/// the field, before anything runs.
#[actix_web::test]
async fn m_4294967295_killed_the_server_and_settings_past_their_maxima_are_now_422() {
    let app = spawn_app().await;
    let embedded = app.builtin_connection_id().await;
    let dataset = register_dataset(&app, "bounded/", 8).await;
    let cases = [
        (
            json!({"indexing": {"v": {"type": "hnsw", "m": 4_294_967_295_u64}}}),
            json!({"k": 10}),
            "optimizer_config.indexing.v.m",
        ),
        (json!({"indexing": {"v": {"type": "hnsw", "m": 513}}}), json!({"k": 10}), "optimizer_config.indexing.v.m"),
        (
            json!({"indexing": {"v": {"type": "hnsw", "ef_construct": 4097}}}),
            json!({"k": 10}),
            "optimizer_config.indexing.v.ef_construct",
        ),
        (json!({}), json!({"k": 10, "hnsw_ef": [65_537]}), "search_config.hnsw_ef[0]"),
        (json!({}), json!({"k": 10_001}), "search_config.k"),
    ];
    for (optimizer, search, field) in cases {
        let reply = app
            .post_json(
                "/api/v1/experiments",
                &json!({"name": "too-big", "dataset_id": dataset, "connection_id": embedded,
                        "optimizer_config": optimizer, "search_config": search}),
            )
            .await;
        reply.expect(422);
        let fields: Vec<&str> =
            reply.body["errors"].as_array().unwrap().iter().filter_map(|error| error["field"].as_str()).collect();
        assert!(fields.contains(&field), "{field}: {:#}", reply.body);
    }
    let runs = app.get("/api/v1/runs").await;
    assert_eq!(runs.body, json!([]), "nothing was queued");
}

/// A run whose collection would not fit the memory budget fails in `prepare` with the estimate
/// and the budget, before a point is loaded.
#[actix_web::test]
async fn a_run_over_the_memory_budget_fails_in_prepare_with_the_estimate() {
    let app =
        helpers::spawn_app_with(helpers::Backend::Sqlite, &[("QBENCH_ENGINE__MEMORY_BUDGET_BYTES", "100000")]).await;
    let embedded = app.builtin_connection_id().await;
    write_dataset(app.data_dir(), "budget", 8, true).await;
    let dataset = register_dataset(&app, "budget/", 8).await;
    let run = run_experiment(&app, &dataset, &embedded).await;
    let error = failure(&run, "prepare");
    assert!(error.contains("points need an estimated"), "{error}");
    assert!(error.contains("over the memory budget of 97.7 KiB (engine.memory_budget_bytes)"), "{error}");
    assert!(error.contains("graph") && error.contains("vectors"), "the estimate is itemised: {error}");
    let collections = std::fs::read_dir(app.data_dir().join("engine")).map(Iterator::count).unwrap_or(0);
    assert_eq!(collections, 0, "no collection was created");
}

/// On a dataset whose rows are known from its inspection, a run over the memory budget is refused
/// before it is queued: 422 naming `dataset_id`, with the estimate, and no run stored.
#[actix_web::test]
async fn a_run_over_the_memory_budget_on_an_inspected_dataset_is_refused_422_before_it_is_queued() {
    let app =
        helpers::spawn_app_with(helpers::Backend::Sqlite, &[("QBENCH_ENGINE__MEMORY_BUDGET_BYTES", "100000")]).await;
    let embedded = app.builtin_connection_id().await;
    write_dataset(app.data_dir(), "inspected", 8, false).await;
    let inspected = app
        .post_json(
            "/api/v1/datasets?inspect=true",
            &json!({"name": "inspected", "source_uri": "inspected/", "schema_config": {"vectors": {"v": 8}}}),
        )
        .await;
    inspected.expect(201);
    let dataset = inspected.body;
    let experiment = app
        .create(
            "/api/v1/experiments",
            json!({"name": "too-big", "dataset_id": dataset["id"], "connection_id": embedded,
                   "search_config": {"k": 10}}),
        )
        .await;
    let reply =
        app.post_json(&format!("/api/v1/experiments/{}/runs", experiment["id"].as_str().unwrap()), &json!(null)).await;
    reply.expect(422);
    let error = &reply.body["errors"][0];
    assert_eq!(error["field"], "dataset_id", "{:#}", reply.body);
    let message = error["message"].as_str().unwrap();
    assert!(message.contains("300 points (as last inspected) need an estimated"), "{message}");
    assert!(message.contains("over the memory budget of 97.7 KiB"), "{message}");
    assert_eq!(app.get("/api/v1/runs").await.body, json!([]), "nothing was queued");
}
