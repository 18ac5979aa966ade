//! `/api/v1/reports`: a report job reads stored results, renders one page and hands it out behind
//! a signed URL; what it may report is checked field by field.

use actix_web::test::TestRequest;
use serde_json::{Value, json};

use crate::artifacts::completed_run;
use crate::helpers::{TestApp, assert_problem, fields, spawn_app};

/// The path and query of an absolute URL.
fn path_of(url: &str) -> &str {
    &url[url.find("/api/").unwrap()..]
}

/// Runs the next queued job and answers the report at `location`.
async fn rendered(app: &TestApp, location: &str) -> Value {
    assert!(app.worker().await.run_next().await.unwrap().is_some(), "a queued report job");
    app.get(location).await.body
}

#[actix_web::test]
async fn a_report_of_two_runs_is_rendered_by_a_job_and_served_behind_a_signed_url() {
    let app = spawn_app().await;
    let first = completed_run(&app).await;
    let second = completed_run(&app).await;
    let job = app.post_json("/api/v1/reports", &json!({"run_ids": [first, second], "title": "Two runs"})).await;
    job.expect(202);
    assert_eq!(job.body["status"], "CREATED");
    assert_eq!((&job.body["task"]["id"], &job.body["task"]["kind"]), (&job.body["id"], &json!("report")));
    assert!(job.body.get("url").is_none(), "no page before it is rendered");
    let location = job.header("location").to_owned();
    assert!(location.ends_with(job.body["id"].as_str().unwrap()));

    let report = rendered(&app, &location).await;
    assert_eq!(report["status"], "COMPLETED", "{report:#}");
    assert_eq!(report["run_ids"], json!([first, second]));
    let page = app.send(TestRequest::get().uri(path_of(report["url"].as_str().unwrap()))).await;
    page.expect(200);
    assert_eq!(page.media_type(), "text/html");
    assert!(page.text.contains("<title>Two runs</title>"));
    // Both runs' one setting each, and their settings side by side.
    assert!(page.text.contains(r#"data-chart="recall-qps" data-points="2""#), "{}", page.text);
    assert!(
        page.text.contains(&format!("data-run=\"{first}\"")) && page.text.contains(&format!("data-run=\"{second}\""))
    );
    assert!(page.text.contains("settings-compared"));
    // A listed job, of kind report.
    let listed = app.get(&format!("/api/v1/jobs/{}", job.body["id"].as_str().unwrap())).await.body;
    assert_eq!(listed["kind"], "report");
}

#[actix_web::test]
async fn a_report_names_each_run_or_study_it_cannot_report() {
    let app = spawn_app().await;
    let completed = completed_run(&app).await;
    let unknown = uuid::Uuid::now_v7().to_string();

    let reply = app.post_json("/api/v1/reports", &json!({"run_ids": [completed, unknown]})).await;
    assert_problem(&reply, 422);
    assert_eq!(fields(&reply.body["errors"]), ["run_ids[1]"], "{:#}", reply.body);

    let reply = app.post_json("/api/v1/reports", &json!({"run_ids": [completed, completed]})).await;
    assert_problem(&reply, 422);
    assert_eq!(fields(&reply.body["errors"]), ["run_ids[1]"]);

    let reply = app.post_json("/api/v1/reports", &json!({"run_ids": [completed], "study_id": unknown})).await;
    assert_eq!(fields(&reply.body["errors"]), ["study_id"]);

    let reply = app.post_json("/api/v1/reports", &json!({})).await;
    assert_eq!(fields(&reply.body["errors"]), ["run_ids"]);

    let reply = app.post_json("/api/v1/reports", &json!({"study_id": unknown})).await;
    assert_problem(&reply, 422);
    assert!(reply.body["errors"][0]["message"].as_str().unwrap().contains("does not exist"), "{:#}", reply.body);

    let reply = app.post_json("/api/v1/reports", &json!({"run_ids": [completed], "colour": "red"})).await;
    assert_problem(&reply, 422);

    // A run that has not completed has nothing to report.
    let experiment = app.get(&format!("/api/v1/runs/{completed}")).await.body["experiment_id"].clone();
    let queued = app.start_run(experiment.as_str().unwrap()).await;
    let reply = app.post_json("/api/v1/reports", &json!({"run_ids": [queued]})).await;
    assert_problem(&reply, 422);
    assert!(reply.body["errors"][0]["message"].as_str().unwrap().contains("CREATED"), "{:#}", reply.body);

    assert_problem(&app.get(&format!("/api/v1/reports/{unknown}")).await, 404);
    // A study's id is not a report's.
    assert_problem(&app.get(&format!("/api/v1/reports/{completed}")).await, 404);
}

#[actix_web::test]
async fn a_report_whose_results_are_gone_fails_saying_which() {
    let app = spawn_app().await;
    let run = completed_run(&app).await;
    let job = app.post_json("/api/v1/reports", &json!({"run_ids": [run]})).await;
    job.expect(202);
    // The stored results disappear before a worker reads them.
    std::fs::remove_file(app.data_dir().join("results").join(&run).join("result.json")).unwrap();
    let report = rendered(&app, job.header("location")).await;
    assert_eq!(report["status"], "FAILED", "{report:#}");
    let error = report["error"].as_str().unwrap();
    assert!(error.contains(&format!("run {run}'s result")) && error.contains("not found"), "{error}");
    assert!(report.get("url").is_none());
}
