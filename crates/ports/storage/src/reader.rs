//! Reading datasets.

use std::ops::Range;

use async_trait::async_trait;
use qbench_domain::{SchemaConfig, VectorName};

use crate::{DatasetInspection, DatasetSource, NeighborLists, PointBatch, StorageError};

/// A ground-truth file of a directory dataset, as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NeighborsFile {
    /// Where it is.
    pub location: String,
    /// The vector its name gives (`neighbors-<vector>.parquet`); `None` for a plain
    /// `neighbors.parquet`, which names none and so belongs to a dataset's one vector only.
    pub vector: Option<VectorName>,
    /// Each query's neighbour ids, closest first.
    pub lists: NeighborLists,
}

/// Which rows to stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatasetPart {
    /// The points: every row of a single-file or glob dataset, the `train*` shards of a directory.
    Train,
    /// The queries of a directory dataset (`test.parquet`).
    Test,
}

/// A stream of decoded batches; reading is bounded: only the next batch is held.
#[async_trait]
pub trait PointStream: Send {
    /// The next batch, `None` at the end.
    async fn next_batch(&mut self) -> Result<Option<PointBatch>, StorageError>;
}

/// Reads datasets from object storage.
///
/// # Errors
/// `NotFound` for a missing file, `Refused` for a location outside the allowed roots or denied by
/// the store, `Unreachable` when the store does not answer, and `Format` (naming file, column and
/// row group) when the data contradicts the schema: a missing vector column, a wrong element type,
/// a row whose length is not the declared `dim`, a null or NaN in a vector.
#[async_trait]
pub trait DatasetReader: Send + Sync {
    /// Reads only the footers: files, rows, bytes, columns, checked against `schema`.
    async fn inspect(&self, source: &DatasetSource, schema: &SchemaConfig) -> Result<DatasetInspection, StorageError>;

    /// Streams `part` in batches of about `batch_rows` rows, decoding only the columns `schema`
    /// needs (id, vectors, scalar fields).
    async fn open_points(
        &self,
        source: &DatasetSource,
        schema: &SchemaConfig,
        part: DatasetPart,
        batch_rows: usize,
    ) -> Result<Box<dyn PointStream>, StorageError>;

    /// Streams rows `row_groups` (`[start, end)`) of the train file at `location` (as
    /// [`inspect`](Self::inspect) names it) in batches of about `batch_rows` rows, like
    /// [`open_points`](Self::open_points) but reading only those row groups: the unit of work of a
    /// backfill. Rows are numbered from `first_row` (the number of the range's first row among
    /// the part's rows, which a dataset without an id column gives its points as ids), so a
    /// range reads exactly as it does within a full read.
    ///
    /// `NotFound` when `location` is not a train file of the dataset (any more); `Format` naming
    /// the file when the range lies outside its row groups.
    async fn open_row_groups(
        &self,
        source: &DatasetSource,
        schema: &SchemaConfig,
        location: &str,
        row_groups: Range<usize>,
        first_row: u64,
        batch_rows: usize,
    ) -> Result<Box<dyn PointStream>, StorageError>;

    /// The ground truth of `vector` in a directory dataset, each list cut to its first `k`: the
    /// file named after the vector (`neighbors-<vector>.parquet`), else the plain
    /// `neighbors.parquet` (whose [`NeighborsFile::vector`] is `None`: the caller decides whether
    /// it may belong to `vector`); `None` when the layout has neither.
    async fn read_neighbors(
        &self,
        source: &DatasetSource,
        vector: &VectorName,
        k: usize,
    ) -> Result<Option<NeighborsFile>, StorageError>;
}
