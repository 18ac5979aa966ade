//! Storage of experiments.

use async_trait::async_trait;
use qbench_domain::{Experiment, ExperimentId};

use crate::{Listed, Page, RepositoryError};

/// Stores experiments.
///
/// # Errors
/// Every method returns `Unavailable` when the database cannot be reached; `get`, `update` and
/// `delete` MUST return `NotFound` for an unknown id. `insert` and `update` MUST return `NotFound`
/// naming the dataset or connection when the experiment references one that does not exist,
/// checked in the same transaction as the write (a reference never dangles).
#[async_trait]
pub trait ExperimentRepository: Send + Sync {
    /// Stores a new experiment.
    async fn insert(&self, experiment: &Experiment) -> Result<(), RepositoryError>;
    /// The experiment with `id`.
    async fn get(&self, id: ExperimentId) -> Result<Experiment, RepositoryError>;
    /// Experiments in creation order; with `owner`, only that user's (`total` counts them alone).
    /// Experiments stored before owners were recorded belong to `dev@localhost`
    /// (`Caller::DEVELOPMENT_USER`).
    async fn list(&self, owner: Option<&str>, page: Page) -> Result<Listed<Experiment>, RepositoryError>;
    /// Replaces a stored experiment.
    async fn update(&self, experiment: &Experiment) -> Result<(), RepositoryError>;
    /// Deletes an experiment, atomically. With runs, it MUST return `InUse` unless `cascade`,
    /// in which case its runs are deleted with it.
    async fn delete(&self, id: ExperimentId, cascade: bool) -> Result<(), RepositoryError>;
}
