//! The [`PointStream`] over a part's files, in order.

use std::collections::VecDeque;
use std::ops::Range;
use std::sync::Arc;

use async_trait::async_trait;
use object_store::ObjectStore;
use qbench_domain::SchemaConfig;
use qbench_storage::{PointBatch, PointStream, StorageError};

use crate::batches::FileBatches;
use crate::columns::ColumnPlan;
use crate::decode::{self, BatchOrigin};
use crate::footer;
use crate::layout::FileRef;

/// Streams the points of a part's files, one decoded batch per call; a file's footer is read
/// when the stream reaches it. After an error the stream ends.
pub(crate) struct ParquetPointStream {
    /// The store holding the files.
    store: Arc<dyn ObjectStore>,
    /// The files still to open.
    pending: VecDeque<FileRef>,
    /// The dataset's schema.
    schema: SchemaConfig,
    /// Whether scalar fields are decoded (train rows) or not (queries).
    with_scalars: bool,
    /// Rows per batch.
    batch_rows: usize,
    /// The row groups read of each file, when not all.
    only: Option<Range<usize>>,
    /// The file being read and what to decode from it.
    current: Option<(FileBatches, ColumnPlan)>,
    /// Rows handed out so far, across files: the next batch's `first_row`.
    next_row: u64,
    /// Set after an error, so the stream ends instead of skipping ahead.
    failed: bool,
}

impl ParquetPointStream {
    /// A stream over `files`, in order.
    pub(crate) fn new(
        store: Arc<dyn ObjectStore>,
        files: Vec<FileRef>,
        schema: SchemaConfig,
        with_scalars: bool,
        batch_rows: usize,
    ) -> Self {
        Self {
            store,
            pending: files.into(),
            schema,
            with_scalars,
            batch_rows,
            only: None,
            current: None,
            next_row: 0,
            failed: false,
        }
    }

    /// A stream over row groups `only` of the train file `file`, its rows numbered from
    /// `first_row`.
    pub(crate) fn row_groups(
        store: Arc<dyn ObjectStore>,
        file: FileRef,
        only: Range<usize>,
        schema: SchemaConfig,
        first_row: u64,
        batch_rows: usize,
    ) -> Self {
        Self { only: Some(only), next_row: first_row, ..Self::new(store, vec![file], schema, true, batch_rows) }
    }

    /// The next batch, without the error latch.
    async fn advance(&mut self) -> Result<Option<PointBatch>, StorageError> {
        loop {
            if self.current.is_none() {
                let Some(file) = self.pending.pop_front() else {
                    return Ok(None);
                };
                let opened =
                    open(&self.store, &file, &self.schema, self.with_scalars, self.batch_rows, self.only.clone())
                        .await?;
                self.current = Some(opened);
            }
            let Some((batches, plan)) = self.current.as_mut() else {
                continue;
            };
            match batches.next().await? {
                Some((batch, file_row)) => {
                    let origin = BatchOrigin {
                        file: batches.uri(),
                        row_groups: batches.row_groups(),
                        file_row,
                        first_row: self.next_row,
                    };
                    let points = decode::points(&batch, plan, &origin)?;
                    self.next_row += points.len() as u64;
                    return Ok(Some(points));
                }
                None => self.current = None,
            }
        }
    }
}

/// Reads a file's footer, checks its columns and starts reading it. (A free function: a future
/// holding `&ParquetPointStream` across an await would need the stream to be `Sync`, which the
/// Parquet decoders are not.)
async fn open(
    store: &Arc<dyn ObjectStore>,
    file: &FileRef,
    schema: &SchemaConfig,
    with_scalars: bool,
    batch_rows: usize,
    only: Option<Range<usize>>,
) -> Result<(FileBatches, ColumnPlan), StorageError> {
    let metadata = footer::load(store, file).await?;
    let plan = ColumnPlan::new(&file.uri, metadata.schema(), schema, with_scalars)?;
    let projection = plan.projection(metadata.schema(), metadata.metadata().file_metadata().schema_descr());
    let batches = FileBatches::open(store, file, metadata, projection, batch_rows, only)?;
    Ok((batches, plan))
}

#[async_trait]
impl PointStream for ParquetPointStream {
    async fn next_batch(&mut self) -> Result<Option<PointBatch>, StorageError> {
        if self.failed {
            return Ok(None);
        }
        let next = self.advance().await;
        if next.is_err() {
            self.failed = true;
            self.current = None;
        }
        next
    }
}
