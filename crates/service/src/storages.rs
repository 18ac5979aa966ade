//! Registering object storages.

use std::sync::Arc;

use crate::clock::now;
use qbench_domain::{Caller, ObjectStorage, Role, StorageId, StorageSpec, StorageSummary, validate_storage};
use qbench_repository::{Listed, Page, StorageRepository};

use crate::ServiceError;
use crate::error::ensure_valid;

/// Use cases on object storages.
///
/// Storages hold secrets: any viewer may read them (masked by the edge), only admins may
/// register, change or delete them.
#[derive(Clone)]
pub struct StorageService {
    storages: Arc<dyn StorageRepository>,
}

impl StorageService {
    /// A service over `storages`.
    pub fn new(storages: Arc<dyn StorageRepository>) -> Self {
        Self { storages }
    }

    /// Registers a storage (admin).
    #[tracing::instrument(skip_all, fields(user = caller.user(), bucket = %spec.bucket))]
    pub async fn create(&self, caller: &Caller, spec: StorageSpec) -> Result<ObjectStorage, ServiceError> {
        caller.require(Role::Admin)?;
        ensure_valid(validate_storage(&spec))?;
        let storage = ObjectStorage::new(spec, now());
        self.storages.insert(&storage).await?;
        Ok(storage)
    }

    /// The storage with `id` (viewer).
    pub async fn get(&self, caller: &Caller, id: StorageId) -> Result<ObjectStorage, ServiceError> {
        caller.require(Role::Viewer)?;
        Ok(self.storages.get(id).await?)
    }

    /// The storage with `id`, read to be changed (a merge patch starts from it): needs what
    /// [`Self::update`] needs (admin), so a caller without it is refused before any lookup.
    pub async fn get_for_update(&self, caller: &Caller, id: StorageId) -> Result<ObjectStorage, ServiceError> {
        caller.require(Role::Admin)?;
        Ok(self.storages.get(id).await?)
    }

    /// A page of storages (viewer), keys masked: no secret is opened to list them.
    pub async fn list(&self, caller: &Caller, page: Page) -> Result<Listed<StorageSummary>, ServiceError> {
        caller.require(Role::Viewer)?;
        Ok(self.storages.list_masked(page).await?)
    }

    /// Replaces a storage's settings (admin).
    #[tracing::instrument(skip(self, caller, spec), fields(user = caller.user()))]
    pub async fn update(
        &self,
        caller: &Caller,
        id: StorageId,
        spec: StorageSpec,
    ) -> Result<ObjectStorage, ServiceError> {
        caller.require(Role::Admin)?;
        let mut storage = self.storages.get(id).await?;
        ensure_valid(validate_storage(&spec))?;
        storage.spec = spec;
        storage.updated_at = now();
        self.storages.update(&storage).await?;
        Ok(storage)
    }

    /// Deletes a storage no dataset uses (admin).
    #[tracing::instrument(skip(self, caller), fields(user = caller.user()))]
    pub async fn delete(&self, caller: &Caller, id: StorageId) -> Result<(), ServiceError> {
        caller.require(Role::Admin)?;
        Ok(self.storages.delete(id).await?)
    }
}
