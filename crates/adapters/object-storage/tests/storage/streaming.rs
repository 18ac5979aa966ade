//! Bounded reading: batches arrive one at a time, and a row group is fetched only when the stream
//! reaches it.
//!
//! The proxy for "nothing is read ahead" needs no timing: after the first batch has arrived, the
//! bytes of a later row group are overwritten on disk. Had the reader fetched that row group
//! already, the stream would go on decoding the intact copy it holds; because it fetches lazily,
//! every batch before that row group arrives intact and the stream then fails naming it.

use std::fs::OpenOptions;
use std::io::{Seek, SeekFrom, Write};

use arrow::array::{ArrayRef, Int64Array};
use parquet::file::reader::{FileReader, SerializedFileReader};
use qbench_domain::PointId;
use qbench_storage::{DatasetPart, DatasetReader, StorageError};

use crate::support::{Element, Env, Layout, assert_format, rows, schema, source, vectors, write_parquet};

const ROW_GROUPS: usize = 20;
const GROUP_ROWS: usize = 100;
const BATCH_ROWS: usize = 30;
const CORRUPT_GROUP: usize = 12;

#[tokio::test]
async fn batches_arrive_one_at_a_time_and_later_row_groups_are_fetched_only_when_reached() {
    let env = Env::new();
    let path = env.file("big.parquet");
    let total = ROW_GROUPS * GROUP_ROWS;
    let ids: ArrayRef = std::sync::Arc::new(Int64Array::from_iter_values(0..total as i64));
    write_parquet(
        &path,
        vec![("id", ids), ("v", vectors(Element::F32, Layout::FixedSizeList, &rows(total, 8)))],
        GROUP_ROWS,
    );
    let schema = schema(&[("v", 8)], &[]);

    let mut stream =
        env.storage.open_points(&source("big.parquet"), &schema, DatasetPart::Train, BATCH_ROWS).await.unwrap();
    let first = stream.next_batch().await.unwrap().unwrap();
    assert_eq!((first.first_row, first.len()), (0, BATCH_ROWS));

    // Destroy the vector column chunk of a later row group, page headers included.
    let reader = SerializedFileReader::new(std::fs::File::open(&path).unwrap()).unwrap();
    let metadata = reader.metadata();
    assert_eq!(metadata.num_row_groups(), ROW_GROUPS);
    let vector_column = metadata
        .file_metadata()
        .schema_descr()
        .columns()
        .iter()
        .position(|c| c.path().string().starts_with('v'))
        .unwrap();
    let (start, length) = metadata.row_group(CORRUPT_GROUP).column(vector_column).byte_range();
    let mut file = OpenOptions::new().write(true).open(&path).unwrap();
    file.seek(SeekFrom::Start(start)).unwrap();
    file.write_all(&vec![0xFF; usize::try_from(length).unwrap()]).unwrap();
    file.sync_all().unwrap();

    let mut next_row = first.len() as u64;
    let error = loop {
        match stream.next_batch().await {
            Ok(Some(batch)) => {
                assert!(batch.len() <= BATCH_ROWS, "one batch at a time: {} rows", batch.len());
                assert_eq!(batch.first_row, next_row);
                assert_eq!(batch.ids[0], PointId::Num(next_row), "intact rows before the damaged row group");
                next_row += batch.len() as u64;
            }
            Ok(None) => panic!("the damaged row group was read before the first batch arrived"),
            Err(error) => break error,
        }
    };
    assert_eq!(next_row, (CORRUPT_GROUP * GROUP_ROWS) as u64, "every row before the damaged row group arrived");
    assert_format(&error, "big.parquet", None, Some(CORRUPT_GROUP), "");
    assert!(matches!(stream.next_batch().await, Ok(None)), "the stream ends after an error");
}

#[tokio::test]
async fn a_row_group_never_shares_a_batch_with_the_next_one() {
    let env = Env::new();
    write_parquet(&env.file("groups.parquet"), vec![("v", vectors(Element::F32, Layout::List, &rows(25, 2)))], 10);
    let schema = schema(&[("v", 2)], &[]);
    let mut stream = env.storage.open_points(&source("groups.parquet"), &schema, DatasetPart::Train, 4).await.unwrap();
    let mut sizes = Vec::new();
    while let Some(batch) = stream.next_batch().await.unwrap() {
        sizes.push(batch.len());
    }
    assert_eq!(sizes, [4, 4, 2, 4, 4, 2, 4, 1]);
}

#[tokio::test]
async fn a_stream_opened_on_a_missing_file_reports_not_found() {
    let env = Env::new();
    let schema = schema(&[("v", 2)], &[]);
    let error =
        env.storage.open_points(&source("nothing-here.parquet"), &schema, DatasetPart::Train, 4).await.err().unwrap();
    assert!(
        matches!(error, StorageError::NotFound { ref location } if location.contains("nothing-here.parquet")),
        "{error}"
    );
}

#[tokio::test]
async fn the_writer_keeps_row_groups_of_wide_vectors_to_tens_of_megabytes() {
    use qbench_storage::{DatasetWriter, GeneratedDataset, PointBatch};
    let env = Env::new();
    // 24,000 × 1,024 float32 = 98 MB of vectors: one 65,536-row group would hold all of it.
    let (rows, dim) = (24_000, 1_024);
    let schema = schema(&[("wide", dim)], &[]);
    let mut state = 7_u32;
    let values: Vec<f32> = (0..rows * dim as usize)
        .map(|_| {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            state as f32 / u32::MAX as f32
        })
        .collect();
    let batch = |rows: usize, values: Vec<f32>| PointBatch {
        first_row: 0,
        ids: (0..rows as u64).map(PointId::Num).collect(),
        vectors: [("wide".parse().unwrap(), values)].into(),
        payloads: vec![serde_json::Map::new(); rows],
    };
    let test = values[..dim as usize].to_vec();
    let dataset = GeneratedDataset {
        schema: schema.clone(),
        train: batch(rows, values),
        test: batch(1, test),
        neighbors: std::collections::BTreeMap::new(),
    };
    env.storage.write_dataset(&source("wide/"), &dataset).await.unwrap();
    let reader = SerializedFileReader::new(std::fs::File::open(env.file("wide/train.parquet")).unwrap()).unwrap();
    let groups: Vec<i64> = reader.metadata().row_groups().iter().map(|group| group.compressed_size()).collect();
    assert!(groups.len() >= 3, "{} row groups: {groups:?}", groups.len());
    assert!(groups.iter().all(|bytes| *bytes < 64 << 20), "row groups of at most tens of MB: {groups:?}");
}
