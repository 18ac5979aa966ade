//! Storage of runs.

use async_trait::async_trait;
use qbench_domain::{ExperimentId, JobId, Run, RunId, RunStatus};

use crate::{Listed, Page, RepositoryError};

/// Which runs a list returns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunFilter {
    /// Only runs of this experiment.
    pub experiment_id: Option<ExperimentId>,
    /// Only runs with this status.
    pub status: Option<RunStatus>,
    /// Only runs of this user; runs stored before owners were recorded belong to
    /// `dev@localhost` (`Caller::DEVELOPMENT_USER`).
    pub owner: Option<String>,
    /// Only the trials of this study.
    pub study_id: Option<JobId>,
}

/// Stores runs: each a benchmark job (its life: status, progress, lease, result) with the
/// experiment it measures. A run's job is claimed, renewed and swept through [`crate::JobRepository`].
///
/// # Errors
/// Every method returns `Unavailable` when the database cannot be reached; `get` and `update`
/// MUST return `NotFound` for an unknown id. `insert` MUST return `NotFound` (entity
/// `Experiment`) when the experiment does not exist. `delete` MUST return `NotFound` for an
/// unknown id and `InUse` (by `Snapshot`, naming the oldest) while a snapshot names the run as
/// the one that built its collection (`built_by`): restoring that snapshot relies on the settings
/// the run kept.
#[async_trait]
pub trait RunRepository: Send + Sync {
    /// Stores a new run and its job, in one transaction.
    async fn insert(&self, run: &Run) -> Result<(), RepositoryError>;
    /// The run with `id`.
    async fn get(&self, id: RunId) -> Result<Run, RepositoryError>;
    /// Runs matching `filter`, newest first; `total` counts the filtered set.
    async fn list(&self, filter: RunFilter, page: Page) -> Result<Listed<Run>, RepositoryError>;
    /// Stores a run's new state, but only if its stored status is still `expected`: a status
    /// change never overwrites a concurrent one. MUST return `Conflict` when the stored status
    /// differs.
    async fn update(&self, run: &Run, expected: RunStatus) -> Result<(), RepositoryError>;
    /// Deletes the run and its job, in one transaction, whatever their status (the service
    /// decides which runs may go). MUST return `NotFound` for an unknown id and `InUse` (entity
    /// `Run`, by `Snapshot`) while a snapshot was built by it, deleting nothing then.
    async fn delete(&self, id: RunId) -> Result<(), RepositoryError>;
}
