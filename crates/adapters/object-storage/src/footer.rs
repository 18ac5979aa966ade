//! Reading a Parquet file's footer (its metadata and Arrow schema), and nothing else.

use std::sync::Arc;

use object_store::ObjectStore;
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ArrowReaderOptions};
use parquet::file::metadata::ParquetMetaData;
use qbench_storage::StorageError;

use crate::error;
use crate::layout::FileRef;
use crate::reader::ObjectReader;

/// A reader of `file` for footer and range requests.
pub(crate) fn reader(store: &Arc<dyn ObjectStore>, file: &FileRef) -> ObjectReader {
    ObjectReader::new(Arc::clone(store), file.path.clone(), file.size)
}

/// The footer of `file`, with its Arrow schema.
///
/// Errors: store errors as mapped by [`error::from_store`]; a file that is not Parquet is a
/// `Format` error.
pub(crate) async fn load(store: &Arc<dyn ObjectStore>, file: &FileRef) -> Result<ArrowReaderMetadata, StorageError> {
    let mut reader = reader(store, file);
    ArrowReaderMetadata::load_async(&mut reader, ArrowReaderOptions::new())
        .await
        .map_err(|error| error::from_parquet(&file.uri, None, &error))
}

/// Where each row group of a file starts and ends, to name the row group of a row.
#[derive(Debug, Clone)]
pub(crate) struct RowGroups {
    /// Exclusive end row of each row group.
    ends: Vec<u64>,
}

impl RowGroups {
    /// The row groups of a file.
    pub(crate) fn new(metadata: &ParquetMetaData) -> Self {
        let mut end = 0_u64;
        let ends = metadata
            .row_groups()
            .iter()
            .map(|group| {
                end += u64::try_from(group.num_rows()).unwrap_or(0);
                end
            })
            .collect();
        Self { ends }
    }

    /// The row group holding row `row` of the file (the last one for rows past the end).
    pub(crate) fn of_row(&self, row: u64) -> usize {
        self.ends.partition_point(|&end| end <= row).min(self.ends.len().saturating_sub(1))
    }

    /// Rows in the file.
    pub(crate) fn rows(&self) -> u64 {
        self.ends.last().copied().unwrap_or(0)
    }

    /// Row groups in the file.
    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    /// The file row row group `group` starts at (the file's end past the last group).
    pub(crate) fn start_of(&self, group: usize) -> u64 {
        match group.checked_sub(1) {
            None => 0,
            Some(previous) => self.ends.get(previous).copied().unwrap_or_else(|| self.rows()),
        }
    }

    /// Rows of each row group, in order.
    pub(crate) fn sizes(&self) -> Vec<u64> {
        let mut start = 0;
        self.ends
            .iter()
            .map(|&end| {
                let rows = end - start;
                start = end;
                rows
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_map_to_their_row_group_skipping_empty_ones() {
        let groups = RowGroups { ends: vec![10, 10, 25] };
        assert_eq!(groups.of_row(0), 0);
        assert_eq!(groups.of_row(9), 0);
        assert_eq!(groups.of_row(10), 2);
        assert_eq!(groups.of_row(24), 2);
        assert_eq!(groups.rows(), 25);
        assert_eq!(groups.sizes(), [10, 0, 15]);
        assert_eq!((groups.start_of(0), groups.start_of(2), groups.start_of(3), groups.start_of(9)), (0, 10, 25, 25));
    }
}
