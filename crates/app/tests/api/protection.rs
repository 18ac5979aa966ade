//! Protection of the service: a request that outlives `server.request_timeout_seconds` is answered
//! 504 problem+json, CORS is off unless origins are configured, and a dataset URL on the server's
//! own network is refused by the egress policy (422) without a connection being attempted.

use std::io::ErrorKind;
use std::net::TcpListener;
use std::time::{Duration, Instant};

use actix_web::test::TestRequest;
use serde_json::json;

use crate::helpers::{Backend, assert_problem, message_for, spawn_app, spawn_app_with};

#[actix_web::test]
async fn a_request_that_outlives_the_deadline_is_answered_504() {
    let app = spawn_app_with(
        Backend::Sqlite,
        &[("QBENCH_SERVER__REQUEST_TIMEOUT_SECONDS", "1"), ("QBENCH_EGRESS__ALLOW_CIDRS", "127.0.0.1/32")],
    )
    .await;
    // A server that accepts connections and never answers: inspecting a dataset on it hangs.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let dataset = app
        .create(
            "/api/v1/datasets",
            json!({"name": "silent", "source_uri": format!("http://127.0.0.1:{port}/points.parquet"),
                   "schema_config": {"vectors": {"v": {"dim": 4, "distance": "Cosine"}}}}),
        )
        .await;
    let started = Instant::now();
    let reply = app.post_empty(&format!("/api/v1/datasets/{}/inspect", dataset["id"].as_str().unwrap())).await;
    assert_eq!(reply.status.as_u16(), 504, "{reply:#?}");
    assert_eq!(reply.media_type(), "application/problem+json");
    assert_eq!(reply.body["detail"], "the request took longer than 1 s");
    assert!(started.elapsed() < Duration::from_secs(10), "answered at the deadline, not the client's own timeout");
    drop(silent);
    // The service is still there.
    app.get("/api/v1/datasets").await.expect(200);
}

#[actix_web::test]
async fn cors_is_off_by_default_and_allows_only_the_configured_origins() {
    let preflight = |origin: &str| {
        TestRequest::default()
            .method(actix_web::http::Method::OPTIONS)
            .uri("/api/v1/connections")
            .insert_header(("Origin", origin.to_owned()))
            .insert_header(("Access-Control-Request-Method", "GET"))
    };
    let closed = spawn_app_with(Backend::Sqlite, &[]).await;
    let reply = closed.send(preflight("https://ui.example.com")).await;
    assert!(reply.headers.get("access-control-allow-origin").is_none(), "{reply:#?}");

    let open = spawn_app_with(
        Backend::Sqlite,
        &[("QBENCH_SERVER__CORS_ALLOWED_ORIGINS", "https://ui.example.com, https://admin.example.com")],
    )
    .await;
    let reply = open.send(preflight("https://ui.example.com")).await;
    assert_eq!(reply.header("access-control-allow-origin"), "https://ui.example.com", "{reply:#?}");
    let reply = open.send(preflight("https://evil.example.com")).await;
    assert!(reply.headers.get("access-control-allow-origin").is_none(), "{reply:#?}");
}

#[actix_web::test]
async fn ssrf_a_dataset_url_on_a_local_address_is_refused_422_before_any_connection() {
    let app = spawn_app().await;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    for host in ["127.0.0.1", "localhost", "[::ffff:127.0.0.1]", "2130706433", "169.254.169.254"] {
        let uri = format!("http://{host}:{port}/points.parquet");
        let reply = app
            .post_json(
                "/api/v1/datasets?inspect=true",
                &json!({"name": format!("ssrf-{host}"), "source_uri": uri,
                        "schema_config": {"vectors": {"v": {"dim": 4, "distance": "Cosine"}}}}),
            )
            .await;
        assert_problem(&reply, 422);
        let message = message_for(&reply.body["errors"], "source_uri");
        assert!(message.contains("is not allowed by the egress policy"), "{host}: {message}");
    }
    listener.set_nonblocking(true).unwrap();
    assert!(
        matches!(listener.accept(), Err(error) if error.kind() == ErrorKind::WouldBlock),
        "no request reached the local listener"
    );
}
