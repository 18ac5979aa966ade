//! What a dataset's Parquet footers say.

/// How a dataset's files are laid out, detected from its URI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatasetLayout {
    /// One Parquet file: points and (held-out) queries come from the same rows.
    SingleFile,
    /// A prefix or directory in VectorDBBench's layout: `train*.parquet` shards, `test.parquet`
    /// (queries) and the ground truth (`neighbors.parquet`, or `neighbors-<vector>.parquet` per
    /// vector).
    Directory,
    /// A glob over Parquet files (`prefix/*.parquet`): like one file split in shards.
    Glob,
}

/// What a file holds in the dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileRole {
    /// Points (all rows of a single-file or glob dataset, or a `train*` shard).
    Train,
    /// Query vectors (`test.parquet`).
    Test,
    /// Ground truth (`neighbors.parquet` or `neighbors-<vector>.parquet`).
    Neighbors,
}

/// One Parquet file of a dataset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatasetFile {
    /// Its location (URI).
    pub location: String,
    /// Its role.
    pub role: FileRole,
    /// Size in bytes.
    pub bytes: u64,
    /// Rows.
    pub rows: u64,
    /// Row groups.
    pub row_groups: usize,
    /// Rows of each row group, in order (what a reader of a range of row groups reads).
    pub row_group_rows: Vec<u64>,
    /// What changes when the object is rewritten (its ETag, else its modification time), when the
    /// store reports one: with the location and size, it identifies the content cheaply.
    pub version: Option<String>,
}

/// One column of the dataset's (train) schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnInfo {
    /// Column name.
    pub name: String,
    /// Arrow data type, as text (e.g. `FixedSizeList(768 x Float32)`).
    pub data_type: String,
    /// Whether nulls are allowed.
    pub nullable: bool,
}

/// A dataset as its footers describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatasetInspection {
    /// Layout.
    pub layout: DatasetLayout,
    /// Every file, train shards first.
    pub files: Vec<DatasetFile>,
    /// Columns of the train files.
    pub columns: Vec<ColumnInfo>,
    /// Rows of the train files.
    pub train_rows: u64,
    /// Rows of the test file (0 without one).
    pub test_rows: u64,
    /// Bytes of all files.
    pub bytes: u64,
}
