//! `/api/v1/studies`: validation with every violation and the size of the space, and a grid study
//! run to its recommendation on the embedded engine.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::test::TestRequest;
use qbench_domain::synthetic::SyntheticSpec;
use qbench_domain::{Dimension, Distance, SchemaConfig, VectorSpec};
use qbench_service::synthetic::synthetic_dataset;
use qbench_storage::GeneratedDataset;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, fields, spawn_app, write_dataset};

/// A registered dataset of one 8-dimensional Cosine vector `text`, 400 points and 20 queries.
async fn dataset(app: &TestApp) -> Value {
    let vectors = SchemaConfig::from_vectors([("text", VectorSpec::new(Dimension::new(8).unwrap(), Distance::Cosine))])
        .unwrap()
        .vectors;
    let spec = SyntheticSpec { rows: 400, queries: 20, vectors, clusters: 6, seed: 3 };
    let generated = GeneratedDataset { neighbors: BTreeMap::new(), ..synthetic_dataset(&spec, 1) };
    write_dataset(app.data_dir(), "tune", &generated).await;
    app.create(
        "/api/v1/datasets",
        json!({"name": "tune", "source_uri": "tune/", "schema_config": {"vectors": {"text": {"dim": 8}}}}),
    )
    .await
}

fn study(dataset_id: &Value, connection_id: &str, m: Value, hnsw_ef: Value) -> Value {
    json!({
        "name": "tune-text", "dataset_id": dataset_id, "connection_id": connection_id, "k": 10,
        "space": {"vectors": {"text": {"m": m, "ef_construct": [32]}}, "search": {"hnsw_ef": hnsw_ef}},
        "objective": {"target": 0.9},
        "repetitions": 2
    })
}

#[actix_web::test]
async fn a_study_is_validated_with_every_violation_and_the_size_of_its_space() {
    let app = spawn_app().await;
    let dataset = dataset(&app).await;
    let embedded = app.builtin_connection_id().await;

    let valid = app
        .post_json("/api/v1/studies/validate", &study(&dataset["id"], &embedded, json!([8, 16]), json!([16, 32, 64])))
        .await;
    valid.expect(200);
    assert_eq!((&valid.body["builds"], &valid.body["measurements"]), (&json!(2), &json!(6)), "{:#}", valid.body);

    // An unknown vector, an empty hnsw_ef list and a bad target, all at once.
    let mut wrong = study(&dataset["id"], &embedded, json!([8]), json!([]));
    wrong["space"]["vectors"]["image"] = json!({"m": [16], "ef_construct": [64]});
    wrong["objective"]["target"] = json!(1.5);
    let reply = app.post_json("/api/v1/studies/validate", &wrong).await;
    assert_problem(&reply, 422);
    let named = fields(&reply.body["errors"]);
    for field in ["space.vectors.image", "space.search.hnsw_ef", "objective.target", "vectors"] {
        assert!(named.iter().any(|f| f == field), "{field} not named: {:#}", reply.body);
    }

    // 16 m × 8 ef_construct × 20 hnsw_ef = 2,560 measurements, over the default 2,048.
    let m: Vec<u32> = (4..20).collect();
    let mut oversized = study(&dataset["id"], &embedded, json!(m), json!((16..36).collect::<Vec<u32>>()));
    oversized["space"]["vectors"]["text"]["ef_construct"] = json!([32, 40, 48, 56, 64, 72, 80, 88]);
    let reply = app.post_json("/api/v1/studies", &oversized).await;
    assert_problem(&reply, 422);
    assert!(fields(&reply.body["errors"]).iter().any(|f| f == "space"), "{:#}", reply.body);
    let listed = app.get("/api/v1/studies").await;
    assert_eq!(listed.body, json!([]), "a refused study is not stored");

    // An objective Qdrant users would not recognise is named by its field.
    let mut unknown = study(&dataset["id"], &embedded, json!([8]), json!([16]));
    unknown["objective"]["optimise"] = json!("fastest");
    let reply = app.post_json("/api/v1/studies/validate", &unknown).await;
    assert_problem(&reply, 422);
    assert_eq!(fields(&reply.body["errors"]), ["objective.optimise"], "{:#}", reply.body);
}

/// Runs workers until the study at `path` ends; answers it.
async fn finished(app: &TestApp, path: &str) -> Value {
    let worker = app.worker().await;
    let shutdown = tokio_util::sync::CancellationToken::new();
    let running = actix_web::rt::spawn(worker.run(Arc::new(tokio::sync::Notify::new()), shutdown.clone()));
    let deadline = Instant::now() + Duration::from_secs(120);
    let study = loop {
        let study = app.get(path).await.body;
        if ["COMPLETED", "FAILED", "CANCELED"].contains(&study["status"].as_str().unwrap()) {
            break study;
        }
        assert!(Instant::now() < deadline, "the study never ended: {study:#}");
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    };
    shutdown.cancel();
    running.await.unwrap();
    study
}

#[actix_web::test]
async fn a_grid_study_runs_its_trials_as_runs_and_recommends_a_configuration_as_qdrant_json() {
    let app = spawn_app().await;
    let dataset = dataset(&app).await;
    let embedded = app.builtin_connection_id().await;
    let created =
        app.create("/api/v1/studies", study(&dataset["id"], &embedded, json!([8, 16]), json!([16, 64]))).await;
    let path = format!("/api/v1/studies/{}", created["id"].as_str().unwrap());
    assert_eq!(created["status"], "CREATED");

    let study = finished(&app, &path).await;
    assert_eq!(study["status"], "COMPLETED", "{study:#}");
    // Trials done of planned, at the study's rate: nothing left.
    let progress = &study["progress"];
    assert_eq!((&progress["done"], &progress["total"], &progress["eta_seconds"]), (&json!(2), &json!(2), &json!(0.0)));
    assert!(progress["rate"].as_f64().unwrap() > 0.0, "{progress}");

    let report = &study["report"];
    let trials = report["trials"].as_array().unwrap();
    assert_eq!(trials.len(), 2, "{report:#}");
    for trial in trials {
        assert_eq!(trial["status"], "COMPLETED", "{trial}");
        // Each trial is an ordinary run that kept the build it measured.
        let run = app.get(&format!("/api/v1/runs/{}", trial["run_id"].as_str().unwrap())).await.body;
        let m = &run["experiment_settings"]["optimizer_config"]["indexing"]["text"]["m"];
        assert!(trial["build"].as_str().unwrap().starts_with(&format!("m={m}")), "{trial} {run:#}");
        assert_eq!(run["metrics"]["results"].as_array().unwrap().len(), 2, "both hnsw_ef on the build");
        // A trial's points carry the RAM measured on its built collection.
        let measured = &run["metrics"]["memory"]["total"]["ram_bytes"];
        assert!(measured.as_u64().unwrap() > 0, "{run:#}");
        let points: Vec<&Value> =
            report["points"].as_array().unwrap().iter().filter(|point| point["run_id"] == trial["run_id"]).collect();
        assert!(!points.is_empty() && points.iter().all(|point| &point["memory_bytes"] == measured), "{report:#}");
    }
    // The trials are listed under the study.
    let listed = app.get(&format!("/api/v1/runs?study_id={}", created["id"].as_str().unwrap())).await.body;
    let mut listed: Vec<&str> = listed.as_array().unwrap().iter().map(|run| run["id"].as_str().unwrap()).collect();
    let mut expected: Vec<&str> = trials.iter().map(|trial| trial["run_id"].as_str().unwrap()).collect();
    listed.sort_unstable();
    expected.sort_unstable();
    assert_eq!(listed, expected);
    // The two trials compared: aligned by setting, both sides measured.
    let ids: Vec<&str> = trials.iter().map(|trial| trial["run_id"].as_str().unwrap()).collect();
    let compared = app.get(&format!("/api/v1/runs/compare?ids={},{}", ids[0], ids[1])).await;
    compared.expect(200);
    let settings = compared.body["candidates"][0]["settings"].as_array().unwrap();
    assert_eq!(settings.len(), 2, "{:#}", compared.body);
    assert!(
        settings
            .iter()
            .all(|row| row["baseline"].is_object() && row["candidate"].is_object() && row["qps_ratio"].is_number())
    );
    assert_problem(&app.get(&format!("/api/v1/runs/compare?ids={}", ids[0])).await, 422);
    let reply = app.get(&format!("/api/v1/runs/compare?ids={},nope", ids[0])).await;
    assert_problem(&reply, 422);
    assert!(fields(&reply.body["errors"]).iter().any(|f| f == "ids[1]"), "{:#}", reply.body);
    assert_eq!(report["points"].as_array().unwrap().len(), 4);
    assert_eq!((&report["grid_builds"], &report["builds_made"]), (&json!(2), &json!(2)));
    let recommendation = &report["recommendation"];
    let point = &report["points"][recommendation["point"].as_u64().unwrap() as usize];
    if recommendation["meets_target"] == true {
        assert!(point["recall"].as_f64().unwrap() >= 0.9, "{point}");
    }
    let collection = &recommendation["collection"];
    let vector = &collection["vectors"]["text"];
    assert_eq!((&vector["size"], &vector["distance"]), (&json!(8), &json!("Cosine")), "{collection}");
    assert!(point["build"].as_str().unwrap().starts_with(&format!("m={}", vector["hnsw_config"]["m"])), "{point}");
    assert_eq!(recommendation["search_params"]["hnsw_ef"], point["hnsw_ef"]);

    // Its report page: the recommendation's Qdrant JSON to copy, a chart point per measured point.
    let job = app.post_json("/api/v1/reports", &json!({"study_id": created["id"]})).await;
    job.expect(202);
    assert!(app.worker().await.run_next().await.unwrap().is_some(), "the report job");
    let rendered = app.get(job.header("location")).await.body;
    assert_eq!(rendered["status"], "COMPLETED", "{rendered:#}");
    let url = rendered["url"].as_str().unwrap();
    let page = app.send(TestRequest::get().uri(&url[url.find("/api/").unwrap()..])).await;
    page.expect(200);
    assert!(page.text.contains("<pre class=\"qdrant-collection\">"), "{}", page.text);
    assert!(page.text.contains(r#"data-chart="recall-qps" data-points="4""#), "{}", page.text);
}

#[actix_web::test]
async fn a_study_keeping_its_builds_as_snapshots_lets_the_next_one_build_nothing() {
    let app = spawn_app().await;
    let dataset = dataset(&app).await;
    let embedded = app.builtin_connection_id().await;
    let mut first = study(&dataset["id"], &embedded, json!([8, 16]), json!([16, 64]));
    first["keep_snapshots"] = json!({"path": "kept"});
    let created = app.create("/api/v1/studies", first).await;
    let kept = finished(&app, &format!("/api/v1/studies/{}", created["id"].as_str().unwrap())).await;
    assert_eq!(kept["status"], "COMPLETED", "{kept:#}");
    let trials = kept["report"]["trials"].as_array().unwrap();
    assert_eq!(trials.len(), 2);
    for trial in trials {
        assert_eq!(trial["restored"], false, "{trial}");
        let snapshot = app.get(&format!("/api/v1/snapshots/{}", trial["snapshot_id"].as_str().unwrap())).await.body;
        assert_eq!(snapshot["status"], "READY", "{snapshot:#}");
        assert_eq!(snapshot["built_by_run_id"], trial["run_id"]);
        assert!(app.data_dir().join("kept").join(snapshot["object"].as_str().unwrap()).is_file());
        // Archived, the kept collection itself is gone.
        let collection = format!("qbench-{}", trial["run_id"].as_str().unwrap());
        assert!(!app.data_dir().join("engine").join(collection).exists());
    }

    // The same builds, a wider search sweep: every build is restored, none uploaded or indexed.
    let second = study(&dataset["id"], &embedded, json!([8, 16]), json!([16, 64, 128]));
    let created = app.create("/api/v1/studies", second).await;
    let again = finished(&app, &format!("/api/v1/studies/{}", created["id"].as_str().unwrap())).await;
    assert_eq!(again["status"], "COMPLETED", "{again:#}");
    let snapshots: Vec<&Value> = trials.iter().map(|trial| &trial["snapshot_id"]).collect();
    for trial in again["report"]["trials"].as_array().unwrap() {
        assert_eq!(trial["restored"], true, "{trial}");
        assert!(snapshots.contains(&&trial["snapshot_id"]), "{trial}");
        let run = app.get(&format!("/api/v1/runs/{}", trial["run_id"].as_str().unwrap())).await.body;
        let metrics = &run["metrics"];
        assert_eq!(metrics["index_source"]["snapshot_id"], trial["snapshot_id"], "{run:#}");
        assert_eq!((metrics["upload_seconds"].as_f64(), metrics["index_seconds"].as_f64()), (Some(0.0), Some(0.0)));
        assert_eq!(metrics["results"].as_array().unwrap().len(), 3, "the wider sweep on the restored build");
    }
    assert_eq!(again["report"]["points"].as_array().unwrap().len(), 6);
    let notes = again["report"]["notes"].to_string();
    assert!(notes.contains("2 of 2 builds were restored"), "{notes}");

    // A repository outside the data roots is named before anything is queued.
    let mut outside = study(&dataset["id"], &embedded, json!([8]), json!([16]));
    outside["keep_snapshots"] = json!({"path": "/etc"});
    let reply = app.post_json("/api/v1/studies", &outside).await;
    assert_problem(&reply, 422);
    assert_eq!(fields(&reply.body["errors"]), ["keep_snapshots.path"], "{:#}", reply.body);
}
