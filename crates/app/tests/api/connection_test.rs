//! `POST /api/v1/connections/{id}/test` and `?test=true` at registration: each step of the test
//! (reachable, TLS, authentication, Qdrant) named, the first failure said.

use serde_json::json;

use crate::helpers::{assert_problem, fields, spawn_app};

#[actix_web::test]
async fn the_embedded_engine_tests_as_itself_and_an_unreachable_server_says_so() {
    let app = spawn_app().await;
    let embedded = app.builtin_connection_id().await;
    let tested = app.post_json(&format!("/api/v1/connections/{embedded}/test"), &json!({})).await;
    tested.expect(200);
    let body = &tested.body;
    assert_eq!((&body["ok"], &body["engine"]), (&json!(true), &json!("qdrant-edge")), "{body:#}");
    assert!(body["version"].as_str().unwrap().starts_with("0.7"), "{body:#}");
    assert!(body["latency_ms"].as_f64().unwrap() >= 0.0);
    let steps: Vec<(&str, &str)> = body["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["step"].as_str().unwrap(), s["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        steps,
        [("reachable", "passed"), ("tls", "skipped"), ("authentication", "passed"), ("qdrant", "passed")]
    );

    let nowhere = app
        .create("/api/v1/connections", json!({"name": "nowhere", "url": "http://127.0.0.1:1", "api_key": "key-1234"}))
        .await;
    let tested =
        app.post_json(&format!("/api/v1/connections/{}/test", nowhere["id"].as_str().unwrap()), &json!({})).await;
    tested.expect(200);
    assert_eq!(tested.body["ok"], false);
    assert!(tested.body["failure"].as_str().unwrap().starts_with("reachable: "), "{:#}", tested.body);
    assert_eq!(tested.body["steps"][0]["status"], "failed");
    assert_eq!(tested.body["steps"][3]["status"], "skipped");
    assert!(!tested.text.contains("key-1234"), "the API key never shows");

    let unknown = uuid::Uuid::now_v7();
    assert_problem(&app.post_json(&format!("/api/v1/connections/{unknown}/test"), &json!({})).await, 404);
}

#[actix_web::test]
async fn registering_with_test_true_refuses_a_connection_whose_test_fails_naming_the_field() {
    let app = spawn_app().await;
    let before = app.get("/api/v1/connections").await.body.as_array().unwrap().len();
    let refused =
        app.post_json("/api/v1/connections?test=true", &json!({"name": "down", "url": "http://127.0.0.1:1"})).await;
    assert_problem(&refused, 422);
    assert_eq!(fields(&refused.body["errors"]), ["url"], "{:#}", refused.body);
    assert!(refused.body["errors"][0]["message"].as_str().unwrap().contains("`reachable`"), "{:#}", refused.body);
    assert_eq!(app.get("/api/v1/connections").await.body.as_array().unwrap().len(), before, "nothing registered");
    // Without the test it is registered as before.
    app.create("/api/v1/connections", json!({"name": "down", "url": "http://127.0.0.1:1"})).await;
}

#[actix_web::test]
async fn health_says_live_ready_and_mode_or_why_the_engine_cannot_be_asked() {
    let app = spawn_app().await;
    let embedded = app.builtin_connection_id().await;
    let health = app.get(&format!("/api/v1/connections/{embedded}/health")).await;
    health.expect(200);
    assert_eq!(
        (&health.body["live"], &health.body["ready"], &health.body["mode"], &health.body["peers"]),
        (&json!(true), &json!(true), &json!("single"), &json!([])),
        "{:#}",
        health.body
    );
    let nowhere = app.create("/api/v1/connections", json!({"name": "nowhere", "url": "http://127.0.0.1:1"})).await;
    let health = app.get(&format!("/api/v1/connections/{}/health", nowhere["id"].as_str().unwrap())).await;
    health.expect(200);
    assert_eq!((&health.body["live"], &health.body["ready"]), (&json!(false), &json!(false)));
    assert!(health.body["error"].as_str().unwrap().contains("unreachable"), "{:#}", health.body);
    assert!(health.body.get("mode").is_none());
}

#[actix_web::test]
async fn stats_list_the_engines_collections_without_loading_a_runs_collection() {
    let app = spawn_app().await;
    let embedded = app.builtin_connection_id().await;
    let empty = app.get(&format!("/api/v1/connections/{embedded}/stats")).await;
    empty.expect(200);
    assert_eq!((&empty.body["engine"], &empty.body["collections"]), (&json!("qdrant-edge"), &json!([])));
    // A single node without peers; the embedded engine reports no memory of its own.
    assert_eq!(empty.body["peers"], json!([]), "{:#}", empty.body);
    assert!(empty.body.get("memory").is_none(), "{:#}", empty.body);

    let kept = crate::artifacts::completed_run_keeping(&app, true).await;
    let dropped = crate::artifacts::completed_run(&app).await;
    let stats = app.get(&format!("/api/v1/connections/{embedded}/stats")).await.body;
    let collections = stats["collections"].as_array().unwrap();
    assert_eq!(collections.len(), 1, "the kept collection only: {stats:#}");
    let collection = &collections[0];
    assert_eq!((&collection["name"], &collection["qbench"]), (&json!(format!("qbench-{kept}")), &json!(true)));
    assert!(!stats.to_string().contains(&dropped));
    // Written by its run's process, it is measured on disk, not loaded here.
    assert!(collection["disk_bytes"].as_u64().unwrap() > 0, "{collection:#}");
    assert!(collection.get("points").is_none(), "{collection:#}");
    assert!(collection.get("shards").is_none(), "the embedded engine has no shard layout: {collection:#}");

    let nowhere = app.create("/api/v1/connections", json!({"name": "nowhere", "url": "http://127.0.0.1:1"})).await;
    let reply = app.get(&format!("/api/v1/connections/{}/stats", nowhere["id"].as_str().unwrap())).await;
    reply.expect(200);
    assert!(reply.body["error"].as_str().unwrap().contains("unreachable"), "{:#}", reply.body);
    assert!(reply.body.get("peers").is_none() && reply.body.get("memory").is_none(), "{:#}", reply.body);
}
