//! A run's artifacts behind signed URLs: `GET /runs/{id}/result` answers them, and
//! `/api/v1/artifacts/…` serves them to whoever holds an unexpired, unaltered URL.

use actix_web::test::TestRequest;
use qbench_app::artifact_urls::ArtifactUrls;
use qbench_domain::synthetic::SyntheticSpec;
use qbench_domain::{Dimension, Distance, SchemaConfig, VectorSpec};
use qbench_service::synthetic::synthetic_dataset;
use qbench_storage::Artifact;
use serde_json::json;

use crate::auth::jwt_app;
use crate::helpers::{self, TestApp, assert_problem, spawn_app, spawn_app_with};

/// A completed run of a small experiment; its id.
pub(crate) async fn completed_run(app: &TestApp) -> String {
    completed_run_keeping(app, false).await
}

/// A completed run of a small experiment, its collection kept when `keep`; its id.
pub(crate) async fn completed_run_keeping(app: &TestApp, keep: bool) -> String {
    let vectors = SchemaConfig::from_vectors([("v", VectorSpec::new(Dimension::new(8).unwrap(), Distance::Cosine))])
        .unwrap()
        .vectors;
    let spec = SyntheticSpec { rows: 300, queries: 10, vectors, clusters: 3, seed: 5 };
    helpers::write_dataset(app.data_dir(), "small", &synthetic_dataset(&spec, 10)).await;
    let dataset = app
        .create(
            "/api/v1/datasets",
            json!({"name": "small", "source_uri": "small/", "schema_config": {"vectors": {"v": {"dim": 8, "distance": "Cosine"}}}}),
        )
        .await;
    let connection = app.builtin_connection_id().await;
    let experiment = app
        .create(
            "/api/v1/experiments",
            json!({"name": "e", "dataset_id": dataset["id"], "connection_id": connection,
                   "optimizer_config": {"indexing": {"v": {"m": 8, "ef_construct": 32}}},
                   "search_config": {"k": 10, "hnsw_ef": [16]}, "keep_collection": keep}),
        )
        .await;
    let run_id = app.start_run(experiment["id"].as_str().unwrap()).await;
    app.worker().await.run_next().await.unwrap().expect("the queued run");
    run_id
}

/// The path and query of an absolute URL.
fn path_of(url: &str) -> String {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    after_scheme[after_scheme.find('/').unwrap()..].to_owned()
}

#[actix_web::test]
async fn a_completed_runs_files_are_served_behind_signed_urls_and_altered_ones_are_refused() {
    let app = spawn_app().await;
    let run_id = completed_run(&app).await;
    let result = app.get(&format!("/api/v1/runs/{run_id}/result")).await;
    result.expect(200);
    let links = &result.body["artifacts"];
    let result_url = links["result_url"].as_str().unwrap();
    assert!(result_url.starts_with("http") && result_url.contains(&format!("/api/v1/artifacts/{run_id}/result.json?")));
    assert!(links["expires_at"].is_string(), "{links}");

    let served = app.send(TestRequest::get().uri(&path_of(result_url))).await;
    served.expect(200);
    assert_eq!(served.body["recall"], result.body["result"]["recall"], "the stored report: {:#}", served.body);
    let parquet = app.send(TestRequest::get().uri(&path_of(links["results_url"].as_str().unwrap()))).await;
    parquet.expect(200);
    assert!(parquet.text.starts_with("PAR1"), "a Parquet file");
    // The run's own log: its phases, then how it ended.
    let log = app.send(TestRequest::get().uri(&path_of(links["log_url"].as_str().unwrap()))).await;
    log.expect(200);
    let events: Vec<serde_json::Value> = log.text.lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    assert_eq!(events.first().unwrap()["phase"], "prepare", "{}", log.text);
    assert_eq!(events.last().unwrap()["event"], "completed", "{}", log.text);
    // Its report: one page, a chart point for its one setting, allowed to load nothing.
    let page = app.send(TestRequest::get().uri(&path_of(links["report_url"].as_str().unwrap()))).await;
    page.expect(200);
    assert_eq!(page.header("content-type"), "text/html; charset=utf-8");
    assert!(page.header("content-security-policy").starts_with("default-src 'none'"));
    assert!(page.text.contains(r#"data-chart="recall-qps" data-points="1""#), "{}", page.text);

    // Another run's id, another file, another expiry or signature: refused, saying nothing more.
    let path = path_of(result_url);
    let other = uuid::Uuid::now_v7().to_string();
    let expires: i64 = path.split("expires=").nth(1).unwrap().split('&').next().unwrap().parse().unwrap();
    for altered in [
        path.replace(&run_id, &other),
        path.replace("result.json", "queries.parquet"),
        path.replace(&format!("expires={expires}"), &format!("expires={}", expires + 3600)),
        format!("{}{}", &path[..path.len() - 1], if path.ends_with('0') { '1' } else { '0' }),
    ] {
        let reply = app.send(TestRequest::get().uri(&altered)).await;
        assert_problem(&reply, 403);
    }
    let unknown = app.send(TestRequest::get().uri(&path.replace("result.json", "secret.key"))).await;
    assert_problem(&unknown, 404);
}

#[actix_web::test]
async fn an_expired_url_is_refused() {
    let app = spawn_app_with(helpers::Backend::Sqlite, &[("QBENCH_SERVER__ARTIFACT_URL_SECONDS", "0")]).await;
    let run_id = completed_run(&app).await;
    let result = app.get(&format!("/api/v1/runs/{run_id}/result")).await;
    let reply =
        app.send(TestRequest::get().uri(&path_of(result.body["artifacts"]["result_url"].as_str().unwrap()))).await;
    assert_problem(&reply, 403);
    assert!(reply.body["detail"].as_str().unwrap().contains("expired"), "{:#}", reply.body);
}

#[actix_web::test]
async fn a_signed_url_needs_no_other_credential_where_every_other_request_does() {
    let secret_key = format!("{}A=", "C".repeat(42));
    let app = jwt_app(&[("QBENCH_SECRET_KEY", &secret_key)]).await;
    let run_id = uuid::Uuid::now_v7().to_string();
    let folder = app.data_dir().join("results").join(&run_id);
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("result.json"), br#"{"recall": 0.5}"#).unwrap();
    let key: [u8; 32] = base64_key(&secret_key);
    let urls = ArtifactUrls::new(&key, std::time::Duration::from_secs(60));
    let path = urls.path(&run_id, Artifact::ResultJson, chrono::Utc::now().timestamp() + 60);

    let served = app.send(TestRequest::get().uri(&path)).await;
    served.expect(200);
    assert_eq!(served.body, json!({"recall": 0.5}));
    // The same server asks every other request for a token.
    assert_eq!(app.get(&format!("/api/v1/runs/{run_id}")).await.status.as_u16(), 401);

    // A file larger than a piece is streamed whole, its length announced.
    let parquet: String = (0..3_000_000_u32).map(|i| char::from(b'0' + (i % 10) as u8)).collect();
    std::fs::write(folder.join("queries.parquet"), &parquet).unwrap();
    let path = urls.path(&run_id, Artifact::QueriesParquet, chrono::Utc::now().timestamp() + 60);
    let served = app.send(TestRequest::get().uri(&path)).await;
    served.expect(200);
    assert_eq!(served.header("content-length"), "3000000");
    assert!(served.text == parquet, "the bytes served are the file's");
}

fn base64_key(encoded: &str) -> [u8; 32] {
    let bytes = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, encoded).unwrap();
    bytes.try_into().unwrap()
}
