//! The ground truth qbench computes equals the neighbors file `qbench dataset generate` writes, for
//! all four distances: the same generated data, once with its `neighbors.parquet` and once without
//! (so the run computes it), gives every query the same true neighbours.

use std::collections::BTreeMap;

use arrow::array::AsArray;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use qbench_domain::synthetic::SyntheticSpec;
use qbench_domain::{Dimension, Distance, SchemaConfig, VectorSpec};
use qbench_service::synthetic::synthetic_dataset;
use qbench_storage::GeneratedDataset;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app, write_dataset};

const K: usize = 10;

/// Registers the dataset at `uri` (vector `v`), runs an exact search on it, and answers the run's
/// metrics and each query's true neighbour ids from its `queries.parquet`.
async fn exact_run(app: &TestApp, uri: &str, distance: Distance) -> (Value, BTreeMap<String, Vec<String>>) {
    let created = app
        .post_json(
            "/api/v1/datasets?inspect=true",
            &json!({"name": uri, "source_uri": uri,
                    "schema_config": {"vectors": {"v": {"dim": 24, "distance": distance.to_string()}}}}),
        )
        .await;
    created.expect(201);
    let dataset = created.body;
    let embedded = app.builtin_connection_id().await;
    let experiment = app
        .create(
            "/api/v1/experiments",
            json!({"name": uri, "dataset_id": dataset["id"], "connection_id": embedded,
                   "search_config": {"k": K, "exact": true}}),
        )
        .await;
    let run_id = app.start_run(experiment["id"].as_str().unwrap()).await;
    app.worker().await.run_next().await.unwrap().expect("the queued run");
    let run = app.get(&format!("/api/v1/runs/{run_id}")).await;
    assert_eq!(run.body["status"], "COMPLETED", "{:#}", run.body);
    let metrics = run.body["metrics"].clone();
    let queries_file = metrics["result_files"]["queries_parquet"].as_str().unwrap().trim_start_matches("file://");
    let file = std::fs::File::open(queries_file).unwrap();
    let mut truth = BTreeMap::new();
    for batch in ParquetRecordBatchReaderBuilder::try_new(file).unwrap().build().unwrap() {
        let batch = batch.unwrap();
        let ids = batch.column_by_name("query_id").unwrap().as_string::<i32>();
        let lists = batch.column_by_name("true_ids").unwrap().as_list::<i32>();
        for row in 0..batch.num_rows() {
            let list = lists.value(row);
            let list: Vec<String> = list.as_string::<i32>().iter().map(|id| id.unwrap().to_owned()).collect();
            truth.insert(ids.value(row).to_owned(), list);
        }
    }
    (metrics, truth)
}

#[actix_web::test]
async fn computed_ground_truth_equals_the_generated_neighbors_file_for_every_distance() {
    let app = spawn_app().await;
    for distance in [Distance::Cosine, Distance::Euclid, Distance::Dot, Distance::Manhattan] {
        let vectors = SchemaConfig::from_vectors([("v", VectorSpec::new(Dimension::new(24).unwrap(), distance))])
            .unwrap()
            .vectors;
        let spec = SyntheticSpec { rows: 3_000, queries: 40, vectors, clusters: 10, seed: 17 };
        let generated = synthetic_dataset(&spec, K);
        let (with_file, computed) = (format!("{distance}-file"), format!("{distance}-computed"));
        write_dataset(app.data_dir(), &with_file, &generated).await;
        let without = GeneratedDataset { neighbors: BTreeMap::new(), ..generated };
        write_dataset(app.data_dir(), &computed, &without).await;

        let (file_metrics, from_file) = exact_run(&app, &format!("{with_file}/"), distance).await;
        let (computed_metrics, from_computation) = exact_run(&app, &format!("{computed}/"), distance).await;
        assert_eq!(file_metrics["dataset"]["ground_truth"], "neighbors_file", "{distance}");
        assert_eq!(computed_metrics["dataset"]["ground_truth"], "computed", "{distance}");
        assert_eq!(from_file.len(), 40, "{distance}: every query has a row");
        assert!(from_file.values().all(|ids| ids.len() == K), "{distance}: {from_file:?}");
        assert_eq!(from_computation, from_file, "{distance}: computed ground truth differs from neighbors.parquet");
        // The engine's exact search agrees with both.
        for metrics in [&file_metrics, &computed_metrics] {
            assert_eq!(metrics["recall"], 1.0, "{distance}: {metrics:#}");
        }
    }
}
