//! Registering object storages.

use std::sync::Arc;

use crate::clock::now;
use qbench_domain::{ObjectStorage, StorageId, StorageSpec, validate_storage};
use qbench_repository::{Listed, Page, StorageRepository};

use crate::ServiceError;
use crate::error::ensure_valid;

/// Use cases on object storages.
#[derive(Clone)]
pub struct StorageService {
    storages: Arc<dyn StorageRepository>,
}

impl StorageService {
    /// A service over `storages`.
    pub fn new(storages: Arc<dyn StorageRepository>) -> Self {
        Self { storages }
    }

    /// Registers a storage.
    #[tracing::instrument(skip_all, fields(bucket = %spec.bucket))]
    pub async fn create(&self, spec: StorageSpec) -> Result<ObjectStorage, ServiceError> {
        ensure_valid(validate_storage(&spec))?;
        let storage = ObjectStorage::new(spec, now());
        self.storages.insert(&storage).await?;
        Ok(storage)
    }

    /// The storage with `id`.
    pub async fn get(&self, id: StorageId) -> Result<ObjectStorage, ServiceError> {
        Ok(self.storages.get(id).await?)
    }

    /// A page of storages.
    pub async fn list(&self, page: Page) -> Result<Listed<ObjectStorage>, ServiceError> {
        Ok(self.storages.list(page).await?)
    }

    /// Replaces a storage's settings.
    #[tracing::instrument(skip(self, spec))]
    pub async fn update(&self, id: StorageId, spec: StorageSpec) -> Result<ObjectStorage, ServiceError> {
        let mut storage = self.storages.get(id).await?;
        ensure_valid(validate_storage(&spec))?;
        storage.spec = spec;
        storage.updated_at = now();
        self.storages.update(&storage).await?;
        Ok(storage)
    }

    /// Deletes a storage no dataset uses.
    #[tracing::instrument(skip(self))]
    pub async fn delete(&self, id: StorageId) -> Result<(), ServiceError> {
        Ok(self.storages.delete(id).await?)
    }
}
