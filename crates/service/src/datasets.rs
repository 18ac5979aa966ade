//! Registering datasets.

use std::sync::Arc;

use crate::clock::now;
use qbench_domain::{Dataset, DatasetId, DatasetSpec, Violation, validate_dataset};
use qbench_repository::{DatasetRepository, Listed, Page, RepositoryError, StorageRepository};

use crate::ServiceError;
use crate::error::ensure_valid;

/// Use cases on datasets.
#[derive(Clone)]
pub struct DatasetService {
    datasets: Arc<dyn DatasetRepository>,
    storages: Arc<dyn StorageRepository>,
}

impl DatasetService {
    /// A service over `datasets`, checking references into `storages`.
    pub fn new(datasets: Arc<dyn DatasetRepository>, storages: Arc<dyn StorageRepository>) -> Self {
        Self { datasets, storages }
    }

    async fn validate(&self, spec: &DatasetSpec) -> Result<(), ServiceError> {
        let mut violations = validate_dataset(spec);
        if let Some(storage_id) = spec.storage_id {
            match self.storages.get(storage_id).await {
                Ok(_) => {}
                Err(RepositoryError::NotFound { .. }) => {
                    violations.push(Violation::new("storage_id", format!("storage {storage_id} does not exist")))
                }
                Err(other) => return Err(other.into()),
            }
        }
        ensure_valid(violations)
    }

    /// Registers a dataset.
    #[tracing::instrument(skip_all, fields(name = %spec.name))]
    pub async fn create(&self, spec: DatasetSpec) -> Result<Dataset, ServiceError> {
        self.validate(&spec).await?;
        let dataset = Dataset::new(spec, now());
        self.datasets.insert(&dataset).await?;
        Ok(dataset)
    }

    /// The dataset with `id`.
    pub async fn get(&self, id: DatasetId) -> Result<Dataset, ServiceError> {
        Ok(self.datasets.get(id).await?)
    }

    /// A page of datasets.
    pub async fn list(&self, page: Page) -> Result<Listed<Dataset>, ServiceError> {
        Ok(self.datasets.list(page).await?)
    }

    /// Replaces a dataset's description.
    #[tracing::instrument(skip(self, spec))]
    pub async fn update(&self, id: DatasetId, spec: DatasetSpec) -> Result<Dataset, ServiceError> {
        let mut dataset = self.datasets.get(id).await?;
        self.validate(&spec).await?;
        dataset.spec = spec;
        dataset.updated_at = now();
        self.datasets.update(&dataset).await?;
        Ok(dataset)
    }

    /// Deletes a dataset no experiment uses.
    #[tracing::instrument(skip(self))]
    pub async fn delete(&self, id: DatasetId) -> Result<(), ServiceError> {
        Ok(self.datasets.delete(id).await?)
    }
}
