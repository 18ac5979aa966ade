//! The ground-truth cache: `<results>/ground-truth/<key>.parquet`, one row per query with the ids
//! and oriented distances of its true nearest neighbours.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, Float64Array, Float64Builder, ListArray, ListBuilder, StringArray, StringBuilder};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use object_store::ObjectStoreExt;
use object_store::path::Path;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use qbench_domain::PointId;
use qbench_storage::{StorageError, TrueNeighbors};

use crate::error;
use crate::location::{Location, Target};
use crate::write::{self, WRITE_BATCH_ROWS};

/// The folder of cached ground truths under the results location.
const TRUTH_FOLDER: &str = "ground-truth";
/// Column of neighbour ids (numbers or UUIDs as text).
const IDS_COLUMN: &str = "ids";
/// Column of oriented distances (NaN when unknown).
const DISTANCES_COLUMN: &str = "distances";

/// The file of `key`, after checking the key is one plain name.
fn file_of(location: &Location, key: &str) -> Result<(Path, String), StorageError> {
    if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(StorageError::Refused {
            location: location.uri.clone(),
            reason: format!("`{}` is not usable as a ground-truth key", key.escape_debug()),
        });
    }
    let Target::Prefix { path: root, .. } = &location.target else {
        return Err(StorageError::Internal(format!("{}: not a directory to write into", location.uri)));
    };
    let path = root.clone().join(TRUTH_FOLDER).join(format!("{key}.parquet"));
    let uri = location.kind.uri(&path);
    Ok((path, uri))
}

/// Writes `truth` under `key`.
pub(crate) async fn store(location: &Location, key: &str, truth: &TrueNeighbors) -> Result<(), StorageError> {
    let (path, uri) = file_of(location, key)?;
    let item = |data_type| Arc::new(Field::new_list_field(data_type, false));
    let schema = Arc::new(Schema::new(vec![
        Field::new(IDS_COLUMN, DataType::List(item(DataType::Utf8)), false),
        Field::new(DISTANCES_COLUMN, DataType::List(item(DataType::Float64)), false),
    ]));
    let batches = truth.chunks(WRITE_BATCH_ROWS).map(|chunk| {
        let mut ids = ListBuilder::new(StringBuilder::new()).with_field(item(DataType::Utf8));
        let mut distances = ListBuilder::new(Float64Builder::new()).with_field(item(DataType::Float64));
        for neighbors in chunk {
            for (id, distance) in neighbors {
                ids.values().append_value(id.to_string());
                distances.values().append_value(*distance);
            }
            ids.append(true);
            distances.append(true);
        }
        let columns: Vec<ArrayRef> = vec![Arc::new(ids.finish()), Arc::new(distances.finish())];
        RecordBatch::try_new(Arc::clone(&schema), columns)
            .map_err(|error| StorageError::Internal(format!("{uri}: building rows: {error}")))
    });
    write::parquet_file(&location.store, &path, &uri, schema.clone(), batches).await
}

/// Reads the ground truth stored under `key`; `None` when there is none.
///
/// Errors: `Format` for a file this module did not write; store errors.
pub(crate) async fn load(location: &Location, key: &str) -> Result<Option<TrueNeighbors>, StorageError> {
    let (path, uri) = file_of(location, key)?;
    let bytes = match location.store.get(&path).await {
        Ok(found) => found.bytes().await.map_err(|error| error::from_store(&uri, &error))?,
        Err(object_store::Error::NotFound { .. }) => return Ok(None),
        Err(error) => return Err(error::from_store(&uri, &error)),
    };
    let reader = ParquetRecordBatchReaderBuilder::try_new(bytes)
        .and_then(|builder| builder.with_batch_size(WRITE_BATCH_ROWS).build())
        .map_err(|error| error::from_parquet(&uri, None, &error))?;
    let mut truth = TrueNeighbors::new();
    for batch in reader {
        let batch = batch.map_err(|error| error::from_arrow(&uri, None, &error))?;
        let lists = |name: &str| {
            batch
                .column_by_name(name)
                .and_then(|column| column.as_any().downcast_ref::<ListArray>())
                .ok_or_else(|| error::format(&uri, Some(name), None, "not a ground-truth file of qbench"))
        };
        let (ids, distances) = (lists(IDS_COLUMN)?, lists(DISTANCES_COLUMN)?);
        for row in 0..batch.num_rows() {
            let (row_ids, row_distances) = (ids.value(row), distances.value(row));
            let row_ids = row_ids.as_any().downcast_ref::<StringArray>();
            let row_distances = row_distances.as_any().downcast_ref::<Float64Array>();
            let (Some(row_ids), Some(row_distances)) = (row_ids, row_distances) else {
                return Err(error::format(&uri, Some(IDS_COLUMN), None, "not a ground-truth file of qbench"));
            };
            let neighbors = row_ids
                .iter()
                .zip(row_distances.iter())
                .map(|(id, distance)| Some((parse_id(id?)?, distance.unwrap_or(f64::NAN))))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| {
                    error::format(&uri, Some(IDS_COLUMN), None, format!("row {row}: an id is null or not an id"))
                })?;
            truth.push(neighbors);
        }
    }
    Ok(Some(truth))
}

/// An id as [`PointId`]'s `Display` writes it: a number or a UUID.
fn parse_id(text: &str) -> Option<PointId> {
    text.parse::<u64>().map(PointId::Num).ok().or_else(|| uuid::Uuid::parse_str(text).ok().map(PointId::Uuid))
}
