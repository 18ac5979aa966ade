//! `/api/v1/jobs`, a run's pause and worker labels over HTTP.

use serde_json::json;

use crate::helpers::{TestApp, assert_problem, dense_dataset, dense_experiment, fields, seed_connection, spawn_app};

async fn experiment(app: &TestApp) -> String {
    let connection = app.create("/api/v1/connections", seed_connection()).await;
    let dataset = app.create("/api/v1/datasets", dense_dataset("dense")).await;
    let experiment = app
        .create(
            "/api/v1/experiments",
            dense_experiment("e", dataset["id"].as_str().unwrap(), connection["id"].as_str().unwrap()),
        )
        .await;
    experiment["id"].as_str().unwrap().to_owned()
}

#[actix_web::test]
async fn a_run_refuses_to_pause_with_409_and_the_reason_and_stays_queued() {
    let app = spawn_app().await;
    let run_id = app.start_run(&experiment(&app).await).await;
    let reply = app.post_empty(&format!("/api/v1/runs/{run_id}/pause")).await;
    assert_problem(&reply, 409);
    assert!(reply.body["detail"].as_str().unwrap().contains("a benchmark cannot pause"), "{reply:#?}");
    let job = app.get(&format!("/api/v1/jobs/{run_id}")).await;
    job.expect(200);
    assert_eq!((job.body["kind"].as_str(), job.body["status"].as_str()), (Some("benchmark"), Some("CREATED")));
    assert_problem(&app.post_empty(&format!("/api/v1/jobs/{run_id}/pause")).await, 409);
}

#[actix_web::test]
async fn a_run_requiring_a_label_names_the_parameter_when_the_label_is_malformed() {
    let app = spawn_app().await;
    let experiment_id = experiment(&app).await;
    let reply = app.post_empty(&format!("/api/v1/experiments/{experiment_id}/runs?requires=High%20Mem")).await;
    assert_problem(&reply, 422);
    assert_eq!(fields(&reply.body["errors"]), ["requires"], "{reply:#?}");
    let reply = app.post_empty(&format!("/api/v1/experiments/{experiment_id}/runs?requires=highmem")).await;
    reply.expect(202);
    let job = app.get(&format!("/api/v1/jobs/{}", reply.body["run_id"].as_str().unwrap())).await;
    assert_eq!(job.body["requires"], "highmem", "{job:#?}");
}

#[actix_web::test]
async fn a_noop_job_is_bounded_paused_while_waiting_resumed_and_cancelled() {
    let app = spawn_app().await;
    let reply = app.post_json("/api/v1/jobs/noop", &json!({"steps": 1_000_001, "step_ms": 60_001})).await;
    assert_problem(&reply, 422);
    assert_eq!(fields(&reply.body["errors"]), ["steps", "step_ms"], "{reply:#?}");
    assert_problem(&app.post_json("/api/v1/jobs/noop", &json!({"steps": 1, "extra": true})).await, 422);

    let reply = app.post_json("/api/v1/jobs/noop", &json!({"steps": 3, "step_ms": 1})).await;
    reply.expect(202);
    let id = reply.id();
    assert_eq!(reply.header("location"), format!("/api/v1/jobs/{id}"));
    let paused = app.post_empty(&format!("/api/v1/jobs/{id}/pause")).await;
    paused.expect(200);
    assert_eq!(paused.body["status"], "PAUSED");
    assert_problem(&app.post_empty(&format!("/api/v1/jobs/{id}/pause")).await, 409);
    let resumed = app.post_empty(&format!("/api/v1/jobs/{id}/resume")).await;
    assert_eq!(resumed.body["status"], "CREATED", "{resumed:#?}");
    let metrics = app.get("/metrics").await;
    assert!(metrics.text.contains("qbench_jobs{kind=\"noop\",status=\"CREATED\"} 1"), "{}", metrics.text);
    assert!(metrics.text.contains("qbench_jobs{kind=\"noop\",status=\"PAUSED\"} 0"), "{}", metrics.text);
    assert!(metrics.text.contains("qbench_job_queue_age_seconds"), "{}", metrics.text);
    let cancelled = app.post_empty(&format!("/api/v1/jobs/{id}/cancel")).await;
    assert_eq!(cancelled.body["status"], "CANCELED", "{cancelled:#?}");
    assert_problem(&app.post_empty(&format!("/api/v1/jobs/{id}/resume")).await, 409);
    let listed = app.get("/api/v1/jobs?kind=noop&status=CANCELED").await;
    listed.expect(200);
    assert_eq!(listed.body.as_array().unwrap().len(), 1, "{listed:#?}");
}
