//! `DELETE /api/v1/runs/{id}` and `POST /api/v1/runs/bulk-delete`: an ended run goes with its
//! results; a queued one must be cancelled first, and one whose collection a snapshot holds stays
//! until the snapshot goes.

use serde_json::json;

use crate::artifacts::completed_run;
use crate::helpers::{assert_problem, spawn_app};
use crate::snapshots::ready_snapshot;

#[actix_web::test]
async fn a_completed_run_is_deleted_with_its_results_folder() {
    let app = spawn_app().await;
    let run_id = completed_run(&app).await;
    let folder = app.data_dir().join("results").join(&run_id);
    assert!(folder.join("result.json").exists(), "the run stored its results");

    app.delete(&format!("/api/v1/runs/{run_id}")).await.expect(204);
    assert_problem(&app.get(&format!("/api/v1/runs/{run_id}")).await, 404);
    assert!(!folder.exists(), "the results folder is gone");
    assert!(app.data_dir().join("results").exists(), "only the run's own folder goes");
    assert_problem(&app.delete(&format!("/api/v1/runs/{run_id}")).await, 404);
}

#[actix_web::test]
async fn a_queued_run_must_be_cancelled_before_it_is_deleted() {
    let app = spawn_app().await;
    let run_id = completed_run(&app).await;
    let experiment =
        app.get(&format!("/api/v1/runs/{run_id}")).await.body["experiment_id"].as_str().unwrap().to_owned();
    let queued = app.start_run(&experiment).await;

    let refused = app.delete(&format!("/api/v1/runs/{queued}")).await;
    assert_problem(&refused, 409);
    assert_eq!(refused.body["detail"], "run is CREATED: cancel it first", "{:#}", refused.body);
    app.get(&format!("/api/v1/runs/{queued}")).await.expect(200);

    app.post_empty(&format!("/api/v1/runs/{queued}/cancel")).await.expect(200);
    app.delete(&format!("/api/v1/runs/{queued}")).await.expect(204);
    assert_problem(&app.get(&format!("/api/v1/runs/{queued}")).await, 404);
}

#[actix_web::test]
async fn a_bulk_delete_of_runs_answers_each_id_in_the_order_given() {
    let app = spawn_app().await;
    let run_id = completed_run(&app).await;
    let unknown = uuid::Uuid::now_v7().to_string();
    let reply = app.post_json("/api/v1/runs/bulk-delete", &json!({"ids": [unknown, run_id]})).await;
    reply.expect(200);
    assert_eq!((&reply.body["deleted"], &reply.body["failed"]), (&json!(1), &json!(1)), "{:#}", reply.body);
    let results = reply.body["results"].as_array().unwrap();
    assert_eq!((&results[0]["id"], &results[0]["status"]), (&json!(unknown), &json!(404)));
    assert!(results[0]["detail"].as_str().unwrap().contains("not found"), "{:#}", reply.body);
    assert_eq!((&results[1]["id"], &results[1]["status"]), (&json!(run_id), &json!(204)));
    assert!(results[1].get("detail").is_none());
    assert_problem(&app.get(&format!("/api/v1/runs/{run_id}")).await, 404);
    assert!(!app.data_dir().join("results").join(&run_id).exists());

    assert_problem(&app.post_json("/api/v1/runs/bulk-delete", &json!({"ids": []})).await, 422);
}

#[actix_web::test]
async fn a_run_whose_collection_was_snapshotted_stays_until_the_snapshot_goes() {
    let app = spawn_app().await;
    let (snapshot, _) = ready_snapshot(&app).await;
    let run_id = snapshot["built_by_run_id"].as_str().unwrap();
    let snapshot_id = snapshot["id"].as_str().unwrap();

    let refused = app.delete(&format!("/api/v1/runs/{run_id}")).await;
    assert_problem(&refused, 409);
    assert!(refused.body["detail"].as_str().unwrap().contains(snapshot_id), "{:#}", refused.body);
    app.get(&format!("/api/v1/runs/{run_id}")).await.expect(200);
    assert!(app.data_dir().join("results").join(run_id).exists(), "a refused delete keeps the results");

    app.delete(&format!("/api/v1/snapshots/{snapshot_id}")).await.expect(204);
    app.delete(&format!("/api/v1/runs/{run_id}")).await.expect(204);
}
