//! Storage of datasets.

use async_trait::async_trait;
use qbench_domain::{Dataset, DatasetId};

use crate::{Listed, Page, RepositoryError};

/// Stores datasets.
///
/// # Errors
/// Every method returns `Unavailable` when the database cannot be reached; `get`, `update` and
/// `delete` MUST return `NotFound` for an unknown id. `insert` and `update` MUST return `NotFound`
/// naming the storage when the dataset references one that does not exist, checked in the same
/// transaction as the write (a reference never dangles).
#[async_trait]
pub trait DatasetRepository: Send + Sync {
    /// Stores a new dataset.
    async fn insert(&self, dataset: &Dataset) -> Result<(), RepositoryError>;
    /// The dataset with `id`.
    async fn get(&self, id: DatasetId) -> Result<Dataset, RepositoryError>;
    /// Datasets in creation order; with `owner`, only that user's (`total` counts them alone).
    /// Datasets stored before owners were recorded belong to `dev@localhost`
    /// (`Caller::DEVELOPMENT_USER`).
    async fn list(&self, owner: Option<&str>, page: Page) -> Result<Listed<Dataset>, RepositoryError>;
    /// Replaces a stored dataset.
    async fn update(&self, dataset: &Dataset) -> Result<(), RepositoryError>;
    /// Deletes a dataset. MUST return `InUse` when an experiment references it.
    async fn delete(&self, id: DatasetId) -> Result<(), RepositoryError>;
}
