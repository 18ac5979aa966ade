//! The set of ports the services use, chosen by the application at start-up.

use std::sync::Arc;

use qbench_repository::{
    ApiKeyRepository, BackfillRepository, ConnectionRepository, DatabaseHealth, DatasetRepository,
    ExperimentRepository, JobQueue, JobRepository, RunRepository, SnapshotRepository, StorageRepository,
    WorkerRepository,
};

use crate::Clock;

/// Every persistence port, as trait objects.
#[derive(Clone)]
pub struct Repositories {
    /// Connections.
    pub connections: Arc<dyn ConnectionRepository>,
    /// Object storages.
    pub storages: Arc<dyn StorageRepository>,
    /// Datasets.
    pub datasets: Arc<dyn DatasetRepository>,
    /// Experiments.
    pub experiments: Arc<dyn ExperimentRepository>,
    /// Runs (benchmark jobs with their experiment).
    pub runs: Arc<dyn RunRepository>,
    /// Jobs of every kind: the queue.
    pub jobs: Arc<dyn JobRepository>,
    /// The workers seen.
    pub workers: Arc<dyn WorkerRepository>,
    /// API keys.
    pub api_keys: Arc<dyn ApiKeyRepository>,
    /// Snapshots' records.
    pub snapshots: Arc<dyn SnapshotRepository>,
    /// Backfills' work items.
    pub backfills: Arc<dyn BackfillRepository>,
    /// Where new jobs are announced.
    pub queue: Arc<dyn JobQueue>,
    /// Database liveness.
    pub health: Arc<dyn DatabaseHealth>,
    /// Where services read the time.
    pub clock: Arc<dyn Clock>,
}
