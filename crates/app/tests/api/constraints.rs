//! What the stored relations forbid, on both databases: duplicate names, deleting what is in
//! use, the built-in connection; and that a deletion is final.

use serde_json::json;

use crate::helpers::{
    Backend, TestApp, assert_problem, dense_dataset, dense_experiment, on_both_backends, seed_connection, seed_storage,
    spawn_app_on,
};

on_both_backends!(
    a_duplicate_connection_name_conflicts,
    a_duplicate_storage_name_conflicts,
    a_connection_or_dataset_used_by_an_experiment_cannot_be_deleted,
    a_storage_used_by_a_dataset_cannot_be_deleted,
    a_refused_delete_names_the_oldest_referrer,
    an_experiment_with_runs_is_deleted_only_with_cascade,
    the_builtin_connection_cannot_change_or_go,
    a_deleted_object_is_gone,
);

async fn a_duplicate_connection_name_conflicts(backend: Backend) {
    let app = spawn_app_on(backend).await;
    app.create("/api/v1/connections", seed_connection()).await;
    let again =
        app.post_json("/api/v1/connections", &json!({"name": "local-qdrant", "url": "http://other:6333"})).await;
    assert_problem(&again, 409);
    assert!(again.body["detail"].as_str().unwrap().contains("local-qdrant"), "{:#}", again.body);

    // The built-in name is taken too, and a rename onto a taken name conflicts.
    let builtin = app.post_json("/api/v1/connections", &json!({"name": "embedded", "url": "http://q:6333"})).await;
    assert_problem(&builtin, 409);
    let other = app.create("/api/v1/connections", json!({"name": "other", "url": "http://q:6333"})).await;
    let rename = app
        .patch_json(&format!("/api/v1/connections/{}", other["id"].as_str().unwrap()), &json!({"name": "local-qdrant"}))
        .await;
    assert_problem(&rename, 409);
    assert_eq!(app.get("/api/v1/connections").await.header("x-total-count"), "3");
}

async fn a_duplicate_storage_name_conflicts(backend: Backend) {
    let app = spawn_app_on(backend).await;
    let named = json!({"name": "minio", "bucket": "datasets"});
    app.create("/api/v1/storage", named.clone()).await;
    assert_problem(&app.post_json("/api/v1/storage", &named).await, 409);
    // Unnamed storages never clash.
    app.create("/api/v1/storage", seed_storage()).await;
    app.create("/api/v1/storage", seed_storage()).await;
}

/// A dataset, a connection and an experiment that uses both.
async fn experiment_in_use(app: &TestApp) -> (String, String, String) {
    let connection = app.create("/api/v1/connections", seed_connection()).await;
    let dataset = app.create("/api/v1/datasets", dense_dataset("dense")).await;
    let connection_id = connection["id"].as_str().unwrap().to_owned();
    let dataset_id = dataset["id"].as_str().unwrap().to_owned();
    let experiment = app.create("/api/v1/experiments", dense_experiment("e", &dataset_id, &connection_id)).await;
    (connection_id, dataset_id, experiment["id"].as_str().unwrap().to_owned())
}

async fn a_connection_or_dataset_used_by_an_experiment_cannot_be_deleted(backend: Backend) {
    let app = spawn_app_on(backend).await;
    let (connection_id, dataset_id, experiment_id) = experiment_in_use(&app).await;

    assert_problem(&app.delete(&format!("/api/v1/connections/{connection_id}")).await, 409);
    assert_problem(&app.delete(&format!("/api/v1/datasets/{dataset_id}")).await, 409);
    app.get(&format!("/api/v1/connections/{connection_id}")).await.expect(200);
    app.get(&format!("/api/v1/datasets/{dataset_id}")).await.expect(200);

    // Once the experiment is gone, so may they be.
    app.delete(&format!("/api/v1/experiments/{experiment_id}")).await.expect(204);
    app.delete(&format!("/api/v1/connections/{connection_id}")).await.expect(204);
    app.delete(&format!("/api/v1/datasets/{dataset_id}")).await.expect(204);
}

async fn a_storage_used_by_a_dataset_cannot_be_deleted(backend: Backend) {
    let app = spawn_app_on(backend).await;
    let storage = app.create("/api/v1/storage", seed_storage()).await;
    let storage_id = storage["id"].as_str().unwrap();
    let mut body = dense_dataset("stored");
    body["storage_id"] = json!(storage_id);
    let dataset = app.create("/api/v1/datasets", body).await;
    assert_eq!(dataset["storage_id"], storage_id);

    assert_problem(&app.delete(&format!("/api/v1/storage/{storage_id}")).await, 409);
    app.delete(&format!("/api/v1/datasets/{}", dataset["id"].as_str().unwrap())).await.expect(204);
    app.delete(&format!("/api/v1/storage/{storage_id}")).await.expect(204);

    // A dataset cannot name a storage that does not exist.
    let mut body = dense_dataset("dangling");
    body["storage_id"] = json!(storage_id);
    let refused = app.post_json("/api/v1/datasets", &body).await;
    assert_problem(&refused, 422);
    crate::helpers::message_for(&refused.body["errors"], "storage_id");
}

/// A 409 for a delete of something in use names how many refer to it and which came first, so
/// the caller knows what to delete before.
async fn a_refused_delete_names_the_oldest_referrer(backend: Backend) {
    let app = spawn_app_on(backend).await;
    let (connection_id, dataset_id, first) = experiment_in_use(&app).await;
    app.create("/api/v1/experiments", dense_experiment("second", &dataset_id, &connection_id)).await;
    for (path, entity, id) in [("connections", "connection", &connection_id), ("datasets", "dataset", &dataset_id)] {
        let refused = app.delete(&format!("/api/v1/{path}/{id}")).await;
        assert_problem(&refused, 409);
        let detail = refused.body["detail"].as_str().unwrap();
        assert_eq!(
            detail,
            format!(
                "{entity} {id} is used by 2 experiment(s), the first of them experiment {first}: delete those first"
            ),
        );
    }

    let run = app.start_run(&first).await;
    let refused = app.delete(&format!("/api/v1/experiments/{first}")).await;
    assert_problem(&refused, 409);
    let detail = refused.body["detail"].as_str().unwrap();
    assert!(detail.contains(&format!("the first of them run {run}")), "{detail}");
}

async fn an_experiment_with_runs_is_deleted_only_with_cascade(backend: Backend) {
    let app = spawn_app_on(backend).await;
    let (_, _, experiment_id) = experiment_in_use(&app).await;
    let first = app.start_run(&experiment_id).await;
    let second = app.start_run(&experiment_id).await;

    let refused = app.delete(&format!("/api/v1/experiments/{experiment_id}")).await;
    assert_problem(&refused, 409);
    let refused = app.delete(&format!("/api/v1/experiments/{experiment_id}?cascade=false")).await;
    assert_problem(&refused, 409);
    app.get(&format!("/api/v1/runs/{first}")).await.expect(200);

    let deleted = app.delete(&format!("/api/v1/experiments/{experiment_id}?cascade=true")).await;
    deleted.expect(204);
    assert!(deleted.text.is_empty(), "204 has no body: {deleted:#?}");
    for run_id in [first, second] {
        assert_problem(&app.get(&format!("/api/v1/runs/{run_id}")).await, 404);
    }
    assert_problem(&app.get(&format!("/api/v1/experiments/{experiment_id}")).await, 404);
    let runs = app.get(&format!("/api/v1/runs?experiment_id={experiment_id}")).await;
    runs.expect(200);
    assert_eq!(runs.body, json!([]));
    assert_eq!(runs.header("x-total-count"), "0");
}

async fn the_builtin_connection_cannot_change_or_go(backend: Backend) {
    let app = spawn_app_on(backend).await;
    let builtin_id = app.builtin_connection_id().await;
    let path = format!("/api/v1/connections/{builtin_id}");

    assert_problem(&app.delete(&path).await, 409);
    assert_problem(&app.patch_json(&path, &json!({"name": "renamed"})).await, 409);
    // Even a patch that changes nothing: the built-in connection is not the user's to edit.
    assert_problem(&app.patch_json(&path, &json!({})).await, 409);
    let still = app.get(&path).await;
    still.expect(200);
    assert_eq!(still.body["name"], "embedded");
    assert_eq!(still.body["url"], "embedded://");
    assert_eq!(still.body["builtin"], true);

    // Nobody else may claim `embedded://`.
    let refused = app.post_json("/api/v1/connections", &json!({"name": "mine", "url": "embedded://"})).await;
    assert_problem(&refused, 422);
    crate::helpers::message_for(&refused.body["errors"], "url");
}

async fn a_deleted_object_is_gone(backend: Backend) {
    let app = spawn_app_on(backend).await;
    let connection = app.create("/api/v1/connections", seed_connection()).await;
    let storage = app.create("/api/v1/storage", seed_storage()).await;
    let dataset = app.create("/api/v1/datasets", dense_dataset("dense")).await;
    let builtin_id = app.builtin_connection_id().await;
    let experiment =
        app.create("/api/v1/experiments", dense_experiment("e", dataset["id"].as_str().unwrap(), &builtin_id)).await;

    for (collection, object) in
        [("experiments", experiment), ("datasets", dataset), ("storage", storage), ("connections", connection)]
    {
        let path = format!("/api/v1/{collection}/{}", object["id"].as_str().unwrap());
        let deleted = app.delete(&path).await;
        deleted.expect(204);
        assert!(deleted.text.is_empty(), "{path}: 204 has no body");
        assert_problem(&app.get(&path).await, 404);
        assert_problem(&app.delete(&path).await, 404);
        assert_problem(&app.patch_json(&path, &json!({"name": "back"})).await, 404);
        let list = app.get(&format!("/api/v1/{collection}")).await;
        assert!(!list.text.contains(object["id"].as_str().unwrap()), "{path} is still listed");
    }
}
