//! Registering datasets.

use std::sync::Arc;

use crate::clock::now;
use qbench_domain::{
    Dataset, DatasetId, DatasetSpec, InspectedColumn, InspectedFile, Inspection, Violation, validate_dataset,
};
use qbench_repository::{DatasetRepository, Listed, Page, RepositoryError, StorageRepository};
use qbench_storage::{DatasetReader, S3Credentials};

use crate::ServiceError;
use crate::error::ensure_valid;
use crate::sources::{dataset_source, storage_error};

/// Use cases on datasets.
#[derive(Clone)]
pub struct DatasetService {
    datasets: Arc<dyn DatasetRepository>,
    storages: Arc<dyn StorageRepository>,
    reader: Option<Arc<dyn DatasetReader>>,
    default_s3: Option<S3Credentials>,
}

impl DatasetService {
    /// A service over `datasets`, checking references into `storages`.
    pub fn new(datasets: Arc<dyn DatasetRepository>, storages: Arc<dyn StorageRepository>) -> Self {
        Self { datasets, storages, reader: None, default_s3: None }
    }

    /// The same service, able to inspect datasets with `reader` (`default_s3`: credentials for
    /// `s3://` sources that name no registered storage).
    pub fn with_reader(mut self, reader: Arc<dyn DatasetReader>, default_s3: Option<S3Credentials>) -> Self {
        self.reader = Some(reader);
        self.default_s3 = default_s3;
        self
    }

    /// Reads the dataset's Parquet footers and checks them against its schema.
    async fn read_footers(&self, dataset: &Dataset) -> Result<Inspection, ServiceError> {
        let reader = self
            .reader
            .as_ref()
            .ok_or_else(|| ServiceError::Unavailable("dataset inspection is not configured".to_owned()))?;
        let source = dataset_source(self.storages.as_ref(), self.default_s3.as_ref(), dataset).await?;
        let inspection = reader.inspect(&source, &dataset.spec.schema_config).await.map_err(storage_error)?;
        Ok(Inspection {
            layout: format!("{:?}", inspection.layout).to_lowercase(),
            files: inspection
                .files
                .iter()
                .map(|file| InspectedFile {
                    location: file.location.clone(),
                    role: format!("{:?}", file.role).to_lowercase(),
                    bytes: file.bytes,
                    rows: file.rows,
                    row_groups: file.row_groups as u64,
                })
                .collect(),
            columns: inspection
                .columns
                .iter()
                .map(|column| InspectedColumn {
                    name: column.name.clone(),
                    data_type: column.data_type.clone(),
                    nullable: column.nullable,
                })
                .collect(),
            train_rows: inspection.train_rows,
            test_rows: inspection.test_rows,
            bytes: inspection.bytes,
            inspected_at: now(),
        })
    }

    /// Inspects a stored dataset and stores what its footers said.
    #[tracing::instrument(skip(self))]
    pub async fn inspect(&self, id: DatasetId) -> Result<Dataset, ServiceError> {
        let mut dataset = self.datasets.get(id).await?;
        dataset.inspection = Some(self.read_footers(&dataset).await?);
        dataset.updated_at = now();
        self.datasets.update(&dataset).await?;
        Ok(dataset)
    }

    /// Registers a dataset only if its files can be read and match its schema.
    #[tracing::instrument(skip_all, fields(name = %spec.name))]
    pub async fn create_inspected(&self, spec: DatasetSpec) -> Result<Dataset, ServiceError> {
        self.validate(&spec).await?;
        let mut dataset = Dataset::new(spec, now());
        dataset.inspection = Some(self.read_footers(&dataset).await?);
        self.datasets.insert(&dataset).await?;
        Ok(dataset)
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
        // A new source or schema makes the last inspection meaningless.
        if dataset.spec.source_uri != spec.source_uri || dataset.spec.schema_config != spec.schema_config {
            dataset.inspection = None;
        }
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
