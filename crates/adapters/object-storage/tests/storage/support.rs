//! Helpers: a data root with an adapter, sources, schemas, generated datasets, hand-made Parquet
//! files, and checks of `Format` errors.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{ArrayRef, FixedSizeListArray, Float16Array, Float32Array, Float64Array, LargeListArray, ListArray};
use arrow::buffer::{NullBuffer, OffsetBuffer};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::file::properties::WriterProperties;
use qbench_domain::{Dimension, Distance, PointId, SchemaConfig, VectorName, VectorSpec};
use qbench_object_storage::{ParquetStorage, ParquetStorageConfig, ResultsLocation};
use qbench_storage::{
    DatasetPart, DatasetReader, DatasetSource, GeneratedDataset, PointBatch, S3Credentials, StorageError,
};
use serde_json::{Map, Value, json};
use tempfile::TempDir;

/// A temporary directory with a data root (`root/`), a second root (`second/`), a place outside
/// both (`outside/`), a results directory, and an adapter over them.
pub(crate) struct Env {
    /// Keeps everything alive.
    _dir: TempDir,
    /// The first data root (canonical).
    pub(crate) root: PathBuf,
    /// The second data root (canonical).
    pub(crate) second: PathBuf,
    /// A directory outside every root (canonical).
    pub(crate) outside: PathBuf,
    /// Where results go.
    pub(crate) results: PathBuf,
    /// The adapter.
    pub(crate) storage: ParquetStorage,
}

impl Env {
    pub(crate) fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().canonicalize().unwrap();
        let (root, second, outside, results) =
            (base.join("root"), base.join("second"), base.join("outside"), base.join("results"));
        for path in [&root, &second, &outside] {
            std::fs::create_dir_all(path).unwrap();
        }
        let storage = ParquetStorage::new(ParquetStorageConfig {
            data_roots: vec![root.clone(), second.clone()],
            private_paths: vec![root.join("qbench.db"), root.join("engine")],
            results: Some(ResultsLocation::Local(results.clone())),
            ..ParquetStorageConfig::default()
        })
        .unwrap();
        Self { _dir: dir, root, second, outside, results, storage }
    }

    /// A path inside the first root, with its parent directories created.
    pub(crate) fn file(&self, relative: &str) -> PathBuf {
        let path = self.root.join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        path
    }
}

/// A source without credentials.
pub(crate) fn source(uri: &str) -> DatasetSource {
    DatasetSource { uri: uri.parse().unwrap(), s3: None, local_area: None }
}

/// A `file://` source for an absolute path.
pub(crate) fn file_source(path: &Path) -> DatasetSource {
    source(&format!("file://{}", path.display()))
}

/// An S3 source with credentials for an S3-compatible endpoint.
pub(crate) fn s3_source(uri: &str, endpoint: &str, access_key: &str, secret_key: &str) -> DatasetSource {
    DatasetSource {
        uri: uri.parse().unwrap(),
        s3: Some(S3Credentials {
            endpoint_url: Some(endpoint.to_owned()),
            region: String::new(),
            access_key: Some(access_key.into()),
            secret_key: Some(secret_key.into()),
        }),
        local_area: None,
    }
}

/// A schema with the given vectors (name, dim; the column is named like the vector) and scalars.
pub(crate) fn schema(vectors: &[(&str, u32)], scalars: &[&str]) -> SchemaConfig {
    let mut schema = SchemaConfig::from_vectors(
        vectors.iter().map(|(name, dim)| (*name, VectorSpec::new(Dimension::new(*dim).unwrap(), Distance::Cosine))),
    )
    .unwrap();
    schema.scalar_fields = scalars.iter().map(|s| (*s).to_owned()).collect();
    schema
}

/// The schema of [`dataset`]: `dense` (dim 4) stored in column `emb`, and four scalar fields.
pub(crate) fn dataset_schema() -> SchemaConfig {
    let mut schema = schema(&[("dense", 4)], &["category", "rank", "score", "flag"]);
    for spec in schema.vectors.values_mut() {
        spec.column = Some("emb".to_owned());
    }
    schema
}

/// The one vector of [`dataset`].
pub(crate) fn dense() -> VectorName {
    "dense".parse().unwrap()
}

/// A deterministic dataset: `train` points and `test` queries of dim 4, payloads with every
/// JSON type (and a null), and five neighbours per query (the last query has two).
pub(crate) fn dataset(train: usize, test: usize) -> GeneratedDataset {
    let schema = dataset_schema();
    let points = |rows: usize, first_id: u64, with_payloads: bool| {
        let ids: Vec<PointId> = (0..rows as u64).map(|i| PointId::Num(first_id + i)).collect();
        let values: Vec<f32> = (0..rows * 4).map(|i| i as f32 * 0.25 - 3.0).collect();
        let payloads = (0..rows)
            .map(|i| {
                if !with_payloads {
                    return Map::new();
                }
                let payload = json!({
                    "category": format!("c{}", i % 3),
                    "rank": i as i64 - 5,
                    "score": if i % 7 == 0 { Value::Null } else { json!(i as f64 / 8.0) },
                    "flag": i % 2 == 0,
                });
                payload.as_object().cloned().unwrap()
            })
            .collect();
        PointBatch { first_row: 0, ids, vectors: BTreeMap::from([("dense".parse().unwrap(), values)]), payloads }
    };
    let neighbors = (0..test as u64)
        .map(|q| {
            let count = if q + 1 == test as u64 { 2 } else { 5 };
            (PointId::Num(1_000 + q), (0..count).map(|n| PointId::Num((q * 7 + n) % train as u64)).collect())
        })
        .collect();
    GeneratedDataset {
        schema,
        train: points(train, 0, true),
        test: points(test, 1_000, true),
        neighbors: [(dense(), neighbors)].into(),
    }
}

/// Reads a whole part, checking that batches hold at most `batch_rows` rows and are numbered
/// contiguously.
pub(crate) async fn read_all(
    storage: &ParquetStorage,
    source: &DatasetSource,
    schema: &SchemaConfig,
    part: DatasetPart,
    batch_rows: usize,
) -> Result<Vec<PointBatch>, StorageError> {
    let mut stream = storage.open_points(source, schema, part, batch_rows).await?;
    let mut batches = Vec::new();
    let mut next_row = 0;
    while let Some(batch) = stream.next_batch().await? {
        assert!(!batch.is_empty() && batch.len() <= batch_rows, "a batch of {} rows", batch.len());
        assert_eq!(batch.first_row, next_row, "batches are numbered contiguously");
        next_row += batch.len() as u64;
        batches.push(batch);
    }
    Ok(batches)
}

/// The batches of a part as one.
pub(crate) fn merge(batches: Vec<PointBatch>) -> PointBatch {
    let mut merged = PointBatch::default();
    for batch in batches {
        merged.ids.extend(batch.ids);
        merged.payloads.extend(batch.payloads);
        for (name, values) in batch.vectors {
            merged.vectors.entry(name).or_default().extend(values);
        }
    }
    merged
}

/// Reads a whole part as one batch.
pub(crate) async fn read_merged(
    storage: &ParquetStorage,
    source: &DatasetSource,
    schema: &SchemaConfig,
    part: DatasetPart,
) -> Result<PointBatch, StorageError> {
    read_all(storage, source, schema, part, 7).await.map(merge)
}

/// Reads a part and returns the first error, failing the test if there is none.
pub(crate) async fn read_error(
    storage: &ParquetStorage,
    source: &DatasetSource,
    schema: &SchemaConfig,
    part: DatasetPart,
) -> StorageError {
    match read_all(storage, source, schema, part, 3).await {
        Ok(batches) => panic!("expected an error, read {} batches", batches.len()),
        Err(error) => error,
    }
}

/// Writes a Parquet file of `columns` (by name) in row groups of `row_group_rows`.
pub(crate) fn write_parquet(path: &Path, columns: Vec<(&str, ArrayRef)>, row_group_rows: usize) {
    let fields: Vec<Field> =
        columns.iter().map(|(name, array)| Field::new(*name, array.data_type().clone(), true)).collect();
    let schema = Arc::new(Schema::new(fields));
    let batch =
        RecordBatch::try_new(Arc::clone(&schema), columns.into_iter().map(|(_, array)| array).collect()).unwrap();
    let properties = WriterProperties::builder().set_max_row_group_row_count(Some(row_group_rows)).build();
    let mut writer = ArrowWriter::try_new(File::create(path).unwrap(), schema, Some(properties)).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
}

/// The element types of vector columns.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Element {
    F16,
    F32,
    F64,
}

/// The list layouts of vector columns.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Layout {
    List,
    LargeList,
    FixedSizeList,
}

/// A vector column of `rows` (each row its values; `None` is a null row) in the given layout.
/// A fixed-size list takes the length of the first row.
pub(crate) fn vectors(element: Element, layout: Layout, rows: &[Option<Vec<f64>>]) -> ArrayRef {
    let dim = rows.iter().flatten().next().map_or(0, Vec::len);
    let lengths: Vec<usize> = rows
        .iter()
        .map(|row| row.as_ref().map_or(if matches!(layout, Layout::FixedSizeList) { dim } else { 0 }, Vec::len))
        .collect();
    let flat: Vec<f64> =
        rows.iter().zip(&lengths).flat_map(|(row, len)| row.clone().unwrap_or_else(|| vec![0.0; *len])).collect();
    let (values, data_type): (ArrayRef, DataType) = match element {
        Element::F16 => {
            (Arc::new(flat.iter().map(|v| half::f16::from_f64(*v)).collect::<Float16Array>()), DataType::Float16)
        }
        Element::F32 => (Arc::new(flat.iter().map(|v| *v as f32).collect::<Float32Array>()), DataType::Float32),
        Element::F64 => (Arc::new(flat.iter().copied().collect::<Float64Array>()), DataType::Float64),
    };
    let field = Arc::new(Field::new_list_field(data_type, true));
    let nulls = rows
        .iter()
        .any(Option::is_none)
        .then(|| NullBuffer::from(rows.iter().map(Option::is_some).collect::<Vec<_>>()));
    match layout {
        Layout::List => {
            Arc::new(ListArray::try_new(field, OffsetBuffer::from_lengths(lengths), values, nulls).unwrap())
        }
        Layout::LargeList => {
            Arc::new(LargeListArray::try_new(field, OffsetBuffer::from_lengths(lengths), values, nulls).unwrap())
        }
        Layout::FixedSizeList => {
            Arc::new(FixedSizeListArray::try_new(field, i32::try_from(dim).unwrap(), values, nulls).unwrap())
        }
    }
}

/// `rows` rows of `dim` values, row `r` holding `r + i / 4` at position `i`.
pub(crate) fn rows(rows: usize, dim: usize) -> Vec<Option<Vec<f64>>> {
    (0..rows).map(|r| Some((0..dim).map(|i| r as f64 + i as f64 / 4.0).collect())).collect()
}

/// Asserts a `Format` error about the file ending in `file`, the column and row group given,
/// whose reason contains `reason`.
#[track_caller]
pub(crate) fn assert_format(
    error: &StorageError,
    file: &str,
    column: Option<&str>,
    row_group: Option<usize>,
    reason: &str,
) {
    let StorageError::Format {
        file: actual_file,
        column: actual_column,
        row_group: actual_group,
        reason: actual_reason,
    } = error
    else {
        panic!("expected a Format error, got {error:?}");
    };
    assert!(actual_file.ends_with(file), "file {actual_file} should end with {file}: {error}");
    assert_eq!(actual_column.as_deref(), column, "column: {error}");
    assert_eq!(*actual_group, row_group, "row group: {error}");
    assert!(actual_reason.contains(reason), "reason should contain `{reason}`: {error}");
}

/// Asserts that a reader call was refused, with `needles` in the message.
#[track_caller]
pub(crate) fn assert_refused(result: Result<impl std::fmt::Debug, StorageError>, needles: &[&str]) {
    match result {
        Err(error @ StorageError::Refused { .. }) => {
            let message = error.to_string();
            for needle in needles {
                assert!(message.contains(needle), "`{message}` should contain `{needle}`");
            }
        }
        other => panic!("expected Refused, got {other:?}"),
    }
}

/// Inspects, for tests that only need the result.
pub(crate) async fn inspect(
    storage: &ParquetStorage,
    source: &DatasetSource,
    schema: &SchemaConfig,
) -> Result<qbench_storage::DatasetInspection, StorageError> {
    storage.inspect(source, schema).await
}
