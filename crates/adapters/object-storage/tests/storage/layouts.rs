//! Round trips through every layout: write (with the writer or Arrow), inspect, stream.

use std::sync::Arc;

use arrow::array::{ArrayRef, Int64Array};
use qbench_domain::{PointId, VectorName, VectorSpec};
use qbench_storage::{DatasetLayout, DatasetPart, DatasetReader, DatasetWriter, FileRole, StorageError};
use serde_json::Value;

use crate::support::dense;
use crate::support::{
    Element, Env, Layout, dataset, dataset_schema, inspect, read_all, read_merged, rows, schema, source, vectors,
    write_parquet,
};

#[tokio::test]
async fn directory_round_trip_writes_inspects_and_streams_every_part() {
    let env = Env::new();
    let data = dataset(300, 20);
    env.storage.write_dataset(&source("sets/dir/"), &data).await.unwrap();
    let schema = dataset_schema();

    let inspection = inspect(&env.storage, &source("sets/dir"), &schema).await.unwrap();
    assert_eq!(inspection.layout, DatasetLayout::Directory);
    let files: Vec<(FileRole, &str, u64)> =
        inspection.files.iter().map(|file| (file.role, file.location.rsplit('/').next().unwrap(), file.rows)).collect();
    assert_eq!(
        files,
        [
            (FileRole::Train, "train.parquet", 300),
            (FileRole::Test, "test.parquet", 20),
            (FileRole::Neighbors, "neighbors.parquet", 20)
        ]
    );
    // Local files are named relative to their data root: no server path reaches an inspection.
    assert!(inspection.files.iter().all(|file| !file.location.starts_with('/') && !file.location.contains("://")));
    assert!(inspection.files.iter().all(|file| file.row_groups == 1));
    assert_eq!((inspection.train_rows, inspection.test_rows), (300, 20));
    assert_eq!(inspection.bytes, inspection.files.iter().map(|file| file.bytes).sum::<u64>());
    let columns: Vec<(&str, &str)> =
        inspection.columns.iter().map(|c| (c.name.as_str(), c.data_type.as_str())).collect();
    assert_eq!(
        columns,
        [
            ("id", "Int64"),
            ("emb", "FixedSizeList(4 x Float32)"),
            ("category", "Utf8"),
            ("rank", "Int64"),
            ("score", "Float64"),
            ("flag", "Boolean"),
        ]
    );

    let train = read_merged(&env.storage, &source("sets/dir/"), &schema, DatasetPart::Train).await.unwrap();
    assert_eq!(train.ids, data.train.ids);
    assert_eq!(train.vectors, data.train.vectors);
    assert_eq!(train.payloads, data.train.payloads);
    assert_eq!(train.payloads[7]["score"], Value::Null, "a null stays null");

    let test = read_merged(&env.storage, &source("sets/dir"), &schema, DatasetPart::Test).await.unwrap();
    assert_eq!(test.ids, data.test.ids);
    assert_eq!(test.vectors, data.test.vectors);
    assert!(test.payloads.iter().all(serde_json::Map::is_empty), "queries carry no payload");

    let neighbors = env.storage.read_neighbors(&source("sets/dir"), &dense(), 3).await.unwrap().unwrap().lists;
    assert_eq!(neighbors.len(), 20);
    for ((id, kept), (expected_id, all)) in neighbors.iter().zip(&data.neighbors[&dense()]) {
        assert_eq!(id, expected_id);
        assert_eq!(kept.as_slice(), &all[..all.len().min(3)], "cut to k, shorter lists kept whole");
    }
    assert_eq!(neighbors[19].1.len(), 2);
}

#[tokio::test]
async fn each_vector_of_a_multi_vector_dataset_gets_a_neighbours_file_named_after_it() {
    let env = Env::new();
    let mut data = dataset(30, 3);
    // A second vector, with a name that cannot be a file name as it is, and other neighbours.
    let other: VectorName = "other/x".parse().unwrap();
    let spec = data.schema.vectors[&dense()].clone();
    data.schema.vectors.insert(other.clone(), VectorSpec { column: None, ..spec });
    for batch in [&mut data.train, &mut data.test] {
        let values = batch.vectors[&dense()].iter().map(|v| -v).collect();
        batch.vectors.insert(other.clone(), values);
    }
    let reversed = data.neighbors[&dense()].iter().map(|(id, list)| (*id, list.iter().rev().copied().collect()));
    data.neighbors.insert(other.clone(), reversed.collect());
    env.storage.write_dataset(&source("sets/two/"), &data).await.unwrap();

    let inspection = inspect(&env.storage, &source("sets/two"), &data.schema).await.unwrap();
    let mut names: Vec<&str> = inspection
        .files
        .iter()
        .filter(|file| file.role == FileRole::Neighbors)
        .map(|file| file.location.rsplit('/').next().unwrap())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["neighbors-dense.parquet", "neighbors-other%2Fx.parquet"], "no plain neighbors.parquet");
    for vector in [dense(), other] {
        let file = env.storage.read_neighbors(&source("sets/two"), &vector, 10).await.unwrap().unwrap();
        assert_eq!(file.vector.as_ref(), Some(&vector), "{}", file.location);
        assert_eq!(file.lists, data.neighbors[&vector], "{vector}: its own lists");
    }
    // A vector without a file of its own gets none: there is no plain file to fall back on.
    let third: VectorName = "third".parse().unwrap();
    assert!(env.storage.read_neighbors(&source("sets/two"), &third, 10).await.unwrap().is_none());
}

#[tokio::test]
async fn single_file_layout_reads_one_file_and_has_no_test_part_nor_neighbors() {
    let env = Env::new();
    let data = dataset(50, 5);
    env.storage.write_dataset(&source("one"), &data).await.unwrap();
    let one = source("one/train.parquet");
    let schema = dataset_schema();

    let inspection = inspect(&env.storage, &one, &schema).await.unwrap();
    assert_eq!(inspection.layout, DatasetLayout::SingleFile);
    assert_eq!((inspection.files.len(), inspection.train_rows, inspection.test_rows), (1, 50, 0));

    let version = inspection.files[0].version.clone();
    assert!(version.as_deref().is_some_and(|v| v.starts_with("mtime:")), "{version:?}");

    let train = read_merged(&env.storage, &one, &schema, DatasetPart::Train).await.unwrap();
    assert_eq!((train.ids, train.vectors), (data.train.ids, data.train.vectors));
    // Rewritten in place (same rows, same size): the version tells the two contents apart.
    let file = env.file("one/train.parquet");
    let bytes = std::fs::read(&file).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    std::fs::write(&file, bytes).unwrap();
    let rewritten = inspect(&env.storage, &one, &schema).await.unwrap();
    assert_eq!(rewritten.files[0].bytes, inspection.files[0].bytes);
    assert_ne!(rewritten.files[0].version, version, "a rewritten file has a new version");
    let error = env.storage.open_points(&one, &schema, DatasetPart::Test, 10).await.err().unwrap();
    assert!(matches!(error, StorageError::Format { .. }), "{error}");
    assert!(env.storage.read_neighbors(&one, &dense(), 10).await.unwrap().is_none());
}

#[tokio::test]
async fn glob_layout_reads_matching_shards_in_name_order_numbering_rows_across_them() {
    let env = Env::new();
    // No id column: the id is the row number across shards. Each shard's values start at its
    // first row, so the order is visible in the vectors too.
    for (name, first, count) in [("shard-b.parquet", 3, 2), ("shard-a.parquet", 0, 3), ("shard-c.parquet", 5, 4)] {
        let values: Vec<Option<Vec<f64>>> = (first..first + count).map(|r| Some(vec![f64::from(r); 2])).collect();
        write_parquet(
            &env.file(&format!("globbed/{name}")),
            vec![("v", vectors(Element::F32, Layout::List, &values))],
            100,
        );
    }
    write_parquet(
        &env.file("globbed/other.parquet"),
        vec![("v", vectors(Element::F32, Layout::List, &rows(1, 2)))],
        100,
    );
    let glob = source("globbed/shard-*.parquet");
    let schema = schema(&[("v", 2)], &[]);

    let inspection = inspect(&env.storage, &glob, &schema).await.unwrap();
    assert_eq!(inspection.layout, DatasetLayout::Glob);
    let names: Vec<&str> = inspection.files.iter().map(|f| f.location.rsplit('/').next().unwrap()).collect();
    assert_eq!(names, ["shard-a.parquet", "shard-b.parquet", "shard-c.parquet"]);
    assert!(inspection.files.iter().all(|file| file.role == FileRole::Train));
    assert_eq!(inspection.train_rows, 9);

    let batches = read_all(&env.storage, &glob, &schema, DatasetPart::Train, 2).await.unwrap();
    let first_rows: Vec<u64> = batches.iter().map(|b| b.first_row).collect();
    assert_eq!(first_rows, [0, 2, 3, 5, 7], "batches never span two files");
    let ids: Vec<PointId> = batches.iter().flat_map(|b| b.ids.clone()).collect();
    assert_eq!(ids, (0..9).map(PointId::Num).collect::<Vec<_>>());
    let firsts: Vec<f32> =
        batches.iter().flat_map(|b| b.vectors.values().next().unwrap().iter().step_by(2).copied()).collect();
    assert_eq!(firsts, (0..9).map(|r| r as f32).collect::<Vec<_>>());
    assert!(env.storage.read_neighbors(&glob, &dense(), 5).await.unwrap().is_none());
}

#[tokio::test]
async fn directory_layout_reads_train_shards_in_name_order() {
    let env = Env::new();
    let id = |ids: Vec<i64>| -> ArrayRef { Arc::new(Int64Array::from(ids)) };
    write_parquet(
        &env.file("shards/train-01.parquet"),
        vec![("id", id(vec![10, 11])), ("v", vectors(Element::F64, Layout::LargeList, &rows(2, 3)))],
        1,
    );
    write_parquet(
        &env.file("shards/train-00.parquet"),
        vec![("id", id(vec![0, 1, 2])), ("v", vectors(Element::F64, Layout::LargeList, &rows(3, 3)))],
        2,
    );
    write_parquet(
        &env.file("shards/test.parquet"),
        vec![("id", id(vec![7])), ("v", vectors(Element::F64, Layout::LargeList, &rows(1, 3)))],
        2,
    );
    let schema = schema(&[("v", 3)], &[]);

    let inspection = inspect(&env.storage, &source("shards"), &schema).await.unwrap();
    assert_eq!(inspection.layout, DatasetLayout::Directory);
    let summary: Vec<(String, usize)> =
        inspection.files.iter().map(|f| (f.location.rsplit('/').next().unwrap().to_owned(), f.row_groups)).collect();
    assert_eq!(
        summary,
        [("train-00.parquet".to_owned(), 2), ("train-01.parquet".to_owned(), 2), ("test.parquet".to_owned(), 1)]
    );

    let train = read_merged(&env.storage, &source("shards"), &schema, DatasetPart::Train).await.unwrap();
    assert_eq!(train.ids, [0, 1, 2, 10, 11].map(PointId::Num));
    let test = read_merged(&env.storage, &source("shards/"), &schema, DatasetPart::Test).await.unwrap();
    assert_eq!(test.ids, [PointId::Num(7)]);
    assert!(
        env.storage.read_neighbors(&source("shards"), &dense(), 10).await.unwrap().is_none(),
        "no neighbors.parquet"
    );
}

#[tokio::test]
async fn a_directory_without_train_shards_or_test_file_is_not_found() {
    let env = Env::new();
    write_parquet(&env.file("empty/notes.parquet"), vec![("v", vectors(Element::F32, Layout::List, &rows(1, 2)))], 10);
    let schema = schema(&[("v", 2)], &[]);
    let error = inspect(&env.storage, &source("empty"), &schema).await.unwrap_err();
    assert!(
        matches!(&error, StorageError::NotFound { location } if location.ends_with("empty/train*.parquet")),
        "{error}"
    );

    write_parquet(
        &env.file("no-test/train.parquet"),
        vec![("v", vectors(Element::F32, Layout::List, &rows(1, 2)))],
        10,
    );
    let error = env.storage.open_points(&source("no-test"), &schema, DatasetPart::Test, 10).await.err().unwrap();
    assert!(
        matches!(&error, StorageError::NotFound { location } if location.ends_with("no-test/test.parquet")),
        "{error}"
    );

    let error = inspect(&env.storage, &source("missing.parquet"), &schema).await.unwrap_err();
    assert!(matches!(error, StorageError::NotFound { .. }), "{error}");
}
