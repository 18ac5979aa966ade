//! The seed scenario as a user walks it: register a Qdrant, a storage, datasets in every vector
//! notation and an experiment; run it and cancel the run. Then the seed's deliberate mistake: an
//! experiment whose vectors do not match its dataset.

use serde_json::{Value, json};

use crate::helpers::{
    Backend, assert_problem, dense_dataset, fields, message_for, on_both_backends, seed_connection, seed_dataset,
    seed_experiment, seed_storage, spawn_app, spawn_app_on, untimed,
};

on_both_backends!(the_seed_flow_registers_runs_and_cancels, a_write_answers_the_timestamps_a_read_answers);

async fn the_seed_flow_registers_runs_and_cancels(backend: Backend) {
    let app = spawn_app_on(backend).await;

    // A connection: the API key is masked from the first answer on.
    let connection = app.create("/api/v1/connections", seed_connection()).await;
    assert_eq!(connection["name"], "local-qdrant");
    assert_eq!(connection["url"], "http://localhost:6333");
    assert_eq!(connection["api_key"], "****3y");
    assert_eq!(connection["builtin"], false);
    let connection_id = connection["id"].as_str().unwrap();
    let fetched = app.get(&format!("/api/v1/connections/{connection_id}")).await;
    fetched.expect(200);
    assert_eq!(untimed(&fetched.body), untimed(&connection), "GET answers what POST answered");

    // A storage: both keys masked.
    let storage = app.create("/api/v1/storage", seed_storage()).await;
    assert_eq!(storage["bucket"], "datasets");
    assert_eq!(storage["region"], "us-east-1");
    assert_eq!(storage["endpoint_url"], "http://localhost:9000");
    assert_eq!(storage["access_key"], "****in");
    assert_eq!(storage["secret_key"], "****et");
    let storage_id = storage["id"].as_str().unwrap();
    app.get(&format!("/api/v1/storage/{storage_id}")).await.expect(200);

    // Datasets in the three vector notations; distances come back canonical.
    let dataset = app.create("/api/v1/datasets", seed_dataset()).await;
    assert_eq!(dataset["name"], "wiki-mm");
    assert_eq!(dataset["source_uri"], "s3://datasets/wiki-mm.parquet");
    assert_eq!(dataset["schema_config"]["scalar_fields"], json!(["title"]));
    let vectors = &dataset["schema_config"]["vectors"];
    assert_eq!(vectors["text_embedding"]["dim"], 768);
    assert_eq!(vectors["text_embedding"]["distance"], "Cosine");
    assert_eq!(vectors["image_embedding"]["dim"], 512);
    assert_eq!(vectors["image_embedding"]["distance"], "Euclid");
    let dataset_id = dataset["id"].as_str().unwrap();

    let shorthand = app.create("/api/v1/datasets", dense_dataset("dense")).await;
    assert_eq!(shorthand["schema_config"]["vectors"]["dense"]["dim"], 1536);
    assert_eq!(shorthand["schema_config"]["vectors"]["dense"]["distance"], "Cosine");

    let unnamed = app
        .create(
            "/api/v1/datasets",
            json!({"name": "single", "source_uri": "data/single.parquet", "schema_config": {"vector": {"dim": 4, "distance": "Dot"}}}),
        )
        .await;
    assert_eq!(unnamed["schema_config"]["vector"]["dim"], 4);
    assert_eq!(unnamed["schema_config"]["vector"]["distance"], "Dot");
    assert!(unnamed["schema_config"].get("vectors").is_none_or(Value::is_null), "{unnamed:#}");

    // The built-in connection is listed and usable.
    let listed = app.get("/api/v1/connections").await;
    listed.expect(200);
    let builtin: Vec<&Value> = listed.body.as_array().unwrap().iter().filter(|c| c["builtin"] == true).collect();
    assert_eq!(builtin.len(), 1, "{listed:#?}");
    assert_eq!(builtin[0]["name"], "embedded");
    let builtin_id = builtin[0]["id"].as_str().unwrap();

    // The experiment, on the built-in connection.
    let experiment = app.create("/api/v1/experiments", seed_experiment(dataset_id, builtin_id)).await;
    assert_eq!(experiment["name"], "hnsw-m16-vs-m32");
    assert_eq!(experiment["dataset_id"], dataset_id);
    assert_eq!(experiment["connection_id"], builtin_id);
    let indexing = &experiment["optimizer_config"]["indexing"];
    assert_eq!(
        (&indexing["text_embedding"]["m"], &indexing["text_embedding"]["ef_construct"]),
        (&json!(16), &json!(100))
    );
    assert_eq!(
        (&indexing["image_embedding"]["m"], &indexing["image_embedding"]["ef_construct"]),
        (&json!(32), &json!(200))
    );
    assert_eq!(experiment["optimizer_config"]["quantization"]["scalar"]["type"], "int8", "{experiment:#}");
    assert_eq!(experiment["search_config"]["k"], 10);
    assert_eq!(experiment["search_config"]["hnsw_ef"], json!([64, 128]));
    let experiment_id = experiment["id"].as_str().unwrap();
    app.get(&format!("/api/v1/experiments/{experiment_id}")).await.expect(200);

    // A run: accepted, then readable at its Location with every documented key.
    let run_id = app.start_run(experiment_id).await;
    let run = app.get(&format!("/api/v1/runs/{run_id}")).await;
    run.expect(200);
    assert_eq!(run.body["status"], "CREATED");
    assert_eq!(run.body["id"], run_id.as_str());
    assert_eq!(run.body["experiment_id"], experiment_id);
    for key in ["id", "experiment_id", "status", "created_at", "start_time", "end_time", "progress", "metrics", "error"]
    {
        assert!(run.body.get(key).is_some(), "run without `{key}`: {:#}", run.body);
    }
    for key in ["start_time", "end_time", "metrics", "error"] {
        assert_eq!(run.body[key], Value::Null, "a new run has no `{key}`");
    }

    // Cancel once, then the run has ended and cannot be cancelled again.
    let cancel = app.post_empty(&format!("/api/v1/runs/{run_id}/cancel")).await;
    cancel.expect(200);
    assert_eq!(cancel.body["status"], "CANCELED");
    assert_eq!(cancel.body["id"], run_id.as_str());
    let run = app.get(&format!("/api/v1/runs/{run_id}")).await;
    assert_eq!(run.body["status"], "CANCELED");
    assert!(run.body["end_time"].is_string(), "a cancelled run has ended: {:#}", run.body);
    let again = app.post_empty(&format!("/api/v1/runs/{run_id}/cancel")).await;
    assert_problem(&again, 409);
    // A run that did not complete has no result.
    let result = app.get(&format!("/api/v1/runs/{run_id}/result")).await;
    assert_problem(&result, 409);
    assert!(result.body["detail"].as_str().unwrap().contains("CANCELED"), "{:#}", result.body);

    // Lists, single reads and creations never carried a secret in clear.
    app.get("/api/v1/storage").await.expect(200);
    for secret in ["my-secret-api-key-3y", "minioadmin-secret", "minioadmin"] {
        app.assert_never_shown(secret);
    }
}

/// The seed's mismatch: the experiment asks for a 768-dimensional `embedding`, the dataset has
/// only a 1536-dimensional `dense`.
fn mismatched_experiment(dataset_id: &str, connection_id: &str) -> Value {
    json!({
        "name": "mismatch",
        "dataset_id": dataset_id,
        "connection_id": connection_id,
        "vector_config": {"embedding": {"dim": 768}},
        "optimizer_config": {"indexing": {"embedding": {"m": 16, "ef_construct": 100}}},
        "search_config": {"k": 10, "hnsw_ef": [64]}
    })
}

#[actix_web::test]
async fn an_experiment_whose_vectors_are_not_in_the_dataset_is_refused_naming_each_field() {
    let app = spawn_app().await;
    let dataset = app.create("/api/v1/datasets", dense_dataset("dense")).await;
    let dataset_id = dataset["id"].as_str().unwrap();
    let connection_id = app.builtin_connection_id().await;
    let body = mismatched_experiment(dataset_id, &connection_id);

    let refused = app.post_json("/api/v1/experiments", &body).await;
    assert_problem(&refused, 422);
    let errors = &refused.body["errors"];
    for field in ["vector_config.embedding", "optimizer_config.indexing.embedding"] {
        let message = message_for(errors, field);
        assert!(message.contains("dense"), "`{field}`: the message names the dataset's vector: {message}");
    }
    let listed = app.get("/api/v1/experiments").await;
    assert_eq!(listed.body, json!([]), "nothing was registered");

    // The dry run says the same with 200.
    let dry_run = app.post_json("/api/v1/experiments/validate", &body).await;
    dry_run.expect(200);
    assert_eq!(dry_run.body["valid"], false);
    assert!(dry_run.body["warnings"].is_array(), "{:#}", dry_run.body);
    let mut dry_fields = fields(&dry_run.body["errors"]);
    let mut create_fields = fields(errors);
    dry_fields.sort();
    create_fields.sort();
    assert_eq!(dry_fields, create_fields, "the dry run finds what creation finds");

    // A valid experiment validates, and is still not registered by the dry run.
    let valid = crate::helpers::dense_experiment("fine", dataset_id, &connection_id);
    let dry_run = app.post_json("/api/v1/experiments/validate", &valid).await;
    dry_run.expect(200);
    assert_eq!(dry_run.body["valid"], true, "{:#}", dry_run.body);
    assert_eq!(dry_run.body["errors"], json!([]));
    assert_eq!(app.get("/api/v1/experiments").await.body, json!([]));
}

#[actix_web::test]
async fn an_experiment_on_an_unknown_dataset_or_connection_names_the_reference() {
    let app = spawn_app().await;
    let connection_id = app.builtin_connection_id().await;
    let unknown = uuid::Uuid::new_v4().to_string();

    let refused = app.post_json("/api/v1/experiments", &seed_experiment(&unknown, &connection_id)).await;
    assert_problem(&refused, 422);
    assert!(message_for(&refused.body["errors"], "dataset_id").contains(&unknown));

    let dry_run = app.post_json("/api/v1/experiments/validate", &seed_experiment(&unknown, &connection_id)).await;
    dry_run.expect(200);
    assert_eq!(dry_run.body["valid"], false);
    assert_eq!(fields(&dry_run.body["errors"]), ["dataset_id"]);

    let dataset = app.create("/api/v1/datasets", seed_dataset()).await;
    let refused =
        app.post_json("/api/v1/experiments", &seed_experiment(dataset["id"].as_str().unwrap(), &unknown)).await;
    assert_problem(&refused, 422);
    assert!(message_for(&refused.body["errors"], "connection_id").contains(&unknown));
}

#[actix_web::test]
async fn a_dry_run_of_an_unconvertible_experiment_answers_200_with_the_errors() {
    let app = spawn_app().await;
    let connection_id = app.builtin_connection_id().await;
    let dataset = app.create("/api/v1/datasets", dense_dataset("dense")).await;
    let mut body = crate::helpers::dense_experiment("bad", dataset["id"].as_str().unwrap(), &connection_id);
    body["vector_config"] = json!({"dense": {"dim": 0}});
    let dry_run = app.post_json("/api/v1/experiments/validate", &body).await;
    dry_run.expect(200);
    assert_eq!(dry_run.body["valid"], false);
    assert_eq!(fields(&dry_run.body["errors"]), ["vector_config.dense.dim"]);
}

/// What a POST or PATCH answers is what every later GET answers, timestamps included: a client
/// that keeps `updated_at` from a write (for a cache or a conditional update) must be able to
/// compare it with a read.
async fn a_write_answers_the_timestamps_a_read_answers(backend: Backend) {
    let app = spawn_app_on(backend).await;
    let connection = app.create("/api/v1/connections", seed_connection()).await;
    let storage = app.create("/api/v1/storage", seed_storage()).await;
    let dataset = app.create("/api/v1/datasets", seed_dataset()).await;
    let builtin_id = app.builtin_connection_id().await;
    let experiment =
        app.create("/api/v1/experiments", seed_experiment(dataset["id"].as_str().unwrap(), &builtin_id)).await;

    let mut differences = Vec::new();
    let mut compare = |write: &str, collection: &str, answered: &Value, read: &Value| {
        for key in ["created_at", "updated_at"] {
            if answered[key] != read[key] {
                differences
                    .push(format!("{write} {collection}: {key} {} but GET answers {}", answered[key], read[key]));
            }
        }
    };
    for (collection, created) in
        [("connections", connection), ("storage", storage), ("datasets", dataset), ("experiments", experiment)]
    {
        let path = format!("/api/v1/{collection}/{}", created["id"].as_str().unwrap());
        compare("POST", collection, &created, &app.get(&path).await.body);
        let patched = app.patch_json(&path, &json!({"name": format!("{collection}-renamed")})).await;
        patched.expect(200);
        compare("PATCH", collection, &patched.body, &app.get(&path).await.body);
    }
    assert!(differences.is_empty(), "writes answer other timestamps than reads:\n{}", differences.join("\n"));
}

/// Warnings (legal settings that are probably a mistake) are answered on creation and by the dry
/// run, and do not refuse the experiment.
#[actix_web::test]
async fn warnings_are_answered_without_refusing_the_experiment() {
    let app = spawn_app().await;
    let dataset = app.create("/api/v1/datasets", dense_dataset("dense")).await;
    let connection_id = app.builtin_connection_id().await;
    let mut body = crate::helpers::dense_experiment("warned", dataset["id"].as_str().unwrap(), &connection_id);
    body["search_config"]["hnsw_ef"] = json!([64, 64]);

    let dry_run = app.post_json("/api/v1/experiments/validate", &body).await;
    dry_run.expect(200);
    assert_eq!(dry_run.body["valid"], true);
    assert_eq!(fields(&dry_run.body["warnings"]), ["search_config.hnsw_ef[1]"]);

    let created = app.create("/api/v1/experiments", body).await;
    assert_eq!(fields(&created["warnings"]), ["search_config.hnsw_ef[1]"]);
    let read = app.get(&format!("/api/v1/experiments/{}", created["id"].as_str().unwrap())).await;
    assert_eq!(read.body["search_config"]["hnsw_ef"], json!([64, 64]));
}
