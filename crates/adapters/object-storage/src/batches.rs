//! Record batches of one Parquet file, one row group and one batch at a time.
//!
//! The file is read with [`ParquetRecordBatchStream::next_row_group`]: the projected column chunks
//! of one row group are fetched, then decoded a batch at a time, and the next row group is only
//! fetched once every batch of the current one has been handed out. Memory is therefore bounded
//! by one row group's projected columns plus one decoded batch, whatever the file's size, and the
//! row group of every error is known.

use std::ops::Range;
use std::sync::Arc;

use arrow::record_batch::RecordBatch;
use object_store::ObjectStore;
use parquet::arrow::ParquetRecordBatchStreamBuilder;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ParquetRecordBatchReader};
use parquet::arrow::async_reader::ParquetRecordBatchStream;
use qbench_storage::StorageError;

use crate::error;
use crate::footer::{self, RowGroups};
use crate::layout::FileRef;
use crate::reader::ObjectReader;

/// A file being read.
pub(crate) struct FileBatches {
    /// The file's URI.
    uri: String,
    /// Row groups fetched one at a time.
    stream: ParquetRecordBatchStream<ObjectReader>,
    /// The decoder of the current row group, if one is fetched.
    current: Option<ParquetRecordBatchReader>,
    /// The file's row groups.
    row_groups: RowGroups,
    /// Rows handed out so far.
    rows_read: u64,
}

impl FileBatches {
    /// Starts reading `file`, whose footer is `metadata`, decoding only `projection`, in batches
    /// of `batch_rows` rows (at least one): every row group, or only `only` (`[start, end)`).
    ///
    /// Errors: `Format` naming the file when `only` is empty or lies outside its row groups.
    pub(crate) fn open(
        store: &Arc<dyn ObjectStore>,
        file: &FileRef,
        metadata: ArrowReaderMetadata,
        projection: ProjectionMask,
        batch_rows: usize,
        only: Option<Range<usize>>,
    ) -> Result<Self, StorageError> {
        let row_groups = RowGroups::new(metadata.metadata());
        let mut builder = ParquetRecordBatchStreamBuilder::new_with_metadata(footer::reader(store, file), metadata)
            .with_projection(projection)
            .with_batch_size(batch_rows.max(1));
        let mut rows_read = 0;
        if let Some(range) = only {
            if range.is_empty() || range.end > row_groups.len() {
                let reason = format!(
                    "row groups {}..{} are not within the file's {} row groups",
                    range.start,
                    range.end,
                    row_groups.len()
                );
                return Err(error::format(&file.uri, None, None, reason));
            }
            // Rows keep their file numbers, so errors name the right row group.
            rows_read = row_groups.start_of(range.start);
            builder = builder.with_row_groups(range.collect());
        }
        let stream = builder.build().map_err(|error| error::from_parquet(&file.uri, None, &error))?;
        Ok(Self { uri: file.uri.clone(), stream, current: None, row_groups, rows_read })
    }

    /// The file's URI.
    pub(crate) fn uri(&self) -> &str {
        &self.uri
    }

    /// The file's row groups.
    pub(crate) fn row_groups(&self) -> &RowGroups {
        &self.row_groups
    }

    /// The next non-empty batch and the file row it starts at; `None` at the end of the file.
    pub(crate) async fn next(&mut self) -> Result<Option<(RecordBatch, u64)>, StorageError> {
        loop {
            if let Some(reader) = self.current.as_mut() {
                match reader.next() {
                    Some(Ok(batch)) if batch.num_rows() == 0 => continue,
                    Some(Ok(batch)) => {
                        let start = self.rows_read;
                        self.rows_read += batch.num_rows() as u64;
                        return Ok(Some((batch, start)));
                    }
                    Some(Err(error)) => {
                        let row_group = self.row_groups.of_row(self.rows_read);
                        return Err(error::from_arrow(&self.uri, Some(row_group), &error));
                    }
                    None => self.current = None,
                }
            }
            match self.stream.next_row_group().await {
                Ok(Some(reader)) => self.current = Some(reader),
                Ok(None) => return Ok(None),
                Err(error) => {
                    let row_group = self.row_groups.of_row(self.rows_read);
                    return Err(error::from_parquet(&self.uri, Some(row_group), &error));
                }
            }
        }
    }
}
