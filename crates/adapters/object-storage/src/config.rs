//! The adapter's configuration.

use std::path::PathBuf;

use qbench_storage::S3Credentials;

/// What the operator configures: where local datasets may be read from and where results go.
#[derive(Debug, Clone, Default)]
pub struct ParquetStorageConfig {
    /// Local directories datasets may be read from and written to. A relative dataset path
    /// resolves against the first; a path outside every root (after `..` and symlinks are
    /// resolved) is refused. Empty means no local paths at all.
    pub data_roots: Vec<PathBuf>,
    /// Files and directories inside the data roots that are never read or written as datasets:
    /// qbench's own database, secret key, results and engine collections.
    pub private_paths: Vec<PathBuf>,
    /// Where run results are written; `None` refuses `write_result`.
    pub results: Option<ResultsLocation>,
}

/// Where run results are written: `<root>/<run_id>/result.json` and `queries.parquet`.
#[derive(Debug, Clone)]
pub enum ResultsLocation {
    /// A local directory, created when missing. It is the operator's choice, so it need not be
    /// under a data root; a relative path resolves against the working directory.
    Local(PathBuf),
    /// An `s3://bucket/prefix` and the credentials to write there.
    S3 {
        /// The prefix, as `s3://bucket/prefix`.
        uri: String,
        /// Endpoint, region and keys.
        credentials: S3Credentials,
    },
}
