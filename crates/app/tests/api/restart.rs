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

/// Regression (issue 11, then issue 12): with another `QBENCH_SECRET_KEY`, `GET /connections` and
/// `GET /storage` answered 500 for the whole list, then 503; now a server with another key does
/// not start at all, naming the variable to fix (and no secret). The first server's key still
/// opens everything.
#[actix_web::test]
async fn another_secret_key_made_the_lists_answer_500_and_now_stops_start_up_naming_qbench_secret_key() {
    let app = crate::helpers::spawn_app().await;
    app.create(
        "/api/v1/connections",
        json!({"name": "remote", "url": "http://qdrant.test:6333", "api_key": "key-of-the-first-server"}),
    )
    .await;
    app.create(
        "/api/v1/storage",
        json!({"bucket": "datasets", "access_key": "first-access", "secret_key": "first-secret-key"}),
    )
    .await;
    let error = app
        .open_beside(&[("QBENCH_SECRET_KEY", &crate::helpers::random_secret_key())])
        .await
        .expect_err("a server with another key starts");
    let message = error.to_string();
    assert!(message.contains("QBENCH_SECRET_KEY") && !message.contains('\n'), "{message}");
    assert!(!message.contains("first-secret-key") && !message.contains("key-of-the-first-server"), "{message}");

    let app = app.restart().await;
    for path in ["/api/v1/connections", "/api/v1/storage"] {
        app.get(path).await.expect(200);
    }
}
