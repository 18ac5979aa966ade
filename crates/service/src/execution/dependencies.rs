//! What an execution needs from outside: the repositories and the storage and vector-store ports.

use std::sync::Arc;

use qbench_repository::{
    ConnectionRepository, DatasetRepository, ExperimentRepository, RunRepository, SnapshotRepository, StorageRepository,
};
use qbench_storage::{ArchiveStore, DatasetReader, ResultWriter, S3Credentials};
use qbench_vector_store::VectorStoreProvider;

/// Settings a run uses when its experiment says nothing.
#[derive(Debug, Clone)]
pub struct ExecutionDefaults {
    /// Points per upsert.
    pub batch_size: usize,
    /// Upserts in flight at once.
    pub upload_parallelism: usize,
    /// Test queries held out of a single-file dataset when `queries_limit` is not set.
    pub queries: usize,
    /// Seed of the held-out sample: the same dataset and seed hold out the same rows.
    pub seed: u64,
    /// Untimed queries run before each search setting, at most.
    pub warmup_queries: usize,
    /// Seconds each search setting is measured for, at least, per repetition, when the
    /// experiment does not say.
    pub search_seconds: f64,
    /// Measured passes of each search setting when the experiment does not say.
    pub repetitions: u32,
    /// Credentials for `s3://` datasets that name no storage whose bucket matches (the `MINIO_*`
    /// settings).
    pub default_s3: Option<S3Credentials>,
    /// qbench's version, for the results' provenance.
    pub qbench_version: String,
    /// Bytes a collection built by the embedded engine may need ([`qbench_domain::MemoryEstimate`]);
    /// a run estimated above it fails in `prepare` before anything is loaded. `None` means no limit.
    pub memory_budget: Option<u64>,
    /// Whose local files a dataset may read.
    pub local_access: qbench_domain::LocalAccess,
}

impl Default for ExecutionDefaults {
    fn default() -> Self {
        Self {
            // Qdrant's own benchmarks upload in batches of a few hundred points with a couple of
            // parallel clients: big enough to amortise a request, small enough to stream.
            batch_size: 256,
            upload_parallelism: 2,
            queries: 1000,
            seed: 42,
            warmup_queries: 100,
            search_seconds: 1.0,
            repetitions: 3,
            default_s3: None,
            qbench_version: String::new(),
            memory_budget: None,
            local_access: qbench_domain::LocalAccess::Shared,
        }
    }
}

/// The ports an execution uses.
#[derive(Clone)]
pub struct ExecutionDependencies {
    /// Experiments.
    pub experiments: Arc<dyn ExperimentRepository>,
    /// Datasets.
    pub datasets: Arc<dyn DatasetRepository>,
    /// Object storages (for credentials).
    pub storages: Arc<dyn StorageRepository>,
    /// Connections.
    pub connections: Arc<dyn ConnectionRepository>,
    /// Reads datasets.
    pub reader: Arc<dyn DatasetReader>,
    /// Opens the Qdrant under test.
    pub stores: Arc<dyn VectorStoreProvider>,
    /// Stores results.
    pub results: Arc<dyn ResultWriter>,
    /// Where the indexes of experiments with a snapshot `source` come from; `None` fails such runs
    /// in `prepare`.
    pub sources: Option<SnapshotSources>,
    /// Defaults.
    pub defaults: ExecutionDefaults,
}

/// What a run restoring its index from a snapshot reads.
#[derive(Clone)]
pub struct SnapshotSources {
    /// Snapshots' records.
    pub snapshots: Arc<dyn SnapshotRepository>,
    /// Runs, for the settings of the one that built a snapshot's collection.
    pub runs: Arc<dyn RunRepository>,
    /// The repositories holding the archives.
    pub archives: Arc<dyn ArchiveStore>,
}
