//! Reading the ground truth of a directory dataset (`neighbors.parquet`).

use std::sync::Arc;

use object_store::ObjectStore;
use qbench_domain::PointId;
use qbench_storage::{NeighborLists, StorageError};

use crate::batches::FileBatches;
use crate::columns::{self, ID_COLUMN, NEIGHBORS_COLUMN};
use crate::decode::{self, BatchOrigin, IdReader, Lists};
use crate::footer;
use crate::layout::FileRef;

/// Rows decoded at a time.
const BATCH_ROWS: usize = 4096;

/// Reads every query's neighbour ids, each list cut to its first `k` (shorter lists are kept).
///
/// Errors: `Format` for a missing `neighbors_id` column, ids of the wrong type, a null list or a
/// null or negative id; store errors as mapped by [`crate::error::from_store`].
pub(crate) async fn read(
    store: &Arc<dyn ObjectStore>,
    file: &FileRef,
    k: usize,
) -> Result<NeighborLists, StorageError> {
    let metadata = footer::load(store, file).await?;
    columns::check_neighbors(&file.uri, metadata.schema())?;
    let has_id = metadata.schema().index_of(ID_COLUMN).is_ok();
    let projection = columns::roots(
        metadata.schema(),
        metadata.metadata().file_metadata().schema_descr(),
        &[ID_COLUMN, NEIGHBORS_COLUMN],
    );
    let mut batches = FileBatches::open(store, file, metadata, projection, BATCH_ROWS, None)?;
    let mut lists = NeighborLists::new();
    while let Some((batch, file_row)) = batches.next().await? {
        let origin =
            BatchOrigin { file: batches.uri(), row_groups: batches.row_groups(), file_row, first_row: file_row };
        let ids = if has_id {
            decode::ids(origin.column(&batch, ID_COLUMN)?, ID_COLUMN, &origin)?
        } else {
            (0..batch.num_rows() as u64).map(|row| PointId::Num(file_row + row)).collect()
        };
        let column = origin.column(&batch, NEIGHBORS_COLUMN)?;
        let wrong_type =
            || origin.error(NEIGHBORS_COLUMN, 0, |_| format!("expected a list of ids, found {}", column.data_type()));
        let neighbor_lists = Lists::new(column.as_ref()).ok_or_else(wrong_type)?;
        let values = IdReader::new(neighbor_lists.values().as_ref()).ok_or_else(wrong_type)?;
        for (row, id) in ids.into_iter().enumerate() {
            if neighbor_lists.is_null(row) {
                return Err(origin.error(NEIGHBORS_COLUMN, row, |r| format!("row {r}: the neighbour list is null")));
            }
            let range = neighbor_lists.range(row);
            let kept = range.start..range.end.min(range.start.saturating_add(k));
            let neighbors = kept
                .map(|index| values.get(index))
                .collect::<Result<Vec<PointId>, String>>()
                .map_err(|reason| origin.error(NEIGHBORS_COLUMN, row, |r| format!("row {r}: {reason}")))?;
            lists.push((id, neighbors));
        }
    }
    Ok(lists)
}
