//! The benchmark engine through the API: the seed's multi-vector experiment, on a generated dataset
//! in the data dir, runs on the embedded Qdrant engine to COMPLETED with honest metrics.

use std::collections::BTreeMap;

use qbench_domain::synthetic::SyntheticSpec;
use qbench_domain::{Dimension, Distance, SchemaConfig, VectorSpec};
use qbench_service::synthetic::synthetic_dataset;
use qbench_storage::GeneratedDataset;
use serde_json::json;

use crate::helpers::{spawn_app, write_dataset};

/// The seed's two vectors, generated, without a neighbors file (so qbench computes the ground
/// truth).
fn seed_dataset() -> GeneratedDataset {
    let vectors = SchemaConfig::from_vectors([
        ("text_embedding", VectorSpec::new(Dimension::new(768).unwrap(), Distance::Cosine)),
        ("image_embedding", VectorSpec::new(Dimension::new(512).unwrap(), Distance::Euclid)),
    ])
    .unwrap()
    .vectors;
    let spec = SyntheticSpec { rows: 1_500, queries: 30, vectors, clusters: 12, seed: 5 };
    GeneratedDataset { neighbors: BTreeMap::new(), ..synthetic_dataset(&spec, 1) }
}

#[actix_web::test]
async fn the_seed_multi_vector_experiment_runs_to_completed_on_the_embedded_engine() {
    let app = spawn_app().await;
    write_dataset(app.data_dir(), "wiki-mm", &seed_dataset()).await;
    let created = app
        .post_json(
            "/api/v1/datasets?inspect=true",
            &json!({"name": "wiki-mm", "source_uri": "wiki-mm/", "schema_config": {"vectors": {
                "text_embedding": {"dim": 768, "distance": "Cosine"},
                "image_embedding": {"dim": 512, "distance": "Euclid"}}}}),
        )
        .await;
    created.expect(201);
    let dataset = created.body;
    assert_eq!(dataset["inspection"]["layout"], "directory", "{dataset:#}");
    assert_eq!(dataset["inspection"]["train_rows"], 1_500);
    let embedded = app.builtin_connection_id().await;
    let experiment = app
        .create(
            "/api/v1/experiments",
            json!({
                "name": "seed", "dataset_id": dataset["id"], "connection_id": embedded,
                "optimizer_config": {
                    "indexing": {"text_embedding": {"type": "hnsw", "m": 16, "ef_construct": 100},
                                 "image_embedding": {"type": "hnsw", "m": 32, "ef_construct": 200}},
                    "quantization": {"scalar": "int8"}},
                "search_config": {"k": 10, "hnsw_ef": [64, 128], "quantization": {"rescore": true, "oversampling": 2.0}},
                "upload_config": {"batch_size": 100, "parallel": 3}
            }),
        )
        .await;
    let run_id = app.start_run(experiment["id"].as_str().unwrap()).await;

    let ended = app.worker().await.run_next().await.unwrap().expect("the queued run");
    assert_eq!(ended.id().to_string(), run_id);

    let run = app.get(&format!("/api/v1/runs/{run_id}")).await;
    assert_eq!(run.body["status"], "COMPLETED", "{:#}", run.body);
    let metrics = &run.body["metrics"];
    for key in [
        "f1",
        "precision",
        "recall",
        "p_50_latency",
        "p_95_latency",
        "p_99_latency",
        "qps",
        "upload_seconds",
        "index_seconds",
    ] {
        assert!(metrics[key].is_number(), "metrics.{key}: {metrics:#}");
    }
    let results = metrics["results"].as_array().unwrap();
    assert_eq!(results.len(), 4, "2 vectors × 2 hnsw_ef");
    for result in results {
        assert!(
            result["recall"].as_f64().unwrap() >= 0.9,
            "HNSW with sensible settings finds the neighbours: {result:#}"
        );
    }
    assert_eq!(metrics["provenance"]["engine"], "qdrant-edge");
    assert_eq!(metrics["dataset"]["ground_truth"], "computed");
    // Measured on the engine: each vector's original, graph and int8 parts, larger for the
    // larger vector and graph.
    let memory = &metrics["memory"];
    let ram = |vector: &str, part: &str| memory["vectors"][vector][part]["ram_bytes"].as_u64().unwrap();
    assert!(ram("text_embedding", "vectors") >= 1_500 * 768 * 4, "{memory:#}");
    assert!(ram("text_embedding", "quantized") >= 1_500 * 768, "{memory:#}");
    assert!(ram("image_embedding", "index") > 0, "{memory:#}");
    assert!(ram("text_embedding", "vectors") > ram("image_embedding", "vectors"), "{memory:#}");
    assert!(memory["total"]["ram_bytes"].as_u64().unwrap() >= ram("text_embedding", "vectors"), "{memory:#}");
    let upload = &metrics["upload"];
    assert_eq!(
        (&upload["batch_size"], &upload["parallel"], &upload["points"]),
        (&json!(100), &json!(3), &json!(1_500))
    );

    let result = app.get(&format!("/api/v1/runs/{run_id}/result")).await;
    result.expect(200);
    let files = &result.body["result"]["result_files"];
    assert!(
        std::path::Path::new(files["result_json"].as_str().unwrap().trim_start_matches("file://")).exists(),
        "{files:#}"
    );

    // A second run of the same experiment reuses the ground truth the first one computed, and
    // scores the same index settings alike.
    let second_id = app.start_run(experiment["id"].as_str().unwrap()).await;
    app.worker().await.run_next().await.unwrap().expect("the second run");
    let second = app.get(&format!("/api/v1/runs/{second_id}")).await;
    assert_eq!(second.body["status"], "COMPLETED", "{:#}", second.body);
    let again = &second.body["metrics"];
    assert_eq!(again["dataset"]["ground_truth"], "cached", "{again:#}");
    assert_eq!(again["dataset"]["fingerprint"], metrics["dataset"]["fingerprint"]);
    for (first, cached) in results.iter().zip(again["results"].as_array().unwrap()) {
        let (first, cached) = (first["recall"].as_f64().unwrap(), cached["recall"].as_f64().unwrap());
        assert!((first - cached).abs() < 0.05, "recall {first} then {cached}");
    }
    let truths = std::fs::read_dir(app.data_dir().join("results/ground-truth")).unwrap().count();
    assert_eq!(truths, 2, "one cached ground truth per vector");
}
