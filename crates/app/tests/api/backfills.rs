//! `/api/v1/backfills`: a multi-file dataset loaded by a job into a collection of the embedded
//! engine, item by item, with exactly its points; an incremental backfill after a file was added
//! loads only that file; pause, resume and cancel through commands; work items paged and filtered;
//! bad input named field by field.

use actix_web::http::Method;
use actix_web::test::TestRequest;
use qbench_domain::synthetic::SyntheticSpec;
use qbench_domain::{Dimension, Distance, PointId, SchemaConfig, VectorSpec};
use qbench_qdrant_edge::EmbeddedEngine;
use qbench_service::synthetic::synthetic_dataset;
use qbench_vector_store::VectorStore;
use serde_json::{Value, json};

use crate::auth::{claims, hs256, jwt_app};
use crate::helpers::{TestApp, assert_problem, fields, spawn_app, write_dataset};

/// Writes `docs/train-<index>.parquet`: `rows` synthetic points (dim 8) with ids from `first_id`.
async fn shard(app: &TestApp, index: usize, first_id: u64, rows: usize) {
    let vectors = SchemaConfig::from_vectors([("v", VectorSpec::new(Dimension::new(8).unwrap(), Distance::Cosine))])
        .unwrap()
        .vectors;
    let spec = SyntheticSpec { rows, queries: 1, vectors, clusters: 3, seed: 7 + index as u64 };
    let mut dataset = synthetic_dataset(&spec, 1);
    dataset.train.ids = (first_id..first_id + rows as u64).map(PointId::Num).collect();
    let scratch = format!("scratch-{index}");
    write_dataset(app.data_dir(), &scratch, &dataset).await;
    let target = app.data_dir().join("docs");
    std::fs::create_dir_all(&target).unwrap();
    std::fs::rename(
        app.data_dir().join(&scratch).join("train.parquet"),
        target.join(format!("train-{index:02}.parquet")),
    )
    .unwrap();
}

/// Registers the `docs/` dataset and answers its id.
async fn docs(app: &TestApp) -> Value {
    let schema = json!({"vectors": {"v": {"dim": 8, "distance": "Cosine"}}});
    app.create("/api/v1/datasets", json!({"name": "docs", "source_uri": "docs/", "schema_config": schema})).await["id"]
        .clone()
}

/// A request loading `dataset` into `qbench-docs` of the embedded engine.
async fn request(app: &TestApp, dataset: &Value, kind: &str) -> Value {
    json!({
        "dataset_id": dataset,
        "connection_id": app.builtin_connection_id().await,
        "collection": "qbench-docs",
        "optimizer_config": {"indexing": {"v": {"m": 8, "ef_construct": 32}}},
        "batch_size": 64,
        "parallel": 2,
        "type": kind,
    })
}

/// Queues a backfill, asserting 202 with its `Location`, and answers it.
async fn queue(app: &TestApp, body: &Value) -> Value {
    let reply = app.post_json("/api/v1/backfills", body).await;
    reply.expect(202);
    let id = reply.id();
    assert_eq!(reply.header("location"), format!("/api/v1/backfills/{id}"));
    let task = &reply.body["task"];
    assert_eq!((task["id"].as_str(), task["kind"].as_str()), (Some(id.as_str()), Some("backfill")), "{task}");
    assert_eq!(task["links"]["pause"], format!("/api/v1/jobs/{id}/pause"), "a backfill can pause");
    reply.body
}

/// Runs the next queued job and answers the backfill `id` after it.
async fn after_job(app: &TestApp, id: &str) -> Value {
    let job = app.worker().await.run_next().await.unwrap().expect("a queued job");
    assert_eq!(job.id().to_string(), id);
    app.get(&format!("/api/v1/backfills/{id}")).await.body
}

/// The points `qbench-docs` holds, read from the engine's files once every worker let go of them.
async fn points(app: &TestApp) -> u64 {
    let engine = EmbeddedEngine::new(app.data_dir().join("engine"));
    engine.collection_info("qbench-docs").await.unwrap().points
}

fn work_item_files(items: &Value) -> Vec<String> {
    let files = items.as_array().unwrap().iter();
    files.map(|item| item["location"].as_str().unwrap().rsplit('/').next().unwrap().to_owned()).collect()
}

#[actix_web::test]
async fn a_full_backfill_of_a_multi_file_dataset_loads_every_point_and_every_work_item_is_done() {
    let app = spawn_app().await;
    shard(&app, 0, 0, 150).await;
    shard(&app, 1, 150, 100).await;
    let dataset = docs(&app).await;
    let queued = queue(&app, &request(&app, &dataset, "FULL").await).await;
    assert_eq!((queued["status"].as_str(), queued["type"].as_str()), (Some("CREATED"), Some("FULL")));
    assert_eq!(queued["work_items"]["total"], 0, "planned by its first execution");
    assert_eq!(queued["optimizer_config"]["indexing"]["v"]["m"], 8);
    let id = queued["id"].as_str().unwrap();
    assert_eq!(app.get(&format!("/api/v1/jobs/{id}")).await.body["kind"], "backfill");

    let done = after_job(&app, id).await;
    assert_eq!(done["status"], "COMPLETED", "{done:#}");
    assert_eq!(done["progress"]["points_done"], 250);
    assert_eq!(done["progress"]["points_total"], 250);
    assert_eq!(done["collection_points"], 250);
    assert_eq!(done["work_items"], json!({"pending": 0, "running": 0, "done": 2, "failed": 0, "total": 2}));
    assert_eq!(points(&app).await, 250, "exactly the dataset's points");

    let items = app.get(&format!("/api/v1/backfills/{id}/work-items")).await;
    items.expect(200);
    assert_eq!(work_item_files(&items.body), ["train-00.parquet", "train-01.parquet"]);
    let shape: Vec<(u64, u64, u64, u64, &str)> = items
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|item| {
            let number = |key: &str| item[key].as_u64().unwrap();
            (
                number("row_group_start"),
                number("row_group_end"),
                number("first_row"),
                number("points"),
                item["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(shape, [(0, 1, 0, 150, "DONE"), (0, 1, 150, 100, "DONE")]);

    let second = app.get(&format!("/api/v1/backfills/{id}/work-items?limit=1&offset=1")).await;
    assert_eq!(second.header("x-total-count"), "2");
    assert_eq!(work_item_files(&second.body), ["train-01.parquet"]);
    let pending = app.get(&format!("/api/v1/backfills/{id}/work-items?status=PENDING")).await;
    assert_eq!((pending.body.clone(), pending.header("x-total-count")), (json!([]), "0"));
    let done_items = app.get(&format!("/api/v1/backfills/{id}/work-items?status=DONE&limit=1")).await;
    assert_eq!(done_items.header("x-total-count"), "2");
    assert_problem(&app.get(&format!("/api/v1/backfills/{id}/work-items?status=LOST")).await, 400);

    let listed = app.get("/api/v1/backfills").await;
    listed.expect(200);
    assert_eq!(listed.body.as_array().unwrap().len(), 1);
    assert_eq!(listed.body[0]["id"], id);
}

#[actix_web::test]
async fn an_incremental_backfill_after_a_file_was_added_loads_only_that_file() {
    let app = spawn_app().await;
    shard(&app, 0, 0, 150).await;
    let dataset = docs(&app).await;
    let first = queue(&app, &request(&app, &dataset, "FULL").await).await;
    assert_eq!(after_job(&app, first["id"].as_str().unwrap()).await["collection_points"], 150);

    shard(&app, 1, 150, 100).await;
    let again = app.post_json("/api/v1/backfills", &request(&app, &dataset, "FULL").await).await;
    assert_problem(&again, 409);
    assert!(
        again.body["detail"].as_str().unwrap().contains("collection `qbench-docs` already exists"),
        "{:#}",
        again.body
    );

    let added = queue(&app, &request(&app, &dataset, "INCREMENTAL").await).await;
    let id = added["id"].as_str().unwrap();
    let done = after_job(&app, id).await;
    assert_eq!(done["status"], "COMPLETED", "{done:#}");
    assert_eq!((done["progress"]["points_total"].as_u64(), done["collection_points"].as_u64()), (Some(100), Some(250)));
    let items = app.get(&format!("/api/v1/backfills/{id}/work-items")).await.body;
    assert_eq!(work_item_files(&items), ["train-01.parquet"], "only the new file");
    assert_eq!(points(&app).await, 250);
}

#[actix_web::test]
async fn a_paused_backfill_holds_no_worker_until_resumed_and_a_cancelled_one_never_runs() {
    let app = spawn_app().await;
    shard(&app, 0, 0, 120).await;
    let dataset = docs(&app).await;
    let queued = queue(&app, &request(&app, &dataset, "FULL").await).await;
    let id = queued["id"].as_str().unwrap();
    let commands = format!("/api/v1/backfills/{id}/commands");

    let paused = app.post_json(&commands, &json!({"command": "pause"})).await;
    paused.expect(202);
    assert_eq!(paused.header("location"), format!("/api/v1/backfills/{id}"));
    assert_eq!(paused.body["status"], "PAUSED");
    assert!(app.worker().await.run_next().await.unwrap().is_none(), "a paused backfill holds no worker");
    assert_eq!(app.get(&format!("/api/v1/backfills/{id}")).await.body["work_items"]["total"], 0);

    let resumed = app.post_json(&commands, &json!({"command": "resume"})).await;
    resumed.expect(202);
    assert_eq!(resumed.body["status"], "CREATED");
    let done = after_job(&app, id).await;
    assert_eq!((done["status"].as_str(), done["collection_points"].as_u64()), (Some("COMPLETED"), Some(120)));
    assert_problem(&app.post_json(&commands, &json!({"command": "pause"})).await, 409);
    let unknown = app.post_json(&commands, &json!({"command": "stop"})).await;
    assert_problem(&unknown, 422);
    assert_eq!(fields(&unknown.body["errors"]), ["command"]);

    let mut body = request(&app, &dataset, "FULL").await;
    body["collection"] = json!("qbench-other");
    let queued = queue(&app, &body).await;
    let id = queued["id"].as_str().unwrap();
    let cancelled = app.post_json(&format!("/api/v1/backfills/{id}/commands"), &json!({"command": "cancel"})).await;
    cancelled.expect(202);
    assert_eq!(cancelled.body["status"], "CANCELED");
    assert!(app.worker().await.run_next().await.unwrap().is_none());
}

#[actix_web::test]
async fn a_backfill_request_names_each_field_at_fault() {
    let app = spawn_app().await;
    shard(&app, 0, 0, 20).await;
    let dataset = docs(&app).await;
    let valid = request(&app, &dataset, "FULL").await;
    let unknown = uuid::Uuid::now_v7().to_string();
    let ask = |change: &dyn Fn(&mut Value)| {
        let mut body = valid.clone();
        change(&mut body);
        let app = &app;
        async move { app.post_json("/api/v1/backfills", &body).await }
    };

    let neither = ask(&|body| drop(body.as_object_mut().unwrap().remove("optimizer_config"))).await;
    assert_problem(&neither, 422);
    assert_eq!(fields(&neither.body["errors"]), ["optimizer_config"]);
    let both = ask(&|body| body["study_id"] = json!(uuid::Uuid::now_v7())).await;
    assert_eq!(fields(&both.body["errors"]), ["optimizer_config"]);
    assert!(both.text.contains("not both"), "{}", both.text);

    let study = unknown.clone();
    let missing = ask(&move |body| {
        body["dataset_id"] = json!(uuid::Uuid::now_v7());
        body["connection_id"] = json!(uuid::Uuid::now_v7());
        body.as_object_mut().unwrap().remove("optimizer_config");
        body["study_id"] = json!(study);
    })
    .await;
    assert_problem(&missing, 422);
    assert_eq!(fields(&missing.body["errors"]), ["dataset_id", "connection_id", "study_id"]);

    let bounds = ask(&|body| {
        body["batch_size"] = json!(0);
        body["parallel"] = json!(17);
    })
    .await;
    assert_problem(&bounds, 422);
    assert_eq!(fields(&bounds.body["errors"]), ["batch_size", "parallel"]);

    let settings = ask(&|body| body["optimizer_config"] = json!({"indexing": {"w": {"m": 600}}})).await;
    assert_problem(&settings, 422);
    assert_eq!(fields(&settings.body["errors"]), ["optimizer_config.indexing.w", "optimizer_config.indexing.w.m"]);

    let name = ask(&|body| body["collection"] = json!("../etc")).await;
    assert_problem(&name, 422);
    assert_eq!(fields(&name.body["errors"]), ["collection"]);
    let kind = ask(&|body| body["type"] = json!("PARTIAL")).await;
    assert_problem(&kind, 422);
    assert_eq!(fields(&kind.body["errors"]), ["type"]);

    // The same collection while a backfill into it waits.
    queue(&app, &valid).await;
    let busy = app.post_json("/api/v1/backfills", &valid).await;
    assert_problem(&busy, 409);
    assert!(busy.text.contains("qbench-docs"), "{}", busy.text);

    assert_problem(&app.get(&format!("/api/v1/backfills/{unknown}")).await, 404);
    let noop = app.post_json("/api/v1/jobs/noop", &json!({"steps": 1})).await;
    noop.expect(202);
    assert_problem(&app.get(&format!("/api/v1/backfills/{}", noop.id())).await, 404);
    assert_problem(&app.get(&format!("/api/v1/backfills/{unknown}/work-items")).await, 404);
}

#[actix_web::test]
async fn only_an_admin_backfills_a_collection_qbench_did_not_create() {
    let app = jwt_app(&[]).await;
    let bearer = |user: &str, role: &str| format!("Bearer {}", hs256(&claims(user, &[role])));
    let connection = {
        let request = TestRequest::get()
            .uri("/api/v1/connections?limit=1000")
            .insert_header(("Authorization", bearer("root", "admin")));
        let listed = app.send(request).await.body;
        listed.as_array().unwrap().iter().find(|c| c["builtin"] == json!(true)).unwrap()["id"].clone()
    };
    let body = json!({
        "dataset_id": uuid::Uuid::now_v7(),
        "connection_id": connection,
        "collection": "production",
        "optimizer_config": {},
        "type": "INCREMENTAL",
    });
    let post = |authorization: String| {
        TestRequest::default()
            .method(Method::POST)
            .uri("/api/v1/backfills")
            .insert_header(("Authorization", authorization))
            .insert_header(("Content-Type", "application/json"))
            .set_payload(body.to_string())
    };
    let reply = app.send(post(bearer("ann", "editor"))).await;
    assert_problem(&reply, 403);
    assert_eq!(fields(&reply.body["errors"]), ["collection"], "{:#}", reply.body);
    // An admin may name it: what is left is the unknown dataset.
    let reply = app.send(post(bearer("root", "admin"))).await;
    assert_problem(&reply, 422);
    assert_eq!(fields(&reply.body["errors"]), ["dataset_id"], "{:#}", reply.body);
}
