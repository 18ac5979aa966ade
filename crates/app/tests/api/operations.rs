//! What operators call: probes, metrics, version and capabilities; and the request id every
//! answer carries.

use actix_web::test::TestRequest;
use serde_json::json;

use crate::helpers::{Backend, assert_problem, on_both_backends, spawn_app, spawn_app_on, spawn_app_with};

on_both_backends!(probes_report_the_database_as_ok, capabilities_list_distances_and_the_backend_in_use);

async fn probes_report_the_database_as_ok(backend: Backend) {
    let app = spawn_app_on(backend).await;
    for path in ["/health", "/api/v1/health"] {
        let reply = app.get(path).await;
        reply.expect(200);
        assert_eq!(reply.media_type(), "application/json", "{path}");
        assert_eq!(reply.body["status"], "ok", "{path}: {:#}", reply.body);
        assert!(reply.body.get("components").is_none(), "liveness probes no dependency: {:#}", reply.body);
    }
    for path in ["/ready", "/api/v1/health/ready"] {
        let reply = app.get(path).await;
        reply.expect(200);
        assert_eq!(reply.body["status"], "ok", "{path}: {:#}", reply.body);
        let database = &reply.body["components"]["database"];
        assert_eq!(database["status"], "ok", "{path}: {:#}", reply.body);
        assert_eq!(database["backend"], backend.name(), "{path}");
        assert!(database["latency_ms"].is_number(), "{path}");
        assert!(reply.body["components"].get("object_storage").is_none(), "no endpoint is configured");
    }
}

async fn capabilities_list_distances_and_the_backend_in_use(backend: Backend) {
    let app = spawn_app_on(backend).await;
    let reply = app.get("/api/v1/metadata/capabilities").await;
    reply.expect(200);
    let body = &reply.body;
    assert_eq!(body["distances"], json!(["Cosine", "Euclid", "Dot", "Manhattan"]));
    assert_eq!(body["database_backend"], backend.name());
    assert_eq!(body["index_types"], json!(["hnsw", "plain"]));
    assert_eq!(body["quantization"], json!(["scalar", "product", "binary"]));
    assert_eq!(body["scalar_types"], json!(["int8"]));
    assert_eq!(body["product_compressions"], json!(["x4", "x8", "x16", "x32", "x64"]));
    assert_eq!(body["storage_backends"], json!(["local"]));
    assert_eq!(body["limits"]["max_page_size"], 1000);
    assert_eq!((&body["limits"]["min_dim"], &body["limits"]["max_dim"]), (&json!(1), &json!(65536)));
}

/// An address on which nothing listens: connecting is refused at once.
fn closed_endpoint() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

/// Regression (issue 11): `/health` answered 503 while a dependency was down, so used as a
/// liveness probe it would restart healthy pods during an outage. It now says only that the
/// process lives; `/ready` details the dependencies, 200 `degraded` while the database answers.
#[actix_web::test]
async fn health_answered_503_while_a_dependency_was_down_and_now_only_ready_reports_it() {
    let endpoint = closed_endpoint();
    let app = spawn_app_with(Backend::Sqlite, &[("MINIO_ENDPOINT", endpoint.as_str())]).await;
    for path in ["/health", "/api/v1/health"] {
        let reply = app.get(path).await;
        reply.expect(200);
        assert_eq!(reply.body["status"], "ok", "{path}: {reply:#?}");
    }
    for path in ["/ready", "/api/v1/health/ready"] {
        let reply = app.get(path).await;
        reply.expect(200);
        assert_eq!(reply.media_type(), "application/json", "{path}: the documented health body: {reply:#?}");
        assert_eq!(reply.body["status"], "degraded", "{path}: {reply:#?}");
        assert_eq!(reply.body["components"]["database"]["status"], "ok", "{path}: {reply:#?}");
        let storage = &reply.body["components"]["object_storage"];
        assert_eq!(storage["status"], "unavailable", "{path}: {reply:#?}");
        assert_eq!(storage["backend"], endpoint.as_str(), "{path}");
        assert!(storage["error"].is_string(), "{path}: the cause is said");
    }
    let capabilities = app.get("/api/v1/metadata/capabilities").await;
    assert_eq!(capabilities.body["storage_backends"], json!(["local", "s3"]));
}

#[actix_web::test]
async fn metrics_are_prometheus_text_counting_requests() {
    let app = spawn_app().await;
    app.get("/api/v1/connections").await.expect(200);
    app.get("/api/v1/nope").await.expect(404);
    let reply = app.get("/metrics").await;
    reply.expect(200);
    assert_eq!(reply.media_type(), "text/plain");
    assert!(reply.text.contains("http_requests_total"), "{}", reply.text);
    assert!(reply.text.contains("http_request_duration_seconds"), "{}", reply.text);
    assert!(reply.text.contains(r#"route="/api/v1/connections""#), "requests are labelled by route pattern");
    assert!(reply.text.contains("qbench_runs"), "runs by status are exported");
}

#[actix_web::test]
async fn the_version_names_the_build() {
    let app = spawn_app().await;
    let reply = app.get("/api/v1/metadata/version").await;
    reply.expect(200);
    assert_eq!(reply.body["version"], env!("CARGO_PKG_VERSION"));
    let git_sha = reply.body["git_sha"].as_str().unwrap();
    assert!(!git_sha.is_empty());
    let build_time = reply.body["build_time"].as_str().unwrap();
    assert!(chrono::DateTime::parse_from_rfc3339(build_time).is_ok(), "build_time is RFC 3339: {build_time}");
}

#[actix_web::test]
async fn a_request_id_is_echoed_or_generated() {
    let app = spawn_app().await;
    // Echoed on success and on error.
    for path in ["/health", "/api/v1/connections", "/api/v1/nope"] {
        let reply = app.send(TestRequest::get().uri(path).insert_header(("X-Request-Id", "test-request-42"))).await;
        assert_eq!(reply.header("x-request-id"), "test-request-42", "{path}");
    }
    let created = app
        .send(
            TestRequest::post()
                .uri("/api/v1/connections")
                .insert_header(("X-Request-Id", "create-1"))
                .insert_header(("Content-Type", "application/json"))
                .set_payload(r#"{"name": "a", "url": "http://q:6333"}"#),
        )
        .await;
    created.expect(201);
    assert_eq!(created.header("x-request-id"), "create-1");

    // Generated when absent: a fresh UUID each time.
    let first = app.get("/health").await;
    let second = app.get("/api/v1/nope").await;
    assert_problem(&second, 404);
    let first = first.header("x-request-id").to_owned();
    let second = second.header("x-request-id").to_owned();
    assert!(uuid::Uuid::parse_str(&first).is_ok(), "{first}");
    assert!(uuid::Uuid::parse_str(&second).is_ok(), "{second}");
    assert_ne!(first, second);

    // A request id that is not a sane token is replaced, not echoed.
    let long = "x".repeat(200);
    let reply = app.send(TestRequest::get().uri("/health").insert_header(("X-Request-Id", long.as_str()))).await;
    assert!(uuid::Uuid::parse_str(reply.header("x-request-id")).is_ok(), "{reply:#?}");
}

#[actix_web::test]
async fn the_system_resource_names_build_uptime_database_results_store_and_engines() {
    let app = spawn_app().await;
    let reply = app.get("/api/v1/metadata/system").await;
    reply.expect(200);
    let system = &reply.body;
    assert_eq!(system["build"]["version"], system["version"]);
    assert!(["debug", "release"].contains(&system["build"]["profile"].as_str().unwrap()), "{system:#}");
    assert!(system["uptime_seconds"].as_f64().unwrap() >= 0.0);
    assert_eq!((&system["database_backend"], &system["results_store"]), (&json!("sqlite"), &json!("local")));
    let engines: Vec<&str> =
        system["engines"].as_array().unwrap().iter().map(|e| e["name"].as_str().unwrap()).collect();
    assert_eq!(engines, ["qdrant-edge", "qdrant"]);
    assert_eq!(system["engines"][0]["connections"], "embedded://");
}
