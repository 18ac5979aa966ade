//! PATCH as JSON Merge Patch on every resource: a given field replaces, `null` removes an optional
//! field, and the merged object is validated like a new one.

use serde_json::{Value, json};

use crate::helpers::{
    Backend, TestApp, assert_problem, dense_dataset, dense_experiment, fields, message_for, on_both_backends,
    seed_connection, seed_dataset, seed_experiment, seed_storage, spawn_app_on, untimed,
};

on_both_backends!(
    a_connection_is_patched_and_its_api_key_removed,
    a_storage_is_patched_and_its_optional_fields_removed,
    a_dataset_is_patched_down_to_its_nested_vectors,
    an_experiment_patch_is_validated_against_its_dataset,
);

/// PATCHes `path` with `patch`, asserting 200, and checks that a GET answers the same object.
async fn patched(app: &TestApp, path: &str, patch: Value) -> Value {
    let reply = app.patch_json(path, &patch).await;
    reply.expect(200);
    assert_eq!(reply.media_type(), "application/json");
    let fetched = app.get(path).await;
    assert_eq!(untimed(&fetched.body), untimed(&reply.body), "{path}: GET answers what PATCH answered");
    reply.body
}

/// PATCHes `path` with `patch`, asserting 422 naming `field`, and that nothing changed.
async fn refused(app: &TestApp, path: &str, patch: Value, field: &str) {
    let before = app.get(path).await.body;
    let reply = app.patch_json(path, &patch).await;
    assert_problem(&reply, 422);
    assert!(fields(&reply.body["errors"]).iter().any(|named| named == field), "{patch}: {:#}", reply.body);
    assert_eq!(app.get(path).await.body, before, "{patch}: a refused patch changes nothing");
}

async fn a_connection_is_patched_and_its_api_key_removed(backend: Backend) {
    let app = spawn_app_on(backend).await;
    let created = app.create("/api/v1/connections", seed_connection()).await;
    let path = format!("/api/v1/connections/{}", created["id"].as_str().unwrap());
    let stored = app.get(&path).await.body;

    let moved = patched(&app, &path, json!({"url": "http://qdrant:6333"})).await;
    assert_eq!(moved["url"], "http://qdrant:6333");
    assert_eq!(moved["name"], "local-qdrant", "fields not in the patch are kept");
    assert_eq!(moved["api_key"], "****3y", "the stored key is kept, still masked");
    assert_eq!(moved["created_at"], stored["created_at"], "a change keeps the registration time");

    let rotated = patched(&app, &path, json!({"api_key": "another-secret-key-9z"})).await;
    assert_eq!(rotated["api_key"], "****9z");

    let keyless = patched(&app, &path, json!({"api_key": null})).await;
    assert_eq!(keyless["api_key"], Value::Null);

    refused(&app, &path, json!({"url": "ftp://qdrant:6333"}), "url").await;
    refused(&app, &path, json!({"name": ""}), "name").await;
    refused(&app, &path, json!({"name": 5}), "name").await;
    refused(&app, &path, json!({"colour": "red"}), "colour").await;
    app.assert_never_shown("my-secret-api-key-3y");
    app.assert_never_shown("another-secret-key-9z");
}

async fn a_storage_is_patched_and_its_optional_fields_removed(backend: Backend) {
    let app = spawn_app_on(backend).await;
    let created = app.create("/api/v1/storage", seed_storage()).await;
    let path = format!("/api/v1/storage/{}", created["id"].as_str().unwrap());

    let moved = patched(&app, &path, json!({"region": "eu-west-1", "name": "minio"})).await;
    assert_eq!(moved["region"], "eu-west-1");
    assert_eq!(moved["name"], "minio");
    assert_eq!(moved["bucket"], "datasets");
    assert_eq!(moved["secret_key"], "****et");

    let aws = patched(&app, &path, json!({"endpoint_url": null, "name": null})).await;
    assert_eq!(aws["endpoint_url"], Value::Null);
    assert_eq!(aws["name"], Value::Null);

    // Keys go in pairs: removing one alone is refused, both at once is fine.
    refused(&app, &path, json!({"access_key": null}), "access_key").await;
    let anonymous = patched(&app, &path, json!({"access_key": null, "secret_key": null})).await;
    assert_eq!((&anonymous["access_key"], &anonymous["secret_key"]), (&Value::Null, &Value::Null));

    refused(&app, &path, json!({"bucket": "Not_A_Bucket"}), "bucket").await;
    refused(&app, &path, json!({"endpoint_url": "not a url"}), "endpoint_url").await;
    app.assert_never_shown("minioadmin-secret");
}

async fn a_dataset_is_patched_down_to_its_nested_vectors(backend: Backend) {
    let app = spawn_app_on(backend).await;
    let storage = app.create("/api/v1/storage", seed_storage()).await;
    let mut body = seed_dataset();
    body["storage_id"] = storage["id"].clone();
    let created = app.create("/api/v1/datasets", body).await;
    let path = format!("/api/v1/datasets/{}", created["id"].as_str().unwrap());

    let renamed = patched(&app, &path, json!({"name": "wiki-mm-v2"})).await;
    assert_eq!(renamed["name"], "wiki-mm-v2");
    assert_eq!(renamed["schema_config"], created["schema_config"], "the schema is kept");

    // A nested merge: one vector's distance changes, the other vector stays.
    let nested =
        patched(&app, &path, json!({"schema_config": {"vectors": {"image_embedding": {"distance": "Dot"}}}})).await;
    let vectors = &nested["schema_config"]["vectors"];
    assert_eq!(vectors["image_embedding"]["distance"], "Dot");
    assert_eq!(vectors["image_embedding"]["dim"], 512);
    assert_eq!(vectors["text_embedding"], created["schema_config"]["vectors"]["text_embedding"]);

    // `null` removes a vector and the optional storage.
    let fewer =
        patched(&app, &path, json!({"schema_config": {"vectors": {"image_embedding": null}}, "storage_id": null}))
            .await;
    assert!(fewer["schema_config"]["vectors"].get("image_embedding").is_none(), "{fewer:#}");
    assert_eq!(fewer["storage_id"], Value::Null);

    refused(&app, &path, json!({"source_uri": "gs://bucket/key"}), "source_uri").await;
    refused(
        &app,
        &path,
        json!({"schema_config": {"vectors": {"text_embedding": {"dim": 0}}}}),
        "schema_config.vectors.text_embedding.dim",
    )
    .await;
    refused(
        &app,
        &path,
        json!({"schema_config": {"vectors": {"text_embedding": {"distance": "hamming"}}}}),
        "schema_config.vectors.text_embedding.distance",
    )
    .await;
    refused(&app, &path, json!({"storage_id": uuid::Uuid::new_v4()}), "storage_id").await;
}

async fn an_experiment_patch_is_validated_against_its_dataset(backend: Backend) {
    let app = spawn_app_on(backend).await;
    let dataset = app.create("/api/v1/datasets", seed_dataset()).await;
    let builtin_id = app.builtin_connection_id().await;
    let created =
        app.create("/api/v1/experiments", seed_experiment(dataset["id"].as_str().unwrap(), &builtin_id)).await;
    let path = format!("/api/v1/experiments/{}", created["id"].as_str().unwrap());

    let run_id = app.start_run(created["id"].as_str().unwrap()).await;
    let renamed = patched(&app, &path, json!({"name": "m16-only", "search_config": {"hnsw_ef": [10, 20, 40]}})).await;
    assert_eq!(renamed["name"], "m16-only");
    // A run keeps the settings it was triggered with: editing the experiment does not reach it.
    let run = app.get(&format!("/api/v1/runs/{run_id}")).await.body;
    let kept = &run["experiment_settings"];
    assert_eq!(kept["name"], created["name"], "{run:#}");
    assert_eq!(kept["search_config"], created["search_config"], "{run:#}");
    assert_eq!(kept["optimizer_config"], created["optimizer_config"], "{run:#}");
    assert_eq!(renamed["search_config"]["hnsw_ef"], json!([10, 20, 40]));
    assert_eq!(renamed["search_config"]["k"], 10, "sibling fields of a nested patch are kept");
    assert_eq!(renamed["optimizer_config"], created["optimizer_config"]);

    let unquantized = patched(&app, &path, json!({"optimizer_config": {"quantization": null}})).await;
    assert_eq!(unquantized["optimizer_config"]["quantization"], Value::Null);
    assert_eq!(unquantized["optimizer_config"]["indexing"], created["optimizer_config"]["indexing"]);

    let reindexed = patched(&app, &path, json!({"optimizer_config": {"indexing": {"image_embedding": null}}})).await;
    assert!(reindexed["optimizer_config"]["indexing"].get("image_embedding").is_none(), "{reindexed:#}");

    // The merged experiment is validated like a new one.
    let reply = app.patch_json(&path, &json!({"search_config": {"hnsw_ef": [5]}})).await;
    assert_problem(&reply, 422);
    assert!(message_for(&reply.body["errors"], "search_config.hnsw_ef[0]").contains("k 10"), "{:#}", reply.body);
    refused(&app, &path, json!({"search_config": {"k": 500}}), "search_config.hnsw_ef[0]").await;
    refused(
        &app,
        &path,
        json!({"vector_config": {"text_embedding": {"dim": 1536}}}),
        "vector_config.text_embedding.dim",
    )
    .await;
    refused(
        &app,
        &path,
        json!({"optimizer_config": {"indexing": {"embedding": {"m": 16}}}}),
        "optimizer_config.indexing.embedding",
    )
    .await;
    refused(&app, &path, json!({"optimizer_config": {"quantization": {"fancy": {}}}}), "optimizer_config.quantization")
        .await;
    refused(&app, &path, json!({"dataset_id": uuid::Uuid::new_v4()}), "dataset_id").await;

    // Moving the experiment to another dataset re-checks its vectors against that one.
    let dense = app.create("/api/v1/datasets", dense_dataset("dense")).await;
    let reply = app.patch_json(&path, &json!({"dataset_id": dense["id"]})).await;
    assert_problem(&reply, 422);
    message_for(&reply.body["errors"], "optimizer_config.indexing.text_embedding");
    let valid = dense_experiment("moved", dense["id"].as_str().unwrap(), &builtin_id);
    let indexing = json!({"text_embedding": null, "dense": valid["optimizer_config"]["indexing"]["dense"]});
    let moved =
        patched(&app, &path, json!({"dataset_id": dense["id"], "optimizer_config": {"indexing": indexing}})).await;
    assert_eq!(moved["dataset_id"], dense["id"]);
    let indexing = moved["optimizer_config"]["indexing"].as_object().unwrap();
    assert_eq!(indexing.keys().collect::<Vec<_>>(), ["dense"]);
    assert_eq!(indexing["dense"]["m"], 16);
}

/// `null` removes an *optional* field; on a required one the merged object is incomplete, which
/// is refused naming that field (not "body").
#[actix_web::test]
async fn nulling_a_required_field_is_refused_naming_it() {
    let app = crate::helpers::spawn_app().await;
    let connection = app.create("/api/v1/connections", seed_connection()).await;
    let storage = app.create("/api/v1/storage", seed_storage()).await;
    let dataset = app.create("/api/v1/datasets", seed_dataset()).await;
    let builtin_id = app.builtin_connection_id().await;
    let experiment =
        app.create("/api/v1/experiments", seed_experiment(dataset["id"].as_str().unwrap(), &builtin_id)).await;
    for (collection, object, field) in [
        ("connections", &connection, "name"),
        ("connections", &connection, "url"),
        ("storage", &storage, "bucket"),
        ("datasets", &dataset, "source_uri"),
        ("datasets", &dataset, "schema_config"),
        ("experiments", &experiment, "dataset_id"),
    ] {
        let path = format!("/api/v1/{collection}/{}", object["id"].as_str().unwrap());
        let mut patch = serde_json::Map::new();
        patch.insert(field.to_owned(), Value::Null);
        refused(&app, &path, Value::Object(patch), field).await;
    }
}

/// A client that sends back the masked key it was shown keeps the stored key; storing the mask
/// itself would silently break the connection.
#[actix_web::test]
async fn sending_back_a_masked_secret_keeps_the_stored_one() {
    let app = crate::helpers::spawn_app().await;
    let connection = app.create("/api/v1/connections", seed_connection()).await;
    let path = format!("/api/v1/connections/{}", connection["id"].as_str().unwrap());
    assert_eq!(connection["api_key"], "****3y");
    let echoed = patched(&app, &path, json!({"api_key": "****3y", "name": "renamed"})).await;
    // Had the mask been stored, it would now show as "****" (too short to reveal a tail).
    assert_eq!(echoed["api_key"], "****3y");

    let storage = app.create("/api/v1/storage", seed_storage()).await;
    let path = format!("/api/v1/storage/{}", storage["id"].as_str().unwrap());
    let echoed = patched(
        &app,
        &path,
        json!({"access_key": storage["access_key"].clone(), "secret_key": storage["secret_key"].clone()}),
    )
    .await;
    assert_eq!(echoed["access_key"], storage["access_key"]);
    assert_eq!(echoed["secret_key"], storage["secret_key"]);
}
