//! The adapter's configuration.

use std::path::PathBuf;
use std::time::Duration;

use qbench_storage::S3Credentials;

use crate::egress::EgressPolicy;

/// What the operator configures: where local datasets may be read from, which addresses
/// HTTP(S) datasets may be fetched from, and where results go.
#[derive(Debug, Clone)]
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
    /// Which addresses HTTP(S) dataset sources may reach; the default refuses loopback, private,
    /// link-local and metadata addresses. S3 endpoints and the results location are the
    /// operator's own and not subject to it.
    pub egress: EgressPolicy,
    /// How long an HTTP(S) dataset source may stay silent while a request waits for (more of)
    /// its answer before the request fails ([`DEFAULT_HTTP_IDLE_TIMEOUT`] by default).
    pub http_idle_timeout: Duration,
}

/// How long an HTTP(S) dataset source may stay silent by default: long enough for a slow server
/// to start sending a large row group, short enough that a server that accepts connections and
/// never answers fails a run instead of holding it.
pub const DEFAULT_HTTP_IDLE_TIMEOUT: Duration = Duration::from_secs(30);

impl Default for ParquetStorageConfig {
    /// No data roots or private paths, no results location, the default egress policy and idle timeout.
    fn default() -> Self {
        Self {
            data_roots: Vec::new(),
            private_paths: Vec::new(),
            results: None,
            egress: EgressPolicy::default(),
            http_idle_timeout: DEFAULT_HTTP_IDLE_TIMEOUT,
        }
    }
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
