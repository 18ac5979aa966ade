//! Writing a generated dataset in the directory layout, and Parquet files in general.
//!
//! Rows are converted to Arrow a few thousand at a time and handed to the Parquet writer, which
//! keeps one row group (about 64k rows) before flushing it to the store; the upload is streamed
//! (multipart on S3). So writing holds at most the dataset itself plus one row group.

use std::collections::BTreeSet;
use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanArray, FixedSizeListArray, Float32Array, Float64Array, Int64Array, Int64Builder, ListBuilder,
    StringArray, StringBuilder,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::record_batch::RecordBatch;
use object_store::ObjectStore;
use object_store::buffered::BufWriter;
use object_store::path::Path;
use parquet::arrow::AsyncArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use qbench_domain::{PointId, SchemaConfig};
use qbench_storage::{GeneratedDataset, NeighborLists, PointBatch, StorageError};
use serde_json::Value;

use crate::columns::{ID_COLUMN, NEIGHBORS_COLUMN};
use crate::error;
use crate::layout::{NEIGHBORS_FILE, TEST_FILE, vector_neighbors_file};
use crate::location::{Location, Target};

/// The name of the points file written.
pub(crate) const TRAIN_FILE: &str = "train.parquet";
/// Rows per row group of written files, at most.
pub(crate) const ROW_GROUP_ROWS: usize = 65_536;
/// Bytes per row group of written files, about: readers hold one row group at a time, so wide
/// vectors must not make groups of hundreds of megabytes (65,536 rows × 768 floats would be 200 MB).
pub(crate) const ROW_GROUP_BYTES: usize = 32 << 20;
/// Rows converted to Arrow at a time.
pub(crate) const WRITE_BATCH_ROWS: usize = 8_192;

/// Writes `dataset` under the prefix of `location` as `train.parquet`, `test.parquet` and its
/// ground truth: `neighbors.parquet` when the dataset has one vector (VectorDBBench's layout), else
/// `neighbors-<vector>.parquet` for each, so that no file can be taken for another vector's.
///
/// Errors: `Format` for payload values that cannot be a column (nested values, or a field that
/// mixes types); `Internal` when the batches do not match the schema; store errors.
pub(crate) async fn dataset(location: &Location, dataset: &GeneratedDataset) -> Result<(), StorageError> {
    let Target::Prefix { path: prefix, .. } = &location.target else {
        return Err(StorageError::Internal(format!("{}: not a directory to write into", location.uri)));
    };
    let train_path = prefix.clone().join(TRAIN_FILE);
    let scalars = infer_scalars(&location.kind.uri(&train_path), &dataset.schema, [&dataset.train, &dataset.test])?;
    points(location, &train_path, &dataset.schema, &scalars, &dataset.train).await?;
    points(location, &prefix.clone().join(TEST_FILE), &dataset.schema, &scalars, &dataset.test).await?;
    let single = dataset.schema.vectors.len() == 1;
    for (vector, lists) in dataset.neighbors.iter().filter(|(_, lists)| !lists.is_empty()) {
        let name = if single { NEIGHBORS_FILE.to_owned() } else { vector_neighbors_file(vector) };
        neighbors(location, &prefix.clone().join(name.as_str()), lists).await?;
    }
    Ok(())
}

/// The JSON type of a scalar field, as a column type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ScalarKind {
    /// `bool`.
    Bool,
    /// Integers that fit `int64`.
    Int,
    /// Other numbers.
    Float,
    /// Strings (and fields with only nulls).
    Text,
}

impl ScalarKind {
    /// The Arrow type.
    fn data_type(self) -> DataType {
        match self {
            Self::Bool => DataType::Boolean,
            Self::Int => DataType::Int64,
            Self::Float => DataType::Float64,
            Self::Text => DataType::Utf8,
        }
    }

    /// The column of `field` over `payloads`.
    fn column(self, field: &str, payloads: &[serde_json::Map<String, Value>]) -> ArrayRef {
        let values = payloads.iter().map(|payload| payload.get(field));
        match self {
            Self::Bool => Arc::new(values.map(|v| v.and_then(Value::as_bool)).collect::<BooleanArray>()),
            Self::Int => Arc::new(values.map(|v| v.and_then(Value::as_i64)).collect::<Int64Array>()),
            Self::Float => Arc::new(values.map(|v| v.and_then(Value::as_f64)).collect::<Float64Array>()),
            Self::Text => Arc::new(values.map(|v| v.and_then(Value::as_str)).collect::<StringArray>()),
        }
    }
}

/// The column type of each scalar field, from the values of every batch.
fn infer_scalars(
    file: &str,
    schema: &SchemaConfig,
    batches: [&PointBatch; 2],
) -> Result<Vec<(String, ScalarKind)>, StorageError> {
    let mut columns = Vec::with_capacity(schema.scalar_fields.len());
    for field in &schema.scalar_fields {
        let mut kind: Option<ScalarKind> = None;
        for value in batches.iter().flat_map(|batch| batch.payloads.iter()).filter_map(|payload| payload.get(field)) {
            let this = match value {
                Value::Null => continue,
                Value::Bool(_) => ScalarKind::Bool,
                Value::Number(number) if number.is_i64() => ScalarKind::Int,
                Value::Number(_) => ScalarKind::Float,
                Value::String(_) => ScalarKind::Text,
                Value::Array(_) | Value::Object(_) => {
                    return Err(error::format(
                        file,
                        Some(field),
                        None,
                        "nested values (arrays, objects) cannot be written as a column",
                    ));
                }
            };
            kind = Some(match (kind, this) {
                (None, this) => this,
                (Some(ScalarKind::Int), ScalarKind::Float) | (Some(ScalarKind::Float), ScalarKind::Int) => {
                    ScalarKind::Float
                }
                (Some(seen), this) if seen == this => seen,
                (Some(seen), this) => {
                    return Err(error::format(
                        file,
                        Some(field),
                        None,
                        format!("the field mixes {seen:?} and {this:?} values; a column has one type"),
                    ));
                }
            });
        }
        columns.push((field.clone(), kind.unwrap_or(ScalarKind::Text)));
    }
    Ok(columns)
}

/// How ids are written: `int64` when every id is a number that fits, strings otherwise (UUIDs
/// read back as the same UUIDs).
fn ids_are_integers<'a>(mut ids: impl Iterator<Item = &'a PointId>) -> bool {
    ids.all(|id| matches!(id, PointId::Num(n) if i64::try_from(*n).is_ok()))
}

/// An id column.
fn id_column(ids: &[PointId], integers: bool) -> ArrayRef {
    if integers {
        Arc::new(ids.iter().map(|id| id_as_i64(*id)).collect::<Int64Array>())
    } else {
        Arc::new(ids.iter().map(|id| Some(id.to_string())).collect::<StringArray>())
    }
}

/// A numeric id as `int64` (checked by [`ids_are_integers`]).
fn id_as_i64(id: PointId) -> Option<i64> {
    match id {
        PointId::Num(n) => i64::try_from(n).ok(),
        PointId::Uuid(_) => None,
    }
}

/// The Arrow type of an id column.
fn id_type(integers: bool) -> DataType {
    if integers { DataType::Int64 } else { DataType::Utf8 }
}

/// Writes one part (train or test) to `path`.
async fn points(
    location: &Location,
    path: &Path,
    schema: &SchemaConfig,
    scalars: &[(String, ScalarKind)],
    points: &PointBatch,
) -> Result<(), StorageError> {
    let uri = location.kind.uri(path);
    let rows = points.len();
    let mut vectors = Vec::with_capacity(schema.vectors.len());
    for (name, spec) in &schema.vectors {
        let dim = usize::try_from(spec.dim.get()).unwrap_or(usize::MAX);
        let values = points
            .vectors
            .get(name)
            .ok_or_else(|| StorageError::Internal(format!("{uri}: the points have no values for vector `{name}`")))?;
        if values.len() != rows.saturating_mul(dim) {
            return Err(StorageError::Internal(format!(
                "{uri}: vector `{name}` has {} values for {rows} rows of dim {dim}",
                values.len()
            )));
        }
        vectors.push((spec.column_for(name), dim, values.as_slice()));
    }
    if !points.payloads.is_empty() && points.payloads.len() != rows {
        return Err(StorageError::Internal(format!("{uri}: {} payloads for {rows} rows", points.payloads.len())));
    }
    let integers = ids_are_integers(points.ids.iter());

    let mut fields = vec![Field::new(ID_COLUMN, id_type(integers), false)];
    for (column, dim, _) in &vectors {
        let size = i32::try_from(*dim).map_err(|_| StorageError::Internal(format!("{uri}: dim {dim} is too large")))?;
        fields.push(Field::new(column, vector_type(size), false));
    }
    for (field, kind) in scalars {
        fields.push(Field::new(field, kind.data_type(), true));
    }
    let arrow_schema = unique_columns(&uri, fields)?;

    let batches = (0..rows).step_by(WRITE_BATCH_ROWS).map(|start| {
        let end = (start + WRITE_BATCH_ROWS).min(rows);
        let mut columns = vec![id_column(&points.ids[start..end], integers)];
        for (_, dim, values) in &vectors {
            columns.push(vector_column(&values[start * dim..end * dim], *dim)?);
        }
        for (field, kind) in scalars {
            let payloads = points.payloads.get(start..end).unwrap_or_default();
            columns.push(if payloads.is_empty() {
                arrow::array::new_null_array(&kind.data_type(), end - start)
            } else {
                kind.column(field, payloads)
            });
        }
        RecordBatch::try_new(Arc::clone(&arrow_schema), columns)
            .map_err(|error| StorageError::Internal(format!("{uri}: building rows: {error}")))
    });
    parquet_file(&location.store, path, &uri, arrow_schema.clone(), batches).await
}

/// A fixed-size list of `size` float32 values (`FixedSizeList(dim x Float32)`; the element is
/// nullable, as pyarrow writes it, although nulls are never written and refused on reading).
fn vector_type(size: i32) -> DataType {
    DataType::FixedSizeList(Arc::new(Field::new_list_field(DataType::Float32, true)), size)
}

/// A vector column from `rows × dim` values.
fn vector_column(values: &[f32], dim: usize) -> Result<ArrayRef, StorageError> {
    let size = i32::try_from(dim).map_err(|_| StorageError::Internal(format!("dim {dim} is too large")))?;
    let array = FixedSizeListArray::try_new(
        Arc::new(Field::new_list_field(DataType::Float32, true)),
        size,
        Arc::new(Float32Array::from(values.to_vec())),
        None,
    )
    .map_err(|error| StorageError::Internal(format!("building a vector column: {error}")))?;
    Ok(Arc::new(array))
}

/// A schema, refusing two columns of the same name (a vector column named like a scalar field).
fn unique_columns(uri: &str, fields: Vec<Field>) -> Result<SchemaRef, StorageError> {
    let mut seen = BTreeSet::new();
    for field in &fields {
        if !seen.insert(field.name().clone()) {
            return Err(error::format(uri, Some(field.name()), None, "two columns would have this name"));
        }
    }
    Ok(Arc::new(Schema::new(fields)))
}

/// Writes the ground truth: `id` and `neighbors_id` (a list of ids).
async fn neighbors(location: &Location, path: &Path, lists: &NeighborLists) -> Result<(), StorageError> {
    let uri = location.kind.uri(path);
    let query_integers = ids_are_integers(lists.iter().map(|(id, _)| id));
    let neighbor_integers = ids_are_integers(lists.iter().flat_map(|(_, neighbors)| neighbors.iter()));
    let element = Field::new_list_field(id_type(neighbor_integers), true);
    let arrow_schema = Arc::new(Schema::new(vec![
        Field::new(ID_COLUMN, id_type(query_integers), false),
        Field::new(NEIGHBORS_COLUMN, DataType::List(Arc::new(element)), false),
    ]));
    let batches = lists.chunks(WRITE_BATCH_ROWS).map(|chunk| {
        let ids: Vec<PointId> = chunk.iter().map(|(id, _)| *id).collect();
        let neighbor_column: ArrayRef = if neighbor_integers {
            let mut builder = ListBuilder::new(Int64Builder::new());
            for (_, neighbors) in chunk {
                builder.values().extend(neighbors.iter().map(|id| id_as_i64(*id)));
                builder.append(true);
            }
            Arc::new(builder.finish())
        } else {
            let mut builder = ListBuilder::new(StringBuilder::new());
            for (_, neighbors) in chunk {
                for id in neighbors {
                    builder.values().append_value(id.to_string());
                }
                builder.append(true);
            }
            Arc::new(builder.finish())
        };
        RecordBatch::try_new(Arc::clone(&arrow_schema), vec![id_column(&ids, query_integers), neighbor_column])
            .map_err(|error| StorageError::Internal(format!("{uri}: building rows: {error}")))
    });
    parquet_file(&location.store, path, &uri, arrow_schema.clone(), batches).await
}

/// Writes one Parquet file from `batches` (built lazily, one at a time), zstd-compressed in row
/// groups of [`ROW_GROUP_ROWS`]. A failed upload is aborted, so no partial file is left behind.
pub(crate) async fn parquet_file<I>(
    store: &Arc<dyn ObjectStore>,
    path: &Path,
    uri: &str,
    schema: SchemaRef,
    batches: I,
) -> Result<(), StorageError>
where
    I: Iterator<Item = Result<RecordBatch, StorageError>>,
{
    let properties = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_max_row_group_bytes(Some(ROW_GROUP_BYTES))
        .build();
    let sink = BufWriter::new(Arc::clone(store), path.clone());
    let mut writer = AsyncArrowWriter::try_new(sink, schema, Some(properties))
        .map_err(|error| error::from_parquet_write(uri, &error))?;
    let mut written = Ok(());
    for batch in batches {
        written = match batch {
            Ok(batch) => writer.write(&batch).await.map_err(|error| error::from_parquet_write(uri, &error)),
            Err(error) => Err(error),
        };
        if written.is_err() {
            break;
        }
    }
    match written {
        Ok(()) => writer.close().await.map(drop).map_err(|error| error::from_parquet_write(uri, &error)),
        Err(error) => {
            // Best effort: the error that stopped the write is the one worth reporting.
            let _ = writer.into_inner().abort().await;
            Err(error)
        }
    }
}
