//! Describing a dataset from its footers alone.

use std::sync::Arc;

use futures::{StreamExt, TryStreamExt};
use object_store::ObjectStore;
use parquet::arrow::arrow_reader::ArrowReaderMetadata;
use qbench_domain::SchemaConfig;
use qbench_storage::{ColumnInfo, DatasetFile, DatasetInspection, FileRole, StorageError};

use crate::columns::{self, ColumnPlan};
use crate::footer::{self, RowGroups};
use crate::layout::{DatasetFiles, FileRef};

/// Footers fetched at once: shards of a big dataset are many, each footer one or two requests.
const CONCURRENT_FOOTERS: usize = 8;

/// Reads every file's footer, checks train and test files against `schema` (and the neighbours
/// file's columns) and sums rows and bytes.
///
/// Errors: `Format` naming file and column when a file contradicts the schema; store errors.
pub(crate) async fn inspect(
    store: &Arc<dyn ObjectStore>,
    files: &DatasetFiles,
    schema: &SchemaConfig,
) -> Result<DatasetInspection, StorageError> {
    let mut roles: Vec<(FileRole, FileRef)> = files.train.iter().map(|file| (FileRole::Train, file.clone())).collect();
    roles.extend(files.test.iter().map(|file| (FileRole::Test, file.clone())));
    roles.extend(files.neighbors.iter().map(|file| (FileRole::Neighbors, file.clone())));

    let footers: Vec<(FileRole, FileRef, ArrowReaderMetadata)> = futures::stream::iter(roles)
        .map(|(role, file)| {
            let store = Arc::clone(store);
            async move { footer::load(&store, &file).await.map(|metadata| (role, file, metadata)) }
        })
        .buffered(CONCURRENT_FOOTERS)
        .try_collect()
        .await?;

    let mut inspection = DatasetInspection {
        layout: files.layout,
        files: Vec::with_capacity(footers.len()),
        columns: Vec::new(),
        train_rows: 0,
        test_rows: 0,
        bytes: 0,
    };
    for (role, file, metadata) in &footers {
        match role {
            FileRole::Train => {
                ColumnPlan::new(&file.uri, metadata.schema(), schema, true)?;
            }
            FileRole::Test => {
                ColumnPlan::new(&file.uri, metadata.schema(), schema, false)?;
            }
            FileRole::Neighbors => columns::check_neighbors(&file.uri, metadata.schema())?,
        }
        let row_groups = RowGroups::new(metadata.metadata());
        match role {
            FileRole::Train => inspection.train_rows += row_groups.rows(),
            FileRole::Test => inspection.test_rows += row_groups.rows(),
            FileRole::Neighbors => {}
        }
        inspection.bytes += file.size;
        inspection.files.push(DatasetFile {
            location: file.uri.clone(),
            role: *role,
            bytes: file.size,
            rows: row_groups.rows(),
            row_groups: row_groups.len(),
            row_group_rows: row_groups.sizes(),
            version: file.version.clone(),
        });
    }
    if let Some((_, _, first_train)) = footers.first() {
        inspection.columns = first_train
            .schema()
            .fields()
            .iter()
            .map(|field| ColumnInfo {
                name: field.name().clone(),
                data_type: field.data_type().to_string(),
                nullable: field.is_nullable(),
            })
            .collect();
    }
    Ok(inspection)
}
