//! Registering datasets.

use std::sync::Arc;

use crate::clock::now;
use qbench_domain::{
    Caller, Dataset, DatasetId, DatasetSpec, InspectedColumn, InspectedFile, Inspection, LocalAccess, Role, Violation,
    validate_dataset,
};
use qbench_repository::{DatasetRepository, Entity, Listed, Page, RepositoryError, StorageRepository};
use qbench_storage::{DatasetReader, S3Credentials};

use crate::ServiceError;
use crate::access::{ensure_seen, listed_owner};
use crate::error::{ensure_valid, reference_gone};
use crate::sources::{dataset_source, source_error};

/// The objects a dataset references, by the field naming each.
const REFERENCES: &[(Entity, &str)] = &[(Entity::Storage, "storage_id")];

/// Use cases on datasets.
///
/// A dataset belongs to the user who registered it: viewers read their own, editors also
/// register, change and delete their own, admins do all of it to anyone's. Another user's
/// dataset answers the same `NotFound` as a missing one.
#[derive(Clone)]
pub struct DatasetService {
    datasets: Arc<dyn DatasetRepository>,
    storages: Arc<dyn StorageRepository>,
    reader: Option<Arc<dyn DatasetReader>>,
    default_s3: Option<S3Credentials>,
    local_access: LocalAccess,
}

impl DatasetService {
    /// A service over `datasets`, checking references into `storages`.
    pub fn new(datasets: Arc<dyn DatasetRepository>, storages: Arc<dyn StorageRepository>) -> Self {
        Self { datasets, storages, reader: None, default_s3: None, local_access: LocalAccess::Shared }
    }

    /// The same service, able to inspect datasets with `reader` (`default_s3`: credentials for
    /// `s3://` sources that name no registered storage).
    pub fn with_reader(mut self, reader: Arc<dyn DatasetReader>, default_s3: Option<S3Credentials>) -> Self {
        self.reader = Some(reader);
        self.default_s3 = default_s3;
        self
    }

    /// The same service, confining local datasets to their owner's area under `local_access`.
    pub fn with_local_access(mut self, local_access: LocalAccess) -> Self {
        self.local_access = local_access;
        self
    }

    /// Reads the dataset's Parquet footers and checks them against its schema.
    async fn read_footers(&self, dataset: &Dataset) -> Result<Inspection, ServiceError> {
        let reader = self
            .reader
            .as_ref()
            .ok_or_else(|| ServiceError::Unavailable("dataset inspection is not configured".to_owned()))?;
        let source =
            dataset_source(self.storages.as_ref(), self.default_s3.as_ref(), self.local_access, dataset).await?;
        let inspection = reader
            .inspect(&source, &dataset.spec.schema_config)
            .await
            .map_err(|error| source_error(&dataset.spec.source_uri, error))?;
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

    /// The dataset with `id`, if `caller` sees it; `NotFound` otherwise.
    async fn seen(&self, caller: &Caller, id: DatasetId) -> Result<Dataset, ServiceError> {
        let dataset = self.datasets.get(id).await?;
        ensure_seen(caller, &dataset.owner, Entity::Dataset, id)?;
        Ok(dataset)
    }

    /// Inspects a stored dataset and stores what its footers said (editor, a dataset the caller
    /// sees).
    #[tracing::instrument(skip(self, caller), fields(user = caller.user()))]
    pub async fn inspect(&self, caller: &Caller, id: DatasetId) -> Result<Dataset, ServiceError> {
        caller.require(Role::Editor)?;
        let mut dataset = self.seen(caller, id).await?;
        dataset.inspection = Some(self.read_footers(&dataset).await?);
        dataset.updated_at = now();
        self.datasets.update(&dataset).await?;
        Ok(dataset)
    }

    /// Registers a dataset of the caller (editor) only if its files can be read and match its
    /// schema.
    #[tracing::instrument(skip_all, fields(user = caller.user(), name = %spec.name))]
    pub async fn create_inspected(&self, caller: &Caller, spec: DatasetSpec) -> Result<Dataset, ServiceError> {
        caller.require(Role::Editor)?;
        self.validate(&spec).await?;
        let mut dataset = Dataset::new(spec, caller.user(), now());
        dataset.inspection = Some(self.read_footers(&dataset).await?);
        self.datasets.insert(&dataset).await.map_err(|error| reference_gone(error, REFERENCES))?;
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

    /// Registers a dataset of the caller (editor).
    #[tracing::instrument(skip_all, fields(user = caller.user(), name = %spec.name))]
    pub async fn create(&self, caller: &Caller, spec: DatasetSpec) -> Result<Dataset, ServiceError> {
        caller.require(Role::Editor)?;
        self.validate(&spec).await?;
        let dataset = Dataset::new(spec, caller.user(), now());
        self.datasets.insert(&dataset).await.map_err(|error| reference_gone(error, REFERENCES))?;
        Ok(dataset)
    }

    /// The dataset with `id` (viewer, a dataset the caller sees).
    pub async fn get(&self, caller: &Caller, id: DatasetId) -> Result<Dataset, ServiceError> {
        caller.require(Role::Viewer)?;
        self.seen(caller, id).await
    }

    /// The dataset with `id`, read to be changed (a merge patch starts from it): needs what
    /// [`Self::update`] needs (editor, a dataset the caller sees), so a caller without the role
    /// is refused before any lookup.
    pub async fn get_for_update(&self, caller: &Caller, id: DatasetId) -> Result<Dataset, ServiceError> {
        caller.require(Role::Editor)?;
        self.seen(caller, id).await
    }

    /// A page of the datasets the caller sees (viewer): their own, everyone's for an admin.
    pub async fn list(&self, caller: &Caller, page: Page) -> Result<Listed<Dataset>, ServiceError> {
        caller.require(Role::Viewer)?;
        Ok(self.datasets.list(listed_owner(caller), page).await?)
    }

    /// Replaces a dataset's description (editor, a dataset the caller sees); it keeps its owner.
    #[tracing::instrument(skip(self, caller, spec), fields(user = caller.user()))]
    pub async fn update(&self, caller: &Caller, id: DatasetId, spec: DatasetSpec) -> Result<Dataset, ServiceError> {
        caller.require(Role::Editor)?;
        let mut dataset = self.seen(caller, id).await?;
        self.validate(&spec).await?;
        // A new source or schema makes the last inspection meaningless.
        if dataset.spec.source_uri != spec.source_uri || dataset.spec.schema_config != spec.schema_config {
            dataset.inspection = None;
        }
        dataset.spec = spec;
        dataset.updated_at = now();
        self.datasets.update(&dataset).await.map_err(|error| reference_gone(error, REFERENCES))?;
        Ok(dataset)
    }

    /// Deletes a dataset no experiment uses (editor, a dataset the caller sees).
    #[tracing::instrument(skip(self, caller), fields(user = caller.user()))]
    pub async fn delete(&self, caller: &Caller, id: DatasetId) -> Result<(), ServiceError> {
        caller.require(Role::Editor)?;
        self.seen(caller, id).await?;
        Ok(self.datasets.delete(id).await?)
    }
}
