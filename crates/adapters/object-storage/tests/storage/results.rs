//! Run results: `result.json` and `queries.parquet` under `<results>/<run_id>/`.

use arrow::array::{Array, AsArray};
use arrow::datatypes::Float64Type;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use qbench_domain::PointId;
use qbench_object_storage::{ParquetStorage, ParquetStorageConfig};
use qbench_storage::{Artifact, QueryRecord, ResultWriter, StorageError, TrueNeighbors};
use serde_json::json;

use crate::support::{Env, assert_refused};

/// Two measured queries.
pub(crate) fn queries() -> Vec<QueryRecord> {
    vec![
        QueryRecord {
            vector: "dense".to_owned(),
            setting: "hnsw_ef=64".to_owned(),
            query_id: "7".to_owned(),
            latency_seconds: 0.002,
            server_seconds: Some(0.001),
            precision: 1.0,
            recall: 0.5,
            f1: 2.0 / 3.0,
            returned_ids: vec!["3".to_owned(), "9".to_owned()],
            true_ids: vec!["3".to_owned(), "4".to_owned()],
        },
        QueryRecord {
            vector: "dense".to_owned(),
            setting: "exact".to_owned(),
            query_id: "8".to_owned(),
            latency_seconds: 0.004,
            server_seconds: None,
            precision: 0.0,
            recall: 0.0,
            f1: 0.0,
            returned_ids: Vec::new(),
            true_ids: vec!["5".to_owned()],
        },
    ]
}

/// Checks the bytes of a `queries.parquet` against [`queries`].
pub(crate) fn check_queries_parquet(bytes: bytes::Bytes) {
    let reader = ParquetRecordBatchReaderBuilder::try_new(bytes).unwrap().build().unwrap();
    let batches: Vec<_> = reader.map(Result::unwrap).collect();
    let batch = &batches[0];
    let names: Vec<&str> = batch.schema_ref().fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(
        names,
        [
            "vector",
            "setting",
            "query_id",
            "latency_seconds",
            "server_seconds",
            "precision",
            "recall",
            "f1",
            "returned_ids",
            "true_ids"
        ]
    );
    assert_eq!(batch.num_rows(), 2);
    let settings = batch.column_by_name("setting").unwrap().as_string::<i32>();
    assert_eq!((settings.value(0), settings.value(1)), ("hnsw_ef=64", "exact"));
    let server = batch.column_by_name("server_seconds").unwrap().as_primitive::<Float64Type>();
    assert_eq!((server.value(0), server.is_null(1)), (0.001, true));
    let returned = batch.column_by_name("returned_ids").unwrap().as_list::<i32>();
    let first = returned.value(0);
    let first = first.as_string::<i32>();
    assert_eq!((first.value(0), first.value(1), returned.value(1).len()), ("3", "9", 0));
    let truth = batch.column_by_name("true_ids").unwrap().as_list::<i32>();
    let (first, second) = (truth.value(0), truth.value(1));
    let (first, second) = (first.as_string::<i32>(), second.as_string::<i32>());
    assert_eq!((first.value(1), second.value(0), second.len()), ("4", "5", 1));
}

#[tokio::test]
async fn results_are_written_as_json_and_parquet_under_the_run_folder() {
    let env = Env::new();
    let result = json!({"run": "r-1", "recall": {"dense": 0.75}});
    let stored = env.storage.write_result("r-1", &result, &queries()).await.unwrap();
    let folder = env.results.join("r-1");
    assert_eq!(stored.result_json, format!("file://{}", folder.join("result.json").display()));
    assert_eq!(stored.queries_parquet, format!("file://{}", folder.join("queries.parquet").display()));
    let written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(folder.join("result.json")).unwrap()).unwrap();
    assert_eq!(written, result);
    check_queries_parquet(std::fs::read(folder.join("queries.parquet")).unwrap().into());
}

#[tokio::test]
async fn deleting_a_runs_results_removes_its_folder_and_nothing_else() {
    let env = Env::new();
    env.storage.write_result("r-1", &json!({"run": "r-1"}), &queries()).await.unwrap();
    env.storage.write_log("r-1", &["{}".to_owned()]).await.unwrap();
    env.storage.write_result("r-2", &json!({"run": "r-2"}), &queries()).await.unwrap();
    env.storage.delete_results("r-1").await.unwrap();
    assert!(!env.results.join("r-1").exists(), "the run's folder is gone");
    assert!(env.results.join("r-2").join("result.json").exists(), "another run's results stay");
    assert!(matches!(env.storage.read_artifact("r-1", Artifact::ResultJson).await, Err(StorageError::NotFound { .. })));
    env.storage.delete_results("r-1").await.unwrap();
    env.storage.delete_results("never-stored").await.unwrap();
    for run_id in ["", "..", "a/b"] {
        assert_refused(env.storage.delete_results(run_id).await, &["not usable as a folder name"]);
    }
    assert!(env.results.join("r-2").join("result.json").exists(), "a refused delete deletes nothing");
}

#[cfg(unix)]
#[tokio::test]
async fn deleting_a_linked_run_folder_removes_the_link_not_what_it_points_at() {
    let env = Env::new();
    env.storage.write_result("r-1", &json!({"run": "r-1"}), &queries()).await.unwrap();
    std::fs::write(env.outside.join("result.json"), "{}").unwrap();
    std::os::unix::fs::symlink(&env.outside, env.results.join("r-linked")).unwrap();
    env.storage.delete_results("r-linked").await.unwrap();
    assert!(!env.results.join("r-linked").exists(), "the link is gone");
    assert!(env.outside.join("result.json").exists(), "what it pointed at stays");
}

#[tokio::test]
async fn run_ids_that_are_not_a_folder_name_are_refused() {
    let env = Env::new();
    for run_id in ["", ".", "..", "../escape", "a/b", "a\\b"] {
        assert_refused(env.storage.write_result(run_id, &json!({}), &[]).await, &["not usable as a folder name"]);
    }
    assert!(!env.results.exists(), "nothing was written");
}

#[tokio::test]
async fn without_a_results_location_writing_results_is_refused() {
    let storage = ParquetStorage::new(ParquetStorageConfig::default()).unwrap();
    let error = storage.write_result("r-1", &json!({}), &[]).await.unwrap_err();
    assert!(
        matches!(error, StorageError::Refused { ref reason, .. } if reason.contains("no results location")),
        "{error}"
    );
}

#[tokio::test]
async fn a_stored_ground_truth_reads_back_exactly_with_numeric_and_uuid_ids() {
    let env = Env::new();
    let uuid = uuid::Uuid::parse_str("67e55044-10b1-426f-9247-bb680e5fe0c8").unwrap();
    let truth: TrueNeighbors = vec![
        vec![(PointId::Num(3), 0.25), (PointId::Uuid(uuid), 0.5), (PointId::Num(u64::MAX), 0.5)],
        Vec::new(),
        vec![(PointId::Num(0), f64::NAN)],
    ];
    assert_eq!(env.storage.load_truth("truth-1").await.unwrap(), None, "nothing stored yet");
    env.storage.store_truth("truth-1", &truth).await.unwrap();
    assert!(env.results.join("ground-truth/truth-1.parquet").is_file());

    let read = env.storage.load_truth("truth-1").await.unwrap().expect("stored");
    assert_eq!(read.len(), 3);
    assert_eq!(read[0], truth[0]);
    assert!(read[1].is_empty());
    assert_eq!(read[2][0].0, PointId::Num(0));
    assert!(read[2][0].1.is_nan(), "an unknown distance stays unknown");
    assert_eq!(env.storage.load_truth("truth-2").await.unwrap(), None, "another key is another truth");
}

#[tokio::test]
async fn ground_truth_keys_that_are_not_a_plain_name_are_refused_and_a_foreign_file_is_a_format_error() {
    let env = Env::new();
    for key in ["", "../escape", "a/b", "a.b"] {
        assert_refused(env.storage.store_truth(key, &Vec::new()).await, &["not usable as a ground-truth key"]);
    }
    std::fs::create_dir_all(env.results.join("ground-truth")).unwrap();
    std::fs::write(env.results.join("ground-truth/truth-x.parquet"), b"not parquet").unwrap();
    let error = env.storage.load_truth("truth-x").await.unwrap_err();
    assert!(error.to_string().contains("truth-x.parquet"), "{error}");
}
