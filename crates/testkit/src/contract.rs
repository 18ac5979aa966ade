//! The repository contract suite: what every adapter of the repository ports must do.
//!
//! [`check_repository_contract`] runs every check against one [`RepositoryUnderTest`]; the checks
//! are public too, so a failing one can be run alone. Each check creates its own objects with
//! fresh names and never assumes an empty database, so all of them can share one database (and
//! run again on it). A check panics with a message naming what broke.
//!
//! ```no_run
//! # async fn example() {
//! use std::sync::Arc;
//! use qbench_testkit::contract::{RepositoryUnderTest, check_repository_contract};
//! use qbench_testkit::memory::InMemoryDatabase;
//!
//! let repos = RepositoryUnderTest::new(Arc::new(InMemoryDatabase::new()));
//! check_repository_contract(&repos).await;
//! # }
//! ```

mod api_keys;
mod backfills;
mod connections;
mod datasets;
mod experiments;
mod fixtures;
mod jobs;
mod lists;
mod masked;
mod references;
mod runs;
mod snapshots;
mod storages;

use std::sync::Arc;

use qbench_repository::{
    ApiKeyRepository, BackfillRepository, ConnectionRepository, DatabaseHealth, DatasetRepository,
    ExperimentRepository, JobRepository, RunRepository, SnapshotRepository, StorageRepository, WorkerRepository,
};

pub use api_keys::{check_api_key_revocation, check_api_key_round_trip};
pub use backfills::{
    check_backfill_items_round_trip, check_backfill_loaded_keys_are_the_done_items_of_the_collection,
    check_backfill_running_items_are_requeued,
};
pub use connections::{
    check_connection_names_are_unique, check_connection_round_trip, check_connection_update_and_delete,
};
pub use datasets::check_dataset_round_trip;
pub use experiments::check_experiment_round_trip;
pub use jobs::{
    check_claims_take_each_waiting_job_once_oldest_first, check_expired_leases, check_heartbeats_and_holders,
    check_job_round_trip_and_conditional_update, check_queue_stats_and_workers,
};
pub use lists::{
    check_lists_filter_by_owner, check_lists_in_creation_order, check_run_lists_newest_first_with_filters,
};
pub use masked::check_masked_lists_show_the_masks_of_the_full_lists;
pub use references::{
    check_an_experiment_of_a_deleted_dataset_kept_a_dangling_reference, check_experiment_delete_cascades_to_runs,
    check_references_block_deletes,
};
pub use runs::{
    check_run_delete_removes_its_job_unless_a_snapshot_was_built_by_it, check_run_life_cycle_and_conditional_update,
    check_run_needs_its_experiment,
};
pub use snapshots::{
    check_snapshot_lists_newest_first_with_filters, check_snapshot_round_trip,
    check_snapshot_unknown_ids_and_missing_connection, check_snapshot_update_replaces_its_life,
    check_snapshots_block_connection_delete, check_snapshots_block_storage_delete,
};
pub use storages::{
    check_storage_names_are_unique_when_given, check_storage_round_trip, check_storage_update_and_delete,
};

/// The ports of one database, as the checks use them.
#[derive(Clone)]
pub struct RepositoryUnderTest {
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
    /// Jobs.
    pub jobs: Arc<dyn JobRepository>,
    /// Workers.
    pub workers: Arc<dyn WorkerRepository>,
    /// API keys.
    pub api_keys: Arc<dyn ApiKeyRepository>,
    /// Snapshot records.
    pub snapshots: Arc<dyn SnapshotRepository>,
    /// Backfills' work items.
    pub backfills: Arc<dyn BackfillRepository>,
    /// Liveness.
    pub health: Arc<dyn DatabaseHealth>,
}

impl RepositoryUnderTest {
    /// Every port of `database`, which implements them all.
    pub fn new<D>(database: Arc<D>) -> Self
    where
        D: ConnectionRepository
            + StorageRepository
            + DatasetRepository
            + ExperimentRepository
            + RunRepository
            + JobRepository
            + WorkerRepository
            + ApiKeyRepository
            + SnapshotRepository
            + BackfillRepository
            + DatabaseHealth
            + 'static,
    {
        Self {
            connections: database.clone(),
            storages: database.clone(),
            datasets: database.clone(),
            experiments: database.clone(),
            runs: database.clone(),
            jobs: database.clone(),
            workers: database.clone(),
            api_keys: database.clone(),
            snapshots: database.clone(),
            backfills: database.clone(),
            health: database,
        }
    }
}

/// Runs every check of the suite, in order.
pub async fn check_repository_contract(repos: &RepositoryUnderTest) {
    check_health(repos).await;
    check_connection_round_trip(repos).await;
    check_connection_names_are_unique(repos).await;
    check_connection_update_and_delete(repos).await;
    check_storage_round_trip(repos).await;
    check_storage_names_are_unique_when_given(repos).await;
    check_storage_update_and_delete(repos).await;
    check_dataset_round_trip(repos).await;
    check_experiment_round_trip(repos).await;
    check_references_block_deletes(repos).await;
    check_an_experiment_of_a_deleted_dataset_kept_a_dangling_reference(repos).await;
    check_experiment_delete_cascades_to_runs(repos).await;
    check_run_needs_its_experiment(repos).await;
    check_run_life_cycle_and_conditional_update(repos).await;
    check_run_delete_removes_its_job_unless_a_snapshot_was_built_by_it(repos).await;
    check_lists_in_creation_order(repos).await;
    check_masked_lists_show_the_masks_of_the_full_lists(repos).await;
    check_run_lists_newest_first_with_filters(repos).await;
    check_lists_filter_by_owner(repos).await;
    check_job_round_trip_and_conditional_update(repos).await;
    check_heartbeats_and_holders(repos).await;
    check_expired_leases(repos).await;
    check_queue_stats_and_workers(repos).await;
    check_claims_take_each_waiting_job_once_oldest_first(repos).await;
    check_api_key_round_trip(repos).await;
    check_api_key_revocation(repos).await;
    check_snapshot_round_trip(repos).await;
    check_snapshot_unknown_ids_and_missing_connection(repos).await;
    check_snapshots_block_connection_delete(repos).await;
    check_snapshots_block_storage_delete(repos).await;
    check_snapshot_lists_newest_first_with_filters(repos).await;
    check_snapshot_update_replaces_its_life(repos).await;
    check_backfill_items_round_trip(repos).await;
    check_backfill_running_items_are_requeued(repos).await;
    check_backfill_loaded_keys_are_the_done_items_of_the_collection(repos).await;
}

/// The database answers a ping and names its backend.
pub async fn check_health(repos: &RepositoryUnderTest) {
    fixtures::ok(repos.health.ping().await, "ping");
    assert!(!repos.health.backend().is_empty(), "the backend has a name");
}
