//! Reading one file's range of row groups (a backfill's work item): exactly the rows a full read
//! gives for that range, numbered the same, and nothing outside the range is fetched.

use std::fs::OpenOptions;
use std::io::{Seek, SeekFrom, Write};

use parquet::file::reader::{FileReader, SerializedFileReader};
use qbench_domain::PointId;
use qbench_storage::{DatasetPart, DatasetReader, PointBatch, StorageError};

use crate::support::{Element, Env, Layout, assert_format, merge, read_all, schema, source, vectors, write_parquet};

/// Two shards without an id column (so ids are row numbers across files): `a` of 3 row groups of
/// 10 rows, `b` of 4 row groups of 10 rows (the last of 5). Each row's vector starts at its row.
fn two_shards(env: &Env) {
    for (name, first, count) in [("shard-a.parquet", 0, 30), ("shard-b.parquet", 30, 35)] {
        let values: Vec<Option<Vec<f64>>> = (first..first + count).map(|r| Some(vec![f64::from(r); 2])).collect();
        write_parquet(
            &env.file(&format!("sharded/{name}")),
            vec![("v", vectors(Element::F32, Layout::List, &values))],
            10,
        );
    }
}

async fn read_range(
    env: &Env,
    location: &str,
    groups: std::ops::Range<usize>,
    first_row: u64,
) -> Result<Vec<PointBatch>, StorageError> {
    let glob = source("sharded/shard-*.parquet");
    let mut stream =
        env.storage.open_row_groups(&glob, &schema(&[("v", 2)], &[]), location, groups, first_row, 4).await?;
    let mut batches = Vec::new();
    while let Some(batch) = stream.next_batch().await? {
        batches.push(batch);
    }
    Ok(batches)
}

#[tokio::test]
async fn a_range_of_row_groups_reads_as_it_does_within_a_full_read() {
    let env = Env::new();
    two_shards(&env);
    let glob = source("sharded/shard-*.parquet");
    let schema = schema(&[("v", 2)], &[]);
    let inspection = env.storage.inspect(&glob, &schema).await.unwrap();
    let groups: Vec<&[u64]> = inspection.files.iter().map(|file| file.row_group_rows.as_slice()).collect();
    assert_eq!(groups, [&[10, 10, 10][..], &[10, 10, 10, 5][..]], "the rows of each row group");
    let full = merge(read_all(&env.storage, &glob, &schema, DatasetPart::Train, 4).await.unwrap());

    // Row groups 1..3 of shard b: rows 40..65 of the part.
    let location = &inspection.files[1].location;
    let batches = read_range(&env, location, 1..4, 40).await.unwrap();
    assert!(batches.iter().all(|batch| batch.len() <= 4), "batches of the size asked");
    let first_rows: Vec<u64> = batches.iter().map(|batch| batch.first_row).collect();
    assert_eq!(first_rows.first(), Some(&40));
    let range = merge(batches);
    assert_eq!(range.ids, (40..65).map(PointId::Num).collect::<Vec<_>>());
    let name = "v".parse().unwrap();
    assert_eq!(range.vectors[&name], full.vectors[&name][40 * 2..65 * 2]);

    // The whole of shard a, and its last group alone.
    let a = &inspection.files[0].location;
    assert_eq!(merge(read_range(&env, a, 0..3, 0).await.unwrap()).ids, (0..30).map(PointId::Num).collect::<Vec<_>>());
    assert_eq!(merge(read_range(&env, a, 2..3, 20).await.unwrap()).ids, (20..30).map(PointId::Num).collect::<Vec<_>>());
}

#[tokio::test]
async fn row_groups_outside_the_range_are_never_fetched() {
    let env = Env::new();
    two_shards(&env);
    let path = env.root.join("sharded/shard-b.parquet");
    // Destroy row group 0 of shard b: a range after it still reads, one including it fails naming it.
    let reader = SerializedFileReader::new(std::fs::File::open(&path).unwrap()).unwrap();
    let (start, length) = reader.metadata().row_group(0).column(0).byte_range();
    let mut file = OpenOptions::new().write(true).open(&path).unwrap();
    file.seek(SeekFrom::Start(start)).unwrap();
    file.write_all(&vec![0xFF; usize::try_from(length).unwrap()]).unwrap();
    file.sync_all().unwrap();

    let location = "sharded/shard-b.parquet";
    let after = merge(read_range(&env, location, 1..4, 40).await.unwrap());
    assert_eq!(after.ids.len(), 25);
    let error = read_range(&env, location, 0..2, 30).await.err().unwrap();
    assert_format(&error, "shard-b.parquet", None, Some(0), "");
}

#[tokio::test]
async fn a_location_outside_the_dataset_or_a_range_outside_the_file_is_refused() {
    let env = Env::new();
    two_shards(&env);
    write_parquet(
        &env.file("sharded/other.parquet"),
        vec![("v", vectors(Element::F32, Layout::List, &[Some(vec![1.0, 2.0])]))],
        10,
    );

    let error = read_range(&env, "sharded/other.parquet", 0..1, 0).await.err().unwrap();
    assert!(matches!(&error, StorageError::NotFound { location } if location == "sharded/other.parquet"), "{error}");
    let error = read_range(&env, "sharded/shard-a.parquet", 2..5, 20).await.err().unwrap();
    assert_format(&error, "shard-a.parquet", None, None, "row groups 2..5 are not within the file's 3 row groups");
    let error = read_range(&env, "sharded/shard-a.parquet", 1..1, 10).await.err().unwrap();
    assert_format(&error, "shard-a.parquet", None, None, "row groups 1..1");
}
