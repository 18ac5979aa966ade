//! Storage of object-storage registrations.

use async_trait::async_trait;
use qbench_domain::{ObjectStorage, StorageId, StorageSummary};

use crate::{Listed, Page, RepositoryError};

/// Stores object storages, secrets included (adapters keep secrets encrypted at rest).
///
/// # Errors
/// Every method returns `Unavailable` when the database cannot be reached. `insert` and `update`
/// MUST return `Duplicate { field: "name" }` when another storage has the same (non-empty) name;
/// `get`, `update` and `delete` MUST return `NotFound` for an unknown id.
#[async_trait]
pub trait StorageRepository: Send + Sync {
    /// Stores a new storage.
    async fn insert(&self, storage: &ObjectStorage) -> Result<(), RepositoryError>;
    /// The storage with `id`.
    async fn get(&self, id: StorageId) -> Result<ObjectStorage, RepositoryError>;
    /// Storages in creation order.
    async fn list(&self, page: Page) -> Result<Listed<ObjectStorage>, RepositoryError>;
    /// The same page as [`Self::list`], each key as its mask only: read without opening the
    /// secrets, so it costs no decryption per row.
    async fn list_masked(&self, page: Page) -> Result<Listed<StorageSummary>, RepositoryError>;
    /// Replaces a stored storage.
    async fn update(&self, storage: &ObjectStorage) -> Result<(), RepositoryError>;
    /// Deletes a storage. MUST return `InUse` when a dataset references it.
    async fn delete(&self, id: StorageId) -> Result<(), RepositoryError>;
}
