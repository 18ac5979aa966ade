//! `/api/v1/snapshots`: a kept run collection archived into a repository by a job, restored by
//! another into a new collection that answers exactly as the original; a damaged archive is
//! refused before anything is restored; bad input is named field by field.

use actix_web::http::Method;
use actix_web::test::TestRequest;
use qbench_domain::VectorName;
use qbench_qdrant_edge::EmbeddedEngine;
use qbench_vector_store::{SearchParams, SearchRequest, VectorStore};
use serde_json::{Value, json};

use crate::artifacts::completed_run_keeping;
use crate::auth::{claims, hs256, jwt_app};
use crate::helpers::{TestApp, assert_problem, fields, spawn_app};

/// Runs the next queued job and answers the resource at `location`.
async fn after_job(app: &TestApp, location: &str) -> Value {
    assert!(app.worker().await.run_next().await.unwrap().is_some(), "a queued job");
    app.get(location).await.body
}

/// A kept run's collection, snapshotted into the `snapshots` directory: (snapshot, collection).
pub(crate) async fn ready_snapshot(app: &TestApp) -> (Value, String) {
    let run = completed_run_keeping(app, true).await;
    let collection = format!("qbench-{run}");
    let connection = app.builtin_connection_id().await;
    let created = app
        .post_json(
            "/api/v1/snapshots",
            &json!({"connection_id": connection, "collection": collection, "repository": {"path": "snapshots"}}),
        )
        .await;
    created.expect(202);
    assert_eq!(created.body["status"], "CREATING");
    let task = &created.body["task"];
    assert_eq!((&task["id"], &task["kind"]), (&created.body["job_id"], &json!("snapshot")));
    assert_eq!(task["links"]["resource"], created.header("location"));
    assert_eq!(created.body["built_by_run_id"], json!(run));
    let snapshot = after_job(app, created.header("location")).await;
    assert_eq!(snapshot["status"], "READY", "{snapshot:#}");
    (snapshot, collection)
}

/// The ids and scores `collection` answers for a few queries, read straight from the engine's
/// files once every worker has let go of them.
async fn answers(app: &TestApp, collection: &str) -> Vec<Vec<(String, u32)>> {
    let engine = EmbeddedEngine::new(app.data_dir().join("engine"));
    let vector: VectorName = "v".parse().unwrap();
    let params = SearchParams { hnsw_ef: Some(16), exact: false, quantization: None };
    let mut answers = Vec::new();
    for seed in 0..5u8 {
        let query: Vec<f32> = (0..8u8).map(|i| f32::from((seed * 7 + i * 3) % 11) - 5.0).collect();
        let request = SearchRequest { vector: &vector, query: &query, k: 10, params: &params };
        let response = engine.search(collection, request).await.unwrap();
        answers.push(response.points.iter().map(|point| (point.id.to_string(), point.score.to_bits())).collect());
    }
    answers
}

#[actix_web::test]
async fn a_snapshot_restored_into_a_new_collection_answers_exactly_as_the_original() {
    let app = spawn_app().await;
    let (snapshot, collection) = ready_snapshot(&app).await;
    assert_eq!(snapshot["points"], 300);
    let sha256 = snapshot["sha256"].as_str().unwrap();
    assert!(sha256.len() == 64 && sha256.chars().all(|c| c.is_ascii_hexdigit()), "{sha256}");
    let object = snapshot["object"].as_str().unwrap();
    let archive = std::fs::read(app.data_dir().join("snapshots").join(object)).unwrap();
    assert_eq!(snapshot["bytes"], archive.len() as u64);
    assert!(snapshot["collection_config"].is_object(), "{snapshot:#}");

    let listed = app.get(&format!("/api/v1/snapshots?collection={collection}&status=READY")).await;
    listed.expect(200);
    assert_eq!(listed.body.as_array().unwrap().len(), 1);
    assert_eq!(app.get("/api/v1/snapshots?status=FAILED").await.body, json!([]));

    let id = snapshot["id"].as_str().unwrap();
    let connection = app.builtin_connection_id().await;
    let restore = app
        .post_json(
            &format!("/api/v1/snapshots/{id}/restore"),
            &json!({"connection_id": connection, "collection": "qbench-restored"}),
        )
        .await;
    restore.expect(202);
    assert_eq!(restore.body["kind"], "restore");
    // The task: where to follow it, what it works on, and what its status allows.
    let links = &restore.body["links"];
    assert_eq!(links["self"], restore.header("location"), "{links}");
    assert_eq!(links["resource"], format!("/api/v1/snapshots/{id}"));
    assert_eq!(links["cancel"], format!("{}/cancel", restore.header("location")));
    assert!(links.get("pause").is_none() && links.get("resume").is_none(), "a restore cannot pause: {links}");
    let job = after_job(&app, restore.header("location")).await;
    assert_eq!(job["status"], "COMPLETED", "{job:#}");
    assert!(job["links"].get("cancel").is_none(), "an ended job has nothing to cancel: {job:#}");
    assert_eq!(job["result"]["points"], 300);

    assert_eq!(answers(&app, "qbench-restored").await, answers(&app, &collection).await);

    // The name is now taken: restoring onto it again needs `overwrite`.
    let again = json!({"connection_id": connection, "collection": "qbench-restored"});
    assert_problem(&app.post_json(&format!("/api/v1/snapshots/{id}/restore"), &again).await, 409);
    let overwrite = json!({"connection_id": connection, "collection": "qbench-restored", "overwrite": true});
    let replaced = app.post_json(&format!("/api/v1/snapshots/{id}/restore"), &overwrite).await;
    replaced.expect(202);
    assert_eq!(after_job(&app, replaced.header("location")).await["status"], "COMPLETED");

    // Deleting the snapshot removes its archive too.
    app.delete(&format!("/api/v1/snapshots/{id}")).await.expect(204);
    assert!(!app.data_dir().join("snapshots").join(object).exists());
    assert_problem(&app.get(&format!("/api/v1/snapshots/{id}")).await, 404);
}

#[actix_web::test]
async fn a_damaged_archive_is_refused_before_anything_is_restored() {
    let app = spawn_app().await;
    let (snapshot, _) = ready_snapshot(&app).await;
    let path = app.data_dir().join("snapshots").join(snapshot["object"].as_str().unwrap());
    let mut archive = std::fs::read(&path).unwrap();
    let middle = archive.len() / 2;
    archive[middle] ^= 0x01;
    std::fs::write(&path, archive).unwrap();

    let connection = app.builtin_connection_id().await;
    let restore = app
        .post_json(
            &format!("/api/v1/snapshots/{}/restore", snapshot["id"].as_str().unwrap()),
            &json!({"connection_id": connection, "collection": "qbench-damaged"}),
        )
        .await;
    restore.expect(202);
    let job = after_job(&app, restore.header("location")).await;
    assert_eq!(job["status"], "FAILED", "{job:#}");
    assert!(job["error"].as_str().unwrap().contains("checksum mismatch"), "{job:#}");
    assert!(!app.data_dir().join("engine").join("qbench-damaged").exists(), "nothing restored");
    let stats = app.get(&format!("/api/v1/connections/{connection}/stats")).await.body;
    let names: Vec<&str> =
        stats["collections"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert!(!names.contains(&"qbench-damaged"), "{names:?}");
}

#[actix_web::test]
async fn a_snapshot_request_names_each_field_at_fault() {
    let app = spawn_app().await;
    let connection = app.builtin_connection_id().await;
    let unknown = uuid::Uuid::now_v7().to_string();
    let ask = |body: Value| {
        let app = &app;
        async move { app.post_json("/api/v1/snapshots", &body).await }
    };

    let reply = ask(json!({"connection_id": unknown, "collection": "qbench-x", "repository": {"path": "s"}})).await;
    assert_problem(&reply, 422);
    assert_eq!(fields(&reply.body["errors"]), ["connection_id"]);

    let reply =
        ask(json!({"connection_id": connection, "collection": "qbench-none", "repository": {"path": "s"}})).await;
    assert_problem(&reply, 422);
    assert_eq!(fields(&reply.body["errors"]), ["collection"]);

    let (_, collection) = ready_snapshot(&app).await;
    let reply =
        ask(json!({"connection_id": connection, "collection": collection, "repository": {"path": "/etc"}})).await;
    assert_problem(&reply, 422);
    assert_eq!(fields(&reply.body["errors"]), ["repository.path"]);
    assert!(!reply.text.contains(&app.data_dir().display().to_string()), "no server path: {}", reply.text);

    let reply =
        ask(json!({"connection_id": connection, "collection": collection, "repository": {"storage_id": unknown}}))
            .await;
    assert_eq!(fields(&reply.body["errors"]), ["repository.storage_id"]);

    let reply = ask(json!({"connection_id": connection, "collection": collection, "repository": {}})).await;
    assert_eq!(fields(&reply.body["errors"]), ["repository"]);

    let reply = ask(json!({"connection_id": connection, "collection": "../x", "repository": {"path": "s"}})).await;
    assert_problem(&reply, 422);

    let reply = app
        .post_json(
            &format!("/api/v1/snapshots/{unknown}/restore"),
            &json!({"connection_id": connection, "collection": "qbench-x"}),
        )
        .await;
    assert_problem(&reply, 404);
}

#[actix_web::test]
async fn only_an_admin_names_a_collection_qbench_did_not_create() {
    let app = jwt_app(&[]).await;
    let editor = hs256(&claims("ann", &["editor"]));
    let connection = {
        let admin = hs256(&claims("root", &["admin"]));
        let request = TestRequest::get()
            .uri("/api/v1/connections?limit=1000")
            .insert_header(("Authorization", format!("Bearer {admin}")));
        let listed = app.send(request).await.body;
        listed.as_array().unwrap().iter().find(|c| c["builtin"] == json!(true)).unwrap()["id"].clone()
    };
    let body = json!({"connection_id": connection, "collection": "production", "repository": {"path": "s"}});
    let request = TestRequest::default()
        .method(Method::POST)
        .uri("/api/v1/snapshots")
        .insert_header(("Authorization", format!("Bearer {editor}")))
        .insert_header(("Content-Type", "application/json"))
        .set_payload(body.to_string());
    let reply = app.send(request).await;
    assert_problem(&reply, 403);
    assert_eq!(fields(&reply.body["errors"]), ["collection"], "{:#}", reply.body);
}

#[actix_web::test]
async fn an_experiment_from_a_snapshot_measures_search_only_on_the_index_it_restores() {
    let app = spawn_app().await;
    let (snapshot, collection) = ready_snapshot(&app).await;
    let building_run = collection.strip_prefix("qbench-").unwrap().to_owned();
    let built = app.get(&format!("/api/v1/runs/{building_run}")).await.body;
    let building = app.get(&format!("/api/v1/experiments/{}", built["experiment_id"].as_str().unwrap())).await.body;
    let connection = app.builtin_connection_id().await;
    let source = json!({"snapshot_id": snapshot["id"]});
    let experiment = json!({"name": "from-snapshot", "dataset_id": building["dataset_id"], "connection_id": connection,
                            "search_config": {"k": 10, "hnsw_ef": [16, 32]}, "source": source});

    // The index comes from the snapshot: no index settings, no sample; an unknown snapshot is named.
    let mut with_index = experiment.clone();
    with_index["optimizer_config"] = json!({"indexing": {"v": {"m": 32}}});
    let reply = app.post_json("/api/v1/experiments", &with_index).await;
    assert_problem(&reply, 422);
    assert_eq!(fields(&reply.body["errors"]), ["optimizer_config"], "{:#}", reply.body);
    let mut unknown = experiment.clone();
    unknown["source"] = json!({"snapshot_id": uuid::Uuid::now_v7()});
    let reply = app.post_json("/api/v1/experiments", &unknown).await;
    assert_eq!(fields(&reply.body["errors"]), ["source.snapshot_id"], "{:#}", reply.body);

    let created = app.create("/api/v1/experiments", experiment).await;
    assert_eq!(created["source"], source);
    let run = app.start_run(created["id"].as_str().unwrap()).await;
    app.worker().await.run_next().await.unwrap().expect("the queued run");
    let run = app.get(&format!("/api/v1/runs/{run}")).await.body;
    assert_eq!(run["status"], "COMPLETED", "{run:#}");
    let metrics = &run["metrics"];
    assert_eq!(metrics["index_source"]["snapshot_id"], snapshot["id"]);
    assert_eq!(metrics["index_source"]["built_by_run_id"], json!(building_run));
    assert_eq!(metrics["index_source"]["sha256"], snapshot["sha256"]);
    assert_eq!(metrics["index_source"]["points"], 300);
    assert_eq!((metrics["upload_seconds"].as_f64(), metrics["index_seconds"].as_f64()), (Some(0.0), Some(0.0)));
    assert_eq!(metrics["points"], 300);
    // The same index, queries and ground truth: the setting both runs measured finds the same.
    let recall_at = |metrics: &Value, setting: &str| {
        metrics["results"].as_array().unwrap().iter().find(|r| r["setting"] == setting).map(|r| r["recall"].clone())
    };
    let built_recall = recall_at(&built["metrics"], "hnsw_ef=16");
    assert!(built_recall.is_some(), "{:#}", built["metrics"]);
    assert_eq!(recall_at(metrics, "hnsw_ef=16"), built_recall);
    assert!(recall_at(metrics, "hnsw_ef=32").is_some());
    // Its page says where the index came from.
    let page =
        std::fs::read_to_string(app.data_dir().join("results").join(run["id"].as_str().unwrap()).join("report.html"))
            .unwrap();
    assert!(page.contains(&format!("data-index-source=\"{}\"", snapshot["id"].as_str().unwrap())), "{page}");
    // The run's collection went with it; the snapshot's original is untouched.
    assert!(!app.data_dir().join("engine").join(format!("qbench-{}", run["id"].as_str().unwrap())).exists());
}

#[actix_web::test]
async fn a_bulk_delete_answers_each_id_in_the_order_given() {
    let app = spawn_app().await;
    let (snapshot, _) = ready_snapshot(&app).await;
    let id = snapshot["id"].as_str().unwrap();
    let unknown = uuid::Uuid::now_v7().to_string();
    let reply = app.post_json("/api/v1/snapshots/bulk-delete", &json!({"ids": [unknown, id]})).await;
    reply.expect(200);
    assert_eq!((&reply.body["deleted"], &reply.body["failed"]), (&json!(1), &json!(1)), "{:#}", reply.body);
    let results = reply.body["results"].as_array().unwrap();
    assert_eq!((&results[0]["id"], &results[0]["status"]), (&json!(unknown), &json!(404)));
    assert!(results[0]["detail"].as_str().unwrap().contains("not found"), "{:#}", reply.body);
    assert_eq!((&results[1]["id"], &results[1]["status"]), (&json!(id), &json!(204)));
    assert!(results[1].get("detail").is_none());
    assert!(!app.data_dir().join("snapshots").join(snapshot["object"].as_str().unwrap()).exists());

    // Experiments the same way: one with runs is in use unless cascading.
    let run = app.get(&format!("/api/v1/runs/{}", snapshot["built_by_run_id"].as_str().unwrap())).await.body;
    let experiment = run["experiment_id"].as_str().unwrap().to_owned();
    let reply = app.post_json("/api/v1/experiments/bulk-delete", &json!({"ids": [experiment]})).await;
    assert_eq!(reply.body["results"][0]["status"], 409, "{:#}", reply.body);
    let reply = app.post_json("/api/v1/experiments/bulk-delete?cascade=true", &json!({"ids": [experiment]})).await;
    assert_eq!(reply.body["results"][0]["status"], 204, "{:#}", reply.body);
    assert_problem(&app.get(&format!("/api/v1/experiments/{experiment}")).await, 404);

    // The ids themselves are checked first.
    let reply = app.post_json("/api/v1/snapshots/bulk-delete", &json!({"ids": []})).await;
    assert_problem(&reply, 422);
    let reply = app.post_json("/api/v1/snapshots/bulk-delete", &json!({"ids": [unknown, unknown]})).await;
    assert_problem(&reply, 422);
    assert_eq!(fields(&reply.body["errors"]), ["ids[1]"], "{:#}", reply.body);
    let many: Vec<String> = (0..101).map(|_| uuid::Uuid::now_v7().to_string()).collect();
    assert_problem(&app.post_json("/api/v1/snapshots/bulk-delete", &json!({"ids": many})).await, 422);
}

#[actix_web::test]
async fn regression_an_empty_collection_filter_is_refused_not_answered() {
    let app = spawn_app().await;
    let reply = app.get("/api/v1/snapshots?collection=").await;
    assert_problem(&reply, 400);
    assert!(reply.body["detail"].as_str().unwrap().contains("collection"), "{:#}", reply.body);
    let long = "c".repeat(256);
    assert_problem(&app.get(&format!("/api/v1/snapshots?collection={long}")).await, 400);
    app.get("/api/v1/snapshots?collection=qbench-x").await.expect(200);
}
