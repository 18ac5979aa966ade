//! The set of ports the services use, chosen by the application at start-up.

use std::sync::Arc;

use qbench_repository::{
    ApiKeyRepository, ConnectionRepository, DatabaseHealth, DatasetRepository, ExperimentRepository, RunQueue,
    RunRepository, StorageRepository,
};

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
    /// Runs.
    pub runs: Arc<dyn RunRepository>,
    /// API keys.
    pub api_keys: Arc<dyn ApiKeyRepository>,
    /// Where new runs are announced.
    pub queue: Arc<dyn RunQueue>,
    /// Database liveness.
    pub health: Arc<dyn DatabaseHealth>,
}
