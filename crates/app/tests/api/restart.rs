//! A restart on the same data dir (and database) keeps every object, with secrets still
//! decryptable and still masked.

use serde_json::json;

use crate::helpers::{
    Backend, on_both_backends, seed_connection, seed_dataset, seed_experiment, seed_storage, spawn_app_on,
};

on_both_backends!(a_restart_keeps_every_object);

async fn a_restart_keeps_every_object(backend: Backend) {
    let app = spawn_app_on(backend).await;
    let connection = app.create("/api/v1/connections", seed_connection()).await;
    let storage = app.create("/api/v1/storage", seed_storage()).await;
    let dataset = app.create("/api/v1/datasets", seed_dataset()).await;
    let builtin_id = app.builtin_connection_id().await;
    let experiment =
        app.create("/api/v1/experiments", seed_experiment(dataset["id"].as_str().unwrap(), &builtin_id)).await;
    let run_id = app.start_run(experiment["id"].as_str().unwrap()).await;
    let run = app.get(&format!("/api/v1/runs/{run_id}")).await.body;
    // What the first app reads back is what the second must read.
    let mut before = Vec::new();
    for (collection, object) in
        [("connections", &connection), ("storage", &storage), ("datasets", &dataset), ("experiments", &experiment)]
    {
        let path = format!("/api/v1/{collection}/{}", object["id"].as_str().unwrap());
        let reply = app.get(&path).await;
        reply.expect(200);
        before.push((path, reply.body));
    }
    if backend == Backend::Sqlite {
        assert!(app.data_dir().join("qbench.db").is_file(), "SQLite lives under the data dir");
    }

    let app = app.restart().await;

    for (path, expected) in before {
        let reply = app.get(&path).await;
        reply.expect(200);
        assert_eq!(reply.body, expected, "{path} survives the restart unchanged");
    }
    let reread = app.get(&format!("/api/v1/connections/{}", connection["id"].as_str().unwrap())).await;
    assert_eq!(reread.body["api_key"], "****3y", "the key was decrypted with the same secret key, and masked");
    let reread = app.get(&format!("/api/v1/storage/{}", storage["id"].as_str().unwrap())).await;
    assert_eq!((&reread.body["access_key"], &reread.body["secret_key"]), (&json!("****in"), &json!("****et")));
    assert_eq!(app.get(&format!("/api/v1/runs/{run_id}")).await.body, run);

    // The built-in connection is not created twice.
    assert_eq!(app.builtin_connection_id().await, builtin_id);
    assert_eq!(app.get("/api/v1/connections").await.header("x-total-count"), "2");

    // And the restarted app works on the old objects.
    app.post_empty(&format!("/api/v1/runs/{run_id}/cancel")).await.expect(200);
    app.start_run(experiment["id"].as_str().unwrap()).await;
    app.assert_never_shown("my-secret-api-key-3y");
}
